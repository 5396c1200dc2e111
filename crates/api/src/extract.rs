//! Request extractors: JSON and query parsing that report the offending field, the caller's
//! identity, and the permission each endpoint declares it needs.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::{Method, header, request::Parts};
use haidang_auth::{hash_secret, parse_api_token};
use haidang_core::{Capability, Permission, Principal, PrincipalKind, Role, UserId};
use haidang_store::{AuditCtx, User};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "hd_session";
pub const CSRF_COOKIE: &str = "hd_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body. Refuses other media types, syntax errors (400) and values that do not fit the
/// type — wrong types, unknown or missing fields — with the field's path (422).
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedJson(e.body_text())
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses JSON, telling a syntax error from a value that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::field(&field, strip_position(&inner.to_string()))
            }
            _ => ApiError::MalformedJson(inner.to_string()),
        }
    })
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Query parameters, refused field by field like JSON bodies.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        if query.len() > 4096 {
            return Err(ApiError::field("query", "the query string is too long"));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Query).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "query".to_owned() } else { path };
            ApiError::field(&field, e.into_inner().to_string())
        })
    }
}

/// Where a request came from, as recorded in the audit log.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let forwarded = if state.config.trust_proxy {
            header("x-forwarded-for").and_then(|v| v.split(',').next().map(|s| s.trim().to_owned()))
        } else {
            None
        };
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientInfo {
            ip: forwarded.or(peer),
            user_agent: header("user-agent").map(|ua| ua.chars().take(300).collect()),
            request_id: header("x-request-id"),
        })
    }
}

/// Why an authenticated person may still do nothing but fix their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    PasswordChange,
    TotpSetup,
}

/// The authenticated caller: a person by session cookie or a machine by bearer token.
#[derive(Debug, Clone)]
pub struct Authn {
    pub principal: Principal,
    pub user: Option<User>,
    pub roles: Vec<Role>,
    pub session_hash: Option<String>,
    pub restriction: Option<Restriction>,
    pub client: ClientInfo,
    /// A token limited to some entity types (expanded IRIs) reaches only those in context data.
    pub entity_types: Option<Vec<String>>,
}

impl Authn {
    pub fn audit(&self) -> AuditCtx {
        AuditCtx {
            actor: (&self.principal.kind).into(),
            ip: self.client.ip.clone(),
            user_agent: self.client.user_agent.clone(),
            request_id: self.client.request_id.clone(),
        }
    }
}

pub fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for Authn
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(a) = parts.extensions.get::<Authn>() {
            return Ok(a.clone());
        }
        let state = AppState::from_ref(state);
        let client = <ClientInfo as FromRequestParts<AppState>>::from_request_parts(parts, &state).await?;
        let authn = if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let value = auth.to_str().map_err(|_| ApiError::Unauthenticated("the Authorization header is not text"))?;
            let token = value
                .strip_prefix("Bearer ")
                .and_then(parse_api_token)
                .ok_or(ApiError::Unauthenticated("use Authorization: Bearer hdt_…"))?;
            let found = state
                .store
                .usable_token(&hash_secret(token))
                .await?
                .ok_or(ApiError::Unauthenticated("the token is unknown, revoked or expired"))?;
            let store = state.store.clone();
            let id = found.id;
            tokio::spawn(async move {
                if let Err(e) = store.token_used(id).await {
                    tracing::warn!(error = %e, "could not record token use");
                }
            });
            Authn {
                principal: Principal {
                    kind: PrincipalKind::Token { id: found.id, name: found.name },
                    capabilities: vec![Capability {
                        permissions: found.permissions,
                        unit: found.unit.id,
                        fields: vec![],
                    }],
                },
                user: None,
                roles: vec![],
                session_hash: None,
                restriction: None,
                client,
                entity_types: found.entity_types,
            }
        } else {
            let cookie = cookie_value(parts, SESSION_COOKIE).ok_or(ApiError::Unauthenticated("log in first"))?;
            let hash = hash_secret(&cookie);
            let session = state
                .store
                .session(&hash)
                .await?
                .ok_or(ApiError::Unauthenticated("the session has ended; log in again"))?;
            if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
                let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
                if !bool::from(sent.as_bytes().ct_eq(session.csrf_token.as_bytes())) {
                    return Err(ApiError::Csrf);
                }
            }
            let now = state.clock.now();
            if now - session.last_seen_at > chrono::Duration::seconds(60) {
                state.store.touch_session(&hash, now + state.config.session_idle).await?;
            }
            person(&state, session.user_id, hash, client).await?
        };
        parts.extensions.insert(authn.clone());
        Ok(authn)
    }
}

/// A person's identity for a session: grants, roles, and what they must fix first.
pub async fn person(state: &AppState, id: UserId, session_hash: String, client: ClientInfo) -> Result<Authn, ApiError> {
    let user = state.store.user(id).await?;
    let caps = state.store.capabilities(user.id).await?;
    let roles: Vec<Role> = caps.iter().map(|(r, _)| *r).collect();
    let restriction = if user.must_change_password {
        Some(Restriction::PasswordChange)
    } else if !state.config.demo && !user.totp_enabled && roles.iter().any(|r| r.requires_totp()) {
        Some(Restriction::TotpSetup)
    } else {
        None
    };
    Ok(Authn {
        principal: Principal {
            kind: PrincipalKind::User { id: user.id, username: user.username.clone() },
            capabilities: caps.into_iter().map(|(_, c)| c).collect(),
        },
        user: Some(user),
        roles,
        session_hash: Some(session_hash),
        restriction,
        client,
        entity_types: None,
    })
}

/// A permission an endpoint declares in its signature: `Need<perm::OrgRead>`.
pub trait Perm: Send + Sync + 'static {
    const PERMISSION: Permission;
}

pub mod perm {
    use super::Perm;
    use haidang_core::Permission;

    macro_rules! perms {
        ($($name:ident),*) => {$(
            pub struct $name;
            impl Perm for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }
    perms!(
        OrgRead,
        OrgWrite,
        UsersRead,
        UsersWrite,
        AuditRead,
        DutyRead,
        DutyWrite,
        TokensManage,
        ReportsRead,
        ReportsHandle,
        ReportsDispatch,
        ReportsAdmin,
        ContextRead,
        ContextWrite,
        DevicesAdmin
    );
}

/// The caller, who holds `P` somewhere; the handler still checks the object's unit with
/// [`Principal::can`], since holding a permission somewhere is not holding it everywhere.
pub struct Need<P: Perm>(pub Authn, PhantomData<P>);

impl<P: Perm> std::ops::Deref for Need<P> {
    type Target = Authn;
    fn deref(&self) -> &Authn {
        &self.0
    }
}

impl<S: Send + Sync, P: Perm> FromRequestParts<S> for Need<P>
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let authn = Authn::from_request_parts(parts, state).await?;
        match authn.restriction {
            Some(Restriction::PasswordChange) => return Err(ApiError::PasswordChangeRequired),
            Some(Restriction::TotpSetup) => return Err(ApiError::TotpSetupRequired),
            None => {}
        }
        if !authn.principal.has(P::PERMISSION) {
            return Err(ApiError::Forbidden(format!("needs the {} permission", P::PERMISSION.as_str())));
        }
        Ok(Need(authn, PhantomData))
    }
}
