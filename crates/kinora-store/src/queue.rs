//! `QueueStore`: the job queue on the videos table: a queued job's position, claims under a
//! lease, heartbeats, the attempt's end, cancellation, and leases that lapse or are handed back.
//!
//! Time units: `now`, `created_at` and every public timestamp are Unix seconds; queue times
//! (`now_ms`, `lease_ms`, `run_at_ms`) are milliseconds because leases and backoff need them.

use async_trait::async_trait;

use crate::error::Result;
use crate::record::{CancelOutcome, Completion, FailOutcome, JobError, Lease, VideoRecord};

#[async_trait]
pub trait QueueStore: Send + Sync {
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
}
