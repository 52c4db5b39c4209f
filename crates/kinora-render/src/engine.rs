//! The engine's front door: the request types the server builds, validation, and the create
//! mode. Extend and edit live in their own modules and share the pipeline.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use image::RgbImage;
use kinora_media::{AudioCodec, ClipInfo};

use crate::audio::AudioSynth;
use crate::backdrop::Backdrop;
use crate::character;
use crate::error::RenderError;
use crate::painter::Painter;
use crate::pipeline::{self, Previews, SceneSource};
use crate::scene::{BackdropSource, FrameSpec, Scene};
use crate::{FPS, MAX_SECONDS, MIN_SECONDS, edit, extend};

/// Smallest and largest frame side the engine draws (the server narrows this to the API's sizes).
pub const MIN_SIDE: u32 = 64;
pub const MAX_SIDE: u32 = 1920;

/// Cancels a render from another thread; the engine checks it every frame.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A character to draw: `dir` as written by [`crate::extract_character`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterRef {
    pub name: String,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderMode {
    /// A new clip. `input_reference` becomes the first frame (fitted by scale-to-cover and
    /// centre-crop); up to two characters are drawn from their cutouts.
    Create {
        input_reference: Option<PathBuf>,
        characters: Vec<CharacterRef>,
    },
    /// `source` plus a new segment of `seconds`. The size follows the source; the request's
    /// width and height are ignored. `source_scene` is the scene.json written beside the source.
    Extend {
        source: PathBuf,
        source_scene: Option<PathBuf>,
    },
    /// `source` with one change; keeps the source's size and length (`seconds`, width and height
    /// in the request are ignored).
    Edit {
        source: PathBuf,
        source_scene: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderRequest {
    pub prompt: String,
    pub width: u32,
    pub height: u32,
    pub seconds: u32,
    pub seed: u64,
    pub mode: RenderMode,
    /// The audio codec of the output; `Opus` unless the `aac` feature is on and this asks for
    /// `Aac`. An extension's joined audio is re-encoded in it, whatever the source's codec.
    pub audio_codec: AudioCodec,
    /// Show the words the engine could not draw as a caption in the lower third (the
    /// storyboard convention); on unless the caller turns it off.
    pub captions: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RenderOutputs {
    pub video: PathBuf,
    pub thumbnail: PathBuf,
    pub spritesheet: PathBuf,
    pub scene: PathBuf,
    pub info: ClipInfo,
}

impl RenderOutputs {
    fn in_dir(dir: &Path, info: ClipInfo) -> Self {
        Self {
            video: dir.join("video.mp4"),
            thumbnail: dir.join("thumbnail.webp"),
            spritesheet: dir.join("spritesheet.jpg"),
            scene: dir.join("scene.json"),
            info,
        }
    }
}

/// Reports whole percentages, each once and never going back.
pub struct Progress<'a> {
    sink: &'a (dyn Fn(u8) + Sync),
    last: AtomicU8,
}

impl<'a> Progress<'a> {
    pub fn new(sink: &'a (dyn Fn(u8) + Sync)) -> Self {
        Self {
            sink,
            last: AtomicU8::new(0),
        }
    }

    pub fn report(&self, percent: u32) {
        let p = percent.min(100) as u8;
        if p > self.last.load(Ordering::Relaxed) {
            self.last.store(p, Ordering::Relaxed);
            (self.sink)(p);
        }
    }
}

/// Paths of the files a render writes into its output directory.
pub struct OutFiles {
    pub dir: PathBuf,
}

impl OutFiles {
    pub fn video(&self) -> PathBuf {
        self.dir.join("video.mp4")
    }

    pub fn part(&self) -> PathBuf {
        self.dir.join("segment.part.mp4")
    }

    /// Writes previews and the scene, and returns the outputs.
    pub fn complete(
        &self,
        previews: Previews,
        scene: &Scene,
        info: ClipInfo,
    ) -> Result<RenderOutputs, RenderError> {
        let out = RenderOutputs::in_dir(&self.dir, info);
        previews.write(&out.thumbnail, &out.spritesheet)?;
        let json = serde_json::to_vec_pretty(scene).map_err(std::io::Error::other)?;
        std::fs::write(&out.scene, json)?;
        Ok(out)
    }

    fn clean(&self) {
        for name in [
            "video.mp4",
            "segment.part.mp4",
            "thumbnail.webp",
            "spritesheet.jpg",
            "scene.json",
        ] {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
    }
}

pub fn check_seconds(seconds: u32) -> Result<(), RenderError> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err(RenderError::invalid(
            "seconds",
            format!(
                "{seconds} s is out of range: clips are {MIN_SECONDS} to {MAX_SECONDS} whole seconds"
            ),
        ));
    }
    Ok(())
}

fn check_size(width: u32, height: u32) -> Result<(), RenderError> {
    let ok = |v: u32| (MIN_SIDE..=MAX_SIDE).contains(&v) && v.is_multiple_of(2);
    if !ok(width) || !ok(height) {
        return Err(RenderError::invalid(
            "size",
            format!(
                "{width}x{height} is not supported: each side must be even and between {MIN_SIDE} and {MAX_SIDE}"
            ),
        ));
    }
    Ok(())
}

/// Renders `req` into `out_dir` (video.mp4, thumbnail.webp, spritesheet.jpg, scene.json).
/// Blocking and CPU-bound; `progress` gets 1..=100; `cancel` stops it within a frame or two.
/// On any error, files it had started are removed.
pub fn render(
    req: &RenderRequest,
    out_dir: &Path,
    progress: &(dyn Fn(u8) + Sync),
    cancel: &CancelToken,
) -> Result<RenderOutputs, RenderError> {
    std::fs::create_dir_all(out_dir)?;
    let files = OutFiles {
        dir: out_dir.to_path_buf(),
    };
    let progress = Progress::new(progress);
    let result = match &req.mode {
        RenderMode::Create {
            input_reference,
            characters,
        } => create(
            req,
            input_reference.as_deref(),
            characters,
            &files,
            &progress,
            cancel,
        ),
        RenderMode::Extend {
            source,
            source_scene,
        } => extend::run(
            req,
            source,
            source_scene.as_deref(),
            &files,
            &progress,
            cancel,
        ),
        RenderMode::Edit {
            source,
            source_scene,
        } => edit::run(
            req,
            source,
            source_scene.as_deref(),
            &files,
            &progress,
            cancel,
        ),
    };
    let _ = std::fs::remove_file(files.part());
    if result.is_err() {
        files.clean();
    }
    result
}

/// Decodes an image file (PNG, JPEG or WebP), naming the API field on failure.
pub fn load_image(path: &Path, param: &'static str) -> Result<RgbImage, RenderError> {
    let reader = image::ImageReader::open(path)
        .map_err(|e| RenderError::invalid(param, format!("cannot open the image: {e}")))?
        .with_guessed_format()
        .map_err(|e| RenderError::invalid(param, format!("cannot read the image: {e}")))?;
    let image = reader
        .decode()
        .map_err(|e| RenderError::invalid(param, format!("the image does not decode: {e}")))?;
    if image.width() == 0 || image.height() == 0 {
        return Err(RenderError::invalid(param, "the image is empty"));
    }
    Ok(image.to_rgb8())
}

fn create(
    req: &RenderRequest,
    input_reference: Option<&Path>,
    characters: &[CharacterRef],
    files: &OutFiles,
    progress: &Progress<'_>,
    cancel: &CancelToken,
) -> Result<RenderOutputs, RenderError> {
    check_size(req.width, req.height)?;
    check_seconds(req.seconds)?;
    if characters.len() > 2 {
        return Err(RenderError::invalid(
            "characters",
            "at most 2 characters per video",
        ));
    }
    let still = input_reference
        .map(|p| load_image(p, "input_reference"))
        .transpose()?;
    let names: Vec<String> = characters.iter().map(|c| c.name.clone()).collect();
    let mut scene = Scene::from_prompt(&req.prompt, req.seed, &names);
    for c in characters {
        character::embed(&mut scene, &c.name, &c.dir)?;
    }
    if still.is_some() {
        scene.backdrop = BackdropSource::Still;
    }
    let frames = req.seconds * FPS;
    scene.frame = Some(FrameSpec {
        width: req.width,
        height: req.height,
        fps: FPS,
    });
    let (camera, weather) = (scene.camera, scene.weather);
    scene.push_segment(frames, &req.prompt, camera, weather, &[]);
    if req.captions {
        let ignored = scene.ignored_words.clone();
        caption_last_segment(&mut scene, &ignored);
    }
    render_scene(
        &scene,
        still.as_ref(),
        req.audio_codec,
        files,
        progress,
        cancel,
    )
}

/// Captions the newest segment with `ignored`, the words of its prompt that were not drawn.
pub fn caption_last_segment(scene: &mut Scene, ignored: &[String]) {
    if let Some(seg) = scene.timeline.last_mut() {
        seg.caption = crate::caption::text(ignored);
    }
}

/// Draws every frame of `scene`'s timeline into the output video, with previews and scene.json.
pub fn render_scene(
    scene: &Scene,
    still: Option<&RgbImage>,
    audio: AudioCodec,
    files: &OutFiles,
    progress: &Progress<'_>,
    cancel: &CancelToken,
) -> Result<RenderOutputs, RenderError> {
    let spec = scene
        .frame
        .ok_or_else(|| RenderError::invalid("video", "the scene has no frame size"))?;
    let total = scene.total_frames();
    let painter = scene_painter(scene, still, spec)?;
    let source = SceneSource {
        painter,
        synth: AudioSynth::new(scene),
    };
    let mut encoder = pipeline::new_encoder(&files.video(), spec.width, spec.height, audio)?;
    let mut previews = Previews::for_clip(total);
    pipeline::encode(
        &mut encoder,
        source,
        0..total,
        0,
        &mut previews,
        progress,
        (0, 98),
        cancel,
    )?;
    let info = pipeline::finish(encoder)?;
    let out = files.complete(previews, scene, info)?;
    progress.report(100);
    Ok(out)
}

/// A painter for `scene`, with its backdrop drawn (or fitted from `still`).
pub fn scene_painter(
    scene: &Scene,
    still: Option<&RgbImage>,
    spec: FrameSpec,
) -> Result<Painter, RenderError> {
    let cutouts = character::cutouts(scene)?;
    let backdrop = match still {
        Some(image) => Backdrop::still(image, spec.width, spec.height),
        None => Backdrop::procedural(scene, spec.width, spec.height),
    };
    Ok(Painter::new(
        scene,
        spec.width,
        spec.height,
        backdrop,
        &cutouts,
    ))
}
