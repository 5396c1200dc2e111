//! `POST requests`: the submitted fields as a typed [`NewRequest`], then its attribute answers
//! checked against the service's definition.
//!
//! Two steps because the server must look the service up (404 when unknown) between them.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fields::{check_limits, check_text, present, shown};
use crate::types::{Attribute, Datatype, Error, ServiceDefinition};
use crate::w3c;

/// A service request as submitted, every field checked except the attribute answers.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    /// For the server to check (403 when missing or wrong).
    pub api_key: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub service_code: String,
    pub lat_long: Option<LatLong>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// May hold line breaks.
    pub description: Option<String>,
    /// An `http` or `https` URL.
    pub media_url: Option<String>,
    /// The `attribute[code]` answers as sent, by code, not yet checked: see
    /// [`NewRequest::check_attributes`]. Empty answers are left out.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// A WGS84 point; both halves are required together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLong {
    pub lat: f64,
    pub long: f64,
}

/// One checked answer to a service definition's attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub code: String,
    pub value: AnswerValue,
}

/// An answer typed by its attribute's datatype.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerValue {
    /// `string` (one line) or `text`.
    Text(String),
    Number(f64),
    Datetime(DateTime<Utc>),
    /// A `singlevaluelist` key.
    Key(String),
    /// `multivaluelist` keys, each once, in the order sent.
    Keys(Vec<String>),
}

/// The parameters the spec defines for `POST requests`; others are ignored, since clients add
/// their own (the spec leaves extensions open).
const NAMES: [&str; 15] = [
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
];

/// Reads the fields of a `POST requests` body, from [`parse_form`](crate::parse_form) or from a
/// `multipart/form-data` body's text parts.
///
/// Every problem comes back as a 400 naming its parameter: missing `service_code`, no location
/// (`lat` and `long`, `address_string` or `address_id`), coordinates out of range, a parameter
/// given twice, sizes over the limits, control characters, a malformed `email` or `media_url`.
pub fn parse_new_request(fields: Vec<(String, String)>) -> Result<NewRequest, Vec<Error>> {
    check_limits(&fields, "body")?;
    let mut errors = Vec::new();
    let mut scalars: HashMap<&'static str, String> = HashMap::new();
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Attribute codes seen, with whether they came in the list form `attribute[code][]`.
    let mut attribute_forms: HashMap<String, bool> = HashMap::new();
    let mut given_twice: HashSet<String> = HashSet::new();
    for (name, value) in fields {
        if name.starts_with("attribute[") {
            let Some((code, list)) = attribute_name(&name) else {
                errors.push(Error::bad_param(&shown(&name), "not of the form attribute[code] or attribute[code][]"));
                continue;
            };
            // Only the list form may repeat.
            let repeated = attribute_forms.insert(code.to_owned(), list).is_some_and(|was_list| !(was_list && list));
            if repeated {
                given_twice.insert(format!("attribute[{code}]"));
            } else if let Some(value) = present(&value) {
                match check_text(&shown(&name), value, true) {
                    Ok(()) => attributes.entry(code.to_owned()).or_default().push(value.to_owned()),
                    Err(error) => errors.push(error),
                }
            }
        } else if let Some(known) = NAMES.iter().find(|known| **known == name)
            && scalars.insert(known, value).is_some()
        {
            given_twice.insert(name);
        }
    }
    let mut given_twice: Vec<String> = given_twice.into_iter().collect();
    given_twice.sort();
    errors.extend(given_twice.iter().map(|name| Error::bad_param(&shown(name), "given more than once")));

    let mut text = |name: &'static str| -> Option<String> {
        let value = present(scalars.get(name)?)?;
        match check_text(name, value, name == "description") {
            Ok(()) => Some(value.to_owned()),
            Err(error) => {
                errors.push(error);
                None
            }
        }
    };
    let api_key = text("api_key");
    let jurisdiction_id = text("jurisdiction_id");
    let service_code = text("service_code");
    let lat = text("lat");
    let long = text("long");
    let address_string = text("address_string");
    let address_id = text("address_id");
    let email = text("email");
    let device_id = text("device_id");
    let account_id = text("account_id");
    let first_name = text("first_name");
    let last_name = text("last_name");
    let phone = text("phone");
    let description = text("description");
    let media_url = text("media_url");

    let given = |name: &str| scalars.get(name).and_then(|v| present(v)).is_some();
    // A code refused for its characters already has its error.
    if !given("service_code") {
        errors.push(Error::bad_param("service_code", "required"));
    }
    let lat_long = match (lat, long) {
        (Some(lat), Some(long)) => {
            let lat = coordinate("lat", &lat, 90.0).map_err(|e| errors.push(e)).ok();
            let long = coordinate("long", &long, 180.0).map_err(|e| errors.push(e)).ok();
            lat.zip(long).map(|(lat, long)| LatLong { lat, long })
        }
        (Some(_), None) => {
            errors.push(Error::bad_param("long", "required with lat"));
            None
        }
        (None, Some(_)) => {
            errors.push(Error::bad_param("lat", "required with long"));
            None
        }
        (None, None) => {
            // A location refused for its characters already has its error.
            if !["address_string", "address_id", "lat", "long"].iter().any(|name| given(name)) {
                errors
                    .push(Error::bad_param("lat", "required with long, unless address_string or address_id is given"));
            }
            None
        }
    };
    if let Some(email) = &email
        && !looks_like_email(email)
    {
        errors.push(Error::bad_param("email", "not an e-mail address"));
    }
    if let Some(phone) = &phone
        && !looks_like_phone(phone)
    {
        errors.push(Error::bad_param("phone", "not a phone number"));
    }
    if let Some(url) = &media_url
        && !looks_like_web_url(url)
    {
        errors.push(Error::bad_param("media_url", "not an http or https URL"));
    }

    match service_code {
        Some(service_code) if errors.is_empty() => Ok(NewRequest {
            api_key,
            jurisdiction_id,
            service_code,
            lat_long,
            address_string,
            address_id,
            email,
            device_id,
            account_id,
            first_name,
            last_name,
            phone,
            description,
            media_url,
            attributes,
        }),
        _ => Err(errors),
    }
}

impl NewRequest {
    /// Checks the answers against the service's definition and types them, in the definition's
    /// order: required attributes answered, list keys among the choices, numbers and date-times
    /// readable, one value except for `multivaluelist`, and no answer to an attribute the
    /// definition does not ask (an unknown code, or one with `variable` false).
    ///
    /// A service without metadata has an empty definition, so any answer is refused.
    pub fn check_attributes(&self, definition: &ServiceDefinition) -> Result<Vec<Answer>, Vec<Error>> {
        let mut errors = Vec::new();
        for code in self.attributes.keys() {
            if !definition.attributes.iter().any(|a| a.variable && a.code == *code) {
                errors.push(Error::bad_param(&shown(&format!("attribute[{code}]")), "not asked by this service"));
            }
        }
        let mut asked: Vec<_> = definition.attributes.iter().filter(|a| a.variable).collect();
        asked.sort_by_key(|a| a.order);
        let mut answers = Vec::new();
        for attribute in asked {
            let name = format!("attribute[{}]", attribute.code);
            let values = self.attributes.get(&attribute.code).map(Vec::as_slice).unwrap_or_default();
            if values.is_empty() {
                if attribute.required {
                    errors.push(Error::bad_param(&name, "required"));
                }
                continue;
            }
            let value = match answer(attribute, values) {
                Ok(value) => value,
                Err(problem) => {
                    errors.push(Error::bad_param(&name, problem));
                    continue;
                }
            };
            answers.push(Answer { code: attribute.code.clone(), value });
        }
        if errors.is_empty() { Ok(answers) } else { Err(errors) }
    }
}

/// Types the (non-empty) answer to one attribute, or says what is wrong with it.
fn answer(attribute: &Attribute, values: &[String]) -> Result<AnswerValue, String> {
    let is_choice = |key: &str| attribute.values.iter().any(|v| v.key == key);
    let not_a_choice = |key: &str| format!("{} is not one of the choices", shown(key));
    let value = match (attribute.datatype, values) {
        (Datatype::Multivaluelist, keys) => {
            if let Some(key) = keys.iter().find(|key| !is_choice(key)) {
                return Err(not_a_choice(key));
            }
            let mut chosen: Vec<String> = Vec::with_capacity(keys.len());
            for key in keys {
                if !chosen.contains(key) {
                    chosen.push(key.clone());
                }
            }
            return Ok(AnswerValue::Keys(chosen));
        }
        (_, [value]) => value,
        _ => return Err("takes one value".into()),
    };
    match attribute.datatype {
        Datatype::String if value.contains(['\n', '\r']) => Err("takes one line".into()),
        Datatype::String | Datatype::Text => Ok(AnswerValue::Text(value.clone())),
        Datatype::Number => {
            value.parse::<f64>().ok().filter(|x| x.is_finite()).map(AnswerValue::Number).ok_or("not a number".into())
        }
        Datatype::Datetime => w3c::parse(value)
            .map(AnswerValue::Datetime)
            .ok_or("not a date-time with zone, like 2026-11-23T10:15:00+07:00".into()),
        Datatype::Singlevaluelist | Datatype::Multivaluelist if is_choice(value) => Ok(AnswerValue::Key(value.clone())),
        Datatype::Singlevaluelist | Datatype::Multivaluelist => Err(not_a_choice(value)),
    }
}

/// `attribute[code]` → `(code, false)`, `attribute[code][]` → `(code, true)`.
fn attribute_name(name: &str) -> Option<(&str, bool)> {
    let inner = name.strip_prefix("attribute[")?;
    let (code, list) = match inner.strip_suffix("][]") {
        Some(code) => (code, true),
        None => (inner.strip_suffix(']')?, false),
    };
    let valid = !code.is_empty() && !code.contains(['[', ']']) && !code.chars().any(char::is_control);
    valid.then_some((code, list))
}

fn coordinate(name: &str, value: &str, bound: f64) -> Result<f64, Error> {
    match value.parse::<f64>() {
        Ok(x) if x.is_finite() && (-bound..=bound).contains(&x) => Ok(x),
        Ok(x) if x.is_finite() => Err(Error::bad_param(name, format_args!("out of range -{bound}..{bound}"))),
        _ => Err(Error::bad_param(name, "not a number")),
    }
}

/// A deliberately loose check: one `@` between non-empty parts, no spaces. Deliverability is
/// for the notifier to find out; this only stops obvious mistakes reaching the store.
fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Digits with the usual separators, in any national or international form ("+84 912 345 678").
fn looks_like_phone(phone: &str) -> bool {
    phone.chars().any(|c| c.is_ascii_digit()) && phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// Only web URLs: the IOC's operators open media links, so `javascript:` and `file:` must not
/// get through.
fn looks_like_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.is_empty() && !url.contains(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names() {
        assert_eq!(attribute_name("attribute[WHISPAWN]"), Some(("WHISPAWN", false)));
        assert_eq!(attribute_name("attribute[COLOUR][]"), Some(("COLOUR", true)));
        for bad in
            ["attribute[]", "attribute[", "attribute[a]x", "attribute[a][b]", "attribute[[a]]", "attribute[a][][]"]
        {
            assert_eq!(attribute_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn contact_checks() {
        assert!(looks_like_email("smit333@sfgov.edu"));
        for bad in ["x", "@a.b", "a@b", "a b@c.d", "a@b@c.d"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
        assert!(looks_like_phone("+84 (256) 382-1234"));
        assert!(!looks_like_phone("call me"));
        assert!(looks_like_web_url("HTTPS://example.org/a.jpg"));
        for bad in ["javascript:alert(1)", "http://", "ftp://x", "http://a b"] {
            assert!(!looks_like_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn coordinates_in_range() {
        assert_eq!(coordinate("lat", "90", 90.0), Ok(90.0));
        assert!(coordinate("lat", "90.0001", 90.0).is_err());
        assert!(coordinate("long", "NaN", 180.0).is_err());
        assert!(coordinate("long", "inf", 180.0).is_err());
    }
}
