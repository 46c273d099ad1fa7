//! The agreement statistics against hand-computed tables, the reading of
//! labelled JSONL, and the printed summary.

use super::*;

/// A table as `[[human pass: judge pass, judge fail], [human fail: judge pass, judge fail]]`.
fn table([[pass_pass, pass_fail], [fail_pass, fail_fail]]: [[u64; 2]; 2]) -> Confusion {
    Confusion { pass_pass, pass_fail, fail_pass, fail_fail }
}

/// Checks accuracy, kappa, precision, recall and F1 of `cells`, to 1e-9.
fn check(cells: [[u64; 2]; 2], expect: [Option<f64>; 5]) {
    let c = table(cells);
    let got = [c.accuracy(), c.kappa(), c.precision(), c.recall(), c.f1()];
    for (name, (got, expect)) in ["accuracy", "kappa", "precision", "recall", "f1"].iter().zip(got.iter().zip(expect)) {
        match (got, expect) {
            (Some(got), Some(expect)) => assert!((got - expect).abs() < 1e-9, "{name} of {cells:?}: {got} != {expect}"),
            _ => assert_eq!(*got, expect, "{name} of {cells:?}"),
        }
    }
}

#[test]
fn kappa_and_f1_match_hand_computed_tables() {
    // n = 50, p_o = 35/50 = 0.7; the human passes 25/50, the judge 30/50, so
    // p_e = 0.5·0.6 + 0.5·0.4 = 0.5 and kappa = (0.7 − 0.5)/(1 − 0.5) = 0.4.
    // Fail: precision 15/20, recall 15/25, F1 = 30/(30 + 5 + 10) = 2/3.
    check([[20, 5], [10, 15]], [Some(0.7), Some(0.4), Some(0.75), Some(0.6), Some(2.0 / 3.0)]);
    // n = 100, p_o = 0.6; p_e = 0.6·0.7 + 0.4·0.3 = 0.54; kappa = 0.06/0.46.
    // Fail: precision 15/30, recall 15/40, F1 = 30/70.
    check([[45, 15], [25, 15]], [Some(0.6), Some(0.06 / 0.46), Some(0.5), Some(0.375), Some(3.0 / 7.0)]);
    // Perfect agreement.
    check([[10, 0], [0, 10]], [Some(1.0), Some(1.0), Some(1.0), Some(1.0), Some(1.0)]);
}

#[test]
fn a_judge_no_better_than_its_habit_has_kappa_zero_or_below() {
    // Fails everything: half right, p_e = 0.5, kappa 0; every human fail caught.
    check([[0, 5], [0, 5]], [Some(0.5), Some(0.0), Some(0.5), Some(1.0), Some(2.0 / 3.0)]);
    // Always the opposite call: kappa −1, and F1 is 0, not undefined.
    check([[0, 5], [5, 0]], [Some(0.0), Some(-1.0), Some(0.0), Some(0.0), Some(0.0)]);
}

#[test]
fn statistics_that_divide_by_zero_are_none() {
    // Everyone passes everything: agreement is certain by chance, and there is no fail to find.
    check([[10, 0], [0, 0]], [Some(1.0), None, None, None, None]);
    // The judge never fails: precision is undefined, recall is 0.
    check([[5, 0], [5, 0]], [Some(0.5), Some(0.0), None, Some(0.0), Some(0.0)]);
    check([[0, 0], [0, 0]], [None, None, None, None, None]);
}

#[test]
fn bad_lines_are_skipped_with_their_line_number() {
    let text = concat!(
        r#"{"id": "a", "prompt": "p", "answer": "x", "reference": "r", "label": "pass", "note": "ignored"}"#,
        "\n\n",
        "{not json\n",
        r#"{"id": "b", "prompt": "p", "answer": "x", "label": "maybe"}"#,
        "\n",
        r#"{"id": "c", "prompt": "p", "label": "fail"}"#,
        "\n",
        r#"{"id": "a", "prompt": "p", "answer": "y", "label": "fail"}"#,
        "\n",
        r#"{"id": "d", "prompt": "p", "answer": "y", "context": "ctx", "label": "fail"}"#,
        "\n",
    );
    let read = read_items(text.as_bytes()).expect("reads");
    let ids: Vec<&str> = read.items.iter().map(|item| item.id.as_str()).collect();
    assert_eq!(ids, ["a", "d"]);
    assert_eq!(read.items[0].reference.as_deref(), Some("r"));
    assert_eq!(read.items[1].request(), "ctx\n\np");
    let lines: Vec<usize> = read.bad_lines.iter().map(|bad| bad.line).collect();
    assert_eq!(lines, [3, 4, 5, 6]);
    assert!(read.bad_lines[1].message.contains("unknown variant `maybe`"), "{}", read.bad_lines[1]);
    assert!(read.bad_lines[2].message.contains("missing field `answer`"), "{}", read.bad_lines[2]);
    assert_eq!(read.bad_lines[3].to_string(), "line 6: id \"a\" is already used by line 1");
}

fn judgement(id: &str, label: Label, outcome: Result<(&str, f64), Failure>) -> Judgement {
    let outcome =
        outcome.map(|(verdict_label, score)| Verdict { score, label: verdict_label.to_string(), reason: "r".into() });
    let judge_label = outcome.as_ref().ok().map(|v| if v.label == "incorrect" { Label::Fail } else { Label::Pass });
    Judgement { id: id.to_string(), label, outcome, judge_label }
}

#[test]
fn the_report_counts_failures_by_reason_and_prints_the_table() {
    let judgements = [
        judgement("1", Label::Pass, Ok(("correct", 0.9))),
        judgement("2", Label::Pass, Ok(("incorrect", 0.2))),
        judgement("3", Label::Fail, Ok(("incorrect", 0.1))),
        judgement("4", Label::Fail, Ok(("incorrect", 0.1))),
        judgement("5", Label::Fail, Err(Failure::Timeout)),
        judgement("6", Label::Pass, Err(Failure::MissingInput("a reference"))),
        judgement("7", Label::Pass, Err(Failure::Timeout)),
    ];
    let report = Report::new(&judgements, 2);
    assert_eq!((report.items, report.bad_lines, report.judged), (7, 2, 4));
    assert_eq!(report.confusion, table([[1, 1], [0, 2]]));
    assert_eq!(
        report.to_string(),
        concat!(
            "items       7 (2 bad lines skipped)\n",
            "judged      4\n",
            "failures    missing_input 1, timeout 2\n",
            "\n",
            "              judge pass  judge fail\n",
            "human pass             1           1\n",
            "human fail             0           2\n",
            "\n",
            "accuracy    0.750\n",
            "kappa       0.500\n",
            "fail        precision 0.667  recall 1.000  F1 0.800\n",
        )
    );
    let empty = Report::new(&[], 0).to_string();
    assert!(empty.contains("failures    none\n") && empty.contains("kappa       n/a\n"), "{empty}");
}

#[test]
fn each_judgement_is_one_output_line() {
    let judged = judgement("1", Label::Fail, Ok(("incorrect", 0.1))).to_json();
    assert_eq!(
        judged,
        json!({"id": "1", "label": "fail", "judge": "fail", "verdict": {"score": 0.1, "label": "incorrect", "reason": "r"}})
    );
    let failed = judgement("2", Label::Pass, Err(Failure::Timeout)).to_json();
    assert_eq!(
        failed,
        json!({"id": "2", "label": "pass", "judge": null, "failure": "timeout", "error": "the judge did not answer in time"})
    );
}
