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
//! # Grammar accepted
//!
//! ```text
//! Query      = AndQuery *("|" AndQuery)              ; ";" binds tighter than "|"
//! AndQuery   = Primary *(";" Primary)
//! Primary    = "(" Query ")" / Term                  ; nesting at most MAX_DEPTH
//! Term       = "!" Path                              ; non-existence
//!            / Path [ Op Operand / PatOp RegExp ]    ; existence when alone
//! Path       = Name [ "{" [ Name ":" ] Path "}" ]    ; linked-entity sub-query (type hint)
//!            / Name *("." Name) [ "." Meta ] *("[" Member *("." Member) "]")
//! Name       = 1*(ALPHA / DIGIT / "_" / "-") / "<" IRI ">"     ; <IRI>: taken as is, not expanded
//! Meta       = "observedAt" / "createdAt" / "modifiedAt" / "unitCode" / "datasetId"
//! Op         = "==" / "!=" / ">=" / ">" / "<=" / "<"
//! PatOp      = "~=" / "!~="
//! Operand    = Value / Value 1*("," Value) / Comparable ".." Comparable   ; lists, ranges: == and != only
//! Value      = Comparable / "true" / "false" / Token
//! Comparable = Number / QuotedString / DateTime / Date / Time
//! ```
//!
//! The first name may also be one of the entity members `id`, `type`, `createdAt`,
//! `modifiedAt` (no sub-path). A `Token` is any other unquoted text (URIs of relationships,
//! vocabulary terms): it compares like a string. In quoted strings `\"` and `\\` are escapes;
//! any other backslash is kept as is (so regular expressions such as `"\d+"` need no doubling).
//! Spaces around operators and parentheses are tolerated. The caller has already
//! percent-decoded the text.
//!
//! Syntax errors are `BadRequestData` (clause 5.7.2.4: "the query … not syntactically valid";
//! the ETSI test suite checks the 400 and that type); a query longer than [`MAX_QUERY_LEN`] or
//! nested deeper than [`MAX_DEPTH`] is `TooComplexQuery` (403).
//!
//! # Matching
//!
//! A term with an operator needs its target to exist. The target values of a path are the
//! values of every instance of the attribute (all `datasetId`s), of every matching
//! sub-attribute, and, inside them, every element of an array and every language of a
//! LanguageProperty (or only the one named: `color[en]`, `color[*]` for any). `==`, ordering
//! operators and `~=` match when at least one target value does; `!=` and `!~=` match when
//! the target exists and *no* value is equal / matches (so `!=` is the negation of `==` among
//! entities that have the attribute). A Relationship compares its `object` and only with `==`
//! and `!=`; any other operator never matches it (clause 4.9). Values of different types
//! never compare (the term is false, never an error): numbers with numbers, strings and tokens
//! with strings, date-times with date-time strings and timestamps (a date with a date-time is
//! taken as that day at 00:00 UTC; a timestamp such as `observedAt` also compares with a quoted
//! date-time, as an instant), times with time strings, booleans with booleans. Strings order
//! by code point. Typed literals (`{"@type": "DateTime", "@value": …}`) compare by their value.
//!
//! Linked-entity terms (`managedBy{name}=="x"`) need the targets of the Relationship:
//! [`Query::matches_with`] takes a resolver; [`Query::linked_depth`] tells the API how many
//! hops `join`/`joinLevel` must allow (clause 5.7.2.4 wants a 400 otherwise).

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};

use crate::context::Context;
use crate::entity::Entity;
use crate::error::NgsiError;

mod eval;
mod parse;

/// Upper bounds that keep a query cheap to parse and evaluate; past them the error is
/// `TooComplexQuery` (403).
pub const MAX_QUERY_LEN: usize = 4096;
pub const MAX_DEPTH: usize = 32;

/// A parsed `q` expression, names expanded.
///
/// `Display` gives a canonical text (expanded names written `<IRI>`) that
/// [`Query::from_canonical`] reads back to an equal query: the form to keep in a subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    expr: Expr,
}

/// A necessary condition of a query on an attribute's numeric value (see
/// [`Query::numeric_bounds`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NumericBound {
    /// Expanded attribute name.
    pub attr: String,
    /// Never `Ne`.
    pub op: CmpOp,
    pub value: f64,
}

/// What [`Query::parse_with`] needs besides the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Expanded names of the attributes whose query values are expanded too (the
    /// `expandValues` parameter, clause 4.9 EXAMPLE 12): `category==commercial` then compares
    /// with the expanded vocabulary IRI.
    pub expand_values: Vec<String>,
}

/// The expression tree. `And` and `Or` have at least two members and never a member of their
/// own kind (nested groups of the same operator are flattened).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Term(Term),
}

/// One query term: a path and what is asked of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub path: AttrPath,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `a`: the target exists.
    Exists,
    /// `!a`: the target does not exist.
    NotExists,
    /// `a==…`, `a>…`, …
    Compare { op: CmpOp, operand: Operand },
    /// `a~=…` (or `a!~=…` when `negated`).
    Pattern { negated: bool, pattern: Pattern },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

/// The right-hand side of a comparison. Lists and ranges only come with `==` / `!=`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    One(Value),
    /// `a==1,2,"x"`: equal to any of them.
    List(Vec<Value>),
    /// `a==lo..hi`, both ends included; stored with `lo <= hi` (the specification speaks of the
    /// minimum and the maximum of the range, so `5..1` is the same range as `1..5`).
    Range(Value, Value),
}

/// A literal of the query language.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Always finite.
    Number(f64),
    /// A quoted string, unescaped.
    String(String),
    Bool(bool),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
    Time(NaiveTime),
    /// Unquoted text that is none of the above: a URI (`urn:ngsi-ld:Parking:1`) or a term.
    Token(String),
}

/// A compiled regular expression (the `regex` crate's syntax, unanchored search, linear
/// time), compared by its source.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: regex::Regex,
}

impl Pattern {
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// An attribute path, names expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    pub root: Root,
    /// Sub-attribute names (expanded), outermost first: `a.b.c` → `[b, c]`.
    pub sub_attrs: Vec<String>,
    /// A metadata member ending the path: `a.observedAt`.
    pub meta: Option<Meta>,
    /// The member path inside the value (`a[b.c]` → `[b, c]`); not expanded. For a
    /// LanguageProperty its first element is a language tag or `*`.
    pub members: Vec<String>,
    /// `rel{[Type:]path}`: the path is evaluated on the entities the Relationship `rel`
    /// (the root) points to. Only with an attribute root and no sub-path of its own.
    pub linked: Option<Box<Linked>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// An attribute, by expanded name.
    Attribute(String),
    /// The entity's `id`.
    Id,
    /// The entity's types (query values are expanded like type names).
    Type,
    /// The entity's `createdAt`.
    CreatedAt,
    /// The entity's `modifiedAt`.
    ModifiedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    ObservedAt,
    CreatedAt,
    ModifiedAt,
    UnitCode,
    DatasetId,
}

impl Meta {
    pub fn as_str(self) -> &'static str {
        match self {
            Meta::ObservedAt => "observedAt",
            Meta::CreatedAt => "createdAt",
            Meta::ModifiedAt => "modifiedAt",
            Meta::UnitCode => "unitCode",
            Meta::DatasetId => "datasetId",
        }
    }

    fn from_name(name: &str) -> Option<Meta> {
        Some(match name {
            "observedAt" => Meta::ObservedAt,
            "createdAt" => Meta::CreatedAt,
            "modifiedAt" => Meta::ModifiedAt,
            "unitCode" => Meta::UnitCode,
            "datasetId" => Meta::DatasetId,
            _ => return None,
        })
    }
}

/// The target of a linked-entity sub-query (`managedBy{Building:name}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Linked {
    /// Expanded entity type the linked entity must have, if given.
    pub entity_type: Option<String>,
    pub path: AttrPath,
}

impl Query {
    /// Parses `q`; `BadRequestData` (400) with a detail naming the position for syntax errors,
    /// `TooComplexQuery` (403) past [`MAX_QUERY_LEN`] / [`MAX_DEPTH`].
    pub fn parse(q: &str, ctx: &Context) -> Result<Query, NgsiError> {
        Self::parse_with(q, &|term| ctx.expand(term), &ParseOptions::default())
    }

    /// The same with `expandValues` (names given as the client wrote them, expanded here).
    pub fn parse_expanding_values(q: &str, ctx: &Context, expand_values: &[&str]) -> Result<Query, NgsiError> {
        let opts = ParseOptions { expand_values: expand_values.iter().map(|name| ctx.expand(name)).collect() };
        Self::parse_with(q, &|term| ctx.expand(term), &opts)
    }

    /// The parser itself: `expand` turns a term (attribute name, sub-attribute name, entity
    /// type, value to expand) into its IRI. Names written `<IRI>` are not passed to it.
    pub fn parse_with(q: &str, expand: &dyn Fn(&str) -> String, opts: &ParseOptions) -> Result<Query, NgsiError> {
        parse::parse(q, expand, opts).map(|expr| Query { expr })
    }

    /// Reads back the canonical text of `Display` (names are already expanded there). The
    /// length limit does not apply (expanded names make the text longer than the client's);
    /// the depth limit does.
    pub fn from_canonical(text: &str) -> Result<Query, NgsiError> {
        parse::parse_unbounded(text, &|term| term.to_string(), &ParseOptions::default()).map(|expr| Query { expr })
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Matches without following relationships: linked-entity terms (`rel{…}`) see no target.
    pub fn matches(&self, entity: &Entity) -> bool {
        self.matches_with(entity, &|_| None)
    }

    /// Matches, fetching the targets of linked-entity terms with `resolve` (entity id → entity).
    pub fn matches_with(&self, entity: &Entity, resolve: &dyn Fn(&str) -> Option<Entity>) -> bool {
        eval::matches(&self.expr, entity, resolve)
    }

    /// Expanded names of the attributes the expression reads (to prefilter in the store and to
    /// tell which attribute changes a subscription watches), in order of appearance, without
    /// repeats. Entity members (`id`, `type`, `createdAt`, `modifiedAt`) are not attributes and
    /// are left out (so an empty list means the query reads system members only); attributes of
    /// linked entities are left out too (they are not on this entity).
    pub fn attributes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.for_each_term(&mut |term| {
            if let Root::Attribute(name) = &term.path.root
                && !out.contains(&name.as_str())
            {
                out.push(name);
            }
        });
        out
    }

    /// Numeric comparisons every match must pass: the terms `attr op number` (`op` one of
    /// `==` `>` `>=` `<` `<=`, a plain attribute path) that the whole expression requires (the
    /// expression itself, or a member of its top-level `;`). An entity none of whose instances
    /// of `attr` holds a number passing the test can only match if some instance holds
    /// something else (text, a list, no `value`) — the store narrows with that before the
    /// exact check.
    pub fn numeric_bounds(&self) -> Vec<NumericBound> {
        let required: Vec<&Expr> = match &self.expr {
            Expr::And(members) => members.iter().collect(),
            other => vec![other],
        };
        required
            .into_iter()
            .filter_map(|e| match e {
                Expr::Term(Term {
                    path: AttrPath { root: Root::Attribute(attr), sub_attrs, meta: None, members, linked: None },
                    test: Test::Compare { op, operand: Operand::One(Value::Number(value)) },
                }) if sub_attrs.is_empty() && members.is_empty() && *op != CmpOp::Ne => {
                    Some(NumericBound { attr: attr.clone(), op: *op, value: *value })
                }
                _ => None,
            })
            .collect()
    }

    /// How many relationships the deepest linked-entity term follows (`a{b{c}}` → 2); 0 when
    /// there is none. The API compares it with `join` / `joinLevel` (clause 5.7.2.4).
    pub fn linked_depth(&self) -> usize {
        let mut depth = 0;
        self.for_each_term(&mut |term| {
            let mut d = 0;
            let mut path = &term.path;
            while let Some(linked) = &path.linked {
                d += 1;
                path = &linked.path;
            }
            depth = depth.max(d);
        });
        depth
    }

    /// The canonical text with names compacted by `compact` (to show a subscription's `q` to a
    /// client): a name that compacts to a plain term is written bare, any other as `<IRI>`;
    /// entity type values (`type==…`) are compacted too. Read back with [`Query::parse`] and
    /// the same context, it gives the same query.
    pub fn to_string_with(&self, compact: &dyn Fn(&str) -> String) -> String {
        let mut out = String::new();
        write_expr(&mut out, &self.expr, compact, false);
        out
    }

    fn for_each_term<'a>(&'a self, f: &mut dyn FnMut(&'a Term)) {
        fn walk<'a>(expr: &'a Expr, f: &mut dyn FnMut(&'a Term)) {
            match expr {
                Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| walk(e, f)),
                Expr::Term(term) => f(term),
            }
        }
        walk(&self.expr, f)
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_with(&|iri| iri.to_string()))
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical text

const SYSTEM_ROOTS: [&str; 4] = ["id", "type", "createdAt", "modifiedAt"];

fn is_bare_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(parse::is_name_char)
}

fn write_name(out: &mut String, name: &str, compact: &dyn Fn(&str) -> String, reserved: &[&str]) {
    // bare only when `compact` did compact it: a bare term is read back through the context,
    // and only a real compaction promises that the term expands to this name again
    let short = compact(name);
    if short != name && is_bare_name(&short) && !reserved.contains(&short.as_str()) {
        out.push_str(&short);
    } else {
        out.push('<');
        out.push_str(name);
        out.push('>');
    }
}

fn write_expr(out: &mut String, expr: &Expr, compact: &dyn Fn(&str) -> String, in_and: bool) {
    match expr {
        Expr::Or(items) => {
            if in_and {
                out.push('(');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                write_expr(out, item, compact, false);
            }
            if in_and {
                out.push(')');
            }
        }
        Expr::And(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(';');
                }
                write_expr(out, item, compact, true);
            }
        }
        Expr::Term(term) => write_term(out, term, compact),
    }
}

fn write_term(out: &mut String, term: &Term, compact: &dyn Fn(&str) -> String) {
    if term.test == Test::NotExists {
        out.push('!');
    }
    write_path(out, &term.path, compact);
    // entity types were expanded at parse time: show them compacted too
    let write_value = |out: &mut String, v: &Value| match v {
        Value::String(s) if term.path.root == Root::Type => write_quoted(out, &compact(s)),
        Value::Token(t) if term.path.root == Root::Type => {
            let short = compact(t);
            let safe = short != *t
                && is_bare_name(&short)
                && !short.starts_with(|c: char| c.is_ascii_digit() || c == '-')
                && short != "true"
                && short != "false";
            out.push_str(if safe { &short } else { t });
        }
        _ => write_value(out, v),
    };
    match &term.test {
        Test::Exists | Test::NotExists => {}
        Test::Compare { op, operand } => {
            out.push_str(op.as_str());
            match operand {
                Operand::One(v) => write_value(out, v),
                Operand::List(values) => {
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        write_value(out, v);
                    }
                }
                Operand::Range(lo, hi) => {
                    write_value(out, lo);
                    out.push_str("..");
                    write_value(out, hi);
                }
            }
        }
        Test::Pattern { negated, pattern } => {
            out.push_str(if *negated { "!~=" } else { "~=" });
            write_quoted(out, &pattern.source);
        }
    }
}

fn write_path(out: &mut String, path: &AttrPath, compact: &dyn Fn(&str) -> String) {
    match &path.root {
        Root::Attribute(name) => write_name(out, name, compact, &SYSTEM_ROOTS),
        Root::Id => out.push_str("id"),
        Root::Type => out.push_str("type"),
        Root::CreatedAt => out.push_str("createdAt"),
        Root::ModifiedAt => out.push_str("modifiedAt"),
    }
    if let Some(linked) = &path.linked {
        out.push('{');
        if let Some(ty) = &linked.entity_type {
            write_name(out, ty, compact, &[]);
            out.push(':');
        }
        write_path(out, &linked.path, compact);
        out.push('}');
        return;
    }
    const METAS: [&str; 5] = ["observedAt", "createdAt", "modifiedAt", "unitCode", "datasetId"];
    for sub in &path.sub_attrs {
        out.push('.');
        write_name(out, sub, compact, &METAS);
    }
    if let Some(meta) = path.meta {
        out.push('.');
        out.push_str(meta.as_str());
    }
    if !path.members.is_empty() {
        out.push('[');
        out.push_str(&path.members.join("."));
        out.push(']');
    }
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn write_value(out: &mut String, v: &Value) {
    use std::fmt::Write as _;
    match v {
        // both forms are the shortest digits that read back to the same number; the plain one
        // spells out every zero of 1e300, so take the shorter
        Value::Number(n) => {
            let plain = format!("{n}");
            let sci = format!("{n:e}");
            out.push_str(if sci.len() < plain.len() { &sci } else { &plain });
        }
        Value::String(s) => write_quoted(out, s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::DateTime(dt) => out.push_str(&dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        Value::Date(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        Value::Time(t) => {
            let _ = write!(out, "{}", t.format("%H:%M:%S%.f"));
        }
        Value::Token(t) => out.push_str(t),
    }
}
