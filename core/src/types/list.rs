//! A list: O(1) push and pop at both ends and O(1) access by index (a ring buffer of elements).
//!
//! Redis 7.0 stores every list as a quicklist (listpack-encoded small lists arrived in 7.2), so OBJECT ENCODING
//! always answers `quicklist`. Indexes here are already resolved (0-based from the head); the Redis rules for
//! negative and out-of-range indexes live in the commands, which differ in how they clamp.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Which end of a list: Redis's LIST_HEAD (LEFT) and LIST_TAIL (RIGHT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    items: VecDeque<Vec<u8>>,
    /// Sum of the elements' lengths, kept up to date so `mem_usage` is O(1).
    bytes: usize,
}

/// Per-element overhead the memory estimate adds to the element's bytes (a quicklist entry's header).
const ELEMENT_OVERHEAD: usize = 11;
/// The fixed cost of a list object (robj, quicklist header and its first node).
const LIST_OVERHEAD: usize = 96;

/// A list's elements from the head, or (`reverse`) from the tail. One plain `next`: every command walking a
/// list compiles its loop over this type.
pub struct Iter<'a> {
    items: alloc::collections::vec_deque::Iter<'a, Vec<u8>>,
    reverse: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let item = if self.reverse { self.items.next_back() } else { self.items.next() };
        item.map(Vec::as_slice)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl List {
    pub fn new() -> List {
        List::default()
    }

    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Bytes this value takes, as the memory estimate counts them.
    pub fn mem_usage(&self) -> usize {
        LIST_OVERHEAD + self.bytes + self.items.len() * ELEMENT_OVERHEAD
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn push(&mut self, value: Vec<u8>, end: End) {
        self.bytes += value.len();
        match end {
            End::Head => self.items.push_front(value),
            End::Tail => self.items.push_back(value),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let v = match end {
            End::Head => self.items.pop_front(),
            End::Tail => self.items.pop_back(),
        }?;
        self.bytes -= v.len();
        Some(v)
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.items.get(index).map(Vec::as_slice)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: usize, value: Vec<u8>) -> bool {
        match self.items.get_mut(index) {
            Some(slot) => {
                self.bytes = self.bytes - slot.len() + value.len();
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// Elements from the head, or from the tail when `reverse`.
    pub fn iter(&self, reverse: bool) -> Iter<'_> {
        Iter { items: self.items.iter(), reverse }
    }

    /// `count` elements from `start` (clamped to the list), head to tail.
    pub fn range(&self, start: usize, count: usize) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.items.range(start.min(self.len())..start.saturating_add(count).min(self.len())).map(Vec::as_slice)
    }

    /// Inserts `value` next to the first element equal to `pivot` (before it, or after it when `after`).
    /// False when the pivot is not there.
    pub fn insert(&mut self, pivot: &[u8], value: Vec<u8>, after: bool) -> bool {
        let Some(i) = self.items.iter().position(|e| e.as_slice() == pivot) else {
            return false;
        };
        self.bytes += value.len();
        self.items.insert(if after { i + 1 } else { i }, value);
        true
    }

    /// Removes up to `limit` elements equal to `value` (all when `None`), scanning from the head, or from the
    /// tail when `from_tail`. Returns how many went.
    pub fn remove(&mut self, value: &[u8], limit: Option<u64>, from_tail: bool) -> u64 {
        let mut removed = 0u64;
        let n = self.items.len();
        let mut keep = alloc::vec![true; n];
        for k in 0..n {
            if limit.is_some_and(|l| removed >= l) {
                break;
            }
            let i = if from_tail { n - 1 - k } else { k };
            if self.items.get(i).is_some_and(|e| e.as_slice() == value) {
                if let Some(flag) = keep.get_mut(i) {
                    *flag = false;
                }
                removed += 1;
            }
        }
        if removed > 0 {
            let mut flags = keep.into_iter();
            self.items.retain(|_| flags.next().unwrap_or(true));
            self.bytes -= value.len() * removed as usize;
        }
        removed
    }

    /// Keeps only `count` elements from `start` (Redis's LTRIM once its indexes are resolved).
    pub fn retain_range(&mut self, start: usize, count: usize) {
        let start = start.min(self.len());
        let end = start.saturating_add(count).min(self.len());
        for v in self.items.drain(end..) {
            self.bytes -= v.len();
        }
        for v in self.items.drain(..start) {
            self.bytes -= v.len();
        }
    }

    /// Removes `count` elements from one end and returns them in the order they were popped.
    pub fn pop_many(&mut self, count: usize, end: End) -> Vec<Vec<u8>> {
        let n = count.min(self.len());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            if let Some(v) = self.pop(end) {
                out.push(v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn list(items: &[&str]) -> List {
        let mut l = List::new();
        for i in items {
            l.push(i.as_bytes().to_vec(), End::Tail);
        }
        l
    }

    fn items(l: &List) -> Vec<&str> {
        l.iter(false).map(|b| core::str::from_utf8(b).unwrap_or("?")).collect()
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        l.push(b"b".to_vec(), End::Head);
        l.push(b"a".to_vec(), End::Head);
        l.push(b"c".to_vec(), End::Tail);
        assert_eq!(items(&l), vec!["a", "b", "c"]);
        assert_eq!(l.pop(End::Tail), Some(b"c".to_vec()));
        assert_eq!(l.pop(End::Head), Some(b"a".to_vec()));
        assert_eq!(l.len(), 1);
        assert_eq!(l.mem_usage(), LIST_OVERHEAD + 1 + ELEMENT_OVERHEAD);
        assert_eq!(l.pop(End::Head), Some(b"b".to_vec()));
        assert_eq!(l.pop(End::Head), None);
        assert!(l.is_empty());
        assert_eq!(l.encoding_name(), "quicklist");
    }

    #[test]
    fn remove_from_either_end_with_limit() {
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove(b"x", Some(2), true), 2);
        assert_eq!(items(&l), vec!["x", "a", "b"]);
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove(b"x", Some(1), false), 1);
        assert_eq!(items(&l), vec!["a", "x", "b", "x"]);
        assert_eq!(l.remove(b"x", None, false), 2);
        assert_eq!(items(&l), vec!["a", "b"]);
        assert_eq!(l.bytes, 2);
    }

    #[test]
    fn insert_range_trim_and_set() {
        let mut l = list(&["a", "b", "c"]);
        assert!(l.insert(b"b", b"B".to_vec(), false));
        assert!(l.insert(b"c", b"C".to_vec(), true));
        assert!(!l.insert(b"z", b"Z".to_vec(), true));
        assert_eq!(items(&l), vec!["a", "B", "b", "c", "C"]);
        assert_eq!(l.range(1, 2).collect::<Vec<_>>(), vec![&b"B"[..], b"b"]);
        assert_eq!(l.range(4, 10).count(), 1);
        assert_eq!(l.range(9, 10).count(), 0);
        assert!(l.set(0, b"AA".to_vec()));
        assert!(!l.set(5, b"x".to_vec()));
        l.retain_range(1, 3);
        assert_eq!(items(&l), vec!["B", "b", "c"]);
        assert_eq!(l.bytes, 3);
        assert_eq!(l.pop_many(5, End::Tail), vec![b"c".to_vec(), b"b".to_vec(), b"B".to_vec()]);
        assert_eq!(l.iter(true).count(), 0);
    }
}
