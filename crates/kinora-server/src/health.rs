//! `Health`: node-level faults (a disk that refuses writes, scratch space that cannot be written).
//! `/readyz` reports them, so a load balancer sends traffic elsewhere; the render workers stop
//! claiming jobs while scratch is at fault, so the fault does not spend the jobs' attempts.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Marks a response whose write the disk refused; `metrics::track_http` records it here.
#[derive(Clone, Debug)]
pub struct DiskFault(pub String);

/// How long a refused database write keeps the node unready. Each refusal renews it; the first
/// write that succeeds after space is back is not observed, so the fault simply ages out.
pub const DISK_FAULT_TTL: Duration = Duration::from_secs(10);

/// The parts of a node that can be at fault, as `/readyz` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The metadata store's disk refuses writes.
    Database,
    /// The scratch directory (uploads, renders) cannot be written.
    Scratch,
    /// The blob store refuses the render's outputs.
    Blobs,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Database => "database",
            Part::Scratch => "scratch",
            Part::Blobs => "blobs",
        }
    }

    /// What `/readyz` says: the operator's terms, no paths (the detail is in the log).
    pub fn reason(self) -> &'static str {
        match self {
            Part::Database => "the metadata store's disk refuses writes (full or read-only)",
            Part::Scratch => "the scratch directory cannot be written (full or read-only)",
            Part::Blobs => "the blob store refuses writes",
        }
    }
}

#[derive(Default)]
pub struct Health {
    /// Each fault with the instant it lapses on its own (`None`: until cleared).
    faults: Mutex<BTreeMap<Part, Option<Instant>>>,
}

impl Health {
    /// `part` is at fault until `clear`.
    pub fn fault(&self, part: Part, detail: &str) {
        tracing::warn!(part = part.name(), error = %detail, "node fault");
        if let Ok(mut f) = self.faults.lock() {
            f.insert(part, None);
        }
    }

    /// `part` is at fault for `ttl` from now (renewed by each new report).
    pub fn fault_for(&self, part: Part, ttl: Duration) {
        if let Ok(mut f) = self.faults.lock() {
            let until = Instant::now() + ttl;
            let entry = f.entry(part).or_insert(Some(until));
            if let Some(t) = entry {
                *t = (*t).max(until);
            }
        }
    }

    pub fn clear(&self, part: Part) {
        if let Ok(mut f) = self.faults.lock()
            && f.remove(&part).is_some()
        {
            tracing::info!(part = part.name(), "node fault cleared");
        }
    }

    /// The parts at fault now.
    pub fn faults(&self) -> Vec<Part> {
        let now = Instant::now();
        let Ok(mut f) = self.faults.lock() else {
            return Vec::new();
        };
        f.retain(|_, until| until.is_none_or(|t| t > now));
        f.keys().copied().collect()
    }

    pub fn is_faulty(&self, part: Part) -> bool {
        self.faults().contains(&part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_last_until_cleared_or_their_time_is_up() {
        let h = Health::default();
        assert!(h.faults().is_empty());
        h.fault(Part::Scratch, "read-only file system");
        h.fault_for(Part::Database, Duration::from_millis(0));
        assert_eq!(h.faults(), [Part::Scratch], "a lapsed fault is gone");
        h.fault_for(Part::Database, Duration::from_secs(60));
        assert_eq!(h.faults(), [Part::Database, Part::Scratch]);
        h.clear(Part::Scratch);
        assert!(!h.is_faulty(Part::Scratch));
        assert!(h.is_faulty(Part::Database));
    }
}
