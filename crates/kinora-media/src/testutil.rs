//! Test helpers: synthetic frames and the real FFmpeg tools as the reference decoder.

use crate::RgbFrame;
use std::path::Path;
use std::process::Command;

/// Moving diagonal gradient with a bright square: content every codec handles, different per `t`.
pub fn gradient_frame(width: u32, height: u32, t: u32) -> RgbFrame {
    let mut f = RgbFrame::new(width, height);
    let (w, h) = (width as usize, height as usize);
    let sq = (w.min(h) / 6).max(2);
    let sx = (t as usize * 7) % (w - sq).max(1);
    let sy = (t as usize * 3) % (h - sq).max(1);
    for (y, row) in f.data.chunks_exact_mut(w * 3).enumerate() {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let inside = x >= sx && x < sx + sq && y >= sy && y < sy + sq;
            if inside {
                px.copy_from_slice(&[240, 230, 40]);
            } else {
                px[0] = ((x * 255 / w) as u32 + t * 2) as u8;
                px[1] = ((y * 255 / h) as u32 + t) as u8;
                px[2] = (((x + y) * 255 / (w + h)) as u32 + 128) as u8;
            }
        }
    }
    f
}

/// Stereo sine: left 440 Hz, right 660 Hz, at half scale.
pub fn tone(samples: usize) -> Vec<f32> {
    (0..samples)
        .flat_map(|i| {
            let t = i as f32 / crate::AUDIO_SAMPLE_RATE as f32;
            [
                (t * 440.0 * std::f32::consts::TAU).sin() * 0.5,
                (t * 660.0 * std::f32::consts::TAU).sin() * 0.5,
            ]
        })
        .collect()
}

/// `ffprobe -show_streams -count_frames` as JSON.
pub fn ffprobe(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-count_frames",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe must be installed (Debian package ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

/// The stream of the given `codec_type` ("video" / "audio").
pub fn stream(probe: &serde_json::Value, kind: &str) -> Option<serde_json::Value> {
    probe["streams"]
        .as_array()?
        .iter()
        .find(|s| s["codec_type"] == kind)
        .cloned()
}

pub fn num(v: &serde_json::Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_f64())
        .unwrap_or(f64::NAN)
}

/// Full decode with FFmpeg; returns whatever it printed (empty means clean).
pub fn ffmpeg_errors(path: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg must be installed");
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        text.push_str("\nffmpeg exited with failure");
    }
    text
}

pub fn ffmpeg_has_encoder(name: &str) -> bool {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(name))
        .unwrap_or(false)
}
