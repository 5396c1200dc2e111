//! Platform settings kept in the store, and the list of fields (lĩnh vực) grants can name.

use crate::{FieldInfo, Store, StoreError};
use haidang_core::FieldCode;

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.reader)
            .await?)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn upsert_field(&self, code: &FieldCode, name_vi: &str, name_en: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fields (code, name_vi, name_en) VALUES ($1, $2, $3)
             ON CONFLICT (code) DO UPDATE SET name_vi = excluded.name_vi, name_en = excluded.name_en",
        )
        .bind(code.as_str())
        .bind(name_vi)
        .bind(name_en)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn fields(&self) -> Result<Vec<FieldInfo>, StoreError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT code, name_vi, name_en FROM fields ORDER BY code").fetch_all(&self.reader).await?;
        rows.into_iter()
            .map(|(code, vi, en)| {
                Ok(FieldInfo {
                    code: FieldCode::parse(&code).map_err(|_| StoreError::Corrupt(format!("field {code:?}")))?,
                    name_vi: vi,
                    name_en: en,
                })
            })
            .collect()
    }
}
