//! Renders one prompt into a directory: `cargo run --release --example render -- "PROMPT" 1280x720 8 OUT_DIR [SEED]`.

use std::path::PathBuf;

use kinora_render::{AudioCodec, CancelToken, RenderMode, RenderRequest, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [prompt, size, seconds, out, rest @ ..] = args.as_slice() else {
        return Err("usage: render PROMPT WxH SECONDS OUT_DIR [SEED]".into());
    };
    let (w, h) = size.split_once('x').ok_or("size is WxH")?;
    let req = RenderRequest {
        prompt: prompt.clone(),
        width: w.parse()?,
        height: h.parse()?,
        seconds: seconds.parse()?,
        seed: rest.first().map(|s| s.parse()).transpose()?.unwrap_or(0),
        mode: RenderMode::Create {
            input_reference: None,
            characters: Vec::new(),
        },
        audio_codec: AudioCodec::Opus,
        captions: true,
    };
    let started = std::time::Instant::now();
    let outputs = render(&req, &PathBuf::from(out), &|_| {}, &CancelToken::new())?;
    println!(
        "{:?} in {:.2} s",
        outputs.info,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
