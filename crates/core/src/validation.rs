//! Validation errors that name the field and the reason, so every layer can report bad input
//! the same way (the API turns them into RFC 9457 problem details).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `grants[0].unit_id`.
    pub field: String,
    /// Why it was refused, in words a person can act on.
    pub reason: String,
}

/// One or more fields were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Invalid(vec![FieldError { field: field.into(), reason: reason.into() }])
    }
}

/// Collects field errors while validating a whole input, so the caller sees every problem at once.
#[derive(Debug, Default)]
pub struct Checker(Vec<FieldError>);

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, ok: bool, field: &str, reason: impl Into<String>) -> &mut Self {
        if !ok {
            self.0.push(FieldError { field: field.to_owned(), reason: reason.into() });
        }
        self
    }

    pub fn push(&mut self, field: &str, reason: impl Into<String>) {
        self.0.push(FieldError { field: field.to_owned(), reason: reason.into() });
    }

    /// Merges the errors of a nested validation, prefixing their field names.
    pub fn nested(&mut self, prefix: &str, result: Result<(), Invalid>) {
        if let Err(Invalid(errors)) = result {
            for e in errors {
                self.0.push(FieldError { field: format!("{prefix}{}", e.field), reason: e.reason });
            }
        }
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() { Ok(()) } else { Err(Invalid(self.0)) }
    }
}

/// A trimmed, non-empty text of bounded length.
pub fn text(checker: &mut Checker, field: &str, value: &str, max_chars: usize) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        checker.push(field, "must not be empty");
        None
    } else if trimmed.chars().count() > max_chars {
        checker.push(field, format!("must be at most {max_chars} characters"));
        None
    } else if trimmed.chars().any(|c| c.is_control()) {
        checker.push(field, "must not contain control characters");
        None
    } else {
        Some(trimmed.to_owned())
    }
}

/// An e-mail address, loosely: what a person types, not RFC 5322.
pub fn email(checker: &mut Checker, field: &str, value: &str) {
    checker.check(
        value.len() <= 254 && value.contains('@') && !value.contains(char::is_whitespace),
        field,
        "must be an e-mail address",
    );
}

/// A phone number: digits and the usual separators.
pub fn phone(checker: &mut Checker, field: &str, value: &str) {
    checker.check(
        value.len() <= 30 && value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)),
        field,
        "must be a phone number",
    );
}
