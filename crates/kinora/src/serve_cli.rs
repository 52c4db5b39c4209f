//! `kinora serve` and `kinora config print`: flags and `KINORA_*` variables over the settings file.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use kinora_server::settings::Secret;
use kinora_server::{App, Overrides, Settings};

#[derive(Args, Clone, Debug)]
pub struct SettingsArgs {
    /// Settings file (TOML); flags and KINORA_* variables override it.
    #[arg(long, env = "KINORA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on: HOST:PORT, or a bare PORT on 127.0.0.1 (port 0 picks a free port;
    /// the chosen address is printed). Default 127.0.0.1:8000.
    #[arg(long, env = "KINORA_LISTEN", value_parser = crate::startup::parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Port to listen on, keeping the host of --listen or the settings (127.0.0.1 by default).
    #[arg(long, env = "KINORA_PORT")]
    pub port: Option<u16>,
    /// Directory for the SQLite database, media and scratch files.
    #[arg(long, env = "KINORA_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where media is stored: a directory, file:///path or s3://bucket[/prefix] (default: the
    /// `blobs` directory in the data dir). S3 endpoint, region and credentials come from the
    /// settings file's [s3] table, else the standard AWS_* variables.
    #[arg(long, env = "KINORA_BLOB_URL")]
    pub blob_url: Option<String>,
    /// Keep metadata and the job queue in PostgreSQL (`postgres://user:pass@host/db`) instead of
    /// SQLite in the data directory; every node naming the same database shares one queue.
    #[arg(long, env = "KINORA_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// An API key; repeat for several. Each key is its own project unless the settings file
    /// groups keys into projects.
    #[arg(
        long = "api-key",
        env = "KINORA_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,
    /// In-process render workers (default: one per core; 0 serves the API only).
    #[arg(long, env = "KINORA_WORKERS")]
    pub workers: Option<usize>,
    /// Allow listening beyond loopback with no API keys.
    #[arg(long, env = "KINORA_DANGER_ALLOW_NO_AUTH")]
    pub danger_allow_no_auth: bool,
    /// How long finished media stays downloadable, in seconds (default 7 days).
    #[arg(long, env = "KINORA_RETENTION_SECONDS")]
    pub retention_seconds: Option<i64>,
    /// Seconds a worker may go without a heartbeat before its job is given to another.
    #[arg(long, env = "KINORA_LEASE_SECONDS")]
    pub lease_seconds: Option<i64>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "KINORA_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<usize>,
    /// Deliver webhooks to private, loopback and link-local addresses (for receivers on this
    /// machine or network; refused by default).
    #[arg(long, env = "KINORA_DANGER_ALLOW_PRIVATE_WEBHOOKS")]
    pub danger_allow_private_webhooks: bool,
    /// A token remote workers (`kinora worker`, the GPU worker) present on /internal/v1;
    /// repeat for several. Not an API key.
    #[arg(
        long = "worker-token",
        env = "KINORA_WORKER_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub worker_tokens: Vec<String>,
}

impl SettingsArgs {
    pub fn load(&self) -> anyhow::Result<Settings> {
        let overrides = Overrides {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            blob_url: self.blob_url.clone(),
            database_url: self.database_url.clone().map(Secret),
            api_keys: self
                .api_keys
                .iter()
                .filter(|k| !k.trim().is_empty())
                .cloned()
                .collect(),
            workers: self.workers,
            danger_allow_no_auth: self.danger_allow_no_auth,
            retention_seconds: self.retention_seconds,
            lease_seconds: self.lease_seconds,
            max_upload_bytes: self.max_upload_bytes,
            danger_allow_private_webhooks: self.danger_allow_private_webhooks,
            worker_tokens: self
                .worker_tokens
                .iter()
                .filter(|k| !k.trim().is_empty())
                .cloned()
                .collect(),
        };
        let mut settings = Settings::load(self.config.as_deref(), overrides)?;
        if let Some(port) = self.port {
            settings.listen.set_port(port);
        }
        Ok(settings)
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the settings in effect, as TOML, with secrets redacted.
    Print(SettingsArgs),
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KINORA_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("KINORA_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    let settings = args.settings.load()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|e| crate::startup::bind_error(settings.listen, &e))?;
        let addr = listener.local_addr()?;
        let summary = crate::startup::describe(&settings, addr, kinora_render::bench::OPENH264_ASM);
        let app = App::open(settings).await?;
        // Printed only once the socket is bound and the stores are open: scripts and tests wait
        // for this line instead of sleeping. One write, and a reader that has already gone
        // (`kinora serve | head -1`, a test that read the first line) must not stop a running
        // server, so a failed write is ignored rather than panicking as `println!` would.
        let mut banner = format!("kinora listening on http://{addr}\n");
        for line in summary {
            banner.push_str(&line);
            banner.push('\n');
        }
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
        }
        app.run(listener, shutdown_signal()).await
    })
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}

pub fn config(cmd: ConfigCommand) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Print(args) => {
            print!("{}", args.load()?.to_redacted_toml());
            Ok(())
        }
    }
}
