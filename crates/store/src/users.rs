//! Accounts and their grants.

use crate::audit::{append, escape_like, push_scope};
use crate::time::{parse, parse_opt, ts};
use crate::{AuditCtx, Change, Credentials, Cursor, Grant, Page, Store, StoreError, UnitRef, User};
use chrono::{DateTime, Utc};
use haidang_core::{Capability, FieldCode, GrantId, Invalid, OrgUnitId, Role, UserId};
use haidang_text::{collation_key, fold};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub home_unit: OrgUnitId,
    /// Already hashed (argon2id): the store never sees a password.
    pub password_hash: String,
    pub must_change_password: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub active: Option<bool>,
    pub locale: Option<String>,
    pub home_unit: Option<OrgUnitId>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub unit: Option<OrgUnitId>,
    pub role: Option<Role>,
    pub scope: Option<Vec<OrgUnitId>>,
    pub limit: usize,
    pub after: Option<Cursor>,
}

/// What happened when a login failed, for the caller's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// Wrong password; the account is still open.
    Counted { failures: i64 },
    /// This failure locked the account until the given time.
    LockedNow { until: DateTime<Utc> },
}

#[derive(sqlx::FromRow)]
struct CredentialsRow {
    id: i64,
    password_hash: String,
    active: i64,
    locked_until: Option<String>,
    failed_logins: i64,
    totp_secret: Option<String>,
    totp_enabled: i64,
}

type UserRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    String,
    String,
    i64,
    Option<String>,
    i64,
    i64,
    String,
    Option<String>,
    String,
);

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.email, u.phone, u.home_unit_id, hu.code, hu.name, \
    u.active, u.locked_until, u.must_change_password, u.totp_enabled, u.locale, u.last_login_at, u.name_sort";

fn user(row: UserRow, grants: Vec<Grant>) -> Result<(User, String), StoreError> {
    let (
        id,
        username,
        display_name,
        email,
        phone,
        hu,
        hu_code,
        hu_name,
        active,
        locked,
        must,
        totp,
        locale,
        last,
        sort,
    ) = row;
    Ok((
        User {
            id: UserId(id),
            username,
            display_name,
            email,
            phone,
            home_unit: UnitRef { id: OrgUnitId(hu), code: hu_code, name: hu_name },
            active: active != 0,
            locked_until: parse_opt(locked)?,
            must_change_password: must != 0,
            totp_enabled: totp != 0,
            locale,
            last_login_at: parse_opt(last)?,
            grants,
        },
        sort,
    ))
}

pub(crate) fn fields_text(fields: &[FieldCode]) -> String {
    fields.iter().map(FieldCode::as_str).collect::<Vec<_>>().join(",")
}

fn parse_fields(s: &str) -> Result<Vec<FieldCode>, StoreError> {
    s.split(',')
        .filter(|f| !f.is_empty())
        .map(|f| FieldCode::parse(f).map_err(|_| StoreError::Corrupt(format!("field {f:?}"))))
        .collect()
}

async fn grants_of(conn: &mut SqliteConnection, user: UserId) -> Result<Vec<Grant>, StoreError> {
    let rows: Vec<(i64, String, i64, String, String, String)> = sqlx::query_as(
        "SELECT g.id, g.role, g.unit_id, u.code, u.name, g.fields FROM grants g JOIN org_units u ON u.id = g.unit_id
         WHERE g.user_id = $1 ORDER BY g.id",
    )
    .bind(user.0)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, role, unit, code, name, fields)| {
            Ok(Grant {
                id: GrantId(id),
                role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
                unit: UnitRef { id: OrgUnitId(unit), code, name },
                fields: parse_fields(&fields)?,
            })
        })
        .collect()
}

impl Store {
    pub async fn create_user(&self, ctx: &AuditCtx, new: NewUser) -> Result<User, StoreError> {
        let mut tx = self.writer.begin().await?;
        let now = ts(self.clock.now());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, name_fold, name_sort, email, phone, home_unit_id, password_hash,
                 must_change_password, password_changed_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10) RETURNING id",
        )
        .bind(&new.username)
        .bind(&new.display_name)
        .bind(fold(&format!("{} {}", new.display_name, new.username)))
        .bind(collation_key(&new.display_name))
        .bind(&new.email)
        .bind(&new.phone)
        .bind(new.home_unit.0)
        .bind(&new.password_hash)
        .bind(new.must_change_password as i64)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("the username {} is taken", new.username)),
            StoreError::Invalid(_) => Invalid::field("home_unit_id", "no such unit").into(),
            other => other,
        })?;
        let created = self.user_in(&mut tx, UserId(id)).await?;
        append(
            &mut tx,
            ctx,
            Change::new("user.create", "user", id).unit(new.home_unit).after(&created),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn user_in(&self, conn: &mut SqliteConnection, id: UserId) -> Result<User, StoreError> {
        let row: UserRow = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN org_units hu ON hu.id = u.home_unit_id WHERE u.id = $1"
        ))
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await?;
        let grants = grants_of(conn, id).await?;
        Ok(user(row, grants)?.0)
    }

    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        let mut conn = self.reader.acquire().await?;
        self.user_in(&mut conn, id).await
    }

    pub async fn user_by_username(&self, username: &str) -> Result<User, StoreError> {
        let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(&self.reader)
            .await?;
        self.user(UserId(id)).await
    }

    pub async fn list_users(&self, f: &UserFilter) -> Result<Page<User>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN org_units hu ON hu.id = u.home_unit_id WHERE 1 = 1"
        ));
        if let Some(q) = f.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
            qb.push(" AND u.name_fold LIKE ").push_bind(format!("%{}%", escape_like(&q))).push(" ESCAPE '\\'");
        }
        if let Some(unit) = f.unit {
            qb.push(" AND u.home_unit_id = ").push_bind(unit.0);
        }
        if let Some(role) = f.role {
            qb.push(" AND EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role = ")
                .push_bind(role.as_str())
                .push(")");
        }
        if let Some(roots) = &f.scope {
            push_scope(&mut qb, "u.home_unit_id", roots);
        }
        if let Some(c) = &f.after {
            qb.push(" AND (u.name_sort > ").push_bind(c.key.clone());
            qb.push(" OR (u.name_sort = ").push_bind(c.key.clone());
            qb.push(" AND u.id > ").push_bind(c.id).push("))");
        }
        qb.push(" ORDER BY u.name_sort, u.id LIMIT ").push_bind((f.limit + 1) as i64);
        let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        let mut conn = self.reader.acquire().await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let grants = grants_of(&mut conn, UserId(row.0)).await?;
            items.push(user(row, grants)?);
        }
        let page = Page::from_rows(items, f.limit, |(u, sort)| Cursor { key: sort.clone(), id: u.id.0 });
        Ok(Page { items: page.items.into_iter().map(|(u, _)| u).collect(), next_cursor: page.next_cursor })
    }

    pub async fn update_user(&self, ctx: &AuditCtx, id: UserId, patch: UserPatch) -> Result<User, StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = self.user_in(&mut tx, id).await?;
        let name = patch.display_name.clone().unwrap_or_else(|| before.display_name.clone());
        sqlx::query(
            "UPDATE users SET display_name = $1, name_fold = $2, name_sort = $3, email = $4, phone = $5, active = $6,
                 locale = $7, home_unit_id = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(&name)
        .bind(fold(&format!("{} {}", name, before.username)))
        .bind(collation_key(&name))
        .bind(patch.email.clone().unwrap_or_else(|| before.email.clone()))
        .bind(patch.phone.clone().unwrap_or_else(|| before.phone.clone()))
        .bind(patch.active.unwrap_or(before.active) as i64)
        .bind(patch.locale.clone().unwrap_or_else(|| before.locale.clone()))
        .bind(patch.home_unit.unwrap_or(before.home_unit.id).0)
        .bind(ts(self.clock.now()))
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if patch.active == Some(false) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.0).execute(&mut *tx).await?;
        }
        let after = self.user_in(&mut tx, id).await?;
        append(
            &mut tx,
            ctx,
            Change::new("user.update", "user", id).unit(after.home_unit.id).before(&before).after(&after),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sets a new password hash. `must_change` forces a change at next login (after an
    /// administrator's reset); every other session of the user ends.
    pub async fn set_password(
        &self,
        ctx: &AuditCtx,
        id: UserId,
        hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let unit: i64 =
            sqlx::query_scalar("SELECT home_unit_id FROM users WHERE id = $1").bind(id.0).fetch_one(&mut *tx).await?;
        let now = ts(self.clock.now());
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3, failed_logins = 0,
                 locked_until = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(hash)
        .bind(must_change as i64)
        .bind(&now)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> COALESCE($2, '')")
            .bind(id.0)
            .bind(keep_session)
            .execute(&mut *tx)
            .await?;
        let action = if must_change { "user.password_reset" } else { "user.password_change" };
        append(&mut tx, ctx, Change::new(action, "user", id).unit(OrgUnitId(unit)), self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        let row: Option<CredentialsRow> = sqlx::query_as(
            "SELECT id, password_hash, active, locked_until, failed_logins, totp_secret, totp_enabled FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| {
            Ok(Credentials {
                user_id: UserId(r.id),
                password_hash: r.password_hash,
                active: r.active != 0,
                locked_until: parse_opt(r.locked_until)?,
                failed_logins: r.failed_logins,
                totp_secret: r.totp_secret,
                totp_enabled: r.totp_enabled != 0,
            })
        })
        .transpose()
    }

    /// Counts a failed login; the `max_failures`-th in a row locks the account for `lock_for`.
    pub async fn login_failed(
        &self,
        ctx: &AuditCtx,
        id: UserId,
        max_failures: i64,
        lock_for: chrono::Duration,
    ) -> Result<LoginFailure, StoreError> {
        let mut tx = self.writer.begin().await?;
        let (failures, unit): (i64, i64) = sqlx::query_as(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins, home_unit_id",
        )
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
        let outcome = if failures >= max_failures {
            let until = self.clock.now() + lock_for;
            sqlx::query("UPDATE users SET locked_until = $1, failed_logins = 0 WHERE id = $2")
                .bind(ts(until))
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            append(
                &mut tx,
                ctx,
                Change::new("user.locked", "user", id)
                    .unit(OrgUnitId(unit))
                    .after(serde_json::json!({ "until": until })),
                self.clock.now(),
            )
            .await?;
            LoginFailure::LockedNow { until }
        } else {
            append(&mut tx, ctx, Change::new("auth.login_failed", "user", id).unit(OrgUnitId(unit)), self.clock.now())
                .await?;
            LoginFailure::Counted { failures }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    pub async fn grant(
        &self,
        ctx: &AuditCtx,
        user: UserId,
        role: Role,
        unit: OrgUnitId,
        fields: &[FieldCode],
    ) -> Result<Grant, StoreError> {
        let mut tx = self.writer.begin().await?;
        for f in fields {
            let known: Option<String> = sqlx::query_scalar("SELECT code FROM fields WHERE code = $1")
                .bind(f.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() {
                return Err(Invalid::field("fields", format!("unknown field {}", f.as_str())).into());
            }
        }
        let home: Option<i64> = sqlx::query_scalar("SELECT home_unit_id FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?;
        let home = home.ok_or(StoreError::NotFound)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO grants (user_id, role, unit_id, fields, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user.0)
        .bind(role.as_str())
        .bind(unit.0)
        .bind(fields_text(fields))
        .bind(ts(self.clock.now()))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict("this user already has this role on this unit".into()),
            StoreError::Invalid(_) => Invalid::field("unit_id", "no such unit").into(),
            other => other,
        })?;
        let grant = grants_of(&mut tx, user).await?.into_iter().find(|g| g.id.0 == id).ok_or(StoreError::NotFound)?;
        append(
            &mut tx,
            ctx,
            Change::new("grant.create", "user", user).unit(OrgUnitId(home)).after(&grant),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(grant)
    }

    pub async fn revoke_grant(&self, ctx: &AuditCtx, user: UserId, grant: GrantId) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let before = grants_of(&mut tx, user).await?.into_iter().find(|g| g.id == grant).ok_or(StoreError::NotFound)?;
        let home: i64 =
            sqlx::query_scalar("SELECT home_unit_id FROM users WHERE id = $1").bind(user.0).fetch_one(&mut *tx).await?;
        sqlx::query("DELETE FROM grants WHERE id = $1 AND user_id = $2")
            .bind(grant.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            ctx,
            Change::new("grant.delete", "user", user).unit(OrgUnitId(home)).before(&before),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The capabilities a user's grants give, for building their principal.
    pub async fn capabilities(&self, user: UserId) -> Result<Vec<(Role, Capability)>, StoreError> {
        let mut conn = self.reader.acquire().await?;
        Ok(grants_of(&mut conn, user)
            .await?
            .into_iter()
            .map(|g| (g.role, Capability::from_role(g.role, g.unit.id, g.fields)))
            .collect())
    }

    /// The users holding `role` exactly on `unit`: e.g. the head of a unit for escalations.
    pub async fn holders_of(&self, role: Role, unit: OrgUnitId) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT g.user_id FROM grants g JOIN users u ON u.id = g.user_id WHERE g.role = $1 AND g.unit_id = $2 AND u.active = 1 ORDER BY g.user_id",
        )
        .bind(role.as_str())
        .bind(unit.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// A successful login: resets the failure counter and records the time.
    pub async fn login_succeeded(&self, ctx: &AuditCtx, id: UserId) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let now = self.clock.now();
        let unit: i64 = sqlx::query_scalar("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2 RETURNING home_unit_id")
            .bind(ts(now))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        append(&mut tx, ctx, Change::new("auth.login", "user", id).unit(OrgUnitId(unit)), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a TOTP secret that is not yet enabled (the user must prove it with a code first).
    pub async fn set_totp(
        &self,
        ctx: &AuditCtx,
        id: UserId,
        secret: Option<&str>,
        enabled: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let unit: i64 = sqlx::query_scalar("UPDATE users SET totp_secret = $1, totp_enabled = $2, updated_at = $3 WHERE id = $4 RETURNING home_unit_id")
            .bind(secret)
            .bind(enabled as i64)
            .bind(ts(self.clock.now()))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        let action = match (secret.is_some(), enabled) {
            (true, true) => "user.totp_enable",
            (true, false) => "user.totp_setup",
            _ => "user.totp_disable",
        };
        append(&mut tx, ctx, Change::new(action, "user", id).unit(OrgUnitId(unit)), self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn password_changed_at(&self, id: UserId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let s: Option<String> = sqlx::query_scalar("SELECT password_changed_at FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_one(&self.reader)
            .await?;
        s.as_deref().map(parse).transpose()
    }
}
