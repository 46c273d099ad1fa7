//! The bad-input campaign: hundreds of malformed and hostile requests to every endpoint of a real server.
//!
//! Each one must get a precise 4xx, the process must stay up with bounded
//! memory, nothing rejected may reach the upstream, and the data directory
//! must be byte for byte what it was before the campaign.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use prost::Message;
use receivers::remote_write::proto::v1::{Label, Sample, TimeSeries, WriteRequest};
use serde_json::Value;
use testkit::upstream::{Behaviour, FakeUpstream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::server::{free_port, write_body};

/// A token with every role: the hostile payloads are refused for what they
/// are, not for who sends them.
const OPS_TOKEN: &str = "ops-token-campaign-3b9e";
/// The gateway's client key.
const GATEWAY_KEY: &str = "gateway-key-campaign-71c0";

/// The largest request body after decompression the server is configured for.
const MAX_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listener {
    Api,
    Gateway,
}

/// One hostile request and the answers that are precise for it.
struct Case {
    what: String,
    listener: Listener,
    method: reqwest::Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    expect: &'static [u16],
}

/// Bytes sent as they are over a fresh connection, for what an HTTP client
/// library refuses to send: broken request lines, header injection, raw paths.
struct RawCase {
    what: String,
    listener: Listener,
    bytes: Vec<u8>,
    expect: &'static [u16],
}

/// A small deterministic generator, so every run sends the same campaign.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

fn case(what: impl Into<String>, listener: Listener, method: reqwest::Method, path: impl Into<String>) -> Case {
    let token = if listener == Listener::Api { OPS_TOKEN } else { GATEWAY_KEY };
    Case {
        what: what.into(),
        listener,
        method,
        path: path.into(),
        headers: vec![bearer(token)],
        body: Vec::new(),
        expect: &[400],
    }
}

impl Case {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Case {
        self.headers.push((name, value.into()));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Case {
        self.body = body.into();
        self
    }

    fn expect(mut self, expect: &'static [u16]) -> Case {
        self.expect = expect;
        self
    }

    fn without_credentials(mut self) -> Case {
        self.headers.retain(|(name, _)| *name != "authorization");
        self
    }
}

fn remote_write(what: impl Into<String>, body: Vec<u8>) -> Case {
    case(what, Listener::Api, reqwest::Method::POST, "/api/v1/write")
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .header("x-prometheus-remote-write-version", "0.1.0")
        .body(body)
}

fn snappy(bytes: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(bytes).expect("snappy")
}

fn series(labels: Vec<(String, String)>, samples: Vec<Sample>) -> TimeSeries {
    TimeSeries {
        labels: labels.into_iter().map(|(name, value)| Label { name, value }).collect(),
        samples,
        ..Default::default()
    }
}

fn write_request(timeseries: Vec<TimeSeries>) -> Vec<u8> {
    snappy(&WriteRequest { timeseries, ..Default::default() }.encode_to_vec())
}

fn sample() -> Vec<Sample> {
    vec![Sample { value: 1.0, timestamp: 1_700_000_000_000 }]
}

fn named(name: &str) -> Vec<(String, String)> {
    vec![("__name__".to_owned(), name.to_owned())]
}

/// A snappy block whose header claims `claimed` bytes, followed by a few literals.
fn snappy_claiming(claimed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = claimed;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(&[0x0c, b'a', b'b', b'c', b'd']);
    out
}

/// `n` zero bytes, gzipped: a few KiB that expand past every limit.
fn gzip_zeros(n: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..n.div_ceil(chunk.len()) {
        encoder.write_all(&chunk).expect("gzip");
    }
    encoder.finish().expect("gzip")
}

fn nested_json(depth: usize) -> Vec<u8> {
    let mut text = "[".repeat(depth);
    text.push_str(&"]".repeat(depth));
    text.into_bytes()
}

fn remote_write_cases(rng: &mut Rng) -> Vec<Case> {
    let mut cases = Vec::new();
    // Not snappy at all: a first byte whose varint never ends, then noise.
    for i in 0..60 {
        let mut body = vec![0xff; 10];
        body.extend(rng.bytes(16 + i * 7));
        cases.push(remote_write(format!("remote write: not snappy #{i}"), body));
    }
    // Valid snappy around bytes that are not a WriteRequest.
    for i in 0..60 {
        let mut inner = vec![0x0a, 0xff, 0xff, 0xff, 0x0f];
        inner.extend(rng.bytes(8 + i * 5));
        cases.push(remote_write(format!("remote write: snappy of noise #{i}"), snappy(&inner)));
    }
    // A real request cut short.
    let whole = write_request((0..20).map(|i| series(named(&format!("cut_{i}")), sample())).collect());
    for cut in [1, 2, 3, 5, 8, 13, 21, 34, 55, whole.len() / 2, whole.len() - 1] {
        if cut < whole.len() {
            cases.push(remote_write(format!("remote write: truncated to {cut} bytes"), whole[..cut].to_vec()));
        }
    }
    // Claims of a huge decompressed size, and a body over the limit.
    for claimed in [MAX_BYTES as u64 + 1, 1 << 30, 4 << 30, u64::from(u32::MAX)] {
        cases.push(
            remote_write(format!("remote write: snappy claims {claimed} bytes"), snappy_claiming(claimed))
                .expect(&[413, 400]),
        );
    }
    // Wrong framing of a well-formed body.
    let good = write_body("never_stored", 1, 1_700_000_000_000, 1.0);
    for (what, encoding) in [("gzip", "gzip"), ("identity", "identity"), ("zstd", "zstd"), ("unknown", "br, snappy")] {
        let mut c = remote_write(format!("remote write: content-encoding {what}"), good.clone());
        c.headers.retain(|(name, _)| *name != "content-encoding");
        cases.push(c.header("content-encoding", encoding).expect(&[400, 415]));
    }
    for content_type in
        ["text/plain", "application/json", "application/x-protobuf;proto=unknown.Message", "multipart/form-data"]
    {
        let mut c = remote_write(format!("remote write: content-type {content_type}"), good.clone());
        c.headers.retain(|(name, _)| *name != "content-type");
        cases.push(c.header("content-type", content_type).expect(&[400, 415]));
    }
    // Well-formed protobuf, invalid series.
    let invalid: Vec<(&str, Vec<TimeSeries>)> = vec![
        ("no __name__", vec![series(vec![("job".into(), "x".into())], sample())]),
        ("empty label name", vec![series(vec![("__name__".into(), "m".into()), ("".into(), "v".into())], sample())]),
        (
            "label name with a dash",
            vec![series(vec![("__name__".into(), "m".into()), ("bad-name".into(), "v".into())], sample())],
        ),
        ("metric name starting with a digit", vec![series(named("1metric"), sample())]),
        (
            "duplicate label",
            vec![series(
                vec![("__name__".into(), "m".into()), ("a".into(), "1".into()), ("a".into(), "2".into())],
                sample(),
            )],
        ),
        (
            "10,000 labels",
            vec![series(
                std::iter::once(("__name__".to_owned(), "m".to_owned()))
                    .chain((0..10_000).map(|i| (format!("l{i:05}"), "v".to_owned())))
                    .collect(),
                sample(),
            )],
        ),
        (
            "a 1 MiB label value",
            vec![series(vec![("__name__".into(), "m".into()), ("big".into(), "x".repeat(1 << 20))], sample())],
        ),
        (
            "a valid series beside an invalid one",
            vec![series(named("would_be_fine"), sample()), series(vec![("job".into(), "x".into())], sample())],
        ),
    ];
    for (what, timeseries) in invalid {
        cases.push(remote_write(format!("remote write: {what}"), write_request(timeseries)).expect(&[400, 413]));
    }
    // Invalid UTF-8 in a label, written as raw protobuf.
    for (i, bad) in [&[0xff, 0xfe][..], &[0xc3, 0x28], &[0xe2, 0x82], &[0xed, 0xa0, 0x80], &[0xf8, 0x88, 0x80, 0x80]]
        .iter()
        .enumerate()
    {
        let mut label = vec![0x0a, 8, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', 0x12, bad.len() as u8];
        label.extend_from_slice(bad);
        let mut ts = vec![0x0a, label.len() as u8];
        ts.extend(label);
        let mut request = vec![0x0a, ts.len() as u8];
        request.extend(ts);
        cases.push(remote_write(format!("remote write: invalid UTF-8 #{i}"), snappy(&request)));
    }
    // Remote write 2.0 that is not one.
    for i in 0..20 {
        let mut c = remote_write(format!("remote write 2.0: noise #{i}"), snappy(&rng.bytes(12 + i * 9)));
        c.headers.retain(|(name, _)| *name != "content-type" && *name != "x-prometheus-remote-write-version");
        cases.push(
            c.header("content-type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
                .header("x-prometheus-remote-write-version", "2.0.0")
                .expect(&[400, 415]),
        );
    }
    cases
}

fn otlp(what: impl Into<String>, content_type: &str, body: Vec<u8>) -> Case {
    case(what, Listener::Api, reqwest::Method::POST, "/api/v1/otlp/v1/metrics")
        .header("content-type", content_type)
        .body(body)
}

fn otlp_cases(rng: &mut Rng) -> Vec<Case> {
    let mut cases = Vec::new();
    for i in 0..30 {
        let mut body = vec![0x0a, 0xff, 0xff, 0xff, 0x0f];
        body.extend(rng.bytes(10 + i * 11));
        cases.push(otlp(format!("OTLP protobuf: noise #{i}"), "application/x-protobuf", body));
    }
    let malformed_json = [
        "{",
        "}",
        "null",
        "\"text\"",
        "{\"resourceMetrics\": 5}",
        "{\"resourceMetrics\": [{\"scopeMetrics\": \"no\"}]}",
        "{\"resourceMetrics\": [{\"scopeMetrics\": [{\"metrics\": [{\"name\": 7}]}]}]}",
        "{\"resourceMetrics\": [{\"scopeMetrics\": [{\"metrics\": [{\"name\": \"m\", \"gauge\": {\"dataPoints\": [{\"timeUnixNano\": \"soon\", \"asDouble\": 1}]}}]}]}]}",
        "{\"resourceMetrics\": [{\"scopeMetrics\": [{\"metrics\": [{\"name\": \"m\", \"gauge\": {\"dataPoints\": [{\"timeUnixNano\": \"1\", \"asDouble\": \"NaN-ish\"}]}}]}]}]}",
        "{\"resourceMetrics\": [{\"scopeMetrics\": [{\"metrics\": [{\"name\": \"m\", \"sum\": {\"dataPoints\": [{\"timeUnixNano\": -5, \"asInt\": \"x\"}]}}]}]}]}",
        "{\"resourceMetrics\": [{\"resource\": {\"attributes\": [{\"key\": 1}]}}]}",
        "{\"resourceMetrics\": [], \"resourceMetrics\": {}}",
        "{\"resourceMetrics\": [{]}",
        "{'resourceMetrics': []}",
        "{\"resourceMetrics\": [1e999999]}",
    ];
    for (i, text) in malformed_json.iter().enumerate() {
        cases.push(otlp(format!("OTLP JSON: malformed #{i}"), "application/json", text.as_bytes().to_vec()));
    }
    for depth in [1_000, 10_000, 100_000] {
        cases.push(
            otlp(format!("OTLP JSON: nested {depth} deep"), "application/json", nested_json(depth)).expect(&[400, 413]),
        );
    }
    for (i, bad) in [&b"{\"resourceMetrics\": [\"\xff\xfe\"]}"[..], b"\xef\xbb\xbf\xff{}"].iter().enumerate() {
        cases.push(otlp(format!("OTLP JSON: invalid UTF-8 #{i}"), "application/json", bad.to_vec()));
    }
    for content_type in ["text/plain", "application/xml", "application/grpc", ""] {
        cases.push(
            otlp(format!("OTLP: content-type {content_type:?}"), content_type, b"{}".to_vec()).expect(&[400, 415]),
        );
    }
    for size in [64 << 20, 256 << 20] {
        cases.push(
            otlp(format!("OTLP: gzip bomb of {} MiB", size >> 20), "application/x-protobuf", gzip_zeros(size))
                .header("content-encoding", "gzip")
                .expect(&[413]),
        );
    }
    cases.push(
        otlp("OTLP: gzip header on plain bytes", "application/json", b"{\"resourceMetrics\": []}".to_vec())
            .header("content-encoding", "gzip"),
    );
    cases.push(
        otlp("OTLP: unknown content-encoding", "application/json", b"{}".to_vec())
            .header("content-encoding", "lz4")
            .expect(&[400, 415]),
    );
    cases
}

/// A GET with `params` in the query string, or, past 8 KiB of them, a POST
/// form (as Grafana sends long queries).
fn query(what: impl Into<String>, path: &str, params: &[(&str, &str)]) -> Case {
    let query: String = params.iter().map(|(k, v)| format!("{k}={}", percent(v))).collect::<Vec<_>>().join("&");
    if query.len() > 8 << 10 {
        return case(what, Listener::Api, reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(query.into_bytes());
    }
    case(what, Listener::Api, reqwest::Method::GET, format!("{path}?{query}"))
}

/// Percent-encodes everything but unreserved characters.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn query_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let syntax = [
        "",
        "(",
        ")",
        "up{",
        "up}",
        "up[",
        "up[5m",
        "rate(up)",
        "rate(up[5m]",
        "sum by (",
        "sum(up) by",
        "1 +",
        "+",
        "up offset",
        "up @",
        "up @ foo",
        "{}",
        "{job=}",
        "{job=\"x}",
        "{job!~}",
        "up[5x]",
        "up[-5m]",
        "topk(up)",
        "histogram_quantile(0.9)",
        "unknown_function(up)",
        "up and",
        "up or or up",
        "\"unterminated",
        "`raw",
        "up == bool",
        "label_replace(up)",
        "absent()",
        "up[5m:1m:1m]",
        "count_values(up)",
        "1 / / 2",
        "up{a=\"\\x\"}",
        "sum without",
        "up[1y1y]",
        "up[]",
        "0x",
        "1e",
        "up{__name__=\"a\", __name__=\"b\"}{}",
    ];
    for expr in syntax {
        cases.push(query(format!("query: syntax {expr:?}"), "/api/v1/query", &[("query", expr)]));
    }
    let explosive = [
        ("5,000 nested parentheses", format!("{}up{}", "(".repeat(5_000), ")".repeat(5_000))),
        ("50,000 nested parentheses", format!("{}up{}", "(".repeat(50_000), ")".repeat(50_000))),
        ("5,000 nested functions", format!("{}up{}", "abs(".repeat(5_000), ")".repeat(5_000))),
        ("a 1 MiB expression", "up + ".repeat(200_000) + "up"),
        ("an empty matcher set", "{job=~\".*\"}".to_owned()),
    ];
    for (what, expr) in &explosive {
        cases.push(query(format!("query: {what}"), "/api/v1/query", &[("query", expr)]).expect(&[400, 413, 422]));
    }
    for time in ["NaN", "Inf", "-Inf", "+Inf", "abc", "1e400", "2024-13-45T00:00:00Z", "--1", "0x10", "1.2.3"] {
        cases.push(query(format!("query: time={time}"), "/api/v1/query", &[("query", "up"), ("time", time)]));
    }
    for timeout in ["-1s", "forever", "NaN"] {
        cases.push(query(
            format!("query: timeout={timeout}"),
            "/api/v1/query",
            &[("query", "up"), ("timeout", timeout)],
        ));
    }
    let ranges: [(&str, [(&str, &str); 4]); 12] = [
        ("end before start", [("query", "up"), ("start", "2000"), ("end", "1000"), ("step", "15")]),
        ("zero step", [("query", "up"), ("start", "0"), ("end", "1000"), ("step", "0")]),
        ("negative step", [("query", "up"), ("start", "0"), ("end", "1000"), ("step", "-15")]),
        ("NaN step", [("query", "up"), ("start", "0"), ("end", "1000"), ("step", "NaN")]),
        ("Inf step", [("query", "up"), ("start", "0"), ("end", "1000"), ("step", "Inf")]),
        ("too many points", [("query", "up"), ("start", "0"), ("end", "100000000"), ("step", "1")]),
        ("NaN start", [("query", "up"), ("start", "NaN"), ("end", "1000"), ("step", "15")]),
        ("Inf end", [("query", "up"), ("start", "0"), ("end", "Inf"), ("step", "15")]),
        ("no step", [("query", "up"), ("start", "0"), ("end", "1000"), ("x", "y")]),
        ("syntax error", [("query", "up{"), ("start", "0"), ("end", "1000"), ("step", "15")]),
        ("step of garbage", [("query", "up"), ("start", "0"), ("end", "1000"), ("step", "fast")]),
        ("1ms step over a year", [("query", "up"), ("start", "0"), ("end", "31536000"), ("step", "0.001")]),
    ];
    for (what, params) in &ranges {
        cases.push(query(format!("query_range: {what}"), "/api/v1/query_range", params));
    }
    for (what, params) in [
        ("no match[]", vec![("start", "0")]),
        ("match[] syntax error", vec![("match[]", "up{")]),
        ("match[] of a number", vec![("match[]", "1")]),
        ("match[] matching everything", vec![("match[]", "{job=~\".*\"}")]),
        ("NaN start", vec![("match[]", "up"), ("start", "NaN")]),
        ("limit of garbage", vec![("match[]", "up"), ("limit", "many")]),
    ] {
        cases.push(query(format!("series: {what}"), "/api/v1/series", &params));
    }
    for (what, params) in [
        ("match[] syntax error", vec![("match[]", "{")]),
        ("Inf end", vec![("end", "Inf")]),
        ("start of garbage", vec![("start", "yesterday")]),
    ] {
        cases.push(query(format!("labels: {what}"), "/api/v1/labels", &params));
        cases.push(query(format!("label values: {what}"), "/api/v1/label/job/values", &params));
    }
    for name in ["bad-name", "1abc", "%ff", "a%20b"] {
        cases.push(case(
            format!("label values: name {name:?}"),
            Listener::Api,
            reqwest::Method::GET,
            format!("/api/v1/label/{name}/values"),
        ));
    }
    cases.push(query("rules: unknown type", "/api/v1/rules", &[("type", "sometimes")]).expect(&[400, 422]));
    cases
}

fn exchange_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (what, params) in [
        ("limit of garbage", vec![("limit", "all")]),
        ("negative limit", vec![("limit", "-1")]),
        ("huge limit", vec![("limit", "99999999999999999999")]),
        ("before of garbage", vec![("before", "x")]),
        ("start of garbage", vec![("start", "soon")]),
        ("NaN end", vec![("end", "NaN")]),
        ("unknown status", vec![("status", "sometimes")]),
        ("min_latency of garbage", vec![("min_latency", "slow")]),
    ] {
        cases.push(query(format!("exchanges: {what}"), "/api/v1/infersight/exchanges", &params));
    }
    for id in ["abc", "-1", "1.5", "99999999999999999999", "%00", "..%2F..%2Fetc%2Fpasswd", "0x10"] {
        cases.push(
            case(
                format!("exchange id {id:?}"),
                Listener::Api,
                reqwest::Method::GET,
                format!("/api/v1/infersight/exchanges/{id}"),
            )
            .expect(&[400, 404]),
        );
    }
    cases.push(
        case(
            "exchange that does not exist",
            Listener::Api,
            reqwest::Method::GET,
            "/api/v1/infersight/exchanges/987654321",
        )
        .expect(&[404]),
    );
    let feedback = [
        "",
        "{",
        "[]",
        "{\"value\": 5}",
        "{\"value\": \"maybe\"}",
        "{\"value\": \"up\", \"score\": \"high\"}",
        "{\"value\": \"up\", \"score\": 1e999}",
        "{\"value\": \"up\", \"unknown\": true}",
        "{\"value\": \"up\", \"comment\": 7}",
        "{\"value\": \"\\ud800\"}",
    ];
    for (i, body) in feedback.iter().enumerate() {
        cases.push(
            case(
                format!("feedback: malformed #{i}"),
                Listener::Api,
                reqwest::Method::POST,
                "/api/v1/infersight/exchanges/1/feedback",
            )
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .expect(&[400, 404, 415, 422]),
        );
    }
    cases.push(
        case(
            "feedback: a 2 MiB comment",
            Listener::Api,
            reqwest::Method::POST,
            "/api/v1/infersight/exchanges/1/feedback",
        )
        .header("content-type", "application/json")
        .body(format!("{{\"value\": \"up\", \"comment\": \"{}\"}}", "x".repeat(2 << 20)).into_bytes())
        .expect(&[400, 404, 413, 422]),
    );
    cases.push(
        case(
            "feedback: nested 100,000 deep",
            Listener::Api,
            reqwest::Method::POST,
            "/api/v1/infersight/exchanges/1/feedback",
        )
        .header("content-type", "application/json")
        .body(nested_json(100_000))
        .expect(&[400, 404, 413, 422]),
    );
    for body in [
        "{",
        "{\"text\": 5}",
        "{\"text\": \"\"}",
        "{\"text\": \"deploy\", \"time\": \"NaN\"}",
        "{\"text\": \"deploy\", \"tags\": [\"a,b\"]}",
    ] {
        cases.push(
            case(format!("annotation: {body}"), Listener::Api, reqwest::Method::POST, "/api/v1/infersight/annotations")
                .header("content-type", "application/json")
                .body(body.as_bytes().to_vec())
                .expect(&[400, 415, 422]),
        );
    }
    for (what, params) in [
        ("no cohort", vec![("b", "{}")]),
        ("cohort syntax", vec![("a", "{"), ("b", "{x=\"1\"}")]),
        ("range of garbage", vec![("a", "{x=\"1\"}"), ("b", "{x=\"2\"}"), ("range", "ages")]),
    ] {
        cases.push(query(format!("compare: {what}"), "/api/v1/infersight/compare", &params).expect(&[400, 422]));
    }
    cases
}

fn gateway(what: impl Into<String>, path: &str, body: impl Into<Vec<u8>>) -> Case {
    case(what, Listener::Gateway, reqwest::Method::POST, path).header("content-type", "application/json").body(body)
}

fn gateway_cases(rng: &mut Rng) -> Vec<Case> {
    let mut cases = Vec::new();
    let chat = [
        "",
        "{",
        "[]",
        "null",
        "{}",
        "{\"model\": 5, \"messages\": []}",
        "{\"model\": \"m\", \"messages\": \"hi\"}",
        "{\"model\": \"m\", \"messages\": [1, 2]}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": 5}]}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": \"yes\"}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream_options\": 3}",
        "{\"model\": \"\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]",
        "{\"model\": \"m\", \"model\": [], \"messages\": []}",
    ];
    for (i, body) in chat.iter().enumerate() {
        cases.push(gateway(format!("chat: malformed #{i}"), "/v1/chat/completions", body.as_bytes().to_vec()));
    }
    for i in 0..20 {
        cases.push(gateway(format!("chat: noise #{i}"), "/v1/chat/completions", rng.bytes(5 + i * 13)));
    }
    for (i, bad) in [&b"{\"model\": \"\xff\", \"messages\": []}"[..], b"\xfe\xff{}", b"{\"model\": \"m\xc3\x28\"}"]
        .iter()
        .enumerate()
    {
        cases.push(gateway(format!("chat: invalid UTF-8 #{i}"), "/v1/chat/completions", bad.to_vec()));
    }
    cases.push(gateway("chat: nested 100,000 deep", "/v1/chat/completions", nested_json(100_000)).expect(&[400, 413]));
    cases.push(
        gateway("chat: text/plain", "/v1/chat/completions", b"{}".to_vec())
            .header("content-type", "text/plain")
            .expect(&[400, 415]),
    );
    for (i, body) in ["{", "{\"model\": 1}", "{\"model\": \"m\", \"prompt\": {}}", "[]", ""].iter().enumerate() {
        cases.push(gateway(format!("completions: malformed #{i}"), "/v1/completions", body.as_bytes().to_vec()));
    }
    for (i, body) in
        ["{", "{\"model\": 1}", "{\"model\": \"m\", \"input\": {}}", "[]", "", "{\"input\": \"x\"}"].iter().enumerate()
    {
        cases.push(gateway(format!("embeddings: malformed #{i}"), "/v1/embeddings", body.as_bytes().to_vec()));
    }
    let valid = "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
    for (what, value) in [
        ("no key", None),
        ("a wrong key", Some("Bearer not-the-key")),
        ("an empty bearer", Some("Bearer ")),
        ("basic instead of bearer", Some("Basic Zm9vOmJhcg==")),
        ("a key without a scheme", Some(GATEWAY_KEY)),
    ] {
        let mut c = gateway(format!("gateway: {what}"), "/v1/chat/completions", valid.as_bytes().to_vec())
            .without_credentials()
            .expect(&[401]);
        if let Some(value) = value {
            c = c.header("authorization", value);
        }
        cases.push(c);
    }
    cases.push(
        case("gateway: GET on chat", Listener::Gateway, reqwest::Method::GET, "/v1/chat/completions").expect(&[405]),
    );
    cases.push(case("gateway: unknown route", Listener::Gateway, reqwest::Method::POST, "/v1/unknown").expect(&[404]));
    cases
}

fn credential_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let guarded = [
        (reqwest::Method::GET, "/api/v1/query?query=up"),
        (reqwest::Method::GET, "/api/v1/query_range?query=up&start=0&end=60&step=15"),
        (reqwest::Method::GET, "/api/v1/series?match[]=up"),
        (reqwest::Method::GET, "/api/v1/labels"),
        (reqwest::Method::GET, "/api/v1/infersight/exchanges"),
        (reqwest::Method::GET, "/api/v1/infersight/exchanges/1"),
        (reqwest::Method::POST, "/api/v1/write"),
        (reqwest::Method::POST, "/api/v1/otlp/v1/metrics"),
        (reqwest::Method::POST, "/api/v1/admin/tsdb/flush"),
        (reqwest::Method::GET, "/api/v1/rules"),
        (reqwest::Method::GET, "/metrics"),
        (reqwest::Method::GET, "/"),
    ];
    let wrong: [(&str, Option<String>); 6] = [
        ("no credentials", None),
        ("an unknown token", Some("Bearer unknown-token".to_owned())),
        ("a truncated token", Some(format!("Bearer {}", &OPS_TOKEN[..OPS_TOKEN.len() - 1]))),
        ("basic auth of an unknown user", Some("Basic bWFsbG9yeTpwdw==".to_owned())),
        ("basic auth that is not base64", Some("Basic !!!".to_owned())),
        ("an unknown scheme", Some(format!("Token {OPS_TOKEN}"))),
    ];
    for (method, path) in &guarded {
        for (what, value) in &wrong {
            let mut c = case(format!("{method} {path}: {what}"), Listener::Api, method.clone(), *path)
                .without_credentials()
                .expect(&[401]);
            if let Some(value) = value {
                c = c.header("authorization", value.clone());
            }
            cases.push(c);
        }
    }
    cases
}

fn raw(what: impl Into<String>, listener: Listener, bytes: impl Into<Vec<u8>>, expect: &'static [u16]) -> RawCase {
    RawCase { what: what.into(), listener, bytes: bytes.into(), expect }
}

fn raw_cases() -> Vec<RawCase> {
    let auth = format!("Authorization: Bearer {OPS_TOKEN}\r\n");
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    let mut cases = Vec::new();
    for path in [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/assets/../../Cargo.toml",
        "/assets/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/assets/..%5c..%5cCargo.toml",
        "/%00",
        "/assets/%00.js",
        "/api/v1/../../../etc/passwd",
        "/assets/%252e%252e%252fCargo.toml",
    ] {
        cases.push(raw(format!("path traversal {path}"), Listener::Api, get(path), &[400, 404]));
    }
    cases.push(raw(
        "header injection in a value",
        Listener::Api,
        format!("GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n{auth}X-A: a\rSet-Cookie: x=1\r\n\r\n"),
        &[400],
    ));
    cases.push(raw(
        "a header without a colon",
        Listener::Api,
        format!("GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n{auth}Broken\r\n\r\n"),
        &[400],
    ));
    cases.push(raw(
        "a header name with a space",
        Listener::Api,
        format!("GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n{auth}Bad Name: v\r\n\r\n"),
        &[400],
    ));
    cases.push(raw(
        "a 1 MiB header",
        Listener::Api,
        format!("GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n{auth}X-Big: {}\r\n\r\n", "a".repeat(1 << 20)),
        &[400, 431],
    ));
    cases.push(raw(
        "10,000 headers",
        Listener::Api,
        format!("GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n{auth}{}\r\n", "X-H: v\r\n".repeat(10_000)),
        &[400, 431],
    ));
    cases.push(raw(
        "a request line of noise",
        Listener::Api,
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
        &[400],
    ));
    cases.push(raw(
        "an unknown HTTP version",
        Listener::Api,
        format!("GET /api/v1/labels HTTP/9.9\r\nHost: x\r\n{auth}\r\n"),
        &[400, 505],
    ));
    cases.push(raw(
        "a 64 KiB request line",
        Listener::Api,
        format!("GET /api/v1/query?query={} HTTP/1.1\r\nHost: x\r\n{auth}\r\n", "a".repeat(64 << 10)),
        &[400, 414, 431],
    ));
    cases.push(raw(
        "a negative content-length",
        Listener::Api,
        format!("POST /api/v1/write HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: -5\r\n\r\n"),
        &[400],
    ));
    cases.push(raw(
        "two content-lengths",
        Listener::Api,
        format!("POST /api/v1/write HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef"),
        &[400],
    ));
    cases.push(raw("chunked and content-length", Listener::Api, format!("POST /api/v1/write HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), &[400]));
    cases.push(raw("a broken chunk", Listener::Api, format!("POST /api/v1/write HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"), &[400]));
    let announced = |path: &str, key: &str, content_type: &str, encoding: &str, length: usize| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: {content_type}\r\n\
             {encoding}Content-Length: {length}\r\n\r\n{}",
            "a".repeat(1024)
        )
    };
    // Past u64, a length is no length: hyper answers 400 or 431 before any handler.
    for (what, length) in [("twice the limit", 2 * MAX_BYTES), ("1 GiB", 1 << 30), ("u64::MAX", usize::MAX)] {
        let encoding = "Content-Encoding: snappy\r\n";
        cases.push(raw(
            format!("remote write: a body of {what} announced"),
            Listener::Api,
            announced("/api/v1/write", OPS_TOKEN, "application/x-protobuf", encoding, length),
            &[400, 413, 431],
        ));
        cases.push(raw(
            format!("OTLP: a body of {what} announced"),
            Listener::Api,
            announced("/api/v1/otlp/v1/metrics", OPS_TOKEN, "application/json", "", length),
            &[400, 413, 431],
        ));
        cases.push(raw(
            format!("chat: a body of {what} announced"),
            Listener::Gateway,
            announced("/v1/chat/completions", GATEWAY_KEY, "application/json", "", length),
            &[400, 413, 431],
        ));
    }
    cases.push(raw("a gateway header injection", Listener::Gateway, format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {GATEWAY_KEY}\r\nX-A: a\rX-B: b\r\nContent-Length: 2\r\n\r\n{{}}"), &[400]));
    cases.push(raw("a gateway path traversal", Listener::Gateway, format!("GET /v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {GATEWAY_KEY}\r\nConnection: close\r\n\r\n"), &[400, 404]));
    cases
}

/// `text` cut to 200 characters, for reports.
fn short(text: &str) -> String {
    text.chars().take(200).collect()
}

/// Every file under `dir` with its length and a hash of its bytes, but
/// lock files and SQLite's shared-memory index.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, u64)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|name| {
                // SQLite's `-shm` is its WAL's index in shared memory: readers
                // mark their place in it, so it changes on every read; no
                // data lives there.
                name != "LOCK" && name != "lock" && !name.ends_with("-shm")
            }) {
                let bytes = std::fs::read(&path).expect("read");
                let hash = {
                    use std::hash::{Hash, Hasher};
                    let mut hasher = std::hash::DefaultHasher::new();
                    bytes.hash(&mut hasher);
                    hasher.finish()
                };
                files.insert(path.strip_prefix(dir).expect("under dir").to_path_buf(), (bytes.len() as u64, hash));
            }
        }
    }
    files
}

/// The process's peak resident memory (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM")
}

/// Whether an answer's body is as precise as its endpoint promises:
/// Prometheus's error JSON on the API, OpenAI's error object on the gateway.
fn precise_body(listener: Listener, path: &str, status: u16, body: &[u8]) -> Result<(), String> {
    let json = serde_json::from_slice::<Value>(body);
    match listener {
        Listener::Gateway if status != 404 && status != 405 => match json {
            Ok(v) if v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()) => Ok(()),
            _ => Err(format!("not an OpenAI error object: {}", String::from_utf8_lossy(&body[..body.len().min(200)]))),
        },
        Listener::Api
            if path.starts_with("/api/v1/")
                && !path.starts_with("/api/v1/write")
                && !path.starts_with("/api/v1/otlp")
                && status != 401
                && status != 404
                && status != 405 =>
        {
            match json {
                Ok(v)
                    if v["status"] == "error"
                        && v["errorType"].is_string()
                        && v["error"].as_str().is_some_and(|m| !m.is_empty()) =>
                {
                    Ok(())
                }
                _ => Err(format!(
                    "not Prometheus's error JSON: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                )),
            }
        }
        _ if body.is_empty() && status != 401 && status != 404 && status != 405 => Err("an empty body".to_owned()),
        _ => Ok(()),
    }
}

async fn raw_status(port: u16, bytes: &[u8]) -> Result<u16, String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    // The server may answer and close before reading everything sent.
    let _ = stream.write_all(bytes).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    if read.is_err() {
        return Err("no answer within 15 s".to_owned());
    }
    let line = String::from_utf8_lossy(&answer);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line: {:?}", &line[..line.len().min(80)]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_hostile_requests_get_precise_4xx_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let upstream = FakeUpstream::start(Behaviour::default()).await;
    let (port, gateway_port) = (free_port(), free_port());
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nself_scrape = false\nremote_write_max_bytes = \"{max}B\"\n\n\
         [storage]\npath = {data:?}\nwal_fsync_interval = \"1s\"\n\n[collectors]\nnvml = false\nhost = false\n\n\
         [quality]\nsample_rate = 1.0\n\n[[auth.token]]\nname = \"ops\"\nhash = \"sha256:{ops}\"\n\
         roles = [\"metrics\", \"exchanges\", \"ingest\", \"admin\"]\n\n[gateway]\nlisten = \"127.0.0.1:{gateway_port}\"\n\
         max_body = \"1MiB\"\napi_keys = [\"{GATEWAY_KEY}\"]\n\n[[gateway.upstream]]\nname = \"fake\"\nurl = \"{url}\"\n",
        max = MAX_BYTES,
        data = data.display().to_string(),
        ops = crate::auth::sha256_hex(OPS_TOKEN),
        url = upstream.url(),
    );
    let config_path = dir.path().join("infersight.toml");
    std::fs::write(&config_path, config).expect("write config");
    let log = std::fs::File::create(dir.path().join("infersight.log")).expect("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_infersight"))
        .args(["serve", "--config", config_path.to_str().expect("utf-8")])
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn infersight");
    let pid = child.id().expect("pid");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
    let api = format!("http://127.0.0.1:{port}");
    let gateway_base = format!("http://127.0.0.1:{gateway_port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{api}/-/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Acknowledged data before the campaign: series, and a stored exchange.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64;
    let written = client
        .post(format!("{api}/api/v1/write"))
        .bearer_auth(OPS_TOKEN)
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .body(write_body("campaign_baseline", 10, now, 1.0))
        .send()
        .await
        .expect("write");
    assert_eq!(written.status().as_u16(), 204);
    let chat = client
        .post(format!("{gateway_base}/v1/chat/completions"))
        .bearer_auth(GATEWAY_KEY)
        .json(&serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .expect("chat");
    assert_eq!(chat.status().as_u16(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page: Value = client
            .get(format!("{api}/api/v1/infersight/exchanges"))
            .bearer_auth(OPS_TOKEN)
            .send()
            .await
            .expect("exchanges")
            .json()
            .await
            .expect("json");
        if page["data"]["exchanges"].as_array().is_some_and(|e| !e.is_empty()) {
            break;
        }
        assert!(Instant::now() < deadline, "the exchange was not stored: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past the WAL's fsync interval, so nothing acknowledged is still in flight.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let before = snapshot(&data);
    let upstream_before = upstream.requests().len();
    let rss_before = peak_rss_kib(pid);

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = remote_write_cases(&mut rng);
    cases.extend(otlp_cases(&mut rng));
    cases.extend(query_cases());
    cases.extend(exchange_cases());
    cases.extend(gateway_cases(&mut rng));
    cases.extend(credential_cases());
    let raw = raw_cases();

    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for case in &cases {
        let base = if case.listener == Listener::Api { &api } else { &gateway_base };
        let mut request = client.request(case.method.clone(), format!("{base}{}", case.path)).body(case.body.clone());
        for (name, value) in &case.headers {
            request = request.header(*name, value);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                *statuses.entry(status).or_default() += 1;
                let body = response.bytes().await.unwrap_or_default();
                if !case.expect.contains(&status) {
                    wrong.push(format!(
                        "{}: {status} (expected {:?}): {}",
                        short(&case.what),
                        case.expect,
                        String::from_utf8_lossy(&body[..body.len().min(160)])
                    ));
                } else if let Err(why) = precise_body(case.listener, &case.path, status, &body) {
                    wrong.push(format!("{}: {status}, {why}", case.what));
                }
            }
            Err(err) => wrong.push(format!("{}: no answer: {}", short(&case.what), short(&err.to_string()))),
        }
        if let Ok(Some(exit)) = child.try_wait() {
            panic!("the server exited ({exit}) after {}", case.what);
        }
    }
    for case in &raw {
        let port = if case.listener == Listener::Api { port } else { gateway_port };
        match raw_status(port, &case.bytes).await {
            Ok(status) => {
                *statuses.entry(status).or_default() += 1;
                if !case.expect.contains(&status) {
                    wrong.push(format!("{}: {status} (expected {:?})", case.what, case.expect));
                }
            }
            Err(why) => wrong.push(format!("{}: {why}", case.what)),
        }
        if let Ok(Some(exit)) = child.try_wait() {
            panic!("the server exited ({exit}) after {}", case.what);
        }
    }
    let sent = cases.len() + raw.len();

    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let after = snapshot(&data);
    let rss_after = peak_rss_kib(pid);
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|path| before.get(*path) != after.get(*path))
        .map(|path| format!("{} {:?} → {:?}", path.display(), before.get(path), after.get(path)))
        .collect();
    let baseline: Value = client
        .get(format!("{api}/api/v1/query?query=count(campaign_baseline)"))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .expect("query")
        .json()
        .await
        .expect("json");
    eprintln!(
        "bad-input campaign: {sent} requests ({} over HTTP, {} raw), statuses {statuses:?}, {} not as expected; \
         peak RSS {} MiB before, {} MiB after; {} files in the data directory, {} changed {changed:?}; upstream reached {} times",
        cases.len(),
        raw.len(),
        wrong.len(),
        rss_before / 1024,
        rss_after / 1024,
        after.len(),
        changed.len(),
        upstream.requests().len() - upstream_before,
    );
    assert!(wrong.is_empty(), "{} answers were not a precise 4xx:\n{}", wrong.len(), wrong.join("\n"));
    assert!(child.try_wait().expect("wait").is_none(), "the server is still up");
    assert!(sent >= 500, "the campaign sends at least 500 requests, not {sent}");
    assert!(changed.is_empty(), "the data directory changed:\n{}", changed.join("\n"));
    assert_eq!(upstream.requests().len(), upstream_before, "nothing rejected reached the upstream");
    assert_eq!(baseline["data"]["result"][0]["value"][1], "10", "the acknowledged series are all there");
    assert!(rss_after < 1024 * 1024, "peak memory stayed under 1 GiB: {} MiB", rss_after / 1024);
}
