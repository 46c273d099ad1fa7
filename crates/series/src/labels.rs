//! Label sets: the identity of a series.
//!
//! A [`Labels`] value is one immutable, reference-counted byte string that
//! holds every `name=value` pair sorted by name, each string prefixed with its
//! length as a LEB128 varint. A set of ten labels costs one allocation and a
//! few hundred bytes, which matters when the head holds a million series; the
//! same bytes are the series' hash input and its on-disk key, so looking a
//! series up never builds a structure per label.

use std::fmt;
use std::sync::Arc;

/// The label that holds a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// A borrowed label: a name and a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelRef<'a> {
    /// The label name.
    pub name: &'a str,
    /// The label value.
    pub value: &'a str,
}

impl<'a> LabelRef<'a> {
    /// A label from its name and value.
    pub fn new(name: &'a str, value: &'a str) -> Self {
        LabelRef { name, value }
    }
}

/// An immutable, sorted set of labels with unique names.
///
/// Sets order as in Prometheus: label by label, by name then value, and a
/// set that is a prefix of another first.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Labels(Arc<[u8]>);

impl Ord for Labels {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Labels {
    /// The empty label set.
    pub fn empty() -> Labels {
        Labels(Arc::from(&[][..]))
    }

    /// Labels from pairs that are already sorted by name with unique names.
    ///
    /// # Panics
    ///
    /// In debug builds, if the pairs are not sorted or names repeat.
    pub fn from_sorted(pairs: &[LabelRef<'_>]) -> Labels {
        debug_assert!(pairs.windows(2).all(|w| w[0].name < w[1].name), "labels must be sorted and unique");
        let mut buf = Vec::with_capacity(encoded_len(pairs));
        encode_into(pairs, &mut buf);
        Labels(Arc::from(buf))
    }

    /// Labels from pairs in any order; the last value wins where a name repeats
    /// and empty values are dropped (an empty value means "no such label").
    pub fn from_pairs<'a, I>(pairs: I) -> Labels
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut builder = LabelsBuilder::default();
        for (name, value) in pairs {
            builder.set(name, value);
        }
        builder.build()
    }

    /// Labels from their canonical encoding, as produced by [`Labels::as_bytes`]
    /// or [`encode_into`]. Returns `None` if the bytes are not a valid encoding.
    pub fn from_encoded(bytes: &[u8]) -> Option<Labels> {
        let mut pos = 0;
        while pos < bytes.len() {
            for _ in 0..2 {
                let mut rest = &bytes[pos..];
                let len = crate::varint::uvarint(&mut rest).ok()?;
                pos = bytes.len() - rest.len();
                let end = pos.checked_add(usize::try_from(len).ok()?)?;
                std::str::from_utf8(bytes.get(pos..end)?).ok()?;
                pos = end;
            }
        }
        Some(Labels(Arc::from(bytes)))
    }

    /// The canonical encoding: for each label, varint length and bytes of the
    /// name, then of the value. Equal sets have equal bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A 64-bit hash of the set (xxh3 of the canonical encoding).
    pub fn hash64(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.0)
    }

    /// Iterates the labels in name order.
    pub fn iter(&self) -> LabelsIter<'_> {
        LabelsIter { bytes: &self.0 }
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|l| l.name == name).map(|l| l.value)
    }

    /// The metric name, if the set has one.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// The number of labels.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of bytes the set occupies on the heap.
    pub fn heap_size(&self) -> usize {
        self.0.len()
    }

    /// A builder that starts from this set.
    pub fn to_builder(&self) -> LabelsBuilder {
        let mut builder = LabelsBuilder::default();
        for label in self.iter() {
            builder.set(label.name, label.value);
        }
        builder
    }
}

impl Default for Labels {
    fn default() -> Self {
        Labels::empty()
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Labels {
    /// Formats as Prometheus does: `{a="1", b="2"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, label) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={:?}", label.name, label.value)?;
        }
        f.write_str("}")
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = LabelRef<'a>;
    type IntoIter = LabelsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the labels of a [`Labels`] set.
#[derive(Debug, Clone)]
pub struct LabelsIter<'a> {
    bytes: &'a [u8],
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = LabelRef<'a>;

    fn next(&mut self) -> Option<LabelRef<'a>> {
        if self.bytes.is_empty() {
            return None;
        }
        let name = take_str(&mut self.bytes);
        let value = take_str(&mut self.bytes);
        Some(LabelRef { name, value })
    }
}

fn take_str<'a>(bytes: &mut &'a [u8]) -> &'a str {
    let len = crate::varint::uvarint(bytes).expect("labels are encoded by this module");
    let (s, rest) = bytes.split_at(len as usize);
    *bytes = rest;
    std::str::from_utf8(s).expect("labels hold UTF-8")
}

/// Builds a [`Labels`] set from labels added in any order.
#[derive(Debug, Default, Clone)]
pub struct LabelsBuilder {
    pairs: Vec<(String, String)>,
}

impl LabelsBuilder {
    /// Sets `name` to `value`; an empty value removes the label.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.pairs.retain(|(n, _)| n != name);
        if !value.is_empty() {
            self.pairs.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.pairs.retain(|(n, _)| n != name);
        self
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The sorted label set.
    pub fn build(&self) -> Labels {
        let mut refs: Vec<LabelRef<'_>> = self.pairs.iter().map(|(n, v)| LabelRef::new(n, v)).collect();
        refs.sort_unstable_by(|a, b| a.name.cmp(b.name));
        Labels::from_sorted(&refs)
    }
}

/// Appends the canonical encoding of sorted `pairs` to `buf`.
pub fn encode_into(pairs: &[LabelRef<'_>], buf: &mut Vec<u8>) {
    for label in pairs {
        crate::varint::put_uvarint(buf, label.name.len() as u64);
        buf.extend_from_slice(label.name.as_bytes());
        crate::varint::put_uvarint(buf, label.value.len() as u64);
        buf.extend_from_slice(label.value.as_bytes());
    }
}

fn encoded_len(pairs: &[LabelRef<'_>]) -> usize {
    pairs.iter().map(|l| l.name.len() + l.value.len() + 2).sum()
}

/// Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

#[cfg(test)]
mod tests;
