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
    /// The backend cannot be reached right now (a database restarting, a dropped connection, a
    /// serialization failure): nothing was changed and the same call may succeed when retried.
    #[error("storage backend unavailable, retry later: {0}")]
    Unavailable(String),
    /// The database's disk refused a write (full, read-only, failing): nothing was changed, reads
    /// still work, and the same write succeeds once space is back.
    #[error("the database's disk refused a write: {0}")]
    DiskFault(String),
}

impl StoreError {
    /// Whether the same call may succeed later without any change to its input.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::DiskFault(_))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            sqlx::Error::Database(db) if is_disk_fault(db.as_ref()) => {
                StoreError::DiskFault(db.message().to_string())
            }
            sqlx::Error::Database(db) if db.code().is_some_and(|c| transient_sqlstate(&c)) => {
                StoreError::Unavailable(db.message().to_string())
            }
            // The connection broke or none could be had: PostgreSQL restarting, a network blip.
            down @ (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)) => {
                StoreError::Unavailable(down.to_string())
            }
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// SQLite's FULL, IOERR and READONLY families (the primary code is the low byte of the extended
/// one), and PostgreSQL's `disk_full` (53100): the disk, not the request, is at fault.
fn is_disk_fault(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else { return false };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        let primary = code.parse::<i32>().map_or(0, |c| c & 0xff);
        matches!(primary, 8 | 10 | 13)
    } else {
        code == "53100"
    }
}

/// PostgreSQL SQLSTATEs after which a retry can succeed: class 08 (connection exceptions),
/// 40001 / 40P01 (serialization failure, deadlock) and 57P01-57P03 (the server shutting down,
/// crashed or still starting).
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "40001" | "40P01" | "57P01" | "57P02" | "57P03")
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
            // Transport failures, timeouts and 5xx answers that outlived the client's own retries
            // all arrive as `Generic`: the store may well answer the same call later.
            generic @ object_store::Error::Generic { .. } => {
                StoreError::Unavailable(generic.to_string())
            }
            other => StoreError::Backend(other.to_string()),
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind::{QuotaExceeded, ReadOnlyFilesystem, StorageFull};
        if matches!(e.kind(), StorageFull | ReadOnlyFilesystem | QuotaExceeded) {
            return StoreError::DiskFault(format!("i/o: {e}"));
        }
        StoreError::Backend(format!("i/o: {e}"))
    }
}
