//! What devices publish: JSON measures.
//!
//! A payload is one object of readings, or an array of them (a device that buffered while
//! offline sends its backlog at once):
//!
//! ```json
//! {"pm25": 38.2, "pm10": 61, "ts": "2026-11-24T08:00:00+07:00"}
//! [{"level": 2.41, "ts": 1795483000000}, {"level": 2.47, "ts": 1795483060000}]
//! ```
//!
//! The time of a reading is its `ts`, `time` or `observedAt` member: RFC 3339 text, or a Unix
//! time in seconds or milliseconds. Every other member is a measure.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

/// Largest payload accepted (the broker's packet limit is higher; a measure is small).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Readings in one payload at most.
pub const MAX_READINGS: usize = 1000;
/// Measures in one reading at most.
pub const MAX_MEASURES: usize = 200;
/// Members naming the time of a reading.
pub const TIME_KEYS: [&str; 3] = ["ts", "time", "observedAt"];

/// One timed set of measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// When the device measured; `None`: it did not say (the receive time is used).
    pub observed_at: Option<DateTime<Utc>>,
    /// Measure name and value, in the order sent.
    pub values: Vec<(String, Value)>,
}

/// Why a payload was refused; the device's health shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeasureError {
    #[error("the payload is {0} bytes; at most {MAX_PAYLOAD_BYTES} are accepted")]
    TooLarge(usize),
    #[error("the payload is not JSON: {0}")]
    NotJson(String),
    #[error("a measure payload is a JSON object or an array of objects")]
    NotObject,
    #[error("the payload holds no reading")]
    Empty,
    #[error("at most {MAX_READINGS} readings per payload")]
    TooManyReadings,
    #[error("at most {MAX_MEASURES} measures per reading")]
    TooManyMeasures,
    #[error("reading {index}: {reason}")]
    BadTime { index: usize, reason: String },
    #[error("reading {index}: measure {name:?} is null")]
    NullMeasure { index: usize, name: String },
    #[error("{0}")]
    Mapping(String),
}

/// Reads a payload into readings, oldest first as sent.
pub fn parse_payload(payload: &[u8]) -> Result<Vec<Reading>, MeasureError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(MeasureError::TooLarge(payload.len()));
    }
    let value: Value = serde_json::from_slice(payload).map_err(|e| MeasureError::NotJson(e.to_string()))?;
    let objects = match value {
        Value::Object(o) => vec![o],
        Value::Array(items) => {
            if items.len() > MAX_READINGS {
                return Err(MeasureError::TooManyReadings);
            }
            items
                .into_iter()
                .map(|v| match v {
                    Value::Object(o) => Ok(o),
                    _ => Err(MeasureError::NotObject),
                })
                .collect::<Result<_, _>>()?
        }
        _ => return Err(MeasureError::NotObject),
    };
    if objects.is_empty() {
        return Err(MeasureError::Empty);
    }
    objects
        .into_iter()
        .enumerate()
        .map(|(index, object)| {
            if object.len() > MAX_MEASURES {
                return Err(MeasureError::TooManyMeasures);
            }
            let mut reading = Reading { observed_at: None, values: Vec::with_capacity(object.len()) };
            for (name, value) in object {
                if TIME_KEYS.contains(&name.as_str()) {
                    reading.observed_at =
                        Some(parse_time(&value).map_err(|reason| MeasureError::BadTime { index, reason })?);
                } else if value.is_null() {
                    return Err(MeasureError::NullMeasure { index, name });
                } else {
                    reading.values.push((name, value));
                }
            }
            Ok(reading)
        })
        .collect()
}

/// Unix seconds below this are taken as seconds, above as milliseconds (10^11 s is the year
/// 5138; 10^11 ms is 1973).
const SECONDS_LIMIT: f64 = 1e11;

pub(crate) fn parse_time(value: &Value) -> Result<DateTime<Utc>, String> {
    match value {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| format!("time {s:?} is not RFC 3339 (2026-11-24T08:00:00+07:00)")),
        Value::Number(n) => {
            let n = n.as_f64().filter(|n| n.is_finite() && *n >= 0.0).ok_or("time must be a positive number")?;
            let ms = if n < SECONDS_LIMIT { n * 1000.0 } else { n };
            Utc.timestamp_millis_opt(ms as i64).single().ok_or_else(|| format!("time {n} is out of range"))
        }
        _ => Err("time must be RFC 3339 text or a Unix time in seconds or milliseconds".into()),
    }
}
