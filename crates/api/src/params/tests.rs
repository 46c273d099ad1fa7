//! Unit tests of parameter parsing, one `check` helper per parser.

use super::*;

fn check_time(input: &str, expect: Option<i64>) {
    assert_eq!(parse_time(input), expect, "parse_time({input:?})");
}

#[test]
fn times_parse_as_in_prometheus() {
    check_time("0", Some(0));
    check_time("1435781451", Some(1_435_781_451_000));
    check_time("1435781451.781", Some(1_435_781_451_781));
    check_time("1.2346", Some(1_235));
    check_time("1.2344", Some(1_234));
    // The fraction of 1.2345 is 0.23449999..., which Prometheus rounds down too.
    check_time("1.2345", Some(1_234));
    check_time("-1.5", Some(-1_500));
    check_time("1e3", Some(1_000_000));
    check_time("2015-07-01T20:10:51.781Z", Some(1_435_781_451_781));
    check_time("2015-07-01T22:10:51.781+02:00", Some(1_435_781_451_781));
    check_time("2015-07-01T20:10:51Z", Some(1_435_781_451_000));
    check_time("1969-12-31T23:59:59.9995Z", Some(-1));
    check_time("-292273086-05-16T16:47:06Z", Some(MIN_TIME_MS));
    check_time("292277025-08-18T07:12:54.999999999Z", Some(MAX_TIME_MS));
    check_time("-9223309901257974", Some(MIN_TIME_MS));
}

#[test]
fn bad_times_are_rejected() {
    check_time("", None);
    check_time("foo", None);
    check_time("2015-07-01", None);
    check_time("NaN", None);
    check_time("+Inf", None);
    check_time("1e300", None);
}

fn check_limit(input: &str, expect: &str) {
    let actual = match parse_limit(input) {
        Ok(limit) => format!("{limit:?}"),
        Err(error) => error.to_message(),
    };
    assert_eq!(actual, expect, "parse_limit({input:?})");
}

#[test]
fn limits_are_non_negative_integers() {
    check_limit("0", "None");
    check_limit("5", "Some(5)");
    check_limit("+5", "Some(5)");
    check_limit("-1", "limit must be non-negative");
    check_limit("abc", r#"cannot parse "abc" to a valid limit: invalid digit found in string"#);
    check_limit("1.5", r#"cannot parse "1.5" to a valid limit: invalid digit found in string"#);
}

/// Renders each matcher set as `{a="b", c=~"d"}`, sets separated by ` or `.
fn check_selector(input: &str, expect: &str) {
    let actual = match parse_selector(input) {
        Ok(sets) => sets
            .iter()
            .map(|set| format!("{{{}}}", set.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join(" or "),
        Err(error) => format!("error: {}", error.to_message()),
    };
    assert_eq!(actual, expect, "parse_selector({input:?})");
}

#[test]
fn selectors_become_matcher_sets() {
    check_selector("up", r#"{__name__="up"}"#);
    check_selector(r#"up{job="x"}"#, r#"{__name__="up", job="x"}"#);
    check_selector(r#"{__name__=~"vllm:.*"}"#, r#"{__name__=~"vllm:.*"}"#);
    check_selector(r#"vllm:num_requests_running{model_name!="a", gpu!~"0|1"}"#, {
        r#"{__name__="vllm:num_requests_running", model_name!="a", gpu!~"0|1"}"#
    });
    check_selector(r#"{job="a",}"#, r#"{job="a"}"#);
    check_selector(r#"{job='single\'quoted'}"#, r#"{job="single'quoted"}"#);
    check_selector(r#"{job="a" or job="b"}"#, r#"{job="a"} or {job="b"}"#);
    check_selector(r#"up{job="a" or job="b"}"#, r#"{__name__="up", job="a"} or {__name__="up", job="b"}"#);
}

#[test]
fn selectors_must_select_something() {
    let empty = "error: match[] must contain at least one non-empty matcher";
    check_selector(r#"{job=""}"#, empty);
    check_selector(r#"{job=~".*"}"#, empty);
    check_selector(r#"{job!="x"}"#, empty);
    check_selector("{}", empty);
    check_selector(r#"{job="a" or job=""}"#, empty);
    check_selector(r#"up{job=""}"#, r#"{__name__="up", job=""}"#);
}

#[test]
fn only_plain_selectors_are_accepted() {
    check_selector("rate(up[5m])", r#"error: "rate(up[5m])" is not a metric selector"#);
    check_selector("up[5m]", r#"error: "up[5m]" is not a metric selector"#);
    check_selector("up offset 5m", r#"error: "up offset 5m" is not a metric selector"#);
    check_selector("up @ 100", r#"error: "up @ 100" is not a metric selector"#);
    check_selector("1", r#"error: "1" is not a metric selector"#);
}

#[test]
fn form_values_come_before_query_values() {
    let params = Params::parse(Some("match[]=a&start=1&end="), Some(b"match[]=b&start=2"));
    assert_eq!(params.values("match[]").collect::<Vec<_>>(), ["b", "a"]);
    assert_eq!(params.value("start"), Some("2"));
    // An empty value counts as absent, as Go's FormValue has it.
    assert_eq!(params.value("end"), None);
    assert_eq!(params.value("limit"), None);
}

#[test]
fn form_values_are_percent_decoded() {
    let params = Params::parse(Some("match%5B%5D=up%7Bjob%3D%22a+b%22%7D"), None);
    assert_eq!(params.value("match[]"), Some(r#"up{job="a b"}"#));
}
