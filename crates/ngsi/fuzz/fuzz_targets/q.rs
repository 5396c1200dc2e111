//! `Query::parse` on any text: no panic, only 400/403 refusals, and a parsed query's canonical
//! text reads back equal; matching it against a few entities does not panic either.
#![no_main]

use std::collections::BTreeMap;

use haidang_ngsi::error::ErrorKind;
use haidang_ngsi::query::{ParseOptions, Query};
use haidang_ngsi::{AttrKind, Attribute, Entity};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const NS: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

fn ex(term: &str) -> String {
    if term.contains("://") || term.starts_with("urn:") { term.to_string() } else { format!("{NS}{term}") }
}

fn attr(kind: AttrKind, value: Value) -> Attribute {
    Attribute {
        kind,
        value,
        dataset_id: Some("urn:ds:1".into()),
        observed_at: None,
        unit_code: Some("CEL".into()),
        object_type: None,
        sub_attrs: BTreeMap::new(),
        created_at: None,
        modified_at: None,
    }
}

fn entity() -> Entity {
    let mut a = attr(AttrKind::Property, json!([1, "x", {"b": [true, "2024-01-01"]}]));
    a.sub_attrs.insert(ex("b"), vec![attr(AttrKind::Relationship, json!("urn:e:1"))]);
    let mut attrs = BTreeMap::new();
    attrs.insert(ex("a"), vec![a]);
    attrs.insert(ex("b"), vec![attr(AttrKind::LanguageProperty, json!({"en": "x", "vi": "y"}))]);
    attrs.insert(ex("r"), vec![attr(AttrKind::Relationship, json!(["urn:e:1"]))]);
    attrs.insert(ex("t"), vec![attr(AttrKind::Property, json!("12:00:00"))]);
    Entity { id: "urn:e:1".into(), types: vec![ex("T")], scope: vec![], attrs, created_at: None, modified_at: None }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let opts = ParseOptions { expand_values: vec![ex("a")] };
    match Query::parse_with(text, &ex, &opts) {
        Err(e) => assert!(matches!(e.kind, ErrorKind::BadRequestData | ErrorKind::TooComplexQuery), "{e:?}"),
        Ok(query) => {
            let e = entity();
            let _ = query.matches(&e);
            let _ = query.matches_with(&e, &|id| (id == e.id).then(|| e.clone()));
            let canonical = query.to_string();
            let back = Query::from_canonical(&canonical).expect("canonical text parses");
            assert_eq!(back, query, "{text:?} -> {canonical:?}");
            assert_eq!(back.to_string(), canonical);
        }
    }
});
