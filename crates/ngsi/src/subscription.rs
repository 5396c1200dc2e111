//! Subscriptions and notifications (ETSI GS CIM 009 V1.8.1 clauses 5.2.12 Subscription, 5.2.14
//! Notification / NotificationParams, 5.2.15 Endpoint, 5.8 subscription operations, 5.11
//! notification behaviour), as pure logic: parsing and checking a subscription body (create and
//! PATCH fragment), rendering it back with a client's context, deciding whether a change of an
//! entity triggers it, and building the notification body.
//!
//! Names are held expanded, as everywhere in this crate. The stored form
//! ([`Subscription::to_stored`]) is the rendered form with names left expanded (the `q` in its
//! canonical `<IRI>` text), read back by the same parser.
//!
//! # What triggers a notification (clause 5.11, `notificationTrigger`)
//!
//! A change of one entity (its state `before` and `after` a committed write, and the names of
//! the attributes the write touched) triggers an active subscription when
//! - the entity matches one of `entities` (type, and `id` / `idPattern` when given), or
//!   `entities` is absent;
//! - `q` and `geoQ` match the entity as it is after the change (as it was, for a deletion);
//! - the change is of a kind listed in `notificationTrigger` (default `attributeCreated`,
//!   `attributeUpdated`): an entity created (`entityCreated`, and `attributeCreated` since its
//!   attributes are created with it), an attribute written that existed
//!   (`attributeUpdated`) or not (`attributeCreated`), an attribute removed
//!   (`attributeDeleted`), any of those three (`entityUpdated`), the entity deleted
//!   (`entityDeleted`). With `watchedAttributes`, only changes of those attributes count (a
//!   created entity counts when it has one of them).
//!
//! Whether the subscription is active (`isActive`, `expiresAt`) and whether the subscriber may
//! see the entity are the caller's checks.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::entity::validate::{is_absolute_uri, is_valid_name, parse_date_time};
use crate::entity::{AttrKind, Entity, Format, NGSI_LD_NULL, RenderOptions, format_timestamp, names};
use crate::error::{ErrorKind, NgsiError};
use crate::geoquery::GeoQuery;
use crate::query::{ParseOptions, Query};

/// Ids the broker gives subscriptions and notifications start with these.
pub const SUBSCRIPTION_ID_PREFIX: &str = "urn:ngsi-ld:Subscription:";
pub const NOTIFICATION_ID_PREFIX: &str = "urn:ngsi-ld:Notification:";

/// `receiverInfo` / `notifierInfo` entries at most, and their sizes.
const MAX_INFO: usize = 32;
const MAX_TEXT: usize = 1024;

/// A kind of change (clause 5.2.12 `notificationTrigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trigger {
    EntityCreated,
    EntityUpdated,
    EntityDeleted,
    AttributeCreated,
    AttributeUpdated,
    AttributeDeleted,
}

impl Trigger {
    pub const ALL: [Trigger; 6] = [
        Trigger::EntityCreated,
        Trigger::EntityUpdated,
        Trigger::EntityDeleted,
        Trigger::AttributeCreated,
        Trigger::AttributeUpdated,
        Trigger::AttributeDeleted,
    ];

    /// The default when a subscription names none.
    pub const DEFAULT: [Trigger; 2] = [Trigger::AttributeCreated, Trigger::AttributeUpdated];

    pub fn name(self) -> &'static str {
        match self {
            Trigger::EntityCreated => "entityCreated",
            Trigger::EntityUpdated => "entityUpdated",
            Trigger::EntityDeleted => "entityDeleted",
            Trigger::AttributeCreated => "attributeCreated",
            Trigger::AttributeUpdated => "attributeUpdated",
            Trigger::AttributeDeleted => "attributeDeleted",
        }
    }

    pub fn parse(s: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// An `idPattern`: a regular expression, compared by its text.
#[derive(Debug, Clone)]
pub struct IdPattern(regex::Regex);

impl IdPattern {
    pub fn new(source: &str) -> Result<Self, NgsiError> {
        regex::RegexBuilder::new(source)
            .size_limit(1 << 20)
            .build()
            .map(IdPattern)
            .map_err(|e| NgsiError::bad_data(format!("idPattern is not a valid regular expression: {e}")))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn is_match(&self, id: &str) -> bool {
        self.0.is_match(id)
    }
}

impl PartialEq for IdPattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// One member of `entities` (clause 5.2.33 EntitySelector): a type selection (a list: any of
/// the types), and optionally an id or an id pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySelector {
    pub id: Option<String>,
    pub id_pattern: Option<IdPattern>,
    /// Expanded type IRIs; the entity must have one of them.
    pub types: Vec<String>,
}

impl EntitySelector {
    pub fn matches(&self, e: &Entity) -> bool {
        self.types.iter().any(|t| e.has_type(t))
            && self.id.as_ref().is_none_or(|id| *id == e.id)
            && self.id_pattern.as_ref().is_none_or(|p| p.is_match(&e.id))
    }
}

/// The media type notifications are sent as (`endpoint.accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyAccept {
    Json,
    LdJson,
    GeoJson,
}

impl NotifyAccept {
    pub fn media_type(self) -> &'static str {
        match self {
            NotifyAccept::Json => "application/json",
            NotifyAccept::LdJson => "application/ld+json",
            NotifyAccept::GeoJson => "application/geo+json",
        }
    }

    fn parse(s: &str) -> Option<NotifyAccept> {
        [NotifyAccept::Json, NotifyAccept::LdJson, NotifyAccept::GeoJson].into_iter().find(|a| a.media_type() == s)
    }
}

/// A `receiverInfo` / `notifierInfo` entry (clause 5.2.22 KeyValuePair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// Clause 5.2.15 Endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// An `http` or `https` URI (the only binding this broker notifies through).
    pub uri: String,
    /// As given; `None` means `application/json`.
    pub accept: Option<NotifyAccept>,
    /// Milliseconds the receiver is given to answer (kept and shown; the notifier has its own
    /// upper bound).
    pub timeout: Option<f64>,
    pub cooldown: Option<f64>,
    /// Sent as HTTP headers with every notification.
    pub receiver_info: Vec<KeyValue>,
    /// Kept and shown (they configure other bindings, MQTT).
    pub notifier_info: Vec<KeyValue>,
}

impl Endpoint {
    pub fn accept(&self) -> NotifyAccept {
        self.accept.unwrap_or(NotifyAccept::Json)
    }
}

/// Clause 5.2.14 NotificationParams (the parts a subscriber sets).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationParams {
    /// Expanded names of the attributes to send; `None`: all.
    pub attributes: Option<Vec<String>>,
    /// As given; `None` means normalized.
    pub format: Option<Format>,
    pub sys_attrs: bool,
    pub show_changes: bool,
    pub endpoint: Endpoint,
}

/// Clause 5.2.12 Subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// Empty until the broker gives one, when the client did not.
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Empty: any entity (then `watched_attributes` is given).
    pub entities: Vec<EntitySelector>,
    /// Expanded names; `None`: every attribute.
    pub watched_attributes: Option<Vec<String>>,
    /// As given; `None` means [`Trigger::DEFAULT`].
    pub notification_trigger: Option<Vec<Trigger>>,
    /// Seconds between periodic notifications: kept and shown; periodic notification is not
    /// implemented (such a subscription notifies on changes like any other).
    pub time_interval: Option<f64>,
    pub q: Option<Query>,
    pub geo_q: Option<GeoQuery>,
    /// As given; `None` means active.
    pub is_active: Option<bool>,
    pub notification: NotificationParams,
    pub expires_at: Option<DateTime<Utc>>,
    /// Seconds at least between two notifications.
    pub throttling: Option<f64>,
    pub lang: Option<String>,
    /// The context notifications are compacted with, instead of the one the subscription was
    /// created with.
    pub jsonld_context: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
}

/// Clause 5.2.12 `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Paused,
    Expired,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Expired => "expired",
        }
    }
}

/// What the broker records of the deliveries (clause 5.2.14, read-only members).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub times_sent: u64,
    pub times_failed: u64,
    pub last_notification: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
}

/// Members a subscription body may carry that this broker does not implement; refused rather
/// than silently ignored, since each one narrows what is notified.
const UNSUPPORTED: [&str; 7] =
    ["csf", "temporalQ", "scopeQ", "datasetId", "expandValues", "contextSourceInfo", "jsonKeys"];
const UNSUPPORTED_PARAMS: [&str; 4] = ["pick", "omit", "join", "joinLevel"];

fn bad(detail: impl Into<String>) -> NgsiError {
    NgsiError::bad_data(detail)
}

fn identity(s: &str) -> String {
    s.to_string()
}

impl Subscription {
    /// Parses the body of Create Subscription (clause 5.8.1) read with `ctx`: `type` must be
    /// `Subscription`, `expiresAt` in the future. Every refusal is `BadRequestData` naming the
    /// member; members this broker does not implement are `OperationNotSupported`.
    pub fn parse(body: &Value, ctx: &Context, now: DateTime<Utc>) -> Result<Subscription, NgsiError> {
        let obj = body.as_object().ok_or_else(|| bad("a subscription must be a JSON object"))?;
        match obj.get("type") {
            Some(Value::String(t)) if t == "Subscription" => {}
            Some(_) => return Err(bad("type must be \"Subscription\"")),
            None => return Err(bad("type is missing; it must be \"Subscription\"")),
        }
        let mut sub = parse_with(obj, &|t| ctx.expand(t), false)?;
        check_expiry(&sub, now)?;
        sub.created_at = Some(now);
        sub.modified_at = Some(now);
        Ok(sub)
    }

    /// Update Subscription (clause 5.8.2): `fragment` (read with `ctx`) is merged into this
    /// subscription member by member (objects such as `notification` member by member too;
    /// `null` removes a member), and the result checked as a whole: removing a mandatory member
    /// is `BadRequestData`.
    pub fn patch(&self, fragment: &Value, ctx: &Context, now: DateTime<Utc>) -> Result<Subscription, NgsiError> {
        let obj = fragment.as_object().ok_or_else(|| bad("a subscription fragment must be a JSON object"))?;
        if obj.keys().all(|k| k == "@context") {
            return Err(bad("the fragment changes nothing"));
        }
        match obj.get("type") {
            None => {}
            Some(Value::String(t)) if t == "Subscription" => {}
            Some(_) => return Err(bad("type must be \"Subscription\"")),
        }
        match obj.get("id") {
            None => {}
            Some(Value::String(id)) if *id == self.id => {}
            Some(_) => return Err(bad("the id of a subscription cannot be changed")),
        }
        let mut merged = self.render_members(&|iri| ctx.compact(iri));
        for (k, v) in obj {
            if k != "@context" {
                merge_patch(&mut merged, k, v);
            }
        }
        let mut sub = parse_with(&merged, &|t| ctx.expand(t), false)?;
        if obj.contains_key("expiresAt") {
            check_expiry(&sub, now)?;
        }
        sub.id = self.id.clone();
        sub.created_at = self.created_at;
        sub.modified_at = Some(now);
        Ok(sub)
    }

    /// The stored form: names expanded, system times included.
    pub fn to_stored(&self) -> Value {
        let mut m = self.render_members(&identity);
        if let Some(t) = &self.created_at {
            m.insert("createdAt".into(), Value::String(format_timestamp(t)));
        }
        if let Some(t) = &self.modified_at {
            m.insert("modifiedAt".into(), Value::String(format_timestamp(t)));
        }
        Value::Object(m)
    }

    pub fn from_stored(stored: &Value) -> Result<Subscription, NgsiError> {
        let obj = stored.as_object().ok_or_else(|| bad("a stored subscription must be an object"))?;
        let mut sub = parse_with(obj, &identity, true)?;
        let time = |k: &str| obj.get(k).and_then(Value::as_str).and_then(parse_date_time);
        sub.created_at = time("createdAt");
        sub.modified_at = time("modifiedAt");
        Ok(sub)
    }

    pub fn status(&self, now: DateTime<Utc>) -> Status {
        if self.expires_at.is_some_and(|t| t <= now) {
            Status::Expired
        } else if self.is_active == Some(false) {
            Status::Paused
        } else {
            Status::Active
        }
    }

    pub fn triggers(&self) -> &[Trigger] {
        self.notification_trigger.as_deref().unwrap_or(&Trigger::DEFAULT)
    }

    /// The subscription as a client reads it (clause 5.8.3), names compacted with `ctx`,
    /// `status` as of `now`, and what the broker recorded of its deliveries.
    pub fn render(&self, ctx: &Context, delivery: &Delivery, now: DateTime<Utc>, sys_attrs: bool) -> Value {
        let mut m = self.render_members(&|iri| ctx.compact(iri));
        if let Some(Value::Object(n)) = m.get_mut("notification") {
            let attempted = delivery.times_sent + delivery.times_failed > 0;
            n.insert("timesSent".into(), delivery.times_sent.into());
            n.insert("timesFailed".into(), delivery.times_failed.into());
            if attempted {
                let failed = match (delivery.last_failure, delivery.last_success) {
                    (Some(f), Some(s)) => f > s,
                    (Some(_), None) => true,
                    _ => false,
                };
                n.insert("status".into(), Value::from(if failed { "failed" } else { "ok" }));
            }
            for (k, t) in [
                ("lastNotification", delivery.last_notification),
                ("lastSuccess", delivery.last_success),
                ("lastFailure", delivery.last_failure),
            ] {
                if let Some(t) = t {
                    n.insert(k.into(), Value::String(format_timestamp(&t)));
                }
            }
        }
        m.insert("status".into(), Value::from(self.status(now).name()));
        if sys_attrs {
            for (k, t) in [("createdAt", self.created_at), ("modifiedAt", self.modified_at)] {
                if let Some(t) = t {
                    m.insert(k.into(), Value::String(format_timestamp(&t)));
                }
            }
        }
        Value::Object(m)
    }

    /// The members a client set (and `notificationTrigger`, always shown), names written by
    /// `compact`.
    fn render_members(&self, compact: &dyn Fn(&str) -> String) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("type".into(), Value::from("Subscription"));
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        put("subscriptionName", self.name.clone().map(Value::String));
        put("description", self.description.clone().map(Value::String));
        put(
            "entities",
            (!self.entities.is_empty()).then(|| {
                Value::Array(
                    self.entities
                        .iter()
                        .map(|s| {
                            let mut e = Map::new();
                            if let Some(id) = &s.id {
                                e.insert("id".into(), Value::String(id.clone()));
                            }
                            if let Some(p) = &s.id_pattern {
                                e.insert("idPattern".into(), Value::from(p.as_str()));
                            }
                            let types: Vec<String> = s.types.iter().map(|t| compact(t)).collect();
                            e.insert("type".into(), Value::String(types.join(",")));
                            Value::Object(e)
                        })
                        .collect(),
                )
            }),
        );
        put("watchedAttributes", self.watched_attributes.as_ref().map(|w| names_value(w, compact)));
        put("notificationTrigger", Some(Value::Array(self.triggers().iter().map(|t| Value::from(t.name())).collect())));
        put("timeInterval", self.time_interval.map(Value::from));
        put("q", self.q.as_ref().map(|q| Value::String(q.to_string_with(compact))));
        put("geoQ", self.geo_q.as_ref().map(|g| g.to_json_with(compact)));
        put("isActive", self.is_active.map(Value::from));
        put("notification", Some(self.render_notification_params(compact)));
        put("expiresAt", self.expires_at.as_ref().map(|t| Value::String(format_timestamp(t))));
        put("throttling", self.throttling.map(Value::from));
        put("lang", self.lang.clone().map(Value::String));
        put("jsonldContext", self.jsonld_context.clone().map(Value::String));
        m
    }

    fn render_notification_params(&self, compact: &dyn Fn(&str) -> String) -> Value {
        let n = &self.notification;
        let mut m = Map::new();
        if let Some(a) = &n.attributes {
            m.insert("attributes".into(), names_value(a, compact));
        }
        if let Some(f) = n.format {
            m.insert("format".into(), Value::from(format_name(f)));
        }
        if n.sys_attrs {
            m.insert("sysAttrs".into(), Value::Bool(true));
        }
        if n.show_changes {
            m.insert("showChanges".into(), Value::Bool(true));
        }
        let e = &n.endpoint;
        let mut ep = Map::new();
        ep.insert("uri".into(), Value::String(e.uri.clone()));
        if let Some(a) = e.accept {
            ep.insert("accept".into(), Value::from(a.media_type()));
        }
        if let Some(t) = e.timeout {
            ep.insert("timeout".into(), Value::from(t));
        }
        if let Some(c) = e.cooldown {
            ep.insert("cooldown".into(), Value::from(c));
        }
        for (k, info) in [("receiverInfo", &e.receiver_info), ("notifierInfo", &e.notifier_info)] {
            if !info.is_empty() {
                let items = info.iter().map(|kv| json!({ "key": kv.key, "value": kv.value })).collect();
                ep.insert(k.into(), Value::Array(items));
            }
        }
        m.insert("endpoint".into(), Value::Object(ep));
        Value::Object(m)
    }
}

fn names_value(names: &[String], compact: &dyn Fn(&str) -> String) -> Value {
    Value::Array(names.iter().map(|n| Value::String(compact(n))).collect())
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Normalized => "normalized",
        Format::Concise => "concise",
        Format::KeyValues => "keyValues",
    }
}

/// RFC 7396 for one member: objects merge member by member, `null` removes, anything else
/// replaces.
fn merge_patch(target: &mut Map<String, Value>, key: &str, patch: &Value) {
    match patch {
        Value::Null => {
            target.remove(key);
        }
        Value::Object(p) => {
            let slot = target.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(t) = slot {
                for (k, v) in p {
                    merge_patch(t, k, v);
                }
            }
        }
        other => {
            target.insert(key.to_string(), other.clone());
        }
    }
}

fn check_expiry(sub: &Subscription, now: DateTime<Utc>) -> Result<(), NgsiError> {
    match sub.expires_at {
        Some(t) if t <= now => Err(bad("expiresAt must be in the future")),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

fn string<'a>(obj: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>, NgsiError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_TEXT * 64 => Ok(Some(s)),
        Some(Value::String(_)) => Err(bad(format!("{path}{key} must not be empty"))),
        Some(_) => Err(bad(format!("{path}{key} must be a string"))),
    }
}

fn boolean(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<bool>, NgsiError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(format!("{path}{key} must be true or false"))),
    }
}

/// A number > 0 (`positive`) or ≥ 0.
fn number(obj: &Map<String, Value>, key: &str, path: &str, positive: bool) -> Result<Option<f64>, NgsiError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            if !v.is_finite() || v < 0.0 || (positive && v == 0.0) {
                let bound = if positive { "greater than 0" } else { "0 or more" };
                return Err(bad(format!("{path}{key} must be a number {bound}")));
            }
            Ok(Some(v))
        }
        Some(_) => Err(bad(format!("{path}{key} must be a number"))),
    }
}

/// A non-empty array of attribute names, expanded, without repeats.
fn name_list(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    expand: &dyn Fn(&str) -> String,
) -> Result<Option<Vec<String>>, NgsiError> {
    let Some(v) = obj.get(key) else { return Ok(None) };
    let items = v.as_array().ok_or_else(|| bad(format!("{path}{key} must be an array of attribute names")))?;
    if items.is_empty() {
        return Err(bad(format!("{path}{key} must not be empty")));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let name = item
            .as_str()
            .filter(|n| is_valid_name(n))
            .ok_or_else(|| bad(format!("{path}{key}[{i}] is not a valid attribute name")))?;
        let iri = expand(name);
        if !out.contains(&iri) {
            out.push(iri);
        }
    }
    Ok(Some(out))
}

fn parse_with(
    obj: &Map<String, Value>,
    expand: &dyn Fn(&str) -> String,
    stored: bool,
) -> Result<Subscription, NgsiError> {
    for key in UNSUPPORTED {
        if obj.contains_key(key) {
            return Err(NgsiError::new(
                ErrorKind::OperationNotSupported,
                format!("{key} is not supported in subscriptions by this broker"),
            ));
        }
    }
    let id = match string(obj, "id", "")? {
        Some(id) if is_absolute_uri(id) => id.to_string(),
        Some(id) => return Err(bad(format!("id {id:?} is not a URI"))),
        None => String::new(),
    };
    let entities = match obj.get("entities") {
        None => Vec::new(),
        Some(Value::Array(items)) if !items.is_empty() => {
            items.iter().enumerate().map(|(i, s)| selector(s, i, expand)).collect::<Result<Vec<_>, _>>()?
        }
        Some(Value::Array(_)) => return Err(bad("entities must not be empty")),
        Some(_) => return Err(bad("entities must be an array of entity selectors")),
    };
    let watched_attributes = name_list(obj, "watchedAttributes", "", expand)?;
    if entities.is_empty() && watched_attributes.is_none() {
        return Err(bad("a subscription needs entities or watchedAttributes (or both)"));
    }
    let notification_trigger = match obj.get("notificationTrigger") {
        None => None,
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut out = Vec::new();
            for (i, t) in items.iter().enumerate() {
                let trigger = t.as_str().and_then(Trigger::parse).ok_or_else(|| {
                    let known: Vec<&str> = Trigger::ALL.iter().map(|t| t.name()).collect();
                    bad(format!("notificationTrigger[{i}] is not one of {}", known.join(", ")))
                })?;
                if !out.contains(&trigger) {
                    out.push(trigger);
                }
            }
            Some(out)
        }
        Some(_) => return Err(bad("notificationTrigger must be a non-empty array")),
    };
    let time_interval = number(obj, "timeInterval", "", true)?;
    let throttling = number(obj, "throttling", "", true)?;
    if time_interval.is_some() && watched_attributes.is_some() {
        return Err(bad("timeInterval and watchedAttributes cannot be used together"));
    }
    if time_interval.is_some() && throttling.is_some() {
        return Err(bad("timeInterval and throttling cannot be used together"));
    }
    let q = match string(obj, "q", "")? {
        None => None,
        Some(text) if stored => Some(Query::from_canonical(text)?),
        Some(text) => Some(Query::parse_with(text, expand, &ParseOptions::default())?),
    };
    let geo_q = obj.get("geoQ").map(|g| GeoQuery::from_json_with(g, expand)).transpose()?;
    let expires_at = match string(obj, "expiresAt", "")? {
        None => None,
        Some(t) => Some(parse_date_time(t).ok_or_else(|| bad(format!("expiresAt {t:?} is not a DateTime")))?),
    };
    let notification = match obj.get("notification") {
        Some(Value::Object(n)) => notification_params(n, expand)?,
        Some(_) => return Err(bad("notification must be an object")),
        None => return Err(bad("notification is missing")),
    };
    let jsonld_context = match string(obj, "jsonldContext", "")? {
        Some(c) if is_absolute_uri(c) => Some(c.to_string()),
        Some(c) => return Err(bad(format!("jsonldContext {c:?} is not a URI"))),
        None => None,
    };
    Ok(Subscription {
        id,
        name: string(obj, "subscriptionName", "")?.map(str::to_string),
        description: string(obj, "description", "")?.map(str::to_string),
        entities,
        watched_attributes,
        notification_trigger,
        time_interval,
        q,
        geo_q,
        is_active: boolean(obj, "isActive", "")?,
        notification,
        expires_at,
        throttling,
        lang: string(obj, "lang", "")?.map(str::to_string),
        jsonld_context,
        created_at: None,
        modified_at: None,
    })
}

fn selector(v: &Value, i: usize, expand: &dyn Fn(&str) -> String) -> Result<EntitySelector, NgsiError> {
    let obj = v.as_object().ok_or_else(|| bad(format!("entities[{i}] must be an object")))?;
    let path = format!("entities[{i}].");
    let id = match string(obj, "id", &path)? {
        Some(id) if is_absolute_uri(id) => Some(id.to_string()),
        Some(id) => return Err(bad(format!("entities[{i}].id {id:?} is not a URI"))),
        None => None,
    };
    let id_pattern = string(obj, "idPattern", &path)?.map(IdPattern::new).transpose()?;
    let selection = string(obj, "type", &path)?.ok_or_else(|| bad(format!("entities[{i}].type is missing")))?;
    if selection.contains(';') || selection.contains('(') {
        return Err(bad(format!("entities[{i}].type: only lists of types (A,B or A|B) are supported")));
    }
    let mut types = Vec::new();
    for t in selection.split([',', '|']).map(str::trim) {
        if !is_valid_name(t) {
            return Err(bad(format!("entities[{i}].type has an invalid type name {t:?}")));
        }
        types.push(expand(t));
    }
    Ok(EntitySelector { id, id_pattern, types })
}

fn notification_params(
    obj: &Map<String, Value>,
    expand: &dyn Fn(&str) -> String,
) -> Result<NotificationParams, NgsiError> {
    for key in UNSUPPORTED_PARAMS {
        if obj.contains_key(key) {
            return Err(bad(format!(
                "notification.{key} is not supported by this broker; use notification.attributes"
            )));
        }
    }
    let format = match string(obj, "format", "notification.")? {
        None => None,
        Some("normalized") => Some(Format::Normalized),
        Some("concise") => Some(Format::Concise),
        Some("keyValues" | "simplified") => Some(Format::KeyValues),
        Some(other) => {
            return Err(bad(format!("notification.format {other:?} is not normalized, concise or keyValues")));
        }
    };
    let endpoint = match obj.get("endpoint") {
        Some(Value::Object(e)) => endpoint(e)?,
        Some(_) => return Err(bad("notification.endpoint must be an object")),
        None => return Err(bad("notification.endpoint is missing")),
    };
    Ok(NotificationParams {
        attributes: name_list(obj, "attributes", "notification.", expand)?,
        format,
        sys_attrs: boolean(obj, "sysAttrs", "notification.")?.unwrap_or(false),
        show_changes: boolean(obj, "showChanges", "notification.")?.unwrap_or(false),
        endpoint,
    })
}

fn endpoint(obj: &Map<String, Value>) -> Result<Endpoint, NgsiError> {
    let path = "notification.endpoint.";
    let uri = string(obj, "uri", path)?.ok_or_else(|| bad("notification.endpoint.uri is missing"))?;
    if !is_http_uri(uri) {
        return Err(bad(format!(
            "notification.endpoint.uri {uri:?} must be an http:// or https:// URL (the only binding this broker notifies through)"
        )));
    }
    let accept = match string(obj, "accept", path)? {
        None => None,
        Some(a) => Some(NotifyAccept::parse(a).ok_or_else(|| {
            bad(format!(
                "notification.endpoint.accept {a:?} is not application/json, application/ld+json or application/geo+json"
            ))
        })?),
    };
    Ok(Endpoint {
        uri: uri.to_string(),
        accept,
        timeout: number(obj, "timeout", path, false)?,
        cooldown: number(obj, "cooldown", path, false)?,
        receiver_info: key_values(obj, "receiverInfo")?,
        notifier_info: key_values(obj, "notifierInfo")?,
    })
}

/// `http://host…` or `https://host…` with a host and nothing a URI cannot hold.
fn is_http_uri(s: &str) -> bool {
    let rest = s.strip_prefix("http://").or_else(|| s.strip_prefix("https://"));
    let Some(rest) = rest else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    is_absolute_uri(s) && !host.is_empty() && !host.starts_with(':')
}

/// `receiverInfo` entries become HTTP headers: keys are header names (RFC 9110 tokens), values
/// visible ASCII and spaces.
fn key_values(obj: &Map<String, Value>, key: &str) -> Result<Vec<KeyValue>, NgsiError> {
    let Some(v) = obj.get(key) else { return Ok(Vec::new()) };
    let path = format!("notification.endpoint.{key}");
    let items = v.as_array().ok_or_else(|| bad(format!("{path} must be an array of {{key, value}}")))?;
    if items.is_empty() || items.len() > MAX_INFO {
        return Err(bad(format!("{path} must have 1 to {MAX_INFO} entries")));
    }
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 128
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let text = |s: &str| s.len() <= MAX_TEXT && s.bytes().all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic());
    items
        .iter()
        .enumerate()
        .map(|(i, kv)| {
            let k = kv.get("key").and_then(Value::as_str).filter(|k| token(k));
            let v = kv.get("value").and_then(Value::as_str).filter(|v| text(v));
            match (k, v) {
                (Some(k), Some(v)) => Ok(KeyValue { key: k.to_string(), value: v.to_string() }),
                _ => Err(bad(format!("{path}[{i}] needs a key (a header name) and a value (printable ASCII text)"))),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Matching (clause 5.11)

/// A change that triggered a subscription, as kept until it is notified: the entity as it is
/// after the change (as it was, for a deletion), what was removed, and — with `showChanges` —
/// the previous instances of the attributes the change touched.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub trigger: Trigger,
    pub entity: Entity,
    /// Expanded names of attributes the change removed (rendered as the NGSI-LD Null).
    pub deleted_attrs: Vec<String>,
    /// When the entity was deleted (`entityDeleted`).
    pub deleted_at: Option<DateTime<Utc>>,
    /// With `showChanges`: the touched attributes as they were (only their `attrs`).
    pub previous: Option<Entity>,
}

impl Subscription {
    /// Whether a change of one entity triggers this subscription (see the module's rules):
    /// `before` / `after` its state around the change (`None`: did not exist / deleted),
    /// `written` the expanded names of the attributes the write touched.
    pub fn matches(&self, before: Option<&Entity>, after: Option<&Entity>, written: &BTreeSet<String>) -> bool {
        self.classify(before, after, written).is_some()
    }

    /// The change to notify, if the subscription is triggered: the entity kept with only the
    /// attributes the notification sends.
    pub fn change_for(
        &self,
        before: Option<&Entity>,
        after: Option<&Entity>,
        written: &BTreeSet<String>,
        now: DateTime<Utc>,
    ) -> Option<Change> {
        let (trigger, deleted) = self.classify(before, after, written)?;
        let wanted = |name: &String| self.notification.attributes.as_ref().is_none_or(|a| a.contains(name));
        let source = after.or(before)?;
        let mut entity = source.clone();
        entity.attrs.retain(|name, _| wanted(name));
        let previous = match (self.notification.show_changes, before) {
            (true, Some(b)) => {
                let touched = |name: &String| {
                    wanted(name)
                        && (trigger == Trigger::EntityDeleted || written.contains(name) || deleted.contains(name))
                };
                let mut prev = Entity { id: b.id.clone(), types: b.types.clone(), ..Entity::default() };
                prev.attrs = b.attrs.iter().filter(|(n, _)| touched(n)).map(|(n, a)| (n.clone(), a.clone())).collect();
                Some(prev)
            }
            _ => None,
        };
        Some(Change {
            trigger,
            deleted_attrs: deleted.into_iter().filter(|n| wanted(n)).collect(),
            deleted_at: (trigger == Trigger::EntityDeleted).then_some(now),
            entity,
            previous,
        })
    }

    /// The kind of change that triggers this subscription, and the watched attributes removed;
    /// `None` when it does not trigger.
    fn classify(
        &self,
        before: Option<&Entity>,
        after: Option<&Entity>,
        written: &BTreeSet<String>,
    ) -> Option<(Trigger, Vec<String>)> {
        let state = after.or(before)?;
        if !self.entities.is_empty() && !self.entities.iter().any(|s| s.matches(state)) {
            return None;
        }
        let watched = |name: &str| self.watched_attributes.as_ref().is_none_or(|w| w.iter().any(|n| n == name));
        let wants = |t: Trigger| self.triggers().contains(&t);
        let found = match (before, after) {
            (None, None) => None,
            (None, Some(a)) => {
                let relevant = self.watched_attributes.is_none() || a.attrs.keys().any(|n| watched(n));
                (relevant && (wants(Trigger::EntityCreated) || wants(Trigger::AttributeCreated)))
                    .then(|| (Trigger::EntityCreated, Vec::new()))
            }
            (Some(_), None) => wants(Trigger::EntityDeleted).then(|| (Trigger::EntityDeleted, Vec::new())),
            (Some(b), Some(a)) => {
                let mut created = false;
                let mut updated = false;
                let removed_by_replace = b.attrs.keys().filter(|n| !a.attrs.contains_key(*n));
                let touched: BTreeSet<&String> = written.iter().chain(removed_by_replace).collect();
                let mut deleted = Vec::new();
                for name in touched.into_iter().filter(|n| watched(n)) {
                    match (b.attrs.contains_key(name), a.attrs.contains_key(name)) {
                        (true, true) => updated = true,
                        (false, true) => created = true,
                        (true, false) => deleted.push(name.clone()),
                        (false, false) => {}
                    }
                }
                let any = wants(Trigger::EntityUpdated);
                if updated && (any || wants(Trigger::AttributeUpdated)) {
                    Some((Trigger::AttributeUpdated, deleted))
                } else if created && (any || wants(Trigger::AttributeCreated)) {
                    Some((Trigger::AttributeCreated, deleted))
                } else if !deleted.is_empty() && (any || wants(Trigger::AttributeDeleted)) {
                    Some((Trigger::AttributeDeleted, deleted))
                } else {
                    None
                }
            }
        }?;
        let q_ok = self.q.as_ref().is_none_or(|q| q.matches(state));
        let geo_ok = self.geo_q.as_ref().is_none_or(|g| g.matches(state));
        (q_ok && geo_ok).then_some(found)
    }

    /// The Notification (clause 5.2.14) for `changes`, in order, names compacted with `ctx`;
    /// `id` is the notification's id (a URI the caller makes unique).
    pub fn notification(&self, id: &str, changes: &[Change], ctx: &Context, now: DateTime<Utc>) -> Value {
        let opts = RenderOptions {
            format: self.notification.format.unwrap_or_default(),
            sys_attrs: self.notification.sys_attrs,
            attrs: None,
            lang: self.lang.clone(),
        };
        let data = if self.notification.endpoint.accept() == NotifyAccept::GeoJson {
            json!({
                "type": "FeatureCollection",
                "features": changes.iter().map(|c| render_geojson_change(c, ctx, &opts)).collect::<Vec<_>>(),
            })
        } else {
            Value::Array(changes.iter().map(|c| render_change(c, ctx, &opts)).collect())
        };
        json!({
            "id": id,
            "type": "Notification",
            "subscriptionId": self.id,
            "notifiedAt": format_timestamp(&now),
            "data": data,
        })
    }
}

/// The value of a removed attribute: the NGSI-LD Null under the kind's value member.
fn null_attribute(kind: AttrKind, format: Format) -> Value {
    match format {
        Format::KeyValues => Value::from(NGSI_LD_NULL),
        _ => json!({ "type": kind.name(), kind.value_key(): NGSI_LD_NULL }),
    }
}

/// `previousValue`, `previousObject`, `previousLanguageMap`, … (clause 4.5.18 ff.).
fn previous_key(kind: AttrKind) -> String {
    let key = kind.value_key();
    let mut chars = key.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or_default();
    format!("previous{first}{}", chars.as_str())
}

fn render_change(c: &Change, ctx: &Context, opts: &RenderOptions) -> Value {
    let mut out = if c.trigger == Trigger::EntityDeleted {
        let shown = Entity { id: c.entity.id.clone(), types: c.entity.types.clone(), ..Entity::default() };
        let mut v = shown.render(ctx, &RenderOptions { attrs: None, ..opts.clone() });
        if let (Value::Object(m), Some(t)) = (&mut v, &c.deleted_at) {
            m.insert("deletedAt".into(), Value::String(format_timestamp(t)));
        }
        v
    } else {
        c.entity.render(ctx, opts)
    };
    let Value::Object(m) = &mut out else { return out };
    let gone: Vec<(&String, AttrKind)> = if c.trigger == Trigger::EntityDeleted {
        match &c.previous {
            Some(prev) => prev.attrs.iter().filter_map(|(n, a)| a.first().map(|i| (n, i.kind))).collect(),
            None => Vec::new(),
        }
    } else {
        let kind_before =
            |n: &String| c.previous.as_ref().and_then(|p| p.attrs.get(n)).and_then(|a| a.first()).map(|a| a.kind);
        c.deleted_attrs.iter().map(|n| (n, kind_before(n).unwrap_or_default())).collect()
    };
    for (name, kind) in gone {
        m.insert(ctx.compact(name), null_attribute(kind, opts.format));
    }
    // showChanges: the previous value next to the new one, for single-instance attributes.
    if let Some(prev) = &c.previous
        && opts.format != Format::KeyValues
    {
        for (name, instances) in &prev.attrs {
            let [old] = instances.as_slice() else { continue };
            if old.dataset_id.is_some() {
                continue;
            }
            if let Some(Value::Object(attr)) = m.get_mut(&ctx.compact(name)) {
                let old_value = match old.kind {
                    AttrKind::GeoProperty | AttrKind::JsonProperty | AttrKind::LanguageProperty => old.value.clone(),
                    _ => compact_value(old, ctx),
                };
                attr.insert(previous_key(old.kind), old_value);
            }
        }
    }
    out
}

/// The value of an instance as rendered (vocab values and relationship objects are IRIs the
/// render compacts only for vocab).
fn compact_value(a: &crate::entity::Attribute, ctx: &Context) -> Value {
    match (&a.kind, &a.value) {
        (AttrKind::VocabProperty, Value::String(s)) => Value::String(ctx.compact(s)),
        (AttrKind::VocabProperty, Value::Array(items)) => Value::Array(
            items.iter().map(|v| v.as_str().map(|s| Value::String(ctx.compact(s))).unwrap_or(v.clone())).collect(),
        ),
        _ => a.value.clone(),
    }
}

fn render_geojson_change(c: &Change, ctx: &Context, opts: &RenderOptions) -> Value {
    if c.trigger == Trigger::EntityDeleted {
        let mut props = Map::new();
        props.insert("type".into(), render_change(c, ctx, opts)["type"].clone());
        if let Some(t) = &c.deleted_at {
            props.insert("deletedAt".into(), Value::String(format_timestamp(t)));
        }
        return json!({ "id": c.entity.id, "type": "Feature", "geometry": null, "properties": props });
    }
    c.entity.render_geojson(ctx, opts, names::LOCATION)
}

/// Stored form of a [`Change`] (the outbox keeps these until they are delivered).
impl Change {
    pub fn to_stored(&self) -> Value {
        let mut m = Map::new();
        m.insert("trigger".into(), Value::from(self.trigger.name()));
        m.insert("entity".into(), self.entity.to_stored());
        if !self.deleted_attrs.is_empty() {
            m.insert("deleted".into(), Value::Array(self.deleted_attrs.iter().cloned().map(Value::String).collect()));
        }
        if let Some(t) = &self.deleted_at {
            m.insert("deletedAt".into(), Value::String(format_timestamp(t)));
        }
        if let Some(p) = &self.previous {
            m.insert("previous".into(), p.to_stored());
        }
        Value::Object(m)
    }

    pub fn from_stored(v: &Value) -> Result<Change, NgsiError> {
        let corrupt = |what: &str| NgsiError::new(ErrorKind::InternalError, format!("stored change: {what}"));
        let trigger =
            v.get("trigger").and_then(Value::as_str).and_then(Trigger::parse).ok_or_else(|| corrupt("trigger"))?;
        let entity = Entity::from_stored(v.get("entity").ok_or_else(|| corrupt("entity"))?)?;
        let deleted_attrs = match v.get("deleted") {
            Some(Value::Array(items)) => items.iter().filter_map(|n| n.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        let deleted_at = v.get("deletedAt").and_then(Value::as_str).and_then(parse_date_time);
        let previous = v.get("previous").map(Entity::from_stored).transpose()?;
        Ok(Change { trigger, entity, deleted_attrs, deleted_at, previous })
    }
}
