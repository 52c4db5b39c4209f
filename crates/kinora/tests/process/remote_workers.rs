//! `kinora serve --workers 0` with `kinora worker` processes: a node that renders nothing
//! itself, and a remote worker killed with SIGKILL mid-render whose job another worker finishes
//! once the lease lapses.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

const KEY: &str = "sk-remote-workers";
const TOKEN: &str = "wt-remote-workers-0123456789";

fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    line.trim().to_string()
}

fn serve(data: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinora"))
        .args(["serve", "--listen", "127.0.0.1:0", "--api-key", KEY])
        .args([
            "--workers",
            "0",
            "--worker-token",
            TOKEN,
            "--lease-seconds",
            "2",
        ])
        .arg("--data-dir")
        .arg(data)
        .env("KINORA_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    let base = line
        .strip_prefix("kinora listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    (child, base)
}

fn worker(base: &str, name: &str, scratch: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kinora"))
        .args(["worker", "--server", base, "--token", TOKEN, "--name", name])
        .arg("--scratch-dir")
        .arg(scratch)
        .env("KINORA_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    assert!(line.starts_with("kinora worker running"), "{line}");
    child
}

async fn video(client: &reqwest::Client, base: &str, id: &str) -> Value {
    crate::events::get_json(client, &format!("{base}/v1/videos/{id}"), KEY).await
}

async fn until(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let url = format!("{base}/v1/videos/{id}");
    crate::events::watch_until(client, &url, KEY, done).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_its_job_to_another() {
    let dir = tempfile::tempdir().unwrap();
    let (mut node, base) = serve(&dir.path().join("node"));
    let client = reqwest::Client::new();
    let v: Value = client
        .post(format!("{base}/v1/videos"))
        .bearer_auth(KEY)
        .json(&json!({"prompt": "a horse gallops across a meadow in the rain", "seconds": "12", "seed": 7}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    // No in-process workers: the job waits for a remote one.
    assert_eq!(video(&client, &base, &id).await["status"], "queued");

    let mut a = worker(&base, "doomed", &dir.path().join("a"));
    until(&client, &base, &id, |v| v["status"] == "in_progress").await;
    a.kill().unwrap(); // SIGKILL mid-render
    a.wait().unwrap();

    let mut b = worker(&base, "survivor", &dir.path().join("b"));
    let done = until(&client, &base, &id, |v| {
        v["status"] != "queued" && v["status"] != "in_progress"
    })
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    let bytes = client
        .get(format!("{base}/v1/videos/{id}/content"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let path = dir.path().join("out.mp4");
    std::fs::write(&path, &bytes).unwrap();
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .expect("ffprobe must be installed (Debian package ffmpeg)");
    assert_eq!(
        String::from_utf8_lossy(&probe.stdout).trim(),
        "h264,720,1280,288"
    );

    b.kill().unwrap();
    b.wait().unwrap();
    node.kill().unwrap();
    node.wait().unwrap();
}
