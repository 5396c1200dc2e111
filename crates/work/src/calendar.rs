//! Vietnam's working calendar: office hours, weekends, public holidays and make-up working days.
//!
//! Deadlines for administrative work count working time (Decree 61/2018 counts "ngày làm
//! việc"), so a report received on Friday evening is not late on Monday morning. Vietnam keeps
//! UTC+07:00 all year, so civil dates are derived with a fixed offset and no zone database.
//!
//! Long spans are computed arithmetically: weekdays are counted with a closed formula and the
//! calendar's exceptions through prefix sums, so adding a year of working time costs a binary
//! search, not a walk over days.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Vietnam's offset from UTC, constant since 1975.
const VIETNAM_OFFSET: TimeDelta = TimeDelta::hours(7);

/// The furthest a computation may reach, in working days (about 40 000 years), so a huge
/// number of minutes answers [`CalendarError::OutOfRange`] instead of overflowing.
const MAX_WORKING_DAYS: i64 = 10_000_000;

const NANOS_PER_MINUTE: i128 = 60_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("office hours need at least one period")]
    NoPeriods,
    #[error("office period {start}–{end} does not end after it starts")]
    EmptyPeriod { start: NaiveTime, end: NaiveTime },
    #[error("office period starting at {start} begins before the previous one ends at {previous_end}")]
    Overlap { previous_end: NaiveTime, start: NaiveTime },
    #[error("cannot count a negative amount of time ({0} minutes)")]
    NegativeMinutes(i64),
    #[error("the result lies beyond the dates this calendar can represent")]
    OutOfRange,
}

/// One daily period of office hours, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Period {
    fn length(self) -> TimeDelta {
        self.end - self.start
    }
}

/// The daily office hours: ordered periods that do not overlap, checked when built so every
/// computation can rely on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    periods: Vec<Period>,
    per_day: TimeDelta,
}

impl OfficeHours {
    pub fn new(periods: impl IntoIterator<Item = Period>) -> Result<Self, CalendarError> {
        let periods: Vec<Period> = periods.into_iter().collect();
        if periods.is_empty() {
            return Err(CalendarError::NoPeriods);
        }
        for p in &periods {
            if p.end <= p.start {
                return Err(CalendarError::EmptyPeriod { start: p.start, end: p.end });
            }
        }
        for pair in periods.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(CalendarError::Overlap { previous_end: pair[0].end, start: pair[1].start });
            }
        }
        let per_day = periods.iter().map(|p| p.length()).sum();
        Ok(Self { periods, per_day })
    }

    pub fn periods(&self) -> &[Period] {
        &self.periods
    }

    /// Spends `amount` of working time from `from` onwards on one day: the time it runs out
    /// (a period's end when it runs out exactly there), or what is left at the end of the day.
    fn spend(&self, from: NaiveTime, mut amount: TimeDelta) -> Result<NaiveTime, TimeDelta> {
        for p in &self.periods {
            if p.end <= from {
                continue;
            }
            let begin = from.max(p.start);
            let available = p.end - begin;
            if amount <= available {
                return Ok(begin + amount);
            }
            amount -= available;
        }
        Err(amount)
    }

    /// Working time of one day inside `[from, until)`; `until = None` is the end of the day.
    fn worked(&self, from: NaiveTime, until: Option<NaiveTime>) -> TimeDelta {
        self.periods
            .iter()
            .map(|p| {
                let begin = from.max(p.start);
                let end = until.map_or(p.end, |u| u.min(p.end));
                (end - begin).max(TimeDelta::zero())
            })
            .sum()
    }
}

impl Default for OfficeHours {
    /// The usual hours of Vietnamese state offices: 07:30–11:30 and 13:00–17:00, 8 hours a day.
    fn default() -> Self {
        let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("a valid time of day");
        Self::new([Period { start: at(7, 30), end: at(11, 30) }, Period { start: at(13, 0), end: at(17, 0) }])
            .expect("the default office hours are ordered and disjoint")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off, even on a weekday.
    Holiday,
    /// A working day, even on a weekend: a make-up day (ngày làm bù).
    Workday,
}

impl DayKind {
    /// The name used in the calendar file, the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holiday => "holiday",
            Self::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Holiday, Self::Workday].into_iter().find(|k| k.as_str() == s)
    }
}

/// An exception to the Monday–Friday week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// Office hours on Monday–Friday, with holidays and make-up days as exceptions.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    hours: OfficeHours,
    days: BTreeMap<NaiveDate, CalendarDay>,
    /// For each exception that changes a day's status, in date order: its day number and the
    /// running total of working days it adds (+1) or removes (−1) up to and including it.
    changes: Vec<(i64, i64)>,
    /// Weekdays turned into holidays, which bounds how far a search for working days may look.
    weekday_holidays: i64,
}

impl WorkCalendar {
    /// Builds the calendar. When a date appears more than once, the last entry wins.
    pub fn new(hours: OfficeHours, days: impl IntoIterator<Item = CalendarDay>) -> Self {
        let days: BTreeMap<NaiveDate, CalendarDay> = days.into_iter().map(|d| (d.date, d)).collect();
        let mut changes = Vec::new();
        let mut total = 0;
        let mut weekday_holidays = 0;
        for day in days.values() {
            let delta = match (day.kind, is_weekend(day.date)) {
                (DayKind::Holiday, false) => -1,
                (DayKind::Workday, true) => 1,
                _ => 0,
            };
            if delta != 0 {
                total += delta;
                changes.push((day_number(day.date), total));
            }
            weekday_holidays += i64::from(delta < 0);
        }
        Self { hours, days, changes, weekday_holidays }
    }

    pub fn hours(&self) -> &OfficeHours {
        &self.hours
    }

    /// The exception listed for `date`, if any (to show why a day is off).
    pub fn day(&self, date: NaiveDate) -> Option<&CalendarDay> {
        self.days.get(&date)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date).map(|d| d.kind) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !is_weekend(date),
        }
    }

    /// Working minutes in one ordinary working day (480 for the default hours).
    pub fn minutes_per_day(&self) -> i64 {
        self.hours.per_day.num_minutes()
    }

    /// The first instant at or after `t` inside office hours on a working day.
    pub fn next_opening(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        self.add_working(t, 0)
    }

    /// The instant when `minutes` of working time have passed since `start`. Time outside office
    /// hours does not count, so counting starts at the next opening; a count that ends exactly at
    /// the end of a period answers that end (17:00, not the next morning).
    ///
    /// Errors rather than saturates: `NegativeMinutes` for a negative count, `OutOfRange` when
    /// the answer would lie beyond about 40 000 years of working days or chrono's dates, so a
    /// caller never stores a fake "never" date.
    pub fn add_working(&self, start: DateTime<Utc>, minutes: i64) -> Result<DateTime<Utc>, CalendarError> {
        if minutes < 0 {
            return Err(CalendarError::NegativeMinutes(minutes));
        }
        let amount = TimeDelta::try_minutes(minutes).ok_or(CalendarError::OutOfRange)?;
        let local = to_local(start).ok_or(CalendarError::OutOfRange)?;
        let date = local.date();
        let left = if self.is_working_day(date) {
            match self.hours.spend(local.time(), amount) {
                Ok(time) => return to_utc(date.and_time(time)),
                Err(left) => left,
            }
        } else {
            amount
        };
        // What is left fills whole working days and then part of one more. A remainder of zero
        // means the count ends at the close of the last whole day, not at the next opening.
        let left = nanos(left);
        let per_day = nanos(self.hours.per_day);
        let (mut whole_days, mut rest) = (left / per_day, left % per_day);
        if rest == 0 && whole_days > 0 {
            whole_days -= 1;
            rest = per_day;
        }
        let whole_days = i64::try_from(whole_days).map_err(|_| CalendarError::OutOfRange)?;
        let rest = i64::try_from(rest).map(TimeDelta::nanoseconds).map_err(|_| CalendarError::OutOfRange)?;
        let day = self.nth_working_day(day_number(date) + 1, whole_days)?;
        let time = self.hours.spend(NaiveTime::MIN, rest).map_err(|_| CalendarError::OutOfRange)?;
        to_utc(day.and_time(time))
    }

    /// Working minutes from `a` to `b` (negative when `b` is before `a`), truncated to whole
    /// minutes. Times within hours of chrono's limits are clamped to them.
    pub fn working_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        let total = if b < a { -self.working_nanos(b, a) } else { self.working_nanos(a, b) };
        i64::try_from(total / NANOS_PER_MINUTE).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
    }

    fn working_nanos(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i128 {
        let (la, lb) = (to_local(a).unwrap_or(NaiveDateTime::MAX), to_local(b).unwrap_or(NaiveDateTime::MAX));
        let (da, db) = (la.date(), lb.date());
        let on = |date: NaiveDate, from: NaiveTime, until: Option<NaiveTime>| {
            if self.is_working_day(date) { nanos(self.hours.worked(from, until)) } else { 0 }
        };
        if da == db {
            return on(da, la.time(), Some(lb.time()));
        }
        let between = self.working_days(day_number(da) + 1, day_number(db));
        on(da, la.time(), None)
            + i128::from(between) * nanos(self.hours.per_day)
            + on(db, NaiveTime::MIN, Some(lb.time()))
    }

    /// Working days among day numbers `[from, to)`.
    fn working_days(&self, from: i64, to: i64) -> i64 {
        (weekdays_before(to) - weekdays_before(from)) + (self.changes_before(to) - self.changes_before(from))
    }

    fn changes_before(&self, day: i64) -> i64 {
        match self.changes.partition_point(|&(d, _)| d < day) {
            0 => 0,
            i => self.changes[i - 1].1,
        }
    }

    /// The working day that has `n` working days before it, counting from day number `from`.
    fn nth_working_day(&self, from: i64, n: i64) -> Result<NaiveDate, CalendarError> {
        if n > MAX_WORKING_DAYS {
            return Err(CalendarError::OutOfRange);
        }
        // Every 7 days hold 5 weekdays, and only weekday holidays remove any: this many days
        // always hold n + 1 working days, so the search is bounded even for odd calendars.
        let needed = n + 1 + self.weekday_holidays;
        let (mut lo, mut hi) = (from + 1, from + 7 * ((needed + 4) / 5));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.working_days(from, mid) > n { hi = mid } else { lo = mid + 1 }
        }
        date_of(lo - 1).ok_or(CalendarError::OutOfRange)
    }
}

impl Default for WorkCalendar {
    /// Default office hours and the official calendars of every year in the embedded data.
    fn default() -> Self {
        Self::new(OfficeHours::default(), parse_official().unwrap_or_default())
    }
}

/// The official calendar of `year` for civil servants: weekday holidays and weekend make-up
/// days, from `data/vn-calendar.csv` (its header names the sources and what is unconfirmed).
/// `None` when the year is not in the data, so a caller can warn that only weekends count.
pub fn official(year: i32) -> Option<Vec<CalendarDay>> {
    let days: Vec<CalendarDay> = parse_official().ok()?.into_iter().filter(|d| d.date.year() == year).collect();
    (!days.is_empty()).then_some(days)
}

const OFFICIAL_CSV: &str = include_str!("../data/vn-calendar.csv");

fn parse_official() -> Result<Vec<CalendarDay>, String> {
    OFFICIAL_CSV
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("date,"))
        .map(|line| {
            let mut cells = line.splitn(3, ',');
            let (Some(date), Some(kind), Some(name)) = (cells.next(), cells.next(), cells.next()) else {
                return Err(format!("not three cells: {line}"));
            };
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|e| format!("{line}: {e}"))?;
            let kind = DayKind::parse(kind).ok_or_else(|| format!("{line}: unknown kind {kind}"))?;
            Ok(CalendarDay { date, kind, name: name.to_owned() })
        })
        .collect()
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

fn date_of(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(day).ok()?)
}

/// Weekdays before day number `day`, relative to day 1 (Monday 1 January of year 1), valid
/// for differences on either side of it.
fn weekdays_before(day: i64) -> i64 {
    let m = day - 1;
    5 * m.div_euclid(7) + m.rem_euclid(7).min(5)
}

fn nanos(d: TimeDelta) -> i128 {
    i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos())
}

fn to_local(t: DateTime<Utc>) -> Option<NaiveDateTime> {
    t.naive_utc().checked_add_signed(VIETNAM_OFFSET)
}

fn to_utc(local: NaiveDateTime) -> Result<DateTime<Utc>, CalendarError> {
    local.checked_sub_signed(VIETNAM_OFFSET).map(|t| t.and_utc()).ok_or(CalendarError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    /// A Vietnamese wall-clock time as UTC.
    fn vn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono::FixedOffset::east_opt(7 * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().to_utc()
    }

    fn cal() -> WorkCalendar {
        WorkCalendar::default()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    const DAY: i64 = 480;

    #[test]
    fn office_hours_are_checked() {
        assert_eq!(OfficeHours::new([]), Err(CalendarError::NoPeriods));
        assert!(matches!(
            OfficeHours::new([Period { start: t(9, 0), end: t(9, 0) }]),
            Err(CalendarError::EmptyPeriod { .. })
        ));
        assert!(matches!(
            OfficeHours::new([Period { start: t(8, 0), end: t(12, 0) }, Period { start: t(11, 0), end: t(17, 0) }]),
            Err(CalendarError::Overlap { .. })
        ));
        assert!(matches!(
            OfficeHours::new([Period { start: t(13, 0), end: t(17, 0) }, Period { start: t(8, 0), end: t(12, 0) }]),
            Err(CalendarError::Overlap { .. })
        ));
        assert_eq!(cal().minutes_per_day(), DAY);
    }

    #[test]
    fn weekday_formula_matches_chrono() {
        let start = NaiveDate::from_ymd_opt(2024, 12, 20).unwrap();
        for offset in 0..60 {
            let d = start + TimeDelta::days(offset);
            let n = day_number(d);
            assert_eq!(weekdays_before(n + 1) - weekdays_before(n), i64::from(!is_weekend(d)), "{d}");
        }
    }

    #[test]
    fn official_data_parses_and_every_line_changes_working_time() {
        let all = parse_official().unwrap();
        assert_eq!(all.len(), official(2025).unwrap().len() + official(2026).unwrap().len());
        assert!(official(2024).is_none());
        for d in all {
            match d.kind {
                DayKind::Holiday => assert!(!is_weekend(d.date), "{} is a weekend holiday", d.date),
                DayKind::Workday => assert!(is_weekend(d.date), "{} is a weekday make-up day", d.date),
            }
        }
    }

    #[test]
    fn weekend_and_holidays_are_off_and_make_up_saturday_works() {
        let c = cal();
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(c.is_working_day(d(2025, 4, 25)));
        assert!(c.is_working_day(d(2025, 4, 26)), "make-up Saturday");
        assert!(!c.is_working_day(d(2025, 4, 27)));
        assert!(!c.is_working_day(d(2025, 5, 2)), "swapped Friday");
        assert!(!c.is_working_day(d(2026, 4, 27)), "compensatory day for Giỗ Tổ on a Sunday");
        assert!(!c.is_working_day(d(2026, 2, 16)));
        assert!(c.is_working_day(d(2026, 2, 23)));
        assert_eq!(c.day(d(2025, 9, 2)).map(|x| x.name.as_str()), Some("Quốc khánh"));
    }

    #[test]
    fn after_hours_on_friday_counts_from_monday_morning() {
        let c = cal();
        assert_eq!(c.next_opening(vn(2025, 3, 7, 18, 0)).unwrap(), vn(2025, 3, 10, 7, 30));
        assert_eq!(c.add_working(vn(2025, 3, 7, 18, 0), 60).unwrap(), vn(2025, 3, 10, 8, 30));
        // Before opening on a working day counts from that morning.
        assert_eq!(c.add_working(vn(2025, 3, 10, 6, 0), 30).unwrap(), vn(2025, 3, 10, 8, 0));
    }

    #[test]
    fn lunch_break_does_not_count() {
        let c = cal();
        assert_eq!(c.add_working(vn(2025, 3, 10, 11, 0), 60).unwrap(), vn(2025, 3, 10, 13, 30));
        assert_eq!(c.next_opening(vn(2025, 3, 10, 12, 0)).unwrap(), vn(2025, 3, 10, 13, 0));
        assert_eq!(c.working_minutes_between(vn(2025, 3, 10, 11, 0), vn(2025, 3, 10, 13, 30)), 60);
    }

    #[test]
    fn arrival_exactly_at_opening_and_closing() {
        let c = cal();
        let opening = vn(2025, 3, 10, 7, 30);
        assert_eq!(c.next_opening(opening).unwrap(), opening);
        assert_eq!(c.add_working(opening, DAY).unwrap(), vn(2025, 3, 10, 17, 0), "ends at the close, not next morning");
        assert_eq!(c.add_working(opening, 240).unwrap(), vn(2025, 3, 10, 11, 30));
        // 17:00 is outside office hours: the count starts the next morning.
        assert_eq!(c.add_working(vn(2025, 3, 10, 17, 0), 1).unwrap(), vn(2025, 3, 11, 7, 31));
        assert_eq!(c.add_working(vn(2025, 3, 10, 17, 0), DAY).unwrap(), vn(2025, 3, 11, 17, 0));
    }

    #[test]
    fn across_a_weekend() {
        let c = cal();
        // Friday 15:00 + 8 h: 2 h on Friday, 6 h on Monday (4 h in the morning, 2 h after lunch).
        assert_eq!(c.add_working(vn(2025, 3, 14, 15, 0), DAY).unwrap(), vn(2025, 3, 17, 15, 0));
        assert_eq!(c.working_minutes_between(vn(2025, 3, 14, 15, 0), vn(2025, 3, 17, 15, 0)), DAY);
    }

    #[test]
    fn across_tet_2025() {
        let c = cal();
        // Friday 24 Jan 2025 at 16:00, 2 working days: Tết runs from Sat 25 Jan to Sun 2 Feb.
        assert_eq!(c.add_working(vn(2025, 1, 24, 16, 0), 2 * DAY).unwrap(), vn(2025, 2, 4, 16, 0));
        assert_eq!(c.working_minutes_between(vn(2025, 1, 24, 17, 0), vn(2025, 2, 3, 7, 30)), 0);
    }

    #[test]
    fn across_tet_2026() {
        let c = cal();
        // Friday 13 Feb 2026 at 17:00 with 3 working days: off 14–22 Feb, back Monday 23 Feb.
        assert_eq!(c.add_working(vn(2026, 2, 13, 17, 0), 3 * DAY).unwrap(), vn(2026, 2, 25, 17, 0));
        assert_eq!(c.next_opening(vn(2026, 2, 16, 9, 0)).unwrap(), vn(2026, 2, 23, 7, 30));
    }

    #[test]
    fn make_up_saturday_2025_counts() {
        let c = cal();
        // Friday 25 Apr 2025 at 17:00 + 1 day ends on the make-up Saturday 26 Apr.
        assert_eq!(c.add_working(vn(2025, 4, 25, 17, 0), DAY).unwrap(), vn(2025, 4, 26, 17, 0));
        // From Saturday 26 Apr, 4 days: 26, 28 and 29 Apr (30 Apr–4 May is off), then Monday 5 May.
        assert_eq!(c.add_working(vn(2025, 4, 26, 7, 30), 3 * DAY).unwrap(), vn(2025, 4, 29, 17, 0));
        assert_eq!(c.add_working(vn(2025, 4, 26, 7, 30), 4 * DAY).unwrap(), vn(2025, 5, 5, 17, 0));
    }

    #[test]
    fn long_spans_are_computed_at_once_and_bounded() {
        let c = cal();
        let start = vn(2025, 1, 2, 8, 0);
        let year = 250 * DAY;
        let begun = std::time::Instant::now();
        for _ in 0..10_000 {
            c.add_working(start, year).unwrap();
        }
        assert!(begun.elapsed() < std::time::Duration::from_secs(2), "{:?}", begun.elapsed());
        assert_eq!(c.working_minutes_between(start, c.add_working(start, year).unwrap()), year);
        assert_eq!(c.add_working(start, i64::MAX), Err(CalendarError::OutOfRange));
        assert_eq!(c.add_working(start, 1_000_000_000_000), Err(CalendarError::OutOfRange));
        assert_eq!(c.add_working(start, -1), Err(CalendarError::NegativeMinutes(-1)));
        assert_eq!(c.add_working(DateTime::<Utc>::MAX_UTC, 10), Err(CalendarError::OutOfRange));
        assert!(c.working_minutes_between(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC) > 0);
    }

    #[test]
    fn a_calendar_that_closes_every_weekday_for_years_still_answers() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let closed = (0..3 * 365).map(|i| CalendarDay {
            date: start + TimeDelta::days(i),
            kind: DayKind::Holiday,
            name: "đóng cửa".into(),
        });
        let c = WorkCalendar::new(OfficeHours::default(), closed);
        assert_eq!(c.add_working(vn(2025, 1, 1, 8, 0), 1).unwrap(), vn(2028, 1, 3, 7, 31));
    }

    #[test]
    fn between_is_antisymmetric_and_ignores_nights() {
        let c = cal();
        let (a, b) = (vn(2025, 3, 10, 16, 0), vn(2025, 3, 11, 8, 0));
        assert_eq!(c.working_minutes_between(a, b), 90);
        assert_eq!(c.working_minutes_between(b, a), -90);
    }

    fn any_start() -> impl Strategy<Value = DateTime<Utc>> {
        // Whole seconds from 2024-06-01 to the end of 2026 (the span with official data).
        (1_717_200_000i64..1_798_761_600).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    proptest! {
        #[test]
        fn adding_in_two_steps_equals_adding_at_once(start in any_start(), a in 1i64..100_000, b in 1i64..100_000) {
            let c = cal();
            let once = c.add_working(start, a + b).unwrap();
            let twice = c.add_working(c.add_working(start, a).unwrap(), b).unwrap();
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn between_undoes_add(start in any_start(), m in 0i64..200_000) {
            let c = cal();
            let end = c.add_working(start, m).unwrap();
            prop_assert_eq!(c.working_minutes_between(start, end), m);
            prop_assert!(end >= start);
        }
    }
}
