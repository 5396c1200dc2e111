//! Entities to response bodies: normalized (clause 4.5.2, 4.5.3…), concise (4.5.2.3…),
//! simplified / keyValues (4.5.4), the language filter (4.15) and GeoJSON (4.5.16, 4.5.17).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::parse::is_proof;
use super::validate::{looks_like_geometry, validate_geojson_geometry};
use super::{AttrKind, Attribute, Entity, Format, RenderOptions, format_timestamp};
use crate::context::Context;

fn one_or_many(items: Vec<Value>) -> Value {
    if items.len() == 1 { items.into_iter().next().unwrap_or(Value::Null) } else { Value::Array(items) }
}

fn compact_all(iris: &[String], ctx: &Context) -> Value {
    one_or_many(iris.iter().map(|t| Value::String(ctx.compact(t))).collect())
}

pub(super) fn render_entity(e: &Entity, ctx: &Context, opts: &RenderOptions) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), Value::String(e.id.clone()));
    out.insert("type".into(), compact_all(&e.types, ctx));
    if !e.scope.is_empty() {
        out.insert("scope".into(), one_or_many(e.scope.iter().cloned().map(Value::String).collect()));
    }
    if opts.sys_attrs {
        if let Some(t) = &e.created_at {
            out.insert("createdAt".into(), Value::String(format_timestamp(t)));
        }
        if let Some(t) = &e.modified_at {
            out.insert("modifiedAt".into(), Value::String(format_timestamp(t)));
        }
    }
    render_attrs(&e.attrs, ctx, opts, opts.attrs.as_deref(), &mut out);
    Value::Object(out)
}

fn render_attrs(
    attrs: &BTreeMap<String, Vec<Attribute>>,
    ctx: &Context,
    opts: &RenderOptions,
    filter: Option<&[String]>,
    out: &mut Map<String, Value>,
) {
    for (name, instances) in attrs {
        if instances.is_empty() || filter.is_some_and(|f| !f.iter().any(|n| n == name)) {
            continue;
        }
        let key = ctx.compact(name);
        let value = if opts.format == Format::KeyValues {
            if instances.len() == 1 && instances[0].dataset_id.is_none() {
                simplified(&instances[0], ctx, opts)
            } else {
                let mut by_dataset = Map::new();
                for inst in instances {
                    let ds = inst.dataset_id.clone().unwrap_or_else(|| "@none".to_string());
                    by_dataset.insert(ds, simplified(inst, ctx, opts));
                }
                json!({ "dataset": by_dataset })
            }
        } else {
            // Several instances read back as such only when each one is an object.
            let bare = instances.len() == 1;
            one_or_many(instances.iter().map(|i| render_instance(i, ctx, opts, bare, &key)).collect())
        };
        out.insert(key, value);
    }
}

/// Clause 4.15: the best entry of `map` for the `lang` parameter — quality values (RFC 3282)
/// order the ranges, tags compare case-insensitively, a range matches a longer tag it is a
/// prefix of or a shorter tag it truncates to, `*` matches anything; when nothing matches, any
/// language (`@none` first). Returns the tag as stored and its value.
pub fn pick_language(map: &Map<String, Value>, lang: &str) -> Option<(String, Value)> {
    if map.is_empty() {
        return None;
    }
    let mut ranges: Vec<(f64, String)> = Vec::new();
    for part in lang.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        if tag.is_empty() {
            continue;
        }
        let mut q = 1.0;
        for param in pieces {
            if let Some(v) = param.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        if q > 0.0 {
            ranges.push((q, tag));
        }
    }
    ranges.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    let entry = |k: &String| Some((k.clone(), map[k].clone()));
    for (_, range) in &ranges {
        if range == "*" {
            break;
        }
        if let Some(k) = map.keys().find(|k| k.to_ascii_lowercase() == *range) {
            return entry(k);
        }
        if let Some(k) = map.keys().find(|k| k.to_ascii_lowercase().starts_with(&format!("{range}-"))) {
            return entry(k);
        }
        let mut truncated = range.as_str();
        while let Some(cut) = truncated.rfind('-') {
            truncated = &truncated[..cut];
            if let Some(k) = map.keys().find(|k| k.to_ascii_lowercase() == truncated) {
                return entry(k);
            }
        }
    }
    if map.contains_key("@none") {
        return entry(&"@none".to_string());
    }
    map.keys().next().and_then(entry)
}

/// A LanguageProperty under a `lang` filter becomes a Property with a `lang` sub-property.
fn language_as_property(inst: &Attribute, lang: &str) -> Option<(String, Value)> {
    inst.value.as_object().and_then(|map| pick_language(map, lang))
}

/// The value member as rendered (vocab compacted, object lists as `{"object": uri}` entries in
/// the normalized form).
fn rendered_value(inst: &Attribute, ctx: &Context, concise: bool) -> Value {
    match inst.kind {
        AttrKind::VocabProperty => match &inst.value {
            Value::String(s) => Value::String(ctx.compact(s)),
            Value::Array(items) => Value::Array(
                items.iter().map(|v| v.as_str().map(|s| Value::String(ctx.compact(s))).unwrap_or(v.clone())).collect(),
            ),
            other => other.clone(),
        },
        AttrKind::ListRelationship if !concise => match &inst.value {
            Value::Array(items) => Value::Array(items.iter().map(|uri| json!({ "object": uri })).collect()),
            other => other.clone(),
        },
        _ => inst.value.clone(),
    }
}

pub(super) fn render_instance(
    inst: &Attribute,
    ctx: &Context,
    opts: &RenderOptions,
    allow_bare: bool,
    key: &str,
) -> Value {
    let concise = opts.format == Format::Concise;
    let mut out = Map::new();
    let converted = match (&opts.lang, inst.kind) {
        (Some(lang), AttrKind::LanguageProperty) => language_as_property(inst, lang),
        _ => None,
    };
    let kind = if converted.is_some() { AttrKind::Property } else { inst.kind };
    // In the concise form the type is inferred from the value member, except for a Property
    // whose value would read as a geometry.
    if !concise || (kind == AttrKind::Property && looks_like_geometry(&inst.value)) {
        out.insert("type".into(), Value::String(kind.name().to_string()));
    }
    match &converted {
        Some((tag, value)) => {
            out.insert("value".into(), value.clone());
            out.insert("lang".into(), Value::String(tag.clone()));
        }
        None => {
            out.insert(kind.value_key().into(), rendered_value(inst, ctx, concise));
        }
    }
    if let Some(ds) = &inst.dataset_id {
        out.insert("datasetId".into(), Value::String(ds.clone()));
    }
    if let Some(t) = inst.observed_at_string() {
        out.insert("observedAt".into(), Value::String(t));
    }
    if let Some(u) = &inst.unit_code {
        out.insert("unitCode".into(), Value::String(u.clone()));
    }
    if let Some(types) = &inst.object_type {
        out.insert("objectType".into(), compact_all(types, ctx));
    }
    if opts.sys_attrs {
        if let Some(t) = &inst.created_at {
            out.insert("createdAt".into(), Value::String(format_timestamp(t)));
        }
        if let Some(t) = &inst.modified_at {
            out.insert("modifiedAt".into(), Value::String(format_timestamp(t)));
        }
    }
    render_attrs(&inst.sub_attrs, ctx, opts, None, &mut out);
    if is_proof(key) {
        // The sealed members of ngsildproof are non-reified: bare strings.
        for (sealed, compact) in [("entityIdSealed", false), ("entityTypeSealed", true)] {
            let Some(name) = inst.sub_attrs.keys().find(|n| ctx.compact(n) == sealed) else { continue };
            if let Some(Value::String(v)) = inst.sub_attrs[name].first().map(|a| &a.value) {
                let v = if compact { ctx.compact(v) } else { v.clone() };
                out.insert(sealed.to_string(), Value::String(v));
            }
        }
    }
    if concise
        && allow_bare
        && out.len() == 1
        && matches!(kind, AttrKind::Property | AttrKind::GeoProperty)
        && let Some(value) = out.get("value")
        && bare_is_unambiguous(value, kind)
    {
        return value.clone();
    }
    Value::Object(out)
}

/// Whether a bare concise value reads back as the same attribute.
fn bare_is_unambiguous(value: &Value, kind: AttrKind) -> bool {
    match value {
        Value::Object(obj) => {
            if kind == AttrKind::GeoProperty {
                return validate_geojson_geometry(value).is_ok();
            }
            !looks_like_geometry(value)
                && !obj.keys().any(|k| {
                    super::parse::is_attribute_member(k)
                        || matches!(k.as_str(), "observedAt" | "unitCode" | "objectType" | "@context")
                })
        }
        Value::Array(items) => !items.iter().any(Value::is_object),
        _ => kind == AttrKind::Property,
    }
}

/// The simplified (keyValues) value of one instance (clause 4.5.4).
fn simplified(inst: &Attribute, ctx: &Context, opts: &RenderOptions) -> Value {
    match inst.kind {
        AttrKind::Property | AttrKind::GeoProperty | AttrKind::Relationship | AttrKind::ListProperty => {
            inst.value.clone()
        }
        AttrKind::ListRelationship => rendered_value(inst, ctx, true),
        AttrKind::LanguageProperty => match opts.lang.as_deref().and_then(|l| language_as_property(inst, l)) {
            Some((_, value)) => value,
            None => json!({ "languageMap": inst.value }),
        },
        AttrKind::VocabProperty => json!({ "vocab": rendered_value(inst, ctx, true) }),
        AttrKind::JsonProperty => json!({ "json": inst.value }),
    }
}

/// Clause 4.5.16: a GeoJSON Feature; `geometry` is the default instance of `geo_property` when
/// it holds a valid geometry, else `null`; `properties` has the entity type and attributes.
pub(super) fn render_geojson(e: &Entity, ctx: &Context, opts: &RenderOptions, geo_property: &str) -> Value {
    let geometry = e
        .default_instance(geo_property)
        .filter(|a| a.kind == AttrKind::GeoProperty && validate_geojson_geometry(&a.value).is_ok())
        .map(|a| a.value.clone())
        .unwrap_or(Value::Null);
    let mut properties = match render_entity(e, ctx, opts) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    properties.remove("id");
    json!({
        "id": e.id,
        "type": "Feature",
        "geometry": geometry,
        "properties": properties,
    })
}
