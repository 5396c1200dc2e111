//! What every request handler shares.

use crate::live::Live;
use crate::metrics::Metrics;
use crate::places::Places;
use crate::reports::{Reports, ReportsConfig};
use haidang_auth::{LoginLimiter, PasswordHasher};
use haidang_core::{Clock, OrgTree};
use haidang_store::{Store, StoreError};
use std::ops::Deref;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Settings of the HTTP layer; the binary fills them from its configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Demo mode: demo accounts skip the second factor and the forced password change.
    pub demo: bool,
    /// Mark cookies `Secure` (the server is reached over HTTPS).
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` from a reverse proxy for the client address.
    pub trust_proxy: bool,
    /// A session ends after this long without use.
    pub session_idle: chrono::Duration,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Failed logins in a row before the account is locked, and for how long.
    pub lockout_failures: i64,
    pub lockout_for: chrono::Duration,
    /// Login attempts allowed per client address and per username in a minute.
    pub login_attempts_per_minute: usize,
    pub tile_url: Option<String>,
    pub tile_attribution: String,
    /// Where citizens reach the server (for links in e-mails), e.g. `https://ioc.gialai.gov.vn`.
    pub public_url: Option<String>,
    pub reports: ReportsConfig,
    /// NGSI-LD notifications: retries, timeouts.
    pub notifications: crate::ngsi::notifier::NotifierConfig,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            demo: false,
            secure_cookies: false,
            trust_proxy: false,
            session_idle: chrono::Duration::hours(8),
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            lockout_failures: 5,
            lockout_for: chrono::Duration::minutes(15),
            login_attempts_per_minute: 10,
            tile_url: Some("https://tile.openstreetmap.org/{z}/{x}/{y}.png".into()),
            tile_attribution: "© OpenStreetMap contributors".into(),
            public_url: None,
            reports: ReportsConfig::default(),
            notifications: Default::default(),
        }
    }
}

pub struct Inner {
    pub store: Store,
    pub config: ApiConfig,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    /// At most two argon2id checks at once: each takes 19 MiB, and a login flood must queue
    /// rather than grow memory (and the allocator's retained arenas) without bound.
    pub hashing: tokio::sync::Semaphore,
    pub login_by_ip: LoginLimiter,
    pub login_by_user: LoginLimiter,
    pub live: Live,
    pub metrics: Metrics,
    pub reports: Reports,
    pub ngsi: crate::ngsi::Ngsi,
    pub devices: crate::devices::Devices,
    tree: RwLock<Arc<OrgTree>>,
    places: RwLock<Arc<Places>>,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub async fn new(store: Store, config: ApiConfig, hasher: PasswordHasher) -> Result<Self, StoreError> {
        let clock = store.clock().clone();
        let per_minute = config.login_attempts_per_minute.max(1);
        let reports = Reports::new(&store, config.reports.clone()).await?;
        let state = AppState(Arc::new(Inner {
            clock,
            config,
            hasher,
            hashing: tokio::sync::Semaphore::new(2),
            login_by_ip: LoginLimiter::new(per_minute * 3, Duration::from_secs(60)),
            login_by_user: LoginLimiter::new(per_minute, Duration::from_secs(60)),
            live: Live::new(),
            metrics: Metrics::new(),
            reports,
            ngsi: crate::ngsi::Ngsi::default(),
            devices: crate::devices::Devices::default(),
            tree: RwLock::new(Arc::new(OrgTree::default())),
            places: RwLock::new(Arc::new(Places::default())),
            store,
        }));
        state.reload_org().await?;
        crate::ngsi::start(&state).await?;
        Ok(state)
    }

    pub(crate) fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.0)
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        AppState(inner)
    }

    pub fn tree(&self) -> Arc<OrgTree> {
        self.tree.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn places(&self) -> Arc<Places> {
        self.places.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rebuilds the in-memory org tree and place index after units or areas change.
    pub async fn reload_org(&self) -> Result<(), StoreError> {
        let tree = self.store.org_tree().await?;
        let places = Places::load(&self.store).await?;
        *self.tree.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(tree);
        *self.places.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(places);
        self.reports.reload(&self.store).await
    }
}
