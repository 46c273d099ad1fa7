//! Tests of the flat series buffer and of label merging.

use super::*;

/// Every series of `buf`, formatted as `{a="1"} v`.
fn describe(buf: &SeriesBuf) -> Vec<String> {
    let mut labels = Vec::new();
    (0..buf.len())
        .map(|i| {
            let sample = buf.fill(i, &mut labels);
            let pairs: Vec<String> = labels.iter().map(|l| format!("{}={:?}", l.name, l.value)).collect();
            format!("{{{}}} {}", pairs.join(", "), sample.v)
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|&(n, v)| (n.to_owned(), v.to_owned())).collect()
}

#[test]
fn series_get_the_name_and_extra_label_in_name_order() {
    let labels = owned(&[("Zone", "eu"), ("empty", ""), ("job", "chat"), ("le", "attribute"), ("model", "m")]);
    let mut buf = SeriesBuf::default();
    let mut builder = SeriesLabels::new(&labels);
    builder.push(&mut buf, "h_bucket", Some(("le", "0.5")), Sample { t: 1, v: 2.0 });
    builder.push(&mut buf, "h_count", None, Sample { t: 1, v: 3.0 });
    builder.push(&mut buf, "h", Some(("A", "first")), Sample { t: 1, v: 4.0 });
    assert_eq!(
        describe(&buf),
        [
            r#"{Zone="eu", __name__="h_bucket", job="chat", le="0.5", model="m"} 2"#,
            r#"{Zone="eu", __name__="h_count", job="chat", le="attribute", model="m"} 3"#,
            r#"{A="first", Zone="eu", __name__="h", job="chat", le="attribute", model="m"} 4"#,
        ]
    );
}

#[test]
fn truncating_to_a_mark_forgets_what_came_after() {
    let labels = owned(&[("job", "chat")]);
    let mut buf = SeriesBuf::default();
    let mut builder = SeriesLabels::new(&labels);
    builder.push(&mut buf, "kept", None, Sample { t: 1, v: 1.0 });
    let mark = buf.mark();
    builder.push(&mut buf, "dropped", Some(("le", "1")), Sample { t: 2, v: 2.0 });
    for sample in buf.samples_mut(mark.samples) {
        sample.v = 5.0;
    }
    assert_eq!(buf.samples(0).map(|s| s.v).collect::<Vec<_>>(), [1.0, 5.0]);
    buf.truncate(mark);
    builder.push(&mut buf, "next", None, Sample { t: 3, v: 3.0 });
    assert_eq!(describe(&buf), [r#"{__name__="kept", job="chat"} 1"#, r#"{__name__="next", job="chat"} 3"#]);
}
