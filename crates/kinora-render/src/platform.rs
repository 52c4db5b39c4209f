//! The platform's format: H.264 at [`FPS`] in Kinora's own MP4. Sources in any other format
//! (phone clips at 30 or 60 fps, HEVC in MOV, other encoders' MP4s, remote models' 16 fps clips)
//! are read as [`ClipSource`]s at the platform rate by [`platform_clip`], so a job that
//! re-encodes anyway (an edit, a foreign extension) decodes its source once and writes no
//! intermediate file; [`at_platform_rate`] writes such a copy for callers that must stitch by
//! copying samples.

use std::path::{Path, PathBuf};

use kinora_media::{
    AudioCodec, ClipInfo, ClipReader, Effort, Origin, Pixels, decode_audio, origin,
};

use crate::FPS;
use crate::error::RenderError;
use crate::extend::probe_source;
use crate::footage::{ClipSource, Filter, Unchanged, bad_clip};
use crate::pipeline::{self, Previews};
use crate::request::{CancelToken, Progress};

/// Whether `source` is already in the platform's format: Kinora's own MP4 at [`FPS`].
pub fn is_platform(source: &Path, info: &ClipInfo) -> bool {
    origin(source) == Origin::Native && (info.fps - f64::from(FPS)).abs() < 0.01
}

/// `source` as platform frames, with its audio: frame `n` is what is on screen at `n / FPS`
/// seconds (rotation applied), and the sound stays as it was. Returns the source and how many
/// platform frames it lasts.
pub fn platform_clip<F: Filter>(
    source: &Path,
    info: &ClipInfo,
    filter: Option<F>,
) -> Result<(ClipSource<F>, u32), RenderError> {
    if is_platform(source, info) {
        return Ok((ClipSource::open(source, filter)?, info.frames));
    }
    let frames = ((info.duration_s * f64::from(FPS)).round() as u32).max(1);
    let clip = if origin(source) == Origin::Native {
        ClipSource::open(source, filter)?.at_rate(info.fps)
    } else {
        // ffmpeg re-times by time itself (variable frame rates included); holding the last
        // frame covers a clip that ends a frame early by rounding.
        // Frames re-encoded unchanged stay I420 from ffmpeg to the encoder; a filter draws on RGB.
        let pixels = match filter {
            Some(_) => Pixels::Rgb,
            None => Pixels::I420,
        };
        let reader = ClipReader::foreign_at(source, info.clone(), f64::from(FPS), pixels)
            .map_err(bad_clip)?;
        // As for any clip: sound that does not decode is not fatal, the pictures are the point.
        let audio = decode_audio(source).ok().flatten();
        ClipSource::reading(reader, filter)
            .with_audio(audio)
            .at_rate(f64::from(FPS))
    };
    Ok((clip, frames))
}

/// A source clip as the platform's frame rate sees it (see [`at_platform_rate`]); a re-timed copy
/// is removed when this is dropped.
pub struct PlatformSource {
    pub path: PathBuf,
    pub info: ClipInfo,
    copy: bool,
}

impl Drop for PlatformSource {
    fn drop(&mut self) {
        if self.copy {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Probes `source` and, when it is not in the platform's format ([`is_platform`]), re-encodes
/// it into `dir` as [`platform_clip`] reads it. For adopting a remote worker's extension
/// segment, whose source must be stitched by copying; a stored source is always in the
/// platform's format already, so this is then only the probe.
pub fn at_platform_rate(
    source: &Path,
    dir: &Path,
    cancel: &CancelToken,
) -> Result<PlatformSource, RenderError> {
    let info = probe_source(source)?;
    if is_platform(source, &info) {
        return Ok(PlatformSource {
            path: source.to_path_buf(),
            info,
            copy: false,
        });
    }
    let (clip, frames) = platform_clip::<Unchanged>(source, &info, None)?;
    let path = dir.join("source.retimed.mp4");
    let mut encoder = pipeline::new_encoder_with(
        &path,
        info.width,
        info.height,
        AudioCodec::Opus,
        Effort::Footage,
    )?;
    let quiet = |_| {};
    pipeline::encode(
        &mut encoder,
        clip,
        0..frames,
        0,
        &mut Previews::default(),
        &Progress::new(&quiet),
        (0, 0),
        cancel,
    )?;
    let info = pipeline::finish(encoder)?;
    Ok(PlatformSource {
        path,
        info,
        copy: true,
    })
}
