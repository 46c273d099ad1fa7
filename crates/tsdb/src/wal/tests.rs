//! WAL segments and records: replay, torn tails, checksums, failed writes.

use proptest::prelude::*;
use series::Labels;

use super::*;

fn replay(dir: &Path) -> (Vec<String>, ReplayStats) {
    let mut seen = Vec::new();
    let (_, stats) = Wal::open(dir, |r| seen.push(format!("{r:?}"))).expect("open");
    (seen, stats)
}

fn write_batch(wal: &mut Wal, series_ref: u64, t: i64) {
    let mut enc = RecordEncoder::default();
    enc.series(series_ref, &Labels::from_pairs([("__name__", "up")]));
    enc.samples(&[(series_ref, t, 1.5)]);
    wal.write(&enc.buf).expect("write");
}

#[test]
fn records_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut wal, _) = Wal::open(dir.path(), |_| {}).expect("open");
    write_batch(&mut wal, 7, 1000);
    drop(wal);
    let (seen, stats) = replay(dir.path());
    assert_eq!(stats.records, 2);
    assert_eq!(seen[1], "Samples([(7, 1000, 1.5)])");
}

#[test]
fn torn_tail_is_truncated_and_earlier_records_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut wal, _) = Wal::open(dir.path(), |_| {}).expect("open");
    write_batch(&mut wal, 1, 1000);
    write_batch(&mut wal, 2, 2000);
    let path = wal.path();
    drop(wal);
    let len = fs::metadata(&path).expect("stat").len();
    OpenOptions::new().write(true).open(&path).expect("open").set_len(len - 3).expect("cut");
    let (seen, stats) = replay(dir.path());
    assert_eq!(stats.records, 3, "{seen:?}");
    assert!(stats.truncated_bytes > 0);
    // The repaired log replays cleanly a second time.
    let (_, stats) = replay(dir.path());
    assert_eq!((stats.records, stats.truncated_bytes), (3, 0));
}

#[test]
fn flipped_bit_is_detected_by_checksum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut wal, _) = Wal::open(dir.path(), |_| {}).expect("open");
    write_batch(&mut wal, 1, 1000);
    let path = wal.path();
    drop(wal);
    let mut data = fs::read(&path).expect("read");
    let last = data.len() - 1;
    data[last] ^= 1;
    fs::write(&path, data).expect("write");
    let (_, stats) = replay(dir.path());
    assert_eq!(stats.records, 1);
}

#[test]
fn failed_write_leaves_no_partial_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut wal, _) = Wal::open(dir.path(), |_| {}).expect("open");
    write_batch(&mut wal, 1, 1000);
    wal.set_fail_writes(true);
    let mut enc = RecordEncoder::default();
    enc.samples(&[(1, 2000, 2.0)]);
    assert!(matches!(wal.write(&enc.buf), Err(Error::Io { action: "write", .. })));
    wal.set_fail_writes(false);
    write_batch(&mut wal, 1, 3000);
    drop(wal);
    let (seen, _) = replay(dir.path());
    assert_eq!(seen.len(), 4);
    assert!(!seen.iter().any(|r| r.contains("2000")));
}

#[test]
fn rotation_and_removal_of_old_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut wal, _) = Wal::open(dir.path(), |_| {}).expect("open");
    write_batch(&mut wal, 1, 1000);
    let next = wal.rotate().expect("rotate");
    write_batch(&mut wal, 2, 2000);
    wal.remove_before(next).expect("remove");
    drop(wal);
    let (seen, _) = replay(dir.path());
    assert_eq!(seen.len(), 2);
    assert!(seen[1].contains("2000"));
}

proptest! {
    #[test]
    fn samples_records_round_trip(samples in prop::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 1..100)) {
        let samples: Vec<(u64, i64, f64)> = samples.into_iter().map(|(r, t, v)| (r, t, f64::from_bits(v))).collect();
        let mut enc = RecordEncoder::default();
        enc.samples(&samples);
        let (record, len) = decode_record(&enc.buf).expect("decode");
        prop_assert_eq!(len, enc.buf.len());
        let Record::Samples(got) = record else { panic!("not samples") };
        let bits = |s: &[(u64, i64, f64)]| s.iter().map(|&(r, t, v)| (r, t, v.to_bits())).collect::<Vec<_>>();
        prop_assert_eq!(bits(&got), bits(&samples));
    }

    #[test]
    fn series_records_round_trip(series_ref in any::<u64>(), pairs in prop::collection::vec(("[a-z_]{1,8}", "\\PC{1,12}"), 0..6)) {
        let labels = Labels::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let mut enc = RecordEncoder::default();
        enc.series(series_ref, &labels);
        let (record, _) = decode_record(&enc.buf).expect("decode");
        prop_assert_eq!(record, Record::Series { series_ref, labels: labels.as_bytes() });
    }

    #[test]
    fn decoding_garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_record(&data);
    }
}
