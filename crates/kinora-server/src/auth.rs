//! API keys and projects: a request's bearer key decides which project it acts for.
//!
//! A key listed on its own is a project of its own, named by a digest of the key so the name is
//! stable across restarts without ever storing the key. Another project's objects are invisible
//! (404), never forbidden (403), so ids cannot be probed.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::settings::Settings;
use crate::state::AppState;

/// The project an authenticated request acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project(pub String);

#[derive(Debug, Default)]
pub struct Auth {
    keys: HashMap<String, String>,
}

/// The project every request belongs to when no keys are configured (loopback-only servers).
pub const OPEN_PROJECT: &str = "default";

impl Auth {
    pub fn from_settings(s: &Settings) -> Auth {
        let mut keys = HashMap::new();
        for k in &s.api_keys {
            let digest = hex::encode(Sha256::digest(k.0.as_bytes()));
            keys.insert(k.0.clone(), format!("proj_{}", &digest[..24]));
        }
        for p in &s.projects {
            for k in &p.api_keys {
                keys.insert(k.0.clone(), p.name.clone());
            }
        }
        Auth { keys }
    }

    pub fn is_open(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn project_for(&self, authorization: Option<&str>) -> Result<Project, ApiError> {
        if self.is_open() {
            return Ok(Project(OPEN_PROJECT.to_string()));
        }
        let Some(header) = authorization else {
            return Err(ApiError::Unauthorized(
                "You didn't provide an API key. You need to provide your API key in an \
                 Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                    .into(),
            ));
        };
        let key = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .unwrap_or("")
            .trim();
        self.keys
            .get(key)
            .map(|p| Project(p.clone()))
            .ok_or_else(|| ApiError::Unauthorized("Incorrect API key provided.".into()))
    }
}

impl FromRequestParts<AppState> for Project {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        state.auth.project_for(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ProjectSettings, Secret};

    #[test]
    fn keys_map_to_projects() {
        let s = Settings {
            api_keys: vec![Secret("sk-a".into()), Secret("sk-b".into())],
            projects: vec![ProjectSettings {
                name: "team".into(),
                api_keys: vec![Secret("sk-c".into()), Secret("sk-d".into())],
            }],
            ..Settings::default()
        };
        let auth = Auth::from_settings(&s);
        let a = auth.project_for(Some("Bearer sk-a")).unwrap();
        let b = auth.project_for(Some("Bearer sk-b")).unwrap();
        assert_ne!(a, b);
        assert_eq!(auth.project_for(Some("Bearer sk-c")).unwrap().0, "team");
        assert_eq!(auth.project_for(Some("Bearer sk-d")).unwrap().0, "team");
        assert!(auth.project_for(Some("Bearer nope")).is_err());
        assert!(auth.project_for(None).is_err());
        assert_eq!(Auth::default().project_for(None).unwrap().0, OPEN_PROJECT);
    }
}
