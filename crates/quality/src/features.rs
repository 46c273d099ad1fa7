//! Hashed word and character n-gram features: what the learned scorers read.
//!
//! A text is cut into tokens (runs of letters and digits, lowercased, digits
//! folded to `0`; runs of punctuation), and each token contributes its word,
//! the bigram it ends, and the character 3- to 5-grams of its word padded
//! with boundary marks (fastText's subwords, which survive misspellings,
//! inflections and `f*ck`-style obfuscation). Every n-gram is hashed into
//! one of [`DIM`] buckets; the namespace ([`Side`]) is part of the hash, so a
//! word in the prompt and the same word in the response are different
//! features. Each occurrence remembers its token, so a model can score any
//! run of tokens (a window of a long document) and point at the tokens that
//! drove its score. A feature vector is the occurrence counts divided by the
//! square root of the number of occurrences, which makes the score of any
//! window a sum over its tokens. Work and memory are linear in the text: a
//! long token contributes the n-grams of its first [`MAX_WORD_CHARS`]
//! characters only.

/// log2 of the number of hash buckets.
pub const DIM_BITS: u32 = 18;
/// The number of hash buckets every model has a weight for.
pub const DIM: usize = 1 << DIM_BITS;
/// Characters of a token that give character n-grams.
pub const MAX_WORD_CHARS: usize = 24;

/// Which text of an exchange features come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The prompt (jailbreak and injection; the request a response answers).
    Prompt,
    /// The response (toxicity, refusal, harmful help), or a bare text.
    Response,
}

impl Side {
    fn seed(self) -> u64 {
        match self {
            Side::Prompt => 0x7072_6f6d_7074_0001,
            Side::Response => 0x7265_7370_6f6e_0002,
        }
    }
}

/// A token: where it is in the text, in code points, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// First code point.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
}

/// One n-gram found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// Its hash bucket, below [`DIM`].
    pub bucket: u32,
    /// The token it belongs to (an index into [`Features::tokens`]).
    pub token: u32,
}

/// Every n-gram occurrence of one text, in token order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// The occurrences, grouped by token in ascending order.
    pub occurrences: Vec<Occurrence>,
    /// The tokens.
    pub tokens: Vec<Token>,
}

impl Features {
    /// The features of `text` on `side`.
    pub fn of(text: &str, side: Side) -> Features {
        let mut features = Features::default();
        let seed = side.seed();
        let mut word = String::new();
        let mut previous: Option<u64> = None;
        let mut chars = text.chars().enumerate().peekable();
        while let Some((position, ch)) = chars.next() {
            if ch.is_whitespace() {
                continue;
            }
            word.clear();
            let alphanumeric = ch.is_alphanumeric();
            push_folded(&mut word, ch);
            let mut end = position + 1;
            while let Some(&(next_position, next)) = chars.peek() {
                let continues = if alphanumeric {
                    next.is_alphanumeric() || next == '\'' || next == '’'
                } else {
                    !next.is_alphanumeric() && !next.is_whitespace()
                };
                if !continues {
                    break;
                }
                // Keep the token's text short; its span still covers the run.
                if word.len() < 4 * MAX_WORD_CHARS {
                    push_folded(&mut word, next);
                }
                end = next_position + 1;
                chars.next();
            }
            let token = features.tokens.len() as u32;
            features.tokens.push(Token { start: position, end });
            let unigram = hash_str(seed ^ 1, &word);
            features.push(unigram, token);
            if let Some(previous) = previous {
                features.push(mix(previous.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ unigram ^ 2), token);
            }
            previous = Some(unigram);
            if alphanumeric {
                features.push_char_ngrams(seed, &word, token);
            }
        }
        features
    }

    /// The number of occurrences (the feature vector's squared norm before
    /// scaling).
    pub fn len(&self) -> usize {
        self.occurrences.len()
    }

    /// Whether the text had no token.
    pub fn is_empty(&self) -> bool {
        self.occurrences.is_empty()
    }

    fn push(&mut self, hash: u64, token: u32) {
        self.occurrences.push(Occurrence { bucket: (hash >> (64 - DIM_BITS)) as u32, token });
    }

    fn push_char_ngrams(&mut self, seed: u64, word: &str, token: u32) {
        let mut padded = [0u32; MAX_WORD_CHARS + 2];
        padded[0] = u32::from('<');
        let mut len = 1;
        for ch in word.chars().take(MAX_WORD_CHARS) {
            padded[len] = u32::from(ch);
            len += 1;
        }
        padded[len] = u32::from('>');
        len += 1;
        for n in 3..=5 {
            for gram in padded[..len].windows(n) {
                let mut hash = seed ^ ((n as u64) << 56);
                for &ch in gram {
                    hash = mix(hash ^ u64::from(ch));
                }
                self.push(hash, token);
            }
        }
    }
}

/// Lowercases `ch` and folds ASCII digits to `0`, so numbers of the same
/// shape share features.
fn push_folded(word: &mut String, ch: char) {
    if ch.is_ascii_digit() {
        word.push('0');
    } else if ch.is_uppercase() {
        word.extend(ch.to_lowercase());
    } else {
        word.push(ch);
    }
}

fn hash_str(seed: u64, text: &str) -> u64 {
    let mut hash = seed;
    for chunk in text.as_bytes().chunks(8) {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        hash = mix(hash ^ u64::from_le_bytes(bytes));
    }
    mix(hash ^ text.len() as u64)
}

/// A 64-bit finalizer (splitmix64's): every input bit reaches every output
/// bit, and it is the same on every machine, so trained weights stay valid.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests;
