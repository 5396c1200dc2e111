//! Background work of a running server: the follower of report deadlines, the notice outbox,
//! the closing of unrated reports, the erasure of old contact details, the sweep of orphaned
//! files, the watch over devices (activity recorded, silence reported) and the retention of
//! context history. Each pass is a plain function, so tests run one on a manual clock.

use chrono::Duration;
use haidang_api::AppState;
use haidang_api::reports::workflow::{self, ActionRequest};
use haidang_core::Principal;
use haidang_notify::{Address, Channels, Notice, RetryPolicy};
use haidang_store::{Actor, AuditCtx, StoreError};
use std::collections::HashSet;

/// Sends the notices that are due; returns how many were sent.
pub async fn deliver_notices(state: &AppState, channels: &Channels) -> Result<usize, StoreError> {
    let policy = RetryPolicy::default();
    let now = state.clock.now();
    let mut sent = 0;
    for n in state.store.notices_due(now, 50).await? {
        let to = match n.address_kind.as_str() {
            "phone" => Address::Phone(n.address.clone()),
            _ => Address::Email(n.address.clone()),
        };
        let outcome = match channels.route(&to) {
            None => Err(haidang_notify::SendError::permanent("no channel reaches this address")),
            Some(ch) => {
                ch.send(&Notice {
                    to,
                    subject: n.subject.clone(),
                    text: n.body.clone(),
                    reference: n.reference.clone(),
                })
                .await
            }
        };
        match outcome {
            Ok(()) => {
                state.store.notice_attempted(n.id, Ok(())).await?;
                sent += 1;
            }
            Err(e) => {
                let retry = (!e.permanent)
                    .then(|| policy.next_delay(n.attempts as u32 + 1))
                    .flatten()
                    .map(|d| state.clock.now() + d);
                tracing::warn!(notice = n.id, error = %e.reason, retry = ?retry, "a notice was not delivered");
                state.store.notice_attempted(n.id, Err((&e.reason, retry))).await?;
            }
        }
    }
    Ok(sent)
}

/// Closes published reports nobody rated within the rating window.
pub async fn close_unrated(state: &AppState) -> anyhow::Result<usize> {
    let before = state.clock.now() - Duration::days(state.reports.config.rating_days);
    let ctx = AuditCtx::system("reports");
    let mut closed = 0;
    for id in state.store.reports_awaiting_rating(before, 100).await? {
        let report = state.store.report(id).await?;
        let req = ActionRequest::Close { note: Some("Hết thời hạn đánh giá / rating window ended".into()) };
        let step = workflow::plan(state, &Principal::system(), ctx.actor.clone(), &report, &req)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        state.store.report_step(&ctx, id, &step).await?;
        closed += 1;
    }
    Ok(closed)
}

/// Erases the contact details of reports closed longer ago than the retention period.
pub async fn erase_old_contacts(state: &AppState) -> Result<u64, StoreError> {
    let before = state.clock.now() - Duration::days(state.reports.config.erase_contacts_after_days);
    let ids = state.store.reports_with_stale_contacts(before, 500).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let ctx = AuditCtx {
        actor: Actor { kind: "system".into(), id: None, name: "retention".into() },
        ..AuditCtx::system("retention")
    };
    state.store.erase_contacts(&ctx, &ids, "Hết thời hạn lưu giữ / retention period ended").await
}

/// Removes stored files no attachment refers to (left by a request that failed after writing them).
pub async fn sweep_media(state: &AppState) -> anyhow::Result<usize> {
    let referenced: HashSet<String> = state.store.attachment_hashes().await?.into_iter().collect();
    let st = state.clone();
    let older = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    Ok(tokio::task::spawn_blocking(move || st.reports.media.sweep(&referenced, older)).await??)
}

/// Records the devices' counted activity and reports devices that fell silent or came back
/// (`silent`: who was silent at the last look). Returns the devices that fell silent now.
pub async fn watch_devices(state: &AppState, silent: &mut HashSet<String>) -> Result<Vec<String>, StoreError> {
    state.devices.flush(state).await?;
    let now = state.clock.now();
    let mut fell_silent = Vec::new();
    let mut still = HashSet::new();
    for d in state.store.devices(None).await? {
        let id = d.id.to_string();
        if d.health(now) != haidang_devices::Health::Silent {
            if silent.contains(&id) {
                tracing::info!(device = %id, "device reporting again");
                state.live.publish("devices", Some(d.owner.id), serde_json::json!({"id": id, "health": "reporting"}));
            }
            continue;
        }
        if !silent.contains(&id) {
            tracing::warn!(device = %id, last_seen = ?d.last_seen, "device silent");
            state.live.publish("devices", Some(d.owner.id), serde_json::json!({"id": id, "health": "silent"}));
            fell_silent.push(id.clone());
        }
        still.insert(id);
    }
    *silent = still;
    Ok(fell_silent)
}

/// Rows of one history series per transaction in the retention pass: small enough that the
/// context writer, which commits through the same SQLite writer, never waits long.
pub const RETENTION_BATCH: usize = 5_000;

/// Applies the entity types' history retention (raw → hourly → gone) at the clock's now.
pub async fn context_retention(state: &AppState) -> Result<haidang_store::context::RetentionReport, StoreError> {
    state.store.context_retention(state.clock.now(), RETENTION_BATCH).await
}

/// Starts the loops; they stop when the returned handles are aborted.
pub fn spawn(state: AppState, channels: Channels) -> Vec<tokio::task::JoinHandle<()>> {
    let mut jobs = Vec::new();
    let s = state.clone();
    jobs.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
        loop {
            tick.tick().await;
            if let Err(e) = haidang_api::reports::follow::tick(&s).await {
                tracing::error!(error = %e, "the report follower failed");
            }
        }
    }));
    let s = state.clone();
    jobs.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        let mut silent = HashSet::new();
        loop {
            tick.tick().await;
            if let Err(e) = watch_devices(&s, &mut silent).await {
                tracing::error!(error = %e, "watching devices failed");
            }
        }
    }));
    let s = state.clone();
    jobs.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(e) = deliver_notices(&s, &channels).await {
                tracing::error!(error = %e, "the notice outbox failed");
            }
        }
    }));
    jobs.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = close_unrated(&state).await {
                tracing::error!(error = %e, "closing unrated reports failed");
            }
            match erase_old_contacts(&state).await {
                Ok(n) if n > 0 => tracing::info!(reports = n, "erased contact details past retention"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "erasing old contact details failed"),
            }
            if let Err(e) = sweep_media(&state).await {
                tracing::error!(error = %e, "sweeping orphaned media failed");
            }
            match context_retention(&state).await {
                Ok(r) if r != Default::default() => tracing::info!(?r, "context history retention applied"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "context history retention failed"),
            }
        }
    }));
    jobs
}
