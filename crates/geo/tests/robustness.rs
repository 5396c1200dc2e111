//! Whatever comes in — an uploaded file, a GPS fix, a bad seed — the spatial code
//! answers or refuses; it never panics.

use std::sync::OnceLock;

use haidang_geo::geo::{Point, Rect, coord};
use haidang_geo::{AreaIndex, AreaSeed, approximate_areas, parse_geojson, province};
use proptest::prelude::*;
use serde_json::{Value, json};

fn gia_lai_index() -> &'static AreaIndex<String> {
    static INDEX: OnceLock<AreaIndex<String>> = OnceLock::new();
    INDEX.get_or_init(|| province("52").unwrap().unwrap().approximate_index())
}

/// Any f64, weighted towards the values that break geometry code.
fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(f64::MIN_POSITIVE),
        1 => Just(f64::MAX),
        4 => -200.0..200.0f64,
        4 => 108.0..110.0f64,
        4 => 12.0..15.0f64,
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        wild_f64().prop_map(|f| json!(f)),
        any::<i64>().prop_map(|i| json!(i)),
        prop_oneof![
            Just("Feature".to_string()),
            Just("FeatureCollection".to_string()),
            Just("Polygon".to_string()),
            Just("MultiPolygon".to_string()),
            Just("GeometryCollection".to_string()),
            ".{0,8}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("type".to_string()),
                        Just("features".to_string()),
                        Just("geometry".to_string()),
                        Just("properties".to_string()),
                        Just("coordinates".to_string()),
                        Just("code".to_string()),
                        ".{0,6}",
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Structurally plausible FeatureCollections with hostile numbers and shapes.
fn feature_collection() -> impl Strategy<Value = Value> {
    fn polygon() -> impl Strategy<Value = Vec<Vec<Vec<f64>>>> {
        let position = prop_oneof![
            4 => (wild_f64(), wild_f64()).prop_map(|(x, y)| vec![x, y]),
            1 => prop::collection::vec(wild_f64(), 0..4),
        ];
        // Mostly closed rings, so that validation gets past the first check.
        let ring = (prop::collection::vec(position, 0..7), any::<bool>()).prop_map(|(mut ring, close)| {
            if let (true, Some(first)) = (close, ring.first().cloned()) {
                ring.push(first);
            }
            ring
        });
        prop::collection::vec(ring, 0..3)
    }
    let geometry = prop_oneof![
        polygon().prop_map(|p| json!({"type": "Polygon", "coordinates": p})),
        prop::collection::vec(polygon(), 0..3).prop_map(|m| json!({"type": "MultiPolygon", "coordinates": m})),
        Just(Value::Null),
        json_value(),
    ];
    let code = prop_oneof!["[0-9]{0,6}".prop_map(Value::String), json_value(),];
    let feature =
        (geometry, code).prop_map(|(g, c)| json!({"type": "Feature", "geometry": g, "properties": {"code": c}}));
    prop::collection::vec(feature, 0..5).prop_map(|f| json!({"type": "FeatureCollection", "features": f}))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_geojson_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_geojson(&bytes);
    }

    #[test]
    fn parse_geojson_never_panics_on_json(value in json_value()) {
        let _ = parse_geojson(value.to_string().as_bytes());
    }

    #[test]
    fn parse_geojson_never_panics_on_feature_collections(value in feature_collection()) {
        if let Ok(features) = parse_geojson(value.to_string().as_bytes()) {
            // Whatever is accepted is finite, in range and made of closed rings.
            for f in features {
                for p in &f.geometry.0 {
                    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                        prop_assert!(ring.0.len() >= 4);
                        prop_assert_eq!(ring.0.first(), ring.0.last());
                        for c in &ring.0 {
                            prop_assert!((-180.0..=180.0).contains(&c.x));
                            prop_assert!((-90.0..=90.0).contains(&c.y));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn locate_never_panics(x in wild_f64(), y in wild_f64()) {
        let p = Point::new(x, y);
        let index = gia_lai_index();
        prop_assert_eq!(index.contains(p), index.locate(p).is_some());
    }

    #[test]
    fn approximate_areas_never_panic(
        seeds in prop::collection::vec((wild_f64(), wild_f64(), prop::option::of(wild_f64())), 0..12),
        rects in prop::collection::vec((wild_f64(), wild_f64(), wild_f64(), wild_f64()), 0..3),
        probe in (wild_f64(), wild_f64()),
    ) {
        let seeds: Vec<AreaSeed> = seeds
            .into_iter()
            .map(|(x, y, a)| AreaSeed { centre: Point::new(x, y), area_km2: a })
            .collect();
        let rects: Vec<Rect<f64>> = rects
            .into_iter()
            .map(|(a, b, c, d)| Rect::new(coord! { x: a, y: b }, coord! { x: c, y: d }))
            .collect();
        let areas = approximate_areas(&seeds, &rects);
        prop_assert_eq!(areas.len(), seeds.len());
        let index = AreaIndex::new(areas.into_iter().enumerate());
        let _ = index.locate(Point::new(probe.0, probe.1));
    }

    /// In a province-sized neighbourhood, every distinct centre is in its own area.
    #[test]
    fn each_centre_resolves_to_itself(
        seeds in prop::collection::vec(
            (108.0..109.0f64, 13.0..14.0f64, prop::option::of(0.5..500.0f64)),
            1..40,
        ),
    ) {
        let seeds: Vec<AreaSeed> = seeds
            .into_iter()
            .map(|(x, y, a)| AreaSeed { centre: Point::new(x, y), area_km2: a })
            .collect();
        let index = AreaIndex::new(approximate_areas(&seeds, &[]).into_iter().enumerate());
        for (i, s) in seeds.iter().enumerate() {
            let first = seeds.iter().position(|t| t.centre == s.centre).unwrap_or(i);
            prop_assert_eq!(index.locate(s.centre), Some(&first));
        }
    }
}
