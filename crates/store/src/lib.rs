//! The store: every SQL statement of Hải Đăng lives behind this crate's interface.
//!
//! Services call typed methods (`store.list_org_units(..)`, `store.create_user(..)`) and get
//! domain records back; no SQL, connection or engine type leaks out. Today the engine is an
//! embedded SQLite file (WAL, `synchronous=FULL`, foreign keys on) with one writer connection
//! and a pool of readers; the SQL is kept to the portable subset (`$n` parameters, text
//! timestamps in a fixed-width UTC format, no engine-only functions) so that a PostgreSQL
//! engine can be added here without touching any service.
//!
//! **Durability invariant:** a method that changes data returns only after its transaction
//! committed with `synchronous=FULL`, and the audit entry describing the change is written in
//! that same transaction — a change and its audit record are durable together or not at all.

mod audit;
mod backup;
pub mod context;
mod cursor;
mod duty;
mod error;
mod model;
pub mod open311;
mod org;
mod report_import;
mod report_setup;
mod reports;
mod sessions;
mod settings;
mod time;
mod tokens;
mod users;
mod work;

pub use audit::{Actor, AuditCtx, AuditEntry, AuditFilter, ChainCheck, Change};
pub use backup::{BackupInfo, restore_archive};
pub use cursor::{Cursor, Page};
pub use error::StoreError;
pub use model::*;
pub use org::{NewOrgUnit, OrgUnitFilter, OrgUnitPatch};
pub use report_import::{ImportedReport, ImportedWork};
pub use report_setup::{Category, CategoryInput, Open311Client};
pub use reports::{
    Attachment, ContactDetails, DeadlineFilter, NewAttachment, NewReport, PublicFilter, Report, ReportFilter,
    ReportSet, ReportSort, ReportStats, ReportStep, ScopeEntry, StatsFilter, StatsGroup,
};
pub use tokens::NewToken;
pub use users::{LoginFailure, NewUser, UserFilter, UserPatch};
pub use work::{Handler, NewEvent, NewNotice, Notice, WorkEvent, WorkItem, WorkUpdate};

use haidang_core::{Clock, OrgTree, OrgUnitId};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The name of the database file inside the data directory.
pub const DB_FILE: &str = "haidang.db";

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct Store {
    /// One connection: SQLite allows one writer at a time, and serialising writes here rather
    /// than in the engine keeps the audit hash chain in order and avoids busy errors.
    writer: SqlitePool,
    reader: SqlitePool,
    clock: Arc<dyn Clock>,
    data_dir: PathBuf,
    context_writer: Arc<tokio::sync::OnceCell<context::ContextWriter>>,
    /// Subscription changes → the context writer → the notifier.
    signals: Arc<context::ContextSignals>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and applies pending migrations.
    pub async fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Io(data_dir.to_owned(), e))?;
        let path = data_dir.join(DB_FILE);
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        MIGRATIONS.run(&writer).await?;
        report_import::refresh_planner_stats(&mut *writer.acquire().await?).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            writer,
            reader,
            clock,
            data_dir: data_dir.to_owned(),
            context_writer: Default::default(),
            signals: Default::default(),
        })
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Answers when the store can serve reads and writes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }

    /// The shape of the org tree, for the server's in-memory scope checks.
    pub async fn org_tree(&self) -> Result<OrgTree, StoreError> {
        let rows: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT id, parent_id FROM org_units").fetch_all(&self.reader).await?;
        Ok(OrgTree::new(rows.into_iter().map(|(id, p)| (OrgUnitId(id), p.map(OrgUnitId)))))
    }

    /// Waits for in-flight statements and closes the database cleanly (checkpointing the WAL).
    pub async fn close(&self) {
        self.signals.close();
        if let Some(w) = self.context_writer.get() {
            w.stop().await;
        }
        self.reader.close().await;
        self.writer.close().await;
    }
}
