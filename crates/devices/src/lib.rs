//! Sources of context data: devices, files and pulls.
//!
//! A device is provisioned with an id (its MQTT user name and topic prefix), one key, the entity
//! it feeds, and a [`Mapping`] from the topics it publishes to (below `devices/{id}/`) and the
//! members of its JSON measures to entity attributes. [`measure::parse_payload`] reads what a
//! device sent; [`Mapping::updates`] turns it into NGSI-LD attribute fragments for the context
//! writer; [`Health`] says whether a device is reporting.
//!
//! Files and pulls from other systems map their rows and items with a [`RecordMapping`]
//! ([`records`]).
//!
//! No I/O here: the broker lives in `haidang-mqtt`, the registry in the store, the glue in the
//! API crate.

pub mod mapping;
pub mod measure;
pub mod records;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use mapping::{Mapping, Target, TopicRule, Update};
pub use measure::{MeasureError, Reading};
pub use records::{RecordMapping, Source, ValueKind};

/// A device id: 1–64 of `A–Z a–z 0–9 _ - .`, so that it is one MQTT topic level and a URL
/// path segment as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.is_empty() || s.len() > 64 {
            return Err("must be 1 to 64 characters");
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) {
            return Err("may hold only letters A–Z, digits, '_', '-' and '.'");
        }
        Ok(DeviceId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix of every topic the device publishes to.
    pub fn topic_prefix(&self) -> String {
        format!("devices/{}/", self.0)
    }

    /// The device of a `devices/{id}/…` topic and the rest of the topic after the prefix.
    pub fn from_topic(topic: &str) -> Option<(DeviceId, &str)> {
        let rest = topic.strip_prefix("devices/")?;
        let (id, suffix) = rest.split_once('/')?;
        Some((DeviceId::parse(id).ok()?, suffix))
    }
}

impl<'de> Deserialize<'de> for DeviceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DeviceId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a device is reporting, as a health page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Heard from within its silence limit.
    Reporting,
    /// Heard from before, but not within its silence limit.
    Silent,
    /// Never heard from since it was provisioned.
    NeverSeen,
    /// Switched off by an administrator: its connections are refused.
    Disabled,
}

impl Health {
    pub fn of(enabled: bool, last_seen: Option<DateTime<Utc>>, silence_secs: i64, now: DateTime<Utc>) -> Health {
        match (enabled, last_seen) {
            (false, _) => Health::Disabled,
            (true, None) => Health::NeverSeen,
            (true, Some(seen)) if (now - seen).num_seconds() > silence_secs => Health::Silent,
            (true, Some(_)) => Health::Reporting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn device_ids() {
        assert!(DeviceId::parse("aq-PK.01_a").is_ok());
        for bad in ["", "a/b", "a+b", "#", "tram quan trac", &"x".repeat(65), "trạm"] {
            assert!(DeviceId::parse(bad).is_err(), "{bad:?}");
        }
        let (id, rest) = DeviceId::from_topic("devices/aq-01/measures/pm").unwrap();
        assert_eq!((id.as_str(), rest), ("aq-01", "measures/pm"));
        assert!(DeviceId::from_topic("devices/aq-01").is_none());
        assert!(DeviceId::from_topic("other/aq-01/measures").is_none());
        assert!(DeviceId::from_topic("devices/a+b/measures").is_none());
    }

    #[test]
    fn health() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        let ago = |s| Some(now - chrono::Duration::seconds(s));
        assert_eq!(Health::of(true, ago(60), 300, now), Health::Reporting);
        assert_eq!(Health::of(true, ago(300), 300, now), Health::Reporting);
        assert_eq!(Health::of(true, ago(301), 300, now), Health::Silent);
        assert_eq!(Health::of(true, None, 300, now), Health::NeverSeen);
        assert_eq!(Health::of(false, ago(1), 300, now), Health::Disabled);
    }
}
