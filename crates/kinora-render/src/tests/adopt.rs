use kinora_media::RgbFrame;

use super::kit::{assert_clip, frames, mean_abs_diff, synthetic_clip};
use crate::{CancelToken, Expected, Returned, adopt};

/// A bright column whose place tells the frame number apart.
fn counter(n: u32, frame: &mut RgbFrame) {
    let (w, h) = (frame.width, frame.height);
    let column = (n * 2) % w;
    for y in 0..h {
        for x in 0..w {
            let v = if x.abs_diff(column) < 2 { 250 } else { 20 };
            frame.set_pixel(x, y, [v, v, v]);
        }
    }
}

/// A returned clip a little longer than the job (4.4 s for 4 s, inside the tolerance) is cut by
/// time, not squeezed: output frame k is the clip's frame k, so the picture stays in step with
/// the soundtrack, which plays in real time.
#[test]
fn a_clip_of_slightly_the_wrong_length_is_cut_by_time_not_squeezed() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic_clip(&dir.path().join("long.mp4"), 256, 144, 106, counter);
    let returned = Returned {
        video: clip.clone(),
        audio_wav: None,
    };
    let expected = Expected {
        width: 256,
        height: 144,
        seconds: 4,
    };
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let adopted = adopt(
        &returned,
        expected,
        None,
        kinora_media::AudioCodec::Opus,
        &out_dir,
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    assert_clip(&adopted.video, 256, 144, 96);
    let (source, out) = (frames(&clip, 256, 144), frames(&adopted.video, 256, 144));
    for k in [0, 40, 95] {
        assert!(mean_abs_diff(&source[k], &out[k]) < 2.0, "frame {k}");
    }
}
