//! Records from files and pulls: how a row of an uploaded CSV/XLSX file, or an item of a JSON
//! document fetched from another system, becomes an entity — configured, not coded.
//!
//! ```json
//! {"entityType": "WeatherObserved", "id": "urn:ngsi-ld:WeatherObserved:{code}",
//!  "lon": "lng", "lat": "lat", "observedAt": "/obs/time",
//!  "attributes": {"temperature": {"from": "/obs/temp", "unitCode": "CEL"},
//!                 "name": {"from": "station", "kind": "text"}}}
//! ```
//!
//! A field is a column name (files) or a member name (JSON); in JSON, a field starting with
//! `/` is a JSON pointer into the item. `{field}` in the id template takes the field's value.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use haidang_ngsi::entity::validate::{is_absolute_uri, is_valid_name};
use haidang_ngsi::{AttrKind, Attribute, Context, Entity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::measure::parse_time;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecordMapping {
    /// Entity type (core-context term or IRI).
    pub entity_type: String,
    /// Entity id template, e.g. `urn:ngsi-ld:WeatherObserved:{code}`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<String>,
    /// The field with the observation time; absent: the time of the import or pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
    /// Attribute name → where its value comes from.
    pub attributes: BTreeMap<String, Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Source {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<String>,
    #[serde(default)]
    pub kind: ValueKind,
}

/// How a field's value is read: text cells of files hold numbers as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// A number when it reads as one, `true`/`false` as booleans, otherwise text.
    #[default]
    Auto,
    Number,
    Text,
    Boolean,
}

/// Attributes one mapping may fill at most.
pub const MAX_ATTRIBUTES: usize = 200;

impl RecordMapping {
    /// Checks the mapping; errors name the member and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |f: &str, r: &str| Err((f.to_owned(), r.to_owned()));
        if !is_valid_name(&self.entity_type) {
            return err("entityType", "is not a type name");
        }
        // Every {field} stands for some text: check the rest is a URI.
        let probe: String = self.id.split('{').enumerate().map(|(i, part)| if i == 0 { part } else { part.split_once('}').map_or("", |(_, rest)| rest) }).collect::<Vec<_>>().join("x");
        if !self.id.contains('{') || !is_absolute_uri(&probe) || self.id.len() > 256 {
            return err("id", "must be a URI template with a {field}, e.g. urn:ngsi-ld:WeatherObserved:{code}");
        }
        if self.lon.is_some() != self.lat.is_some() {
            return err("lat", "lon and lat go together");
        }
        if self.attributes.is_empty() || self.attributes.len() > MAX_ATTRIBUTES {
            return err("attributes", "name 1 to 200 attributes");
        }
        for (name, source) in &self.attributes {
            if !is_valid_name(name) || name == "id" || name == "type" || name == "location" {
                return Err((format!("attributes.{name}"), "is not an attribute name one may set".into()));
            }
            if source.from.is_empty() {
                return Err((format!("attributes.{name}.from"), "names no field".into()));
            }
        }
        Ok(())
    }

    /// The entity `record` describes; names expanded with `ctx`. Errors say which field.
    pub fn entity(&self, record: &Value, received: DateTime<Utc>, ctx: &Context) -> Result<Entity, String> {
        let id = fill_template(&self.id, record)?;
        if !is_absolute_uri(&id) {
            return Err(format!("the id {id:?} is not a URI"));
        }
        let observed = match &self.observed_at {
            Some(f) => match field(record, f) {
                Some(v) if !is_blank(v) => parse_time(&number_or_text(v)).map_err(|e| format!("{f}: {e}"))?,
                _ => received,
            },
            None => received,
        };
        let mut entity = Entity { id, types: vec![ctx.expand(&self.entity_type)], ..Entity::default() };
        if let (Some(lon), Some(lat)) = (&self.lon, &self.lat) {
            let coord = |f: &str, range: f64| {
                field(record, f)
                    .and_then(|v| number_or_text(v).as_f64())
                    .filter(|x| x.abs() <= range)
                    .ok_or_else(|| format!("{f}: not a coordinate"))
            };
            let (x, y) = (coord(lon, 180.0)?, coord(lat, 90.0)?);
            entity.attrs.insert(
                ctx.expand("location"),
                vec![Attribute::new(AttrKind::GeoProperty, json!({"type": "Point", "coordinates": [x, y]}))],
            );
        }
        for (name, source) in &self.attributes {
            let Some(raw) = field(record, &source.from).filter(|v| !is_blank(v)) else { continue };
            let value = convert(raw, source.kind).map_err(|e| format!("{}: {e}", source.from))?;
            let attr = Attribute {
                observed_at: Some(observed),
                unit_code: source.unit_code.clone(),
                ..Attribute::new(AttrKind::Property, value)
            };
            entity.attrs.insert(ctx.expand(name), vec![attr]);
        }
        Ok(entity)
    }
}

fn is_blank(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty())
}

/// A field of a record: a JSON pointer when it starts with `/`, else a member (column) name.
pub fn field<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    if name.starts_with('/') { record.pointer(name) } else { record.get(name) }
}

fn fill_template(template: &str, record: &Value) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').ok_or("the id template has an unclosed {")? + open;
        let name = &rest[open + 1..close];
        let value = field(record, name).filter(|v| !is_blank(v)).ok_or_else(|| format!("{name}: missing (needed for the id)"))?;
        let text = match value {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => return Err(format!("{name}: must be text or a number to make an id")),
        };
        // Keep ids URIs: spaces and the like become '-'.
        out.extend(text.chars().map(|c| if c.is_alphanumeric() || "-._~:".contains(c) { c } else { '-' }));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Text that reads as a number becomes one (files hold numbers as text).
fn number_or_text(v: &Value) -> Value {
    match v {
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).map_or_else(|| v.clone(), |x| json!(x)),
        other => other.clone(),
    }
}

fn convert(v: &Value, kind: ValueKind) -> Result<Value, String> {
    match kind {
        ValueKind::Auto => Ok(match number_or_text(v) {
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            other => other,
        }),
        ValueKind::Number => match number_or_text(v) {
            n @ Value::Number(_) => Ok(n),
            _ => Err(format!("{v} is not a number")),
        },
        ValueKind::Text => Ok(match v {
            Value::String(_) => v.clone(),
            other => Value::String(other.to_string()),
        }),
        ValueKind::Boolean => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if ["true", "1", "yes", "có"].contains(&s.trim().to_lowercase().as_str()) => Ok(json!(true)),
            Value::String(s) if ["false", "0", "no", "không"].contains(&s.trim().to_lowercase().as_str()) => Ok(json!(false)),
            Value::Number(n) => Ok(json!(n.as_f64() != Some(0.0))),
            _ => Err(format!("{v} is not true or false")),
        },
    }
}

/// The items of a pulled JSON document: the array at `pointer` (default the document itself);
/// a single object counts as one item.
pub fn items<'a>(doc: &'a Value, pointer: Option<&str>) -> Result<Vec<&'a Value>, String> {
    let at = match pointer {
        Some(p) if !p.is_empty() => doc.pointer(p).ok_or_else(|| format!("nothing at {p} in the document"))?,
        _ => doc,
    };
    match at {
        Value::Array(a) => Ok(a.iter().collect()),
        Value::Object(_) => Ok(vec![at]),
        _ => Err("the items are neither an array nor an object".into()),
    }
}
