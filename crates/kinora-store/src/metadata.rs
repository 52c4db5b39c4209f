//! `MetadataStore`: the backend-neutral contract for videos, the job queue, characters and
//! idempotency keys. Every backend (SQLite, PostgreSQL) implements all of it and runs
//! the same storage story tests.
//!
//! Time units: `now`, `created_at` and every public timestamp are Unix seconds; queue times
//! (`now_ms`, `lease_ms`, `run_at_ms`) are milliseconds because leases and backoff need them.

use std::sync::Arc;

use async_trait::async_trait;
use kinora_core::VideoStatus;

use crate::batch::BatchStore;
use crate::error::Result;
use crate::file::FileStore;
use crate::record::{
    CancelOutcome, CharacterRecord, Completion, CreateOutcome, FailOutcome, IdempotencyKey,
    JobError, Lease, NewVideo, Order, Page, VideoRecord,
};
use crate::webhook::WebhookStore;
use crate::worker::WorkerStore;

#[async_trait]
pub trait MetadataStore:
    FileStore + BatchStore + WebhookStore + WorkerStore + Send + Sync + 'static
{
    /// Idempotency check (per project + key) and insert as `queued`, in one transaction. The job
    /// is claimable from `created_at`.
    async fn create_video(
        &self,
        v: NewVideo,
        idem: Option<IdempotencyKey>,
    ) -> Result<CreateOutcome>;

    /// A live video of `project`; deleted videos read as `None`.
    async fn get_video(&self, project: &str, id: &str) -> Result<Option<VideoRecord>>;

    /// A live video of any project, for workers that hold only the id.
    async fn get_video_unscoped(&self, id: &str) -> Result<Option<VideoRecord>>;

    /// Videos of `project` in creation order. `after` is the id of the previous page's last item
    /// (an unknown id is `NotFound`); `has_more` is exact.
    async fn list_videos(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<VideoRecord>>;

    /// For a queued job: 1 + the number of queued jobs that `claim` takes before it.
    async fn queue_position(&self, id: &str) -> Result<Option<u64>>;

    /// `(id, model)` of every queued job in claim order, for a snapshot of positions that many
    /// reads share (positions count per worker pool, so the model comes along).
    async fn queued_ids(&self) -> Result<Vec<(String, String)>>;

    /// Leases the next due job of any model.
    async fn claim(&self, worker: &str, now_ms: i64, lease_ms: i64) -> Result<Option<Lease>> {
        self.claim_for(worker, None, now_ms, lease_ms).await
    }

    /// Leases the next due job (by priority, run_at, creation order) whose model is in `models`
    /// (any model when `None`), or returns `None` when nothing is due.
    async fn claim_for(
        &self,
        worker: &str,
        models: Option<&[String]>,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Lease>>;

    /// Extends the lease and records progress (never backwards within an attempt). Returns
    /// whether cancellation was requested. `LeaseLost` if the lease is not current.
    async fn heartbeat(
        &self,
        id: &str,
        lease_id: &str,
        progress: u8,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool>;

    /// Marks the attempt `completed`. `LeaseLost` if the lease is not current.
    async fn complete(
        &self,
        id: &str,
        lease_id: &str,
        c: Completion,
        now: i64,
    ) -> Result<VideoRecord>;

    /// Ends the attempt: requeued at `retry_at_ms` if given, attempts remain and no cancel was
    /// requested; otherwise `failed` with `err`. `LeaseLost` if the lease is not current.
    async fn fail(
        &self,
        id: &str,
        lease_id: &str,
        err: JobError,
        retry_at_ms: Option<i64>,
        now: i64,
    ) -> Result<FailOutcome>;

    async fn request_cancel(&self, project: &str, id: &str, now: i64) -> Result<CancelOutcome>;

    /// Jobs whose lease ran out go back to the queue, or fail with `worker_lost` when out of
    /// attempts (`cancelled` when a cancel was pending). Returns how many were touched.
    async fn reclaim_expired(&self, now_ms: i64) -> Result<u64>;

    /// Hands back every running job leased by a worker whose name starts with `worker_prefix`,
    /// without counting the attempt. For a node's startup and graceful shutdown. An empty prefix
    /// is refused (`Conflict`): it would take every node's jobs.
    async fn release_owner(&self, worker_prefix: &str, now_ms: i64) -> Result<u64>;

    /// Marks the video deleted and returns it so the caller removes its blobs. A job still queued
    /// is failed as cancelled; a running one gets `cancel_requested`.
    async fn delete_video(&self, project: &str, id: &str, now: i64) -> Result<Option<VideoRecord>>;

    /// Completed videos with `expires_at <= now` become `expired`, at most `limit` per call;
    /// returns them so the caller removes their blobs.
    async fn expire_due(&self, now: i64, limit: u32) -> Result<Vec<VideoRecord>>;

    /// Live videos per status; every status is listed, zeros included.
    async fn count_by_status(&self) -> Result<Vec<(VideoStatus, u64)>>;

    /// Forgets idempotency keys created before `before` (Unix seconds); returns how many.
    async fn purge_idempotency_keys(&self, before: i64) -> Result<u64>;

    /// `Conflict` if the id exists.
    async fn create_character(&self, c: CharacterRecord) -> Result<()>;
    async fn get_character(&self, project: &str, id: &str) -> Result<Option<CharacterRecord>>;
    async fn list_characters(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<CharacterRecord>>;
    async fn delete_character(&self, project: &str, id: &str) -> Result<bool>;

    /// Remembers a blob prefix whose deletion failed (the blob store was away when its record
    /// went), to be tried again from `retry_at` (Unix seconds). Idempotent: a prefix already
    /// remembered just moves its retry time.
    async fn defer_blob_deletion(&self, prefix: &str, retry_at: i64) -> Result<()>;
    /// Up to `limit` remembered prefixes whose retry time has come, earliest first.
    async fn due_blob_deletions(&self, now: i64, limit: u32) -> Result<Vec<String>>;
    /// Forgets a prefix once its blobs are gone.
    async fn forget_blob_deletion(&self, prefix: &str) -> Result<()>;

    /// Readiness: the backend answers a trivial query.
    async fn ping(&self) -> Result<()>;

    /// Closes connections after in-flight calls finish; later calls fail with `Backend`.
    async fn close(&self);

    /// Woken when another node (or this one) made a job claimable, for backends shared by many
    /// nodes. `None` where one process owns the store and its enqueues wake workers directly.
    fn queue_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }
}
