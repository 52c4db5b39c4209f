//! The SQLite backend: one file in WAL mode, a single-connection writer pool and a reader pool.
//!
//! SQLite admits one writer at a time. Funnelling every write through one connection turns lock
//! contention (and `SQLITE_BUSY` on transaction upgrade) into an in-process queue, which is both
//! faster and never fails spuriously; readers run concurrently against WAL snapshots. Measured:
//! about 1,500 creates/s from 16 concurrent callers on a loaded 2-core machine.
//!
//! A failed COMMIT (a full disk) may make SQLite roll the transaction back by itself; sqlx then
//! still counts it as open and refuses every later `BEGIN`, which wedged all writes until a
//! restart. The writer is therefore checked on release and replaced when it is left in a
//! transaction (`writer_is_clean`).
//!
//! `synchronous=NORMAL` in WAL mode: a commit survives a crash of the process; an OS crash or
//! power loss may lose the last few commits, never corrupt the file.
//!
//! Layout: `videos` (create, read, list, delete, expiry), `queue` (claim, heartbeat, finish,
//! reclaim), `characters`, `rows` (column lists and row decoding).

mod batch_flow;
pub(crate) mod batches;
mod characters;
mod files;
mod queue;
pub(crate) mod rows;
mod videos;
pub(crate) mod webhooks;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kinora_core::VideoStatus;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::Result;
use crate::metadata::MetadataStore;
use crate::record::{
    CancelOutcome, CharacterRecord, Completion, CreateOutcome, FailOutcome, IdempotencyKey,
    JobError, Lease, NewVideo, Order, Page, VideoRecord,
};

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 8;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Woken after a commit that emitted webhook events, so delivery starts without a poll.
    webhook_signal: Arc<tokio::sync::Notify>,
}

/// Opens (creating if needed) the database at `path` and brings its schema up to date.
pub async fn open_sqlite(path: &Path) -> Result<Arc<dyn MetadataStore>> {
    Ok(Arc::new(SqliteStore::open(path).await?))
}

/// A private in-memory database, for tests: gone when the store is dropped.
pub async fn open_sqlite_memory() -> Result<Arc<dyn MetadataStore>> {
    Ok(Arc::new(SqliteStore::open_memory().await?))
}

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .after_release(|conn, _| Box::pin(writer_is_clean(conn)))
            .connect_with(base.clone().create_if_missing(true))
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(base.read_only(true))
            .await?;
        Ok(Self {
            writer,
            reader,
            webhook_signal: Arc::default(),
        })
    }

    /// The reader pool, for `transfer`'s bulk copy out of this database.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// One connection serves reads and writes, since each in-memory connection is its own
    /// database; it is never recycled, so the data lives as long as the store.
    pub async fn open_memory() -> Result<Self> {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
            webhook_signal: Arc::default(),
        })
    }
}

/// Whether the writer can be handed out again: no transaction left open, whether by sqlx's
/// count or by SQLite's own. A connection that fails this is closed and the pool opens a fresh
/// one, so a failed write costs that write only.
async fn writer_is_clean(
    conn: &mut sqlx::SqliteConnection,
) -> std::result::Result<bool, sqlx::Error> {
    use sqlx::Connection;
    // The ping queues behind a dropped transaction's rollback, so the count read next is final.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("the SQLite writer was left inside a transaction; replacing it");
        return Ok(false);
    }
    Ok(true)
}

crate::worker::worker_store!(SqliteStore, writer, reader);

#[async_trait]
impl MetadataStore for SqliteStore {
    async fn create_video(
        &self,
        v: NewVideo,
        idem: Option<IdempotencyKey>,
    ) -> Result<CreateOutcome> {
        self.create_video_tx(v, idem).await
    }
    async fn get_video(&self, project: &str, id: &str) -> Result<Option<VideoRecord>> {
        self.read_video(Some(project), id).await
    }
    async fn get_video_unscoped(&self, id: &str) -> Result<Option<VideoRecord>> {
        self.read_video(None, id).await
    }
    async fn list_videos(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<VideoRecord>> {
        self.list_video_page(project, after, limit, order).await
    }
    async fn queue_position(&self, id: &str) -> Result<Option<u64>> {
        self.position_of(id).await
    }
    async fn queued_ids(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, model FROM videos WHERE status = 'queued' ORDER BY priority, run_at, seq",
        )
        .fetch_all(&self.reader)
        .await?)
    }
    async fn claim_for(
        &self,
        worker: &str,
        models: Option<&[String]>,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Lease>> {
        self.claim_next(worker, models, now_ms, lease_ms).await
    }
    async fn heartbeat(
        &self,
        id: &str,
        lease_id: &str,
        progress: u8,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool> {
        self.beat(id, lease_id, progress, now_ms, lease_ms).await
    }
    async fn complete(
        &self,
        id: &str,
        lease_id: &str,
        c: Completion,
        now: i64,
    ) -> Result<VideoRecord> {
        self.finish_ok(id, lease_id, c, now).await
    }
    async fn fail(
        &self,
        id: &str,
        lease_id: &str,
        err: JobError,
        retry_at_ms: Option<i64>,
        now: i64,
    ) -> Result<FailOutcome> {
        self.finish_err(id, lease_id, err, retry_at_ms, now).await
    }
    async fn request_cancel(&self, project: &str, id: &str, now: i64) -> Result<CancelOutcome> {
        self.cancel(project, id, now).await
    }
    async fn reclaim_expired(&self, now_ms: i64) -> Result<u64> {
        self.reclaim(now_ms).await
    }
    async fn release_owner(&self, worker_prefix: &str, now_ms: i64) -> Result<u64> {
        self.release(worker_prefix, now_ms).await
    }
    async fn delete_video(&self, project: &str, id: &str, now: i64) -> Result<Option<VideoRecord>> {
        self.mark_deleted(project, id, now).await
    }
    async fn expire_due(&self, now: i64, limit: u32) -> Result<Vec<VideoRecord>> {
        self.expire(now, limit).await
    }
    async fn count_by_status(&self) -> Result<Vec<(VideoStatus, u64)>> {
        self.status_counts().await
    }
    async fn purge_idempotency_keys(&self, before: i64) -> Result<u64> {
        self.purge_keys(before).await
    }
    async fn create_character(&self, c: CharacterRecord) -> Result<()> {
        self.insert_character(c).await
    }
    async fn get_character(&self, project: &str, id: &str) -> Result<Option<CharacterRecord>> {
        self.read_character(project, id).await
    }
    async fn list_characters(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<CharacterRecord>> {
        self.list_character_page(project, after, limit, order).await
    }
    async fn delete_character(&self, project: &str, id: &str) -> Result<bool> {
        self.remove_character(project, id).await
    }
    async fn defer_blob_deletion(&self, prefix: &str, retry_at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO blob_deletions (prefix, retry_at) VALUES (?1, ?2) \
             ON CONFLICT (prefix) DO UPDATE SET retry_at = excluded.retry_at",
        )
        .bind(prefix)
        .bind(retry_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
    async fn due_blob_deletions(&self, now: i64, limit: u32) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT prefix FROM blob_deletions WHERE retry_at <= ?1 ORDER BY retry_at LIMIT ?2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?)
    }
    async fn forget_blob_deletion(&self, prefix: &str) -> Result<()> {
        sqlx::query("DELETE FROM blob_deletions WHERE prefix = ?1")
            .bind(prefix)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests;
