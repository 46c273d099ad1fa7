//! Tests of the two hash forms and the checker shared by tokens and gateway keys.

use super::*;

fn sha256_hex(text: &str) -> String {
    sha256(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn both_forms_match_their_secret_only() {
    let checker = HashChecker::new();
    let sha = SecretHash::parse(&format!("sha256:{}", sha256_hex("s3cret"))).expect("sha256 form");
    let bcrypt = SecretHash::parse(&bcrypt::hash("s3cret", 4).expect("hash")).expect("bcrypt form");
    assert!(!sha.is_bcrypt() && bcrypt.is_bcrypt());
    for hash in [&sha, &bcrypt, &SecretHash::sha256_of("s3cret")] {
        assert!(checker.matches(hash, "s3cret"), "{hash:?}");
        assert!(!checker.matches(hash, "s3cret "), "{hash:?}");
        assert!(!checker.matches(hash, ""), "{hash:?}");
    }
    // A second look is answered from the cache, the same way.
    assert!(checker.matches(&bcrypt, "s3cret") && !checker.matches(&bcrypt, "wrong"));
}

#[test]
fn anything_but_the_two_forms_is_refused_with_how_to_make_one() {
    for text in ["", "s3cret", "sha256:abc", &format!("sha256:{}", "g".repeat(64)), "$2y$10$short"] {
        let message = SecretHash::parse(text).expect_err(text);
        assert!(message.contains("sha256") || message.contains("64 hex digits"), "{text}: {message}");
    }
}

#[test]
fn debug_output_names_the_form_and_never_the_hash() {
    let hash = SecretHash::parse(&format!("sha256:{}", sha256_hex("s3cret"))).expect("sha256 form");
    assert_eq!(format!("{hash:?}"), "SecretHash(sha256)");
}
