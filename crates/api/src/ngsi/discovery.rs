//! Type and attribute discovery (clauses 6.25–6.28): what entity types and attributes exist,
//! among the entities the caller may see.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use haidang_ngsi::entity::AttrKind;
use haidang_ngsi::{Context, Entity, NgsiError};
use haidang_store::context::Visibility;
use serde_json::{Value, json};

use super::access::Caller;
use super::entities::{EntityFilter, find};
use super::http::{self, Accept, NgsiResult, accept, respond};
use super::params::Params;
use crate::state::AppState;

/// Entities read to tell an attribute's kinds (Property, Relationship…) at most.
const SAMPLE: usize = 2_000;

/// What every discovery answer starts from: the tenant, the request's context, the answer's
/// media type and what the caller may see.
struct Reading {
    tenant: String,
    ctx: Arc<Context>,
    want: Accept,
    visibility: Visibility,
}

async fn reading(state: &AppState, caller: &Caller, headers: &HeaderMap) -> NgsiResult<Reading> {
    let tenant = http::existing_tenant(state, headers).await?;
    let ctx = http::header_context(state, headers).await?;
    let want = accept(headers, false)?;
    let visibility = caller.visibility(state, &tenant);
    Ok(Reading { tenant, ctx, want, visibility })
}

/// The kinds (Property, Relationship…) the instances of `attr` have in `entities`.
fn kinds(entities: &[&Entity], attr: &str) -> BTreeSet<&'static str> {
    entities.iter().filter_map(|e| e.attrs.get(attr)).flatten().map(|i| kind_name(i.kind)).collect()
}

/// Up to [`SAMPLE`] visible entities matching `filter`, to tell attribute kinds.
async fn sample(state: &AppState, r: &Reading, filter: EntityFilter) -> NgsiResult<Vec<Entity>> {
    let page = find(state, &r.tenant, &r.visibility, &filter, SAMPLE, 0, false).await?;
    Ok(page.entities.into_iter().map(|row| row.entity).collect())
}

fn list_id(kind: &str, items: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(items.join("\n").as_bytes());
    format!("urn:ngsi-ld:{kind}:{}", hex::encode(&digest[..8]))
}

fn kind_name(k: AttrKind) -> &'static str {
    match k {
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

/// `GET /types` (`details=true` for each type's attributes).
pub async fn types(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let details = Params::parse(raw.as_deref())?.flag("details")?;
    let Reading { tenant, ctx, want, visibility } = reading(&state, &caller, &headers).await?;
    let types = state.store.context_types(&tenant, &visibility).await?;
    let body = if details {
        let attrs = state.store.context_attributes(&tenant, &visibility, None).await?;
        Value::Array(
            types
                .iter()
                .map(|(t, _)| {
                    let names: Vec<String> =
                        attrs.iter().filter(|(_, ts, _)| ts.contains(t)).map(|(a, _, _)| ctx.compact(a)).collect();
                    json!({ "id": t, "type": "EntityType", "typeName": ctx.compact(t), "attributeNames": names })
                })
                .collect(),
        )
    } else {
        let names: Vec<String> = types.iter().map(|(t, _)| ctx.compact(t)).collect();
        json!({ "id": list_id("EntityTypeList", &names), "type": "EntityTypeList", "typeList": names })
    };
    Ok(respond(&state, StatusCode::OK, body, &ctx, want))
}

/// `GET /types/{type}`: EntityTypeInfo.
pub async fn type_info(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> NgsiResult {
    let r = reading(&state, &caller, &headers).await?;
    let iri = r.ctx.expand(&name);
    let count = state.store.context_types(&r.tenant, &r.visibility).await?.into_iter().find(|(t, _)| *t == iri);
    let Some((_, count)) = count else {
        return Err(NgsiError::not_found(format!("no entities of type {name}")).into());
    };
    let entities = sample(&state, &r, EntityFilter { types: Some(vec![iri.clone()]), ..Default::default() }).await?;
    let entities: Vec<&Entity> = entities.iter().collect();
    let names: BTreeSet<&String> = entities.iter().flat_map(|e| e.attrs.keys()).collect();
    let details: Vec<Value> = names
        .into_iter()
        .map(|a| {
            json!({ "id": a, "type": "Attribute", "attributeName": r.ctx.compact(a), "attributeTypes": kinds(&entities, a) })
        })
        .collect();
    let body = json!({
        "id": iri,
        "type": "EntityTypeInfo",
        "typeName": r.ctx.compact(&iri),
        "entityCount": count,
        "attributeDetails": details,
    });
    Ok(respond(&state, StatusCode::OK, body, &r.ctx, r.want))
}

/// `GET /attributes` (`details=true` for each attribute's types).
pub async fn attributes(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let details = Params::parse(raw.as_deref())?.flag("details")?;
    let Reading { tenant, ctx, want, visibility } = reading(&state, &caller, &headers).await?;
    let attrs = state.store.context_attributes(&tenant, &visibility, None).await?;
    let body = if details {
        Value::Array(
            attrs
                .iter()
                .map(|(a, types, _)| {
                    json!({
                        "id": a,
                        "type": "Attribute",
                        "attributeName": ctx.compact(a),
                        "typeNames": types.iter().map(|t| ctx.compact(t)).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    } else {
        let names: Vec<String> = attrs.iter().map(|(a, _, _)| ctx.compact(a)).collect();
        json!({ "id": list_id("AttributeList", &names), "type": "AttributeList", "attributeList": names })
    };
    Ok(respond(&state, StatusCode::OK, body, &ctx, want))
}

/// `GET /attributes/{attrId}`.
pub async fn attribute_info(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> NgsiResult {
    let r = reading(&state, &caller, &headers).await?;
    let iri = r.ctx.expand(&name);
    let attrs = state.store.context_attributes(&r.tenant, &r.visibility, None).await?;
    let Some((_, types, count)) = attrs.into_iter().find(|(a, _, _)| *a == iri) else {
        return Err(NgsiError::not_found(format!("no entity has attribute {name}")).into());
    };
    let entities = sample(&state, &r, EntityFilter { attrs: Some(vec![iri.clone()]), ..Default::default() }).await?;
    let body = json!({
        "id": iri,
        "type": "Attribute",
        "attributeName": r.ctx.compact(&iri),
        "attributeCount": count,
        "attributeTypes": kinds(&entities.iter().collect::<Vec<_>>(), &iri),
        "typeNames": types.iter().map(|t| r.ctx.compact(t)).collect::<Vec<_>>(),
    });
    Ok(respond(&state, StatusCode::OK, body, &r.ctx, r.want))
}
