//! Clips OpenH264 cannot read (H.264 High/Main with CABAC and B-frames, 10-bit, HEVC, VP9, AV1,
//! ProRes; MOV, WebM, MKV; AAC, MP3, PCM audio) are probed with `ffprobe` and decoded by an
//! `ffmpeg` child process (see `sandbox`): raw RGB frames on a pipe, rotation applied, re-timed
//! by time to a constant rate; audio as 48 kHz stereo `f32`. The limits against hostile files
//! are checked on the probe, before anything is decoded.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::sandbox::{Limits, Sandboxed, tool};
use crate::{AUDIO_CHANNELS, AUDIO_SAMPLE_RATE, ClipInfo, MediaError, RgbFrame, YuvFrame};

/// Longest clip taken (the API's own limit is lower; this bounds the decoder's work).
pub const MAX_FOREIGN_SECONDS: f64 = 600.0;
/// Frames a clip may have, as for MP4 sample tables.
const MAX_FRAMES: f64 = (1u64 << 20) as f64;
const MAX_LONG_SIDE: u32 = 3840;
const MAX_SHORT_SIDE: u32 = 2160;
const MIN_SIDE: u32 = 16;

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Format {
    duration: Option<String>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
    nb_frames: Option<String>,
    #[serde(default)]
    side_data_list: Vec<SideData>,
    #[serde(default)]
    disposition: Disposition,
    #[serde(default)]
    tags: Tags,
}

#[derive(Deserialize, Default)]
struct Tags {
    /// Matroska's per-stream length, `HH:MM:SS.nnnnnnnnn`.
    #[serde(rename = "DURATION")]
    duration: Option<String>,
}

fn clock_seconds(text: Option<&str>) -> Option<f64> {
    let mut parts = text?.trim().split(':').rev();
    let s: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next().map_or(Some(0.0), |p| p.parse().ok())?;
    let h: f64 = parts.next().map_or(Some(0.0), |p| p.parse().ok())?;
    Some(h * 3600.0 + m * 60.0 + s).filter(|d| d.is_finite() && *d > 0.0)
}

#[derive(Deserialize, Default)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Deserialize)]
struct SideData {
    rotation: Option<f64>,
}

fn rate(text: Option<&str>) -> Option<f64> {
    let text = text?;
    let (num, den) = text.split_once('/').unwrap_or((text, "1"));
    let (num, den) = (num.parse::<f64>().ok()?, den.parse::<f64>().ok()?);
    let fps = num / den;
    (fps.is_finite() && (0.5..=1000.0).contains(&fps)).then_some(fps)
}

fn seconds(text: Option<&str>) -> Option<f64> {
    text?
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
}

fn not_video() -> MediaError {
    MediaError::InvalidInput("the file is not a video this server can read".into())
}

/// Probes `path` with ffprobe and applies the limits; errors never name the path.
pub fn probe_foreign(path: &Path) -> Result<ClipInfo, MediaError> {
    // A file that is not there is the caller's I/O problem, not "not a video".
    std::fs::metadata(path)?;
    let ffprobe = tool("ffprobe")?;
    let args: Vec<String> = ["-of", "json", "-show_format", "-show_streams"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let limits = Limits {
        cpu_s: 20,
        wall_s: 30,
    };
    let out = Sandboxed::spawn(&ffprobe, path, &[], &args, limits)?
        .output(16 << 20)
        .map_err(|_| not_video())?;
    let probe: Probe = serde_json::from_slice(&out).map_err(|_| not_video())?;
    info_from(&probe)
}

fn info_from(probe: &Probe) -> Result<ClipInfo, MediaError> {
    let video = probe
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && s.disposition.attached_pic == 0)
        .ok_or_else(|| MediaError::InvalidInput("the file has no video stream".into()))?;
    let (w, h) = match (video.width, video.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => {
            return Err(MediaError::InvalidInput(
                "the video has no picture size".into(),
            ));
        }
    };
    let quarter_turn = video
        .side_data_list
        .iter()
        .filter_map(|d| d.rotation)
        .any(|r| (r.rem_euclid(180.0) - 90.0).abs() < 1.0);
    let (w, h) = if quarter_turn { (h, w) } else { (w, h) };
    let (w, h) = (w & !1, h & !1);
    if w.min(h) < MIN_SIDE || w.max(h) > MAX_LONG_SIDE || w.min(h) > MAX_SHORT_SIDE {
        return Err(MediaError::InvalidInput(format!(
            "the video is {w}x{h}; sizes from {MIN_SIDE} px up to \
             {MAX_LONG_SIDE}x{MAX_SHORT_SIDE} are supported"
        )));
    }
    // The video's own length: a container's may include audio that runs on.
    let duration_s = seconds(video.duration.as_deref())
        .or_else(|| clock_seconds(video.tags.duration.as_deref()))
        .or_else(|| seconds(probe.format.as_ref()?.duration.as_deref()))
        .ok_or_else(|| MediaError::InvalidInput("the video has no duration".into()))?;
    if duration_s > MAX_FOREIGN_SECONDS {
        return Err(MediaError::InvalidInput(format!(
            "the video is {duration_s:.0} s long; at most {MAX_FOREIGN_SECONDS:.0} s is taken"
        )));
    }
    let fps = rate(video.avg_frame_rate.as_deref())
        .or_else(|| rate(video.r_frame_rate.as_deref()))
        .unwrap_or(30.0)
        .min(240.0);
    let frames = (duration_s * fps).round().max(1.0);
    let stored = video
        .nb_frames
        .as_deref()
        .and_then(|n| n.parse::<f64>().ok());
    if frames > MAX_FRAMES || stored.is_some_and(|n| n > MAX_FRAMES) {
        return Err(MediaError::InvalidInput(
            "the video has more frames than a clip may have".into(),
        ));
    }
    Ok(ClipInfo {
        width: w,
        height: h,
        fps,
        frames: frames as u32,
        duration_s,
        has_audio: probe
            .streams
            .iter()
            .any(|s| s.codec_type.as_deref() == Some("audio")),
    })
}

/// Frames of a foreign clip at a constant `fps`, decoded by a sandboxed ffmpeg: frame `n` is
/// the picture on screen at `n / fps` seconds from the clip's start.
pub struct ForeignDecoder {
    child: Option<Sandboxed>,
    info: ClipInfo,
    left: u32,
    pixels: Pixels,
}

/// The form frames leave the decoder in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pixels {
    /// RGB8, for frames something draws on or filters.
    Rgb,
    /// I420 in BT.601 limited range, the encoder's own form: for frames re-encoded as they are.
    /// Half of RGB's bytes through the pipe and no conversion on either side of it.
    I420,
}

impl Pixels {
    /// ffmpeg's names for the format, and the scaler's options that give it. The scaler reads
    /// the source's matrix and range from the stream (BT.709 phone clips, full-range JPEG-style
    /// video) and converts them to what the encoder signals.
    fn ffmpeg(self) -> (&'static str, &'static str) {
        match self {
            Pixels::Rgb => ("rgb24", ""),
            Pixels::I420 => ("yuv420p", ":out_color_matrix=bt601:out_range=tv"),
        }
    }
}

impl ForeignDecoder {
    pub fn open(path: &Path, fps: f64) -> Result<Self, MediaError> {
        let info = probe_foreign(path)?;
        Self::open_probed(path, info, fps, Pixels::Rgb)
    }

    /// Decodes with `info` from [`probe_foreign`] (its size, duration and limits).
    pub fn open_probed(
        path: &Path,
        info: ClipInfo,
        fps: f64,
        pixels: Pixels,
    ) -> Result<Self, MediaError> {
        let ffmpeg = tool("ffmpeg")?;
        let fps = fps.clamp(1.0, 240.0);
        let frames = ((info.duration_s * fps).round() as u32).max(1);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (format, convert) = pixels.ffmpeg();
        // `start_time=0` lines the first frame up with the audio's first sample (see `audio`).
        let filter = format!(
            "fps=fps={fps:.6}:start_time=0,scale={}:{}:flags=bicubic{convert},format={format}",
            info.width, info.height
        );
        let args: Vec<String> = [
            "-map",
            "0:v:0",
            "-an",
            "-sn",
            "-dn",
            "-vf",
            &filter,
            "-frames:v",
            &frames.to_string(),
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            format,
            "pipe:1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let before = ["-threads", &threads.to_string()].map(str::to_owned);
        let before: Vec<&str> = before.iter().map(String::as_str).collect();
        let child = Sandboxed::spawn(
            &ffmpeg,
            path,
            &before,
            &args,
            Limits::for_clip(info.duration_s),
        )?;
        let info = ClipInfo {
            fps,
            frames,
            duration_s: f64::from(frames) / fps,
            ..info
        };
        Ok(Self {
            child: Some(child),
            left: frames,
            info,
            pixels,
        })
    }

    /// The clip as it is decoded: `fps` and the frame count at that rate.
    pub fn info(&self) -> &ClipInfo {
        &self.info
    }

    pub fn pixels(&self) -> Pixels {
        self.pixels
    }

    /// The next frame as RGB, for a decoder opened with [`Pixels::Rgb`].
    pub fn next_frame(&mut self) -> Result<Option<RgbFrame>, MediaError> {
        self.expect(Pixels::Rgb)?;
        let mut frame = RgbFrame::new(self.info.width, self.info.height);
        Ok(self.read_into(&mut frame.data)?.then_some(frame))
    }

    /// Reads the next frame over `frame`, for a decoder opened with [`Pixels::I420`]; `false`
    /// (and `frame` untouched) at the end of the clip.
    pub fn next_yuv_into(&mut self, frame: &mut YuvFrame) -> Result<bool, MediaError> {
        self.expect(Pixels::I420)?;
        let (width, height) = (self.info.width, self.info.height);
        frame.data.resize(YuvFrame::len_for(width, height), 0);
        (frame.width, frame.height) = (width, height);
        self.read_into(&mut frame.data)
    }

    fn expect(&self, pixels: Pixels) -> Result<(), MediaError> {
        if self.pixels != pixels {
            return Err(MediaError::InvalidInput(format!(
                "the decoder gives {:?} frames, not {pixels:?}",
                self.pixels
            )));
        }
        Ok(())
    }

    /// Fills `buf` with one frame off the pipe; `false` at a clean end.
    fn read_into(&mut self, buf: &mut [u8]) -> Result<bool, MediaError> {
        if self.left == 0 {
            // Everything the probe promised has come; the child is stopped on drop.
            self.child = None;
        }
        let Some(child) = self.child.as_mut() else {
            return Ok(false);
        };
        let mut filled = 0;
        while filled < buf.len() {
            match child.stdout.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == buf.len() {
            self.left -= 1;
            return Ok(true);
        }
        let child = self.child.take();
        if filled != 0 {
            return Err(MediaError::InvalidInput(
                "the decoder stopped in the middle of a frame".into(),
            ));
        }
        // A decode error after some frames is a damaged clip, not a short one.
        child.map_or(Ok(()), Sandboxed::finish)?;
        Ok(false)
    }
}

/// The first audio stream as interleaved stereo 48 kHz `f32`, from the clip's start (silence
/// where the audio starts late), cut or padded to `duration_s`; `Ok(None)` without audio.
pub fn foreign_audio(path: &Path, duration_s: f64) -> Result<Option<Vec<f32>>, MediaError> {
    let ffmpeg = tool("ffmpeg")?;
    let wanted = (duration_s.max(0.0) * f64::from(AUDIO_SAMPLE_RATE)).round() as usize
        * usize::from(AUDIO_CHANNELS);
    let args: Vec<String> = [
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-af",
        "aresample=async=1:first_pts=0",
        "-t",
        &format!("{duration_s:.6}"),
        "-ac",
        "2",
        "-ar",
        &AUDIO_SAMPLE_RATE.to_string(),
        "-f",
        "f32le",
        "pipe:1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let child = Sandboxed::spawn(&ffmpeg, path, &[], &args, Limits::for_clip(duration_s))?;
    let bytes = child.output((wanted as u64 + 48_000) * 4)?;
    let mut pcm: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]).clamp(-1.0, 1.0))
        .collect();
    pcm.resize(wanted, 0.0);
    Ok(Some(pcm))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_of(json: &str) -> Result<ClipInfo, MediaError> {
        info_from(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn a_quarter_turn_swaps_the_size_and_odd_sizes_are_made_even() {
        let info = probe_of(
            r#"{"streams":[{"codec_type":"video","width":321,"height":180,
            "avg_frame_rate":"30000/1001","duration":"2.0",
            "side_data_list":[{"rotation":-90}]}],"format":{"duration":"2.1"}}"#,
        )
        .unwrap();
        assert_eq!((info.width, info.height), (180, 320));
        assert!((info.fps - 29.97).abs() < 0.01);
        assert_eq!(info.frames, 60);
        assert!(!info.has_audio);
    }

    #[test]
    fn limits_are_checked_on_the_probe() {
        let huge = r#"{"streams":[{"codec_type":"video","width":8000,"height":8000,
            "avg_frame_rate":"30/1","duration":"2"}]}"#;
        assert!(matches!(probe_of(huge), Err(MediaError::InvalidInput(_))));
        let long = r#"{"streams":[{"codec_type":"video","width":320,"height":180,
            "avg_frame_rate":"30/1","duration":"100000"}]}"#;
        assert!(probe_of(long).is_err());
        let audio_only = r#"{"streams":[{"codec_type":"audio"}],"format":{"duration":"3"}}"#;
        assert!(probe_of(audio_only).is_err());
        let cover_art = r#"{"streams":[{"codec_type":"video","width":320,"height":320,
            "disposition":{"attached_pic":1}}]}"#;
        assert!(probe_of(cover_art).is_err());
    }

    #[test]
    fn webm_without_stream_duration_uses_the_container_duration() {
        let info = probe_of(
            r#"{"streams":[{"codec_type":"video","width":320,"height":180,
            "r_frame_rate":"25/1"},{"codec_type":"audio"}],"format":{"duration":"1.5"}}"#,
        )
        .unwrap();
        assert_eq!(info.frames, 38);
        assert!(info.has_audio);
        let tagged = probe_of(
            r#"{"streams":[{"codec_type":"video","width":320,"height":180,"r_frame_rate":"24/1",
            "tags":{"DURATION":"00:00:01.000000000"}}],"format":{"duration":"1.052"}}"#,
        )
        .unwrap();
        assert_eq!(tagged.frames, 24);
    }
}
