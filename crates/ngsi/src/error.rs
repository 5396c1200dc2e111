//! The problem types of ETSI GS CIM 009 clause 5.5.2 and the status code each one is sent with.

use std::fmt;

/// One of the error types of clause 5.5.2; its URI is `https://uri.etsi.org/ngsi-ld/errors/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    BadRequestData,
    AlreadyExists,
    OperationNotSupported,
    ResourceNotFound,
    InternalError,
    TooComplexQuery,
    TooManyResults,
    LdContextNotAvailable,
    NoMultiTenantSupport,
    NonexistentTenant,
    /// Not in the specification (it leaves security to the platform): no or a bad token.
    Unauthorized,
    /// Not in the specification: the caller's units or entity types do not allow this.
    Forbidden,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidRequest => "InvalidRequest",
            Self::BadRequestData => "BadRequestData",
            Self::AlreadyExists => "AlreadyExists",
            Self::OperationNotSupported => "OperationNotSupported",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::InternalError => "InternalError",
            Self::TooComplexQuery => "TooComplexQuery",
            Self::TooManyResults => "TooManyResults",
            Self::LdContextNotAvailable => "LdContextNotAvailable",
            Self::NoMultiTenantSupport => "NoMultiTenantSupport",
            Self::NonexistentTenant => "NonexistentTenant",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden => "Forbidden",
        }
    }

    pub fn type_uri(self) -> String {
        match self {
            // Hải Đăng's own problem types, as the rest of its API uses.
            Self::Unauthorized => "https://haidang.vn/problems/unauthorized".to_string(),
            Self::Forbidden => "https://haidang.vn/problems/forbidden".to_string(),
            _ => format!("https://uri.etsi.org/ngsi-ld/errors/{}", self.name()),
        }
    }

    /// The HTTP status the specification gives this error type (clause 5.5.2, table 5.5.2-1,
    /// and the operation clauses of 6.x).
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest | Self::BadRequestData => 400,
            Self::AlreadyExists => 409,
            Self::OperationNotSupported => 422,
            Self::ResourceNotFound | Self::NonexistentTenant => 404,
            Self::InternalError => 500,
            Self::TooComplexQuery | Self::TooManyResults => 403,
            Self::LdContextNotAvailable => 503,
            Self::NoMultiTenantSupport => 501,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
        }
    }
}

/// A refusal in the specification's terms: the kind decides type and status; `detail` says,
/// in words a client developer can act on, what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NgsiError {
    pub kind: ErrorKind,
    pub title: String,
    pub detail: String,
}

impl fmt::Display for NgsiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.detail)
    }
}

impl NgsiError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        let title = match kind {
            ErrorKind::InvalidRequest => "The request is not valid",
            ErrorKind::BadRequestData => "The request contains data that is not valid",
            ErrorKind::AlreadyExists => "The resource already exists",
            ErrorKind::OperationNotSupported => "The operation is not supported",
            ErrorKind::ResourceNotFound => "The resource was not found",
            ErrorKind::InternalError => "Internal error",
            ErrorKind::TooComplexQuery => "The query is too complex",
            ErrorKind::TooManyResults => "The query gives too many results",
            ErrorKind::LdContextNotAvailable => "The JSON-LD @context is not available",
            ErrorKind::NoMultiTenantSupport => "Tenants are not supported",
            ErrorKind::NonexistentTenant => "The tenant does not exist",
            ErrorKind::Unauthorized => "Authentication is required",
            ErrorKind::Forbidden => "Not allowed",
        };
        Self { kind, title: title.to_string(), detail: detail.into() }
    }

    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, detail)
    }

    pub fn bad_data(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequestData, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFound, detail)
    }

    /// The problem document (RFC 9457) sent with the error.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "type": self.kind.type_uri(),
            "title": self.title,
            "status": self.kind.status(),
            "detail": self.detail,
        })
    }
}
