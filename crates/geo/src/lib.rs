//! Spatial logic: where places are, which unit holds them.
//!
//! The IOC has to answer "which commune is this incident in?" from day one, but the
//! official 2025 unit list has only centre points and areas, no boundaries. So the
//! crate has three layers:
//!
//! * [`dataset`] — the 34 provinces and 3,321 communes, embedded at compile time;
//! * [`areas`] — an approximate partition of a province into communes, built from
//!   the centres, used until real boundaries are supplied;
//! * [`boundaries`] — parsing and validating the real boundaries a province supplies;
//!
//! and [`AreaIndex`] answers point lookups over either.
//!
//! Coordinates are WGS84 with x = longitude and y = latitude throughout, as in
//! GeoJSON. The [`geo`] crate is re-exported so callers build the same types.
//!
//! ```
//! use haidang_geo::{geo::Point, province};
//!
//! let gia_lai = province("52")?.expect("Gia Lai");
//! // Build once, at start-up (about 12 ms for Gia Lai in a release build).
//! let index = gia_lai.approximate_index();
//! let code = index.locate(Point::new(109.2237, 13.7765)); // lon, lat
//! let commune = code.and_then(|c| gia_lai.commune(c)).expect("in Gia Lai");
//! assert!(commune.name.starts_with("Phường Quy Nhơn"));
//! # Ok::<(), haidang_geo::DatasetError>(())
//! ```

pub mod areas;
pub mod boundaries;
pub mod dataset;
pub mod index;

pub use areas::{AreaSeed, CAP_FACTOR, approximate_areas, geodesic_area_km2};
pub use boundaries::{BoundaryFeature, FeatureError, GeoError, RingProblem, parse_geojson, to_geojson};
pub use dataset::{Commune, CommuneKind, DatasetError, Province, province, provinces};
pub use geo;
pub use index::AreaIndex;

/// Great-circle distance in metres between two WGS84 points (haversine; accurate to about
/// 0.5 %, plenty for "is this the same pothole").
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    use geo::{Distance, Haversine, Point};
    Haversine.distance(Point::new(lon1, lat1), Point::new(lon2, lat2))
}

#[cfg(test)]
mod distance_tests {
    #[test]
    fn a_degree_of_latitude_is_about_111_km() {
        let d = super::distance_m(13.0, 108.0, 14.0, 108.0);
        assert!((d - 111_195.0).abs() < 200.0, "{d}");
        assert_eq!(super::distance_m(13.0, 108.0, 13.0, 108.0), 0.0);
    }
}
