//! The engine's front door: validation, dispatch to the modes, and the create mode. The request
//! types are in `request`; extend and edit live in their own modules and share the pipeline.

use std::path::Path;

use image::RgbImage;

use crate::caption::caption_last_segment;
use crate::character;
use crate::error::RenderError;
use crate::pipeline::render_scene;
use crate::request::check_seconds;
use crate::request::{
    CancelToken, CharacterRef, MAX_SIDE, MIN_SIDE, OutFiles, Progress, RenderMode, RenderOutputs,
    RenderRequest,
};
use crate::scene::{BackdropSource, FrameSpec, Scene};
use crate::{FPS, edit, extend};

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
