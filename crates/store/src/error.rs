use haidang_core::Invalid;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the text names what already exists.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_owned()),
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::Invalid(Invalid::field("reference", "refers to something that does not exist"))
            }
            _ => StoreError::Db(e),
        }
    }
}
