//! The backdrop: everything behind the subjects, drawn once per clip at world size (or taken
//! from a still) and then only sampled through the camera on each frame.

use image::RgbImage;
use image::imageops::FilterType;
use tiny_skia::{PixmapMut, Transform};

use crate::camera::world_size;
use crate::interior::Surface;
use crate::landscape;
use crate::look::{Look, blend, sky_colours};
use crate::pen::Pen;
use crate::scene::{BackdropSource, Scene};
use crate::vocabulary::{Framing, Setting, Weather};

/// An RGB picture of the world plus the geometry the painter places subjects by.
#[derive(Debug, Clone)]
pub struct Backdrop {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    /// Horizon line in world pixels.
    pub horizon: f32,
    /// For indoor settings, the window (x, y, w, h in world pixels) weather is seen through.
    pub window: Option<[f32; 4]>,
    /// Rows (top, bottom) of open water in world pixels, where boats float.
    pub water: Option<[f32; 2]>,
    /// Furniture tops in world pixels, for subjects put on them.
    pub surfaces: Vec<Surface>,
}

/// Horizon height as a share of the world's height, by framing.
pub fn horizon_share(framing: Framing) -> f32 {
    match framing {
        Framing::Wide => 0.5,
        Framing::Medium => 0.55,
        Framing::CloseUp => 0.6,
        // The view shows world rows 0.115..0.885; 0.33 puts an aerial shot's horizon at 28 %
        // of the frame's height, in the upper third.
        Framing::Aerial => 0.33,
    }
}

pub fn is_indoor(setting: Setting) -> bool {
    matches!(setting, Setting::Kitchen | Setting::Office | Setting::Room)
}

/// Ground colours near the horizon and near the camera.
fn ground_colours(setting: Setting) -> ([u8; 3], [u8; 3]) {
    match setting {
        Setting::Beach | Setting::Desert => ([222, 196, 140], [236, 210, 160]),
        Setting::Forest => ([58, 92, 48], [84, 70, 44]),
        Setting::City => ([104, 106, 112], [72, 74, 80]),
        Setting::Mountains => ([110, 130, 90], [96, 120, 70]),
        Setting::Ocean => ([36, 92, 150], [24, 70, 128]),
        Setting::Space => ([120, 110, 130], [90, 80, 96]),
        Setting::Snowfield => ([226, 232, 242], [246, 248, 252]),
        Setting::Meadow | Setting::Lake => ([112, 170, 80], [86, 150, 60]),
        Setting::Farm => ([150, 168, 86], [130, 110, 62]),
        Setting::Kitchen => ([190, 170, 140], [160, 130, 100]),
        Setting::Office => ([120, 124, 140], [96, 100, 118]),
        Setting::Underwater => ([198, 182, 140], [170, 156, 116]),
        Setting::Lunar => ([150, 150, 156], [118, 118, 124]),
        Setting::Room => ([170, 136, 100], [146, 112, 80]),
        Setting::Stage => ([150, 150, 154], [112, 112, 118]),
    }
}

fn fill_rows(
    rgba: &mut [u8],
    width: u32,
    rows: std::ops::Range<u32>,
    colour: impl Fn(u32) -> [u8; 3],
) {
    let stride = width as usize * 4;
    for y in rows {
        let [r, g, b] = colour(y);
        let start = y as usize * stride;
        if let Some(row) = rgba.get_mut(start..start + stride) {
            for px in row.chunks_exact_mut(4) {
                px.copy_from_slice(&[r, g, b, 255]);
            }
        }
    }
}

impl Backdrop {
    /// Draws the procedural backdrop for `scene` at frame size `width`x`height`.
    pub fn procedural(scene: &Scene, width: u32, height: u32) -> Backdrop {
        let (ww, wh) = world_size(width, height, BackdropSource::Procedural);
        let look = Look::new(scene.time_of_day, scene.weather, scene.mood, scene.style);
        let horizon = wh as f32 * horizon_share(scene.framing);
        let h = horizon.round() as u32;
        let mut rgba = vec![0u8; ww as usize * wh as usize * 4];
        let (mut top, mut low) = sky_colours(scene.time_of_day);
        if matches!(
            scene.weather,
            Weather::Cloudy | Weather::Rain | Weather::Storm | Weather::Snow
        ) {
            top = blend(top, [120, 124, 132], 0.55);
            low = blend(low, [150, 154, 160], 0.5);
        }
        let (far, near) = ground_colours(scene.setting);
        let snowy = scene.weather == Weather::Snow && !is_indoor(scene.setting);
        let ground = |c: [u8; 3]| if snowy { landscape::snow_over(c) } else { c };
        let (far, near) = (ground(far), ground(near));
        match scene.setting {
            Setting::Space => fill_rows(&mut rgba, ww, 0..wh, |y| {
                look.glow(blend([4, 4, 14], [18, 12, 40], y as f32 / wh as f32))
            }),
            Setting::Lunar => {
                fill_rows(&mut rgba, ww, 0..h.min(wh), |y| {
                    look.glow(blend([2, 2, 8], [10, 10, 22], y as f32 / horizon))
                });
                fill_rows(&mut rgba, ww, h.min(wh)..wh, |y| {
                    let t = (y as f32 - horizon) / (wh as f32 - horizon).max(1.0);
                    look.surface(blend(far, near, t), 1.0 - t)
                });
            }
            // A studio cyclorama: a plain wall lit in the sky's colours of the time of day
            // (mostly neutral grey) that curves into the floor.
            Setting::Stage => {
                fill_rows(&mut rgba, ww, 0..h.min(wh), |y| {
                    let t = y as f32 / horizon;
                    let light = blend(blend(top, low, t), [188, 188, 192], 0.6);
                    look.surface(light, 0.2)
                });
                fill_rows(&mut rgba, ww, h.min(wh)..wh, |y| {
                    let t = (y as f32 - horizon) / (wh as f32 - horizon).max(1.0);
                    let wall = blend(blend(top, low, 1.0), [188, 188, 192], 0.6);
                    look.surface(
                        blend(blend(wall, far, (t * 4.0).min(1.0)), near, t),
                        1.0 - t,
                    )
                });
            }
            Setting::Underwater => fill_rows(&mut rgba, ww, 0..wh, |y| {
                look.surface(
                    blend([60, 170, 200], [8, 40, 90], y as f32 / wh as f32),
                    0.3,
                )
            }),
            _ => {
                fill_rows(&mut rgba, ww, 0..h.min(wh), |y| {
                    look.glow(blend(top, low, y as f32 / horizon))
                });
                if let Some(pixmap) = PixmapMut::from_bytes(&mut rgba, ww, wh) {
                    let mut pen = Pen::new(
                        pixmap,
                        Transform::from_scale(ww as f32, wh as f32),
                        &look,
                        1.0,
                    );
                    landscape::sky(&mut pen, scene, horizon / wh as f32, ww as f32 / wh as f32);
                }
                fill_rows(&mut rgba, ww, h.min(wh)..wh, |y| {
                    let t = (y as f32 - horizon) / (wh as f32 - horizon).max(1.0);
                    look.surface(blend(far, near, t), 1.0 - t)
                });
            }
        }
        let mut backdrop = Backdrop {
            width: ww,
            height: wh,
            rgb: Vec::new(),
            horizon,
            window: None,
            water: None,
            surfaces: Vec::new(),
        };
        if let Some(pixmap) = PixmapMut::from_bytes(&mut rgba, ww, wh) {
            let mut pen = Pen::new(
                pixmap,
                Transform::from_scale(ww as f32, wh as f32),
                &look,
                1.0,
            );
            let aspect = ww as f32 / wh as f32;
            let features =
                landscape::draw(&mut pen, scene, horizon / wh as f32, aspect, (top, low));
            let (fw, fh) = (ww as f32, wh as f32);
            backdrop.window = features
                .window
                .map(|[x, y, w, h]| [x * fw, y * fh, w * fw, h * fh]);
            backdrop.water = features.water.map(|[a, b]| [a * fh, b * fh]);
            backdrop.surfaces = features
                .surfaces
                .iter()
                .map(|s| Surface {
                    x0: s.x0 * fw,
                    x1: s.x1 * fw,
                    y: s.y * fh,
                    ..*s
                })
                .collect();
        }
        backdrop.rgb = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        backdrop
    }

    /// A still fitted to the frame: scaled to cover, then centre-cropped (docs/engine.md).
    pub fn still(image: &RgbImage, width: u32, height: u32) -> Backdrop {
        let fitted = fit_cover(image, width, height);
        Backdrop {
            width,
            height,
            rgb: fitted.into_raw(),
            horizon: height as f32 * 0.6,
            window: None,
            water: None,
            surfaces: Vec::new(),
        }
    }
}

/// Scale-to-cover then centre-crop, with a Lanczos filter; an image already the right size is
/// returned untouched, so the first frame is the image itself.
pub fn fit_cover(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (iw, ih) = image.dimensions();
    if (iw, ih) == (width, height) {
        return image.clone();
    }
    let scale = (width as f32 / iw as f32).max(height as f32 / ih as f32);
    let sw = ((iw as f32 * scale).ceil() as u32).max(width);
    let sh = ((ih as f32 * scale).ceil() as u32).max(height);
    let scaled = image::imageops::resize(image, sw, sh, FilterType::Lanczos3);
    image::imageops::crop_imm(&scaled, (sw - width) / 2, (sh - height) / 2, width, height)
        .to_image()
}
