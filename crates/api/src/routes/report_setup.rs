//! What report handling runs on, kept by administrators: categories, the working calendar,
//! the Open311 clients, and citizens' requests to see or erase their data.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Need, Query, perm};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use haidang_auth::new_secret;
use haidang_core::OrgUnitId;
use haidang_core::validation::{Checker, email, phone, text};
use haidang_reports::{HandlingRule, Status};
use haidang_store::{Category, CategoryInput, Open311Client};
use haidang_work::{CalendarDay, DayKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(update_category))
        .routes(routes!(get_calendar))
        .routes(routes!(set_day, delete_day))
        .routes(routes!(load_official))
        .routes(routes!(list_clients, create_client))
        .routes(routes!(revoke_client))
        .routes(routes!(privacy_lookup))
        .routes(routes!(privacy_erase))
}

/// Every category (inactive ones too), parents first.
#[utoipa::path(get, path = "/api/report-categories", tag = "reports", responses((status = 200, body = Vec<Category>)))]
async fn list_categories(
    State(state): State<AppState>,
    _need: Need<perm::ReportsRead>,
) -> ApiResult<axum::Json<Vec<Category>>> {
    Ok(axum::Json(state.store.categories().await?))
}

fn check_rule(state: &AppState, input: &CategoryInput) -> ApiResult<()> {
    if let HandlingRule::ByField { unit_id } | HandlingRule::Fixed { unit_id } = input.rule
        && !state.tree().contains(unit_id)
    {
        return Err(ApiError::field("rule.unit_id", "no such unit"));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/report-categories", tag = "reports", request_body = CategoryInput,
    responses((status = 201, body = Category), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_category(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Json(input): Json<CategoryInput>,
) -> ApiResult<(StatusCode, axum::Json<Category>)> {
    check_rule(&state, &input)?;
    Ok((StatusCode::CREATED, axum::Json(state.store.save_category(&need.audit(), None, &input).await?)))
}

/// Replaces a category (send the whole category).
#[utoipa::path(put, path = "/api/report-categories/{id}", tag = "reports", params(("id" = i64, Path)), request_body = CategoryInput,
    responses((status = 200, body = Category), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_category(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Path(id): Path<i64>,
    Json(input): Json<CategoryInput>,
) -> ApiResult<axum::Json<Category>> {
    check_rule(&state, &input)?;
    Ok(axum::Json(state.store.save_category(&need.audit(), Some(id), &input).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    #[schema(value_type = String, format = Date)]
    date: NaiveDate,
    /// `holiday` or `workday` (a make-up working day).
    kind: String,
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarView {
    year: i32,
    /// Daily office periods, `["07:30", "11:30"]`.
    office_hours: Vec<[String; 2]>,
    days: Vec<DayView>,
    /// A bundled official calendar exists for this year.
    official_available: bool,
}

/// A year of the working calendar: office hours, holidays and make-up working days.
#[utoipa::path(get, path = "/api/calendar", tag = "reports", params(YearQuery), responses((status = 200, body = CalendarView)))]
async fn get_calendar(
    State(state): State<AppState>,
    _need: Need<perm::ReportsRead>,
    Query(q): Query<YearQuery>,
) -> ApiResult<axum::Json<CalendarView>> {
    let year = q.year.unwrap_or_else(|| state.clock.now().year());
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::field("year", "must be between 2000 and 2100"));
    }
    let cal = state.reports.calendar();
    let days = state
        .store
        .calendar_days()
        .await?
        .into_iter()
        .filter(|d| d.date.year() == year)
        .map(|d| DayView { date: d.date, kind: d.kind.as_str().into(), name: d.name })
        .collect();
    Ok(axum::Json(CalendarView {
        year,
        office_hours: cal
            .hours()
            .periods()
            .iter()
            .map(|p| [p.start.format("%H:%M").to_string(), p.end.format("%H:%M").to_string()])
            .collect(),
        days,
        official_available: haidang_work::official(year).is_some(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayInput {
    /// `holiday` or `workday`.
    kind: String,
    name: String,
}

fn parse_date(s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ApiError::field("date", "must be a date YYYY-MM-DD"))
}

/// Adds or changes a holiday or make-up working day. Deadlines already given keep their dates.
#[utoipa::path(put, path = "/api/calendar/days/{date}", tag = "reports", params(("date" = String, Path)), request_body = DayInput,
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn set_day(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Path(date): Path<String>,
    Json(req): Json<DayInput>,
) -> ApiResult<StatusCode> {
    let date = parse_date(&date)?;
    let mut c = Checker::new();
    let kind = DayKind::parse(&req.kind);
    c.check(kind.is_some(), "kind", "must be holiday or workday");
    let name = text(&mut c, "name", &req.name, 200);
    c.finish()?;
    let (Some(kind), Some(name)) = (kind, name) else {
        return Err(ApiError::Internal("checked input went missing".into()));
    };
    state.store.set_calendar_days(&need.audit(), &[CalendarDay { date, kind, name }]).await?;
    state.reports.reload(&state.store).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/calendar/days/{date}", tag = "reports", params(("date" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_day(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Path(date): Path<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_calendar_day(&need.audit(), parse_date(&date)?).await?;
    state.reports.reload(&state.store).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Loads the bundled official calendar of a year (2025, 2026), replacing entries on the same dates.
#[utoipa::path(post, path = "/api/calendar/official/{year}", tag = "reports", params(("year" = i32, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn load_official(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Path(year): Path<i32>,
) -> ApiResult<StatusCode> {
    let days = haidang_work::official(year).ok_or(ApiError::NotFound)?;
    state.store.set_calendar_days(&need.audit(), &days).await?;
    state.reports.reload(&state.store).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/open311/clients", tag = "reports", responses((status = 200, body = Vec<Open311Client>)))]
async fn list_clients(
    State(state): State<AppState>,
    _need: Need<perm::ReportsAdmin>,
) -> ApiResult<axum::Json<Vec<Open311Client>>> {
    Ok(axum::Json(state.store.open311_clients().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    name: String,
    /// The unit the client reports for, if any (shown on its reports' timeline).
    unit_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewClient {
    #[serde(flatten)]
    client: Open311Client,
    /// The `api_key` to give the client; shown once.
    api_key: String,
}

/// Registers an Open311 client (an app that submits reports) and gives its API key once.
#[utoipa::path(post, path = "/api/open311/clients", tag = "reports", request_body = ClientInput,
    responses((status = 201, body = NewClient), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_client(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Json(req): Json<ClientInput>,
) -> ApiResult<(StatusCode, axum::Json<NewClient>)> {
    let mut c = Checker::new();
    let name = text(&mut c, "name", &req.name, 120);
    let unit = req.unit_id.map(OrgUnitId);
    c.check(unit.is_none_or(|u| state.tree().contains(u)), "unit_id", "no such unit");
    c.finish()?;
    let name = name.unwrap_or_default();
    let key = new_secret("hdo_");
    let client = state.store.create_open311_client(&need.audit(), &name, unit, &key.hash).await?;
    Ok((StatusCode::CREATED, axum::Json(NewClient { client, api_key: key.value })))
}

#[utoipa::path(delete, path = "/api/open311/clients/{id}", tag = "reports", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn revoke_client(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.store.revoke_open311_client(&need.audit(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacyRequest {
    email: Option<String>,
    phone: Option<String>,
    /// Why (the citizen's request, its reference): recorded in the audit log.
    note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldReport {
    id: i64,
    code: String,
    status: Status,
    received_at: chrono::DateTime<chrono::Utc>,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PrivacyAnswer {
    reports: Vec<HeldReport>,
    erased: Option<u64>,
}

fn who(req: &PrivacyRequest, need_note: bool) -> ApiResult<(Option<String>, Option<String>, String)> {
    let mut c = Checker::new();
    let clean = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let (e, p) = (clean(&req.email), clean(&req.phone));
    if let Some(e) = &e {
        email(&mut c, "email", e);
    }
    if let Some(p) = &p {
        phone(&mut c, "phone", p);
    }
    c.check(e.is_some() || p.is_some(), "email", "give the e-mail address or the phone number the citizen used");
    let note = match (&req.note, need_note) {
        (Some(n), _) => text(&mut c, "note", n, 1000),
        (None, true) => {
            c.push("note", "say whose request this is");
            None
        }
        (None, false) => None,
    };
    c.finish()?;
    Ok((e, p, note.unwrap_or_default()))
}

/// A citizen's request to see their data: the reports holding their e-mail or phone.
#[utoipa::path(post, path = "/api/privacy/lookup", tag = "reports", request_body = PrivacyRequest,
    responses((status = 200, body = PrivacyAnswer), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn privacy_lookup(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Json(req): Json<PrivacyRequest>,
) -> ApiResult<axum::Json<PrivacyAnswer>> {
    let (e, p, note) = who(&req, false)?;
    let found = state.store.reports_by_contact(e.as_deref(), p.as_deref()).await?;
    let ctx = need.audit();
    for r in &found {
        let event = haidang_store::NewEvent {
            actor: ctx.actor.clone(),
            kind: "viewed_contact".into(),
            from_status: None,
            to_status: None,
            note: Some(format!("Yêu cầu xem dữ liệu cá nhân / data access request {note}").trim().to_owned()),
            public: false,
            unit: None,
        };
        state.store.report_note(&ctx, r.id, &event, "report.privacy_lookup").await?;
    }
    let reports = found
        .into_iter()
        .map(|r| HeldReport {
            id: r.id,
            code: r.code,
            status: r.status,
            received_at: r.received_at,
            name: r.contact.name,
            phone: r.contact.phone,
            email: r.contact.email,
            description: r.description,
        })
        .collect();
    Ok(axum::Json(PrivacyAnswer { reports, erased: None }))
}

/// A citizen's request to erase their data: their contact details go from every report.
#[utoipa::path(post, path = "/api/privacy/erase", tag = "reports", request_body = PrivacyRequest,
    responses((status = 200, body = PrivacyAnswer), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn privacy_erase(
    State(state): State<AppState>,
    need: Need<perm::ReportsAdmin>,
    Json(req): Json<PrivacyRequest>,
) -> ApiResult<axum::Json<PrivacyAnswer>> {
    let (e, p, note) = who(&req, true)?;
    let ids: Vec<i64> =
        state.store.reports_by_contact(e.as_deref(), p.as_deref()).await?.iter().map(|r| r.id).collect();
    let erased = state.store.erase_contacts(&need.audit(), &ids, &note).await?;
    Ok(axum::Json(PrivacyAnswer { reports: Vec::new(), erased: Some(erased) }))
}
