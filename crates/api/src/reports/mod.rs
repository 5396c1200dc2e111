//! Citizen field reports as a service: intake from every channel, the workflow's steps, the
//! follower of deadlines and escalations, what people are told, and what each viewer sees.
//! Routes (`routes::reports`, `routes::public`, `routes::open311`, `routes::report_setup`)
//! only translate HTTP to these.

pub mod follow;
pub mod intake;
pub mod notices;
pub mod upload;
pub mod views;
pub mod workflow;

use haidang_auth::LoginLimiter;
use haidang_core::OrgUnitId;
use haidang_media::{MediaPolicy, MediaStore};
use haidang_store::{Store, StoreError};
use haidang_work::{EscalationPolicy, OfficeHours, WorkCalendar};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A category and its children: filtering by a parent takes its subcategories too.
pub fn with_children(categories: &[haidang_store::Category], id: i64) -> Vec<i64> {
    let mut out = vec![id];
    out.extend(categories.iter().filter(|c| c.parent_id == Some(id)).map(|c| c.id));
    out
}

/// Settings of report handling; the binary fills them from its configuration.
#[derive(Debug, Clone)]
pub struct ReportsConfig {
    /// Code of the unit that verifies and routes reports (the IOC); default: the province.
    pub dispatch_unit: Option<String>,
    /// Working hours the IOC has to verify a normal report.
    pub verify_working_hours: f64,
    /// Days a citizen has to rate a published result before the report closes by itself.
    pub rating_days: i64,
    /// Days after closing when a citizen's contact details are erased.
    pub erase_contacts_after_days: i64,
    /// Reports one address may submit per hour through the public form and Open311.
    pub public_submissions_per_hour: usize,
    pub max_files: usize,
    pub media: MediaPolicy,
    pub escalation: EscalationPolicy,
    pub office_hours: OfficeHours,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        Self {
            dispatch_unit: None,
            verify_working_hours: 4.0,
            rating_days: 7,
            erase_contacts_after_days: 365,
            public_submissions_per_hour: 10,
            max_files: 5,
            media: MediaPolicy::default(),
            escalation: EscalationPolicy::default(),
            office_hours: OfficeHours::default(),
        }
    }
}

pub struct Reports {
    pub config: ReportsConfig,
    pub media: MediaStore,
    /// Submissions per client address (public form and Open311 share it).
    pub submissions: LoginLimiter,
    /// Image decoding is CPU- and memory-heavy: at most two at once.
    pub decoding: tokio::sync::Semaphore,
    calendar: RwLock<Arc<WorkCalendar>>,
    dispatch_unit: RwLock<OrgUnitId>,
}

impl Reports {
    pub async fn new(store: &Store, config: ReportsConfig) -> Result<Self, StoreError> {
        let dir = store.data_dir().join("media");
        let media = MediaStore::open(&dir).map_err(|e| StoreError::Io(dir, std::io::Error::other(e.reason())))?;
        let reports = Reports {
            submissions: LoginLimiter::new(config.public_submissions_per_hour.max(1), Duration::from_secs(3600)),
            decoding: tokio::sync::Semaphore::new(2),
            calendar: RwLock::new(Arc::new(WorkCalendar::default())),
            dispatch_unit: RwLock::new(OrgUnitId(0)),
            media,
            config,
        };
        reports.reload(store).await?;
        Ok(reports)
    }

    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.calendar.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The unit whose queue holds reports waiting for verification, routing and approval.
    pub fn dispatch_unit(&self) -> OrgUnitId {
        *self.dispatch_unit.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads the working calendar and the dispatching unit after they change.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let calendar = WorkCalendar::new(self.config.office_hours.clone(), store.calendar_days().await?);
        *self.calendar.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(calendar);
        let unit = match &self.config.dispatch_unit {
            Some(code) => store.org_unit_by_code(code).await.ok().map(|u| u.id),
            None => None,
        };
        let unit = match unit {
            Some(u) => u,
            None => store.org_tree().await?.roots().first().copied().unwrap_or(OrgUnitId(0)),
        };
        *self.dispatch_unit.write().unwrap_or_else(|p| p.into_inner()) = unit;
        Ok(())
    }
}
