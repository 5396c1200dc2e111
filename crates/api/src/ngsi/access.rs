//! Who may read and write context data.
//!
//! Every entity has an owning org unit: the commune its `location` falls in, otherwise the unit
//! of whoever wrote it. Readers see entities owned within their `context.read` scope, and
//! anyone — without a token — sees entity types the province has marked open. A token may
//! further be limited to some entity types.

use std::sync::{Arc, Weak};

use axum::http::request::Parts;
use haidang_core::{OrgTree, OrgUnitId, Permission};
use haidang_ngsi::entity::names;
use haidang_ngsi::{Entity, ErrorKind, NgsiError};
use haidang_store::context::{Visibility, WriteAccess, WritePolicy};

use crate::extract::{Authn, Restriction};
use crate::state::{AppState, Inner};

pub struct Policy(pub Weak<Inner>);

impl WritePolicy for Policy {
    fn owner(&self, entity: &Entity, access: &WriteAccess) -> OrgUnitId {
        let Some(inner) = self.0.upgrade() else { return access.unit };
        let place = entity.geometry(names::LOCATION).and_then(|g| {
            use geo::Centroid;
            g.centroid()
        });
        place.and_then(|p| AppState::from_inner(inner).places().locate(p.y(), p.x())).unwrap_or(access.unit)
    }

    fn may_write(&self, access: &WriteAccess, owner: OrgUnitId, entity: &Entity) -> bool {
        if let Some(types) = &access.types
            && !entity.types.iter().all(|t| types.contains(t))
        {
            return false;
        }
        let Some(scope) = &access.scope else { return true };
        let Some(inner) = self.0.upgrade() else { return false };
        let tree = AppState::from_inner(inner).tree();
        scope.iter().any(|root| tree.is_within(owner, *root))
    }
}

/// The caller of an NGSI-LD operation: someone authenticated, or anyone.
pub enum Caller {
    Known(Box<Authn>),
    Anonymous,
}

impl Caller {
    /// Authenticates if the request carries a token or a session; anonymous otherwise.
    pub async fn from_parts(state: &AppState, parts: &mut Parts) -> Result<Self, NgsiError> {
        let has_credentials = parts.headers.contains_key(axum::http::header::AUTHORIZATION)
            || crate::extract::cookie_value(parts, crate::extract::SESSION_COOKIE).is_some();
        if !has_credentials {
            return Ok(Caller::Anonymous);
        }
        let authn = <Authn as axum::extract::FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map_err(|e| NgsiError::new(ErrorKind::Unauthorized, e.to_string()))?;
        if authn.restriction == Some(Restriction::PasswordChange) || authn.restriction == Some(Restriction::TotpSetup) {
            return Err(NgsiError::new(ErrorKind::Forbidden, "finish setting up your account first"));
        }
        Ok(Caller::Known(Box::new(authn)))
    }

    pub fn authn(&self) -> Option<&Authn> {
        match self {
            Caller::Known(a) => Some(a),
            Caller::Anonymous => None,
        }
    }

    /// What this caller may read in `tenant`.
    pub fn visibility(&self, state: &AppState, tenant: &str) -> Visibility {
        let open_types = state.ngsi.open_types(tenant);
        match self {
            Caller::Anonymous => Visibility { units: Some(Vec::new()), open_types, types: None },
            Caller::Known(a) => {
                let units = a.principal.scope(Permission::ContextRead).map(|roots| subtrees(&state.tree(), &roots));
                Visibility { units, open_types, types: a.entity_types.clone() }
            }
        }
    }

    /// What this caller may write, or why not at all.
    pub fn write_access(&self, state: &AppState) -> Result<Arc<WriteAccess>, NgsiError> {
        let Caller::Known(a) = self else {
            return Err(NgsiError::new(
                ErrorKind::Unauthorized,
                "writing context data needs a token: send Authorization: Bearer hdt_…",
            ));
        };
        if !a.principal.has(Permission::ContextWrite) {
            return Err(NgsiError::new(ErrorKind::Forbidden, "needs the context.write permission"));
        }
        let scope = a.principal.scope(Permission::ContextWrite);
        // Entities without a place belong to the writer's unit (the province for the platform).
        let unit = match scope.as_ref().and_then(|s| s.first().copied()) {
            Some(u) => u,
            None => state.tree().roots().first().copied().unwrap_or(OrgUnitId(1)),
        };
        Ok(Arc::new(WriteAccess { unit, scope, types: a.entity_types.clone() }))
    }
}

fn subtrees(tree: &OrgTree, roots: &[OrgUnitId]) -> Vec<OrgUnitId> {
    let mut all: Vec<OrgUnitId> = roots.iter().flat_map(|r| tree.subtree(*r)).collect();
    all.sort();
    all.dedup();
    all
}

impl axum::extract::FromRequestParts<AppState> for Caller {
    type Rejection = super::http::Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Caller::from_parts(state, parts).await?)
    }
}
