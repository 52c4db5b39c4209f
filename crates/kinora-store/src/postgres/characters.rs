//! Characters: a name and reference frames (the frames live in the blob store).

use super::PostgresStore;
use super::rows::{PageOf, character_columns, character_from_row, keyset_page};
use crate::error::Result;
use crate::record::{CharacterRecord, Order, Page};

impl PostgresStore {
    pub(super) async fn insert_character(&self, c: CharacterRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO characters (id, project, name, created_at, width, height) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.id)
        .bind(&c.project)
        .bind(&c.name)
        .bind(c.created_at)
        .bind(i64::from(c.width))
        .bind(i64::from(c.height))
        .execute(&self.pool)
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
            " FROM characters WHERE project = $1 AND id = $2"
        ))
        .bind(project)
        .bind(id)
        .fetch_optional(&self.pool)
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
            &self.pool,
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
        let done = sqlx::query("DELETE FROM characters WHERE project = $1 AND id = $2")
            .bind(project)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
