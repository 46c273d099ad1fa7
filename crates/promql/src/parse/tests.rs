use super::*;

fn check_rewrite(query: &str, expect: Option<&str>) {
    assert_eq!(with_info_placeholders(query).as_deref(), expect, "{query}");
}

#[test]
fn info_selectors_get_a_placeholder() {
    check_rewrite(r#"info(m, {data=~".*"})"#, Some(r#"info(m, {__infersight_info_placeholder__="1",data=~".*"})"#));
    check_rewrite(r#"info(m, {})"#, Some(r#"info(m, {__infersight_info_placeholder__="1"})"#));
    check_rewrite(
        r#"info(rate(m[5m]), {a=""}) + info(x, {b=~".*"})"#,
        Some(
            r#"info(rate(m[5m]), {__infersight_info_placeholder__="1",a=""}) + info(x, {__infersight_info_placeholder__="1",b=~".*"})"#,
        ),
    );
    check_rewrite(r#"info(m)"#, None);
    check_rewrite(r#"sum(m, {a=""})"#, None);
}

#[test]
fn info_selectors_matching_the_empty_string_parse() {
    assert!(parse(r#"info(m, {data=~".*"})"#).is_ok());
    assert!(parse(r#"{data=~".*"}"#).is_err());
}
