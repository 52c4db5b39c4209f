//! `JobSpec`: everything a render job needs, stored with the job so any worker, on any node, after
//! any restart, renders the same thing.

use serde::{Deserialize, Serialize};

/// Where the clip an extension or edit starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceVideo {
    /// A video of this project, by id; its media and scene are read from the blob store.
    Video { id: String },
    /// An MP4 uploaded with the request, stored under this blob key.
    Upload { blob_key: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    Create {
        /// Blob key of the first-frame image, already fitted-checked at request time.
        input_reference: Option<String>,
        /// Character ids, in request order.
        characters: Vec<String>,
    },
    Extend {
        source: SourceVideo,
        /// Length of the new segment; the video's `seconds` holds the stitched total.
        new_seconds: u32,
        /// Position of this result in its extension chain (1 for the first extension).
        chain_depth: u32,
    },
    Edit {
        source: SourceVideo,
        /// How far the edit moves from its source, in thousandths (1–1000), where the request
        /// set `edit_strength`; otherwise the model's own default. Integral so specs stay `Eq`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strength_milli: Option<u16>,
    },
    Remix {
        source: SourceVideo,
    },
}

impl JobSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            JobSpec::Create { .. } => "create",
            JobSpec::Extend { .. } => "extend",
            JobSpec::Edit { .. } => "edit",
            JobSpec::Remix { .. } => "remix",
        }
    }

    /// Seconds of new footage this job renders, the quantity it is billed for.
    pub fn billed_seconds(&self, total_seconds: u32) -> u32 {
        match self {
            JobSpec::Extend { new_seconds, .. } => *new_seconds,
            _ => total_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips() {
        let spec = JobSpec::Extend {
            source: SourceVideo::Video {
                id: "video_1".into(),
            },
            new_seconds: 8,
            chain_depth: 2,
        };
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains("\"kind\":\"extend\""));
        assert_eq!(serde_json::from_str::<JobSpec>(&json).unwrap(), spec);
        assert_eq!(spec.billed_seconds(20), 8);
    }
}
