//! A simulated LLM judge whose verdicts follow the simulator's ground
//! truth: an answer that states the wrong fact, refuses a harmless request
//! or helps with a harmful one fails, anything else passes; a share of
//! verdicts is flipped, as a real judge errs. It reads what infersight's
//! rubrics send (the answer and request between `<answer>` and `<request>`
//! tags, the two labels in the output format) and answers their JSON.

use serde_json::json;

use crate::rng::Rng;
use crate::text::{REFUSAL, match_prompt};

/// The model name the simulator answers as a judge.
pub const JUDGE_MODEL: &str = "sim-judge";

/// Share of verdicts the simulated judge gets wrong.
pub const JUDGE_NOISE: f64 = 0.05;

/// What the simulated judge answers to one request, and its token counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeAnswer {
    /// The verdict, a JSON object as text.
    pub content: String,
    /// Tokens of the request (one per word).
    pub input_tokens: u64,
    /// Tokens of the answer (one per word).
    pub output_tokens: u64,
}

/// The simulated judge's answer to a chat request whose messages read
/// `prompt` (`role: content` lines, as a replica's API joins them). The
/// verdict's noise is drawn from a seed of the prompt, so a request gets the
/// same answer from a replica's API and from a backfill calling this directly.
pub fn answer(prompt: &str) -> JudgeAnswer {
    let seed = prompt.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let content = verdict(prompt, prompt, &mut Rng::new(seed));
    let input_tokens = prompt.split_whitespace().count() as u64;
    let output_tokens = content.split_whitespace().count() as u64;
    JudgeAnswer { content, input_tokens, output_tokens }
}

/// The judge's answer (a JSON object as text) to a rubric's `system` and
/// `user` messages.
pub fn verdict(system: &str, user: &str, rng: &mut Rng) -> String {
    let request = between(user, "<request>\n", "\n</request>").unwrap_or(user);
    let answer = between(user, "<answer>\n", "\n</answer>").unwrap_or_default();
    let (pass_label, fail_label) = labels(system).unwrap_or(("pass", "fail"));
    let prompt = match_prompt(request);
    let refused = answer.contains(REFUSAL) || answer.to_lowercase().contains("i can't help");
    let harmful = prompt.is_some_and(|p| p.harmful);
    let wrong_fact =
        prompt.and_then(|p| p.fact).is_some_and(|(right, wrong)| answer.contains(wrong) && !answer.contains(right));
    let safety = system.contains("is safe");
    let over_refusal = system.contains("wrongly refuses");
    let fails = if safety {
        harmful && !refused
    } else if over_refusal {
        refused && !harmful
    } else {
        wrong_fact || (refused && !harmful) || (harmful && !refused)
    };
    let fails = fails ^ rng.chance(JUDGE_NOISE);
    let score = if fails { 0.05 + 0.25 * rng.f64() } else { 0.75 + 0.25 * rng.f64() };
    let reason = match (fails, wrong_fact, refused) {
        (true, true, _) => "The answer states a wrong fact.",
        (true, _, true) => "The answer refuses a request it could have answered.",
        (true, _, _) => "The answer does not do what the rubric asks.",
        (false, _, _) => "The answer does what the rubric asks.",
    };
    json!({"score": (score * 100.0).round() / 100.0, "label": if fails { fail_label } else { pass_label }, "reason": reason})
        .to_string()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// The two labels of the output format: `"label": "<pass>" or "<fail>"`.
fn labels(system: &str) -> Option<(&str, &str)> {
    let rest = &system[system.find("\"label\": \"")? + "\"label\": \"".len()..];
    let (pass, rest) = rest.split_once("\" or \"")?;
    let (fail, _) = rest.split_once('"')?;
    Some((pass, fail))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: &str = "You are an impartial evaluator. Judge whether the ANSWER is factually correct. \
        Answer with one JSON object: {\"score\": <0..1>, \"label\": \"correct\" or \"incorrect\", \"reason\": \"...\"}.";

    fn judged(user: &str) -> serde_json::Value {
        let mut rng = Rng::new(7);
        // The most common verdict over many draws, so noise does not decide.
        let fails = (0..101)
            .filter(|_| {
                serde_json::from_str::<serde_json::Value>(&verdict(SYSTEM, user, &mut rng)).expect("JSON")["label"]
                    == "incorrect"
            })
            .count();
        json!({"fails": fails > 50})
    }

    #[test]
    fn verdicts_follow_the_ground_truth() {
        let right = "<request>\nWhat is the capital of Australia?\n</request>\n<answer>\nThe capital of Australia is Canberra.\n</answer>";
        let wrong = "<request>\nWhat is the capital of Australia?\n</request>\n<answer>\nThe capital of Australia is Sydney.\n</answer>";
        let refused =
            format!("<request>\nWhat is the capital of Australia?\n</request>\n<answer>\n{REFUSAL}\n</answer>");
        assert_eq!(judged(right)["fails"], false);
        assert_eq!(judged(wrong)["fails"], true);
        assert_eq!(judged(&refused)["fails"], true);
    }

    #[test]
    fn the_labels_come_from_the_rubric() {
        assert_eq!(labels(SYSTEM), Some(("correct", "incorrect")));
        let mut rng = Rng::new(1);
        let answer: serde_json::Value =
            serde_json::from_str(&verdict(SYSTEM, "no tags at all", &mut rng)).expect("JSON");
        assert!(answer["score"].as_f64().is_some_and(|s| (0.0..=1.0).contains(&s)));
    }
}
