//! Categories (*lĩnh vực phản ánh*): who handles a report, in how long, and what it must say.

use haidang_core::validation::Checker;
use haidang_core::{Invalid, OrgUnitId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Which unit a category's reports go to once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HandlingRule {
    /// The commune whose area holds the place.
    ByPlace,
    /// The department that owns the field (environment, transport…).
    ByField { unit_id: OrgUnitId },
    /// Always the same unit (e.g. the electricity company for lighting).
    Fixed { unit_id: OrgUnitId },
}

impl HandlingRule {
    /// The unit that should handle a report at a place in `commune` (if the place is in one).
    pub fn route(self, commune: Option<OrgUnitId>) -> Option<OrgUnitId> {
        match self {
            Self::ByPlace => commune,
            Self::ByField { unit_id } | Self::Fixed { unit_id } => Some(unit_id),
        }
    }

    pub fn unit(self) -> Option<OrgUnitId> {
        self.route(None)
    }
}

/// How long handling may take. Normal reports count working time on the working calendar;
/// urgent ones count wall-clock hours, day and night.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryDeadlines {
    pub normal_working_hours: f64,
    pub urgent_hours: f64,
    /// Urgent procedure: when no unit accepts within this many minutes, a leader is alerted.
    pub accept_within_minutes: u32,
}

impl CategoryDeadlines {
    pub fn check(&self, c: &mut Checker) {
        let bad = |v: f64, max: f64| !(v.is_finite() && v > 0.0 && v <= max);
        if bad(self.normal_working_hours, 8.0 * 250.0) {
            c.push("normal_working_hours", "must be more than 0 and at most 2000");
        }
        if bad(self.urgent_hours, 24.0 * 30.0) {
            c.push("urgent_hours", "must be more than 0 and at most 720");
        }
        if !(1..=24 * 60).contains(&self.accept_within_minutes) {
            c.push("accept_within_minutes", "must be between 1 and 1440");
        }
    }
}

/// The kinds of value a category's extra question takes (the Open311 datatypes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeValue {
    pub key: String,
    pub name_vi: String,
    pub name_en: String,
}

/// An extra question a category asks (e.g. "how many lamps are out?").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDef {
    pub code: String,
    pub label_vi: String,
    pub label_en: String,
    pub datatype: AttributeType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub values: Vec<AttributeValue>,
}

impl AttributeDef {
    /// Checks a definition as an administrator writes it.
    pub fn check_defs(defs: &[AttributeDef]) -> Result<(), Invalid> {
        let mut c = Checker::new();
        for (i, d) in defs.iter().enumerate() {
            let at = |f: &str| format!("attributes[{i}].{f}");
            let code_ok = !d.code.is_empty()
                && d.code.len() <= 40
                && d.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !code_ok {
                c.push(&at("code"), "must be 1–40 letters, digits, '_' or '-'");
            }
            if defs[..i].iter().any(|o| o.code == d.code) {
                c.push(&at("code"), "is used twice");
            }
            if d.label_vi.trim().is_empty() || d.label_vi.chars().count() > 200 {
                c.push(&at("label_vi"), "must be 1–200 characters");
            }
            let is_list = matches!(d.datatype, AttributeType::Singlevaluelist | AttributeType::Multivaluelist);
            if is_list && d.values.is_empty() {
                c.push(&at("values"), "a list needs values to choose from");
            }
            if !is_list && !d.values.is_empty() {
                c.push(&at("values"), "only list attributes have values");
            }
        }
        if defs.len() > 30 {
            c.push("attributes", "at most 30 attributes");
        }
        c.finish()
    }
}

/// Checks a citizen's answers to a category's questions; field names are `attributes.CODE`.
pub fn check_attributes(defs: &[AttributeDef], given: &BTreeMap<String, Vec<String>>) -> Result<(), Invalid> {
    let mut c = Checker::new();
    for code in given.keys() {
        if !defs.iter().any(|d| &d.code == code) {
            c.push(&format!("attributes.{code}"), "this category does not ask for it");
        }
    }
    for d in defs {
        let field = format!("attributes.{}", d.code);
        let values: Vec<&str> =
            given.get(&d.code).into_iter().flatten().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            if d.required {
                c.push(&field, "is required");
            }
            continue;
        }
        if values.len() > 1 && d.datatype != AttributeType::Multivaluelist {
            c.push(&field, "takes one value");
            continue;
        }
        for v in values {
            let reason = match d.datatype {
                _ if v.chars().count() > 2000 => Some("must be at most 2000 characters"),
                AttributeType::Number if v.parse::<f64>().map_or(true, |n| !n.is_finite()) => Some("must be a number"),
                AttributeType::Datetime if chrono_like(v).is_none() => Some("must be a date and time (RFC 3339)"),
                AttributeType::Singlevaluelist | AttributeType::Multivaluelist
                    if !d.values.iter().any(|x| x.key == v) =>
                {
                    Some("is not one of the listed values")
                }
                _ => None,
            };
            if let Some(r) = reason {
                c.push(&field, r);
                break;
            }
        }
    }
    c.finish()
}

/// RFC 3339 shape check without a date-time dependency: `YYYY-MM-DDTHH:MM` and more.
fn chrono_like(v: &str) -> Option<()> {
    let b = v.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    (b.len() >= 16
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16))
    .then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lamps() -> Vec<AttributeDef> {
        vec![
            AttributeDef {
                code: "count".into(),
                label_vi: "Số đèn hỏng".into(),
                label_en: "Lamps out".into(),
                datatype: AttributeType::Number,
                required: true,
                values: vec![],
            },
            AttributeDef {
                code: "kind".into(),
                label_vi: "Loại".into(),
                label_en: "Kind".into(),
                datatype: AttributeType::Singlevaluelist,
                required: false,
                values: vec![AttributeValue { key: "off".into(), name_vi: "Tắt".into(), name_en: "Off".into() }],
            },
        ]
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        let mut m = BTreeMap::<String, Vec<String>>::new();
        for (k, v) in pairs {
            m.entry((*k).into()).or_default().push((*v).into());
        }
        m
    }

    #[test]
    fn answers_are_checked_against_the_questions() {
        assert!(check_attributes(&lamps(), &given(&[("count", "3"), ("kind", "off")])).is_ok());
        let fields = |r: Result<(), Invalid>| r.unwrap_err().0.into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(check_attributes(&lamps(), &given(&[]))), ["attributes.count"]);
        assert_eq!(fields(check_attributes(&lamps(), &given(&[("count", "x")]))), ["attributes.count"]);
        assert_eq!(
            fields(check_attributes(&lamps(), &given(&[("count", "1"), ("kind", "on"), ("colour", "red")]))),
            ["attributes.colour", "attributes.kind"]
        );
    }

    #[test]
    fn definitions_are_checked() {
        assert!(AttributeDef::check_defs(&lamps()).is_ok());
        let mut twice = lamps();
        twice[1].code = "count".into();
        assert!(AttributeDef::check_defs(&twice).is_err());
        let mut empty_list = lamps();
        empty_list[1].values.clear();
        assert!(AttributeDef::check_defs(&empty_list).is_err());
    }

    #[test]
    fn routing_follows_the_rule() {
        let commune = Some(OrgUnitId(7));
        assert_eq!(HandlingRule::ByPlace.route(commune), commune);
        assert_eq!(HandlingRule::ByPlace.route(None), None);
        assert_eq!(HandlingRule::Fixed { unit_id: OrgUnitId(3) }.route(commune), Some(OrgUnitId(3)));
    }
}
