//! `POST /api/v1/infersight/exchanges/{id}/feedback`: end users rate an
//! answer, by the id the gateway sent them (`x-infersight-exchange-id`).
//!
//! Feedback is counted as `infersight_feedback_total{gen_ai_request_model,
//! value}` for every exchange the gateway still remembers, and stored with
//! the exchange when the pipeline kept it. Feedback on an exchange a judge
//! has already judged is compared with each verdict
//! (`infersight_feedback_judge_agreement_total`), so a judge that stops
//! seeing what users see shows as a falling agreement rate. A comment is user text: stored,
//! never logged or put in a label.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use inference::{LabelCap, Recent};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use records::FeedbackRecord;
use serde::{Deserialize, Serialize};

use crate::params::PathSegment;
use crate::{ApiState, Error, Result, Success};

/// Longest comment kept, in characters.
const MAX_COMMENT_CHARS: usize = 2_000;

/// Where feedback is counted, and the gateway's recent ids.
#[derive(Debug, Clone)]
pub struct Feedback {
    recent: Option<Arc<Recent>>,
    counted: Family<FeedbackLabels, Counter>,
    agreement: Family<AgreementLabels, Counter>,
    models: Arc<LabelCap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AgreementLabels {
    gen_ai_request_model: String,
    gen_ai_evaluation_name: String,
    agreement: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FeedbackLabels {
    gen_ai_request_model: String,
    value: String,
}

impl Feedback {
    /// Registers `infersight_feedback_total`; `recent` is the gateway's ids
    /// (none without a gateway), `model_label_cap` bounds the model label.
    pub fn new(registry: &mut Registry, recent: Option<Arc<Recent>>, model_label_cap: usize) -> Feedback {
        let counted = Family::default();
        registry.register(
            "infersight_feedback",
            "End-user feedback on answers, by model and value (up, down, score)",
            counted.clone(),
        );
        let agreement = Family::default();
        registry.register(
            "infersight_feedback_judge_agreement",
            "Feedback on a judged exchange compared with each judge verdict on it (a thumb down or a score \
             under 0.5 matches a failing verdict), by model, rubric score name and agreement (agree, disagree)",
            agreement.clone(),
        );
        Feedback { recent, counted, agreement, models: Arc::new(LabelCap::new(model_label_cap)) }
    }
}

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Given {
    /// `up` or `down`.
    value: Option<String>,
    /// A score in `[0, 1]`, instead of a thumb.
    score: Option<f64>,
    /// Optional free text.
    #[serde(default)]
    comment: String,
}

/// What the API answers.
#[derive(Debug, Serialize)]
pub(crate) struct Taken {
    /// Whether it was stored with the exchange (only kept exchanges are).
    stored: bool,
}

pub(crate) async fn give(
    State(state): State<ApiState>,
    PathSegment(id): PathSegment,
    body: std::result::Result<Json<Given>, JsonRejection>,
) -> Result<Success<Taken>> {
    let feedback = state.feedback.clone().ok_or(Error::NoRecords)?;
    let Json(given) = body.map_err(|rejection| bad(rejection.body_text()))?;
    let (value, score) = match (given.value.as_deref(), given.score) {
        (Some(thumb @ ("up" | "down")), None) => (thumb.to_owned(), None),
        (None, Some(score)) if (0.0..=1.0).contains(&score) => ("score".to_owned(), Some(score)),
        (None, Some(score)) => return Err(bad(format!("score {score} is not between 0 and 1"))),
        _ => {
            return Err(bad(
                "send {\"value\": \"up\"} or \"down\", or {\"score\": 0..1}, and an optional \"comment\"".to_owned()
            ));
        }
    };
    if given.comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(bad(format!("the comment is longer than {MAX_COMMENT_CHARS} characters")));
    }
    let store = state.records.clone();
    let key = id.clone();
    let found = match store {
        Some(store) => {
            tokio::task::spawn_blocking(move || -> records::Result<Option<(i64, String, Arc<records::Store>)>> {
                if let Some((row, model)) = store.find_by_key(&key)? {
                    return Ok(Some((row, model, store)));
                }
                match key.parse::<i64>() {
                    Ok(row) => Ok(store.model_of(row)?.map(|model| (row, model, store))),
                    Err(_) => Ok(None),
                }
            })
            .await
            .map_err(|source| Error::Task { source })?
            .map_err(Error::Records)?
        }
        None => None,
    };
    let (model, stored) = match found {
        Some((row, model, store)) => {
            let record = FeedbackRecord { time_ms: now_ms(), value: value.clone(), score, comment: given.comment };
            let verdicts = tokio::task::spawn_blocking(move || -> records::Result<Vec<(String, bool)>> {
                store.insert_feedback(row, &record)?;
                Ok(store.judgements(row)?.into_iter().map(|j| (format!("judge_{}", j.rubric), j.failed)).collect())
            })
            .await
            .map_err(|source| Error::Task { source })?
            .map_err(Error::Records)?;
            let unhappy = value == "down" || score.is_some_and(|score| score < 0.5);
            let model_label = feedback.models.value(&model);
            for (name, failed) in verdicts {
                let labels = AgreementLabels {
                    gen_ai_request_model: model_label.to_owned(),
                    gen_ai_evaluation_name: name,
                    agreement: if failed == unhappy { "agree" } else { "disagree" }.to_owned(),
                };
                feedback.agreement.get_or_create(&labels).inc();
            }
            (model, true)
        }
        None => match feedback.recent.as_ref().and_then(|recent| recent.model(&id)) {
            Some(model) => (model, false),
            None => return Err(Error::UnknownExchange { id }),
        },
    };
    let labels = FeedbackLabels { gen_ai_request_model: feedback.models.value(&model).to_owned(), value };
    feedback.counted.get_or_create(&labels).inc();
    Ok(Success::new(Taken { stored }))
}

fn bad(message: String) -> Error {
    Error::InvalidFilter { message }
}

/// The wall clock, for the time feedback was given.
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
