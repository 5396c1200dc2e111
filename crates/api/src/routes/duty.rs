//! The IOC duty roster.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Need, Query, perm};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use haidang_core::{OrgUnitId, Permission, ShiftId, UserId};
use haidang_store::Shift;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_shifts, create_shift))
        .routes(routes!(on_duty))
        .routes(routes!(update_shift, delete_shift))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShiftQuery {
    /// Start of the period (RFC 3339); default: now − 1 day.
    from: Option<DateTime<Utc>>,
    /// End of the period (RFC 3339); default: from + 8 days. At most 62 days after `from`.
    to: Option<DateTime<Utc>>,
}

/// Shifts overlapping a period, in the units the caller may see.
#[utoipa::path(get, path = "/api/duty/shifts", tag = "duty", params(ShiftQuery), responses((status = 200, body = Vec<Shift>), (status = 422, body = Problem)))]
async fn list_shifts(
    State(state): State<AppState>,
    need: Need<perm::DutyRead>,
    Query(q): Query<ShiftQuery>,
) -> ApiResult<axum::Json<Vec<Shift>>> {
    let from = q.from.unwrap_or_else(|| state.clock.now() - Duration::days(1));
    let to = q.to.unwrap_or(from + Duration::days(8));
    if to <= from || to - from > Duration::days(62) {
        return Err(ApiError::field("to", "must be after from, and at most 62 days after it"));
    }
    let scope = need.principal.scope(Permission::DutyRead);
    Ok(axum::Json(state.store.list_shifts(from, to, scope.as_deref()).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnDuty {
    /// The shifts running now: "the IOC on duty" that escalations address.
    on_duty: Vec<Shift>,
}

#[utoipa::path(get, path = "/api/duty/current", tag = "duty", responses((status = 200, body = OnDuty)))]
async fn on_duty(State(state): State<AppState>, need: Need<perm::DutyRead>) -> ApiResult<axum::Json<OnDuty>> {
    let scope = need.principal.scope(Permission::DutyRead);
    Ok(axum::Json(OnDuty { on_duty: state.store.on_duty(scope.as_deref()).await? }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftCreate {
    user_id: i64,
    unit_id: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

/// Puts a person on duty for a unit (usually the IOC) for a period.
#[utoipa::path(post, path = "/api/duty/shifts", tag = "duty", request_body = ShiftCreate,
    responses((status = 201, body = Shift), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_shift(
    State(state): State<AppState>,
    need: Need<perm::DutyWrite>,
    Json(req): Json<ShiftCreate>,
) -> ApiResult<(StatusCode, axum::Json<Shift>)> {
    let unit = OrgUnitId(req.unit_id);
    let tree = state.tree();
    if !tree.contains(unit) {
        return Err(ApiError::field("unit_id", "no such unit"));
    }
    if !need.principal.can_at(Permission::DutyWrite, unit, &tree) {
        return Err(ApiError::forbidden());
    }
    let person = state.store.user(UserId(req.user_id)).await.map_err(|_| ApiError::field("user_id", "no such user"))?;
    if !person.active {
        return Err(ApiError::field("user_id", "the account is disabled"));
    }
    let shift = state.store.create_shift(&need.audit(), unit, person.id, req.starts_at, req.ends_at).await?;
    state.live.publish("duty", Some(unit), serde_json::json!({ "id": shift.id, "change": "create" }));
    Ok((StatusCode::CREATED, axum::Json(shift)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftUpdate {
    /// What the next shift must know. Null clears it.
    handover_note: Option<String>,
}

/// Writes the handover note. The person on the shift may write it, as may those who manage the roster.
#[utoipa::path(patch, path = "/api/duty/shifts/{id}", tag = "duty", params(("id" = i64, Path)), request_body = ShiftUpdate,
    responses((status = 200, body = Shift), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn update_shift(
    State(state): State<AppState>,
    need: Need<perm::DutyRead>,
    Path(id): Path<i64>,
    Json(req): Json<ShiftUpdate>,
) -> ApiResult<axum::Json<Shift>> {
    let shift = state.store.shift(ShiftId(id)).await?;
    let tree = state.tree();
    let own = need.principal.user_id() == Some(shift.user.id);
    let allowed = need.principal.can_at(Permission::DutyWrite, shift.unit.id, &tree)
        || (own && need.principal.can_at(Permission::DutyRead, shift.unit.id, &tree));
    if !allowed {
        return Err(ApiError::forbidden());
    }
    if req.handover_note.as_ref().is_some_and(|n| n.chars().count() > 4000) {
        return Err(ApiError::field("handover_note", "must be at most 4000 characters"));
    }
    let note = req.handover_note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let updated = state.store.set_handover_note(&need.audit(), shift.id, note).await?;
    state.live.publish("duty", Some(shift.unit.id), serde_json::json!({ "id": shift.id, "change": "handover" }));
    Ok(axum::Json(updated))
}

#[utoipa::path(delete, path = "/api/duty/shifts/{id}", tag = "duty", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_shift(
    State(state): State<AppState>,
    need: Need<perm::DutyWrite>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let shift = state.store.shift(ShiftId(id)).await?;
    if !need.principal.can_at(Permission::DutyWrite, shift.unit.id, &state.tree()) {
        return Err(ApiError::forbidden());
    }
    state.store.delete_shift(&need.audit(), shift.id).await?;
    state.live.publish("duty", Some(shift.unit.id), serde_json::json!({ "id": shift.id, "change": "delete" }));
    Ok(StatusCode::NO_CONTENT)
}
