//! Citizen reports: intake, the steps of the workflow, the queues and the public portal,
//! statistics, and the citizen's personal data (shown, logged, erased).

use crate::audit::{AuditCtx, Change, append, escape_like};
use crate::time::{parse, parse_opt, ts};
use crate::work::{
    NewEvent, NewNotice, WorkItem, WorkUpdate, insert_event, insert_work, load_work, load_works, queue_notices,
    write_work,
};
use crate::{Cursor, Page, Store, StoreError, UnitRef};
use chrono::{DateTime, Utc};
use haidang_core::{FieldCode, Invalid, OrgUnitId};
use haidang_reports::{Channel, Status, redact_personal};
use serde::Serialize;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A citizen's contact details, as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ContactDetails {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl ContactDetails {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none()
    }
}

/// A report as stored, with its following state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub id: i64,
    pub code: String,
    pub category_id: i64,
    pub category_field: Option<FieldCode>,
    pub status: Status,
    pub urgent: bool,
    pub channel: Channel,
    pub open311_client_id: Option<i64>,
    pub open311_token: Option<String>,
    pub title: String,
    pub description: String,
    pub public_description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub commune: Option<UnitRef>,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub contact: ContactDetails,
    pub confidential: bool,
    pub contact_erased_at: Option<DateTime<Utc>>,
    pub result: Option<String>,
    pub public_result: Option<String>,
    pub satisfied: Option<bool>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
    pub merged_into: Option<i64>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub photos: i64,
    pub work: WorkItem,
}

impl Report {
    /// What the visibility rule looks at: the commune it is in (or the unit that owns the work),
    /// the units handling and coordinating it, and the category's field.
    pub fn record(&self) -> haidang_core::Record {
        let mut handlers: Vec<OrgUnitId> = self.work.coordinators.iter().map(|u| u.id).collect();
        handlers.extend(self.work.handler_unit.as_ref().map(|u| u.id));
        haidang_core::Record { owner: self.work.owner, handlers, field: self.category_field.clone() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub report_id: i64,
    pub sha256: String,
    /// `image` or `video`.
    pub kind: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_thumb: bool,
    /// `report` (sent with the report) or `result` (the unit's result).
    pub purpose: String,
    pub published: bool,
    pub created_at: DateTime<Utc>,
}

/// A file already written to the media store, to record with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    pub sha256: String,
    pub kind: &'static str,
    pub content_type: String,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_thumb: bool,
    pub purpose: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub code: String,
    pub category_id: i64,
    pub urgent: bool,
    pub channel: Channel,
    pub open311_client_id: Option<i64>,
    pub open311_token: Option<String>,
    pub title: String,
    pub description: String,
    pub public_description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub commune: Option<OrgUnitId>,
    /// Who owns the work: the commune, or the province when the place is in none.
    pub owner: OrgUnitId,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub contact: ContactDetails,
    pub confidential: bool,
    pub consent: bool,
    pub attachments: Vec<NewAttachment>,
    pub work: WorkUpdate,
    pub event: NewEvent,
    pub notices: Vec<NewNotice>,
}

/// Fields a step changes on the report itself; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportSet {
    pub category_id: Option<i64>,
    pub urgent: Option<bool>,
    pub public_description: Option<String>,
    pub result: Option<String>,
    pub public_result: Option<String>,
    pub rating: Option<(bool, Option<String>)>,
    pub merged_into: Option<i64>,
    pub handling_due_at: Option<Option<DateTime<Utc>>>,
}

/// One step of the workflow, written atomically: the report, its work state, the timeline,
/// the audit log, the notices, and the attachments it publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportStep {
    /// The status the decision was made on; if the report moved meanwhile, the step is refused.
    pub from: Status,
    pub to: Status,
    pub set: ReportSet,
    pub work: Option<WorkUpdate>,
    pub event: NewEvent,
    /// Staff-only notes that go with a public step (the public step carries only public text).
    pub staff_note: Option<NewEvent>,
    pub notices: Vec<NewNotice>,
    pub publish_attachments: Vec<i64>,
    pub audit_action: &'static str,
}

/// Who may be shown a list row: each entry is one capability (its subtree, expanded, and the
/// fields it is narrowed to). `None` in the filter means no limit.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeEntry {
    pub units: Vec<OrgUnitId>,
    pub fields: Vec<FieldCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineFilter {
    Overdue,
    DueSoon,
    OnTrack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportSort {
    /// Soonest deadline first (work queues).
    #[default]
    Due,
    Received,
    ReceivedDesc,
    UpdatedDesc,
}

#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub scope: Option<Vec<ScopeEntry>>,
    /// A work queue: open work handled by one of these units, and (when `true`) the reports
    /// waiting on the IOC (to verify, re-route, approve or publish).
    pub inbox: Option<(Vec<OrgUnitId>, bool)>,
    pub status: Vec<Status>,
    pub categories: Vec<i64>,
    pub urgent: Option<bool>,
    pub deadline: Option<(DeadlineFilter, DateTime<Utc>)>,
    pub channel: Option<Channel>,
    pub commune: Option<OrgUnitId>,
    pub handler_units: Option<Vec<OrgUnitId>>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub q: Option<String>,
    pub sort: ReportSort,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    pub commune: Option<OrgUnitId>,
    pub categories: Vec<i64>,
    pub status: Option<Status>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// west, south, east, north
    pub bbox: Option<[f64; 4]>,
    pub q: Option<String>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// Counts for one group of reports in the statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ReportStats {
    pub received: i64,
    pub on_time: i64,
    pub late: i64,
    pub in_progress: i64,
    pub overdue: i64,
    pub resolved: i64,
    pub rejected: i64,
    pub satisfied: i64,
    pub unsatisfied: i64,
    pub satisfaction_rate: Option<f64>,
    pub mean_handling_hours: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    Unit,
    Category,
    Commune,
    Day,
}

#[derive(Debug, Clone, Default)]
pub struct StatsFilter {
    pub scope: Option<Vec<ScopeEntry>>,
    pub handler_units: Option<Vec<OrgUnitId>>,
    pub categories: Vec<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    code: String,
    work_id: i64,
    category_id: i64,
    category_field: Option<String>,
    status: String,
    urgent: bool,
    channel: String,
    open311_client_id: Option<i64>,
    open311_token: Option<String>,
    title: String,
    description: String,
    public_description: String,
    lat: f64,
    lon: f64,
    address: Option<String>,
    commune_id: Option<i64>,
    commune_code: Option<String>,
    commune_name: Option<String>,
    attributes: String,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    confidential: bool,
    contact_erased_at: Option<String>,
    result: Option<String>,
    public_result: Option<String>,
    satisfied: Option<bool>,
    rating_comment: Option<String>,
    rated_at: Option<String>,
    merged_into: Option<i64>,
    handling_due_at: Option<String>,
    received_at: String,
    verified_at: Option<String>,
    assigned_at: Option<String>,
    resolved_at: Option<String>,
    published_at: Option<String>,
    closed_at: Option<String>,
    updated_at: String,
    photos: i64,
}

const REPORT_SELECT: &str = "SELECT r.id, r.code, r.work_id, r.category_id, c.field AS category_field, r.status, \
     r.urgent, r.channel, r.open311_client_id, r.open311_token, r.title, r.description, r.public_description, r.lat, \
     r.lon, r.address, r.commune_id, cu.code AS commune_code, cu.name AS commune_name, r.attributes, r.contact_name, \
     r.contact_phone, r.contact_email, r.confidential, r.contact_erased_at, r.result, r.public_result, r.satisfied, \
     r.rating_comment, r.rated_at, r.merged_into, r.handling_due_at, r.received_at, r.verified_at, r.assigned_at, \
     r.resolved_at, r.published_at, r.closed_at, r.updated_at, \
     (SELECT COUNT(*) FROM report_attachments a WHERE a.report_id = r.id AND a.kind = 'image') AS photos \
     FROM reports r JOIN report_categories c ON c.id = r.category_id \
     LEFT JOIN org_units cu ON cu.id = r.commune_id";

fn report_of(r: ReportRow, work: WorkItem) -> Result<Report, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("report {}: {what}", r.id));
    Ok(Report {
        id: r.id,
        code: r.code.clone(),
        category_id: r.category_id,
        category_field: r.category_field.as_deref().map(FieldCode::parse).transpose().map_err(|_| corrupt("field"))?,
        status: Status::parse(&r.status).ok_or_else(|| corrupt("status"))?,
        urgent: r.urgent,
        channel: Channel::parse(&r.channel).ok_or_else(|| corrupt("channel"))?,
        open311_client_id: r.open311_client_id,
        open311_token: r.open311_token,
        title: r.title,
        description: r.description,
        public_description: r.public_description,
        lat: r.lat,
        lon: r.lon,
        address: r.address,
        commune: match (r.commune_id, r.commune_code, r.commune_name) {
            (Some(id), Some(code), Some(name)) => Some(UnitRef { id: OrgUnitId(id), code, name }),
            _ => None,
        },
        attributes: serde_json::from_str(&r.attributes).map_err(|_| corrupt("attributes"))?,
        contact: ContactDetails { name: r.contact_name, phone: r.contact_phone, email: r.contact_email },
        confidential: r.confidential,
        contact_erased_at: parse_opt(r.contact_erased_at)?,
        result: r.result,
        public_result: r.public_result,
        satisfied: r.satisfied,
        rating_comment: r.rating_comment,
        rated_at: parse_opt(r.rated_at)?,
        merged_into: r.merged_into,
        handling_due_at: parse_opt(r.handling_due_at)?,
        received_at: parse(&r.received_at)?,
        verified_at: parse_opt(r.verified_at)?,
        assigned_at: parse_opt(r.assigned_at)?,
        resolved_at: parse_opt(r.resolved_at)?,
        published_at: parse_opt(r.published_at)?,
        closed_at: parse_opt(r.closed_at)?,
        updated_at: parse(&r.updated_at)?,
        photos: r.photos,
        work,
    })
}

async fn load_report(conn: &mut SqliteConnection, where_: &str, key: impl ToString) -> Result<Report, StoreError> {
    let row: ReportRow = sqlx::query_as(&format!("{REPORT_SELECT} WHERE {where_} = $1"))
        .bind(key.to_string())
        .fetch_one(&mut *conn)
        .await?;
    let work = load_work(conn, row.work_id).await?;
    report_of(row, work)
}

/// Rows of a list with their work items, fetched for the whole page at once, not row by row.
async fn with_work(conn: &mut SqliteConnection, rows: Vec<ReportRow>) -> Result<Vec<Report>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.work_id).collect();
    let mut works = load_works(conn, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let work = works
                .remove(&row.work_id)
                .ok_or_else(|| StoreError::Corrupt(format!("report {}: no work item", row.id)))?;
            report_of(row, work)
        })
        .collect()
}

fn fold_for_search(parts: &[&str]) -> String {
    parts.iter().map(|p| haidang_text::fold(p)).collect::<Vec<_>>().join(" \u{1f} ")
}

/// The status timestamp a move into `to` sets (a reopened report loses its closing time).
fn stamp_column(to: Status) -> Option<&'static str> {
    match to {
        Status::Verified => Some("verified_at"),
        Status::Assigned => Some("assigned_at"),
        Status::Resolved => Some("resolved_at"),
        Status::Published => Some("published_at"),
        Status::Closed | Status::Rejected | Status::Merged => Some("closed_at"),
        _ => None,
    }
}

fn push_scope(qb: &mut QueryBuilder<'_, Sqlite>, scope: &Option<Vec<ScopeEntry>>) {
    let Some(entries) = scope else { return };
    if entries.is_empty() {
        qb.push(" AND 1 = 0");
        return;
    }
    qb.push(" AND (");
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        let units = |qb: &mut QueryBuilder<'_, Sqlite>| {
            let mut sep = qb.separated(", ");
            for u in &e.units {
                sep.push_bind(u.0);
            }
            if e.units.is_empty() {
                sep.push("NULL");
            }
        };
        qb.push("((w.owner_unit_id IN (");
        units(qb);
        qb.push(") OR w.handler_unit_id IN (");
        units(qb);
        qb.push(") OR EXISTS (SELECT 1 FROM work_coordinators wc WHERE wc.work_id = w.id AND wc.unit_id IN (");
        units(qb);
        qb.push(")))");
        if !e.fields.is_empty() {
            qb.push(" AND (c.field IS NULL OR c.field IN (");
            let mut sep = qb.separated(", ");
            for f in &e.fields {
                sep.push_bind(f.as_str().to_owned());
            }
            qb.push("))");
        }
        qb.push(")");
    }
    qb.push(")");
}

fn push_ids(qb: &mut QueryBuilder<'_, Sqlite>, column: &str, ids: &[i64]) {
    qb.push(format_args!(" AND {column} IN ("));
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    if ids.is_empty() {
        sep.push("NULL");
    }
    qb.push(")");
}

impl Store {
    /// Records a new report, its attachments (already in the media store), the start of its
    /// following, the first timeline entry and the notices, in one transaction.
    pub async fn create_report(&self, ctx: &AuditCtx, new: &NewReport) -> Result<Report, StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let work_id = insert_work(&mut tx, "report", new.owner, &new.work).await?;
        let search = fold_for_search(&[&new.code, &new.title, &new.description, new.address.as_deref().unwrap_or("")]);
        let attributes = serde_json::to_string(&new.attributes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reports (code, work_id, category_id, status, urgent, channel, open311_client_id, open311_token, \
             title, description, public_description, search_fold, public_fold, lat, lon, address, commune_id, attributes, \
             contact_name, contact_phone, contact_email, confidential, consent_at, received_at, updated_at)
             VALUES ($1, $2, $3, 'received', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $22, $23, $23) RETURNING id",
        )
        .bind(&new.code)
        .bind(work_id)
        .bind(new.category_id)
        .bind(new.urgent)
        .bind(new.channel.as_str())
        .bind(new.open311_client_id)
        .bind(&new.open311_token)
        .bind(&new.title)
        .bind(&new.description)
        .bind(&new.public_description)
        .bind(search)
        .bind(haidang_text::fold(&new.public_description))
        .bind(new.lat)
        .bind(new.lon)
        .bind(&new.address)
        .bind(new.commune.map(|u| u.0))
        .bind(attributes)
        .bind(&new.contact.name)
        .bind(&new.contact.phone)
        .bind(&new.contact.email)
        .bind(new.confidential)
        .bind(new.consent.then(|| ts(now)))
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Invalid(_) => Invalid::field("category_id", "no such category").into(),
            other => other,
        })?;
        for a in &new.attachments {
            insert_attachment(&mut tx, id, a, now).await?;
        }
        insert_event(&mut tx, work_id, &new.event, now).await?;
        queue_notices(&mut tx, &new.notices, now).await?;
        let report = load_report(&mut tx, "r.id", id).await?;
        let mut change = Change::new("report.create", "report", id)
            .after(serde_json::json!({ "code": report.code, "category_id": report.category_id, "channel": report.channel, "urgent": report.urgent }));
        change.unit_id = Some(new.owner);
        append(&mut tx, ctx, change, now).await?;
        tx.commit().await?;
        Ok(report)
    }

    pub async fn report(&self, id: i64) -> Result<Report, StoreError> {
        let mut conn = self.reader.acquire().await?;
        load_report(&mut conn, "r.id", id).await
    }

    pub async fn report_by_code(&self, code: &str) -> Result<Report, StoreError> {
        let mut conn = self.reader.acquire().await?;
        load_report(&mut conn, "r.code", code).await
    }

    pub async fn report_by_work(&self, work_id: i64) -> Result<Report, StoreError> {
        let mut conn = self.reader.acquire().await?;
        load_report(&mut conn, "r.work_id", work_id).await
    }

    pub async fn report_by_open311_token(&self, token: &str) -> Result<Report, StoreError> {
        let mut conn = self.reader.acquire().await?;
        load_report(&mut conn, "r.open311_token", token).await
    }

    /// Takes one step of the workflow. Refused with a conflict when the report is no longer in
    /// `step.from` (someone else acted first).
    pub async fn report_step(&self, ctx: &AuditCtx, id: i64, step: &ReportStep) -> Result<Report, StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let before = load_report(&mut tx, "r.id", id).await?;
        if before.status != step.from {
            return Err(StoreError::Conflict(format!(
                "the report is now {}, not {}: reload it",
                before.status.as_str(),
                step.from.as_str()
            )));
        }
        let mut qb = QueryBuilder::<Sqlite>::new("UPDATE reports SET status = ");
        qb.push_bind(step.to.as_str()).push(", updated_at = ").push_bind(ts(now));
        if let Some(col) = stamp_column(step.to) {
            qb.push(format_args!(", {col} = ")).push_bind(ts(now));
        }
        if step.to == Status::Assigned && before.status.is_public() {
            qb.push(", closed_at = NULL, satisfied = NULL, rated_at = NULL, rating_comment = NULL");
        }
        if step.to == Status::Resolved {
            let handling = before.assigned_at.map(|a| (now - a).num_seconds());
            qb.push(", handling_seconds = ").push_bind(handling);
        }
        let s = &step.set;
        if let Some(v) = s.category_id {
            qb.push(", category_id = ").push_bind(v);
        }
        if let Some(v) = s.urgent {
            qb.push(", urgent = ").push_bind(v);
        }
        if let Some(v) = &s.public_description {
            qb.push(", public_description = ").push_bind(v.clone());
            qb.push(", public_fold = ").push_bind(haidang_text::fold(v));
        }
        if let Some(v) = &s.result {
            qb.push(", result = ").push_bind(v.clone());
        }
        if let Some(v) = &s.public_result {
            qb.push(", public_result = ").push_bind(v.clone());
        }
        if let Some((satisfied, comment)) = &s.rating {
            qb.push(", satisfied = ").push_bind(*satisfied);
            qb.push(", rating_comment = ").push_bind(comment.clone());
            qb.push(", rated_at = ").push_bind(ts(now));
        }
        if let Some(v) = s.merged_into {
            qb.push(", merged_into = ").push_bind(v);
        }
        if let Some(v) = s.handling_due_at {
            qb.push(", handling_due_at = ").push_bind(v.map(ts));
        }
        qb.push(" WHERE id = ").push_bind(id);
        qb.build().execute(&mut *tx).await.map_err(|e| match StoreError::from(e) {
            StoreError::Invalid(_) => Invalid::field("category_id", "no such category").into(),
            other => other,
        })?;
        if let Some(w) = &step.work {
            write_work(&mut tx, before.work.id, w).await?;
        }
        for a in &step.publish_attachments {
            let done = sqlx::query("UPDATE report_attachments SET published = 1 WHERE id = $1 AND report_id = $2")
                .bind(a)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(Invalid::field(
                    "publish_attachment_ids",
                    format!("{a} is not an attachment of this report"),
                )
                .into());
            }
        }
        insert_event(&mut tx, before.work.id, &step.event, now).await?;
        if let Some(note) = &step.staff_note {
            insert_event(&mut tx, before.work.id, note, now).await?;
        }
        queue_notices(&mut tx, &step.notices, now).await?;
        let after = load_report(&mut tx, "r.id", id).await?;
        let mut change = Change::new(step.audit_action, "report", id)
            .before(serde_json::json!({ "status": before.status, "handler": before.work.handler_unit.as_ref().map(|u| u.id) }))
            .after(serde_json::json!({ "status": after.status, "handler": after.work.handler_unit.as_ref().map(|u| u.id), "note": step.staff_note.as_ref().map_or(&step.event.note, |n| &n.note) }));
        change.unit_id = Some(after.work.owner);
        append(&mut tx, ctx, change, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Adds an entry to a report's timeline without changing its status (e.g. a contact view).
    pub async fn report_note(
        &self,
        ctx: &AuditCtx,
        id: i64,
        event: &NewEvent,
        audit_action: &'static str,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let (work_id, owner): (i64, i64) = sqlx::query_as(
            "SELECT r.work_id, w.owner_unit_id FROM reports r JOIN work_items w ON w.id = r.work_id WHERE r.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        insert_event(&mut tx, work_id, event, now).await?;
        let mut change = Change::new(audit_action, "report", id);
        change.unit_id = Some(OrgUnitId(owner));
        append(&mut tx, ctx, change, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_report_attachment(
        &self,
        ctx: &AuditCtx,
        report_id: i64,
        a: &NewAttachment,
    ) -> Result<Attachment, StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let owner: i64 = sqlx::query_scalar(
            "SELECT w.owner_unit_id FROM reports r JOIN work_items w ON w.id = r.work_id WHERE r.id = $1",
        )
        .bind(report_id)
        .fetch_one(&mut *tx)
        .await?;
        let id = insert_attachment(&mut tx, report_id, a, now).await?;
        let mut change = Change::new("report.attach", "report", report_id)
            .after(serde_json::json!({ "attachment": id, "purpose": a.purpose, "bytes": a.bytes }));
        change.unit_id = Some(OrgUnitId(owner));
        append(&mut tx, ctx, change, now).await?;
        tx.commit().await?;
        self.attachment(id).await
    }

    pub async fn attachment(&self, id: i64) -> Result<Attachment, StoreError> {
        let row: AttachmentRow =
            sqlx::query_as(&format!("{ATTACHMENT_SELECT} WHERE id = $1")).bind(id).fetch_one(&self.reader).await?;
        attachment_of(row)
    }

    pub async fn report_attachments(&self, report_id: i64) -> Result<Vec<Attachment>, StoreError> {
        let rows: Vec<AttachmentRow> = sqlx::query_as(&format!("{ATTACHMENT_SELECT} WHERE report_id = $1 ORDER BY id"))
            .bind(report_id)
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter().map(attachment_of).collect()
    }

    /// The attachments of several reports (a list page), by report id.
    pub async fn attachments_of(&self, report_ids: &[i64]) -> Result<Vec<Attachment>, StoreError> {
        if report_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Sqlite>::new(format!("{ATTACHMENT_SELECT} WHERE report_id IN ("));
        let mut sep = qb.separated(", ");
        for id in report_ids {
            sep.push_bind(*id);
        }
        qb.push(") ORDER BY id");
        let rows: Vec<AttachmentRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(attachment_of).collect()
    }

    /// Every stored file some attachment refers to (to sweep orphans from the media store).
    pub async fn attachment_hashes(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT DISTINCT sha256 FROM report_attachments").fetch_all(&self.reader).await?)
    }

    pub async fn list_reports(&self, f: &ReportFilter) -> Result<Page<Report>, StoreError> {
        let sort_key = match f.sort {
            ReportSort::Due => "COALESCE(w.due_at, '9999')",
            ReportSort::Received | ReportSort::ReceivedDesc => "r.received_at",
            ReportSort::UpdatedDesc => "r.updated_at",
        };
        let desc = matches!(f.sort, ReportSort::ReceivedDesc | ReportSort::UpdatedDesc);
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("{REPORT_SELECT} JOIN work_items w ON w.id = r.work_id WHERE 1 = 1"));
        push_scope(&mut qb, &f.scope);
        if let Some((units, dispatch)) = &f.inbox {
            qb.push(" AND w.open = 1 AND ((r.status IN ('assigned', 'in_progress')");
            push_ids(&mut qb, "w.handler_unit_id", &units.iter().map(|u| u.0).collect::<Vec<_>>());
            qb.push(")");
            if *dispatch {
                qb.push(" OR r.status IN ('received', 'verified', 'returned', 'resolved', 'approved')");
            }
            qb.push(")");
        }
        if let Some(units) = &f.handler_units {
            push_ids(&mut qb, "w.handler_unit_id", &units.iter().map(|u| u.0).collect::<Vec<_>>());
        }
        if !f.status.is_empty() {
            qb.push(" AND r.status IN (");
            let mut sep = qb.separated(", ");
            for s in &f.status {
                sep.push_bind(s.as_str());
            }
            qb.push(")");
        }
        if !f.categories.is_empty() {
            push_ids(&mut qb, "r.category_id", &f.categories);
        }
        if let Some(u) = f.urgent {
            qb.push(" AND r.urgent = ").push_bind(u);
        }
        if let Some((d, now)) = f.deadline {
            let now = ts(now);
            qb.push(" AND w.open = 1 AND w.due_at IS NOT NULL");
            match d {
                DeadlineFilter::Overdue => qb.push(" AND w.due_at <= ").push_bind(now),
                DeadlineFilter::DueSoon => {
                    qb.push(" AND w.due_at > ").push_bind(now.clone()).push(" AND w.warn_at <= ").push_bind(now)
                }
                DeadlineFilter::OnTrack => qb.push(" AND w.warn_at > ").push_bind(now),
            };
        }
        if let Some(c) = f.channel {
            qb.push(" AND r.channel = ").push_bind(c.as_str());
        }
        if let Some(c) = f.commune {
            qb.push(" AND r.commune_id = ").push_bind(c.0);
        }
        if let Some(t) = f.from {
            qb.push(" AND r.received_at >= ").push_bind(ts(t));
        }
        if let Some(t) = f.to {
            qb.push(" AND r.received_at < ").push_bind(ts(t));
        }
        if let Some(q) = f.q.as_deref().map(haidang_text::fold).filter(|q| !q.is_empty()) {
            qb.push(" AND r.search_fold LIKE ").push_bind(format!("%{}%", escape_like(&q))).push(" ESCAPE '\\'");
        }
        if let Some(c) = &f.cursor {
            let op = if desc { "<" } else { ">" };
            qb.push(format_args!(" AND ({sort_key} {op} ")).push_bind(c.key.clone());
            qb.push(format_args!(" OR ({sort_key} = ")).push_bind(c.key.clone());
            qb.push(format_args!(" AND r.id {op} ")).push_bind(c.id).push("))");
        }
        let dir = if desc { "DESC" } else { "ASC" };
        qb.push(format_args!(" ORDER BY {sort_key} {dir}, r.id {dir} LIMIT ")).push_bind(f.limit as i64 + 1);
        let rows: Vec<ReportRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        let mut conn = self.reader.acquire().await?;
        let items = with_work(&mut conn, rows).await?;
        let sort = f.sort;
        Ok(Page::from_rows(items, f.limit, |r| Cursor {
            key: match sort {
                ReportSort::Due => r.work.due_at.map(ts).unwrap_or_else(|| "9999".into()),
                ReportSort::Received | ReportSort::ReceivedDesc => ts(r.received_at),
                ReportSort::UpdatedDesc => ts(r.updated_at),
            },
            id: r.id,
        }))
    }

    /// Published and closed reports for the public portal, newest result first.
    pub async fn list_public_reports(&self, f: &PublicFilter) -> Result<Page<Report>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "{REPORT_SELECT} WHERE r.published_at IS NOT NULL AND r.status IN ('published', 'closed')"
        ));
        if let Some(c) = f.commune {
            qb.push(" AND r.commune_id = ").push_bind(c.0);
        }
        if !f.categories.is_empty() {
            push_ids(&mut qb, "r.category_id", &f.categories);
        }
        if let Some(s) = f.status {
            qb.push(" AND r.status = ").push_bind(s.as_str());
        }
        if let Some(t) = f.from {
            qb.push(" AND r.received_at >= ").push_bind(ts(t));
        }
        if let Some(t) = f.to {
            qb.push(" AND r.received_at < ").push_bind(ts(t));
        }
        if let Some([w, s, e, n]) = f.bbox {
            qb.push(" AND r.lat BETWEEN ").push_bind(s).push(" AND ").push_bind(n);
            qb.push(" AND r.lon BETWEEN ").push_bind(w).push(" AND ").push_bind(e);
        }
        if let Some(q) = f.q.as_deref().map(haidang_text::fold).filter(|q| !q.is_empty()) {
            // Only what the public sees is searched: not the raw description.
            qb.push(" AND r.public_fold LIKE ").push_bind(format!("%{}%", escape_like(&q))).push(" ESCAPE '\\'");
        }
        if let Some(c) = &f.cursor {
            qb.push(" AND (r.published_at < ").push_bind(c.key.clone());
            qb.push(" OR (r.published_at = ").push_bind(c.key.clone());
            qb.push(" AND r.id < ").push_bind(c.id).push("))");
        }
        qb.push(" ORDER BY r.published_at DESC, r.id DESC LIMIT ").push_bind(f.limit as i64 + 1);
        let rows: Vec<ReportRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        let mut conn = self.reader.acquire().await?;
        let items = with_work(&mut conn, rows).await?;
        Ok(Page::from_rows(items, f.limit, |r| Cursor { key: r.published_at.map(ts).unwrap_or_default(), id: r.id }))
    }

    /// Open reports of the same category near a place, received since `since`: duplicate candidates.
    pub async fn reports_near(
        &self,
        category_id: i64,
        lat: f64,
        lon: f64,
        degrees: f64,
        since: DateTime<Utc>,
        exclude: i64,
    ) -> Result<Vec<Report>, StoreError> {
        let rows: Vec<ReportRow> = sqlx::query_as(&format!(
            "{REPORT_SELECT} WHERE r.lat BETWEEN $1 AND $2 AND r.lon BETWEEN $3 AND $4 AND r.category_id = $5 \
             AND r.received_at >= $6 AND r.id <> $7 AND r.status NOT IN ('rejected', 'merged') ORDER BY r.received_at DESC LIMIT 20"
        ))
        .bind(lat - degrees)
        .bind(lat + degrees)
        .bind(lon - degrees)
        .bind(lon + degrees)
        .bind(category_id)
        .bind(ts(since))
        .bind(exclude)
        .fetch_all(&self.reader)
        .await?;
        let mut conn = self.reader.acquire().await?;
        with_work(&mut conn, rows).await
    }

    /// Reports merged into this one (their reporters are told of its progress too).
    pub async fn merged_into(&self, id: i64) -> Result<Vec<Report>, StoreError> {
        let rows: Vec<ReportRow> = sqlx::query_as(&format!("{REPORT_SELECT} WHERE r.merged_into = $1 ORDER BY r.id"))
            .bind(id)
            .fetch_all(&self.reader)
            .await?;
        let mut conn = self.reader.acquire().await?;
        with_work(&mut conn, rows).await
    }

    /// Statistics per group, and for all groups together (the key `""`).
    pub async fn report_stats(
        &self,
        f: &StatsFilter,
        group: StatsGroup,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String, ReportStats)>, StoreError> {
        let (key, name, join) = match group {
            StatsGroup::Unit => {
                ("CAST(w.handler_unit_id AS TEXT)", "gu.name", "LEFT JOIN org_units gu ON gu.id = w.handler_unit_id")
            }
            StatsGroup::Category => ("CAST(r.category_id AS TEXT)", "c.name_vi", ""),
            StatsGroup::Commune => {
                ("CAST(r.commune_id AS TEXT)", "gu.name", "LEFT JOIN org_units gu ON gu.id = r.commune_id")
            }
            StatsGroup::Day => ("SUBSTR(r.received_at, 1, 10)", "SUBSTR(r.received_at, 1, 10)", ""),
        };
        let now = ts(now);
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT COALESCE({key}, ''), COALESCE(MAX({name}), ''), COUNT(*), \
             SUM(CASE WHEN r.resolved_at IS NOT NULL AND (r.handling_due_at IS NULL OR r.resolved_at <= r.handling_due_at) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN (r.resolved_at IS NOT NULL AND r.resolved_at > r.handling_due_at) \
                 OR (r.resolved_at IS NULL AND w.open = 1 AND r.handling_due_at < "
        ));
        qb.push_bind(now.clone());
        qb.push(
            ") THEN 1 ELSE 0 END), \
             SUM(CASE WHEN r.status IN ('received', 'verified', 'assigned', 'returned', 'in_progress') THEN 1 ELSE 0 END), \
             SUM(CASE WHEN w.open = 1 AND r.resolved_at IS NULL AND w.due_at < ",
        );
        qb.push_bind(now);
        qb.push(format_args!(
            " THEN 1 ELSE 0 END), \
             SUM(CASE WHEN r.resolved_at IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN r.status IN ('rejected', 'merged') THEN 1 ELSE 0 END), \
             SUM(CASE WHEN r.satisfied = 1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN r.satisfied = 0 THEN 1 ELSE 0 END), \
             AVG(r.handling_seconds) \
             FROM reports r JOIN work_items w ON w.id = r.work_id JOIN report_categories c ON c.id = r.category_id {join} WHERE 1 = 1"
        ));
        push_scope(&mut qb, &f.scope);
        if let Some(units) = &f.handler_units {
            push_ids(&mut qb, "w.handler_unit_id", &units.iter().map(|u| u.0).collect::<Vec<_>>());
        }
        if !f.categories.is_empty() {
            push_ids(&mut qb, "r.category_id", &f.categories);
        }
        if let Some(t) = f.from {
            qb.push(" AND r.received_at >= ").push_bind(ts(t));
        }
        if let Some(t) = f.to {
            qb.push(" AND r.received_at < ").push_bind(ts(t));
        }
        qb.push(format_args!(" GROUP BY {key} ORDER BY {key}"));
        type Row = (String, String, i64, i64, i64, i64, i64, i64, i64, i64, i64, Option<f64>);
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&self.reader).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let rated = r.9 + r.10;
                let stats = ReportStats {
                    received: r.2,
                    on_time: r.3,
                    late: r.4,
                    in_progress: r.5,
                    overdue: r.6,
                    resolved: r.7,
                    rejected: r.8,
                    satisfied: r.9,
                    unsatisfied: r.10,
                    satisfaction_rate: (rated > 0).then(|| r.9 as f64 / rated as f64),
                    mean_handling_hours: r.11.map(|s| s / 3600.0),
                };
                (r.0, r.1, stats)
            })
            .collect())
    }

    /// A citizen's reports found by the e-mail or phone they gave (privacy requests).
    pub async fn reports_by_contact(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Vec<Report>, StoreError> {
        let rows: Vec<ReportRow> = sqlx::query_as(&format!(
            "{REPORT_SELECT} WHERE (r.contact_email = $1 AND $1 IS NOT NULL) OR (r.contact_phone = $2 AND $2 IS NOT NULL) ORDER BY r.id LIMIT 1000"
        ))
        .bind(email)
        .bind(phone)
        .fetch_all(&self.reader)
        .await?;
        let mut conn = self.reader.acquire().await?;
        with_work(&mut conn, rows).await
    }

    /// Erases the contact details of the given reports (with phones and e-mails written into
    /// their text) and drops notices not yet sent to them.
    pub async fn erase_contacts(&self, ctx: &AuditCtx, ids: &[i64], reason: &str) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let mut erased = 0;
        for id in ids {
            let row: Option<(String, i64, i64)> = sqlx::query_as(
                "UPDATE reports SET contact_name = NULL, contact_phone = NULL, contact_email = NULL, contact_erased_at = $1 \
                 WHERE id = $2 AND (contact_name IS NOT NULL OR contact_phone IS NOT NULL OR contact_email IS NOT NULL) \
                 RETURNING code, work_id, (SELECT owner_unit_id FROM work_items WHERE work_items.id = reports.work_id)",
            )
            .bind(ts(now))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((code, work_id, owner)) = row else { continue };
            // Phones and e-mails the citizen typed into the text go too.
            let (title, description, address): (String, String, Option<String>) =
                sqlx::query_as("SELECT title, description, address FROM reports WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let (title, description) = (redact_personal(&title), redact_personal(&description));
            let search = fold_for_search(&[&code, &title, &description, address.as_deref().unwrap_or("")]);
            sqlx::query("UPDATE reports SET title = $1, description = $2, search_fold = $3 WHERE id = $4")
                .bind(&title)
                .bind(&description)
                .bind(search)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM notifications WHERE reference = $1 AND status = 'pending'")
                .bind(&code)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE notifications SET address = '' WHERE reference = $1")
                .bind(&code)
                .execute(&mut *tx)
                .await?;
            let event = NewEvent {
                actor: ctx.actor.clone(),
                kind: "contact_erased".into(),
                from_status: None,
                to_status: None,
                note: Some(reason.to_owned()),
                public: false,
                unit: None,
            };
            insert_event(&mut tx, work_id, &event, now).await?;
            let mut change =
                Change::new("report.erase_contact", "report", id).after(serde_json::json!({ "reason": reason }));
            change.unit_id = Some(OrgUnitId(owner));
            append(&mut tx, ctx, change, now).await?;
            erased += 1;
        }
        tx.commit().await?;
        Ok(erased)
    }

    /// Reports closed before `closed_before` that still hold contact details (to erase them).
    pub async fn reports_with_stale_contacts(
        &self,
        closed_before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM reports WHERE contact_erased_at IS NULL AND closed_at IS NOT NULL AND closed_at < $1 \
             AND status IN ('closed', 'rejected', 'merged') \
             AND (contact_name IS NOT NULL OR contact_phone IS NOT NULL OR contact_email IS NOT NULL) LIMIT $2",
        )
        .bind(ts(closed_before))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Published reports whose rating window ended before `published_before`, unrated.
    pub async fn reports_awaiting_rating(
        &self,
        published_before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM reports WHERE status = 'published' AND published_at < $1 ORDER BY published_at LIMIT $2",
        )
        .bind(ts(published_before))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: i64,
    report_id: i64,
    sha256: String,
    kind: String,
    content_type: String,
    bytes: i64,
    width: Option<i64>,
    height: Option<i64>,
    has_thumb: bool,
    purpose: String,
    published: bool,
    created_at: String,
}

const ATTACHMENT_SELECT: &str = "SELECT id, report_id, sha256, kind, content_type, bytes, width, height, has_thumb, \
     purpose, published, created_at FROM report_attachments";

fn attachment_of(r: AttachmentRow) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        id: r.id,
        report_id: r.report_id,
        sha256: r.sha256,
        kind: r.kind,
        content_type: r.content_type,
        bytes: r.bytes,
        width: r.width,
        height: r.height,
        has_thumb: r.has_thumb,
        purpose: r.purpose,
        published: r.published,
        created_at: parse(&r.created_at)?,
    })
}

async fn insert_attachment(
    conn: &mut SqliteConnection,
    report_id: i64,
    a: &NewAttachment,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO report_attachments (report_id, sha256, kind, content_type, bytes, width, height, has_thumb, purpose, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(report_id)
    .bind(&a.sha256)
    .bind(a.kind)
    .bind(&a.content_type)
    .bind(a.bytes)
    .bind(a.width)
    .bind(a.height)
    .bind(a.has_thumb)
    .bind(a.purpose)
    .bind(ts(now))
    .fetch_one(&mut *conn)
    .await?)
}
