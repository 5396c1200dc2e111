use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// Where a person can be reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Address {
    Email(String),
    Phone(String),
}

/// One message to one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub to: Address,
    pub subject: String,
    pub text: String,
    /// What the notice is about (e.g. a report code); notices with the same reference are
    /// threaded together by mail clients.
    pub reference: Option<String>,
}

/// Why a notice was not sent. `permanent` tells the outbox to stop retrying: a malformed
/// address or a 5xx refusal will fail again; a refused connection or a 4xx may not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    pub permanent: bool,
    pub reason: String,
}

impl SendError {
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self { permanent: true, reason: reason.into() }
    }

    pub fn temporary(reason: impl Into<String>) -> Self {
        Self { permanent: false, reason: reason.into() }
    }
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// A way of reaching people. Object-safe (a boxed future rather than `async fn`), so the
/// server holds a list of channels chosen by configuration.
pub trait Channel: Send + Sync {
    /// A short stable name for logs and the outbox ("email", "maildir", later "sms").
    fn name(&self) -> &'static str;
    fn accepts(&self, to: &Address) -> bool;
    fn send<'a>(&'a self, notice: &'a Notice) -> SendFuture<'a>;
}

/// The configured channels, in order of preference.
#[derive(Default)]
pub struct Channels {
    channels: Vec<Box<dyn Channel>>,
}

impl Channels {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a channel after those already there: earlier channels win for an address.
    pub fn with(mut self, channel: impl Channel + 'static) -> Self {
        self.channels.push(Box::new(channel));
        self
    }

    /// The first channel that accepts `to`, or `None` when nothing configured can reach it.
    pub fn route(&self, to: &Address) -> Option<&dyn Channel> {
        self.channels.iter().find(|c| c.accepts(to)).map(|c| c.as_ref())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.channels.iter().map(|c| c.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(&'static str, fn(&Address) -> bool);

    impl Channel for Fake {
        fn name(&self) -> &'static str {
            self.0
        }
        fn accepts(&self, to: &Address) -> bool {
            (self.1)(to)
        }
        fn send<'a>(&'a self, _: &'a Notice) -> SendFuture<'a> {
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn routes_to_the_first_channel_that_accepts() {
        let channels = Channels::new()
            .with(Fake("email", |a| matches!(a, Address::Email(_))))
            .with(Fake("sms", |a| matches!(a, Address::Phone(_))))
            .with(Fake("all", |_| true));
        assert_eq!(channels.names(), ["email", "sms", "all"]);
        assert_eq!(channels.route(&Address::Email("a@b.vn".into())).map(|c| c.name()), Some("email"));
        assert_eq!(channels.route(&Address::Phone("0901234567".into())).map(|c| c.name()), Some("sms"));
        assert!(Channels::new().route(&Address::Phone("0901234567".into())).is_none());
    }

    #[test]
    fn addresses_serialise_by_kind() {
        let json = serde_json::to_string(&Address::Email("a@b.vn".into())).unwrap();
        assert_eq!(json, r#"{"email":"a@b.vn"}"#);
    }
}
