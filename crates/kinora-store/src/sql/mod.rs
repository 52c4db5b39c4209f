//! The SQL both backends share: column lists, row decoders and keyset paging written once, and
//! verbs whose statements read the same on SQLite and PostgreSQL.
//!
//! Why macros for the verbs, not generic functions: a function generic over `sqlx::Database`
//! needs a where-clause per bound type (`for<'q> String: Encode<'q, DB> + Type<DB>`, the same for
//! every column type, `IntoArguments`, `Executor` for `&Pool<DB>`…) repeated on every verb, and
//! sea-query would add a second SQL dialect to learn for statements that are already portable
//! (`$N` placeholders, `RETURNING`, `ON CONFLICT` and partial indexes work on both). A
//! `macro_rules!` body stamped once per backend (vaultwarden's `db_run!` idea) is checked by the
//! compiler against each driver, reads as plain sqlx, and keeps the backend-specific part to
//! what it is stamped with: the store type, its row and connection types, its write and read
//! pools, and the dialect fragments (`for_update`, `skip_locked`, `greatest`).
//!
//! What cannot be a fragment is a hook: an inherent item every backend defines beside its pools,
//! which the stamped bodies call. `begin_write` (SQLite takes its write lock up front with
//! `BEGIN IMMEDIATE`), `lock_key` (a PostgreSQL advisory lock where the row to lock may not
//! exist yet), `wake_queue_in` / `wake_webhooks_in` (NOTIFY inside the transaction on
//! PostgreSQL; nothing on SQLite, whose one process wakes itself), `text_list` (JSON text or
//! `TEXT[]`) and the two list tests `SUBSCRIBED` / `NOT_LISTED` (`json_each` or `ANY`).
//!
//! Decoders are ordinary generic functions over [`Cols`], which each backend's row implements:
//! the only decoding differences are booleans (0/1 on SQLite) and text lists (JSON on SQLite,
//! `TEXT[]` on PostgreSQL).
//!
//! Layout: [`rows`] (column lists and decoders); `characters`, `files`, `videos`, `batches`,
//! `batch_flow`, `webhooks`, `deliveries`, `queue`: verbs stamped by [`store_verbs!`], each
//! family implementing its own trait (`VideoStore`, `QueueStore`, `CharacterStore`, ...) under
//! the trait's own verb names, so no verb has a second name; `metadata`: what `MetadataStore`
//! adds to them (blob deletions, readiness, closing). The registry of workers is in
//! `crate::worker` and follows the same shape.

pub(crate) mod batch_flow;
pub(crate) mod batches;
pub(crate) mod characters;
pub(crate) mod deliveries;
pub(crate) mod files;
pub(crate) mod metadata;
pub(crate) mod queue;
pub(crate) mod rows;
pub(crate) mod videos;
pub(crate) mod webhooks;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Postgres, Row, Sqlite, Type};

use crate::error::{Result, StoreError};
use crate::record::{Order, Page};

/// A result row of either backend, read column by column.
pub(crate) trait Cols {
    /// A column whose type both drivers decode the same way (text, integers, reals, options).
    fn col<T>(&self, name: &str) -> Result<T>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>;
    /// A boolean: `INTEGER` 0/1 on SQLite, `BOOLEAN` on PostgreSQL.
    fn flag(&self, name: &str) -> Result<bool>;
    /// A list of strings: JSON text on SQLite, `TEXT[]` on PostgreSQL.
    fn text_list(&self, name: &str) -> Result<Vec<String>>;
}

impl Cols for SqliteRow {
    fn col<T>(&self, name: &str) -> Result<T>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>,
    {
        Ok(self.try_get::<T, _>(name)?)
    }
    fn flag(&self, name: &str) -> Result<bool> {
        Ok(self.try_get::<i64, _>(name)? != 0)
    }
    fn text_list(&self, name: &str) -> Result<Vec<String>> {
        let json: String = self.try_get(name)?;
        serde_json::from_str(&json).map_err(|e| corrupt(name, e))
    }
}

impl Cols for PgRow {
    fn col<T>(&self, name: &str) -> Result<T>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>,
    {
        Ok(self.try_get::<T, _>(name)?)
    }
    fn flag(&self, name: &str) -> Result<bool> {
        Ok(self.try_get(name)?)
    }
    fn text_list(&self, name: &str) -> Result<Vec<String>> {
        Ok(self.try_get(name)?)
    }
}

pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} cannot be read: {detail}"))
}

pub(crate) fn non_negative(what: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(what, format!("{v} is out of range")))
}

pub(crate) fn to_json<T: serde::Serialize>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("cannot encode {what}: {e}")))
}

/// `(comparison, direction)` of a keyset page in `order`.
pub(crate) fn paging(order: Order) -> (&'static str, &'static str) {
    match order {
        Order::Asc => (">", "ASC"),
        Order::Desc => ("<", "DESC"),
    }
}

/// The first `limit` rows decoded; `has_more` when the query's one extra row came back.
pub(crate) fn page_of<R, T>(
    rows: &[R],
    limit: u32,
    decode: fn(&R) -> Result<T>,
) -> Result<Page<T>> {
    let has_more = rows.len() > limit as usize;
    let items = rows
        .iter()
        .take(limit as usize)
        .map(decode)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, has_more })
}

/// Which rows a keyset page reads: the table, the columns its decoder wants, and whether deleted
/// rows are skipped.
pub(crate) struct PageOf {
    pub table: &'static str,
    pub columns: &'static str,
    pub live_only: bool,
}

impl PageOf {
    /// Finds the cursor row's seq; binds project, id.
    pub(crate) fn seq_sql(&self) -> String {
        format!(
            "SELECT seq FROM {} WHERE project = $1 AND id = $2",
            self.table
        )
    }

    /// The page itself; binds project, [cursor seq], limit + 1. Two statements rather than
    /// `$2 IS NULL OR …`, so each keeps a plain index range plan.
    pub(crate) fn page_sql(&self, order: Order, has_cursor: bool) -> String {
        let (cmp, dir) = paging(order);
        let live = if self.live_only {
            " AND deleted_at IS NULL"
        } else {
            ""
        };
        let (cursor, limit_at) = if has_cursor {
            (format!(" AND seq {cmp} $2"), "$3")
        } else {
            (String::new(), "$2")
        };
        format!(
            "SELECT {} FROM {} WHERE project = $1{live}{cursor} ORDER BY seq {dir} LIMIT {limit_at}",
            self.columns, self.table
        )
    }
}

/// A page of `project`'s rows after the row `after` names (its seq orders even if it was deleted
/// since; an id that never existed is `NotFound`), `has_more` exact. Expands inside an async
/// verb of either backend: `keyset_page!(&self.reader, of, project, after, limit, order, decode)`.
macro_rules! keyset_page {
    ($pool:expr, $of:expr, $project:expr, $after:expr, $limit:expr, $order:expr, $decode:expr $(,)?) => {{
        let of: $crate::sql::PageOf = $of;
        let cursor: Option<i64> = match $after {
            Some(id) => Some(
                sqlx::query_scalar(&of.seq_sql())
                    .bind($project)
                    .bind(id)
                    .fetch_optional($pool)
                    .await?
                    .ok_or($crate::StoreError::NotFound)?,
            ),
            None => None,
        };
        let sql = of.page_sql($order, cursor.is_some());
        let mut q = sqlx::query(&sql).bind($project);
        if let Some(seq) = cursor {
            q = q.bind(seq);
        }
        let rows = q.bind(i64::from($limit) + 1).fetch_all($pool).await?;
        $crate::sql::page_of(&rows, $limit, $decode)
    }};
}
pub(crate) use keyset_page;

/// Stamps every shared verb family onto a backend. `$write`/`$read` name its pools (the same
/// pool on PostgreSQL); `for_update` is what a read-then-write appends to lock what it read, and
/// `skip_locked` what a sweep's row selection appends so that nodes sweeping at once take
/// disjoint rows (both empty on SQLite, whose writes are serial anyway); `greatest` is the
/// two-argument maximum (`MAX` on SQLite, `GREATEST` on PostgreSQL).
macro_rules! store_verbs {
    (
        $store:ty,
        $row:ty,
        $conn:ty,
        write = $write:ident,
        read = $read:ident,
        for_update = $for_update:literal,
        skip_locked = $skip:literal,
        greatest = $greatest:literal
    ) => {
        $crate::sql::characters::character_verbs!($store, $write, $read);
        $crate::sql::webhooks::webhook_verbs!(
            $store,
            $conn,
            $write,
            $read,
            for_update = $for_update
        );
        $crate::sql::deliveries::delivery_verbs!($store, $write, $read, skip_locked = $skip);
        $crate::sql::queue::queue_verbs!(
            $store,
            $conn,
            $write,
            $read,
            for_update = $for_update,
            greatest = $greatest
        );
        $crate::sql::batches::batch_verbs!($store, $conn, $write, $read);
        $crate::sql::batch_flow::batch_flow_verbs!(
            $store,
            $write,
            $read,
            for_update = $for_update,
            greatest = $greatest
        );
        $crate::sql::videos::video_verbs!(
            $store,
            $write,
            $read,
            for_update = $for_update,
            skip_locked = $skip
        );
        $crate::sql::files::file_verbs!($store, $row, $write, $read, $skip);
        $crate::worker::worker_store!($store, $write, $read);
        $crate::sql::metadata::metadata_verbs!($store, $write, $read);
    };
}
pub(crate) use store_verbs;
