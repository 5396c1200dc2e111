//! Entities and their attributes (clauses 4.5 and 5.2 of ETSI GS CIM 009).
//!
//! An [`Entity`] holds every name expanded (type IRIs, attribute IRIs). It is both the parsed
//! form of a request body and what the store keeps (serialised with serde as the *expanded
//! normalized* JSON-LD form, system attributes included), so parsing, merging and rendering are
//! all here and the store only moves JSON.
//!
//! TODO(helper B): everything marked `todo!()`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::context::Context;
use crate::error::NgsiError;

/// `https://uri.etsi.org/ngsi-ld/location` etc.: the core attribute names, expanded.
pub mod names {
    pub const LOCATION: &str = "https://uri.etsi.org/ngsi-ld/location";
    pub const OBSERVATION_SPACE: &str = "https://uri.etsi.org/ngsi-ld/observationSpace";
    pub const OPERATION_SPACE: &str = "https://uri.etsi.org/ngsi-ld/operationSpace";
    pub const NAME: &str = "https://uri.etsi.org/ngsi-ld/name";
    pub const DESCRIPTION: &str = "https://uri.etsi.org/ngsi-ld/description";
}

/// An NGSI-LD entity, names expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// The entity id, a URI (`urn:ngsi-ld:AirQualityObserved:GL-PK-01`).
    pub id: String,
    /// Expanded type IRIs, at least one, no duplicates, in the order given.
    pub types: Vec<String>,
    /// `scope` values (clause 4.18), if any.
    pub scope: Vec<String>,
    /// Attributes by expanded name; several instances only when they differ by `datasetId`
    /// (at most one instance without a `datasetId`: the default instance).
    pub attrs: BTreeMap<String, Vec<Attribute>>,
    pub created_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
}

/// The kind of an attribute (clause 4.5.2 onwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Property,
    Relationship,
    GeoProperty,
    LanguageProperty,
    VocabProperty,
    JsonProperty,
    ListProperty,
    ListRelationship,
}

/// One attribute instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub kind: AttrKind,
    /// `value` (Property, GeoProperty: a GeoJSON geometry object, JsonProperty: `json`,
    /// VocabProperty: `vocab`, expanded), `object` (Relationship: a URI or array of URIs),
    /// `languageMap` (LanguageProperty), `valueList` / `objectList` (lists).
    pub value: Value,
    pub dataset_id: Option<String>,
    pub observed_at: Option<DateTime<Utc>>,
    pub unit_code: Option<String>,
    /// Relationship only: the expanded `objectType`, if given.
    pub object_type: Option<Vec<String>>,
    /// Sub-attributes (properties of properties, relationships of properties), expanded names.
    pub sub_attrs: BTreeMap<String, Vec<Attribute>>,
    pub created_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
}

/// How to render (clause 4.5.3 normalized, 4.5.4 concise, 4.5.5 simplified / keyValues).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Normalized,
    Concise,
    KeyValues,
}

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub format: Format,
    /// Include `createdAt` / `modifiedAt` (`options=sysAttrs`).
    pub sys_attrs: bool,
    /// Only these expanded attribute names (`attrs=` / `pick=`); `None` = all.
    pub attrs: Option<Vec<String>>,
    /// `lang=`: LanguageProperty rendered as a Property in this language (clause 4.15).
    pub lang: Option<String>,
}

/// What a request body is for: creation needs `id` and `type`; a fragment (append, update,
/// batch update items) may leave them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Entity,
    Fragment,
}

impl Entity {
    /// Parses a request body (normalized or concise; the `@context` member, if any, must
    /// already have been turned into `ctx` by the caller and is ignored here). Every name is
    /// expanded with `ctx`. Errors: `BadRequestData` for anything the specification forbids
    /// (invalid id URI, missing type, bad attribute structure, invalid GeoJSON geometry, a
    /// forbidden attribute name, `null` values…), with `detail` naming the member.
    pub fn parse(_body: &Value, _ctx: &Context, _kind: BodyKind) -> Result<Entity, NgsiError> {
        todo!()
    }

    /// Renders the entity as a JSON object with names compacted by `ctx` (no `@context`
    /// member: the caller adds it or a `Link` header).
    pub fn render(&self, _ctx: &Context, _opts: &RenderOptions) -> Value {
        todo!()
    }

    /// GeoJSON Feature (clause 4.5.16) with `geometry` from `geo_property` (expanded; usually
    /// [`names::LOCATION`]).
    pub fn render_geojson(&self, _ctx: &Context, _opts: &RenderOptions, _geo_property: &str) -> Value {
        todo!()
    }

    /// The stored form: expanded normalized JSON with system attributes. Must round-trip
    /// through [`Entity::from_stored`].
    pub fn to_stored(&self) -> Value {
        todo!()
    }

    pub fn from_stored(_stored: &Value) -> Result<Entity, NgsiError> {
        todo!()
    }

    /// The GeoJSON geometry of a GeoProperty (default instance), if there is one.
    pub fn geometry(&self, _geo_property: &str) -> Option<geo::Geometry<f64>> {
        todo!()
    }
}

/// Clause 5.2.18 UpdateResult: which attributes were written and which were not, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateResult {
    /// Expanded names of the attributes written.
    pub updated: Vec<String>,
    pub not_updated: Vec<NotUpdated>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotUpdated {
    /// Expanded attribute name.
    pub attribute: String,
    pub reason: String,
}

/// Writing into an entity. Every operation stamps `modified_at` (and `created_at` on new
/// instances) with `now`, and leaves the entity valid.
impl Entity {
    /// Append Entity Attributes (clause 5.6.3, `POST /entities/{id}/attrs`): adds attributes,
    /// and replaces instances with the same `datasetId` unless `no_overwrite`.
    pub fn append(&mut self, _fragment: Entity, _no_overwrite: bool, _now: DateTime<Utc>) -> UpdateResult {
        todo!()
    }

    /// Update Entity Attributes (clause 5.6.2, `PATCH /entities/{id}/attrs`): replaces only
    /// instances that exist; the others are reported as not updated.
    pub fn update(&mut self, _fragment: Entity, _now: DateTime<Utc>) -> UpdateResult {
        todo!()
    }

    /// Merge Entity (clause 5.6.17, `PATCH /entities/{id}`): attributes merged member by
    /// member, `"urn:ngsi-ld:null"` deletes.
    pub fn merge(&mut self, _fragment: Entity, _now: DateTime<Utc>) -> UpdateResult {
        todo!()
    }

    /// Partial Attribute Update (clause 5.6.4, `PATCH /entities/{id}/attrs/{attrId}`).
    pub fn patch_attribute(&mut self, _name: &str, _fragment: Attribute, _now: DateTime<Utc>) -> Result<(), NgsiError> {
        todo!()
    }

    /// Replace Attribute (clause 5.6.19, `PUT /entities/{id}/attrs/{attrId}`).
    pub fn replace_attribute(&mut self, _name: &str, _attr: Attribute, _now: DateTime<Utc>) -> Result<(), NgsiError> {
        todo!()
    }

    /// Replace Entity (clause 5.6.18, `PUT /entities/{id}`): all attributes replaced, id and
    /// `created_at` kept.
    pub fn replace(&mut self, _with: Entity, _now: DateTime<Utc>) {
        todo!()
    }

    /// Delete Entity Attribute (clause 5.6.5): the default instance, the one with `dataset_id`,
    /// or all instances with `delete_all`. `ResourceNotFound` if there is no such instance.
    pub fn delete_attribute(
        &mut self,
        _name: &str,
        _dataset_id: Option<&str>,
        _delete_all: bool,
        _now: DateTime<Utc>,
    ) -> Result<(), NgsiError> {
        todo!()
    }
}

impl Attribute {
    /// Parses one attribute (normalized or concise) as given for `name` (expanded), for the
    /// attribute routes. `ctx` expands sub-attribute names and `objectType` / vocab values.
    pub fn parse(_name: &str, _body: &Value, _ctx: &Context) -> Result<Vec<Attribute>, NgsiError> {
        todo!()
    }

    /// The instance as stored in history: expanded normalized JSON with system attributes.
    pub fn to_stored(&self) -> Value {
        todo!()
    }

    pub fn from_stored(_stored: &Value) -> Result<Attribute, NgsiError> {
        todo!()
    }

    /// The value the `q` language compares (`value`, `object`, `languageMap`, `vocab`, `json`).
    pub fn query_value(&self) -> &Value {
        &self.value
    }
}
