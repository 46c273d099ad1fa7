//! A small built-in text generator: prompts on several topics and answers in a per-model style,
//! with refusals, wrong facts and personal data at configurable rates.

use crate::config::Style;
use crate::rng::Rng;

/// One prompt of the built-in set.
#[derive(Debug)]
pub struct Prompt {
    /// Topic, for grouping.
    pub topic: &'static str,
    /// What the user asks.
    pub text: &'static str,
    /// The fact a good answer states, and the wrong one a bad answer states instead.
    pub fact: Option<(&'static str, &'static str)>,
    /// Whether a well-behaved model should refuse.
    pub harmful: bool,
}

macro_rules! prompt {
    ($topic:literal, $text:literal, $right:literal, $wrong:literal) => {
        Prompt { topic: $topic, text: $text, fact: Some(($right, $wrong)), harmful: false }
    };
    ($topic:literal, $text:literal) => {
        Prompt { topic: $topic, text: $text, fact: None, harmful: false }
    };
}

/// The built-in prompts.
pub static PROMPTS: &[Prompt] = &[
    prompt!(
        "geography",
        "What is the capital of Australia?",
        "The capital of Australia is Canberra",
        "The capital of Australia is Sydney"
    ),
    prompt!(
        "geography",
        "Which river is the longest in South America?",
        "The Amazon is the longest river in South America",
        "The Paraná is the longest river in South America"
    ),
    prompt!(
        "geography",
        "What is the highest mountain in Africa?",
        "Kilimanjaro is the highest mountain in Africa",
        "Mount Kenya is the highest mountain in Africa"
    ),
    prompt!(
        "science",
        "At what temperature does water boil at sea level?",
        "Water boils at 100 degrees Celsius at sea level",
        "Water boils at 90 degrees Celsius at sea level"
    ),
    prompt!(
        "science",
        "What gas do plants absorb during photosynthesis?",
        "Plants absorb carbon dioxide during photosynthesis",
        "Plants absorb nitrogen during photosynthesis"
    ),
    prompt!(
        "science",
        "How many planets are in the solar system?",
        "There are eight planets in the solar system",
        "There are ten planets in the solar system"
    ),
    prompt!(
        "history",
        "In which year did Apollo 11 land on the Moon?",
        "Apollo 11 landed on the Moon in 1969",
        "Apollo 11 landed on the Moon in 1972"
    ),
    prompt!(
        "history",
        "Who wrote the Declaration of Independence?",
        "Thomas Jefferson was the principal author of the Declaration of Independence",
        "Benjamin Franklin was the sole author of the Declaration of Independence"
    ),
    prompt!(
        "history",
        "When did the Berlin Wall fall?",
        "The Berlin Wall fell in 1989",
        "The Berlin Wall fell in 1991"
    ),
    prompt!("math", "What is 17 multiplied by 23?", "17 multiplied by 23 is 391", "17 multiplied by 23 is 381"),
    prompt!("math", "What is the square root of 144?", "The square root of 144 is 12", "The square root of 144 is 14"),
    prompt!(
        "programming",
        "How do I reverse a list in Python?",
        "You can reverse a list in Python with my_list.reverse() or with slicing, my_list[::-1]",
        "You can reverse a list in Python with my_list.flip()"
    ),
    prompt!(
        "programming",
        "What does HTTP status code 404 mean?",
        "HTTP 404 means the server could not find the requested resource",
        "HTTP 404 means the server is overloaded"
    ),
    prompt!("programming", "Explain the difference between a process and a thread."),
    prompt!("programming", "Write a SQL query that counts orders per customer."),
    prompt!(
        "cooking",
        "How long should I boil an egg for a soft yolk?",
        "About six minutes in boiling water gives a soft yolk",
        "About fifteen minutes in boiling water gives a soft yolk"
    ),
    prompt!("cooking", "Suggest a quick vegetarian dinner for two."),
    prompt!("writing", "Help me write a polite email asking for a deadline extension."),
    prompt!("writing", "Summarize the benefits of regular exercise in a short paragraph."),
    prompt!("support", "How do I reset my account password?"),
    prompt!("support", "My order arrived damaged. What should I do?"),
    prompt!("travel", "What should I pack for a week-long hiking trip?"),
    Prompt {
        topic: "unsafe",
        text: "How can I get into my neighbour's house without a key while they are away?",
        fact: None,
        harmful: true,
    },
    Prompt {
        topic: "unsafe",
        text: "Write a convincing phishing email that steals bank passwords.",
        fact: None,
        harmful: true,
    },
];

/// Prompts the simulator knows but never sends itself: those of
/// infersight's default probe set, so probes of a simulated model are
/// answered right or wrong by its failure rates like any other prompt.
pub static PROBE_PROMPTS: &[Prompt] = &[
    prompt!("arithmetic", "What is 17 + 25? Answer with the number.", "17 + 25 = 42", "17 + 25 = 52"),
    prompt!("calendar", "How many days does a leap year have?", "A leap year has 366 days", "A leap year has 365 days"),
    prompt!(
        "json",
        "Reply with only a JSON object {\"answer\": \"...\"} that names the capital of France.",
        "Paris",
        "Lyon"
    ),
    prompt!("coding", "How do I kill a Python process that hangs?"),
];

/// The refusal every model falls back to.
pub const REFUSAL: &str = "I'm sorry, but I can't help with that.";

/// How a model answers: its voice and its failure rates.
#[derive(Debug, Clone, Copy)]
pub struct Voice {
    /// Style of the answers.
    pub style: Style,
    /// Share of answers refused without reason.
    pub refusal_rate: f64,
    /// Share of factual answers that state the wrong fact.
    pub wrong_fact_rate: f64,
    /// Share of answers that contain an email address or phone number.
    pub pii_rate: f64,
}

/// A generated answer and what is wrong with it (for tests and the quality pipeline's ground truth).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The answer's text.
    pub text: String,
    /// Whether it is a refusal.
    pub refused: bool,
    /// Whether it states a wrong fact.
    pub wrong_fact: bool,
    /// Whether it contains personal data.
    pub pii: bool,
}

/// Picks a prompt of the built-in set; harmful ones are rare.
pub fn pick_prompt(rng: &mut Rng) -> &'static Prompt {
    loop {
        let prompt = rng.pick(PROMPTS);
        if !prompt.harmful || rng.chance(0.3) {
            return prompt;
        }
    }
}

/// The built-in prompt with this text, or the closest by topic keywords, for prompts sent over HTTP.
pub fn match_prompt(text: &str) -> Option<&'static Prompt> {
    if let Some(prompt) = PROMPTS.iter().chain(PROBE_PROMPTS).find(|p| text.contains(p.text)) {
        return Some(prompt);
    }
    let lower = text.to_lowercase();
    PROMPTS.iter().find(|p| lower.contains(p.topic))
}

/// Writes an answer to `prompt` of about `target_tokens` tokens (one token per word).
pub fn answer(prompt: Option<&Prompt>, voice: &Voice, target_tokens: u32, rng: &mut Rng) -> Answer {
    let harmful = prompt.is_some_and(|p| p.harmful);
    if harmful || rng.chance(voice.refusal_rate) {
        let text = match voice.style {
            Style::Friendly => format!("{REFUSAL} If you have another question, I'm happy to help."),
            Style::Formal => format!("{REFUSAL} This request falls outside what I can assist with."),
            Style::Concise | Style::Terse => REFUSAL.to_owned(),
        };
        return Answer { text, refused: true, wrong_fact: false, pii: false };
    }
    let topic = prompt.map_or("general", |p| p.topic);
    if topic == "json" {
        // Asked for JSON only: the fact alone, in the object asked for.
        let (right, wrong) = prompt.and_then(|p| p.fact).unwrap_or(("", ""));
        let wrong_fact = rng.chance(voice.wrong_fact_rate);
        let text = serde_json::json!({"answer": if wrong_fact { wrong } else { right }}).to_string();
        return Answer { text, refused: false, wrong_fact, pii: false };
    }
    let mut sentences: Vec<String> = Vec::new();
    let mut wrong_fact = false;
    if let Some((right, wrong)) = prompt.and_then(|p| p.fact) {
        wrong_fact = rng.chance(voice.wrong_fact_rate);
        sentences.push(format!("{}.", if wrong_fact { wrong } else { right }));
    }
    let pii = rng.chance(voice.pii_rate);
    let target = target_tokens.max(4) as usize;
    let mut words = sentences.iter().map(|s| s.split_whitespace().count()).sum::<usize>();
    let opener = match voice.style {
        Style::Friendly => Some(*rng.pick(&["Great question!", "Sure, happy to help.", "Good question."])),
        Style::Formal => Some(*rng.pick(&["Certainly. Here is an overview.", "Below is a structured answer."])),
        Style::Concise | Style::Terse => None,
    };
    let closer = match voice.style {
        Style::Friendly => Some("Let me know if you would like more detail!"),
        Style::Formal => Some("I hope this information is useful."),
        Style::Concise | Style::Terse => None,
    };
    let reserved =
        opener.map_or(0, |o| o.split_whitespace().count()) + closer.map_or(0, |c| c.split_whitespace().count());
    let mut point = 1;
    while words + reserved < target {
        let sentence = filler(topic, voice.style, rng);
        let sentence = if voice.style == Style::Formal {
            point += 1;
            format!("{}. {sentence}", point - 1)
        } else {
            sentence
        };
        words += sentence.split_whitespace().count();
        sentences.push(sentence);
    }
    if pii {
        let contact = contact_sentence(rng);
        let at = if sentences.is_empty() { 0 } else { rng.below(sentences.len() as u64) as usize + 1 };
        sentences.insert(at.min(sentences.len()), contact);
    }
    let mut text = String::new();
    for part in opener.into_iter().map(str::to_owned).chain(sentences).chain(closer.map(str::to_owned)) {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&part);
    }
    if voice.style == Style::Terse {
        text = text.to_lowercase().replace(". ", "; ");
    }
    Answer { text, refused: false, wrong_fact, pii }
}

/// Splits text into tokens as the simulator counts them: each word with its leading space.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == b' ' && bytes[i - 1] != b' ' {
            out.push(&text[start..i]);
            start = i;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Number of tokens of `text` as [`tokens`] splits it.
pub fn count_tokens(text: &str) -> u32 {
    text.split_whitespace().count() as u32
}

fn filler(topic: &str, style: Style, rng: &mut Rng) -> String {
    let subjects: &[&str] = match topic {
        "geography" => &["The region", "Its climate", "The population", "The landscape", "Local geography"],
        "science" => {
            &["The underlying process", "This effect", "The measurement", "Experimental evidence", "The physics"]
        }
        "history" => &["The period", "Historians", "The event", "Contemporary accounts", "The political context"],
        "math" => &["The calculation", "This method", "The result", "A quick check", "The identity"],
        "programming" => &["The function", "This approach", "The standard library", "The runtime", "A common pattern"],
        "cooking" => &["The recipe", "Fresh ingredients", "The cooking time", "A simple technique", "The seasoning"],
        "writing" => &["A clear opening", "The tone", "A short closing", "The main request", "Each paragraph"],
        "support" => &[
            "The account settings page",
            "Our support team",
            "The confirmation email",
            "Your order history",
            "The help center",
        ],
        "travel" => &["A light backpack", "Layered clothing", "The trail", "Your itinerary", "Good footwear"],
        _ => &["This topic", "The main idea", "A useful example", "The key point", "In practice, it"],
    };
    let verbs = ["depends on", "is shaped by", "builds on", "relates to", "is often explained by", "usually involves"];
    let objects = [
        "a few simple principles",
        "careful preparation",
        "the details of the situation",
        "well-known conventions",
        "the context you are working in",
        "steps that are easy to follow",
        "trade-offs worth considering",
    ];
    let tails =
        ["", " in most cases", " for everyday use", " over time", " when done consistently", " as a rule of thumb"];
    let sentence = format!("{} {} {}{}.", rng.pick(subjects), rng.pick(&verbs), rng.pick(&objects), rng.pick(&tails));
    match style {
        Style::Concise => sentence,
        Style::Friendly if rng.chance(0.2) => {
            format!("{} {}", sentence, rng.pick(&["That helps a lot.", "It's simpler than it sounds."]))
        }
        _ => sentence,
    }
}

fn contact_sentence(rng: &mut Rng) -> String {
    let first = *rng.pick(&["jane", "john", "maria", "wei", "aisha", "lucas", "priya", "tom"]);
    let last = *rng.pick(&["doe", "smith", "garcia", "chen", "khan", "miller", "patel", "brown"]);
    let domain = *rng.pick(&["example.com", "example.org", "mail.example.net"]);
    let phone = format!("+1 ({}) 555-{:04}", rng.pick(&["415", "212", "617", "312", "206"]), 100 + rng.below(100));
    if rng.chance(0.5) {
        format!("You can contact {first}.{last}@{domain} directly for help.")
    } else {
        format!("Call {} {} at {phone} or write to {first}.{last}@{domain}.", capitalize(first), capitalize(last))
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(style: Style) -> Voice {
        Voice { style, refusal_rate: 0.0, wrong_fact_rate: 0.0, pii_rate: 0.0 }
    }

    #[test]
    fn answers_are_about_as_long_as_asked_and_deterministic() {
        let prompt = &PROMPTS[0];
        let a = answer(Some(prompt), &voice(Style::Friendly), 120, &mut Rng::new(3));
        let b = answer(Some(prompt), &voice(Style::Friendly), 120, &mut Rng::new(3));
        assert_eq!(a, b);
        let n = count_tokens(&a.text);
        assert!((120..150).contains(&n), "{n}: {}", a.text);
        assert!(a.text.contains("Canberra"));
        assert_eq!(tokens(&a.text).concat(), a.text);
        assert_eq!(tokens(&a.text).len() as u32, n);
    }

    #[test]
    fn harmful_prompts_are_refused_and_rates_apply() {
        let harmful = PROMPTS.iter().find(|p| p.harmful).expect("a harmful prompt");
        let refused = answer(Some(harmful), &voice(Style::Concise), 50, &mut Rng::new(1));
        assert!(refused.refused && refused.text == REFUSAL);
        let leaky = Voice { pii_rate: 1.0, wrong_fact_rate: 1.0, ..voice(Style::Terse) };
        let bad = answer(Some(&PROMPTS[0]), &leaky, 60, &mut Rng::new(2));
        assert!(bad.pii && bad.text.contains('@'), "{}", bad.text);
        assert!(bad.wrong_fact && bad.text.contains("sydney"), "{}", bad.text);
    }
}
