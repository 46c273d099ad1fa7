//! Secrets kept only as hashes: the `sha256:<hex>` or bcrypt form written in
//! the configuration ([`SecretHash`]), and the [`HashChecker`] that compares
//! what a client presents with them. `[[auth.token]]` and the gateway's
//! `[[gateway.key]]` share both, so one code path checks every hash.
//!
//! bcrypt is slow on purpose, so the checker caches each verdict under a
//! salted SHA-256 of the hash and the secret (never the secret itself),
//! failures included, and runs at most one bcrypt comparison at a time, as
//! exporter-toolkit does.

use std::collections::HashMap;
use std::fmt;

use parking_lot::Mutex;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};

use crate::web_config::check_bcrypt;

/// A secret's hash as the configuration writes it: `"sha256:<64 hex
/// digits>"` or a bcrypt hash. Its `Debug` output names the form only.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(Form);

#[derive(Clone, PartialEq, Eq)]
enum Form {
    Sha256([u8; 32]),
    Bcrypt(String),
}

impl SecretHash {
    /// Reads a hash in either form.
    ///
    /// # Errors
    ///
    /// A message naming both forms and how to make each, for any other text.
    pub fn parse(text: &str) -> Result<SecretHash, String> {
        if let Some(hex) = text.strip_prefix("sha256:") {
            let bytes = decode_hex(hex)
                .filter(|b| b.len() == 32)
                .ok_or_else(|| "\"sha256:\" must be followed by 64 hex digits".to_owned())?;
            let mut digest = [0; 32];
            digest.copy_from_slice(&bytes);
            return Ok(SecretHash(Form::Sha256(digest)));
        }
        check_bcrypt(text).map_err(|_| {
            "is neither \"sha256:<64 hex digits>\" (`printf %s TOKEN | sha256sum`) nor a bcrypt hash \
             (`infersight hash-password`)"
                .to_owned()
        })?;
        Ok(SecretHash(Form::Bcrypt(text.to_owned())))
    }

    /// The SHA-256 form of `secret`, for secrets made by infersight itself.
    pub fn sha256_of(secret: &str) -> SecretHash {
        SecretHash(Form::Sha256(sha256(secret.as_bytes())))
    }

    /// Whether checking it runs bcrypt (tens of milliseconds the first time
    /// a secret is presented): callers on async threads move such checks off them.
    pub fn is_bcrypt(&self) -> bool {
        matches!(self.0, Form::Bcrypt(_))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Form::Sha256(_) => "SecretHash(sha256)",
            Form::Bcrypt(_) => "SecretHash(bcrypt)",
        })
    }
}

/// Entries of the verdict cache; past this it is emptied, so a flood of
/// wrong secrets cannot grow it.
const CACHE_ENTRIES: usize = 4096;

/// Compares presented secrets with [`SecretHash`]es and bcrypt hashes.
pub struct HashChecker {
    salt: [u8; 16],
    cache: Mutex<HashMap<[u8; 32], bool>>,
    /// Held while bcrypt runs, so that at most one comparison uses a core.
    bcrypt: Mutex<()>,
}

impl fmt::Debug for HashChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashChecker").finish_non_exhaustive()
    }
}

impl Default for HashChecker {
    fn default() -> HashChecker {
        HashChecker::new()
    }
}

impl HashChecker {
    /// A checker with an empty cache and a fresh salt.
    ///
    /// # Panics
    ///
    /// If the system's random number generator fails.
    pub fn new() -> HashChecker {
        let mut salt = [0; 16];
        SystemRandom::new().fill(&mut salt).expect("the system random number generator works");
        HashChecker { salt, cache: Mutex::new(HashMap::new()), bcrypt: Mutex::new(()) }
    }

    /// Whether `secret` is the one `hash` was made from. SHA-256 hashes are
    /// compared in constant time; bcrypt may take tens of milliseconds the
    /// first time (see [`SecretHash::is_bcrypt`]).
    pub fn matches(&self, hash: &SecretHash, secret: &str) -> bool {
        match &hash.0 {
            Form::Sha256(expected) => constant_time_eq(&sha256(secret.as_bytes()), expected),
            Form::Bcrypt(hash) => self.bcrypt_matches(hash, secret),
        }
    }

    /// bcrypt's verdict on `secret` against `hash` (a bcrypt hash; anything
    /// else never matches), cached.
    pub fn bcrypt_matches(&self, hash: &str, secret: &str) -> bool {
        let mut context = digest::Context::new(&digest::SHA256);
        context.update(&self.salt);
        for part in [hash, secret] {
            context.update(&(part.len() as u64).to_le_bytes());
            context.update(part.as_bytes());
        }
        let mut key = [0; 32];
        key.copy_from_slice(context.finish().as_ref());
        if let Some(ok) = self.cache.lock().get(&key) {
            return *ok;
        }
        let ok = {
            let _one_at_a_time = self.bcrypt.lock();
            bcrypt::verify(secret, hash).unwrap_or(false)
        };
        let mut cache = self.cache.lock();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, ok);
        ok
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

/// Whether `a` and `b` are equal, in a time that depends on their lengths only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests;
