//! Date-times as the spec writes them: the W3C profile of ISO 8601, zone always present.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

/// Writes an instant in the given zone, to the second: `2026-11-23T10:15:00+07:00`.
///
/// Seconds precision matches the spec's examples; the offset (never `Z`) lets a reader see the
/// province's local time without converting.
pub fn format(at: DateTime<Utc>, zone: FixedOffset) -> String {
    at.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Reads a W3C date-time with its zone: seconds (and fractions) optional, `Z` or `±hh:mm`.
///
/// A `+` in a query string decodes to a space when the client forgot to escape it, so a space
/// before the offset is read as `+`: `2026-11-23T10:15:00 07:00`.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let repaired;
    let text = if text.contains(' ') {
        repaired = text.replace(' ', "+");
        repaired.as_str()
    } else {
        text
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.to_utc());
    }
    // The W3C note also allows minutes precision ("1997-07-16T19:20+01:00").
    let (minutes, zone) = split_zone(text)?;
    if minutes.len() != "1997-07-16T19:20".len() {
        return None;
    }
    DateTime::parse_from_rfc3339(&format!("{minutes}:00{zone}")).ok().map(|at| at.to_utc())
}

/// Splits `…T19:20+01:00` into the date-time and its zone designator.
fn split_zone(text: &str) -> Option<(&str, &str)> {
    if let Some(stem) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return Some((stem, "Z"));
    }
    let at = text.len().checked_sub(6)?;
    let zone = text.get(at..)?;
    (zone.starts_with(['+', '-']) && zone.as_bytes()[3] == b':').then(|| (&text[..at], zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ict() -> FixedOffset {
        FixedOffset::east_opt(7 * 3600).unwrap()
    }

    #[test]
    fn writes_with_offset_to_the_second() {
        let at = parse("2026-11-23T03:15:00.123Z").unwrap();
        assert_eq!(format(at, ict()), "2026-11-23T10:15:00+07:00");
        assert_eq!(format(at, FixedOffset::east_opt(0).unwrap()), "2026-11-23T03:15:00+00:00");
    }

    #[test]
    fn reads_the_w3c_forms_with_a_zone() {
        let at = parse("2010-01-01T00:00:00Z").unwrap();
        assert_eq!(parse("2010-01-01T07:00:00+07:00"), Some(at));
        assert_eq!(parse("2010-01-01T07:00+07:00"), Some(at));
        assert_eq!(parse("2010-01-01T00:00Z"), Some(at));
        assert_eq!(parse("2010-01-01T07:00:00 07:00"), Some(at));
        assert_eq!(parse("1994-11-05T08:15:30-05:00"), parse("1994-11-05T13:15:30Z"));
    }

    #[test]
    fn refuses_dates_without_zone_or_malformed() {
        for text in ["2010-01-01", "2010-01-01T00:00:00", "2010-01-01T00:00", "2010-13-01T00:00:00Z", "", "Z", "+07:00"]
        {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
