//! The HTTP side of a delivery: one POST, signed, behind the egress policy, redirects not
//! followed (a 3xx is a failed attempt, as the contract says).
//!
//! The policy lives in the client's DNS resolver, so the address checked is the address used
//! (no gap for DNS rebinding between check and connect); IP-literal URLs, which skip the
//! resolver, are checked before sending. No proxy is used: a proxy would decide the destination.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::redirect;

use crate::egress;
use crate::webhooks::{USER_AGENT, check_url, signing};

/// How one attempt ended, before the retry policy judges it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The receiver answered with this status (2xx counts as delivered).
    Status(u16),
    /// No answer: refused, unreachable, timed out, or blocked by policy; the reason is logged.
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
#[error(
    "destination blocked: '{host}' resolves only to private, loopback or link-local addresses; \
     start the server with --danger-allow-private-webhooks to deliver there"
)]
struct Blocked {
    host: String,
}

struct PolicyResolver {
    allow_private: bool,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allow_private || egress::is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(Blocked { host }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

impl Sender {
    pub fn new(timeout: Duration, allow_private: bool) -> Result<Sender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(redirect::Policy::none())
            .timeout(timeout)
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver { allow_private }))
            .build()?;
        Ok(Sender {
            client,
            allow_private,
            timeout,
        })
    }

    /// POSTs `body` to `url` as one Standard Webhooks message `webhook_id`, signed at `timestamp`
    /// with every secret in `secrets`.
    pub async fn post(
        &self,
        url: &str,
        webhook_id: &str,
        secrets: &[String],
        body: &str,
        timestamp: i64,
    ) -> Reply {
        let parsed = match check_url(url) {
            Ok(u) => u,
            Err(e) => return Reply::Failed(e),
        };
        let literal = parsed
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<IpAddr>().ok());
        if let Some(ip) = literal
            && !self.allow_private
            && !egress::is_public(ip)
        {
            return Reply::Failed(
                Blocked {
                    host: ip.to_string(),
                }
                .to_string(),
            );
        }
        let signature = match signing::signature_header(secrets, webhook_id, timestamp, body) {
            Ok(s) => s,
            Err(e) => return Reply::Failed(e.to_string()),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("webhook-id", webhook_id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ] {
            match HeaderValue::from_str(&value) {
                Ok(v) => {
                    headers.insert(name, v);
                }
                Err(_) => return Reply::Failed(format!("{name} is not a valid header value")),
            }
        }
        let sent = self
            .client
            .post(parsed)
            .headers(headers)
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(resp) => Reply::Status(resp.status().as_u16()),
            Err(e) => Reply::Failed(self.describe(&e)),
        }
    }

    fn describe(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            return format!("no answer within {} s", self.timeout.as_secs_f64());
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        let mut root = e.to_string();
        while let Some(s) = source {
            if let Some(blocked) = s.downcast_ref::<Blocked>() {
                return blocked.to_string();
            }
            root = s.to_string();
            source = s.source();
        }
        if e.is_connect() {
            format!("connection failed: {root}")
        } else {
            format!("request failed: {root}")
        }
    }
}
