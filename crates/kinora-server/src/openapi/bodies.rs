//! Request bodies: the typed requests the handlers parse (the JSON forms, `*Json`), and the
//! multipart forms the official SDKs send (`*Form`), which exist for the document only.
//!
//! Each handler reads its body through [`crate::form::Form`], which folds multipart's bracketed
//! keys (`video[id]`, `characters[][id]`) into the JSON shape, then deserializes the operation's
//! `*Json` type: one typed request per operation, whichever way it came, and the same type the
//! document describes. Scalars that multipart carries as text and JSON may send as numbers
//! (`seconds`, `seed`, `edit_strength`) are [`Text`], documented as their real type; the handler
//! parses them with their own error codes. Every type is `deny_unknown_fields`, so the document
//! says `additionalProperties: false`, as the handlers answer: an unknown field is a 400
//! `unknown_parameter`, a mistyped one `invalid_type`.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::form::Text;

/// `{"id": "video_..."}`: a stored, completed video.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoRef {
    #[schema(examples("video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5"))]
    pub id: String,
}

/// `{"id": "char_..."}`: a character made with `POST /v1/videos/characters`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CharacterRef {
    pub id: String,
}

/// The first frame, by URL or by file id; exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageReference {
    /// An `https://`, `http://` or `data:` URL of a JPEG, PNG or WebP image of exactly `size`.
    #[schema(max_length = 20_971_520)]
    pub image_url: Option<String>,
    /// A file uploaded through the Files API.
    pub file_id: Option<String>,
}

/// `POST /v1/videos` as JSON; the typed request of both wire forms.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVideoJson {
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 32_000)]
    pub prompt: String,
    /// Default `sora-2`; see `GET /v1/models` for each model's sizes and seconds.
    #[schema(examples("sora-2"))]
    pub model: Option<String>,
    /// Default `"4"`.
    #[schema(value_type = Option<Seconds>)]
    pub seconds: Option<Text>,
    /// `WIDTHxHEIGHT`, one of the model's sizes; default `720x1280`.
    #[schema(examples("1280x720"))]
    pub size: Option<String>,
    pub input_reference: Option<ImageReference>,
    /// At most two; each character's name must appear in the prompt.
    #[schema(max_items = 2)]
    pub characters: Option<Vec<CharacterRef>>,
    /// Kinora extension: render deterministically from this seed (default: random).
    #[schema(value_type = Option<u64>)]
    pub seed: Option<Text>,
}

/// `POST /v1/videos` as multipart, the form the official SDKs always send. Optional parts are
/// absent or present, never `null`: a part's text "null" is that text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVideoForm {
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    #[schema(nullable = false)]
    pub model: Option<String>,
    #[schema(nullable = false)]
    pub seconds: Option<String>,
    #[schema(nullable = false)]
    pub size: Option<String>,
    /// The first frame as an uploaded JPEG, PNG or WebP image of exactly `size`.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub input_reference: Option<Vec<u8>>,
    #[serde(rename = "input_reference[image_url]")]
    #[schema(nullable = false)]
    pub input_reference_image_url: Option<String>,
    #[serde(rename = "input_reference[file_id]")]
    #[schema(nullable = false)]
    pub input_reference_file_id: Option<String>,
    /// One part per character id (at most two).
    #[serde(rename = "characters[][id]")]
    #[schema(max_items = 2, nullable = false)]
    pub characters: Option<Vec<String>>,
    /// Kinora extension: render deterministically from this seed (default: random).
    #[schema(nullable = false)]
    pub seed: Option<u64>,
}

/// `POST /v1/videos/extensions` as JSON; the typed request of both wire forms (multipart gives
/// the source as `video[id]` or as an uploaded file instead).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendVideoJson {
    #[schema(required = true, nullable = false)]
    pub video: Option<VideoRef>,
    /// How the scene continues.
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 32_000)]
    pub prompt: String,
    /// Length of the new segment.
    #[schema(value_type = Seconds, required = true)]
    pub seconds: Option<Text>,
    /// Accepted for symmetry with the multipart form; a stored source keeps its model.
    pub model: Option<String>,
    /// Kinora extension.
    #[schema(value_type = Option<u64>)]
    pub seed: Option<Text>,
}

/// `POST /v1/videos/extensions` as multipart: the source by `video[id]` or as an uploaded MP4.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendVideoForm {
    /// An H.264 MP4 to continue (instead of `video[id]`).
    #[schema(value_type = String, format = Binary, content_media_type = "video/mp4")]
    pub video: Option<Vec<u8>>,
    #[serde(rename = "video[id]")]
    #[schema(nullable = false)]
    pub video_id: Option<String>,
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    pub seconds: Seconds,
    /// For an uploaded source only (default `sora-2`); a stored source keeps its model.
    #[schema(nullable = false)]
    pub model: Option<String>,
    /// Kinora extension.
    #[schema(nullable = false)]
    pub seed: Option<u64>,
}

/// `POST /v1/videos/edits` as JSON; the typed request of both wire forms.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditVideoJson {
    #[schema(required = true, nullable = false)]
    pub video: Option<VideoRef>,
    /// The one change to make.
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 32_000)]
    pub prompt: String,
    /// Accepted for symmetry with the multipart form; a stored source keeps its model.
    pub model: Option<String>,
    /// Kinora extension: default is the source video's seed.
    #[schema(value_type = Option<u64>)]
    pub seed: Option<Text>,
    /// Kinora extension, for diffusion models: how far the edit moves from its source, in
    /// (0, 1] (default: the model's `edit_strength`, 0.7 unless configured). The built-in
    /// engine applies each change whole and refuses it.
    #[schema(value_type = Option<f64>, exclusive_minimum = 0.0, maximum = 1.0)]
    pub edit_strength: Option<Text>,
}

/// `POST /v1/videos/edits` as multipart: the source by `video[id]` or as an uploaded MP4.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditVideoForm {
    /// An H.264 MP4 to edit (instead of `video[id]`); `model` is then required.
    #[schema(value_type = String, format = Binary, content_media_type = "video/mp4")]
    pub video: Option<Vec<u8>>,
    #[serde(rename = "video[id]")]
    #[schema(nullable = false)]
    pub video_id: Option<String>,
    #[schema(min_length = 1, max_length = 32_000)]
    pub prompt: String,
    /// Required for an uploaded video; a stored source keeps its model.
    #[schema(nullable = false)]
    pub model: Option<String>,
    /// Kinora extension.
    #[schema(nullable = false)]
    pub seed: Option<u64>,
    /// Kinora extension: as in the JSON body, a number in (0, 1].
    #[schema(nullable = false, exclusive_minimum = 0.0, maximum = 1.0)]
    pub edit_strength: Option<f64>,
}

/// `POST /v1/videos/{video_id}/remix` (JSON, as the SDK sends it, or multipart).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemixVideoBody {
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 32_000)]
    pub prompt: String,
}

/// `POST /v1/videos/characters`: multipart only.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCharacterForm {
    /// A short MP4 (2-4 s) of the character.
    #[schema(value_type = String, format = Binary, content_media_type = "video/mp4")]
    pub video: Vec<u8>,
    /// What prompts call the character: 1-80 characters, not only spaces.
    #[schema(min_length = 1, max_length = 80, pattern = r"\S")]
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
#[serde(deny_unknown_fields)]
pub struct UploadFileForm {
    /// The file's bytes, not empty; its part's filename becomes `filename`.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream", min_length = 1)]
    pub file: Vec<u8>,
    /// `batch` (JSONL batch input), `vision` or `user_data` (e.g. `input_reference` images).
    pub purpose: FilePurpose,
    /// `created_at`, the only anchor; with `expires_after[seconds]`.
    #[serde(rename = "expires_after[anchor]")]
    #[schema(nullable = false)]
    pub expires_after_anchor: Option<ExpiryAnchor>,
    /// 3600-2592000 seconds after `created_at`; with `expires_after[anchor]`.
    #[serde(rename = "expires_after[seconds]")]
    #[schema(nullable = false, minimum = 3600, maximum = 2592000)]
    pub expires_after_seconds: Option<u32>,
}

/// `{"anchor": "created_at", "seconds": N}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpiresAfter {
    pub anchor: ExpiryAnchor,
    #[schema(minimum = 3600, maximum = 2592000)]
    pub seconds: i64,
}

/// `POST /v1/batches`; the handler's typed request. Values are checked by the handler with
/// their own codes (`unsupported_endpoint`, `invalid_completion_window`, `invalid_metadata`, ...),
/// so the fields read loosely what the document types strictly.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatchJson {
    /// A file with `purpose=batch`: JSONL lines `{"custom_id", "method": "POST", "url": "/v1/videos", "body"}`, at most 50,000.
    #[schema(required = true, nullable = false, min_length = 1)]
    pub input_file_id: Option<String>,
    #[schema(value_type = BatchEndpoint, required = true)]
    pub endpoint: Option<String>,
    #[schema(value_type = CompletionWindow, required = true)]
    pub completion_window: Option<String>,
    /// Up to 16 string pairs (keys ≤ 64 characters, values ≤ 512).
    #[schema(schema_with = metadata_schema)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Lifetime of the output and error files.
    #[schema(value_type = Option<ExpiresAfter>)]
    pub output_expires_after: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One event of `GET /v1/videos/{video_id}/events`. OpenAPI 3.1 has no `itemSchema`, so, as
/// its SSE convention (and schemathesis) reads a `text/event-stream` schema, this is one event.
#[derive(Debug, ToSchema)]
pub struct VideoEvent {
    /// `<stream>:<sequence>`; send it back as `Last-Event-ID` to resume after it.
    pub id: String,
    /// `video.progress`, then `video.completed` or `video.failed`.
    #[schema(schema_with = event_names)]
    pub event: String,
    /// The video object as JSON.
    #[schema(content_media_type = "application/json")]
    pub data: String,
}

fn event_names() -> utoipa::openapi::schema::Object {
    serde_json::from_value(serde_json::json!({
        "type": "string",
        "enum": ["video.progress", "video.completed", "video.failed"],
    }))
    .expect("a valid schema object")
}

/// `seconds` of a new video or segment.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
pub enum Seconds {
    #[serde(rename = "4")]
    S4,
    #[serde(rename = "8")]
    S8,
    #[serde(rename = "12")]
    S12,
    #[serde(rename = "16")]
    S16,
    #[serde(rename = "20")]
    S20,
}

/// What an uploaded file is for.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilePurpose {
    Batch,
    Vision,
    UserData,
}

/// The one anchor of an expiry.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryAnchor {
    CreatedAt,
}

/// The one endpoint video batches may target.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
pub enum BatchEndpoint {
    #[serde(rename = "/v1/videos")]
    Videos,
}

/// The one completion window.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
pub enum CompletionWindow {
    #[serde(rename = "24h")]
    Day,
}

/// Batch metadata as the handler checks it: at most 16 pairs, keys of at most 64 characters,
/// string values of at most 512 (utoipa's attributes cannot say `propertyNames`).
fn metadata_schema() -> utoipa::openapi::schema::Object {
    serde_json::from_value(serde_json::json!({
        "type": ["object", "null"],
        "maxProperties": 16,
        "propertyNames": {"type": "string", "maxLength": 64},
        "additionalProperties": {"type": "string", "maxLength": 512},
    }))
    .expect("a valid schema object")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{characters, create, derive, files};
    use crate::webhooks::wire::{
        CreateWebhookEndpoint, RotateWebhookSecret, TestWebhookEndpoint, UpdateWebhookEndpoint,
    };
    use utoipa::PartialSchema;

    /// The documented properties of `T`, sorted, after checking that it documents
    /// `additionalProperties: false`.
    fn documented<T: PartialSchema>() -> Vec<String> {
        let v = serde_json::to_value(T::schema()).unwrap();
        assert_eq!(v["additionalProperties"], false, "{v}");
        let mut keys: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    /// The field names serde reads for `T`, from the list its derive hands `deserialize_struct`.
    fn read_by<'de, T: Deserialize<'de>>() -> Vec<String> {
        use serde::de::{Error, Visitor, value};
        struct Names<'a>(&'a mut Vec<&'static str>);
        impl<'de> serde::Deserializer<'de> for Names<'_> {
            type Error = value::Error;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, value::Error> {
                Err(value::Error::custom("not a struct"))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, value::Error> {
                self.0.extend(fields);
                Err(value::Error::custom("names taken"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
                identifier ignored_any
            }
        }
        let mut names = Vec::new();
        let _ = T::deserialize(Names(&mut names));
        sorted(&names)
    }

    /// A multipart form's keys folded to the top-level fields of the typed request, without
    /// its file parts (which `files` names and the form must document).
    fn text_fields(form: Vec<String>, files: &[&str]) -> Vec<String> {
        for f in files {
            assert!(form.contains(&f.to_string()), "{f} is not documented");
        }
        let mut tops: Vec<String> = form
            .iter()
            .filter(|k| !files.contains(&k.as_str()))
            .map(|k| k.split('[').next().unwrap().to_string())
            .collect();
        tops.sort();
        tops.dedup();
        tops
    }

    /// What a handler reads is exactly what the document describes: each operation's typed
    /// request is the JSON schema's own type, and each multipart form folds into it, so a field
    /// added to one and not the other fails here rather than in a client.
    #[test]
    fn typed_requests_are_the_documented_ones() {
        assert_eq!(
            documented::<CreateVideoJson>(),
            read_by::<CreateVideoJson>()
        );
        assert_eq!(
            documented::<ExtendVideoJson>(),
            read_by::<ExtendVideoJson>()
        );
        assert_eq!(documented::<EditVideoJson>(), read_by::<EditVideoJson>());
        assert_eq!(documented::<RemixVideoBody>(), read_by::<RemixVideoBody>());
        assert_eq!(
            text_fields(documented::<CreateVideoForm>(), &create::FILES),
            read_by::<CreateVideoJson>()
        );
        assert_eq!(
            text_fields(documented::<ExtendVideoForm>(), &derive::FILES),
            read_by::<ExtendVideoJson>()
        );
        assert_eq!(
            text_fields(documented::<EditVideoForm>(), &derive::FILES),
            read_by::<EditVideoJson>()
        );
        assert_eq!(
            text_fields(documented::<CreateCharacterForm>(), &characters::FILES),
            read_by::<characters::CharacterFields>()
        );
        assert_eq!(
            text_fields(documented::<UploadFileForm>(), &files::FILES),
            read_by::<files::UploadFields>()
        );
        assert_eq!(
            documented::<CreateBatchJson>(),
            read_by::<CreateBatchJson>()
        );
        assert_eq!(
            documented::<CreateWebhookEndpoint>(),
            read_by::<CreateWebhookEndpoint>()
        );
        assert_eq!(
            documented::<UpdateWebhookEndpoint>(),
            read_by::<UpdateWebhookEndpoint>()
        );
        assert_eq!(
            documented::<RotateWebhookSecret>(),
            read_by::<RotateWebhookSecret>()
        );
        assert_eq!(
            documented::<TestWebhookEndpoint>(),
            read_by::<TestWebhookEndpoint>()
        );
    }
}
