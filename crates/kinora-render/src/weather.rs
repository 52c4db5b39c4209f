//! Weather drawn over each frame: rain streaks, snowflakes, wind-blown leaves, bubbles under
//! water, and lightning flashes. Every particle's path is a pure function of its index and the
//! time, so any frame can be drawn on its own and extensions continue the same particles.

use crate::raster::{blend_pixel, flash};
use crate::vocabulary::Weather;

/// The stateless hash behind particle paths.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A float in 0..1 from `seed` and `i`.
pub fn unit(seed: u64, i: u64) -> f32 {
    (mix64(seed ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d)) >> 40) as f32 / (1u64 << 24) as f32
}

/// What the overlay draws into: an RGB frame and the part of it weather may touch.
pub struct Canvas<'a> {
    pub rgb: &'a mut [u8],
    pub width: u32,
    pub height: u32,
    /// x0, y0, x1, y1 in pixels.
    pub clip: [i32; 4],
}

impl Canvas<'_> {
    fn dot(&mut self, x: i32, y: i32, rgb: [u8; 3], a: u32) {
        let [x0, y0, x1, y1] = self.clip;
        if x >= x0 && x < x1 && y >= y0 && y < y1 {
            blend_pixel(self.rgb, self.width, self.height, x, y, rgb, a);
        }
    }

    fn disc(&mut self, cx: f32, cy: f32, r: f32, rgb: [u8; 3], a: u32) {
        let ri = r.ceil() as i32;
        for dy in -ri..=ri {
            for dx in -ri..=ri {
                let d = ((dx * dx + dy * dy) as f32).sqrt();
                if d <= r + 0.5 {
                    let edge = (r + 0.5 - d).min(1.0);
                    self.dot(
                        cx as i32 + dx,
                        cy as i32 + dy,
                        rgb,
                        (a as f32 * edge) as u32,
                    );
                }
            }
        }
    }
}

/// Draws `weather` at `time` seconds with `intensity` 0..1 (it ramps in on stills and when an
/// extension brings new weather).
pub fn overlay(
    canvas: &mut Canvas<'_>,
    weather: Weather,
    underwater: bool,
    time: f32,
    intensity: f32,
    seed: u64,
) {
    let (w, h) = (canvas.width as f32, canvas.height as f32);
    let px = h / 720.0;
    if underwater {
        for i in 0..30u64 {
            let x = unit(seed, i) * w + 6.0 * px * (time * 2.0 + i as f32).sin();
            let y = h
                * (1.1
                    - (unit(seed, i + 99) + time * 0.12 * (0.6 + unit(seed, i + 7))).fract() * 1.2);
            canvas.disc(
                x,
                y,
                (2.0 + 3.0 * unit(seed, i + 3)) * px,
                [220, 240, 255],
                110,
            );
        }
    }
    match weather {
        Weather::Rain | Weather::Storm => {
            let storm = weather == Weather::Storm;
            let n = (w * h / if storm { 1500.0 } else { 2600.0 } * intensity) as u64;
            let slant = if storm { 0.3 } else { 0.12 };
            let len = 0.04 * h;
            for i in 0..n {
                let speed = 1.4 + 0.6 * unit(seed, i + 5000);
                let y = ((unit(seed, i + 9000) + time * speed).fract() * 1.2 - 0.1) * h;
                let x = unit(seed, i) * (w + len) - slant * y;
                let steps = len as i32;
                for s in 0..steps {
                    let yy = y + s as f32;
                    canvas.dot((x + slant * yy) as i32, yy as i32, [200, 208, 222], 90);
                }
            }
            if storm {
                let amount = lightning(time, seed);
                if amount > 0.0 {
                    flash(canvas.rgb, amount * intensity);
                }
            }
        }
        Weather::Snow => {
            let n = (w * h / 4500.0 * intensity) as u64;
            for i in 0..n {
                let fall = 0.08 + 0.08 * unit(seed, i + 5000);
                let y = ((unit(seed, i + 9000) + time * fall).fract() * 1.1 - 0.05) * h;
                let x = unit(seed, i) * w + 12.0 * px * (time * 1.3 + i as f32).sin();
                let r = (1.0 + 2.2 * unit(seed, i + 77)) * px;
                canvas.disc(x, y, r, [250, 252, 255], 220);
            }
        }
        Weather::Wind => {
            let n = (60.0 * intensity) as u64;
            for i in 0..n {
                let x = ((unit(seed, i) + time * (0.35 + 0.2 * unit(seed, i + 1))).fract() * 1.2
                    - 0.1)
                    * w;
                let y = unit(seed, i + 2) * h + 20.0 * px * (time * 3.0 + i as f32).sin();
                let leaf = if i % 2 == 0 {
                    [170, 120, 40]
                } else {
                    [90, 150, 60]
                };
                canvas.disc(x, y, 2.5 * px, leaf, 230);
                canvas.disc(x + 2.0 * px, y, 2.0 * px, leaf, 230);
            }
        }
        Weather::Clear | Weather::Cloudy | Weather::Fog => {}
    }
}

/// Brightness of a lightning flash at `time` (0 most of the time): one strike somewhere in
/// every 3-second window, lit for a fifth of a second with a flicker.
pub fn lightning(time: f32, seed: u64) -> f32 {
    let window = (time / 3.0).floor();
    let strike = window * 3.0 + 0.3 + 2.2 * unit(seed, window as u64 + 40_000);
    let since = time - strike;
    if (0.0..0.2).contains(&since) {
        if !(0.06..=0.12).contains(&since) {
            0.55
        } else {
            0.2
        }
    } else {
        0.0
    }
}

/// Seconds from the start of each strike's window to its thunder, for the audio.
pub fn thunder_at(window: u64, seed: u64) -> f32 {
    window as f32 * 3.0 + 0.3 + 2.2 * unit(seed, window + 40_000) + 0.4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storms_flash_sometimes() {
        let lit = (0..24 * 9)
            .filter(|f| lightning(*f as f32 / 24.0, 3) > 0.0)
            .count();
        assert!(lit > 0 && lit < 24);
    }

    #[test]
    fn rain_changes_pixels_only_in_clip() {
        let n = 200;
        let mut rgb = vec![0u8; n * n * 3];
        let mut canvas = Canvas {
            rgb: &mut rgb,
            width: n as u32,
            height: n as u32,
            clip: [0, 0, 100, n as i32],
        };
        overlay(&mut canvas, Weather::Rain, false, 1.0, 1.0, 9);
        let touched = |xs: std::ops::Range<usize>| {
            (0..n).any(|y| xs.clone().any(|x| rgb[(y * n + x) * 3] != 0))
        };
        assert!(touched(0..100) && !touched(100..n));
    }
}
