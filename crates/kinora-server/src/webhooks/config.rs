//! Webhook settings: how deliveries are made and retried (`[webhook_delivery]`), and endpoints
//! the operator declares in the settings file (`[[webhooks]]`), which the API shows read-only.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::OPEN_PROJECT;
use crate::settings::Secret;
use crate::webhooks::{check_event_types, check_url, signing};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookDeliverySettings {
    /// A receiver must answer within this long; a slower answer is a failed attempt.
    pub timeout_seconds: u64,
    /// Retries stop this long after the event (72 hours by default); the delivery ends `failed`.
    pub max_age_seconds: i64,
    /// First retry delay; doubles each attempt up to `retry_max_ms`, with jitter.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Fallback poll for due deliveries; new events wake the sender at once.
    pub poll_ms: u64,
    /// Deliveries in flight at once on this node.
    pub concurrency: usize,
    /// Deliver to private, loopback or link-local addresses.
    pub danger_allow_private: bool,
}

impl Default for WebhookDeliverySettings {
    fn default() -> Self {
        Self {
            timeout_seconds: 10,
            max_age_seconds: 72 * 3600,
            retry_base_ms: 5_000,
            retry_max_ms: 2 * 3600 * 1000,
            poll_ms: 1_000,
            concurrency: 16,
            danger_allow_private: false,
        }
    }
}

/// An endpoint declared in the settings file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredWebhook {
    pub url: String,
    /// `whsec_` + base64, as receivers configure it.
    pub secret: Secret,
    pub event_types: Vec<String>,
    /// The project whose events it receives: a `[[projects]]` name, or `default` on a server
    /// without API keys.
    #[serde(default = "default_project")]
    pub project: String,
    #[serde(default)]
    pub name: Option<String>,
}

fn default_project() -> String {
    OPEN_PROJECT.to_string()
}

impl DeclaredWebhook {
    /// Stable across restarts (so the delivery log survives), derived from project and URL.
    pub fn id(&self) -> String {
        let digest = hex::encode(Sha256::digest(
            format!("{}\n{}", self.project, self.url).as_bytes(),
        ));
        format!("we_cfg_{}", &digest[..24])
    }
}

impl WebhookDeliverySettings {
    pub fn check(&self) -> Result<(), String> {
        if self.timeout_seconds < 1
            || self.max_age_seconds < 1
            || self.retry_base_ms < 1
            || self.retry_max_ms < self.retry_base_ms
            || self.poll_ms < 1
            || self.concurrency < 1
        {
            return Err(
                "webhook_delivery: timeout_seconds, max_age_seconds, retry_base_ms, \
                 poll_ms and concurrency must be at least 1, and retry_max_ms at least \
                 retry_base_ms"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Every declared endpoint must be usable as written: a refused one would silently drop events.
pub fn check_declared(hooks: &[DeclaredWebhook]) -> Result<(), String> {
    let mut ids = std::collections::HashSet::new();
    for (i, h) in hooks.iter().enumerate() {
        let at = format!("webhooks[{i}] ({})", h.url);
        check_url(&h.url).map_err(|e| format!("{at}: {e}"))?;
        check_event_types(&h.event_types).map_err(|e| format!("{at}: {e}"))?;
        if !h.secret.0.starts_with("whsec_") || signing::key_of(&h.secret.0).is_err() {
            return Err(format!(
                "{at}: secret must be 'whsec_' followed by base64 (e.g. from `openssl rand -base64 32`)"
            ));
        }
        if h.project.trim().is_empty() {
            return Err(format!("{at}: project must not be empty"));
        }
        if !ids.insert(h.id()) {
            return Err(format!(
                "{at}: the same URL is declared twice for one project"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::settings::{Overrides, Settings, SettingsError};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn load(toml: &str, overrides: Overrides) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, toml).unwrap();
        Settings::load(Some(&file), overrides)
    }

    #[test]
    fn declared_endpoints_and_tuning_from_the_file() {
        let s = load(
            &format!(
                "[[webhooks]]\nurl = \"https://hooks.example.com/k\"\nsecret = \"{SECRET}\"\n\
                 event_types = [\"video.completed\"]\n\n\
                 [webhook_delivery]\nretry_base_ms = 100\nretry_max_ms = 400\n"
            ),
            Overrides {
                danger_allow_private_webhooks: true,
                ..Default::default()
            },
        )
        .unwrap();
        let hook = &s.webhooks[0];
        assert_eq!(hook.project, "default");
        assert!(hook.id().starts_with("we_cfg_"));
        assert_eq!(s.webhook_delivery.retry_base_ms, 100);
        assert_eq!(s.webhook_delivery.max_age_seconds, 72 * 3600);
        assert!(
            s.webhook_delivery.danger_allow_private,
            "the flag layers over the file"
        );
        assert!(!s.to_redacted_toml().contains(SECRET));
    }

    #[test]
    fn unusable_declarations_are_refused() {
        for (body, needle) in [
            (
                "url = \"ftp://x/\"\nsecret = \"S\"\nevent_types = [\"video.failed\"]",
                "http",
            ),
            (
                "url = \"https://x/\"\nsecret = \"S\"\nevent_types = [\"response.done\"]",
                "response.done",
            ),
            (
                "url = \"https://x/\"\nsecret = \"nope\"\nevent_types = [\"video.failed\"]",
                "whsec_",
            ),
        ] {
            let toml = format!("[[webhooks]]\n{}\n", body.replace('S', SECRET));
            let err = load(&toml, Overrides::default()).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        let twice = format!(
            "[[webhooks]]\nurl = \"https://x/\"\nsecret = \"{SECRET}\"\nevent_types = [\"video.failed\"]\n\
             [[webhooks]]\nurl = \"https://x/\"\nsecret = \"{SECRET}\"\nevent_types = [\"video.completed\"]\n"
        );
        assert!(load(&twice, Overrides::default()).is_err());
        let slow = "[webhook_delivery]\nconcurrency = 0\n";
        assert!(load(slow, Overrides::default()).is_err());
    }
}
