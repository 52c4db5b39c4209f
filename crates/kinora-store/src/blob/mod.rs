//! `BlobStore`: the few verbs Kinora needs over `object_store`: a local directory (the
//! default), an S3-compatible bucket (`s3://bucket[/prefix]`, see [`s3`]), or memory (tests);
//! plus listing and a whole-store copy for `kinora migrate`.
//!
//! Readers never see a partial object. `LocalFileSystem` writes every put and multipart upload to
//! a staging file (`<name>#<n>`, which listings skip) and renames it into place on completion;
//! rename is atomic on one filesystem. S3 makes an object visible only when its upload completes.
//!
//! ETags: `LocalFileSystem` derives one from inode, mtime and size, which survives restarts and
//! changes on every rewrite (a rewrite is a new file renamed into place); S3 reports its own
//! (quoted, `-N` suffixed for multipart uploads). A backend that reports none gets
//! `"<size hex>-<mtime ms hex>"` (see [`BlobMeta`]).
//!
//! Keys are `/`-separated paths of whole segments on every backend: a prefix `videos/video_1`
//! covers `videos/video_1/…`, never `videos/video_10/…`, although S3 itself matches prefixes
//! character by character (`object_store` lists `<prefix>/`).
//!
//! The `/prefix` of an S3 URL is applied here (the `root` of a [`BlobStore`]) rather than with
//! `object_store::prefix::PrefixStore`, which deletes object by object: kept out of the way,
//! `delete_prefix` reaches the bucket's batch delete (`DeleteObjects`, 1000 keys a request).

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, PutPayload, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{Result, StoreError};

pub mod s3;

pub use s3::{BlobUrl, S3Config};

/// Parts of a multipart upload; S3 requires at least 5 MiB for every part but the last.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight at once, bounding an upload's memory to about `PART_BYTES * 4`.
const PARTS_IN_FLIGHT: usize = 4;
const READ_BUF: usize = 256 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub etag: String,
    /// Unix seconds.
    pub last_modified: i64,
}

/// One object of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobEntry {
    pub key: String,
    pub meta: BlobMeta,
}

#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    /// Prepended to every key; empty but for `s3://bucket/prefix`.
    root: Path,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BlobStore({}, root {:?})",
            self.inner,
            self.root.as_ref()
        )
    }
}

fn key_path(key: &str) -> Result<Path> {
    Path::parse(key).map_err(|e| StoreError::Backend(format!("invalid blob key {key:?}: {e}")))
}

fn meta_of(m: &ObjectMeta) -> BlobMeta {
    let last_modified_ms = m.last_modified.timestamp_millis();
    BlobMeta {
        size: m.size,
        etag: m
            .e_tag
            .clone()
            .unwrap_or_else(|| format!("{:x}-{:x}", m.size, last_modified_ms)),
        last_modified: m.last_modified.timestamp(),
    }
}

impl BlobStore {
    /// Objects as files under `dir`, which is created if missing.
    pub fn local(dir: &FsPath) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        // Cleanup removes directories a delete leaves empty, so deleted videos leave no trace.
        let fs = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self::from_object_store(Arc::new(fs)))
    }

    pub fn memory() -> Self {
        Self::from_object_store(Arc::new(InMemory::new()))
    }

    /// Any `object_store` backend, for deployments configured elsewhere.
    pub fn from_object_store(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            root: Path::default(),
        }
    }

    /// The store a blob URL names (see [`BlobUrl`]); S3 settings come from `AWS_*` overridden
    /// by `s3`. Builds the client only: an unreachable endpoint shows on first use.
    pub fn from_url(url: &str, s3: &S3Config) -> Result<Self> {
        match BlobUrl::parse(url)? {
            BlobUrl::Local(dir) => Self::local(&dir),
            BlobUrl::S3 { bucket, prefix } => Ok(Self {
                inner: s3::build(&bucket, s3)?,
                root: prefix,
            }),
        }
    }

    fn location(&self, key: &str) -> Result<Path> {
        let key = key_path(key)?;
        Ok(self.root.parts().chain(key.parts()).collect())
    }

    /// Every object under `prefix` (whole segments, as for [`Self::delete_prefix`]; `""` for
    /// all), streamed page by page as the backend lists them, in no particular order.
    pub fn list_keys(&self, prefix: &str) -> BoxStream<'static, Result<BlobEntry>> {
        let location = match self.location(prefix) {
            Ok(l) => l,
            Err(e) => return futures::stream::once(async { Err(e) }).boxed(),
        };
        let root = self.root.clone();
        self.inner
            .list(Some(&location))
            .map(move |m| {
                let m = m?;
                let key = match m.location.prefix_match(&root) {
                    Some(parts) => Path::from_iter(parts),
                    None => {
                        return Err(StoreError::Backend(format!(
                            "listing returned {} outside {}",
                            m.location, root
                        )));
                    }
                };
                Ok(BlobEntry {
                    key: key.to_string(),
                    meta: meta_of(&m),
                })
            })
            .boxed()
    }

    /// Uploads a local file, streamed in parts; returns its size. Files up to one part go in a
    /// single put, since a multipart upload would buffer that much anyway.
    pub async fn put_file(&self, key: &str, path: &FsPath) -> Result<u64> {
        let location = self.location(key)?;
        let mut file = tokio::fs::File::open(path).await?;
        let len = file.metadata().await?.len();
        if len <= PART_BYTES as u64 {
            let mut buf = Vec::with_capacity(len as usize);
            file.read_to_end(&mut buf).await?;
            let n = buf.len() as u64;
            self.inner.put(&location, PutPayload::from(buf)).await?;
            return Ok(n);
        }
        let upload = self.inner.put_multipart(&location).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; READ_BUF];
        let mut total = 0u64;
        loop {
            let n = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    // Abort so the backend drops the staged parts.
                    let _ = writer.abort().await;
                    return Err(e.into());
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(e.into());
            }
            writer.write(&buf[..n]);
            total += n as u64;
        }
        writer.finish().await?;
        Ok(total)
    }

    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<u64> {
        let n = bytes.len() as u64;
        self.inner
            .put(&self.location(key)?, PutPayload::from_bytes(bytes))
            .await?;
        Ok(n)
    }

    pub async fn head(&self, key: &str) -> Result<Option<BlobMeta>> {
        match self.inner.head(&self.location(key)?).await {
            Ok(m) => Ok(Some(meta_of(&m))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams the object, or `range` of it (an end past the object is clamped; a start at or
    /// past the end is an error, so callers check ranges against [`Self::head`] first).
    pub async fn get_range(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, StoreError>>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let got = self.inner.get_opts(&self.location(key)?, options).await?;
        Ok(got.into_stream().map_err(StoreError::from).boxed())
    }

    /// Streams the object into a local file (created or truncated); returns its size.
    pub async fn get_to_file(&self, key: &str, path: &FsPath) -> Result<u64> {
        let mut stream = self.get_range(key, None).await?;
        let mut file = tokio::fs::File::create(path).await?;
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await?;
            total += chunk.len() as u64;
        }
        file.flush().await?;
        Ok(total)
    }

    /// The whole object in memory: for small objects only.
    pub async fn get_bytes(&self, key: &str) -> Result<Bytes> {
        Ok(self.inner.get(&self.location(key)?).await?.bytes().await?)
    }

    /// Copies every object to `to` under the same key, each through a file in `scratch` so
    /// memory stays bounded whatever the object's size. Returns how many objects were copied.
    pub async fn copy_all_to(&self, to: &BlobStore, scratch: &FsPath) -> Result<u64> {
        std::fs::create_dir_all(scratch)?;
        let staging = scratch.join("blob-copy");
        let mut keys = self.list_keys("");
        let mut copied = 0u64;
        while let Some(entry) = keys.next().await {
            let key = entry?.key;
            self.get_to_file(&key, &staging).await?;
            to.put_file(&key, &staging).await?;
            copied += 1;
        }
        let _ = std::fs::remove_file(&staging);
        Ok(copied)
    }

    /// Deletes every object under `prefix`, a path of whole segments (`videos/video_1` matches
    /// `videos/video_1/video.mp4`, not `videos/video_10/…`). Returns how many were deleted.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64> {
        let prefix = self.location(prefix)?;
        let locations = self
            .inner
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .boxed();
        let deleted: Vec<Path> = self.inner.delete_stream(locations).try_collect().await?;
        Ok(deleted.len() as u64)
    }
}

#[cfg(test)]
mod stalls;
#[cfg(test)]
mod tests;
