//! Citizen field reports (*phản ánh hiện trường*): the domain rules, free of storage and HTTP.
//!
//! A report moves through [`Status`]es only by [`Action`]s that [`Status::after`] allows, so an
//! illegal move cannot be written down; who may take an action is [`Action::duty`]. Categories
//! say which unit must act ([`HandlingRule`]) and how long it has ([`CategoryDeadlines`]). The
//! following of deadlines, reminders and escalation is not here: it is `haidang-work`'s, which
//! knows nothing about reports.

mod category;
mod code;
mod redact;
mod status;

pub use category::{AttributeDef, AttributeType, AttributeValue, CategoryDeadlines, HandlingRule, check_attributes};
pub use code::TrackingCode;
pub use redact::redact_personal;
pub use status::{Action, Channel, Duty, IllegalMove, RejectReason, ReturnReason, Status};
