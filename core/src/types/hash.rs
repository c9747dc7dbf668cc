//! A hash: field → value, O(1) access and O(1) random field (`listpack` while small, then `hashtable`).
//!
//! Two representations, as in Redis, because the difference is observable:
//! - `listpack`: a vector of pairs in insertion order. Redis's listpack keeps fields where they were
//!   inserted (an update rewrites the value in place, a new field goes to the end, a deleted one closes
//!   its gap), so HGETALL on a small hash is deterministic and users see that order. Lookups are linear,
//!   as in Redis, over a bounded number of short entries.
//! - `hashtable`: a [`Dict`], with O(1) access, O(1) random field and Redis's reverse-binary SCAN cursor.
//!
//! A hash moves to `hashtable` when it would hold more than `hash-max-listpack-entries` fields or a field
//! or value longer than `hash-max-listpack-value` bytes ([`Limits`]), and never moves back (Redis's hashTypeConvert is
//! one-way).

use alloc::vec::Vec;

use crate::dict::Dict;
use crate::util::Rng;

/// When a hash leaves the listpack: `hash-max-listpack-entries` and `hash-max-listpack-value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most fields a listpack holds.
    pub max_entries: usize,
    /// The longest field or value a listpack holds.
    pub max_value: usize,
}

impl Default for Limits {
    /// Redis 7.0.15's built-in defaults: 512 entries (the sample redis.conf says 128, but a server started
    /// without a config file uses 512) and 64 bytes.
    fn default() -> Limits {
        Limits { max_entries: 512, max_value: 64 }
    }
}

#[derive(Clone, Debug)]
pub struct Hash {
    repr: Repr,
    /// Total bytes of the fields and values, kept up to date so `mem_usage` is O(1).
    bytes: usize,
}

#[derive(Clone, Debug)]
enum Repr {
    /// Pairs in listpack order; `seed` keys the dict this hash becomes when it grows, drawn by the caller
    /// from the engine's PRNG so layouts are reproducible.
    Listpack { pairs: Vec<(Vec<u8>, Vec<u8>)>, seed: u64 },
    Table(Dict<Vec<u8>>),
}

impl PartialEq for Hash {
    /// Equal when they hold the same fields with the same values, whatever the encoding or order.
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::new(0)
    }
}

/// A hash's (field, value) pairs in its own order. One plain `next` rather than a chain of adapters over both
/// encodings: every command walking a hash compiles its loop over this type.
pub enum Iter<'a> {
    Listpack(core::slice::Iter<'a, (Vec<u8>, Vec<u8>)>),
    Table(crate::dict::Iter<'a, Vec<u8>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.next().map(|(f, v)| (f.as_slice(), v.as_slice())),
            Iter::Table(it) => it.next().map(|(f, v)| (f, v.as_slice())),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Listpack(it) => it.size_hint(),
            Iter::Table(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl Hash {
    /// An empty `listpack` hash; `seed` keys its hash table if it ever converts.
    pub fn new(seed: u64) -> Hash {
        Hash { repr: Repr::Listpack { pairs: Vec::new(), seed }, bytes: 0 }
    }

    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        match self.repr {
            Repr::Listpack { .. } => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack { .. })
    }

    /// Bytes this value takes, as the memory estimate counts them: the bytes themselves plus a per-entry
    /// overhead close to Redis's (a few bytes of listpack headers; a dict entry and two sds headers).
    pub fn mem_usage(&self) -> usize {
        match &self.repr {
            Repr::Listpack { pairs, .. } => 16 + self.bytes + pairs.len() * 4,
            Repr::Table(d) => 64 + d.bucket_count() * 8 + self.bytes + d.len() * 40,
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack { pairs, .. } => pairs.len(),
            Repr::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack { pairs, .. } => pairs.iter().find(|(f, _)| f == field).map(|(_, v)| v.as_slice()),
            Repr::Table(d) => d.get(field).map(|v| v.as_slice()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to `hashtable` if a field or value of these lengths could not stay in the listpack
    /// (Redis's hashTypeTryConversion, run on the arguments before anything is written, so even a write that
    /// turns out not to happen, like HSETNX on an existing field, converts).
    pub fn prepare_for<'a>(&mut self, args: impl IntoIterator<Item = &'a [u8]>, limits: Limits) {
        if self.is_listpack() && args.into_iter().any(|a| a.len() > limits.max_value) {
            self.convert();
        }
    }

    /// Sets `field` to `value`; true when the field is new. An existing field keeps its place.
    pub fn set(&mut self, field: &[u8], value: Vec<u8>, limits: Limits) -> bool {
        self.prepare_for([field, value.as_slice()], limits);
        self.bytes += value.len();
        let old = match &mut self.repr {
            Repr::Listpack { pairs, .. } => match pairs.iter_mut().find(|(f, _)| f == field) {
                Some((_, v)) => Some(core::mem::replace(v, value)),
                None => {
                    pairs.push((field.to_vec(), value));
                    None
                }
            },
            Repr::Table(d) => d.insert(field.to_vec(), value),
        };
        let added = match old {
            Some(old) => {
                self.bytes -= old.len();
                false
            }
            None => {
                self.bytes += field.len();
                true
            }
        };
        if self.is_listpack() && self.len() > limits.max_entries {
            self.convert();
        }
        added
    }

    /// Removes `field`; true when it was there. A listpack closes the gap, keeping the others' order.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack { pairs, .. } => match pairs.iter().position(|(f, _)| f == field) {
                Some(i) => {
                    let (f, v) = pairs.remove(i);
                    self.bytes -= f.len() + v.len();
                    true
                }
                None => false,
            },
            Repr::Table(d) => match d.remove(field) {
                Some(v) => {
                    self.bytes -= field.len() + v.len();
                    true
                }
                None => false,
            },
        }
    }

    /// Every pair: insertion order for a listpack, the table's own order for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack { pairs, .. } => Iter::Listpack(pairs.iter()),
            Repr::Table(d) => Iter::Table(d.iter()),
        }
    }

    /// A uniformly random pair, O(1).
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack { pairs, .. } => {
                if pairs.is_empty() {
                    return None;
                }
                let i = rng.below(pairs.len() as u64) as usize;
                pairs.get(i).map(|(f, v)| (f.as_slice(), v.as_slice()))
            }
            Repr::Table(d) => d.random(rng).map(|(f, v)| (f, v.as_slice())),
        }
    }

    /// One step of HSCAN over a hashtable: visits the bucket at `cursor`, returns the next cursor (0 = done).
    /// A listpack has no cursor: it visits everything and returns 0, as Redis's HSCAN does for it.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Listpack { pairs, .. } => {
                pairs.iter().for_each(|(k, v)| f(k, v));
                0
            }
            Repr::Table(d) => d.scan(cursor, |k, v| f(k, v)),
        }
    }

    /// Moves the pairs into a hash table (one-way, as Redis's hashTypeConvert).
    fn convert(&mut self) {
        if let Repr::Listpack { pairs, seed } = &mut self.repr {
            let mut d = Dict::probed(*seed);
            for (f, v) in core::mem::take(pairs) {
                d.insert(f, v);
            }
            self.repr = Repr::Table(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const L: Limits = Limits { max_entries: 512, max_value: 64 };

    fn fields(h: &Hash) -> Vec<Vec<u8>> {
        h.iter().map(|(f, _)| f.to_vec()).collect()
    }

    #[test]
    fn listpack_keeps_insertion_order_through_updates_and_deletes() {
        let mut h = Hash::new(1);
        for f in [&b"a"[..], b"b", b"c"] {
            assert!(h.set(f, b"1".to_vec(), L));
        }
        assert!(h.remove(b"a"));
        assert!(!h.set(b"b", b"5".to_vec(), L));
        assert!(h.set(b"a", b"4".to_vec(), L));
        assert_eq!(fields(&h), vec![b"b".to_vec(), b"c".to_vec(), b"a".to_vec()]);
        assert_eq!(h.get(b"b"), Some(&b"5"[..]));
        assert_eq!(h.encoding_name(), "listpack");
    }

    #[test]
    fn converts_on_long_values_and_many_entries_and_never_back() {
        let mut h = Hash::new(1);
        h.set(b"f", vec![b'x'; L.max_value], L);
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"g", vec![b'x'; L.max_value + 1], L);
        assert_eq!(h.encoding_name(), "hashtable");
        h.remove(b"g");
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 1);

        let mut h = Hash::new(2);
        for i in 0..L.max_entries {
            h.set(alloc::format!("f{i}").as_bytes(), b"v".to_vec(), L);
        }
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"one-more", b"v".to_vec(), L);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), L.max_entries + 1);
        assert_eq!(h.get(b"f7"), Some(&b"v"[..]));
    }

    #[test]
    fn random_and_scan_cover_the_hash() {
        let mut h = Hash::new(3);
        for i in 0..200 {
            h.set(alloc::format!("f{i}").as_bytes(), b"v".to_vec(), L);
        }
        let mut rng = Rng::new(9);
        for _ in 0..50 {
            let (f, _) = h.random(&mut rng).expect("non-empty");
            assert!(h.contains(f));
        }
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = h.scan(cursor, |f, _| seen.push(f.to_vec()));
            if cursor == 0 {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 200);
    }
}
