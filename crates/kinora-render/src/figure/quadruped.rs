//! Four-legged animals: one figure with each kind's proportions, standing and stepping, or
//! lying down asleep, and the part of each a close-up frames.

use std::f32::consts::TAU;

use super::Pose;
use super::palette::DARK;
use crate::pen::{Ink, Pen};
use crate::vocabulary::{Motion, SubjectKind};

/// Proportions of a four-legged animal, in figure heights.
pub(super) struct Build {
    body_len: f32,
    body_h: f32,
    leg: f32,
    neck: f32,
    pub head: f32,
    tail: f32,
    ears: Ears,
}

#[derive(Clone, Copy, PartialEq)]
enum Ears {
    Floppy,
    Pointed,
    Long,
    Horns,
    Big,
}

pub(super) const DOG: Build = Build {
    body_len: 0.95,
    body_h: 0.3,
    leg: 0.38,
    neck: 0.22,
    head: 0.16,
    tail: 0.22,
    ears: Ears::Floppy,
};

pub(super) const CAT: Build = Build {
    body_len: 1.0,
    body_h: 0.3,
    leg: 0.34,
    neck: 0.18,
    head: 0.17,
    tail: 0.45,
    ears: Ears::Pointed,
};

pub(super) const FOX: Build = Build {
    body_len: 1.0,
    body_h: 0.28,
    leg: 0.36,
    neck: 0.2,
    head: 0.16,
    tail: 0.5,
    ears: Ears::Pointed,
};

pub(super) const HORSE: Build = Build {
    body_len: 1.0,
    body_h: 0.3,
    leg: 0.5,
    neck: 0.3,
    head: 0.12,
    tail: 0.3,
    ears: Ears::Pointed,
};

pub(super) const COW: Build = Build {
    body_len: 1.05,
    body_h: 0.4,
    leg: 0.4,
    neck: 0.12,
    head: 0.15,
    tail: 0.3,
    ears: Ears::Horns,
};

pub(super) const RABBIT: Build = Build {
    body_len: 0.8,
    body_h: 0.38,
    leg: 0.18,
    neck: 0.12,
    head: 0.17,
    tail: 0.05,
    ears: Ears::Long,
};

pub(super) const ELEPHANT: Build = Build {
    body_len: 1.1,
    body_h: 0.48,
    leg: 0.4,
    neck: 0.05,
    head: 0.2,
    tail: 0.15,
    ears: Ears::Big,
};

/// The part of a four-legged `kind` a close-up frames, in figure units facing +x: `[x0, y0,
/// x1, y1]`. Awake, its head, ears and a little neck; asleep, the whole of it lying down, which
/// is low and long enough to fill a close-up by itself.
pub fn head_box(kind: SubjectKind, asleep: bool) -> Option<[f32; 4]> {
    use SubjectKind::*;
    let b = match kind {
        Dog => DOG,
        Cat => CAT,
        Fox => FOX,
        Horse => HORSE,
        Cow => COW,
        Rabbit => RABBIT,
        Elephant => ELEPHANT,
        _ => return None,
    };
    if asleep {
        let (x, y) = lying_head(&b);
        let rx = b.body_len * 0.55;
        return Some([
            -rx * 0.9 - b.tail * 0.25,
            (y - b.head).min(-b.body_h * 1.3),
            x + b.head * 1.6,
            0.0,
        ]);
    }
    let (x, y) = head_at(&b);
    // How far above the head's centre its ears (or horns) reach, in head sizes.
    let ears = match b.ears {
        Ears::Floppy => 0.8,
        Ears::Big => 0.9,
        Ears::Horns => 1.3,
        Ears::Pointed => 1.4,
        Ears::Long => 2.3,
    };
    Some([
        x - b.head * 1.3,
        y - b.head * ears,
        x + b.head * 1.7,
        y + b.head * 1.6,
    ])
}

/// Where a four-legged animal's parts ended up, so each kind's own details land on them.
pub(super) struct Drawn {
    pub head: (f32, f32),
    /// The base of the neck.
    pub neck: (f32, f32),
    pub tail_tip: (f32, f32),
    /// How far the body's centre sank below where it is when standing (lying down).
    pub drop: f32,
    pub lying: bool,
}

/// Draws a four-legged animal, standing and stepping, or lying down asleep.
pub(super) fn quadruped(pen: &mut Pen<'_>, pose: &Pose, b: &Build, coat: Ink) -> Drawn {
    if pose.motion == Motion::Sleep {
        return lying(pen, pose, b, coat);
    }
    let s = pose.stride();
    let hip_y = -b.leg;
    let body_top = hip_y - b.body_h;
    let (front_x, back_x) = (b.body_len * 0.38, -b.body_len * 0.38);
    let shade = Pen::faded(pen.ink(DARK), 0.25);
    for (x, a) in [(front_x, -s), (back_x, s)] {
        pen.limb((x, hip_y - 0.02), a, b.leg, b.leg * 0.22 + 0.02, coat);
        pen.limb((x, hip_y - 0.02), a, b.leg, b.leg * 0.22 + 0.02, shade);
    }
    let tail_base = (-b.body_len * 0.5, body_top + b.body_h * 0.3);
    let wag = 0.3 * pose.cycle().sin();
    pen.line(
        &[
            tail_base,
            (tail_base.0 - b.tail, tail_base.1 - b.tail * (0.4 + wag)),
        ],
        b.body_h * 0.22,
        coat,
    );
    pen.ellipse(
        0.0,
        hip_y - b.body_h * 0.5,
        b.body_len * 0.55,
        b.body_h * 0.55,
        coat,
    );
    for (x, a) in [(front_x, s), (back_x, -s)] {
        let hoof = pen.limb((x, hip_y - 0.02), a, b.leg, b.leg * 0.22 + 0.02, coat);
        pen.circle(hoof.0, hoof.1, b.leg * 0.11 + 0.01, pen.ink(DARK));
    }
    let neck = (b.body_len * 0.42, body_top + b.body_h * 0.3);
    let head = head_at(b);
    pen.line(&[neck, head], b.body_h * 0.5, coat);
    face(pen, b, head, coat, false);
    Drawn {
        head,
        neck,
        tail_tip: (-0.98, -0.78 - 0.1 * pose.cycle().sin()),
        drop: 0.0,
        lying: false,
    }
}

/// The head's centre of a standing animal.
fn head_at(b: &Build) -> (f32, f32) {
    let neck = (b.body_len * 0.42, -b.leg - b.body_h * 0.7);
    (neck.0 + b.neck * 0.45, neck.1 - b.neck)
}

/// Asleep: belly on the ground, the hind leg folded into a haunch, the front legs stretched
/// out with the head resting on them, the tail curled round along the ground, and the body
/// rising and falling with slow breaths. Squashing the standing figure instead reads as a
/// flattened animal, not a resting one.
fn lying(pen: &mut Pen<'_>, pose: &Pose, b: &Build, coat: Ink) -> Drawn {
    let breath = 1.0 + 0.06 * (TAU * 0.25 * pose.time).sin();
    let (rx, ry) = (b.body_len * 0.55, b.body_h * 0.6);
    let cy = -ry;
    let shade = Pen::faded(pen.ink(DARK), 0.25);
    let paw_w = b.leg * 0.22 + 0.02;
    // The far front leg, a little behind the near one.
    let front = (rx * 0.45, -paw_w * 0.5);
    let reach = rx + b.leg * 0.45;
    pen.line(&[front, (reach - 0.04, front.1)], paw_w, coat);
    pen.line(&[front, (reach - 0.04, front.1)], paw_w, shade);
    pen.scaled((0.0, 0.0), 1.0, breath, |pen| {
        pen.ellipse(0.0, cy, rx, ry, coat);
        pen.ellipse(-rx * 0.5, cy + ry * 0.2, rx * 0.38, ry * 0.72, coat);
        pen.ellipse(-rx * 0.5, cy + ry * 0.2, rx * 0.38, ry * 0.72, shade);
    });
    // The tail wraps round the haunch, in front of it.
    let tail_base = (-rx * 0.9, cy + ry * 0.3);
    let tail_tip = (tail_base.0 + b.tail * 0.9, -b.body_h * 0.11);
    pen.line(
        &[
            tail_base,
            (tail_base.0 - b.tail * 0.25, -b.body_h * 0.15),
            (tail_base.0 + b.tail * 0.2, -b.body_h * 0.11),
            tail_tip,
        ],
        b.body_h * 0.22,
        coat,
    );
    pen.line(&[front, (reach, front.1)], paw_w, coat);
    let neck = (rx * 0.65, cy * breath - ry * 0.2);
    let head = lying_head(b);
    pen.line(&[neck, head], b.body_h * 0.45, coat);
    face(pen, b, head, coat, true);
    let standing_centre = -b.leg - b.body_h * 0.5;
    Drawn {
        head,
        neck,
        tail_tip,
        drop: cy - standing_centre,
        lying: true,
    }
}

/// The head's centre of a lying animal: chin on its front paws.
fn lying_head(b: &Build) -> (f32, f32) {
    let paw_w = b.leg * 0.22 + 0.02;
    (
        b.body_len * 0.55 * 0.95 + b.head * 0.2,
        -paw_w - b.head * 0.72,
    )
}

/// The head, muzzle, nose, eye (a closed lid when asleep) and ears, around `head`.
fn face(pen: &mut Pen<'_>, b: &Build, head: (f32, f32), coat: Ink, asleep: bool) {
    pen.ellipse(head.0 + b.head * 0.3, head.1, b.head, b.head * 0.72, coat);
    pen.ellipse(
        head.0 + b.head * 1.05,
        head.1 + b.head * 0.2,
        b.head * 0.45,
        b.head * 0.38,
        coat,
    );
    let dark = pen.ink(DARK);
    pen.circle(
        head.0 + b.head * 1.45,
        head.1 + b.head * 0.12,
        b.head * 0.12,
        dark,
    );
    let eye = (head.0 + b.head * 0.55, head.1 - b.head * 0.2);
    if asleep {
        pen.line(
            &[
                (eye.0 - b.head * 0.16, eye.1),
                (eye.0, eye.1 + b.head * 0.06),
                (eye.0 + b.head * 0.16, eye.1),
            ],
            b.head * 0.06,
            dark,
        );
    } else {
        pen.circle(eye.0, eye.1, b.head * 0.12, dark);
    }
    match b.ears {
        Ears::Floppy => pen.ellipse(
            head.0,
            head.1 + b.head * 0.1,
            b.head * 0.25,
            b.head * 0.55,
            dark,
        ),
        Ears::Pointed => pen.poly(
            &[
                (head.0 - b.head * 0.2, head.1 - b.head * 0.4),
                (head.0 + b.head * 0.05, head.1 - b.head * 1.3),
                (head.0 + b.head * 0.3, head.1 - b.head * 0.5),
            ],
            coat,
        ),
        Ears::Long => {
            pen.ellipse(
                head.0,
                head.1 - b.head * 1.3,
                b.head * 0.22,
                b.head * 0.9,
                coat,
            );
        }
        Ears::Horns => pen.line(
            &[
                (head.0, head.1 - b.head * 0.5),
                (head.0 - b.head * 0.3, head.1 - b.head * 1.2),
            ],
            b.head * 0.18,
            pen.ink([232, 224, 200]),
        ),
        Ears::Big => pen.ellipse(
            head.0 - b.head * 0.3,
            head.1 + b.head * 0.1,
            b.head * 0.6,
            b.head * 0.85,
            coat,
        ),
    }
}
