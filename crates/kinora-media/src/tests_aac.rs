//! End-to-end tests of the `aac` feature: AAC-LC clips checked with ffprobe/ffmpeg, decoded
//! back, made twice, and stitched.

use crate::testutil::{ffmpeg_errors, ffprobe, gradient_frame, num, stream, tone};
use crate::*;
use std::path::Path;
use std::process::Command;

/// One AAC access unit, in seconds: the tolerance on the audio track's length.
const AAC_FRAME_S: f64 = 1024.0 / 48_000.0;
/// FDK's AAC-LC delay: the samples at the start of every AAC clip that are encoder priming.
const PRIMING: usize = 2048;

fn encode(path: &Path, params: VideoParams, frames: u32, audio: Option<(AudioCodec, &[f32])>) {
    let mut enc = Mp4Encoder::create_with_audio(path, params, audio.map(|(c, _)| c)).unwrap();
    for t in 0..frames {
        enc.push_frame(&gradient_frame(params.width, params.height, t))
            .unwrap();
    }
    if let Some((_, pcm)) = audio {
        for chunk in pcm.chunks(2 * 1234) {
            enc.push_audio(chunk).unwrap();
        }
    }
    enc.finish().unwrap();
}

/// ffprobe: H.264 of the right size and frame count, AAC-LC stereo 48 kHz as long as the video
/// within one access unit, and a full decode without a single error.
fn check_aac_clip(path: &Path, params: VideoParams, frames: u32) {
    let probe = ffprobe(path);
    let v = stream(&probe, "video").expect("video stream");
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(
        (v["width"].clone(), v["height"].clone()),
        (params.width.into(), params.height.into())
    );
    assert_eq!(num(&v["nb_read_frames"]), f64::from(frames));
    let want = f64::from(frames) / f64::from(params.fps);
    assert!(
        (num(&v["duration"]) - want).abs() < 1e-3,
        "video {}",
        v["duration"]
    );
    let a = stream(&probe, "audio").expect("audio stream");
    assert_eq!(a["codec_name"], "aac");
    assert_eq!(a["profile"], "LC");
    assert_eq!(a["channels"], 2);
    assert_eq!(num(&a["sample_rate"]), 48_000.0);
    let d = num(&a["duration"]);
    assert!(
        d >= want - 1e-3 && d <= want + AAC_FRAME_S + 1e-3,
        "audio duration {d} vs video {want}"
    );
    let errors = ffmpeg_errors(path);
    assert!(errors.trim().is_empty(), "ffmpeg decode errors: {errors}");
}

/// The audio as FFmpeg's own AAC decoder plays it: interleaved stereo f32.
fn ffmpeg_pcm(path: &Path) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-map", "0:a", "-f", "f32le", "-ac", "2", "-ar", "48000", "-",
        ])
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn decode_all(path: &Path) -> Vec<RgbFrame> {
    let mut dec = Mp4Decoder::open(path).unwrap();
    std::iter::from_fn(|| dec.next_frame().unwrap()).collect()
}

/// Silence with Hann-windowed 1 kHz bursts centred on `centres` (samples per channel).
fn bursts(total: usize, centres: &[usize]) -> Vec<f32> {
    let half = 2400;
    let mut pcm = vec![0.0; total * 2];
    for &c in centres {
        for i in c - half..c + half {
            let w = 0.5
                - 0.5 * (std::f32::consts::TAU * (i + half - c) as f32 / (2 * half) as f32).cos();
            let s = w * 0.6 * (std::f32::consts::TAU * 1000.0 * i as f32 / 48_000.0).sin();
            pcm[2 * i] = s;
            pcm[2 * i + 1] = s;
        }
    }
    pcm
}

/// Energy-weighted centre (in samples per channel) of `pcm` within `range`.
fn centre(pcm: &[f32], range: std::ops::Range<usize>) -> f64 {
    let (mut sum, mut weighted) = (0.0f64, 0.0f64);
    for i in range {
        let e = f64::from(pcm[2 * i]).powi(2);
        sum += e;
        weighted += e * i as f64;
    }
    weighted / sum
}

#[test]
fn aac_clip_probes_decodes_and_keeps_video() {
    let dir = tempfile::tempdir().unwrap();
    let params = VideoParams::new(320, 240, 24);
    // 53 frames: the clip does not end on an access unit boundary. 0.3 s of extra audio is trimmed.
    let frames = 53;
    let samples = params.audio_samples_for(frames) as usize;
    let pcm = tone(samples + 14_400);
    let (aac, opus) = (dir.path().join("aac.mp4"), dir.path().join("opus.mp4"));
    encode(&aac, params, frames, Some((AudioCodec::Aac, &pcm)));
    encode(&opus, params, frames, Some((AudioCodec::Opus, &pcm)));
    check_aac_clip(&aac, params, frames);
    assert!(
        decode_all(&aac) == decode_all(&opus),
        "the codec choice changed the video"
    );

    // Our decoder and FFmpeg's agree with the input after the priming: in sync, not delayed.
    let ours = decode_audio(&aac).unwrap().unwrap();
    assert_eq!(ours.len(), samples * 2);
    let theirs = ffmpeg_pcm(&aac);
    assert!(theirs.len() >= samples * 2);
    for decoded in [&ours[..], &theirs[..samples * 2]] {
        let span = 2 * (PRIMING + 1024)..2 * samples;
        let err = decoded[span.clone()]
            .iter()
            .zip(&pcm[span.clone()])
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            / span.len() as f32;
        assert!(
            err < 1e-3,
            "decoded audio differs from the input: mean squared error {err}"
        );
    }
}

#[test]
fn aac_audio_is_in_sync_with_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let params = VideoParams::new(160, 120, 24);
    let path = dir.path().join("sync.mp4");
    let total = params.audio_samples_for(72) as usize;
    let centres = [24_000, 72_000, 120_000];
    encode(
        &path,
        params,
        72,
        Some((AudioCodec::Aac, &bursts(total, &centres))),
    );
    let played = ffmpeg_pcm(&path);
    for c in centres {
        let found = centre(&played, c - 6000..c + 6000);
        assert!(
            (found - c as f64).abs() < 24.0,
            "burst at sample {c} plays at {found:.1} (A/V offset)"
        );
    }
}

#[test]
fn aac_output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let params = VideoParams::new(640, 360, 24);
    let (a, b) = (dir.path().join("a.mp4"), dir.path().join("b.mp4"));
    let pcm = tone(40_000);
    encode(&a, params, 30, Some((AudioCodec::Aac, &pcm)));
    encode(&b, params, 30, Some((AudioCodec::Aac, &pcm)));
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(x == y, "two AAC encodes of the same input differ");
    assert!(
        x.windows(4).any(|w| w == b"esds"),
        "no mp4a/esds sample entry"
    );
}

#[test]
fn stitched_aac_extension_keeps_codec_video_and_sync() {
    let dir = tempfile::tempdir().unwrap();
    let params = VideoParams::new(320, 180, 24);
    let p = |name: &str| dir.path().join(name);
    let (a_frames, b_frames) = (48, 30);
    let a_total = params.audio_samples_for(a_frames) as usize;
    let b_total = params.audio_samples_for(b_frames) as usize;
    // A burst in each part, so the seam's timing is measured after the join.
    encode(
        &p("a.mp4"),
        params,
        a_frames,
        Some((AudioCodec::Aac, &bursts(a_total, &[48_000]))),
    );
    // The new segment as extend writes it: Opus, exact from sample 0, re-encoded by the join.
    encode(
        &p("b.mp4"),
        params,
        b_frames,
        Some((AudioCodec::Opus, &bursts(b_total, &[30_000]))),
    );

    let info = stitch(&p("a.mp4"), &p("b.mp4"), &p("ab.mp4")).unwrap();
    assert_eq!(info.frames, a_frames + b_frames);
    check_aac_clip(&p("ab.mp4"), params, a_frames + b_frames);
    let joined = decode_all(&p("ab.mp4"));
    assert!(
        joined[..a_frames as usize] == decode_all(&p("a.mp4"))[..],
        "source frames changed"
    );
    assert!(
        joined[a_frames as usize..] == decode_all(&p("b.mp4"))[..],
        "new frames changed"
    );
    let played = ffmpeg_pcm(&p("ab.mp4"));
    for c in [48_000, a_total + 30_000] {
        let found = centre(&played, c - 6000..c + 6000);
        assert!(
            (found - c as f64).abs() < 24.0,
            "burst at {c} plays at {found:.1}"
        );
    }

    // stitch follows the first clip's codec; stitch_with writes the one asked for.
    let opus_first = stitch(&p("b.mp4"), &p("a.mp4"), &p("ba.mp4")).unwrap();
    assert_eq!(opus_first.frames, a_frames + b_frames);
    let probe = ffprobe(&p("ba.mp4"));
    assert_eq!(stream(&probe, "audio").unwrap()["codec_name"], "opus");
    stitch_with(&p("b.mp4"), &p("a.mp4"), &p("ba-aac.mp4"), AudioCodec::Aac).unwrap();
    check_aac_clip(&p("ba-aac.mp4"), params, a_frames + b_frames);

    // Joining is deterministic too.
    stitch(&p("a.mp4"), &p("b.mp4"), &p("ab2.mp4")).unwrap();
    assert!(std::fs::read(p("ab.mp4")).unwrap() == std::fs::read(p("ab2.mp4")).unwrap());
}

#[test]
fn foreign_aac_from_ffmpeg_decodes() {
    // FFmpeg's native AAC encoder (always built): a 44.1 kHz file is reported as undecodable
    // (no resampling here), a 48 kHz one decodes to the video's length.
    let dir = tempfile::tempdir().unwrap();
    // Clips that are not Kinora's own go through the sandboxed ffmpeg, which resamples any rate.
    for (rate, decodes) in [("48000", true), ("44100", true)] {
        let path = dir.path().join(format!("ff{rate}.mp4"));
        let status = Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=160x120:rate=24:duration=1",
            ])
            .args([
                "-f",
                "lavfi",
                "-i",
                &format!("sine=frequency=440:sample_rate={rate}:duration=1"),
            ])
            .args(["-c:v", "mpeg4", "-c:a", "aac", "-shortest"])
            .arg(&path)
            .status()
            .expect("ffmpeg must be installed");
        assert!(status.success());
        let pcm = decode_audio(&path).unwrap();
        assert_eq!(pcm.is_some(), decodes, "{rate} Hz");
        if let Some(pcm) = pcm {
            assert_eq!(pcm.len(), 48_000 * 2);
            let loud = pcm[20_000..80_000].iter().map(|s| s * s).sum::<f32>() / 60_000.0;
            // FFmpeg's sine is 1/8 of full scale (power 0.0078); mono spread over two channels
            // at -3 dB halves it.
            assert!(loud > 0.003, "decoded sine is silent ({loud})");
        }
    }
}
