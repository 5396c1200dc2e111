//! The follower: at each tick, finds work whose warning, deadline, reminder or escalation has
//! come, asks `haidang-work` what is due, tells the people concerned (on screen and by e-mail)
//! and records it — on the injectable clock, so tests move time instead of sleeping.

use crate::state::AppState;
use chrono::{DateTime, TimeDelta, Utc};
use haidang_core::{OrgUnitId, Role};
use haidang_store::{Actor, NewEvent, NewNotice, Report, StoreError, WorkUpdate};
use haidang_work::{Clocking, Deadline, EscalationLevel, EscalationPolicy, EscalationReason, Signal, WorkState};

/// The escalation policy of an item: the platform's, with the item's urgent acceptance window.
pub fn policy(base: &EscalationPolicy, w: &WorkUpdate) -> EscalationPolicy {
    EscalationPolicy { accept_within: w.accept_within_minutes.map(TimeDelta::minutes), ..*base }
}

pub fn work_state(w: &WorkUpdate) -> WorkState {
    let deadline = match (w.due_at, w.warn_at) {
        (Some(due_at), Some(warn_at)) => Some(Deadline {
            clocking: if w.clocking == Some("wall") { Clocking::Wall } else { Clocking::Working },
            due_at,
            warn_at,
        }),
        _ => None,
    };
    WorkState {
        assigned_at: w.assigned_at,
        accepted_at: w.accepted_at,
        finished_at: w.finished_at.or((!w.open).then_some(DateTime::<Utc>::MIN_UTC)),
        deadline,
        warned_at: w.warned_at,
        overdue_at: w.overdue_at,
        level: EscalationLevel::ALL.get(w.level.clamp(0, 3) as usize).copied().unwrap_or(EscalationLevel::Handler),
        not_accepted_escalated_at: w.not_accepted_escalated_at,
        last_reminder_at: w.last_reminder_at,
    }
}

fn store_state(mut w: WorkUpdate, s: &WorkState) -> WorkUpdate {
    w.warned_at = s.warned_at;
    w.overdue_at = s.overdue_at;
    w.level = s.level as i64;
    w.not_accepted_escalated_at = s.not_accepted_escalated_at;
    w.last_reminder_at = s.last_reminder_at;
    w
}

/// Sets `next_check_at`: the platform's default policy decides when something can next fall due.
pub fn with_next_check(w: WorkUpdate) -> WorkUpdate {
    with_next_check_under(&EscalationPolicy::default(), w)
}

pub fn with_next_check_under(base: &EscalationPolicy, mut w: WorkUpdate) -> WorkUpdate {
    let p = policy(base, &w);
    w.next_check_at = haidang_work::next_check(&work_state(&w), &p);
    w
}

/// One pass of the follower over the work that has come due. Returns how many items it moved.
pub async fn tick(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let mut moved = 0;
    for work_id in state.store.work_due(now, 200).await? {
        let report = match state.store.report_by_work(work_id).await {
            Ok(r) => r,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let current = WorkUpdate::from(&report.work);
        let policy = policy(&state.reports.config.escalation, &current);
        let mut ws = work_state(&current);
        let signals = haidang_work::signals(&ws, &policy, now);
        let mut events = Vec::new();
        let mut notices = Vec::new();
        for s in &signals {
            ws.apply(s, now);
            let (kind, note, level) = describe(s);
            events.push(NewEvent {
                actor: Actor { kind: "system".into(), id: None, name: "follower".into() },
                kind: kind.into(),
                from_status: None,
                to_status: None,
                note: Some(note),
                public: false,
                unit: level.and_then(|_| report.work.handler_unit.as_ref().map(|u| u.id)),
            });
            notices.extend(recipients(state, &report, s).await?.into_iter().map(|address| NewNotice {
                address_kind: "email",
                address,
                subject: format!("[{}] {}", report.code, subject(s)),
                body: format!("{}\n{}\n\n/reports/{}\n", subject(s), report.title, report.id),
                reference: Some(report.code.clone()),
            }));
        }
        let next = with_next_check_under(&state.reports.config.escalation, store_state(current, &ws));
        if state.store.follow_up(work_id, report.work.next_check_at, &next, &events, &notices).await? {
            moved += 1;
            for s in &signals {
                announce(state, &report, s);
            }
        }
    }
    Ok(moved)
}

fn describe(s: &Signal) -> (&'static str, String, Option<EscalationLevel>) {
    match s {
        Signal::DueSoon => ("due_soon", "Sắp đến hạn xử lý / Due soon".into(), None),
        Signal::Overdue => ("overdue", "Quá hạn xử lý / Overdue".into(), None),
        Signal::Escalate { to, reason } => {
            let why = match reason {
                EscalationReason::Overdue => "quá hạn / overdue",
                EscalationReason::NotAccepted => "chưa có đơn vị tiếp nhận / not accepted in time",
            };
            ("escalated", format!("Báo cáo lên {} ({why})", level_vi(*to)), Some(*to))
        }
        Signal::Remind { level } => ("reminder", format!("Nhắc việc: {}", level_vi(*level)), Some(*level)),
    }
}

fn subject(s: &Signal) -> String {
    match s {
        Signal::DueSoon => "Phản ánh sắp đến hạn / Report due soon".into(),
        Signal::Overdue => "Phản ánh quá hạn / Report overdue".into(),
        Signal::Escalate { to, .. } => format!("Phản ánh chuyển lên {} / Report escalated", level_vi(*to)),
        Signal::Remind { .. } => "Nhắc việc: phản ánh quá hạn / Reminder: report overdue".into(),
    }
}

pub fn level_vi(l: EscalationLevel) -> &'static str {
    match l {
        EscalationLevel::Handler => "cán bộ xử lý",
        EscalationLevel::UnitHead => "lãnh đạo đơn vị",
        EscalationLevel::IocOnDuty => "IOC trực ban",
        EscalationLevel::Leader => "lãnh đạo tỉnh",
    }
}

/// E-mail addresses of the people a signal is for.
async fn recipients(state: &AppState, report: &Report, s: &Signal) -> Result<Vec<String>, StoreError> {
    let level = match s {
        Signal::DueSoon | Signal::Overdue => EscalationLevel::Handler,
        Signal::Escalate { to, .. } => *to,
        Signal::Remind { level } => *level,
    };
    let handler = report.work.handler_unit.as_ref().map(|u| u.id);
    let users = match level {
        EscalationLevel::Handler => match (&report.work.handler_user, handler) {
            (Some(u), _) => vec![u.id],
            (None, Some(unit)) => {
                return Ok(state.store.org_unit(unit).await?.contact.email.into_iter().collect());
            }
            (None, None) => Vec::new(),
        },
        EscalationLevel::UnitHead => match handler {
            Some(unit) => state.store.holders_of(Role::Leader, unit).await?,
            None => Vec::new(),
        },
        EscalationLevel::IocOnDuty => {
            state.store.on_duty(Some(&[state.reports.dispatch_unit()])).await?.into_iter().map(|s| s.user.id).collect()
        }
        EscalationLevel::Leader => match state.tree().lineage(report.work.owner).last() {
            Some(root) => state.store.holders_of(Role::Leader, *root).await?,
            None => Vec::new(),
        },
    };
    let mut out = Vec::new();
    for id in users {
        if let Ok(u) = state.store.user(id).await
            && u.active
            && let Some(e) = u.email
        {
            out.push(e);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// On-screen: the work queues refresh, and the IOC on duty sees an alarm for urgent trouble.
fn announce(state: &AppState, report: &Report, s: &Signal) {
    let kind = describe(s).0;
    let data = serde_json::json!({ "id": report.id, "code": report.code, "change": kind, "urgent": report.urgent });
    state.live.publish("reports", Some(report.work.owner), data.clone());
    if let Some(h) = &report.work.handler_unit {
        state.live.publish("reports", Some(h.id), data);
    }
    let alarm = matches!(s, Signal::Escalate { to, .. } if *to >= EscalationLevel::IocOnDuty)
        || (report.urgent && matches!(s, Signal::Overdue));
    if alarm {
        alarm_for(state, report, "escalated");
    }
}

/// The on-screen alarm at the IOC on duty and the commune concerned.
pub fn alarm_for(state: &AppState, report: &Report, kind: &str) {
    let data = serde_json::json!({
        "kind": format!("{kind}_report"), "id": report.id, "code": report.code, "title": report.title, "urgent": report.urgent,
    });
    state.live.publish("alarm", Some(state.reports.dispatch_unit()), data.clone());
    let commune: Option<OrgUnitId> = report.commune.as_ref().map(|u| u.id);
    if let Some(c) = commune {
        state.live.publish("alarm", Some(c), data);
    }
}

/// Tells the queues of the units concerned that a report moved.
pub fn announce_step(state: &AppState, report: &Report, change: &str) {
    let data = serde_json::json!({
        "id": report.id, "code": report.code, "status": report.status, "urgent": report.urgent, "change": change,
    });
    state.live.publish("reports", Some(report.work.owner), data.clone());
    state.live.publish("reports", Some(state.reports.dispatch_unit()), data.clone());
    for u in report.work.handler_unit.iter().chain(&report.work.coordinators) {
        state.live.publish("reports", Some(u.id), data.clone());
    }
    if report.urgent && change == "assign" {
        alarm_for(state, report, "urgent");
    }
}
