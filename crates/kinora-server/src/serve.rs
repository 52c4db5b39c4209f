//! Serving HTTP connections with the limits `axum::serve` does not expose: a deadline for each
//! request's head and a cap on concurrent connections, so clients that drip headers or hold
//! connections open cannot exhaust the node.
//!
//! hyper's header-read deadline starts whenever a connection waits for a request's head, which
//! includes the wait for the next request on an idle keep-alive connection: one timer closes both
//! slow and idle connections.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// `[connections]`: how long a client may take to send a request's head (or stay idle between
/// requests), and how many connections are served at once (the rest wait in the listen backlog).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionSettings {
    pub header_read_timeout_seconds: u64,
    pub max_connections: usize,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            header_read_timeout_seconds: 15,
            max_connections: 4096,
        }
    }
}

impl ConnectionSettings {
    pub fn check(&self) -> Result<(), String> {
        if self.header_read_timeout_seconds < 1 || self.max_connections < 1 {
            return Err(
                "connections.header_read_timeout_seconds and max_connections must be at least 1"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the connections finish
/// their requests and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ConnectionSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let header_timeout = Duration::from_secs(limits.header_read_timeout_seconds);
    let stop = CancellationToken::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let io = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((io, _)) => io,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: neither
                    // is the listener's end, so wait a moment and go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(router.clone());
        let stop = stop.clone();
        tokio::spawn(async move {
            let _slot = permit;
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(io), service));
            tokio::select! {
                done = conn.as_mut() => {
                    if let Err(e) = done {
                        tracing::trace!(error = %e, "connection ended");
                    }
                    return;
                }
                _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    stop.cancel();
    // Each open connection holds a slot: when every slot is back, every connection is closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}
