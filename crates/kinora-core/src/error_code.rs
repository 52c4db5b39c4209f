//! `ErrorCode`: every `code` Kinora writes into an error, in one table.
//!
//! A code reaches users in three places: an HTTP error answer (`{"error": {"code", …}}`), a
//! failed video's `error`, and a batch's `errors` or error file. Clients branch on it, so it is a
//! contract: each code is written here once, with the HTTP status it answers with (none for codes
//! only ever reported inside an object) and a line saying what it means. `/openapi.json` and
//! `docs/errors.md` are rendered from this table, so neither can drift from the code.
//!
//! The GPU worker reports its own failures over the worker protocol; the codes it sends are in the
//! table too (marked as such), because users read them on their failed videos.

use std::fmt;

macro_rules! error_codes {
    ($($variant:ident = $wire:literal, $status:expr, $meaning:literal;)*) => {
        /// One code of the table; [`ErrorCode::as_str`] is its wire form.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)*
                }
            }

            /// The HTTP status of an answer carrying this code; `None` for codes only ever
            /// reported inside an object (a failed video, a batch line).
            pub const fn status(self) -> Option<u16> {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }

            /// What the code means, in the user's terms.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning,)*
                }
            }
        }
    };
}

/// Only in an object: a failed video's `error`, a batch's `errors` or error file.
const OBJ: Option<u16> = None;
const B400: Option<u16> = Some(400);
const C409: Option<u16> = Some(409);

error_codes! {
    // The request body and its fields.
    InvalidJson = "invalid_json", B400, "The body (or a JSON field of a form) is not valid JSON.";
    JsonTooDeep = "json_too_deep", B400, "The JSON body nests deeper than the server accepts.";
    JsonTooLarge = "json_too_large", B400, "The JSON body has more elements than any operation takes.";
    InvalidMultipart = "invalid_multipart", B400, "The multipart body could not be read.";
    MultipartRequired = "multipart_required", B400, "The operation takes a file, so the body must be multipart/form-data.";
    TooManyParts = "too_many_parts", B400, "The multipart body has more parts than any operation takes.";
    TooManyFiles = "too_many_files", B400, "The multipart body has more file parts than the operation takes.";
    FieldTooLarge = "field_too_large", B400, "A text field is larger than the server accepts.";
    InvalidEncoding = "invalid_encoding", B400, "A text field, or a batch input line, is not UTF-8.";
    UnknownParameter = "unknown_parameter", B400, "The body has a field the operation does not take.";
    UnsupportedParameter = "unsupported_parameter", B400, "The field exists but this operation or model cannot honour it.";
    InvalidType = "invalid_type", B400, "A field has the wrong type or shape (an array where a string belongs, an empty object).";
    EmptyValue = "empty_value", B400, "A field or query parameter is present but empty.";
    MissingRequiredParameter = "missing_required_parameter", B400, "A required field is missing.";
    InvalidValue = "invalid_value", B400, "A field's value is not one the operation accepts.";
    InvalidBody = "invalid_body", B400, "The body, or a batch line's `body`, is not a JSON object.";
    InvalidRequestBody = "invalid_request_body", B400, "The body is not the JSON object this operation expects.";
    InvalidIdempotencyKey = "invalid_idempotency_key", B400, "The `Idempotency-Key` header is empty, too long or not printable.";
    // Videos: creating, extending, editing, remixing.
    MissingPrompt = "missing_prompt", B400, "`prompt` is missing or blank.";
    PromptTooLong = "prompt_too_long", B400, "`prompt` is longer than 32,000 characters.";
    PromptNotUnderstood = "prompt_not_understood", B400, "The built-in engine understood less of the prompt than this server's `engine.min_coverage`; nothing was created or charged.";
    InvalidModel = "invalid_model", B400, "`model` is not served here (see `GET /v1/models`).";
    MissingModel = "missing_model", B400, "`model` is required for this operation.";
    InvalidSize = "invalid_size", B400, "`size` is not one the model renders.";
    MissingSeconds = "missing_seconds", B400, "`seconds` is required for this operation.";
    InvalidSeconds = "invalid_seconds", B400, "`seconds` is not a clip length the model renders.";
    InvalidSeed = "invalid_seed", B400, "`seed` is not a non-negative integer.";
    TooManyCharacters = "too_many_characters", B400, "More characters than one video takes (two).";
    CharacterNotFound = "character_not_found", B400, "No such character in this project; or, creating one, no single subject could be separated from the clip's background. Also a failed video's code when its character was deleted before it rendered.";
    CharacterNotInPrompt = "character_not_in_prompt", B400, "A character is attached but the prompt never names it.";
    InvalidInputReference = "invalid_input_reference", B400, "`input_reference` is not an image the server can read, or names none.";
    FileNotFound = "file_not_found", B400, "A `file_id` names no file in this project.";
    UrlNotAllowed = "url_not_allowed", B400, "The URL points at an address the server may not fetch from (private, loopback, link-local).";
    UrlUnreachable = "url_unreachable", B400, "The URL could not be fetched.";
    MissingVideo = "missing_video", B400, "The operation needs a source video (`video`) and none was given.";
    InvalidVideo = "invalid_video", B400, "The source video is not a clip the server can read; the message says why.";
    InvalidVideoSize = "invalid_video_size", B400, "The source video's frame size is outside what the server takes.";
    VideoTooLong = "video_too_long", B400, "The source video, or the extended result, is longer than the server takes.";
    TooManyExtensions = "too_many_extensions", B400, "The video has been extended as often as one chain may be.";
    VideoNotFound = "video_not_found", B400, "The source `video` names no video in this project.";
    VideoNotCompleted = "video_not_completed", B400, "The source video has not completed, so it cannot be extended, edited or remixed.";
    InvalidEditStrength = "invalid_edit_strength", B400, "`edit_strength` is not a number between 0 and 1.";
    // Video content.
    InvalidVariant = "invalid_variant", B400, "`variant` is not `video`, `thumbnail` or `spritesheet`.";
    VideoNotReady = "video_not_ready", B400, "The video is still queued or rendering; its content exists once it completes.";
    VideoFailed = "video_failed", B400, "The video failed, so it has no content; its `error` says why.";
    // Lists.
    InvalidLimit = "invalid_limit", B400, "`limit` is outside the list's bounds.";
    InvalidOrder = "invalid_order", B400, "`order` is not `asc` or `desc`.";
    InvalidCursor = "invalid_cursor", B400, "`after` is not an id of this list.";
    // Files and batches.
    InvalidPurpose = "invalid_purpose", B400, "`purpose` is not one the files API takes.";
    InvalidExpiresAfter = "invalid_expires_after", B400, "`expires_after` is not an anchor and a number of seconds in range.";
    MissingFile = "missing_file", B400, "The upload has no `file` part.";
    EmptyFile = "empty_file", B400, "The uploaded file, or a batch's input file, is empty.";
    InvalidMetadata = "invalid_metadata", B400, "`metadata` is not a map of at most 16 short string pairs.";
    InvalidCompletionWindow = "invalid_completion_window", B400, "`completion_window` is not `24h`.";
    UnsupportedEndpoint = "unsupported_endpoint", B400, "A batch's `endpoint` is not one Kinora runs in batches (`/v1/videos`).";
    InvalidFilePurpose = "invalid_file_purpose", B400, "A batch's input file was not uploaded with purpose `batch`.";
    InvalidOutputExpiresAfter = "invalid_output_expires_after", B400, "`output_expires_after` is not an anchor and a number of seconds in range.";
    // Webhooks.
    InvalidName = "invalid_name", B400, "A name is empty, too long or has characters it may not.";
    InvalidUrl = "invalid_url", B400, "The endpoint URL is not an absolute http(s) URL the server may deliver to.";
    InvalidEventType = "invalid_event_type", B400, "An event type is not one Kinora sends.";
    WebhookTestFailed = "webhook_test_failed", B400, "The test delivery could not reach the endpoint.";
    // Lifecycle conflicts.
    IdempotencyKeyReused = "idempotency_key_reused", C409, "The `Idempotency-Key` was used before with a different body.";
    VideoNotCancellable = "video_not_cancellable", C409, "The video has already finished; only queued or rendering videos can be cancelled.";
    BatchNotCancellable = "batch_not_cancellable", C409, "The batch has already ended.";
    WebhookEndpointReadOnly = "webhook_endpoint_read_only", C409, "The endpoint comes from the server's configuration file and cannot be changed through the API.";
    Conflict = "conflict", C409, "The request conflicts with the object's current state.";
    // The HTTP layer.
    InvalidRequest = "invalid_request", B400, "The request could not be read (a malformed query string or path); other statuses the HTTP layer chooses carry it too.";
    InvalidApiKey = "invalid_api_key", Some(401), "The `Authorization: Bearer` key is missing or unknown.";
    NotFound = "not_found", Some(404), "No such object in this project (or no such URL).";
    MethodNotAllowed = "method_not_allowed", Some(405), "The URL does not take this method.";
    RequestTimeout = "request_timeout", Some(408), "The request took too long to arrive or to answer; retry it.";
    VideoExpired = "video_expired", Some(410), "The video's content has expired and was deleted.";
    PayloadTooLarge = "payload_too_large", Some(413), "The body is larger than the server accepts.";
    UnsupportedMediaType = "unsupported_media_type", Some(415), "The body is neither JSON nor multipart/form-data.";
    RangeNotSatisfiable = "range_not_satisfiable", Some(416), "The `Range` starts past the end of the content.";
    InternalError = "internal_error", Some(500), "The server failed; the detail is in its log under the request id. Also a failed video's code when the renderer crashed on it.";
    ServiceUnavailable = "service_unavailable", Some(503), "The server's storage cannot be reached right now; retry after `Retry-After`.";
    StorageUnavailable = "storage_unavailable", Some(503), "The server's disk is full or read-only; reads still work; retry after `Retry-After`. On a video, its inputs could not be read; it is retried.";
    // The worker protocol (`/v1/workers/…`, used by `kinora worker` and the GPU worker).
    InvalidWorkerId = "invalid_worker_id", B400, "The worker id is not one the node handed out.";
    UnknownPool = "unknown_pool", B400, "The worker's pool serves no model this node routes to it.";
    InvalidArtifactName = "invalid_artifact_name", B400, "The artifact name is not one a job uploads.";
    InvalidCode = "invalid_code", B400, "A worker's failure code is not 1-64 of `a-z`, `0-9` and `_`.";
    UploadInterrupted = "upload_interrupted", B400, "The artifact upload broke off before its end.";
    LeaseLost = "lease_lost", C409, "The lease is no longer the job's current one (it expired, or the job ended); the worker drops the job.";
    // A failed video's `error` (also in a batch's error file).
    Cancelled = "cancelled", OBJ, "The video was cancelled before it finished.";
    WorkerLost = "worker_lost", OBJ, "The worker rendering the video stopped answering too often; its attempts are spent.";
    RenderFailed = "render_failed", OBJ, "Rendering failed on the server on every attempt.";
    InvalidInput = "invalid_input", OBJ, "The renderer refused one of the video's inputs; the message names it.";
    EditNotUnderstood = "edit_not_understood", OBJ, "The built-in engine found nothing in the edit prompt it could change; nothing was charged.";
    CharacterCorrupt = "character_corrupt", OBJ, "The character's stored image could not be read.";
    SourceUnavailable = "source_unavailable", OBJ, "The source video's content was deleted or expired before the job rendered.";
    ScratchUnavailable = "scratch_unavailable", OBJ, "The node's scratch space could not be written; the job is retried.";
    InvalidArtifact = "invalid_artifact", OBJ, "A remote worker's upload is not a clip the node accepts.";
    BatchExpired = "batch_expired", OBJ, "The batch's completion window ended before this request ran.";
    BatchCancelled = "batch_cancelled", OBJ, "The batch was cancelled before this request ran.";
    // Sent by remote workers (`kinora worker`, the GPU worker in `workers/python`).
    WorkerStopping = "worker_stopping", OBJ, "Remote worker: it was shutting down; the job goes back to the queue.";
    InputUnavailable = "input_unavailable", OBJ, "Remote worker: it could not download the job's inputs; the job is retried.";
    UploadFailed = "upload_failed", OBJ, "Remote worker: it could not upload the result; the job is retried.";
    WorkerError = "worker_error", OBJ, "GPU worker: the model raised an error; the job is retried.";
    OutOfMemory = "out_of_memory", OBJ, "GPU worker: the card ran out of memory; the job is retried.";
    Unsupported = "unsupported", OBJ, "GPU worker: the model cannot do what the job asks (a mode it lacks).";
    // A batch's `errors` (lines of its input file).
    InvalidJsonLine = "invalid_json_line", OBJ, "A line of the input file is not a JSON object.";
    InvalidCustomId = "invalid_custom_id", OBJ, "A line's `custom_id` is missing, empty or too long.";
    InvalidMethod = "invalid_method", OBJ, "A line's `method` is not `POST`.";
    MismatchedEndpoint = "mismatched_endpoint", OBJ, "A line's `url` is not the batch's `endpoint`.";
    LineTooLong = "line_too_long", OBJ, "A line of the input file is longer than the server reads.";
    TooManyRequests = "too_many_requests", OBJ, "The input file has more lines than one batch takes.";
    DuplicateCustomId = "duplicate_custom_id", OBJ, "Two lines share a `custom_id`.";
}

impl ErrorCode {
    /// OpenAI's error `type` for an answer with this code.
    pub fn kind(self) -> &'static str {
        match self.status() {
            Some(s) if s >= 500 => "server_error",
            _ => "invalid_request_error",
        }
    }

    /// The code whose wire form is `s`, if Kinora writes it.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// The table as Markdown, for `docs/errors.md` and the OpenAPI document.
    pub fn markdown_table() -> String {
        let mut out = String::from("| code | HTTP status | meaning |\n|---|---|---|\n");
        for c in Self::ALL {
            let status = c
                .status()
                .map_or("— (in an object)".to_string(), |s| s.to_string());
            out.push_str(&format!(
                "| `{}` | {status} | {} |\n",
                c.as_str(),
                c.meaning()
            ));
        }
        out
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_written_once_as_a_lowercase_identifier() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert!(c.meaning().ends_with('.'), "{s}: {}", c.meaning());
            assert_eq!(ErrorCode::parse(s), Some(*c));
        }
    }

    #[test]
    fn server_faults_are_server_errors_and_the_rest_the_clients() {
        assert_eq!(ErrorCode::InternalError.kind(), "server_error");
        assert_eq!(ErrorCode::StorageUnavailable.kind(), "server_error");
        assert_eq!(ErrorCode::InvalidSize.kind(), "invalid_request_error");
        assert_eq!(ErrorCode::Cancelled.kind(), "invalid_request_error");
    }

    /// `docs/errors.md` holds the table as rendered here; rerun with `KINORA_BLESS=1` to update it.
    #[test]
    fn docs_errors_md_holds_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let (head, _) = doc.split_once("| code |").unwrap_or((&doc, ""));
        let want = format!("{head}{}", ErrorCode::markdown_table());
        if std::env::var_os("KINORA_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
            return;
        }
        assert!(
            doc == want,
            "docs/errors.md is not the table in error_code.rs; run \
             KINORA_BLESS=1 cargo test -p kinora-core docs_errors_md"
        );
    }
}
