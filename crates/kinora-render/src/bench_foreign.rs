//! The foreign-clip benchmark behind `kinora bench --foreign`: a clip as a phone makes it
//! (High-profile H.264 with B-frames at 30 fps, AAC, camera-grain noise so the bitrate is a
//! phone's), decoded the way extend decodes it (sandboxed ffmpeg → I420 at 24 fps), and
//! extended end to end, against `ffmpeg -f null` decoding the same file in the same run. The
//! reference shows how much of the time is the decoder itself and how much is Kinora.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kinora_media::{AudioCodec, ClipReader, Pixels, YuvFrame, probe};

use crate::FPS;
use crate::engine::render;
use crate::error::RenderError;
use crate::request::{CancelToken, RenderMode, RenderRequest};

/// What the extension asks for: motion and a camera move, so the new seconds are not trivial.
pub const EXTEND_PROMPT: &str = "a red car drives past while it rains, pan right";

pub const SECTION_START: &str = "<!-- kinora-render foreign bench: start -->";
pub const SECTION_END: &str = "<!-- kinora-render foreign bench: end -->";

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignCase {
    pub width: u32,
    pub height: u32,
    /// Source frames at 30 fps, and the frames Kinora decodes from it at its own 24 fps.
    pub source_frames: u32,
    pub decoded_frames: u32,
    /// `ffmpeg -i clip -f null -`: the decoder alone.
    pub ffmpeg_null: Duration,
    /// `ffmpeg -i clip -vf fps=24,format=yuv420p -f null -`: decoder plus the same re-timing.
    pub ffmpeg_retimed: Duration,
    /// Kinora's decode path (sandboxed ffmpeg, frames read off the pipe).
    pub kinora_decode: Duration,
    /// `extend` end to end: decode, paint the new seconds, encode all, audio, previews.
    pub extend: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignReport {
    pub seconds: u32,
    pub extend_seconds: u32,
    pub runs: u32,
    pub cores: usize,
    pub cases: Vec<ForeignCase>,
}

fn ffmpeg(args: &[&str]) -> Result<Duration, RenderError> {
    let started = Instant::now();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .map_err(|e| std::io::Error::other(format!("running ffmpeg: {e}")))?;
    if !out.status.success() {
        return Err(RenderError::Io(std::io::Error::other(format!(
            "ffmpeg failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))));
    }
    Ok(started.elapsed())
}

/// A phone-like source: x264 High with 3 B-frames at 12 Mb/s (1080p; scaled by area for other
/// sizes), temporal noise so the encoder spends those bits, a 440 Hz AAC tone.
fn make_source(path: &Path, (w, h): (u32, u32), seconds: u32) -> Result<(), RenderError> {
    let kbps = (12_000.0 * f64::from(w * h) / (1920.0 * 1080.0)).max(200.0) as u32;
    let video = format!("testsrc2=size={w}x{h}:rate=30:duration={seconds},noise=alls=8:allf=t+u");
    let audio = format!("sine=frequency=440:sample_rate=48000:duration={seconds}");
    let (rate, buf) = (format!("{kbps}k"), format!("{}k", 2 * kbps));
    let mut args = vec!["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio];
    args.extend("-pix_fmt yuv420p -c:v libx264 -profile:v high -bf 3 -preset veryfast".split(' '));
    args.extend(["-b:v", &rate, "-maxrate", &rate, "-bufsize", &buf]);
    args.extend([
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        path.to_str().unwrap_or_default(),
    ]);
    ffmpeg(&args)?;
    Ok(())
}

/// Runs each size: the source is made once (untimed), then every figure is the best of `runs`.
pub fn run_foreign_bench(
    sizes: &[(u32, u32)],
    seconds: u32,
    extend_seconds: u32,
    runs: u32,
    dir: &Path,
) -> Result<ForeignReport, RenderError> {
    std::fs::create_dir_all(dir)?;
    let mut cases = Vec::new();
    for &(width, height) in sizes {
        let source = dir.join(format!("phone-{width}x{height}.mp4"));
        make_source(&source, (width, height), seconds)?;
        let src = source.to_str().unwrap_or_default();
        let retime = format!("fps={FPS},format=yuv420p");
        let mut case = ForeignCase {
            width,
            height,
            source_frames: seconds * 30,
            decoded_frames: 0,
            ffmpeg_null: Duration::MAX,
            ffmpeg_retimed: Duration::MAX,
            kinora_decode: Duration::MAX,
            extend: Duration::MAX,
        };
        let req = RenderRequest {
            prompt: EXTEND_PROMPT.to_owned(),
            width,
            height,
            seconds: extend_seconds,
            seed: 1,
            mode: RenderMode::Extend {
                source: source.clone(),
                source_scene: None,
            },
            audio_codec: AudioCodec::Opus,
            captions: true,
        };
        for _ in 0..runs.max(1) {
            let null = ffmpeg(&["-i", src, "-map", "0:v:0", "-f", "null", "-"])?;
            case.ffmpeg_null = case.ffmpeg_null.min(null);
            let conv = ffmpeg(&[
                "-i", src, "-map", "0:v:0", "-vf", &retime, "-f", "null", "-",
            ])?;
            case.ffmpeg_retimed = case.ffmpeg_retimed.min(conv);

            let started = Instant::now();
            let info = probe(&source)?;
            let mut reader = ClipReader::foreign_at(&source, info, f64::from(FPS), Pixels::I420)?;
            let mut frame = YuvFrame::new(width, height);
            let mut n = 0;
            while reader.next_yuv_into(&mut frame)? {
                n += 1;
            }
            case.kinora_decode = case.kinora_decode.min(started.elapsed());
            case.decoded_frames = n;

            let out_dir = dir.join(format!("extend-{width}x{height}"));
            let started = Instant::now();
            render(&req, &out_dir, &|_| {}, &CancelToken::new())?;
            case.extend = case.extend.min(started.elapsed());
            let _ = std::fs::remove_dir_all(&out_dir);
        }
        cases.push(case);
    }
    Ok(ForeignReport {
        seconds,
        extend_seconds,
        runs: runs.max(1),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        cases,
    })
}

fn fps(frames: u32, d: Duration) -> f64 {
    f64::from(frames) / d.as_secs_f64().max(1e-9)
}

impl ForeignReport {
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "{SECTION_START}\n## Foreign clips (decode and extend)\n\n\
             `kinora bench --foreign --seconds {s} --extend-seconds {e} --runs {r}` (best of {r}), {c} cores visible: \
             a {s} s clip as a phone makes it (x264 High, 3 B-frames, 30 fps, 12 Mb/s at 1080p, AAC), made by \
             ffmpeg in the run and not timed. *ffmpeg null* = `ffmpeg -i clip -f null -` (the decoder alone); \
             *ffmpeg → 24 fps* adds Kinora's re-timing (`fps={FPS},format=yuv420p`); *Kinora decode* = the sandboxed \
             decoder as extend uses it (I420 frames read off its pipe; an edit reads RGB); *extend* = `kinora extend` by {e} s end to end \
             (decode, new frames, H.264 + Opus encode of all {t} s, previews). Real-time factor = output seconds / \
             wall time.\n\n\
             | size | ffmpeg null | ffmpeg → 24 fps | Kinora decode | Kinora decode fps | extend +{e} s | extend × real time |\n\
             |---|---|---|---|---|---|---|\n",
            s = self.seconds,
            e = self.extend_seconds,
            r = self.runs,
            c = self.cores,
            t = self.seconds + self.extend_seconds,
        );
        for c in &self.cases {
            let out_seconds = f64::from(self.seconds + self.extend_seconds);
            md.push_str(&format!(
                "| {}x{} | {:.2} s ({:.0} fps) | {:.2} s | {:.2} s | {:.0} | {:.2} s | {:.2}× |\n",
                c.width,
                c.height,
                c.ffmpeg_null.as_secs_f64(),
                fps(c.source_frames, c.ffmpeg_null),
                c.ffmpeg_retimed.as_secs_f64(),
                c.kinora_decode.as_secs_f64(),
                fps(c.decoded_frames, c.kinora_decode),
                c.extend.as_secs_f64(),
                out_seconds / c.extend.as_secs_f64().max(1e-9),
            ));
        }
        md.push_str(SECTION_END);
        md.push('\n');
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_foreign_bench_decodes_every_frame_and_reports_each_column() {
        let dir = tempfile::tempdir().unwrap();
        let report = run_foreign_bench(&[(160, 90)], 1, 1, 1, dir.path()).unwrap();
        let case = &report.cases[0];
        // 1 s of a 30 fps source re-timed to 24 fps.
        assert_eq!(case.decoded_frames, FPS);
        assert!(case.extend > Duration::ZERO && case.ffmpeg_null > Duration::ZERO);
        let md = report.markdown();
        assert!(md.starts_with(SECTION_START) && md.trim_end().ends_with(SECTION_END));
        assert!(md.contains("| 160x90 |"), "{md}");
    }
}
