//! Footage: frames and audio that come from an existing MP4 rather than the painter, for
//! re-encoding a clip that cannot be stitched by copying and for frame-by-frame edits.

use std::path::Path;

use kinora_media::{ClipReader, Pixels, RgbFrame, YuvFrame, decode_audio};

use crate::FPS;
use crate::audio::{AudioSynth, track_chunk};
use crate::error::RenderError;
use crate::picture::Picture;
use crate::pipeline::{FrameSource, Previews};

/// A per-frame change applied to decoded pixels (see `edit::Grade`).
pub trait Filter: Send {
    fn apply(&mut self, frame: u32, rgb: &mut [u8], width: u32, height: u32);
}

/// Decoded frames of a clip, optionally filtered, with its audio (or silence). Frame `n` is the
/// clip's frame `n`, or with [`ClipSource::retimed`] the frame on screen at that instant.
pub struct ClipSource<F: Filter> {
    decoder: ClipReader,
    audio: Option<Vec<f32>>,
    fallback: Option<AudioSynth>,
    filter: Option<F>,
    /// The clip's frame rate in thousandths, when it differs from the output's.
    rate_milli: Option<u64>,
    decoded: u32,
    /// A reader opened with `Pixels::I420` gives frames that go to the encoder as they are;
    /// such a source takes no filter (its caller opens RGB when it has one).
    current: Option<Picture>,
}

pub fn bad_clip(e: impl std::fmt::Display) -> RenderError {
    RenderError::invalid("video", format!("the clip cannot be decoded: {e}"))
}

impl<F: Filter> ClipSource<F> {
    pub fn open(path: &Path, filter: Option<F>) -> Result<Self, RenderError> {
        // Undecodable audio is not fatal: the clip's picture is what the edit is about.
        let audio = decode_audio(path).ok().flatten();
        Ok(Self::pictures(path, filter)?.with_audio(audio))
    }

    /// The clip's pictures only; the sound comes from [`ClipSource::with_audio`] (silence without).
    pub fn pictures(path: &Path, filter: Option<F>) -> Result<Self, RenderError> {
        Ok(Self::reading(
            ClipReader::open(path).map_err(bad_clip)?,
            filter,
        ))
    }

    /// Pictures from an opened reader (e.g. a foreign clip re-timed by ffmpeg).
    pub fn reading(decoder: ClipReader, filter: Option<F>) -> Self {
        Self {
            decoder,
            audio: None,
            fallback: None,
            filter,
            rate_milli: None,
            decoded: 0,
            current: None,
        }
    }

    /// Interleaved stereo 48 kHz samples to play under the pictures.
    pub fn with_audio(mut self, audio: Option<Vec<f32>>) -> Self {
        self.audio = audio;
        self
    }

    /// Uses `synth` for the audio when the clip's own does not decode.
    pub fn or_audio(mut self, synth: AudioSynth) -> Self {
        if self.audio.is_none() {
            self.fallback = Some(synth);
        }
        self
    }

    /// Plays a clip made at `fps` at the platform's [`FPS`], by time: output frame `n` shows
    /// the clip frame on screen at `n / FPS` seconds (the last one held if the clip runs out).
    /// The audio is already in time (48 kHz), so only the pictures are re-timed.
    pub fn at_rate(mut self, fps: f64) -> Self {
        self.rate_milli = Some((fps * 1000.0).round().max(1.0) as u64);
        self
    }

    /// The last clip frame drawn, when any was: the still an extension continues from.
    pub fn into_last_frame(self) -> Result<Option<RgbFrame>, RenderError> {
        self.current.map(Picture::into_rgb).transpose()
    }

    /// Decodes the next clip frame over `current`; `false` at the end (`current` kept).
    fn decode_next(&mut self) -> Result<bool, RenderError> {
        if self.decoder.pixels() == Pixels::I420 {
            if let Some(current) = self.current.as_mut() {
                return self
                    .decoder
                    .next_yuv_into(current.yuv_mut())
                    .map_err(bad_clip);
            }
            let info = self.decoder.info();
            let mut first = YuvFrame::new(info.width, info.height);
            let got = self.decoder.next_yuv_into(&mut first).map_err(bad_clip)?;
            if got {
                self.current = Some(Picture::Yuv(first));
            }
            return Ok(got);
        }
        Ok(match self.decoder.next_frame().map_err(bad_clip)? {
            Some(next) => {
                self.current = Some(Picture::Rgb(next));
                true
            }
            None => false,
        })
    }

    /// The clip frame output frame `n` shows, counted from 1.
    fn wanted(&self, n: u32) -> u32 {
        match self.rate_milli {
            Some(milli) => (u64::from(n) * milli / (u64::from(FPS) * 1000)) as u32 + 1,
            None => n + 1,
        }
    }
}

impl<F: Filter> FrameSource for ClipSource<F> {
    fn draw(&mut self, frame: u32, out: &mut Picture) -> Result<(), RenderError> {
        let wanted = self.wanted(frame);
        while self.decoded < wanted {
            if !self.decode_next()? {
                // A re-timed clip may end a frame early by rounding: its last frame stays.
                if self.rate_milli.is_some() && self.current.is_some() {
                    break;
                }
                return Err(bad_clip(format!("it ends before frame {}", wanted - 1)));
            }
            self.decoded += 1;
        }
        let current = self
            .current
            .as_ref()
            .ok_or_else(|| bad_clip("it has no frames"))?;
        if current.size() != out.size() {
            return Err(bad_clip("its frames change size"));
        }
        match current {
            Picture::Yuv(decoded) => out.yuv_mut().data.copy_from_slice(&decoded.data),
            Picture::Rgb(decoded) => {
                let out = out.rgb_mut();
                out.data.copy_from_slice(&decoded.data);
                if let Some(f) = self.filter.as_mut() {
                    f.apply(frame, &mut out.data, out.width, out.height);
                }
            }
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
    let mut decoder = ClipReader::open(path).map_err(bad_clip)?;
    let last = previews.last_needed().min(frames.saturating_sub(1));
    for index in 0..=last {
        match decoder.next_frame().map_err(bad_clip)? {
            Some(frame) => previews.offer(index, &frame)?,
            None => break,
        }
    }
    Ok(())
}
