//! The one way a new video job enters the queue: idempotency, insert, wake a worker, answer.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use kinora_core::{ErrorCode, JobSpec, VideoSize, clock};
use kinora_store::{CreateOutcome, IdempotencyKey, NewVideo};

use crate::error::{ApiError, ApiResult};
use crate::form::Text;
use crate::routes::videos::video_response;
use crate::state::AppState;

/// What a create-like endpoint resolved from its request.
pub struct Job {
    pub id: String,
    pub project: String,
    pub model: String,
    pub prompt: String,
    pub size: VideoSize,
    pub seconds: u32,
    pub seed: u64,
    pub spec: JobSpec,
    pub remixed_from_video_id: Option<String>,
}

/// Reads the `Idempotency-Key` header; the key is scoped to the endpoint so one key reused on
/// two endpoints is a conflict rather than a silent replay of the wrong thing.
pub fn idempotency(
    headers: &HeaderMap,
    endpoint: &str,
    digest: &str,
) -> ApiResult<Option<IdempotencyKey>> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                ErrorCode::InvalidIdempotencyKey,
                "The Idempotency-Key header must be 1-255 printable characters.",
            )
        })?;
    Ok(Some(IdempotencyKey {
        key: key.to_string(),
        request_hash: format!("{endpoint}:{digest}"),
    }))
}

pub async fn enqueue(
    state: &AppState,
    job: Job,
    idem: Option<IdempotencyKey>,
) -> ApiResult<Response> {
    let new = NewVideo {
        id: job.id,
        project: job.project,
        model: job.model,
        prompt: Some(job.prompt),
        size: job.size,
        seconds: job.seconds,
        seed: job.seed,
        spec: job.spec,
        remixed_from_video_id: job.remixed_from_video_id,
        batch_id: None,
        priority: 0,
        max_attempts: state.settings.max_attempts,
        created_at: clock::now_unix(),
    };
    let (record, replayed) = match state.store.create_video(new, idem).await? {
        CreateOutcome::Created(r) => {
            state.metrics.jobs_created.inc();
            if let Some(i) = crate::interpretation::of_record(state, &r).await {
                crate::interpretation::log(&r.id, &i);
            }
            state.wake.notify_one();
            (r, false)
        }
        CreateOutcome::Replayed(r) => (r, true),
        CreateOutcome::KeyConflict => {
            return Err(ApiError::Conflict {
                message: "This Idempotency-Key was already used with a different request body."
                    .into(),
                code: ErrorCode::IdempotencyKeyReused,
            });
        }
    };
    let mut resp = video_response(state, &record).await?.into_response();
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// A random seed when the request names none; stored with the job so retries and restarts
/// render the same video.
pub fn seed_or_random(raw: Option<&Text>) -> ApiResult<u64> {
    match raw.map(Text::as_str) {
        None => Ok(rand::random::<u64>() >> 11),
        Some(s) => s.trim().parse::<u64>().map_err(|_| {
            ApiError::invalid(
                "seed",
                ErrorCode::InvalidSeed,
                "seed must be a non-negative integer.",
            )
        }),
    }
}
