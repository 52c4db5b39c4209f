//! kinora-render: the built-in procedural animatic engine. It reads a prompt into a [`Scene`]
//! (setting, time of day, weather, subjects with colours and motions, camera, mood, style),
//! animates it, synthesises matching audio and encodes an MP4 through `kinora-media`. It is a
//! fast, deterministic storyboard renderer, not a diffusion model: no GPU, no weights.
//! docs/engine.md documents the vocabulary, fallbacks and every fixed choice (24 fps, fit rule,
//! sprite sheet grid, character threshold).
//!
//! Layout:
//! - `vocabulary`: the closed word lists (settings, times, weathers, subjects, colours, motions,
//!   camera moves, framings, moods, styles)
//! - `prompt`: tokenising a prompt into recognised terms; `lexicon`: lemmas and WordNet-derived
//!   words; `scene`: the scene and its parser; `interpretation`: what a prompt was read as
//! - `timeline`: segments and closed-form subject motion; `camera`: poses and views
//! - `look`: light, grade and style per colour; `backdrop` + `landscape`: the world behind
//! - `pen` + `figure`: drawing each subject kind; `weather`: particles and lightning
//! - `raster`: pixel loops; `painter`: one frame
//! - `audio`: ambience and action cues, one frame's chunk at a time
//! - `pipeline`: painter thread → bounded queue → encoder, previews picked on the way
//! - `picture`: a frame in flight, RGB as painted or I420 as decoded footage
//! - `request`: the request and result types and the shared handles (cancel, progress, output
//!   paths); `engine`: validation, dispatch, create; `extend`, `edit`, `character`: the other
//!   modes; `footage`: frames decoded from an existing clip
//! - `adopt`: validating and normalising a clip a remote worker rendered
//! - `bench`: the end-to-end vs encoder-only benchmark behind `kinora bench`; `bench_foreign`:
//!   decoding and extending a phone-made clip against `ffmpeg -f null` (`kinora bench --foreign`)

mod adopt;
mod audio;
mod backdrop;
pub mod bench;
pub mod bench_foreign;
mod camera;
mod caption;
mod character;
mod edit;
mod engine;
mod error;
mod extend;
mod figure;
mod footage;
mod interior;
mod interpretation;
mod landscape;
mod lexicon;
mod look;
mod painter;
mod pen;
mod picture;
mod pipeline;
mod placement;
mod platform;
mod prompt;
mod raster;
mod request;
mod scene;
mod subject;
mod timeline;
mod vocabulary;
mod weather;

#[cfg(test)]
mod tests;

pub use adopt::{Adopted, Expected, Returned, adopt};
pub use camera::CameraPose;
pub use character::{CharacterInfo, NOT_FOUND as CHARACTER_NOT_FOUND, extract_character};
pub use engine::render;
pub use error::RenderError;
pub use extend::{SegmentOutputs, render_segment};
pub use interpretation::{Fallback, Interpretation, Understood, interpret_edit};
pub use kinora_media::AudioCodec;
pub use request::{
    CancelToken, CharacterRef, FPS, MAX_SECONDS, MAX_SIDE, MIN_SECONDS, MIN_SIDE, RenderMode,
    RenderOutputs, RenderRequest,
};
pub use scene::{BackdropSource, FrameSpec, Scene, Subject, explain, interpret};
pub use timeline::{Segment, Track};
pub use vocabulary::{
    CameraMove, Framing, Mood, Motion, NamedColour, Setting, Size, Style, SubjectKind, Support,
    Tempo, TimeOfDay, Weather,
};
