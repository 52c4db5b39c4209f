//! `[engine]`: how the built-in engine treats the words of a prompt it cannot draw, and how far
//! below the API its renders run. Its own file so `settings.rs` stays a table of sections.

use serde::{Deserialize, Serialize};

/// How the built-in engine treats words it cannot draw, and the priority of its renders.
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
    /// Render in Linux's idle scheduling class (`SCHED_IDLE`) as well: a render then runs only
    /// on CPU time nothing else wants, so a read never waits behind a frame being encoded
    /// (measured: p99 4.5 ms at 18,700 reads/s while 4 renders run, against 6.4 ms at 13,000
    /// with nice alone). The price: while the API keeps every core busy, renders all but
    /// stop (their leases stay alive; they resume when the load drops). Off by default.
    pub render_idle: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            captions: true,
            min_coverage: 0.0,
            render_nice: 10,
            render_idle: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::{Overrides, Settings};

    #[test]
    fn renders_are_niced_by_default_and_the_idle_class_is_asked_for_in_the_file() {
        let defaults = Settings::load(None, Overrides::default()).unwrap().engine;
        assert_eq!((defaults.render_nice, defaults.render_idle), (10, false));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "[engine]\nrender_idle = true\nrender_nice = 0\n").unwrap();
        let engine = Settings::load(Some(&file), Overrides::default())
            .unwrap()
            .engine;
        assert_eq!((engine.render_nice, engine.render_idle), (0, true));
        std::fs::write(&file, "[engine]\nrender_idle = \"yes\"\n").unwrap();
        assert!(Settings::load(Some(&file), Overrides::default()).is_err());
    }
}
