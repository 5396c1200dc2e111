//! Value-space checks: URIs (entity ids, relationship objects, dataset ids), names (clause
//! 4.6.2), scopes (clause 4.18), date-times (clause 4.6.3) and GeoJSON geometries (clause 4.7,
//! RFC 7946).

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Characters that never belong in a URI or name: whitespace (including no-break and line
/// separators), controls, markup and quoting delimiters, and invisible or format characters
/// that would make an identifier read differently from what it is (bidi controls, zero-width
/// characters, variation selectors, fillers, noncharacters, private use).
fn is_forbidden_uri_char(c: char) -> bool {
    if c.is_whitespace() || c.is_control() {
        return true;
    }
    if matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`') {
        return true;
    }
    let u = c as u32;
    matches!(u,
        0x00AD                      // soft hyphen
        | 0x034F                    // combining grapheme joiner
        | 0x061C                    // Arabic letter mark
        | 0x115F | 0x1160           // Hangul fillers
        | 0x17B4 | 0x17B5
        | 0x180B..=0x180F           // Mongolian variation selectors, vowel separator
        | 0x200B..=0x200F           // zero-width, LRM, RLM
        | 0x202A..=0x202E           // bidi embeddings and overrides
        | 0x2060..=0x206F           // word joiner, invisible operators, bidi isolates
        | 0x2800                    // Braille pattern blank
        | 0x3164 | 0xFFA0           // Hangul fillers
        | 0xE000..=0xF8FF           // private use
        | 0xFDD0..=0xFDEF           // noncharacters
        | 0xFE00..=0xFE0F           // variation selectors
        | 0xFEFF                    // byte order mark
        | 0xFFF0..=0xFFFB           // specials
        | 0xE0000..=0xE0FFF         // tags, supplementary variation selectors
        | 0xF0000..=0x10FFFF        // supplementary private use
    ) || (u & 0xFFFE) == 0xFFFE // U+xFFFE and U+xFFFF of every plane
}

/// `scheme:` at the start (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":").
pub fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else { return false };
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// An absolute URI (RFC 3986) or IRI (RFC 3987): a scheme, something after it, no character
/// that cannot appear in one.
pub fn is_absolute_uri(s: &str) -> bool {
    if !has_scheme(s) {
        return false;
    }
    let rest = &s[s.find(':').unwrap_or(0) + 1..];
    if rest.is_empty() || s.chars().any(is_forbidden_uri_char) {
        return false;
    }
    // Percent signs must start an escape.
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Characters clause 4.6.2 rules out of names besides what the grammar excludes (the ones a
/// client would use to inject content).
fn is_forbidden_name_char(c: char) -> bool {
    matches!(c, '<' | '>' | '"' | '\'' | '=' | ';' | '(' | ')') || is_forbidden_uri_char(c)
}

/// A name per clause 4.6.2: `unicodeLetter *(unicodeLetter / unicodeNumber / "_")`.
pub fn is_simple_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic()) && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// An entity type, attribute or sub-attribute name as written by a client (before
/// expansion): a name per clause 4.6.2, a compact IRI `prefix:name`, or an absolute IRI.
pub fn is_valid_name(s: &str) -> bool {
    if s.is_empty() || s.chars().any(is_forbidden_name_char) {
        return false;
    }
    if s.contains(':') { is_absolute_uri(s) } else { is_simple_name(s) }
}

/// A scope per clause 4.18: `["/"] ScopeLevel *("/" ScopeLevel)`, a level being
/// `unicodeLetter *(unicodeLetter / unicodeNumber / "_")`.
pub fn is_valid_scope(s: &str) -> bool {
    let body = s.strip_prefix('/').unwrap_or(s);
    !body.is_empty() && body.split('/').all(is_simple_name)
}

/// A language tag (RFC 5646 shape: alphanumeric subtags of 1 to 8 characters joined by `-`,
/// the first alphabetic) or `@none`.
pub fn is_language_key(s: &str) -> bool {
    if s == "@none" {
        return true;
    }
    let mut parts = s.split('-');
    let Some(first) = parts.next() else { return false };
    (1..=8).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A DateTime per clause 4.6.3: ISO 8601 / RFC 3339 in UTC with the trailing `Z` (an offset is
/// not accepted).
pub fn parse_date_time(s: &str) -> Option<DateTime<Utc>> {
    if !s.ends_with('Z') {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

const GEOMETRY_TYPES: [&str; 7] =
    ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"];

/// Whether `v` presents itself as a GeoJSON geometry: an object whose `type` is a geometry type
/// and that has `coordinates` (or `geometries`). Used to infer a GeoProperty in concise bodies;
/// validity is checked by [`validate_geojson_geometry`].
pub fn looks_like_geometry(v: &Value) -> bool {
    let Some(obj) = v.as_object() else { return false };
    matches!(obj.get("type"), Some(Value::String(t)) if GEOMETRY_TYPES.contains(&t.as_str()))
        && (obj.contains_key("coordinates") || obj.contains_key("geometries"))
}

/// Checks a GeoJSON geometry object as a GeoProperty value (clause 4.7, RFC 7946): what
/// [`crate::geoquery::parse_geometry`] accepts, except GeometryCollection (clause 4.6.3). The
/// error says what is wrong and where.
pub fn validate_geojson_geometry(v: &Value) -> Result<(), String> {
    if v.get("type").and_then(Value::as_str) == Some("GeometryCollection") {
        return Err("invalid GeoJSON geometry: GeometryCollection is not a supported GeoProperty value (clause 4.6.3)"
            .to_string());
    }
    crate::geoquery::parse_geometry(v).map(|_| ()).map_err(|e| e.detail)
}
