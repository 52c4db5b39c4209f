//! `kill -9` of a serving node with jobs queued and running, then a restart: every job finishes,
//! nothing is lost, and a job rendered again gives the same bytes it would have given the first
//! time (so no job can end with two different results).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

const KEY: &str = "sk-durable";

struct Node {
    child: Child,
    base: String,
}

fn start(data: &Path, workers: u32) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinora"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            KEY,
            "--lease-seconds",
            "3",
        ])
        .arg("--data-dir")
        .arg(data)
        .args(["--workers", &workers.to_string()])
        .env("KINORA_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("kinora listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    Node {
        child,
        base: format!("{base}/v1"),
    }
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    crate::events::get_json(client, &url, KEY).await
}

async fn wait_terminal(client: &reqwest::Client, node: &Node, id: &str) -> Value {
    let url = format!("{}/videos/{id}", node.base);
    crate::events::watch_until(client, &url, KEY, |v| {
        v["status"] != "queued" && v["status"] != "in_progress"
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_then_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut a = start(dir.path(), 1);
    let mut ids = Vec::new();
    for i in 0..4 {
        let v: Value = client
            .post(format!("{}/videos", a.base))
            .bearer_auth(KEY)
            .json(&json!({"prompt": format!("a sailboat at sunset, shot {i}"), "size": "1280x720", "seed": 42}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let first = format!("{}/videos/{}", a.base, ids[0]);
    crate::events::watch_until(&client, &first, KEY, |v| v["status"] == "in_progress").await;
    a.child.kill().unwrap(); // SIGKILL: no graceful anything
    a.child.wait().unwrap();

    let mut b = start(dir.path(), 2);
    let mut etags = Vec::new();
    for id in &ids {
        let v = wait_terminal(&client, &b, id).await;
        assert_eq!(v["status"], "completed", "{v}");
        let r = client
            .get(format!("{}/videos/{id}/content", b.base))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        etags.push(r.bytes().await.unwrap());
    }
    let list = get(&client, format!("{}/videos?limit=100", b.base)).await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        4,
        "no job lost, none duplicated"
    );

    // The job that was mid-render when the node died was rendered again from scratch; a fresh job
    // with the same inputs must give the same bytes, so the retry could not change the result.
    let again: Value = client
        .post(format!("{}/videos", b.base))
        .bearer_auth(KEY)
        .json(&json!({"prompt": "a sailboat at sunset, shot 0", "size": "1280x720", "seed": 42}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again_id = again["id"].as_str().unwrap();
    assert_eq!(
        wait_terminal(&client, &b, again_id).await["status"],
        "completed"
    );
    let bytes = client
        .get(format!("{}/videos/{again_id}/content", b.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(bytes == etags[0], "a re-render must be byte-identical");
    b.child.kill().unwrap();
    b.child.wait().unwrap();
}
