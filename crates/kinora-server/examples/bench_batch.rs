//! Batch API benchmark (issue 4), for `scripts/bench-batch.sh`:
//!
//! 1. accept and validate a 50,000-line batch: upload the JSONL, create the batch, time until it
//!    is `in_progress` (every line resolved, staged and enqueued), with the node's peak RSS;
//! 2. retrieve latency with those 50,000 jobs queued;
//! 3. scheduler overhead: the same N renders submitted one by one and as one batch, on fresh nodes
//!    with the same workers, timed to the last completion.
//!
//! Prints Markdown. Usage: `cargo run --release -p kinora-server --example bench_batch -- [LINES] [N]`

use std::time::{Duration, Instant};

use kinora_server::{App, Settings};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

struct Node {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn node(workers: usize) -> anyhow::Result<Node> {
    let dir = tempfile::tempdir()?;
    let settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        workers: Some(workers),
        ..Settings::default()
    };
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let base = format!("http://{}/v1", listener.local_addr()?);
    let app = App::open(settings).await?;
    tokio::spawn(app.run(listener, std::future::pending()));
    Ok(Node {
        base,
        http: reqwest::Client::new(),
        _dir: dir,
    })
}

impl Node {
    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await?
            .json()
            .await?)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "POST {path}: {}", r.text().await?);
        Ok(r.json().await?)
    }

    async fn batch(&self, lines: &[Value]) -> anyhow::Result<String> {
        let mut text = String::new();
        for l in lines {
            text.push_str(&l.to_string());
            text.push('\n');
        }
        let form = Form::new()
            .text("purpose", "batch")
            .part("file", Part::bytes(text.into_bytes()).file_name("in.jsonl"));
        let file: Value = self
            .http
            .post(format!("{}/files", self.base))
            .multipart(form)
            .send()
            .await?
            .json()
            .await?;
        let b = self
            .post(
                "/batches",
                json!({"input_file_id": file["id"], "endpoint": "/v1/videos", "completion_window": "24h"}),
            )
            .await?;
        Ok(b["id"].as_str().unwrap_or_default().to_string())
    }

    async fn wait_batch(&self, id: &str, done: &[&str]) -> anyhow::Result<Value> {
        loop {
            let b = self.get(&format!("/batches/{id}")).await?;
            if done.iter().any(|d| b["status"] == *d) {
                return Ok(b);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn request(i: usize, body: &Value) -> Value {
    json!({"custom_id": format!("r{i}"), "method": "POST", "url": "/v1/videos", "body": body})
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let lines: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(50_000);
    let renders: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(16);

    // 1. Accept and validate.
    let api = node(0).await?;
    let body = json!({"model": "sora-2", "prompt": "a red fox runs across a snowy meadow at dusk", "size": "1280x720", "seconds": "4"});
    let all: Vec<Value> = (0..lines).map(|i| request(i, &body)).collect();
    let rss_before = peak_rss_mib();
    let t = Instant::now();
    let id = api.batch(&all).await?;
    let accepted = t.elapsed();
    let b = api.wait_batch(&id, &["in_progress", "failed"]).await?;
    let validated = t.elapsed();
    anyhow::ensure!(b["status"] == "in_progress", "batch failed: {b}");
    anyhow::ensure!(b["request_counts"]["total"] == lines, "counts: {b}");
    drop(all);
    let rss_after = peak_rss_mib();

    // 2. Retrieve with the queue full.
    let some = api.get("/videos?limit=1").await?;
    let vid = some["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut lat = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        api.get(&format!("/videos/{vid}")).await?;
        lat.push(t.elapsed());
    }
    lat.sort();

    // 3. Scheduler overhead.
    let small = json!({"model": "sora-2", "prompt": "a paper boat on a pond", "size": "720x1280", "seconds": "4"});
    let one_by_one = node(2).await?;
    let t = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..renders {
        ids.push(one_by_one.post("/videos", small.clone()).await?["id"].clone());
    }
    for id in &ids {
        loop {
            let v = one_by_one
                .get(&format!("/videos/{}", id.as_str().unwrap_or_default()))
                .await?;
            if v["status"] == "completed" {
                break;
            }
            anyhow::ensure!(v["status"] != "failed", "render failed: {v}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let direct = t.elapsed();
    let batched_node = node(2).await?;
    let t = Instant::now();
    let reqs: Vec<Value> = (0..renders).map(|i| request(i, &small)).collect();
    let bid = batched_node.batch(&reqs).await?;
    let done = batched_node
        .wait_batch(&bid, &["completed", "failed"])
        .await?;
    let batched = t.elapsed();
    anyhow::ensure!(done["request_counts"]["completed"] == renders, "{done}");

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| what | result |");
    println!("|---|---|");
    println!(
        "| upload {lines}-line JSONL + `POST /v1/batches` answered | {:.0} ms |",
        ms(accepted)
    );
    println!(
        "| ... until `in_progress` (every line validated, staged, enqueued) | {:.2} s ({:.0} lines/s) |",
        validated.as_secs_f64(),
        lines as f64 / validated.as_secs_f64()
    );
    println!(
        "| peak RSS of the process (server + this client) before / after | {rss_before:.0} / {rss_after:.0} MiB |"
    );
    println!(
        "| `GET /v1/videos/{{id}}` with {lines} jobs queued, sequential, p50 / p99 | {:.2} / {:.2} ms |",
        ms(lat[lat.len() / 2]),
        ms(lat[lat.len() * 99 / 100])
    );
    println!(
        "| {renders} renders (720x1280, 4 s, 2 workers) submitted one by one | {:.2} s |",
        direct.as_secs_f64()
    );
    println!(
        "| the same {renders} renders as one batch, to `completed` | {:.2} s |",
        batched.as_secs_f64()
    );
    println!(
        "| scheduler overhead per batch job | {:+.0} ms |",
        (ms(batched) - ms(direct)) / renders as f64
    );
    Ok(())
}
