//! Staff side of citizen reports: work queues, detail, the workflow's actions, attachments,
//! duplicates, contact details (logged), statistics and exports.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Authn, Json, Need, Query, perm};
use crate::reports::intake::{self, ReportInput, Submission};
use crate::reports::upload::MediaQuery;
use crate::reports::views::{AttachmentView, ContactPanel, ReportDetail, ReportSummary, rating_of};
use crate::reports::with_children;
use crate::reports::workflow::{self, ActionRequest};
use crate::routes::{Limit, page_params};
use crate::state::AppState;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use haidang_core::{OrgUnitId, Permission, Principal};
use haidang_reports::{Channel, Status};
use haidang_store::{
    ContactDetails, DeadlineFilter, Page, Report, ReportFilter, ReportSort, ReportStats, ScopeEntry, StatsFilter,
    StatsGroup,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reports, create_report))
        .routes(routes!(export_reports))
        .routes(routes!(report_stats))
        .routes(routes!(export_stats))
        .routes(routes!(bulk))
        .routes(routes!(get_report))
        .routes(routes!(get_contact))
        .routes(routes!(take_action))
        .routes(routes!(duplicates))
        .routes(routes!(upload_attachment))
        .routes(routes!(get_attachment))
}

/// Where a capability to read reports reaches, as the store filters lists. `None`: everywhere.
pub fn read_scope(state: &AppState, principal: &Principal, permission: Permission) -> Option<Vec<ScopeEntry>> {
    if principal.is_system() {
        return None;
    }
    let tree = state.tree();
    let roots = tree.roots();
    let caps: Vec<_> = principal.capabilities.iter().filter(|c| c.permissions.contains(&permission)).collect();
    if caps.iter().any(|c| c.fields.is_empty() && roots.contains(&c.unit)) {
        return None;
    }
    Some(caps.iter().map(|c| ScopeEntry { units: tree.subtree(c.unit), fields: c.fields.clone() }).collect())
}

/// The report, if the caller may read it; otherwise not found (its existence is not revealed).
async fn readable(state: &AppState, authn: &Authn, id: i64) -> ApiResult<Report> {
    let report = state.store.report(id).await?;
    if !authn.principal.can(Permission::ReportsRead, &report.record(), &state.tree()) {
        return Err(ApiError::NotFound);
    }
    Ok(report)
}

/// In the handling chain: the IOC dispatching it, or the unit handling or coordinating it.
fn in_handling_chain(state: &AppState, principal: &Principal, report: &Report) -> bool {
    let tree = state.tree();
    principal.can(Permission::ReportsDispatch, &report.record(), &tree)
        || report
            .work
            .handler_unit
            .iter()
            .chain(&report.work.coordinators)
            .any(|u| principal.can_at(Permission::ReportsHandle, u.id, &tree))
}

async fn detail(state: &AppState, authn: &Authn, report: Report) -> ApiResult<ReportDetail> {
    let categories = state.store.categories().await?;
    let now = state.clock.now();
    let attachments = state.store.report_attachments(report.id).await?;
    let timeline = state.store.work_events(report.work.id).await?;
    let duplicates_merged = state.store.merged_into(report.id).await?.iter().map(|r| r.id).collect();
    Ok(ReportDetail {
        summary: ReportSummary::of(&report, &categories, now, true),
        attributes: report.attributes.clone(),
        public_description: report.public_description.clone(),
        contact: ContactPanel {
            present: !report.contact.is_empty(),
            erased: report.contact_erased_at.is_some(),
            may_view: in_handling_chain(state, &authn.principal, &report),
        },
        confidential: report.confidential,
        result: report.result.clone(),
        public_result: report.public_result.clone(),
        rating: rating_of(&report),
        attachments: attachments.iter().map(AttachmentView::of).collect(),
        merged_into: report.merged_into,
        duplicates_merged,
        handling_due_at: report.handling_due_at,
        allowed_actions: workflow::allowed_actions(state, &authn.principal, &report),
        timeline,
    })
}

fn comma_list<T>(field: &str, value: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> ApiResult<Vec<T>> {
    value
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| parse(v).ok_or_else(|| ApiError::field(field, format!("{v:?} is not a known value"))))
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `inbox` (default): open work waiting on the unit (the caller's own, or `unit`); `all`: every report the caller may read.
    view: Option<String>,
    /// For `inbox`: whose queue; for `all`: reports handled by this unit or below.
    unit: Option<i64>,
    /// Comma-separated statuses.
    status: Option<String>,
    category: Option<i64>,
    urgent: Option<bool>,
    /// `overdue`, `due_soon` or `on_track`.
    deadline: Option<String>,
    channel: Option<String>,
    commune: Option<i64>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    /// Text in the code, title, description or address; diacritics ignored.
    q: Option<String>,
    /// `due` (default for the inbox), `received`, `-received` (default for all), `-updated`.
    sort: Option<String>,
    limit: Option<Limit>,
    cursor: Option<String>,
    /// Exports only: `csv` or `xlsx`.
    format: Option<String>,
}

async fn filter(state: &AppState, authn: &Authn, q: &ListQuery, limit: usize) -> ApiResult<ReportFilter> {
    let (_, cursor) = page_params(None, q.cursor.as_deref())?;
    let tree = state.tree();
    let principal = &authn.principal;
    let inbox = match q.view.as_deref().unwrap_or("inbox") {
        "inbox" => true,
        "all" => false,
        _ => return Err(ApiError::field("view", "must be inbox or all")),
    };
    let unit = match q.unit {
        Some(id) => {
            let u = OrgUnitId(id);
            if !tree.contains(u) || !principal.can_at(Permission::ReportsRead, u, &tree) {
                return Err(ApiError::field("unit", "no such unit in your scope"));
            }
            Some(u)
        }
        None => None,
    };
    let mut f = ReportFilter {
        scope: read_scope(state, principal, Permission::ReportsRead),
        limit,
        cursor,
        status: comma_list("status", q.status.as_deref(), Status::parse)?,
        urgent: q.urgent,
        channel: q
            .channel
            .as_deref()
            .map(|c| Channel::parse(c).ok_or_else(|| ApiError::field("channel", "unknown channel")))
            .transpose()?,
        commune: q.commune.map(OrgUnitId),
        from: q.from,
        to: q.to,
        q: q.q.clone().filter(|t| !t.trim().is_empty()),
        ..Default::default()
    };
    if q.q.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::field("q", "must be at most 200 characters"));
    }
    if let Some(c) = q.category {
        f.categories = with_children(&state.store.categories().await?, c);
    }
    if let Some(d) = q.deadline.as_deref() {
        let d = match d {
            "overdue" => DeadlineFilter::Overdue,
            "due_soon" => DeadlineFilter::DueSoon,
            "on_track" => DeadlineFilter::OnTrack,
            _ => return Err(ApiError::field("deadline", "must be overdue, due_soon or on_track")),
        };
        f.deadline = Some((d, state.clock.now()));
    }
    f.sort = match q.sort.as_deref() {
        None if inbox => ReportSort::Due,
        None => ReportSort::ReceivedDesc,
        Some("due") => ReportSort::Due,
        Some("received") => ReportSort::Received,
        Some("-received") => ReportSort::ReceivedDesc,
        Some("-updated") => ReportSort::UpdatedDesc,
        Some(_) => return Err(ApiError::field("sort", "must be due, received, -received or -updated")),
    };
    if inbox {
        let own = unit.or_else(|| authn.user.as_ref().map(|u| u.home_unit.id));
        // The unit's queue and its sub-units' (a department sees its divisions' work).
        let units: Vec<OrgUnitId> = own.map(|u| tree.subtree(u)).unwrap_or_default();
        let dispatch = principal.has(Permission::ReportsDispatch) && units.contains(&state.reports.dispatch_unit());
        f.inbox = Some((units, dispatch || principal.is_system()));
    } else if let Some(u) = unit {
        f.handler_units = Some(tree.subtree(u));
    }
    Ok(f)
}

/// Reports in a work queue or across the caller's scope.
#[utoipa::path(get, path = "/api/reports", tag = "reports", params(ListQuery),
    responses((status = 200, body = Page<ReportSummary>), (status = 422, body = Problem)))]
async fn list_reports(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Page<ReportSummary>>> {
    let (limit, _) = page_params(q.limit, None)?;
    let f = filter(&state, &need, &q, limit).await?;
    let page = state.store.list_reports(&f).await?;
    let categories = state.store.categories().await?;
    let now = state.clock.now();
    Ok(axum::Json(Page {
        items: page.items.iter().map(|r| ReportSummary::of(r, &categories, now, false)).collect(),
        next_cursor: page.next_cursor,
    }))
}

const EXPORT_MAX: usize = 100_000;
const EXPORT_COLUMNS: [&str; 16] = [
    "id",
    "code",
    "status",
    "urgent",
    "channel",
    "category",
    "title",
    "commune",
    "handler_unit",
    "received_at",
    "due_at",
    "deadline",
    "resolved_at",
    "closed_at",
    "satisfied",
    "description",
];

/// The filtered list as CSV or XLSX (at most 100,000 reports).
#[utoipa::path(get, path = "/api/reports/export", tag = "reports", params(ListQuery),
    responses((status = 200, description = "text/csv or XLSX"), (status = 422, body = Problem)))]
async fn export_reports(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let xlsx = crate::export::format_of(q.format.as_deref())?;
    let f = filter(&state, &need, &q, EXPORT_MAX).await?;
    let reports = state.store.list_reports(&f).await?.items;
    let categories = state.store.categories().await?;
    let now = state.clock.now();
    let t = |v: Option<DateTime<Utc>>| v.map(|t| t.to_rfc3339()).unwrap_or_default();
    let rows = reports
        .iter()
        .map(|r| {
            let s = ReportSummary::of(r, &categories, now, true);
            vec![
                r.id.to_string(),
                r.code.clone(),
                r.status.as_str().into(),
                r.urgent.to_string(),
                r.channel.as_str().into(),
                s.category.name_vi,
                r.title.clone(),
                r.commune.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                r.work.handler_unit.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                r.received_at.to_rfc3339(),
                t(r.work.due_at),
                s.deadline
                    .map(|d| {
                        serde_json::to_value(d.state)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    })
                    .unwrap_or_default(),
                t(r.resolved_at),
                t(r.closed_at),
                r.satisfied.map(|b| b.to_string()).unwrap_or_default(),
                r.description.clone(),
            ]
        })
        .collect();
    let stamp = now.format("%Y%m%d-%H%M%S").to_string();
    crate::export::table("reports", "Phản ánh", stamp, xlsx, &EXPORT_COLUMNS, rows).await
}

/// Enters a report taken by phone, at the counter, from Zalo or by e-mail.
#[utoipa::path(post, path = "/api/reports", tag = "reports", request_body = ReportInput,
    responses((status = 201, body = ReportDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_report(
    State(state): State<AppState>,
    need: Need<perm::ReportsDispatch>,
    Json(req): Json<ReportInput>,
) -> ApiResult<(StatusCode, axum::Json<ReportDetail>)> {
    let channel = req
        .channel
        .as_deref()
        .and_then(Channel::parse)
        .filter(|c| c.is_staff_entered())
        .ok_or_else(|| ApiError::field("channel", "must be hotline, in_person, zalo, email or staff"))?;
    let sub = Submission::new(channel, req);
    let ctx = need.audit();
    let report = intake::submit(&state, &ctx, ctx.actor.clone(), sub, Vec::new()).await?;
    Ok((StatusCode::CREATED, axum::Json(detail(&state, &need, report).await?)))
}

#[utoipa::path(get, path = "/api/reports/{id}", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = ReportDetail), (status = 404, body = Problem)))]
async fn get_report(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ReportDetail>> {
    let report = readable(&state, &need, id).await?;
    Ok(axum::Json(detail(&state, &need, report).await?))
}

/// The citizen's contact details, for those handling the report. Every view is logged on the
/// report's timeline and in the audit log.
#[utoipa::path(get, path = "/api/reports/{id}/contact", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = ContactDetails), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_contact(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ContactDetails>> {
    let report = readable(&state, &need, id).await?;
    if !in_handling_chain(&state, &need.principal, &report) {
        return Err(ApiError::Forbidden("only those handling the report see the citizen's contact details".into()));
    }
    let ctx = need.audit();
    let event = haidang_store::NewEvent {
        actor: ctx.actor.clone(),
        kind: "viewed_contact".into(),
        from_status: None,
        to_status: None,
        note: None,
        public: false,
        unit: None,
    };
    state.store.report_note(&ctx, id, &event, "report.view_contact").await?;
    Ok(axum::Json(report.contact))
}

/// Takes one step of the workflow (see the contract for each action's fields).
#[utoipa::path(post, path = "/api/reports/{id}/actions", tag = "reports", params(("id" = i64, Path)), request_body = ActionRequest,
    responses((status = 200, body = ReportDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn take_action(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Path(id): Path<i64>,
    Json(req): Json<ActionRequest>,
) -> ApiResult<axum::Json<ReportDetail>> {
    let report = readable(&state, &need, id).await?;
    let after = act(&state, &need, &report, &req).await?;
    Ok(axum::Json(detail(&state, &need, after).await?))
}

async fn act(state: &AppState, authn: &Authn, report: &Report, req: &ActionRequest) -> ApiResult<Report> {
    let ctx = authn.audit();
    let step = workflow::plan(state, &authn.principal, ctx.actor.clone(), report, req).await?;
    let after = state.store.report_step(&ctx, report.id, &step).await?;
    crate::reports::follow::announce_step(state, &after, req.action().as_str());
    Ok(after)
}

/// Unknown fields are refused by the action's own fields (serde's `deny_unknown_fields` here
/// would refuse every field of the flattened action, `action` included).
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkRequest {
    /// At most 200 reports.
    ids: Vec<i64>,
    #[serde(flatten)]
    action: ActionRequest,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkFailure {
    id: i64,
    problem: Problem,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    done: Vec<i64>,
    failed: Vec<BulkFailure>,
}

/// The same action on many reports (e.g. assigning a batch to a commune); each succeeds or fails alone.
#[utoipa::path(post, path = "/api/reports/bulk", tag = "reports", request_body = BulkRequest,
    responses((status = 200, body = BulkResult), (status = 422, body = Problem)))]
async fn bulk(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Json(req): Json<BulkRequest>,
) -> ApiResult<axum::Json<BulkResult>> {
    if req.ids.is_empty() || req.ids.len() > 200 {
        return Err(ApiError::field("ids", "must list 1 to 200 reports"));
    }
    let mut result = BulkResult { done: Vec::new(), failed: Vec::new() };
    for id in req.ids {
        let outcome = match readable(&state, &need, id).await {
            Ok(report) => act(&state, &need, &report, &req.action).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => result.done.push(id),
            Err(e) => result.failed.push(BulkFailure { id, problem: e.problem() }),
        }
    }
    Ok(axum::Json(result))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Duplicate {
    #[serde(flatten)]
    report: ReportSummary,
    distance_m: f64,
}

/// Likely duplicates: same category, within 50 m, received in the last 30 days, not closed.
#[utoipa::path(get, path = "/api/reports/{id}/duplicates", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Duplicate>), (status = 404, body = Problem)))]
async fn duplicates(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Vec<Duplicate>>> {
    let report = readable(&state, &need, id).await?;
    let now = state.clock.now();
    // 0.0006° of latitude is about 67 m, and of longitude a little less here: a box around 50 m.
    let near = state
        .store
        .reports_near(report.category_id, report.lat, report.lon, 0.0006, now - Duration::days(30), report.id)
        .await?;
    let categories = state.store.categories().await?;
    let tree = state.tree();
    let mut out: Vec<Duplicate> = near
        .into_iter()
        .filter(|r| need.principal.can(Permission::ReportsRead, &r.record(), &tree))
        .filter(|r| r.status != Status::Closed)
        .map(|r| {
            let d = haidang_geo::distance_m(report.lat, report.lon, r.lat, r.lon);
            (r, d)
        })
        .filter(|(_, d)| *d <= 50.0)
        .map(|(r, d)| Duplicate {
            report: ReportSummary::of(&r, &categories, now, false),
            distance_m: (d * 10.0).round() / 10.0,
        })
        .collect();
    out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    Ok(axum::Json(out))
}

/// Adds a photo or video (multipart field `file`; `purpose=result` for the unit's result).
#[utoipa::path(post, path = "/api/reports/{id}/attachments", tag = "reports", params(("id" = i64, Path)),
    responses((status = 201, body = AttachmentView), (status = 403, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn upload_attachment(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> ApiResult<(StatusCode, axum::Json<AttachmentView>)> {
    let report = readable(&state, &need, id).await?;
    if !in_handling_chain(&state, &need.principal, &report) {
        return Err(ApiError::Forbidden("only those handling the report add files to it".into()));
    }
    let form = crate::reports::upload::read_form(&state, multipart, 1).await?;
    let purpose = match form.text("purpose").as_deref() {
        None | Some("result") => "result",
        Some("report") => "report",
        Some(_) => return Err(ApiError::field("purpose", "must be result or report")),
    };
    let Some(file) = form.files.into_iter().next() else {
        return Err(ApiError::field("file", "a file is required"));
    };
    let stored = intake::store_files(&state, vec![file], purpose).await?;
    let a = state.store.add_report_attachment(&need.audit(), id, &stored[0]).await?;
    Ok((StatusCode::CREATED, axum::Json(AttachmentView::of(&a))))
}

#[utoipa::path(get, path = "/api/reports/{id}/attachments/{aid}", tag = "reports", params(("id" = i64, Path), ("aid" = i64, Path), MediaQuery),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
async fn get_attachment(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Path((id, aid)): Path<(i64, i64)>,
    Query(q): Query<MediaQuery>,
) -> ApiResult<Response> {
    readable(&state, &need, id).await?;
    let a = state.store.attachment(aid).await?;
    if a.report_id != id {
        return Err(ApiError::NotFound);
    }
    crate::reports::upload::serve_file(&state, &a, q.size.as_deref(), "private, max-age=3600").await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Reports handled by this unit or below.
    unit: Option<i64>,
    category: Option<i64>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    /// `unit` (default), `category`, `commune` or `day`.
    group: Option<String>,
    /// Exports only: `csv` or `xlsx`.
    format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsRow {
    key: String,
    name: String,
    #[serde(flatten)]
    stats: ReportStats,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsAnswer {
    totals: ReportStats,
    rows: Vec<StatsRow>,
}

async fn stats_of(state: &AppState, authn: &Authn, q: &StatsQuery) -> ApiResult<StatsAnswer> {
    let tree = state.tree();
    let group = match q.group.as_deref().unwrap_or("unit") {
        "unit" => StatsGroup::Unit,
        "category" => StatsGroup::Category,
        "commune" => StatsGroup::Commune,
        "day" => StatsGroup::Day,
        _ => return Err(ApiError::field("group", "must be unit, category, commune or day")),
    };
    if let (Some(f), Some(t)) = (q.from, q.to)
        && t <= f
    {
        return Err(ApiError::field("to", "must be after from"));
    }
    let mut f = StatsFilter {
        scope: read_scope(state, &authn.principal, Permission::ReportsRead),
        from: q.from,
        to: q.to,
        ..Default::default()
    };
    if let Some(u) = q.unit {
        let u = OrgUnitId(u);
        if !tree.contains(u) || !authn.principal.can_at(Permission::ReportsRead, u, &tree) {
            return Err(ApiError::field("unit", "no such unit in your scope"));
        }
        f.handler_units = Some(tree.subtree(u));
    }
    let categories = state.store.categories().await?;
    if let Some(c) = q.category {
        f.categories = with_children(&categories, c);
    }
    let now = state.clock.now();
    let rows = state.store.report_stats(&f, group, now).await?;
    let mut totals = ReportStats::default();
    let mut rated_hours = (0.0, 0i64);
    for (_, _, s) in &rows {
        totals.received += s.received;
        totals.on_time += s.on_time;
        totals.late += s.late;
        totals.in_progress += s.in_progress;
        totals.overdue += s.overdue;
        totals.resolved += s.resolved;
        totals.rejected += s.rejected;
        totals.satisfied += s.satisfied;
        totals.unsatisfied += s.unsatisfied;
        if let Some(h) = s.mean_handling_hours {
            rated_hours.0 += h * s.resolved as f64;
            rated_hours.1 += s.resolved;
        }
    }
    let rated = totals.satisfied + totals.unsatisfied;
    totals.satisfaction_rate = (rated > 0).then(|| totals.satisfied as f64 / rated as f64);
    totals.mean_handling_hours = (rated_hours.1 > 0).then(|| rated_hours.0 / rated_hours.1 as f64);
    let rows = rows
        .into_iter()
        .map(|(key, name, stats)| {
            let name = match group {
                StatsGroup::Category => {
                    categories.iter().find(|c| c.id.to_string() == key).map(|c| c.name_vi.clone()).unwrap_or(name)
                }
                _ => name,
            };
            StatsRow { key, name, stats }
        })
        .collect();
    Ok(StatsAnswer { totals, rows })
}

/// Received, on time, late, in progress, satisfaction and mean handling time, per unit,
/// category, commune or day.
#[utoipa::path(get, path = "/api/reports/stats", tag = "reports", params(StatsQuery),
    responses((status = 200, body = StatsAnswer), (status = 422, body = Problem)))]
async fn report_stats(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Query(q): Query<StatsQuery>,
) -> ApiResult<axum::Json<StatsAnswer>> {
    Ok(axum::Json(stats_of(&state, &need, &q).await?))
}

const STATS_COLUMNS: [&str; 13] = [
    "key",
    "name",
    "received",
    "on_time",
    "late",
    "in_progress",
    "overdue",
    "resolved",
    "rejected",
    "satisfied",
    "unsatisfied",
    "satisfaction_rate",
    "mean_handling_hours",
];

#[utoipa::path(get, path = "/api/reports/stats/export", tag = "reports", params(StatsQuery),
    responses((status = 200, description = "text/csv or XLSX"), (status = 422, body = Problem)))]
async fn export_stats(
    State(state): State<AppState>,
    need: Need<perm::ReportsRead>,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Response> {
    let xlsx = crate::export::format_of(q.format.as_deref())?;
    let answer = stats_of(&state, &need, &q).await?;
    let line = |key: String, name: String, s: &ReportStats| {
        let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
        vec![
            key,
            name,
            s.received.to_string(),
            s.on_time.to_string(),
            s.late.to_string(),
            s.in_progress.to_string(),
            s.overdue.to_string(),
            s.resolved.to_string(),
            s.rejected.to_string(),
            s.satisfied.to_string(),
            s.unsatisfied.to_string(),
            num(s.satisfaction_rate),
            num(s.mean_handling_hours),
        ]
    };
    let mut rows: Vec<Vec<String>> =
        answer.rows.iter().map(|r| line(r.key.clone(), r.name.clone(), &r.stats)).collect();
    rows.push(line("".into(), "Tổng cộng / Total".into(), &answer.totals));
    let stamp = state.clock.now().format("%Y%m%d-%H%M%S").to_string();
    crate::export::table("report-stats", "Thống kê", stamp, xlsx, &STATS_COLUMNS, rows).await
}
