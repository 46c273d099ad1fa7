//! Reading requests and responses of the OpenAI API.

use super::*;

#[test]
fn requests_need_a_json_object_with_a_model() {
    let head = RequestHead::parse(br#" {"model":"m","stream":true}"#).expect("valid");
    assert_eq!(head.model.as_deref(), Some("m"));
    assert!(head.is_stream() && !head.asks_usage());
    assert!(matches!(RequestHead::parse(b"[1]"), Err(BadRequest::NotJson(_))));
    assert!(matches!(RequestHead::parse(b"{\"model\":"), Err(BadRequest::NotJson(_))));
    assert!(matches!(RequestHead::parse(br#"{"model":7}"#), Err(BadRequest::NotJson(_))));
    assert_eq!(RequestHead::parse(br#"{"messages":[]}"#).err(), Some(BadRequest::NoModel));
    assert_eq!(RequestHead::parse(br#"{"model":""}"#).err(), Some(BadRequest::NoModel));
}

#[test]
fn usage_is_requested_by_splicing_in_stream_options() {
    let body = Bytes::from_static(br#"{"model":"m","stream":true}"#);
    let head = RequestHead::parse(&body).expect("valid");
    let sent = with_usage_requested(&body, &head).expect("rewritten");
    assert_eq!(&sent[..], br#"{"stream_options":{"include_usage":true},"model":"m","stream":true}"#);

    let body = Bytes::from_static(br#"{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":1}}"#);
    let head = RequestHead::parse(&body).expect("valid");
    let sent = with_usage_requested(&body, &head).expect("rewritten");
    let sent: serde_json::Value = serde_json::from_slice(&sent).expect("JSON");
    assert_eq!(sent["stream_options"], serde_json::json!({"include_usage": true, "x": 1}));

    let body = Bytes::from_static(br#"{"model":"m","stream":true,"stream_options":null}"#);
    let head = RequestHead::parse(&body).expect("valid");
    let sent = with_usage_requested(&body, &head).expect("rewritten");
    assert_eq!(&sent[..], br#"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#);
}

#[test]
fn request_text_is_role_lines_or_the_prompt() {
    let chat = br#"{"messages":[{"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"image_url"}]}]}"#;
    assert_eq!(request_text(Operation::Chat, chat), "system: Be brief.\nuser: Hi");
    assert_eq!(request_text(Operation::TextCompletion, br#"{"prompt":["a","b"]}"#), "a\nb");
    assert_eq!(request_text(Operation::TextCompletion, br#"{"prompt":[1,2,3]}"#), "");
    assert_eq!(request_text(Operation::Embeddings, br#"{"input":"x"}"#), "x");
}

#[test]
fn requests_no_upstream_could_answer_are_refused_by_shape() {
    let refused = |operation, body: &[u8]| match RequestHead::parse(body).and_then(|head| head.check(operation)) {
        Err(BadRequest::NotJson(message)) => message,
        other => panic!("{} was not refused: {other:?}", String::from_utf8_lossy(body)),
    };
    assert!(refused(Operation::Chat, br#"{"model":"m","messages":"hi"}"#).contains("not one the API takes"));
    refused(Operation::Chat, br#"{"model":"m","messages":[1,2]}"#);
    refused(Operation::Chat, br#"{"model":"m","messages":[{"role":"user","content":5}]}"#);
    refused(Operation::Chat, br#"{"model":"m","messages":[{"content":"hi"}]}"#);
    assert!(refused(Operation::Chat, br#"{"model":"m"}"#).contains("`messages` is required"));
    refused(Operation::TextCompletion, br#"{"model":"m","prompt":{}}"#);
    refused(Operation::Embeddings, br#"{"model":"m","input":{}}"#);
    refused(Operation::Embeddings, br#"{"model":"m"}"#);
    let accepted = |operation, body: &[u8]| {
        RequestHead::parse(body).and_then(|head| head.check(operation)).expect("accepted");
    };
    accepted(
        Operation::Chat,
        br#"{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null}]}"#,
    );
    accepted(Operation::Chat, br#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"#);
    accepted(Operation::Chat, br#"{"model":"m","messages":[],"extra":{"vendor":1}}"#);
    accepted(Operation::TextCompletion, br#"{"model":"m","prompt":[1,2,3]}"#);
    accepted(Operation::TextCompletion, br#"{"model":"m"}"#);
    accepted(Operation::Embeddings, br#"{"model":"m","input":["a","b"]}"#);
}

#[test]
fn issue_20_the_user_is_an_id_of_at_most_256_bytes_and_refusals_never_repeat_it() {
    let head = |body: &str| -> Result<Option<String>, BadRequest> {
        let head = RequestHead::parse(body.as_bytes())?;
        head.check(Operation::Chat)?;
        Ok(head.user().map(str::to_owned))
    };
    let chat = |user: &str| format!(r#"{{"model":"m","messages":[],"user":{user}}}"#);
    assert_eq!(head(&chat(r#""alice""#)), Ok(Some("alice".to_owned())));
    assert_eq!(head(&chat(r#""al\u0069ce""#)), Ok(Some("alice".to_owned())), "escapes are read");
    assert_eq!(head(&chat(r#""""#)), Ok(None), "an empty user is none");
    assert_eq!(head(&chat("null")), Ok(None));
    assert_eq!(head(r#"{"model":"m","messages":[]}"#), Ok(None));
    assert_eq!(head(&chat(&format!("{:?}", "u".repeat(256)))), Ok(Some("u".repeat(256))));
    let long = "secret-user-".repeat(30);
    match head(&chat(&format!("{long:?}"))) {
        Err(BadRequest::NotJson(message)) => {
            assert_eq!(message, "`user` must be at most 256 bytes");
        }
        other => panic!("a long user was not refused: {other:?}"),
    }
    assert!(matches!(head(&chat("42")), Err(BadRequest::NotJson(_))), "OpenAI's `user` is a string");
}
