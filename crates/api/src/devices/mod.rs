//! Devices feeding context data over MQTT: the registry's in-memory side and the ingest path.
//!
//! [`Ingest`] is what the MQTT broker (embedded, or the bridge from an external broker) talks
//! to: it authenticates devices against the registry ([`haidang_mqtt::DeviceAuth`]) and turns
//! their JSON measures into attribute writes through the context writer
//! ([`haidang_mqtt::MeasureSink`]), answering only after the commit, so the broker acks a QoS 1
//! message only once it is durable.
//!
//! [`Devices`] keeps what the ingest path must not ask the database for on every message: the
//! devices it has seen (invalidated when an administrator changes one), activity counters
//! (flushed to the registry every few seconds), and who is connected now.

pub mod routes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use haidang_devices::{DeviceId, measure};
use haidang_mqtt::{AuthUnavailable, ConnectionEvent, DeviceAuth, DeviceSession, MeasureSink, Refusal, SinkError};
use haidang_ngsi::Context;
use haidang_store::StoreError;
use haidang_store::context::{Device, DeviceActivity, WriteAccess, WriteOp};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Whether a device is connected to the embedded broker now, and since when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Connection {
    pub connected: bool,
    pub since: DateTime<Utc>,
    /// Address of the live connection.
    pub peer: Option<String>,
    /// Why the last connection ended.
    pub last_disconnect: Option<String>,
}

struct Known {
    device: Device,
    access: Arc<WriteAccess>,
}

#[derive(Default)]
pub struct Devices {
    known: Mutex<HashMap<DeviceId, Arc<Known>>>,
    activity: Mutex<HashMap<DeviceId, DeviceActivity>>,
    connections: Mutex<HashMap<DeviceId, Connection>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Devices {
    /// Forgets a device after an administrator changed or removed it.
    pub fn invalidate(&self, id: &DeviceId) {
        lock(&self.known).remove(id);
    }

    pub fn connection(&self, id: &DeviceId) -> Option<Connection> {
        lock(&self.connections).get(id).cloned()
    }

    /// Activity counted since the last flush (added to the registry's figures on display).
    pub fn pending_activity(&self, id: &DeviceId) -> Option<DeviceActivity> {
        lock(&self.activity).get(id).cloned()
    }

    /// Writes the counted activity to the registry; on failure it is counted again later.
    pub async fn flush(&self, state: &AppState) -> Result<(), StoreError> {
        let taken: Vec<(DeviceId, DeviceActivity)> = lock(&self.activity).drain().collect();
        if let Err(e) = state.store.record_device_activity(&taken).await {
            let mut activity = lock(&self.activity);
            for (id, a) in taken {
                merge(activity.entry(id).or_default(), a);
            }
            return Err(e);
        }
        Ok(())
    }

    fn count(&self, id: &DeviceId, at: DateTime<Utc>, outcome: Result<(), &str>) {
        let mut activity = lock(&self.activity);
        let a = activity.entry(id.clone()).or_default();
        merge(
            a,
            DeviceActivity {
                last_seen: Some(at),
                messages: 1,
                rejected: i64::from(outcome.is_err()),
                last_error: outcome.err().map(|e| (e.to_owned(), at)),
            },
        );
    }

    async fn known(&self, state: &AppState, id: &DeviceId) -> Result<Option<Arc<Known>>, StoreError> {
        if let Some(k) = lock(&self.known).get(id) {
            return Ok(Some(k.clone()));
        }
        let Some(creds) = state.store.device_credentials(id).await? else { return Ok(None) };
        Ok(Some(self.remember(creds.device)))
    }

    fn remember(&self, device: Device) -> Arc<Known> {
        let mut types = vec![device.entity_type.clone()];
        let core = Context::core();
        types.extend(device.mapping.rules.iter().filter_map(|r| r.entity_type.as_deref()).map(|t| core.expand(t)));
        // A device writes only the entities its mapping names, whatever their place: its
        // provisioning decided that, so the writer's unit scope does not narrow it further.
        let access = Arc::new(WriteAccess { unit: device.owner.id, scope: None, types: Some(types) });
        let known = Arc::new(Known { device, access });
        lock(&self.known).insert(known.device.id.clone(), known.clone());
        known
    }
}

fn merge(into: &mut DeviceActivity, a: DeviceActivity) {
    into.last_seen = into.last_seen.max(a.last_seen);
    into.messages += a.messages;
    into.rejected += a.rejected;
    if a.last_error.is_some() {
        into.last_error = a.last_error;
    }
}

/// The broker's view of the platform.
#[derive(Clone)]
pub struct Ingest(pub AppState);

impl DeviceAuth for Ingest {
    async fn authenticate(
        &self,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<DeviceSession, Refusal> {
        let (Some(user), Some(key)) = (username, password) else { return Err(Refusal::BadCredentials) };
        let Ok(id) = DeviceId::parse(user) else { return Err(Refusal::BadCredentials) };
        let creds = match self.0.store.device_credentials(&id).await {
            Ok(Some(c)) => c,
            Ok(None) => return Err(Refusal::BadCredentials),
            Err(e) => return Err(Refusal::Unavailable(e.to_string())),
        };
        let given = haidang_auth::hash_secret(std::str::from_utf8(key).unwrap_or_default());
        if !bool::from(subtle::ConstantTimeEq::ct_eq(given.as_bytes(), creds.key_hash.as_bytes())) {
            return Err(Refusal::BadCredentials);
        }
        // The client id is the device's own (or left to the broker): one device cannot take
        // over another's session.
        if !creds.device.enabled || !(client_id.is_empty() || client_id == id.as_str()) {
            return Err(Refusal::NotAuthorized);
        }
        let session = DeviceSession::with_device_prefixes(id.as_str(), creds.device.tenant.clone());
        self.0.devices.remember(creds.device);
        Ok(session)
    }

    async fn session_for_topic(&self, topic: &str) -> Result<Option<DeviceSession>, AuthUnavailable> {
        let Some((id, _)) = DeviceId::from_topic(topic) else { return Ok(None) };
        let known = self.0.devices.known(&self.0, &id).await.map_err(|e| AuthUnavailable(e.to_string()))?;
        Ok(known
            .filter(|k| k.device.enabled)
            .map(|k| DeviceSession::with_device_prefixes(id.as_str(), k.device.tenant.clone())))
    }
}

impl MeasureSink for Ingest {
    async fn publish(&self, session: &DeviceSession, topic: &str, payload: Bytes) -> Result<(), SinkError> {
        let state = &self.0;
        let received = state.clock.now();
        let Some((id, suffix)) = DeviceId::from_topic(topic) else {
            return Err(SinkError::Rejected(format!("{topic} is not a device topic")));
        };
        let known = match state.devices.known(state, &id).await {
            Ok(Some(k)) if k.device.enabled && id.as_str() == session.device_id => k,
            Ok(_) => return Err(SinkError::Rejected(format!("device {id} is unknown or disabled"))),
            Err(e) => return Err(SinkError::Unavailable(e.to_string())),
        };
        let result = self.store(&known, suffix, &payload, received).await;
        match &result {
            Err(SinkError::Unavailable(_)) => {}
            Err(SinkError::Rejected(reason)) => state.devices.count(&id, received, Err(reason)),
            Ok(()) => state.devices.count(&id, received, Ok(())),
        }
        result
    }

    fn connection(&self, session: &DeviceSession, event: ConnectionEvent) {
        let Ok(id) = DeviceId::parse(&session.device_id) else { return };
        let now = self.0.clock.now();
        let mut connections = lock(&self.0.devices.connections);
        let c = connections.entry(id).or_insert(Connection {
            connected: false,
            since: now,
            peer: None,
            last_disconnect: None,
        });
        match event {
            ConnectionEvent::Connected { peer, .. } => {
                *c = Connection { connected: true, since: now, peer: Some(peer.to_string()), ..c.clone() }
            }
            ConnectionEvent::Disconnected { reason, .. } => {
                *c = Connection {
                    connected: false,
                    since: now,
                    peer: None,
                    last_disconnect: Some(format!("{reason:?}")),
                }
            }
        }
    }
}

impl Ingest {
    async fn store(
        &self,
        known: &Known,
        suffix: &str,
        payload: &[u8],
        received: DateTime<Utc>,
    ) -> Result<(), SinkError> {
        let device = &known.device;
        let readings = measure::parse_payload(payload).map_err(|e| SinkError::Rejected(e.to_string()))?;
        let updates = device
            .mapping
            .updates(suffix, (&device.entity_id, &device.entity_type), readings, received, &Context::core())
            .map_err(|e| SinkError::Rejected(e.to_string()))?;
        if updates.is_empty() {
            return Ok(());
        }
        let ops = updates.into_iter().map(|u| WriteOp::Upsert { entity: u.fragment, replace: false }).collect();
        let results = crate::ngsi::write(&self.0, &device.tenant, known.access.clone(), ops)
            .await
            .map_err(|p| SinkError::Unavailable(p.0.to_string()))?;
        match results.into_iter().find_map(Result::err) {
            Some(e) => Err(SinkError::Rejected(e.to_string())),
            None => Ok(()),
        }
    }
}
