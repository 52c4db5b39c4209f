//! The built-in engine's reading of prompts through the API: `interpretation` on the video
//! object, refusals at no charge (`edit_not_understood`, `prompt_not_understood`).

use crate::support;

use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interpretation_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), 1);
    s.engine.min_coverage = 0.5;
    let app = TestApp::with_settings(s).await;

    let src = app
        .create(json!({"prompt": "a yellow taxi drives through the city", "size": "1280x720", "seconds": "4"}))
        .await;
    let id = src["id"].as_str().unwrap().to_string();
    let reading = &src["interpretation"];
    assert_eq!(reading["ignored"], json!([]), "{src}");
    assert_eq!(reading["coverage"], 1.0);
    assert!(
        reading["understood"]
            .as_array()
            .unwrap()
            .contains(&json!({"word": "taxi", "as": "subject:car"})),
        "{reading}"
    );
    assert_eq!(app.video(&id).await["interpretation"], *reading);
    assert_eq!(app.wait(&id).await["status"], "completed");

    // Below engine.min_coverage: refused before anything is stored.
    let r = app
        .post_json(
            "/videos",
            json!({"prompt": "abstract ink swirling in water"}),
        )
        .await;
    let err = expect_error(r, 400, Some("prompt")).await;
    assert_eq!(err["code"], "prompt_not_understood", "{err}");
    assert!(err["message"].as_str().unwrap().contains("ink"));

    // An edit that would change nothing fails, and costs nothing.
    let edit = app
        .create_at(
            "/videos/edits",
            json!({"prompt": "make the puppy wear a hat", "video": {"id": id}}),
        )
        .await;
    assert_eq!(edit["interpretation"]["ignored"], json!(["wear", "hat"]));
    let done = app.wait(edit["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "edit_not_understood");
    assert!(
        done["error"]["message"]
            .as_str()
            .unwrap()
            .contains("make it night")
    );
    assert_eq!(done["usage"], json!({"seconds": 0, "cost_usd": 0.0}));
    let list = app
        .get("/videos?limit=10")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["interpretation"].is_object()),
        "{list}"
    );
    app.stop().await;
}
