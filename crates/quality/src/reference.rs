//! Reference accuracy: the response states the expected answer, whatever
//! its casing, punctuation, number spelling ("twelve", "12", "1,200") or
//! unit spelling ("km", "kilometres").

use std::collections::HashSet;

use crate::{Error, Input, Result, Score, Scorer};

/// The reference scorer.
#[derive(Debug, Default)]
pub struct Reference;

impl Reference {
    /// How much of `reference` the `response` states, in `[0, 1]`: 1 when
    /// its normalized tokens occur contiguously in the response, else the
    /// share of its tokens that occur at all (halved).
    pub fn score_text(&self, response: &str, reference: &str) -> f64 {
        let expected = normalize(reference);
        if expected.is_empty() {
            return 0.0;
        }
        let actual = normalize(response);
        // A reference is a short answer; past this many tokens the
        // contiguous search (cost: response × reference) is skipped.
        if expected.len() <= MAX_SEQUENCE && contains_sequence(&actual, &expected) {
            return 1.0;
        }
        // A lone number may be written with different precision (3.50 vs 3.5).
        if let [Token::Number(want)] = expected.as_slice()
            && actual.iter().any(|token| matches!(token, Token::Number(got) if numbers_equal(*got, *want)))
        {
            return 1.0;
        }
        let present: HashSet<String> = actual.iter().map(Token::key).collect();
        let found = expected.iter().filter(|token| present.contains(&token.key())).count();
        0.5 * found as f64 / expected.len() as f64
    }
}

impl Scorer for Reference {
    fn name(&self) -> &'static str {
        "reference"
    }

    fn score(&self, input: &Input<'_>) -> Result<Score> {
        let response = input.response_side().ok_or(Error::MissingField { field: "response|text" })?;
        let reference = input.reference.ok_or(Error::MissingField { field: "reference" })?;
        let value = self.score_text(response, reference);
        Ok(Score::new("reference", value, value >= 0.999))
    }
}

/// Longest reference (in tokens) searched for as a contiguous sequence.
const MAX_SEQUENCE: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Number(f64),
}

impl Token {
    /// A hashable form: words as themselves, numbers by value.
    fn key(&self) -> String {
        match self {
            Token::Word(word) => word.clone(),
            Token::Number(number) => format!("#{number:?}"),
        }
    }
}

fn numbers_equal(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn contains_sequence(haystack: &[Token], needle: &[Token]) -> bool {
    needle.len() <= haystack.len()
        && haystack.windows(needle.len()).any(|window| {
            window.iter().zip(needle).all(|(a, b)| match (a, b) {
                (Token::Number(x), Token::Number(y)) => numbers_equal(*x, *y),
                _ => a == b,
            })
        })
}

/// Lowercased words and numbers, articles dropped, number words folded to
/// numbers, units and a few synonyms folded to one spelling.
fn normalize(text: &str) -> Vec<Token> {
    let mut raw: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (idx, &ch) in chars.iter().enumerate() {
        let next_is_digit = chars.get(idx + 1).is_some_and(char::is_ascii_digit);
        let prev_is_digit = idx > 0 && chars[idx - 1].is_ascii_digit();
        let keep = ch.is_alphanumeric()
            || (ch == '.' || ch == ',') && prev_is_digit && next_is_digit
            || ch == '-' && next_is_digit && current.is_empty() && !prev_is_digit;
        if keep {
            current.extend(ch.to_lowercase());
        } else {
            if !current.is_empty() {
                raw.push(std::mem::take(&mut current));
            }
            match ch {
                '%' => raw.push("percent".into()),
                '$' => raw.push("dollar".into()),
                '€' => raw.push("euro".into()),
                '£' => raw.push("pound".into()),
                '°' => raw.push("degree".into()),
                _ => {}
            }
        }
    }
    if !current.is_empty() {
        raw.push(current);
    }
    let mut tokens = Vec::with_capacity(raw.len());
    let mut idx = 0;
    while idx < raw.len() {
        let word = raw[idx].as_str();
        if let Some((value, used)) = parse_number_words(&raw[idx..]) {
            tokens.push(Token::Number(value));
            idx += used;
            continue;
        }
        idx += 1;
        if matches!(word, "a" | "an" | "the") {
            continue;
        }
        if let Some(value) = parse_digits(word) {
            tokens.push(Token::Number(value));
            continue;
        }
        // "12km", "5kg": split a number glued to a unit.
        if let Some(split) = word.find(|ch: char| ch.is_alphabetic()).filter(|&split| split > 0)
            && let Some(value) = parse_digits(&word[..split])
        {
            tokens.push(Token::Number(value));
            let unit = &word[split..];
            if !matches!(unit, "st" | "nd" | "rd" | "th") {
                tokens.push(Token::Word(canonical(unit).to_string()));
            }
            continue;
        }
        tokens.push(Token::Word(canonical(word).to_string()));
    }
    // "$5" reads "5 dollars": move a currency word after its amount.
    for idx in 1..tokens.len() {
        let is_currency =
            matches!(&tokens[idx - 1], Token::Word(word) if matches!(word.as_str(), "dollar" | "euro" | "lb"));
        if is_currency && matches!(tokens[idx], Token::Number(_)) {
            tokens.swap(idx - 1, idx);
        }
    }
    tokens
}

fn parse_digits(word: &str) -> Option<f64> {
    if !word.bytes().any(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let cleaned: String = word.chars().filter(|&ch| ch != ',').collect();
    cleaned.parse::<f64>().ok()
}

/// Folds spellings of one unit or word to one form.
fn canonical(word: &str) -> &str {
    match word {
        "km" | "kms" | "kilometer" | "kilometers" | "kilometre" | "kilometres" => "km",
        "m" | "meter" | "meters" | "metre" | "metres" => "m",
        "cm" | "centimeter" | "centimeters" | "centimetre" | "centimetres" => "cm",
        "mm" | "millimeter" | "millimeters" | "millimetre" | "millimetres" => "mm",
        "mi" | "mile" | "miles" => "mile",
        "ft" | "foot" | "feet" => "ft",
        "in" | "inch" | "inches" => "in",
        "kg" | "kgs" | "kilogram" | "kilograms" | "kilo" | "kilos" => "kg",
        "g" | "gram" | "grams" | "gramme" | "grammes" => "g",
        "lb" | "lbs" | "pound" | "pounds" => "lb",
        "l" | "liter" | "liters" | "litre" | "litres" => "l",
        "ml" | "milliliter" | "milliliters" | "millilitre" | "millilitres" => "ml",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "min" | "mins" | "minute" | "minutes" => "min",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "day" | "days" => "day",
        "year" | "years" | "yr" | "yrs" => "year",
        "percent" | "percentage" | "pct" | "per" => "percent",
        "dollar" | "dollars" | "usd" => "dollar",
        "euro" | "euros" | "eur" => "euro",
        "degree" | "degrees" | "deg" => "degree",
        "celsius" | "c" => "celsius",
        "fahrenheit" | "f" => "fahrenheit",
        "mph" => "mph",
        "kmh" | "kph" => "kmh",
        "true" | "yes" | "correct" => "yes",
        "false" | "no" | "incorrect" => "no",
        other => other,
    }
}

fn small_number(word: &str) -> Option<f64> {
    let value = match word {
        "zero" | "nil" | "none" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" | "dozen" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        "twelfth" => 12,
        "twentieth" => 20,
        _ => return None,
    };
    Some(f64::from(value))
}

fn scale(word: &str) -> Option<f64> {
    match word {
        "hundred" | "hundredth" => Some(1e2),
        "thousand" | "thousandth" => Some(1e3),
        "million" | "millionth" => Some(1e6),
        "billion" => Some(1e9),
        "trillion" => Some(1e12),
        _ => None,
    }
}

/// A run of number words ("two hundred and five", "twenty one", "3 million")
/// at the start of `words`: its value and how many words it used.
fn parse_number_words(words: &[String]) -> Option<(f64, usize)> {
    let mut total = 0.0;
    let mut group = 0.0;
    let mut used = 0;
    let mut seen_number = false;
    for (idx, word) in words.iter().enumerate() {
        // "second" alone is a unit of time; ordinals count only after a tens word.
        let word = word.as_str();
        if let Some(value) = small_number(word) {
            let ordinal_alone = matches!(word, "second") && !seen_number;
            if ordinal_alone || seen_number && group % 10.0 != 0.0 {
                break;
            }
            group += value;
            seen_number = true;
            used = idx + 1;
        } else if let Some(multiplier) = scale(word) {
            if !seen_number {
                if idx == 0 {
                    break;
                }
                group = 1.0;
            }
            if multiplier >= 1e3 {
                total += group.max(1.0) * multiplier;
                group = 0.0;
            } else {
                group = group.max(1.0) * multiplier;
            }
            seen_number = true;
            used = idx + 1;
        } else if let (Some(value), false) = (parse_digits(word), seen_number) {
            // "3 million": digits followed by a scale word.
            match words.get(idx + 1).and_then(|next| scale(next)) {
                Some(multiplier) if multiplier >= 1e3 => return Some((value * multiplier, idx + 2)),
                _ => break,
            }
        } else if word == "and" && seen_number {
            continue;
        } else {
            break;
        }
    }
    if !seen_number || used == 0 {
        return None;
    }
    // A bare "one" is as often a pronoun as a number; keep it only when it
    // is not followed by "of" ("one of the").
    if used == 1 && words[0] == "one" && words.get(1).is_some_and(|next| next == "of") {
        return None;
    }
    Some((total + group, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(response: &str, reference: &str, states: bool) {
        let value = Reference.score_text(response, reference);
        assert_eq!(value >= 0.999, states, "{value}: {response:?} vs {reference:?}");
    }

    #[test]
    fn numbers_match_in_words_or_digits() {
        check("The answer is twelve.", "12", true);
        check("It has 1,200 pages", "one thousand two hundred", true);
        check("about twenty-one", "21", true);
        check("It costs $3.50.", "3.5 dollars", true);
        check("The answer is 13.", "12", false);
    }

    #[test]
    fn units_casing_and_punctuation_fold() {
        check("Roughly 42 kilometres away.", "42 km", true);
        check("PARIS!", "Paris", true);
        check("The capital is Lyon.", "Paris", false);
        check("It was 5km.", "5 kilometers", true);
    }

    #[test]
    fn empty_inputs_do_not_match() {
        check("", "Paris", false);
        check("Paris", "", false);
    }
}
