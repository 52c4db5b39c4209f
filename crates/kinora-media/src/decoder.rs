//! Reading MP4s: `probe`, frame-by-frame H.264 decoding, last-frame extraction, Opus (and, with
//! the `aac` feature, AAC) audio.

use crate::audio::decode_opus;
use crate::demux::{Codec, Movie, Sample};
use crate::h264::{avcc_to_annexb, push_annexb};
use crate::{AUDIO_SAMPLE_RATE, ClipInfo, MediaError, RgbFrame};
use openh264::decoder::{DecodedYUV, Decoder};
use openh264::formats::YUVSource;
use std::collections::VecDeque;
use std::path::Path;

pub(crate) fn clip_info(movie: &Movie) -> Result<ClipInfo, MediaError> {
    let video = movie.video()?;
    if video.samples.is_empty() {
        return Err(MediaError::invalid(
            &movie.path,
            "video track has no frames",
        ));
    }
    let frames = u32::try_from(video.samples.len())
        .map_err(|_| MediaError::invalid(&movie.path, "too many frames"))?;
    let duration_s = video.duration_s();
    let fps = if duration_s > 0.0 {
        f64::from(frames) / duration_s
    } else {
        0.0
    };
    Ok(ClipInfo {
        width: video.width,
        height: video.height,
        fps,
        frames,
        duration_s,
        has_audio: movie.audio().is_some(),
    })
}

/// Whether OpenH264 and this crate's audio decoders read `movie` themselves: H.264 Baseline
/// (what Kinora writes) with Opus, AAC (with the `aac` feature) or no audio.
pub(crate) fn is_native(movie: &Movie) -> bool {
    let baseline = matches!(movie.video(), Ok(t) if matches!(&t.codec,
        Codec::Avc { sps, .. } if sps.first().and_then(|s| s.get(1)) == Some(&66)));
    let audio = match movie.audio().map(|t| &t.codec) {
        None | Some(Codec::Opus { .. }) => true,
        #[cfg(feature = "aac")]
        Some(Codec::Aac { .. }) => true,
        Some(_) => false,
    };
    baseline && audio
}

/// Decodes the H.264 video of an ordinary MP4 (ours, or e.g. libx264 baseline/main output)
/// frame by frame, in decode order, to RGB8 (BT.601 limited range).
pub struct Mp4Decoder {
    movie: Movie,
    samples: Vec<Sample>,
    parameter_sets: Vec<u8>,
    length_size: usize,
    decoder: Decoder,
    next_sample: usize,
    sent_parameter_sets: bool,
    flushed: bool,
    pending: VecDeque<RgbFrame>,
    info: ClipInfo,
}

impl Mp4Decoder {
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let movie = Movie::open(path)?;
        let info = clip_info(&movie)?;
        let video = movie.video()?;
        let Codec::Avc {
            sps,
            pps,
            length_size,
        } = &video.codec
        else {
            return Err(MediaError::Unsupported(format!(
                "{}: video codec {:?} is not H.264",
                path.display(),
                video.codec
            )));
        };
        let mut parameter_sets = Vec::new();
        for nal in sps.iter().chain(pps) {
            push_annexb(&mut parameter_sets, nal);
        }
        Ok(Self {
            samples: video.samples.clone(),
            length_size: *length_size,
            parameter_sets,
            movie,
            decoder: Decoder::new()?,
            next_sample: 0,
            sent_parameter_sets: false,
            flushed: false,
            pending: VecDeque::new(),
            info,
        })
    }

    pub fn info(&self) -> &ClipInfo {
        &self.info
    }

    /// Restarts decoding at `sample` (must be a keyframe to decode cleanly).
    fn restart_at(&mut self, sample: usize) -> Result<(), MediaError> {
        self.decoder = Decoder::new()?;
        self.next_sample = sample;
        self.sent_parameter_sets = false;
        self.flushed = false;
        self.pending.clear();
        Ok(())
    }

    pub fn next_frame(&mut self) -> Result<Option<RgbFrame>, MediaError> {
        loop {
            if let Some(frame) = self.pending.pop_front() {
                return Ok(Some(frame));
            }
            let Some(sample) = self.samples.get(self.next_sample).copied() else {
                if self.flushed {
                    return Ok(None);
                }
                self.flushed = true;
                let remaining = self
                    .decoder
                    .flush_remaining()
                    .map_err(|e| bad(&self.movie.path, self.next_sample, e))?;
                let frames: Result<Vec<_>, _> = remaining.iter().map(to_rgb).collect();
                self.pending.extend(frames?);
                continue;
            };
            self.next_sample += 1;
            let data = self.movie.read_sample(&sample)?;
            let mut unit = Vec::with_capacity(data.len() + 64);
            if !self.sent_parameter_sets {
                unit.extend_from_slice(&self.parameter_sets);
                self.sent_parameter_sets = true;
            }
            let body = avcc_to_annexb(&data, self.length_size).map_err(|e| {
                MediaError::invalid(
                    &self.movie.path,
                    format!("frame {}: {e}", self.next_sample - 1),
                )
            })?;
            unit.extend_from_slice(&body);
            let decoded = match self.decoder.decode(&unit) {
                Ok(Some(yuv)) => Ok(Some(to_rgb(&yuv)?)),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            if let Some(frame) = decoded.map_err(|e| bad(&self.movie.path, self.next_sample, e))? {
                return Ok(Some(frame));
            }
        }
    }
}

fn bad(path: &Path, next_sample: usize, e: openh264::Error) -> MediaError {
    MediaError::invalid(
        path,
        format!(
            "undecodable H.264 near frame {}: {e}",
            next_sample.saturating_sub(1)
        ),
    )
}

fn to_rgb(yuv: &DecodedYUV<'_>) -> Result<RgbFrame, MediaError> {
    let (width, height) = yuv.dimensions();
    let (y_stride, uv_stride, _) = yuv.strides();
    let fits = y_stride >= width
        && uv_stride >= width / 2
        && yuv.y().len() >= y_stride * height
        && yuv.u().len() >= uv_stride * (height / 2)
        && yuv.v().len() >= uv_stride * (height / 2);
    if width == 0 || height == 0 || width % 2 != 0 || height % 2 != 0 || !fits {
        return Err(MediaError::Unsupported(format!(
            "decoded picture {width}x{height} (odd or inconsistent size) cannot be converted"
        )));
    }
    let mut frame = RgbFrame::new(width as u32, height as u32);
    yuv.write_rgb8(&mut frame.data);
    Ok(frame)
}

/// The final frame, decoding only from the last keyframe (at most one GOP, ≤ 2 s for our files).
pub(crate) fn native_last_frame(path: &Path) -> Result<RgbFrame, MediaError> {
    let mut decoder = Mp4Decoder::open(path)?;
    let start = decoder.samples.iter().rposition(|s| s.sync).unwrap_or(0);
    decoder.restart_at(start)?;
    let mut last = None;
    while let Some(frame) = decoder.next_frame()? {
        last = Some(frame);
    }
    last.ok_or_else(|| MediaError::invalid(path, "no decodable frame after the last keyframe"))
}

/// Interleaved stereo 48 kHz PCM when the audio track is Opus (what `Mp4Encoder` writes by
/// default) or, with the `aac` feature, 48 kHz AAC, trimmed to the video duration; `Ok(None)`
/// without audio or for codecs this crate cannot decode.
pub(crate) fn movie_audio(movie: &mut Movie) -> Result<Option<Vec<f32>>, MediaError> {
    let Some(track) = movie.audio() else {
        return Ok(None);
    };
    let pre_skip = match track.codec {
        Codec::Opus { pre_skip } => pre_skip,
        #[cfg(feature = "aac")]
        Codec::Aac { ref asc } => {
            let (asc, samples) = (asc.clone(), track.samples.clone());
            let keep = match movie.video() {
                Ok(video) => (video.duration_s() * f64::from(AUDIO_SAMPLE_RATE)).round() as u64,
                Err(_) => (track.duration_s() * f64::from(AUDIO_SAMPLE_RATE)).round() as u64,
            };
            let packets = samples.iter().map(|s| movie.read_sample(s));
            return crate::aac::decode_aac(packets, &asc, keep);
        }
        _ => return Ok(None),
    };
    let samples = track.samples.clone();
    let audio_len = (track.duration_s() * f64::from(AUDIO_SAMPLE_RATE)).round() as u64;
    let keep = match movie.video() {
        Ok(video) => (video.duration_s() * f64::from(AUDIO_SAMPLE_RATE)).round() as u64,
        Err(_) => audio_len.saturating_sub(u64::from(pre_skip)),
    };
    let packets = samples.iter().map(|s| movie.read_sample(s));
    decode_opus(packets, u64::from(pre_skip), Some(keep)).map(Some)
}
