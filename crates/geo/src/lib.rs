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

pub mod areas;
pub mod boundaries;
pub mod dataset;
pub mod index;

pub use areas::{AreaSeed, CAP_FACTOR, approximate_areas, geodesic_area_km2};
pub use boundaries::{
    BoundaryFeature, FeatureError, GeoError, RingProblem, parse_geojson, to_geojson,
};
pub use dataset::{Commune, CommuneKind, DatasetError, Province, province, provinces};
pub use geo;
pub use index::AreaIndex;
