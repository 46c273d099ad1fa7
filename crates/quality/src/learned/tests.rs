//! The embedded classifiers load, each scorer with its version.

use super::*;

#[test]
fn the_embedded_classifiers_load_with_a_version_per_scorer() {
    let learned = Learned::embedded().expect("embedded files parse");
    for scorer in ["toxicity", "refusal", "harmful", "jailbreak"] {
        let entry = learned.entry(scorer);
        assert!(entry.version.starts_with(scorer), "{}", entry.version);
        assert!((0.0..=1.0).contains(&entry.threshold));
    }
}
