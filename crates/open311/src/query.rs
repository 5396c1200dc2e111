//! Query strings of the GET methods: `GET requests` filters, and `jurisdiction_id` for all.
//!
//! Unknown parameters are ignored (clients send `extensions`, `callback`, cache busters…);
//! known ones that do not parse are refused with a 400 naming them.

use chrono::{DateTime, TimeDelta, Utc};

use crate::fields::{check_limits, check_text, decode, present, shown};
use crate::types::{Error, Status};
use crate::w3c;

/// The spec's default and largest window of `GET requests`, in days.
pub const WINDOW_DAYS: i64 = 90;
/// The spec's "first 1000 requests returned": the default and largest `page_size`.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A parsed `GET requests` query.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestQuery {
    pub jurisdiction_id: Option<String>,
    pub filter: RequestFilter,
    /// 1-based page of the widely implemented pagination extension; 1 when not given.
    pub page: u32,
    /// Requests per page, at most [`MAX_PAGE_SIZE`] (larger asks are lowered to it).
    pub page_size: u32,
}

/// What to list.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestFilter {
    /// `service_request_id` was given: these requests, every other filter ignored, as the spec
    /// says ("This overrides all other arguments").
    Ids(Vec<String>),
    Search(Search),
}

/// The search filters of `GET requests`, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Empty means every service.
    pub service_codes: Vec<String>,
    /// `requested_datetime` from (inclusive)…
    pub start: DateTime<Utc>,
    /// …to (inclusive), never more than [`WINDOW_DAYS`] after `start`.
    pub end: DateTime<Utc>,
    /// Empty means every status.
    pub statuses: Vec<Status>,
}

/// Parses a `GET requests` query string (without the `?`); `now` places the default window.
///
/// Dates: neither given → the last 90 days up to `now`; only `start_date` → 90 days from it;
/// only `end_date` → the 90 days before it; both → that range, refused when `start_date` is
/// after `end_date` or the range spans more than 90 days (the spec: "may not span more than
/// 90 days").
pub fn parse_request_query(query: &str, now: DateTime<Utc>) -> Result<RequestQuery, Vec<Error>> {
    let mut params = Params::parse(query)?;
    let mut errors = std::mem::take(&mut params.errors);
    let mut one = |name: &str| -> Option<String> {
        match params.single.iter().filter(|(n, _)| n == name).count() {
            0 => None,
            1 => params.single.iter().find(|(n, _)| n == name).and_then(|(_, v)| present(v)).map(str::to_owned),
            _ => {
                errors.push(Error::bad_param(name, "given more than once"));
                None
            }
        }
    };
    let jurisdiction_id = one("jurisdiction_id");
    let page = one("page");
    let page_size = one("page_size");
    let start_date = one("start_date");
    let end_date = one("end_date");

    let page = match page {
        None => 1,
        Some(page) => positive("page", &page).map_err(|e| errors.push(e)).unwrap_or(1),
    };
    let page_size = match page_size {
        None => MAX_PAGE_SIZE,
        Some(size) => positive("page_size", &size).map_err(|e| errors.push(e)).unwrap_or(1).min(MAX_PAGE_SIZE),
    };

    let ids = params.list("service_request_id");
    let filter = if !ids.is_empty() {
        if ids.len() > MAX_PAGE_SIZE as usize {
            errors.push(Error::bad_param("service_request_id", format_args!("more than {MAX_PAGE_SIZE} ids")));
        }
        RequestFilter::Ids(ids)
    } else {
        let mut date = |name: &str, value: Option<String>| {
            let value = value?;
            let parsed = w3c::parse(&value);
            if parsed.is_none() {
                errors.push(Error::bad_param(name, "not a W3C date-time with zone, like 2010-01-01T00:00:00Z"));
            }
            parsed
        };
        let start = date("start_date", start_date);
        let end = date("end_date", end_date);
        let window = TimeDelta::days(WINDOW_DAYS);
        let (start, end) = match (start, end) {
            (None, None) => (now - window, now),
            (Some(start), None) => (start, start + window),
            (None, Some(end)) => (end - window, end),
            (Some(start), Some(end)) => {
                if start > end {
                    errors.push(Error::bad_param("start_date", "after end_date"));
                } else if end - start > window {
                    errors.push(Error::bad_param(
                        "end_date",
                        format_args!("more than {WINDOW_DAYS} days after start_date"),
                    ));
                }
                (start, end)
            }
        };
        let mut statuses = Vec::new();
        for status in params.list("status") {
            match status.as_str() {
                "open" => statuses.push(Status::Open),
                "closed" => statuses.push(Status::Closed),
                other => {
                    errors.push(Error::bad_param("status", format_args!("{} is not open or closed", shown(other))))
                }
            }
        }
        RequestFilter::Search(Search { service_codes: params.list("service_code"), start, end, statuses })
    };

    if errors.is_empty() { Ok(RequestQuery { jurisdiction_id, filter, page, page_size }) } else { Err(errors) }
}

/// Reads `jurisdiction_id`, the one parameter of `GET services`, `GET services/{code}`,
/// `GET requests/{id}` and `GET tokens/{token}`. None when absent or empty.
pub fn parse_jurisdiction(query: &str) -> Result<Option<String>, Vec<Error>> {
    let params = Params::parse(query)?;
    let mut values = params.single.iter().filter(|(n, _)| n == "jurisdiction_id");
    let (first, second) = (values.next(), values.next());
    let mut errors = params.errors;
    if second.is_some() {
        errors.push(Error::bad_param("jurisdiction_id", "given more than once"));
    }
    if errors.is_empty() { Ok(first.and_then(|(_, v)| present(v)).map(str::to_owned)) } else { Err(errors) }
}

/// The decoded, size-checked parameters of a query string.
struct Params {
    /// Every parameter but the comma-separated lists.
    single: Vec<(String, String)>,
    /// `service_request_id`, `service_code` and `status`, which the spec says "can be declared
    /// multiple times, comma delimited": both repetition and commas are accepted.
    lists: Vec<(String, String)>,
    /// Problems found in values that do not stop the parse.
    errors: Vec<Error>,
}

impl Params {
    fn parse(query: &str) -> Result<Params, Vec<Error>> {
        let fields = decode(query.as_bytes(), "query")?;
        check_limits(&fields, "query")?;
        let mut params = Params { single: Vec::new(), lists: Vec::new(), errors: Vec::new() };
        for (name, value) in fields {
            let list = matches!(name.as_str(), "service_request_id" | "service_code" | "status");
            let known =
                list || matches!(name.as_str(), "jurisdiction_id" | "start_date" | "end_date" | "page" | "page_size");
            if !known {
                continue;
            }
            if let Err(error) = check_text(&name, &value, false) {
                params.errors.push(error);
            } else if list {
                params.lists.push((name, value));
            } else {
                params.single.push((name, value));
            }
        }
        Ok(params)
    }

    /// The items of a comma-separated list parameter, trimmed, empty items dropped, each once.
    fn list(&self, name: &str) -> Vec<String> {
        let mut items: Vec<String> = Vec::new();
        for (_, value) in self.lists.iter().filter(|(n, _)| n == name) {
            for item in value.split(',').filter_map(present) {
                if !items.iter().any(|seen| seen == item) {
                    items.push(item.to_owned());
                }
            }
        }
        items
    }
}

fn positive(name: &str, value: &str) -> Result<u32, Error> {
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if !digits || value.bytes().all(|b| b == b'0') {
        return Err(Error::bad_param(name, "not a positive whole number"));
    }
    // Too large to count is still a fine request for "as many as allowed" or "past the end".
    Ok(value.parse().unwrap_or(u32::MAX))
}
