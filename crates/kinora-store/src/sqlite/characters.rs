//! Characters: a name and reference frames (the frames live in the blob store).

use super::SqliteStore;
use super::rows::{PageOf, character_columns, character_from_row, keyset_page};
use crate::error::Result;
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
        let of = PageOf {
            table: "characters",
            columns: character_columns!(),
            live_only: false,
        };
        keyset_page(
            &self.reader,
            of,
            project,
            after,
            limit,
            order,
            character_from_row,
        )
        .await
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
