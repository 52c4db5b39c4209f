//! The Batch API for `POST /v1/videos`: `POST/GET /v1/batches`, `GET /v1/batches/{id}`,
//! `POST /v1/batches/{id}/cancel`. Creating a batch only records it (`validating`); the batch
//! driver (`jobs::batches`) reads the input file, enqueues its jobs and finalizes it.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use kinora_core::{ErrorCode, clock, ids};
use kinora_store::batch::{BatchCancel, BatchCounts};
use kinora_store::{BatchRecord, BatchStatus};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::openapi::bodies::CreateBatchJson;
use crate::routes::paging::{Cursor, ListQuery};
use crate::state::AppState;
use crate::view::{ListPage, list_view};

/// The one endpoint video batches may target; the contract lists others that Kinora has not.
pub const VIDEO_ENDPOINT: &str = "/v1/videos";
const MAX_METADATA_PAIRS: usize = 16;
const MAX_METADATA_KEY: usize = 64;
const MAX_METADATA_VALUE: usize = 512;
const MIN_OUTPUT_EXPIRY: i64 = 3600;
const MAX_OUTPUT_EXPIRY: i64 = 30 * 24 * 3600;

/// One problem in `errors.data`: a file-level reason the batch failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchErrorView {
    pub code: String,
    pub message: String,
    pub param: Option<String>,
    /// 1-based line of the input file, when the problem is on one line.
    pub line: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchErrors {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<BatchErrorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestCounts {
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
}

/// A batch of `POST /v1/videos` requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    // OpenAI's document types these as integers, strings and objects that may be absent, never
    // null: what is not there yet is left out.
    pub id: String,
    /// Always `batch`.
    pub object: &'static str,
    pub endpoint: String,
    /// The model most of its requests use, once validated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BatchErrors>,
    pub input_file_id: String,
    pub completion_window: String,
    /// `validating`, `failed`, `in_progress`, `finalizing`, `completed`, `expired`, `cancelling` or `cancelled`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_file_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_file_id: Option<String>,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_progress_at: Option<i64>,
    pub expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finalizing_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelling_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<i64>,
    pub request_counts: RequestCounts,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

pub fn batch_view(b: &BatchRecord, counts: BatchCounts) -> BatchView {
    let errors = (!b.errors.is_empty()).then(|| BatchErrors {
        object: "list",
        data: b
            .errors
            .iter()
            .map(|e| BatchErrorView {
                code: e.code.clone(),
                message: e.message.clone(),
                param: e.param.clone(),
                line: e.line,
            })
            .collect(),
    });
    BatchView {
        id: b.id.clone(),
        object: "batch",
        endpoint: b.endpoint.clone(),
        model: b.model.clone(),
        errors,
        input_file_id: b.input_file_id.clone(),
        completion_window: b.completion_window.clone(),
        status: b.status.as_str(),
        output_file_id: b.output_file_id.clone(),
        error_file_id: b.error_file_id.clone(),
        created_at: b.created_at,
        in_progress_at: b.in_progress_at,
        expires_at: b.expires_at,
        finalizing_at: b.finalizing_at,
        completed_at: b.completed_at,
        failed_at: b.failed_at,
        expired_at: b.expired_at,
        cancelling_at: b.cancelling_at,
        cancelled_at: b.cancelled_at,
        request_counts: RequestCounts {
            total: counts.total,
            completed: counts.completed,
            failed: counts.failed,
        },
        metadata: b.metadata.clone(),
    }
}

async fn respond(state: &AppState, b: &BatchRecord) -> ApiResult<Response> {
    let counts = state.store.batch_counts(&b.id).await?;
    Ok(Json(batch_view(b, counts)).into_response())
}

fn metadata(given: Option<Map<String, Value>>) -> ApiResult<Option<Value>> {
    let bad = |m: String| ApiError::invalid("metadata", ErrorCode::InvalidMetadata, m);
    let Some(map) = given else {
        return Ok(None);
    };
    if map.len() > MAX_METADATA_PAIRS {
        return Err(bad(format!(
            "metadata may have at most {MAX_METADATA_PAIRS} keys."
        )));
    }
    for (k, v) in &map {
        let Value::String(v) = v else {
            return Err(bad(format!("metadata value for '{k}' must be a string.")));
        };
        if k.chars().count() > MAX_METADATA_KEY || v.chars().count() > MAX_METADATA_VALUE {
            return Err(bad(format!(
                "metadata keys are at most {MAX_METADATA_KEY} characters and values at most {MAX_METADATA_VALUE}."
            )));
        }
    }
    Ok(Some(Value::Object(map)))
}

fn output_expiry(given: Option<Map<String, Value>>) -> ApiResult<Option<i64>> {
    let Some(v) = given else {
        return Ok(None);
    };
    let bad = || {
        ApiError::invalid(
            "output_expires_after",
            ErrorCode::InvalidOutputExpiresAfter,
            format!(
                "output_expires_after must be {{\"anchor\": \"created_at\", \"seconds\": {MIN_OUTPUT_EXPIRY}-{MAX_OUTPUT_EXPIRY}}}."
            ),
        )
    };
    let known = |k: &String| k == "anchor" || k == "seconds";
    if !v.keys().all(known) || v.get("anchor").and_then(Value::as_str) != Some("created_at") {
        return Err(bad());
    }
    v.get("seconds")
        .and_then(Value::as_i64)
        .filter(|s| (MIN_OUTPUT_EXPIRY..=MAX_OUTPUT_EXPIRY).contains(s))
        .map(Some)
        .ok_or_else(bad)
}

/// A required text field: absent is `missing_required_parameter`, empty `invalid_value`.
fn text<'a>(given: &'a Option<String>, key: &str) -> ApiResult<&'a str> {
    match given.as_deref() {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(ApiError::invalid(
            key,
            ErrorCode::InvalidValue,
            format!("{key} must be a non-empty string."),
        )),
        None => Err(ApiError::invalid(
            key,
            ErrorCode::MissingRequiredParameter,
            format!("{key} is required."),
        )),
    }
}

/// Create a batch
///
/// Records the batch (`validating`); the input file is then read, each line checked as
/// `POST /v1/videos` would check it, and the valid ones enqueued behind interactive jobs.
#[utoipa::path(
    post,
    path = "/v1/batches",
    operation_id = "create_batch",
    tag = "Batches",
    request_body(content((crate::openapi::bodies::CreateBatchJson = "application/json"))),
    responses(
        (status = 200, description = "The batch, `validating`.", body = BatchView),
        (status = 400, description = "Bad endpoint, window, metadata or input file; `param` names it.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    project: Project,
    req: Request,
) -> ApiResult<Response> {
    let bytes = axum::body::to_bytes(req.into_body(), 1024 * 1024)
        .await
        .map_err(|_| {
            ApiError::invalid(
                "body",
                ErrorCode::InvalidBody,
                "The body must be a JSON object under 1 MiB.",
            )
        })?;
    let req: CreateBatchJson = crate::form::typed(&crate::form::json_object(&bytes)?)?;
    let input_file_id = text(&req.input_file_id, "input_file_id")?;
    let endpoint = text(&req.endpoint, "endpoint")?;
    if endpoint != VIDEO_ENDPOINT {
        return Err(ApiError::invalid(
            "endpoint",
            ErrorCode::UnsupportedEndpoint,
            format!(
                "Kinora runs batches of video generations only: endpoint must be '{VIDEO_ENDPOINT}', not '{endpoint}'."
            ),
        ));
    }
    let window = text(&req.completion_window, "completion_window")?;
    if window != "24h" {
        return Err(ApiError::invalid(
            "completion_window",
            ErrorCode::InvalidCompletionWindow,
            format!("completion_window must be '24h', not '{window}'."),
        ));
    }
    let metadata = metadata(req.metadata)?;
    let output_expires_after = output_expiry(req.output_expires_after)?;
    let file = crate::routes::files::find(&state, &project.0, input_file_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound { .. } => ApiError::invalid(
                "input_file_id",
                ErrorCode::FileNotFound,
                format!("No file found with id '{input_file_id}'."),
            ),
            other => other,
        })?;
    if file.purpose != "batch" {
        return Err(ApiError::invalid(
            "input_file_id",
            ErrorCode::InvalidFilePurpose,
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

/// Retrieve a batch
#[utoipa::path(
    get,
    path = "/v1/batches/{batch_id}",
    operation_id = "retrieve_batch",
    tag = "Batches",
    params(("batch_id" = String, Path, description = "The batch's id (`batch_...`).")),
    responses(
        (status = 200, description = "The batch with exact `request_counts`.", body = BatchView),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such batch in this project.", body = ErrorResponse),
    ),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let b = find(&state, &project.0, &id).await?;
    respond(&state, &b).await
}

/// List batches
#[utoipa::path(
    get,
    path = "/v1/batches",
    operation_id = "list_batches",
    tag = "Batches",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of the project's batches.", body = ListPage<BatchView>),
        (status = 400, description = "Bad `limit`, `order` or `after`.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
    ),
)]
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
    Ok(Json(list_view(&views, page.has_more, |v| v.id.as_str())).into_response())
}

/// Cancel a batch
///
/// Queued jobs fail `cancelled` at once, running ones stop within about a second; the batch is
/// `cancelling` until then, then `cancelled` with its output and error files.
#[utoipa::path(
    post,
    path = "/v1/batches/{batch_id}/cancel",
    operation_id = "cancel_batch",
    tag = "Batches",
    params(("batch_id" = String, Path, description = "The batch's id (`batch_...`).")),
    responses(
        (status = 200, description = "The batch, `cancelling` or `cancelled`.", body = BatchView),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such batch in this project.", body = ErrorResponse),
        (status = 409, description = "The batch already ended (`batch_not_cancellable`).", body = ErrorResponse),
    ),
)]
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
            code: ErrorCode::BatchNotCancellable,
        }),
    }
}
