//! The scorer vocabulary: what goes in ([`Input`]), what comes out ([`Score`]).

use std::fmt;

use serde::Serialize;

use crate::Result;
use crate::classifier::Cue;

/// A deterministic scorer of one exchange (or one text).
///
/// Implementations hold their compiled patterns, so building one is the
/// expensive step and [`Scorer::score`] is cheap and linear in the input.
pub trait Scorer: Send + Sync + fmt::Debug {
    /// The scorer's name, as used by `infersight score --scorer`.
    fn name(&self) -> &'static str;

    /// Scores one input.
    ///
    /// # Errors
    ///
    /// [`crate::Error::MissingField`] when the input lacks what this scorer
    /// reads, [`crate::Error::InvalidSchema`] for a bad JSON Schema.
    fn score(&self, input: &Input<'_>) -> Result<Score>;
}

/// One thing to score. Scorers pick the fields they need: prompt-side
/// scorers read `prompt`, response-side scorers read `response`, and `text`
/// stands in for either when the caller has a single string.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    /// A single text, for callers that do not split prompt and response.
    pub text: Option<&'a str>,
    /// The prompt sent to the model.
    pub prompt: Option<&'a str>,
    /// The model's response.
    pub response: Option<&'a str>,
    /// Several responses to the same prompt (for `consistency`).
    pub samples: &'a [String],
    /// The expected answer (for `reference`).
    pub reference: Option<&'a str>,
    /// A JSON Schema the response must satisfy (for `json`).
    pub schema: Option<&'a serde_json::Value>,
}

impl<'a> Input<'a> {
    /// An input made of one text only.
    pub fn text(text: &'a str) -> Self {
        Input { text: Some(text), ..Input::default() }
    }

    /// The response, else the text, else the prompt: what response-side
    /// scorers read.
    pub fn response_side(&self) -> Option<&'a str> {
        self.response.or(self.text).or(self.prompt)
    }

    /// The prompt, else the text, else the response: what prompt-side
    /// scorers read.
    pub fn prompt_side(&self) -> Option<&'a str> {
        self.prompt.or(self.text).or(self.response)
    }
}

/// The kinds of personal data and secrets the PII scorer finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)] // The names are the documentation (DESIGN.md §7).
pub enum PiiType {
    Person,
    EmailAddress,
    PhoneNumber,
    CreditCard,
    UsSsn,
    IpAddress,
    IbanCode,
    StreetAddress,
    Secret,
}

impl PiiType {
    /// Every type, in the order of DESIGN.md §7.
    pub const ALL: [PiiType; 9] = [
        PiiType::Person,
        PiiType::EmailAddress,
        PiiType::PhoneNumber,
        PiiType::CreditCard,
        PiiType::UsSsn,
        PiiType::IpAddress,
        PiiType::IbanCode,
        PiiType::StreetAddress,
        PiiType::Secret,
    ];

    /// The contract's name for the type (`EMAIL_ADDRESS`).
    pub fn as_str(self) -> &'static str {
        match self {
            PiiType::Person => "PERSON",
            PiiType::EmailAddress => "EMAIL_ADDRESS",
            PiiType::PhoneNumber => "PHONE_NUMBER",
            PiiType::CreditCard => "CREDIT_CARD",
            PiiType::UsSsn => "US_SSN",
            PiiType::IpAddress => "IP_ADDRESS",
            PiiType::IbanCode => "IBAN_CODE",
            PiiType::StreetAddress => "STREET_ADDRESS",
            PiiType::Secret => "SECRET",
        }
    }

    /// Parses a contract name; `None` for anything else.
    pub fn parse(name: &str) -> Option<PiiType> {
        PiiType::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for PiiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed region of a text, in Unicode code points, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// First code point of the span.
    pub start: usize,
    /// One past the last code point of the span.
    pub end: usize,
    /// What the span contains.
    #[serde(rename = "type")]
    pub kind: PiiType,
}

/// The three verdicts of the JSON scorer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct JsonChecks {
    /// The whole response (trimmed) parses as JSON.
    pub json_valid: bool,
    /// A JSON value that a strict parser accepts can be found in it: the
    /// whole response, the body of a ``` fence, or a bracketed region of prose
    /// (see [`crate::json::extract`]); nothing is repaired.
    pub json_extractable: bool,
    /// The extracted value satisfies the schema (true when no schema).
    pub schema_valid: bool,
}

/// What a scorer says about one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The scorer's name.
    pub scorer: &'static str,
    /// Higher means more of the thing named (more PII, more toxic, more
    /// refusing); in `[0, 1]`.
    pub value: f64,
    /// The thresholded verdict.
    pub label: bool,
    /// PII spans (PII only; empty for the others).
    pub spans: Vec<Span>,
    /// The JSON scorer's verdicts (JSON only).
    pub json: Option<JsonChecks>,
    /// The scorer's version ([`crate::version_of`]), stored with the score
    /// so that a change of scorer is told apart from a change of model.
    pub version: &'static str,
    /// What drove a learned scorer's positive verdict: runs of the scored
    /// text, strongest first (empty for negatives and rule scorers).
    pub cues: Vec<Cue>,
}

impl Score {
    /// A score without spans or JSON verdicts.
    pub fn new(scorer: &'static str, value: f64, label: bool) -> Self {
        Score {
            scorer,
            value: value.clamp(0.0, 1.0),
            label,
            spans: Vec::new(),
            json: None,
            version: crate::version_of(scorer),
            cues: Vec::new(),
        }
    }
}
