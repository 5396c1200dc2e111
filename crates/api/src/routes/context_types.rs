//! The policies of context entity types: which types anyone may read without a token, and how
//! long their history is kept raw and as hourly aggregates (the retention job applies them).

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Need, perm};
use crate::state::AppState;
use axum::extract::State;
use haidang_core::Permission;
use haidang_core::validation::Checker;
use haidang_store::context::TypePolicy;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_policies, set_policy))
}

/// Days at most for either retention (a century).
const MAX_DAYS: u32 = 36_500;

#[utoipa::path(get, path = "/api/context/type-policies", tag = "context",
    responses((status = 200, body = Vec<TypePolicy>), (status = 403, body = Problem)))]
async fn list_policies(
    State(state): State<AppState>,
    _need: Need<perm::DevicesAdmin>,
) -> ApiResult<axum::Json<Vec<TypePolicy>>> {
    Ok(axum::Json(state.store.context_type_policies().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyPut {
    /// The NGSI-LD tenant; default: the province's ('').
    #[serde(default)]
    tenant: String,
    /// The entity type: a name of the core context's default vocabulary (`AirQualityObserved`)
    /// or a full IRI.
    #[serde(rename = "type")]
    entity_type: String,
    /// Readable by anyone without a token, with its history.
    open: bool,
    /// Days raw history is kept (1–36500); older numbers are folded into hourly aggregates,
    /// other values deleted. Null: for ever.
    raw_days: Option<u32>,
    /// Days hourly aggregates are kept (at least `raw_days`). Null: for ever.
    hourly_days: Option<u32>,
}

/// Sets the policy of an entity type (province-wide: needs devices.admin on the whole
/// province). Open types take effect at once; retention at the next hourly pass.
#[utoipa::path(put, path = "/api/context/type-policies", tag = "context", request_body = PolicyPut,
    responses((status = 200, body = TypePolicy), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn set_policy(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Json(req): Json<PolicyPut>,
) -> ApiResult<axum::Json<TypePolicy>> {
    let tree = state.tree();
    let province = tree.roots().first().copied();
    if !province.is_some_and(|root| need.principal.can_at(Permission::DevicesAdmin, root, &tree)) {
        return Err(ApiError::forbidden());
    }
    let mut check = Checker::new();
    let t = req.entity_type.trim();
    check.check(
        !t.is_empty() && t.len() <= 256 && !t.chars().any(char::is_whitespace),
        "type",
        "must be a type name or IRI without spaces",
    );
    check.check(req.tenant.len() <= 64, "tenant", "must be at most 64 characters");
    for (field, days) in [("raw_days", req.raw_days), ("hourly_days", req.hourly_days)] {
        check.check(days.is_none_or(|d| (1..=MAX_DAYS).contains(&d)), field, "must be between 1 and 36500 days");
    }
    if let (Some(raw), Some(hourly)) = (req.raw_days, req.hourly_days) {
        check.check(hourly >= raw, "hourly_days", "must be at least raw_days");
    }
    check.finish()?;
    let policy = TypePolicy {
        tenant: req.tenant,
        entity_type: haidang_ngsi::Context::core().expand(t),
        open: req.open,
        raw_days: req.raw_days,
        hourly_days: req.hourly_days,
    };
    state.store.set_context_type_policy(&need.audit(), &policy).await?;
    state.ngsi.set_open_types(state.store.open_context_types().await?);
    Ok(axum::Json(policy))
}
