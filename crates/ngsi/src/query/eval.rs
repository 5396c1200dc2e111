//! Evaluating a parsed query against an entity (semantics in the module documentation).

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as Json;

use super::parse::{looks_like_date, looks_like_datetime, looks_like_time, parse_datetime, parse_time};
use super::{AttrPath, CmpOp, Expr, Meta, Operand, Root, Term, Test, Value};
use crate::entity::{AttrKind, Attribute, Entity};

type Resolver<'r> = &'r dyn Fn(&str) -> Option<Entity>;

/// How deep arrays nested in a value are looked into.
const MAX_ARRAY_NESTING: usize = 16;

pub(super) fn matches(expr: &Expr, entity: &Entity, resolve: Resolver<'_>) -> bool {
    match expr {
        Expr::And(items) => items.iter().all(|e| matches(e, entity, resolve)),
        Expr::Or(items) => items.iter().any(|e| matches(e, entity, resolve)),
        Expr::Term(term) => term_matches(term, entity, resolve),
    }
}

/// A value the path leads to, before arrays are looked into.
#[derive(Clone, Copy)]
enum Tv<'a> {
    Json(&'a Json),
    Instant(DateTime<Utc>),
    Str(&'a str),
}

struct Target<'a> {
    value: Tv<'a>,
    /// Read from a Relationship (its `object`): only `==` and `!=` apply.
    rel: bool,
}

/// One comparable value: an array element, a language value, a timestamp…
#[derive(Clone, Copy)]
enum Atom<'a> {
    Json(&'a Json),
    Instant(DateTime<Utc>),
    Str(&'a str),
}

fn term_matches(term: &Term, entity: &Entity, resolve: Resolver<'_>) -> bool {
    let path = &term.path;
    match &term.test {
        Test::Exists => any_target(entity, path, resolve, &mut |_| true),
        Test::NotExists => !any_target(entity, path, resolve, &mut |_| true),
        Test::Compare { op: CmpOp::Eq, operand } => {
            any_target(entity, path, resolve, &mut |t| any_atom(t, &mut |a| operand_eq(a, operand)))
        }
        Test::Compare { op: CmpOp::Ne, operand } => {
            let mut exists = false;
            let equal = any_target(entity, path, resolve, &mut |t| {
                exists = true;
                any_atom(t, &mut |a| operand_eq(a, operand))
            });
            exists && !equal
        }
        Test::Compare { op, operand } => {
            let Operand::One(value) = operand else { return false };
            any_target(entity, path, resolve, &mut |t| {
                !t.rel && any_atom(t, &mut |a| compare(a, value).is_some_and(|o| ordering_holds(*op, o)))
            })
        }
        Test::Pattern { negated: false, pattern } => any_target(entity, path, resolve, &mut |t| {
            !t.rel && any_atom(t, &mut |a| atom_str(a).is_some_and(|s| pattern.is_match(s)))
        }),
        Test::Pattern { negated: true, pattern } => {
            let mut exists = false;
            let matched = any_target(entity, path, resolve, &mut |t| {
                if t.rel {
                    return false;
                }
                exists = true;
                any_atom(t, &mut |a| atom_str(a).is_some_and(|s| pattern.is_match(s)))
            });
            exists && !matched
        }
    }
}

fn ordering_holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
    }
}

fn operand_eq(a: Atom<'_>, operand: &Operand) -> bool {
    match operand {
        Operand::One(v) => compare(a, v) == Some(Ordering::Equal),
        Operand::List(values) => values.iter().any(|v| compare(a, v) == Some(Ordering::Equal)),
        Operand::Range(lo, hi) => {
            compare(a, lo).is_some_and(|o| o != Ordering::Less)
                && compare(a, hi).is_some_and(|o| o != Ordering::Greater)
        }
    }
}

/// Calls `f` on every target value of `path` until it says yes; whether one did.
fn any_target(entity: &Entity, path: &AttrPath, resolve: Resolver<'_>, f: &mut dyn FnMut(&Target<'_>) -> bool) -> bool {
    let plain = |value| Target { value, rel: false };
    let name = match &path.root {
        Root::Id => return f(&plain(Tv::Str(&entity.id))),
        Root::Type => return entity.types.iter().any(|t| f(&plain(Tv::Str(t)))),
        Root::CreatedAt => return entity.created_at.is_some_and(|d| f(&plain(Tv::Instant(d)))),
        Root::ModifiedAt => return entity.modified_at.is_some_and(|d| f(&plain(Tv::Instant(d)))),
        Root::Attribute(name) => name,
    };
    let Some(instances) = entity.attrs.get(name) else { return false };

    if let Some(linked) = &path.linked {
        for attr in instances {
            if !matches!(attr.kind, AttrKind::Relationship | AttrKind::ListRelationship) {
                continue;
            }
            let mut ids = Vec::new();
            object_ids(&attr.value, 0, &mut ids);
            for id in ids {
                let Some(target) = resolve(id) else { continue };
                if let Some(ty) = &linked.entity_type
                    && !target.types.contains(ty)
                {
                    continue;
                }
                if any_target(&target, &linked.path, resolve, f) {
                    return true;
                }
            }
        }
        return false;
    }

    let mut current: Vec<&Attribute> = instances.iter().collect();
    for sub in &path.sub_attrs {
        current = current.iter().filter_map(|a| a.sub_attrs.get(sub)).flatten().collect();
        if current.is_empty() {
            return false;
        }
    }
    for attr in current {
        if let Some(meta) = path.meta {
            let value = match meta {
                Meta::ObservedAt => attr.observed_at.map(Tv::Instant),
                Meta::CreatedAt => attr.created_at.map(Tv::Instant),
                Meta::ModifiedAt => attr.modified_at.map(Tv::Instant),
                Meta::UnitCode => attr.unit_code.as_deref().map(Tv::Str),
                Meta::DatasetId => attr.dataset_id.as_deref().map(Tv::Str),
            };
            if let Some(value) = value
                && f(&plain(value))
            {
                return true;
            }
            continue;
        }
        let rel = matches!(attr.kind, AttrKind::Relationship | AttrKind::ListRelationship);
        if attr_values(attr, &path.members, &mut |v| f(&Target { value: Tv::Json(v), rel })) {
            return true;
        }
    }
    false
}

/// The URIs a Relationship / ListRelationship points to.
fn object_ids<'a>(v: &'a Json, depth: usize, out: &mut Vec<&'a str>) {
    match v {
        Json::String(s) => out.push(s),
        Json::Array(items) if depth < MAX_ARRAY_NESTING => items.iter().for_each(|i| object_ids(i, depth + 1, out)),
        Json::Object(m) => {
            if let Some(inner) = m.get("object").or_else(|| m.get("@id")) {
                object_ids(inner, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// The values of one attribute instance the member path selects.
fn attr_values(attr: &Attribute, members: &[String], f: &mut dyn FnMut(&Json) -> bool) -> bool {
    let base = &attr.value;
    if attr.kind == AttrKind::LanguageProperty
        && let Json::Object(map) = base
    {
        return match members.split_first() {
            None => map.values().any(&mut *f),
            Some((lang, rest)) => map
                .iter()
                .filter(|(key, _)| lang == "*" || key.eq_ignore_ascii_case(lang))
                .any(|(_, v)| navigate(v, rest, f)),
        };
    }
    navigate(base, members, f)
}

/// Follows a compound-value member path (into every element of arrays on the way).
fn navigate(v: &Json, members: &[String], f: &mut dyn FnMut(&Json) -> bool) -> bool {
    let mut frontier = vec![v];
    for member in members {
        let mut next = Vec::new();
        for v in frontier {
            match v {
                Json::Object(m) => next.extend(m.get(member)),
                Json::Array(items) => {
                    next.extend(items.iter().filter_map(|i| i.as_object().and_then(|m| m.get(member))));
                }
                _ => {}
            }
        }
        if next.is_empty() {
            return false;
        }
        frontier = next;
    }
    frontier.into_iter().any(f)
}

/// Calls `f` on the comparable values of a target: array elements, typed literals unwrapped.
fn any_atom(t: &Target<'_>, f: &mut dyn FnMut(Atom<'_>) -> bool) -> bool {
    match t.value {
        Tv::Instant(d) => f(Atom::Instant(d)),
        Tv::Str(s) => f(Atom::Str(s)),
        Tv::Json(v) => flatten(v, t.rel, 0, f),
    }
}

fn flatten(v: &Json, rel: bool, depth: usize, f: &mut dyn FnMut(Atom<'_>) -> bool) -> bool {
    match v {
        Json::Array(items) => depth < MAX_ARRAY_NESTING && items.iter().any(|i| flatten(i, rel, depth + 1, f)),
        Json::Object(m) if depth < MAX_ARRAY_NESTING => {
            // a JSON-LD typed literal ({"@type": "DateTime", "@value": "…"}), or an object
            // of a ListRelationship / expanded relationship ({"object": …}, {"@id": …})
            let inner = m.get("@value").or_else(|| if rel { m.get("object").or_else(|| m.get("@id")) } else { None });
            match inner {
                Some(inner) => flatten(inner, rel, depth + 1, f),
                None => f(Atom::Json(v)),
            }
        }
        _ => f(Atom::Json(v)),
    }
}

fn atom_str(a: Atom<'_>) -> Option<&str> {
    match a {
        Atom::Json(Json::String(s)) => Some(s),
        Atom::Str(s) => Some(s),
        _ => None,
    }
}

fn midnight(d: &NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// A date-time target as an instant (a date-only string counts as 00:00 UTC that day).
fn atom_instant(a: Atom<'_>) -> Option<DateTime<Utc>> {
    if let Atom::Instant(d) = a {
        return Some(d);
    }
    let s = atom_str(a)?;
    if looks_like_datetime(s) {
        parse_datetime(s)
    } else if looks_like_date(s) {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| midnight(&d))
    } else {
        None
    }
}

/// How the target atom orders against the query value; `None` when their types differ.
fn compare(a: Atom<'_>, v: &Value) -> Option<Ordering> {
    match v {
        Value::Number(n) => match a {
            Atom::Json(Json::Number(x)) => x.as_f64()?.partial_cmp(n),
            _ => None,
        },
        // a timestamp (observedAt, createdAt…) against a quoted date-time compares as instants
        Value::String(s) | Value::Token(s) => match a {
            Atom::Instant(d) => parse_datetime(s).map(|x| d.cmp(&x)),
            _ => atom_str(a).map(|x| x.cmp(s.as_str())),
        },
        Value::Bool(b) => match a {
            Atom::Json(Json::Bool(x)) => Some(x.cmp(b)),
            _ => None,
        },
        Value::DateTime(d) => atom_instant(a).map(|x| x.cmp(d)),
        Value::Date(d) => match atom_str(a) {
            Some(s) if looks_like_date(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|x| x.cmp(d)),
            _ => atom_instant(a).map(|x| x.cmp(&midnight(d))),
        },
        Value::Time(t) => atom_str(a).filter(|s| looks_like_time(s)).and_then(parse_time).map(|x| x.cmp(t)),
    }
}
