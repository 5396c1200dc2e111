//! Login, logout, the caller's own account, password change and two-factor setup.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Authn, CSRF_COOKIE, ClientInfo, Json, Restriction, SESSION_COOKIE, person};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use haidang_auth::{Totp, check_policy, new_secret};
use haidang_core::Permission;
use haidang_store::{AuditCtx, Change, Grant, LoginFailure, UnitRef, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me, update_me))
        .routes(routes!(change_password))
        .routes(routes!(totp_setup))
        .routes(routes!(totp_enable))
        .routes(routes!(totp_disable))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: String,
    /// The 6-digit code, for accounts with two-factor login.
    #[serde(default)]
    totp: Option<String>,
}

/// The caller's account, grants, and what the UI may offer them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    id: i64,
    username: String,
    display_name: String,
    home_unit: UnitRef,
    locale: String,
    must_change_password: bool,
    totp_enabled: bool,
    /// The role requires two-factor login and it is not set up yet.
    totp_required: bool,
    grants: Vec<Grant>,
    permissions: Vec<Permission>,
    modules: Vec<&'static str>,
    demo: bool,
}

fn modules(permissions: &[Permission]) -> Vec<&'static str> {
    let mut m = vec!["home"];
    let has = |p| permissions.contains(&p);
    if has(Permission::OrgRead) {
        m.push("org");
    }
    if has(Permission::UsersRead) {
        m.push("users");
    }
    if has(Permission::DutyRead) {
        m.push("duty");
    }
    if has(Permission::AuditRead) {
        m.push("audit");
    }
    if has(Permission::TokensManage) {
        m.push("tokens");
    }
    if has(Permission::ReportsRead) {
        m.extend(["reports", "reports-stats"]);
    }
    if has(Permission::ReportsAdmin) {
        m.push("reports-admin");
    }
    if has(Permission::ContextRead) {
        m.extend(["monitoring", "devices"]);
    }
    m.extend(["profile", "api-docs"]);
    m
}

fn me_of(state: &AppState, authn: &Authn) -> ApiResult<Me> {
    let user =
        authn.user.as_ref().ok_or(ApiError::Forbidden("API tokens have no account; use a person's login".into()))?;
    let permissions = authn.principal.permissions();
    Ok(Me {
        id: user.id.0,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        home_unit: user.home_unit.clone(),
        locale: user.locale.clone(),
        must_change_password: user.must_change_password,
        totp_enabled: user.totp_enabled,
        totp_required: authn.restriction == Some(Restriction::TotpSetup),
        grants: user.grants.clone(),
        modules: modules(&permissions),
        permissions,
        demo: state.config.demo,
    })
}

fn cookie_header(c: Cookie<'_>) -> HeaderValue {
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn session_cookies(state: &AppState, session: Option<(&str, &str)>) -> [HeaderValue; 2] {
    let secure = state.config.secure_cookies;
    let build = |name: &'static str, value: &str, http_only: bool| {
        let mut c = Cookie::build((name, value.to_owned()))
            .path("/")
            .http_only(http_only)
            .secure(secure)
            .same_site(SameSite::Strict)
            .build();
        if session.is_none() {
            c.make_removal();
        }
        cookie_header(c)
    };
    let (s, csrf) = session.unwrap_or(("", ""));
    [build(SESSION_COOKIE, s, true), build(CSRF_COOKIE, csrf, false)]
}

/// Starts a session. Answers the account on success and sets the `hd_session` (HttpOnly) and
/// `hd_csrf` cookies; the CSRF value must be sent back as `X-CSRF-Token` on every change.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401, body = Problem), (status = 423, body = Problem), (status = 429, body = Problem)))]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    if req.username.is_empty() || req.username.len() > 100 || req.password.len() > 1024 {
        return Err(ApiError::Unauthenticated("wrong username or password"));
    }
    let ip_key = client.ip.clone().unwrap_or_default();
    for (limiter, key) in [(&state.login_by_ip, ip_key), (&state.login_by_user, req.username.to_lowercase())] {
        limiter.attempt(&key).map_err(|d| ApiError::RateLimited { retry_after_secs: d.as_secs().max(1) })?;
    }
    let ctx = AuditCtx {
        actor: haidang_store::Actor { kind: "user".into(), id: None, name: req.username.clone() },
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        request_id: client.request_id.clone(),
    };
    let Some(creds) = state.store.credentials(&req.username).await? else {
        state.hasher.verify_dummy(&req.password);
        return Err(ApiError::Unauthenticated("wrong username or password"));
    };
    let ctx = AuditCtx { actor: haidang_store::Actor { id: Some(creds.user_id.0), ..ctx.actor }, ..ctx };
    let now = state.clock.now();
    if creds.locked_until.is_some_and(|t| t > now) {
        return Err(ApiError::Locked);
    }
    let hasher = state.hasher.clone();
    let (password, hash) = (req.password.clone(), creds.password_hash.clone());
    let _permit = state.hashing.acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let ok = tokio::task::spawn_blocking(move || hasher.verify(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ok || !creds.active {
        return match state
            .store
            .login_failed(&ctx, creds.user_id, state.config.lockout_failures, state.config.lockout_for)
            .await?
        {
            LoginFailure::LockedNow { .. } => Err(ApiError::Locked),
            LoginFailure::Counted { .. } => Err(ApiError::Unauthenticated("wrong username or password")),
        };
    }
    if creds.totp_enabled {
        let code = req.totp.as_deref().ok_or(ApiError::TotpRequired)?;
        let secret = creds.totp_secret.as_deref().unwrap_or("");
        let valid = Totp::from_base32(secret, "Hải Đăng", &req.username)
            .map(|t| t.check(code, now.timestamp().max(0) as u64))
            .unwrap_or(false);
        if !valid {
            state
                .store
                .login_failed(&ctx, creds.user_id, state.config.lockout_failures, state.config.lockout_for)
                .await?;
            return Err(ApiError::TotpRequired);
        }
    }
    state.store.login_succeeded(&ctx, creds.user_id).await?;
    let session = new_secret("hds_");
    let csrf = new_secret("");
    state
        .store
        .create_session(
            &session.hash,
            creds.user_id,
            &csrf.value,
            now + state.config.session_idle,
            client.ip.as_deref(),
            client.user_agent.as_deref(),
        )
        .await?;
    let authn = person(&state, creds.user_id, session.hash.clone(), client).await?;
    let body = me_of(&state, &authn)?;
    let mut headers = HeaderMap::new();
    for c in session_cookies(&state, Some((&session.value, &csrf.value))) {
        headers.append(header::SET_COOKIE, c);
    }
    Ok((headers, axum::Json(body)).into_response())
}

/// Ends the session and clears its cookies.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(State(state): State<AppState>, authn: Authn) -> ApiResult<Response> {
    if let Some(hash) = &authn.session_hash {
        state.store.delete_session(hash).await?;
        state
            .store
            .record(&authn.audit(), Change::new("auth.logout", "user", authn.principal.user_id().map_or(0, |u| u.0)))
            .await?;
    }
    let mut headers = HeaderMap::new();
    for c in session_cookies(&state, None) {
        headers.append(header::SET_COOKIE, c);
    }
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// The caller's account, grants, permissions and modules.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(State(state): State<AppState>, authn: Authn) -> ApiResult<axum::Json<Me>> {
    Ok(axum::Json(me_of(&state, &authn)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    display_name: Option<String>,
    /// `vi` or `en`.
    locale: Option<String>,
}

/// Changes the caller's display name or interface language.
#[utoipa::path(patch, path = "/api/auth/me", tag = "auth", request_body = MePatch, responses((status = 200, body = Me)))]
async fn update_me(
    State(state): State<AppState>,
    authn: Authn,
    Json(patch): Json<MePatch>,
) -> ApiResult<axum::Json<Me>> {
    let user = authn.user.as_ref().ok_or(ApiError::Forbidden("API tokens have no account".into()))?;
    let mut check = haidang_core::validation::Checker::new();
    let display_name =
        patch.display_name.as_deref().and_then(|n| haidang_core::validation::text(&mut check, "display_name", n, 120));
    if let Some(l) = &patch.locale {
        check.check(matches!(l.as_str(), "vi" | "en"), "locale", "must be vi or en");
    }
    check.finish()?;
    let updated = state
        .store
        .update_user(&authn.audit(), user.id, UserPatch { display_name, locale: patch.locale, ..Default::default() })
        .await?;
    let authn = Authn { user: Some(updated), ..authn };
    Ok(axum::Json(me_of(&state, &authn)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password; other sessions of the account end.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = Problem)))]
async fn change_password(
    State(state): State<AppState>,
    authn: Authn,
    Json(req): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let user = authn.user.as_ref().ok_or(ApiError::Forbidden("API tokens have no account".into()))?;
    let creds = state.store.credentials(&user.username).await?.ok_or(ApiError::NotFound)?;
    let hasher = state.hasher.clone();
    let (current, stored) = (req.current_password.clone(), creds.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || hasher.verify(&current, &stored))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ok {
        return Err(ApiError::field("current_password", "is not your current password"));
    }
    check_policy(&req.new_password, &user.username).map_err(|e| {
        ApiError::Invalid(
            e.0.into_iter()
                .map(|f| haidang_core::FieldError { field: "new_password".into(), reason: f.reason })
                .collect(),
        )
    })?;
    if req.new_password == req.current_password {
        return Err(ApiError::field("new_password", "must differ from the current password"));
    }
    let hasher = state.hasher.clone();
    let new = req.new_password.clone();
    let hash =
        tokio::task::spawn_blocking(move || hasher.hash(&new)).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_password(&authn.audit(), user.id, &hash, false, authn.session_hash.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSetup {
    /// Base32 secret to type into an authenticator app.
    secret: String,
    otpauth_url: String,
}

/// Makes a new second-factor secret (not active until confirmed with a code).
#[utoipa::path(post, path = "/api/auth/totp/setup", tag = "auth", responses((status = 200, body = TotpSetup)))]
async fn totp_setup(State(state): State<AppState>, authn: Authn) -> ApiResult<axum::Json<TotpSetup>> {
    let user = authn.user.as_ref().ok_or(ApiError::Forbidden("API tokens have no account".into()))?;
    if user.totp_enabled {
        return Err(ApiError::Conflict("two-factor login is already on; turn it off first".into()));
    }
    let totp = Totp::generate("Hải Đăng", &user.username).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_totp(&authn.audit(), user.id, Some(&totp.secret_base32()), false).await?;
    Ok(axum::Json(TotpSetup { secret: totp.secret_base32(), otpauth_url: totp.url() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    code: String,
}

async fn check_code(state: &AppState, authn: &Authn, code: &str) -> ApiResult<haidang_core::UserId> {
    let user = authn.user.as_ref().ok_or(ApiError::Forbidden("API tokens have no account".into()))?;
    let creds = state.store.credentials(&user.username).await?.ok_or(ApiError::NotFound)?;
    let secret = creds.totp_secret.ok_or(ApiError::Conflict("start with /api/auth/totp/setup".into()))?;
    let totp = Totp::from_base32(&secret, "Hải Đăng", &user.username).map_err(|e| ApiError::Internal(e.to_string()))?;
    if !totp.check(code, state.clock.now().timestamp().max(0) as u64) {
        return Err(ApiError::field("code", "is not the current code"));
    }
    Ok(user.id)
}

/// Turns two-factor login on, once the code from the new secret is right.
#[utoipa::path(post, path = "/api/auth/totp/enable", tag = "auth", request_body = TotpCode, responses((status = 204), (status = 422, body = Problem)))]
async fn totp_enable(State(state): State<AppState>, authn: Authn, Json(req): Json<TotpCode>) -> ApiResult<StatusCode> {
    let id = check_code(&state, &authn, &req.code).await?;
    let secret = state
        .store
        .credentials(&authn.user.as_ref().map(|u| u.username.clone()).unwrap_or_default())
        .await?
        .and_then(|c| c.totp_secret);
    state.store.set_totp(&authn.audit(), id, secret.as_deref(), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns two-factor login off (refused for roles that require it, outside the demo).
#[utoipa::path(post, path = "/api/auth/totp/disable", tag = "auth", request_body = TotpCode, responses((status = 204), (status = 403, body = Problem)))]
async fn totp_disable(State(state): State<AppState>, authn: Authn, Json(req): Json<TotpCode>) -> ApiResult<StatusCode> {
    if !state.config.demo && authn.roles.iter().any(|r| r.requires_totp()) {
        return Err(ApiError::Forbidden("your role requires two-factor login".into()));
    }
    let id = check_code(&state, &authn, &req.code).await?;
    state.store.set_totp(&authn.audit(), id, None, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
