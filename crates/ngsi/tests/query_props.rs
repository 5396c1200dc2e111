//! Property tests of the `q` parser: it never panics, whatever the text; it refuses only with
//! `BadRequestData` or `TooComplexQuery`; and the canonical text reads back to the same query.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use haidang_ngsi::error::ErrorKind;
use haidang_ngsi::query::{ParseOptions, Query};
use haidang_ngsi::{AttrKind, Attribute, Entity, NgsiError};
use proptest::prelude::*;
use serde_json::{Value, json};

const NS: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

/// Like `Context::expand`: absolute IRIs unchanged, other terms into the default vocabulary.
fn ex(term: &str) -> String {
    if term.contains("://") || term.starts_with("urn:") { term.to_string() } else { format!("{NS}{term}") }
}

fn parse(text: &str) -> Result<Query, NgsiError> {
    Query::parse_with(text, &ex, &ParseOptions { expand_values: vec![ex("v")] })
}

fn attr(kind: AttrKind, value: Value) -> Attribute {
    Attribute {
        kind,
        value,
        dataset_id: None,
        observed_at: Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()),
        unit_code: Some("CEL".into()),
        object_type: None,
        sub_attrs: BTreeMap::new(),
        created_at: None,
        modified_at: None,
        ..Default::default()
    }
}

/// Entities with attributes of every kind under the names the generators use.
fn sample_entities() -> Vec<Entity> {
    let mut a = attr(AttrKind::Property, json!([1, "x", {"b": [true, null]}, [2.5]]));
    a.sub_attrs.insert(ex("b"), vec![attr(AttrKind::Property, json!("2024-01-01T00:00:00Z"))]);
    a.sub_attrs.insert(ex("name"), vec![attr(AttrKind::Relationship, json!("urn:x:y"))]);
    let attrs = [
        ("a", a),
        ("b1", attr(AttrKind::LanguageProperty, json!({"en": "x", "vi": ["Hải Đăng"]}))),
        ("name", attr(AttrKind::Relationship, json!(["urn:x:y", "urn:e:1"]))),
        ("v", attr(AttrKind::VocabProperty, json!(ex("x")))),
        ("j", attr(AttrKind::JsonProperty, json!({"a": {"b": 1}}))),
        ("l", attr(AttrKind::ListProperty, json!([[1, 2], {"@value": "12:00:00"}]))),
        ("r", attr(AttrKind::ListRelationship, json!([{"object": "urn:e:1"}]))),
        ("g", attr(AttrKind::GeoProperty, json!({"type": "Point", "coordinates": [1, 2]}))),
        ("d", attr(AttrKind::Property, json!({"@type": "DateTime", "@value": "2024-01-01T00:00:00Z"}))),
    ];
    let mut map = BTreeMap::new();
    for (name, a) in attrs {
        map.insert(ex(name), vec![a]);
    }
    let full = Entity {
        id: "urn:e:1".into(),
        types: vec![ex("T")],
        scope: Vec::new(),
        attrs: map,
        created_at: Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()),
        modified_at: None,
    };
    let empty = Entity {
        id: "urn:e:2".into(),
        types: vec![],
        scope: vec![],
        attrs: BTreeMap::new(),
        created_at: None,
        modified_at: None,
    };
    vec![full, empty]
}

/// Parses, and when that works: matching does not panic (relationships followed to the
/// sample entities), the canonical text reads back equal and is a fixed point.
fn check(text: &str, entities: &[Entity]) -> Result<(), TestCaseError> {
    match parse(text) {
        Err(e) => {
            prop_assert!(
                matches!(e.kind, ErrorKind::BadRequestData | ErrorKind::TooComplexQuery),
                "{text:?}: unexpected kind {e:?}"
            );
            prop_assert!(!e.detail.is_empty());
        }
        Ok(query) => {
            let resolve = |id: &str| entities.iter().find(|e| e.id == id).cloned();
            for e in entities {
                let _ = query.matches(e);
                let _ = query.matches_with(e, &resolve);
            }
            let _ = query.attributes();
            let _ = query.linked_depth();
            let canonical = query.to_string();
            let back = Query::from_canonical(&canonical);
            prop_assert!(back.is_ok(), "{text:?} → {canonical:?}: {:?}", back.err());
            let back = back.unwrap();
            prop_assert_eq!(&back, &query, "{:?} → {:?}", text, canonical);
            prop_assert_eq!(back.to_string(), canonical);
            let compact = |iri: &str| iri.strip_prefix(NS).unwrap_or(iri).to_string();
            let short = query.to_string_with(&compact);
            let again = parse(&short);
            prop_assert!(again.is_ok(), "{text:?} → {short:?}: {:?}", again.err());
            prop_assert_eq!(again.unwrap(), query, "{:?} → {:?}", text, short);
        }
    }
    Ok(())
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    ";",
    "|",
    "!",
    "==",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "~=",
    "!~=",
    ".",
    "..",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "\\",
    " ",
    "a",
    "b1",
    "name",
    "v",
    "j",
    "l",
    "r",
    "d",
    "id",
    "type",
    "createdAt",
    "modifiedAt",
    "observedAt",
    "unitCode",
    "datasetId",
    "<http://x.org/a>",
    "<",
    ">",
    "0",
    "1",
    "-2.5",
    "1e400",
    "1e-7",
    "007",
    "true",
    "false",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "2024-13-01",
    "12:00:00",
    "12:00Z",
    "urn:x:y",
    "\"str\"",
    "\"a\\\"b\"",
    "\"\\\\\"",
    "*",
    "en",
    "(?i)x",
    "[a-z]+",
    "\\d",
    "T:",
    "é",
    "Đăng",
    "\u{0}",
    "\t",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.concat())
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&["a", "b1", "name", "v", "j", "l", "r", "d", "g", "missing"][..]).prop_map(String::from),
        "[a-zA-Z_][a-zA-Z0-9_-]{0,6}",
        Just("<http://x.org/a>".to_string()),
    ]
}

/// Entity members a path may start with, which take no sub-attributes or members: the parser
/// refuses `id.observedAt`, so attribute paths must not start with them.
const SYSTEM_MEMBERS: [&str; 4] = ["id", "type", "createdAt", "modifiedAt"];

fn attribute_name() -> impl Strategy<Value = String> {
    name().prop_filter("an attribute, not an entity member", |n| !SYSTEM_MEMBERS.contains(&n.as_str()))
}

fn path() -> impl Strategy<Value = String> {
    let meta = prop::sample::select(&["", ".observedAt", ".unitCode", ".createdAt", ".datasetId"][..]);
    let members = prop::collection::vec(prop::sample::select(&["b", "en", "*", "a", "vi", "@value"][..]), 0..3);
    prop_oneof![
        8 => (attribute_name(), prop::collection::vec(name(), 0..3), meta, members).prop_map(|(root, subs, meta, members)| {
            let mut p = root;
            for s in subs {
                p.push('.');
                p.push_str(&s);
            }
            p.push_str(meta);
            if !members.is_empty() && meta.is_empty() {
                p.push('[');
                p.push_str(&members.join("."));
                p.push(']');
            }
            p
        }),
        1 => prop::sample::select(&SYSTEM_MEMBERS[..]).prop_map(String::from),
        1 => (attribute_name(), prop::option::of(Just("T:")), name()).prop_map(|(r, t, a)| format!("{r}{{{}{a}}}", t.unwrap_or(""))),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i32>().prop_map(|n| n.to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
        "[a-zA-Z0-9 \\\\\"]{0,8}".prop_map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))),
        Just("true".to_string()),
        Just("false".to_string()),
        (2000i32..2100, 1u32..13, 1u32..29, 0u32..24, 0u32..60)
            .prop_map(|(y, m, d, h, mi)| format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:00Z")),
        (2000i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        (0u32..24, 0u32..60, 0u32..60).prop_map(|(h, m, s)| format!("{h:02}:{m:02}:{s:02}")),
        prop::sample::select(&["urn:x:y", "urn:e:1", "x", "https://a.b/c?d=e"][..]).prop_map(String::from),
    ]
}

fn term() -> impl Strategy<Value = String> {
    let op = prop::sample::select(&["==", "!=", ">", ">=", "<", "<="][..]);
    prop_oneof![
        2 => path(),
        1 => path().prop_map(|p| format!("!{p}")),
        4 => (path(), op, value()).prop_map(|(p, o, v)| format!("{p}{o}{v}")),
        2 => (path(), prop::collection::vec(value(), 2..4)).prop_map(|(p, v)| format!("{p}=={}", v.join(","))),
        2 => (path(), value(), value()).prop_map(|(p, a, b)| format!("{p}!={a}..{b}")),
        2 => (path(), prop::sample::select(&["~=", "!~="][..]), prop::sample::select(&["\"^x\"", "(?i)x", "[0-9]+", "\"a|b\"", "\"\\\\d\""][..]))
            .prop_map(|(p, o, r)| format!("{p}{o}{r}")),
    ]
}

fn query_text() -> impl Strategy<Value = String> {
    term().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(";")),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join("|")),
            inner.prop_map(|q| format!("({q})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn never_panics_on_any_text(text in any::<String>()) {
        check(&text, &sample_entities())?;
    }

    #[test]
    fn never_panics_on_printable_text(text in "\\PC{0,120}") {
        check(&text, &sample_entities())?;
    }

    #[test]
    fn never_panics_on_grammar_tokens(text in token_soup()) {
        check(&text, &sample_entities())?;
    }

    #[test]
    fn grammar_built_queries_parse_and_round_trip(text in query_text()) {
        let parsed = parse(&text);
        // only a few generated forms are refused (a bad range, an ordering operator on a
        // boolean or a URI, a regex too big)
        if let Err(e) = &parsed {
            prop_assert!(
                e.detail.contains("range") || e.detail.contains("must be a number") || e.kind == ErrorKind::TooComplexQuery,
                "{text:?}: {e}"
            );
        }
        check(&text, &sample_entities())?;
    }

    #[test]
    fn token_soup_mutations_of_valid_queries(text in query_text(), cut in any::<prop::sample::Index>(), insert in prop::sample::select(TOKENS)) {
        let mut chars: Vec<char> = text.chars().collect();
        let at = cut.index(chars.len() + 1);
        chars.splice(at..at, insert.chars());
        let mutated: String = chars.into_iter().collect();
        check(&mutated, &sample_entities())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn long_inputs_are_refused_quickly(text in prop::collection::vec(prop::sample::select(TOKENS), 1500..3000).prop_map(|t| t.concat())) {
        let started = std::time::Instant::now();
        check(&text, &sample_entities())?;
        if text.len() > 4096 {
            prop_assert_eq!(parse(&text).unwrap_err().kind, ErrorKind::TooComplexQuery);
        }
        prop_assert!(started.elapsed().as_secs() < 2);
    }
}
