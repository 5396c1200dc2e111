//! The response format, chosen by the client with the path's suffix (`services.json`).

/// The two formats of GeoReport v2: XML is required by the spec, JSON is optional and offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The content types the spec's "Format Support" section prescribes; clients written to the
    /// spec (and the spec's own examples) send and expect exactly these, `text/xml` rather than
    /// `application/xml`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// Splits the format suffix off a path segment: `"requests.json"` → `("requests", Json)`,
/// `"requests/123.xml"` → `("requests/123", Xml)`.
///
/// The last dot decides, so ids with dots keep them (`"services/a.b.json"`). None when the
/// suffix is not exactly `json` or `xml` or nothing precedes it.
pub fn split_format(path: &str) -> Option<(&str, Format)> {
    let (stem, suffix) = path.rsplit_once('.')?;
    let format = match suffix {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    if stem.is_empty() || stem.ends_with('/') {
        return None;
    }
    Some((stem, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_last_suffix() {
        assert_eq!(split_format("services.json"), Some(("services", Format::Json)));
        assert_eq!(split_format("requests/123.xml"), Some(("requests/123", Format::Xml)));
        assert_eq!(split_format("services/a.b.json"), Some(("services/a.b", Format::Json)));
    }

    #[test]
    fn refuses_other_suffixes() {
        for path in ["services", "services.html", "services.JSON", ".json", "requests/.xml", "services.json/"] {
            assert_eq!(split_format(path), None, "{path}");
        }
    }
}
