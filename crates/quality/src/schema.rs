//! The common subset of JSON Schema: type, properties, required,
//! additionalProperties, items/prefixItems, enum, const, numeric and length
//! bounds, pattern, anyOf/oneOf/allOf/not and local `$ref`s. Unknown
//! keywords are ignored, as the specification asks; keywords we know with a
//! value of the wrong shape are errors naming the keyword's path.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use regex::Regex;
use serde_json::{Map, Value};

use crate::{Error, Result};

/// Deepest nesting of schemas (or `$ref` chains) we follow.
const MAX_DEPTH: usize = 64;

/// Most subschema checks one validation may make: recursive `$ref`s under
/// `anyOf` could otherwise take exponential time. Past it the instance is
/// reported invalid.
const MAX_STEPS: usize = 1_000_000;

/// A schema that has been checked and whose patterns are compiled.
#[derive(Debug)]
pub struct Schema<'a> {
    root: &'a Value,
    patterns: HashMap<String, Regex>,
    steps: Cell<usize>,
}

impl<'a> Schema<'a> {
    /// Checks `root` and compiles its patterns.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSchema`] naming the JSON pointer of the first
    /// malformed keyword, an unresolvable `$ref` or a bad `pattern`.
    pub fn compile(root: &'a Value) -> Result<Self> {
        let mut schema = Schema { root, patterns: HashMap::new(), steps: Cell::new(0) };
        schema.check(root, "#", 0)?;
        Ok(schema)
    }

    /// Whether `instance` satisfies the schema.
    pub fn is_valid(&self, instance: &Value) -> bool {
        self.steps.set(0);
        self.validate(self.root, instance, 0)
    }

    fn check(&mut self, schema: &Value, path: &str, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(invalid(path, "schema nested too deeply"));
        }
        let object = match schema {
            Value::Bool(_) => return Ok(()),
            Value::Object(object) => object,
            _ => return Err(invalid(path, "a schema must be an object or a boolean")),
        };
        for (keyword, value) in object {
            let here = format!("{path}/{keyword}");
            match keyword.as_str() {
                "type" => check_type(value, &here)?,
                "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                    let map = value.as_object().ok_or_else(|| invalid(&here, "must be an object of schemas"))?;
                    for (name, sub) in map {
                        if keyword == "patternProperties" {
                            self.compile_pattern(name, &here)?;
                        }
                        self.check(sub, &format!("{here}/{name}"), depth + 1)?;
                    }
                }
                "required" => {
                    let names = value.as_array().ok_or_else(|| invalid(&here, "must be an array of strings"))?;
                    if !names.iter().all(Value::is_string) {
                        return Err(invalid(&here, "must be an array of strings"));
                    }
                }
                "items"
                | "additionalProperties"
                | "additionalItems"
                | "not"
                | "contains"
                | "propertyNames"
                | "if"
                | "then"
                | "else" => {
                    if let (true, Value::Array(list)) = (keyword == "items", value) {
                        for (idx, sub) in list.iter().enumerate() {
                            self.check(sub, &format!("{here}/{idx}"), depth + 1)?;
                        }
                    } else {
                        self.check(value, &here, depth + 1)?;
                    }
                }
                "prefixItems" | "anyOf" | "oneOf" | "allOf" => {
                    let list = value.as_array().ok_or_else(|| invalid(&here, "must be an array of schemas"))?;
                    if list.is_empty() && keyword != "prefixItems" {
                        return Err(invalid(&here, "must not be empty"));
                    }
                    for (idx, sub) in list.iter().enumerate() {
                        self.check(sub, &format!("{here}/{idx}"), depth + 1)?;
                    }
                }
                "enum" if !value.is_array() => {
                    return Err(invalid(&here, "must be an array"));
                }
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
                    if !(value.is_number() || keyword.starts_with("exclusive") && value.is_boolean()) {
                        return Err(invalid(&here, "must be a number"));
                    }
                    if keyword == "multipleOf" && value.as_f64().is_some_and(|step| step <= 0.0) {
                        return Err(invalid(&here, "must be greater than 0"));
                    }
                }
                "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties"
                    if value.as_u64().is_none() =>
                {
                    return Err(invalid(&here, "must be a non-negative integer"));
                }
                "uniqueItems" if !value.is_boolean() => {
                    return Err(invalid(&here, "must be a boolean"));
                }
                "pattern" => {
                    let pattern = value.as_str().ok_or_else(|| invalid(&here, "must be a string"))?;
                    self.compile_pattern(pattern, &here)?;
                }
                "$ref" => {
                    let reference = value.as_str().ok_or_else(|| invalid(&here, "must be a string"))?;
                    if self.resolve(reference).is_none() {
                        return Err(invalid(
                            &here,
                            &format!("cannot resolve {reference:?} (only local references are supported)"),
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn compile_pattern(&mut self, pattern: &str, path: &str) -> Result<()> {
        if !self.patterns.contains_key(pattern) {
            let regex =
                Regex::new(pattern).map_err(|err| invalid(path, &format!("invalid pattern {pattern:?}: {err}")))?;
            self.patterns.insert(pattern.to_string(), regex);
        }
        Ok(())
    }

    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(pointer)
    }

    fn validate(&self, schema: &Value, instance: &Value, depth: usize) -> bool {
        self.steps.set(self.steps.get() + 1);
        if depth > MAX_DEPTH || self.steps.get() > MAX_STEPS {
            return false;
        }
        let object = match schema {
            Value::Bool(allowed) => return *allowed,
            Value::Object(object) => object,
            _ => return false,
        };
        object.iter().all(|(keyword, value)| self.validate_keyword(object, keyword, value, instance, depth))
    }

    fn validate_keyword(
        &self,
        schema: &Map<String, Value>,
        keyword: &str,
        value: &Value,
        instance: &Value,
        depth: usize,
    ) -> bool {
        let sub = |schema: &Value, instance: &Value| self.validate(schema, instance, depth + 1);
        match keyword {
            "type" => match value {
                Value::String(name) => has_type(instance, name),
                Value::Array(names) => names.iter().filter_map(Value::as_str).any(|name| has_type(instance, name)),
                _ => false,
            },
            "enum" => value.as_array().is_some_and(|options| options.iter().any(|option| json_equal(option, instance))),
            "const" => json_equal(value, instance),
            "properties" => match (value.as_object(), instance.as_object()) {
                (Some(properties), Some(fields)) => {
                    properties.iter().all(|(name, prop)| fields.get(name).is_none_or(|field| sub(prop, field)))
                }
                _ => true,
            },
            "patternProperties" => match (value.as_object(), instance.as_object()) {
                (Some(patterns), Some(fields)) => patterns.iter().all(|(pattern, prop)| {
                    let regex = self.patterns.get(pattern.as_str());
                    fields
                        .iter()
                        .filter(|(name, _)| regex.is_some_and(|regex| regex.is_match(name)))
                        .all(|(_, field)| sub(prop, field))
                }),
                _ => true,
            },
            "additionalProperties" => match instance.as_object() {
                Some(fields) => {
                    let properties = schema.get("properties").and_then(Value::as_object);
                    let patterns = schema.get("patternProperties").and_then(Value::as_object);
                    fields
                        .iter()
                        .filter(|(name, _)| !properties.is_some_and(|props| props.contains_key(name.as_str())))
                        .filter(|(name, _)| {
                            !patterns.is_some_and(|patterns| {
                                patterns.keys().any(|pattern| {
                                    self.patterns.get(pattern.as_str()).is_some_and(|regex| regex.is_match(name))
                                })
                            })
                        })
                        .all(|(_, field)| sub(value, field))
                }
                None => true,
            },
            "required" => match instance.as_object() {
                Some(fields) => value
                    .as_array()
                    .is_some_and(|names| names.iter().filter_map(Value::as_str).all(|name| fields.contains_key(name))),
                None => true,
            },
            "propertyNames" => instance
                .as_object()
                .is_none_or(|fields| fields.keys().all(|name| sub(value, &Value::String(name.clone())))),
            "minProperties" => {
                instance.as_object().is_none_or(|fields| fields.len() as u64 >= value.as_u64().unwrap_or(0))
            }
            "maxProperties" => {
                instance.as_object().is_none_or(|fields| fields.len() as u64 <= value.as_u64().unwrap_or(u64::MAX))
            }
            "items" => match instance.as_array() {
                Some(elements) => match value {
                    Value::Array(tuple) => elements.iter().zip(tuple).all(|(element, item)| sub(item, element)),
                    _ => {
                        let skip = schema.get("prefixItems").and_then(Value::as_array).map_or(0, Vec::len);
                        elements.iter().skip(skip).all(|element| sub(value, element))
                    }
                },
                None => true,
            },
            "prefixItems" => match (instance.as_array(), value.as_array()) {
                (Some(elements), Some(tuple)) => elements.iter().zip(tuple).all(|(element, item)| sub(item, element)),
                _ => true,
            },
            "additionalItems" => match (instance.as_array(), schema.get("items").and_then(Value::as_array)) {
                (Some(elements), Some(tuple)) => elements.iter().skip(tuple.len()).all(|element| sub(value, element)),
                _ => true,
            },
            "contains" => instance.as_array().is_none_or(|elements| elements.iter().any(|element| sub(value, element))),
            "minItems" => {
                instance.as_array().is_none_or(|elements| elements.len() as u64 >= value.as_u64().unwrap_or(0))
            }
            "maxItems" => {
                instance.as_array().is_none_or(|elements| elements.len() as u64 <= value.as_u64().unwrap_or(u64::MAX))
            }
            "uniqueItems" => match (instance.as_array(), value.as_bool()) {
                (Some(elements), Some(true)) if elements.len() <= 64 => {
                    elements.iter().enumerate().all(|(idx, a)| elements[idx + 1..].iter().all(|b| !json_equal(a, b)))
                }
                // Long arrays: compare canonical text, linear instead of quadratic.
                (Some(elements), Some(true)) => {
                    let mut seen = HashSet::with_capacity(elements.len());
                    elements.iter().all(|element| seen.insert(canonical_text(element)))
                }
                _ => true,
            },
            "minLength" => {
                instance.as_str().is_none_or(|text| text.chars().count() as u64 >= value.as_u64().unwrap_or(0))
            }
            "maxLength" => {
                instance.as_str().is_none_or(|text| text.chars().count() as u64 <= value.as_u64().unwrap_or(u64::MAX))
            }
            "pattern" => match (instance.as_str(), value.as_str()) {
                (Some(text), Some(pattern)) => self.patterns.get(pattern).is_some_and(|regex| regex.is_match(text)),
                _ => true,
            },
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
                check_number(schema, keyword, value, instance)
            }
            "anyOf" => value.as_array().is_some_and(|list| list.iter().any(|option| sub(option, instance))),
            "allOf" => value.as_array().is_some_and(|list| list.iter().all(|option| sub(option, instance))),
            "oneOf" => {
                value.as_array().is_some_and(|list| list.iter().filter(|option| sub(option, instance)).count() == 1)
            }
            "not" => !sub(value, instance),
            "if" => {
                if sub(value, instance) {
                    schema.get("then").is_none_or(|then| sub(then, instance))
                } else {
                    schema.get("else").is_none_or(|otherwise| sub(otherwise, instance))
                }
            }
            "$ref" => {
                value.as_str().and_then(|reference| self.resolve(reference)).is_some_and(|target| sub(target, instance))
            }
            _ => true,
        }
    }
}

fn invalid(path: &str, reason: &str) -> Error {
    Error::InvalidSchema { path: path.to_string(), reason: reason.to_string() }
}

const TYPES: [&str; 7] = ["null", "boolean", "object", "array", "number", "string", "integer"];

fn check_type(value: &Value, path: &str) -> Result<()> {
    let known = |name: &str| TYPES.contains(&name);
    match value {
        Value::String(name) if known(name) => Ok(()),
        Value::String(name) => Err(invalid(path, &format!("unknown type {name:?}"))),
        Value::Array(names) => match names.iter().find(|name| !name.as_str().is_some_and(known)) {
            Some(bad) => Err(invalid(path, &format!("unknown type {bad}"))),
            None => Ok(()),
        },
        _ => Err(invalid(path, "must be a type name or an array of them")),
    }
}

fn has_type(instance: &Value, name: &str) -> bool {
    match name {
        "null" => instance.is_null(),
        "boolean" => instance.is_boolean(),
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "number" => instance.is_number(),
        "string" => instance.is_string(),
        "integer" => instance.as_f64().is_some_and(|number| number.fract() == 0.0),
        _ => false,
    }
}

fn check_number(schema: &Map<String, Value>, keyword: &str, value: &Value, instance: &Value) -> bool {
    let Some(number) = instance.as_f64() else {
        return true;
    };
    match (keyword, value) {
        // Draft 4 spelled exclusivity as a boolean beside minimum/maximum.
        ("exclusiveMinimum" | "exclusiveMaximum", Value::Bool(_)) => true,
        ("minimum", _) => {
            let bound = value.as_f64().unwrap_or(f64::NEG_INFINITY);
            if schema.get("exclusiveMinimum") == Some(&Value::Bool(true)) { number > bound } else { number >= bound }
        }
        ("maximum", _) => {
            let bound = value.as_f64().unwrap_or(f64::INFINITY);
            if schema.get("exclusiveMaximum") == Some(&Value::Bool(true)) { number < bound } else { number <= bound }
        }
        ("exclusiveMinimum", _) => number > value.as_f64().unwrap_or(f64::NEG_INFINITY),
        ("exclusiveMaximum", _) => number < value.as_f64().unwrap_or(f64::INFINITY),
        ("multipleOf", _) => value.as_f64().is_some_and(|step| {
            let ratio = number / step;
            (ratio - ratio.round()).abs() < 1e-9
        }),
        _ => true,
    }
}

/// A text form in which equal values (by [`json_equal`]) are equal.
fn canonical_text(value: &Value) -> String {
    match value {
        Value::Number(number) => number.as_f64().map_or_else(|| number.to_string(), |float| format!("{float:?}")),
        Value::Array(items) => format!("[{}]", items.iter().map(canonical_text).collect::<Vec<_>>().join(",")),
        Value::Object(fields) => {
            let mut entries: Vec<String> =
                fields.iter().map(|(key, field)| format!("{key:?}:{}", canonical_text(field))).collect();
            entries.sort_unstable();
            format!("{{{}}}", entries.join(","))
        }
        other => other.to_string(),
    }
}

/// JSON equality where `1` and `1.0` are the same number.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(key, x)| ys.get(key).is_some_and(|y| json_equal(x, y)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests;
