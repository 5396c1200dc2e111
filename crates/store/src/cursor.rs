//! Keyset pagination: a cursor names the last row seen (its sort key and id), so pages stay
//! stable while rows are added, and a page costs the same however deep it is.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use haidang_core::Invalid;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}\u{1f}{}", self.id, self.key))
    }

    /// Parses a cursor given back by a client; anything we did not issue is refused.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::field("cursor", "is not a cursor this server issued");
        if s.len() > 2048 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (id, key) = text.split_once('\u{1f}').ok_or_else(bad)?;
        let id = id.parse().map_err(|_| bad())?;
        Ok(Cursor { key: key.to_owned(), id })
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only tells that more exist.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: usize, key: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more { rows.last().map(|r| key(r).encode()) } else { None };
        Page { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor { key: "00abc!0!0".into(), id: 42 };
        assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
        for bad in ["", "!!!", "bm90LWEtY3Vyc29y", &"A".repeat(5000)] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
