//! What report handling is configured by: categories, the working calendar's days, and the
//! Open311 clients allowed to submit.

use crate::audit::{AuditCtx, Change, append};
use crate::time::{parse, parse_opt, ts};
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use haidang_core::{FieldCode, Invalid, OrgUnitId};
use haidang_reports::{AttributeDef, CategoryDeadlines, HandlingRule};
use haidang_work::{CalendarDay, DayKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Category {
    pub id: i64,
    /// Also the Open311 `service_code`.
    pub code: String,
    pub parent_id: Option<i64>,
    pub name_vi: String,
    pub name_en: String,
    pub description_vi: String,
    pub description_en: String,
    pub rule: HandlingRule,
    /// The core field the category belongs to; it narrows who sees its reports.
    pub field: Option<FieldCode>,
    #[serde(flatten)]
    pub deadlines: CategoryDeadlines,
    pub urgent_by_default: bool,
    pub attributes: Vec<AttributeDef>,
    pub keywords: Vec<String>,
    pub active: bool,
    pub sort_order: i64,
}

/// A category as written by an administrator (create, or full replacement on update).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub code: String,
    pub parent_id: Option<i64>,
    pub name_vi: String,
    pub name_en: String,
    #[serde(default)]
    pub description_vi: String,
    #[serde(default)]
    pub description_en: String,
    pub rule: HandlingRule,
    pub field: Option<FieldCode>,
    #[serde(flatten)]
    pub deadlines: CategoryDeadlines,
    #[serde(default)]
    pub urgent_by_default: bool,
    #[serde(default)]
    pub attributes: Vec<AttributeDef>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub sort_order: i64,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Open311Client {
    pub id: i64,
    pub name: String,
    pub unit_id: Option<OrgUnitId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

type CategoryRow = (
    i64,
    String,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    String,
    bool,
    i64,
);

const CATEGORY_COLUMNS: &str = "id, code, parent_id, name_vi, name_en, description_vi, description_en, rule, deadlines, \
     attributes, field, urgent_by_default, keywords, active, sort_order";

fn category_of(r: CategoryRow) -> Result<Category, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("category {}: {what}", r.0));
    Ok(Category {
        id: r.0,
        code: r.1.clone(),
        parent_id: r.2,
        name_vi: r.3.clone(),
        name_en: r.4.clone(),
        description_vi: r.5.clone(),
        description_en: r.6.clone(),
        rule: serde_json::from_str(&r.7).map_err(|_| corrupt("rule"))?,
        deadlines: serde_json::from_str(&r.8).map_err(|_| corrupt("deadlines"))?,
        attributes: serde_json::from_str(&r.9).map_err(|_| corrupt("attributes"))?,
        field: r.10.as_deref().map(FieldCode::parse).transpose().map_err(|_| corrupt("field"))?,
        urgent_by_default: r.11,
        keywords: r.12.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect(),
        active: r.13,
        sort_order: r.14,
    })
}

impl CategoryInput {
    fn check(&self) -> Result<(), Invalid> {
        let mut c = haidang_core::validation::Checker::new();
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 40
            && self.code.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        c.check(code_ok, "code", "must be 1–40 letters, digits, '_' or '-'");
        haidang_core::validation::text(&mut c, "name_vi", &self.name_vi, 200);
        haidang_core::validation::text(&mut c, "name_en", &self.name_en, 200);
        c.check(self.description_vi.chars().count() <= 2000, "description_vi", "must be at most 2000 characters");
        c.check(self.description_en.chars().count() <= 2000, "description_en", "must be at most 2000 characters");
        c.check(self.keywords.len() <= 30, "keywords", "at most 30 keywords");
        c.check(
            self.keywords.iter().all(|k| !k.contains(',') && k.chars().count() <= 60),
            "keywords",
            "keywords have no commas and at most 60 characters",
        );
        self.deadlines.check(&mut c);
        c.nested("", AttributeDef::check_defs(&self.attributes));
        c.finish()
    }
}

impl Store {
    pub async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        let rows: Vec<CategoryRow> = sqlx::query_as(&format!(
            "SELECT {CATEGORY_COLUMNS} FROM report_categories ORDER BY parent_id IS NOT NULL, sort_order, code"
        ))
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(category_of).collect()
    }

    pub async fn category(&self, id: i64) -> Result<Category, StoreError> {
        let row: CategoryRow =
            sqlx::query_as(&format!("SELECT {CATEGORY_COLUMNS} FROM report_categories WHERE id = $1"))
                .bind(id)
                .fetch_one(&self.reader)
                .await?;
        category_of(row)
    }

    pub async fn category_by_code(&self, code: &str) -> Result<Category, StoreError> {
        let row: CategoryRow =
            sqlx::query_as(&format!("SELECT {CATEGORY_COLUMNS} FROM report_categories WHERE code = $1"))
                .bind(code)
                .fetch_one(&self.reader)
                .await?;
        category_of(row)
    }

    /// Creates a category, or replaces category `id` with `input`.
    pub async fn save_category(
        &self,
        ctx: &AuditCtx,
        id: Option<i64>,
        input: &CategoryInput,
    ) -> Result<Category, StoreError> {
        input.check()?;
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let before = match id {
            Some(id) => Some(category_of(
                sqlx::query_as(&format!("SELECT {CATEGORY_COLUMNS} FROM report_categories WHERE id = $1"))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?,
            )?),
            None => None,
        };
        if let Some(parent) = input.parent_id {
            if Some(parent) == id {
                return Err(Invalid::field("parent_id", "a category cannot be its own parent").into());
            }
            let parent_of_parent: Option<Option<i64>> =
                sqlx::query_scalar("SELECT parent_id FROM report_categories WHERE id = $1")
                    .bind(parent)
                    .fetch_optional(&mut *tx)
                    .await?;
            match parent_of_parent {
                None => return Err(Invalid::field("parent_id", "no such category").into()),
                Some(Some(_)) => return Err(Invalid::field("parent_id", "categories have two levels at most").into()),
                Some(None) => {}
            }
        }
        let json = |v: serde_json::Result<String>| v.map_err(|e| StoreError::Corrupt(e.to_string()));
        let (rule, deadlines, attributes) = (
            json(serde_json::to_string(&input.rule))?,
            json(serde_json::to_string(&input.deadlines))?,
            json(serde_json::to_string(&input.attributes))?,
        );
        let sql = match id {
            None => {
                "INSERT INTO report_categories (code, parent_id, name_vi, name_en, description_vi, description_en, rule, \
                 deadlines, attributes, field, urgent_by_default, keywords, active, sort_order, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id"
            }
            Some(_) => {
                "UPDATE report_categories SET code = $1, parent_id = $2, name_vi = $3, name_en = $4, description_vi = $5, \
                 description_en = $6, rule = $7, deadlines = $8, attributes = $9, field = $10, urgent_by_default = $11, \
                 keywords = $12, active = $13, sort_order = $14, updated_at = $15 WHERE id = $16 RETURNING id"
            }
        };
        let mut query = sqlx::query_scalar::<_, i64>(sql)
            .bind(&input.code)
            .bind(input.parent_id)
            .bind(input.name_vi.trim())
            .bind(input.name_en.trim())
            .bind(input.description_vi.trim())
            .bind(input.description_en.trim())
            .bind(rule)
            .bind(deadlines)
            .bind(attributes)
            .bind(input.field.as_ref().map(|f| f.as_str().to_owned()))
            .bind(input.urgent_by_default)
            .bind(input.keywords.iter().map(|k| k.trim()).collect::<Vec<_>>().join(","))
            .bind(input.active)
            .bind(input.sort_order)
            .bind(ts(now));
        if let Some(id) = id {
            query = query.bind(id);
        }
        let new_id = query.fetch_one(&mut *tx).await.map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => Invalid::field("code", "another category has this code").into(),
            StoreError::Invalid(_) => Invalid::field("field", "no such field").into(),
            other => other,
        })?;
        let after = category_of(
            sqlx::query_as(&format!("SELECT {CATEGORY_COLUMNS} FROM report_categories WHERE id = $1"))
                .bind(new_id)
                .fetch_one(&mut *tx)
                .await?,
        )?;
        let action = if before.is_some() { "report_category.update" } else { "report_category.create" };
        let mut change = Change::new(action, "report_category", new_id).after(&after);
        if let Some(b) = &before {
            change = change.before(b);
        }
        append(&mut tx, ctx, change, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every entry of the working calendar (holidays and make-up working days).
    pub async fn calendar_days(&self) -> Result<Vec<CalendarDay>, StoreError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT date, kind, name FROM calendar_days ORDER BY date").fetch_all(&self.reader).await?;
        rows.into_iter()
            .map(|(date, kind, name)| {
                Ok(CalendarDay {
                    date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                        .map_err(|_| StoreError::Corrupt(format!("calendar date {date:?}")))?,
                    kind: DayKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("calendar kind {kind:?}")))?,
                    name,
                })
            })
            .collect()
    }

    /// Adds or replaces calendar entries (one, or a whole official year) in one transaction.
    pub async fn set_calendar_days(&self, ctx: &AuditCtx, days: &[CalendarDay]) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        for d in days {
            let kind = d.kind.as_str();
            sqlx::query(
                "INSERT INTO calendar_days (date, kind, name) VALUES ($1, $2, $3)
                 ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name",
            )
            .bind(d.date.format("%Y-%m-%d").to_string())
            .bind(kind)
            .bind(&d.name)
            .execute(&mut *tx)
            .await?;
        }
        let first = days.first().map(|d| d.date.to_string()).unwrap_or_default();
        append(&mut tx, ctx, Change::new("calendar.set", "calendar_day", first).after(days), now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_calendar_day(&self, ctx: &AuditCtx, date: NaiveDate) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query("DELETE FROM calendar_days WHERE date = $1")
            .bind(date.format("%Y-%m-%d").to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append(&mut tx, ctx, Change::new("calendar.delete", "calendar_day", date), now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_open311_client(
        &self,
        ctx: &AuditCtx,
        name: &str,
        unit: Option<OrgUnitId>,
        key_hash: &str,
    ) -> Result<Open311Client, StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO open311_clients (name, key_hash, unit_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(key_hash)
        .bind(unit.map(|u| u.0))
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?;
        let client = Open311Client {
            id,
            name: name.to_owned(),
            unit_id: unit,
            active: true,
            created_at: now,
            last_used_at: None,
        };
        append(&mut tx, ctx, Change::new("open311_client.create", "open311_client", id).after(&client), now).await?;
        tx.commit().await?;
        Ok(client)
    }

    /// Registers a client under `name`, or gives the existing one this key (the demo's fixed key).
    pub async fn upsert_open311_client(&self, ctx: &AuditCtx, name: &str, key_hash: &str) -> Result<(), StoreError> {
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM open311_clients WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        match existing {
            None => self.create_open311_client(ctx, name, None, key_hash).await.map(|_| ()),
            Some(id) => {
                sqlx::query("UPDATE open311_clients SET key_hash = $1, active = 1 WHERE id = $2")
                    .bind(key_hash)
                    .bind(id)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }
        }
    }

    pub async fn open311_clients(&self) -> Result<Vec<Open311Client>, StoreError> {
        let rows: Vec<ClientRow> = sqlx::query_as(
            "SELECT id, name, unit_id, active, created_at, last_used_at FROM open311_clients ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(open311_client_of).collect()
    }

    /// The active client holding this key (given as its hash), noting that it was used.
    pub async fn open311_client_by_key(&self, key_hash: &str) -> Result<Open311Client, StoreError> {
        let row: ClientRow = sqlx::query_as(
            "SELECT id, name, unit_id, active, created_at, last_used_at FROM open311_clients WHERE key_hash = $1 AND active = 1",
        )
        .bind(key_hash)
        .fetch_one(&self.reader)
        .await?;
        open311_client_of(row)
    }

    pub async fn revoke_open311_client(&self, ctx: &AuditCtx, id: i64) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query("UPDATE open311_clients SET active = 0 WHERE id = $1 AND active = 1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append(&mut tx, ctx, Change::new("open311_client.revoke", "open311_client", id), now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// id, name, unit, active, created, last used
type ClientRow = (i64, String, Option<i64>, bool, String, Option<String>);

fn open311_client_of(r: ClientRow) -> Result<Open311Client, StoreError> {
    Ok(Open311Client {
        id: r.0,
        name: r.1,
        unit_id: r.2.map(OrgUnitId),
        active: r.3,
        created_at: parse(&r.4)?,
        last_used_at: parse_opt(r.5)?,
    })
}
