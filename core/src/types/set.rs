//! A set: O(1) membership and O(1) random member (`intset` while small and all integers, then `hashtable`).
//!
//! Two encodings, as Redis 7.0 has them, because the encoding is observable:
//! - `intset`: the members are integers (Redis's `isSdsRepresentableAsLongLong`, i.e. `string2ll`: no `+`,
//!   no leading zeros, no `-0`) kept in a sorted vector, so iteration (SMEMBERS, SSCAN, SPOP of everything)
//!   is in ascending order, exactly as Redis's intset replies. Lookups are binary searches and inserts shift
//!   the tail, which is what Redis's intset does too; the encoding is bounded by `set-max-intset-entries`.
//! - `hashtable`: a [`Dict`] of member bytes, with O(1) membership, O(1) uniform random member and Redis's
//!   reverse-binary SSCAN cursor.
//!
//! A set goes from `intset` to `hashtable` when a non-integer member is added or the intset grows past the
//! limit, and never back (a new set built by SPOP's or the store commands' workers may start as an intset).

use alloc::vec::Vec;

use crate::dict::Dict;
use crate::util::{i64_bytes, parse_i64, Rng};

/// Redis's `set-max-intset-entries` default.
pub const DEFAULT_MAX_INTSET_ENTRIES: usize = 512;
/// Redis caps the intset at 2^30 entries whatever the configuration says (setTypeAdd's "intset internals").
const INTSET_HARD_LIMIT: usize = 1 << 30;
/// The seed of every set's hash table. Sets need no per-key seed: the layout only has to be deterministic.
const TABLE_SEED: u64 = 0x5e75_eed5_0f5e_75e7;

/// Bytes a hash-table member costs besides its own bytes (Redis: the dictEntry and the sds header).
const TABLE_ENTRY_OVERHEAD: usize = 32;
/// Bytes per bucket of the hash table.
const TABLE_BUCKET: usize = 8;
/// The intset header (encoding and length).
const INTSET_HEADER: usize = 8;

/// The set itself, in one of Redis's two encodings.
#[derive(Clone, Debug)]
enum Repr {
    /// Sorted, distinct.
    Ints(Vec<i64>),
    Table(Dict<()>),
}

/// A Redis set value.
#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
    /// Total bytes of the members of a hash-table set, kept so `mem_usage` is O(1).
    member_bytes: usize,
}

/// A set's members in its own order (ascending for an intset). One plain `next` rather than a chain of
/// adapters over both encodings: every command walking a set compiles its loop over this type.
pub enum Iter<'a> {
    Ints(core::slice::Iter<'a, i64>),
    Table(crate::dict::Iter<'a, ()>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Ints(it) => it.next().map(|&i| Member::Int(i)),
            Iter::Table(it) => it.next().map(|(k, ())| Member::Bytes(k)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Ints(it) => it.size_hint(),
            Iter::Table(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// One member as a set yields it: an intset yields integers, a hash table bytes (Redis's setTypeNext
/// returns either an `int64_t` or an sds, and the callers turn integers to text only when they must).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Member<'_> {
    /// The member as the bytes a reply carries.
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Member::Int(v) => i64_bytes(v),
            Member::Bytes(b) => b.to_vec(),
        }
    }
}

impl Default for Set {
    fn default() -> Set {
        Set::new_intset()
    }
}

impl PartialEq for Set {
    /// Same encoding and same members.
    fn eq(&self, other: &Set) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Ints(a), Repr::Ints(b)) => a == b,
            (Repr::Table(a), Repr::Table(b)) => a.len() == b.len() && a.iter().all(|(k, _)| b.contains_key(k)),
            _ => false,
        }
    }
}

/// Whether `m` can live in an intset, and as which integer (Redis's isSdsRepresentableAsLongLong).
fn as_int(m: &[u8]) -> Option<i64> {
    parse_i64(m)
}

impl Set {
    /// An empty intset-encoded set (Redis's createIntsetObject): the temporary set of SUNION, SDIFF and
    /// the store commands starts as one.
    pub fn new_intset() -> Set {
        Set { repr: Repr::Ints(Vec::new()), member_bytes: 0 }
    }

    /// An empty set in the hash-table encoding (an RDB set too large for an intset).
    pub fn new_hashtable() -> Set {
        Set { repr: Repr::Table(Dict::probed(TABLE_SEED)), member_bytes: 0 }
    }

    /// An empty set in the encoding Redis's `setTypeCreate` picks for a set whose first member is `first`:
    /// an intset when it is an integer, a hash table otherwise.
    pub fn for_first_member(first: &[u8]) -> Set {
        if as_int(first).is_some() {
            Set::new_intset()
        } else {
            Set { repr: Repr::Table(Dict::probed(TABLE_SEED)), member_bytes: 0 }
        }
    }

    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Whether the set is intset-encoded (its iteration order is then ascending).
    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Ints(_))
    }

    /// Bytes this value takes, as the memory estimate counts them.
    pub fn mem_usage(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => INTSET_HEADER + v.len() * intset_width(v),
            Repr::Table(d) => d.bucket_count() * TABLE_BUCKET + d.len() * TABLE_ENTRY_OVERHEAD + self.member_bytes,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Table(d) => d.len(),
        }
    }

    /// Whether `m` is a member (Redis's setTypeIsMember).
    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(v) => as_int(m).is_some_and(|i| v.binary_search(&i).is_ok()),
            Repr::Table(d) => d.contains_key(m),
        }
    }

    /// Whether a member yielded by another set is a member of this one, without turning integers into text
    /// when both are intsets.
    pub fn contains_member(&self, m: Member) -> bool {
        match (m, &self.repr) {
            (Member::Int(i), Repr::Ints(v)) => v.binary_search(&i).is_ok(),
            (Member::Int(i), Repr::Table(d)) => d.contains_key(&i64_bytes(i)),
            (Member::Bytes(b), _) => self.contains(b),
        }
    }

    /// Adds `m`; true when it was not there. An intset becomes a hash table when `m` is not an integer or
    /// when it would hold more than `max_intset` members (Redis's setTypeAdd).
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        if let Repr::Ints(v) = &mut self.repr {
            match as_int(m) {
                Some(i) => {
                    let Err(at) = v.binary_search(&i) else { return false };
                    v.insert(at, i);
                    if v.len() > max_intset.min(INTSET_HARD_LIMIT) {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        match &mut self.repr {
            Repr::Table(d) => {
                // One lookup: inserting over a present member changes nothing (the stored key is kept).
                if d.insert(m.to_vec(), ()).is_some() {
                    return false;
                }
                self.member_bytes += m.len();
                true
            }
            Repr::Ints(_) => false,
        }
    }

    /// Adds a member yielded by another set.
    pub fn add_member(&mut self, m: Member, max_intset: usize) -> bool {
        match m {
            Member::Int(i) => self.add(&i64_bytes(i), max_intset),
            Member::Bytes(b) => self.add(b, max_intset),
        }
    }

    /// Removes `m`; true when it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match as_int(m).map(|i| v.binary_search(&i)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            Repr::Table(d) => {
                let removed = d.remove(m).is_some();
                if removed {
                    self.member_bytes -= m.len();
                }
                removed
            }
        }
    }

    /// A uniformly random member, O(1) (Redis's setTypeRandomElement).
    pub fn random(&self, rng: &mut Rng) -> Option<Member<'_>> {
        match &self.repr {
            Repr::Ints(v) => {
                if v.is_empty() {
                    return None;
                }
                v.get(rng.below(v.len() as u64) as usize).map(|&i| Member::Int(i))
            }
            Repr::Table(d) => d.random(rng).map(|(k, _)| Member::Bytes(k)),
        }
    }

    /// Removes and returns a random member.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Vec<u8>> {
        let m = self.random(rng)?.to_vec();
        self.remove(&m);
        Some(m)
    }

    /// Every member: ascending for an intset, the table's order for a hash table (Redis's setTypeNext).
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Ints(v) => Iter::Ints(v.iter()),
            Repr::Table(d) => Iter::Table(d.iter()),
        }
    }

    /// One SSCAN step over a hash table (see `Dict::scan`), calling `f` for each member of the visited
    /// bucket; returns the next cursor. `None` for an intset, which SSCAN returns whole in one call.
    pub fn scan_table(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> Option<u64> {
        match &self.repr {
            Repr::Ints(_) => None,
            Repr::Table(d) => Some(d.scan(cursor, |k, _| f(k))),
        }
    }

    /// Rewrites an intset as a hash table, in ascending order as Redis's setTypeConvert does.
    fn convert_to_table(&mut self) {
        if let Repr::Ints(v) = &self.repr {
            let mut d = Dict::probed(TABLE_SEED);
            let mut bytes = 0;
            for &i in v {
                let text = i64_bytes(i);
                bytes += text.len();
                d.insert(text, ());
            }
            self.repr = Repr::Table(d);
            self.member_bytes = bytes;
        }
    }
}

/// The byte width Redis's intset uses for every element: the smallest of 2, 4 and 8 that holds them all.
fn intset_width(v: &[i64]) -> usize {
    // Sorted, so the extremes are the ends.
    let (lo, hi) = (v.first().copied().unwrap_or(0), v.last().copied().unwrap_or(0));
    if lo >= i16::MIN as i64 && hi <= i16::MAX as i64 {
        2
    } else if lo >= i32::MIN as i64 && hi <= i32::MAX as i64 {
        4
    } else {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn members(s: &Set) -> Vec<Vec<u8>> {
        s.iter().map(Member::to_vec).collect()
    }

    #[test]
    fn intset_stays_sorted_and_accepts_only_string2ll_integers() {
        let mut s = Set::for_first_member(b"3");
        for m in [&b"3"[..], b"-1", b"10", b"2"] {
            s.add(m, DEFAULT_MAX_INTSET_ENTRIES);
        }
        assert_eq!(s.encoding_name(), "intset");
        assert_eq!(members(&s), vec![b"-1".to_vec(), b"2".to_vec(), b"3".to_vec(), b"10".to_vec()]);
        assert!(!s.add(b"2", DEFAULT_MAX_INTSET_ENTRIES));
        assert!(!s.contains(b"02"));
        assert!(!s.contains(b"+2"));
        assert!(s.add(b"02", DEFAULT_MAX_INTSET_ENTRIES));
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"2") && s.contains(b"02") && s.contains(b"-1"));
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn converts_past_the_limit_and_never_back() {
        let mut s = Set::new_intset();
        for i in 0..4 {
            s.add(&i64_bytes(i), 4);
        }
        assert!(s.is_intset());
        s.add(b"4", 4);
        assert_eq!(s.encoding_name(), "hashtable");
        for i in 0..5 {
            assert!(s.remove(&i64_bytes(i)));
        }
        assert!(s.is_empty());
        s.add(b"1", 4);
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn random_members_are_members_and_pop_removes() {
        let mut rng = Rng::new(7);
        for first in [&b"1"[..], b"a"] {
            let mut s = Set::for_first_member(first);
            for i in 0..50 {
                s.add(&i64_bytes(i), DEFAULT_MAX_INTSET_ENTRIES);
            }
            for _ in 0..50 {
                let m = s.random(&mut rng).map(Member::to_vec).unwrap_or_default();
                assert!(s.contains(&m));
            }
            let mut seen = Vec::new();
            while let Some(m) = s.pop_random(&mut rng) {
                assert!(!s.contains(&m));
                seen.push(m);
            }
            assert_eq!(seen.len(), 50);
            assert!(s.random(&mut rng).is_none());
        }
    }

    #[test]
    fn member_bytes_track_the_table() {
        let mut s = Set::for_first_member(b"abc");
        s.add(b"abc", 512);
        s.add(b"defg", 512);
        let with_two = s.mem_usage();
        s.remove(b"defg");
        assert!(s.mem_usage() < with_two);
        assert_eq!(s.member_bytes, 3);
    }
}
