//! "Which commune is this place in?": an in-memory index of the commune-level areas, rebuilt
//! whenever units or areas change.

use haidang_core::OrgUnitId;
use haidang_geo::geo::Point;
use haidang_geo::{AreaIndex, parse_geojson};
use haidang_store::{OrgUnitFilter, Store, StoreError};

#[derive(Default)]
pub struct Places {
    index: Option<AreaIndex<OrgUnitId>>,
}

impl Places {
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let units = store.org_unit_areas(&OrgUnitFilter::default()).await?;
        let features: Vec<String> = units
            .iter()
            .filter(|(u, _)| u.unit_type.is_commune_level())
            .filter_map(|(u, geometry)| {
                let geometry = geometry.as_deref()?;
                Some(format!(r#"{{"type":"Feature","properties":{{"code":"{}"}},"geometry":{geometry}}}"#, u.id.0))
            })
            .collect();
        if features.is_empty() {
            return Ok(Places::default());
        }
        // The stored areas went through the same validation when they were saved; a failure
        // here means the store was edited by hand, and point location is then unavailable.
        let collection = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","));
        match parse_geojson(collection.as_bytes()) {
            Ok(parsed) => Ok(Places {
                index: Some(AreaIndex::new(
                    parsed.into_iter().filter_map(|f| Some((OrgUnitId(f.code.parse().ok()?), f.geometry))),
                )),
            }),
            Err(e) => {
                tracing::error!(error = %e, "stored unit areas are unreadable; point location is off");
                Ok(Places::default())
            }
        }
    }

    /// The commune-level unit whose area holds the point, if any.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<OrgUnitId> {
        self.index.as_ref()?.locate(Point::new(lon, lat)).copied()
    }
}
