//! `kinora`: the one binary. It parses flags, loads settings, starts tracing and calls the
//! libraries; nothing else lives here.
//!
//! Layout:
//! - `serve_cli`: `kinora serve` and `kinora config print`
//! - `worker_cli`: `kinora worker`, the built-in engine as a remote worker
//! - `render_cli`: the built-in engine's face (`generate`, `extend`, `edit`, `explain`, `character`, `bench`)

mod render_cli;
mod serve_cli;
mod worker_cli;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kinora",
    version,
    about = "Self-hosted, OpenAI-compatible video generation (the Sora 2 Videos API, open)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Videos API (SQLite, local media, in-process built-in engine by default).
    Serve(serve_cli::ServeArgs),
    /// Render jobs for a remote node with the built-in engine (a CPU worker).
    Worker(worker_cli::WorkerArgs),
    /// Inspect settings.
    #[command(subcommand)]
    Config(serve_cli::ConfigCommand),
    /// Render a video from a prompt with the built-in engine.
    Generate(render_cli::GenerateArgs),
    /// Continue a clip: the output is the source plus a new segment.
    Extend(render_cli::ExtendArgs),
    /// Apply one change described by a prompt to a clip.
    Edit(render_cli::EditArgs),
    /// Print the scene the engine understands from a prompt, as JSON.
    Explain(render_cli::ExplainArgs),
    /// Extract a reusable character (reference frames + cutout) from a short clip.
    Character(render_cli::CharacterArgs),
    /// Measure the engine (and encoder) speed and memory; writes docs/benchmarks.md.
    Bench(render_cli::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve_cli::serve(args),
        Command::Config(cmd) => serve_cli::config(cmd),
        Command::Worker(a) => a.run(),
        Command::Generate(a) => a.run(),
        Command::Extend(a) => a.run(),
        Command::Edit(a) => a.run(),
        Command::Explain(a) => a.run(),
        Command::Character(a) => a.run(),
        Command::Bench(a) => a.run(),
    }
}
