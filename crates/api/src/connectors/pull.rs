//! Scheduled pulls: fetch a JSON document, map its items, upsert the entities, record health.

use std::time::Duration;

use futures_util::StreamExt;
use haidang_devices::PullConfig;
use haidang_devices::records::items;
use haidang_store::context::{Connector, ConnectorKind};
use serde_json::Value;

use super::{MAX_FILE_BYTES, MAX_RECORDS, map_records, write};
use crate::state::AppState;

const FETCH_TIMEOUT: Duration = Duration::from_secs(20);

/// What one run did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RunOutcome {
    /// Entities written.
    pub written: usize,
    /// Items that could not be mapped (first few, with why).
    pub refused: Vec<String>,
    pub refused_count: usize,
    pub error: Option<String>,
}

/// Runs one pull now and records its outcome in the connector's health.
pub async fn run(state: &AppState, connector: &Connector) -> Result<RunOutcome, haidang_store::StoreError> {
    let outcome = match serde_json::from_value::<PullConfig>(connector.config.clone()) {
        Ok(cfg) => pull(state, connector, &cfg).await,
        Err(e) => Err(format!("bad configuration: {e}")),
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(error) => RunOutcome { written: 0, refused: Vec::new(), refused_count: 0, error: Some(error) },
    };
    let recorded = match &outcome.error {
        Some(e) => Err(e.as_str()),
        None if outcome.refused_count > 0 && outcome.written == 0 => Err(outcome.refused[0].as_str()),
        None => Ok(outcome.written),
    };
    state.store.record_connector_run(&connector.id, recorded).await?;
    Ok(outcome)
}

async fn pull(state: &AppState, connector: &Connector, cfg: &PullConfig) -> Result<RunOutcome, String> {
    let doc = fetch(cfg).await?;
    let list = items(&doc, cfg.items.as_deref())?;
    if list.len() > MAX_RECORDS {
        return Err(format!("{} items: at most {MAX_RECORDS} are taken per pull", list.len()));
    }
    let records: Vec<Value> = list.into_iter().cloned().collect();
    let (entities, refused) = map_records(&cfg.mapping, &records, 1, state);
    let written = write(state, connector, &cfg.mapping, entities).await.map_err(|e| e.to_string())?;
    Ok(RunOutcome {
        written,
        refused_count: refused.len(),
        refused: refused.iter().take(5).map(|r| format!("item {}: {}", r.record, r.reason)).collect(),
        error: None,
    })
}

async fn fetch(cfg: &PullConfig) -> Result<Value, String> {
    let client = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().map_err(|e| e.to_string())?;
    let mut req = client.get(&cfg.url).header("accept", "application/json");
    for (k, v) in &cfg.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let res = req.send().await.map_err(|e| format!("fetching {}: {e}", cfg.url))?;
    if !res.status().is_success() {
        return Err(format!("{} answered HTTP {}", cfg.url, res.status().as_u16()));
    }
    let mut body = Vec::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("reading {}: {e}", cfg.url))?;
        if body.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(format!("the document is larger than {} MiB", MAX_FILE_BYTES >> 20));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("the document is not JSON: {e}"))
}

/// Pulls whose time has come: enabled, and never run or last run `everySecs` ago.
pub async fn due(state: &AppState) -> Result<Vec<Connector>, haidang_store::StoreError> {
    let now = state.clock.now();
    Ok(state
        .store
        .connectors(None)
        .await?
        .into_iter()
        .filter(|c| c.kind == ConnectorKind::Pull && c.enabled)
        .filter(|c| {
            let every = c.config.get("everySecs").and_then(Value::as_i64).unwrap_or(i64::MAX);
            c.last_run.is_none_or(|t| (now - t).num_seconds() >= every)
        })
        .collect())
}
