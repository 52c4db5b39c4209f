use std::f32::consts::PI;

use super::Pose;
use super::palette::{DARK, GLASS, SKIN, TROUSERS, WHITE, WOOD};
use crate::pen::Pen;

fn wheel(pen: &mut Pen<'_>, cx: f32, cy: f32, r: f32, turn: f32) {
    pen.circle(cx, cy, r, pen.ink(DARK));
    pen.circle(cx, cy, r * 0.55, pen.ink([150, 152, 160]));
    let hub = pen.ink([90, 92, 100]);
    for k in 0..3 {
        let a = turn + k as f32 * PI / 3.0;
        let (dx, dy) = (a.cos() * r * 0.5, a.sin() * r * 0.5);
        pen.line(&[(cx - dx, cy - dy), (cx + dx, cy + dy)], r * 0.12, hub);
    }
}

pub fn car(pen: &mut Pen<'_>, pose: &Pose) {
    let paint = pen.ink(pose.colour);
    pen.round_rect(-1.15, -0.62, 2.3, 0.42, 0.12, paint);
    pen.poly(
        &[(-0.65, -0.6), (-0.4, -0.98), (0.45, -0.98), (0.75, -0.6)],
        paint,
    );
    let glass = pen.ink(GLASS);
    pen.poly(
        &[(-0.55, -0.62), (-0.35, -0.9), (-0.02, -0.9), (-0.02, -0.62)],
        glass,
    );
    pen.poly(
        &[(0.06, -0.62), (0.06, -0.9), (0.4, -0.9), (0.62, -0.62)],
        glass,
    );
    pen.circle(1.1, -0.48, 0.06, pen.glow([255, 236, 170]));
    pen.rect(-1.15, -0.5, 0.08, 0.08, pen.glow([220, 40, 30]));
    let turn = pose.wheel();
    wheel(pen, -0.7, -0.2, 0.2, turn);
    wheel(pen, 0.7, -0.2, 0.2, turn);
}

pub fn bus(pen: &mut Pen<'_>, pose: &Pose) {
    let paint = pen.ink(pose.colour);
    pen.round_rect(-1.65, -0.95, 3.3, 0.8, 0.1, paint);
    let glass = pen.ink(GLASS);
    for i in 0..6 {
        pen.rect(-1.45 + i as f32 * 0.45, -0.85, 0.36, 0.28, glass);
    }
    pen.rect(1.4, -0.85, 0.2, 0.55, glass);
    pen.rect(-1.65, -0.45, 3.3, 0.05, pen.ink(WHITE));
    let turn = pose.wheel();
    wheel(pen, -1.1, -0.15, 0.15, turn);
    wheel(pen, 1.05, -0.15, 0.15, turn);
}

pub fn truck(pen: &mut Pen<'_>, pose: &Pose) {
    let paint = pen.ink(pose.colour);
    pen.rect(-1.4, -0.95, 1.9, 0.72, pen.ink([220, 222, 226]));
    pen.round_rect(0.55, -0.8, 0.85, 0.58, 0.08, paint);
    pen.rect(0.9, -0.72, 0.4, 0.22, pen.ink(GLASS));
    pen.rect(-1.4, -0.28, 2.8, 0.08, pen.ink(DARK));
    let turn = pose.wheel();
    for x in [-1.0, -0.55, 1.0] {
        wheel(pen, x, -0.16, 0.16, turn);
    }
}

pub fn bicycle(pen: &mut Pen<'_>, pose: &Pose) {
    let frame = pen.ink(pose.colour);
    let turn = pose.wheel();
    let r = 0.24;
    for x in [-0.55, 0.55] {
        pen.circle(x, -r, r, pen.ink(DARK));
        pen.circle(x, -r, r * 0.85, Pen::faded(pen.ink(WHITE), 0.0));
    }
    let inner = pen.ink([205, 208, 214]);
    for x in [-0.55, 0.55] {
        pen.circle(x, -r, r * 0.82, inner);
        wheel(pen, x, -r, r * 0.25, turn);
    }
    pen.line(
        &[(-0.55, -r), (-0.1, -0.52), (0.4, -0.52), (0.55, -r)],
        0.05,
        frame,
    );
    pen.line(&[(-0.55, -r), (0.0, -r), (-0.1, -0.52)], 0.05, frame);
    pen.line(&[(0.0, -r), (0.4, -0.52), (0.45, -0.62)], 0.05, frame);
    // The rider pedals: knees follow the crank.
    let crank = turn * 0.5;
    let (px, py) = (crank.cos() * 0.1, -r + crank.sin() * 0.1);
    let trousers = pen.ink(TROUSERS);
    pen.line(
        &[(-0.12, -0.62), (0.08 + px * 0.5, -0.45), (px, py)],
        0.07,
        trousers,
    );
    pen.line(
        &[(-0.12, -0.62), (0.25, -0.78)],
        0.12,
        pen.ink([60, 110, 180]),
    );
    pen.line(&[(0.2, -0.78), (0.45, -0.62)], 0.05, pen.ink(SKIN));
    pen.circle(0.28, -0.92, 0.08, pen.ink(SKIN));
}

pub fn boat(pen: &mut Pen<'_>, pose: &Pose) {
    let rock = 0.05 * pose.cycle().sin();
    pen.rotated((0.0, -0.2), rock, |pen| {
        let hull = pen.ink(pose.colour);
        pen.poly(
            &[(-1.1, -0.38), (1.1, -0.38), (0.8, -0.05), (-0.85, -0.05)],
            hull,
        );
        pen.rect(-1.1, -0.42, 2.2, 0.06, pen.ink(WOOD));
        pen.line(&[(0.0, -0.4), (0.0, -1.0)], 0.04, pen.ink(WOOD));
        pen.poly(
            &[(0.04, -0.98), (0.65, -0.45), (0.04, -0.45)],
            pen.ink(WHITE),
        );
        pen.poly(
            &[(-0.04, -0.9), (-0.5, -0.45), (-0.04, -0.45)],
            pen.ink([236, 230, 214]),
        );
    });
}

pub fn plane(pen: &mut Pen<'_>, pose: &Pose) {
    let body = pen.ink(pose.colour);
    pen.round_rect(-1.4, -0.62, 2.8, 0.26, 0.13, body);
    pen.poly(
        &[(-1.3, -0.6), (-1.6, -1.0), (-1.35, -1.0), (-1.0, -0.6)],
        body,
    );
    let wing = pen.ink(pose.colour.map(|c| c.saturating_sub(35)));
    pen.poly(
        &[(-0.2, -0.48), (0.35, -0.48), (-0.35, -0.05), (-0.55, -0.05)],
        wing,
    );
    let glass = pen.ink(GLASS);
    for i in 0..7 {
        pen.circle(-0.8 + i as f32 * 0.25, -0.53, 0.04, glass);
    }
    pen.poly(&[(1.15, -0.58), (1.35, -0.5), (1.15, -0.46)], glass);
}

pub fn train(pen: &mut Pen<'_>, pose: &Pose) {
    let paint = pen.ink(pose.colour);
    let glass = pen.ink(GLASS);
    let turn = pose.wheel();
    for car in 0..2 {
        let x0 = -2.85 + car as f32 * 1.95;
        pen.round_rect(x0, -0.95, 1.85, 0.75, 0.06, paint);
        for i in 0..4 {
            pen.rect(x0 + 0.15 + i as f32 * 0.42, -0.82, 0.3, 0.25, glass);
        }
        wheel(pen, x0 + 0.35, -0.15, 0.14, turn);
        wheel(pen, x0 + 1.5, -0.15, 0.14, turn);
    }
    pen.round_rect(1.05, -1.0, 1.7, 0.8, 0.25, paint);
    pen.rect(2.0, -0.85, 0.5, 0.3, glass);
    pen.circle(2.7, -0.35, 0.07, pen.glow([255, 240, 180]));
    wheel(pen, 1.4, -0.15, 0.14, turn);
    wheel(pen, 2.35, -0.15, 0.14, turn);
}

pub fn rocket(pen: &mut Pen<'_>, pose: &Pose) {
    let body = pen.ink(pose.colour);
    let flame = 0.15 + 0.06 * (pose.time * 30.0).sin();
    pen.poly(
        &[(-0.1, -0.08), (0.0, -0.08 + flame * 1.4), (0.1, -0.08)],
        pen.glow([255, 170, 40]),
    );
    pen.poly(
        &[(-0.28, -0.1), (-0.14, -0.35), (-0.14, -0.1)],
        pen.ink([200, 40, 40]),
    );
    pen.poly(
        &[(0.28, -0.1), (0.14, -0.35), (0.14, -0.1)],
        pen.ink([200, 40, 40]),
    );
    pen.round_rect(-0.15, -0.8, 0.3, 0.72, 0.05, body);
    pen.poly(
        &[(-0.15, -0.79), (0.0, -1.05), (0.15, -0.79)],
        pen.ink([200, 40, 40]),
    );
    pen.circle(0.0, -0.55, 0.07, pen.ink(GLASS));
}

pub fn balloon(pen: &mut Pen<'_>, pose: &Pose) {
    let envelope = pen.ink(pose.colour);
    pen.ellipse(0.0, -0.68, 0.45, 0.4, envelope);
    pen.poly(
        &[(-0.38, -0.5), (0.38, -0.5), (0.12, -0.25), (-0.12, -0.25)],
        envelope,
    );
    let stripe = pen.ink(WHITE);
    pen.ellipse(0.0, -0.68, 0.12, 0.39, stripe);
    let rope = pen.ink(DARK);
    pen.line(&[(-0.12, -0.25), (-0.1, -0.14)], 0.01, rope);
    pen.line(&[(0.12, -0.25), (0.1, -0.14)], 0.01, rope);
    pen.rect(-0.11, -0.14, 0.22, 0.13, pen.ink(WOOD));
}
