//! Compaction planning: which blocks to merge next.
//!
//! Two rules, in order. Blocks that overlap in time are merged first, all of
//! an overlapping group at once, so the merged block can take the newest
//! write order. Then, for each larger range (3× and 12× the block range,
//! capped at a tenth of retention), the blocks that sit inside one aligned
//! window of that range are joined once the newest data is half a range past
//! the window's end, when no more in-order writes are expected there.

use crate::block::BlockMeta;

/// What planning needs to know of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockInfo {
    pub seq: u64,
    pub min_t: i64,
    pub max_t: i64,
}

impl BlockInfo {
    pub(crate) fn of(meta: &BlockMeta) -> BlockInfo {
        BlockInfo { seq: meta.seq, min_t: meta.min_t, max_t: meta.max_t }
    }
}

/// Blocks to merge into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub seqs: Vec<u64>,
    /// `overlap` or `level`, for the metric and logs.
    pub kind: &'static str,
}

/// The compaction ranges: the block range, then 3× and 12× it, each kept
/// only while it is at most a tenth of `retention`.
pub(crate) fn ranges(block_range: i64, retention: i64) -> Vec<i64> {
    let mut ranges = vec![block_range];
    for factor in [3, 12] {
        let range = block_range.saturating_mul(factor);
        if range <= retention / 10 {
            ranges.push(range);
        }
    }
    ranges
}

/// The next compaction, if any. `newest` is the newest timestamp in the
/// store. With `force` (an explicit flush), blocks inside one window of a
/// larger range are joined without waiting for the window to be past, as
/// VictoriaMetrics' force merge does; later writes into that window become
/// an overlapping block that the next compaction merges in.
pub(crate) fn plan(blocks: &[BlockInfo], ranges: &[i64], newest: i64, force: bool) -> Option<Plan> {
    let mut by_start: Vec<BlockInfo> = blocks.to_vec();
    by_start.sort_by_key(|b| (b.min_t, b.seq));
    let mut group: Vec<BlockInfo> = Vec::new();
    let mut group_max = i64::MIN;
    for block in by_start {
        if !group.is_empty() && block.min_t > group_max {
            if group.len() > 1 {
                break;
            }
            group.clear();
        }
        group_max = if group.is_empty() { block.max_t } else { group_max.max(block.max_t) };
        group.push(block);
    }
    if group.len() > 1 {
        return Some(Plan { seqs: group.iter().map(|b| b.seq).collect(), kind: "overlap" });
    }
    for &range in ranges.iter().skip(1) {
        let mut windows: std::collections::BTreeMap<i64, Vec<u64>> = std::collections::BTreeMap::new();
        for b in blocks {
            let window = b.min_t.div_euclid(range);
            if b.max_t.div_euclid(range) == window {
                windows.entry(window).or_default().push(b.seq);
            }
        }
        for (window, seqs) in windows {
            let window_end = (window + 1).saturating_mul(range);
            if seqs.len() > 1 && (force || window_end.saturating_add(range / 2) <= newest) {
                return Some(Plan { seqs, kind: "level" });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn b(seq: u64, min_t: i64, max_t: i64) -> BlockInfo {
        BlockInfo { seq, min_t, max_t }
    }

    #[test]
    fn overlapping_blocks_merge_first_as_one_group() {
        let blocks = [b(1, 0, 2 * H - 1), b(2, H, 2 * H - 1), b(3, 2 * H, 4 * H - 1), b(4, 90 * H, 91 * H)];
        assert_eq!(plan(&blocks, &[2 * H], 100 * H, false), Some(Plan { seqs: vec![1, 2], kind: "overlap" }));
    }

    #[test]
    fn adjacent_windows_join_once_the_range_is_past() {
        let ranges = ranges(2 * H, 15 * 24 * H);
        assert_eq!(ranges, vec![2 * H, 6 * H, 24 * H]);
        let blocks = [b(1, 0, 2 * H - 1), b(2, 2 * H, 4 * H - 1), b(3, 4 * H, 6 * H - 1)];
        assert_eq!(plan(&blocks, &ranges, 8 * H, false), None, "6h window not yet half a range behind");
        assert_eq!(plan(&blocks, &ranges, 8 * H, true), Some(Plan { seqs: vec![1, 2, 3], kind: "level" }));
        assert_eq!(plan(&blocks, &ranges, 9 * H, false), Some(Plan { seqs: vec![1, 2, 3], kind: "level" }));
    }

    #[test]
    fn short_retention_caps_block_size() {
        assert_eq!(ranges(2 * H, 24 * H), vec![2 * H]);
    }
}
