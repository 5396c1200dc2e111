//! The resources of GeoReport v2, one struct per response element, fields named as the spec
//! names them so the serde forms and the wire forms agree.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One entry of `GET services`: a type of request citizens can file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: Option<String>,
    /// True when the service has a definition (attributes) the client must fetch and answer.
    pub metadata: bool,
    pub r#type: ServiceType,
    /// Comma-separated tags, synonyms of the name and group (the spec's form, kept as one string).
    pub keywords: String,
    pub group: Option<String>,
}

/// How `POST requests` answers for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    /// A `service_request_id` comes back at once.
    Realtime,
    /// A `token` comes back, later exchanged for the id at `GET tokens/{token}`.
    Batch,
    /// Neither comes back.
    Blackbox,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Realtime => "realtime",
            ServiceType::Batch => "batch",
            ServiceType::Blackbox => "blackbox",
        }
    }
}

/// `GET services/{code}`: the extra questions a service asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

/// One question of a service definition, answered as `attribute[code]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// False: the attribute only informs the user and takes no answer.
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: Option<String>,
    /// Display order, 1 first.
    pub order: u32,
    pub description: String,
    /// The choices of a `singlevaluelist` or `multivaluelist`; empty for the other datatypes.
    pub values: Vec<AttributeValue>,
}

/// The kind of input an attribute takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    /// One line of text.
    String,
    Number,
    /// A W3C date-time with its zone.
    Datetime,
    /// Text that may hold line breaks.
    Text,
    /// One key out of `values`.
    Singlevaluelist,
    /// Any number of keys out of `values`.
    Multivaluelist,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }
}

/// One choice of a list attribute: `key` is submitted, `name` is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

/// One entry of `GET requests` and `GET requests/{id}`.
///
/// Times are instants; the renderers write them in the zone they are given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRequest {
    pub service_request_id: String,
    pub status: Status,
    pub status_notes: Option<String>,
    pub service_name: String,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_datetime: DateTime<Utc>,
    /// None until the request is first changed.
    pub updated_datetime: Option<DateTime<Utc>>,
    pub expected_datetime: Option<DateTime<Utc>>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// The two states GeoReport v2 knows; finer workflow states map onto them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }
}

/// The answer to `POST requests`.
///
/// The spec returns either `service_request_id` (realtime) or `token` (batch), never both,
/// and neither for blackbox services; when both are set the renderer writes only the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCreated {
    pub service_request_id: Option<String>,
    pub token: Option<String>,
    pub service_notice: Option<String>,
    pub account_id: Option<String>,
}

/// One entry of `GET tokens/{token}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestToken {
    /// None while the batch behind the token has not produced the request yet.
    pub service_request_id: Option<String>,
    pub token: String,
}

/// One entry of an error response.
///
/// `code` usually equals the HTTP status (400 bad input, 403 bad api_key, 404 unknown resource);
/// `description` is shown to the user and, for bad input, starts with the parameter's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {description}")]
pub struct Error {
    pub code: u16,
    pub description: String,
}

impl Error {
    pub fn new(code: u16, description: impl Into<String>) -> Self {
        Error { code, description: description.into() }
    }

    /// A 400 naming the parameter at fault: `"service_code: required"`.
    pub fn bad_param(param: &str, problem: impl std::fmt::Display) -> Self {
        Error { code: 400, description: format!("{param}: {problem}") }
    }
}
