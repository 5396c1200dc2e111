//! Properties of the entity model over generated bodies: parsing never panics, and what parses
//! survives parse → to_stored → from_stored → render → parse unchanged.

use std::sync::Arc;

use haidang_ngsi::context::Context;
use haidang_ngsi::entity::{BodyKind, Entity, Format, RenderOptions};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn ctx() -> Arc<Context> {
    Context::resolve_local(&json!({"speed": "https://example.org/speed", "Car": "https://example.org/Car"})).unwrap()
}

/// Arbitrary JSON, biased towards the members NGSI-LD bodies use.
fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type".to_string()),
        Just("value".to_string()),
        Just("object".to_string()),
        Just("languageMap".to_string()),
        Just("datasetId".to_string()),
        Just("observedAt".to_string()),
        Just("coordinates".to_string()),
        Just("urn:ngsi-ld:null".to_string()),
        "[a-zA-Z@:/ ]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop_oneof![
            Just("Property".to_string()),
            Just("Relationship".to_string()),
            Just("GeoProperty".to_string()),
            Just("LanguageProperty".to_string()),
            Just("Point".to_string()),
            Just("urn:ngsi-ld:null".to_string()),
            Just("urn:ngsi-ld:Car:1".to_string()),
            Just("2024-01-01T00:00:00Z".to_string()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Valid-looking attribute values in normalized and concise forms.
fn arb_attribute() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        any::<i32>().prop_map(Value::from),
        "[a-zA-Z0-9 ]{0,10}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| json!(f64::from(n) / 8.0)),
    ];
    prop_oneof![
        scalar.clone(),
        scalar.clone().prop_map(|v| json!({"type": "Property", "value": v})),
        (scalar.clone(), "[A-Z]{3}")
            .prop_map(|(v, u)| json!({"value": v, "unitCode": u, "observedAt": "2024-05-06T07:08:09.123Z"})),
        (scalar.clone(), scalar.clone()).prop_map(|(a, b)| json!({"type": "Property", "value": {"a": a, "b": [b]}})),
        "[0-9]{1,4}".prop_map(|n| json!({"type": "Relationship", "object": format!("urn:ngsi-ld:Car:{n}")})),
        (-180.0f64..180.0, -90.0f64..90.0).prop_map(|(x, y)| json!({"type": "Point", "coordinates": [x, y]})),
        "[a-z]{1,6}".prop_map(|s| json!({"languageMap": {"vi": s, "en": [s]}})),
        "[a-z]{1,6}".prop_map(|s| json!({"vocab": s})),
        scalar.clone().prop_map(|v| json!({"json": {"k": v}})),
        prop::collection::vec(scalar.clone(), 0..4).prop_map(|l| json!({"valueList": l})),
        (scalar.clone(), scalar).prop_map(|(a, b)| json!([
            {"type": "Property", "value": a},
            {"type": "Property", "value": b, "datasetId": "urn:ngsi-ld:Dataset:x",
             "sub": {"type": "Relationship", "object": "urn:x:y"}}
        ])),
    ]
}

fn arb_entity() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-z][a-zA-Z0-9_]{0,7}", arb_attribute(), 0..6).prop_map(|attrs| {
        let mut body: Map<String, Value> = attrs.into_iter().collect();
        body.remove("type");
        body.remove("id");
        body.remove("scope");
        body.insert("id".into(), json!("urn:ngsi-ld:Car:1"));
        body.insert("type".into(), json!("Car"));
        Value::Object(body)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics(body in arb_json()) {
        let ctx = ctx();
        for kind in [BodyKind::Entity, BodyKind::Fragment, BodyKind::Update, BodyKind::Merge] {
            if let Ok(e) = Entity::parse(&body, &ctx, kind) {
                let _ = e.render(&ctx, &RenderOptions::default());
                let _ = Entity::from_stored(&e.to_stored());
            }
        }
        let _ = haidang_ngsi::entity::Attribute::parse("https://example.org/speed", &body, &ctx);
    }

    #[test]
    fn round_trip_through_the_store_and_every_representation(body in arb_entity()) {
        let ctx = ctx();
        let e = Entity::parse(&body, &ctx, BodyKind::Entity).unwrap();
        let back = Entity::from_stored(&e.to_stored()).unwrap();
        prop_assert_eq!(&back, &e);
        for format in [Format::Normalized, Format::Concise] {
            let rendered = back.render(&ctx, &RenderOptions { format, ..RenderOptions::default() });
            let again = Entity::parse(&rendered, &ctx, BodyKind::Entity).unwrap();
            prop_assert_eq!(&again, &e, "{:?}: {}", format, rendered);
        }
    }
}
