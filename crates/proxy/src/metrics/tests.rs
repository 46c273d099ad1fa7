//! Names, buckets and bounded labels of the gateway's metrics.

use prometheus_client::encoding::text::encode;

use super::*;

#[test]
fn model_names_past_the_cap_collapse_into_other() {
    let names = ModelNames::new(2);
    assert_eq!(names.label("a"), "a");
    assert_eq!(names.label("b"), "b");
    assert_eq!(names.label("c"), OTHER_MODEL);
    assert_eq!(names.label("a"), "a");
}

#[test]
fn histograms_use_the_opentelemetry_names_and_buckets() {
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let labels = ModelLabels {
        gen_ai_operation_name: "chat",
        gen_ai_provider_name: "openai".into(),
        gen_ai_request_model: "m".into(),
        gen_ai_response_model: "m-1".into(),
        server_address: "127.0.0.1:8000".into(),
        infersight_client: "",
        infersight_gateway_key: "team-a".into(),
    };
    metrics.observe_ttft(&labels, 0.003);
    metrics.observe_tokens(&labels, "output", 100);
    metrics.count_request("m", "team-a", 503);
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodable");
    let model = r#"gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="m",gen_ai_response_model="m-1",server_address="127.0.0.1:8000",infersight_client="",infersight_gateway_key="team-a""#;
    for line in [
        format!("gen_ai_server_time_to_first_token_seconds_bucket{{le=\"0.001\",{model}}} 0"),
        format!("gen_ai_server_time_to_first_token_seconds_bucket{{le=\"0.005\",{model}}} 1"),
        format!("gen_ai_client_token_usage_bucket{{le=\"256.0\",gen_ai_token_type=\"output\",{model}}} 1"),
        r#"infersight_gateway_requests_total{gen_ai_request_model="m",status_class="5xx",infersight_gateway_key="team-a"} 1"#.to_owned(),
        "infersight_gateway_requests_in_flight 0".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
    }
}
