//! The stored shapes of videos, jobs and characters, and the outcomes of the store's verbs.
//!
//! These are storage records, not the API view: the server maps them to OpenAI's wire types.
//! Private queue columns (run_at, lease owner, last error) never leave the store except through
//! [`Lease`].

use kinora_core::{JobSpec, VideoSize, VideoStatus};
use serde::{Deserialize, Serialize};

/// A video job as the API creates it; the store adds status, attempts and the queue columns.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVideo {
    pub id: String,
    pub project: String,
    pub model: String,
    pub prompt: Option<String>,
    pub size: VideoSize,
    /// Total length of the result (for an extension: the stitched total).
    pub seconds: u32,
    pub seed: u64,
    pub spec: JobSpec,
    pub remixed_from_video_id: Option<String>,
    pub batch_id: Option<String>,
    /// 0 is interactive; a higher number is claimed later.
    pub priority: i32,
    pub max_attempts: u32,
    /// Unix seconds; the job becomes claimable at this instant.
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    pub code: String,
    pub message: String,
}

impl JobError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub seconds: u32,
    pub cost_usd: f64,
}

/// What the renderer produced, kept so downloads and extensions need no probe of the blobs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub video_bytes: u64,
    pub thumbnail_bytes: u64,
    pub spritesheet_bytes: u64,
    pub frames: u32,
    pub duration_s: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VideoRecord {
    pub id: String,
    pub project: String,
    pub model: String,
    pub status: VideoStatus,
    pub progress: u8,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub prompt: Option<String>,
    pub size: VideoSize,
    pub seconds: u32,
    pub seed: u64,
    pub spec: JobSpec,
    pub remixed_from_video_id: Option<String>,
    /// Public only on `failed`; a retried attempt's error is kept privately.
    pub error: Option<JobError>,
    pub usage: Option<Usage>,
    pub batch_id: Option<String>,
    pub attempts: u32,
    pub cancel_requested: bool,
    pub media: Option<MediaInfo>,
}

/// A claimed job: every later call for this attempt must carry `lease_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct Lease {
    pub video: VideoRecord,
    pub lease_id: String,
    pub attempt: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharacterRecord {
    pub id: String,
    pub project: String,
    pub name: String,
    pub created_at: i64,
    pub width: u32,
    pub height: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    Asc,
    #[default]
    Desc,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CreateOutcome {
    Created(VideoRecord),
    /// The same idempotency key with the same request hash: the original job, unchanged.
    Replayed(VideoRecord),
    /// The same idempotency key with a different request hash.
    KeyConflict,
}

/// Scoped per project: two projects may use the same key independently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CancelOutcome {
    NotFound,
    AlreadyTerminal(VideoRecord),
    /// It was queued: it is now `failed` with code `cancelled`.
    Cancelled(VideoRecord),
    /// It was running: `cancel_requested` is set and the worker learns it on its next heartbeat.
    Requested(VideoRecord),
}

// Returned once per attempt and never collected, so the unboxed record costs nothing worth the
// friction of a Box in every caller's match.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum FailOutcome {
    Requeued { run_at_ms: i64 },
    Failed(VideoRecord),
}

/// What a successful attempt reports; written only after every artifact is in the blob store.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub usage: Usage,
    pub expires_at: i64,
    pub media: MediaInfo,
    pub seconds: u32,
}
