//! JSON-LD `@context` processing for NGSI-LD (clause 5.5.7): enough of JSON-LD 1.1 to expand
//! and compact entity type names, attribute names and vocab values — term definitions (string
//! or object with `@id` / `@type`), `@vocab`, prefixes and compact IRIs, arrays of contexts,
//! nested remote contexts — and the core context, bundled and always applied last so its terms
//! cannot be redefined.
//!
//! Remote contexts are fetched by the caller through [`ContextLoader`]; this module only says
//! which URLs it needs. Terms not defined anywhere expand into the default vocabulary
//! `https://uri.etsi.org/ngsi-ld/default-context/`, as the core context's `@vocab` says.
//!
//! TODO(helper B): everything marked `todo!()`.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::error::NgsiError;

/// The URL of the core context this broker answers with (V1.8).
pub const CORE_CONTEXT_URL: &str = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

/// Where remote contexts come from: the API layer fetches over HTTP(S) with a cache, a
/// timeout and a size limit; tests use a map. Core-context URLs (any version) never reach the
/// loader.
pub trait ContextLoader: Send + Sync {
    /// The parsed JSON document at `url` (a document with an `@context` member).
    /// Errors: `LdContextNotAvailable` when it cannot be fetched, `InvalidRequest` /
    /// `BadRequestData` when it is not a JSON-LD context.
    fn load(&self, url: &str) -> impl Future<Output = Result<Arc<Value>, NgsiError>> + Send;
}

/// A processed context: the active term definitions, the core context's included.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    // TODO(helper B): term map, vocab, reverse map for compaction, the source value (to send
    // back in bodies or notifications).
}

impl Context {
    /// The core context alone (what a request without a user context uses).
    pub fn core() -> Arc<Context> {
        todo!()
    }

    /// Processes a `@context` value (a URL string, an object, or an array of both), loading
    /// remote documents through `loader` (recursively, with a depth limit).
    pub async fn resolve(_value: &Value, _loader: &impl ContextLoader) -> Result<Arc<Context>, NgsiError> {
        todo!()
    }

    /// Expands a term used as an attribute name or entity type. Full IRIs come back unchanged.
    pub fn expand(&self, _term: &str) -> String {
        todo!()
    }

    /// Compacts an expanded IRI back to the shortest term or compact IRI this context defines;
    /// otherwise the IRI itself.
    pub fn compact(&self, _iri: &str) -> String {
        todo!()
    }

    /// The value to echo as `@context` (in bodies with `application/ld+json`, notifications)
    /// or to link: the URL(s) / object the client gave, followed by the core context URL.
    pub fn source(&self) -> Value {
        todo!()
    }
}
