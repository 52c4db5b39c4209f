//! Finding a clip's subject. The camera's own motion is estimated first (a global translation
//! between sampled frames), so that a pan does not make the whole background "move"; the
//! background is then the per-pixel median of the aligned frames, and the subject is what
//! differs from it in the key frame. A clip where nothing moves against its background falls back
//! to colour saliency: what differs from the colours along the frame's border. Candidate regions
//! are scored by contrast, compactness and a centre prior, not by size, and a result that is not
//! clearly separated (weak contrast, a sliver, a strip across the frame) is refused rather than
//! returned.

use image::{GrayImage, Luma, RgbImage};
use imageproc::distance_transform::Norm;
use imageproc::morphology::{close, open};
use imageproc::region_labelling::{Connectivity, connected_components};

/// Frames (at most) the background median is taken over.
pub const MEDIAN_FRAMES: usize = 31;
/// Below this confidence a subject is refused.
pub const MIN_CONFIDENCE: f32 = 0.4;
/// Colour distance (RGB, 0..441) a subject pixel differs from the background by, at least.
const MIN_CONTRAST: f32 = 36.0;
/// Share of the frame a camera move must visibly shift; a subject rarely covers this much.
const MIN_MOVED_SHARE: f32 = 0.3;

/// The subject of the key frame: a mask at the analysis size and how sure the separation is.
#[derive(Debug, Clone)]
pub struct Found {
    pub mask: GrayImage,
    pub confidence: f32,
}

/// `frames` are evenly spaced frames of the clip at the analysis size; `key` indexes the frame
/// whose subject is wanted.
pub fn find_subject(frames: &[RgbImage], key: usize) -> Option<Found> {
    let offsets = camera_offsets(frames, key);
    let moving = difference_from_background(frames, key, &offsets);
    let from_motion = best_region(&moving);
    if let Some(found) = from_motion.filter(|f| f.confidence >= MIN_CONFIDENCE) {
        return Some(found);
    }
    let salient = saliency(&frames[key]);
    best_region(&salient).filter(|f| f.confidence >= MIN_CONFIDENCE)
}

fn gray(frame: &RgbImage) -> Vec<f32> {
    frame
        .pixels()
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect()
}

/// Mean truncated difference of `b` shifted by `(dx, dy)` against `a`, sampling every `step`
/// pixels; truncation keeps a moving subject from pulling the estimate.
fn shift_cost(a: &[f32], b: &[f32], w: i32, h: i32, (dx, dy): (i32, i32), step: usize) -> f32 {
    let (mut sum, mut n) = (0.0f32, 0u32);
    for y in (0..h).step_by(step) {
        let by = y + dy;
        if by < 0 || by >= h {
            continue;
        }
        for x in (0..w).step_by(step) {
            let bx = x + dx;
            if bx < 0 || bx >= w {
                continue;
            }
            let d = (a[(y * w + x) as usize] - b[(by * w + bx) as usize]).abs();
            sum += d.min(40.0);
            n += 1;
        }
    }
    // Shifts that leave too little overlap are not trusted.
    if n < ((w * h) as u32 / (step * step) as u32) / 3 {
        return f32::MAX;
    }
    sum / n as f32
}

/// Share of the overlapping pixels that `shift` explains better than a still camera, less the
/// share a still camera explains better (sensor and compression noise favours either alike),
/// sampling every other pixel.
fn moved_share(a: &[f32], b: &[f32], w: i32, h: i32, (dx, dy): (i32, i32)) -> f32 {
    let (mut moved, mut n) = (0i64, 0i64);
    for y in (0..h).step_by(2) {
        let by = y + dy;
        if by < 0 || by >= h {
            continue;
        }
        for x in (0..w).step_by(2) {
            let bx = x + dx;
            if bx < 0 || bx >= w {
                continue;
            }
            let v = a[(y * w + x) as usize];
            let still = (v - b[(y * w + x) as usize]).abs();
            let shifted = (v - b[(by * w + bx) as usize]).abs();
            n += 1;
            moved += i64::from(still > shifted) - i64::from(shifted > still);
        }
    }
    moved as f32 / n.max(1) as f32
}

/// Where the content at `(x, y)` of `a` has moved to in `b`: coarse search on a sparse grid,
/// then a fine one around the best. A shift that only a small part of the picture agrees with
/// is a subject moving over a background too plain to show the camera's motion (a flat wall, a
/// clear sky): aligning on it would make the camera follow the subject and hide it in the
/// background, so the camera is taken to be still.
fn shift_between(a: &[f32], b: &[f32], w: u32, h: u32) -> (i32, i32) {
    let found = best_shift(a, b, w, h);
    if found != (0, 0) && moved_share(a, b, w as i32, h as i32, found) < MIN_MOVED_SHARE {
        return (0, 0);
    }
    found
}

fn best_shift(a: &[f32], b: &[f32], w: u32, h: u32) -> (i32, i32) {
    let (w, h) = (w as i32, h as i32);
    let reach = (w.max(h) / 6).max(4);
    let mut best = ((0, 0), shift_cost(a, b, w, h, (0, 0), 4));
    for dy in (-reach..=reach).step_by(3) {
        for dx in (-reach..=reach).step_by(3) {
            let cost = shift_cost(a, b, w, h, (dx, dy), 4);
            if cost < best.1 {
                best = ((dx, dy), cost);
            }
        }
    }
    let centre = best.0;
    let mut fine = (centre, shift_cost(a, b, w, h, centre, 2));
    for dy in -2..=2 {
        for dx in -2..=2 {
            let s = (centre.0 + dx, centre.1 + dy);
            let cost = shift_cost(a, b, w, h, s, 2);
            if cost < fine.1 {
                fine = (s, cost);
            }
        }
    }
    fine.0
}

/// For each frame, where the key frame's content sits in it (the camera's motion).
fn camera_offsets(frames: &[RgbImage], key: usize) -> Vec<(i32, i32)> {
    let (w, h) = frames[key].dimensions();
    let grays: Vec<Vec<f32>> = frames.iter().map(gray).collect();
    let steps: Vec<(i32, i32)> = grays
        .windows(2)
        .map(|pair| shift_between(&pair[0], &pair[1], w, h))
        .collect();
    let mut offsets = vec![(0, 0); frames.len()];
    for i in key + 1..frames.len() {
        let (s, p) = (steps[i - 1], offsets[i - 1]);
        offsets[i] = (p.0 + s.0, p.1 + s.1);
    }
    for i in (0..key).rev() {
        let (s, p) = (steps[i], offsets[i + 1]);
        offsets[i] = (p.0 - s.0, p.1 - s.1);
    }
    offsets
}

/// Colour distance of each key-frame pixel from the median of the aligned frames; zero where
/// too few frames saw that part of the scene to tell.
fn difference_from_background(
    frames: &[RgbImage],
    key: usize,
    offsets: &[(i32, i32)],
) -> (Vec<f32>, u32, u32) {
    let frame = &frames[key];
    let (w, h) = frame.dimensions();
    let least = (frames.len() / 2).max(3);
    let mut out = vec![0.0; (w * h) as usize];
    let mut seen: [Vec<u8>; 3] = Default::default();
    for (x, y, p) in frame.enumerate_pixels() {
        seen.iter_mut().for_each(Vec::clear);
        for (f, (ox, oy)) in frames.iter().zip(offsets) {
            let (fx, fy) = (x as i32 + ox, y as i32 + oy);
            if fx < 0 || fy < 0 || fx >= w as i32 || fy >= h as i32 {
                continue;
            }
            let q = f.get_pixel(fx as u32, fy as u32);
            for c in 0..3 {
                seen[c].push(q[c]);
            }
        }
        if seen[0].len() < least {
            continue;
        }
        let mut d2 = 0.0f32;
        for c in 0..3 {
            seen[c].sort_unstable();
            let m = f32::from(seen[c][seen[c].len() / 2]);
            d2 += (f32::from(p[c]) - m).powi(2);
        }
        out[(y * w + x) as usize] = d2.sqrt();
    }
    (out, w, h)
}

/// Distance of each pixel from the nearest of the border's main colours.
fn saliency(frame: &RgbImage) -> (Vec<f32>, u32, u32) {
    let (w, h) = frame.dimensions();
    let ring = (w.min(h) / 20).max(1);
    let border: Vec<[f32; 3]> = frame
        .enumerate_pixels()
        .filter(|(x, y, _)| *x < ring || *y < ring || *x >= w - ring || *y >= h - ring)
        .map(|(_, _, p)| p.0.map(f32::from))
        .collect();
    let centres = kmeans(&border, 8);
    let out = frame
        .pixels()
        .map(|p| {
            let p = p.0.map(f32::from);
            centres.iter().map(|c| dist(p, *c)).fold(f32::MAX, f32::min)
        })
        .collect();
    (out, w, h)
}

fn dist(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

fn kmeans(points: &[[f32; 3]], k: usize) -> Vec<[f32; 3]> {
    if points.is_empty() {
        return vec![[0.0; 3]];
    }
    let mut centres: Vec<[f32; 3]> = (0..k).map(|i| points[i * points.len() / k]).collect();
    for _ in 0..8 {
        let mut sums = vec![[0.0f32; 4]; k];
        for p in points {
            let best = (0..k)
                .min_by(|&a, &b| dist(*p, centres[a]).total_cmp(&dist(*p, centres[b])))
                .unwrap_or(0);
            for c in 0..3 {
                sums[best][c] += p[c];
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

/// The value below which `share` of `v` lies.
fn quantile(v: &[f32], share: f32) -> f32 {
    let mut sorted = v.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted[((sorted.len() - 1) as f32 * share) as usize]
}

/// The best separated region of a difference map, with its confidence.
fn best_region((score, w, h): &(Vec<f32>, u32, u32)) -> Option<Found> {
    let (w, h) = (*w, *h);
    // The background's own variation sets the bar: most of a frame is background.
    let threshold = (quantile(score, 0.5) * 3.0).max(MIN_CONTRAST);
    let raw = GrayImage::from_fn(w, h, |x, y| {
        Luma([if score[(y * w + x) as usize] > threshold {
            255
        } else {
            0
        }])
    });
    let radius = (w.max(h) / 160).max(1) as u8;
    let cleaned = open(&close(&raw, Norm::LInf, radius), Norm::LInf, 1);
    let labels = connected_components(&cleaned, Connectivity::Eight, Luma([0]));
    let mut regions: std::collections::BTreeMap<u32, Region> = Default::default();
    for (x, y, l) in labels.enumerate_pixels() {
        if l[0] != 0 {
            regions
                .entry(l[0])
                .or_insert_with(|| Region::new(x, y))
                .add(x, y, score[(y * w + x) as usize]);
        }
    }
    let total: u32 = regions.values().map(|r| r.area).sum();
    let (label, region) = regions
        .iter()
        .max_by(|a, b| a.1.rank(w, h).total_cmp(&b.1.rank(w, h)))?;
    let mask = filled(&labels, *label);
    let area: u32 = mask.pixels().filter(|p| p[0] != 0).count() as u32;
    let outside = mean_outside(score, &mask);
    let contrast = ((region.sum / region.area as f32 - outside) / threshold).clamp(0.0, 1.0);
    let share = region.area as f32 / total.max(1) as f32;
    let confidence = contrast * share.sqrt() * region.shape(w, h, area);
    Some(Found { mask, confidence })
}

fn mean_outside(score: &[f32], mask: &GrayImage) -> f32 {
    let (sum, n) = score
        .iter()
        .zip(mask.pixels())
        .filter(|(_, m)| m[0] == 0)
        .fold((0.0, 0u32), |(s, n), (v, _)| (s + v, n + 1));
    sum / n.max(1) as f32
}

/// The region labelled `label` with its holes filled: everything not reachable from the frame
/// border without crossing it.
fn filled(labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>, label: u32) -> GrayImage {
    let (w, h) = labels.dimensions();
    let inside = GrayImage::from_fn(w, h, |x, y| {
        Luma([if labels.get_pixel(x, y)[0] == label {
            0
        } else {
            255
        }])
    });
    let outer = connected_components(&inside, Connectivity::Four, Luma([0]));
    let mut touching = std::collections::BTreeSet::new();
    for x in 0..w {
        touching.insert(outer.get_pixel(x, 0)[0]);
        touching.insert(outer.get_pixel(x, h - 1)[0]);
    }
    for y in 0..h {
        touching.insert(outer.get_pixel(0, y)[0]);
        touching.insert(outer.get_pixel(w - 1, y)[0]);
    }
    GrayImage::from_fn(w, h, |x, y| {
        let l = outer.get_pixel(x, y)[0];
        Luma([if l != 0 && touching.contains(&l) {
            0
        } else {
            255
        }])
    })
}

struct Region {
    area: u32,
    sum: f32,
    x: (u32, u32),
    y: (u32, u32),
    cx: f64,
    cy: f64,
}

impl Region {
    fn new(x: u32, y: u32) -> Self {
        Self {
            area: 0,
            sum: 0.0,
            x: (x, x),
            y: (y, y),
            cx: 0.0,
            cy: 0.0,
        }
    }

    fn add(&mut self, x: u32, y: u32, score: f32) {
        self.area += 1;
        self.sum += score;
        self.x = (self.x.0.min(x), self.x.1.max(x));
        self.y = (self.y.0.min(y), self.y.1.max(y));
        self.cx += f64::from(x);
        self.cy += f64::from(y);
    }

    /// How subject-like the region is, from 0 (a sliver, a strip across the frame, a speck, or
    /// nearly the whole frame) to 1.
    fn shape(&self, w: u32, h: u32, filled_area: u32) -> f32 {
        let (bw, bh) = (self.x.1 - self.x.0 + 1, self.y.1 - self.y.0 + 1);
        let aspect = bw.max(bh) as f32 / bw.min(bh) as f32;
        let frame = (w * h) as f32;
        let area = filled_area as f32 / frame;
        let spans = bw * 20 >= w * 19 || bh * 20 >= h * 19;
        if aspect > 5.0 || !(0.003..=0.6).contains(&area) || (spans && area < 0.15) {
            return 0.0;
        }
        // A subject fills a good part of its box; scattered specks do not.
        let solidity = filled_area as f32 / (bw * bh) as f32;
        (solidity * 2.0).min(1.0)
    }

    /// Ranking among candidates: contrast and size, favouring compact regions near the centre.
    fn rank(&self, w: u32, h: u32) -> f32 {
        let n = self.area.max(1) as f64;
        let (dx, dy) = (
            (self.cx / n) / f64::from(w) - 0.5,
            (self.cy / n) / f64::from(h) - 0.5,
        );
        let centre = (1.0 - (dx * dx + dy * dy).sqrt()) as f32;
        let shape = self.shape(w, h, self.area).max(0.05);
        (self.sum / n as f32) * (n as f32).sqrt() * centre * shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32, seed: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed) % 97;
            image::Rgb([
                (80 + v + x / 4) as u8,
                (90 + v / 2 + y / 3) as u8,
                (70 + v) as u8,
            ])
        })
    }

    /// Smooth structure at a few scales, like a photograph (white noise has no shift to find).
    fn scenery(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let (x, y) = (x as f32, y as f32);
            let v = 60.0 * (x / 9.0).sin() * (y / 7.0).cos() + 40.0 * (x / 23.0 + y / 31.0).sin();
            image::Rgb([
                (128.0 + v) as u8,
                (120.0 - v / 2.0) as u8,
                (100.0 + x / 8.0) as u8,
            ])
        })
    }

    #[test]
    fn a_panning_camera_is_measured() {
        let world = scenery(400, 120);
        let frames: Vec<RgbImage> = (0..5)
            .map(|i| image::imageops::crop_imm(&world, i * 7, 10, 160, 90).to_image())
            .collect();
        let offsets = camera_offsets(&frames, 2);
        assert_eq!(offsets, vec![(14, 0), (7, 0), (0, 0), (-7, 0), (-14, 0)]);
    }

    #[test]
    fn a_box_moving_over_a_flat_background_leaves_the_camera_still() {
        let frame = |left: u32| {
            RgbImage::from_fn(160, 90, |x, y| {
                let inside = (left..left + 25).contains(&x) && (30..70).contains(&y);
                image::Rgb(if inside {
                    [255, 165, 0]
                } else {
                    [80, 128, 160]
                })
            })
        };
        let (a, b) = (gray(&frame(40)), gray(&frame(47)));
        assert_eq!(best_shift(&a, &b, 160, 90), (7, 0), "the box alone aligns");
        assert_eq!(shift_between(&a, &b, 160, 90), (0, 0));
    }

    #[test]
    fn a_still_clip_of_texture_has_no_subject() {
        let frames = vec![noise(160, 90, 3); 9];
        assert!(find_subject(&frames, 4).is_none());
    }
}
