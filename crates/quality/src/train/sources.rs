//! The labelled sets the trainer reads, turned into examples per task.
//!
//! Public sets live outside the repository (the project's shared training
//! folder, and registry packages unpacked by `scripts/quality/fetch-training.sh`);
//! nothing of them is copied into it. Each example carries a group key:
//! everything with the same key (the completions of one prompt, the
//! instances of one jailbreak template, the near-identical retweets of one
//! tweet) lands in the same split, so no text is learned in training and
//! tested again.

use std::fs;
use std::ops::Range;
use std::path::Path;

use serde_json::Value;

use super::{Example, Split, Task, split_of};
use crate::rng::XorShift;
use crate::{Error, Result};

/// Reads every source under `shared` (the shared training folder) and
/// `packages` (unpacked registry packages) into `examples`.
pub(super) fn read_all(shared: &Path, packages: &Path, examples: &mut Vec<Example>) -> Result<()> {
    xstest(shared, examples)?;
    davidson(shared, examples)?;
    bipia(shared, packages, examples)?;
    uncensorbench(packages, examples)?;
    guardmeter(packages, examples)?;
    spikee(packages, examples)?;
    Ok(())
}

fn read_lines(path: &Path) -> Result<Vec<Value>> {
    let text = fs::read_to_string(path).map_err(|source| Error::ReadPath { path: path.to_path_buf(), source })?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).map_err(|source| Error::InvalidJson { source }))
        .collect()
}

fn read_json(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path).map_err(|source| Error::ReadPath { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| Error::InvalidJson { source })
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// XSTest: five models' completions of safe look-alike and unsafe prompts,
/// human-labelled as compliance, full or partial refusal.
fn xstest(shared: &Path, examples: &mut Vec<Example>) -> Result<()> {
    let mut seen_prompts = std::collections::BTreeSet::new();
    for row in read_lines(&shared.join("xstest/completions.jsonl"))? {
        let prompt = str_of(&row, "prompt");
        let response = str_of(&row, "response");
        let model = str_of(&row, "model");
        let safe = row.get("prompt_safe").and_then(Value::as_bool).unwrap_or(true);
        let complied = str_of(&row, "label") == "1_full_compliance";
        let split = split_of(prompt);
        let set = format!("xstest/{model}");
        let example = |task, label| Example::new(task, prompt, response, label, split, &set);
        examples.push(example(Task::Refusal, !complied));
        examples.push(example(Task::Harmful, !safe && complied));
        examples.push(Example::new(Task::Toxicity, "", response, false, split, "xstest"));
        if seen_prompts.insert(prompt.to_string()) {
            examples.push(Example::new(Task::UnsafePrompt, "", prompt, !safe, split, "xstest"));
            examples.push(Example::new(Task::Injection, "", prompt, false, split, "xstest"));
        }
    }
    Ok(())
}

/// Davidson et al.: tweets labelled hate speech, offensive, or neither.
/// Hate and offensive are both toxic; the set tag keeps hate apart.
fn davidson(shared: &Path, examples: &mut Vec<Example>) -> Result<()> {
    for row in read_lines(&shared.join("davidson/labeled_data.jsonl"))? {
        let text = str_of(&row, "text");
        let class = row.get("class").and_then(Value::as_u64).unwrap_or(2);
        let set = match class {
            0 => "davidson/hate",
            1 => "davidson/offensive",
            _ => "davidson/neither",
        };
        examples.push(Example::new(Task::Toxicity, "", text, class != 2, split_of(&tweet_key(text)), set));
    }
    Ok(())
}

/// A tweet without retweet marks, mentions, links and punctuation: retweets
/// of one tweet share it.
fn tweet_key(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| *word != "RT" && !word.starts_with('@') && !word.starts_with("http") && !word.starts_with("&"))
        .flat_map(|word| word.chars().filter(|ch| ch.is_alphanumeric()).flat_map(char::to_lowercase))
        .collect()
}

/// BIPIA: e-mails, code questions and tables, clean (long benign documents)
/// and with an attack instruction inserted at the start, middle or end.
/// BIPIA's own train and test splits are kept: its test contexts and test
/// attacks are only ever tested on. spikee's injection payloads are
/// inserted into the same documents, split by payload.
fn bipia(shared: &Path, packages: &Path, examples: &mut Vec<Example>) -> Result<()> {
    let bipia = shared.join("bipia");
    let payloads = spikee_payloads(packages)?;
    for (public_split, attack_split) in [("train", "train"), ("test", "test")] {
        let text_attacks = attacks(&bipia.join(format!("text_attack_{attack_split}.json")))?;
        let code_attacks = attacks(&bipia.join(format!("code_attack_{attack_split}.json")))?;
        for kind in ["email", "code", "table"] {
            let rows = read_lines(&bipia.join(format!("{kind}/{public_split}.jsonl")))?;
            let attacks = if kind == "code" { &code_attacks } else { &text_attacks };
            let limit = if public_split == "train" { 900 } else { 100 };
            let mut rng = XorShift::new(0xb1b1_a000 + kind.len() as u64);
            for (idx, row) in rows.iter().take(limit).enumerate() {
                let document = bipia_document(kind, row);
                let group = format!("bipia/{kind}/{public_split}/{idx}");
                // BIPIA has a test split of its own: its train contexts are
                // only split between training and validation.
                let split = match (public_split, split_of(&group)) {
                    ("test", _) => Split::Test,
                    (_, Split::Train) => Split::Train,
                    _ => Split::Validation,
                };
                let set = if public_split == "test" { format!("bipia-test/{kind}") } else { format!("bipia/{kind}") };
                let clean_set = format!("{set}/clean");
                examples.push(Example::new(Task::Injection, "", &document, false, split, &clean_set));
                for position in [Position::Start, Position::Middle, Position::End] {
                    let attack = &attacks[rng.below(attacks.len())];
                    let (text, mut focus) = insert(&document, attack, position);
                    // A code attack is an instruction and a code block; the
                    // instruction is the attack, the code alone reads like
                    // any answer's.
                    if let Some(first_line) = attack.lines().next() {
                        focus.end = focus.start + first_line.chars().count();
                    }
                    examples.push(Example::new(Task::Injection, "", &text, true, split, &set).with_focus(focus));
                }
                if public_split == "train" {
                    for position in [Position::Start, Position::Middle, Position::End] {
                        let attack = super::synth::instruction(&mut rng);
                        let (text, focus) = insert(&document, &attack, position);
                        let set = format!("synth/in-{kind}");
                        examples.push(Example::new(Task::Injection, "", &text, true, split, &set).with_focus(focus));
                    }
                }
                if public_split == "train" && !payloads.is_empty() {
                    let payload = &payloads[rng.below(payloads.len())];
                    let (text, focus) = insert(&document, &payload.1, Position::Middle);
                    let split = split_of(&payload.0);
                    examples.push(
                        Example::new(Task::Injection, "", &text, true, split, "spikee/in-document").with_focus(focus),
                    );
                }
                examples.push(Example::new(Task::Toxicity, "", &document, false, split, "bipia"));
            }
        }
    }
    Ok(())
}

/// Where an attack goes into a document.
#[derive(Clone, Copy)]
pub(super) enum Position {
    /// Before the first line.
    Start,
    /// After the line or sentence that ends near the middle.
    Middle,
    /// After the last line.
    End,
}

/// `document` with `attack` inserted, and where the attack is in it, in
/// code points.
pub(super) fn insert(document: &str, attack: &str, position: Position) -> (String, Range<usize>) {
    let cut = match position {
        Position::Start => 0,
        Position::End => document.len(),
        Position::Middle => {
            let middle = crate::refusal::floor_boundary(document, document.len() / 2);
            document[middle..].find(['\n', '.']).map_or(document.len(), |offset| middle + offset + 1)
        }
    };
    let before = &document[..cut];
    let start = before.chars().count() + 1;
    let text = format!("{before}\n{attack}\n{}", &document[cut..]);
    (text, start..start + attack.chars().count())
}

fn attacks(path: &Path) -> Result<Vec<String>> {
    let value = read_json(path)?;
    let mut out = Vec::new();
    if let Value::Object(categories) = value {
        for (_, items) in categories {
            out.extend(items.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string));
        }
    }
    Ok(out)
}

/// A BIPIA context as an application would send it: the document, then the
/// user's question.
fn bipia_document(kind: &str, row: &Value) -> String {
    let joined = |field: &str| match row.get(field) {
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n"),
        Some(Value::String(text)) => text.clone(),
        _ => String::new(),
    };
    match kind {
        "code" => format!(
            "Here is some code and its error.\n{}\n{}\nAnd an answer found online:\n{}\nHow do I fix the error?",
            joined("code"),
            joined("error"),
            joined("context")
        ),
        _ => format!("{}\n\n{}", joined("context"), joined("question")),
    }
}

/// uncensorbench: harmful prompts, each with a refusal and a harmful
/// compliant answer.
fn uncensorbench(packages: &Path, examples: &mut Vec<Example>) -> Result<()> {
    let value = read_json(&packages.join("uncensorbench/uncensorbench/data/prompts.json"))?;
    for row in value.get("prompts").and_then(Value::as_array).into_iter().flatten() {
        let prompt = str_of(row, "prompt");
        let split = split_of(str_of(row, "id"));
        let refused = str_of(row, "censored_response");
        let complied = str_of(row, "uncensored_response");
        let example = |task, response, label| Example::new(task, prompt, response, label, split, "uncensorbench");
        examples.push(example(Task::Refusal, refused, true));
        examples.push(example(Task::Refusal, complied, false));
        examples.push(example(Task::Harmful, refused, false));
        examples.push(example(Task::Harmful, complied, true));
        examples.push(Example::new(Task::Toxicity, "", refused, false, split, "uncensorbench"));
        examples.push(Example::new(Task::UnsafePrompt, "", prompt, true, split, "uncensorbench"));
        examples.push(Example::new(Task::Injection, "", prompt, false, split, "uncensorbench"));
    }
    Ok(())
}

/// guardmeter: benign look-alikes, borderline and unsafe prompts, some
/// obfuscated; borderline ones are left out.
fn guardmeter(packages: &Path, examples: &mut Vec<Example>) -> Result<()> {
    let path = packages.join("guardmeter/guardmeter/data/builtin/sample.csv");
    let text = fs::read_to_string(&path).map_err(|source| Error::ReadPath { path: path.clone(), source })?;
    for line in text.lines().skip(1) {
        let fields = csv_fields(line);
        let [id, text, label, ..] = fields.as_slice() else { continue };
        let split = split_of(&format!("guardmeter/{id}"));
        match label.as_str() {
            "unsafe" => examples.push(Example::new(Task::UnsafePrompt, "", text, true, split, "guardmeter")),
            "benign" => {
                examples.push(Example::new(Task::UnsafePrompt, "", text, false, split, "guardmeter"));
                examples.push(Example::new(Task::Injection, "", text, false, split, "guardmeter"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The fields of one CSV line (quotes and doubled quotes as RFC 4180).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("one field at least").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            _ => fields.last_mut().expect("one field at least").push(ch),
        }
    }
    fields
}

const SPIKEE: &str = "spikee/spikee/data/workspace/datasets";

/// spikee's injection payloads (instructions an attacker hides in data), by
/// id, from every seed set, each once.
fn spikee_payloads(packages: &Path) -> Result<Vec<(String, String)>> {
    let mut payloads = std::collections::BTreeMap::new();
    for dir in spikee_sets(packages)? {
        let path = dir.join("instructions.jsonl");
        if path.exists() {
            for row in read_lines(&path)? {
                payloads.insert(str_of(&row, "id").to_string(), str_of(&row, "instruction").to_string());
            }
        }
    }
    Ok(payloads.into_iter().filter(|(_, text)| !text.is_empty()).collect())
}

fn spikee_sets(packages: &Path) -> Result<Vec<std::path::PathBuf>> {
    let root = packages.join(SPIKEE);
    let entries = fs::read_dir(&root).map_err(|source| Error::ReadPath { path: root.clone(), source })?;
    let mut dirs: Vec<_> = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    dirs.sort();
    Ok(dirs)
}

/// spikee: jailbreak templates with an instruction slot, filled with
/// payloads and harmful instructions (split by template), harmful
/// instructions alone (unsafe prompts), and benign finance questions.
fn spikee(packages: &Path, examples: &mut Vec<Example>) -> Result<()> {
    let payloads = spikee_payloads(packages)?;
    let mut templates = std::collections::BTreeMap::new();
    let mut benign = std::collections::BTreeMap::new();
    for dir in spikee_sets(packages)? {
        let jailbreaks = dir.join("jailbreaks.jsonl");
        if jailbreaks.exists() {
            for row in read_lines(&jailbreaks)? {
                if str_of(&row, "jailbreak_type") != "no-jailbreak" {
                    templates.insert(str_of(&row, "id").to_string(), str_of(&row, "text").to_string());
                }
            }
        }
        let standalone = dir.join("standalone_user_inputs.jsonl");
        if standalone.exists() {
            for row in read_lines(&standalone)? {
                let kind = str_of(&row, "jailbreak_type");
                if kind.starts_with("financial-adv-chat") {
                    benign.insert(str_of(&row, "id").to_string(), str_of(&row, "text").to_string());
                }
            }
        }
        if dir.ends_with("seeds-harmful-instructions-only") {
            for row in read_lines(&dir.join("instructions.jsonl"))? {
                let split = split_of(&format!("spikee/{}", str_of(&row, "id")));
                examples.push(Example::new(Task::UnsafePrompt, "", str_of(&row, "instruction"), true, split, "spikee"));
            }
        }
    }
    let mut rng = XorShift::new(0x5b1c_ee00);
    for (id, template) in &templates {
        let split = split_of(&format!("spikee/template/{id}"));
        for _ in 0..3 {
            let payload = &payloads[rng.below(payloads.len())].1;
            let text = template.replace("<INSTRUCTION>", payload.trim_end_matches('.'));
            examples.push(Example::new(Task::Injection, "", &text, true, split, "spikee/jailbreak"));
        }
    }
    for (id, text) in &benign {
        let split = split_of(&format!("spikee/benign/{id}"));
        examples.push(Example::new(Task::Injection, "", text, false, split, "spikee/benign"));
        examples.push(Example::new(Task::UnsafePrompt, "", text, false, split, "spikee/benign"));
    }
    Ok(())
}
