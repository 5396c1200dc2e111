//! Open311 GeoReport v2: which reports `GET requests` lists, and noting a client's use.

use crate::time::ts;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use haidang_reports::Status;
use sqlx::{QueryBuilder, Sqlite};

/// What `GET requests` asks for, already narrowed to what the caller may see.
#[derive(Debug, Clone, Default)]
pub struct Open311Filter {
    /// `service_request_id`: these reports, every other filter but visibility ignored.
    pub ids: Option<Vec<i64>>,
    /// Category ids (`service_code`); empty means all.
    pub categories: Vec<i64>,
    /// `status`: the workflow statuses that count as asked (open or closed); empty means all.
    pub statuses: Vec<Status>,
    /// `received_at` from and to, both inclusive.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The client asking (with a valid `api_key`): its own reports are listed at any status.
    pub client: Option<i64>,
    pub limit: usize,
    pub offset: usize,
}

/// Statuses anyone may read through Open311: verified or later, not rejected or merged (a
/// received report's text has not been looked at by anyone yet).
pub const OPEN311_VISIBLE: [Status; 8] = [
    Status::Verified,
    Status::Assigned,
    Status::Returned,
    Status::InProgress,
    Status::Resolved,
    Status::Approved,
    Status::Published,
    Status::Closed,
];

fn push_statuses(qb: &mut QueryBuilder<'_, Sqlite>, statuses: &[Status]) {
    qb.push("r.status IN (");
    let mut sep = qb.separated(", ");
    for s in statuses {
        sep.push_bind(s.as_str());
    }
    if statuses.is_empty() {
        sep.push("NULL");
    }
    qb.push(")");
}

impl Store {
    /// Ids of the reports `GET requests` lists, newest first.
    pub async fn open311_request_ids(&self, f: &Open311Filter) -> Result<Vec<i64>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT r.id FROM reports r WHERE (");
        push_statuses(&mut qb, &OPEN311_VISIBLE);
        if let Some(client) = f.client {
            qb.push(" OR r.open311_client_id = ").push_bind(client);
        }
        qb.push(")");
        if let Some(ids) = &f.ids {
            qb.push(" AND r.id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            if ids.is_empty() {
                sep.push("NULL");
            }
            qb.push(")");
        } else {
            if !f.categories.is_empty() {
                qb.push(" AND r.category_id IN (");
                let mut sep = qb.separated(", ");
                for id in &f.categories {
                    sep.push_bind(*id);
                }
                qb.push(")");
            }
            if !f.statuses.is_empty() {
                qb.push(" AND ");
                push_statuses(&mut qb, &f.statuses);
            }
            if let Some(t) = f.from {
                qb.push(" AND r.received_at >= ").push_bind(ts(t));
            }
            if let Some(t) = f.to {
                qb.push(" AND r.received_at <= ").push_bind(ts(t));
            }
        }
        qb.push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ")
            .push_bind(f.limit as i64)
            .push(" OFFSET ")
            .push_bind(f.offset as i64);
        Ok(qb.build_query_scalar().fetch_all(&self.reader).await?)
    }

    /// Notes that an Open311 client just used its key.
    pub async fn note_open311_client_used(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE open311_clients SET last_used_at = $1 WHERE id = $2")
            .bind(ts(self.clock.now()))
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
