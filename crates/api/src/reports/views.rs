//! What a report looks like to staff and to the public: the store's record, cut to what the
//! viewer may see.

use chrono::{DateTime, Utc};
use haidang_reports::{Channel, Status};
use haidang_store::{Attachment, Category, Handler, Report, UnitRef, WorkEvent};
use haidang_work::{Clocking, Deadline, DeadlineState};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryRef {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

impl CategoryRef {
    pub fn of(id: i64, categories: &[Category]) -> Self {
        match categories.iter().find(|c| c.id == id) {
            Some(c) => CategoryRef { id, code: c.code.clone(), name_vi: c.name_vi.clone(), name_en: c.name_en.clone() },
            None => CategoryRef { id, code: String::new(), name_vi: String::new(), name_en: String::new() },
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadlineView {
    pub due_at: DateTime<Utc>,
    pub warn_at: DateTime<Utc>,
    /// `working` (office hours on working days) or `wall` (day and night).
    pub clocking: String,
    #[schema(value_type = String, example = "on_track")]
    pub state: DeadlineState,
}

/// The deadline of the step the report is in, and how it stands at `now`.
pub fn deadline_of(report: &Report, now: DateTime<Utc>) -> Option<DeadlineView> {
    let w = &report.work;
    let (due_at, warn_at) = (w.due_at?, w.warn_at?);
    let clocking = if w.clocking.as_deref() == Some("wall") { Clocking::Wall } else { Clocking::Working };
    let deadline = Deadline { clocking, due_at, warn_at };
    let finished = if w.open { w.finished_at } else { w.finished_at.or(Some(report.updated_at)) };
    Some(DeadlineView {
        due_at,
        warn_at,
        clocking: w.clocking.clone().unwrap_or_else(|| "working".into()),
        state: deadline.state(now, finished),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportSummary {
    pub id: i64,
    /// The citizen's tracking code (shown to staff only).
    pub code: String,
    pub status: Status,
    pub urgent: bool,
    pub channel: Channel,
    pub category: CategoryRef,
    pub title: String,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub commune: Option<UnitRef>,
    pub handler_unit: Option<UnitRef>,
    pub handler_user: Option<Handler>,
    pub coordinators: Vec<UnitRef>,
    pub deadline: Option<DeadlineView>,
    /// 0 handler, 1 head of the unit, 2 IOC on duty, 3 leader.
    pub escalation_level: i64,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub photos: i64,
}

impl ReportSummary {
    pub fn of(r: &Report, categories: &[Category], now: DateTime<Utc>, full_text: bool) -> Self {
        let description =
            if full_text { r.description.clone() } else { r.description.chars().take(300).collect::<String>() };
        ReportSummary {
            id: r.id,
            code: r.code.clone(),
            status: r.status,
            urgent: r.urgent,
            channel: r.channel,
            category: CategoryRef::of(r.category_id, categories),
            title: r.title.clone(),
            description,
            lat: r.lat,
            lon: r.lon,
            address: r.address.clone(),
            commune: r.commune.clone(),
            handler_unit: r.work.handler_unit.clone(),
            handler_user: r.work.handler_user.clone(),
            coordinators: r.work.coordinators.clone(),
            deadline: deadline_of(r, now),
            escalation_level: r.work.level,
            received_at: r.received_at,
            updated_at: r.updated_at,
            photos: r.photos,
        }
    }
}

/// Contact details are never in the detail itself: only whether there are any, and whether
/// the caller may open them (which is logged).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactPanel {
    pub present: bool,
    pub erased: bool,
    pub may_view: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    pub satisfied: bool,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub kind: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub purpose: String,
    pub published: bool,
    pub url: String,
    pub thumb_url: Option<String>,
}

impl AttachmentView {
    pub fn of(a: &Attachment) -> Self {
        let url = format!("/api/reports/{}/attachments/{}", a.report_id, a.id);
        AttachmentView {
            id: a.id,
            kind: a.kind.clone(),
            content_type: a.content_type.clone(),
            bytes: a.bytes,
            width: a.width,
            height: a.height,
            purpose: a.purpose.clone(),
            published: a.published,
            thumb_url: a.has_thumb.then(|| format!("{url}?size=thumb")),
            url,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportDetail {
    #[serde(flatten)]
    pub summary: ReportSummary,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub public_description: String,
    pub contact: ContactPanel,
    pub confidential: bool,
    pub result: Option<String>,
    pub public_result: Option<String>,
    pub rating: Option<Rating>,
    pub attachments: Vec<AttachmentView>,
    pub merged_into: Option<i64>,
    /// Reports merged into this one as duplicates.
    pub duplicates_merged: Vec<i64>,
    pub handling_due_at: Option<DateTime<Utc>>,
    /// The actions the caller may take now.
    pub allowed_actions: Vec<String>,
    pub timeline: Vec<WorkEvent>,
}

pub fn rating_of(r: &Report) -> Option<Rating> {
    Some(Rating { satisfied: r.satisfied?, comment: r.rating_comment.clone(), at: r.rated_at? })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicPhoto {
    pub id: i64,
    pub url: String,
    pub thumb_url: Option<String>,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStep {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicRating {
    pub satisfied: bool,
    pub at: DateTime<Utc>,
}

/// A report as anyone may see it: the moderated text, no contact, no names of people.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicReport {
    pub id: i64,
    pub status: Status,
    pub urgent: bool,
    pub category: CategoryRef,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub commune: Option<UnitRef>,
    pub handler_unit: Option<UnitRef>,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The approved public result, once published.
    pub result: Option<String>,
    pub photos: Vec<PublicPhoto>,
    pub rating: Option<PublicRating>,
    pub timeline: Vec<PublicStep>,
}

impl PublicReport {
    /// `attachments` and `events` are the report's; only published photos and public steps are kept.
    pub fn of(r: &Report, categories: &[Category], attachments: &[Attachment], events: &[WorkEvent]) -> Self {
        let published = r.status.is_public();
        PublicReport {
            id: r.id,
            status: r.status,
            urgent: r.urgent,
            category: CategoryRef::of(r.category_id, categories),
            description: r.public_description.clone(),
            lat: r.lat,
            lon: r.lon,
            commune: r.commune.clone(),
            handler_unit: r.work.handler_unit.clone(),
            received_at: r.received_at,
            updated_at: r.updated_at,
            published_at: r.published_at.filter(|_| published),
            result: r.public_result.clone().filter(|_| published),
            photos: attachments
                .iter()
                .filter(|a| a.published && a.kind == "image")
                .map(|a| PublicPhoto {
                    id: a.id,
                    url: format!("/api/public/media/{}", a.id),
                    thumb_url: a.has_thumb.then(|| format!("/api/public/media/{}?size=thumb", a.id)),
                    purpose: a.purpose.clone(),
                })
                .collect(),
            rating: match (r.satisfied, r.rated_at) {
                (Some(satisfied), Some(at)) => Some(PublicRating { satisfied, at }),
                _ => None,
            },
            timeline: events
                .iter()
                .filter(|e| e.public)
                .map(|e| PublicStep {
                    at: e.at,
                    kind: e.kind.clone(),
                    to_status: e.to_status.clone(),
                    note: e.note.clone(),
                })
                .collect(),
        }
    }
}
