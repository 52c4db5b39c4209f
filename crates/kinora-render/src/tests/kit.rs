//! Test helpers: check outputs with the real decoder (ffprobe/ffmpeg) and compare pixels.

use std::path::{Path, PathBuf};
use std::process::Command;

use kinora_media::{AudioCodec, Mp4Encoder, RgbFrame, VideoParams};
use serde::Deserialize;

use crate::{CancelToken, FPS, RenderMode, RenderOutputs, RenderRequest, render};

#[derive(Debug, Deserialize)]
pub struct Probe {
    pub streams: Vec<Stream>,
}

#[derive(Debug, Deserialize)]
pub struct Stream {
    pub codec_type: String,
    pub codec_name: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub nb_read_frames: Option<String>,
    pub duration: Option<String>,
}

impl Probe {
    pub fn stream(&self, kind: &str) -> &Stream {
        self.streams
            .iter()
            .find(|s| s.codec_type == kind)
            .unwrap_or_else(|| panic!("no {kind} stream"))
    }
}

pub fn ffprobe(path: &Path) -> Probe {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

/// Asserts the clip is H.264 at `w`x`h` with `frames` frames, has an audio stream of the same
/// duration, and decodes with zero errors.
pub fn assert_clip(path: &Path, w: u32, h: u32, frames: u32) {
    let probe = ffprobe(path);
    let video = probe.stream("video");
    assert_eq!(video.codec_name, "h264");
    assert_eq!((video.width, video.height), (Some(w), Some(h)));
    assert_eq!(
        video.nb_read_frames.as_deref(),
        Some(frames.to_string().as_str())
    );
    let duration = |s: &Stream| {
        s.duration
            .as_deref()
            .and_then(|d| d.parse::<f64>().ok())
            .expect("duration")
    };
    let expected = f64::from(frames) / f64::from(FPS);
    assert!(
        (duration(video) - expected).abs() < 0.5 / f64::from(FPS),
        "video {} vs {expected}",
        duration(video)
    );
    let audio = probe.stream("audio");
    assert!(
        (duration(audio) - expected).abs() < 0.03,
        "audio {} vs {expected}",
        duration(audio)
    );
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "decode errors: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every frame of `path` as RGB, decoded by ffmpeg.
pub fn frames(path: &Path, w: u32, h: u32) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success());
    out.stdout
        .chunks_exact((w * h * 3) as usize)
        .map(<[u8]>::to_vec)
        .collect()
}

pub fn mean_luma(rgb: &[u8]) -> f64 {
    let sum: f64 = rgb
        .chunks_exact(3)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .sum();
    sum / (rgb.len() / 3) as f64
}

pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.len() as f64
}

pub fn psnr_of(sum_sq: f64, n: usize) -> f64 {
    let mse = sum_sq / n.max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

pub fn create(prompt: &str, w: u32, h: u32, seconds: u32, seed: u64) -> RenderRequest {
    RenderRequest {
        prompt: prompt.to_owned(),
        width: w,
        height: h,
        seconds,
        seed,
        mode: RenderMode::Create {
            input_reference: None,
            characters: Vec::new(),
        },
        audio_codec: AudioCodec::Opus,
        captions: true,
    }
}

pub fn run(req: &RenderRequest, dir: &Path) -> RenderOutputs {
    render(req, dir, &|_| {}, &CancelToken::new()).expect("render succeeds")
}

/// Encodes `frames` frames drawn by `draw` into an MP4 with silent audio, without a scene.json:
/// a clip the engine treats as foreign.
pub fn synthetic_clip(
    path: &Path,
    w: u32,
    h: u32,
    frames: u32,
    draw: impl Fn(u32, &mut RgbFrame),
) -> PathBuf {
    let mut enc = Mp4Encoder::create(path, VideoParams::new(w, h, FPS), true).expect("encoder");
    let mut frame = RgbFrame::new(w, h);
    for n in 0..frames {
        draw(n, &mut frame);
        enc.push_frame(&frame).expect("frame");
        enc.push_audio(&vec![0.0; (48_000 / FPS * 2) as usize])
            .expect("audio");
    }
    enc.finish().expect("finish");
    path.to_path_buf()
}

/// A clip encoded by ffmpeg's libx264 (Baseline, which OpenH264 decodes) with AAC audio:
/// foreign to our stitcher.
pub fn x264_clip(path: &Path, w: u32, h: u32, seconds: u32) -> PathBuf {
    x264_clip_at(path, w, h, seconds, FPS)
}

/// [`x264_clip`] at `fps` frames per second.
pub fn x264_clip_at(path: &Path, w: u32, h: u32, seconds: u32, fps: u32) -> PathBuf {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc2=size={w}x{h}:rate={fps}:duration={seconds}"
        ))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={seconds}"))
        .args([
            "-c:v",
            "libx264",
            "-profile:v",
            "baseline",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    path.to_path_buf()
}
