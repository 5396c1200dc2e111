//! The NGSI-LD API (ETSI GS CIM 009 V1.8.1) at `/ngsi-ld/v1/`.
//!
//! - [`http`]: what every operation shares — tenant, `@context` from the `Link` header or the
//!   body, media types in and out, errors as the specification's problem documents.
//! - [`access`]: who may read and write what (org-unit scope, token entity types, open types).
//! - [`entities`], [`batch`], [`discovery`]: the context-information operations of clause 6.
//! - [`temporal`]: the temporal API (clauses 6.18–6.22), read from the attribute history.
//!
//! Entities and their changes go to the store through the group-committing
//! [`ContextWriter`]; this layer parses, checks access and renders.

pub mod access;
pub mod batch;
pub mod contexts;
pub mod discovery;
pub mod entities;
pub mod http;
pub mod params;
pub mod temporal;

use std::sync::{Arc, OnceLock, RwLock};

use axum::Router;
use axum::routing::{get, post};
use haidang_store::context::{OpResult, WriteAccess, WriteOp};

use crate::state::AppState;
use contexts::ContextCache;

/// Request bodies at most: a batch of a few thousand entities.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The NGSI-LD service's shared parts.
pub struct Ngsi {
    policy: OnceLock<Arc<access::Policy>>,
    pub contexts: ContextCache,
    /// Entity types readable without a token, per tenant (expanded IRIs).
    open_types: RwLock<Arc<Vec<(String, String)>>>,
}

impl Default for Ngsi {
    fn default() -> Self {
        Self { policy: OnceLock::new(), contexts: ContextCache::new(), open_types: RwLock::new(Arc::new(Vec::new())) }
    }
}

impl Ngsi {
    pub fn open_types(&self, tenant: &str) -> Vec<String> {
        let all = self.open_types.read().unwrap_or_else(|p| p.into_inner()).clone();
        all.iter().filter(|(t, _)| t == tenant).map(|(_, ty)| ty.clone()).collect()
    }

    pub fn set_open_types(&self, types: Vec<(String, String)>) {
        *self.open_types.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(types);
    }
}

/// Sets the service up for `state`: its owner rules and the open entity types.
pub async fn start(state: &AppState) -> Result<(), haidang_store::StoreError> {
    let _ = state.ngsi.policy.set(Arc::new(access::Policy(state.downgrade())));
    state.store.context_writer().await?;
    state.ngsi.set_open_types(state.store.open_context_types().await?);
    Ok(())
}

/// Applies `ops` through the store's group-committing writer, with this state's owner rules.
pub async fn write(
    state: &AppState,
    tenant: &str,
    access: Arc<WriteAccess>,
    ops: Vec<WriteOp>,
) -> Result<Vec<OpResult>, http::Problem> {
    let policy = state.ngsi.policy.get().expect("the NGSI-LD service starts with the state").clone();
    let writer = state.store.context_writer().await?;
    Ok(writer.write(tenant, access, policy, ops).await?)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ngsi-ld/v1/entities", post(entities::create).get(entities::query))
        .route(
            "/ngsi-ld/v1/entities/{id}",
            get(entities::retrieve).delete(entities::delete).put(entities::replace).patch(entities::merge),
        )
        .route("/ngsi-ld/v1/entities/{id}/attrs", post(entities::append).patch(entities::update))
        .route(
            "/ngsi-ld/v1/entities/{id}/attrs/{attr}",
            axum::routing::patch(entities::patch_attribute)
                .put(entities::replace_attribute)
                .delete(entities::delete_attribute),
        )
        .route("/ngsi-ld/v1/entityOperations/create", post(batch::create))
        .route("/ngsi-ld/v1/entityOperations/upsert", post(batch::upsert))
        .route("/ngsi-ld/v1/entityOperations/update", post(batch::update))
        .route("/ngsi-ld/v1/entityOperations/delete", post(batch::delete))
        .route("/ngsi-ld/v1/entityOperations/merge", post(batch::merge))
        .route("/ngsi-ld/v1/entityOperations/query", post(entities::query_post))
        .route("/ngsi-ld/v1/types", get(discovery::types))
        .route("/ngsi-ld/v1/types/{type}", get(discovery::type_info))
        .route("/ngsi-ld/v1/attributes", get(discovery::attributes))
        .route("/ngsi-ld/v1/attributes/{attr}", get(discovery::attribute_info))
        .route("/ngsi-ld/v1/jsonldContexts/{id}", get(contexts::served))
        .merge(temporal_routes())
}

fn temporal_routes() -> Router<AppState> {
    use axum::routing::delete;
    Router::new()
        .route("/ngsi-ld/v1/temporal/entities", get(temporal::query).post(temporal::create))
        .route("/ngsi-ld/v1/temporal/entities/", get(temporal::query).post(temporal::create))
        .route("/ngsi-ld/v1/temporal/entities/{id}", get(temporal::retrieve).delete(temporal::delete))
        .route("/ngsi-ld/v1/temporal/entities/{id}/attrs", post(temporal::append))
        .route("/ngsi-ld/v1/temporal/entities/{id}/attrs/{attr}", delete(temporal::delete_attribute))
        .route(
            "/ngsi-ld/v1/temporal/entities/{id}/attrs/{attr}/{instance}",
            delete(temporal::delete_instance).patch(temporal::patch_instance),
        )
        .route("/ngsi-ld/v1/temporal/entityOperations/query", post(temporal::query_post))
}
