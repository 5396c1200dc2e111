//! Importing org units: a province and its communes from the bundled 2025 dataset, a
//! province's own units from CSV, and the official boundaries a province supplies as GeoJSON.

use anyhow::{Context, anyhow, bail};
use haidang_core::{OrgUnitType, validation::Checker};
use haidang_geo::{CommuneKind, parse_geojson, to_geojson};
use haidang_store::{AuditCtx, BoundaryKind, Contact, NewOrgUnit, OrgUnitFilter, Store, StoreError};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Default)]
pub struct Report {
    pub created: usize,
    pub existing: usize,
    pub areas: usize,
}

fn commune_type(kind: CommuneKind) -> OrgUnitType {
    match kind {
        CommuneKind::Ward => OrgUnitType::Ward,
        CommuneKind::Commune => OrgUnitType::Commune,
        CommuneKind::SpecialZone => OrgUnitType::SpecialZone,
    }
}

async fn existing_codes(store: &Store) -> anyhow::Result<HashMap<String, (haidang_core::OrgUnitId, BoundaryKind)>> {
    Ok(store
        .org_units_tree(&OrgUnitFilter::default())
        .await?
        .into_iter()
        .map(|u| (u.code, (u.id, u.boundary)))
        .collect())
}

/// Imports the province `code` and all its communes, with approximate areas for communes
/// that have no official boundary yet. Running it again adds only what is missing.
pub async fn import_province(store: &Store, ctx: &AuditCtx, code: &str) -> anyhow::Result<Report> {
    let province = haidang_geo::province(code)?.ok_or_else(|| {
        anyhow!("no province with code {code:?} in the 2025 dataset (codes are two digits, e.g. 52 for Gia Lai)")
    })?;
    let mut report = Report::default();
    let root = match store.root_unit().await? {
        Some(r) if r.code == province.code => {
            report.existing += 1;
            r
        }
        Some(r) => bail!("this store already holds {} ({}); one Hải Đăng serves one province", r.name, r.code),
        None => {
            report.created += 1;
            store
                .create_org_unit(
                    ctx,
                    NewOrgUnit {
                        code: province.code.clone(),
                        name: province.name.clone(),
                        short_name: Some(province.short_name.clone()),
                        unit_type: OrgUnitType::Province,
                        parent_id: None,
                        lat: Some(province.centre.y()),
                        lon: Some(province.centre.x()),
                        area_km2: None,
                        demo_code: false,
                        contact: Contact::default(),
                    },
                )
                .await?
        }
    };
    let mut known = existing_codes(store).await?;
    for c in &province.communes {
        if known.contains_key(&c.code) {
            report.existing += 1;
            continue;
        }
        let unit = store
            .create_org_unit(
                ctx,
                NewOrgUnit {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    short_name: Some(c.short_name.clone()),
                    unit_type: commune_type(c.kind),
                    parent_id: Some(root.id),
                    lat: Some(c.centre.y()),
                    lon: Some(c.centre.x()),
                    area_km2: c.area_km2,
                    demo_code: false,
                    contact: Contact::default(),
                },
            )
            .await?;
        known.insert(c.code.clone(), (unit.id, BoundaryKind::None));
        report.created += 1;
    }
    for (c, area) in province.communes.iter().zip(province.approximate_areas()) {
        let Some((id, kind)) = known.get(&c.code) else { continue };
        if *kind != BoundaryKind::None || area.0.is_empty() {
            continue;
        }
        let geometry = serde_json::to_string(&to_geojson(&area))?;
        store.set_boundary(ctx, *id, &geometry, BoundaryKind::Approximate, None).await?;
        report.areas += 1;
    }
    Ok(report)
}

/// Loads official boundaries (a GeoJSON FeatureCollection whose features carry the unit
/// `code`). Every feature must name a known unit; nothing is saved unless all are valid.
pub async fn import_boundaries(store: &Store, ctx: &AuditCtx, path: &Path) -> anyhow::Result<Report> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let features = parse_geojson(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let known = existing_codes(store).await?;
    let mut unknown = Vec::new();
    for f in &features {
        if !known.contains_key(&f.code) {
            unknown.push(format!("feature {} has code {:?}, which is no unit here", f.index, f.code));
        }
    }
    if !unknown.is_empty() {
        bail!("{}: nothing imported:\n  {}", path.display(), unknown.join("\n  "));
    }
    let mut report = Report::default();
    for f in features {
        let (id, _) = known[&f.code];
        let geometry = serde_json::to_string(&to_geojson(&f.geometry))?;
        let km2 = haidang_geo::geodesic_area_km2(&f.geometry);
        store.set_boundary(ctx, id, &geometry, BoundaryKind::Official, Some((km2 * 100.0).round() / 100.0)).await?;
        report.areas += 1;
    }
    Ok(report)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitRow {
    code: String,
    name: String,
    #[serde(rename = "type")]
    unit_type: String,
    parent_code: String,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

/// Imports a province's own units (departments, agencies, divisions) from CSV with the header
/// `code,name,type,parent_code,lat,lon,phone,email,address`. Rows whose code exists are skipped;
/// every row is checked before anything is written.
pub async fn import_units_csv(store: &Store, ctx: &AuditCtx, path: &Path) -> anyhow::Result<Report> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, row) in reader.deserialize::<UnitRow>().enumerate() {
        let line = i + 2;
        match row {
            Ok(r) => {
                let mut check = Checker::new();
                check.check(!r.code.trim().is_empty() && r.code.len() <= 40, "code", "1–40 characters");
                check.check(!r.name.trim().is_empty() && r.name.chars().count() <= 200, "name", "1–200 characters");
                check.check(
                    OrgUnitType::parse(&r.unit_type).is_some(),
                    "type",
                    "one of province, department, agency, police, ward, commune, special_zone, division",
                );
                if let Err(e) = check.finish() {
                    problems.push(format!("line {line}: {e}"));
                }
                rows.push((line, r));
            }
            Err(e) => problems.push(format!("line {line}: {e}")),
        }
    }
    if !problems.is_empty() {
        bail!("{}: nothing imported:\n  {}", path.display(), problems.join("\n  "));
    }
    let mut known = existing_codes(store).await?;
    let mut report = Report::default();
    for (line, r) in rows {
        if known.contains_key(&r.code) {
            report.existing += 1;
            continue;
        }
        let parent = known.get(&r.parent_code).map(|(id, _)| *id).ok_or_else(|| {
            anyhow!(
                "{}: line {line}: parent_code {:?} is no unit (parents must come before their children)",
                path.display(),
                r.parent_code
            )
        })?;
        let unit = store
            .create_org_unit(
                ctx,
                NewOrgUnit {
                    code: r.code.trim().to_owned(),
                    name: r.name.trim().to_owned(),
                    short_name: None,
                    unit_type: OrgUnitType::parse(&r.unit_type).unwrap_or(OrgUnitType::Division),
                    parent_id: Some(parent),
                    lat: r.lat,
                    lon: r.lon,
                    area_km2: None,
                    demo_code: false,
                    contact: Contact { phone: r.phone, email: r.email, address: r.address },
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Invalid(i) => anyhow!("{}: line {line}: {i}", path.display()),
                other => other.into(),
            })?;
        known.insert(unit.code.clone(), (unit.id, BoundaryKind::None));
        report.created += 1;
    }
    Ok(report)
}
