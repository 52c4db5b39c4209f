//! Ending a remote attempt. `complete` does on the node what belongs in one place: it validates
//! the returned clip by decoding it, normalises it, stitches extensions, makes the previews and
//! stores everything before the job is marked `completed`. A worker that returns garbage fails
//! its attempt (retried like any failure), never the node.

use std::path::PathBuf;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use bytes::Bytes;
use kinora_core::{ErrorCode, JobSpec, clock};
use kinora_render::{CancelToken, Expected, RenderError, Returned};
use kinora_store::{FailOutcome, JobError, MediaInfo, StoreError, VideoRecord};
use tokio_util::task::AbortOnDropHandle;

use crate::error::{ApiError, ApiResult};
use crate::jobs::inputs::{JobFailure, fetch_source, storage_failure};
use crate::jobs::media::delete_blobs;
use crate::jobs::runner::{Artifacts, complete_attempt, completion, fail_attempt, store_outputs};
use crate::state::AppState;
use crate::worker::guard::{WorkerToken, fence, json_body, lease_lost, upload_key};
use crate::worker::job::render_seconds;
use crate::worker::protocol::*;

const MAX_MESSAGE_CHARS: usize = 2000;

pub async fn complete(
    State(state): State<AppState>,
    _: WorkerToken,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<OutcomeResponse>> {
    let req: CompleteRequest = json_body(&bytes)?;
    let video = fence(&state, &id, &req.lease_id).await?;
    let keepalive = keep_lease(&state, &id, &req.lease_id);
    let adopted = adopt_and_store(&state, &video, &req.lease_id).await;
    drop(keepalive);
    let failure = match adopted {
        Ok(media) => {
            let done = completion(&state, &video, media);
            return match complete_attempt(&state, &id, &req.lease_id, done).await {
                Ok(()) => {
                    after_attempt(&state, &video, None).await;
                    Ok(Json(OutcomeResponse {
                        outcome: Outcome::Completed,
                        error: None,
                    }))
                }
                Err(StoreError::LeaseLost) => Err(lease_lost()),
                Err(e) => Err(e.into()),
            };
        }
        // The clip is fine and stays uploaded; only storage is away. Answer 503 so the worker
        // retries `complete` (its heartbeat keeps the lease), instead of spending an attempt
        // and throwing a finished render away.
        Err(f) if f.code == ErrorCode::StorageUnavailable => {
            return Err(ApiError::Unavailable(f.message));
        }
        Err(f) => f,
    };
    let error = OutcomeError {
        code: failure.code.to_string(),
        message: failure.message.clone(),
    };
    let outcome = record_failure(
        &state,
        &video,
        &req.lease_id,
        error.clone(),
        failure.retryable,
    )
    .await?;
    Ok(Json(OutcomeResponse {
        outcome,
        error: Some(error),
    }))
}

pub async fn fail(
    State(state): State<AppState>,
    _: WorkerToken,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<OutcomeResponse>> {
    let req: FailRequest = json_body(&bytes)?;
    let code_ok = !req.code.is_empty()
        && req.code.len() <= 64
        && req
            .code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !code_ok {
        return Err(ApiError::invalid(
            "code",
            ErrorCode::InvalidCode,
            "code must be 1-64 of a-z0-9_",
        ));
    }
    let video = fence(&state, &id, &req.lease_id).await?;
    let error = OutcomeError {
        code: req.code,
        message: req.message.chars().take(MAX_MESSAGE_CHARS).collect(),
    };
    let outcome = record_failure(&state, &video, &req.lease_id, error, req.retryable).await?;
    Ok(Json(OutcomeResponse {
        outcome,
        error: None,
    }))
}

/// Ends the attempt as failed: back to the queue with backoff when `retryable` and attempts
/// remain, else `failed`.
async fn record_failure(
    state: &AppState,
    video: &VideoRecord,
    lease_id: &str,
    error: OutcomeError,
    retryable: bool,
) -> ApiResult<Outcome> {
    let err = JobError {
        code: error.code,
        message: error.message,
    };
    let outcome =
        match fail_attempt(state, &video.id, lease_id, video.attempts, err, retryable).await {
            Ok(FailOutcome::Requeued { .. }) => Outcome::Requeued,
            Ok(FailOutcome::Failed(_)) => Outcome::Failed,
            Err(StoreError::LeaseLost) => return Err(lease_lost()),
            Err(e) => return Err(e.into()),
        };
    after_attempt(state, video, Some(lease_id)).await;
    if outcome == Outcome::Requeued {
        state.wake.notify_waiters();
    }
    Ok(outcome)
}

/// Drops the attempt's uploads (all attempts' once the job is done) and lets a batch move on.
async fn after_attempt(state: &AppState, video: &VideoRecord, lease_id: Option<&str>) {
    let prefix = match lease_id {
        Some(l) => format!("uploads/{}/{l}", video.id),
        None => format!("uploads/{}", video.id),
    };
    delete_blobs(state, &prefix).await;
    if video.batch_id.is_some() {
        state.batch_wake.notify_one();
    }
}

/// Renews the lease while the node works on the artifacts (a long 1080p clip takes seconds).
/// The renewals stop when the handle is dropped, so a handler cut off midway (a timeout, the
/// worker hanging up) leaves the lease to lapse instead of holding the job for ever.
fn keep_lease(state: &AppState, id: &str, lease_id: &str) -> AbortOnDropHandle<()> {
    let (state, id, lease_id) = (state.clone(), id.to_string(), lease_id.to_string());
    let lease_ms = state.settings.lease_seconds * 1000;
    let every = Duration::from_millis((lease_ms / 3).clamp(100, 1000) as u64);
    AbortOnDropHandle::new(tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let beat = state
                .store
                .heartbeat(&id, &lease_id, 96, clock::now_millis(), lease_ms)
                .await;
            if let Err(StoreError::LeaseLost) = beat {
                return;
            }
        }
    }))
}

async fn fetch_upload(
    state: &AppState,
    video: &VideoRecord,
    lease_id: &str,
    name: &str,
    dir: &std::path::Path,
) -> Result<Option<PathBuf>, JobFailure> {
    let key = upload_key(&video.id, lease_id, name);
    if state
        .blobs
        .head(&key)
        .await
        .map_err(storage_failure)?
        .is_none()
    {
        return Ok(None);
    }
    let path = dir.join(name);
    state
        .blobs
        .get_to_file(&key, &path)
        .await
        .map_err(storage_failure)?;
    Ok(Some(path))
}

async fn adopt_and_store(
    state: &AppState,
    video: &VideoRecord,
    lease_id: &str,
) -> Result<MediaInfo, JobFailure> {
    let scratch = tempfile::TempDir::new_in(&state.tmp_dir)
        .map_err(|e| JobFailure::transient(ErrorCode::ScratchUnavailable, e.to_string()))?;
    let dir = scratch.path();
    let returned = fetch_upload(state, video, lease_id, "video.mp4", dir)
        .await?
        .ok_or_else(|| {
            JobFailure::transient(
                ErrorCode::InvalidArtifact,
                "The worker completed without uploading video.mp4.",
            )
        })?;
    let audio_wav = fetch_upload(state, video, lease_id, "audio.wav", dir).await?;
    let scene = fetch_upload(state, video, lease_id, "scene.json", dir)
        .await?
        .filter(|p| {
            std::fs::read(p)
                .ok()
                .is_some_and(|b| serde_json::from_slice::<serde_json::Value>(&b).is_ok())
        });
    let source = match &video.spec {
        JobSpec::Extend { source, .. } => {
            let source_dir = dir.join("source");
            std::fs::create_dir_all(&source_dir)
                .map_err(|e| JobFailure::transient(ErrorCode::ScratchUnavailable, e.to_string()))?;
            Some(fetch_source(state, source, &source_dir).await?.0)
        }
        _ => None,
    };
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| JobFailure::transient(ErrorCode::ScratchUnavailable, e.to_string()))?;
    let expected = Expected {
        width: video.size.width,
        height: video.size.height,
        seconds: render_seconds(video),
    };
    let audio_codec = state.settings.audio_codec;
    let adopted = tokio::task::spawn_blocking(move || {
        let returned = Returned {
            video: returned,
            audio_wav,
        };
        kinora_render::adopt(
            &returned,
            expected,
            source.as_deref(),
            audio_codec,
            &out_dir,
            &|_| {},
            &CancelToken::new(),
        )
    })
    .await;
    let adopted = match adopted {
        Ok(Ok(a)) => a,
        Ok(Err(RenderError::InvalidInput { param, message })) => {
            return Err(JobFailure::transient(
                ErrorCode::InvalidArtifact,
                format!("The worker's {param} was refused: {message}"),
            ));
        }
        Ok(Err(e)) => {
            return Err(JobFailure::transient(
                ErrorCode::InvalidArtifact,
                format!("The worker's clip could not be processed: {e}"),
            ));
        }
        Err(join) => {
            tracing::error!(video_id = %video.id, error = %join, "adopting a clip panicked");
            return Err(JobFailure::permanent(
                ErrorCode::InternalError,
                "The node crashed processing this job's clip.",
            ));
        }
    };
    let files = Artifacts {
        video: &adopted.video,
        thumbnail: &adopted.thumbnail,
        spritesheet: &adopted.spritesheet,
        scene: scene.as_deref(),
    };
    let media = store_outputs(
        state,
        &video.id,
        &files,
        adopted.info.frames,
        adopted.info.duration_s,
    )
    .await?;
    Ok(media)
}
