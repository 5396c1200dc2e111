//! The connectors' HTTP API: configure pulls and imports, upload files, run a pull now, health.
//!
//! Reading needs `context.read`, changing `devices.admin`, on the connector's owning unit.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use haidang_core::validation::{Checker, text};
use haidang_core::{FieldError, OrgUnitId, Permission};
use haidang_devices::{DeviceId, ImportConfig, PullConfig};
use haidang_store::context::{Connector, ConnectorKind, ConnectorPatch, NewConnector};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::files::{FileKind, records};
use super::pull::RunOutcome;
use super::{MAX_FILE_BYTES, MAX_RECORDS, map_records, write};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Need, perm};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connectors, create_connector))
        .routes(routes!(get_connector, update_connector, delete_connector))
        .routes(routes!(run_connector))
        .merge(OpenApiRouter::new().routes(routes!(upload)).layer(DefaultBodyLimit::max(MAX_FILE_BYTES)))
}

/// A connector as shown: request header values of pulls are masked (they hold keys).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorView {
    #[serde(flatten)]
    connector: Connector,
}

fn view(mut connector: Connector) -> ConnectorView {
    if let Some(Value::Object(headers)) = connector.config.get_mut("headers") {
        for v in headers.values_mut() {
            *v = Value::String("••••".into());
        }
    }
    ConnectorView { connector }
}

#[utoipa::path(get, path = "/api/connectors", tag = "connectors", responses((status = 200, body = Vec<ConnectorView>)))]
async fn list_connectors(
    State(state): State<AppState>,
    need: Need<perm::ContextRead>,
) -> ApiResult<axum::Json<Vec<ConnectorView>>> {
    let scope = need.principal.scope(Permission::ContextRead);
    Ok(axum::Json(state.store.connectors(scope.as_deref()).await?.into_iter().map(view).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorCreate {
    /// 1–64 of A–Z a–z 0–9 _ - .
    id: String,
    name: String,
    unit_id: i64,
    /// pull or import.
    #[schema(value_type = String)]
    kind: Kind,
    /// A pull: `{url, everySecs, headers?, items?, mapping}`; an import: `{sheet?, mapping}`.
    #[schema(value_type = Object)]
    config: Value,
    #[serde(default)]
    tenant: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Pull,
    Import,
}

/// Checks `config` for `kind`, naming the member at fault.
fn check_config(check: &mut Checker, kind: ConnectorKind, config: &Value) {
    let checked = match kind {
        ConnectorKind::Pull => serde_json::from_value::<PullConfig>(config.clone())
            .map_err(|e| ("config".to_owned(), e.to_string()))
            .and_then(|c| c.validate()),
        ConnectorKind::Import => serde_json::from_value::<ImportConfig>(config.clone())
            .map_err(|e| ("config".to_owned(), e.to_string()))
            .and_then(|c| c.validate()),
    };
    if let Err((field, reason)) = checked {
        let field = if field == "config" { field } else { format!("config.{field}") };
        check.push(&field, reason);
    }
}

#[utoipa::path(post, path = "/api/connectors", tag = "connectors", request_body = ConnectorCreate,
    responses((status = 201, body = ConnectorView), (status = 403, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn create_connector(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Json(req): Json<ConnectorCreate>,
) -> ApiResult<(StatusCode, axum::Json<ConnectorView>)> {
    let kind = match req.kind {
        Kind::Pull => ConnectorKind::Pull,
        Kind::Import => ConnectorKind::Import,
    };
    let mut check = Checker::new();
    if let Err(reason) = DeviceId::parse(&req.id) {
        check.push("id", reason);
    }
    let name = text(&mut check, "name", &req.name, 200);
    check_config(&mut check, kind, &req.config);
    check.finish()?;
    let unit = crate::devices::routes::source_owner(&state, &need, req.unit_id, &req.tenant).await?;
    let new = NewConnector {
        id: req.id,
        tenant: req.tenant,
        kind,
        name: name.unwrap_or_default(),
        owner: unit,
        config: req.config,
    };
    let created = state.store.create_connector(&need.audit(), new).await?;
    Ok((StatusCode::CREATED, axum::Json(view(created))))
}

async fn visible(state: &AppState, may: impl Fn(OrgUnitId) -> bool, id: &str) -> ApiResult<Connector> {
    let connector = state.store.connector(id).await?;
    if !may(connector.owner.id) {
        return Err(ApiError::NotFound);
    }
    Ok(connector)
}

#[utoipa::path(get, path = "/api/connectors/{id}", tag = "connectors", params(("id" = String, Path)),
    responses((status = 200, body = ConnectorView), (status = 404, body = Problem)))]
async fn get_connector(
    State(state): State<AppState>,
    need: Need<perm::ContextRead>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConnectorView>> {
    let tree = state.tree();
    let c = visible(&state, |u| need.principal.can_at(Permission::ContextRead, u, &tree), &id).await?;
    Ok(axum::Json(view(c)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorUpdate {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    config: Option<Value>,
    enabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/connectors/{id}", tag = "connectors", params(("id" = String, Path)),
    request_body = ConnectorUpdate,
    responses((status = 200, body = ConnectorView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_connector(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Path(id): Path<String>,
    Json(req): Json<ConnectorUpdate>,
) -> ApiResult<axum::Json<ConnectorView>> {
    let tree = state.tree();
    let c = visible(&state, |u| need.principal.can_at(Permission::DevicesAdmin, u, &tree), &id).await?;
    let mut check = Checker::new();
    let name = req.name.as_deref().and_then(|n| text(&mut check, "name", n, 200));
    if let Some(config) = &req.config {
        check_config(&mut check, c.kind, config);
    }
    check.finish()?;
    let patch = ConnectorPatch { name, config: req.config, enabled: req.enabled };
    Ok(axum::Json(view(state.store.update_connector(&need.audit(), &c.id, patch).await?)))
}

#[utoipa::path(delete, path = "/api/connectors/{id}", tag = "connectors", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_connector(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let tree = state.tree();
    let c = visible(&state, |u| need.principal.can_at(Permission::DevicesAdmin, u, &tree), &id).await?;
    state.store.delete_connector(&need.audit(), &c.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs a pull now (it also runs on its schedule); the outcome is recorded in its health.
#[utoipa::path(post, path = "/api/connectors/{id}/run", tag = "connectors", params(("id" = String, Path)),
    responses((status = 200, body = RunOutcome), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn run_connector(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RunOutcome>> {
    let tree = state.tree();
    let c = visible(&state, |u| need.principal.can_at(Permission::DevicesAdmin, u, &tree), &id).await?;
    if c.kind != ConnectorKind::Pull {
        return Err(ApiError::field("id", "only pull connectors run; upload a file to an import connector"));
    }
    Ok(axum::Json(super::pull::run(&state, &c).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    /// Data rows read (blank rows skipped).
    rows: usize,
    /// Entities created or updated.
    written: usize,
}

/// Imports a CSV (UTF-8) or XLSX file sent as the request body with its content type. Every
/// row is checked first: if any row cannot be mapped, nothing is written and the answer lists
/// the rows at fault (`rows[N].column`).
#[utoipa::path(post, path = "/api/connectors/{id}/upload", tag = "connectors", params(("id" = String, Path)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Imported), (status = 404, body = Problem), (status = 413, body = Problem),
              (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn upload(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<Imported>)> {
    let tree = state.tree();
    let c = visible(&state, |u| need.principal.can_at(Permission::DevicesAdmin, u, &tree), &id).await?;
    if c.kind != ConnectorKind::Import {
        return Err(ApiError::field("id", "files go to import connectors; this one pulls"));
    }
    let cfg: ImportConfig =
        serde_json::from_value(c.config.clone()).map_err(|e| ApiError::Internal(format!("stored config: {e}")))?;
    let content_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let kind = FileKind::detect(content_type, &body).ok_or(ApiError::UnsupportedMediaType)?;
    let outcome = records(kind, &body, cfg.sheet.as_deref(), MAX_RECORDS);
    let rows = match outcome {
        Ok(rows) => rows,
        Err(reason) => {
            let _ = state.store.record_connector_run(&c.id, Err(&reason)).await;
            return Err(ApiError::field("file", reason));
        }
    };
    // Row numbers as the sheet shows them: the header is row 1.
    let (entities, refused) = map_records(&cfg.mapping, &rows, 2, &state);
    if !refused.is_empty() {
        let summary = format!(
            "{} of {} rows refused; first: row {}: {}",
            refused.len(),
            rows.len(),
            refused[0].record,
            refused[0].reason
        );
        let _ = state.store.record_connector_run(&c.id, Err(&summary)).await;
        return Err(ApiError::Invalid(
            refused
                .into_iter()
                .take(100)
                .map(|r| {
                    let (column, why) = r.reason.split_once(": ").unwrap_or(("", &r.reason));
                    FieldError { field: format!("rows[{}].{column}", r.record), reason: why.to_owned() }
                })
                .collect(),
        ));
    }
    let written = write(&state, &c, &cfg.mapping, entities).await?;
    state.store.record_connector_run(&c.id, Ok(written)).await?;
    Ok((StatusCode::CREATED, axum::Json(Imported { rows: rows.len(), written })))
}
