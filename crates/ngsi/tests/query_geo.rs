//! Geo-queries: GeoJSON validation, `georel` parsing, relations on the ETSI test suite's
//! fixtures, `near` distances, bounds, and the subscription `geoQ` form.

use std::collections::BTreeMap;

use geo::{Coord, Geometry, Point, Rect};
use haidang_ngsi::entity::names;
use haidang_ngsi::error::ErrorKind;
use haidang_ngsi::geoquery::{GeoQuery, GeoRel, distance_m, geometry_to_json, parse_geometry};
use haidang_ngsi::{AttrKind, Attribute, Entity, NgsiError};
use serde_json::{Value, json};

const NS: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

/// Stand-in for `Context::expand`: the core names the tests use, the rest into the default
/// vocabulary.
fn ex(term: &str) -> String {
    match term {
        "location" => names::LOCATION.to_string(),
        "observationSpace" => names::OBSERVATION_SPACE.to_string(),
        _ => format!("{NS}{term}"),
    }
}

fn geo_attr(value: Value) -> Attribute {
    Attribute {
        kind: AttrKind::GeoProperty,
        value,
        dataset_id: None,
        observed_at: None,
        unit_code: None,
        object_type: None,
        sub_attrs: BTreeMap::new(),
        created_at: None,
        modified_at: None,
        ..Default::default()
    }
}

fn building(id: &str, geo: Vec<(&str, Value)>) -> Entity {
    let mut attrs = BTreeMap::new();
    for (name, value) in geo {
        attrs.insert(ex(name), vec![geo_attr(value)]);
    }
    Entity {
        id: id.to_string(),
        types: vec![ex("Building")],
        scope: Vec::new(),
        attrs,
        created_at: None,
        modified_at: None,
    }
}

fn point(lon: f64, lat: f64) -> Value {
    json!({"type": "Point", "coordinates": [lon, lat]})
}

fn gq(georel: &str, geometry: &str, coordinates: &str) -> GeoQuery {
    GeoQuery::parse_with(georel, geometry, coordinates, None, &ex)
        .unwrap_or_else(|e| panic!("{georel} {geometry} {coordinates}: {e}"))
}

fn count(query: &GeoQuery, entities: &[Entity]) -> usize {
    entities.iter().filter(|e| query.matches(e)).count()
}

fn bad_data(r: Result<impl std::fmt::Debug, NgsiError>) -> String {
    let e = r.expect_err("should be refused");
    assert_eq!(e.kind, ErrorKind::BadRequestData, "{e}");
    e.detail
}

fn numbers(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        _ => vec![f64::NAN],
    }
}

// -- GeoJSON validation ---------------------------------------------------------------------------

#[test]
fn valid_geometries() {
    let ok = [
        json!({"type": "Point", "coordinates": [105.85, 21.03]}),
        json!({"type": "Point", "coordinates": [-180, -90, 12.5]}),
        json!({"type": "Point", "coordinates": [180, 90], "bbox": [1, 2, 3, 4], "extra": true}),
        json!({"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}),
        json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
        json!({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 4]]]}),
        json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}),
        json!({"type": "Polygon", "coordinates": [
            [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
            [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
        ]}),
        json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 6], [5, 5]]]]}),
        json!({"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [0, 0]},
            {"type": "GeometryCollection", "geometries": [{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}]}
        ]}),
    ];
    for v in ok {
        let g = parse_geometry(&v).unwrap_or_else(|e| panic!("{v}: {e}"));
        // and back: same coordinates (altitudes are dropped)
        if v["coordinates"].as_array().is_some_and(|c| c.len() == 2 || v["type"] != "Point") {
            assert_eq!(numbers(&geometry_to_json(&g)["coordinates"]), numbers(&v["coordinates"]), "{v}");
        }
    }
}

#[test]
fn invalid_geometries() {
    let cases: Vec<(Value, &str)> = vec![
        (json!([0, 0]), "must be a JSON object"),
        (json!("Point"), "must be a JSON object"),
        (json!({"coordinates": [0, 0]}), "type is missing"),
        (json!({"type": 1, "coordinates": [0, 0]}), "type must be a string"),
        (json!({"type": "Circle", "coordinates": [0, 0]}), "type 'Circle' is not"),
        (json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}), "type 'Feature' is not"),
        (json!({"type": "point", "coordinates": [0, 0]}), "type 'point' is not"),
        (json!({"type": "Point"}), "coordinates is missing"),
        (json!({"type": "Point", "coordinates": null}), "a position must be an array"),
        (json!({"type": "Point", "coordinates": [0]}), "found 1"),
        (json!({"type": "Point", "coordinates": []}), "found 0"),
        (json!({"type": "Point", "coordinates": [0, 0, 0, 0]}), "found 4"),
        (json!({"type": "Point", "coordinates": ["0", 0]}), "numbers only"),
        (json!({"type": "Point", "coordinates": [0, null]}), "numbers only"),
        (json!({"type": "Point", "coordinates": [[0, 0]]}), "found 1"),
        (json!({"type": "Point", "coordinates": [[0, 0], 1]}), "numbers only"),
        (json!({"type": "Point", "coordinates": [180.0001, 0]}), "longitude 180.0001 is outside"),
        (json!({"type": "Point", "coordinates": [-181, 0]}), "longitude -181 is outside"),
        (json!({"type": "Point", "coordinates": [0, 90.5]}), "latitude 90.5 is outside"),
        (json!({"type": "Point", "coordinates": [0, -91]}), "latitude -91 is outside"),
        (json!({"type": "Point", "coordinates": [52.5, 13.4e3]}), "latitude"),
        (json!({"type": "MultiPoint", "coordinates": []}), "empty array"),
        (json!({"type": "MultiPoint", "coordinates": [0, 0]}), "coordinates[0]: a position must be an array"),
        (json!({"type": "LineString", "coordinates": [[0, 0]]}), "at least 2 positions, found 1"),
        (json!({"type": "LineString", "coordinates": [0, 0]}), "a position must be an array"),
        (json!({"type": "LineString", "coordinates": {"a": 1}}), "must be an array of positions"),
        (json!({"type": "MultiLineString", "coordinates": []}), "empty array"),
        (
            json!({"type": "MultiLineString", "coordinates": [[[0, 0]]]}),
            "coordinates[0]: a line string needs at least 2",
        ),
        (json!({"type": "Polygon", "coordinates": []}), "empty array"),
        (json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}), "at least 4 positions, found 3"),
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
            "must end with the position it starts with",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0, 1], [1, 0], [1, 1], [0, 0]]]}),
            "must end with the position",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]}),
            "coordinates[0]: a linear ring needs",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[0, 0, 1, 2], [1, 0], [1, 1], [0, 0]]}),
            "coordinates[0][0]: a position must",
        ),
        (
            json!({"type": "Polygon", "coordinates": [[[0, 0], [9, 0], [9, 9], [0, 0]], [[1, 1], [2, 1], [1, 1]]]}),
            "coordinates[1]: a linear ring needs at least 4",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1]]]]}),
            "coordinates[0][0]: a linear ring",
        ),
        (json!({"type": "MultiPolygon", "coordinates": [[]]}), "empty array"),
        (json!({"type": "GeometryCollection"}), "needs geometries"),
        (json!({"type": "GeometryCollection", "geometries": []}), "geometries is empty"),
        (json!({"type": "GeometryCollection", "geometries": {}}), "must be an array"),
        (
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 200]}]}),
            "geometry.geometries[0].coordinates: latitude 200",
        ),
    ];
    for (value, needle) in cases {
        let detail = bad_data(parse_geometry(&value));
        assert!(detail.starts_with("invalid GeoJSON geometry: geometry"), "{value}: {detail}");
        assert!(detail.contains(needle), "{value}: {detail:?} should contain {needle:?}");
    }
    let mut deep = json!({"type": "Point", "coordinates": [0, 0]});
    for _ in 0..20 {
        deep = json!({"type": "GeometryCollection", "geometries": [deep]});
    }
    assert!(bad_data(parse_geometry(&deep)).contains("nest deeper"));
}

// -- georel and parameters ------------------------------------------------------------------------

#[test]
fn georel_forms() {
    assert_eq!(
        GeoRel::parse("near;maxDistance==2000").unwrap(),
        GeoRel::Near { max_distance: Some(2000.0), min_distance: None }
    );
    assert_eq!(
        GeoRel::parse("near;minDistance==0.5").unwrap(),
        GeoRel::Near { max_distance: None, min_distance: Some(0.5) }
    );
    assert_eq!(
        GeoRel::parse("near;maxDistance==1e3").unwrap(),
        GeoRel::Near { max_distance: Some(1000.0), min_distance: None }
    );
    for (text, rel) in [
        ("within", GeoRel::Within),
        ("contains", GeoRel::Contains),
        ("intersects", GeoRel::Intersects),
        ("disjoint", GeoRel::Disjoint),
        ("equals", GeoRel::Equals),
        ("overlaps", GeoRel::Overlaps),
    ] {
        assert_eq!(GeoRel::parse(text).unwrap(), rel);
        assert_eq!(rel.to_string(), text);
    }
    assert_eq!(GeoRel::parse("near;maxDistance==2000").unwrap().to_string(), "near;maxDistance==2000");
    assert_eq!(GeoRel::parse("near;minDistance==0.5").unwrap().to_string(), "near;minDistance==0.5");
    // 019_30_01..05, 13, 14 and the like
    for text in [
        "near;maxDistance==0",
        "near;maxDistance==-100",
        "near;maxDistance==5;minDistance==1",
        "near",
        "near;",
        "near;maxDistance",
        "near;maxDistance=100",
        "near;maxDistance==",
        "near;maxdistance==100",
        "near;distance==100",
        "near;maxDistance==inf",
        "near;maxDistance==NaN",
        "near;maxDistance==1e400",
        "near;maxDistance==+5",
        "near;maxDistance==0x10",
        "near;maxDistance== 5",
        "nearby;maxDistance==5",
        "touches",
        "Within",
        "",
        "invalid",
    ] {
        bad_data(GeoRel::parse(text));
    }
}

#[test]
fn parameters() {
    let q = gq("near;maxDistance==15000", "Point", "[13.388930, 52.534473]");
    assert_eq!(q.geometry, Geometry::Point(Point::new(13.38893, 52.534473)));
    assert_eq!(q.geoproperty, names::LOCATION);
    let q = GeoQuery::parse_with("within", "Polygon", " [[[0,0],[1,0],[1,1],[0,0]]] ", Some("observationSpace"), &ex)
        .unwrap();
    assert_eq!(q.geoproperty, names::OBSERVATION_SPACE);
    let q = GeoQuery::parse_with("within", "Point", "[0,0]", Some("myPlace"), &ex).unwrap();
    assert_eq!(q.geoproperty, format!("{NS}myPlace"));

    // 019_03_04: an invalid georel
    assert!(
        bad_data(GeoQuery::parse_with("invalid", "Point", "[-8.503,41.202]", Some("location"), &ex)).contains("georel")
    );
    for (georel, geometry, coordinates, needle) in [
        ("within", "Circle", "[0,0]", "geometry 'Circle' is not one of"),
        ("within", "point", "[0,0]", "geometry 'point'"),
        ("within", "GeometryCollection", "[]", "is not one of"),
        ("within", "", "[0,0]", "geometry is empty"),
        ("within", "Point", "", "coordinates is empty"),
        ("within", "Point", "0,0", "not a JSON array"),
        ("within", "Point", "[0,0", "not a JSON array"),
        ("within", "Point", "{\"a\":1}", "must be a JSON array"),
        ("within", "Point", "[0,1e400]", "not a JSON array"),
        ("within", "Point", "[200,0]", "longitude 200"),
        ("within", "LineString", "[0,0]", "a position must be an array"),
        ("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]", "must end with the position"),
    ] {
        let detail = bad_data(GeoQuery::parse_with(georel, geometry, coordinates, None, &ex));
        assert!(detail.contains(needle), "{geometry} {coordinates}: {detail}");
    }
    bad_data(GeoQuery::parse_with("within", "Point", "[0,0]", Some(" "), &ex));
    let deep = format!("{}0{}", "[".repeat(5000), "]".repeat(5000));
    bad_data(GeoQuery::parse_with("within", "Point", &deep, None, &ex));
}

#[test]
fn missing_companions() {
    let p = |georel, geometry, coordinates, geoproperty| {
        GeoQuery::from_params_with(georel, geometry, coordinates, geoproperty, &ex)
    };
    assert_eq!(p(None, None, None, None).unwrap(), None);
    assert!(p(Some("within"), Some("Point"), Some("[0,0]"), None).unwrap().is_some());
    assert!(bad_data(p(Some("within"), None, None, None)).contains("missing: geometry, coordinates"));
    assert!(bad_data(p(None, Some("Point"), Some("[0,0]"), None)).contains("missing: georel"));
    assert!(bad_data(p(Some("within"), Some("Point"), None, None)).contains("missing: coordinates"));
    assert!(bad_data(p(None, None, None, Some("location"))).contains("geoproperty is given without"));
}

#[test]
fn subscription_geo_q() {
    let compact = |iri: &str| iri.rsplit('/').next().unwrap_or(iri).to_string();
    let v = json!({"geometry": "Point", "coordinates": [13.3986, 52.5547], "georel": "near;maxDistance==10", "geoproperty": "location"});
    let q = GeoQuery::from_json_with(&v, &ex).unwrap();
    assert_eq!(q, gq("near;maxDistance==10", "Point", "[13.3986,52.5547]"));
    assert_eq!(
        q.to_json_with(&compact),
        json!({"geometry": "Point", "coordinates": [13.3986, 52.5547], "georel": "near;maxDistance==10"})
    );
    let v = json!({"geometry": "Polygon", "coordinates": "[[[0,0],[1,0],[1,1],[0,0]]]", "georel": "within", "geoproperty": "observationSpace"});
    let q = GeoQuery::from_json_with(&v, &ex).unwrap();
    let back = q.to_json_with(&compact);
    assert_eq!(
        back,
        json!({"geometry": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]], "georel": "within", "geoproperty": "observationSpace"})
    );
    assert_eq!(GeoQuery::from_json_with(&back, &ex).unwrap(), q, "to_json reads back");
    for (v, needle) in [
        (json!([]), "must be a JSON object"),
        (json!({"coordinates": [0, 0], "georel": "within"}), "geoQ.geometry is missing"),
        (json!({"geometry": "Point", "georel": "within"}), "geoQ.coordinates is missing"),
        (json!({"geometry": "Point", "coordinates": [0, 0]}), "geoQ.georel is missing"),
        (json!({"geometry": 1, "coordinates": [0, 0], "georel": "within"}), "geoQ.geometry must be a string"),
        (json!({"geometry": "Point", "coordinates": 5, "georel": "within"}), "geoQ.coordinates must be an array"),
        (json!({"geometry": "Point", "coordinates": "[0,", "georel": "within"}), "not a JSON array"),
        (json!({"geometry": "Point", "coordinates": [0, 0], "georel": "near"}), "needs one distance"),
        (
            json!({"geometry": "Point", "coordinates": [0, 0], "georel": "within", "geoproperty": 3}),
            "geoproperty must be a string",
        ),
    ] {
        let detail = bad_data(GeoQuery::from_json_with(&v, &ex));
        assert!(detail.contains(needle), "{v}: {detail}");
    }
}

// -- relations on the test suite's fixtures ---------------------------------------------------------

fn points_019_10() -> Vec<Entity> {
    vec![
        building("urn:b:1", vec![("location", point(13.3986, 52.5547))]),
        building("urn:b:2", vec![("location", point(13.509818, 52.363457))]),
        building("urn:b:3", vec![("location", point(13.215983, 52.470441))]),
    ]
}

#[test]
fn etsi_019_10_point_geometries() {
    let e = points_019_10();
    let berlin = "[[[13.1616211,52.5438124],[13.597641,52.4840224],[13.5948944,52.3402782],[13.142395,52.386428],[13.1616211,52.5438124]]]";
    assert_eq!(count(&gq("equals", "Point", "[13.3986, 52.5547]"), &e), 1);
    assert_eq!(count(&gq("near;maxDistance==15000", "Point", "[13.388930, 52.534473]"), &e), 2);
    assert_eq!(count(&gq("near;minDistance==15000", "Point", "[13.388930, 52.534473]"), &e), 1);
    assert_eq!(count(&gq("within", "Polygon", berlin), &e), 2);
    assert_eq!(count(&gq("disjoint", "Polygon", berlin), &e), 1);
    assert_eq!(count(&gq("disjoint", "Point", "[13.3986, 52.5547]"), &e), 2);
    assert_eq!(count(&gq("contains", "Point", "[13.3986, 52.5547]"), &e), 1);
    assert_eq!(count(&gq("intersects", "Point", "[13.3986, 52.5547]"), &e), 1);
}

fn polygons_019_11() -> Vec<Entity> {
    vec![
        building(
            "urn:b:1",
            vec![(
                "location",
                json!({"type": "Polygon", "coordinates": [[[13.2865906,52.5648645],[13.2879639,52.5648645],[13.2797241,52.4988679],[13.477478,52.4712703],[13.5049438,52.5373084],[13.2865906,52.5648645]]]}),
            )],
        ),
        building(
            "urn:b:2",
            vec![(
                "location",
                json!({"type": "Polygon", "coordinates": [[[13.315773,52.4757209],[13.339119,52.4443421],[13.3892441,52.4669371],[13.315773,52.4757209]]]}),
            )],
        ),
    ]
}

#[test]
fn etsi_019_11_polygon_geometries() {
    let e = polygons_019_11();
    let cases = [
        (
            "equals",
            "Polygon",
            "[[[13.2865906,52.5648645],[13.2879639,52.5648645],[13.2797241,52.4988679],[13.477478,52.4712703],[13.5049438,52.5373084],[13.2865906,52.5648645]]]",
            1,
        ),
        (
            "intersects",
            "Polygon",
            "[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],[13.3459854,52.479903],[13.3456421,52.4794848]]]",
            1,
        ),
        (
            "contains",
            "Polygon",
            "[[[13.3844376,52.5356966],[13.3844376,52.5356966],[13.381691,52.5123012],[13.4235764,52.5100027],[13.4331894,52.5273425],[13.3844376,52.5356966]]]",
            1,
        ),
        (
            "contains",
            "Polygon",
            "[[[13.1369019,52.5198225],[13.1365585,52.5200314],[13.131752,52.4980907],[13.1832504,52.5026887],[13.1369019,52.5198225]]]",
            0,
        ),
        (
            "disjoint",
            "Polygon",
            "[[[13.1369019,52.5198225],[13.1365585,52.5200314],[13.131752,52.4980907],[13.1832504,52.5026887],[13.1369019,52.5198225]]]",
            2,
        ),
        (
            "within",
            "Polygon",
            "[[[13.3023834,52.4903066],[13.3027267,52.4905156],[13.2745743,52.465632],[13.3343124,52.4185447],[13.4311295,52.47107],[13.3023834,52.4903066]]]",
            1,
        ),
        (
            "overlaps",
            "Polygon",
            "[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],[13.3459854,52.479903],[13.3456421,52.4794848]]]",
            1,
        ),
        ("contains", "Point", "[13.3442688,52.4650045]", 1),
    ];
    for (georel, geometry, coordinates, expected) in cases {
        assert_eq!(count(&gq(georel, geometry, coordinates), &e), expected, "{georel} {coordinates}");
    }
}

#[test]
fn etsi_019_30_edge_cases() {
    let line = |a: [f64; 2], b: [f64; 2]| json!({"type": "LineString", "coordinates": [a, b]});
    let e = vec![
        building("urn:hole", vec![("location", point(5.0, 5.0)), ("observationSpace", point(8.0, 40.0))]),
        building("urn:shell", vec![("location", point(2.0, 2.0))]),
        building("urn:highlat", vec![("location", line([0.0, 85.6], [1.0, 85.0]))]),
        building("urn:east", vec![("location", point(10.0, 60.009))]),
    ];
    let holed = "[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]";
    let within = gq("within", "Polygon", holed);
    assert_eq!(e.iter().filter(|x| within.matches(x)).map(|x| x.id.as_str()).collect::<Vec<_>>(), vec!["urn:shell"]);
    let obs = GeoQuery::parse_with("near;maxDistance==2000", "Point", "[8,40]", Some("observationSpace"), &ex).unwrap();
    assert_eq!(count(&obs, &e), 1);
    assert_eq!(count(&gq("near;maxDistance==2000", "Point", "[8,40]"), &e), 0);
    assert_eq!(count(&gq("near;maxDistance==2000", "LineString", "[[0,60],[10,60]]"), &e), 1);
    assert_eq!(count(&gq("near;maxDistance==2000", "LineString", "[[0,61],[10,61]]"), &e), 0);
    assert_eq!(count(&gq("near;maxDistance==20000", "Point", "[0,85]"), &e), 1);
    assert_eq!(count(&gq("near;maxDistance==5000", "Point", "[0,85]"), &e), 0);
}

// -- distances and bounds -------------------------------------------------------------------------

fn g(v: Value) -> Geometry<f64> {
    parse_geometry(&v).unwrap()
}

#[test]
fn distances() {
    // Hà Nội to Hồ Chí Minh City: about 1,140 km
    let d = distance_m(&g(point(105.8542, 21.0285)), &g(point(106.6297, 10.8231)));
    assert!((1_130_000.0..1_150_000.0).contains(&d), "{d}");
    // one degree of latitude
    let d = distance_m(&g(point(0.0, 0.0)), &g(point(0.0, 1.0)));
    assert!((d - 111_195.0).abs() < 10.0, "{d}");
    // a point inside a polygon is at distance 0; outside, the distance to its nearest edge
    let square = g(json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}));
    assert_eq!(distance_m(&g(point(0.5, 0.5)), &square), 0.0);
    let d = distance_m(&g(point(0.5, 1.01)), &square);
    assert!((d - 1_112.0).abs() < 5.0, "{d}");
    // the middle of a long segment, not its ends
    let d = distance_m(&g(point(5.0, 0.01)), &g(json!({"type": "LineString", "coordinates": [[0, 0], [10, 0]]})));
    assert!((d - 1_112.0).abs() < 5.0, "{d}");
    // symmetric, and between two lines
    let a = g(json!({"type": "LineString", "coordinates": [[0, 0], [0, 1]]}));
    let b = g(json!({"type": "LineString", "coordinates": [[0.01, 0.5], [1, 0.5]]}));
    assert_eq!(distance_m(&a, &b), distance_m(&b, &a));
    assert!((distance_m(&a, &b) - 1_112.0).abs() < 5.0);
    let multi = g(json!({"type": "MultiPoint", "coordinates": [[50, 50], [0, 0.001]]}));
    assert!((distance_m(&multi, &g(point(0.0, 0.0))) - 111.2).abs() < 1.0);
}

fn inside(r: &Rect<f64>, lon: f64, lat: f64) -> bool {
    (r.min().x..=r.max().x).contains(&lon) && (r.min().y..=r.max().y).contains(&lat)
}

#[test]
fn bounds() {
    let near = gq("near;maxDistance==15000", "Point", "[13.388930, 52.534473]");
    let r = near.bounds().unwrap();
    // every point at 15 km in any direction is inside, and the box is not much larger
    for bearing in 0..360 {
        let p =
            geo::Destination::destination(&geo::Haversine, Point::new(13.38893, 52.534473), bearing as f64, 15_000.0);
        assert!(inside(&r, p.x(), p.y()), "bearing {bearing}: {p:?} outside {r:?}");
    }
    assert!(r.height() < 0.28 && r.width() < 0.45, "{r:?}");
    for e in points_019_10() {
        if near.matches(&e) {
            let Some(Geometry::Point(p)) = e.geometry(names::LOCATION) else { panic!() };
            assert!(inside(&r, p.x(), p.y()));
        }
    }
    // near a pole the circle covers every longitude
    let r = gq("near;maxDistance==200000", "Point", "[30, 89]").bounds().unwrap();
    assert_eq!((r.min().x, r.max().x, r.max().y), (-180.0, 180.0, 90.0));
    // across the antimeridian a single box takes every longitude
    let r = gq("near;maxDistance==50000", "Point", "[179.9, 0]").bounds().unwrap();
    assert_eq!((r.min().x, r.max().x), (-180.0, 180.0));
    // high latitude: the longitude margin widens
    let r = gq("near;maxDistance==10000", "Point", "[0, 80]").bounds().unwrap();
    assert!(r.max().x > 0.5 && r.max().x < 0.53, "{r:?}");
    // the other relations: the query geometry's box; none for disjoint and minDistance
    let poly = gq("within", "Polygon", "[[[0,0],[2,0],[2,1],[0,0]]]");
    assert_eq!(poly.bounds().unwrap(), Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 2.0, y: 1.0 }));
    assert!(gq("intersects", "Point", "[1,1]").bounds().is_some());
    assert_eq!(gq("disjoint", "Point", "[1,1]").bounds(), None);
    assert_eq!(gq("near;minDistance==10", "Point", "[1,1]").bounds(), None);
}

#[test]
fn entities_without_the_geoproperty_never_match() {
    let mut e = building("urn:x", vec![("location", point(1.0, 1.0))]);
    let q = gq("disjoint", "Point", "[50,50]");
    assert!(q.matches(&e));
    e.attrs.clear();
    assert!(!q.matches(&e), "disjoint does not match an entity without a location");
    // only the default instance counts, and an invalid stored value is no geometry
    let mut instance = geo_attr(point(1.0, 1.0));
    instance.dataset_id = Some("urn:ds".into());
    e.attrs.insert(names::LOCATION.into(), vec![instance]);
    assert!(!q.matches(&e));
    e.attrs.insert(names::LOCATION.into(), vec![geo_attr(json!({"type": "Point", "coordinates": [500, 1]}))]);
    assert!(!q.matches(&e));
    let mut property = geo_attr(point(1.0, 1.0));
    property.kind = AttrKind::Property;
    e.attrs.insert(names::LOCATION.into(), vec![property]);
    assert!(!q.matches(&e));
}

#[test]
fn invalid_polygons_do_not_take_the_query_down() {
    // found by the fuzz target: geo's DE-9IM code panics ("topology position conflict") on
    // this zero-area ring with a hole outside it; the relation then does not match
    let q = gq("within", "Polygon", "[[[0,0],[10,10],[1,1],[0,0]],[[4,4],[6,6],[6,6],[0,6],[4,4]]]");
    let e = building("urn:x", vec![("location", json!({"type": "Point", "coordinates": [5, 5]}))]);
    assert!(!q.matches(&e));
    // and an entity polygon that crosses itself still equals itself (019_11_01)
    let bow_tie = json!({"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]});
    let e = building("urn:y", vec![("location", bow_tie.clone())]);
    let q = gq("equals", "Polygon", &bow_tie["coordinates"].to_string());
    assert!(q.matches(&e));
}
