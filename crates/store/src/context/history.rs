//! Attribute history for the temporal API: the raw instances of an entity's attributes, the
//! hourly aggregates that replace them once down-sampled, and aggregations over both.
//!
//! Every instance is counted once: either as a raw row of `ctx_history` or inside the hourly
//! row it was folded into (the fold deletes the raw rows in the same transaction, see
//! `retention.rs`). An aggregation therefore reads raw rows and hourly rows of the interval and
//! adds them up; hourly rows are only used for the observation time (`observedAt`), the time
//! they are keyed by.

use chrono::{DateTime, Utc};
use futures_lite::StreamExt;
use haidang_ngsi::temporal::{AggregatedSeries, Aggregation, Aggregator, Sample, Series};
use haidang_ngsi::{AttrKind, Attribute};
use serde_json::Value;
use sqlx::{QueryBuilder, Sqlite};

use super::{from_millis, millis};
use crate::{Store, StoreError};

/// Which time of a history row a query bounds and orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeColumn {
    /// `observedAt`, or the time of the change when the writer gave none.
    #[default]
    Observed,
    /// When the instance was recorded (the temporal API's `createdAt` and `modifiedAt`).
    Recorded,
}

impl TimeColumn {
    fn sql(self) -> &'static str {
        match self {
            Self::Observed => "observed_at",
            Self::Recorded => "modified_at",
        }
    }
}

/// A half-open time interval `[start, end)`; `None` ends are open.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TimeBound {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl TimeBound {
    fn push_sql(&self, q: &mut QueryBuilder<'_, Sqlite>, column: &str) {
        if let Some(s) = self.start {
            q.push(format!(" AND {column} >= ")).push_bind(millis(s));
        }
        if let Some(e) = self.end {
            q.push(format!(" AND {column} < ")).push_bind(millis(e));
        }
    }
}

/// The history of one entity's attributes.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery<'a> {
    pub entity: i64,
    /// Expanded attribute names; `None`: every attribute with history.
    pub attrs: Option<&'a [String]>,
    pub time: TimeBound,
    pub column: TimeColumn,
    /// Only the last `n` instances of each series (still returned oldest first).
    pub last_n: Option<usize>,
    /// At most this many instances per series; more is reported as `truncated`.
    pub limit: usize,
}

/// One attribute's (and datasetId's) instances, oldest first.
#[derive(Debug, Clone)]
pub struct HistorySeries {
    pub series: Series,
    /// More instances matched than `limit`: the oldest (or with `last_n`, the newest) `limit`
    /// are here.
    pub truncated: bool,
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
    pub sumsq: Option<f64>,
}

/// observed_at, seq, modified_at, value, doc, has_observed
type RawRow = (i64, i64, i64, Option<SqlValue>, Option<String>, Option<bool>);

/// A series: the attribute's name id and IRI, and the dataset ('' = default instance).
type SeriesKey = (i64, String, String);

const HISTORY: &str = "ctx_history";
const HOURLY: &str = "ctx_history_hourly";

impl Store {
    /// The instances of an entity's attributes, one [`HistorySeries`] per attribute and
    /// datasetId that has any history (in name order), each within `limit`.
    pub async fn context_history(&self, query: &HistoryQuery<'_>) -> Result<Vec<HistorySeries>, StoreError> {
        let column = query.column.sql();
        let mut out = Vec::new();
        for (attr_id, attr, dataset) in self.history_series(HISTORY, query.entity, query.attrs).await? {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT observed_at, seq, modified_at, value, doc, has_observed FROM ctx_history WHERE entity = ",
            );
            q.push_bind(query.entity)
                .push(" AND attr = ")
                .push_bind(attr_id)
                .push(" AND dataset = ")
                .push_bind(&dataset);
            query.time.push_sql(&mut q, column);
            let take = query.last_n.unwrap_or(query.limit).min(query.limit);
            let newest_first = query.last_n.is_some();
            let order = if newest_first { "DESC" } else { "ASC" };
            q.push(format!(" ORDER BY {column} {order}, seq {order} LIMIT ")).push_bind(take as i64 + 1);
            let mut rows: Vec<RawRow> = q.build_query_as().fetch_all(&self.reader).await?;
            // lastN within the limit is the answer, not a cut.
            let truncated = rows.len() > take && query.last_n.is_none_or(|n| n > query.limit);
            rows.truncate(take);
            if newest_first {
                rows.reverse();
            }
            let dataset_id = (!dataset.is_empty()).then_some(dataset);
            let instances = rows
                .into_iter()
                .map(|raw| Ok((raw.1, instance_from_row(raw, &dataset_id)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.push(HistorySeries { series: Series { attr, dataset_id, instances }, truncated });
        }
        Ok(out)
    }

    /// The hourly aggregates of an entity's numeric series in `time` (by the hour's start).
    pub async fn context_hourly(
        &self,
        entity: i64,
        attrs: Option<&[String]>,
        time: TimeBound,
    ) -> Result<Vec<HourlyRow>, StoreError> {
        let mut out = Vec::new();
        for (attr_id, attr, dataset) in self.history_series(HOURLY, entity, attrs).await? {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT hour, n, sum, min, max, last, sumsq FROM ctx_history_hourly WHERE entity = ",
            );
            q.push_bind(entity).push(" AND attr = ").push_bind(attr_id).push(" AND dataset = ").push_bind(&dataset);
            time.push_sql(&mut q, "hour");
            q.push(" ORDER BY hour");
            type Row = (i64, i64, f64, f64, f64, f64, Option<f64>);
            let rows: Vec<Row> = q.build_query_as().fetch_all(&self.reader).await?;
            let dataset = (!dataset.is_empty()).then_some(dataset);
            out.extend(rows.into_iter().map(|(hour, n, sum, min, max, last, sumsq)| HourlyRow {
                attr: attr.clone(),
                dataset: dataset.clone(),
                hour: from_millis(hour),
                n: n as u64,
                sum,
                min,
                max,
                last,
                sumsq,
            }));
        }
        Ok(out)
    }

    /// Aggregates an entity's history (`options=aggregatedValues`): raw rows and, for the
    /// observation time, hourly rows, streamed through an [`Aggregator`] per series. Periods
    /// start at `origin`, else at the earliest instance of the entity's requested attributes.
    /// `last_n` and `limit` of the query do not apply: every instance of the interval counts.
    pub async fn context_aggregate(
        &self,
        query: &HistoryQuery<'_>,
        aggregation: &Aggregation,
        origin: Option<DateTime<Utc>>,
    ) -> Result<Vec<AggregatedSeries>, StoreError> {
        let column = query.column.sql();
        let with_hourly = query.column == TimeColumn::Observed;
        let raw = self.history_series(HISTORY, query.entity, query.attrs).await?;
        let hourly = if with_hourly { self.history_series(HOURLY, query.entity, query.attrs).await? } else { vec![] };
        let mut keys: Vec<SeriesKey> = raw.iter().chain(hourly.iter()).cloned().collect();
        keys.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
        keys.dedup();
        let origin = match origin {
            Some(o) => o,
            None => {
                let mut first: Option<i64> = None;
                for (attr_id, _, dataset) in &keys {
                    for (table, col) in [(HISTORY, column), (HOURLY, "hour")] {
                        if table == HOURLY && !with_hourly {
                            continue;
                        }
                        let mut q =
                            QueryBuilder::<Sqlite>::new(format!("SELECT MIN({col}) FROM {table} WHERE entity = "));
                        q.push_bind(query.entity).push(" AND attr = ").push_bind(attr_id);
                        q.push(" AND dataset = ").push_bind(dataset);
                        query.time.push_sql(&mut q, col);
                        let t: Option<i64> = q.build_query_scalar().fetch_one(&self.reader).await?;
                        first = match (first, t) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                }
                match first {
                    Some(ms) => from_millis(ms),
                    None => return Ok(Vec::new()),
                }
            }
        };
        let mut out = Vec::new();
        for (attr_id, attr, dataset) in keys {
            let mut agg = Aggregator::new(aggregation.period, origin, query.time.end);
            let mut kind = AttrKind::Property;
            if raw.iter().any(|k| k.0 == attr_id && k.2 == dataset) {
                let mut q = QueryBuilder::<Sqlite>::new(format!(
                    "SELECT {column}, value, doc FROM ctx_history WHERE entity = "
                ));
                q.push_bind(query.entity)
                    .push(" AND attr = ")
                    .push_bind(attr_id)
                    .push(" AND dataset = ")
                    .push_bind(&dataset);
                query.time.push_sql(&mut q, column);
                let mut rows = q.build_query_as::<(i64, Option<SqlValue>, Option<String>)>().fetch(&self.reader);
                let mut first = true;
                while let Some(row) = rows.next().await {
                    let (at, value, doc) = row?;
                    let value = match (value, doc) {
                        (Some(v), _) => v.into_json(),
                        (None, Some(doc)) => {
                            let a = stored_instance(&doc)?;
                            if first {
                                kind = a.kind;
                            }
                            a.value
                        }
                        (None, None) => Value::Null,
                    };
                    first = false;
                    agg.add(&Sample::Value { at: from_millis(at), value: &value });
                }
            }
            if with_hourly && hourly.iter().any(|k| k.0 == attr_id && k.2 == dataset) {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "SELECT hour, n, sum, min, max, sumsq FROM ctx_history_hourly WHERE entity = ",
                );
                q.push_bind(query.entity)
                    .push(" AND attr = ")
                    .push_bind(attr_id)
                    .push(" AND dataset = ")
                    .push_bind(&dataset);
                query.time.push_sql(&mut q, "hour");
                type Row = (i64, i64, f64, f64, f64, Option<f64>);
                let rows: Vec<Row> = q.build_query_as().fetch_all(&self.reader).await?;
                for (hour, n, sum, min, max, sumsq) in rows {
                    agg.add(&Sample::Folded { at: from_millis(hour), n: n as u64, sum, sumsq, min, max });
                }
            }
            if agg.is_empty() {
                continue;
            }
            out.push(AggregatedSeries {
                attr,
                dataset_id: (!dataset.is_empty()).then_some(dataset),
                kind,
                values: agg.finish(&aggregation.methods),
            });
        }
        Ok(out)
    }

    /// The series (attribute, dataset) of an entity in `table`, in name order, found by index
    /// seeks (one per series) rather than a scan of the entity's rows.
    pub(super) async fn history_series(
        &self,
        table: &str,
        entity: i64,
        attrs: Option<&[String]>,
    ) -> Result<Vec<SeriesKey>, StoreError> {
        let mut ids: Vec<(i64, String)> = Vec::new();
        match attrs {
            Some(names) => {
                for name in names {
                    if let Some(id) = self.context_name_id(name).await? {
                        ids.push((id, name.clone()));
                    }
                }
            }
            None => {
                let next = format!("SELECT attr FROM {table} WHERE entity = $1 AND attr > $2 ORDER BY attr LIMIT 1");
                let mut after = i64::MIN;
                while let Some(id) =
                    sqlx::query_scalar::<_, i64>(&next).bind(entity).bind(after).fetch_optional(&self.reader).await?
                {
                    let iri: String = sqlx::query_scalar("SELECT iri FROM ctx_names WHERE id = $1")
                        .bind(id)
                        .fetch_one(&self.reader)
                        .await?;
                    ids.push((id, iri));
                    after = id;
                }
            }
        }
        ids.sort_by(|a, b| a.1.cmp(&b.1));
        let next = format!(
            "SELECT dataset FROM {table} WHERE entity = $1 AND attr = $2 AND dataset > $3 ORDER BY dataset LIMIT 1"
        );
        let first = format!("SELECT dataset FROM {table} WHERE entity = $1 AND attr = $2 ORDER BY dataset LIMIT 1");
        let mut out = Vec::new();
        for (id, iri) in ids {
            let mut dataset: Option<String> =
                sqlx::query_scalar(&first).bind(entity).bind(id).fetch_optional(&self.reader).await?;
            while let Some(d) = dataset {
                dataset = sqlx::query_scalar(&next).bind(entity).bind(id).bind(&d).fetch_optional(&self.reader).await?;
                out.push((id, iri.clone(), d));
            }
        }
        Ok(out)
    }

    /// Deletes the history of one attribute of an entity: of one datasetId (`Some(None)`: the
    /// default instance) or of all (`None`). Returns the raw rows deleted.
    pub async fn delete_context_history(
        &self,
        entity: i64,
        attr: &str,
        dataset: Option<Option<&str>>,
    ) -> Result<u64, StoreError> {
        let Some(attr_id) = self.context_name_id(attr).await? else { return Ok(0) };
        let mut tx = self.writer.begin().await?;
        let mut deleted = 0;
        for table in [HISTORY, HOURLY] {
            let mut q = QueryBuilder::<Sqlite>::new(format!("DELETE FROM {table} WHERE entity = "));
            q.push_bind(entity).push(" AND attr = ").push_bind(attr_id);
            if let Some(ds) = dataset {
                q.push(" AND dataset = ").push_bind(ds.unwrap_or_default().to_owned());
            }
            let n = q.build().execute(&mut *tx).await?.rows_affected();
            if table == HISTORY {
                deleted = n;
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Deletes one instance (by its sequence number) of an entity's attribute; whether it was
    /// there.
    pub async fn delete_context_instance(&self, entity: i64, attr: &str, seq: i64) -> Result<bool, StoreError> {
        let Some(attr_id) = self.context_name_id(attr).await? else { return Ok(false) };
        Ok(sqlx::query("DELETE FROM ctx_history WHERE entity = $1 AND attr = $2 AND seq = $3")
            .bind(entity)
            .bind(attr_id)
            .bind(seq)
            .execute(&self.writer)
            .await?
            .rows_affected()
            > 0)
    }

    pub(crate) async fn context_name_id(&self, iri: &str) -> Result<Option<i64>, StoreError> {
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

fn stored_instance(doc: &str) -> Result<Attribute, StoreError> {
    let doc: Value = serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("history: {e}")))?;
    Attribute::from_stored(&doc).map_err(|e| StoreError::Corrupt(format!("history instance: {e}")))
}

/// Rebuilds an instance from its row: a plain value with maybe a unit, or the whole stored
/// instance. Its `createdAt` and `modifiedAt` are when the row was recorded.
fn instance_from_row(
    (observed, _seq, modified, value, doc, has_observed): RawRow,
    dataset: &Option<String>,
) -> Result<Attribute, StoreError> {
    // Rows from before `has_observed` was kept tell it by the two times differing.
    let had_observed = has_observed.unwrap_or(observed != modified);
    let recorded = Some(from_millis(modified));
    match (value, doc) {
        (Some(value), doc) => {
            let unit = match doc {
                Some(d) => {
                    let d: Value =
                        serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("history: {e}")))?;
                    d.get("unitCode").and_then(Value::as_str).map(str::to_owned)
                }
                None => None,
            };
            Ok(Attribute {
                kind: AttrKind::Property,
                value: value.into_json(),
                dataset_id: dataset.clone(),
                observed_at: had_observed.then(|| from_millis(observed)),
                unit_code: unit,
                created_at: recorded,
                modified_at: recorded,
                ..Default::default()
            })
        }
        (None, Some(doc)) => {
            let mut a = stored_instance(&doc)?;
            a.created_at = recorded;
            a.modified_at = recorded;
            Ok(a)
        }
        (None, None) => Err(StoreError::Corrupt("history row without value".into())),
    }
}
