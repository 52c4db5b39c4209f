//! Where a subject stands in the world on a frame, before its motion lifts or sways it: on the
//! ground at its depth, in the air, on the water (boats), on the furniture the prompt put it on,
//! or — the one resting subject of a shot, a still life — large and in the middle of the picture,
//! above the lower third where a caption goes.

use crate::backdrop::Backdrop;
use crate::camera::View;
use crate::figure;
use crate::painter::figure_height;
use crate::scene::{Scene, Subject};
use crate::timeline::{SubjectState, travel_speed};
use crate::vocabulary::{Framing, Placement, SubjectKind};

/// The least height (a share of the frame's, at medium framing) of a subject shown on its own or
/// on a piece of furniture: big enough to read, and to cut out as a character.
const READABLE_SHARE: f32 = 0.3;
/// A still life's base line, as a share of the frame's height: clear of the lower third.
const STILL_LIFE_BASE: f32 = 0.64;
/// Share of the frame's height a close-up's head (and shoulders) fills.
const PORTRAIT_FILL: f32 = 0.84;

/// A subject's base (centre of its feet, wheels or hull) and height, in world pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spot {
    pub x: f32,
    pub y: f32,
    pub size: f32,
}

/// What a spot depends on besides the subject: the scene, its backdrop and this frame's view.
pub struct Shot<'a> {
    pub scene: &'a Scene,
    pub backdrop: &'a Backdrop,
    pub view: View,
    /// Frame width and height in pixels.
    pub frame: (u32, u32),
}

fn readable(framing: Framing, height: u32) -> f32 {
    let framing = match framing {
        Framing::Wide => 0.6,
        Framing::Aerial => 0.45,
        Framing::Medium | Framing::CloseUp => 1.0,
    };
    READABLE_SHARE * framing * height as f32
}

/// `t` of the way from `lo` to `hi`; the middle of them when they cross.
fn within(lo: f32, hi: f32, t: f32) -> f32 {
    if hi < lo {
        (lo + hi) / 2.0
    } else {
        lo + (hi - lo) * t
    }
}

impl Shot<'_> {
    pub fn spot(&self, subject: &Subject, state: &SubjectState) -> Spot {
        let (b, view) = (self.backdrop, self.view);
        let (width, height) = self.frame;
        let size = figure_height(self.scene.framing, subject, height).min(b.height as f32 * 0.9);
        let (left, right) = (view.x0, view.x0 + width as f32 / view.scale);
        let (top, bottom) = (view.y0, view.y0 + height as f32 / view.scale);
        let resting = travel_speed(subject.kind, state.motion) == 0.0;
        let surface = subject
            .support
            .and_then(|s| b.surfaces.iter().find(|f| f.support == s))
            .filter(|_| resting);
        let reach = figure::extent(subject.kind);
        if let Some(f) = surface {
            // A subject wider than the furniture overhangs it a little rather than shrinking.
            let size = size
                .max(readable(self.scene.framing, height) * subject.grow)
                .min(1.2 * (f.x1 - f.x0) / (2.0 * reach));
            let half = reach * size;
            let t = if self.alone_on(subject) {
                0.5
            } else {
                ((subject.x - 0.3) / 0.4).clamp(0.0, 1.0)
            };
            let x = within(f.x0.max(left) + half, f.x1.min(right) - half, t);
            return Spot { x, y: f.y, size };
        }
        if resting && let Some(region) = self.portrait(subject, state) {
            return self.portrait_spot(region, state.heading);
        }
        if resting && self.still_life(subject) {
            let size = size.max(readable(self.scene.framing, height) * subject.grow);
            let half = reach * size;
            let x = within(left + half, right - half, 0.5);
            // Tall kinds (a lighthouse, a house) keep their tops in the frame first.
            let y = (top + STILL_LIFE_BASE * height as f32 / view.scale)
                .max(b.horizon + 0.02 * height as f32)
                .min(top + 0.66 * height as f32 / view.scale)
                .max(top + 1.05 * size)
                .min(bottom);
            return Spot { x, y, size };
        }
        let x = state.x * b.width as f32;
        let aerial = self.scene.framing == Framing::Aerial;
        let water = b.water.filter(|_| floats(subject.kind));
        let (ground, below) = match water {
            Some([from, to]) => (from, to - from),
            None => (b.horizon, b.height as f32 - b.horizon),
        };
        let mut y = match subject.kind.placement() {
            Placement::Ground => ground + below * (0.92 - 0.8 * subject.depth),
            // Seen from above, what flies is over the land, below the camera.
            Placement::Air if aerial => b.horizon + below * (0.3 + 0.4 * subject.altitude),
            Placement::Air | Placement::Sky => b.horizon * (1.0 - subject.altitude) + size * 0.5,
        };
        // Fitted to the shot: whatever is in the sky clears the frame's top edge and whatever
        // stands near the camera keeps its feet above the bottom edge.
        y = y
            .min(bottom - 0.02 * size)
            .max(top + 1.05 * size)
            .min(bottom);
        if let Some([from, to]) = water {
            // A hull stays in the water whatever the shot: its deck no higher than the far
            // shore, its keel no lower than the near one.
            y = y.max(from + (HULL * size).min(to - from)).min(to);
        }
        Spot { x, y, size }
    }

    /// What a close-up of `subject` frames, when it is the one subject of the shot and rests:
    /// then the shot is of its head (and a person's shoulders), not its whole body. Not for a
    /// character, whose cutout may be anything.
    fn portrait(&self, subject: &Subject, state: &SubjectState) -> Option<[f32; 4]> {
        (self.scene.framing == Framing::CloseUp
            && self.scene.subjects.len() == 1
            && subject.character.is_none())
        .then(|| figure::portrait(subject.kind, state.motion))
        .flatten()
    }

    /// A subject sized and placed so that `region` (figure units, facing +x) fills most of the
    /// frame's height, centred; the rest of the body runs out of the frame.
    fn portrait_spot(&self, region: [f32; 4], heading: f32) -> Spot {
        let view = self.view;
        let (w, h) = (
            self.frame.0 as f32 / view.scale,
            self.frame.1 as f32 / view.scale,
        );
        let [x0, y0, x1, y1] = region;
        let size = (PORTRAIT_FILL * h / (y1 - y0)).min(0.8 * w / (x1 - x0));
        let top = view.y0 + (h - (y1 - y0) * size) / 2.0;
        Spot {
            x: view.x0 + w / 2.0 - heading.signum() * (x0 + x1) / 2.0 * size,
            y: top - y0 * size,
            size,
        }
    }

    /// Whether `subject` is the only one resting on its furniture.
    fn alone_on(&self, subject: &Subject) -> bool {
        !self
            .scene
            .subjects
            .iter()
            .any(|s| s.id != subject.id && s.support.is_some() && s.support == subject.support)
    }

    /// A shot of one subject on the ground, not from far away or above. Where there is water
    /// the middle of the picture may be in it, so there the subject keeps its place on land
    /// (or, a boat, on the water).
    fn still_life(&self, subject: &Subject) -> bool {
        self.scene.subjects.len() == 1
            && subject.kind.placement() == Placement::Ground
            && self.backdrop.water.is_none()
            && matches!(self.scene.framing, Framing::Medium | Framing::CloseUp)
    }
}

/// The hull's height over its keel, in figure heights (see `figure::vehicles::boat`).
const HULL: f32 = 0.42;

/// Kinds that sit on water rather than stand on land.
fn floats(kind: SubjectKind) -> bool {
    kind == SubjectKind::Boat
}
