//! Blob URLs: a directory (`/srv/blobs`, `file:///srv/blobs`) or an S3-compatible bucket
//! (`s3://bucket[/prefix]`).
//!
//! S3 settings come from the standard `AWS_*` variables (`AWS_ENDPOINT`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`, …) with whatever
//! [`S3Config`] sets on top: an explicit setting always wins over the environment.
//!
//! Failures are bounded: a request gives up after [`CONNECT_TIMEOUT`] to connect or
//! [`READ_IDLE_TIMEOUT`] without a byte, and is retried at most [`MAX_RETRIES`] times within
//! [`RETRY_TIMEOUT`]. Long outages are the job system's business (it retries a job whose storage
//! failed with backoff, then fails it as `storage_unavailable`), so the client only rides out
//! blips and never holds a worker or a request for minutes.

use std::path::PathBuf;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::client::{ClientOptions, HttpClient, HttpConnector};
use object_store::path::Path;
use object_store::{BackoffConfig, ClientConfigKey, RetryConfig};

use crate::error::{Result, StoreError};

/// A connect to a live endpoint on a sane network takes milliseconds; 5 s is AWS's own advice
/// rounded up, and short enough that a dead endpoint fails a job quickly.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long any one wait for bytes may last (an answer's head, or the next piece of a body),
/// resetting at each read. There is deliberately no limit on a whole request: a `content`
/// download streamed from S3 to a slow client may take as long as the client takes, while a
/// dead or frozen server still fails the request after this long without a byte.
pub const READ_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries of one request (connection refused, 5xx, 429, timeouts of idempotent requests).
pub const MAX_RETRIES: usize = 3;
/// No retry starts after this long since the first attempt.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(15);

const ACCEPTED: &str = "use a directory path, file:///absolute/path or s3://bucket[/prefix]";

/// Explicit S3 settings; each one that is set overrides its `AWS_*` variable.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    /// e.g. `http://127.0.0.1:9000` for a local S3-compatible server. Setting one turns
    /// virtual-hosted-style requests off: path style works with every S3-compatible server.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Permit `http://` endpoints.
    pub allow_http: Option<bool>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "[redacted]"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Where a blob URL points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobUrl {
    Local(PathBuf),
    /// `prefix` is a path of whole segments, empty for the bucket's root.
    S3 {
        bucket: String,
        prefix: Path,
    },
}

impl BlobUrl {
    pub fn parse(url: &str) -> Result<BlobUrl> {
        let invalid =
            |why: String| StoreError::Config(format!("blob URL {url:?}: {why}; {ACCEPTED}"));
        let url_trimmed = url.trim();
        if url_trimmed.is_empty() {
            return Err(invalid("empty".into()));
        }
        if let Some(rest) = url_trimmed.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("no bucket name".into()));
            }
            let prefix = Path::parse(prefix.trim_matches('/'))
                .map_err(|e| invalid(format!("invalid prefix: {e}")))?;
            return Ok(BlobUrl::S3 {
                bucket: bucket.to_string(),
                prefix,
            });
        }
        if let Some(rest) = url_trimmed.strip_prefix("file://") {
            // `file:///a/b` is `/a/b`; a host part (`file://server/a`) is not a local path.
            if !rest.starts_with('/') {
                return Err(invalid(
                    "a file URL needs an absolute path (file:///…)".into(),
                ));
            }
            return Ok(BlobUrl::Local(PathBuf::from(rest)));
        }
        if let Some((scheme, _)) = url_trimmed.split_once("://") {
            return Err(invalid(format!("unsupported scheme {scheme:?}")));
        }
        Ok(BlobUrl::Local(PathBuf::from(url_trimmed)))
    }
}

/// The bucket's store, configured from `AWS_*` and then `config`.
pub(super) fn build(
    bucket: &str,
    config: &S3Config,
) -> Result<std::sync::Arc<dyn object_store::ObjectStore>> {
    let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = &config.endpoint {
        b = b
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false);
    }
    if let Some(region) = &config.region {
        b = b.with_region(region);
    }
    if let Some(id) = &config.access_key_id {
        b = b.with_access_key_id(id);
    }
    if let Some(secret) = &config.secret_access_key {
        b = b.with_secret_access_key(secret);
    }
    if let Some(allow) = config.allow_http {
        b = b.with_allow_http(allow);
    }
    // Set key by key rather than `with_client_options`, which would replace (and so drop) the
    // client settings `from_env` read, `AWS_ALLOW_HTTP` among them.
    let timeout = |key, d: Duration| {
        (
            AmazonS3ConfigKey::Client(key),
            format!("{}ms", d.as_millis()),
        )
    };
    let (key, value) = timeout(ClientConfigKey::ConnectTimeout, CONNECT_TIMEOUT);
    b = b.with_config(key, value);
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: MAX_RETRIES,
        retry_timeout: RETRY_TIMEOUT,
    };
    let store = b
        .with_http_connector(IdleTimeoutConnector)
        .with_retry(retry)
        .build()
        .map_err(|e| StoreError::Config(format!("S3 bucket {bucket:?}: {e}")))?;
    Ok(std::sync::Arc::new(store))
}

/// `object_store`'s own client has only a total request timeout (see [`READ_IDLE_TIMEOUT`]), so
/// the HTTP client is built here: the same reqwest, with a connect and a read-idle timeout.
#[derive(Debug)]
struct IdleTimeoutConnector;

impl HttpConnector for IdleTimeoutConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        // `allow_http` (settings or AWS_ALLOW_HTTP) is the one client option set here that the
        // default client would otherwise enforce.
        let allow_http = options
            .get_config_value(&ClientConfigKey::AllowHttp)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_IDLE_TIMEOUT)
            .https_only(!allow_http)
            .build()
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        Ok(HttpClient::new(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_urls_parse_or_name_the_accepted_forms() {
        assert_eq!(
            BlobUrl::parse("kinora-data/blobs").unwrap(),
            BlobUrl::Local("kinora-data/blobs".into())
        );
        assert_eq!(
            BlobUrl::parse("file:///srv/blobs").unwrap(),
            BlobUrl::Local("/srv/blobs".into())
        );
        assert_eq!(
            BlobUrl::parse("s3://media").unwrap(),
            BlobUrl::S3 {
                bucket: "media".into(),
                prefix: Path::default()
            }
        );
        assert_eq!(
            BlobUrl::parse("s3://media/kinora/prod/").unwrap(),
            BlobUrl::S3 {
                bucket: "media".into(),
                prefix: Path::from("kinora/prod")
            }
        );
        for bad in [
            "",
            "s3://",
            "s3:///prefix",
            "s3://b/a//c",
            "gs://b/x",
            "file://host/x",
        ] {
            match BlobUrl::parse(bad) {
                Err(StoreError::Config(m)) => assert!(m.contains("s3://bucket"), "{bad}: {m}"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn the_secret_never_prints() {
        let c = S3Config {
            secret_access_key: Some("hunter2".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
