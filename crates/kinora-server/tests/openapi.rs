//! `/openapi.json` against the running server: every route is documented, every documented
//! operation is routed, and what the server answers conforms to the documented schemas.

mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::*;

const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];

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

/// `/v1/videos/{video_id}` and `/v1/videos/{id}` are the same route.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("no paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.insert((m.to_string(), path.clone()));
            }
        }
    }
    ops
}

/// The `.route("/path", get(..).post(..))` calls of a router source file, as (method, path).
fn routes_in(source: &str, prefix: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for chunk in source.split(".route(").skip(1) {
        let path = chunk
            .split('"')
            .nth(1)
            .expect("route without a path literal");
        // The call's arguments end at the parenthesis that closes `.route(`.
        let mut depth = 1usize;
        let mut end = chunk.len();
        for (i, c) in chunk.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let args = &chunk[..end];
        for m in METHODS {
            let called = args.match_indices(&format!("{m}(")).any(|(i, _)| {
                i == 0 || !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if called {
                out.insert((m.to_string(), format!("{prefix}{path}")));
            }
        }
    }
    out
}

fn route_table() -> BTreeSet<(String, String)> {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let v1 = std::fs::read_to_string(format!("{src}/routes/mod.rs")).unwrap();
    let app = std::fs::read_to_string(format!("{src}/app.rs")).unwrap();
    assert!(
        app.contains(".nest(\"/v1\", routes::v1())"),
        "app.rs no longer nests routes::v1() under /v1; update this test"
    );
    let mut table = routes_in(&v1, "/v1");
    table.extend(routes_in(&app, ""));
    table
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

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {r}"));
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "dangling $ref {r}");
            resolve(doc, target)
        }
        None => schema,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `v` against the subset of JSON Schema that utoipa emits; undocumented object keys are
/// errors too, so a field the server adds without documenting it fails here.
fn check(doc: &Value, v: &Value, schema: &Value, at: &str, errs: &mut Vec<String>) {
    let s = resolve(doc, schema);
    if let Some(alts) = s
        .get("oneOf")
        .or_else(|| s.get("anyOf"))
        .and_then(Value::as_array)
    {
        let fits = alts.iter().any(|alt| {
            let mut e = Vec::new();
            check(doc, v, alt, at, &mut e);
            e.is_empty()
        });
        if !fits {
            errs.push(format!("{at}: {v} fits none of {s}"));
        }
        return;
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(doc, v, part, at, errs);
        }
        return;
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        errs.push(format!("{at}: {v} is not one of {allowed:?}"));
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    let actual = json_type(v);
    if !types.contains(&actual) && !(actual == "integer" && types.contains(&"number")) {
        errs.push(format!("{at}: {v} is {actual}, documented {types:?}"));
        return;
    }
    match v {
        Value::Object(map) => {
            let empty = serde_json::Map::new();
            let props = s["properties"].as_object().unwrap_or(&empty);
            for r in s["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                if !map.contains_key(r) {
                    errs.push(format!("{at}: required {r} is missing"));
                }
            }
            for (k, val) in map {
                match props.get(k) {
                    Some(p) => check(doc, val, p, &format!("{at}.{k}"), errs),
                    None if s.get("additionalProperties").is_some() => {}
                    None => errs.push(format!("{at}: {k} is served but not documented")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(doc, item, item_schema, &format!("{at}[{i}]"), errs);
                }
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap();
            if s["minimum"].as_f64().is_some_and(|min| x < min)
                || s["maximum"].as_f64().is_some_and(|max| x > max)
            {
                errs.push(format!("{at}: {x} is out of the documented range"));
            }
        }
        _ => {}
    }
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
