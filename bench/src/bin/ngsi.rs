//! `ngsi`: the smart-city data hub under load (issue 4). Serves a demo province in-process with
//! the embedded MQTT broker and measures:
//!
//! 1. creating `--entities` entities through `POST /ngsi-ld/v1/entityOperations/create`;
//! 2. sustained durable attribute updates through batch upsert (`entityOperations/upsert`);
//! 3. sustained durable attribute updates through MQTT (QoS 1, acked after the commit), from
//!    `--devices` device connections;
//! 4. query latency with that many entities: by id, by type, with `q`, with a geo-query, with
//!    `count=true`;
//! 5. the history filled to `--history-values` stored attribute values, then temporal queries
//!    (`lastN`, a one-day window, hourly aggregates over a week) on it;
//! 6. memory (RSS of this process) after each phase.
//!
//! Everything runs in this one process on the machine's cores: server, SQLite, broker and the
//! load generator share them.

#[allow(dead_code)]
#[path = "../load.rs"]
mod load;
#[allow(dead_code)]
#[path = "../procfs.rs"]
mod procfs;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::bail;
use chrono::{DateTime, Utc};
use clap::Parser;
use haidang::config::Mqtt;
use haidang::mqtt::Devices;
use haidang_api::{ApiConfig, AppState};
use haidang_auth::PasswordHasher;
use haidang_core::SystemClock;
use haidang_devices::{DeviceId, Mapping};
use haidang_ngsi::Context as LdContext;
use haidang_store::context::{NewDevice, WriteAccess, WriteOp};
use haidang_store::{AuditCtx, Store};
use load::{MakeRequest, Outcome};
use reqwest::{Client, StatusCode};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::time::Instant;

const TOKEN: &str = "bench-ngsi-token-0001";
const PASSWORD: &str = "demo-Password-2025";
/// Attributes of every bench entity; each upsert and each MQTT measure writes all of them.
const ATTRS: [&str; 10] =
    ["pm25", "pm10", "no2", "o3", "co", "so2", "temperature", "relativeHumidity", "windSpeed", "noise"];

#[derive(Parser, Debug)]
#[command(
    name = "ngsi",
    about = "The NGSI-LD data hub under load: batch upsert and MQTT updates/s, queries at N entities, temporal queries over M values, memory",
    after_help = "Example:\n  cargo run --release -p haidang-bench --bin ngsi -- --entities 100000 --history-values 10000000"
)]
struct Args {
    /// Entities created before the measurements (AirQualityObserved spread over Gia Lai).
    #[arg(long, default_value_t = 100_000)]
    entities: usize,
    /// Entities per batch request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent HTTP clients of the write scenarios.
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// MQTT device connections.
    #[arg(long, default_value_t = 100)]
    devices: usize,
    /// QoS 1 messages in flight per device connection.
    #[arg(long, default_value_t = 32)]
    inflight: u16,
    /// Stored attribute values (history rows) before the temporal queries.
    #[arg(long, default_value_t = 10_000_000)]
    history_values: u64,
    /// Measured seconds of each scenario.
    #[arg(long, default_value_t = 15)]
    duration: u64,
    /// Seconds of warm-up before each scenario's measurement (not counted).
    #[arg(long, default_value_t = 3)]
    warmup: u64,
}

fn rss_mib() -> f64 {
    procfs::memory(std::process::id()).map_or(0.0, |m| m.rss_kib as f64 / 1024.0)
}

fn entity_id(i: usize) -> String {
    format!("urn:ngsi-ld:AirQualityObserved:bench-{i:07}")
}

/// A place in Gia Lai for entity `i` (a fixed quasi-random spread).
fn place(i: usize) -> (f64, f64) {
    let a = (i as f64 * 0.618_033_988_75).fract();
    let b = (i as f64 * 0.754_877_666_25).fract();
    (107.6 + 1.6 * a, 13.0 + 1.5 * b)
}

fn value(i: usize, n: u64, k: usize) -> f64 {
    ((i as u64 * 31 + n * 7 + k as u64 * 13) % 1000) as f64 / 10.0
}

fn entity_json(i: usize, n: u64, at: DateTime<Utc>, with_place: bool) -> Value {
    let mut e = serde_json::Map::new();
    e.insert("id".into(), json!(entity_id(i)));
    e.insert("type".into(), json!("AirQualityObserved"));
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for (k, name) in ATTRS.iter().enumerate() {
        e.insert((*name).into(), json!({"type": "Property", "value": value(i, n, k), "observedAt": at}));
    }
    if with_place {
        let (lon, lat) = place(i);
        e.insert(
            "location".into(),
            json!({"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}),
        );
        e.insert("name".into(), json!({"type": "Property", "value": format!("Trạm {i}")}));
    }
    Value::Object(e)
}

struct Bench {
    args: Args,
    state: AppState,
    url: String,
    mqtt: std::net::SocketAddr,
    http: Client,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.entities == 0 || args.batch == 0 || args.writers == 0 {
        bail!("--entities, --batch and --writers must be positive");
    }
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path(), Arc::new(SystemClock)).await?;
    haidang::demo::load(&store, &PasswordHasher::with_params(1024, 1), PASSWORD, Some(TOKEN)).await?;
    let state =
        AppState::new(store.clone(), ApiConfig { demo: true, ..Default::default() }, PasswordHasher::new()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(haidang_api::serve(listener, state.clone(), std::future::pending()));
    let devices = Devices::prepare(&Mqtt { listen: "127.0.0.1:0".into(), external: None }).await?;
    let Devices::Embedded(l) = &devices else { bail!("the embedded broker did not start") };
    let mqtt = l.local_addr()?;
    devices.spawn(state.clone(), std::future::pending());
    let http = Client::builder().timeout(Duration::from_secs(120)).pool_max_idle_per_host(64).build()?;
    let bench = Bench { args, state, url, mqtt, http };

    println!("NGSI-LD data hub benchmark — {} cores, store in {}", procfs::cores(), dir.path().display());
    println!("memory at start: {:.0} MiB", rss_mib());
    bench.create().await?;
    bench.upserts().await?;
    bench.mqtt().await?;
    bench.queries().await?;
    bench.temporal().await?;
    let db = std::fs::metadata(dir.path().join("haidang.db")).map(|m| m.len()).unwrap_or(0);
    println!("\ndatabase: {:.2} GiB; memory at the end: {:.0} MiB", db as f64 / (1u64 << 30) as f64, rss_mib());
    store.close().await;
    Ok(())
}

impl Bench {
    fn upsert_url(&self, op: &str) -> String {
        format!("{}/ngsi-ld/v1/entityOperations/{op}", self.url)
    }

    /// 1. Creating the entities, `--writers` requests at a time.
    async fn create(&self) -> anyhow::Result<()> {
        let n = self.args.entities;
        let started = Instant::now();
        let next = Arc::new(AtomicU64::new(0));
        let now = Utc::now();
        let mut tasks = Vec::new();
        for _ in 0..self.args.writers {
            let (next, http, url, batch) =
                (next.clone(), self.http.clone(), self.upsert_url("create"), self.args.batch);
            tasks.push(tokio::spawn(async move {
                loop {
                    let first = next.fetch_add(batch as u64, Ordering::SeqCst) as usize;
                    if first >= n {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let body: Vec<Value> =
                        (first..(first + batch).min(n)).map(|i| entity_json(i, 0, now, true)).collect();
                    let res = http.post(&url).bearer_auth(TOKEN).json(&body).send().await?;
                    if res.status() != StatusCode::CREATED {
                        bail!("batch create: HTTP {}: {}", res.status(), res.text().await.unwrap_or_default());
                    }
                }
            }));
        }
        for t in tasks {
            t.await??;
        }
        let took = started.elapsed();
        println!(
            "\n1. create {n} entities ({} per request, {} clients): {:.1} s, {:.0} entities/s ({:.0} attribute values/s); memory {:.0} MiB",
            self.args.batch,
            self.args.writers,
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            (n * (ATTRS.len() + 2)) as f64 / took.as_secs_f64(),
            rss_mib()
        );
        Ok(())
    }

    /// 2. Batch upsert of existing entities, every attribute each time.
    async fn upserts(&self) -> anyhow::Result<()> {
        let (n, batch) = (self.args.entities, self.args.batch);
        let base = Arc::new(AtomicU64::new(0));
        let make: MakeRequest = {
            let url = self.upsert_url("upsert");
            Arc::new(move |client: &Client, c: usize, k: u64| {
                let round = base.fetch_add(1, Ordering::Relaxed);
                let first = (round as usize * batch) % n;
                let at = Utc::now();
                let body: Vec<Value> =
                    (first..first + batch).map(|i| entity_json(i % n, k + c as u64, at, false)).collect();
                client.post(&url).bearer_auth(TOKEN).query(&[("options", "update")]).json(&body)
            })
        };
        let clients = (0..self.args.writers).map(|_| self.http.clone()).collect();
        let o = self.run("2. batch upsert", clients, make, StatusCode::NO_CONTENT).await;
        let updates = o.per_second() * (batch * ATTRS.len()) as f64;
        report(&o);
        println!(
            "   → {:.0} durable attribute updates/s ({} entities × {} attributes per request); memory {:.0} MiB",
            updates,
            batch,
            ATTRS.len(),
            rss_mib()
        );
        Ok(())
    }

    /// 3. Devices publishing QoS 1 measures of every attribute; counted when acked (= committed).
    async fn mqtt(&self) -> anyhow::Result<()> {
        let core = LdContext::core();
        let owner = self.state.store.org_unit_by_code("GL-SNNMT").await?.id;
        let key = "hdk_bench_device_key_0001";
        for d in 0..self.args.devices {
            let id = DeviceId::parse(&format!("bench-{d:04}")).expect("device id");
            self.state
                .store
                .create_device(
                    &AuditCtx::system("bench"),
                    NewDevice {
                        id,
                        tenant: String::new(),
                        name: format!("bench {d}"),
                        model: String::new(),
                        owner,
                        // Past the 100 series entities of phase 5, whose history it queries.
                        entity_id: entity_id((d + 100) % self.args.entities),
                        entity_type: core.expand("AirQualityObserved"),
                        key_hash: haidang_auth::hash_secret(key),
                        mapping: Mapping::default(),
                        silence_secs: 600,
                        demo: false,
                    },
                )
                .await?;
        }
        let acked = Arc::new(AtomicU64::new(0));
        let counting = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for d in 0..self.args.devices {
            let id = format!("bench-{d:04}");
            let mut options = MqttOptions::new(&id, self.mqtt.ip().to_string(), self.mqtt.port());
            options.set_credentials(&id, key);
            options.set_inflight(self.args.inflight);
            options.set_keep_alive(Duration::from_secs(60));
            let (client, mut events) = AsyncClient::new(options, self.args.inflight as usize * 2);
            let (acked, counting) = (acked.clone(), counting.clone());
            tasks.push(tokio::spawn(async move {
                while let Ok(ev) = events.poll().await {
                    if let Event::Incoming(Packet::PubAck(_)) = ev
                        && counting.load(Ordering::Relaxed)
                    {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
            let topic = format!("devices/{id}/measures");
            tasks.push(tokio::spawn(async move {
                for n in 0u64.. {
                    let mut m = serde_json::Map::new();
                    for (k, name) in ATTRS.iter().enumerate() {
                        m.insert((*name).into(), json!(value(d, n, k)));
                    }
                    if client.publish(&topic, QoS::AtLeastOnce, false, Value::Object(m).to_string()).await.is_err() {
                        return;
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(self.args.warmup)).await;
        counting.store(true, Ordering::Relaxed);
        let cpu0 = procfs::cpu_time(None);
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(self.args.duration)).await;
        let measures = acked.load(Ordering::Relaxed);
        let took = started.elapsed();
        let cpu = procfs::cpu_time(None).zip(cpu0).map(|(b, a)| b.saturating_sub(a));
        let rss = rss_mib();
        for t in tasks {
            t.abort();
        }
        let per_s = measures as f64 / took.as_secs_f64();
        println!(
            "\n3. MQTT QoS 1, {} devices × {} in flight, {} attributes per measure: {:.0} measures/s acked → {:.0} durable attribute updates/s; CPU {:.0} %; memory {:.0} MiB",
            self.args.devices,
            self.args.inflight,
            ATTRS.len(),
            per_s,
            per_s * ATTRS.len() as f64,
            Outcome::cpu_percent(cpu, took).unwrap_or(0.0),
            rss
        );
        Ok(())
    }

    /// 4. Reads at `--entities` entities, with 1 and 16 clients.
    async fn queries(&self) -> anyhow::Result<()> {
        println!("\n4. queries with {} entities", self.args.entities);
        let n = self.args.entities;
        let base = format!("{}/ngsi-ld/v1/entities", self.url);
        type UrlOf = Arc<dyn Fn(u64) -> String + Send + Sync>;
        let scenarios: Vec<(&str, UrlOf)> = vec![
            ("retrieve by id", {
                let base = base.clone();
                Arc::new(move |k| format!("{base}/{}", entity_id((k as usize * 7919) % n)))
            }),
            ("type, limit 100", {
                let base = base.clone();
                Arc::new(move |k| format!("{base}?type=AirQualityObserved&limit=100&offset={}", (k * 100) % n as u64))
            }),
            ("type + q pm25>99.5 (≈0.5 %), limit 100", {
                let base = base.clone();
                Arc::new(move |_| format!("{base}?type=AirQualityObserved&q=pm25%3E99.5&limit=100"))
            }),
            ("geo near 2 km, limit 100", {
                let base = base.clone();
                Arc::new(move |k| {
                    let (lon, lat) = place(k as usize * 13);
                    format!(
                        "{base}?type=AirQualityObserved&georel=near%3BmaxDistance%3D%3D2000&geometry=Point&coordinates=%5B{lon}%2C{lat}%5D&limit=100"
                    )
                })
            }),
            ("type, count=true, limit 1", {
                let base = base.clone();
                Arc::new(move |_| format!("{base}?type=AirQualityObserved&count=true&limit=1"))
            }),
        ];
        for (name, url) in scenarios {
            for clients in [1, 16] {
                let url = url.clone();
                let make: MakeRequest = Arc::new(move |c: &Client, _, k| c.get(url(k)).bearer_auth(TOKEN));
                let o = self.run(name, (0..clients).map(|_| self.http.clone()).collect(), make, StatusCode::OK).await;
                report(&o);
            }
        }
        println!("   memory {:.0} MiB", rss_mib());
        Ok(())
    }

    /// 5. History filled to `--history-values`, then temporal queries on one entity.
    async fn temporal(&self) -> anyhow::Result<()> {
        let store = &self.state.store;
        let stored = store.context_history_count().await?;
        let target = self.args.history_values;
        // One reading per minute of 100 series entities, every attribute, going back in time.
        let series_entities = 100usize;
        let per_instant = (series_entities * ATTRS.len()) as u64;
        let instants = target.saturating_sub(stored).div_ceil(per_instant);
        let end = Utc::now();
        let province = self.state.tree().roots()[0];
        let access = Arc::new(WriteAccess { unit: province, scope: None, types: None });
        let core = LdContext::core();
        let started = Instant::now();
        let mut written = 0u64;
        let mut pending = Vec::new();
        let chunk = 2_000usize;
        for m in 0..instants {
            let at = end - chrono::Duration::minutes((instants - m) as i64);
            for e in 0..series_entities {
                let body = entity_json(e, m, at, false);
                let entity = haidang_ngsi::Entity::parse(&body, &core, haidang_ngsi::entity::BodyKind::Entity)?;
                pending.push(WriteOp::Upsert { entity, replace: false });
            }
            if pending.len() >= chunk {
                let ops = std::mem::take(&mut pending);
                written += (ops.len() * ATTRS.len()) as u64;
                haidang_api::ngsi::write(&self.state, "", access.clone(), ops)
                    .await
                    .map_err(|p| anyhow::anyhow!("{}", p.0))?;
            }
        }
        written += (pending.len() * ATTRS.len()) as u64;
        haidang_api::ngsi::write(&self.state, "", access, pending).await.map_err(|p| anyhow::anyhow!("{}", p.0))?;
        let took = started.elapsed();
        let total = store.context_history_count().await?;
        println!(
            "\n5. history: {written} values added in {:.1} s ({:.0} values/s through the writer, one writer task); {total} stored values; memory {:.0} MiB",
            took.as_secs_f64(),
            written as f64 / took.as_secs_f64(),
            rss_mib()
        );
        let id = entity_id(7);
        let base = format!("{}/ngsi-ld/v1/temporal/entities/{id}", self.url);
        let half_day_ago = (end - chrono::Duration::hours(12)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let week_ago = (end - chrono::Duration::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let now = end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let scenarios = [
            ("temporal lastN=100, one attribute", format!("{base}?attrs=pm25&lastN=100")),
            (
                // Under the 1000-instance page of clause 6.3.10, so the answer is whole (200).
                "temporal 12 h of one attribute (720 values)",
                format!(
                    "{base}?attrs=pm25&timerel=between&timeAt={half_day_ago}&endTimeAt={now}&options=temporalValues"
                ),
            ),
            (
                "temporal hourly avg/min/max over a week",
                format!(
                    "{base}?attrs=pm25&timerel=between&timeAt={week_ago}&endTimeAt={now}&options=aggregatedValues&aggrMethods=avg,min,max&aggrPeriodDuration=PT1H"
                ),
            ),
        ];
        for (name, url) in scenarios {
            let check = self.http.get(&url).bearer_auth(TOKEN).send().await?;
            let json = check.headers().get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"application/"));
            let status = check.status();
            if status != StatusCode::OK || !json {
                let body = check.text().await.unwrap_or_default();
                println!("   {name}: HTTP {status} — {}", body.chars().take(200).collect::<String>());
                continue;
            }
            for clients in [1, 16] {
                let url = url.clone();
                let make: MakeRequest = Arc::new(move |c: &Client, _, _| c.get(&url).bearer_auth(TOKEN));
                let o = self.run(name, (0..clients).map(|_| self.http.clone()).collect(), make, StatusCode::OK).await;
                report(&o);
            }
        }
        Ok(())
    }

    async fn run(&self, name: &str, clients: Vec<Client>, make: MakeRequest, expect: StatusCode) -> Outcome {
        let (w, d) = (Duration::from_secs(self.args.warmup), Duration::from_secs(self.args.duration));
        load::run(name, clients, make, expect, w, d, Some(std::process::id())).await
    }
}

fn report(o: &Outcome) {
    let ms = |q: f64| o.latency.value_at_quantile(q) as f64 / 1000.0;
    let errors = if o.errors == 0 { String::new() } else { format!(", {} errors {:?}", o.errors, o.error_kinds) };
    println!(
        "   {:<48} {:>2} clients: {:>8.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  CPU {:>4.0} %{errors}",
        o.name,
        o.clients,
        o.per_second(),
        ms(0.5),
        ms(0.99),
        Outcome::cpu_percent(o.bench_cpu, o.measured).unwrap_or(0.0),
    );
}
