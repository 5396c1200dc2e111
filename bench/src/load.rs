//! Closed-loop load: each client sends its next request when the previous answer has arrived,
//! for a warm-up that is not counted, then for the measured time. Latencies go into HDR
//! histograms (microseconds, 3 significant digits), one per client, merged at the end.

use crate::procfs;
use hdrhistogram::Histogram;
use reqwest::{Client, RequestBuilder, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Builds client `client`'s `n`-th request.
pub type MakeRequest = Arc<dyn Fn(&Client, usize, u64) -> RequestBuilder + Send + Sync>;

/// The longest latency a histogram holds: a minute, well past any request timeout.
const MAX_MICROS: u64 = 60_000_000;

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("histogram bounds are valid")
}

pub fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record(u64::try_from(d.as_micros()).unwrap_or(u64::MAX).clamp(1, MAX_MICROS));
}

/// What one scenario measured.
pub struct Outcome {
    pub name: String,
    pub clients: usize,
    /// Latencies of the answers that had the expected status, in microseconds.
    pub latency: Histogram<u64>,
    pub ok: u64,
    pub errors: u64,
    /// Errors by kind (`HTTP 500`, `timeout`, `connect`, …).
    pub error_kinds: BTreeMap<String, u64>,
    pub measured: Duration,
    /// Server CPU time over the measured time (when its pid is known).
    pub server_cpu: Option<Duration>,
    /// The benchmark's own CPU time over the measured time: it shares the machine's cores.
    pub bench_cpu: Option<Duration>,
    /// Largest server RSS sampled (every 100 ms) during the measured time, in KiB.
    pub rss_peak_kib: Option<u64>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.measured.as_secs_f64()
    }

    /// CPU use as a percentage of one core (200 % is both cores of a 2-core machine).
    pub fn cpu_percent(cpu: Option<Duration>, over: Duration) -> Option<f64> {
        cpu.map(|c| 100.0 * c.as_secs_f64() / over.as_secs_f64())
    }
}

/// Runs `clients.len()` clients for `warmup + duration`, counting what starts after the warm-up.
pub async fn run(
    name: &str,
    clients: Vec<Client>,
    make: MakeRequest,
    expect: StatusCode,
    warmup: Duration,
    duration: Duration,
    pid: Option<u32>,
) -> Outcome {
    let n_clients = clients.len();
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;

    let mut tasks = Vec::with_capacity(n_clients);
    for (index, client) in clients.into_iter().enumerate() {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut latency = histogram();
            let (mut ok, mut errors) = (0u64, 0u64);
            let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
            let mut n = 0u64;
            loop {
                let sent_at = Instant::now();
                if sent_at >= end {
                    break;
                }
                let answer = match make(&client, index, n).send().await {
                    Ok(res) => {
                        let status = res.status();
                        match res.bytes().await {
                            Ok(_) if status == expect => Ok(()),
                            Ok(_) => Err(format!("HTTP {}", status.as_u16())),
                            Err(e) => Err(error_kind(&e)),
                        }
                    }
                    Err(e) => Err(error_kind(&e)),
                };
                let took = sent_at.elapsed();
                n += 1;
                let counted = sent_at >= measure_from;
                match answer {
                    Ok(()) if counted => {
                        record(&mut latency, took);
                        ok += 1;
                    }
                    Ok(()) => {}
                    Err(kind) => {
                        if counted {
                            errors += 1;
                            *kinds.entry(kind).or_default() += 1;
                        }
                        // Do not spin on a server that refuses connections.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            (latency, ok, errors, kinds)
        }));
    }

    // Memory samples during the measured time.
    let sampler = pid.map(|pid| {
        tokio::spawn(async move {
            tokio::time::sleep_until(measure_from).await;
            let mut peak = 0u64;
            while Instant::now() < end {
                if let Some(m) = procfs::memory(pid) {
                    peak = peak.max(m.rss_kib);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    });

    tokio::time::sleep_until(measure_from).await;
    let (server_cpu0, bench_cpu0) = (pid.and_then(|p| procfs::cpu_time(Some(p))), procfs::cpu_time(None));
    tokio::time::sleep_until(end).await;
    let measured = measure_from.elapsed();
    let (server_cpu1, bench_cpu1) = (pid.and_then(|p| procfs::cpu_time(Some(p))), procfs::cpu_time(None));

    let mut outcome = Outcome {
        name: name.to_owned(),
        clients: n_clients,
        latency: histogram(),
        ok: 0,
        errors: 0,
        error_kinds: BTreeMap::new(),
        measured,
        server_cpu: server_cpu0.zip(server_cpu1).map(|(a, b)| b.saturating_sub(a)),
        bench_cpu: bench_cpu0.zip(bench_cpu1).map(|(a, b)| b.saturating_sub(a)),
        rss_peak_kib: None,
    };
    // Requests in flight at the end finish within the client timeout.
    let grace = end + Duration::from_secs(60);
    for task in tasks {
        match tokio::time::timeout_at(grace, task).await {
            Ok(Ok((latency, ok, errors, kinds))) => {
                outcome.latency.add(latency).expect("histograms have the same bounds");
                outcome.ok += ok;
                outcome.errors += errors;
                for (k, v) in kinds {
                    *outcome.error_kinds.entry(k).or_default() += v;
                }
            }
            Ok(Err(join)) => {
                outcome.errors += 1;
                *outcome.error_kinds.entry(format!("client task failed: {join}")).or_default() += 1;
            }
            Err(_) => {
                outcome.errors += 1;
                *outcome.error_kinds.entry("client did not finish".into()).or_default() += 1;
            }
        }
    }
    if let Some(sampler) = sampler {
        outcome.rss_peak_kib = sampler.await.ok().filter(|p| *p > 0);
    }
    outcome
}

pub fn error_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else if e.is_body() || e.is_decode() {
        "body".into()
    } else {
        "transport".into()
    }
}
