//! Finalizing a batch: its output and error files, written page by page from the store to
//! scratch files, stored as `batch_output` files, then recorded with the terminal status in one
//! transaction.
//!
//! Line ids (`batch_req_…`, `req_…`) are derived from the batch id and line number, so a
//! finalization that is interrupted and run again writes the same lines.

use std::path::Path;

use kinora_core::{ErrorCode, clock};
use kinora_store::batch::{BatchOutputs, RequestResult};
use kinora_store::{BatchRecord, FileRecord, StoreError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWriteExt, BufWriter};

use crate::state::AppState;
use crate::view::VideoView;

const PAGE: u32 = 1000;

fn derived_id(prefix: &str, batch_id: &str, line: u64) -> String {
    let mut h = Sha256::new();
    h.update(prefix.as_bytes());
    h.update(batch_id.as_bytes());
    h.update(line.to_le_bytes());
    format!("{prefix}{}", hex::encode(&h.finalize()[..16]))
}

/// Which file a request's line goes to, and the line.
fn line_for(batch_id: &str, outcome: &str, r: &RequestResult) -> (bool, Value) {
    let id = derived_id("batch_req_", batch_id, r.line);
    let request_id = derived_id("req_", batch_id, r.line);
    if let Some(e) = &r.error {
        // The line failed validation: the same 400 the endpoint would have answered.
        let body = json!({"error": {
            "message": e.message, "type": "invalid_request_error", "param": e.param, "code": e.code,
        }});
        let line = json!({
            "id": id, "custom_id": r.custom_id,
            "response": {"status_code": 400, "request_id": request_id, "body": body},
            "error": null,
        });
        return (false, line);
    }
    match &r.video {
        Some(v) => {
            let body = serde_json::to_value(VideoView::from_record(v, None)).unwrap_or(Value::Null);
            let response = json!({"status_code": 200, "request_id": request_id, "body": body});
            match &v.error {
                None => (
                    true,
                    json!({"id": id, "custom_id": r.custom_id, "response": response, "error": null}),
                ),
                Some(err) => (
                    false,
                    json!({
                        "id": id, "custom_id": r.custom_id, "response": response,
                        "error": {"code": err.code, "message": err.message},
                    }),
                ),
            }
        }
        None => {
            let (code, message) = if outcome == "expired" {
                (
                    ErrorCode::BatchExpired.as_str(),
                    "This request could not be executed before the completion window expired.",
                )
            } else {
                (
                    ErrorCode::BatchCancelled.as_str(),
                    "This request was not executed because the batch was cancelled.",
                )
            };
            (
                false,
                json!({
                    "id": id, "custom_id": r.custom_id, "response": null,
                    "error": {"code": code, "message": message},
                }),
            )
        }
    }
}

struct Sink {
    path: std::path::PathBuf,
    out: BufWriter<tokio::fs::File>,
    lines: u64,
}

impl Sink {
    async fn new(dir: &Path, name: &str) -> Result<Sink, StoreError> {
        let path = dir.join(name);
        let out = BufWriter::new(tokio::fs::File::create(&path).await?);
        Ok(Sink {
            path,
            out,
            lines: 0,
        })
    }

    async fn push(&mut self, line: &Value) -> Result<(), StoreError> {
        let mut bytes = serde_json::to_vec(line)
            .map_err(|e| StoreError::Backend(format!("encoding an output line: {e}")))?;
        bytes.push(b'\n');
        self.out.write_all(&bytes).await?;
        self.lines += 1;
        Ok(())
    }

    /// Stores the file unless it is empty; the record is written later, with the batch.
    async fn store(
        mut self,
        state: &AppState,
        project: &str,
        filename: String,
        expires_at: i64,
    ) -> Result<Option<FileRecord>, StoreError> {
        // Named after the batch and the file, so a finalize repeated after a crash (or a failed
        // `finish_batch`) writes the same keys again instead of leaving unreferenced copies.
        self.out.flush().await?;
        if self.lines == 0 {
            return Ok(None);
        }
        let record = FileRecord {
            id: output_file_id(&filename),
            project: project.to_string(),
            purpose: "batch_output".to_string(),
            filename,
            bytes: 0,
            created_at: clock::now_unix(),
            expires_at: Some(expires_at),
        };
        let bytes = state.blobs.put_file(&record.blob_key(), &self.path).await?;
        Ok(Some(FileRecord { bytes, ..record }))
    }
}

/// A batch output file's id, derived from its (batch-unique) file name: `file-` and 32 hex
/// digits, like a minted one.
fn output_file_id(filename: &str) -> String {
    let digest = Sha256::digest(format!("kinora batch output {filename}").as_bytes());
    format!("file-{}", hex::encode(&digest[..16]))
}

/// Writes the output and error files of a `finalizing` batch and ends it. `stale` may predate
/// a cancel; the batch is read again here.
pub async fn finalize(state: &AppState, stale: &BatchRecord) -> Result<(), StoreError> {
    let Some(b) = state.store.get_batch(&stale.project, &stale.id).await? else {
        return Ok(());
    };
    let batch_id = b.id.as_str();
    // Requests that never ran were stopped by a cancel, or else by the window's end.
    let outcome = if b.cancelling_at.is_some() {
        "cancelled"
    } else {
        "expired"
    };
    let scratch = tempfile::TempDir::new_in(&state.tmp_dir)?;
    let mut ok = Sink::new(scratch.path(), "output.jsonl").await?;
    let mut failed = Sink::new(scratch.path(), "errors.jsonl").await?;
    let mut after = 0;
    loop {
        let page = state.store.request_results(batch_id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.line;
        for r in &page {
            let (success, line) = line_for(batch_id, outcome, r);
            if success {
                ok.push(&line).await?;
            } else {
                failed.push(&line).await?;
            }
        }
    }
    let now = clock::now_unix();
    let expires_at = now
        + b.output_expires_after
            .unwrap_or(state.settings.batches.output_expires_seconds);
    let outputs = BatchOutputs {
        output: ok
            .store(
                state,
                &b.project,
                format!("{batch_id}_output.jsonl"),
                expires_at,
            )
            .await?,
        errors: failed
            .store(
                state,
                &b.project,
                format!("{batch_id}_error.jsonl"),
                expires_at,
            )
            .await?,
    };
    let done = state.store.finish_batch(batch_id, outputs, now).await?;
    tracing::info!(batch_id, status = done.status.as_str(), "batch finished");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_file_ids_are_stable_per_file_and_shaped_like_minted_ones() {
        let a = output_file_id("batch_1_output.jsonl");
        assert_eq!(a, output_file_id("batch_1_output.jsonl"));
        assert_ne!(a, output_file_id("batch_1_error.jsonl"));
        assert_ne!(a, output_file_id("batch_2_output.jsonl"));
        assert_eq!(a.len(), kinora_core::ids::file_id().len());
        assert!(kinora_core::ids::looks_like(&a, "file-"), "{a}");
    }
}
