//! Specification of the JSON Schema subset.

use serde_json::json;

use super::*;

fn check(schema: Value, instance: Value, valid: bool) {
    let compiled = Schema::compile(&schema).expect("test schemas are valid");
    assert_eq!(compiled.is_valid(&instance), valid, "{instance} against {schema}");
}

fn check_invalid(schema: Value, expect_in_message: &str) {
    let message = Schema::compile(&schema).map(|_| ()).expect_err("schema should be rejected").to_string();
    assert!(message.contains(expect_in_message), "{message:?} lacks {expect_in_message:?}");
}

#[test]
fn objects_need_required_typed_properties() {
    let schema = json!({"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}, "required": ["age"], "additionalProperties": false});
    check(schema.clone(), json!({"age": 3}), true);
    check(schema.clone(), json!({"age": -1}), false);
    check(schema.clone(), json!({"age": 3.5}), false);
    check(schema.clone(), json!({}), false);
    check(schema, json!({"age": 3, "extra": 1}), false);
}

#[test]
fn strings_arrays_and_combinators() {
    check(json!({"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^a"}), json!("ab"), true);
    check(json!({"type": "string", "minLength": 2}), json!("é"), false);
    check(json!({"type": "array", "items": {"enum": [1, 2]}, "minItems": 1}), json!([1, 2, 1]), true);
    check(json!({"type": "array", "items": {"enum": [1, 2]}}), json!([3]), false);
    check(json!({"oneOf": [{"type": "integer"}, {"type": "number"}]}), json!(1), false);
    check(json!({"anyOf": [{"type": "integer"}, {"const": "x"}]}), json!("x"), true);
    check(json!({"allOf": [{"minimum": 1}, {"maximum": 2}]}), json!(3), false);
    check(json!({"$defs": {"n": {"type": "number"}}, "items": {"$ref": "#/$defs/n"}}), json!([1, "a"]), false);
}

#[test]
fn malformed_schemas_are_named() {
    check_invalid(json!({"type": "strng"}), "#/type");
    check_invalid(json!({"properties": {"a": {"minLength": -1}}}), "#/properties/a/minLength");
    check_invalid(json!({"pattern": "("}), "#/pattern");
    check_invalid(json!({"required": "a"}), "#/required");
    check_invalid(json!({"$ref": "#/nowhere"}), "#/$ref");
    check_invalid(json!(3), "#");
}
