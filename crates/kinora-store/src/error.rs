//! `StoreError`: the one error type of the store, shaped for the server's code table.

/// What the server needs to decide a response; backend detail stays in `Backend` for the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The lease id is unknown or no longer current: another attempt owns the job (HTTP 409).
    #[error("the lease is no longer held: the job was reclaimed, finished or never leased")]
    LeaseLost,
    #[error("conflict: {0}")]
    Conflict(String),
    /// A storage setting that cannot work (an unsupported blob URL, an unusable S3 setup).
    #[error("invalid storage configuration: {0}")]
    Config(String),
    /// A database or object-store failure; the detail is for the log, not for clients.
    #[error("storage backend error: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            other => StoreError::Backend(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Backend(format!("migration failed: {e}"))
    }
}

impl From<object_store::Error> for StoreError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound,
            other => StoreError::Backend(other.to_string()),
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Backend(format!("i/o: {e}"))
    }
}
