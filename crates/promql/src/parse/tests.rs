//! Unit tests of parsing: the info() placeholder, and where syntax errors are reported.

use super::*;

fn check_rewrite(query: &str, expect: Option<&str>) {
    assert_eq!(with_info_placeholders(query).as_deref(), expect, "{query}");
}

#[test]
fn info_selectors_get_a_placeholder() {
    check_rewrite(r#"info(m, {data=~".*"})"#, Some(r#"info(m, {__infersight_info_placeholder__="1",data=~".*"})"#));
    check_rewrite(r#"info(m, {})"#, Some(r#"info(m, {__infersight_info_placeholder__="1"})"#));
    check_rewrite(
        r#"info(rate(m[5m]), {a=""}) + info(x, {b=~".*"})"#,
        Some(
            r#"info(rate(m[5m]), {__infersight_info_placeholder__="1",a=""}) + info(x, {__infersight_info_placeholder__="1",b=~".*"})"#,
        ),
    );
    check_rewrite(r#"info(m)"#, None);
    check_rewrite(r#"sum(m, {a=""})"#, None);
}

#[test]
fn info_selectors_matching_the_empty_string_parse() {
    assert!(parse(r#"info(m, {data=~".*"})"#).is_ok());
    assert!(parse(r#"{data=~".*"}"#).is_err());
}

fn check_error(query: &str, expect: &str) {
    match parse(query) {
        Ok(expr) => panic!("{query:?} parsed as {expr}"),
        Err(Error::Parse { message }) => assert_eq!(message, expect, "{query:?}"),
        Err(other) => panic!("{query:?}: {other:?}"),
    }
}

#[test]
fn lexer_errors_are_at_the_offending_character() {
    check_error("foo{a=\"b\" % }", "1:11: parse error: unexpected character inside braces: '%'");
    check_error("foo $ bar", "1:5: parse error: unexpected character: '$'");
    check_error("foo[5m}", "1:7: parse error: unexpected character inside brackets: '}'");
    check_error("a + b)", "1:6: parse error: unexpected right parenthesis ')'");
    check_error("foo{a=\"b", "1:7: parse error: unterminated quoted string \"");
}

#[test]
fn lexer_errors_about_the_end_are_at_the_end() {
    check_error("sum(rate(foo[5m])", "1:18: parse error: unclosed left parenthesis");
    check_error("foo{a=\"b\"", "1:10: parse error: unexpected end of input inside braces");
    check_error("   ", "1:1: parse error: no expression found in input");
}

#[test]
fn grammar_errors_are_at_the_first_token_no_query_can_continue_with() {
    check_error("foo bar", "1:5: parse error: unexpected identifier \"bar\"");
    check_error("foo + * bar", "1:7: parse error: unexpected <op:*>");
    check_error("sum(foo) by (a) by (b)", "1:17: parse error: unexpected <by>");
    check_error("foo{a=\"b\" c=\"d\"}", "1:11: parse error: unexpected identifier \"c\"");
    check_error("sum(foo) by (a) {c=\"d\"}", "1:17: parse error: unexpected \"{\"");
    check_error("rate(foo[5m] 1)", "1:14: parse error: unexpected number \"1\"");
    check_error("topk(1, foo) offset sum", "1:21: parse error: unexpected <aggr:sum>");
}

#[test]
fn grammar_errors_at_the_end_say_so() {
    check_error("foo +", "1:6: parse error: unexpected end of input");
    check_error("sum by (a)", "1:11: parse error: unexpected end of input");
    check_error("rate(sum by (a) + 1)", "1:17: parse error: unexpected <op:+>");
}

#[test]
fn positions_count_lines_and_columns() {
    check_error("sum(foo)\n  by (a)\n  bar", "3:3: parse error: unexpected identifier \"bar\"");
}

#[test]
fn type_errors_keep_the_parsers_message() {
    check_error("rate(foo)", &parser::parse("rate(foo)").expect_err("a type error"));
    check_error("{}", "vector selector must contain at least one non-empty matcher");
    check_error("foo{a}", "invalid label matcher, expected label matching operator after 'a'");
    check_error("foo offset 5m offset 5m", "offset may not be set multiple times");
}

#[test]
fn long_queries_are_located_quickly() {
    let sum = "sum(rate(foo{a=\"b\"}[5m])) + ".repeat(130);
    let started = std::time::Instant::now();
    check_error(&format!("{sum} * bar"), &format!("1:{}: parse error: unexpected <op:*>", sum.len() + 2));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn every_prefix_of_a_query_parses_or_fails_without_panicking() {
    let queries = [
        r#"sum by (job) (rate(http_requests_total{job=~"api|web", code!="500"}[5m] offset 1m @ 100)) / on(job) group_left(env) info(x, {env=~".+"})"#,
        r#"histogram_quantile(0.9, sum without (pod) (rate(é_bucket{"ünï"="ç"}[5m:1m])))  # comment"#,
        "topk(3, -foo{a=\"\\x\"} ^ 2 atan2 bar) or fill(0) baz\n  unless ignoring(a) bool x",
    ];
    for query in queries {
        for (end, _) in query.char_indices().chain([(query.len(), ' ')]) {
            let _ = parse(&query[..end]);
        }
    }
}

#[test]
fn a_query_nested_past_the_limit_is_a_parse_error_not_a_stack_overflow() {
    let chain = vec!["up"; 200_001].join(" + ");
    let message = parse(&chain).expect_err("too deep").to_string();
    assert!(message.contains("too deeply nested") && message.contains("200000 operators"), "{message}");
    let parens = format!("{}up{}", "(".repeat(50_000), ")".repeat(50_000));
    assert!(parse(&parens).expect_err("too deep").to_string().contains("50000 levels"));
    // Up to the limit parses, and matchers are not operators.
    assert!(parse(&vec!["up"; MAX_NESTING].join(" + ")).is_ok());
    assert!(parse(&format!("{}up{}", "abs(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING))).is_ok());
    let matchers: Vec<String> = (0..2_000).map(|i| format!("l{i}=~\"v\"")).collect();
    assert!(parse(&format!("up{{{}}}", matchers.join(","))).is_ok());
}
