//! Connectors: configured feeds of context data from other systems — scheduled HTTP pulls of
//! JSON, and file imports (CSV/XLSX uploads) with a saved mapping — and their health.
//!
//! The configuration is stored as JSON; the API layer owns its shape. Runs are recorded
//! without an audit entry (they are activity, like device messages); creating, changing and
//! removing a connector are audited.

use chrono::{DateTime, Utc};
use haidang_core::OrgUnitId;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::audit::{append, push_scope};
use crate::time::{parse, parse_opt, ts};
use crate::{AuditCtx, Change, Store, StoreError, UnitRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// Fetches a JSON document on a schedule.
    Pull,
    /// Takes uploaded CSV or XLSX files.
    Import,
}

impl ConnectorKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Import => "import",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Connector {
    pub id: String,
    pub tenant: String,
    pub kind: ConnectorKind,
    pub name: String,
    pub owner: UnitRef,
    #[schema(value_type = Object)]
    pub config: Value,
    pub enabled: bool,
    pub last_run: Option<DateTime<Utc>>,
    pub last_ok: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub runs: i64,
    pub failures: i64,
    /// Entities written by the last successful run.
    pub items: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewConnector {
    pub id: String,
    pub tenant: String,
    pub kind: ConnectorKind,
    pub name: String,
    pub owner: OrgUnitId,
    pub config: Value,
}

#[derive(Debug, Clone, Default)]
pub struct ConnectorPatch {
    pub name: Option<String>,
    pub config: Option<Value>,
    pub enabled: Option<bool>,
}

#[derive(sqlx::FromRow)]
struct ConnectorRow {
    id: String,
    tenant: String,
    kind: String,
    name: String,
    owner_unit: i64,
    unit_code: String,
    unit_name: String,
    config: String,
    enabled: bool,
    last_run: Option<String>,
    last_ok: Option<String>,
    last_error: Option<String>,
    runs: i64,
    failures: i64,
    items: i64,
    created_at: String,
}

const COLUMNS: &str =
    "c.id, c.tenant, c.kind, c.name, c.owner_unit, u.code AS unit_code, u.name AS unit_name, c.config,
     c.enabled, c.last_run, c.last_ok, c.last_error, c.runs, c.failures, c.items, c.created_at";

fn connector(r: ConnectorRow) -> Result<Connector, StoreError> {
    Ok(Connector {
        kind: match r.kind.as_str() {
            "pull" => ConnectorKind::Pull,
            "import" => ConnectorKind::Import,
            other => return Err(StoreError::Corrupt(format!("connector kind {other:?}"))),
        },
        id: r.id,
        tenant: r.tenant,
        name: r.name,
        owner: UnitRef { id: OrgUnitId(r.owner_unit), code: r.unit_code, name: r.unit_name },
        config: serde_json::from_str(&r.config).map_err(|e| StoreError::Corrupt(format!("connector config: {e}")))?,
        enabled: r.enabled,
        last_run: parse_opt(r.last_run)?,
        last_ok: parse_opt(r.last_ok)?,
        last_error: r.last_error,
        runs: r.runs,
        failures: r.failures,
        items: r.items,
        created_at: parse(&r.created_at)?,
    })
}

async fn fetch(conn: &mut sqlx::SqliteConnection, id: &str) -> Result<Connector, StoreError> {
    let row: ConnectorRow = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM connectors c JOIN org_units u ON u.id = c.owner_unit WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await?;
    connector(row)
}

impl Store {
    pub async fn create_connector(&self, ctx: &AuditCtx, new: NewConnector) -> Result<Connector, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO connectors (tenant, id, kind, name, owner_unit, config, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&new.tenant)
        .bind(&new.id)
        .bind(new.kind.as_str())
        .bind(&new.name)
        .bind(new.owner.0)
        .bind(new.config.to_string())
        .bind(ts(self.clock.now()))
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("a connector {} exists already", new.id)),
            other => other,
        })?;
        let created = fetch(&mut tx, &new.id).await?;
        let change = Change::new("connector.create", "connector", &new.id).unit(new.owner).after(&created);
        append(&mut tx, ctx, change, self.clock.now()).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Connectors owned within `scope` (`None`: all), by id.
    pub async fn connectors(&self, scope: Option<&[OrgUnitId]>) -> Result<Vec<Connector>, StoreError> {
        let mut q = sqlx::QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM connectors c JOIN org_units u ON u.id = c.owner_unit WHERE 1 = 1"
        ));
        if let Some(scope) = scope {
            push_scope(&mut q, "c.owner_unit", scope);
        }
        q.push(" ORDER BY c.id");
        let rows: Vec<ConnectorRow> = q.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(connector).collect()
    }

    pub async fn connector(&self, id: &str) -> Result<Connector, StoreError> {
        fetch(&mut *self.reader.acquire().await?, id).await
    }

    pub async fn update_connector(
        &self,
        ctx: &AuditCtx,
        id: &str,
        patch: ConnectorPatch,
    ) -> Result<Connector, StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = fetch(&mut tx, id).await?;
        sqlx::query(
            "UPDATE connectors SET name = COALESCE($2, name), config = COALESCE($3, config),
                    enabled = COALESCE($4, enabled) WHERE id = $1",
        )
        .bind(id)
        .bind(&patch.name)
        .bind(patch.config.as_ref().map(Value::to_string))
        .bind(patch.enabled)
        .execute(&mut *tx)
        .await?;
        let after = fetch(&mut tx, id).await?;
        let change =
            Change::new("connector.update", "connector", id).unit(after.owner.id).before(&before).after(&after);
        append(&mut tx, ctx, change, self.clock.now()).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a connector; what it wrote stays.
    pub async fn delete_connector(&self, ctx: &AuditCtx, id: &str) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = fetch(&mut tx, id).await?;
        sqlx::query("DELETE FROM connectors WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let change = Change::new("connector.delete", "connector", id).unit(before.owner.id).before(&before);
        append(&mut tx, ctx, change, self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a run: `Ok(items written)` or `Err(why it failed)`.
    pub async fn record_connector_run(&self, id: &str, outcome: Result<usize, &str>) -> Result<(), StoreError> {
        let now = ts(self.clock.now());
        let q = match outcome {
            Ok(items) => sqlx::query(
                "UPDATE connectors SET last_run = $2, last_ok = $2, last_error = NULL, runs = runs + 1, items = $3
                 WHERE id = $1",
            )
            .bind(id)
            .bind(&now)
            .bind(items as i64),
            Err(e) => sqlx::query(
                "UPDATE connectors SET last_run = $2, last_error = $3, runs = runs + 1, failures = failures + 1
                 WHERE id = $1",
            )
            .bind(id)
            .bind(&now)
            .bind(e),
        };
        q.execute(&self.writer).await?;
        Ok(())
    }
}
