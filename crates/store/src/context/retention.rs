//! The policies of entity types (open to anonymous readers, how long history is kept) and the
//! retention pass that applies them: raw history older than `raw_days` is folded into hourly
//! aggregates (numbers) or dropped (anything else), and hourly aggregates older than
//! `hourly_days` are dropped.
//!
//! The pass works in bounded batches — at most `batch` rows of one series per transaction —
//! because the context writer group-commits through the same SQLite writer: a long
//! transaction here would hold every device's writes back.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use utoipa::ToSchema;

use super::millis;
use crate::audit::{AuditCtx, Change, append};
use crate::{Store, StoreError};

/// The policy of one entity type in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TypePolicy {
    /// The NGSI-LD tenant ('' is the province's default tenant).
    pub tenant: String,
    /// The entity type, expanded (a full IRI).
    #[serde(rename = "type")]
    pub entity_type: String,
    /// Readable without a token (entities and their history).
    pub open: bool,
    /// Days raw history is kept; older instances are folded into hourly aggregates (numbers)
    /// or deleted (anything else). Null: for ever.
    pub raw_days: Option<u32>,
    /// Days hourly aggregates are kept. Null: for ever.
    pub hourly_days: Option<u32>,
}

/// What one retention pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Raw numeric rows folded into hourly aggregates (and deleted).
    pub folded: u64,
    /// Raw rows of other values deleted.
    pub dropped_raw: u64,
    /// Hourly aggregates deleted.
    pub dropped_hourly: u64,
}

impl Store {
    pub async fn context_type_policies(&self) -> Result<Vec<TypePolicy>, StoreError> {
        let rows: Vec<(String, String, bool, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT tenant, type, open, raw_days, hourly_days FROM ctx_type_policies ORDER BY tenant, type",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(tenant, entity_type, open, raw, hourly)| TypePolicy {
                tenant,
                entity_type,
                open,
                raw_days: raw.map(|d| d as u32),
                hourly_days: hourly.map(|d| d as u32),
            })
            .collect())
    }

    /// Sets (creates or replaces) the policy of a type, with its audit entry.
    pub async fn set_context_type_policy(&self, ctx: &AuditCtx, policy: &TypePolicy) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let before: Option<(bool, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT open, raw_days, hourly_days FROM ctx_type_policies WHERE tenant = $1 AND type = $2")
                .bind(&policy.tenant)
                .bind(&policy.entity_type)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO ctx_type_policies (tenant, type, open, raw_days, hourly_days) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, type) DO UPDATE SET open = excluded.open, raw_days = excluded.raw_days,
                 hourly_days = excluded.hourly_days",
        )
        .bind(&policy.tenant)
        .bind(&policy.entity_type)
        .bind(policy.open)
        .bind(policy.raw_days.map(i64::from))
        .bind(policy.hourly_days.map(i64::from))
        .execute(&mut *tx)
        .await?;
        let id = format!("{}|{}", policy.tenant, policy.entity_type);
        let mut change = Change::new("context.type_policy", "context_type", id).after(policy);
        if let Some((open, raw, hourly)) = before {
            change = change.before(serde_json::json!({ "open": open, "raw_days": raw, "hourly_days": hourly }));
        }
        append(&mut tx, ctx, change, self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One retention pass at `now` over every type with a policy, `batch` rows of a series per
    /// transaction at most.
    pub async fn context_retention(&self, now: DateTime<Utc>, batch: usize) -> Result<RetentionReport, StoreError> {
        let batch = batch.max(1);
        let mut report = RetentionReport::default();
        for policy in self.context_type_policies().await? {
            if policy.raw_days.is_none() && policy.hourly_days.is_none() {
                continue;
            }
            let Some(type_id) = self.context_name_id(&policy.entity_type).await? else { continue };
            let entities: Vec<i64> = sqlx::query_scalar(
                "SELECT t.entity FROM ctx_entity_types t JOIN ctx_entities e ON e.pk = t.entity
                 WHERE t.type = $1 AND e.tenant = $2 ORDER BY t.entity",
            )
            .bind(type_id)
            .bind(&policy.tenant)
            .fetch_all(&self.reader)
            .await?;
            for entity in entities {
                if let Some(days) = policy.raw_days {
                    let cutoff = millis(now - Duration::days(days.into()));
                    for (attr, _, dataset) in self.history_series("ctx_history", entity, None).await? {
                        self.fold_series(entity, attr, &dataset, cutoff, batch, &mut report).await?;
                    }
                }
                if let Some(days) = policy.hourly_days {
                    let cutoff = millis(now - Duration::days(days.into()));
                    loop {
                        let n = sqlx::query(
                            "DELETE FROM ctx_history_hourly WHERE entity = $1 AND (attr, dataset, hour) IN
                             (SELECT attr, dataset, hour FROM ctx_history_hourly WHERE entity = $1 AND hour < $2 LIMIT $3)",
                        )
                        .bind(entity)
                        .bind(cutoff)
                        .bind(batch as i64)
                        .execute(&self.writer)
                        .await?
                        .rows_affected();
                        report.dropped_hourly += n;
                        if n < batch as u64 {
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                }
            }
        }
        Ok(report)
    }

    /// Folds the raw rows of one series observed before `cutoff`, oldest first, in
    /// transactions of about `batch` rows.
    async fn fold_series(
        &self,
        entity: i64,
        attr: i64,
        dataset: &str,
        cutoff: i64,
        batch: usize,
        report: &mut RetentionReport,
    ) -> Result<(), StoreError> {
        loop {
            // The end of this batch: the time of the row after the first `batch` (all rows of
            // one millisecond go together, so a batch may be a little larger).
            let times: Vec<i64> = sqlx::query_scalar(
                "SELECT observed_at FROM ctx_history WHERE entity = $1 AND attr = $2 AND dataset = $3
                 AND observed_at < $4 ORDER BY observed_at LIMIT $5",
            )
            .bind(entity)
            .bind(attr)
            .bind(dataset)
            .bind(cutoff)
            .bind(batch as i64 + 1)
            .fetch_all(&self.reader)
            .await?;
            let (Some(&first), Some(&last)) = (times.first(), times.last()) else { return Ok(()) };
            let bound = if times.len() <= batch {
                cutoff
            } else if last == first {
                last + 1
            } else {
                last
            };
            let mut tx = self.writer.begin().await?;
            let (folded, dropped) = fold_before(&mut tx, entity, attr, dataset, bound).await?;
            tx.commit().await?;
            report.folded += folded;
            report.dropped_raw += dropped;
            if bound == cutoff {
                return Ok(());
            }
            tokio::task::yield_now().await;
        }
    }
}

/// Folds the rows of a series before `bound` into hourly rows and deletes them; returns
/// (numeric rows folded, other rows deleted).
async fn fold_before(
    conn: &mut SqliteConnection,
    entity: i64,
    attr: i64,
    dataset: &str,
    bound: i64,
) -> Result<(u64, u64), StoreError> {
    const HOUR: i64 = 3_600_000;
    let rows: Vec<(i64, Option<f64>)> = sqlx::query_as(
        "SELECT observed_at, CASE WHEN typeof(value) IN ('integer', 'real') THEN value END
         FROM ctx_history WHERE entity = $1 AND attr = $2 AND dataset = $3 AND observed_at < $4
         ORDER BY observed_at, seq",
    )
    .bind(entity)
    .bind(attr)
    .bind(dataset)
    .bind(bound)
    .fetch_all(&mut *conn)
    .await?;
    // hour -> (n, sum, min, max, last, sumsq)
    let mut hours: BTreeMap<i64, (i64, f64, f64, f64, f64, f64)> = BTreeMap::new();
    let mut dropped = 0;
    for (at, value) in &rows {
        let Some(x) = *value else {
            dropped += 1;
            continue;
        };
        let h = at.div_euclid(HOUR) * HOUR;
        let e = hours.entry(h).or_insert((0, 0.0, x, x, x, 0.0));
        e.0 += 1;
        e.1 += x;
        e.2 = e.2.min(x);
        e.3 = e.3.max(x);
        e.4 = x;
        e.5 += x * x;
    }
    for (hour, (n, sum, min, max, last, sumsq)) in &hours {
        sqlx::query(
            "INSERT INTO ctx_history_hourly (entity, attr, dataset, hour, n, sum, min, max, last, sumsq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (entity, attr, dataset, hour) DO UPDATE SET
                n = n + excluded.n, sum = sum + excluded.sum, min = MIN(min, excluded.min),
                max = MAX(max, excluded.max), last = excluded.last, sumsq = sumsq + excluded.sumsq",
        )
        .bind(entity)
        .bind(attr)
        .bind(dataset)
        .bind(hour)
        .bind(n)
        .bind(sum)
        .bind(min)
        .bind(max)
        .bind(last)
        .bind(sumsq)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("DELETE FROM ctx_history WHERE entity = $1 AND attr = $2 AND dataset = $3 AND observed_at < $4")
        .bind(entity)
        .bind(attr)
        .bind(dataset)
        .bind(bound)
        .execute(&mut *conn)
        .await?;
    Ok((rows.len() as u64 - dropped, dropped))
}
