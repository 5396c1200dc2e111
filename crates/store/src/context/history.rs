//! Attribute history: raw instances for the temporal API, hourly aggregates, and the
//! down-sampling that turns old raw rows into aggregates.

use chrono::{DateTime, Utc};
use haidang_ngsi::{AttrKind, Attribute};
use serde_json::Value;
use sqlx::{QueryBuilder, Sqlite};

use super::{from_millis, millis};
use crate::{Store, StoreError};

/// `timerel` of the temporal API, on the observation time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeBound {
    Before(DateTime<Utc>),
    After(DateTime<Utc>),
    Between(DateTime<Utc>, DateTime<Utc>),
}

impl TimeBound {
    /// The bound on `column` (a time in milliseconds).
    fn push_sql(&self, q: &mut QueryBuilder<'_, Sqlite>, column: &str) {
        match *self {
            Self::Before(t) => q.push(format!(" AND {column} < ")).push_bind(millis(t)),
            Self::After(t) => q.push(format!(" AND {column} >= ")).push_bind(millis(t)),
            Self::Between(a, b) => q
                .push(format!(" AND {column} >= "))
                .push_bind(millis(a))
                .push(format!(" AND {column} < "))
                .push_bind(millis(b)),
        };
    }
}

/// The history of one entity's attribute instances.
pub struct HistoryQuery<'a> {
    pub entity: i64,
    /// (expanded attribute name, dataset) pairs to read; `None` dataset = the default instance.
    pub series: &'a [(String, Option<String>)],
    pub time: Option<TimeBound>,
    /// Only the last `n` instances of each series (still returned oldest first).
    pub last_n: Option<usize>,
    /// At most this many instances per series.
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub attr: String,
    /// Increasing with every write; the temporal API's `instanceId`.
    pub seq: i64,
    pub instance: Attribute,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HourlyRow {
    pub attr: String,
    pub dataset: Option<String>,
    pub hour: DateTime<Utc>,
    pub n: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub last: f64,
}

/// observed_at, seq, modified_at, value, doc
type RawRow = (i64, i64, i64, Option<SqlValue>, Option<String>);

impl Store {
    pub async fn context_history(&self, query: &HistoryQuery<'_>) -> Result<Vec<HistoryRow>, StoreError> {
        let mut out = Vec::new();
        for (attr, dataset) in query.series {
            let Some(attr_id) = self.context_name_id(attr).await? else { continue };
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT observed_at, seq, modified_at, value, doc FROM ctx_history WHERE entity = ",
            );
            q.push_bind(query.entity)
                .push(" AND attr = ")
                .push_bind(attr_id)
                .push(" AND dataset = ")
                .push_bind(dataset.clone().unwrap_or_default());
            if let Some(t) = &query.time {
                t.push_sql(&mut q, "observed_at");
            }
            let take = query.last_n.unwrap_or(query.limit).min(query.limit);
            let newest_first = query.last_n.is_some();
            q.push(if newest_first { " ORDER BY observed_at DESC, seq DESC" } else { " ORDER BY observed_at, seq" });
            q.push(" LIMIT ").push_bind(take as i64);
            let mut rows: Vec<RawRow> = q.build_query_as().fetch_all(&self.reader).await?;
            if newest_first {
                rows.reverse();
            }
            for raw in rows {
                let seq = raw.1;
                out.push(HistoryRow { attr: attr.clone(), seq, instance: instance_from_row(raw, dataset)? });
            }
        }
        Ok(out)
    }

    /// Hourly aggregates of one entity's numeric series.
    pub async fn context_hourly(
        &self,
        entity: i64,
        series: &[(String, Option<String>)],
        time: Option<TimeBound>,
    ) -> Result<Vec<HourlyRow>, StoreError> {
        let mut out = Vec::new();
        for (attr, dataset) in series {
            let Some(attr_id) = self.context_name_id(attr).await? else { continue };
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT hour, n, sum, min, max, last FROM ctx_history_hourly WHERE entity = ",
            );
            q.push_bind(entity)
                .push(" AND attr = ")
                .push_bind(attr_id)
                .push(" AND dataset = ")
                .push_bind(dataset.clone().unwrap_or_default());
            if let Some(t) = time {
                t.push_sql(&mut q, "hour");
            }
            q.push(" ORDER BY hour");
            let rows: Vec<(i64, i64, f64, f64, f64, f64)> = q.build_query_as().fetch_all(&self.reader).await?;
            out.extend(rows.into_iter().map(|(hour, n, sum, min, max, last)| HourlyRow {
                attr: attr.clone(),
                dataset: dataset.clone(),
                hour: from_millis(hour),
                n: n as u64,
                sum,
                min,
                max,
                last,
            }));
        }
        Ok(out)
    }

    /// Folds raw numeric history of entities of `entity_type` observed before `raw_before`
    /// into hourly aggregates and deletes those raw rows; deletes aggregates older than
    /// `hourly_before`. One transaction per call; returns (raw rows folded, aggregates deleted).
    pub async fn downsample_context_history(
        &self,
        tenant: &str,
        entity_type: &str,
        raw_before: DateTime<Utc>,
        hourly_before: Option<DateTime<Utc>>,
    ) -> Result<(u64, u64), StoreError> {
        let Some(type_id) = self.context_name_id(entity_type).await? else { return Ok((0, 0)) };
        let mut tx = self.writer.begin().await?;
        let entities = "SELECT t.entity FROM ctx_entity_types t JOIN ctx_entities e ON e.pk = t.entity
                        WHERE t.type = $1 AND e.tenant = $2";
        // Numbers only: text values have no mean; they are kept raw until deleted with the
        // entity or by a shorter policy.
        let fold = format!(
            "INSERT INTO ctx_history_hourly (entity, attr, dataset, hour, n, sum, min, max, last)
             SELECT entity, attr, dataset, (observed_at / 3600000) * 3600000 AS h, COUNT(*), SUM(value), MIN(value),
                    MAX(value), (SELECT value FROM ctx_history l WHERE l.entity = r.entity AND l.attr = r.attr
                                 AND l.dataset = r.dataset AND l.observed_at < $3
                                 AND (l.observed_at / 3600000) * 3600000 = (r.observed_at / 3600000) * 3600000
                                 ORDER BY l.observed_at DESC, l.seq DESC LIMIT 1)
             FROM ctx_history r
             WHERE entity IN ({entities}) AND observed_at < $3 AND typeof(value) IN ('integer', 'real')
             GROUP BY entity, attr, dataset, h
             ON CONFLICT (entity, attr, dataset, hour) DO UPDATE SET
                n = n + excluded.n, sum = sum + excluded.sum, min = MIN(min, excluded.min),
                max = MAX(max, excluded.max), last = excluded.last"
        );
        sqlx::query(&fold).bind(type_id).bind(tenant).bind(millis(raw_before)).execute(&mut *tx).await?;
        let folded = sqlx::query(&format!("DELETE FROM ctx_history WHERE entity IN ({entities}) AND observed_at < $3"))
            .bind(type_id)
            .bind(tenant)
            .bind(millis(raw_before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut dropped = 0;
        if let Some(before) = hourly_before {
            dropped =
                sqlx::query(&format!("DELETE FROM ctx_history_hourly WHERE entity IN ({entities}) AND hour < $3"))
                    .bind(type_id)
                    .bind(tenant)
                    .bind(millis(before))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        tx.commit().await?;
        Ok((folded, dropped))
    }

    async fn context_name_id(&self, iri: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM ctx_names WHERE iri = $1").bind(iri).fetch_optional(&self.reader).await?)
    }
}

/// A `value` column: SQLite gives back whatever type was stored.
#[derive(Debug)]
enum SqlValue {
    Int(i64),
    Real(f64),
    Text(String),
}

impl SqlValue {
    fn into_json(self) -> Value {
        match self {
            Self::Int(i) => Value::from(i),
            Self::Real(f) => serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
            Self::Text(s) => Value::String(s),
        }
    }
}

impl sqlx::Type<Sqlite> for SqlValue {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <f64 as sqlx::Type<Sqlite>>::type_info()
    }

    fn compatible(_: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        true
    }
}

impl<'r> sqlx::Decode<'r, Sqlite> for SqlValue {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        use sqlx::{TypeInfo, ValueRef};
        let kind = value.type_info().name().to_owned();
        Ok(match kind.as_str() {
            "INTEGER" => Self::Int(<i64 as sqlx::Decode<Sqlite>>::decode(value)?),
            "REAL" => Self::Real(<f64 as sqlx::Decode<Sqlite>>::decode(value)?),
            _ => Self::Text(<String as sqlx::Decode<Sqlite>>::decode(value)?),
        })
    }
}

/// Rebuilds an instance from its row: a plain value with maybe a unit, or the whole stored
/// instance.
fn instance_from_row(
    (observed, _seq, modified, value, doc): RawRow,
    dataset: &Option<String>,
) -> Result<Attribute, StoreError> {
    let doc: Option<Value> =
        doc.map(|d| serde_json::from_str(&d)).transpose().map_err(|e| StoreError::Corrupt(format!("history: {e}")))?;
    let observed_at = (observed != modified).then(|| from_millis(observed));
    match (value.map(SqlValue::into_json), doc) {
        (Some(value), doc) => Ok(Attribute {
            kind: AttrKind::Property,
            value,
            dataset_id: dataset.clone(),
            observed_at,
            unit_code: doc.as_ref().and_then(|d| d.get("unitCode")).and_then(Value::as_str).map(str::to_owned),
            object_type: None,
            sub_attrs: Default::default(),
            created_at: None,
            modified_at: Some(from_millis(modified)),
            ..Default::default()
        }),
        (None, Some(doc)) => {
            Attribute::from_stored(&doc).map_err(|e| StoreError::Corrupt(format!("history instance: {e}")))
        }
        (None, None) => Err(StoreError::Corrupt("history row without value".into())),
    }
}
