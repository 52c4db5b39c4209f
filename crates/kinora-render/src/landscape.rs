//! The features of each setting drawn over the sky and ground gradients, in world fractions
//! (x and y from 0 to 1). Layout details come from the seed and the setting, never the prompt,
//! so an edit that changes the weather keeps every building and hill where it was.

use rand_chacha::ChaCha8Rng;

use crate::interior::{self, Surface};
use crate::look::blend;
use crate::pen::Pen;
use crate::scene::{Scene, rng, uniform};
use crate::vocabulary::{Framing, Setting, TimeOfDay, Weather};

pub(crate) struct Ctx {
    pub h: f32,
    aspect: f32,
    rng: ChaCha8Rng,
    night: bool,
    /// Snow lies on the land: hills turn white and flowers are under it.
    snow: bool,
    /// Height of relief above the horizon: 1, or 0.5 seen from the air.
    relief: f32,
}

impl Ctx {
    pub fn r(&mut self, lo: f32, hi: f32) -> f32 {
        uniform(&mut self.rng, lo, hi)
    }
}

fn ctx(scene: &Scene, h: f32, aspect: f32, stream: u64) -> Ctx {
    Ctx {
        h,
        aspect,
        rng: rng(scene.seed, scene.setting.name(), stream),
        night: scene.time_of_day == TimeOfDay::Night,
        snow: scene.weather == Weather::Snow,
        relief: if scene.framing == Framing::Aerial {
            0.5
        } else {
            1.0
        },
    }
}

/// Draws stars, the low sun's glow and clouds over an open sky (before the ground covers
/// whatever reaches below the horizon).
pub fn sky(pen: &mut Pen<'_>, scene: &Scene, h: f32, aspect: f32) {
    if !matches!(
        scene.setting,
        Setting::Kitchen
            | Setting::Office
            | Setting::Room
            | Setting::Underwater
            | Setting::Space
            | Setting::Lunar
            | Setting::Stage
    ) {
        sky_details(
            pen,
            &mut ctx(scene, h, aspect, 3),
            scene,
            [0.0, 0.0, 1.0, 1.0],
        );
    }
}

/// What the painter needs to know of a drawn setting, in world fractions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Indoors, the window (x, y, w, h) weather is seen through.
    pub window: Option<[f32; 4]>,
    /// The rows (top, bottom) of open water, where boats float.
    pub water: Option<[f32; 2]>,
    /// The furniture tops a resting subject can be put on.
    pub surfaces: Vec<Surface>,
}

/// Draws the setting's features and says where its window, water and furniture are.
pub fn draw(
    pen: &mut Pen<'_>,
    scene: &Scene,
    h: f32,
    aspect: f32,
    sky: ([u8; 3], [u8; 3]),
) -> Features {
    let mut c = ctx(scene, h, aspect, 2);
    let mut features = Features::default();
    match scene.setting {
        Setting::Beach => {
            sea(pen, &mut c, h, h + 0.12);
            features.water = Some([h, h + 0.12]);
        }
        Setting::Ocean => {
            sea(pen, &mut c, h, 1.0);
            features.water = Some([h, 1.0]);
        }
        Setting::Lake => {
            hills(pen, &mut c, [44, 96, 58], 0.06, 5);
            sea(pen, &mut c, h, h + 0.14);
            features.water = Some([h, h + 0.14]);
        }
        Setting::Forest => {
            for layer in 0..2 {
                let shade = if layer == 0 {
                    [40, 84, 52]
                } else {
                    [30, 70, 40]
                };
                pen.set_distance(1.0 - layer as f32 * 0.4);
                let n = 26 + layer * 8;
                for i in 0..n {
                    let x = (i as f32 + c.r(0.0, 0.8)) / n as f32;
                    let tall = c.r(0.12, 0.26) * (1.0 + layer as f32 * 0.3);
                    let w = tall * 0.35 / aspect;
                    let base = h + layer as f32 * 0.03;
                    pen.poly(
                        &[(x - w, base), (x, base - tall), (x + w, base)],
                        pen.ink(shade),
                    );
                }
            }
        }
        Setting::City => {
            for layer in 0..2 {
                pen.set_distance(1.0 - layer as f32 * 0.4);
                let mut x = c.r(-0.02, 0.0);
                while x < 1.0 {
                    let w = c.r(0.035, 0.07);
                    let tall = c.r(0.12, 0.38) * (1.0 - layer as f32 * 0.35);
                    let tone = if layer == 0 {
                        [96, 104, 124]
                    } else {
                        [70, 76, 92]
                    };
                    pen.rect(x, h - tall, w, tall, pen.ink(tone));
                    let lit = if c.night {
                        pen.glow([255, 214, 120])
                    } else {
                        pen.ink([160, 186, 210])
                    };
                    for row in 0..((tall / 0.03) as usize) {
                        for col in 0..3 {
                            if c.r(0.0, 1.0) < if c.night { 0.55 } else { 0.8 } {
                                pen.rect(
                                    x + w * (0.12 + col as f32 * 0.3),
                                    h - tall + 0.012 + row as f32 * 0.03,
                                    w * 0.18,
                                    0.014,
                                    lit,
                                );
                            }
                        }
                    }
                    x += w + c.r(0.0, 0.015);
                }
            }
            pen.set_distance(0.4);
            pen.rect(0.0, h, 1.0, 0.025, pen.ink([150, 150, 150]));
            let lane = pen.ink([230, 220, 160]);
            let y = h + (1.0 - h) * 0.55;
            let mut x = 0.0;
            while x < 1.0 {
                pen.rect(x, y, 0.04, 0.008, lane);
                x += 0.08;
            }
        }
        Setting::Desert => {
            pen.set_distance(1.0);
            let mesa = pen.ink([196, 120, 80]);
            let x = c.r(0.1, 0.6);
            pen.poly(
                &[
                    (x, h),
                    (x + 0.03, h - 0.1),
                    (x + 0.16, h - 0.1),
                    (x + 0.2, h),
                ],
                mesa,
            );
            hills(pen, &mut c, [226, 186, 120], 0.05, 4);
        }
        Setting::Mountains => {
            for layer in 0..2 {
                pen.set_distance(1.0 - layer as f32 * 0.3);
                let tone = if layer == 0 {
                    [120, 132, 160]
                } else {
                    [86, 98, 118]
                };
                let n = 5 + layer;
                for i in 0..n {
                    let x = (i as f32 + c.r(0.0, 0.6)) / n as f32;
                    // From the air the peaks stand lower, so they stay whole under a high
                    // horizon.
                    let tall = c.r(0.2, 0.4) * (1.0 - layer as f32 * 0.35) * c.relief;
                    let w = tall * 1.1 / aspect;
                    pen.poly(&[(x - w, h), (x, h - tall), (x + w, h)], pen.ink(tone));
                    let cap = tall * 0.3;
                    pen.poly(
                        &[
                            (x - w * 0.3, h - tall + cap),
                            (x, h - tall),
                            (x + w * 0.3, h - tall + cap),
                        ],
                        pen.ink([240, 244, 250]),
                    );
                }
            }
        }
        Setting::Snowfield => hills(pen, &mut c, [232, 238, 248], 0.07, 4),
        Setting::Meadow => {
            hills(pen, &mut c, [92, 160, 72], 0.08, 4);
            flowers(pen, &mut c, 60);
        }
        Setting::Farm => {
            hills(pen, &mut c, [120, 170, 80], 0.06, 3);
            pen.set_distance(0.8);
            let x = c.r(0.15, 0.7);
            let barn = pen.ink([170, 44, 38]);
            pen.rect(x, h - 0.12, 0.1, 0.12, barn);
            pen.poly(
                &[
                    (x - 0.01, h - 0.12),
                    (x + 0.05, h - 0.18),
                    (x + 0.11, h - 0.12),
                ],
                barn,
            );
            pen.rect(x + 0.035, h - 0.06, 0.03, 0.06, pen.ink([240, 240, 240]));
            let fence = pen.ink([150, 110, 70]);
            let y = h + 0.06;
            pen.rect(0.0, y, 1.0, 0.006, fence);
            let mut fx = 0.0;
            while fx < 1.0 {
                pen.rect(fx, y - 0.02, 0.004, 0.035, fence);
                fx += 0.025;
            }
        }
        Setting::Space => {
            stars(pen, &mut c, [0.0, 0.0, 1.0, 1.0], 400);
            pen.set_distance(0.6);
            pen.ellipse(
                0.5,
                1.0 + 0.6 * aspect - (1.0 - h),
                0.9,
                0.6 * aspect,
                pen.ink([140, 120, 150]),
            );
            let px = c.r(0.15, 0.85);
            pen.ellipse(px, 0.22, 0.05, 0.05 * aspect, pen.glow([220, 150, 90]));
            pen.ellipse(
                px,
                0.22,
                0.09,
                0.012 * aspect,
                Pen::faded(pen.glow([240, 210, 170]), 0.6),
            );
        }
        Setting::Underwater => {
            let ray = Pen::faded(pen.glow([220, 250, 255]), 0.12);
            for _ in 0..6 {
                let x = c.r(0.0, 1.0);
                pen.poly(
                    &[(x, 0.0), (x + 0.04, 0.0), (x + 0.16, 1.0), (x + 0.08, 1.0)],
                    ray,
                );
            }
            pen.set_distance(0.4);
            pen.rect(0.0, 0.9, 1.0, 0.1, pen.ink([198, 182, 140]));
            for _ in 0..10 {
                let x = c.r(0.0, 1.0);
                let tall = c.r(0.08, 0.2);
                let weed = pen.ink([40, 140, 90]);
                pen.line(
                    &[
                        (x, 0.92),
                        (x + 0.01, 0.92 - tall * 0.5),
                        (x - 0.005, 0.92 - tall),
                    ],
                    0.006,
                    weed,
                );
                pen.ellipse(
                    x + 0.03,
                    0.92,
                    0.02,
                    0.02 * aspect,
                    pen.ink([240, 110, 120]),
                );
            }
        }
        Setting::Lunar => lunar(pen, &mut c),
        Setting::Stage => {}
        Setting::Kitchen | Setting::Office | Setting::Room => {
            let room = interior::room(pen, &mut c, scene, sky);
            features.window = Some(room.window);
            features.surfaces = room.surfaces;
        }
    }
    features
}

/// Sky features inside `area` (x0, y0, x1, y1 in world fractions).
pub(crate) fn sky_details(pen: &mut Pen<'_>, c: &mut Ctx, scene: &Scene, area: [f32; 4]) {
    let [left, top, right, bottom] = area;
    let span = (c.h - top).min(bottom - top);
    let width = right - left;
    pen.set_distance(1.0);
    if c.night && matches!(scene.weather, Weather::Clear | Weather::Wind) {
        stars(
            pen,
            c,
            [left, top, right, top + span * 0.9],
            (220.0 * width) as usize,
        );
    }
    match scene.time_of_day {
        TimeOfDay::Dawn | TimeOfDay::Dusk => {
            let x = left + width * c.r(0.25, 0.75);
            let glow = Pen::faded(pen.glow([255, 200, 120]), 0.3);
            pen.ellipse(x, top + span, 0.13 * width, 0.13 * width * c.aspect, glow);
            pen.ellipse(
                x,
                top + span,
                0.045 * width,
                0.045 * width * c.aspect,
                pen.glow([255, 226, 160]),
            );
        }
        TimeOfDay::Day | TimeOfDay::Night => {}
    }
    let (n, tone, alpha) = match scene.weather {
        Weather::Clear => (3, [250, 250, 252], 0.8),
        Weather::Wind | Weather::Fog => (5, [236, 238, 242], 0.8),
        Weather::Cloudy | Weather::Snow => (10, [200, 204, 212], 0.9),
        Weather::Rain => (12, [130, 134, 144], 0.95),
        Weather::Storm => (14, [80, 82, 92], 0.95),
    };
    let ink = Pen::faded(pen.glow(tone), alpha);
    for _ in 0..(n as f32 * width).ceil() as usize {
        let w = c.r(0.04, 0.09) * width.max(0.3);
        let x = c.r(left + 1.6 * w, (right - 1.6 * w).max(left + 1.6 * w));
        let y = top + c.r(0.1, 0.6) * span;
        for k in 0..4 {
            let dx = (k as f32 - 1.5) * w * 0.6;
            pen.ellipse(
                x + dx,
                y + c.r(-0.01, 0.01),
                w * 0.7,
                w * 0.35 * c.aspect,
                ink,
            );
        }
    }
}

fn stars(pen: &mut Pen<'_>, c: &mut Ctx, area: [f32; 4], n: usize) {
    let [left, top, right, bottom] = area;
    for _ in 0..n {
        let x = c.r(left, right);
        let y = c.r(top, bottom);
        let r = c.r(0.0006, 0.0016);
        let ink = Pen::faded(pen.glow([255, 255, 240]), c.r(0.5, 1.0));
        pen.ellipse(x, y, r, r * c.aspect, ink);
    }
}

fn hills(pen: &mut Pen<'_>, c: &mut Ctx, tone: [u8; 3], height: f32, n: usize) {
    pen.set_distance(0.9);
    let tone = if c.snow { snow_over(tone) } else { tone };
    for i in 0..n {
        let x = (i as f32 + c.r(0.0, 1.0)) / n as f32;
        let w = c.r(0.25, 0.45);
        let t = c.r(0.6, 1.0) * height;
        pen.ellipse(
            x,
            c.h,
            w,
            t,
            pen.ink(blend(tone, [0, 0, 0], c.r(0.0, 0.15))),
        );
    }
}

fn sea(pen: &mut Pen<'_>, c: &mut Ctx, from: f32, to: f32) {
    pen.set_distance(0.8);
    pen.rect(0.0, from, 1.0, to - from, pen.ink([40, 110, 170]));
    let foam = Pen::faded(pen.ink([235, 245, 250]), 0.7);
    for _ in 0..40 {
        let x = c.r(0.0, 1.0);
        let y = c.r(from + 0.005, to);
        pen.rect(x, y, c.r(0.01, 0.05), 0.003, foam);
    }
    pen.rect(0.0, to - 0.004, 1.0, 0.008, foam);
}

fn flowers(pen: &mut Pen<'_>, c: &mut Ctx, n: usize) {
    pen.set_distance(0.5);
    let colours = [
        [240, 90, 110],
        [250, 220, 70],
        [250, 250, 250],
        [170, 110, 220],
    ];
    for i in 0..n {
        let x = c.r(0.0, 1.0);
        let y = c.r(c.h + 0.03, 1.0);
        let r = 0.002 + 0.004 * (y - c.h) / (1.0 - c.h);
        // Under snow the flowers are not seen; their draws are still taken, so the rest of
        // the layout does not move when an edit makes it snow.
        if !c.snow {
            pen.ellipse(x, y, r, r * c.aspect, pen.ink(colours[i % colours.len()]));
        }
    }
}

/// Land under snow: mostly white, with a trace of what lies beneath, so a snowy meadow and a
/// snowy farm still differ.
pub(crate) fn snow_over(tone: [u8; 3]) -> [u8; 3] {
    blend(tone, [240, 244, 250], 0.85)
}

/// The moon's surface: stars, the Earth hanging in a black sky, craters on grey ground.
fn lunar(pen: &mut Pen<'_>, c: &mut Ctx) {
    let h = c.h;
    stars(pen, c, [0.0, 0.0, 1.0, h], 300);
    let (ex, ey, r) = (c.r(0.6, 0.85), h * 0.35, 0.05);
    pen.ellipse(ex, ey, r, r * c.aspect, pen.glow([60, 110, 200]));
    for _ in 0..4 {
        let (dx, dy) = (c.r(-0.6, 0.6) * r, c.r(-0.5, 0.5) * r * c.aspect);
        let s = c.r(0.2, 0.4) * r;
        pen.ellipse(
            ex + dx,
            ey + dy,
            s,
            s * c.aspect * 0.6,
            pen.glow([70, 150, 80]),
        );
    }
    pen.ellipse(
        ex - r * 0.3,
        ey - r * 0.4 * c.aspect,
        r * 0.45,
        r * 0.2 * c.aspect,
        Pen::faded(pen.glow([240, 240, 250]), 0.7),
    );
    for k in 0..14 {
        let y = h + (1.0 - h) * (0.08 + 0.9 * (k as f32 / 14.0));
        let x = c.r(0.0, 1.0);
        let w = 0.02 + 0.05 * (y - h) / (1.0 - h);
        pen.set_distance(1.0 - (y - h) / (1.0 - h));
        pen.ellipse(x, y, w, w * 0.3 * c.aspect, pen.ink([96, 96, 102]));
        pen.ellipse(
            x + w * 0.1,
            y + w * 0.05 * c.aspect,
            w * 0.8,
            w * 0.22 * c.aspect,
            pen.ink([132, 132, 138]),
        );
    }
}
