//! Worker settings: tokens and the models remote pools serve.
//!
//! A remote model borrows its limits and prices from a catalogue model (`like`) so an operator
//! declares a GPU model in three lines; its `engine` becomes the pool name, which is what keeps
//! in-process workers away from it and offers it only to workers of that pool.

use kinora_core::Catalogue;
use serde::{Deserialize, Serialize};

use crate::settings::Settings;

/// The pool of the in-process engine (and of `kinora worker`).
pub const BUILTIN_POOL: &str = "builtin";

/// `[[remote_models]]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteModel {
    /// The public model id clients ask for.
    pub id: String,
    /// The worker pool that renders it (workers register with this name).
    pub pool: String,
    /// A catalogue model whose sizes, lengths and prices this one takes.
    #[serde(default = "default_like")]
    pub like: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Features it supports (`text_to_video`, `image_to_video`, `characters`, `extensions`,
    /// `edits`, `remix`, `audio`); absent means those of `like`.
    #[serde(default)]
    pub features: Option<Vec<String>>,
}

fn default_like() -> String {
    "sora-2".to_string()
}

/// Names of pools, models and workers: 1 to `max` of `A-Za-z0-9._-`.
pub fn valid_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub fn check(s: &Settings) -> Result<(), String> {
    if s.worker_tokens.iter().any(|t| t.0.trim().len() < 16) {
        return Err("worker_tokens: every token must be at least 16 characters".into());
    }
    let api_keys = s
        .api_keys
        .iter()
        .chain(s.projects.iter().flat_map(|p| &p.api_keys));
    for key in api_keys {
        if s.worker_tokens.contains(key) {
            return Err("worker_tokens: a worker token must not also be an API key".into());
        }
    }
    for (i, m) in s.remote_models.iter().enumerate() {
        if !valid_name(&m.id, 64) || !valid_name(&m.pool, 64) {
            return Err(format!(
                "remote_models[{i}]: id and pool must be 1-64 of A-Za-z0-9._-"
            ));
        }
        if m.pool == BUILTIN_POOL {
            return Err(format!(
                "remote_models[{i}] ({}): pool '{BUILTIN_POOL}' is the built-in engine's; \
                 use model_aliases to add ids to it",
                m.id
            ));
        }
    }
    Ok(())
}

/// Adds the settings' remote models to `c`.
pub fn add_remote_models(c: &mut Catalogue, models: &[RemoteModel]) -> Result<(), String> {
    for m in models {
        if c.get(&m.id).is_some() {
            return Err(format!("remote_models: model '{}' is declared twice", m.id));
        }
        let mut spec = c
            .get(&m.like)
            .ok_or_else(|| {
                format!(
                    "remote_models: '{}' is like unknown model '{}'",
                    m.id, m.like
                )
            })?
            .clone();
        spec.id = m.id.clone();
        spec.engine = m.pool.clone();
        spec.description = m
            .description
            .clone()
            .unwrap_or_else(|| format!("Rendered by the '{}' worker pool.", m.pool));
        if let Some(features) = &m.features {
            spec.features = features.clone();
        }
        c.models.push(spec);
    }
    Ok(())
}

/// Model ids a pool serves.
pub fn pool_models(c: &Catalogue, pool: &str) -> Vec<String> {
    c.models
        .iter()
        .filter(|m| m.engine == pool)
        .map(|m| m.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(id: &str, pool: &str) -> RemoteModel {
        RemoteModel {
            id: id.into(),
            pool: pool.into(),
            like: "sora-2-pro".into(),
            description: None,
            features: Some(vec!["text_to_video".into()]),
        }
    }

    #[test]
    fn remote_models_join_their_pool_only() {
        let mut c = Catalogue::builtin();
        add_remote_models(&mut c, &[remote("wan-2.1", "wan")]).unwrap();
        let wan = c.get("wan-2.1").unwrap();
        assert_eq!(wan.engine, "wan");
        assert!(wan.supports("text_to_video") && !wan.supports("characters"));
        assert_eq!(wan.tiers, c.get("sora-2-pro").unwrap().tiers);
        assert_eq!(pool_models(&c, "wan"), vec!["wan-2.1".to_string()]);
        assert!(!pool_models(&c, BUILTIN_POOL).contains(&"wan-2.1".to_string()));
        assert!(add_remote_models(&mut c, &[remote("wan-2.1", "wan")]).is_err());
        let mut bad = remote("x", "wan");
        bad.like = "nope".into();
        assert!(add_remote_models(&mut c, &[bad]).is_err());
    }

    #[test]
    fn tokens_and_pools_are_checked() {
        let mut s = Settings {
            worker_tokens: vec![crate::settings::Secret("short".into())],
            ..Settings::default()
        };
        assert!(check(&s).is_err());
        s.worker_tokens = vec![crate::settings::Secret("a-long-enough-token".into())];
        assert!(check(&s).is_ok());
        s.api_keys = s.worker_tokens.clone();
        assert!(check(&s).unwrap_err().contains("API key"));
        s.api_keys.clear();
        s.remote_models = vec![remote("x", BUILTIN_POOL)];
        assert!(check(&s).is_err());
    }
}
