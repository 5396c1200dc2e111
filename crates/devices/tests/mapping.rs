//! Payloads and mappings as devices and administrators would write them.

use chrono::{TimeZone, Utc};
use haidang_devices::measure::{MeasureError, parse_payload};
use haidang_devices::{Mapping, Target, TopicRule};
use haidang_ngsi::Context;
use serde_json::json;

const DEFAULT_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

fn received() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap()
}

#[test]
fn one_reading_with_each_time_form() {
    let r = parse_payload(br#"{"pm25": 38.2, "ts": "2026-11-24T08:00:00+07:00"}"#).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].observed_at, Some(received()));
    assert_eq!(r[0].values, vec![("pm25".to_string(), json!(38.2))]);
    for payload in [r#"{"x":1,"time":1795482000}"#, r#"{"x":1,"observedAt":1795482000000}"#] {
        let r = parse_payload(payload.as_bytes()).unwrap();
        assert_eq!(r[0].observed_at, Some(received()), "{payload}");
    }
    assert_eq!(parse_payload(br#"{"x": 1}"#).unwrap()[0].observed_at, None);
}

#[test]
fn a_backlog_array_keeps_its_order() {
    let r = parse_payload(br#"[{"level": 2.41, "ts": 1795482000}, {"level": 2.47, "ts": 1795482060}]"#).unwrap();
    assert_eq!(r.len(), 2);
    assert!(r[0].observed_at < r[1].observed_at);
    assert_eq!(r[1].values[0].1, json!(2.47));
}

#[test]
fn bad_payloads_are_refused_with_a_reason() {
    type Expect = fn(&MeasureError) -> bool;
    let cases: [(&[u8], Expect); 8] = [
        (b"not json", |e| matches!(e, MeasureError::NotJson(_))),
        (b"42", |e| matches!(e, MeasureError::NotObject)),
        (b"[1, 2]", |e| matches!(e, MeasureError::NotObject)),
        (b"[]", |e| matches!(e, MeasureError::Empty)),
        (br#"{"x": 1, "ts": "yesterday"}"#, |e| matches!(e, MeasureError::BadTime { index: 0, .. })),
        (br#"[{"x":1},{"x": 1, "ts": -5}]"#, |e| matches!(e, MeasureError::BadTime { index: 1, .. })),
        (br#"{"x": null}"#, |e| matches!(e, MeasureError::NullMeasure { .. })),
        (br#"{"x": 1, "ts": true}"#, |e| matches!(e, MeasureError::BadTime { .. })),
    ];
    for (payload, expected) in cases {
        let e = parse_payload(payload).unwrap_err();
        assert!(expected(&e), "{}: {e:?}", String::from_utf8_lossy(payload));
        assert!(!e.to_string().is_empty());
    }
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(300 * 1024));
    assert!(matches!(parse_payload(big.as_bytes()), Err(MeasureError::TooLarge(_))));
    let many = format!("[{}]", vec![r#"{"x":1}"#; 1001].join(","));
    assert!(matches!(parse_payload(many.as_bytes()), Err(MeasureError::TooManyReadings)));
}

#[test]
fn the_default_mapping_passes_measures_through_to_the_device_entity() {
    let ctx = Context::core();
    let readings = parse_payload(br#"{"pm25": 38.2, "ts": "2026-11-24T08:00:00+07:00"}"#).unwrap();
    let ty = format!("{DEFAULT_VOCAB}AirQualityObserved");
    let updates = Mapping::default()
        .updates("measures", ("urn:ngsi-ld:AirQualityObserved:PK-01", &ty), readings, received(), &ctx)
        .unwrap();
    assert_eq!(updates.len(), 1);
    let u = &updates[0];
    assert_eq!(u.entity_id, "urn:ngsi-ld:AirQualityObserved:PK-01");
    let pm = &u.fragment.attrs[&format!("{DEFAULT_VOCAB}pm25")][0];
    assert_eq!(pm.value, json!(38.2));
    assert_eq!(pm.observed_at, Some(received()));
    assert!(Mapping::default().updates("status", ("urn:x:1", &ty), vec![], received(), &ctx).is_err());
}

#[test]
fn rules_rename_add_units_and_feed_other_entities() {
    let ctx = Context::core();
    let mapping: Mapping = serde_json::from_value(json!({"rules": [
        {"topic": "measures", "passThrough": false,
         "attributes": {"t": {"attr": "temperature", "unitCode": "CEL"}}},
        {"topic": "lamps/3", "entityId": "urn:ngsi-ld:Streetlight:PK-003", "entityType": "Streetlight"}
    ]}))
    .unwrap();
    mapping.validate().unwrap();
    let readings = parse_payload(br#"{"t": 29.5, "junk": 1}"#).unwrap();
    let ws = format!("{DEFAULT_VOCAB}WeatherObserved");
    let later = received() + chrono::Duration::minutes(5);
    let u = mapping.updates("measures", ("urn:ngsi-ld:WeatherObserved:1", &ws), readings, later, &ctx).unwrap();
    let attrs = &u[0].fragment.attrs;
    assert_eq!(attrs.len(), 1, "junk is dropped when not passed through");
    let t = &attrs[&format!("{DEFAULT_VOCAB}temperature")][0];
    assert_eq!((t.unit_code.as_deref(), t.observed_at), (Some("CEL"), Some(later)));

    let readings = parse_payload(br#"{"powerState": "off"}"#).unwrap();
    let u = mapping.updates("lamps/3", ("urn:ngsi-ld:Device:gw", &ws), readings, later, &ctx).unwrap();
    assert_eq!(u[0].entity_id, "urn:ngsi-ld:Streetlight:PK-003");
    assert_eq!(u[0].entity_type, format!("{DEFAULT_VOCAB}Streetlight"));

    // A reading whose measures are all dropped changes nothing.
    let readings = parse_payload(br#"{"junk": 1}"#).unwrap();
    assert!(mapping.updates("measures", ("urn:x:1", &ws), readings, later, &ctx).unwrap().is_empty());
    // A passed-through name that NGSI-LD does not allow is refused.
    let readings = parse_payload(br#"{"pm2.5": 1}"#).unwrap();
    assert!(Mapping::default().updates("measures", ("urn:x:1", &ws), readings, later, &ctx).is_err());
}

#[test]
fn invalid_mappings_name_the_member() {
    let rule = |topic: &str| TopicRule {
        topic: topic.into(),
        entity_id: None,
        entity_type: None,
        attributes: Default::default(),
        pass_through: true,
    };
    let check = |m: Mapping| m.validate().unwrap_err().0;
    assert_eq!(check(Mapping { rules: vec![] }), "rules");
    assert_eq!(check(Mapping { rules: vec![rule("measures/+")] }), "rules[0].topic");
    assert_eq!(check(Mapping { rules: vec![rule("a//b")] }), "rules[0].topic");
    assert_eq!(check(Mapping { rules: vec![rule("cmd/x")] }), "rules[0].topic");
    assert_eq!(check(Mapping { rules: vec![rule("m"), rule("m")] }), "rules[1].topic");
    let mut r = rule("m");
    r.entity_id = Some("not a uri".into());
    r.entity_type = Some("Streetlight".into());
    assert_eq!(check(Mapping { rules: vec![r] }), "rules[0].entityId");
    let mut r = rule("m");
    r.entity_id = Some("urn:ngsi-ld:Streetlight:1".into());
    assert_eq!(check(Mapping { rules: vec![r] }), "rules[0].entityType");
    let mut r = rule("m");
    r.attributes.insert("t".into(), Target { attr: "bad name".into(), unit_code: None, dataset_id: None });
    assert_eq!(check(Mapping { rules: vec![r] }), "rules[0].attributes.t.attr");
    assert!(serde_json::from_value::<Mapping>(json!({"rules": [], "extra": 1})).is_err());
}
