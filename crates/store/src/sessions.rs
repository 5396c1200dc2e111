//! Login sessions, stored by the hash of their cookie so a copy of the database opens no session.

use crate::time::{parse, ts};
use crate::{Session, Store, StoreError};
use chrono::{DateTime, Utc};
use haidang_core::UserId;

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = ts(self.clock.now());
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at, ip, user_agent)
             VALUES ($1, $2, $3, $4, $5, $4, $6, $7)",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(csrf_token)
        .bind(&now)
        .bind(ts(expires_at))
        .bind(ip)
        .bind(user_agent)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A live session of an active user; expired sessions are not returned.
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let row: Option<(i64, String, String, String)> = sqlx::query_as(
            "SELECT s.user_id, s.csrf_token, s.expires_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1",
        )
        .bind(token_hash)
        .bind(ts(self.clock.now()))
        .fetch_optional(&self.reader)
        .await?;
        row.map(|(user, csrf, expires, seen)| {
            Ok(Session {
                user_id: UserId(user),
                csrf_token: csrf,
                expires_at: parse(&expires)?,
                last_seen_at: parse(&seen)?,
            })
        })
        .transpose()
    }

    /// Slides the session's expiry forward. Called at most once a minute per session.
    pub async fn touch_session(&self, token_hash: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(ts(self.clock.now()))
            .bind(ts(expires_at))
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.writer).await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_sessions(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(ts(self.clock.now()))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
