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
//! What is processed, and how (a subset of the JSON-LD 1.1 context processing algorithm):
//! - a context value is a URL string, an object, `null` (resets the user terms) or an array of
//!   those, processed in order, later definitions winning;
//! - a URL of any version of the core context (`…/ngsi-ld-core-context.jsonld`,
//!   `…-v1.3.jsonld` … `…-v1.8.jsonld`) is never loaded: the bundled V1.8 core context is used;
//! - any other URL is loaded through the [`ContextLoader`] and its `@context` member processed
//!   in place (nested remote contexts at most [`MAX_DEPTH`] deep, at most [`MAX_REMOTE`] of
//!   them per resolution, a URL including itself is an error);
//! - in a context object: `@vocab`, `@version` (must be 1.1), `@protected`, `@base`,
//!   `@language`, `@direction`, `@propagate` (accepted and ignored), terms mapped to an IRI,
//!   a compact IRI `prefix:suffix`, a keyword, `null`, or an expanded definition
//!   `{"@id", "@type", "@container", "@prefix", "@protected", …}`. A scoped context (a term
//!   definition with its own `@context`) is refused with `BadRequestData` (clause 5.5.7: "this
//!   user @context shall not contain JSON-LD Scoped Contexts"); anything else malformed is
//!   `InvalidRequest`;
//! - the core context is applied after the user's, so its terms (and its `@vocab`) win.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use crate::error::{ErrorKind, NgsiError};

/// The URL of the core context this broker answers with (V1.8).
pub const CORE_CONTEXT_URL: &str = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

/// The bundled core context document (ETSI GS CIM 009 V1.8.1, annex B).
pub const CORE_CONTEXT_JSON: &str = include_str!("../data/ngsi-ld-core-context-v1.8.jsonld");

/// The NGSI-LD namespace every core term lives in.
pub const NGSI_LD: &str = "https://uri.etsi.org/ngsi-ld/";

/// The default vocabulary of the core context: where undefined terms expand to.
pub const DEFAULT_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

/// How deep remote contexts may include remote contexts.
pub const MAX_DEPTH: usize = 8;

/// How many remote contexts one resolution may load.
pub const MAX_REMOTE: usize = 32;

/// Whether `url` names the core context (any published version), which is never loaded.
pub fn is_core_context_url(url: &str) -> bool {
    let Some(name) = url
        .strip_prefix("https://uri.etsi.org/ngsi-ld/v1/")
        .or_else(|| url.strip_prefix("http://uri.etsi.org/ngsi-ld/v1/"))
    else {
        return false;
    };
    if name == "ngsi-ld-core-context.jsonld" {
        return true;
    }
    match name.strip_prefix("ngsi-ld-core-context-v1.").and_then(|rest| rest.strip_suffix(".jsonld")) {
        Some(minor) => matches!(minor, "3" | "4" | "5" | "6" | "7" | "8"),
        None => false,
    }
}

/// Where remote contexts come from: the API layer fetches over HTTP(S) with a cache, a
/// timeout and a size limit; tests use a map. Core-context URLs (any version) never reach the
/// loader.
pub trait ContextLoader: Send + Sync {
    /// The parsed JSON document at `url` (a document with an `@context` member).
    /// Errors: `LdContextNotAvailable` when it cannot be fetched, `InvalidRequest` /
    /// `BadRequestData` when it is not a JSON-LD context.
    fn load(&self, url: &str) -> impl Future<Output = Result<Arc<Value>, NgsiError>> + Send;
}

/// A loader that knows a fixed set of documents (tests, or contexts stored by the broker).
/// Any other URL is `LdContextNotAvailable`.
#[derive(Debug, Clone, Default)]
pub struct MapLoader(pub HashMap<String, Value>);

impl MapLoader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a document (with its `@context` member) at `url`.
    pub fn with(mut self, url: impl Into<String>, document: Value) -> Self {
        self.0.insert(url.into(), document);
        self
    }
}

impl ContextLoader for MapLoader {
    fn load(&self, url: &str) -> impl Future<Output = Result<Arc<Value>, NgsiError>> + Send {
        let found = self.0.get(url).cloned();
        let url = url.to_string();
        async move {
            found.map(Arc::new).ok_or_else(|| {
                NgsiError::new(ErrorKind::LdContextNotAvailable, format!("the @context at {url} cannot be retrieved"))
            })
        }
    }
}

/// One active term definition.
#[derive(Debug, Clone, PartialEq)]
pub struct TermDef {
    /// The expanded IRI (or keyword such as `@id`, `@type`).
    pub iri: String,
    /// The `@type` coercion, expanded (`@id`, `@vocab`, `@json` or a datatype IRI).
    pub type_mapping: Option<String>,
    /// The `@container` value(s).
    pub container: Vec<String>,
    /// Whether the term may be used as the prefix of a compact IRI.
    pub prefix: bool,
}

/// A processed context: the active term definitions, the core context's included.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    terms: HashMap<String, TermDef>,
    vocab: Option<String>,
    /// IRI → the term that compacts it (the shortest, then the lexicographically least).
    reverse: HashMap<String, String>,
    /// (IRI, prefix term) usable for compact IRIs, longest IRI first.
    prefixes: Vec<(String, String)>,
    source: Value,
}

fn invalid(detail: impl Into<String>) -> NgsiError {
    NgsiError::invalid_request(detail)
}

/// `scheme:` at the start (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":").
fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else { return false };
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// In expansion any term mapped to an IRI may serve as the prefix of a compact IRI (as in
/// JSON-LD 1.0, which many NGSI-LD contexts are written for); compaction only uses terms whose
/// IRI ends with a gen-delim character or that are flagged `@prefix`.
fn usable_as_prefix(def: &TermDef) -> bool {
    !def.iri.starts_with('@')
}

/// The parsed bundled core context.
struct Core {
    terms: HashMap<String, TermDef>,
    vocab: Option<String>,
}

fn core_defs() -> &'static Core {
    static CORE: OnceLock<Core> = OnceLock::new();
    CORE.get_or_init(|| {
        let doc: Value = serde_json::from_str(CORE_CONTEXT_JSON).expect("the bundled core context is valid JSON");
        let Some(Value::Object(obj)) = doc.get("@context") else { panic!("the bundled core context has no @context") };
        let mut state = State { terms: HashMap::new(), vocab: None, done: HashSet::new() };
        state.process_object(obj, false).expect("the bundled core context is a valid context");
        Core { terms: state.terms, vocab: state.vocab }
    })
}

/// The active context while processing.
struct State {
    terms: HashMap<String, TermDef>,
    vocab: Option<String>,
    /// Terms of the context object being processed that are already defined.
    done: HashSet<String>,
}

impl State {
    /// Expands `value` as an IRI with vocab-relative resolution, while `local` definitions are
    /// being created (they are defined on demand, `defining` detects cycles).
    fn expand_iri(
        &mut self,
        value: &str,
        local: &Map<String, Value>,
        defining: &mut HashSet<String>,
        fallback_core: bool,
    ) -> Result<String, NgsiError> {
        if value.starts_with('@') {
            return Ok(value.to_string());
        }
        if local.contains_key(value) && !self.done.contains(value) {
            if defining.contains(value) {
                return Err(invalid(format!("cyclic IRI mapping for the term '{value}' in @context")));
            }
            self.create_term(value, local, defining, fallback_core)?;
        }
        if let Some(def) = self.terms.get(value) {
            return Ok(def.iri.clone());
        }
        if let Some(colon) = value.find(':') {
            let (prefix, suffix) = (&value[..colon], &value[colon + 1..]);
            if prefix == "_" || suffix.starts_with("//") {
                return Ok(value.to_string());
            }
            if local.contains_key(prefix) && !self.done.contains(prefix) && !defining.contains(prefix) {
                self.create_term(prefix, local, defining, fallback_core)?;
            }
            if let Some(def) = self.terms.get(prefix).filter(|d| usable_as_prefix(d)) {
                return Ok(format!("{}{}", def.iri, suffix));
            }
            if fallback_core && let Some(def) = core_defs().terms.get(prefix).filter(|d| usable_as_prefix(d)) {
                return Ok(format!("{}{}", def.iri, suffix));
            }
            return Ok(value.to_string());
        }
        match &self.vocab {
            Some(vocab) => Ok(format!("{vocab}{value}")),
            None if fallback_core => Ok(format!("{DEFAULT_VOCAB}{value}")),
            None => Ok(value.to_string()),
        }
    }

    fn create_term(
        &mut self,
        term: &str,
        local: &Map<String, Value>,
        defining: &mut HashSet<String>,
        fallback_core: bool,
    ) -> Result<(), NgsiError> {
        if defining.contains(term) {
            return Err(invalid(format!("cyclic IRI mapping for the term '{term}' in @context")));
        }
        let Some(def) = local.get(term) else { return Ok(()) };
        if term.is_empty() {
            return Err(invalid("a @context defines an empty term"));
        }
        if term.starts_with('@') {
            // Keyword-like terms are ignored by JSON-LD 1.1 (with a warning).
            return Ok(());
        }
        defining.insert(term.to_string());
        let result = self.define(term, def, local, defining, fallback_core);
        defining.remove(term);
        self.done.insert(term.to_string());
        result
    }

    fn define(
        &mut self,
        term: &str,
        def: &Value,
        local: &Map<String, Value>,
        defining: &mut HashSet<String>,
        fallback_core: bool,
    ) -> Result<(), NgsiError> {
        match def {
            Value::Null => {
                self.terms.remove(term);
                Ok(())
            }
            Value::String(iri) => {
                let expanded = self.expand_term_iri(term, iri, local, defining, fallback_core)?;
                let prefix = !term.contains(':') && expanded.ends_with(['/', '#', '?', '[', ']', '@', ':']);
                self.terms.insert(
                    term.to_string(),
                    TermDef { iri: expanded, type_mapping: None, container: Vec::new(), prefix },
                );
                Ok(())
            }
            Value::Object(obj) => {
                if obj.contains_key("@context") {
                    return Err(NgsiError::bad_data(format!(
                        "the term '{term}' has a scoped @context: a user @context shall not contain JSON-LD scoped contexts (clause 5.5.7)"
                    )));
                }
                if obj.contains_key("@reverse") {
                    // Reverse properties have no meaning for NGSI-LD names: leave the term undefined.
                    return Ok(());
                }
                let iri = match obj.get("@id") {
                    Some(Value::String(id)) => self.expand_term_iri(term, id, local, defining, fallback_core)?,
                    Some(Value::Null) => {
                        self.terms.remove(term);
                        return Ok(());
                    }
                    Some(_) => {
                        return Err(invalid(format!("the @id of the term '{term}' in @context is not a string")));
                    }
                    None => self.expand_term_iri(term, term, local, defining, fallback_core)?,
                };
                let type_mapping = match obj.get("@type") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(t)) if matches!(t.as_str(), "@id" | "@vocab" | "@json" | "@none") => {
                        Some(t.clone())
                    }
                    Some(Value::String(t)) => Some(self.expand_iri(t, local, defining, fallback_core)?),
                    Some(_) => {
                        return Err(invalid(format!("the @type of the term '{term}' in @context is not a string")));
                    }
                };
                let container = match obj.get("@container") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::String(c)) => vec![c.clone()],
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|c| c.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| invalid(format!("the @container of the term '{term}' is not a string")))?,
                    Some(_) => return Err(invalid(format!("the @container of the term '{term}' is not a string"))),
                };
                let prefix = match obj.get("@prefix") {
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(invalid(format!("the @prefix of the term '{term}' is not a boolean"))),
                    None => false,
                };
                for key in obj.keys() {
                    if !matches!(
                        key.as_str(),
                        "@id"
                            | "@type"
                            | "@container"
                            | "@prefix"
                            | "@protected"
                            | "@language"
                            | "@direction"
                            | "@index"
                            | "@nest"
                    ) {
                        return Err(invalid(format!("the term '{term}' in @context has an invalid member '{key}'")));
                    }
                }
                self.terms.insert(term.to_string(), TermDef { iri, type_mapping, container, prefix });
                Ok(())
            }
            _ => Err(invalid(format!(
                "the definition of the term '{term}' in @context is neither a string nor an object"
            ))),
        }
    }

    /// The IRI a term definition maps to: a term mapped to itself (or a value without `:`) is
    /// vocab-relative.
    fn expand_term_iri(
        &mut self,
        term: &str,
        iri: &str,
        local: &Map<String, Value>,
        defining: &mut HashSet<String>,
        fallback_core: bool,
    ) -> Result<String, NgsiError> {
        if iri == term {
            if term.contains(':') {
                return self.expand_iri(term, local, defining, fallback_core);
            }
            return Ok(match &self.vocab {
                Some(vocab) => format!("{vocab}{term}"),
                None => format!("{DEFAULT_VOCAB}{term}"),
            });
        }
        self.expand_iri(iri, local, defining, fallback_core)
    }

    fn process_object(&mut self, obj: &Map<String, Value>, fallback_core: bool) -> Result<(), NgsiError> {
        match obj.get("@version") {
            None => {}
            Some(v) if v.as_f64() == Some(1.1) => {}
            Some(v) => return Err(invalid(format!("unsupported @version {v} in @context (only 1.1)"))),
        }
        if obj.contains_key("@import") {
            return Err(invalid("@import in @context is not supported"));
        }
        for keyword in ["@protected", "@propagate"] {
            if let Some(v) = obj.get(keyword)
                && !v.is_boolean()
            {
                return Err(invalid(format!("{keyword} in @context must be a boolean")));
            }
        }
        self.done.clear();
        let mut defining = HashSet::new();
        match obj.get("@vocab") {
            None => {}
            Some(Value::Null) => self.vocab = None,
            Some(Value::String(v)) => {
                let expanded = if v.is_empty() {
                    return Err(invalid("@vocab in @context is empty"));
                } else if v.contains(':') {
                    self.expand_iri(v, obj, &mut defining, fallback_core)?
                } else {
                    return Err(invalid(format!("@vocab '{v}' in @context is not an IRI")));
                };
                self.vocab = Some(expanded);
            }
            Some(_) => return Err(invalid("@vocab in @context is not a string")),
        }
        for term in obj.keys() {
            if term.starts_with('@') {
                continue;
            }
            if self.done.contains(term) {
                continue;
            }
            self.create_term(term, obj, &mut defining, fallback_core)?;
        }
        Ok(())
    }
}

/// A context item after remote documents have been inlined.
enum Item {
    Reset,
    Object(Map<String, Value>),
}

type Flattening<'a> = Pin<Box<dyn Future<Output = Result<(), NgsiError>> + Send + 'a>>;

fn flatten<'a, L: ContextLoader>(
    value: &'a Value,
    loader: &'a L,
    chain: Vec<String>,
    out: &'a mut Vec<Item>,
    loaded: &'a mut usize,
) -> Flattening<'a> {
    Box::pin(async move {
        match value {
            Value::Null => out.push(Item::Reset),
            Value::Object(obj) => out.push(Item::Object(obj.clone())),
            Value::Array(items) => {
                for item in items {
                    if item.is_array() {
                        return Err(invalid("a @context array contains an array"));
                    }
                    flatten(item, loader, chain.clone(), out, loaded).await?;
                }
            }
            Value::String(url) => {
                if is_core_context_url(url) {
                    return Ok(());
                }
                if !has_scheme(url) || url.chars().any(char::is_whitespace) {
                    return Err(invalid(format!("the @context '{url}' is not an absolute URL")));
                }
                if chain.iter().any(|u| u == url) {
                    return Err(invalid(format!("the @context at {url} includes itself")));
                }
                if chain.len() >= MAX_DEPTH {
                    return Err(invalid(format!("remote @context nested deeper than {MAX_DEPTH} levels at {url}")));
                }
                *loaded += 1;
                if *loaded > MAX_REMOTE {
                    return Err(invalid(format!("more than {MAX_REMOTE} remote @context documents")));
                }
                let doc = loader.load(url).await?;
                let Some(inner) = doc.get("@context") else {
                    return Err(invalid(format!("the document at {url} has no @context member")));
                };
                let mut chain = chain;
                chain.push(url.clone());
                flatten(inner, loader, chain, out, loaded).await?;
            }
            _ => return Err(invalid("a @context is neither a URL, an object nor an array")),
        }
        Ok(())
    })
}

impl Context {
    /// The core context alone (what a request without a user context uses).
    pub fn core() -> Arc<Context> {
        static CORE: OnceLock<Arc<Context>> = OnceLock::new();
        CORE.get_or_init(|| Arc::new(Context::build(HashMap::new(), Value::String(CORE_CONTEXT_URL.to_string()))))
            .clone()
    }

    /// Processes a `@context` value (a URL string, an object, or an array of both), loading
    /// remote documents through `loader` (recursively, with a depth limit).
    pub async fn resolve(value: &Value, loader: &impl ContextLoader) -> Result<Arc<Context>, NgsiError> {
        match value {
            Value::Null => return Ok(Context::core()),
            Value::String(url) if is_core_context_url(url) => return Ok(Context::core()),
            _ => {}
        }
        let mut items = Vec::new();
        let mut loaded = 0;
        flatten(value, loader, Vec::new(), &mut items, &mut loaded).await?;
        let mut state = State { terms: HashMap::new(), vocab: None, done: HashSet::new() };
        for item in &items {
            match item {
                Item::Reset => {
                    state.terms.clear();
                    state.vocab = None;
                }
                Item::Object(obj) => state.process_object(obj, true)?,
            }
        }
        Ok(Arc::new(Context::build(state.terms, source_of(value))))
    }

    /// Processes a `@context` value that needs no loading (objects and core-context URLs
    /// only); any other URL is `LdContextNotAvailable`.
    pub fn resolve_local(value: &Value) -> Result<Arc<Context>, NgsiError> {
        let loader = MapLoader::new();
        let mut fut = std::pin::pin!(Context::resolve(value, &loader));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(result) => result,
            std::task::Poll::Pending => unreachable!("MapLoader futures are always ready"),
        }
    }

    fn build(user_terms: HashMap<String, TermDef>, source: Value) -> Context {
        let core = core_defs();
        let mut terms = user_terms;
        for (term, def) in &core.terms {
            terms.insert(term.clone(), def.clone());
        }
        let vocab = core.vocab.clone();
        let mut reverse: HashMap<String, String> = HashMap::new();
        let mut prefixes = Vec::new();
        for (term, def) in &terms {
            if def.iri.starts_with('@') {
                continue;
            }
            if def.prefix {
                prefixes.push((def.iri.clone(), term.clone()));
            }
            match reverse.get(&def.iri) {
                Some(existing) if (existing.len(), existing.as_str()) <= (term.len(), term.as_str()) => {}
                _ => {
                    reverse.insert(def.iri.clone(), term.clone());
                }
            }
        }
        prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.1.cmp(&b.1)));
        Context { terms, vocab, reverse, prefixes, source }
    }

    /// The term definition of `term`, if the context has one.
    pub fn term(&self, term: &str) -> Option<&TermDef> {
        self.terms.get(term)
    }

    /// The active `@vocab`.
    pub fn vocab(&self) -> Option<&str> {
        self.vocab.as_deref()
    }

    /// Expands a term used as an attribute name or entity type. Full IRIs come back unchanged.
    pub fn expand(&self, term: &str) -> String {
        if term.starts_with('@') {
            return term.to_string();
        }
        if let Some(def) = self.terms.get(term) {
            return def.iri.clone();
        }
        if let Some(colon) = term.find(':') {
            let (prefix, suffix) = (&term[..colon], &term[colon + 1..]);
            if prefix == "_" || suffix.starts_with("//") {
                return term.to_string();
            }
            if let Some(def) = self.terms.get(prefix).filter(|d| usable_as_prefix(d)) {
                return format!("{}{}", def.iri, suffix);
            }
            return term.to_string();
        }
        match &self.vocab {
            Some(vocab) => format!("{vocab}{term}"),
            None => term.to_string(),
        }
    }

    /// Compacts an expanded IRI back to the shortest term or compact IRI this context defines;
    /// otherwise the IRI itself.
    pub fn compact(&self, iri: &str) -> String {
        if iri.starts_with('@') {
            return match iri {
                "@id" => "id".to_string(),
                "@type" => "type".to_string(),
                _ => iri.to_string(),
            };
        }
        if let Some(term) = self.reverse.get(iri) {
            return term.clone();
        }
        if let Some(vocab) = &self.vocab
            && let Some(rest) = iri.strip_prefix(vocab.as_str())
            && !rest.is_empty()
            && !rest.contains(':')
            && !self.terms.contains_key(rest)
        {
            return rest.to_string();
        }
        for (prefix_iri, prefix) in &self.prefixes {
            if let Some(suffix) = iri.strip_prefix(prefix_iri.as_str())
                && !suffix.is_empty()
            {
                let candidate = format!("{prefix}:{suffix}");
                if !self.terms.contains_key(&candidate) && !suffix.starts_with("//") {
                    return candidate;
                }
            }
        }
        iri.to_string()
    }

    /// The value to echo as `@context` (in bodies with `application/ld+json`, notifications)
    /// or to link: the URL(s) / object the client gave, followed by the core context URL.
    pub fn source(&self) -> Value {
        self.source.clone()
    }

    /// The user part of [`Context::source`] when it is a single URL (for a `Link` header),
    /// `None` for the core context alone or for inline contexts.
    pub fn link_url(&self) -> Option<&str> {
        match &self.source {
            Value::Array(items) if items.len() == 2 => items[0].as_str(),
            _ => None,
        }
    }
}

/// The client's context value with core-context URLs of any version removed and the V1.8 core
/// URL appended.
fn source_of(value: &Value) -> Value {
    let mut items: Vec<Value> = match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    };
    items.retain(|v| !matches!(v, Value::String(s) if is_core_context_url(s)));
    if items.is_empty() {
        return Value::String(CORE_CONTEXT_URL.to_string());
    }
    items.push(Value::String(CORE_CONTEXT_URL.to_string()));
    Value::Array(items)
}
