use super::kit::{
    assert_clip, create, frames, mean_abs_diff, mean_luma, run, x264_clip, x264_clip_at,
};
use crate::edit::apply_edit;
use crate::figure::extent;
use crate::pipeline::scene_painter;
use crate::{NamedColour, RenderMode, Scene, SubjectKind};

pub(super) fn edit(
    source: &crate::RenderOutputs,
    prompt: &str,
    dir: &std::path::Path,
) -> crate::RenderOutputs {
    let mut req = create(prompt, 0, 0, 0, 2);
    req.mode = RenderMode::Edit {
        source: source.video.clone(),
        source_scene: Some(source.scene.clone()),
    };
    run(&req, dir)
}

#[test]
fn night_edit_darkens_our_clip_and_keeps_its_shape() {
    let dir = tempfile::tempdir().unwrap();
    let src = run(
        &create("a blue car drives through the city at noon", 256, 144, 1, 2),
        &dir.path().join("a"),
    );
    let out = edit(&src, "make it night", &dir.path().join("b"));
    assert_clip(&out.video, 256, 144, 24);
    let (a, b) = (frames(&src.video, 256, 144), frames(&out.video, 256, 144));
    assert!(
        mean_luma(&b[12]) < 0.6 * mean_luma(&a[12]),
        "{} vs {}",
        mean_luma(&b[12]),
        mean_luma(&a[12])
    );
}

#[test]
fn recolouring_the_car_moves_its_pixels_towards_red_and_little_else() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (320u32, 180u32);
    let src = run(
        &create("a blue car drives through the city", w, h, 1, 4),
        &dir.path().join("a"),
    );
    let out = edit(&src, "make the car red", &dir.path().join("b"));
    assert_clip(&out.video, w, h, 24);
    let scene: Scene = serde_json::from_slice(&std::fs::read(&out.scene).unwrap()).unwrap();
    let car = scene
        .subjects
        .iter()
        .find(|s| s.kind == SubjectKind::Car)
        .unwrap();
    assert_eq!(car.colour, NamedColour::Red);
    let painter = scene_painter(&scene, None, scene.frame.unwrap()).unwrap();
    let p = painter.place(car, 12).unwrap();
    let half = extent(SubjectKind::Car) * p.size;
    let inside = |x: u32, y: u32| {
        (x as f32 - p.x).abs() < half && y as f32 > p.y - p.size && (y as f32) < p.y
    };
    let (a, b) = (&frames(&src.video, w, h)[12], &frames(&out.video, w, h)[12]);
    let redness = |f: &[u8]| {
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in 0..h {
            for x in 0..w {
                if inside(x, y) {
                    let i = ((y * w + x) * 3) as usize;
                    sum += f64::from(f[i]) - f64::from(f[i + 2]);
                    n += 1.0;
                }
            }
        }
        sum / n
    };
    assert!(
        redness(b) > redness(a) + 40.0,
        "{} vs {}",
        redness(b),
        redness(a)
    );
    let outside: Vec<usize> = (0..w * h)
        .filter(|i| !inside(i % w, i / w))
        .map(|i| i as usize)
        .collect();
    let pick = |f: &[u8]| {
        outside
            .iter()
            .flat_map(|&i| f[i * 3..i * 3 + 3].to_vec())
            .collect::<Vec<u8>>()
    };
    assert!(mean_abs_diff(&pick(a), &pick(b)) < 2.0);
}

#[test]
fn foreign_clips_are_graded_frame_by_frame() {
    let dir = tempfile::tempdir().unwrap();
    let src = x264_clip(&dir.path().join("x.mp4"), 256, 144, 1);
    let mut req = create("make it night, noir style", 0, 0, 0, 2);
    req.mode = RenderMode::Edit {
        source: src.clone(),
        source_scene: None,
    };
    let out = run(&req, &dir.path().join("b"));
    assert_clip(&out.video, 256, 144, 24);
    let (a, b) = (frames(&src, 256, 144), frames(&out.video, 256, 144));
    assert!(mean_luma(&b[5]) < 0.6 * mean_luma(&a[5]));
    let colour: f64 = b[5]
        .chunks_exact(3)
        .map(|p| f64::from(p[0].abs_diff(p[2])))
        .sum::<f64>()
        / (256.0 * 144.0);
    assert!(colour < 4.0, "noir leaves colour {colour}");
}

/// An edit keeps a 30 fps clip's length: 2 s come out as 48 frames at 24 fps, with sound.
#[test]
fn an_edit_keeps_the_length_of_a_clip_at_another_frame_rate() {
    let dir = tempfile::tempdir().unwrap();
    let src = x264_clip_at(&dir.path().join("30fps.mp4"), 256, 144, 2, 30);
    let mut req = create("make it snow", 0, 0, 0, 2);
    req.mode = RenderMode::Edit {
        source: src,
        source_scene: None,
    };
    let out = run(&req, &dir.path().join("e"));
    assert_clip(&out.video, 256, 144, 48);
}

#[test]
fn edits_add_remove_and_replace_subjects() {
    let mut scene = Scene::from_prompt("a cat and a dog in a garden", 1, &[]);
    scene.push_segment(24, "", scene.camera, scene.weather, &[]);
    apply_edit(&mut scene, "remove the dog");
    assert_eq!(
        scene.subjects.iter().map(|s| s.kind).collect::<Vec<_>>(),
        vec![SubjectKind::Cat]
    );
    apply_edit(&mut scene, "replace the cat with a green fox");
    assert_eq!(
        (scene.subjects[0].kind, scene.subjects[0].colour),
        (SubjectKind::Fox, NamedColour::Green)
    );
    apply_edit(&mut scene, "add a horse");
    assert_eq!(scene.subjects.len(), 2);
    let horse = scene.subjects[1].clone();
    assert!(scene.subject_state(&horse, 10).is_some());
    apply_edit(&mut scene, "make it snow in watercolor style");
    assert_eq!(
        (scene.weather, scene.style),
        (crate::Weather::Snow, crate::Style::Watercolor)
    );
}

/// Mean red minus blue over a frame: how warm it looks.
pub(super) fn warmth(rgb: &[u8]) -> f64 {
    rgb.chunks_exact(3)
        .map(|p| f64::from(p[0]) - f64::from(p[2]))
        .sum::<f64>()
        / (rgb.len() / 3) as f64
}

#[test]
fn make_it_warmer_is_understood_and_warms_the_clip() {
    let reading = crate::interpret_edit("make it warmer");
    assert!(reading.ignored.is_empty(), "{reading:?}");
    assert!(
        reading
            .understood
            .iter()
            .any(|u| u.word == "warmer" && u.as_ == "mood:romantic"),
        "{reading:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let src = run(
        &create("a blue car drives through the city at noon", 256, 144, 1, 2),
        &dir.path().join("a"),
    );
    let out = edit(&src, "make it warmer", &dir.path().join("b"));
    let (a, b) = (frames(&src.video, 256, 144), frames(&out.video, 256, 144));
    assert!(
        warmth(&b[12]) > warmth(&a[12]) + 5.0,
        "{} vs {}",
        warmth(&b[12]),
        warmth(&a[12])
    );
    // A clip the engine did not make is regraded the same way.
    let foreign = x264_clip(&dir.path().join("x.mp4"), 256, 144, 1);
    let mut req = create("make it warmer", 0, 0, 0, 2);
    req.mode = RenderMode::Edit {
        source: foreign.clone(),
        source_scene: None,
    };
    let graded = run(&req, &dir.path().join("c"));
    let (a, b) = (frames(&foreign, 256, 144), frames(&graded.video, 256, 144));
    assert!(
        warmth(&b[5]) > warmth(&a[5]) + 5.0,
        "{} vs {}",
        warmth(&b[5]),
        warmth(&a[5])
    );
}
