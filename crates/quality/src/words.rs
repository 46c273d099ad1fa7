//! Word-level views of a text shared by the lexicon scorers.

/// Lowercases and undoes the usual obfuscations (`f*ck`, `sh1t`, `a.s.s`,
/// `Ｆｕｌｌｗｉｄｔｈ`) so that lexicons see plain letters.
pub(crate) fn normalize_obfuscation(text: &str) -> String {
    let chars: Vec<char> = text
        .chars()
        .map(|ch| match ch {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(ch as u32 - 0xfee0).unwrap_or(ch),
            _ => ch,
        })
        .collect();
    let mut out = String::with_capacity(text.len());
    for (idx, &ch) in chars.iter().enumerate() {
        let before = idx.checked_sub(1).and_then(|prev| chars.get(prev)).copied();
        let after = chars.get(idx + 1).copied();
        let alpha_near = before.is_some_and(char::is_alphabetic) || after.is_some_and(char::is_alphabetic);
        let inside_word = before.is_some_and(char::is_alphanumeric) && after.is_some_and(char::is_alphanumeric);
        let mapped = match ch {
            '0' if alpha_near => 'o',
            '1' if alpha_near => 'i',
            '3' if alpha_near => 'e',
            '4' if alpha_near => 'a',
            '5' if alpha_near => 's',
            '7' if alpha_near => 't',
            '!' | '|' if inside_word => 'i',
            '@' if inside_word || after.is_some_and(char::is_alphabetic) && before.is_none_or(char::is_whitespace) => {
                'a'
            }
            '$' if after.is_some_and(char::is_alphabetic) => 's',
            '*' if inside_word => 'u',
            other => other,
        };
        out.extend(mapped.to_lowercase());
    }
    out
}

/// Converts byte offsets of `text` to code-point offsets. `offsets` must be
/// sorted ascending and lie on character boundaries.
pub(crate) fn byte_to_char_offsets(text: &str, offsets: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(offsets.len());
    let mut chars_seen = 0;
    let mut byte_pos = 0;
    let mut iter = text.char_indices().peekable();
    for &target in offsets {
        while byte_pos < target {
            match iter.next() {
                Some((_, ch)) => {
                    byte_pos += ch.len_utf8();
                    chars_seen += 1;
                }
                None => break,
            }
        }
        out.push(chars_seen);
    }
    out
}
