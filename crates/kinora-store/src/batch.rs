//! Batches of the Batch API: records, the status machine's states, and the `BatchStore` verbs.
//!
//! A batch's life: created `validating`; its input file is read line by line into staged
//! requests (each valid line becomes a video to be, each invalid one keeps its own error); then
//! one transaction turns the staged videos into queued jobs and the batch `in_progress`. When
//! every job is terminal the batch is `finalizing` while its output and error files are written,
//! then `completed` — or `expired` / `cancelled` when the window ran out or a cancel came first.
//! File-level problems end it `failed` with nothing enqueued.

use async_trait::async_trait;
use kinora_core::{JobSpec, VideoSize};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::file::FileRecord;
use crate::record::{Order, Page, VideoRecord};

/// Batch jobs are claimed after every interactive job (priority 0). Each project's rows get
/// consecutive priorities from max(the global frontier, the project's own tail), so two projects'
/// batches interleave one for one instead of the first batch starving the second.
pub const BATCH_PRIORITY_BASE: i64 = 1_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Validating,
    Failed,
    InProgress,
    Finalizing,
    Completed,
    Expired,
    Cancelling,
    Cancelled,
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Validating => "validating",
            BatchStatus::Failed => "failed",
            BatchStatus::InProgress => "in_progress",
            BatchStatus::Finalizing => "finalizing",
            BatchStatus::Completed => "completed",
            BatchStatus::Expired => "expired",
            BatchStatus::Cancelling => "cancelling",
            BatchStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<BatchStatus> {
        [
            BatchStatus::Validating,
            BatchStatus::Failed,
            BatchStatus::InProgress,
            BatchStatus::Finalizing,
            BatchStatus::Completed,
            BatchStatus::Expired,
            BatchStatus::Cancelling,
            BatchStatus::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BatchStatus::Failed
                | BatchStatus::Completed
                | BatchStatus::Expired
                | BatchStatus::Cancelled
        )
    }
}

/// A file-level problem (`errors.data` of the batch object) or one line's own error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub line: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BatchRecord {
    pub id: String,
    pub project: String,
    pub endpoint: String,
    pub input_file_id: String,
    pub completion_window: String,
    pub status: BatchStatus,
    pub model: Option<String>,
    pub metadata: Option<serde_json::Value>,
    /// Seconds the output and error files live; `None` for the server's default.
    pub output_expires_after: Option<i64>,
    pub errors: Vec<LineError>,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
    pub created_at: i64,
    pub in_progress_at: Option<i64>,
    pub expires_at: i64,
    pub finalizing_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub expired_at: Option<i64>,
    pub cancelling_at: Option<i64>,
    pub cancelled_at: Option<i64>,
}

/// A valid line, ready to become a queued video.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedVideo {
    pub video_id: String,
    pub model: String,
    pub prompt: String,
    pub size: VideoSize,
    pub seconds: u32,
    pub seed: u64,
    pub spec: JobSpec,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StagedRequest {
    /// 1-based line number in the input file.
    pub line: u64,
    pub custom_id: String,
    /// Exactly one of `video` and `error`.
    pub video: Option<StagedVideo>,
    pub error: Option<LineError>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
}

/// One request's result, as the output and error files report it.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestResult {
    pub line: u64,
    pub custom_id: String,
    /// The line's own validation error.
    pub error: Option<LineError>,
    /// The video it became; `None` when it never ran (invalid, or the batch ended first).
    pub video: Option<VideoRecord>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BatchCancel {
    NotFound,
    /// Already ended (or ending): nothing to cancel.
    Ended(BatchRecord),
    Cancelling(BatchRecord),
}

/// The files finalization wrote; `None` where there was nothing to write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchOutputs {
    pub output: Option<FileRecord>,
    pub errors: Option<FileRecord>,
}

#[async_trait]
pub trait BatchStore: Send + Sync {
    /// Inserts a `validating` batch. `Conflict` if the id exists.
    async fn create_batch(&self, b: BatchRecord) -> Result<()>;
    async fn get_batch(&self, project: &str, id: &str) -> Result<Option<BatchRecord>>;
    async fn list_batches(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<BatchRecord>>;
    async fn batch_counts(&self, id: &str) -> Result<BatchCounts>;

    /// Batches with work left for a driver: validating, finalizing and cancelling first (they
    /// always have a step to take), then in progress (waiting on their jobs), oldest first.
    async fn open_batches(&self, limit: u32) -> Result<Vec<BatchRecord>>;
    /// Takes (or extends) the right to drive `id` until `now_ms + lease_ms`; false when another
    /// driver holds it. Keeps two nodes from validating or finalizing one batch at once.
    async fn acquire_batch(
        &self,
        id: &str,
        driver: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool>;
    async fn release_batch(&self, id: &str, driver: &str) -> Result<()>;

    /// Forgets staged requests of a validation that did not finish (a crash mid-way).
    async fn clear_staged(&self, batch_id: &str) -> Result<()>;
    /// Adds validated lines; called in chunks while the input file streams by.
    async fn stage_requests(&self, batch_id: &str, rows: &[StagedRequest]) -> Result<()>;
    /// One transaction: every staged video becomes a queued job (at batch priority) and the
    /// batch `in_progress`. Returns `None`, enqueuing nothing, when the batch is no longer
    /// `validating` (cancelled meanwhile).
    async fn enqueue_batch(
        &self,
        id: &str,
        max_attempts: u32,
        now_ms: i64,
    ) -> Result<Option<BatchRecord>>;
    /// A file-level problem: the batch ends `failed` with `errors`, nothing enqueued.
    async fn fail_batch(&self, id: &str, errors: Vec<LineError>, now: i64) -> Result<()>;

    /// Cancels: queued jobs fail with `cancelled`, running ones are asked to stop, and the batch
    /// is `cancelling` until they have.
    async fn cancel_batch(&self, project: &str, id: &str, now: i64) -> Result<BatchCancel>;
    /// In-progress batches past their window: queued jobs fail with `batch_expired`, running ones
    /// are asked to stop, and finalization will end the batch `expired`. Returns how many.
    async fn expire_batches(&self, now: i64) -> Result<u64>;
    /// Jobs of the batch not yet terminal.
    async fn unfinished_jobs(&self, batch_id: &str) -> Result<u64>;
    /// `in_progress` or `cancelling` → `finalizing`; false if the batch was not in either.
    async fn begin_finalizing(&self, id: &str, now: i64) -> Result<bool>;
    /// Requests in line order after `after_line`, for writing the output files page by page.
    async fn request_results(
        &self,
        batch_id: &str,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<RequestResult>>;
    /// One transaction: the output files' records, the terminal status (completed, expired or
    /// cancelled, as decided earlier) and its webhook event.
    async fn finish_batch(&self, id: &str, outputs: BatchOutputs, now: i64) -> Result<BatchRecord>;
}
