//! Recursive-descent parser for the query language. Only parentheses and linked-entity braces
//! recurse, and both count against `MAX_DEPTH`; everything else is a loop, so the work is
//! linear in the length of the text (plus the regex crate's own linear-time compilation).

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::{AttrPath, CmpOp, Expr, Linked, MAX_DEPTH, MAX_QUERY_LEN, Meta, Operand, ParseOptions, Pattern, Root};
use super::{Term, Test, Value};
use crate::error::{ErrorKind, NgsiError};

/// Compiled-program limits for `~=` patterns (the default of the regex crate is 10 MiB).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_NEST_LIMIT: u32 = 64;

pub(super) fn parse(q: &str, expand: &dyn Fn(&str) -> String, opts: &ParseOptions) -> Result<Expr, NgsiError> {
    if q.len() > MAX_QUERY_LEN {
        return Err(NgsiError::new(
            ErrorKind::TooComplexQuery,
            format!("q is {} bytes long; at most {MAX_QUERY_LEN} are accepted", q.len()),
        ));
    }
    parse_unbounded(q, expand, opts)
}

pub(super) fn parse_unbounded(
    q: &str,
    expand: &dyn Fn(&str) -> String,
    opts: &ParseOptions,
) -> Result<Expr, NgsiError> {
    let mut p = Parser { src: q, pos: 0, expand, opts, depth: 0 };
    p.skip_ws();
    if p.at_end() {
        return Err(p.fail(0, "q is empty; expected a query term such as name==\"x\"".to_string()));
    }
    let expr = p.or_expr()?;
    p.skip_ws();
    match p.peek() {
        None => Ok(expr),
        Some(')') => Err(p.fail(p.pos, "')' has no matching '('".to_string())),
        Some(_) => Err(p.expected("';', '|' or the end of the query")),
    }
}

/// Characters of a bare attribute name (the specification's `attrNameChar` is ALPHA / DIGIT /
/// `_`; letters of any script and `-` are accepted as well, as JSON-LD terms allow them).
pub(super) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Characters of a member name inside `[...]` (compound-value keys, language tags, `*`).
fn is_member_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !".[]{}()<>;|,\"'\\=!~".contains(c)
}

/// Where an unquoted value ends.
fn is_value_delim(c: char) -> bool {
    c.is_whitespace() || ";|(),\"[]{}".contains(c)
}

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    expand: &'a dyn Fn(&str) -> String,
    opts: &'a ParseOptions,
    depth: usize,
}

enum OpKind {
    Cmp(CmpOp),
    Pattern { negated: bool },
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek()
            && c.is_whitespace()
        {
            self.pos += c.len_utf8();
        }
    }

    /// 1-based character position of byte offset `at`.
    fn position(&self, at: usize) -> usize {
        self.src.get(..at).map_or(0, |s| s.chars().count()) + 1
    }

    fn fail(&self, at: usize, msg: String) -> NgsiError {
        NgsiError::bad_data(format!("invalid q at position {}: {msg}", self.position(at)))
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the query".to_string(),
            Some(c) => format!("'{c}'"),
        }
    }

    fn expected(&self, what: &str) -> NgsiError {
        self.fail(self.pos, format!("expected {what}, found {}", self.found()))
    }

    fn enter(&mut self) -> Result<(), NgsiError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(NgsiError::new(
                ErrorKind::TooComplexQuery,
                format!(
                    "q nests parentheses or linked-entity braces more than {MAX_DEPTH} levels deep (position {})",
                    self.position(self.pos)
                ),
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, NgsiError> {
        let mut items = Vec::new();
        loop {
            match self.and_expr()? {
                Expr::Or(inner) => items.extend(inner),
                other => items.push(other),
            }
            self.skip_ws();
            if !self.eat("|") {
                break;
            }
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Or(items) })
    }

    fn and_expr(&mut self) -> Result<Expr, NgsiError> {
        let mut items = Vec::new();
        loop {
            match self.primary()? {
                Expr::And(inner) => items.extend(inner),
                other => items.push(other),
            }
            self.skip_ws();
            if !self.eat(";") {
                break;
            }
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::And(items) })
    }

    fn primary(&mut self) -> Result<Expr, NgsiError> {
        self.skip_ws();
        let open = self.pos;
        if self.eat("(") {
            self.enter()?;
            let expr = self.or_expr()?;
            self.skip_ws();
            if !self.eat(")") {
                return Err(
                    self.expected(&format!("';', '|' or ')' to close the '(' at position {}", self.position(open)))
                );
            }
            self.depth -= 1;
            return Ok(expr);
        }
        self.term().map(Expr::Term)
    }

    fn term(&mut self) -> Result<Term, NgsiError> {
        self.skip_ws();
        if self.peek().is_none() || self.peek() == Some(')') || self.peek() == Some(';') || self.peek() == Some('|') {
            return Err(self.expected("a query term (an attribute name, '!' or '(')"));
        }
        if self.rest().starts_with('!') && !self.rest().starts_with("!=") && !self.rest().starts_with("!~=") {
            self.bump();
            self.skip_ws();
            let path = self.path()?;
            self.skip_ws();
            if self.operator().is_some() {
                return Err(self.fail(
                    self.pos,
                    "'!' asks that the attribute does not exist and takes no operator; use != to compare".to_string(),
                ));
            }
            self.end_of_term("';', '|', ')' or the end of the query")?;
            return Ok(Term { path, test: Test::NotExists });
        }
        let path = self.path()?;
        self.skip_ws();
        let test = match self.operator() {
            None => {
                self.end_of_term("an operator (==, !=, >, >=, <, <=, ~=, !~=), ';', '|', ')' or the end of the query")?;
                return Ok(Term { path, test: Test::Exists });
            }
            Some(OpKind::Pattern { negated }) => Test::Pattern { negated, pattern: self.regex()? },
            Some(OpKind::Cmp(op)) => {
                let mut operand = self.operand(op)?;
                self.expand_operand(&path, &mut operand);
                Test::Compare { op, operand }
            }
        };
        self.end_of_term("';', '|', ')' or the end of the query")?;
        Ok(Term { path, test })
    }

    fn end_of_term(&mut self, what: &str) -> Result<(), NgsiError> {
        self.skip_ws();
        match self.peek() {
            None | Some(';' | '|' | ')') => Ok(()),
            Some(_) => Err(self.expected(what)),
        }
    }

    fn operator(&mut self) -> Option<OpKind> {
        const OPS: [(&str, Option<CmpOp>); 8] = [
            ("==", Some(CmpOp::Eq)),
            ("!~=", None),
            ("!=", Some(CmpOp::Ne)),
            ("~=", None),
            (">=", Some(CmpOp::Ge)),
            ("<=", Some(CmpOp::Le)),
            (">", Some(CmpOp::Gt)),
            ("<", Some(CmpOp::Lt)),
        ];
        for (token, op) in OPS {
            if self.eat(token) {
                return Some(match op {
                    Some(op) => OpKind::Cmp(op),
                    None => OpKind::Pattern { negated: token.starts_with('!') },
                });
            }
        }
        None
    }

    // -- paths ----------------------------------------------------------------------------------

    /// A name: bare (`(name, true)`) or `<IRI>` (`(iri, false)`).
    fn name(&mut self, what: &str) -> Result<(String, bool), NgsiError> {
        let start = self.pos;
        if self.eat("<") {
            let inner = self.pos;
            while let Some(c) = self.peek()
                && c != '>'
            {
                if c.is_whitespace() || c.is_control() || "<\"{}|".contains(c) {
                    return Err(self.fail(self.pos, format!("'{c}' cannot appear in an <IRI> name")));
                }
                self.bump();
            }
            if self.at_end() {
                return Err(self.fail(start, "'<' opens an IRI name that is not closed with '>'".to_string()));
            }
            let iri = self.src[inner..self.pos].to_string();
            self.bump();
            if iri.is_empty() {
                return Err(self.fail(start, "'<>' is an empty IRI name".to_string()));
            }
            return Ok((iri, false));
        }
        while let Some(c) = self.peek()
            && is_name_char(c)
        {
            self.bump();
        }
        if self.pos == start {
            return Err(self.expected(what));
        }
        Ok((self.src[start..self.pos].to_string(), true))
    }

    fn path(&mut self) -> Result<AttrPath, NgsiError> {
        let start = self.pos;
        let (first, bare) = self.name("an attribute name")?;
        let root = if bare {
            match first.as_str() {
                "id" => Root::Id,
                "type" => Root::Type,
                "createdAt" => Root::CreatedAt,
                "modifiedAt" => Root::ModifiedAt,
                _ => Root::Attribute((self.expand)(&first)),
            }
        } else {
            Root::Attribute(first.clone())
        };
        let system = !matches!(root, Root::Attribute(_));
        let mut path = AttrPath { root, sub_attrs: Vec::new(), meta: None, members: Vec::new(), linked: None };

        if self.peek() == Some('{') {
            if system {
                return Err(self.fail(start, format!("'{first}' is an entity member, not a Relationship to follow")));
            }
            let open = self.pos;
            self.bump();
            self.enter()?;
            let save = self.pos;
            let (name, bare) = self.name("an attribute name or an entity type followed by ':'")?;
            let entity_type = if self.eat(":") {
                Some(if bare { (self.expand)(&name) } else { name })
            } else {
                self.pos = save;
                None
            };
            let inner = self.path()?;
            if !self.eat("}") {
                return Err(self.expected(&format!("'}}' to close the '{{' at position {}", self.position(open))));
            }
            self.depth -= 1;
            path.linked = Some(Box::new(Linked { entity_type, path: inner }));
            return Ok(path);
        }

        while self.peek() == Some('.') {
            if system {
                return Err(self.fail(self.pos, format!("'{first}' is an entity member and has no sub-attributes")));
            }
            if let Some(meta) = path.meta {
                return Err(self.fail(self.pos, format!("'{}' can only end a path", meta.as_str())));
            }
            self.bump();
            let (name, bare) = self.name("a sub-attribute name")?;
            match Meta::from_name(&name) {
                Some(meta) if bare => path.meta = Some(meta),
                _ => path.sub_attrs.push(if bare { (self.expand)(&name) } else { name }),
            }
        }

        while self.peek() == Some('[') {
            if system {
                return Err(self.fail(self.pos, format!("'{first}' is an entity member and has no compound value")));
            }
            if let Some(meta) = path.meta {
                return Err(self.fail(self.pos, format!("'{}' has no members to select with [...]", meta.as_str())));
            }
            self.bump();
            loop {
                let at = self.pos;
                while let Some(c) = self.peek()
                    && is_member_char(c)
                {
                    self.bump();
                }
                if self.pos == at {
                    return Err(self.expected("a member name inside [...]"));
                }
                path.members.push(self.src[at..self.pos].to_string());
                if !self.eat(".") {
                    break;
                }
            }
            if !self.eat("]") {
                return Err(self.expected("'.' or ']'"));
            }
        }
        if self.peek() == Some('{') {
            return Err(self.fail(
                self.pos,
                "a linked-entity query '{...}' can only follow the Relationship's name directly".to_string(),
            ));
        }
        Ok(path)
    }

    // -- values ---------------------------------------------------------------------------------

    fn operand(&mut self, op: CmpOp) -> Result<Operand, NgsiError> {
        let equality = matches!(op, CmpOp::Eq | CmpOp::Ne);
        self.skip_ws();
        let start = self.pos;
        let first = self.scalar()?;
        self.skip_ws();
        if self.rest().starts_with("..") {
            if !equality {
                return Err(self.fail(
                    self.pos,
                    format!("a range (low..high) only goes with == or !=, not with '{}'", op.as_str()),
                ));
            }
            self.pos += 2;
            self.skip_ws();
            let hi_start = self.pos;
            let hi = self.scalar()?;
            self.check_comparable(&first, start, "an end of a range")?;
            self.check_comparable(&hi, hi_start, "an end of a range")?;
            return match order(&first, &hi) {
                None => Err(self.fail(start, "the two ends of a range must be of the same type".to_string())),
                Some(Ordering::Greater) => Ok(Operand::Range(hi, first)),
                Some(_) => Ok(Operand::Range(first, hi)),
            };
        }
        if self.peek() == Some(',') {
            if !equality {
                return Err(self
                    .fail(self.pos, format!("a list of values only goes with == or !=, not with '{}'", op.as_str())));
            }
            let mut values = vec![first];
            while self.eat(",") {
                self.skip_ws();
                values.push(self.scalar()?);
                self.skip_ws();
            }
            if self.rest().starts_with("..") {
                return Err(self.fail(self.pos, "a list of values cannot contain a range".to_string()));
            }
            return Ok(Operand::List(values));
        }
        if !equality {
            self.check_comparable(&first, start, &format!("the value of '{}'", op.as_str()))?;
        }
        Ok(Operand::One(first))
    }

    /// Ordering operators and ranges take a `ComparableValue`: not `true`/`false`, not a URI.
    fn check_comparable(&self, v: &Value, at: usize, what: &str) -> Result<(), NgsiError> {
        match v {
            Value::Bool(_) | Value::Token(_) => {
                Err(self.fail(at, format!("{what} must be a number, a quoted string, a date, a time or a date-time")))
            }
            _ => Ok(()),
        }
    }

    fn expand_operand(&self, path: &AttrPath, operand: &mut Operand) {
        let expand_values = match &path.root {
            Root::Type => true,
            Root::Attribute(name) => {
                path.linked.is_none() && path.meta.is_none() && self.opts.expand_values.iter().any(|n| n == name)
            }
            _ => false,
        };
        if !expand_values {
            return;
        }
        let expand = |v: &mut Value| {
            if let Value::String(s) | Value::Token(s) = v {
                *s = (self.expand)(s);
            }
        };
        match operand {
            Operand::One(v) => expand(v),
            Operand::List(values) => values.iter_mut().for_each(expand),
            Operand::Range(..) => {}
        }
    }

    fn scalar(&mut self) -> Result<Value, NgsiError> {
        self.skip_ws();
        if self.peek() == Some('"') {
            return self.quoted().map(Value::String);
        }
        let start = self.pos;
        while let Some(c) = self.peek()
            && !is_value_delim(c)
            && !self.rest().starts_with("..")
        {
            self.bump();
        }
        if self.pos == start {
            return Err(self.expected("a value"));
        }
        self.classify(&self.src[start..self.pos], start)
    }

    fn classify(&self, raw: &str, at: usize) -> Result<Value, NgsiError> {
        if is_number(raw) {
            return match raw.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Value::Number(n)),
                _ => Err(self.fail(at, format!("the number {raw} is out of range"))),
            };
        }
        if looks_like_datetime(raw) {
            return parse_datetime(raw).map(Value::DateTime).ok_or_else(|| {
                self.fail(at, format!("'{raw}' is not a valid date-time (expected e.g. 2024-05-01T08:30:00Z)"))
            });
        }
        if looks_like_date(raw) {
            return NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(Value::Date)
                .map_err(|_| self.fail(at, format!("'{raw}' is not a valid date (expected e.g. 2024-05-01)")));
        }
        if looks_like_time(raw) {
            return parse_time(raw)
                .map(Value::Time)
                .ok_or_else(|| self.fail(at, format!("'{raw}' is not a valid time (expected e.g. 08:30:00Z)")));
        }
        match raw {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
        if let Some(c) = raw.chars().next()
            && "=!<>~".contains(c)
        {
            return Err(self.fail(at, format!("expected a value, found '{c}'")));
        }
        Ok(Value::Token(raw.to_string()))
    }

    /// A double-quoted string; `\"` and `\\` are escapes, any other backslash is kept.
    fn quoted(&mut self) -> Result<String, NgsiError> {
        let open = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.fail(open, "this string is not closed with '\"'".to_string())),
                Some('"') => return Ok(out),
                Some('\\') => match self.peek() {
                    Some(c @ ('"' | '\\')) => {
                        self.bump();
                        out.push(c);
                    }
                    _ => out.push('\\'),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// The pattern of `~=` / `!~=`: a quoted string, or unquoted text up to the end of the term
    /// (a `;`, `|`, `)` or space outside the pattern's own parentheses and classes).
    fn regex(&mut self) -> Result<Pattern, NgsiError> {
        self.skip_ws();
        let start = self.pos;
        let source = if self.peek() == Some('"') {
            self.quoted()?
        } else {
            let mut depth = 0usize;
            let mut in_class = false;
            while let Some(c) = self.peek() {
                if c == '\\' {
                    self.bump();
                    self.bump();
                    continue;
                }
                if in_class {
                    in_class = c != ']';
                } else {
                    match c {
                        '[' => in_class = true,
                        '(' => depth += 1,
                        ')' if depth == 0 => break,
                        ')' => depth -= 1,
                        ';' | '|' if depth == 0 => break,
                        c if c.is_whitespace() && depth == 0 => break,
                        _ => {}
                    }
                }
                self.bump();
            }
            if self.pos == start {
                return Err(self.expected("a regular expression"));
            }
            self.src[start..self.pos].to_string()
        };
        let built = regex::RegexBuilder::new(&source)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build();
        match built {
            Ok(regex) => Ok(Pattern { source, regex }),
            Err(regex::Error::CompiledTooBig(limit)) => Err(NgsiError::new(
                ErrorKind::TooComplexQuery,
                format!(
                    "the regular expression at position {} compiles to more than {limit} bytes",
                    self.position(start)
                ),
            )),
            Err(e) => {
                // the regex crate's message spans lines (pattern, caret, error); keep the error
                let text = e.to_string();
                let reason = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("invalid").trim();
                Err(self.fail(start, format!("invalid regular expression: {reason}")))
            }
        }
    }
}

/// How two literals order, when they are of one comparable kind.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// `-?digits(.digits)?([eE][+-]?digits)?`
fn is_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > from
    };
    if !digits(&mut i) {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

fn digits_at(b: &[u8], at: &[usize]) -> bool {
    at.iter().all(|&i| b.get(i).is_some_and(u8::is_ascii_digit))
}

/// `dddd-dd-ddT…`
pub(super) fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 11 && digits_at(b, &[0, 1, 2, 3, 5, 6, 8, 9]) && b[4] == b'-' && b[7] == b'-' && b[10] == b'T'
}

/// `dddd-dd-dd`
pub(super) fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && digits_at(b, &[0, 1, 2, 3, 5, 6, 8, 9]) && b[4] == b'-' && b[7] == b'-'
}

/// `dd:dd…`
pub(super) fn looks_like_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 5 && digits_at(b, &[0, 1, 3, 4]) && b[2] == b':'
}

/// An ISO 8601 date-time: with `Z` or an offset, or without (then taken as UTC).
pub(super) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    let naive = s.strip_suffix('Z').unwrap_or(s);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(dt.and_utc());
        }
    }
    None
}

/// `hh:mm[:ss[.fff]][Z]`
pub(super) fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    NaiveTime::parse_from_str(s, "%H:%M:%S%.f").or_else(|_| NaiveTime::parse_from_str(s, "%H:%M")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_syntax() {
        for ok in ["0", "-1", "1.5", "1e5", "1E+5", "-2.5e-3", "007"] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", "-", "1.", ".5", "1e", "1e+", "+1", "1..5", "1x", "inf", "NaN"] {
            assert!(!is_number(bad), "{bad}");
        }
    }

    #[test]
    fn date_shapes() {
        assert!(parse_datetime("2018-01-01T00:00:00Z").is_some());
        assert!(parse_datetime("2018-01-01T00:00:00.123+07:00").is_some());
        assert!(parse_datetime("2018-01-01T00:00:00").is_some());
        assert!(parse_datetime("2018-01-01T00:00").is_some());
        assert!(parse_datetime("2018-13-01T00:00:00Z").is_none());
        assert!(parse_time("12:30:00Z").is_some());
        assert!(parse_time("25:30:00").is_none());
    }
}
