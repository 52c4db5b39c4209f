//! `GET|HEAD /v1/videos/{id}/content`: media streamed from the blob store, with `ETag`,
//! `Accept-Ranges` and single `Range` requests (browsers seek in MP4s with them).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kinora_core::{ErrorCode, VideoStatus};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::jobs::media::{Variant, blob_key};
use crate::routes::videos::load;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// Which file: `video` (MP4, the default), `thumbnail` (WebP) or `spritesheet` (JPEG).
    #[param(value_type = Option<crate::openapi::bodies::ContentVariant>)]
    pub variant: Option<String>,
}

/// Download a video's media
///
/// Streams the MP4, thumbnail or spritesheet of a completed video. Supports `HEAD`,
/// `If-None-Match` (304) and one `Range` (206; `If-Range` honoured).
#[utoipa::path(
    method(get, head),
    path = "/v1/videos/{video_id}/content",
    operation_id = "download_video_content",
    tag = "Videos",
    params(
        ("video_id" = String, Path, description = "The video's id (`video_...`)."),
        ContentQuery,
        ("Range" = Option<String>, Header, description = "One `bytes=` range."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before."),
        ("If-Range" = Option<String>, Header, description = "Honour `Range` only if the `ETag` still matches."),
    ),
    responses(
        (status = 200, description = "The whole file.", content(
            (crate::openapi::bodies::Media = "video/mp4"),
            (crate::openapi::bodies::Media = "image/webp"),
            (crate::openapi::bodies::Media = "image/jpeg"),
        ), headers(
            ("Content-Length" = u64),
            ("ETag" = String),
            ("Accept-Ranges" = String, description = "`bytes`."),
            ("Last-Modified" = String),
        )),
        (status = 206, description = "The requested range.", content(
            (crate::openapi::bodies::Media = "video/mp4"),
            (crate::openapi::bodies::Media = "image/webp"),
            (crate::openapi::bodies::Media = "image/jpeg"),
        ), headers(
            ("Content-Range" = String, description = "`bytes START-END/SIZE`."),
            ("Content-Length" = u64),
            ("ETag" = String),
        )),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 400, description = "Bad `variant`, or the video is not completed (`video_not_ready`, `video_failed`).", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such video in this project.", body = ErrorResponse),
        (status = 410, description = "The media expired and was deleted (`video_expired`).", body = ErrorResponse),
        (status = 416, description = "The range lies outside the file.", body = ErrorResponse),
    ),
)]
pub async fn download(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
    Query(q): Query<ContentQuery>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let variant = match q.variant.as_deref() {
        None => Variant::Video,
        Some(v) => Variant::parse(v).ok_or_else(|| {
            ApiError::invalid(
                "variant",
                ErrorCode::InvalidVariant,
                format!("variant must be one of 'video', 'thumbnail', 'spritesheet'; got '{v}'."),
            )
        })?,
    };
    let r = load(&state, &project, &id).await?;
    match r.status {
        VideoStatus::Completed => {}
        VideoStatus::Queued | VideoStatus::InProgress => {
            return Err(ApiError::invalid(
                "video_id",
                ErrorCode::VideoNotReady,
                format!(
                    "Video '{id}' is {} ({}% done); its content is available once it is completed.",
                    r.status.as_str(),
                    r.progress
                ),
            ));
        }
        VideoStatus::Failed => {
            return Err(ApiError::invalid(
                "video_id",
                ErrorCode::VideoFailed,
                format!("Video '{id}' failed and has no content."),
            ));
        }
        VideoStatus::Expired => {
            return Err(ApiError::Gone(format!(
                "The content of video '{id}' has expired and was deleted."
            )));
        }
    }
    let key = blob_key(&id, variant);
    let meta = state
        .blobs
        .head(&key)
        .await?
        .ok_or_else(|| ApiError::internal(format!("completed video {id} has no blob {key}")))?;
    let etag = format!("\"{}\"", meta.etag.trim_matches('"'));

    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok(with_common(
            StatusCode::NOT_MODIFIED.into_response(),
            &etag,
            variant,
        ));
    }

    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(raw) if if_range_matches(&headers, &etag) => parse_range(raw, meta.size)?,
        _ => None,
    };
    let (status, start, end) = match range {
        Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e),
        None => (StatusCode::OK, 0, meta.size),
    };
    let body = if method == Method::HEAD || meta.size == 0 {
        Body::empty()
    } else {
        let stream = state
            .blobs
            .get_range(&key, range.map(|(s, e)| s..e))
            .await?;
        Body::from_stream(stream)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{}", end - 1, meta.size))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(meta.last_modified.max(0) as u64),
    )) {
        h.insert(header::LAST_MODIFIED, v);
    }
    Ok(with_common(resp, &etag, variant))
}

fn with_common(mut resp: Response, etag: &str, variant: Variant) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(variant.content_type()),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    resp
}

/// `If-Range` with a different ETag means "the file changed; send it whole".
fn if_range_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag)
}

/// One `bytes=` range as a half-open interval. Multiple ranges are answered whole (allowed by
/// RFC 9110), which every MP4 player handles; so is a Range that does not parse (`bytes=abc`,
/// `bytes=5-2`), which RFC 9110 says to ignore. Only a well-formed range that starts past the
/// end (or asks for the last 0 bytes) is unsatisfiable (416).
pub fn parse_range(raw: &str, size: u64) -> ApiResult<Option<(u64, u64)>> {
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().unwrap_or(u64::MAX))
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (number(a), number(b)) {
        (None, Some(0)) if a.is_empty() => return Err(ApiError::RangeNotSatisfiable(size)),
        (None, Some(n)) if a.is_empty() => (size.saturating_sub(n), size),
        (Some(start), None) if b.is_empty() => (start, size),
        // A last byte position past the end means "to the end" (it may be u64::MAX).
        (Some(start), Some(last)) if last >= start => (start, last.saturating_add(1).min(size)),
        _ => return Ok(None),
    };
    if range.0 >= size {
        return Err(ApiError::RangeNotSatisfiable(size));
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000).unwrap(), Some((0, 100)));
        assert_eq!(parse_range("bytes=500-", 1000).unwrap(), Some((500, 1000)));
        assert_eq!(parse_range("bytes=-100", 1000).unwrap(), Some((900, 1000)));
        assert_eq!(
            parse_range("bytes=5-18446744073709551615", 1000).unwrap(),
            Some((5, 1000))
        );
        assert_eq!(
            parse_range("bytes=990-2000", 1000).unwrap(),
            Some((990, 1000))
        );
        assert_eq!(parse_range("bytes=0-1,5-6", 1000).unwrap(), None);
        assert_eq!(parse_range("items=0-1", 1000).unwrap(), None);
        assert!(parse_range("bytes=1000-", 1000).is_err());
        assert!(parse_range("bytes=-0", 1000).is_err());
        // Ranges that do not parse are ignored (RFC 9110), not refused.
        assert_eq!(parse_range("bytes=5-2", 1000).unwrap(), None);
        assert_eq!(parse_range("bytes=abc", 1000).unwrap(), None);
        assert_eq!(parse_range("bytes=1-x", 1000).unwrap(), None);
    }
}
