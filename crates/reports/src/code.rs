//! Tracking codes: what the citizen keeps to follow and rate their report.
//!
//! The code is the citizen's only credential, so it is random (49 bits), not derived from the
//! report's number, and it never appears in public lists. Letters that are easy to confuse on a
//! phone screen or over the hotline (0/O, 1/I/L, U) are left out, and reading is forgiving.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const PREFIX: &str = "PA";
const RANDOM_LEN: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingCode(String);

impl TrackingCode {
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        let body: String = (0..RANDOM_LEN).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
        TrackingCode(format!("{PREFIX}{body}"))
    }

    /// Reads a code as a person types it: any case, spaces, dots and dashes ignored. Symbols
    /// outside the alphabet are refused rather than guessed at.
    pub fn parse(s: &str) -> Option<Self> {
        let cleaned: String =
            s.chars().filter(|c| !matches!(c, ' ' | '-' | '.')).map(|c| c.to_ascii_uppercase()).collect();
        let body = cleaned.strip_prefix(PREFIX)?;
        (body.len() == RANDOM_LEN && body.bytes().all(|b| ALPHABET.contains(&b))).then_some(TrackingCode(cleaned))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_and_differ() {
        let a = TrackingCode::generate();
        let b = TrackingCode::generate();
        assert_ne!(a, b);
        assert_eq!(TrackingCode::parse(a.as_str()), Some(a.clone()));
        let typed = a
            .as_str()
            .to_lowercase()
            .chars()
            .collect::<Vec<_>>()
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(TrackingCode::parse(&typed), Some(a));
    }

    #[test]
    fn garbage_is_refused() {
        for bad in ["", "PA", "PA123", "XX23456789AB", "PA23456789A0", "PA23456789AO", "PA23456789ABC", "PA2345678%AB"]
        {
            assert_eq!(TrackingCode::parse(bad), None, "{bad}");
        }
    }
}
