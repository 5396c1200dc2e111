//! Attribute history through the context writer: what is recorded, how it is read back for the
//! temporal API, aggregated, and down-sampled by the retention pass (on a manual clock).

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use haidang_core::{Clock, ManualClock, OrgUnitId, OrgUnitType};
use haidang_ngsi::temporal::{AggrMethod, Aggregation};
use haidang_ngsi::{AttrKind, Attribute, Entity};
use haidang_store::context::{HistoryQuery, TimeBound, TimeColumn, TypePolicy, WriteAccess, WriteOp, WritePolicy};
use haidang_store::{AuditCtx, Contact, NewOrgUnit, Store};
use serde_json::{Value, json};

const SENSOR: &str = "https://example.org/Sensor";
const TEMP: &str = "https://example.org/temperature";
const STATE: &str = "https://example.org/state";

struct Anyone;

impl WritePolicy for Anyone {
    fn owner(&self, _: &Entity, access: &WriteAccess) -> OrgUnitId {
        access.unit
    }
    fn may_write(&self, _: &WriteAccess, _: OrgUnitId, _: &Entity) -> bool {
        true
    }
}

struct Fixture {
    store: Store,
    clock: ManualClock,
    access: Arc<WriteAccess>,
    _dir: tempfile::TempDir,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap()
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(t0());
    let store = Store::open(dir.path(), Arc::new(clock.clone())).await.unwrap();
    let unit = store
        .create_org_unit(
            &AuditCtx::system("test"),
            NewOrgUnit {
                code: "P".into(),
                name: "Province".into(),
                short_name: None,
                unit_type: OrgUnitType::Province,
                parent_id: None,
                lat: None,
                lon: None,
                area_km2: None,
                demo_code: false,
                contact: Contact::default(),
            },
        )
        .await
        .unwrap();
    let access = Arc::new(WriteAccess { unit: unit.id, scope: None, types: None });
    Fixture { store, clock, access, _dir: dir }
}

impl Fixture {
    async fn write(&self, ops: Vec<WriteOp>) {
        let writer = self.store.context_writer().await.unwrap();
        for r in writer.write("", self.access.clone(), Arc::new(Anyone), ops).await.unwrap() {
            r.unwrap();
        }
    }

    async fn pk(&self, id: &str) -> i64 {
        self.store.context_entity_key("", id).await.unwrap().unwrap()
    }
}

fn prop(value: Value, observed: Option<DateTime<Utc>>, dataset: Option<&str>) -> Attribute {
    Attribute {
        kind: AttrKind::Property,
        value,
        observed_at: observed,
        dataset_id: dataset.map(str::to_owned),
        ..Default::default()
    }
}

fn entity(id: &str, attrs: Vec<(&str, Attribute)>) -> Entity {
    let mut e = Entity { id: id.into(), types: vec![SENSOR.into()], ..Default::default() };
    for (name, a) in attrs {
        e.attrs.entry(name.to_owned()).or_default().push(a);
    }
    e
}

fn update(id: &str, attrs: Vec<(&str, Attribute)>) -> WriteOp {
    WriteOp::Append { id: id.into(), fragment: entity(id, attrs), no_overwrite: false }
}

fn values(series: &haidang_store::context::HistorySeries) -> Vec<Value> {
    series.series.instances.iter().map(|(_, a)| a.value.clone()).collect()
}

/// A sensor with temperature observed every 10 minutes from t0 (n readings), written one
/// group each, the clock one second after each observation.
async fn sensor(f: &Fixture, id: &str, n: usize) {
    f.write(vec![WriteOp::Create { entity: entity(id, vec![(TEMP, prop(json!(0), Some(t0()), None))]) }]).await;
    for i in 1..n {
        let at = t0() + Duration::minutes(10 * i as i64);
        f.clock.set(at + Duration::seconds(1));
        f.write(vec![update(id, vec![(TEMP, prop(json!(i), Some(at), None))])]).await;
    }
}

#[tokio::test]
async fn instances_come_back_as_written_within_bounds_last_n_and_limit() {
    let f = fixture().await;
    let id = "urn:ngsi-ld:Sensor:a";
    sensor(&f, id, 10).await;
    // observedAt equal to the write time is still "given"; a value without observedAt is not.
    let now = f.clock.now();
    f.write(vec![update(id, vec![(STATE, prop(json!("ok"), Some(now), None))])]).await;
    f.clock.advance(Duration::seconds(5));
    f.write(vec![update(id, vec![(STATE, prop(json!("alarm"), None, None))])]).await;
    let pk = f.pk(id).await;

    let all = f.store.context_history(&HistoryQuery { entity: pk, limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(all.iter().map(|s| s.series.attr.as_str()).collect::<Vec<_>>(), vec![STATE, TEMP]);
    let temp = &all[1];
    assert_eq!(values(temp), (0..10).map(|i| json!(i as f64)).collect::<Vec<_>>());
    assert!(!temp.truncated);
    assert_eq!(temp.series.instances[3].1.observed_at, Some(t0() + Duration::minutes(30)));
    assert_eq!(temp.series.instances[3].1.modified_at, Some(t0() + Duration::minutes(30) + Duration::seconds(1)));
    let state = &all[0].series.instances;
    assert_eq!(state[0].1.observed_at, Some(now), "observedAt given, equal to the write time");
    assert_eq!(state[1].1.observed_at, None, "no observedAt given");
    assert!(state[0].0 < state[1].0, "instance numbers grow");

    let q = |time, last_n, limit| HistoryQuery {
        entity: pk,
        attrs: None,
        time,
        column: TimeColumn::Observed,
        last_n,
        limit,
    };
    let between = TimeBound { start: Some(t0() + Duration::minutes(20)), end: Some(t0() + Duration::minutes(50)) };
    let temps = |r: Vec<haidang_store::context::HistorySeries>| r.into_iter().find(|s| s.series.attr == TEMP).unwrap();
    let r = temps(f.store.context_history(&q(between, None, 100)).await.unwrap());
    assert_eq!(values(&r), vec![json!(2.0), json!(3.0), json!(4.0)], "[start, end)");
    let r = temps(f.store.context_history(&q(TimeBound::default(), Some(3), 100)).await.unwrap());
    assert_eq!(values(&r), vec![json!(7.0), json!(8.0), json!(9.0)], "the last 3, oldest first");
    assert!(!r.truncated);
    let r = temps(f.store.context_history(&q(TimeBound::default(), None, 4)).await.unwrap());
    assert_eq!(values(&r), vec![json!(0.0), json!(1.0), json!(2.0), json!(3.0)]);
    assert!(r.truncated);
    let r = temps(f.store.context_history(&q(TimeBound::default(), Some(6), 4)).await.unwrap());
    assert_eq!(values(&r), vec![json!(6.0), json!(7.0), json!(8.0), json!(9.0)]);
    assert!(r.truncated);
    // The recording time: the writes were a second after each observation.
    let recorded = HistoryQuery {
        column: TimeColumn::Recorded,
        time: TimeBound { start: Some(t0() + Duration::minutes(90)), end: None },
        attrs: Some(&[TEMP.to_owned()]),
        ..q(TimeBound::default(), None, 100)
    };
    let r = f.store.context_history(&recorded).await.unwrap();
    assert_eq!(values(&r[0]), vec![json!(9.0)]);
    // Unknown attributes have no series.
    let none =
        HistoryQuery { attrs: Some(&["https://example.org/nothing".to_owned()]), ..q(TimeBound::default(), None, 9) };
    assert!(f.store.context_history(&none).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_attribute_written_twice_in_one_group_records_each_instance_once() {
    let f = fixture().await;
    let id = "urn:ngsi-ld:Sensor:b";
    f.write(vec![WriteOp::Create {
        entity: entity(
            id,
            vec![
                (TEMP, prop(json!(1), Some(t0()), Some("urn:ds:a"))),
                (TEMP, prop(json!(2), Some(t0()), Some("urn:ds:b"))),
            ],
        ),
    }])
    .await;
    f.clock.advance(Duration::minutes(1));
    // Dataset a, then b, of one attribute in one job (one group).
    f.write(vec![
        update(id, vec![(TEMP, prop(json!(3), Some(t0() + Duration::minutes(1)), Some("urn:ds:a")))]),
        update(id, vec![(TEMP, prop(json!(4), Some(t0() + Duration::minutes(1)), Some("urn:ds:b")))]),
    ])
    .await;
    let pk = f.pk(id).await;
    let all = f.store.context_history(&HistoryQuery { entity: pk, limit: 100, ..Default::default() }).await.unwrap();
    let by_dataset: Vec<(Option<String>, Vec<Value>)> =
        all.iter().map(|s| (s.series.dataset_id.clone(), values(s))).collect();
    assert_eq!(
        by_dataset,
        vec![
            (Some("urn:ds:a".into()), vec![json!(1.0), json!(3.0)]),
            (Some("urn:ds:b".into()), vec![json!(2.0), json!(4.0)]),
        ]
    );
}

fn agg(methods: &str, period: &str) -> Aggregation {
    Aggregation::parse(Some(methods), Some(period)).unwrap()
}

#[tokio::test]
async fn retention_folds_old_raw_rows_into_hours_that_aggregations_still_count() {
    let f = fixture().await;
    let id = "urn:ngsi-ld:Sensor:c";
    // 30 readings, 0..29, every 10 minutes: five hours of history from t0.
    sensor(&f, id, 30).await;
    f.write(vec![update(id, vec![(STATE, prop(json!("old"), Some(t0()), None))])]).await;
    let pk = f.pk(id).await;
    let query = HistoryQuery { entity: pk, attrs: Some(&[TEMP.to_owned()]), limit: 1000, ..Default::default() };
    let daily = agg("totalCount,sum,avg,min,max,sumsq,stddev", "P1D");
    let before = f.store.context_aggregate(&query, &daily, None).await.unwrap();
    let hourly_before = f.store.context_aggregate(&query, &agg("sum,totalCount", "PT1H"), None).await.unwrap();
    assert_eq!(before[0].values[0].1[0].0, json!(30));
    assert_eq!(before[0].values[1].1[0].0, json!(435.0));

    // No policy: nothing happens.
    let later = t0() + Duration::days(3);
    assert_eq!(f.store.context_retention(later, 7).await.unwrap().folded, 0);
    let policy = TypePolicy {
        tenant: "".into(),
        entity_type: SENSOR.into(),
        open: true,
        raw_days: Some(2),
        hourly_days: Some(30),
    };
    f.store.set_context_type_policy(&AuditCtx::system("test"), &policy).await.unwrap();
    assert_eq!(f.store.context_type_policies().await.unwrap(), vec![policy.clone()]);
    assert_eq!(f.store.open_context_types().await.unwrap(), vec![("".to_owned(), SENSOR.to_owned())]);

    // Batches of 7 rows: 30 numbers folded, the text dropped, no raw row left.
    let report = f.store.context_retention(later, 7).await.unwrap();
    assert_eq!((report.folded, report.dropped_raw, report.dropped_hourly), (30, 1, 0));
    let raw = f.store.context_history(&HistoryQuery { entity: pk, limit: 1000, ..Default::default() }).await.unwrap();
    assert!(raw.iter().all(|s| s.series.instances.is_empty()) || raw.is_empty(), "{raw:?}");
    let hours = f.store.context_hourly(pk, None, TimeBound::default()).await.unwrap();
    assert_eq!(hours.len(), 5);
    assert_eq!((hours[0].n, hours[0].sum, hours[0].min, hours[0].max, hours[0].last), (6, 15.0, 0.0, 5.0, 5.0));
    assert_eq!(hours[0].sumsq, Some(55.0));

    // Aggregations give the same answers from the hours (same origin: the first hour).
    let after = f.store.context_aggregate(&query, &daily, None).await.unwrap();
    assert_eq!(after[0].values, before[0].values);
    let hourly_after = f.store.context_aggregate(&query, &agg("sum,totalCount", "PT1H"), None).await.unwrap();
    assert_eq!(hourly_after[0].values, hourly_before[0].values);

    // A second pass finds nothing; past hourly_days the hours go too.
    assert_eq!(f.store.context_retention(later, 7).await.unwrap(), Default::default());
    let report = f.store.context_retention(t0() + Duration::days(31), 2).await.unwrap();
    assert_eq!(report.dropped_hourly, 5);
    assert!(f.store.context_hourly(pk, None, TimeBound::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_instance_or_one_attributes_history_can_be_deleted() {
    let f = fixture().await;
    let id = "urn:ngsi-ld:Sensor:d";
    sensor(&f, id, 3).await;
    let pk = f.pk(id).await;
    let q = HistoryQuery { entity: pk, limit: 10, ..Default::default() };
    let seq = f.store.context_history(&q).await.unwrap()[0].series.instances[1].0;
    assert!(f.store.delete_context_instance(pk, TEMP, seq).await.unwrap());
    assert!(!f.store.delete_context_instance(pk, TEMP, seq).await.unwrap());
    assert_eq!(values(&f.store.context_history(&q).await.unwrap()[0]), vec![json!(0.0), json!(2.0)]);
    assert_eq!(f.store.delete_context_history(pk, TEMP, None).await.unwrap(), 2);
    assert!(f.store.context_history(&q).await.unwrap().is_empty());
}

/// A probe, not a test: a temporal query over one attribute with a million rows.
/// `cargo test -p haidang-store --release --test context_history -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn probe_one_million_rows() {
    let f = fixture().await;
    let id = "urn:ngsi-ld:Sensor:big";
    f.write(vec![WriteOp::Create { entity: entity(id, vec![(TEMP, prop(json!(0), Some(t0()), None))]) }]).await;
    let started = std::time::Instant::now();
    let n = 1_000_000;
    for chunk in 0..(n / 10_000) {
        let ops = (0..10_000)
            .map(|i| {
                let k = chunk * 10_000 + i + 1;
                update(id, vec![(TEMP, prop(json!(k % 997), Some(t0() + Duration::seconds(k as i64)), None))])
            })
            .collect();
        f.write(ops).await;
    }
    println!("wrote {n} instances in {:?}", started.elapsed());
    let pk = f.pk(id).await;
    let attrs = [TEMP.to_owned()];
    let q = HistoryQuery { entity: pk, attrs: Some(&attrs), limit: 1000, ..Default::default() };
    let window = |hours: i64| TimeBound {
        start: Some(t0() + Duration::hours(100)),
        end: Some(t0() + Duration::hours(100 + hours)),
    };
    for (what, query) in [
        ("first 1000 instances", q.clone()),
        ("lastN=1000", HistoryQuery { last_n: Some(1000), ..q.clone() }),
        ("1 hour window (3600 rows, 1000 returned)", HistoryQuery { time: window(1), ..q.clone() }),
    ] {
        let started = std::time::Instant::now();
        let r = f.store.context_history(&query).await.unwrap();
        println!("{what}: {:?} ({} instances)", started.elapsed(), r[0].series.instances.len());
    }
    for (what, query, aggregation) in [
        ("avg,max per hour over all 1M rows", q.clone(), agg("avg,max", "PT1H")),
        ("avg per day over 24 hours", HistoryQuery { time: window(24), ..q.clone() }, agg("avg", "P1D")),
    ] {
        let started = std::time::Instant::now();
        let r = f.store.context_aggregate(&query, &aggregation, None).await.unwrap();
        println!("{what}: {:?} ({} periods)", started.elapsed(), r[0].values[0].1.len());
    }
    let _ = AggrMethod::Avg;
}
