//! `FileStore` on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PostgresStore;
use super::rows::{page_of, paging};
use crate::error::{Result, StoreError};
use crate::file::{FileRecord, FileStore};
use crate::record::{Order, Page};

const COLUMNS: &str = "id, project, purpose, filename, bytes, created_at, expires_at";

fn file_from_row(row: &PgRow) -> Result<FileRecord> {
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
impl FileStore for PostgresStore {
    async fn create_file(&self, f: FileRecord) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        insert_file(&mut conn, &f).await
    }

    async fn get_file(&self, project: &str, id: &str, now: i64) -> Result<Option<FileRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM files WHERE project = $1 AND id = $2 AND deleted_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $3)"
        ))
        .bind(project)
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
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
                sqlx::query_scalar("SELECT seq FROM files WHERE project = $1 AND id = $2")
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        let (cmp, dir) = paging(order);
        let sql = format!(
            "SELECT {COLUMNS} FROM files WHERE project = $1 AND deleted_at IS NULL \
             AND ($2::TEXT IS NULL OR purpose = $2) AND ($3::BIGINT IS NULL OR seq {cmp} $3) \
             ORDER BY seq {dir} LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(project)
            .bind(purpose)
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        page_of(&rows, limit, file_from_row)
    }

    async fn delete_file(&self, project: &str, id: &str, now: i64) -> Result<Option<FileRecord>> {
        let row = sqlx::query(&format!(
            "UPDATE files SET deleted_at = $1 \
             WHERE project = $2 AND id = $3 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(project)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(file_from_row).transpose()
    }

    async fn expire_files(&self, now: i64, limit: u32) -> Result<Vec<FileRecord>> {
        // SKIP LOCKED: concurrent sweeps on two nodes return disjoint files.
        let rows = sqlx::query(&format!(
            "WITH due AS (SELECT seq FROM files WHERE deleted_at IS NULL AND expires_at <= $1 \
               ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE files SET deleted_at = $1 FROM due WHERE files.seq = due.seq \
             RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(file_from_row).collect()
    }
}

/// Shared with batch finalization, which records its output files inside its own transaction.
pub(super) async fn insert_file(conn: &mut sqlx::PgConnection, f: &FileRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO files (id, project, purpose, filename, bytes, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
