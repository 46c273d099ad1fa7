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
fn finds_us_and_uk_street_addresses() {
    let street = |value| [(value, PiiType::StreetAddress)];
    check(
        "Mail 1600 Pennsylvania Ave NW, Washington, DC 20500 today",
        &street("1600 Pennsylvania Ave NW, Washington, DC 20500"),
    );
    check("at 742 Evergreen Terrace, Springfield if", &street("742 Evergreen Terrace, Springfield"));
    check("ship to 12 Maple Street, Apt 4B by noon", &street("12 Maple Street, Apt 4B"));
    check("ship to 300 Harbor View Blvd Suite 210 by noon", &street("300 Harbor View Blvd Suite 210"));
    check("ship to 9 Oak Lane #12 by noon", &street("9 Oak Lane #12"));
    check(
        "ship to 41 Cedar Court, Unit 5, Austin, TX 78701 by noon",
        &street("41 Cedar Court, Unit 5, Austin, TX 78701"),
    );
    check("write to 10 Downing Street, London SW1A 2AA now", &street("10 Downing Street, London SW1A 2AA"));
    check("write to 18 Park Crescent, Leeds LS1 4DY now", &street("18 Park Crescent, Leeds LS1 4DY"));
}

#[test]
fn finds_po_boxes() {
    let street = |value| [(value, PiiType::StreetAddress)];
    check("send it to P.O. Box 1234 please", &street("P.O. Box 1234"));
    check("send it to PO Box 77, Austin TX 78701 please", &street("PO Box 77, Austin TX 78701"));
    check("send it to P.O. Box 5, Denver, CO 80202 please", &street("P.O. Box 5, Denver, CO 80202"));
    check("send it to Post Office Box 310 please", &street("Post Office Box 310"));
}

#[test]
fn finds_european_street_addresses() {
    let street = |value| [(value, PiiType::StreetAddress)];
    check("bei Hauptstraße 12, 10115 Berlin abholen", &street("Hauptstraße 12, 10115 Berlin"));
    check("im Musterweg 5a wohnen", &street("Musterweg 5a"));
    check("an Bahnhofstrasse 1, 8001 Zürich senden", &street("Bahnhofstrasse 1, 8001 Zürich"));
    check("an Karl-Marx-Allee 3 senden", &street("Karl-Marx-Allee 3"));
    check("an Berliner Straße 5, 1010 Wien senden", &street("Berliner Straße 5, 1010 Wien"));
    check("op Keizersgracht 123, 1015 CJ Amsterdam graag", &street("Keizersgracht 123, 1015 CJ Amsterdam"));
    check("op Leidsestraat 146-H graag", &street("Leidsestraat 146-H"));
    check("au 12 rue de la Paix, 75002 Paris merci", &street("12 rue de la Paix, 75002 Paris"));
    check("au 8 bis quai d'Orsay, 75007 Paris merci", &street("8 bis quai d'Orsay, 75007 Paris"));
    check("au 101 avenue des Champs-Élysées merci", &street("101 avenue des Champs-Élysées"));
    check("en Calle Mayor 5, 28013 Madrid por favor", &street("Calle Mayor 5, 28013 Madrid"));
    check("en Calle Mayor, 67 por favor", &street("Calle Mayor, 67"));
    check("en Paseo de Gracia 43, 08007 Barcelona por favor", &street("Paseo de Gracia 43, 08007 Barcelona"));
    check("in Via Roma 10, 00184 Roma grazie", &street("Via Roma 10, 00184 Roma"));
    check("in Viale dei Mille 9 grazie", &street("Viale dei Mille 9"));
}

#[test]
fn finds_international_phone_numbers() {
    let phone = |value| [(value, PiiType::PhoneNumber)];
    check("call +14155552671 now", &phone("+14155552671"));
    check("call +44 20 7946 0958 now", &phone("+44 20 7946 0958"));
    check("call +49 30 123456 now", &phone("+49 30 123456"));
    check("call +33 1 42 68 53 00 now", &phone("+33 1 42 68 53 00"));
    check("call +81 3-1234-5678 now", &phone("+81 3-1234-5678"));
    check("call +91 98765 43210 now", &phone("+91 98765 43210"));
    check("call 0044 20 7946 0958 now", &phone("0044 20 7946 0958"));
    check("call +44 (0)20 7946 0958 now", &phone("+44 (0)20 7946 0958"));
    check("call (0)20 7946 0958 now", &phone("(0)20 7946 0958"));
    check("call 030 1234567 now", &phone("030 1234567"));
    check("call 089/1234567 now", &phone("089/1234567"));
}

#[test]
fn phone_numbers_keep_their_extensions() {
    let phone = |value| [(value, PiiType::PhoneNumber)];
    check("call (555) 123-4567 ext. 123 now", &phone("(555) 123-4567 ext. 123"));
    check("call +1 415 555 2671 x45 now", &phone("+1 415 555 2671 x45"));
    check("call 555-123-4567x7 now", &phone("555-123-4567x7"));
    check("call 555-123-4567 #200 now", &phone("555-123-4567 #200"));
    check("call +44 20 7946 0958, ext. 3310 now", &phone("+44 20 7946 0958, ext. 3310"));
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
fn leaves_numbers_that_are_no_address_or_phone_alone() {
    // Versions, dates and timestamps.
    check("Upgrade to v2.14.3-rc.1 or 3.12.100.", &[]);
    check("Python 3.12.1 and Node 20.11.0 are supported.", &[]);
    check("Logged 2024-03-05 14:22:01.123456 by the worker.", &[]);
    check("Am 05.03.2024 um 14:22 Uhr beginnt die Wartung.", &[]);
    check("Scheduled for 03/05/2025 2:22 PM, then 2025-03-05T14:22:00+01:00.", &[]);
    // Order, invoice and ticket numbers.
    check("Order #12345678 shipped; invoice INV-2024-000123 is attached.", &[]);
    check("Your order number is 123-4567890-1234567.", &[]);
    check("Order no. 415-555-0199 has shipped.", &[]);
    check("Ticket 4821-009123 was closed and refund ref 4155552671 issued.", &[]);
    // Hashes, identifiers and book numbers.
    check("Fixed in 3f78685, merged as 3f786850e387550fdab836ed7e6dc881de23001b.", &[]);
    check("Trace 123e4567-e89b-42d3-a456-426614174000 and span 00f067aa0ba902b7.", &[]);
    check("ISBN 978-3-16-148410-0 and ISBN 0-306-40615-2, ISBN-13 9780306406157.", &[]);
    // Prices, tables, code and mathematics.
    check("It costs $1,299.99 or €1.234,56 incl. VAT, about USD 12,345,678.00 in total.", &[]);
    check("| Q1 | 1204 | 5531 |\n| Q2 | 2210 | 6120 |", &[]);
    check("region  2023  2024\nnorth   1204  5531\nsouth   2210  6120", &[]);
    check("year,visits,orders\n2024,120456,30211", &[]);
    check("x = 1234 + 5678", &[]);
    check("for (int i = 0; i < 1000000; i++) total += 4096 * i;", &[]);
    check("assert add(12345, 67890) == 80235\nport = 8080; timeout_ms = 30000", &[]);
    check("12345 * 6789 = 83810205 and 2^32 = 4294967296.", &[]);
    check("Solve (555 + 123) * 4567 - 890 / 7.", &[]);
    // Prose with numbers and capitalised words.
    check("In 1999 the 300 soldiers marched 120 miles in 3 days.", &[]);
    check("See Section 12, Article 5 of the 1948 convention.", &[]);
    check("Chapter 3 Street Fighter tips are in the appendix.", &[]);
    check("We bought 2 TB Hard Drive units and 3 Google Drive plans.", &[]);
    check("Spring 2024 collection: 12 new styles.", &[]);
    check("Level 4 Main Boss guide, part 2.", &[]);
    check("Top 10 Avenue Q songs; sent Via Email 3 times; the Plaza Hotel 5 stars.", &[]);
    // Scores and statistics.
    check("The Lakers beat the Celtics 112-104; final score 3-1, attendance 45,123.", &[]);
    check("Bayern 2, Dortmund 1 after 94 minutes.", &[]);
    check("Population 8 336 817 in 2019; area 783 km².", &[]);
    check("Epoch 1699999999 maps to build 4471.", &[]);
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
