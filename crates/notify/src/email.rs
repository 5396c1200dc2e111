//! E-mail: over SMTP, or into a directory of `.eml` files for the demo. Both build the message
//! the same way, so what the demo shows is what citizens would receive.

use crate::channel::{Address, Channel, Notice, SendError, SendFuture};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the sender {0:?} is not a mailbox like \"Hải Đăng <noreply@example.vn>\": {1}")]
    From(String, String),
    #[error("cannot set up SMTP with TLS to {0}: {1}")]
    Tls(String, String),
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain text: only for a relay on the same host or a test server.
    None,
    /// Upgrade with STARTTLS, required (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The `[notify.smtp]` section of the server configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    /// Defaults to the usual port for `security`: 25, 587 or 465.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, e.g. `Hải Đăng <noreply@ioc.gialai.gov.vn>`.
    pub from: String,
    /// Whole seconds in the configuration file (`timeout = 30`).
    #[serde(default = "default_timeout", deserialize_with = "seconds")]
    pub timeout: Duration,
}

impl fmt::Debug for SmtpSettings {
    /// Leaves the password out, so settings can be logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_secs)
}

fn parse_from(from: &str) -> Result<Mailbox, SettingsError> {
    from.parse().map_err(|e: lettre::address::AddressError| SettingsError::From(from.to_owned(), e.to_string()))
}

/// Sends e-mail through an SMTP server.
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailChannel {
    /// Checks the settings without connecting: the server is first contacted by a send, so a
    /// mail server that is down does not stop the platform from starting.
    pub fn new(settings: &SmtpSettings) -> Result<Self, SettingsError> {
        let from = parse_from(&settings.from)?;
        let tls_error = |e: lettre::transport::smtp::Error| SettingsError::Tls(settings.host.clone(), e.to_string());
        let (builder, port) = match settings.security {
            Security::None => (AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host), 25),
            Security::StartTls => {
                (AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host).map_err(tls_error)?, 587)
            }
            Security::Tls => (AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(tls_error)?, 465),
        };
        let mut builder = builder.port(settings.port.unwrap_or(port)).timeout(Some(settings.timeout));
        if let Some(user) = &settings.username {
            builder =
                builder.credentials(Credentials::new(user.clone(), settings.password.clone().unwrap_or_default()));
        }
        Ok(Self { transport: builder.build(), from })
    }
}

impl Channel for EmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn accepts(&self, to: &Address) -> bool {
        matches!(to, Address::Email(_))
    }

    fn send<'a>(&'a self, notice: &'a Notice) -> SendFuture<'a> {
        Box::pin(async move {
            let message = build_message(&self.from, notice)?;
            match self.transport.send(message).await {
                Ok(_) => {
                    tracing::debug!(reference = notice.reference.as_deref(), "e-mail sent");
                    Ok(())
                }
                Err(e) => Err(smtp_error(&e)),
            }
        })
    }
}

/// A 5xx answer will be given again; anything else (no connection, timeout, 4xx, TLS
/// handshake) may pass later.
fn smtp_error(e: &lettre::transport::smtp::Error) -> SendError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_permanent() { SendError::permanent(reason) } else { SendError::temporary(reason) }
}

/// Writes each e-mail as an RFC 5322 `.eml` file, so the demo shows what citizens would get
/// without a mail server. Files appear whole or not at all (written aside, synced, renamed).
pub struct MaildirChannel {
    dir: PathBuf,
    from: Mailbox,
}

impl MaildirChannel {
    /// The directory is created on the first send.
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<Self, SettingsError> {
        Ok(Self { dir: dir.into(), from: parse_from(from)? })
    }
}

impl Channel for MaildirChannel {
    fn name(&self) -> &'static str {
        "maildir"
    }

    fn accepts(&self, to: &Address) -> bool {
        matches!(to, Address::Email(_))
    }

    fn send<'a>(&'a self, notice: &'a Notice) -> SendFuture<'a> {
        Box::pin(async move {
            let bytes = build_message(&self.from, notice)?.formatted();
            let dir = self.dir.clone();
            let written = tokio::task::spawn_blocking(move || write_durably(&dir, &bytes))
                .await
                .map_err(|e| SendError::temporary(format!("the writing task failed: {e}")))?;
            // A full disk or a missing permission can be fixed, so the outbox may try again.
            let path = written.map_err(|e| SendError::temporary(format!("cannot write the e-mail file: {e}")))?;
            tracing::debug!(path = %path.display(), reference = notice.reference.as_deref(), "e-mail written");
            Ok(())
        })
    }
}

fn write_durably(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!("{}-{}.eml", chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"), unique());
    let temporary = dir.join(format!(".{name}.tmp"));
    let path = dir.join(&name);
    let result = (|| {
        let mut file = std::fs::File::create_new(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map(|()| path)
}

/// Unique within the machine: the process id and a counter.
fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{}.{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The e-mail for `notice`: UTF-8 plain text (lettre picks quoted-printable or base64 and
/// RFC 2047 words for the subject), a fresh Message-ID, and for a reference an In-Reply-To and
/// References to one id per reference so every notice about a report lands in one thread.
fn build_message(from: &Mailbox, notice: &Notice) -> Result<Message, SendError> {
    let Address::Email(to) = &notice.to else {
        return Err(SendError::permanent("an e-mail channel cannot reach a phone number"));
    };
    let to: Mailbox = to.parse().map_err(|e| SendError::permanent(format!("bad e-mail address {to:?}: {e}")))?;
    let domain = from.email.domain();
    // A line break in a subject would end the header; it has no meaning in a subject anyway.
    let subject: String = notice.subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut builder = Message::builder().from(from.clone()).to(to).subject(subject).message_id(Some(format!(
        "<{}.{}@{domain}>",
        chrono::Utc::now().timestamp_micros(),
        unique()
    )));
    if let Some(reference) = &notice.reference {
        let thread = format!("<{}@{domain}>", msg_id_part(reference));
        builder = builder.in_reply_to(thread.clone()).references(thread);
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(notice.text.clone())
        .map_err(|e| SendError::permanent(format!("cannot build the e-mail: {e}")))
}

/// `reference` as the left part of a Message-ID: letters, digits, `-` and `.` kept, anything
/// else as `_` and its UTF-8 bytes in hex, so distinct references stay distinct.
fn msg_id_part(reference: &str) -> String {
    let mut out = String::new();
    for c in reference.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("_{b:02X}"));
            }
        }
    }
    if out.is_empty() { "_".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> Mailbox {
        "Hải Đăng <noreply@haidang.example>".parse().unwrap()
    }

    fn notice(to: Address) -> Notice {
        Notice { to, subject: "Phản ánh đã tiếp nhận".into(), text: "Xin cảm ơn.".into(), reference: None }
    }

    #[test]
    fn bad_addresses_are_permanent_errors() {
        let e = build_message(&from(), &notice(Address::Email("không phải địa chỉ".into()))).unwrap_err();
        assert!(e.permanent, "{e}");
        let e = build_message(&from(), &notice(Address::Phone("0901234567".into()))).unwrap_err();
        assert!(e.permanent);
    }

    #[test]
    fn a_line_break_in_the_subject_cannot_add_a_header() {
        let mut n = notice(Address::Email("dan@example.vn".into()));
        n.subject = "Chào\r\nBcc: attacker@example.com".into();
        let text = String::from_utf8(build_message(&from(), &n).unwrap().formatted()).unwrap();
        assert!(!text.lines().any(|l| l.starts_with("Bcc:")), "{text}");
    }

    #[test]
    fn references_become_stable_thread_ids() {
        assert_eq!(msg_id_part("PA-2025.000123"), "PA-2025.000123");
        assert_eq!(msg_id_part("a b<đ>"), "a_20b_3C_C4_91_3E");
        assert_eq!(msg_id_part(""), "_");
        let mut n = notice(Address::Email("dan@example.vn".into()));
        n.reference = Some("PA-1".into());
        let text = String::from_utf8(build_message(&from(), &n).unwrap().formatted()).unwrap();
        assert!(text.contains("References: <PA-1@haidang.example>"), "{text}");
        assert!(text.contains("In-Reply-To: <PA-1@haidang.example>"), "{text}");
    }

    #[test]
    fn settings_read_like_the_config_file_and_hide_the_password() {
        let s: SmtpSettings = serde_json::from_value(serde_json::json!({
            "host": "smtp.gialai.gov.vn", "security": "tls", "username": "ioc", "password": "bí-mật",
            "from": "Hải Đăng <noreply@gialai.gov.vn>", "timeout": 10
        }))
        .unwrap();
        assert_eq!(s.security, Security::Tls);
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert!(!format!("{s:?}").contains("bí-mật"));
        assert!(EmailChannel::new(&s).is_ok());
        let bad = SmtpSettings { from: "no mailbox".into(), ..s };
        assert!(matches!(EmailChannel::new(&bad), Err(SettingsError::From(..))));
        let defaults: SmtpSettings =
            serde_json::from_value(serde_json::json!({"host": "localhost", "from": "a@b.vn"})).unwrap();
        assert_eq!(
            (defaults.security, defaults.timeout, defaults.port),
            (Security::StartTls, Duration::from_secs(30), None)
        );
    }
}
