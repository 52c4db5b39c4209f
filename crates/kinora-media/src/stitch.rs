//! Joining two clips without re-encoding the video.

use crate::decoder::movie_audio;
use crate::demux::{Codec, Movie, Track};
use crate::h264::{NAL_SPS, avcc_to_annexb, nal_type, nal_units_annexb, push_annexb};
use crate::mux::ClipWriter;
use crate::{AudioCodec, ClipInfo, MediaError, VideoParams};
use std::path::Path;

/// Join `first` then `second` into `out`. When both are H.264 with identical parameter sets,
/// size and constant frame rate (e.g. both made by `Mp4Encoder` with the same params), the
/// video samples are copied, so decoded frames stay bit-identical. Audio (Opus, AAC with the
/// `aac` feature, or none) is decoded, each clip's part padded with silence or trimmed to its
/// own video length, and re-encoded once: that keeps A/V sync exact across the seam, which
/// copying 20 ms Opus (or 21.3 ms AAC) packets cannot. The joined audio keeps the codec of
/// `first` (of `second` when `first` has none); [`stitch_with`] picks it instead. An AAC
/// `second` brings its 43 ms of encoder priming (near silence) to the seam, so a caller that
/// makes the second clip itself should write it in Opus, whose decode is exact from sample 0.
/// Anything else returns `MediaError::Unsupported` so the caller re-encodes.
pub fn stitch(first: &Path, second: &Path, out: &Path) -> Result<ClipInfo, MediaError> {
    join(first, second, out, None)
}

/// [`stitch`], writing the joined audio (if either clip has some) in `audio`.
pub fn stitch_with(
    first: &Path,
    second: &Path,
    out: &Path,
    audio: AudioCodec,
) -> Result<ClipInfo, MediaError> {
    join(first, second, out, Some(audio))
}

fn join(
    first: &Path,
    second: &Path,
    out: &Path,
    audio: Option<AudioCodec>,
) -> Result<ClipInfo, MediaError> {
    for input in [first, second] {
        if same_file(input, out) {
            return Err(MediaError::InvalidInput(format!(
                "stitch output {} would overwrite an input",
                out.display()
            )));
        }
    }
    let mut a = Movie::open(first)?;
    let mut b = Movie::open(second)?;
    let params = compatible(&a, &b)?;
    let audio_a = audio_part(&mut a)?;
    let audio_b = audio_part(&mut b)?;
    let with_audio = audio_a.is_some() || audio_b.is_some();
    let codec = audio
        .or_else(|| track_codec(&a))
        .or_else(|| track_codec(&b))
        .unwrap_or_default();

    let mut writer = ClipWriter::create(out, params, with_audio.then_some(codec))?;
    for (clip, movie) in [&mut a, &mut b].into_iter().enumerate() {
        copy_video(movie, &mut writer, clip == 0)?;
    }
    if with_audio {
        for (part, movie) in [(audio_a, &a), (audio_b, &b)] {
            let samples = params.audio_samples_for(movie.video()?.samples.len() as u32);
            let mut pcm = part.unwrap_or_default();
            pcm.resize(samples as usize * 2, 0.0);
            writer.push_audio(&pcm)?;
        }
    }
    writer.finish()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn unsupported(why: impl Into<String>) -> MediaError {
    MediaError::Unsupported(format!(
        "clips cannot be joined without re-encoding: {}",
        why.into()
    ))
}

/// Frames per second of a constant-frame-rate track, if it is one with a whole-number rate.
fn constant_fps(track: &Track) -> Option<u32> {
    let delta = track.samples.first()?.duration;
    if delta == 0 || track.samples.iter().any(|s| s.duration != delta) {
        return None;
    }
    let fps = f64::from(track.timescale) / f64::from(delta);
    let rounded = fps.round();
    ((fps - rounded).abs() < 1e-3 && rounded >= 1.0).then_some(rounded as u32)
}

fn compatible(a: &Movie, b: &Movie) -> Result<VideoParams, MediaError> {
    let (va, vb) = (a.video()?, b.video()?);
    if !matches!(va.codec, Codec::Avc { .. }) || va.codec != vb.codec {
        return Err(unsupported("video codec or H.264 parameter sets differ"));
    }
    if (va.width, va.height) != (vb.width, vb.height) {
        return Err(unsupported(format!(
            "sizes differ ({}x{} vs {}x{})",
            va.width, va.height, vb.width, vb.height
        )));
    }
    let (fa, fb) = (constant_fps(va), constant_fps(vb));
    let fps = match (fa, fb) {
        (Some(x), Some(y)) if x == y => x,
        _ => return Err(unsupported("frame rates differ or are not constant")),
    };
    if va.samples.len() < 2 || !vb.samples.first().is_some_and(|s| s.sync) {
        return Err(unsupported(
            "the second clip does not start with a keyframe",
        ));
    }
    let params = VideoParams::new(va.width, va.height, fps);
    params.validate().map_err(|e| unsupported(e.to_string()))?;
    Ok(params)
}

/// The codec of a clip's audio track, when it is one this build writes.
fn track_codec(movie: &Movie) -> Option<AudioCodec> {
    match movie.audio()?.codec {
        Codec::Opus { .. } => Some(AudioCodec::Opus),
        #[cfg(feature = "aac")]
        Codec::Aac { .. } => Some(AudioCodec::Aac),
        _ => None,
    }
}

/// Decoded audio of one clip, `None` when it has no audio track; undecodable audio is unsupported.
fn audio_part(movie: &mut Movie) -> Result<Option<Vec<f32>>, MediaError> {
    if movie.audio().is_none() {
        return Ok(None);
    }
    match movie_audio(movie)? {
        Some(pcm) => Ok(Some(pcm)),
        None => Err(unsupported(
            "an audio track is in a codec this build does not decode",
        )),
    }
}

fn copy_video(
    movie: &mut Movie,
    writer: &mut ClipWriter,
    first_clip: bool,
) -> Result<(), MediaError> {
    let video = movie.video()?;
    let Codec::Avc {
        sps,
        pps,
        length_size,
    } = video.codec.clone()
    else {
        return Err(unsupported("video is not H.264"));
    };
    let samples = video.samples.clone();
    for (i, sample) in samples.iter().enumerate() {
        let data = movie.read_sample(sample)?;
        let body = avcc_to_annexb(&data, length_size)
            .map_err(|e| MediaError::invalid(&movie.path, format!("frame {i}: {e}")))?;
        // muxide builds avcC from the first keyframe, so it must carry SPS/PPS in-band.
        let unit =
            if first_clip && i == 0 && !nal_units_annexb(&body).any(|n| nal_type(n) == NAL_SPS) {
                let mut unit = Vec::with_capacity(body.len() + 64);
                for nal in sps.iter().chain(&pps) {
                    push_annexb(&mut unit, nal);
                }
                unit.extend_from_slice(&body);
                unit
            } else {
                body
            };
        writer.write_video(&unit, sample.sync)?;
    }
    Ok(())
}
