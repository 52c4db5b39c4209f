//! `/internal/v1`: registration, long-poll leases, heartbeats, inputs and artifact uploads.
//! `complete` and `fail` are in `finish.rs`.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use bytes::Bytes;
use futures::StreamExt;
use kinora_core::{ErrorCode, clock};
use kinora_store::{JobError, Lease, StoreError, WorkerRecord};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult};
use crate::jobs::inputs::JobFailure;
use crate::jobs::runner::fail_attempt;
use crate::state::AppState;
use crate::worker::config::{pool_models, valid_name};
use crate::worker::guard::{WorkerToken, fence, json_body, lease_lost, upload_key};
use crate::worker::job::{input_key, job_message};
use crate::worker::protocol::*;

/// Longest long-poll; well under the request timeout and typical proxy idle timeouts.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// The least time a worker call may take before the node answers 408 (the operator's
/// `request_timeout_seconds` when longer). `kinora worker` waits as long for `complete`.
pub const CALL_LIMIT_SECONDS: u64 = 300;
/// Re-check the queue this often while long-polling, in case a wake-up was missed or another
/// node enqueued without a notification reaching this one.
const POLL: Duration = Duration::from_millis(500);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workers/register", post(register))
        .route("/lease", post(lease))
        .route("/jobs/{id}/heartbeat", post(heartbeat))
        .route("/jobs/{id}/inputs/{*name}", get(input))
        .route("/jobs/{id}/artifacts/{name}", put(artifact))
        .route("/jobs/{id}/complete", post(crate::worker::finish::complete))
        .route("/jobs/{id}/fail", post(crate::worker::finish::fail))
}

#[derive(Debug, Deserialize)]
pub struct LeaseQuery {
    pub lease_id: String,
}

async fn register(
    State(state): State<AppState>,
    _: WorkerToken,
    bytes: Bytes,
) -> ApiResult<Json<RegisterResponse>> {
    let req: RegisterRequest = json_body(&bytes)?;
    if !valid_name(&req.name, 64) {
        return Err(ApiError::invalid(
            "name",
            ErrorCode::InvalidName,
            "name must be 1-64 of A-Za-z0-9._-",
        ));
    }
    let served = pool_models(&state.catalogue, &req.pool);
    if served.is_empty() {
        return Err(ApiError::invalid(
            "pool",
            ErrorCode::UnknownPool,
            format!(
                "No model is routed to pool '{}'; declare it in [[remote_models]] with \
                 pool = \"{}\".",
                req.pool, req.pool
            ),
        ));
    }
    let models = if req.models.is_empty() {
        served
    } else {
        if let Some(m) = req.models.iter().find(|m| !served.contains(m)) {
            return Err(ApiError::invalid(
                "models",
                ErrorCode::InvalidModel,
                format!(
                    "Model '{m}' is not served by pool '{}'; it serves: {}.",
                    req.pool,
                    served.join(", ")
                ),
            ));
        }
        req.models
    };
    let suffix = &kinora_core::ids::lease_id()[6..18];
    let worker_id = format!("wkr_{}_{suffix}", req.name);
    tracing::info!(%worker_id, pool = %req.pool, ?models, version = ?req.version, "worker registered");
    state
        .store
        .record_worker(&WorkerRecord {
            id: worker_id.clone(),
            name: req.name,
            pool: req.pool,
            models: models.clone(),
            version: req.version,
            registered_at_ms: clock::now_millis(),
        })
        .await?;
    let lease_seconds = state.settings.lease_seconds as u64;
    Ok(Json(RegisterResponse {
        worker_id,
        models,
        lease_seconds,
        heartbeat_interval_ms: (lease_seconds * 1000 / 3).max(100),
        max_wait_seconds: MAX_WAIT_SECONDS,
    }))
}

async fn lease(State(state): State<AppState>, _: WorkerToken, bytes: Bytes) -> ApiResult<Response> {
    let req: LeaseRequest = json_body(&bytes)?;
    if !req.worker_id.starts_with("wkr_") || !valid_name(&req.worker_id, 128) {
        return Err(ApiError::invalid(
            "worker_id",
            ErrorCode::InvalidWorkerId,
            "worker_id must be the id /internal/v1/workers/register returned",
        ));
    }
    if req.models.is_empty() {
        return Err(ApiError::invalid(
            "models",
            ErrorCode::InvalidModel,
            "models must name at least one model",
        ));
    }
    if let Some(m) = req.models.iter().find(|m| state.catalogue.get(m).is_none()) {
        return Err(ApiError::invalid(
            "models",
            ErrorCode::InvalidModel,
            format!("Model '{m}' is not in this node's catalogue."),
        ));
    }
    // Presence only: a registry that cannot be written must not stop the worker being served.
    if let Err(e) = state
        .store
        .touch_worker(&req.worker_id, clock::now_millis())
        .await
    {
        tracing::warn!(worker_id = %req.worker_id, error = %e, "could not note the worker's poll");
    }
    let wait = Duration::from_secs(req.wait_seconds.min(MAX_WAIT_SECONDS));
    let deadline = tokio::time::Instant::now() + wait;
    let lease_ms = state.settings.lease_seconds * 1000;
    loop {
        // Registered before the claim, so an enqueue between the claim and the wait still wakes us.
        let woken = state.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let claimed = state
            .store
            .claim_for(
                &req.worker_id,
                Some(&req.models),
                clock::now_millis(),
                lease_ms,
            )
            .await?;
        if let Some(lease) = claimed {
            state.progress.changed(&lease.video.id);
            match job_message(&state, &lease).await {
                Ok(job) => return Ok(Json(job).into_response()),
                Err(failure) => {
                    if let Some(answer) = refuse_lease(&state, &lease, failure).await {
                        return Err(answer);
                    }
                    continue;
                }
            }
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        tokio::select! {
            _ = &mut woken => {}
            _ = tokio::time::sleep(POLL.min(deadline - now)) => {}
        }
    }
}

async fn heartbeat(
    State(state): State<AppState>,
    _: WorkerToken,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<HeartbeatResponse>> {
    let req: HeartbeatRequest = json_body(&bytes)?;
    let lease_ms = state.settings.lease_seconds * 1000;
    // Rendering reports up to 95%: the node's own work (validation, previews, storage) is the rest.
    let progress = (u16::from(req.progress.min(100)) * 95 / 100) as u8;
    match state
        .store
        .heartbeat(&id, &req.lease_id, progress, clock::now_millis(), lease_ms)
        .await
    {
        Ok(cancel) => {
            state.progress.changed(&id);
            Ok(Json(HeartbeatResponse { cancel }))
        }
        Err(StoreError::LeaseLost) => Err(lease_lost()),
        Err(e) => Err(e.into()),
    }
}

async fn input(
    State(state): State<AppState>,
    _: WorkerToken,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<LeaseQuery>,
) -> ApiResult<Response> {
    let video = fence(&state, &id, &q.lease_id).await?;
    let key = input_key(&state, &video, &name).await?;
    let meta = state
        .blobs
        .head(&key)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            message: format!("Input '{name}' of job '{id}' is gone (deleted or expired)."),
            param: Some("name".into()),
        })?;
    let stream = state.blobs.get_range(&key, None).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, meta.size.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Ends an attempt whose job could not be described to the worker, like the in-process runner
/// ends one whose inputs cannot be fetched. A permanent cause (a character or source deleted
/// meanwhile) fails the job now, instead of bouncing it between workers, and the lease goes on
/// to the next job. A storage outage hands the job back with a backoff and answers the worker
/// 503, so it backs off too rather than draining the queue into failures.
async fn refuse_lease(state: &AppState, lease: &Lease, failure: JobFailure) -> Option<ApiError> {
    let err = JobError {
        code: failure.code.to_string(),
        message: failure.message.clone(),
    };
    let v = &lease.video;
    let recorded = fail_attempt(
        state,
        &v.id,
        &lease.lease_id,
        lease.attempt,
        err,
        failure.retryable,
    )
    .await;
    if let Err(e) = recorded {
        // The lease lapses and the sweeper requeues the job.
        tracing::warn!(video_id = %v.id, error = %e, "could not end an attempt refused at lease");
    }
    if v.batch_id.is_some() {
        state.batch_wake.notify_one();
    }
    failure
        .retryable
        .then_some(ApiError::Unavailable(failure.message))
}

async fn artifact(
    State(state): State<AppState>,
    _: WorkerToken,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<LeaseQuery>,
    body: Body,
) -> ApiResult<Json<ArtifactReceipt>> {
    if !ARTIFACTS.contains(&name.as_str()) {
        return Err(ApiError::invalid(
            "name",
            ErrorCode::InvalidArtifactName,
            format!("Artifacts are named {}.", ARTIFACTS.join(", ")),
        ));
    }
    fence(&state, &id, &q.lease_id).await?;
    let scratch = tempfile::NamedTempFile::new_in(&state.tmp_dir).map_err(ApiError::internal)?;
    let mut file = tokio::fs::File::create(scratch.path())
        .await
        .map_err(ApiError::internal)?;
    let limit = state.settings.max_upload_bytes as u64;
    let mut total = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::invalid(
                "body",
                ErrorCode::UploadInterrupted,
                format!("The upload broke off: {e}"),
            )
        })?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(ApiError::PayloadTooLarge(format!(
                "Artifacts are limited to {limit} bytes (max_upload_bytes)."
            )));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)?;
    drop(file);
    state
        .blobs
        .put_file(&upload_key(&id, &q.lease_id, &name), scratch.path())
        .await?;
    Ok(Json(ArtifactReceipt { name, bytes: total }))
}
