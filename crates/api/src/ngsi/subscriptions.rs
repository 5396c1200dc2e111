//! Subscriptions (clauses 6.10 and 6.11 of ETSI GS CIM 009; the operations of clause 5.8):
//! create, query, retrieve, update, delete. What a change triggers is decided by the context
//! writer (`haidang-store`), what is sent by the [`notifier`](super::notifier).
//!
//! Access: reading subscriptions needs `context.read`, changing them `context.write` (creating
//! one, which reads data for its subscriber, needs both); a
//! subscription belongs to the unit of whoever created it, and the usual scope rule applies (a
//! commune's token sees and changes its own only; the province's sees all). A subscription
//! notifies only of entities its creator could read when it subscribed.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use haidang_core::{OrgUnitId, Permission};
use haidang_ngsi::subscription::{SUBSCRIPTION_ID_PREFIX, Subscription};
use haidang_ngsi::{ErrorKind, NgsiError};
use haidang_store::context::{NewSubscription, SubscriberReach, SubscriptionRow};
use serde_json::Value;

use super::access::Caller;
use super::entities::{DEFAULT_LIMIT, MAX_LIMIT, urlencoding};
use super::http::{self, NgsiResult, accept, respond};
use super::params::{Params, entity_id};
use crate::state::AppState;

/// The units whose subscriptions (and entities) `caller` may read: `None` for all of them.
/// Anonymous callers are refused (401), callers without `context.read` too (403).
fn read_units(state: &AppState, caller: &Caller) -> NgsiResult<Option<Vec<OrgUnitId>>> {
    let Some(authn) = caller.authn() else {
        return Err(NgsiError::new(
            ErrorKind::Unauthorized,
            "subscriptions need a token: send Authorization: Bearer hdt_…",
        )
        .into());
    };
    if !authn.principal.has(Permission::ContextRead) {
        return Err(NgsiError::new(ErrorKind::Forbidden, "needs the context.read permission").into());
    }
    let Some(roots) = authn.principal.scope(Permission::ContextRead) else { return Ok(None) };
    let tree = state.tree();
    if roots.iter().any(|r| tree.parent(*r).is_none()) {
        return Ok(None);
    }
    Ok(caller.visibility(state, "").units)
}

/// The subscription `id` in the URL, if `caller` may see it.
async fn visible(state: &AppState, caller: &Caller, headers: &HeaderMap, id: &str) -> NgsiResult<SubscriptionRow> {
    let id = entity_id(id)?;
    let tenant = http::existing_tenant(state, headers).await?;
    let units = read_units(state, caller)?;
    state
        .store
        .subscription(&tenant, &id, units.as_deref())
        .await?
        .ok_or_else(|| NgsiError::not_found(format!("no subscription {id}")).into())
}

/// The subscription `id` in the URL, if `caller` may see it and change it (`context.write` over
/// its owner).
async fn changeable(state: &AppState, caller: &Caller, headers: &HeaderMap, id: &str) -> NgsiResult<SubscriptionRow> {
    let row = visible(state, caller, headers, id).await?;
    let access = caller.write_access(state)?;
    let (Some(scope), Some(owner)) = (&access.scope, row.owner) else { return Ok(row) };
    let tree = state.tree();
    if scope.iter().any(|root| tree.is_within(owner, *root)) {
        Ok(row)
    } else {
        Err(NgsiError::new(
            ErrorKind::Forbidden,
            "this subscription belongs to a unit outside your context.write scope",
        )
        .into())
    }
}

/// How a read answers: the reader's context, `options=sysAttrs`, the media type.
struct Answer {
    ctx: std::sync::Arc<haidang_ngsi::Context>,
    sys_attrs: bool,
    want: http::Accept,
    params: Params,
}

async fn answer(state: &AppState, headers: &HeaderMap, raw: Option<&str>) -> NgsiResult<Answer> {
    let ctx = http::header_context(state, headers).await?;
    let params = Params::parse(raw)?;
    let sys_attrs = !params.options(&["sysAttrs"])?.is_empty();
    Ok(Answer { ctx, sys_attrs, want: accept(headers, false)?, params })
}

fn gone(row: &SubscriptionRow) -> http::Problem {
    NgsiError::not_found(format!("no subscription {}", row.subscription.id)).into()
}

fn audit(caller: &Caller) -> haidang_store::AuditCtx {
    caller.authn().map(|a| a.audit()).unwrap_or_else(|| haidang_store::AuditCtx::system("ngsi-ld"))
}

/// `POST /subscriptions` (clause 6.10.3.1).
pub async fn create(State(state): State<AppState>, caller: Caller, headers: HeaderMap, bytes: Bytes) -> NgsiResult {
    let tenant = http::tenant(&headers)?;
    let access = caller.write_access(&state)?;
    let units = read_units(&state, &caller)?;
    let body = http::body(&state, &headers, &bytes, false).await?;
    let mut sub = Subscription::parse(&body.value, &body.ctx, state.clock.now())?;
    if sub.id.is_empty() {
        sub.id = format!("{SUBSCRIPTION_ID_PREFIX}{}", uuid::Uuid::new_v4());
    }
    if let Some(url) = &sub.jsonld_context {
        // Refused now rather than failing every notification later.
        state.ngsi.contexts.resolve(&Value::String(url.clone())).await?;
    }
    let reach = SubscriberReach { units, types: access.types.clone() };
    let new = NewSubscription {
        tenant: &tenant,
        owner: access.unit,
        reach: &reach,
        subscription: &sub,
        context: &body.ctx.source(),
    };
    if !state.store.create_subscription(&audit(&caller), new).await? {
        return Err(NgsiError::new(ErrorKind::AlreadyExists, format!("subscription {} already exists", sub.id)).into());
    }
    let mut res = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/ngsi-ld/v1/subscriptions/{}", urlencoding(&sub.id))) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `GET /subscriptions` (clause 6.10.3.2).
pub async fn query(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let tenant = http::existing_tenant(&state, &headers).await?;
    let units = read_units(&state, &caller)?;
    let a = answer(&state, &headers, raw.as_deref()).await?;
    let page = a.params.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    let (rows, total) =
        state.store.list_subscriptions(&tenant, units.as_deref(), page.limit, page.offset, page.count).await?;
    let now = state.clock.now();
    let body =
        Value::Array(rows.iter().map(|r| r.subscription.render(&a.ctx, &r.delivery, now, a.sys_attrs)).collect());
    Ok(http::with_count(respond(&state, StatusCode::OK, body, &a.ctx, a.want), total))
}

/// `GET /subscriptions/{id}` (clause 6.11.3.1).
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> NgsiResult {
    let row = visible(&state, &caller, &headers, &id).await?;
    let a = answer(&state, &headers, raw.as_deref()).await?;
    let body = row.subscription.render(&a.ctx, &row.delivery, state.clock.now(), a.sys_attrs);
    Ok(respond(&state, StatusCode::OK, body, &a.ctx, a.want))
}

/// `PATCH /subscriptions/{id}` (clause 6.11.3.2).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NgsiResult {
    let row = changeable(&state, &caller, &headers, &id).await?;
    let body = http::body(&state, &headers, &bytes, true).await?;
    let patched = row.subscription.patch(&body.value, &body.ctx, state.clock.now())?;
    if let Some(url) = patched.jsonld_context.as_ref().filter(|u| row.subscription.jsonld_context.as_ref() != Some(*u))
    {
        state.ngsi.contexts.resolve(&Value::String(url.clone())).await?;
    }
    if !state.store.update_subscription(&audit(&caller), &row, &patched).await? {
        return Err(gone(&row));
    }
    Ok(http::no_content())
}

/// `DELETE /subscriptions/{id}` (clause 6.11.3.3): with its pending notifications.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> NgsiResult {
    let row = changeable(&state, &caller, &headers, &id).await?;
    if !state.store.delete_subscription(&audit(&caller), &row).await? {
        return Err(gone(&row));
    }
    Ok(http::no_content())
}
