//! Characters: cut the main subject out of a short clip once, then draw that same cutout in
//! every clip that names it. Extraction estimates the background from the frame border's
//! colours and the clip's per-pixel median, thresholds the difference, keeps the largest
//! connected region with its holes filled, and feathers its edge into an alpha matte.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::imageops::FilterType;
use image::{GrayImage, RgbImage, RgbaImage};
use kinora_media::{Mp4Decoder, probe};
use serde::{Deserialize, Serialize};

use crate::error::RenderError;
use crate::scene::Scene;

/// Longest side of the mask analysis, in pixels.
const ANALYSIS_SIDE: u32 = 256;
/// Tallest cutout kept, in pixels.
const CUTOUT_HEIGHT: u32 = 512;
/// Colour distance (RGB, 0..441) above which a pixel is not background.
const THRESHOLD: f32 = 48.0;
const REFERENCE_FRAMES: u32 = 4;
/// Frames the background median is taken over.
const MEDIAN_FRAMES: u32 = 31;
/// 10 s (the longest clip taken) at 240 fps.
const MAX_FRAMES: u32 = 2400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharacterInfo {
    pub name: String,
    /// Size of the cutout PNG.
    pub width: u32,
    pub height: u32,
    /// Frames the background and matte were estimated from.
    pub frames_used: u32,
}

fn bad(message: impl Into<String>) -> RenderError {
    RenderError::invalid("video", message)
}

/// From a 2–4 s clip (1 to 10 s accepted, any size), writes `cutout.png` (RGBA),
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
        Mp4Decoder::open(clip).map_err(|e| bad(format!("the clip cannot be decoded: {e}")))?;
    let picks: Vec<u32> = (0..REFERENCE_FRAMES)
        .map(|i| (2 * i + 1) * info.frames / (2 * REFERENCE_FRAMES))
        .collect();
    let middle = info.frames / 2;
    // The background median needs at most 31 frames; only those are kept, whatever the length.
    let step = info.frames.div_ceil(MEDIAN_FRAMES).max(1);
    let mut sampled = Vec::new();
    let mut references = Vec::new();
    let mut key: Option<(RgbImage, RgbImage)> = None;
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
        let wanted = index % step == 0 || index == middle;
        let small = wanted.then(|| image::imageops::resize(&image, aw, ah, FilterType::Triangle));
        if picks.contains(&index) {
            references.push(image.clone());
        }
        if let Some(small) = small {
            if index == middle {
                key = Some((image, small.clone()));
            }
            if index % step == 0 {
                sampled.push(small);
            }
        }
        index += 1;
    }
    let (Some((key, key_small)), Some((w, h, aw, ah))) = (key, size) else {
        return Err(bad("the clip has no frames"));
    };
    let mask = subject_mask(&sampled, &key_small);
    let Some((x0, y0, x1, y1)) = bounds(&mask) else {
        return Err(bad("no distinct subject was found against the background"));
    };
    let alpha_small = image::imageops::blur(&mask, 0.8);
    let alpha = image::imageops::resize(&alpha_small, w, h, FilterType::Triangle);
    let (sx, sy) = (w as f32 / aw as f32, h as f32 / ah as f32);
    let (cx0, cy0) = (
        (x0 as f32 * sx).floor() as u32,
        (y0 as f32 * sy).floor() as u32,
    );
    let cx1 = ((((x1 + 1) as f32) * sx).ceil() as u32).min(w);
    let cy1 = ((((y1 + 1) as f32) * sy).ceil() as u32).min(h);
    let mut cutout = RgbaImage::new(cx1 - cx0, cy1 - cy0);
    for (x, y, px) in cutout.enumerate_pixels_mut() {
        let [r, g, b] = key.get_pixel(x + cx0, y + cy0).0;
        let a = alpha.get_pixel(x + cx0, y + cy0).0[0];
        *px = image::Rgba([
            r,
            g,
            b,
            if a < 8 {
                0
            } else if a > 247 {
                255
            } else {
                a
            },
        ]);
    }
    if cutout.height() > CUTOUT_HEIGHT {
        let nw = (cutout.width() as f32 * CUTOUT_HEIGHT as f32 / cutout.height() as f32)
            .round()
            .max(1.0) as u32;
        cutout = image::imageops::resize(&cutout, nw, CUTOUT_HEIGHT, FilterType::Lanczos3);
    }
    std::fs::create_dir_all(out_dir)?;
    let save = |img: &dyn Fn(&Path) -> image::ImageResult<()>, path: &Path| {
        img(path).map_err(|e| RenderError::Io(std::io::Error::other(e)))
    };
    save(&|p| cutout.save(p), &out_dir.join("cutout.png"))?;
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
        width: cutout.width(),
        height: cutout.height(),
        frames_used: index,
    };
    let json = serde_json::to_vec_pretty(&out).map_err(std::io::Error::other)?;
    std::fs::write(out_dir.join("character.json"), json)?;
    Ok(out)
}

fn dist(a: [u8; 3], b: [f32; 3]) -> f32 {
    let d = [a[0] as f32 - b[0], a[1] as f32 - b[1], a[2] as f32 - b[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// Foreground mask (255 = subject) of frame `key` of the analysis frames.
/// The decoded size, checked, and the analysis size (longest side [`ANALYSIS_SIDE`]).
fn analysis_size((w, h): (u32, u32)) -> Result<(u32, u32, u32, u32), RenderError> {
    if w.min(h) < 16 || w.max(h) > 3840 || w.min(h) > 2160 {
        return Err(bad(format!(
            "the clip is {w}x{h}; characters are made from clips of 16x16 up to 3840x2160"
        )));
    }
    let scale = ANALYSIS_SIDE as f32 / w.max(h) as f32;
    Ok((
        w,
        h,
        ((w as f32 * scale).round() as u32).max(8),
        ((h as f32 * scale).round() as u32).max(8),
    ))
}

/// `frames`: evenly spaced frames of the clip, for the background median; `frame`: the one
/// whose subject is cut out.
fn subject_mask(frames: &[RgbImage], frame: &RgbImage) -> GrayImage {
    let (w, h) = frame.dimensions();
    let ring = (w.min(h) / 25).max(1);
    let border: Vec<[u8; 3]> = frame
        .enumerate_pixels()
        .filter(|(x, y, _)| *x < ring || *y < ring || *x >= w - ring || *y >= h - ring)
        .map(|(_, _, p)| p.0)
        .collect();
    let centres = kmeans(&border, 6);
    let median = temporal_median(frames);
    let mut mask = GrayImage::new(w, h);
    for (x, y, p) in frame.enumerate_pixels() {
        let from_border = centres
            .iter()
            .map(|c| dist(p.0, *c))
            .fold(f32::MAX, f32::min);
        let m = median.get_pixel(x, y).0;
        let from_median = dist(p.0, [m[0] as f32, m[1] as f32, m[2] as f32]);
        let fg = from_border > THRESHOLD || from_median > THRESHOLD;
        mask.put_pixel(x, y, image::Luma([if fg { 255 } else { 0 }]));
    }
    keep_largest(&mut mask);
    mask
}

fn kmeans(points: &[[u8; 3]], k: usize) -> Vec<[f32; 3]> {
    if points.is_empty() {
        return vec![[0.0; 3]];
    }
    let mut centres: Vec<[f32; 3]> = (0..k)
        .map(|i| points[i * points.len() / k].map(f32::from))
        .collect();
    for _ in 0..8 {
        let mut sums = vec![[0.0f32; 4]; k];
        for p in points {
            let best = (0..k)
                .min_by(|&a, &b| dist(*p, centres[a]).total_cmp(&dist(*p, centres[b])))
                .unwrap_or(0);
            for c in 0..3 {
                sums[best][c] += p[c] as f32;
            }
            sums[best][3] += 1.0;
        }
        for (c, s) in centres.iter_mut().zip(&sums) {
            if s[3] > 0.0 {
                *c = [s[0] / s[3], s[1] / s[3], s[2] / s[3]];
            }
        }
    }
    centres
}

/// Per-pixel median over up to 31 evenly spaced frames: the background when the subject moves.
fn temporal_median(frames: &[RgbImage]) -> RgbImage {
    let step = frames.len().div_ceil(MEDIAN_FRAMES as usize).max(1);
    let picked: Vec<&RgbImage> = frames.iter().step_by(step).collect();
    let (w, h) = frames[0].dimensions();
    let mut out = RgbImage::new(w, h);
    let mut values = Vec::with_capacity(picked.len());
    for (x, y, px) in out.enumerate_pixels_mut() {
        for c in 0..3 {
            values.clear();
            values.extend(picked.iter().map(|f| f.get_pixel(x, y).0[c]));
            values.sort_unstable();
            px.0[c] = values[values.len() / 2];
        }
    }
    out
}

/// Keeps the largest 4-connected foreground region and fills its holes.
fn keep_largest(mask: &mut GrayImage) {
    let (w, h) = mask.dimensions();
    let idx = |x: u32, y: u32| (y * w + x) as usize;
    let mut label = vec![0u32; (w * h) as usize];
    let mut best = (0u32, 0usize);
    let mut next = 1;
    let mut stack = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if mask.get_pixel(x, y).0[0] == 0 || label[idx(x, y)] != 0 {
                continue;
            }
            let mut size = 0;
            stack.push((x, y));
            label[idx(x, y)] = next;
            while let Some((px, py)) = stack.pop() {
                size += 1;
                let around = [
                    (px.wrapping_sub(1), py),
                    (px + 1, py),
                    (px, py.wrapping_sub(1)),
                    (px, py + 1),
                ];
                for (nx, ny) in around {
                    if nx < w
                        && ny < h
                        && mask.get_pixel(nx, ny).0[0] != 0
                        && label[idx(nx, ny)] == 0
                    {
                        label[idx(nx, ny)] = next;
                        stack.push((nx, ny));
                    }
                }
            }
            if size > best.1 {
                best = (next, size);
            }
            next += 1;
        }
    }
    // Background = everything outside the region that touches the border; the rest is subject.
    let mut outside = vec![false; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            if (x == 0 || y == 0 || x == w - 1 || y == h - 1) && label[idx(x, y)] != best.0 {
                outside[idx(x, y)] = true;
                stack.push((x, y));
            }
        }
    }
    while let Some((px, py)) = stack.pop() {
        let around = [
            (px.wrapping_sub(1), py),
            (px + 1, py),
            (px, py.wrapping_sub(1)),
            (px, py + 1),
        ];
        for (nx, ny) in around {
            if nx < w && ny < h && !outside[idx(nx, ny)] && label[idx(nx, ny)] != best.0 {
                outside[idx(nx, ny)] = true;
                stack.push((nx, ny));
            }
        }
    }
    for (x, y, p) in mask.enumerate_pixels_mut() {
        p.0[0] = if best.1 > 0 && !outside[idx(x, y)] {
            255
        } else {
            0
        };
    }
}

/// Bounding box (inclusive) of a mask's foreground, if it covers at least 0.3% of the frame.
fn bounds(mask: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = mask.dimensions();
    let mut b = (w, h, 0, 0);
    let mut count = 0;
    for (x, y, p) in mask.enumerate_pixels() {
        if p.0[0] != 0 {
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
            count += 1;
        }
    }
    (count * 333 >= (w * h) as usize && count < (w * h) as usize * 95 / 100).then_some(b)
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
    decode_cutout(name, &bytes)?;
    scene
        .characters
        .insert(name.to_owned(), STANDARD.encode(bytes));
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
