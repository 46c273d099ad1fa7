//! Model patterns and the order upstreams are tried in.

use std::time::Duration;

use super::*;

#[test]
fn patterns_match_exact_names_and_globs() {
    for (pattern, model, expect) in [
        ("llama-3-8b", "llama-3-8b", true),
        ("llama-3-8b", "llama-3-8b-instruct", false),
        ("llama-*", "llama-3-8b", true),
        ("llama-*", "llama-", true),
        ("llama-*", "mistral", false),
        ("*-instruct", "qwen-7b-instruct", true),
        ("gpt-?o", "gpt-4o", true),
        ("gpt-?o", "gpt-40o", false),
        ("*a*b*", "xxaxxbxx", true),
        ("*a*b", "xxaxxbxxc", false),
        ("*", "", true),
    ] {
        assert_eq!(ModelPattern::new(pattern).matches(model), expect, "{pattern} ~ {model}");
    }
}

fn upstream(name: &str, models: &[&str]) -> Arc<Upstream> {
    let settings = UpstreamSettings {
        name: name.into(),
        base_url: "http://127.0.0.1:1/v1".into(),
        server_address: "127.0.0.1:1".into(),
        models: models.iter().map(|m| ModelPattern::new(m)).collect(),
        api_key: None,
        provider: "openai".into(),
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
    };
    Arc::new(Upstream::new(settings).expect("client builds"))
}

fn names(candidates: &[Arc<Upstream>]) -> Vec<&str> {
    candidates.iter().map(|u| u.settings.name.as_str()).collect()
}

#[test]
fn candidates_take_turns_and_the_rest_follow_for_failover() {
    let routes =
        Routes::new(vec![upstream("a", &["llama-*"]), upstream("b", &["gpt-4o"]), upstream("c", &["llama-*"])]);
    assert_eq!(names(&routes.candidates("llama-3")), ["a", "c"]);
    assert_eq!(names(&routes.candidates("llama-3")), ["c", "a"]);
    assert_eq!(names(&routes.candidates("llama-3")), ["a", "c"]);
    assert_eq!(names(&routes.candidates("gpt-4o")), ["b"]);
    assert!(routes.candidates("mistral").is_empty());
}
