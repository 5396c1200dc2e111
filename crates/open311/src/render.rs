//! Responses in both formats from one field list per resource.
//!
//! The spec defines JSON as a mechanical mapping of the XML (its "Spark convention"), so each
//! resource is described once as an ordered tree of named values and two small writers turn
//! the tree into XML or JSON: the formats cannot drift apart field by field.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Utc};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::format::Format;
use crate::types::{Error, RequestCreated, RequestToken, Service, ServiceDefinition, ServiceRequest};
use crate::w3c;

/// A rendered response: its `Content-Type` and body.
pub type Rendered = (&'static str, Vec<u8>);

/// `GET services`: `<services><service>…` / a JSON array.
pub fn render_services(services: &[Service], format: Format) -> Rendered {
    let items = services
        .iter()
        .map(|s| {
            vec![
                ("service_code", text(&s.service_code)),
                ("service_name", text(&s.service_name)),
                ("description", opt_text(&s.description)),
                ("metadata", Value::Bool(s.metadata)),
                ("type", text(s.r#type.as_str())),
                ("keywords", text(&s.keywords)),
                ("group", opt_text(&s.group)),
            ]
        })
        .collect();
    render(&Document::List { root: "services", item: "service", items }, format)
}

/// `GET services/{code}`: the one response of the spec that is an object, not a list.
pub fn render_definition(definition: &ServiceDefinition, format: Format) -> Rendered {
    let attributes = definition
        .attributes
        .iter()
        .map(|a| {
            let values = a.values.iter().map(|v| vec![("key", text(&v.key)), ("name", text(&v.name))]).collect();
            vec![
                ("variable", Value::Bool(a.variable)),
                ("code", text(&a.code)),
                ("datatype", text(a.datatype.as_str())),
                ("required", Value::Bool(a.required)),
                ("datatype_description", opt_text(&a.datatype_description)),
                ("order", Value::Int(a.order.into())),
                ("description", text(&a.description)),
                ("values", Value::List { item: "value", items: values }),
            ]
        })
        .collect();
    let fields = vec![
        ("service_code", text(&definition.service_code)),
        ("attributes", Value::List { item: "attribute", items: attributes }),
    ];
    render(&Document::Object { root: "service_definition", fields }, format)
}

/// `GET requests` and `GET requests/{id}` (a list of one): `<service_requests><request>…`.
/// Times are written in `zone`, the jurisdiction's offset.
pub fn render_requests(requests: &[ServiceRequest], zone: FixedOffset, format: Format) -> Rendered {
    let time = |at: &Option<DateTime<Utc>>| Value::Text(at.map(|at| Cow::Owned(w3c::format(at, zone))));
    let items = requests
        .iter()
        .map(|r| {
            vec![
                ("service_request_id", text(&r.service_request_id)),
                ("status", text(r.status.as_str())),
                ("status_notes", opt_text(&r.status_notes)),
                ("service_name", text(&r.service_name)),
                ("service_code", text(&r.service_code)),
                ("description", opt_text(&r.description)),
                ("agency_responsible", opt_text(&r.agency_responsible)),
                ("service_notice", opt_text(&r.service_notice)),
                ("requested_datetime", time(&Some(r.requested_datetime))),
                ("updated_datetime", time(&r.updated_datetime)),
                ("expected_datetime", time(&r.expected_datetime)),
                ("address", opt_text(&r.address)),
                ("address_id", opt_text(&r.address_id)),
                ("zipcode", opt_text(&r.zipcode)),
                ("lat", Value::Float(r.lat)),
                ("long", Value::Float(r.long)),
                ("media_url", opt_text(&r.media_url)),
            ]
        })
        .collect();
    render(&Document::List { root: "service_requests", item: "request", items }, format)
}

/// `POST requests`: a list of one. The spec forbids returning both the id and the token, so
/// the id wins when both are set; `service_notice` and `account_id` are always written, empty
/// when absent, as in the spec's example.
pub fn render_created(created: &RequestCreated, format: Format) -> Rendered {
    let mut fields = Vec::with_capacity(3);
    if let Some(id) = &created.service_request_id {
        fields.push(("service_request_id", text(id)));
    } else if let Some(token) = &created.token {
        fields.push(("token", text(token)));
    }
    fields.push(("service_notice", opt_text(&created.service_notice)));
    fields.push(("account_id", opt_text(&created.account_id)));
    render(&Document::List { root: "service_requests", item: "request", items: vec![fields] }, format)
}

/// `GET tokens/{token}`: `<service_requests><request><service_request_id/><token/>…`.
pub fn render_tokens(tokens: &[RequestToken], format: Format) -> Rendered {
    let items = tokens
        .iter()
        .map(|t| vec![("service_request_id", opt_text(&t.service_request_id)), ("token", text(&t.token))])
        .collect();
    render(&Document::List { root: "service_requests", item: "request", items }, format)
}

/// Any failure: `<errors><error><code/><description/>…` / a JSON array.
pub fn render_errors(errors: &[Error], format: Format) -> Rendered {
    let items = errors
        .iter()
        .map(|e| vec![("code", Value::Int(e.code.into())), ("description", text(&e.description))])
        .collect();
    render(&Document::List { root: "errors", item: "error", items }, format)
}

type Fields<'a> = Vec<(&'static str, Value<'a>)>;

enum Value<'a> {
    /// None is written `null` in JSON and as an empty element in XML.
    Text(Option<Cow<'a, str>>),
    Bool(bool),
    Int(u64),
    /// None and non-finite values are written as absent (JSON has no NaN).
    Float(Option<f64>),
    /// A nested list: a JSON array, an XML wrapper element holding one `item` element each.
    List {
        item: &'static str,
        items: Vec<Fields<'a>>,
    },
}

fn text(s: &str) -> Value<'_> {
    Value::Text(Some(Cow::Borrowed(s)))
}

fn opt_text(s: &Option<String>) -> Value<'_> {
    Value::Text(s.as_deref().map(Cow::Borrowed))
}

enum Document<'a> {
    List { root: &'static str, item: &'static str, items: Vec<Fields<'a>> },
    Object { root: &'static str, fields: Fields<'a> },
}

fn render(document: &Document<'_>, format: Format) -> Rendered {
    let body = match format {
        Format::Json => {
            // Writing to memory cannot fail and every value here serialises, so the only error
            // serde_json could report is unreachable.
            serde_json::to_vec(&JsonDocument(document)).expect("in-memory JSON serialisation")
        }
        Format::Xml => xml(document).into_bytes(),
    };
    (format.content_type(), body)
}

// ---- JSON ----

struct JsonDocument<'d, 'a>(&'d Document<'a>);
struct JsonList<'d, 'a>(&'d [Fields<'a>]);
struct JsonObject<'d, 'a>(&'d Fields<'a>);
struct JsonValue<'d, 'a>(&'d Value<'a>);

impl Serialize for JsonDocument<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Document::List { items, .. } => JsonList(items).serialize(serializer),
            Document::Object { fields, .. } => JsonObject(fields).serialize(serializer),
        }
    }
}

impl Serialize for JsonList<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for fields in self.0 {
            seq.serialize_element(&JsonObject(fields))?;
        }
        seq.end()
    }
}

impl Serialize for JsonObject<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, &JsonValue(value))?;
        }
        map.end()
    }
}

impl Serialize for JsonValue<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Text(Some(s)) => serializer.serialize_str(s),
            Value::Text(None) => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(n) => serializer.serialize_u64(*n),
            Value::Float(Some(x)) if x.is_finite() => serializer.serialize_f64(*x),
            Value::Float(_) => serializer.serialize_none(),
            Value::List { items, .. } => JsonList(items).serialize(serializer),
        }
    }
}

// ---- XML ----

fn xml(document: &Document<'_>) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    match document {
        Document::List { root, item, items } => list(&mut out, root, item, items),
        Document::Object { root, fields } => element(&mut out, root, |out| object(out, fields)),
    }
    out
}

fn list(out: &mut String, wrapper: &str, item: &str, items: &[Fields<'_>]) {
    element(out, wrapper, |out| {
        for fields in items {
            element(out, item, |out| object(out, fields));
        }
    });
}

fn object(out: &mut String, fields: &Fields<'_>) {
    for (name, value) in fields {
        match value {
            Value::Text(s) => element(out, name, |out| out.push_str(&escape(s.as_deref().unwrap_or("")))),
            Value::Bool(b) => element(out, name, |out| out.push_str(if *b { "true" } else { "false" })),
            Value::Int(n) => element(out, name, |out| out.push_str(&n.to_string())),
            Value::Float(x) => element(out, name, |out| {
                if let Some(x) = x.filter(|x| x.is_finite()) {
                    // Display is the shortest form that reads back to the same f64, never an exponent.
                    out.push_str(&x.to_string());
                }
            }),
            Value::List { item, items } => list(out, name, item, items),
        }
    }
}

/// Writes `<name>…</name>`. Names are the spec's fixed identifiers, never user input.
fn element(out: &mut String, name: &str, content: impl FnOnce(&mut String)) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    content(out);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes text content with quick-xml, after replacing the characters XML 1.0 cannot carry
/// even escaped (control characters other than tab and line breaks, U+FFFE, U+FFFF): stored
/// text may predate the parser's checks, and one stray byte must not make a client's XML parser
/// reject the whole list.
fn escape(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}');
    if s.chars().all(allowed) {
        quick_xml::escape::partial_escape(s)
    } else {
        let cleaned: String = s.chars().map(|c| if allowed(c) { c } else { '\u{FFFD}' }).collect();
        Cow::Owned(quick_xml::escape::partial_escape(cleaned).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_replaces_forbidden_characters() {
        assert_eq!(escape("a < b & c > d"), "a &lt; b &amp; c &gt; d");
        assert_eq!(escape("can't \"quote\""), "can't \"quote\"");
        assert_eq!(escape("bell\u{7}\u{FFFF}"), "bell\u{FFFD}\u{FFFD}");
        // A carriage return survives XML's line-end normalisation only as a reference.
        assert_eq!(escape("a\r\nb"), "a&#13;\nb");
    }

    #[test]
    fn non_finite_coordinates_are_absent() {
        let doc = Document::List { root: "r", item: "i", items: vec![vec![("lat", Value::Float(Some(f64::NAN)))]] };
        assert_eq!(render(&doc, Format::Json).1, br#"[{"lat":null}]"#);
        assert_eq!(
            String::from_utf8(render(&doc, Format::Xml).1).unwrap(),
            r#"<?xml version="1.0" encoding="utf-8"?><r><i><lat></lat></i></r>"#
        );
    }
}
