//! Bulk import of historical reports (e.g. from the province's previous system), and the
//! benchmark's way of filling a store with a million of them.
//!
//! Each call is one transaction: the reports, their work items, one timeline entry each
//! ("imported") and ONE audit entry for the whole batch (`report.import` with the count and the
//! range of ids), so a batch is in the store entirely or not at all. Callers pass chunks of a
//! few thousand rows: large enough that the commit (`synchronous=FULL`) is rare, small enough
//! that the single writer is not held for long. The three statements are the same for every
//! row, so the connection's statement cache prepares each once per batch.

use crate::audit::{AuditCtx, Change, append};
use crate::time::ts;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use haidang_core::{Invalid, OrgUnitId};
use haidang_reports::{Channel, Status};

/// The following state of an imported report's work item.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedWork {
    /// Still waiting on someone (not published, closed, rejected or merged).
    pub open: bool,
    pub accepted_at: Option<DateTime<Utc>>,
    /// `working` or `wall`.
    pub clocking: Option<&'static str>,
    pub due_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
}

/// A report as the previous system knew it, with the times of its steps.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedReport {
    /// The citizen's tracking code (unique).
    pub code: String,
    pub category_id: i64,
    pub status: Status,
    pub urgent: bool,
    pub channel: Channel,
    pub title: String,
    pub description: String,
    /// What the public sees (personal data already masked).
    pub public_description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub commune: Option<OrgUnitId>,
    /// Who owns the work: the commune, or the province when the place is in none.
    pub owner: OrgUnitId,
    pub handler_unit: Option<OrgUnitId>,
    pub result: Option<String>,
    pub public_result: Option<String>,
    pub received_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The handling deadline of the last round (kept for the statistics).
    pub handling_due_at: Option<DateTime<Utc>>,
    /// Assignment to result, in seconds.
    pub handling_seconds: Option<i64>,
    /// The citizen's rating, if any (rated when the report closed).
    pub satisfied: Option<bool>,
    pub work: ImportedWork,
}

impl ImportedReport {
    /// The latest time the report records: its `updated_at`.
    fn updated_at(&self) -> DateTime<Utc> {
        [self.verified_at, self.assigned_at, self.work.accepted_at, self.resolved_at, self.published_at, self.closed_at]
            .into_iter()
            .flatten()
            .fold(self.received_at, DateTime::max)
    }
}

/// The same folding as a report created through intake: code, title, description, address.
fn search_fold(r: &ImportedReport) -> String {
    [r.code.as_str(), &r.title, &r.description, r.address.as_deref().unwrap_or("")]
        .iter()
        .map(|p| haidang_text::fold(p))
        .collect::<Vec<_>>()
        .join(" \u{1f} ")
}

impl Store {
    /// Imports `rows` in one transaction with one audit entry; returns how many were written.
    ///
    /// Open work gets its next check at its warning time (or deadline), so the follower picks
    /// it up as it would a report taken in here; a time already past is looked at right away.
    pub async fn import_reports(&self, ctx: &AuditCtx, rows: &[ImportedReport]) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let at = ts(now);
        let t = |v: Option<DateTime<Utc>>| v.map(ts);
        let mut tx = self.writer.begin().await?;
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for (i, r) in rows.iter().enumerate() {
            if !(r.lat.is_finite() && r.lon.is_finite()) {
                return Err(Invalid::field(format!("rows[{i}].lat"), "must be a latitude and longitude").into());
            }
            let finished = if r.work.open { r.resolved_at } else { r.resolved_at.or(r.closed_at).or(Some(now)) };
            let next_check = (r.work.open && finished.is_none()).then_some(r.work.warn_at.or(r.work.due_at)).flatten();
            let work_id: i64 = sqlx::query_scalar(
                "INSERT INTO work_items (subject, owner_unit_id, handler_unit_id, open, assigned_at, accepted_at, \
                 finished_at, clocking, due_at, warn_at, next_check_at) \
                 VALUES ('report', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(r.owner.0)
            .bind(r.handler_unit.map(|u| u.0))
            .bind(r.work.open)
            .bind(t(r.assigned_at))
            .bind(t(r.work.accepted_at))
            .bind(t(finished))
            .bind(r.work.clocking)
            .bind(t(r.work.due_at))
            .bind(t(r.work.warn_at))
            .bind(t(next_check))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| field_error(e, i))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO reports (code, work_id, category_id, status, urgent, channel, title, description, \
                 public_description, search_fold, public_fold, lat, lon, address, commune_id, result, public_result, \
                 satisfied, rated_at, handling_due_at, handling_seconds, received_at, verified_at, assigned_at, \
                 resolved_at, published_at, closed_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                 $21, $22, $23, $24, $25, $26, $27, $28) RETURNING id",
            )
            .bind(&r.code)
            .bind(work_id)
            .bind(r.category_id)
            .bind(r.status.as_str())
            .bind(r.urgent)
            .bind(r.channel.as_str())
            .bind(&r.title)
            .bind(&r.description)
            .bind(&r.public_description)
            .bind(search_fold(r))
            .bind(haidang_text::fold(&r.public_description))
            .bind(r.lat)
            .bind(r.lon)
            .bind(&r.address)
            .bind(r.commune.map(|u| u.0))
            .bind(&r.result)
            .bind(&r.public_result)
            .bind(r.satisfied)
            .bind(r.satisfied.and(t(r.closed_at.or(r.published_at))))
            .bind(t(r.handling_due_at))
            .bind(r.handling_seconds)
            .bind(ts(r.received_at))
            .bind(t(r.verified_at))
            .bind(t(r.assigned_at))
            .bind(t(r.resolved_at))
            .bind(t(r.published_at))
            .bind(t(r.closed_at))
            .bind(ts(r.updated_at()))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| field_error(e, i))?;
            sqlx::query(
                "INSERT INTO work_events (work_id, at, actor_kind, actor_id, actor_name, kind, to_status, note, public) \
                 VALUES ($1, $2, $3, $4, $5, 'imported', $6, 'imported from a previous system', 0)",
            )
            .bind(work_id)
            .bind(&at)
            .bind(&ctx.actor.kind)
            .bind(ctx.actor.id)
            .bind(&ctx.actor.name)
            .bind(r.status.as_str())
            .execute(&mut *tx)
            .await?;
            first = first.min(id);
            last = last.max(id);
        }
        let change = Change::new("report.import", "report", format!("{first}-{last}"))
            .after(serde_json::json!({ "count": rows.len(), "first_id": first, "last_id": last }));
        append(&mut tx, ctx, change, now).await?;
        tx.commit().await?;
        let mut conn = self.writer.acquire().await?;
        refresh_planner_stats(&mut conn).await?;
        Ok(rows.len() as u64)
    }
}

/// Lets SQLite's planner know how large the tables have grown (it re-samples only tables whose
/// size changed much since it last looked, 1000 rows an index, so it is cheap when nothing did).
/// Without these statistics it takes an equality on `reports.status` for a selective one and
/// sorts 900,000 rows for the public map's first page (1.2 s at 1M instead of 10 ms).
pub(crate) async fn refresh_planner_stats(conn: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *conn).await?;
    sqlx::query("PRAGMA optimize = 0x10002").execute(&mut *conn).await?;
    Ok(())
}

/// Names the row that broke a rule (an unknown category or unit, a code already taken).
fn field_error(e: sqlx::Error, row: usize) -> StoreError {
    match StoreError::from(e) {
        StoreError::Invalid(_) => {
            Invalid::field(format!("rows[{row}]"), "refers to a category or unit that does not exist").into()
        }
        StoreError::Conflict(m) => StoreError::Conflict(format!("rows[{row}]: {m}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn updated_at_is_the_latest_step() {
        let t0 = Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap();
        let r = ImportedReport {
            code: "PA2345678923".into(),
            category_id: 1,
            status: Status::Closed,
            urgent: false,
            channel: Channel::Web,
            title: "Đèn hỏng".into(),
            description: "Đèn đường không sáng".into(),
            public_description: "Đèn đường không sáng".into(),
            lat: 13.77,
            lon: 109.22,
            address: None,
            commune: None,
            owner: OrgUnitId(1),
            handler_unit: None,
            result: None,
            public_result: None,
            received_at: t0,
            verified_at: Some(t0 + chrono::Duration::hours(1)),
            assigned_at: Some(t0 + chrono::Duration::hours(2)),
            resolved_at: Some(t0 + chrono::Duration::days(2)),
            published_at: Some(t0 + chrono::Duration::days(3)),
            closed_at: Some(t0 + chrono::Duration::days(5)),
            handling_due_at: None,
            handling_seconds: None,
            satisfied: Some(true),
            work: ImportedWork { open: false, accepted_at: None, clocking: None, due_at: None, warn_at: None },
        };
        assert_eq!(r.updated_at(), t0 + chrono::Duration::days(5));
        assert!(search_fold(&r).contains("den duong khong sang"), "{}", search_fold(&r));
    }
}
