//! `--spawn`: starts `haidang demo` in a temporary data directory on a free loopback port, and
//! stops it (SIGTERM) at the end. Dropping the handle kills the server, so an interrupted or
//! failed run leaves nothing behind.

use anyhow::{Context, bail};
use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use tokio::time::Instant;

pub struct Spawned {
    child: Option<Child>,
    pub url: String,
    pub token: String,
    pub pid: u32,
    /// From the start of the process to the first 200 from `/readyz` (includes loading the
    /// demo province into the new data directory).
    pub ready_after: Duration,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

/// The `haidang` binary beside this one (`target/release/haidang` for
/// `target/release/haidang-bench`).
pub fn default_binary() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let bin = me.parent()?.join("haidang");
    bin.is_file().then_some(bin)
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Spawned {
    pub async fn start(bin: &Path, password: &str) -> anyhow::Result<Spawned> {
        let dir =
            tempfile::Builder::new().prefix("haidang-bench-").tempdir().context("creating a temporary directory")?;
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");
        let token = format!("bench-{:016x}", RandomState::new().hash_one(std::process::id()));
        for _attempt in 0..5 {
            let port = free_port()?;
            let listen = format!("127.0.0.1:{port}");
            let out = File::options().create(true).append(true).open(&log).context("creating the server log")?;
            let err = out.try_clone()?;
            let mut cmd = Command::new(bin);
            // The server refuses unknown HAIDANG_* settings, and the caller's must not change
            // what is measured.
            for (key, _) in std::env::vars_os() {
                if key.to_string_lossy().starts_with("HAIDANG_") {
                    cmd.env_remove(key);
                }
            }
            let started = Instant::now();
            let mut child = cmd
                .args(["demo", "--data"])
                .arg(&data)
                .args(["--listen", &listen, "--demo-token", &token, "--demo-password", password])
                .args(["--mqtt-listen", "127.0.0.1:0", "--no-simulation"])
                // Every benchmark client logs in from 127.0.0.1 as the same account.
                .env("HAIDANG_SECURITY__LOGIN_ATTEMPTS_PER_MINUTE", "1000")
                .env("NO_COLOR", "1")
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?;
            let url = format!("http://{listen}");
            match wait_ready(&mut child, &url, Duration::from_secs(120)).await {
                Ok(()) => {
                    return Ok(Spawned {
                        pid: child.id(),
                        child: Some(child),
                        url,
                        token,
                        ready_after: started.elapsed(),
                        log,
                        _dir: dir,
                    });
                }
                Err(exited) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let tail = tail(&log, 30);
                    if exited && tail.contains("cannot listen") {
                        continue; // the port was taken between our probe and the server's bind
                    }
                    bail!("haidang demo did not become ready:\n{tail}");
                }
            }
        }
        bail!("no free port for haidang demo after 5 attempts")
    }

    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// SIGTERM, then waits up to `within` for the graceful shutdown; SIGKILL after that.
    pub async fn stop(&mut self, within: Duration) -> anyhow::Result<(ExitStatus, Duration)> {
        let Some(mut child) = self.child.take() else { bail!("the server is not running") };
        let started = Instant::now();
        let pid = libc::pid_t::try_from(child.id())?;
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child's.
        if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
            let _ = child.kill();
        }
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok((status, started.elapsed()));
            }
            if started.elapsed() > within {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not stop within {within:?} of SIGTERM; killed it");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Polls `/readyz`: `Err(true)` when the process exited first, `Err(false)` on the deadline.
async fn wait_ready(child: &mut Child, url: &str, within: Duration) -> Result<(), bool> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().map_err(|_| false)?;
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return Err(true);
        }
        let ready = http.get(format!("{url}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(false)
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
