//! Followed work: the rows behind `haidang-work`'s state, the timeline, and the outbox of
//! notices. The follower (deadlines, reminders, escalation) decides; this module only records.

use crate::audit::Actor;
use crate::time::{parse, parse_opt, ts};
use crate::{Store, StoreError, UnitRef};
use chrono::{DateTime, Utc};
use haidang_core::{OrgUnitId, UserId};
use serde::Serialize;
use sqlx::SqliteConnection;
use utoipa::ToSchema;

/// The person a work item is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Handler {
    pub id: UserId,
    pub display_name: String,
}

/// One followed piece of work as stored.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkItem {
    pub id: i64,
    pub owner: OrgUnitId,
    pub handler_unit: Option<UnitRef>,
    pub handler_user: Option<Handler>,
    pub coordinators: Vec<UnitRef>,
    pub open: bool,
    pub assigned_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `working` or `wall`.
    pub clocking: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub warned_at: Option<DateTime<Utc>>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub level: i64,
    pub accept_within_minutes: Option<i64>,
    pub not_accepted_escalated_at: Option<DateTime<Utc>>,
    pub last_reminder_at: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
}

/// The following state to write for a work item: whoever decides (a step of the workflow, or
/// the follower) computes the whole state, and the store writes it as given.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkUpdate {
    pub handler_unit: Option<OrgUnitId>,
    pub handler_user: Option<UserId>,
    /// `None` keeps the coordinators; `Some` replaces them.
    pub coordinators: Option<Vec<OrgUnitId>>,
    pub open: bool,
    pub assigned_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub clocking: Option<&'static str>,
    pub due_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub warned_at: Option<DateTime<Utc>>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub level: i64,
    pub accept_within_minutes: Option<i64>,
    pub not_accepted_escalated_at: Option<DateTime<Utc>>,
    pub last_reminder_at: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
}

impl From<&WorkItem> for WorkUpdate {
    fn from(w: &WorkItem) -> Self {
        WorkUpdate {
            handler_unit: w.handler_unit.as_ref().map(|u| u.id),
            handler_user: w.handler_user.as_ref().map(|u| u.id),
            coordinators: None,
            open: w.open,
            assigned_at: w.assigned_at,
            accepted_at: w.accepted_at,
            finished_at: w.finished_at,
            clocking: match w.clocking.as_deref() {
                Some("working") => Some("working"),
                Some("wall") => Some("wall"),
                _ => None,
            },
            due_at: w.due_at,
            warn_at: w.warn_at,
            warned_at: w.warned_at,
            overdue_at: w.overdue_at,
            level: w.level,
            accept_within_minutes: w.accept_within_minutes,
            not_accepted_escalated_at: w.not_accepted_escalated_at,
            last_reminder_at: w.last_reminder_at,
            next_check_at: w.next_check_at,
        }
    }
}

/// A step on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    /// Shown to the citizen on the tracking page.
    pub public: bool,
    pub unit: Option<UnitRef>,
}

/// A timeline entry to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub actor: Actor,
    pub kind: String,
    pub from_status: Option<&'static str>,
    pub to_status: Option<&'static str>,
    pub note: Option<String>,
    pub public: bool,
    pub unit: Option<OrgUnitId>,
}

/// A message to queue; it is sent after the transaction that queued it commits.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotice {
    /// `email` or `phone`.
    pub address_kind: &'static str,
    pub address: String,
    pub subject: String,
    pub body: String,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub id: i64,
    pub address_kind: String,
    pub address: String,
    pub subject: String,
    pub body: String,
    pub reference: Option<String>,
    pub attempts: i64,
}

#[derive(sqlx::FromRow)]
struct WorkRow {
    id: i64,
    owner_unit_id: i64,
    handler_unit_id: Option<i64>,
    handler_code: Option<String>,
    handler_name: Option<String>,
    handler_user_id: Option<i64>,
    handler_user_name: Option<String>,
    open: bool,
    assigned_at: Option<String>,
    accepted_at: Option<String>,
    finished_at: Option<String>,
    clocking: Option<String>,
    due_at: Option<String>,
    warn_at: Option<String>,
    warned_at: Option<String>,
    overdue_at: Option<String>,
    level: i64,
    accept_within_minutes: Option<i64>,
    not_accepted_escalated_at: Option<String>,
    last_reminder_at: Option<String>,
    next_check_at: Option<String>,
}

const WORK_SELECT: &str = "SELECT w.id, w.owner_unit_id, w.handler_unit_id, hu.code AS handler_code, \
     hu.name AS handler_name, w.handler_user_id, us.display_name AS handler_user_name, w.open, w.assigned_at, \
     w.accepted_at, w.finished_at, w.clocking, w.due_at, w.warn_at, w.warned_at, w.overdue_at, w.level, \
     w.accept_within_minutes, w.not_accepted_escalated_at, w.last_reminder_at, w.next_check_at \
     FROM work_items w LEFT JOIN org_units hu ON hu.id = w.handler_unit_id \
     LEFT JOIN users us ON us.id = w.handler_user_id";

fn work_of(r: WorkRow, coordinators: Vec<UnitRef>) -> Result<WorkItem, StoreError> {
    Ok(WorkItem {
        id: r.id,
        owner: OrgUnitId(r.owner_unit_id),
        handler_unit: match (r.handler_unit_id, r.handler_code, r.handler_name) {
            (Some(id), Some(code), Some(name)) => Some(UnitRef { id: OrgUnitId(id), code, name }),
            _ => None,
        },
        handler_user: match (r.handler_user_id, r.handler_user_name) {
            (Some(id), Some(display_name)) => Some(Handler { id: UserId(id), display_name }),
            _ => None,
        },
        coordinators,
        open: r.open,
        assigned_at: parse_opt(r.assigned_at)?,
        accepted_at: parse_opt(r.accepted_at)?,
        finished_at: parse_opt(r.finished_at)?,
        clocking: r.clocking,
        due_at: parse_opt(r.due_at)?,
        warn_at: parse_opt(r.warn_at)?,
        warned_at: parse_opt(r.warned_at)?,
        overdue_at: parse_opt(r.overdue_at)?,
        level: r.level,
        accept_within_minutes: r.accept_within_minutes,
        not_accepted_escalated_at: parse_opt(r.not_accepted_escalated_at)?,
        last_reminder_at: parse_opt(r.last_reminder_at)?,
        next_check_at: parse_opt(r.next_check_at)?,
    })
}

pub(crate) async fn load_work(conn: &mut SqliteConnection, id: i64) -> Result<WorkItem, StoreError> {
    let row: WorkRow = sqlx::query_as(&format!("{WORK_SELECT} WHERE w.id = $1")).bind(id).fetch_one(&mut *conn).await?;
    let coordinators: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT u.id, u.code, u.name FROM work_coordinators c JOIN org_units u ON u.id = c.unit_id WHERE c.work_id = $1 ORDER BY u.name_sort",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    work_of(row, coordinators.into_iter().map(|(id, code, name)| UnitRef { id: OrgUnitId(id), code, name }).collect())
}

/// Work items of a list page in two queries (items, then their coordinators), keyed by id.
pub(crate) async fn load_works(
    conn: &mut SqliteConnection,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, WorkItem>, StoreError> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(out);
    }
    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!("{WORK_SELECT} WHERE w.id IN ("));
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    let rows: Vec<WorkRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "SELECT c.work_id, u.id, u.code, u.name FROM work_coordinators c JOIN org_units u ON u.id = c.unit_id WHERE c.work_id IN (",
    );
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(") ORDER BY u.name_sort");
    let coordinators: Vec<(i64, i64, String, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    for row in rows {
        let id = row.id;
        let coords = coordinators
            .iter()
            .filter(|c| c.0 == id)
            .map(|(_, uid, code, name)| UnitRef { id: OrgUnitId(*uid), code: code.clone(), name: name.clone() })
            .collect();
        out.insert(id, work_of(row, coords)?);
    }
    Ok(out)
}

pub(crate) async fn insert_work(
    conn: &mut SqliteConnection,
    subject: &str,
    owner: OrgUnitId,
    state: &WorkUpdate,
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar("INSERT INTO work_items (subject, owner_unit_id) VALUES ($1, $2) RETURNING id")
        .bind(subject)
        .bind(owner.0)
        .fetch_one(&mut *conn)
        .await?;
    write_work(conn, id, state).await?;
    Ok(id)
}

pub(crate) async fn write_work(conn: &mut SqliteConnection, id: i64, s: &WorkUpdate) -> Result<(), StoreError> {
    let t = |v: Option<DateTime<Utc>>| v.map(ts);
    sqlx::query(
        "UPDATE work_items SET handler_unit_id = $1, handler_user_id = $2, open = $3, assigned_at = $4, accepted_at = $5, \
         finished_at = $6, clocking = $7, due_at = $8, warn_at = $9, warned_at = $10, overdue_at = $11, level = $12, \
         accept_within_minutes = $13, not_accepted_escalated_at = $14, last_reminder_at = $15, next_check_at = $16 \
         WHERE id = $17",
    )
    .bind(s.handler_unit.map(|u| u.0))
    .bind(s.handler_user.map(|u| u.0))
    .bind(s.open)
    .bind(t(s.assigned_at))
    .bind(t(s.accepted_at))
    .bind(t(s.finished_at))
    .bind(s.clocking)
    .bind(t(s.due_at))
    .bind(t(s.warn_at))
    .bind(t(s.warned_at))
    .bind(t(s.overdue_at))
    .bind(s.level)
    .bind(s.accept_within_minutes)
    .bind(t(s.not_accepted_escalated_at))
    .bind(t(s.last_reminder_at))
    .bind(t(s.next_check_at))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if let Some(units) = &s.coordinators {
        sqlx::query("DELETE FROM work_coordinators WHERE work_id = $1").bind(id).execute(&mut *conn).await?;
        for u in units {
            sqlx::query("INSERT INTO work_coordinators (work_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(u.0)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

pub(crate) async fn insert_event(
    conn: &mut SqliteConnection,
    work_id: i64,
    e: &NewEvent,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO work_events (work_id, at, actor_kind, actor_id, actor_name, kind, from_status, to_status, note, public, unit_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(work_id)
    .bind(ts(at))
    .bind(&e.actor.kind)
    .bind(e.actor.id)
    .bind(&e.actor.name)
    .bind(&e.kind)
    .bind(e.from_status)
    .bind(e.to_status)
    .bind(&e.note)
    .bind(e.public)
    .bind(e.unit.map(|u| u.0))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn queue_notices(
    conn: &mut SqliteConnection,
    notices: &[NewNotice],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    for n in notices {
        sqlx::query(
            "INSERT INTO notifications (address_kind, address, subject, body, reference, status, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)",
        )
        .bind(n.address_kind)
        .bind(&n.address)
        .bind(&n.subject)
        .bind(&n.body)
        .bind(&n.reference)
        .bind(ts(at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    work_id: i64,
    id: i64,
    at: String,
    actor_kind: String,
    actor_id: Option<i64>,
    actor_name: String,
    kind: String,
    from_status: Option<String>,
    to_status: Option<String>,
    note: Option<String>,
    public: bool,
    unit_id: Option<i64>,
    code: Option<String>,
    name: Option<String>,
}

/// id, address kind, address, subject, body, reference, attempts
type NoticeRow = (i64, String, String, String, String, Option<String>, i64);

impl Store {
    pub async fn work_item(&self, id: i64) -> Result<WorkItem, StoreError> {
        let mut conn = self.reader.acquire().await?;
        load_work(&mut conn, id).await
    }

    pub async fn work_events(&self, work_id: i64) -> Result<Vec<WorkEvent>, StoreError> {
        Ok(self.events_of(&[work_id], false).await?.into_iter().map(|(_, e)| e).collect())
    }

    /// The timelines of several work items (a list page) as `(work id, event)`, in order;
    /// `public_only` keeps the steps shown to citizens.
    pub async fn events_of(&self, work_ids: &[i64], public_only: bool) -> Result<Vec<(i64, WorkEvent)>, StoreError> {
        if work_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT e.work_id, e.id, e.at, e.actor_kind, e.actor_id, e.actor_name, e.kind, e.from_status, e.to_status, \
             e.note, e.public, e.unit_id, u.code, u.name FROM work_events e LEFT JOIN org_units u ON u.id = e.unit_id \
             WHERE e.work_id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in work_ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        if public_only {
            qb.push(" AND e.public = 1");
        }
        qb.push(" ORDER BY e.work_id, e.id");
        let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.work_id,
                    WorkEvent {
                        id: r.id,
                        at: parse(&r.at)?,
                        actor: Actor { kind: r.actor_kind, id: r.actor_id, name: r.actor_name },
                        kind: r.kind,
                        from_status: r.from_status,
                        to_status: r.to_status,
                        note: r.note,
                        public: r.public,
                        unit: match (r.unit_id, r.code, r.name) {
                            (Some(id), Some(code), Some(name)) => Some(UnitRef { id: OrgUnitId(id), code, name }),
                            _ => None,
                        },
                    },
                ))
            })
            .collect()
    }

    /// Work items whose next check has come, oldest first.
    pub async fn work_due(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM work_items WHERE next_check_at IS NOT NULL AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2",
        )
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Records what the follower decided for one item: its new state, timeline entries, notices.
    /// `expect_check` guards against a step taken meanwhile: if the item's `next_check_at` is no
    /// longer the one the follower read, nothing is written and `false` is returned.
    pub async fn follow_up(
        &self,
        id: i64,
        expect_check: Option<DateTime<Utc>>,
        state: &WorkUpdate,
        events: &[NewEvent],
        notices: &[NewNotice],
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let current: Option<String> = sqlx::query_scalar("SELECT next_check_at FROM work_items WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if current != expect_check.map(ts) {
            return Ok(false);
        }
        write_work(&mut tx, id, state).await?;
        for e in events {
            insert_event(&mut tx, id, e, now).await?;
        }
        queue_notices(&mut tx, notices, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Notices due to be sent (first tries and retries).
    pub async fn notices_due(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Notice>, StoreError> {
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "SELECT id, address_kind, address, subject, body, reference, attempts FROM notifications
             WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, address_kind, address, subject, body, reference, attempts)| Notice {
                id,
                address_kind,
                address,
                subject,
                body,
                reference,
                attempts,
            })
            .collect())
    }

    /// Records a delivery attempt: sent, to retry at `retry_at`, or given up (`retry_at` None).
    pub async fn notice_attempted(
        &self,
        id: i64,
        outcome: Result<(), (&str, Option<DateTime<Utc>>)>,
    ) -> Result<(), StoreError> {
        let now = ts(self.clock.now());
        let q = match outcome {
            Ok(()) => sqlx::query(
                "UPDATE notifications SET status = 'sent', attempts = attempts + 1, sent_at = $1, next_attempt_at = NULL WHERE id = $2",
            )
            .bind(now)
            .bind(id),
            Err((error, retry_at)) => sqlx::query(
                "UPDATE notifications SET status = $1, attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $4",
            )
            .bind(if retry_at.is_some() { "pending" } else { "failed" })
            .bind(error.chars().take(500).collect::<String>())
            .bind(retry_at.map(ts))
            .bind(id),
        };
        q.execute(&self.writer).await?;
        Ok(())
    }
}
