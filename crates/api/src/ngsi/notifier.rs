//! Sends the notifications the context writer queued (clause 5.11; HTTP binding of notifications,
//! clause 7.2 of ETSI GS CIM 009).
//!
//! One loop per store takes the subscriptions whose oldest pending notification is due and
//! delivers each in a task of its own (at most [`NotifierConfig::concurrency`] at once; one at a
//! time per subscription, so a subscription's notifications arrive in order). A delivery sends
//! every pending notification of the subscription in one Notification (their entities in order
//! in `data`), POSTed to the endpoint:
//!
//! - `application/json` with a `Link` header to the context (the subscription's `jsonldContext`,
//!   else the one it was created with), or `application/ld+json` with `@context` in the body,
//!   or `application/geo+json`, as `endpoint.accept` says;
//! - `NGSILD-Tenant` for a tenant other than the default, and the `receiverInfo` headers.
//!
//! A 2xx answer deletes the rows and counts `timesSent`; anything else counts `timesFailed` and
//! retries with exponential back-off (base, doubling, capped, ±20 % jitter), all pending
//! notifications of the subscription waiting with the oldest. Notifications still failing
//! [`NotifierConfig::give_up_after`] after the oldest was queued are dropped (logged). With
//! `throttling`, deliveries of a subscription are at least that far apart: what arrives meanwhile
//! waits and goes out together. Delivery is at least once: a notification sent but not yet
//! recorded when the server stops is sent again after the restart.
//!
//! The loop wakes when the writer queued something, when a delivery ended, at the next due
//! time, and stops when the store closes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::header;
use chrono::{DateTime, Utc};
use haidang_ngsi::subscription::{Change, NOTIFICATION_ID_PREFIX, NotifyAccept};
use haidang_store::StoreError;
use haidang_store::context::SubscriptionRow;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::http::{LD_JSON, TENANT_HEADER};
use crate::state::AppState;

/// How notifications are sent and retried.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// The first retry waits about this long; each further one twice as long.
    pub retry_base: Duration,
    /// No retry waits longer than this.
    pub retry_max: Duration,
    /// Notifications failing this long after they were queued are dropped.
    pub give_up_after: chrono::Duration,
    /// A receiver has this long to answer (less if its endpoint's `timeout` says so).
    pub timeout: Duration,
    /// Subscriptions delivered to at once.
    pub concurrency: usize,
    /// Pending notifications sent together at most.
    pub batch: usize,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            give_up_after: chrono::Duration::hours(24),
            timeout: Duration::from_secs(10),
            concurrency: 8,
            batch: 100,
        }
    }
}

/// Starts the notifier of `state`'s store, unless one already runs for it (several servers may
/// share a store); it stops when the store closes.
pub fn spawn(state: &AppState) {
    if state.store.context_signals().claim_notifier() {
        tokio::spawn(run(state.clone()));
    }
}

async fn run(state: AppState) {
    let config = state.config.notifications.clone();
    let http = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Hai Dang NGSI-LD broker")
        .build()
        .unwrap_or_default();
    let busy: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let signals = state.store.context_signals();
    loop {
        if signals.is_closing() {
            break;
        }
        let now = state.clock.now();
        let mut wait = Duration::from_secs(60);
        match next_round(&state, &http, &busy, &permits, now).await {
            Ok(Some(next)) => wait = wait.min((next - now).to_std().unwrap_or(Duration::ZERO)),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "the notification outbox cannot be read");
                wait = Duration::from_secs(1);
            }
        }
        if permits.available_permits() == 0 {
            // Every slot is delivering; the end of a delivery wakes the loop.
            wait = Duration::from_secs(60);
        }
        tokio::select! {
            _ = signals.outbox_changed() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = signals.closing() => break,
        }
    }
    tracing::debug!("the notifier stopped");
}

/// Starts deliveries for the due subscriptions; returns when the next one is due.
async fn next_round(
    state: &AppState,
    http: &reqwest::Client,
    busy: &Arc<Mutex<HashSet<i64>>>,
    permits: &Arc<Semaphore>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let busy_now = || busy.lock().unwrap_or_else(|p| p.into_inner()).iter().copied().collect::<Vec<_>>();
    let free = permits.available_permits();
    if free > 0 {
        for pk in state.store.subscriptions_due(now, &busy_now(), free).await? {
            let Ok(permit) = permits.clone().try_acquire_owned() else { break };
            busy.lock().unwrap_or_else(|p| p.into_inner()).insert(pk);
            let (state, http, busy) = (state.clone(), http.clone(), busy.clone());
            tokio::spawn(async move {
                if let Err(e) = deliver(&state, &http, pk).await {
                    tracing::error!(subscription = pk, error = %e, "a notification could not be recorded");
                }
                busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&pk);
                drop(permit);
                state.store.context_signals().wake_notifier();
            });
        }
    }
    state.store.next_notification_due(&busy_now()).await
}

/// Delivers the pending notifications of subscription `pk` once.
async fn deliver(state: &AppState, http: &reqwest::Client, pk: i64) -> Result<(), StoreError> {
    let config = &state.config.notifications;
    let Some(row) = state.store.subscription_by_key(pk).await? else { return Ok(()) };
    let now = state.clock.now();
    if let (Some(secs), Some(last)) = (row.subscription.throttling, row.delivery.last_notification) {
        let allowed = last + chrono::Duration::milliseconds((secs * 1000.0) as i64);
        if allowed > now {
            return state.store.defer_notifications(pk, allowed).await;
        }
    }
    let Some(pending) = state.store.pending_notifications(pk, config.batch).await? else { return Ok(()) };
    let changes: Vec<Change> = pending
        .changes
        .iter()
        .filter_map(|c| match Change::from_stored(c) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(subscription = pk, error = %e, "a queued notification cannot be read; skipped");
                None
            }
        })
        .collect();
    let outcome = if changes.is_empty() { Ok(()) } else { send(state, http, &row, &changes, now).await };
    let at = state.clock.now();
    match outcome {
        Ok(()) => state.store.notifications_delivered(pk, &pending.row_pks, at).await,
        Err(reason) => {
            let give_up = at - pending.oldest > config.give_up_after;
            let retry = (!give_up).then(|| at + backoff(config, pending.attempts + 1));
            if give_up {
                tracing::warn!(subscription = %row.subscription.id, error = %reason, dropped = pending.row_pks.len(),
                    "notifications failed for too long; dropped");
            } else {
                tracing::warn!(subscription = %row.subscription.id, error = %reason, retry = ?retry,
                    "a notification was not delivered");
            }
            state.store.notifications_failed(pk, &pending.row_pks, at, retry, &reason).await
        }
    }
}

/// The wait before attempt `attempt` (the first retry is attempt 2).
fn backoff(config: &NotifierConfig, attempt: u32) -> chrono::Duration {
    let base = config.retry_base.as_millis().max(1) as u64;
    let doubled = base.saturating_mul(1u64 << attempt.saturating_sub(2).min(30));
    let capped = doubled.min(config.retry_max.as_millis() as u64);
    // ±20 %, so that subscriptions failing together do not all retry in step
    let jitter = (uuid::Uuid::new_v4().as_u128() % 401) as u64;
    chrono::Duration::milliseconds((capped * (800 + jitter) / 1000) as i64)
}

/// POSTs one Notification; `Err` says why it was not accepted.
async fn send(
    state: &AppState,
    http: &reqwest::Client,
    row: &SubscriptionRow,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<(), String> {
    let sub = &row.subscription;
    let context = match &sub.jsonld_context {
        Some(url) => Value::String(url.clone()),
        None => row.context.clone(),
    };
    let ctx = state.ngsi.contexts.resolve(&context).await.map_err(|e| format!("the @context: {e}"))?;
    let id = format!("{NOTIFICATION_ID_PREFIX}{}", uuid::Uuid::new_v4());
    let mut body = sub.notification(&id, changes, &ctx, now);
    let endpoint = &sub.notification.endpoint;
    let mut req = http.post(&endpoint.uri);
    let accept = endpoint.accept();
    if accept == NotifyAccept::LdJson {
        body["@context"] = ctx.source();
    } else {
        let mut link = state.ngsi.contexts.link_for(&ctx);
        if link.starts_with('/')
            && let Some(base) = &state.config.public_url
        {
            link = format!("{}{link}", base.trim_end_matches('/'));
        }
        req = req.header(
            header::LINK,
            format!("<{link}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"{LD_JSON}\""),
        );
    }
    req = req.header(header::CONTENT_TYPE, accept.media_type());
    if !row.tenant.is_empty() {
        req = req.header(TENANT_HEADER, &row.tenant);
    }
    for kv in &endpoint.receiver_info {
        req = req.header(kv.key.as_str(), kv.value.as_str());
    }
    if let Some(ms) = endpoint.timeout.filter(|ms| *ms > 0.0) {
        req = req.timeout(Duration::from_millis(ms as u64).min(state.config.notifications.timeout));
    }
    let res = req.body(body.to_string()).send().await.map_err(|e| format!("{e}"))?;
    if res.status().is_success() { Ok(()) } else { Err(format!("the receiver answered {}", res.status())) }
}
