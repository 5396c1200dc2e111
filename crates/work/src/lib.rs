//! Following work: assignment, acknowledgement, deadlines on the working calendar, reminders,
//! escalation.
//!
//! Citizen reports are the first user, and alerts, directives and incident tasks follow the same
//! way, so nothing here knows what is being followed. Nothing here does I/O or reads the clock:
//! every function takes the time it should think is now, so the store's `Clock` decides.

pub mod calendar;
pub mod deadline;
pub mod escalation;
pub mod follow;

pub use calendar::{CalendarDay, CalendarError, DayKind, OfficeHours, Period, WorkCalendar, official};
pub use deadline::{Clocking, Deadline, DeadlineRule, DeadlineState};
pub use escalation::{EscalationLevel, EscalationPolicy};
pub use follow::{Assignment, EscalationReason, Signal, WorkState, next_check, signals};
