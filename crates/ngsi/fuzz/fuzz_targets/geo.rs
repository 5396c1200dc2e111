//! The geo-query parsers on any input: a GeoJSON geometry from JSON bytes, and the URL
//! parameters from text split on NUL bytes. No panic, only BadRequestData; a parsed query
//! matches an entity and gives bounds without panicking.
#![no_main]

use std::collections::BTreeMap;

use geo::Validation;
use haidang_ngsi::entity::names;
use haidang_ngsi::error::ErrorKind;
use haidang_ngsi::geoquery::{GeoQuery, GeoRel, geometry_to_json, parse_geometry};
use haidang_ngsi::{AttrKind, Attribute, Entity};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn entity(value: Value) -> Entity {
    let a = Attribute {
        kind: AttrKind::GeoProperty,
        value,
        dataset_id: None,
        observed_at: None,
        unit_code: None,
        object_type: None,
        sub_attrs: BTreeMap::new(),
        created_at: None,
        modified_at: None,
    };
    let mut attrs = BTreeMap::new();
    attrs.insert(names::LOCATION.to_string(), vec![a]);
    Entity { id: "urn:e".into(), types: vec![], scope: vec![], attrs, created_at: None, modified_at: None }
}

fuzz_target!(|data: &[u8]| {
    // as a GeoJSON geometry
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        match parse_geometry(&value) {
            Ok(g) => assert_eq!(parse_geometry(&geometry_to_json(&g)).ok(), Some(g)),
            Err(e) => assert_eq!(e.kind, ErrorKind::BadRequestData),
        }
    }
    // as georel \0 geometry \0 coordinates [\0 a GeoJSON entity location]
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split('\0');
    let (Some(georel), Some(geometry), Some(coordinates)) = (parts.next(), parts.next(), parts.next()) else { return };
    match GeoQuery::parse_with(georel, geometry, coordinates, None, &|t| t.to_string()) {
        Err(e) => assert_eq!(e.kind, ErrorKind::BadRequestData),
        Ok(q) => {
            let _ = q.bounds();
            let json = q.to_json_with(&|t| t.to_string());
            assert_eq!(GeoQuery::from_json_with(&json, &|t| t.to_string()).ok().as_ref(), Some(&q));
            let location: Value = parts
                .next()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_else(|| geometry_to_json(&q.geometry));
            // geo's DE-9IM code panics on some invalid polygons (the first run of this target
            // found one: a zero-area ring). `matches` catches that and answers false, but
            // libFuzzer aborts on any panic, caught or not; so relations other than `near` are
            // only tried on geometries geo calls valid.
            let valid = q.geometry.is_valid() && parse_geometry(&location).map(|g| g.is_valid()).unwrap_or(true);
            if valid || matches!(q.georel, GeoRel::Near { .. }) {
                let _ = q.matches(&entity(location));
            }
        }
    }
});
