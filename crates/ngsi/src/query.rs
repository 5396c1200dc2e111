//! The NGSI-LD query language (clause 4.9): `q=` expressions.
//!
//! Comparisons (`==`, `!=`, `>`, `>=`, `<`, `<=`), value lists (`a==1,2,3`), ranges
//! (`a==1..5`), patterns (`~=` / `!~=` with a regular expression), existence (`a`) and
//! non-existence (`!a`), `;` (and) and `|` (or) with parentheses, attribute paths with
//! sub-attributes (`a.b`), compound-value members (`a[b.c]`), and the timestamps `observedAt`,
//! `createdAt`, `modifiedAt` as path ends. Values: numbers, quoted strings, `true`/`false`,
//! dates, times and date-times (compared as instants), URIs of relationships.
//!
//! A parsed [`Query`] has its attribute names expanded by the request's context, so it can be
//! matched against stored entities and kept in subscriptions.
//!
//! TODO(helper A): everything marked `todo!()`.

use crate::context::Context;
use crate::entity::Entity;
use crate::error::NgsiError;

/// Upper bounds that keep a query cheap to parse and evaluate; past them the error is
/// `TooComplexQuery` (403).
pub const MAX_QUERY_LEN: usize = 4096;
pub const MAX_DEPTH: usize = 32;

/// A parsed `q` expression, names expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    // TODO(helper A)
}

impl Query {
    /// Parses `q`; `InvalidRequest` (400) with a detail naming the position for syntax errors.
    pub fn parse(_q: &str, _ctx: &Context) -> Result<Query, NgsiError> {
        todo!()
    }

    pub fn matches(&self, _entity: &Entity) -> bool {
        todo!()
    }

    /// Expanded names of the attributes the expression reads (to prefilter in the store and to
    /// tell which attribute changes a subscription watches).
    pub fn attributes(&self) -> Vec<&str> {
        todo!()
    }
}
