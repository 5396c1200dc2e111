//! Durability through the real binary: every write the server acknowledged (201) must still be
//! there after the server is killed with SIGKILL in the middle of a burst of concurrent writes
//! and started again on the same data directory, and the audit hash chain must still verify.
//!
//! The kill comes 300–800 ms into each burst (a random delay, printed; set
//! `DURABILITY_KILL_MS` to repeat a given one). Several rounds run on the same data directory,
//! so later rounds also kill a store that was itself recovered from a kill.

mod common;

use common::Server;
use reqwest::StatusCode;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "durability-test-token-0001";
const ROUNDS: usize = 3;
const WRITERS: usize = 8;

fn kill_delay() -> Duration {
    if let Some(ms) = std::env::var("DURABILITY_KILL_MS").ok().and_then(|v| v.parse().ok()) {
        return Duration::from_millis(ms);
    }
    let random = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    Duration::from_millis(300 + random % 501)
}

/// What the writers saw in one burst.
#[derive(Default)]
struct Burst {
    /// Codes the server answered 201 for.
    acknowledged: Vec<String>,
    /// Answers other than 201, and transport errors before the kill: none are expected.
    unexpected: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let mut acknowledged: Vec<String> = Vec::new();

    for round in 0..ROUNDS {
        let mut server = Server::start(&data, &log, TOKEN).await;
        check_all_present(&server, &acknowledged, round).await;
        let parent = server.division_parent().await;

        let burst = Arc::new(Mutex::new(Burst::default()));
        let killed = Arc::new(AtomicBool::new(false));
        let server_ref = Arc::new(ServerHandle { url: server.url.clone(), token: server.token.clone() });
        let started = Instant::now();
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (burst, killed, target) = (burst.clone(), killed.clone(), server_ref.clone());
            writers
                .push(tokio::spawn(async move { write_until_error(round, w, parent, &target, &burst, &killed).await }));
        }

        // Kill while writes are in flight, but only after at least one was acknowledged, so that
        // the round checks something even on a slow machine.
        let delay = kill_delay();
        tokio::time::sleep(delay).await;
        let first_ack_deadline = Instant::now() + Duration::from_secs(20);
        while burst.lock().unwrap().acknowledged.is_empty() {
            assert!(
                Instant::now() < first_ack_deadline,
                "no write was acknowledged within 20 s:\n{}",
                server.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        killed.store(true, Ordering::SeqCst);
        let killed_at = started.elapsed();
        server.kill();

        for writer in writers {
            tokio::time::timeout(Duration::from_secs(30), writer)
                .await
                .expect("a writer did not stop within 30 s of the kill")
                .expect("writer task");
        }
        let burst = std::mem::take(&mut *burst.lock().unwrap());
        assert!(burst.unexpected.is_empty(), "unexpected answers before the kill: {:#?}", burst.unexpected);
        println!(
            "round {round}: SIGKILL {} ms into the burst (delay {} ms); {} writes acknowledged before the kill",
            killed_at.as_millis(),
            delay.as_millis(),
            burst.acknowledged.len()
        );
        acknowledged.extend(burst.acknowledged);
    }

    // The last round's writes, after one more restart; then a clean stop.
    let mut server = Server::start(&data, &log, TOKEN).await;
    check_all_present(&server, &acknowledged, ROUNDS).await;
    let chain = server.assert_audit_chain_ok().await;
    println!("audit chain verifies after {ROUNDS} kills: {chain}");
    let status = server.stop().await;
    assert!(status.success(), "haidang exited with {status} after SIGTERM:\n{}", server.log_tail(40));
    println!("{} acknowledged writes in {ROUNDS} rounds, none lost", acknowledged.len());
}

struct ServerHandle {
    url: String,
    token: String,
}

/// Creates divisions with unique codes one after another until the connection fails (the kill).
async fn write_until_error(
    round: usize,
    writer: usize,
    parent: i64,
    target: &ServerHandle,
    burst: &Mutex<Burst>,
    killed: &AtomicBool,
) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build().expect("http client");
    for n in 0.. {
        let code = format!("DUR-{round}-{writer}-{n}");
        let body = serde_json::json!({ "code": code, "name": format!("Phòng thử độ bền {code}"), "type": "division", "parent_id": parent });
        let sent =
            http.post(format!("{}/api/org-units", target.url)).bearer_auth(&target.token).json(&body).send().await;
        // Read the whole answer: a write counts as acknowledged only when its 201 and its body
        // arrived, as a client would see it.
        let answer = match sent {
            Ok(res) => {
                let status = res.status();
                res.text().await.map(|text| (status, text))
            }
            Err(e) => Err(e),
        };
        match answer {
            Ok((StatusCode::CREATED, text)) => {
                let unit: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let mut burst = burst.lock().unwrap();
                if unit["code"] != code.as_str() {
                    burst.unexpected.push(format!("{code}: 201 with another unit: {text}"));
                }
                burst.acknowledged.push(code);
            }
            Ok((status, text)) => {
                burst.lock().unwrap().unexpected.push(format!("{code}: {status}: {text}"));
                return;
            }
            Err(e) => {
                if !killed.load(Ordering::SeqCst) {
                    burst.lock().unwrap().unexpected.push(format!("{code}: request failed before the kill: {e}"));
                }
                return;
            }
        }
    }
}

/// Every acknowledged code is in the tree; at most one unacknowledged write per writer and
/// round (the one in flight at the kill) may have been committed too.
async fn check_all_present(server: &Server, acknowledged: &[String], rounds_done: usize) {
    let codes = server.unit_codes().await;
    let lost: Vec<&String> = acknowledged.iter().filter(|c| !codes.contains(*c)).collect();
    assert!(
        lost.is_empty(),
        "LOST ACKNOWLEDGED WRITES: {} of {} acknowledged units are missing after SIGKILL and restart: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    let stored = codes.iter().filter(|c| c.starts_with("DUR-")).count();
    let extra = stored - acknowledged.len();
    assert!(
        extra <= WRITERS * rounds_done,
        "{extra} units were stored without an acknowledgement; at most {WRITERS} per round can have been in flight"
    );
    if rounds_done > 0 {
        println!(
            "after {rounds_done} kill(s): all {} acknowledged units present ({extra} more were committed but their answer was cut by the kill)",
            acknowledged.len()
        );
    }
}

/// `haidang demo --demo-token T` started a second time on the same data directory serves with
/// the same token (the demo README's restart; it once failed on the unique token hash).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_restarts_with_the_same_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, log) = (dir.path().join("data"), dir.path().join("server.log"));
    let mut server = Server::start(&data, &log, TOKEN).await;
    assert!(server.stop().await.success());
    let mut server = Server::start(&data, &log, TOKEN).await;
    server.assert_audit_chain_ok().await;
    assert!(server.stop().await.success());
}
