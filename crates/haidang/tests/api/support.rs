//! One demo province loaded once per test binary, served in-process by several servers with
//! different settings (demo mode, production mode, tight login limits) over the same store.

use haidang::demo;
use haidang_api::{ApiConfig, AppState};
use haidang_auth::PasswordHasher;
use haidang_core::SystemClock;
use haidang_store::Store;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

pub const PASSWORD: &str = "demo-Password-2025";
pub const TOKEN: &str = "test-token-full-rights";
pub const OPEN311_KEY: &str = "test-open311-key";

pub struct Servers {
    /// Demo mode, generous login limits.
    pub demo: String,
    /// Production mode: roles that need two-factor login must set it up first.
    pub production: String,
    /// Demo mode with a tight login rate limit and lock-out.
    pub strict: String,
    pub store: Store,
    _dir: tempfile::TempDir,
}

static SERVERS: OnceLock<Servers> = OnceLock::new();

/// Starts the servers on first use, on a runtime of their own that outlives each test's.
pub fn servers() -> &'static Servers {
    SERVERS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
            rt.block_on(async move {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = Store::open(dir.path(), Arc::new(SystemClock)).await.expect("store");
                let hasher = PasswordHasher::with_params(1024, 1);
                demo::load(&store, &hasher, PASSWORD, Some(TOKEN)).await.expect("demo");
                haidang::demo_reports::load(&store, OPEN311_KEY).await.expect("demo report set-up");
                let relaxed = ApiConfig {
                    demo: true,
                    login_attempts_per_minute: 1000,
                    lockout_failures: 1000,
                    tile_url: None,
                    reports: haidang_api::reports::ReportsConfig {
                        dispatch_unit: Some(haidang::demo_reports::DISPATCH_UNIT.into()),
                        public_submissions_per_hour: 1000,
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let production = ApiConfig { demo: false, ..relaxed.clone() };
                let strict =
                    ApiConfig { demo: true, login_attempts_per_minute: 3, lockout_failures: 3, ..relaxed.clone() };
                let mut urls = Vec::new();
                for config in [relaxed, production, strict] {
                    let state = AppState::new(store.clone(), config, hasher.clone()).await.expect("state");
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                    urls.push(format!("http://{}", listener.local_addr().expect("addr")));
                    tokio::spawn(haidang_api::serve(listener, state, std::future::pending()));
                }
                let _ = tx.send(Servers {
                    strict: urls.pop().unwrap(),
                    production: urls.pop().unwrap(),
                    demo: urls.pop().unwrap(),
                    store: store.clone(),
                    _dir: dir,
                });
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("servers started")
    })
}

/// A logged-in browser-like client: cookies kept, CSRF header sent on changes.
pub struct Session {
    pub client: Client,
    pub base: String,
    pub csrf: String,
    pub me: Value,
}

pub async fn login_at(base: &str, username: &str) -> Session {
    let client = Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "login {username}");
    let csrf = res.cookies().find(|c| c.name() == "hd_csrf").map(|c| c.value().to_owned()).expect("csrf cookie");
    let me: Value = res.json().await.unwrap();
    Session { client, base: base.to_owned(), csrf, me }
}

pub async fn login(username: &str) -> Session {
    login_at(&servers().demo, username).await
}

impl Session {
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, format!("{}{path}", self.base)).header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
}

/// A machine client with a bearer token.
pub fn bearer(token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    Client::builder().default_headers(headers).build().unwrap()
}

/// Asserts an RFC 9457 problem with the given status and type slug; returns it.
pub async fn problem(res: Response, status: u16, slug: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status of {}", res.url());
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(ct.starts_with("application/problem+json"), "content type {ct}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], format!("https://haidang.vn/problems/{slug}"), "{body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string());
    assert!(body["instance"].is_string(), "{body}");
    body
}

pub async fn unit_id(code: &str) -> i64 {
    servers().store.org_unit_by_code(code).await.unwrap().id.0
}
