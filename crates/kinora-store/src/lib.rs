//! Kinora's durable state: video records and the job queue behind one `MetadataStore` trait, and
//! media bytes behind `BlobStore`.
//!
//! Downstream code holds an `Arc<dyn MetadataStore>` and a `BlobStore` and never learns which
//! backend serves them. Queries are runtime-checked, so no database is needed to build; every
//! backend runs the same storage story tests.
//!
//! Every store verb is written once in `sql`: statements, column lists, row decoders, paging
//! and the flow of each verb; each backend stamps them onto its type with `sql::store_verbs!`
//! and keeps only its pool setup, migrations, the job claim statement, a handful of hooks (how a
//! write transaction begins, the idempotency/serialisation lock, the after-commit wake-ups, how a
//! text list is bound and tested) and, on PostgreSQL, LISTEN. The mechanism is a `macro_rules!`
//! body per verb family rather than functions generic over `sqlx::Database` (whose bounds would
//! have to be restated on every verb) or a query builder (a second dialect for statements that
//! are already portable: `$N` placeholders, `RETURNING`, `CAST(… AS …)`, `TRUE`); the full
//! reasoning is in `sql/mod.rs`.
//!
//! Layout:
//! - [`metadata`]: the `MetadataStore` trait, the contract every backend fulfils: one trait per
//!   family below, plus blob deletions, readiness and closing
//! - [`video`], [`queue`], [`character`]: `VideoStore`, `QueueStore`, `CharacterStore`, the verbs
//!   of videos (with idempotency keys), the job queue and characters
//! - [`record`]: stored records (`VideoRecord`, `CharacterRecord`, `Lease`) and verb outcomes
//! - [`error`]: `StoreError`, shaped for the server's error table
//! - `sql`: the statements, decoders and verb bodies both backends share
//! - [`sqlite`]: the SQLite backend (WAL, one writer connection, a reader pool); migrations in
//!   `migrations/sqlite/`
//! - [`postgres`]: the PostgreSQL backend for many nodes (claims with `FOR UPDATE SKIP LOCKED`,
//!   LISTEN/NOTIFY wakeups); migrations in `migrations/postgres/`
//! - [`transfer`]: the SQLite → PostgreSQL copy behind `kinora migrate`
//! - [`file`], [`batch`]: the Files and Batch API records and their store verbs
//! - [`webhook`]: webhook endpoints and durable deliveries (`WebhookStore`); events are written
//!   inside the transaction of the state change that causes them
//! - [`worker`]: the registry of remote workers (`WorkerStore`), its statements written once for
//!   both backends
//! - [`blob`]: `BlobStore` over `object_store` (local directory, S3-compatible bucket, memory),
//!   with a whole-store copy
//! - `story` (tests only): backend-neutral scenarios over `Arc<dyn MetadataStore>`

pub mod batch;
pub mod blob;
pub mod character;
pub mod error;
pub mod file;
pub mod metadata;
pub mod postgres;
pub mod queue;
pub mod record;
mod sql;
pub mod sqlite;
pub mod transfer;
pub mod video;
pub mod webhook;
pub mod worker;

#[cfg(test)]
mod story;

pub use batch::{BatchRecord, BatchStatus, BatchStore};
pub use blob::{BlobEntry, BlobMeta, BlobStore, BlobUrl, S3Config};
pub use character::CharacterStore;
pub use error::{Result, StoreError};
pub use file::{FileRecord, FileStore};
pub use metadata::MetadataStore;
pub use postgres::{PostgresStore, open_postgres};
pub use queue::QueueStore;
pub use record::{
    CancelOutcome, CharacterRecord, Completion, CreateOutcome, FailOutcome, IdempotencyKey,
    JobError, Lease, MediaInfo, NewVideo, Order, Page, Usage, VideoRecord,
};
pub use sqlite::{SqliteStore, open_sqlite, open_sqlite_memory};
pub use video::VideoStore;
pub use webhook::{
    AttemptOutcome, DeliveryRecord, DeliveryStatus, DueDelivery, NewWebhookEndpoint,
    WebhookEndpointPatch, WebhookEndpointRecord, WebhookStore,
};
pub use worker::{WorkerRecord, WorkerSeen, WorkerStore};
