//! Wire views: the JSON the API answers with, built from stored records.
//!
//! Stored records carry private columns (leases, attempts, seeds of the scheduler); these views
//! carry exactly the contract's keys (all thirteen, nulls included, as the spec requires) plus
//! Kinora's additions, which the SDK keeps as extra fields.

use kinora_core::VideoStatus;
use kinora_store::{CharacterRecord, VideoRecord};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Serialize)]
pub struct VideoError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct VideoUsage {
    /// Seconds of new footage rendered (for an extension, the new segment only).
    pub seconds: u32,
    pub cost_usd: f64,
}

#[derive(Debug, Serialize)]
pub struct VideoView {
    pub id: String,
    pub object: &'static str,
    pub model: String,
    pub status: VideoStatus,
    pub progress: u8,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub prompt: Option<String>,
    pub size: String,
    pub seconds: String,
    pub remixed_from_video_id: Option<String>,
    pub error: Option<VideoError>,
    /// Kinora: 1-based place in the queue while `queued`, else null.
    pub queue_position: Option<u64>,
    /// Kinora: what the job rendered and cost, once completed.
    pub usage: Option<VideoUsage>,
    /// Kinora: the seed that makes the render reproducible.
    pub seed: u64,
    /// Kinora: which kind of job made this video (`create`, `extend`, `edit`, `remix`).
    pub kind: &'static str,
}

impl VideoView {
    pub fn from_record(r: &VideoRecord, queue_position: Option<u64>) -> VideoView {
        VideoView {
            id: r.id.clone(),
            object: "video",
            model: r.model.clone(),
            status: r.status,
            progress: r.progress,
            created_at: r.created_at,
            completed_at: r.completed_at,
            expires_at: r.expires_at,
            prompt: r.prompt.clone(),
            size: r.size.to_string(),
            seconds: r.seconds.to_string(),
            remixed_from_video_id: r.remixed_from_video_id.clone(),
            error: r.error.as_ref().map(|e| VideoError {
                code: e.code.clone(),
                message: e.message.clone(),
            }),
            queue_position,
            usage: r.usage.as_ref().map(|u| VideoUsage {
                seconds: u.seconds,
                cost_usd: u.cost_usd,
            }),
            seed: r.seed,
            kind: r.spec.kind(),
        }
    }
}

pub fn character_view(c: &CharacterRecord) -> Value {
    json!({"id": c.id, "object": "character", "name": c.name, "created_at": c.created_at})
}

/// The OpenAI cursor-page shape: the SDK's auto-pagination relies on `last_id` and `has_more`.
pub fn list_view<T: Serialize>(items: &[T], ids: &[&str], has_more: bool) -> Value {
    json!({
        "object": "list",
        "data": items,
        "first_id": ids.first(),
        "last_id": ids.last(),
        "has_more": has_more,
    })
}
