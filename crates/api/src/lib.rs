//! The HTTP face of Hải Đăng: the JSON API under `/api`, the live channel, operations
//! endpoints, the OpenAPI document and its browsable page, and the embedded web UI.
//!
//! Conventions every module follows: JSON bodies parsed by [`extract::Json`] (field-precise
//! errors), RFC 9457 problems ([`error::ApiError`]), cursor pages, the permission an endpoint
//! needs declared in its signature ([`extract::Need`]), and objects checked against the
//! visibility rule of `haidang_core::access` before they are shown or changed.

pub mod devices;
pub mod error;
mod export;
pub mod extract;
mod live;
mod metrics;
mod middleware;
pub mod ngsi;
mod places;
pub mod reports;
pub mod routes;
mod state;
mod web;

pub use live::{Live, LiveEvent};
pub use state::{ApiConfig, AppState};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hải Đăng API",
        description = "Open API of the Hải Đăng provincial IOC platform. Errors are RFC 9457 problem \
            details (application/problem+json) naming the field and the reason. Lists take `limit` \
            (1–500) and an opaque `cursor`. People authenticate with a session cookie (send the \
            `hd_csrf` cookie's value as `X-CSRF-Token` on changes); machines with `Authorization: Bearer`."
    ),
    tags(
        (name = "auth", description = "Login, sessions, the caller's own account"),
        (name = "org", description = "The org tree and places"),
        (name = "users", description = "Accounts, grants, roles"),
        (name = "duty", description = "The IOC duty roster"),
        (name = "tokens", description = "API tokens for machine clients"),
        (name = "audit", description = "The audit log"),
        (name = "live", description = "Live updates (Server-Sent Events)"),
        (name = "ops", description = "Health, readiness, metrics, UI configuration"),
        (name = "reports", description = "Citizen field reports: queues, workflow, statistics, set-up"),
        (name = "public", description = "The citizen's side: report form, tracking, public portal (no account)"),
        (name = "context", description = "Context data (NGSI-LD) administration: entity type policies"),
    ),
    components(schemas(error::Problem)),
    modifiers(&Security)
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(extract::SESSION_COOKIE))),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// The API's routes with their OpenAPI description.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::auth::router())
        .merge(routes::org::router())
        .merge(routes::users::router())
        .merge(routes::duty::router())
        .merge(routes::tokens::router())
        .merge(devices::routes::router())
        .merge(routes::audit::router())
        .merge(routes::events::router())
        .merge(routes::ops::router())
        .merge(routes::reports::router())
        .merge(routes::report_setup::router())
        .merge(routes::public::router())
        .merge(routes::context_types::router())
}

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// The whole application: API, docs, web UI, and the layers every request passes.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    // Uploads are bounded per route (`reports::upload::MAX_UPLOAD_BYTES`); every other body by
    // `max_body`, which the extractors enforce through `DefaultBodyLimit`.
    let max_request = max_body.max(reports::upload::MAX_UPLOAD_BYTES).max(ngsi::MAX_BODY_BYTES);
    let timeout = state.config.request_timeout;
    let (api, openapi) = api_routes().split_for_parts();
    api.merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        .merge(routes::open311::router())
        .merge(ngsi::router().layer(DefaultBodyLimit::max(ngsi::MAX_BODY_BYTES)))
        .fallback(middleware::fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::declared_length))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_request))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::from_fn(middleware::problems))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(TraceLayer::new_for_http().make_span_with(middleware::span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(middleware::panic_problem))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then stops accepting, ends live streams, and waits for
/// in-flight requests to finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let live = state.clone();
    let app = app(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            live.live.close();
        })
        .await
}
