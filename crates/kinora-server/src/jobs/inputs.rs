//! Turns a stored job into an engine request: resolves ids to blobs and fetches every input into
//! the job's scratch directory, so the engine works on local files only.

use std::path::Path;

use kinora_core::{ErrorCode, JobSpec, SourceVideo};
use kinora_render::{CharacterRef, RenderMode, RenderRequest};
use kinora_store::{StoreError, VideoRecord};

use crate::jobs::media::{Variant, blob_key, scene_key};
use crate::state::AppState;

/// Why a job could not run, and whether trying again could help.
#[derive(Debug)]
pub struct JobFailure {
    pub code: ErrorCode,
    pub message: String,
    pub retryable: bool,
}

impl JobFailure {
    pub fn permanent(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retryable: false,
        }
    }
    pub fn transient(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retryable: true,
        }
    }
}

pub fn storage_failure(e: StoreError) -> JobFailure {
    tracing::warn!(error = %e, "storage error during a job");
    JobFailure::transient(
        ErrorCode::StorageUnavailable,
        "Media storage could not be reached while the video was rendered.",
    )
}

/// Blob key of the character's manifest of files (written when the character was created).
pub fn character_manifest_key(id: &str) -> String {
    format!("characters/{id}/files.json")
}

pub async fn prepare(
    state: &AppState,
    v: &VideoRecord,
    dir: &Path,
) -> Result<RenderRequest, JobFailure> {
    let mode = match &v.spec {
        JobSpec::Create {
            input_reference,
            characters,
        } => {
            let input_reference = match input_reference {
                Some(key) => {
                    let path = dir.join("reference");
                    state
                        .blobs
                        .get_to_file(key, &path)
                        .await
                        .map_err(storage_failure)?;
                    Some(path)
                }
                None => None,
            };
            let mut refs = Vec::new();
            for (i, id) in characters.iter().enumerate() {
                refs.push(
                    fetch_character(state, v, id, &dir.join(format!("character_{i}"))).await?,
                );
            }
            RenderMode::Create {
                input_reference,
                characters: refs,
            }
        }
        JobSpec::Extend { source, .. } => {
            let (source, source_scene) = fetch_source(state, source, dir).await?;
            RenderMode::Extend {
                source,
                source_scene,
            }
        }
        JobSpec::Edit { source, .. } | JobSpec::Remix { source } => {
            let (source, source_scene) = fetch_source(state, source, dir).await?;
            RenderMode::Edit {
                source,
                source_scene,
            }
        }
    };
    let seconds = match &v.spec {
        JobSpec::Extend { new_seconds, .. } => *new_seconds,
        _ => v.seconds,
    };
    Ok(RenderRequest {
        prompt: v.prompt.clone().unwrap_or_default(),
        width: v.size.width,
        height: v.size.height,
        seconds,
        seed: v.seed,
        mode,
        audio_codec: state.settings.audio_codec,
        captions: state.settings.engine.captions,
    })
}

/// A character of `v`'s project, as a job needs it: its name and the files its manifest lists.
/// Shared by the in-process runner (which downloads the files) and the worker protocol (which
/// names them as inputs), so both judge a deleted or damaged character the same way.
pub(crate) async fn character_files(
    state: &AppState,
    v: &VideoRecord,
    id: &str,
) -> Result<(String, Vec<String>), JobFailure> {
    let c = state
        .store
        .get_character(&v.project, id)
        .await
        .map_err(storage_failure)?
        .ok_or_else(|| {
            JobFailure::permanent(
                ErrorCode::CharacterNotFound,
                format!("Character '{id}' was deleted before the video rendered."),
            )
        })?;
    let manifest = state
        .blobs
        .get_bytes(&character_manifest_key(id))
        .await
        .map_err(storage_failure)?;
    let files: Vec<String> = serde_json::from_slice(&manifest).map_err(|e| {
        JobFailure::permanent(
            ErrorCode::CharacterCorrupt,
            format!("Character '{id}' has an unreadable manifest: {e}"),
        )
    })?;
    // Names come from our own manifest, but never let one escape a scratch directory.
    if files.iter().any(|f| f.contains('/') || f.contains("..")) {
        return Err(JobFailure::permanent(
            ErrorCode::CharacterCorrupt,
            format!("Character '{id}' lists an invalid file name."),
        ));
    }
    Ok((c.name, files))
}

async fn fetch_character(
    state: &AppState,
    v: &VideoRecord,
    id: &str,
    dir: &Path,
) -> Result<CharacterRef, JobFailure> {
    let (name, files) = character_files(state, v, id).await?;
    tokio::fs::create_dir_all(dir).await.map_err(|e| {
        tracing::warn!(error = %e, "scratch space refused a job");
        JobFailure::transient(
            ErrorCode::ScratchUnavailable,
            "The server's scratch space could not be written.",
        )
    })?;
    for file in files {
        state
            .blobs
            .get_to_file(&format!("characters/{id}/{file}"), &dir.join(&file))
            .await
            .map_err(storage_failure)?;
    }
    Ok(CharacterRef {
        name,
        dir: dir.to_path_buf(),
    })
}

/// A permanent failure when source video `id` no longer has content (deleted or expired).
pub(crate) async fn require_source_content(state: &AppState, id: &str) -> Result<(), JobFailure> {
    let head = state.blobs.head(&blob_key(id, Variant::Video)).await;
    match head.map_err(storage_failure)? {
        Some(_) => Ok(()),
        None => Err(JobFailure::permanent(
            ErrorCode::SourceUnavailable,
            format!("The source video '{id}' no longer has content (deleted or expired)."),
        )),
    }
}

pub(crate) async fn fetch_source(
    state: &AppState,
    source: &SourceVideo,
    dir: &Path,
) -> Result<(std::path::PathBuf, Option<std::path::PathBuf>), JobFailure> {
    let video = dir.join("source.mp4");
    match source {
        SourceVideo::Upload { blob_key: key } => {
            state
                .blobs
                .get_to_file(key, &video)
                .await
                .map_err(storage_failure)?;
            Ok((video, None))
        }
        SourceVideo::Video { id } => {
            require_source_content(state, id).await?;
            state
                .blobs
                .get_to_file(&blob_key(id, Variant::Video), &video)
                .await
                .map_err(storage_failure)?;
            let scene = dir.join("source.scene.json");
            let has_scene = state
                .blobs
                .head(&scene_key(id))
                .await
                .map_err(storage_failure)?
                .is_some();
            if has_scene {
                state
                    .blobs
                    .get_to_file(&scene_key(id), &scene)
                    .await
                    .map_err(storage_failure)?;
            }
            Ok((video, has_scene.then_some(scene)))
        }
    }
}
