//! The listener: accepts connections up to the limit, runs one task per connection, and on
//! shutdown lets every connection drain its in-flight publishes before returning.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::Publish;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::registry::Registry;
use crate::{DeviceAuth, MeasureSink, connection};

/// Limits and timeouts of the embedded broker.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Largest packet accepted (remaining length); a larger one closes the connection.
    pub max_packet_bytes: usize,
    /// Connections beyond this are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Sink calls of one connection running at once; beyond it the connection stops reading.
    pub max_inflight: usize,
    /// Time a new connection has to send its CONNECT (against slowloris).
    pub connect_timeout: Duration,
    /// A write to a device that doesn't read for this long closes its connection.
    pub write_timeout: Duration,
    /// On shutdown, how long connections may take to finish their in-flight publishes.
    pub drain_timeout: Duration,
    /// How long a disconnected `clean_session = 0` session is kept.
    pub session_expiry: Duration,
    /// Sessions kept for disconnected devices, at most.
    pub max_stored_sessions: usize,
    /// Commands (`publish_to_device`) queued per connection before new ones are dropped.
    pub command_queue: usize,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            max_packet_bytes: 64 * 1024,
            max_connections: 10_000,
            max_inflight: 64,
            connect_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            session_expiry: Duration::from_secs(24 * 3600),
            max_stored_sessions: 100_000,
            command_queue: 64,
        }
    }
}

pub(crate) struct Shared<A, S> {
    pub cfg: BrokerConfig,
    pub auth: Arc<A>,
    pub sink: Arc<S>,
    pub registry: Arc<Registry>,
    pub next_conn_id: AtomicU64,
}

impl<A, S> Shared<A, S> {
    pub fn conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// The embedded broker, before it serves.
pub struct Broker<A, S> {
    shared: Arc<Shared<A, S>>,
}

/// Sends commands to connected devices; cheap to clone, usable while the broker serves.
#[derive(Clone)]
pub struct BrokerHandle {
    registry: Arc<Registry>,
}

impl BrokerHandle {
    /// Queues `payload` on `topic` for every live connection of `device_id`; each delivers it if
    /// the device subscribed to a matching filter, at the lower of `qos` and the subscription's QoS
    /// (QoS 2 is sent as 1). Returns the number of connections it was queued on. Best effort: a
    /// device that is offline, or whose queue is full, does not get it, and nothing is resent.
    pub fn publish_to_device(&self, device_id: &str, topic: &str, payload: Bytes, qos: QoS) -> usize {
        let publish = Publish::from_bytes(topic, qos, payload);
        self.registry.deliver(device_id, &publish)
    }

    /// Devices connected right now.
    pub fn connections(&self) -> usize {
        self.registry.live_count()
    }
}

impl<A: DeviceAuth, S: MeasureSink> Broker<A, S> {
    pub fn new(cfg: BrokerConfig, auth: Arc<A>, sink: Arc<S>) -> Self {
        let registry = Arc::new(Registry::new(cfg.session_expiry, cfg.max_stored_sessions));
        Broker { shared: Arc::new(Shared { cfg, auth, sink, registry, next_conn_id: AtomicU64::new(1) }) }
    }

    pub fn handle(&self) -> BrokerHandle {
        BrokerHandle { registry: self.shared.registry.clone() }
    }

    /// Serves devices on `listener` until `shutdown` resolves, then stops accepting, lets each
    /// connection finish (and ack) its in-flight publishes for up to `drain_timeout`, and returns.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let shared = self.shared;
        let slots = Arc::new(Semaphore::new(shared.cfg.max_connections));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tracing::info!(addr = ?listener.local_addr().ok(), "MQTT broker listening");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Err(e) = joined
                        && e.is_panic()
                    {
                        tracing::error!(error = %e, "MQTT connection task panicked");
                    }
                }
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Per-connection errors (reset before accept, out of file descriptors)
                            // must not stop the broker; the pause avoids a hot loop on EMFILE.
                            tracing::warn!(error = %e, "MQTT accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = slots.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, max = shared.cfg.max_connections, "MQTT connection limit reached; closing");
                        drop(stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    let stop = stop_rx.clone();
                    tasks.spawn(async move {
                        connection::run(shared, stream, peer, stop).await;
                        drop(permit);
                    });
                }
            }
        }
        drop(listener);
        tracing::info!(connections = tasks.len(), "MQTT broker shutting down; draining connections");
        let _ = stop_tx.send(true);
        let drained =
            tokio::time::timeout(shared.cfg.drain_timeout, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(left = tasks.len(), "MQTT connections did not drain in time; aborting them");
            tasks.shutdown().await;
        }
        Ok(())
    }
}

/// Runs the embedded broker on `listener` until `shutdown` resolves (see [`Broker::serve`]). Use
/// [`Broker`] directly to keep a [`BrokerHandle`] for commands.
pub async fn serve<A: DeviceAuth, S: MeasureSink>(
    listener: TcpListener,
    cfg: BrokerConfig,
    auth: Arc<A>,
    sink: Arc<S>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    Broker::new(cfg, auth, sink).serve(listener, shutdown).await
}
