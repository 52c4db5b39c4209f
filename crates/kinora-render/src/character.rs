//! Characters: cut the main subject out of a short clip once, then draw that same cutout in
//! every clip that names it. `subject` finds the subject (motion against a camera-compensated
//! background, colour saliency when nothing moves); its mask is feathered into an alpha matte
//! over the whole frame, so the cutout keeps the subject's own shape and aspect. A clip whose
//! subject cannot be separated with confidence is refused, never turned into a sliver.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::imageops::FilterType;
use image::{RgbImage, RgbaImage};
use kinora_media::{ClipReader, probe};
use serde::{Deserialize, Serialize};

use crate::error::RenderError;
use crate::scene::Scene;
use crate::subject::{MEDIAN_FRAMES, find_subject};

/// Longest side of the mask analysis, in pixels.
const ANALYSIS_SIDE: u32 = 320;
/// Tallest cutout embedded in a scene, in pixels.
const CUTOUT_HEIGHT: u32 = 512;
const REFERENCE_FRAMES: u32 = 4;
/// 10 s (the longest clip taken) at 240 fps.
const MAX_FRAMES: u32 = 2400;

/// What [`extract_character`] found, as written to `character.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterInfo {
    pub name: String,
    /// Size of `cutout.png`: the source frame's full size.
    pub width: u32,
    pub height: u32,
    /// Frames decoded.
    pub frames_used: u32,
    /// When, in the clip, the frame the subject was cut from is shown.
    #[serde(default)]
    pub frame_seconds: f64,
    /// The subject's box in that frame: `[x, y, w, h]` in pixels.
    #[serde(default)]
    pub bbox: [u32; 4],
    /// How clearly the subject separated from its background, 0 to 1.
    #[serde(default)]
    pub confidence: f32,
}

fn bad(message: impl Into<String>) -> RenderError {
    RenderError::invalid("video", message)
}

/// What the refusal says: which clips work.
pub const NOT_FOUND: &str = "No single subject could be separated from the background of this \
    clip. Characters are made from a clip of one subject that moves, or that stands in front of \
    a plain or clearly different background.";

/// From a 2–4 s clip (1 to 10 s accepted, any size), writes `cutout.png` (RGBA at the frame's
/// full size, transparent outside the subject), `frame.png` (the frame it was cut from),
/// `reference_N.png` and `character.json` into `out_dir`.
pub fn extract_character(
    clip: &Path,
    name: &str,
    out_dir: &Path,
) -> Result<CharacterInfo, RenderError> {
    if name.trim().is_empty() {
        return Err(RenderError::invalid("name", "a character needs a name"));
    }
    let info = probe(clip).map_err(|e| bad(format!("the clip cannot be read: {e}")))?;
    if info.frames == 0 || !(1.0..=10.0).contains(&info.duration_s) {
        return Err(bad(format!(
            "the clip is {:.2} s long; characters are made from clips of 1 to 10 s (2–4 s works best)",
            info.duration_s
        )));
    }
    if info.frames > MAX_FRAMES {
        return Err(bad(format!(
            "the clip has {} frames; characters are made from at most {MAX_FRAMES}",
            info.frames
        )));
    }
    let mut decoder =
        ClipReader::open(clip).map_err(|e| bad(format!("the clip cannot be decoded: {e}")))?;
    let frames = decoder.info().frames.max(1);
    let fps = decoder.info().fps;
    let picks: Vec<u32> = (0..REFERENCE_FRAMES)
        .map(|i| (2 * i + 1) * frames / (2 * REFERENCE_FRAMES))
        .collect();
    let middle = frames / 2;
    // The background needs at most 31 frames; only those are kept, whatever the length.
    let step = frames.div_ceil(MEDIAN_FRAMES as u32).max(1);
    let mut sampled = Vec::new();
    let mut references = Vec::new();
    let mut key: Option<(RgbImage, usize)> = None;
    // The size the frames really decode to, not the one the header claims.
    let mut size: Option<(u32, u32, u32, u32)> = None;
    let mut index = 0;
    while let Some(frame) = decoder
        .next_frame()
        .map_err(|e| bad(format!("the clip cannot be decoded: {e}")))?
    {
        let image = frame.into_image()?;
        let (w, h, aw, ah) = match size {
            Some(s) => s,
            None => *size.insert(analysis_size(image.dimensions())?),
        };
        if image.dimensions() != (w, h) {
            return Err(bad("the clip's frames change size"));
        }
        if picks.contains(&index) {
            references.push(image.clone());
        }
        if index % step == 0 || index == middle {
            let small = if (aw, ah) == (w, h) {
                image.clone()
            } else {
                image::imageops::resize(&image, aw, ah, FilterType::Triangle)
            };
            if index == middle {
                key = Some((image, sampled.len()));
            }
            sampled.push(small);
        }
        index += 1;
    }
    let (Some((key, key_index)), Some((w, h, aw, ah))) = (key, size) else {
        return Err(bad("the clip has no frames"));
    };
    let found = find_subject(&sampled, key_index).ok_or(RenderError::SubjectNotFound)?;
    let alpha_small = image::imageops::blur(&found.mask, 0.7);
    let alpha = if (aw, ah) == (w, h) {
        alpha_small
    } else {
        image::imageops::resize(&alpha_small, w, h, FilterType::Triangle)
    };
    let cutout = RgbaImage::from_fn(w, h, |x, y| {
        let [r, g, b] = key.get_pixel(x, y).0;
        let a = match alpha.get_pixel(x, y).0[0] {
            a if a < 8 => 0,
            a if a > 247 => 255,
            a => a,
        };
        image::Rgba([r, g, b, a])
    });
    let bbox = alpha_bounds(&cutout).ok_or(RenderError::SubjectNotFound)?;
    std::fs::create_dir_all(out_dir)?;
    let save = |img: &dyn Fn(&Path) -> image::ImageResult<()>, path: &Path| {
        img(path).map_err(|e| RenderError::Io(std::io::Error::other(e)))
    };
    save(&|p| cutout.save(p), &out_dir.join("cutout.png"))?;
    save(&|p| key.save(p), &out_dir.join("frame.png"))?;
    for (i, r) in references.iter().enumerate() {
        let (rw, rh) = kinora_media::fit_long_side(r.width(), r.height(), 512);
        let small_ref = image::imageops::resize(r, rw, rh, FilterType::Triangle);
        save(
            &|p| small_ref.save(p),
            &out_dir.join(format!("reference_{i}.png")),
        )?;
    }
    let out = CharacterInfo {
        name: name.to_owned(),
        width: w,
        height: h,
        frames_used: index,
        frame_seconds: (f64::from(middle) / fps * 1000.0).round() / 1000.0,
        bbox,
        confidence: (found.confidence * 100.0).round() / 100.0,
    };
    let json = serde_json::to_vec_pretty(&out).map_err(std::io::Error::other)?;
    std::fs::write(out_dir.join("character.json"), json)?;
    Ok(out)
}

/// `[x, y, w, h]` of the pixels with any opacity.
fn alpha_bounds(image: &RgbaImage) -> Option<[u32; 4]> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in image.enumerate_pixels() {
        if p[3] != 0 {
            let (x0, y0, x1, y1) = b.unwrap_or((x, y, x, y));
            b = Some((x0.min(x), y0.min(y), x1.max(x), y1.max(y)));
        }
    }
    b.map(|(x0, y0, x1, y1)| [x0, y0, x1 - x0 + 1, y1 - y0 + 1])
}

/// The subject alone: the cutout cropped to its opaque part and no taller than
/// [`CUTOUT_HEIGHT`], its aspect kept. Cutouts made before they were full-frame pass through.
fn trimmed(cutout: RgbaImage) -> RgbaImage {
    let Some([x, y, w, h]) = alpha_bounds(&cutout) else {
        return cutout;
    };
    let mut sprite = image::imageops::crop_imm(&cutout, x, y, w, h).to_image();
    if sprite.height() > CUTOUT_HEIGHT {
        let nw = (sprite.width() as f32 * CUTOUT_HEIGHT as f32 / sprite.height() as f32)
            .round()
            .max(1.0) as u32;
        sprite = image::imageops::resize(&sprite, nw, CUTOUT_HEIGHT, FilterType::Lanczos3);
    }
    sprite
}

/// The decoded size, checked, and the analysis size (longest side at most [`ANALYSIS_SIDE`]).
fn analysis_size((w, h): (u32, u32)) -> Result<(u32, u32, u32, u32), RenderError> {
    if w.min(h) < 16 || w.max(h) > 3840 || w.min(h) > 2160 {
        return Err(bad(format!(
            "the clip is {w}x{h}; characters are made from clips of 16x16 up to 3840x2160"
        )));
    }
    if w.max(h) <= ANALYSIS_SIDE {
        return Ok((w, h, w, h));
    }
    let scale = ANALYSIS_SIDE as f32 / w.max(h) as f32;
    Ok((
        w,
        h,
        ((w as f32 * scale).round() as u32).max(8),
        ((h as f32 * scale).round() as u32).max(8),
    ))
}

/// Reads a character directory's cutout and puts it into the scene as base64 PNG.
pub fn embed(scene: &mut Scene, name: &str, dir: &Path) -> Result<(), RenderError> {
    let path = dir.join("cutout.png");
    let bytes = std::fs::read(&path).map_err(|e| {
        RenderError::invalid(
            "characters",
            format!("character {name}: cannot read {}: {e}", path.display()),
        )
    })?;
    let sprite = trimmed(decode_cutout(name, &bytes)?);
    let mut png = Vec::new();
    sprite
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| RenderError::Io(std::io::Error::other(e)))?;
    scene
        .characters
        .insert(name.to_owned(), STANDARD.encode(png));
    Ok(())
}

fn decode_cutout(name: &str, png: &[u8]) -> Result<RgbaImage, RenderError> {
    let image = image::load_from_memory(png).map_err(|e| {
        RenderError::invalid(
            "characters",
            format!("character {name}: the cutout does not decode: {e}"),
        )
    })?;
    Ok(image.to_rgba8())
}

/// The cutouts embedded in `scene`, by name.
pub fn cutouts(scene: &Scene) -> Result<BTreeMap<String, RgbaImage>, RenderError> {
    scene
        .characters
        .iter()
        .map(|(name, b64)| {
            let png = STANDARD.decode(b64).map_err(|e| {
                RenderError::invalid(
                    "characters",
                    format!("character {name}: bad cutout data: {e}"),
                )
            })?;
            Ok((name.clone(), decode_cutout(name, &png)?))
        })
        .collect()
}
