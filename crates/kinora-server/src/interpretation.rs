//! The built-in engine's reading of a job's prompt, for the video object's `interpretation`
//! and the server log. Reading a prompt is a pure function of the prompt (and the names of the
//! request's characters), a few microseconds, so it is derived from the stored prompt rather
//! than stored beside it; GPU models have none.

use kinora_core::JobSpec;
use kinora_render::Interpretation;
use kinora_store::VideoRecord;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Error codes of jobs refused because the engine understood nothing it could do: they fail at
/// once and cost nothing, and their `usage` says so.
pub const UNBILLED_REFUSALS: &[&str] = &["edit_not_understood", "prompt_not_understood"];

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

/// How the built-in engine reads `r`'s prompt; `None` for GPU models and prompt-less jobs.
pub async fn of_record(state: &AppState, r: &VideoRecord) -> Option<Interpretation> {
    if !is_builtin(state, &r.model) {
        return None;
    }
    let prompt = r.prompt.as_deref()?;
    Some(match &r.spec {
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
    })
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
