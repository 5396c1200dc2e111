//! Request bodies to [`Entity`] / [`Attribute`]: normalized and concise representations
//! (clauses 4.5.2 to 4.5.24), names (4.6.2), value spaces (4.6.3 to 4.6.5, 4.7, 4.18) and the
//! NGSI-LD Null rules (5.2.1, 5.5.4, 5.5.8, 5.5.12).

use serde_json::{Map, Value};

use super::validate::{
    is_absolute_uri, is_language_key, is_valid_name, is_valid_scope, looks_like_geometry, parse_date_time,
    validate_geojson_geometry,
};
use super::{AttrKind, Attribute, BodyKind, Entity, NGSI_LD_NULL, names};
use crate::context::Context;
use crate::error::NgsiError;

/// Sub-attributes nest at most this deep.
const MAX_NESTING: usize = 16;

fn bad(detail: impl Into<String>) -> NgsiError {
    NgsiError::bad_data(detail)
}

/// What a member of an attribute object is.
#[derive(Debug, Clone, PartialEq)]
enum Member {
    Type,
    /// The value member of this kind.
    ValueOf(AttrKind),
    DatasetId,
    ObservedAt,
    UnitCode,
    ObjectType,
    /// System-generated members a client may send back: ignored.
    Ignored,
    /// Output-only or misplaced members: refused.
    Forbidden(&'static str),
    /// A sub-attribute, expanded.
    Sub(String),
}

fn classify(key: &str, ctx: &Context) -> Member {
    // Core terms are protected: their compact forms cannot be redefined.
    let expanded = match key {
        "type" | "@type" => return Member::Type,
        "value" => return Member::ValueOf(AttrKind::Property),
        "object" => return Member::ValueOf(AttrKind::Relationship),
        "languageMap" => return Member::ValueOf(AttrKind::LanguageProperty),
        "vocab" => return Member::ValueOf(AttrKind::VocabProperty),
        "json" => return Member::ValueOf(AttrKind::JsonProperty),
        "valueList" => return Member::ValueOf(AttrKind::ListProperty),
        "objectList" => return Member::ValueOf(AttrKind::ListRelationship),
        "datasetId" => return Member::DatasetId,
        "observedAt" => return Member::ObservedAt,
        "unitCode" => return Member::UnitCode,
        "objectType" => return Member::ObjectType,
        "createdAt" | "modifiedAt" | "deletedAt" | "instanceId" | "lang" => return Member::Ignored,
        "@context" => return Member::Forbidden("an attribute shall not contain an embedded @context (clause 5.5.7)"),
        _ => ctx.expand(key),
    };
    match expanded.as_str() {
        "@type" => Member::Type,
        names::HAS_VALUE => Member::ValueOf(AttrKind::Property),
        names::HAS_OBJECT => Member::ValueOf(AttrKind::Relationship),
        names::HAS_LANGUAGE_MAP => Member::ValueOf(AttrKind::LanguageProperty),
        names::HAS_VOCAB => Member::ValueOf(AttrKind::VocabProperty),
        names::HAS_JSON => Member::ValueOf(AttrKind::JsonProperty),
        names::HAS_VALUE_LIST => Member::ValueOf(AttrKind::ListProperty),
        names::HAS_OBJECT_LIST => Member::ValueOf(AttrKind::ListRelationship),
        names::DATASET_ID => Member::DatasetId,
        names::OBSERVED_AT => Member::ObservedAt,
        names::UNIT_CODE => Member::UnitCode,
        names::OBJECT_TYPE => Member::ObjectType,
        names::CREATED_AT | names::MODIFIED_AT | names::DELETED_AT | names::INSTANCE_ID | names::LANG => {
            Member::Ignored
        }
        e if e.starts_with("https://uri.etsi.org/ngsi-ld/hasPrevious") => {
            Member::Forbidden("previous values are output only (showChanges)")
        }
        e if e.starts_with('@') => Member::Forbidden("JSON-LD keywords are not attribute members"),
        _ => Member::Sub(expanded),
    }
}

/// Core terms that are not attributes (non-reified members) and so cannot name one (clause
/// 4.5.1).
fn reserved_attribute_name(expanded: &str) -> bool {
    matches!(
        expanded,
        names::DATASET_ID
            | names::INSTANCE_ID
            | names::OBSERVED_AT
            | names::UNIT_CODE
            | names::OBJECT_TYPE
            | names::LANG
            | names::HAS_VALUE
            | names::HAS_OBJECT
            | names::HAS_LANGUAGE_MAP
            | names::HAS_VOCAB
            | names::HAS_JSON
            | names::HAS_VALUE_LIST
            | names::HAS_OBJECT_LIST
    ) || expanded.starts_with("https://uri.etsi.org/ngsi-ld/hasPrevious")
}

struct Parser<'a> {
    ctx: &'a Context,
    kind: BodyKind,
    /// An instance may leave out its value member (Partial Attribute Update).
    partial: bool,
}

impl Parser<'_> {
    fn null_allowed_top(&self) -> bool {
        matches!(self.kind, BodyKind::Update | BodyKind::Merge)
    }

    fn null_allowed_nested(&self) -> bool {
        self.kind == BodyKind::Merge
    }

    /// No JSON `null` anywhere in `v`; the NGSI-LD Null only where the body kind allows it.
    fn check_value(&self, v: &Value, at: &str, top: bool) -> Result<(), NgsiError> {
        match v {
            Value::Null => Err(bad(format!("{at}: null is not a valid NGSI-LD value"))),
            Value::String(s) if s == NGSI_LD_NULL => {
                let allowed = if top { self.null_allowed_top() } else { self.null_allowed_nested() };
                if allowed {
                    Ok(())
                } else {
                    Err(bad(format!(
                        "{at}: the NGSI-LD Null (urn:ngsi-ld:null) may only be used to delete in a partial update or merge (clause 5.2.1)"
                    )))
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_value(item, &format!("{at}[{i}]"), false)?;
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, item) in map {
                    self.check_value(item, &format!("{at}.{k}"), false)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn is_null_string(&self, v: &Value) -> bool {
        v.as_str() == Some(NGSI_LD_NULL) && self.null_allowed_top()
    }

    fn uri(&self, v: &Value, at: &str) -> Result<String, NgsiError> {
        match v {
            Value::String(s) if s == NGSI_LD_NULL => {
                if self.null_allowed_top() {
                    Ok(s.clone())
                } else {
                    Err(bad(format!("{at}: the NGSI-LD Null is not a valid URI here (clause 5.2.1)")))
                }
            }
            Value::String(s) if is_absolute_uri(s) => Ok(s.clone()),
            Value::String(s) => Err(bad(format!("{at}: '{s}' is not a URI"))),
            _ => Err(bad(format!("{at}: a URI string is needed"))),
        }
    }

    fn type_names(&self, v: &Value, at: &str) -> Result<Vec<String>, NgsiError> {
        let items: Vec<&Value> = match v {
            Value::Array(items) if !items.is_empty() => items.iter().collect(),
            Value::Array(_) => return Err(bad(format!("{at}: at least one type is needed"))),
            other => vec![other],
        };
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            let Some(name) = item.as_str() else {
                return Err(bad(format!("{at}: a type is a string")));
            };
            if !is_valid_name(name) {
                return Err(bad(format!("{at}: '{name}' is not a valid type name (clause 4.6.2)")));
            }
            let expanded = self.ctx.expand(name);
            if !out.contains(&expanded) {
                out.push(expanded);
            }
        }
        Ok(out)
    }

    /// An attribute member of an entity (or a sub-attribute member of an attribute): one
    /// instance or an array of instances.
    fn attribute(&self, name: &str, key: &str, v: &Value, depth: usize) -> Result<Vec<Attribute>, NgsiError> {
        if depth > MAX_NESTING {
            return Err(bad(format!("'{key}': sub-attributes nested deeper than {MAX_NESTING} levels")));
        }
        let instances: Vec<Attribute> = match v {
            Value::Array(items) if is_instance_array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.instance(name, &format!("{key}[{i}]"), item, depth))
                .collect::<Result<_, _>>()?,
            _ => vec![self.instance(name, key, v, depth)?],
        };
        let mut seen: Vec<Option<&str>> = Vec::with_capacity(instances.len());
        for inst in &instances {
            let id = inst.dataset_id.as_deref();
            if seen.contains(&id) {
                return Err(bad(match id {
                    None => format!("'{key}': more than one default instance (without datasetId) (clause 4.5.5)"),
                    Some(id) => format!("'{key}': two instances with the same datasetId {id} (clause 4.5.5)"),
                }));
            }
            seen.push(id);
        }
        Ok(instances)
    }

    fn instance(&self, name: &str, key: &str, v: &Value, depth: usize) -> Result<Attribute, NgsiError> {
        let geo_core = names::GEO_ATTRIBUTES.contains(&name);
        let obj = match v {
            Value::Object(obj) => obj,
            Value::Null => return Err(bad(format!("'{key}': null is not a valid attribute value"))),
            other => {
                // Concise: a bare value is a Property (clause 4.5.2.3).
                self.check_value(other, &format!("'{key}'"), true)?;
                if geo_core && !self.is_null_string(other) {
                    return Err(bad(format!("'{key}' shall be a GeoProperty (clause 4.7.1)")));
                }
                return Ok(Attribute::new(AttrKind::Property, other.clone()));
            }
        };
        let mut declared: Option<AttrKind> = None;
        let mut members: Vec<(&String, Member, &Value)> = Vec::with_capacity(obj.len());
        for (k, mv) in obj {
            let member = classify(k, self.ctx);
            if member == Member::Type {
                let Some(t) = mv.as_str() else {
                    return Err(bad(format!("'{key}': type is not a string")));
                };
                let expanded = self.ctx.expand(t);
                if expanded.starts_with(names::GEOJSON_VOCAB) && looks_like_geometry(v) {
                    // Concise GeoProperty: the value is the geometry itself (clause 4.5.2.3).
                    return self.geo_value_only(key, v);
                }
                match AttrKind::from_iri(&expanded) {
                    Some(kind) => declared = Some(kind),
                    None => {
                        return Err(bad(format!(
                            "'{key}': '{t}' is not an NGSI-LD attribute type (Property, Relationship, GeoProperty, LanguageProperty, VocabProperty, JsonProperty, ListProperty or ListRelationship)"
                        )));
                    }
                }
                continue;
            }
            members.push((k, member, mv));
        }
        let value_members: Vec<AttrKind> =
            members.iter().filter_map(|(_, m, _)| if let Member::ValueOf(k) = m { Some(*k) } else { None }).collect();
        let kind = match declared {
            Some(kind) => kind,
            None => match value_members.as_slice() {
                [] => {
                    let has_metadata = members.iter().any(|(_, m, _)| {
                        matches!(m, Member::DatasetId | Member::ObservedAt | Member::UnitCode | Member::ObjectType)
                    });
                    if has_metadata {
                        if self.partial {
                            AttrKind::Property
                        } else {
                            return Err(bad(format!(
                                "'{key}': the attribute has no type and none of value, object, languageMap, vocab, json, valueList, objectList"
                            )));
                        }
                    } else {
                        // Concise: a JSON object is the Property value itself.
                        if looks_like_geometry(v) {
                            return self.geo_value_only(key, v);
                        }
                        self.check_value(v, &format!("'{key}'"), true)?;
                        if geo_core {
                            return Err(bad(format!("'{key}' shall be a GeoProperty (clause 4.7.1)")));
                        }
                        return Ok(Attribute::new(AttrKind::Property, v.clone()));
                    }
                }
                [AttrKind::Property] => {
                    let value = members.iter().find(|(_, m, _)| *m == Member::ValueOf(AttrKind::Property)).map(|m| m.2);
                    if value.is_some_and(|v| looks_like_geometry(v) || (geo_core && v.is_string())) {
                        AttrKind::GeoProperty
                    } else {
                        AttrKind::Property
                    }
                }
                [one] => *one,
                _ => {
                    return Err(bad(format!(
                        "'{key}': several value members ({}) and no type",
                        value_members.iter().map(|k| k.value_key()).collect::<Vec<_>>().join(", ")
                    )));
                }
            },
        };
        if geo_core && kind != AttrKind::GeoProperty {
            return Err(bad(format!("'{key}' shall be a GeoProperty (clause 4.7.1), not a {}", kind.name())));
        }
        let mut attr = Attribute { kind, value: Value::Null, ..Attribute::default() };
        let own = match kind {
            AttrKind::GeoProperty => AttrKind::Property,
            k => k,
        };
        let mut has_value = false;
        for (k, member, mv) in members {
            let at = format!("'{key}'.{k}");
            match member {
                Member::Type => {}
                Member::ValueOf(m) if m == own => {
                    attr.value = self.kind_value(kind, mv, &at)?;
                    has_value = true;
                }
                Member::ValueOf(m) => {
                    return Err(bad(format!("{at}: a {} shall not have a {} member", kind.name(), m.value_key())));
                }
                Member::DatasetId => {
                    attr.dataset_id = match mv {
                        Value::String(s) if s == "@none" => None,
                        Value::String(s) if s == NGSI_LD_NULL => {
                            return Err(bad(format!("{at}: a datasetId cannot be deleted with urn:ngsi-ld:null")));
                        }
                        Value::String(s) if is_absolute_uri(s) => Some(s.clone()),
                        _ => return Err(bad(format!("{at}: a datasetId is a URI"))),
                    };
                }
                Member::ObservedAt => {
                    let Some(text) = mv.as_str() else {
                        return Err(bad(format!("{at}: observedAt is a DateTime string")));
                    };
                    let Some(t) = parse_date_time(text) else {
                        return Err(bad(format!(
                            "{at}: '{text}' is not a UTC DateTime (YYYY-MM-DDThh:mm:ss[.sss]Z, clause 4.6.3)"
                        )));
                    };
                    attr.observed_at = Some(t);
                    attr.observed_at_text = Some(text.to_string());
                }
                Member::UnitCode => {
                    if !kind.allows_unit_code() {
                        return Err(bad(format!("{at}: a {} has no unitCode", kind.name())));
                    }
                    match mv {
                        Value::String(s) if !s.is_empty() => attr.unit_code = Some(s.clone()),
                        _ => return Err(bad(format!("{at}: unitCode is a non-empty string"))),
                    }
                }
                Member::ObjectType => {
                    if !kind.allows_object_type() {
                        return Err(bad(format!(
                            "{at}: objectType belongs to relationships, not to a {}",
                            kind.name()
                        )));
                    }
                    attr.object_type = Some(self.type_names(mv, &at)?);
                }
                Member::Ignored => {}
                Member::Forbidden(why) => return Err(bad(format!("{at}: {why}"))),
                Member::Sub(sub_name) => {
                    if !is_valid_name(k) {
                        return Err(bad(format!("{at}: '{k}' is not a valid attribute name (clause 4.6.2)")));
                    }
                    if reserved_attribute_name(&sub_name) {
                        return Err(bad(format!("{at}: '{k}' is a core term, not an attribute name (clause 4.5.1)")));
                    }
                    if k == "entityIdSealed" || k == "entityTypeSealed" {
                        if !is_proof(key) {
                            return Err(bad(format!("{at}: {k} is only allowed in ngsildproof")));
                        }
                        let Some(sealed) = mv.as_str().filter(|s| !s.is_empty()) else {
                            return Err(bad(format!("{at}: {k} is a string")));
                        };
                        let sealed = if k == "entityTypeSealed" { self.ctx.expand(sealed) } else { sealed.to_string() };
                        attr.sub_attrs
                            .insert(sub_name, vec![Attribute::new(AttrKind::Property, Value::String(sealed))]);
                        continue;
                    }
                    if k == "valueType"
                        && kind == AttrKind::LanguageProperty
                        && !matches!(
                            mv.as_str(),
                            Some("langString" | "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString")
                        )
                    {
                        return Err(bad(format!("{at}: the valueType of a LanguageProperty is langString")));
                    }
                    let subs = self.attribute(&sub_name, k, mv, depth + 1)?;
                    let slot = attr.sub_attrs.entry(sub_name).or_default();
                    for sub in subs {
                        if slot.iter().any(|s| s.dataset_id == sub.dataset_id) {
                            return Err(bad(format!("{at}: the sub-attribute is given twice")));
                        }
                        slot.push(sub);
                    }
                }
            }
        }
        if is_proof(key) && has_value && (kind != AttrKind::Property || !attr.value.is_object()) {
            return Err(bad(format!(
                "'{key}': the value of ngsildproof is an object holding a W3C Data Integrity proof"
            )));
        }
        if !has_value && !self.partial {
            return Err(bad(format!(
                "'{key}': a {} shall have a {} member (clause 4.5)",
                kind.name(),
                kind.value_key()
            )));
        }
        Ok(attr)
    }

    /// A GeoProperty given as the bare geometry (concise).
    fn geo_value_only(&self, key: &str, v: &Value) -> Result<Attribute, NgsiError> {
        let value = self.kind_value(AttrKind::GeoProperty, v, &format!("'{key}'"))?;
        Ok(Attribute::new(AttrKind::GeoProperty, value))
    }

    /// The value member of an instance of `kind`, checked and normalised.
    fn kind_value(&self, kind: AttrKind, v: &Value, at: &str) -> Result<Value, NgsiError> {
        match kind {
            AttrKind::Property => {
                self.check_value(v, at, true)?;
                Ok(v.clone())
            }
            AttrKind::GeoProperty => {
                if self.is_null_string(v) {
                    return Ok(v.clone());
                }
                let geometry = match v {
                    // Clause 4.7.2: a geometry may be sent encoded as a JSON string.
                    Value::String(s) => serde_json::from_str::<Value>(s).map_err(|_| {
                        bad(format!("{at}: the string is not an encoded GeoJSON geometry (clause 4.7.2)"))
                    })?,
                    other => other.clone(),
                };
                validate_geojson_geometry(&geometry).map_err(|e| bad(format!("{at}: {e}")))?;
                Ok(geometry)
            }
            AttrKind::Relationship => match v {
                Value::Array(items) if !items.is_empty() => Ok(Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.uri(item, &format!("{at}[{i}]")).map(Value::String))
                        .collect::<Result<_, _>>()?,
                )),
                Value::Array(_) => Err(bad(format!("{at}: the object of a Relationship is a URI"))),
                other => Ok(Value::String(self.uri(other, at)?)),
            },
            AttrKind::LanguageProperty => {
                if self.is_null_string(v) {
                    return Ok(v.clone());
                }
                let Some(map) = v.as_object() else {
                    return Err(bad(format!("{at}: a languageMap is a JSON object")));
                };
                if map.is_empty() {
                    return Err(bad(format!("{at}: the languageMap is empty")));
                }
                for (lang, text) in map {
                    if !is_language_key(lang) {
                        return Err(bad(format!("{at}: '{lang}' is not a language tag")));
                    }
                    let ok = match text {
                        Value::String(_) => true,
                        Value::Array(items) => items.iter().all(Value::is_string),
                        _ => false,
                    };
                    if !ok {
                        return Err(bad(format!(
                            "{at}.{lang}: languageMap values are strings or arrays of strings (clause 4.6.5)"
                        )));
                    }
                    self.check_value(text, &format!("{at}.{lang}"), false)?;
                }
                if map.len() == 1
                    && map.get("@none").and_then(Value::as_str) == Some(NGSI_LD_NULL)
                    && !self.null_allowed_top()
                {
                    return Err(bad(format!("{at}: the NGSI-LD Null is only used to delete (clause 4.6.5)")));
                }
                Ok(v.clone())
            }
            AttrKind::VocabProperty => {
                let expand = |s: &String, at: &str| -> Result<Value, NgsiError> {
                    if s == NGSI_LD_NULL {
                        if self.null_allowed_top() {
                            return Ok(Value::String(s.clone()));
                        }
                        return Err(bad(format!("{at}: the NGSI-LD Null is only used to delete (clause 5.2.1)")));
                    }
                    if s.is_empty() || s.chars().any(char::is_whitespace) {
                        return Err(bad(format!("{at}: '{s}' is not a vocabulary term")));
                    }
                    Ok(Value::String(self.ctx.expand(s)))
                };
                match v {
                    Value::String(s) => expand(s, at),
                    Value::Array(items) if !items.is_empty() => Ok(Value::Array(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| match item {
                                Value::String(s) => expand(s, &format!("{at}[{i}]")),
                                _ => Err(bad(format!("{at}[{i}]: a vocab is a string"))),
                            })
                            .collect::<Result<_, _>>()?,
                    )),
                    _ => Err(bad(format!("{at}: a vocab is a string or an array of strings"))),
                }
            }
            AttrKind::JsonProperty => match v {
                Value::Object(_) => Ok(v.clone()),
                Value::Array(items) if items.iter().all(Value::is_object) => Ok(v.clone()),
                Value::String(s) if s == NGSI_LD_NULL && self.null_allowed_top() => Ok(v.clone()),
                _ => Err(bad(format!("{at}: json is a JSON object or an array of objects (clause 4.5.24)"))),
            },
            AttrKind::ListProperty => match v {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let top = items.len() == 1;
                        self.check_value(item, &format!("{at}[{i}]"), top)?;
                    }
                    Ok(v.clone())
                }
                _ => Err(bad(format!("{at}: a valueList is an array"))),
            },
            AttrKind::ListRelationship => match v {
                Value::Array(items) => Ok(Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let at = format!("{at}[{i}]");
                            match item {
                                Value::Object(o) => match o.get("object") {
                                    Some(obj) if o.len() == 1 => self.uri(obj, &at).map(Value::String),
                                    _ => Err(bad(format!("{at}: an objectList entry is a URI or {{\"object\": URI}}"))),
                                },
                                other => self.uri(other, &at).map(Value::String),
                            }
                        })
                        .collect::<Result<_, _>>()?,
                )),
                _ => Err(bad(format!("{at}: an objectList is an array"))),
            },
        }
    }
}

/// `ngsildproof` (a Property holding a W3C Data Integrity proof, with the non-reified members
/// `entityIdSealed` and `entityTypeSealed`).
pub(super) fn is_proof(key: &str) -> bool {
    key == "ngsildproof" || key.ends_with("/ngsildproof")
}

/// Whether `key` says an object is an attribute (instance): its kind, a value member or a
/// `datasetId`.
pub(super) fn is_attribute_member(key: &str) -> bool {
    matches!(
        key,
        "type"
            | "@type"
            | "value"
            | "object"
            | "languageMap"
            | "vocab"
            | "json"
            | "valueList"
            | "objectList"
            | "datasetId"
    )
}

/// An array is a set of attribute instances when it is not empty and every member is an
/// object with at least one attribute member; otherwise it is a (concise) Property value.
fn is_instance_array(items: &[Value]) -> bool {
    !items.is_empty()
        && items.iter().all(|item| item.as_object().is_some_and(|o| o.keys().any(|k| is_attribute_member(k))))
}

pub(super) fn parse_entity(body: &Value, ctx: &Context, kind: BodyKind) -> Result<Entity, NgsiError> {
    let Value::Object(obj) = body else {
        return Err(bad("the entity is not a JSON object"));
    };
    let parser = Parser { ctx, kind, partial: false };
    let mut entity = Entity::default();
    let mut id: Option<String> = None;
    let mut types: Option<Vec<String>> = None;
    for (key, v) in obj {
        if key == "@context" {
            continue;
        }
        let expanded = match key.as_str() {
            "id" | "@id" => "@id".to_string(),
            "type" | "@type" => "@type".to_string(),
            "scope" => names::SCOPE.to_string(),
            _ => ctx.expand(key),
        };
        match expanded.as_str() {
            "@id" => {
                let Some(s) = v.as_str() else { return Err(bad("id: the entity id is a URI string")) };
                if s == NGSI_LD_NULL {
                    return Err(bad("id: urn:ngsi-ld:null is not an entity id"));
                }
                if !is_absolute_uri(s) {
                    return Err(bad(format!("id: '{}' is not a URI (clause 4.5.1)", s.escape_debug())));
                }
                if id.replace(s.to_string()).is_some() {
                    return Err(bad("id: given twice"));
                }
            }
            "@type" => {
                let t = parser.type_names(v, "type")?;
                if types.replace(t).is_some() {
                    return Err(bad("type: given twice"));
                }
            }
            names::SCOPE => entity.scope = parse_scope(v, &parser)?,
            names::CREATED_AT | names::MODIFIED_AT | names::DELETED_AT => {}
            e if e.starts_with('@') => {
                return Err(bad(format!("'{key}': the JSON-LD keyword {e} is not an entity member")));
            }
            e => {
                if !is_valid_name(key) {
                    return Err(bad(format!("'{}' is not a valid attribute name (clause 4.6.2)", key.escape_debug())));
                }
                if reserved_attribute_name(e) {
                    return Err(bad(format!(
                        "'{key}' is a core term and cannot be used as an attribute name (clause 4.5.1)"
                    )));
                }
                let instances = parser.attribute(e, key, v, 0)?;
                let slot = entity.attrs.entry(expanded).or_default();
                for inst in instances {
                    if slot.iter().any(|s| s.dataset_id == inst.dataset_id) {
                        return Err(bad(format!("'{key}': the attribute instance is given twice")));
                    }
                    slot.push(inst);
                }
            }
        }
    }
    match (id, kind) {
        (Some(id), _) => entity.id = id,
        (None, BodyKind::Entity) => return Err(bad("the entity has no id")),
        (None, _) => {}
    }
    match (types, kind) {
        (Some(t), _) => entity.types = t,
        (None, BodyKind::Entity) => return Err(bad("the entity has no type")),
        (None, _) => {}
    }
    Ok(entity)
}

fn parse_scope(v: &Value, parser: &Parser) -> Result<Vec<String>, NgsiError> {
    let items: Vec<&Value> = match v {
        Value::Array(items) if !items.is_empty() => items.iter().collect(),
        Value::Array(_) => return Err(bad("scope: the array is empty")),
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(s) if s == NGSI_LD_NULL && parser.null_allowed_top() => out.push(s.clone()),
            Value::String(s) if is_valid_scope(s) => {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
            Value::String(s) => return Err(bad(format!("scope: '{s}' is not a valid scope (clause 4.18)"))),
            _ => return Err(bad("scope: a scope is a string")),
        }
    }
    Ok(out)
}

pub(super) fn parse_attribute(
    name: &str,
    body: &Value,
    ctx: &Context,
    kind: BodyKind,
    partial: bool,
) -> Result<Vec<Attribute>, NgsiError> {
    if reserved_attribute_name(name) || name.starts_with('@') {
        return Err(bad(format!("'{name}' is a core term and cannot be used as an attribute name (clause 4.5.1)")));
    }
    if name == names::SCOPE {
        return Err(bad("scope is not an attribute"));
    }
    let key = ctx.compact(name);
    if matches!(body, Value::Object(obj) if obj.keys().all(|k| k == "@context")) {
        return Err(bad(format!("'{key}': the attribute fragment is empty")));
    }
    let parser = Parser { ctx, kind, partial };
    let stripped;
    let body = match body {
        Value::Object(obj) if obj.contains_key("@context") => {
            let mut copy: Map<String, Value> = obj.clone();
            copy.remove("@context");
            stripped = Value::Object(copy);
            &stripped
        }
        other => other,
    };
    parser.attribute(name, &key, body, 0)
}
