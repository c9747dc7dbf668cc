//! Sorted set commands (Redis's t_zset.c): helpers first, then the commands in Redis's order.
//!
//! Scores are parsed with `strtod`'s rules and answered through `Reply::Double`, which a RESP2 client
//! receives as a `%.17g` bulk string and a RESP3 client as a double. With scores, RESP3 replies nest each
//! member with its score in a two-element array where RESP2 replies are flat (ZRANGE ... WITHSCORES,
//! ZPOPMIN with a count, ZRANDMEMBER, ZUNION ...), as Redis 7.0 does.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::keys::{parse_scan_cursor, parse_scan_options};
use super::Handler;
use crate::blocking::{self, Waiter};
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::glob::string_match;
use crate::notify::{self, notify};
use crate::reply::Reply;
use crate::types::zset::{AddFlags, Added, LexBound, LexRange, Limits, Pos, ScoreRange};
use crate::types::set::Member;
use crate::types::{Set, ZSet};
use crate::util::{eq_ic, fmt_double, i64_bytes, parse_f64, parse_i64, strtod};
use crate::value::{Entry, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("zadd", zadd),
    ("zincrby", zincrby),
    ("zrem", zrem),
    ("zremrangebyrank", zremrangebyrank),
    ("zremrangebyscore", zremrangebyscore),
    ("zremrangebylex", zremrangebylex),
    ("zunionstore", zunionstore),
    ("zinterstore", zinterstore),
    ("zdiffstore", zdiffstore),
    ("zunion", zunion),
    ("zinter", zinter),
    ("zintercard", zintercard),
    ("zdiff", zdiff),
    ("zrangestore", zrangestore),
    ("zrange", zrange),
    ("zrevrange", zrevrange),
    ("zrangebyscore", zrangebyscore),
    ("zrevrangebyscore", zrevrangebyscore),
    ("zcount", zcount),
    ("zlexcount", zlexcount),
    ("zrangebylex", zrangebylex),
    ("zrevrangebylex", zrevrangebylex),
    ("zcard", zcard),
    ("zscore", zscore),
    ("zmscore", zmscore),
    ("zrank", zrank),
    ("zrevrank", zrevrank),
    ("zscan", zscan),
    ("zpopmin", zpopmin),
    ("zpopmax", zpopmax),
    ("zrandmember", zrandmember),
    ("zmpop", zmpop),
    ("bzpopmin", bzpopmin),
    ("bzpopmax", bzpopmax),
    ("bzmpop", bzmpop),
];

const ERR_RANGE_NOT_FLOAT: &str = "ERR min or max is not a float";
const ERR_LEX_RANGE: &str = "ERR min or max not valid string range item";

// ---------------------------------------------------------------------------------------------------------
// Helpers

/// The sorted set at `key` for reading: `Ok(None)` when missing, WRONGTYPE for other types.
pub(crate) fn read_zset<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e ZSet>, Error> {
    match e.lookup_read(db, key) {
        None => Ok(None),
        Some(entry) => match &entry.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The sorted set at `key` for writing: `Ok(None)` when missing, WRONGTYPE for other types.
pub(crate) fn write_zset<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e mut ZSet>, Error> {
    match e.lookup_write(db, key) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The listpack thresholds of the current configuration.
pub(crate) fn limits(e: &Engine) -> Limits {
    Limits { max_entries: e.config.zset_max_listpack_entries, max_value: e.config.zset_max_listpack_value }
}

/// Deletes `key` when its sorted set became empty (Redis never keeps an empty collection), with a `del`
/// event after the command's own.
fn delete_if_empty(e: &mut Engine, db: usize, key: &[u8]) {
    let empty = matches!(e.db(db).keys.get(key), Some(Entry { value: Value::ZSet(z), .. }) if z.is_empty());
    if empty {
        e.db_mut(db).remove(key);
        notify(e, notify::GENERIC, "del", key, db);
    }
}

/// Stores a command's result at `dst` (replacing whatever was there, expiry included) or, when the result
/// is empty, deletes `dst`; replies the result's size (the tail of ZUNIONSTORE, ZRANGESTORE, ...).
/// `event` is the command's (`zunionstore`, ...), fired on a store; a deletion is a `del`.
fn store_result(e: &mut Engine, db: usize, dst: &[u8], z: ZSet, event: &'static str) -> Reply {
    let n = z.len();
    if n > 0 {
        let entry = Entry::new(Value::ZSet(z.into()), e.now);
        e.db_mut(db).set(dst, entry);
        e.dirty += 1;
        notify(e, notify::ZSET, event, dst, db);
    } else if e.db_mut(db).remove(dst).is_some() {
        e.dirty += 1;
        notify(e, notify::GENERIC, "del", dst, db);
    }
    Reply::Integer(n as i64)
}

/// Redis's `getLongFromObjectOrReply`.
fn parse_long(arg: &[u8]) -> Result<i64, Error> {
    parse_i64(arg).ok_or(Error::NotInteger)
}

/// Redis's `getRangeLongFromObjectOrReply` with a message: the message both for a non-number and for a
/// number outside `min..=max`.
fn parse_long_in(arg: &[u8], min: i64, max: i64, msg: &str) -> Result<i64, Error> {
    match parse_i64(arg) {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(Error::other(msg)),
    }
}

/// One end of a score range (part of Redis's `zslParseRange`): `(` makes it exclusive; the rest is read by
/// `strtod`, which allows leading white space and reads the empty string as 0; NaN is refused.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, exclusive) = match arg.split_first() {
        Some((b'(', rest)) => (rest, true),
        _ => (arg, false),
    };
    let parsed = strtod(text);
    // Redis checks that strtod stopped at the C string's end, which an embedded NUL also is.
    let at_end = text.get(parsed.consumed).is_none_or(|&c| c == 0);
    (at_end && !parsed.value.is_nan()).then_some((parsed.value, exclusive))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, Error> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange { min, max, minex, maxex }),
        _ => Err(Error::other(ERR_RANGE_NOT_FLOAT)),
    }
}

/// One end of a lexicographic range (zslParseLexRangeItem): `-`, `+`, `(member` or `[member`.
fn parse_lex_bound(arg: &[u8]) -> Option<(LexBound, bool)> {
    match arg {
        b"+" => Some((LexBound::Max, true)),
        b"-" => Some((LexBound::Min, true)),
        [b'(', rest @ ..] => Some((LexBound::Value(rest.to_vec()), true)),
        [b'[', rest @ ..] => Some((LexBound::Value(rest.to_vec()), false)),
        _ => None,
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, Error> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(LexRange { min, max, minex, maxex }),
        _ => Err(Error::other(ERR_LEX_RANGE)),
    }
}

/// Appends a member and, with scores, its score: flat for RESP2, a nested pair for RESP3.
fn push_element(out: &mut Vec<Reply>, member: &[u8], score: f64, withscores: bool, resp3: bool) {
    if withscores && resp3 {
        out.push(Reply::Array(alloc::vec![Reply::bulk(member), Reply::Double(score)]));
    } else {
        out.push(Reply::bulk(member));
        if withscores {
            out.push(Reply::Double(score));
        }
    }
}

fn is_resp3(e: &Engine, c: &Ctx) -> bool {
    e.resp_of(c.client) >= 3
}

// ---------------------------------------------------------------------------------------------------------
// Sorted set commands

/// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
pub(crate) fn zadd(e: &mut Engine, c: &Ctx) -> Reply {
    zadd_generic(e, c, false)
}

/// ZINCRBY key increment member
fn zincrby(e: &mut Engine, c: &Ctx) -> Reply {
    zadd_generic(e, c, true)
}

/// The worker behind ZADD and ZINCRBY (zaddGenericCommand). ZINCRBY is ZADD with INCR forced on, so its
/// arguments go through the same option scan: `ZINCRBY key nx member` is a syntax error, as in Redis.
fn zadd_generic(e: &mut Engine, c: &Ctx, incr_forced: bool) -> Reply {
    let key = c.arg(1);
    let mut flags = AddFlags { incr: incr_forced, ..AddFlags::default() };
    let mut ch = false;
    let mut scoreidx = 2;
    while scoreidx < c.argc() {
        let opt = c.arg(scoreidx);
        if eq_ic(opt, "nx") {
            flags.nx = true;
        } else if eq_ic(opt, "xx") {
            flags.xx = true;
        } else if eq_ic(opt, "ch") {
            ch = true;
        } else if eq_ic(opt, "incr") {
            flags.incr = true;
        } else if eq_ic(opt, "gt") {
            flags.gt = true;
        } else if eq_ic(opt, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        scoreidx += 1;
    }
    let elements = c.argc() - scoreidx;
    if elements % 2 == 1 || elements == 0 {
        return Error::Syntax.into();
    }
    let elements = elements / 2;
    if flags.nx && flags.xx {
        return Error::other("ERR XX and NX options at the same time are not compatible").into();
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Error::other("ERR GT, LT, and/or NX options at the same time are not compatible").into();
    }
    if flags.incr && elements > 1 {
        return Error::other("ERR INCR option supports a single increment-element pair").into();
    }
    // Every score is checked before anything changes.
    let mut pairs: Vec<(f64, &[u8])> = Vec::with_capacity(elements);
    for j in 0..elements {
        let Some(score) = parse_f64(c.arg(scoreidx + 2 * j)) else {
            return Error::NotFloat.into();
        };
        pairs.push((score, c.arg(scoreidx + 2 * j + 1)));
    }
    let exists = match write_zset(e, c.db, key) {
        Ok(z) => z.is_some(),
        Err(err) => return err.into(),
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut score = 0.0;
    if exists || !flags.xx {
        let limits = limits(e);
        if !exists {
            let first_len = pairs.first().map_or(0, |p| p.1.len());
            let z = ZSet::for_first_member(limits, first_len);
            let entry = Entry::new(Value::ZSet(z.into()), e.now);
            e.db_mut(c.db).set(key, entry);
        }
        let Ok(Some(z)) = write_zset(e, c.db, key) else {
            return Error::WrongType.into();
        };
        for &(s, member) in &pairs {
            match z.add(member, s, flags, limits) {
                Err(_) => {
                    e.dirty += (added + updated) as u64;
                    // What changed before the NaN is an event all the same.
                    zadd_notify(e, c, flags.incr, added + updated);
                    return Error::other("ERR resulting score is not a number (NaN)").into();
                }
                Ok((outcome, newscore)) => {
                    match outcome {
                        Added::Added => added += 1,
                        Added::Updated => updated += 1,
                        Added::Unchanged | Added::Skipped => {}
                    }
                    if outcome != Added::Skipped {
                        processed += 1;
                    }
                    score = newscore;
                }
            }
        }
        e.dirty += (added + updated) as u64;
    }
    zadd_notify(e, c, flags.incr, added + updated);
    if flags.incr {
        if processed > 0 {
            Reply::Double(score)
        } else {
            Reply::Nil
        }
    } else {
        Reply::Integer(if ch { added + updated } else { added })
    }
}

/// ZADD's event, fired when anything was added or updated: `zincr` with INCR (ZINCRBY), else `zadd`.
fn zadd_notify(e: &mut Engine, c: &Ctx, incr: bool, changed: i64) {
    if changed > 0 {
        notify(e, notify::ZSET, if incr { "zincr" } else { "zadd" }, c.arg(1), c.db);
    }
}

/// ZREM key member [member ...]
fn zrem(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    let z = match write_zset(e, c.db, key) {
        Ok(Some(z)) => z,
        Ok(None) => return Reply::Integer(0),
        Err(err) => return err.into(),
    };
    let mut deleted = 0i64;
    for member in c.argv.iter().skip(2) {
        if z.remove(member) {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    if deleted > 0 {
        notify(e, notify::ZSET, "zrem", key, c.db);
    }
    delete_if_empty(e, c.db, key);
    e.dirty += deleted as u64;
    Reply::Integer(deleted)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    /// ZRANGE before its options say BYSCORE or BYLEX.
    Auto,
    Rank,
    Score,
    Lex,
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(e: &mut Engine, c: &Ctx) -> Reply {
    zremrange_generic(e, c, RangeType::Rank)
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(e: &mut Engine, c: &Ctx) -> Reply {
    zremrange_generic(e, c, RangeType::Score)
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(e: &mut Engine, c: &Ctx) -> Reply {
    zremrange_generic(e, c, RangeType::Lex)
}

enum RemoveRange {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// The worker behind the three ZREMRANGEBY* commands (zremrangeGenericCommand): the range is parsed
/// before the key is looked at.
fn zremrange_generic(e: &mut Engine, c: &Ctx, kind: RangeType) -> Reply {
    let key = c.arg(1);
    let range = match kind {
        RangeType::Score => parse_score_range(c.arg(2), c.arg(3)).map(RemoveRange::Score),
        RangeType::Lex => parse_lex_range(c.arg(2), c.arg(3)).map(RemoveRange::Lex),
        _ => parse_long(c.arg(2)).and_then(|s| Ok(RemoveRange::Rank(s, parse_long(c.arg(3))?))),
    };
    let range = match range {
        Ok(r) => r,
        Err(err) => return err.into(),
    };
    let z = match write_zset(e, c.db, key) {
        Ok(Some(z)) => z,
        Ok(None) => return Reply::Integer(0),
        Err(err) => return err.into(),
    };
    let deleted = match range {
        RemoveRange::Rank(start, end) => match clamp_rank_range(start, end, z.len()) {
            Some((start, end)) => z.remove_rank_range(start, end),
            None => return Reply::Integer(0),
        },
        RemoveRange::Score(r) => z.remove_score_range(&r),
        RemoveRange::Lex(r) => z.remove_lex_range(&r),
    };
    if deleted > 0 {
        let event = match kind {
            RangeType::Score => "zremrangebyscore",
            RangeType::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        notify(e, notify::ZSET, event, key, c.db);
    }
    delete_if_empty(e, c.db, key);
    e.dirty += deleted as u64;
    Reply::Integer(deleted as i64)
}

/// Redis's index arithmetic for rank ranges: negative indexes count from the end, the start is clamped at
/// 0 and the end at the last element; `None` when nothing is left.
fn clamp_rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    let end = end.min(llen - 1);
    Some((start as usize, end as usize))
}

// ---------------------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF and their STORE forms

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// One input of ZUNION and friends: a sorted set, a plain set (every member scores 1) or a missing key.
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    ZSet(&'a ZSet),
    Set(&'a Set),
}

impl<'a> Source<'a> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::ZSet(z) => z.len(),
            Source::Set(s) => s.len(),
        }
    }

    /// Every element with its score: a sorted set highest first as Redis's zuiNext walks it, a plain set
    /// in its own order (an intset's integers as text).
    fn elements(&self) -> Vec<(Cow<'a, [u8]>, f64)> {
        match *self {
            Source::Missing => Vec::new(),
            Source::ZSet(z) => z.iter_rev().map(|(m, s)| (Cow::Borrowed(m), s)).collect(),
            Source::Set(s) => s
                .iter()
                .map(|m| match m {
                    Member::Bytes(b) => (Cow::Borrowed(b), 1.0),
                    Member::Int(_) => (Cow::Owned(m.to_vec()), 1.0),
                })
                .collect(),
        }
    }

    fn find(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::ZSet(z) => z.score(member),
            Source::Set(s) => s.contains(member).then_some(1.0),
        }
    }
}

/// Redis's zunionInterAggregate: a sum that comes out NaN (`inf` + `-inf`) counts as 0.
fn aggregate(target: f64, val: f64, how: Aggregate) -> f64 {
    match how {
        Aggregate::Sum => {
            let s = target + val;
            if s.is_nan() {
                0.0
            } else {
                s
            }
        }
        Aggregate::Min => {
            if val < target {
                val
            } else {
                target
            }
        }
        Aggregate::Max => {
            if val > target {
                val
            } else {
                target
            }
        }
    }
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]
fn zunionstore(e: &mut Engine, c: &Ctx) -> Reply {
    zsetop_generic(e, c, true, 2, SetOp::Union, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]
fn zinterstore(e: &mut Engine, c: &Ctx) -> Reply {
    zsetop_generic(e, c, true, 2, SetOp::Inter, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(e: &mut Engine, c: &Ctx) -> Reply {
    zsetop_generic(e, c, true, 2, SetOp::Diff, false)
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]
fn zunion(e: &mut Engine, c: &Ctx) -> Reply {
    zsetop_generic(e, c, false, 1, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]
fn zinter(e: &mut Engine, c: &Ctx) -> Reply {
    zsetop_generic(e, c, false, 1, SetOp::Inter, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(e: &mut Engine, c: &Ctx) -> Reply {
    zsetop_generic(e, c, false, 1, SetOp::Inter, true)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(e: &mut Engine, c: &Ctx) -> Reply {
    zsetop_generic(e, c, false, 1, SetOp::Diff, false)
}

/// The worker behind ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD
/// (zunionInterDiffGenericCommand). The keys are looked up, and a wrong type reported, before the options
/// are parsed, as in Redis. The result is built as a skiplist and, when stored, shrunk to a listpack if it
/// fits.
fn zsetop_generic(e: &mut Engine, c: &Ctx, store: bool, numkeys_idx: usize, op: SetOp, card_only: bool) -> Reply {
    let setnum = match parse_long(c.arg(numkeys_idx)) {
        Ok(n) => n,
        Err(err) => return err.into(),
    };
    if setnum < 1 {
        return Error::Other(alloc::format!("ERR at least 1 input key is needed for '{}' command", c.spec.name)).into();
    }
    let first_key = numkeys_idx + 1;
    if setnum as u64 > (c.argc() - first_key) as u64 {
        return Error::Syntax.into();
    }
    let setnum = setnum as usize;
    let keys: Vec<&[u8]> = (first_key..first_key + setnum).map(|j| c.arg(j)).collect();
    for key in &keys {
        if let Some(entry) = e.lookup_read(c.db, key) {
            if !matches!(entry.value, Value::ZSet(_) | Value::Set(_)) {
                return Error::WrongType.into();
            }
        }
    }
    // Options.
    let mut weights: Vec<f64> = alloc::vec![1.0; setnum];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = first_key + setnum;
    while j < c.argc() {
        let remaining = c.argc() - j;
        let arg = c.arg(j);
        if op != SetOp::Diff && !card_only && remaining > setnum && eq_ic(arg, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                match parse_f64(c.arg(j)) {
                    Some(v) => *w = v,
                    None => return Error::other("ERR weight value is not a float").into(),
                }
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && eq_ic(arg, "aggregate") {
            let v = c.arg(j + 1);
            how = if eq_ic(v, "sum") {
                Aggregate::Sum
            } else if eq_ic(v, "min") {
                Aggregate::Min
            } else if eq_ic(v, "max") {
                Aggregate::Max
            } else {
                return Error::Syntax.into();
            };
            j += 2;
        } else if !store && !card_only && eq_ic(arg, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(arg, "limit") {
            match parse_i64(c.arg(j + 1)) {
                Some(v) if v >= 0 => limit = v as usize,
                _ => return Error::other("ERR LIMIT can't be negative").into(),
            }
            j += 2;
        } else {
            return Error::Syntax.into();
        }
    }

    let db = e.db(c.db);
    let mut srcs: Vec<(usize, Source, f64)> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let src = match db.keys.get(key).map(|entry| &entry.value) {
                Some(Value::ZSet(z)) => Source::ZSet(z),
                Some(Value::Set(s)) => Source::Set(s),
                _ => Source::Missing,
            };
            (i, src, weights.get(i).copied().unwrap_or(1.0))
        })
        .collect();
    if op != SetOp::Diff {
        // Smallest first (a stable sort, as glibc's qsort is for small arrays).
        srcs.sort_by_key(|(_, s, _)| s.len());
    }
    let mut dst = ZSet::new(false);
    let no_limits = Limits { max_entries: 0, max_value: 0 };
    let mut cardinality = 0usize;
    match op {
        SetOp::Inter => {
            if let Some(&(first_idx, first, w0)) = srcs.first() {
                if first.len() > 0 {
                    for (member, s) in first.elements() {
                        let member: &[u8] = &member;
                        let mut score = w0 * s;
                        if score.is_nan() {
                            score = 0.0;
                        }
                        let mut all = true;
                        for &(idx, src, w) in srcs.iter().skip(1) {
                            // The same key named twice is the same object to Redis: its score is reused.
                            let value = if keys.get(idx) == keys.get(first_idx) {
                                Some(s * w)
                            } else {
                                src.find(member).map(|v| v * w)
                            };
                            match value {
                                Some(v) => score = aggregate(score, v, how),
                                None => {
                                    all = false;
                                    break;
                                }
                            }
                        }
                        if !all {
                            continue;
                        }
                        if card_only {
                            cardinality += 1;
                            if limit != 0 && cardinality >= limit {
                                break;
                            }
                        } else {
                            dst.add(member, score, AddFlags::default(), no_limits).ok();
                        }
                    }
                }
            }
        }
        SetOp::Union => {
            // Members in the order first seen, so the result is built the same way every time (the
            // hash map only finds a member's slot).
            let mut acc: Vec<(Vec<u8>, f64)> = Vec::new();
            let mut slot: hashbrown::HashMap<Vec<u8>, usize> = hashbrown::HashMap::new();
            for &(_, src, w) in &srcs {
                for (member, s) in src.elements() {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match slot.get(member.as_ref()).and_then(|&i| acc.get_mut(i)) {
                        Some((_, t)) => *t = aggregate(*t, score, how),
                        None => {
                            slot.insert(member.to_vec(), acc.len());
                            acc.push((member.into_owned(), score));
                        }
                    }
                }
            }
            for (member, s) in acc {
                dst.add(&member, s, AddFlags::default(), no_limits).ok();
            }
        }
        SetOp::Diff => {
            if let Some(&(_, first, _)) = srcs.first() {
                let first_key = keys.first();
                // Naming the first key again among the others empties the result (Redis compares objects).
                let repeated = srcs.iter().skip(1).any(|(i, _, _)| keys.get(*i) == first_key) && first.len() > 0;
                if !repeated {
                    for (member, s) in first.elements() {
                        if srcs.iter().skip(1).all(|(_, src, _)| src.find(&member).is_none()) {
                            dst.add(&member, s, AddFlags::default(), no_limits).ok();
                        }
                    }
                }
            }
        }
    }
    if card_only {
        return Reply::Integer(cardinality as i64);
    }
    if store {
        let limits = limits(e);
        dst.shrink_if_fits(limits);
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        return store_result(e, c.db, c.arg(1), dst, event);
    }
    let resp3 = is_resp3(e, c);
    let mut out = Vec::new();
    for (m, s) in dst.iter() {
        push_element(&mut out, m, s, withscores, resp3);
    }
    Reply::Array(out)
}

// ---------------------------------------------------------------------------------------------------------
// ZRANGE and friends

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
fn zrangestore(e: &mut Engine, c: &Ctx) -> Reply {
    zrange_generic(e, c, 2, true, RangeType::Auto, Direction::Auto)
}

/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(e: &mut Engine, c: &Ctx) -> Reply {
    zrange_generic(e, c, 1, false, RangeType::Auto, Direction::Auto)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(e: &mut Engine, c: &Ctx) -> Reply {
    zrange_generic(e, c, 1, false, RangeType::Rank, Direction::Reverse)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(e: &mut Engine, c: &Ctx) -> Reply {
    zrange_generic(e, c, 1, false, RangeType::Score, Direction::Forward)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(e: &mut Engine, c: &Ctx) -> Reply {
    zrange_generic(e, c, 1, false, RangeType::Score, Direction::Reverse)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(e: &mut Engine, c: &Ctx) -> Reply {
    zrange_generic(e, c, 1, false, RangeType::Lex, Direction::Forward)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(e: &mut Engine, c: &Ctx) -> Reply {
    zrange_generic(e, c, 1, false, RangeType::Lex, Direction::Reverse)
}

enum ParsedRange {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// The worker behind ZRANGE, ZRANGESTORE, ZREVRANGE and the BYSCORE/BYLEX commands (zrangeGenericCommand).
/// The older commands fix the range type and direction, so naming them again (`ZRANGEBYSCORE ... REV`) is a
/// syntax error.
fn zrange_generic(e: &mut Engine, c: &Ctx, argc_start: usize, store: bool, mut kind: RangeType, mut dir: Direction) -> Reply {
    let key = c.arg(argc_start);
    let mut minidx = argc_start + 1;
    let mut maxidx = argc_start + 2;
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    let mut j = argc_start + 3;
    while j < c.argc() {
        let leftargs = c.argc() - j - 1;
        let arg = c.arg(j);
        if !store && eq_ic(arg, "withscores") {
            withscores = true;
        } else if eq_ic(arg, "limit") && leftargs >= 2 {
            match (parse_long(c.arg(j + 1)), parse_long(c.arg(j + 2))) {
                (Ok(o), Ok(l)) => {
                    offset = o;
                    limit = l;
                }
                (Err(err), _) | (_, Err(err)) => return err.into(),
            }
            j += 2;
        } else if dir == Direction::Auto && eq_ic(arg, "rev") {
            dir = Direction::Reverse;
        } else if kind == RangeType::Auto && eq_ic(arg, "bylex") {
            kind = RangeType::Lex;
        } else if kind == RangeType::Auto && eq_ic(arg, "byscore") {
            kind = RangeType::Score;
        } else {
            return Error::Syntax.into();
        }
        j += 1;
    }
    if dir == Direction::Auto {
        dir = Direction::Forward;
    }
    if kind == RangeType::Auto {
        kind = RangeType::Rank;
    }
    // -1 is also LIMIT's "no limit", so `LIMIT 0 -1` passes with a rank range, as in Redis.
    if limit != -1 && kind == RangeType::Rank {
        return Error::other("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX").into();
    }
    if withscores && kind == RangeType::Lex {
        return Error::other("ERR syntax error, WITHSCORES not supported in combination with BYLEX").into();
    }
    let reverse = dir == Direction::Reverse;
    if reverse && kind != RangeType::Rank {
        core::mem::swap(&mut minidx, &mut maxidx);
    }
    let range = match kind {
        RangeType::Score => parse_score_range(c.arg(minidx), c.arg(maxidx)).map(ParsedRange::Score),
        RangeType::Lex => parse_lex_range(c.arg(minidx), c.arg(maxidx)).map(ParsedRange::Lex),
        _ => parse_long(c.arg(minidx)).and_then(|s| Ok(ParsedRange::Rank(s, parse_long(c.arg(maxidx))?))),
    };
    let range = match range {
        Ok(r) => r,
        Err(err) => return err.into(),
    };
    let limits = limits(e);
    let resp3 = is_resp3(e, c);
    let z = match read_zset(e, c.db, key) {
        Ok(Some(z)) => z,
        Ok(None) if store => return store_result(e, c.db, c.arg(1), ZSet::new(true), "zrangestore"),
        Ok(None) => return Reply::Array(Vec::new()),
        Err(err) => return err.into(),
    };
    // The elements in reply order, and for ZRANGESTORE the size Redis sizes the destination by.
    let (items, expected_len): (Vec<(Vec<u8>, f64)>, i64) = match &range {
        ParsedRange::Rank(start, end) => match clamp_rank_range(*start, *end, z.len()) {
            None => (Vec::new(), 0),
            Some((start, end)) => {
                let n = end - start + 1;
                let from = if reverse { z.at_rank(z.len() - 1 - start) } else { z.at_rank(start) };
                (z.iter_from(from, reverse).take(n).map(|(m, s)| (m.to_vec(), s)).collect(), n as i64)
            }
        },
        ParsedRange::Score(r) => {
            let from = if reverse { z.last_in_range(r) } else { z.first_in_range(r) };
            let inside = |&(_, s): &(&[u8], f64)| if reverse { r.gte_min(s) } else { r.lte_max(s) };
            (window(z, from, reverse, offset, limit, inside), -1)
        }
        ParsedRange::Lex(r) => {
            let from = if reverse { z.last_in_lex_range(r) } else { z.first_in_lex_range(r) };
            let inside = |&(m, _): &(&[u8], f64)| if reverse { r.gte_min(m) } else { r.lte_max(m) };
            (window(z, from, reverse, offset, limit, inside), -1)
        }
    };
    if store {
        // zrangeResultBeginStore: a listpack unless the result is known to be too long for one.
        let mut dst = ZSet::new(expected_len <= limits.max_entries as i64);
        for (m, s) in &items {
            dst.set(m, *s, limits);
        }
        return store_result(e, c.db, c.arg(1), dst, "zrangestore");
    }
    let mut out = Vec::new();
    for (m, s) in items {
        push_element(&mut out, &m, s, withscores, resp3);
    }
    Reply::Array(out)
}

/// The elements of a BYSCORE/BYLEX range from its first (or, reversed, last) element: skip `offset`, take
/// at most `limit` (negative: all) while `inside` holds. A negative offset walks off the end, as in Redis.
fn window<'z>(
    z: &'z ZSet,
    from: Option<Pos>,
    reverse: bool,
    offset: i64,
    limit: i64,
    inside: impl Fn(&(&'z [u8], f64)) -> bool,
) -> Vec<(Vec<u8>, f64)> {
    if offset < 0 || (offset > 0 && offset as u64 >= z.len() as u64) {
        return Vec::new();
    }
    let take = if limit < 0 { usize::MAX } else { limit as usize };
    z.iter_from(from, reverse).skip(offset as usize).take(take).take_while(|x| inside(x)).map(|(m, s)| (m.to_vec(), s)).collect()
}

/// ZCOUNT key min max
fn zcount(e: &mut Engine, c: &Ctx) -> Reply {
    let range = match parse_score_range(c.arg(2), c.arg(3)) {
        Ok(r) => r,
        Err(err) => return err.into(),
    };
    match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(z)) => Reply::Integer(z.count_in_range(&range) as i64),
        Ok(None) => Reply::Integer(0),
        Err(err) => err.into(),
    }
}

/// ZLEXCOUNT key min max
fn zlexcount(e: &mut Engine, c: &Ctx) -> Reply {
    let range = match parse_lex_range(c.arg(2), c.arg(3)) {
        Ok(r) => r,
        Err(err) => return err.into(),
    };
    match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(z)) => Reply::Integer(z.count_in_lex_range(&range) as i64),
        Ok(None) => Reply::Integer(0),
        Err(err) => err.into(),
    }
}

/// ZCARD key
fn zcard(e: &mut Engine, c: &Ctx) -> Reply {
    match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(z)) => Reply::Integer(z.len() as i64),
        Ok(None) => Reply::Integer(0),
        Err(err) => err.into(),
    }
}

/// ZSCORE key member
fn zscore(e: &mut Engine, c: &Ctx) -> Reply {
    match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(z)) => z.score(c.arg(2)).map_or(Reply::Nil, Reply::Double),
        Ok(None) => Reply::Nil,
        Err(err) => err.into(),
    }
}

/// ZMSCORE key member [member ...]
fn zmscore(e: &mut Engine, c: &Ctx) -> Reply {
    let z = match read_zset(e, c.db, c.arg(1)) {
        Ok(z) => z,
        Err(err) => return err.into(),
    };
    let scores = c.argv.iter().skip(2).map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double));
    Reply::Array(scores.collect())
}

/// ZRANK key member
fn zrank(e: &mut Engine, c: &Ctx) -> Reply {
    zrank_generic(e, c, false)
}

/// ZREVRANK key member
fn zrevrank(e: &mut Engine, c: &Ctx) -> Reply {
    zrank_generic(e, c, true)
}

fn zrank_generic(e: &mut Engine, c: &Ctx, reverse: bool) -> Reply {
    match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(z)) => z.rank(c.arg(2), reverse).map_or(Reply::Nil, |r| Reply::Integer(r as i64)),
        Ok(None) => Reply::Nil,
        Err(err) => err.into(),
    }
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(e: &mut Engine, c: &Ctx) -> Reply {
    let cursor = match parse_scan_cursor(c.arg(2)) {
        Ok(cur) => cur,
        Err(err) => return err.into(),
    };
    let empty = || Reply::Array(alloc::vec![Reply::bulk(b"0"), Reply::Array(Vec::new())]);
    // The options are only read once the key is found (scanGenericCommand), so a missing key answers an
    // empty scan whatever follows.
    match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(_)) => {}
        Ok(None) => return empty(),
        Err(err) => return err.into(),
    }
    let opts = match parse_scan_options(c, 3, false) {
        Ok(o) => o,
        Err(err) => return err.into(),
    };
    let Some(Entry { value: Value::ZSet(z), .. }) = e.db(c.db).keys.get(c.arg(1)) else {
        return empty();
    };
    let mut found: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut next = 0u64;
    if z.is_listpack() {
        // A listpack is returned whole, with each score as the listpack holds it: an integral score as an
        // integer (`1e+17` reads `100000000000000000`), any other with `%.17g`.
        for (m, s) in z.iter() {
            found.push((m.to_vec(), listpack_score_text(s)));
        }
    } else {
        // COUNT counts reply entries, two per element, as Redis's list of keys and values does.
        let mut cur = cursor;
        let mut budget = opts.count.saturating_mul(10);
        loop {
            cur = z.scan(cur, |m, s| found.push((m.to_vec(), fmt_double(s).into_bytes())));
            if cur == 0 || budget == 0 || (found.len() as u64) * 2 >= opts.count as u64 {
                break;
            }
            budget -= 1;
        }
        next = cur;
    }
    let mut items = Vec::with_capacity(found.len() * 2);
    for (m, s) in found {
        if opts.pattern.is_some_and(|p| !string_match(p, &m, false)) {
            continue;
        }
        items.push(Reply::Bulk(m));
        items.push(Reply::Bulk(s));
    }
    Reply::Array(alloc::vec![Reply::Bulk(i64_bytes(next as i64)), Reply::Array(items)])
}

/// How a listpack stores a score (zzlInsertAt): as an integer when it is one within ±LLONG_MAX/2
/// (double2ll), otherwise as `%.17g` text.
fn listpack_score_text(s: f64) -> Vec<u8> {
    const HALF: f64 = (i64::MAX / 2) as f64;
    if s.is_finite() && (-HALF..=HALF).contains(&s) && (s as i64) as f64 == s {
        i64_bytes(s as i64)
    } else {
        fmt_double(s).into_bytes()
    }
}

/// ZPOPMIN key [count]
fn zpopmin(e: &mut Engine, c: &Ctx) -> Reply {
    zpop_minmax(e, c, false)
}

/// ZPOPMAX key [count]
fn zpopmax(e: &mut Engine, c: &Ctx) -> Reply {
    zpop_minmax(e, c, true)
}

/// ZPOPMIN and ZPOPMAX (zpopMinMaxCommand): with a count, a RESP3 reply nests each pair.
fn zpop_minmax(e: &mut Engine, c: &Ctx, max: bool) -> Reply {
    if c.argc() > 3 {
        return Error::Syntax.into();
    }
    let mut count = None;
    if c.argc() == 3 {
        match parse_i64(c.arg(2)) {
            Some(v) if v >= 0 => count = Some(v),
            _ => return Error::other("ERR value is out of range, must be positive").into(),
        }
    }
    let nested = is_resp3(e, c) && count.is_some();
    let keys = [c.arg(1)];
    zpop_generic(e, c.db, &keys, max, false, count, nested, false)
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(e: &mut Engine, c: &Ctx) -> Reply {
    bzpop_minmax(e, c, false)
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(e: &mut Engine, c: &Ctx) -> Reply {
    bzpop_minmax(e, c, true)
}

/// BZPOPMIN and BZPOPMAX: one element with its key in front, a flat reply in both protocols.
fn bzpop_minmax(e: &mut Engine, c: &Ctx, max: bool) -> Reply {
    let keys = c.argv.get(1..c.argc().saturating_sub(1)).unwrap_or_default();
    blocking_zpop_generic(e, c, keys, max, c.argc() - 1, None)
}

/// BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]
fn bzmpop(e: &mut Engine, c: &Ctx) -> Reply {
    let (keys, max, count) = match parse_zmpop(c, 2) {
        Ok(parsed) => parsed,
        Err(err) => return err.into(),
    };
    blocking_zpop_generic(e, c, &keys, max, 1, Some(count))
}

/// The worker behind BZPOPMIN, BZPOPMAX and BZMPOP (blockingGenericZpopCommand): the timeout is parsed after
/// the other arguments, then the first key holding a sorted set is popped from at once, or the client blocks
/// on all of them. `count` is BZMPOP's, whose reply nests the pairs and whose refusal to block (in a
/// transaction) is a null array like BZPOPMIN's.
fn blocking_zpop_generic(e: &mut Engine, c: &Ctx, keys: &[&[u8]], max: bool, timeout_idx: usize, count: Option<i64>) -> Reply {
    let deadline = match blocking::parse_timeout(c.arg(timeout_idx), e.now) {
        Ok(d) => d,
        Err(err) => return err.into(),
    };
    let nested = count.is_some();
    for &key in keys {
        match write_zset(e, c.db, key) {
            Err(err) => return err.into(),
            Ok(Some(z)) if !z.is_empty() => {
                let keys = [key];
                let reply = zpop_generic(e, c.db, &keys, max, true, count, nested, nested);
                // Served at once: propagated as ZPOPMIN/ZPOPMAX (with the number popped for BZMPOP).
                propagate_pop(e, c.db, key, max, count.map(|_| popped_count(&reply)), false);
                return reply;
            }
            Ok(_) => continue,
        }
    }
    if e.blocking.deny {
        return Reply::NilArray;
    }
    let args = alloc::vec![
        if max { b"max".to_vec() } else { b"min".to_vec() },
        count.map_or_else(Vec::new, i64_bytes),
    ];
    blocking::block(e, c.client, c.db, keys, deadline, "zset", args, serve_zset);
    Reply::NilArray
}

/// Serves a client blocked by BZPOPMIN, BZPOPMAX or BZMPOP from `key`, which holds a sorted set
/// (serveClientsBlockedOnSortedSetKey): the pop its command would have done, key in front.
fn serve_zset(e: &mut Engine, w: &Waiter, key: &[u8]) -> Option<Reply> {
    let max = w.args.first().is_some_and(|a| a.as_slice() == b"max");
    let count = w.args.get(1).and_then(|n| parse_i64(n));
    let nested = count.is_some();
    let keys = [key];
    let reply = zpop_generic(e, w.db, &keys, max, true, count, nested, nested);
    propagate_pop(e, w.db, key, max, count.map(|_| popped_count(&reply)), true);
    Some(reply)
}

/// How many elements a nested pop reply (`[key, [[member, score], ...]]`) holds.
fn popped_count(reply: &Reply) -> usize {
    match reply {
        Reply::Array(items) => match items.get(1) {
            Some(Reply::Array(pairs)) => pairs.len(),
            _ => 0,
        },
        _ => 0,
    }
}

/// A blocking or multi-key pop propagates as `ZPOPMIN|ZPOPMAX key [count]`: in place of the command, or,
/// for a client served later, as a command of its own.
fn propagate_pop(e: &mut Engine, db: usize, key: &[u8], max: bool, count: Option<usize>, served: bool) {
    if !e.propagation_enabled() {
        return;
    }
    let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    let n = count.map(|n| i64_bytes(n as i64));
    let mut argv: Vec<&[u8]> = alloc::vec![name, key];
    if let Some(n) = &n {
        argv.push(n);
    }
    if served {
        crate::propagate::also(e, db, &argv);
    } else {
        crate::propagate::rewrite(e, &argv);
    }
}

/// The worker behind ZPOPMIN, ZPOPMAX, ZMPOP and the blocking pops once served (genericZpopCommand): pops
/// up to `count` (default 1) elements from the first non-empty key. `emit_key` puts the key in front;
/// `nested` makes pairs arrays; `nil_when_empty` answers a null array when every key is missing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn zpop_generic(
    e: &mut Engine,
    db: usize,
    keys: &[&[u8]],
    max: bool,
    emit_key: bool,
    count: Option<i64>,
    nested: bool,
    nil_when_empty: bool,
) -> Reply {
    let mut found: Option<&[u8]> = None;
    for &key in keys {
        match write_zset(e, db, key) {
            Ok(Some(_)) => {
                found = Some(key);
                break;
            }
            Ok(None) => continue,
            Err(err) => return err.into(),
        }
    }
    let Some(key) = found else {
        return if nil_when_empty { Reply::NilArray } else { Reply::Array(Vec::new()) };
    };
    if count == Some(0) {
        return Reply::Array(Vec::new());
    }
    let count = count.unwrap_or(1);
    let mut popped: Vec<Reply> = Vec::new();
    if let Ok(Some(z)) = write_zset(e, db, key) {
        let n = (count as u64).min(z.len() as u64);
        for _ in 0..n {
            let Some((m, s)) = z.pop(max) else { break };
            if nested {
                popped.push(Reply::Array(alloc::vec![Reply::Bulk(m), Reply::Double(s)]));
            } else {
                popped.push(Reply::Bulk(m));
                popped.push(Reply::Double(s));
            }
        }
    }
    e.dirty += if nested { popped.len() } else { popped.len() / 2 } as u64;
    if !popped.is_empty() {
        notify(e, notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key, db);
    }
    delete_if_empty(e, db, key);
    if !emit_key {
        return Reply::Array(popped);
    }
    if nested {
        Reply::Array(alloc::vec![Reply::bulk(key), Reply::Array(popped)])
    } else {
        let mut out = alloc::vec![Reply::bulk(key)];
        out.extend(popped);
        Reply::Array(out)
    }
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() >= 3 {
        let l = match parse_long(c.arg(2)) {
            Ok(l) => l,
            Err(err) => return err.into(),
        };
        if c.argc() > 4 || (c.argc() == 4 && !eq_ic(c.arg(3), "withscores")) {
            return Error::Syntax.into();
        }
        let withscores = c.argc() == 4;
        if withscores && !(i64::MIN / 2..=i64::MAX / 2).contains(&l) {
            return Error::other("ERR value is out of range").into();
        }
        return zrandmember_with_count(e, c, l, withscores);
    }
    match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(_)) => {}
        Ok(None) => return Reply::Nil,
        Err(err) => return err.into(),
    }
    let Some(Entry { value: Value::ZSet(z), .. }) = e.dbs.get(c.db).and_then(|db| db.keys.get(c.arg(1))) else {
        return Reply::Nil;
    };
    z.random(&mut e.rng).map_or(Reply::Nil, |(m, _)| Reply::bulk(m))
}

/// The most members a negative ZRANDMEMBER count may ask for (as SRANDMEMBER's bound). Redis has no such
/// bound (it builds a reply of any size); the engine refuses rather than exhaust the host's memory (a browser
/// tab) on one command.
const ZRANDMEMBER_MAX_REPEATS: u64 = 1 << 20;

/// ZRANDMEMBER with a count (zrandmemberWithCountCommand): a negative count draws with repetition; a
/// positive one returns distinct members, all of them (highest score first, as Redis walks the set) when
/// the count reaches the size.
fn zrandmember_with_count(e: &mut Engine, c: &Ctx, l: i64, withscores: bool) -> Reply {
    let resp3 = is_resp3(e, c);
    match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(_)) => {}
        Ok(None) => return Reply::Array(Vec::new()),
        Err(err) => return err.into(),
    }
    let Some(Entry { value: Value::ZSet(z), .. }) = e.dbs.get(c.db).and_then(|db| db.keys.get(c.arg(1))) else {
        return Reply::Array(Vec::new());
    };
    let rng = &mut e.rng;
    let count = l.unsigned_abs();
    let mut out = Vec::new();
    if count == 0 {
        return Reply::Array(out);
    }
    let size = z.len() as u64;
    if l < 0 && count > ZRANDMEMBER_MAX_REPEATS {
        return Error::other("ERR value is out of range, value must between -1048576 and 9223372036854775807").into();
    }
    if l < 0 || count == 1 {
        for _ in 0..count {
            if let Some((m, s)) = z.random(rng) {
                push_element(&mut out, m, s, withscores, resp3);
            }
        }
        return Reply::Array(out);
    }
    if count >= size {
        for (m, s) in z.iter_rev() {
            push_element(&mut out, m, s, withscores, resp3);
        }
        return Reply::Array(out);
    }
    // `count` distinct ranks (Floyd's sampling), answered in the order they were drawn.
    let mut picked: hashbrown::HashSet<u64> = hashbrown::HashSet::new();
    let mut ranks = Vec::new();
    for j in size - count..size {
        let t = rng.below(j + 1);
        let r = if picked.insert(t) { t } else { j };
        picked.insert(r);
        ranks.push(r);
    }
    for r in ranks {
        if let Some(pos) = z.at_rank(r as usize) {
            let (m, s) = z.get(pos);
            push_element(&mut out, m, s, withscores, resp3);
        }
    }
    Reply::Array(out)
}

/// ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]
fn zmpop(e: &mut Engine, c: &Ctx) -> Reply {
    let (keys, max, count) = match parse_zmpop(c, 1) {
        Ok(parsed) => parsed,
        Err(err) => return err.into(),
    };
    let reply = zpop_generic(e, c.db, &keys, max, true, Some(count), true, true);
    if let Some(Reply::Bulk(key)) = match &reply {
        Reply::Array(items) => items.first(),
        _ => None,
    } {
        let key = key.clone();
        propagate_pop(e, c.db, &key, max, Some(popped_count(&reply)), false);
    }
    reply
}

/// The arguments of ZMPOP and BZMPOP from the numkeys argument on: the keys, MAX or MIN, the count.
pub(crate) fn parse_zmpop<'a>(c: &Ctx<'a>, numkeys_idx: usize) -> Result<(Vec<&'a [u8]>, bool, i64), Error> {
    let numkeys = parse_long_in(c.arg(numkeys_idx), 1, i64::MAX, "ERR numkeys should be greater than 0")?;
    let where_idx = (numkeys as u64).checked_add(numkeys_idx as u64 + 1).filter(|&w| w < c.argc() as u64);
    let Some(where_idx) = where_idx.map(|w| w as usize) else {
        return Err(Error::Syntax);
    };
    let max = if eq_ic(c.arg(where_idx), "min") {
        false
    } else if eq_ic(c.arg(where_idx), "max") {
        true
    } else {
        return Err(Error::Syntax);
    };
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < c.argc() {
        let moreargs = c.argc() - 1 - j;
        if count.is_none() && eq_ic(c.arg(j), "count") && moreargs > 0 {
            j += 1;
            count = Some(parse_long_in(c.arg(j), 1, i64::MAX, "ERR count should be greater than 0")?);
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    let keys = (numkeys_idx + 1..where_idx).filter_map(|i| c.argv.get(i).copied()).collect();
    Ok((keys, max, count.unwrap_or(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::ClientId;

    fn run(e: &mut Engine, c: ClientId, line: &str) -> Option<Reply> {
        e.run_line(c, line, 1_000)
    }

    fn bulks(r: Option<Reply>) -> Vec<Vec<u8>> {
        match r {
            Some(Reply::Array(items)) => items
                .into_iter()
                .filter_map(|i| match i {
                    Reply::Bulk(b) => Some(b),
                    Reply::Double(d) => Some(fmt_double(d).into_bytes()),
                    _ => None,
                })
                .collect(),
            other => panic!("not an array: {other:?}"),
        }
    }

    #[test]
    fn zrandmember_positive_counts_are_distinct_members() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000);
        run(&mut e, c, "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f 7 g 8 h 9 i 10 j");
        run(&mut e, c, "CONFIG SET zset-max-listpack-entries 0");
        run(&mut e, c, "ZADD k 1 a 2 b 3 c 4 d 5 e 6 f 7 g 8 h 9 i 10 j");
        for key in ["z", "k"] {
            for count in 1..=10 {
                let mut got = bulks(run(&mut e, c, &alloc::format!("ZRANDMEMBER {key} {count}")));
                assert_eq!(got.len(), count);
                got.sort();
                got.dedup();
                assert_eq!(got.len(), count, "{key} {count}: repeated members");
            }
            let drawn = bulks(run(&mut e, c, &alloc::format!("ZRANDMEMBER {key} -25")));
            assert_eq!(drawn.len(), 25);
            let pairs = bulks(run(&mut e, c, &alloc::format!("ZRANDMEMBER {key} 4 WITHSCORES")));
            assert_eq!(pairs.len(), 8);
            for p in pairs.chunks(2) {
                let score = e.db(0).keys.get(key.as_bytes()).and_then(|en| match &en.value {
                    Value::ZSet(z) => z.score(&p[0]),
                    _ => None,
                });
                assert_eq!(score.map(|s| fmt_double(s).into_bytes()), Some(p[1].clone()));
            }
        }
    }

    #[test]
    fn blocking_pops_refused_to_block_answer_a_null_array() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000);
        e.blocking.deny = true;
        assert_eq!(run(&mut e, c, "BZPOPMIN q 0"), Some(Reply::NilArray));
        assert_eq!(run(&mut e, c, "BZMPOP 0 1 q MIN"), Some(Reply::NilArray));
        assert!(!e.is_blocked(c));
        e.blocking.deny = false;
        assert_eq!(run(&mut e, c, "BZPOPMAX q 0"), None);
        assert!(e.is_blocked(c));
    }

    #[test]
    fn zrandmember_refuses_huge_repeated_draws() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000);
        run(&mut e, c, "ZADD z 1 a");
        assert_eq!(bulks(run(&mut e, c, "ZRANDMEMBER z -1048576")).len(), 1 << 20);
        assert!(run(&mut e, c, "ZRANDMEMBER z -1048577").is_some_and(|r| r.is_error()));
        assert!(run(&mut e, c, "ZRANDMEMBER z -9223372036854775808").is_some_and(|r| r.is_error()));
        assert_eq!(run(&mut e, c, "ZRANDMEMBER nokey -9223372036854775808"), Some(Reply::Array(Vec::new())));
        assert_eq!(bulks(run(&mut e, c, "ZRANDMEMBER z 9223372036854775807")).len(), 1);
    }

    #[test]
    fn score_bounds_follow_strtod() {
        assert_eq!(parse_score_bound(b""), Some((0.0, false)));
        assert_eq!(parse_score_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_score_bound(b" 1"), Some((1.0, false)));
        assert_eq!(parse_score_bound(b"1\x00junk"), Some((1.0, false)));
        assert_eq!(parse_score_bound(b"(-inf"), Some((f64::NEG_INFINITY, true)));
        assert_eq!(parse_score_bound(b"1e500"), Some((f64::INFINITY, false)));
        assert_eq!(parse_score_bound(b"1 "), None);
        assert_eq!(parse_score_bound(b"nan"), None);
        assert_eq!(parse_score_bound(b"(("), None);
        assert_eq!(listpack_score_text(1e17), b"100000000000000000".to_vec());
        assert_eq!(listpack_score_text(5e18), b"5e+18".to_vec());
        assert_eq!(listpack_score_text(-0.0), b"0".to_vec());
        assert_eq!(listpack_score_text(0.5), b"0.5".to_vec());
    }
}
