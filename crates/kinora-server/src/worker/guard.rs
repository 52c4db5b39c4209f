//! What every worker call checks before it acts: the worker token, the lease it claims to hold
//! (`fence`), and its JSON body; and where an attempt's uploads live. A leaf that `routes` and
//! `finish` both use, so neither imports the other's helpers.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use kinora_core::{ErrorCode, clock};
use kinora_store::{StoreError, VideoRecord};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A request made with a worker token. API keys are not worker tokens, and vice versa.
#[derive(Debug)]
pub struct WorkerToken;

impl FromRequestParts<AppState> for WorkerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let tokens = &state.settings.worker_tokens;
        if tokens.is_empty() {
            return Err(ApiError::Unauthorized(
                "This node serves no workers: start it with --worker-token (or \
                 KINORA_WORKER_TOKENS) to enable the worker protocol."
                    .into(),
            ));
        }
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        if tokens.iter().any(|t| t.0 == given) {
            Ok(WorkerToken)
        } else {
            Err(ApiError::Unauthorized(
                "Incorrect worker token provided.".into(),
            ))
        }
    }
}

pub fn json_body<T: DeserializeOwned>(bytes: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid(
            "body",
            ErrorCode::InvalidRequestBody,
            format!("The request body is not the expected JSON object: {e}."),
        )
    })
}

pub fn lease_lost() -> ApiError {
    ApiError::Conflict {
        message: "This lease is no longer the job's current one (it expired, or the job was \
                  finished or cancelled); drop the job."
            .into(),
        code: ErrorCode::LeaseLost,
    }
}

/// Checks that `lease_id` still holds job `id` (renewing it, since the worker is evidently
/// alive) and returns the job.
pub async fn fence(state: &AppState, id: &str, lease_id: &str) -> ApiResult<VideoRecord> {
    let lease_ms = state.settings.lease_seconds * 1000;
    match state
        .store
        .heartbeat(id, lease_id, 0, clock::now_millis(), lease_ms)
        .await
    {
        Ok(_) => {}
        Err(StoreError::LeaseLost) => return Err(lease_lost()),
        Err(e) => return Err(e.into()),
    }
    state
        .store
        .get_video_unscoped(id)
        .await?
        .ok_or_else(lease_lost)
}

/// Blob key of an uploaded artifact: per attempt, so a stale worker's late upload can never be
/// mistaken for the current attempt's.
pub fn upload_key(id: &str, lease_id: &str, name: &str) -> String {
    format!("uploads/{id}/{lease_id}/{name}")
}
