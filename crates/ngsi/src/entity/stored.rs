//! The stored form (see the module documentation of [`super`]): expanded names, system
//! timestamps as RFC 3339 strings with milliseconds and `Z`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::validate::parse_date_time;
use super::{AttrKind, Attribute, Entity, format_timestamp, names};
use crate::error::{ErrorKind, NgsiError};

fn corrupt(detail: impl Into<String>) -> NgsiError {
    NgsiError::new(ErrorKind::InternalError, format!("stored entity is corrupt: {}", detail.into()))
}

fn timestamp(v: Option<&Value>, what: &str) -> Result<Option<DateTime<Utc>>, NgsiError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| corrupt(format!("{what} '{s}'"))),
        Some(_) => Err(corrupt(format!("{what} is not a string"))),
    }
}

fn attrs_to_stored(attrs: &BTreeMap<String, Vec<Attribute>>, out: &mut Map<String, Value>) {
    for (name, instances) in attrs {
        out.insert(name.clone(), Value::Array(instances.iter().map(attr_to_stored).collect()));
    }
}

pub(super) fn entity_to_stored(e: &Entity) -> Value {
    let mut out = Map::new();
    out.insert("@id".into(), Value::String(e.id.clone()));
    out.insert("@type".into(), Value::Array(e.types.iter().cloned().map(Value::String).collect()));
    if !e.scope.is_empty() {
        out.insert(names::SCOPE.into(), Value::Array(e.scope.iter().cloned().map(Value::String).collect()));
    }
    if let Some(t) = &e.created_at {
        out.insert(names::CREATED_AT.into(), Value::String(format_timestamp(t)));
    }
    if let Some(t) = &e.modified_at {
        out.insert(names::MODIFIED_AT.into(), Value::String(format_timestamp(t)));
    }
    attrs_to_stored(&e.attrs, &mut out);
    Value::Object(out)
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, NgsiError> {
    v.as_array()
        .ok_or_else(|| corrupt(format!("{what} is not an array")))?
        .iter()
        .map(|s| s.as_str().map(str::to_string).ok_or_else(|| corrupt(format!("{what} holds a non-string"))))
        .collect()
}

fn attrs_from_stored(name: &str, v: &Value) -> Result<Vec<Attribute>, NgsiError> {
    v.as_array()
        .ok_or_else(|| corrupt(format!("attribute {name} is not an array of instances")))?
        .iter()
        .map(attr_from_stored)
        .collect()
}

pub(super) fn entity_from_stored(stored: &Value) -> Result<Entity, NgsiError> {
    let obj = stored.as_object().ok_or_else(|| corrupt("not an object"))?;
    let mut e = Entity::default();
    for (k, v) in obj {
        match k.as_str() {
            "@id" => e.id = v.as_str().ok_or_else(|| corrupt("@id is not a string"))?.to_string(),
            "@type" => e.types = strings(v, "@type")?,
            names::SCOPE => e.scope = strings(v, "scope")?,
            names::CREATED_AT => e.created_at = timestamp(Some(v), "createdAt")?,
            names::MODIFIED_AT => e.modified_at = timestamp(Some(v), "modifiedAt")?,
            _ => {
                e.attrs.insert(k.clone(), attrs_from_stored(k, v)?);
            }
        }
    }
    if e.id.is_empty() {
        return Err(corrupt("no @id"));
    }
    Ok(e)
}

pub(super) fn attr_to_stored(a: &Attribute) -> Value {
    let mut out = Map::new();
    out.insert("@type".into(), Value::String(a.kind.iri().to_string()));
    out.insert(a.kind.value_member().into(), a.value.clone());
    if let Some(ds) = &a.dataset_id {
        out.insert(names::DATASET_ID.into(), Value::String(ds.clone()));
    }
    if let Some(t) = a.observed_at_string() {
        out.insert(names::OBSERVED_AT.into(), Value::String(t));
    }
    if let Some(u) = &a.unit_code {
        out.insert(names::UNIT_CODE.into(), Value::String(u.clone()));
    }
    if let Some(types) = &a.object_type {
        out.insert(names::OBJECT_TYPE.into(), Value::Array(types.iter().cloned().map(Value::String).collect()));
    }
    if let Some(t) = &a.created_at {
        out.insert(names::CREATED_AT.into(), Value::String(format_timestamp(t)));
    }
    if let Some(t) = &a.modified_at {
        out.insert(names::MODIFIED_AT.into(), Value::String(format_timestamp(t)));
    }
    attrs_to_stored(&a.sub_attrs, &mut out);
    Value::Object(out)
}

pub(super) fn attr_from_stored(stored: &Value) -> Result<Attribute, NgsiError> {
    let obj = stored.as_object().ok_or_else(|| corrupt("an attribute instance is not an object"))?;
    let kind_iri = obj.get("@type").and_then(Value::as_str).ok_or_else(|| corrupt("an instance has no @type"))?;
    let kind = AttrKind::from_iri(kind_iri).ok_or_else(|| corrupt(format!("unknown attribute type {kind_iri}")))?;
    let mut a = Attribute { kind, ..Attribute::default() };
    let member = kind.value_member();
    for (k, v) in obj {
        match k.as_str() {
            "@type" => {}
            k if k == member => a.value = v.clone(),
            names::DATASET_ID => a.dataset_id = Some(v.as_str().ok_or_else(|| corrupt("datasetId"))?.to_string()),
            names::OBSERVED_AT => {
                let text = v.as_str().ok_or_else(|| corrupt("observedAt is not a string"))?;
                a.observed_at = Some(parse_date_time(text).ok_or_else(|| corrupt(format!("observedAt '{text}'")))?);
                a.observed_at_text = Some(text.to_string());
            }
            names::UNIT_CODE => a.unit_code = Some(v.as_str().ok_or_else(|| corrupt("unitCode"))?.to_string()),
            names::OBJECT_TYPE => a.object_type = Some(strings(v, "objectType")?),
            names::CREATED_AT => a.created_at = timestamp(Some(v), "createdAt")?,
            names::MODIFIED_AT => a.modified_at = timestamp(Some(v), "modifiedAt")?,
            _ => {
                a.sub_attrs.insert(k.clone(), attrs_from_stored(k, v)?);
            }
        }
    }
    Ok(a)
}
