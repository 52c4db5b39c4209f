//! A secret (API key, worker token, database URL) that never prints: its own leaf so settings and
//! the sections that hold secrets (webhooks, workers) need not import each other.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}
