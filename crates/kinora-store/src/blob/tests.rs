//! Every scenario runs on the local directory and on a real S3-protocol server (started by
//! `scripts/test.sh`, see `scripts/s3.sh`), each S3 test under its own random prefix.

use std::path::Path as FsPath;

use bytes::Bytes;
use futures::TryStreamExt;

use super::{BlobStore, PART_BYTES, S3Config};
use crate::error::StoreError;

/// Content whose every offset is recognisable, so a wrong range cannot pass.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

async fn collect(store: &BlobStore, key: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store
        .get_range(key, range)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

/// The S3 store under test: `KINORA_TEST_S3_URL` plus a fresh random prefix, credentials and
/// endpoint from the `AWS_*` variables. `None` only when `KINORA_TEST_S3=skip` says so: a
/// missing server must fail the run, not pass it quietly.
fn s3_store() -> Option<BlobStore> {
    let url = match std::env::var("KINORA_TEST_S3_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ if std::env::var("KINORA_TEST_S3").as_deref() == Ok("skip") => return None,
        _ => panic!(
            "KINORA_TEST_S3_URL is not set: run the tests with scripts/test.sh (which starts an \
             S3 server), or start one with `scripts/s3.sh start DIR` and export the lines it \
             prints, or set KINORA_TEST_S3=skip to skip the S3 tests explicitly"
        ),
    };
    let url = format!("{}/{}", url.trim_end_matches('/'), unique_segment());
    Some(BlobStore::from_url(&url, &S3Config::default()).unwrap())
}

fn unique_segment() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("t-{:016x}", h.finish())
}

async fn put_file_head_range_and_delete(store: &BlobStore, scratch: &FsPath) {
    let src = scratch.join("src.mp4");
    // Larger than one part, so the streamed multipart path runs (parts of 8 MiB, S3's 5 MiB
    // minimum for all but the last).
    let content = pattern(PART_BYTES * 2 + 12_345);
    std::fs::write(&src, &content).unwrap();

    let n = store
        .put_file("videos/video_1/video.mp4", &src)
        .await
        .unwrap();
    assert_eq!(n, content.len() as u64);
    store
        .put_bytes(
            "videos/video_1/thumbnail.webp",
            Bytes::from_static(b"RIFFthumb"),
        )
        .await
        .unwrap();
    store
        .put_bytes("videos/video_10/video.mp4", Bytes::from_static(b"other"))
        .await
        .unwrap();

    let meta = store
        .head("videos/video_1/video.mp4")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(meta.size, content.len() as u64);
    assert!(!meta.etag.is_empty());
    assert!(meta.last_modified > 1_600_000_000);
    assert_eq!(store.head("videos/video_1/missing").await.unwrap(), None);

    let sub = collect(
        store,
        "videos/video_1/video.mp4",
        Some(1_000..PART_BYTES as u64 + 7),
    )
    .await;
    assert_eq!(sub, &content[1_000..PART_BYTES + 7]);
    let tail = collect(
        store,
        "videos/video_1/video.mp4",
        Some(content.len() as u64 - 5..u64::MAX),
    )
    .await;
    assert_eq!(
        tail,
        &content[content.len() - 5..],
        "an end past the object is clamped"
    );
    assert_eq!(
        collect(store, "videos/video_1/video.mp4", None).await,
        content
    );

    let copy = scratch.join("copy.mp4");
    let n = store
        .get_to_file("videos/video_1/video.mp4", &copy)
        .await
        .unwrap();
    assert_eq!(
        (n, std::fs::read(&copy).unwrap()),
        (content.len() as u64, content.clone())
    );
    let thumb = store
        .get_bytes("videos/video_1/thumbnail.webp")
        .await
        .unwrap();
    assert_eq!(thumb.as_ref(), b"RIFFthumb");

    // A prefix is whole path segments: video_1 does not reach into video_10.
    assert_eq!(store.delete_prefix("videos/video_1").await.unwrap(), 2);
    assert_eq!(store.head("videos/video_1/video.mp4").await.unwrap(), None);
    assert!(
        store
            .head("videos/video_10/video.mp4")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.delete_prefix("videos/video_1").await.unwrap(), 0);
    let missing = store.get_bytes("videos/video_1/video.mp4").await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn etag_survives_reopen_and_changes_on_rewrite(store: &BlobStore, reopened: &BlobStore) {
    store
        .put_bytes("a/b.bin", Bytes::from_static(b"one"))
        .await
        .unwrap();
    let first = store.head("a/b.bin").await.unwrap().unwrap();
    assert_eq!(reopened.head("a/b.bin").await.unwrap().unwrap(), first);
    reopened
        .put_bytes("a/b.bin", Bytes::from_static(b"two!"))
        .await
        .unwrap();
    let second = reopened.head("a/b.bin").await.unwrap().unwrap();
    assert_ne!(second.etag, first.etag);
    assert_eq!(second.size, 4);
}

async fn small_file_and_bad_input(store: &BlobStore, scratch: &FsPath) {
    let src = scratch.join("scene.json");
    std::fs::write(&src, b"{\"shots\":[]}").unwrap();
    assert_eq!(
        store.put_file("videos/v/scene.json", &src).await.unwrap(),
        12
    );
    assert_eq!(
        store
            .get_bytes("videos/v/scene.json")
            .await
            .unwrap()
            .as_ref(),
        b"{\"shots\":[]}"
    );
    let meta = store.head("videos/v/scene.json").await.unwrap().unwrap();
    assert_eq!(meta.size, 12);
    assert_eq!(
        collect(store, "videos/v/scene.json", Some(2..8)).await,
        b"shots\""
    );
    let missing = store.put_file("videos/v/x", &scratch.join("absent")).await;
    assert!(
        matches!(missing, Err(StoreError::Backend(_))),
        "{missing:?}"
    );
    let bad_key = store.put_bytes("videos//x", Bytes::new()).await;
    assert!(
        matches!(bad_key, Err(StoreError::Backend(_))),
        "{bad_key:?}"
    );
}

async fn list_keys_by_whole_segments(store: &BlobStore) {
    for (key, body) in [
        ("videos/video_1/video.mp4", &b"12345"[..]),
        ("videos/video_1/thumbs/t.webp", b"12"),
        ("videos/video_10/video.mp4", b"1"),
        ("files/file_1", b""),
    ] {
        store
            .put_bytes(key, Bytes::copy_from_slice(body))
            .await
            .unwrap();
    }
    let listed = |prefix: &'static str| async move {
        let mut got: Vec<(String, u64)> = store
            .list_keys(prefix)
            .map_ok(|e| (e.key, e.meta.size))
            .try_collect()
            .await
            .unwrap();
        got.sort();
        got
    };
    assert_eq!(
        listed("videos/video_1").await,
        [
            ("videos/video_1/thumbs/t.webp".to_string(), 2),
            ("videos/video_1/video.mp4".to_string(), 5)
        ]
    );
    assert_eq!(listed("").await.len(), 4);
    assert!(listed("videos/video_").await.is_empty());
    assert!(
        store
            .list_keys("videos//x")
            .try_collect::<Vec<_>>()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn local_put_file_head_range_and_delete() {
    let root = tempfile::tempdir().unwrap();
    let store = BlobStore::local(&root.path().join("blobs")).unwrap();
    put_file_head_range_and_delete(&store, root.path()).await;
    let blobs = root.path().join("blobs/videos");
    assert!(blobs.join("video_10/video.mp4").is_file());
    assert!(!blobs.join("video_1").exists(), "empty directories go too");
}

#[tokio::test]
async fn s3_put_file_head_range_and_delete() {
    let Some(store) = s3_store() else { return };
    let scratch = tempfile::tempdir().unwrap();
    put_file_head_range_and_delete(&store, scratch.path()).await;
    store.delete_prefix("").await.unwrap();
    let left: Vec<_> = store.list_keys("").try_collect().await.unwrap();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn local_etag_is_stable_across_reopen_and_changes_on_rewrite() {
    let root = tempfile::tempdir().unwrap();
    let store = BlobStore::local(root.path()).unwrap();
    let reopened = BlobStore::local(root.path()).unwrap();
    etag_survives_reopen_and_changes_on_rewrite(&store, &reopened).await;
}

#[tokio::test]
async fn s3_etag_is_stable_across_reopen_and_changes_on_rewrite() {
    let Some(store) = s3_store() else { return };
    // A second client on the same bucket and prefix, as after a restart.
    let reopened = BlobStore {
        inner: BlobStore::from_url(
            &std::env::var("KINORA_TEST_S3_URL").unwrap(),
            &S3Config::default(),
        )
        .unwrap()
        .inner,
        root: store.root.clone(),
    };
    etag_survives_reopen_and_changes_on_rewrite(&store, &reopened).await;
    store.delete_prefix("").await.unwrap();
}

#[tokio::test]
async fn small_file_and_bad_input_on_memory_and_local() {
    let root = tempfile::tempdir().unwrap();
    small_file_and_bad_input(&BlobStore::memory(), root.path()).await;
    let local = BlobStore::from_url(
        &format!("file://{}", root.path().join("blobs").display()),
        &S3Config::default(),
    )
    .unwrap();
    small_file_and_bad_input(&local, root.path()).await;
    assert!(root.path().join("blobs/videos/v/scene.json").is_file());
}

#[tokio::test]
async fn s3_small_file_and_bad_input() {
    let Some(store) = s3_store() else { return };
    let scratch = tempfile::tempdir().unwrap();
    small_file_and_bad_input(&store, scratch.path()).await;
    store.delete_prefix("").await.unwrap();
}

#[tokio::test]
async fn local_list_keys_by_whole_segments() {
    let root = tempfile::tempdir().unwrap();
    list_keys_by_whole_segments(&BlobStore::local(root.path()).unwrap()).await;
}

#[tokio::test]
async fn s3_list_keys_by_whole_segments() {
    let Some(store) = s3_store() else { return };
    list_keys_by_whole_segments(&store).await;
    assert_eq!(store.delete_prefix("").await.unwrap(), 4);
}

/// S3 down: every verb gives up after its bounded retries with a retryable `Unavailable`, never
/// hanging.
#[tokio::test]
async fn unreachable_s3_fails_with_an_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let config = S3Config {
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: Some(true),
    };
    let store = BlobStore::from_url("s3://kinora/outage", &config).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let src = scratch.path().join("big");
    std::fs::write(&src, pattern(PART_BYTES + 1)).unwrap();
    assert!(matches!(
        store.head("a").await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.put_bytes("a", Bytes::from_static(b"x")).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.put_file("a", &src).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.get_range("a", Some(0..1)).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.delete_prefix("videos").await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn copy_all_to_copies_every_key_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let from = BlobStore::local(&dir.path().join("from")).unwrap();
    let big = pattern(PART_BYTES + 12_345);
    from.put_bytes("videos/video_1/video.mp4", Bytes::from(big.clone()))
        .await
        .unwrap();
    from.put_bytes("files/file-1/content", Bytes::from_static(b"{}\n"))
        .await
        .unwrap();
    let mut keys: Vec<String> = from
        .list_keys("")
        .map_ok(|e| e.key)
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["files/file-1/content", "videos/video_1/video.mp4"]);

    let to = BlobStore::local(&dir.path().join("to")).unwrap();
    let copied = from
        .copy_all_to(&to, &dir.path().join("scratch"))
        .await
        .unwrap();
    assert_eq!(copied, 2);
    assert_eq!(collect(&to, "videos/video_1/video.mp4", None).await, big);
    assert_eq!(collect(&to, "files/file-1/content", None).await, b"{}\n");
    let mut copied_keys: Vec<String> = to
        .list_keys("")
        .map_ok(|e| e.key)
        .try_collect()
        .await
        .unwrap();
    copied_keys.sort();
    assert_eq!(copied_keys, keys);
}
