//! Specification of the PII scorer: what it finds, and what it must leave alone.

use super::*;

fn check(text: &str, expect: &[(&str, PiiType)]) {
    let pii = shared();
    let found: Vec<(String, PiiType)> =
        pii.find_bytes(text).into_iter().map(|found| (text[found.start..found.end].to_string(), found.kind)).collect();
    let expect: Vec<(String, PiiType)> = expect.iter().map(|(value, kind)| ((*value).to_string(), *kind)).collect();
    assert_eq!(found, expect, "in {text:?}");
}

#[test]
fn finds_contact_details() {
    check("mail jane.doe@example.co.uk now", &[("jane.doe@example.co.uk", PiiType::EmailAddress)]);
    check("call (555) 123-4567 today", &[("(555) 123-4567", PiiType::PhoneNumber)]);
    check("or +44 20 7946 0958.", &[("+44 20 7946 0958", PiiType::PhoneNumber)]);
    check("lives at 221 Baker Street, London", &[("221 Baker Street, London", PiiType::StreetAddress)]);
}

#[test]
fn finds_numbers_only_with_valid_checksums() {
    check("card 4111 1111 1111 1111 ok", &[("4111 1111 1111 1111", PiiType::CreditCard)]);
    check("card 4111 1111 1111 1112 bad", &[]);
    check("ssn 536-22-8724", &[("536-22-8724", PiiType::UsSsn)]);
    check("ssn 123-45-6789 is the textbook example", &[]);
    check("ssn 666-45-6789 and 900-12-3456", &[]);
    check("IBAN GB82 WEST 1234 5698 7654 32", &[("GB82 WEST 1234 5698 7654 32", PiiType::IbanCode)]);
    check("IBAN GB83 WEST 1234 5698 7654 32", &[]);
}

#[test]
fn finds_addresses_of_machines() {
    check("host 192.168.1.20 up", &[("192.168.1.20", PiiType::IpAddress)]);
    check("v6 2001:db8::8a2e:370:7334 up", &[("2001:db8::8a2e:370:7334", PiiType::IpAddress)]);
}

#[test]
fn finds_secrets() {
    check("key AKIAIOSFODNN7EXAMPLE", &[("AKIAIOSFODNN7EXAMPLE", PiiType::Secret)]);
    check(
        "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        &[("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", PiiType::Secret)],
    );
    check("api_key = \"q8Zr2LmX9vT4pWk7Jd3N\"", &[("q8Zr2LmX9vT4pWk7Jd3N", PiiType::Secret)]);
    check("api_key = \"YOUR_API_KEY_HERE\"", &[]);
    let block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
    check(block, &[(block, PiiType::Secret)]);
}

#[test]
fn finds_people() {
    check("Please ask Maria Gonzalez.", &[("Maria Gonzalez", PiiType::Person)]);
    check("Dr. Smith will see you", &[("Dr. Smith", PiiType::Person)]);
    check("Patient Jane Doe was seen.", &[("Jane Doe", PiiType::Person)]);
    check("Dear Oluwadamilare Adeyemi, thanks.", &[("Oluwadamilare Adeyemi", PiiType::Person)]);
    check("Hello World in C. Hi Team!", &[]);
}

#[test]
fn leaves_hard_negatives_alone() {
    check("commit 3f786850e387550fdab836ed7e6dc881de23001b", &[]);
    check("id 123e4567-e89b-12d3-a456-426614174000", &[]);
    check("ISBN 978-0-306-40615-7", &[]);
    check("upgrade to version 1.2.3.4 now", &[]);
    check("at 2023-10-12T14:33:21Z and 2023-10-12 14:33:21", &[]);
    check("epoch 1699999999999", &[]);
    check("use std::vec::Vec and a::b", &[]);
}

#[test]
fn offsets_count_code_points() {
    let spans = shared().find("日本 bob@example.com");
    assert_eq!(spans, vec![Span { start: 3, end: 18, kind: PiiType::EmailAddress }]);
}

#[test]
fn redact_replaces_spans_by_their_type() {
    assert_eq!(redact("mail bob@example.com or call 555-123-4567"), "mail [EMAIL_ADDRESS] or call [PHONE_NUMBER]");
}

#[test]
fn odd_input_does_not_panic() {
    for text in ["", "🙂🙂🙂", "ñ@é.com", "-----BEGIN PRIVATE KEY-----", "((((((((((", "١٢٣-٤٥-٦٧٨٩"] {
        let _ = shared().find(text);
        let _ = redact(text);
    }
}
