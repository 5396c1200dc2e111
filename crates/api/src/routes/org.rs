//! The org tree: units, their areas on the map, and "which unit is this place in".

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Need, Query, perm};
use crate::routes::{Limit, page_params};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use haidang_core::validation::{Checker, email, phone, text};
use haidang_core::{OrgUnitId, OrgUnitType, Permission};
use haidang_store::{BoundaryKind, Contact, NewOrgUnit, OrgUnit, OrgUnitFilter, OrgUnitPatch, Page, UnitRef};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units, create_unit))
        .routes(routes!(unit_tree))
        .routes(routes!(unit_geojson))
        .routes(routes!(get_unit, update_unit))
        .routes(routes!(locate))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// Only the direct sub-units of this unit.
    parent: Option<i64>,
    /// Only units of this type.
    #[serde(rename = "type")]
    #[param(value_type = Option<String>)]
    unit_type: Option<OrgUnitType>,
    /// Search in names and codes, ignoring diacritics ("Quy Nhon" finds "Quy Nhơn").
    q: Option<String>,
    limit: Option<Limit>,
    cursor: Option<String>,
}

impl UnitQuery {
    fn filter(&self, state: &AppState, need: &crate::extract::Authn) -> ApiResult<OrgUnitFilter> {
        let (limit, after) = page_params(self.limit, self.cursor.as_deref())?;
        if self.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(ApiError::field("q", "must be at most 100 characters"));
        }
        let parent = self.parent.map(OrgUnitId);
        if parent.is_some_and(|p| !state.tree().contains(p)) {
            return Err(ApiError::field("parent", "no such unit"));
        }
        Ok(OrgUnitFilter {
            parent,
            unit_type: self.unit_type,
            q: self.q.clone(),
            scope: need.principal.scope(Permission::OrgRead),
            limit,
            after,
        })
    }
}

/// Lists the units the caller may see, in Vietnamese name order.
#[utoipa::path(get, path = "/api/org-units", tag = "org", params(UnitQuery),
    responses((status = 200, body = Page<OrgUnit>), (status = 400, body = Problem)))]
async fn list_units(
    State(state): State<AppState>,
    need: Need<perm::OrgRead>,
    Query(q): Query<UnitQuery>,
) -> ApiResult<axum::Json<Page<OrgUnit>>> {
    let filter = q.filter(&state, &need)?;
    Ok(axum::Json(state.store.list_org_units(&filter).await?))
}

/// Every unit the caller may see, parents before children (for tree views).
#[utoipa::path(get, path = "/api/org-units/tree", tag = "org", responses((status = 200, body = Vec<OrgUnit>)))]
async fn unit_tree(State(state): State<AppState>, need: Need<perm::OrgRead>) -> ApiResult<axum::Json<Vec<OrgUnit>>> {
    let filter = OrgUnitFilter { scope: need.principal.scope(Permission::OrgRead), ..Default::default() };
    Ok(axum::Json(state.store.org_units_tree(&filter).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitDetail {
    #[serde(flatten)]
    unit: OrgUnit,
    /// From the province down to this unit.
    path: Vec<UnitRef>,
}

fn check_visible(
    state: &AppState,
    need: &crate::extract::Authn,
    permission: Permission,
    id: OrgUnitId,
) -> ApiResult<()> {
    let tree = state.tree();
    if !tree.contains(id) {
        return Err(ApiError::NotFound);
    }
    if !need.principal.can_at(permission, id, &tree) {
        return Err(ApiError::forbidden());
    }
    Ok(())
}

/// One unit with its path from the province.
#[utoipa::path(get, path = "/api/org-units/{id}", tag = "org", params(("id" = i64, Path)),
    responses((status = 200, body = UnitDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_unit(
    State(state): State<AppState>,
    need: Need<perm::OrgRead>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<UnitDetail>> {
    let id = OrgUnitId(id);
    check_visible(&state, &need, Permission::OrgRead, id)?;
    let unit = state.store.org_unit(id).await?;
    let mut lineage = state.tree().lineage(id);
    lineage.reverse();
    let path = state.store.unit_refs(&lineage).await?;
    Ok(axum::Json(UnitDetail { unit, path }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GeoQuery {
    /// The unit whose sub-units to draw; the default is the province's.
    parent: Option<i64>,
}

/// Unit areas (or centres, for units without an area) as a GeoJSON FeatureCollection.
/// Areas marked `boundary: approximate` are estimates (ranh giới gần đúng), not official lines.
#[utoipa::path(get, path = "/api/org-units/geojson", tag = "org", params(GeoQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json")))]
async fn unit_geojson(
    State(state): State<AppState>,
    need: Need<perm::OrgRead>,
    Query(q): Query<GeoQuery>,
) -> ApiResult<axum::response::Response> {
    let parent = match q.parent {
        Some(p) => OrgUnitId(p),
        None => state.store.root_unit().await?.map(|u| u.id).ok_or(ApiError::NotFound)?,
    };
    if !state.tree().contains(parent) {
        return Err(ApiError::field("parent", "no such unit"));
    }
    let filter =
        OrgUnitFilter { parent: Some(parent), scope: need.principal.scope(Permission::OrgRead), ..Default::default() };
    let mut units = state.store.org_unit_areas(&filter).await?;
    // A unit may also draw itself when it has no visible children (a commune officer's view).
    if units.is_empty() && need.principal.can_at(Permission::OrgRead, parent, &state.tree()) {
        let own = OrgUnitFilter { scope: need.principal.scope(Permission::OrgRead), ..Default::default() };
        units = state.store.org_unit_areas(&own).await?.into_iter().filter(|(u, _)| u.id == parent).collect();
    }
    let features: Vec<serde_json::Value> = units
        .into_iter()
        .filter_map(|(u, boundary)| {
            let geometry = match boundary.as_deref().and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok()) {
                Some(g) => g,
                None => serde_json::json!({ "type": "Point", "coordinates": [u.lon?, u.lat?] }),
            };
            Some(serde_json::json!({
                "type": "Feature",
                "id": u.id,
                "geometry": geometry,
                "properties": {
                    "id": u.id, "code": u.code, "name": u.name, "type": u.unit_type,
                    "boundary": u.boundary, "area_km2": u.area_km2, "lat": u.lat, "lon": u.lon,
                }
            }))
        })
        .collect();
    let body = serde_json::json!({ "type": "FeatureCollection", "features": features });
    Ok(([(axum::http::header::CONTENT_TYPE, "application/geo+json")], body.to_string()).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LocateQuery {
    /// Latitude, WGS84 degrees.
    lat: f64,
    /// Longitude, WGS84 degrees.
    lon: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Located {
    /// Whether the point is inside the province (as far as the unit areas tell).
    inside_province: bool,
    /// The commune-level unit holding the point, if the caller may see it.
    unit: Option<OrgUnit>,
    /// How the answer's area was obtained.
    boundary: Option<BoundaryKind>,
}

/// Which commune a place is in, and whether it is inside the province.
#[utoipa::path(get, path = "/api/geo/locate", tag = "org", params(LocateQuery),
    responses((status = 200, body = Located), (status = 422, body = Problem)))]
async fn locate(
    State(state): State<AppState>,
    need: Need<perm::OrgRead>,
    Query(q): Query<LocateQuery>,
) -> ApiResult<axum::Json<Located>> {
    let mut check = Checker::new();
    check.check(q.lat.is_finite() && (-90.0..=90.0).contains(&q.lat), "lat", "must be a latitude in −90…90");
    check.check(q.lon.is_finite() && (-180.0..=180.0).contains(&q.lon), "lon", "must be a longitude in −180…180");
    check.finish()?;
    let places = state.places();
    let found = places.locate(q.lat, q.lon);
    let unit = match found {
        Some(id) if need.principal.can_at(Permission::OrgRead, id, &state.tree()) => {
            Some(state.store.org_unit(id).await?)
        }
        _ => None,
    };
    Ok(axum::Json(Located { inside_province: found.is_some(), boundary: unit.as_ref().map(|u| u.boundary), unit }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitCreate {
    code: String,
    name: String,
    short_name: Option<String>,
    #[serde(rename = "type")]
    unit_type: OrgUnitType,
    parent_id: i64,
    lat: Option<f64>,
    lon: Option<f64>,
    #[serde(default)]
    contact: Contact,
}

fn check_contact(check: &mut Checker, c: &Contact) {
    if let Some(p) = &c.phone {
        phone(check, "contact.phone", p);
    }
    if let Some(e) = &c.email {
        email(check, "contact.email", e);
    }
    if let Some(a) = &c.address {
        check.check(a.chars().count() <= 300, "contact.address", "must be at most 300 characters");
    }
}

/// Adds a unit under a parent the caller administers.
#[utoipa::path(post, path = "/api/org-units", tag = "org", request_body = UnitCreate,
    responses((status = 201, body = OrgUnit), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_unit(
    State(state): State<AppState>,
    need: Need<perm::OrgWrite>,
    Json(req): Json<UnitCreate>,
) -> ApiResult<(StatusCode, axum::Json<OrgUnit>)> {
    let mut check = Checker::new();
    let code = text(&mut check, "code", &req.code, 40);
    let name = text(&mut check, "name", &req.name, 200);
    check_contact(&mut check, &req.contact);
    check.finish()?;
    let parent = OrgUnitId(req.parent_id);
    if !state.tree().contains(parent) {
        return Err(ApiError::field("parent_id", "no such unit"));
    }
    if !need.principal.can_at(Permission::OrgWrite, parent, &state.tree()) {
        return Err(ApiError::forbidden());
    }
    let created = state
        .store
        .create_org_unit(
            &need.audit(),
            NewOrgUnit {
                code: code.unwrap_or_default(),
                name: name.unwrap_or_default(),
                short_name: req.short_name,
                unit_type: req.unit_type,
                parent_id: Some(parent),
                lat: req.lat,
                lon: req.lon,
                area_km2: None,
                demo_code: false,
                contact: req.contact,
            },
        )
        .await?;
    state.reload_org().await?;
    state.live.publish("org-units", Some(created.id), serde_json::json!({ "id": created.id, "change": "create" }));
    Ok((StatusCode::CREATED, axum::Json(created)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitUpdate {
    name: Option<String>,
    short_name: Option<String>,
    parent_id: Option<i64>,
    lat: Option<f64>,
    lon: Option<f64>,
    contact: Option<Contact>,
}

/// Changes a unit's name, position, contact or parent.
#[utoipa::path(patch, path = "/api/org-units/{id}", tag = "org", params(("id" = i64, Path)), request_body = UnitUpdate,
    responses((status = 200, body = OrgUnit), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn update_unit(
    State(state): State<AppState>,
    need: Need<perm::OrgWrite>,
    Path(id): Path<i64>,
    Json(req): Json<UnitUpdate>,
) -> ApiResult<axum::Json<OrgUnit>> {
    let id = OrgUnitId(id);
    check_visible(&state, &need, Permission::OrgWrite, id)?;
    let mut check = Checker::new();
    let name = req.name.as_deref().and_then(|n| text(&mut check, "name", n, 200));
    if let Some(c) = &req.contact {
        check_contact(&mut check, c);
    }
    check.finish()?;
    if let Some(p) = req.parent_id.map(OrgUnitId) {
        if !state.tree().contains(p) {
            return Err(ApiError::field("parent_id", "no such unit"));
        }
        if !need.principal.can_at(Permission::OrgWrite, p, &state.tree()) {
            return Err(ApiError::forbidden());
        }
    }
    let position = if req.lat.is_some() || req.lon.is_some() { (Some(req.lat), Some(req.lon)) } else { (None, None) };
    let updated = state
        .store
        .update_org_unit(
            &need.audit(),
            id,
            OrgUnitPatch {
                name,
                short_name: req.short_name.map(Some),
                parent_id: req.parent_id.map(OrgUnitId),
                lat: position.0,
                lon: position.1,
                contact: req.contact,
            },
        )
        .await?;
    state.reload_org().await?;
    state.live.publish("org-units", Some(id), serde_json::json!({ "id": id, "change": "update" }));
    Ok(axum::Json(updated))
}
