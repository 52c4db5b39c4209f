use super::kit::{
    assert_clip, create, frames, mean_abs_diff, psnr_of, run, x264_clip, x264_clip_at,
};
use crate::pipeline::scene_painter;
use crate::{CancelToken, FPS, RenderError, RenderMode, Scene, render};

/// The median frame-to-frame difference of a clip, leaving out the pair at `skip`.
fn typical_step(clip: &[Vec<u8>], skip: usize) -> f64 {
    let mut steps: Vec<f64> = clip
        .windows(2)
        .enumerate()
        .filter(|(i, _)| *i != skip)
        .map(|(_, w)| mean_abs_diff(&w[0], &w[1]))
        .collect();
    steps.sort_by(f64::total_cmp);
    steps[steps.len() / 2]
}

#[test]
fn extending_our_clip_continues_its_scene_without_a_jump() {
    let dir = tempfile::tempdir().unwrap();
    let src = run(
        &create("a brown dog runs on a beach, pan right", 256, 144, 3, 5),
        &dir.path().join("src"),
    );
    let mut req = create("the dog jumps while a white bird flies", 256, 144, 1, 5);
    req.mode = RenderMode::Extend {
        source: src.video.clone(),
        source_scene: Some(src.scene.clone()),
    };
    let out = run(&req, &dir.path().join("ext"));
    assert_clip(&out.video, 256, 144, 96);
    let before = frames(&src.video, 256, 144);
    let after = frames(&out.video, 256, 144);
    assert!(
        before.iter().zip(&after).all(|(a, b)| a == b),
        "the source part must decode identically"
    );
    // Every keyframe refreshes the picture, so a step there is part of any clip; the source's
    // own keyframe at 2 s (frame 48) shows how large.
    let seam = mean_abs_diff(&after[71], &after[72]);
    let keyframe = mean_abs_diff(&after[47], &after[48]);
    let typical = typical_step(&after, 71);
    assert!(
        seam <= 1.25 * keyframe.max(typical),
        "seam {seam:.2}, keyframe {keyframe:.2}, typical {typical:.2}"
    );
    let scene: Scene = serde_json::from_slice(&std::fs::read(&out.scene).unwrap()).unwrap();
    assert_eq!(
        (
            scene.total_frames(),
            scene.timeline.len(),
            scene.subjects.len()
        ),
        (96, 2, 2)
    );

    // Drawn without the codec, the seam is an ordinary step.
    let mut painter = scene_painter(&scene, None, scene.frame.unwrap()).unwrap();
    let pristine: Vec<Vec<u8>> = (66..78)
        .map(|f| {
            let mut rgb = vec![0; 256 * 144 * 3];
            painter.paint(f, &mut rgb);
            rgb
        })
        .collect();
    let seam = mean_abs_diff(&pristine[5], &pristine[6]);
    assert!(
        seam <= 1.5 * typical_step(&pristine, 5),
        "pristine seam {seam:.2}"
    );

    // The stitched clip's scene continues again: chains grow up to 120 s.
    let mut again = create("the dog walks", 256, 144, 1, 5);
    again.mode = RenderMode::Extend {
        source: out.video.clone(),
        source_scene: Some(out.scene.clone()),
    };
    let chained = run(&again, &dir.path().join("ext2"));
    assert_clip(&chained.video, 256, 144, 120);
    again.seconds = 117;
    let too_long = render(
        &again,
        &dir.path().join("ext3"),
        &|_| {},
        &CancelToken::new(),
    );
    assert!(matches!(
        too_long,
        Err(RenderError::InvalidInput {
            param: "seconds",
            ..
        })
    ));
}

#[test]
fn extending_a_foreign_clip_starts_from_its_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let src = x264_clip(&dir.path().join("foreign.mp4"), 256, 144, 2);
    let mut req = create("a red balloon floats, zoom in", 256, 144, 1, 0);
    req.mode = RenderMode::Extend {
        source: src.clone(),
        source_scene: None,
    };
    let out = run(&req, &dir.path().join("ext"));
    assert_clip(&out.video, 256, 144, 72);
    let before = frames(&src, 256, 144);
    let after = frames(&out.video, 256, 144);
    for i in [0, 20, 47] {
        let sq: f64 = before[i]
            .iter()
            .zip(&after[i])
            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
            .sum();
        assert!(
            psnr_of(sq, before[i].len()) > 30.0,
            "re-encoded source frame {i}"
        );
    }
    let seam = mean_abs_diff(&after[47], &after[48]);
    let typical = typical_step(&after, 47);
    assert!(
        seam <= 1.5 * typical.max(0.5),
        "seam step {seam:.2} vs typical {typical:.2}"
    );
    assert_eq!(FPS, 24);
}

/// A 30 fps source is played at the platform's 24 fps by time, not frame for frame: the
/// stitched clip's source part lasts as long as the source did (48 frames for 2 s, not 60) and
/// each of its frames is the source frame on screen at that instant.
#[test]
fn a_source_at_another_frame_rate_keeps_its_speed() {
    let dir = tempfile::tempdir().unwrap();
    let src = x264_clip_at(&dir.path().join("30fps.mp4"), 256, 144, 2, 30);
    let mut req = create("a red balloon floats", 256, 144, 1, 0);
    req.mode = RenderMode::Extend {
        source: src.clone(),
        source_scene: None,
    };
    let out_dir = dir.path().join("ext");
    let out = run(&req, &out_dir);
    assert_clip(&out.video, 256, 144, 48 + 24);
    let before = frames(&src, 256, 144);
    let after = frames(&out.video, 256, 144);
    for k in [0usize, 12, 30, 47] {
        // Output frame k is at k/24 s; the source frames either side of that time are both
        // right answers (a re-timer may round a tie either way), a frame further off is not.
        let best = [k * 30 / 24, (k * 30).div_ceil(24)]
            .into_iter()
            .map(|j| {
                let shown = &before[j];
                let sq: f64 = shown
                    .iter()
                    .zip(&after[k])
                    .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                    .sum();
                psnr_of(sq, shown.len())
            })
            .fold(f64::MIN, f64::max);
        assert!(best > 30.0, "frame {k}: {best:.1} dB");
    }
    let seam = mean_abs_diff(&after[47], &after[48]);
    let typical = typical_step(&after, 47);
    assert!(
        seam <= 1.5 * typical.max(0.5),
        "seam {seam:.2} vs {typical:.2}"
    );
    assert!(
        !out_dir.join("source.retimed.mp4").exists(),
        "the re-timed copy is cleaned up"
    );
}
