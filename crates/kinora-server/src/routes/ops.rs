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
        (status = 503, description = "It does not: `{\"status\": \"unavailable\"}`.", content_type = "application/json"),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound {
        message: format!("Unknown request URL: {method} {}.", uri.path()),
        param: None,
    }
}
