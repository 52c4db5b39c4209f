//! `[engine]`: how the built-in engine treats the words of a prompt it cannot draw. Its own file
//! so `settings.rs` stays a table of sections.

use serde::{Deserialize, Serialize};

/// How the built-in engine treats words it cannot draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSettings {
    /// Show the words of a prompt the engine could not draw as a caption in the lower third.
    pub captions: bool,
    /// A create whose `interpretation.coverage` is below this fails with
    /// `prompt_not_understood` at no charge; 0 accepts every prompt (and captions the rest).
    pub min_coverage: f32,
    /// The nice value (0–19) of the threads that render in this process: the engine, its
    /// encoder and the decoders it starts. Renders then take the CPU the API leaves, so reads
    /// stay fast while a node renders; 0 runs them at the API's priority.
    pub render_nice: i32,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            captions: true,
            min_coverage: 0.0,
            render_nice: 10,
        }
    }
}
