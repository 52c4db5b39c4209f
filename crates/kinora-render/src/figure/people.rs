use std::f32::consts::PI;

use super::Pose;
use super::palette::{DARK, GLASS, HAIR, SKIN, TROUSERS, WOOD};
use crate::pen::Pen;
use crate::vocabulary::Motion;

/// A person; `child` gives the larger head and shorter limbs of a child.
pub fn person(pen: &mut Pen<'_>, pose: &Pose, child: bool) {
    let head = if child { 0.13 } else { 0.09 };
    let standing_hip = if child { -0.42 } else { -0.48 };
    let leg = -standing_hip - 0.03;
    // Sitting folds the legs at the knee: thighs forward, shins down, the body lower by a thigh.
    let sitting = pose.motion == Motion::Sit;
    let hip_y = if sitting {
        standing_hip + leg * 0.5
    } else {
        standing_hip
    };
    // Laughing shakes the shoulders and head.
    let shake = if pose.motion == Motion::Laugh {
        0.012 * (pose.cycle() * 2.0).sin()
    } else {
        0.0
    };
    let shoulder = (0.0, hip_y - 0.3 + shake);
    let s = pose.stride();
    let (skin, shirt, trousers) = (pen.ink(SKIN), pen.ink(pose.colour), pen.ink(TROUSERS));
    let shoes = pen.ink(DARK);
    // Back limbs first, then the body, then front limbs.
    let (arm_back, arm_front) = match pose.motion {
        Motion::Wave => (-0.2, PI - 0.5 + 0.45 * pose.cycle().sin()),
        Motion::Dance => (
            PI - 0.6 + 0.4 * pose.cycle().sin(),
            PI - 0.6 - 0.4 * pose.cycle().sin(),
        ),
        Motion::Fly | Motion::Swim => (PI * 0.55, PI * 0.5),
        Motion::Laugh => (0.5, 0.9 + 0.1 * pose.cycle().sin()),
        Motion::Sit => (0.3, 0.5),
        _ => (s * 0.9, -s * 0.9),
    };
    let arm_len = leg * 0.75;
    pen.limb(shoulder, arm_back, arm_len, 0.065, skin);
    for swing in [-s, s] {
        let foot = if sitting {
            let knee = pen.limb((0.0, hip_y), PI * 0.5, leg * 0.5, 0.09, trousers);
            pen.limb(knee, 0.0, leg * 0.5, 0.09, trousers)
        } else {
            pen.limb((0.0, hip_y), swing, leg, 0.09, trousers)
        };
        pen.line(&[foot, (foot.0 + 0.05, foot.1)], 0.06, shoes);
    }
    // From just above the shoulders to just below the hips (y grows downwards).
    let shirt_top = shoulder.1 - 0.03;
    pen.round_rect(
        -0.11,
        shirt_top,
        0.22,
        hip_y + 0.02 - shirt_top,
        0.06,
        shirt,
    );
    pen.limb(shoulder, arm_front, arm_len, 0.065, skin);
    let hy = shoulder.1 - head - 0.02;
    pen.circle(0.02, hy, head, skin);
    pen.ellipse(
        0.0,
        hy - head * 0.45,
        head * 1.02,
        head * 0.6,
        pen.ink(HAIR),
    );
    let eye = (0.02 + head * 0.55, hy - head * 0.1);
    if pose.motion == Motion::Laugh {
        // Eyes squeezed into arcs: at close-up size that, with the open mouth, reads as a laugh.
        pen.line(
            &[
                (eye.0 - head * 0.16, eye.1 + head * 0.05),
                (eye.0, eye.1 - head * 0.08),
                (eye.0 + head * 0.16, eye.1 + head * 0.05),
            ],
            head * 0.07,
            shoes,
        );
    } else {
        pen.circle(eye.0, eye.1, head * 0.12, shoes);
    }
    if pose.motion == Motion::Laugh {
        let open = head * (0.18 + 0.1 * (pose.cycle() * 2.0).sin().abs());
        pen.ellipse(
            0.02 + head * 0.6,
            hy + head * 0.45,
            head * 0.25,
            open,
            shoes,
        );
    }
}

pub fn robot(pen: &mut Pen<'_>, pose: &Pose) {
    let s = pose.stride() * 0.6;
    let body = pen.ink(pose.colour);
    let joint = pen.ink(DARK);
    for (angle, x) in [(-s, -0.06), (s, 0.06)] {
        let end = pen.limb((x, -0.42), angle, 0.38, 0.1, joint);
        pen.rect(end.0 - 0.07, end.1 - 0.03, 0.14, 0.05, body);
    }
    pen.round_rect(-0.18, -0.8, 0.36, 0.4, 0.04, body);
    pen.rect(-0.1, -0.7, 0.2, 0.12, pen.glow(GLASS));
    let arm = if pose.motion == Motion::Wave {
        PI - 0.4 * pose.cycle().sin()
    } else {
        -s
    };
    pen.limb((0.2, -0.76), arm, 0.3, 0.07, joint);
    pen.limb((-0.2, -0.76), s, 0.3, 0.07, joint);
    pen.round_rect(-0.13, -0.98, 0.26, 0.17, 0.03, body);
    let eye = pen.glow([90, 220, 255]);
    pen.circle(0.0, -0.9, 0.03, eye);
    pen.circle(0.08, -0.9, 0.03, eye);
    pen.line(&[(0.0, -0.98), (0.0, -1.06)], 0.02, joint);
    pen.circle(0.0, -1.07, 0.025, pen.glow([255, 80, 60]));
}

pub fn snowman(pen: &mut Pen<'_>, pose: &Pose) {
    let snow = pen.ink([244, 246, 250]);
    let sway = 0.03 * pose.cycle().sin();
    pen.circle(0.0, -0.2, 0.2, snow);
    pen.circle(sway * 0.5, -0.52, 0.15, snow);
    pen.circle(sway, -0.76, 0.11, snow);
    let stick = pen.ink(WOOD);
    pen.line(&[(0.12, -0.55), (0.34, -0.7)], 0.025, stick);
    pen.line(&[(-0.12, -0.55), (-0.32, -0.62)], 0.025, stick);
    pen.rect(-0.12 + sway, -0.68, 0.24, 0.05, pen.ink(pose.colour));
    let dark = pen.ink(DARK);
    pen.rect(-0.08 + sway, -1.0, 0.16, 0.14, dark);
    pen.rect(-0.13 + sway, -0.87, 0.26, 0.03, dark);
    pen.circle(0.04 + sway, -0.79, 0.015, dark);
    pen.poly(
        &[
            (0.08 + sway, -0.76),
            (0.2 + sway, -0.745),
            (0.08 + sway, -0.73),
        ],
        pen.ink([240, 120, 30]),
    );
    for y in [-0.5, -0.42, -0.3] {
        pen.circle(0.02 + sway * 0.5, y, 0.015, dark);
    }
}
