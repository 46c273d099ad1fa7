//! Specification of the JSON scorer: what a strict parser accepts whole, in
//! a fence or in prose, and what it must reject without repairing.

use serde_json::json;

use super::*;

/// `expect` is `(json_valid, json_extractable, schema_valid)`.
fn check(response: &str, schema: Option<Value>, expect: (bool, bool, bool)) {
    let checks = Json.check(response, schema.as_ref()).expect("schemas in tests are valid");
    assert_eq!((checks.json_valid, checks.json_extractable, checks.schema_valid), expect, "{response:?}");
}

fn person() -> Option<Value> {
    Some(json!({"type": "object", "required": ["name", "age"], "properties": {"age": {"type": "integer"}}}))
}

const NONE: (bool, bool, bool) = (false, false, false);

#[test]
fn finds_json_whole_fenced_or_in_prose() {
    check(r#"{"a": 1}"#, None, (true, true, true));
    check("  \n{\"a\": 1}\n\n", None, (true, true, true));
    check("42", None, (true, true, true));
    check("Here you go:\n```json\n{\"a\": 1}\n```\nDone.", None, (false, true, true));
    check("```\n{\"a\": 1}\n```", None, (false, true, true));
    check(r#"The result is {"a": 1} as requested."#, None, (false, true, true));
    check("The list is [1, 2, 3] and that is all.", None, (false, true, true));
    check("No JSON here, just [brackets and {braces.", None, NONE);
    check("The answer is 42.", None, NONE);
    check("", None, NONE);
}

#[test]
fn rejects_what_a_strict_parser_rejects() {
    check(r#"{"a": 1,}"#, None, NONE);
    check("[1, 2, 3,]", None, NONE);
    check(r#"{"name": "A", "age": 3, "tags": ["x",], "meta": {"k": 1}}"#, person(), NONE);
    check(r#"[{"name": "A", "age": 3},]"#, person(), NONE);
    check("{'name': 'A', 'age': 3}", None, NONE);
    check(r#"Sure: {"name": 'A', "age": 3}"#, None, NONE);
    check("{\n  // the customer\n  \"name\": \"A\"\n}", None, NONE);
    check(r#"{"name": "A", /* years */ "age": 3}"#, None, NONE);
    check(r#"{name: "A", age: 3}"#, None, NONE);
    check(r#"{"ok": True, "spouse": None}"#, None, NONE);
    check(r#"{"age": NaN}"#, None, NONE);
    check("In JSON that would be [name, age].", None, NONE);
}

#[test]
fn truncated_json_yields_none_of_its_nested_values() {
    check(r#"{"name": "A", "age": 3"#, None, NONE);
    check(r#"{"name": "A", "address": {"city": "Lyon"}, "age": "#, None, NONE);
    check("```json\n{\"name\": \"A\",\n", None, NONE);
}

#[test]
fn fences_must_hold_strict_json() {
    check("```json\n{\"a\": 1,}\n```", None, NONE);
    check("First:\n```json\n{\"a\": 1,}\n```\nFixed:\n```json\n{\"a\": 2}\n```", None, (false, true, true));
}

#[test]
fn brackets_inside_strings_do_not_count() {
    check(r#"{"name": "A {the} } first", "age": 3}"#, person(), (true, true, true));
    check(r#"Result: {"name": "x}{\"", "age": 3} done."#, person(), (false, true, true));
    check(r#"{"a": {"b": {"c": [1, {"d": "}"}]}}}"#, None, (true, true, true));
}

#[test]
fn of_several_values_the_first_one_counts() {
    check(r#"Two: {"name": "A", "age": 3} and {"name": "B", "age": 4}."#, person(), (false, true, true));
    check("{\"name\": \"A\", \"age\": 3}\n{\"name\": \"B\", \"age\": 4}", person(), (false, true, true));
    check(r#"Either {"age": 3} or {"name": "B", "age": 4}."#, person(), (false, true, false));
    check(r#"Broken {"a": 1,} then fixed {"name": "B", "age": 4}."#, person(), (false, true, true));
    check(r#"Use {braces} carefully; the answer is {"name": "B", "age": 4}."#, person(), (false, true, true));
}

#[test]
fn checks_the_schema_of_what_it_found() {
    let schema = json!({"type": "object", "required": ["a"]});
    check(r#"{"b": 1}"#, Some(schema.clone()), (true, true, false));
    check(r#"prose {"a": 1}"#, Some(schema), (false, true, true));
}

#[test]
fn rejects_invalid_schemas() {
    let schema = json!({"type": 5});
    assert!(Json.check("{}", Some(&schema)).is_err());
}

#[test]
fn unclosed_regions_are_scanned_a_bounded_number_of_times() {
    let text = "{x ".repeat(100_000) + r#"{"a": 1}"#;
    check(&text, None, NONE);
    let text = "[".repeat(100_000);
    check(&text, None, NONE);
}
