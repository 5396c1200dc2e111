//! The state of one followed item and what is due for it now.
//!
//! A scheduler asks [`signals`] for each open item at each tick, sends the notices the signals
//! describe, and records them with [`WorkState::apply`] in the same transaction. Because every
//! signal is derived from what was already recorded, a tick repeated after a crash or run by
//! two workers sends nothing twice, and a tick after downtime catches up in one step.

use crate::deadline::Deadline;
use crate::escalation::{EscalationLevel, EscalationPolicy};
use chrono::{DateTime, TimeDelta, Utc};
use haidang_core::{FieldCode, OrgUnitId, Record, UserId};
use serde::{Deserialize, Serialize};

/// What has happened to an item so far, as stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkState {
    pub assigned_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub deadline: Option<Deadline>,
    /// When the due-soon warning was sent.
    pub warned_at: Option<DateTime<Utc>>,
    /// When the overdue notice was sent.
    pub overdue_at: Option<DateTime<Utc>>,
    /// The highest level told so far.
    pub level: EscalationLevel,
    pub not_accepted_escalated_at: Option<DateTime<Utc>>,
    /// The last notice to the current level while overdue: a reminder or an escalation. The next
    /// reminder is due `remind_every` after it.
    pub last_reminder_at: Option<DateTime<Utc>>,
}

impl WorkState {
    /// A new item assigned at `at` with an optional deadline.
    pub fn assigned(at: DateTime<Utc>, deadline: Option<Deadline>) -> Self {
        Self {
            assigned_at: Some(at),
            accepted_at: None,
            finished_at: None,
            deadline,
            warned_at: None,
            overdue_at: None,
            level: EscalationLevel::Handler,
            not_accepted_escalated_at: None,
            last_reminder_at: None,
        }
    }

    /// Records that the notice described by `signal` went out at `now`. Apply every signal of a
    /// batch: the second half of an urgent not-accepted escalation is not produced again once
    /// the first is recorded.
    pub fn apply(&mut self, signal: &Signal, now: DateTime<Utc>) {
        match *signal {
            Signal::DueSoon => {
                self.warned_at.get_or_insert(now);
            }
            Signal::Overdue => {
                self.overdue_at.get_or_insert(now);
            }
            Signal::Escalate { to, reason } => {
                self.level = self.level.max(to);
                self.last_reminder_at = Some(now);
                if reason == EscalationReason::NotAccepted {
                    self.not_accepted_escalated_at.get_or_insert(now);
                }
            }
            Signal::Remind { .. } => self.last_reminder_at = Some(now),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    Overdue,
    NotAccepted,
}

/// A notice that is due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "signal")]
pub enum Signal {
    /// 75 % of the allowed time has passed.
    DueSoon,
    /// The due time has passed.
    Overdue,
    /// Tell `to`, which has not been told before.
    Escalate { to: EscalationLevel, reason: EscalationReason },
    /// Remind `level` (the current level) that the item is still overdue.
    Remind { level: EscalationLevel },
}

/// The notices due for `state` at `now`, in the order to send them. Finished items get none.
/// After downtime, passed levels are each escalated to once (every level of the chain hears),
/// and no reminder joins an overdue notice or an escalation, which already tell.
pub fn signals(state: &WorkState, policy: &EscalationPolicy, now: DateTime<Utc>) -> Vec<Signal> {
    let mut out = Vec::new();
    if state.finished_at.is_some() {
        return out;
    }
    let mut level = state.level;
    let mut escalate = |to: EscalationLevel, reason, out: &mut Vec<Signal>| {
        if to > level {
            out.push(Signal::Escalate { to, reason });
            level = to;
        }
    };

    if let (Some(within), Some(assigned), None, None) =
        (policy.accept_within, state.assigned_at, state.accepted_at, state.not_accepted_escalated_at)
        && reached(now, assigned, within)
    {
        escalate(EscalationLevel::IocOnDuty, EscalationReason::NotAccepted, &mut out);
        escalate(EscalationLevel::Leader, EscalationReason::NotAccepted, &mut out);
    }

    let Some(deadline) = state.deadline else { return out };
    if now <= deadline.due_at {
        if now >= deadline.warn_at && state.warned_at.is_none() && state.overdue_at.is_none() {
            out.push(Signal::DueSoon);
        }
        return out;
    }
    if state.overdue_at.is_none() {
        out.push(Signal::Overdue);
    }
    for to in [EscalationLevel::UnitHead, EscalationLevel::IocOnDuty, EscalationLevel::Leader] {
        if policy.after_overdue(to).is_some_and(|after| reached(now, deadline.due_at, after)) {
            escalate(to, EscalationReason::Overdue, &mut out);
        }
    }
    if out.is_empty() && policy.remind_every > TimeDelta::zero() {
        let last =
            [state.last_reminder_at, state.overdue_at].into_iter().flatten().fold(deadline.due_at, DateTime::max);
        if reached(now, last, policy.remind_every) {
            out.push(Signal::Remind { level: state.level });
        }
    }
    out
}

/// The earliest time at which [`signals`] may have something new for `state`, so a scheduler
/// can sleep on it (and index it) instead of asking about every item at every tick. `None`:
/// nothing can fall due until the state changes. Asking earlier is harmless; never later.
pub fn next_check(state: &WorkState, policy: &EscalationPolicy) -> Option<DateTime<Utc>> {
    if state.finished_at.is_some() {
        return None;
    }
    let mut times: Vec<Option<DateTime<Utc>>> = Vec::new();
    if let (Some(within), Some(assigned), None, None) =
        (policy.accept_within, state.assigned_at, state.accepted_at, state.not_accepted_escalated_at)
        && state.level < EscalationLevel::Leader
    {
        times.push(assigned.checked_add_signed(within));
    }
    if let Some(d) = state.deadline {
        if state.warned_at.is_none() && state.overdue_at.is_none() {
            times.push(Some(d.warn_at));
        }
        // Overdue is strictly after the due time.
        let overdue = d.due_at.checked_add_signed(TimeDelta::seconds(1));
        if state.overdue_at.is_none() {
            times.push(overdue);
        }
        for to in [EscalationLevel::UnitHead, EscalationLevel::IocOnDuty, EscalationLevel::Leader] {
            if to > state.level {
                times.push(
                    policy
                        .after_overdue(to)
                        .and_then(|a| d.due_at.checked_add_signed(a))
                        .map(|t| t.max(overdue.unwrap_or(t))),
                );
            }
        }
        if state.overdue_at.is_some() && policy.remind_every > TimeDelta::zero() {
            let last = [state.last_reminder_at, state.overdue_at].into_iter().flatten().fold(d.due_at, DateTime::max);
            times.push(last.checked_add_signed(policy.remind_every));
        }
    }
    times.into_iter().flatten().min()
}

/// `now` is at least `after` past `since`; a time beyond chrono's range is never reached.
fn reached(now: DateTime<Utc>, since: DateTime<Utc>, after: TimeDelta) -> bool {
    since.checked_add_signed(after).is_some_and(|at| now >= at)
}

/// Who an item is given to: the owning unit, the unit (and optionally the officer) handling it,
/// and units coordinating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub owner: OrgUnitId,
    pub handler_unit: Option<OrgUnitId>,
    pub handler_user: Option<UserId>,
    pub coordinators: Vec<OrgUnitId>,
}

impl Assignment {
    /// The item as the visibility rule sees it: the handling and coordinating units are its
    /// handlers, so each of them sees the item in its own subtree.
    pub fn record(&self, field: Option<FieldCode>) -> Record {
        let mut handlers: Vec<OrgUnitId> = Vec::new();
        for unit in self.handler_unit.iter().chain(&self.coordinators) {
            if *unit != self.owner && !handlers.contains(unit) {
                handlers.push(*unit);
            }
        }
        Record { owner: self.owner, handlers, field }
    }
}

#[cfg(test)]
mod next_check_tests {
    use super::*;
    use crate::deadline::{Clocking, Deadline};
    use chrono::TimeZone;
    use proptest::prelude::*;

    proptest! {
        /// Nothing is due before the next check, and something is due at it (or it is None).
        #[test]
        fn nothing_falls_due_before_the_next_check(
            due_min in 10i64..10_000, step in 1i64..20_000, level in 0usize..4, accept in proptest::option::of(1i64..600),
            warned in any::<bool>(), overdue in any::<bool>(), accepted in any::<bool>(),
        ) {
            let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
            let d = Deadline { clocking: Clocking::Wall, due_at: t0 + TimeDelta::minutes(due_min), warn_at: t0 + TimeDelta::minutes(due_min * 3 / 4) };
            let mut s = WorkState::assigned(t0, Some(d));
            s.level = EscalationLevel::ALL[level];
            let now = t0 + TimeDelta::minutes(step);
            if warned { s.warned_at = Some(now.min(d.warn_at)); }
            if overdue && now > d.due_at { s.overdue_at = Some(now); }
            if accepted { s.accepted_at = Some(t0); }
            let policy = EscalationPolicy { accept_within: accept.map(TimeDelta::minutes), ..EscalationPolicy::default() };
            for sig in signals(&s, &policy, now) { s.apply(&sig, now); }
            let next = next_check(&s, &policy);
            let mut t = now;
            let end = next.unwrap_or(now + TimeDelta::days(5));
            while t < end {
                prop_assert!(signals(&s, &policy, t).is_empty(), "signal at {t} before next check {next:?}");
                t += TimeDelta::minutes(7);
            }
            if let Some(n) = next { prop_assert!(n > now); }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::Clocking;
    use proptest::prelude::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).unwrap() + TimeDelta::minutes(minutes)
    }

    fn wall(warn: i64, due: i64) -> Deadline {
        Deadline { clocking: Clocking::Wall, due_at: at(due), warn_at: at(warn) }
    }

    /// Asks for and applies the signals of `now`, checking that asking again gives nothing.
    fn tick(state: &mut WorkState, policy: &EscalationPolicy, now: DateTime<Utc>) -> Vec<Signal> {
        let out = signals(state, policy, now);
        for s in &out {
            state.apply(s, now);
        }
        assert_eq!(signals(state, policy, now), vec![], "not idempotent at {now}");
        out
    }

    #[test]
    fn warning_then_overdue_then_escalations_and_reminders() {
        let policy = EscalationPolicy::default();
        let mut s = WorkState::assigned(at(0), Some(wall(45, 60)));
        assert_eq!(tick(&mut s, &policy, at(44)), vec![]);
        assert_eq!(tick(&mut s, &policy, at(45)), vec![Signal::DueSoon]);
        assert_eq!(tick(&mut s, &policy, at(60)), vec![]);
        assert_eq!(
            tick(&mut s, &policy, at(61)),
            vec![
                Signal::Overdue,
                Signal::Escalate { to: EscalationLevel::UnitHead, reason: EscalationReason::Overdue }
            ]
        );
        // The IOC hears 4 h after the due time; reminders to it follow every 4 h.
        let mut log = Vec::new();
        for m in 62..=(60 + 30 * 60) {
            for sig in tick(&mut s, &policy, at(m)) {
                log.push((m, sig));
            }
        }
        let esc = |to| Signal::Escalate { to, reason: EscalationReason::Overdue };
        let remind = |level| Signal::Remind { level };
        assert_eq!(
            log,
            vec![
                (300, esc(EscalationLevel::IocOnDuty)),
                (540, remind(EscalationLevel::IocOnDuty)),
                (780, remind(EscalationLevel::IocOnDuty)),
                (1020, remind(EscalationLevel::IocOnDuty)),
                (1260, remind(EscalationLevel::IocOnDuty)),
                (1500, esc(EscalationLevel::Leader)),
                (1740, remind(EscalationLevel::Leader)),
            ]
        );
        s.finished_at = Some(at(1800));
        assert_eq!(signals(&s, &policy, at(5000)), vec![]);
    }

    #[test]
    fn downtime_catches_up_in_one_batch() {
        let policy = EscalationPolicy::default();
        let mut s = WorkState::assigned(at(0), Some(wall(45, 60)));
        let out = tick(&mut s, &policy, at(60 + 25 * 60));
        assert_eq!(
            out,
            vec![
                Signal::Overdue,
                Signal::Escalate { to: EscalationLevel::UnitHead, reason: EscalationReason::Overdue },
                Signal::Escalate { to: EscalationLevel::IocOnDuty, reason: EscalationReason::Overdue },
                Signal::Escalate { to: EscalationLevel::Leader, reason: EscalationReason::Overdue },
            ]
        );
        assert_eq!(s.level, EscalationLevel::Leader);
        assert_eq!(s.warned_at, None, "no stale warning once overdue");
    }

    #[test]
    fn urgent_item_not_accepted_goes_to_ioc_and_leader_once() {
        let policy = EscalationPolicy { accept_within: Some(TimeDelta::minutes(15)), ..Default::default() };
        let mut s = WorkState::assigned(at(0), Some(wall(180, 240)));
        assert_eq!(tick(&mut s, &policy, at(14)), vec![]);
        assert_eq!(
            tick(&mut s, &policy, at(15)),
            vec![
                Signal::Escalate { to: EscalationLevel::IocOnDuty, reason: EscalationReason::NotAccepted },
                Signal::Escalate { to: EscalationLevel::Leader, reason: EscalationReason::NotAccepted },
            ]
        );
        assert_eq!(s.not_accepted_escalated_at, Some(at(15)));
        assert_eq!(tick(&mut s, &policy, at(100)), vec![]);
        // Overdue later: the notice and reminders to the leader; no further escalation.
        assert_eq!(tick(&mut s, &policy, at(241)), vec![Signal::Overdue]);
        assert_eq!(tick(&mut s, &policy, at(241 + 240)), vec![Signal::Remind { level: EscalationLevel::Leader }]);
    }

    #[test]
    fn accepted_in_time_is_not_escalated() {
        let policy = EscalationPolicy { accept_within: Some(TimeDelta::minutes(15)), ..Default::default() };
        let mut s = WorkState::assigned(at(0), None);
        s.accepted_at = Some(at(10));
        assert_eq!(tick(&mut s, &policy, at(1000)), vec![]);
    }

    #[test]
    fn record_lists_handler_and_coordinators_once() {
        let a = Assignment {
            owner: OrgUnitId(1),
            handler_unit: Some(OrgUnitId(2)),
            handler_user: Some(UserId(7)),
            coordinators: vec![OrgUnitId(3), OrgUnitId(2), OrgUnitId(1)],
        };
        let field = FieldCode::parse("construction").unwrap();
        let r = a.record(Some(field.clone()));
        assert_eq!(r, Record { owner: OrgUnitId(1), handlers: vec![OrgUnitId(2), OrgUnitId(3)], field: Some(field) });
    }

    fn any_policy() -> impl Strategy<Value = EscalationPolicy> {
        (0i64..600, 0i64..600, 0i64..3000, -10i64..600, proptest::option::of(0i64..120)).prop_map(
            |(head, ioc, leader, remind, accept)| EscalationPolicy {
                unit_head_after_overdue: TimeDelta::minutes(head),
                ioc_after_overdue: TimeDelta::minutes(ioc),
                leader_after_overdue: TimeDelta::minutes(leader),
                remind_every: TimeDelta::minutes(remind),
                accept_within: accept.map(TimeDelta::minutes),
            },
        )
    }

    proptest! {
        #[test]
        fn following_an_item_keeps_its_invariants(
            policy in any_policy(),
            due in proptest::option::of(0i64..2000),
            gaps in proptest::collection::vec(0i64..300, 1..60),
            accept_tick in proptest::option::of(0usize..60),
            finish_tick in proptest::option::of(0usize..60),
        ) {
            let mut s = WorkState::assigned(at(0), due.map(|d| wall(d * 3 / 4, d)));
            let mut now = 0;
            let mut not_accepted_batches = 0;
            let mut last_remind: Option<i64> = None;
            for (i, gap) in gaps.into_iter().enumerate() {
                now += gap;
                if accept_tick == Some(i) { s.accepted_at = Some(at(now)); }
                if finish_tick == Some(i) { s.finished_at = Some(at(now)); }
                let before = s.level;
                let out = signals(&s, &policy, at(now));
                if s.finished_at.is_some() { prop_assert!(out.is_empty()); }
                if out.iter().any(|x| matches!(x, Signal::Escalate { reason: EscalationReason::NotAccepted, .. })) {
                    not_accepted_batches += 1;
                }
                for sig in &out {
                    match *sig {
                        Signal::Escalate { to, .. } => prop_assert!(to > s.level),
                        Signal::Remind { level } => {
                            prop_assert_eq!(level, s.level);
                            prop_assert!(policy.remind_every > TimeDelta::zero());
                            if let Some(prev) = last_remind {
                                prop_assert!(now - prev >= policy.remind_every.num_minutes());
                            }
                            last_remind = Some(now);
                        }
                        Signal::DueSoon | Signal::Overdue => {}
                    }
                    s.apply(sig, at(now));
                }
                prop_assert!(s.level >= before);
                prop_assert_eq!(signals(&s, &policy, at(now)), vec![]);
            }
            prop_assert!(not_accepted_batches <= 1);
        }
    }
}
