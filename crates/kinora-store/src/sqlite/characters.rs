//! Characters: a name and reference frames (the frames live in the blob store).

use super::SqliteStore;
use super::rows::{character_columns, character_from_row, page_query};
use crate::error::{Result, StoreError};
use crate::record::{CharacterRecord, Order, Page};

impl SqliteStore {
    pub(super) async fn insert_character(&self, c: CharacterRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO characters (id, project, name, created_at, width, height) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(&c.project)
        .bind(&c.name)
        .bind(c.created_at)
        .bind(i64::from(c.width))
        .bind(i64::from(c.height))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub(super) async fn read_character(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<CharacterRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            character_columns!(),
            " FROM characters WHERE project = ? AND id = ?"
        ))
        .bind(project)
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(character_from_row).transpose()
    }

    pub(super) async fn list_character_page(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<CharacterRecord>> {
        let cursor: Option<i64> = match after {
            Some(id) => Some(
                sqlx::query_scalar("SELECT seq FROM characters WHERE project = ? AND id = ?")
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            ),
            None => None,
        };
        let sql = page_query(
            "characters",
            character_columns!(),
            false,
            order,
            cursor.is_some(),
        );
        let mut q = sqlx::query(&sql).bind(project);
        if let Some(seq) = cursor {
            q = q.bind(seq);
        }
        let rows = q.bind(i64::from(limit) + 1).fetch_all(&self.reader).await?;
        let has_more = rows.len() > limit as usize;
        let items = rows
            .iter()
            .take(limit as usize)
            .map(character_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, has_more })
    }

    pub(super) async fn remove_character(&self, project: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM characters WHERE project = ? AND id = ?")
            .bind(project)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
