//! A leased job as a remote worker sees it: the [`Job`] message, and the mapping from its input
//! names back to blobs. Names are recomputed from the stored job on every download rather than
//! remembered, so any node can serve any worker (a few metadata reads per input, against a
//! download of megabytes).

use kinora_core::{JobSpec, SourceVideo};
use kinora_store::{Lease, VideoRecord};

use crate::error::{ApiError, ApiResult};
use crate::jobs::inputs::{JobFailure, character_files, require_source_content, storage_failure};
use crate::jobs::media::{Variant, blob_key, scene_key};
use crate::state::AppState;
use crate::worker::protocol::{InputKind, Job, JobCharacter, JobInput, JobMode};

/// Where a job's input lives.
struct Input {
    name: String,
    kind: InputKind,
    key: String,
}

fn image_or_json(file: &str) -> InputKind {
    if file.ends_with(".json") {
        InputKind::Json
    } else {
        InputKind::Image
    }
}

/// Every input of `v`, and its characters' names with their files. Fails the way the in-process
/// runner's fetch does: a deleted character or source is permanent, a storage outage transient.
async fn inputs_of(
    state: &AppState,
    v: &VideoRecord,
) -> Result<(Vec<Input>, Vec<JobCharacter>), JobFailure> {
    let mut inputs = Vec::new();
    let mut characters = Vec::new();
    let source = match &v.spec {
        JobSpec::Create {
            input_reference,
            characters: ids,
        } => {
            if let Some(key) = input_reference {
                inputs.push(Input {
                    name: "input_reference".into(),
                    kind: InputKind::Image,
                    key: key.clone(),
                });
            }
            for (i, id) in ids.iter().enumerate() {
                let (name, files) = character_files(state, v, id).await?;
                let mut names = Vec::new();
                for file in files {
                    let input = format!("character_{i}/{file}");
                    inputs.push(Input {
                        name: input.clone(),
                        kind: image_or_json(&file),
                        key: format!("characters/{id}/{file}"),
                    });
                    names.push(input);
                }
                characters.push(JobCharacter {
                    name,
                    inputs: names,
                });
            }
            None
        }
        JobSpec::Extend { source, .. }
        | JobSpec::Edit { source, .. }
        | JobSpec::Remix { source } => Some(source),
    };
    match source {
        Some(SourceVideo::Upload { blob_key: key }) => inputs.push(Input {
            name: "source.mp4".into(),
            kind: InputKind::Video,
            key: key.clone(),
        }),
        Some(SourceVideo::Video { id }) => {
            require_source_content(state, id).await?;
            inputs.push(Input {
                name: "source.mp4".into(),
                kind: InputKind::Video,
                key: blob_key(id, Variant::Video),
            });
            let scene = state.blobs.head(&scene_key(id)).await;
            if scene.map_err(storage_failure)?.is_some() {
                inputs.push(Input {
                    name: "source.scene.json".into(),
                    kind: InputKind::Json,
                    key: scene_key(id),
                });
            }
        }
        None => {}
    }
    Ok((inputs, characters))
}

pub fn mode_of(spec: &JobSpec) -> JobMode {
    match spec {
        JobSpec::Create { .. } => JobMode::Create,
        JobSpec::Extend { .. } => JobMode::Extend,
        JobSpec::Edit { .. } | JobSpec::Remix { .. } => JobMode::Edit,
    }
}

/// The length the worker renders: an extension's new segment, otherwise the clip.
pub fn render_seconds(v: &VideoRecord) -> u32 {
    match &v.spec {
        JobSpec::Extend { new_seconds, .. } => *new_seconds,
        _ => v.seconds,
    }
}

/// The job message for `lease`, or why the job cannot be handed out.
pub async fn job_message(state: &AppState, lease: &Lease) -> Result<Job, JobFailure> {
    let v = &lease.video;
    let (inputs, characters) = inputs_of(state, v).await?;
    Ok(Job {
        video_id: v.id.clone(),
        lease_id: lease.lease_id.clone(),
        attempt: lease.attempt,
        lease_seconds: state.settings.lease_seconds as u64,
        model: v.model.clone(),
        mode: mode_of(&v.spec),
        prompt: v.prompt.clone().unwrap_or_default(),
        width: v.size.width,
        height: v.size.height,
        seconds: render_seconds(v),
        seed: v.seed,
        audio_codec: state.settings.audio_codec.name().to_string(),
        captions: state.settings.engine.captions,
        edit_strength: match v.spec {
            JobSpec::Edit {
                strength_milli: Some(m),
                ..
            } => Some(f64::from(m) / 1000.0),
            _ => None,
        },
        inputs: inputs
            .iter()
            .map(|i| JobInput {
                name: i.name.clone(),
                kind: i.kind,
            })
            .collect(),
        characters,
    })
}

/// The blob behind input `name` of `v`, or 404.
pub async fn input_key(state: &AppState, v: &VideoRecord, name: &str) -> ApiResult<String> {
    let (inputs, _) = inputs_of(state, v).await.map_err(|f| {
        if f.retryable {
            ApiError::Unavailable(f.message)
        } else {
            ApiError::NotFound {
                message: f.message,
                param: Some("name".into()),
            }
        }
    })?;
    inputs
        .into_iter()
        .find(|i| i.name == name)
        .map(|i| i.key)
        .ok_or_else(|| ApiError::NotFound {
            message: format!("Job '{}' has no input named '{name}'.", v.id),
            param: Some("name".into()),
        })
}
