//! Character extraction on synthetic clips whose true mask is known: a textured subject over a
//! photographic (multi-octave noise and gradient) background, with a still and a panning
//! camera, a still subject on a plain background, and a flat box moving over a flat one. The
//! cutout's alpha must match the mask (IoU ≥ 0.8); a clip with no subject is refused.

use std::path::Path;

use kinora_media::RgbFrame;

use super::kit::synthetic_clip;
use crate::{FPS, RenderError, extract_character};

const W: u32 = 320;
const H: u32 = 180;
const FRAMES: u32 = 2 * FPS;

fn hash(x: i64, y: i64, seed: u64) -> f32 {
    let mut v = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ seed.wrapping_mul(0x1656_67B1_9E37_79F9);
    v ^= v >> 29;
    v = v.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    v ^= v >> 32;
    (v % 10_000) as f32 / 10_000.0
}

/// Smoothly interpolated lattice noise in [0, 1).
fn noise(x: f32, y: f32, cell: f32, seed: u64) -> f32 {
    let (fx, fy) = (x / cell, y / cell);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - x0, fy - y0);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let (x0, y0) = (x0 as i64, y0 as i64);
    let top = hash(x0, y0, seed) * (1.0 - sx) + hash(x0 + 1, y0, seed) * sx;
    let bottom = hash(x0, y0 + 1, seed) * (1.0 - sx) + hash(x0 + 1, y0 + 1, seed) * sx;
    top * (1.0 - sy) + bottom * sy
}

/// A photograph-like scene: a gradient with structure at several scales.
fn photo(x: f32, y: f32) -> [u8; 3] {
    let mut px = [0u8; 3];
    for (c, out) in px.iter_mut().enumerate() {
        let seed = c as u64 * 7 + 1;
        let v = [90.0, 120.0, 140.0][c]
            + [50.0, 20.0, -40.0][c] * (y / H as f32)
            + 70.0 * (noise(x, y, 48.0, seed) - 0.5)
            + 40.0 * (noise(x, y, 11.0, seed + 3) - 0.5)
            + 16.0 * (noise(x, y, 3.0, seed + 5) - 0.5);
        *out = v.clamp(0.0, 255.0) as u8;
    }
    px
}

fn plain(_: f32, y: f32) -> [u8; 3] {
    let t = y / H as f32;
    [(170.0 + 30.0 * t) as u8, (180.0 + 20.0 * t) as u8, 190]
}

/// The subject: a striped, speckled ellipse centred on `(cx, cy)`.
fn subject_at(x: f32, y: f32, (cx, cy): (f32, f32)) -> Option<[u8; 3]> {
    let (dx, dy) = ((x - cx) / 26.0, (y - cy) / 40.0);
    if dx * dx + dy * dy > 1.0 {
        return None;
    }
    let (lx, ly) = (x - cx, y - cy);
    let stripe = ((lx + ly + 200.0) / 7.0) as i32 % 2 == 0;
    let speck = 30.0 * (noise(lx + 100.0, ly + 100.0, 2.0, 99) - 0.5);
    let base = if stripe {
        [235.0, 110.0, 30.0]
    } else {
        [150.0, 30.0, 170.0]
    };
    Some(base.map(|v: f32| (v + speck).clamp(0.0, 255.0) as u8))
}

/// A flat orange box 50x80 centred on `(cx, cy)`: nothing inside it to track.
fn flat_box(x: f32, y: f32, (cx, cy): (f32, f32)) -> Option<[u8; 3]> {
    ((x - cx).abs() < 25.0 && (y - cy).abs() < 40.0).then_some([255, 165, 0])
}

fn flat_blue(_: f32, _: f32) -> [u8; 3] {
    [0x50, 0x80, 0xa0]
}

/// Flat blue with a small flat yellow disc: the only still thing a camera estimate could hold on
/// to, smaller than the box.
fn flat_blue_with_a_sun(x: f32, y: f32) -> [u8; 3] {
    if (x - 270.0).powi(2) + (y - 36.0).powi(2) < 14.0 * 14.0 {
        [250, 220, 60]
    } else {
        flat_blue(x, y)
    }
}

/// A clip: `camera(n)` is the view's left edge in the scene, `subject(n)` the subject's centre
/// in the frame (none: no subject), drawn by `look`. Returns the clip and the true mask of
/// frame `n`.
struct Case {
    background: fn(f32, f32) -> [u8; 3],
    camera: fn(u32) -> f32,
    subject: Option<fn(u32) -> (f32, f32)>,
    look: Look,
}

/// The subject's colour at a point, given its centre; `None` outside it.
type Look = fn(f32, f32, (f32, f32)) -> Option<[u8; 3]>;

impl Case {
    fn draw(&self, n: u32, frame: &mut RgbFrame) {
        let ox = (self.camera)(n);
        for y in 0..H {
            for x in 0..W {
                let (fx, fy) = (x as f32, y as f32);
                let px = self
                    .subject
                    .and_then(|s| (self.look)(fx, fy, s(n)))
                    .unwrap_or_else(|| (self.background)(fx + ox, fy));
                let i = ((y * W + x) * 3) as usize;
                frame.data[i..i + 3].copy_from_slice(&px);
            }
        }
    }

    fn mask(&self, n: u32) -> Vec<bool> {
        let s = self.subject.expect("a subject");
        (0..W * H)
            .map(|i| (self.look)((i % W) as f32, (i / W) as f32, s(n)).is_some())
            .collect()
    }

    fn clip(&self, dir: &Path) -> std::path::PathBuf {
        synthetic_clip(&dir.join("clip.mp4"), W, H, FRAMES, |n, f| self.draw(n, f))
    }
}

fn iou(alpha: &[bool], truth: &[bool]) -> f64 {
    let both = alpha.iter().zip(truth).filter(|(a, t)| **a && **t).count();
    let either = alpha.iter().zip(truth).filter(|(a, t)| **a || **t).count();
    both as f64 / either.max(1) as f64
}

fn assert_found(case: &Case, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let clip = case.clip(dir.path());
    let out = dir.path().join("character");
    let info = extract_character(&clip, "Blob", &out).expect(what);
    let cutout = image::open(out.join("cutout.png")).unwrap().to_rgba8();
    assert_eq!(cutout.dimensions(), (W, H), "{what}: full-frame cutout");
    let frame = image::open(out.join("frame.png")).unwrap();
    assert_eq!((frame.width(), frame.height()), (W, H));
    let key = (info.frame_seconds * f64::from(FPS)).round() as u32;
    let alpha: Vec<bool> = cutout.pixels().map(|p| p[3] > 127).collect();
    let score = iou(&alpha, &case.mask(key));
    assert!(score >= 0.8, "{what}: IoU {score:.3} ({info:?})");
    let [x, y, w, h] = info.bbox;
    assert!(
        x + w <= W && y + h <= H && w > 0 && h > 0,
        "{what}: bbox {:?}",
        info.bbox
    );
    assert!((0.0..=1.0).contains(&info.confidence), "{what}: {info:?}");
}

#[test]
fn a_moving_subject_over_a_photographic_background_is_cut_out() {
    assert_found(
        &Case {
            background: photo,
            camera: |_| 0.0,
            subject: Some(|n| (50.0 + 4.5 * n as f32, 95.0 + 6.0 * (n as f32 / 5.0).sin())),
            look: subject_at,
        },
        "still camera",
    );
}

#[test]
fn a_subject_followed_by_a_panning_camera_is_cut_out() {
    assert_found(
        &Case {
            background: photo,
            camera: |n| 5.0 * n as f32,
            subject: Some(|n| (150.0 + n as f32, 90.0)),
            look: subject_at,
        },
        "panning camera",
    );
}

#[test]
fn a_still_subject_on_a_plain_background_is_cut_out() {
    assert_found(
        &Case {
            background: plain,
            camera: |_| 0.0,
            subject: Some(|_| (170.0, 96.0)),
            look: subject_at,
        },
        "still subject",
    );
}

#[test]
fn a_clip_without_a_subject_is_refused() {
    type Camera = fn(u32) -> f32;
    let cameras: [(Camera, &str); 2] = [(|_| 0.0, "still"), (|n| 5.0 * n as f32, "panning")];
    for (camera, what) in cameras {
        let case = Case {
            background: photo,
            camera,
            subject: None,
            look: subject_at,
        };
        let dir = tempfile::tempdir().unwrap();
        let clip = case.clip(dir.path());
        let got = extract_character(&clip, "Nobody", &dir.path().join("c"));
        assert!(
            matches!(got, Err(RenderError::SubjectNotFound)),
            "{what}: {got:?}"
        );
    }
}

/// Nothing on a flat background shows how the camera moves, so the box is all a camera estimate
/// can hold on to: followed, the box would vanish into the background it was aligned to, and
/// the still sun would seem to move instead.
#[test]
fn a_flat_box_moving_over_a_flat_background_is_cut_out() {
    type Background = fn(f32, f32) -> [u8; 3];
    let backgrounds: [(Background, &str); 2] = [
        (flat_blue, "flat box"),
        (flat_blue_with_a_sun, "flat box under a flat sun"),
    ];
    for (background, what) in backgrounds {
        assert_found(
            &Case {
                background,
                camera: |_| 0.0,
                subject: Some(|n| (60.0 + 4.0 * n as f32, 110.0)),
                look: flat_box,
            },
            what,
        );
    }
}
