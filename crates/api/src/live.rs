//! The live channel: modules publish events, browsers receive those they may see over SSE.

use haidang_core::OrgUnitId;
use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    /// What changed, e.g. `org-units`, `duty`, `audit`.
    pub topic: &'static str,
    pub data: serde_json::Value,
    /// The unit the event concerns; only callers who may read that unit receive it.
    #[serde(skip)]
    pub unit: Option<OrgUnitId>,
}

pub struct Live {
    tx: broadcast::Sender<LiveEvent>,
    closed: tokio::sync::watch::Sender<bool>,
}

impl Live {
    pub fn new() -> Self {
        // Slow receivers lose old events (and are told so) rather than holding memory.
        let (tx, _) = broadcast::channel(1024);
        Self { tx, closed: tokio::sync::watch::channel(false).0 }
    }

    /// Ends every open stream (at shutdown, so graceful shutdown does not wait on them).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Resolves when the channel is closed.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.closed.subscribe();
        async move {
            let _ = rx.wait_for(|closed| *closed).await;
        }
    }

    pub fn publish(&self, topic: &'static str, unit: Option<OrgUnitId>, data: serde_json::Value) {
        let _ = self.tx.send(LiveEvent { topic, data, unit });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}
