//! PII and secret spans: patterns proposed by regular expressions, then
//! confirmed by checksums (Luhn, mod-97, SSN ranges), context and entropy.

mod validate;

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;
pub use validate::{entropy, is_card, is_iban, is_ssn};
use validate::{is_ipv6, is_secret_value};

use crate::words::byte_to_char_offsets;
use crate::{Error, Input, PiiType, Result, Score, Scorer, Span};

/// First names from the `@stdlib` datasets (PDDL / CC0), filtered of common
/// English words by `scripts/quality/build_names.py`.
const FIRST_NAMES: &str = include_str!("../data/first_names.txt");

/// Given names common outside the English-speaking world, which the
/// `@stdlib` lists lack; written for this crate.
const WORLD_NAMES: &str = include_str!("../data/world_names.txt");

/// A span in byte offsets, before conversion to code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSpan {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What the span contains.
    pub kind: PiiType,
}

/// The PII scorer: holds every compiled pattern and the name list.
#[derive(Debug)]
pub struct Pii {
    email: Regex,
    phone: Regex,
    phone_extension: Regex,
    card: Regex,
    ssn: Regex,
    ipv4: Regex,
    ipv6: Regex,
    iban: Regex,
    street: Regex,
    person: Regex,
    titled_person: Regex,
    named_person: Regex,
    secret_tokens: Regex,
    private_key: Regex,
    connection_string: Regex,
    assignment: Regex,
    first_names: HashSet<&'static str>,
}

impl Pii {
    /// Compiles every pattern.
    ///
    /// # Panics
    ///
    /// Never in practice: the patterns are constants covered by tests.
    pub fn new() -> Self {
        let compile = |pattern: &str| Regex::new(pattern).expect("PII patterns are valid constants");
        let first_names =
            FIRST_NAMES.lines().chain(WORLD_NAMES.lines()).map(str::trim).filter(|name| !name.is_empty()).collect();
        Pii {
            email: compile(
                r"(?i)\b[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,24}\b",
            ),
            phone: compile(concat!(
                r"(?:(?:\+\d{1,3}|\b1)[\s.\-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.\-])\d{3}[\s.\-]\d{4}(?:x\d{1,5})?\b",
                r"|(?:\+\d{1,3}|\b00[1-9]\d{0,2})[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{1,5}(?:[\s.\-]\d{2,8}){1,4}(?:x\d{1,5})?\b",
                r"|\+\d{8,15}\b",
                r"|\(0\d{0,4}\)\s?\d{1,4}[\s\-]?\d{3,4}[\s\-]?\d{3,4}\b",
                r"|\b0\d{2,4}[\s\-]\d{3,4}[\s\-]\d{3,4}\b",
                r"|\b0\d{1,4}[\s/\-]\d{5,8}\b",
                r"|\b0\d{4}\s\d{6}\b",
                r"|\b\d{10}\b",
            )),
            phone_extension: compile(r"^,?\s?(?:(?i:ext\.?|extension|x)\s?|#\s?)\d{1,6}\b"),
            card: compile(concat!(
                r"\b\d{4}(?: \d{4}){2} \d{1,7}\b|\b\d{4}(?:-\d{4}){2}-\d{1,7}\b",
                r"|\b3[47]\d{2}[ \-]\d{6}[ \-]\d{5}\b|\b\d{13,19}\b",
            )),
            ssn: compile(r"\b\d{3}-\d{2}-\d{4}\b|\b\d{3} \d{2} \d{4}\b|\b\d{9}\b"),
            ipv4: compile(
                r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:/\d{1,2})?\b",
            ),
            ipv6: compile(
                r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})?",
            ),
            iban: compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
            street: compile(&concat!(
                // US and UK: "1600 Pennsylvania Ave NW, Suite 210, Washington,
                // DC 20500", "10 Downing Street, London SW1A 2AA".
                r"\b\d{1,6}[A-Za-z]?\s+(?:(?:[NSEW]|North|South|East|West|N\.|S\.|E\.|W\.)\s+)?",
                r"(?:[A-Z][A-Za-z'\-]*\.?\s+|\d{1,3}(?:st|nd|rd|th)\s+){1,4}",
                r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Plaza|Alley|Row|Crescent|Close|Gardens)\b\.?(?:\s(?:NW|NE|SW|SE|N|S|E|W)\b\.?)?",
                r"(?:,?\s+(?:Apt|apt|APT|Apartment|Suite|Ste|STE|Unit|Floor|Fl|Flat|Room|Rm|Bldg)\.?\s*#?UNIT|,?\s*#\s?UNIT)?",
                r"(?:,\s*[A-Z][a-z]+(?: [A-Z][a-z]+){0,2})?",
                r"(?:,?\s*(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b))?",
                // PO boxes: "P.O. Box 1234", "PO Box 77, Austin TX 78701".
                r"|\b(?:(?i:p\.?\s?o\.?\s?box)|Post Office Box|Postfach|Apartado(?: de Correos)?|Casella [Pp]ostale)\s+\d{1,6}\b",
                r"(?:,\s*[A-Z][a-z]+(?: [A-Z][a-z]+){0,2})?(?:,?\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\b)?",
                // The name, then the number: German, Austrian, Swiss and Dutch
                // ("Hauptstraße 12", "Karl-Marx-Allee 3", "Keizersgracht 123"),
                // Spanish and Italian ("Calle Mayor 5", "Via Roma, 10").
                r"|\b(?:",
                r"[A-ZÄÖÜ][a-zäöüßé]{2,}(?:-[A-ZÄÖÜ]?[a-zäöüßé]+)*(?:straße|strasse|str\.|gasse|weg|platz|allee|damm|ufer|chaussee|steig|pfad|straat|gracht|laan|plein|dijk|steeg|markt)",
                r"|(?:[A-ZÄÖÜ][a-zäöüß]+[ \-]){1,3}(?:Straße|Strasse|Str\.|Gasse|Weg|Platz|Allee|Damm|Ufer|Chaussee)",
                r"|(?:Calle|C/|Avenida|Avda\.|Paseo|Plaza|Carrer|Avinguda|Camino|Ronda|Rambla|Rua|Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo)",
                r"\s+(?:(?:de la|de las|de los|del|de|della|delle|dello|dei|degli|di|da)\s+|d')?[A-ZÁÉÍÓÚÑ][\p{L}'\-]*",
                r"(?:\s+(?:(?:de la|de las|de los|del|de|della|delle|dei|di|da|y|e)\s+)?[A-ZÁÉÍÓÚÑ][\p{L}'\-]*){0,3},?",
                r")\s+HOUSE",
                r"EU_TAIL",
                // The number, then the name: French ("12 rue de la Paix").
                r"|\b\d{1,4}(?:\s?(?:bis|ter)\b)?,?\s+",
                r"(?:(?:rue|Rue|boulevard|Boulevard|bd|Bd|allée|Allée|impasse|Impasse|chemin|Chemin|quai|Quai|avenue|place|cours|route)\s+FR_ARTICLE?",
                // English words too ("Top 10 Avenue Q"): only with an article.
                r"|(?:Avenue|Place|Cours|Route)\s+FR_ARTICLE)",
                r"\p{Lu}[\p{L}'\-]+(?:[ \-]FR_ARTICLE?\p{Lu}[\p{L}'\-]+){0,3}",
                r"EU_TAIL",
            )
            .replace("UNIT", r"(?:[A-Za-z]?\d+[A-Za-z]?(?:-\d+)?|[A-Z])\b")
            .replace("HOUSE", r"(?:n\.?\s?º?\s?)?\d{1,4}(?:\s?[a-zA-Z]\b)?(?:[\-/](?:\d{1,4}[a-zA-Z]?|[A-Z]{1,2})\b)?")
            // ", 10115 Berlin", ", 1015 CJ Amsterdam", ", 60311 Frankfurt am Main".
            .replace(
                "EU_TAIL",
                r"(?:,?\s+(?:[A-Z]{1,2}-)?(?:\d{4}\s?[A-Z]{2}|\d{4,5})\s+\p{Lu}[\p{L}'\-]+(?:[ \-](?:(?:am|an der|im|sur|en|de|di|del) )?\p{Lu}[\p{L}'\-]+)?)?",
            )
            .replace("FR_ARTICLE", r"(?:de la |de l'|du |des |de |d'|la |le |les |l')")),
            person: compile(
                r"\b[A-Z][a-z]{2,}(?:[ ][A-Z]\.)?(?:[ ](?:[A-Z][a-z]+(?:['\-][A-Z][a-z]+)?|Mc[A-Z][a-z]+|O'[A-Z][a-z]+)){0,2}\b",
            ),
            titled_person: compile(
                r"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Miss|Sir|Madam|Mme|Herr|Frau)\.?[ ](?:[A-Z][a-z]+|[A-Z]\.)(?:[ ][A-Z][a-z'\-]+){0,2}\b",
            ),
            named_person: compile(
                r"(?i:my name is|my name's|i am called|i'm called|(?:full |customer |client |patient |employee |user |account holder |cardholder )?name\s*[:\-]|patient:|signed,?|regards,|sincerely,|cheers,|thanks,|thank you,|dear|hi|hello|hey|attn:?|attention:|cc:|contact person:)\s+([A-Z][a-z]+(?:[ ](?:[A-Z]\.|[A-Z][a-z'\-]+)){0,2})\b",
            ),
            secret_tokens: compile(concat!(
                r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[0-9A-Z]{16}\b",
                r"|\bgh[pousr]_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{50,255}\b",
                r"|\bglpat-[A-Za-z0-9_\-]{20,}\b|\bxox[abposre]-[A-Za-z0-9\-]{10,}\b",
                r"|https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
                r"|\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b|\bwhsec_[A-Za-z0-9]{20,}\b",
                r"|\bAIza[0-9A-Za-z_\-]{35}\b|\bya29\.[0-9A-Za-z_\-]{20,}",
                r"|\bsk-ant-[A-Za-z0-9_\-]{20,}|\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}",
                r"|\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
                r"|\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}\b|\bnpm_[A-Za-z0-9]{36}\b",
                r"|\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}|\bhf_[A-Za-z0-9]{30,40}\b",
                r"|\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b|\bdop_v1_[a-f0-9]{64}\b|\bdapi[a-f0-9]{32}\b",
                r"|\b(?:SK|AC)[0-9a-f]{32}\b|\bkey-[0-9a-zA-Z]{32}\b|\bsq0(?:atp|csp)-[0-9A-Za-z_\-]{22,43}\b",
                r"|\bAccountKey=[A-Za-z0-9+/=]{40,}|\b(?:EAACEdEose0cBA|EAAG)[0-9A-Za-z]{20,}",
                r"|\b[MN][A-Za-z\d]{23,25}\.[\w\-]{6}\.[\w\-]{27,38}\b|\bAPI-?KEY-[A-Za-z0-9]{24,}",
                r"|\bLTAI[A-Za-z0-9]{12,20}\b|\bxai-[A-Za-z0-9]{40,}\b|\bgsk_[A-Za-z0-9]{40,}\b",
                r"|\br8_[A-Za-z0-9]{30,}\b|\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b|\bSHA256:[A-Za-z0-9+/]{43}",
            )),
            private_key: compile(
                r"(?s)-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:.{0,8192}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?",
            ),
            connection_string: compile(
                r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|ftp|sftp|smtp)://[^\s:/@]+:[^\s@/]{3,}@[^\s/]+",
            ),
            assignment: compile(concat!(
                r#"(?i)\b[a-z0-9_.\-]*(?:secret|token|api[_\-]?key|apikey|passw(?:or)?d|passwd|pwd|access[_\-]?key|auth[_\-]?key|credential|private[_\-]?key|client[_\-]?secret|bearer)[a-z0-9_.\-]*"#,
                r#"["']?\s*(?:[:=]|:=|=>|\bis\b)\s*(?:bearer\s+)?["'`]?([A-Za-z0-9+/=_\-.~!@#$%^&*]{8,200})"#,
            )),
            first_names,
        }
    }

    /// Every PII span of `text`, in byte offsets, sorted and non-overlapping.
    pub fn find_bytes(&self, text: &str) -> Vec<ByteSpan> {
        let mut spans = Vec::new();
        self.find_secrets(text, &mut spans);
        for found in self.email.find_iter(text) {
            spans.push(span(found.start(), found.end(), PiiType::EmailAddress));
        }
        for found in self.card.find_iter(text) {
            if is_isolated(text, found.start(), found.end()) && is_card(found.as_str()) {
                spans.push(span(found.start(), found.end(), PiiType::CreditCard));
            }
        }
        for found in self.iban.find_iter(text) {
            if is_iban(found.as_str()) {
                spans.push(span(found.start(), found.end(), PiiType::IbanCode));
            }
        }
        for found in self.ssn.find_iter(text) {
            let digits_only = found.as_str().bytes().all(|byte| byte.is_ascii_digit());
            if is_isolated(text, found.start(), found.end())
                && is_ssn(found.as_str())
                && (!digits_only && !has_context(text, found.start(), DATE_WORDS)
                    || has_context(text, found.start(), SSN_WORDS))
            {
                spans.push(span(found.start(), found.end(), PiiType::UsSsn));
            }
        }
        for found in self.phone.find_iter(text) {
            let mut start = found.start();
            let value = found.as_str();
            if start > 0 && text.as_bytes()[start - 1] == b'(' && !value.starts_with('(') {
                start -= 1;
            }
            // "ext. 123", "x45", "#200" belong to the number.
            let end =
                found.end() + self.phone_extension.find(&text[found.end()..]).map_or(0, |extension| extension.end());
            let digits = value.bytes().filter(u8::is_ascii_digit).count();
            let bare = value.bytes().all(|byte| byte.is_ascii_digit());
            let dialled = has_context(text, start, PHONE_WORDS);
            if (8..=15).contains(&digits)
                && is_isolated(text, found.start(), end)
                && !looks_like_date(value)
                && (!bare || dialled)
                && (dialled || !has_context(text, start, DATE_WORDS))
            {
                spans.push(span(start, end, PiiType::PhoneNumber));
            }
        }
        for found in self.ipv4.find_iter(text) {
            if is_isolated(text, found.start(), found.end()) && !has_context(text, found.start(), VERSION_WORDS) {
                spans.push(span(found.start(), found.end(), PiiType::IpAddress));
            }
        }
        for found in self.ipv6.find_iter(text) {
            // "::ffff:192.0.2.128": the regex stops at the first dotted
            // group, which it reads as hex; extend over the IPv4 tail.
            let mut end = found.end();
            if text[end..].starts_with('.') {
                end += text[end..].find(|ch: char| !(ch.is_ascii_digit() || ch == '.')).unwrap_or(text.len() - end);
                end -= text[..end].len() - text[..end].trim_end_matches('.').len();
            }
            if is_ipv6(text, found.start(), end) {
                spans.push(span(found.start(), end, PiiType::IpAddress));
            }
        }
        for found in self.street.find_iter(text) {
            if is_street(found.as_str()) {
                spans.push(span(found.start(), found.end(), PiiType::StreetAddress));
            }
        }
        self.find_people(text, &mut spans);
        resolve_overlaps(spans)
    }

    /// Every PII span of `text`, in code points.
    pub fn find(&self, text: &str) -> Vec<Span> {
        let spans = self.find_bytes(text);
        let mut offsets = Vec::with_capacity(spans.len() * 2);
        for found in &spans {
            offsets.push(found.start);
            offsets.push(found.end);
        }
        // Spans are sorted and disjoint, so the offsets are ascending.
        let chars = byte_to_char_offsets(text, &offsets);
        spans
            .iter()
            .enumerate()
            .map(|(idx, found)| Span { start: chars[2 * idx], end: chars[2 * idx + 1], kind: found.kind })
            .collect()
    }

    /// The PII score of `text`: labelled when any span is found, valued
    /// `1 - 2^-n` for `n` spans.
    pub fn score_text(&self, text: &str) -> Score {
        let spans = self.find(text);
        let value = 1.0 - 0.5f64.powi(spans.len().min(64) as i32);
        let mut score = Score::new("pii", value, !spans.is_empty());
        score.spans = spans;
        score
    }

    /// `text` with each span replaced by its type in brackets
    /// (`[EMAIL_ADDRESS]`).
    pub fn redact(&self, text: &str) -> String {
        let parts: Vec<crate::redact::Replace> = self.find(text).iter().map(Into::into).collect();
        crate::redact::Redaction::apply(text, &parts).text
    }

    fn find_secrets(&self, text: &str, spans: &mut Vec<ByteSpan>) {
        for found in self.private_key.find_iter(text) {
            spans.push(span(found.start(), found.end(), PiiType::Secret));
        }
        for found in self.secret_tokens.find_iter(text) {
            spans.push(span(found.start(), found.end(), PiiType::Secret));
        }
        for found in self.connection_string.find_iter(text) {
            spans.push(span(found.start(), found.end(), PiiType::Secret));
        }
        for captures in self.assignment.captures_iter(text) {
            if let Some(value) = captures.get(1) {
                let trimmed = value.as_str().trim_end_matches(['.', ',', ';']);
                let key = captures.get(0).map_or("", |whole| &text[whole.start()..value.start()]);
                if is_secret_value(key, trimmed) {
                    spans.push(span(value.start(), value.start() + trimmed.len(), PiiType::Secret));
                }
            }
        }
    }

    fn find_people(&self, text: &str, spans: &mut Vec<ByteSpan>) {
        for found in self.titled_person.find_iter(text) {
            spans.push(span(found.start(), found.end(), PiiType::Person));
        }
        for captures in self.named_person.captures_iter(text) {
            if let Some(name) = captures.get(1) {
                let first = name.as_str().split(' ').next().unwrap_or_default();
                if !NOT_NAMES_AFTER_GREETING.contains(&first) {
                    spans.push(span(name.start(), name.end(), PiiType::Person));
                }
            }
        }
        for found in self.person.find_iter(text) {
            // The match may open with a capitalised non-name ("Patient Jane
            // Doe"): start at the first word that is a first name.
            let mut offset = 0;
            let mut rest = found.as_str();
            while let Some((head, tail)) = rest.split_once(' ') {
                if self.first_names.contains(head) {
                    break;
                }
                offset += head.len() + 1;
                rest = tail;
            }
            let value = rest;
            let start = found.start() + offset;
            let first = value.split(' ').next().unwrap_or(value);
            if !self.first_names.contains(first) {
                continue;
            }
            // Trim trailing words that are not surnames ("John Said").
            let mut end = found.end();
            let parts: Vec<&str> = value.split(' ').collect();
            let mut keep = parts.len();
            while keep > 1 && NOT_SURNAMES.contains(&parts[keep - 1]) {
                keep -= 1;
            }
            if keep < parts.len() {
                end = start + parts[..keep].join(" ").len();
            }
            let single = keep == 1;
            let sentence_start = is_sentence_start(text, start);
            if single && sentence_start && AMBIGUOUS_AT_START.contains(&first) {
                continue;
            }
            spans.push(span(start, end, PiiType::Person));
        }
    }
}

impl Default for Pii {
    fn default() -> Self {
        Pii::new()
    }
}

impl Scorer for Pii {
    fn name(&self) -> &'static str {
        "pii"
    }

    fn score(&self, input: &Input<'_>) -> Result<Score> {
        let text = input.response_side().ok_or(Error::MissingField { field: "text|response|prompt" })?;
        Ok(self.score_text(text))
    }
}

/// The shared PII scorer, compiled on first use.
fn shared() -> &'static Pii {
    static PII: OnceLock<Pii> = OnceLock::new();
    PII.get_or_init(Pii::new)
}

/// `text` with every PII span replaced by its type in brackets, e.g.
/// `"mail bob@example.com"` becomes `"mail [EMAIL_ADDRESS]"`. Compiles the
/// patterns once per process; hold a [`Pii`] to control when.
pub fn redact(text: &str) -> String {
    shared().redact(text)
}

const PHONE_WORDS: &[&str] =
    &["phone", "call", "tel", "mobile", "cell", "fax", "contact", "reach", "text", "whatsapp", "number"];
const SSN_WORDS: &[&str] = &["ssn", "social security", "social", "ss#", "taxpayer", "tin"];
/// Words before a number that make it an identifier, not a phone number or
/// an SSN, unless a phone word is near too.
const DATE_WORDS: &[&str] =
    &["order", "invoice", "id", "ticket", "ref", "tracking", "account", "no.", "po", "sku", "serial"];
const VERSION_WORDS: &[&str] = &["version", "v", "ver", "release", "build", "firmware", "oid", "version:", "release:"];

/// Words that follow a first name but are not surnames.
const NOT_SURNAMES: &[&str] = &[
    "The",
    "And",
    "Or",
    "But",
    "Is",
    "Was",
    "Said",
    "Says",
    "Street",
    "Avenue",
    "Road",
    "Lane",
    "Drive",
    "Inc",
    "Ltd",
    "Corp",
    "Company",
    "University",
    "College",
    "School",
    "Hospital",
    "Park",
    "River",
    "Lake",
    "Mountain",
    "County",
    "City",
    "Bank",
    "Group",
    "Foundation",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "June",
    "July",
    "September",
    "October",
    "November",
    "December",
    "I",
    "A",
    "An",
    "In",
    "On",
    "At",
    "To",
    "For",
    "With",
    "Of",
    "By",
    "Thanks",
    "Hi",
    "Hello",
    "Dear",
    "Team",
    "Please",
    "If",
    "When",
    "This",
    "That",
    "We",
    "You",
    "He",
    "She",
    "They",
    "It",
    "Section",
    "Article",
    "Chapter",
    "Figure",
    "Table",
    "Step",
];

/// Words that follow "Dear", "Hi" or "Name:" without being a name.
const NOT_NAMES_AFTER_GREETING: &[&str] = &[
    "Team",
    "World",
    "All",
    "Everyone",
    "Everybody",
    "Sir",
    "Madam",
    "Sirs",
    "There",
    "Folks",
    "Guys",
    "Friends",
    "Friend",
    "Customer",
    "Customers",
    "Support",
    "Admin",
    "Manager",
    "Colleagues",
    "Hiring",
    "Valued",
    "Member",
    "Members",
    "User",
    "Users",
    "Reader",
    "Readers",
    "Student",
    "Students",
    "Parents",
    "Partner",
    "Partners",
    "Client",
    "Applicant",
    "Candidate",
    "Doctor",
    "Professor",
    "Mr",
    "Mrs",
    "Ms",
    "The",
    "This",
    "Our",
    "Your",
    "My",
    "Again",
    "Not",
    "Required",
    "Unknown",
    "None",
    "Optional",
    "String",
    "Value",
    "Name",
];

/// First names that are also ordinary words when they open a sentence.
const AMBIGUOUS_AT_START: &[&str] = &[
    "Rich", "Sunny", "Page", "Ocean", "Dusty", "Summer", "Autumn", "Liberty", "Justice", "Brook", "Heather", "Hazel",
    "Ginger", "Bliss", "Echo", "Happy", "Blossom", "Queen", "Princess", "Love", "Lucky", "Major", "Deal", "Loyal",
    "Marvel", "Miracle", "Rain", "River", "Sugar", "Whitney", "See", "Ring", "Fax",
];

fn span(start: usize, end: usize, kind: PiiType) -> ByteSpan {
    ByteSpan { start, end, kind }
}

/// Keeps the earliest, then longest, then highest-priority span of each
/// overlapping cluster.
fn resolve_overlaps(mut spans: Vec<ByteSpan>) -> Vec<ByteSpan> {
    spans.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(priority(b.kind).cmp(&priority(a.kind)))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
    });
    let mut kept: Vec<ByteSpan> = Vec::with_capacity(spans.len());
    for candidate in spans {
        match kept.last_mut() {
            Some(last) if candidate.start < last.end => {
                let longer = candidate.end - candidate.start > last.end - last.start;
                let outranks = priority(candidate.kind) > priority(last.kind);
                let same_rank_longer = longer && priority(candidate.kind) == priority(last.kind);
                let address_over_name =
                    longer && last.kind == PiiType::Person && candidate.kind == PiiType::StreetAddress;
                if outranks || same_rank_longer || address_over_name {
                    *last = candidate;
                }
            }
            _ => kept.push(candidate),
        }
    }
    kept
}

fn priority(kind: PiiType) -> u8 {
    match kind {
        PiiType::Secret => 9,
        PiiType::EmailAddress => 8,
        PiiType::CreditCard => 7,
        PiiType::IbanCode => 6,
        PiiType::UsSsn => 5,
        PiiType::IpAddress => 4,
        PiiType::StreetAddress => 3,
        PiiType::PhoneNumber => 2,
        PiiType::Person => 1,
    }
}

/// The match is not glued to more digits, dots or word characters, which
/// rules out pieces of version strings, hashes and longer numbers.
fn is_isolated(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let next = after.next();
    let next2 = after.next();
    let glued_before = matches!(before, Some(ch) if ch.is_alphanumeric() || matches!(ch, '_' | '/' | '-' | '.' | ':' | '+' | '#' | '='));
    // A digit group right before or after ("0052 8156 0804 6533") means
    // the match is a piece of a longer number.
    let glued_group_before = text[..start].strip_suffix(' ').is_some_and(|head| {
        let token = head.rsplit(char::is_whitespace).next().unwrap_or("");
        !token.is_empty() && token.bytes().all(|byte| byte.is_ascii_digit())
    });
    if glued_group_before {
        return false;
    }
    let glued_after = match next {
        Some('.' | '-' | ':' | '/' | ',') => matches!(next2, Some(ch) if ch.is_ascii_alphanumeric()),
        Some(' ') => matches!(next2, Some(ch) if ch.is_ascii_digit()) && text[start..end].contains(' '),
        Some(ch) => ch.is_alphanumeric() || ch == '_',
        None => false,
    };
    !glued_before && !glued_after
}

/// Whether one of `words` ends within the 24 bytes before `start`.
fn has_context(text: &str, start: usize, words: &[&str]) -> bool {
    let mut from = start.saturating_sub(24);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = text[from..start].to_lowercase();
    words.iter().any(|word| {
        window.match_indices(word).any(|(idx, _)| {
            let before_ok = idx == 0 || !window.as_bytes()[idx - 1].is_ascii_alphabetic();
            let after = window.as_bytes().get(idx + word.len());
            before_ok && !matches!(after, Some(byte) if byte.is_ascii_alphabetic())
        })
    })
}

fn is_sentence_start(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches([' ', '\t', '"', '\'', '(']);
    before.is_empty() || before.ends_with(['.', '!', '?', '\n', ':'])
}

/// A street match is not a quantity of a product ("2 TB Hard Drive",
/// "3 Google Drive plans") or English prose ("sent Via Email 3 times"): the
/// word after the number is no unit and no word is one that names no street.
fn is_street(value: &str) -> bool {
    const UNITS: &[&str] = &["KB", "MB", "GB", "TB", "PB", "GHz", "MHz", "USD", "EUR", "GBP", "x"];
    const NOT_STREET_WORDS: &[&str] = &[
        "Hard", "Google", "Flash", "Thumb", "Disk", "USB", "External", "Solid", "Test", "Cloud", "Email", "E-mail",
        "Slack", "Zoom", "Teams", "Phone", "SMS", "API", "Chat", "Skype", "WhatsApp", "Hotel",
    ];
    let unit = value.split_whitespace().nth(1).is_some_and(|word| UNITS.contains(&word));
    !unit && !value.split_whitespace().any(|word| NOT_STREET_WORDS.contains(&word))
}

fn looks_like_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() >= 10
        && (value.starts_with("19") || value.starts_with("20"))
        && bytes.get(4).is_some_and(|byte| matches!(byte, b'-' | b'.' | b'/'))
}

#[cfg(test)]
mod tests;
