//! The Files API: upload, read, list, download, delete, ownership, validation, and images used
//! as `input_reference.file_id`.

use crate::support;

use reqwest::multipart::Form;
use serde_json::{Value, json};
use support::*;

async fn upload(app: &TestApp, bytes: Vec<u8>, name: &str, purpose: &str) -> Value {
    let form = Form::new()
        .text("purpose", purpose.to_string())
        .part("file", file_part(bytes, name, "application/octet-stream"));
    let r = app.post_form("/files", form).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(w, h, image::Rgb([30, 90, 200]))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test]
async fn upload_read_list_download_delete() {
    let app = TestApp::spawn(0).await;
    let body = b"{\"custom_id\":\"a\"}\n".to_vec();
    let f = upload(&app, body.clone(), "in.jsonl", "batch").await;
    let id = f["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("file-"));
    assert_eq!(f["object"], "file");
    assert_eq!(f["bytes"], body.len());
    assert_eq!(f["filename"], "in.jsonl");
    assert_eq!(f["purpose"], "batch");
    assert_eq!(f["status"], "processed");
    // Batch inputs expire after 30 days by default.
    assert_eq!(
        f["expires_at"].as_i64().unwrap() - f["created_at"].as_i64().unwrap(),
        30 * 24 * 3600
    );
    let img = upload(&app, png(8, 8), "a.png", "vision").await;
    assert_eq!(img["expires_at"], Value::Null);

    let got: Value = app.get(&format!("/files/{id}")).await.json().await.unwrap();
    assert_eq!(got, f);
    let r = app.get(&format!("/files/{id}/content")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-length"],
        body.len().to_string().as_str()
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), body);

    let all: Value = app.get("/files?order=asc").await.json().await.unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    assert_eq!(all["first_id"], f["id"]);
    let only: Value = app.get("/files?purpose=vision").await.json().await.unwrap();
    assert_eq!(only["data"][0]["id"], img["id"]);
    assert_eq!(only["data"].as_array().unwrap().len(), 1);
    let page: Value = app
        .get("/files?limit=1&order=asc")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["has_more"], true);

    // Another project sees nothing.
    let other = app
        .client
        .get(app.url(&format!("/files/{id}")))
        .bearer_auth(OTHER_KEY)
        .send()
        .await
        .unwrap();
    expect_error(other, 404, Some("file_id")).await;

    let d: Value = app
        .delete(&format!("/files/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d, json!({"id": id, "object": "file", "deleted": true}));
    expect_error(app.get(&format!("/files/{id}")).await, 404, None).await;
    expect_error(app.get(&format!("/files/{id}/content")).await, 404, None).await;
    expect_error(app.delete(&format!("/files/{id}")).await, 404, None).await;
    assert!(!app.data.join("blobs/files").join(&id).exists());
    app.stop().await;
}

#[tokio::test]
async fn upload_validation() {
    let app = TestApp::spawn(0).await;
    let bad_purpose = Form::new()
        .text("purpose", "fine-tune")
        .part("file", file_part(b"x".to_vec(), "x.jsonl", "text/plain"));
    expect_error(
        app.post_form("/files", bad_purpose).await,
        400,
        Some("purpose"),
    )
    .await;
    let no_file = Form::new().text("purpose", "batch");
    expect_error(app.post_form("/files", no_file).await, 400, Some("file")).await;
    let empty = Form::new()
        .text("purpose", "batch")
        .part("file", file_part(Vec::new(), "x.jsonl", "text/plain"));
    expect_error(app.post_form("/files", empty).await, 400, Some("file")).await;
    let short = Form::new()
        .text("purpose", "batch")
        .text("expires_after[anchor]", "created_at")
        .text("expires_after[seconds]", "60")
        .part("file", file_part(b"x".to_vec(), "x.jsonl", "text/plain"));
    expect_error(
        app.post_form("/files", short).await,
        400,
        Some("expires_after.seconds"),
    )
    .await;
    let custom = Form::new()
        .text("purpose", "user_data")
        .text("expires_after[anchor]", "created_at")
        .text("expires_after[seconds]", "7200")
        .part("file", file_part(b"x".to_vec(), "x.bin", "text/plain"));
    let r = app.post_form("/files", custom).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["expires_at"].as_i64().unwrap() - v["created_at"].as_i64().unwrap(),
        7200
    );
    let json_body = app.post_json("/files", json!({"purpose": "batch"})).await;
    expect_error(json_body, 400, Some("file")).await;
    expect_error(app.get("/files/nope").await, 404, Some("file_id")).await;
    app.stop().await;
}

#[tokio::test]
async fn file_as_input_reference() {
    let app = TestApp::spawn(0).await;
    let img = upload(&app, png(1280, 720), "ref.png", "vision").await;
    let v = app
        .create(json!({
            "prompt": "a red fox in the snow",
            "size": "1280x720",
            "input_reference": {"file_id": img["id"]},
        }))
        .await;
    assert_eq!(v["status"], "queued");
    let vid = v["id"].as_str().unwrap();
    assert!(
        app.data
            .join(format!("blobs/inputs/{vid}/reference"))
            .exists()
    );

    // Another size is fitted (scale to cover, centre crop), as with an uploaded image.
    let other_size = upload(&app, png(64, 64), "small.png", "user_data").await;
    let r = app
        .post_json(
            "/videos",
            json!({"prompt": "p", "size": "1280x720", "input_reference": {"file_id": other_size["id"]}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let jsonl = upload(&app, b"{}\n".to_vec(), "in.jsonl", "batch").await;
    let r = app
        .post_json(
            "/videos",
            json!({"prompt": "p", "input_reference": {"file_id": jsonl["id"]}}),
        )
        .await;
    expect_error(r, 400, Some("input_reference")).await;
    let r = app
        .post_json(
            "/videos",
            json!({"prompt": "p", "input_reference": {"file_id": "file-missing"}}),
        )
        .await;
    let e = expect_error(r, 400, Some("input_reference")).await;
    assert_eq!(e["code"], "file_not_found");
    app.stop().await;
}
