//! Reading, listing, cancelling and deleting videos.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use kinora_core::{ErrorCode, VideoStatus, clock};
use kinora_store::{CancelOutcome, VideoRecord};

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::interpretation;
use crate::routes::paging::{Cursor, ListQuery};
use crate::state::AppState;
use crate::view::{ListPage, VideoDeleted, VideoView, list_view};

/// The video as JSON, with its live queue position and the poll hint the SDK's `poll()` obeys.
pub async fn video_response(state: &AppState, r: &VideoRecord) -> ApiResult<Response> {
    // The position is a hint: when it cannot be read (storage blinking), the record is still
    // answered. A 503 here would tell a client whose create already committed to retry it.
    let position = if r.status == VideoStatus::Queued {
        let ranked = state
            .queue_ranks
            .position(&*state.store, &r.id, &|m| state.pool_of(m))
            .await;
        ranked.unwrap_or_else(|e| {
            tracing::warn!(video_id = %r.id, error = %e, "queue position unavailable");
            None
        })
    } else {
        None
    };
    let mut view = VideoView::from_record(r, position);
    view.interpretation = interpretation::of_record(state, r).await.map(Into::into);
    let mut resp = Json(view).into_response();
    if !r.status.is_terminal()
        && let Ok(v) = HeaderValue::from_str(&state.settings.poll_after_ms.to_string())
    {
        resp.headers_mut().insert("openai-poll-after-ms", v);
    }
    Ok(resp)
}

pub async fn load(state: &AppState, project: &Project, id: &str) -> ApiResult<VideoRecord> {
    if !kinora_core::ids::looks_like(id, "video_") {
        return Err(ApiError::not_found("video", id));
    }
    state
        .store
        .get_video(&project.0, id)
        .await?
        .ok_or_else(|| ApiError::not_found("video", id))
}

#[utoipa::path(
    get,
    path = "/v1/videos/{video_id}",
    operation_id = "retrieve_video",
    tag = "Videos",
    params(("video_id" = String, Path, description = "The video's id (`video_...`).")),
    responses(
        (status = 200, description = "The video.", body = VideoView, headers(
            ("openai-poll-after-ms" = u64, description = "While the job is unfinished: how long to wait before polling again."),
        )),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such video in this project.", body = ErrorResponse),
    ),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let r = load(&state, &project, &id).await?;
    video_response(&state, &r).await
}

#[utoipa::path(
    get,
    path = "/v1/videos",
    operation_id = "list_videos",
    tag = "Videos",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of the project's videos.", body = ListPage<VideoView>),
        (status = 400, description = "A bad `limit`, `order` or `after`.", body = ErrorResponse),
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
        .list_videos(
            &project.0,
            cursor.after.as_deref(),
            cursor.fetch_limit(),
            cursor.order,
        )
        .await;
    let page = cursor.finish(page, "video")?;
    let mut views = Vec::with_capacity(page.items.len());
    for r in &page.items {
        let position = if r.status == VideoStatus::Queued {
            state
                .queue_ranks
                .position(&*state.store, &r.id, &|m| state.pool_of(m))
                .await?
        } else {
            None
        };
        let mut view = VideoView::from_record(r, position);
        view.interpretation = interpretation::of_record(&state, r).await.map(Into::into);
        views.push(view);
    }
    Ok(Json(list_view(&views, page.has_more, |v| v.id.as_str())).into_response())
}

/// Kinora: stop a job. A queued job fails at once; a running one stops at its next frame.
#[utoipa::path(
    post,
    path = "/v1/videos/{video_id}/cancel",
    operation_id = "cancel_video",
    tag = "Videos",
    description = "Kinora extension. Stops a job: a queued one fails at once, a running one \
        within a second or two; either ends `failed` with `error.code` `cancelled`.",
    params(("video_id" = String, Path, description = "The video's id (`video_...`).")),
    responses(
        (status = 200, description = "The video, cancelled or about to be.", body = VideoView),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such video in this project.", body = ErrorResponse),
        (status = 409, description = "The video is already terminal (`video_not_cancellable`).", body = ErrorResponse),
    ),
)]
pub async fn cancel(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if !kinora_core::ids::looks_like(&id, "video_") {
        return Err(ApiError::not_found("video", &id));
    }
    match state
        .store
        .request_cancel(&project.0, &id, clock::now_unix())
        .await?
    {
        CancelOutcome::NotFound => Err(ApiError::not_found("video", &id)),
        CancelOutcome::AlreadyTerminal(r) => Err(ApiError::Conflict {
            message: format!(
                "Video '{}' is already {} and cannot be cancelled.",
                r.id,
                r.status.as_str()
            ),
            code: ErrorCode::VideoNotCancellable,
        }),
        CancelOutcome::Cancelled(r) => {
            state.metrics.jobs_cancelled.inc();
            state.progress.changed(&r.id);
            video_response(&state, &r).await
        }
        CancelOutcome::Requested(r) => {
            state.cancel_local(&r.id);
            video_response(&state, &r).await
        }
    }
}

#[utoipa::path(
    delete,
    path = "/v1/videos/{video_id}",
    operation_id = "delete_video",
    tag = "Videos",
    description = "Deletes a video and its media. An unfinished job is cancelled first.",
    params(("video_id" = String, Path, description = "The video's id (`video_...`).")),
    responses(
        (status = 200, description = "The video is gone.", body = VideoDeleted),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such video in this project.", body = ErrorResponse),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let r = load(&state, &project, &id).await?;
    if !r.status.is_terminal() {
        // Deleting unfinished work cancels it first, so no worker keeps rendering into a
        // video nobody can see.
        if let CancelOutcome::Requested(_) = state
            .store
            .request_cancel(&project.0, &id, clock::now_unix())
            .await?
        {
            state.cancel_local(&id);
        }
    }
    state
        .store
        .delete_video(&project.0, &id, clock::now_unix())
        .await?
        .ok_or_else(|| ApiError::not_found("video", &id))?;
    state.progress.changed(&id);
    crate::jobs::media::remove_video_blobs(&state, &id).await;
    Ok(Json(VideoDeleted::new(id)).into_response())
}
