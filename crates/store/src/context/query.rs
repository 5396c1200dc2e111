//! Reading entities: by id, by query (type, id, attribute presence, bounding box, visibility),
//! and type / attribute discovery.

use futures_lite::StreamExt;
use geo::Rect;
use haidang_core::OrgUnitId;
use haidang_ngsi::Entity;
use haidang_ngsi::query::{CmpOp, NumericBound};
use sqlx::{QueryBuilder, Sqlite};

use super::writer::parse_stored;
use crate::{Store, StoreError};

/// What a reader may see: entities owned by `units` (`None`: every unit) or of an open type,
/// and only of `types` when the reader's token is limited to some.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    pub units: Option<Vec<OrgUnitId>>,
    pub open_types: Vec<String>,
    pub types: Option<Vec<String>>,
}

impl Visibility {
    pub fn everything() -> Self {
        Self::default()
    }

    fn push_sql(&self, q: &mut QueryBuilder<'_, Sqlite>) {
        if let Some(units) = &self.units {
            q.push(" AND (e.owner_unit IN (");
            let mut sep = q.separated(", ");
            sep.push("NULL");
            for u in units {
                sep.push_bind(u.0);
            }
            q.push(")");
            if !self.open_types.is_empty() {
                q.push(" OR ");
                push_has_type(q, &self.open_types);
            }
            q.push(")");
        }
        if let Some(types) = &self.types {
            q.push(" AND ");
            push_has_type(q, types);
        }
    }
}

fn push_has_type(q: &mut QueryBuilder<'_, Sqlite>, types: &[String]) {
    q.push("e.pk IN (SELECT t.entity FROM ctx_entity_types t JOIN ctx_names n ON n.id = t.type WHERE n.iri IN (");
    let mut sep = q.separated(", ");
    sep.push("NULL");
    for t in types {
        sep.push_bind(t.clone());
    }
    q.push("))");
}

/// A query over one tenant's entities. The SQL narrows by ids, types, attributes, box and
/// visibility; `filter` (the `q`, `idPattern` and exact geo checks) runs on what remains.
pub struct EntityQuery<'a> {
    pub tenant: &'a str,
    pub ids: Option<&'a [String]>,
    /// Expanded type IRIs: entities of any of them.
    pub types: Option<&'a [String]>,
    /// Expanded attribute IRIs: entities having any of them.
    pub attrs: Option<&'a [String]>,
    pub bbox: Option<Rect<f64>>,
    pub visibility: &'a Visibility,
    pub filter: Option<&'a (dyn Fn(&Entity) -> bool + Sync)>,
    /// Numeric conditions of the `q` filter that SQL checks first (`Query::numeric_bounds`),
    /// so the exact filter parses only the entities that can pass them.
    pub bounds: &'a [NumericBound],
    pub limit: usize,
    pub offset: usize,
    /// Also count every match (`count=true`); without a filter this is one SQL count.
    pub count: bool,
}

#[derive(Debug, Clone)]
pub struct EntityRow {
    pub entity: Entity,
    pub owner: Option<OrgUnitId>,
}

#[derive(Debug, Clone, Default)]
pub struct QueryPage {
    pub entities: Vec<EntityRow>,
    pub total: Option<u64>,
}

impl Store {
    /// One entity if it exists and `visibility` lets the reader see it.
    pub async fn context_entity(
        &self,
        tenant: &str,
        id: &str,
        visibility: &Visibility,
    ) -> Result<Option<EntityRow>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT e.owner_unit, e.doc FROM ctx_entities e WHERE e.tenant = ");
        q.push_bind(tenant).push(" AND e.id = ").push_bind(id);
        visibility.push_sql(&mut q);
        let row: Option<(Option<i64>, String)> = q.build_query_as().fetch_optional(&self.reader).await?;
        row.map(|(owner, doc)| Ok(EntityRow { entity: parse_stored(&doc)?, owner: owner.map(OrgUnitId) })).transpose()
    }

    /// The internal key of an entity (for history), regardless of visibility.
    pub async fn context_entity_key(&self, tenant: &str, id: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT pk FROM ctx_entities WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?)
    }

    /// Whether the tenant exists (has ever been written to).
    pub async fn context_tenant_exists(&self, tenant: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT 1 FROM ctx_tenants WHERE name = $1")
            .bind(tenant)
            .fetch_optional(&self.reader)
            .await?
            .is_some())
    }

    pub async fn query_context(&self, query: &EntityQuery<'_>) -> Result<QueryPage, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT e.owner_unit, e.doc FROM ctx_entities e");
        push_where(&mut q, query);
        q.push(" ORDER BY e.tenant, e.id");
        let Some(filter) = query.filter else {
            q.push(" LIMIT ").push_bind(query.limit as i64).push(" OFFSET ").push_bind(query.offset as i64);
            let rows: Vec<(Option<i64>, String)> = q.build_query_as().fetch_all(&self.reader).await?;
            let entities = rows
                .into_iter()
                .map(|(owner, doc)| Ok(EntityRow { entity: parse_stored(&doc)?, owner: owner.map(OrgUnitId) }))
                .collect::<Result<Vec<_>, StoreError>>()?;
            let total = if query.count {
                let mut c = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM ctx_entities e");
                push_where(&mut c, query);
                Some(c.build_query_scalar::<i64>().fetch_one(&self.reader).await? as u64)
            } else {
                None
            };
            return Ok(QueryPage { entities, total });
        };
        let mut rows = q.build_query_as::<(Option<i64>, String)>().fetch(&self.reader);
        let mut page = QueryPage::default();
        let mut matched: u64 = 0;
        while let Some(row) = rows.next().await {
            let (owner, doc) = row?;
            let entity = parse_stored(&doc)?;
            if !filter(&entity) {
                continue;
            }
            matched += 1;
            if matched as usize > query.offset && page.entities.len() < query.limit {
                page.entities.push(EntityRow { entity, owner: owner.map(OrgUnitId) });
            } else if !query.count && page.entities.len() >= query.limit {
                break;
            }
        }
        if query.count {
            page.total = Some(matched);
        }
        Ok(page)
    }

    /// Entity types present (expanded) with how many visible entities have each.
    pub async fn context_types(&self, tenant: &str, visibility: &Visibility) -> Result<Vec<(String, u64)>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT n.iri, COUNT(*) FROM ctx_entity_types t JOIN ctx_names n ON n.id = t.type
             JOIN ctx_entities e ON e.pk = t.entity WHERE e.tenant = ",
        );
        q.push_bind(tenant);
        visibility.push_sql(&mut q);
        q.push(" GROUP BY n.iri ORDER BY n.iri");
        let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&self.reader).await?;
        Ok(rows.into_iter().map(|(t, n)| (t, n as u64)).collect())
    }

    /// Attribute names present (expanded), each with the types of the entities that have it
    /// and how many visible entities have it; only for entities of `types` if given.
    pub async fn context_attributes(
        &self,
        tenant: &str,
        visibility: &Visibility,
        types: Option<&[String]>,
    ) -> Result<Vec<(String, Vec<String>, u64)>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT n.iri, tn.iri, COUNT(*) FROM ctx_entity_attrs a JOIN ctx_names n ON n.id = a.attr
             JOIN ctx_entities e ON e.pk = a.entity
             JOIN ctx_entity_types t ON t.entity = e.pk JOIN ctx_names tn ON tn.id = t.type
             WHERE e.tenant = ",
        );
        q.push_bind(tenant);
        visibility.push_sql(&mut q);
        if let Some(types) = types {
            q.push(" AND ");
            push_has_type(&mut q, types);
        }
        q.push(" GROUP BY n.iri, tn.iri ORDER BY n.iri, tn.iri");
        let rows: Vec<(String, String, i64)> = q.build_query_as().fetch_all(&self.reader).await?;
        let mut out: Vec<(String, Vec<String>, u64)> = Vec::new();
        for (attr, ty, n) in rows {
            match out.last_mut() {
                Some(last) if last.0 == attr => {
                    last.1.push(ty);
                    // An entity with two types is counted once per type; keep the largest.
                    last.2 = last.2.max(n as u64);
                }
                _ => out.push((attr, vec![ty], n as u64)),
            }
        }
        Ok(out)
    }
}

fn push_where<'a>(q: &mut QueryBuilder<'a, Sqlite>, query: &EntityQuery<'a>) {
    q.push(" WHERE e.tenant = ").push_bind(query.tenant.to_owned());
    if let Some(ids) = query.ids {
        q.push(" AND e.id IN (");
        let mut sep = q.separated(", ");
        sep.push("NULL");
        for id in ids {
            sep.push_bind(id.clone());
        }
        q.push(")");
    }
    if let Some(types) = query.types {
        q.push(" AND ");
        push_has_type(q, types);
    }
    if let Some(attrs) = query.attrs {
        q.push(
            " AND e.pk IN (SELECT a.entity FROM ctx_entity_attrs a JOIN ctx_names n ON n.id = a.attr WHERE n.iri IN (",
        );
        let mut sep = q.separated(", ");
        sep.push("NULL");
        for a in attrs {
            sep.push_bind(a.clone());
        }
        q.push("))");
    }
    if let Some(b) = query.bbox {
        q.push(" AND e.pk IN (SELECT pk FROM ctx_entity_geo WHERE max_lon >= ")
            .push_bind(b.min().x)
            .push(" AND min_lon <= ")
            .push_bind(b.max().x)
            .push(" AND max_lat >= ")
            .push_bind(b.min().y)
            .push(" AND min_lat <= ")
            .push_bind(b.max().y)
            .push(")");
    }
    for b in query.bounds {
        push_bound(q, b);
    }
    query.visibility.push_sql(q);
}

/// Some instance of the attribute holds a number passing `b`, or something that is not a
/// number (which only the exact filter can judge).
fn push_bound(q: &mut QueryBuilder<'_, Sqlite>, b: &NumericBound) {
    let attr_path = format!("$.\"{}\"", b.attr);
    let value_path = format!("$.\"{}\"", haidang_ngsi::entity::names::HAS_VALUE);
    let op = match b.op {
        CmpOp::Eq | CmpOp::Ne => "=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
    };
    q.push(" AND EXISTS (SELECT 1 FROM json_each(e.doc, ")
        .push_bind(attr_path)
        .push(") j WHERE COALESCE(json_type(j.value, ")
        .push_bind(value_path.clone())
        .push("), 'none') NOT IN ('integer', 'real') OR json_extract(j.value, ")
        .push_bind(value_path)
        .push(format!(") {op} "))
        .push_bind(b.value)
        .push(")");
}

impl Store {
    /// (tenant, expanded type) of every entity type marked open.
    pub async fn open_context_types(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT tenant, type FROM ctx_type_policies WHERE open = 1").fetch_all(&self.reader).await?)
    }
}
