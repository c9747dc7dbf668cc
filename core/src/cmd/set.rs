//! Set commands (Redis's t_set.c).
//!
//! Which lookup each command does is observable (INFO keyspace hits/misses, OBJECT IDLETIME), so each handler
//! uses the one Redis 7.0 uses: SADD, SREM, SMOVE and SPOP look keys up for writing; the readers and the
//! sources of SINTER/SUNION/SDIFF (STORE variants included) for reading.
//!
//! Reply order is observable too. An intset iterates in ascending order, so whatever Redis answers by walking
//! an intset (SMEMBERS, SSCAN, SRANDMEMBER or SPOP of everything, the result of SUNION and SDIFF, which Redis
//! builds in a temporary intset until a member forces a hash table) comes out sorted here as it does there.

use alloc::vec::Vec;

use super::keys::{parse_scan_cursor, parse_scan_options};
use super::Handler;
use crate::dict::Dict;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::notify::{self, notify};
use crate::glob::string_match;
use crate::reply::Reply;
use crate::types::set::{Member, Set};
use crate::util::{eq_ic, i64_bytes, parse_i64, sort_by_dyn, Rng};
use crate::value::{Entry, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("sadd", sadd),
    ("srem", srem),
    ("smove", smove),
    ("sismember", sismember),
    ("smismember", smismember),
    ("scard", scard),
    ("spop", spop),
    ("srandmember", srandmember),
    ("smembers", smembers),
    ("sinter", sinter),
    ("sintercard", sintercard),
    ("sinterstore", sinterstore),
    ("sunion", sunion),
    ("sunionstore", sunionstore),
    ("sdiff", sdiff),
    ("sdiffstore", sdiffstore),
    ("sscan", sscan),
];

/// SPOP with a count pops one by one while the members left are more than a fifth of those asked for;
/// past that it picks the members to keep instead (Redis's SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;
/// SRANDMEMBER with a count copies the whole set and drops random members when the count is more than a
/// third of the set; below that it draws members until it has enough (SRANDMEMBER_SUB_STRATEGY_MUL).
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;
/// The most members a negative SRANDMEMBER count may ask for. Redis has no such bound (it builds a reply of
/// any size); the engine refuses rather than exhaust the host's memory (a browser tab) on one command.
const SRANDMEMBER_MAX_REPEATS: u64 = 1 << 20;

/// The most members a set keeps as an intset, from `set-max-intset-entries`.
fn max_intset(e: &Engine) -> usize {
    usize::try_from(e.config.set_max_intset_entries).unwrap_or(usize::MAX)
}

/// The set at `key` for reading (a hit or a miss, and a touch): `Ok(None)` when missing, WRONGTYPE for other types.
pub(crate) fn read_set<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e mut Set>, Error> {
    match e.lookup_read(db, key) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The set at `key` for writing (no statistics): `Ok(None)` when missing, WRONGTYPE for other types.
pub(crate) fn write_set<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e mut Set>, Error> {
    match e.lookup_write(db, key) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The set at `key` together with the engine's PRNG, for the commands that pick random members.
/// The caller has looked the key up already (expiry and statistics done).
fn set_and_rng<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Option<(&'e mut Set, &'e mut Rng)> {
    let Engine { dbs, rng, changed_dbs, .. } = e;
    // SPOP changes the set in place: its memory is charged again after the command.
    let (entry, first) = dbs.get_mut(db)?.entry_for_change(key)?;
    if first {
        changed_dbs.push(db);
    }
    match &mut entry.value {
        Value::Set(s) => Some((s, rng)),
        _ => None,
    }
}

/// A set already looked up and type-checked, read without touching it again.
fn peek_set<'e>(e: &'e Engine, db: usize, key: &[u8]) -> Option<&'e Set> {
    match &e.db(db).keys.get(key)?.value {
        Value::Set(s) => Some(s),
        _ => None,
    }
}

/// Deletes `key` once its set is empty: Redis never keeps an empty collection (a `del` event, after the
/// command's own).
fn delete_if_empty(e: &mut Engine, db: usize, key: &[u8]) {
    if peek_set(e, db, key).is_some_and(Set::is_empty) {
        e.db_mut(db).remove(key);
        notify(e, notify::GENERIC, "del", key, db);
    }
}

fn bulk_member(m: Member) -> Reply {
    Reply::Bulk(m.to_vec())
}

/// SADD key member [member ...]
fn sadd(e: &mut Engine, c: &Ctx) -> Reply {
    let max = max_intset(e);
    let key = c.arg(1);
    let members = c.argv.get(2..).unwrap_or(&[]);
    let added = match write_set(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(Some(set)) => members.iter().filter(|m| set.add(m, max)).count(),
        Ok(None) => {
            // The first member decides the encoding a new set starts in (setTypeCreate).
            let mut set = Set::for_first_member(c.arg(2));
            let added = members.iter().filter(|m| set.add(m, max)).count();
            let now = e.now;
            e.db_mut(c.db).set(key, Entry::new(Value::Set(set.into()), now));
            added
        }
    };
    if added > 0 {
        notify(e, notify::SET, "sadd", key, c.db);
    }
    e.dirty += added as u64;
    Reply::Integer(added as i64)
}

/// SREM key member [member ...]
fn srem(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    let removed = match write_set(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Integer(0),
        Ok(Some(set)) => {
            let mut removed = 0;
            for m in c.argv.iter().skip(2) {
                if set.remove(m) {
                    removed += 1;
                    if set.is_empty() {
                        break;
                    }
                }
            }
            removed
        }
    };
    if removed > 0 {
        notify(e, notify::SET, "srem", key, c.db);
    }
    delete_if_empty(e, c.db, key);
    e.dirty += removed;
    Reply::Integer(removed as i64)
}

/// What a write lookup found at a key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    Missing,
    Set,
    Other,
}

fn found_for_write(e: &mut Engine, db: usize, key: &[u8]) -> Found {
    match e.lookup_write(db, key) {
        None => Found::Missing,
        Some(entry) if matches!(entry.value, Value::Set(_)) => Found::Set,
        Some(_) => Found::Other,
    }
}

/// SMOVE source destination member
fn smove(e: &mut Engine, c: &Ctx) -> Reply {
    let (src, dst, member) = (c.arg(1), c.arg(2), c.arg(3));
    let max = max_intset(e);
    let src_found = found_for_write(e, c.db, src);
    let dst_found = found_for_write(e, c.db, dst);
    // A missing source answers 0 before the destination's type is looked at.
    if src_found == Found::Missing {
        return Reply::Integer(0);
    }
    if src_found == Found::Other || dst_found == Found::Other {
        return Error::WrongType.into();
    }
    if src == dst {
        return Reply::Integer(peek_set(e, c.db, src).is_some_and(|s| s.contains(member)) as i64);
    }
    let removed = match write_set(e, c.db, src) {
        Ok(Some(set)) => set.remove(member),
        _ => false,
    };
    if !removed {
        return Reply::Integer(0);
    }
    notify(e, notify::SET, "srem", src, c.db);
    delete_if_empty(e, c.db, src);
    e.dirty += 1;
    let added = match write_set(e, c.db, dst) {
        Ok(Some(set)) => set.add(member, max),
        _ => {
            let mut set = Set::for_first_member(member);
            set.add(member, max);
            let now = e.now;
            e.db_mut(c.db).set(dst, Entry::new(Value::Set(set.into()), now));
            true
        }
    };
    if added {
        e.dirty += 1;
        notify(e, notify::SET, "sadd", dst, c.db);
    }
    Reply::Integer(1)
}

/// SISMEMBER key member
fn sismember(e: &mut Engine, c: &Ctx) -> Reply {
    match read_set(e, c.db, c.arg(1)) {
        Err(err) => err.into(),
        Ok(set) => Reply::Integer(set.is_some_and(|s| s.contains(c.arg(2))) as i64),
    }
}

/// SMISMEMBER key member [member ...]
fn smismember(e: &mut Engine, c: &Ctx) -> Reply {
    match read_set(e, c.db, c.arg(1)) {
        Err(err) => err.into(),
        Ok(set) => {
            let set = set.map(|s| &*s);
            Reply::Array(
                c.argv.iter().skip(2).map(|m| Reply::Integer(set.is_some_and(|s| s.contains(m)) as i64)).collect(),
            )
        }
    }
}

/// SCARD key
fn scard(e: &mut Engine, c: &Ctx) -> Reply {
    match read_set(e, c.db, c.arg(1)) {
        Err(err) => err.into(),
        Ok(set) => Reply::Integer(set.map_or(0, |s| s.len()) as i64),
    }
}

/// SPOP key [count]
fn spop(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() == 3 {
        return spop_with_count(e, c);
    } else if c.argc() > 3 {
        return Error::Syntax.into();
    }
    let key = c.arg(1);
    match write_set(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Nil,
        Ok(Some(_)) => {}
    }
    let Some(popped) = set_and_rng(e, c.db, key).and_then(|(set, rng)| set.pop_random(rng)) else {
        return Reply::Nil;
    };
    notify(e, notify::SET, "spop", key, c.db);
    delete_if_empty(e, c.db, key);
    e.dirty += 1;
    // The member popped at random propagates as its removal.
    crate::propagate::rewrite(e, &[b"SREM", key, &popped]);
    Reply::Bulk(popped)
}

/// SPOP key count: the three strategies of Redis's spopWithCountCommand, which differ observably in what
/// they leave behind (the third rebuilds the set, so a hash table of integers can become an intset again).
fn spop_with_count(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    let count = match parse_i64(c.arg(2)) {
        Some(n) if n >= 0 => n as u64,
        _ => return Error::other("ERR value is out of range, must be positive").into(),
    };
    let size = match write_set(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Set(Vec::new()),
        Ok(Some(set)) => set.len() as u64,
    };
    if count == 0 {
        return Reply::Set(Vec::new());
    }
    // One change per member popped; the event comes before the work, whichever way it is done.
    e.dirty += count.min(size);
    notify(e, notify::SET, "spop", key, c.db);

    // Case 1: everything. Redis answers through SUNION of the one key (a read lookup, and the members as
    // that union's temporary set orders them), then deletes the key.
    if count >= size {
        let reply = sunion_diff_generic(e, c.db, &[key], None, SetOp::Union);
        e.db_mut(c.db).remove(key);
        notify(e, notify::GENERIC, "del", key, c.db);
        crate::propagate::rewrite(e, &[b"DEL", key]);
        return reply;
    }

    let max = max_intset(e);
    let Some((set, rng)) = set_and_rng(e, c.db, key) else {
        return Reply::Set(Vec::new());
    };
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // Case 2: few members asked for: pop them one at a time.
        let popped: Vec<Reply> = (0..count).filter_map(|_| set.pop_random(rng)).map(Reply::Bulk).collect();
        propagate_srems(e, c.db, key, &popped);
        return Reply::Set(popped);
    }
    // Case 3: most of the set asked for: move the members to keep into a new set, then answer what is left
    // of the old one in its own order. The new set's encoding follows its first member (setTypeCreate).
    let mut kept: Option<Set> = None;
    for _ in 0..remaining {
        let Some(m) = set.pop_random(rng) else { break };
        kept.get_or_insert_with(|| Set::for_first_member(&m)).add(&m, max);
    }
    let popped: Vec<Reply> = set.iter().map(bulk_member).collect();
    *set = kept.unwrap_or_default();
    propagate_srems(e, c.db, key, &popped);
    Reply::Set(popped)
}

/// SPOP with a count propagates one `SREM key member` per member popped, as Redis 7.0 does.
fn propagate_srems(e: &mut Engine, db: usize, key: &[u8], popped: &[Reply]) {
    if !e.propagation_enabled() {
        return;
    }
    crate::propagate::prevent(e);
    for m in popped {
        if let Reply::Bulk(m) = m {
            crate::propagate::also(e, db, &[b"SREM", key, m]);
        }
    }
}

/// SRANDMEMBER key [count]
fn srandmember(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() == 3 {
        return srandmember_with_count(e, c);
    } else if c.argc() > 3 {
        return Error::Syntax.into();
    }
    let key = c.arg(1);
    match read_set(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Nil,
        Ok(Some(_)) => {}
    }
    set_and_rng(e, c.db, key).and_then(|(set, rng)| set.random(rng).map(bulk_member)).unwrap_or(Reply::Nil)
}

/// SRANDMEMBER key count: a negative count may repeat members; a positive one returns distinct members.
fn srandmember_with_count(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    let (count, distinct) = match parse_i64(c.arg(2)) {
        None => return Error::NotInteger.into(),
        Some(i64::MIN) => {
            return Error::other("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
                .into()
        }
        Some(n) => (n.unsigned_abs(), n >= 0),
    };
    let size = match read_set(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(set)) => set.len() as u64,
    };
    if count == 0 {
        return Reply::Array(Vec::new());
    }
    if !distinct && count > SRANDMEMBER_MAX_REPEATS {
        return Error::other("ERR value is out of range, value must between -1048576 and 9223372036854775807").into();
    }
    let Some((set, rng)) = set_and_rng(e, c.db, key) else {
        return Reply::Array(Vec::new());
    };
    // Case 1: repeats allowed (or one member): independent draws, in draw order.
    if !distinct || count == 1 {
        return Reply::Array((0..count).filter_map(|_| set.random(rng).map(bulk_member)).collect());
    }
    // Case 2: at least the whole set: the set in its own order.
    if count >= size {
        return Reply::Array(set.iter().map(bulk_member).collect());
    }
    let chosen: Vec<Vec<u8>> = if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        // Case 3: copy the set, then drop random members until `count` are left.
        let mut all: Vec<Vec<u8>> = set.iter().map(Member::to_vec).collect();
        while all.len() as u64 > count {
            let i = rng.below(all.len() as u64) as usize;
            all.swap_remove(i);
        }
        all
    } else {
        // Case 4: draw until `count` distinct members are found.
        let mut seen: Dict<()> = Dict::new(rng.next_u64());
        let mut out = Vec::new();
        while (out.len() as u64) < count {
            let Some(m) = set.random(rng).map(Member::to_vec) else { break };
            if seen.insert(m.clone(), ()).is_none() {
                out.push(m);
            }
        }
        out
    };
    Reply::Array(chosen.into_iter().map(Reply::Bulk).collect())
}

/// Where SINTER's worker sends its result.
#[derive(Clone, Copy)]
enum InterOut<'a> {
    /// The members, as a set reply.
    Members,
    /// How many there are, stopping at the limit (0 = no limit): SINTERCARD.
    Cardinality(u64),
    /// Stored at the key: SINTERSTORE.
    Store(&'a [u8]),
}

/// Looks up every source key for reading, in order, stopping at the first that is not a set (as Redis does,
/// so later keys are not looked up). Ok: whether each key holds a set.
fn lookup_sources(e: &mut Engine, db: usize, keys: &[&[u8]]) -> Result<Vec<bool>, Error> {
    keys.iter().map(|k| read_set(e, db, k).map(|s| s.is_some())).collect()
}

/// Stores a computed set at `dst` (replacing any value and its expiry) and answers its size, or deletes
/// `dst` and answers 0 when the set is empty (the workers' common STORE tail); `event` is the command's.
fn store_result(e: &mut Engine, db: usize, dst: &[u8], set: Set, event: &'static str) -> Reply {
    let len = set.len();
    if len > 0 {
        // setKey: the destination's lookup may expire it; what was there is overwritten whatever its type.
        e.expire_if_needed(db, dst);
        let now = e.now;
        e.db_mut(db).set(dst, Entry::new(Value::Set(set.into()), now));
        e.dirty += 1;
        notify(e, notify::SET, event, dst, db);
    } else if e.db_mut(db).remove(dst).is_some() {
        e.dirty += 1;
        notify(e, notify::GENERIC, "del", dst, db);
    }
    Reply::Integer(len as i64)
}

/// The worker behind SMEMBERS, SINTER, SINTERCARD and SINTERSTORE (Redis's sinterGenericCommand): walks
/// the smallest set and keeps the members every other set has, so the reply follows the smallest set's order.
fn sinter_generic(e: &mut Engine, db: usize, keys: &[&[u8]], out: InterOut) -> Reply {
    let present = match lookup_sources(e, db, keys) {
        Ok(p) => p,
        Err(err) => return err.into(),
    };
    if present.iter().any(|&p| !p) {
        // An intersection with an empty set is empty.
        return match out {
            InterOut::Store(dst) => store_result(e, db, dst, Set::new_intset(), "sinterstore"),
            InterOut::Cardinality(_) => Reply::Integer(0),
            InterOut::Members => Reply::Set(Vec::new()),
        };
    }
    let max = max_intset(e);
    let mut sets: Vec<(&[u8], &Set)> = keys.iter().filter_map(|&k| peek_set(e, db, k).map(|s| (k, s))).collect();
    // glibc's qsort is a merge sort, so sets of equal size keep their order: a stable sort matches it.
    sort_by_dyn(&mut sets, &mut |a, b| a.1.len().cmp(&b.1.len()));
    let Some(&(first_key, first)) = sets.first() else {
        return Reply::Set(Vec::new());
    };
    let others: Vec<&Set> = sets.iter().skip(1).filter(|(k, _)| *k != first_key).map(|&(_, s)| s).collect();
    let common = first.iter().filter(|&m| others.iter().all(|s| s.contains_member(m)));
    match out {
        InterOut::Members => Reply::Set(common.map(bulk_member).collect()),
        InterOut::Cardinality(limit) => {
            let n = match limit {
                0 => common.count(),
                limit => common.take(usize::try_from(limit).unwrap_or(usize::MAX)).count(),
            };
            Reply::Integer(n as i64)
        }
        InterOut::Store(dst) => {
            // The result starts as an intset, as Redis's does, and converts as members demand.
            let mut result = Set::new_intset();
            for m in common {
                result.add_member(m, max);
            }
            store_result(e, db, dst, result, "sinterstore")
        }
    }
}

/// SMEMBERS key
fn smembers(e: &mut Engine, c: &Ctx) -> Reply {
    // Redis 7.0 serves SMEMBERS with sinterCommand: the intersection of one set.
    sinter_generic(e, c.db, &[c.arg(1)], InterOut::Members)
}

/// SINTER key [key ...]
fn sinter(e: &mut Engine, c: &Ctx) -> Reply {
    sinter_generic(e, c.db, c.argv.get(1..).unwrap_or(&[]), InterOut::Members)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(e: &mut Engine, c: &Ctx) -> Reply {
    let numkeys = match parse_i64(c.arg(1)) {
        Some(n) if n > 0 => n as u64,
        _ => return Error::other("ERR numkeys should be greater than 0").into(),
    };
    let nargs = c.argc() as u64 - 2;
    if numkeys > nargs {
        return Error::other("ERR Number of keys can't be greater than number of args").into();
    }
    let first_opt = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut j = first_opt;
    while j < c.argc() {
        let more = j + 1 < c.argc();
        if eq_ic(c.arg(j), "limit") && more {
            j += 1;
            limit = match parse_i64(c.arg(j)) {
                Some(n) if n >= 0 => n as u64,
                _ => return Error::other("ERR LIMIT can't be negative").into(),
            };
        } else {
            return Error::Syntax.into();
        }
        j += 1;
    }
    let keys = c.argv.get(2..first_opt).unwrap_or(&[]);
    sinter_generic(e, c.db, keys, InterOut::Cardinality(limit))
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(e: &mut Engine, c: &Ctx) -> Reply {
    sinter_generic(e, c.db, c.argv.get(2..).unwrap_or(&[]), InterOut::Store(c.arg(1)))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// The worker behind SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE and SPOP of a whole set (Redis's
/// sunionDiffGenericCommand). The result is built in a temporary set that starts as an intset, so it is
/// answered in ascending order while it stays one; and which of Redis's two SDIFF algorithms runs decides
/// whether the first set's members ever pass through the result (and so its encoding), so the choice is
/// made by Redis's cost estimate.
fn sunion_diff_generic(e: &mut Engine, db: usize, keys: &[&[u8]], dst: Option<&[u8]>, op: SetOp) -> Reply {
    if let Err(err) = lookup_sources(e, db, keys) {
        return err.into();
    }
    let max = max_intset(e);
    let sets: Vec<Option<&Set>> = keys.iter().map(|&k| peek_set(e, db, k)).collect();
    let first_key = keys.first().copied().unwrap_or(b"");
    let first = sets.first().copied().flatten();
    // The first key named again: the difference is empty.
    let same_set = first.is_some() && keys.iter().skip(1).any(|&k| k == first_key);
    let mut result = Set::new_intset();
    match op {
        SetOp::Union => {
            for set in sets.iter().flatten() {
                for m in set.iter() {
                    result.add_member(m, max);
                }
            }
        }
        SetOp::Diff => {
            if let (Some(first), false) = (first, same_set) {
                let present: Vec<&Set> = sets.iter().flatten().copied().collect();
                // Algorithm 1 costs |first| per set, halved for its better constants; algorithm 2 the sizes.
                let algo_one_work = first.len() as u64 * present.len() as u64 / 2;
                let algo_two_work: u64 = present.iter().map(|s| s.len() as u64).sum();
                let others: Vec<&Set> = sets.iter().skip(1).flatten().copied().collect();
                if algo_one_work <= algo_two_work {
                    // Algorithm 1: each member of the first set that no other set has.
                    for m in first.iter() {
                        if !others.iter().any(|s| s.contains_member(m)) {
                            result.add_member(m, max);
                        }
                    }
                } else {
                    // Algorithm 2: the whole first set, then remove every other set's members.
                    for m in first.iter() {
                        result.add_member(m, max);
                    }
                    for set in &others {
                        if result.is_empty() {
                            break;
                        }
                        for m in set.iter() {
                            match m {
                                Member::Int(i) => result.remove(&i64_bytes(i)),
                                Member::Bytes(b) => result.remove(b),
                            };
                        }
                    }
                }
            }
        }
    }
    match dst {
        None => Reply::Set(result.iter().map(bulk_member).collect()),
        Some(dst) => {
            let event = if op == SetOp::Union { "sunionstore" } else { "sdiffstore" };
            store_result(e, db, dst, result, event)
        }
    }
}

/// SUNION key [key ...]
fn sunion(e: &mut Engine, c: &Ctx) -> Reply {
    sunion_diff_generic(e, c.db, c.argv.get(1..).unwrap_or(&[]), None, SetOp::Union)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(e: &mut Engine, c: &Ctx) -> Reply {
    sunion_diff_generic(e, c.db, c.argv.get(2..).unwrap_or(&[]), Some(c.arg(1)), SetOp::Union)
}

/// SDIFF key [key ...]
fn sdiff(e: &mut Engine, c: &Ctx) -> Reply {
    sunion_diff_generic(e, c.db, c.argv.get(1..).unwrap_or(&[]), None, SetOp::Diff)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(e: &mut Engine, c: &Ctx) -> Reply {
    sunion_diff_generic(e, c.db, c.argv.get(2..).unwrap_or(&[]), Some(c.arg(1)), SetOp::Diff)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(e: &mut Engine, c: &Ctx) -> Reply {
    // The cursor is checked before the key, the options only once the key is known to be a set.
    let cursor = match parse_scan_cursor(c.arg(2)) {
        Ok(cur) => cur,
        Err(err) => return err.into(),
    };
    let set = match read_set(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Array(alloc::vec![Reply::bulk(b"0"), Reply::Array(Vec::new())]),
        Ok(Some(set)) => &*set,
    };
    let opts = match parse_scan_options(c, 3, false) {
        Ok(o) => o,
        Err(err) => return err.into(),
    };
    let mut found: Vec<Vec<u8>> = Vec::new();
    let next = if set.is_intset() {
        // An intset is returned whole in one call, as Redis does for every compact encoding.
        found.extend(set.iter().map(Member::to_vec));
        0
    } else {
        // Visit buckets until COUNT members are collected, giving up after COUNT*10 more buckets.
        let mut cursor = cursor;
        let mut budget = opts.count.saturating_mul(10);
        loop {
            cursor = set.scan_table(cursor, |m| found.push(m.to_vec())).unwrap_or(0);
            if cursor == 0 || budget == 0 || found.len() as u64 >= opts.count as u64 {
                break;
            }
            budget -= 1;
        }
        cursor
    };
    let members = found
        .into_iter()
        .filter(|m| opts.pattern.is_none_or(|p| string_match(p, m, false)))
        .map(Reply::Bulk)
        .collect();
    Reply::Array(alloc::vec![Reply::Bulk(i64_bytes(next as i64)), Reply::Array(members)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::ClientId;
    use alloc::collections::BTreeSet;
    use alloc::string::String;
    use alloc::vec;

    const T0: u64 = 1_700_000_000_000;

    fn engine() -> (Engine, ClientId) {
        let mut e = Engine::new(Config::default());
        let c = e.connect(T0);
        (e, c)
    }

    fn run(e: &mut Engine, c: ClientId, args: &[&str]) -> Reply {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        e.execute(c, &argv, T0).unwrap_or(Reply::Nil)
    }

    fn members(r: Reply) -> Vec<Vec<u8>> {
        match r {
            Reply::Array(items) | Reply::Set(items) => items
                .into_iter()
                .map(|i| match i {
                    Reply::Bulk(b) => b,
                    other => panic!("not a bulk: {other:?}"),
                })
                .collect(),
            other => panic!("not an array: {other:?}"),
        }
    }

    fn ints(range: core::ops::RangeInclusive<i64>) -> Vec<String> {
        range.map(|i| alloc::format!("{i}")).collect()
    }

    fn sadd(e: &mut Engine, c: ClientId, key: &str, ms: &[String]) {
        let mut args = vec!["SADD", key];
        args.extend(ms.iter().map(String::as_str));
        run(e, c, &args);
    }

    #[test]
    fn dirty_counts_as_redis_does() {
        // Deltas measured on Redis 7.0.15 (INFO persistence's rdb_changes_since_last_save).
        let (mut e, c) = engine();
        let step = |e: &mut Engine, args: &[&str], delta: u64| {
            let before = e.dirty;
            run(e, c, args);
            assert_eq!(e.dirty - before, delta, "{args:?}");
        };
        step(&mut e, &["SADD", "s", "a", "b", "c"], 3);
        step(&mut e, &["SADD", "s", "a", "d"], 1);
        step(&mut e, &["SREM", "s", "d", "x"], 1);
        step(&mut e, &["SADD", "t", "b", "c", "d"], 3);
        step(&mut e, &["SINTERSTORE", "d", "s", "t", "missing"], 0);
        step(&mut e, &["SUNIONSTORE", "d", "s", "t"], 1);
        step(&mut e, &["SDIFFSTORE", "d", "s", "t"], 1);
        step(&mut e, &["SMOVE", "s", "t", "a"], 2);
        step(&mut e, &["SMOVE", "t", "s", "b"], 1);
        step(&mut e, &["SMOVE", "s", "s", "b"], 0);
        step(&mut e, &["SPOP", "missing"], 0);
        step(&mut e, &["SADD", "p", "1", "2", "3"], 3);
        step(&mut e, &["SPOP", "p", "10"], 3);
        step(&mut e, &["SADD", "q", "a", "b", "c", "d", "e", "f"], 6);
        step(&mut e, &["SPOP", "q", "5"], 5);
        step(&mut e, &["SPOP", "q", "0"], 0);
        step(&mut e, &["SPOP", "q"], 1);
        step(&mut e, &["SET", "str", "x"], 1);
        step(&mut e, &["SADD", "str", "a"], 0);
        step(&mut e, &["SINTERSTORE", "e", "str"], 0);
        step(&mut e, &["SINTERSTORE", "str", "missing"], 1);
        step(&mut e, &["SDIFFSTORE", "str", "missing"], 0);
    }

    #[test]
    fn srandmember_returns_members_distinct_when_positive() {
        let (mut e, c) = engine();
        for first in ["1", "a"] {
            run(&mut e, c, &["DEL", "s"]);
            let mut ms = vec![String::from(first)];
            ms.extend(ints(1..=40));
            sadd(&mut e, c, "s", &ms);
            let all: BTreeSet<Vec<u8>> = ms.iter().map(|m| m.as_bytes().to_vec()).collect();
            // Counts that exercise the copy-and-drop strategy (more than a third) and the draw strategy.
            for count in ["1", "5", "13", "14", "30", "40", "41", "100"] {
                let got = members(run(&mut e, c, &["SRANDMEMBER", "s", count]));
                let want = count.parse::<usize>().unwrap_or(0).min(all.len());
                assert_eq!(got.len(), want, "count {count}");
                let distinct: BTreeSet<Vec<u8>> = got.iter().cloned().collect();
                assert_eq!(distinct.len(), want, "count {count} repeats");
                assert!(distinct.is_subset(&all));
            }
            let got = members(run(&mut e, c, &["SRANDMEMBER", "s", "-100"]));
            assert_eq!(got.len(), 100);
            assert!(got.iter().all(|m| all.contains(m)));
        }
    }

    #[test]
    fn spop_with_count_removes_exactly_what_it_returns() {
        let (mut e, c) = engine();
        for (first, count) in [("1", "3"), ("1", "30"), ("a", "3"), ("a", "30"), ("1", "39")] {
            run(&mut e, c, &["DEL", "s"]);
            let mut ms = vec![String::from(first)];
            ms.extend(ints(1..=40));
            sadd(&mut e, c, "s", &ms);
            let size = ms.iter().collect::<BTreeSet<_>>().len();
            let popped = members(run(&mut e, c, &["SPOP", "s", count]));
            let n: usize = count.parse().unwrap_or(0);
            assert_eq!(popped.len(), n);
            assert_eq!(popped.iter().collect::<BTreeSet<_>>().len(), n);
            assert_eq!(run(&mut e, c, &["SCARD", "s"]), Reply::Integer((size - n) as i64));
            for m in &popped {
                let m = core::str::from_utf8(m).unwrap_or("");
                assert_eq!(run(&mut e, c, &["SISMEMBER", "s", m]), Reply::Integer(0));
            }
        }
    }

    #[test]
    fn set_operations_agree_with_a_model() {
        let (mut e, c) = engine();
        let mut rng = Rng::new(42);
        for round in 0..50 {
            let mut model: Vec<BTreeSet<String>> = Vec::new();
            for (k, key) in ["a", "b", "c"].iter().enumerate() {
                run(&mut e, c, &["DEL", key]);
                let n = rng.below(30) as usize + 1;
                let mut set = BTreeSet::new();
                for _ in 0..n {
                    let v = rng.below(40);
                    // Round and key decide whether strings appear (hashtables) or not (intsets).
                    let m = if (round + k) % 3 == 0 && v.is_multiple_of(7) { alloc::format!("s{v}") } else { alloc::format!("{v}") };
                    set.insert(m);
                }
                sadd(&mut e, c, key, &set.iter().cloned().collect::<Vec<_>>());
                model.push(set);
            }
            let as_set = |r: Reply| members(r).into_iter().map(|m| String::from_utf8(m).unwrap_or_default()).collect::<BTreeSet<_>>();
            let (a, b, cc) = (&model[0], &model[1], &model[2]);
            let inter: BTreeSet<String> = a.iter().filter(|m| b.contains(*m) && cc.contains(*m)).cloned().collect();
            let union: BTreeSet<String> = a.iter().chain(b).chain(cc).cloned().collect();
            let diff: BTreeSet<String> = a.iter().filter(|m| !b.contains(*m) && !cc.contains(*m)).cloned().collect();
            assert_eq!(as_set(run(&mut e, c, &["SINTER", "a", "b", "c"])), inter);
            assert_eq!(as_set(run(&mut e, c, &["SUNION", "a", "b", "c"])), union);
            assert_eq!(as_set(run(&mut e, c, &["SDIFF", "a", "b", "c"])), diff);
            assert_eq!(run(&mut e, c, &["SINTERCARD", "3", "a", "b", "c"]), Reply::Integer(inter.len() as i64));
            assert_eq!(run(&mut e, c, &["SDIFFSTORE", "d", "a", "b", "c"]), Reply::Integer(diff.len() as i64));
            if !diff.is_empty() {
                assert_eq!(as_set(run(&mut e, c, &["SMEMBERS", "d"])), diff);
            }
        }
    }

    #[test]
    fn sscan_of_a_hashtable_visits_every_member() {
        let (mut e, c) = engine();
        let mut ms = vec![String::from("x")];
        ms.extend(ints(1..=700));
        sadd(&mut e, c, "s", &ms);
        let mut seen = BTreeSet::new();
        let mut cursor = String::from("0");
        let mut calls = 0;
        loop {
            calls += 1;
            assert!(calls < 10_000);
            let Reply::Array(parts) = run(&mut e, c, &["SSCAN", "s", &cursor, "COUNT", "7"]) else { panic!() };
            let [Reply::Bulk(next), page] = <[Reply; 2]>::try_from(parts).unwrap_or_else(|_| panic!()) else { panic!() };
            seen.extend(members(page));
            cursor = String::from_utf8(next).unwrap_or_default();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 701);
    }

    #[test]
    fn huge_negative_srandmember_is_refused_not_allocated() {
        let (mut e, c) = engine();
        run(&mut e, c, &["SADD", "s", "a"]);
        assert!(run(&mut e, c, &["SRANDMEMBER", "s", "-9223372036854775807"]).is_error());
        assert_eq!(members(run(&mut e, c, &["SRANDMEMBER", "s", "9223372036854775807"])), vec![b"a".to_vec()]);
        assert_eq!(members(run(&mut e, c, &["SPOP", "s", "9223372036854775807"])), vec![b"a".to_vec()]);
    }
}
