//! Intake: every channel (public form, Open311, operators entering hotline and counter reports)
//! ends here, so every report is checked, placed, routed to the IOC's queue and followed the
//! same way.

use super::{follow, notices, workflow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use haidang_core::validation::{Checker, email, phone, text};
use haidang_media::{MediaError, Prepared, Variant};
use haidang_reports::{Channel, Status, TrackingCode, check_attributes, redact_personal};
use haidang_store::{Actor, AuditCtx, ContactDetails, NewAttachment, NewEvent, NewReport, Report, StoreError};
use std::collections::BTreeMap;

/// A report's fields as a citizen or an operator sends them (JSON).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// Operators only: `hotline`, `in_person`, `zalo`, `email` or `staff`. The public form leaves it out.
    pub channel: Option<String>,
    pub category_id: i64,
    pub title: Option<String>,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub contact: ContactDetails,
    #[serde(default)]
    pub confidential: bool,
    /// The citizen accepted the processing notice (required on the public form).
    #[serde(default)]
    pub consent: bool,
    /// The category's extra fields: a value, or a list of values (multi-value lists).
    #[serde(default, deserialize_with = "one_or_many")]
    #[schema(value_type = BTreeMap<String, Object>)]
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// Attribute values as forms send them: `"off"` for one value, `["a", "b"]` for several.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged, expecting = "a string or a list of strings")]
    enum Values {
        One(String),
        Many(Vec<String>),
    }
    let map: BTreeMap<String, Values> = serde::Deserialize::deserialize(d)?;
    Ok(map
        .into_iter()
        .map(|(k, v)| match v {
            Values::One(s) => (k, vec![s]),
            Values::Many(v) => (k, v),
        })
        .collect())
}

impl Submission {
    pub fn new(channel: Channel, r: ReportInput) -> Self {
        Submission {
            channel,
            category_id: r.category_id,
            title: r.title,
            description: r.description,
            lat: r.lat,
            lon: r.lon,
            address: r.address,
            urgent: r.urgent,
            contact: r.contact,
            confidential: r.confidential,
            consent: r.consent,
            attributes: r.attributes,
            open311_client_id: None,
            open311_token: None,
        }
    }
}

/// A report as it arrives, whatever the channel.
#[derive(Debug, Clone)]
pub struct Submission {
    pub channel: Channel,
    pub category_id: i64,
    pub title: Option<String>,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub urgent: bool,
    pub contact: ContactDetails,
    pub confidential: bool,
    /// The citizen accepted the processing notice (Decree 13/2023).
    pub consent: bool,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub open311_client_id: Option<i64>,
    pub open311_token: Option<String>,
}

/// Checks the fields of a submission; field names are those of the public JSON.
fn check(state: &AppState, s: &Submission, c: &mut Checker) -> (Option<String>, Option<String>, ContactDetails) {
    let description = workflow::multiline(c, "description", &s.description, 4000);
    let title = match s.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => text(c, "title", t, 200),
        None => None,
    };
    let address = match s.address.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(a) => text(c, "address", a, 300),
        None => None,
    };
    let valid_place =
        s.lat.is_finite() && s.lon.is_finite() && (-90.0..=90.0).contains(&s.lat) && (-180.0..=180.0).contains(&s.lon);
    if !valid_place {
        c.push("lat", "must be a latitude and longitude in degrees");
    } else if state.places().locate(s.lat, s.lon).is_none() {
        c.push("lat", "the place is outside the province");
    }
    let clean = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let contact =
        ContactDetails { name: clean(&s.contact.name), phone: clean(&s.contact.phone), email: clean(&s.contact.email) };
    if let Some(n) = &contact.name {
        text(c, "contact.name", n, 120);
    }
    if let Some(p) = &contact.phone {
        phone(c, "contact.phone", p);
    }
    if let Some(e) = &contact.email {
        email(c, "contact.email", e);
    }
    if s.channel == Channel::Web && !s.consent {
        c.push("consent", "the processing notice must be accepted to send a report");
    }
    (description, title.or(address.clone()), contact)
}

/// Prepares uploaded files off the async threads, at most two at once.
pub async fn prepare_file(state: &AppState, bytes: Vec<u8>, declared: Option<String>) -> Result<Prepared, MediaError> {
    let _slot = state.reports.decoding.acquire().await.map_err(|_| MediaError::Corrupt("shutting down".into()))?;
    let policy = state.reports.config.media.clone();
    tokio::task::spawn_blocking(move || haidang_media::prepare(&bytes, declared.as_deref(), &policy))
        .await
        .map_err(|e| MediaError::Corrupt(e.to_string()))?
}

/// Writes prepared files to the media store (durably) and describes them for the database.
pub async fn store_files(
    state: &AppState,
    files: Vec<Prepared>,
    purpose: &'static str,
) -> ApiResult<Vec<NewAttachment>> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        files
            .iter()
            .map(|p| {
                let stored = st.reports.media.put(p).map_err(|e| ApiError::Internal(e.reason()))?;
                Ok(NewAttachment {
                    sha256: stored.sha256,
                    kind: if p.media_type.is_image() { "image" } else { "video" },
                    content_type: p.media_type.content_type().to_owned(),
                    bytes: p.bytes.len() as i64,
                    width: p.width.map(i64::from),
                    height: p.height.map(i64::from),
                    has_thumb: stored.has_thumb,
                    purpose,
                })
            })
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Reads a stored attachment's bytes.
pub async fn read_file(state: &AppState, sha: String, thumb: bool) -> ApiResult<Vec<u8>> {
    let st = state.clone();
    let variant = if thumb { Variant::Thumb } else { Variant::Original };
    tokio::task::spawn_blocking(move || st.reports.media.read(&sha, variant))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|_| ApiError::NotFound)
}

/// Records a report from any channel, with its files, and starts following it.
pub async fn submit(
    state: &AppState,
    ctx: &AuditCtx,
    actor: Actor,
    s: Submission,
    files: Vec<Prepared>,
) -> ApiResult<Report> {
    let mut c = Checker::new();
    let (description, title, contact) = check(state, &s, &mut c);
    let categories = state.store.categories().await?;
    let category = categories.iter().find(|k| k.id == s.category_id && k.active).cloned();
    match &category {
        Some(k) => c.nested("", check_attributes(&k.attributes, &s.attributes)),
        None => c.push("category_id", "no such active category"),
    }
    if files.len() > state.reports.config.max_files {
        c.push("file", format!("at most {} files", state.reports.config.max_files));
    }
    c.finish()?;
    let (Some(category), Some(description)) = (category, description) else {
        return Err(ApiError::Internal("checked input went missing".into()));
    };
    let now = state.clock.now();
    let commune = state.places().locate(s.lat, s.lon);
    let tree = state.tree();
    let owner = commune.or_else(|| tree.roots().first().copied()).ok_or(ApiError::NotFound)?;
    let urgent = s.urgent || category.urgent_by_default;
    let deadline = workflow::dispatch_deadline(&state.reports, urgent, &category, now)?;
    let accept = urgent.then_some(category.deadlines.accept_within_minutes as i64);
    let work = workflow::awaiting_dispatch(None, deadline, accept, now);
    let work = follow::with_next_check_under(&state.reports.config.escalation, work);
    let attachments = store_files(state, files, "report").await?;
    let title = title.unwrap_or_else(|| {
        let first: String = description.lines().next().unwrap_or("").chars().take(80).collect();
        if first.is_empty() { category.name_vi.clone() } else { first }
    });
    for _ in 0..3 {
        let code = TrackingCode::generate().to_string();
        let new = NewReport {
            code: code.clone(),
            category_id: category.id,
            urgent,
            channel: s.channel,
            open311_client_id: s.open311_client_id,
            open311_token: s.open311_token.clone(),
            title: title.clone(),
            public_description: redact_personal(&description),
            description: description.clone(),
            lat: s.lat,
            lon: s.lon,
            address: s.address.clone().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()),
            commune,
            owner,
            attributes: s.attributes.clone(),
            contact: contact.clone(),
            confidential: s.confidential,
            consent: s.consent,
            attachments: attachments.clone(),
            work: work.clone(),
            event: NewEvent {
                actor: actor.clone(),
                kind: "received".into(),
                from_status: None,
                to_status: Some("received"),
                note: Some(format!("Kênh tiếp nhận: {}", s.channel.as_str())),
                public: true,
                unit: commune,
            },
            notices: notices::citizen_notice(state, &code, contact.email.as_deref(), Status::Received, None)
                .into_iter()
                .collect(),
        };
        match state.store.create_report(ctx, &new).await {
            Ok(report) => {
                announce_new(state, &report);
                return Ok(report);
            }
            // A tracking code drawn twice: draw again.
            Err(StoreError::Conflict(m)) if m.contains("code") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal("could not draw a free tracking code".into()))
}

fn announce_new(state: &AppState, report: &Report) {
    let data = serde_json::json!({ "id": report.id, "code": report.code, "status": report.status, "urgent": report.urgent, "change": "received" });
    state.live.publish("reports", Some(report.work.owner), data.clone());
    state.live.publish("reports", Some(state.reports.dispatch_unit()), data);
    if report.urgent {
        follow::alarm_for(state, report, "urgent");
    }
}
