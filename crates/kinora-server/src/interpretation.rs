//! The built-in engine's reading of a job's prompt, for the video object's `interpretation`
//! and the server log. Reading a prompt is a pure function of the prompt (and the names of the
//! request's characters), so it is derived from the stored prompt rather than stored beside it;
//! GPU models have none. It is not free, though: scanning the vocabulary for every phrase, plus a
//! store read per character, was a tenth of the CPU of `GET /v1/videos/{id}` under load. So each
//! video's reading is kept in a bounded [`Cache`], taken at its first read (normally its create).

use std::collections::HashMap;
use std::sync::Mutex;

use kinora_core::{ErrorCode, JobSpec};
use kinora_render::Interpretation;
use kinora_store::VideoRecord;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Error codes of jobs refused because the engine understood nothing it could do: they fail at
/// once and cost nothing, and their `usage` says so.
pub const UNBILLED_REFUSALS: &[ErrorCode] =
    &[ErrorCode::EditNotUnderstood, ErrorCode::PromptNotUnderstood];

/// A prompt word (or phrase) and what it was read as.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnderstoodWord {
    #[schema(examples("fox"))]
    pub word: String,
    /// `category:name`: `subject:fox`, `setting:beach`, `motion:run`, `time:dusk`,
    /// `weather:rain`, `colour:red`, `camera:pan_left`, `framing:aerial`, `mood:calm`,
    /// `style:noir`, `count:2`, `character:NAME`, `edit:add`.
    #[serde(rename = "as")]
    #[schema(examples("subject:fox"))]
    pub as_: String,
}

/// A choice the engine made because the prompt did not say.
#[derive(Debug, Serialize, ToSchema)]
pub struct FallbackChoice {
    #[schema(examples("setting"))]
    pub what: String,
    #[schema(examples("stage"))]
    pub chose: String,
    pub why: String,
}

/// Kinora extension: how the built-in engine read the prompt.
#[derive(Debug, Serialize, ToSchema)]
pub struct InterpretationView {
    pub understood: Vec<UnderstoodWord>,
    /// Words it could not draw; they appear as a caption in the clip (unless captions are off).
    pub ignored: Vec<String>,
    /// Share of the prompt's content words that were understood, 0 to 1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub coverage: f32,
    pub fallbacks: Vec<FallbackChoice>,
}

impl From<Interpretation> for InterpretationView {
    fn from(i: Interpretation) -> Self {
        Self {
            understood: i
                .understood
                .into_iter()
                .map(|u| UnderstoodWord {
                    word: u.word,
                    as_: u.as_,
                })
                .collect(),
            ignored: i.ignored,
            coverage: i.coverage,
            fallbacks: i
                .fallbacks
                .into_iter()
                .map(|f| FallbackChoice {
                    what: f.what,
                    chose: f.chose,
                    why: f.why,
                })
                .collect(),
        }
    }
}

/// Whether `model` is rendered by the built-in engine (not a GPU worker pool).
pub fn is_builtin(state: &AppState, model: &str) -> bool {
    state
        .catalogue
        .get(model)
        .is_some_and(|m| m.engine == "builtin")
}

/// Readings by video id, at most about `2 × GENERATION` of them: when the current generation is
/// full it becomes the previous one and the oldest is dropped, so the videos read recently stay
/// (an LRU's effect without its bookkeeping).
#[derive(Debug, Default)]
pub struct Cache {
    generations: Mutex<(
        HashMap<String, Interpretation>,
        HashMap<String, Interpretation>,
    )>,
}

const GENERATION: usize = 4096;

impl Cache {
    fn get(&self, id: &str) -> Option<Interpretation> {
        let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = g.0.get(id) {
            return Some(i.clone());
        }
        let old = g.1.remove(id)?;
        Self::put_in(&mut g, id, old.clone());
        Some(old)
    }

    fn put(&self, id: &str, i: Interpretation) {
        let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        Self::put_in(&mut g, id, i);
    }

    fn put_in(
        g: &mut (
            HashMap<String, Interpretation>,
            HashMap<String, Interpretation>,
        ),
        id: &str,
        i: Interpretation,
    ) {
        if g.0.len() >= GENERATION {
            g.1 = std::mem::take(&mut g.0);
        }
        g.0.insert(id.to_string(), i);
    }
}

/// How the built-in engine reads `r`'s prompt; `None` for GPU models and prompt-less jobs.
pub async fn of_record(state: &AppState, r: &VideoRecord) -> Option<Interpretation> {
    if !is_builtin(state, &r.model) {
        return None;
    }
    let prompt = r.prompt.as_deref()?;
    if let Some(i) = state.interpretations.get(&r.id) {
        return Some(i);
    }
    let i = read(state, r, prompt).await;
    state.interpretations.put(&r.id, i.clone());
    Some(i)
}

async fn read(state: &AppState, r: &VideoRecord, prompt: &str) -> Interpretation {
    match &r.spec {
        JobSpec::Edit { .. } => kinora_render::interpret_edit(prompt),
        JobSpec::Create { characters, .. } => {
            let mut names = Vec::new();
            for id in characters {
                if let Ok(Some(c)) = state.store.get_character(&r.project, id).await {
                    names.push(c.name.to_lowercase());
                }
            }
            kinora_render::interpret(prompt, &names)
        }
        JobSpec::Extend { .. } | JobSpec::Remix { .. } => kinora_render::interpret(prompt, &[]),
    }
}

/// Logs what the engine could not read in a new job's prompt, with the job's id.
pub fn log(video_id: &str, i: &Interpretation) {
    if i.ignored.is_empty() && i.fallbacks.is_empty() {
        return;
    }
    let fallbacks: Vec<String> = i
        .fallbacks
        .iter()
        .map(|f| format!("{}={}", f.what, f.chose))
        .collect();
    tracing::info!(
        video_id,
        ignored = %i.ignored.join(","),
        fallbacks = %fallbacks.join(","),
        coverage = i.coverage,
        "prompt partly understood"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(word: &str) -> Interpretation {
        kinora_render::interpret(word, &[])
    }

    #[test]
    fn the_cache_keeps_recent_readings_and_stays_bounded() {
        let cache = Cache::default();
        cache.put("video_0", reading("a fox"));
        for n in 1..GENERATION {
            cache.put(&format!("video_{n}"), reading("a boat"));
        }
        // Read back while still in the current generation.
        assert_eq!(cache.get("video_0"), Some(reading("a fox")));
        for n in GENERATION..3 * GENERATION {
            cache.put(&format!("video_{n}"), reading("a boat"));
        }
        let g = cache.generations.lock().unwrap();
        assert!(g.0.len() + g.1.len() <= 2 * GENERATION);
        drop(g);
        assert_eq!(cache.get("video_1"), None, "old and untouched: dropped");
        assert!(
            cache
                .get(&format!("video_{}", 3 * GENERATION - 1))
                .is_some()
        );
    }
}
