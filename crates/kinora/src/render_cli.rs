//! The built-in engine's commands: `generate`, `extend`, `edit`, `explain`, `character` and
//! `bench`. Each writes its clip where `-o` says and the scene beside it as `OUT.scene.json`,
//! which `extend` and `edit` read back to continue or re-draw the scene.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kinora_render::bench::{run_bench, write_marked_section, write_section};
use kinora_render::{
    AudioCodec, CancelToken, CharacterRef, Interpretation, RenderMode, RenderOutputs,
    RenderRequest, explain, extract_character, interpret, interpret_edit, render,
};

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("size {s:?} must look like 1280x720"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("size {s:?} must look like 1280x720"))
    };
    Ok((num(w)?, num(h)?))
}

fn parse_character(s: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = s
        .split_once('=')
        .ok_or_else(|| format!("character {s:?} must look like NAME=CLIP.mp4"))?;
    if name.trim().is_empty() {
        return Err(format!("character {s:?} has no name"));
    }
    Ok((name.trim().to_owned(), PathBuf::from(path)))
}

/// `opus`, or `aac` in a build with the `aac` feature; any other build names the rebuild flag.
fn parse_audio_codec(s: &str) -> Result<AudioCodec, String> {
    s.parse::<AudioCodec>().map_err(|e| e.to_string())
}

/// The codec of the written clip's audio track.
#[derive(Debug, Clone, Copy, Args)]
pub struct AudioFlag {
    /// Audio codec: opus (default), or aac in a build made with `--features aac`.
    #[arg(long = "audio-codec", default_value = "opus", value_parser = parse_audio_codec)]
    pub audio_codec: AudioCodec,
}

/// Storyboard captions of the words the engine could not draw.
#[derive(Debug, Clone, Copy, Args)]
pub struct CaptionFlag {
    /// Do not show the words the engine could not draw as a caption in the lower third.
    #[arg(long = "no-captions")]
    pub no_captions: bool,
}

/// Says on stderr what the engine ignored and what it chose in the prompt's place.
fn report(interpretation: &Interpretation) {
    for line in interpretation.warnings() {
        eprintln!("kinora: {line}");
    }
}

/// `OUT` with `suffix` appended to its name: `clip.mp4` -> `clip.scene.json`.
fn beside(out: &Path, suffix: &str) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "clip".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.{suffix}"))
}

/// Which preview files to keep beside the output.
#[derive(Debug, Clone, Copy, Args)]
pub struct PreviewFlags {
    /// Also write the WebP thumbnail as OUT.thumbnail.webp.
    #[arg(long)]
    pub thumbnail: bool,
    /// Also write the JPEG sprite sheet (5x5 tiles) as OUT.spritesheet.jpg.
    #[arg(long)]
    pub spritesheet: bool,
}

/// Runs `req` into a scratch directory beside `out`, showing progress on a terminal, then moves
/// the files into place.
fn render_to(
    req: &RenderRequest,
    out: &Path,
    previews: PreviewFlags,
) -> anyhow::Result<RenderOutputs> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let scratch = parent.join(format!(
        ".{}.kinora-work",
        out.file_name()
            .map_or("clip".into(), |n| n.to_string_lossy())
    ));
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(100);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{bar:40}] {pos:>3}% {elapsed_precise}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let progress = |p: u8| {
        if let Some(bar) = &bar {
            bar.set_position(u64::from(p));
        }
    };
    let result = render(req, &scratch, &progress, &CancelToken::new());
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let rendered = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(e.into());
        }
    };
    std::fs::rename(&rendered.video, out).with_context(|| format!("writing {}", out.display()))?;
    std::fs::rename(&rendered.scene, beside(out, "scene.json"))?;
    let mut placed = RenderOutputs {
        video: out.to_path_buf(),
        scene: beside(out, "scene.json"),
        ..rendered.clone()
    };
    if previews.thumbnail {
        placed.thumbnail = beside(out, "thumbnail.webp");
        std::fs::rename(&rendered.thumbnail, &placed.thumbnail)?;
    }
    if previews.spritesheet {
        placed.spritesheet = beside(out, "spritesheet.jpg");
        std::fs::rename(&rendered.spritesheet, &placed.spritesheet)?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!(
        "wrote {} ({}x{}, {} frames, {:.1} s)",
        out.display(),
        placed.info.width,
        placed.info.height,
        placed.info.frames,
        placed.info.duration_s
    );
    Ok(placed)
}

/// Generate a clip from a prompt with the built-in animatic engine.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    pub prompt: String,
    /// WIDTHxHEIGHT; the API's sizes are 720x1280, 1280x720, 1024x1792, 1792x1024, 1080x1920, 1920x1080.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Whole seconds, 1 to 120.
    #[arg(long, default_value_t = 4)]
    pub seconds: u32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// An image (PNG, JPEG, WebP) that becomes the first frame, scaled to cover and centre-cropped.
    #[arg(long)]
    pub input_reference: Option<PathBuf>,
    /// NAME=CLIP.mp4 (a 2–4 s clip to cut the character from) or NAME=DIR (from `kinora character`); up to 2.
    #[arg(long = "character", value_parser = parse_character)]
    pub characters: Vec<(String, PathBuf)>,
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub previews: PreviewFlags,
    #[command(flatten)]
    pub audio: AudioFlag,
    #[command(flatten)]
    pub captions: CaptionFlag,
}

impl GenerateArgs {
    pub fn run(self) -> anyhow::Result<()> {
        if self.characters.len() > 2 {
            bail!("at most 2 characters per video");
        }
        let scratch = tempfile_dir(&self.output)?;
        let mut characters = Vec::new();
        for (name, path) in &self.characters {
            let dir = if path.is_dir() {
                path.clone()
            } else {
                let dir = scratch.join(name);
                extract_character(path, name, &dir).with_context(|| format!("character {name}"))?;
                dir
            };
            characters.push(CharacterRef {
                name: name.clone(),
                dir,
            });
        }
        let names: Vec<String> = characters.iter().map(|c| c.name.clone()).collect();
        report(&interpret(&self.prompt, &names));
        let req = RenderRequest {
            prompt: self.prompt,
            width: self.size.0,
            height: self.size.1,
            seconds: self.seconds,
            seed: self.seed,
            mode: RenderMode::Create {
                input_reference: self.input_reference,
                characters,
            },
            audio_codec: self.audio.audio_codec,
            captions: !self.captions.no_captions,
        };
        let result = render_to(&req, &self.output, self.previews);
        let _ = std::fs::remove_dir_all(&scratch);
        result.map(drop)
    }
}

fn tempfile_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = parent.join(format!(
        ".{}.kinora-characters",
        out.file_name()
            .map_or("clip".into(), |n| n.to_string_lossy())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Continue a clip: the stitched result is the source plus a new segment.
#[derive(Debug, Args)]
pub struct ExtendArgs {
    pub source: PathBuf,
    pub prompt: String,
    /// Length of the new segment in whole seconds (the result may be at most 120 s).
    #[arg(long, default_value_t = 4)]
    pub seconds: u32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub previews: PreviewFlags,
    #[command(flatten)]
    pub audio: AudioFlag,
    #[command(flatten)]
    pub captions: CaptionFlag,
}

fn scene_beside(source: &Path) -> Option<PathBuf> {
    Some(beside(source, "scene.json")).filter(|p| p.exists())
}

impl ExtendArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let mode = RenderMode::Extend {
            source_scene: scene_beside(&self.source),
            source: self.source,
        };
        report(&interpret(&self.prompt, &[]));
        let req = RenderRequest {
            prompt: self.prompt,
            width: 0,
            height: 0,
            seconds: self.seconds,
            seed: self.seed,
            mode,
            audio_codec: self.audio.audio_codec,
            captions: !self.captions.no_captions,
        };
        render_to(&req, &self.output, self.previews).map(drop)
    }
}

/// Change one thing in a clip ("make it night", "make the car red", "add a dog"...).
#[derive(Debug, Args)]
pub struct EditArgs {
    pub source: PathBuf,
    pub prompt: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub previews: PreviewFlags,
    #[command(flatten)]
    pub audio: AudioFlag,
    #[command(flatten)]
    pub captions: CaptionFlag,
}

impl EditArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let mode = RenderMode::Edit {
            source_scene: scene_beside(&self.source),
            source: self.source,
        };
        report(&interpret_edit(&self.prompt));
        let req = RenderRequest {
            prompt: self.prompt,
            width: 0,
            height: 0,
            seconds: 0,
            seed: self.seed,
            mode,
            audio_codec: self.audio.audio_codec,
            captions: !self.captions.no_captions,
        };
        render_to(&req, &self.output, self.previews).map(drop)
    }
}

/// Print the scene the engine reads from a prompt, as JSON.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    pub prompt: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl ExplainArgs {
    pub fn run(self) -> anyhow::Result<()> {
        println!(
            "{}",
            serde_json::to_string_pretty(&explain(&self.prompt, self.seed))?
        );
        Ok(())
    }
}

/// Cut a character out of a short clip into a directory: cutout.png (RGBA, the frame's full size,
/// transparent outside the subject), frame.png (the frame it came from), reference frames and
/// character.json; prints `{"frame_seconds", "bbox", "confidence"}` on one line.
#[derive(Debug, Args)]
pub struct CharacterArgs {
    /// CLIP (any common video file), or NAME CLIP as before.
    #[arg(num_args = 1..=2, required = true, value_name = "CLIP")]
    pub args: Vec<PathBuf>,
    #[arg(short, long)]
    pub output: PathBuf,
    /// The name prompts use for it (default: the clip's file name).
    #[arg(long)]
    pub name: Option<String>,
}

impl CharacterArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let (legacy_name, clip) = match self.args.as_slice() {
            [name, clip] => (Some(name.to_string_lossy().into_owned()), clip),
            [clip] => (None, clip),
            _ => bail!("give the clip to cut the character from"),
        };
        let name = self
            .name
            .or(legacy_name)
            .or_else(|| Some(clip.file_stem()?.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "character".to_owned());
        let info = extract_character(clip, &name, &self.output)?;
        let line = serde_json::json!({
            "frame_seconds": info.frame_seconds,
            "bbox": info.bbox,
            "confidence": info.confidence,
        });
        println!("{line}");
        Ok(())
    }
}

/// Measure the engine end to end against the H.264 encoder alone, and peak memory.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 20)]
    pub seconds: u32,
    /// Comma-separated WIDTHxHEIGHT list.
    #[arg(long, default_value = "1280x720,1920x1080")]
    pub sizes: String,
    /// Runs per size; each figure is the best run.
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// Markdown file whose engine section is replaced with the results (created if missing).
    /// The repository's record is `--out docs/benchmarks.md`.
    #[arg(long, default_value = "kinora-bench.md")]
    pub out: PathBuf,
    /// Where the benchmark's clips are written (removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Instead of the engine, measure a foreign clip (x264 High with B-frames, as a phone
    /// makes it, `--seconds` long) decoded and extended, against `ffmpeg -f null`.
    #[arg(long)]
    pub foreign: bool,
    /// With `--foreign`: the seconds added by the extension.
    #[arg(long, default_value_t = 8)]
    pub extend_seconds: u32,
}

impl BenchArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let sizes = self
            .sizes
            .split(',')
            .map(parse_size)
            .collect::<Result<Vec<_>, _>>()
            .map_err(anyhow::Error::msg)?;
        let work = self.work_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("kinora-bench-{}", std::process::id()))
        });
        if self.foreign {
            return self.run_foreign(&sizes, &work);
        }
        // One size at a time, so a run of several minutes says where it is.
        let mut report = None;
        for (i, &(w, h)) in sizes.iter().enumerate() {
            eprintln!(
                "bench: {w}x{h} ({}/{}), {} run(s) of a {} s clip…",
                i + 1,
                sizes.len(),
                self.runs.max(1),
                self.seconds
            );
            let started = std::time::Instant::now();
            let one = run_bench(&[(w, h)], self.seconds, self.runs, &work);
            let _ = std::fs::remove_dir_all(&work);
            let one = one?;
            eprintln!(
                "bench: {w}x{h} done in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            match &mut report {
                None => report = Some(one),
                Some(r) => r.cases.extend(one.cases),
            }
        }
        let report = report.context("--sizes names no size")?;
        let markdown = report.markdown();
        print!("{markdown}");
        write_section(&self.out, &markdown)
            .with_context(|| format!("writing {}", self.out.display()))?;
        eprintln!("bench: report written to {}", self.out.display());
        Ok(())
    }

    fn run_foreign(&self, sizes: &[(u32, u32)], work: &Path) -> anyhow::Result<()> {
        use kinora_render::bench_foreign::{SECTION_END, SECTION_START, run_foreign_bench};
        let mut cases = Vec::new();
        let mut report = None;
        for &(w, h) in sizes {
            eprintln!(
                "bench: foreign {w}x{h}, {} run(s): a {} s clip decoded and extended by {} s…",
                self.runs.max(1),
                self.seconds,
                self.extend_seconds
            );
            let one = run_foreign_bench(
                &[(w, h)],
                self.seconds,
                self.extend_seconds,
                self.runs,
                work,
            );
            let _ = std::fs::remove_dir_all(work);
            let mut one = one?;
            cases.append(&mut one.cases);
            report = Some(one);
        }
        let mut report = report.context("--sizes names no size")?;
        report.cases = cases;
        let markdown = report.markdown();
        print!("{markdown}");
        write_marked_section(&self.out, &markdown, SECTION_START, SECTION_END)
            .with_context(|| format!("writing {}", self.out.display()))?;
        eprintln!("bench: report written to {}", self.out.display());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_characters() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert!(parse_size("1280").is_err());
        assert_eq!(
            parse_character("Mossy=a.mp4"),
            Ok(("Mossy".into(), PathBuf::from("a.mp4")))
        );
        assert!(parse_character("=a.mp4").is_err());
        assert_eq!(
            beside(Path::new("out/clip.mp4"), "scene.json"),
            PathBuf::from("out/clip.scene.json")
        );
    }
}
