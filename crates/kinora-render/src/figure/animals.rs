use super::Pose;
use super::palette::{DARK, WHITE};
use super::quadruped::{CAT, COW, DOG, Drawn, ELEPHANT, FOX, HORSE, RABBIT, quadruped};
use crate::pen::Pen;

pub fn dog(pen: &mut Pen<'_>, pose: &Pose) {
    let coat = pen.ink(pose.colour);
    quadruped(pen, pose, &DOG, coat);
}

pub fn cat(pen: &mut Pen<'_>, pose: &Pose) {
    let coat = pen.ink(pose.colour);
    let head = quadruped(pen, pose, &CAT, coat).head;
    let whisker = pen.ink(WHITE);
    let muzzle = (head.0 + CAT.head * 1.15, head.1 + CAT.head * 0.25);
    for dy in [-0.1, 0.15] {
        pen.line(
            &[
                muzzle,
                (muzzle.0 + CAT.head * 0.9, muzzle.1 + CAT.head * dy),
            ],
            0.012,
            whisker,
        );
    }
}

pub fn fox(pen: &mut Pen<'_>, pose: &Pose) {
    let coat = pen.ink(pose.colour);
    let tip = quadruped(pen, pose, &FOX, coat).tail_tip;
    pen.circle(tip.0, tip.1, 0.06, pen.ink(WHITE));
}

pub fn horse(pen: &mut Pen<'_>, pose: &Pose) {
    let coat = pen.ink(pose.colour);
    let Drawn { head, neck, .. } = quadruped(pen, pose, &HORSE, coat);
    let mane = pen.ink(DARK);
    pen.line(
        &[(neck.0, neck.1 - 0.07), (head.0 - 0.04, head.1 - 0.06)],
        0.05,
        mane,
    );
}

pub fn cow(pen: &mut Pen<'_>, pose: &Pose) {
    let coat = pen.ink(WHITE);
    let drop = quadruped(pen, pose, &COW, coat).drop;
    let patch = pen.ink(pose.colour);
    pen.ellipse(-0.15, -0.6 + drop, 0.16, 0.1, patch);
    pen.ellipse(0.2, -0.52 + drop, 0.1, 0.08, patch);
}

pub fn rabbit(pen: &mut Pen<'_>, pose: &Pose) {
    let coat = pen.ink(pose.colour);
    let drop = quadruped(pen, pose, &RABBIT, coat).drop;
    pen.circle(-0.42, -0.45 + drop, 0.08, pen.ink(WHITE));
}

pub fn elephant(pen: &mut Pen<'_>, pose: &Pose) {
    let coat = pen.ink(pose.colour);
    let drawn = quadruped(pen, pose, &ELEPHANT, coat);
    let head = drawn.head;
    let sway = 0.08 * pose.cycle().sin();
    // Lying down, the trunk rests along the ground instead of hanging below it.
    let trunk_end = if drawn.lying {
        [(head.0 + 0.2, -0.05), (head.0 + 0.1, -0.04)]
    } else {
        [
            (head.0 + 0.35, head.1 + 0.3),
            (head.0 + 0.3 + sway, head.1 + 0.5),
        ]
    };
    pen.line(
        &[(head.0 + 0.25, head.1 + 0.05), trunk_end[0], trunk_end[1]],
        0.09,
        coat,
    );
    pen.line(
        &[(head.0 + 0.15, head.1 + 0.12), (head.0 + 0.3, head.1 + 0.2)],
        0.04,
        pen.ink(WHITE),
    );
}

pub fn bird(pen: &mut Pen<'_>, pose: &Pose) {
    let body = pen.ink(pose.colour);
    let beat = pose.beat();
    pen.ellipse(0.0, -0.5, 0.45, 0.2, body);
    pen.poly(&[(-0.4, -0.5), (-0.75, -0.65), (-0.75, -0.35)], body);
    pen.circle(0.42, -0.6, 0.16, body);
    pen.poly(
        &[(0.55, -0.64), (0.78, -0.58), (0.55, -0.54)],
        pen.ink([240, 170, 40]),
    );
    pen.circle(0.47, -0.64, 0.035, pen.ink(DARK));
    let wing = pen.ink(pose.colour.map(|c| c.saturating_sub(40)));
    pen.poly(
        &[(-0.15, -0.55), (0.2, -0.55), (-0.1, -0.55 - 0.45 * beat)],
        wing,
    );
}

pub fn fish(pen: &mut Pen<'_>, pose: &Pose) {
    let body = pen.ink(pose.colour);
    let flick = 0.12 * pose.beat();
    pen.poly(
        &[(-0.45, -0.5), (-0.9, -0.8 + flick), (-0.9, -0.2 + flick)],
        body,
    );
    pen.ellipse(0.0, -0.5, 0.6, 0.3, body);
    pen.poly(&[(-0.1, -0.75), (0.15, -0.95), (0.25, -0.72)], body);
    pen.circle(0.35, -0.56, 0.06, pen.ink(WHITE));
    pen.circle(0.37, -0.56, 0.03, pen.ink(DARK));
    pen.line(
        &[(0.15, -0.7), (0.15, -0.3)],
        0.03,
        Pen::faded(pen.ink(DARK), 0.4),
    );
}

pub fn butterfly(pen: &mut Pen<'_>, pose: &Pose) {
    let wing = pen.ink(pose.colour);
    let open = 0.25 + 0.75 * pose.beat().abs();
    pen.scaled((0.0, -0.5), 1.0, open, |pen| {
        pen.ellipse(-0.35, -0.72, 0.4, 0.25, wing);
        pen.ellipse(0.35, -0.72, 0.4, 0.25, wing);
        pen.ellipse(-0.25, -0.32, 0.28, 0.18, wing);
        pen.ellipse(0.25, -0.32, 0.28, 0.18, wing);
    });
    let dark = pen.ink(DARK);
    pen.ellipse(0.0, -0.5, 0.06, 0.3, dark);
    pen.line(&[(0.0, -0.8), (0.15, -1.0)], 0.02, dark);
    pen.line(&[(0.0, -0.8), (-0.15, -1.0)], 0.02, dark);
}

pub fn dragon(pen: &mut Pen<'_>, pose: &Pose) {
    let scale = pen.ink(pose.colour);
    let beat = pose.beat();
    let membrane = Pen::faded(pen.ink(pose.colour.map(|c| c.saturating_sub(50))), 0.9);
    pen.poly(
        &[
            (-0.2, -0.55),
            (0.25, -0.55),
            (-0.3, -0.55 - 0.5 * beat.max(-0.3) - 0.2),
        ],
        membrane,
    );
    pen.line(
        &[(-0.45, -0.45), (-0.8, -0.35), (-1.05, -0.55)],
        0.08,
        scale,
    );
    pen.ellipse(0.0, -0.45, 0.5, 0.2, scale);
    let s = pose.stride() * 0.5;
    pen.limb((0.25, -0.35), s, 0.3, 0.08, scale);
    pen.limb((-0.25, -0.35), -s, 0.3, 0.08, scale);
    pen.line(&[(0.4, -0.55), (0.6, -0.8)], 0.12, scale);
    pen.ellipse(0.72, -0.82, 0.17, 0.1, scale);
    pen.poly(
        &[(0.6, -0.9), (0.55, -1.05), (0.68, -0.92)],
        pen.ink([232, 224, 200]),
    );
    pen.circle(0.76, -0.86, 0.025, pen.glow([255, 210, 60]));
    let spikes: Vec<(f32, f32)> = (0..6)
        .flat_map(|i| {
            let x = -0.4 + i as f32 * 0.14;
            [(x, -0.62), (x + 0.07, -0.74), (x + 0.14, -0.62)]
        })
        .collect();
    pen.poly(&spikes, membrane);
}
