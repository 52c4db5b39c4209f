use std::f32::consts::{PI, TAU};

use super::Pose;
use super::palette::{DARK, GLASS, LEAF, WHITE, WOOD};
use crate::pen::Pen;
use crate::vocabulary::Motion;

pub fn teapot(pen: &mut Pen<'_>, pose: &Pose) {
    let glaze = pen.ink(pose.colour);
    pen.line(&[(0.45, -0.5), (0.8, -0.85), (0.9, -0.88)], 0.1, glaze);
    pen.line(&[(-0.5, -0.75), (-0.78, -0.6), (-0.5, -0.35)], 0.07, glaze);
    pen.ellipse(0.0, -0.45, 0.55, 0.45, glaze);
    pen.rect(-0.35, -0.1, 0.7, 0.1, glaze);
    pen.ellipse(0.0, -0.88, 0.3, 0.08, glaze);
    pen.circle(0.0, -0.97, 0.06, glaze);
    pen.ellipse(-0.15, -0.6, 0.12, 0.18, Pen::faded(pen.ink(WHITE), 0.5));
    if pose.motion != Motion::Idle {
        let puff = (pose.time * 0.8).fract();
        pen.circle(
            0.95 + puff * 0.1,
            -0.95 - puff * 0.3,
            0.05 + puff * 0.06,
            Pen::faded(pen.ink(WHITE), 0.7 - puff * 0.6),
        );
    }
}

pub fn ball(pen: &mut Pen<'_>, pose: &Pose) {
    let spin = pose.time * 4.0;
    pen.rotated((0.0, -0.5), spin, |pen| {
        pen.circle(0.0, -0.5, 0.5, pen.ink(WHITE));
        let panel = pen.ink(pose.colour);
        pen.ellipse(0.0, -0.5, 0.5, 0.18, panel);
        pen.ellipse(0.0, -0.5, 0.16, 0.5, panel);
    });
}

pub fn umbrella(pen: &mut Pen<'_>, pose: &Pose) {
    let tilt = 0.08 * pose.cycle().sin();
    pen.rotated((0.0, 0.0), tilt, |pen| {
        pen.line(
            &[(0.0, -0.9), (0.0, -0.1), (0.08, -0.02)],
            0.04,
            pen.ink(DARK),
        );
        let canopy = pen.ink(pose.colour);
        let mut points = vec![(-0.6, -0.62)];
        for k in 0..=12 {
            let a = PI + PI * k as f32 / 12.0;
            points.push((0.6 * a.cos(), -0.62 + 0.36 * a.sin()));
        }
        pen.poly(&points, canopy);
        for x in [-0.3, 0.0, 0.3] {
            pen.line(
                &[(x, -0.97), (x, -0.62)],
                0.015,
                Pen::faded(pen.ink(DARK), 0.4),
            );
        }
    });
}

pub fn kite(pen: &mut Pen<'_>, pose: &Pose) {
    let sway = 0.15 * pose.cycle().sin();
    pen.rotated((0.0, -0.7), sway, |pen| {
        pen.poly(
            &[(0.0, -1.0), (0.3, -0.7), (0.0, -0.35), (-0.3, -0.7)],
            pen.ink(pose.colour),
        );
        pen.line(&[(0.0, -1.0), (0.0, -0.35)], 0.015, pen.ink(DARK));
        pen.line(&[(-0.3, -0.7), (0.3, -0.7)], 0.015, pen.ink(DARK));
        let tail: Vec<(f32, f32)> = (0..6)
            .map(|i| {
                (
                    0.08 * (i as f32 * 1.5 + pose.time * 5.0).sin(),
                    -0.35 + i as f32 * 0.06,
                )
            })
            .collect();
        pen.line(&tail, 0.02, pen.ink(WHITE));
    });
}

pub fn house(pen: &mut Pen<'_>, pose: &Pose) {
    let wall = pen.ink(pose.colour);
    pen.rect(-0.6, -0.6, 1.2, 0.6, wall);
    pen.poly(
        &[(-0.7, -0.58), (0.0, -1.0), (0.7, -0.58)],
        pen.ink([150, 60, 44]),
    );
    pen.rect(0.3, -0.98, 0.12, 0.22, pen.ink([120, 60, 50]));
    pen.rect(-0.12, -0.32, 0.24, 0.32, pen.ink(WOOD));
    let window = pen.glow([255, 226, 150]);
    pen.rect(-0.48, -0.45, 0.22, 0.18, window);
    pen.rect(0.26, -0.45, 0.22, 0.18, window);
    let frame = pen.ink(WHITE);
    pen.line(&[(-0.37, -0.45), (-0.37, -0.27)], 0.015, frame);
    pen.line(&[(0.37, -0.45), (0.37, -0.27)], 0.015, frame);
}

pub fn tree(pen: &mut Pen<'_>, pose: &Pose) {
    let sway = 0.03 * pose.cycle().sin();
    pen.poly(
        &[(-0.07, 0.0), (-0.04, -0.5), (0.04, -0.5), (0.07, 0.0)],
        pen.ink(WOOD),
    );
    let leaves = pen.ink(pose.colour);
    let dark = pen.ink(pose.colour.map(|c| c.saturating_sub(30)));
    pen.rotated((0.0, -0.4), sway, |pen| {
        pen.circle(-0.2, -0.6, 0.24, dark);
        pen.circle(0.2, -0.62, 0.24, dark);
        pen.circle(0.0, -0.78, 0.26, leaves);
        pen.circle(-0.14, -0.62, 0.2, leaves);
        pen.circle(0.15, -0.66, 0.2, leaves);
    });
}

pub fn flower(pen: &mut Pen<'_>, pose: &Pose) {
    let sway = 0.12 * pose.cycle().sin();
    pen.line(
        &[(0.0, 0.0), (sway * 0.3, -0.5), (sway, -0.72)],
        0.04,
        pen.ink(LEAF),
    );
    pen.ellipse(0.08, -0.3, 0.12, 0.04, pen.ink(LEAF));
    let petal = pen.ink(pose.colour);
    for k in 0..6 {
        let a = k as f32 * TAU / 6.0;
        pen.circle(sway + 0.12 * a.cos(), -0.78 + 0.12 * a.sin(), 0.09, petal);
    }
    pen.circle(sway, -0.78, 0.07, pen.ink([245, 200, 40]));
}

pub fn cactus(pen: &mut Pen<'_>, pose: &Pose) {
    let skin = pen.ink(pose.colour);
    pen.round_rect(-0.12, -1.0, 0.24, 1.0, 0.12, skin);
    pen.line(&[(-0.1, -0.45), (-0.32, -0.45), (-0.32, -0.72)], 0.14, skin);
    pen.line(&[(0.1, -0.6), (0.3, -0.6), (0.3, -0.85)], 0.14, skin);
    let rib = Pen::faded(pen.ink(DARK), 0.25);
    pen.line(&[(0.0, -0.95), (0.0, -0.05)], 0.02, rib);
}

pub fn sun(pen: &mut Pen<'_>, pose: &Pose) {
    let turn = pose.time * 0.2;
    let ray = pen.glow([255, 220, 90]);
    for k in 0..12 {
        let a = turn + k as f32 * TAU / 12.0;
        pen.line(
            &[
                (0.36 * a.cos(), -0.5 + 0.36 * a.sin()),
                (0.5 * a.cos(), -0.5 + 0.5 * a.sin()),
            ],
            0.04,
            ray,
        );
    }
    pen.circle(0.0, -0.5, 0.3, pen.glow(pose.colour));
}

pub fn moon(pen: &mut Pen<'_>, pose: &Pose) {
    pen.circle(0.0, -0.5, 0.42, Pen::faded(pen.glow([200, 210, 255]), 0.25));
    pen.circle(0.0, -0.5, 0.34, pen.glow(pose.colour));
    let crater = Pen::faded(pen.glow([120, 124, 140]), 0.5);
    pen.circle(-0.1, -0.58, 0.07, crater);
    pen.circle(0.12, -0.4, 0.05, crater);
}

pub fn lighthouse(pen: &mut Pen<'_>, pose: &Pose) {
    let stripe = pen.ink(pose.colour);
    let white = pen.ink(WHITE);
    pen.poly(
        &[(-0.2, 0.0), (-0.12, -0.8), (0.12, -0.8), (0.2, 0.0)],
        white,
    );
    for k in 0..3 {
        let y = -0.2 - k as f32 * 0.22;
        pen.poly(
            &[(-0.19, y), (-0.17, y - 0.1), (0.17, y - 0.1), (0.19, y)],
            pen.ink([200, 40, 40]),
        );
    }
    pen.rect(-0.12, -0.9, 0.24, 0.1, pen.glow([255, 240, 160]));
    pen.poly(&[(-0.15, -0.9), (0.0, -1.0), (0.15, -0.9)], stripe);
    let beam = Pen::faded(pen.glow([255, 244, 190]), 0.35);
    let a = pose.time * 1.5;
    let reach = 0.35 * a.sin();
    pen.poly(&[(0.0, -0.85), (reach, -0.95), (reach, -0.75)], beam);
    pen.rect(-0.05, -0.2, 0.1, 0.2, pen.ink(GLASS));
}
