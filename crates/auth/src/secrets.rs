use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly made secret and the hash under which it is stored.
pub struct Secret {
    pub value: String,
    pub hash: String,
}

/// 256 random bits, URL-safe, with a prefix that says what it is (`hds_` session, `hdt_`
/// API token), which helps secret scanners and people reading logs.
pub fn new_secret(prefix: &str) -> Secret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let value = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_secret(&value);
    Secret { value, hash }
}

pub fn hash_secret(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Accepts what an API token can look like, so garbage is refused before any lookup.
/// Generated tokens start with `hdt_`; a token an operator chose (the demo's `--demo-token`)
/// need only be 8–200 URL-safe characters.
pub fn parse_api_token(value: &str) -> Option<&str> {
    let ok = (8..=200).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~'));
    ok.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_hashed() {
        let a = new_secret("hdt_");
        let b = new_secret("hdt_");
        assert_ne!(a.value, b.value);
        assert_eq!(a.hash, hash_secret(&a.value));
        assert_eq!(a.hash.len(), 64);
        assert!(parse_api_token(&a.value).is_some());
        assert!(parse_api_token("hdt_ab cd").is_none());
        assert!(parse_api_token("Bearer x").is_none());
        assert!(parse_api_token("short").is_none());
        assert!(parse_api_token("demo-token-2025").is_some());
    }
}
