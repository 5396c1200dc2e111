//! MQTT for Hải Đăng's devices: an embedded MQTT 3.1.1 broker ([`serve`], [`Broker`]) and a bridge
//! from an external broker ([`run_bridge`]).
//!
//! The crate knows nothing of NGSI-LD or the database. It talks to the rest of the platform through
//! two traits: [`DeviceAuth`] (who a device is, from its credentials or from a topic) and
//! [`MeasureSink`] (where a published measure goes, and connection events for health pages).
//!
//! # Why a server of our own
//!
//! Off-the-shelf brokers accept a PUBLISH, acknowledge it, and hand it on later. For a measure that
//! must not be lost that is the wrong way round: a QoS 1 PUBACK (or QoS 2 PUBREC) is the broker
//! telling the device "you may forget this message", so it is sent here **only after
//! [`MeasureSink::publish`] has resolved**, i.e. after the measure is committed. If the store is
//! unavailable the message is not acknowledged and the connection is closed, so the device keeps the
//! message and resends it when it reconnects. The server also authenticates each device against our
//! registry and enforces topic ACLs (a device publishes only under its own prefix), and it is small:
//! the packet framing is rumqttc's 3.1.1 codec (`rumqttc::mqttbytes::v4`), which parses and writes
//! every packet; only the session logic is ours.
//!
//! # Acks in order, without a round trip per message
//!
//! MQTT 3.1.1 §4.6 requires PUBACKs (and PUBRECs) in the order the PUBLISHes arrived. Waiting for
//! each commit before reading the next PUBLISH would cost a round trip to the store per message and
//! defeat the sink's group commit. So each connection keeps up to [`BrokerConfig::max_inflight`]
//! sink futures running at once in a `FuturesOrdered`: they progress concurrently (and can land in
//! the same group commit), but their results are taken, and acked, in arrival order. When the cap
//! is reached the connection stops reading, and TCP flow control slows the device down.
//!
//! # Sessions
//!
//! `clean_session = 0` is honoured in memory: the device's subscriptions and its QoS 2 packet ids
//! already committed (awaiting PUBREL) are kept after it disconnects, and a reconnect with
//! `clean_session = 0` gets `session present = 1`. That matters for at-least-once delivery: clients
//! such as rumqttc discard their unacknowledged messages when the server says it has no session, so
//! without it a message refused with [`SinkError::Unavailable`] would never be resent. Sessions are
//! not persisted across a restart of the server, and commands published to an offline device are
//! not queued.
//!
//! # Deliberately left out
//!
//! Will messages are accepted and ignored (the sink's `Disconnected` event, with its reason, is
//! what health pages need); the retain flag is ignored; commands to devices
//! ([`BrokerHandle::publish_to_device`]) go out at QoS 0 or 1, only to connected devices; MQTT 3.1
//! and 5 are refused; the listener is plain TCP (the connection handler is generic over the
//! stream, so TLS is a matter of wrapping the accepted socket).
//!
//! # The bridge
//!
//! [`run_bridge`] subscribes to an external broker with rumqttc (manual acks, persistent session)
//! and feeds the same sink, with the same rule: an external message is acked only after the sink has
//! committed (or rejected) it; on [`SinkError::Unavailable`] the bridge drops its connection without
//! acking, and the external broker redelivers when the bridge reconnects.

use std::future::Future;
use std::net::SocketAddr;

pub use bytes::Bytes;
pub use rumqttc::mqttbytes::QoS;

mod bridge;
mod broker;
mod connection;
mod registry;
pub mod topic;

pub use bridge::{BridgeConfig, BridgeError, run_bridge};
pub use broker::{Broker, BrokerConfig, BrokerHandle, serve};

/// Who a connected device is and what it may publish and subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSession {
    pub device_id: String,
    pub tenant: String,
    /// Topics the device may publish to start with this, e.g. `devices/{device_id}/`.
    pub publish_prefix: String,
    /// Topic filters the device may subscribe to start with this, e.g. `devices/{device_id}/cmd/`.
    pub subscribe_prefix: String,
}

impl DeviceSession {
    /// The usual layout: publishes under `devices/{id}/`, commands under `devices/{id}/cmd/`.
    pub fn with_device_prefixes(device_id: impl Into<String>, tenant: impl Into<String>) -> Self {
        let device_id = device_id.into();
        DeviceSession {
            publish_prefix: format!("devices/{device_id}/"),
            subscribe_prefix: format!("devices/{device_id}/cmd/"),
            device_id,
            tenant: tenant.into(),
        }
    }
}

/// Why a CONNECT was refused; each maps to a CONNACK return code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 0x04: unknown device or wrong key.
    BadCredentials,
    /// 0x05: known device that may not connect (disabled, wrong tenant, client id not its own…).
    NotAuthorized,
    /// 0x03: the registry could not be asked; the device should retry later rather than give up.
    Unavailable(String),
}

/// The registry could not be asked (database down…): try again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device registry unavailable: {0}")]
pub struct AuthUnavailable(pub String);

/// Device authentication and topic ownership, backed by the platform's device registry.
pub trait DeviceAuth: Send + Sync + 'static {
    /// Checks a CONNECT's credentials (username = device id, password = device key, by
    /// convention). `username`/`password` are `None` when absent or empty. The client id is the
    /// CONNECT's as sent (possibly empty); an implementation may require it to equal the device id.
    /// Device keys must be text: the codec reads the password as UTF-8, and a CONNECT with a
    /// binary password is closed as malformed. Called with the connect timeout as deadline (then
    /// CONNACK 0x03).
    fn authenticate(
        &self,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> impl Future<Output = Result<DeviceSession, Refusal>> + Send;

    /// For the bridge: the session of the device a topic belongs to (no password: the external
    /// broker authenticated the publisher). `Ok(None)`: no such device, the message is dropped.
    fn session_for_topic(
        &self,
        topic: &str,
    ) -> impl Future<Output = Result<Option<DeviceSession>, AuthUnavailable>> + Send;
}

/// Why the sink did not store a measure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Bad payload: acknowledged anyway (resending it won't help); the sink records it in the
    /// device's health.
    #[error("measure rejected: {0}")]
    Rejected(String),
    /// Store unavailable: not acknowledged, and the connection is closed so the device resends.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Where device messages go.
pub trait MeasureSink: Send + Sync + 'static {
    /// Stores one message. For QoS 1 and 2 the device is acknowledged only once this resolves with
    /// `Ok` or [`SinkError::Rejected`].
    ///
    /// Several calls of one connection run concurrently (up to the in-flight cap) and are
    /// acknowledged in arrival order, so a sink may batch them into one commit. The returned future
    /// may be dropped before it completes (the device's connection died): the message may then be
    /// stored or not, and the device resends what was not acknowledged, so delivery is
    /// at-least-once and the sink should tolerate duplicates.
    fn publish(
        &self,
        session: &DeviceSession,
        topic: &str,
        payload: Bytes,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Connection events, for device health pages. Called from the connection's task: keep it
    /// quick (record, don't await).
    fn connection(&self, session: &DeviceSession, event: ConnectionEvent);
}

/// A device connected or disconnected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionEvent {
    Connected { client_id: String, peer: SocketAddr },
    Disconnected { client_id: String, reason: DisconnectReason },
}

/// Why a device's connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The device sent DISCONNECT.
    ClientDisconnect,
    /// The socket closed or failed without a DISCONNECT.
    ConnectionLost(String),
    /// Nothing received within 1.5 × the device's keep-alive.
    KeepAliveTimeout,
    /// Malformed, oversized or out-of-place packet.
    ProtocolViolation(String),
    /// Published outside its own topics; MQTT 3.1.1 lets the server only close the connection.
    AclViolation { topic: String },
    /// Another connection with the same client id took over (MQTT 3.1.1 §3.1.4).
    TakenOver,
    /// The sink could not store a QoS 1/2 message: closed without acking it, so the device resends.
    SinkUnavailable(String),
    /// The broker is shutting down.
    ServerShutdown,
}
