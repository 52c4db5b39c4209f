//! Indoor settings: a wall with a window onto the sky (weather is seen through it) and the
//! setting's furniture, whose tops are reported so a resting subject can be put on them.

use crate::landscape::{Ctx, sky_details};
use crate::look::blend;
use crate::pen::Pen;
use crate::scene::Scene;
use crate::vocabulary::{Setting, Support};

/// The flat top of a piece of furniture, in world fractions: it spans `x0..x1` at row `y`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Surface {
    pub support: Support,
    pub x0: f32,
    pub x1: f32,
    pub y: f32,
}

/// A drawn room: its window (x, y, w, h) and its furniture tops.
pub struct Room {
    pub window: [f32; 4],
    pub surfaces: Vec<Surface>,
}

/// Draws the room of `scene`'s indoor setting.
pub fn room(pen: &mut Pen<'_>, c: &mut Ctx, scene: &Scene, sky: ([u8; 3], [u8; 3])) -> Room {
    let h = c.h;
    let wall = match scene.setting {
        Setting::Kitchen => [236, 222, 190],
        Setting::Room => [222, 204, 178],
        _ => [198, 206, 214],
    };
    pen.set_distance(0.5);
    pen.rect(0.0, 0.0, 1.0, h, pen.ink(wall));
    let window = [c.r(0.12, 0.5), h * 0.18, 0.3, h * 0.55];
    let [wx, wy, ww, wh] = window;
    for k in 0..8 {
        let t = k as f32 / 8.0;
        pen.rect(
            wx,
            wy + wh * t,
            ww,
            wh / 8.0 + 0.002,
            pen.glow(blend(sky.0, sky.1, t)),
        );
    }
    sky_details(pen, c, scene, [wx, wy, wx + ww, wy + wh]);
    let frame = pen.ink([246, 246, 246]);
    for (x, y, w, hh) in [
        (wx, wy, ww, 0.012),
        (wx, wy + wh - 0.012, ww, 0.012),
        (wx, wy, 0.008, wh),
        (wx + ww - 0.008, wy, 0.008, wh),
        (wx + ww / 2.0 - 0.004, wy, 0.008, wh),
    ] {
        pen.rect(x, y, w, hh, frame);
    }
    let mut surfaces = Vec::new();
    if scene.setting == Setting::Kitchen {
        let tile = Pen::faded(pen.ink([255, 255, 255]), 0.35);
        let mut y = h - 0.12;
        while y < h {
            pen.rect(0.0, y, 1.0, 0.003, tile);
            y += 0.03;
        }
        pen.rect(0.0, h - 0.01, 1.0, 0.03, pen.ink([90, 90, 96]));
        surfaces.push(Surface {
            support: Support::Table,
            x0: 0.0,
            x1: 1.0,
            y: h - 0.01,
        });
        pen.rect(0.0, h + 0.02, 1.0, 0.2, pen.ink([186, 150, 110]));
        let mut x = 0.02;
        while x < 1.0 {
            pen.rect(x, h + 0.04, 0.1, 0.16, pen.ink([206, 170, 128]));
            pen.rect(x + 0.08, h + 0.1, 0.01, 0.03, pen.ink([80, 80, 80]));
            x += 0.12;
        }
        pen.rect(0.6, 0.08, 0.3, 0.14, pen.ink([206, 170, 128]));
    } else if scene.setting == Setting::Room {
        // A sill under the window, a sofa and a lamp: a lived-in room.
        pen.rect(
            wx - 0.02,
            wy + wh,
            ww + 0.04,
            0.025,
            pen.ink([246, 240, 230]),
        );
        pen.rect(
            wx - 0.01,
            wy + wh + 0.025,
            ww + 0.02,
            0.01,
            pen.ink([200, 190, 176]),
        );
        surfaces.push(Surface {
            support: Support::Sill,
            x0: wx - 0.02,
            x1: wx + ww + 0.02,
            y: wy + wh,
        });
        let x = if wx > 0.5 { 0.08 } else { 0.62 };
        pen.rect(x, h - 0.16, 0.3, 0.1, pen.ink([150, 70, 60]));
        pen.rect(x - 0.02, h - 0.12, 0.34, 0.13, pen.ink([170, 82, 70]));
        // Whoever rests on the sofa sits on its seat, in front of the back.
        surfaces.push(Surface {
            support: Support::Sofa,
            x0: x - 0.02,
            x1: x + 0.32,
            y: h - 0.1,
        });
        pen.rect(x + 0.36, h - 0.3, 0.006, 0.3, pen.ink([60, 60, 60]));
        pen.poly(
            &[
                (x + 0.34, h - 0.3),
                (x + 0.385, h - 0.3),
                (x + 0.375, h - 0.36),
                (x + 0.35, h - 0.36),
            ],
            pen.glow([250, 230, 180]),
        );
        pen.rect(0.0, h - 0.005, 1.0, 0.012, pen.ink([120, 90, 64]));
    } else {
        let x = if wx > 0.5 { 0.1 } else { 0.7 };
        pen.rect(x, h - 0.5, 0.18, 0.5, pen.ink([120, 84, 56]));
        for k in 0..4 {
            let y = h - 0.48 + k as f32 * 0.12;
            for b in 0..6 {
                let tone =
                    [[180, 60, 50], [50, 90, 160], [220, 180, 60], [70, 140, 90]][(b + k) % 4];
                pen.rect(x + 0.01 + b as f32 * 0.027, y, 0.022, 0.1, pen.ink(tone));
            }
        }
        pen.rect(0.0, h + 0.12, 1.0, 0.03, pen.ink([150, 120, 90]));
        surfaces.push(Surface {
            support: Support::Table,
            x0: 0.0,
            x1: 1.0,
            y: h + 0.12,
        });
        pen.rect(0.05, h + 0.15, 0.02, 0.2, pen.ink([120, 96, 70]));
        pen.rect(0.93, h + 0.15, 0.02, 0.2, pen.ink([120, 96, 70]));
    }
    Room { window, surfaces }
}
