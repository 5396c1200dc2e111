//! Org units: the province, departments, communes and sub-units.

use crate::audit::{append, escape_like, push_scope};
use crate::time::ts;
use crate::{AuditCtx, BoundaryKind, Change, Contact, Cursor, OrgUnit, Page, Store, StoreError, UnitRef};
use haidang_core::{Invalid, OrgUnitId, OrgUnitType};
use haidang_text::{collation_key, fold};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub unit_type: OrgUnitType,
    pub parent_id: Option<OrgUnitId>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub area_km2: Option<f64>,
    pub demo_code: bool,
    pub contact: Contact,
}

#[derive(Debug, Clone, Default)]
pub struct OrgUnitPatch {
    pub name: Option<String>,
    pub short_name: Option<Option<String>>,
    pub parent_id: Option<OrgUnitId>,
    pub lat: Option<Option<f64>>,
    pub lon: Option<Option<f64>>,
    pub contact: Option<Contact>,
}

#[derive(Debug, Clone, Default)]
pub struct OrgUnitFilter {
    pub parent: Option<OrgUnitId>,
    pub unit_type: Option<OrgUnitType>,
    pub q: Option<String>,
    /// Subtree roots the reader may see; `None` for everything.
    pub scope: Option<Vec<OrgUnitId>>,
    pub limit: usize,
    pub after: Option<Cursor>,
}

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    code: String,
    name: String,
    short_name: Option<String>,
    unit_type: String,
    parent_id: Option<i64>,
    path: String,
    name_sort: String,
    lat: Option<f64>,
    lon: Option<f64>,
    area_km2: Option<f64>,
    boundary_kind: String,
    demo_code: i64,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    children: i64,
}

#[derive(sqlx::FromRow)]
struct UnitAreaRow {
    #[sqlx(flatten)]
    unit: UnitRow,
    boundary: Option<String>,
}

const UNIT_COLUMNS: &str = "u.id, u.code, u.name, u.short_name, u.unit_type, u.parent_id, u.path, u.name_sort, \
    u.lat, u.lon, u.area_km2, u.boundary_kind, u.demo_code, u.phone, u.email, u.address, \
    (SELECT COUNT(*) FROM org_units c WHERE c.parent_id = u.id) AS children";

fn unit(r: UnitRow) -> Result<(OrgUnit, String), StoreError> {
    let unit_type =
        OrgUnitType::parse(&r.unit_type).ok_or_else(|| StoreError::Corrupt(format!("unit type {:?}", r.unit_type)))?;
    let level = r.path.matches('/').count().saturating_sub(2) as u32;
    Ok((
        OrgUnit {
            id: OrgUnitId(r.id),
            code: r.code,
            name: r.name,
            short_name: r.short_name,
            unit_type,
            parent_id: r.parent_id.map(OrgUnitId),
            level,
            lat: r.lat,
            lon: r.lon,
            area_km2: r.area_km2,
            boundary: BoundaryKind::parse(&r.boundary_kind),
            demo_code: r.demo_code != 0,
            children: r.children,
            contact: Contact { phone: r.phone, email: r.email, address: r.address },
        },
        r.name_sort,
    ))
}

fn check_position(lat: Option<f64>, lon: Option<f64>) -> Result<(), Invalid> {
    match (lat, lon) {
        (Some(la), Some(lo)) if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo) => Ok(()),
        (None, None) => Ok(()),
        (Some(_), Some(_)) => Err(Invalid::field("lat", "latitude must be in −90…90 and longitude in −180…180")),
        _ => Err(Invalid::field("lat", "latitude and longitude go together")),
    }
}

async fn parent_info(conn: &mut SqliteConnection, parent: OrgUnitId) -> Result<(String, OrgUnitType), StoreError> {
    let row: Option<(String, String)> = sqlx::query_as("SELECT path, unit_type FROM org_units WHERE id = $1")
        .bind(parent.0)
        .fetch_optional(&mut *conn)
        .await?;
    let (path, t) = row.ok_or_else(|| Invalid::field("parent_id", "no such unit"))?;
    let t = OrgUnitType::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("unit type {t:?}")))?;
    Ok((path, t))
}

impl Store {
    /// Creates a unit; a unit without a parent is the province root, and there is only one.
    pub async fn create_org_unit(&self, ctx: &AuditCtx, new: NewOrgUnit) -> Result<OrgUnit, StoreError> {
        check_position(new.lat, new.lon)?;
        let mut tx = self.writer.begin().await?;
        let parent_path = match new.parent_id {
            Some(p) => {
                let (path, parent_type) = parent_info(&mut tx, p).await?;
                if !new.unit_type.may_be_child_of(parent_type) {
                    return Err(Invalid::field(
                        "parent_id",
                        format!("a {} cannot be placed under a {}", new.unit_type.as_str(), parent_type.as_str()),
                    )
                    .into());
                }
                path
            }
            None => {
                let roots: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM org_units WHERE parent_id IS NULL")
                    .fetch_one(&mut *tx)
                    .await?;
                if roots > 0 || new.unit_type != OrgUnitType::Province {
                    return Err(Invalid::field(
                        "parent_id",
                        "only the province has no parent, and there is one province",
                    )
                    .into());
                }
                "/".to_owned()
            }
        };
        let now = ts(self.clock.now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO org_units (code, name, short_name, unit_type, parent_id, path, name_fold, name_sort,
                 lat, lon, area_km2, demo_code, phone, email, address, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
        )
        .bind(&new.code)
        .bind(&new.name)
        .bind(&new.short_name)
        .bind(new.unit_type.as_str())
        .bind(new.parent_id.map(|p| p.0))
        .bind(fold(&format!("{} {}", new.name, new.code)))
        .bind(collation_key(&new.name))
        .bind(new.lat)
        .bind(new.lon)
        .bind(new.area_km2)
        .bind(new.demo_code as i64)
        .bind(&new.contact.phone)
        .bind(&new.contact.email)
        .bind(&new.contact.address)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("a unit with code {} exists", new.code)),
            other => other,
        })?;
        sqlx::query("UPDATE org_units SET path = $1 WHERE id = $2")
            .bind(format!("{parent_path}{id}/"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let created = self.org_unit_in(&mut tx, OrgUnitId(id)).await?;
        append(
            &mut tx,
            ctx,
            Change::new("org_unit.create", "org_unit", id).unit(created.id).after(&created),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn update_org_unit(
        &self,
        ctx: &AuditCtx,
        id: OrgUnitId,
        patch: OrgUnitPatch,
    ) -> Result<OrgUnit, StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = self.org_unit_in(&mut tx, id).await?;
        let lat = patch.lat.unwrap_or(before.lat);
        let lon = patch.lon.unwrap_or(before.lon);
        check_position(lat, lon)?;
        let name = patch.name.clone().unwrap_or_else(|| before.name.clone());
        let contact = patch.contact.clone().unwrap_or_else(|| before.contact.clone());
        sqlx::query(
            "UPDATE org_units SET name = $1, short_name = $2, name_fold = $3, name_sort = $4, lat = $5, lon = $6,
                 phone = $7, email = $8, address = $9, updated_at = $10 WHERE id = $11",
        )
        .bind(&name)
        .bind(patch.short_name.clone().unwrap_or_else(|| before.short_name.clone()))
        .bind(fold(&format!("{} {}", name, before.code)))
        .bind(collation_key(&name))
        .bind(lat)
        .bind(lon)
        .bind(&contact.phone)
        .bind(&contact.email)
        .bind(&contact.address)
        .bind(ts(self.clock.now()))
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if let Some(new_parent) = patch.parent_id.filter(|p| Some(*p) != before.parent_id) {
            self.move_unit(&mut tx, &before, new_parent).await?;
        }
        let after = self.org_unit_in(&mut tx, id).await?;
        append(
            &mut tx,
            ctx,
            Change::new("org_unit.update", "org_unit", id).unit(id).before(&before).after(&after),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn move_unit(
        &self,
        tx: &mut SqliteConnection,
        unit: &OrgUnit,
        new_parent: OrgUnitId,
    ) -> Result<(), StoreError> {
        let (parent_path, parent_type) = parent_info(tx, new_parent).await?;
        let old_path: String =
            sqlx::query_scalar("SELECT path FROM org_units WHERE id = $1").bind(unit.id.0).fetch_one(&mut *tx).await?;
        if parent_path.starts_with(&old_path) {
            return Err(Invalid::field("parent_id", "a unit cannot be moved under itself").into());
        }
        if !unit.unit_type.may_be_child_of(parent_type) {
            return Err(Invalid::field(
                "parent_id",
                format!("a {} cannot be placed under a {}", unit.unit_type.as_str(), parent_type.as_str()),
            )
            .into());
        }
        let new_path = format!("{parent_path}{}/", unit.id.0);
        sqlx::query("UPDATE org_units SET parent_id = $1 WHERE id = $2")
            .bind(new_parent.0)
            .bind(unit.id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE org_units SET path = $1 || substr(path, $2) WHERE path LIKE $3 ESCAPE '\\'")
            .bind(&new_path)
            .bind(old_path.chars().count() as i64 + 1)
            .bind(format!("{}%", escape_like(&old_path)))
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    async fn org_unit_in(&self, conn: &mut SqliteConnection, id: OrgUnitId) -> Result<OrgUnit, StoreError> {
        let row: UnitRow = sqlx::query_as(&format!("SELECT {UNIT_COLUMNS} FROM org_units u WHERE u.id = $1"))
            .bind(id.0)
            .fetch_one(conn)
            .await?;
        Ok(unit(row)?.0)
    }

    pub async fn org_unit(&self, id: OrgUnitId) -> Result<OrgUnit, StoreError> {
        let mut conn = self.reader.acquire().await?;
        self.org_unit_in(&mut conn, id).await
    }

    pub async fn org_unit_by_code(&self, code: &str) -> Result<OrgUnit, StoreError> {
        let id: i64 =
            sqlx::query_scalar("SELECT id FROM org_units WHERE code = $1").bind(code).fetch_one(&self.reader).await?;
        self.org_unit(OrgUnitId(id)).await
    }

    /// The province: the unit without a parent.
    pub async fn root_unit(&self) -> Result<Option<OrgUnit>, StoreError> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM org_units WHERE parent_id IS NULL").fetch_optional(&self.reader).await?;
        match id {
            Some(id) => Ok(Some(self.org_unit(OrgUnitId(id)).await?)),
            None => Ok(None),
        }
    }

    /// Short references for many units at once, root first when given a lineage.
    pub async fn unit_refs(&self, ids: &[OrgUnitId]) -> Result<Vec<UnitRef>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (code, name): (String, String) = sqlx::query_as("SELECT code, name FROM org_units WHERE id = $1")
                .bind(id.0)
                .fetch_one(&self.reader)
                .await?;
            out.push(UnitRef { id: *id, code, name });
        }
        Ok(out)
    }

    /// Lists units in Vietnamese name order.
    pub async fn list_org_units(&self, f: &OrgUnitFilter) -> Result<Page<OrgUnit>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {UNIT_COLUMNS} FROM org_units u WHERE 1 = 1"));
        push_unit_filter(&mut qb, f);
        if let Some(c) = &f.after {
            qb.push(" AND (u.name_sort > ").push_bind(c.key.clone());
            qb.push(" OR (u.name_sort = ").push_bind(c.key.clone());
            qb.push(" AND u.id > ").push_bind(c.id).push("))");
        }
        qb.push(" ORDER BY u.name_sort, u.id LIMIT ").push_bind((f.limit + 1) as i64);
        let rows: Vec<UnitRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        let items = rows.into_iter().map(unit).collect::<Result<Vec<_>, _>>()?;
        let page = Page::from_rows(items, f.limit, |(u, sort)| Cursor { key: sort.clone(), id: u.id.0 });
        Ok(Page { items: page.items.into_iter().map(|(u, _)| u).collect(), next_cursor: page.next_cursor })
    }

    /// Every unit matching the filter (no paging), parents before children.
    pub async fn org_units_tree(&self, f: &OrgUnitFilter) -> Result<Vec<OrgUnit>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {UNIT_COLUMNS} FROM org_units u WHERE 1 = 1"));
        push_unit_filter(&mut qb, f);
        qb.push(" ORDER BY length(u.path) - length(replace(u.path, '/', '')), u.name_sort, u.id");
        let rows: Vec<UnitRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(|r| unit(r).map(|(u, _)| u)).collect()
    }

    /// Units with their stored area geometry (GeoJSON text), for maps and point location.
    pub async fn org_unit_areas(&self, f: &OrgUnitFilter) -> Result<Vec<(OrgUnit, Option<String>)>, StoreError> {
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT {UNIT_COLUMNS}, u.boundary FROM org_units u WHERE 1 = 1"));
        push_unit_filter(&mut qb, f);
        qb.push(" ORDER BY u.name_sort, u.id");
        let rows: Vec<UnitAreaRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(|r| Ok((unit(r.unit)?.0, r.boundary))).collect()
    }

    /// Replaces the area of a unit (approximate or official) in one audited change.
    pub async fn set_boundary(
        &self,
        ctx: &AuditCtx,
        id: OrgUnitId,
        geojson: &str,
        kind: BoundaryKind,
        area_km2: Option<f64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let before: Option<String> = sqlx::query_scalar("SELECT boundary_kind FROM org_units WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let before = before.ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE org_units SET boundary = $1, boundary_kind = $2, area_km2 = COALESCE($3, area_km2), updated_at = $4 WHERE id = $5")
            .bind(geojson)
            .bind(kind.as_str())
            .bind(area_km2)
            .bind(ts(self.clock.now()))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            Change::new("org_unit.boundary", "org_unit", id)
                .unit(id)
                .before(serde_json::json!({ "boundary": before }))
                .after(serde_json::json!({ "boundary": kind.as_str(), "bytes": geojson.len() })),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn count_org_units(&self, unit_type: Option<OrgUnitType>) -> Result<i64, StoreError> {
        let n = match unit_type {
            Some(t) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM org_units WHERE unit_type = $1")
                    .bind(t.as_str())
                    .fetch_one(&self.reader)
                    .await?
            }
            None => sqlx::query_scalar("SELECT COUNT(*) FROM org_units").fetch_one(&self.reader).await?,
        };
        Ok(n)
    }
}

fn push_unit_filter(qb: &mut QueryBuilder<'_, Sqlite>, f: &OrgUnitFilter) {
    if let Some(p) = f.parent {
        qb.push(" AND u.parent_id = ").push_bind(p.0);
    }
    if let Some(t) = f.unit_type {
        qb.push(" AND u.unit_type = ").push_bind(t.as_str());
    }
    if let Some(q) = f.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
        qb.push(" AND u.name_fold LIKE ").push_bind(format!("%{}%", escape_like(&q))).push(" ESCAPE '\\'");
    }
    if let Some(roots) = &f.scope {
        push_scope(qb, "u.id", roots);
    }
}

impl Store {
    /// The extent of the centres of a unit and the units below it: `[[south, west], [north, east]]`,
    /// padded by a little over 5 km so that border communes fit on the map.
    pub async fn unit_bounds(&self, unit: Option<OrgUnitId>) -> Result<Option<[[f64; 2]; 2]>, StoreError> {
        let Some(unit) = unit else { return Ok(None) };
        let row: (Option<f64>, Option<f64>, Option<f64>, Option<f64>) = sqlx::query_as(
            "SELECT MIN(u.lat), MIN(u.lon), MAX(u.lat), MAX(u.lon) FROM org_units u JOIN org_units r ON u.path LIKE r.path || '%' \
             WHERE r.id = $1 AND u.lat IS NOT NULL",
        )
        .bind(unit.0)
        .fetch_one(&self.reader)
        .await?;
        Ok(match row {
            (Some(s), Some(w), Some(n), Some(e)) => Some([[s - 0.05, w - 0.05], [n + 0.05, e + 0.05]]),
            _ => None,
        })
    }
}
