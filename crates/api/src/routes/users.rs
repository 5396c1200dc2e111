//! Accounts and grants, administered within the administrator's subtree.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Authn, Json, Need, Query, perm};
use crate::routes::{Limit, page_params};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use haidang_auth::check_policy;
use haidang_core::validation::{self, Checker, text};
use haidang_core::{FieldCode, GrantId, OrgUnitId, Permission, Role, UserId};
use haidang_store::{Grant, NewUser, Page, User, UserFilter, UserPatch};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(reset_password))
        .routes(routes!(add_grant))
        .routes(routes!(remove_grant))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Search in names and usernames, ignoring diacritics.
    q: Option<String>,
    /// Only people whose home unit is this one.
    unit: Option<i64>,
    #[param(value_type = Option<String>)]
    role: Option<Role>,
    limit: Option<Limit>,
    cursor: Option<String>,
}

/// Lists the accounts whose home unit the caller may see.
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserQuery), responses((status = 200, body = Page<User>)))]
async fn list_users(
    State(state): State<AppState>,
    need: Need<perm::UsersRead>,
    Query(q): Query<UserQuery>,
) -> ApiResult<axum::Json<Page<User>>> {
    let (limit, after) = page_params(q.limit, q.cursor.as_deref())?;
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::field("q", "must be at most 100 characters"));
    }
    let filter = UserFilter {
        q: q.q,
        unit: q.unit.map(OrgUnitId),
        role: q.role,
        scope: need.principal.scope(Permission::UsersRead),
        limit,
        after,
    };
    Ok(axum::Json(state.store.list_users(&filter).await?))
}

/// Loads a user the caller may act on with `permission` (by the user's home unit).
async fn user_in_scope(state: &AppState, authn: &Authn, permission: Permission, id: i64) -> ApiResult<User> {
    let user = state.store.user(UserId(id)).await?;
    if !authn.principal.can_at(permission, user.home_unit.id, &state.tree()) {
        return Err(ApiError::forbidden());
    }
    Ok(user)
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_user(
    State(state): State<AppState>,
    need: Need<perm::UsersRead>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(user_in_scope(&state, &need, Permission::UsersRead, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    username: String,
    display_name: String,
    /// The initial password; the person must change it at first login.
    password: String,
    home_unit_id: i64,
    email: Option<String>,
    phone: Option<String>,
}

fn check_username(check: &mut Checker, u: &str) {
    let ok = (3..=40).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && u.as_bytes()[0].is_ascii_lowercase();
    check.check(ok, "username", "3–40 of a–z, 0–9, '.', '_' and '-', starting with a letter");
}

fn check_contact(check: &mut Checker, email: Option<&str>, phone: Option<&str>) {
    if let Some(e) = email {
        validation::email(check, "email", e);
    }
    if let Some(p) = phone {
        validation::phone(check, "phone", p);
    }
}

/// Creates an account in a unit the caller administers.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = UserCreate,
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    need: Need<perm::UsersWrite>,
    Json(req): Json<UserCreate>,
) -> ApiResult<(StatusCode, axum::Json<User>)> {
    let mut check = Checker::new();
    check_username(&mut check, &req.username);
    let display_name = text(&mut check, "display_name", &req.display_name, 120);
    check_contact(&mut check, req.email.as_deref(), req.phone.as_deref());
    check.nested("", check_policy(&req.password, &req.username));
    check.finish()?;
    let unit = OrgUnitId(req.home_unit_id);
    if !state.tree().contains(unit) {
        return Err(ApiError::field("home_unit_id", "no such unit"));
    }
    if !need.principal.can_at(Permission::UsersWrite, unit, &state.tree()) {
        return Err(ApiError::forbidden());
    }
    let hasher = state.hasher.clone();
    let password = req.password.clone();
    let hash = tokio::task::spawn_blocking(move || hasher.hash(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = state
        .store
        .create_user(
            &need.audit(),
            NewUser {
                username: req.username,
                display_name: display_name.unwrap_or_default(),
                email: req.email,
                phone: req.phone,
                home_unit: unit,
                password_hash: hash,
                must_change_password: !state.config.demo,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    display_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    /// False disables the account and ends its sessions.
    active: Option<bool>,
    home_unit_id: Option<i64>,
}

#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserUpdate,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn update_user(
    State(state): State<AppState>,
    need: Need<perm::UsersWrite>,
    Path(id): Path<i64>,
    Json(req): Json<UserUpdate>,
) -> ApiResult<axum::Json<User>> {
    let user = user_in_scope(&state, &need, Permission::UsersWrite, id).await?;
    let mut check = Checker::new();
    let display_name = req.display_name.as_deref().and_then(|n| text(&mut check, "display_name", n, 120));
    check_contact(&mut check, req.email.as_deref(), req.phone.as_deref());
    if req.active == Some(false) && need.principal.user_id() == Some(user.id) {
        check.push("active", "you cannot disable your own account");
    }
    check.finish()?;
    let home_unit = req.home_unit_id.map(OrgUnitId);
    if let Some(u) = home_unit {
        if !state.tree().contains(u) {
            return Err(ApiError::field("home_unit_id", "no such unit"));
        }
        if !need.principal.can_at(Permission::UsersWrite, u, &state.tree()) {
            return Err(ApiError::forbidden());
        }
    }
    let patch = UserPatch {
        display_name,
        email: req.email.map(Some),
        phone: req.phone.map(Some),
        active: req.active,
        locale: None,
        home_unit,
    };
    Ok(axum::Json(state.store.update_user(&need.audit(), user.id, patch).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    password: String,
}

/// Sets a new initial password (to be changed at next login) and ends the person's sessions.
#[utoipa::path(post, path = "/api/users/{id}/reset-password", tag = "users", params(("id" = i64, Path)), request_body = PasswordReset,
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn reset_password(
    State(state): State<AppState>,
    need: Need<perm::UsersWrite>,
    Path(id): Path<i64>,
    Json(req): Json<PasswordReset>,
) -> ApiResult<StatusCode> {
    let user = user_in_scope(&state, &need, Permission::UsersWrite, id).await?;
    check_policy(&req.password, &user.username)?;
    let hasher = state.hasher.clone();
    let hash = tokio::task::spawn_blocking(move || hasher.hash(&req.password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_password(&need.audit(), user.id, &hash, !state.config.demo, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantCreate {
    role: Role,
    unit_id: i64,
    /// Narrow the grant to these fields; empty for every field.
    #[serde(default)]
    fields: Vec<FieldCode>,
}

/// Gives a person a role on a unit's subtree. The caller must administer both the person and
/// the unit, so nobody hands out more than they hold.
#[utoipa::path(post, path = "/api/users/{id}/grants", tag = "users", params(("id" = i64, Path)), request_body = GrantCreate,
    responses((status = 201, body = Grant), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_grant(
    State(state): State<AppState>,
    need: Need<perm::UsersWrite>,
    Path(id): Path<i64>,
    Json(req): Json<GrantCreate>,
) -> ApiResult<(StatusCode, axum::Json<Grant>)> {
    let user = user_in_scope(&state, &need, Permission::UsersWrite, id).await?;
    let unit = OrgUnitId(req.unit_id);
    if !state.tree().contains(unit) {
        return Err(ApiError::field("unit_id", "no such unit"));
    }
    if !need.principal.can_at(Permission::UsersWrite, unit, &state.tree()) {
        return Err(ApiError::forbidden());
    }
    if req.fields.len() > 20 {
        return Err(ApiError::field("fields", "at most 20 fields"));
    }
    let grant = state.store.grant(&need.audit(), user.id, req.role, unit, &req.fields).await?;
    Ok((StatusCode::CREATED, axum::Json(grant)))
}

#[utoipa::path(delete, path = "/api/users/{id}/grants/{grant_id}", tag = "users", params(("id" = i64, Path), ("grant_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_grant(
    State(state): State<AppState>,
    need: Need<perm::UsersWrite>,
    Path((id, grant_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let user = user_in_scope(&state, &need, Permission::UsersWrite, id).await?;
    let grant = user.grants.iter().find(|g| g.id == GrantId(grant_id)).ok_or(ApiError::NotFound)?;
    if !need.principal.can_at(Permission::UsersWrite, grant.unit.id, &state.tree()) {
        return Err(ApiError::forbidden());
    }
    state.store.revoke_grant(&need.audit(), user.id, grant.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
