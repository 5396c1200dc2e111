//! The citizen's side, without an account: the report form, "my report" by tracking code with
//! the rating, the public portal of published reports, and their published photos. Nothing
//! here shows personal data; submissions are rate-limited per address.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ClientInfo, Json, Query};
use crate::reports::intake::{self, ReportInput, Submission};
use crate::reports::upload::{self, MAX_UPLOAD_BYTES, MediaQuery};
use crate::reports::views::PublicReport;
use crate::reports::with_children;
use crate::reports::{notices, workflow};
use crate::routes::{Limit, page_params};
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use haidang_core::OrgUnitId;
use haidang_core::validation::Checker;
use haidang_reports::{Action, AttributeDef, Channel, HandlingRule, Status, TrackingCode, redact_personal};
use haidang_store::{Actor, AuditCtx, Category, NewEvent, Page, PublicFilter, Report, ReportSet, ReportStep};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_config))
        .routes(routes!(list_public))
        .routes(routes!(get_public))
        .routes(routes!(track))
        .routes(routes!(rate))
        .routes(routes!(public_media))
        .merge(OpenApiRouter::new().routes(routes!(submit)).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)))
}

/// The citizen, as recorded on the timeline: never by name.
pub fn citizen() -> Actor {
    Actor { kind: "citizen".into(), id: None, name: "citizen".into() }
}

fn citizen_ctx(client: &ClientInfo) -> AuditCtx {
    AuditCtx {
        actor: citizen(),
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        request_id: client.request_id.clone(),
    }
}

/// One submission more from this address, or 429.
pub fn count_submission(state: &AppState, client: &ClientInfo) -> ApiResult<()> {
    let key = client.ip.clone().unwrap_or_else(|| "unknown".into());
    state
        .reports
        .submissions
        .attempt(&key)
        .map_err(|wait| ApiError::RateLimited { retry_after_secs: wait.as_secs().max(1) })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicCategory {
    id: i64,
    code: String,
    parent_id: Option<i64>,
    name_vi: String,
    name_en: String,
    description_vi: String,
    description_en: String,
    /// Who handles it (by place: the commune; otherwise the named department).
    rule: HandlingRule,
    urgent_by_default: bool,
    attributes: Vec<AttributeDef>,
    keywords: Vec<String>,
    active: bool,
}

impl From<&Category> for PublicCategory {
    fn from(c: &Category) -> Self {
        PublicCategory {
            id: c.id,
            code: c.code.clone(),
            parent_id: c.parent_id,
            name_vi: c.name_vi.clone(),
            name_en: c.name_en.clone(),
            description_vi: c.description_vi.clone(),
            description_en: c.description_en.clone(),
            rule: c.rule,
            urgent_by_default: c.urgent_by_default,
            attributes: c.attributes.clone(),
            keywords: c.keywords.clone(),
            active: c.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceRef {
    code: String,
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicConfig {
    province: Option<ProvinceRef>,
    /// `[[south, west], [north, east]]`
    bounds: Option<[[f64; 2]; 2]>,
    categories: Vec<PublicCategory>,
    max_photos: usize,
    max_photo_bytes: u64,
    max_video_bytes: u64,
    consent_vi: &'static str,
    consent_en: &'static str,
    tile_url: Option<String>,
    tile_attribution: String,
}

const CONSENT_VI: &str = "Tôi đồng ý để cơ quan nhà nước xử lý thông tin trong phản ánh này (nội dung, vị trí, hình ảnh và \
    thông tin liên hệ nếu có) nhằm tiếp nhận, xác minh, giải quyết và trả lời phản ánh, theo Nghị định 13/2023/NĐ-CP về bảo vệ \
    dữ liệu cá nhân. Thông tin liên hệ chỉ người xử lý được xem, mọi lần xem đều được ghi lại, và được xóa sau khi phản ánh kết \
    thúc một thời gian. Tôi có thể yêu cầu xem hoặc xóa dữ liệu của mình.";
const CONSENT_EN: &str = "I agree that public authorities process the information in this report (content, place, photos \
    and contact details if given) to receive, verify, resolve and answer it, under Decree 13/2023/ND-CP on personal data \
    protection. Contact details are seen only by those handling the report, every view is logged, and they are erased some \
    time after the report is closed. I may ask to see or erase my data.";

/// What the report form needs: categories, the province's extent, limits and the consent notice.
#[utoipa::path(get, path = "/api/public/config", tag = "public", responses((status = 200, body = PublicConfig)))]
async fn public_config(State(state): State<AppState>) -> ApiResult<axum::Json<PublicConfig>> {
    let categories = state.store.categories().await?;
    let tree = state.tree();
    let root = tree.roots().first().copied();
    let province = match root {
        Some(r) => state.store.org_unit(r).await.ok(),
        None => None,
    };
    let bounds = state.store.unit_bounds(root).await?;
    let media = &state.reports.config.media;
    Ok(axum::Json(PublicConfig {
        province: province.map(|p| ProvinceRef { code: p.code, name: p.name }),
        bounds,
        categories: categories.iter().filter(|c| c.active).map(PublicCategory::from).collect(),
        max_photos: state.reports.config.max_files,
        max_photo_bytes: media.max_image_bytes,
        max_video_bytes: media.max_video_bytes,
        consent_vi: CONSENT_VI,
        consent_en: CONSENT_EN,
        tile_url: state.config.tile_url.clone(),
        tile_attribution: state.config.tile_attribution.clone(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    /// The citizen's tracking code: keep it to follow and rate the report.
    code: String,
    status: Status,
    received_at: DateTime<Utc>,
}

/// Sends a report: multipart with a `report` part (JSON) and up to five `file` parts (JPEG,
/// PNG or WebP photos; one MP4 video).
#[utoipa::path(post, path = "/api/public/reports", tag = "public",
    responses((status = 201, body = Submitted), (status = 413, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn submit(
    State(state): State<AppState>,
    client: ClientInfo,
    multipart: Multipart,
) -> ApiResult<(StatusCode, axum::Json<Submitted>)> {
    count_submission(&state, &client)?;
    let form = upload::read_form(&state, multipart, state.reports.config.max_files).await?;
    let json = form.text("report").ok_or_else(|| ApiError::field("report", "the report part (JSON) is required"))?;
    let req: ReportInput = crate::extract::parse_json(json.as_bytes())?;
    if req.channel.as_deref().is_some_and(|c| c != "web") {
        return Err(ApiError::field("channel", "the public form is the web channel"));
    }
    let sub = Submission::new(Channel::Web, req);
    let report = intake::submit(&state, &citizen_ctx(&client), citizen(), sub, form.files).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Submitted { code: report.code, status: report.status, received_at: report.received_at }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    commune: Option<i64>,
    category: Option<i64>,
    /// `published` or `closed`.
    status: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    /// `west,south,east,north` in degrees.
    bbox: Option<String>,
    q: Option<String>,
    limit: Option<Limit>,
    cursor: Option<String>,
}

async fn public_view(state: &AppState, r: &Report, categories: &[Category]) -> ApiResult<PublicReport> {
    let attachments = state.store.report_attachments(r.id).await?;
    let events = state.store.work_events(r.work.id).await?;
    Ok(PublicReport::of(r, categories, &attachments, &events))
}

/// Published reports: the portal's map and list.
#[utoipa::path(get, path = "/api/public/reports", tag = "public", params(PublicQuery),
    responses((status = 200, body = Page<PublicReport>), (status = 422, body = Problem)))]
async fn list_public(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> ApiResult<axum::Json<Page<PublicReport>>> {
    let (limit, cursor) = page_params(q.limit, q.cursor.as_deref())?;
    let mut c = Checker::new();
    let status = match q.status.as_deref() {
        None => None,
        Some("published") => Some(Status::Published),
        Some("closed") => Some(Status::Closed),
        Some(_) => {
            c.push("status", "must be published or closed");
            None
        }
    };
    let bbox = q.bbox.as_deref().and_then(|b| {
        let v: Vec<f64> = b.split(',').filter_map(|x| x.trim().parse().ok()).collect();
        match v[..] {
            [w, s, e, n] if w < e && s < n && v.iter().all(|x| x.is_finite()) => Some([w, s, e, n]),
            _ => {
                c.push("bbox", "must be west,south,east,north in degrees");
                None
            }
        }
    });
    c.check(q.q.as_deref().is_none_or(|t| t.chars().count() <= 200), "q", "must be at most 200 characters");
    c.finish()?;
    let categories = state.store.categories().await?;
    let f = PublicFilter {
        commune: q.commune.map(OrgUnitId),
        categories: q.category.map(|id| with_children(&categories, id)).unwrap_or_default(),
        status,
        from: q.from,
        to: q.to,
        bbox,
        q: q.q.clone(),
        limit,
        cursor,
    };
    let page = state.store.list_public_reports(&f).await?;
    // The whole page's photos and public steps in two queries, not two per report.
    let ids: Vec<i64> = page.items.iter().map(|r| r.id).collect();
    let works: Vec<i64> = page.items.iter().map(|r| r.work.id).collect();
    let attachments = state.store.attachments_of(&ids).await?;
    let events = state.store.events_of(&works, true).await?;
    let items = page
        .items
        .iter()
        .map(|r| {
            let a: Vec<_> = attachments.iter().filter(|a| a.report_id == r.id).cloned().collect();
            let e: Vec<_> = events.iter().filter(|(w, _)| *w == r.work.id).map(|(_, e)| e.clone()).collect();
            PublicReport::of(r, &categories, &a, &e)
        })
        .collect();
    Ok(axum::Json(Page { items, next_cursor: page.next_cursor }))
}

/// One published report.
#[utoipa::path(get, path = "/api/public/reports/{id}", tag = "public", params(("id" = i64, Path)),
    responses((status = 200, body = PublicReport), (status = 404, body = Problem)))]
async fn get_public(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<axum::Json<PublicReport>> {
    let r = state.store.report(id).await?;
    if !r.status.is_public() {
        return Err(ApiError::NotFound);
    }
    let categories = state.store.categories().await?;
    Ok(axum::Json(public_view(&state, &r, &categories).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Tracked {
    #[serde(flatten)]
    report: PublicReport,
    /// The citizen may rate the result now.
    can_rate: bool,
}

async fn tracked(state: &AppState, code: &str) -> ApiResult<Report> {
    let code = TrackingCode::parse(code).ok_or(ApiError::NotFound)?;
    state.store.report_by_code(code.as_str()).await.map_err(|_| ApiError::NotFound)
}

fn can_rate(state: &AppState, r: &Report) -> bool {
    r.status == Status::Published
        && r.published_at
            .is_some_and(|p| state.clock.now() - p <= chrono::Duration::days(state.reports.config.rating_days))
}

/// "My report": where it stands, by the tracking code the citizen was given.
#[utoipa::path(get, path = "/api/public/track/{code}", tag = "public", params(("code" = String, Path)),
    responses((status = 200, body = Tracked), (status = 404, body = Problem)))]
async fn track(
    State(state): State<AppState>,
    client: ClientInfo,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<Tracked>> {
    // Guessing codes costs as much as sending reports.
    let r = match tracked(&state, &code).await {
        Ok(r) => r,
        Err(e) => {
            count_submission(&state, &client)?;
            return Err(e);
        }
    };
    let categories = state.store.categories().await?;
    let mut report = public_view(&state, &r, &categories).await?;
    if !r.status.is_public() {
        report.description = redact_personal(&r.public_description);
    }
    Ok(axum::Json(Tracked { can_rate: can_rate(&state, &r), report }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    satisfied: bool,
    comment: Option<String>,
}

/// The citizen rates the published result: satisfied closes the report, not satisfied
/// reopens it with the same unit and a new deadline.
#[utoipa::path(post, path = "/api/public/track/{code}/rating", tag = "public", params(("code" = String, Path)), request_body = RatingRequest,
    responses((status = 200, body = Tracked), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rate(
    State(state): State<AppState>,
    client: ClientInfo,
    Path(code): Path<String>,
    Json(req): Json<RatingRequest>,
) -> ApiResult<axum::Json<Tracked>> {
    let r = tracked(&state, &code).await?;
    if !can_rate(&state, &r) {
        return Err(ApiError::Conflict("this report cannot be rated now".into()));
    }
    let mut c = Checker::new();
    let comment = match req.comment.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => workflow::multiline(&mut c, "comment", t, 2000),
        None => None,
    };
    c.finish()?;
    let action = Action::Rate { satisfied: req.satisfied };
    let to = r.status.after(action).map_err(|e| ApiError::Conflict(e.to_string()))?;
    let now = state.clock.now();
    let mut set = ReportSet { rating: Some((req.satisfied, comment.clone())), ..Default::default() };
    let work = if req.satisfied {
        None
    } else {
        let categories = state.store.categories().await?;
        let category = categories.iter().find(|k| k.id == r.category_id).ok_or(ApiError::NotFound)?;
        let unit = r.work.handler_unit.as_ref().map(|u| u.id).or(match category.rule {
            HandlingRule::ByPlace => r.commune.as_ref().map(|u| u.id),
            other => other.unit(),
        });
        let unit = unit.ok_or_else(|| ApiError::Conflict("the report has no unit to reopen it with".into()))?;
        let w = workflow::reassigned(&state.reports, category, r.urgent, unit, None, now)?;
        set.handling_due_at = Some(w.due_at);
        Some(w)
    };
    let note = if req.satisfied {
        "Người phản ánh hài lòng với kết quả"
    } else {
        "Người phản ánh chưa hài lòng; phản ánh được mở lại"
    };
    let step = ReportStep {
        from: r.status,
        to,
        set,
        work,
        event: NewEvent {
            actor: citizen(),
            kind: "rate".into(),
            from_status: Some(r.status.as_str()),
            to_status: Some(to.as_str()),
            note: Some(note.into()),
            public: true,
            unit: None,
        },
        staff_note: None,
        notices: notices::citizen_notice(&state, &r.code, notices::citizen_email(&r), to, Some(note))
            .into_iter()
            .collect(),
        publish_attachments: Vec::new(),
        audit_action: "report.rate",
    };
    let after = state.store.report_step(&citizen_ctx(&client), r.id, &step).await?;
    crate::reports::follow::announce_step(&state, &after, "rate");
    let categories = state.store.categories().await?;
    Ok(axum::Json(Tracked {
        can_rate: can_rate(&state, &after),
        report: public_view(&state, &after, &categories).await?,
    }))
}

/// A published photo (metadata stripped at intake).
#[utoipa::path(get, path = "/api/public/media/{id}", tag = "public", params(("id" = i64, Path), MediaQuery),
    responses((status = 200, description = "the image"), (status = 404, body = Problem)))]
async fn public_media(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<MediaQuery>,
) -> ApiResult<Response> {
    let a = state.store.attachment(id).await?;
    let r = state.store.report(a.report_id).await?;
    if !a.published || a.kind != "image" || !r.status.is_public() {
        return Err(ApiError::NotFound);
    }
    upload::serve_file(&state, &a, q.size.as_deref(), "public, max-age=86400").await
}
