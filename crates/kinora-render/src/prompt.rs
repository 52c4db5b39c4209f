//! Reading a prompt into a list of recognised terms, each tagged with its clause, so the scene
//! builder can attach colours and motions to the nouns near them.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::lexicon::{self, Label};
use crate::vocabulary::{
    CameraMove, Framing, Mood, Motion, NamedColour, Setting, Size, Style, SubjectKind, Tempo,
    TimeOfDay, Weather, count_word, singulars,
};

/// Words that steer an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditVerb {
    Add,
    Remove,
    Replace,
    /// "with", "into", "to", "for": joins the two halves of a replace.
    Into,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Term {
    Setting(Setting),
    Time(TimeOfDay),
    Weather(Weather),
    Colour(NamedColour),
    Motion(Motion),
    Camera(CameraMove),
    Framing(Framing),
    Mood(Mood),
    Style(Style),
    Tempo(Tempo),
    Size(Size),
    /// A subject noun; `plural` when it was written in the plural.
    Subject {
        kind: SubjectKind,
        plural: bool,
    },
    /// A character named in the request, by index into the request's character list.
    Character(usize),
    Count(usize),
    Edit(EditVerb),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub term: Term,
    pub clause: usize,
}

/// The terms of a prompt in reading order, and the words that meant nothing to the engine.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub terms: Vec<Found>,
    /// The prompt's words behind each of `terms`, as written (lowercased).
    pub words: Vec<String>,
    /// Each distinct word that matched nothing, in order.
    pub ignored: Vec<String>,
    /// The clauses the ignored words were in (an edit uses them to tell what it could not do).
    pub ignored_clauses: Vec<usize>,
}

const FILLER: &[&str] = &[
    "the",
    "of",
    "in",
    "on",
    "at",
    "is",
    "are",
    "it",
    "its",
    "this",
    "that",
    "through",
    "across",
    "over",
    "under",
    "by",
    "from",
    "as",
    "its",
    "their",
    "his",
    "her",
    "they",
    "very",
    "shot",
    "scene",
    "video",
    "clip",
    "camera",
    "near",
    "around",
    "along",
    "beside",
    "behind",
    "toward",
    "towards",
    "up",
    "down",
    "make",
    "makes",
    "now",
    "there",
    "be",
    "gets",
    "get",
    "become",
    "becomes",
    "instead",
    "its",
    "all",
    "an",
    "he",
    "she",
    "him",
    "them",
    "we",
    "you",
    "i",
    "my",
    "your",
    "our",
    "has",
    "have",
    "was",
    "were",
    "being",
    "been",
    "so",
    "just",
    "also",
    "onto",
    "out",
    "off",
    "than",
    "each",
    "other",
    "who",
    "which",
    "what",
    "when",
    "how",
    "into",
    "sky",
    "air",
    "ground",
    "background",
    "foreground",
    "frame",
    "view",
    "while",
    "s",
    "does",
    "do",
    "can",
    "will",
    "above",
    "below",
    "past",
    "between",
    "against",
    "inside",
    "next",
    "front",
    "way",
    "around",
    "together",
    "again",
    "back",
    "away",
];

const CLAUSE_WORDS: &[&str] = &["and", "while", "then", "but", "as", "where", "whilst"];

fn tokens(prompt: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for ch in prompt.chars() {
        if ch.is_alphanumeric() || ch == '\'' {
            word.extend(ch.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if matches!(ch, ',' | '.' | ';' | '!' | '?' | ':') {
            out.push(",".to_owned());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn edit_verb(word: &str) -> Option<EditVerb> {
    Some(match word {
        "add" | "adds" | "include" | "introduce" | "insert" | "appears" | "appear" | "arrives" => {
            EditVerb::Add
        }
        "remove" | "delete" | "erase" | "without" | "drop" | "removed" => EditVerb::Remove,
        "replace" | "swap" | "change" | "turn" | "transform" => EditVerb::Replace,
        "with" | "into" | "to" | "for" => EditVerb::Into,
        _ => return None,
    })
}

/// Recognises one phrase (already space-joined); vocabulary order decides ties.
fn phrase_term(phrase: &str, characters: &[String]) -> Option<Term> {
    if let Some(i) = characters
        .iter()
        .position(|c| c.eq_ignore_ascii_case(phrase))
    {
        return Some(Term::Character(i));
    }
    if let Some(v) = CameraMove::from_phrase(phrase) {
        return Some(Term::Camera(v));
    }
    if let Some(v) = Framing::from_phrase(phrase) {
        return Some(Term::Framing(v));
    }
    if let Some(v) = Style::from_phrase(phrase) {
        return Some(Term::Style(v));
    }
    if let Some(v) = TimeOfDay::from_phrase(phrase) {
        return Some(Term::Time(v));
    }
    if let Some(v) = Weather::from_phrase(phrase) {
        return Some(Term::Weather(v));
    }
    if let Some(v) = Setting::from_phrase(phrase) {
        return Some(Term::Setting(v));
    }
    if let Some(v) = Mood::from_phrase(phrase) {
        return Some(Term::Mood(v));
    }
    if let Some(v) = Motion::from_phrase(phrase) {
        return Some(Term::Motion(v));
    }
    if let Some(v) = NamedColour::from_phrase(phrase) {
        return Some(Term::Colour(v));
    }
    if let Some(v) = Tempo::from_phrase(phrase) {
        return Some(Term::Tempo(v));
    }
    if let Some(v) = Size::from_phrase(phrase) {
        return Some(Term::Size(v));
    }
    if let Some(kind) = SubjectKind::from_phrase(phrase) {
        let plural = matches!(phrase, "people" | "children" | "kids" | "cattle" | "cacti");
        return Some(Term::Subject { kind, plural });
    }
    if let Some(kind) = singulars(phrase).find_map(|s| SubjectKind::from_phrase(&s)) {
        return Some(Term::Subject { kind, plural: true });
    }
    None
}

fn labelled_term(label: Label, plural: bool) -> Option<Term> {
    Some(match label.category {
        "subject" => Term::Subject {
            kind: SubjectKind::from_phrase(label.name)?,
            plural,
        },
        "setting" => Term::Setting(Setting::from_phrase(label.name)?),
        "weather" => Term::Weather(Weather::from_phrase(label.name)?),
        "motion" => Term::Motion(Motion::from_phrase(label.name)?),
        _ => return None,
    })
}

/// Every single word of the vocabulary, in the order `phrase_term` prefers them.
fn vocabulary_words() -> Vec<&'static str> {
    fn words<T: Copy>(all: &[T], of: fn(T) -> &'static [&'static str]) -> Vec<&'static str> {
        all.iter().flat_map(|v| of(*v).iter().copied()).collect()
    }
    [
        words(CameraMove::ALL, CameraMove::words),
        words(Framing::ALL, Framing::words),
        words(Style::ALL, Style::words),
        words(TimeOfDay::ALL, TimeOfDay::words),
        words(Weather::ALL, Weather::words),
        words(Setting::ALL, Setting::words),
        words(Mood::ALL, Mood::words),
        words(Motion::ALL, Motion::words),
        words(NamedColour::ALL, NamedColour::words),
        words(Tempo::ALL, Tempo::words),
        words(Size::ALL, Size::words),
        words(SubjectKind::ALL, SubjectKind::words),
    ]
    .concat()
    .into_iter()
    .filter(|w| !w.contains(' '))
    .collect()
}

/// A word the vocabulary does not hold as written: its lemmas (possessive, irregular and
/// regular plurals) in the vocabulary, then in the WordNet lexicon, then its stem against the
/// vocabulary's ("galloping" → "gallop").
fn word_term(word: &str, characters: &[String]) -> Option<Term> {
    let forms = lexicon::lemmas(word);
    for (form, plural) in &forms[1..] {
        match phrase_term(form, characters) {
            Some(Term::Subject { kind, .. }) => {
                return Some(Term::Subject {
                    kind,
                    plural: *plural,
                });
            }
            Some(t) => return Some(t),
            None => {}
        }
    }
    if let Some(t) = forms
        .iter()
        .find_map(|(form, plural)| labelled_term(lexicon::label(form)?, *plural))
    {
        return Some(t);
    }
    let bare = forms.get(1).map_or(word, |(f, _)| f.as_str());
    if bare.chars().count() < 4 {
        return None;
    }
    // Stems are matched against the hand-written vocabulary only: across the lexicon's
    // thousands of words they collide ("water" and "waterer", a person).
    static VOCAB: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let w = lexicon::by_stem(&VOCAB, vocabulary_words, bare)?;
    phrase_term(w, characters)
}

/// The longest term starting at word `i`, with how many words it took.
fn term_at(words: &[String], i: usize, characters: &[String]) -> Option<(usize, Term)> {
    let word = words.get(i)?.as_str();
    (1..=3)
        .rev()
        .filter(|n| i + n <= words.len())
        .find_map(|n| {
            let phrase = words[i..i + n].join(" ");
            phrase_term(&phrase, characters).map(|t| (n, t))
        })
        .or_else(|| {
            let filler = FILLER.contains(&word) || edit_verb(word).is_some();
            let counted = count_word(word).is_some() || word.parse::<usize>().is_ok();
            (!filler && !counted)
                .then(|| word_term(word, characters).or_else(|| comparative(word)))
                .flatten()
                .map(|t| (1, t))
        })
}

/// "more X" / "most X" read as X, and "less X" / "least X" as X's set's neutral value ("less
/// foggy" is clear, "less dark" is day), for the words that have a degree: the words taken and
/// the term. Speed and size go both ways from the subject's own, so there "less" is the other
/// way ("less fast" is slow). "less bright" has no neutral to go back to: its term is `None`,
/// and both words go unread rather than being read as the opposite of what was asked.
fn degree(words: &[String], i: usize, characters: &[String]) -> Option<(usize, Option<Term>)> {
    let lessen = match words[i].as_str() {
        "more" | "most" => false,
        "less" | "least" => true,
        _ => return None,
    };
    let (n, term) = term_at(words, i + 1, characters).filter(|(_, t)| has_degree(*t))?;
    Some((n + 1, if lessen { neutral(term) } else { Some(term) }))
}

/// Terms with a degree: how the picture looks ("warmer", "less rainy", "colder") and how fast
/// or big its subjects are ("slower", "bigger").
fn has_degree(term: Term) -> bool {
    matches!(
        term,
        Term::Time(_)
            | Term::Weather(_)
            | Term::Mood(_)
            | Term::Style(_)
            | Term::Colour(_)
            | Term::Tempo(_)
            | Term::Size(_)
    )
}

/// Where "less" of `term` goes: its set's neutral value, if `term` is not already it.
fn neutral(term: Term) -> Option<Term> {
    let back = match term {
        Term::Time(t) if t != TimeOfDay::Day => Term::Time(TimeOfDay::Day),
        Term::Weather(w) if w != Weather::Clear => Term::Weather(Weather::Clear),
        Term::Mood(m) if m != Mood::Calm => Term::Mood(Mood::Calm),
        Term::Style(s) if s != Style::Natural => Term::Style(Style::Natural),
        Term::Tempo(Tempo::Fast) => Term::Tempo(Tempo::Slow),
        Term::Tempo(Tempo::Slow) => Term::Tempo(Tempo::Fast),
        Term::Size(Size::Big) => Term::Size(Size::Small),
        Term::Size(Size::Small) => Term::Size(Size::Big),
        _ => return None,
    };
    Some(back)
}

/// A comparative or superlative of a word with a degree ("warmer", "darkest", "redder",
/// "sunnier", "colder", "slower", "bigger", "larger") read as its base word. Agent nouns of
/// motions ("walker", "swimmer") are not comparatives, so only words with a degree count.
fn comparative(word: &str) -> Option<Term> {
    let stem = word
        .strip_suffix("est")
        .or_else(|| word.strip_suffix("er"))?;
    let mut bases = vec![stem.to_owned(), format!("{stem}e")];
    if let Some(y) = stem.strip_suffix('i') {
        bases.push(format!("{y}y"));
    }
    let b = stem.as_bytes();
    if b.len() >= 2 && b[b.len() - 1] == b[b.len() - 2] {
        bases.push(stem[..stem.len() - 1].to_owned());
    }
    bases
        .into_iter()
        .filter(|base| base.len() >= 3)
        .find_map(|base| phrase_term(&base, &[]).filter(|t| has_degree(*t)))
}

/// Reads `prompt`; `characters` are names that count as subjects of their own.
pub fn read(prompt: &str, characters: &[String]) -> Reading {
    let words = tokens(prompt);
    let mut reading = Reading::default();
    let mut clause = 0;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        if word == "," || CLAUSE_WORDS.contains(&word) {
            clause += 1;
            i += 1;
            continue;
        }
        let longest = term_at(&words, i, characters)
            .map(|(n, t)| (n, Some(t)))
            .or_else(|| degree(&words, i, characters));
        if let Some((n, None)) = longest {
            reading.ignored_clauses.push(clause);
            let phrase = words[i..i + n].join(" ");
            if !reading.ignored.contains(&phrase) {
                reading.ignored.push(phrase);
            }
            i += n;
            continue;
        }
        if let Some((n, Some(term))) = longest {
            reading.terms.push(Found { term, clause });
            reading.words.push(words[i..i + n].join(" "));
            i += n;
            continue;
        }
        if let Some(verb) = edit_verb(word) {
            reading.terms.push(Found {
                term: Term::Edit(verb),
                clause,
            });
            reading.words.push(word.to_owned());
        } else if let Some(n) = count_word(word).or_else(|| word.parse::<usize>().ok()) {
            reading.terms.push(Found {
                term: Term::Count(n.clamp(1, 4)),
                clause,
            });
            reading.words.push(word.to_owned());
        } else if !FILLER.contains(&word) {
            reading.ignored_clauses.push(clause);
            if !reading.ignored.iter().any(|w| w == word) {
                reading.ignored.push(word.to_owned());
            }
        }
        i += 1;
    }
    reading
}

/// FNV-1a over the lowercased prompt: the stable hash behind every fallback choice.
pub fn prompt_hash(prompt: &str) -> u64 {
    prompt
        .to_lowercase()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_beat_single_words() {
        let r = read("Close-up of a red car, pan left at sunset", &[]);
        let terms: Vec<Term> = r.terms.iter().map(|f| f.term).collect();
        assert!(terms.contains(&Term::Framing(Framing::CloseUp)));
        assert!(terms.contains(&Term::Camera(CameraMove::PanLeft)));
        assert!(terms.contains(&Term::Time(TimeOfDay::Dusk)));
        assert!(terms.contains(&Term::Colour(NamedColour::Red)));
    }

    #[test]
    fn plurals_and_characters() {
        let r = read("Two dogs chase Mossy", &["mossy".to_owned()]);
        let terms: Vec<Term> = r.terms.iter().map(|f| f.term).collect();
        assert_eq!(
            terms,
            vec![
                Term::Count(2),
                Term::Subject {
                    kind: SubjectKind::Dog,
                    plural: true
                },
                Term::Motion(Motion::Run),
                Term::Character(0),
            ]
        );
    }

    fn terms(prompt: &str) -> (Vec<Term>, Vec<String>) {
        let r = read(prompt, &[]);
        (r.terms.iter().map(|f| f.term).collect(), r.ignored)
    }

    #[test]
    fn comparatives_of_look_words_read_as_the_word() {
        for (prompt, want) in [
            ("make it warmer", Term::Mood(Mood::Romantic)),
            ("darker", Term::Time(TimeOfDay::Night)),
            ("brighter", Term::Weather(Weather::Clear)),
            ("sunnier", Term::Weather(Weather::Clear)),
            ("the foggiest", Term::Weather(Weather::Fog)),
            ("redder", Term::Colour(NamedColour::Red)),
            ("make it more cheerful", Term::Mood(Mood::Cheerful)),
            ("the most dramatic", Term::Mood(Mood::Tense)),
            ("less foggy", Term::Weather(Weather::Clear)),
            ("make it less dark", Term::Time(TimeOfDay::Day)),
            ("less vintage", Term::Style(Style::Natural)),
            ("make it colder", Term::Mood(Mood::Cold)),
            ("cooler", Term::Mood(Mood::Cold)),
            ("the coldest", Term::Mood(Mood::Cold)),
            ("slower", Term::Tempo(Tempo::Slow)),
            ("faster", Term::Tempo(Tempo::Fast)),
            ("quicker", Term::Tempo(Tempo::Fast)),
            ("bigger", Term::Size(Size::Big)),
            ("larger", Term::Size(Size::Big)),
            ("the biggest", Term::Size(Size::Big)),
            ("smaller", Term::Size(Size::Small)),
            ("tinier", Term::Size(Size::Small)),
            ("less fast", Term::Tempo(Tempo::Slow)),
            ("more slowly", Term::Tempo(Tempo::Slow)),
            ("less big", Term::Size(Size::Small)),
        ] {
            assert_eq!(terms(prompt), (vec![want], vec![]), "{prompt:?}");
        }
    }

    #[test]
    fn what_has_no_degree_is_not_read_as_one() {
        // "less" of the neutral value has nowhere to go; the word itself must not be read.
        assert_eq!(
            terms("less bright"),
            (vec![], vec!["less bright".to_owned()])
        );
        // Agent nouns are not comparatives of motions.
        assert!(
            !terms("a walker")
                .0
                .iter()
                .any(|t| matches!(t, Term::Motion(_)))
        );
        // A comparative with no base in the vocabulary stays unread.
        assert_eq!(terms("louder"), (vec![], vec!["louder".to_owned()]));
    }

    #[test]
    fn unknown_words_are_listed_once() {
        let r = read("zorblax zorblax quux", &[]);
        assert!(r.terms.is_empty());
        assert_eq!(r.ignored, vec!["zorblax", "quux"]);
    }
}
