//! `FileStore` on SQLite.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::file::{FileRecord, FileStore};
use crate::record::{Order, Page};

const COLUMNS: &str = "id, project, purpose, filename, bytes, created_at, expires_at";

fn file_from_row(row: &SqliteRow) -> Result<FileRecord> {
    let bytes: i64 = row.try_get("bytes")?;
    Ok(FileRecord {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        purpose: row.try_get("purpose")?,
        filename: row.try_get("filename")?,
        bytes: u64::try_from(bytes)
            .map_err(|_| StoreError::Backend(format!("stored file size {bytes} is negative")))?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

#[async_trait]
impl FileStore for SqliteStore {
    async fn create_file(&self, f: FileRecord) -> Result<()> {
        let mut conn = self.writer.acquire().await?;
        insert_file(&mut conn, &f).await
    }

    async fn get_file(&self, project: &str, id: &str, now: i64) -> Result<Option<FileRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM files WHERE project = ? AND id = ? AND deleted_at IS NULL \
             AND (expires_at IS NULL OR expires_at > ?)"
        ))
        .bind(project)
        .bind(id)
        .bind(now)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(file_from_row).transpose()
    }

    async fn list_files(
        &self,
        project: &str,
        purpose: Option<&str>,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<FileRecord>> {
        let cursor: Option<i64> = match after {
            Some(id) => Some(
                sqlx::query_scalar("SELECT seq FROM files WHERE project = ? AND id = ?")
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        let (cmp, dir) = match order {
            Order::Asc => (">", "ASC"),
            Order::Desc => ("<", "DESC"),
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM files WHERE project = ?1 AND deleted_at IS NULL \
             AND (?2 IS NULL OR purpose = ?2) AND (?3 IS NULL OR seq {cmp} ?3) \
             ORDER BY seq {dir} LIMIT ?4"
        );
        let rows = sqlx::query(&sql)
            .bind(project)
            .bind(purpose)
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.reader)
            .await?;
        let has_more = rows.len() > limit as usize;
        let items = rows
            .iter()
            .take(limit as usize)
            .map(file_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, has_more })
    }

    async fn delete_file(&self, project: &str, id: &str, now: i64) -> Result<Option<FileRecord>> {
        let row = sqlx::query(&format!(
            "UPDATE files SET deleted_at = ? WHERE project = ? AND id = ? AND deleted_at IS NULL \
             RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(project)
        .bind(id)
        .fetch_optional(&self.writer)
        .await?;
        row.as_ref().map(file_from_row).transpose()
    }

    async fn expire_files(&self, now: i64, limit: u32) -> Result<Vec<FileRecord>> {
        let rows = sqlx::query(&format!(
            "UPDATE files SET deleted_at = ?1 WHERE seq IN (SELECT seq FROM files \
               WHERE deleted_at IS NULL AND expires_at <= ?1 LIMIT ?2) \
             RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
        .await?;
        rows.iter().map(file_from_row).collect()
    }
}

/// Shared with batch finalization, which records its output files inside its own transaction.
pub(super) async fn insert_file(conn: &mut sqlx::SqliteConnection, f: &FileRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO files (id, project, purpose, filename, bytes, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&f.id)
    .bind(&f.project)
    .bind(&f.purpose)
    .bind(&f.filename)
    .bind(f.bytes as i64)
    .bind(f.created_at)
    .bind(f.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}
