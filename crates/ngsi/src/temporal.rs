//! The temporal evolution of entities (clauses 4.5.7–4.5.9, 4.5.19, 4.11, 5.7.3, 5.7.4 and
//! 6.18–6.22 of ETSI GS CIM 009 V1.8.1), as pure logic: the temporal query (`timerel`,
//! `timeAt`, `endTimeAt`, `timeproperty`, `lastN`), ISO 8601 durations, the aggregation
//! methods and their arithmetic, and the three representations — normalized (every attribute
//! an array of instances), simplified (`temporalValues`: `[value, time]` pairs) and aggregated
//! (`aggregatedValues`: `[value, start, end]` triples per method and period).
//!
//! Where the instances come from (raw history, hourly aggregates) is the store's business; this
//! module takes them as [`Series`] and [`Sample`]s.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Months, SecondsFormat, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use crate::context::Context;
use crate::entity::validate::parse_date_time;
use crate::entity::{AttrKind, Attribute, Entity, Format, RenderOptions};
use crate::error::NgsiError;

/// `timerel` (clause 4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRel {
    Before,
    After,
    Between,
}

/// `timeproperty` (clause 4.11): which time of an instance the query and the simplified
/// representation use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeProperty {
    #[default]
    ObservedAt,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
}

impl TimeProperty {
    pub fn name(self) -> &'static str {
        match self {
            Self::ObservedAt => "observedAt",
            Self::CreatedAt => "createdAt",
            Self::ModifiedAt => "modifiedAt",
            Self::DeletedAt => "deletedAt",
        }
    }

    /// The time of `a` this property names (`observedAt` falls back to the time the instance
    /// was written, which is when it was observed if the writer did not say).
    pub fn of(self, a: &Attribute) -> Option<DateTime<Utc>> {
        match self {
            Self::ObservedAt => a.observed_at.or(a.modified_at),
            Self::CreatedAt => a.created_at,
            Self::ModifiedAt => a.modified_at,
            Self::DeletedAt => None,
        }
    }
}

/// A temporal query (clause 4.11): an interval on one time property, maybe the last `n`
/// instances of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemporalQuery {
    pub timerel: Option<TimeRel>,
    pub time_at: Option<DateTime<Utc>>,
    pub end_time_at: Option<DateTime<Utc>>,
    pub timeproperty: TimeProperty,
    pub last_n: Option<usize>,
}

impl TemporalQuery {
    /// From URL parameters (clause 6.18.3.1). Errors are `BadRequestData`: `timerel` without
    /// `timeAt`, `between` without `endTimeAt`, an end not after the start, an unknown
    /// `timerel` or `timeproperty`, a `lastN` that is not a positive integer.
    pub fn parse(
        timerel: Option<&str>,
        time_at: Option<&str>,
        end_time_at: Option<&str>,
        timeproperty: Option<&str>,
        last_n: Option<&str>,
    ) -> Result<Self, NgsiError> {
        let rel = timerel
            .map(|r| match r {
                "before" => Ok(TimeRel::Before),
                "after" => Ok(TimeRel::After),
                "between" => Ok(TimeRel::Between),
                other => Err(NgsiError::bad_data(format!("timerel must be before, after or between, not {other:?}"))),
            })
            .transpose()?;
        let time = |name: &str, v: Option<&str>| {
            v.map(|s| {
                parse_date_time(s)
                    .ok_or_else(|| NgsiError::bad_data(format!("{name} must be a DateTime (ISO 8601), not {s:?}")))
            })
            .transpose()
        };
        let time_at = time("timeAt", time_at)?;
        let end_time_at = time("endTimeAt", end_time_at)?;
        match (rel, time_at, end_time_at) {
            (None, None, None) => {}
            (None, _, _) => return Err(NgsiError::bad_data("timeAt and endTimeAt need timerel")),
            (Some(_), None, _) => return Err(NgsiError::bad_data("timerel needs timeAt")),
            (Some(TimeRel::Between), Some(_), None) => {
                return Err(NgsiError::bad_data("timerel=between needs endTimeAt"));
            }
            (Some(TimeRel::Between), Some(a), Some(b)) if b <= a => {
                return Err(NgsiError::bad_data("endTimeAt must be after timeAt"));
            }
            (Some(TimeRel::Before | TimeRel::After), _, Some(_)) => {
                return Err(NgsiError::bad_data("endTimeAt goes only with timerel=between"));
            }
            _ => {}
        }
        let timeproperty = match timeproperty {
            None | Some("observedAt") => TimeProperty::ObservedAt,
            Some("createdAt") => TimeProperty::CreatedAt,
            Some("modifiedAt") => TimeProperty::ModifiedAt,
            Some("deletedAt") => TimeProperty::DeletedAt,
            Some(other) => {
                return Err(NgsiError::bad_data(format!(
                    "timeproperty must be observedAt, createdAt, modifiedAt or deletedAt, not {other:?}"
                )));
            }
        };
        let last_n = last_n
            .map(|n| match n.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(NgsiError::bad_data(format!("lastN must be a positive integer, not {n:?}"))),
            })
            .transpose()?;
        Ok(Self { timerel: rel, time_at, end_time_at, timeproperty, last_n })
    }

    /// From the `temporalQ` member of a query body (clause 5.2.21); absent means no temporal
    /// restriction.
    pub fn from_json(value: Option<&Value>) -> Result<Self, NgsiError> {
        let Some(value) = value else { return Ok(Self::default()) };
        let obj = value.as_object().ok_or_else(|| NgsiError::bad_data("temporalQ must be an object"))?;
        let text = |name: &str| -> Result<Option<&str>, NgsiError> {
            match obj.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(NgsiError::bad_data(format!("temporalQ.{name} must be a string"))),
            }
        };
        let last_n = match obj.get("lastN") {
            None => None,
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(NgsiError::bad_data("temporalQ.lastN must be a number")),
        };
        Self::parse(text("timerel")?, text("timeAt")?, text("endTimeAt")?, text("timeproperty")?, last_n.as_deref())
    }

    /// The half-open interval `[start, end)` the query selects (`None`: unbounded).
    pub fn interval(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self.timerel {
            None => (None, None),
            Some(TimeRel::Before) => (None, self.time_at),
            Some(TimeRel::After) => (self.time_at, None),
            Some(TimeRel::Between) => (self.time_at, self.end_time_at),
        }
    }
}

/// An ISO 8601 duration (`P[n]Y[n]M[n]W[n]DT[n]H[n]M[n]S`): months (calendar) and a fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsoDuration {
    pub months: u32,
    pub millis: i64,
}

impl IsoDuration {
    /// Parses a duration; fractions are allowed on seconds only. `BadRequestData` otherwise.
    pub fn parse(s: &str) -> Result<Self, NgsiError> {
        let bad = || NgsiError::bad_data(format!("{s:?} is not an ISO 8601 duration such as PT1H, P1D or P1M"));
        let rest = s.strip_prefix('P').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        let (date, time) = match rest.split_once('T') {
            Some((_, "")) => return Err(bad()),
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut out = IsoDuration::default();
        let mut parts = 0;
        for (part, in_time) in [(date, false), (time.unwrap_or(""), true)] {
            let mut number = String::new();
            let mut last_rank = 0;
            for c in part.chars() {
                if c.is_ascii_digit() || (c == '.' && in_time) {
                    number.push(c);
                    continue;
                }
                let (rank, unit_ms, unit_months): (u8, f64, u32) = match (in_time, c) {
                    (false, 'Y') => (1, 0.0, 12),
                    (false, 'M') => (2, 0.0, 1),
                    (false, 'W') => (3, 7.0 * 86_400_000.0, 0),
                    (false, 'D') => (4, 86_400_000.0, 0),
                    (true, 'H') => (5, 3_600_000.0, 0),
                    (true, 'M') => (6, 60_000.0, 0),
                    (true, 'S') => (7, 1000.0, 0),
                    _ => return Err(bad()),
                };
                // Units in order, each once, each with a number; only seconds take a fraction.
                if rank <= last_rank || number.is_empty() || (number.contains('.') && c != 'S') {
                    return Err(bad());
                }
                last_rank = rank;
                let n: f64 = number.parse().map_err(|_| bad())?;
                number.clear();
                if unit_months > 0 {
                    let months = (n as u64).checked_mul(unit_months as u64).ok_or_else(bad)?;
                    out.months = out.months.checked_add(u32::try_from(months).map_err(|_| bad())?).ok_or_else(bad)?;
                } else {
                    let ms = n * unit_ms;
                    if !ms.is_finite() || ms > 1e15 {
                        return Err(bad());
                    }
                    out.millis += ms.round() as i64;
                }
                parts += 1;
            }
            if !number.is_empty() {
                return Err(bad());
            }
        }
        if parts == 0 {
            return Err(bad());
        }
        Ok(out)
    }

    pub fn is_zero(&self) -> bool {
        self.months == 0 && self.millis == 0
    }

    /// `t` plus `k` times this duration (months first, then the fixed part).
    pub fn times_after(&self, t: DateTime<Utc>, k: u32) -> Option<DateTime<Utc>> {
        let with_months = t.checked_add_months(Months::new(self.months.checked_mul(k)?))?;
        with_months.checked_add_signed(TimeDelta::milliseconds(self.millis.checked_mul(k as i64)?))
    }
}

/// An aggregation method (clause 4.5.19, `aggrMethods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AggrMethod {
    TotalCount,
    DistinctCount,
    Sum,
    Avg,
    Min,
    Max,
    Stddev,
    Sumsq,
}

impl AggrMethod {
    pub const ALL: [AggrMethod; 8] =
        [Self::TotalCount, Self::DistinctCount, Self::Sum, Self::Avg, Self::Min, Self::Max, Self::Stddev, Self::Sumsq];

    pub fn name(self) -> &'static str {
        match self {
            Self::TotalCount => "totalCount",
            Self::DistinctCount => "distinctCount",
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Min => "min",
            Self::Max => "max",
            Self::Stddev => "stddev",
            Self::Sumsq => "sumsq",
        }
    }
}

/// What `options=aggregatedValues` asks for: methods and the length of each period (zero: one
/// period over the whole queried interval).
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    pub methods: Vec<AggrMethod>,
    pub period: IsoDuration,
}

impl Aggregation {
    /// `aggrMethods` is required and must name known methods; `aggrPeriodDuration` defaults to
    /// `PT0S` (the whole interval).
    pub fn parse(methods: Option<&str>, period: Option<&str>) -> Result<Self, NgsiError> {
        let methods = methods.ok_or_else(|| NgsiError::bad_data("options=aggregatedValues needs aggrMethods"))?;
        let mut out = Vec::new();
        for m in methods.split(',').map(str::trim) {
            let method = AggrMethod::ALL.into_iter().find(|a| a.name() == m).ok_or_else(|| {
                NgsiError::bad_data(format!(
                    "aggrMethods: {m:?} is not one of totalCount, distinctCount, sum, avg, min, max, stddev, sumsq"
                ))
            })?;
            if !out.contains(&method) {
                out.push(method);
            }
        }
        let period = match period {
            None | Some("0") => IsoDuration::default(),
            Some(p) => IsoDuration::parse(p)?,
        };
        Ok(Self { methods: out, period })
    }
}

/// One input of an aggregation: a raw instance's value, or an hour already folded by the
/// store's down-sampling (numbers only; `sumsq` unknown for hours folded before it was kept).
#[derive(Debug, Clone)]
pub enum Sample<'a> {
    Value { at: DateTime<Utc>, value: &'a Value },
    Folded { at: DateTime<Utc>, n: u64, sum: f64, sumsq: Option<f64>, min: f64, max: f64 },
}

impl Sample<'_> {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Sample::Value { at, .. } | Sample::Folded { at, .. } => *at,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Acc {
    total: u64,
    numbers: u64,
    sum: f64,
    sumsq: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    /// Distinct values (as JSON text); `None` once a folded hour joined (its values are gone).
    distinct: Option<BTreeSet<String>>,
}

impl Acc {
    fn new() -> Self {
        Acc { sumsq: Some(0.0), distinct: Some(BTreeSet::new()), ..Default::default() }
    }

    fn add(&mut self, s: &Sample<'_>) {
        match s {
            Sample::Value { value, .. } => {
                self.total += 1;
                if let Some(d) = &mut self.distinct {
                    d.insert(value.to_string());
                }
                if let Some(x) = value.as_f64() {
                    self.numbers += 1;
                    self.sum += x;
                    self.sumsq = self.sumsq.map(|q| q + x * x);
                    self.min = Some(self.min.map_or(x, |m| m.min(x)));
                    self.max = Some(self.max.map_or(x, |m| m.max(x)));
                }
            }
            Sample::Folded { n, sum, sumsq, min, max, .. } => {
                self.total += n;
                self.numbers += n;
                self.sum += sum;
                self.sumsq = match (self.sumsq, sumsq) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
                self.min = Some(self.min.map_or(*min, |m| m.min(*min)));
                self.max = Some(self.max.map_or(*max, |m| m.max(*max)));
                self.distinct = None;
            }
        }
    }

    fn result(&self, m: AggrMethod) -> Value {
        let num = |x: f64| serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null);
        let numeric = self.numbers > 0;
        match m {
            AggrMethod::TotalCount => Value::from(self.total),
            AggrMethod::DistinctCount => self.distinct.as_ref().map(|d| Value::from(d.len())).unwrap_or(Value::Null),
            AggrMethod::Sum if numeric => num(self.sum),
            AggrMethod::Avg if numeric => num(self.sum / self.numbers as f64),
            AggrMethod::Min => self.min.map(num).unwrap_or(Value::Null),
            AggrMethod::Max => self.max.map(num).unwrap_or(Value::Null),
            AggrMethod::Sumsq if numeric => self.sumsq.map(num).unwrap_or(Value::Null),
            AggrMethod::Stddev if numeric => match self.sumsq {
                // The sample standard deviation, as SQL's STDDEV; one value deviates by 0.
                Some(_) if self.numbers == 1 => num(0.0),
                Some(q) => {
                    let n = self.numbers as f64;
                    let mean = self.sum / n;
                    num(((q - n * mean * mean) / (n - 1.0)).max(0.0).sqrt())
                }
                None => Value::Null,
            },
            _ => Value::Null,
        }
    }
}

/// Folds samples into periods of `period` from `origin`: the arithmetic of the aggregated
/// temporal representation. A sample counts in the period holding its time; a folded hour in
/// the period holding the hour's start (periods shorter than an hour cannot split it).
#[derive(Debug, Clone)]
pub struct Aggregator {
    period: IsoDuration,
    origin: DateTime<Utc>,
    /// End of the single period when `period` is zero (otherwise unused).
    end: Option<DateTime<Utc>>,
    buckets: BTreeMap<u32, Acc>,
    last: Option<DateTime<Utc>>,
}

/// One method's results: `(value, period start, period end)` for every period with a sample.
pub type AggrValues = Vec<(Value, DateTime<Utc>, DateTime<Utc>)>;

impl Aggregator {
    /// `origin`: the start of the first period (the query's `timeAt`, else the first
    /// instance); `end`: the query's end, which closes a whole-interval period.
    pub fn new(period: IsoDuration, origin: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Self {
        Self { period, origin, end, buckets: BTreeMap::new(), last: None }
    }

    fn bucket(&self, t: DateTime<Utc>) -> Option<u32> {
        if t < self.origin {
            return None;
        }
        if self.period.is_zero() {
            return Some(0);
        }
        let mut k = if self.period.months == 0 {
            ((t - self.origin).num_milliseconds() / self.period.millis.max(1)) as u32
        } else {
            // An estimate by calendar months, corrected below.
            let months =
                (t.year() as i64 - self.origin.year() as i64) * 12 + t.month0() as i64 - self.origin.month0() as i64;
            (months / self.period.months as i64).max(0) as u32
        };
        while k > 0 && self.period.times_after(self.origin, k).is_none_or(|s| s > t) {
            k -= 1;
        }
        while self.period.times_after(self.origin, k + 1).is_some_and(|s| s <= t) {
            k += 1;
        }
        Some(k)
    }

    pub fn add(&mut self, s: &Sample<'_>) {
        let at = s.at();
        if let Some(k) = self.bucket(at) {
            self.buckets.entry(k).or_insert_with(Acc::new).add(s);
            self.last = Some(self.last.map_or(at, |l| l.max(at)));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The results per method, periods in time order; empty periods are left out.
    pub fn finish(&self, methods: &[AggrMethod]) -> Vec<(AggrMethod, AggrValues)> {
        let bounds = |k: u32| -> (DateTime<Utc>, DateTime<Utc>) {
            if self.period.is_zero() {
                let end = self.end.or(self.last).unwrap_or(self.origin);
                return (self.origin, end);
            }
            let start = self.period.times_after(self.origin, k).unwrap_or(self.origin);
            (start, self.period.times_after(self.origin, k + 1).unwrap_or(start))
        };
        methods
            .iter()
            .map(|&m| {
                let values = self
                    .buckets
                    .iter()
                    .map(|(&k, acc)| {
                        let (s, e) = bounds(k);
                        (acc.result(m), s, e)
                    })
                    .collect();
                (m, values)
            })
            .collect()
    }
}

/// A time as the temporal representations write it: RFC 3339 in UTC, fractions of a second
/// only when there are some (`2020-08-01T12:03:00Z`).
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The `instanceId` of a history row (clause 4.5.7): a URI made of its sequence number.
pub fn instance_id(seq: i64) -> String {
    format!("urn:ngsi-ld:attribute:instance:{seq}")
}

/// The sequence number in an `instanceId` made by [`instance_id`].
pub fn parse_instance_id(id: &str) -> Option<i64> {
    id.strip_prefix("urn:ngsi-ld:attribute:instance:")?.parse().ok()
}

/// The instances of one attribute (and `datasetId`) over time, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Expanded attribute name.
    pub attr: String,
    pub dataset_id: Option<String>,
    /// (sequence number, instance) — `created_at`/`modified_at` are when the instance was
    /// recorded.
    pub instances: Vec<(i64, Attribute)>,
}

/// The aggregated values of one attribute (and `datasetId`).
#[derive(Debug, Clone)]
pub struct AggregatedSeries {
    pub attr: String,
    pub dataset_id: Option<String>,
    pub kind: AttrKind,
    pub values: Vec<(AggrMethod, AggrValues)>,
}

/// How to render a temporal representation.
#[derive(Debug, Clone, Default)]
pub struct TemporalRender {
    /// `Normalized` (clause 4.5.7) or `Concise` instances; `KeyValues` stands for the
    /// simplified representation (`temporalValues`, clause 4.5.9).
    pub format: Format,
    pub sys_attrs: bool,
    pub timeproperty: TimeProperty,
    pub lang: Option<String>,
}

/// The member holding the `[value, time]` pairs of the simplified representation.
fn values_key(kind: AttrKind) -> &'static str {
    match kind {
        AttrKind::Property | AttrKind::GeoProperty => "values",
        AttrKind::Relationship => "objects",
        AttrKind::LanguageProperty => "languageMaps",
        AttrKind::VocabProperty => "vocabs",
        AttrKind::JsonProperty => "jsons",
        AttrKind::ListProperty => "valueLists",
        AttrKind::ListRelationship => "objectLists",
    }
}

fn head(entity: &Entity, ctx: &Context, sys_attrs: bool) -> Map<String, Value> {
    // The entity without attributes renders its id, type(s), scope and system times.
    let bare = Entity { attrs: Default::default(), ..entity.clone() };
    match bare.render(ctx, &RenderOptions { sys_attrs, ..Default::default() }) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn one_or_many(mut items: Vec<Value>) -> Value {
    if items.len() == 1 { items.remove(0) } else { Value::Array(items) }
}

/// The temporal representation of `entity` (its id, types, scope; its attributes are not
/// used) with the instances of `series`: normalized (every attribute an array of instances,
/// each with its `instanceId`) or simplified (`temporalValues`).
pub fn render_temporal(entity: &Entity, series: &[Series], ctx: &Context, opts: &TemporalRender) -> Value {
    let mut out = head(entity, ctx, opts.sys_attrs);
    let mut by_attr: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for s in series.iter().filter(|s| !s.instances.is_empty()) {
        let key = ctx.compact(&s.attr);
        let rendered = by_attr.entry(s.attr.as_str()).or_default();
        if opts.format == Format::KeyValues {
            let kind = s.instances[0].1.kind;
            let pairs: Vec<Value> = s
                .instances
                .iter()
                .map(|(_, a)| {
                    let at = opts.timeproperty.of(a).map(|t| format_time(&t)).unwrap_or_default();
                    json!([simple_value(a, ctx), at])
                })
                .collect();
            let mut obj = Map::new();
            obj.insert("type".into(), Value::String(kind.name().into()));
            obj.insert(values_key(kind).into(), Value::Array(pairs));
            if let Some(ds) = &s.dataset_id {
                obj.insert("datasetId".into(), Value::String(ds.clone()));
            }
            rendered.push(Value::Object(obj));
        } else {
            let render_opts =
                RenderOptions { format: opts.format, sys_attrs: opts.sys_attrs, attrs: None, lang: opts.lang.clone() };
            for (seq, a) in &s.instances {
                let mut v = a.render_instance(&key, ctx, &render_opts);
                if let Value::Object(m) = &mut v {
                    m.insert("instanceId".into(), Value::String(instance_id(*seq)));
                }
                rendered.push(v);
            }
        }
    }
    for (attr, values) in by_attr {
        let v = if opts.format == Format::KeyValues { one_or_many(values) } else { Value::Array(values) };
        out.insert(ctx.compact(attr), v);
    }
    Value::Object(out)
}

/// The value of an instance in a `[value, time]` pair.
fn simple_value(a: &Attribute, ctx: &Context) -> Value {
    match (a.kind, &a.value) {
        (AttrKind::VocabProperty, Value::String(s)) => Value::String(ctx.compact(s)),
        _ => a.value.clone(),
    }
}

/// The aggregated temporal representation (clause 4.5.19) of `entity` with `series`.
pub fn render_aggregated(entity: &Entity, series: &[AggregatedSeries], ctx: &Context, sys_attrs: bool) -> Value {
    let mut out = head(entity, ctx, sys_attrs);
    let mut by_attr: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for s in series {
        let mut obj = Map::new();
        obj.insert("type".into(), Value::String(s.kind.name().into()));
        for (method, values) in &s.values {
            let triples =
                values.iter().map(|(v, start, end)| json!([v, format_time(start), format_time(end)])).collect();
            obj.insert(method.name().into(), Value::Array(triples));
        }
        if let Some(ds) = &s.dataset_id {
            obj.insert("datasetId".into(), Value::String(ds.clone()));
        }
        by_attr.entry(s.attr.as_str()).or_default().push(Value::Object(obj));
    }
    for (attr, values) in by_attr {
        out.insert(ctx.compact(attr), one_or_many(values));
    }
    Value::Object(out)
}

/// A request body of the temporal writes (clauses 5.6.11, 5.6.12): an entity whose attributes
/// are arrays of instances. Split into layers that the ordinary entity parser reads: layer `k`
/// holds, for every attribute and `datasetId`, its `k`-th instance by `observedAt` (instances
/// without `observedAt` keep their order, after those with one). The first layer carries `id`,
/// `type` and `scope`; applying the layers in order leaves the latest instance of every
/// attribute as the entity's current state, and records every instance in its history.
pub fn split_temporal_body(body: &Value) -> Result<Vec<Value>, NgsiError> {
    let obj = body.as_object().ok_or_else(|| NgsiError::bad_data("the body must be a JSON object"))?;
    let mut first = Map::new();
    let mut series: Vec<Vec<Value>> = Vec::new();
    for (k, v) in obj {
        match k.as_str() {
            "id" | "type" | "@type" | "@id" | "scope" | "@context" | "createdAt" | "modifiedAt" => {
                first.insert(k.clone(), v.clone());
            }
            _ => {
                let items = match v {
                    Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                };
                if items.is_empty() {
                    return Err(NgsiError::bad_data(format!("attribute {k} has no instance")));
                }
                // Group by datasetId; each group in observedAt order.
                let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
                for item in items {
                    let ds = item.get("datasetId").and_then(Value::as_str).unwrap_or("").to_owned();
                    groups.entry(ds).or_default().push(item);
                }
                let mut layers: Vec<Vec<Value>> = Vec::new();
                for (_, mut group) in groups {
                    group.sort_by_key(|i| {
                        let t = i.get("observedAt").and_then(Value::as_str).and_then(parse_date_time);
                        (t.is_none(), t)
                    });
                    for (n, item) in group.into_iter().enumerate() {
                        if layers.len() <= n {
                            layers.push(Vec::new());
                        }
                        layers[n].push(item);
                    }
                }
                for (n, layer) in layers.into_iter().enumerate() {
                    if series.len() <= n {
                        series.push(Vec::new());
                    }
                    series[n].push(json!({ k.clone(): one_or_many(layer) }));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(series.len().max(1));
    for (n, parts) in series.into_iter().enumerate() {
        let mut layer = if n == 0 { first.clone() } else { Map::new() };
        if n > 0
            && let Some(id) = first.get("id")
        {
            layer.insert("id".into(), id.clone());
        }
        if n > 0
            && let Some(ctx) = first.get("@context")
        {
            layer.insert("@context".into(), ctx.clone());
        }
        for part in parts {
            if let Value::Object(m) = part {
                layer.extend(m);
            }
        }
        out.push(Value::Object(layer));
    }
    if out.is_empty() {
        out.push(Value::Object(first));
    }
    Ok(out)
}
