//! Crash safety: every sample acknowledged before a SIGKILL is there after
//! a restart, exactly once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use series::{Matcher, Querier, SelectHints};
use tokio::sync::Mutex;

use crate::server::{Server, post_write, write_body};

const SERIES: usize = 200;
const SENDERS: u64 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_exactly_once() {
    // Recent samples: the server's own collectors write at the wall clock,
    // and retention (15 days) may remove anything much older.
    let t0 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
        - 3_600_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let mut server = Server::start(dir.path(), &data_dir).await;
    let acked: Arc<Mutex<BTreeSet<u64>>> = Arc::default();
    let sent: Arc<Mutex<BTreeSet<u64>>> = Arc::default();
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let (acked, sent, base) = (Arc::clone(&acked), Arc::clone(&sent), server.base.clone());
        senders.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            // Batches are numbered sender, sender + SENDERS, ...: each one timestamp.
            for batch in (sender..100_000).step_by(SENDERS as usize) {
                sent.lock().await.insert(batch);
                let body = write_body("crash_test", SERIES, t0 + batch as i64 * 1000, batch as f64);
                match post_write(&client, &base, body).await {
                    Ok(204) => {
                        acked.lock().await.insert(batch);
                    }
                    Ok(status) => panic!("unexpected status {status}"),
                    Err(_) => return,
                }
            }
        }));
    }
    while acked.lock().await.len() < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.start_kill().expect("SIGKILL");
    server.child.wait().await.expect("killed");
    for sender in senders {
        sender.await.expect("sender");
    }
    let acked = acked.lock().await.clone();
    let sent = sent.lock().await.clone();

    let server = Server::start(dir.path(), &data_dir).await;
    let series: serde_json::Value = reqwest::get(format!("{}/api/v1/series?match[]=crash_test", server.base))
        .await
        .expect("series request")
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    assert_eq!(series["data"].as_array().map(Vec::len), Some(SERIES), "every series is back after restart");
    assert!(server.terminate().await, "SIGTERM exits 0");

    let db = tsdb::Db::open(&data_dir, tsdb::Options::default(), tsdb::Metrics::default()).expect("open store");
    let q = db.querier();
    let stored =
        q.select(&SelectHints::range(i64::MIN, i64::MAX), &[Matcher::equal("__name__", "crash_test")]).expect("select");
    assert_eq!(stored.len(), SERIES);
    for s in &stored {
        let samples: Vec<(i64, f64)> = s.samples(i64::MIN, i64::MAX).map(|x| (x.t, x.v)).collect();
        let batches: Vec<u64> = samples.iter().map(|&(t, _)| ((t - t0) / 1000) as u64).collect();
        let unique: BTreeSet<u64> = batches.iter().copied().collect();
        assert_eq!(unique.len(), batches.len(), "{}: a sample stored twice", s.labels);
        for &(t, v) in &samples {
            let batch = ((t - t0) / 1000) as u64;
            assert_eq!(v, batch as f64, "{}: wrong value at {t}", s.labels);
            assert!(sent.contains(&batch), "{}: sample {batch} was never sent", s.labels);
        }
        let missing: Vec<&u64> = acked.iter().filter(|b| !unique.contains(b)).collect();
        assert!(missing.is_empty(), "{}: acknowledged batches lost: {missing:?}", s.labels);
    }
    eprintln!("acknowledged {} batches of {SERIES} samples before SIGKILL; all found exactly once", acked.len());
}
