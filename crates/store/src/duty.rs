//! The IOC duty roster: who is on duty when, with handover notes. Escalations address
//! "the IOC on duty" through [`Store::on_duty`].

use crate::audit::{append, push_scope};
use crate::time::{parse, ts};
use crate::{AuditCtx, Change, Shift, Store, StoreError, UnitRef, UserRef};
use chrono::{DateTime, Utc};
use haidang_core::{Invalid, OrgUnitId, ShiftId, UserId};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

type ShiftRow = (i64, i64, String, String, i64, String, String, String, String, Option<String>);

const SHIFT_COLUMNS: &str = "s.id, s.unit_id, ou.code, ou.name, s.user_id, us.username, us.display_name, s.starts_at, s.ends_at, s.handover_note";
const SHIFT_FROM: &str = "duty_shifts s JOIN org_units ou ON ou.id = s.unit_id JOIN users us ON us.id = s.user_id";

fn shift(row: ShiftRow) -> Result<Shift, StoreError> {
    let (id, unit, code, unit_name, user, username, display, starts, ends, note) = row;
    Ok(Shift {
        id: ShiftId(id),
        unit: UnitRef { id: OrgUnitId(unit), code, name: unit_name },
        user: UserRef { id: UserId(user), username, display_name: display },
        starts_at: parse(&starts)?,
        ends_at: parse(&ends)?,
        handover_note: note,
    })
}

async fn shift_in(conn: &mut SqliteConnection, id: ShiftId) -> Result<Shift, StoreError> {
    let row: ShiftRow = sqlx::query_as(&format!("SELECT {SHIFT_COLUMNS} FROM {SHIFT_FROM} WHERE s.id = $1"))
        .bind(id.0)
        .fetch_one(conn)
        .await?;
    shift(row)
}

impl Store {
    pub async fn create_shift(
        &self,
        ctx: &AuditCtx,
        unit: OrgUnitId,
        user: UserId,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> Result<Shift, StoreError> {
        if ends_at <= starts_at {
            return Err(Invalid::field("ends_at", "must be after starts_at").into());
        }
        if ends_at - starts_at > chrono::Duration::hours(48) {
            return Err(Invalid::field("ends_at", "a shift lasts at most 48 hours").into());
        }
        let mut tx = self.writer.begin().await?;
        let overlapping: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM duty_shifts WHERE user_id = $1 AND starts_at < $2 AND ends_at > $3",
        )
        .bind(user.0)
        .bind(ts(ends_at))
        .bind(ts(starts_at))
        .fetch_one(&mut *tx)
        .await?;
        if overlapping > 0 {
            return Err(StoreError::Conflict("this person already has a shift at that time".into()));
        }
        let now = ts(self.clock.now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO duty_shifts (unit_id, user_id, starts_at, ends_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(unit.0)
        .bind(user.0)
        .bind(ts(starts_at))
        .bind(ts(ends_at))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Invalid(_) => Invalid::field("user_id", "no such user or unit").into(),
            other => other,
        })?;
        let created = shift_in(&mut tx, ShiftId(id)).await?;
        append(&mut tx, ctx, Change::new("duty.create", "duty_shift", id).unit(unit).after(&created), self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn shift(&self, id: ShiftId) -> Result<Shift, StoreError> {
        let mut conn = self.reader.acquire().await?;
        shift_in(&mut conn, id).await
    }

    pub async fn set_handover_note(
        &self,
        ctx: &AuditCtx,
        id: ShiftId,
        note: Option<&str>,
    ) -> Result<Shift, StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = shift_in(&mut tx, id).await?;
        sqlx::query("UPDATE duty_shifts SET handover_note = $1, updated_at = $2 WHERE id = $3")
            .bind(note)
            .bind(ts(self.clock.now()))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let after = shift_in(&mut tx, id).await?;
        append(
            &mut tx,
            ctx,
            Change::new("duty.handover", "duty_shift", id).unit(after.unit.id).before(&before).after(&after),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_shift(&self, ctx: &AuditCtx, id: ShiftId) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = shift_in(&mut tx, id).await?;
        sqlx::query("DELETE FROM duty_shifts WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        append(
            &mut tx,
            ctx,
            Change::new("duty.delete", "duty_shift", id).unit(before.unit.id).before(&before),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Shifts overlapping `[from, to)`, in time order.
    pub async fn list_shifts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        scope: Option<&[OrgUnitId]>,
    ) -> Result<Vec<Shift>, StoreError> {
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT {SHIFT_COLUMNS} FROM {SHIFT_FROM} WHERE s.starts_at < "));
        qb.push_bind(ts(to)).push(" AND s.ends_at > ").push_bind(ts(from));
        if let Some(roots) = scope {
            push_scope(&mut qb, "s.unit_id", roots);
        }
        qb.push(" ORDER BY s.starts_at, s.id LIMIT 2000");
        let rows: Vec<ShiftRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(shift).collect()
    }

    /// Who is on duty now: "the IOC on duty" that escalations address.
    pub async fn on_duty(&self, scope: Option<&[OrgUnitId]>) -> Result<Vec<Shift>, StoreError> {
        let now = self.clock.now();
        self.list_shifts(now, now + chrono::Duration::microseconds(1), scope).await
    }
}
