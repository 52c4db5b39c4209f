//! Every answer in OpenAI's error envelope, whoever produced it: axum's own rejections (query,
//! path, body), the timeout layer's empty 408 and the method router's 405 come out as
//! `{"error": {"message", "type", "param", "code"}}` with the same status. And a body declared
//! larger than the node accepts is refused before a byte of it is read.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kinora_core::ErrorCode;

use crate::error::ApiError;
use crate::state::AppState;

/// JSON bodies are small (a data-URL image is the largest thing one carries); uploads are not.
pub const MAX_JSON_BYTES: usize = 32 * 1024 * 1024;

/// The most a body of this request's content type may be.
pub fn body_limit(state: &AppState, req: &Request) -> usize {
    let json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
    if json {
        MAX_JSON_BYTES.min(state.settings.max_upload_bytes)
    } else {
        state.settings.max_upload_bytes
    }
}

/// Answers 413 at once when `Content-Length` is over the limit, instead of waiting for a body
/// the client may never send.
pub async fn refuse_oversized(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit = body_limit(&state, &req);
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::PayloadTooLarge(format!(
            "The request body is larger than this server accepts ({limit} bytes for this content type)."
        ))
        .into_response();
    }
    next.run(req).await
}

/// Rewrites a non-JSON error answer into the envelope; JSON answers pass untouched.
pub async fn envelope(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 8 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let mut out = rejection(status, &text).into_response();
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH && !out.headers().contains_key(name) {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// The envelope for a bare `status` whose body said `text`.
pub fn rejection(status: StatusCode, text: &str) -> ApiError {
    let (code, message) = match status {
        StatusCode::REQUEST_TIMEOUT => (
            ErrorCode::RequestTimeout,
            "The request took too long and was stopped; retry it.".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "The request body is larger than this server accepts.".to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "This method is not allowed on this URL.".to_string(),
        ),
        s if s.is_server_error() => (
            ErrorCode::InternalError,
            "The server had an error while processing your request.".to_string(),
        ),
        s if text.is_empty() => (
            ErrorCode::InvalidRequest,
            s.canonical_reason()
                .unwrap_or("Invalid request")
                .to_string(),
        ),
        _ => (ErrorCode::InvalidRequest, text.to_string()),
    };
    ApiError::Rejected {
        status,
        code,
        param: field_named(text),
        message,
    }
}

/// serde names the field at fault as "field `order`"; that is the request's `param`.
pub(crate) fn field_named(text: &str) -> Option<String> {
    let rest = &text[text.find("field `")? + "field `".len()..];
    Some(rest[..rest.find('`')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_rejections_name_their_field() {
        let e = rejection(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: duplicate field `order`",
        );
        let (status, param, code, message) = e.public();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(param.as_deref(), Some("order"));
        assert_eq!(code, "invalid_request");
        assert!(message.contains("duplicate field"), "{message}");
        let (status, _, code, _) = rejection(StatusCode::REQUEST_TIMEOUT, "").public();
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::REQUEST_TIMEOUT, "request_timeout")
        );
    }
}
