//! Where a video's files live in the blob store, and how stored bytes are removed.

use kinora_core::clock;

use crate::state::AppState;

/// How long a deletion the blob store refused waits before the sweeper tries it again.
const DELETION_RETRY_SECONDS: i64 = 60;

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

/// Removes a video's media and inputs (its record is already deleted or expired).
pub async fn remove_video_blobs(state: &AppState, video_id: &str) {
    for prefix in [format!("videos/{video_id}/"), format!("inputs/{video_id}/")] {
        delete_blobs(state, &prefix).await;
    }
}

/// Removes everything under `prefix`, whose record is already gone. A failure is not the
/// caller's to answer for (the delete it serves has happened), so the prefix is remembered and
/// the sweeper retries it until the blob store takes it: no bytes are left behind for good.
pub async fn delete_blobs(state: &AppState, prefix: &str) {
    if let Err(e) = state.blobs.delete_prefix(prefix).await {
        tracing::warn!(prefix, error = %e, "could not remove blobs; the sweeper will retry");
        defer_deletion(state, prefix).await;
    }
}

async fn defer_deletion(state: &AppState, prefix: &str) {
    let retry_at = clock::now_unix() + DELETION_RETRY_SECONDS;
    if let Err(e) = state.store.defer_blob_deletion(prefix, retry_at).await {
        tracing::error!(prefix, error = %e, "could not remember a failed blob deletion");
    }
}

/// The sweeper's share: retries the remembered deletions due at `now`; returns how many went
/// through. Stops at the first refusal, as the blob store is then most likely still away.
pub async fn retry_deletions(state: &AppState, now: i64) -> usize {
    let due = match state.store.due_blob_deletions(now, 100).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "reading pending blob deletions failed");
            return 0;
        }
    };
    let mut done = 0;
    for prefix in due {
        if let Err(e) = state.blobs.delete_prefix(&prefix).await {
            tracing::warn!(prefix, error = %e, "retrying a blob deletion failed");
            defer_deletion(state, &prefix).await;
            break;
        }
        match state.store.forget_blob_deletion(&prefix).await {
            Ok(()) => done += 1,
            Err(e) => tracing::warn!(prefix, error = %e, "could not forget a done blob deletion"),
        }
    }
    if done > 0 {
        tracing::info!(prefixes = done, "removed blobs whose deletion had failed");
    }
    done
}
