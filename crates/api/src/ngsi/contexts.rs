//! User `@context`s: fetched over HTTP(S) with a timeout and a size limit, cached, and the
//! inline ones served back at `/ngsi-ld/v1/jsonldContexts/{id}` so a `Link` header can name
//! them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use haidang_ngsi::context::{CORE_CONTEXT_URL, ContextLoader};
use haidang_ngsi::{Context, ErrorKind, NgsiError};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::http::{LD_JSON, Problem};
use crate::state::AppState;

const MAX_CONTEXT_BYTES: usize = 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a fetched document is trusted before it is fetched again.
const KEEP: Duration = Duration::from_secs(3600);
const MAX_CACHED: usize = 512;

pub struct ContextCache {
    http: reqwest::Client,
    documents: Mutex<HashMap<String, (Arc<Value>, Instant)>>,
    resolved: Mutex<HashMap<String, (Arc<Context>, Instant)>>,
    /// Inline contexts by id, to be linked.
    served: Mutex<HashMap<String, Value>>,
}

impl Default for ContextCache {
    fn default() -> Self {
        Self::new()
    }
}

impl ContextCache {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent("Hai Dang NGSI-LD broker")
            .build()
            .unwrap_or_default();
        Self { http, documents: Mutex::default(), resolved: Mutex::default(), served: Mutex::default() }
    }

    /// Processes a `@context` value (from a `Link` header, a body or a subscription).
    pub async fn resolve(&self, value: &Value) -> Result<Arc<Context>, NgsiError> {
        let key = value.to_string();
        if let Some((ctx, at)) = self.resolved.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && at.elapsed() < KEEP
        {
            return Ok(ctx.clone());
        }
        let ctx = Context::resolve(value, &Loader(self)).await?;
        let mut resolved = self.resolved.lock().unwrap_or_else(|p| p.into_inner());
        if resolved.len() >= MAX_CACHED {
            resolved.clear();
        }
        resolved.insert(key, (ctx.clone(), Instant::now()));
        Ok(ctx)
    }

    /// A URL that names `ctx`: the client's own context URL, the core context's, or one this
    /// server serves for an inline context.
    pub fn link_for(&self, ctx: &Context) -> String {
        let source = ctx.source();
        let items: Vec<&Value> = match &source {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let own: Vec<&Value> = items.into_iter().filter(|v| v.as_str() != Some(CORE_CONTEXT_URL)).collect();
        match own.as_slice() {
            [] => CORE_CONTEXT_URL.to_owned(),
            [Value::String(url)] => url.clone(),
            _ => {
                let doc = serde_json::json!({ "@context": source });
                let id = hex::encode(&Sha256::digest(doc.to_string().as_bytes())[..12]);
                let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
                if served.len() >= MAX_CACHED {
                    served.clear();
                }
                served.insert(id.clone(), doc);
                format!("/ngsi-ld/v1/jsonldContexts/{id}")
            }
        }
    }

    async fn fetch(&self, url: &str) -> Result<Arc<Value>, NgsiError> {
        if let Some((doc, at)) = self.documents.lock().unwrap_or_else(|p| p.into_inner()).get(url)
            && at.elapsed() < KEEP
        {
            return Ok(doc.clone());
        }
        let unavailable = |why: String| NgsiError::new(ErrorKind::LdContextNotAvailable, format!("{url}: {why}"));
        let parsed = reqwest::Url::parse(url).map_err(|_| NgsiError::bad_data(format!("{url} is not a URL")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(NgsiError::bad_data(format!("{url}: contexts are fetched over http or https only")));
        }
        let res = self
            .http
            .get(parsed)
            .header(header::ACCEPT, "application/ld+json, application/json;q=0.9")
            .send()
            .await
            .map_err(|e| unavailable(format!("could not be fetched ({e})")))?;
        if !res.status().is_success() {
            return Err(unavailable(format!("answered {}", res.status())));
        }
        if res.content_length().is_some_and(|n| n as usize > MAX_CONTEXT_BYTES) {
            return Err(unavailable(format!("larger than {MAX_CONTEXT_BYTES} bytes")));
        }
        let mut body = Vec::new();
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| unavailable(format!("broke off ({e})")))?;
            if body.len() + chunk.len() > MAX_CONTEXT_BYTES {
                return Err(unavailable(format!("larger than {MAX_CONTEXT_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let doc: Value = serde_json::from_slice(&body).map_err(|e| unavailable(format!("is not JSON ({e})")))?;
        let doc = Arc::new(doc);
        let mut docs = self.documents.lock().unwrap_or_else(|p| p.into_inner());
        if docs.len() >= MAX_CACHED {
            docs.clear();
        }
        docs.insert(url.to_owned(), (doc.clone(), Instant::now()));
        Ok(doc)
    }
}

struct Loader<'a>(&'a ContextCache);

impl ContextLoader for Loader<'_> {
    async fn load(&self, url: &str) -> Result<Arc<Value>, NgsiError> {
        self.0.fetch(url).await
    }
}

/// `GET /ngsi-ld/v1/jsonldContexts/{id}`: an inline context this server linked to.
pub async fn served(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let doc = state.ngsi.contexts.served.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned();
    match doc {
        Some(doc) => {
            let mut res = (StatusCode::OK, doc.to_string()).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(LD_JSON));
            res
        }
        None => Problem(NgsiError::not_found(format!("no context {id}")), None).into_response(),
    }
}
