//! `haidang-bench`: throughput, latency and memory of a Hải Đăng server on this machine.
//!
//! Scenarios, in order: every client logs in (its own session); authenticated reads of an org
//! page with those sessions; reads of single units with the API token; durable writes (new
//! units) with the token. Memory (RSS) of the server is read from `/proc` at idle, after the
//! logins, during the load and after it. Only loopback servers are loaded, and every phase has
//! a fixed length, so a run ends by itself.

mod load;
mod procfs;
mod spawn;

use anyhow::{Context, anyhow, bail};
use clap::Parser;
use hdrhistogram::Histogram;
use load::{MakeRequest, Outcome};
use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "haidang-bench",
    version,
    about = "Throughput, latency and memory of a Hải Đăng server on this machine",
    after_help = "Examples:\n  haidang-bench --spawn\n  haidang-bench --url http://127.0.0.1:8080 --token TOKEN --pid 1234 --clients 200 --duration 20"
)]
struct Args {
    /// A running `haidang demo` on this machine (127.0.0.0/8, [::1] or localhost).
    #[arg(long, conflicts_with = "spawn", required_unless_present = "spawn", requires = "token")]
    url: Option<String>,
    /// A full-rights API token of that server (`haidang demo --demo-token`).
    #[arg(long)]
    token: Option<String>,
    /// The server's process id, for its memory and CPU figures (known by itself with --spawn).
    #[arg(long)]
    pid: Option<u32>,
    /// Start `haidang demo` in a temporary data directory on a free port, and stop it at the end.
    #[arg(long)]
    spawn: bool,
    /// The binary --spawn starts [default: `haidang` beside this program, i.e. target/release/haidang].
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Concurrent clients of the read scenarios, each with its own connection and session.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Measured seconds of each read scenario.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds of warm-up before each read scenario's measurement (not counted).
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// The account every client logs in as.
    #[arg(long, default_value = "operator")]
    user: String,
    /// Its password (and, with --spawn, every demo account's).
    #[arg(long, default_value = "demo-Password-2025")]
    password: String,
    /// Logins in flight at once while the clients log in (each costs an argon2id hash of 19 MiB).
    #[arg(long, default_value_t = 8)]
    login_concurrency: usize,
    /// Concurrent clients of the write scenario.
    #[arg(long, default_value_t = 8)]
    write_clients: usize,
    /// Measured seconds of the write scenario (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    write_duration: u64,
    /// Skip the write scenario (it adds units to the server's org tree for good).
    #[arg(long)]
    no_writes: bool,
    /// Code of the unit the write scenario adds its divisions to.
    #[arg(long, default_value = "GL-SKHCN")]
    write_parent: String,
    /// Print one JSON object on stdout (the table then goes to stderr).
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // On Ctrl-C the run is dropped, which kills a spawned server.
    let result = tokio::select! {
        r = run(args) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("haidang-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The benchmark loads servers on this machine only.
fn check_loopback(url: &str) -> anyhow::Result<Url> {
    let parsed = Url::parse(url).with_context(|| format!("--url {url:?} is not a URL"))?;
    let host = parsed.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    let local = host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if parsed.scheme() != "http" || !local {
        bail!(
            "--url must be http:// on this machine (127.0.0.1, [::1] or localhost); the benchmark loads no other host"
        );
    }
    Ok(parsed)
}

struct Target {
    url: String,
    token: String,
    pid: Option<u32>,
    spawned: Option<spawn::Spawned>,
}

async fn run(args: Args) -> anyhow::Result<()> {
    if args.clients == 0 || args.duration == 0 || args.write_clients == 0 || args.write_duration == 0 {
        bail!("--clients, --duration, --write-clients and --write-duration must be at least 1");
    }
    let target = match &args.url {
        Some(url) => {
            let url = check_loopback(url)?.as_str().trim_end_matches('/').to_owned();
            Target { url, token: args.token.clone().context("--url needs --token")?, pid: args.pid, spawned: None }
        }
        None => {
            let bin = match &args.bin {
                Some(b) => b.clone(),
                None => spawn::default_binary().context(
                    "no `haidang` beside this program: build it with `cargo build --release -p haidang`, or pass --bin",
                )?,
            };
            eprintln!("starting {} demo …", bin.display());
            let s = spawn::Spawned::start(&bin, &args.password).await?;
            eprintln!("server ready at {} (pid {}) after {} ms", s.url, s.pid, s.ready_after.as_millis());
            Target { url: s.url.clone(), token: s.token.clone(), pid: Some(s.pid), spawned: Some(s) }
        }
    };
    let mut target = target;
    let report = measure(&args, &target).await;
    let shutdown = match target.spawned.as_mut() {
        Some(s) => {
            let (status, took) = s.stop(Duration::from_secs(30)).await?;
            if !status.success() {
                eprintln!("the server exited with {status}:\n{}", s.log_tail(20));
            }
            Some(json!({ "exit_ok": status.success(), "ms": took.as_millis() as u64 }))
        }
        None => None,
    };
    let mut report = report?;
    report.json["server"]["graceful_shutdown"] = shutdown.unwrap_or(Value::Null);
    if let Some(s) = &report.json["server"]["graceful_shutdown"]["ms"].as_u64() {
        let _ = writeln!(report.table, "graceful shutdown (SIGTERM to exit): {s} ms");
    }
    if args.json {
        eprint!("{}", report.table);
        println!("{}", report.json);
    } else {
        print!("{}", report.table);
    }
    Ok(())
}

struct Report {
    table: String,
    json: Value,
}

fn admin_client() -> anyhow::Result<Client> {
    Ok(Client::builder().timeout(Duration::from_secs(30)).build()?)
}

fn load_client(cookies: bool) -> anyhow::Result<Client> {
    Ok(Client::builder()
        .cookie_store(cookies)
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(1)
        .build()?)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn measure(args: &Args, target: &Target) -> anyhow::Result<Report> {
    let admin = admin_client()?;
    let url = target.url.clone();
    let ready = admin.get(format!("{url}/readyz")).send().await.with_context(|| format!("reaching {url}"))?;
    if !ready.status().is_success() {
        bail!("{url}/readyz answered {}", ready.status());
    }
    let tree: Value = {
        let res = admin.get(format!("{url}/api/org-units/tree")).bearer_auth(&target.token).send().await?;
        if !res.status().is_success() {
            bail!(
                "GET /api/org-units/tree with the token answered {}: {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        res.json().await?
    };
    let units = tree.as_array().context("the tree is not a list")?;
    let root = units.iter().find(|u| u["parent_id"].is_null()).and_then(|u| u["id"].as_i64()).context("no province")?;
    let ids: Arc<Vec<i64>> = Arc::new(units.iter().filter_map(|u| u["id"].as_i64()).collect());
    let write_parent = units.iter().find(|u| u["code"] == args.write_parent.as_str()).and_then(|u| u["id"].as_i64());

    // Idle: after start-up settled.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = target.pid.and_then(procfs::memory);

    // Logins.
    let (clients, login) = login_all(args, &url, target.pid).await?;
    let after_login = target.pid.and_then(procfs::memory);

    let warmup = Duration::from_secs(args.warmup);
    let duration = Duration::from_secs(args.duration);
    let mut outcomes: Vec<(Outcome, &str)> = Vec::new();

    eprintln!(
        "reads with sessions: {} clients, {} s warm-up, {} s measured …",
        clients.len(),
        args.warmup,
        args.duration
    );
    let page_url = Arc::new(format!("{url}/api/org-units?parent={root}&limit=50"));
    let make: MakeRequest = Arc::new(move |c: &Client, _, _| c.get(page_url.as_str()));
    let o = load::run("read: org page, session", clients, make, StatusCode::OK, warmup, duration, target.pid).await;
    outcomes.push((o, "GET /api/org-units?parent=<province>&limit=50 as operator (cookie session)"));

    eprintln!("reads with the token: {} clients …", args.clients);
    let clients: Vec<Client> = (0..args.clients).map(|_| load_client(false)).collect::<anyhow::Result<_>>()?;
    let (base, token, unit_ids) = (Arc::new(url.clone()), Arc::new(target.token.clone()), ids.clone());
    let make: MakeRequest = Arc::new(move |c: &Client, i, n| {
        // Each client walks the units from its own starting point.
        let id = unit_ids[(i * 7919 + n as usize) % unit_ids.len()];
        c.get(format!("{base}/api/org-units/{id}")).bearer_auth(token.as_str())
    });
    let o = load::run("read: unit by id, token", clients, make, StatusCode::OK, warmup, duration, target.pid).await;
    outcomes.push((o, "GET /api/org-units/{id} with the bearer token, over every unit"));
    let after_reads = target.pid.and_then(procfs::memory);

    if !args.no_writes {
        let parent = write_parent
            .with_context(|| format!("no unit with code {:?} for the writes (--write-parent)", args.write_parent))?;
        eprintln!("durable writes: {} clients, 2 s warm-up, {} s measured …", args.write_clients, args.write_duration);
        let run_id = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
            % 1_000_000_000;
        let clients: Vec<Client> =
            (0..args.write_clients).map(|_| load_client(false)).collect::<anyhow::Result<_>>()?;
        let (base, token) = (Arc::new(url.clone()), Arc::new(target.token.clone()));
        let make: MakeRequest = Arc::new(move |c: &Client, i, n| {
            let code = format!("BENCH-{run_id}-{i}-{n}");
            let body = json!({ "code": code, "name": format!("Phòng đo tải {code}"), "type": "division", "parent_id": parent });
            c.post(format!("{base}/api/org-units")).bearer_auth(token.as_str()).json(&body)
        });
        let o = load::run(
            "write: create unit, token",
            clients,
            make,
            StatusCode::CREATED,
            Duration::from_secs(2),
            Duration::from_secs(args.write_duration),
            target.pid,
        )
        .await;
        outcomes.push((o, "POST /api/org-units (201 after the commit with synchronous=FULL)"));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = target.pid.and_then(procfs::memory);
    Ok(render(args, target, &login, &outcomes, [idle, after_login, after_reads, settled]))
}

struct Login {
    clients: usize,
    took: Duration,
    latency: Histogram<u64>,
    server_cpu: Option<Duration>,
}

/// Logs every client in as `--user`, `--login-concurrency` at a time.
async fn login_all(args: &Args, url: &str, pid: Option<u32>) -> anyhow::Result<(Vec<Client>, Login)> {
    eprintln!("logging in {} clients as {:?}, {} at a time …", args.clients, args.user, args.login_concurrency);
    let gate = Arc::new(Semaphore::new(args.login_concurrency.max(1)));
    let cpu0 = pid.and_then(|p| procfs::cpu_time(Some(p)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (gate, url) = (gate.clone(), url.to_owned());
        let body = json!({ "username": args.user, "password": args.password });
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let client = load_client(true)?;
            let t0 = Instant::now();
            let res = client.post(format!("{url}/api/auth/login")).json(&body).send().await?;
            let took = t0.elapsed();
            let status = res.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                bail!(
                    "the server refused a login as too many (429): it limits logins per minute and address. \
                     Start it with HAIDANG_SECURITY__LOGIN_ATTEMPTS_PER_MINUTE=1000, or use --spawn or fewer --clients"
                );
            }
            if status != StatusCode::OK {
                bail!("login answered {status}: {}", res.text().await.unwrap_or_default());
            }
            res.bytes().await?;
            anyhow::Ok((client, took))
        }));
    }
    let mut latency = load::histogram();
    let mut clients = Vec::with_capacity(args.clients);
    for task in tasks {
        let (client, took) =
            tokio::time::timeout(Duration::from_secs(300), task).await.context("logins took over 5 minutes")???;
        load::record(&mut latency, took);
        clients.push(client);
    }
    let took = started.elapsed();
    let cpu1 = pid.and_then(|p| procfs::cpu_time(Some(p)));
    let server_cpu = cpu0.zip(cpu1).map(|(a, b)| b.saturating_sub(a));
    let n = clients.len();
    Ok((clients, Login { clients: n, took, latency, server_cpu }))
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn percentiles(h: &Histogram<u64>) -> Value {
    json!({
        "p50_ms": ms(h.value_at_quantile(0.50)),
        "p90_ms": ms(h.value_at_quantile(0.90)),
        "p99_ms": ms(h.value_at_quantile(0.99)),
        "max_ms": ms(h.max()),
        "mean_ms": h.mean() / 1000.0,
    })
}

fn fmt_pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.0} %")).unwrap_or_else(|| "n/a".into())
}

fn fmt_mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", mib(k))).unwrap_or_else(|| "n/a".into())
}

fn render(
    args: &Args,
    target: &Target,
    login: &Login,
    outcomes: &[(Outcome, &str)],
    memory: [Option<procfs::Memory>; 4],
) -> Report {
    let cores = procfs::cores();
    let mut t = String::new();
    let origin = match &target.spawned {
        Some(s) => format!("spawned `haidang demo`, pid {}, ready {} ms after start", s.pid, s.ready_after.as_millis()),
        None => match target.pid {
            Some(p) => format!("running server, pid {p}"),
            None => "running server, pid unknown (no memory or CPU figures)".into(),
        },
    };
    let _ =
        writeln!(t, "Hải Đăng benchmark: {} ({origin}); {cores} cores shared by server and load generator", target.url);
    let _ = writeln!(
        t,
        "{:<28} {:>7} {:>8} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "scenario",
        "clients",
        "ok",
        "errors",
        "per s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "srv CPU",
        "gen CPU",
        "peak RSS"
    );
    let row = |t: &mut String,
               name: &str,
               clients: usize,
               ok: u64,
               errors: u64,
               rate: f64,
               h: &Histogram<u64>,
               srv: Option<f64>,
               generator: Option<f64>,
               rss: Option<u64>| {
        let _ = writeln!(
            t,
            "{:<28} {:>7} {:>8} {:>6} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>8} {:>10}",
            name,
            clients,
            ok,
            errors,
            rate,
            ms(h.value_at_quantile(0.50)),
            ms(h.value_at_quantile(0.90)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max()),
            fmt_pct(srv),
            fmt_pct(generator),
            fmt_mib(rss),
        );
    };
    let login_rate = login.clients as f64 / login.took.as_secs_f64();
    let login_cpu = Outcome::cpu_percent(login.server_cpu, login.took);
    let login_name = format!("login ({} at a time)", args.login_concurrency);
    row(
        &mut t,
        &login_name,
        login.clients,
        login.clients as u64,
        0,
        login_rate,
        &login.latency,
        login_cpu,
        None,
        memory[1].map(|m| m.hwm_kib),
    );
    let mut scenarios = vec![json!({
        "name": "login",
        "request": "POST /api/auth/login (argon2id)",
        "clients": login.clients,
        "concurrency": args.login_concurrency,
        "ok": login.clients,
        "errors": 0,
        "per_second": login_rate,
        "seconds": login.took.as_secs_f64(),
        "latency": percentiles(&login.latency),
        "server_cpu_percent": login_cpu,
    })];
    for (o, request) in outcomes {
        let (srv, generator) =
            (Outcome::cpu_percent(o.server_cpu, o.measured), Outcome::cpu_percent(o.bench_cpu, o.measured));
        row(&mut t, &o.name, o.clients, o.ok, o.errors, o.per_second(), &o.latency, srv, generator, o.rss_peak_kib);
        scenarios.push(json!({
            "name": o.name,
            "request": request,
            "clients": o.clients,
            "ok": o.ok,
            "errors": o.errors,
            "error_kinds": o.error_kinds,
            "per_second": o.per_second(),
            "seconds": o.measured.as_secs_f64(),
            "latency": percentiles(&o.latency),
            "server_cpu_percent": srv,
            "generator_cpu_percent": generator,
            "server_rss_peak_kib": o.rss_peak_kib,
        }));
    }
    for (o, _) in outcomes {
        if !o.error_kinds.is_empty() {
            let _ = writeln!(t, "  errors in {:?}: {:?}", o.name, o.error_kinds);
        }
    }
    let [idle, after_login, after_reads, settled] = memory;
    let rss = |m: Option<procfs::Memory>| m.map(|m| m.rss_kib);
    let _ = writeln!(
        t,
        "server memory (VmRSS): idle {} · after {} logins {} · after the reads {} · 2 s after the run {} · high-water mark (VmHWM) {}",
        fmt_mib(rss(idle)),
        login.clients,
        fmt_mib(rss(after_login)),
        fmt_mib(rss(after_reads)),
        fmt_mib(rss(settled)),
        fmt_mib(settled.map(|m| m.hwm_kib)),
    );
    let _ = writeln!(t, "srv CPU / gen CPU: server / load generator CPU over the measured time, 100 % = one core");
    let json = json!({
        "url": target.url,
        "server": {
            "spawned": target.spawned.is_some(),
            "pid": target.pid,
            "ready_ms": target.spawned.as_ref().map(|s| s.ready_after.as_millis() as u64),
        },
        "machine": { "cores": cores },
        "settings": {
            "clients": args.clients,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "write_clients": args.write_clients,
            "write_duration_s": args.write_duration,
            "user": args.user,
        },
        "scenarios": scenarios,
        "memory_kib": {
            "idle_rss": rss(idle),
            "after_login_rss": rss(after_login),
            "after_reads_rss": rss(after_reads),
            "settled_rss": rss(settled),
            "hwm": settled.map(|m| m.hwm_kib),
        },
    });
    Report { table: t, json }
}
