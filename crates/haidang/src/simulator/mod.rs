//! The living demo: simulated stations in Gia Lai publishing over MQTT.
//!
//! At start the demo provisions its stations as devices (with entities marked as simulated
//! data, see [`stations::DATA_PROVIDER`]), fills in three days of past readings for stations
//! provisioned now, and then runs one MQTT client per station that connects to the embedded
//! broker with the station's own key and publishes a reading every 30–60 s — the same path a
//! real station takes. The readings come from [`series`]: daily air-quality cycles, a storm
//! that raises the rivers, lamps that fail, containers that fill.

pub mod series;
pub mod stations;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use haidang_api::AppState;
use haidang_devices::{Mapping, Reading};
use haidang_ngsi::Context;
use haidang_store::context::{WriteAccess, WriteOp};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use serde_json::{Map, Value};
use tokio::task::JoinHandle;

use series::World;
use stations::Ready;

/// How far back the past of new stations is filled in, and at which step.
const BACKFILL: chrono::Duration = chrono::Duration::days(3);
const BACKFILL_STEP: chrono::Duration = chrono::Duration::minutes(20);
/// Operations per write while filling in the past.
const BACKFILL_BATCH: usize = 2000;
/// Solar stations report their battery this often.
const STATUS_EVERY: u32 = 10;

/// Provisions the stations, fills in their past, and starts publishing to the broker at
/// `broker`; the returned tasks run until aborted.
pub async fn start(state: &AppState, data_dir: &Path, broker: SocketAddr) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let ready = stations::provision(state, data_dir).await?;
    let now = state.clock.now();
    let world = World { storm_at: now + chrono::Duration::minutes(30) };
    let new: Vec<&Ready> = ready.iter().filter(|r| r.new).collect();
    if !new.is_empty() {
        let started = std::time::Instant::now();
        let values = backfill(state, &new, &world, now).await?;
        tracing::info!(stations = new.len(), values, took = ?started.elapsed(), "demo stations: past readings filled in");
    }
    tracing::info!(stations = ready.len(), %broker, "demo stations publishing over MQTT (simulated data)");
    Ok(ready.into_iter().map(|r| tokio::spawn(publish(r, world, broker))).collect())
}

fn measures(values: Map<String, Value>, at: DateTime<Utc>) -> Reading {
    Reading { observed_at: Some(at), values: values.into_iter().collect() }
}

/// Writes the readings of the past [`BACKFILL`] straight through the context writer (one
/// reading per step and station), oldest first so the latest is the entity's state.
async fn backfill(state: &AppState, new: &[&Ready], world: &World, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let core = Context::core();
    let province = state.tree().roots().first().copied().unwrap_or(haidang_core::OrgUnitId(1));
    let access = Arc::new(WriteAccess { unit: province, scope: None, types: None });
    let mapping = Mapping::default();
    let mut ops = Vec::new();
    let mut values = 0;
    let mut t = now - BACKFILL;
    while t < now {
        for r in new {
            let s = &r.station;
            let reading = measures(series::reading(s, r.index, world, t), t);
            let target = (s.entity_id(), core.expand(s.kind.entity_type()));
            for u in mapping.updates("measures", (&target.0, &target.1), vec![reading], t, &core)? {
                values += u.fragment.attrs.len();
                ops.push(WriteOp::Upsert { entity: u.fragment, replace: false });
            }
        }
        if ops.len() >= BACKFILL_BATCH {
            write(state, &access, std::mem::take(&mut ops)).await?;
        }
        t += BACKFILL_STEP;
    }
    write(state, &access, ops).await?;
    Ok(values)
}

async fn write(state: &AppState, access: &Arc<WriteAccess>, ops: Vec<WriteOp>) -> anyhow::Result<()> {
    let results =
        haidang_api::ngsi::write(state, "", access.clone(), ops).await.map_err(|p| anyhow::anyhow!("{}", p.0))?;
    if let Some(e) = results.into_iter().find_map(Result::err) {
        anyhow::bail!("filling in a demo station's past: {e}");
    }
    Ok(())
}

/// One station: connects with its key and publishes a reading every interval, its battery
/// every [`STATUS_EVERY`] readings; reconnects when the broker goes away.
async fn publish(r: Ready, world: World, broker: SocketAddr) {
    let s = r.station;
    let mut options = MqttOptions::new(s.id, broker.ip().to_string(), broker.port());
    options.set_credentials(s.id, r.key.clone());
    options.set_keep_alive(Duration::from_secs(60));
    let (client, mut events) = AsyncClient::new(options, 16);
    // Spread the stations over the interval rather than publishing all at once.
    let interval = Duration::from_secs(s.kind.interval_secs());
    let first = tokio::time::Instant::now() + interval.mul_f64((r.index % 17) as f64 / 17.0);
    let mut tick = tokio::time::interval_at(first, interval);
    let topic = format!("devices/{}/", s.id);
    let mut n = 0u32;
    loop {
        tokio::select! {
            event = events.poll() => {
                if event.is_err() {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
            _ = tick.tick() => {
                let now = Utc::now();
                let mut reading = series::reading(&s, r.index, &world, now);
                reading.insert("ts".into(), Value::String(now.to_rfc3339()));
                // Queued for the event loop above; while disconnected, a full queue drops the
                // reading, as a station with a small buffer would.
                let _ = client.try_publish(format!("{topic}measures"), QoS::AtLeastOnce, false, Value::Object(reading).to_string());
                if s.kind.solar() && n.is_multiple_of(STATUS_EVERY) {
                    let status = Value::Object(series::device_status(r.index, now)).to_string();
                    let _ = client.try_publish(format!("{topic}status"), QoS::AtLeastOnce, false, status);
                }
                n = n.wrapping_add(1);
            }
        }
    }
}
