//! The audit log: filter, export, verify.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Authn, Need, Query, perm};
use crate::routes::{Limit, page_params};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
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
    let format = q.format.clone().unwrap_or_else(|| "csv".into());
    if !matches!(format.as_str(), "csv" | "xlsx") {
        return Err(ApiError::field("format", "must be csv or xlsx"));
    }
    let f = filter(&state, &need, &q, EXPORT_MAX, None)?;
    let entries = state.store.list_audit(&f).await?.items;
    let stamp = state.clock.now().format("%Y%m%d-%H%M%S");
    if format == "csv" {
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| ApiError::Internal(e.to_string());
        w.write_record(COLUMNS).map_err(io)?;
        for e in &entries {
            w.write_record(row(e)).map_err(io)?;
        }
        let mut body = b"\xEF\xBB\xBF".to_vec(); // BOM, so spreadsheet programs read UTF-8 Vietnamese correctly
        body.extend(w.into_inner().map_err(|e| ApiError::Internal(e.to_string()))?);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"audit-{stamp}.csv\"")),
            ],
            body,
        )
            .into_response());
    }
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("Nhật ký")?;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (c, name) in COLUMNS.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &bold)?;
        }
        for (r, e) in entries.iter().enumerate() {
            for (c, v) in row(e).iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, v)?;
            }
        }
        sheet.autofilter(0, 0, entries.len() as u32, COLUMNS.len() as u16 - 1)?;
        sheet.set_freeze_panes(1, 0)?;
        book.save_to_buffer()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"audit-{stamp}.xlsx\"")),
        ],
        bytes,
    )
        .into_response())
}

/// Recomputes the hash chain: `ok: false` names the first entry that was altered or removed.
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit", responses((status = 200, body = ChainCheck)))]
async fn verify_audit(
    State(state): State<AppState>,
    _need: Need<perm::AuditRead>,
) -> ApiResult<axum::Json<ChainCheck>> {
    Ok(axum::Json(state.store.verify_audit_chain().await?))
}
