//! The S3 client's timeouts against a scripted HTTP server on loopback: a server that stops
//! sending mid-body fails the read after [`READ_IDLE_TIMEOUT`] instead of hanging a download (or
//! a job) forever, while a slow but live download runs past the 30 s total timeout that
//! `object_store`'s default client would impose. Both take about half a minute, run together.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::s3::READ_IDLE_TIMEOUT;
use super::{BlobStore, S3Config};
use crate::error::StoreError;

/// Bytes the slow object drips, one per [`DRIP_EVERY`]: 36 × 0.95 s ≈ 34 s in all.
const DRIP_BYTES: usize = 36;
const DRIP_EVERY: Duration = Duration::from_millis(950);
/// Bytes the stalled object sends of the 1000 it announces.
const STALL_AFTER: usize = 10;

/// Answers every GET with an object's headers, then drips (key `slow`) or sends a few bytes and
/// falls silent with the connection open (any other key).
async fn scripted_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer(socket));
        }
    });
    format!("http://{addr}")
}

async fn answer(mut socket: TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let slow = line.lines().next().is_some_and(|l| l.contains("/slow "));
    let length = if slow { DRIP_BYTES } else { 1000 };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nETag: \"e\"\r\n\
         Last-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n"
    );
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    if slow {
        for _ in 0..DRIP_BYTES {
            tokio::time::sleep(DRIP_EVERY).await;
            if socket.write_all(b"d").await.is_err() {
                return;
            }
        }
    } else {
        let _ = socket.write_all(&[b's'; STALL_AFTER]).await;
        // Silent from here on, with the connection held open until the client gives up.
        let _ = socket.read(&mut buf).await;
    }
}

async fn download(store: &BlobStore, key: &str) -> Result<Vec<u8>, StoreError> {
    let chunks: Vec<bytes::Bytes> = store.get_range(key, None).await?.try_collect().await?;
    Ok(chunks.concat())
}

#[tokio::test]
async fn a_stalled_read_fails_after_the_idle_timeout_and_a_slow_one_completes() {
    let config = S3Config {
        endpoint: Some(scripted_server().await),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: Some(true),
    };
    let store = BlobStore::from_url("s3://kinora/stalls", &config).unwrap();
    let started = Instant::now();
    let stalled = async {
        let result = download(&store, "stalled").await;
        (result, started.elapsed())
    };
    let slow = async {
        let result = download(&store, "slow").await;
        (result, started.elapsed())
    };
    // A guard only: without the idle timeout the stalled read would hang here forever.
    let guard = READ_IDLE_TIMEOUT * 3;
    let ((stalled, stalled_after), (slow, slow_after)) =
        tokio::time::timeout(guard, async { tokio::join!(stalled, slow) })
            .await
            .expect("a frozen S3 server must not hang a read");

    assert!(
        matches!(stalled, Err(StoreError::Unavailable(_))),
        "{stalled:?}"
    );
    // It was the idle timer that ended it, not some quicker failure.
    assert!(stalled_after >= READ_IDLE_TIMEOUT, "{stalled_after:?}");
    assert_eq!(slow.unwrap(), vec![b'd'; DRIP_BYTES]);
    assert!(slow_after > Duration::from_secs(30), "{slow_after:?}");
}
