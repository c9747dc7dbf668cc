//! `VecMap` and `VecSet`: the ordered maps and sets of the engine's bookkeeping (clients, their transactions,
//! watched keys and subscriptions, blocked clients and their deadlines, statistics) and of streams (entries,
//! nodes, groups, consumers, pending entries), kept as sorted double-ended vectors.
//!
//! They offer the part of `BTreeMap`/`BTreeSet`'s interface the engine uses, with the same order and the same
//! results, so a field changes type without its users changing. Why not `BTreeMap`: each key/value type
//! instantiates the whole B-tree again (search, insert with splits, remove with rebalancing, iterators, clone,
//! drop: 6–17 KB of WebAssembly per type; with some 17 types it was a quarter of the engine package's code).
//! Here the binary search is compiled once per key type, and a value type brings only `VecDeque`'s insert and
//! remove (memory moves): keys and values live in two deques so that the search never depends on the value type.
//!
//! Costs: lookups are a binary search; adding or removing at either end is O(1) (new client ids and stream IDs
//! only grow; trimming and acknowledging take the oldest first), and in the middle O(min(i, n − i)) element
//! moves. Pub/sub channel maps, which may hold very many names inserted in any order, stay in `BTreeMap`.

use alloc::collections::vec_deque::{self, VecDeque};
use core::borrow::Borrow;
use core::ops::{Bound, RangeBounds};

/// An ordered map: sorted keys, and the values at the same positions.
#[derive(Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    keys: VecDeque<K>,
    vals: VecDeque<V>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap::new()
    }
}

impl<K: core::fmt::Debug, V: core::fmt::Debug> core::fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.keys.iter().zip(&self.vals)).finish()
    }
}

/// Where `key` is, or where it would go, in sorted `keys`.
fn search<K: Borrow<Q>, Q: Ord + ?Sized>(keys: &VecDeque<K>, key: &Q) -> Result<usize, usize> {
    keys.binary_search_by(|k| k.borrow().cmp(key))
}

/// The index range of `keys` (sorted) within `range`.
fn span<K: Borrow<Q>, Q: Ord + ?Sized, R: RangeBounds<Q>>(keys: &VecDeque<K>, range: R) -> core::ops::Range<usize> {
    let start = match range.start_bound() {
        Bound::Included(q) => search(keys, q).unwrap_or_else(|i| i),
        Bound::Excluded(q) => search(keys, q).map_or_else(|i| i, |i| i + 1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(q) => search(keys, q).map_or_else(|i| i, |i| i + 1),
        Bound::Excluded(q) => search(keys, q).unwrap_or_else(|i| i),
        Bound::Unbounded => keys.len(),
    };
    // A range whose end is before its start is empty (BTreeMap panics on it; nothing here relies on that).
    start..end.max(start)
}

pub type Iter<'a, K, V> = core::iter::Zip<vec_deque::Iter<'a, K>, vec_deque::Iter<'a, V>>;
pub type IterMut<'a, K, V> = core::iter::Zip<vec_deque::Iter<'a, K>, vec_deque::IterMut<'a, V>>;

impl<K, V> VecMap<K, V> {
    pub const fn new() -> Self {
        VecMap { keys: VecDeque::new(), vals: VecDeque::new() }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.vals.clear();
    }

    /// Entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.keys.iter().zip(self.vals.iter())
    }

    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        self.keys.iter().zip(self.vals.iter_mut())
    }

    pub fn keys(&self) -> vec_deque::Iter<'_, K> {
        self.keys.iter()
    }

    pub fn values(&self) -> vec_deque::Iter<'_, V> {
        self.vals.iter()
    }

    pub fn values_mut(&mut self) -> vec_deque::IterMut<'_, V> {
        self.vals.iter_mut()
    }

    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        Some((self.keys.front()?, self.vals.front()?))
    }

    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        Some((self.keys.back()?, self.vals.back()?))
    }

    /// Removes and returns the entry at `i`, which is in range.
    fn take(&mut self, i: usize) -> Option<(K, V)> {
        Some((self.keys.remove(i)?, self.vals.remove(i)?))
    }

    pub fn pop_first(&mut self) -> Option<(K, V)> {
        Some((self.keys.pop_front()?, self.vals.pop_front()?))
    }

    /// Keeps the entries for which `keep` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let mut i = 0;
        while i < self.keys.len() {
            let kept = match (self.keys.get(i), self.vals.get_mut(i)) {
                (Some(k), Some(v)) => keep(k, v),
                _ => true,
            };
            if kept {
                i += 1;
            } else {
                self.take(i);
            }
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.vals.get(search(&self.keys, key).ok()?)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.vals.get_mut(search(&self.keys, key).ok()?)
    }

    pub fn get_key_value<Q: Ord + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        let i = search(&self.keys, key).ok()?;
        Some((self.keys.get(i)?, self.vals.get(i)?))
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        search(&self.keys, key).is_ok()
    }

    /// Inserts or replaces; the old value when the key was present (the key itself is kept, as BTreeMap does).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match search(&self.keys, &key) {
            Ok(i) => self.vals.get_mut(i).map(|slot| core::mem::replace(slot, value)),
            Err(i) => {
                self.keys.insert(i, key);
                self.vals.insert(i, value);
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let i = search(&self.keys, key).ok()?;
        Some(self.take(i)?.1)
    }

    pub fn remove_entry<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
    {
        let i = search(&self.keys, key).ok()?;
        self.take(i)
    }

    /// The entries whose keys fall in `range`, in order.
    pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: R) -> Iter<'_, K, V>
    where
        K: Borrow<Q>,
    {
        let r = span(&self.keys, range);
        self.keys.range(r.clone()).zip(self.vals.range(r))
    }

    pub fn range_mut<Q: Ord + ?Sized, R: RangeBounds<Q>>(&mut self, range: R) -> IterMut<'_, K, V>
    where
        K: Borrow<Q>,
    {
        let r = span(&self.keys, range);
        self.keys.range(r.clone()).zip(self.vals.range_mut(r))
    }

    /// The slot for `key`, to read, fill or update in place.
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        let at = search(&self.keys, &key);
        Entry { map: self, key, at }
    }
}

/// A key's slot in a `VecMap` (the `or_insert` family of BTreeMap's entry API).
pub struct Entry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    key: K,
    at: Result<usize, usize>,
}

impl<'a, K, V> Entry<'a, K, V> {
    pub fn or_insert_with(self, make: impl FnOnce() -> V) -> &'a mut V {
        let Entry { map, key, at } = self;
        let i = match at {
            Ok(i) => i,
            Err(i) => {
                map.keys.insert(i, key);
                map.vals.insert(i, make());
                i
            }
        };
        // In range: the key was found at `i`, or was just inserted there.
        &mut map.vals[i]
    }

    pub fn or_insert(self, value: V) -> &'a mut V {
        self.or_insert_with(|| value)
    }

    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    pub fn key(&self) -> &K {
        &self.key
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut VecMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = core::iter::Zip<vec_deque::IntoIter<K>, vec_deque::IntoIter<V>>;
    fn into_iter(self) -> Self::IntoIter {
        self.keys.into_iter().zip(self.vals)
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// As BTreeMap's: a later duplicate key replaces the earlier value.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = VecMap::new();
        map.extend(iter);
        map
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// An ordered set: its members sorted.
#[derive(Clone, PartialEq, Eq)]
pub struct VecSet<K> {
    map: VecMap<K, ()>,
}

impl<K> Default for VecSet<K> {
    fn default() -> Self {
        VecSet::new()
    }
}

impl<K: core::fmt::Debug> core::fmt::Debug for VecSet<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set().entries(self.map.keys.iter()).finish()
    }
}

impl<K> VecSet<K> {
    pub const fn new() -> Self {
        VecSet { map: VecMap::new() }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    pub fn iter(&self) -> vec_deque::Iter<'_, K> {
        self.map.keys.iter()
    }

    pub fn first(&self) -> Option<&K> {
        self.map.keys.front()
    }

    pub fn last(&self) -> Option<&K> {
        self.map.keys.back()
    }

    pub fn pop_first(&mut self) -> Option<K> {
        self.map.pop_first().map(|(k, ())| k)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.map.retain(|k, ()| keep(k));
    }
}

impl<K: Ord> VecSet<K> {
    /// True when the value was not present.
    pub fn insert(&mut self, value: K) -> bool {
        match search(&self.map.keys, &value) {
            Ok(_) => false,
            Err(i) => {
                self.map.keys.insert(i, value);
                self.map.vals.insert(i, ());
                true
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, value: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.remove(value).is_some()
    }

    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(value)
    }

    pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: R) -> vec_deque::Iter<'_, K>
    where
        K: Borrow<Q>,
    {
        let r = span(&self.map.keys, range);
        self.map.keys.range(r)
    }
}

impl<'a, K> IntoIterator for &'a VecSet<K> {
    type Item = &'a K;
    type IntoIter = vec_deque::Iter<'a, K>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K> IntoIterator for VecSet<K> {
    type Item = K;
    type IntoIter = vec_deque::IntoIter<K>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.keys.into_iter()
    }
}

impl<K: Ord> FromIterator<K> for VecSet<K> {
    fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
        let mut set = VecSet::new();
        set.extend(iter);
        set
    }
}

impl<K: Ord> Extend<K> for VecSet<K> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, iter: I) {
        for k in iter {
            self.insert(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::{BTreeMap, BTreeSet};

    /// Random operations on a VecMap and a BTreeMap (a VecSet and a BTreeSet) give the same results and leave
    /// the same contents.
    #[test]
    fn matches_btreemap() {
        let mut rng = crate::util::Rng::new(7);
        let mut ours: VecMap<u64, u64> = VecMap::new();
        let mut model: BTreeMap<u64, u64> = BTreeMap::new();
        let mut set: VecSet<u64> = VecSet::new();
        let mut set_model: BTreeSet<u64> = BTreeSet::new();
        for step in 0..20_000u64 {
            let k = rng.next_u64() % 64;
            match rng.next_u64() % 7 {
                0 | 1 => assert_eq!(ours.insert(k, step), model.insert(k, step)),
                2 => assert_eq!(ours.remove(&k), model.remove(&k)),
                3 => {
                    *ours.entry(k).or_default() += 1;
                    *model.entry(k).or_default() += 1;
                }
                4 => assert_eq!(ours.get(&k), model.get(&k)),
                5 => {
                    let hi = k + rng.next_u64() % 16;
                    assert!(ours.range(k..hi).eq(model.range(k..hi)));
                    assert!(ours.range(..=k).rev().eq(model.range(..=k).rev()));
                    let after = (Bound::Excluded(k), Bound::Unbounded);
                    assert!(ours.range(after).eq(model.range(after)));
                    assert!(set.range(k / 2..).eq(set_model.range(k / 2..)));
                }
                _ => {
                    ours.retain(|key, _| key % 5 != k % 5);
                    model.retain(|key, _| key % 5 != k % 5);
                }
            }
            assert!(ours.iter().eq(model.iter()));
            assert_eq!(ours.first_key_value(), model.first_key_value());
            assert_eq!(ours.last_key_value(), model.last_key_value());
            assert_eq!(set.insert(k % 32), set_model.insert(k % 32));
            assert_eq!(set.remove(&(k / 2)), set_model.remove(&(k / 2)));
            assert!(set.iter().eq(set_model.iter()));
        }
    }
}
