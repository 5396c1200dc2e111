//! Where devices' measures come from: the embedded MQTT broker (the default), or a bridge from
//! an external broker the configuration names.

use std::sync::Arc;

use anyhow::Context;
use haidang_api::AppState;
use haidang_api::devices::Ingest;
use haidang_mqtt::{BridgeConfig, Broker, BrokerConfig, run_bridge};
use tokio::net::TcpListener;

use crate::config::Mqtt;

pub enum Devices {
    Embedded(TcpListener),
    External(Box<BridgeConfig>),
    Off,
}

impl Devices {
    /// Binds the embedded broker's address now, so a busy port stops the start with a clear
    /// message before anything is served.
    pub async fn prepare(config: &Mqtt) -> anyhow::Result<Devices> {
        if let Some(ext) = &config.external {
            let mut cfg = BridgeConfig::new(&ext.host, ext.port, &ext.client_id, ext.topics.clone());
            cfg.username = ext.username.clone();
            cfg.password = ext.password.clone();
            cfg.tls = ext.tls;
            if let Some(ca) = &ext.ca_file {
                cfg.tls_ca_pem =
                    Some(std::fs::read(ca).with_context(|| format!("reading mqtt.external.ca_file {}", ca.display()))?);
            }
            return Ok(Devices::External(Box::new(cfg)));
        }
        if config.listen.is_empty() {
            return Ok(Devices::Off);
        }
        let listener = TcpListener::bind(&config.listen).await.with_context(|| {
            format!(
                "cannot listen for MQTT on {}: another program (a Mosquitto?) may use it; choose another address with --mqtt-listen or mqtt.listen, or \"\" for none",
                config.listen
            )
        })?;
        Ok(Devices::Embedded(listener))
    }

    /// What the demo prints.
    pub fn describe(&self) -> String {
        match self {
            Devices::Embedded(l) => match l.local_addr() {
                Ok(a) => format!("mqtt://{a}  (embedded broker)"),
                Err(_) => "embedded broker".into(),
            },
            Devices::External(cfg) => {
                format!("mqtt{}://{}:{}  (external broker)", if cfg.tls { "s" } else { "" }, cfg.host, cfg.port)
            }
            Devices::Off => "off".into(),
        }
    }

    /// Runs until `shutdown`; measures in flight are committed and acknowledged before it ends.
    pub fn spawn(
        self,
        state: AppState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let ingest = Arc::new(Ingest(state));
        match self {
            Devices::Embedded(listener) => {
                tracing::info!(address = ?listener.local_addr().ok(), "embedded MQTT broker listening");
                let broker = Broker::new(BrokerConfig::default(), ingest.clone(), ingest);
                Some(tokio::spawn(async move {
                    if let Err(e) = broker.serve(listener, shutdown).await {
                        tracing::error!(error = %e, "the embedded MQTT broker stopped");
                    }
                }))
            }
            Devices::External(cfg) => {
                tracing::info!(host = %cfg.host, port = cfg.port, "taking device measures from an external MQTT broker");
                Some(tokio::spawn(async move {
                    if let Err(e) = run_bridge(*cfg, ingest.clone(), ingest, shutdown).await {
                        tracing::error!(error = %e, "the MQTT bridge stopped");
                    }
                }))
            }
            Devices::Off => None,
        }
    }
}
