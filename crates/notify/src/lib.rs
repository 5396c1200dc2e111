//! Notification channels (e-mail now; SMS, Zalo OA and webhooks later) with retry policy.
//!
//! A notice is addressed, not routed: the caller says who should hear ([`Address`]) and
//! [`Channels::route`] picks the channel that can reach them, so adding SMS later adds a channel
//! and changes no caller. Channels only send; queueing and retrying belong to the caller's
//! durable outbox, which asks [`RetryPolicy`] when to try again.

mod channel;
mod email;
mod retry;

pub use channel::{Address, Channel, Channels, Notice, SendError, SendFuture};
pub use email::{EmailChannel, MaildirChannel, Security, SettingsError, SmtpSettings};
pub use retry::RetryPolicy;
