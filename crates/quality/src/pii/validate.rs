//! Checks that confirm a pattern match is the thing it looks like:
//! checksums (Luhn, IBAN mod 97), issued ranges, address syntax, and the
//! entropy and shape of an assigned secret.

use std::net::Ipv6Addr;

/// Luhn checksum plus a known issuer prefix and length.
pub fn is_card(value: &str) -> bool {
    let digits: Vec<u32> = value.chars().filter_map(|ch| ch.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|&digit| digit == digits[0]) {
        return false;
    }
    let prefix2 = digits[0] * 10 + digits[1];
    let prefix4 = prefix2 * 100 + digits[2] * 10 + digits[3];
    let issuer = digits[0] == 4
        || (51..=55).contains(&prefix2)
        || (2221..=2720).contains(&prefix4)
        || prefix2 == 34
        || prefix2 == 37
        || prefix2 == 36
        || prefix2 == 38
        || (300..=305).contains(&(prefix4 / 10))
        || prefix4 == 6011
        || prefix2 == 65
        || (644..=649).contains(&(prefix4 / 10))
        || prefix2 == 35
        || prefix2 == 62
        || prefix4 == 5018
        || prefix4 == 5020
        || prefix4 == 5038
        || prefix4 == 6304
        || prefix4 == 6759;
    issuer && luhn(&digits)
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(idx, &digit)| {
            if idx % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A US social security number in an issued range: area not 000, 666 or
/// 900–999, group not 00, serial not 0000.
pub fn is_ssn(value: &str) -> bool {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 9 {
        return false;
    }
    let area: u32 = digits[0..3].parse().unwrap_or(0);
    let group: u32 = digits[3..5].parse().unwrap_or(0);
    let serial: u32 = digits[5..9].parse().unwrap_or(0);
    let all_same = digits.bytes().all(|byte| byte == digits.as_bytes()[0]);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !all_same && digits != "123456789"
}

/// An IBAN with the right length for its country and a valid mod-97 check.
pub fn is_iban(value: &str) -> bool {
    let compact: String = value.chars().filter(|ch| !ch.is_whitespace()).collect();
    let Some(expected) = iban_length(&compact[..2.min(compact.len())]) else {
        return false;
    };
    if compact.len() != expected {
        return false;
    }
    let rearranged = compact[4..].chars().chain(compact[..4].chars());
    let mut remainder: u32 = 0;
    for ch in rearranged {
        let value = match ch.to_digit(36) {
            Some(value) => value,
            None => return false,
        };
        remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
    }
    remainder == 1
}

fn iban_length(country: &str) -> Option<usize> {
    const LENGTHS: &[(&str, usize)] = &[
        ("AD", 24),
        ("AE", 23),
        ("AL", 28),
        ("AT", 20),
        ("AZ", 28),
        ("BA", 20),
        ("BE", 16),
        ("BG", 22),
        ("BH", 22),
        ("BR", 29),
        ("BY", 28),
        ("CH", 21),
        ("CR", 22),
        ("CY", 28),
        ("CZ", 24),
        ("DE", 22),
        ("DK", 18),
        ("DO", 28),
        ("EE", 20),
        ("EG", 29),
        ("ES", 24),
        ("FI", 18),
        ("FO", 18),
        ("FR", 27),
        ("GB", 22),
        ("GE", 22),
        ("GI", 23),
        ("GL", 18),
        ("GR", 27),
        ("GT", 28),
        ("HR", 21),
        ("HU", 28),
        ("IE", 22),
        ("IL", 23),
        ("IQ", 23),
        ("IS", 26),
        ("IT", 27),
        ("JO", 30),
        ("KW", 30),
        ("KZ", 20),
        ("LB", 28),
        ("LC", 32),
        ("LI", 21),
        ("LT", 20),
        ("LU", 20),
        ("LV", 21),
        ("MC", 27),
        ("MD", 24),
        ("ME", 22),
        ("MK", 19),
        ("MR", 27),
        ("MT", 31),
        ("MU", 30),
        ("NL", 18),
        ("NO", 15),
        ("PK", 24),
        ("PL", 28),
        ("PS", 29),
        ("PT", 25),
        ("QA", 29),
        ("RO", 24),
        ("RS", 22),
        ("SA", 24),
        ("SC", 31),
        ("SE", 24),
        ("SI", 19),
        ("SK", 24),
        ("SM", 27),
        ("ST", 25),
        ("SV", 28),
        ("TL", 23),
        ("TN", 24),
        ("TR", 26),
        ("UA", 29),
        ("VA", 22),
        ("VG", 24),
        ("XK", 20),
    ];
    LENGTHS.iter().find(|(code, _)| *code == country).map(|(_, length)| *length)
}

pub(super) fn is_ipv6(text: &str, start: usize, end: usize) -> bool {
    let value = &text[start..end];
    let groups = value.split(':').filter(|group| !group.is_empty()).count();
    let enough = if value.contains("::") { groups >= 2 } else { groups >= 8 || value.contains('.') && groups >= 6 };
    let has_digit = value.bytes().any(|byte| byte.is_ascii_digit());
    if !enough || !has_digit || value.parse::<Ipv6Addr>().is_err() {
        return false;
    }
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !matches!(before, Some(ch) if ch.is_alphanumeric() || ch == ':' || ch == '_')
        && !matches!(after, Some(ch) if ch.is_alphanumeric() || ch == ':' || ch == '_')
}

/// Shannon entropy of `value` in bits per character.
pub fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut total = 0u32;
    for byte in value.bytes() {
        counts[byte as usize] += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let share = f64::from(count) / f64::from(total);
            -share * share.log2()
        })
        .sum()
}

/// An assigned value looks like a real credential, not a placeholder,
/// a variable reference or prose.
pub(super) fn is_secret_value(key: &str, value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    const PLACEHOLDERS: &[&str] = &[
        "your",
        "xxxx",
        "changeme",
        "placeholder",
        "redacted",
        "<",
        "${",
        "env",
        "none",
        "null",
        "true",
        "false",
        "undefined",
        "process.",
        "os.",
        "getenv",
        "config",
        "secret",
        "token",
        "password",
        "****",
        "dummy",
        "here",
        "required",
        "optional",
        "string",
        "self.",
        "settings.",
        "request",
        "args.",
        "input",
    ];
    if PLACEHOLDERS.iter().any(|placeholder| lower.contains(placeholder)) {
        return false;
    }
    let has_digit = value.bytes().any(|byte| byte.is_ascii_digit());
    let has_upper = value.bytes().any(|byte| byte.is_ascii_uppercase());
    let has_lower = value.bytes().any(|byte| byte.is_ascii_lowercase());
    let has_symbol = value.bytes().any(|byte| !byte.is_ascii_alphanumeric());
    let classes = usize::from(has_digit) + usize::from(has_upper) + usize::from(has_lower) + usize::from(has_symbol);
    let key_lower = key.to_ascii_lowercase();
    let is_password = key_lower.contains("pass") || key_lower.contains("pwd");
    if is_password {
        return value.len() >= 8 && classes >= 3;
    }
    value.len() >= 16 && classes >= 2 && has_digit && entropy(value) >= 3.2
}
