//! Entities and their attributes (clauses 4.5 and 5.2 of ETSI GS CIM 009).
//!
//! An [`Entity`] holds every name expanded (type IRIs, attribute IRIs). It is both the parsed
//! form of a request body and what the store keeps (serialised with serde as the *expanded
//! normalized* JSON-LD form, system attributes included), so parsing, merging and rendering are
//! all here and the store only moves JSON.
//!
//! Submodules: `parse` (request bodies, clauses 4.5, 4.6, 5.5.4), `render` (clauses 4.5.x
//! representations, 4.15 language filter, 4.5.16 GeoJSON), `stored` (the store's form), `write`
//! (the update operations of clause 5.6) and [`validate`] (URIs, names, scopes, date-times and
//! GeoJSON geometries).
//!
//! # The stored form
//!
//! [`Entity::to_stored`] gives expanded JSON in the spirit of JSON-LD's expanded form, without
//! its `@value` wrappers:
//!
//! ```json
//! {
//!   "@id": "urn:ngsi-ld:Vehicle:A1",
//!   "@type": ["https://example.org/Vehicle"],
//!   "https://uri.etsi.org/ngsi-ld/scope": ["/Hue/North"],
//!   "https://uri.etsi.org/ngsi-ld/createdAt": "2025-01-01T00:00:00.000Z",
//!   "https://uri.etsi.org/ngsi-ld/modifiedAt": "2025-01-01T00:00:00.000Z",
//!   "https://example.org/speed": [{
//!     "@type": "https://uri.etsi.org/ngsi-ld/Property",
//!     "https://uri.etsi.org/ngsi-ld/hasValue": 55,
//!     "https://uri.etsi.org/ngsi-ld/observedAt": "2025-01-01T00:00:00Z",
//!     "https://uri.etsi.org/ngsi-ld/createdAt": "2025-01-01T00:00:00.000Z",
//!     "https://uri.etsi.org/ngsi-ld/modifiedAt": "2025-01-01T00:00:00.000Z",
//!     "https://example.org/accuracy": [{ "@type": "https://uri.etsi.org/ngsi-ld/Property", "…": "…" }]
//!   }]
//! }
//! ```
//!
//! Each attribute is an array of instances; an instance holds its kind under `@type`, its value
//! under the kind's member IRI ([`AttrKind::value_member`]), its metadata under the core IRIs of
//! [`names`], and its sub-attributes under their IRIs. `observedAt` keeps the client's text;
//! system timestamps are RFC 3339 with milliseconds and `Z`.

mod parse;
mod render;
mod stored;
pub mod validate;
mod write;

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::context::Context;
use crate::error::NgsiError;

pub use render::pick_language;
pub use validate::validate_geojson_geometry;

/// The NGSI-LD Null (clause 5.2.1): in a partial update or a merge it deletes its target.
pub const NGSI_LD_NULL: &str = "urn:ngsi-ld:null";

/// `https://uri.etsi.org/ngsi-ld/location` etc.: the core attribute names, expanded, and the
/// IRIs of the members of entities and attributes (V1.8 core context).
pub mod names {
    pub const LOCATION: &str = "https://uri.etsi.org/ngsi-ld/location";
    pub const OBSERVATION_SPACE: &str = "https://uri.etsi.org/ngsi-ld/observationSpace";
    pub const OPERATION_SPACE: &str = "https://uri.etsi.org/ngsi-ld/operationSpace";
    /// `name` is not a core term in V1.8: it expands into the default vocabulary.
    pub const NAME: &str = "https://uri.etsi.org/ngsi-ld/default-context/name";
    /// `description` is mapped by the core context to Dublin Core.
    pub const DESCRIPTION: &str = "http://purl.org/dc/terms/description";

    pub const SCOPE: &str = "https://uri.etsi.org/ngsi-ld/scope";
    pub const CREATED_AT: &str = "https://uri.etsi.org/ngsi-ld/createdAt";
    pub const MODIFIED_AT: &str = "https://uri.etsi.org/ngsi-ld/modifiedAt";
    pub const DELETED_AT: &str = "https://uri.etsi.org/ngsi-ld/deletedAt";
    pub const OBSERVED_AT: &str = "https://uri.etsi.org/ngsi-ld/observedAt";
    pub const UNIT_CODE: &str = "https://uri.etsi.org/ngsi-ld/unitCode";
    pub const DATASET_ID: &str = "https://uri.etsi.org/ngsi-ld/datasetId";
    pub const INSTANCE_ID: &str = "https://uri.etsi.org/ngsi-ld/instanceId";
    pub const OBJECT_TYPE: &str = "https://uri.etsi.org/ngsi-ld/hasObjectType";
    pub const LANG: &str = "https://uri.etsi.org/ngsi-ld/lang";

    pub const HAS_VALUE: &str = "https://uri.etsi.org/ngsi-ld/hasValue";
    pub const HAS_OBJECT: &str = "https://uri.etsi.org/ngsi-ld/hasObject";
    pub const HAS_LANGUAGE_MAP: &str = "https://uri.etsi.org/ngsi-ld/hasLanguageMap";
    pub const HAS_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/hasVocab";
    pub const HAS_JSON: &str = "https://uri.etsi.org/ngsi-ld/hasJSON";
    pub const HAS_VALUE_LIST: &str = "https://uri.etsi.org/ngsi-ld/hasValueList";
    pub const HAS_OBJECT_LIST: &str = "https://uri.etsi.org/ngsi-ld/hasObjectList";

    pub const PROPERTY: &str = "https://uri.etsi.org/ngsi-ld/Property";
    pub const RELATIONSHIP: &str = "https://uri.etsi.org/ngsi-ld/Relationship";
    pub const GEO_PROPERTY: &str = "https://uri.etsi.org/ngsi-ld/GeoProperty";
    pub const LANGUAGE_PROPERTY: &str = "https://uri.etsi.org/ngsi-ld/LanguageProperty";
    pub const VOCAB_PROPERTY: &str = "https://uri.etsi.org/ngsi-ld/VocabProperty";
    pub const JSON_PROPERTY: &str = "https://uri.etsi.org/ngsi-ld/JsonProperty";
    pub const LIST_PROPERTY: &str = "https://uri.etsi.org/ngsi-ld/ListProperty";
    pub const LIST_RELATIONSHIP: &str = "https://uri.etsi.org/ngsi-ld/ListRelationship";

    /// The GeoJSON vocabulary the core context maps `Point`, `Polygon`, … into.
    pub const GEOJSON_VOCAB: &str = "https://purl.org/geojson/vocab#";

    /// Core attributes whose values shall be GeoProperties (clause 4.7.1).
    pub const GEO_ATTRIBUTES: [&str; 3] = [LOCATION, OBSERVATION_SPACE, OPERATION_SPACE];
}

/// Formats a system timestamp: RFC 3339, milliseconds, `Z`.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An NGSI-LD entity, names expanded.
#[derive(Debug, Clone, PartialEq, Default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AttrKind {
    #[default]
    Property,
    Relationship,
    GeoProperty,
    LanguageProperty,
    VocabProperty,
    JsonProperty,
    ListProperty,
    ListRelationship,
}

impl AttrKind {
    pub const ALL: [AttrKind; 8] = [
        AttrKind::Property,
        AttrKind::Relationship,
        AttrKind::GeoProperty,
        AttrKind::LanguageProperty,
        AttrKind::VocabProperty,
        AttrKind::JsonProperty,
        AttrKind::ListProperty,
        AttrKind::ListRelationship,
    ];

    /// The type name as rendered (`"Property"`, …).
    pub fn name(self) -> &'static str {
        match self {
            AttrKind::Property => "Property",
            AttrKind::Relationship => "Relationship",
            AttrKind::GeoProperty => "GeoProperty",
            AttrKind::LanguageProperty => "LanguageProperty",
            AttrKind::VocabProperty => "VocabProperty",
            AttrKind::JsonProperty => "JsonProperty",
            AttrKind::ListProperty => "ListProperty",
            AttrKind::ListRelationship => "ListRelationship",
        }
    }

    /// The expanded type IRI.
    pub fn iri(self) -> &'static str {
        match self {
            AttrKind::Property => names::PROPERTY,
            AttrKind::Relationship => names::RELATIONSHIP,
            AttrKind::GeoProperty => names::GEO_PROPERTY,
            AttrKind::LanguageProperty => names::LANGUAGE_PROPERTY,
            AttrKind::VocabProperty => names::VOCAB_PROPERTY,
            AttrKind::JsonProperty => names::JSON_PROPERTY,
            AttrKind::ListProperty => names::LIST_PROPERTY,
            AttrKind::ListRelationship => names::LIST_RELATIONSHIP,
        }
    }

    pub fn from_iri(iri: &str) -> Option<AttrKind> {
        AttrKind::ALL.into_iter().find(|k| k.iri() == iri)
    }

    /// The compact member holding the value (`value`, `object`, `languageMap`, `vocab`, `json`,
    /// `valueList`, `objectList`).
    pub fn value_key(self) -> &'static str {
        match self {
            AttrKind::Property | AttrKind::GeoProperty => "value",
            AttrKind::Relationship => "object",
            AttrKind::LanguageProperty => "languageMap",
            AttrKind::VocabProperty => "vocab",
            AttrKind::JsonProperty => "json",
            AttrKind::ListProperty => "valueList",
            AttrKind::ListRelationship => "objectList",
        }
    }

    /// The expanded member holding the value.
    pub fn value_member(self) -> &'static str {
        match self {
            AttrKind::Property | AttrKind::GeoProperty => names::HAS_VALUE,
            AttrKind::Relationship => names::HAS_OBJECT,
            AttrKind::LanguageProperty => names::HAS_LANGUAGE_MAP,
            AttrKind::VocabProperty => names::HAS_VOCAB,
            AttrKind::JsonProperty => names::HAS_JSON,
            AttrKind::ListProperty => names::HAS_VALUE_LIST,
            AttrKind::ListRelationship => names::HAS_OBJECT_LIST,
        }
    }

    /// Relationships and raw JSON are unitless.
    pub fn allows_unit_code(self) -> bool {
        !matches!(self, AttrKind::Relationship | AttrKind::ListRelationship | AttrKind::JsonProperty)
    }

    /// `objectType` belongs to relationships only.
    pub fn allows_object_type(self) -> bool {
        matches!(self, AttrKind::Relationship | AttrKind::ListRelationship)
    }
}

/// One attribute instance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attribute {
    pub kind: AttrKind,
    /// `value` (Property, GeoProperty: a GeoJSON geometry object, JsonProperty: `json`,
    /// VocabProperty: `vocab`, expanded), `object` (Relationship: a URI or array of URIs),
    /// `languageMap` (LanguageProperty), `valueList` / `objectList` (lists).
    pub value: Value,
    pub dataset_id: Option<String>,
    pub observed_at: Option<DateTime<Utc>>,
    /// `observedAt` exactly as the client wrote it (clause 4.6.4: values are returned as
    /// provided), rendered instead of a formatted `observed_at` when present.
    pub observed_at_text: Option<String>,
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
///
/// The NGSI-LD Null `"urn:ngsi-ld:null"` (clause 5.2.1) is refused in `Entity` and `Fragment`
/// bodies; in `Update` bodies it may stand for a whole attribute value (deleting the instance,
/// clause 5.5.8); in `Merge` bodies also inside compound values (removing the member, clause
/// 5.5.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// Create Entity, Replace Entity, batch create and upsert items.
    Entity,
    /// Append Entity Attributes (and other fragments without deletions).
    Fragment,
    /// Update Entity Attributes, batch update items.
    Update,
    /// Merge Entity, batch merge items.
    Merge,
}

impl Entity {
    /// Parses a request body (normalized or concise; the `@context` member, if any, must
    /// already have been turned into `ctx` by the caller and is ignored here). Every name is
    /// expanded with `ctx`. Errors: `BadRequestData` for anything the specification forbids
    /// (invalid id URI, missing type, bad attribute structure, invalid GeoJSON geometry, a
    /// forbidden attribute name, `null` values…), with `detail` naming the member.
    pub fn parse(body: &Value, ctx: &Context, kind: BodyKind) -> Result<Entity, NgsiError> {
        parse::parse_entity(body, ctx, kind)
    }

    /// Renders the entity as a JSON object with names compacted by `ctx` (no `@context`
    /// member: the caller adds it or a `Link` header).
    pub fn render(&self, ctx: &Context, opts: &RenderOptions) -> Value {
        render::render_entity(self, ctx, opts)
    }

    /// GeoJSON Feature (clause 4.5.16) with `geometry` from `geo_property` (expanded; usually
    /// [`names::LOCATION`]).
    pub fn render_geojson(&self, ctx: &Context, opts: &RenderOptions, geo_property: &str) -> Value {
        render::render_geojson(self, ctx, opts, geo_property)
    }

    /// The stored form: expanded normalized JSON with system attributes. Must round-trip
    /// through [`Entity::from_stored`].
    pub fn to_stored(&self) -> Value {
        stored::entity_to_stored(self)
    }

    pub fn from_stored(stored: &Value) -> Result<Entity, NgsiError> {
        stored::entity_from_stored(stored)
    }

    /// The GeoJSON geometry of a GeoProperty (default instance), if there is one.
    pub fn geometry(&self, geo_property: &str) -> Option<geo::Geometry<f64>> {
        let attr = self.default_instance(geo_property)?;
        if attr.kind != AttrKind::GeoProperty {
            return None;
        }
        crate::geoquery::parse_geometry(&attr.value).ok()
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
    pub fn append(&mut self, fragment: Entity, no_overwrite: bool, now: DateTime<Utc>) -> UpdateResult {
        write::append(self, fragment, no_overwrite, now)
    }

    /// Update Entity Attributes (clause 5.6.2, `PATCH /entities/{id}/attrs`): replaces only
    /// instances that exist; the others are reported as not updated.
    pub fn update(&mut self, fragment: Entity, now: DateTime<Utc>) -> UpdateResult {
        write::update(self, fragment, now)
    }

    /// Merge Entity (clause 5.6.17, `PATCH /entities/{id}`): attributes merged member by
    /// member, `"urn:ngsi-ld:null"` deletes.
    pub fn merge(&mut self, fragment: Entity, now: DateTime<Utc>) -> UpdateResult {
        write::merge(self, fragment, now)
    }

    /// Partial Attribute Update (clause 5.6.4, `PATCH /entities/{id}/attrs/{attrId}`).
    pub fn patch_attribute(&mut self, name: &str, fragment: Attribute, now: DateTime<Utc>) -> Result<(), NgsiError> {
        write::patch_attribute(self, name, fragment, now)
    }

    /// Replace Attribute (clause 5.6.19, `PUT /entities/{id}/attrs/{attrId}`).
    pub fn replace_attribute(&mut self, name: &str, attr: Attribute, now: DateTime<Utc>) -> Result<(), NgsiError> {
        write::replace_attribute(self, name, attr, now)
    }

    /// Replace Entity (clause 5.6.18, `PUT /entities/{id}`): all attributes replaced, id and
    /// `created_at` kept.
    pub fn replace(&mut self, with: Entity, now: DateTime<Utc>) {
        write::replace(self, with, now)
    }

    /// Delete Entity Attribute (clause 5.6.5): the default instance, the one with `dataset_id`,
    /// or all instances with `delete_all`. `ResourceNotFound` if there is no such instance.
    pub fn delete_attribute(
        &mut self,
        name: &str,
        dataset_id: Option<&str>,
        delete_all: bool,
        now: DateTime<Utc>,
    ) -> Result<(), NgsiError> {
        write::delete_attribute(self, name, dataset_id, delete_all, now)
    }
}

impl Attribute {
    /// Parses one attribute (normalized or concise) as given for `name` (expanded), for the
    /// attribute routes. `ctx` expands sub-attribute names and `objectType` / vocab values.
    pub fn parse(name: &str, body: &Value, ctx: &Context) -> Result<Vec<Attribute>, NgsiError> {
        parse::parse_attribute(name, body, ctx, BodyKind::Update, true)
    }

    /// The instance as stored in history: expanded normalized JSON with system attributes.
    pub fn to_stored(&self) -> Value {
        stored::attr_to_stored(self)
    }

    pub fn from_stored(stored: &Value) -> Result<Attribute, NgsiError> {
        stored::attr_from_stored(stored)
    }

    /// One instance as a JSON object (never a bare concise value) under the compacted name
    /// `key`: the temporal representation's element (clause 4.5.7).
    pub fn render_instance(&self, key: &str, ctx: &Context, opts: &RenderOptions) -> Value {
        render::render_instance(self, ctx, opts, false, key)
    }

    /// The value the `q` language compares (`value`, `object`, `languageMap`, `vocab`, `json`).
    pub fn query_value(&self) -> &Value {
        &self.value
    }

    /// Like [`Attribute::parse`], for a body of the given kind: `partial` admits an instance
    /// without its value member (Partial Attribute Update, clause 5.6.4), which comes back with
    /// `value` `Null`.
    pub fn parse_as(
        name: &str,
        body: &Value,
        ctx: &Context,
        kind: BodyKind,
        partial: bool,
    ) -> Result<Vec<Attribute>, NgsiError> {
        parse::parse_attribute(name, body, ctx, kind, partial)
    }

    /// A new instance of `kind` with `value` and nothing else.
    pub fn new(kind: AttrKind, value: Value) -> Attribute {
        Attribute { kind, value, ..Attribute::default() }
    }

    /// Whether this instance is the NGSI-LD Null of an update or merge body: its whole value is
    /// `"urn:ngsi-ld:null"` (`{"@none": "urn:ngsi-ld:null"}` for a LanguageProperty,
    /// `["urn:ngsi-ld:null"]` for lists).
    pub fn is_null_marker(&self) -> bool {
        match &self.value {
            Value::String(s) => s == NGSI_LD_NULL,
            Value::Array(items) => {
                matches!(self.kind, AttrKind::ListProperty | AttrKind::ListRelationship | AttrKind::VocabProperty)
                    && items.len() == 1
                    && items[0] == NGSI_LD_NULL
            }
            Value::Object(map) => {
                self.kind == AttrKind::LanguageProperty
                    && map.len() == 1
                    && map.get("@none") == Some(&Value::from(NGSI_LD_NULL))
            }
            _ => false,
        }
    }

    /// `observedAt` as rendered: the client's text, else the formatted instant.
    pub fn observed_at_string(&self) -> Option<String> {
        self.observed_at_text.clone().or_else(|| self.observed_at.as_ref().map(format_timestamp))
    }
}

impl Entity {
    /// The instance of attribute `name` (expanded) without `datasetId`, if any.
    pub fn default_instance(&self, name: &str) -> Option<&Attribute> {
        self.attrs.get(name)?.iter().find(|a| a.dataset_id.is_none())
    }

    /// The instance of attribute `name` with `dataset_id` (`None`: the default instance).
    pub fn instance(&self, name: &str, dataset_id: Option<&str>) -> Option<&Attribute> {
        self.attrs.get(name)?.iter().find(|a| a.dataset_id.as_deref() == dataset_id)
    }

    /// Whether the entity has `type_iri` (expanded) among its types.
    pub fn has_type(&self, type_iri: &str) -> bool {
        self.types.iter().any(|t| t == type_iri)
    }
}
