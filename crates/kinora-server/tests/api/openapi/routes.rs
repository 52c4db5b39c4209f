//! The router's own table, read from its source, and the document's list of operations.

use std::collections::BTreeSet;

use serde_json::Value;

pub const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];

/// `/v1/videos/{video_id}` and `/v1/videos/{id}` are the same route.
pub fn shape(path: &str) -> String {
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

pub fn documented(doc: &Value) -> BTreeSet<(String, String)> {
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

pub fn route_table() -> BTreeSet<(String, String)> {
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
