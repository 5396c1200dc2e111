//! What every NGSI-LD operation shares (clause 6.3): the tenant, the `@context` (from the
//! `Link` header or the body), media types in and out, and errors as problem documents.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haidang_ngsi::{Context, ErrorKind, NgsiError};
use haidang_store::StoreError;
use serde_json::Value;

use crate::state::AppState;

pub const JSON: &str = "application/json";
pub const LD_JSON: &str = "application/ld+json";
pub const GEO_JSON: &str = "application/geo+json";
pub const MERGE_PATCH: &str = "application/merge-patch+json";
const CONTEXT_REL: &str = "http://www.w3.org/ns/json-ld#context";
pub const TENANT_HEADER: &str = "ngsild-tenant";
pub const COUNT_HEADER: &str = "ngsild-results-count";

/// An NGSI-LD refusal as a response.
#[derive(Debug)]
pub struct Problem(pub NgsiError, pub Option<StatusCode>);

impl From<NgsiError> for Problem {
    fn from(e: NgsiError) -> Self {
        Problem(e, None)
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error in the NGSI-LD API");
        Problem(NgsiError::new(ErrorKind::InternalError, "the store failed; the request was not applied"), None)
    }
}

impl From<Arc<StoreError>> for Problem {
    fn from(e: Arc<StoreError>) -> Self {
        tracing::error!(error = %e, "context writer error");
        Problem(NgsiError::new(ErrorKind::InternalError, "the store failed; the request was not applied"), None)
    }
}

impl Problem {
    /// For refusals the specification expresses only as an HTTP status (406, 415, 411).
    pub fn status(status: StatusCode, kind: ErrorKind, detail: impl Into<String>) -> Self {
        Problem(NgsiError::new(kind, detail), Some(status))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self
            .1
            .unwrap_or_else(|| StatusCode::from_u16(self.0.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        let mut body = self.0.to_json();
        body["status"] = status.as_u16().into();
        let mut res = (status, body.to_string()).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
        res
    }
}

pub type NgsiResult<T = Response> = Result<T, Problem>;

/// The tenant named by `NGSILD-Tenant`, or the default one (the province).
pub fn tenant(headers: &HeaderMap) -> NgsiResult<String> {
    let Some(v) = headers.get(TENANT_HEADER) else { return Ok(String::new()) };
    let t = v.to_str().map_err(|_| NgsiError::bad_data("NGSILD-Tenant must be text"))?.trim();
    if t.is_empty()
        || t.len() > 64
        || !t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'))
    {
        return Err(NgsiError::bad_data(
            "NGSILD-Tenant must be 1–64 characters: letters, digits, '_', '-', '.', ':' or '/'",
        )
        .into());
    }
    Ok(t.to_owned())
}

/// For reads: a tenant that was never written to does not exist (clause 5.5.2).
pub async fn existing_tenant(state: &AppState, headers: &HeaderMap) -> NgsiResult<String> {
    let t = tenant(headers)?;
    if !t.is_empty() && !state.store.context_tenant_exists(&t).await? {
        return Err(NgsiError::new(ErrorKind::NonexistentTenant, format!("there is no tenant {t:?}")).into());
    }
    Ok(t)
}

/// The URL of a `Link` header with the JSON-LD context relation, if any.
fn link_context(headers: &HeaderMap) -> NgsiResult<Option<String>> {
    let mut found = None;
    for v in headers.get_all(header::LINK) {
        let v = v.to_str().map_err(|_| NgsiError::bad_data("the Link header must be text"))?;
        for link in v.split(',') {
            let mut parts = link.split(';');
            let target = parts.next().unwrap_or("").trim();
            let is_context = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("rel=").map(|r| r.trim_matches('"') == CONTEXT_REL).unwrap_or(false)
            });
            if !is_context {
                continue;
            }
            let url = target
                .strip_prefix('<')
                .and_then(|t| t.strip_suffix('>'))
                .ok_or_else(|| NgsiError::bad_data("a Link header target must be written <URL>"))?;
            if found.is_some() {
                return Err(NgsiError::bad_data("only one JSON-LD context Link header may be given").into());
            }
            found = Some(url.to_owned());
        }
    }
    Ok(found)
}

/// The context of a request without a body: the `Link` header's, or the core context.
pub async fn header_context(state: &AppState, headers: &HeaderMap) -> NgsiResult<Arc<Context>> {
    match link_context(headers)? {
        Some(url) => Ok(state.ngsi.contexts.resolve(&Value::String(url)).await?),
        None => Ok(Context::core()),
    }
}

fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// A request body with the context it is to be read in. `application/ld+json` bodies carry
/// their `@context` (and then no `Link` header may name one); `application/json` bodies must
/// not, and take the `Link` header's or the core context.
pub struct Body {
    pub value: Value,
    pub ctx: Arc<Context>,
}

pub async fn body(state: &AppState, headers: &HeaderMap, bytes: &Bytes, allow_merge_patch: bool) -> NgsiResult<Body> {
    let media = media_type(headers);
    let ld = match media.as_deref() {
        Some(JSON) => false,
        Some(LD_JSON) => true,
        Some(MERGE_PATCH) if allow_merge_patch => false,
        Some(other) => {
            return Err(Problem::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorKind::InvalidRequest,
                format!("content type {other} is not accepted; send application/json or application/ld+json"),
            ));
        }
        None => {
            return Err(Problem::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorKind::InvalidRequest,
                "say Content-Type: application/json or application/ld+json",
            ));
        }
    };
    if bytes.is_empty() {
        return Err(NgsiError::invalid_request("the request has no body").into());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| NgsiError::invalid_request(format!("the body is not valid JSON: {e}")))?;
    let link = link_context(headers)?;
    let ctx = if ld {
        if link.is_some() {
            return Err(NgsiError::bad_data(
                "with Content-Type application/ld+json the @context goes in the body, not in a Link header",
            )
            .into());
        }
        let inline = contexts_in_body(&value)?;
        match inline {
            Some(c) => state.ngsi.contexts.resolve(&c).await?,
            None => {
                return Err(NgsiError::bad_data("an application/ld+json body must carry an @context member").into());
            }
        }
    } else {
        if body_has_context(&value) {
            return Err(NgsiError::bad_data(
                "an application/json body must not carry @context; send it in a Link header or use application/ld+json",
            )
            .into());
        }
        match link {
            Some(url) => state.ngsi.contexts.resolve(&Value::String(url)).await?,
            None => Context::core(),
        }
    };
    Ok(Body { value, ctx })
}

fn body_has_context(value: &Value) -> bool {
    match value {
        Value::Object(m) => m.contains_key("@context"),
        Value::Array(items) => items.iter().any(|i| i.as_object().is_some_and(|m| m.contains_key("@context"))),
        _ => false,
    }
}

/// The `@context` of an ld+json body: the object's, or for an array (batch operations) the
/// one every element must carry — the same in all of them.
fn contexts_in_body(value: &Value) -> NgsiResult<Option<Value>> {
    match value {
        Value::Object(m) => Ok(m.get("@context").cloned()),
        Value::Array(items) => {
            let mut found: Option<&Value> = None;
            for (i, item) in items.iter().enumerate() {
                let c = item.get("@context").ok_or_else(|| {
                    NgsiError::bad_data(format!("element {i} of an application/ld+json array has no @context"))
                })?;
                if let Some(prev) = found
                    && prev != c
                {
                    return Err(NgsiError::bad_data("the elements of a batch must all carry the same @context").into());
                }
                found = Some(c);
            }
            Ok(found.cloned())
        }
        _ => Ok(None),
    }
}

/// The representation a client asked for with `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Json,
    LdJson,
    GeoJson,
}

/// Chooses among the media types an operation offers, by the `Accept` header's q-values.
pub fn accept(headers: &HeaderMap, geo: bool) -> NgsiResult<Accept> {
    let Some(v) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Ok(Accept::Json) };
    let mut best: Option<(f32, usize, Accept)> = None;
    for range in v.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let choice = match media.as_str() {
            JSON | "*/*" | "application/*" => Some(Accept::Json),
            LD_JSON => Some(Accept::LdJson),
            GEO_JSON if geo => Some(Accept::GeoJson),
            _ => None,
        };
        if let Some(c) = choice {
            // Higher q wins; on a tie the more specific one, then the earlier one.
            let specific = usize::from(!media.contains('*'));
            let better = match best {
                None => true,
                Some((bq, bs, _)) => q > bq || (q == bq && specific > bs),
            };
            if better {
                best = Some((q, specific, c));
            }
        }
    }
    best.map(|b| b.2).ok_or_else(|| {
        let offered = if geo {
            "application/json, application/ld+json or application/geo+json"
        } else {
            "application/json or application/ld+json"
        };
        Problem::status(
            StatusCode::NOT_ACCEPTABLE,
            ErrorKind::InvalidRequest,
            format!("this resource is offered as {offered}"),
        )
    })
}

/// Sends a body in the negotiated representation: with `application/ld+json` the context
/// goes in the body (in each element of an array), otherwise in a `Link` header.
pub fn respond(state: &AppState, status: StatusCode, mut body: Value, ctx: &Context, accept: Accept) -> Response {
    let media = match accept {
        Accept::LdJson => {
            let source = ctx.source();
            match &mut body {
                Value::Object(m) => {
                    m.insert("@context".into(), source);
                }
                Value::Array(items) => {
                    for item in items {
                        if let Value::Object(m) = item {
                            m.insert("@context".into(), source.clone());
                        }
                    }
                }
                _ => {}
            }
            LD_JSON
        }
        Accept::Json => JSON,
        Accept::GeoJson => GEO_JSON,
    };
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if accept != Accept::LdJson
        && let Ok(link) = HeaderValue::from_str(&format!(
            "<{}>; rel=\"{CONTEXT_REL}\"; type=\"{LD_JSON}\"",
            state.ngsi.contexts.link_for(ctx)
        ))
    {
        res.headers_mut().insert(header::LINK, link);
    }
    res
}

/// Adds `NGSILD-Results-Count` when the total was asked for (`count=true`).
pub fn with_count(mut res: Response, total: Option<u64>) -> Response {
    if let Some(total) = total
        && let Ok(v) = HeaderValue::from_str(&total.to_string())
    {
        res.headers_mut().insert(COUNT_HEADER, v);
    }
    res
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
