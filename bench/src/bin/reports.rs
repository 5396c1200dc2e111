//! `reports`: citizen field reports at scale (issue 3). Fills a store with `--reports` generated
//! reports (by the store's bulk import), serves it in-process on a loopback port, and measures
//! over HTTP: work queues (inbox) and search, the public map, statistics, public submissions
//! (with and without a photo) and the workflow's durable step (verify).
//!
//! Everything runs in this one process on the machine's cores: server, SQLite and the load
//! generator share them, as in `haidang-bench`.

#[allow(dead_code)]
#[path = "../load.rs"]
mod load;
#[allow(dead_code)]
#[path = "../procfs.rs"]
mod procfs;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration as Span, Utc};
use clap::Parser;
use haidang_api::{ApiConfig, AppState};
use haidang_auth::PasswordHasher;
use haidang_core::{OrgUnitId, OrgUnitType, SystemClock};
use haidang_reports::{Channel, HandlingRule, Status};
use haidang_store::{AuditCtx, Category, ImportedReport, ImportedWork, OrgUnitFilter, ReportFilter, Store};
use load::{MakeRequest, Outcome};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::io::Cursor as IoCursor;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

const PASSWORD: &str = "demo-Password-2025";
/// Written in the data directory after an import: how many reports it holds.
const MARKER: &str = "bench-reports.txt";

#[derive(Parser, Debug)]
#[command(
    name = "reports",
    about = "Citizen reports at scale: import N reports, then measure inbox, map, statistics and submissions over HTTP",
    after_help = "Example:\n  cargo run --release -p haidang-bench --bin reports -- --reports 1000000"
)]
struct Args {
    /// Reports to generate and import.
    #[arg(long, default_value_t = 1_000_000)]
    reports: usize,
    /// Reports per import call (one transaction and one audit entry each).
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Keep the store in this directory. If it already holds a generated set (from an earlier
    /// run with the same directory), the import is skipped: only the measurements run.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Measured seconds of each scenario.
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Seconds of warm-up before each scenario's measurement (not counted).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Concurrency levels of the scenarios, comma-separated.
    #[arg(long, default_value = "1,16", value_delimiter = ',')]
    clients: Vec<usize>,
    /// Skip submissions and workflow steps (they add reports to the store for good).
    #[arg(long)]
    no_writes: bool,
    /// Seed of the generator (the same seed gives the same reports).
    #[arg(long, default_value_t = 20_251_123)]
    seed: u64,
}

// ---------------------------------------------------------------------------------------------
// Generator

/// SplitMix64: small, fast, reproducible, good enough to spread reports.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// A span uniform between `lo` and `hi` minutes.
    fn minutes(&mut self, lo: f64, hi: f64) -> Span {
        Span::seconds(((lo + (hi - lo) * self.f()) * 60.0) as i64)
    }
}

#[derive(Clone)]
struct Place {
    id: OrgUnitId,
    code: String,
    name: String,
    lat: f64,
    lon: f64,
}

struct Kind {
    id: i64,
    code: String,
    handler: Option<OrgUnitId>,
    urgent_by_default: bool,
}

struct World {
    communes: Vec<Place>,
    /// Cumulative weights over `communes` (cities get more reports than rural communes).
    cumulative: Vec<f64>,
    kinds: Vec<Kind>,
}

const STREETS: [&str; 16] = [
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Lê Lợi",
    "Hai Bà Trưng",
    "Phạm Văn Đồng",
    "Hùng Vương",
    "Quang Trung",
    "Lý Thường Kiệt",
    "Nguyễn Tất Thành",
    "Tăng Bạt Hổ",
    "Ngô Mây",
    "Xuân Diệu",
    "An Dương Vương",
    "Lê Duẩn",
    "Trường Chinh",
    "Phan Bội Châu",
];

/// What citizens write, by category code.
fn phrases(code: &str) -> &'static [&'static str] {
    match code {
        "urban_order" | "sidewalk" => {
            &["Lấn chiếm vỉa hè để buôn bán", "Đậu xe trên vỉa hè cản lối đi", "Quán ăn bày bàn ghế ra lòng đường"]
        }
        "environment" | "waste" => {
            &["Rác thải tồn đọng nhiều ngày chưa thu gom", "Đổ trộm phế thải xây dựng", "Mùi hôi từ bãi rác"]
        }
        "roads" => &["Ổ gà lớn giữa đường gây nguy hiểm", "Mặt đường sụt lún", "Biển báo giao thông bị đổ"],
        "fallen_tree" => &["Cây đổ chắn ngang đường", "Cành cây gãy treo trên dây điện"],
        "lighting" => {
            &["Đèn đường không sáng cả dãy", "Đèn chiếu sáng chập chờn ban đêm", "Đèn đường sáng cả ban ngày"]
        }
        "water" => &["Vỡ ống nước sạch", "Nắp cống bị mất", "Cống thoát nước bị tắc"],
        "flooding" => &["Ngập sâu sau mưa lớn", "Nước tràn vào nhà dân do cống tắc"],
        "security" => &["Tụ tập đua xe ban đêm", "Trộm cắp xe máy nhiều lần"],
        "health" => &["Cơ sở bán thực phẩm không rõ nguồn gốc", "Quán ăn mất vệ sinh"],
        "education" => &["Cổng trường xuống cấp", "Dạy thêm trái quy định"],
        "public_services" => &["Hồ sơ giải quyết trễ hẹn", "Thái độ phục vụ chưa tốt tại bộ phận một cửa"],
        "construction" => &["Xây dựng không phép", "Công trình che chắn không an toàn"],
        "noise" => &["Karaoke gây ồn sau 22 giờ", "Công trình thi công ồn ban đêm"],
        _ => &["Sự việc cần cơ quan chức năng xem xét"],
    }
}

/// Tracking codes in the real alphabet, distinct for distinct `i` (an odd multiplier prime to
/// 30 is a bijection modulo 30^10).
fn code(i: u64) -> String {
    const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    const SPACE: u64 = 590_490_000_000_000; // 30^10
    let mut v = (i.wrapping_mul(1_000_000_007) + 123_456_789) % SPACE;
    let mut body = [b'2'; 10];
    for b in body.iter_mut().rev() {
        *b = ALPHABET[(v % 30) as usize];
        v /= 30;
    }
    format!("PA{}", std::str::from_utf8(&body).expect("ascii"))
}

impl World {
    fn commune(&self, rng: &mut Rng) -> &Place {
        let total = *self.cumulative.last().expect("communes");
        let x = rng.f() * total;
        let i = self.cumulative.partition_point(|c| *c <= x).min(self.communes.len() - 1);
        &self.communes[i]
    }

    /// Report `i` of `n`, received within the two years before `now`, in time order (as a
    /// previous system exports them): older reports are mostly closed, recent ones still open.
    fn report(&self, rng: &mut Rng, i: u64, n: u64, now: DateTime<Utc>) -> ImportedReport {
        let place = self.commune(rng).clone();
        let kind = rng.pick(&self.kinds);
        let urgent = if kind.urgent_by_default { rng.chance(0.7) } else { rng.chance(0.03) };
        let span = 730.0 * 1440.0;
        let age_minutes = span * (1.0 - (i as f64 + rng.f()) / n as f64);
        let received_at = now - Span::seconds((age_minutes * 60.0) as i64).max(Span::minutes(5));
        let age_days = age_minutes / 1440.0;
        // Open work: most recent reports, some of the last weeks, a small stuck backlog (about
        // 5 % in all); results awaiting the citizen's rating in the last 12 days; 8 % rejected.
        let (open_share, published_share) = match age_days {
            d if d < 2.0 => (0.9, 0.0),
            d if d < 12.0 => (0.55, 0.25),
            d if d < 45.0 => (0.35, 0.0),
            _ => (0.02, 0.0),
        };
        let u = rng.f();
        let status = if u < open_share {
            match rng.below(50) {
                0..=4 => Status::Received,
                5..=7 => Status::Verified,
                8..=17 => Status::Assigned,
                18..=42 => Status::InProgress,
                43..=44 => Status::Returned,
                _ => Status::Resolved,
            }
        } else if u < open_share + published_share {
            Status::Published
        } else if rng.chance(0.08) {
            Status::Rejected
        } else {
            Status::Closed
        };
        let open = matches!(
            status,
            Status::Received
                | Status::Verified
                | Status::Assigned
                | Status::InProgress
                | Status::Returned
                | Status::Resolved
        );
        let handler = kind.handler.unwrap_or(place.id);
        let street = *rng.pick(&STREETS);
        let phrase = *rng.pick(phrases(&kind.code));
        let number = 1 + rng.below(400);
        let title = format!("{phrase} trên đường {street}");
        let description = format!(
            "{phrase} tại số {number} đường {street}, {}. Đề nghị cơ quan chức năng kiểm tra, xử lý sớm.",
            place.name
        );
        let channel = match rng.below(20) {
            0..=9 => Channel::Web,
            10..=12 => Channel::Open311,
            13..=15 => Channel::Hotline,
            16..=17 => Channel::Zalo,
            18 => Channel::InPerson,
            _ => Channel::Email,
        };
        // The steps, each some time after the one before.
        let verified_at = received_at + rng.minutes(10.0, 360.0);
        let assigned_at = verified_at + rng.minutes(5.0, 180.0);
        let handling_span = if urgent { Span::hours(4) } else { Span::days(5) };
        let handling_due_at = assigned_at + handling_span;
        let accepted_at = assigned_at + rng.minutes(5.0, if urgent { 30.0 } else { 480.0 });
        let resolved_at = if rng.chance(0.85) {
            accepted_at + Span::seconds(((handling_due_at - accepted_at).num_seconds() as f64 * rng.f() * 0.95) as i64)
        } else {
            handling_due_at + rng.minutes(30.0, 5.0 * 1440.0)
        };
        let published_at = resolved_at + rng.minutes(60.0, 1440.0);
        let closed_at = published_at + rng.minutes(60.0, 7.0 * 1440.0);
        // A recent report has not lived through steps that would fall in the future.
        let [verified_at, assigned_at, accepted_at, resolved_at, published_at, closed_at] =
            [verified_at, assigned_at, accepted_at, resolved_at, published_at, closed_at].map(|t| t.min(now));
        let reached = |s: Status| -> bool {
            let order = [
                Status::Received,
                Status::Verified,
                Status::Assigned,
                Status::InProgress,
                Status::Resolved,
                Status::Published,
                Status::Closed,
            ];
            let pos = |x: Status| order.iter().position(|o| *o == x);
            match (pos(status), pos(s)) {
                (Some(a), Some(b)) => a >= b,
                _ => false,
            }
        };
        let (verified_at, assigned_at, accepted_at, resolved_at, published_at, closed_at, handler_unit) = match status {
            Status::Rejected => (None, None, None, None, None, Some(verified_at), None),
            Status::Returned => (Some(verified_at), Some(assigned_at), None, None, None, None, None),
            _ => (
                reached(Status::Verified).then_some(verified_at),
                reached(Status::Assigned).then_some(assigned_at),
                reached(Status::InProgress).then_some(accepted_at),
                reached(Status::Resolved).then_some(resolved_at),
                reached(Status::Published).then_some(published_at),
                reached(Status::Closed).then_some(closed_at),
                reached(Status::Assigned).then_some(handler),
            ),
        };
        let satisfied = (status == Status::Closed && rng.chance(0.55)).then(|| rng.chance(0.82));
        // The deadline of the current step: the IOC's (verify, re-route) or the unit's.
        let (due_at, warn_at, clocking) = match status {
            Status::Received | Status::Verified | Status::Returned => {
                let due = received_at + Span::hours(if urgent { 1 } else { 24 });
                (Some(due), Some(due - Span::hours(1)), Some(if urgent { "wall" } else { "working" }))
            }
            Status::Rejected => (None, None, None),
            _ => (
                Some(handling_due_at),
                Some(handling_due_at - handling_span / 5),
                Some(if urgent { "wall" } else { "working" }),
            ),
        };
        let result = resolved_at.map(|_| format!("Đã kiểm tra và xử lý: {}.", phrase.to_lowercase()));
        ImportedReport {
            code: code(i),
            category_id: kind.id,
            status,
            urgent,
            channel,
            title,
            public_description: description.clone(),
            description,
            lat: place.lat + (rng.f() - 0.5) * 0.02,
            lon: place.lon + (rng.f() - 0.5) * 0.02,
            address: Some(format!("{number} {street}, {}", place.name)),
            commune: Some(place.id),
            owner: place.id,
            handler_unit,
            public_result: published_at.and(result.clone()),
            result,
            received_at,
            verified_at,
            assigned_at,
            resolved_at,
            published_at,
            closed_at,
            handling_due_at: assigned_at.map(|_| handling_due_at),
            handling_seconds: resolved_at.zip(assigned_at).map(|(r, a)| (r - a).num_seconds()),
            satisfied,
            work: ImportedWork { open, accepted_at, clocking, due_at, warn_at },
        }
    }
}

async fn world(store: &Store, state: &AppState, rng: &mut Rng) -> anyhow::Result<World> {
    let units = store.org_units_tree(&OrgUnitFilter { limit: 10_000, ..Default::default() }).await?;
    let places = state.places();
    let mut communes: Vec<Place> = units
        .iter()
        .filter(|u| matches!(u.unit_type, OrgUnitType::Ward | OrgUnitType::Commune | OrgUnitType::SpecialZone))
        .filter_map(|u| {
            let (lat, lon) = (u.lat?, u.lon?);
            // Only centres that fall in their own area, so a submission there is accepted.
            (places.locate(lat, lon) == Some(u.id)).then(|| Place {
                id: u.id,
                code: u.code.clone(),
                name: u.name.clone(),
                lat,
                lon,
            })
        })
        .collect();
    communes.sort_by_key(|p| p.id.0);
    if communes.is_empty() {
        bail!("the demo province has no communes with a centre inside their area");
    }
    // Wards (cities) get more reports; the demo's two commune officers' wards are the largest.
    let mut cumulative = Vec::with_capacity(communes.len());
    let mut total = 0.0;
    for c in &communes {
        let ward = units.iter().any(|u| u.id == c.id && u.unit_type == OrgUnitType::Ward);
        total += match c.code.as_str() {
            "21583" | "23575" => 12.0,
            _ if ward => 2.0 + rng.f() * 2.0,
            _ => 0.5 + rng.f(),
        };
        cumulative.push(total);
    }
    let kinds = store
        .categories()
        .await?
        .into_iter()
        .map(|c: Category| Kind {
            id: c.id,
            handler: match c.rule {
                HandlingRule::ByPlace => None,
                HandlingRule::ByField { unit_id } | HandlingRule::Fixed { unit_id } => Some(unit_id),
            },
            code: c.code,
            urgent_by_default: c.urgent_by_default,
        })
        .collect();
    Ok(World { communes, cumulative, kinds })
}

/// Generates and imports `n` reports; generation runs on a blocking thread beside the writer.
async fn import(store: &Store, world: Arc<World>, n: usize, batch: usize, seed: u64) -> anyhow::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<ImportedReport>>(2);
    let now = Utc::now();
    let generator = tokio::task::spawn_blocking(move || {
        let mut rng = Rng(seed ^ 0xA5A5);
        let mut i = 0usize;
        while i < n {
            let rows: Vec<ImportedReport> =
                (i..(i + batch).min(n)).map(|k| world.report(&mut rng, k as u64, n as u64, now)).collect();
            i += rows.len();
            if tx.blocking_send(rows).is_err() {
                break;
            }
        }
    });
    let ctx = AuditCtx::system("bench.import");
    let start = Instant::now();
    let (mut done, mut last_print) = (0u64, Instant::now());
    while let Some(rows) = rx.recv().await {
        done += store.import_reports(&ctx, &rows).await?;
        if last_print.elapsed() > Duration::from_secs(15) {
            let s = start.elapsed().as_secs_f64();
            eprintln!("  imported {done} reports in {s:.0} s ({:.0}/s)", done as f64 / s);
            last_print = Instant::now();
        }
    }
    generator.await?;
    let took = start.elapsed();
    println!(
        "import: {done} reports in {:.1} s = {:.0} reports/s (batches of {batch}, one transaction and audit entry each)",
        took.as_secs_f64(),
        done as f64 / took.as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Measuring

struct Session {
    client: Client,
    csrf: String,
}

async fn login(base: &str, username: &str) -> anyhow::Result<Session> {
    let client = Client::builder().cookie_store(true).timeout(Duration::from_secs(60)).build()?;
    let res = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await?;
    if res.status() != StatusCode::OK {
        bail!("login {username}: HTTP {}", res.status());
    }
    let csrf = res.cookies().find(|c| c.name() == "hd_csrf").map(|c| c.value().to_owned()).context("csrf cookie")?;
    Ok(Session { client, csrf })
}

async fn sessions(base: &str, username: &str, n: usize) -> anyhow::Result<Vec<Session>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(login(base, username).await?);
    }
    Ok(out)
}

fn plain_clients(n: usize) -> anyhow::Result<Vec<Client>> {
    (0..n).map(|_| Ok(Client::builder().timeout(Duration::from_secs(60)).build()?)).collect()
}

struct Line {
    outcome: Outcome,
    /// Rows in one answer (items of a page, groups of the statistics), from a probe request.
    rows: Option<usize>,
}

struct Bench {
    base: String,
    warmup: Duration,
    duration: Duration,
    lines: Vec<Line>,
}

impl Bench {
    async fn run(&mut self, name: &str, clients: Vec<Client>, make: MakeRequest, expect: StatusCode) {
        let rows = match make(&clients[0], 0, 0).send().await {
            Ok(res) => res
                .json::<Value>()
                .await
                .ok()
                .and_then(|v| v.get("items").or_else(|| v.get("rows")).and_then(Value::as_array).map(Vec::len)),
            Err(_) => None,
        };
        let outcome =
            load::run(name, clients, make, expect, self.warmup, self.duration, Some(std::process::id())).await;
        print_line(&outcome, rows);
        self.lines.push(Line { outcome, rows });
    }
}

fn ms(h: &hdrhistogram::Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn header() {
    println!(
        "{:<44} {:>7} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>7}",
        "scenario", "clients", "ok", "errors", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms", "rows", "CPU"
    );
}

fn print_line(o: &Outcome, rows: Option<usize>) {
    let cpu = Outcome::cpu_percent(o.server_cpu, o.measured).map_or("n/a".into(), |c| format!("{c:.0} %"));
    println!(
        "{:<44} {:>7} {:>7} {:>6} {:>8.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>7}",
        o.name,
        o.clients,
        o.ok,
        o.errors,
        o.per_second(),
        ms(&o.latency, 0.5),
        ms(&o.latency, 0.9),
        ms(&o.latency, 0.99),
        o.latency.max() as f64 / 1000.0,
        rows.map_or("".into(), |r| r.to_string()),
        cpu
    );
    if !o.error_kinds.is_empty() {
        println!("    errors: {:?}", o.error_kinds);
    }
}

/// The figures again as a Markdown table (for bench/README.md).
fn summary(lines: &[Line]) {
    println!();
    println!("| scenario | clients | requests | per s | p50 ms | p90 ms | p99 ms | max ms | rows |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for l in lines {
        let o = &l.outcome;
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            o.name,
            o.clients,
            o.ok,
            o.per_second(),
            ms(&o.latency, 0.5),
            ms(&o.latency, 0.9),
            ms(&o.latency, 0.99),
            o.latency.max() as f64 / 1000.0,
            l.rows.map_or("".into(), |r| r.to_string())
        );
    }
}

fn session_clients(s: Vec<Session>) -> Vec<Client> {
    s.into_iter().map(|s| s.client).collect()
}

fn get(path: impl Fn(usize, u64) -> String + Send + Sync + 'static, base: &str) -> MakeRequest {
    let base = base.to_owned();
    Arc::new(move |c: &Client, i: usize, n: u64| c.get(format!("{base}{}", path(i, n))))
}

/// A small valid PNG photo (a 64 × 48 two-colour picture).
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        if (x / 8 + y / 8) % 2 == 0 { image::Rgb([200, 40, 30]) } else { image::Rgb([30, 60, 200]) }
    });
    let mut out = IoCursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png encoding");
    out.into_inner()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.batch == 0 || args.reports == 0 {
        bail!("--reports and --batch must be positive");
    }
    let temp;
    let dir = match &args.data {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    println!(
        "Hải Đăng reports benchmark: {} cores shared by the server, SQLite and the load generator (one process)",
        procfs::cores()
    );
    let store = Store::open(&dir, Arc::new(SystemClock)).await?;
    // Cheap password hashes: logins are not what is measured here.
    let hasher = PasswordHasher::with_params(1024, 1);
    haidang::demo::load(&store, &hasher, PASSWORD, None).await?;
    haidang::demo_reports::load(&store, "bench-open311-key").await?;
    let config = ApiConfig {
        demo: true,
        login_attempts_per_minute: 100_000,
        lockout_failures: 100_000,
        tile_url: None,
        reports: haidang_api::reports::ReportsConfig {
            dispatch_unit: Some(haidang::demo_reports::DISPATCH_UNIT.into()),
            public_submissions_per_hour: 100_000_000,
            ..Default::default()
        },
        ..Default::default()
    };
    let state = AppState::new(store.clone(), config.clone(), hasher.clone()).await?;
    let mut rng = Rng(args.seed);
    let world = Arc::new(world(&store, &state, &mut rng).await?);
    let marker = dir.join(MARKER);
    let existing: Option<usize> = std::fs::read_to_string(&marker).ok().and_then(|s| s.trim().parse().ok());
    match existing {
        Some(n) => println!("import: skipped, {} already holds {n} generated reports", dir.display()),
        None => {
            println!(
                "import: {} reports over {} communes and {} categories, received over two years",
                args.reports,
                world.communes.len(),
                world.kinds.len()
            );
            import(&store, world.clone(), args.reports, args.batch, args.seed).await?;
            std::fs::write(&marker, args.reports.to_string())?;
        }
    }
    // As after an import by a tool: the server starts on the filled store.
    drop(state);
    store.close().await;
    let store = Store::open(&dir, Arc::new(SystemClock)).await?;
    let state = AppState::new(store.clone(), config, hasher).await?;
    let db = dir.join(haidang_store::DB_FILE);
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!("database file: {:.0} MiB", size as f64 / (1024.0 * 1024.0));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(haidang_api::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));

    let mut bench = Bench {
        base: base.clone(),
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
        lines: Vec::new(),
    };
    let levels = args.clients.clone();
    let month_from = (Utc::now() - Span::days(30)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let communes = Arc::new(world.communes.clone());
    println!();
    header();

    // (a) Work queues and search.
    for &n in &levels {
        let make = get(|_, _| "/api/reports?view=inbox".into(), &bench.base);
        bench
            .run(
                "inbox: commune officer (Quy Nhơn)",
                session_clients(sessions(&base, "commune", n).await?),
                make,
                StatusCode::OK,
            )
            .await;
    }
    for &n in &levels {
        let make = get(|_, _| "/api/reports?view=inbox".into(), &bench.base);
        bench
            .run("inbox: IOC operator", session_clients(sessions(&base, "operator", n).await?), make, StatusCode::OK)
            .await;
    }
    let terms = ["tr%E1%BA%A7n%20h%C6%B0ng%20%C4%91%E1%BA%A1o", "den%20duong", "ng%E1%BA%ADp", "karaoke"];
    for &n in &levels {
        let make =
            get(move |i, k| format!("/api/reports?view=all&q={}", terms[(i + k as usize) % terms.len()]), &bench.base);
        bench
            .run(
                "all + q= text: commune officer",
                session_clients(sessions(&base, "commune", n).await?),
                make,
                StatusCode::OK,
            )
            .await;
    }

    // (b) The public map.
    for &n in &levels {
        let make = get(|_, _| "/api/public/reports?limit=500".into(), &bench.base);
        bench.run("public map: limit=500", plain_clients(n)?, make, StatusCode::OK).await;
    }
    for &n in &levels {
        let c = communes.clone();
        let make = get(
            move |i, k| {
                let p = &c[(i * 7 + k as usize) % c.len()];
                format!(
                    "/api/public/reports?limit=500&bbox={},{},{},{}",
                    p.lon - 0.02,
                    p.lat - 0.02,
                    p.lon + 0.02,
                    p.lat + 0.02
                )
            },
            &bench.base,
        );
        bench.run("public map: bbox (4 km around a centre)", plain_clients(n)?, make, StatusCode::OK).await;
    }
    for &n in &levels {
        let c = communes.clone();
        let make = get(
            move |i, k| format!("/api/public/reports?limit=500&commune={}", c[(i * 7 + k as usize) % c.len()].id.0),
            &bench.base,
        );
        bench.run("public map: commune=", plain_clients(n)?, make, StatusCode::OK).await;
    }

    // (c) Statistics, as the operator (the whole province).
    for (label, group, from) in [
        ("stats: group=unit, last 30 days", "unit", Some(month_from.clone())),
        ("stats: group=category, last 30 days", "category", Some(month_from.clone())),
        ("stats: group=unit, everything", "unit", None),
        ("stats: group=category, everything", "category", None),
    ] {
        for &n in &levels {
            // Over everything, one client at a time is what an operator does; more only queue.
            if from.is_none() && n > 1 {
                continue;
            }
            let path = match &from {
                Some(f) => format!("/api/reports/stats?group={group}&from={f}"),
                None => format!("/api/reports/stats?group={group}"),
            };
            let make = get(move |_, _| path.clone(), &bench.base);
            bench.run(label, session_clients(sessions(&base, "operator", n).await?), make, StatusCode::OK).await;
        }
    }

    // (d) Submissions and the durable step.
    if !args.no_writes {
        let photo = Arc::new(png());
        let kinds: Arc<Vec<i64>> =
            Arc::new(world.kinds.iter().filter(|k| k.code != "lighting").map(|k| k.id).collect());
        let seq = Arc::new(AtomicUsize::new(0));
        for with_photo in [false, true] {
            for &n in &levels {
                let (b, c, k, p, s) = (base.clone(), communes.clone(), kinds.clone(), photo.clone(), seq.clone());
                let make: MakeRequest = Arc::new(move |client: &Client, _: usize, _: u64| {
                    let j = s.fetch_add(1, Ordering::Relaxed);
                    let place = &c[j % c.len()];
                    let report = json!({
                        "category_id": k[j % k.len()],
                        "description": format!("Phản ánh thử nghiệm số {j}: rác thải tồn đọng trên đường Lê Lợi"),
                        "lat": place.lat, "lon": place.lon, "consent": true,
                        "contact": {"email": format!("citizen{j}@example.invalid")},
                    });
                    let mut form = reqwest::multipart::Form::new().text("report", report.to_string());
                    if with_photo {
                        let part = reqwest::multipart::Part::bytes(p.as_ref().clone())
                            .file_name("photo.png")
                            .mime_str("image/png")
                            .expect("mime");
                        form = form.part("file", part);
                    }
                    client.post(format!("{b}/api/public/reports")).multipart(form)
                });
                let name =
                    if with_photo { "submit: public form, 1 PNG photo" } else { "submit: public form, no photo" };
                bench.run(name, plain_clients(n)?, make, StatusCode::CREATED).await;
            }
        }
        // Verify what is waiting: each report once, so the queue must be longer than the run.
        let waiting = store
            .list_reports(&ReportFilter { status: vec![Status::Received], limit: 200_000, ..Default::default() })
            .await?;
        let ids: Arc<Vec<i64>> = Arc::new(waiting.items.iter().map(|r| r.id).collect());
        println!("    ({} reports waiting for verification)", ids.len());
        let next = Arc::new(AtomicUsize::new(0));
        for &n in &levels {
            let s = sessions(&base, "operator", n).await?;
            let csrf: Arc<Vec<String>> = Arc::new(s.iter().map(|s| s.csrf.clone()).collect());
            let (b, ids2, next) = (base.clone(), ids.clone(), next.clone());
            let make: MakeRequest = Arc::new(move |client: &Client, i: usize, _: u64| {
                let j = next.fetch_add(1, Ordering::Relaxed);
                let id = ids2.get(j).copied().unwrap_or(0);
                client
                    .post(format!("{b}/api/reports/{id}/actions"))
                    .header("x-csrf-token", &csrf[i])
                    .json(&json!({"action": "verify"}))
            });
            bench.run("step: verify (durable), operator", session_clients(s), make, StatusCode::OK).await;
        }
    }
    summary(&bench.lines);

    let _ = stop.send(());
    let _ = server.await;
    store.close().await;
    Ok(())
}
