//! Batch entity operations (clauses 6.14–6.17 and 6.31): many entities in one request, one
//! group commit, and a BatchOperationResult (clause 5.2.16) saying which succeeded.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haidang_ngsi::entity::BodyKind;
use haidang_ngsi::{Entity, NgsiError};
use haidang_store::context::{OpOutcome, OpResult, WriteOp};
use serde_json::{Value, json};

use super::access::Caller;
use super::http::{self, NgsiResult};
use super::params::{Params, entity_id};
use crate::state::AppState;

/// Entities in one batch at most.
pub const MAX_BATCH: usize = 10_000;

/// Each element's outcome, in request order: the entity id (if one could be read) and either
/// the operation to run or why the element was refused before running.
type Planned = Vec<(String, Result<WriteOp, NgsiError>)>;

async fn plan(
    state: &AppState,
    headers: &HeaderMap,
    bytes: &Bytes,
    kind: BodyKind,
    to_op: impl Fn(Entity) -> WriteOp,
) -> NgsiResult<Planned> {
    let body = http::body(state, headers, bytes, false).await?;
    let items = items(&body.value)?;
    Ok(items
        .iter()
        .map(|item| {
            let id = item.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
            let parsed = Entity::parse(item, &body.ctx, kind).and_then(|e| {
                if e.id.is_empty() { Err(NgsiError::bad_data("each entity needs its id")) } else { Ok(to_op(e)) }
            });
            (id, parsed)
        })
        .collect())
}

fn items(value: &Value) -> NgsiResult<&Vec<Value>> {
    let items = value.as_array().ok_or_else(|| NgsiError::bad_data("a batch body is a JSON array"))?;
    if items.is_empty() {
        return Err(NgsiError::bad_data("the batch is empty").into());
    }
    if items.len() > MAX_BATCH {
        return Err(NgsiError::bad_data(format!("a batch holds at most {MAX_BATCH} entities")).into());
    }
    Ok(items)
}

/// Runs the planned operations in one write and pairs every element with its outcome.
async fn run(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    planned: Planned,
) -> NgsiResult<Vec<(String, OpResult)>> {
    let tenant = http::tenant(headers)?;
    let access = caller.write_access(state)?;
    let mut ops = Vec::new();
    let mut slots = Vec::with_capacity(planned.len());
    for (id, op) in planned {
        match op {
            Ok(op) => {
                ops.push(op);
                slots.push((id, None));
            }
            Err(e) => slots.push((id, Some(Err(e)))),
        }
    }
    let mut results = super::write(state, &tenant, access, ops).await?.into_iter();
    Ok(slots
        .into_iter()
        .map(|(id, early)| (id, early.unwrap_or_else(|| results.next().expect("one result per operation"))))
        .collect())
}

/// The answer of a batch: `ok` decides the all-succeeded answer; otherwise 207 with a
/// BatchOperationResult.
fn answer(outcomes: &[(String, OpResult)], ok: impl FnOnce(&[(String, OpResult)]) -> Response) -> Response {
    if outcomes.iter().all(|(_, r)| r.is_ok()) {
        return ok(outcomes);
    }
    let success: Vec<&String> = outcomes.iter().filter(|(_, r)| r.is_ok()).map(|(id, _)| id).collect();
    let errors: Vec<Value> = outcomes
        .iter()
        .filter_map(|(id, r)| r.as_ref().err().map(|e| json!({ "entityId": id, "error": e.to_json() })))
        .collect();
    json_response(StatusCode::MULTI_STATUS, json!({ "success": success, "errors": errors }))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(http::JSON));
    res
}

fn created_ids(outcomes: &[(String, OpResult)]) -> Vec<&String> {
    outcomes.iter().filter(|(_, r)| matches!(r, Ok(OpOutcome::Created))).map(|(id, _)| id).collect()
}

/// `POST /entityOperations/create`.
pub async fn create(State(state): State<AppState>, caller: Caller, headers: HeaderMap, bytes: Bytes) -> NgsiResult {
    let planned = plan(&state, &headers, &bytes, BodyKind::Entity, |entity| WriteOp::Create { entity }).await?;
    let outcomes = run(&state, &caller, &headers, planned).await?;
    Ok(answer(&outcomes, |o| json_response(StatusCode::CREATED, json!(created_ids(o)))))
}

/// `POST /entityOperations/upsert` (`options=replace`, the default, or `update`).
pub async fn upsert(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let options = Params::parse(raw.as_deref())?.options(&["replace", "update"])?;
    let replace = !options.iter().any(|o| o == "update");
    let planned =
        plan(&state, &headers, &bytes, BodyKind::Entity, |entity| WriteOp::Upsert { entity, replace }).await?;
    let outcomes = run(&state, &caller, &headers, planned).await?;
    Ok(answer(&outcomes, |o| {
        let created = created_ids(o);
        if created.is_empty() { http::no_content() } else { json_response(StatusCode::CREATED, json!(created)) }
    }))
}

/// `POST /entityOperations/update` (`options=noOverwrite`).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let options = Params::parse(raw.as_deref())?.options(&["noOverwrite"])?;
    let no_overwrite = options.iter().any(|o| o == "noOverwrite");
    let planned = plan(&state, &headers, &bytes, BodyKind::Update, |e| WriteOp::Append {
        id: e.id.clone(),
        fragment: e,
        no_overwrite,
    })
    .await?;
    let mut outcomes = run(&state, &caller, &headers, planned).await?;
    // An attribute not written counts as a failure of that entity's update.
    for (_, r) in &mut outcomes {
        if let Ok(OpOutcome::Updated(u)) = r
            && !u.not_updated.is_empty()
        {
            let why: Vec<String> = u.not_updated.iter().map(|n| format!("{}: {}", n.attribute, n.reason)).collect();
            *r = Err(NgsiError::bad_data(format!("not updated: {}", why.join("; "))));
        }
    }
    Ok(answer(&outcomes, |_| http::no_content()))
}

/// `POST /entityOperations/merge`.
pub async fn merge(State(state): State<AppState>, caller: Caller, headers: HeaderMap, bytes: Bytes) -> NgsiResult {
    let planned =
        plan(&state, &headers, &bytes, BodyKind::Fragment, |e| WriteOp::Merge { id: e.id.clone(), fragment: e })
            .await?;
    let outcomes = run(&state, &caller, &headers, planned).await?;
    Ok(answer(&outcomes, |_| http::no_content()))
}

/// `POST /entityOperations/delete`: a JSON array of entity ids.
pub async fn delete(State(state): State<AppState>, caller: Caller, headers: HeaderMap, bytes: Bytes) -> NgsiResult {
    let body = http::body(&state, &headers, &bytes, false).await?;
    let planned: Planned = items(&body.value)?
        .iter()
        .map(|v| {
            let id = v.as_str().unwrap_or("").to_owned();
            let op = entity_id(&id).map(|id| WriteOp::Delete { id }).map_err(|p| p.0);
            (id, op)
        })
        .collect();
    let outcomes = run(&state, &caller, &headers, planned).await?;
    Ok(answer(&outcomes, |_| http::no_content()))
}
