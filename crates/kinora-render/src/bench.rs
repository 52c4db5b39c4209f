//! The engine benchmark behind `kinora bench`: for each size, a full render end to end
//! (drawing, audio, encoding, previews), then the H.264 encoder alone on the same frames
//! (drawn again but not timed), and the peak resident memory of each case.

use std::path::Path;
use std::time::{Duration, Instant};

use kinora_media::{AudioCodec, ENCODER_THREADS, Mp4Encoder, RgbFrame, VideoParams};

use crate::FPS;
use crate::engine::render;
use crate::error::RenderError;
use crate::pipeline::scene_painter;
use crate::request::{CancelToken, RenderMode, RenderRequest};
use crate::scene::{FrameSpec, Scene};

/// A busy scene: two moving subjects, rain particles, a camera pan.
pub const BENCH_PROMPT: &str =
    "A red car drives past a dog running down a city street at dusk while it rains, pan right";

/// Whether OpenH264 was built with its nasm assembly (detected by build.rs at build time).
pub const OPENH264_ASM: bool = matches!(env!("KINORA_OPENH264_ASM").as_bytes(), b"1");

#[derive(Debug, Clone, PartialEq)]
pub struct BenchCase {
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub end_to_end: Duration,
    pub encoder_only: Duration,
    pub draw_only: Duration,
    /// Peak resident set during this case, in MiB (None where /proc is unavailable).
    pub peak_rss_mib: Option<f64>,
}

impl BenchCase {
    fn fps(&self, d: Duration) -> f64 {
        self.frames as f64 / d.as_secs_f64().max(1e-9)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub seconds: u32,
    pub runs: u32,
    pub cores: usize,
    pub cases: Vec<BenchCase>,
}

/// Resets the kernel's peak-RSS mark for this process (Linux `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs every size for `seconds`, working in `dir`; each timing is the best of `runs`, which
/// keeps other processes on a shared machine from skewing the comparison.
pub fn run_bench(
    sizes: &[(u32, u32)],
    seconds: u32,
    runs: u32,
    dir: &Path,
) -> Result<BenchReport, RenderError> {
    let mut cases = Vec::new();
    for &(width, height) in sizes {
        let req = RenderRequest {
            prompt: BENCH_PROMPT.to_owned(),
            width,
            height,
            seconds,
            seed: 1,
            mode: RenderMode::Create {
                input_reference: None,
                characters: Vec::new(),
            },
            audio_codec: AudioCodec::Opus,
            captions: true,
        };
        let out_dir = dir.join(format!("{width}x{height}"));
        let mut case = BenchCase {
            width,
            height,
            frames: 0,
            end_to_end: Duration::MAX,
            encoder_only: Duration::MAX,
            draw_only: Duration::MAX,
            peak_rss_mib: None,
        };
        for _ in 0..runs.max(1) {
            reset_peak();
            let started = Instant::now();
            let out = render(&req, &out_dir, &|_| {}, &CancelToken::new())?;
            case.end_to_end = case.end_to_end.min(started.elapsed());
            case.peak_rss_mib = match (case.peak_rss_mib, peak_rss_mib()) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            case.frames = out.info.frames;
            let scene: Scene = serde_json::from_slice(&std::fs::read(&out.scene)?)
                .map_err(std::io::Error::other)?;
            let (encode, draw) = encoder_only(&scene, &out_dir.join("encoder-only.mp4"))?;
            case.encoder_only = case.encoder_only.min(encode);
            case.draw_only = case.draw_only.min(draw);
        }
        cases.push(case);
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(BenchReport {
        seconds,
        runs: runs.max(1),
        cores,
        cases,
    })
}

/// Encodes the scene's frames with only the encoder on the clock; returns (encode, draw) time.
fn encoder_only(scene: &Scene, path: &Path) -> Result<(Duration, Duration), RenderError> {
    let spec: FrameSpec = scene
        .frame
        .ok_or_else(|| RenderError::invalid("video", "scene without size"))?;
    let mut painter = scene_painter(scene, None, spec)?;
    let mut encoder =
        Mp4Encoder::create(path, VideoParams::new(spec.width, spec.height, FPS), false)?;
    let mut frame = RgbFrame::new(spec.width, spec.height);
    let (mut encode, mut draw) = (Duration::ZERO, Duration::ZERO);
    for n in 0..scene.total_frames() {
        let t = Instant::now();
        painter.paint(n, &mut frame.data);
        draw += t.elapsed();
        let t = Instant::now();
        encoder.push_frame(&frame)?;
        encode += t.elapsed();
    }
    let t = Instant::now();
    encoder.finish()?;
    Ok((encode + t.elapsed(), draw))
}

pub const SECTION_START: &str = "<!-- kinora-render bench: start -->";
pub const SECTION_END: &str = "<!-- kinora-render bench: end -->";

impl BenchReport {
    pub fn markdown(&self) -> String {
        let build = if OPENH264_ASM {
            "with nasm (OpenH264 assembly)"
        } else {
            "without nasm (OpenH264 C path)"
        };
        let mut md = format!(
            "{SECTION_START}\n## Engine (built-in renderer)\n\n`kinora bench --seconds {} --runs {}` (best of {} runs per figure): prompt \"{BENCH_PROMPT}\", {} fps, \
             {} cores visible, OpenH264 {} encoder threads, release build {build}.\n\
             End to end = drawing + audio + H.264/Opus encoding + thumbnail + sprite sheet, frames pipelined \
             (painter thread → bounded queue → encoder). Encoder only = the same frames pushed into the H.264 \
             encoder with drawing off the clock.\n\n\
             | size | frames | end to end | e2e fps | speed vs real time | encoder-only fps | e2e / encoder | draw-only fps | peak RSS | build |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
            self.seconds, self.runs, self.runs, FPS, self.cores, ENCODER_THREADS
        );
        for c in &self.cases {
            let e2e = c.fps(c.end_to_end);
            let enc = c.fps(c.encoder_only);
            md.push_str(&format!(
                "| {}x{} | {} | {:.2} s | {:.1} | {:.2}× | {:.1} | {:.0}% | {:.1} | {} | {} |\n",
                c.width,
                c.height,
                c.frames,
                c.end_to_end.as_secs_f64(),
                e2e,
                e2e / FPS as f64,
                enc,
                100.0 * e2e / enc,
                c.fps(c.draw_only),
                c.peak_rss_mib
                    .map_or("n/a".to_owned(), |m| format!("{m:.0} MiB")),
                if OPENH264_ASM { "nasm" } else { "no nasm" },
            ));
        }
        md.push_str(SECTION_END);
        md.push('\n');
        md
    }
}

/// Puts `section` into the markdown file at `doc`, replacing the text between this
/// benchmark's markers (or appending it), so other benchmarks can share the file.
pub fn write_section(doc: &Path, section: &str) -> std::io::Result<()> {
    write_marked_section(doc, section, SECTION_START, SECTION_END)
}

/// [`write_section`] for a section between the markers `start` and `end`.
pub fn write_marked_section(
    doc: &Path,
    section: &str,
    start: &str,
    end: &str,
) -> std::io::Result<()> {
    let old = std::fs::read_to_string(doc).unwrap_or_else(|_| "# Benchmarks\n\n".to_owned());
    let new = match (old.find(start), old.find(end)) {
        (Some(a), Some(b)) if a < b => format!(
            "{}{}{}",
            &old[..a],
            section.trim_end(),
            &old[b + end.len()..]
        ),
        _ => format!("{}\n{section}", old.trim_end()),
    };
    if let Some(parent) = doc.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(doc, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_replace_only_their_own_text() {
        let dir = tempfile::tempdir().unwrap();
        let doc = dir.path().join("b.md");
        std::fs::write(&doc, "# Benchmarks\n\nserver numbers\n").unwrap();
        write_section(&doc, &format!("{SECTION_START}\none\n{SECTION_END}\n")).unwrap();
        write_section(&doc, &format!("{SECTION_START}\ntwo\n{SECTION_END}\n")).unwrap();
        let text = std::fs::read_to_string(&doc).unwrap();
        assert!(text.contains("server numbers") && text.contains("two") && !text.contains("one"));
    }

    #[test]
    fn a_tiny_bench_reports_every_column() {
        let dir = tempfile::tempdir().unwrap();
        let report = run_bench(&[(128, 72)], 1, 1, dir.path()).unwrap();
        assert_eq!(report.cases[0].frames, FPS);
        let md = report.markdown();
        assert!(md.contains("| 128x72 | 24 |"), "{md}");
    }
}
