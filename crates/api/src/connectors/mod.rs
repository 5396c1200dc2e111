//! Connectors: context data from other systems' files and APIs, configured, not coded.
//!
//! An *import* connector holds a mapping for uploaded CSV or XLSX files ([`files`]); a *pull*
//! connector fetches a JSON document on a schedule ([`pull`]). Both turn records into entity
//! upserts through the context writer with a [`RecordMapping`], so they obey the same owner and
//! history rules as every other write. Their health (last run, last success, last error,
//! counts) is what `/api/connectors` shows.

pub mod files;
pub mod pull;
pub mod routes;

use std::sync::Arc;

use haidang_devices::RecordMapping;
use haidang_ngsi::Context;
use haidang_store::context::{Connector, WriteAccess, WriteOp};
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest uploaded file.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Records one file or pull may hold.
pub const MAX_RECORDS: usize = 100_000;
/// Records written per group-commit job.
const WRITE_CHUNK: usize = 5_000;

/// A record that could not be mapped: its number (1-based; for files, the row in the sheet)
/// and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub record: usize,
    pub reason: String,
}

/// Maps every record; the entities, or every record refused.
pub fn map_records(
    mapping: &RecordMapping,
    records: &[Value],
    first_number: usize,
    state: &AppState,
) -> (Vec<haidang_ngsi::Entity>, Vec<Refused>) {
    let (now, ctx) = (state.clock.now(), Context::core());
    let mut entities = Vec::with_capacity(records.len());
    let mut refused = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match mapping.entity(r, now, &ctx) {
            Ok(e) => entities.push(e),
            Err(reason) => refused.push(Refused { record: i + first_number, reason }),
        }
    }
    (entities, refused)
}

/// Upserts `entities` for `connector` (its unit owns what has no place); returns how many.
pub async fn write(
    state: &AppState,
    connector: &Connector,
    mapping: &RecordMapping,
    entities: Vec<haidang_ngsi::Entity>,
) -> Result<usize, ApiError> {
    let access = Arc::new(WriteAccess {
        unit: connector.owner.id,
        scope: None,
        types: Some(vec![Context::core().expand(&mapping.entity_type)]),
    });
    let total = entities.len();
    let mut entities = entities.into_iter().peekable();
    while entities.peek().is_some() {
        let ops: Vec<WriteOp> =
            entities.by_ref().take(WRITE_CHUNK).map(|entity| WriteOp::Upsert { entity, replace: false }).collect();
        let results = crate::ngsi::write(state, &connector.tenant, access.clone(), ops)
            .await
            .map_err(|p| ApiError::Internal(p.0.to_string()))?;
        if let Some(e) = results.into_iter().find_map(Result::err) {
            return Err(ApiError::field("records", e.to_string()));
        }
    }
    Ok(total)
}
