//! The store under a failing WAL.

use series::{Appendable, LabelRef, Labels, Matcher, Querier, SelectHints};

use super::*;

fn append(db: &Db, labels: &Labels, t: i64) -> series::Result<usize> {
    let refs: Vec<LabelRef<'_>> = labels.iter().collect();
    let mut app = db.appender();
    app.append(&refs, t, 1.0);
    app.commit()
}

#[test]
fn a_failed_wal_write_is_unavailable_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options::default(), Metrics::default()).expect("open");
    let up = Labels::from_pairs([("__name__", "up")]);
    db.wal.lock().set_fail_writes(true);
    assert!(matches!(append(&db, &up, 1000), Err(series::Error::Unavailable { .. })));
    let q = db.querier();
    let all = SelectHints::range(i64::MIN, i64::MAX);
    assert!(q.select(&all, &[Matcher::equal("__name__", "up")]).expect("select").is_empty());

    db.wal.lock().set_fail_writes(false);
    append(&db, &up, 2000).expect("commit after recovery");
    drop(q);
    drop(db);
    // The series record was written with the successful batch, so replay finds it.
    let db = Db::open(dir.path(), Options::default(), Metrics::default()).expect("reopen");
    let got = db.querier().select(&all, &[Matcher::equal("__name__", "up")]).expect("select");
    assert_eq!(got[0].samples(i64::MIN, i64::MAX).map(|s| s.t).collect::<Vec<_>>(), vec![2000]);
}
