//! Open311 GeoReport v2 wire formats (JSON and XML), request parsing and errors.
//!
//! Pure functions between the spec's wire forms and typed values: no HTTP framework, no
//! store. The server maps `/open311/v2/{resource}.{format}` to [`split_format`], feeds bodies
//! and query strings to the parsers, and answers with the renderers' `(content_type, body)`.
//! See README.md for what of the spec is covered.

mod fields;
mod format;
mod query;
mod render;
mod request;
mod types;
mod w3c;

pub use fields::{MAX_BODY_BYTES, MAX_FIELDS, MAX_NAME_CHARS, MAX_VALUE_CHARS, parse_form};
pub use format::{Format, split_format};
pub use query::{
    MAX_PAGE_SIZE, RequestFilter, RequestQuery, Search, WINDOW_DAYS, parse_jurisdiction, parse_request_query,
};
pub use render::{
    Rendered, render_created, render_definition, render_errors, render_requests, render_services, render_tokens,
};
pub use request::{Answer, AnswerValue, LatLong, NewRequest, parse_new_request};
pub use types::{
    Attribute, AttributeValue, Datatype, Error, RequestCreated, RequestToken, Service, ServiceDefinition,
    ServiceRequest, ServiceType, Status,
};
