//! Moving a deployment from the embedded SQLite store to PostgreSQL (`kinora migrate`).
//!
//! Every row of every table is copied as stored: ids, `seq` (so creation order, keyset cursors
//! and queue order are unchanged), timestamps, statuses, webhook events and their deliveries.
//! What was in flight is handed back, as a node does on shutdown: running jobs return to the
//! queue without counting the attempt (or end `cancelled` if a cancel was pending), and delivery
//! and batch-driver leases are cleared. The copy is one PostgreSQL transaction, so a failure
//! leaves the target empty and the command can simply be run again.

use futures::TryStreamExt;
use sqlx::Row;
use sqlx::postgres::PgArguments;
use sqlx::sqlite::SqliteRow;

use crate::error::{Result, StoreError};
use crate::postgres::PostgresStore;
use crate::queue::QueueStore;
use crate::sqlite::SqliteStore;

/// How a column is stored on each side where the two differ.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Real,
    Text,
    /// SQLite INTEGER 0/1 → BOOLEAN.
    Bool,
    /// SQLite JSON array text → TEXT[].
    TextList,
}

struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    /// Has a `seq` identity, whose values are copied and whose sequence then moves past them.
    identity: bool,
}

use Kind::{Bool, Int, Real, Text, TextList};

/// In foreign-key order.
const TABLES: &[Table] = &[
    Table {
        name: "videos",
        identity: true,
        columns: &[
            ("seq", Int),
            ("id", Text),
            ("project", Text),
            ("model", Text),
            ("status", Text),
            ("progress", Int),
            ("created_at", Int),
            ("started_at", Int),
            ("completed_at", Int),
            ("expires_at", Int),
            ("deleted_at", Int),
            ("prompt", Text),
            ("size", Text),
            ("seconds", Int),
            ("seed", Int),
            ("spec", Text),
            ("remixed_from_video_id", Text),
            ("batch_id", Text),
            ("error_code", Text),
            ("error_message", Text),
            ("usage_seconds", Int),
            ("usage_cost_usd", Real),
            ("media", Text),
            ("priority", Int),
            ("max_attempts", Int),
            ("attempts", Int),
            ("run_at", Int),
            ("lease_id", Text),
            ("lease_owner", Text),
            ("lease_expires_at", Int),
            ("heartbeat_at", Int),
            ("cancel_requested", Bool),
            ("last_error_code", Text),
            ("last_error_message", Text),
        ],
    },
    Table {
        name: "idempotency_keys",
        identity: false,
        columns: &[
            ("project", Text),
            ("key", Text),
            ("request_hash", Text),
            ("video_id", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "characters",
        identity: true,
        columns: &[
            ("seq", Int),
            ("id", Text),
            ("project", Text),
            ("name", Text),
            ("created_at", Int),
            ("width", Int),
            ("height", Int),
        ],
    },
    Table {
        name: "files",
        identity: true,
        columns: &[
            ("seq", Int),
            ("id", Text),
            ("project", Text),
            ("purpose", Text),
            ("filename", Text),
            ("bytes", Int),
            ("created_at", Int),
            ("expires_at", Int),
            ("deleted_at", Int),
        ],
    },
    Table {
        name: "batches",
        identity: true,
        columns: &[
            ("seq", Int),
            ("id", Text),
            ("project", Text),
            ("endpoint", Text),
            ("input_file_id", Text),
            ("completion_window", Text),
            ("status", Text),
            ("outcome", Text),
            ("model", Text),
            ("metadata", Text),
            ("output_expires_after", Int),
            ("errors", Text),
            ("output_file_id", Text),
            ("error_file_id", Text),
            ("created_at", Int),
            ("in_progress_at", Int),
            ("expires_at", Int),
            ("finalizing_at", Int),
            ("completed_at", Int),
            ("failed_at", Int),
            ("expired_at", Int),
            ("cancelling_at", Int),
            ("cancelled_at", Int),
            ("driver", Text),
            ("driver_until", Int),
        ],
    },
    Table {
        name: "batch_requests",
        identity: false,
        columns: &[
            ("batch_id", Text),
            ("line", Int),
            ("custom_id", Text),
            ("video_id", Text),
            ("model", Text),
            ("prompt", Text),
            ("size", Text),
            ("seconds", Int),
            ("seed", Int),
            ("spec", Text),
            ("error", Text),
        ],
    },
    Table {
        name: "webhook_endpoints",
        identity: true,
        columns: &[
            ("seq", Int),
            ("id", Text),
            ("project", Text),
            ("name", Text),
            ("url", Text),
            ("event_types", TextList),
            ("secret", Text),
            ("previous_secret", Text),
            ("previous_secret_until", Int),
            ("declared", Bool),
            ("enabled", Bool),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "webhook_events",
        identity: true,
        columns: &[
            ("seq", Int),
            ("id", Text),
            ("project", Text),
            ("type", Text),
            ("created_at", Int),
            ("body", Text),
        ],
    },
    Table {
        name: "webhook_deliveries",
        identity: true,
        columns: &[
            ("seq", Int),
            ("id", Text),
            ("endpoint_id", Text),
            ("event_id", Text),
            ("status", Text),
            ("attempts", Int),
            ("created_at", Int),
            ("next_attempt_at", Int),
            ("lease_id", Text),
            ("lease_expires_at", Int),
            ("last_attempt_at", Int),
            ("last_status_code", Int),
            ("last_error", Text),
            ("completed_at", Int),
        ],
    },
    Table {
        name: "blob_deletions",
        identity: false,
        columns: &[("prefix", Text), ("retry_at", Int)],
    },
];

/// Rows copied per table, in copy order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferReport {
    pub tables: Vec<(&'static str, u64)>,
    /// Running jobs handed back to the queue (or ended, if a cancel was pending).
    pub released_jobs: u64,
}

/// Copies everything in `from` into `to`, which must hold no row yet (`Conflict` otherwise).
/// `now_ms` is when handed-back jobs become claimable again.
pub async fn copy_sqlite_to_postgres(
    from: &SqliteStore,
    to: &PostgresStore,
    now_ms: i64,
) -> Result<TransferReport> {
    if !to.is_empty().await? {
        return Err(StoreError::Conflict(
            "the target PostgreSQL database already holds Kinora data; migrate into an empty \
             database"
                .into(),
        ));
    }
    let mut report = TransferReport::default();
    let mut tx = to.pool().begin().await?;
    for table in TABLES {
        let n = copy_table(from, &mut tx, table).await?;
        report.tables.push((table.name, n));
        if table.identity {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'seq'), \
                   COALESCE((SELECT MAX(seq) FROM {0}), 0) + 1, false)",
                table.name
            ))
            .execute(&mut *tx)
            .await?;
        }
    }
    // Leases of the old node mean nothing to the new ones.
    sqlx::query("UPDATE webhook_deliveries SET lease_id = NULL, lease_expires_at = NULL")
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE batches SET driver = NULL, driver_until = NULL")
        .execute(&mut *tx)
        .await?;
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT lease_owner FROM videos \
         WHERE status = 'in_progress' AND lease_owner IS NOT NULL",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    // The store's own hand-back, so the copy ends exactly as a node's shutdown would leave it.
    for owner in owners {
        report.released_jobs += to.release_owner(&owner, now_ms).await?;
    }
    Ok(report)
}

async fn copy_table(from: &SqliteStore, tx: &mut sqlx::PgConnection, table: &Table) -> Result<u64> {
    let names: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    let select = format!("SELECT {} FROM {}", names.join(", "), table.name);
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let insert = format!(
        "INSERT INTO {} ({}){} VALUES ({})",
        table.name,
        names.join(", "),
        if table.identity {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        },
        placeholders.join(", ")
    );
    let mut rows = sqlx::query(&select).fetch(from.reader());
    let mut n = 0u64;
    while let Some(row) = rows.try_next().await? {
        let mut q = sqlx::query::<_>(&insert);
        for (column, kind) in table.columns {
            q = bind(q, &row, column, *kind, table.name)?;
        }
        q.execute(&mut *tx).await?;
        n += 1;
    }
    Ok(n)
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, PgArguments>;

fn bind<'q>(
    q: PgQuery<'q>,
    row: &SqliteRow,
    column: &str,
    kind: Kind,
    table: &str,
) -> Result<PgQuery<'q>> {
    Ok(match kind {
        Int => q.bind(row.try_get::<Option<i64>, _>(column)?),
        Real => q.bind(row.try_get::<Option<f64>, _>(column)?),
        Text => q.bind(row.try_get::<Option<String>, _>(column)?),
        Bool => q.bind(row.try_get::<Option<i64>, _>(column)?.map(|v| v != 0)),
        TextList => {
            let list = row
                .try_get::<Option<String>, _>(column)?
                .map(|json| serde_json::from_str::<Vec<String>>(&json))
                .transpose()
                .map_err(|e| {
                    StoreError::Backend(format!("{table}.{column} is not a JSON list: {e}"))
                })?;
            q.bind(list)
        }
    })
}

#[cfg(test)]
mod tests;
