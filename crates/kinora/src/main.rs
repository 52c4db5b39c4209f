//! `kinora`: the one binary. It parses flags, loads settings, starts tracing and calls the
//! libraries; nothing else lives here.
//!
//! Layout:
//! - `serve_cli`: `kinora serve` and `kinora config print`; `startup`: what serve says on start
//! - `worker_cli`: `kinora worker`, the built-in engine as a remote worker
//! - `migrate_cli`: `kinora migrate` (SQLite → PostgreSQL, local blobs → another blob store)
//! - `render_cli`: the built-in engine's face (`generate`, `extend`, `edit`, `explain`, `character`, `bench`)

mod migrate_cli;
mod render_cli;
mod serve_cli;
mod startup;
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
    /// Copy a SQLite deployment's metadata into an empty PostgreSQL database (and its blobs to
    /// another blob store), so nodes can share them.
    Migrate(migrate_cli::MigrateArgs),
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
    /// Measure the engine (and encoder) speed and memory; writes a report to `--out`
    /// (default kinora-bench.md in the working directory).
    Bench(render_cli::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve_cli::serve(args),
        Command::Config(cmd) => serve_cli::config(cmd),
        Command::Worker(a) => a.run(),
        Command::Migrate(args) => args.run(),
        Command::Generate(a) => a.run(),
        Command::Extend(a) => a.run(),
        Command::Edit(a) => a.run(),
        Command::Explain(a) => a.run(),
        Command::Character(a) => a.run(),
        Command::Bench(a) => a.run(),
    }
}
