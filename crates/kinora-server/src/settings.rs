//! Typed settings, layered: built-in defaults → TOML file → `KINORA_*` environment → flags.
//!
//! The binary parses flags and environment (clap) into `Overrides`; this module folds them over
//! the file and the defaults so every node of a deployment resolves settings the same way.
//! Unknown keys in the file are errors: a typo must not silently fall back to a default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::engine_settings::EngineSettings;
pub use crate::secret::Secret;

/// A named project owning a set of API keys; everything made with one of its keys is its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSettings {
    pub name: String,
    pub api_keys: Vec<Secret>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Where media lives: a directory, `file:///path` or `s3://bucket[/prefix]`; unset, the
    /// `blobs` directory under `data_dir`.
    pub blob_url: Option<String>,
    /// S3 connection for an `s3://` `blob_url`; what is unset here comes from `AWS_*`.
    pub s3: S3Settings,
    /// `postgres://…`: metadata and queue in PostgreSQL, shared by every node that names it.
    /// Unset: SQLite in `data_dir`. May hold a password: a `Secret`, so `Debug` never prints it,
    /// and `config print` shows it with the password redacted.
    pub database_url: Option<Secret>,
    /// Keys that are each their own project.
    pub api_keys: Vec<Secret>,
    /// Keys grouped into named projects.
    pub projects: Vec<ProjectSettings>,
    /// In-process render workers; 0 makes an API-only node.
    pub workers: Option<usize>,
    pub danger_allow_no_auth: bool,
    /// How long finished media stays downloadable.
    pub retention_seconds: i64,
    pub max_upload_bytes: usize,
    pub request_timeout_seconds: u64,
    /// A worker that misses heartbeats for this long loses its job to another.
    pub lease_seconds: i64,
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt.
    pub retry_backoff_seconds: i64,
    /// Poll hint for clients (`openai-poll-after-ms`).
    pub poll_after_ms: u64,
    pub image_fetch: ImageFetchSettings,
    /// Refuse an `input_reference` that is not exactly the requested size (OpenAI's 400)
    /// instead of fitting it by scale-to-cover and centre-crop.
    pub strict_reference_size: bool,
    /// Extra model ids mapped onto the built-in engine, e.g. `{"kinora-animatic" = "sora-2-pro"}`.
    pub model_aliases: BTreeMap<String, String>,
    pub files: FileSettings,
    pub batches: BatchSettings,
    /// Endpoints declared here (`[[webhooks]]`), read-only through the API.
    pub webhooks: Vec<crate::webhooks::config::DeclaredWebhook>,
    pub webhook_delivery: crate::webhooks::config::WebhookDeliverySettings,
    /// Audio codec of rendered videos: `opus`, or `aac` in a build with the `aac` feature
    /// (a build without it refuses `aac` at startup, naming the rebuild flag).
    pub audio_codec: kinora_media::AudioCodec,
    /// Tokens remote workers present on `/internal/v1` (never valid as API keys, nor API keys
    /// there); none disables the worker protocol on this node.
    pub worker_tokens: Vec<Secret>,
    /// Models rendered by remote worker pools (`[[remote_models]]`).
    pub remote_models: Vec<crate::worker::config::RemoteModel>,
    /// `[connections]`: header-read deadline (also the idle keep-alive bound) and connection cap.
    pub connections: crate::serve::ConnectionSettings,
    /// The built-in engine's reading of prompts (`[engine]`).
    pub engine: EngineSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImageFetchSettings {
    pub max_bytes: usize,
    pub timeout_seconds: u64,
    /// Fetch `image_url`s that resolve to private, loopback or link-local addresses.
    pub danger_allow_private: bool,
}

impl Default for ImageFetchSettings {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            timeout_seconds: 10,
            danger_allow_private: false,
        }
    }
}

/// S3 connection settings; each one set here overrides its standard `AWS_*` variable
/// (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// An S3-compatible server's URL, e.g. `http://127.0.0.1:9000`; requests then use path
    /// style (`endpoint/bucket/key`), which every S3-compatible server accepts.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    /// Permit a plain `http://` endpoint.
    pub allow_http: Option<bool>,
}

impl S3Settings {
    pub fn to_config(&self) -> kinora_store::S3Config {
        kinora_store::S3Config {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.as_ref().map(|s| s.0.clone()),
            allow_http: self.allow_http,
        }
    }
}

/// The Files API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSettings {
    /// Largest file `POST /v1/files` accepts (the contract's batch input limit is 200 MB).
    pub max_bytes: usize,
    /// Lifetime of `purpose=batch` uploads unless the request sets `expires_after`.
    pub batch_expires_seconds: i64,
    /// Lifetime of other uploads unless the request sets `expires_after`; none by default.
    pub default_expires_seconds: Option<i64>,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            max_bytes: 200 * 1024 * 1024,
            batch_expires_seconds: 30 * 24 * 3600,
            default_expires_seconds: None,
        }
    }
}

/// The Batch API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchSettings {
    /// Most requests (lines) one input file may hold.
    pub max_requests: u64,
    /// The `24h` completion window, in seconds; shortened only by tests and trials.
    pub completion_window_seconds: i64,
    /// Lifetime of output and error files unless the batch sets `output_expires_after`.
    pub output_expires_seconds: i64,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            max_requests: 50_000,
            completion_window_seconds: 24 * 3600,
            output_expires_seconds: 30 * 24 * 3600,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            data_dir: PathBuf::from("kinora-data"),
            blob_url: None,
            s3: S3Settings::default(),
            database_url: None,
            api_keys: Vec::new(),
            projects: Vec::new(),
            workers: None,
            danger_allow_no_auth: false,
            retention_seconds: 7 * 24 * 3600,
            max_upload_bytes: 256 * 1024 * 1024,
            request_timeout_seconds: 120,
            lease_seconds: 30,
            max_attempts: 3,
            retry_backoff_seconds: 2,
            poll_after_ms: 1000,
            image_fetch: ImageFetchSettings::default(),
            strict_reference_size: false,
            model_aliases: BTreeMap::new(),
            files: FileSettings::default(),
            batches: BatchSettings::default(),
            webhooks: Vec::new(),
            webhook_delivery: Default::default(),
            audio_codec: kinora_media::AudioCodec::default(),
            worker_tokens: Vec::new(),
            remote_models: Vec::new(),
            connections: Default::default(),
            engine: EngineSettings::default(),
        }
    }
}

/// What flags and environment can override; `None` leaves the file's or the default's value.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub blob_url: Option<String>,
    pub database_url: Option<Secret>,
    pub api_keys: Vec<String>,
    pub workers: Option<usize>,
    pub danger_allow_no_auth: bool,
    pub retention_seconds: Option<i64>,
    pub lease_seconds: Option<i64>,
    pub max_upload_bytes: Option<usize>,
    pub danger_allow_private_webhooks: bool,
    pub worker_tokens: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid settings file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Unsafe(String),
    #[error("invalid settings: {0}")]
    Invalid(String),
}

impl Settings {
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Settings, SettingsError> {
        let mut s = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str::<Settings>(&text).map_err(|e| SettingsError::Parse {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?
            }
            None => Settings::default(),
        };
        if let Some(v) = overrides.listen {
            s.listen = v;
        }
        if let Some(v) = overrides.data_dir {
            s.data_dir = v;
        }
        if let Some(v) = overrides.blob_url {
            s.blob_url = Some(v);
        }
        if let Some(v) = overrides.database_url {
            s.database_url = Some(v);
        }
        if !overrides.api_keys.is_empty() {
            s.api_keys = overrides.api_keys.into_iter().map(Secret).collect();
        }
        if overrides.workers.is_some() {
            s.workers = overrides.workers;
        }
        s.danger_allow_no_auth |= overrides.danger_allow_no_auth;
        if let Some(v) = overrides.retention_seconds {
            s.retention_seconds = v;
        }
        if let Some(v) = overrides.lease_seconds {
            s.lease_seconds = v;
        }
        if let Some(v) = overrides.max_upload_bytes {
            s.max_upload_bytes = v;
        }
        s.webhook_delivery.danger_allow_private |= overrides.danger_allow_private_webhooks;
        if !overrides.worker_tokens.is_empty() {
            s.worker_tokens = overrides.worker_tokens.into_iter().map(Secret).collect();
        }
        s.trim_secrets()?;
        s.check()?;
        Ok(s)
    }

    /// Keys and tokens are compared with a trimmed header, so a stray space from a list such as
    /// `KINORA_API_KEYS="sk-a, sk-b"` is dropped here; a key with whitespace inside, or an empty
    /// one, could never match and is refused.
    fn trim_secrets(&mut self) -> Result<(), SettingsError> {
        let lists = [
            ("api_keys", &mut self.api_keys),
            ("worker_tokens", &mut self.worker_tokens),
        ]
        .into_iter()
        .chain(
            self.projects
                .iter_mut()
                .map(|p| ("projects.api_keys", &mut p.api_keys)),
        );
        for (name, list) in lists {
            for k in list.iter_mut() {
                let trimmed = k.0.trim();
                if trimmed.is_empty() || trimmed.contains(char::is_whitespace) {
                    return Err(SettingsError::Invalid(format!(
                        "{name}: a key is empty or has whitespace inside it"
                    )));
                }
                k.0 = trimmed.to_string();
            }
        }
        Ok(())
    }

    /// Refuses configurations that would expose an unauthenticated API to a network.
    pub fn check(&self) -> Result<(), SettingsError> {
        let has_keys =
            !self.api_keys.is_empty() || self.projects.iter().any(|p| !p.api_keys.is_empty());
        if !has_keys && !self.listen.ip().is_loopback() && !self.danger_allow_no_auth {
            return Err(SettingsError::Unsafe(format!(
                "refusing to listen on {} without API keys: add --api-key (or KINORA_API_KEYS), \
                 listen on loopback, or pass --danger-allow-no-auth",
                self.listen
            )));
        }
        if self.lease_seconds < 1 || self.max_attempts < 1 || self.retention_seconds < 1 {
            return Err(SettingsError::Unsafe(
                "lease_seconds, max_attempts and retention_seconds must be at least 1".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.engine.min_coverage) {
            return Err(SettingsError::Invalid(format!(
                "engine.min_coverage must be between 0 and 1; got {}",
                self.engine.min_coverage
            )));
        }
        if !(0..=19).contains(&self.engine.render_nice) {
            return Err(SettingsError::Invalid(format!(
                "engine.render_nice must be between 0 and 19; got {}",
                self.engine.render_nice
            )));
        }
        self.webhook_delivery
            .check()
            .map_err(SettingsError::Invalid)?;
        crate::webhooks::config::check_declared(&self.webhooks).map_err(SettingsError::Invalid)?;
        crate::worker::config::check(self).map_err(SettingsError::Invalid)?;
        self.connections.check().map_err(SettingsError::Invalid)?;
        if let Some(url) = &self.blob_url {
            kinora_store::BlobUrl::parse(url)
                .map_err(|e| SettingsError::Invalid(format!("blob_url: {e}")))?;
        }
        Ok(())
    }

    pub fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }

    /// The settings as TOML, secrets redacted, for `kinora config print`.
    pub fn to_redacted_toml(&self) -> String {
        let mut copy = self.clone();
        let redact = |keys: &mut Vec<Secret>| {
            for k in keys.iter_mut() {
                *k = Secret("[redacted]".into());
            }
        };
        redact(&mut copy.api_keys);
        redact(&mut copy.worker_tokens);
        for p in &mut copy.projects {
            redact(&mut p.api_keys);
        }
        if let Some(k) = &mut copy.s3.secret_access_key {
            *k = Secret("[redacted]".into());
        }
        for h in &mut copy.webhooks {
            h.secret = Secret("[redacted]".into());
        }
        copy.database_url = copy
            .database_url
            .as_ref()
            .map(|url| Secret(redact_url_password(&url.0)));
        toml::to_string_pretty(&copy).unwrap_or_else(|e| format!("# cannot print settings: {e}"))
    }
}

/// `url` with its password (in the user info or a `password=` parameter) replaced, so the rest
/// (user, host, database) still shows which server is meant.
pub fn redact_url_password(url: &str) -> String {
    const HIDDEN: &str = "[redacted]";
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let start = base.find("://").map_or(0, |i| i + 3);
    let end = base[start..].find('/').map_or(base.len(), |i| start + i);
    let authority = &base[start..end];
    let mut out = base[..start].to_string();
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            match user_info.split_once(':') {
                Some((user, _)) => out.push_str(&format!("{user}:{HIDDEN}")),
                None => out.push_str(user_info),
            }
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    out.push_str(&base[end..]);
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={HIDDEN}"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_password_is_redacted() {
        let s = Settings::load(
            None,
            Overrides {
                database_url: Some(Secret("postgres://kinora:hunter2@db:5432/kinora".into())),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            !format!("{s:?}").contains("hunter2"),
            "Debug must not print it"
        );
        let printed = s.to_redacted_toml();
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(
            printed.contains("postgres://kinora:[redacted]@db:5432/kinora"),
            "{printed}"
        );
        assert_eq!(
            redact_url_password("postgres://u@h/db?sslmode=require&password=p%40ss"),
            "postgres://u@h/db?sslmode=require&password=[redacted]"
        );
        assert_eq!(
            redact_url_password("postgres://h:5432/db"),
            "postgres://h:5432/db"
        );
    }

    #[test]
    fn keys_are_trimmed_and_inner_whitespace_refused() {
        let load = |keys: &[&str]| {
            Settings::load(
                None,
                Overrides {
                    api_keys: keys.iter().map(|k| k.to_string()).collect(),
                    worker_tokens: vec![" wt-0123456789abcdef ".into()],
                    ..Default::default()
                },
            )
        };
        let s = load(&["sk-a", " sk-b"]).unwrap();
        assert_eq!(s.api_keys[1].0, "sk-b");
        assert_eq!(s.worker_tokens[0].0, "wt-0123456789abcdef");
        assert!(load(&["sk a"]).is_err());
        assert!(load(&["  "]).is_err());
    }

    #[test]
    fn layering_and_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(
            &file,
            "workers = 3\napi_keys = [\"sk-file\"]\nretention_seconds = 60\n",
        )
        .unwrap();
        let s = Settings::load(
            Some(&file),
            Overrides {
                workers: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.workers, Some(1));
        assert_eq!(s.retention_seconds, 60);
        let printed = s.to_redacted_toml();
        assert!(!printed.contains("sk-file"), "{printed}");
        assert!(format!("{s:?}").contains("redacted"));
    }

    #[test]
    fn blob_url_and_s3_settings_layer_and_redact() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(
            &file,
            "blob_url = \"s3://media/kinora\"\n[s3]\nendpoint = \"http://127.0.0.1:9000\"\n\
             region = \"eu-west-1\"\naccess_key_id = \"AKIDFILE\"\n\
             secret_access_key = \"s3-secret-file\"\nallow_http = true\n",
        )
        .unwrap();
        let s = Settings::load(Some(&file), Overrides::default()).unwrap();
        assert_eq!(s.blob_url.as_deref(), Some("s3://media/kinora"));
        let c = s.s3.to_config();
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.secret_access_key.as_deref(), Some("s3-secret-file"));
        assert_eq!(c.allow_http, Some(true));
        let printed = s.to_redacted_toml();
        assert!(!printed.contains("s3-secret-file"), "{printed}");
        assert!(printed.contains("AKIDFILE"), "{printed}");
        assert!(!format!("{s:?}").contains("s3-secret-file"));

        let flagged = Settings::load(
            Some(&file),
            Overrides {
                blob_url: Some("/srv/blobs".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(flagged.blob_url.as_deref(), Some("/srv/blobs"));

        std::fs::write(&file, "blob_url = \"gs://media\"\n").unwrap();
        let bad = Settings::load(Some(&file), Overrides::default());
        assert!(
            matches!(&bad, Err(SettingsError::Invalid(m)) if m.contains("s3://bucket")),
            "{bad:?}"
        );
        std::fs::write(&file, "[s3]\nendpiont = \"http://x\"\n").unwrap();
        assert!(matches!(
            Settings::load(Some(&file), Overrides::default()),
            Err(SettingsError::Parse { .. })
        ));
    }

    #[test]
    fn audio_codec_is_read_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        assert_eq!(
            Settings::load(None, Overrides::default())
                .unwrap()
                .audio_codec
                .name(),
            "opus"
        );
        std::fs::write(&file, "audio_codec = \"mp3\"\n").unwrap();
        assert!(Settings::load(Some(&file), Overrides::default()).is_err());
        // `aac` works in a build with the `aac` feature and otherwise says how to get it.
        std::fs::write(&file, "audio_codec = \"aac\"\n").unwrap();
        match Settings::load(Some(&file), Overrides::default()) {
            Ok(s) => assert_eq!(s.audio_codec.name(), "aac"),
            Err(e) => assert!(e.to_string().contains("--features aac"), "{e}"),
        }
    }

    #[test]
    fn unknown_keys_and_open_binds_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "wokers = 3\n").unwrap();
        assert!(matches!(
            Settings::load(Some(&file), Overrides::default()),
            Err(SettingsError::Parse { .. })
        ));
        let open = Overrides {
            listen: Some("0.0.0.0:8000".parse().unwrap()),
            ..Default::default()
        };
        assert!(matches!(
            Settings::load(None, open.clone()),
            Err(SettingsError::Unsafe(_))
        ));
        let allowed = Overrides {
            danger_allow_no_auth: true,
            ..open
        };
        assert!(Settings::load(None, allowed).is_ok());
    }
}
