//! Batch helpers: JSONL lines, uploads, creating and waiting for batches, reading result files.

use std::time::Duration;

use reqwest::multipart::Form;
use serde_json::{Value, json};

use super::{TestApp, file_part};

pub fn line(custom_id: &str, body: Value) -> String {
    json!({"custom_id": custom_id, "method": "POST", "url": "/v1/videos", "body": body}).to_string()
}

pub fn shot(prompt: &str) -> Value {
    json!({"model": "sora-2", "prompt": prompt, "size": "1280x720", "seconds": "4"})
}

pub async fn upload(app: &TestApp, text: String) -> String {
    let form = Form::new().text("purpose", "batch").part(
        "file",
        file_part(text.into_bytes(), "in.jsonl", "application/jsonl"),
    );
    let v: Value = app.post_form("/files", form).await.json().await.unwrap();
    v["id"].as_str().expect("file id").to_string()
}

pub async fn create_batch(app: &TestApp, lines: &[String]) -> Value {
    let file = upload(app, lines.join("\n") + "\n").await;
    app.create_at(
        "/batches",
        json!({"input_file_id": file, "endpoint": "/v1/videos", "completion_window": "24h",
               "metadata": {"project": "trailer"}}),
    )
    .await
}

/// Polls until the batch reaches one of `want`; bounded so a hang fails the test.
pub async fn wait_batch(app: &TestApp, id: &str, want: &[&str]) -> Value {
    for _ in 0..1800 {
        let b: Value = app
            .get(&format!("/batches/{id}"))
            .await
            .json()
            .await
            .unwrap();
        if want.iter().any(|w| b["status"] == *w) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("batch {id} never reached {want:?}");
}

pub async fn jsonl(app: &TestApp, file_id: &Value) -> Vec<Value> {
    let text = app
        .get(&format!("/files/{}/content", file_id.as_str().unwrap()))
        .await
        .text()
        .await
        .unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
