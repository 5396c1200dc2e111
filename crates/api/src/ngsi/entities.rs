//! Entities (clauses 6.4–6.7 of ETSI GS CIM 009): create, retrieve, query, replace, merge,
//! delete, and their attributes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haidang_ngsi::entity::{BodyKind, RenderOptions, UpdateResult};
use haidang_ngsi::geoquery::GeoQuery;
use haidang_ngsi::query::Query;
use haidang_ngsi::{Attribute, Context, Entity, NgsiError};
use haidang_store::context::{EntityQuery, OpOutcome, Visibility, WriteAccess, WriteOp};
use serde_json::{Value, json};

use super::access::Caller;
use super::http::{self, Accept, NgsiResult, accept, respond};
use super::params::{Params, entity_id};
use crate::state::AppState;

/// Entities in one answer at most; more is `TooManyResults`.
pub const MAX_LIMIT: usize = 1000;
pub const DEFAULT_LIMIT: usize = 20;

/// Runs one write and turns a refusal into the operation's error.
pub async fn write_one(state: &AppState, tenant: &str, access: Arc<WriteAccess>, op: WriteOp) -> NgsiResult<OpOutcome> {
    let mut results = super::write(state, tenant, access, vec![op]).await?;
    Ok(results.pop().expect("one result per operation")?)
}

/// `POST /entities` (clause 6.4.3.1).
pub async fn create(State(state): State<AppState>, caller: Caller, headers: HeaderMap, bytes: Bytes) -> NgsiResult {
    let tenant = http::tenant(&headers)?;
    let access = caller.write_access(&state)?;
    let body = http::body(&state, &headers, &bytes, false).await?;
    let entity = Entity::parse(&body.value, &body.ctx, BodyKind::Entity)?;
    let id = entity.id.clone();
    write_one(&state, &tenant, access, WriteOp::Create { entity }).await?;
    let mut res = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/ngsi-ld/v1/entities/{}", urlencoding(&id))) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `GET /entities/{id}` (clause 6.5.3.1).
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let id = entity_id(&id)?;
    let tenant = http::existing_tenant(&state, &headers).await?;
    let ctx = http::header_context(&state, &headers).await?;
    let params = Params::parse(raw.as_deref())?;
    let opts = params.render(&ctx, &[])?;
    let want = accept(&headers, true)?;
    let visibility = caller.visibility(&state, &tenant);
    let row = state
        .store
        .context_entity(&tenant, &id, &visibility)
        .await?
        .ok_or_else(|| NgsiError::not_found(format!("no entity {id}")))?;
    let body = match want {
        Accept::GeoJson => row.entity.render_geojson(&ctx, &opts, &params.geometry_property(&ctx)),
        _ => row.entity.render(&ctx, &opts),
    };
    Ok(respond(&state, StatusCode::OK, body, &ctx, want))
}

/// A query in the terms of clause 6.4.3.2 / 6.23.3.1, names expanded.
#[derive(Default)]
pub struct EntityFilter {
    pub ids: Option<Vec<String>>,
    pub id_pattern: Option<regex::Regex>,
    pub types: Option<Vec<String>>,
    pub attrs: Option<Vec<String>>,
    pub q: Option<Query>,
    pub geo: Option<GeoQuery>,
}

impl EntityFilter {
    pub fn from_params(params: &Params, ctx: &Context) -> NgsiResult<Self> {
        let types = params
            .get("type")
            .map(|t| {
                // The type selection language: ',' and '|' both mean "or"; ';' (and) is kept to
                // single types, the common case, by refusing it clearly.
                if t.contains(';') || t.contains('(') {
                    return Err(NgsiError::bad_data("type: only lists of types (A,B or A|B) are supported"));
                }
                let items: Vec<String> = t.split([',', '|']).map(|s| s.trim().to_owned()).collect();
                if items.iter().any(String::is_empty) {
                    return Err(NgsiError::bad_data("type has an empty item"));
                }
                Ok(items.iter().map(|n| ctx.expand(n)).collect::<Vec<_>>())
            })
            .transpose()?;
        let ids = params.list("id")?;
        if let Some(ids) = &ids {
            for id in ids {
                entity_id(id)?;
            }
        }
        let id_pattern = params.get("idPattern").map(id_pattern).transpose()?;
        let attrs = params.list("attrs")?.map(|a| a.iter().map(|n| ctx.expand(n)).collect());
        let q = params.get("q").map(|q| Query::parse(q, ctx)).transpose()?;
        let geo = match (params.get("georel"), params.get("geometry"), params.get("coordinates")) {
            (None, None, None) => None,
            (Some(rel), Some(geometry), Some(coordinates)) => {
                Some(GeoQuery::parse(rel, geometry, coordinates, params.get("geoproperty"), ctx)?)
            }
            _ => {
                return Err(NgsiError::bad_data("a geo-query needs georel, geometry and coordinates together").into());
            }
        };
        Ok(Self { ids, id_pattern, types, attrs, q, geo })
    }

    /// From the body of `POST /entityOperations/query` (clause 5.2.23).
    pub fn from_body(body: &Value, ctx: &Context) -> NgsiResult<Self> {
        let obj = body.as_object().ok_or_else(|| NgsiError::bad_data("the query must be a JSON object"))?;
        if obj.get("type").and_then(Value::as_str) != Some("Query") {
            return Err(NgsiError::bad_data("a query body must say \"type\": \"Query\"").into());
        }
        let mut ids = Vec::new();
        let mut types = Vec::new();
        let mut pattern = None;
        if let Some(entities) = obj.get("entities") {
            let list = entities.as_array().ok_or_else(|| NgsiError::bad_data("entities must be an array"))?;
            for (i, sel) in list.iter().enumerate() {
                let t = sel.get("type").and_then(Value::as_str);
                match t {
                    Some(t) => types.push(ctx.expand(t)),
                    None => return Err(NgsiError::bad_data(format!("entities[{i}] needs a type")).into()),
                }
                if let Some(id) = sel.get("id") {
                    ids.push(entity_id(id.as_str().unwrap_or(""))?);
                }
                if let Some(p) = sel.get("idPattern").and_then(Value::as_str) {
                    pattern = Some(id_pattern(p)?);
                }
            }
        }
        let attrs = obj
            .get("attrs")
            .map(|a| {
                a.as_array()
                    .and_then(|a| a.iter().map(|n| n.as_str().map(|n| ctx.expand(n))).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| NgsiError::bad_data("attrs must be an array of attribute names"))
            })
            .transpose()?;
        let q = obj
            .get("q")
            .map(|q| q.as_str().ok_or_else(|| NgsiError::bad_data("q must be a string")))
            .transpose()?
            .map(|q| Query::parse(q, ctx))
            .transpose()?;
        let geo = obj.get("geoQ").map(|g| GeoQuery::from_json(g, ctx)).transpose()?;
        Ok(Self {
            ids: (!ids.is_empty()).then_some(ids),
            id_pattern: pattern,
            types: (!types.is_empty()).then_some(types),
            attrs,
            q,
            geo,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_none()
            && self.id_pattern.is_none()
            && self.types.is_none()
            && self.attrs.is_none()
            && self.q.is_none()
            && self.geo.is_none()
    }

    fn matches(&self, e: &Entity) -> bool {
        self.id_pattern.as_ref().is_none_or(|p| p.is_match(&e.id))
            && self.q.as_ref().is_none_or(|q| q.matches(e))
            && self.geo.as_ref().is_none_or(|g| g.matches(e))
    }

    fn needs_filter(&self) -> bool {
        self.id_pattern.is_some() || self.q.is_some() || self.geo.is_some()
    }
}

fn id_pattern(p: &str) -> NgsiResult<regex::Regex> {
    regex::RegexBuilder::new(p)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| NgsiError::bad_data(format!("idPattern is not a valid regular expression: {e}")).into())
}

/// `GET /entities` (clause 6.4.3.2).
pub async fn query(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let (ctx, params, filter) = url_query(&state, raw.as_deref(), &headers).await?;
    run_query(&state, &caller, &headers, &params, &ctx, filter).await
}

/// The parts of a query in the URL: the `Link` context, the parameters and the entity
/// selection, which must name something.
pub async fn url_query(
    state: &AppState,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> NgsiResult<(Arc<Context>, Params, EntityFilter)> {
    let ctx = http::header_context(state, headers).await?;
    let params = Params::parse(raw)?;
    let filter = EntityFilter::from_params(&params, &ctx)?;
    if filter.is_empty() {
        return Err(NgsiError::bad_data(
            "say what to look for: at least one of type, id, idPattern, attrs, q or a geo-query",
        )
        .into());
    }
    Ok((ctx, params, filter))
}

/// The parts of a query in a body (clause 5.2.23): the body, the URL parameters and the
/// entity selection.
pub async fn body_query(
    state: &AppState,
    raw: Option<&str>,
    headers: &HeaderMap,
    bytes: &Bytes,
) -> NgsiResult<(http::Body, Params, EntityFilter)> {
    let body = http::body(state, headers, bytes, false).await?;
    let params = Params::parse(raw)?;
    let filter = EntityFilter::from_body(&body.value, &body.ctx)?;
    Ok((body, params, filter))
}

/// `POST /entityOperations/query` (clause 6.23.3.1).
pub async fn query_post(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let (body, params, filter) = body_query(&state, raw.as_deref(), &headers, &bytes).await?;
    run_query(&state, &caller, &headers, &params, &body.ctx, filter).await
}

async fn run_query(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    params: &Params,
    ctx: &Context,
    filter: EntityFilter,
) -> NgsiResult {
    let tenant = http::existing_tenant(state, headers).await?;
    let opts = params.render(ctx, &[])?;
    let want = accept(headers, true)?;
    let paging = params.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    let visibility = caller.visibility(state, &tenant);
    let page = find(state, &tenant, &visibility, &filter, paging.limit, paging.offset, paging.count).await?;
    let entities: Vec<&Entity> = page.entities.iter().map(|r| &r.entity).collect();
    let body = render_list(&entities, ctx, &opts, want, &params.geometry_property(ctx));
    Ok(http::with_count(respond(state, StatusCode::OK, body, ctx, want), page.total))
}

/// Runs a filter against the store.
pub async fn find(
    state: &AppState,
    tenant: &str,
    visibility: &Visibility,
    filter: &EntityFilter,
    limit: usize,
    offset: usize,
    count: bool,
) -> NgsiResult<haidang_store::context::QueryPage> {
    let check = |e: &Entity| filter.matches(e);
    let bounds = filter.q.as_ref().map(|q| q.numeric_bounds()).unwrap_or_default();
    let query = EntityQuery {
        tenant,
        ids: filter.ids.as_deref(),
        types: filter.types.as_deref(),
        attrs: filter.attrs.as_deref(),
        bbox: filter.geo.as_ref().and_then(GeoQuery::bounds),
        visibility,
        filter: filter.needs_filter().then_some(&check as &(dyn Fn(&Entity) -> bool + Sync)),
        bounds: &bounds,
        limit,
        offset,
        count,
    };
    Ok(state.store.query_context(&query).await?)
}

pub fn render_list(
    entities: &[&Entity],
    ctx: &Context,
    opts: &RenderOptions,
    want: Accept,
    geo_property: &str,
) -> Value {
    match want {
        Accept::GeoJson => json!({
            "type": "FeatureCollection",
            "features": entities.iter().map(|e| e.render_geojson(ctx, opts, geo_property)).collect::<Vec<_>>(),
        }),
        _ => Value::Array(entities.iter().map(|e| e.render(ctx, opts)).collect()),
    }
}

/// 204 when every attribute was written, 207 with the UpdateResult otherwise (clause 5.2.18).
fn update_answer(result: &UpdateResult, ctx: &Context) -> Response {
    if result.not_updated.is_empty() {
        return http::no_content();
    }
    let body = json!({
        "updated": result.updated.iter().map(|a| ctx.compact(a)).collect::<Vec<_>>(),
        "notUpdated": result.not_updated.iter().map(|n| json!({
            "attributeName": ctx.compact(&n.attribute),
            "reason": n.reason,
        })).collect::<Vec<_>>(),
    });
    let mut res = (StatusCode::MULTI_STATUS, body.to_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(http::JSON));
    res
}

/// A write about the entity in the URL: who writes, in which tenant, and the body read as
/// `kind` (an `id` in it must be the URL's).
struct EntityWrite {
    id: String,
    tenant: String,
    access: Arc<WriteAccess>,
    fragment: Entity,
    ctx: Arc<Context>,
}

async fn entity_write(
    state: &AppState,
    caller: &Caller,
    id: &str,
    headers: &HeaderMap,
    bytes: &Bytes,
    kind: BodyKind,
) -> NgsiResult<EntityWrite> {
    let id = entity_id(id)?;
    let tenant = http::tenant(headers)?;
    let access = caller.write_access(state)?;
    let body = http::body(state, headers, bytes, kind == BodyKind::Merge).await?;
    let fragment = Entity::parse(&body.value, &body.ctx, kind)?;
    if !fragment.id.is_empty() && fragment.id != id {
        return Err(NgsiError::bad_data(format!("the body is about {}, the URL about {id}", fragment.id)).into());
    }
    Ok(EntityWrite { id, tenant, access, fragment, ctx: body.ctx })
}

/// `POST /entities/{id}/attrs` (clause 6.6.3.1).
pub async fn append(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let params = Params::parse(raw.as_deref())?;
    let no_overwrite = params.options(&["noOverwrite"])?.iter().any(|o| o == "noOverwrite");
    let w = entity_write(&state, &caller, &id, &headers, &bytes, BodyKind::Fragment).await?;
    let op = WriteOp::Append { id: w.id, fragment: w.fragment, no_overwrite };
    match write_one(&state, &w.tenant, w.access, op).await? {
        OpOutcome::Updated(r) => Ok(update_answer(&r, &w.ctx)),
        _ => Ok(http::no_content()),
    }
}

/// `PATCH /entities/{id}/attrs` (clause 6.6.3.2).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let w = entity_write(&state, &caller, &id, &headers, &bytes, BodyKind::Update).await?;
    match write_one(&state, &w.tenant, w.access, WriteOp::Update { id: w.id, fragment: w.fragment }).await? {
        OpOutcome::Updated(r) => Ok(update_answer(&r, &w.ctx)),
        _ => Ok(http::no_content()),
    }
}

/// `PATCH /entities/{id}` (clause 6.5.3.4): merge.
pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let w = entity_write(&state, &caller, &id, &headers, &bytes, BodyKind::Merge).await?;
    write_one(&state, &w.tenant, w.access, WriteOp::Merge { id: w.id, fragment: w.fragment }).await?;
    Ok(http::no_content())
}

/// `PUT /entities/{id}` (clause 6.5.3.3): replace.
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let w = entity_write(&state, &caller, &id, &headers, &bytes, BodyKind::Fragment).await?;
    if w.fragment.types.is_empty() {
        return Err(NgsiError::bad_data("a replacing entity needs its type").into());
    }
    let entity = Entity { id: w.id, ..w.fragment };
    write_one(&state, &w.tenant, w.access, WriteOp::Replace { entity }).await?;
    Ok(http::no_content())
}

/// `DELETE /entities/{id}` (clause 6.5.3.2).
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> NgsiResult {
    let id = entity_id(&id)?;
    let tenant = http::existing_tenant(&state, &headers).await?;
    let access = caller.write_access(&state)?;
    write_one(&state, &tenant, access, WriteOp::Delete { id }).await?;
    Ok(http::no_content())
}

/// Writes one attribute instance from a body: a partial one for PATCH (merged into the
/// existing instance), a whole one for PUT (replacing it).
async fn write_attribute(
    state: &AppState,
    caller: &Caller,
    (id, attr): (String, String),
    headers: &HeaderMap,
    bytes: &Bytes,
    whole: bool,
) -> NgsiResult {
    let id = entity_id(&id)?;
    let tenant = http::tenant(headers)?;
    let access = caller.write_access(state)?;
    let body = http::body(state, headers, bytes, !whole).await?;
    let name = body.ctx.expand(&attr);
    let mut instances = if whole {
        Attribute::parse_as(&name, &body.value, &body.ctx, BodyKind::Entity, false)?
    } else {
        Attribute::parse(&name, &body.value, &body.ctx)?
    };
    if instances.len() != 1 {
        return Err(NgsiError::bad_data("give one attribute instance").into());
    }
    let attr = instances.remove(0);
    let op =
        if whole { WriteOp::ReplaceAttribute { id, name, attr } } else { WriteOp::PatchAttribute { id, name, attr } };
    write_one(state, &tenant, access, op).await?;
    Ok(http::no_content())
}

/// `PATCH /entities/{id}/attrs/{attrId}` (clause 6.7.3.1).
pub async fn patch_attribute(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    write_attribute(&state, &caller, path, &headers, &bytes, false).await
}

/// `PUT /entities/{id}/attrs/{attrId}` (clause 6.7.3.3).
pub async fn replace_attribute(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    write_attribute(&state, &caller, path, &headers, &bytes, true).await
}

/// `DELETE /entities/{id}/attrs/{attrId}` (clause 6.7.3.2).
pub async fn delete_attribute(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attr)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let access = caller.write_access(&state)?;
    let d = attribute_delete(&state, (id, attr), raw.as_deref(), &headers).await?;
    let op = WriteOp::DeleteAttribute { id: d.id, name: d.name, dataset_id: d.dataset_id, delete_all: d.delete_all };
    write_one(&state, &d.tenant, access, op).await?;
    Ok(http::no_content())
}

/// What a delete of `/{id}/attrs/{attrId}` is about: the entity, the attribute (expanded by
/// the `Link` context) and which instances (`datasetId`, `deleteAll`).
pub struct AttributeDelete {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub dataset_id: Option<String>,
    pub delete_all: bool,
}

pub async fn attribute_delete(
    state: &AppState,
    (id, attr): (String, String),
    raw: Option<&str>,
    headers: &HeaderMap,
) -> NgsiResult<AttributeDelete> {
    let id = entity_id(&id)?;
    let tenant = http::existing_tenant(state, headers).await?;
    let ctx = http::header_context(state, headers).await?;
    let params = Params::parse(raw)?;
    let dataset_id = params.get("datasetId").map(str::to_owned);
    let delete_all = params.flag("deleteAll")?;
    Ok(AttributeDelete { id, tenant, name: ctx.expand(&attr), dataset_id, delete_all })
}

/// Percent-encodes what cannot stand in a path segment.
pub(crate) fn urlencoding(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
