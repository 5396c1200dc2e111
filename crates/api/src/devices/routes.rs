//! The device registry's HTTP API: provisioning (one key each, shown once), mappings, health.
//!
//! Reading devices and their health needs `context.read`; changing them `devices.admin`; both
//! on the device's owning unit.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use haidang_auth::new_secret;
use haidang_core::validation::{Checker, text};
use haidang_core::{OrgUnitId, Permission};
use haidang_devices::{DeviceId, Health, Mapping};
use haidang_ngsi::entity::validate::{is_absolute_uri, is_valid_name};
use haidang_ngsi::{AttrKind, Attribute, Context, Entity, ErrorKind};
use haidang_store::context::{Device, DeviceActivity, DevicePatch, NewDevice, WriteAccess, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Connection;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Need, perm};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_devices, create_device))
        .routes(routes!(get_device, update_device, delete_device))
        .routes(routes!(rotate_key))
}

/// A device with its health, as the registry and the broker know it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    #[serde(flatten)]
    device: Device,
    /// reporting, silent, never_seen or disabled.
    #[schema(value_type = String)]
    health: Health,
    /// Whether it is connected to the embedded broker (absent: not since the server started).
    connection: Option<Connection>,
}

fn view(state: &AppState, mut device: Device) -> DeviceView {
    // Activity not yet flushed to the registry counts too.
    if let Some(a) = state.devices.pending_activity(&device.id) {
        let DeviceActivity { last_seen, messages, rejected, last_error } = a;
        device.last_seen = device.last_seen.max(last_seen);
        device.messages += messages;
        device.rejected += rejected;
        if let Some((e, at)) = last_error {
            device.last_error = Some(e);
            device.last_error_at = Some(at);
        }
    }
    let health = device.health(state.clock.now());
    let connection = state.devices.connection(&device.id);
    DeviceView { device, health, connection }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeviceFilter {
    /// Only devices in this health state: reporting, silent, never_seen, disabled.
    #[param(value_type = Option<String>)]
    health: Option<Health>,
}

#[utoipa::path(get, path = "/api/devices", tag = "devices", params(DeviceFilter),
    responses((status = 200, body = Vec<DeviceView>)))]
async fn list_devices(
    State(state): State<AppState>,
    need: Need<perm::ContextRead>,
    Query(filter): Query<DeviceFilter>,
) -> ApiResult<axum::Json<Vec<DeviceView>>> {
    let scope = need.principal.scope(Permission::ContextRead);
    let devices = state.store.devices(scope.as_deref()).await?;
    let views = devices.into_iter().map(|d| view(&state, d)).filter(|v| filter.health.is_none_or(|h| v.health == h));
    Ok(axum::Json(views.collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DeviceCreate {
    /// 1–64 of A–Z a–z 0–9 _ - . — the MQTT user name and topic level `devices/{id}/`.
    id: String,
    name: String,
    #[serde(default)]
    model: String,
    /// The unit that owns the device.
    unit_id: i64,
    /// The entity it feeds; default `urn:ngsi-ld:{entity_type}:{id}`.
    entity_id: Option<String>,
    /// e.g. `AirQualityObserved` (a core-context term) or a full IRI.
    entity_type: String,
    /// Where it stands: the entity is created there if it does not exist yet.
    location: Option<Point>,
    #[schema(value_type = Option<Object>)]
    mapping: Option<Mapping>,
    /// Reported silent after this long without a message; default 15 minutes.
    silence_secs: Option<i64>,
    #[serde(default)]
    tenant: String,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    lon: f64,
    lat: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisionedDevice {
    #[serde(flatten)]
    device: DeviceView,
    /// The device's key, shown this once: its MQTT password.
    key: String,
    /// How the device connects and where it publishes.
    #[schema(value_type = Object)]
    mqtt: serde_json::Value,
}

/// Text that may be empty.
fn optional_text(check: &mut Checker, field: &str, value: &str, max_chars: usize) -> String {
    if value.is_empty() { String::new() } else { text(check, field, value, max_chars).unwrap_or_default() }
}

const DEFAULT_SILENCE_SECS: i64 = 15 * 60;

fn check_silence(check: &mut Checker, secs: Option<i64>) {
    check.check(
        secs.is_none_or(|s| (30..=30 * 86_400).contains(&s)),
        "silence_secs",
        "must be between 30 seconds and 30 days",
    );
}

fn check_mapping(check: &mut Checker, mapping: Option<&Mapping>) {
    if let Some(Err((field, reason))) = mapping.map(Mapping::validate) {
        check.push(&format!("mapping.{field}"), reason);
    }
}

/// Provisions a device: registers it with a new key and creates its entity if needed.
#[utoipa::path(post, path = "/api/devices", tag = "devices", request_body = DeviceCreate,
    responses((status = 201, body = ProvisionedDevice), (status = 403, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn create_device(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Json(req): Json<DeviceCreate>,
) -> ApiResult<(StatusCode, axum::Json<ProvisionedDevice>)> {
    let mut check = Checker::new();
    let id = DeviceId::parse(&req.id).map_err(|reason| check.push("id", reason)).ok();
    let name = text(&mut check, "name", &req.name, 200);
    let model = optional_text(&mut check, "model", &req.model, 100);
    check.check(is_valid_name(&req.entity_type) && req.entity_type.len() <= 256, "entity_type", "is not a type name");
    if let Some(e) = &req.entity_id {
        check.check(is_absolute_uri(e) && e.len() <= 256, "entity_id", "must be a URI such as urn:ngsi-ld:…");
    }
    if let Some(p) = req.location {
        check.check((-180.0..=180.0).contains(&p.lon), "location.lon", "must be between -180 and 180");
        check.check((-90.0..=90.0).contains(&p.lat), "location.lat", "must be between -90 and 90");
    }
    check_mapping(&mut check, req.mapping.as_ref());
    check_silence(&mut check, req.silence_secs);
    check.check(req.tenant.len() <= 64, "tenant", "at most 64 characters");
    check.finish()?;
    let id = id.expect("checked");
    let unit = source_owner(&state, &need, req.unit_id, &req.tenant).await?;
    let core = Context::core();
    let entity_type = core.expand(&req.entity_type);
    let entity_id = req.entity_id.unwrap_or_else(|| format!("urn:ngsi-ld:{}:{id}", req.entity_type));
    let key = new_secret("hdk_");
    let device = state
        .store
        .create_device(
            &need.audit(),
            NewDevice {
                id: id.clone(),
                tenant: req.tenant.clone(),
                name: name.clone().unwrap_or_default(),
                model,
                owner: unit,
                entity_id: entity_id.clone(),
                entity_type: entity_type.clone(),
                key_hash: key.hash,
                mapping: req.mapping.unwrap_or_default(),
                silence_secs: req.silence_secs.unwrap_or(DEFAULT_SILENCE_SECS),
                demo: false,
            },
        )
        .await?;
    create_entity(&state, &device, name.as_deref().unwrap_or_default(), req.location).await?;
    let mqtt = json!({
        "username": id.as_str(),
        "client_id": id.as_str(),
        "publish_to": device.mapping.rules.iter().map(|r| format!("devices/{id}/{}", r.topic)).collect::<Vec<_>>(),
        "commands_from": format!("devices/{id}/cmd/#"),
    });
    Ok((StatusCode::CREATED, axum::Json(ProvisionedDevice { device: view(&state, device), key: key.value, mqtt })))
}

/// The unit that is to own a new source (device or connector), checked: it exists, the caller
/// holds `devices.admin` there, and the tenant written to exists.
pub(crate) async fn source_owner(
    state: &AppState,
    need: &Need<perm::DevicesAdmin>,
    unit_id: i64,
    tenant: &str,
) -> ApiResult<OrgUnitId> {
    let unit = OrgUnitId(unit_id);
    let tree = state.tree();
    if !tree.contains(unit) {
        return Err(ApiError::field("unit_id", "no such unit"));
    }
    if !need.principal.can_at(Permission::DevicesAdmin, unit, &tree) {
        return Err(ApiError::forbidden());
    }
    if !tenant.is_empty() && !state.store.context_tenant_exists(tenant).await? {
        return Err(ApiError::field("tenant", "no such tenant"));
    }
    Ok(unit)
}

/// The device's entity with its name, place and a `refDevice`-style link back, unless it exists.
pub async fn create_entity(state: &AppState, device: &Device, name: &str, at: Option<Point>) -> ApiResult<()> {
    let core = Context::core();
    let mut entity =
        Entity { id: device.entity_id.clone(), types: vec![device.entity_type.clone()], ..Entity::default() };
    entity.attrs.insert(core.expand("name"), vec![Attribute::new(AttrKind::Property, json!(name))]);
    entity.attrs.insert(
        core.expand("source"),
        vec![Attribute::new(AttrKind::Property, json!(format!("device:{}", device.id)))],
    );
    if let Some(p) = at {
        entity.attrs.insert(
            core.expand("location"),
            vec![Attribute::new(AttrKind::GeoProperty, json!({"type": "Point", "coordinates": [p.lon, p.lat]}))],
        );
    }
    let access = std::sync::Arc::new(WriteAccess { unit: device.owner.id, scope: None, types: None });
    let results = crate::ngsi::write(state, &device.tenant, access, vec![WriteOp::Create { entity }])
        .await
        .map_err(|p| ApiError::Internal(p.0.to_string()))?;
    match results.into_iter().next() {
        Some(Err(e)) if e.kind != ErrorKind::AlreadyExists => Err(ApiError::field("entity_id", e.to_string())),
        _ => Ok(()),
    }
}

async fn visible(state: &AppState, need_unit: impl Fn(OrgUnitId) -> bool, id: &str) -> ApiResult<Device> {
    let id = DeviceId::parse(id).map_err(|_| ApiError::NotFound)?;
    let device = state.store.device(&id).await?;
    if !need_unit(device.owner.id) {
        return Err(ApiError::NotFound);
    }
    Ok(device)
}

#[utoipa::path(get, path = "/api/devices/{id}", tag = "devices", params(("id" = String, Path)),
    responses((status = 200, body = DeviceView), (status = 404, body = Problem)))]
async fn get_device(
    State(state): State<AppState>,
    need: Need<perm::ContextRead>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<DeviceView>> {
    let tree = state.tree();
    let device = visible(&state, |u| need.principal.can_at(Permission::ContextRead, u, &tree), &id).await?;
    Ok(axum::Json(view(&state, device)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceUpdate {
    name: Option<String>,
    model: Option<String>,
    #[schema(value_type = Option<Object>)]
    mapping: Option<Mapping>,
    silence_secs: Option<i64>,
    /// A disabled device's connections are refused.
    enabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/devices/{id}", tag = "devices", params(("id" = String, Path)),
    request_body = DeviceUpdate,
    responses((status = 200, body = DeviceView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_device(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Path(id): Path<String>,
    Json(req): Json<DeviceUpdate>,
) -> ApiResult<axum::Json<DeviceView>> {
    let tree = state.tree();
    let device = visible(&state, |u| need.principal.can_at(Permission::DevicesAdmin, u, &tree), &id).await?;
    let mut check = Checker::new();
    let name = req.name.as_deref().and_then(|n| text(&mut check, "name", n, 200));
    let model = req.model.as_deref().map(|m| optional_text(&mut check, "model", m, 100));
    check_mapping(&mut check, req.mapping.as_ref());
    check_silence(&mut check, req.silence_secs);
    check.finish()?;
    let patch = DevicePatch {
        name,
        model,
        mapping: req.mapping,
        silence_secs: req.silence_secs,
        enabled: req.enabled,
        key_hash: None,
    };
    let updated = state.store.update_device(&need.audit(), &device.id, patch).await?;
    state.devices.invalidate(&device.id);
    Ok(axum::Json(view(&state, updated)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewKey {
    /// The new key, shown this once; the old one no longer works for new connections.
    key: String,
    rotated_at: DateTime<Utc>,
}

#[utoipa::path(post, path = "/api/devices/{id}/key", tag = "devices", params(("id" = String, Path)),
    responses((status = 200, body = NewKey), (status = 404, body = Problem)))]
async fn rotate_key(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<NewKey>> {
    let tree = state.tree();
    let device = visible(&state, |u| need.principal.can_at(Permission::DevicesAdmin, u, &tree), &id).await?;
    let key = new_secret("hdk_");
    let patch = DevicePatch { key_hash: Some(key.hash), ..DevicePatch::default() };
    state.store.update_device(&need.audit(), &device.id, patch).await?;
    state.devices.invalidate(&device.id);
    Ok(axum::Json(NewKey { key: key.value, rotated_at: state.clock.now() }))
}

/// Removes a device from the registry; its entity and history stay.
#[utoipa::path(delete, path = "/api/devices/{id}", tag = "devices", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_device(
    State(state): State<AppState>,
    need: Need<perm::DevicesAdmin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let tree = state.tree();
    let device = visible(&state, |u| need.principal.can_at(Permission::DevicesAdmin, u, &tree), &id).await?;
    state.store.delete_device(&need.audit(), &device.id).await?;
    state.devices.invalidate(&device.id);
    Ok(StatusCode::NO_CONTENT)
}
