//! Deploy markers posted to a running server come back from the list and as the `infersight_annotation` series.

use serde_json::{Value, json};

use crate::server::Server;

#[tokio::test]
async fn a_posted_annotation_is_listed_and_queryable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &dir.path().join("data")).await;
    let client = reqwest::Client::new();
    let posted: Value = client
        .post(format!("{}/api/v1/infersight/annotations", server.base))
        .json(&json!({"time": 1_700_000_000, "text": "deploy fp8", "tags": ["deploy"], "model": "llama"}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("JSON");
    assert_eq!(posted["status"], "success", "{posted}");
    let get = |path: String| {
        let client = client.clone();
        async move { client.get(path).send().await.expect("get").json::<Value>().await.expect("JSON") }
    };
    let listed = get(format!("{}/api/v1/infersight/annotations?start=1699990000&end=1700010000", server.base)).await;
    assert_eq!(listed["data"][0]["text"], "deploy fp8", "{listed}");
    let queried = get(format!(
        "{}/api/v1/query_range?query=infersight_annotation&start=1699999980&end=1700000100&step=60",
        server.base
    ))
    .await;
    let series = &queried["data"]["result"][0];
    assert_eq!(series["metric"]["tags"], "deploy", "{queried}");
    assert_eq!(series["values"][0], json!([1_700_000_040, "1700000000"]));
    assert!(server.terminate().await);
}
