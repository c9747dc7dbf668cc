//! List commands (Redis's t_list.c), the blocking ones included; the waiting itself is `crate::blocking`.

use alloc::vec::Vec;

use super::Handler;
use crate::blocking::{self, Waiter};
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::notify::{self, notify};
use crate::propagate;
use crate::reply::Reply;
use crate::types::list::{End, List};
use crate::util::{eq_ic, i64_bytes, parse_i64};
use crate::value::{Entry, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("lpush", lpush),
    ("rpush", rpush),
    ("lpushx", lpushx),
    ("rpushx", rpushx),
    ("linsert", linsert),
    ("llen", llen),
    ("lindex", lindex),
    ("lset", lset),
    ("lpop", lpop),
    ("rpop", rpop),
    ("lrange", lrange),
    ("ltrim", ltrim),
    ("lpos", lpos),
    ("lrem", lrem),
    ("lmove", lmove),
    ("rpoplpush", rpoplpush),
    ("blpop", blpop),
    ("brpop", brpop),
    ("blmove", blmove),
    ("brpoplpush", brpoplpush),
    ("lmpop", lmpop),
    ("blmpop", blmpop),
];

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/// The list at `key` for reading (counts a keyspace hit or miss): `Ok(None)` when missing, WRONGTYPE for others.
fn read_list<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e List>, Error> {
    match e.lookup_read(db, key) {
        None => Ok(None),
        Some(entry) => match &entry.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The list at `key` for writing (no hit/miss statistics): `Ok(None)` when missing, WRONGTYPE for others.
fn write_list<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e mut List>, Error> {
    match e.lookup_write(db, key) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The list at `key` once a lookup has checked it, without touching it again.
fn list_mut<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Option<&'e mut List> {
    match &mut e.entry_mut(db, key)?.value {
        Value::List(l) => Some(l),
        _ => None,
    }
}

/// Redis never keeps an empty list: the key goes when its last element does (a `del` event, after the
/// command's own).
fn delete_if_empty(e: &mut Engine, db: usize, key: &[u8]) {
    if list_mut(e, db, key).is_some_and(|l| l.is_empty()) {
        e.db_mut(db).remove(key);
        notify(e, notify::GENERIC, "del", key, db);
    }
}

/// The event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The event of a pop from `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// Stores a new list (through `Db::set`, which wakes clients blocked on the key).
fn create_list(e: &mut Engine, db: usize, key: &[u8], list: List) {
    let entry = Entry::new(Value::List(list.into()), e.now);
    e.db_mut(db).set(key, entry);
}

/// LEFT or RIGHT (getListPositionFromObjectOrReply).
fn parse_end(arg: &[u8]) -> Result<End, Error> {
    if eq_ic(arg, "LEFT") {
        Ok(End::Head)
    } else if eq_ic(arg, "RIGHT") {
        Ok(End::Tail)
    } else {
        Err(Error::Syntax)
    }
}

fn parse_long(arg: &[u8]) -> Result<i64, Error> {
    parse_i64(arg).ok_or(Error::NotInteger)
}

/// An integer from `min` up, or the error `msg` (getRangeLongFromObjectOrReply with a message).
fn parse_at_least(arg: &[u8], min: i64, msg: &str) -> Result<i64, Error> {
    parse_i64(arg).filter(|&v| v >= min).ok_or_else(|| Error::other(msg))
}

/// An index from the head, or from the tail when negative, resolved against `len`.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { index.checked_add(len)? } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// LRANGE/LTRIM's clamping of `start..=end`: `(first, count)` of the elements kept, count 0 when empty.
fn clamp_range(start: i64, end: i64, len: usize) -> (usize, usize) {
    let n = len as i64;
    let mut start = if start < 0 { start.saturating_add(n) } else { start };
    let mut end = if end < 0 { end.saturating_add(n) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= n {
        return (0, 0);
    }
    if end >= n {
        end = n - 1;
    }
    (start as usize, (end - start + 1) as usize)
}

fn bulk_array(values: Vec<Vec<u8>>) -> Reply {
    Reply::Array(values.into_iter().map(Reply::Bulk).collect())
}

// ---------------------------------------------------------------------------------------------------------------
// Pushes

/// The worker behind LPUSH, RPUSH, LPUSHX and RPUSHX (pushGenericCommand); `xx` pushes only onto an existing list.
fn push_generic(e: &mut Engine, c: &Ctx, end: End, xx: bool) -> Reply {
    let key = c.arg(1);
    let values = c.argv.get(2..).unwrap_or_default();
    let len = match write_list(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(Some(list)) => {
            for v in values {
                list.push(v.to_vec(), end);
            }
            list.len()
        }
        Ok(None) if xx => return Reply::Integer(0),
        Ok(None) => {
            let mut list = List::new();
            for v in values {
                list.push(v.to_vec(), end);
            }
            let len = list.len();
            create_list(e, c.db, key, list);
            len
        }
    };
    e.dirty += values.len() as u64;
    notify(e, notify::LIST, push_event(end), key, c.db);
    Reply::Integer(len as i64)
}

/// LPUSH key element [element ...]
fn lpush(e: &mut Engine, c: &Ctx) -> Reply {
    push_generic(e, c, End::Head, false)
}

/// RPUSH key element [element ...]
fn rpush(e: &mut Engine, c: &Ctx) -> Reply {
    push_generic(e, c, End::Tail, false)
}

/// LPUSHX key element [element ...]
fn lpushx(e: &mut Engine, c: &Ctx) -> Reply {
    push_generic(e, c, End::Head, true)
}

/// RPUSHX key element [element ...]
fn rpushx(e: &mut Engine, c: &Ctx) -> Reply {
    push_generic(e, c, End::Tail, true)
}

/// LINSERT key BEFORE | AFTER pivot element
fn linsert(e: &mut Engine, c: &Ctx) -> Reply {
    let after = if eq_ic(c.arg(2), "AFTER") {
        true
    } else if eq_ic(c.arg(2), "BEFORE") {
        false
    } else {
        return Error::Syntax.into();
    };
    let reply = match write_list(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Integer(0),
        Ok(Some(list)) => {
            if !list.insert(c.arg(3), c.arg(4).to_vec(), after) {
                return Reply::Integer(-1);
            }
            Reply::Integer(list.len() as i64)
        }
    };
    e.dirty += 1;
    notify(e, notify::LIST, "linsert", c.arg(1), c.db);
    reply
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and changing by index

/// LLEN key
fn llen(e: &mut Engine, c: &Ctx) -> Reply {
    match read_list(e, c.db, c.arg(1)) {
        Ok(l) => Reply::Integer(l.map_or(0, |l| l.len() as i64)),
        Err(err) => err.into(),
    }
}

/// LINDEX key index
fn lindex(e: &mut Engine, c: &Ctx) -> Reply {
    // The key is looked up before the index is parsed, as in Redis: a missing key answers nil whatever the index.
    let list = match read_list(e, c.db, c.arg(1)) {
        Ok(Some(l)) => l,
        Ok(None) => return Reply::Nil,
        Err(err) => return err.into(),
    };
    let index = match parse_long(c.arg(2)) {
        Ok(i) => i,
        Err(err) => return err.into(),
    };
    match resolve_index(index, list.len()).and_then(|i| list.get(i)) {
        Some(v) => Reply::bulk(v),
        None => Reply::Nil,
    }
}

/// LSET key index element
fn lset(e: &mut Engine, c: &Ctx) -> Reply {
    let list = match write_list(e, c.db, c.arg(1)) {
        Ok(Some(l)) => l,
        Ok(None) => return Error::NoSuchKey.into(),
        Err(err) => return err.into(),
    };
    let index = match parse_long(c.arg(2)) {
        Ok(i) => i,
        Err(err) => return err.into(),
    };
    let done = resolve_index(index, list.len()).is_some_and(|i| list.set(i, c.arg(3).to_vec()));
    if !done {
        return Error::other("ERR index out of range").into();
    }
    e.dirty += 1;
    // Redis signals the key even when the value ends up the same (a WATCH sees a change).
    e.db_mut(c.db).signal_modified_key(c.arg(1));
    notify(e, notify::LIST, "lset", c.arg(1), c.db);
    Reply::ok()
}

// ---------------------------------------------------------------------------------------------------------------
// Pops

/// Pops up to `count` elements from one end of the list at `key` (which exists) and deletes the key once empty.
fn pop_from(e: &mut Engine, db: usize, key: &[u8], count: usize, end: End) -> Vec<Vec<u8>> {
    let values = list_mut(e, db, key).map(|l| l.pop_many(count, end)).unwrap_or_default();
    if !values.is_empty() {
        notify(e, notify::LIST, pop_event(end), key, db);
    }
    delete_if_empty(e, db, key);
    e.dirty += values.len() as u64;
    values
}

/// The worker behind LPOP and RPOP (popGenericCommand): one element as a bulk string, or with a count an array.
fn pop_generic(e: &mut Engine, c: &Ctx, end: End) -> Reply {
    if c.argc() > 3 {
        return Error::WrongArity(c.spec.name.into()).into();
    }
    let count = if c.argc() == 3 {
        match parse_at_least(c.arg(2), 0, "ERR value is out of range, must be positive") {
            Ok(n) => Some(n as usize),
            Err(err) => return err.into(),
        }
    } else {
        None
    };
    match write_list(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) if count.is_some() => return Reply::NilArray,
        Ok(None) => return Reply::Nil,
        Ok(Some(_)) => {}
    }
    match count {
        None => match pop_from(e, c.db, c.arg(1), 1, end).pop() {
            Some(v) => Reply::Bulk(v),
            None => Reply::Nil,
        },
        Some(n) => bulk_array(pop_from(e, c.db, c.arg(1), n, end)),
    }
}

/// LPOP key [count]
fn lpop(e: &mut Engine, c: &Ctx) -> Reply {
    pop_generic(e, c, End::Head)
}

/// RPOP key [count]
fn rpop(e: &mut Engine, c: &Ctx) -> Reply {
    pop_generic(e, c, End::Tail)
}

// ---------------------------------------------------------------------------------------------------------------
// Ranges and searches

/// LRANGE key start stop
fn lrange(e: &mut Engine, c: &Ctx) -> Reply {
    let (start, end) = match (parse_long(c.arg(2)), parse_long(c.arg(3))) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(err), _) | (_, Err(err)) => return err.into(),
    };
    match read_list(e, c.db, c.arg(1)) {
        Err(err) => err.into(),
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(list)) => {
            let (first, count) = clamp_range(start, end, list.len());
            Reply::Array(list.range(first, count).map(Reply::bulk).collect())
        }
    }
}

/// LTRIM key start stop
fn ltrim(e: &mut Engine, c: &Ctx) -> Reply {
    let (start, end) = match (parse_long(c.arg(2)), parse_long(c.arg(3))) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(err), _) | (_, Err(err)) => return err.into(),
    };
    let removed = match write_list(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::ok(),
        Ok(Some(list)) => {
            let before = list.len();
            let (first, count) = clamp_range(start, end, before);
            list.retain_range(first, count);
            before - list.len()
        }
    };
    // An LTRIM that keeps everything is an event all the same.
    notify(e, notify::LIST, "ltrim", c.arg(1), c.db);
    delete_if_empty(e, c.db, c.arg(1));
    e.dirty += removed as u64;
    // Redis signals the key even when the value ends up the same (a WATCH sees a change).
    e.db_mut(c.db).signal_modified_key(c.arg(1));
    Reply::ok()
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(e: &mut Engine, c: &Ctx) -> Reply {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < c.argc() {
        let opt = c.arg(j);
        let more = j + 1 < c.argc();
        let parsed = if eq_ic(opt, "RANK") && more {
            parse_long(c.arg(j + 1)).and_then(|r| {
                if r == 0 {
                    Err(Error::other(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
                         negative to start from the end of the list",
                    ))
                } else {
                    rank = r;
                    Ok(())
                }
            })
        } else if eq_ic(opt, "COUNT") && more {
            parse_at_least(c.arg(j + 1), 0, "ERR COUNT can't be negative").map(|n| count = Some(n))
        } else if eq_ic(opt, "MAXLEN") && more {
            parse_at_least(c.arg(j + 1), 0, "ERR MAXLEN can't be negative").map(|n| maxlen = n)
        } else {
            Err(Error::Syntax)
        };
        if let Err(err) = parsed {
            return err.into();
        }
        j += 2;
    }
    // A negative rank searches from the tail. Redis negates with C's wrap-around, so RANK -9223372036854775808
    // stays negative: every match then qualifies and COUNT never stops the search.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let list = match read_list(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) if count.is_some() => return Reply::Array(Vec::new()),
        Ok(None) => return Reply::Nil,
        Ok(Some(l)) => l,
    };
    let element = c.arg(2);
    let len = list.len() as i64;
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    for (index, item) in list.iter(from_tail).enumerate() {
        let index = index as i64;
        if maxlen != 0 && index >= maxlen {
            break;
        }
        if item != element {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(Reply::Integer(if from_tail { len - index - 1 } else { index }));
        match count {
            None => break,
            Some(n) if n != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= n => break,
            Some(_) => {}
        }
    }
    match count {
        Some(_) => Reply::Array(found),
        None => found.pop().unwrap_or(Reply::Nil),
    }
}

/// LREM key count element
fn lrem(e: &mut Engine, c: &Ctx) -> Reply {
    let count = match parse_long(c.arg(2)) {
        Ok(n) => n,
        Err(err) => return err.into(),
    };
    let limit = (count != 0).then(|| count.unsigned_abs());
    let removed = match write_list(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Integer(0),
        Ok(Some(list)) => list.remove(c.arg(3), limit, count < 0),
    };
    if removed > 0 {
        notify(e, notify::LIST, "lrem", c.arg(1), c.db);
    }
    delete_if_empty(e, c.db, c.arg(1));
    e.dirty += removed;
    Reply::Integer(removed as i64)
}

// ---------------------------------------------------------------------------------------------------------------
// Moving between lists

/// The worker behind LMOVE, RPOPLPUSH, and BLMOVE/BRPOPLPUSH when the source has elements or once they are
/// served (lmoveGenericCommand): the moved element, `None` when the source is missing. The source is popped
/// before it is deleted, so a list moved onto itself keeps its element (and its expiry). Redis fires the push
/// on the destination before the pop from the source.
fn lmove_generic(e: &mut Engine, db: usize, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Vec<u8>>, Error> {
    if write_list(e, db, src)?.is_none() {
        return Ok(None);
    }
    write_list(e, db, dst)?;
    let Some(value) = list_mut(e, db, src).and_then(|l| l.pop(from)) else {
        return Ok(None);
    };
    match list_mut(e, db, dst) {
        Some(list) => list.push(value.clone(), to),
        None => {
            let mut list = List::new();
            list.push(value.clone(), to);
            create_list(e, db, dst, list);
        }
    }
    notify(e, notify::LIST, push_event(to), dst, db);
    notify(e, notify::LIST, pop_event(from), src, db);
    delete_if_empty(e, db, src);
    e.dirty += 1;
    // A one-element list moved onto itself ends up the same, and Redis still signals both keys.
    e.db_mut(db).signal_modified_key(src);
    e.db_mut(db).signal_modified_key(dst);
    Ok(Some(value))
}

/// LMOVE source destination LEFT | RIGHT LEFT | RIGHT
fn lmove(e: &mut Engine, c: &Ctx) -> Reply {
    let ends = parse_end(c.arg(3)).and_then(|from| Ok((from, parse_end(c.arg(4))?)));
    match ends.and_then(|(from, to)| lmove_generic(e, c.db, c.arg(1), c.arg(2), from, to)) {
        Ok(Some(v)) => Reply::Bulk(v),
        Ok(None) => Reply::Nil,
        Err(err) => err.into(),
    }
}

/// RPOPLPUSH source destination
fn rpoplpush(e: &mut Engine, c: &Ctx) -> Reply {
    match lmove_generic(e, c.db, c.arg(1), c.arg(2), End::Tail, End::Head) {
        Ok(Some(v)) => Reply::Bulk(v),
        Ok(None) => Reply::Nil,
        Err(err) => err.into(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Blocking variants

/// What a blocked list client does once served, kept in its `Waiter::args` as `[kind, from, extra...]`:
/// `pop` (BLPOP/BRPOP, replying `[key, element]`), `mpop` and a count (BLMPOP, replying `[key, [elements]]`),
/// or `move`, the destination end and the destination key (BLMOVE/BRPOPLPUSH, replying the element).
fn waiter_args(kind: &[u8], from: End, extra: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut args = alloc::vec![kind.to_vec(), alloc::vec![end_byte(from)]];
    args.extend(extra.iter().map(|a| a.to_vec()));
    args
}

/// The pop command a blocking or multi-key pop propagates as.
fn pop_name(end: End) -> &'static [u8] {
    if end == End::Head {
        b"LPOP"
    } else {
        b"RPOP"
    }
}

/// An end as Redis's shared objects spell it when it propagates a served BLMOVE.
fn end_word(end: End) -> &'static [u8] {
    if end == End::Head {
        b"left"
    } else {
        b"right"
    }
}

fn end_byte(end: End) -> u8 {
    if end == End::Head {
        b'L'
    } else {
        b'R'
    }
}

fn byte_end(arg: Option<&Vec<u8>>) -> End {
    if arg.is_some_and(|a| a.as_slice() == b"L") {
        End::Head
    } else {
        End::Tail
    }
}

/// Serves a list waiter from `key`, which holds a list (serveClientBlockedOnList).
fn serve_list(e: &mut Engine, w: &Waiter, key: &[u8]) -> Option<Reply> {
    let kind = w.args.first()?.as_slice();
    let from = byte_end(w.args.get(1));
    // What the served client did propagates as the non-blocking command (serveClientBlockedOnList).
    match kind {
        b"pop" => {
            let value = pop_from(e, w.db, key, 1, from).pop()?;
            propagate::also(e, w.db, &[pop_name(from), key]);
            Some(Reply::Array(alloc::vec![Reply::bulk(key), Reply::Bulk(value)]))
        }
        b"mpop" => {
            let count = w.args.get(2).and_then(|n| parse_i64(n)).unwrap_or(1).max(1) as usize;
            let values = pop_from(e, w.db, key, count, from);
            propagate::also(e, w.db, &[pop_name(from), key, &i64_bytes(values.len() as i64)]);
            Some(Reply::Array(alloc::vec![Reply::bulk(key), bulk_array(values)]))
        }
        _ => {
            let to = byte_end(w.args.get(2));
            let dst = w.args.get(3)?;
            match lmove_generic(e, w.db, key, dst, from, to) {
                Ok(Some(v)) => {
                    if kind == b"rpoplpush" {
                        propagate::also(e, w.db, &[b"RPOPLPUSH", key, dst]);
                    } else {
                        propagate::also(e, w.db, &[b"LMOVE", key, dst, end_word(from), end_word(to)]);
                    }
                    Some(Reply::Bulk(v))
                }
                Ok(None) => None,
                // A destination of another type: the client gets the error and stops waiting; nothing moves.
                Err(err) => Some(err.into()),
            }
        }
    }
}

/// The worker behind BLPOP, BRPOP and BLMPOP (blockingPopGenericCommand): pops from the first of `keys` holding a
/// list, or blocks on all of them. `count` is BLMPOP's (its reply nests the elements).
fn blocking_pop_generic(e: &mut Engine, c: &Ctx, keys: &[&[u8]], end: End, count: Option<usize>, deadline: u64) -> Reply {
    for &key in keys {
        match write_list(e, c.db, key) {
            Err(err) => return err.into(),
            Ok(Some(l)) if !l.is_empty() => {}
            Ok(_) => continue,
        }
        let values = pop_from(e, c.db, key, count.unwrap_or(1), end);
        // Served at once: propagated as LPOP/RPOP (with the number popped for BLMPOP).
        match count {
            Some(_) => propagate::rewrite(e, &[pop_name(end), key, &i64_bytes(values.len() as i64)]),
            None => propagate::rewrite(e, &[pop_name(end), key]),
        }
        return match count {
            Some(_) => Reply::Array(alloc::vec![Reply::bulk(key), bulk_array(values)]),
            None => {
                let mut items = alloc::vec![Reply::bulk(key)];
                items.extend(values.into_iter().map(Reply::Bulk));
                Reply::Array(items)
            }
        };
    }
    if e.blocking.deny {
        return Reply::NilArray;
    }
    let args = match count {
        Some(n) => waiter_args(b"mpop", end, &[&crate::util::i64_bytes(n as i64)]),
        None => waiter_args(b"pop", end, &[]),
    };
    blocking::block(e, c.client, c.db, keys, deadline, "list", args, serve_list);
    Reply::NilArray
}

/// The keys of BLPOP/BRPOP (all arguments but the name and the timeout).
fn pop_keys<'a>(c: &Ctx<'a>) -> &'a [&'a [u8]] {
    c.argv.get(1..c.argc().saturating_sub(1)).unwrap_or_default()
}

/// BLPOP key [key ...] timeout
fn blpop(e: &mut Engine, c: &Ctx) -> Reply {
    match blocking::parse_timeout(c.arg(c.argc() - 1), e.now) {
        Ok(deadline) => blocking_pop_generic(e, c, pop_keys(c), End::Head, None, deadline),
        Err(err) => err.into(),
    }
}

/// BRPOP key [key ...] timeout
fn brpop(e: &mut Engine, c: &Ctx) -> Reply {
    match blocking::parse_timeout(c.arg(c.argc() - 1), e.now) {
        Ok(deadline) => blocking_pop_generic(e, c, pop_keys(c), End::Tail, None, deadline),
        Err(err) => err.into(),
    }
}

/// The worker behind BLMOVE and BRPOPLPUSH (blmoveGenericCommand): moves at once when the source has
/// elements, otherwise blocks on the source.
fn blmove_generic(e: &mut Engine, c: &Ctx, from: End, to: End, deadline: u64) -> Reply {
    let (src, dst) = (c.arg(1), c.arg(2));
    match write_list(e, c.db, src) {
        Err(err) => return err.into(),
        Ok(Some(_)) => {
            if c.spec.name == "brpoplpush" {
                propagate::rewrite(e, &[b"RPOPLPUSH", src, dst]);
            } else {
                propagate::rewrite(e, &[b"LMOVE", src, dst, c.arg(3), c.arg(4)]);
            }
            return match lmove_generic(e, c.db, src, dst, from, to) {
                Ok(Some(v)) => Reply::Bulk(v),
                Ok(None) => Reply::Nil,
                Err(err) => err.into(),
            }
        }
        Ok(None) => {}
    }
    // Refused blocking answers a plain null here, unlike the timeout's null array.
    if e.blocking.deny {
        return Reply::Nil;
    }
    let kind: &[u8] = if c.spec.name == "brpoplpush" { b"rpoplpush" } else { b"move" };
    let args = waiter_args(kind, from, &[&[end_byte(to)], dst]);
    blocking::block(e, c.client, c.db, &[src], deadline, "list", args, serve_list);
    Reply::NilArray
}

/// BLMOVE source destination LEFT | RIGHT LEFT | RIGHT timeout
fn blmove(e: &mut Engine, c: &Ctx) -> Reply {
    let parsed = parse_end(c.arg(3)).and_then(|from| {
        let to = parse_end(c.arg(4))?;
        Ok((from, to, blocking::parse_timeout(c.arg(5), e.now)?))
    });
    match parsed {
        Ok((from, to, deadline)) => blmove_generic(e, c, from, to, deadline),
        Err(err) => err.into(),
    }
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(e: &mut Engine, c: &Ctx) -> Reply {
    match blocking::parse_timeout(c.arg(3), e.now) {
        Ok(deadline) => blmove_generic(e, c, End::Tail, End::Head, deadline),
        Err(err) => err.into(),
    }
}

/// The worker behind LMPOP and BLMPOP (lmpopGenericCommand); `numkeys_idx` is where numkeys is in argv.
fn lmpop_generic(e: &mut Engine, c: &Ctx, numkeys_idx: usize, blocking: bool) -> Reply {
    let numkeys = match parse_at_least(c.arg(numkeys_idx), 1, "ERR numkeys should be greater than 0") {
        Ok(n) => n as u64,
        Err(err) => return err.into(),
    };
    let where_idx = match usize::try_from(numkeys).ok().and_then(|n| n.checked_add(numkeys_idx + 1)) {
        Some(i) if i < c.argc() => i,
        _ => return Error::Syntax.into(),
    };
    let end = match parse_end(c.arg(where_idx)) {
        Ok(end) => end,
        Err(err) => return err.into(),
    };
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < c.argc() {
        if count.is_none() && eq_ic(c.arg(j), "COUNT") && j + 1 < c.argc() {
            match parse_at_least(c.arg(j + 1), 1, "ERR count should be greater than 0") {
                Ok(n) => count = Some(n),
                Err(err) => return err.into(),
            }
            j += 2;
        } else {
            return Error::Syntax.into();
        }
    }
    let count = count.unwrap_or(1) as usize;
    let keys = c.argv.get(numkeys_idx + 1..where_idx).unwrap_or_default();
    if blocking {
        return match blocking::parse_timeout(c.arg(1), e.now) {
            Ok(deadline) => blocking_pop_generic(e, c, keys, end, Some(count), deadline),
            Err(err) => err.into(),
        };
    }
    for &key in keys {
        match write_list(e, c.db, key) {
            Err(err) => return err.into(),
            Ok(Some(l)) if !l.is_empty() => {
                let values = pop_from(e, c.db, key, count, end);
                propagate::rewrite(e, &[pop_name(end), key, &i64_bytes(values.len() as i64)]);
                return Reply::Array(alloc::vec![Reply::bulk(key), bulk_array(values)]);
            }
            Ok(_) => {}
        }
    }
    Reply::NilArray
}

/// LMPOP numkeys key [key ...] LEFT | RIGHT [COUNT count]
fn lmpop(e: &mut Engine, c: &Ctx) -> Reply {
    lmpop_generic(e, c, 1, false)
}

/// BLMPOP timeout numkeys key [key ...] LEFT | RIGHT [COUNT count]
fn blmpop(e: &mut Engine, c: &Ctx) -> Reply {
    lmpop_generic(e, c, 2, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Changes count like Redis's server.dirty: one per element pushed, popped, set, inserted or removed.
    /// The figures are Redis 7.0.15's `rdb_changes_since_last_save` for the same commands on a fresh server.
    #[test]
    fn dirty_counts_like_redis() {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(0), e.connect(0));
        let run = |e: &mut Engine, client, line: &str| {
            let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            e.execute(client, &argv, 1)
        };
        let steps: &[(&[&str], u64)] = &[
            (&["RPUSH l a b c d e f"], 6),
            (&["LPOP l 2", "RPOP l"], 9),
            (&["LSET l 0 x", "LINSERT l BEFORE x y", "LREM l 0 y"], 12),
            (&["LTRIM l 1 1", "LMOVE l l2 LEFT LEFT"], 15),
            (&["RPUSH m 1 2 3", "LMPOP 1 m LEFT COUNT 2", "BLPOP m 0"], 21),
        ];
        for (lines, dirty) in steps {
            for line in *lines {
                run(&mut e, a, line);
            }
            assert_eq!(e.dirty, *dirty, "{lines:?}");
        }
        assert_eq!(run(&mut e, b, "BLMPOP 0 1 q LEFT COUNT 3"), None);
        run(&mut e, a, "RPUSH q 1 2");
        assert_eq!(e.dirty, 25);
        for line in ["LPOP missing", "LREM l2 1 zz", "LINSERT l2 BEFORE zz x", "LTRIM missing 0 1", "LPUSHX missing a"] {
            run(&mut e, a, line);
        }
        assert_eq!(e.dirty, 25);
    }

    #[test]
    fn ranges_clamp_like_redis() {
        assert_eq!(clamp_range(0, -1, 3), (0, 3));
        assert_eq!(clamp_range(-100, 100, 3), (0, 3));
        assert_eq!(clamp_range(2, 1, 3), (0, 0));
        assert_eq!(clamp_range(3, 5, 3), (0, 0));
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), (0, 3));
        assert_eq!(clamp_range(-1, -1, 3), (2, 1));
        assert_eq!(clamp_range(0, 0, 0), (0, 0));
    }

    #[test]
    fn indexes_resolve_from_either_end() {
        assert_eq!(resolve_index(0, 3), Some(0));
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
    }
}
