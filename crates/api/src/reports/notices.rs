//! What people are told, and when: the citizen of each public step (and the reporters of the
//! duplicates merged into the report), the unit given the work, the IOC when work comes back.
//! Notices are queued in the same transaction as the step and sent by the outbox worker.

use crate::error::ApiResult;
use crate::state::AppState;
use haidang_reports::{RejectReason, ReturnReason, Status};
use haidang_store::{NewNotice, Report, ReportStep};

pub fn reject_reason_vi(r: RejectReason) -> &'static str {
    match r {
        RejectReason::Spam => "Không tiếp nhận: nội dung không phải phản ánh (spam)",
        RejectReason::Duplicate => "Không tiếp nhận: trùng với phản ánh đã có",
        RejectReason::OutOfScope => "Không tiếp nhận: không thuộc phạm vi tiếp nhận",
    }
}

pub fn return_reason_vi(r: ReturnReason) -> &'static str {
    match r {
        ReturnReason::WrongUnit => "Không đúng đơn vị xử lý",
        ReturnReason::BeyondAuthority => "Vượt thẩm quyền",
    }
}

fn status_en(s: Status) -> &'static str {
    match s {
        Status::Received => "received",
        Status::Verified => "verified",
        Status::Rejected => "not accepted",
        Status::Merged => "merged with another report",
        Status::Assigned => "sent to the unit in charge",
        Status::Returned => "being re-routed",
        Status::InProgress => "being handled",
        Status::Resolved => "handled, result under review",
        Status::Approved => "result approved",
        Status::Published => "result published",
        Status::Closed => "closed",
    }
}

/// The tracking page of a report, for links in messages.
pub fn tracking_link(state: &AppState, code: &str) -> String {
    let base = state.config.public_url.as_deref().unwrap_or("").trim_end_matches('/');
    format!("{base}/p/track/{code}")
}

/// Where a report's citizen can be reached by e-mail, unless the details were erased.
pub fn citizen_email(report: &Report) -> Option<&str> {
    report.contact.email.as_deref().filter(|_| report.contact_erased_at.is_none())
}

/// The message to a citizen about their report `code` reaching `status`.
pub fn citizen_notice(
    state: &AppState,
    code: &str,
    email: Option<&str>,
    status: Status,
    note: Option<&str>,
) -> Option<NewNotice> {
    let email = email?.to_owned();
    let link = tracking_link(state, code);
    let note_vi = note.map(|n| format!("\n{n}\n")).unwrap_or_default();
    let body = format!(
        "Phản ánh {code} của bạn: {vi}.\n{note_vi}\nTheo dõi và đánh giá kết quả: {link}\n\n---\n\
         Your report {code} is {en}.\nFollow it and rate the result: {link}\n\n\
         Thư này được gửi tự động từ hệ thống tiếp nhận phản ánh hiện trường; vui lòng không trả lời.",
        vi = status.name_vi().to_lowercase(),
        en = status_en(status),
    );
    Some(NewNotice {
        address_kind: "email",
        address: email,
        subject: format!("[{code}] {} — {}", status.name_vi(), status_en(status)),
        body,
        reference: Some(code.to_owned()),
    })
}

/// The notices a step sends once it is committed.
pub async fn for_step(
    state: &AppState,
    report: &Report,
    step: &ReportStep,
    public_note: Option<&str>,
) -> ApiResult<Vec<NewNotice>> {
    let mut out = Vec::new();
    if step.event.public && step.to != step.from {
        out.extend(citizen_notice(state, &report.code, citizen_email(report), step.to, public_note));
        if !matches!(step.to, Status::Merged) {
            for dup in state.store.merged_into(report.id).await? {
                out.extend(citizen_notice(state, &dup.code, citizen_email(&dup), step.to, public_note));
            }
        }
    }
    let new_handler = step.work.as_ref().and_then(|w| w.handler_unit);
    let handed_over = matches!(step.to, Status::Assigned) && new_handler.is_some();
    if handed_over && let Some(unit) = new_handler {
        let u = state.store.org_unit(unit).await?;
        if let Some(email) = u.contact.email {
            let urgent = if report.urgent { "KHẨN — " } else { "" };
            out.push(NewNotice {
                address_kind: "email",
                address: email,
                subject: format!("[{}] {urgent}Phản ánh mới cần xử lý / New report to handle", report.code),
                body: format!(
                    "{urgent}Phản ánh {code} đã được chuyển đến {unit} để xử lý.\n{title}\n\nXem trong hệ thống: /reports/{id}\n",
                    code = report.code,
                    unit = u.name,
                    title = report.title,
                    id = report.id
                ),
                reference: Some(report.code.clone()),
            });
        }
    }
    Ok(out)
}
