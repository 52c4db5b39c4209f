//! The public life of a video job.
//!
//! `queued → in_progress → completed | failed` is OpenAI's enum. `expired` is what the contract's
//! guide names for a finished job whose media retention has run out; the SDK's `poll()` treats any
//! unknown status as terminal, so it is safe to emit.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoStatus {
    Queued,
    InProgress,
    Completed,
    Failed,
    Expired,
}

impl VideoStatus {
    pub const ALL: [VideoStatus; 5] = [
        VideoStatus::Queued,
        VideoStatus::InProgress,
        VideoStatus::Completed,
        VideoStatus::Failed,
        VideoStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VideoStatus::Queued => "queued",
            VideoStatus::InProgress => "in_progress",
            VideoStatus::Completed => "completed",
            VideoStatus::Failed => "failed",
            VideoStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<VideoStatus> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        !matches!(self, VideoStatus::Queued | VideoStatus::InProgress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in VideoStatus::ALL {
            assert_eq!(VideoStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!(VideoStatus::Failed.is_terminal());
        assert!(!VideoStatus::InProgress.is_terminal());
    }
}
