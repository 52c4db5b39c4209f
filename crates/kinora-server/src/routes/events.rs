//! `GET /v1/videos/{id}/events`: a video's progress as Server-Sent Events (Kinora extension).

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use crate::auth::Project;
use crate::error::{ApiResult, ErrorResponse};
use crate::routes::videos::load;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/v1/videos/{video_id}/events",
    operation_id = "stream_video_events",
    tag = "Videos",
    description = "Kinora extension. Streams the video's progress as Server-Sent Events: one \
        `video.progress` event per change of `status`, `progress` or `queue_position`, then one \
        `video.completed` or `video.failed`, after which the stream ends. Every event's data is \
        the video object. Each event has an `id`; reconnecting with `Last-Event-ID` resumes \
        after it (within 30 s of the video ending). A finished video answers its final event \
        at once.",
    params(
        ("video_id" = String, Path, description = "The video's id (`video_...`)."),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event."),
    ),
    responses(
        (status = 200, description = "`text/event-stream` of `video.progress`, then \
            `video.completed` or `video.failed`; each event's data is a video object.",
            content_type = "text/event-stream", body = crate::openapi::bodies::VideoEvent),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such video in this project.", body = ErrorResponse),
    ),
)]
pub async fn stream(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    load(&state, &project, &id).await?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let events = state
        .progress
        .watch(&state, &project.0, &id, last)
        .map(|e| {
            Ok::<_, Infallible>(
                Event::default()
                    .id(e.id)
                    .event(e.name)
                    .data(e.data.as_ref()),
            )
        });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}
