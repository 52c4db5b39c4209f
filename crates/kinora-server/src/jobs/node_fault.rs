//! Telling a node's fault from a job's. When scratch space or the blob store refuses writes, every
//! job would fail the same way: the runner hands the job back without spending an attempt and
//! stops claiming until a probe finds the space writable again.

use std::io::Write;
use std::path::Path;

use crate::health::Part;
use crate::state::AppState;

/// Writes, syncs and removes a small file in `dir`: what a render needs of its scratch space.
fn write_probe(dir: &Path) -> std::io::Result<()> {
    let mut f = tempfile::NamedTempFile::new_in(dir)?;
    f.write_all(&[0u8; 64 * 1024])?;
    f.as_file().sync_all()
}

async fn scratch_writable(state: &AppState) -> Result<(), String> {
    let dir = state.tmp_dir.clone();
    match tokio::task::spawn_blocking(move || write_probe(&dir)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(join) => Err(join.to_string()),
    }
}

async fn blobs_writable(state: &AppState) -> Result<(), String> {
    let key = format!("health/{}", state.node_id);
    let put = state
        .blobs
        .put_bytes(&key, axum::body::Bytes::from_static(b"ok"))
        .await;
    let _ = state.blobs.delete_prefix(&key).await;
    put.map(|_| ()).map_err(|e| e.to_string())
}

/// Probes the parts a render writes to and records what it finds in `state.health`. Returns the
/// first part at fault, if any.
pub async fn check(state: &AppState) -> Option<Part> {
    let mut first = None;
    for (part, probe) in [
        (Part::Scratch, scratch_writable(state).await),
        (Part::Blobs, blobs_writable(state).await),
    ] {
        match probe {
            Ok(()) => state.health.clear(part),
            Err(detail) => {
                state.health.fault(part, &detail);
                first = first.or(Some(part));
            }
        }
    }
    first
}

/// Whether the node is known to be at fault for renders (its workers should not claim).
pub fn paused(state: &AppState) -> bool {
    state.health.is_faulty(Part::Scratch) || state.health.is_faulty(Part::Blobs)
}
