//! A local HTTP receiver of NGSI-LD notifications for the tests: it records every request it
//! gets (headers and JSON body) and answers with a status the test sets (200 by default; 503
//! plays a receiver that is down). Every wait has a deadline.

#![allow(dead_code)] // the restart test uses part of it

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Value,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Inner {
    got: Mutex<Vec<Received>>,
    answer: AtomicU16,
    attempts: AtomicUsize,
    attempt_times: Mutex<Vec<Instant>>,
    arrived: Notify,
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

async fn notified(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    inner.attempts.fetch_add(1, Ordering::SeqCst);
    inner.attempt_times.lock().unwrap().push(Instant::now());
    let status = StatusCode::from_u16(inner.answer.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK);
    if status.is_success() {
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        inner.got.lock().unwrap().push(Received { headers, body, at: Instant::now() });
    }
    inner.arrived.notify_waiters();
    status
}

impl Receiver {
    /// A receiver on a free port of 127.0.0.1, answering 200.
    pub async fn start() -> Receiver {
        Self::serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind")).await
    }

    /// A receiver on `addr` (a port the test kept free so far), answering 200.
    pub async fn start_at(addr: SocketAddr) -> Receiver {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => return Self::serve(l).await,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("binding {addr}: {e}; trying again");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot bind the receiver at {addr}: {e}"),
            }
        }
    }

    async fn serve(listener: tokio::net::TcpListener) -> Receiver {
        let addr = listener.local_addr().expect("addr");
        let inner = Arc::new(Inner { answer: AtomicU16::new(200), ..Inner::default() });
        let app = axum::Router::new().route("/notify", axum::routing::post(notified)).with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, url: format!("http://{addr}/notify"), inner, task }
    }

    /// Answers every request with `status` from now on (200: healthy).
    pub fn answer(&self, status: u16) {
        self.inner.answer.store(status, Ordering::SeqCst);
    }

    /// Requests received, accepted or not.
    pub fn attempts(&self) -> usize {
        self.inner.attempts.load(Ordering::SeqCst)
    }

    /// When each request arrived.
    pub fn attempt_times(&self) -> Vec<Instant> {
        self.inner.attempt_times.lock().unwrap().clone()
    }

    /// Notifications accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.got.lock().unwrap().clone()
    }

    /// Waits until `check` holds of the notifications accepted so far; panics after `within`.
    pub async fn wait_until(&self, within: Duration, what: &str, check: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let wait = self.inner.arrived.notified();
            let got = self.received();
            if check(&got) {
                return got;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{what}: not within {within:?}; received {} notification(s): {got:#?}", got.len());
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), wait).await;
        }
    }

    /// Waits for at least `n` notifications.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        self.wait_until(within, &format!("{n} notification(s)"), |got| got.len() >= n).await
    }

    /// Waits for `attempts` requests (accepted or refused).
    pub async fn wait_for_attempts(&self, attempts: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.attempts() < attempts {
            assert!(Instant::now() < deadline, "{attempts} attempts: only {} within {within:?}", self.attempts());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every entity of every notification accepted so far, in order of arrival.
    pub fn entities(&self) -> Vec<Value> {
        self.received().iter().flat_map(|r| r.body["data"].as_array().cloned().unwrap_or_default()).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
