//! RFC 9457 problem details: every error the API gives names what was wrong and, for bad
//! input, which field and why.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haidang_core::{FieldError, Invalid};
use haidang_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

const PROBLEM_BASE: &str = "https://haidang.vn/problems/";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// `https://haidang.vn/problems/<slug>`
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For bad input: each refused field and the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("login required")]
    Unauthenticated(&'static str),
    #[error("second factor required")]
    TotpRequired,
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("second factor setup required")]
    TotpSetupRequired,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("forbidden")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("account locked")]
    Locked,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("bad cursor")]
    BadCursor,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError { field: field.into(), reason: reason.into() }])
    }

    pub fn forbidden() -> Self {
        ApiError::Forbidden("your grants do not cover this object".into())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, Option<String>) {
        use ApiError::*;
        match self {
            Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation", "The input is not valid", None),
            MalformedJson(d) => (
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The body is not valid JSON for this request",
                Some(d.clone()),
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send the body as application/json",
                None,
            ),
            Unauthenticated(d) => {
                (StatusCode::UNAUTHORIZED, "unauthenticated", "Login required", Some((*d).to_owned()))
            }
            TotpRequired => {
                (StatusCode::UNAUTHORIZED, "totp-required", "Enter the code from your authenticator app", None)
            }
            PasswordChangeRequired => (
                StatusCode::FORBIDDEN,
                "password-change-required",
                "Change your initial password first",
                Some("POST /api/auth/password".into()),
            ),
            TotpSetupRequired => (
                StatusCode::FORBIDDEN,
                "totp-setup-required",
                "Your role requires two-factor login: set it up first",
                Some("POST /api/auth/totp/setup, then /api/auth/totp/enable".into()),
            ),
            Csrf => (
                StatusCode::FORBIDDEN,
                "csrf",
                "Missing or wrong CSRF token",
                Some("send the hd_csrf cookie's value in the X-CSRF-Token header".into()),
            ),
            Forbidden(d) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed", Some(d.clone())),
            NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found", None),
            Conflict(d) => (StatusCode::CONFLICT, "conflict", "Conflicts with existing data", Some(d.clone())),
            RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many attempts",
                Some(format!("try again in {retry_after_secs} s")),
            ),
            Locked => (
                StatusCode::LOCKED,
                "locked",
                "The account is locked after repeated failed logins",
                Some("try again later or ask an administrator".into()),
            ),
            PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The request body is too large", None)
            }
            BadCursor => (StatusCode::BAD_REQUEST, "bad-cursor", "The pagination cursor is not valid", None),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", None),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, slug, title, detail) = self.parts();
        Problem {
            problem_type: format!("{PROBLEM_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            instance: None,
            request_id: None,
            errors: match self {
                ApiError::Invalid(e) => e.clone(),
                ApiError::BadCursor => {
                    vec![FieldError { field: "cursor".into(), reason: "is not a cursor this server issued".into() }]
                }
                _ => Vec::new(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(msg) = &self {
            tracing::error!(error = %msg, "internal error");
        }
        let problem = self.problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(problem)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let ApiError::RateLimited { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if matches!(self, ApiError::Unauthenticated(_) | ApiError::TotpRequired) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"haidang\""));
        }
        res
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::Invalid(e.0)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(c) => ApiError::Conflict(c),
            StoreError::Invalid(i) => i.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
