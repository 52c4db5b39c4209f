//! `/openapi.json` against the running server: every route is documented, every documented
//! operation is routed, and what the server answers conforms to the documented schemas.

mod routes;
mod schema;

use crate::support;

use std::collections::BTreeSet;

use routes::{METHODS, documented, route_table, shape};
use schema::{check, refs};
use serde_json::{Value, json};
use support::*;

async fn document(app: &TestApp) -> Value {
    // Served without a key, like /healthz.
    let r = app
        .client
        .get(app.root_url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = r.json().await.unwrap();
    let version = doc["openapi"].as_str().expect("no openapi version");
    assert!(version.starts_with("3."), "not OpenAPI 3.x: {version}");
    assert_eq!(doc["info"]["title"], "Kinora");
    assert!(
        doc["info"]["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_resolves() {
    let app = TestApp::spawn(0).await;
    let doc = document(&app).await;
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    let dangling: BTreeSet<&str> = all
        .into_iter()
        .filter(|r| {
            r.strip_prefix("#/components/schemas/")
                .is_none_or(|name| !doc["components"]["schemas"][name].is_object())
        })
        .collect();
    assert!(dangling.is_empty(), "dangling $refs: {dangling:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_ids_are_unique() {
    let app = TestApp::spawn(0).await;
    let doc = document(&app).await;
    let mut seen = std::collections::BTreeMap::<&str, Vec<String>>::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(id) = item[m]["operationId"].as_str() {
                seen.entry(id).or_default().push(format!("{m} {path}"));
            }
        }
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, ops)| ops.len() > 1).collect();
    assert!(
        repeated.is_empty(),
        "operationIds must be unique; set `operation_id = ...`: {repeated:#?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    let app = TestApp::spawn(0).await;
    let doc = document(&app).await;
    let ops = documented(&doc);
    let shapes: BTreeSet<(String, String)> =
        ops.iter().map(|(m, p)| (m.clone(), shape(p))).collect();

    let table = route_table();
    assert!(
        table.len() >= 19,
        "the route table parser found too few routes: {table:?}"
    );
    let missing: Vec<String> = table
        .iter()
        .filter(|(m, p)| !shapes.contains(&(m.clone(), shape(p))))
        .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
        .collect();
    assert!(
        missing.is_empty(),
        "routed but missing from /openapi.json (see the note atop src/openapi.rs): {missing:#?}"
    );
    assert!(table.iter().any(|(_, p)| p == "/openapi.json"));

    // Conversely, every documented operation reaches a handler: not the router's fallback (an
    // "Unknown request URL" 404) and not a 405 for a method the path does not serve.
    for (m, p) in &ops {
        let url = app.root_url(&p.replace('{', "probe_").replace('}', ""));
        let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
        let mut req = app.client.request(method, &url).bearer_auth(&app.key);
        if m == "post" {
            req = req.json(&json!({}));
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        assert_ne!(status, 405, "{m} {p} is documented but not routed");
        // A HEAD answer has no body to tell a handler's 404 from the fallback's; GET on the
        // same path is probed above or below.
        if m != "head" && status == 404 {
            let v: Value = r.json().await.unwrap();
            let message = v["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !message.starts_with("Unknown request URL"),
                "{m} {p} is documented but falls through to the router's fallback: {v}"
            );
        }
        if p.starts_with("/v1/") {
            let op = &doc["paths"][p][m];
            assert!(
                op["responses"].get("401").is_some(),
                "{m} {p} does not document the 401 of a missing API key"
            );
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_video_schema_has_the_contracts_fields() {
    let app = TestApp::spawn(0).await;
    let doc = document(&app).await;
    let video = &doc["components"]["schemas"]["Video"];
    let props = video["properties"].as_object().expect("no Video schema");
    let required: Vec<&str> = video["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for field in [
        "id",
        "object",
        "model",
        "status",
        "progress",
        "created_at",
        "completed_at",
        "expires_at",
        "prompt",
        "size",
        "seconds",
        "remixed_from_video_id",
        "error",
    ] {
        assert!(props.contains_key(field), "Video lacks {field}");
        // The contract lists all thirteen as required, the nullable ones present as null.
        assert!(required.contains(&field), "Video does not require {field}");
    }
    assert_eq!(props["object"]["enum"], json!(["video"]));
    assert_eq!(
        props["status"]["enum"],
        json!(["queued", "in_progress", "completed", "failed", "expired"])
    );
    for ext in ["queue_position", "usage", "seed", "kind"] {
        // A nullable reference carries its description on the reference, inside `oneOf`.
        let p = &props[ext];
        let described = std::iter::once(p)
            .chain(p["oneOf"].as_array().into_iter().flatten())
            .filter_map(|s| s["description"].as_str())
            .any(|d| d.contains("Kinora extension"));
        assert!(described, "{ext} is not marked as a Kinora extension: {p}");
    }
    for path in ["/v1/videos", "/v1/videos/extensions", "/v1/videos/edits"] {
        let content = &doc["paths"][path]["post"]["requestBody"]["content"];
        for ct in ["application/json", "multipart/form-data"] {
            assert!(content.get(ct).is_some(), "POST {path} lacks a {ct} body");
        }
    }
    let character_form = &doc["paths"]["/v1/videos/characters"]["post"]["requestBody"]["content"]["multipart/form-data"];
    assert!(character_form.is_object());
    app.stop().await;
}

/// Sends `req`, and checks its JSON answer against what the document says `method path`
/// answers with that status.
async fn conforms(doc: &Value, method: &str, path: &str, req: reqwest::RequestBuilder) -> Value {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16().to_string();
    let v: Value = r.json().await.unwrap();
    let response = &doc["paths"][path][method]["responses"][&status];
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which it does not document: {v}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {status} documents no JSON body"
    );
    let mut errs = Vec::new();
    check(doc, &v, schema, "$", &mut errs);
    assert!(
        errs.is_empty(),
        "{method} {path} {status}: {errs:#?}\nbody: {v}"
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_conform_to_the_documented_schemas() {
    let app = TestApp::spawn(0).await;
    let doc = document(&app).await;
    let c = &app.client;
    let key = app.key.as_str();

    let first = conforms(
        &doc,
        "post",
        "/v1/videos",
        c.post(app.url("/videos"))
            .bearer_auth(key)
            .json(&json!({"prompt": "a red ball bounces", "seed": 7})),
    )
    .await;
    // No workers: it stays queued, so queue_position is an integer, not null.
    assert!(first["queue_position"].is_u64(), "{first}");
    let form = text_form(&[("prompt", "a blue cube spins"), ("seconds", "8")]);
    let second = conforms(
        &doc,
        "post",
        "/v1/videos",
        c.post(app.url("/videos")).bearer_auth(key).multipart(form),
    )
    .await;
    let id = first["id"].as_str().unwrap();
    conforms(
        &doc,
        "get",
        "/v1/videos/{video_id}",
        c.get(app.url(&format!("/videos/{id}"))).bearer_auth(key),
    )
    .await;
    let page = conforms(
        &doc,
        "get",
        "/v1/videos",
        c.get(app.url("/videos?limit=1")).bearer_auth(key),
    )
    .await;
    assert_eq!(page["has_more"], true);
    // A cancelled job is failed with an error object: that shape is checked too.
    let cancelled = conforms(
        &doc,
        "post",
        "/v1/videos/{video_id}/cancel",
        c.post(app.url(&format!("/videos/{id}/cancel")))
            .bearer_auth(key),
    )
    .await;
    assert_eq!(cancelled["error"]["code"], "cancelled", "{cancelled}");
    conforms(
        &doc,
        "post",
        "/v1/videos/{video_id}/cancel",
        c.post(app.url(&format!("/videos/{id}/cancel")))
            .bearer_auth(key),
    )
    .await;
    let second_id = second["id"].as_str().unwrap();
    conforms(
        &doc,
        "delete",
        "/v1/videos/{video_id}",
        c.delete(app.url(&format!("/videos/{second_id}")))
            .bearer_auth(key),
    )
    .await;
    conforms(
        &doc,
        "get",
        "/v1/videos/{video_id}",
        c.get(app.url(&format!("/videos/{second_id}")))
            .bearer_auth(key),
    )
    .await;
    conforms(
        &doc,
        "post",
        "/v1/videos",
        c.post(app.url("/videos")).bearer_auth(key).json(&json!({})),
    )
    .await;
    conforms(
        &doc,
        "get",
        "/v1/videos",
        c.get(app.url("/videos")).bearer_auth("sk-wrong"),
    )
    .await;
    conforms(
        &doc,
        "get",
        "/v1/videos/{video_id}/content",
        c.get(app.url(&format!("/videos/{id}/content")))
            .bearer_auth(key),
    )
    .await;
    conforms(
        &doc,
        "get",
        "/v1/models",
        c.get(app.url("/models")).bearer_auth(key),
    )
    .await;
    conforms(
        &doc,
        "get",
        "/v1/models/{model}",
        c.get(app.url("/models/sora-2-pro")).bearer_auth(key),
    )
    .await;
    conforms(
        &doc,
        "get",
        "/v1/videos/characters",
        c.get(app.url("/videos/characters")).bearer_auth(key),
    )
    .await;
    conforms(
        &doc,
        "get",
        "/v1/videos/characters/{character_id}",
        c.get(app.url("/videos/characters/char_missing"))
            .bearer_auth(key),
    )
    .await;
    conforms(
        &doc,
        "post",
        "/v1/videos/extensions",
        c.post(app.url("/videos/extensions"))
            .bearer_auth(key)
            .json(&json!({"video": {"id": id}, "prompt": "more", "seconds": "4"})),
    )
    .await;
    app.stop().await;
}
