//! `kinora worker`: the built-in engine as a remote worker pulling jobs from a node.

use std::path::PathBuf;

use clap::Args;
use kinora_server::worker::client::{WorkerConfig, run};
use tokio_util::sync::CancellationToken;

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// Base URL of any API node, e.g. http://10.0.0.5:8000.
    #[arg(long, env = "KINORA_SERVER")]
    pub server: String,
    /// A worker token the node accepts (its --worker-token), not an API key.
    #[arg(long, env = "KINORA_WORKER_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Name in the node's logs (default: the host name).
    #[arg(long, env = "KINORA_WORKER_NAME")]
    pub name: Option<String>,
    /// Only these built-in model ids (default: all of them).
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// Jobs rendered at once; each is one lease loop (default 1).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Scratch space for inputs and renders (default: the system temp dir).
    #[arg(long, env = "KINORA_SCRATCH_DIR")]
    pub scratch_dir: Option<PathBuf>,
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_string())
}

/// Keeps names within the protocol's `A-Za-z0-9._-`, 64 characters.
fn clean(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    if cleaned.is_empty() {
        "worker".into()
    } else {
        cleaned
    }
}

impl WorkerArgs {
    pub fn run(self) -> anyhow::Result<()> {
        crate::serve_cli::init_tracing();
        if self.concurrency == 0 {
            anyhow::bail!("--concurrency must be at least 1");
        }
        let base = clean(&self.name.clone().unwrap_or_else(host_name));
        let scratch = self
            .scratch_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("kinora-worker"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let shutdown = CancellationToken::new();
            let mut loops = Vec::new();
            for i in 0..self.concurrency {
                let cfg = WorkerConfig {
                    server: self.server.clone(),
                    token: self.token.clone(),
                    name: if self.concurrency == 1 {
                        base.clone()
                    } else {
                        format!("{base}-{i}")
                    },
                    models: self.models.clone(),
                    scratch: scratch.clone(),
                };
                loops.push(tokio::spawn(run(cfg, shutdown.clone())));
            }
            // Printed once running: scripts and tests wait for this line.
            println!("kinora worker running against {}", self.server);
            let all = futures::future::join_all(loops);
            tokio::pin!(all);
            let results = tokio::select! {
                r = &mut all => r,
                _ = crate::serve_cli::shutdown_signal() => {
                    shutdown.cancel();
                    all.await
                }
            };
            for r in results {
                r??;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_cleaned() {
        assert_eq!(super::clean("gpu box/3"), "gpu-box-3");
        assert_eq!(super::clean(""), "worker");
    }
}
