//! `Form`: one view of a request body, whether it came as JSON or as multipart.
//!
//! The official SDKs send multipart with bracketed keys (`video[id]`, `characters[][id]`,
//! `input_reference[image_url]`) while hand-written clients send JSON objects. Both are flattened
//! into the same bracketed keys here, so each endpoint parses one shape. File parts are streamed to
//! temporary files, never held whole in memory, and every part feeds a digest used to recognise a
//! retried request under an `Idempotency-Key`.

use kinora_core::ErrorCode;
use std::collections::BTreeMap;
use std::path::Path;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;

/// Text values above this size are refused; `image_url` data URLs get the contract's 20 MiB.
const MAX_TEXT_BYTES: usize = 21 * 1024 * 1024;
/// No operation takes more than a handful of fields, nor more than two files: a body with more
/// parts is refused as it is read, before a file is opened for the part past the cap.
const MAX_PARTS: usize = 256;
const MAX_FILE_PARTS: usize = 2;
/// JSON bodies are checked for these before they are parsed, so a body of a few MB cannot
/// become gigabytes of parsed values (a 20-million-element array).
const MAX_JSON_DEPTH: usize = 16;
const MAX_JSON_ELEMENTS: usize = 10_000;

#[derive(Debug)]
pub struct Upload {
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub file: NamedTempFile,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct Form {
    text: BTreeMap<String, Vec<String>>,
    files: BTreeMap<String, Upload>,
    /// Keys whose JSON value was an empty object (`input_reference: {}`): present, but
    /// flattening leaves nothing of them.
    empty: Vec<String>,
    digest: Vec<u8>,
}

impl Form {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.text
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub fn all(&self, key: &str) -> &[String] {
        self.text.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn has(&self, key: &str) -> bool {
        self.text.contains_key(key) || self.files.contains_key(key)
    }

    /// True when any key starts with `prefix` (`input_reference` matches `input_reference[file_id]`).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.text
            .keys()
            .chain(self.files.keys())
            .any(|k| k.starts_with(prefix))
    }

    pub fn take_file(&mut self, key: &str) -> Option<Upload> {
        self.files.remove(key)
    }

    /// Hex digest of the request's content, independent of multipart boundaries and key order.
    pub fn digest_hex(&self) -> String {
        hex::encode(&self.digest)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.text
            .keys()
            .chain(self.files.keys())
            .map(String::as_str)
    }

    /// Refuses keys an operation does not take: an unknown top-level field is
    /// `unknown_parameter`, as OpenAI answers; a known one in the wrong shape (`"model": [1, 2]`
    /// flattens to `model[]`) or an empty object is `invalid_type`, naming the field.
    pub fn expect(&self, accepted: &[&str]) -> Result<(), ApiError> {
        let top = |k: &str| k.split('[').next().unwrap_or(k).to_string();
        let known = |name: &str| accepted.iter().any(|a| top(a) == name);
        for key in self.keys().chain(self.empty.iter().map(String::as_str)) {
            let name = top(key);
            if !known(&name) {
                return Err(ApiError::invalid(
                    &name,
                    ErrorCode::UnknownParameter,
                    format!("Unrecognized request argument supplied: {name}"),
                ));
            }
            let empty = self.empty.iter().any(|e| e == key);
            if empty || !accepted.contains(&key) {
                let shapes: Vec<&str> = accepted
                    .iter()
                    .copied()
                    .filter(|a| top(a) == name)
                    .collect();
                return Err(ApiError::invalid(
                    &name,
                    ErrorCode::InvalidType,
                    format!(
                        "'{name}' has the wrong type or is empty; it takes the form {}.",
                        shapes.join(" or ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Refuses a text value where the operation takes an uploaded file (`"video": "video_1"`
    /// instead of `{"id": …}` or a file part): `invalid_type`, so the client learns the shape
    /// rather than reading that the field is missing.
    pub fn expect_file(&self, key: &str, shape: &str) -> Result<(), ApiError> {
        if self.text.contains_key(key) {
            return Err(ApiError::invalid(
                key,
                ErrorCode::InvalidType,
                format!("'{key}' has the wrong type; it takes {shape}."),
            ));
        }
        Ok(())
    }

    fn push_text(&mut self, key: String, value: String) {
        self.text.entry(key).or_default().push(value);
    }

    fn finish_digest(&mut self, file_digests: BTreeMap<String, String>) {
        let mut h = Sha256::new();
        for (k, vs) in &self.text {
            for v in vs {
                h.update(k.as_bytes());
                h.update([0]);
                h.update(v.as_bytes());
                h.update([1]);
            }
        }
        for (k, d) in file_digests {
            h.update(k.as_bytes());
            h.update([2]);
            h.update(d.as_bytes());
        }
        self.digest = h.finalize().to_vec();
    }

    pub async fn from_json(bytes: &Bytes) -> Result<Form, ApiError> {
        check_json_size(bytes)?;
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::invalid(
                "body",
                ErrorCode::InvalidJson,
                format!("The body is not valid JSON: {e}"),
            )
        })?;
        let Value::Object(map) = value else {
            return Err(ApiError::invalid(
                "body",
                ErrorCode::InvalidJson,
                "The body must be a JSON object.",
            ));
        };
        let mut form = Form::default();
        for (k, v) in map {
            flatten(&mut form, k, v);
        }
        form.finish_digest(BTreeMap::new());
        Ok(form)
    }

    pub async fn from_multipart(mut mp: Multipart, tmp_dir: &Path) -> Result<Form, ApiError> {
        let mut form = Form::default();
        let mut file_digests = BTreeMap::new();
        let (mut parts, mut file_parts) = (0, 0);
        while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
            parts += 1;
            if parts > MAX_PARTS {
                return Err(ApiError::invalid(
                    "body",
                    ErrorCode::TooManyParts,
                    format!("A request may have at most {MAX_PARTS} multipart fields."),
                ));
            }
            let name = field.name().unwrap_or_default().to_string();
            if name.is_empty() {
                continue;
            }
            if field.file_name().is_some() {
                file_parts += 1;
                if file_parts > MAX_FILE_PARTS || form.files.contains_key(&name) {
                    return Err(ApiError::invalid(
                        &name,
                        ErrorCode::TooManyFiles,
                        format!(
                            "A request may carry at most {MAX_FILE_PARTS} files, one per field."
                        ),
                    ));
                }
                let filename = field.file_name().map(str::to_string);
                let content_type = field.content_type().map(str::to_string);
                let file = NamedTempFile::new_in(tmp_dir).map_err(ApiError::internal)?;
                let std_file = file.reopen().map_err(ApiError::internal)?;
                let mut out = tokio::fs::File::from_std(std_file);
                let mut h = Sha256::new();
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    h.update(&chunk);
                    size += chunk.len() as u64;
                    out.write_all(&chunk).await.map_err(ApiError::internal)?;
                }
                out.flush().await.map_err(ApiError::internal)?;
                file_digests.insert(name.clone(), hex::encode(h.finalize()));
                form.files.insert(
                    name,
                    Upload {
                        filename,
                        content_type,
                        file,
                        size,
                    },
                );
            } else {
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if buf.len() + chunk.len() > MAX_TEXT_BYTES {
                        return Err(ApiError::invalid(
                            &name,
                            ErrorCode::FieldTooLarge,
                            format!("The field '{name}' is larger than {MAX_TEXT_BYTES} bytes."),
                        ));
                    }
                    buf.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(buf).map_err(|_| {
                    ApiError::invalid(
                        &name,
                        ErrorCode::InvalidEncoding,
                        format!("The field '{name}' is not UTF-8 text."),
                    )
                })?;
                form.push_text(name, value);
            }
        }
        form.finish_digest(file_digests);
        Ok(form)
    }

    /// Reads a body as JSON or multipart according to its content type.
    pub async fn from_request(req: Request, tmp_dir: &Path) -> Result<Form, ApiError> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ct.starts_with("multipart/form-data") {
            let mp = Multipart::from_request(req, &()).await.map_err(|e| {
                ApiError::invalid(
                    "body",
                    ErrorCode::InvalidMultipart,
                    format!("Malformed multipart body: {e}"),
                )
            })?;
            Form::from_multipart(mp, tmp_dir).await
        } else if ct.starts_with("application/json") || ct.is_empty() {
            let limit = crate::envelope::MAX_JSON_BYTES;
            let bytes = axum::body::to_bytes(req.into_body(), limit)
                .await
                .map_err(|e| body_error(&e.to_string()))?;
            if bytes.is_empty() {
                return Ok(Form::default());
            }
            Form::from_json(&bytes).await
        } else {
            Err(ApiError::UnsupportedMediaType(format!(
                "Unsupported content type '{ct}'; send application/json or multipart/form-data."
            )))
        }
    }
}

/// The top-level keys of a JSON body read without [`Form`] (batches, webhooks) against what the
/// operation takes: the first one it does not is `unknown_parameter`, as [`Form::expect`] says.
pub fn expect_keys(
    map: &serde_json::Map<String, Value>,
    accepted: &[&str],
) -> Result<(), ApiError> {
    match map.keys().find(|k| !accepted.contains(&k.as_str())) {
        Some(name) => Err(ApiError::invalid(
            name,
            ErrorCode::UnknownParameter,
            format!("Unrecognized request argument supplied: {name}"),
        )),
        None => Ok(()),
    }
}

/// Refuses JSON nested deeper than `MAX_JSON_DEPTH` or with more than `MAX_JSON_ELEMENTS`
/// values, by one pass over the bytes, before any of it is parsed.
fn check_json_size(bytes: &[u8]) -> Result<(), ApiError> {
    let (mut depth, mut elements) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                elements += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => elements += 1,
            _ => {}
        }
        if depth > MAX_JSON_DEPTH {
            return Err(ApiError::invalid(
                "body",
                ErrorCode::JsonTooDeep,
                format!("The JSON body nests deeper than {MAX_JSON_DEPTH} levels."),
            ));
        }
        if elements > MAX_JSON_ELEMENTS {
            return Err(ApiError::invalid(
                "body",
                ErrorCode::JsonTooLarge,
                format!("The JSON body has more than {MAX_JSON_ELEMENTS} values."),
            ));
        }
    }
    Ok(())
}

fn flatten(form: &mut Form, key: String, value: Value) {
    match value {
        Value::Null => {}
        Value::Object(map) if map.is_empty() => form.empty.push(key),
        Value::Object(map) => {
            for (k, v) in map {
                flatten(form, format!("{key}[{k}]"), v);
            }
        }
        Value::Array(items) => {
            for v in items {
                flatten(form, format!("{key}[]"), v);
            }
        }
        Value::String(s) => form.push_text(key, s),
        other => form.push_text(key, other.to_string()),
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let text = e.body_text();
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE || text.contains("length limit") {
        ApiError::PayloadTooLarge("The request body is larger than this server accepts.".into())
    } else {
        ApiError::invalid(
            "body",
            ErrorCode::InvalidMultipart,
            format!("Malformed multipart body: {text}"),
        )
    }
}

fn body_error(text: &str) -> ApiError {
    if text.contains("length limit") {
        ApiError::PayloadTooLarge("The request body is larger than this server accepts.".into())
    } else {
        ApiError::invalid(
            "body",
            ErrorCode::InvalidBody,
            "The request body could not be read in full.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn json_flattens_to_sdk_keys() {
        let body = Bytes::from_static(
            br#"{"prompt":"p","seconds":8,"video":{"id":"video_1"},"characters":[{"id":"char_a"},{"id":"char_b"}]}"#,
        );
        let f = Form::from_json(&body).await.unwrap();
        assert_eq!(f.text("prompt"), Some("p"));
        assert_eq!(f.text("seconds"), Some("8"));
        assert_eq!(f.text("video[id]"), Some("video_1"));
        assert_eq!(f.all("characters[][id]"), ["char_a", "char_b"]);
        let again = Form::from_json(&Bytes::from_static(
            br#"{"video":{"id":"video_1"},"seconds":8,"prompt":"p","characters":[{"id":"char_a"},{"id":"char_b"}]}"#,
        ))
        .await
        .unwrap();
        assert_eq!(
            f.digest_hex(),
            again.digest_hex(),
            "key order must not change the digest"
        );
    }

    #[tokio::test]
    async fn unknown_and_mistyped_fields_are_named() {
        let accepted = ["prompt", "model", "size", "input_reference[file_id]"];
        let form = |body: &'static [u8]| async move {
            Form::from_json(&Bytes::from_static(body)).await.unwrap()
        };
        let param = |r: Result<(), ApiError>| match r {
            Err(ApiError::Invalid(i)) => (i.param, i.code),
            other => panic!("{other:?}"),
        };
        let ok = form(br#"{"prompt":"a cat","input_reference":{"file_id":"file_1"}}"#).await;
        ok.expect(&accepted).unwrap();
        let typo = form(br#"{"prompt":"a cat","sizee":"1280x720"}"#).await;
        assert_eq!(
            param(typo.expect(&accepted)),
            (String::from("sizee"), ErrorCode::UnknownParameter)
        );
        let array = form(br#"{"prompt":"a cat","model":[1,2]}"#).await;
        assert_eq!(
            param(array.expect(&accepted)),
            (String::from("model"), ErrorCode::InvalidType)
        );
        let empty = form(br#"{"prompt":"a cat","input_reference":{}}"#).await;
        assert_eq!(
            param(empty.expect(&accepted)),
            (String::from("input_reference"), ErrorCode::InvalidType)
        );
    }

    #[tokio::test]
    async fn json_too_deep_or_too_many_values_is_refused_before_parsing() {
        let many = format!(
            r#"{{"prompt":"p","x":[{}0]}}"#,
            "0,".repeat(MAX_JSON_ELEMENTS)
        );
        assert!(Form::from_json(&Bytes::from(many)).await.is_err());
        let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(40), "]".repeat(40));
        assert!(Form::from_json(&Bytes::from(deep)).await.is_err());
        // Brackets and commas inside strings are text, not structure.
        let text = format!(r#"{{"prompt":"{}"}}"#, "[,".repeat(20_000));
        assert!(Form::from_json(&Bytes::from(text)).await.is_ok());
    }

    #[tokio::test]
    async fn rejects_non_objects() {
        assert!(Form::from_json(&Bytes::from_static(b"[1]")).await.is_err());
        assert!(
            Form::from_json(&Bytes::from_static(b"{oops"))
                .await
                .is_err()
        );
    }
}
