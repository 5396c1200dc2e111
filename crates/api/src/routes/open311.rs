//! Open311 GeoReport v2 under `/open311/v2/`: the categories as services, citizens' reports
//! as service requests, in JSON and XML as the specification writes them.
//!
//! The wire forms are `haidang_open311`'s; this module looks things up, checks the client's
//! `api_key`, hands submissions to the same intake as every other channel, and answers every
//! failure as an Open311 error list in the requested format (never an RFC 9457 problem).
//! See `crates/open311/README.md` for the mapping and the decisions.

use crate::error::ApiError;
use crate::extract::ClientInfo;
use crate::reports::intake::{self, Submission};
use crate::reports::notices;
use crate::routes::public::{citizen, count_submission};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::FixedOffset;
use haidang_open311::{
    self as o311, Attribute, AttributeValue, Datatype, Format, NewRequest, RequestCreated, RequestFilter, RequestToken,
    Service, ServiceDefinition, ServiceRequest, ServiceType,
};
use haidang_reports::{AttributeDef, AttributeType, Channel, Status};
use haidang_store::open311::Open311Filter;
use haidang_store::{Actor, AuditCtx, Category, ContactDetails, Open311Client, Report, StoreError};
use std::collections::BTreeMap;

/// Where the routes live.
pub const PREFIX: &str = "/open311/v2";

/// The province's offset (Indochina Time), in which every date-time is written.
fn zone() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("a valid offset")
}

/// The Open311 routes. One catch-all route: axum cannot capture part of a segment
/// (`{code}.json`), so the path is split here with [`o311::split_format`], which also lets
/// every unknown path under the prefix answer as an Open311 error rather than the web UI.
pub fn router() -> Router<AppState> {
    Router::new().route(&format!("{PREFIX}/{{*path}}"), get(get_resource).post(post_resource).fallback(other_method))
}

// ---- failures ----

/// A refusal: the HTTP status and the Open311 errors to render.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    errors: Vec<o311::Error>,
    retry_after: Option<u64>,
}

impl Failure {
    fn one(status: StatusCode, description: impl Into<String>) -> Self {
        Failure { status, errors: vec![o311::Error::new(status.as_u16(), description)], retry_after: None }
    }

    fn not_found(description: impl Into<String>) -> Self {
        Failure::one(StatusCode::NOT_FOUND, description)
    }

    fn bad(description: impl Into<String>) -> Self {
        Failure::one(StatusCode::BAD_REQUEST, description)
    }

    fn forbidden(description: impl Into<String>) -> Self {
        Failure::one(StatusCode::FORBIDDEN, description)
    }

    /// What the crate's parsers refuse: each error carries its code (400).
    fn list(errors: Vec<o311::Error>) -> Self {
        let code = errors.first().map_or(400, |e| e.code);
        Failure { status: StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST), errors, retry_after: None }
    }

    fn render(self, format: Format) -> Response {
        let (content_type, body) = o311::render_errors(&self.errors, format);
        let mut res = answer(self.status, content_type, body);
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// The Open311 name of a field the intake refused (its names are the public JSON's).
fn open311_field(field: &str) -> String {
    if let Some(code) = field.strip_prefix("attributes.") {
        return format!("attribute[{code}]");
    }
    match field {
        "category_id" => "service_code",
        "address" | "title" => "address_string",
        "contact.name" => "first_name",
        "contact.phone" => "phone",
        "contact.email" => "email",
        "lon" => "long",
        other => other,
    }
    .to_owned()
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Invalid(fields) => Failure {
                status: StatusCode::BAD_REQUEST,
                errors: fields.iter().map(|f| o311::Error::bad_param(&open311_field(&f.field), &f.reason)).collect(),
                retry_after: None,
            },
            ApiError::NotFound => Failure::not_found("not found"),
            ApiError::RateLimited { retry_after_secs } => Failure {
                retry_after: Some(retry_after_secs),
                ..Failure::one(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("too many requests from this address: try again in {retry_after_secs} s"),
                )
            },
            ApiError::Conflict(d) => Failure::one(StatusCode::CONFLICT, d),
            ApiError::PayloadTooLarge => Failure::one(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large"),
            other => {
                // Internal details stay in the log, as for the rest of the API.
                let status = other.problem().status;
                if let ApiError::Internal(msg) = &other {
                    tracing::error!(error = %msg, "internal error on Open311");
                }
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Failure::one(status, status.canonical_reason().unwrap_or("error").to_ascii_lowercase())
            }
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

type Outcome = Result<(StatusCode, o311::Rendered), Failure>;

fn answer(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Public data for any client, browser apps on other origins included; nothing here rides
    // on cookies (submitting needs the api_key in the body).
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

fn respond(outcome: Outcome, format: Format) -> Response {
    match outcome {
        Ok((status, (content_type, body))) => answer(status, content_type, body),
        Err(failure) => failure.render(format),
    }
}

/// The answer to a path without a `.json` or `.xml` suffix: a 404, in JSON.
fn unknown_format(path: &str) -> Response {
    Failure::not_found(format!("no resource {}: paths end in .json or .xml", shown(path))).render(Format::Json)
}

/// The answer to a path that does not decode (bad percent-escapes, not UTF-8): a 404, in JSON.
fn undecodable() -> Response {
    Failure::not_found("no such resource: the path is not valid UTF-8").render(Format::Json)
}

/// A path or value fit to quote in an error.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

// ---- handlers ----

async fn get_resource(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(Path(path)) = path else {
        return undecodable();
    };
    let Some((stem, format)) = o311::split_format(&path) else {
        return unknown_format(&path);
    };
    let query = query.unwrap_or_default();
    let outcome = match stem.split_once('/') {
        None if stem == "services" => services(&state, &query, format).await,
        None if stem == "requests" => requests(&state, &query, format).await,
        Some(("services", code)) => definition(&state, code, &query, format).await,
        Some(("requests", id)) => request(&state, id, &query, format).await,
        Some(("tokens", t)) => token(&state, t, &query, format).await,
        _ => Err(Failure::not_found(format!("no resource {}", shown(stem)))),
    };
    respond(outcome, format)
}

async fn post_resource(
    State(state): State<AppState>,
    client: ClientInfo,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let Ok(Path(path)) = path else {
        return undecodable();
    };
    let Some((stem, format)) = o311::split_format(&path) else {
        return unknown_format(&path);
    };
    let outcome = if stem == "requests" {
        submit(&state, &client, req, format).await
    } else if is_get_resource(stem) {
        Err(Failure::one(StatusCode::METHOD_NOT_ALLOWED, format!("{} is read with GET", shown(stem))))
    } else {
        Err(Failure::not_found(format!("no resource {}", shown(stem))))
    };
    let mut res = respond(outcome, format);
    if res.status() == StatusCode::METHOD_NOT_ALLOWED {
        res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    res
}

/// Methods other than GET, HEAD and POST.
async fn other_method(method: Method, uri: Uri) -> Response {
    let path = uri.path().strip_prefix(PREFIX).unwrap_or("").trim_start_matches('/');
    let format = o311::split_format(path).map_or(Format::Json, |(_, f)| f);
    let allow = if o311::split_format(path).is_some_and(|(stem, _)| stem == "requests") {
        "GET, HEAD, POST"
    } else {
        "GET, HEAD"
    };
    let mut res =
        Failure::one(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not a method of Open311")).render(format);
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    res
}

fn is_get_resource(stem: &str) -> bool {
    stem == "services" || ["services/", "requests/", "tokens/"].iter().any(|p| stem.starts_with(p))
}

// ---- services ----

fn service_of(c: &Category, categories: &[Category]) -> Service {
    Service {
        service_code: c.code.clone(),
        service_name: c.name_vi.clone(),
        description: Some(c.description_vi.clone()).filter(|d| !d.trim().is_empty()),
        metadata: !c.attributes.is_empty(),
        r#type: ServiceType::Realtime,
        keywords: c.keywords.join(","),
        group: c.parent_id.and_then(|p| categories.iter().find(|k| k.id == p)).map(|p| p.name_vi.clone()),
    }
}

fn datatype_of(t: AttributeType) -> Datatype {
    match t {
        AttributeType::String => Datatype::String,
        AttributeType::Number => Datatype::Number,
        AttributeType::Datetime => Datatype::Datetime,
        AttributeType::Text => Datatype::Text,
        AttributeType::Singlevaluelist => Datatype::Singlevaluelist,
        AttributeType::Multivaluelist => Datatype::Multivaluelist,
    }
}

fn definition_of(c: &Category) -> ServiceDefinition {
    ServiceDefinition {
        service_code: c.code.clone(),
        attributes: c
            .attributes
            .iter()
            .enumerate()
            .map(|(i, a): (usize, &AttributeDef)| Attribute {
                variable: true,
                code: a.code.clone(),
                datatype: datatype_of(a.datatype),
                required: a.required,
                datatype_description: None,
                order: u32::try_from(i + 1).unwrap_or(u32::MAX),
                description: a.label_vi.clone(),
                values: a
                    .values
                    .iter()
                    .map(|v| AttributeValue { key: v.key.clone(), name: v.name_vi.clone() })
                    .collect(),
            })
            .collect(),
    }
}

/// `jurisdiction_id` is read (and refused when malformed) but not matched: one server serves
/// one province, so any value names it.
fn jurisdiction(query: &str) -> Result<(), Failure> {
    o311::parse_jurisdiction(query).map(|_| ()).map_err(Failure::list)
}

async fn services(state: &AppState, query: &str, format: Format) -> Outcome {
    jurisdiction(query)?;
    let categories = state.store.categories().await?;
    let services: Vec<Service> = categories.iter().filter(|c| c.active).map(|c| service_of(c, &categories)).collect();
    Ok((StatusCode::OK, o311::render_services(&services, format)))
}

/// An active category by its code, or a 404 naming the code.
async fn service(state: &AppState, code: &str) -> Result<Category, Failure> {
    match state.store.category_by_code(code).await {
        Ok(c) if c.active => Ok(c),
        Ok(_) | Err(StoreError::NotFound) => {
            Err(Failure::not_found(format!("service_code: {} is not a service", shown(code))))
        }
        Err(e) => Err(e.into()),
    }
}

async fn definition(state: &AppState, code: &str, query: &str, format: Format) -> Outcome {
    jurisdiction(query)?;
    let category = service(state, code).await?;
    Ok((StatusCode::OK, o311::render_definition(&definition_of(&category), format)))
}

// ---- clients ----

/// The client holding `key`, or 403.
async fn client_by_key(state: &AppState, key: &str) -> Result<Open311Client, Failure> {
    match state.store.open311_client_by_key(&haidang_auth::hash_secret(key)).await {
        Ok(c) => Ok(c),
        Err(StoreError::NotFound) => Err(Failure::forbidden("api_key: not a valid key")),
        Err(e) => Err(e.into()),
    }
}

/// The optional `api_key` of a GET: a valid key shows the client's own requests at any
/// status; a wrong one is refused rather than silently ignored.
async fn reader(state: &AppState, query: &str) -> Result<Option<Open311Client>, Failure> {
    let keys: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(n, v)| n == "api_key" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
        .collect();
    match keys.as_slice() {
        [] => Ok(None),
        [key] => client_by_key(state, key).await.map(Some),
        _ => Err(Failure::bad("api_key: given more than once")),
    }
}

// ---- requests ----

/// May this caller read this report through Open311?
fn visible(r: &Report, client: Option<&Open311Client>) -> bool {
    haidang_store::open311::OPEN311_VISIBLE.contains(&r.status)
        || client.is_some_and(|c| r.open311_client_id == Some(c.id))
}

fn public_link(state: &AppState, path: &str) -> String {
    let base = state.config.public_url.as_deref().unwrap_or("").trim_end_matches('/');
    format!("{base}{path}")
}

/// A report as an Open311 service request: only what the public may see.
async fn service_request(state: &AppState, r: &Report, categories: &[Category]) -> Result<ServiceRequest, Failure> {
    let category = categories.iter().find(|c| c.id == r.category_id);
    let events = state.store.work_events(r.work.id).await?;
    // The latest public step's text (a rejection's reason, the published result…); a step
    // without one is told by the status it left the report in.
    let status_notes = match events.iter().rev().find(|e| e.public) {
        Some(e) if e.note.as_deref().is_some_and(|n| !n.trim().is_empty()) => e.note.clone(),
        _ => Some(r.status.name_vi().to_owned()),
    };
    let media_url = if r.status.is_public() {
        let attachments = state.store.report_attachments(r.id).await?;
        attachments
            .iter()
            .find(|a| a.published && a.kind == "image")
            .map(|a| public_link(state, &format!("/api/public/media/{}", a.id)))
    } else {
        None
    };
    let open = r.status.is_open();
    Ok(ServiceRequest {
        service_request_id: r.id.to_string(),
        status: if open { o311::Status::Open } else { o311::Status::Closed },
        status_notes,
        service_name: category.map(|c| c.name_vi.clone()).unwrap_or_default(),
        service_code: category.map(|c| c.code.clone()).unwrap_or_default(),
        description: Some(r.public_description.clone()).filter(|d| !d.is_empty()),
        agency_responsible: r.work.handler_unit.as_ref().map(|u| u.name.clone()),
        service_notice: None,
        requested_datetime: r.received_at,
        updated_datetime: Some(r.updated_at),
        expected_datetime: if open { r.handling_due_at.or(r.work.due_at) } else { None },
        address: r.address.clone(),
        address_id: None,
        zipcode: None,
        lat: Some(r.lat),
        long: Some(r.lon),
        media_url,
    })
}

async fn request(state: &AppState, id: &str, query: &str, format: Format) -> Outcome {
    jurisdiction(query)?;
    let client = reader(state, query).await?;
    let missing = || Failure::not_found(format!("service_request_id: {} is not a request", shown(id)));
    let Some(id) = id.parse::<i64>().ok().filter(|id| *id > 0) else {
        return Err(missing());
    };
    let report = match state.store.report(id).await {
        Ok(r) if visible(&r, client.as_ref()) => r,
        Ok(_) | Err(StoreError::NotFound) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    let categories = state.store.categories().await?;
    let one = service_request(state, &report, &categories).await?;
    Ok((StatusCode::OK, o311::render_requests(&[one], zone(), format)))
}

async fn requests(state: &AppState, query: &str, format: Format) -> Outcome {
    let client = reader(state, query).await?;
    let parsed = o311::parse_request_query(query, state.clock.now()).map_err(Failure::list)?;
    let categories = state.store.categories().await?;
    let page = u64::from(parsed.page.saturating_sub(1));
    let mut filter = Open311Filter {
        client: client.as_ref().map(|c| c.id),
        limit: parsed.page_size as usize,
        offset: usize::try_from(page * u64::from(parsed.page_size)).unwrap_or(usize::MAX).min(i64::MAX as usize),
        ..Default::default()
    };
    match parsed.filter {
        RequestFilter::Ids(ids) => {
            // Ids that are not ours cannot match anything: they are simply not listed.
            filter.ids = Some(ids.iter().filter_map(|id| id.parse::<i64>().ok()).collect());
        }
        RequestFilter::Search(search) => {
            let mut unknown = Vec::new();
            for code in &search.service_codes {
                match categories.iter().find(|c| &c.code == code) {
                    Some(c) => filter.categories.push(c.id),
                    None => unknown
                        .push(o311::Error::bad_param("service_code", format!("{} is not a service", shown(code)))),
                }
            }
            if !unknown.is_empty() {
                return Err(Failure::list(unknown));
            }
            let open = search.statuses.contains(&o311::Status::Open);
            let closed = search.statuses.contains(&o311::Status::Closed);
            if open != closed {
                filter.statuses = Status::ALL.into_iter().filter(|s| s.is_open() == open).collect();
            }
            filter.from = Some(search.start);
            filter.to = Some(search.end);
        }
    }
    let ids = state.store.open311_request_ids(&filter).await?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let report = match state.store.report(id).await {
            Ok(r) => r,
            // Erased between the two reads: not listed.
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        items.push(service_request(state, &report, &categories).await?);
    }
    Ok((StatusCode::OK, o311::render_requests(&items, zone(), format)))
}

async fn token(state: &AppState, token: &str, query: &str, format: Format) -> Outcome {
    jurisdiction(query)?;
    let missing = || Failure::not_found(format!("token: {} is not a token of this server", shown(token)));
    if token.is_empty() || token.len() > 200 {
        return Err(missing());
    }
    let report = match state.store.report_by_open311_token(token).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    let one = RequestToken { service_request_id: Some(report.id.to_string()), token: token.to_owned() };
    Ok((StatusCode::OK, o311::render_tokens(&[one], format)))
}

// ---- POST requests ----

/// Reads the body (at most the crate's 64 KiB) as fields: url-encoded, or the text parts of a
/// multipart form. Files are not taken: media come as `media_url`.
async fn body_fields(req: Request) -> Result<Vec<(String, String)>, Failure> {
    let (parts, body) = req.into_parts();
    let too_large =
        || Failure::one(StatusCode::PAYLOAD_TOO_LARGE, format!("body: larger than {} bytes", o311::MAX_BODY_BYTES));
    let bytes = axum::body::to_bytes(body, o311::MAX_BODY_BYTES).await.map_err(|_| too_large())?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-www-form-urlencoded")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return o311::parse_form(&bytes).map_err(Failure::list);
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(Failure::bad("body: send application/x-www-form-urlencoded or multipart/form-data"));
    }
    let malformed = |e: axum::extract::multipart::MultipartError| Failure::bad(format!("body: {}", e.body_text()));
    let req = Request::from_parts(parts, Body::from(bytes));
    let mut multipart =
        Multipart::from_request(req, &()).await.map_err(|e| Failure::bad(format!("body: {}", e.body_text())))?;
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_owned();
        if field.file_name().is_some() {
            return Err(Failure::bad(format!(
                "{}: files are not accepted; give a link to the photo as media_url",
                shown(&name)
            )));
        }
        let value = field.text().await.map_err(malformed)?;
        fields.push((name, value));
    }
    Ok(fields)
}

/// The first non-empty `api_key` of a body.
fn api_key(fields: &[(String, String)]) -> Option<&str> {
    fields.iter().find(|(n, v)| n == "api_key" && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

/// The answers as the intake stores them: as sent, list keys once each, date-times in the
/// province's offset.
fn stored_answers(new: &NewRequest, answers: Vec<o311::Answer>) -> BTreeMap<String, Vec<String>> {
    answers
        .into_iter()
        .map(|a| {
            let values = match a.value {
                o311::AnswerValue::Text(t) | o311::AnswerValue::Key(t) => vec![t],
                o311::AnswerValue::Keys(keys) => keys,
                o311::AnswerValue::Number(_) => new.attributes.get(&a.code).cloned().unwrap_or_default(),
                o311::AnswerValue::Datetime(at) => {
                    vec![at.with_timezone(&zone()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)]
                }
            };
            (a.code, values)
        })
        .collect()
}

async fn submit(state: &AppState, client: &ClientInfo, req: Request, format: Format) -> Outcome {
    count_submission(state, client)?;
    let fields = body_fields(req).await?;
    let Some(key) = api_key(&fields) else {
        return Err(Failure::forbidden("api_key: required to submit requests; ask the province for a key"));
    };
    let open311_client = client_by_key(state, key).await?;
    let new = o311::parse_new_request(fields).map_err(Failure::list)?;
    let category = service(state, &new.service_code).await?;
    let answers = new.check_attributes(&definition_of(&category)).map_err(Failure::list)?;
    let Some(at) = new.lat_long else {
        return Err(Failure::bad(
            "lat: required with long; requests are placed by coordinates here, address_string or address_id alone \
             cannot be located",
        ));
    };
    let mut description = new.description.clone().unwrap_or_else(|| category.name_vi.clone());
    if let Some(url) = &new.media_url {
        description = format!("{description}\n\nẢnh (media_url): {url}");
        if description.chars().count() > o311::MAX_VALUE_CHARS {
            return Err(Failure::bad(format!(
                "media_url: with the description, longer than {} characters",
                o311::MAX_VALUE_CHARS
            )));
        }
    }
    let name =
        [new.first_name.as_deref(), new.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let token = haidang_auth::new_secret("o311_").value;
    let submission = Submission {
        channel: Channel::Open311,
        category_id: category.id,
        title: None,
        description,
        lat: at.lat,
        lon: at.long,
        address: new.address_string.clone(),
        urgent: false,
        contact: ContactDetails {
            name: Some(name).filter(|n| !n.is_empty()),
            phone: new.phone.clone(),
            email: new.email.clone(),
        },
        confidential: false,
        // GeoReport v2 has no consent field: the key holder's agreement with the province
        // covers the processing notice its app shows, so none is recorded here.
        consent: false,
        attributes: stored_answers(&new, answers),
        open311_client_id: Some(open311_client.id),
        open311_token: Some(token),
    };
    let ctx = AuditCtx {
        actor: Actor { kind: "citizen".into(), id: None, name: format!("citizen via {}", open311_client.name) },
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        request_id: client.request_id.clone(),
    };
    let report = intake::submit(state, &ctx, citizen(), submission, Vec::new()).await?;
    if let Err(e) = state.store.note_open311_client_used(open311_client.id).await {
        tracing::warn!(error = %e, client = open311_client.id, "could not note the Open311 client's use");
    }
    let created = RequestCreated {
        service_request_id: Some(report.id.to_string()),
        token: None,
        service_notice: Some(format!(
            "Đã tiếp nhận phản ánh. Mã theo dõi: {} ({})",
            report.code,
            notices::tracking_link(state, &report.code)
        )),
        account_id: None,
    };
    Ok((StatusCode::OK, o311::render_created(&created, format)))
}
