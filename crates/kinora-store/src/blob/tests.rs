use bytes::Bytes;
use futures::TryStreamExt;

use super::{BlobStore, PART_BYTES};
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

#[tokio::test]
async fn local_put_file_head_range_and_delete() {
    let root = tempfile::tempdir().unwrap();
    let store = BlobStore::local(&root.path().join("blobs")).unwrap();
    let src = root.path().join("src.mp4");
    // Larger than one part, so the streamed multipart path runs.
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
    let on_disk = root.path().join("blobs/videos/video_1/video.mp4");
    assert_eq!(std::fs::read(&on_disk).unwrap(), content);

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
        &store,
        "videos/video_1/video.mp4",
        Some(1_000..PART_BYTES as u64 + 7),
    )
    .await;
    assert_eq!(sub, &content[1_000..PART_BYTES + 7]);
    let tail = collect(
        &store,
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
        collect(&store, "videos/video_1/video.mp4", None).await,
        content
    );

    let copy = root.path().join("copy.mp4");
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
    assert!(
        !root.path().join("blobs/videos/video_1").exists(),
        "empty directories go too"
    );
    assert_eq!(store.delete_prefix("videos/video_1").await.unwrap(), 0);
    let missing = store.get_bytes("videos/video_1/video.mp4").await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn local_etag_is_stable_across_reopen_and_changes_on_rewrite() {
    let root = tempfile::tempdir().unwrap();
    let store = BlobStore::local(root.path()).unwrap();
    store
        .put_bytes("a/b.bin", Bytes::from_static(b"one"))
        .await
        .unwrap();
    let first = store.head("a/b.bin").await.unwrap().unwrap();
    let reopened = BlobStore::local(root.path()).unwrap();
    assert_eq!(reopened.head("a/b.bin").await.unwrap().unwrap(), first);
    reopened
        .put_bytes("a/b.bin", Bytes::from_static(b"two!"))
        .await
        .unwrap();
    let second = reopened.head("a/b.bin").await.unwrap().unwrap();
    assert_ne!(second.etag, first.etag);
    assert_eq!(second.size, 4);
}

#[tokio::test]
async fn small_file_and_memory_backend() {
    let root = tempfile::tempdir().unwrap();
    let src = root.path().join("scene.json");
    std::fs::write(&src, b"{\"shots\":[]}").unwrap();
    let store = BlobStore::memory();
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
        collect(&store, "videos/v/scene.json", Some(2..8)).await,
        b"shots\""
    );
    let missing = store
        .put_file("videos/v/x", &root.path().join("absent"))
        .await;
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
    let mut keys: Vec<String> = from.list_keys().try_collect().await.unwrap();
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
    let mut copied_keys: Vec<String> = to.list_keys().try_collect().await.unwrap();
    copied_keys.sort();
    assert_eq!(copied_keys, keys);
}
