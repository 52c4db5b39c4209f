//! The Batch API for `POST /v1/videos`: `POST/GET /v1/batches`, `GET /v1/batches/{id}`,
//! `POST /v1/batches/{id}/cancel`. Creating a batch only records it (`validating`); the batch
//! driver (`jobs::batches`) reads the input file, enqueues its jobs and finalizes it.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use kinora_core::{clock, ids};
use kinora_store::batch::{BatchCancel, BatchCounts};
use kinora_store::{BatchRecord, BatchStatus};
use serde_json::{Map, Value, json};

use crate::auth::Project;
use crate::error::{ApiError, ApiResult};
use crate::routes::paging::{Cursor, ListQuery};
use crate::state::AppState;
use crate::view::list_view;

/// The one endpoint video batches may target; the contract lists others that Kinora has not.
pub const VIDEO_ENDPOINT: &str = "/v1/videos";
const MAX_METADATA_PAIRS: usize = 16;
const MAX_METADATA_KEY: usize = 64;
const MAX_METADATA_VALUE: usize = 512;
const MIN_OUTPUT_EXPIRY: i64 = 3600;
const MAX_OUTPUT_EXPIRY: i64 = 30 * 24 * 3600;

pub fn batch_view(b: &BatchRecord, counts: BatchCounts) -> Value {
    let errors = (!b.errors.is_empty()).then(|| {
        json!({
            "object": "list",
            "data": b.errors.iter().map(|e| json!({
                "code": e.code, "message": e.message, "param": e.param, "line": e.line,
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "id": b.id,
        "object": "batch",
        "endpoint": b.endpoint,
        "model": b.model,
        "errors": errors,
        "input_file_id": b.input_file_id,
        "completion_window": b.completion_window,
        "status": b.status.as_str(),
        "output_file_id": b.output_file_id,
        "error_file_id": b.error_file_id,
        "created_at": b.created_at,
        "in_progress_at": b.in_progress_at,
        "expires_at": b.expires_at,
        "finalizing_at": b.finalizing_at,
        "completed_at": b.completed_at,
        "failed_at": b.failed_at,
        "expired_at": b.expired_at,
        "cancelling_at": b.cancelling_at,
        "cancelled_at": b.cancelled_at,
        "request_counts": {
            "total": counts.total,
            "completed": counts.completed,
            "failed": counts.failed,
        },
        "metadata": b.metadata,
    })
}

async fn respond(state: &AppState, b: &BatchRecord) -> ApiResult<Response> {
    let counts = state.store.batch_counts(&b.id).await?;
    Ok(Json(batch_view(b, counts)).into_response())
}

fn metadata(body: &Value) -> ApiResult<Option<Value>> {
    let bad = |m: String| ApiError::invalid("metadata", "invalid_metadata", m);
    match body.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => {
            if map.len() > MAX_METADATA_PAIRS {
                return Err(bad(format!(
                    "metadata may have at most {MAX_METADATA_PAIRS} keys."
                )));
            }
            for (k, v) in map {
                let Value::String(v) = v else {
                    return Err(bad(format!("metadata value for '{k}' must be a string.")));
                };
                if k.chars().count() > MAX_METADATA_KEY || v.chars().count() > MAX_METADATA_VALUE
                {
                    return Err(bad(format!(
                        "metadata keys are at most {MAX_METADATA_KEY} characters and values at most {MAX_METADATA_VALUE}."
                    )));
                }
            }
            Ok(Some(Value::Object(map.clone())))
        }
        Some(_) => Err(bad("metadata must be an object of string values.".into())),
    }
}

fn output_expiry(body: &Value) -> ApiResult<Option<i64>> {
    let Some(v) = body.get("output_expires_after").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::invalid(
            "output_expires_after",
            "invalid_output_expires_after",
            format!(
                "output_expires_after must be {{\"anchor\": \"created_at\", \"seconds\": {MIN_OUTPUT_EXPIRY}-{MAX_OUTPUT_EXPIRY}}}."
            ),
        )
    };
    if v.get("anchor").and_then(Value::as_str) != Some("created_at") {
        return Err(bad());
    }
    v.get("seconds")
        .and_then(Value::as_i64)
        .filter(|s| (MIN_OUTPUT_EXPIRY..=MAX_OUTPUT_EXPIRY).contains(s))
        .map(Some)
        .ok_or_else(bad)
}

fn text<'a>(body: &'a Map<String, Value>, key: &str) -> ApiResult<&'a str> {
    match body.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(ApiError::invalid(
            key,
            "invalid_value",
            format!("{key} must be a non-empty string."),
        )),
        None => Err(ApiError::invalid(
            key,
            "missing_required_parameter",
            format!("{key} is required."),
        )),
    }
}

pub async fn create(
    State(state): State<AppState>,
    project: Project,
    req: Request,
) -> ApiResult<Response> {
    let bytes = axum::body::to_bytes(req.into_body(), 1024 * 1024)
        .await
        .map_err(|_| ApiError::invalid("body", "invalid_body", "The body must be a JSON object under 1 MiB."))?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::invalid(
            "body",
            "invalid_json",
            format!("The body is not valid JSON: {e}"),
        )
    })?;
    let Some(map) = body.as_object() else {
        return Err(ApiError::invalid(
            "body",
            "invalid_json",
            "The body must be a JSON object.",
        ));
    };
    let input_file_id = text(map, "input_file_id")?;
    let endpoint = text(map, "endpoint")?;
    if endpoint != VIDEO_ENDPOINT {
        return Err(ApiError::invalid(
            "endpoint",
            "unsupported_endpoint",
            format!(
                "Kinora runs batches of video generations only: endpoint must be '{VIDEO_ENDPOINT}', not '{endpoint}'."
            ),
        ));
    }
    let window = text(map, "completion_window")?;
    if window != "24h" {
        return Err(ApiError::invalid(
            "completion_window",
            "invalid_completion_window",
            format!("completion_window must be '24h', not '{window}'."),
        ));
    }
    let metadata = metadata(&body)?;
    let output_expires_after = output_expiry(&body)?;
    let file = crate::routes::files::find(&state, &project.0, input_file_id)
        .await
        .map_err(|_| {
            ApiError::invalid(
                "input_file_id",
                "file_not_found",
                format!("No file found with id '{input_file_id}'."),
            )
        })?;
    if file.purpose != "batch" {
        return Err(ApiError::invalid(
            "input_file_id",
            "invalid_file_purpose",
            format!(
                "File '{}' has purpose '{}'; batch input must be uploaded with purpose 'batch'.",
                file.id, file.purpose
            ),
        ));
    }
    let now = clock::now_unix();
    let batch = BatchRecord {
        id: ids::batch_id(),
        project: project.0,
        endpoint: endpoint.to_string(),
        input_file_id: file.id,
        completion_window: window.to_string(),
        status: BatchStatus::Validating,
        model: None,
        metadata,
        output_expires_after,
        errors: Vec::new(),
        output_file_id: None,
        error_file_id: None,
        created_at: now,
        in_progress_at: None,
        expires_at: now + state.settings.batches.completion_window_seconds,
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
    };
    state.store.create_batch(batch.clone()).await?;
    state.batch_wake.notify_one();
    respond(&state, &batch).await
}

async fn find(state: &AppState, project: &str, id: &str) -> ApiResult<BatchRecord> {
    let found = if ids::looks_like(id, "batch_") {
        state.store.get_batch(project, id).await?
    } else {
        None
    };
    found.ok_or_else(|| ApiError::not_found("batch", id))
}

pub async fn retrieve(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let b = find(&state, &project.0, &id).await?;
    respond(&state, &b).await
}

pub async fn list(
    State(state): State<AppState>,
    project: Project,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let cursor = Cursor::parse(&q)?;
    let page = state
        .store
        .list_batches(
            &project.0,
            cursor.after.as_deref(),
            cursor.fetch_limit(),
            cursor.order,
        )
        .await;
    let page = cursor.finish(page, "batch")?;
    let mut views = Vec::with_capacity(page.items.len());
    for b in &page.items {
        views.push(batch_view(b, state.store.batch_counts(&b.id).await?));
    }
    let ids: Vec<&str> = page.items.iter().map(|b| b.id.as_str()).collect();
    Ok(Json(list_view(&views, &ids, page.has_more)).into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    find(&state, &project.0, &id).await?;
    match state
        .store
        .cancel_batch(&project.0, &id, clock::now_unix())
        .await?
    {
        BatchCancel::NotFound => Err(ApiError::not_found("batch", &id)),
        BatchCancel::Cancelling(b) => {
            state.batch_wake.notify_one();
            respond(&state, &b).await
        }
        BatchCancel::Ended(b)
            if matches!(b.status, BatchStatus::Cancelling | BatchStatus::Cancelled) =>
        {
            respond(&state, &b).await
        }
        BatchCancel::Ended(b) => Err(ApiError::Conflict {
            message: format!(
                "Batch '{}' is {} and can no longer be cancelled.",
                b.id,
                b.status.as_str()
            ),
            code: "batch_not_cancellable",
        }),
    }
}
