//! The audit log: filter, export, verify.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Authn, Need, Query, perm};
use crate::routes::{Limit, page_params};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use haidang_core::{OrgUnitId, Permission};
use haidang_store::{AuditEntry, AuditFilter, ChainCheck, Cursor, Page};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit)).routes(routes!(export_audit)).routes(routes!(verify_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Username (or token name) of who acted.
    actor: Option<String>,
    /// An action (`user.create`) or a prefix of actions (`user`).
    action: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
    unit: Option<i64>,
    /// Free text: who acted, the action, the object id, the summary.
    q: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: Option<Limit>,
    cursor: Option<String>,
    /// For exports: `csv` or `xlsx`.
    format: Option<String>,
}

fn filter(
    state: &AppState,
    authn: &Authn,
    q: &AuditQuery,
    limit: usize,
    after: Option<Cursor>,
) -> ApiResult<AuditFilter> {
    for (name, value) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("object_type", &q.object_type),
        ("object_id", &q.object_id),
        ("q", &q.q),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 100) {
            return Err(ApiError::field(name, "must be at most 100 characters"));
        }
    }
    let scope = authn.principal.scope(Permission::AuditRead);
    let tree = state.tree();
    // Platform-wide entries (no unit) are for those whose grant covers the whole province.
    let include_unscoped = scope.as_ref().is_none_or(|roots| roots.iter().any(|r| tree.parent(*r).is_none()));
    Ok(AuditFilter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        object_type: q.object_type.clone(),
        object_id: q.object_id.clone(),
        unit: q.unit.map(OrgUnitId),
        q: q.q.clone(),
        from: q.from,
        to: q.to,
        scope,
        include_unscoped,
        limit,
        after,
    })
}

/// Entries about the units the caller may audit, newest first.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Page<AuditEntry>), (status = 400, body = Problem)))]
async fn list_audit(
    State(state): State<AppState>,
    need: Need<perm::AuditRead>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<Page<AuditEntry>>> {
    let (limit, after) = page_params(q.limit, q.cursor.as_deref())?;
    let f = filter(&state, &need, &q, limit, after)?;
    Ok(axum::Json(state.store.list_audit(&f).await?))
}

const EXPORT_MAX: usize = 100_000;
const COLUMNS: [&str; 12] = [
    "id",
    "at",
    "actor_kind",
    "actor",
    "action",
    "object_type",
    "object_id",
    "unit_id",
    "summary",
    "ip",
    "user_agent",
    "hash",
];

fn row(e: &AuditEntry) -> [String; 12] {
    [
        e.id.0.to_string(),
        e.at.to_rfc3339(),
        e.actor.kind.clone(),
        e.actor.name.clone(),
        e.action.clone(),
        e.object_type.clone(),
        e.object_id.clone().unwrap_or_default(),
        e.unit_id.map(|u| u.0.to_string()).unwrap_or_default(),
        e.summary.to_string(),
        e.ip.clone().unwrap_or_default(),
        e.user_agent.clone().unwrap_or_default(),
        e.hash.clone(),
    ]
}

/// The filtered log as CSV or XLSX (at most 100,000 entries).
#[utoipa::path(get, path = "/api/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "text/csv or XLSX"), (status = 422, body = Problem)))]
async fn export_audit(
    State(state): State<AppState>,
    need: Need<perm::AuditRead>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    let xlsx = crate::export::format_of(q.format.as_deref())?;
    let f = filter(&state, &need, &q, EXPORT_MAX, None)?;
    let entries = state.store.list_audit(&f).await?.items;
    let stamp = state.clock.now().format("%Y%m%d-%H%M%S").to_string();
    let rows = entries.iter().map(|e| row(e).to_vec()).collect();
    crate::export::table("audit", "Nhật ký", stamp, xlsx, &COLUMNS, rows).await
}

/// Recomputes the hash chain: `ok: false` names the first entry that was altered or removed.
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit", responses((status = 200, body = ChainCheck)))]
async fn verify_audit(
    State(state): State<AppState>,
    _need: Need<perm::AuditRead>,
) -> ApiResult<axum::Json<ChainCheck>> {
    Ok(axum::Json(state.store.verify_audit_chain().await?))
}
