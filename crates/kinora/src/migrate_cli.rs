//! `kinora migrate`: grow from the embedded defaults (SQLite and blobs in the data directory)
//! to PostgreSQL and another blob store, without losing anything.
//!
//! Stop every node using the data directory first: the copy reads it as it is at that moment.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use kinora_store::{BlobStore, PostgresStore, SqliteStore, transfer};

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// Data directory of the deployment to copy from (its kinora.db and blobs/).
    #[arg(long, env = "KINORA_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The PostgreSQL database to copy the metadata into (`postgres://user:pass@host/db`); it
    /// must hold no Kinora data yet.
    #[arg(long, env = "KINORA_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Where to copy the blobs (videos, thumbnails, files): a local directory, a `file://` URL or
    /// `s3://bucket[/prefix]` (credentials from AWS_*). Without it, blobs stay in the data
    /// directory.
    #[arg(long)]
    pub blob_url: Option<String>,
}

/// The one place a `--blob-url` becomes a store: a directory, `file://` or `s3://bucket[/prefix]`
/// (endpoint, region and credentials from the standard `AWS_*` variables). Returns the local
/// directory too, when it is one, so copying a directory onto itself can be refused.
fn open_blob_target(url: &str) -> anyhow::Result<(BlobStore, Option<PathBuf>)> {
    let local = match kinora_store::BlobUrl::parse(url)? {
        kinora_store::BlobUrl::Local(path) => Some(path),
        kinora_store::BlobUrl::S3 { .. } => None,
    };
    let store = BlobStore::from_url(url, &kinora_store::S3Config::default())
        .with_context(|| format!("opening the blob target {url}"))?;
    Ok((store, local))
}

impl MigrateArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(self.migrate())
    }

    async fn migrate(self) -> anyhow::Result<()> {
        let db_path = self.data_dir.join("kinora.db");
        if !db_path.is_file() {
            bail!(
                "{} does not exist: --data-dir must be the data directory of a Kinora deployment",
                db_path.display()
            );
        }
        let target = PostgresStore::open(&self.database_url)
            .await
            .context("opening the target PostgreSQL database (--database-url)")?;
        // Checked before the blobs move, so a refused target costs nothing; the metadata copy
        // checks again in its own transaction.
        if !target.is_empty().await? {
            bail!(
                "the target PostgreSQL database already holds Kinora data; kinora migrate copies \
                 into an empty database only"
            );
        }
        if let Some(url) = &self.blob_url {
            self.copy_blobs(url).await?;
        }
        let source = SqliteStore::open(&db_path)
            .await
            .with_context(|| format!("opening {}", db_path.display()))?;
        let report =
            transfer::copy_sqlite_to_postgres(&source, &target, kinora_core::clock::now_millis())
                .await
                .context("copying the metadata to PostgreSQL")?;
        for (table, rows) in &report.tables {
            println!("{table}: {rows} rows");
        }
        if report.released_jobs > 0 {
            println!(
                "{} running jobs returned to the queue",
                report.released_jobs
            );
        }
        println!("metadata copied; start the nodes with --database-url");
        Ok(())
    }

    async fn copy_blobs(&self, url: &str) -> anyhow::Result<()> {
        let source_dir = self.data_dir.join("blobs");
        let (target, target_dir) = open_blob_target(url)?;
        if target_dir.is_some_and(|t| same_dir(&source_dir, &t)) {
            bail!("--blob-url names the data directory's own blobs/; nothing to copy");
        }
        let source = BlobStore::local(&source_dir)?;
        let copied = source
            .copy_all_to(&target, &self.data_dir.join("tmp").join("migrate"))
            .await
            .context("copying the blobs")?;
        println!("blobs: {copied} objects copied to {url}");
        Ok(())
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_target_is_a_directory_a_file_url_or_s3() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        let (_, path) = open_blob_target(plain.to_str().unwrap()).unwrap();
        assert_eq!(path, Some(plain.clone()));
        assert!(plain.is_dir());
        let url = format!("file://{}", dir.path().join("url").display());
        let (_, path) = open_blob_target(&url).unwrap();
        assert_eq!(path, Some(dir.path().join("url")));
        let err = open_blob_target("ftp://bucket/prefix").err().unwrap();
        assert!(err.to_string().contains("s3://"), "{err}");
    }

    #[test]
    fn a_data_dir_without_a_database_is_refused_before_connecting() {
        let dir = tempfile::tempdir().unwrap();
        let args = MigrateArgs {
            data_dir: dir.path().to_path_buf(),
            // Never contacted: the missing kinora.db is found first.
            database_url: "postgres://nobody@127.0.0.1:1/none".into(),
            blob_url: None,
        };
        let err = args.run().err().unwrap();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
