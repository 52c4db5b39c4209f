//! `kinora extend`, `kinora edit` and `kinora character` on clips made by ffmpeg with its
//! defaults, as users bring them (High-profile H.264 with B-frames and AAC; HEVC in a MOV),
//! checked with ffprobe. The engine's own decoding is tested in `kinora-render`; this is the
//! command line a user types.

use std::path::{Path, PathBuf};
use std::process::Command;

fn kinora() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kinora"))
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed (Debian package ffmpeg)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 2 s, 30 fps clip of testsrc2 with a tone, in the codec and container given.
fn clip(dir: &Path, name: &str, codec: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100:duration=2",
        "-pix_fmt",
        "yuv420p",
    ];
    args.extend_from_slice(codec);
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
    path
}

struct Facts {
    codec: String,
    width: u32,
    height: u32,
    frames: u32,
    audio: bool,
}

fn probe(path: &Path) -> Facts {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-show_entries"])
        .arg("stream=codec_type,codec_name,width,height,nb_read_frames")
        .args(["-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = json["streams"].as_array().unwrap();
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("a video stream");
    Facts {
        codec: video["codec_name"].as_str().unwrap().to_string(),
        width: video["width"].as_u64().unwrap() as u32,
        height: video["height"].as_u64().unwrap() as u32,
        frames: video["nb_read_frames"].as_str().unwrap().parse().unwrap(),
        audio: streams.iter().any(|s| s["codec_type"] == "audio"),
    }
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn extend_and_edit_take_high_profile_h264_and_hevc_in_mov() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 2] = [
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
        ),
        (
            "hevc.mov",
            &[
                "-c:v",
                "libx265",
                "-x265-params",
                "log-level=error",
                "-tag:v",
                "hvc1",
                "-c:a",
                "aac",
            ],
        ),
    ];
    for (name, codec) in cases {
        let source = clip(dir.path(), name, codec);
        let extended = dir.path().join(format!("extended-{name}.mp4"));
        run_ok(
            kinora()
                .arg("extend")
                .arg(&source)
                .args(["a red balloon floats by", "--seconds", "4", "--no-captions"])
                .arg("-o")
                .arg(&extended),
        );
        let facts = probe(&extended);
        assert_eq!(
            (facts.codec.as_str(), facts.width, facts.height),
            ("h264", 320, 180),
            "{name}"
        );
        // The source's 2 s re-timed to the platform's 24 fps, then 4 new seconds.
        assert_eq!(facts.frames, 6 * 24, "{name}");
        assert!(facts.audio, "{name}: the sound is kept");

        let edited = dir.path().join(format!("edited-{name}.mp4"));
        run_ok(
            kinora()
                .arg("edit")
                .arg(&source)
                .arg("make it dusk")
                .arg("-o")
                .arg(&edited),
        );
        let facts = probe(&edited);
        assert_eq!(
            (facts.width, facts.height, facts.frames),
            (320, 180, 2 * 24)
        );
        assert!(facts.audio, "{name}: the sound is kept");
    }
}

#[test]
fn character_finds_the_moving_subject_in_a_high_profile_clip() {
    let dir = tempfile::tempdir().unwrap();
    let bg = dir.path().join("bg.png");
    // A textured still background (a Mandelbrot render), with a 60x60 test card sliding
    // across it at 100 px/s from x = 30: its true box at time t is known.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=s=320x180",
        "-frames:v",
        "1",
        bg.to_str().unwrap(),
    ]);
    let source = dir.path().join("subject.mp4");
    ffmpeg(&[
        "-loop",
        "1",
        "-t",
        "2",
        "-i",
        bg.to_str().unwrap(),
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=60x60:rate=30",
        "-filter_complex",
        "[0][1]overlay=x='30+100*t':y=60:shortest=1,format=yuv420p",
        "-r",
        "30",
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-bf",
        "3",
        source.to_str().unwrap(),
    ]);
    let out_dir = dir.path().join("character");
    let line = run_ok(
        kinora()
            .arg("character")
            .arg(&source)
            .arg("-o")
            .arg(&out_dir),
    );
    let report: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let t = report["frame_seconds"].as_f64().unwrap();
    let bbox: Vec<f64> = report["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let truth = [30.0 + 100.0 * t, 60.0, 60.0, 60.0];
    let overlap = |a0: f64, a1: f64, b0: f64, b1: f64| (a1.min(b1) - a0.max(b0)).max(0.0);
    let inter = overlap(bbox[0], bbox[0] + bbox[2], truth[0], truth[0] + truth[2])
        * overlap(bbox[1], bbox[1] + bbox[3], truth[1], truth[1] + truth[3]);
    let iou = inter / (bbox[2] * bbox[3] + truth[2] * truth[3] - inter);
    assert!(
        iou >= 0.7,
        "bbox {bbox:?} at {t} s against {truth:?}: IoU {iou:.2}"
    );

    // The PNG header: the source frame's full size, 8-bit RGBA (colour type 6).
    let png = std::fs::read(out_dir.join("cutout.png")).unwrap();
    assert_eq!(&png[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), (320, 180), "the frame's size");
    assert_eq!((png[24], png[25]), (8, 6), "8-bit RGBA");
    assert!(out_dir.join("frame.png").is_file());
}
