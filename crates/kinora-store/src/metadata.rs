//! `MetadataStore`: the backend-neutral contract, one trait made of a trait per family
//! ([`VideoStore`], [`QueueStore`], [`CharacterStore`], files, batches, webhooks, workers) plus
//! what belongs to the store as a whole (deferred blob deletions, readiness, closing, the queue
//! signal). Every backend (SQLite, PostgreSQL) implements all of it and runs the same storage
//! story tests; each family's verbs are written once in `sql/` and implement that family's
//! trait directly.
//!
//! Time units: `now`, `created_at` and every public timestamp are Unix seconds; queue times
//! (`now_ms`, `lease_ms`, `run_at_ms`) are milliseconds because leases and backoff need them.

use std::sync::Arc;

use async_trait::async_trait;

use crate::batch::BatchStore;
use crate::character::CharacterStore;
use crate::error::Result;
use crate::file::FileStore;
use crate::queue::QueueStore;
use crate::video::VideoStore;
use crate::webhook::WebhookStore;
use crate::worker::WorkerStore;

#[async_trait]
pub trait MetadataStore:
    VideoStore
    + QueueStore
    + CharacterStore
    + FileStore
    + BatchStore
    + WebhookStore
    + WorkerStore
    + Send
    + Sync
    + 'static
{
    /// Remembers a blob prefix whose deletion failed (the blob store was away when its record
    /// went), to be tried again from `retry_at` (Unix seconds). Idempotent: a prefix already
    /// remembered just moves its retry time.
    async fn defer_blob_deletion(&self, prefix: &str, retry_at: i64) -> Result<()>;
    /// Up to `limit` remembered prefixes whose retry time has come, earliest first.
    async fn due_blob_deletions(&self, now: i64, limit: u32) -> Result<Vec<String>>;
    /// Forgets a prefix once its blobs are gone.
    async fn forget_blob_deletion(&self, prefix: &str) -> Result<()>;

    /// Readiness: the backend answers a trivial query.
    async fn ping(&self) -> Result<()>;

    /// Closes connections after in-flight calls finish; later calls fail with `Backend`.
    async fn close(&self);

    /// Woken when another node (or this one) made a job claimable, for backends shared by many
    /// nodes. `None` where one process owns the store and its enqueues wake workers directly.
    fn queue_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }
}
