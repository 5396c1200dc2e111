//! Geo-queries (clause 4.10): `georel`, `geometry`, `coordinates`, `geoproperty`; and GeoJSON
//! geometry parsing with the specification's validity rules (shared by entity parsing).
//!
//! Relations: `near;maxDistance==m` / `near;minDistance==m` (metres, geodesic), `within`,
//! `contains`, `intersects`, `disjoint`, `equals`, `overlaps`; geometries Point, LineString,
//! Polygon, MultiPoint, MultiLineString, MultiPolygon (and GeometryCollection in entities).
//! Coordinates are `[longitude, latitude]` in WGS 84.
//!
//! Every refusal is `BadRequestData` (clause 5.7.2.4 and the ETSI test suite: an unknown
//! `georel`, a missing companion parameter, a bad distance, an invalid geometry).
//!
//! # How relations are computed
//!
//! The entity's geometry is the default instance (no `datasetId`) of its GeoProperty
//! `geoproperty`; an entity without one never matches. `within`, `contains`, `intersects`,
//! `disjoint`, `equals` (topological equality) and `overlaps` are the DE-9IM predicates of
//! [`geo::Relate`] with the entity's geometry first (`within`: the entity lies within the
//! query geometry), computed on longitude/latitude as planar coordinates — as GeoJSON and the
//! specification do; geometries crossing the antimeridian are not split.
//!
//! `near` uses the great-circle (haversine, mean Earth radius) distance in metres between the
//! two geometries: 0 when they intersect, otherwise the shortest distance from a vertex of one
//! to a segment (great-circle arc) of the other, so a point near the middle of a long line is
//! near it. The cost is the product of the vertex counts.

use geo::line_measures::Distance;
use geo::{
    BoundingRect, Closest, Coord, CoordsIter, Geometry, GeometryCollection, Haversine, HaversineClosestPoint,
    Intersects, Line, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, Rect, Relate,
};
use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::entity::{Entity, names};
use crate::error::NgsiError;

#[derive(Debug, Clone, PartialEq)]
pub enum GeoRel {
    /// Exactly one of the two is set (the grammar takes one distance), in metres, finite, > 0.
    Near {
        max_distance: Option<f64>,
        min_distance: Option<f64>,
    },
    Within,
    Contains,
    Intersects,
    Disjoint,
    Equals,
    Overlaps,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GeoQuery {
    pub georel: GeoRel,
    pub geometry: Geometry<f64>,
    /// Expanded name of the GeoProperty compared (default `location`).
    pub geoproperty: String,
}

/// The geometry types a geo-query may name (clause 4.10).
const QUERY_GEOMETRIES: [&str; 6] = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"];

/// GeometryCollections inside GeometryCollections, at most this deep.
const MAX_COLLECTION_NESTING: usize = 8;

impl GeoRel {
    /// Parses a `georel` value: `near;maxDistance==2000`, `within`, …
    pub fn parse(georel: &str) -> Result<GeoRel, NgsiError> {
        let rel = match georel {
            "within" => GeoRel::Within,
            "contains" => GeoRel::Contains,
            "intersects" => GeoRel::Intersects,
            "disjoint" => GeoRel::Disjoint,
            "equals" => GeoRel::Equals,
            "overlaps" => GeoRel::Overlaps,
            "" => return Err(NgsiError::bad_data("georel is empty")),
            _ => match georel.strip_prefix("near") {
                Some(modifiers) => return parse_near(modifiers),
                None => {
                    return Err(NgsiError::bad_data(format!(
                        "georel '{georel}' is unknown; expected near;maxDistance==<metres>, \
                         near;minDistance==<metres>, within, contains, intersects, disjoint, equals or overlaps"
                    )));
                }
            },
        };
        Ok(rel)
    }
}

fn parse_near(modifiers: &str) -> Result<GeoRel, NgsiError> {
    let Some(modifier) = modifiers.strip_prefix(';') else {
        return Err(NgsiError::bad_data(format!(
            "georel 'near{modifiers}' needs one distance: near;maxDistance==<metres> or near;minDistance==<metres>"
        )));
    };
    let (name, number) = modifier.split_once("==").ok_or_else(|| {
        NgsiError::bad_data(format!(
            "georel 'near;{modifier}': expected maxDistance==<metres> or minDistance==<metres>"
        ))
    })?;
    if name != "maxDistance" && name != "minDistance" {
        return Err(NgsiError::bad_data(format!(
            "georel 'near;{modifier}': '{name}' is not maxDistance or minDistance"
        )));
    }
    let distance = parse_positive_number(number).ok_or_else(|| {
        NgsiError::bad_data(format!("georel near: {name} must be a positive number of metres, not '{number}'"))
    })?;
    Ok(if name == "maxDistance" {
        GeoRel::Near { max_distance: Some(distance), min_distance: None }
    } else {
        GeoRel::Near { max_distance: None, min_distance: Some(distance) }
    })
}

/// A JSON number (no sign, no `inf`), finite and not zero.
fn parse_positive_number(s: &str) -> Option<f64> {
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let n: f64 = serde_json::from_str::<serde_json::Number>(s).ok()?.as_f64()?;
    (n.is_finite() && n > 0.0).then_some(n)
}

fn format_distance(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() < 1e15 { format!("{}", d as i64) } else { format!("{d}") }
}

impl std::fmt::Display for GeoRel {
    /// The `georel` text: `near;maxDistance==2000`, `within`, …
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GeoRel::Near { max_distance, min_distance } => {
                f.write_str("near")?;
                if let Some(d) = max_distance {
                    write!(f, ";maxDistance=={}", format_distance(*d))?;
                }
                if let Some(d) = min_distance {
                    write!(f, ";minDistance=={}", format_distance(*d))?;
                }
                Ok(())
            }
            GeoRel::Within => f.write_str("within"),
            GeoRel::Contains => f.write_str("contains"),
            GeoRel::Intersects => f.write_str("intersects"),
            GeoRel::Disjoint => f.write_str("disjoint"),
            GeoRel::Equals => f.write_str("equals"),
            GeoRel::Overlaps => f.write_str("overlaps"),
        }
    }
}

impl GeoQuery {
    /// From the query parameters (`coordinates` as the JSON text of the URL parameter). A
    /// missing companion parameter or a bad relation is `BadRequestData`, as is an invalid
    /// geometry.
    pub fn parse(
        georel: &str,
        geometry: &str,
        coordinates: &str,
        geoproperty: Option<&str>,
        ctx: &Context,
    ) -> Result<GeoQuery, NgsiError> {
        Self::parse_with(georel, geometry, coordinates, geoproperty, &|term| ctx.expand(term))
    }

    /// The URL parameters as the API finds them: `Ok(None)` when there is no geo-query at all,
    /// `BadRequestData` naming what is missing when only some of `georel`, `geometry`,
    /// `coordinates` are there (or `geoproperty` alone).
    pub fn from_params(
        georel: Option<&str>,
        geometry: Option<&str>,
        coordinates: Option<&str>,
        geoproperty: Option<&str>,
        ctx: &Context,
    ) -> Result<Option<GeoQuery>, NgsiError> {
        Self::from_params_with(georel, geometry, coordinates, geoproperty, &|term| ctx.expand(term))
    }

    /// [`GeoQuery::from_params`] with the term expansion given as a function.
    pub fn from_params_with(
        georel: Option<&str>,
        geometry: Option<&str>,
        coordinates: Option<&str>,
        geoproperty: Option<&str>,
        expand: &dyn Fn(&str) -> String,
    ) -> Result<Option<GeoQuery>, NgsiError> {
        let given = [("georel", georel), ("geometry", geometry), ("coordinates", coordinates)];
        if given.iter().all(|(_, v)| v.is_none()) {
            return match geoproperty {
                None => Ok(None),
                Some(_) => Err(NgsiError::bad_data("geoproperty is given without georel, geometry and coordinates")),
            };
        }
        let missing: Vec<&str> = given.iter().filter(|(_, v)| v.is_none()).map(|(n, _)| *n).collect();
        if !missing.is_empty() {
            return Err(NgsiError::bad_data(format!(
                "a geo-query needs georel, geometry and coordinates; missing: {}",
                missing.join(", ")
            )));
        }
        let (Some(georel), Some(geometry), Some(coordinates)) = (georel, geometry, coordinates) else {
            return Ok(None);
        };
        Self::parse_with(georel, geometry, coordinates, geoproperty, expand).map(Some)
    }

    /// [`GeoQuery::parse`] with the term expansion given as a function.
    pub fn parse_with(
        georel: &str,
        geometry: &str,
        coordinates: &str,
        geoproperty: Option<&str>,
        expand: &dyn Fn(&str) -> String,
    ) -> Result<GeoQuery, NgsiError> {
        let georel = GeoRel::parse(georel)?;
        let coordinates = coordinates.trim();
        if coordinates.is_empty() {
            return Err(NgsiError::bad_data("coordinates is empty"));
        }
        let coords: Value = serde_json::from_str(coordinates)
            .map_err(|e| NgsiError::bad_data(format!("coordinates is not a JSON array of positions: {e}")))?;
        let geometry = query_geometry(geometry, coords)?;
        Ok(GeoQuery { georel, geometry, geoproperty: geoproperty_name(geoproperty, expand)? })
    }

    /// The same from a subscription's `geoQ` member (coordinates as a JSON array or string).
    pub fn from_json(geo_q: &Value, ctx: &Context) -> Result<GeoQuery, NgsiError> {
        Self::from_json_with(geo_q, &|term| ctx.expand(term))
    }

    /// [`GeoQuery::from_json`] with the term expansion given as a function.
    pub fn from_json_with(geo_q: &Value, expand: &dyn Fn(&str) -> String) -> Result<GeoQuery, NgsiError> {
        let obj = geo_q.as_object().ok_or_else(|| NgsiError::bad_data("geoQ must be a JSON object"))?;
        let string = |name: &str| -> Result<&str, NgsiError> {
            match obj.get(name) {
                Some(Value::String(s)) => Ok(s),
                Some(_) => Err(NgsiError::bad_data(format!("geoQ.{name} must be a string"))),
                None => Err(NgsiError::bad_data(format!("geoQ.{name} is missing"))),
            }
        };
        let georel = GeoRel::parse(string("georel")?)?;
        let geometry = string("geometry")?;
        let coords = match obj.get("coordinates") {
            Some(Value::String(text)) => serde_json::from_str(text)
                .map_err(|e| NgsiError::bad_data(format!("geoQ.coordinates is not a JSON array of positions: {e}")))?,
            Some(v @ Value::Array(_)) => v.clone(),
            Some(_) => return Err(NgsiError::bad_data("geoQ.coordinates must be an array (or its JSON text)")),
            None => return Err(NgsiError::bad_data("geoQ.coordinates is missing")),
        };
        let geometry = query_geometry(geometry, coords)?;
        let geoproperty = match obj.get("geoproperty") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(NgsiError::bad_data("geoQ.geoproperty must be a string")),
        };
        Ok(GeoQuery { georel, geometry, geoproperty: geoproperty_name(geoproperty, expand)? })
    }

    pub fn matches(&self, entity: &Entity) -> bool {
        match entity.geometry(&self.geoproperty) {
            Some(g) => self.matches_geometry(&g),
            None => false,
        }
    }

    /// Whether an entity geometry stands in the relation to the query geometry.
    pub fn matches_geometry(&self, entity_geometry: &Geometry<f64>) -> bool {
        let q = &self.geometry;
        // geo's DE-9IM code asserts on some degenerate inputs; a bad stored geometry must
        // make one entity not match, not take the whole query down
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &self.georel {
            GeoRel::Near { max_distance, min_distance } => {
                let d = distance_m(entity_geometry, q);
                max_distance.is_none_or(|m| d <= m) && min_distance.is_none_or(|m| d >= m)
            }
            GeoRel::Within => entity_geometry.relate(q).is_within(),
            GeoRel::Contains => entity_geometry.relate(q).is_contains(),
            GeoRel::Intersects => entity_geometry.relate(q).is_intersects(),
            GeoRel::Disjoint => entity_geometry.relate(q).is_disjoint(),
            // the same coordinates are equal even when the polygon is not valid (the ETSI
            // fixture of 019_11_01 crosses itself near its first vertex, and DE-9IM gives
            // nothing sensible for such a polygon)
            GeoRel::Equals => entity_geometry == q || entity_geometry.relate(q).is_equal_topo(),
            GeoRel::Overlaps => entity_geometry.relate(q).is_overlaps(),
        }));
        outcome.unwrap_or(false)
    }

    /// A rectangle that contains every match (for an index prefilter), or `None` when the
    /// relation cannot be bounded (`disjoint`, `near;minDistance`).
    ///
    /// The geometry of every matching entity intersects the rectangle: for `within` it even
    /// lies inside it; for `near;maxDistance` the query geometry's bounding box is grown by the
    /// distance (in latitude by `d / R`, in longitude by the widest a circle of that radius
    /// gets at the box's most polar latitude; all longitudes when the circle reaches a pole or
    /// the box would cross the antimeridian).
    pub fn bounds(&self) -> Option<Rect<f64>> {
        let bbox = self.geometry.bounding_rect()?;
        match &self.georel {
            GeoRel::Disjoint => None,
            GeoRel::Near { max_distance: None, .. } => None,
            GeoRel::Near { max_distance: Some(d), .. } => Some(grow(bbox, *d)),
            _ => Some(bbox),
        }
    }

    /// Back to the JSON form a subscription shows; `geoproperty` only when it is not the
    /// default `location`.
    pub fn to_json(&self, ctx: &Context) -> Value {
        self.to_json_with(&|iri| ctx.compact(iri))
    }

    /// [`GeoQuery::to_json`] with the compaction given as a function.
    pub fn to_json_with(&self, compact: &dyn Fn(&str) -> String) -> Value {
        let geojson = geometry_to_json(&self.geometry);
        let mut out = Map::new();
        out.insert("geometry".into(), geojson.get("type").cloned().unwrap_or(Value::Null));
        out.insert("coordinates".into(), geojson.get("coordinates").cloned().unwrap_or(Value::Null));
        out.insert("georel".into(), Value::String(self.georel.to_string()));
        if self.geoproperty != names::LOCATION {
            out.insert("geoproperty".into(), Value::String(compact(&self.geoproperty)));
        }
        Value::Object(out)
    }
}

fn geoproperty_name(geoproperty: Option<&str>, expand: &dyn Fn(&str) -> String) -> Result<String, NgsiError> {
    match geoproperty.map(str::trim) {
        None => Ok(names::LOCATION.to_string()),
        Some("") => Err(NgsiError::bad_data("geoproperty is empty")),
        Some("location") => Ok(names::LOCATION.to_string()),
        Some(name) => Ok(expand(name)),
    }
}

fn query_geometry(geometry: &str, coordinates: Value) -> Result<Geometry<f64>, NgsiError> {
    if geometry.is_empty() {
        return Err(NgsiError::bad_data("geometry is empty"));
    }
    if !QUERY_GEOMETRIES.contains(&geometry) {
        return Err(NgsiError::bad_data(format!(
            "geometry '{geometry}' is not one of {}",
            QUERY_GEOMETRIES.join(", ")
        )));
    }
    if !coordinates.is_array() {
        return Err(NgsiError::bad_data("coordinates must be a JSON array"));
    }
    parse_geometry(&json!({ "type": geometry, "coordinates": coordinates }))
}

// ---------------------------------------------------------------------------------------------
// GeoJSON geometry parsing (RFC 7946 section 3.1)

fn geo_err(path: &str, msg: impl std::fmt::Display) -> NgsiError {
    NgsiError::bad_data(format!("invalid GeoJSON geometry: {path}: {msg}"))
}

/// Parses a GeoJSON geometry object (as a GeoProperty value), checking what the specification
/// and RFC 7946 require: known type, coordinates of the right nesting, longitudes in
/// [-180, 180] and latitudes in [-90, 90], closed linear rings of at least four positions.
///
/// Also refused: positions of more than three numbers (RFC 7946 leaves their meaning open),
/// line strings of fewer than two positions, empty coordinate arrays (also of the Multi*
/// types) and empty GeometryCollections. `bbox` and foreign members are ignored.
pub fn parse_geometry(value: &Value) -> Result<Geometry<f64>, NgsiError> {
    parse_geometry_at(value, "geometry", 0)
}

fn parse_geometry_at(value: &Value, path: &str, depth: usize) -> Result<Geometry<f64>, NgsiError> {
    let obj = value.as_object().ok_or_else(|| geo_err(path, "must be a JSON object with type and coordinates"))?;
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err(geo_err(path, "type must be a string")),
        None => return Err(geo_err(path, "type is missing")),
    };
    if ty == "GeometryCollection" {
        if depth >= MAX_COLLECTION_NESTING {
            return Err(geo_err(path, format!("GeometryCollections nest deeper than {MAX_COLLECTION_NESTING}")));
        }
        let members = match obj.get("geometries") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(geo_err(path, "geometries must be an array")),
            None => return Err(geo_err(path, "a GeometryCollection needs geometries")),
        };
        if members.is_empty() {
            return Err(geo_err(path, "geometries is empty"));
        }
        let parsed = members
            .iter()
            .enumerate()
            .map(|(i, m)| parse_geometry_at(m, &format!("{path}.geometries[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Geometry::GeometryCollection(GeometryCollection::new_from(parsed)));
    }
    let unknown = || {
        geo_err(
            path,
            format!(
                "type '{ty}' is not Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon or GeometryCollection"
            ),
        )
    };
    if !["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"].contains(&ty) {
        return Err(unknown());
    }
    let coords = obj.get("coordinates").ok_or_else(|| geo_err(path, "coordinates is missing"))?;
    let at = format!("{path}.coordinates");
    Ok(match ty {
        "Point" => Geometry::Point(Point::from(position(coords, &at)?)),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint::new(
            non_empty(coords, &at, "positions")?
                .iter()
                .enumerate()
                .map(|(i, p)| position(p, &format!("{at}[{i}]")).map(Point::from))
                .collect::<Result<_, _>>()?,
        )),
        "LineString" => Geometry::LineString(line_string(coords, &at)?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString::new(
            non_empty(coords, &at, "line strings")?
                .iter()
                .enumerate()
                .map(|(i, l)| line_string(l, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        )),
        "Polygon" => Geometry::Polygon(polygon(coords, &at)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon::new(
            non_empty(coords, &at, "polygons")?
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        )),
        _ => return Err(unknown()),
    })
}

fn non_empty<'a>(v: &'a Value, path: &str, what: &str) -> Result<&'a Vec<Value>, NgsiError> {
    match v {
        Value::Array(items) if !items.is_empty() => Ok(items),
        Value::Array(_) => Err(geo_err(path, format!("needs at least one of its {what}, found an empty array"))),
        _ => Err(geo_err(path, format!("must be an array of {what}"))),
    }
}

/// The numbers of a position, checked; longitude and latitude as a coordinate.
fn position_numbers(v: &Value, path: &str) -> Result<Vec<f64>, NgsiError> {
    let items = v.as_array().ok_or_else(|| geo_err(path, "a position must be an array [longitude, latitude]"))?;
    if items.len() < 2 || items.len() > 3 {
        return Err(geo_err(
            path,
            format!("a position has 2 numbers (longitude, latitude) or 3 (and altitude), found {}", items.len()),
        ));
    }
    let numbers = items
        .iter()
        .map(|n| n.as_f64().filter(|x| x.is_finite()))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| geo_err(path, "a position holds numbers only"))?;
    let (lon, lat) = (numbers[0], numbers[1]);
    if !(-180.0..=180.0).contains(&lon) {
        return Err(geo_err(path, format!("longitude {lon} is outside [-180, 180]")));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(geo_err(path, format!("latitude {lat} is outside [-90, 90]")));
    }
    Ok(numbers)
}

fn position(v: &Value, path: &str) -> Result<Coord<f64>, NgsiError> {
    position_numbers(v, path).map(|n| Coord { x: n[0], y: n[1] })
}

fn line_string(v: &Value, path: &str) -> Result<LineString<f64>, NgsiError> {
    let items = v.as_array().ok_or_else(|| geo_err(path, "a line string must be an array of positions"))?;
    if items.len() < 2 {
        return Err(geo_err(path, format!("a line string needs at least 2 positions, found {}", items.len())));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, p)| position(p, &format!("{path}[{i}]")))
        .collect::<Result<Vec<_>, _>>()
        .map(LineString::new)
}

fn linear_ring(v: &Value, path: &str) -> Result<LineString<f64>, NgsiError> {
    let items = v.as_array().ok_or_else(|| geo_err(path, "a linear ring must be an array of positions"))?;
    if items.len() < 4 {
        return Err(geo_err(path, format!("a linear ring needs at least 4 positions, found {}", items.len())));
    }
    let numbers = items
        .iter()
        .enumerate()
        .map(|(i, p)| position_numbers(p, &format!("{path}[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if numbers.first() != numbers.last() {
        return Err(geo_err(path, "a linear ring must end with the position it starts with"));
    }
    Ok(LineString::new(numbers.iter().map(|n| Coord { x: n[0], y: n[1] }).collect()))
}

fn polygon(v: &Value, path: &str) -> Result<Polygon<f64>, NgsiError> {
    let rings = non_empty(v, path, "linear rings")?;
    let mut parsed = rings
        .iter()
        .enumerate()
        .map(|(i, r)| linear_ring(r, &format!("{path}[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let exterior = parsed.remove(0);
    Ok(Polygon::new(exterior, parsed))
}

/// GeoJSON geometry object of a geometry (`Line`, `Rect`, `Triangle` become a LineString or
/// a Polygon).
pub fn geometry_to_json(g: &Geometry<f64>) -> Value {
    fn pos(c: Coord<f64>) -> Value {
        json!([c.x, c.y])
    }
    fn line(l: &LineString<f64>) -> Value {
        Value::Array(l.0.iter().copied().map(pos).collect())
    }
    fn poly(p: &Polygon<f64>) -> Value {
        Value::Array(std::iter::once(p.exterior()).chain(p.interiors()).map(line).collect())
    }
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": pos(p.0)}),
        Geometry::Line(l) => json!({"type": "LineString", "coordinates": [pos(l.start), pos(l.end)]}),
        Geometry::LineString(l) => json!({"type": "LineString", "coordinates": line(l)}),
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": poly(p)}),
        Geometry::MultiPoint(m) => {
            json!({"type": "MultiPoint", "coordinates": m.0.iter().map(|p| pos(p.0)).collect::<Vec<_>>()})
        }
        Geometry::MultiLineString(m) => {
            json!({"type": "MultiLineString", "coordinates": m.0.iter().map(line).collect::<Vec<_>>()})
        }
        Geometry::MultiPolygon(m) => {
            json!({"type": "MultiPolygon", "coordinates": m.0.iter().map(poly).collect::<Vec<_>>()})
        }
        Geometry::GeometryCollection(c) => {
            json!({"type": "GeometryCollection", "geometries": c.0.iter().map(geometry_to_json).collect::<Vec<_>>()})
        }
        Geometry::Rect(r) => geometry_to_json(&Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => geometry_to_json(&Geometry::Polygon(t.to_polygon())),
    }
}

// ---------------------------------------------------------------------------------------------
// Distances and bounds

/// The segments of a geometry (no segment for points).
fn segments(g: &Geometry<f64>, out: &mut Vec<Line<f64>>) {
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => {}
        Geometry::Line(l) => out.push(*l),
        Geometry::LineString(l) => out.extend(l.lines()),
        Geometry::MultiLineString(m) => m.0.iter().for_each(|l| out.extend(l.lines())),
        Geometry::Polygon(p) => std::iter::once(p.exterior()).chain(p.interiors()).for_each(|l| out.extend(l.lines())),
        Geometry::MultiPolygon(m) => {
            for p in &m.0 {
                std::iter::once(p.exterior()).chain(p.interiors()).for_each(|l| out.extend(l.lines()));
            }
        }
        Geometry::GeometryCollection(c) => c.0.iter().for_each(|m| segments(m, out)),
        Geometry::Rect(r) => segments(&Geometry::Polygon(r.to_polygon()), out),
        Geometry::Triangle(t) => segments(&Geometry::Polygon(t.to_polygon()), out),
    }
}

/// Great-circle distance in metres from `p` to the arc `seg`.
fn point_segment_m(p: Point<f64>, seg: &Line<f64>) -> f64 {
    let (a, b) = (seg.start_point(), seg.end_point());
    let ends = Haversine.distance(p, a).min(Haversine.distance(p, b));
    if a == b {
        return ends;
    }
    match seg.haversine_closest_point(&p) {
        Closest::Intersection(c) | Closest::SinglePoint(c) => Haversine.distance(p, c).min(ends),
        Closest::Indeterminate => ends,
    }
}

/// Geodesic (haversine) distance in metres between two geometries: 0 when they intersect,
/// otherwise the shortest vertex-to-arc (or vertex-to-vertex) distance either way.
pub fn distance_m(a: &Geometry<f64>, b: &Geometry<f64>) -> f64 {
    if a.intersects(b) {
        return 0.0;
    }
    let (mut seg_a, mut seg_b) = (Vec::new(), Vec::new());
    segments(a, &mut seg_a);
    segments(b, &mut seg_b);
    let mut best = f64::INFINITY;
    let mut one_way = |from: &Geometry<f64>, to: &Geometry<f64>, to_segments: &[Line<f64>]| {
        for c in from.coords_iter() {
            let p = Point::from(c);
            if to_segments.is_empty() {
                for q in to.coords_iter() {
                    best = best.min(Haversine.distance(p, Point::from(q)));
                }
            } else {
                for s in to_segments {
                    best = best.min(point_segment_m(p, s));
                }
            }
        }
    };
    one_way(a, b, &seg_b);
    one_way(b, a, &seg_a);
    best
}

/// `bbox` grown by `d` metres on the sphere (see [`GeoQuery::bounds`]).
fn grow(bbox: Rect<f64>, d: f64) -> Rect<f64> {
    // a little slack so rounding never drops a match at the very edge
    let angle = (d / Haversine.radius()) * (1.0 + 1e-9) + 1e-12;
    let dlat = angle.to_degrees();
    let (min, max) = (bbox.min(), bbox.max());
    let min_y = (min.y - dlat).max(-90.0);
    let max_y = (max.y + dlat).min(90.0);
    let polar = min.y.abs().max(max.y.abs()).to_radians();
    // widest longitude offset of a circle of angular radius `angle` centred at latitude `polar`
    let ratio = angle.sin() / polar.cos();
    let whole_width = angle >= std::f64::consts::FRAC_PI_2 || !ratio.is_finite() || ratio >= 1.0;
    let (min_x, max_x) = if whole_width {
        (-180.0, 180.0)
    } else {
        let dlon = ratio.asin().to_degrees();
        if min.x - dlon < -180.0 || max.x + dlon > 180.0 { (-180.0, 180.0) } else { (min.x - dlon, max.x + dlon) }
    };
    Rect::new(Coord { x: min_x, y: min_y }, Coord { x: max_x, y: max_y })
}
