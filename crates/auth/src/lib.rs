//! Credentials: everything secret about logging in, with no I/O.
//!
//! * passwords: argon2id (OWASP parameters), a policy a person can follow;
//! * session cookies, CSRF tokens and API tokens: random secrets, stored only as SHA-256
//!   (they have 256 bits of entropy, so a fast hash is enough and lookups stay cheap);
//! * TOTP (RFC 6238) for the roles that need a second factor;
//! * a login rate limiter keyed by client address and by username.

mod limiter;
mod password;
mod secrets;
mod totp;

pub use limiter::LoginLimiter;
pub use password::{PasswordHasher, check_policy};
pub use secrets::{Secret, hash_secret, new_secret, parse_api_token};
pub use totp::{Totp, TotpError};
