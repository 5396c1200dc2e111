//! API tokens for machine clients: hashed at rest, scoped, expiring, revocable.

use crate::audit::{append, push_scope};
use crate::time::{parse, parse_opt, ts};
use crate::{ApiToken, AuditCtx, Change, Store, StoreError, UnitRef};
use chrono::{DateTime, Utc};
use haidang_core::{OrgUnitId, Permission, TokenId, UserId};
use sqlx::{QueryBuilder, Sqlite};

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    /// SHA-256 of the secret; the secret itself is shown once and never stored.
    pub secret_hash: String,
    pub unit: OrgUnitId,
    pub permissions: Vec<Permission>,
    /// Context data: only these entity types (expanded IRIs); `None` = every type.
    pub entity_types: Option<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<UserId>,
}

type TokenRow =
    (i64, String, i64, String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>);

const TOKEN_COLUMNS: &str =
    "t.id, t.name, t.unit_id, u.code, u.name, t.permissions, t.created_at, t.expires_at, t.revoked_at, t.last_used_at,
     t.entity_types";

fn token(row: TokenRow) -> Result<ApiToken, StoreError> {
    let (id, name, unit, code, unit_name, perms, created, expires, revoked, used, types) = row;
    Ok(ApiToken {
        id: TokenId(id),
        name,
        unit: UnitRef { id: OrgUnitId(unit), code, name: unit_name },
        permissions: perms
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| Permission::parse(p).ok_or_else(|| StoreError::Corrupt(format!("permission {p:?}"))))
            .collect::<Result<_, _>>()?,
        created_at: parse(&created)?,
        expires_at: parse_opt(expires)?,
        revoked_at: parse_opt(revoked)?,
        last_used_at: parse_opt(used)?,
        entity_types: types
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("token entity types: {e}")))?,
    })
}

impl Store {
    pub async fn create_token(&self, ctx: &AuditCtx, new: NewToken) -> Result<ApiToken, StoreError> {
        let mut tx = self.writer.begin().await?;
        let perms: Vec<&str> = new.permissions.iter().map(|p| p.as_str()).collect();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, secret_hash, unit_id, permissions, created_by, created_at, expires_at,
                                     entity_types)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&new.name)
        .bind(&new.secret_hash)
        .bind(new.unit.0)
        .bind(perms.join(","))
        .bind(new.created_by.map(|u| u.0))
        .bind(ts(self.clock.now()))
        .bind(new.expires_at.map(ts))
        .bind(new.entity_types.as_ref().map(|t| serde_json::Value::from(t.clone()).to_string()))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Invalid(_) => haidang_core::Invalid::field("unit_id", "no such unit").into(),
            other => other,
        })?;
        let row: TokenRow = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN org_units u ON u.id = t.unit_id WHERE t.id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let created = token(row)?;
        append(
            &mut tx,
            ctx,
            Change::new("token.create", "api_token", id).unit(new.unit).after(&created),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// A token that may be used now: known, not revoked, not expired.
    pub async fn usable_token(&self, secret_hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN org_units u ON u.id = t.unit_id
             WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
        ))
        .bind(secret_hash)
        .bind(ts(self.clock.now()))
        .fetch_optional(&self.reader)
        .await?;
        row.map(token).transpose()
    }

    /// Records use, at most once a minute per token, so a busy client does not write on every call.
    pub async fn token_used(&self, id: TokenId) -> Result<(), StoreError> {
        let now = self.clock.now();
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(ts(now))
        .bind(id.0)
        .bind(ts(now - chrono::Duration::minutes(1)))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn list_tokens(&self, scope: Option<&[OrgUnitId]>) -> Result<Vec<ApiToken>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN org_units u ON u.id = t.unit_id WHERE 1 = 1"
        ));
        if let Some(roots) = scope {
            push_scope(&mut qb, "t.unit_id", roots);
        }
        qb.push(" ORDER BY t.id DESC");
        let rows: Vec<TokenRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(token).collect()
    }

    pub async fn token(&self, id: TokenId) -> Result<ApiToken, StoreError> {
        let row: TokenRow = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN org_units u ON u.id = t.unit_id WHERE t.id = $1"
        ))
        .bind(id.0)
        .fetch_one(&self.reader)
        .await?;
        token(row)
    }

    pub async fn revoke_token(&self, ctx: &AuditCtx, id: TokenId) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let unit: Option<i64> = sqlx::query_scalar(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING unit_id",
        )
        .bind(ts(self.clock.now()))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let unit = unit.ok_or(StoreError::NotFound)?;
        append(&mut tx, ctx, Change::new("token.revoke", "api_token", id).unit(OrgUnitId(unit)), self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes sure a token named `new.name` with exactly this secret is usable (the demo's fixed
    /// token is set this way on every start): kept when it already is, otherwise the old one of
    /// that name is revoked and the secret is (re)issued.
    pub async fn upsert_named_token(&self, ctx: &AuditCtx, new: NewToken) -> Result<ApiToken, StoreError> {
        if let Some(current) = self.usable_token(&new.secret_hash).await?
            && current.name == new.name
        {
            return Ok(current);
        }
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = $1 AND revoked_at IS NULL")
                .bind(&new.name)
                .fetch_optional(&self.reader)
                .await?;
        if let Some(id) = existing {
            self.revoke_token(ctx, TokenId(id)).await?;
        }
        // A revoked or expired token with the same secret keeps its row (secrets are unique):
        // retire its hash so the secret can be issued again.
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE api_tokens SET secret_hash = 'retired:' || id WHERE secret_hash = $1")
            .bind(&new.secret_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.create_token(ctx, new).await
    }
}
