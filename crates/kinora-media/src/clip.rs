//! Any clip in: the one seam every reader goes through. Kinora's own files (H.264 Baseline with
//! Opus) are read in-process with OpenH264, which is faster than a child process and needs no
//! FFmpeg; everything else goes to the sandboxed ffmpeg in `foreign`.

use std::path::Path;

use crate::decoder::{clip_info, is_native, movie_audio, native_last_frame};
use crate::demux::Movie;
use crate::foreign::{ForeignDecoder, Pixels, foreign_audio, probe_foreign};
use crate::{ClipInfo, MediaError, Mp4Decoder, RgbFrame, YuvFrame};

/// How a clip is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// OpenH264 and this crate's audio decoders read it in-process.
    Native,
    /// A sandboxed ffmpeg decodes it.
    Foreign,
}

fn open_native(path: &Path) -> Option<Movie> {
    Movie::open(path).ok()
}

/// Where `path` is read: in-process when it is Kinora's own kind of MP4, else by ffmpeg.
pub fn origin(path: &Path) -> Origin {
    match open_native(path) {
        Some(movie) if is_native(&movie) => Origin::Native,
        _ => Origin::Foreign,
    }
}

/// Size, rate, frames and duration of any clip. Kinora's own MP4s are read from their `moov`
/// alone (exact frame counts, cheap even for long clips); anything else is asked of ffprobe,
/// with the size as displayed (rotation applied) and the frames counted at its average rate,
/// as the decoder delivers them. Errors from ffprobe never name the path.
pub fn probe(path: &Path) -> Result<ClipInfo, MediaError> {
    match open_native(path).filter(is_native) {
        Some(movie) => clip_info(&movie),
        None => probe_foreign(path),
    }
}

/// Interleaved stereo 48 kHz PCM of the clip's first audio track, lined up with its pictures
/// and trimmed or padded to the video's duration; `Ok(None)` without audio.
pub fn decode_audio(path: &Path) -> Result<Option<Vec<f32>>, MediaError> {
    if let Some(mut movie) = open_native(path).filter(is_native) {
        return movie_audio(&mut movie);
    }
    let info = probe_foreign(path)?;
    if !info.has_audio {
        return Ok(None);
    }
    foreign_audio(path, info.duration_s)
}

/// The clip's final frame.
pub fn last_frame(path: &Path) -> Result<RgbFrame, MediaError> {
    if origin(path) == Origin::Native {
        return native_last_frame(path);
    }
    let mut reader = ForeignDecoder::open(path, 30.0)?;
    let mut last = None;
    while let Some(frame) = reader.next_frame()? {
        last = Some(frame);
    }
    last.ok_or_else(|| MediaError::InvalidInput("the clip has no decodable frame".into()))
}

/// Decoded frames of any clip, in display order.
pub enum ClipReader {
    Native(Box<Mp4Decoder>),
    Foreign(Box<ForeignDecoder>),
}

impl ClipReader {
    /// A native clip frame by frame as stored; a foreign one at its average rate.
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        if origin(path) == Origin::Native {
            return Ok(Self::Native(Box::new(Mp4Decoder::open(path)?)));
        }
        let info = probe_foreign(path)?;
        let fps = info.fps;
        Ok(Self::Foreign(Box::new(ForeignDecoder::open_probed(
            path,
            info,
            fps,
            Pixels::Rgb,
        )?)))
    }

    /// A foreign clip, already probed (`info` from [`probe`]), re-timed by ffmpeg to a constant
    /// `fps` (see [`ForeignDecoder`]), its frames read with [`ClipReader::next_frame`]
    /// (`Pixels::Rgb`) or [`ClipReader::next_yuv_into`] (`Pixels::I420`).
    pub fn foreign_at(
        path: &Path,
        info: ClipInfo,
        fps: f64,
        pixels: Pixels,
    ) -> Result<Self, MediaError> {
        Ok(Self::Foreign(Box::new(ForeignDecoder::open_probed(
            path, info, fps, pixels,
        )?)))
    }

    /// The form frames come in: Kinora's own clips always decode to RGB.
    pub fn pixels(&self) -> Pixels {
        match self {
            Self::Native(_) => Pixels::Rgb,
            Self::Foreign(d) => d.pixels(),
        }
    }

    pub fn info(&self) -> &ClipInfo {
        match self {
            Self::Native(d) => d.info(),
            Self::Foreign(d) => d.info(),
        }
    }

    pub fn next_frame(&mut self) -> Result<Option<RgbFrame>, MediaError> {
        match self {
            Self::Native(d) => d.next_frame(),
            Self::Foreign(d) => d.next_frame(),
        }
    }

    /// The next frame as I420 over `frame` (`false` at the end), from a foreign clip opened
    /// with `Pixels::I420`. Kinora's own clips decode in process to RGB only.
    pub fn next_yuv_into(&mut self, frame: &mut YuvFrame) -> Result<bool, MediaError> {
        match self {
            Self::Native(_) => Err(MediaError::InvalidInput(
                "a native clip is read as RGB frames".into(),
            )),
            Self::Foreign(d) => d.next_yuv_into(frame),
        }
    }
}
