//! File rows and pulled JSON items onto entities, as a province would configure them.

use chrono::{TimeZone, Utc};
use haidang_devices::RecordMapping;
use haidang_devices::records::items;
use haidang_ngsi::Context;
use serde_json::json;

const V: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

fn mapping(v: serde_json::Value) -> RecordMapping {
    let m: RecordMapping = serde_json::from_value(v).unwrap();
    m.validate().unwrap();
    m
}

#[test]
fn a_csv_row_of_text_cells_becomes_a_typed_entity() {
    let m = mapping(json!({"entityType": "WeatherObserved", "id": "urn:ngsi-ld:WeatherObserved:{Mã trạm}",
        "lon": "Kinh độ", "lat": "Vĩ độ", "observedAt": "Thời gian",
        "attributes": {"temperature": {"from": "Nhiệt độ", "unitCode": "CEL"}, "name": {"from": "Tên", "kind": "text"},
                       "raining": {"from": "Mưa", "kind": "boolean"}}}));
    let row = json!({"Mã trạm": "PK 01", "Kinh độ": "108.0", "Vĩ độ": "13.98", "Thời gian": "2026-11-24T08:00:00+07:00",
                     "Nhiệt độ": " 24.5 ", "Tên": "Trạm Pleiku", "Mưa": "có"});
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 5, 0, 0).unwrap();
    let e = m.entity(&row, now, &Context::core()).unwrap();
    assert_eq!(e.id, "urn:ngsi-ld:WeatherObserved:PK-01");
    let t = &e.attrs[&format!("{V}temperature")][0];
    assert_eq!((t.value.clone(), t.unit_code.as_deref()), (json!(24.5), Some("CEL")));
    assert_eq!(t.observed_at, Some(Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap()));
    assert_eq!(e.attrs[&format!("{V}name")][0].value, json!("Trạm Pleiku"));
    assert_eq!(e.attrs[&format!("{V}raining")][0].value, json!(true));
    assert_eq!(e.attrs["https://uri.etsi.org/ngsi-ld/location"][0].value["coordinates"], json!([108.0, 13.98]));
    // Blank cells leave the attribute out; no time → the import's time.
    let row = json!({"Mã trạm": "PK02", "Kinh độ": "108", "Vĩ độ": "14", "Nhiệt độ": "", "Tên": "x"});
    let e = m.entity(&row, now, &Context::core()).unwrap();
    assert!(!e.attrs.contains_key(&format!("{V}temperature")));
    assert_eq!(e.attrs[&format!("{V}name")][0].observed_at, Some(now));
}

#[test]
fn bad_rows_say_which_field() {
    let m = mapping(json!({"entityType": "WasteContainer", "id": "urn:ngsi-ld:WasteContainer:{code}", "lon": "x", "lat": "y",
        "attributes": {"fillingLevel": {"from": "fill", "kind": "number"}}}));
    let now = Utc::now();
    let ctx = Context::core();
    for (row, field) in [
        (json!({"x": 1, "y": 2, "fill": 0.5}), "code"),
        (json!({"code": "a", "x": "east", "y": 2, "fill": 0.5}), "x"),
        (json!({"code": "a", "x": 1, "y": 95, "fill": 0.5}), "y"),
        (json!({"code": "a", "x": 1, "y": 2, "fill": "half"}), "fill"),
    ] {
        let e = m.entity(&row, now, &ctx).unwrap_err();
        assert!(e.starts_with(field), "{row}: {e}");
    }
}

#[test]
fn pulled_documents_give_their_items_by_pointer() {
    let doc = json!({"data": {"stations": [{"code": 1, "obs": {"t": 20.5, "at": 1795483000}}, {"code": 2, "obs": {"t": 21}}]}});
    let list = items(&doc, Some("/data/stations")).unwrap();
    assert_eq!(list.len(), 2);
    assert!(items(&doc, Some("/nope")).is_err());
    assert_eq!(items(&json!({"a": 1}), None).unwrap().len(), 1);
    assert!(items(&json!(3), None).is_err());
    let m = mapping(json!({"entityType": "WeatherObserved", "id": "urn:ngsi-ld:WeatherObserved:gl-{code}",
        "observedAt": "/obs/at", "attributes": {"temperature": {"from": "/obs/t"}}}));
    let e = m.entity(list[0], Utc::now(), &Context::core()).unwrap();
    assert_eq!(e.id, "urn:ngsi-ld:WeatherObserved:gl-1");
    assert_eq!(e.attrs[&format!("{V}temperature")][0].observed_at, Some(Utc.timestamp_opt(1795483000, 0).unwrap()));
}

#[test]
fn invalid_mappings_are_refused_by_member() {
    let check = |v: serde_json::Value| serde_json::from_value::<RecordMapping>(v).unwrap().validate().unwrap_err().0;
    let base = || json!({"entityType": "WeatherObserved", "id": "urn:ngsi-ld:W:{c}", "attributes": {"t": {"from": "t"}}});
    let mut v = base();
    v["id"] = json!("urn:ngsi-ld:W:fixed");
    assert_eq!(check(v), "id");
    let mut v = base();
    v["entityType"] = json!("bad type");
    assert_eq!(check(v), "entityType");
    let mut v = base();
    v["lon"] = json!("x");
    assert_eq!(check(v), "lat");
    let mut v = base();
    v["attributes"] = json!({"location": {"from": "x"}});
    assert_eq!(check(v), "attributes.location");
    let mut v = base();
    v["attributes"] = json!({});
    assert_eq!(check(v), "attributes");
}
