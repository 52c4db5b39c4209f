//! Footage: frames and audio that come from an existing MP4 rather than the painter, for
//! re-encoding a clip that cannot be stitched by copying and for frame-by-frame edits.

use std::path::Path;

use kinora_media::{Mp4Decoder, RgbFrame, decode_audio};

use crate::audio::{AudioSynth, track_chunk};
use crate::error::RenderError;
use crate::pipeline::{FrameSource, Previews};

/// A per-frame change applied to decoded pixels (see `edit::Grade`).
pub trait Filter: Send {
    fn apply(&mut self, frame: u32, rgb: &mut [u8], width: u32, height: u32);
}

/// Decoded frames of a clip, optionally filtered, with its audio (or silence).
pub struct ClipSource<F: Filter> {
    decoder: Mp4Decoder,
    audio: Option<Vec<f32>>,
    fallback: Option<AudioSynth>,
    filter: Option<F>,
}

pub fn bad_clip(e: impl std::fmt::Display) -> RenderError {
    RenderError::invalid("video", format!("the clip cannot be decoded: {e}"))
}

impl<F: Filter> ClipSource<F> {
    pub fn open(path: &Path, filter: Option<F>) -> Result<Self, RenderError> {
        let decoder = Mp4Decoder::open(path).map_err(bad_clip)?;
        // Undecodable audio is not fatal: the clip's picture is what the edit is about.
        let audio = decode_audio(path).ok().flatten();
        Ok(Self {
            decoder,
            audio,
            fallback: None,
            filter,
        })
    }

    /// Uses `synth` for the audio when the clip's own does not decode.
    pub fn or_audio(mut self, synth: AudioSynth) -> Self {
        if self.audio.is_none() {
            self.fallback = Some(synth);
        }
        self
    }
}

impl<F: Filter> FrameSource for ClipSource<F> {
    fn draw(&mut self, frame: u32, out: &mut RgbFrame) -> Result<(), RenderError> {
        let decoded = self
            .decoder
            .next_frame()
            .map_err(bad_clip)?
            .ok_or_else(|| bad_clip(format!("it ends before frame {frame}")))?;
        if (decoded.width, decoded.height) != (out.width, out.height) {
            return Err(bad_clip("its frames change size"));
        }
        *out = decoded;
        if let Some(f) = self.filter.as_mut() {
            f.apply(frame, &mut out.data, out.width, out.height);
        }
        Ok(())
    }

    fn audio(&mut self, frame: u32, out: &mut Vec<f32>) -> Result<(), RenderError> {
        if let Some(synth) = self.fallback.as_mut() {
            synth.render_frame(frame, out);
            return Ok(());
        }
        track_chunk(self.audio.as_deref(), frame, out);
        Ok(())
    }
}

/// No change: plain re-encoding.
#[derive(Debug, Clone, Copy)]
pub struct Unchanged;

impl Filter for Unchanged {
    fn apply(&mut self, _: u32, _: &mut [u8], _: u32, _: u32) {}
}

/// Offers the first `frames` frames of `path` to `previews` as output frames `0..frames`,
/// stopping once no pick needs a later frame.
pub fn preview_frames(
    path: &Path,
    frames: u32,
    previews: &mut Previews,
) -> Result<(), RenderError> {
    let mut decoder = Mp4Decoder::open(path).map_err(bad_clip)?;
    let last = previews.last_needed().min(frames.saturating_sub(1));
    for index in 0..=last {
        match decoder.next_frame().map_err(bad_clip)? {
            Some(frame) => previews.offer(index, &frame)?,
            None => break,
        }
    }
    Ok(())
}
