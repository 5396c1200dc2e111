//! Entities and attributes (ETSI GS CIM 009 V1.8.1 clauses 4.5, 4.6, 4.7, 4.15, 4.18, 5.2, 5.5,
//! 5.6), behaviours checked against the ETSI test suite's expectations.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use haidang_ngsi::context::{Context, DEFAULT_VOCAB};
use haidang_ngsi::entity::{
    AttrKind, Attribute, BodyKind, Entity, Format, RenderOptions, names, validate_geojson_geometry,
};
use haidang_ngsi::error::ErrorKind;
use serde_json::{Value, json};

const TS: &str = "https://ngsi-ld-test-suite/context#";

fn ctx() -> Arc<Context> {
    Context::resolve_local(&json!({
        "Vehicle": format!("{TS}Vehicle"),
        "Building": format!("{TS}Building"),
        "speed": format!("{TS}speed"),
        "brandName": format!("{TS}brandName"),
        "isParked": format!("{TS}isParked"),
        "street": format!("{TS}street"),
        "OffStreetParking": format!("{TS}OffStreetParking"),
        "name": format!("{TS}name"),
    }))
    .unwrap()
}

fn parse(body: Value) -> Entity {
    Entity::parse(&body, &ctx(), BodyKind::Entity).unwrap_or_else(|e| panic!("{e} for {body}"))
}

fn parse_err(body: Value, kind: BodyKind) -> ErrorKind {
    match Entity::parse(&body, &ctx(), kind) {
        Ok(e) => panic!("accepted {body}: {e:?}"),
        Err(e) => {
            assert!(!e.detail.is_empty());
            e.kind
        }
    }
}

fn rejected(body: Value) {
    assert_eq!(parse_err(body, BodyKind::Entity), ErrorKind::BadRequestData);
}

fn vehicle(attrs: Value) -> Value {
    let mut body = json!({"id": "urn:ngsi-ld:Vehicle:A1", "type": "Vehicle"});
    for (k, v) in attrs.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn render(e: &Entity, format: Format) -> Value {
    e.render(&ctx(), &RenderOptions { format, ..RenderOptions::default() })
}

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn speed() -> String {
    format!("{TS}speed")
}

mod clause_4_5_1_entity {
    use super::*;

    #[test]
    fn id_type_and_names_are_expanded() {
        let e = parse(vehicle(json!({"speed": {"type": "Property", "value": 55}, "other": 1})));
        assert_eq!(e.id, "urn:ngsi-ld:Vehicle:A1");
        assert_eq!(e.types, vec![format!("{TS}Vehicle")]);
        assert!(e.attrs.contains_key(&speed()));
        assert!(e.attrs.contains_key(&format!("{DEFAULT_VOCAB}other")));
    }

    #[test]
    fn keywords_id_and_type_are_accepted_and_rendered_as_id_and_type() {
        let e = parse(json!({"@id": "urn:ngsi-ld:Vehicle:A1", "@type": ["Vehicle", "Building", "Vehicle"]}));
        assert_eq!(e.types.len(), 2);
        let out = render(&e, Format::Normalized);
        assert_eq!(out["id"], "urn:ngsi-ld:Vehicle:A1");
        assert_eq!(out["type"], json!(["Vehicle", "Building"]));
        assert!(out.get("@id").is_none() && out.get("@type").is_none());
    }

    #[test]
    fn id_and_type_are_required_for_creation_only() {
        rejected(json!({"type": "Vehicle"}));
        rejected(json!({"id": "urn:ngsi-ld:Vehicle:A1"}));
        let f = Entity::parse(&json!({"speed": 1}), &ctx(), BodyKind::Fragment).unwrap();
        assert!(f.id.is_empty() && f.types.is_empty());
    }

    #[test]
    fn the_id_is_a_uri() {
        for id in [json!("not a uri"), json!("vehicle1"), json!(5), json!("urn:ngsi-ld:null"), json!("urn:")] {
            rejected(json!({"id": id, "type": "Vehicle"}));
        }
        for cp in [
            0x202E, 0x200B, 0xFEFF, 0x2028, 0x00A0, 0x3C, 0xFE0F, 0xE0100, 0xFDD0, 0xFFFE, 0x115F, 0x3164, 0xFFA0,
            0x2800,
        ] {
            let id = format!("urn:ngsi-ld:Vehicle:A{}B", char::from_u32(cp).unwrap());
            rejected(json!({"id": id, "type": "Vehicle"}));
        }
        // Ordinary non-ASCII characters of an IRI are fine.
        parse(json!({"id": "urn:ngsi-ld:Ciudad:París", "type": "Vehicle",
            "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:Ciudad:París"}}));
    }

    #[test]
    fn core_non_reified_terms_are_not_attribute_names() {
        for name in ["datasetId", "instanceId", "observedAt", "unitCode", "value", "object"] {
            rejected(vehicle(json!({name: {"type": "Property", "value": 1}})));
        }
    }

    #[test]
    fn an_embedded_context_in_an_attribute_is_refused() {
        rejected(vehicle(json!({"speed": {"type": "Property", "value": 1, "@context": {"speed": "https://evil/"}}})));
    }

    #[test]
    fn client_system_attributes_are_ignored() {
        let e = parse(vehicle(json!({"createdAt": "2020-01-01T00:00:00Z",
            "speed": {"type": "Property", "value": 1, "modifiedAt": "2020-01-01T00:00:00Z"}})));
        assert!(e.created_at.is_none());
        assert_eq!(e.attrs.len(), 1);
        assert!(e.attrs[&speed()][0].modified_at.is_none());
    }
}

mod clause_4_5_2_property {
    use super::*;

    #[test]
    fn normalized_property_with_metadata_and_sub_attributes() {
        let e = parse(vehicle(json!({"speed": {
            "type": "Property", "value": 55, "unitCode": "KMH", "observedAt": "2026-01-01T00:00:00Z",
            "accuracy": {"type": "Property", "value": 0.9},
            "measuredBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:1"}
        }})));
        let a = &e.attrs[&speed()][0];
        assert_eq!(a.kind, AttrKind::Property);
        assert_eq!(a.value, json!(55));
        assert_eq!(a.unit_code.as_deref(), Some("KMH"));
        assert_eq!(a.observed_at.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(a.sub_attrs.len(), 2);
        let out = render(&e, Format::Normalized);
        assert_eq!(out["speed"]["observedAt"], "2026-01-01T00:00:00Z");
        assert_eq!(out["speed"]["measuredBy"]["object"], "urn:ngsi-ld:Sensor:1");
    }

    #[test]
    fn a_property_needs_a_value_and_no_member_of_another_kind() {
        rejected(vehicle(json!({"speed": {"type": "Property"}})));
        rejected(vehicle(json!({"speed": {"type": "Property", "value": null}})));
        rejected(vehicle(json!({"speed": null})));
        for extra in [
            json!({"object": "urn:ngsi-ld:Other:1"}),
            json!({"languageMap": {"en": "hello"}}),
            json!({"valueList": [1, 2]}),
            json!({"previousValue": 0}),
            json!({"objectType": "Vehicle"}),
            json!({"entityIdSealed": "urn:x:y"}),
        ] {
            let mut attr = json!({"type": "Property", "value": 1});
            for (k, v) in extra.as_object().unwrap() {
                attr[k] = v.clone();
            }
            rejected(vehicle(json!({ "speed": attr })));
        }
    }

    #[test]
    fn an_unknown_attribute_type_is_refused() {
        rejected(vehicle(json!({"speed": {"type": "Attribute", "value": 1}})));
        rejected(vehicle(json!({"speed": {"type": 5, "value": 1}})));
    }

    #[test]
    fn values_are_kept_verbatim() {
        let text = "<script>alert('x')</script> \"q\" = ; ( ) žltý kôň — 100 €";
        let e = parse(vehicle(json!({"street": {"type": "Property", "value": text}})));
        let out = render(&e, Format::Normalized);
        assert_eq!(out["street"]["value"], text);
        assert!(!serde_json::to_string(&out).unwrap().contains("\\u003c"));
    }
}

mod clause_4_5_2_3_concise {
    use super::*;

    #[test]
    fn types_are_inferred() {
        let e = parse(vehicle(json!({
            "speed": 55,
            "location": {"type": "Point", "coordinates": [8.0, 49.0]},
            "area": {"value": {"type": "Point", "coordinates": [1.0, 2.0]}},
            "brandName": {"value": "Volvo", "observedAt": "2026-01-01T00:00:00Z"},
            "isParked": {"object": "urn:ngsi-ld:OffStreetParking:1"},
            "street": {"languageMap": {"en": "Main Street"}},
            "category": {"vocab": "commercial"},
            "tickets": {"json": {"speed": 3, "type": "raw"}},
            "depths": {"valueList": [1.2, 3.4]},
            "route": {"objectList": ["urn:ngsi-ld:Road:1", {"object": "urn:ngsi-ld:Road:2"}]},
            "address": {"street": "Le Loi", "city": "Huế"},
            "tags": ["a", "b"]
        })));
        let kind = |n: &str| e.attrs[&ctx().expand(n)][0].kind;
        assert_eq!(kind("speed"), AttrKind::Property);
        assert_eq!(kind("location"), AttrKind::GeoProperty);
        assert_eq!(kind("area"), AttrKind::GeoProperty);
        assert_eq!(kind("brandName"), AttrKind::Property);
        assert_eq!(kind("isParked"), AttrKind::Relationship);
        assert_eq!(kind("street"), AttrKind::LanguageProperty);
        assert_eq!(kind("category"), AttrKind::VocabProperty);
        assert_eq!(kind("tickets"), AttrKind::JsonProperty);
        assert_eq!(kind("depths"), AttrKind::ListProperty);
        assert_eq!(kind("route"), AttrKind::ListRelationship);
        assert_eq!(kind("address"), AttrKind::Property);
        assert_eq!(e.attrs[&ctx().expand("tags")][0].value, json!(["a", "b"]));
        let out = render(&e, Format::Normalized);
        assert_eq!(out["brandName"]["observedAt"], "2026-01-01T00:00:00Z");
        assert_eq!(out["location"]["type"], "GeoProperty");
        assert_eq!(
            out["route"]["objectList"],
            json!([{"object": "urn:ngsi-ld:Road:1"}, {"object": "urn:ngsi-ld:Road:2"}])
        );
        // The JSON property is never expanded or compacted.
        assert_eq!(out["tickets"]["json"], json!({"speed": 3, "type": "raw"}));
    }

    #[test]
    fn concise_rendering_reads_back_the_same() {
        let body = vehicle(json!({
            "speed": {"type": "Property", "value": 55, "unitCode": "KMH"},
            "brandName": {"type": "Property", "value": "Volvo"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [8.0, 49.0]}},
            "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:1"},
            "compound": {"type": "Property", "value": {"type": "Point", "coordinates": [1, 2]}}
        }));
        let e = parse(body);
        let concise = render(&e, Format::Concise);
        assert_eq!(concise["brandName"], "Volvo");
        assert_eq!(concise["speed"], json!({"value": 55, "unitCode": "KMH"}));
        assert_eq!(concise["location"], json!({"type": "Point", "coordinates": [8.0, 49.0]}));
        assert_eq!(concise["isParked"], json!({"object": "urn:ngsi-ld:OffStreetParking:1"}));
        assert_eq!(parse(concise), e);
    }
}

mod clause_4_5_3_relationship {
    use super::*;

    #[test]
    fn a_relationship_needs_a_uri_object() {
        rejected(vehicle(json!({"isParked": {"type": "Relationship"}})));
        rejected(vehicle(json!({"isParked": {"type": "Relationship", "object": "not a uri"}})));
        rejected(vehicle(json!({"isParked": {"type": "Relationship", "object": 5}})));
        rejected(vehicle(json!({"isParked": {"type": "Relationship", "object": "urn:ngsi-ld:null"}})));
    }

    #[test]
    fn prohibited_members_and_legal_object_type() {
        for extra in [
            json!({"unitCode": "MTR"}),
            json!({"value": 42}),
            json!({"languageMap": {"en": "x"}}),
            json!({"previousObject": "urn:ngsi-ld:Other:0"}),
        ] {
            let mut attr = json!({"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:1"});
            for (k, v) in extra.as_object().unwrap() {
                attr[k] = v.clone();
            }
            rejected(vehicle(json!({ "isParked": attr })));
        }
        let e = parse(vehicle(json!({"isParked": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:1",
            "objectType": "OffStreetParking"}})));
        let a = &e.attrs[&format!("{TS}isParked")][0];
        assert_eq!(a.object_type, Some(vec![format!("{TS}OffStreetParking")]));
        assert_eq!(render(&e, Format::Normalized)["isParked"]["objectType"], "OffStreetParking");
    }
}

mod clause_4_5_5_multi_attribute {
    use super::*;

    #[test]
    fn instances_are_told_apart_by_dataset_id() {
        let e = parse(vehicle(json!({"speed": [
            {"type": "Property", "value": 55, "datasetId": "@none"},
            {"type": "Property", "value": 11, "datasetId": "urn:ngsi-ld:Dataset:gps"}
        ]})));
        assert_eq!(e.attrs[&speed()].len(), 2);
        assert_eq!(e.default_instance(&speed()).unwrap().value, json!(55));
        let out = render(&e, Format::Normalized);
        let instances = out["speed"].as_array().unwrap();
        assert_eq!(instances.iter().filter(|i| i.get("datasetId").is_none()).count(), 1);
        assert!(!serde_json::to_string(&out).unwrap().contains("@none"));
    }

    #[test]
    fn two_defaults_or_duplicate_dataset_ids_are_refused() {
        rejected(vehicle(
            json!({"speed": [{"type": "Property", "value": 55}, {"type": "Property", "value": 11, "datasetId": "@none"}]}),
        ));
        rejected(vehicle(json!({"speed": [
            {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:a"},
            {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:a"}]})));
        rejected(vehicle(json!({"speed": {"type": "Property", "value": 1, "datasetId": "not a uri"}})));
    }
}

mod clause_4_5_4_simplified {
    use super::*;

    #[test]
    fn key_values_per_attribute_type() {
        let e = parse(vehicle(json!({
            "speed": [{"type": "Property", "value": 55}, {"type": "Property", "value": 11, "datasetId": "urn:ngsi-ld:Dataset:gps"}],
            "brandName": {"type": "LanguageProperty", "languageMap": {"en": "hi"}},
            "street": {"type": "JsonProperty", "json": {"a": 1}},
            "category": {"type": "VocabProperty", "vocab": "non-commercial"},
            "depths": {"type": "ListProperty", "valueList": [1.2, 3.4]},
            "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:1"},
            "route": {"type": "ListRelationship", "objectList": ["urn:ngsi-ld:Road:1", "urn:ngsi-ld:Road:2"]}
        })));
        let out = render(&e, Format::KeyValues);
        assert_eq!(out["brandName"], json!({"languageMap": {"en": "hi"}}));
        assert_eq!(out["street"], json!({"json": {"a": 1}}));
        assert_eq!(out["category"], json!({"vocab": "non-commercial"}));
        assert_eq!(out["depths"], json!([1.2, 3.4]));
        assert_eq!(out["isParked"], "urn:ngsi-ld:OffStreetParking:1");
        assert_eq!(out["route"], json!(["urn:ngsi-ld:Road:1", "urn:ngsi-ld:Road:2"]));
        assert_eq!(out["speed"], json!({"dataset": {"@none": 55, "urn:ngsi-ld:Dataset:gps": 11}}));
    }
}

mod clause_4_5_16_geojson {
    use super::*;

    #[test]
    fn feature_with_the_default_instance_geometry() {
        let e = parse(vehicle(json!({
            "location": [
                {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [9.0, 9.0]}, "datasetId": "urn:ngsi-ld:Dataset:gps"},
                {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1.0, 2.0]}}
            ],
            "speed": {"type": "Property", "value": 5}
        })));
        let f = e.render_geojson(&ctx(), &RenderOptions::default(), names::LOCATION);
        assert_eq!(f["type"], "Feature");
        assert_eq!(f["id"], "urn:ngsi-ld:Vehicle:A1");
        assert_eq!(f["geometry"], json!({"type": "Point", "coordinates": [1.0, 2.0]}));
        assert_eq!(f["properties"]["type"], "Vehicle");
        assert!(f["properties"].get("id").is_none());
        assert_eq!(f["properties"]["speed"]["value"], 5);

        let kv = RenderOptions { format: Format::KeyValues, ..RenderOptions::default() };
        let f = e.render_geojson(&ctx(), &kv, names::LOCATION);
        assert_eq!(f["properties"]["speed"], 5);
        assert_eq!(f["properties"]["location"]["dataset"].as_object().unwrap().len(), 2);

        let f = e.render_geojson(&ctx(), &RenderOptions::default(), &speed());
        assert_eq!(f["geometry"], Value::Null);

        match e.geometry(names::LOCATION) {
            Some(geo::Geometry::Point(p)) => assert_eq!((p.x(), p.y()), (1.0, 2.0)),
            other => panic!("{other:?}"),
        }
        assert!(e.geometry(&speed()).is_none());
    }
}

mod clause_4_5_18_language_property {
    use super::*;

    #[test]
    fn language_maps_are_validated() {
        let e = parse(vehicle(json!({"brandName": {"type": "LanguageProperty",
            "languageMap": {"sk": "škola", "en": ["school", "academy"], "@none": "default"}}})));
        assert_eq!(render(&e, Format::Normalized)["brandName"]["languageMap"]["en"], json!(["school", "academy"]));
        rejected(vehicle(json!({"brandName": {"type": "LanguageProperty"}})));
        rejected(vehicle(json!({"brandName": {"type": "LanguageProperty", "languageMap": {"en": 5}}})));
        rejected(vehicle(json!({"brandName": {"type": "LanguageProperty", "languageMap": {"en": ["a", 5]}}})));
        rejected(vehicle(json!({"brandName": {"type": "LanguageProperty", "languageMap": {"": "x"}}})));
        rejected(vehicle(
            json!({"brandName": {"type": "LanguageProperty", "languageMap": {"@none": "urn:ngsi-ld:null"}}}),
        ));
        rejected(vehicle(
            json!({"brandName": {"type": "LanguageProperty", "languageMap": {"en": "x"}, "valueType": "xsd:string"}}),
        ));
        parse(vehicle(
            json!({"brandName": {"type": "LanguageProperty", "languageMap": {"en": "x"}, "valueType": "langString"}}),
        ));
    }
}

mod clause_4_15_language_filter {
    use super::*;

    fn street(lang: &str, format: Format) -> Value {
        let e = parse(vehicle(json!({"street": {"type": "LanguageProperty",
            "languageMap": {"fr": "Grand Place", "nl": "Grote Markt", "en-US": "Main Square"}}})));
        let opts = RenderOptions { format, lang: Some(lang.to_string()), ..RenderOptions::default() };
        e.render(&ctx(), &opts)["street"].clone()
    }

    #[test]
    fn a_language_property_is_rendered_as_a_property_in_the_chosen_language() {
        assert_eq!(street("nl", Format::Normalized), json!({"type": "Property", "value": "Grote Markt", "lang": "nl"}));
        assert_eq!(street("fr;q=0.2,nl;q=0.9", Format::Normalized)["lang"], "nl");
        assert_eq!(street("FR", Format::Normalized)["lang"], "fr");
        assert_eq!(street("nl-BE", Format::Normalized)["lang"], "nl");
        assert_eq!(street("en", Format::Normalized)["value"], "Main Square");
        assert_eq!(street("pt", Format::Normalized)["type"], "Property");
        assert!(street("pt", Format::Normalized)["lang"].is_string());
        assert_eq!(street("*", Format::Normalized)["type"], "Property");
        assert_eq!(street("nl", Format::Concise), json!({"value": "Grote Markt", "lang": "nl"}));
        assert_eq!(street("nl", Format::KeyValues), json!("Grote Markt"));
    }
}

mod clause_4_5_21_lists_and_4_5_24_json {
    use super::*;

    #[test]
    fn list_and_json_property_rules() {
        rejected(vehicle(json!({"route": {"type": "ListRelationship", "objectList": ["not a uri"]}})));
        rejected(vehicle(json!({"depths": {"type": "ListProperty", "valueList": [1.2], "value": 3}})));
        rejected(vehicle(json!({"tickets": {"type": "JsonProperty", "json": {"a": 1}, "unitCode": "MTR"}})));
        rejected(vehicle(json!({"tickets": {"type": "JsonProperty", "json": {"a": 1}, "value": 1}})));
        rejected(vehicle(json!({"tickets": {"type": "JsonProperty", "json": 5}})));
        let e = parse(vehicle(json!({"tickets": {"json": {"a": null, "b": [1]}}})));
        assert_eq!(
            render(&e, Format::Normalized)["tickets"],
            json!({"type": "JsonProperty", "json": {"a": null, "b": [1]}})
        );
    }

    #[test]
    fn vocab_values_are_expanded_and_compacted() {
        let e = parse(vehicle(json!({"category": {"type": "VocabProperty", "vocab": ["Vehicle", "other"]}})));
        let a = &e.attrs[&ctx().expand("category")][0];
        assert_eq!(a.value, json!([format!("{TS}Vehicle"), format!("{DEFAULT_VOCAB}other")]));
        assert_eq!(render(&e, Format::Normalized)["category"]["vocab"], json!(["Vehicle", "other"]));
    }
}

mod clause_4_6_2_names {
    use super::*;

    #[test]
    fn names_follow_the_grammar() {
        rejected(vehicle(json!({"my attr": 1})));
        rejected(vehicle(json!({"a(b)": 1})));
        rejected(vehicle(json!({"": 1})));
        rejected(vehicle(json!({"a;b": 1})));
        rejected(json!({"id": "urn:ngsi-ld:Vehicle:A1", "type": "9Vehicle"}));
        rejected(vehicle(json!({"speed": {"type": "Property", "value": 1, "bad-name": 2}})));
        let e = parse(json!({"id": "urn:ngsi-ld:Vehicle:A1", "type": "Škola", "výška_1": 7,
            "https://example.org/full": 1, "ngsi-ld:thing": 2}));
        assert!(e.attrs.contains_key("https://example.org/full"));
        assert!(e.attrs.contains_key("https://uri.etsi.org/ngsi-ld/thing"));
        assert_eq!(render(&e, Format::Normalized)["výška_1"]["value"], 7);
    }
}

mod clause_4_6_3_date_times {
    use super::*;

    #[test]
    fn observed_at_is_a_utc_date_time() {
        for bad in [
            json!("yesterday"),
            json!("2026-08-10T12:00:00+02:00"),
            json!({"type": "Property", "value": "2026-01-01T00:00:00Z"}),
            json!(5),
        ] {
            rejected(vehicle(json!({"speed": {"type": "Property", "value": 3, "observedAt": bad}})));
        }
        let e = parse(vehicle(
            json!({"speed": {"type": "Property", "value": 3, "observedAt": "2022-03-14T13:00:00.000Z"}}),
        ));
        assert_eq!(render(&e, Format::Normalized)["speed"]["observedAt"], "2022-03-14T13:00:00.000Z");
    }
}

mod clause_4_7_geo_property {
    use super::*;

    #[test]
    fn geometries_are_validated() {
        let geo = |v: Value| vehicle(json!({"location": {"type": "GeoProperty", "value": v}}));
        parse(geo(json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})));
        parse(geo(json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]})));
        parse(geo(json!({"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]})));
        for bad in [
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
            json!({"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]}),
            json!({"type": "Point", "coordinates": [181, 0]}),
            json!({"type": "Point", "coordinates": [0, 91]}),
            json!({"type": "Point", "coordinates": [0]}),
            json!({"type": "LineString", "coordinates": [[0, 0]]}),
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [17.1, 48.7]}]}),
            json!({"type": "Circle", "coordinates": [0, 0]}),
            json!("not a geometry"),
            json!(7),
        ] {
            rejected(geo(bad.clone()));
            assert!(validate_geojson_geometry(&bad).is_err() || bad.is_string());
        }
        rejected(vehicle(json!({"location": {"type": "Property", "value": 7}})));
        rejected(vehicle(json!({"location": 7})));
    }

    #[test]
    fn a_string_encoded_geometry_is_decoded() {
        let e = parse(vehicle(json!({"location": {"type": "GeoProperty",
            "value": "{\"type\": \"Point\", \"coordinates\": [17.1, 48.7]}"}})));
        assert_eq!(
            render(&e, Format::Normalized)["location"]["value"],
            json!({"type": "Point", "coordinates": [17.1, 48.7]})
        );
    }
}

mod clause_4_18_scope {
    use super::*;

    #[test]
    fn scopes_follow_the_grammar() {
        for bad in
            [json!("9bad"), json!("/a//b"), json!("a-b"), json!("urn:ngsi-ld:null"), json!(["/ok", "9bad"]), json!([])]
        {
            rejected(json!({"id": "urn:ngsi-ld:Building:1", "type": "Building", "scope": bad}));
        }
        let e =
            parse(json!({"id": "urn:ngsi-ld:Building:1", "type": "Building", "scope": "/Madrid/Gardens/ParqueNorte"}));
        assert_eq!(e.scope, vec!["/Madrid/Gardens/ParqueNorte"]);
        assert_eq!(render(&e, Format::Normalized)["scope"], "/Madrid/Gardens/ParqueNorte");
    }
}

mod clause_5_2_1_ngsi_ld_null {
    use super::*;

    #[test]
    fn the_null_is_refused_outside_updates_and_merges() {
        for attr in [
            json!({"type": "Property", "value": "urn:ngsi-ld:null"}),
            json!({"type": "Relationship", "object": "urn:ngsi-ld:null"}),
            json!({"type": "Property", "value": 1, "sub": {"type": "Property", "value": "urn:ngsi-ld:null"}}),
            json!({"type": "Property", "value": {"geo": {"country": "urn:ngsi-ld:null"}}}),
        ] {
            rejected(vehicle(json!({ "probe": attr.clone() })));
            assert_eq!(parse_err(vehicle(json!({ "probe": attr })), BodyKind::Fragment), ErrorKind::BadRequestData);
        }
        // In an update a whole value may be the null; inside a compound value only in a merge.
        Entity::parse(&json!({"speed": {"type": "Property", "value": "urn:ngsi-ld:null"}}), &ctx(), BodyKind::Update)
            .unwrap();
        assert_eq!(
            parse_err(json!({"speed": {"type": "Property", "value": {"a": "urn:ngsi-ld:null"}}}), BodyKind::Update),
            ErrorKind::BadRequestData
        );
        Entity::parse(
            &json!({"speed": {"type": "Property", "value": {"a": "urn:ngsi-ld:null"}}}),
            &ctx(),
            BodyKind::Merge,
        )
        .unwrap();
        assert_eq!(
            Attribute::parse(&speed(), &json!({"datasetId": "urn:ngsi-ld:null"}), &ctx()).unwrap_err().kind,
            ErrorKind::BadRequestData
        );
    }
}

mod stored_form {
    use super::*;

    #[test]
    fn to_stored_and_back() {
        let mut e = parse(vehicle(json!({
            "speed": [{"type": "Property", "value": 55, "observedAt": "2026-01-01T00:00:00Z", "unitCode": "KMH",
                       "accuracy": {"type": "Property", "value": 0.9}},
                      {"type": "Property", "value": 11, "datasetId": "urn:ngsi-ld:Dataset:gps"}],
            "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:1", "objectType": "OffStreetParking"},
            "location": {"type": "Point", "coordinates": [107.59, 16.46]},
            "street": {"languageMap": {"vi": "Lê Lợi"}},
            "scope": "/Hue"
        })));
        let mut fresh = Entity { id: e.id.clone(), types: e.types.clone(), ..Entity::default() };
        fresh.append(e.clone(), false, t(0));
        e = fresh;
        e.created_at = Some(t(0));
        let stored = e.to_stored();
        assert_eq!(stored["@id"], "urn:ngsi-ld:Vehicle:A1");
        assert_eq!(stored[names::CREATED_AT], "2023-11-14T22:13:20.000Z");
        assert_eq!(stored[speed()][0]["@type"], names::PROPERTY);
        assert_eq!(stored[speed()][0][names::HAS_VALUE], json!(55));
        assert_eq!(Entity::from_stored(&stored).unwrap(), e);
        assert_eq!(Entity::from_stored(&json!({"@id": 5})).unwrap_err().kind, ErrorKind::InternalError);
        let a = &e.attrs[&speed()][0];
        assert_eq!(&Attribute::from_stored(&a.to_stored()).unwrap(), a);
    }

    #[test]
    fn sys_attrs_are_rendered_on_request() {
        let mut e =
            Entity { id: "urn:ngsi-ld:Vehicle:A1".into(), types: vec![format!("{TS}Vehicle")], ..Entity::default() };
        e.created_at = Some(t(0));
        e.modified_at = Some(t(0));
        e.append(Entity::parse(&json!({"speed": 1}), &ctx(), BodyKind::Fragment).unwrap(), false, t(1));
        let opts = RenderOptions { sys_attrs: true, ..RenderOptions::default() };
        let out = e.render(&ctx(), &opts);
        assert_eq!(out["createdAt"], "2023-11-14T22:13:20.000Z");
        assert_eq!(out["modifiedAt"], "2023-11-14T22:13:21.000Z");
        assert_eq!(out["speed"]["createdAt"], "2023-11-14T22:13:21.000Z");
        assert!(render(&e, Format::Normalized)["speed"].get("createdAt").is_none());
        let only = RenderOptions { attrs: Some(vec!["nothing".into()]), ..RenderOptions::default() };
        assert!(e.render(&ctx(), &only).get("speed").is_none());
    }
}

fn base() -> Entity {
    let mut e = parse(vehicle(json!({
        "speed": {"type": "Property", "value": 25, "unitCode": "CEL", "observedAt": "2022-03-14T01:59:26.535Z"},
        "name": {"type": "Property", "value": "x"},
        "address": {"type": "Property", "value": {"street": "Straße des 17. Juni", "city": "Berlin", "country": "Germany"}}
    })));
    let mut fresh = Entity { id: e.id.clone(), types: e.types.clone(), created_at: Some(t(0)), ..Entity::default() };
    fresh.append(std::mem::take(&mut e), false, t(0));
    fresh
}

fn fragment(body: Value, kind: BodyKind) -> Entity {
    Entity::parse(&body, &ctx(), kind).unwrap()
}

mod clause_5_6_3_append {
    use super::*;

    #[test]
    fn append_adds_and_overwrites_unless_no_overwrite() {
        let mut e = base();
        let r = e.append(fragment(json!({"speed": 30, "brandName": "Volvo"}), BodyKind::Fragment), true, t(5));
        assert_eq!(r.updated, vec![format!("{TS}brandName")]);
        assert_eq!(r.not_updated.len(), 1);
        assert_eq!(e.default_instance(&speed()).unwrap().value, json!(25));
        let r = e.append(fragment(json!({"speed": 30}), BodyKind::Fragment), false, t(6));
        assert_eq!(r.updated, vec![speed()]);
        let s = e.default_instance(&speed()).unwrap();
        assert_eq!(s.value, json!(30));
        assert_eq!(s.created_at, Some(t(0)));
        assert_eq!(s.modified_at, Some(t(6)));
        assert_eq!(e.modified_at, Some(t(6)));
        assert_eq!(e.created_at, Some(t(0)));
    }
}

mod clause_5_6_2_update {
    use super::*;

    #[test]
    fn update_replaces_whole_attributes_and_reports_missing_ones() {
        let mut e = base();
        let r = e.update(
            fragment(json!({"speed": {"type": "Property", "value": 100, "observedAt": "2022-03-14T13:00:00.000Z"}, "ghost": 1}), BodyKind::Update),
            t(5),
        );
        assert_eq!(r.updated, vec![speed()]);
        assert_eq!(r.not_updated[0].attribute, format!("{DEFAULT_VOCAB}ghost"));
        let s = e.default_instance(&speed()).unwrap();
        assert_eq!(s.unit_code, None);
        assert_eq!(s.created_at, Some(t(0)));
    }

    #[test]
    fn a_null_deletes_and_a_new_dataset_id_adds() {
        let mut e = base();
        e.update(
            fragment(
                json!({"speed": {"type": "Property", "value": 30, "datasetId": "urn:ngsi-ld:Dataset:extra"}}),
                BodyKind::Update,
            ),
            t(5),
        );
        assert_eq!(e.attrs[&speed()].len(), 2);
        e.update(fragment(json!({"speed": {"type": "Property", "value": "urn:ngsi-ld:null"}}), BodyKind::Update), t(6));
        assert_eq!(e.attrs[&speed()].len(), 1);
        e.update(
            fragment(json!({"speed": {"type": "Property", "value": "urn:ngsi-ld:null", "datasetId": "urn:ngsi-ld:Dataset:extra"}}), BodyKind::Update),
            t(7),
        );
        assert!(!e.attrs.contains_key(&speed()));
    }
}

mod clause_5_6_4_partial_attribute_update {
    use super::*;

    #[test]
    fn only_the_given_members_are_overwritten() {
        let mut e = base();
        let f = Attribute::parse(
            &speed(),
            &json!({"type": "Property", "value": 100, "observedAt": "2022-03-14T13:00:00.000Z"}),
            &ctx(),
        )
        .unwrap();
        e.patch_attribute(&speed(), f.into_iter().next().unwrap(), t(5)).unwrap();
        let out = render(&e, Format::Normalized);
        assert_eq!(out["speed"]["value"], 100);
        assert_eq!(out["speed"]["unitCode"], "CEL");
        assert_eq!(out["speed"]["observedAt"], "2022-03-14T13:00:00.000Z");

        let f = Attribute::parse(&speed(), &json!({"unitCode": "FAH"}), &ctx()).unwrap();
        e.patch_attribute(&speed(), f.into_iter().next().unwrap(), t(6)).unwrap();
        assert_eq!(e.default_instance(&speed()).unwrap().value, json!(100));
        assert_eq!(e.default_instance(&speed()).unwrap().unit_code.as_deref(), Some("FAH"));
    }

    #[test]
    fn missing_targets_and_scope() {
        let mut e = base();
        let f = Attribute::new(AttrKind::Property, json!(1));
        assert_eq!(
            e.patch_attribute("https://x.example/none", f.clone(), t(1)).unwrap_err().kind,
            ErrorKind::ResourceNotFound
        );
        assert_eq!(e.patch_attribute(names::SCOPE, f, t(1)).unwrap_err().kind, ErrorKind::BadRequestData);
        let nested = Attribute::parse(&speed(), &json!({"value": {"country": "urn:ngsi-ld:null"}}), &ctx());
        assert_eq!(nested.unwrap_err().kind, ErrorKind::BadRequestData);
    }
}

mod clause_5_6_17_merge {
    use super::*;

    #[test]
    fn merge_patches_compound_values_and_deletes_with_the_null() {
        let mut e = base();
        let address = ctx().expand("address");
        e.merge(
            fragment(json!({"address": {"type": "Property", "value": {"street": "Pariser Platz", "country": "urn:ngsi-ld:null"}},
                "name": "urn:ngsi-ld:null", "brandName": {"value": {"a": 1, "b": "urn:ngsi-ld:null"}}}), BodyKind::Merge),
            t(5),
        );
        assert_eq!(e.default_instance(&address).unwrap().value, json!({"street": "Pariser Platz", "city": "Berlin"}));
        assert!(!e.attrs.contains_key(&format!("{TS}name")));
        assert_eq!(e.default_instance(&format!("{TS}brandName")).unwrap().value, json!({"a": 1}));
        assert_eq!(e.default_instance(&speed()).unwrap().unit_code.as_deref(), Some("CEL"));
        assert!(!serde_json::to_string(&e.to_stored()).unwrap().contains("urn:ngsi-ld:null"));
    }
}

mod clause_5_6_18_replace_and_5_6_19_replace_attribute {
    use super::*;

    #[test]
    fn replace_entity_keeps_id_and_creation() {
        let mut e = base();
        e.replace(
            fragment(json!({"id": "urn:ngsi-ld:Vehicle:A1", "type": "Building", "speed": 1}), BodyKind::Entity),
            t(9),
        );
        assert_eq!(e.types, vec![format!("{TS}Building")]);
        assert_eq!(e.attrs.len(), 1);
        assert_eq!(e.created_at, Some(t(0)));
        assert_eq!(e.modified_at, Some(t(9)));
        assert_eq!(e.default_instance(&speed()).unwrap().created_at, Some(t(0)));
    }

    #[test]
    fn replace_attribute_needs_an_existing_instance() {
        let mut e = base();
        let a = Attribute::new(AttrKind::Property, json!(7));
        e.replace_attribute(&speed(), a.clone(), t(3)).unwrap();
        let s = e.default_instance(&speed()).unwrap();
        assert_eq!((s.value.clone(), s.unit_code.clone(), s.created_at), (json!(7), None, Some(t(0))));
        assert_eq!(
            e.replace_attribute("https://x.example/none", a, t(3)).unwrap_err().kind,
            ErrorKind::ResourceNotFound
        );
    }
}

mod clause_5_6_5_delete_attribute {
    use super::*;

    #[test]
    fn delete_default_dataset_or_all() {
        let mut e = base();
        e.update(
            fragment(
                json!({"speed": {"type": "Property", "value": 30, "datasetId": "urn:ngsi-ld:Dataset:x"}}),
                BodyKind::Update,
            ),
            t(1),
        );
        assert_eq!(
            e.delete_attribute(&speed(), Some("urn:ngsi-ld:Dataset:y"), false, t(2)).unwrap_err().kind,
            ErrorKind::ResourceNotFound
        );
        e.delete_attribute(&speed(), Some("urn:ngsi-ld:Dataset:x"), false, t(2)).unwrap();
        assert_eq!(e.attrs[&speed()].len(), 1);
        e.delete_attribute(&speed(), None, true, t(3)).unwrap();
        assert!(!e.attrs.contains_key(&speed()));
        assert_eq!(e.modified_at, Some(t(3)));
        assert_eq!(e.delete_attribute(&speed(), None, false, t(4)).unwrap_err().kind, ErrorKind::ResourceNotFound);
    }
}

mod clause_4_5_2_2_ngsildproof {
    use super::*;

    #[test]
    fn sealed_members_round_trip_as_bare_strings() {
        let body = vehicle(json!({"ngsildproof": {"type": "Property", "entityIdSealed": "urn:ngsi-ld:Vehicle:A1",
            "entityTypeSealed": "Vehicle", "value": {"type": "DataIntegrityProof", "proofValue": "zQeV"}}}));
        let e = parse(body);
        let out = render(&e, Format::Normalized);
        assert_eq!(out["ngsildproof"]["entityIdSealed"], "urn:ngsi-ld:Vehicle:A1");
        assert_eq!(out["ngsildproof"]["entityTypeSealed"], "Vehicle");
        assert_eq!(out["ngsildproof"]["value"]["proofValue"], "zQeV");
        assert_eq!(parse(out), e);
        rejected(vehicle(json!({"ngsildproof": {"type": "Property", "value": "not-a-proof-object"}})));
        rejected(vehicle(
            json!({"ngsildproof": {"type": "Property", "value": {"type": "DataIntegrityProof"}, "entityTypeSealed": 42}}),
        ));
        rejected(vehicle(json!({"speed": {"type": "Property", "value": 1, "entityIdSealed": "urn:x:y"}})));
    }
}
