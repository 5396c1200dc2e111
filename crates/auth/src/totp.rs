use totp_rs::{Algorithm, Secret as TotpSecret, TOTP};

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("the stored second-factor secret is unusable")]
    BadSecret,
}

/// RFC 6238 codes: 6 digits, 30 s steps, SHA-1 — what every authenticator app understands.
pub struct Totp(TOTP);

impl Totp {
    pub fn generate(issuer: &str, account: &str) -> Result<Self, TotpError> {
        let secret = TotpSecret::generate_secret();
        Self::from_base32(&secret.to_encoded().to_string(), issuer, account)
    }

    pub fn from_base32(secret: &str, issuer: &str, account: &str) -> Result<Self, TotpError> {
        let bytes = TotpSecret::Encoded(secret.to_owned()).to_bytes().map_err(|_| TotpError::BadSecret)?;
        TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, Some(issuer.to_owned()), account.to_owned())
            .map(Totp)
            .map_err(|_| TotpError::BadSecret)
    }

    pub fn secret_base32(&self) -> String {
        self.0.get_secret_base32()
    }

    pub fn url(&self) -> String {
        self.0.get_url()
    }

    /// Accepts the code of the current step or one step either side (clock drift).
    pub fn check(&self, code: &str, unix_time: u64) -> bool {
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && self.0.check(code, unix_time)
    }

    pub fn code_at(&self, unix_time: u64) -> String {
        self.0.generate(unix_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let t = Totp::generate("Hải Đăng", "leader").unwrap();
        let again = Totp::from_base32(&t.secret_base32(), "Hải Đăng", "leader").unwrap();
        let now = 1_750_000_000;
        let code = t.code_at(now);
        assert!(again.check(&code, now));
        assert!(again.check(&code, now + 30));
        assert!(!again.check(&code, now + 120));
        assert!(!again.check("12345", now));
        assert!(t.url().starts_with("otpauth://totp/"));
    }
}
