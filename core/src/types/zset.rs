//! A sorted set: members by score with O(1) score lookup and O(log N) rank (`listpack` while small, then
//! `skiplist`).
//!
//! Elements are ordered by score, then by member bytes (`memcmp`), as in Redis. Two representations, one per
//! encoding Redis would report:
//!
//! - **listpack**: the elements in order in one `Leaf` (one buffer: the scores, the member offsets, the
//!   member bytes), and nothing else. A member is found by walking the leaf, as Redis walks its listpack;
//!   the set holds at most `zset-max-listpack-entries` elements, so that stays short.
//! - **skiplist**: a [`Dict`] from member to score (ZSCORE, membership, ZSCAN's cursor, ZRANDMEMBER's
//!   draws) and an order-statistic B+tree (`Tree`) in place of Redis's `zskiplist`. Its leaves hold up to
//!   `LEAF_MAX` elements contiguously, linked both ways for walking; its inner nodes hold up to `INNER_MAX`
//!   children with the number of elements under each, which gives the rank of an element and the element
//!   at a rank in one descent.
//!
//! Why a B+tree and not Redis's skiplist: at a million elements a skiplist search visits some 40 nodes, each
//! a cache miss once the set outgrows the caches (per-operation cost grew 9-22× from 10³ to 10⁶ elements).
//! The tree visits four or five nodes, whose upper levels stay cached; what is left is the dict entry, the
//! lowest inner node and the leaf. It is also smaller: a leaf stores a member as its bytes plus a 4-byte
//! offset next to its 8-byte score, with no per-element node, links or levels. bench/ANALYSIS.md has the
//! figures, before and after.
//!
//! Everything lives in arenas (`Vec`s of leaves and inner nodes, linked by `u32` indices), so there is no
//! unsafe code, and the same operations always build the same tree.
//!
//! Redis keeps a small sorted set in a listpack and converts it to a skiplist past `zset-max-listpack-entries`
//! elements or when a member is longer than `zset-max-listpack-value`; it never converts back except when a
//! store command (ZUNIONSTORE, ZRANGESTORE, ...) builds a fresh result. The encoding is observable: OBJECT
//! ENCODING, ZSCAN (a listpack is returned whole, a skiplist walked by hash-table cursor), memory estimates,
//! the lexicographic searches on mixed scores (a listpack is walked from its ends), and one quirk: a listpack
//! stores a score that is an integer as an integer, so `-0` reads back as `0` there.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::dict::Dict;
use crate::util::Rng;

/// "No leaf" in the leaf links and iterators.
const NIL: u32 = u32::MAX;
/// Seed of the member dict's hash: any constant keeps layouts (and so ZSCAN orders) reproducible.
const DICT_SEED: u64 = 0x7a5e_7d1c_0ffe_e5ed;
/// Redis's `LISTPACK_MAX_SAFETY_SIZE`: a listpack that would pass this many bytes becomes a skiplist
/// (`lpSafeToAdd`), whatever the entry limits say. Member bytes stand for the listpack's size here.
const LISTPACK_MAX_BYTES: usize = 1 << 30;

/// Most elements in a leaf of the tree. 64 scores are 512 bytes: a leaf is found by one descent and searched
/// within a few cache lines, and an insertion moves a few hundred bytes at most.
#[cfg(not(test))]
const LEAF_MAX: usize = 64;
/// Most member bytes in a leaf of two elements or more (long members make leaves of fewer elements, so an
/// insertion never moves much).
#[cfg(not(test))]
const LEAF_BYTES: usize = 4096;
/// Most children of an inner node: at a million elements the tree is four inner levels deep, and all but
/// the lowest are hot in the cache.
#[cfg(not(test))]
const INNER_MAX: usize = 32;
// Tiny nodes under test, so that a few thousand elements build deep trees and exercise every split, merge
// and redistribution path.
#[cfg(test)]
const LEAF_MAX: usize = 8;
#[cfg(test)]
const LEAF_BYTES: usize = 48;
#[cfg(test)]
const INNER_MAX: usize = 4;
/// A leaf left with fewer elements is merged with a neighbour, or refilled from it. A quarter (not half) of
/// the maximum, so that adding and removing around a boundary does not split and merge the same leaf again
/// and again.
const LEAF_MIN: usize = LEAF_MAX / 4;
/// The same for inner nodes (at least 2, so a non-root inner node always has a sibling to merge with).
const INNER_MIN: usize = if INNER_MAX / 4 > 2 { INNER_MAX / 4 } else { 2 };
/// Slots of an inner node: one more than the maximum, taken while an insertion makes it split.
const INNER_CAP: usize = INNER_MAX + 1;
/// Separator members this long or shorter are stored inline, without an allocation of their own.
const SEP_INLINE: usize = 22;

/// The listpack thresholds of the configuration (`zset-max-listpack-entries`, `zset-max-listpack-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_entries: 128, max_value: 64 }
    }
}

/// A score interval (Redis's `zrangespec`); `minex`/`maxex` make an end exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// Ranges that can hold nothing whatever the set (Redis checks this before looking).
    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range: `-` (below everything), `+` (above everything) or a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    Min,
    Max,
    Value(Vec<u8>),
}

impl LexBound {
    /// Redis's `sdscmplex`: a member against a bound.
    fn cmp_member(&self, member: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Less,
            LexBound::Max => Ordering::Greater,
            LexBound::Value(v) => v.as_slice().cmp(member),
        }
    }
}

/// A lexicographic interval (Redis's `zlexrangespec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
    pub minex: bool,
    pub maxex: bool,
}

impl LexRange {
    pub fn gte_min(&self, member: &[u8]) -> bool {
        let c = self.min.cmp_member(member);
        if self.minex {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    pub fn lte_max(&self, member: &[u8]) -> bool {
        let c = self.max.cmp_member(member);
        if self.maxex {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    fn is_empty(&self) -> bool {
        let cmp = match (&self.min, &self.max) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
            (LexBound::Value(a), LexBound::Value(b)) => a.cmp(b),
        };
        cmp == Ordering::Greater || (cmp == Ordering::Equal && (self.minex || self.maxex))
    }
}

/// ZADD's condition flags (Redis's ZADD_IN_*).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub incr: bool,
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// What one `add` did (Redis's ZADD_OUT_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    Added,
    Updated,
    /// The element was already there with that score: processed, nothing changed.
    Unchanged,
    /// A condition (NX, XX, GT, LT) skipped it.
    Skipped,
}

/// An incremented score came out NaN (`+inf` plus `-inf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NanScore;

/// A position in the order (a leaf and an index in it), valid until the set changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    leaf: u32,
    idx: u32,
}

/// A sorted set (see the module docs). Its header is all a small set has besides its one leaf's buffer.
#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// The listpack encoding: the elements in order, in one leaf whose links are both `NIL`.
    Listpack(Leaf),
    /// The skiplist encoding (boxed: a small set should not pay for the dict's and the tree's headers).
    Skiplist(Box<Indexed>),
}

/// The skiplist encoding's two views of the same elements.
#[derive(Clone)]
struct Indexed {
    /// Member to score.
    dict: Dict<f64>,
    /// The elements in order.
    tree: Tree,
    /// Total bytes of the members, kept up to date so the memory estimate is O(1).
    member_bytes: usize,
}

impl Indexed {
    fn new() -> Indexed {
        Indexed { dict: Dict::probed(DICT_SEED), tree: Tree::new(), member_bytes: 0 }
    }
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet::new(true)
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &ZSet) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl core::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.iter().map(|(m, s)| (alloc::string::String::from_utf8_lossy(m), s))).finish()
    }
}

impl ZSet {
    /// An empty set in the listpack encoding, or in the skiplist one.
    pub fn new(listpack: bool) -> ZSet {
        let repr = if listpack { Repr::Listpack(Leaf::default()) } else { Repr::Skiplist(Box::new(Indexed::new())) };
        ZSet { repr }
    }

    /// The encoding ZADD gives a new key (Redis looks at the first member only; later ones convert as usual).
    pub fn for_first_member(limits: Limits, first_member_len: usize) -> ZSet {
        ZSet::new(limits.max_entries != 0 && first_member_len <= limits.max_value)
    }

    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        if self.is_listpack() {
            "listpack"
        } else {
            "skiplist"
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Bytes this value takes, as the memory estimate counts them (in O(1)): a listpack's entries with
    /// their small headers, or the dict (entries and buckets) and the tree (elements, leaves, inner nodes).
    pub fn mem_usage(&self) -> usize {
        let n = self.len();
        match &self.repr {
            Repr::Listpack(l) => 16 + 7 + l.byte_len() + n * 12,
            Repr::Skiplist(x) => {
                16 + core::mem::size_of::<Indexed>()
                    + x.dict.bucket_count() * 4
                    // A dict entry, a score and an offset in a leaf, the member in both (inline in the
                    // dict entry when short, but the estimate does not know how many are).
                    + n * (40 + 12)
                    + x.member_bytes * 2
                    + x.tree.leaves.len() * core::mem::size_of::<Leaf>()
                    + x.tree.inners.len() * core::mem::size_of::<Inner>()
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(l) => l.len(),
            Repr::Skiplist(x) => x.tree.len,
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(l) => l.position_of_member(member).map(|i| l.score(i)),
            Repr::Skiplist(x) => x.dict.get(member).copied(),
        }
    }

    /// Redis's `zsetAdd`: adds or updates `member` under ZADD's flags. `Ok` carries what happened and the
    /// resulting score (the increment's result for INCR); a listpack that would outgrow `limits` becomes a
    /// skiplist first.
    pub fn add(&mut self, member: &[u8], score: f64, flags: AddFlags, limits: Limits) -> Result<(Added, f64), NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        match self.score(member) {
            Some(cur) => {
                if flags.nx {
                    return Ok((Added::Skipped, cur));
                }
                let mut score = score;
                if flags.incr {
                    score += cur;
                    if score.is_nan() {
                        return Err(NanScore);
                    }
                }
                if (flags.lt && score >= cur) || (flags.gt && score <= cur) {
                    return Ok((Added::Skipped, cur));
                }
                if score == cur {
                    return Ok((Added::Unchanged, score));
                }
                self.update(member, cur, score);
                Ok((Added::Updated, score))
            }
            None if flags.xx => Ok((Added::Skipped, score)),
            None => {
                if self.is_listpack()
                    && (self.len() + 1 > limits.max_entries
                        || member.len() > limits.max_value
                        || self.member_bytes() + member.len() > LISTPACK_MAX_BYTES)
                {
                    self.convert_to_skiplist();
                }
                self.insert_new(member, score);
                Ok((Added::Added, score))
            }
        }
    }

    /// Adds a member known to be absent, or replaces its score (a plain ZADD of one element).
    pub fn set(&mut self, member: &[u8], score: f64, limits: Limits) {
        // A NaN never reaches here: callers add parsed, checked scores.
        let _ = self.add(member, score, AddFlags::default(), limits);
    }

    /// Total bytes of the members.
    fn member_bytes(&self) -> usize {
        match &self.repr {
            Repr::Listpack(l) => l.byte_len(),
            Repr::Skiplist(x) => x.member_bytes,
        }
    }

    fn insert_new(&mut self, member: &[u8], score: f64) {
        match &mut self.repr {
            Repr::Listpack(l) => {
                // The listpack keeps integral scores as integers: a negative zero turns positive.
                let score = if score == 0.0 { 0.0 } else { score };
                let i = l.lower_bound(score, member);
                if l.len() >= l.cap as usize {
                    // Room grows by an eighth, not double: most sorted sets are small ones, and Redis's
                    // listpack grows by exactly what is added.
                    l.relayout(l.len() + 1 + l.len() / 8);
                }
                l.insert(i, score, member);
            }
            Repr::Skiplist(x) => {
                x.tree.insert(score, member);
                x.dict.insert(member.to_vec(), score);
                x.member_bytes += member.len();
            }
        }
    }

    fn update(&mut self, member: &[u8], cur: f64, score: f64) {
        match &mut self.repr {
            Repr::Listpack(l) => {
                let score = if score == 0.0 { 0.0 } else { score };
                if let Some(i) = l.find(cur, member) {
                    l.remove(i);
                }
                let i = l.lower_bound(score, member);
                l.insert(i, score, member);
            }
            Repr::Skiplist(x) => {
                x.tree.update_score(cur, member, score);
                if let Some(s) = x.dict.get_mut(member) {
                    *s = score;
                }
            }
        }
    }

    /// Removes a member; true when it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(l) => match l.position_of_member(member) {
                Some(i) => {
                    l.remove(i);
                    true
                }
                None => false,
            },
            Repr::Skiplist(x) => match x.dict.remove(member) {
                Some(score) => {
                    x.tree.remove(score, member);
                    x.member_bytes = x.member_bytes.saturating_sub(member.len());
                    true
                }
                None => false,
            },
        }
    }

    /// The 0-based rank of a member, from the lowest score (or from the highest with `reverse`).
    pub fn rank(&self, member: &[u8], reverse: bool) -> Option<usize> {
        let rank = match &self.repr {
            Repr::Listpack(l) => l.position_of_member(member)?,
            Repr::Skiplist(x) => {
                let score = x.dict.get(member).copied()?;
                x.tree.locate_known(score, member)?
            }
        };
        Some(if reverse { self.len().saturating_sub(rank + 1) } else { rank })
    }

    /// The element at a 0-based rank from the lowest score.
    pub fn at_rank(&self, rank: usize) -> Option<Pos> {
        let (leaf, idx) = match &self.repr {
            Repr::Listpack(_) => (0, rank),
            Repr::Skiplist(x) => x.tree.select(rank)?,
        };
        self.pos(leaf, idx)
    }

    /// The 0-based rank of a position.
    pub fn rank_of(&self, pos: Pos) -> usize {
        match &self.repr {
            Repr::Listpack(_) => pos.idx as usize,
            Repr::Skiplist(x) => {
                let (member, score) = self.get(pos);
                x.tree.locate(score, member).map_or(0, |(rank, _, _)| rank)
            }
        }
    }

    pub fn first(&self) -> Option<Pos> {
        match &self.repr {
            Repr::Listpack(_) => self.pos(0, 0),
            Repr::Skiplist(x) => self.pos(x.tree.first, 0),
        }
    }

    pub fn last(&self) -> Option<Pos> {
        let leaf = match &self.repr {
            Repr::Listpack(_) => 0,
            Repr::Skiplist(x) => x.tree.last,
        };
        let len = self.leaves().get(leaf as usize)?.len();
        self.pos(leaf, len.checked_sub(1)?)
    }

    /// The element at a position.
    pub fn get(&self, pos: Pos) -> (&[u8], f64) {
        self.leaves().get(pos.leaf as usize).and_then(|l| l.get(pos.idx as usize)).unwrap_or((b"", 0.0))
    }

    /// Elements from `pos` on, towards higher scores or (with `reverse`) lower ones.
    pub fn iter_from(&self, pos: Option<Pos>, reverse: bool) -> Iter<'_> {
        let (leaf, idx) = pos.map_or((NIL, 0), |p| (p.leaf, p.idx as usize));
        Iter { leaves: self.leaves(), leaf, idx, reverse }
    }

    /// All elements from the lowest score.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(self.first(), false)
    }

    /// All elements from the highest score.
    pub fn iter_rev(&self) -> Iter<'_> {
        self.iter_from(self.last(), true)
    }

    /// The lowest element within a score range.
    pub fn first_in_range(&self, range: &ScoreRange) -> Option<Pos> {
        if !self.in_range(range) {
            return None;
        }
        let (_, leaf, idx) = self.partition(&|s, _| !range.gte_min(s));
        let pos = self.pos(leaf, idx)?;
        range.lte_max(self.get(pos).1).then_some(pos)
    }

    /// The highest element within a score range.
    pub fn last_in_range(&self, range: &ScoreRange) -> Option<Pos> {
        if !self.in_range(range) {
            return None;
        }
        let (_, leaf, idx) = self.partition(&|s, _| range.lte_max(s));
        let pos = self.pos_before(leaf, idx)?;
        range.gte_min(self.get(pos).1).then_some(pos)
    }

    fn in_range(&self, range: &ScoreRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.first(), self.last()) {
            (Some(first), Some(last)) => range.gte_min(self.get(last).1) && range.lte_max(self.get(first).1),
            _ => false,
        }
    }

    /// The lowest element within a lexicographic range (meaningful when all scores are equal).
    ///
    /// With mixed scores the members are not in lexicographic order and the answer depends on how it is
    /// searched, so a listpack is walked from its start as Redis walks it (zzlFirstInLexRange); a skiplist is
    /// searched by descent, as Redis's is (zslFirstInLexRange: which elements it then looks at depends on
    /// its random levels, so with mixed scores Redis's own answer varies from run to run).
    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<Pos> {
        self.first_in_lex_range_ranked(range).map(|(p, _)| p)
    }

    fn first_in_lex_range_ranked(&self, range: &LexRange) -> Option<(Pos, usize)> {
        if !self.in_lex_range(range) {
            return None;
        }
        if let Repr::Listpack(l) = &self.repr {
            let i = (0..l.len()).find(|&i| range.gte_min(l.member(i)))?;
            return range.lte_max(l.member(i)).then_some((self.pos(0, i)?, i));
        }
        let (rank, leaf, idx) = self.partition(&|_, m| !range.gte_min(m));
        let pos = self.pos(leaf, idx)?;
        range.lte_max(self.get(pos).0).then_some((pos, rank))
    }

    /// The highest element within a lexicographic range (searched per encoding, as `first_in_lex_range`).
    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<Pos> {
        self.last_in_lex_range_ranked(range).map(|(p, _)| p)
    }

    fn last_in_lex_range_ranked(&self, range: &LexRange) -> Option<(Pos, usize)> {
        if !self.in_lex_range(range) {
            return None;
        }
        if let Repr::Listpack(l) = &self.repr {
            let i = (0..l.len()).rev().find(|&i| range.lte_max(l.member(i)))?;
            return range.gte_min(l.member(i)).then_some((self.pos(0, i)?, i));
        }
        let (rank, leaf, idx) = self.partition(&|_, m| range.lte_max(m));
        let pos = self.pos_before(leaf, idx)?;
        range.gte_min(self.get(pos).0).then_some((pos, rank.checked_sub(1)?))
    }

    fn in_lex_range(&self, range: &LexRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.first(), self.last()) {
            (Some(first), Some(last)) => range.gte_min(self.get(last).0) && range.lte_max(self.get(first).0),
            _ => false,
        }
    }

    /// How many elements a score range holds (ZCOUNT): the difference of two ranks.
    pub fn count_in_range(&self, range: &ScoreRange) -> usize {
        if !self.in_range(range) {
            return 0;
        }
        let (below, _, _) = self.partition(&|s, _| !range.gte_min(s));
        let (upto, _, _) = self.partition(&|s, _| range.lte_max(s));
        upto.saturating_sub(below)
    }

    /// How many elements a lexicographic range holds (ZLEXCOUNT): a listpack counts forward from the first
    /// element in range while members stay within the maximum, a skiplist subtracts the ranks of the first
    /// and last elements in range (the same number when all scores are equal).
    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        if self.is_listpack() {
            let first = self.first_in_lex_range(range);
            return self.iter_from(first, false).take_while(|(m, _)| range.lte_max(m)).count();
        }
        match (self.first_in_lex_range_ranked(range), self.last_in_lex_range_ranked(range)) {
            (Some((_, a)), Some((_, b))) => (b + 1).saturating_sub(a),
            _ => 0,
        }
    }

    /// Removes the elements of 0-based ranks `start..=end` (already clamped to the set); returns how many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let n = (end + 1).saturating_sub(start);
        let victims: Vec<(Vec<u8>, f64)> =
            self.iter_from(self.at_rank(start), false).take(n).map(|(m, s)| (m.to_vec(), s)).collect();
        self.remove_all(victims)
    }

    /// Removes the elements within a score range; returns how many.
    pub fn remove_score_range(&mut self, range: &ScoreRange) -> usize {
        let victims: Vec<(Vec<u8>, f64)> = self
            .iter_from(self.first_in_range(range), false)
            .take_while(|(_, s)| range.lte_max(*s))
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        self.remove_all(victims)
    }

    /// Removes the elements within a lexicographic range; returns how many.
    ///
    /// A listpack starts from its first element in range; a skiplist (zslDeleteRangeByLex) descends to the
    /// first member not below the minimum without first checking that the set's ends overlap the range,
    /// which with mixed scores can remove more.
    pub fn remove_lex_range(&mut self, range: &LexRange) -> usize {
        let start = if self.is_listpack() {
            self.first_in_lex_range(range)
        } else {
            let (_, leaf, idx) = self.partition(&|_, m| !range.gte_min(m));
            self.pos(leaf, idx)
        };
        let victims: Vec<(Vec<u8>, f64)> = self
            .iter_from(start, false)
            .take_while(|(m, _)| range.lte_max(m))
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        self.remove_all(victims)
    }

    fn remove_all(&mut self, victims: Vec<(Vec<u8>, f64)>) -> usize {
        let n = victims.len();
        for (m, s) in victims {
            match &mut self.repr {
                Repr::Listpack(l) => {
                    if let Some(i) = l.find(s, &m) {
                        l.remove(i);
                    }
                }
                Repr::Skiplist(x) => {
                    x.dict.remove(&m);
                    x.tree.remove(s, &m);
                    x.member_bytes = x.member_bytes.saturating_sub(m.len());
                }
            }
        }
        n
    }

    /// The next position towards higher scores.
    pub fn next(&self, pos: Pos) -> Option<Pos> {
        self.pos(pos.leaf, pos.idx as usize + 1)
    }

    /// The previous position towards lower scores.
    pub fn prev(&self, pos: Pos) -> Option<Pos> {
        self.pos_before(pos.leaf, pos.idx as usize)
    }

    /// Removes and returns the lowest element (or the highest with `max`).
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let pos = if max { self.last()? } else { self.first()? };
        let (m, s) = self.get(pos);
        let (m, s) = (m.to_vec(), s);
        self.remove(&m);
        Some((m, s))
    }

    /// A uniformly random element: a random index of a listpack, a random entry of the dict.
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Listpack(l) => {
                if l.len() == 0 {
                    return None;
                }
                l.get(rng.below(l.len() as u64) as usize)
            }
            Repr::Skiplist(x) => x.dict.random(rng).map(|(m, s)| (m, *s)),
        }
    }

    /// One step of a hash-table scan over the members (ZSCAN on a skiplist): calls `f` for each element of
    /// the bucket at `cursor` and returns the next cursor, 0 when done. A listpack is visited whole.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Listpack(l) => {
                for i in 0..l.len() {
                    f(l.member(i), l.score(i));
                }
                0
            }
            Repr::Skiplist(x) => x.dict.scan(cursor, |m, s| f(m, *s)),
        }
    }

    /// What a store command does with its freshly built result (`zsetConvertToListpackIfNeeded`): a skiplist
    /// small enough for `limits` becomes a listpack.
    pub fn shrink_if_fits(&mut self, limits: Limits) {
        if self.is_listpack() || self.len() > limits.max_entries {
            return;
        }
        if self.iter().any(|(m, _)| m.len() > limits.max_value) {
            return;
        }
        let mut leaf = Leaf::default();
        leaf.relayout(self.len());
        for (m, s) in self.iter() {
            // The listpack keeps integral scores as integers: a negative zero turns positive.
            leaf.push(if s == 0.0 { 0.0 } else { s }, m);
        }
        self.repr = Repr::Listpack(leaf);
    }

    /// Marks the set as a skiplist whatever its size (store results that start large, SORT).
    pub fn set_skiplist(&mut self) {
        self.convert_to_skiplist();
    }

    /// zsetConvert to the skiplist encoding: the dict and the tree built from the listpack's elements.
    fn convert_to_skiplist(&mut self) {
        let Repr::Listpack(leaf) = &self.repr else { return };
        let mut x = Indexed::new();
        for i in 0..leaf.len() {
            let (m, s) = (leaf.member(i), leaf.score(i));
            // In order: every insertion appends to the last leaf, which leaves the tree's leaves full.
            x.tree.insert(s, m);
            x.dict.insert(m.to_vec(), s);
        }
        x.member_bytes = leaf.byte_len();
        self.repr = Repr::Skiplist(Box::new(x));
    }

    /// The leaves a `Pos` points into: the listpack's one leaf, or the tree's arena.
    fn leaves(&self) -> &[Leaf] {
        match &self.repr {
            Repr::Listpack(l) => core::slice::from_ref(l),
            Repr::Skiplist(x) => &x.tree.leaves,
        }
    }

    /// The position of element `idx` of `leaf`, or of the first one of the next leaf when `idx` is past its
    /// end; `None` past the last element.
    fn pos(&self, leaf: u32, idx: usize) -> Option<Pos> {
        let l = self.leaves().get(leaf as usize)?;
        if idx < l.len() {
            return Some(Pos { leaf, idx: idx as u32 });
        }
        let next = self.leaves().get(l.next as usize)?;
        (next.len() > 0).then_some(Pos { leaf: l.next, idx: 0 })
    }

    /// The position just before element `idx` of `leaf` (which may be one past its end).
    fn pos_before(&self, leaf: u32, idx: usize) -> Option<Pos> {
        let l = self.leaves().get(leaf as usize)?;
        match idx.checked_sub(1) {
            Some(i) => (i < l.len()).then_some(Pos { leaf, idx: i as u32 }),
            None => {
                let prev = self.leaves().get(l.prev as usize)?;
                let i = prev.len().checked_sub(1)?;
                Some(Pos { leaf: l.prev, idx: i as u32 })
            }
        }
    }

    /// The first element for which `pred` is false, `pred` holding for a prefix of the order: its rank, its
    /// leaf and its index there (one past the leaf's end when it is the next leaf's first element, or when
    /// there is none). The predicate is a trait object: one copy of the searches serves every range
    /// (range searches are not on the per-element paths, and the engine's wasm size has a budget).
    fn partition(&self, pred: &dyn Fn(f64, &[u8]) -> bool) -> (usize, u32, usize) {
        match &self.repr {
            Repr::Listpack(l) => {
                let i = l.partition(pred);
                (i, 0, i)
            }
            Repr::Skiplist(x) => x.tree.partition(pred),
        }
    }
}

/// Elements in order from a position.
pub struct Iter<'a> {
    leaves: &'a [Leaf],
    /// The leaf of the next element, `NIL` when done.
    leaf: u32,
    idx: usize,
    reverse: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        let leaves = self.leaves;
        let leaf = leaves.get(self.leaf as usize)?;
        let item = leaf.get(self.idx)?;
        if self.reverse {
            match self.idx.checked_sub(1) {
                Some(i) => self.idx = i,
                None => {
                    self.leaf = leaf.prev;
                    self.idx = leaves.get(leaf.prev as usize).map_or(0, |l| l.len().saturating_sub(1));
                }
            }
        } else {
            self.idx += 1;
            if self.idx >= leaf.len() {
                self.leaf = leaf.next;
                self.idx = 0;
            }
        }
        Some(item)
    }
}

/// How the elements of a key compare: by score, then by member bytes. Scores are compared as numbers, so
/// `-0` and `0` are equal and their members decide; NaN is never stored.
fn cmp_key(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

/// Elements in order: the listpack encoding's whole content, or one leaf of the tree.
///
/// One allocation holds everything, so a leaf costs one cache and TLB miss to reach rather than one per
/// field (at a million elements these misses are most of an operation's cost): room for `cap` scores,
/// packed so that a search by score reads only them; room for `cap` member end offsets; then the member
/// bytes, in order. With room reserved for the scores and offsets, an insertion or removal moves only what
/// follows the element in each region, not the whole leaf. An element costs its member's bytes, its score
/// and its offset, with no pointer of its own.
#[derive(Clone, Debug)]
struct Leaf {
    /// Elements.
    n: u32,
    /// Room for elements before the regions must be laid out again.
    cap: u32,
    /// The neighbouring leaves in the order (`NIL` for none, and always for a listpack).
    prev: u32,
    next: u32,
    /// `cap` scores (8 bytes each, little-endian; the first `n` in use), `cap` member ends (4 bytes each:
    /// member `i` is `members[end(i - 1)..end(i)]`, from 0 for the first), then the members' bytes.
    data: Vec<u8>,
}

impl Default for Leaf {
    fn default() -> Leaf {
        Leaf { n: 0, cap: 0, prev: NIL, next: NIL, data: Vec::new() }
    }
}

/// Bytes of one score and one end offset in a leaf.
const SCORE: usize = 8;
const END: usize = 4;

impl Leaf {
    fn len(&self) -> usize {
        self.n as usize
    }

    /// Where the ends begin in `data`.
    fn ends_at(&self) -> usize {
        self.cap as usize * SCORE
    }

    /// Where the member bytes begin in `data`.
    fn members_at(&self) -> usize {
        self.cap as usize * (SCORE + END)
    }

    fn read_u32(&self, at: usize) -> u32 {
        self.data.get(at..at + END).and_then(|b| b.try_into().ok()).map_or(0, u32::from_le_bytes)
    }

    fn write_u32(&mut self, at: usize, v: u32) {
        if let Some(b) = self.data.get_mut(at..at + END) {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }

    fn score(&self, i: usize) -> f64 {
        let at = i * SCORE;
        self.data.get(at..at + SCORE).and_then(|b| b.try_into().ok()).map_or(0.0, f64::from_le_bytes)
    }

    fn set_score(&mut self, i: usize, score: f64) {
        let at = i * SCORE;
        if let Some(b) = self.data.get_mut(at..at + SCORE) {
            b.copy_from_slice(&score.to_le_bytes());
        }
    }

    /// Where member `i` ends among the member bytes.
    fn end(&self, i: usize) -> usize {
        self.read_u32(self.ends_at() + i * END) as usize
    }

    fn start(&self, i: usize) -> usize {
        match i.checked_sub(1) {
            Some(j) => self.end(j),
            None => 0,
        }
    }

    /// Bytes of all the members.
    fn byte_len(&self) -> usize {
        self.len().checked_sub(1).map_or(0, |last| self.end(last))
    }

    fn member(&self, i: usize) -> &[u8] {
        let base = self.members_at();
        self.data.get(base + self.start(i)..base + self.end(i)).unwrap_or_default()
    }

    fn get(&self, i: usize) -> Option<(&[u8], f64)> {
        (i < self.len()).then(|| (self.member(i), self.score(i)))
    }

    fn first(&self) -> Option<(&[u8], f64)> {
        self.get(0)
    }

    fn last(&self) -> Option<(&[u8], f64)> {
        self.get(self.len().checked_sub(1)?)
    }

    /// The scores in order.
    fn scores(&self) -> impl Iterator<Item = f64> + '_ {
        let scores = self.data.get(..self.len() * SCORE).unwrap_or_default();
        scores.chunks_exact(SCORE).map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
    }

    /// The first index whose score is not below `score`, and the index past the scores equal to it.
    ///
    /// A linear scan rather than a binary search: the scores are contiguous, so reading them in order lets
    /// the processor stream the leaf's cache lines in, where a binary search waits for one miss after
    /// another (at a million elements the leaf is usually not cached at all).
    fn score_span(&self, score: f64) -> (usize, usize) {
        let n = self.len();
        let lo = self.scores().position(|s| s >= score).unwrap_or(n);
        let hi = lo + self.scores().skip(lo).take_while(|&s| s == score).count();
        (lo, hi)
    }

    /// The first index whose element does not sort before (`score`, `member`); members are only read among
    /// equal scores.
    fn lower_bound(&self, score: f64, member: &[u8]) -> usize {
        let (mut lo, mut hi) = self.score_span(score);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.member(mid) < member {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The index of the element (`score`, `member`).
    fn find(&self, score: f64, member: &[u8]) -> Option<usize> {
        let i = self.lower_bound(score, member);
        (i < self.len() && self.score(i) == score && self.member(i) == member).then_some(i)
    }

    /// The index of an element known to be in this leaf (the dict vouches for it): when no other element
    /// has its score, that score alone finds it and the member bytes are not read.
    fn find_known(&self, score: f64, member: &[u8]) -> Option<usize> {
        match self.score_span(score) {
            (lo, hi) if hi == lo + 1 => Some(lo),
            _ => self.find(score, member),
        }
    }

    /// The index of `member` whatever its score, by walking the members (a listpack's lookup).
    fn position_of_member(&self, member: &[u8]) -> Option<usize> {
        let base = self.members_at();
        let mut start = 0usize;
        for i in 0..self.len() {
            let end = self.end(i);
            if end.wrapping_sub(start) == member.len() && self.data.get(base + start..base + end) == Some(member) {
                return Some(i);
            }
            start = end;
        }
        None
    }

    /// How many elements, from the first, satisfy `pred` (which holds for a prefix of them).
    fn partition(&self, pred: &dyn Fn(f64, &[u8]) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.score(mid), self.member(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Lays the regions out again with room for `cap` elements (at least `n`).
    fn relayout(&mut self, cap: usize) {
        let (n, cap) = (self.len(), cap.max(self.len()));
        let (total, base) = (self.byte_len(), self.members_at());
        let mut data = Vec::with_capacity(cap * (SCORE + END) + total);
        data.extend_from_slice(self.data.get(..n * SCORE).unwrap_or_default());
        data.resize(cap * SCORE, 0);
        data.extend_from_slice(self.data.get(self.ends_at()..self.ends_at() + n * END).unwrap_or_default());
        data.resize(cap * (SCORE + END), 0);
        data.extend_from_slice(self.data.get(base..base + total).unwrap_or_default());
        self.data = data;
        self.cap = cap as u32;
    }

    /// Inserts an element at index `i`. Each region's elements from `i` on move right; room for one more
    /// score and offset is made first when the leaf is at its capacity (doubling it, as a `Vec` would).
    fn insert(&mut self, i: usize, score: f64, member: &[u8]) {
        let n = self.len();
        if n >= self.cap as usize {
            self.relayout((n * 2).max(4));
        }
        let i = i.min(n);
        let (st, total, l) = (self.start(i), self.byte_len(), member.len());
        let (ends, members) = (self.ends_at(), self.members_at());
        let need = members + total + l;
        if need > self.data.capacity() {
            // An eighth more than needed rather than double: a leaf's spare room is memory every set pays.
            self.data.reserve_exact(need - self.data.len() + need / 8);
        }
        self.data.resize(need, 0);
        self.data.copy_within(members + st..members + total, members + st + l);
        if let Some(dst) = self.data.get_mut(members + st..members + st + l) {
            dst.copy_from_slice(member);
        }
        self.data.copy_within(ends + i * END..ends + n * END, ends + (i + 1) * END);
        self.write_u32(ends + i * END, (st + l) as u32);
        for j in i + 1..=n {
            let e = self.read_u32(ends + j * END);
            self.write_u32(ends + j * END, e.saturating_add(l as u32));
        }
        self.data.copy_within(i * SCORE..n * SCORE, (i + 1) * SCORE);
        self.set_score(i, score);
        self.n += 1;
    }

    /// Appends an element that sorts after all the others.
    fn push(&mut self, score: f64, member: &[u8]) {
        self.insert(self.len(), score, member);
    }

    /// Removes element `i`: each region's elements after it move left.
    fn remove(&mut self, i: usize) {
        let n = self.len();
        if i >= n {
            return;
        }
        let (st, en, total) = (self.start(i), self.end(i), self.byte_len());
        let l = en.saturating_sub(st);
        let (ends, members) = (self.ends_at(), self.members_at());
        self.data.copy_within((i + 1) * SCORE..n * SCORE, i * SCORE);
        self.data.copy_within(ends + (i + 1) * END..ends + n * END, ends + i * END);
        for j in i..n - 1 {
            let e = self.read_u32(ends + j * END);
            self.write_u32(ends + j * END, e.saturating_sub(l as u32));
        }
        self.data.copy_within(members + en..members + total, members + st);
        self.data.truncate(members + total - l);
        self.n -= 1;
        // A leaf emptied by removals gives most of its room back (a listpack can shrink a lot).
        if self.cap > 8 && self.len() * 4 <= self.cap as usize {
            self.relayout(self.len() * 2);
            self.data.shrink_to_fit();
        }
    }

    /// A leaf (with no links) of elements `from..to` of this one, with room for `cap` elements.
    fn slice(&self, from: usize, to: usize, cap: usize) -> Leaf {
        let (from, to) = (from.min(self.len()), to.min(self.len()).max(from.min(self.len())));
        let cap = cap.max(to - from);
        let (cut, upto) = (self.start(from), self.start(to));
        let mut data = Vec::with_capacity(cap * (SCORE + END) + upto - cut);
        data.extend_from_slice(self.data.get(from * SCORE..to * SCORE).unwrap_or_default());
        data.resize(cap * SCORE, 0);
        for j in from..to {
            data.extend_from_slice(&((self.end(j) - cut) as u32).to_le_bytes());
        }
        data.resize(cap * (SCORE + END), 0);
        let base = self.members_at();
        data.extend_from_slice(self.data.get(base + cut..base + upto).unwrap_or_default());
        Leaf { n: (to - from) as u32, cap: cap as u32, prev: NIL, next: NIL, data }
    }

    /// Moves the elements from `at` on into a new leaf (with no links). Both halves keep this leaf's room:
    /// they are in a tree that grows.
    fn split_off(&mut self, at: usize) -> Leaf {
        let cap = self.cap as usize;
        let right = self.slice(at, self.len(), cap);
        let mut left = self.slice(0, at, cap);
        left.prev = self.prev;
        left.next = self.next;
        *self = left;
        right
    }

    /// Appends the elements of `other`, which all sort after these (its links are ignored).
    fn append(&mut self, other: Leaf) {
        let (n, m) = (self.len(), other.len());
        if n + m > self.cap as usize {
            self.relayout(n + m);
        }
        let base = self.byte_len() as u32;
        let (ends, members) = (self.ends_at(), self.members_at());
        let (o_ends, o_members) = (other.ends_at(), other.members_at());
        if let (Some(dst), Some(src)) =
            (self.data.get_mut(n * SCORE..(n + m) * SCORE), other.data.get(..m * SCORE))
        {
            dst.copy_from_slice(src);
        }
        for j in 0..m {
            let e = other.read_u32(o_ends + j * END).saturating_add(base);
            self.write_u32(ends + (n + j) * END, e);
        }
        self.data.truncate(members + base as usize);
        self.data.extend_from_slice(other.data.get(o_members..).unwrap_or_default());
        self.n += other.n;
    }
}

/// The member part of a separator, inline when short so routing among equal scores reads no other memory.
#[derive(Clone, Debug)]
enum SepMember {
    Inline(u8, [u8; SEP_INLINE]),
    Heap(Box<[u8]>),
}

impl Default for SepMember {
    fn default() -> SepMember {
        SepMember::Inline(0, [0; SEP_INLINE])
    }
}

impl SepMember {
    fn new(bytes: &[u8]) -> SepMember {
        let mut inline = [0u8; SEP_INLINE];
        match inline.get_mut(..bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                SepMember::Inline(bytes.len() as u8, inline)
            }
            None => SepMember::Heap(bytes.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            SepMember::Inline(len, bytes) => bytes.get(..*len as usize).unwrap_or_default(),
            SepMember::Heap(b) => b,
        }
    }
}

/// A key between two adjacent elements `left` < `right`, that routes `right` (and everything from it on) to
/// the right: `right`'s score alone when the scores differ, else with the shortest prefix of `right`'s member
/// that sorts after `left`'s (B+tree suffix truncation: separators stay short).
fn separator(left: (&[u8], f64), right: (&[u8], f64)) -> (f64, SepMember) {
    let ((lm, ls), (rm, rs)) = (left, right);
    if ls < rs {
        return (rs, SepMember::default());
    }
    let common = lm.iter().zip(rm).take_while(|(a, b)| a == b).count();
    (rs, SepMember::new(rm.get(..common + 1).unwrap_or(rm)))
}

/// One child of an inner node, moved around whole when nodes split, merge or even out.
struct Slot {
    child: u32,
    count: u32,
    sep_score: f64,
    sep_member: SepMember,
}

/// What an inner node keeps per child, together: routing a key reads the separator scores from the first
/// child on, and the rank of a key sums the counts over the same children, so both read the same few
/// cache lines, the child's index among them.
#[derive(Clone, Copy, Debug, Default)]
struct Rec {
    /// The separator's score (see `Inner`); unused in slot 0.
    sep: f64,
    /// Elements under the child (`u32`: the dict holds fewer than 2³² members).
    count: u32,
    child: u32,
}

/// An inner node of the tree: children (leaves on the lowest inner level, inner nodes above), the number
/// of elements under each, and the separators that route a key to a child.
///
/// Separator `i` (for `1 <= i < n`) is a key: every element under child `i - 1` sorts before it, none under
/// child `i` does. Its member part is empty when the score alone separates (the usual case), so the members
/// live apart, allocated only once a separator needs one (equal scores on both sides of a boundary).
#[derive(Clone, Debug)]
struct Inner {
    n: usize,
    recs: [Rec; INNER_CAP],
    /// Empty, or `INNER_CAP` separator members.
    sep_members: Vec<SepMember>,
}

impl Inner {
    fn new() -> Inner {
        Inner { n: 0, recs: [Rec::default(); INNER_CAP], sep_members: Vec::new() }
    }

    fn rec(&self, i: usize) -> Rec {
        self.recs.get(i).copied().unwrap_or_default()
    }

    fn child(&self, i: usize) -> u32 {
        self.recs.get(i).map_or(NIL, |r| r.child)
    }

    fn count(&self, i: usize) -> u32 {
        self.rec(i).count
    }

    fn set_count(&mut self, i: usize, count: u32) {
        if let Some(r) = self.recs.get_mut(i) {
            r.count = count;
        }
    }

    fn sep_score(&self, i: usize) -> f64 {
        self.rec(i).sep
    }

    fn sep_member(&self, i: usize) -> &[u8] {
        self.sep_members.get(i).map_or(&[], SepMember::as_bytes)
    }

    fn set_sep(&mut self, i: usize, score: f64, member: SepMember) {
        if let Some(r) = self.recs.get_mut(i) {
            r.sep = score;
        }
        if self.sep_members.is_empty() {
            if member.as_bytes().is_empty() {
                return;
            }
            self.sep_members.resize(INNER_CAP, SepMember::default());
        }
        if let Some(m) = self.sep_members.get_mut(i) {
            *m = member;
        }
    }

    fn take_sep_member(&mut self, i: usize) -> SepMember {
        self.sep_members.get_mut(i).map(core::mem::take).unwrap_or_default()
    }

    /// Elements under the children before `i`.
    fn count_before(&self, i: usize) -> usize {
        self.recs.get(..i).unwrap_or_default().iter().map(|r| r.count as usize).sum()
    }

    fn total(&self) -> u32 {
        self.recs.get(..self.n).unwrap_or_default().iter().map(|r| r.count).sum()
    }

    /// The child the element (`score`, `member`) belongs under: the number of separators not above it.
    /// A linear scan, for the same reason as `Leaf::score_span`.
    fn route(&self, score: f64, member: &[u8]) -> usize {
        let n = self.n.min(INNER_CAP);
        let recs = self.recs.get(1..n).unwrap_or_default();
        let mut i = 1 + recs.iter().position(|r| r.sep >= score).unwrap_or(recs.len());
        while i < n && self.sep_score(i) == score && self.sep_member(i) <= member {
            i += 1;
        }
        i - 1
    }

    /// The child where `pred` (holding for a prefix of the order) stops holding: the number of separators
    /// it holds for. A separator is a key between two elements, so `pred` is asked about it as about one.
    fn partition(&self, pred: &dyn Fn(f64, &[u8]) -> bool) -> usize {
        let (mut lo, mut hi) = (1, self.n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.sep_score(mid), self.sep_member(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo - 1
    }

    /// Puts `slot` at index `i`, moving the later children up by one (room for one past the maximum).
    fn insert(&mut self, i: usize, slot: Slot) {
        let n = self.n;
        if n >= INNER_CAP || i > n {
            return;
        }
        self.recs.copy_within(i..n, i + 1);
        if let Some(s) = self.sep_members.get_mut(i..=n) {
            s.rotate_right(1);
        }
        self.n += 1;
        if let Some(r) = self.recs.get_mut(i) {
            r.child = slot.child;
            r.count = slot.count;
        }
        self.set_sep(i, slot.sep_score, slot.sep_member);
    }

    /// Removes child `i`, moving the later ones down.
    fn remove(&mut self, i: usize) {
        let n = self.n;
        if i >= n {
            return;
        }
        self.recs.copy_within(i + 1..n, i);
        if let Some(s) = self.sep_members.get_mut(i..n) {
            s.rotate_left(1);
        }
        self.n -= 1;
        let last = self.n;
        self.take_sep_member(last);
    }

    /// Empties the node into its slots, in order.
    fn take_slots(&mut self) -> Vec<Slot> {
        let n = self.n;
        self.n = 0;
        (0..n)
            .map(|i| {
                let r = self.rec(i);
                Slot { child: r.child, count: r.count, sep_score: r.sep, sep_member: self.take_sep_member(i) }
            })
            .collect()
    }

    /// A node of these slots (the first one's separator is dropped: slot 0 has none).
    fn from_slots(slots: Vec<Slot>) -> Inner {
        let mut node = Inner::new();
        for (i, mut slot) in slots.into_iter().enumerate() {
            if i == 0 {
                slot.sep_member = SepMember::default();
            }
            node.insert(i, slot);
        }
        node
    }
}

/// The skiplist encoding's order: an order-statistic B+tree over leaves and inner nodes in arenas.
///
/// Invariants (checked by the tests): every leaf is at depth `height`; a leaf holds at most `LEAF_MAX`
/// elements and none is empty unless it is the root; an inner node holds at most `INNER_MAX` children and at
/// least `INNER_MIN` (two for the root); each inner node's counts are its children's sizes; separators route
/// as documented on `Inner`; the leaves are linked in order from `first` to `last`.
#[derive(Clone, Debug)]
struct Tree {
    root: u32,
    /// Inner levels above the leaves (0: the root is a leaf).
    height: usize,
    len: usize,
    leaves: Vec<Leaf>,
    /// Freed leaf slots, reused before the arena grows.
    free_leaves: Vec<u32>,
    inners: Vec<Inner>,
    free_inners: Vec<u32>,
    /// The leftmost and rightmost leaves.
    first: u32,
    last: u32,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            root: 0,
            height: 0,
            len: 0,
            leaves: alloc::vec![Leaf::default()],
            free_leaves: Vec::new(),
            inners: Vec::new(),
            free_inners: Vec::new(),
            first: 0,
            last: 0,
        }
    }

    fn new_leaf(&mut self, leaf: Leaf) -> u32 {
        match self.free_leaves.pop() {
            Some(id) => {
                if let Some(slot) = self.leaves.get_mut(id as usize) {
                    *slot = leaf;
                }
                id
            }
            None => {
                self.leaves.push(leaf);
                (self.leaves.len() - 1) as u32
            }
        }
    }

    fn free_leaf(&mut self, id: u32) {
        if let Some(slot) = self.leaves.get_mut(id as usize) {
            *slot = Leaf::default();
            self.free_leaves.push(id);
        }
    }

    fn new_inner(&mut self, inner: Inner) -> u32 {
        match self.free_inners.pop() {
            Some(id) => {
                if let Some(slot) = self.inners.get_mut(id as usize) {
                    *slot = inner;
                }
                id
            }
            None => {
                self.inners.push(inner);
                (self.inners.len() - 1) as u32
            }
        }
    }

    fn free_inner(&mut self, id: u32) {
        if let Some(slot) = self.inners.get_mut(id as usize) {
            *slot = Inner::new();
            self.free_inners.push(id);
        }
    }

    /// The rank of the element (`score`, `member`), its leaf and its index there (zslGetRank).
    fn locate(&self, score: f64, member: &[u8]) -> Option<(usize, u32, usize)> {
        let mut node = self.root;
        let mut rank = 0;
        for _ in 0..self.height {
            let inner = self.inners.get(node as usize)?;
            let i = inner.route(score, member);
            rank += inner.count_before(i);
            node = inner.child(i);
        }
        let idx = self.leaves.get(node as usize)?.find(score, member)?;
        Some((rank + idx, node, idx))
    }

    /// `locate` for an element known to be in the set (its score comes from the dict): see
    /// `Leaf::find_known`.
    fn locate_known(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut node = self.root;
        let mut rank = 0;
        for _ in 0..self.height {
            let inner = self.inners.get(node as usize)?;
            let i = inner.route(score, member);
            rank += inner.count_before(i);
            node = inner.child(i);
        }
        Some(rank + self.leaves.get(node as usize)?.find_known(score, member)?)
    }

    /// The leaf and index of the element at a 0-based rank (zslGetElementByRank).
    fn select(&self, rank: usize) -> Option<(u32, usize)> {
        if rank >= self.len {
            return None;
        }
        let mut node = self.root;
        let mut r = rank;
        for _ in 0..self.height {
            let inner = self.inners.get(node as usize)?;
            let mut i = 0;
            while i + 1 < inner.n {
                let c = inner.count(i) as usize;
                if r < c {
                    break;
                }
                r -= c;
                i += 1;
            }
            node = inner.child(i);
        }
        Some((node, r))
    }

    /// See `ZSet::partition`.
    fn partition(&self, pred: &dyn Fn(f64, &[u8]) -> bool) -> (usize, u32, usize) {
        let mut node = self.root;
        let mut rank = 0;
        for _ in 0..self.height {
            let Some(inner) = self.inners.get(node as usize) else { break };
            let i = inner.partition(pred);
            rank += inner.count_before(i);
            node = inner.child(i);
        }
        let idx = self.leaves.get(node as usize).map_or(0, |l| l.partition(pred));
        (rank + idx, node, idx)
    }

    /// Adds an element that is not there.
    fn insert(&mut self, score: f64, member: &[u8]) {
        let root = self.root;
        if let Some(right) = self.insert_at(root, self.height, score, member) {
            // The root split: a new root above the two halves.
            let count = (self.len + 1).saturating_sub(right.count as usize) as u32;
            let left = Slot { child: root, count, sep_score: 0.0, sep_member: SepMember::default() };
            self.root = self.new_inner(Inner::from_slots(alloc::vec![left, right]));
            self.height += 1;
        }
        self.len += 1;
    }

    /// Adds the element under `node` (on `level`, 0 for a leaf); when the node had to split, returns the new
    /// right half for the parent to adopt.
    fn insert_at(&mut self, node: u32, level: usize, score: f64, member: &[u8]) -> Option<Slot> {
        if level == 0 {
            return self.insert_into_leaf(node, score, member);
        }
        let inner = self.inners.get_mut(node as usize)?;
        let i = inner.route(score, member);
        inner.set_count(i, inner.count(i) + 1);
        let child = inner.child(i);
        let right = self.insert_at(child, level - 1, score, member)?;
        let inner = self.inners.get_mut(node as usize)?;
        inner.set_count(i, inner.count(i).saturating_sub(right.count));
        inner.insert(i + 1, right);
        if inner.n <= INNER_MAX {
            return None;
        }
        let mut slots = inner.take_slots();
        let mut upper = slots.split_off(slots.len() / 2);
        *inner = Inner::from_slots(slots);
        let (sep_score, sep_member) = match upper.first_mut() {
            Some(s) => (s.sep_score, core::mem::take(&mut s.sep_member)),
            None => (score, SepMember::default()),
        };
        let right = Inner::from_slots(upper);
        let count = right.total();
        let child = self.new_inner(right);
        Some(Slot { child, count, sep_score, sep_member })
    }

    fn insert_into_leaf(&mut self, id: u32, score: f64, member: &[u8]) -> Option<Slot> {
        let leaf = self.leaves.get_mut(id as usize)?;
        let idx = leaf.lower_bound(score, member);
        let len = leaf.len();
        if len < LEAF_MAX && (len == 0 || leaf.byte_len() + member.len() <= LEAF_BYTES) {
            if len >= leaf.cap as usize {
                // Room doubles, but never past what a leaf may hold.
                leaf.relayout((2 * len).clamp(4, LEAF_MAX));
            }
            leaf.insert(idx, score, member);
            return None;
        }
        // Full: split before inserting, so a leaf's vectors never grow past `LEAF_MAX`. An element that goes
        // after the whole set (or before it) starts a leaf of its own and leaves the old one full, so
        // ascending (or descending) insertions fill every leaf.
        let at = if idx == len && leaf.next == NIL {
            len
        } else if idx == 0 && leaf.prev == NIL {
            0
        } else if len == 1 {
            idx
        } else {
            len / 2
        };
        let mut right = leaf.split_off(at);
        if idx < at || (idx == 0 && at == 0) {
            leaf.insert(idx, score, member);
        } else {
            right.insert(idx - at, score, member);
        }
        let (sep_score, sep_member) = match (leaf.last(), right.first()) {
            (Some(a), Some(b)) => separator(a, b),
            _ => (score, SepMember::default()),
        };
        let next = leaf.next;
        right.prev = id;
        right.next = next;
        let count = right.len() as u32;
        let new = self.new_leaf(right);
        if let Some(l) = self.leaves.get_mut(id as usize) {
            l.next = new;
        }
        match self.leaves.get_mut(next as usize) {
            Some(n) => n.prev = new,
            None => self.last = new,
        }
        Some(Slot { child: new, count, sep_score, sep_member })
    }

    /// Removes an element; false when it is not there.
    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let root = self.root;
        if self.remove_at(root, self.height, score, member).is_none() {
            return false;
        }
        self.len -= 1;
        // A root left with one child hands over to it.
        while self.height > 0 {
            let Some(top) = self.inners.get(self.root as usize) else { break };
            if top.n > 1 {
                break;
            }
            let child = top.child(0);
            self.free_inner(self.root);
            self.root = child;
            self.height -= 1;
        }
        if self.len == 0 {
            // Give the arenas back when the set empties.
            *self = Tree::new();
        }
        true
    }

    /// Removes the element from under `node`; `None` when it is not there, else whether `node` is now too
    /// small (its parent then merges or evens it out with a neighbour).
    fn remove_at(&mut self, node: u32, level: usize, score: f64, member: &[u8]) -> Option<bool> {
        if level == 0 {
            let leaf = self.leaves.get_mut(node as usize)?;
            let i = leaf.find(score, member)?;
            leaf.remove(i);
            return Some(leaf.len() < LEAF_MIN);
        }
        let inner = self.inners.get(node as usize)?;
        let i = inner.route(score, member);
        let child = inner.child(i);
        let underfull = self.remove_at(child, level - 1, score, member)?;
        if let Some(n) = self.inners.get_mut(node as usize) {
            n.set_count(i, n.count(i).saturating_sub(1));
        }
        if underfull {
            self.rebalance(node, i, level - 1);
        }
        Some(self.inners.get(node as usize).is_some_and(|n| n.n < INNER_MIN))
    }

    /// Child `i` of `parent` (on `level`) became too small: merges it with a neighbour when both fit in one
    /// node, else evens the two out.
    fn rebalance(&mut self, parent: u32, i: usize, level: usize) {
        let Some(p) = self.inners.get(parent as usize) else { return };
        if p.n < 2 {
            return;
        }
        let l = if i + 1 < p.n { i } else { i - 1 };
        let (lid, rid) = (p.child(l), p.child(l + 1));
        if level == 0 {
            self.rebalance_leaves(parent, l, lid, rid);
        } else {
            self.rebalance_inners(parent, l, lid, rid);
        }
    }

    fn rebalance_leaves(&mut self, parent: u32, l: usize, lid: u32, rid: u32) {
        let (Some(a), Some(b)) = (self.leaves.get(lid as usize), self.leaves.get(rid as usize)) else { return };
        let (ln, rn) = (a.len(), b.len());
        if ln + rn <= LEAF_MAX && (ln == 0 || rn == 0 || a.byte_len() + b.byte_len() <= LEAF_BYTES) {
            let right = self.leaves.get_mut(rid as usize).map(core::mem::take).unwrap_or_default();
            let next = right.next;
            if let Some(left) = self.leaves.get_mut(lid as usize) {
                left.append(right);
                left.next = next;
            }
            match self.leaves.get_mut(next as usize) {
                Some(n) => n.prev = lid,
                None => self.last = lid,
            }
            self.free_leaf(rid);
            if let Some(p) = self.inners.get_mut(parent as usize) {
                let moved = p.count(l + 1);
                p.remove(l + 1);
                p.set_count(l, p.count(l) + moved);
            }
            return;
        }
        if ln + rn < 2 * LEAF_MIN {
            // Too few to even out and too many bytes to merge: long members; leave them be.
            return;
        }
        let want = (ln + rn) / 2;
        let mut left = self.leaves.get_mut(lid as usize).map(core::mem::take).unwrap_or_default();
        let mut right = self.leaves.get_mut(rid as usize).map(core::mem::take).unwrap_or_default();
        if ln < want {
            shift_left(&mut left, &mut right, want - ln);
        } else if ln > want {
            shift_right(&mut left, &mut right, ln - want);
        }
        let sep = match (left.last(), right.first()) {
            (Some(a), Some(b)) => Some(separator(a, b)),
            _ => None,
        };
        let counts = (left.len() as u32, right.len() as u32);
        if let Some(slot) = self.leaves.get_mut(lid as usize) {
            *slot = left;
        }
        if let Some(slot) = self.leaves.get_mut(rid as usize) {
            *slot = right;
        }
        if let Some(p) = self.inners.get_mut(parent as usize) {
            if let Some((s, m)) = sep {
                p.set_sep(l + 1, s, m);
            }
            p.set_count(l, counts.0);
            p.set_count(l + 1, counts.1);
        }
    }

    fn rebalance_inners(&mut self, parent: u32, l: usize, lid: u32, rid: u32) {
        // Line up both nodes' children; the parent's separator between them becomes the right node's first.
        let Some(p) = self.inners.get_mut(parent as usize) else { return };
        let sep_score = p.sep_score(l + 1);
        let sep_member = p.take_sep_member(l + 1);
        let mut slots = self.inners.get_mut(lid as usize).map(|n| n.take_slots()).unwrap_or_default();
        let mut right = self.inners.get_mut(rid as usize).map(|n| n.take_slots()).unwrap_or_default();
        if let Some(first) = right.first_mut() {
            first.sep_score = sep_score;
            first.sep_member = sep_member;
        }
        slots.append(&mut right);
        if slots.len() <= INNER_MAX {
            let merged = Inner::from_slots(slots);
            let count = merged.total();
            if let Some(slot) = self.inners.get_mut(lid as usize) {
                *slot = merged;
            }
            self.free_inner(rid);
            if let Some(p) = self.inners.get_mut(parent as usize) {
                p.remove(l + 1);
                p.set_count(l, count);
            }
            return;
        }
        let mut upper = slots.split_off(slots.len() / 2);
        let (s, m) = match upper.first_mut() {
            Some(first) => (first.sep_score, core::mem::take(&mut first.sep_member)),
            None => (sep_score, SepMember::default()),
        };
        let (a, b) = (Inner::from_slots(slots), Inner::from_slots(upper));
        let counts = (a.total(), b.total());
        if let Some(slot) = self.inners.get_mut(lid as usize) {
            *slot = a;
        }
        if let Some(slot) = self.inners.get_mut(rid as usize) {
            *slot = b;
        }
        if let Some(p) = self.inners.get_mut(parent as usize) {
            p.set_sep(l + 1, s, m);
            p.set_count(l, counts.0);
            p.set_count(l + 1, counts.1);
        }
    }

    /// zslUpdateScore: moves an element to its new score, in place when it keeps its place between its
    /// neighbours in the leaf (the separators around the leaf then still hold).
    fn update_score(&mut self, cur: f64, member: &[u8], new: f64) {
        let Some((_, id, idx)) = self.locate(cur, member) else { return };
        if let Some(leaf) = self.leaves.get_mut(id as usize) {
            let after_prev = match idx.checked_sub(1) {
                Some(p) => cmp_key(leaf.score(p), leaf.member(p), new, member) == Ordering::Less,
                None => leaf.prev == NIL,
            };
            let before_next = if idx + 1 < leaf.len() {
                cmp_key(new, member, leaf.score(idx + 1), leaf.member(idx + 1)) == Ordering::Less
            } else {
                leaf.next == NIL
            };
            if after_prev && before_next {
                leaf.set_score(idx, new);
                return;
            }
        }
        if self.remove(cur, member) {
            self.insert(new, member);
        }
    }
}

/// Moves the first `k` elements of `right` to the end of `left` (links stay with their leaves).
fn shift_left(left: &mut Leaf, right: &mut Leaf, k: usize) {
    let rest = right.split_off(k);
    let moved = core::mem::replace(right, rest);
    right.prev = moved.prev;
    right.next = moved.next;
    left.append(moved);
}

/// Moves the last `k` elements of `left` to the start of `right` (links stay with their leaves).
fn shift_right(left: &mut Leaf, right: &mut Leaf, k: usize) {
    let mut moved = left.split_off(left.len().saturating_sub(k));
    moved.prev = right.prev;
    moved.next = right.next;
    moved.append(core::mem::take(right));
    *right = moved;
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    fn zset(pairs: &[(f64, &str)]) -> ZSet {
        let mut z = ZSet::new(false);
        for &(s, m) in pairs {
            z.set(m.as_bytes(), s, Limits::default());
        }
        z
    }

    fn members(z: &ZSet) -> Vec<Vec<u8>> {
        z.iter().map(|(m, _)| m.to_vec()).collect()
    }

    fn key_of(e: &(f64, Vec<u8>)) -> (f64, &[u8]) {
        (e.0, &e.1)
    }

    fn below(a: (f64, &[u8]), b: (f64, &[u8])) -> bool {
        cmp_key(a.0, a.1, b.0, b.1) == Ordering::Less
    }

    /// Checks a set against a plain walk of its elements, and the tree's structure (`check_tree`).
    fn check(z: &ZSet) {
        let all: Vec<(f64, Vec<u8>)> = z.iter().map(|(m, s)| (s, m.to_vec())).collect();
        assert_eq!(all.len(), z.len());
        let mut rev: Vec<(f64, Vec<u8>)> = z.iter_rev().map(|(m, s)| (s, m.to_vec())).collect();
        rev.reverse();
        assert_eq!(rev, all);
        for w in all.windows(2) {
            assert!(below(key_of(&w[0]), key_of(&w[1])), "out of order: {:?}", w);
        }
        assert_eq!(z.member_bytes(), all.iter().map(|e| e.1.len()).sum::<usize>());
        for (i, (s, m)) in all.iter().enumerate() {
            assert_eq!(z.score(m).map(f64::to_bits), Some(s.to_bits()));
            assert_eq!(z.rank(m, false), Some(i));
            assert_eq!(z.rank(m, true), Some(all.len() - 1 - i));
            let pos = z.at_rank(i).expect("rank in range");
            assert_eq!(z.get(pos), (&m[..], *s));
            assert_eq!(z.rank_of(pos), i);
        }
        assert_eq!(z.at_rank(all.len()), None);
        match &z.repr {
            Repr::Listpack(l) => {
                assert_eq!((l.prev, l.next), (NIL, NIL));
                check_leaf(l);
            }
            Repr::Skiplist(x) => {
                assert_eq!(x.dict.len(), all.len());
                check_tree(&x.tree);
            }
        }
    }

    /// A leaf's layout: as many ends as scores, increasing, and the member bytes they end.
    fn check_leaf(l: &Leaf) {
        assert!(l.len() <= l.cap as usize);
        assert_eq!(l.data.len(), l.members_at() + l.byte_len());
        for i in 0..l.len() {
            assert!(l.start(i) <= l.end(i));
        }
    }

    type Bound = Option<(f64, Vec<u8>)>;

    /// The tree's invariants (see `Tree`).
    fn check_tree(t: &Tree) {
        let mut leaves = vec![];
        let mut inners = 0;
        let n = walk(t, t.root, t.height, true, &None, &None, &mut leaves, &mut inners);
        assert_eq!(n, t.len);
        assert_eq!(leaves.first().copied(), Some(t.first));
        assert_eq!(leaves.last().copied(), Some(t.last));
        assert_eq!(t.leaves[t.first as usize].prev, NIL);
        assert_eq!(t.leaves[t.last as usize].next, NIL);
        for w in leaves.windows(2) {
            assert_eq!(t.leaves[w[0] as usize].next, w[1]);
            assert_eq!(t.leaves[w[1] as usize].prev, w[0]);
        }
        assert_eq!(leaves.len() + t.free_leaves.len(), t.leaves.len(), "leaf arena");
        assert_eq!(inners + t.free_inners.len(), t.inners.len(), "inner arena");
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        t: &Tree,
        node: u32,
        level: usize,
        root: bool,
        lo: &Bound,
        hi: &Bound,
        leaves: &mut Vec<u32>,
        inners: &mut usize,
    ) -> usize {
        let inside = |s: f64, m: &[u8]| {
            let above_lo = lo.as_ref().is_none_or(|b| !below((s, m), key_of(b)));
            above_lo && hi.as_ref().is_none_or(|b| below((s, m), key_of(b)))
        };
        if level == 0 {
            let leaf = &t.leaves[node as usize];
            assert!(leaf.len() <= LEAF_MAX && leaf.cap as usize <= LEAF_MAX);
            assert!(root || leaf.len() > 0, "empty leaf");
            check_leaf(leaf);
            for i in 0..leaf.len() {
                assert!(inside(leaf.score(i), leaf.member(i)), "element outside its separators");
            }
            leaves.push(node);
            return leaf.len();
        }
        *inners += 1;
        let inner = &t.inners[node as usize];
        assert!(inner.n <= INNER_MAX);
        assert!(inner.n >= if root { 2 } else { INNER_MIN }, "inner node of {} children", inner.n);
        let sep = |i: usize| -> Bound { Some((inner.sep_score(i), inner.sep_member(i).to_vec())) };
        let mut total = 0;
        for i in 0..inner.n {
            if i > 0 {
                assert!(inside(inner.sep_score(i), inner.sep_member(i)) || i == 0);
            }
            let clo = if i == 0 { lo.clone() } else { sep(i) };
            let chi = if i + 1 < inner.n { sep(i + 1) } else { hi.clone() };
            let c = walk(t, inner.child(i), level - 1, false, &clo, &chi, leaves, inners);
            assert_eq!(c, inner.count(i) as usize, "count of child {i}");
            total += c;
        }
        total
    }

    #[test]
    fn orders_by_score_then_member_bytes() {
        let z = zset(&[(2.0, "b"), (1.0, "z"), (2.0, "a"), (2.0, "ab"), (f64::NEG_INFINITY, "n")]);
        assert_eq!(members(&z), vec![b"n".to_vec(), b"z".to_vec(), b"a".to_vec(), b"ab".to_vec(), b"b".to_vec()]);
        check(&z);
        assert_eq!(z.rank(b"b", true), Some(0));
        assert_eq!(z.rank(b"q", false), None);
        // -0 and 0 compare equal: the members decide.
        let z = zset(&[(0.0, "b"), (-0.0, "a"), (0.0, "c")]);
        assert_eq!(members(&z), vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert!(z.score(b"a").unwrap().is_sign_negative());
        check(&z);
    }

    #[test]
    fn many_inserts_updates_and_removes_keep_the_tree() {
        let mut z = ZSet::new(false);
        let mut rng = Rng::new(7);
        for round in 0..3000u64 {
            let m = format!("m{}", rng.below(500));
            let s = (rng.below(50) as f64) - 25.0;
            match round % 3 {
                0 | 1 => z.set(m.as_bytes(), s, Limits::default()),
                _ => {
                    z.remove(m.as_bytes());
                }
            }
        }
        check(&z);
        let n = z.len();
        assert_eq!(z.remove_rank_range(10, 19), 10);
        assert_eq!(z.len(), n - 10);
        check(&z);
        let r = ScoreRange { min: -5.0, max: 5.0, minex: true, maxex: false };
        let expected = z.iter().filter(|(_, s)| *s > -5.0 && *s <= 5.0).count();
        assert_eq!(z.count_in_range(&r), expected);
        assert_eq!(z.remove_score_range(&r), expected);
        check(&z);
        while z.pop(false).is_some() {}
        assert!(z.is_empty());
        check(&z);
    }

    #[test]
    fn ascending_and_descending_insertions_fill_the_leaves() {
        for descending in [false, true] {
            let mut z = ZSet::new(false);
            for i in 0..1000 {
                let s = if descending { -(i as f64) } else { i as f64 };
                z.set(format!("m{i}").as_bytes(), s, Limits::default());
            }
            check(&z);
            let Repr::Skiplist(x) = &z.repr else { panic!("skiplist") };
            // Every leaf but one (the last one filled) is full.
            assert_eq!(x.tree.leaves.len(), 1000usize.div_ceil(LEAF_MAX));
            let mut e = z.clone();
            for i in 0..1000 {
                assert!(e.remove(format!("m{i}").as_bytes()));
                if i % 97 == 0 {
                    check(&e);
                }
            }
            assert!(e.is_empty());
            check(&e);
        }
    }

    #[test]
    fn long_members_split_leaves_by_bytes() {
        let mut z = ZSet::new(false);
        let mut rng = Rng::new(11);
        for i in 0..400 {
            let m = format!("{i:0>width$}", width = 1 + rng.below(60) as usize);
            z.set(m.as_bytes(), rng.below(4) as f64, Limits::default());
            if i % 50 == 0 {
                check(&z);
            }
        }
        check(&z);
        let all = members(&z);
        for (i, m) in all.iter().enumerate() {
            if i % 3 != 0 {
                assert!(z.remove(m));
            }
        }
        check(&z);
    }

    /// Everything against a sorted `Vec` of (score, member): adds, increments, removals, ranks, ranges,
    /// range removals, pops and encoding conversions, in both encodings.
    #[test]
    fn matches_a_sorted_vec() {
        let scores = [-0.0, 0.0, 1.0, 1.5, -3.0, f64::INFINITY, f64::NEG_INFINITY, 2.0, 1e300, 7.0];
        for seed in 0..8u64 {
            let mut rng = Rng::new(seed);
            let limits = Limits { max_entries: [0, 16, 64, 1000][seed as usize % 4], max_value: 30 };
            let mut z = ZSet::for_first_member(limits, 1);
            let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
            let pool = 200 + 300 * (seed % 3);
            for step in 0..12_000 {
                let id = rng.below(pool);
                // Mostly short members, a few long enough to leave the listpack or to split leaves by bytes.
                let m = if id.is_multiple_of(37) {
                    format!("{id}-{}", "x".repeat(31 + (id as usize % 20)))
                } else {
                    format!("m{id}")
                }
                .into_bytes();
                let s = scores[rng.below(scores.len() as u64) as usize];
                let at = model.iter().position(|e| e.1 == m);
                match rng.below(20) {
                    0..=7 => {
                        let flags = match rng.below(6) {
                            0 => AddFlags { nx: true, ..AddFlags::default() },
                            1 => AddFlags { gt: true, ..AddFlags::default() },
                            2 => AddFlags { incr: true, ..AddFlags::default() },
                            _ => AddFlags::default(),
                        };
                        let out = z.add(&m, s, flags, limits);
                        let cur = at.map(|i| model[i].0);
                        let new = match cur {
                            Some(c) if flags.incr => s + c,
                            _ => s,
                        };
                        if new.is_nan() {
                            assert_eq!(out, Err(NanScore));
                            continue;
                        }
                        // An equal score (-0 against 0 too) changes nothing.
                        let skip =
                            (flags.nx && cur.is_some()) || cur.is_some_and(|c| (flags.gt && new <= c) || new == c);
                        if !skip {
                            // A listpack stores -0 as 0.
                            let new = if z.is_listpack() && new == 0.0 { 0.0 } else { new };
                            if let Some(i) = at {
                                model.remove(i);
                            }
                            let i = model.partition_point(|e| below(key_of(e), (new, &m)));
                            model.insert(i, (new, m.clone()));
                        }
                    }
                    8..=11 => {
                        assert_eq!(z.remove(&m), at.is_some());
                        if let Some(i) = at {
                            model.remove(i);
                        }
                    }
                    12..=14 => {
                        assert_eq!(z.rank(&m, false), at);
                        let r = rng.below(model.len() as u64 + 2) as usize;
                        assert_eq!(z.at_rank(r).map(|p| z.get(p).1.to_bits()), model.get(r).map(|e| e.0.to_bits()));
                    }
                    15..=16 => {
                        let (a, b) = (scores[rng.below(10) as usize], scores[rng.below(10) as usize]);
                        let r = ScoreRange { min: a, max: b, minex: rng.below(2) == 0, maxex: rng.below(2) == 0 };
                        let inside: Vec<usize> =
                            (0..model.len()).filter(|&i| r.gte_min(model[i].0) && r.lte_max(model[i].0)).collect();
                        assert_eq!(z.count_in_range(&r), inside.len());
                        assert_eq!(z.first_in_range(&r).map(|p| z.rank_of(p)), inside.first().copied());
                        assert_eq!(z.last_in_range(&r).map(|p| z.rank_of(p)), inside.last().copied());
                        if step % 7 == 0 {
                            assert_eq!(z.remove_score_range(&r), inside.len());
                            for &i in inside.iter().rev() {
                                model.remove(i);
                            }
                        }
                    }
                    17 => {
                        if !model.is_empty() {
                            let start = rng.below(model.len() as u64) as usize;
                            let end = (start + rng.below(5) as usize).min(model.len() - 1);
                            assert_eq!(z.remove_rank_range(start, end), end - start + 1);
                            model.drain(start..=end);
                        }
                    }
                    18 => {
                        let max = rng.below(2) == 0;
                        let popped = z.pop(max).map(|(m, s)| (s, m));
                        let expected = if max { model.pop() } else { (!model.is_empty()).then(|| model.remove(0)) };
                        assert_eq!(popped.map(|e| (e.0.to_bits(), e.1)), expected.map(|e| (e.0.to_bits(), e.1)));
                    }
                    _ => {
                        // Store commands shrink their result when it fits a listpack; SORT makes a skiplist.
                        if rng.below(2) == 0 {
                            z.shrink_if_fits(limits);
                        } else {
                            z.set_skiplist();
                        }
                        // A listpack turns -0 into 0: the model follows.
                        if z.is_listpack() {
                            for e in &mut model {
                                if e.0 == 0.0 {
                                    e.0 = 0.0;
                                }
                            }
                        }
                    }
                }
                if step % 400 == 0 || model.len() < 3 {
                    let got: Vec<(u64, Vec<u8>)> = z.iter().map(|(m, s)| (s.to_bits(), m.to_vec())).collect();
                    let want: Vec<(u64, Vec<u8>)> = model.iter().map(|e| (e.0.to_bits(), e.1.clone())).collect();
                    assert_eq!(got, want, "seed {seed}, step {step}");
                    check(&z);
                }
            }
        }
    }

    /// Lexicographic ranges against a sorted `Vec`, all scores equal (where they are meaningful).
    #[test]
    fn lex_ranges_match_a_sorted_vec() {
        let bound = |rng: &mut Rng| match rng.below(8) {
            0 => LexBound::Min,
            1 => LexBound::Max,
            _ => LexBound::Value(format!("m{}", rng.below(300)).into_bytes()),
        };
        for listpack in [true, false] {
            let mut rng = Rng::new(5);
            let limits = Limits { max_entries: if listpack { 100_000 } else { 0 }, max_value: 64 };
            let mut z = ZSet::for_first_member(limits, 1);
            let mut model: Vec<Vec<u8>> = Vec::new();
            for step in 0..6000 {
                let m = format!("m{}", rng.below(300)).into_bytes();
                match rng.below(4) {
                    0 | 1 => {
                        z.set(&m, 0.0, limits);
                        if let Err(i) = model.binary_search(&m) {
                            model.insert(i, m);
                        }
                    }
                    2 => {
                        z.remove(&m);
                        if let Ok(i) = model.binary_search(&m) {
                            model.remove(i);
                        }
                    }
                    _ => {
                        let (min, max) = (bound(&mut rng), bound(&mut rng));
                        let r = LexRange { min, max, minex: rng.below(2) == 0, maxex: rng.below(2) == 0 };
                        let inside: Vec<usize> =
                            (0..model.len()).filter(|&i| r.gte_min(&model[i]) && r.lte_max(&model[i])).collect();
                        assert_eq!(z.count_in_lex_range(&r), inside.len());
                        assert_eq!(z.first_in_lex_range(&r).map(|p| z.rank_of(p)), inside.first().copied());
                        assert_eq!(z.last_in_lex_range(&r).map(|p| z.rank_of(p)), inside.last().copied());
                        if step % 5 == 0 {
                            assert_eq!(z.remove_lex_range(&r), inside.len());
                            for &i in inside.iter().rev() {
                                model.remove(i);
                            }
                        }
                    }
                }
                if step % 300 == 0 {
                    assert_eq!(members(&z), model);
                    check(&z);
                }
            }
            assert_eq!(z.is_listpack(), listpack);
        }
    }

    #[test]
    fn ranges() {
        let z = zset(&[(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")]);
        let r = |min, max, minex, maxex| ScoreRange { min, max, minex, maxex };
        assert_eq!(z.first_in_range(&r(2.0, 3.0, false, false)).map(|p| z.get(p).0), Some(&b"b"[..]));
        assert_eq!(z.last_in_range(&r(2.0, 3.0, false, true)).map(|p| z.get(p).0), Some(&b"b"[..]));
        assert_eq!(z.first_in_range(&r(4.0, 4.0, true, false)), None);
        assert_eq!(z.count_in_range(&r(f64::NEG_INFINITY, f64::INFINITY, false, false)), 4);
        let lex = LexRange { min: LexBound::Value(b"b".to_vec()), max: LexBound::Max, minex: true, maxex: true };
        assert_eq!(z.count_in_lex_range(&lex), 2);
        let empty = LexRange { min: LexBound::Min, max: LexBound::Min, minex: true, maxex: true };
        assert_eq!(z.count_in_lex_range(&empty), 0);
    }

    #[test]
    fn listpack_grows_into_skiplist_and_drops_negative_zero() {
        let limits = Limits { max_entries: 2, max_value: 3 };
        let mut z = ZSet::for_first_member(limits, 1);
        assert_eq!(z.encoding_name(), "listpack");
        z.set(b"a", -0.0, limits);
        assert!(z.score(b"a").unwrap().is_sign_positive());
        z.set(b"b", 1.0, limits);
        assert!(z.is_listpack());
        z.set(b"c", -0.0, limits);
        assert_eq!(z.encoding_name(), "skiplist");
        assert!(z.score(b"c").unwrap().is_sign_negative());
        z.remove(b"a");
        z.shrink_if_fits(limits);
        assert!(z.is_listpack());
        assert!(z.score(b"c").unwrap().is_sign_positive());
        assert!(ZSet::for_first_member(limits, 4).encoding_name() == "skiplist");
        check(&z);
    }

    #[test]
    fn add_flags() {
        let l = Limits::default();
        let mut z = zset(&[(5.0, "a")]);
        let gt = AddFlags { gt: true, ..AddFlags::default() };
        assert_eq!(z.add(b"a", 4.0, gt, l), Ok((Added::Skipped, 5.0)));
        assert_eq!(z.add(b"a", 6.0, gt, l), Ok((Added::Updated, 6.0)));
        let incr = AddFlags { incr: true, ..AddFlags::default() };
        assert_eq!(z.add(b"a", f64::INFINITY, incr, l), Ok((Added::Updated, f64::INFINITY)));
        assert_eq!(z.add(b"a", f64::NEG_INFINITY, incr, l), Err(NanScore));
        let xx = AddFlags { xx: true, ..AddFlags::default() };
        assert_eq!(z.add(b"new", 1.0, xx, l), Ok((Added::Skipped, 1.0)));
        assert_eq!(z.len(), 1);
    }

    #[test]
    fn small_sets_are_small() {
        // A listpack's header is its leaf's: no dict, no tree, one buffer.
        assert!(core::mem::size_of::<ZSet>() <= 48, "{}", core::mem::size_of::<ZSet>());
        let limits = Limits::default();
        let mut z = ZSet::for_first_member(limits, 1);
        for (i, m) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            z.set(m.as_bytes(), i as f64, limits);
        }
        let Repr::Listpack(l) = &z.repr else { panic!("listpack") };
        assert_eq!(l.cap, 5);
        assert!(l.data.capacity() <= 5 * 13 + 5 * 13 / 8, "{}", l.data.capacity());
    }

    #[test]
    fn separators_are_short() {
        assert_eq!(separator((b"abc", 1.0), (b"a", 2.0)).1.as_bytes(), b"");
        assert_eq!(separator((b"abc", 1.0), (b"abd", 1.0)).1.as_bytes(), b"abd");
        assert_eq!(separator((b"ab", 1.0), (b"abzz", 1.0)).1.as_bytes(), b"abz");
        assert_eq!(separator((b"a", -0.0), (b"b", 0.0)).1.as_bytes(), b"b");
        let long = [b'x'; 40];
        let mut longer = long.to_vec();
        longer.push(b'y');
        assert_eq!(separator((&long, 0.0), (&longer, 0.0)).1.as_bytes(), &longer[..]);
    }
}
