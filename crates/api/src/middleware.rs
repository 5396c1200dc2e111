//! Layers every request passes: problem details for every error, metrics, security headers,
//! request spans.

use crate::error::{ApiError, Problem};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Unknown `/api/…` paths get a problem; everything else is the web UI's to route.
pub async fn fallback(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" {
        ApiError::NotFound.into_response()
    } else {
        crate::web::serve(uri).await
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Turns every error answer of the API into an RFC 9457 problem carrying the request's path
/// and id, including the ones the framework makes itself (405, 408, 413, …).
pub async fn problems(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let res = next.run(req).await;
    if res.status().as_u16() < 400 || !is_api(&path) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let is_problem =
        parts.headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let mut problem: Problem = if is_problem {
        match axum::body::to_bytes(body, 64 * 1024).await.ok().and_then(|b| serde_json::from_slice(&b).ok()) {
            Some(p) => p,
            None => ApiError::Internal("unreadable problem body".into()).problem(),
        }
    } else {
        let status = parts.status;
        let err = match status {
            StatusCode::NOT_FOUND => ApiError::NotFound,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
            _ => ApiError::Internal(String::new()),
        };
        let mut p = err.problem();
        if matches!(err, ApiError::Internal(_)) && status != StatusCode::INTERNAL_SERVER_ERROR {
            p.status = status.as_u16();
            p.title = status.canonical_reason().unwrap_or("Error").to_owned();
            p.problem_type = format!("https://haidang.vn/problems/http-{}", status.as_u16());
        }
        p
    };
    problem.instance = Some(path);
    problem.request_id = request_id;
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// Refuses a body whose declared length is over the route's limit before anything else runs
/// (login, parsing): uploads may be large, every other body is bounded by `max_body_bytes`.
/// Bodies without a declared length are bounded while read, by the extractors' limits.
pub async fn declared_length(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let upload = req.method() == axum::http::Method::POST
        && (path == "/api/public/reports"
            || path
                .strip_prefix("/api/reports/")
                .and_then(|rest| rest.strip_suffix("/attachments"))
                .is_some_and(|id| id.bytes().all(|b| b.is_ascii_digit())));
    let limit = if upload {
        crate::reports::upload::MAX_UPLOAD_BYTES
    } else if path.starts_with("/ngsi-ld/") {
        crate::ngsi::MAX_BODY_BYTES
    } else if path.starts_with("/api/connectors/") && path.ends_with("/upload") {
        crate::connectors::MAX_FILE_BYTES
    } else {
        state.config.max_body_bytes
    };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::PayloadTooLarge.into_response();
    }
    next.run(req).await
}

/// Request counts and latency by route template.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    state.metrics.in_flight.inc();
    let res = next.run(req).await;
    state.metrics.in_flight.dec();
    let status = res.status().as_u16();
    state
        .metrics
        .latency
        .get_or_create(&crate::metrics::RouteLabels { route: route.clone() })
        .observe(started.elapsed().as_secs_f64());
    state.metrics.requests.get_or_create(&crate::metrics::RequestLabels { method, route, status }).inc();
    res
}

pub async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if !docs {
        // Tiles may come from any HTTPS tile server the province configures.
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; \
                 connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
            ),
        );
    }
    res
}

pub fn span(req: &Request) -> tracing::Span {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
}

pub fn panic_problem(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a request handler panicked");
    ApiError::Internal("panic".into()).into_response()
}
