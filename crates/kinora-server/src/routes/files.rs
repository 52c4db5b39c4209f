//! The Files API: `POST/GET /v1/files`, `GET/DELETE /v1/files/{id}`, `GET /v1/files/{id}/content`.
//!
//! Files hold batch input (JSONL) and images for `input_reference.file_id`; Kinora writes batch
//! output and error files here too (`purpose` `batch_output`). Bytes go to the blob store,
//! streamed from the upload's temporary file; the record is written only once they are stored.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kinora_core::{ErrorCode, clock, ids};
use kinora_store::FileRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::form::{Form, Text};
use crate::routes::paging::{Cursor, ListQuery};
use crate::state::AppState;
use crate::view::{ListPage, list_view};

/// Purposes a client may upload with. `batch_output` is Kinora's to write.
pub const UPLOAD_PURPOSES: [&str; 3] = ["batch", "vision", "user_data"];
const MIN_EXPIRY: i64 = 3600;
const MAX_EXPIRY: i64 = 30 * 24 * 3600;

/// A file of the Files API.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    pub id: String,
    /// Always `file`.
    pub object: &'static str,
    pub bytes: u64,
    pub created_at: i64,
    /// Absent for a file that does not expire (OpenAI's document: an integer, never null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub filename: String,
    /// `batch`, `vision`, `user_data`, or `batch_output` for files Kinora wrote.
    pub purpose: String,
    /// Always `processed`: a file exists only once its bytes are stored.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileDeleted {
    pub id: String,
    pub object: &'static str,
    pub deleted: bool,
}

pub fn file_view(f: &FileRecord) -> FileView {
    FileView {
        id: f.id.clone(),
        object: "file",
        bytes: f.bytes,
        created_at: f.created_at,
        expires_at: f.expires_at,
        filename: f.filename.clone(),
        purpose: f.purpose.clone(),
        status: "processed",
        status_details: None,
    }
}

/// The file part `POST /v1/files` takes.
pub(crate) const FILES: [&str; 1] = ["file"];

/// The text fields of `POST /v1/files`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadFields {
    #[serde(default)]
    pub purpose: String,
    pub expires_after: Option<ExpiryFields>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpiryFields {
    pub anchor: Option<String>,
    pub seconds: Option<Text>,
}

/// `expires_after[seconds]`, 3600–2592000, sets the lifetime. `expires_after[anchor]` may be
/// left out: `created_at` is the only anchor there is, so either part alone is unambiguous
/// (the anchor alone keeps the default lifetime), and the document can say so.
fn requested_expiry(expiry: Option<ExpiryFields>) -> ApiResult<Option<i64>> {
    let Some(ExpiryFields { anchor, seconds }) = expiry else {
        return Ok(None);
    };
    if anchor.is_some_and(|a| a != "created_at") {
        return Err(ApiError::invalid(
            "expires_after.anchor",
            ErrorCode::InvalidExpiresAfter,
            "expires_after.anchor must be 'created_at'.",
        ));
    }
    let Some(seconds) = seconds else {
        return Ok(None);
    };
    Some(seconds.as_str())
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|s| (MIN_EXPIRY..=MAX_EXPIRY).contains(s))
        .map(Some)
        .ok_or_else(expiry_error)
}

fn expiry_error() -> ApiError {
    ApiError::invalid(
        "expires_after.seconds",
        ErrorCode::InvalidExpiresAfter,
        format!("expires_after.seconds must be an integer from {MIN_EXPIRY} to {MAX_EXPIRY}."),
    )
}

/// Upload a file
#[utoipa::path(
    post,
    path = "/v1/files",
    operation_id = "create_file",
    tag = "Files",
    request_body(content((crate::openapi::bodies::UploadFileForm = "multipart/form-data"))),
    responses(
        (status = 200, description = "The stored file.", body = FileView),
        (status = 400, description = "Missing file, bad purpose or expires_after; `param` names it.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 413, description = "Larger than `files.max_bytes`.", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    project: Project,
    req: Request,
) -> ApiResult<Response> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::invalid(
            "file",
            ErrorCode::MultipartRequired,
            "Upload files as multipart/form-data with 'file' and 'purpose'.",
        ));
    }
    let mut form = Form::from_request(req, &state.tmp_dir).await?;
    form.expect_file("file", "an uploaded file (a file part)")?;
    let fields: UploadFields = form.fields(&FILES)?;
    let purpose = fields.purpose;
    if !UPLOAD_PURPOSES.contains(&purpose.as_str()) {
        return Err(ApiError::invalid(
            "purpose",
            ErrorCode::InvalidPurpose,
            format!(
                "purpose must be one of {}; got '{purpose}'.",
                UPLOAD_PURPOSES.join(", ")
            ),
        ));
    }
    let expiry = requested_expiry(fields.expires_after)?;
    let upload = form.take_file("file").ok_or_else(|| {
        ApiError::invalid(
            "file",
            ErrorCode::MissingFile,
            "file (a file part) is required.",
        )
    })?;
    let max = state.settings.files.max_bytes;
    if upload.size as usize > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "The file is {} bytes; this server accepts files up to {max} bytes.",
            upload.size
        )));
    }
    if upload.size == 0 {
        return Err(ApiError::invalid(
            "file",
            ErrorCode::EmptyFile,
            "The file is empty.",
        ));
    }
    let filename = upload
        .filename
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "upload".to_string());
    let now = clock::now_unix();
    let lifetime = expiry.or(match purpose.as_str() {
        "batch" => Some(state.settings.files.batch_expires_seconds),
        _ => state.settings.files.default_expires_seconds,
    });
    let record = FileRecord {
        id: ids::file_id(),
        project: project.0,
        purpose,
        filename,
        bytes: upload.size,
        created_at: now,
        expires_at: lifetime.map(|s| now + s),
    };
    state
        .blobs
        .put_file(&record.blob_key(), upload.file.path())
        .await?;
    state.store.create_file(record.clone()).await?;
    Ok(Json(file_view(&record)).into_response())
}

/// Read as strings so a bad value gets the contract's 400 envelope instead of axum's rejection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilesQuery {
    /// The id of the last item of the previous page (its `last_id`); not empty.
    #[param(min_length = 1)]
    pub after: Option<String>,
    /// Page size, 1-10,000 (default 10,000), as in OpenAI's document.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    pub limit: Option<String>,
    /// By creation time; default `desc`.
    #[param(value_type = Option<crate::openapi::bodies::ListOrder>)]
    pub order: Option<String>,
    /// Only files with this purpose.
    pub purpose: Option<String>,
}

/// List files
#[utoipa::path(
    get,
    path = "/v1/files",
    operation_id = "list_files",
    tag = "Files",
    params(FilesQuery),
    responses(
        (status = 200, description = "A page of the project's files.", body = ListPage<FileView>),
        (status = 400, description = "Bad `limit`, `order` or `after`.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    project: Project,
    Query(q): Query<FilesQuery>,
) -> ApiResult<Response> {
    // OpenAI's document: 1-10,000, default 10,000.
    let bounds = crate::routes::paging::Limits {
        min: 1,
        max: 10_000,
        default: 10_000,
    };
    let cursor = Cursor::parse_within(
        &ListQuery {
            after: q.after,
            limit: q.limit,
            order: q.order,
        },
        bounds,
    )?;
    if q.purpose.as_deref() == Some("") {
        return Err(ApiError::invalid(
            "purpose",
            ErrorCode::EmptyValue,
            "purpose was given without a value; omit it or give one.",
        ));
    }
    let purpose = q.purpose;
    let page = state
        .store
        .list_files(
            &project.0,
            purpose.as_deref(),
            cursor.after.as_deref(),
            cursor.fetch_limit(),
            cursor.order,
        )
        .await;
    let page = cursor.finish(page, "file")?;
    let views: Vec<_> = page.items.iter().map(file_view).collect();
    Ok(Json(list_view(&views, page.has_more, |v| v.id.as_str())).into_response())
}

/// The live file `id` of `project`, or a 404.
pub async fn find(state: &AppState, project: &str, id: &str) -> ApiResult<FileRecord> {
    let found = if ids::looks_like(id, "file-") {
        state.store.get_file(project, id, clock::now_unix()).await?
    } else {
        None
    };
    found.ok_or_else(|| ApiError::not_found("file", id))
}

/// Retrieve a file
#[utoipa::path(
    get,
    path = "/v1/files/{file_id}",
    operation_id = "retrieve_file",
    tag = "Files",
    params(("file_id" = String, Path, description = "The file's id (`file-...`).")),
    responses(
        (status = 200, description = "The file.", body = FileView),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such file in this project.", body = ErrorResponse),
    ),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let f = find(&state, &project.0, &id).await?;
    Ok(Json(file_view(&f)).into_response())
}

/// Delete a file
#[utoipa::path(
    delete,
    path = "/v1/files/{file_id}",
    operation_id = "delete_file",
    tag = "Files",
    params(("file_id" = String, Path, description = "The file's id (`file-...`).")),
    responses(
        (status = 200, description = "The file is gone.", body = FileDeleted),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such file in this project.", body = ErrorResponse),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    find(&state, &project.0, &id).await?;
    let f = state
        .store
        .delete_file(&project.0, &id, clock::now_unix())
        .await?
        .ok_or_else(|| ApiError::not_found("file", &id))?;
    // The record is gone first; bytes the blob store refuses to drop now are retried later.
    crate::jobs::media::delete_blobs(&state, &f.blob_prefix()).await;
    Ok(Json(FileDeleted {
        id: f.id,
        object: "file",
        deleted: true,
    })
    .into_response())
}

/// Download a file's bytes
#[utoipa::path(
    get,
    path = "/v1/files/{file_id}/content",
    operation_id = "download_file",
    tag = "Files",
    params(("file_id" = String, Path, description = "The file's id (`file-...`).")),
    responses(
        (status = 200, description = "The bytes: `application/jsonl` for batch files, else `application/octet-stream`.",
            content(
            (crate::openapi::bodies::Media = "application/octet-stream"),
            (crate::openapi::bodies::Media = "application/jsonl"),
        )),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such file in this project.", body = ErrorResponse),
    ),
)]
pub async fn content(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let f = find(&state, &project.0, &id).await?;
    let stream = state.blobs.get_range(&f.blob_key(), None).await?;
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(f.bytes));
    let ct = if f.filename.ends_with(".jsonl") || f.purpose.starts_with("batch") {
        "application/jsonl"
    } else {
        "application/octet-stream"
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        f.filename.replace(['"', '\\', '\r', '\n'], "_")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
