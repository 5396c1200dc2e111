//! Temporal queries and representations (ETSI GS CIM 009 V1.8.1 clauses 4.5.7–4.5.9, 4.5.19,
//! 4.11), checked against the ETSI test suite's vehicle examples.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use haidang_ngsi::context::Context;
use haidang_ngsi::entity::{AttrKind, Attribute, BodyKind, Entity, Format};
use haidang_ngsi::error::ErrorKind;
use haidang_ngsi::temporal::*;
use serde_json::{Value, json};

const TS: &str = "https://ngsi-ld-test-suite/context#";

fn ctx() -> Arc<Context> {
    Context::resolve_local(&json!({
        "Vehicle": format!("{TS}Vehicle"),
        "speed": format!("{TS}speed"),
        "fuelLevel": format!("{TS}fuelLevel"),
    }))
    .unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn bad(r: Result<impl std::fmt::Debug, haidang_ngsi::NgsiError>) {
    match r {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(e) => assert_eq!(e.kind, ErrorKind::BadRequestData, "{e}"),
    }
}

#[test]
fn clause_4_11_temporal_query_parameters() {
    let q =
        TemporalQuery::parse(Some("between"), Some("2020-08-01T12:00:00Z"), Some("2020-08-02T00:00:00Z"), None, None)
            .unwrap();
    assert_eq!(q.interval(), (Some(t("2020-08-01T12:00:00Z")), Some(t("2020-08-02T00:00:00Z"))));
    assert_eq!(q.timeproperty, TimeProperty::ObservedAt);
    let q = TemporalQuery::parse(Some("before"), Some("2020-08-01T12:00:00Z"), None, Some("modifiedAt"), Some("3"))
        .unwrap();
    assert_eq!(q.interval(), (None, Some(t("2020-08-01T12:00:00Z"))));
    assert_eq!((q.timeproperty, q.last_n), (TimeProperty::ModifiedAt, Some(3)));
    assert_eq!(TemporalQuery::parse(None, None, None, None, None).unwrap().interval(), (None, None));

    bad(TemporalQuery::parse(Some("after"), None, None, None, None));
    bad(TemporalQuery::parse(None, Some("2020-08-01T12:00:00Z"), None, None, None));
    bad(TemporalQuery::parse(Some("between"), Some("2020-08-01T12:00:00Z"), None, None, None));
    bad(TemporalQuery::parse(Some("between"), Some("2020-08-02T12:00:00Z"), Some("2020-08-01T12:00:00Z"), None, None));
    bad(TemporalQuery::parse(Some("after"), Some("2020-08-01T12:00:00Z"), Some("2020-08-02T12:00:00Z"), None, None));
    bad(TemporalQuery::parse(Some("during"), Some("2020-08-01T12:00:00Z"), None, None, None));
    bad(TemporalQuery::parse(Some("after"), Some("yesterday"), None, None, None));
    bad(TemporalQuery::parse(None, None, None, Some("seenAt"), None));
    bad(TemporalQuery::parse(None, None, None, None, Some("0")));
    bad(TemporalQuery::parse(None, None, None, None, Some("-1")));

    let q = TemporalQuery::from_json(Some(&json!({"timerel": "after", "timeAt": "2020-08-01T12:00:00Z", "lastN": 2})))
        .unwrap();
    assert_eq!((q.timerel, q.last_n), (Some(TimeRel::After), Some(2)));
    bad(TemporalQuery::from_json(Some(&json!({"timerel": "after"}))));
}

#[test]
fn iso_8601_durations() {
    assert_eq!(IsoDuration::parse("PT1H").unwrap(), IsoDuration { months: 0, millis: 3_600_000 });
    assert_eq!(IsoDuration::parse("P1D").unwrap().millis, 86_400_000);
    assert_eq!(IsoDuration::parse("P1W").unwrap().millis, 7 * 86_400_000);
    assert_eq!(IsoDuration::parse("P1Y2M").unwrap().months, 14);
    assert_eq!(
        IsoDuration::parse("P3Y6M4DT12H30M5.5S").unwrap(),
        IsoDuration { months: 42, millis: 4 * 86_400_000 + 12 * 3_600_000 + 30 * 60_000 + 5_500 }
    );
    assert!(IsoDuration::parse("PT0S").unwrap().is_zero());
    for wrong in ["", "P", "PT", "1H", "PT1", "P1H", "PT1D", "PH", "P1M1Y", "P1.5D", "PT1H1H", "P-1D"] {
        bad(IsoDuration::parse(wrong));
    }
    let month = IsoDuration::parse("P1M").unwrap();
    assert_eq!(month.times_after(t("2020-01-31T00:00:00Z"), 1), Some(t("2020-02-29T00:00:00Z")));
}

#[test]
fn aggregation_methods_are_checked() {
    let a = Aggregation::parse(Some("avg,max,avg"), Some("PT1H")).unwrap();
    assert_eq!(a.methods, vec![AggrMethod::Avg, AggrMethod::Max]);
    assert!(Aggregation::parse(Some("sum"), None).unwrap().period.is_zero());
    bad(Aggregation::parse(None, Some("PT1H")));
    bad(Aggregation::parse(Some("median"), None));
    bad(Aggregation::parse(Some("sum"), Some("an hour")));
}

/// The ETSI vehicle: speed 120, 80, 100 at 12:03, 12:05, 12:07; fuelLevel 67, 53, 40 at
/// 12:03, 13:05, 14:07 (2020-08-01).
fn fuel() -> Vec<(DateTime<Utc>, Value)> {
    vec![
        (t("2020-08-01T12:03:00Z"), json!(67.0)),
        (t("2020-08-01T13:05:00Z"), json!(53.0)),
        (t("2020-08-01T14:07:00Z"), json!(40.0)),
    ]
}

fn aggregate(
    samples: &[(DateTime<Utc>, Value)],
    period: &str,
    methods: &[AggrMethod],
) -> Vec<(AggrMethod, AggrValues)> {
    let mut agg = Aggregator::new(IsoDuration::parse(period).unwrap(), samples[0].0, None);
    for (at, value) in samples {
        agg.add(&Sample::Value { at: *at, value });
    }
    agg.finish(methods)
}

#[test]
fn clause_4_5_19_periods_start_at_the_origin_and_empty_ones_are_left_out() {
    let avg = aggregate(&fuel(), "PT1H", &[AggrMethod::Avg]);
    assert_eq!(
        avg[0].1,
        vec![
            (json!(67.0), t("2020-08-01T12:03:00Z"), t("2020-08-01T13:03:00Z")),
            (json!(53.0), t("2020-08-01T13:03:00Z"), t("2020-08-01T14:03:00Z")),
            (json!(40.0), t("2020-08-01T14:03:00Z"), t("2020-08-01T15:03:00Z")),
        ]
    );
    let speed = vec![
        (t("2020-08-01T12:03:00Z"), json!(120)),
        (t("2020-08-01T12:05:00Z"), json!(80)),
        (t("2020-08-01T12:07:00Z"), json!(100)),
    ];
    let r = aggregate(&speed, "P1D", &AggrMethod::ALL);
    let one = |m: AggrMethod| r.iter().find(|(x, _)| *x == m).unwrap().1[0].0.clone();
    assert_eq!(one(AggrMethod::TotalCount), json!(3));
    assert_eq!(one(AggrMethod::DistinctCount), json!(3));
    assert_eq!(one(AggrMethod::Sum), json!(300.0));
    assert_eq!(one(AggrMethod::Avg), json!(100.0));
    assert_eq!(one(AggrMethod::Min), json!(80.0));
    assert_eq!(one(AggrMethod::Max), json!(120.0));
    assert_eq!(one(AggrMethod::Sumsq), json!(120.0 * 120.0 + 80.0 * 80.0 + 100.0 * 100.0));
    assert_eq!(one(AggrMethod::Stddev), json!(20.0));
    assert_eq!(r[0].1[0].2, t("2020-08-02T12:03:00Z"));
    // A zero duration is one period over the whole interval.
    let whole = aggregate(&speed, "PT0S", &[AggrMethod::Max]);
    assert_eq!(whole[0].1, vec![(json!(120.0), t("2020-08-01T12:03:00Z"), t("2020-08-01T12:07:00Z"))]);
}

#[test]
fn folded_hours_count_as_their_instances() {
    let origin = t("2020-08-01T00:00:00Z");
    let mut agg = Aggregator::new(IsoDuration::parse("P1D").unwrap(), origin, None);
    agg.add(&Sample::Folded { at: t("2020-08-01T10:00:00Z"), n: 4, sum: 10.0, sumsq: Some(30.0), min: 1.0, max: 4.0 });
    let v = json!(5);
    agg.add(&Sample::Value { at: t("2020-08-01T23:00:00Z"), value: &v });
    let r = agg.finish(&[AggrMethod::TotalCount, AggrMethod::Avg, AggrMethod::Max, AggrMethod::DistinctCount]);
    assert_eq!(r[0].1[0].0, json!(5));
    assert_eq!(r[1].1[0].0, json!(3.0));
    assert_eq!(r[2].1[0].0, json!(5.0));
    // The values inside a folded hour are gone: distinct values cannot be counted.
    assert_eq!(r[3].1[0].0, Value::Null);
}

#[test]
fn calendar_periods_follow_the_calendar() {
    let samples = vec![
        (t("2020-01-31T00:00:00Z"), json!(1)),
        (t("2020-02-28T00:00:00Z"), json!(2)),
        (t("2020-03-01T00:00:00Z"), json!(3)),
        (t("2021-03-01T00:00:00Z"), json!(4)),
    ];
    let r = aggregate(&samples, "P1M", &[AggrMethod::Sum]);
    let periods: Vec<_> = r[0].1.iter().map(|(v, s, _)| (v.clone(), *s)).collect();
    assert_eq!(
        periods,
        vec![
            (json!(3.0), t("2020-01-31T00:00:00Z")),
            (json!(3.0), t("2020-02-29T00:00:00Z")),
            (json!(4.0), t("2021-02-28T00:00:00Z")),
        ]
    );
}

fn vehicle() -> Entity {
    Entity { id: "urn:ngsi-ld:Vehicle:A".into(), types: vec![format!("{TS}Vehicle")], ..Default::default() }
}

fn instance(value: Value, observed: &str) -> Attribute {
    let at = t(observed);
    Attribute {
        kind: AttrKind::Property,
        value,
        observed_at: Some(at),
        created_at: Some(Utc.timestamp_opt(1_700_000_000, 0).unwrap()),
        modified_at: Some(Utc.timestamp_opt(1_700_000_000, 0).unwrap()),
        ..Default::default()
    }
}

fn series() -> Vec<Series> {
    vec![Series {
        attr: format!("{TS}fuelLevel"),
        dataset_id: None,
        instances: fuel()
            .into_iter()
            .enumerate()
            .map(|(i, (at, v))| (i as i64 + 1, instance(v, &at.to_rfc3339())))
            .collect(),
    }]
}

#[test]
fn clause_4_5_7_normalized_temporal_representation() {
    let v = render_temporal(&vehicle(), &series(), &ctx(), &TemporalRender::default());
    assert_eq!(v["id"], "urn:ngsi-ld:Vehicle:A");
    assert_eq!(v["type"], "Vehicle");
    let fuel = v["fuelLevel"].as_array().unwrap();
    assert_eq!(fuel.len(), 3);
    assert_eq!(fuel[0]["type"], "Property");
    assert_eq!(fuel[0]["value"], 67.0);
    assert_eq!(fuel[0]["observedAt"], "2020-08-01T12:03:00.000Z");
    assert_eq!(fuel[2]["instanceId"], "urn:ngsi-ld:attribute:instance:3");
    assert_eq!(parse_instance_id(fuel[2]["instanceId"].as_str().unwrap()), Some(3));
    assert!(fuel[0].get("createdAt").is_none());
    let sys = render_temporal(&vehicle(), &series(), &ctx(), &TemporalRender { sys_attrs: true, ..Default::default() });
    assert!(sys["fuelLevel"][0]["createdAt"].is_string() && sys["fuelLevel"][0]["modifiedAt"].is_string());
    // One instance is still an array.
    let mut one = series();
    one[0].instances.truncate(1);
    let v = render_temporal(&vehicle(), &one, &ctx(), &TemporalRender::default());
    assert!(v["fuelLevel"].is_array());
}

#[test]
fn clause_4_5_9_simplified_temporal_representation() {
    let opts = TemporalRender { format: Format::KeyValues, ..Default::default() };
    let v = render_temporal(&vehicle(), &series(), &ctx(), &opts);
    assert_eq!(
        v["fuelLevel"],
        json!({
            "type": "Property",
            "values": [[67.0, "2020-08-01T12:03:00Z"], [53.0, "2020-08-01T13:05:00Z"], [40.0, "2020-08-01T14:07:00Z"]],
        })
    );
    let mut rel = series();
    rel[0].attr = format!("{TS}speed");
    rel[0].dataset_id = Some("urn:ds:1".into());
    for (_, a) in &mut rel[0].instances {
        a.kind = AttrKind::Relationship;
        a.value = json!("urn:ngsi-ld:X:1");
    }
    let v = render_temporal(&vehicle(), &rel, &ctx(), &opts);
    assert_eq!(v["speed"]["objects"][0], json!(["urn:ngsi-ld:X:1", "2020-08-01T12:03:00Z"]));
    assert_eq!(v["speed"]["datasetId"], "urn:ds:1");
}

#[test]
fn clause_4_5_19_aggregated_representation() {
    let values = aggregate(&fuel(), "PT1H", &[AggrMethod::Avg, AggrMethod::Max]);
    let s = AggregatedSeries { attr: format!("{TS}fuelLevel"), dataset_id: None, kind: AttrKind::Property, values };
    let v = render_aggregated(&vehicle(), &[s], &ctx(), false);
    assert_eq!(v["fuelLevel"]["type"], "Property");
    assert_eq!(v["fuelLevel"]["avg"][0], json!([67.0, "2020-08-01T12:03:00Z", "2020-08-01T13:03:00Z"]));
    assert_eq!(v["fuelLevel"]["max"][2], json!([40.0, "2020-08-01T14:03:00Z", "2020-08-01T15:03:00Z"]));
}

#[test]
fn temporal_bodies_split_into_layers_the_entity_parser_reads() {
    let body = json!({
        "id": "urn:ngsi-ld:Vehicle:A",
        "type": "Vehicle",
        "speed": [
            {"type": "Property", "value": 80, "observedAt": "2020-08-01T12:05:00Z"},
            {"type": "Property", "value": 120, "observedAt": "2020-08-01T12:03:00Z"},
            {"type": "Property", "value": 7, "datasetId": "urn:ds:b", "observedAt": "2020-08-01T12:00:00Z"},
        ],
        "fuelLevel": {"type": "Property", "value": 67, "observedAt": "2020-08-01T12:03:00Z"},
    });
    let layers = split_temporal_body(&body).unwrap();
    assert_eq!(layers.len(), 2);
    let first = Entity::parse(&layers[0], &ctx(), BodyKind::Entity).unwrap();
    let speed = &first.attrs[&format!("{TS}speed")];
    assert_eq!(speed.len(), 2, "the first instance of each datasetId");
    assert!(speed.iter().any(|a| a.value == json!(120) && a.dataset_id.is_none()));
    assert!(first.attrs.contains_key(&format!("{TS}fuelLevel")));
    let second = Entity::parse(&layers[1], &ctx(), BodyKind::Fragment).unwrap();
    assert_eq!(second.id, "urn:ngsi-ld:Vehicle:A");
    assert_eq!(second.attrs[&format!("{TS}speed")][0].value, json!(80));
    assert!(!second.attrs.contains_key(&format!("{TS}fuelLevel")));
    bad(split_temporal_body(&json!([1])));
    bad(split_temporal_body(&json!({"id": "urn:x:1", "type": "T", "speed": []})));
}
