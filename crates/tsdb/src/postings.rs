//! Postings: sorted lists of series numbers per label pair, and the
//! algorithm that turns a selector's matchers into one such list. The head
//! and the persisted blocks share it through [`PostingsIndex`].

use series::{MatchOp, Matcher};

/// An inverted index from label pairs to sorted series numbers.
pub(crate) trait PostingsIndex {
    /// Every series number, sorted.
    fn all_postings(&self) -> Vec<u32>;
    /// The series with label `name` equal to `value`, sorted.
    fn postings(&self, name: &str, value: &str) -> Vec<u32>;
    /// Calls `f` with each value that label `name` takes.
    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str));
    /// Calls `f` with each label name.
    fn for_each_name(&self, f: &mut dyn FnMut(&str));
}

/// The sorted series numbers that satisfy every matcher.
pub(crate) fn for_matchers(index: &dyn PostingsIndex, matchers: &[Matcher]) -> Vec<u32> {
    let mut result: Option<Vec<u32>> = None;
    let mut excluded: Vec<Vec<u32>> = Vec::new();
    // Equality matchers first: they are the cheapest and most selective.
    let mut ordered: Vec<&Matcher> = matchers.iter().collect();
    ordered.sort_by_key(|m| m.op != MatchOp::Equal);
    for matcher in ordered {
        if result.as_ref().is_some_and(Vec::is_empty) {
            return Vec::new();
        }
        if matcher.matches_empty() {
            // Series without the label match; remove those whose value does not.
            excluded.push(postings_for_values(index, &matcher.name, |v| !matcher.matches(v)));
            continue;
        }
        let postings = match (matcher.op, matcher.set_literals()) {
            (MatchOp::Equal, _) => index.postings(&matcher.name, &matcher.value),
            (_, Some(literals)) => union_all(literals.iter().map(|v| index.postings(&matcher.name, v)).collect()),
            _ => postings_for_values(index, &matcher.name, |v| matcher.matches(v)),
        };
        result = Some(match result {
            None => postings,
            Some(current) => intersect(&current, &postings),
        });
    }
    let mut result = result.unwrap_or_else(|| index.all_postings());
    for remove in excluded {
        result = difference(&result, &remove);
    }
    result
}

fn postings_for_values(index: &dyn PostingsIndex, name: &str, keep: impl Fn(&str) -> bool) -> Vec<u32> {
    let mut values = Vec::new();
    index.for_each_value(name, &mut |v| {
        if keep(v) {
            values.push(v.to_owned());
        }
    });
    union_all(values.iter().map(|v| index.postings(name, v)).collect())
}

/// Intersection of two sorted lists.
pub(crate) fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    if small.len() * 32 < large.len() {
        // Galloping: binary-search each element of the short list.
        let mut rest = large;
        for &x in small {
            match rest.binary_search(&x) {
                Ok(i) => {
                    out.push(x);
                    rest = &rest[i + 1..];
                }
                Err(i) => rest = &rest[i..],
            }
        }
        return out;
    }
    let (mut i, mut j) = (0, 0);
    while i < small.len() && j < large.len() {
        match small[i].cmp(&large[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(small[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Elements of sorted `a` that are not in sorted `b`.
pub(crate) fn difference(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j >= b.len() || b[j] != x {
            out.push(x);
        }
    }
    out
}

/// Union of sorted lists.
pub(crate) fn union_all(mut lists: Vec<Vec<u32>>) -> Vec<u32> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists.pop().expect("one list"),
        _ => {
            let mut out: Vec<u32> = lists.concat();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A tiny index: series number → labels.
    struct Fixture(Vec<Vec<(&'static str, &'static str)>>);

    impl PostingsIndex for Fixture {
        fn all_postings(&self) -> Vec<u32> {
            (0..self.0.len() as u32).collect()
        }
        fn postings(&self, name: &str, value: &str) -> Vec<u32> {
            (0..self.0.len() as u32).filter(|&i| self.0[i as usize].contains(&(name, value))).collect()
        }
        fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str)) {
            let values: BTreeMap<&str, ()> =
                self.0.iter().flatten().filter(|(n, _)| *n == name).map(|(_, v)| (*v, ())).collect();
            values.keys().for_each(|v| f(v));
        }

        fn for_each_name(&self, f: &mut dyn FnMut(&str)) {
            let names: BTreeMap<&str, ()> = self.0.iter().flatten().map(|(n, _)| (*n, ())).collect();
            names.keys().for_each(|n| f(n));
        }
    }

    fn check(matchers: &[(&str, MatchOp, &str)], expect: &[u32]) {
        let index = Fixture(vec![
            vec![("__name__", "up"), ("job", "vllm")],
            vec![("__name__", "up"), ("job", "sglang"), ("zone", "a")],
            vec![("__name__", "down"), ("job", "vllm"), ("zone", "b")],
        ]);
        let matchers: Vec<Matcher> =
            matchers.iter().map(|&(n, op, v)| Matcher::new(op, n, v).expect("valid")).collect();
        assert_eq!(for_matchers(&index, &matchers), expect, "{matchers:?}");
    }

    #[test]
    fn matchers_select_series() {
        use MatchOp::*;
        check(&[("__name__", Equal, "up")], &[0, 1]);
        check(&[("__name__", Equal, "up"), ("job", NotEqual, "vllm")], &[1]);
        check(&[("__name__", Regex, "up|down"), ("zone", Equal, "")], &[0]);
        check(&[("zone", Regex, ".+")], &[1, 2]);
        check(&[("job", Regex, "v.*"), ("zone", NotRegex, "b")], &[0]);
        check(&[("__name__", Equal, "nope")], &[]);
        check(&[], &[0, 1, 2]);
    }

    #[test]
    fn set_operations() {
        assert_eq!(intersect(&[1, 3, 5, 7], &[3, 4, 5]), vec![3, 5]);
        let long: Vec<u32> = (0..1000).collect();
        assert_eq!(intersect(&[5, 999, 2000], &long), vec![5, 999]);
        assert_eq!(difference(&[1, 2, 3, 4], &[2, 4, 6]), vec![1, 3]);
        assert_eq!(union_all(vec![vec![1, 4], vec![2, 4]]), vec![1, 2, 4]);
    }
}
