//! `POST /v1/videos`: parse, validate against the catalogue, store inputs, enqueue.

use axum::extract::{Request, State};
use axum::response::Response;
use kinora_core::{ErrorCode, JobSpec, Seconds, VideoSize, ids};

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::form::{Form, Text};
use crate::openapi::bodies::{CreateVideoForm, CreateVideoJson};
use crate::reference;
use crate::routes::enqueue::{Job, enqueue, idempotency, seed_or_random};
use crate::state::AppState;
use crate::view::VideoView;

/// At most this many characters in one video (the contract's "up to two").
pub const MAX_CHARACTERS: usize = 2;
pub const MAX_PROMPT_CHARS: usize = 32_000;

pub fn prompt(p: &str) -> ApiResult<String> {
    if p.trim().is_empty() {
        return Err(ApiError::invalid(
            "prompt",
            ErrorCode::MissingPrompt,
            "prompt is required and must not be empty.",
        ));
    }
    if p.chars().count() > MAX_PROMPT_CHARS {
        return Err(ApiError::invalid(
            "prompt",
            ErrorCode::PromptTooLong,
            format!("prompt must be at most {MAX_PROMPT_CHARS} characters."),
        ));
    }
    Ok(p.to_string())
}

pub fn seconds(raw: Option<&Text>, default: Option<Seconds>) -> ApiResult<Seconds> {
    match raw.map(Text::as_str) {
        None | Some("") => default.ok_or_else(|| {
            ApiError::invalid("seconds", ErrorCode::MissingSeconds, "seconds is required.")
        }),
        Some(raw) => Seconds::parse_wire(raw).ok_or_else(|| {
            ApiError::invalid(
                "seconds",
                ErrorCode::InvalidSeconds,
                format!(
                    "seconds must be one of \"4\", \"8\", \"12\", \"16\", \"20\"; got '{raw}'."
                ),
            )
        }),
    }
}

/// Refuses, before anything is stored or charged, a prompt the built-in engine understands
/// less of than the operator's `engine.min_coverage` (0, the default, accepts every prompt).
fn check_coverage(state: &AppState, model: &str, prompt: &str, names: &[String]) -> ApiResult<()> {
    let min = state.settings.engine.min_coverage;
    if min <= 0.0 || !crate::interpretation::is_builtin(state, model) {
        return Ok(());
    }
    let reading = kinora_render::interpret(prompt, names);
    if reading.coverage >= min {
        return Ok(());
    }
    Err(ApiError::invalid(
        "prompt",
        ErrorCode::PromptNotUnderstood,
        format!(
            "The built-in engine understood {:.0}% of this prompt's words (this server asks for \
             at least {:.0}%); it could not draw: {}. See docs/engine.md for what it can draw.",
            reading.coverage * 100.0,
            min * 100.0,
            reading.ignored.join(", ")
        ),
    ))
}

/// Create a video
///
/// Validates the request against the model catalogue, stores its inputs and queues the job; the
/// answer is the `queued` video. JSON and multipart carry the same fields (the SDKs send
/// multipart, with bracketed keys for nested values).
#[utoipa::path(
    post,
    path = "/v1/videos",
    operation_id = "create_video",
    tag = "Videos",
    params(crate::openapi::IdempotencyKeyHeader),
    request_body(content(
        (CreateVideoJson = "application/json"),
        (CreateVideoForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The queued video.", body = VideoView, headers(
            ("openai-poll-after-ms" = u64, description = "How long to wait before polling."),
            ("idempotent-replayed" = String, description = "`true` when an `Idempotency-Key` replayed an earlier answer."),
        )),
        (status = 400, description = "Invalid field; `param` names it (`prompt`, `model`, `size`, `seconds`, `input_reference`, `characters`, `seed`). `prompt_not_understood`: the built-in engine understood less of the prompt than the server's `engine.min_coverage`; nothing is created or charged.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 409, description = "The `Idempotency-Key` was used with a different body.", body = ErrorResponse),
        (status = 413, description = "The body is larger than the server accepts.", body = ErrorResponse),
        (status = 415, description = "Neither JSON nor multipart.", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    project: Project,
    req: Request,
) -> ApiResult<Response> {
    let headers = req.headers().clone();
    let mut form = Form::from_request(req, &state.tmp_dir).await?;
    let idem = idempotency(&headers, "videos", &form.digest_hex())?;
    let job = resolve(&state, &project.0, &mut form, ids::video_id()).await?;
    enqueue(&state, job, idem).await
}

/// The file parts `POST /v1/videos` takes.
pub(crate) const FILES: [&str; 1] = [reference::PARAM];

/// Everything `POST /v1/videos` checks and stores before enqueuing, shared with batch lines so
/// a line gets exactly the error the endpoint would give.
pub async fn resolve(
    state: &AppState,
    project: &str,
    form: &mut Form,
    id: String,
) -> ApiResult<Job> {
    let req: CreateVideoJson = form.fields(&FILES)?;
    let prompt = prompt(&req.prompt)?;
    let model = state.catalogue.resolve(req.model.as_deref())?.clone();
    let seconds = seconds(req.seconds.as_ref(), Some(Seconds::DEFAULT))?;
    model.check_seconds(seconds)?;
    let size = match req.size.as_deref() {
        None | Some("") => VideoSize::new(720, 1280),
        Some(raw) => raw.parse::<VideoSize>().map_err(|e| {
            ApiError::invalid("size", ErrorCode::InvalidSize, format!("{e}; got '{raw}'."))
        })?,
    };
    model.check_size(size)?;
    let seed = seed_or_random(req.seed.as_ref())?;

    let character_ids: Vec<String> = req
        .characters
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    if character_ids.len() > MAX_CHARACTERS {
        return Err(ApiError::invalid(
            "characters",
            ErrorCode::TooManyCharacters,
            format!(
                "A video can include at most {MAX_CHARACTERS} characters; got {}.",
                character_ids.len()
            ),
        ));
    }
    let lower_prompt = prompt.to_lowercase();
    let mut names = Vec::new();
    for cid in &character_ids {
        let found = if ids::looks_like(cid, "char_") {
            state.store.get_character(project, cid).await?
        } else {
            None
        };
        let c = found.ok_or_else(|| {
            ApiError::invalid(
                "characters",
                ErrorCode::CharacterNotFound,
                format!("No character found with id '{cid}'."),
            )
        })?;
        if !lower_prompt.contains(&c.name.to_lowercase()) {
            return Err(ApiError::invalid(
                "characters",
                ErrorCode::CharacterNotInPrompt,
                format!(
                    "The prompt must mention character '{}' ({}) by name; the id alone does not place it in the scene.",
                    c.name, c.id
                ),
            ));
        }
        names.push(c.name.to_lowercase());
    }
    check_coverage(state, &model.id, &prompt, &names)?;

    let input_reference =
        reference::take(state, project, form, req.input_reference, size, &id).await?;
    Ok(Job {
        id,
        project: project.to_string(),
        model: model.id.clone(),
        prompt,
        size,
        seconds: seconds.get(),
        seed,
        spec: JobSpec::Create {
            input_reference,
            characters: character_ids,
        },
        remixed_from_video_id: None,
    })
}
