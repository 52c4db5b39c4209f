//! Files of the Files API: `FileStore` stamped onto each backend by [`file_verbs!`], and
//! [`insert_file!`] for batch finalization, which records its output files inside its own
//! transaction.

pub(crate) const INSERT: &str = "INSERT INTO files (id, project, purpose, filename, bytes, \
                                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The files table as a keyset page sees it; its cursor lookup is the shared one.
pub(crate) const CURSOR: super::PageOf = super::PageOf {
    table: "files",
    columns: super::rows::FILE_COLUMNS,
    live_only: true,
};

/// Binds: project, id, now.
pub(crate) fn select_sql() -> String {
    format!(
        "SELECT {} FROM files WHERE project = $1 AND id = $2 AND deleted_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $3)",
        super::rows::FILE_COLUMNS
    )
}

/// Binds: project, purpose or NULL, cursor seq or NULL, limit + 1.
pub(crate) fn list_sql(order: crate::record::Order) -> String {
    let (cmp, dir) = super::paging(order);
    format!(
        "SELECT {} FROM files WHERE project = $1 AND deleted_at IS NULL \
         AND (CAST($2 AS TEXT) IS NULL OR purpose = $2) \
         AND (CAST($3 AS BIGINT) IS NULL OR seq {cmp} $3) ORDER BY seq {dir} LIMIT $4",
        super::rows::FILE_COLUMNS
    )
}

/// Binds: now, project, id.
pub(crate) fn delete_sql() -> String {
    format!(
        "UPDATE files SET deleted_at = $1 WHERE project = $2 AND id = $3 \
         AND deleted_at IS NULL RETURNING {}",
        super::rows::FILE_COLUMNS
    )
}

/// Binds: now, limit. `skip_locked` keeps concurrent sweeps on two nodes to disjoint files.
pub(crate) fn expire_sql(skip_locked: &str) -> String {
    format!(
        "UPDATE files SET deleted_at = $1 WHERE seq IN (SELECT seq FROM files \
           WHERE deleted_at IS NULL AND expires_at <= $1 ORDER BY seq LIMIT $2{skip_locked}) \
         RETURNING {}",
        super::rows::FILE_COLUMNS
    )
}

/// Inserts a file record on `$conn` (a `&mut` connection of either backend).
macro_rules! insert_file {
    ($conn:expr, $f:expr) => {{
        let f: &$crate::file::FileRecord = $f;
        sqlx::query($crate::sql::files::INSERT)
            .bind(&f.id)
            .bind(&f.project)
            .bind(&f.purpose)
            .bind(&f.filename)
            .bind(f.bytes as i64)
            .bind(f.created_at)
            .bind(f.expires_at)
            .execute($conn)
            .await
            .map(|_| ())
    }};
}
pub(crate) use insert_file;

macro_rules! file_verbs {
    ($store:ty, $row:ty, $write:ident, $read:ident, $skip:literal) => {
        #[async_trait::async_trait]
        impl $crate::file::FileStore for $store {
            async fn create_file(&self, f: $crate::file::FileRecord) -> $crate::Result<()> {
                let mut conn = self.$write.acquire().await?;
                Ok($crate::sql::files::insert_file!(&mut *conn, &f)?)
            }

            async fn get_file(
                &self,
                project: &str,
                id: &str,
                now: i64,
            ) -> $crate::Result<Option<$crate::file::FileRecord>> {
                let row = sqlx::query(&$crate::sql::files::select_sql())
                    .bind(project)
                    .bind(id)
                    .bind(now)
                    .fetch_optional(&self.$read)
                    .await?;
                row.as_ref()
                    .map($crate::sql::rows::file_from_row)
                    .transpose()
            }

            async fn list_files(
                &self,
                project: &str,
                purpose: Option<&str>,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::file::FileRecord>> {
                let cursor: Option<i64> = match after {
                    Some(id) => Some(
                        sqlx::query_scalar(&$crate::sql::files::CURSOR.seq_sql())
                            .bind(project)
                            .bind(id)
                            .fetch_optional(&self.$read)
                            .await?
                            .ok_or($crate::StoreError::NotFound)?,
                    ),
                    None => None,
                };
                let rows: Vec<$row> = sqlx::query(&$crate::sql::files::list_sql(order))
                    .bind(project)
                    .bind(purpose)
                    .bind(cursor)
                    .bind(i64::from(limit) + 1)
                    .fetch_all(&self.$read)
                    .await?;
                $crate::sql::page_of(&rows, limit, $crate::sql::rows::file_from_row)
            }

            async fn delete_file(
                &self,
                project: &str,
                id: &str,
                now: i64,
            ) -> $crate::Result<Option<$crate::file::FileRecord>> {
                let row = sqlx::query(&$crate::sql::files::delete_sql())
                    .bind(now)
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&self.$write)
                    .await?;
                row.as_ref()
                    .map($crate::sql::rows::file_from_row)
                    .transpose()
            }

            async fn expire_files(
                &self,
                now: i64,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::file::FileRecord>> {
                let rows = sqlx::query(&$crate::sql::files::expire_sql($skip))
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&self.$write)
                    .await?;
                rows.iter().map($crate::sql::rows::file_from_row).collect()
            }
        }
    };
}
pub(crate) use file_verbs;
