//! The gateway's recent exchange ids and their models, so feedback on an
//! exchange the pipeline did not keep is still counted for its model.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;

/// The last `capacity` exchange ids the gateway gave out, each with its
/// model's label value; older ones are forgotten first. Bounded memory
/// whatever the traffic (about 100 bytes an entry).
#[derive(Debug)]
pub struct Recent {
    capacity: usize,
    inner: Mutex<(HashMap<String, String>, VecDeque<String>)>,
}

impl Recent {
    /// Remembers at most `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Recent {
        Recent { capacity: capacity.max(1), inner: Mutex::default() }
    }

    /// Remembers that exchange `id` was for `model`.
    pub fn insert(&self, id: &str, model: &str) {
        let mut guard = self.inner.lock();
        let (map, order) = &mut *guard;
        if map.insert(id.to_owned(), model.to_owned()).is_none() {
            order.push_back(id.to_owned());
        }
        while order.len() > self.capacity {
            if let Some(oldest) = order.pop_front() {
                map.remove(&oldest);
            }
        }
    }

    /// The model of exchange `id`, if it is still remembered.
    pub fn model(&self, id: &str) -> Option<String> {
        self.inner.lock().0.get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_ids_only() {
        let recent = Recent::new(2);
        recent.insert("a", "llama");
        recent.insert("b", "qwen");
        recent.insert("a", "llama");
        recent.insert("c", "qwen");
        assert_eq!(recent.model("a"), None, "the oldest is forgotten");
        assert_eq!(recent.model("b").as_deref(), Some("qwen"));
        assert_eq!(recent.model("c").as_deref(), Some("qwen"));
    }
}
