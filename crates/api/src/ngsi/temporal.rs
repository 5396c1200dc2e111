//! The temporal API (clauses 6.18–6.22 of ETSI GS CIM 009): the evolution of entities over
//! time, read from the attribute history the context writer records.
//!
//! - Reads: `GET /temporal/entities/{id}`, `GET /temporal/entities` and
//!   `POST /temporal/entityOperations/query`, with a temporal query (`timerel`, `timeAt`,
//!   `endTimeAt`, `timeproperty`, `lastN`) and three representations: normalized,
//!   `temporalValues` and `aggregatedValues` (`aggrMethods`, `aggrPeriodDuration`). Entities
//!   are selected as by the entity query, on their current state, with the same access rules.
//! - Size: at most [`MAX_INSTANCES`] instances per attribute in one answer. When an attribute
//!   has more, every attribute is cut at the same time and the answer is `206 Partial Content`
//!   with `Content-Range: date-time <start>-<end>/<lastN or *>` (clause 6.3.10): ask again
//!   from `<end>` for the rest.
//! - Writes: `POST /temporal/entities` (create or add instances), `POST …/{id}/attrs`,
//!   `DELETE …/{id}`, `DELETE …/{id}/attrs/{attrId}`, `DELETE …/{id}/attrs/{attrId}/{instanceId}`.
//!   Instances go through the same writer as every other write: the latest instance of each
//!   attribute becomes the entity's current state, and every instance is recorded.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use haidang_ngsi::entity::{BodyKind, Format};
use haidang_ngsi::temporal::{
    Aggregation, TemporalQuery, TemporalRender, TimeProperty, TimeRel, format_time, parse_instance_id,
    render_aggregated, render_temporal, split_temporal_body,
};
use haidang_ngsi::{Context, Entity, ErrorKind, NgsiError};
use haidang_store::context::{
    EntityRow, HistoryQuery, HistorySeries, OpOutcome, TimeBound, TimeColumn, Visibility, WriteAccess, WriteOp,
    WritePolicy,
};
use serde_json::Value;

use super::access::{Caller, Policy};
use super::entities::{EntityFilter, find, page_params, write_one};
use super::http::{self, COUNT_HEADER, NgsiResult, accept, respond};
use super::params::{Params, entity_id};
use crate::state::AppState;

/// Instances of one attribute in one answer at most (clause 6.3.10).
pub const MAX_INSTANCES: usize = 1000;

/// How the temporal evolution is to be shown.
enum View {
    Instances(TemporalRender),
    Aggregated(Aggregation),
}

/// What a temporal read asks: the temporal query, the representation, the attributes.
struct Ask {
    query: TemporalQuery,
    view: View,
    sys_attrs: bool,
    attrs: Option<Vec<String>>,
}

impl Ask {
    fn new(params: &Params, query: TemporalQuery, ctx: &Context, attrs: Option<Vec<String>>) -> NgsiResult<Self> {
        let options = params.options(&["temporalValues", "aggregatedValues", "sysAttrs", "normalized", "concise"])?;
        let has = |o: &str| options.iter().any(|x| x == o);
        let format = match params.get("format") {
            Some(f @ ("normalized" | "concise" | "temporalValues" | "simplified" | "aggregatedValues")) => f,
            Some(other) => {
                return Err(NgsiError::bad_data(format!(
                    "format={other} is not known here; use normalized, concise, temporalValues or aggregatedValues"
                ))
                .into());
            }
            None if has("aggregatedValues") => "aggregatedValues",
            None if has("temporalValues") => "temporalValues",
            None if has("concise") => "concise",
            None => "normalized",
        };
        if query.timeproperty == TimeProperty::DeletedAt {
            // Deleted instances are not kept: nothing to bound by their deletion time.
            return Err(
                NgsiError::new(ErrorKind::OperationNotSupported, "timeproperty=deletedAt is not supported").into()
            );
        }
        let sys_attrs = has("sysAttrs");
        let view = match format {
            "aggregatedValues" => {
                View::Aggregated(Aggregation::parse(params.get("aggrMethods"), params.get("aggrPeriodDuration"))?)
            }
            f => View::Instances(TemporalRender {
                format: match f {
                    "temporalValues" | "simplified" => Format::KeyValues,
                    "concise" => Format::Concise,
                    _ => Format::Normalized,
                },
                sys_attrs,
                timeproperty: query.timeproperty,
                lang: params.get("lang").map(str::to_owned),
            }),
        };
        let attrs = match attrs {
            Some(a) => Some(a),
            None => params.list("attrs")?.map(|a| a.iter().map(|n| ctx.expand(n)).collect()),
        };
        Ok(Self { query, view, sys_attrs, attrs })
    }

    fn history(&self, entity: i64) -> HistoryQuery<'_> {
        let (start, end) = self.query.interval();
        HistoryQuery {
            entity,
            attrs: self.attrs.as_deref(),
            time: TimeBound { start, end },
            column: match self.query.timeproperty {
                TimeProperty::ObservedAt => TimeColumn::Observed,
                _ => TimeColumn::Recorded,
            },
            last_n: self.query.last_n,
            limit: MAX_INSTANCES,
        }
    }
}

/// One entity's temporal evolution, before rendering.
enum Evolution {
    Instances(Vec<HistorySeries>),
    Aggregated(Vec<haidang_ngsi::temporal::AggregatedSeries>),
}

async fn evolution(state: &AppState, tenant: &str, row: &EntityRow, ask: &Ask) -> NgsiResult<Evolution> {
    let Some(pk) = state.store.context_entity_key(tenant, &row.entity.id).await? else {
        return Ok(Evolution::Instances(Vec::new()));
    };
    let query = ask.history(pk);
    Ok(match &ask.view {
        View::Instances(_) => Evolution::Instances(state.store.context_history(&query).await?),
        View::Aggregated(aggregation) => {
            // Periods start at timeAt when the query has one, else at the first instance.
            let origin = match ask.query.timerel {
                Some(TimeRel::After | TimeRel::Between) => ask.query.time_at,
                _ => None,
            };
            Evolution::Aggregated(state.store.context_aggregate(&query, aggregation, origin).await?)
        }
    })
}

/// The range every attribute is cut to when one of them had more than [`MAX_INSTANCES`]:
/// oldest first, up to the earliest last instance among the cut attributes; with `lastN`,
/// newest first, down to the latest first instance among them.
#[derive(Debug, Clone, Copy)]
struct Cut {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    newest_first: bool,
}

fn cut_of(all: &[&[HistorySeries]], ask: &Ask) -> Option<Cut> {
    let tp = ask.query.timeproperty;
    let newest_first = ask.query.last_n.is_some();
    let (start, end) = ask.query.interval();
    let mut bound: Option<DateTime<Utc>> = None;
    let mut outer: Option<DateTime<Utc>> = None;
    for s in all.iter().flat_map(|e| e.iter()) {
        let times: Vec<DateTime<Utc>> = s.series.instances.iter().filter_map(|(_, a)| tp.of(a)).collect();
        let (Some(&first), Some(&last)) = (times.first(), times.last()) else { continue };
        outer = Some(match (outer, newest_first) {
            (None, _) => {
                if newest_first {
                    last
                } else {
                    first
                }
            }
            (Some(o), false) => o.min(first),
            (Some(o), true) => o.max(last),
        });
        if s.truncated {
            bound = Some(match (bound, newest_first) {
                (None, false) => last,
                (None, true) => first,
                (Some(b), false) => b.min(last),
                (Some(b), true) => b.max(first),
            });
        }
    }
    let bound = bound?;
    let from = if newest_first { end.or(outer) } else { start.or(outer) }.unwrap_or(bound);
    Some(Cut { from, to: bound, newest_first })
}

fn apply_cut(series: &mut [HistorySeries], cut: Cut, tp: TimeProperty) {
    for s in series {
        s.series
            .instances
            .retain(|(_, a)| tp.of(a).is_none_or(|t| if cut.newest_first { t >= cut.to } else { t <= cut.to }));
    }
}

/// Renders the evolutions of `rows` (same order), cutting them to one range if needed.
fn render_all(rows: &[&Entity], mut evolutions: Vec<Evolution>, ctx: &Context, ask: &Ask) -> (Vec<Value>, Option<Cut>) {
    let instances: Vec<&[HistorySeries]> = evolutions
        .iter()
        .filter_map(|e| match e {
            Evolution::Instances(s) => Some(s.as_slice()),
            Evolution::Aggregated(_) => None,
        })
        .collect();
    let cut = cut_of(&instances, ask);
    let mut out = Vec::with_capacity(rows.len());
    for (entity, evolution) in rows.iter().zip(evolutions.iter_mut()) {
        out.push(match (evolution, &ask.view) {
            (Evolution::Instances(series), View::Instances(opts)) => {
                if let Some(c) = cut {
                    apply_cut(series, c, ask.query.timeproperty);
                }
                let plain: Vec<_> = series.iter().map(|s| s.series.clone()).collect();
                render_temporal(entity, &plain, ctx, opts)
            }
            (Evolution::Aggregated(series), _) => render_aggregated(entity, series, ctx, ask.sys_attrs),
            (Evolution::Instances(_), View::Aggregated(_)) => Value::Null,
        });
    }
    (out, cut)
}

fn answer(
    state: &AppState,
    headers: &HeaderMap,
    body: Value,
    ctx: &Context,
    cut: Option<Cut>,
    ask: &Ask,
) -> NgsiResult {
    let want = accept(headers, false)?;
    let status = if cut.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let mut res = respond(state, status, body, ctx, want);
    if let Some(c) = cut {
        let size = ask.query.last_n.map(|n| n.to_string()).unwrap_or_else(|| "*".into());
        let range = format!("date-time {}-{}/{size}", format_time(&c.from), format_time(&c.to));
        if let Ok(v) = HeaderValue::from_str(&range) {
            res.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(res)
}

fn temporal_query(params: &Params) -> NgsiResult<TemporalQuery> {
    Ok(TemporalQuery::parse(
        params.get("timerel"),
        params.get("timeAt"),
        params.get("endTimeAt"),
        params.get("timeproperty"),
        params.get("lastN"),
    )?)
}

/// `GET /temporal/entities/{id}` (clause 6.19.3.1).
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
    let ask = Ask::new(&params, temporal_query(&params)?, &ctx, None)?;
    accept(&headers, false)?;
    let visibility = caller.visibility(&state, &tenant);
    let row = state
        .store
        .context_entity(&tenant, &id, &visibility)
        .await?
        .ok_or_else(|| NgsiError::not_found(format!("no entity {id}")))?;
    let evolution = evolution(&state, &tenant, &row, &ask).await?;
    let empty = match &evolution {
        Evolution::Instances(s) => s.is_empty(),
        Evolution::Aggregated(s) => s.is_empty(),
    };
    if ask.attrs.is_some() && empty && !ask.attrs.iter().flatten().any(|a| row.entity.attrs.contains_key(a)) {
        return Err(NgsiError::not_found(format!("entity {id} has none of the attributes asked for")).into());
    }
    let (mut bodies, cut) = render_all(&[&row.entity], vec![evolution], &ctx, &ask);
    answer(&state, &headers, bodies.remove(0), &ctx, cut, &ask)
}

/// `GET /temporal/entities` (clause 6.18.3.2).
pub async fn query(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let ctx = http::header_context(&state, &headers).await?;
    let params = Params::parse(raw.as_deref())?;
    let filter = EntityFilter::from_params(&params, &ctx)?;
    if filter.is_empty() {
        return Err(NgsiError::bad_data(
            "say which entities: at least one of type, id, idPattern, attrs, q or a geo-query",
        )
        .into());
    }
    let ask = Ask::new(&params, temporal_query(&params)?, &ctx, None)?;
    run_query(&state, &caller, &headers, &params, &ctx, filter, ask).await
}

/// `POST /temporal/entityOperations/query` (clause 6.24.3.1): the query in the body, its
/// temporal part in `temporalQ`.
pub async fn query_post(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let body = http::body(&state, &headers, &bytes, false).await?;
    let params = Params::parse(raw.as_deref())?;
    let filter = EntityFilter::from_body(&body.value, &body.ctx)?;
    let tq = TemporalQuery::from_json(body.value.get("temporalQ"))?;
    let ask = Ask::new(&params, tq, &body.ctx, filter.attrs.clone())?;
    run_query(&state, &caller, &headers, &params, &body.ctx, filter, ask).await
}

async fn run_query(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    params: &Params,
    ctx: &Context,
    filter: EntityFilter,
    ask: Ask,
) -> NgsiResult {
    let tenant = http::existing_tenant(state, headers).await?;
    accept(headers, false)?;
    let (limit, offset, count) = page_params(params)?;
    let visibility = caller.visibility(state, &tenant);
    let page = find(state, &tenant, &visibility, &filter, limit, offset, count).await?;
    let mut evolutions = Vec::with_capacity(page.entities.len());
    for row in &page.entities {
        evolutions.push(evolution(state, &tenant, row, &ask).await?);
    }
    let rows: Vec<&Entity> = page.entities.iter().map(|r| &r.entity).collect();
    let (bodies, cut) = render_all(&rows, evolutions, ctx, &ask);
    let mut res = answer(state, headers, Value::Array(bodies), ctx, cut, &ask)?;
    if let Some(total) = page.total
        && let Ok(v) = HeaderValue::from_str(&total.to_string())
    {
        res.headers_mut().insert(COUNT_HEADER, v);
    }
    Ok(res)
}

/// The operations that write a temporal body: its layers, the first creating or adding to the
/// entity (`first`), the others adding instances.
fn layered_ops(value: &Value, ctx: &Context, url_id: Option<&str>, create: bool) -> NgsiResult<(String, Vec<WriteOp>)> {
    let layers = split_temporal_body(value)?;
    let mut ops = Vec::with_capacity(layers.len());
    let mut id = url_id.unwrap_or_default().to_owned();
    for (n, layer) in layers.iter().enumerate() {
        let kind = if create && n == 0 { BodyKind::Entity } else { BodyKind::Fragment };
        let mut fragment = Entity::parse(layer, ctx, kind)?;
        if let Some(url_id) = url_id {
            if !fragment.id.is_empty() && fragment.id != url_id {
                return Err(
                    NgsiError::bad_data(format!("the body is about {}, the URL about {url_id}", fragment.id)).into()
                );
            }
            fragment.id = url_id.to_owned();
        } else if n == 0 {
            id = fragment.id.clone();
        } else {
            fragment.id = id.clone();
        }
        ops.push(if create && n == 0 {
            WriteOp::Upsert { entity: fragment, replace: false }
        } else {
            WriteOp::Append { id: id.clone(), fragment, no_overwrite: false }
        });
    }
    Ok((id, ops))
}

/// Applies the layers in one write; the first operation's outcome says whether the entity was
/// created.
async fn write_layers(
    state: &AppState,
    tenant: &str,
    access: Arc<WriteAccess>,
    ops: Vec<WriteOp>,
) -> NgsiResult<OpOutcome> {
    let mut results = super::write(state, tenant, access, ops).await?.into_iter();
    let first = results.next().expect("one result per operation")?;
    for r in results {
        r?;
    }
    Ok(first)
}

/// `POST /temporal/entities` (clause 6.18.3.1): creates the entity with its instances (201),
/// or adds the instances to an existing one (204).
pub async fn create(State(state): State<AppState>, caller: Caller, headers: HeaderMap, bytes: Bytes) -> NgsiResult {
    let tenant = http::tenant(&headers)?;
    let access = caller.write_access(&state)?;
    let body = http::body(&state, &headers, &bytes, false).await?;
    let (id, ops) = layered_ops(&body.value, &body.ctx, None, true)?;
    match write_layers(&state, &tenant, access, ops).await? {
        OpOutcome::Created => {
            let mut res = StatusCode::CREATED.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/ngsi-ld/v1/temporal/entities/{id}")) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            Ok(res)
        }
        _ => Ok(http::no_content()),
    }
}

/// `POST /temporal/entities/{id}/attrs` (clause 6.20.3.1): adds attribute instances.
pub async fn append(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let id = entity_id(&id)?;
    let tenant = http::tenant(&headers)?;
    let access = caller.write_access(&state)?;
    let body = http::body(&state, &headers, &bytes, false).await?;
    let (_, ops) = layered_ops(&body.value, &body.ctx, Some(&id), false)?;
    write_layers(&state, &tenant, access, ops).await?;
    Ok(http::no_content())
}

/// `DELETE /temporal/entities/{id}` (clause 6.19.3.2): the entity and all its history.
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

/// The entity `id` if `caller` may write it: its key and its current state.
async fn writable(state: &AppState, caller: &Caller, tenant: &str, id: &str) -> NgsiResult<(i64, Entity)> {
    let access = caller.write_access(state)?;
    let missing = || NgsiError::not_found(format!("no entity {id}"));
    let row = state.store.context_entity(tenant, id, &Visibility::everything()).await?.ok_or_else(missing)?;
    let owner = row.owner.unwrap_or(access.unit);
    if !Policy(state.downgrade()).may_write(&access, owner, &row.entity) {
        // Outside the writer's scope the entity does not exist for it.
        return Err(missing().into());
    }
    let pk = state.store.context_entity_key(tenant, id).await?.ok_or_else(missing)?;
    Ok((pk, row.entity))
}

/// `DELETE /temporal/entities/{id}/attrs/{attrId}` (clause 6.21.3.1): the attribute's
/// history (of one `datasetId`, or all with `deleteAll=true`), and the attribute itself.
pub async fn delete_attribute(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attr)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let id = entity_id(&id)?;
    let tenant = http::existing_tenant(&state, &headers).await?;
    let ctx = http::header_context(&state, &headers).await?;
    let params = Params::parse(raw.as_deref())?;
    let dataset_id = params.get("datasetId").map(str::to_owned);
    let delete_all = params.flag("deleteAll")?;
    let name = ctx.expand(&attr);
    let (pk, entity) = writable(&state, &caller, &tenant, &id).await?;
    let dataset = if delete_all { None } else { Some(dataset_id.as_deref()) };
    let deleted = state.store.delete_context_history(pk, &name, dataset).await?;
    let current = entity
        .attrs
        .get(&name)
        .is_some_and(|i| delete_all || i.iter().any(|a| a.dataset_id.as_deref() == dataset_id.as_deref()));
    if current {
        let access = caller.write_access(&state)?;
        write_one(&state, &tenant, access, WriteOp::DeleteAttribute { id, name, dataset_id, delete_all }).await?;
    } else if deleted == 0 {
        return Err(NgsiError::not_found(format!("entity {id} has no attribute {attr}")).into());
    }
    Ok(http::no_content())
}

/// `DELETE /temporal/entities/{id}/attrs/{attrId}/{instanceId}` (clause 6.22.3.2).
pub async fn delete_instance(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attr, instance)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> NgsiResult {
    let id = entity_id(&id)?;
    let tenant = http::existing_tenant(&state, &headers).await?;
    let ctx = http::header_context(&state, &headers).await?;
    let seq = parse_instance_id(&instance)
        .ok_or_else(|| NgsiError::bad_data(format!("{instance:?} is not an instanceId of this broker")))?;
    let (pk, _) = writable(&state, &caller, &tenant, &id).await?;
    if !state.store.delete_context_instance(pk, &ctx.expand(&attr), seq).await? {
        return Err(NgsiError::not_found(format!("attribute {attr} of {id} has no instance {instance}")).into());
    }
    Ok(http::no_content())
}

/// `PATCH /temporal/entities/{id}/attrs/{attrId}/{instanceId}` (clause 6.22.3.1): not offered;
/// history is a record of what was written.
pub async fn patch_instance() -> Response {
    super::http::Problem(
        NgsiError::new(ErrorKind::OperationNotSupported, "attribute instances in the history cannot be modified"),
        None,
    )
    .into_response()
}
