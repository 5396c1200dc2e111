//! The device registry: who may publish measures, with which key, into which entity.
//!
//! Keys are stored as SHA-256 hashes (they are 256-bit random secrets, so a slow hash adds
//! nothing). Activity — last seen, message and rejection counts, the last error — is counted in
//! memory by the ingest path and flushed here every few seconds with
//! [`Store::record_device_activity`], so a busy device does not cost a write per message.

use chrono::{DateTime, Utc};
use haidang_core::OrgUnitId;
use haidang_devices::{DeviceId, Health, Mapping};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{append, push_scope};
use crate::time::{parse, parse_opt, ts};
use crate::{AuditCtx, Change, Store, StoreError, UnitRef};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Device {
    #[schema(value_type = String)]
    pub id: DeviceId,
    /// The NGSI-LD tenant it writes to ("" = the province).
    pub tenant: String,
    pub name: String,
    pub model: String,
    pub owner: UnitRef,
    pub entity_id: String,
    /// Expanded type IRI.
    pub entity_type: String,
    #[schema(value_type = Object)]
    pub mapping: Mapping,
    /// Silent longer than this: reported as silent.
    pub silence_secs: i64,
    pub enabled: bool,
    /// A simulated station of the demo province.
    pub demo: bool,
    pub last_seen: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub messages: i64,
    pub rejected: i64,
    pub created_at: DateTime<Utc>,
}

impl Device {
    pub fn health(&self, now: DateTime<Utc>) -> Health {
        Health::of(self.enabled, self.last_seen, self.silence_secs, now)
    }
}

#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: DeviceId,
    pub tenant: String,
    pub name: String,
    pub model: String,
    pub owner: OrgUnitId,
    pub entity_id: String,
    pub entity_type: String,
    pub key_hash: String,
    pub mapping: Mapping,
    pub silence_secs: i64,
    pub demo: bool,
}

/// Changes to a device; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DevicePatch {
    pub name: Option<String>,
    pub model: Option<String>,
    pub mapping: Option<Mapping>,
    pub silence_secs: Option<i64>,
    pub enabled: Option<bool>,
    /// A new key's hash (the key was rotated).
    pub key_hash: Option<String>,
}

/// What the ingest path counted for one device since the last flush.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceActivity {
    pub last_seen: Option<DateTime<Utc>>,
    pub messages: i64,
    pub rejected: i64,
    pub last_error: Option<(String, DateTime<Utc>)>,
}

/// A device as its broker connection sees it.
#[derive(Debug, Clone)]
pub struct DeviceCredentials {
    pub device: Device,
    pub key_hash: String,
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: String,
    tenant: String,
    name: String,
    model: String,
    owner_unit: i64,
    unit_code: String,
    unit_name: String,
    entity_id: String,
    entity_type: String,
    mapping: String,
    silence_secs: i64,
    enabled: bool,
    demo: bool,
    last_seen: Option<String>,
    last_error: Option<String>,
    last_error_at: Option<String>,
    messages: i64,
    rejected: i64,
    created_at: String,
    key_hash: String,
}

const DEVICE_COLUMNS: &str = "d.id, d.tenant, d.name, d.model, d.owner_unit, u.code AS unit_code, u.name AS unit_name,
     d.entity_id, d.entity_type, d.mapping, d.silence_secs, d.enabled, d.demo, d.last_seen, d.last_error,
     d.last_error_at, d.messages, d.rejected, d.created_at, d.key_hash";

fn device(row: DeviceRow) -> Result<DeviceCredentials, StoreError> {
    let device = Device {
        id: DeviceId::parse(&row.id).map_err(|e| StoreError::Corrupt(format!("device id {:?}: {e}", row.id)))?,
        tenant: row.tenant,
        name: row.name,
        model: row.model,
        owner: UnitRef { id: OrgUnitId(row.owner_unit), code: row.unit_code, name: row.unit_name },
        entity_id: row.entity_id,
        entity_type: row.entity_type,
        mapping: serde_json::from_str(&row.mapping).map_err(|e| StoreError::Corrupt(format!("device mapping: {e}")))?,
        silence_secs: row.silence_secs,
        enabled: row.enabled,
        demo: row.demo,
        last_seen: parse_opt(row.last_seen)?,
        last_error: row.last_error,
        last_error_at: parse_opt(row.last_error_at)?,
        messages: row.messages,
        rejected: row.rejected,
        created_at: parse(&row.created_at)?,
    };
    Ok(DeviceCredentials { device, key_hash: row.key_hash })
}

impl Store {
    pub async fn create_device(&self, ctx: &AuditCtx, new: NewDevice) -> Result<Device, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO devices (tenant, id, name, model, owner_unit, entity_id, entity_type, key_hash, mapping,
                                  silence_secs, demo, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&new.tenant)
        .bind(new.id.as_str())
        .bind(&new.name)
        .bind(&new.model)
        .bind(new.owner.0)
        .bind(&new.entity_id)
        .bind(&new.entity_type)
        .bind(&new.key_hash)
        .bind(mapping_json(&new.mapping))
        .bind(new.silence_secs)
        .bind(new.demo)
        .bind(ts(self.clock.now()))
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("a device {} exists already", new.id)),
            other => other,
        })?;
        let created = fetch(&mut tx, new.id.as_str()).await?.device;
        append(
            &mut tx,
            ctx,
            Change::new("device.create", "device", new.id.as_str()).unit(new.owner).after(&created),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Devices owned within `scope` (`None`: all), by id.
    pub async fn devices(&self, scope: Option<&[OrgUnitId]>) -> Result<Vec<Device>, StoreError> {
        let mut q = sqlx::QueryBuilder::new(format!(
            "SELECT {DEVICE_COLUMNS} FROM devices d JOIN org_units u ON u.id = d.owner_unit WHERE 1 = 1"
        ));
        if let Some(scope) = scope {
            push_scope(&mut q, "d.owner_unit", scope);
        }
        q.push(" ORDER BY d.id");
        let rows: Vec<DeviceRow> = q.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(|r| device(r).map(|c| c.device)).collect()
    }

    pub async fn device(&self, id: &DeviceId) -> Result<Device, StoreError> {
        Ok(self.device_credentials(id).await?.ok_or(StoreError::NotFound)?.device)
    }

    /// The device and its key hash, for authenticating a connection.
    pub async fn device_credentials(&self, id: &DeviceId) -> Result<Option<DeviceCredentials>, StoreError> {
        let mut conn = self.reader.acquire().await?;
        match fetch(&mut conn, id.as_str()).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn update_device(&self, ctx: &AuditCtx, id: &DeviceId, patch: DevicePatch) -> Result<Device, StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = fetch(&mut tx, id.as_str()).await?.device;
        sqlx::query(
            "UPDATE devices SET name = COALESCE($2, name), model = COALESCE($3, model),
                    mapping = COALESCE($4, mapping), silence_secs = COALESCE($5, silence_secs),
                    enabled = COALESCE($6, enabled), key_hash = COALESCE($7, key_hash)
             WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(&patch.name)
        .bind(&patch.model)
        .bind(patch.mapping.as_ref().map(mapping_json))
        .bind(patch.silence_secs)
        .bind(patch.enabled)
        .bind(&patch.key_hash)
        .execute(&mut *tx)
        .await?;
        let after = fetch(&mut tx, id.as_str()).await?.device;
        let action = if patch.key_hash.is_some() { "device.rotate_key" } else { "device.update" };
        append(
            &mut tx,
            ctx,
            Change::new(action, "device", id.as_str()).unit(after.owner.id).before(&before).after(&after),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a device; the entity it fed and its history stay.
    pub async fn delete_device(&self, ctx: &AuditCtx, id: &DeviceId) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = fetch(&mut tx, id.as_str()).await?.device;
        sqlx::query("DELETE FROM devices WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await?;
        append(
            &mut tx,
            ctx,
            Change::new("device.delete", "device", id.as_str()).unit(before.owner.id).before(&before),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds what the ingest path counted; devices deleted meanwhile are skipped.
    pub async fn record_device_activity(&self, activity: &[(DeviceId, DeviceActivity)]) -> Result<(), StoreError> {
        if activity.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for (id, a) in activity {
            sqlx::query(
                "UPDATE devices SET last_seen = CASE WHEN $2 > COALESCE(last_seen, '') THEN $2 ELSE last_seen END,
                        messages = messages + $3, rejected = rejected + $4,
                        last_error = COALESCE($5, last_error), last_error_at = COALESCE($6, last_error_at)
                 WHERE id = $1",
            )
            .bind(id.as_str())
            .bind(a.last_seen.map(ts))
            .bind(a.messages)
            .bind(a.rejected)
            .bind(a.last_error.as_ref().map(|e| e.0.clone()))
            .bind(a.last_error.as_ref().map(|e| ts(e.1)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn mapping_json(m: &Mapping) -> String {
    serde_json::to_string(m).expect("a mapping serializes")
}

async fn fetch(conn: &mut sqlx::SqliteConnection, id: &str) -> Result<DeviceCredentials, StoreError> {
    let row: DeviceRow = sqlx::query_as(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices d JOIN org_units u ON u.id = d.owner_unit WHERE d.id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await?;
    device(row)
}
