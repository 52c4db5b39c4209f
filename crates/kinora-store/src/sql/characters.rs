//! Characters: a name and reference frames (the frames live in the blob store). The record verbs
//! are stamped onto each backend by [`character_verbs!`].

pub(crate) const INSERT: &str = "INSERT INTO characters (id, project, name, created_at, width, \
                                 height) VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const SELECT: &str = concat!(
    "SELECT ",
    crate::sql::rows::character_columns!(),
    " FROM characters WHERE project = $1 AND id = $2"
);
pub(crate) const DELETE: &str = "DELETE FROM characters WHERE project = $1 AND id = $2";

macro_rules! character_verbs {
    ($store:ty, $write:ident, $read:ident) => {
        #[async_trait::async_trait]
        impl $crate::character::CharacterStore for $store {
            async fn create_character(
                &self,
                c: $crate::record::CharacterRecord,
            ) -> $crate::Result<()> {
                sqlx::query($crate::sql::characters::INSERT)
                    .bind(&c.id)
                    .bind(&c.project)
                    .bind(&c.name)
                    .bind(c.created_at)
                    .bind(i64::from(c.width))
                    .bind(i64::from(c.height))
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }

            async fn get_character(
                &self,
                project: &str,
                id: &str,
            ) -> $crate::Result<Option<$crate::record::CharacterRecord>> {
                let row = sqlx::query($crate::sql::characters::SELECT)
                    .bind(project)
                    .bind(id)
                    .fetch_optional(&self.$read)
                    .await?;
                row.as_ref()
                    .map($crate::sql::rows::character_from_row)
                    .transpose()
            }

            async fn list_characters(
                &self,
                project: &str,
                after: Option<&str>,
                limit: u32,
                order: $crate::record::Order,
            ) -> $crate::Result<$crate::record::Page<$crate::record::CharacterRecord>> {
                let of = $crate::sql::PageOf {
                    table: "characters",
                    columns: $crate::sql::rows::character_columns!(),
                    live_only: false,
                };
                $crate::sql::keyset_page!(
                    &self.$read,
                    of,
                    project,
                    after,
                    limit,
                    order,
                    $crate::sql::rows::character_from_row
                )
            }

            async fn delete_character(&self, project: &str, id: &str) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::characters::DELETE)
                    .bind(project)
                    .bind(id)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
pub(crate) use character_verbs;
