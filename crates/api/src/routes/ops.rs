//! Operations and reference data: health, readiness, metrics, UI configuration, roles, fields.

use crate::error::{ApiError, ApiResult};
use crate::extract::Authn;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use haidang_core::{Permission, Role};
use haidang_store::FieldInfo;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(ui_config))
        .routes(routes!(roles))
        .routes(routes!(fields))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "ok")))]
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: the store answers.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, description = "ready"), (status = 503, description = "not ready")))]
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.render())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceInfo {
    code: String,
    name: String,
    lat: Option<f64>,
    lon: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UiConfig {
    province: Option<ProvinceInfo>,
    /// Base-map tiles (`{z}/{x}/{y}`); null for none. The map draws its own layers without it.
    tile_url: Option<String>,
    tile_attribution: String,
    /// This server runs the demo province: its invented data is marked as such.
    demo: bool,
    version: &'static str,
}

/// What the web UI needs before login.
#[utoipa::path(get, path = "/api/ui-config", tag = "ops", responses((status = 200, body = UiConfig)))]
async fn ui_config(State(state): State<AppState>) -> ApiResult<axum::Json<UiConfig>> {
    let root = state.store.root_unit().await?;
    Ok(axum::Json(UiConfig {
        province: root.map(|u| ProvinceInfo { code: u.code, name: u.name, lat: u.lat, lon: u.lon }),
        tile_url: state.config.tile_url.clone(),
        tile_attribution: state.config.tile_attribution.clone(),
        demo: state.config.demo,
        version: env!("CARGO_PKG_VERSION"),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInfo {
    role: Role,
    name_vi: &'static str,
    name_en: &'static str,
    permissions: &'static [Permission],
    /// Needs two-factor login outside the demo.
    requires_totp: bool,
}

/// The roles and what each may do.
#[utoipa::path(get, path = "/api/roles", tag = "users", responses((status = 200, body = Vec<RoleInfo>)))]
async fn roles(_authn: Authn) -> axum::Json<Vec<RoleInfo>> {
    axum::Json(
        Role::ALL
            .into_iter()
            .map(|r| RoleInfo {
                role: r,
                name_vi: r.name_vi(),
                name_en: r.name_en(),
                permissions: r.permissions(),
                requires_totp: r.requires_totp(),
            })
            .collect(),
    )
}

/// The fields (lĩnh vực) a grant can be narrowed to.
#[utoipa::path(get, path = "/api/fields", tag = "users", responses((status = 200, body = Vec<FieldInfo>)))]
async fn fields(State(state): State<AppState>, _authn: Authn) -> ApiResult<axum::Json<Vec<FieldInfo>>> {
    state.store.fields().await.map(axum::Json).map_err(ApiError::from)
}
