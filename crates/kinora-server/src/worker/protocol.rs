//! The worker protocol's messages (docs/worker-protocol.md). These types are the single source
//! of truth: the server and `kinora worker` use them directly, and the JSON Schema the Python
//! worker validates against is generated from them (`schema.rs`, committed as
//! docs/worker-protocol.schema.json).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `POST /internal/v1/workers/register`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// A human name for logs (host, GPU index); 1–64 of `A-Za-z0-9._-`.
    pub name: String,
    /// The engine pool the worker serves: `builtin`, or a pool named in the model catalogue.
    pub pool: String,
    /// Model ids the worker has loaded; empty means every model of the pool.
    #[serde(default)]
    pub models: Vec<String>,
    /// The worker's software and version, for logs.
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterResponse {
    /// Names the worker in leases; send it with every lease request.
    pub worker_id: String,
    /// The models this worker will be offered.
    pub models: Vec<String>,
    /// A lease lapses this long after the last heartbeat.
    pub lease_seconds: u64,
    /// Send a heartbeat at least this often while holding a lease.
    pub heartbeat_interval_ms: u64,
    /// The longest `wait_seconds` a lease request may ask for.
    pub max_wait_seconds: u64,
}

/// `POST /internal/v1/lease`: answered 200 with a [`Job`] or 204 when none came in time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    pub worker_id: String,
    pub models: Vec<String>,
    /// Long-poll for up to this long (capped at `max_wait_seconds`); 0 answers at once.
    #[serde(default)]
    pub wait_seconds: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobMode {
    Create,
    /// The worker returns the new segment only; the node stitches it after the source.
    Extend,
    /// A change to the source clip (remixes are edits); same size and length.
    Edit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    Image,
    Video,
    Json,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobInput {
    /// Download it from `/internal/v1/jobs/{video_id}/inputs/{name}`.
    pub name: String,
    pub kind: InputKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobCharacter {
    /// The name the prompt uses for the character.
    pub name: String,
    /// Its files among the job's inputs: reference frames and `cutout.png` (with alpha).
    pub inputs: Vec<String>,
}

/// A leased job: everything a worker needs to render it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub video_id: String,
    /// Fences every later call for this attempt.
    pub lease_id: String,
    pub attempt: u32,
    pub lease_seconds: u64,
    pub model: String,
    pub mode: JobMode,
    pub prompt: String,
    pub width: u32,
    pub height: u32,
    /// `create`: the clip's length; `extend`: the new segment's; `edit`: the source's.
    pub seconds: u32,
    pub seed: u64,
    /// The audio codec of the platform's clips (`opus` or `aac`).
    pub audio_codec: String,
    /// Built-in engine: caption the words it could not draw (the platform's `engine.captions`).
    #[serde(default = "captions_on")]
    pub captions: bool,
    /// `edit`: how far to move from the source, in (0, 1], where the request set it (Kinora's
    /// `edit_strength`); absent, the worker's configured default for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_strength: Option<f64>,
    pub inputs: Vec<JobInput>,
    pub characters: Vec<JobCharacter>,
}

fn captions_on() -> bool {
    true
}

/// `POST /internal/v1/jobs/{video_id}/heartbeat`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    pub lease_id: String,
    /// 0–100.
    pub progress: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatResponse {
    /// The user cancelled: stop, then `fail` with code `cancelled`, not retryable.
    pub cancel: bool,
}

/// The answer to an artifact upload (`PUT …/artifacts/{name}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactReceipt {
    pub name: String,
    pub bytes: u64,
}

/// `POST /internal/v1/jobs/{video_id}/complete`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    pub lease_id: String,
}

/// `POST /internal/v1/jobs/{video_id}/fail`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailRequest {
    pub lease_id: String,
    /// A short machine-readable reason, 1–64 of `a-z0-9_` (e.g. `out_of_memory`, `cancelled`).
    pub code: String,
    pub message: String,
    /// Whether another attempt could succeed.
    pub retryable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    /// The attempt failed and the job went back to the queue.
    Requeued,
    /// The attempt failed and the job has ended `failed`.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeError {
    pub code: String,
    pub message: String,
}

/// The answer to `complete` and `fail`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeResponse {
    pub outcome: Outcome,
    /// Why the attempt failed, when `complete` refused the artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<OutcomeError>,
}

/// Artifact names a worker may upload.
pub const ARTIFACTS: [&str; 3] = ["video.mp4", "audio.wav", "scene.json"];
