//! `CharacterStore`: characters as records (their frames live in the blob store).

use async_trait::async_trait;

use crate::error::Result;
use crate::record::{CharacterRecord, Order, Page};

#[async_trait]
pub trait CharacterStore: Send + Sync {
    /// `Conflict` if the id exists.
    async fn create_character(&self, c: CharacterRecord) -> Result<()>;
    async fn get_character(&self, project: &str, id: &str) -> Result<Option<CharacterRecord>>;
    async fn list_characters(
        &self,
        project: &str,
        after: Option<&str>,
        limit: u32,
        order: Order,
    ) -> Result<Page<CharacterRecord>>;
    async fn delete_character(&self, project: &str, id: &str) -> Result<bool>;
}
