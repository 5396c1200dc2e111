//! A client of an external broker that feeds device messages to the same sink, acking each one
//! only after the sink has committed (or rejected) it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesOrdered, StreamExt};
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{Packet, Publish, SubscribeFilter, SubscribeReasonCode};
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Outgoing, TlsConfiguration, Transport};
use tokio::sync::mpsc;

use crate::{AuthUnavailable, DeviceAuth, MeasureSink, SinkError};

/// Where the external broker is and what to take from it.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    pub host: String,
    pub port: u16,
    /// Must be stable across restarts: the external broker keeps the bridge's session (and the
    /// messages that arrive while it is away) under this id.
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Topic filters to subscribe to, e.g. `devices/+/measures`.
    pub topics: Vec<String>,
    /// Subscription QoS; 1 (the default) is what makes ack-after-commit mean anything.
    pub qos: QoS,
    pub tls: bool,
    /// PEM certificates to trust instead of the system's CA store (a provincial private CA).
    pub tls_ca_pem: Option<Vec<u8>>,
    pub keep_alive: Duration,
    /// `false` (the default): the external broker queues messages while the bridge is away and
    /// redelivers unacked ones when it reconnects.
    pub clean_session: bool,
    /// Sink calls running at once; beyond it the bridge stops taking messages from the broker.
    pub max_inflight: usize,
    pub max_packet_bytes: usize,
    /// Reconnection back-off: doubles from `reconnect_min` up to `reconnect_max`.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// On shutdown, how long in-flight messages may take to be stored and acked.
    pub drain_timeout: Duration,
}

impl BridgeConfig {
    pub fn new(host: impl Into<String>, port: u16, client_id: impl Into<String>, topics: Vec<String>) -> Self {
        BridgeConfig {
            host: host.into(),
            port,
            client_id: client_id.into(),
            username: None,
            password: None,
            topics,
            qos: QoS::AtLeastOnce,
            tls: false,
            tls_ca_pem: None,
            keep_alive: Duration::from_secs(30),
            clean_session: false,
            max_inflight: 64,
            max_packet_bytes: 64 * 1024,
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// A configuration the bridge can't run with; connection failures are retried, not returned.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("invalid MQTT bridge configuration: {0}")]
    Config(String),
    #[error("MQTT bridge TLS configuration: {0}")]
    Tls(String),
}

/// Runs the bridge until `shutdown` resolves: connects, subscribes to `topics`, hands each message
/// to the sink as the device its topic belongs to ([`DeviceAuth::session_for_topic`]), and acks it
/// once the sink returns `Ok` or [`SinkError::Rejected`] (or the topic belongs to no device:
/// resending won't change that). On [`SinkError::Unavailable`] it drops the connection without
/// acking, and reconnects with back-off so the broker redelivers. On shutdown, in-flight messages
/// are stored and acked (for up to `drain_timeout`) before it disconnects.
pub async fn run_bridge<A: DeviceAuth, S: MeasureSink>(
    cfg: BridgeConfig,
    auth: Arc<A>,
    sink: Arc<S>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), BridgeError> {
    let options = mqtt_options(&cfg)?;
    tokio::pin!(shutdown);
    let mut backoff = cfg.reconnect_min;
    loop {
        match session(&cfg, options.clone(), &auth, &sink, &mut shutdown).await {
            End::Shutdown => return Ok(()),
            End::Failed { connected, store_down, error } => {
                // A connection that worked resets the back-off, unless our store failed: then the
                // broker would redeliver into a store still down, every `reconnect_min`.
                if connected && !store_down {
                    backoff = cfg.reconnect_min;
                }
                tracing::warn!(host = cfg.host, port = cfg.port, error, retry_in = ?backoff, "MQTT bridge connection ended");
            }
        }
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(cfg.reconnect_max.max(cfg.reconnect_min));
    }
}

fn mqtt_options(cfg: &BridgeConfig) -> Result<MqttOptions, BridgeError> {
    if cfg.client_id.is_empty() {
        return Err(BridgeError::Config("client_id is empty".into()));
    }
    if cfg.topics.is_empty() || !cfg.topics.iter().all(|t| crate::topic::is_valid_topic_filter(t)) {
        return Err(BridgeError::Config(format!("invalid topic filters {:?}", cfg.topics)));
    }
    if !cfg.keep_alive.is_zero() && cfg.keep_alive < Duration::from_secs(1) {
        return Err(BridgeError::Config("keep_alive must be 0 or at least 1 s".into()));
    }
    let mut o = MqttOptions::new(cfg.client_id.clone(), cfg.host.clone(), cfg.port);
    o.set_keep_alive(cfg.keep_alive)
        .set_clean_session(cfg.clean_session)
        .set_manual_acks(true)
        .set_max_packet_size(cfg.max_packet_bytes, cfg.max_packet_bytes);
    if cfg.username.is_some() || cfg.password.is_some() {
        o.set_credentials(cfg.username.clone().unwrap_or_default(), cfg.password.clone().unwrap_or_default());
    }
    if cfg.tls {
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(Arc::new(tls_config(
            cfg.tls_ca_pem.as_deref(),
        )?))));
    }
    Ok(o)
}

fn tls_config(ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, BridgeError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| BridgeError::Tls(format!("CA PEM: {e}")))?;
                roots.add(cert).map_err(|e| BridgeError::Tls(format!("CA certificate: {e}")))?;
            }
        }
        None => {
            let loaded = rustls_native_certs::load_native_certs();
            for e in &loaded.errors {
                tracing::warn!(error = %e, "system CA store partly unreadable");
            }
            roots.add_parsable_certificates(loaded.certs);
        }
    }
    if roots.is_empty() {
        return Err(BridgeError::Tls("no trusted CA certificate".into()));
    }
    // The provider is named rather than taken from the process default, so another crate enabling
    // aws-lc in the same binary can't make the builder panic on an ambiguous default.
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| BridgeError::Tls(e.to_string()))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

enum End {
    Shutdown,
    Failed { connected: bool, store_down: bool, error: String },
}

type Stored = Pin<Box<dyn Future<Output = (Publish, Result<(), SinkError>)> + Send>>;

/// One connection to the external broker, with its own rumqttc client and event loop, so an ack
/// can never reach a later connection where the packet id means another message.
async fn session<A: DeviceAuth, S: MeasureSink>(
    cfg: &BridgeConfig,
    options: MqttOptions,
    auth: &Arc<A>,
    sink: &Arc<S>,
    shutdown: &mut Pin<&mut impl Future<Output = ()>>,
) -> End {
    let max_inflight = cfg.max_inflight.max(1);
    // Room for every ack we can owe plus the subscribe and disconnect: try_ack never finds it full.
    let (client, mut eventloop) = AsyncClient::new(options, max_inflight + 8);
    // The event loop runs in its own task: polling it inside our select! would cancel it midway
    // whenever a commit completes first, and it must keep pinging while the sink is slow.
    let (ev_tx, mut ev_rx) = mpsc::channel::<Result<Event, ConnectionError>>(max_inflight);
    let poller = tokio::spawn(async move {
        loop {
            let ev = eventloop.poll().await;
            let failed = ev.is_err();
            if ev_tx.send(ev).await.is_err() || failed {
                break;
            }
        }
    });
    let _poller = AbortOnDrop(poller);
    let mut pending: FuturesOrdered<Stored> = FuturesOrdered::new();
    let mut connected = false;
    let failed = |connected: bool, error: String| End::Failed { connected, store_down: false, error };
    loop {
        tokio::select! {
            biased;
            () = shutdown.as_mut() => {
                drain_and_disconnect(cfg, &client, &mut pending, &mut ev_rx).await;
                return End::Shutdown;
            }
            Some((publish, result)) = pending.next(), if !pending.is_empty() => {
                if let Err(e) = ack_if_stored(&client, &publish, result) {
                    return End::Failed { connected, store_down: e.store_down, error: e.message };
                }
            }
            ev = ev_rx.recv(), if pending.len() < max_inflight => match ev {
                None => return failed(connected, "event loop ended".into()),
                Some(Err(e)) => return failed(connected, e.to_string()),
                Some(Ok(Event::Incoming(Packet::ConnAck(ack)))) => {
                    connected = true;
                    tracing::info!(host = cfg.host, port = cfg.port, session_present = ack.session_present, "MQTT bridge connected");
                    // Subscribing again on a resumed session is harmless and picks up a changed
                    // topic list; the broker may resend retained messages (at-least-once anyway).
                    let filters = cfg.topics.iter().map(|t| SubscribeFilter::new(t.clone(), cfg.qos));
                    if let Err(e) = client.try_subscribe_many(filters) {
                        return failed(connected, format!("subscribe: {e}"));
                    }
                }
                Some(Ok(Event::Incoming(Packet::SubAck(ack)))) => {
                    if ack.return_codes.contains(&SubscribeReasonCode::Failure) {
                        tracing::error!(topics = ?cfg.topics, codes = ?ack.return_codes, "MQTT bridge subscription refused by the broker");
                    }
                }
                Some(Ok(Event::Incoming(Packet::Publish(publish)))) => {
                    let auth = auth.clone();
                    let sink = sink.clone();
                    pending.push_back(Box::pin(async move {
                        let result = store(&*auth, &*sink, &publish).await;
                        (publish, result)
                    }));
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn store<A: DeviceAuth, S: MeasureSink>(auth: &A, sink: &S, publish: &Publish) -> Result<(), SinkError> {
    match auth.session_for_topic(&publish.topic).await {
        // The registry's answer is checked like a device's own publish, so a wrong prefix can't
        // file a measure under a device whose topics these are not.
        Ok(Some(session)) if crate::topic::may_publish(&session.publish_prefix, &publish.topic) => {
            sink.publish(&session, &publish.topic, publish.payload.clone()).await
        }
        Ok(Some(session)) => {
            tracing::warn!(
                topic = publish.topic,
                device = session.device_id,
                "bridged topic outside the device's prefix; dropped"
            );
            Ok(())
        }
        Ok(None) => {
            tracing::warn!(topic = publish.topic, "MQTT bridge message for no known device; dropped");
            Ok(())
        }
        Err(AuthUnavailable(e)) => Err(SinkError::Unavailable(e)),
    }
}

struct AckFailed {
    store_down: bool,
    message: String,
}

fn ack_if_stored(client: &AsyncClient, publish: &Publish, result: Result<(), SinkError>) -> Result<(), AckFailed> {
    match result {
        Ok(()) => {}
        Err(SinkError::Rejected(e)) => tracing::debug!(topic = publish.topic, error = e, "bridged message rejected"),
        Err(SinkError::Unavailable(e)) if publish.qos == QoS::AtMostOnce => {
            tracing::warn!(topic = publish.topic, error = e, "bridged QoS 0 message dropped: store unavailable");
            return Ok(());
        }
        // Not acked; dropping the connection makes the broker redeliver it (and what followed).
        Err(SinkError::Unavailable(e)) => {
            return Err(AckFailed { store_down: true, message: format!("store unavailable: {e}") });
        }
    }
    client.try_ack(publish).map_err(|e| AckFailed { store_down: false, message: format!("ack: {e}") })
}

async fn drain_and_disconnect(
    cfg: &BridgeConfig,
    client: &AsyncClient,
    pending: &mut FuturesOrdered<Stored>,
    ev_rx: &mut mpsc::Receiver<Result<Event, ConnectionError>>,
) {
    let drained = tokio::time::timeout(cfg.drain_timeout, async {
        while let Some((publish, result)) = pending.next().await {
            if ack_if_stored(client, &publish, result).is_err() {
                break;
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(left = pending.len(), "MQTT bridge drain timed out; those messages will be redelivered");
    }
    // The acks sit in the client's queue ahead of the DISCONNECT; wait until the event loop has
    // written the DISCONNECT, so they have all gone out.
    if client.try_disconnect().is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(ev) = ev_rx.recv().await {
                match ev {
                    Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_needs_a_trusted_ca() {
        assert!(matches!(tls_config(Some(b"not a certificate")), Err(BridgeError::Tls(_))));
    }

    #[test]
    fn options_are_checked_before_connecting() {
        let ok = BridgeConfig::new("broker.invalid", 8883, "hd", vec!["devices/+/measures".into()]);
        assert!(mqtt_options(&ok).is_ok());
        let mut short_keep_alive = ok.clone();
        short_keep_alive.keep_alive = Duration::from_millis(500);
        assert!(matches!(mqtt_options(&short_keep_alive), Err(BridgeError::Config(_))));
        let mut no_topics = ok;
        no_topics.topics.clear();
        assert!(matches!(mqtt_options(&no_topics), Err(BridgeError::Config(_))));
    }
}
