//! Characters: `POST /v1/videos/characters` (multipart `video` + `name`), `GET …/{id}`, and, beyond
//! the contract, list and delete. The cutout is extracted at creation time, so a character that
//! exists is always usable.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use kinora_core::{ErrorCode, clock, ids};
use kinora_render::{CharacterInfo, RenderError};
use kinora_store::CharacterRecord;

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::form::Form;
use crate::jobs::inputs::character_manifest_key;
use crate::openapi::bodies::CreateCharacterForm;
use crate::routes::paging::{Cursor, ListQuery};
use crate::state::AppState;
use crate::view::{CharacterDeleted, CharacterView, ListPage, character_view, list_view};

pub const MAX_NAME_CHARS: usize = 80;
/// The file part `POST /v1/videos/characters` takes: the clip.
pub(crate) const FILES: [&str; 1] = ["video"];

/// The text fields of `POST /v1/videos/characters` (the clip is the `video` file part).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CharacterFields {
    #[serde(default)]
    pub name: String,
}

/// Create a character
///
/// Cuts a reusable character out of a short uploaded clip; prompts that name it (with its id in
/// `characters`) place it in the scene.
#[utoipa::path(
    post,
    path = "/v1/videos/characters",
    operation_id = "create_character",
    tag = "Characters",
    request_body(content((CreateCharacterForm = "multipart/form-data"))),
    responses(
        (status = 200, description = "The character.", body = CharacterView),
        (status = 400, description = "Not multipart, a bad `name`, or a clip that cannot be used (`param` says which).", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 413, description = "The body is larger than the server accepts.", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    project: Project,
    req: Request,
) -> ApiResult<Response> {
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::invalid(
            "video",
            ErrorCode::MultipartRequired,
            "Characters are created from an uploaded clip: send multipart/form-data with 'video' and 'name'.",
        ));
    }
    let mut form = Form::from_request(req, &state.tmp_dir).await?;
    form.expect_file("video", "an uploaded clip (a file part)")?;
    let fields: CharacterFields = form.fields(&FILES)?;
    let name = fields.name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            "name",
            ErrorCode::InvalidName,
            format!("name is required and must be 1-{MAX_NAME_CHARS} characters."),
        ));
    }
    let upload = form.take_file("video").ok_or_else(|| {
        ApiError::invalid(
            "video",
            ErrorCode::MissingVideo,
            "video (a clip of 2-4 s: MP4, MOV, WebM or MKV) is required.",
        )
    })?;
    let id = ids::character_id();
    let scratch = tempfile::TempDir::new_in(&state.tmp_dir).map_err(ApiError::internal)?;
    let out_dir = scratch.path().join("character");
    std::fs::create_dir_all(&out_dir).map_err(ApiError::internal)?;
    let (clip, n, dir) = (
        upload.file.path().to_path_buf(),
        name.clone(),
        out_dir.clone(),
    );
    let info =
        tokio::task::spawn_blocking(move || kinora_render::extract_character(&clip, &n, &dir))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| match e {
                RenderError::SubjectNotFound => ApiError::invalid(
                    "video",
                    ErrorCode::CharacterNotFound,
                    kinora_render::CHARACTER_NOT_FOUND,
                ),
                RenderError::InvalidInput { message, .. } => ApiError::invalid(
                    "video",
                    ErrorCode::InvalidVideo,
                    crate::error::without_paths(&message),
                ),
                RenderError::Media(m) => ApiError::invalid(
                    "video",
                    ErrorCode::InvalidVideo,
                    format!(
                        "The clip could not be decoded: {}",
                        crate::error::media_reason(&m)
                    ),
                ),
                other => ApiError::internal(other),
            })?;

    let mut names = Vec::new();
    let mut entries = tokio::fs::read_dir(&out_dir)
        .await
        .map_err(ApiError::internal)?;
    while let Some(entry) = entries.next_entry().await.map_err(ApiError::internal)? {
        let file_name = entry.file_name().to_string_lossy().to_string();
        state
            .blobs
            .put_file(&format!("characters/{id}/{file_name}"), &entry.path())
            .await?;
        names.push(file_name);
    }
    names.sort();
    let manifest = serde_json::to_vec(&names).map_err(ApiError::internal)?;
    state
        .blobs
        .put_bytes(&character_manifest_key(&id), Bytes::from(manifest))
        .await?;
    let record = CharacterRecord {
        id,
        project: project.0,
        name,
        created_at: clock::now_unix(),
        width: info.width,
        height: info.height,
    };
    state.store.create_character(record.clone()).await?;
    Ok(Json(character_view(&record, Some(&info))).into_response())
}

/// The character's `character.json` (its bbox and confidence); absent for characters made
/// before it carried them, or when the blob cannot be read.
async fn found(state: &AppState, id: &str) -> Option<CharacterInfo> {
    let bytes = state
        .blobs
        .get_bytes(&format!("characters/{id}/character.json"))
        .await
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

async fn load(state: &AppState, project: &Project, id: &str) -> ApiResult<CharacterRecord> {
    let found = if ids::looks_like(id, "char_") {
        state.store.get_character(&project.0, id).await?
    } else {
        None
    };
    found.ok_or_else(|| ApiError::not_found("character", id))
}

#[utoipa::path(
    get,
    path = "/v1/videos/characters/{character_id}",
    operation_id = "retrieve_character",
    tag = "Characters",
    params(("character_id" = String, Path, description = "The character's id (`char_...`).")),
    responses(
        (status = 200, description = "The character.", body = CharacterView),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such character in this project.", body = ErrorResponse),
    ),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = load(&state, &project, &id).await?;
    let info = found(&state, &c.id).await;
    Ok(Json(character_view(&c, info.as_ref())).into_response())
}

/// Download a character's cutout
///
/// Kinora extension: the cutout as a PNG (RGBA at the source frame's full size, transparent
/// outside the subject), so users see what prompts that name the character will draw.
#[utoipa::path(
    get,
    path = "/v1/videos/characters/{character_id}/content",
    operation_id = "download_character_content",
    tag = "Characters",
    params(("character_id" = String, Path, description = "The character's id (`char_...`).")),
    responses(
        (status = 200, description = "The cutout PNG.", content_type = "image/png", body = Vec<u8>),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such character in this project.", body = ErrorResponse),
    ),
)]
pub async fn content(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = load(&state, &project, &id).await?;
    let png = state
        .blobs
        .get_bytes(&format!("characters/{}/cutout.png", c.id))
        .await?;
    Ok(([(CONTENT_TYPE, "image/png")], png).into_response())
}

/// List characters
///
/// Kinora extension: OpenAI has no way to list characters.
#[utoipa::path(
    get,
    path = "/v1/videos/characters",
    operation_id = "list_characters",
    tag = "Characters",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of the project's characters.", body = ListPage<CharacterView>),
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
        .list_characters(
            &project.0,
            cursor.after.as_deref(),
            cursor.fetch_limit(),
            cursor.order,
        )
        .await;
    let page = cursor.finish(page, "character")?;
    let mut views = Vec::with_capacity(page.items.len());
    for c in &page.items {
        let info = found(&state, &c.id).await;
        views.push(character_view(c, info.as_ref()));
    }
    Ok(Json(list_view(&views, page.has_more, |v| v.id.as_str())).into_response())
}

/// Delete a character
///
/// Kinora extension: OpenAI has no way to delete characters.
#[utoipa::path(
    delete,
    path = "/v1/videos/characters/{character_id}",
    operation_id = "delete_character",
    tag = "Characters",
    params(("character_id" = String, Path, description = "The character's id (`char_...`).")),
    responses(
        (status = 200, description = "The character is gone.", body = CharacterDeleted),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such character in this project.", body = ErrorResponse),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    load(&state, &project, &id).await?;
    if !state.store.delete_character(&project.0, &id).await? {
        return Err(ApiError::not_found("character", &id));
    }
    crate::jobs::media::delete_blobs(&state, &format!("characters/{id}/")).await;
    Ok(Json(CharacterDeleted::new(id)).into_response())
}
