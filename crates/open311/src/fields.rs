//! `application/x-www-form-urlencoded` decoding and the limits every parameter obeys, shared by
//! `POST requests` bodies and the query strings of the GET methods.

use percent_encoding::percent_decode;

use crate::types::Error;

/// Largest `POST requests` body accepted; a report's text fields fit many times over.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most fields (attribute list values included) in one body or query string.
pub const MAX_FIELDS: usize = 100;
/// Longest value, in characters: the spec's limit for `description`, applied to every field.
pub const MAX_VALUE_CHARS: usize = 4000;
/// Longest field name, in characters: names are the spec's or `attribute[code]`.
pub const MAX_NAME_CHARS: usize = 200;

/// Decodes a form body into its fields, in order.
///
/// Refuses (400) a body over [`MAX_BODY_BYTES`], more than [`MAX_FIELDS`] fields, and names or
/// values that are not UTF-8 once decoded: the spec requires UTF-8, and replacing bad bytes
/// would store text the citizen never wrote.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, Vec<Error>> {
    if body.len() > MAX_BODY_BYTES {
        return Err(vec![Error::bad_param("body", format_args!("larger than {MAX_BODY_BYTES} bytes"))]);
    }
    decode(body, "body")
}

/// Decodes `name=value&…` (`+` is a space, `%XX` a byte); `what` names the input in errors.
pub(crate) fn decode(input: &[u8], what: &str) -> Result<Vec<(String, String)>, Vec<Error>> {
    let mut fields = Vec::new();
    for pair in input.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        if fields.len() == MAX_FIELDS {
            return Err(vec![too_many(what)]);
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &pair[..0]),
        };
        let name = unescape(name).ok_or_else(|| vec![Error::bad_param(what, "a field name is not UTF-8")])?;
        let value = unescape(value).ok_or_else(|| vec![Error::bad_param(&shown(&name), "not UTF-8")])?;
        fields.push((name, value));
    }
    Ok(fields)
}

fn unescape(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_decode(&spaced).decode_utf8().ok().map(|s| s.into_owned())
}

/// Checks the count and sizes of fields, whichever way they arrived (form, multipart, query).
pub(crate) fn check_limits(fields: &[(String, String)], what: &str) -> Result<(), Vec<Error>> {
    if fields.len() > MAX_FIELDS {
        return Err(vec![too_many(what)]);
    }
    let mut errors = Vec::new();
    for (name, value) in fields {
        if name.chars().count() > MAX_NAME_CHARS {
            errors
                .push(Error::bad_param(what, format_args!("a field name is longer than {MAX_NAME_CHARS} characters")));
        } else if value.chars().count() > MAX_VALUE_CHARS {
            errors.push(Error::bad_param(&shown(name), format_args!("longer than {MAX_VALUE_CHARS} characters")));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn too_many(what: &str) -> Error {
    Error::bad_param(what, format_args!("more than {MAX_FIELDS} fields"))
}

/// A name fit to quote in an error: user-supplied names are cut so an error stays readable.
pub(crate) fn shown(name: &str) -> String {
    match name.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_owned(),
    }
}

/// The spec's rule for optional arguments: an empty parameter is the same as a missing one.
/// Surrounding white space is dropped first, so `" "` is empty too.
pub(crate) fn present(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty())
}

/// Control characters have no place in text a person typed; line breaks are allowed where the
/// spec allows them (`description`, `text` attributes).
pub(crate) fn check_text(name: &str, value: &str, multiline: bool) -> Result<(), Error> {
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if value.chars().any(bad) {
        let what = if multiline { "holds control characters" } else { "holds line breaks or control characters" };
        return Err(Error::bad_param(name, what));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn decodes_plus_percent_and_utf8() {
        let fields = parse_form(b"a=1+2%2B3&address_string=Ng%C3%B5+3&empty=&bare&&attribute[X][]=k").unwrap();
        assert_eq!(
            fields,
            pairs(&[("a", "1 2+3"), ("address_string", "Ngõ 3"), ("empty", ""), ("bare", ""), ("attribute[X][]", "k")])
        );
    }

    #[test]
    fn refuses_bad_utf8_naming_the_field() {
        assert_eq!(parse_form(b"description=%FF").unwrap_err(), vec![Error::bad_param("description", "not UTF-8")]);
        assert_eq!(parse_form(b"%C3=1").unwrap_err(), vec![Error::bad_param("body", "a field name is not UTF-8")]);
    }

    #[test]
    fn refuses_big_bodies_and_many_fields() {
        assert!(parse_form(&vec![b'a'; MAX_BODY_BYTES + 1]).is_err());
        let many = vec!["a=1"; MAX_FIELDS + 1].join("&");
        assert_eq!(parse_form(many.as_bytes()).unwrap_err(), vec![Error::bad_param("body", "more than 100 fields")]);
        assert_eq!(parse_form(vec!["a=1"; MAX_FIELDS].join("&").as_bytes()).unwrap().len(), MAX_FIELDS);
    }

    #[test]
    fn limits_sizes() {
        let long = "x".repeat(MAX_VALUE_CHARS + 1);
        let errors = check_limits(&pairs(&[("description", &long)]), "body").unwrap_err();
        assert_eq!(errors, vec![Error::bad_param("description", "longer than 4000 characters")]);
        // Characters, not bytes: 4000 Vietnamese letters are fine.
        assert!(check_limits(&pairs(&[("description", &"ệ".repeat(MAX_VALUE_CHARS))]), "body").is_ok());
    }

    #[test]
    fn shortens_quoted_names() {
        assert_eq!(shown("short"), "short");
        assert_eq!(shown(&"ạ".repeat(100)).chars().count(), 61);
    }
}
