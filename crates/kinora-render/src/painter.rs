//! The painter: draws one frame of a scene. The backdrop is drawn once; each frame samples it
//! through the camera, then draws the subjects far to near (each into a small layer the size of
//! its box), then the weather.

use std::collections::BTreeMap;
use std::f32::consts::PI;

use image::RgbaImage;
use image::imageops::FilterType;
use tiny_skia::{PixmapMut, Transform};

use crate::FPS;
use crate::backdrop::Backdrop;
use crate::camera::View;
use crate::caption::Caption;
use crate::figure::{self, Pose};
use crate::look::Look;
use crate::pen::Pen;
use crate::placement::{self, Spot};
use crate::raster::{composite, sample_view};
use crate::scene::{BackdropSource, Scene, Subject};
use crate::vocabulary::{Framing, Motion, Setting};
use crate::weather::{self, Canvas};

/// Height of an adult at the front of a medium shot, as a share of the frame height.
const PERSON_SHARE: f32 = 0.3;

/// A subject's drawn height in pixels for a frame `height` pixels tall, before the camera's
/// zoom: an adult is 30 % of the frame at medium framing, scaled by kind, depth and framing.
pub fn figure_height(framing: Framing, subject: &Subject, height: u32) -> f32 {
    let framing = match framing {
        Framing::Wide => 0.6,
        Framing::Medium => 1.0,
        Framing::CloseUp => 1.8,
        Framing::Aerial => 0.45,
    };
    let perspective = 1.0 - 0.6 * subject.depth;
    height as f32
        * PERSON_SHARE
        * framing
        * subject.kind.relative_height()
        * subject.scale
        * subject.grow
        * perspective
}

/// Where a subject lands on one frame, in screen pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// Centre of its base (feet, wheels).
    pub x: f32,
    pub y: f32,
    /// Height in pixels.
    pub size: f32,
    /// +1 facing right, -1 left; a fraction while spinning.
    pub facing: f32,
    pub alpha: f32,
    pub pose: Pose,
}

/// A character's cutout, scaled for the last height asked, kept premultiplied.
struct Sprite {
    source: RgbaImage,
    cached: Option<(u32, u32, u32, Vec<u8>)>,
}

pub struct Painter {
    scene: Scene,
    width: u32,
    height: u32,
    backdrop: Backdrop,
    look: Look,
    layer: Vec<u8>,
    sprites: BTreeMap<String, Sprite>,
    /// Each timeline segment's caption, laid out once.
    captions: Vec<Option<Caption>>,
}

/// Scales a straight-alpha cutout to `height` pixels and premultiplies it.
pub fn scale_sprite(source: &RgbaImage, height: u32) -> (u32, u32, Vec<u8>) {
    let h = height.max(1);
    let w =
        ((source.width() as f32 * h as f32 / source.height().max(1) as f32).round() as u32).max(1);
    let scaled = image::imageops::resize(source, w, h, FilterType::Triangle);
    let mut data = scaled.into_raw();
    for px in data.chunks_exact_mut(4) {
        let a = u32::from(px[3]);
        for c in &mut px[..3] {
            *c = ((u32::from(*c) * a + 127) / 255) as u8;
        }
    }
    (w, h, data)
}

/// Relights premultiplied RGBA in place with the scene's light at `depth`.
fn relight(look: &Look, depth: f32, data: &mut [u8]) {
    for px in data.chunks_exact_mut(4) {
        let a = u32::from(px[3]);
        if a == 0 {
            continue;
        }
        let straight = [0, 1, 2].map(|c| ((u32::from(px[c]) * 255 + a / 2) / a).min(255) as u8);
        let lit = look.surface(straight, depth);
        for c in 0..3 {
            px[c] = ((u32::from(lit[c]) * a + 127) / 255) as u8;
        }
    }
}

/// A walking or running character's step: how far it rises (a share of its height) and how far
/// its body leans per row (pixels), in step with the footsteps in `audio` (3.4 and 6 a second).
pub fn gait(p: &Placed) -> (f32, f32) {
    let steps = match p.pose.motion {
        Motion::Walk => 3.4,
        Motion::Run => 6.0,
        _ => return (0.0, 0.0),
    };
    let phase = PI * steps * p.pose.time;
    let rise = if p.pose.motion == Motion::Run {
        0.05
    } else {
        0.025
    };
    (
        rise * phase.sin().abs(),
        0.04 * phase.sin() * p.facing.signum(),
    )
}

impl Painter {
    pub fn new(
        scene: &Scene,
        width: u32,
        height: u32,
        backdrop: Backdrop,
        cutouts: &BTreeMap<String, RgbaImage>,
    ) -> Painter {
        let look = Look::new(scene.time_of_day, scene.weather, scene.mood, scene.style);
        let captions = scene
            .timeline
            .iter()
            .map(|seg| {
                seg.caption
                    .as_deref()
                    .and_then(|text| Caption::new(text, width, height))
            })
            .collect();
        let sprites = cutouts
            .iter()
            .map(|(name, image)| {
                (
                    name.clone(),
                    Sprite {
                        source: image.clone(),
                        cached: None,
                    },
                )
            })
            .collect();
        Painter {
            scene: scene.clone(),
            width,
            height,
            backdrop,
            look,
            layer: Vec::new(),
            sprites,
            captions,
        }
    }

    fn view(&self, frame: u32) -> View {
        View::new(
            self.scene.camera_pose(frame),
            (self.backdrop.width, self.backdrop.height),
            (self.width, self.height),
        )
    }

    /// Where `subject` is drawn on `frame`, or `None` when it is not in the clip then.
    pub fn place(&self, subject: &Subject, frame: u32) -> Option<Placed> {
        let state = self.scene.subject_state(subject, frame)?;
        let view = self.view(frame);
        let Spot {
            x: wx,
            y: mut wy,
            size,
        } = placement::Shot {
            scene: &self.scene,
            backdrop: &self.backdrop,
            view,
            frame: (self.width, self.height),
        }
        .spot(subject, &state);
        let t = state.motion_time;
        let mut wxo = 0.0;
        let mut facing = state.heading;
        match state.motion {
            Motion::Jump => wy -= size * 0.4 * (PI * t * 1.2).sin().abs(),
            Motion::Bounce => wy -= size * 0.25 * (PI * t * 1.2).sin().abs(),
            Motion::Float => wy -= size * 0.06 * (2.0 * PI * 0.3 * t).sin(),
            Motion::Fly | Motion::Swim => wy -= size * 0.06 * (2.0 * PI * 0.5 * t).sin(),
            Motion::Dance => wxo = size * 0.06 * (2.0 * PI * t).sin(),
            Motion::Laugh => wy -= size * 0.03 * (2.0 * PI * 1.5 * t).sin().abs(),
            Motion::Spin => {
                let c = (2.0 * PI * 0.5 * t).cos();
                facing *= c.signum() * c.abs().max(0.15);
            }
            _ => {}
        }
        let (x, y) = view.to_screen(wx + wxo, wy);
        Some(Placed {
            x,
            y,
            size: size * view.scale,
            facing,
            alpha: state.alpha,
            pose: Pose {
                colour: subject.colour.rgb(),
                motion: state.motion,
                time: state.time,
            },
        })
    }

    /// The screen box (x0, y0, x1, y1) `subject`'s figure fills on `frame`, if it is in the clip.
    #[cfg(test)]
    pub fn subject_box(&self, subject: &Subject, frame: u32) -> Option<[f32; 4]> {
        let p = self.place(subject, frame)?;
        let half = figure::extent(subject.kind) * p.size;
        Some([p.x - half, p.y - p.size, p.x + half, p.y])
    }

    /// The premultiplied sprite of character `name` at `height` pixels: (width, height, data).
    /// The character is lit like the figures around it (`Look::surface`): a night scene darkens
    /// it, a sunset warms it, fog hazes it with its depth.
    pub fn sprite(&mut self, name: &str, height: u32) -> Option<(u32, u32, &[u8])> {
        let depth = self
            .scene
            .subjects
            .iter()
            .find(|s| s.character.as_deref() == Some(name))
            .map_or(0.0, |s| s.depth);
        let sprite = self.sprites.get_mut(name)?;
        if sprite.cached.as_ref().map(|c| c.0) != Some(height) {
            let (w, h, mut data) = scale_sprite(&sprite.source, height);
            relight(&self.look, depth, &mut data);
            sprite.cached = Some((height, w, h, data));
        }
        sprite
            .cached
            .as_ref()
            .map(|(_, w, h, d)| (*w, *h, d.as_slice()))
    }

    /// Top-left corner of a character sprite `w`x`h` placed at `p`.
    pub fn sprite_origin(p: &Placed, w: u32, h: u32) -> (i32, i32) {
        (
            (p.x - w as f32 / 2.0).round() as i32,
            (p.y - h as f32).round() as i32,
        )
    }

    /// Draws `frame` into `out` (RGB8, `width * height * 3` bytes).
    pub fn paint(&mut self, frame: u32, out: &mut [u8]) {
        let view = self.view(frame);
        let b = &self.backdrop;
        sample_view(
            &b.rgb,
            b.width,
            b.height,
            view,
            out,
            self.width,
            self.height,
        );
        let mut order: Vec<usize> = (0..self.scene.subjects.len()).collect();
        order.sort_by(|&a, &b| {
            let (sa, sb) = (&self.scene.subjects[a], &self.scene.subjects[b]);
            sb.depth.total_cmp(&sa.depth).then(sa.id.cmp(&sb.id))
        });
        for i in order {
            let subject = self.scene.subjects[i].clone();
            let Some(placed) = self.place(&subject, frame) else {
                continue;
            };
            if placed.alpha <= 0.0 {
                continue;
            }
            match subject.character.as_deref() {
                Some(name) if self.sprites.contains_key(name) => {
                    self.draw_sprite(name, &placed, out)
                }
                _ => self.draw_figure(&subject, &placed, out),
            }
        }
        self.draw_weather(frame, view, out);
        let at = self
            .scene
            .timeline
            .iter()
            .rposition(|seg| seg.start_frame <= frame);
        // Over a still, the first frame is the image itself: the caption comes in with the
        // subjects, half a second later.
        let held = |i: usize| {
            self.scene.backdrop == BackdropSource::Still
                && frame < self.scene.timeline[i].start_frame + FPS / 2
        };
        if let Some(i) = at.filter(|&i| !held(i))
            && let Some(Some(caption)) = self.captions.get(i)
        {
            caption.draw(out);
        }
    }

    fn draw_sprite(&mut self, name: &str, p: &Placed, out: &mut [u8]) {
        let (fw, fh) = (self.width, self.height);
        let (bob, lean) = gait(p);
        if let Some((w, h, data)) = self.sprite(name, p.size.round().max(1.0) as u32) {
            let (x, y) = Self::sprite_origin(p, w, h);
            let y = y - (bob * h as f32).round() as i32;
            if lean == 0.0 {
                composite(out, (fw, fh), data, (w, h), (x, y), p.alpha);
                return;
            }
            // The body sways over planted feet: each row shifts by its height above them.
            let row = w as usize * 4;
            for r in 0..h {
                let shift = (lean * (h - 1 - r) as f32).round() as i32;
                let line = &data[r as usize * row..(r as usize + 1) * row];
                composite(
                    out,
                    (fw, fh),
                    line,
                    (w, 1),
                    (x + shift, y + r as i32),
                    p.alpha,
                );
            }
        }
    }

    fn draw_figure(&mut self, subject: &Subject, p: &Placed, out: &mut [u8]) {
        let upright = figure::extent(subject.kind) < 0.6;
        let asleep = p.pose.motion == Motion::Sleep;
        let reach = if asleep && upright {
            0.7
        } else {
            figure::extent(subject.kind)
        };
        let half = reach * p.size + 2.0;
        let x0 = (p.x - half).floor().max(0.0);
        let x1 = (p.x + half).ceil().min(self.width as f32);
        let y0 = (p.y - 1.3 * p.size - 2.0).floor().max(0.0);
        let y1 = (p.y + 0.12 * p.size + 2.0).ceil().min(self.height as f32);
        if x1 <= x0 || y1 <= y0 {
            return;
        }
        let (lw, lh) = ((x1 - x0) as u32, (y1 - y0) as u32);
        let len = lw as usize * lh as usize * 4;
        if self.layer.len() < len {
            self.layer.resize(len, 0);
        }
        let layer = &mut self.layer[..len];
        layer.fill(0);
        let Some(pixmap) = PixmapMut::from_bytes(layer, lw, lh) else {
            return;
        };
        let base = Transform::from_translate(p.x - x0, p.y - y0);
        let breath = 1.0 + 0.03 * (p.pose.time * 1.6).sin();
        // Asleep, an upright figure lies on its side (head the way it faces), breathing; a
        // four-legged one draws its own lying pose.
        let transform = if asleep && upright {
            base.pre_translate(-0.5 * p.size * p.facing, -0.1 * p.size)
                .pre_scale(p.size * p.facing, p.size * breath)
                .pre_rotate(90.0)
        } else {
            base.pre_scale(p.size * p.facing, p.size)
        };
        let mut pen = Pen::new(pixmap, transform, &self.look, subject.depth);
        figure::draw(subject.kind, &mut pen, &p.pose);
        composite(
            out,
            (self.width, self.height),
            &self.layer[..len],
            (lw, lh),
            (x0 as i32, y0 as i32),
            p.alpha,
        );
    }

    fn draw_weather(&self, frame: u32, view: View, out: &mut [u8]) {
        let Some(seg) = self.scene.segment_at(frame) else {
            return;
        };
        let since = self
            .scene
            .timeline
            .iter()
            .rev()
            .skip_while(|s| s.start_frame > frame)
            .take_while(|s| s.weather == seg.weather)
            .last()
            .map_or(0, |s| s.start_frame);
        let ramp = if self.scene.backdrop == BackdropSource::Still || since > 0 {
            ((frame - since) as f32 / FPS as f32).min(1.0)
        } else {
            1.0
        };
        let clip = match self.backdrop.window {
            Some([x, y, w, h]) => {
                let (ax, ay) = view.to_screen(x, y);
                let (bx, by) = view.to_screen(x + w, y + h);
                [ax as i32, ay as i32, bx as i32, by as i32]
            }
            None => [0, 0, self.width as i32, self.height as i32],
        };
        let mut canvas = Canvas {
            rgb: out,
            width: self.width,
            height: self.height,
            clip,
        };
        let underwater = self.scene.setting == Setting::Underwater;
        let t = frame as f32 / FPS as f32;
        weather::overlay(
            &mut canvas,
            seg.weather,
            underwater,
            t,
            ramp,
            self.scene.seed,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(motion: Motion, time: f32) -> Placed {
        Placed {
            x: 0.0,
            y: 0.0,
            size: 100.0,
            facing: 1.0,
            alpha: 1.0,
            pose: Pose {
                colour: [0, 0, 0],
                motion,
                time,
            },
        }
    }

    #[test]
    fn a_walking_character_steps_and_a_standing_one_does_not() {
        let walk: Vec<(f32, f32)> = (0..12)
            .map(|i| gait(&placed(Motion::Walk, i as f32 / 24.0)))
            .collect();
        let rises: Vec<f32> = walk.iter().map(|g| g.0).collect();
        let high = rises.iter().copied().fold(0.0, f32::max);
        let low = rises.iter().copied().fold(1.0, f32::min);
        assert!(high > 0.02 && low < 0.005, "{rises:?}");
        assert!(walk.iter().any(|g| g.1 > 0.01) && walk.iter().any(|g| g.1 < -0.01));
        assert_eq!(gait(&placed(Motion::Idle, 0.3)), (0.0, 0.0));
    }
}
