//! Tests of template parsing, expansion and Go's number formatting.

use std::collections::BTreeMap;

use super::*;

fn check(text: &str, value: f64, expect: &str) {
    let labels: BTreeMap<String, String> = [("instance", "gpu-1:9400"), ("model", "llama")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let external: BTreeMap<String, String> = [("cluster".to_owned(), "eu-1".to_owned())].into_iter().collect();
    let context =
        Context { labels: &labels, value, external_labels: &external, external_url: "http://infersight:9090" };
    let template = Template::parse(text).expect("test templates parse");
    assert_eq!(template.expand(&context), expect, "template {text:?} with value {value}");
}

fn check_error(text: &str, expect: &str) {
    let error = Template::parse(text).expect_err("the template is invalid");
    assert!(error.contains(expect), "{text:?} gave {error:?}, expected it to mention {expect:?}");
}

#[test]
fn labels_values_and_external_labels_expand() {
    check("plain text", 1.0, "plain text");
    check("{{ $labels.model }} on {{ $labels.instance }}", 1.0, "llama on gpu-1:9400");
    check("{{ $labels.missing }}|", 1.0, "|");
    check("{{ $value }}", 0.95, "0.95");
    check("{{ $value }}", 1e6, "1e+06");
    check("{{ $value }}", 123456.0, "123456");
    check("{{ .Value }} {{ .Labels.model }}", 2.0, "2 llama");
    check("{{ $externalLabels.cluster }}", 1.0, "eu-1");
    check("{{ $externalURL }}", 1.0, "http://infersight:9090");
    check("a {{- $labels.model -}} b", 1.0, "allamab");
    check("{{/* a comment */}}x", 1.0, "x");
}

#[test]
fn functions_and_pipes_follow_prometheus() {
    check("{{ humanize $value }}", 1234567.0, "1.235M");
    check("{{ $value | humanize }}", 0.0125, "12.5m");
    check("{{ humanize $value }}", 0.0, "0");
    check("{{ humanize1024 $value }}", 1536.0, "1.5ki");
    check("{{ humanizeDuration $value }}", 93784.0, "1d 2h 3m 4s");
    check("{{ humanizeDuration $value }}", 1.5, "1.5s");
    check("{{ humanizeDuration $value }}", 0.25, "250ms");
    check("{{ $value | humanizeDuration }}", 61.0, "1m 1s");
    check("{{ humanizePercentage $value }}", 0.9312, "93.12%");
    check("{{ humanizeTimestamp $value }}", 1_700_000_000.0, "2023-11-14 22:13:20 +0000 UTC");
    check(r#"{{ printf "%.2f" $value }}"#, 1.23456, "1.23");
    check(r#"{{ printf "%06.2f" $value }}"#, 1.5, "001.50");
    check(r#"{{ printf "%s is %.1f%%" $labels.model $value }}"#, 12.34, "llama is 12.3%");
    check(r#"{{ $value | printf "%.3f" }}"#, 2.0, "2.000");
    check(r#"{{ printf "%5.1f|%-4s|" $value "ab" }}"#, 2.0, "  2.0|ab  |");
    check("{{ $labels.model | toUpper }}", 1.0, "LLAMA");
    check("{{ $labels.instance | stripPort }}", 1.0, "gpu-1");
    check(r#"{{ reReplaceAll "gpu-(.*)" "card $1" $labels.instance }}"#, 1.0, "card 1:9400");
    check(r#"{{ "abc" }} {{ 42 }}"#, 1.0, "abc 42");
    let labels = BTreeMap::new();
    let context = Context { labels: &labels, value: 1.0, external_labels: &labels, external_url: "" };
    let huge = Template::parse(r#"{{ printf "%999999999d" $value }}"#).expect("parses").expand(&context);
    assert_eq!(huge.len(), 256, "printf widths are capped");
}

#[test]
fn bad_templates_fail_at_parse_time() {
    check_error("{{ $labels.model ", "unclosed action");
    check_error("{{ query \"up\" }}", "function \"query\" not defined");
    check_error("{{ if $value }}x{{ end }}", "control structure");
    check_error("{{ $nope }}", "undefined variable");
    check_error("{{ humanize }}", "wrong number of args");
    check_error("{{ humanize $value $value }}", "wrong number of args");
    check_error("{{ $value $value }}", "non-function");
    check_error("{{ }}", "missing value");
}

#[test]
fn go_float_formatting_matches_strconv() {
    for (value, precision, expect) in [
        (0.0, None, "0"),
        (1.0, None, "1"),
        (0.1, None, "0.1"),
        (1e21, None, "1e+21"),
        (0.00001, None, "1e-05"),
        (0.0001, None, "0.0001"),
        (1234567.0, None, "1.234567e+06"),
        (-2.5, None, "-2.5"),
        (1.5, Some(4), "1.5"),
        (100.0, Some(4), "100"),
        (1234.5678, Some(4), "1235"),
        (12345.0, Some(4), "1.234e+04"),
        (0.000012345, Some(4), "1.234e-05"),
    ] {
        assert_eq!(format_g(value, precision), expect, "{value} with precision {precision:?}");
    }
    assert_eq!(format_alert_value(1.0), "1e+00");
    assert_eq!(format_alert_value(0.0123), "1.23e-02");
    assert_eq!(format_alert_value(1234.5), "1.2345e+03");
}
