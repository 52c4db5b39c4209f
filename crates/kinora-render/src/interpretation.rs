//! What the engine made of a prompt, in the form every interface reports it: the API's
//! `interpretation` field, the CLI's stderr and the server log.

use serde::{Deserialize, Serialize};

use crate::prompt::{EditVerb, Reading, Term, read};

/// One prompt word (or phrase) and what it was read as, e.g. `fox` as `subject:fox`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Understood {
    pub word: String,
    #[serde(rename = "as")]
    pub as_: String,
}

/// A choice the engine made because the prompt did not say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fallback {
    pub what: String,
    pub chose: String,
    pub why: String,
}

impl Fallback {
    pub fn new(what: &str, chose: &str, why: &str) -> Self {
        Self {
            what: what.to_owned(),
            chose: chose.to_owned(),
            why: why.to_owned(),
        }
    }

    /// The one-line form kept in `scene.json`'s `fallbacks`.
    pub fn line(&self) -> String {
        format!("{}: {} ({})", self.what, self.chose, self.why)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interpretation {
    pub understood: Vec<Understood>,
    /// Words that meant nothing to the engine (function words aside), each once.
    pub ignored: Vec<String>,
    /// Share of the prompt's content words that were understood, 0 to 1.
    pub coverage: f32,
    pub fallbacks: Vec<Fallback>,
}

fn label(term: Term, characters: &[String]) -> String {
    match term {
        Term::Setting(v) => format!("setting:{}", v.name()),
        Term::Time(v) => format!("time:{}", v.name()),
        Term::Weather(v) => format!("weather:{}", v.name()),
        Term::Colour(v) => format!("colour:{}", v.name()),
        Term::Motion(v) => format!("motion:{}", v.name()),
        Term::Camera(v) => format!("camera:{}", v.name().replace(' ', "_")),
        Term::Framing(v) => format!("framing:{}", v.name().replace(' ', "_")),
        Term::Mood(v) => format!("mood:{}", v.name()),
        Term::Style(v) => format!("style:{}", v.name()),
        Term::Tempo(v) => format!("tempo:{}", v.name()),
        Term::Size(v) => format!("size:{}", v.name()),
        Term::Subject { kind, .. } => format!("subject:{}", kind.name().replace(' ', "_")),
        Term::Character(i) => format!(
            "character:{}",
            characters.get(i).map_or("?", String::as_str)
        ),
        Term::Count(n) => format!("count:{n}"),
        Term::Edit(v) => format!(
            "edit:{}",
            match v {
                EditVerb::Add => "add",
                EditVerb::Remove => "remove",
                EditVerb::Replace => "replace",
                EditVerb::Into => "into",
            }
        ),
    }
}

impl Interpretation {
    pub fn with_characters(
        reading: &Reading,
        fallbacks: Vec<Fallback>,
        characters: &[String],
    ) -> Self {
        let understood: Vec<Understood> = reading
            .terms
            .iter()
            .zip(&reading.words)
            .map(|(f, word)| Understood {
                word: word.clone(),
                as_: label(f.term, characters),
            })
            .collect();
        // Counts ("a", "two") and edit joiners ("with") are grammar, not content.
        let content = reading
            .terms
            .iter()
            .filter(|f| !matches!(f.term, Term::Count(_) | Term::Edit(EditVerb::Into)))
            .count();
        let ignored = reading.ignored_clauses.len();
        let coverage = if content + ignored == 0 {
            0.0
        } else {
            content as f32 / (content + ignored) as f32
        };
        Self {
            understood,
            ignored: reading.ignored.clone(),
            coverage,
            fallbacks,
        }
    }

    /// An edit prompt: what it names, nothing chosen in its place.
    pub fn of_edit(prompt: &str, characters: &[String]) -> Self {
        Self::with_characters(&read(prompt, characters), Vec::new(), characters)
    }

    /// One line per problem, for stderr and logs; empty when everything was understood.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.ignored.is_empty() {
            out.push(format!(
                "not understood (shown as a caption, not drawn): {}",
                self.ignored.join(", ")
            ));
        }
        for f in &self.fallbacks {
            out.push(format!("{}: chose {} ({})", f.what, f.chose, f.why));
        }
        out
    }
}

/// What the engine understands of an edit prompt.
pub fn interpret_edit(prompt: &str) -> Interpretation {
    Interpretation::of_edit(prompt, &[])
}

#[cfg(test)]
mod tests {
    use crate::scene::Scene;

    #[test]
    fn says_what_it_understood_and_ignored() {
        let (_, i) = Scene::read("abstract ink swirling in water", 1, &[]);
        assert_eq!(i.ignored, vec!["abstract", "ink", "water"]);
        assert!(i.understood.iter().any(|u| u.as_ == "motion:float"));
        assert!((i.coverage - 0.25).abs() < 1e-6);
        assert!(
            i.fallbacks
                .iter()
                .any(|f| f.what == "setting" && f.chose == "stage")
        );
        let (_, i) = Scene::read("a red fox runs through a forest at dusk", 1, &[]);
        assert!(i.ignored.is_empty());
        assert_eq!(i.coverage, 1.0);
        assert!(i.fallbacks.is_empty());
        let json = serde_json::to_value(&i).unwrap();
        assert_eq!(json["understood"][2]["as"], "subject:fox");
        assert_eq!(json["understood"][2]["word"], "fox");
    }
}
