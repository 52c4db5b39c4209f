//! Node faults: a disk that refuses writes must neither wedge the server nor burn the queue.

use crate::support;

use kinora_core::VideoStatus;
use kinora_server::jobs::runner;
use serde_json::{Value, json};
use support::*;
use tokio_util::sync::CancellationToken;

async fn readyz(app: &TestApp) -> (u16, Value) {
    let r = app
        .client
        .get(app.root_url("/readyz"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_scratch_pauses_the_runner_without_spending_attempts() {
    let app = TestApp::spawn(0).await;
    let id = app.create(json!({"prompt": "a kite over dunes"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Scratch that even root cannot write to: the directory is replaced by a file.
    let tmp = app.data.join("tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, b"").unwrap();
    let worker = "tester/w0/";
    let stop = CancellationToken::new();
    let outcome = runner::tick(&app.state, worker, &stop).await;
    assert_eq!(outcome, runner::Outcome::Paused(Some(id.clone())));
    let v = app
        .state
        .store
        .get_video_unscoped(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.status, VideoStatus::Queued);
    assert_eq!(v.attempts, 0, "a node fault spends no attempt");
    // While the fault lasts nothing is claimed, and readiness says why.
    assert_eq!(
        runner::tick(&app.state, worker, &stop).await,
        runner::Outcome::Paused(None)
    );
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reasons"][0]["part"], "scratch", "{body}");
    assert!(
        !body.to_string().contains(app.data.to_str().unwrap()),
        "{body}"
    );

    std::fs::remove_file(&tmp).unwrap();
    std::fs::create_dir(&tmp).unwrap();
    assert_eq!(
        runner::tick(&app.state, worker, &stop).await,
        runner::Outcome::Completed(id.clone())
    );
    assert_eq!(app.video(&id).await["status"], "completed");
    assert_eq!(readyz(&app).await.0, 200);
    app.stop().await;
}

/// A small tmpfs for the data directory; unmounted on drop. `None` where mounting is not
/// permitted (not root, no CAP_SYS_ADMIN in a container).
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(mib: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

/// Fills the file system holding `path` with one file, which is returned.
fn fill(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![7u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    while f.write_all(&chunk[..512]).is_ok() {}
    let _ = f.sync_all();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_503_and_serves_again_once_space_is_back() {
    let Some(disk) = SmallDisk::mount(12) else {
        eprintln!("skipped: mounting a tmpfs is not permitted here");
        return;
    };
    let app = TestApp::with_settings(settings(disk.0.path(), 0)).await;
    let first = app.create(json!({"prompt": "a lighthouse"})).await;
    let filler = fill(disk.0.path());
    // SQLite may still have room in its WAL for a few rows: write until the disk refuses.
    let mut refused = None;
    for i in 0..500 {
        let r = app
            .post_json(
                "/videos",
                json!({"prompt": format!("a gull {i} {}", "x".repeat(4000))}),
            )
            .await;
        match r.status().as_u16() {
            200 => continue,
            503 => {
                refused = Some(r);
                break;
            }
            other => panic!(
                "a write on a full disk answered {other}: {}",
                r.text().await.unwrap()
            ),
        }
    }
    let r = refused.expect("the full disk refused a write");
    assert!(r.headers().contains_key("retry-after"));
    let body = expect_error(r, 503, None).await;
    assert_eq!(body["code"], "storage_unavailable", "{body}");
    // Reads go on, and readiness says why writes do not.
    assert_eq!(
        app.video(first["id"].as_str().unwrap()).await["status"],
        "queued"
    );
    let (status, ready) = readyz(&app).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["reasons"][0]["part"], "database", "{ready}");

    std::fs::remove_file(&filler).unwrap();
    let again = app
        .post_json("/videos", json!({"prompt": "a gull, later"}))
        .await;
    assert_eq!(again.status(), 200, "{}", again.text().await.unwrap());
    assert_eq!(readyz(&app).await.0, 200);
    app.stop().await;
}
