//! Hash commands (Redis's t_hash.c): lookup helpers first, then the commands in t_hash.c's order.

use alloc::vec;
use alloc::vec::Vec;

use super::keys::{parse_scan_cursor, parse_scan_options};
use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::glob::string_match;
use crate::ldouble;
use crate::notify::{self, notify};
use crate::reply::Reply;
use crate::types::hash::{Hash, Limits};
use crate::util::{eq_ic, i64_bytes, parse_i64};
use crate::value::{Entry, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("hsetnx", hsetnx),
    ("hset", hset),
    ("hmset", hmset),
    ("hincrby", hincrby),
    ("hincrbyfloat", hincrbyfloat),
    ("hget", hget),
    ("hmget", hmget),
    ("hdel", hdel),
    ("hlen", hlen),
    ("hstrlen", hstrlen),
    ("hkeys", hkeys),
    ("hvals", hvals),
    ("hgetall", hgetall),
    ("hexists", hexists),
    ("hscan", hscan),
    ("hrandfield", hrandfield),
];

/// The hash at `key` for reading (counts a keyspace hit or miss): `Ok(None)` when missing, WRONGTYPE for
/// other types.
pub(crate) fn read_hash<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e Hash>, Error> {
    match e.lookup_read(db, key) {
        None => Ok(None),
        Some(entry) => match &entry.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The hash at `key` for writing, created empty when missing (Redis's hashTypeLookupWriteOrCreate).
/// Callers check everything that can fail before calling this, or only fail on fields a new hash cannot
/// have, so an empty hash is never left behind.
fn hash_or_create<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<&'e mut Hash, Error> {
    let exists = match e.lookup_write(db, key) {
        None => false,
        Some(entry) if matches!(entry.value, Value::Hash(_)) => true,
        Some(_) => return Err(Error::WrongType),
    };
    if !exists {
        let seed = e.rng.next_u64();
        let entry = Entry::new(Value::Hash(Hash::new(seed).into()), e.now);
        e.db_mut(db).set(key, entry);
    }
    match e.entry_mut(db, key) {
        Some(Entry { value: Value::Hash(h), .. }) => Ok(h),
        _ => Err(Error::WrongType),
    }
}

/// The hash at `key` for writing without creating it: `Ok(None)` when missing.
fn write_hash<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e mut Hash>, Error> {
    match e.lookup_write(db, key) {
        None => Ok(None),
        Some(Entry { value: Value::Hash(h), .. }) => Ok(Some(h)),
        Some(_) => Err(Error::WrongType),
    }
}

/// The listpack limits from the configuration.
fn limits(e: &Engine) -> Limits {
    Limits { max_entries: e.config.hash_max_listpack_entries, max_value: e.config.hash_max_listpack_value }
}

/// HSETNX key field value
fn hsetnx(e: &mut Engine, c: &Ctx) -> Reply {
    let limits = limits(e);
    let h = match hash_or_create(e, c.db, c.arg(1)) {
        Ok(h) => h,
        Err(err) => return err.into(),
    };
    if h.contains(c.arg(2)) {
        return Reply::Integer(0);
    }
    h.set(c.arg(2), c.arg(3).to_vec(), limits);
    e.dirty += 1;
    notify(e, notify::HASH, "hset", c.arg(1), c.db);
    Reply::Integer(1)
}

/// HSET key field value [field value ...]
fn hset(e: &mut Engine, c: &Ctx) -> Reply {
    match hset_generic(e, c) {
        Ok(created) => Reply::Integer(created),
        Err(err) => err.into(),
    }
}

/// HMSET key field value [field value ...]
fn hmset(e: &mut Engine, c: &Ctx) -> Reply {
    match hset_generic(e, c) {
        Ok(_) => Reply::ok(),
        Err(err) => err.into(),
    }
}

/// The worker behind HSET and HMSET (Redis's hsetCommand serves both): sets every pair, returns how many
/// fields are new. The table's arity lets through any count from 4 on; an odd pair count is refused here.
fn hset_generic(e: &mut Engine, c: &Ctx) -> Result<i64, Error> {
    if c.argc() % 2 == 1 {
        return Err(Error::WrongArity(c.spec.name.into()));
    }
    let limits = limits(e);
    let h = hash_or_create(e, c.db, c.arg(1))?;
    h.prepare_for(c.argv.iter().skip(2).copied(), limits);
    let mut created = 0;
    for pair in c.argv.get(2..).unwrap_or_default().chunks_exact(2) {
        if let [field, value] = pair {
            created += h.set(field, value.to_vec(), limits) as i64;
        }
    }
    // Redis counts every pair written as a change, new or not.
    e.dirty += (c.argc() as u64 - 2) / 2;
    // Redis signals the key even when the value ends up the same (a WATCH sees a change).
    e.db_mut(c.db).signal_modified_key(c.arg(1));
    notify(e, notify::HASH, "hset", c.arg(1), c.db);
    Ok(created)
}

/// HINCRBY key field increment
fn hincrby(e: &mut Engine, c: &Ctx) -> Reply {
    let Some(incr) = parse_i64(c.arg(3)) else {
        return Error::NotInteger.into();
    };
    let limits = limits(e);
    let h = match hash_or_create(e, c.db, c.arg(1)) {
        Ok(h) => h,
        Err(err) => return err.into(),
    };
    let current = match h.get(c.arg(2)) {
        None => 0,
        Some(v) => match parse_i64(v) {
            Some(n) => n,
            None => return Error::other("ERR hash value is not an integer").into(),
        },
    };
    let Some(new) = current.checked_add(incr) else {
        return Error::Overflow.into();
    };
    h.set(c.arg(2), i64_bytes(new), limits);
    e.dirty += 1;
    // Redis signals the key even when the value ends up the same (a WATCH sees a change).
    e.db_mut(c.db).signal_modified_key(c.arg(1));
    notify(e, notify::HASH, "hincrby", c.arg(1), c.db);
    Reply::Integer(new)
}

/// HINCRBYFLOAT key field increment
fn hincrbyfloat(e: &mut Engine, c: &Ctx) -> Reply {
    // The increment is parsed and refused when infinite before the key is looked at; the sum is done in
    // 80-bit extended precision and printed as Redis's ld2string does (see `crate::ldouble`).
    let Some(incr) = ldouble::parse(c.arg(3)) else {
        return Error::NotFloat.into();
    };
    if !incr.is_finite() {
        return Error::other("ERR value is NaN or Infinity").into();
    }
    let limits = limits(e);
    let h = match hash_or_create(e, c.db, c.arg(1)) {
        Ok(h) => h,
        Err(err) => return err.into(),
    };
    let current = match h.get(c.arg(2)) {
        None => ldouble::LongDouble::ZERO,
        Some(v) => match ldouble::parse(v) {
            Some(n) => n,
            None => return Error::other("ERR hash value is not a float").into(),
        },
    };
    let Some(text) = ldouble::add(current, incr).to_human_string() else {
        return Error::IncrNanOrInf.into();
    };
    h.set(c.arg(2), text.clone(), limits);
    e.dirty += 1;
    // Propagated as the value it computed (HSET), so a replay cannot round differently.
    crate::propagate::rewrite(e, &[b"HSET", c.arg(1), c.arg(2), &text]);
    // Redis signals the key even when the value ends up the same (a WATCH sees a change).
    e.db_mut(c.db).signal_modified_key(c.arg(1));
    notify(e, notify::HASH, "hincrbyfloat", c.arg(1), c.db);
    Reply::Bulk(text)
}

/// HGET key field
fn hget(e: &mut Engine, c: &Ctx) -> Reply {
    match read_hash(e, c.db, c.arg(1)) {
        Ok(h) => h.and_then(|h| h.get(c.arg(2))).map_or(Reply::Nil, Reply::bulk),
        Err(err) => err.into(),
    }
}

/// HMGET key field [field ...]
fn hmget(e: &mut Engine, c: &Ctx) -> Reply {
    match read_hash(e, c.db, c.arg(1)) {
        Ok(h) => Reply::Array(
            c.argv.iter().skip(2).map(|f| h.and_then(|h| h.get(f)).map_or(Reply::Nil, Reply::bulk)).collect(),
        ),
        Err(err) => err.into(),
    }
}

/// HDEL key field [field ...]
fn hdel(e: &mut Engine, c: &Ctx) -> Reply {
    let h = match write_hash(e, c.db, c.arg(1)) {
        Ok(Some(h)) => h,
        Ok(None) => return Reply::Integer(0),
        Err(err) => return err.into(),
    };
    let mut deleted = 0;
    for field in c.argv.iter().skip(2) {
        deleted += h.remove(field) as i64;
        if h.is_empty() {
            break;
        }
    }
    let emptied = h.is_empty();
    if emptied {
        e.db_mut(c.db).remove(c.arg(1));
    }
    if deleted > 0 {
        notify(e, notify::HASH, "hdel", c.arg(1), c.db);
        if emptied {
            notify(e, notify::GENERIC, "del", c.arg(1), c.db);
        }
    }
    e.dirty += deleted as u64;
    Reply::Integer(deleted)
}

/// HLEN key
fn hlen(e: &mut Engine, c: &Ctx) -> Reply {
    match read_hash(e, c.db, c.arg(1)) {
        Ok(h) => Reply::Integer(h.map_or(0, |h| h.len() as i64)),
        Err(err) => err.into(),
    }
}

/// HSTRLEN key field
fn hstrlen(e: &mut Engine, c: &Ctx) -> Reply {
    match read_hash(e, c.db, c.arg(1)) {
        Ok(h) => Reply::Integer(h.and_then(|h| h.get(c.arg(2))).map_or(0, |v| v.len() as i64)),
        Err(err) => err.into(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GetAll {
    Keys,
    Values,
    Both,
}

/// The worker behind HKEYS, HVALS and HGETALL (Redis's genericHgetallCommand): fields, values, or both as
/// a map (a flat array in RESP2).
fn hgetall_generic(e: &mut Engine, c: &Ctx, what: GetAll) -> Reply {
    let h = match read_hash(e, c.db, c.arg(1)) {
        Ok(h) => h,
        Err(err) => return err.into(),
    };
    let pairs = h.into_iter().flat_map(|h| h.iter());
    match what {
        GetAll::Keys => Reply::Array(pairs.map(|(f, _)| Reply::bulk(f)).collect()),
        GetAll::Values => Reply::Array(pairs.map(|(_, v)| Reply::bulk(v)).collect()),
        GetAll::Both => Reply::Map(pairs.map(|(f, v)| (Reply::bulk(f), Reply::bulk(v))).collect()),
    }
}

/// HKEYS key
fn hkeys(e: &mut Engine, c: &Ctx) -> Reply {
    hgetall_generic(e, c, GetAll::Keys)
}

/// HVALS key
fn hvals(e: &mut Engine, c: &Ctx) -> Reply {
    hgetall_generic(e, c, GetAll::Values)
}

/// HGETALL key
fn hgetall(e: &mut Engine, c: &Ctx) -> Reply {
    hgetall_generic(e, c, GetAll::Both)
}

/// HEXISTS key field
fn hexists(e: &mut Engine, c: &Ctx) -> Reply {
    match read_hash(e, c.db, c.arg(1)) {
        Ok(h) => Reply::Integer(h.is_some_and(|h| h.contains(c.arg(2))) as i64),
        Err(err) => err.into(),
    }
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(e: &mut Engine, c: &Ctx) -> Reply {
    // Redis parses the cursor, then looks the key up, and only then parses the options: a missing key
    // answers an empty scan whatever the options say.
    let cursor = match parse_scan_cursor(c.arg(2)) {
        Ok(cur) => cur,
        Err(err) => return err.into(),
    };
    let h = match read_hash(e, c.db, c.arg(1)) {
        Ok(Some(h)) => h,
        Ok(None) => return scan_reply(0, Vec::new()),
        Err(err) => return err.into(),
    };
    let opts = match parse_scan_options(c, 3, false) {
        Ok(o) => o,
        Err(err) => return err.into(),
    };
    let mut found: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut cursor = cursor;
    if h.is_listpack() {
        // A listpack has no cursor: everything in one call, cursor 0.
        h.scan(0, |f, v| found.push((f.to_vec(), v.to_vec())));
        cursor = 0;
    } else {
        // As scanGenericCommand: buckets until COUNT pairs, at most COUNT*10 more buckets.
        let mut budget = opts.count.saturating_mul(10);
        loop {
            cursor = h.scan(cursor, |f, v| found.push((f.to_vec(), v.to_vec())));
            if cursor == 0 || budget == 0 || found.len() as u64 >= opts.count as u64 {
                break;
            }
            budget -= 1;
        }
    }
    let mut items = Vec::with_capacity(found.len() * 2);
    for (f, v) in found {
        if opts.pattern.is_some_and(|p| !string_match(p, &f, false)) {
            continue;
        }
        items.push(Reply::Bulk(f));
        items.push(Reply::Bulk(v));
    }
    scan_reply(cursor, items)
}

/// `[cursor, [items...]]`; Redis prints the unsigned cursor as a signed number.
fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::Bulk(i64_bytes(cursor as i64)), Reply::Array(items)])
}

/// The most fields a negative HRANDFIELD count may ask for. Redis has no such bound (it builds a reply of
/// any size, or dies trying); the engine refuses rather than exhaust the host's memory (a browser tab) on
/// one command. The same bound and text as SRANDMEMBER's.
const HRANDFIELD_MAX_REPEATS: u64 = 1 << 20;

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() == 2 {
        return match read_hash(e, c.db, c.arg(1)) {
            Ok(None) => Reply::Nil,
            Ok(Some(_)) => {
                let Engine { dbs, rng, .. } = e;
                let h = match dbs.get(c.db).and_then(|d| d.keys.get(c.arg(1))) {
                    Some(Entry { value: Value::Hash(h), .. }) => h,
                    _ => return Reply::Nil,
                };
                h.random(rng).map_or(Reply::Nil, |(f, _)| Reply::bulk(f))
            }
            Err(err) => err.into(),
        };
    }
    let count = match parse_i64(c.arg(2)) {
        Some(n) if n != i64::MIN => n,
        Some(_) => {
            return Error::other("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
                .into()
        }
        None => return Error::NotInteger.into(),
    };
    let withvalues = match c.argc() {
        3 => false,
        4 if eq_ic(c.arg(3), "withvalues") => true,
        _ => return Error::Syntax.into(),
    };
    // Redis bounds WITHVALUES counts so that twice the count still fits.
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Error::other("ERR value is out of range").into();
    }
    let resp3 = e.resp_of(c.client) >= 3;
    match read_hash(e, c.db, c.arg(1)) {
        Ok(Some(_)) => {}
        Ok(None) => return Reply::Array(Vec::new()),
        Err(err) => return err.into(),
    }
    if count < 0 && count.unsigned_abs() > HRANDFIELD_MAX_REPEATS {
        return Error::other("ERR value is out of range, value must between -1048576 and 9223372036854775807").into();
    }
    let Engine { dbs, rng, .. } = e;
    let Some(Entry { value: Value::Hash(h), .. }) = dbs.get(c.db).and_then(|d| d.keys.get(c.arg(1))) else {
        return Reply::Array(Vec::new());
    };
    let picks = random_fields(h, rng, count);
    let item = |(f, v): (&[u8], &[u8])| -> Vec<Reply> {
        match (withvalues, resp3) {
            (false, _) => vec![Reply::bulk(f)],
            (true, true) => vec![Reply::Array(vec![Reply::bulk(f), Reply::bulk(v)])],
            (true, false) => vec![Reply::bulk(f), Reply::bulk(v)],
        }
    };
    Reply::Array(picks.into_iter().flat_map(item).collect())
}

/// HRANDFIELD's choice (hrandfieldWithCountCommand): a negative count picks that many with repetition; a
/// count at least the size is the whole hash in its order; otherwise distinct fields, in listpack order for
/// a listpack (as lpRandomPairsUnique), by elimination when most of the hash is wanted, by drawing otherwise.
fn random_fields<'h>(h: &'h Hash, rng: &mut crate::util::Rng, count: i64) -> Vec<(&'h [u8], &'h [u8])> {
    let size = h.len() as u64;
    if count == 0 || size == 0 {
        return Vec::new();
    }
    if count < 0 {
        return (0..count.unsigned_abs()).filter_map(|_| h.random(rng)).collect();
    }
    let want = count as u64;
    if want >= size {
        return h.iter().collect();
    }
    if h.is_listpack() {
        // Selection sampling (Knuth's algorithm S): each field kept with probability needed/remaining.
        let mut needed = want;
        let mut remaining = size;
        let mut out = Vec::with_capacity(want as usize);
        for pair in h.iter() {
            if rng.below(remaining) < needed {
                out.push(pair);
                needed -= 1;
            }
            remaining -= 1;
        }
        return out;
    }
    if want.saturating_mul(3) > size {
        // Most of the hash: copy it and remove random fields until `want` remain.
        let mut all: Vec<_> = h.iter().collect();
        while all.len() as u64 > want {
            let i = rng.below(all.len() as u64) as usize;
            all.swap_remove(i);
        }
        return all;
    }
    // A small part: draw until `want` distinct fields.
    let mut seen = hashbrown::HashSet::new();
    let mut out = Vec::with_capacity(want as usize);
    while (out.len() as u64) < want {
        if let Some(pair) = h.random(rng) {
            if seen.insert(pair.0) {
                out.push(pair);
            }
        } else {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::ClientId;

    const T0: u64 = 1_700_000_000_000;

    fn run(e: &mut Engine, c: ClientId, args: &[&str]) -> Reply {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        e.execute(c, &argv, T0).unwrap_or(Reply::Nil)
    }

    #[test]
    fn hrandfield_refuses_repeats_it_could_not_hold() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(T0);
        run(&mut e, c, &["HSET", "h", "a", "1", "b", "2"]);
        let Reply::Array(picks) = run(&mut e, c, &["HRANDFIELD", "h", "-1048576"]) else { panic!("an array") };
        assert_eq!(picks.len(), 1 << 20);
        for args in [&["HRANDFIELD", "h", "-1048577"][..], &["HRANDFIELD", "h", "-9223372036854775807"]] {
            assert!(run(&mut e, c, args).is_error(), "{args:?}");
        }
        // A missing key answers empty first, as Redis does for any count.
        assert_eq!(run(&mut e, c, &["HRANDFIELD", "nokey", "-9223372036854775807"]), Reply::Array(Vec::new()));
    }

    #[test]
    fn random_fields_are_distinct_for_positive_counts() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(T0);
        let mut args = alloc::vec!["HSET", "big"];
        let names: Vec<alloc::string::String> = (0..300).map(|i| alloc::format!("f{i}")).collect();
        for n in &names {
            args.push(n);
            args.push("v");
        }
        run(&mut e, c, &args);
        run(&mut e, c, &["HSET", "big", "long", &"x".repeat(100)]);
        for count in ["1", "50", "150", "299", "301", "1000"] {
            let Reply::Array(picks) = run(&mut e, c, &["HRANDFIELD", "big", count]) else { panic!("an array") };
            let want = count.parse::<usize>().unwrap_or(0).min(301);
            assert_eq!(picks.len(), want, "count {count}");
            let mut seen: Vec<_> = picks.iter().map(|r| alloc::format!("{r:?}")).collect();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), want, "distinct for count {count}");
        }
    }

    #[test]
    fn hscan_of_a_hashtable_visits_every_field_while_it_changes() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(T0);
        for i in 0..600 {
            run(&mut e, c, &["HSET", "h", &alloc::format!("f{i}"), "v"]);
        }
        let mut seen = alloc::collections::BTreeSet::new();
        let mut cursor = alloc::string::String::from("0");
        let mut calls = 0;
        loop {
            let Reply::Array(parts) = run(&mut e, c, &["HSCAN", "h", &cursor, "COUNT", "7"]) else { panic!("an array") };
            let [Reply::Bulk(next), Reply::Array(items)] = parts.as_slice() else { panic!("cursor and items") };
            for pair in items.chunks(2) {
                if let [Reply::Bulk(f), Reply::Bulk(_)] = pair {
                    seen.insert(f.clone());
                }
            }
            // Fields added and removed during the scan must not hide the ones present throughout.
            calls += 1;
            run(&mut e, c, &["HSET", "h", &alloc::format!("new{calls}"), "v"]);
            run(&mut e, c, &["HDEL", "h", &alloc::format!("new{}", calls.max(2) - 1)]);
            cursor = alloc::string::String::from_utf8_lossy(next).into_owned();
            if cursor == "0" {
                break;
            }
        }
        for i in 0..600 {
            assert!(seen.contains(alloc::format!("f{i}").as_bytes()), "f{i} missed");
        }
    }
}
