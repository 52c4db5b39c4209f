//! Schemas for what the handlers read or stream without a typed Rust value: request bodies,
//! a few query values, raw media.
//!
//! The handlers read every body through [`crate::form::Form`], which flattens JSON objects into
//! the SDK's bracketed multipart keys, so there is no typed body to derive a schema from. These
//! types spell out both wire forms for the document only; their field names must stay the keys the
//! handlers read (`form.text("video[id]")`, `form.take_file("video")`, ...).

use serde::Deserialize;
use utoipa::ToSchema;

/// `{"id": "video_..."}`: a stored, completed video.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VideoRef {
    #[schema(examples("video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5"))]
    pub id: String,
}

/// `{"id": "char_..."}`: a character made with `POST /v1/videos/characters`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CharacterRef {
    pub id: String,
}

/// The first frame, by URL or by file id; exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImageReference {
    /// An `https://`, `http://` or `data:` URL of a JPEG, PNG or WebP image of exactly `size`.
    #[schema(max_length = 20_971_520)]
    pub image_url: Option<String>,
    /// A file uploaded through the Files API.
    pub file_id: Option<String>,
}

/// `POST /v1/videos` as JSON.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateVideoJson {
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    /// Default `sora-2`; see `GET /v1/models` for each model's sizes and seconds.
    #[schema(examples("sora-2"))]
    pub model: Option<String>,
    /// `"4"`, `"8"`, `"12"`, `"16"` or `"20"`; default `"4"`.
    #[schema(examples("8"))]
    pub seconds: Option<String>,
    /// `WIDTHxHEIGHT`, one of the model's sizes; default `720x1280`.
    #[schema(examples("1280x720"))]
    pub size: Option<String>,
    pub input_reference: Option<ImageReference>,
    /// At most two; each character's name must appear in the prompt.
    #[schema(max_items = 2)]
    pub characters: Option<Vec<CharacterRef>>,
    /// Kinora extension: render deterministically from this seed (default: random).
    pub seed: Option<u64>,
}

/// `POST /v1/videos` as multipart, the form the official SDKs always send.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateVideoForm {
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    pub model: Option<String>,
    pub seconds: Option<String>,
    pub size: Option<String>,
    /// The first frame as an uploaded JPEG, PNG or WebP image of exactly `size`.
    #[schema(value_type = Option<String>, format = Binary, content_media_type = "application/octet-stream")]
    pub input_reference: Option<Vec<u8>>,
    #[serde(rename = "input_reference[image_url]")]
    pub input_reference_image_url: Option<String>,
    #[serde(rename = "input_reference[file_id]")]
    pub input_reference_file_id: Option<String>,
    /// One part per character id (at most two).
    #[serde(rename = "characters[][id]")]
    #[schema(max_items = 2)]
    pub characters: Option<Vec<String>>,
    /// Kinora extension: a non-negative integer.
    pub seed: Option<String>,
}

/// `POST /v1/videos/extensions` as JSON.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtendVideoJson {
    pub video: VideoRef,
    /// How the scene continues.
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    /// Length of the new segment: `"4"`, `"8"`, `"12"`, `"16"` or `"20"`.
    #[schema(examples("8"))]
    pub seconds: String,
    /// Kinora extension.
    pub seed: Option<u64>,
}

/// `POST /v1/videos/extensions` as multipart: the source by `video[id]` or as an uploaded MP4.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtendVideoForm {
    /// An H.264 MP4 to continue (instead of `video[id]`).
    #[schema(value_type = Option<String>, format = Binary, content_media_type = "video/mp4")]
    pub video: Option<Vec<u8>>,
    #[serde(rename = "video[id]")]
    pub video_id: Option<String>,
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    pub seconds: String,
    /// For an uploaded source only (default `sora-2`); a stored source keeps its model.
    pub model: Option<String>,
    /// Kinora extension.
    pub seed: Option<String>,
}

/// `POST /v1/videos/edits` as JSON.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditVideoJson {
    pub video: VideoRef,
    /// The one change to make.
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    /// Kinora extension: default is the source video's seed.
    pub seed: Option<u64>,
    /// Kinora extension, for diffusion models: how far the edit moves from its source, in
    /// (0, 1] (default: the model's `edit_strength`, 0.7 unless configured). The built-in
    /// engine applies each change whole and refuses it.
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub edit_strength: Option<f64>,
}

/// `POST /v1/videos/edits` as multipart: the source by `video[id]` or as an uploaded MP4.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditVideoForm {
    /// An H.264 MP4 to edit (instead of `video[id]`); `model` is then required.
    #[schema(value_type = Option<String>, format = Binary, content_media_type = "video/mp4")]
    pub video: Option<Vec<u8>>,
    #[serde(rename = "video[id]")]
    pub video_id: Option<String>,
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    /// Required for an uploaded video; a stored source keeps its model.
    pub model: Option<String>,
    /// Kinora extension.
    pub seed: Option<String>,
    /// Kinora extension: as in the JSON body, a number in (0, 1].
    pub edit_strength: Option<String>,
}

/// `POST /v1/videos/{video_id}/remix` (JSON, as the SDK sends it, or multipart).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RemixVideoBody {
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
}

/// `POST /v1/videos/characters`: multipart only.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCharacterForm {
    /// A short MP4 (2-4 s) of the character.
    #[schema(value_type = String, format = Binary, content_media_type = "video/mp4")]
    pub video: Vec<u8>,
    /// What prompts call the character.
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
}

/// Which file `GET /v1/videos/{video_id}/content` returns.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContentVariant {
    /// The MP4 (`video/mp4`), the default.
    Video,
    /// A WebP still (`image/webp`).
    Thumbnail,
    /// A JPEG grid of frames (`image/jpeg`).
    Spritesheet,
}

/// Sort order of a list, by creation time.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListOrder {
    Asc,
    Desc,
}

/// Raw media bytes.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Media(pub Vec<u8>);

/// `POST /v1/files` (multipart).
#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadFileForm {
    /// The file's bytes; its part's filename becomes `filename`.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// `batch` (JSONL batch input), `vision` or `user_data` (e.g. `input_reference` images).
    pub purpose: String,
    /// `created_at`, the only anchor.
    #[serde(rename = "expires_after[anchor]")]
    pub expires_after_anchor: Option<String>,
    /// 3600-2592000 seconds after `created_at`.
    #[serde(rename = "expires_after[seconds]")]
    pub expires_after_seconds: Option<String>,
}

/// `{"anchor": "created_at", "seconds": N}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExpiresAfter {
    pub anchor: String,
    #[schema(minimum = 3600, maximum = 2592000)]
    pub seconds: i64,
}

/// `POST /v1/batches`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBatchJson {
    /// A file with `purpose=batch`: JSONL lines `{"custom_id", "method": "POST", "url": "/v1/videos", "body"}`, at most 50,000.
    pub input_file_id: String,
    /// Must be `/v1/videos`.
    #[schema(examples("/v1/videos"))]
    pub endpoint: String,
    /// Must be `24h`.
    #[schema(examples("24h"))]
    pub completion_window: String,
    /// Up to 16 string pairs (keys ≤ 64 characters, values ≤ 512).
    pub metadata: Option<std::collections::BTreeMap<String, String>>,
    /// Lifetime of the output and error files.
    pub output_expires_after: Option<ExpiresAfter>,
}
