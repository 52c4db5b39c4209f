//! A full 20 s 1080p clip with audio and its peak memory (measured first, before the benchmark
//! frames are allocated), then encoder-only throughput at 720p and 1080p. Run with `cargo run --release -p kinora-media --example encode_speed [frames]`.

use kinora_media::{Mp4Encoder, RgbFrame, VideoParams, bench_encoder_with_threads};
use std::time::Instant;

fn frame(width: u32, height: u32, t: u32) -> RgbFrame {
    let mut f = RgbFrame::new(width, height);
    let w = width as usize;
    for (y, row) in f.data.chunks_exact_mut(w * 3).enumerate() {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            px[0] = (x as u32 * 255 / width + t * 3) as u8;
            px[1] = (y as u32 * 255 / height + t) as u8;
            px[2] = ((x + y) as u32 / 4 + t * 5) as u8;
        }
    }
    f
}

/// User + system CPU time of this process (shows the cost even when other jobs share the cores).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let params = VideoParams::new(1920, 1080, 24);
    let dir = std::env::temp_dir().join(format!("kinora-encode-speed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("clip.mp4");
    let start = Instant::now();
    let mut encoder = Mp4Encoder::create(&path, params, true)?;
    let tone: Vec<f32> = (0..2000 * 2)
        .map(|i| ((i / 2) as f32 * 0.05).sin() * 0.3)
        .collect();
    let mut f = RgbFrame::new(params.width, params.height);
    for t in 0..480 {
        // A cheap moving pattern: regenerating full frames would dominate the timing.
        let shift = (t * 8) as usize;
        for (i, px) in f.data.chunks_exact_mut(3).enumerate() {
            let x = (i + shift) % 1920;
            px[0] = (x / 8) as u8;
            px[1] = ((i / 1920) / 5) as u8;
            px[2] = (x / 4) as u8 ^ (t as u8);
        }
        encoder.push_frame(&f)?;
        encoder.push_audio(&tone)?;
    }
    let info = encoder.finish()?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "full 20 s 1080p clip with audio: {:.1} s wall, {} frames, {:.1} MB, peak RSS {:.0} MB",
        start.elapsed().as_secs_f64(),
        info.frames,
        size as f64 / 1e6,
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    std::fs::remove_dir_all(&dir)?;

    let count: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(48);
    for params in [
        VideoParams::new(1280, 720, 24),
        VideoParams::new(1920, 1080, 24),
    ] {
        let frames: Vec<RgbFrame> = (0..count)
            .map(|t| frame(params.width, params.height, t))
            .collect();
        for threads in [1, 2] {
            let cpu0 = cpu_seconds();
            let fps = bench_encoder_with_threads(params, &frames, threads)?;
            let cpu_ms = (cpu_seconds() - cpu0) * 1000.0 / f64::from(count);
            println!(
                "encoder-only {}x{} threads={threads}: {fps:.1} fps wall, {cpu_ms:.1} CPU-ms/frame",
                params.width, params.height
            );
        }
    }

    Ok(())
}
