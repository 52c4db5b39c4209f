//! Subjects stay in the shot, and captions appear exactly when words were not drawn: checked on
//! the painter's own subject boxes and pixels, frame by frame, at a small size.

use crate::FPS;
use crate::backdrop::Backdrop;
use crate::caption::caption_last_segment;
use crate::painter::Painter;
use crate::scene::{FrameSpec, Scene};

const W: u32 = 192;
const H: u32 = 108;

fn painter(prompt: &str, seconds: u32, captions: bool) -> (Scene, Painter) {
    let mut scene = Scene::from_prompt(prompt, 3, &[]);
    scene.frame = Some(FrameSpec {
        width: W,
        height: H,
        fps: FPS,
    });
    let (camera, weather) = (scene.camera, scene.weather);
    scene.push_segment(seconds * FPS, prompt, camera, weather, &[]);
    if captions {
        let ignored = scene.ignored_words.clone();
        caption_last_segment(&mut scene, &ignored);
    }
    let backdrop = Backdrop::procedural(&scene, W, H);
    let p = Painter::new(&scene, W, H, backdrop, &Default::default());
    (scene, p)
}

/// Share of the box's area inside the frame.
fn inside(b: [f32; 4]) -> f32 {
    let area = (b[2] - b[0]) * (b[3] - b[1]);
    let w = (b[2].min(W as f32) - b[0].max(0.0)).max(0.0);
    let h = (b[3].min(H as f32) - b[1].max(0.0)).max(0.0);
    w * h / area.max(1e-6)
}

#[test]
fn subjects_stay_in_frame() {
    for prompt in [
        "a sailboat sailing on the lake",
        "a dog chasing a ball in the park",
        "two astronauts walk on the moon, earth in the sky",
        "a dragon flies over the mountains at sunset, aerial shot",
        "a red car drives through the city, pan left",
        "a horse gallops across a field, zoom in",
        "three birds fly over the ocean, wide shot",
        "a runner sprints along the beach, dolly out",
        "a bicycle rides along the road, pan right",
        "a cat sleeping on a windowsill, morning sun",
    ] {
        let (scene, painter) = painter(prompt, 8, false);
        assert!(!scene.subjects.is_empty(), "{prompt:?}");
        for s in &scene.subjects {
            let frames = scene.total_frames();
            let kept = (0..frames)
                .filter(|&f| painter.subject_box(s, f).is_some_and(|b| inside(b) >= 0.9))
                .count();
            assert!(
                kept as f32 >= 0.95 * frames as f32,
                "{prompt:?}: {:?} in frame {kept}/{frames}",
                s.kind
            );
        }
    }
}

#[test]
fn aerial_horizon_is_in_the_upper_third() {
    let (scene, _) = painter(
        "a dragon flies over the mountains at sunset, aerial shot",
        1,
        false,
    );
    let b = Backdrop::procedural(&scene, W, H);
    let view_top = (b.height - H) as f32 / 2.0;
    let on_screen = (b.horizon - view_top) / H as f32;
    assert!((0.15..0.34).contains(&on_screen), "horizon at {on_screen}");
}

fn lower_third_differs(a: &[u8], b: &[u8]) -> (bool, bool) {
    let third = (H as usize * 2).div_ceil(3) * W as usize * 3;
    (a[..third] != b[..third], a[third..] != b[third..])
}

#[test]
fn a_caption_appears_exactly_when_words_were_ignored() {
    let mut with = vec![0u8; (W * H * 3) as usize];
    let mut without = with.clone();
    for (prompt, ignored) in [
        ("abstract ink swirling in water", true),
        ("close up of an old man's face as he laughs", true),
        ("a red fox runs through a forest at dusk", false),
        ("a cat sleeping on a windowsill at dawn", false),
    ] {
        painter(prompt, 1, true).1.paint(12, &mut with);
        painter(prompt, 1, false).1.paint(12, &mut without);
        let (above, below) = lower_third_differs(&with, &without);
        assert!(
            !above,
            "{prompt:?}: the caption reached above the lower third"
        );
        assert_eq!(below, ignored, "{prompt:?}");
    }
}
