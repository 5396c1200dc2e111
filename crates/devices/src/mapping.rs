//! How a device's topics and measures become entity attributes.
//!
//! A [`Mapping`] is a list of topic rules, first match wins. A rule names the topic below
//! `devices/{id}/` it applies to, optionally another entity than the device's own (a gateway
//! feeding several lamps), and how measure names map to attributes (with `unitCode` and
//! `datasetId`). Measures a rule does not name keep their own name when the rule passes them
//! through (the default), and are dropped otherwise.
//!
//! ```json
//! {"rules": [{"topic": "measures",
//!             "attributes": {"t": {"attr": "temperature", "unitCode": "CEL"},
//!                            "rh": {"attr": "relativeHumidity", "unitCode": "P1"}}}]}
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use haidang_ngsi::entity::validate::{is_absolute_uri, is_valid_name};
use haidang_ngsi::{AttrKind, Attribute, Context, Entity};
use serde::{Deserialize, Serialize};

use crate::measure::{MeasureError, Reading};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub rules: Vec<TopicRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TopicRule {
    /// The topic below `devices/{id}/`, e.g. `measures` or `lamps/3`.
    pub topic: String,
    /// The entity fed by this topic; absent: the device's entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Its type (with `entity_id`); absent: the device entity's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// Measure name → attribute.
    #[serde(default)]
    pub attributes: BTreeMap<String, Target>,
    /// Measures not named in `attributes` become attributes of their own name.
    #[serde(default = "yes")]
    pub pass_through: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    /// Attribute name (core-context term such as `temperature`, or an IRI).
    pub attr: String,
    /// UN/CEFACT unit code, e.g. `CEL`, `GQ` (µg/m³), `MTR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_id: Option<String>,
}

/// Changes to one entity from one reading: append these attributes (names expanded).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub entity_id: String,
    pub entity_type: String,
    pub fragment: Entity,
}

/// Rules in one mapping at most.
pub const MAX_RULES: usize = 100;

impl Default for Mapping {
    /// Everything published to `devices/{id}/measures` goes to the device's entity under the
    /// measures' own names.
    fn default() -> Self {
        Mapping {
            rules: vec![TopicRule {
                topic: "measures".into(),
                entity_id: None,
                entity_type: None,
                attributes: BTreeMap::new(),
                pass_through: true,
            }],
        }
    }
}

impl Mapping {
    /// Checks the mapping; errors name the member (`rules[0].attributes.t.attr`) and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |field: String, reason: &str| Err((field, reason.to_owned()));
        if self.rules.is_empty() || self.rules.len() > MAX_RULES {
            return err("rules".into(), "name 1 to 100 topic rules");
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let at = |m: &str| format!("rules[{i}].{m}");
            let topic_ok = !rule.topic.is_empty()
                && rule.topic.len() <= 200
                && rule.topic.split('/').all(|level| {
                    !level.is_empty() && !level.contains(['+', '#']) && !level.chars().any(char::is_control)
                })
                && !rule.topic.starts_with("cmd");
            if !topic_ok {
                return err(
                    at("topic"),
                    "must be a topic like measures or lamps/3: no wildcards, no empty levels, not under cmd/",
                );
            }
            if self.rules[..i].iter().any(|r| r.topic == rule.topic) {
                return err(at("topic"), "another rule has this topic");
            }
            if let Some(id) = &rule.entity_id
                && (!is_absolute_uri(id) || id.len() > 256)
            {
                return err(at("entityId"), "must be a URI such as urn:ngsi-ld:Streetlight:PK-001");
            }
            match (&rule.entity_id, &rule.entity_type) {
                (Some(_), None) => return err(at("entityType"), "is needed with entityId"),
                (None, Some(_)) => return err(at("entityType"), "needs an entityId"),
                (_, Some(t)) if !is_valid_name(t) => return err(at("entityType"), "is not a valid type name"),
                _ => {}
            }
            for (measure, target) in &rule.attributes {
                if measure.is_empty() || measure.len() > 100 {
                    return err(at("attributes"), "measure names are 1 to 100 characters");
                }
                if !is_valid_name(&target.attr) || target.attr.len() > 256 {
                    return err(at(&format!("attributes.{measure}.attr")), "is not a valid attribute name");
                }
                if target.unit_code.as_deref().is_some_and(|u| u.is_empty() || u.len() > 10) {
                    return err(at(&format!("attributes.{measure}.unitCode")), "must be 1 to 10 characters");
                }
                if target.dataset_id.as_deref().is_some_and(|d| !is_absolute_uri(d)) {
                    return err(at(&format!("attributes.{measure}.datasetId")), "must be a URI");
                }
            }
        }
        Ok(())
    }

    pub fn rule(&self, topic_suffix: &str) -> Option<&TopicRule> {
        self.rules.iter().find(|r| r.topic == topic_suffix)
    }

    /// The attribute updates for `readings` published to `topic_suffix` by a device feeding
    /// (`entity_id`, `entity_type`); readings without a time are stamped `received`. Names are
    /// expanded with `ctx`.
    pub fn updates(
        &self,
        topic_suffix: &str,
        (entity_id, entity_type): (&str, &str),
        readings: Vec<Reading>,
        received: DateTime<Utc>,
        ctx: &Context,
    ) -> Result<Vec<Update>, MeasureError> {
        let rule = self
            .rule(topic_suffix)
            .ok_or_else(|| MeasureError::Mapping(format!("no mapping for topic devices/…/{topic_suffix}")))?;
        let (entity_id, entity_type) = match (&rule.entity_id, &rule.entity_type) {
            (Some(id), Some(ty)) => (id.as_str(), ctx.expand(ty)),
            _ => (entity_id, entity_type.to_owned()),
        };
        let mut updates = Vec::with_capacity(readings.len());
        for reading in readings {
            let observed = reading.observed_at.unwrap_or(received);
            let mut fragment =
                Entity { id: entity_id.to_owned(), types: vec![entity_type.clone()], ..Entity::default() };
            for (measure, value) in reading.values {
                let (name, unit_code, dataset_id) = match rule.attributes.get(&measure) {
                    Some(t) => (t.attr.as_str(), t.unit_code.clone(), t.dataset_id.clone()),
                    None if rule.pass_through => (measure.as_str(), None, None),
                    None => continue,
                };
                if !is_valid_name(name) {
                    return Err(MeasureError::Mapping(format!("{measure:?} is not a valid attribute name")));
                }
                let attr = Attribute {
                    observed_at: Some(observed),
                    unit_code,
                    dataset_id,
                    ..Attribute::new(AttrKind::Property, value)
                };
                fragment.attrs.entry(ctx.expand(name)).or_default().push(attr);
            }
            if !fragment.attrs.is_empty() {
                updates.push(Update { entity_id: entity_id.to_owned(), entity_type: entity_type.clone(), fragment });
            }
        }
        Ok(updates)
    }
}
