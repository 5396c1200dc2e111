//! API tokens for machine clients.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Need, perm};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use haidang_auth::new_secret;
use haidang_core::validation::{Checker, text};
use haidang_core::{OrgUnitId, Permission, TokenId};
use haidang_store::{ApiToken, NewToken};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tokens, create_token)).routes(routes!(revoke_token))
}

#[utoipa::path(get, path = "/api/tokens", tag = "tokens", responses((status = 200, body = Vec<ApiToken>)))]
async fn list_tokens(
    State(state): State<AppState>,
    need: Need<perm::TokensManage>,
) -> ApiResult<axum::Json<Vec<ApiToken>>> {
    let scope = need.principal.scope(Permission::TokensManage);
    Ok(axum::Json(state.store.list_tokens(scope.as_deref()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    name: String,
    /// The subtree the token reaches.
    unit_id: i64,
    permissions: Vec<Permission>,
    /// Context data only of these entity types (names of the core context's default
    /// vocabulary, like `AirQualityObserved`, or full IRIs); absent = every type.
    #[serde(default)]
    entity_types: Option<Vec<String>>,
    /// At most a year ahead; default 90 days.
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    info: ApiToken,
    /// The secret, shown this once: send it as `Authorization: Bearer <token>`.
    token: String,
}

/// Makes a token. It can hold only permissions the caller holds on that unit.
#[utoipa::path(post, path = "/api/tokens", tag = "tokens", request_body = TokenCreate,
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_token(
    State(state): State<AppState>,
    need: Need<perm::TokensManage>,
    Json(req): Json<TokenCreate>,
) -> ApiResult<(StatusCode, axum::Json<CreatedToken>)> {
    let mut check = Checker::new();
    let name = text(&mut check, "name", &req.name, 100);
    check.check(!req.permissions.is_empty(), "permissions", "name at least one permission");
    if let Some(types) = &req.entity_types {
        check.check(!types.is_empty() && types.len() <= 50, "entity_types", "name between 1 and 50 types");
        for (i, t) in types.iter().enumerate() {
            check.check(
                !t.is_empty() && t.len() <= 256 && !t.chars().any(char::is_whitespace),
                &format!("entity_types[{i}]"),
                "must be a type name or IRI without spaces",
            );
        }
    }
    let now = state.clock.now();
    let expires_at = req.expires_at.unwrap_or(now + Duration::days(90));
    check.check(
        expires_at > now && expires_at <= now + Duration::days(366),
        "expires_at",
        "must be in the future and at most a year ahead",
    );
    check.finish()?;
    let unit = OrgUnitId(req.unit_id);
    let tree = state.tree();
    if !tree.contains(unit) {
        return Err(ApiError::field("unit_id", "no such unit"));
    }
    if !need.principal.can_at(Permission::TokensManage, unit, &tree) {
        return Err(ApiError::forbidden());
    }
    if let Some(p) = req.permissions.iter().find(|p| !need.principal.can_at(**p, unit, &tree)) {
        return Err(ApiError::Forbidden(format!("you do not hold {} on this unit", p.as_str())));
    }
    let mut permissions = req.permissions;
    permissions.sort();
    permissions.dedup();
    let secret = new_secret("hdt_");
    let info = state
        .store
        .create_token(
            &need.audit(),
            NewToken {
                name: name.unwrap_or_default(),
                secret_hash: secret.hash,
                unit,
                permissions,
                entity_types: req.entity_types.map(|types| {
                    let core = haidang_ngsi::Context::core();
                    types.iter().map(|t| core.expand(t)).collect()
                }),
                expires_at: Some(expires_at),
                created_by: need.principal.user_id(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedToken { info, token: secret.value })))
}

#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    need: Need<perm::TokensManage>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let token = state.store.token(TokenId(id)).await?;
    if !need.principal.can_at(Permission::TokensManage, token.unit.id, &state.tree()) {
        return Err(ApiError::forbidden());
    }
    state.store.revoke_token(&need.audit(), token.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
