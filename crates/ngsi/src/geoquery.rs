//! Geo-queries (clause 4.10): `georel`, `geometry`, `coordinates`, `geoproperty`; and GeoJSON
//! geometry parsing with the specification's validity rules (shared by entity parsing).
//!
//! Relations: `near;maxDistance==m` / `near;minDistance==m` (metres, geodesic), `within`,
//! `contains`, `intersects`, `disjoint`, `equals`, `overlaps`; geometries Point, LineString,
//! Polygon (and MultiPoint, MultiLineString, MultiPolygon in entities). Coordinates are
//! `[longitude, latitude]` in WGS 84.
//!
//! TODO(helper A): everything marked `todo!()`.

use geo::{Geometry, Rect};
use serde_json::Value;

use crate::context::Context;
use crate::entity::Entity;
use crate::error::NgsiError;

#[derive(Debug, Clone, PartialEq)]
pub enum GeoRel {
    Near { max_distance: Option<f64>, min_distance: Option<f64> },
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

impl GeoQuery {
    /// From the query parameters (`coordinates` as the JSON text of the URL parameter). A
    /// missing companion parameter or a bad relation is `BadRequestData`, as is an invalid
    /// geometry.
    pub fn parse(
        _georel: &str,
        _geometry: &str,
        _coordinates: &str,
        _geoproperty: Option<&str>,
        _ctx: &Context,
    ) -> Result<GeoQuery, NgsiError> {
        todo!()
    }

    /// The same from a subscription's `geoQ` member (coordinates as a JSON array or string).
    pub fn from_json(_geo_q: &Value, _ctx: &Context) -> Result<GeoQuery, NgsiError> {
        todo!()
    }

    pub fn matches(&self, _entity: &Entity) -> bool {
        todo!()
    }

    /// A rectangle that contains every match (for an index prefilter), or `None` when the
    /// relation cannot be bounded (`disjoint`, `near;minDistance`).
    pub fn bounds(&self) -> Option<Rect<f64>> {
        todo!()
    }

    /// Back to the JSON form a subscription shows.
    pub fn to_json(&self, _ctx: &Context) -> Value {
        todo!()
    }
}

/// Parses a GeoJSON geometry object (as a GeoProperty value), checking what the specification
/// and RFC 7946 require: known type, coordinates of the right nesting, longitudes in
/// [-180, 180] and latitudes in [-90, 90], closed linear rings of at least four positions.
pub fn parse_geometry(_value: &Value) -> Result<Geometry<f64>, NgsiError> {
    todo!()
}
