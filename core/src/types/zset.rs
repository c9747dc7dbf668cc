//! A sorted set: members by score with O(1) score lookup and O(log N) rank (`listpack` while small, then
//! `skiplist`).
//!
//! Two views of the same elements, as Redis's `zset`: a [`Dict`] from member to score answers ZSCORE and
//! membership in O(1), and a skiplist with spans (Redis's `zskiplist`) keeps them ordered by score, then by
//! member bytes (`memcmp`), with the rank of any element and the element at any rank in O(log N).
//!
//! The skiplist lives in an arena: nodes are slots of one `Vec`, links are `u32` slot indices (`NIL` for
//! none), and freed slots are reused, so there is no unsafe code and no pointer per link. Node heights come
//! from a small PRNG owned by the list, seeded by a constant, so the same operations build the same list.
//!
//! Redis keeps a small sorted set in a listpack and converts it to a skiplist past `zset-max-listpack-entries`
//! elements or when a member is longer than `zset-max-listpack-value`; it never converts back except when a
//! store command (ZUNIONSTORE, ZRANGESTORE, ...) builds a fresh result. Here one structure serves both
//! encodings and a flag says which one Redis would be using. The flag is observable: OBJECT ENCODING,
//! ZSCAN (a listpack is returned whole, a skiplist walked by hash-table cursor), memory estimates, and one
//! quirk: a listpack stores a score that is an integer as an integer, so `-0` reads back as `0` there.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::dict::Dict;
use crate::util::Rng;

/// Redis's ZSKIPLIST_MAXLEVEL.
const MAX_LEVEL: usize = 32;
/// "No node" in links.
const NIL: u32 = u32::MAX;
/// Slot of the header node, which holds no element and has every level.
const HEAD: u32 = 0;
/// Seed of the member dict's hash: any constant keeps layouts (and so ZSCAN orders) reproducible.
const DICT_SEED: u64 = 0x7a5e_7d1c_0ffe_e5ed;
/// Seed of the node-height generator.
const LEVEL_SEED: u64 = 0x5eed_1e7e_15ab_c0de;

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

/// A position in the order, valid until the set changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos(u32);

#[derive(Clone)]
pub struct ZSet {
    /// Whether Redis would hold this set in a listpack (see the module docs).
    listpack: bool,
    /// Member to score.
    dict: Dict<f64>,
    zsl: SkipList,
    /// Total bytes of the members, kept up to date so the memory estimate is O(1).
    member_bytes: usize,
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
        ZSet { listpack, dict: Dict::new(DICT_SEED), zsl: SkipList::new(), member_bytes: 0 }
    }

    /// The encoding ZADD gives a new key (Redis looks at the first member only; later ones convert as usual).
    pub fn for_first_member(limits: Limits, first_member_len: usize) -> ZSet {
        ZSet::new(limits.max_entries != 0 && first_member_len <= limits.max_value)
    }

    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "skiplist"
        }
    }

    pub fn is_listpack(&self) -> bool {
        self.listpack
    }

    /// Bytes this value takes, as the memory estimate counts them (in O(1)): a listpack's entries with
    /// their small headers, or the dict entries and skiplist nodes (4/3 levels each on average).
    pub fn mem_usage(&self) -> usize {
        let n = self.len();
        if self.listpack {
            16 + 7 + self.member_bytes + n * 12
        } else {
            16 + 32 + self.dict.bucket_count() * 4 + n * (48 + 80) + self.member_bytes * 2 + n * 4 / 3 * 8
        }
    }

    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    pub fn len(&self) -> usize {
        self.dict.len()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.dict.get(member).copied()
    }

    /// Redis's `zsetAdd`: adds or updates `member` under ZADD's flags. `Ok` carries what happened and the
    /// resulting score (the increment's result for INCR); a listpack that would outgrow `limits` becomes a
    /// skiplist first.
    pub fn add(&mut self, member: &[u8], score: f64, flags: AddFlags, limits: Limits) -> Result<(Added, f64), NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        match self.dict.get(member).copied() {
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
                if self.listpack && (self.len() + 1 > limits.max_entries || member.len() > limits.max_value) {
                    self.listpack = false;
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

    /// The score a listpack stores: integers are kept as integers, which loses the sign of zero.
    fn stored(&self, score: f64) -> f64 {
        if self.listpack && score == 0.0 {
            0.0
        } else {
            score
        }
    }

    fn insert_new(&mut self, member: &[u8], score: f64) {
        let score = self.stored(score);
        self.zsl.insert(score, member);
        self.dict.insert(member.to_vec(), score);
        self.member_bytes += member.len();
    }

    fn update(&mut self, member: &[u8], cur: f64, score: f64) {
        let score = self.stored(score);
        self.zsl.update_score(cur, member, score);
        if let Some(s) = self.dict.get_mut(member) {
            *s = score;
        }
    }

    /// Removes a member; true when it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.dict.remove(member) {
            Some(score) => {
                self.zsl.delete(score, member);
                self.member_bytes = self.member_bytes.saturating_sub(member.len());
                true
            }
            None => false,
        }
    }

    /// The 0-based rank of a member, from the lowest score (or from the highest with `reverse`).
    pub fn rank(&self, member: &[u8], reverse: bool) -> Option<usize> {
        let score = self.score(member)?;
        let rank = self.zsl.rank(score, member);
        if rank == 0 {
            return None;
        }
        Some(if reverse { self.len() - rank } else { rank - 1 })
    }

    /// The element at a 0-based rank from the lowest score.
    pub fn at_rank(&self, rank: usize) -> Option<Pos> {
        let x = self.zsl.by_rank(rank.checked_add(1)?);
        (x != NIL && x != HEAD).then_some(Pos(x))
    }

    /// The 0-based rank of a position.
    pub fn rank_of(&self, pos: Pos) -> usize {
        let (member, score) = self.zsl.element(pos.0);
        self.zsl.rank(score, member).saturating_sub(1)
    }

    pub fn first(&self) -> Option<Pos> {
        let x = self.zsl.fwd(HEAD, 0);
        (x != NIL).then_some(Pos(x))
    }

    pub fn last(&self) -> Option<Pos> {
        (self.zsl.tail != NIL).then_some(Pos(self.zsl.tail))
    }

    /// The element at a position.
    pub fn get(&self, pos: Pos) -> (&[u8], f64) {
        self.zsl.element(pos.0)
    }

    /// Elements from `pos` on, towards higher scores or (with `reverse`) lower ones.
    pub fn iter_from(&self, pos: Option<Pos>, reverse: bool) -> Iter<'_> {
        Iter { zsl: &self.zsl, cur: pos.map_or(NIL, |p| p.0), reverse }
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
        let zsl = &self.zsl;
        let mut x = HEAD;
        for i in (0..zsl.level).rev() {
            loop {
                let next = zsl.fwd(x, i);
                if next == NIL || range.gte_min(zsl.score_of(next)) {
                    break;
                }
                x = next;
            }
        }
        let x = zsl.fwd(x, 0);
        (x != NIL && range.lte_max(zsl.score_of(x))).then_some(Pos(x))
    }

    /// The highest element within a score range.
    pub fn last_in_range(&self, range: &ScoreRange) -> Option<Pos> {
        if !self.in_range(range) {
            return None;
        }
        let zsl = &self.zsl;
        let mut x = HEAD;
        for i in (0..zsl.level).rev() {
            loop {
                let next = zsl.fwd(x, i);
                if next == NIL || !range.lte_max(zsl.score_of(next)) {
                    break;
                }
                x = next;
            }
        }
        (x != HEAD && range.gte_min(zsl.score_of(x))).then_some(Pos(x))
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
    /// searched, so each encoding searches as Redis does: a listpack is walked from its start
    /// (zzlFirstInLexRange), a skiplist descended level by level (zslFirstInLexRange).
    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<Pos> {
        if !self.in_lex_range(range) {
            return None;
        }
        let zsl = &self.zsl;
        if self.listpack {
            let mut pos = self.first();
            while let Some(p) = pos {
                let member = self.get(p).0;
                if range.gte_min(member) {
                    return range.lte_max(member).then_some(p);
                }
                pos = self.next(p);
            }
            return None;
        }
        let mut x = HEAD;
        for i in (0..zsl.level).rev() {
            loop {
                let next = zsl.fwd(x, i);
                if next == NIL || range.gte_min(zsl.member_of(next)) {
                    break;
                }
                x = next;
            }
        }
        let x = zsl.fwd(x, 0);
        (x != NIL && range.lte_max(zsl.member_of(x))).then_some(Pos(x))
    }

    /// The highest element within a lexicographic range (searched per encoding, as `first_in_lex_range`).
    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<Pos> {
        if !self.in_lex_range(range) {
            return None;
        }
        let zsl = &self.zsl;
        if self.listpack {
            let mut pos = self.last();
            while let Some(p) = pos {
                let member = self.get(p).0;
                if range.lte_max(member) {
                    return range.gte_min(member).then_some(p);
                }
                pos = self.prev(p);
            }
            return None;
        }
        let mut x = HEAD;
        for i in (0..zsl.level).rev() {
            loop {
                let next = zsl.fwd(x, i);
                if next == NIL || !range.lte_max(zsl.member_of(next)) {
                    break;
                }
                x = next;
            }
        }
        (x != HEAD && range.gte_min(zsl.member_of(x))).then_some(Pos(x))
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

    /// How many elements a score range holds, from two rank lookups (ZCOUNT).
    pub fn count_in_range(&self, range: &ScoreRange) -> usize {
        match (self.first_in_range(range), self.last_in_range(range)) {
            (Some(a), Some(b)) => (self.rank_of(b) + 1).saturating_sub(self.rank_of(a)),
            _ => 0,
        }
    }

    /// How many elements a lexicographic range holds (ZLEXCOUNT): a listpack counts forward from the first
    /// element in range while members stay within the maximum, a skiplist subtracts two ranks (the same
    /// number when all scores are equal).
    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        if self.listpack {
            let first = self.first_in_lex_range(range);
            return self.iter_from(first, false).take_while(|(m, _)| range.lte_max(m)).count();
        }
        match (self.first_in_lex_range(range), self.last_in_lex_range(range)) {
            (Some(a), Some(b)) => (self.rank_of(b) + 1).saturating_sub(self.rank_of(a)),
            _ => 0,
        }
    }

    /// Removes the elements of 0-based ranks `start..=end` (already clamped to the set); returns how many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let mut removed = 0;
        let mut pos = self.at_rank(start);
        let mut victims = Vec::new();
        let mut rank = start;
        while let Some(p) = pos {
            if rank > end {
                break;
            }
            let (m, s) = self.get(p);
            victims.push((m.to_vec(), s));
            pos = self.next(p);
            rank += 1;
        }
        for (m, s) in victims {
            self.dict.remove(&m);
            self.zsl.delete(s, &m);
            self.member_bytes = self.member_bytes.saturating_sub(m.len());
            removed += 1;
        }
        removed
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
        let start = if self.listpack {
            self.first_in_lex_range(range)
        } else {
            let zsl = &self.zsl;
            let mut x = HEAD;
            for i in (0..zsl.level).rev() {
                loop {
                    let next = zsl.fwd(x, i);
                    if next == NIL || range.gte_min(zsl.member_of(next)) {
                        break;
                    }
                    x = next;
                }
            }
            let x = zsl.fwd(x, 0);
            (x != NIL).then_some(Pos(x))
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
            self.dict.remove(&m);
            self.zsl.delete(s, &m);
            self.member_bytes = self.member_bytes.saturating_sub(m.len());
        }
        n
    }

    /// The next position towards higher scores.
    pub fn next(&self, pos: Pos) -> Option<Pos> {
        let x = self.zsl.fwd(pos.0, 0);
        (x != NIL).then_some(Pos(x))
    }

    /// The previous position towards lower scores.
    pub fn prev(&self, pos: Pos) -> Option<Pos> {
        let x = self.zsl.nodes.get(pos.0 as usize).map_or(NIL, |n| n.backward);
        (x != NIL).then_some(Pos(x))
    }

    /// Removes and returns the lowest element (or the highest with `max`).
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let pos = if max { self.last()? } else { self.first()? };
        let (m, s) = self.get(pos);
        let (m, s) = (m.to_vec(), s);
        self.remove(&m);
        Some((m, s))
    }

    /// A uniformly random element.
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], f64)> {
        self.dict.random(rng).map(|(m, s)| (m, *s))
    }

    /// One step of a hash-table scan over the members (ZSCAN on a skiplist): calls `f` for each element of
    /// the bucket at `cursor` and returns the next cursor, 0 when done.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        self.dict.scan(cursor, |m, s| f(m, *s))
    }

    /// What a store command does with its freshly built result (`zsetConvertToListpackIfNeeded`): a skiplist
    /// small enough for `limits` becomes a listpack.
    pub fn shrink_if_fits(&mut self, limits: Limits) {
        if self.listpack || self.len() > limits.max_entries {
            return;
        }
        if self.dict.iter().any(|(m, _)| m.len() > limits.max_value) {
            return;
        }
        self.listpack = true;
        // The listpack keeps integral scores as integers: a negative zero turns positive.
        self.zsl.positive_zeros();
        for (_, s) in self.dict.iter_mut() {
            if *s == 0.0 {
                *s = 0.0;
            }
        }
    }

    /// Marks the set as a skiplist whatever its size (store results that start large, ZRANGESTORE).
    pub fn set_skiplist(&mut self) {
        self.listpack = false;
    }
}

/// Elements in order from a position.
pub struct Iter<'a> {
    zsl: &'a SkipList,
    cur: u32,
    reverse: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        if self.cur == NIL || self.cur == HEAD {
            return None;
        }
        let node = self.zsl.nodes.get(self.cur as usize)?;
        self.cur = if self.reverse { node.backward } else { node.inline[0].forward };
        Some((&node.member, node.score))
    }
}

#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    /// How many elements the link skips over, the target included (0 for a link to nothing from the header).
    span: u32,
}

/// Levels kept inside the node: a node is this tall or shorter with probability 1 - 4^-INLINE_LEVELS, and
/// a search step then reads one node, not a node and a separate array (the cache miss per step is what
/// a large skiplist's speed depends on).
const INLINE_LEVELS: usize = 4;

#[derive(Clone, Debug)]
struct Node {
    score: f64,
    /// The previous node on level 0 (`NIL` for the first element).
    backward: u32,
    /// How many levels the node has (1..=MAX_LEVEL).
    height: u8,
    /// Levels 0..INLINE_LEVELS (those below `height` are in use).
    inline: [Level; INLINE_LEVELS],
    /// Levels from INLINE_LEVELS up to `height`; empty (no allocation) for most nodes.
    more: Box<[Level]>,
    member: Box<[u8]>,
}

impl Node {
    fn new(height: usize, score: f64, member: Box<[u8]>) -> Node {
        let empty = Level { forward: NIL, span: 0 };
        let more = if height > INLINE_LEVELS {
            alloc::vec![empty; height - INLINE_LEVELS].into_boxed_slice()
        } else {
            Box::default()
        };
        Node { score, backward: NIL, height: height as u8, inline: [empty; INLINE_LEVELS], more, member }
    }

    fn level(&self, i: usize) -> Option<&Level> {
        if i >= self.height as usize {
            None
        } else if i < INLINE_LEVELS {
            self.inline.get(i)
        } else {
            self.more.get(i - INLINE_LEVELS)
        }
    }

    fn level_mut(&mut self, i: usize) -> Option<&mut Level> {
        if i >= self.height as usize {
            None
        } else if i < INLINE_LEVELS {
            self.inline.get_mut(i)
        } else {
            self.more.get_mut(i - INLINE_LEVELS)
        }
    }
}

/// Redis's `zskiplist` in an arena (see the module docs). Slot `HEAD` is the header.
#[derive(Clone, Debug)]
struct SkipList {
    nodes: Vec<Node>,
    /// Freed slots, reused before the arena grows.
    free: Vec<u32>,
    tail: u32,
    length: usize,
    /// Levels in use (at least 1).
    level: usize,
    /// State of the node-height generator (xorshift64*).
    seed: u64,
}

impl SkipList {
    fn new() -> SkipList {
        let header = Node::new(MAX_LEVEL, 0.0, Box::default());
        SkipList { nodes: alloc::vec![header], free: Vec::new(), tail: NIL, length: 0, level: 1, seed: LEVEL_SEED }
    }

    fn fwd(&self, x: u32, i: usize) -> u32 {
        self.nodes.get(x as usize).and_then(|n| n.level(i)).map_or(NIL, |l| l.forward)
    }

    fn span(&self, x: u32, i: usize) -> u32 {
        self.nodes.get(x as usize).and_then(|n| n.level(i)).map_or(0, |l| l.span)
    }

    fn level_mut(&mut self, x: u32, i: usize) -> Option<&mut Level> {
        self.nodes.get_mut(x as usize).and_then(|n| n.level_mut(i))
    }

    fn score_of(&self, x: u32) -> f64 {
        self.nodes.get(x as usize).map_or(0.0, |n| n.score)
    }

    fn member_of(&self, x: u32) -> &[u8] {
        self.nodes.get(x as usize).map_or(b"", |n| &n.member)
    }

    fn element(&self, x: u32) -> (&[u8], f64) {
        self.nodes.get(x as usize).map_or((b"", 0.0), |n| (&n.member, n.score))
    }

    fn set_backward(&mut self, x: u32, to: u32) {
        if let Some(n) = self.nodes.get_mut(x as usize) {
            n.backward = to;
        }
    }

    /// Whether node `x` sorts before (`score`, `member`).
    fn before(&self, x: u32, score: f64, member: &[u8]) -> bool {
        let (m, s) = self.element(x);
        s < score || (s == score && m < member)
    }

    /// Redis's zslRandomLevel: each extra level with probability 1/4.
    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            self.seed ^= self.seed >> 12;
            self.seed ^= self.seed << 25;
            self.seed ^= self.seed >> 27;
            let r = self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 48;
            if r >= 0xFFFF / 4 || level >= MAX_LEVEL {
                return level;
            }
            level += 1;
        }
    }

    /// The predecessors of (`score`, `member`) on every level in use, and (when `ranks`) their ranks.
    fn find_update(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let next = self.fwd(x, i);
                if next == NIL || !self.before(next, score, member) {
                    break;
                }
                rank[i] += self.span(x, i);
                x = next;
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// zslInsert: the element must not be present.
    fn insert(&mut self, score: f64, member: &[u8]) -> u32 {
        let (mut update, mut rank) = self.find_update(score, member);
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                let len = self.length as u32;
                if let Some(l) = self.level_mut(HEAD, i) {
                    l.span = len;
                }
            }
            self.level = level;
        }
        let node = Node::new(level, score, member.into());
        let x = match self.free.pop() {
            Some(slot) => {
                if let Some(n) = self.nodes.get_mut(slot as usize) {
                    *n = node;
                }
                slot
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..level {
            let prev = update[i];
            let prev_fwd = self.fwd(prev, i);
            let prev_span = self.span(prev, i);
            let crossed = rank[0] - rank[i];
            if let Some(l) = self.level_mut(x, i) {
                l.forward = prev_fwd;
                l.span = prev_span.saturating_sub(crossed);
            }
            if let Some(l) = self.level_mut(prev, i) {
                l.forward = x;
                l.span = crossed + 1;
            }
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            if let Some(l) = self.level_mut(u, i) {
                l.span += 1;
            }
        }
        let back = if update[0] == HEAD { NIL } else { update[0] };
        self.set_backward(x, back);
        let next = self.fwd(x, 0);
        if next != NIL {
            self.set_backward(next, x);
        } else {
            self.tail = x;
        }
        self.length += 1;
        x
    }

    /// zslDeleteNode: unlinks `x` given its predecessors, and frees its slot.
    fn delete_node(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let x_fwd = self.fwd(x, i);
            let x_span = self.span(x, i);
            if let Some(l) = self.level_mut(u, i) {
                if l.forward == x {
                    l.span = (l.span + x_span).saturating_sub(1);
                    l.forward = x_fwd;
                } else {
                    l.span = l.span.saturating_sub(1);
                }
            }
        }
        let next = self.fwd(x, 0);
        let back = self.nodes.get(x as usize).map_or(NIL, |n| n.backward);
        if next != NIL {
            self.set_backward(next, back);
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.fwd(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.length -= 1;
        if let Some(n) = self.nodes.get_mut(x as usize) {
            n.member = Box::default();
            n.more = Box::default();
            n.height = 0;
            n.backward = NIL;
        }
        self.free.push(x);
        if self.length == 0 {
            // Give the arena back when the set empties.
            self.nodes.truncate(1);
            self.free.clear();
        }
    }

    /// zslDelete: true when the element was found and removed.
    fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, _) = self.find_update(score, member);
        let x = self.fwd(update[0], 0);
        if x != NIL && self.score_of(x) == score && self.member_of(x) == member {
            self.delete_node(x, &update);
            true
        } else {
            false
        }
    }

    /// zslUpdateScore: moves an element to its new score, in place when its neighbours allow.
    fn update_score(&mut self, cur: f64, member: &[u8], new: f64) {
        let (update, _) = self.find_update(cur, member);
        let x = self.fwd(update[0], 0);
        if x == NIL || self.score_of(x) != cur || self.member_of(x) != member {
            return;
        }
        let back = self.nodes.get(x as usize).map_or(NIL, |n| n.backward);
        let next = self.fwd(x, 0);
        if (back == NIL || self.score_of(back) < new) && (next == NIL || self.score_of(next) > new) {
            if let Some(n) = self.nodes.get_mut(x as usize) {
                n.score = new;
            }
            return;
        }
        let owned: Vec<u8> = member.to_vec();
        self.delete_node(x, &update);
        self.insert(new, &owned);
    }

    /// zslGetRank: the 1-based rank of an element, 0 when absent.
    fn rank(&self, score: f64, member: &[u8]) -> usize {
        let mut rank = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.fwd(x, i);
                if next == NIL {
                    break;
                }
                let (m, s) = self.element(next);
                if s < score || (s == score && m <= member) {
                    rank += self.span(x, i) as usize;
                    x = next;
                } else {
                    break;
                }
            }
            if x != HEAD && self.score_of(x) == score && self.member_of(x) == member {
                return rank;
            }
        }
        0
    }

    /// zslGetElementByRank: the node at a 1-based rank, `NIL` past the end.
    fn by_rank(&self, rank: usize) -> u32 {
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.fwd(x, i);
                let span = self.span(x, i) as usize;
                if next == NIL || traversed + span > rank {
                    break;
                }
                traversed += span;
                x = next;
            }
            if traversed == rank {
                return x;
            }
        }
        NIL
    }

    /// Turns every `-0` score into `0` (the order does not change: they compare equal).
    fn positive_zeros(&mut self) {
        for n in self.nodes.iter_mut().skip(1) {
            if n.score == 0.0 {
                n.score = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// Checks every span and link against a plain walk of level 0.
    fn check(z: &ZSet) {
        let zsl = &z.zsl;
        let order: Vec<u32> = {
            let mut v = vec![];
            let mut x = zsl.fwd(HEAD, 0);
            while x != NIL {
                v.push(x);
                x = zsl.fwd(x, 0);
            }
            v
        };
        assert_eq!(order.len(), z.len());
        assert_eq!(zsl.length, z.len());
        assert_eq!(z.member_bytes, z.iter().map(|(m, _)| m.len()).sum::<usize>());
        let pos_of = |x: u32| if x == HEAD { 0 } else { order.iter().position(|&y| y == x).unwrap() + 1 };
        for i in 0..zsl.level {
            let mut x = HEAD;
            loop {
                let next = zsl.fwd(x, i);
                if next == NIL {
                    break;
                }
                assert_eq!(zsl.span(x, i) as usize, pos_of(next) - pos_of(x), "level {i}");
                x = next;
            }
        }
        for w in order.windows(2) {
            assert!(zsl.before(w[0], zsl.score_of(w[1]), zsl.member_of(w[1])));
            assert_eq!(zsl.nodes[w[1] as usize].backward, w[0]);
        }
        assert_eq!(zsl.tail, order.last().copied().unwrap_or(NIL));
        for (i, &x) in order.iter().enumerate() {
            let (m, s) = zsl.element(x);
            assert_eq!(z.score(m), Some(s));
            assert_eq!(z.rank(m, false), Some(i));
            assert_eq!(z.at_rank(i), Some(Pos(x)));
        }
    }

    #[test]
    fn orders_by_score_then_member_bytes() {
        let z = zset(&[(2.0, "b"), (1.0, "z"), (2.0, "a"), (2.0, "ab"), (f64::NEG_INFINITY, "n")]);
        assert_eq!(members(&z), vec![b"n".to_vec(), b"z".to_vec(), b"a".to_vec(), b"ab".to_vec(), b"b".to_vec()]);
        check(&z);
        assert_eq!(z.rank(b"b", true), Some(0));
        assert_eq!(z.rank(b"q", false), None);
    }

    #[test]
    fn many_inserts_updates_and_removes_keep_spans() {
        let mut z = ZSet::new(false);
        let mut rng = Rng::new(7);
        for round in 0..3000u64 {
            let m = alloc::format!("m{}", rng.below(500));
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
}
