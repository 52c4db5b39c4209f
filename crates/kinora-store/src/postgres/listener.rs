//! LISTEN for other nodes' wakeups and turn them into in-process `Notify` permits.
//!
//! The listener holds one dedicated connection. When it drops (PostgreSQL restarted, a network
//! cut) notifications sent meanwhile are lost, so after every reconnect both signals fire once:
//! a spurious wakeup costs one empty claim, a missed one would leave work waiting for the poll.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::Notify;

use super::{QUEUE_CHANNEL, WEBHOOK_CHANNEL};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Runs until the task is aborted (the store closed or dropped).
pub(super) async fn run(options: PgConnectOptions, queue: Arc<Notify>, webhooks: Arc<Notify>) {
    let wake_all = || {
        queue.notify_one();
        webhooks.notify_one();
    };
    let mut backoff = FIRST_BACKOFF;
    loop {
        let mut listener = match subscribe(&options).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "PostgreSQL LISTEN failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = FIRST_BACKOFF;
        wake_all();
        loop {
            // `try_recv` reports a lost connection as `Ok(None)` (and reconnects on the next
            // call) rather than hiding it, so missed notifications are made up for at once.
            match listener.try_recv().await {
                Ok(Some(n)) if n.channel() == QUEUE_CHANNEL => queue.notify_one(),
                Ok(Some(n)) if n.channel() == WEBHOOK_CHANNEL => webhooks.notify_one(),
                Ok(Some(_)) => {}
                Ok(None) => {
                    tracing::warn!("PostgreSQL LISTEN connection lost; reconnecting");
                    wake_all();
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "PostgreSQL LISTEN failed");
                    break;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// A listener on its own one-connection pool, which sqlx uses to reconnect it.
async fn subscribe(options: &PgConnectOptions) -> sqlx::Result<PgListener> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener
        .listen_all([QUEUE_CHANNEL, WEBHOOK_CHANNEL])
        .await?;
    Ok(listener)
}
