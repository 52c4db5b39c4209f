//! Files of the Files API: the record and the `FileStore` verbs. The bytes live in the blob store
//! under [`FileRecord::blob_key`]; the record is the index and the owner check.

use async_trait::async_trait;

use crate::error::Result;
use crate::record::{Order, Page};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    pub id: String,
    pub project: String,
    /// `batch`, `vision`, `user_data` from clients; `batch_output` for files Kinora writes.
    pub purpose: String,
    pub filename: String,
    pub bytes: u64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

impl FileRecord {
    pub fn blob_key(&self) -> String {
        blob_key(&self.id)
    }

    /// Everything stored for this file, for `BlobStore::delete_prefix`.
    pub fn blob_prefix(&self) -> String {
        format!("files/{}", self.id)
    }
}

pub fn blob_key(file_id: &str) -> String {
    format!("files/{file_id}/content")
}

#[async_trait]
pub trait FileStore: Send + Sync {
    /// `Conflict` if the id exists. Callers store the bytes first, so a record always has them.
    async fn create_file(&self, f: FileRecord) -> Result<()>;
    /// A live file of `project`; deleted and expired files read as `None`.
    async fn get_file(&self, project: &str, id: &str, now: i64) -> Result<Option<FileRecord>>;
    async fn list_files(
        &self,
        project: &str,
        purpose: Option<&str>,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<FileRecord>>;
    /// Marks the file deleted and returns it, so the caller removes its bytes.
    async fn delete_file(&self, project: &str, id: &str, now: i64) -> Result<Option<FileRecord>>;
    /// Files whose `expires_at <= now` become deleted, at most `limit` per call; returns them so
    /// the caller removes their bytes.
    async fn expire_files(&self, now: i64, limit: u32) -> Result<Vec<FileRecord>>;
}
