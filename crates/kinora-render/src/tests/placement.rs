//! Where everyday subjects end up in the picture, checked on painted pixels: a close-up person
//! is head and shoulders (face over shirt, filling the frame), a close-up animal its head, a
//! sleeping animal lies low, a resting cat is on the windowsill, boats are on the water, and a
//! still life is large, central and clear of the caption's lower third.

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
fn a_close_up_of_a_laughing_man_frames_his_head_and_shoulders() {
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
        let mask = shot.subject_mask(n);
        let [_, y0, _, y1] = shot.bbox(&mask).expect("the man is drawn");
        let tall = (y1 - y0 + 1) as f32 / H as f32;
        assert!(
            tall >= 0.6,
            "frame {n}: the man is {tall:.2} of the frame tall"
        );
        // A narrow band down the middle of the head: face, then shirt to the frame's bottom.
        let columns = (
            (p.x - 0.05 * p.size).max(0.0) as u32,
            (p.x + 0.05 * p.size) as u32,
        );
        let face = rows_of(&rgb, skin, columns, 2);
        let (Some(&face_top), Some(&face_bottom)) = (face.first(), face.last()) else {
            panic!("frame {n}: no face");
        };
        assert!(
            y0 as f32 <= 0.15 * H as f32 && face_top as f32 <= 0.4 * H as f32,
            "frame {n}: the head starts at row {y0} and the face at {face_top}, not in the upper part"
        );
        let face_h = (face_bottom - face_top + 1) as f32 / H as f32;
        assert!(
            face_h >= 0.2,
            "frame {n}: the face is {face_h:.2} of the frame"
        );
        let torso = rows_of(&rgb, shirt, (0, W), 4);
        assert!(
            torso.iter().all(|&y| y > face_top) && torso.last() >= Some(&(H - H / 6)),
            "frame {n}: the shirt is not under the face down to the frame's foot: {torso:?}"
        );
        let centre = p.x / W as f32;
        assert!(
            (0.3..=0.7).contains(&centre),
            "frame {n}: centred at {centre:.2}"
        );
    }
}

#[test]
fn a_close_up_of_an_animal_frames_its_head() {
    for prompt in ["close-up of a cat's face", "headshot of a dog"] {
        let mut shot = Shot::new(prompt, W, H, 1, true);
        let mask = shot.subject_mask(12);
        let [x0, y0, x1, y1] = shot.bbox(&mask).expect("the animal is drawn");
        let covered = mask.iter().filter(|&&m| m).count() as f32 / mask.len() as f32;
        assert!(
            covered >= 0.25,
            "{prompt:?}: covers {covered:.2} of the frame"
        );
        assert!(
            y0 as f32 <= 0.2 * H as f32 && (y1 - y0 + 1) as f32 >= 0.6 * H as f32,
            "{prompt:?}: rows {y0}..={y1}"
        );
        assert!(x1 > W / 2 && x0 < W / 2, "{prompt:?}: columns {x0}..={x1}");
    }
}

#[test]
fn a_sleeping_animal_lies_low_and_long_and_breathes() {
    for prompt in [
        "a dog sleeping in a meadow",
        "a cat asleep on the sofa",
        "close-up of a cat sleeping",
    ] {
        let mut shot = Shot::new(prompt, W, H, 2, false);
        let animal = shot.scene.subjects[0].clone();
        let p = shot.painter.place(&animal, 0).unwrap();
        let mask = shot.subject_mask(0);
        let [x0, y0, x1, y1] = shot.bbox(&mask).expect("the animal is drawn");
        let (wide, tall) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        assert!(
            wide >= 2.5 * tall,
            "{prompt:?}: {wide} x {tall} px is not lying down"
        );
        assert!(
            (y1 as f32 - p.y).abs() <= 0.02 * H as f32 + 1.0,
            "{prompt:?}: lowest row {y1}, ground at {}",
            p.y
        );
        // Standing, its head is at about 0.9 of its height; squashed, it was still over 0.55.
        assert!(
            (p.y - y0 as f32) <= 0.45 * p.size,
            "{prompt:?}: top at row {y0}, {} px over the ground, figure {} px",
            p.y - y0 as f32,
            p.size
        );
        if shot.scene.framing == crate::Framing::CloseUp {
            assert!(
                wide >= 0.6 * W as f32,
                "{prompt:?}: {wide} px wide in a close-up"
            );
        }
        let (a, b) = (shot.frame(0), shot.frame(24));
        assert_ne!(a, b, "{prompt:?}: no breath between 0 s and 1 s");
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
