//! NGSI-LD, the context-information API of ETSI GS CIM 009 (V1.8.1 is the reference), as pure
//! logic: nothing here opens a socket or a file. The HTTP routes (`haidang-api::ngsi`) and the
//! store (`haidang-store::context`) are built on these types.
//!
//! - [`context`]: JSON-LD `@context` processing reduced to what NGSI-LD needs — expanding and
//!   compacting entity type names and attribute names; the core context is bundled.
//! - [`entity`]: entities and attributes (Property, Relationship, GeoProperty, LanguageProperty,
//!   with `datasetId` instances), parsed from normalized or concise JSON, rendered back as
//!   normalized, concise or keyValues JSON or GeoJSON.
//! - [`query`]: the `q` query language. [`geoquery`]: `georel`/`geometry`/`coordinates`.
//! - [`temporal`]: temporal queries, durations, aggregation and the temporal representations.
//! - [`error`]: the specification's problem types and status codes.
//!
//! Inside Hải Đăng every name is held **expanded** (full IRIs); compaction happens only when
//! rendering an answer with the requester's context.

pub mod context;
pub mod entity;
pub mod error;
pub mod geoquery;
pub mod query;
pub mod temporal;

pub use context::Context;
pub use entity::{AttrKind, Attribute, Entity};
pub use error::{ErrorKind, NgsiError};
