//! Real commune boundaries, as a province supplies them (GeoJSON).
//!
//! The file comes from outside, usually exported by hand from a GIS tool, so every
//! problem is reported with the feature's position in the file and a reason a person
//! can act on, and nothing in it can make us panic.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

/// Largest accepted file. Detailed boundaries of a large province are a few MB;
/// this leaves room while bounding the memory one upload can take.
pub const MAX_GEOJSON_BYTES: usize = 64 * 1024 * 1024;

/// One unit's boundary from a supplied file.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundaryFeature {
    /// Position in the file's `features` array, for messages back to the supplier.
    pub index: usize,
    /// The `code` property: the official unit code, e.g. `"21583"`.
    pub code: String,
    /// The `name` property, if it is a string.
    pub name: Option<String>,
    /// x = longitude, y = latitude (WGS84). Polygons are kept as given: orientation
    /// and validity (self-intersection) are not checked here.
    pub geometry: MultiPolygon<f64>,
}

/// Why a supplied boundary file was refused.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("the file is {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("expected a GeoJSON FeatureCollection, found {found}")]
    NotFeatureCollection { found: String },
    #[error("the FeatureCollection has no features")]
    NoFeatures,
    #[error("feature {index}: {reason}")]
    Feature { index: usize, reason: FeatureError },
}

/// What is wrong with one feature.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FeatureError {
    #[error("not a GeoJSON Feature: {0}")]
    NotAFeature(String),
    #[error("has no geometry")]
    NoGeometry,
    #[error("geometry is a {0}; only Polygon and MultiPolygon are accepted")]
    UnsupportedGeometry(&'static str),
    #[error("has no \"code\" property")]
    MissingCode,
    #[error("the \"code\" property must be a non-empty string (leading zeros matter), found {0}")]
    BadCode(String),
    #[error("polygon {polygon} has no rings")]
    NoRings { polygon: usize },
    #[error("polygon {polygon}, ring {ring}: {problem}")]
    Ring { polygon: usize, ring: usize, problem: RingProblem },
}

/// What is wrong with one ring of a polygon.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RingProblem {
    #[error("{0} positions; a ring needs at least 4")]
    TooFewPositions(usize),
    #[error("not closed: the first and last positions differ")]
    NotClosed,
    #[error("position {0} has fewer than 2 numbers")]
    ShortPosition(usize),
    #[error("position {0} is not a finite number")]
    NotFinite(usize),
    #[error(
        "position {position} ({lon}, {lat}) is outside WGS84 longitude/latitude ranges (is it projected, or lat/lon swapped?)"
    )]
    OutOfRange { position: usize, lon: f64, lat: f64 },
}

/// Parse and validate a FeatureCollection of Polygon/MultiPolygon features, each with
/// a string `code` property. All-or-nothing: the first problem found is returned, so
/// a province never ends up with half of its boundaries replaced.
pub fn parse_geojson(bytes: &[u8]) -> Result<Vec<BoundaryFeature>, GeoError> {
    if bytes.len() > MAX_GEOJSON_BYTES {
        return Err(GeoError::TooLarge { size: bytes.len(), limit: MAX_GEOJSON_BYTES });
    }
    // serde_json bounds nesting depth, so hostile input cannot overflow the stack.
    let root: Value = serde_json::from_slice(bytes)?;
    let features = match (&root, root.get("type")) {
        (Value::Object(obj), Some(Value::String(t))) if t == "FeatureCollection" => match obj.get("features") {
            Some(Value::Array(features)) => features,
            _ => {
                return Err(GeoError::NotFeatureCollection {
                    found: "a FeatureCollection without a \"features\" array".into(),
                });
            }
        },
        (_, Some(Value::String(t))) => {
            return Err(GeoError::NotFeatureCollection { found: format!("type {t:?}") });
        }
        _ => {
            return Err(GeoError::NotFeatureCollection { found: json_kind(&root).into() });
        }
    };
    if features.is_empty() {
        return Err(GeoError::NoFeatures);
    }
    features
        .iter()
        .enumerate()
        .map(|(index, value)| parse_feature(index, value).map_err(|reason| GeoError::Feature { index, reason }))
        .collect()
}

/// The GeoJSON form of an area, e.g. to send approximate or supplied boundaries to
/// the map.
pub fn to_geojson(area: &MultiPolygon<f64>) -> geojson::Geometry {
    geojson::Geometry::new(geojson::GeometryValue::from(area))
}

fn parse_feature(index: usize, value: &Value) -> Result<BoundaryFeature, FeatureError> {
    let feature: geojson::Feature =
        serde_json::from_value(value.clone()).map_err(|e| FeatureError::NotAFeature(e.to_string()))?;
    let props = feature.properties.as_ref();
    let code = match props.and_then(|p| p.get("code")) {
        None => return Err(FeatureError::MissingCode),
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(other) => return Err(FeatureError::BadCode(json_kind(other).into())),
    };
    let name = props.and_then(|p| p.get("name")).and_then(Value::as_str).map(str::to_owned);
    let geometry = feature.geometry.ok_or(FeatureError::NoGeometry)?;
    let polygons: Vec<&geojson::PolygonType> = match &geometry.value {
        geojson::GeometryValue::Polygon { coordinates } => vec![coordinates],
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => return Err(FeatureError::UnsupportedGeometry(other.type_name())),
    };
    let geometry =
        polygons.into_iter().enumerate().map(|(p, rings)| polygon(p, rings)).collect::<Result<Vec<_>, _>>()?;
    Ok(BoundaryFeature { index, code, name, geometry: MultiPolygon(geometry) })
}

fn polygon(p: usize, rings: &geojson::PolygonType) -> Result<Polygon<f64>, FeatureError> {
    let mut rings = rings
        .iter()
        .enumerate()
        .map(|(r, ring)| line_string(ring).map_err(|problem| FeatureError::Ring { polygon: p, ring: r, problem }));
    let exterior = rings.next().ok_or(FeatureError::NoRings { polygon: p })??;
    let holes = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

fn line_string(ring: &[geojson::Position]) -> Result<LineString<f64>, RingProblem> {
    let coords = ring
        .iter()
        .enumerate()
        .map(|(i, pos)| {
            let (lon, lat) = match pos.as_slice() {
                [lon, lat, ..] => (*lon, *lat),
                _ => return Err(RingProblem::ShortPosition(i)),
            };
            if !(lon.is_finite() && lat.is_finite()) {
                return Err(RingProblem::NotFinite(i));
            }
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(RingProblem::OutOfRange { position: i, lon, lat });
            }
            Ok(Coord { x: lon, y: lat })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if coords.len() < 4 {
        return Err(RingProblem::TooFewPositions(coords.len()));
    }
    if coords.first() != coords.last() {
        return Err(RingProblem::NotClosed);
    }
    Ok(LineString(coords))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object without a \"type\"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = "[[108.0,13.0],[108.1,13.0],[108.1,13.1],[108.0,13.1],[108.0,13.0]]";

    fn collection(features: &[String]) -> Vec<u8> {
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(",")).into_bytes()
    }

    fn feature(props: &str, geometry: &str) -> String {
        format!(r#"{{"type":"Feature","properties":{props},"geometry":{geometry}}}"#)
    }

    fn polygon_geometry(ring: &str) -> String {
        format!(r#"{{"type":"Polygon","coordinates":[{ring}]}}"#)
    }

    fn feature_error(bytes: &[u8]) -> (usize, FeatureError) {
        match parse_geojson(bytes) {
            Err(GeoError::Feature { index, reason }) => (index, reason),
            other => panic!("expected a feature error, got {other:?}"),
        }
    }

    #[test]
    fn parses_polygon_and_multipolygon() {
        let multi = format!(r#"{{"type":"MultiPolygon","coordinates":[[{SQUARE}],[{SQUARE},{SQUARE}]]}}"#);
        let bytes = collection(&[
            feature(r#"{"code":"21583","name":"Phường Quy Nhơn"}"#, &polygon_geometry(SQUARE)),
            feature(r#"{"code":"21601"}"#, &multi),
        ]);
        let parsed = parse_geojson(&bytes).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].code, "21583");
        assert_eq!(parsed[0].name.as_deref(), Some("Phường Quy Nhơn"));
        assert_eq!(parsed[1].index, 1);
        assert_eq!(parsed[1].geometry.0.len(), 2);
        assert_eq!(parsed[1].geometry.0[1].interiors().len(), 1);
        // Round trip through to_geojson.
        let back = to_geojson(&parsed[1].geometry);
        let again: MultiPolygon<f64> = (&back.value).try_into().unwrap();
        assert_eq!(again, parsed[1].geometry);
    }

    #[test]
    fn errors_name_the_feature_and_the_reason() {
        let good = feature(r#"{"code":"1"}"#, &polygon_geometry(SQUARE));
        let open = "[[108.0,13.0],[108.1,13.0],[108.1,13.1],[108.0,13.1]]";
        let (i, e) = feature_error(&collection(&[good.clone(), feature(r#"{"code":"2"}"#, &polygon_geometry(open))]));
        assert_eq!(i, 1);
        assert_eq!(e, FeatureError::Ring { polygon: 0, ring: 0, problem: RingProblem::NotClosed });

        let short = "[[108.0,13.0],[108.1,13.0],[108.0,13.0]]";
        let (_, e) = feature_error(&collection(&[feature(r#"{"code":"2"}"#, &polygon_geometry(short))]));
        assert!(matches!(e, FeatureError::Ring { problem: RingProblem::TooFewPositions(3), .. }));

        let swapped = "[[13.0,108.0],[13.1,108.0],[13.1,108.1],[13.0,108.0]]";
        let (_, e) = feature_error(&collection(&[feature(r#"{"code":"2"}"#, &polygon_geometry(swapped))]));
        assert!(matches!(e, FeatureError::Ring { problem: RingProblem::OutOfRange { position: 0, .. }, .. }));
        assert!(e.to_string().contains("swapped"));

        let (i, e) = feature_error(&collection(&[
            good.clone(),
            good.clone(),
            feature(r#"{"code":52}"#, &polygon_geometry(SQUARE)),
        ]));
        assert_eq!((i, e), (2, FeatureError::BadCode("a number".into())));
        let (_, e) = feature_error(&collection(&[feature(r#"{"name":"x"}"#, &polygon_geometry(SQUARE))]));
        assert_eq!(e, FeatureError::MissingCode);
        let (_, e) = feature_error(&collection(&[feature("null", &polygon_geometry(SQUARE))]));
        assert_eq!(e, FeatureError::MissingCode);
        let (_, e) = feature_error(&collection(&[feature(r#"{"code":"1"}"#, "null")]));
        assert_eq!(e, FeatureError::NoGeometry);
        let (_, e) =
            feature_error(&collection(&[feature(r#"{"code":"1"}"#, r#"{"type":"Point","coordinates":[108.0,13.0]}"#)]));
        assert_eq!(e, FeatureError::UnsupportedGeometry("Point"));
        let (_, e) = feature_error(&collection(&[r#"{"type":"Nope"}"#.to_string()]));
        assert!(matches!(e, FeatureError::NotAFeature(_)));
        let (_, e) =
            feature_error(&collection(&[feature(r#"{"code":"1"}"#, r#"{"type":"Polygon","coordinates":[]}"#)]));
        assert_eq!(e, FeatureError::NoRings { polygon: 0 });
    }

    #[test]
    fn top_level_problems() {
        assert!(matches!(parse_geojson(b""), Err(GeoError::Json(_))));
        assert!(matches!(parse_geojson(b"[1,2]"), Err(GeoError::NotFeatureCollection { .. })));
        assert!(matches!(
            parse_geojson(br#"{"type":"Feature","geometry":null,"properties":{}}"#),
            Err(GeoError::NotFeatureCollection { .. })
        ));
        assert!(matches!(parse_geojson(br#"{"type":"FeatureCollection","features":[]}"#), Err(GeoError::NoFeatures)));
        assert!(matches!(
            parse_geojson(br#"{"type":"FeatureCollection"}"#),
            Err(GeoError::NotFeatureCollection { .. })
        ));
        let huge = vec![b' '; MAX_GEOJSON_BYTES + 1];
        assert!(matches!(parse_geojson(&huge), Err(GeoError::TooLarge { .. })));
        let deep = "[".repeat(100_000);
        assert!(matches!(parse_geojson(deep.as_bytes()), Err(GeoError::Json(_))));
    }
}
