//! Timestamps as fixed-width UTC text, so text order is time order in every engine.

use crate::StoreError;
use chrono::{DateTime, NaiveDateTime, Utc};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
}

pub(crate) fn parse(s: &str) -> Result<DateTime<Utc>, StoreError> {
    NaiveDateTime::parse_from_str(s, FORMAT)
        .map(|n| n.and_utc())
        .map_err(|_| StoreError::Corrupt(format!("bad timestamp {s:?}")))
}

pub(crate) fn parse_opt(s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.as_deref().map(parse).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn round_trip_and_order() {
        let a = Utc.with_ymd_and_hms(2025, 7, 1, 0, 0, 0).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(parse(&ts(a)).unwrap(), a);
        assert!(ts(a) < ts(b));
        assert_eq!(ts(a), "2025-07-01T00:00:00.000000Z");
    }
}
