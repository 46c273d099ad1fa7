//! Reading: one view over the blocks and heads as they were when the
//! querier was made, merged series by series.

use std::collections::BTreeSet;
use std::sync::Arc;

use series::{Matcher, Querier, Queryable, SelectHints, Series};

use crate::block::Block;
use crate::db::{Db, coalesce};
use crate::head::Head;

/// A consistent view of the store. Holding it keeps its blocks mapped
/// even if compaction or retention removes them meanwhile.
#[derive(Debug)]
pub struct DbQuerier {
    /// Oldest writes first.
    blocks: Vec<Arc<Block>>,
    /// Frozen heads, then the live head.
    heads: Vec<Arc<Head>>,
}

impl Db {
    /// A querier over everything committed so far.
    pub fn querier(&self) -> DbQuerier {
        let state = self.state.read();
        DbQuerier {
            blocks: state.blocks.clone(),
            heads: state.frozen.iter().map(|f| Arc::clone(&f.head)).chain([Arc::clone(&state.head)]).collect(),
        }
    }
}

impl Querier for DbQuerier {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> series::Result<Vec<Series>> {
        let mut parts: Vec<Vec<Series>> = Vec::new();
        for block in &self.blocks {
            let found = block.select(hints, matchers)?;
            if !found.is_empty() {
                parts.push(found);
            }
        }
        for head in &self.heads {
            let mut found = head.select(hints, matchers);
            if !found.is_empty() {
                found.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
                parts.push(found);
            }
        }
        Ok(match parts.len() {
            0 => Vec::new(),
            1 => parts.pop().expect("one part"),
            _ => {
                // Stable sort keeps each series' chunks in source order: older writes first.
                let mut all: Vec<Series> = parts.into_iter().flatten().collect();
                all.sort_by(|a, b| a.labels.cmp(&b.labels));
                coalesce(all)
            }
        })
    }

    fn label_names(&self, hints: &SelectHints, matchers: &[Matcher]) -> series::Result<Vec<String>> {
        if matchers.is_empty() {
            return Ok(self.names_or_values(hints, None));
        }
        let hints = SelectHints { labels_only: true, ..*hints };
        let mut names = BTreeSet::new();
        for series in self.select(&hints, matchers)? {
            for label in &series.labels {
                if !names.contains(label.name) {
                    names.insert(label.name.to_owned());
                }
            }
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, hints: &SelectHints, matchers: &[Matcher]) -> series::Result<Vec<String>> {
        if matchers.is_empty() {
            return Ok(self.names_or_values(hints, Some(name)));
        }
        let hints = SelectHints { labels_only: true, ..*hints };
        let mut values = BTreeSet::new();
        for series in self.select(&hints, matchers)? {
            if let Some(v) = series.labels.get(name) {
                values.insert(v.to_owned());
            }
        }
        Ok(values.into_iter().collect())
    }
}

impl DbQuerier {
    /// Names (or values of `name`) straight from the postings of every block
    /// and head whose time range overlaps the hinted one, as Prometheus
    /// answers these questions without matchers.
    fn names_or_values(&self, hints: &SelectHints, name: Option<&str>) -> Vec<String> {
        let mut out = BTreeSet::new();
        for block in self.blocks.iter().filter(|b| b.meta.min_t <= hints.maxt && b.meta.max_t >= hints.mint) {
            out.extend(block.label_names_or_values(name));
        }
        for head in &self.heads {
            if head.time_range().is_some_and(|(min, max)| min <= hints.maxt && max >= hints.mint) {
                out.extend(head.label_names_or_values(name));
            }
        }
        out.into_iter().collect()
    }
}

impl Queryable for Db {
    fn querier(&self) -> series::Result<Box<dyn Querier + '_>> {
        Ok(Box::new(Db::querier(self)))
    }
}
