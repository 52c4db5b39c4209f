//! Where a video's files live in the blob store, and how they are removed.

use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Video,
    Thumbnail,
    Spritesheet,
}

impl Variant {
    pub fn parse(s: &str) -> Option<Variant> {
        match s {
            "video" => Some(Variant::Video),
            "thumbnail" => Some(Variant::Thumbnail),
            "spritesheet" => Some(Variant::Spritesheet),
            _ => None,
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Variant::Video => "video.mp4",
            Variant::Thumbnail => "thumbnail.webp",
            Variant::Spritesheet => "spritesheet.jpg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Variant::Video => "video/mp4",
            Variant::Thumbnail => "image/webp",
            Variant::Spritesheet => "image/jpeg",
        }
    }
}

pub fn blob_key(video_id: &str, variant: Variant) -> String {
    format!("videos/{video_id}/{}", variant.file_name())
}

/// The engine's scene description, kept so extensions and edits continue the same scene.
pub fn scene_key(video_id: &str) -> String {
    format!("videos/{video_id}/scene.json")
}

/// Removes a video's media and inputs. Failures are logged, not raised: the record is already
/// gone or expired, and a leftover blob is reclaimed by the next sweep.
pub async fn remove_video_blobs(state: &AppState, video_id: &str) {
    for prefix in [format!("videos/{video_id}/"), format!("inputs/{video_id}/")] {
        if let Err(e) = state.blobs.delete_prefix(&prefix).await {
            tracing::warn!(video_id, prefix, error = %e, "could not remove blobs");
        }
    }
}
