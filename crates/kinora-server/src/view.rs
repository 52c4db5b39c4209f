//! Wire views: the JSON the API answers with, built from stored records.
//!
//! Stored records carry private columns (leases, attempts, seeds of the scheduler); these views
//! carry exactly the contract's keys (all thirteen, nulls included, as the spec requires) plus
//! Kinora's additions, which the SDK keeps as extra fields. Each view also derives its OpenAPI
//! schema, so `/openapi.json` describes the very types that are serialized.

use kinora_core::{ErrorCode, VideoStatus};
use kinora_store::{CharacterRecord, VideoRecord};
use serde::Serialize;

use crate::interpretation::{InterpretationView, UNBILLED_REFUSALS};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// A string schema that admits exactly one value (the `object` discriminators).
pub fn constant(value: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
        .build()
}

fn object_video() -> Object {
    constant("video")
}

fn object_video_deleted() -> Object {
    constant("video.deleted")
}

fn object_character() -> Object {
    constant("character")
}

fn object_character_deleted() -> Object {
    constant("character.deleted")
}

fn object_list() -> Object {
    constant("list")
}

/// The status enum straight from [`VideoStatus::ALL`], so a new status cannot go undocumented.
fn video_status() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(VideoStatus::ALL.iter().map(|s| s.as_str())))
        .description(Some(
            "`queued` → `in_progress` → `completed` | `failed`; `expired` once the media's \
             retention has run out (terminal, as the SDK's `poll()` treats it).",
        ))
        .build()
}

/// Why a job failed (`status: failed`).
#[derive(Debug, Serialize, ToSchema)]
pub struct VideoError {
    /// Machine-readable reason, e.g. `cancelled`, `render_failed`.
    pub code: String,
    pub message: String,
}

/// Kinora extension: what a completed job rendered and what it cost at the catalogue's price.
#[derive(Debug, Serialize, ToSchema)]
pub struct VideoUsage {
    /// Seconds of new footage rendered (for an extension, the new segment only).
    pub seconds: u32,
    pub cost_usd: f64,
}

/// The `video` object: a generation job and, once completed, its downloadable media.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Video)]
pub struct VideoView {
    #[schema(examples("video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5"))]
    pub id: String,
    #[schema(schema_with = object_video)]
    pub object: &'static str,
    #[schema(examples("sora-2"))]
    pub model: String,
    #[schema(schema_with = video_status)]
    pub status: VideoStatus,
    /// Approximate percent done, 0-100.
    #[schema(maximum = 100)]
    pub progress: u8,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; set once the job is terminal.
    #[schema(required = true)]
    pub completed_at: Option<i64>,
    /// Unix seconds after which the media is deleted (the server's retention).
    #[schema(required = true)]
    pub expires_at: Option<i64>,
    #[schema(required = true)]
    pub prompt: Option<String>,
    /// `WIDTHxHEIGHT`.
    #[schema(examples("1280x720"))]
    pub size: String,
    /// Clip length in seconds, as a string; for an extension, the stitched total.
    #[schema(examples("8"))]
    pub seconds: String,
    /// The source video when this job is a remix.
    #[schema(required = true)]
    pub remixed_from_video_id: Option<String>,
    #[schema(required = true)]
    pub error: Option<VideoError>,
    /// Kinora extension: 1-based place in the queue while `queued`, else null.
    #[schema(required = true)]
    pub queue_position: Option<u64>,
    /// Kinora extension: what the job rendered and cost, once completed (zero for a job refused
    /// as `edit_not_understood` or `prompt_not_understood`); else null.
    #[schema(required = true)]
    pub usage: Option<VideoUsage>,
    /// Kinora extension: the seed that makes the render reproducible (send it back as `seed`).
    pub seed: u64,
    /// Kinora extension: which kind of job made this video: `create`, `extend`, `edit` or `remix`.
    #[schema(value_type = String, examples("create"))]
    pub kind: &'static str,
    /// Kinora extension: how the built-in engine read the prompt (what it understood, what it
    /// ignored and shows as a caption, what it chose because the prompt did not say), from the
    /// create response on; null for models rendered by GPU workers.
    #[schema(required = true)]
    pub interpretation: Option<InterpretationView>,
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
            usage: r
                .usage
                .as_ref()
                .map(|u| VideoUsage {
                    seconds: u.seconds,
                    cost_usd: u.cost_usd,
                })
                .or_else(|| {
                    let refused = r.status == VideoStatus::Failed
                        && r.error.as_ref().is_some_and(|e| {
                            ErrorCode::parse(&e.code)
                                .is_some_and(|c| UNBILLED_REFUSALS.contains(&c))
                        });
                    refused.then_some(VideoUsage {
                        seconds: 0,
                        cost_usd: 0.0,
                    })
                }),
            seed: r.seed,
            kind: r.spec.kind(),
            interpretation: None,
        }
    }
}

/// `DELETE /v1/videos/{video_id}`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeletedVideo)]
pub struct VideoDeleted {
    pub id: String,
    #[schema(schema_with = object_video_deleted)]
    pub object: &'static str,
    pub deleted: bool,
}

impl VideoDeleted {
    pub fn new(id: String) -> VideoDeleted {
        VideoDeleted {
            id,
            object: "video.deleted",
            deleted: true,
        }
    }
}

/// A reusable character, cut out of an uploaded clip.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Character)]
pub struct CharacterView {
    #[schema(examples("char_9f2c4d1e8b7a6f50"))]
    pub id: String,
    /// Kinora extension: OpenAI's character object has no `object` key.
    #[schema(schema_with = object_character)]
    pub object: &'static str,
    /// The name the prompt must mention for the character to appear.
    #[schema(examples("Mossy"))]
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Kinora extension: the subject's box `[x, y, w, h]` in the frame it was cut from (see
    /// `GET /v1/videos/characters/{character_id}/content`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[u32; 4]>,
    /// Kinora extension: how clearly the subject separated from its background, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

/// The character object; `found` is its `character.json` (bbox and confidence), when read.
pub fn character_view(
    c: &CharacterRecord,
    found: Option<&kinora_render::CharacterInfo>,
) -> CharacterView {
    let found = found.filter(|f| f.confidence > 0.0);
    CharacterView {
        id: c.id.clone(),
        object: "character",
        name: c.name.clone(),
        created_at: c.created_at,
        bbox: found.map(|f| f.bbox),
        confidence: found.map(|f| f.confidence),
    }
}

/// Kinora extension: `DELETE /v1/videos/characters/{character_id}`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DeletedCharacter)]
pub struct CharacterDeleted {
    pub id: String,
    #[schema(schema_with = object_character_deleted)]
    pub object: &'static str,
    pub deleted: bool,
}

impl CharacterDeleted {
    pub fn new(id: String) -> CharacterDeleted {
        CharacterDeleted {
            id,
            object: "character.deleted",
            deleted: true,
        }
    }
}

/// The OpenAI cursor page: the SDK's auto-pagination relies on `last_id` and `has_more`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListPage<'a, T> {
    #[schema(schema_with = object_list)]
    pub object: &'static str,
    pub data: &'a [T],
    /// Id of the first item on this page; null when the page is empty.
    #[schema(required = true)]
    pub first_id: Option<&'a str>,
    /// Id of the last item on this page: the `after` of the next request.
    #[schema(required = true)]
    pub last_id: Option<&'a str>,
    pub has_more: bool,
}

/// The cursor page of `items`; `id` reads an item's id for `first_id` and `last_id`.
pub fn list_view<'a, T: Serialize>(
    items: &'a [T],
    has_more: bool,
    id: impl Fn(&'a T) -> &'a str,
) -> ListPage<'a, T> {
    ListPage {
        object: "list",
        data: items,
        first_id: items.first().map(&id),
        last_id: items.last().map(&id),
        has_more,
    }
}
