//! Helpers shared by the tests that drive the real `haidang` binary as a child process:
//! a free port, starting `haidang demo` and waiting until it is ready, stopping it with SIGTERM
//! or SIGKILL, running the other sub-commands with a time limit, and a guard that kills the
//! server when the test ends, whether it passed or panicked.
//!
//! Every wait has a deadline, so a hung server fails the test instead of hanging it.

#![allow(dead_code)] // each test binary uses a different part of this module

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The binary under test, built by Cargo for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_haidang");
pub const PASSWORD: &str = "demo-Password-2025";
/// The demo department the tests add their divisions to.
pub const DIVISION_PARENT: &str = "GL-SKHCN";

/// How long a first start (demo province import, account hashing) may take.
const READY_WITHIN: Duration = Duration::from_secs(90);
/// How long a graceful stop may take.
const STOP_WITHIN: Duration = Duration::from_secs(30);
/// Every HTTP request of the tests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A port that was free a moment ago on 127.0.0.1 (another program may take it before the
/// server binds it: [`Server::start`] retries on another port when that happens).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A command running the binary, with no `HAIDANG_*` setting inherited from the caller's
/// environment (the configuration refuses unknown `HAIDANG_*` keys, and the test must not
/// depend on the developer's settings).
pub fn haidang() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HAIDANG_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1").env_remove("RUST_LOG").stdin(Stdio::null());
    cmd
}

/// What a finished sub-command printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a sub-command (`backup`, `restore`, …) to its end, killing it after `limit`.
pub async fn run(args: &[&str], limit: Duration) -> Finished {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = haidang()
        .args(args)
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("starting haidang");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for haidang") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`haidang {}` did not finish within {limit:?}", args.join(" "));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Finished {
        status,
        stdout: std::fs::read_to_string(out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(err_path).unwrap_or_default(),
    }
}

/// Sends `signal` to a process.
pub fn signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child's.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal}) failed: {}", std::io::Error::last_os_error());
}

/// A running `haidang demo`. Dropping it kills the process (SIGKILL) and reaps it, so a failing
/// test leaves no server behind; when the test is failing it also prints the server's log tail.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub data: PathBuf,
    pub token: String,
    pub http: Client,
    log: PathBuf,
}

impl Server {
    /// Starts `haidang demo` on `data` with `--demo-token token`, appending its output to
    /// `log`, and waits until `/readyz` answers 200.
    pub async fn start(data: &Path, log: &Path, token: &str) -> Server {
        let http = Client::builder().timeout(REQUEST_TIMEOUT).build().expect("http client");
        for _attempt in 0..5 {
            let port = free_port();
            let listen = format!("127.0.0.1:{port}");
            let out = File::options().create(true).append(true).open(log).expect("log file");
            let err = out.try_clone().expect("log file");
            let child = haidang()
                .args(["demo", "--data"])
                .arg(data)
                .args(["--listen", &listen, "--demo-token", token, "--mqtt-listen", "127.0.0.1:0", "--no-simulation"])
                .stdout(out)
                .stderr(err)
                .spawn()
                .expect("starting haidang demo");
            let mut server = Server {
                child: Some(child),
                url: format!("http://{listen}"),
                data: data.to_owned(),
                token: token.to_owned(),
                http: http.clone(),
                log: log.to_owned(),
            };
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(log_tail) if log_tail.contains("cannot listen") => continue, // the port was taken meanwhile
                Err(log_tail) => panic!("haidang demo exited before it was ready:\n{log_tail}"),
            }
        }
        panic!("haidang demo found no free port in 5 attempts");
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// Waits for `/readyz`; `Err(log tail)` when the process exited first.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let child = self.child.as_mut().expect("server running");
            if child.try_wait().expect("waiting for haidang").is_some() {
                self.child = None;
                return Err(self.log_tail(60));
            }
            let ready = self.http.get(format!("{}/readyz", self.url)).timeout(Duration::from_secs(2)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return Ok(());
            }
            assert!(
                Instant::now() < deadline,
                "haidang demo was not ready within {READY_WITHIN:?}:\n{}",
                self.log_tail(60)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: the process dies at once, without draining or closing the store.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaping haidang");
        }
    }

    /// SIGTERM, then waits for the graceful shutdown (drain, close the store) to end.
    pub async fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server running");
        signal(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + STOP_WITHIN;
        loop {
            if let Some(status) = child.try_wait().expect("waiting for haidang") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("haidang did not stop within {STOP_WITHIN:?} of SIGTERM:\n{}", self.log_tail(60));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The port of the embedded MQTT broker, from the demo's printed `MQTT:` line (the tests
    /// start it on port 0; the last start's line is the current one).
    pub fn mqtt_port(&self) -> u16 {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let line =
            text.lines().rev().find(|l| l.trim_start().starts_with("MQTT:")).expect("the demo prints its MQTT address");
        let addr = line.split("mqtt://").nth(1).and_then(|r| r.split_whitespace().next()).expect("mqtt:// address");
        addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port")
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn bearer(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.bearer_auth(&self.token)
    }

    /// GET with the bearer token; panics unless the answer is 200 with JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.bearer(self.http.get(format!("{}{path}", self.url))).send().await.expect("GET");
        let status = res.status();
        let body = res.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
    }

    /// The province: the unit without a parent.
    pub async fn root_id(&self) -> i64 {
        let tree = self.get_json("/api/org-units/tree").await;
        let root = &tree.as_array().expect("tree is an array")[0];
        assert!(root["parent_id"].is_null(), "the tree's first unit is the province: {root}");
        root["id"].as_i64().expect("root id")
    }

    /// The id of the unit with `code`, from the tree.
    pub async fn unit_id(&self, code: &str) -> i64 {
        let tree = self.get_json("/api/org-units/tree").await;
        let unit = tree.as_array().expect("tree is an array").iter().find(|u| u["code"] == code);
        unit.and_then(|u| u["id"].as_i64()).unwrap_or_else(|| panic!("no unit with code {code}"))
    }

    /// Where the tests add divisions: a division may not sit right under the province, so under
    /// a department of the demo province (Sở Khoa học và Công nghệ).
    pub async fn division_parent(&self) -> i64 {
        self.unit_id(DIVISION_PARENT).await
    }

    /// The codes of every unit, from one `GET /api/org-units/tree`.
    pub async fn unit_codes(&self) -> HashSet<String> {
        let tree = self.get_json("/api/org-units/tree").await;
        tree.as_array()
            .expect("tree is an array")
            .iter()
            .map(|u| u["code"].as_str().expect("unit code").to_owned())
            .collect()
    }

    /// `POST /api/org-units` for a division under `parent`.
    pub fn create_division(&self, parent: i64, code: &str) -> reqwest::RequestBuilder {
        let body = json!({ "code": code, "name": format!("Phòng thử nghiệm {code}"), "type": "division", "parent_id": parent });
        self.bearer(self.http.post(format!("{}/api/org-units", self.url))).json(&body)
    }

    /// Creates a division and panics unless the server acknowledged it with 201.
    pub async fn create_division_ok(&self, parent: i64, code: &str) -> Value {
        let res = self.create_division(parent, code).send().await.expect("POST /api/org-units");
        let status = res.status();
        let body = res.text().await.expect("body");
        assert_eq!(status, StatusCode::CREATED, "creating {code}: {body}");
        serde_json::from_str(&body).expect("unit JSON")
    }

    /// Asserts that the audit hash chain verifies.
    pub async fn assert_audit_chain_ok(&self) -> Value {
        let check = self.get_json("/api/audit/verify").await;
        assert_eq!(check["ok"], json!(true), "the audit chain does not verify: {check}");
        check
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            if std::thread::panicking() {
                eprintln!("--- last lines of the server log ({}) ---\n{}", self.log.display(), self.log_tail(40));
            }
        }
    }
}
