//! Ordered maps and sets kept as sorted vectors, with the part of `BTreeMap`/`BTreeSet`'s interface the engine
//! uses (same order, same results), so a field changes type without its users changing:
//! - `VecMap`/`VecSet` on `Vec`: the engine's bookkeeping (clients, their transactions, watched keys and
//!   subscriptions, blocked clients and their deadlines, statistics) and a stream's groups and consumers;
//! - `DequeMap`/`DequeSet` on `VecDeque`: a stream's entries, nodes and pending entries, which may be many and
//!   are added at the end and removed mostly from the front (trimming, acknowledging the oldest).
//!
//! Why not `BTreeMap`: each key/value type compiled the whole B-tree again (search, insert with splits, remove
//! with rebalancing, iterators, clone, drop: 6–17 KB of WebAssembly per type; with some 17 types it was a
//! quarter of the engine package's code). Here keys and values live in two sorted vectors, so the binary search
//! is compiled once per key type and a value type brings only the vector's insert and remove (memory moves).
//! `VecDeque`'s wrap-around makes it the larger of the two, hence `Vec` wherever removals at the front are rare.
//!
//! Costs: lookups are a binary search; insertion and removal move the entries after the position (`Vec`), or
//! the fewer of those before and after it (`VecDeque`, so both ends are O(1)). Pub/sub channel maps, which may
//! hold very many names inserted in any order, are hash tables (`Dict`) instead.

use core::borrow::Borrow;
use core::ops::{Bound, Range, RangeBounds};

/// The index range of the sorted keys within `range`, given `search` over them and their count.
fn span<Q: Ord + ?Sized, R: RangeBounds<Q>>(len: usize, range: R, search: impl Fn(&Q) -> Result<usize, usize>) -> Range<usize> {
    let start = match range.start_bound() {
        Bound::Included(q) => search(q).unwrap_or_else(|i| i),
        Bound::Excluded(q) => search(q).map_or_else(|i| i, |i| i + 1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(q) => search(q).map_or_else(|i| i, |i| i + 1),
        Bound::Excluded(q) => search(q).unwrap_or_else(|i| i),
        Bound::Unbounded => len,
    };
    // A range whose end is before its start is empty (BTreeMap panics on it; nothing here relies on that).
    start..end.max(start)
}

/// What the map needs of its vectors, for `Vec`.
mod vec_store {
    use super::*;
    pub type Seq<T> = alloc::vec::Vec<T>;
    pub type Iter<'a, T> = core::slice::Iter<'a, T>;
    pub type IterMut<'a, T> = core::slice::IterMut<'a, T>;
    pub type IntoIter<T> = alloc::vec::IntoIter<T>;

    pub fn search<K: Borrow<Q>, Q: Ord + ?Sized>(s: &Seq<K>, q: &Q) -> Result<usize, usize> {
        s.binary_search_by(|k| k.borrow().cmp(q))
    }
    pub fn take<T>(s: &mut Seq<T>, i: usize) -> Option<T> {
        (i < s.len()).then(|| s.remove(i))
    }
    pub fn take_first<T>(s: &mut Seq<T>) -> Option<T> {
        take(s, 0)
    }
    pub fn range<T>(s: &Seq<T>, r: Range<usize>) -> Iter<'_, T> {
        s.get(r).unwrap_or_default().iter()
    }
    pub fn range_mut<T>(s: &mut Seq<T>, r: Range<usize>) -> IterMut<'_, T> {
        s.get_mut(r).unwrap_or_default().iter_mut()
    }
    pub fn first<T>(s: &Seq<T>) -> Option<&T> {
        s.first()
    }
    pub fn last<T>(s: &Seq<T>) -> Option<&T> {
        s.last()
    }
}

/// What the map needs of its vectors, for `VecDeque`.
mod deque_store {
    use super::*;
    use alloc::collections::vec_deque;
    pub type Seq<T> = alloc::collections::VecDeque<T>;
    pub type Iter<'a, T> = vec_deque::Iter<'a, T>;
    pub type IterMut<'a, T> = vec_deque::IterMut<'a, T>;
    pub type IntoIter<T> = vec_deque::IntoIter<T>;

    pub fn search<K: Borrow<Q>, Q: Ord + ?Sized>(s: &Seq<K>, q: &Q) -> Result<usize, usize> {
        s.binary_search_by(|k| k.borrow().cmp(q))
    }
    pub fn take<T>(s: &mut Seq<T>, i: usize) -> Option<T> {
        s.remove(i)
    }
    pub fn take_first<T>(s: &mut Seq<T>) -> Option<T> {
        s.pop_front()
    }
    pub fn range<T>(s: &Seq<T>, r: Range<usize>) -> Iter<'_, T> {
        s.range(r)
    }
    pub fn range_mut<T>(s: &mut Seq<T>, r: Range<usize>) -> IterMut<'_, T> {
        s.range_mut(r)
    }
    pub fn first<T>(s: &Seq<T>) -> Option<&T> {
        s.front()
    }
    pub fn last<T>(s: &Seq<T>) -> Option<&T> {
        s.back()
    }
}

/// The map and set types over one kind of vector (`$store`: `vec_store` or `deque_store`).
macro_rules! sorted_collections {
    ($store:ident, $Map:ident, $Set:ident, $Iter:ident, $IterMut:ident, $Entry:ident) => {
        /// An ordered map: sorted keys, and the values at the same positions.
        #[derive(Clone, PartialEq, Eq)]
        pub struct $Map<K, V> {
            keys: $store::Seq<K>,
            vals: $store::Seq<V>,
        }

        pub type $Iter<'a, K, V> = core::iter::Zip<$store::Iter<'a, K>, $store::Iter<'a, V>>;
        pub type $IterMut<'a, K, V> = core::iter::Zip<$store::Iter<'a, K>, $store::IterMut<'a, V>>;

        impl<K, V> Default for $Map<K, V> {
            fn default() -> Self {
                $Map::new()
            }
        }

        impl<K: core::fmt::Debug, V: core::fmt::Debug> core::fmt::Debug for $Map<K, V> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_map().entries(self.iter()).finish()
            }
        }

        impl<K, V> $Map<K, V> {
            pub const fn new() -> Self {
                $Map { keys: $store::Seq::new(), vals: $store::Seq::new() }
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
            pub fn iter(&self) -> $Iter<'_, K, V> {
                self.keys.iter().zip(self.vals.iter())
            }

            pub fn iter_mut(&mut self) -> $IterMut<'_, K, V> {
                self.keys.iter().zip(self.vals.iter_mut())
            }

            pub fn keys(&self) -> $store::Iter<'_, K> {
                self.keys.iter()
            }

            pub fn values(&self) -> $store::Iter<'_, V> {
                self.vals.iter()
            }

            pub fn values_mut(&mut self) -> $store::IterMut<'_, V> {
                self.vals.iter_mut()
            }

            pub fn first_key_value(&self) -> Option<(&K, &V)> {
                Some(($store::first(&self.keys)?, $store::first(&self.vals)?))
            }

            pub fn last_key_value(&self) -> Option<(&K, &V)> {
                Some(($store::last(&self.keys)?, $store::last(&self.vals)?))
            }

            fn take(&mut self, i: usize) -> Option<(K, V)> {
                Some(($store::take(&mut self.keys, i)?, $store::take(&mut self.vals, i)?))
            }

            pub fn pop_first(&mut self) -> Option<(K, V)> {
                Some(($store::take_first(&mut self.keys)?, $store::take_first(&mut self.vals)?))
            }

            /// Keeps the entries for which `keep` is true, in order; O(n), as each vector is compacted once.
            pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
                let kept: alloc::vec::Vec<bool> = self.keys.iter().zip(self.vals.iter_mut()).map(|(k, v)| keep(k, v)).collect();
                let mut flags = kept.iter();
                self.keys.retain(|_| flags.next().copied().unwrap_or(true));
                let mut flags = kept.iter();
                self.vals.retain(|_| flags.next().copied().unwrap_or(true));
            }
        }

        impl<K: Ord, V> $Map<K, V> {
            pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
            where
                K: Borrow<Q>,
            {
                self.vals.get($store::search(&self.keys, key).ok()?)
            }

            pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
            where
                K: Borrow<Q>,
            {
                self.vals.get_mut($store::search(&self.keys, key).ok()?)
            }

            pub fn get_key_value<Q: Ord + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
            where
                K: Borrow<Q>,
            {
                let i = $store::search(&self.keys, key).ok()?;
                Some((self.keys.get(i)?, self.vals.get(i)?))
            }

            pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
            where
                K: Borrow<Q>,
            {
                $store::search(&self.keys, key).is_ok()
            }

            /// Inserts or replaces; the old value when the key was present (the key itself is kept, as
            /// BTreeMap does).
            pub fn insert(&mut self, key: K, value: V) -> Option<V> {
                match $store::search(&self.keys, &key) {
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
                let i = $store::search(&self.keys, key).ok()?;
                Some(self.take(i)?.1)
            }

            pub fn remove_entry<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<(K, V)>
            where
                K: Borrow<Q>,
            {
                let i = $store::search(&self.keys, key).ok()?;
                self.take(i)
            }

            /// The entries whose keys fall in `range`, in order.
            pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: R) -> $Iter<'_, K, V>
            where
                K: Borrow<Q>,
            {
                let r = span(self.keys.len(), range, |q| $store::search(&self.keys, q));
                $store::range(&self.keys, r.clone()).zip($store::range(&self.vals, r))
            }

            pub fn range_mut<Q: Ord + ?Sized, R: RangeBounds<Q>>(&mut self, range: R) -> $IterMut<'_, K, V>
            where
                K: Borrow<Q>,
            {
                let r = span(self.keys.len(), range, |q| $store::search(&self.keys, q));
                $store::range(&self.keys, r.clone()).zip($store::range_mut(&mut self.vals, r))
            }

            /// The slot for `key`, to read, fill or update in place.
            pub fn entry(&mut self, key: K) -> $Entry<'_, K, V> {
                let at = $store::search(&self.keys, &key);
                $Entry { map: self, key, at }
            }
        }

        /// A key's slot in a map (the `or_insert` family of BTreeMap's entry API).
        pub struct $Entry<'a, K, V> {
            map: &'a mut $Map<K, V>,
            key: K,
            at: Result<usize, usize>,
        }

        impl<'a, K, V> $Entry<'a, K, V> {
            pub fn or_insert_with(self, make: impl FnOnce() -> V) -> &'a mut V {
                let $Entry { map, key, at } = self;
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

        impl<'a, K, V> IntoIterator for &'a $Map<K, V> {
            type Item = (&'a K, &'a V);
            type IntoIter = $Iter<'a, K, V>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        impl<'a, K, V> IntoIterator for &'a mut $Map<K, V> {
            type Item = (&'a K, &'a mut V);
            type IntoIter = $IterMut<'a, K, V>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter_mut()
            }
        }

        impl<K, V> IntoIterator for $Map<K, V> {
            type Item = (K, V);
            type IntoIter = core::iter::Zip<$store::IntoIter<K>, $store::IntoIter<V>>;
            fn into_iter(self) -> Self::IntoIter {
                self.keys.into_iter().zip(self.vals)
            }
        }

        impl<K: Ord, V> FromIterator<(K, V)> for $Map<K, V> {
            /// As BTreeMap's: a later duplicate key replaces the earlier value.
            fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
                let mut map = $Map::new();
                map.extend(iter);
                map
            }
        }

        impl<K: Ord, V> Extend<(K, V)> for $Map<K, V> {
            fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
                for (k, v) in iter {
                    self.insert(k, v);
                }
            }
        }

        /// An ordered set: its members sorted.
        #[derive(Clone, PartialEq, Eq)]
        pub struct $Set<K> {
            map: $Map<K, ()>,
        }

        impl<K> Default for $Set<K> {
            fn default() -> Self {
                $Set::new()
            }
        }

        impl<K: core::fmt::Debug> core::fmt::Debug for $Set<K> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_set().entries(self.iter()).finish()
            }
        }

        impl<K> $Set<K> {
            pub const fn new() -> Self {
                $Set { map: $Map::new() }
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

            pub fn iter(&self) -> $store::Iter<'_, K> {
                self.map.keys.iter()
            }

            pub fn first(&self) -> Option<&K> {
                $store::first(&self.map.keys)
            }

            pub fn last(&self) -> Option<&K> {
                $store::last(&self.map.keys)
            }

            pub fn pop_first(&mut self) -> Option<K> {
                self.map.pop_first().map(|(k, ())| k)
            }

            pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
                self.map.retain(|k, ()| keep(k));
            }
        }

        impl<K: Ord> $Set<K> {
            /// True when the value was not present.
            pub fn insert(&mut self, value: K) -> bool {
                self.map.insert(value, ()).is_none()
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

            pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: R) -> $store::Iter<'_, K>
            where
                K: Borrow<Q>,
            {
                let keys = &self.map.keys;
                $store::range(keys, span(keys.len(), range, |q| $store::search(keys, q)))
            }
        }

        impl<'a, K> IntoIterator for &'a $Set<K> {
            type Item = &'a K;
            type IntoIter = $store::Iter<'a, K>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        impl<K> IntoIterator for $Set<K> {
            type Item = K;
            type IntoIter = $store::IntoIter<K>;
            fn into_iter(self) -> Self::IntoIter {
                self.map.keys.into_iter()
            }
        }

        impl<K: Ord> FromIterator<K> for $Set<K> {
            fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
                let mut set = $Set::new();
                set.extend(iter);
                set
            }
        }

        impl<K: Ord> Extend<K> for $Set<K> {
            fn extend<I: IntoIterator<Item = K>>(&mut self, iter: I) {
                for k in iter {
                    self.insert(k);
                }
            }
        }
    };
}

sorted_collections!(vec_store, VecMap, VecSet, VecMapIter, VecMapIterMut, VecMapEntry);
sorted_collections!(deque_store, DequeMap, DequeSet, DequeMapIter, DequeMapIterMut, DequeMapEntry);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::{BTreeMap, BTreeSet};

    /// Random operations on a map and a BTreeMap (a set and a BTreeSet) give the same results and leave the
    /// same contents.
    macro_rules! matches_btree {
        ($name:ident, $Map:ident, $Set:ident) => {
            #[test]
            fn $name() {
                let mut rng = crate::util::Rng::new(7);
                let mut ours: $Map<u64, u64> = $Map::new();
                let mut model: BTreeMap<u64, u64> = BTreeMap::new();
                let mut set: $Set<u64> = $Set::new();
                let mut set_model: BTreeSet<u64> = BTreeSet::new();
                for step in 0..20_000u64 {
                    let k = rng.next_u64() % 64;
                    match rng.next_u64() % 8 {
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
                        6 => assert_eq!(ours.pop_first(), model.pop_first()),
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
        };
    }

    matches_btree!(vecmap_matches_btreemap, VecMap, VecSet);
    matches_btree!(dequemap_matches_btreemap, DequeMap, DequeSet);
}
