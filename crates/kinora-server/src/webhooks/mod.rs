//! Webhooks: signed, durable, retried deliveries of the events Kinora emits.
//!
//! Events are written by the store in the same transaction as the state change that causes them
//! (a video or batch reaching a terminal state), with one pending delivery per subscribed endpoint.
//! The sender here claims due deliveries with a lease (so nodes sharing a store never send the
//! same one at once), POSTs them signed under the egress policy, and records each attempt:
//! 2xx is delivered, anything else is retried with exponential backoff and jitter until the
//! retry window (72 hours by default) runs out.
//!
//! Layout: [`signing`] (Standard Webhooks signatures and secrets), [`sender`] (the HTTP client
//! behind the egress policy), [`delivery`] (the claim-send-record loop and its backoff),
//! [`config`] (settings: delivery tuning and declared endpoints), [`wire`] (the API's JSON).

pub mod config;
pub mod delivery;
pub mod sender;
pub mod signing;
pub mod wire;

use reqwest::Url;

/// The event types Kinora emits, in the SDK's spelling; endpoints may subscribe to these only.
pub const EVENT_TYPES: &[&str] = &[
    "video.completed",
    "video.failed",
    "batch.completed",
    "batch.failed",
    "batch.expired",
    "batch.cancelled",
];

pub const USER_AGENT: &str = concat!("Kinora/", env!("CARGO_PKG_VERSION"), " (+webhooks)");

/// A receiver URL must be absolute `http` or `https` with a host; whether its address may be
/// reached is decided at delivery time, since DNS can change.
pub fn check_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("'{url}' is not a valid URL ({e})."))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "The webhook URL must use http or https, not '{}'.",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("The webhook URL '{url}' has no host."));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("The webhook URL must not carry credentials.".into());
    }
    Ok(parsed)
}

/// At least one type, each one Kinora emits; duplicates are dropped, order kept.
pub fn check_event_types(types: &[String]) -> Result<Vec<String>, String> {
    if types.is_empty() {
        return Err(format!(
            "event_types must list at least one of: {}.",
            EVENT_TYPES.join(", ")
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(types.len());
    for t in types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            return Err(format!(
                "'{t}' is not an event type this server emits; supported: {}.",
                EVENT_TYPES.join(", ")
            ));
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_event_types() {
        assert!(check_url("https://example.com/hook").is_ok());
        assert!(check_url("http://127.0.0.1:9/x").is_ok());
        for bad in [
            "ftp://example.com/",
            "not a url",
            "https://u:p@example.com/",
            "/rel",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        let types = vec!["video.failed".to_string(), "video.failed".to_string()];
        assert_eq!(check_event_types(&types).unwrap(), vec!["video.failed"]);
        assert!(check_event_types(&[]).is_err());
        let err = check_event_types(&["response.completed".to_string()]).unwrap_err();
        assert!(err.contains("video.completed"), "{err}");
    }
}
