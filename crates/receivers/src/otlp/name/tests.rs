//! Tests of OTel-to-Prometheus name translation, cases from Prometheus's own.

use super::*;

fn check(name: &str, unit: &str, metric_type: MetricType, expect: &str) {
    assert_eq!(metric_name(name, unit, metric_type).as_deref(), Some(expect), "{name:?} {unit:?} {metric_type:?}");
}

#[test]
fn gen_ai_metrics_get_the_names_of_the_design() {
    use MetricType::Histogram;
    check("gen_ai.client.operation.duration", "s", Histogram, "gen_ai_client_operation_duration_seconds");
    check("gen_ai.client.token.usage", "{token}", Histogram, "gen_ai_client_token_usage");
    check("gen_ai.server.time_to_first_token", "s", Histogram, "gen_ai_server_time_to_first_token_seconds");
    check("gen_ai.server.time_per_output_token", "s", Histogram, "gen_ai_server_time_per_output_token_seconds");
    check("gen_ai.server.request.duration", "s", Histogram, "gen_ai_server_request_duration_seconds");
}

#[test]
fn invalid_characters_split_the_name_and_runs_collapse() {
    use MetricType::Gauge;
    check("http.server.active_requests", "", Gauge, "http_server_active_requests");
    check("a..b__c--d", "", Gauge, "a_b_c_d");
    check("_leading.and.trailing_", "", Gauge, "leading_and_trailing");
    check("vllm:num_requests_running", "", Gauge, "vllm:num_requests_running");
    check("2xx.responses", "", Gauge, "_2xx_responses");
    check("température", "Cel", Gauge, "temp_rature_celsius");
}

#[test]
fn units_become_suffixes_unless_already_there() {
    use MetricType::{Gauge, Histogram, MonotonicCounter, NonMonotonicCounter};
    check("process.memory.usage", "By", Gauge, "process_memory_usage_bytes");
    check("request.duration", "ms", Histogram, "request_duration_milliseconds");
    check("latency.seconds", "s", Histogram, "latency_seconds");
    check("network.io", "By/s", Gauge, "network_io_bytes_per_second");
    check("throughput", "{request}/s", Gauge, "throughput_per_second");
    check("tokens", "{token}", MonotonicCounter, "tokens_total");
    check("queue.size", "{request}", NonMonotonicCounter, "queue_size");
    check("disk", "KiBy", Gauge, "disk_kibibytes");
    check("temp", "Cel", Gauge, "temp_celsius");
    check("odd", "foo bar", Gauge, "odd_foo_bar");
    check("odd", "m/mo", Gauge, "odd_meters_per_month");
    check("odd", "1/s", MonotonicCounter, "odd_per_second_total");
}

#[test]
fn type_suffixes_follow_the_unit() {
    use MetricType::{Gauge, Histogram, MonotonicCounter, NonMonotonicCounter, Summary};
    check("http.requests", "1", MonotonicCounter, "http_requests_total");
    check("requests.total.count", "", MonotonicCounter, "requests_count_total");
    check("cpu.time", "s", MonotonicCounter, "cpu_time_seconds_total");
    check("kv_cache.usage", "1", Gauge, "kv_cache_usage_ratio");
    check("hit.ratio", "1", Gauge, "hit_ratio");
    check("hit.ratio.value", "1", Gauge, "hit_value_ratio");
    check("kv_cache.usage", "1", NonMonotonicCounter, "kv_cache_usage");
    check("kv_cache.usage", "1", Histogram, "kv_cache_usage");
    check("rpc.duration", "ms", Summary, "rpc_duration_milliseconds");
    check("", "", MonotonicCounter, "total");
}

#[test]
fn names_that_translate_to_nothing_are_refused() {
    assert_eq!(metric_name("", "", MetricType::Gauge), None);
    assert_eq!(metric_name("...", "{x}", MetricType::Histogram), None);
    assert_eq!(metric_name("é", "1", MetricType::Summary), None);
}

#[test]
fn attribute_keys_become_label_names() {
    let check = |key: &str, expect: Option<&str>| assert_eq!(label_name(key).as_deref(), expect, "{key:?}");
    check("gen_ai.request.model", Some("gen_ai_request_model"));
    check("gen_ai.token.type", Some("gen_ai_token_type"));
    check("error.type", Some("error_type"));
    check("server.address", Some("server_address"));
    check("http.response.status_code", Some("http_response_status_code"));
    check("a..b", Some("a__b"));
    check("k8s.pod.name", Some("k8s_pod_name"));
    check("0day", Some("key_0day"));
    check("_private", Some("key_private"));
    check("__reserved__", Some("__reserved__"));
    check("naïve", Some("na_ve"));
    check("", None);
    check("...", None);
}

proptest::proptest! {
    #[test]
    fn translated_names_are_valid_prometheus_names(name in "\\PC{0,24}", unit in "\\PC{0,8}", key in "\\PC{0,16}") {
        for metric_type in [
            MetricType::Gauge,
            MetricType::MonotonicCounter,
            MetricType::NonMonotonicCounter,
            MetricType::Histogram,
            MetricType::Summary,
        ] {
            if let Some(translated) = metric_name(&name, &unit, metric_type) {
                proptest::prop_assert!(series::is_valid_metric_name(&translated), "{name:?} {unit:?} -> {translated:?}");
                proptest::prop_assert!(!translated.contains("__"), "{translated:?}");
            }
        }
        if let Some(label) = label_name(&key) {
            proptest::prop_assert!(series::is_valid_label_name(&label), "{key:?} -> {label:?}");
        }
    }
}
