//! Following work: assignment, acknowledgement, deadlines on the working calendar, reminders, escalation, timeline.
