//! The API's routes, one module per area. Each handler declares the permission it needs in its
//! signature (`Need<perm::…>`) and checks the object's unit with the visibility rule.

pub mod audit;
pub mod auth;
pub mod context_types;
pub mod duty;
pub mod events;
pub mod open311;
pub mod ops;
pub mod org;
pub mod public;
pub mod report_setup;
pub mod reports;
pub mod tokens;
pub mod users;

use crate::error::{ApiError, ApiResult};
use haidang_store::Cursor;
use serde::Deserialize;

/// A page size: 1 to 500.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "i64")]
#[schema(value_type = i64)]
pub struct Limit(usize);

impl TryFrom<i64> for Limit {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if (1..=500).contains(&v) { Ok(Limit(v as usize)) } else { Err("limit must be between 1 and 500".into()) }
    }
}

pub const DEFAULT_LIMIT: usize = 50;

pub fn page_params(limit: Option<Limit>, cursor: Option<&str>) -> ApiResult<(usize, Option<Cursor>)> {
    let after = cursor.map(Cursor::parse).transpose().map_err(|_| ApiError::BadCursor)?;
    Ok((limit.map_or(DEFAULT_LIMIT, |l| l.0), after))
}
