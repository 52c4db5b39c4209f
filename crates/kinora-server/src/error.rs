//! `ApiError`: every failure the API can answer, each knowing its OpenAI `type`, HTTP status and
//! `code`. Internal failures get a fixed message; their detail goes to the log, never the client.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kinora_core::{ErrorCode, Invalid};
use kinora_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// OpenAI's error envelope: every non-2xx JSON answer has this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub message: String,
    /// `invalid_request_error` for the client's mistakes, `server_error` for ours.
    #[serde(rename = "type")]
    #[schema(examples("invalid_request_error"))]
    pub kind: &'static str,
    /// The request field (or header) at fault, when there is one.
    #[schema(required = true, examples("size"))]
    pub param: Option<String>,
    /// Machine-readable reason, e.g. `invalid_size`, `not_found`, `invalid_api_key`.
    #[schema(required = true, examples("invalid_size"))]
    pub code: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The message alone: `param` travels in its own field of the envelope, so the text does
    /// not repeat it (the CLI prints `Invalid` with its "(param …)" instead).
    #[error("{}", .0.message)]
    Invalid(Invalid),
    #[error("{message}")]
    NotFound {
        message: String,
        param: Option<String>,
    },
    #[error("{message}")]
    Conflict { message: String, code: ErrorCode },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    RangeNotSatisfiable(u64),
    /// A storage backend cannot be reached right now (PostgreSQL restarting, S3 down): nothing
    /// was changed, and the same request may succeed when retried (HTTP 503, `Retry-After`).
    #[error(
        "The service is temporarily unavailable: its storage cannot be reached. Retry the request shortly."
    )]
    Unavailable(String),
    /// The node's disk refused a write (full, read-only): nothing was changed, reads still work,
    /// and the same request succeeds once space is back (HTTP 503, `Retry-After`).
    #[error(
        "The service cannot store anything right now: its disk is full or read-only. Retry the request shortly."
    )]
    StorageUnavailable(String),
    /// An answer produced outside the handlers (axum's rejections, the timeout layer), put into
    /// the envelope by `envelope::envelope`.
    #[error("{message}")]
    Rejected {
        status: StatusCode,
        code: ErrorCode,
        param: Option<String>,
        message: String,
    },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(param: &str, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::Invalid(Invalid::new(param, code, message))
    }

    pub fn not_found(kind: &str, id: &str) -> Self {
        ApiError::NotFound {
            message: format!("No {kind} found with id '{id}'."),
            param: Some(match kind {
                "character" => "character_id".to_string(),
                "file" => "file_id".to_string(),
                "batch" => "batch_id".to_string(),
                _ => "video_id".to_string(),
            }),
        }
    }

    /// What a client sees of this error: status, `param`, `code` and message. For errors that
    /// are reported inside another object rather than as a response (a batch line's own error).
    pub fn public(&self) -> (StatusCode, Option<String>, String, String) {
        let (status, param, code) = self.parts();
        let message = match self {
            ApiError::Internal(_) => {
                "The server had an error while processing your request.".into()
            }
            other => other.to_string(),
        };
        (status, param, code.to_string(), message)
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError::Internal(detail.to_string())
    }

    /// Status, `param` and code of the answer. The status is the code's own, from the one
    /// table in `kinora_core::ErrorCode`; only the HTTP layer's rejections bring theirs.
    fn parts(&self) -> (StatusCode, Option<String>, ErrorCode) {
        use ErrorCode as C;
        let (param, code) = match self {
            ApiError::Invalid(i) => (Some(i.param.clone()), i.code),
            ApiError::NotFound { param, .. } => (param.clone(), C::NotFound),
            ApiError::Conflict { code, .. } => (None, *code),
            ApiError::Unauthorized(_) => (None, C::InvalidApiKey),
            ApiError::PayloadTooLarge(_) => (None, C::PayloadTooLarge),
            ApiError::UnsupportedMediaType(_) => (None, C::UnsupportedMediaType),
            ApiError::Gone(_) => (Some("video_id".into()), C::VideoExpired),
            ApiError::RangeNotSatisfiable(_) => (Some("range".into()), C::RangeNotSatisfiable),
            ApiError::Unavailable(_) => (None, C::ServiceUnavailable),
            ApiError::StorageUnavailable(_) => (None, C::StorageUnavailable),
            ApiError::Rejected {
                status,
                code,
                param,
                ..
            } => return (*status, param.clone(), *code),
            ApiError::Internal(_) => (None, C::InternalError),
        };
        let status = code
            .status()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::BAD_REQUEST);
        (status, param, code)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound {
                message: "The requested object was not found.".to_string(),
                param: None,
            },
            StoreError::Conflict(m) => ApiError::Conflict {
                message: m,
                code: ErrorCode::Conflict,
            },
            StoreError::Unavailable(detail) => ApiError::Unavailable(detail),
            StoreError::DiskFault(detail) => ApiError::StorageUnavailable(detail),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(i: Invalid) -> Self {
        ApiError::Invalid(i)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, param, code) = self.parts();
        let kind = code.kind();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "The server had an error while processing your request.".to_string()
            }
            ApiError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "storage unavailable");
                self.to_string()
            }
            ApiError::StorageUnavailable(detail) => {
                tracing::warn!(error = %detail, "a write was refused by the disk");
                self.to_string()
            }
            ApiError::RangeNotSatisfiable(size) => {
                format!("The requested range is not satisfiable for a {size}-byte object.")
            }
            other => other.to_string(),
        };
        let body = ErrorResponse {
            error: ErrorBody {
                message,
                kind,
                param,
                code: Some(code.to_string()),
            },
        };
        let mut resp = (status, Json(body)).into_response();
        if let Some(v) = should_retry(status) {
            resp.headers_mut()
                .insert(HeaderName::from_static("x-should-retry"), v);
        }
        if let ApiError::RangeNotSatisfiable(size) = self
            && let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            resp.headers_mut()
                .insert(axum::http::header::CONTENT_RANGE, v);
        }
        if let ApiError::StorageUnavailable(detail) = &self {
            // The node's readiness check reports the fault while it lasts (`metrics::track_http`).
            resp.extensions_mut()
                .insert(crate::health::DiskFault(detail.clone()));
        }
        if matches!(
            self,
            ApiError::Unavailable(_) | ApiError::StorageUnavailable(_)
        ) {
            // Clients (the openai SDKs among them) wait this long before their automatic retry.
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("1"),
            );
        }
        resp
    }
}

/// The openai SDKs obey `x-should-retry` before their own rules, which retry every 409 (and so
/// replayed `idempotency_key_reused` twice): a client error a retry cannot fix says `false`; a
/// timeout, a rate limit and an outage say `true`.
pub fn should_retry(status: StatusCode) -> Option<HeaderValue> {
    match status {
        StatusCode::REQUEST_TIMEOUT
        | StatusCode::TOO_MANY_REQUESTS
        | StatusCode::SERVICE_UNAVAILABLE => Some(HeaderValue::from_static("true")),
        s if s.is_client_error() => Some(HeaderValue::from_static("false")),
        _ => None,
    }
}

/// What a client may read of a media failure on its upload: what is wrong with the input, in
/// its terms. Server paths and codec-library text go to the log only.
pub fn media_reason(e: &kinora_media::MediaError) -> String {
    use kinora_media::MediaError as M;
    tracing::info!(error = %e, "an uploaded clip was refused");
    match e {
        M::InvalidInput(m) | M::Unsupported(m) => without_paths(m),
        _ => "it could not be decoded".to_string(),
    }
}

/// Drops a leading `/some/path: ` and replaces any other absolute path with "the file".
pub fn without_paths(message: &str) -> String {
    let m = match message.strip_prefix('/') {
        Some(_) => message.split_once(": ").map_or(message, |(_, rest)| rest),
        None => message,
    };
    m.split(' ')
        .map(|w| if w.starts_with('/') { "the file" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_backend_is_a_retryable_503() {
        let resp =
            ApiError::from(StoreError::Unavailable("connection refused".into())).into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "1");
        assert_eq!(resp.headers()["x-should-retry"], "true");
        let (_, param, code, message) =
            ApiError::from(StoreError::Unavailable("secret detail".into())).public();
        assert_eq!((param, code.as_str()), (None, "service_unavailable"));
        assert!(!message.contains("secret detail"), "{message}");
        // Anything else from the backend stays a plain 500.
        let other = ApiError::from(StoreError::Backend("boom".into())).into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_full_disk_is_a_retryable_503_storage_unavailable() {
        let resp = ApiError::from(StoreError::DiskFault("database or disk is full".into()))
            .into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "1");
        assert!(
            resp.extensions()
                .get::<crate::health::DiskFault>()
                .is_some()
        );
        let (_, _, code, message) =
            ApiError::from(StoreError::DiskFault("/data/kinora.db-wal".into())).public();
        assert_eq!(code, "storage_unavailable");
        assert!(!message.contains("/data"), "{message}");
    }

    #[test]
    fn upload_errors_carry_no_server_paths() {
        let e = kinora_media::MediaError::InvalidInput(
            "/var/kinora/tmp/.tmp0bNjqs: not an MP4 file (no box structure)".into(),
        );
        assert_eq!(media_reason(&e), "not an MP4 file (no box structure)");
        let codec = kinora_media::MediaError::Codec("openh264: native error 4 at /src/x.c".into());
        assert_eq!(media_reason(&codec), "it could not be decoded");
        assert_eq!(
            without_paths("cannot open /data/x.mp4 for reading"),
            "cannot open the file for reading"
        );
    }

    #[test]
    fn a_refused_field_is_named_in_param_not_repeated_in_the_message() {
        let (status, param, code, message) =
            ApiError::invalid("size", ErrorCode::InvalidSize, "size must be WIDTHxHEIGHT.")
                .public();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            (param.as_deref(), code.as_str()),
            (Some("size"), "invalid_size")
        );
        assert_eq!(message, "size must be WIDTHxHEIGHT.");
    }

    #[test]
    fn answers_a_retry_cannot_fix_tell_the_sdks_not_to_retry() {
        let reused = ApiError::Conflict {
            message: "reused".into(),
            code: ErrorCode::IdempotencyKeyReused,
        }
        .into_response();
        assert_eq!(reused.headers()["x-should-retry"], "false");
        let invalid = ApiError::invalid("size", ErrorCode::InvalidSize, "bad").into_response();
        assert_eq!(invalid.headers()["x-should-retry"], "false");
        let internal = ApiError::internal("boom").into_response();
        assert!(internal.headers().get("x-should-retry").is_none());
    }
}
