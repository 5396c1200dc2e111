//! The steps of the workflow: what an action asks for, who may take it, and what it changes —
//! the status (through `Status::after`), the following of the work, the timeline, the notices.

use super::notices;
use super::{Reports, follow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use haidang_core::validation::Checker;
use haidang_core::{OrgUnitId, Permission, Principal, UserId};
use haidang_reports::{Action, Duty, RejectReason, ReturnReason, redact_personal};
use haidang_store::{Actor, Category, NewEvent, Report, ReportSet, ReportStep, WorkUpdate};
use haidang_work::{Clocking, Deadline, DeadlineRule};
use serde::Deserialize;
use utoipa::ToSchema;

/// One action on a report; `action` names it and the other fields are its own.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionRequest {
    Verify {
        category_id: Option<i64>,
        urgent: Option<bool>,
        /// The moderated text the public will see; default: the description with phones and e-mails masked.
        public_description: Option<String>,
        note: Option<String>,
    },
    Reject {
        reason: RejectReason,
        note: String,
    },
    Merge {
        into: i64,
        note: Option<String>,
    },
    Assign {
        unit_id: i64,
        user_id: Option<i64>,
        #[serde(default)]
        coordinators: Vec<i64>,
        note: Option<String>,
    },
    Transfer {
        unit_id: i64,
        user_id: Option<i64>,
        #[serde(default)]
        coordinators: Vec<i64>,
        note: String,
    },
    Accept {
        user_id: Option<i64>,
        note: Option<String>,
    },
    Return {
        reason: ReturnReason,
        note: String,
    },
    Update {
        note: String,
        #[serde(default)]
        public: bool,
    },
    Resolve {
        result: String,
        #[serde(default)]
        attachment_ids: Vec<i64>,
    },
    Approve {
        public_result: Option<String>,
        #[serde(default = "yes")]
        publish: bool,
        #[serde(default)]
        publish_attachment_ids: Vec<i64>,
    },
    SendBack {
        note: String,
    },
    Publish {},
    Close {
        note: Option<String>,
    },
    Reopen {
        note: String,
    },
}

fn yes() -> bool {
    true
}

impl ActionRequest {
    pub fn action(&self) -> Action {
        match self {
            Self::Verify { .. } => Action::Verify,
            Self::Reject { .. } => Action::Reject,
            Self::Merge { .. } => Action::Merge,
            Self::Assign { .. } => Action::Assign,
            Self::Transfer { .. } => Action::Transfer,
            Self::Accept { .. } => Action::Accept,
            Self::Return { .. } => Action::Return,
            Self::Update { .. } => Action::Update,
            Self::Resolve { .. } => Action::Resolve,
            Self::Approve { publish, .. } => Action::Approve { publish: *publish },
            Self::SendBack { .. } => Action::SendBack,
            Self::Publish {} => Action::Publish,
            Self::Close { .. } => Action::Close,
            Self::Reopen { .. } => Action::Reopen,
        }
    }
}

/// Whether `principal` may take `action` on `report` (ignoring whether the status allows it).
pub fn may(state: &AppState, principal: &Principal, report: &Report, action: Action) -> bool {
    let tree = state.tree();
    match action.duty() {
        Duty::Dispatch => principal.can(Permission::ReportsDispatch, &report.record(), &tree),
        Duty::Handle => {
            let at = |u: OrgUnitId| principal.can_at(Permission::ReportsHandle, u, &tree);
            let handler = report.work.handler_unit.as_ref().is_some_and(|u| at(u.id));
            let coordinator = report.work.coordinators.iter().any(|u| at(u.id));
            handler || (action == Action::Update && coordinator)
        }
        Duty::Citizen => false,
    }
}

/// The actions the caller may take now, for the UI's buttons.
pub fn allowed_actions(state: &AppState, principal: &Principal, report: &Report) -> Vec<String> {
    report
        .status
        .actions()
        .into_iter()
        .filter(|a| may(state, principal, report, *a))
        .map(|a| a.as_str().to_owned())
        .collect()
}

fn note(c: &mut Checker, field: &str, value: &Option<String>) -> Option<String> {
    value.as_deref().filter(|v| !v.trim().is_empty()).and_then(|v| multiline(c, field, v, 4000))
}

/// A trimmed text that may span lines (descriptions, results, notes).
pub fn multiline(c: &mut Checker, field: &str, value: &str, max_chars: usize) -> Option<String> {
    let t = value.trim();
    if t.is_empty() {
        c.push(field, "must not be empty");
        None
    } else if t.chars().count() > max_chars {
        c.push(field, format!("must be at most {max_chars} characters"));
        None
    } else if t.chars().any(|ch| ch.is_control() && ch != '\n' && ch != '\r' && ch != '\t') {
        c.push(field, "must not contain control characters");
        None
    } else {
        Some(t.to_owned())
    }
}

/// The handling deadline of a report in `category`, counted from `start`.
pub fn handling_deadline(
    reports: &Reports,
    category: &Category,
    urgent: bool,
    start: DateTime<Utc>,
) -> ApiResult<Deadline> {
    let d = &category.deadlines;
    let rule = if urgent {
        DeadlineRule { clocking: Clocking::Wall, minutes: (d.urgent_hours * 60.0).round() as i64 }
    } else {
        DeadlineRule { clocking: Clocking::Working, minutes: (d.normal_working_hours * 60.0).round() as i64 }
    };
    Deadline::schedule(&rule, start, &reports.calendar()).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The IOC's deadline to verify (or re-route) a report.
pub fn dispatch_deadline(
    reports: &Reports,
    urgent: bool,
    category: &Category,
    start: DateTime<Utc>,
) -> ApiResult<Deadline> {
    let rule = if urgent {
        DeadlineRule { clocking: Clocking::Wall, minutes: category.deadlines.accept_within_minutes as i64 }
    } else {
        DeadlineRule {
            clocking: Clocking::Working,
            minutes: (reports.config.verify_working_hours * 60.0).round() as i64,
        }
    };
    Deadline::schedule(&rule, start, &reports.calendar()).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Following state for a step waiting on the IOC (verification, re-routing).
pub fn awaiting_dispatch(
    report_handler: Option<OrgUnitId>,
    deadline: Deadline,
    urgent_accept: Option<i64>,
    now: DateTime<Utc>,
) -> WorkUpdate {
    follow::with_next_check(WorkUpdate {
        handler_unit: report_handler,
        handler_user: None,
        coordinators: None,
        open: true,
        assigned_at: Some(now),
        accepted_at: None,
        finished_at: None,
        clocking: Some(clocking_str(deadline.clocking)),
        due_at: Some(deadline.due_at),
        warn_at: Some(deadline.warn_at),
        warned_at: None,
        overdue_at: None,
        level: 0,
        accept_within_minutes: urgent_accept,
        not_accepted_escalated_at: None,
        last_reminder_at: None,
        next_check_at: None,
    })
}

pub fn clocking_str(c: Clocking) -> &'static str {
    match c {
        Clocking::Working => "working",
        Clocking::Wall => "wall",
    }
}

fn closed_work(mut w: WorkUpdate, now: DateTime<Utc>) -> WorkUpdate {
    w.open = false;
    w.finished_at.get_or_insert(now);
    w.next_check_at = None;
    w
}

/// Plans the step `req` makes on `report`, checking the caller's right and the input.
pub async fn plan(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    report: &Report,
    req: &ActionRequest,
) -> ApiResult<ReportStep> {
    let action = req.action();
    let to = report.status.after(action).map_err(|e| ApiError::Conflict(e.to_string()))?;
    if !may(state, principal, report, action) {
        return Err(ApiError::Forbidden(format!("the {} action is not yours to take on this report", action.as_str())));
    }
    let reports = &state.reports;
    let now = state.clock.now();
    let tree = state.tree();
    let categories = state.store.categories().await?;
    let mut category = categories
        .iter()
        .find(|c| c.id == report.category_id)
        .cloned()
        .ok_or_else(|| ApiError::Internal("the report's category is missing".into()))?;
    let current = WorkUpdate::from(&report.work);
    let mut c = Checker::new();
    let mut set = ReportSet::default();
    let mut work: Option<WorkUpdate> = None;
    let mut event_note: Option<String> = None;
    let mut event_unit: Option<OrgUnitId> = None;
    let mut public_note: Option<String> = None;
    let mut publish_attachments = Vec::new();
    let mut public_event = action.is_public_step();

    let unit_arg = |c: &mut Checker, field: &str, id: i64| -> Option<OrgUnitId> {
        let u = OrgUnitId(id);
        if tree.contains(u) {
            Some(u)
        } else {
            c.push(field, "no such unit");
            None
        }
    };

    match req {
        ActionRequest::Verify { category_id, urgent, public_description, note: n } => {
            if let Some(id) = category_id {
                match categories.iter().find(|c| c.id == *id && c.active) {
                    Some(cat) => {
                        category = cat.clone();
                        set.category_id = Some(*id);
                    }
                    None => c.push("category_id", "no such active category"),
                }
            }
            set.urgent = *urgent;
            if let Some(p) = public_description {
                set.public_description = multiline(&mut c, "public_description", p, 4000);
            }
            event_note = note(&mut c, "note", n);
            if urgent.is_some_and(|u| u != report.urgent) || category_id.is_some() {
                let urgent = urgent.unwrap_or(report.urgent);
                let d = dispatch_deadline(reports, urgent, &category, report.received_at)?;
                let accept = urgent.then_some(category.deadlines.accept_within_minutes as i64);
                work = Some(awaiting_dispatch(None, d, accept, now));
            }
        }
        ActionRequest::Reject { reason, note: n } => {
            event_note = multiline(&mut c, "note", n, 4000);
            public_note = Some(notices::reject_reason_vi(*reason).to_owned());
            work = Some(closed_work(current.clone(), now));
        }
        ActionRequest::Merge { into, note: n } => {
            event_note = note(&mut c, "note", n);
            if *into == report.id {
                c.push("into", "a report cannot be merged into itself");
            } else {
                match state.store.report(*into).await {
                    Ok(target) if target.status.is_final() || target.merged_into.is_some() => {
                        c.push("into", "that report is closed or merged itself")
                    }
                    Ok(target) if !principal.can(Permission::ReportsRead, &target.record(), &tree) => {
                        c.push("into", "no such report")
                    }
                    Ok(target) => {
                        set.merged_into = Some(target.id);
                        public_note = Some(format!("Đã gộp vào phản ánh số {}", target.id));
                    }
                    Err(_) => c.push("into", "no such report"),
                }
            }
            work = Some(closed_work(current.clone(), now));
        }
        ActionRequest::Assign { unit_id, user_id, coordinators, note: n } => {
            event_note = note(&mut c, "note", n);
            work =
                assignment(state, &mut c, &category, report, *unit_id, *user_id, coordinators, now, unit_arg).await?;
            event_unit = work.as_ref().and_then(|w| w.handler_unit);
            set.handling_due_at = Some(work.as_ref().and_then(|w| w.due_at));
        }
        ActionRequest::Transfer { unit_id, user_id, coordinators, note: n } => {
            event_note = multiline(&mut c, "note", n, 4000);
            work =
                assignment(state, &mut c, &category, report, *unit_id, *user_id, coordinators, now, unit_arg).await?;
            event_unit = work.as_ref().and_then(|w| w.handler_unit);
            set.handling_due_at = Some(work.as_ref().and_then(|w| w.due_at));
        }
        ActionRequest::Accept { user_id, note: n } => {
            event_note = note(&mut c, "note", n);
            let user = match user_id {
                Some(id) => Some(UserId(*id)),
                None => principal.user_id(),
            };
            if let Some(u) = user
                && !state.store.user(u).await.map(|u| u.active).unwrap_or(false)
            {
                c.push("user_id", "no such active user");
            }
            let mut w = current.clone();
            w.accepted_at = Some(now);
            w.handler_user = user;
            work = Some(follow::with_next_check(w));
            event_unit = current.handler_unit;
        }
        ActionRequest::Return { reason, note: n } => {
            event_note =
                multiline(&mut c, "note", n, 4000).map(|t| format!("{}: {t}", notices::return_reason_vi(*reason)));
            event_unit = current.handler_unit;
            let d = dispatch_deadline(reports, report.urgent, &category, now)?;
            let accept = report.urgent.then_some(category.deadlines.accept_within_minutes as i64);
            let mut w = awaiting_dispatch(current.handler_unit, d, accept, now);
            w.coordinators = Some(Vec::new());
            work = Some(w);
        }
        ActionRequest::Update { note: n, public } => {
            event_note = multiline(&mut c, "note", n, 4000);
            public_event = *public;
            if *public {
                public_note = event_note.as_deref().map(redact_personal);
            }
        }
        ActionRequest::Resolve { result, attachment_ids } => {
            set.result = multiline(&mut c, "result", result, 8000);
            let attachments = state.store.report_attachments(report.id).await?;
            for (i, id) in attachment_ids.iter().enumerate() {
                if !attachments.iter().any(|a| a.id == *id && a.purpose == "result") {
                    c.push(&format!("attachment_ids[{i}]"), "is not a result photo of this report");
                }
            }
            event_unit = current.handler_unit;
            let mut w = current.clone();
            w.finished_at = Some(now);
            w.next_check_at = None;
            work = Some(w);
        }
        ActionRequest::Approve { public_result, publish, publish_attachment_ids } => {
            let text = match public_result {
                Some(p) => multiline(&mut c, "public_result", p, 8000),
                None => report.result.as_deref().map(redact_personal),
            };
            set.public_result = text.clone();
            public_note = text;
            let attachments = state.store.report_attachments(report.id).await?;
            for (i, id) in publish_attachment_ids.iter().enumerate() {
                match attachments.iter().find(|a| a.id == *id) {
                    Some(a) if a.kind == "image" => publish_attachments.push(*id),
                    Some(_) => c.push(&format!("publish_attachment_ids[{i}]"), "videos are not published"),
                    None => c.push(&format!("publish_attachment_ids[{i}]"), "is not an attachment of this report"),
                }
            }
            if *publish {
                work = Some(closed_work(current.clone(), now));
            }
        }
        ActionRequest::SendBack { note: n } => {
            event_note = multiline(&mut c, "note", n, 4000);
            event_unit = current.handler_unit;
            let mut w = current.clone();
            w.finished_at = None;
            if let Some(due) = report.handling_due_at {
                w.due_at = Some(due);
                w.warn_at = Some(w.warn_at.map_or(due, |x| x.min(due)));
            }
            work = Some(follow::with_next_check(w));
        }
        ActionRequest::Publish {} => {
            public_note = report.public_result.clone();
            work = Some(closed_work(current.clone(), now));
        }
        ActionRequest::Close { note: n } => {
            event_note = note(&mut c, "note", n);
            work = Some(closed_work(current.clone(), now));
        }
        ActionRequest::Reopen { note: n } => {
            event_note = multiline(&mut c, "note", n, 4000);
            public_note = event_note.as_deref().map(redact_personal);
            let unit =
                current.handler_unit.ok_or_else(|| ApiError::Conflict("the report was never assigned".into()))?;
            let w = reassigned(reports, &category, report.urgent, unit, current.handler_user, now)?;
            set.handling_due_at = Some(w.due_at);
            event_unit = Some(unit);
            work = Some(w);
        }
    }
    c.finish()?;
    // A public step shows only public text; a staff note given with it stays on the staff timeline.
    let (note, staff_note) = match (public_event, event_note) {
        (false, n) => (n, None),
        (true, n) if n == public_note => (n, None),
        (true, n) => (public_note.clone(), n),
    };
    let event = NewEvent {
        actor: actor.clone(),
        kind: action.as_str().to_owned(),
        from_status: Some(report.status.as_str()),
        to_status: Some(to.as_str()),
        note,
        public: public_event,
        unit: event_unit,
    };
    let staff_note = staff_note.map(|n| NewEvent {
        actor,
        kind: "note".into(),
        from_status: None,
        to_status: None,
        note: Some(n),
        public: false,
        unit: event_unit,
    });
    let mut step = ReportStep {
        from: report.status,
        to,
        set,
        work,
        event,
        staff_note,
        notices: Vec::new(),
        publish_attachments,
        audit_action: audit_action(action),
    };
    step.notices = notices::for_step(state, report, &step, public_note.as_deref()).await?;
    Ok(step)
}

fn audit_action(a: Action) -> &'static str {
    match a {
        Action::Verify => "report.verify",
        Action::Reject => "report.reject",
        Action::Merge => "report.merge",
        Action::Assign => "report.assign",
        Action::Transfer => "report.transfer",
        Action::Accept => "report.accept",
        Action::Return => "report.return",
        Action::Update => "report.update",
        Action::Resolve => "report.resolve",
        Action::Approve { .. } => "report.approve",
        Action::SendBack => "report.send_back",
        Action::Publish => "report.publish",
        Action::Close => "report.close",
        Action::Reopen => "report.reopen",
        Action::Rate { .. } => "report.rate",
    }
}

/// Following state for a report (re)assigned to `unit` at `now`.
pub fn reassigned(
    reports: &Reports,
    category: &Category,
    urgent: bool,
    unit: OrgUnitId,
    user: Option<UserId>,
    now: DateTime<Utc>,
) -> ApiResult<WorkUpdate> {
    let d = handling_deadline(reports, category, urgent, now)?;
    Ok(follow::with_next_check(WorkUpdate {
        handler_unit: Some(unit),
        handler_user: user,
        coordinators: None,
        open: true,
        assigned_at: Some(now),
        accepted_at: None,
        finished_at: None,
        clocking: Some(clocking_str(d.clocking)),
        due_at: Some(d.due_at),
        warn_at: Some(d.warn_at),
        warned_at: None,
        overdue_at: None,
        level: 0,
        accept_within_minutes: urgent.then_some(category.deadlines.accept_within_minutes as i64),
        not_accepted_escalated_at: None,
        last_reminder_at: None,
        next_check_at: None,
    }))
}

#[allow(clippy::too_many_arguments)]
async fn assignment(
    state: &AppState,
    c: &mut Checker,
    category: &Category,
    report: &Report,
    unit_id: i64,
    user_id: Option<i64>,
    coordinators: &[i64],
    now: DateTime<Utc>,
    unit_arg: impl Fn(&mut Checker, &str, i64) -> Option<OrgUnitId>,
) -> ApiResult<Option<WorkUpdate>> {
    let unit = unit_arg(c, "unit_id", unit_id);
    let mut coords = Vec::new();
    if coordinators.len() > 20 {
        c.push("coordinators", "at most 20 coordinating units");
    }
    for (i, id) in coordinators.iter().enumerate() {
        if let Some(u) = unit_arg(c, &format!("coordinators[{i}]"), *id) {
            if Some(u) == unit {
                c.push(&format!("coordinators[{i}]"), "the handling unit does not coordinate with itself");
            } else if !coords.contains(&u) {
                coords.push(u);
            }
        }
    }
    let user = match user_id {
        Some(id) => match state.store.user(UserId(id)).await {
            Ok(u) if u.active => Some(u.id),
            _ => {
                c.push("user_id", "no such active user");
                None
            }
        },
        None => None,
    };
    let Some(unit) = unit else { return Ok(None) };
    let mut w = reassigned(&state.reports, category, report.urgent, unit, user, now)?;
    w.coordinators = Some(coords);
    Ok(Some(w))
}
