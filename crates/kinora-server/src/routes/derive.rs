//! Videos made from other videos: `POST /v1/videos/extensions`, `POST /v1/videos/edits` and the
//! legacy `POST /v1/videos/{id}/remix`.

use axum::extract::{Path, Request, State};
use axum::http::HeaderValue;
use axum::response::Response;
use kinora_core::{ErrorCode, JobSpec, Seconds, SourceVideo, VideoSize, VideoStatus, ids};
use kinora_store::VideoRecord;

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::form::{Form, Text, Upload};
use crate::openapi::IdempotencyKeyHeader;
use crate::openapi::bodies::{
    EditVideoForm, EditVideoJson, ExtendVideoForm, ExtendVideoJson, RemixVideoBody, VideoRef,
};
use crate::routes::create::{prompt, seconds};
use crate::routes::enqueue::{Job, enqueue, idempotency, seed_or_random};
use crate::routes::videos::load;
use crate::state::AppState;
use crate::view::VideoView;

/// An extension chain may hold at most this many extensions (the contract's "six times").
pub const MAX_EXTENSIONS: u32 = 6;

/// The clip a derived video starts from.
enum Source {
    Stored(Box<VideoRecord>),
    Uploaded {
        key: String,
        size: VideoSize,
        seconds: u32,
    },
}

async fn source(
    state: &AppState,
    project: &Project,
    form: &mut Form,
    video: Option<VideoRef>,
    new_id: &str,
) -> ApiResult<Source> {
    let by_id = video.map(|v| v.id);
    let upload = form.take_file("video");
    match (by_id, upload) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "video",
            ErrorCode::InvalidVideo,
            "Provide either video.id or an uploaded video, not both.",
        )),
        (None, None) => Err(ApiError::invalid(
            "video",
            ErrorCode::MissingVideo,
            "video is required: {\"id\": \"video_...\"} of a completed video, or an uploaded MP4.",
        )),
        (Some(id), None) => {
            // Only a missing video is the request's fault; a storage outage stays a 503.
            let r = load(state, project, &id).await.map_err(|e| match e {
                ApiError::NotFound { .. } => ApiError::invalid(
                    "video",
                    ErrorCode::VideoNotFound,
                    format!("No video found with id '{id}'."),
                ),
                other => other,
            })?;
            if r.status != VideoStatus::Completed {
                return Err(ApiError::invalid(
                    "video",
                    ErrorCode::VideoNotCompleted,
                    format!(
                        "Video '{id}' is {}; only completed videos can be extended, edited or remixed.",
                        r.status.as_str()
                    ),
                ));
            }
            Ok(Source::Stored(Box::new(r)))
        }
        (None, Some(up)) => uploaded(state, up, new_id).await,
    }
}

async fn uploaded(state: &AppState, up: Upload, new_id: &str) -> ApiResult<Source> {
    let path = up.file.path().to_path_buf();
    let shown = path.display().to_string();
    let info = tokio::task::spawn_blocking(move || kinora_media::probe(&path))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            // The upload's scratch path is the server's business, not the client's.
            let reason = match e {
                kinora_media::MediaError::InvalidInput(m)
                | kinora_media::MediaError::Unsupported(m) => m.replace(&shown, "the upload"),
                _ => "it is not a video this server can decode".to_string(),
            };
            ApiError::invalid(
                "video",
                ErrorCode::InvalidVideo,
                format!(
                    "The uploaded video could not be read: {}.",
                    crate::error::without_paths(&reason)
                ),
            )
        })?;
    if info.frames == 0 || info.duration_s <= 0.0 {
        return Err(ApiError::invalid(
            "video",
            ErrorCode::InvalidVideo,
            "The uploaded video has no frames.",
        ));
    }
    if info.width % 2 == 1
        || info.height % 2 == 1
        || info.width < 64
        || info.height < 64
        || info.width > 1920
        || info.height > 1920
    {
        return Err(ApiError::invalid(
            "video",
            ErrorCode::InvalidVideoSize,
            format!(
                "The uploaded video is {}x{}; sizes must be even and between 64 and 1920 pixels a side.",
                info.width, info.height
            ),
        ));
    }
    let seconds = info.duration_s.round().max(1.0) as u32;
    if seconds > Seconds::MAX_TOTAL {
        return Err(ApiError::invalid(
            "video",
            ErrorCode::VideoTooLong,
            format!(
                "The uploaded video is longer than {} s.",
                Seconds::MAX_TOTAL
            ),
        ));
    }
    let key = format!("inputs/{new_id}/source.mp4");
    state.blobs.put_file(&key, up.file.path()).await?;
    Ok(Source::Uploaded {
        key,
        size: VideoSize::new(info.width, info.height),
        seconds,
    })
}

/// The file part extensions and edits take: the source as an uploaded clip, instead of
/// `video[id]`. (`model` and `seed` in their bodies are for an uploaded source and Kinora's seed
/// extension; the SDK sends them through `extra_body`.)
pub(crate) const FILES: [&str; 1] = ["video"];

/// A field the operation documents elsewhere but cannot honour, refused by name before the
/// body is parsed (so it is not mistaken for an unknown one).
fn forbid(form: &Form, param: &str, what: &str) -> ApiResult<()> {
    if form.has(param) {
        return Err(ApiError::invalid(
            param,
            ErrorCode::UnsupportedParameter,
            format!("{param} is not supported by {what}."),
        ));
    }
    Ok(())
}

/// Extend a video
///
/// Continues a completed clip (by id, or an uploaded MP4) by `seconds`; the new video's `seconds`
/// is the stitched total. At most six extensions in a chain and 120 s in all; `characters` and
/// `input_reference` are refused.
#[utoipa::path(
    post,
    path = "/v1/videos/extensions",
    operation_id = "extend_video",
    tag = "Videos",
    params(IdempotencyKeyHeader),
    request_body(content(
        (ExtendVideoJson = "application/json"),
        (ExtendVideoForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The queued extension.", body = VideoView),
        (status = 400, description = "Invalid field, unfinished or unknown source, too many extensions or too long (`param` says which).", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 409, description = "The `Idempotency-Key` was used with a different body.", body = ErrorResponse),
        (status = 413, description = "The body is larger than the server accepts.", body = ErrorResponse),
        (status = 415, description = "Neither JSON nor multipart.", body = ErrorResponse),
    ),
)]
pub async fn extend(
    State(state): State<AppState>,
    project: Project,
    req: Request,
) -> ApiResult<Response> {
    let headers = req.headers().clone();
    let mut form = Form::from_request(req, &state.tmp_dir).await?;
    forbid(&form, "characters", "extensions")?;
    forbid(&form, "input_reference", "extensions")?;
    let req: ExtendVideoJson = form.fields(&FILES)?;
    let prompt = prompt(&req.prompt)?;
    let new_seconds = seconds(req.seconds.as_ref(), None)?.get();
    let seed = seed_or_random(req.seed.as_ref())?;
    let id = ids::video_id();
    let idem = idempotency(&headers, "extensions", &form.digest_hex())?;
    let (model, size, source_seconds, depth, src) =
        match source(&state, &project, &mut form, req.video, &id).await? {
            Source::Stored(r) => {
                let depth = match &r.spec {
                    JobSpec::Extend { chain_depth, .. } => chain_depth + 1,
                    _ => 1,
                };
                (
                    r.model.clone(),
                    r.size,
                    r.seconds,
                    depth,
                    SourceVideo::Video { id: r.id },
                )
            }
            Source::Uploaded { key, size, seconds } => {
                let model = state.catalogue.resolve(req.model.as_deref())?.id.clone();
                (
                    model,
                    size,
                    seconds,
                    1,
                    SourceVideo::Upload { blob_key: key },
                )
            }
        };
    if depth > MAX_EXTENSIONS {
        return Err(ApiError::invalid(
            "video",
            ErrorCode::TooManyExtensions,
            format!(
                "A video can be extended at most {MAX_EXTENSIONS} times; this one already has been."
            ),
        ));
    }
    let total = source_seconds + new_seconds;
    if total > Seconds::MAX_TOTAL {
        return Err(ApiError::invalid(
            "seconds",
            ErrorCode::VideoTooLong,
            format!(
                "Extending a {source_seconds} s video by {new_seconds} s would exceed the {} s maximum.",
                Seconds::MAX_TOTAL
            ),
        ));
    }
    let job = Job {
        id,
        project: project.0,
        model,
        prompt,
        size,
        seconds: total,
        seed,
        spec: JobSpec::Extend {
            source: src,
            new_seconds,
            chain_depth: depth,
        },
        remixed_from_video_id: None,
    };
    enqueue(&state, job, idem).await
}

/// Edit a video
///
/// Makes a new video of the same size and length from a completed one (by id, or an uploaded
/// MP4, which then needs `model`) with the change the prompt describes.
#[utoipa::path(
    post,
    path = "/v1/videos/edits",
    operation_id = "edit_video",
    tag = "Videos",
    params(IdempotencyKeyHeader),
    request_body(content(
        (EditVideoJson = "application/json"),
        (EditVideoForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The queued edit.", body = VideoView),
        (status = 400, description = "Invalid field or unfinished or unknown source (`param` says which).", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 409, description = "The `Idempotency-Key` was used with a different body.", body = ErrorResponse),
        (status = 413, description = "The body is larger than the server accepts.", body = ErrorResponse),
        (status = 415, description = "Neither JSON nor multipart.", body = ErrorResponse),
    ),
)]
pub async fn edit(
    State(state): State<AppState>,
    project: Project,
    req: Request,
) -> ApiResult<Response> {
    let headers = req.headers().clone();
    let mut form = Form::from_request(req, &state.tmp_dir).await?;
    let req: EditVideoJson = form.fields(&FILES)?;
    let prompt = prompt(&req.prompt)?;
    let seed = seed_or_random(req.seed.as_ref())?;
    let id = ids::video_id();
    let idem = idempotency(&headers, "edits", &form.digest_hex())?;
    let (model, size, secs, src, seed) =
        match source(&state, &project, &mut form, req.video, &id).await? {
            // An edit of a stored video keeps its seed unless one is given, so "the same scene with
            // one change" really is the same scene.
            Source::Stored(r) => {
                let seed = if req.seed.is_some() { seed } else { r.seed };
                (
                    r.model.clone(),
                    r.size,
                    r.seconds,
                    SourceVideo::Video { id: r.id },
                    seed,
                )
            }
            Source::Uploaded { key, size, seconds } => {
                let Some(m) = req.model.as_deref().filter(|m| !m.is_empty()) else {
                    return Err(ApiError::invalid(
                        "model",
                        ErrorCode::MissingModel,
                        "model is required when editing an uploaded video.",
                    ));
                };
                let model = state.catalogue.resolve(Some(m))?.id.clone();
                (
                    model,
                    size,
                    seconds,
                    SourceVideo::Upload { blob_key: key },
                    seed,
                )
            }
        };
    let strength_milli = edit_strength(&state, req.edit_strength.as_ref(), &model)?;
    let job = Job {
        id,
        project: project.0,
        model,
        prompt,
        size,
        seconds: secs,
        seed,
        spec: JobSpec::Edit {
            source: src,
            strength_milli,
        },
        remixed_from_video_id: None,
    };
    enqueue(&state, job, idem).await
}

/// `edit_strength` in thousandths: a number in (0, 1], for a model that renders by diffusion.
/// The built-in engine applies a change whole; taking the number and ignoring it would be a
/// silent substitution, so it is refused there.
fn edit_strength(state: &AppState, raw: Option<&Text>, model: &str) -> ApiResult<Option<u16>> {
    let Some(raw) = raw.map(Text::as_str) else {
        return Ok(None);
    };
    let invalid =
        |message: &str| ApiError::invalid("edit_strength", ErrorCode::InvalidEditStrength, message);
    let value: f64 = raw
        .trim()
        .parse()
        .map_err(|_| invalid("edit_strength must be a number in (0, 1]."))?;
    if !(value > 0.0 && value <= 1.0) {
        return Err(invalid("edit_strength must be a number in (0, 1]."));
    }
    if crate::interpretation::is_builtin(state, model) {
        return Err(ApiError::invalid(
            "edit_strength",
            ErrorCode::UnsupportedParameter,
            format!(
                "Model '{model}' is the built-in engine, which applies each change whole; \
                 edit_strength is for diffusion models served by GPU workers."
            ),
        ));
    }
    // At least one thousandth: a tiny positive strength must not round to "no edit".
    Ok(Some(((value * 1000.0).round() as u16).clamp(1, 1000)))
}

/// Remix a video (deprecated)
///
/// Superseded by `POST /v1/videos/edits`; kept for old code. The new video's
/// `remixed_from_video_id` is the source.
#[utoipa::path(
    post,
    path = "/v1/videos/{video_id}/remix",
    operation_id = "remix_video",
    tag = "Videos",
    params(
        ("video_id" = String, Path, description = "The completed video to remix."),
        IdempotencyKeyHeader,
    ),
    request_body(content(
        (RemixVideoBody = "application/json"),
        (RemixVideoBody = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The queued remix.", body = VideoView, headers(
            ("deprecation" = String, description = "RFC 9745: `@1773273600` (2026-03-12)."),
            ("link" = String, description = "`</v1/videos/edits>; rel=\"successor-version\"`."),
        )),
        (status = 400, description = "Missing prompt, or the source is not completed.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such video in this project.", body = ErrorResponse),
        (status = 409, description = "The `Idempotency-Key` was used with a different body.", body = ErrorResponse),
    ),
)]
pub async fn remix(
    State(state): State<AppState>,
    project: Project,
    Path(source_id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let headers = req.headers().clone();
    let form = Form::from_request(req, &state.tmp_dir).await?;
    let body: RemixVideoBody = form.fields(&[])?;
    let prompt = prompt(&body.prompt)?;
    let r = load(&state, &project, &source_id).await?;
    if r.status != VideoStatus::Completed {
        return Err(ApiError::invalid(
            "video_id",
            ErrorCode::VideoNotCompleted,
            format!(
                "Video '{source_id}' is {}; only completed videos can be remixed.",
                r.status.as_str()
            ),
        ));
    }
    let idem = idempotency(&headers, &format!("remix:{source_id}"), &form.digest_hex())?;
    let job = Job {
        id: ids::video_id(),
        project: project.0,
        model: r.model.clone(),
        prompt,
        size: r.size,
        seconds: r.seconds,
        seed: r.seed,
        spec: JobSpec::Remix {
            source: SourceVideo::Video { id: r.id.clone() },
        },
        remixed_from_video_id: Some(r.id),
    };
    let mut resp = enqueue(&state, job, idem).await?;
    // RFC 9745: deprecated since the edits endpoint replaced it (2026-03-12).
    let h = resp.headers_mut();
    h.insert("deprecation", HeaderValue::from_static("@1773273600"));
    h.insert(
        "link",
        HeaderValue::from_static("</v1/videos/edits>; rel=\"successor-version\""),
    );
    Ok(resp)
}
