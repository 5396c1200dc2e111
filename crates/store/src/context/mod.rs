//! Context data (NGSI-LD entities), their history, subscriptions' outbox, devices and
//! connectors.
//!
//! Writes go through one [`ContextWriter`] task that group-commits: every write waiting when a
//! transaction starts joins it, so under load one `fsync` covers thousands of attribute
//! updates, and each caller is answered only after the commit that holds its write. Reads go
//! straight to the reader pool.
//!
//! Entities are stored as [`Entity::to_stored`] JSON with side tables the planner can use
//! (types, attribute names, the bounding box of `location`); the exact `q` and geo-query
//! filters run in Rust on the candidates (the `filter` of [`EntityQuery`]).

mod devices;
mod history;
mod query;
mod retention;
mod writer;

pub use devices::{Device, DeviceActivity, DeviceCredentials, DevicePatch, NewDevice};
pub use history::{HistoryQuery, HistorySeries, HourlyRow, TimeBound, TimeColumn};
pub use query::{EntityQuery, EntityRow, QueryPage, Visibility};
pub use retention::{RetentionReport, TypePolicy};
pub use writer::{ContextWriter, OpOutcome, OpResult, WriteAccess, WriteOp, WritePolicy, WriterConfig};

use chrono::{DateTime, TimeZone, Utc};

use crate::{Store, StoreError};

impl Store {
    /// The writer of context data: one per store, started on first use, so every server
    /// sharing this store sends its writes through the same group commit and cache.
    pub async fn context_writer(&self) -> Result<&ContextWriter, StoreError> {
        self.context_writer.get_or_try_init(|| ContextWriter::start(self.clone(), WriterConfig::default())).await
    }
}

impl Store {
    /// Attribute values in the history (raw rows), for benchmarks and health figures.
    pub async fn context_history_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ctx_history").fetch_one(&self.reader).await?;
        Ok(n as u64)
    }
}

/// Milliseconds since the epoch, the time unit of the context tables.
pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// The default tenant (the province) is stored as the empty name.
pub const DEFAULT_TENANT: &str = "";
