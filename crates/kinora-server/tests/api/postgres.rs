//! The server on PostgreSQL: create, render and download a video with metadata and queue in a
//! fresh database made from `KINORA_TEST_POSTGRES_URL` (dropped afterwards). Without that
//! variable the test fails, unless `KINORA_TEST_POSTGRES=skip` skips it on purpose.

use crate::support;

use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use support::*;

const URL_VAR: &str = "KINORA_TEST_POSTGRES_URL";

fn admin_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Some(url);
    }
    if std::env::var("KINORA_TEST_POSTGRES").as_deref() == Ok("skip") {
        eprintln!("PostgreSQL tests skipped: KINORA_TEST_POSTGRES=skip");
        return None;
    }
    panic!(
        "{URL_VAR} is not set: run scripts/test.sh (it starts a throwaway PostgreSQL) or set \
         {URL_VAR}=postgres://user@host:port/db; KINORA_TEST_POSTGRES=skip skips these tests"
    );
}

/// `url` with its database (the path) replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_at = base.find("://").map_or(0, |i| i + 3);
    let base = base[authority_at..]
        .find('/')
        .map_or(base, |slash| &base[..authority_at + slash]);
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

async fn admin(url: &str, sql: &str) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_render_download_on_postgres() {
    let Some(admin_url) = admin_url() else {
        return;
    };
    let name = format!("kinora_server_test_{}", std::process::id());
    admin(&admin_url, &format!("DROP DATABASE IF EXISTS \"{name}\"")).await;
    admin(&admin_url, &format!("CREATE DATABASE \"{name}\"")).await;

    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), 1);
    s.database_url = Some(kinora_server::settings::Secret(with_database(
        &admin_url, &name,
    )));
    let app = TestApp::with_settings(s).await;
    assert!(
        !dir.path().join("kinora.db").exists(),
        "metadata must go to PostgreSQL, not SQLite"
    );
    let v = app
        .create(json!({"prompt": "a lighthouse on a cliff at dawn", "size": "1280x720", "seconds": "4"}))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let done = app.wait(&id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"], 100);

    let mp4 = save(app.content(&id, "video").await, dir.path(), "v.mp4").await;
    let (codec, w, h, frames, duration, _) = ffprobe(&mp4);
    assert_eq!((codec.as_str(), w, h, frames), ("h264", 1280, 720, 96));
    assert!((duration - 4.0).abs() < 0.1, "{duration}");
    let listed: serde_json::Value = app.get("/videos").await.json().await.unwrap();
    assert_eq!(listed["data"][0]["id"], id.as_str());
    app.stop().await;

    admin(
        &admin_url,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await;
}
