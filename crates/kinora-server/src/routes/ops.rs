//! Operations endpoints: liveness, readiness and the JSON answers for unknown routes.

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

/// Liveness
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "Operations",
    security(()),
    responses((status = 200, description = "The process is up: `{\"status\": \"ok\"}`.", content_type = "application/json")),
)]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the metadata store answers; a load balancer stops sending traffic otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "Operations",
    security(()),
    responses(
        (status = 200, description = "The metadata store answers: `{\"status\": \"ready\"}`.", content_type = "application/json"),
        (status = 503, description = "It does not, or a disk refuses writes: `{\"status\": \"unavailable\", \"reasons\": [{\"part\": \"database\", \"reason\": \"…\"}]}`.", content_type = "application/json"),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut reasons: Vec<_> = state
        .health
        .faults()
        .into_iter()
        .map(|p| json!({"part": p.name(), "reason": p.reason()}))
        .collect();
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "readiness check failed");
        reasons.push(json!({"part": "database", "reason": "the metadata store does not answer"}));
    }
    if reasons.is_empty() {
        return Json(json!({"status": "ready"})).into_response();
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "reasons": reasons})),
    )
        .into_response()
}

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound {
        message: format!("Unknown request URL: {method} {}.", uri.path()),
        param: None,
    }
}
