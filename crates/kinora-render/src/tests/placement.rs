//! Where everyday subjects end up in the picture, checked on painted pixels: a close-up person
//! is whole (face over shirt), a resting cat is on the windowsill, boats are on the water, and
//! a still life is large, central and clear of the caption's lower third.

use super::shot::Shot;
use crate::figure::palette::SKIN;
use crate::look::Look;

const W: u32 = 384;
const H: u32 = 216;

fn near(p: &[u8], want: [u8; 3]) -> bool {
    p.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 14)
}

/// Rows (ascending) of frame `rgb` holding at least `least` pixels of colour `want` in columns
/// `x0..x1`.
fn rows_of(rgb: &[u8], want: [u8; 3], (x0, x1): (u32, u32), least: usize) -> Vec<u32> {
    (0..H)
        .filter(|&y| {
            (x0..x1.min(W))
                .filter(|&x| near(&rgb[((y * W + x) * 3) as usize..][..3], want))
                .count()
                >= least
        })
        .collect()
}

#[test]
fn a_laughing_close_up_shows_a_face_above_a_shirt() {
    let mut shot = Shot::new("close up of an old man's face as he laughs", W, H, 1, true);
    let s = &shot.scene;
    let man = s.subjects[0].clone();
    let look = Look::new(s.time_of_day, s.weather, s.mood, s.style);
    let (skin, shirt) = (
        look.surface(SKIN, man.depth),
        look.surface(man.colour.rgb(), man.depth),
    );
    for n in [0, 7, 12, 20] {
        let p = shot.painter.place(&man, n).unwrap();
        let rgb = shot.frame(n);
        // A narrow band down the middle of the figure: head, then body, clear of the hands.
        let columns = (
            (p.x - 0.05 * p.size).max(0.0) as u32,
            (p.x + 0.05 * p.size) as u32,
        );
        let face = rows_of(&rgb, skin, columns, 2);
        let torso = rows_of(&rgb, shirt, columns, 2);
        let (Some(&face_top), Some(&face_bottom)) = (face.first(), face.last()) else {
            panic!("frame {n}: no face");
        };
        let below = torso.iter().filter(|&&y| y > face_bottom).count() as f32;
        assert!(
            below >= 0.15 * p.size,
            "frame {n}: {below} shirt rows under the face (rows {face_top}..={face_bottom}), \
             figure {} px tall",
            p.size
        );
        assert!(
            torso.iter().all(|&y| y >= face_top),
            "frame {n}: shirt above the head"
        );
    }
}

#[test]
fn a_cat_sleeping_on_a_windowsill_lies_on_the_sill() {
    let mut shot = Shot::new("a cat sleeping on a windowsill, morning sun", W, H, 2, true);
    let sill = *shot
        .backdrop
        .surfaces
        .iter()
        .find(|f| f.support == crate::Support::Sill)
        .expect("a room has a sill");
    for n in (0..48).step_by(6) {
        let view = shot.view(n);
        let (x0, y) = view.to_screen(sill.x0, sill.y);
        let (x1, _) = view.to_screen(sill.x1, sill.y);
        let mask = shot.subject_mask(n);
        let [bx0, by0, bx1, by1] = shot.bbox(&mask).expect("the cat is drawn");
        let tall = (by1 - by0 + 1) as f32 / H as f32;
        assert!(
            tall >= 0.12,
            "frame {n}: the cat is {tall:.3} of the frame tall"
        );
        assert!(
            (by1 as f32 - y).abs() <= 0.03 * H as f32,
            "frame {n}: the cat's lowest row {by1} is not on the sill at {y}"
        );
        let (left, right) = (bx0 as f32, bx1 as f32);
        let overhang = left.max(x0) - left + right - right.min(x1);
        assert!(
            overhang <= 0.1 * (right - left),
            "frame {n}: cat {left}..{right} off the sill {x0}..{x1}"
        );
    }
}

#[test]
fn boats_float_on_the_water() {
    for prompt in ["a sailboat on a lake", "a sailboat sails across the bay"] {
        let mut shot = Shot::new(prompt, W, H, 3, true);
        let [top, bottom] = shot
            .backdrop
            .water
            .unwrap_or_else(|| panic!("{prompt:?}: no water drawn"));
        for n in 0..shot.scene.total_frames() {
            let view = shot.view(n);
            let (band_top, band_bottom) =
                (view.to_screen(0.0, top).1, view.to_screen(0.0, bottom).1);
            let mask = shot.subject_mask(n);
            let [x0, _, x1, keel] = shot.bbox(&mask).expect("the boat is drawn");
            assert!(
                band_top < keel as f32 && keel as f32 <= band_bottom.min(H as f32),
                "{prompt:?} frame {n}: keel at row {keel}, water rows {band_top}..{band_bottom}"
            );
            // What the hull rests on: the water's own colour, in the empty shot, just under it.
            let under = shot.backdrop_frame(n);
            let y = (keel + 1).min(H - 1);
            let x = (x0 + x1) / 2;
            let p = &under[((y * W + x) * 3) as usize..][..3];
            assert!(
                u32::from(p[2]) > u32::from(p[0]) + 40 && p[2] > p[1],
                "{prompt:?} frame {n}: under the keel is {p:?}, not water"
            );
        }
    }
}

#[test]
fn a_still_life_is_large_central_and_clear_of_the_caption() {
    for prompt in ["a teapot on a kitchen table", "a teapot"] {
        let mut shot = Shot::new(prompt, W, H, 1, true);
        let lower_third = (H * 2).div_ceil(3);
        for n in [0, 12, 23] {
            let mask = shot.subject_mask(n);
            let [x0, y0, x1, y1] = shot.bbox(&mask).expect("the teapot is drawn");
            let tall = (y1 - y0 + 1) as f32 / H as f32;
            assert!(
                tall >= 0.2,
                "{prompt:?} frame {n}: {tall:.3} of the frame tall"
            );
            assert!(
                y1 < lower_third,
                "{prompt:?} frame {n}: reaches row {y1}, into the lower third"
            );
            let centre = (x0 + x1) as f32 / 2.0 / W as f32;
            assert!(
                (0.35..=0.65).contains(&centre),
                "{prompt:?} frame {n}: centred at {centre:.2}"
            );
        }
    }
}
