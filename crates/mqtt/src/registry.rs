//! Live connections by client id (for take-over and command delivery) and the in-memory sessions
//! of devices that connected with `clean_session = 0`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::Publish;
use tokio::sync::{mpsc, oneshot};

/// What survives a `clean_session = 0` connection.
#[derive(Debug, Default, Clone)]
pub(crate) struct SessionState {
    pub subscriptions: Vec<(String, QoS)>,
    /// QoS 2 packet ids committed and PUBREC'd but not yet released: a resend is a duplicate.
    pub qos2_committed: HashSet<u16>,
}

struct Stored {
    device_id: String,
    state: SessionState,
    saved: Instant,
}

pub(crate) struct Live {
    pub conn_id: u64,
    pub device_id: String,
    /// Tells the connection to close; it answers by dropping the sender it is given once its
    /// session is saved, so the new connection resumes the latest state.
    pub kick: oneshot::Sender<oneshot::Sender<()>>,
    pub deliver: mpsc::Sender<Publish>,
}

#[derive(Default)]
struct Inner {
    live: HashMap<String, Live>,
    stored: HashMap<String, Stored>,
}

pub(crate) struct Registry {
    inner: Mutex<Inner>,
    session_expiry: Duration,
    max_stored_sessions: usize,
}

pub(crate) enum Claim {
    /// Registered; if another connection held the client id, it must be kicked with this.
    Claimed(Option<oneshot::Sender<oneshot::Sender<()>>>),
    /// The client id is connected as another device: refuse rather than let one device knock
    /// another off.
    OtherDevice,
}

impl Registry {
    pub fn new(session_expiry: Duration, max_stored_sessions: usize) -> Self {
        Registry { inner: Mutex::new(Inner::default()), session_expiry, max_stored_sessions }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves plain maps behind, still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn claim(&self, client_key: &str, live: Live) -> Claim {
        let mut inner = self.lock();
        if let Some(old) = inner.live.get(client_key)
            && old.device_id != live.device_id
        {
            return Claim::OtherDevice;
        }
        let old = inner.live.insert(client_key.to_owned(), live);
        Claim::Claimed(old.map(|o| o.kick))
    }

    /// Takes the stored session to resume (`clean_session = 0`) or forgets it (`= 1`).
    pub fn take_session(&self, client_key: &str, device_id: &str, clean: bool) -> Option<SessionState> {
        let mut inner = self.lock();
        let stored = inner.stored.remove(client_key)?;
        if clean || stored.device_id != device_id || stored.saved.elapsed() > self.session_expiry {
            return None;
        }
        Some(stored.state)
    }

    /// Unregisters a connection (unless another took over its client id) and, for a persistent
    /// session, keeps its state.
    pub fn release(&self, client_key: &str, conn_id: u64, device_id: &str, keep: Option<SessionState>) {
        let mut inner = self.lock();
        if inner.live.get(client_key).is_some_and(|l| l.conn_id == conn_id) {
            inner.live.remove(client_key);
        }
        if let Some(state) = keep {
            if inner.stored.len() >= self.max_stored_sessions {
                // Only when full: a sweep per disconnect would cost O(sessions) each time.
                let expiry = self.session_expiry;
                inner.stored.retain(|_, s| s.saved.elapsed() <= expiry);
            }
            if inner.stored.len() >= self.max_stored_sessions && !inner.stored.contains_key(client_key) {
                tracing::warn!(client_id = client_key, "too many stored MQTT sessions; this one is not kept");
                return;
            }
            inner.stored.insert(
                client_key.to_owned(),
                Stored { device_id: device_id.to_owned(), state, saved: Instant::now() },
            );
        }
    }

    /// Queues a publish on every live connection of the device; returns how many took it.
    pub fn deliver(&self, device_id: &str, publish: &Publish) -> usize {
        let inner = self.lock();
        inner
            .live
            .values()
            .filter(|l| l.device_id == device_id)
            .filter(|l| l.deliver.try_send(publish.clone()).is_ok())
            .count()
    }

    pub fn live_count(&self) -> usize {
        self.lock().live.len()
    }
}
