//! `Form`: one view of a request body, whether it came as JSON or as multipart, parsed once into
//! the operation's typed request.
//!
//! The official SDKs send multipart with bracketed keys (`video[id]`, `characters[][id]`,
//! `input_reference[image_url]`) while hand-written clients send JSON objects. A JSON body is kept
//! as its object; multipart text parts are folded back into the same object (`video[id]` →
//! `{"video": {"id": …}}`, see [`fields`]), so each operation deserializes one typed request
//! ([`Form::fields`]) whichever way it came, and an unknown or mistyped field is refused by name.
//! File parts are streamed to temporary files, never held whole in memory, and every part feeds a
//! digest used to recognise a retried request under an `Idempotency-Key`.

mod fields;

pub use fields::{Text, typed};

use std::collections::BTreeMap;
use std::path::Path;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use kinora_core::ErrorCode;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
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
    /// The body's fields as one JSON object: the JSON body itself, or the multipart text parts
    /// folded back into objects and arrays.
    fields: Map<String, Value>,
    files: BTreeMap<String, Upload>,
    digest: Vec<u8>,
}

impl Form {
    /// The body as the operation's typed request `T` (a `deny_unknown_fields` struct). `files`
    /// are the file parts the operation takes; any other file part is presented to `T` as an
    /// object, so it fails as a mistyped or unknown field like any other. An unknown top-level
    /// field is `unknown_parameter`, a known one of the wrong type `invalid_type`, both naming it.
    pub fn fields<T: DeserializeOwned>(&self, files: &[&str]) -> Result<T, ApiError> {
        let stray: Vec<&String> = self
            .files
            .keys()
            .filter(|k| !files.contains(&k.as_str()))
            .collect();
        if stray.is_empty() {
            return fields::typed(&self.fields);
        }
        let mut with_files = self.fields.clone();
        for name in stray {
            with_files.insert(name.clone(), serde_json::json!({ "file": name }));
        }
        fields::typed(&with_files)
    }

    /// True when the body gives `key` at the top level (`input_reference` also for
    /// `input_reference[file_id]` in multipart), or carries a file part of that name. A JSON
    /// `null` gives nothing, as for every optional field.
    pub fn has(&self, key: &str) -> bool {
        self.fields.get(key).is_some_and(|v| !v.is_null()) || self.files.contains_key(key)
    }

    pub fn take_file(&mut self, key: &str) -> Option<Upload> {
        self.files.remove(key)
    }

    /// Hex digest of the request's content, independent of multipart boundaries and key order.
    pub fn digest_hex(&self) -> String {
        hex::encode(&self.digest)
    }

    /// Refuses a text value where the operation takes only an uploaded file (`"video":
    /// "video_1"` for a character): `invalid_type`, so the client learns the shape rather than
    /// reading that the field is missing.
    pub fn expect_file(&self, key: &str, shape: &str) -> Result<(), ApiError> {
        if self.fields.contains_key(key) {
            return Err(ApiError::invalid(
                key,
                ErrorCode::InvalidType,
                format!("'{key}' has the wrong type; it takes {shape}."),
            ));
        }
        Ok(())
    }

    /// The digest hashes the fields flattened to the SDK's bracketed keys, sorted, so a body
    /// digests the same whatever its key order (and as it did before bodies were typed: a key
    /// stored under the old digest still recognises its retry).
    fn finish_digest(
        &mut self,
        text: &BTreeMap<String, Vec<String>>,
        file_digests: BTreeMap<String, String>,
    ) {
        let mut h = Sha256::new();
        for (k, vs) in text {
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
        let map = json_object(bytes)?;
        let mut text = BTreeMap::new();
        for (k, v) in &map {
            fields::flatten(&mut text, k.clone(), v);
        }
        let mut form = Form {
            fields: map,
            ..Form::default()
        };
        form.finish_digest(&text, BTreeMap::new());
        Ok(form)
    }

    pub async fn from_multipart(mut mp: Multipart, tmp_dir: &Path) -> Result<Form, ApiError> {
        let mut form = Form::default();
        let mut text: BTreeMap<String, Vec<String>> = BTreeMap::new();
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
                text.entry(name).or_default().push(value);
            }
        }
        form.fields = fields::unflatten(&text)?;
        form.finish_digest(&text, file_digests);
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

/// A JSON body that must be an object, checked for size and depth before it is parsed; every
/// JSON body the API reads comes through here.
pub fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    check_json_size(bytes)?;
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid(
            "body",
            ErrorCode::InvalidJson,
            format!("The body is not valid JSON: {e}"),
        )
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::invalid(
            "body",
            ErrorCode::InvalidJson,
            "The body must be a JSON object.",
        )),
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
    async fn a_json_body_digests_as_the_same_multipart_body_whatever_its_key_order() {
        let body = Bytes::from_static(
            br#"{"prompt":"p","seconds":8,"video":{"id":"video_1"},"characters":[{"id":"char_a"},{"id":"char_b"}]}"#,
        );
        let f = Form::from_json(&body).await.unwrap();
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
        let mut parts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in [
            ("prompt", "p"),
            ("seconds", "8"),
            ("video[id]", "video_1"),
            ("characters[][id]", "char_a"),
            ("characters[][id]", "char_b"),
        ] {
            parts.entry(k.into()).or_default().push(v.into());
        }
        let mut multipart = Form {
            fields: fields::unflatten(&parts).unwrap(),
            ..Form::default()
        };
        multipart.finish_digest(&parts, BTreeMap::new());
        assert_eq!(f.digest_hex(), multipart.digest_hex());
        assert_eq!(f.fields["characters"], multipart.fields["characters"]);
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
