//! Clips as phones, cameras and other generators make them (High-profile H.264 with B-frames,
//! HEVC in a rotated MOV, VP9 WebM, AV1, variable frame rate), made here by ffmpeg, extended
//! and edited end to end. Each has a marker: from 0.5 s the picture brightens and a tone
//! starts, so the output's sync is measured, not assumed.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::kit::{assert_clip, create, frames, mean_abs_diff, mean_luma, run};
use crate::{FPS, RenderMode};

/// `(file name, video/audio codec arguments, extra filter, displayed width, height)`.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static str,
    u32,
    u32,
);

const CASES: [Case; 5] = [
    (
        "high.mp4",
        &[
            "-c:v",
            "libx264",
            "-profile:v",
            "high",
            "-bf",
            "3",
            "-c:a",
            "aac",
        ],
        "",
        320,
        180,
    ),
    (
        "hevc_rotated.mov",
        &[
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
            "-tag:v",
            "hvc1",
            "-metadata:s:v",
            "rotate=90",
            "-c:a",
            "aac",
        ],
        "",
        180,
        320,
    ),
    (
        "vp9.webm",
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libopus",
        ],
        "",
        320,
        180,
    ),
    (
        "av1.mkv",
        &[
            "-c:v",
            "libaom-av1",
            "-cpu-used",
            "8",
            "-usage",
            "realtime",
            "-c:a",
            "libmp3lame",
        ],
        "",
        320,
        180,
    ),
    (
        "vfr.mov",
        &["-c:v", "libx264", "-fps_mode", "vfr", "-c:a", "pcm_s16le"],
        // Two of every five frames dropped, irregularly spaced: a variable frame rate.
        ",select='lt(mod(n\\,5)\\,3)'",
        320,
        180,
    ),
];

/// A 1 s, 30 fps clip: testsrc2 brightened from 0.5 s, a 440 Hz tone from 0.5 s.
fn make(dir: &Path, case: &Case) -> PathBuf {
    let (name, codec, extra, _, _) = case;
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=320x180:rate=30:duration=1")
        .args(["-f", "lavfi", "-i"])
        .arg("aevalsrc=0.5*sin(2*PI*440*t)*gte(t\\,0.5):s=44100:d=1")
        .arg("-vf")
        .arg(format!(
            "drawbox=c=white@0.6:t=fill:enable='gte(t,0.5)',format=yuv420p{extra}"
        ))
        .args(*codec)
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "making {name}");
    path
}

/// The first output frame that shows the marker, and the first audio sample that plays it.
fn marker_times(path: &Path, w: u32, h: u32) -> (f64, f64) {
    let pictures = frames(path, w, h);
    let lumas: Vec<f64> = pictures.iter().map(|f| mean_luma(f)).collect();
    let (low, high) = (lumas[0], lumas[FPS as usize - 1]);
    assert!(high > low + 40.0, "the marker brightens the picture");
    let shown = lumas.iter().position(|l| *l > (low + high) / 2.0).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "f32le", "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success());
    let pcm: Vec<f32> = out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let heard = pcm.iter().position(|s| s.abs() > 0.1).expect("the tone");
    (shown as f64 / f64::from(FPS), heard as f64 / 48_000.0)
}

fn check_sync(path: &Path, w: u32, h: u32, name: &str) {
    let (shown, heard) = marker_times(path, w, h);
    assert!(
        (shown - 0.5).abs() <= 1.0 / f64::from(FPS) + 1e-6,
        "{name}: marker shown at {shown:.3} s"
    );
    assert!(
        (heard - shown).abs() <= 1.0 / f64::from(FPS) + 0.005,
        "{name}: sound at {heard:.3} s, picture at {shown:.3} s"
    );
}

#[test]
fn foreign_clips_extend_with_their_sound_in_sync_and_no_seam() {
    let dir = tempfile::tempdir().unwrap();
    for case in &CASES {
        let (name, _, _, w, h) = *case;
        let source = make(dir.path(), case);
        let mut req = create("a red balloon floats", w, h, 1, 3);
        req.mode = RenderMode::Extend {
            source,
            source_scene: None,
        };
        let out = run(&req, &dir.path().join(format!("extend-{name}")));
        // 1 s of source at the platform's rate, then 1 s of new frames.
        assert_clip(&out.video, w, h, 2 * FPS);
        check_sync(&out.video, w, h, name);
        let after = frames(&out.video, w, h);
        let seam = FPS as usize - 1;
        let step = mean_abs_diff(&after[seam], &after[seam + 1]);
        let mut steps: Vec<f64> = (0..after.len() - 1)
            .filter(|i| *i != seam)
            .map(|i| mean_abs_diff(&after[i], &after[i + 1]))
            .collect();
        steps.sort_by(f64::total_cmp);
        let typical = steps[steps.len() / 2];
        assert!(
            step <= 1.5 * typical.max(0.5),
            "{name}: seam step {step:.2} vs typical {typical:.2}"
        );
    }
}

#[test]
fn foreign_clips_edit_at_their_displayed_size_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    for case in &CASES {
        let (name, _, _, w, h) = *case;
        let source = make(dir.path(), case);
        let mut req = create("make it warmer", w, h, 1, 3);
        req.mode = RenderMode::Edit {
            source,
            source_scene: None,
        };
        let out = run(&req, &dir.path().join(format!("edit-{name}")));
        assert_clip(&out.video, w, h, FPS);
        check_sync(&out.video, w, h, name);
    }
}
