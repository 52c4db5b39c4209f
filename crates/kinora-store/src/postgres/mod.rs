//! The PostgreSQL backend: a connection pool shared by many nodes, each running its own workers.
//!
//! Every verb keeps the SQLite backend's meaning; what changes is how concurrent writers are kept
//! apart. SQLite has one writer; here claims lock their row with `FOR UPDATE SKIP LOCKED`, so
//! many nodes claim at once without waiting on each other or leasing one job twice, and
//! read-then-write verbs lock what they read (`FOR UPDATE`, or a transaction-scoped advisory lock
//! where the row may not exist yet).
//!
//! Waking: a transaction that makes a job claimable also runs `pg_notify('kinora_queue')`, one
//! that records webhook deliveries `pg_notify('kinora_webhooks')`. The `listener` task turns
//! those into [`tokio::sync::Notify`] wakeups on every node; the workers' poll stays as fallback.
//!
//! Resilience: sqlx reconnects the pool lazily, so after a PostgreSQL restart the next call gets
//! a fresh connection; calls during the outage fail with the retryable
//! [`StoreError::Unavailable`](crate::StoreError::Unavailable).
//!
//! Layout: `videos` (create, read, list, delete, expiry), `queue` (claim, heartbeat, finish,
//! reclaim), `characters`, `files`, `batches` and `batch_flow`, `webhooks` (events, the trait),
//! `endpoints`, `deliveries`, `listener` (LISTEN → Notify), `rows` (column lists, row decoding).

mod batch_flow;
mod batches;
mod characters;
mod deliveries;
mod endpoints;
mod files;
mod listener;
mod queue;
mod rows;
mod videos;
mod webhooks;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kinora_core::VideoStatus;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::Notify;

use crate::error::{Result, StoreError};
use crate::metadata::MetadataStore;
use crate::record::{
    CancelOutcome, CharacterRecord, Completion, CreateOutcome, FailOutcome, IdempotencyKey,
    JobError, Lease, NewVideo, Order, Page, VideoRecord,
};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Channel notified inside every transaction that makes a job claimable.
pub(crate) const QUEUE_CHANNEL: &str = "kinora_queue";
/// Channel notified inside every transaction that records webhook deliveries.
pub(crate) const WEBHOOK_CHANNEL: &str = "kinora_webhooks";

const MAX_CONNECTIONS: u32 = 16;
/// How long a call waits for a pool connection; during an outage this bounds each failure.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct PostgresStore {
    pub(crate) pool: PgPool,
    webhook_signal: Arc<Notify>,
    queue_signal: Arc<Notify>,
    listener: tokio::task::JoinHandle<()>,
}

/// Connects to `url` (`postgres://…`), brings the schema up to date and starts listening for
/// other nodes' wakeups.
pub async fn open_postgres(url: &str) -> Result<Arc<dyn MetadataStore>> {
    Ok(Arc::new(PostgresStore::open(url).await?))
}

impl PostgresStore {
    pub async fn open(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection that died with a server restart is found out before a verb uses it.
            .test_before_acquire(true)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let webhook_signal = Arc::new(Notify::new());
        let queue_signal = Arc::new(Notify::new());
        let listener = tokio::spawn(listener::run(
            options,
            Arc::clone(&queue_signal),
            Arc::clone(&webhook_signal),
        ));
        Ok(Self {
            pool,
            webhook_signal,
            queue_signal,
            listener,
        })
    }

    /// True when no table of the schema holds a row: the target `kinora migrate` accepts.
    pub async fn is_empty(&self) -> Result<bool> {
        let any: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM videos) OR EXISTS (SELECT 1 FROM characters) \
               OR EXISTS (SELECT 1 FROM files) OR EXISTS (SELECT 1 FROM batches) \
               OR EXISTS (SELECT 1 FROM webhook_endpoints) OR EXISTS (SELECT 1 FROM webhook_events) \
               OR EXISTS (SELECT 1 FROM idempotency_keys) OR EXISTS (SELECT 1 FROM blob_deletions)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(!any)
    }

    /// The pool, for `kinora migrate`'s bulk copy.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Queued in the caller's transaction: PostgreSQL delivers it to every listener at commit, and
/// never when the transaction rolls back.
pub(crate) async fn notify(conn: &mut sqlx::PgConnection, channel: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(channel)
        .execute(conn)
        .await?;
    Ok(())
}

crate::worker::worker_store!(PostgresStore, pool, pool);

#[async_trait]
impl MetadataStore for PostgresStore {
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
        .fetch_all(&self.pool)
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
            "INSERT INTO blob_deletions (prefix, retry_at) VALUES ($1, $2) \
             ON CONFLICT (prefix) DO UPDATE SET retry_at = excluded.retry_at",
        )
        .bind(prefix)
        .bind(retry_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
    async fn due_blob_deletions(&self, now: i64, limit: u32) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT prefix FROM blob_deletions WHERE retry_at <= $1 ORDER BY retry_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
    async fn forget_blob_deletion(&self, prefix: &str) -> Result<()> {
        sqlx::query("DELETE FROM blob_deletions WHERE prefix = $1")
            .bind(prefix)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
    async fn close(&self) {
        self.listener.abort();
        self.pool.close().await;
    }
    fn queue_signal(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.queue_signal))
    }
}

#[cfg(test)]
pub(crate) mod test_db;
#[cfg(test)]
mod tests;
