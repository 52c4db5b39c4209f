//! Adopting a clip rendered elsewhere (a remote worker, a GPU model): validate it by decoding
//! every frame, normalise it to the platform's format (H.264 at [`FPS`] with our keyframe
//! interval, audio in the requested codec), stitch an extension segment after its source, and
//! pick the previews on the way. Remote models run at their own frame rates (Wan 16 fps, LTX 24)
//! and encoders; normalising once here means every stored clip stitches, previews and streams
//! the same way whoever drew it.

use std::path::{Path, PathBuf};

use kinora_media::{
    AUDIO_CHANNELS, AUDIO_SAMPLE_RATE, AudioCodec, ClipInfo, ClipReader, MediaError, Origin,
    decode_audio, origin, probe, stitch_with,
};

use crate::FPS;
use crate::error::RenderError;
use crate::extend::reencode_join;
use crate::footage::{ClipSource, Unchanged, preview_frames};
use crate::pipeline::{self, Previews};
use crate::platform::at_platform_rate;
use crate::request::{CancelToken, Progress};
use crate::scene::FrameSpec;

/// What the clip must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub width: u32,
    pub height: u32,
    pub seconds: u32,
}

/// What a worker returned.
#[derive(Debug, Clone)]
pub struct Returned {
    pub video: PathBuf,
    /// A 16-bit PCM WAV soundtrack, for models that make audio apart from the picture.
    pub audio_wav: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Adopted {
    pub video: PathBuf,
    pub thumbnail: PathBuf,
    pub spritesheet: PathBuf,
    pub info: ClipInfo,
}

fn artifact(message: impl Into<String>) -> RenderError {
    RenderError::invalid("video.mp4", message)
}

/// Whether `actual` seconds are close enough to the `wanted` length: models make fixed frame
/// counts (4k+1, 8k+1) that never land exactly on whole seconds.
fn length_ok(actual: f64, wanted: u32) -> bool {
    let wanted = f64::from(wanted);
    (actual - wanted).abs() <= (wanted * 0.1).max(0.5)
}

/// Normalises `returned` into `out_dir` (`video.mp4`, `thumbnail.webp`, `spritesheet.jpg`). With
/// `extends`, the returned clip is a new segment that is stitched after that source.
pub fn adopt(
    returned: &Returned,
    expected: Expected,
    extends: Option<&Path>,
    audio_codec: AudioCodec,
    out_dir: &Path,
    progress: &(dyn Fn(u8) + Sync),
    cancel: &CancelToken,
) -> Result<Adopted, RenderError> {
    let progress = &Progress::new(progress);
    let info = probe(&returned.video).map_err(|e| artifact(format!("not a readable MP4: {e}")))?;
    if (info.width, info.height) != (expected.width, expected.height) {
        return Err(artifact(format!(
            "the clip is {}x{}; the job is {}x{}",
            info.width, info.height, expected.width, expected.height
        )));
    }
    if info.frames == 0 || !length_ok(info.duration_s, expected.seconds) {
        return Err(artifact(format!(
            "the clip lasts {:.2} s ({} frames); the job asked for {} s",
            info.duration_s, info.frames, expected.seconds
        )));
    }
    let audio = soundtrack(returned, &info)?;
    let extends = extends
        .map(|source| at_platform_rate(source, out_dir, cancel))
        .transpose()?;
    let source_frames = extends.as_ref().map_or(0, |s| s.info.frames);
    let extends = extends.as_ref().map(|s| s.path.as_path());
    let new_frames = expected.seconds * FPS;
    let mut previews = Previews::for_clip(source_frames + new_frames);
    if let Some(source) = extends {
        preview_frames(source, source_frames, &mut previews)?;
    }
    let spec = FrameSpec {
        width: expected.width,
        height: expected.height,
        fps: FPS,
    };
    let video = out_dir.join("video.mp4");
    let part = out_dir.join("segment.part.mp4");
    let own_audio = returned.audio_wav.is_none() && audio.is_some();
    // Only Kinora's own kind of MP4 can be kept as it is; any other is re-encoded.
    let native = origin(&returned.video) == Origin::Native;
    let platform = if native && already_platform(&info, own_audio, new_frames) {
        check_frames(
            &returned.video,
            source_frames,
            &mut previews,
            progress,
            cancel,
        )?;
        returned.video.clone()
    } else {
        let target = if extends.is_some() { &part } else { &video };
        // An extension's segment is always Opus: its decode is exact from the first sample, so
        // the join (which re-encodes the audio once, in `audio_codec`) has no gap at the seam.
        let codec = if extends.is_some() {
            AudioCodec::Opus
        } else {
            audio_codec
        };
        let mut encoder = pipeline::new_encoder(target, spec.width, spec.height, codec)?;
        let frames = ClipSource::<Unchanged>::pictures(&returned.video, None)?
            .at_rate(info.fps)
            .with_audio(audio);
        pipeline::encode(
            &mut encoder,
            frames,
            0..new_frames,
            source_frames,
            &mut previews,
            progress,
            (0, 90),
            cancel,
        )?;
        pipeline::finish(encoder)?;
        target.clone()
    };
    let joined = match extends {
        Some(source) => {
            let joined = match stitch_with(source, &platform, &video, audio_codec) {
                Ok(j) => j,
                Err(MediaError::Unsupported(_)) => reencode_join(
                    source,
                    &platform,
                    &video,
                    (source_frames, new_frames),
                    (spec, audio_codec),
                    progress,
                    cancel,
                )?,
                Err(e) => return Err(e.into()),
            };
            let _ = std::fs::remove_file(&part);
            joined
        }
        None => {
            if platform != video {
                std::fs::copy(&platform, &video)?;
            }
            probe(&video)?
        }
    };
    let out = Adopted {
        video,
        thumbnail: out_dir.join("thumbnail.webp"),
        spritesheet: out_dir.join("spritesheet.jpg"),
        info: joined,
    };
    previews.write(&out.thumbnail, &out.spritesheet)?;
    progress.report(100);
    Ok(out)
}

/// A clip already at the platform's frame rate and length, with audio we can read, is kept as
/// it is (after every frame decoded): re-encoding it would cost the node a full encode per job
/// for nothing, which matters when the built-in engine runs on remote CPU workers.
fn already_platform(info: &ClipInfo, readable_audio: bool, frames: u32) -> bool {
    (info.fps - f64::from(FPS)).abs() < 0.01 && info.frames == frames && readable_audio
}

/// Decodes every frame of `path` (the validation) and offers them to `previews`.
fn check_frames(
    path: &Path,
    first_output: u32,
    previews: &mut Previews,
    progress: &Progress<'_>,
    cancel: &CancelToken,
) -> Result<(), RenderError> {
    let mut decoder =
        ClipReader::open(path).map_err(|e| artifact(format!("cannot be decoded: {e}")))?;
    let total = decoder.info().frames.max(1);
    let mut index = 0;
    while let Some(frame) = decoder
        .next_frame()
        .map_err(|e| artifact(format!("frame {index} cannot be decoded: {e}")))?
    {
        if cancel.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        previews.offer(first_output + index, &frame)?;
        index += 1;
        progress.report(90 * index / total);
    }
    if index != decoder.info().frames {
        return Err(artifact(format!(
            "only {index} of its {} frames decode",
            decoder.info().frames
        )));
    }
    Ok(())
}

/// The clip's soundtrack as 48 kHz stereo: the WAV when one came, else the clip's own track,
/// else none (silence). An audio track that is there but cannot be decoded is refused rather
/// than silently dropped.
fn soundtrack(returned: &Returned, info: &ClipInfo) -> Result<Option<Vec<f32>>, RenderError> {
    if let Some(wav) = &returned.audio_wav {
        return read_wav(wav).map(Some);
    }
    if !info.has_audio {
        return Ok(None);
    }
    decode_audio(&returned.video).map_err(|e| {
        artifact(format!(
            "its audio track cannot be decoded ({e}); send Opus in the MP4, or audio.wav"
        ))
    })
}

fn read_wav(path: &Path) -> Result<Vec<f32>, RenderError> {
    let bad = |e: &dyn std::fmt::Display| {
        RenderError::invalid("audio.wav", format!("not a 16-bit PCM WAV: {e}"))
    };
    let mut reader = hound::WavReader::open(path).map_err(|e| bad(&e))?;
    let spec = reader.spec();
    if spec.sample_format != hound::SampleFormat::Int
        || spec.bits_per_sample != 16
        || !(1..=2).contains(&spec.channels)
        || spec.sample_rate == 0
    {
        return Err(bad(&format!(
            "{} channel(s), {} bits, {:?}",
            spec.channels, spec.bits_per_sample, spec.sample_format
        )));
    }
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&e))?;
    let channels = usize::from(spec.channels);
    let frames: Vec<[f32; 2]> = samples
        .chunks_exact(channels)
        .map(|c| {
            let l = f32::from(c[0]) / 32768.0;
            let r = f32::from(c[channels - 1]) / 32768.0;
            [l, r]
        })
        .collect();
    Ok(resample_stereo(&frames, spec.sample_rate))
}

/// Linear-interpolation resampling to the platform rate, interleaved: enough for a soundtrack
/// that is re-encoded lossy right after.
fn resample_stereo(input: &[[f32; 2]], rate: u32) -> Vec<f32> {
    debug_assert_eq!(AUDIO_CHANNELS, 2);
    if input.is_empty() {
        return Vec::new();
    }
    let out_len = (input.len() as u64 * u64::from(AUDIO_SAMPLE_RATE) / u64::from(rate)) as usize;
    let step = f64::from(rate) / f64::from(AUDIO_SAMPLE_RATE);
    let mut out = Vec::with_capacity(out_len * 2);
    for i in 0..out_len {
        let pos = i as f64 * step;
        let j = (pos as usize).min(input.len() - 1);
        let k = (j + 1).min(input.len() - 1);
        let t = (pos - j as f64) as f32;
        for (a, b) in input[j].iter().zip(&input[k]) {
            out.push(a * (1.0 - t) + b * t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_tolerance_is_half_a_second_or_ten_percent() {
        assert!(length_ok(5.06, 5));
        assert!(length_ok(4.5, 4));
        assert!(!length_ok(3.4, 4));
        assert!(length_ok(18.1, 20));
        assert!(!length_ok(17.9, 20));
    }

    #[test]
    fn resampling_keeps_duration_and_duplicates_mono() {
        let one_second: Vec<[f32; 2]> = (0..16_000).map(|i| [i as f32 / 16_000.0; 2]).collect();
        let out = resample_stereo(&one_second, 16_000);
        assert_eq!(out.len(), 48_000 * 2);
        assert_eq!(out[0], out[1]);
        assert!(out.windows(2).step_by(2).all(|w| w[0] == w[1]));
        assert!((out[out.len() - 2] - 1.0).abs() < 0.01);
    }
}
