//! The write operations of clause 5.6 on an [`Entity`], with the patch behaviours of clauses
//! 5.5.8 (partial update) and 5.5.12 (merge).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{AttrKind, Attribute, Entity, NGSI_LD_NULL, NotUpdated, UpdateResult, names};
use crate::error::NgsiError;

/// A new instance: created and modified now, sub-attributes too.
fn stamp_new(attr: &mut Attribute, now: DateTime<Utc>) {
    attr.created_at = Some(now);
    attr.modified_at = Some(now);
    for subs in attr.sub_attrs.values_mut() {
        for sub in subs {
            stamp_new(sub, now);
        }
    }
}

/// An instance replacing `old`: keeps the creation time of `old` (and of the sub-attribute
/// instances that existed in it), modified now.
fn stamp_replacing(attr: &mut Attribute, old: Option<&Attribute>, now: DateTime<Utc>) {
    attr.created_at = old.and_then(|o| o.created_at).or(Some(now));
    attr.modified_at = Some(now);
    for (name, subs) in attr.sub_attrs.iter_mut() {
        for sub in subs {
            let old_sub = old
                .and_then(|o| o.sub_attrs.get(name))
                .and_then(|olds| olds.iter().find(|s| s.dataset_id == sub.dataset_id));
            stamp_replacing(sub, old_sub, now);
        }
    }
}

fn push_unique(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}

fn not_updated(result: &mut UpdateResult, name: &str, reason: &str) {
    if !result.not_updated.iter().any(|n| n.attribute == name) {
        result.not_updated.push(NotUpdated { attribute: name.to_string(), reason: reason.to_string() });
    }
}

/// Replaces the instance with the same `datasetId` or adds it; `true` if it replaced one.
fn upsert_instance(slot: &mut Vec<Attribute>, mut inst: Attribute, now: DateTime<Utc>) -> bool {
    match slot.iter().position(|a| a.dataset_id == inst.dataset_id) {
        Some(i) => {
            stamp_replacing(&mut inst, Some(&slot[i]), now);
            slot[i] = inst;
            true
        }
        None => {
            stamp_new(&mut inst, now);
            slot.push(inst);
            false
        }
    }
}

fn add_types(entity: &mut Entity, types: Vec<String>) -> bool {
    let mut changed = false;
    for t in types {
        if !entity.types.contains(&t) {
            entity.types.push(t);
            changed = true;
        }
    }
    changed
}

fn finish(entity: &mut Entity, changed: bool, now: DateTime<Utc>) {
    if changed {
        entity.modified_at = Some(now);
    }
}

pub(super) fn append(entity: &mut Entity, fragment: Entity, no_overwrite: bool, now: DateTime<Utc>) -> UpdateResult {
    let mut result = UpdateResult::default();
    let mut changed = add_types(entity, fragment.types);
    for s in fragment.scope {
        if !entity.scope.contains(&s) {
            entity.scope.push(s);
            changed = true;
        }
    }
    for (name, instances) in fragment.attrs {
        let slot = entity.attrs.entry(name.clone()).or_default();
        for inst in instances {
            if no_overwrite && slot.iter().any(|a| a.dataset_id == inst.dataset_id) {
                not_updated(&mut result, &name, "the attribute instance exists and noOverwrite was requested");
                continue;
            }
            upsert_instance(slot, inst, now);
            push_unique(&mut result.updated, &name);
            changed = true;
        }
        if slot.is_empty() {
            entity.attrs.remove(&name);
        }
    }
    finish(entity, changed, now);
    result
}

fn delete_instance(slot: &mut Vec<Attribute>, dataset_id: Option<&str>) -> bool {
    let before = slot.len();
    slot.retain(|a| a.dataset_id.as_deref() != dataset_id);
    slot.len() != before
}

pub(super) fn update(entity: &mut Entity, fragment: Entity, now: DateTime<Utc>) -> UpdateResult {
    let mut result = UpdateResult::default();
    let mut changed = false;
    for (name, instances) in fragment.attrs {
        let Some(slot) = entity.attrs.get_mut(&name) else {
            not_updated(&mut result, &name, "the entity has no such attribute");
            continue;
        };
        for inst in instances {
            if inst.is_null_marker() {
                if delete_instance(slot, inst.dataset_id.as_deref()) {
                    push_unique(&mut result.updated, &name);
                    changed = true;
                } else {
                    not_updated(&mut result, &name, "the entity has no such attribute instance");
                }
                continue;
            }
            // Clause 5.5.8: an instance with a new datasetId is added to the attribute.
            upsert_instance(slot, inst, now);
            push_unique(&mut result.updated, &name);
            changed = true;
        }
        if slot.is_empty() {
            entity.attrs.remove(&name);
        }
    }
    finish(entity, changed, now);
    result
}

/// RFC 7396 merge patch with the NGSI-LD Null as the deletion marker (clause 5.5.12).
pub(super) fn merge_value(target: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            let mut out: Map<String, Value> = match target {
                Value::Object(t) => t.clone(),
                _ => Map::new(),
            };
            for (k, v) in p {
                if v.as_str() == Some(NGSI_LD_NULL) {
                    out.remove(k);
                } else {
                    let merged = merge_value(out.get(k).unwrap_or(&Value::Null), v);
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Merges `patch` into `old` member by member (clause 5.5.12).
fn merge_instance(old: &Attribute, patch: Attribute, now: DateTime<Utc>) -> Attribute {
    let mut merged = old.clone();
    if patch.kind != old.kind {
        // A change of attribute type replaces the instance.
        let mut inst = patch;
        inst.value = merge_value(&Value::Null, &inst.value);
        stamp_replacing(&mut inst, Some(old), now);
        return inst;
    }
    if !patch.value.is_null() {
        merged.value = match patch.kind {
            AttrKind::Property | AttrKind::LanguageProperty => merge_value(&old.value, &patch.value),
            _ => patch.value,
        };
    }
    if patch.observed_at.is_some() {
        merged.observed_at = patch.observed_at;
        merged.observed_at_text = patch.observed_at_text;
    }
    if patch.unit_code.is_some() {
        merged.unit_code = patch.unit_code;
    }
    if patch.object_type.is_some() {
        merged.object_type = patch.object_type;
    }
    merge_attrs(&mut merged.sub_attrs, patch.sub_attrs, now, &mut UpdateResult::default());
    merged.created_at = old.created_at.or(Some(now));
    merged.modified_at = Some(now);
    merged
}

fn merge_attrs(
    attrs: &mut BTreeMap<String, Vec<Attribute>>,
    patch: BTreeMap<String, Vec<Attribute>>,
    now: DateTime<Utc>,
    result: &mut UpdateResult,
) -> bool {
    let mut changed = false;
    for (name, instances) in patch {
        for inst in instances {
            let slot = attrs.entry(name.clone()).or_default();
            if inst.is_null_marker() {
                if delete_instance(slot, inst.dataset_id.as_deref()) {
                    push_unique(&mut result.updated, &name);
                    changed = true;
                } else {
                    not_updated(result, &name, "the entity has no such attribute instance");
                }
            } else {
                match slot.iter().position(|a| a.dataset_id == inst.dataset_id) {
                    Some(i) => {
                        let merged = merge_instance(&slot[i], inst, now);
                        slot[i] = merged;
                    }
                    None => {
                        let mut inst = inst;
                        strip_nulls(&mut inst);
                        stamp_new(&mut inst, now);
                        slot.push(inst);
                    }
                }
                push_unique(&mut result.updated, &name);
                changed = true;
            }
            if slot.is_empty() {
                attrs.remove(&name);
            }
        }
    }
    changed
}

/// A merged-in new instance keeps no NGSI-LD Null: null members of compound values are
/// removed, null sub-attributes dropped.
fn strip_nulls(inst: &mut Attribute) {
    if matches!(inst.kind, AttrKind::Property | AttrKind::LanguageProperty) {
        inst.value = merge_value(&Value::Null, &inst.value);
    }
    for subs in inst.sub_attrs.values_mut() {
        subs.retain(|s| !s.is_null_marker());
        for sub in subs.iter_mut() {
            strip_nulls(sub);
        }
    }
    inst.sub_attrs.retain(|_, subs| !subs.is_empty());
}

pub(super) fn merge(entity: &mut Entity, fragment: Entity, now: DateTime<Utc>) -> UpdateResult {
    let mut result = UpdateResult::default();
    let mut changed = add_types(entity, fragment.types);
    if !fragment.scope.is_empty() {
        if fragment.scope.iter().any(|s| s == NGSI_LD_NULL) {
            entity.scope.clear();
        } else {
            entity.scope = fragment.scope;
        }
        changed = true;
    }
    changed |= merge_attrs(&mut entity.attrs, fragment.attrs, now, &mut result);
    finish(entity, changed, now);
    result
}

fn not_found(name: &str, dataset_id: Option<&str>) -> NgsiError {
    match dataset_id {
        Some(ds) => NgsiError::not_found(format!("the entity has no instance of attribute {name} with datasetId {ds}")),
        None => NgsiError::not_found(format!("the entity has no attribute {name} (default instance)")),
    }
}

pub(super) fn patch_attribute(
    entity: &mut Entity,
    name: &str,
    fragment: Attribute,
    now: DateTime<Utc>,
) -> Result<(), NgsiError> {
    if name == names::SCOPE {
        return Err(NgsiError::bad_data("scope cannot be the target of a partial attribute update (clause 5.6.4)"));
    }
    let dataset_id = fragment.dataset_id.clone();
    let slot = entity.attrs.get_mut(name).ok_or_else(|| not_found(name, None))?;
    let index =
        slot.iter().position(|a| a.dataset_id == dataset_id).ok_or_else(|| not_found(name, dataset_id.as_deref()))?;
    if fragment.is_null_marker() {
        slot.remove(index);
        if slot.is_empty() {
            entity.attrs.remove(name);
        }
        entity.modified_at = Some(now);
        return Ok(());
    }
    let old = &mut slot[index];
    if !fragment.value.is_null() {
        old.kind = fragment.kind;
        old.value = fragment.value;
    }
    if fragment.observed_at.is_some() {
        old.observed_at = fragment.observed_at;
        old.observed_at_text = fragment.observed_at_text;
    }
    if fragment.unit_code.is_some() {
        old.unit_code = fragment.unit_code;
    }
    if fragment.object_type.is_some() {
        old.object_type = fragment.object_type;
    }
    for (sub_name, subs) in fragment.sub_attrs {
        let existing = old.sub_attrs.entry(sub_name.clone()).or_default();
        for mut sub in subs {
            if sub.is_null_marker() {
                delete_instance(existing, sub.dataset_id.as_deref());
                continue;
            }
            let prior = existing.iter().position(|a| a.dataset_id == sub.dataset_id);
            stamp_replacing(&mut sub, prior.map(|i| &existing[i]), now);
            match prior {
                Some(i) => existing[i] = sub,
                None => existing.push(sub),
            }
        }
        if existing.is_empty() {
            old.sub_attrs.remove(&sub_name);
        }
    }
    if !old.kind.allows_unit_code() {
        old.unit_code = None;
    }
    if !old.kind.allows_object_type() {
        old.object_type = None;
    }
    old.modified_at = Some(now);
    if old.created_at.is_none() {
        old.created_at = Some(now);
    }
    entity.modified_at = Some(now);
    Ok(())
}

pub(super) fn replace_attribute(
    entity: &mut Entity,
    name: &str,
    mut attr: Attribute,
    now: DateTime<Utc>,
) -> Result<(), NgsiError> {
    if name == names::SCOPE {
        return Err(NgsiError::bad_data("scope is not an attribute"));
    }
    if attr.is_null_marker() || attr.value.is_null() {
        return Err(NgsiError::bad_data(format!("the replacement of {name} has no value")));
    }
    let slot = entity.attrs.get_mut(name).ok_or_else(|| not_found(name, None))?;
    let index = slot
        .iter()
        .position(|a| a.dataset_id == attr.dataset_id)
        .ok_or_else(|| not_found(name, attr.dataset_id.as_deref()))?;
    attr.created_at = slot[index].created_at.or(Some(now));
    attr.modified_at = Some(now);
    for subs in attr.sub_attrs.values_mut() {
        for sub in subs {
            stamp_new(sub, now);
        }
    }
    slot[index] = attr;
    entity.modified_at = Some(now);
    Ok(())
}

pub(super) fn replace(entity: &mut Entity, with: Entity, now: DateTime<Utc>) {
    if !with.types.is_empty() {
        entity.types = with.types;
    }
    entity.scope = with.scope;
    let mut attrs = with.attrs;
    for (name, instances) in attrs.iter_mut() {
        for inst in instances {
            let old = entity.instance(name, inst.dataset_id.as_deref()).cloned();
            stamp_replacing(inst, old.as_ref(), now);
        }
    }
    entity.attrs = attrs;
    entity.modified_at = Some(now);
    if entity.created_at.is_none() {
        entity.created_at = Some(now);
    }
}

pub(super) fn delete_attribute(
    entity: &mut Entity,
    name: &str,
    dataset_id: Option<&str>,
    delete_all: bool,
    now: DateTime<Utc>,
) -> Result<(), NgsiError> {
    let slot = entity.attrs.get_mut(name).ok_or_else(|| not_found(name, dataset_id))?;
    if delete_all {
        entity.attrs.remove(name);
    } else {
        if !delete_instance(slot, dataset_id) {
            return Err(not_found(name, dataset_id));
        }
        if slot.is_empty() {
            entity.attrs.remove(name);
        }
    }
    entity.modified_at = Some(now);
    Ok(())
}
