use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use haidang_core::Invalid;

/// Hashes and verifies passwords with argon2id.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
}

impl PasswordHasher {
    /// OWASP's recommended argon2id setting: 19 MiB, 2 passes, 1 lane.
    pub fn new() -> Self {
        Self::with_params(19 * 1024, 2)
    }

    /// Cheaper parameters for tests and the demo loader, which hash many passwords at start.
    pub fn with_params(memory_kib: u32, passes: u32) -> Self {
        let params = Params::new(memory_kib, passes, 1, None).unwrap_or_default();
        Self { argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params) }
    }

    pub fn hash(&self, password: &str) -> String {
        let salt = SaltString::generate(&mut OsRng);
        match self.argon.hash_password(password.as_bytes(), &salt) {
            Ok(h) => h.to_string(),
            // Only reachable with absurd parameters; an unusable hash fails every login.
            Err(_) => "!".to_owned(),
        }
    }

    /// Constant-time verification; a malformed stored hash verifies nothing.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        PasswordHash::new(stored).is_ok_and(|h| self.argon.verify_password(password.as_bytes(), &h).is_ok())
    }

    /// Burns the same time as a real check, so unknown usernames cannot be told from wrong
    /// passwords by timing.
    pub fn verify_dummy(&self, password: &str) {
        let _ = self.argon.hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng));
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// The password policy: long enough, not trivially guessable, not the username.
/// Length matters more than character classes (NIST SP 800-63B), but a mix is still asked for
/// because people here are used to it and it stops the worst choices.
pub fn check_policy(password: &str, username: &str) -> Result<(), Invalid> {
    let field = "password";
    let chars = password.chars().count();
    if chars < 10 {
        return Err(Invalid::field(field, "must be at least 10 characters"));
    }
    if chars > 256 {
        return Err(Invalid::field(field, "must be at most 256 characters"));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_numeric()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 3 {
        return Err(Invalid::field(field, "must mix at least three of: lower case, upper case, digits, symbols"));
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(Invalid::field(field, "must not contain the username"));
    }
    const COMMON: [&str; 6] = ["password", "matkhau", "123456", "qwerty", "admin", "haidang"];
    if COMMON.iter().any(|c| lower.contains(c)) && chars < 16 {
        return Err(Invalid::field(field, "is too easy to guess"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = PasswordHasher::with_params(1024, 1);
        let stored = h.hash("Mật-khẩu-2025");
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("Mật-khẩu-2025", &stored));
        assert!(!h.verify("mật-khẩu-2025", &stored));
        assert!(!h.verify("x", "not a hash"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("Short1!", "u").is_err());
        assert!(check_policy("alllowercaseletters", "u").is_err());
        assert!(check_policy("Quy-Nhon-2025", "operator").is_ok());
        assert!(check_policy("Operator-2025x", "operator").is_err());
        assert!(check_policy("Password-2025", "u").is_err());
    }
}
