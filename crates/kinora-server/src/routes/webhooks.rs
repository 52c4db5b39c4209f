//! Webhook endpoints, as the openai SDK's `client.webhooks` (3.51.0) calls them: create, list,
//! retrieve, update (`POST`, as the SDK sends it; `PATCH` too), delete, `rotate_secret`, `test`,
//! `GET /v1/webhook_event_types`; and the Kinora extension
//! `GET /v1/webhook_endpoints/{id}/deliveries`, the endpoint's delivery log.
//!
//! Endpoints belong to the key's project; another project's read as 404. Endpoints declared in
//! the settings file are listed like the others but refuse changes (409).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use kinora_core::{ErrorCode, clock, ids};
use kinora_store::{NewWebhookEndpoint, WebhookEndpointPatch, WebhookEndpointRecord};
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::auth::Project;
use crate::error::{ApiError, ApiResult, ErrorResponse};
use crate::routes::paging::{Cursor, ListQuery};
use crate::state::AppState;
use crate::view::{ListPage, list_view};
use crate::webhooks::sender::Reply;
use crate::webhooks::wire::{
    CreateWebhookEndpoint, DeliveryView, EndpointDeleted, EndpointView, EventTypeList,
    RotateWebhookSecret, TestResult, TestWebhookEndpoint, UpdateWebhookEndpoint,
};
use crate::webhooks::{EVENT_TYPES, check_event_types, check_url, signing};

const PREFIX: &str = "we_";
const MAX_NAME_CHARS: usize = 256;
const GRACE_SECONDS: i64 = 24 * 3600;

fn endpoint_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", hex::encode(bytes))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound {
        message: format!("No webhook endpoint found with id '{id}'."),
        param: Some("webhook_endpoint_id".into()),
    }
}

fn read_only(id: &str) -> ApiError {
    ApiError::Conflict {
        message: format!(
            "Webhook endpoint '{id}' is declared in the server's settings file and cannot be \
             changed through the API; edit the settings file instead."
        ),
        code: ErrorCode::WebhookEndpointReadOnly,
    }
}

/// A JSON body as the operation's typed request, or the contract's 400 naming what is wrong: an
/// unknown field is `unknown_parameter`, a field of the wrong type `invalid_type`, a missing one
/// `missing_required_parameter`, each with `param` set. An empty body reads as `{}`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> ApiResult<T> {
    let raw: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    crate::form::typed(&crate::form::json_object(raw)?)
}

fn checked_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            "name",
            ErrorCode::InvalidName,
            format!("name is required and must be 1-{MAX_NAME_CHARS} characters."),
        ));
    }
    Ok(name.to_string())
}

/// Longer URLs are refused (and documented as `maxLength`): a receiver address, not a payload.
const MAX_URL_CHARS: usize = 2048;

fn checked_url(url: &str) -> ApiResult<String> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(ApiError::invalid(
            "url",
            ErrorCode::InvalidUrl,
            format!("url must be at most {MAX_URL_CHARS} characters."),
        ));
    }
    check_url(url)
        .map(|_| url.to_string())
        .map_err(|m| ApiError::invalid("url", ErrorCode::InvalidUrl, m))
}

fn checked_types(types: &[String]) -> ApiResult<Vec<String>> {
    check_event_types(types)
        .map_err(|m| ApiError::invalid("event_types", ErrorCode::InvalidEventType, m))
}

async fn load(state: &AppState, project: &Project, id: &str) -> ApiResult<WebhookEndpointRecord> {
    if !ids::looks_like(id, PREFIX) {
        return Err(not_found(id));
    }
    state
        .store
        .get_webhook_endpoint(&project.0, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// The endpoint, if the API may change it.
async fn load_writable(
    state: &AppState,
    project: &Project,
    id: &str,
) -> ApiResult<WebhookEndpointRecord> {
    let e = load(state, project, id).await?;
    if e.declared {
        return Err(read_only(id));
    }
    Ok(e)
}

/// Create a webhook endpoint
///
/// The answer carries `signing_secret`, shown only here and after a rotation.
#[utoipa::path(
    post,
    path = "/v1/webhook_endpoints",
    tag = "Webhooks",
    request_body(content((CreateWebhookEndpoint = "application/json"))),
    responses(
        (status = 200, description = "The endpoint, with its signing secret.", body = EndpointView),
        (status = 400, description = "A bad `name`, `url` or `event_types`.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    project: Project,
    bytes: Bytes,
) -> ApiResult<Response> {
    let req: CreateWebhookEndpoint = body(&bytes)?;
    let record = state
        .store
        .create_webhook_endpoint(NewWebhookEndpoint {
            id: endpoint_id(),
            project: project.0,
            name: checked_name(&req.name)?,
            url: checked_url(&req.url)?,
            event_types: checked_types(&req.event_types)?,
            secret: signing::new_secret(),
            created_at: clock::now_unix(),
        })
        .await?;
    Ok(Json(EndpointView::new(&record, true)).into_response())
}

/// List webhook endpoints
#[utoipa::path(
    get,
    path = "/v1/webhook_endpoints",
    tag = "Webhooks",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of the project's endpoints, newest first.", body = ListPage<EndpointView>),
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
        .list_webhook_endpoints(
            &project.0,
            cursor.after.as_deref(),
            cursor.fetch_limit(),
            cursor.order,
        )
        .await;
    let page = cursor.finish(page, "webhook endpoint")?;
    let views: Vec<EndpointView> = page
        .items
        .iter()
        .map(|e| EndpointView::new(e, false))
        .collect();
    Ok(Json(list_view(&views, page.has_more, |v| v.id.as_str())).into_response())
}

/// Retrieve a webhook endpoint
#[utoipa::path(
    get,
    path = "/v1/webhook_endpoints/{webhook_endpoint_id}",
    tag = "Webhooks",
    params(("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`we_...`).")),
    responses(
        (status = 200, description = "The endpoint.", body = EndpointView),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such endpoint in this project.", body = ErrorResponse),
    ),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let e = load(&state, &project, &id).await?;
    Ok(Json(EndpointView::new(&e, false)).into_response())
}

async fn apply_update(
    state: &AppState,
    project: &Project,
    id: &str,
    bytes: &Bytes,
) -> ApiResult<Response> {
    let req: UpdateWebhookEndpoint = body(bytes)?;
    load_writable(state, project, id).await?;
    let patch = WebhookEndpointPatch {
        name: req.name.as_deref().map(checked_name).transpose()?,
        url: req.url.as_deref().map(checked_url).transpose()?,
        event_types: req.event_types.as_deref().map(checked_types).transpose()?,
    };
    let e = state
        .store
        .update_webhook_endpoint(&project.0, id, patch, clock::now_unix())
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(EndpointView::new(&e, false)).into_response())
}

/// Update a webhook endpoint
///
/// Replaces the fields given; `event_types` is the complete new set.
#[utoipa::path(
    post,
    path = "/v1/webhook_endpoints/{webhook_endpoint_id}",
    tag = "Webhooks",
    params(("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`we_...`).")),
    request_body(content((UpdateWebhookEndpoint = "application/json"))),
    responses(
        (status = 200, description = "The endpoint as updated.", body = EndpointView),
        (status = 400, description = "A bad `name`, `url` or `event_types`.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such endpoint in this project.", body = ErrorResponse),
        (status = 409, description = "The endpoint is declared in the settings file.", body = ErrorResponse),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    apply_update(&state, &project, &id, &bytes).await
}

/// Update a webhook endpoint (PATCH)
///
/// The same as the `POST` form, for clients that patch.
#[utoipa::path(
    patch,
    path = "/v1/webhook_endpoints/{webhook_endpoint_id}",
    tag = "Webhooks",
    operation_id = "update_webhook_endpoint_patch",
    params(("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`we_...`).")),
    request_body(content((UpdateWebhookEndpoint = "application/json"))),
    responses(
        (status = 200, description = "The endpoint as updated.", body = EndpointView),
        (status = 400, description = "A bad `name`, `url` or `event_types`.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such endpoint in this project.", body = ErrorResponse),
        (status = 409, description = "The endpoint is declared in the settings file.", body = ErrorResponse),
    ),
)]
pub async fn patch(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    apply_update(&state, &project, &id, &bytes).await
}

/// Delete a webhook endpoint
///
/// Its pending deliveries and its delivery log go with it.
#[utoipa::path(
    delete,
    path = "/v1/webhook_endpoints/{webhook_endpoint_id}",
    tag = "Webhooks",
    params(("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`we_...`).")),
    responses(
        (status = 200, description = "The endpoint is gone.", body = EndpointDeleted),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such endpoint in this project.", body = ErrorResponse),
        (status = 409, description = "The endpoint is declared in the settings file.", body = ErrorResponse),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    load_writable(&state, &project, &id).await?;
    if !state.store.delete_webhook_endpoint(&project.0, &id).await? {
        return Err(not_found(&id));
    }
    Ok(Json(EndpointDeleted::new(id)).into_response())
}

/// Rotate a webhook endpoint's signing secret
///
/// With `keep_old_secret_active_for_24_hours`, deliveries carry a signature under each secret for
/// 24 hours, so receivers can switch over without rejecting anything.
#[utoipa::path(
    post,
    path = "/v1/webhook_endpoints/{webhook_endpoint_id}/rotate_secret",
    tag = "Webhooks",
    params(("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`we_...`).")),
    request_body(content((RotateWebhookSecret = "application/json"))),
    responses(
        (status = 200, description = "The endpoint, with its new signing secret.", body = EndpointView),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such endpoint in this project.", body = ErrorResponse),
        (status = 409, description = "The endpoint is declared in the settings file.", body = ErrorResponse),
    ),
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let req: RotateWebhookSecret = body(&bytes)?;
    load_writable(&state, &project, &id).await?;
    let now = clock::now_unix();
    let keep_until = req
        .keep_old_secret_active_for_24_hours
        .then_some(now + GRACE_SECONDS);
    let e = state
        .store
        .rotate_webhook_secret(&project.0, &id, &signing::new_secret(), keep_until, now)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(EndpointView::new(&e, true)).into_response())
}

/// Send a test event to a webhook endpoint
///
/// Sends one signed sample event of `event_type` now (not queued, not retried) and answers with
/// the receiver's status code.
#[utoipa::path(
    post,
    path = "/v1/webhook_endpoints/{webhook_endpoint_id}/test",
    tag = "Webhooks",
    params(("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`we_...`).")),
    request_body(content((TestWebhookEndpoint = "application/json"))),
    responses(
        (status = 200, description = "The receiver answered (any status).", body = TestResult),
        (status = 400, description = "A bad `event_type`, or the receiver could not be reached.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such endpoint in this project.", body = ErrorResponse),
    ),
)]
pub async fn test(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let req: TestWebhookEndpoint = body(&bytes)?;
    let e = load(&state, &project, &id).await?;
    let event_type = checked_types(std::slice::from_ref(&req.event_type))?.remove(0);
    let subject = if event_type.starts_with("batch.") {
        ids::batch_id()
    } else {
        ids::video_id()
    };
    let now = clock::now_unix();
    let event = json!({
        "id": ids::event_id(),
        "object": "event",
        "created_at": now,
        "type": event_type,
        "data": { "id": subject },
    })
    .to_string();
    let webhook_id = format!("msg_{}", &ids::event_id()[4..]);
    let reply = state
        .webhook_sender
        .post(&e.url, &webhook_id, &e.signing_secrets(now), &event, now)
        .await;
    match reply {
        Reply::Status(status_code) => Ok(Json(TestResult {
            object: "webhook_endpoint.test",
            webhook_endpoint_id: e.id,
            event_type,
            status_code,
            // Only a 2xx counts as delivered, as for real deliveries; a redirect is not followed.
            success: (200..300).contains(&status_code),
        })
        .into_response()),
        Reply::Failed(reason) => Err(ApiError::invalid(
            "url",
            ErrorCode::WebhookTestFailed,
            format!("The test delivery to {} failed: {reason}.", e.url),
        )),
    }
}

/// List an endpoint's deliveries (Kinora extension)
///
/// The delivery log: one entry per event sent to this endpoint, with its status, attempt count
/// and the latest attempt's result.
#[utoipa::path(
    get,
    path = "/v1/webhook_endpoints/{webhook_endpoint_id}/deliveries",
    tag = "Webhooks",
    params(
        ("webhook_endpoint_id" = String, Path, description = "The endpoint's id (`we_...`)."),
        ListQuery,
    ),
    responses(
        (status = 200, description = "A page of the endpoint's deliveries.", body = ListPage<DeliveryView>),
        (status = 400, description = "A bad `limit`, `order` or `after`.", body = ErrorResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
        (status = 404, description = "No such endpoint in this project.", body = ErrorResponse),
    ),
)]
pub async fn deliveries(
    State(state): State<AppState>,
    project: Project,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let cursor = Cursor::parse(&q)?;
    load(&state, &project, &id).await?;
    let page = state
        .store
        .list_webhook_deliveries(
            &project.0,
            &id,
            cursor.after.as_deref(),
            cursor.fetch_limit(),
            cursor.order,
        )
        .await;
    let page = cursor.finish(page, "webhook delivery")?;
    let views: Vec<DeliveryView> = page.items.iter().map(DeliveryView::new).collect();
    Ok(Json(list_view(&views, page.has_more, |v| v.id.as_str())).into_response())
}

/// List webhook event types
///
/// The event types this server emits, the only ones endpoints may subscribe to.
#[utoipa::path(
    get,
    path = "/v1/webhook_event_types",
    tag = "Webhooks",
    responses(
        (status = 200, description = "The event types.", body = EventTypeList),
        (status = 401, description = "Missing or unknown API key.", body = ErrorResponse),
    ),
)]
pub async fn event_types(_project: Project) -> Json<EventTypeList> {
    Json(EventTypeList {
        object: "list",
        data: EVENT_TYPES.to_vec(),
    })
}
