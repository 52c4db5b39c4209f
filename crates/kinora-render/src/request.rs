//! The request and result types of a render, and the small handles every mode shares
//! (cancellation, progress, output paths): a leaf the modes import, so `engine` (the front
//! door that dispatches to them) is not imported back by `extend` and `edit`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use kinora_media::{AudioCodec, ClipInfo};

use crate::error::RenderError;

/// The one frame rate of every clip the engine makes.
pub const FPS: u32 = 24;
/// Shortest and longest clip the engine makes, in seconds.
pub const MIN_SECONDS: u32 = 1;
pub const MAX_SECONDS: u32 = 120;

/// Smallest and largest frame side the engine draws (the server narrows this to the API's sizes).
pub const MIN_SIDE: u32 = 64;
pub const MAX_SIDE: u32 = 1920;

/// Cancels a render from another thread; the engine checks it every frame.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A character to draw: `dir` as written by [`crate::extract_character`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterRef {
    pub name: String,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderMode {
    /// A new clip. `input_reference` becomes the first frame (fitted by scale-to-cover and
    /// centre-crop); up to two characters are drawn from their cutouts.
    Create {
        input_reference: Option<PathBuf>,
        characters: Vec<CharacterRef>,
    },
    /// `source` plus a new segment of `seconds`. The size follows the source; the request's
    /// width and height are ignored. `source_scene` is the scene.json written beside the source.
    Extend {
        source: PathBuf,
        source_scene: Option<PathBuf>,
    },
    /// `source` with one change; keeps the source's size and length (`seconds`, width and height
    /// in the request are ignored).
    Edit {
        source: PathBuf,
        source_scene: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderRequest {
    pub prompt: String,
    pub width: u32,
    pub height: u32,
    pub seconds: u32,
    pub seed: u64,
    pub mode: RenderMode,
    /// The audio codec of the output; `Opus` unless the `aac` feature is on and this asks for
    /// `Aac`. An extension's joined audio is re-encoded in it, whatever the source's codec.
    pub audio_codec: AudioCodec,
    /// Show the words the engine could not draw as a caption in the lower third (the
    /// storyboard convention); on unless the caller turns it off.
    pub captions: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RenderOutputs {
    pub video: PathBuf,
    pub thumbnail: PathBuf,
    pub spritesheet: PathBuf,
    pub scene: PathBuf,
    pub info: ClipInfo,
}

impl RenderOutputs {
    pub(crate) fn in_dir(dir: &Path, info: ClipInfo) -> Self {
        Self {
            video: dir.join("video.mp4"),
            thumbnail: dir.join("thumbnail.webp"),
            spritesheet: dir.join("spritesheet.jpg"),
            scene: dir.join("scene.json"),
            info,
        }
    }
}

/// Reports whole percentages, each once and never going back.
pub struct Progress<'a> {
    sink: &'a (dyn Fn(u8) + Sync),
    last: AtomicU8,
}

impl<'a> Progress<'a> {
    pub fn new(sink: &'a (dyn Fn(u8) + Sync)) -> Self {
        Self {
            sink,
            last: AtomicU8::new(0),
        }
    }

    pub fn report(&self, percent: u32) {
        let p = percent.min(100) as u8;
        if p > self.last.load(Ordering::Relaxed) {
            self.last.store(p, Ordering::Relaxed);
            (self.sink)(p);
        }
    }
}

/// Paths of the files a render writes into its output directory.
pub struct OutFiles {
    pub dir: PathBuf,
}

impl OutFiles {
    pub fn video(&self) -> PathBuf {
        self.dir.join("video.mp4")
    }

    pub fn part(&self) -> PathBuf {
        self.dir.join("segment.part.mp4")
    }

    pub(crate) fn clean(&self) {
        for name in [
            "video.mp4",
            "segment.part.mp4",
            "thumbnail.webp",
            "spritesheet.jpg",
            "scene.json",
        ] {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
    }
}

pub fn check_seconds(seconds: u32) -> Result<(), RenderError> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err(RenderError::invalid(
            "seconds",
            format!(
                "{seconds} s is out of range: clips are {MIN_SECONDS} to {MAX_SECONDS} whole seconds"
            ),
        ));
    }
    Ok(())
}
