//! Tests of the exposition parser: each case is a page and what it reads as.

use super::*;

/// Renders every entry on one line each, so cases read as text.
fn render(text: &str, format: Format) -> String {
    let mut out = String::new();
    for entry in parse(text, format) {
        let line = match entry {
            Ok(Entry::Help { family, help }) => format!("HELP {family} {help:?}"),
            Ok(Entry::Type { family, metric_type }) => format!("TYPE {family} {}", metric_type.as_str()),
            Ok(Entry::Unit { family, unit }) => format!("UNIT {family} {unit}"),
            Ok(Entry::Sample(sample)) => {
                let labels: Vec<String> = sample.labels().map(|(n, v)| format!("{n}={v:?}")).collect();
                let mut line = format!("{} [{}] {:?}", sample.name, labels.join(" "), sample.value);
                if let Some(t) = sample.timestamp_ms {
                    line.push_str(&format!(" @{t}"));
                }
                if sample.is_created {
                    line.push_str(" created");
                }
                line
            }
            Err(err) => format!("error: {err}"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn check(text: &str, format: Format, expect: &str) {
    let got = render(text, format);
    let expect: String = expect.lines().map(|l| format!("{}\n", l.trim())).filter(|l| l != "\n").collect();
    assert_eq!(got, expect, "input:\n{text}");
}

fn text(text: &str, expect: &str) {
    check(text, Format::Text, expect);
}

fn om(text: &str, expect: &str) {
    check(text, Format::OpenMetrics, expect);
}

#[test]
fn text_format_reads_metadata_labels_values_and_timestamps() {
    text(
        "# HELP http_requests_total The total number of requests.\n\
         # TYPE http_requests_total counter\n\
         http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
         http_requests_total{method=\"post\",code=\"400\"}    3   1395066363000\n\
         \n\
         # a free comment\n\
         metric_without_timestamp_and_labels 12.47\n",
        r#"
        HELP http_requests_total "The total number of requests."
        TYPE http_requests_total counter
        http_requests_total [method="post" code="200"] 1027.0 @1395066363000
        http_requests_total [method="post" code="400"] 3.0 @1395066363000
        metric_without_timestamp_and_labels [] 12.47
        "#,
    );
}

#[test]
fn special_values_and_float_spellings_parse() {
    text(
        "a NaN\nb +Inf\nc -Inf\nd 1.593042e+06\ne -0.0000001\nf 1e-3\ng Inf\n",
        "a [] NaN\nb [] inf\nc [] -inf\nd [] 1593042.0\ne [] -1e-7\nf [] 0.001\ng [] inf",
    );
}

#[test]
fn escapes_in_label_values_and_help_are_resolved() {
    text(
        "# HELP x A \\\\ backslash\\n and \\\"quote\\\"\nx{path=\"C:\\\\dir\\\\file.txt\",msg=\"say \\\"hi\\\"\\n\"} 1\n",
        r#"
        HELP x "A \\ backslash\n and \\\"quote\\\""
        x [path="C:\\dir\\file.txt" msg="say \"hi\"\n"] 1.0
        "#,
    );
    om(
        "# HELP x A \\\"quoted\\\" help\nx 1\n# EOF\n",
        r#"
        HELP x "A \"quoted\" help"
        x [] 1.0
        "#,
    );
}

#[test]
fn label_sets_allow_blanks_and_a_trailing_comma() {
    text(
        "x{ a = \"1\" , b=\"2\", } 1\ny{} 2\nz{le=\"+Inf\",a=\"}\"} 3\n",
        r#"
        x [a="1" b="2"] 1.0
        y [] 2.0
        z [le="+Inf" a="}"] 3.0
        "#,
    );
}

#[test]
fn colons_and_total_suffixes_are_ordinary_names() {
    text(
        "# TYPE vllm:iteration_tokens_total histogram\n\
         vllm:iteration_tokens_total_bucket{le=\"1.0\",model_name=\"m\"} 3.0\n\
         vllm:iteration_tokens_total_count{model_name=\"m\"} 3.0\n",
        r#"
        TYPE vllm:iteration_tokens_total histogram
        vllm:iteration_tokens_total_bucket [le="1.0" model_name="m"] 3.0
        vllm:iteration_tokens_total_count [model_name="m"] 3.0
        "#,
    );
}

#[test]
fn series_text_is_the_name_and_label_block_as_written() {
    let page = "x{a=\"1\"} 1 2\ny 3\n";
    let series: Vec<&str> = parse(page, Format::Text)
        .filter_map(|e| match e {
            Ok(Entry::Sample(s)) => Some(s.series),
            _ => None,
        })
        .collect();
    assert_eq!(series, ["x{a=\"1\"}", "y"]);
}

#[test]
fn text_format_errors_name_the_line_and_the_problem() {
    text("ok 1\nbad{a=\"1\" 2\n", "ok [] 1.0\nerror: line 2: expected ',' or '}' after the value of label \"a\"");
    text("x{a=\"1} 2\n", "error: line 1: unterminated value of label \"a\"");
    text("x{1a=\"1\"} 2\n", "error: line 1: expected a label name at \"1a=\\\"1\\\"} 2\"");
    text("x{a} 2\n", "error: line 1: expected '=' after label name \"a\"");
    text("x{a=1} 2\n", "error: line 1: expected '\"' to open the value of label \"a\"");
    text("x\n", "error: line 1: missing value for x");
    text("x abc\n", "error: line 1: invalid value \"abc\" for x");
    text("x 1 1.5\n", "error: line 1: invalid timestamp \"1.5\" for x");
    text("x 1 2 3\n", "error: line 1: unexpected text \"3\" after the value of x");
    text("x-y 1\n", "error: line 1: unexpected '-' after \"x\"");
    text("1x 1\n", "error: line 1: expected a metric name, found '1'");
    text("# TYPE x countr\n", "error: line 1: unknown metric type \"countr\" for \"x\"");
    text("# TYPE x info\n", "error: line 1: unknown metric type \"info\" for \"x\"");
    text("# HELP\n", "error: line 1: # HELP without a metric name");
    text("<html><body>oops</body></html>\n", "error: line 1: expected a metric name, found '<'");
}

#[test]
fn text_format_tolerates_crlf_and_a_missing_final_newline() {
    text("a 1\r\nb 2", "a [] 1.0\nb [] 2.0");
}

#[test]
fn the_first_error_ends_the_iteration() {
    assert_eq!(parse("x{\ny 1\n", Format::Text).count(), 1);
}

#[test]
fn openmetrics_timestamps_are_seconds_and_exemplars_are_skipped() {
    om(
        "# TYPE foo counter\n\
         # UNIT foo_seconds seconds\n\
         # HELP foo Help.\n\
         foo_total 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67 1520879602.890\n\
         foo_created 1520430000.123\n\
         foo_bucket{le=\"+Inf\"} 3 # {a=\"b\"} 1\n\
         # EOF\n",
        r#"
        TYPE foo counter
        UNIT foo_seconds seconds
        HELP foo "Help."
        foo_total [] 17.0 @1520879607789
        foo_created [] 1520430000.123 created
        foo_bucket [le="+Inf"] 3.0
        "#,
    );
}

#[test]
fn openmetrics_created_is_flagged_only_where_the_type_allows_it() {
    om(
        "# TYPE g gauge\ng_created 1\n# TYPE h histogram\nh_created 2\nh_sum 1\n# EOF\n",
        "TYPE g gauge\ng_created [] 1.0\nTYPE h histogram\nh_created [] 2.0 created\nh_sum [] 1.0",
    );
}

#[test]
fn openmetrics_requires_eof_and_nothing_after_it() {
    om("a 1\n", "a [] 1.0\nerror: line 2: missing \"# EOF\" at the end of an OpenMetrics exposition (truncated?)");
    om("a 1\n# EOF\nb 2\n", "a [] 1.0\nerror: line 3: unexpected content after # EOF");
    om("a 1\n# EOF", "a [] 1.0");
    om("a 1\n\n# EOF\n", "a [] 1.0\nerror: line 2: empty line (OpenMetrics allows none)");
    om(
        "# free comment\n# EOF\n",
        "error: line 1: invalid comment line \"# free comment\": OpenMetrics allows only HELP, TYPE, UNIT and EOF",
    );
    om("a 1 # nonsense\n# EOF\n", "error: line 1: invalid exemplar \"nonsense\" for a");
    om(
        "# UNIT a_bytes seconds\n# EOF\n",
        "error: line 1: metric name \"a_bytes\" does not end with its unit \"seconds\"",
    );
}

#[test]
fn openmetrics_types_include_info_stateset_and_gaugehistogram() {
    om(
        "# TYPE a info\n# TYPE b stateset\n# TYPE c gaugehistogram\n# TYPE d unknown\n# EOF\n",
        "TYPE a info\nTYPE b stateset\nTYPE c gaugehistogram\nTYPE d unknown",
    );
}

#[test]
fn content_types_select_the_format() {
    for (content_type, expect) in [
        ("text/plain; version=0.0.4; charset=utf-8", Some(Format::Text)),
        ("text/plain", Some(Format::Text)),
        ("application/openmetrics-text; version=1.0.0; charset=utf-8", Some(Format::OpenMetrics)),
        ("Application/OpenMetrics-Text;version=0.0.1", Some(Format::OpenMetrics)),
        ("text/html; charset=utf-8", None),
        ("application/json", None),
        ("", None),
    ] {
        assert_eq!(Format::from_content_type(content_type), expect, "{content_type}");
    }
}

#[test]
fn fixtures_parse_completely() {
    for (file, families, samples) in
        [("vllm-metrics.prom", 92, 850), ("sglang-metrics.prom", 40, 661), ("dcgm-metrics.prom", 24, 48)]
    {
        let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
        let page = std::fs::read_to_string(&path).expect("fixture is readable");
        let mut n_types = 0;
        let mut n_samples = 0;
        for entry in parse(&page, Format::Text) {
            match entry.unwrap_or_else(|e| panic!("{file}: {e}")) {
                Entry::Type { .. } => n_types += 1,
                Entry::Sample(_) => n_samples += 1,
                _ => {}
            }
        }
        assert_eq!((n_types, n_samples), (families, samples), "{file}");
    }
}

#[test]
fn multibyte_text_and_odd_escapes_never_panic() {
    text("x{a=\"\\é\",b=\"ü\"} 1\n", "x [a=\"\\\\é\" b=\"ü\"] 1.0");
    text("é 1\n", "error: line 1: expected a metric name, found 'é'");
    text("x{é=\"1\"} 1\n", "error: line 1: expected a label name at \"é=\\\"1\\\"} 1\"");
    text("x{a=\"1\\\"} 1\n", "error: line 1: unterminated value of label \"a\"");
    text("x 1 é\n", "error: line 1: invalid timestamp \"é\" for x");
    om("x 1 # {a=\"é\"} 1 é\n# EOF\n", "error: line 1: invalid exemplar \"{a=\\\"é\\\"} 1 é\" for x");
    for page in ["#", "# ", "#\t", "x{", "x{a", "x{a=", "x{a=\"", "x{a=\"\\", "{", "x 1 # {", "\u{feff}x 1"] {
        for format in [Format::Text, Format::OpenMetrics] {
            assert!(parse(page, format).all(|e| e.is_ok() || e.is_err()));
        }
    }
}
