//! Deadlines: when an item is due, when to warn, and how it stands.

use crate::calendar::{CalendarError, WorkCalendar};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// How allowed time is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clocking {
    /// Office hours on working days: ordinary reports.
    Working,
    /// Every hour, day and night: urgent reports (fire, flooding, a fallen tree on a road).
    Wall,
}

/// The time allowed for an item, e.g. 3 working days = `{ Working, 1440 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRule {
    pub clocking: Clocking,
    pub minutes: i64,
}

/// A scheduled deadline. Both instants are fixed when scheduled, so a later change of the
/// calendar (a newly announced holiday) does not move deadlines already given to citizens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub clocking: Clocking,
    pub due_at: DateTime<Utc>,
    /// When 75 % of the allowed time has passed, counted the same way as `due_at`.
    pub warn_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    OnTrack,
    DueSoon,
    Overdue,
    /// Finished on or before `due_at`.
    Met,
    /// Finished after `due_at`.
    Missed,
}

impl Deadline {
    /// Schedules `rule` from `start` (usually the time of receipt). Minutes of the warning point
    /// are rounded down, so it is never later than 75 %.
    pub fn schedule(rule: &DeadlineRule, start: DateTime<Utc>, calendar: &WorkCalendar) -> Result<Self, CalendarError> {
        if rule.minutes < 0 {
            return Err(CalendarError::NegativeMinutes(rule.minutes));
        }
        let warn_minutes = rule.minutes / 4 * 3 + rule.minutes % 4 * 3 / 4;
        let at = |minutes: i64| match rule.clocking {
            Clocking::Working => calendar.add_working(start, minutes),
            Clocking::Wall => TimeDelta::try_minutes(minutes)
                .and_then(|d| start.checked_add_signed(d))
                .ok_or(CalendarError::OutOfRange),
        };
        Ok(Self { clocking: rule.clocking, due_at: at(rule.minutes)?, warn_at: at(warn_minutes)? })
    }

    /// Where the deadline stands at `now` for an item finished at `finished_at`. Due exactly at
    /// `due_at` is still on time.
    pub fn state(&self, now: DateTime<Utc>, finished_at: Option<DateTime<Utc>>) -> DeadlineState {
        match finished_at {
            Some(f) if f <= self.due_at => DeadlineState::Met,
            Some(_) => DeadlineState::Missed,
            None if now > self.due_at => DeadlineState::Overdue,
            None if now >= self.warn_at => DeadlineState::DueSoon,
            None => DeadlineState::OnTrack,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn vn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono::FixedOffset::east_opt(7 * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().to_utc()
    }

    #[test]
    fn working_deadline_skips_nights_weekends_and_warns_at_three_quarters() {
        let cal = WorkCalendar::default();
        // Received Friday 18:00, 2 working days: counts from Monday 07:30, due Tuesday 17:00.
        let rule = DeadlineRule { clocking: Clocking::Working, minutes: 960 };
        let d = Deadline::schedule(&rule, vn(2025, 3, 7, 18, 0), &cal).unwrap();
        assert_eq!(d.due_at, vn(2025, 3, 11, 17, 0));
        // 720 working minutes: all of Monday (480) and 240 of Tuesday, to the lunch break.
        assert_eq!(d.warn_at, vn(2025, 3, 11, 11, 30));
        assert_eq!(d.state(vn(2025, 3, 10, 9, 0), None), DeadlineState::OnTrack);
        assert_eq!(d.state(vn(2025, 3, 11, 11, 30), None), DeadlineState::DueSoon);
        assert_eq!(d.state(vn(2025, 3, 11, 17, 0), None), DeadlineState::DueSoon);
        assert_eq!(d.state(vn(2025, 3, 11, 17, 1), None), DeadlineState::Overdue);
        assert_eq!(d.state(vn(2025, 3, 12, 9, 0), Some(vn(2025, 3, 11, 17, 0))), DeadlineState::Met);
        assert_eq!(d.state(vn(2025, 3, 12, 9, 0), Some(vn(2025, 3, 12, 8, 0))), DeadlineState::Missed);
    }

    #[test]
    fn urgent_wall_clock_deadline_runs_through_the_night_and_holidays() {
        let cal = WorkCalendar::default();
        let rule = DeadlineRule { clocking: Clocking::Wall, minutes: 4 * 60 };
        // Received at 22:00 on the eve of Tết 2026: due at 02:00, warned at 01:00.
        let d = Deadline::schedule(&rule, vn(2026, 2, 16, 22, 0), &cal).unwrap();
        assert_eq!(d.due_at, vn(2026, 2, 17, 2, 0));
        assert_eq!(d.warn_at, vn(2026, 2, 17, 1, 0));
        assert_eq!(d.clocking, Clocking::Wall);
        assert_eq!(d.state(vn(2026, 2, 17, 2, 30), None), DeadlineState::Overdue);
    }

    #[test]
    fn working_deadline_across_tet_2026() {
        let cal = WorkCalendar::default();
        let rule = DeadlineRule { clocking: Clocking::Working, minutes: 5 * 480 };
        // Thursday 12 Feb 2026 at 07:30: 12, 13 Feb, then 23, 24, 25 Feb.
        let d = Deadline::schedule(&rule, vn(2026, 2, 12, 7, 30), &cal).unwrap();
        assert_eq!(d.due_at, vn(2026, 2, 25, 17, 0));
    }

    #[test]
    fn bad_rules_are_refused() {
        let cal = WorkCalendar::default();
        let now = vn(2025, 3, 10, 8, 0);
        let negative = DeadlineRule { clocking: Clocking::Wall, minutes: -5 };
        assert_eq!(Deadline::schedule(&negative, now, &cal), Err(CalendarError::NegativeMinutes(-5)));
        let huge = DeadlineRule { clocking: Clocking::Wall, minutes: i64::MAX };
        assert_eq!(Deadline::schedule(&huge, now, &cal), Err(CalendarError::OutOfRange));
    }

    #[test]
    fn warning_point_rounds_down() {
        let cal = WorkCalendar::default();
        let now = vn(2025, 3, 10, 8, 0);
        for (minutes, warn) in [(0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (10, 7), (1441, 1080)] {
            let rule = DeadlineRule { clocking: Clocking::Wall, minutes };
            let d = Deadline::schedule(&rule, now, &cal).unwrap();
            assert_eq!((d.warn_at - now).num_minutes(), warn, "{minutes}");
        }
    }
}
