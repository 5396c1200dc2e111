//! NGSI-LD subscriptions and their notification outbox.
//!
//! A subscription row holds the subscription in its stored form, the `@context` its
//! notifications are compacted with, its owner (the unit of who created it, for the usual scope
//! rule) and the subscriber's reach (notifications carry only entities it could read).
//!
//! Changes to subscriptions bump [`ContextSignals`]' version *before* their transaction
//! commits, on the one writer connection: the context writer checks the version inside its
//! own transaction, so a group never matches against a subscription list older than the last
//! committed change. The writer queues notifications in `ctx_notifications` in the same
//! transaction as the change that caused them and wakes the notifier after the commit.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use haidang_core::OrgUnitId;
use haidang_ngsi::entity::Entity;
use haidang_ngsi::subscription::{Delivery, Subscription};
use serde_json::{Value, json};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::Notify;

use crate::audit::append;
use crate::time::{parse, parse_opt, ts};
use crate::{AuditCtx, Change, Store, StoreError};

/// What the context writer and the notifier signal each other through the store.
#[derive(Default)]
pub struct ContextSignals {
    subscriptions: AtomicU64,
    outbox: Notify,
    closing: AtomicBool,
    closed: Notify,
    notifier: AtomicBool,
}

impl ContextSignals {
    pub(crate) fn subscriptions_version(&self) -> u64 {
        self.subscriptions.load(Ordering::Acquire)
    }

    fn subscriptions_changed(&self) {
        self.subscriptions.fetch_add(1, Ordering::AcqRel);
    }

    /// Wakes the notifier: notifications were queued (or a delivery finished).
    pub fn wake_notifier(&self) {
        self.outbox.notify_one();
    }

    /// Resolves at the next [`ContextSignals::wake_notifier`] (or one that came since the
    /// last wait).
    pub async fn outbox_changed(&self) {
        self.outbox.notified().await
    }

    /// Whether the store is closing (the notifier stops).
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Resolves when the store starts closing.
    pub async fn closing(&self) {
        let wait = self.closed.notified();
        tokio::pin!(wait);
        wait.as_mut().enable();
        if self.is_closing() {
            return;
        }
        wait.await
    }

    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.closed.notify_waiters();
    }

    /// True for the first caller only: one notifier per store, however many servers share it.
    pub fn claim_notifier(&self) -> bool {
        !self.notifier.swap(true, Ordering::AcqRel)
    }
}

/// Whom a subscription notifies of what: the subscriber's readable units (`None`: all) and
/// entity types (`None`: all), as when it subscribed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscriberReach {
    /// Every unit whose entities it may read (subtrees expanded), sorted.
    pub units: Option<Vec<OrgUnitId>>,
    pub types: Option<Vec<String>>,
}

impl SubscriberReach {
    pub fn may_see(&self, owner: Option<OrgUnitId>, entity: &Entity) -> bool {
        let unit_ok = match (&self.units, owner) {
            (None, _) => true,
            (Some(units), Some(owner)) => units.binary_search(&owner).is_ok(),
            (Some(_), None) => false,
        };
        unit_ok && self.types.as_ref().is_none_or(|types| types.iter().any(|t| entity.has_type(t)))
    }

    fn to_json(&self) -> String {
        json!({
            "units": self.units.as_ref().map(|u| u.iter().map(|u| u.0).collect::<Vec<_>>()),
            "types": self.types,
        })
        .to_string()
    }

    fn from_json(text: Option<&str>) -> Result<Self, StoreError> {
        let Some(text) = text else { return Ok(Self::default()) };
        let v: Value =
            serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("subscription reach: {e}")))?;
        let mut units: Option<Vec<OrgUnitId>> =
            v["units"].as_array().map(|u| u.iter().filter_map(Value::as_i64).map(OrgUnitId).collect());
        if let Some(u) = &mut units {
            u.sort();
        }
        let types = v["types"].as_array().map(|t| t.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect());
        Ok(Self { units, types })
    }
}

/// A subscription as stored, with what the broker recorded of its deliveries.
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    pub pk: i64,
    pub tenant: String,
    pub owner: Option<OrgUnitId>,
    pub subscription: Subscription,
    /// The `@context` value notifications are compacted with.
    pub context: Value,
    pub delivery: Delivery,
}

/// A new subscription.
pub struct NewSubscription<'a> {
    pub tenant: &'a str,
    pub owner: OrgUnitId,
    pub reach: &'a SubscriberReach,
    pub subscription: &'a Subscription,
    pub context: &'a Value,
}

/// Pending notifications of one subscription, oldest first.
#[derive(Debug, Clone)]
pub struct PendingNotifications {
    pub row_pks: Vec<i64>,
    /// Each row's stored changes (`haidang_ngsi::subscription::Change::to_stored`), in order.
    pub changes: Vec<Value>,
    /// Failed attempts of the oldest row.
    pub attempts: u32,
    pub oldest: DateTime<Utc>,
}

type SubRow = (i64, String, Option<i64>, String, String, i64, i64, Option<String>, Option<String>, Option<String>);

const SUB_COLUMNS: &str = "pk, tenant, owner_unit, doc, context, times_sent, times_failed, last_notification, \
                           last_success, last_failure";

fn sub_row(row: SubRow) -> Result<SubscriptionRow, StoreError> {
    let (pk, tenant, owner, doc, context, sent, failed, last, success, failure) = row;
    let corrupt = |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("subscription {pk} {what}: {e}"));
    let doc: Value = serde_json::from_str(&doc).map_err(|e| corrupt("doc", &e))?;
    let subscription = Subscription::from_stored(&doc).map_err(|e| corrupt("doc", &e))?;
    let context = serde_json::from_str(&context).map_err(|e| corrupt("context", &e))?;
    Ok(SubscriptionRow {
        pk,
        tenant,
        owner: owner.map(OrgUnitId),
        subscription,
        context,
        delivery: Delivery {
            times_sent: sent.max(0) as u64,
            times_failed: failed.max(0) as u64,
            last_notification: parse_opt(last)?,
            last_success: parse_opt(success)?,
            last_failure: parse_opt(failure)?,
        },
    })
}

/// `prefix` and the bound list `(id, …)`; an empty list is written `(NULL)`, which `IN`
/// matches nothing with (callers leave out a `NOT IN` of nothing).
fn push_ids(q: &mut QueryBuilder<'_, Sqlite>, prefix: &str, ids: impl IntoIterator<Item = i64>) {
    q.push(prefix).push("(");
    let mut sep = q.separated(", ");
    let mut any = false;
    for id in ids {
        sep.push_bind(id);
        any = true;
    }
    if !any {
        sep.push("NULL");
    }
    q.push(")");
}

fn push_units(q: &mut QueryBuilder<'_, Sqlite>, units: Option<&[OrgUnitId]>) {
    if let Some(units) = units {
        push_ids(q, " AND owner_unit IN ", units.iter().map(|u| u.0));
    }
}

/// Every subscription the writer matches against, with its reach, parsed (a row that does not
/// parse is logged and left out).
pub(crate) async fn load_watching(
    conn: &mut SqliteConnection,
) -> Result<Vec<(i64, String, Subscription, SubscriberReach)>, StoreError> {
    let rows: Vec<(i64, String, String, Option<String>)> =
        sqlx::query_as("SELECT pk, tenant, doc, visibility FROM ctx_subscriptions ORDER BY pk")
            .fetch_all(&mut *conn)
            .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (pk, tenant, doc, reach) in rows {
        let parsed = serde_json::from_str::<Value>(&doc)
            .map_err(|e| e.to_string())
            .and_then(|v| Subscription::from_stored(&v).map_err(|e| e.to_string()));
        match (parsed, SubscriberReach::from_json(reach.as_deref())) {
            (Ok(sub), Ok(reach)) => out.push((pk, tenant, sub, reach)),
            (Err(e), _) => tracing::error!(subscription = pk, error = %e, "a stored subscription cannot be read"),
            (_, Err(e)) => tracing::error!(subscription = pk, error = %e, "a stored subscription cannot be read"),
        }
    }
    Ok(out)
}

/// Queues one notification of `subscription` in the writer's transaction. Its first attempt is
/// now, or later if older notifications of the subscription wait longer (order is kept); it is
/// not queued if the subscription went away.
pub(crate) async fn queue_notification(
    conn: &mut SqliteConnection,
    subscription: i64,
    changes: &Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = ts(now);
    sqlx::query(
        "INSERT INTO ctx_notifications (subscription, entities, created_at, next_attempt)
         SELECT s.pk, $2, $3, MAX($3, COALESCE((SELECT MAX(n.next_attempt) FROM ctx_notifications n
                                                 WHERE n.subscription = s.pk), $3))
         FROM ctx_subscriptions s WHERE s.pk = $1",
    )
    .bind(subscription)
    .bind(changes.to_string())
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// The signals between the context writer, subscription changes and the notifier.
    pub fn context_signals(&self) -> &ContextSignals {
        &self.signals
    }

    /// Create Subscription: `Ok(false)` when the id is taken in the tenant.
    pub async fn create_subscription(&self, ctx: &AuditCtx, new: NewSubscription<'_>) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let sub = new.subscription;
        let mut tx = self.writer.begin().await?;
        sqlx::query("INSERT INTO ctx_tenants (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(new.tenant)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        let doc = sub.to_stored();
        let inserted = sqlx::query(
            "INSERT INTO ctx_subscriptions (tenant, id, owner_unit, doc, context, visibility, created_at, modified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (tenant, id) DO NOTHING",
        )
        .bind(new.tenant)
        .bind(&sub.id)
        .bind(new.owner.0)
        .bind(doc.to_string())
        .bind(new.context.to_string())
        .bind(new.reach.to_json())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let change = Change::new("subscription.create", "ngsi_subscription", &sub.id).unit(new.owner).after(&doc);
        self.commit_subscription_change(tx, inserted, ctx, change, now).await
    }

    /// When `rows` were changed: audits `change`, tells the context writer its subscriptions
    /// changed (before the commit, see the module) and commits. `Ok(false)` (rolled back) when
    /// no row was.
    async fn commit_subscription_change(
        &self,
        mut tx: sqlx::Transaction<'_, Sqlite>,
        rows: u64,
        ctx: &AuditCtx,
        change: Change,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if rows == 0 {
            return Ok(false);
        }
        append(&mut tx, ctx, change, now).await?;
        self.signals.subscriptions_changed();
        tx.commit().await?;
        Ok(true)
    }

    /// Subscriptions of `tenant` owned within `units` (`None`: all), by creation; with `count`
    /// also how many there are.
    pub async fn list_subscriptions(
        &self,
        tenant: &str,
        units: Option<&[OrgUnitId]>,
        limit: usize,
        offset: usize,
        count: bool,
    ) -> Result<(Vec<SubscriptionRow>, Option<u64>), StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {SUB_COLUMNS} FROM ctx_subscriptions WHERE tenant = "));
        q.push_bind(tenant);
        push_units(&mut q, units);
        q.push(" ORDER BY pk LIMIT ").push_bind(limit as i64).push(" OFFSET ").push_bind(offset as i64);
        let rows: Vec<SubRow> = q.build_query_as().fetch_all(&self.reader).await?;
        let total = if count {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM ctx_subscriptions WHERE tenant = ");
            q.push_bind(tenant);
            push_units(&mut q, units);
            let n: i64 = q.build_query_scalar().fetch_one(&self.reader).await?;
            Some(n.max(0) as u64)
        } else {
            None
        };
        Ok((rows.into_iter().map(sub_row).collect::<Result<_, _>>()?, total))
    }

    /// One subscription, if it exists and is owned within `units` (`None`: any owner).
    pub async fn subscription(
        &self,
        tenant: &str,
        id: &str,
        units: Option<&[OrgUnitId]>,
    ) -> Result<Option<SubscriptionRow>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {SUB_COLUMNS} FROM ctx_subscriptions WHERE tenant = "));
        q.push_bind(tenant).push(" AND id = ").push_bind(id);
        push_units(&mut q, units);
        let row: Option<SubRow> = q.build_query_as().fetch_optional(&self.reader).await?;
        row.map(sub_row).transpose()
    }

    /// One subscription by its key, whoever owns it (for the notifier).
    pub async fn subscription_by_key(&self, pk: i64) -> Result<Option<SubscriptionRow>, StoreError> {
        let row: Option<SubRow> = sqlx::query_as(&format!("SELECT {SUB_COLUMNS} FROM ctx_subscriptions WHERE pk = $1"))
            .bind(pk)
            .fetch_optional(&self.reader)
            .await?;
        row.map(sub_row).transpose()
    }

    /// Update Subscription: stores `subscription` (already merged and checked) over row `pk`.
    pub async fn update_subscription(
        &self,
        ctx: &AuditCtx,
        row: &SubscriptionRow,
        subscription: &Subscription,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let doc = subscription.to_stored();
        let mut tx = self.writer.begin().await?;
        let n = sqlx::query("UPDATE ctx_subscriptions SET doc = $1, modified_at = $2 WHERE pk = $3")
            .bind(doc.to_string())
            .bind(ts(now))
            .bind(row.pk)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut change = Change::new("subscription.update", "ngsi_subscription", &subscription.id)
            .before(row.subscription.to_stored())
            .after(&doc);
        change.unit_id = row.owner;
        self.commit_subscription_change(tx, n, ctx, change, now).await
    }

    /// Delete Subscription, with its pending notifications.
    pub async fn delete_subscription(&self, ctx: &AuditCtx, row: &SubscriptionRow) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let n = sqlx::query("DELETE FROM ctx_subscriptions WHERE pk = $1")
            .bind(row.pk)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut change = Change::new("subscription.delete", "ngsi_subscription", &row.subscription.id)
            .before(row.subscription.to_stored());
        change.unit_id = row.owner;
        self.commit_subscription_change(tx, n, ctx, change, now).await
    }

    // -----------------------------------------------------------------------------------------
    // The outbox

    /// Subscriptions with a notification due at `now` (its oldest pending one), leaving out
    /// `busy` ones, at most `limit`.
    pub async fn subscriptions_due(
        &self,
        now: DateTime<Utc>,
        busy: &[i64],
        limit: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let mut q =
            QueryBuilder::<Sqlite>::new("SELECT DISTINCT subscription FROM ctx_notifications WHERE next_attempt <= ");
        q.push_bind(ts(now));
        push_not_in(&mut q, busy);
        q.push(" LIMIT ").push_bind(limit as i64);
        Ok(q.build_query_scalar().fetch_all(&self.reader).await?)
    }

    /// When the next notification (of a subscription not `busy`) is due, if any is pending.
    pub async fn next_notification_due(&self, busy: &[i64]) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT MIN(next_attempt) FROM ctx_notifications WHERE 1 = 1");
        push_not_in(&mut q, busy);
        let next: Option<String> = q.build_query_scalar().fetch_one(&self.reader).await?;
        parse_opt(next)
    }

    /// The oldest pending notifications of a subscription (at most `limit`).
    pub async fn pending_notifications(
        &self,
        subscription: i64,
        limit: usize,
    ) -> Result<Option<PendingNotifications>, StoreError> {
        let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT pk, entities, attempts, created_at FROM ctx_notifications WHERE subscription = $1
             ORDER BY pk LIMIT $2",
        )
        .bind(subscription)
        .bind(limit as i64)
        .fetch_all(&self.reader)
        .await?;
        let Some(first) = rows.first() else { return Ok(None) };
        let attempts = first.2.clamp(0, u32::MAX as i64) as u32;
        let oldest = parse(&first.3)?;
        let mut pending = PendingNotifications { row_pks: Vec::new(), changes: Vec::new(), attempts, oldest };
        for (pk, entities, _, _) in rows {
            let v: Value =
                serde_json::from_str(&entities).map_err(|e| StoreError::Corrupt(format!("notification {pk}: {e}")))?;
            pending.row_pks.push(pk);
            match v {
                Value::Array(items) => pending.changes.extend(items),
                other => pending.changes.push(other),
            }
        }
        Ok(Some(pending))
    }

    /// Moves every pending notification of `subscription` to `at` at the earliest (throttling).
    pub async fn defer_notifications(&self, subscription: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE ctx_notifications SET next_attempt = $1 WHERE subscription = $2 AND next_attempt < $1")
            .bind(ts(at))
            .bind(subscription)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A delivery succeeded: its rows go, the subscription's counters move.
    pub async fn notifications_delivered(
        &self,
        subscription: i64,
        rows: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        delete_rows(&mut tx, rows).await?;
        count_attempt(&mut tx, subscription, at, true).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A delivery failed: the rows wait until `retry` (every pending notification of the
    /// subscription waits at least that long, so order is kept), or are dropped when `retry` is
    /// `None` (given up).
    pub async fn notifications_failed(
        &self,
        subscription: i64,
        rows: &[i64],
        at: DateTime<Utc>,
        retry: Option<DateTime<Utc>>,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        match retry {
            Some(next) => {
                let mut q =
                    QueryBuilder::<Sqlite>::new("UPDATE ctx_notifications SET attempts = attempts + 1, last_error = ");
                q.push_bind(error.chars().take(500).collect::<String>());
                push_ids(&mut q, " WHERE pk IN ", rows.iter().copied());
                q.build().execute(&mut *tx).await?;
                sqlx::query(
                    "UPDATE ctx_notifications SET next_attempt = $1 WHERE subscription = $2 AND next_attempt < $1",
                )
                .bind(ts(next))
                .bind(subscription)
                .execute(&mut *tx)
                .await?;
            }
            None => delete_rows(&mut tx, rows).await?,
        }
        count_attempt(&mut tx, subscription, at, false).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many notifications are waiting (all subscriptions).
    pub async fn pending_notification_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ctx_notifications").fetch_one(&self.reader).await?;
        Ok(n.max(0) as u64)
    }
}

fn push_not_in(q: &mut QueryBuilder<'_, Sqlite>, busy: &[i64]) {
    if !busy.is_empty() {
        push_ids(q, " AND subscription NOT IN ", busy.iter().copied());
    }
}

/// `timesSent` / `lastSuccess` or `timesFailed` / `lastFailure`, and `lastNotification`.
async fn count_attempt(
    conn: &mut SqliteConnection,
    subscription: i64,
    at: DateTime<Utc>,
    ok: bool,
) -> Result<(), StoreError> {
    let sql = if ok {
        "UPDATE ctx_subscriptions SET times_sent = times_sent + 1, last_notification = $1, last_success = $1 WHERE pk = $2"
    } else {
        "UPDATE ctx_subscriptions SET times_failed = times_failed + 1, last_notification = $1, last_failure = $1 \
         WHERE pk = $2"
    };
    sqlx::query(sql).bind(ts(at)).bind(subscription).execute(&mut *conn).await?;
    Ok(())
}

async fn delete_rows(conn: &mut SqliteConnection, rows: &[i64]) -> Result<(), StoreError> {
    let mut q = QueryBuilder::<Sqlite>::new("DELETE FROM ctx_notifications WHERE");
    push_ids(&mut q, " pk IN ", rows.iter().copied());
    q.build().execute(&mut *conn).await?;
    Ok(())
}
