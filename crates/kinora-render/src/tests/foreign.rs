//! Clips as phones, cameras, editors and other generators make them (High-profile H.264 with
//! B-frames, 10-bit H.264, HEVC in a rotated MOV, VP9 WebM, AV1, ProRes 422 from an editor,
//! variable frame rate; AAC, Opus, MP3 and PCM sound), made here by ffmpeg, extended
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

const CASES: [Case; 7] = [
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
        "high10.mp4",
        &["-c:v", "libx264", "-profile:v", "high10", "-c:a", "aac"],
        ",format=yuv420p10le",
        320,
        180,
    ),
    (
        // What an editor exports for finishing: 4:2:2 10-bit, 24-bit PCM.
        "prores.mov",
        &["-c:v", "prores_ks", "-profile:v", "2", "-c:a", "pcm_s24le"],
        ",format=yuv422p10le",
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
    if name.contains("rotated") {
        rotate_quarter_turn(&path);
    }
    path
}

/// Writes a 90° display matrix into the first track's `tkhd`, as a phone held upright does
/// (Debian's ffmpeg 5.1 cannot set one while encoding).
fn rotate_quarter_turn(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(4).position(|w| w == b"tkhd").unwrap() + 4;
    assert_eq!(bytes[at], 0, "a version 0 tkhd");
    let matrix = at + 40;
    let values: [i32; 9] = [0, 0x1_0000, 0, -0x1_0000, 0, 0, 0, 0, 0x4000_0000];
    for (i, v) in values.iter().enumerate() {
        bytes[matrix + 4 * i..matrix + 4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// The first output frame that shows the marker, and the first audio sample that plays it.
fn marker_times(path: &Path, w: u32, h: u32) -> (f64, f64) {
    let pictures = frames(path, w, h);
    let lumas: Vec<f64> = pictures.iter().map(|f| mean_luma(f)).collect();
    let (low, high) = (lumas[0], lumas[lumas.len().min(FPS as usize) - 1]);
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

/// The source's length in platform frames, as ffprobe (independently) measures its video: the
/// VFR clip's last frames are dropped and Matroska rounds its lengths up.
fn source_frames(path: &Path, name: &str) -> u32 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args([
            "stream=duration:stream_tags=DURATION",
            "-of",
            "default=nw=1:nk=1",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let seconds = text
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.parse::<f64>().ok().or_else(|| {
                let (h, rest) = l.split_once(':')?;
                let (m, s) = rest.split_once(':')?;
                Some(
                    h.parse::<f64>().ok()? * 3600.0
                        + m.parse::<f64>().ok()? * 60.0
                        + s.parse::<f64>().ok()?,
                )
            })
        })
        .unwrap_or_else(|| panic!("{name}: no duration in {text}"));
    let frames = (seconds * f64::from(FPS)).round() as u32;
    assert!(frames.abs_diff(FPS) <= 2, "{name}: {seconds} s");
    frames
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
        let frames_in = source_frames(&source, name);
        let mut req = create("a red balloon floats", w, h, 1, 3);
        req.mode = RenderMode::Extend {
            source,
            source_scene: None,
        };
        let out = run(&req, &dir.path().join(format!("extend-{name}")));
        // The source at the platform's rate, then 1 s of new frames.
        assert_clip(&out.video, w, h, frames_in + FPS);
        check_sync(&out.video, w, h, name);
        let after = frames(&out.video, w, h);
        let seam = frames_in as usize - 1;
        let step = mean_abs_diff(&after[seam], &after[seam + 1]);
        // No bigger a jump than the source's own motion from frame to frame.
        let mut steps: Vec<f64> = (0..seam)
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
        let frames_in = source_frames(&source, name);
        let mut req = create("make it dusk", w, h, 1, 3);
        req.mode = RenderMode::Edit {
            source,
            source_scene: None,
        };
        let out = run(&req, &dir.path().join(format!("edit-{name}")));
        assert_clip(&out.video, w, h, frames_in);
        check_sync(&out.video, w, h, name);
    }
}

/// A phone's clip says BT.709; a camera's MJPEG-style one is full range. Extension passes the
/// source through as I420, converted to the BT.601 limited range the output signals, so a
/// player shows the same colours before and after (without the matrix conversion the bars
/// came back 4 levels off on average, the saturated ones most).
#[test]
fn foreign_colours_survive_extension_whatever_matrix_and_range_the_source_signals() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &[&str]); 2] = [
        (
            "bt709.mp4",
            "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
            &["-colorspace", "bt709", "-color_primaries", "bt709"],
        ),
        (
            "full_range.mp4",
            "scale=out_color_matrix=bt601:out_range=pc,format=yuv420p",
            &["-color_range", "pc"],
        ),
    ];
    let (w, h) = (320, 180);
    for (name, filter, tags) in cases {
        let source = dir.path().join(name);
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("smptehdbars=size=320x180:rate=30:duration=1")
            .args(["-vf", filter, "-c:v", "libx264", "-bf", "3"])
            .args(tags)
            .arg(&source)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success(), "making {name}");
        let before = frames(&source, w, h);
        let mut req = create("a red balloon floats", w, h, 1, 3);
        req.mode = RenderMode::Extend {
            source: source.clone(),
            source_scene: None,
        };
        let out = run(&req, &dir.path().join(format!("colour-{name}")));
        let after = frames(&out.video, w, h);
        let diff = mean_abs_diff(&before[15], &after[12]);
        assert!(diff < 3.0, "{name}: colours moved by {diff:.2} levels");
    }
}
