//! URL parameters of the NGSI-LD operations, parsed once with the request's context.

use haidang_ngsi::entity::validate::is_absolute_uri;
use haidang_ngsi::entity::{Format, RenderOptions, names};
use haidang_ngsi::{Context, ErrorKind, NgsiError};

use super::http::NgsiResult;

/// `limit`, `offset` and `count` of a list operation.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
    pub count: bool,
}

/// The URL's parameters in order (a name may repeat).
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> NgsiResult<Self> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|e| NgsiError::bad_data(format!("the URL parameters cannot be read: {e}")))?;
        Ok(Params(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A comma-separated list, or `None` when absent; empty items are refused.
    pub fn list(&self, name: &str) -> NgsiResult<Option<Vec<String>>> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let items: Vec<String> = v.split(',').map(|s| s.trim().to_owned()).collect();
        if items.iter().any(String::is_empty) {
            return Err(NgsiError::bad_data(format!("{name} has an empty item")).into());
        }
        Ok(Some(items))
    }

    pub fn flag(&self, name: &str) -> NgsiResult<bool> {
        match self.get(name) {
            None => Ok(false),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(NgsiError::bad_data(format!("{name} must be true or false, not {other:?}")).into()),
        }
    }

    /// A non-negative integer.
    pub fn number(&self, name: &str) -> NgsiResult<Option<usize>> {
        self.get(name)
            .map(|v| {
                v.parse::<usize>().map_err(|_| {
                    NgsiError::bad_data(format!("{name} must be a non-negative integer, not {v:?}")).into()
                })
            })
            .transpose()
    }

    /// Paging of a list: `limit` (`default` when absent; above `max` is `TooManyResults`),
    /// `offset`, `count`; `limit=0` only with `count=true`.
    pub fn page(&self, default: usize, max: usize) -> NgsiResult<Page> {
        let limit = self.number("limit")?.unwrap_or(default);
        if limit > max {
            return Err(NgsiError::new(ErrorKind::TooManyResults, format!("limit may be at most {max}")).into());
        }
        let offset = self.number("offset")?.unwrap_or(0);
        let count = self.flag("count")?;
        if limit == 0 && !count {
            return Err(NgsiError::bad_data("limit=0 makes sense only with count=true").into());
        }
        Ok(Page { limit, offset, count })
    }

    /// The `options` values (and `format`), checked against what the operation knows.
    pub fn options(&self, known: &[&str]) -> NgsiResult<Vec<String>> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            if k != "options" {
                continue;
            }
            for o in v.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                if !known.contains(&o) {
                    return Err(NgsiError::bad_data(format!(
                        "options={o} is not known here; use {}",
                        known.join(", ")
                    ))
                    .into());
                }
                out.push(o.to_owned());
            }
        }
        Ok(out)
    }

    /// How to render entities: `format`, `options` (keyValues, concise, normalized, sysAttrs),
    /// `attrs` / `pick`, `lang`.
    pub fn render(&self, ctx: &Context, extra_options: &[&str]) -> NgsiResult<RenderOptions> {
        let mut known = vec!["keyValues", "concise", "normalized", "sysAttrs"];
        known.extend_from_slice(extra_options);
        let options = self.options(&known)?;
        let has = |o: &str| options.iter().any(|x| x == o);
        let format = match self.get("format") {
            Some("keyValues" | "simplified") => Format::KeyValues,
            Some("concise") => Format::Concise,
            Some("normalized") => Format::Normalized,
            Some(other) => {
                return Err(NgsiError::bad_data(format!(
                    "format={other} is not known; use normalized, concise or keyValues"
                ))
                .into());
            }
            None if has("keyValues") => Format::KeyValues,
            None if has("concise") => Format::Concise,
            None => Format::Normalized,
        };
        let attrs = match (self.list("attrs")?, self.list("pick")?) {
            (Some(a), _) | (None, Some(a)) => Some(a.iter().map(|n| ctx.expand(n)).collect()),
            (None, None) => None,
        };
        let lang = self.get("lang").map(str::to_owned);
        Ok(RenderOptions { format, sys_attrs: has("sysAttrs"), attrs, lang })
    }

    /// `geometryProperty` for GeoJSON answers, expanded (default `location`).
    pub fn geometry_property(&self, ctx: &Context) -> String {
        self.get("geometryProperty").map(|g| ctx.expand(g)).unwrap_or_else(|| names::LOCATION.to_owned())
    }
}

/// An entity id from a path or a parameter: it must be a URI, by the same rule as ids in bodies.
pub fn entity_id(id: &str) -> NgsiResult<String> {
    if is_absolute_uri(id) {
        Ok(id.to_owned())
    } else {
        Err(NgsiError::bad_data(format!("{id:?} is not a URI")).into())
    }
}
