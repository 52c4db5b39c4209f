//! Extensions, edits, remixes, characters and ranged downloads, end to end.

use crate::support;

use serde_json::{Value, json};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extend_edit_remix_and_ranges() {
    let app = TestApp::spawn(2).await;
    let dir = tempfile::tempdir().unwrap();
    let src = app.create(json!({"prompt": "a yellow car drives along a coastal road at noon", "size": "1280x720", "seed": 11})).await;
    let src_id = src["id"].as_str().unwrap().to_string();
    assert_eq!(app.wait(&src_id).await["status"], "completed");

    // Ranged download, HEAD and conditional GET.
    let full = app.content(&src_id, "video").await;
    let etag = full.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let len: usize = full.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = full.bytes().await.unwrap();
    assert_eq!(body.len(), len);
    let part = app
        .client
        .get(app.url(&format!("/videos/{src_id}/content")))
        .bearer_auth(KEY)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{len}").as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), body.slice(100..200));
    let bad = app
        .client
        .get(app.url(&format!("/videos/{src_id}/content")))
        .bearer_auth(KEY)
        .header("range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 416);
    let head = app
        .client
        .head(app.url(&format!("/videos/{src_id}/content")))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], len.to_string().as_str());
    let cached = app
        .client
        .get(app.url(&format!("/videos/{src_id}/content")))
        .bearer_auth(KEY)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    // Extension by id: the result is the stitched total.
    let ext = app
        .post_form(
            "/videos/extensions",
            text_form(&[
                ("prompt", "the car stops and a dog jumps out"),
                ("seconds", "4"),
                ("video[id]", &src_id),
            ]),
        )
        .await;
    let ext: Value = ext.json().await.unwrap();
    assert_eq!(ext["seconds"], "8", "{ext}");
    let ext_id = ext["id"].as_str().unwrap().to_string();
    // Edit by id (JSON form) and a remix.
    let edit = app
        .create_at(
            "/videos/edits",
            json!({"prompt": "make it night", "video": {"id": src_id}}),
        )
        .await;
    let remix = app
        .create_at(
            &format!("/videos/{src_id}/remix"),
            json!({"prompt": "make the car red"}),
        )
        .await;
    assert_eq!(remix["remixed_from_video_id"], src_id.as_str());

    let ext_done = app.wait(&ext_id).await;
    assert_eq!(ext_done["status"], "completed", "{ext_done}");
    assert_eq!(
        ext_done["usage"]["seconds"], 4,
        "extensions bill the new segment"
    );
    let p = save(app.content(&ext_id, "video").await, dir.path(), "ext.mp4").await;
    let (codec, w, h, frames, duration, audio) = ffprobe(&p);
    assert_eq!(
        (codec.as_str(), w, h, frames, audio),
        ("h264", 1280, 720, 192, true)
    );
    assert!((duration - 8.0).abs() < 0.1);
    assert_eq!(decode_errors(&p), "");

    for id in [edit["id"].as_str().unwrap(), remix["id"].as_str().unwrap()] {
        let v = app.wait(id).await;
        assert_eq!(v["status"], "completed", "{v}");
        assert_eq!(v["size"], "1280x720");
        assert_eq!(v["seconds"], "4");
        let p = save(
            app.content(id, "video").await,
            dir.path(),
            &format!("{id}.mp4"),
        )
        .await;
        let (_, w, h, frames, _, _) = ffprobe(&p);
        assert_eq!((w, h, frames), (1280, 720, 96));
    }

    // An extension of the extension chains on; an uploaded clip can be extended and edited too.
    let form = text_form(&[("prompt", "continue"), ("seconds", "4")])
        .part("video", file_part(body.to_vec(), "src.mp4", "video/mp4"));
    let up_ext: Value = app
        .post_form("/videos/extensions", form)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(up_ext["seconds"], "8", "{up_ext}");
    let form = text_form(&[("prompt", "in noir style"), ("model", "sora-2")])
        .part("video", file_part(body.to_vec(), "src.mp4", "video/mp4"));
    let up_edit: Value = app
        .post_form("/videos/edits", form)
        .await
        .json()
        .await
        .unwrap();
    let form = text_form(&[("prompt", "in noir style")])
        .part("video", file_part(body.to_vec(), "src.mp4", "video/mp4"));
    expect_error(
        app.post_form("/videos/edits", form).await,
        400,
        Some("model"),
    )
    .await;
    for id in [
        up_ext["id"].as_str().unwrap(),
        up_edit["id"].as_str().unwrap(),
    ] {
        assert_eq!(app.wait(id).await["status"], "completed");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn characters_round_trip() {
    let app = TestApp::spawn(1).await;
    let clip = app
        .create(json!({"prompt": "a red fox walks across a snowy meadow", "size": "1280x720", "seed": 5}))
        .await;
    let clip_id = clip["id"].as_str().unwrap().to_string();
    assert_eq!(app.wait(&clip_id).await["status"], "completed");
    let bytes = app.content(&clip_id, "video").await.bytes().await.unwrap();
    let form = text_form(&[("name", "Mossy")])
        .part("video", file_part(bytes.to_vec(), "char.mp4", "video/mp4"));
    let c: Value = app
        .post_form("/videos/characters", form)
        .await
        .json()
        .await
        .unwrap();
    let cid = c["id"].as_str().unwrap().to_string();
    assert!(cid.starts_with("char_"), "{c}");
    assert_eq!(c["name"], "Mossy");
    assert!(c["created_at"].is_i64());
    let got: Value = app
        .get(&format!("/videos/characters/{cid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], cid.as_str());
    let listed: Value = app.get("/videos/characters").await.json().await.unwrap();
    assert_eq!(listed["data"][0]["id"], cid.as_str());

    let e = expect_error(
        app.post_json(
            "/videos",
            json!({"prompt": "a teapot dances", "characters": [{"id": cid}]}),
        )
        .await,
        400,
        Some("characters"),
    )
    .await;
    assert_eq!(e["code"], "character_not_in_prompt");
    let form = text_form(&[
        ("prompt", "Mossy the teapot slides across a beach"),
        ("size", "1280x720"),
        ("characters[][id]", &cid),
    ]);
    let v: Value = app.post_form("/videos", form).await.json().await.unwrap();
    let done = app.wait(v["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");

    let del: Value = app
        .delete(&format!("/videos/characters/{cid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(del["deleted"], true);
    expect_error(
        app.get(&format!("/videos/characters/{cid}")).await,
        404,
        None,
    )
    .await;
    app.stop().await;
}
