//! Keyspace commands (Redis's db.c, expire.c and OBJECT from object.c).
//!
//! Which lookup each command does matters, because it is observable: `lookupKeyRead` counts a keyspace hit
//! or miss (INFO stats) and touches the key (OBJECT IDLETIME / FREQ), `LOOKUP_NOTOUCH` counts without touching,
//! `lookupKeyWrite` touches without counting. Every handler below names the lookup Redis 7.0 uses.

use alloc::vec::Vec;

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::glob::{is_literal, matches_everything, string_match};
use crate::notify::{self, notify};
use crate::propagate;
use crate::reply::Reply;
use crate::util::{eq_ic, parse_i64};
use crate::value::{Entry, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("del", del),
    ("unlink", unlink),
    ("exists", exists),
    ("type", type_cmd),
    ("touch", touch),
    ("expire", expire),
    ("pexpire", pexpire),
    ("expireat", expireat),
    ("pexpireat", pexpireat),
    ("ttl", ttl),
    ("pttl", pttl),
    ("expiretime", expiretime),
    ("pexpiretime", pexpiretime),
    ("persist", persist),
    ("keys", keys),
    ("scan", scan),
    ("randomkey", randomkey),
    ("rename", rename),
    ("renamenx", renamenx),
    ("move", move_cmd),
    ("copy", copy),
    ("object|encoding", object_encoding),
    ("object|freq", object_freq),
    ("object|idletime", object_idletime),
    ("object|refcount", object_refcount),
    ("object|help", object_help),
    ("dump", dump),
    ("restore", restore),
];


/// Redis's `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`: expires the key if due and counts a keyspace hit or miss
/// (a miss is a `keymiss` event), but leaves its access time alone. True when the key exists.
fn lookup_notouch(e: &mut Engine, db: usize, key: &[u8]) -> bool {
    let found = lookup_notouch_nonotify(e, db, key);
    if !found {
        notify(e, notify::KEY_MISS, "keymiss", key, db);
    }
    found
}

/// `lookup_notouch` without the `keymiss` event (LOOKUP_NOTOUCH|LOOKUP_NONOTIFY), for OBJECT.
fn lookup_notouch_nonotify(e: &mut Engine, db: usize, key: &[u8]) -> bool {
    e.expire_if_needed(db, key);
    let found = e.db(db).keys.contains_key(key);
    if found {
        e.stats.keyspace_hits += 1;
    } else {
        e.stats.keyspace_misses += 1;
    }
    found
}

/// Redis's `getIntFromObjectOrReply`: a 64-bit integer that must also fit in a C `int`.
pub(crate) fn parse_int_arg(arg: &[u8]) -> Result<i32, Error> {
    let v = parse_i64(arg).ok_or(Error::NotInteger)?;
    i32::try_from(v).map_err(|_| Error::other("ERR value is out of range, value must between -2147483648 and 2147483647"))
}

/// DEL key [key ...]
fn del(e: &mut Engine, c: &Ctx) -> Reply {
    del_generic(e, c)
}

/// UNLINK key [key ...]
fn unlink(e: &mut Engine, c: &Ctx) -> Reply {
    // UNLINK differs from DEL only in freeing memory in the background, which has no meaning here.
    del_generic(e, c)
}

/// The worker behind DEL and UNLINK (delGenericCommand): an expired key is expired first (counted as expired,
/// not as deleted); repeated keys are deleted once.
fn del_generic(e: &mut Engine, c: &Ctx) -> Reply {
    let mut n = 0;
    for key in c.argv.iter().skip(1) {
        e.expire_if_needed(c.db, key);
        if e.db_mut(c.db).remove(key).is_some() {
            n += 1;
            notify(e, notify::GENERIC, "del", key, c.db);
        }
    }
    e.dirty += n as u64;
    Reply::Integer(n)
}

/// EXISTS key [key ...]
fn exists(e: &mut Engine, c: &Ctx) -> Reply {
    // Each argument is looked up on its own, so a key named twice counts twice.
    let n = c.argv.iter().skip(1).filter(|key| lookup_notouch(e, c.db, key)).count();
    Reply::Integer(n as i64)
}

/// TYPE key
fn type_cmd(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    let name = if lookup_notouch(e, c.db, key) {
        e.db(c.db).keys.get(key).map_or("none", |entry| entry.value.type_name())
    } else {
        "none"
    };
    Reply::status(name)
}

/// TOUCH key [key ...]
fn touch(e: &mut Engine, c: &Ctx) -> Reply {
    // A full read lookup: counts hits and misses and updates the access time (and LFU counter).
    let n = c.argv.iter().skip(1).filter(|key| e.lookup_read(c.db, key).is_some()).count();
    Reply::Integer(n as i64)
}

/// EXPIRE key seconds [NX | XX | GT | LT]
fn expire(e: &mut Engine, c: &Ctx) -> Reply {
    let now = e.now as i64;
    expire_generic(e, c, now, Unit::Seconds)
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
fn pexpire(e: &mut Engine, c: &Ctx) -> Reply {
    let now = e.now as i64;
    expire_generic(e, c, now, Unit::Millis)
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
fn expireat(e: &mut Engine, c: &Ctx) -> Reply {
    expire_generic(e, c, 0, Unit::Seconds)
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
fn pexpireat(e: &mut Engine, c: &Ctx) -> Reply {
    expire_generic(e, c, 0, Unit::Millis)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// Conditions of the EXPIRE family, as bit flags like Redis's EXPIRE_NX...
mod expire_flag {
    pub const NX: u8 = 1 << 0;
    pub const XX: u8 = 1 << 1;
    pub const GT: u8 = 1 << 2;
    pub const LT: u8 = 1 << 3;
}

/// Redis's parseExtendedExpireArgumentsOrReply: any order, repeats allowed, then the incompatible pairs.
fn parse_expire_flags(c: &Ctx) -> Result<u8, Error> {
    use expire_flag::*;
    let mut flags = 0;
    for arg in c.argv.iter().skip(3) {
        flags |= if eq_ic(arg, "nx") {
            NX
        } else if eq_ic(arg, "xx") {
            XX
        } else if eq_ic(arg, "gt") {
            GT
        } else if eq_ic(arg, "lt") {
            LT
        } else {
            // Redis formats the option with %s, so the text stops at a NUL byte.
            let shown = arg.split(|&b| b == 0).next().unwrap_or(b"");
            return Err(Error::Other(alloc::format!("ERR Unsupported option {}", crate::error::lossy(shown, usize::MAX))));
        };
    }
    if flags & NX != 0 && flags & (XX | GT | LT) != 0 {
        return Err(Error::other("ERR NX and XX, GT or LT options at the same time are not compatible"));
    }
    if flags & GT != 0 && flags & LT != 0 {
        return Err(Error::other("ERR GT and LT options at the same time are not compatible"));
    }
    Ok(flags)
}

/// The worker behind EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT (expireGenericCommand).
/// `basetime` is now for the relative forms and 0 for the absolute ones; the argument may be negative.
/// A time already past deletes the key and replies 1 (a deletion, not counted as an expired key).
fn expire_generic(e: &mut Engine, c: &Ctx, basetime: i64, unit: Unit) -> Reply {
    use expire_flag::*;
    let invalid = || Reply::Error(Error::InvalidExpireTime(c.spec.name));
    let flags = match parse_expire_flags(c) {
        Ok(f) => f,
        Err(err) => return err.into(),
    };
    let Some(mut when) = parse_i64(c.arg(2)) else {
        return Error::NotInteger.into();
    };
    if unit == Unit::Seconds {
        // Rust's division truncates toward zero as C's does, so these are Redis's LLONG_MAX/1000 bounds.
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return invalid();
        }
        when *= 1000;
    }
    if when > i64::MAX - basetime {
        return invalid();
    }
    when += basetime;

    let key = c.arg(1);
    if e.lookup_write(c.db, key).is_none() {
        return Reply::Integer(0);
    }
    let current = e.db(c.db).expire_of(key).map_or(-1, |t| t as i64);
    // A key without expiry counts as living forever: GT never passes, LT always does.
    let refused = (flags & NX != 0 && current != -1)
        || (flags & XX != 0 && current == -1)
        || (flags & GT != 0 && (when <= current || current == -1))
        || (flags & LT != 0 && current != -1 && when >= current);
    if refused {
        return Reply::Integer(0);
    }
    // checkAlreadyExpired: compared with the clock, whatever the form (never while loading an AOF).
    let now = e.now as i64;
    let loading = e.loading;
    let db = e.db_mut(c.db);
    let event = if when <= now && !loading {
        db.remove(key);
        propagate::rewrite(e, &[b"DEL", key]);
        "del"
    } else {
        db.set_expire(key, when as u64);
        // Every form propagates as PEXPIREAT with the absolute time, its flags (NX, GT...) kept.
        if e.propagation_enabled() {
            let when = crate::util::i64_bytes(when);
            let mut argv: Vec<&[u8]> = alloc::vec![b"PEXPIREAT", key, &when];
            argv.extend(c.argv.get(3..).unwrap_or_default());
            propagate::rewrite(e, &argv);
        }
        "expire"
    };
    e.dirty += 1;
    notify(e, notify::GENERIC, event, key, c.db);
    Reply::Integer(1)
}

/// TTL key
fn ttl(e: &mut Engine, c: &Ctx) -> Reply {
    ttl_generic(e, c, false, false)
}

/// PTTL key
fn pttl(e: &mut Engine, c: &Ctx) -> Reply {
    ttl_generic(e, c, true, false)
}

/// EXPIRETIME key
fn expiretime(e: &mut Engine, c: &Ctx) -> Reply {
    ttl_generic(e, c, false, true)
}

/// PEXPIRETIME key
fn pexpiretime(e: &mut Engine, c: &Ctx) -> Reply {
    ttl_generic(e, c, true, true)
}

/// The worker behind TTL, PTTL, EXPIRETIME and PEXPIRETIME (ttlGenericCommand): -2 for a missing key,
/// -1 without expiry, else the remaining (or absolute) time, never below 0, seconds rounded to nearest.
fn ttl_generic(e: &mut Engine, c: &Ctx, millis: bool, absolute: bool) -> Reply {
    let key = c.arg(1);
    if !lookup_notouch(e, c.db, key) {
        return Reply::Integer(-2);
    }
    let Some(when) = e.db(c.db).expire_of(key) else {
        return Reply::Integer(-1);
    };
    let left = if absolute { when } else { when.saturating_sub(e.now) };
    // Unsigned arithmetic gives what Redis's compiled `(ttl+500)/1000` gives even for times near LLONG_MAX.
    let shown = if millis { left } else { left.saturating_add(500) / 1000 };
    Reply::Integer(shown.min(i64::MAX as u64) as i64)
}

/// PERSIST key
fn persist(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    if e.lookup_write(c.db, key).is_none() || !e.db_mut(c.db).persist(key) {
        return Reply::Integer(0);
    }
    e.dirty += 1;
    notify(e, notify::GENERIC, "persist", key, c.db);
    Reply::Integer(1)
}

/// KEYS pattern
fn keys(e: &mut Engine, c: &Ctx) -> Reply {
    let pattern = c.arg(1);
    let now = e.now;
    let db = e.db(c.db);
    // A pattern without glob syntax matches only itself: one lookup instead of a walk, same reply.
    if is_literal(pattern) {
        let found = db.keys.contains_key(pattern) && !db.is_expired(pattern, now);
        return Reply::Array(if found { alloc::vec![Reply::bulk(pattern)] } else { Vec::new() });
    }
    // Redis short-circuits the exact pattern `*` (the matcher itself never matches an empty key).
    let all = matches_everything(pattern);
    // Redis 7.0 only skips logically expired keys here; it does not delete them.
    let found = db
        .keys
        .iter()
        .filter(|(k, _)| all || string_match(pattern, k, false))
        .filter(|(k, _)| !db.is_expired(k, now))
        .map(|(k, _)| Reply::bulk(k))
        .collect();
    Reply::Array(found)
}

/// Parses a SCAN-family cursor as Redis's parseScanCursorOrReply does with `strtoul(s, &end, 10)`:
/// an optional sign (a `-` negates modulo 2^64), decimal digits, nothing else; the empty string is cursor 0.
pub(crate) fn parse_scan_cursor(arg: &[u8]) -> Result<u64, Error> {
    let (negative, digits) = match arg.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // strtoul converts nothing and leaves the end pointer at the start: valid only for "".
        return if arg.is_empty() { Ok(0) } else { Err(Error::InvalidCursor) };
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(Error::InvalidCursor);
        }
        v = v.checked_mul(10).and_then(|v| v.checked_add((d - b'0') as u64)).ok_or(Error::InvalidCursor)?;
    }
    Ok(if negative { v.wrapping_neg() } else { v })
}

/// The options of SCAN, HSCAN, SSCAN and ZSCAN (scanGenericCommand's step 1).
pub(crate) struct ScanOptions<'a> {
    pub count: i64,
    /// None when absent or exactly `*` (which matches everything).
    pub pattern: Option<&'a [u8]>,
    pub type_name: Option<&'a [u8]>,
}

/// Parses `[MATCH pattern] [COUNT count] [TYPE type]` from argument `start` on; TYPE only when `allow_type`
/// (the keyspace SCAN). Later repeats win; COUNT below 1 is a syntax error.
pub(crate) fn parse_scan_options<'a>(c: &Ctx<'a>, start: usize, allow_type: bool) -> Result<ScanOptions<'a>, Error> {
    let mut opts = ScanOptions { count: 10, pattern: None, type_name: None };
    let mut i = start;
    while i < c.argc() {
        let arg = c.argv.get(i).copied().unwrap_or(b"");
        let Some(value) = c.argv.get(i + 1).copied() else {
            return Err(Error::Syntax);
        };
        if eq_ic(arg, "count") {
            opts.count = parse_i64(value).ok_or(Error::NotInteger)?;
            if opts.count < 1 {
                return Err(Error::Syntax);
            }
        } else if eq_ic(arg, "match") {
            opts.pattern = if matches_everything(value) { None } else { Some(value) };
        } else if eq_ic(arg, "type") && allow_type {
            opts.type_name = Some(value);
        } else {
            return Err(Error::Syntax);
        }
        i += 2;
    }
    Ok(opts)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(e: &mut Engine, c: &Ctx) -> Reply {
    let cursor = match parse_scan_cursor(c.arg(1)) {
        Ok(cur) => cur,
        Err(err) => return err.into(),
    };
    let opts = match parse_scan_options(c, 2, true) {
        Ok(o) => o,
        Err(err) => return err.into(),
    };
    // Step 2: visit buckets until COUNT keys are collected, giving up after COUNT*10 more buckets so a
    // sparse table cannot stall the call.
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut cursor = cursor;
    let mut budget = opts.count.saturating_mul(10);
    let dict = &e.db(c.db).keys;
    loop {
        cursor = dict.scan(cursor, |k, _| found.push(k.to_vec()));
        if cursor == 0 || budget == 0 || found.len() as u64 >= opts.count as u64 {
            break;
        }
        budget -= 1;
    }
    // Step 3: filter by pattern, then type (a full NOTOUCH read lookup per key: it counts hits and misses
    // and expires the key, which then reads as type "none"), then expiry.
    let mut keys = Vec::with_capacity(found.len());
    for key in found {
        if opts.pattern.is_some_and(|p| !string_match(p, &key, false)) {
            continue;
        }
        if let Some(wanted) = opts.type_name {
            let name = if lookup_notouch(e, c.db, &key) {
                e.db(c.db).keys.get(&key).map_or("none", |entry| entry.value.type_name())
            } else {
                "none"
            };
            if !wanted.eq_ignore_ascii_case(name.as_bytes()) {
                continue;
            }
        }
        if e.expire_if_needed(c.db, &key) {
            continue;
        }
        keys.push(Reply::Bulk(key));
    }
    // Redis replies the unsigned cursor through addReplyBulkLongLong, i.e. as a signed number.
    Reply::Array(alloc::vec![Reply::Bulk(crate::util::i64_bytes(cursor as i64)), Reply::Array(keys)])
}

/// RANDOMKEY
fn randomkey(e: &mut Engine, c: &Ctx) -> Reply {
    // dbRandomKey: a random key that turns out expired is deleted and another one drawn.
    loop {
        let picked = e.dbs.get(c.db).and_then(|db| db.keys.random(&mut e.rng)).map(|(k, _)| k.to_vec());
        let Some(key) = picked else {
            return Reply::Nil;
        };
        if !e.expire_if_needed(c.db, &key) {
            return Reply::Bulk(key);
        }
    }
}

/// RENAME key newkey
fn rename(e: &mut Engine, c: &Ctx) -> Reply {
    rename_generic(e, c, false)
}

/// RENAMENX key newkey
fn renamenx(e: &mut Engine, c: &Ctx) -> Reply {
    rename_generic(e, c, true)
}

/// The worker behind RENAME and RENAMENX (renameGenericCommand). The value moves with its expiry and its
/// access time; renaming a key onto itself checks only that it exists.
fn rename_generic(e: &mut Engine, c: &Ctx, nx: bool) -> Reply {
    let (src, dst) = (c.arg(1), c.arg(2));
    if e.lookup_write(c.db, src).is_none() {
        return Error::NoSuchKey.into();
    }
    if src == dst {
        return if nx { Reply::Integer(0) } else { Reply::ok() };
    }
    if e.lookup_write(c.db, dst).is_some() && nx {
        return Reply::Integer(0);
    }
    let db = e.db_mut(c.db);
    let expire = db.expire_of(src);
    let Some(entry) = db.remove(src) else {
        return Error::NoSuchKey.into();
    };
    // Deleted then added, as Redis does: a new key wakes clients blocked on it (Db::set).
    db.remove(dst);
    db.set(dst, entry);
    if let Some(when) = expire {
        db.set_expire(dst, when);
    }
    e.dirty += 1;
    notify(e, notify::GENERIC, "rename_from", src, c.db);
    notify(e, notify::GENERIC, "rename_to", dst, c.db);
    if nx {
        Reply::Integer(1)
    } else {
        Reply::ok()
    }
}

/// The database index argument of MOVE and COPY ... DB: an int, then a database that exists.
fn parse_db_index(e: &Engine, arg: &[u8]) -> Result<usize, Error> {
    let id = parse_int_arg(arg)?;
    usize::try_from(id).ok().filter(|&i| i < e.dbs.len()).ok_or(Error::DbIndexOutOfRange)
}

/// MOVE key db
fn move_cmd(e: &mut Engine, c: &Ctx) -> Reply {
    let dst_db = match parse_db_index(e, c.arg(2)) {
        Ok(i) => i,
        Err(err) => return err.into(),
    };
    if dst_db == c.db {
        return Error::SameObject.into();
    }
    let key = c.arg(1);
    if e.lookup_write(c.db, key).is_none() || e.lookup_write(dst_db, key).is_some() {
        return Reply::Integer(0);
    }
    let src = e.db_mut(c.db);
    let expire = src.expire_of(key);
    let Some(entry) = src.remove(key) else {
        return Reply::Integer(0);
    };
    let dst = e.db_mut(dst_db);
    dst.set(key, entry);
    if let Some(when) = expire {
        dst.set_expire(key, when);
    }
    e.dirty += 1;
    notify(e, notify::GENERIC, "move_from", key, c.db);
    notify(e, notify::GENERIC, "move_to", key, dst_db);
    Reply::Integer(1)
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(e: &mut Engine, c: &Ctx) -> Reply {
    let mut dst_db = c.db;
    let mut replace = false;
    let mut j = 3;
    while j < c.argc() {
        let arg = c.arg(j);
        if eq_ic(arg, "replace") {
            replace = true;
        } else if eq_ic(arg, "db") && j + 1 < c.argc() {
            dst_db = match parse_db_index(e, c.arg(j + 1)) {
                Ok(i) => i,
                Err(err) => return err.into(),
            };
            j += 1;
        } else {
            return Error::Syntax.into();
        }
        j += 1;
    }
    let (src, dst) = (c.arg(1), c.arg(2));
    if dst_db == c.db && src == dst {
        return Error::SameObject.into();
    }
    // COPY reads its source with a full read lookup (a hit or miss, and a touch).
    let Some(entry) = e.lookup_read(c.db, src) else {
        return Reply::Integer(0);
    };
    let mut value = entry.value.clone();
    if e.lookup_write(dst_db, dst).is_some() && !replace {
        return Reply::Integer(0);
    }
    // The copy is a new object (dupStringObject and friends): same encoding, fresh access time and LFU
    // counter, and never a shared integer.
    #[allow(irrefutable_let_patterns)] // Value has more variants as the other types land.
    if let Value::Str(s) = &mut value {
        s.unshared = true;
    }
    let expire = e.db(c.db).expire_of(src);
    let now = e.now;
    let db = e.db_mut(dst_db);
    // Deleted then added, as Redis does: a new key wakes clients blocked on it (Db::set).
    db.remove(dst);
    db.set(dst, Entry::new(value, now));
    if let Some(when) = expire {
        db.set_expire(dst, when);
    }
    e.dirty += 1;
    notify(e, notify::GENERIC, "copy_to", dst, dst_db);
    Reply::Integer(1)
}

/// DUMP key
fn dump(e: &mut Engine, c: &Ctx) -> Reply {
    match e.lookup_read(c.db, c.arg(1)) {
        Some(entry) => Reply::Bulk(crate::rdb::dump_value(&entry.value)),
        None => Reply::Nil,
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(e: &mut Engine, c: &Ctx) -> Reply {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<u64>, Option<u8>) = (None, None);
    let mut j = 4;
    while j < c.argc() {
        let arg = c.arg(j);
        let more = j + 1 < c.argc();
        if eq_ic(arg, "replace") {
            replace = true;
        } else if eq_ic(arg, "absttl") {
            absttl = true;
        } else if eq_ic(arg, "idletime") && more && freq.is_none() {
            let Some(v) = parse_i64(c.arg(j + 1)) else { return Error::NotInteger.into() };
            if v < 0 {
                return Error::other("ERR Invalid IDLETIME value, must be >= 0").into();
            }
            idle = Some(v as u64);
            j += 1;
        } else if eq_ic(arg, "freq") && more && idle.is_none() {
            let Some(v) = parse_i64(c.arg(j + 1)) else { return Error::NotInteger.into() };
            if !(0..=255).contains(&v) {
                return Error::other("ERR Invalid FREQ value, must be >= 0 and <= 255").into();
            }
            freq = Some(v as u8);
            j += 1;
        } else {
            return Error::Syntax.into();
        }
        j += 1;
    }
    let key = c.arg(1);
    if !replace && e.lookup_write(c.db, key).is_some() {
        return Error::other("BUSYKEY Target key name already exists.").into();
    }
    let Some(ttl) = parse_i64(c.arg(2)) else { return Error::NotInteger.into() };
    if ttl < 0 {
        return Error::other("ERR Invalid TTL value, must be >= 0").into();
    }
    let value = match crate::rdb::restore_value(e, c.arg(3)) {
        Ok(v) => v,
        Err(crate::rdb::RestoreError::VersionOrChecksum) => {
            return Error::other("ERR DUMP payload version or checksum are wrong").into()
        }
        Err(crate::rdb::RestoreError::BadData) => return Error::other("ERR Bad data format").into(),
    };
    let now = e.now;
    let deleted = replace && e.db_mut(c.db).remove(key).is_some();
    let when = if ttl != 0 && !absttl { ttl.saturating_add(now as i64) } else { ttl };
    // A time already past: the value is not added (a replaced key is just gone), as checkAlreadyExpired
    // (which never holds while loading an AOF).
    if when != 0 && when <= now as i64 && !e.loading {
        if deleted {
            e.dirty += 1;
            propagate::rewrite(e, &[b"DEL", key]);
            notify(e, notify::GENERIC, "del", key, c.db);
        }
        return Reply::ok();
    }
    let mut entry = Entry::new(value, now);
    crate::rdb::apply_lru_lfu(&mut entry, e.lfu_policy(), freq, idle, now);
    let db = e.db_mut(c.db);
    db.set(key, entry);
    if when != 0 {
        db.set_expire(key, when as u64);
        // A relative TTL propagates as the absolute time it gave, with ABSTTL added.
        if !absttl && e.propagation_enabled() {
            let when = crate::util::i64_bytes(when);
            let mut argv: Vec<&[u8]> = c.argv.to_vec();
            if let Some(ttl_arg) = argv.get_mut(2) {
                *ttl_arg = &when;
            }
            argv.push(b"ABSTTL");
            propagate::rewrite(e, &argv);
        }
    }
    e.dirty += 1;
    notify(e, notify::GENERIC, "restore", key, c.db);
    Reply::ok()
}

/// OBJECT's lookup (objectCommandLookup): NOTOUCH, so asking about a key does not change its idle time.
fn object_lookup<'e>(e: &'e mut Engine, c: &Ctx) -> Option<&'e Entry> {
    let key = c.arg(2);
    if lookup_notouch_nonotify(e, c.db, key) {
        e.db(c.db).keys.get(key)
    } else {
        None
    }
}

/// OBJECT ENCODING key
fn object_encoding(e: &mut Engine, c: &Ctx) -> Reply {
    match object_lookup(e, c) {
        Some(entry) => Reply::bulk_str(entry.value.encoding_name()),
        None => Reply::Nil,
    }
}

/// OBJECT REFCOUNT key
fn object_refcount(e: &mut Engine, c: &Ctx) -> Reply {
    let sharing = e.config.shared_integers();
    match object_lookup(e, c) {
        Some(entry) => Reply::Integer(crate::value::refcount(&entry.value, sharing)),
        None => Reply::Nil,
    }
}

/// OBJECT IDLETIME key
fn object_idletime(e: &mut Engine, c: &Ctx) -> Reply {
    let (now, lfu) = (e.now, e.lfu_policy());
    match object_lookup(e, c) {
        None => Reply::Nil,
        Some(_) if lfu => Error::other(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        )
        .into(),
        // Redis's LRU clock ticks in whole seconds, so idle time is the difference of the truncated seconds.
        Some(entry) => Reply::Integer((now / 1000).saturating_sub(entry.lru_ms / 1000) as i64),
    }
}

/// OBJECT FREQ key
fn object_freq(e: &mut Engine, c: &Ctx) -> Reply {
    let (now, lfu, decay) = (e.now, e.lfu_policy(), e.config.lfu_decay_time);
    match object_lookup(e, c) {
        None => Reply::Nil,
        Some(entry) if lfu => Reply::Integer(entry.lfu_decayed(now, decay) as i64),
        Some(_) => Error::other(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        )
        .into(),
    }
}

/// OBJECT HELP
fn object_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(LINES.iter().map(|l| Reply::status(l)).collect())
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

    fn run(e: &mut Engine, c: ClientId, now: u64, args: &[&str]) -> Reply {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        e.execute(c, &argv, now).unwrap_or(Reply::Nil)
    }

    fn engine() -> (Engine, ClientId) {
        let mut e = Engine::new(Config::default());
        let c = e.connect(T0);
        (e, c)
    }

    #[test]
    fn a_clock_moved_forward_expires_keys_lazily() {
        let (mut e, c) = engine();
        assert_eq!(run(&mut e, c, T0, &["SET", "k", "v", "PX", "1500"]), Reply::ok());
        assert_eq!(run(&mut e, c, T0 + 400, &["TTL", "k"]), Reply::Integer(1));
        assert_eq!(run(&mut e, c, T0 + 1500, &["PTTL", "k"]), Reply::Integer(0));
        // The key lives through its own millisecond, and is gone the one after.
        assert_eq!(e.stats.expired_keys, 0);
        assert_eq!(run(&mut e, c, T0 + 1501, &["TTL", "k"]), Reply::Integer(-2));
        assert!(e.db(0).keys.get(b"k").is_none());
        assert_eq!(e.stats.expired_keys, 1);
        assert_eq!(e.stats.keyspace_misses, 1);
        assert_eq!(run(&mut e, c, T0 + 1502, &["EXISTS", "k"]), Reply::Integer(0));
        assert_eq!(e.stats.expired_keys, 1);
    }

    #[test]
    fn tick_expires_keys_without_any_access() {
        let (mut e, c) = engine();
        for i in 0..50 {
            let key = alloc::format!("volatile:{i}");
            run(&mut e, c, T0, &["SET", &key, "v", "PX", "100"]);
        }
        run(&mut e, c, T0, &["SET", "stays", "v"]);
        run(&mut e, c, T0, &["SET", "later", "v", "PX", "100000"]);
        assert_eq!(e.db(0).len(), 52);
        e.tick(T0 + 50);
        assert_eq!(e.db(0).len(), 52);
        for step in 1..=20 {
            e.tick(T0 + 200 + step);
        }
        assert_eq!(e.db(0).len(), 2);
        assert_eq!(e.stats.expired_keys, 50);
        assert_eq!(e.stats.keyspace_hits + e.stats.keyspace_misses, 0);
        assert_eq!(run(&mut e, c, T0 + 300, &["TTL", "later"]), Reply::Integer(100));
    }

    #[test]
    fn expire_in_the_past_deletes_without_counting_an_expiration() {
        let (mut e, c) = engine();
        run(&mut e, c, T0, &["SET", "k", "v"]);
        assert_eq!(run(&mut e, c, T0, &["EXPIRE", "k", "-1"]), Reply::Integer(1));
        assert_eq!(run(&mut e, c, T0, &["EXISTS", "k"]), Reply::Integer(0));
        run(&mut e, c, T0, &["SET", "k", "v"]);
        // PEXPIREAT at exactly now is already past for checkAlreadyExpired.
        assert_eq!(run(&mut e, c, T0, &["PEXPIREAT", "k", &alloc::format!("{T0}")]), Reply::Integer(1));
        assert_eq!(run(&mut e, c, T0, &["EXISTS", "k"]), Reply::Integer(0));
        assert_eq!(e.stats.expired_keys, 0);
    }

    #[test]
    fn ttl_rounds_to_the_nearest_second() {
        let (mut e, c) = engine();
        run(&mut e, c, T0, &["SET", "k", "v", "PX", "10000"]);
        assert_eq!(run(&mut e, c, T0 + 500, &["TTL", "k"]), Reply::Integer(10));
        assert_eq!(run(&mut e, c, T0 + 501, &["TTL", "k"]), Reply::Integer(9));
        assert_eq!(run(&mut e, c, T0 + 9600, &["TTL", "k"]), Reply::Integer(0));
        assert_eq!(run(&mut e, c, T0 + 9600, &["PEXPIRETIME", "k"]), Reply::Integer((T0 + 10000) as i64));
    }

    #[test]
    fn rename_carries_the_expiry_along() {
        let (mut e, c) = engine();
        run(&mut e, c, T0, &["SET", "a", "v", "PX", "1000"]);
        assert_eq!(run(&mut e, c, T0, &["RENAME", "a", "b"]), Reply::ok());
        assert_eq!(run(&mut e, c, T0 + 1001, &["EXISTS", "b"]), Reply::Integer(0));
        assert_eq!(e.stats.expired_keys, 1);
    }

    #[test]
    fn idle_time_follows_the_callers_clock() {
        let (mut e, c) = engine();
        run(&mut e, c, T0, &["SET", "k", "v"]);
        assert_eq!(run(&mut e, c, T0 + 65_000, &["OBJECT", "IDLETIME", "k"]), Reply::Integer(65));
        // OBJECT does not touch the key; GET does.
        assert_eq!(run(&mut e, c, T0 + 70_000, &["OBJECT", "IDLETIME", "k"]), Reply::Integer(70));
        run(&mut e, c, T0 + 70_000, &["GET", "k"]);
        assert_eq!(run(&mut e, c, T0 + 72_000, &["OBJECT", "IDLETIME", "k"]), Reply::Integer(2));
    }

    #[test]
    fn lfu_counter_grows_on_access_and_decays_with_time() {
        let mut e = Engine::new(Config { maxmemory_policy: "allkeys-lfu".into(), ..Config::default() });
        let c = e.connect(T0);
        run(&mut e, c, T0, &["SET", "k", "v"]);
        assert_eq!(run(&mut e, c, T0, &["OBJECT", "FREQ", "k"]), Reply::Integer(5));
        run(&mut e, c, T0, &["GET", "k"]);
        assert_eq!(run(&mut e, c, T0, &["OBJECT", "FREQ", "k"]), Reply::Integer(6));
        // lfu-decay-time 1: one less per minute without access.
        assert_eq!(run(&mut e, c, T0 + 3 * 60_000, &["OBJECT", "FREQ", "k"]), Reply::Integer(3));
        assert!(run(&mut e, c, T0, &["OBJECT", "IDLETIME", "k"]).is_error());
    }

    #[test]
    fn scan_with_a_small_count_returns_every_key() {
        let (mut e, c) = engine();
        let mut expected = BTreeSet::new();
        for i in 0..300 {
            let key = alloc::format!("key:{i}");
            run(&mut e, c, T0, &["SET", &key, "v"]);
            expected.insert(key.into_bytes());
        }
        let mut seen = BTreeSet::new();
        let mut cursor = String::from("0");
        let mut calls = 0;
        loop {
            calls += 1;
            assert!(calls < 1000, "SCAN does not terminate");
            let Reply::Array(parts) = run(&mut e, c, T0, &["SCAN", &cursor, "COUNT", "7"]) else { panic!() };
            let [Reply::Bulk(next), Reply::Array(keys)] = parts.as_slice() else { panic!() };
            for k in keys {
                let Reply::Bulk(k) = k else { panic!() };
                seen.insert(k.clone());
            }
            cursor = String::from_utf8(next.clone()).unwrap();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen, expected);
    }

    #[test]
    fn scan_type_none_returns_a_key_it_just_expired() {
        // Redis 7.0's SCAN looks a key up for its type before the expiry filter; the lookup deletes an expired
        // key, whose type then reads "none", so `TYPE none` returns it (once).
        let (mut e, c) = engine();
        run(&mut e, c, T0, &["SET", "live", "v"]);
        run(&mut e, c, T0, &["SET", "gone", "v", "PX", "10"]);
        let scan_none = |e: &mut Engine| run(e, c, T0 + 100, &["SCAN", "0", "TYPE", "none", "COUNT", "100"]);
        let expected = |keys: Vec<Reply>| Reply::Array(vec![Reply::bulk(b"0"), Reply::Array(keys)]);
        assert_eq!(scan_none(&mut e), expected(vec![Reply::bulk(b"gone")]));
        assert_eq!(scan_none(&mut e), expected(vec![]));
        assert_eq!(e.stats.expired_keys, 1);
        assert_eq!((e.stats.keyspace_hits, e.stats.keyspace_misses), (2, 1));
    }

    #[test]
    fn scan_cursor_follows_strtoul() {
        assert_eq!(parse_scan_cursor(b""), Ok(0));
        assert_eq!(parse_scan_cursor(b"+7"), Ok(7));
        assert_eq!(parse_scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_scan_cursor(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [&b"18446744073709551616"[..], b" 1", b"1 ", b"+", b"-", b"0x1", b"1.0", b"--1"] {
            assert_eq!(parse_scan_cursor(bad), Err(Error::InvalidCursor), "{bad:?}");
        }
    }

    #[test]
    fn randomkey_skips_and_deletes_expired_keys() {
        let (mut e, c) = engine();
        for i in 0..20 {
            run(&mut e, c, T0, &["SET", &alloc::format!("gone:{i}"), "v", "PX", "10"]);
        }
        run(&mut e, c, T0, &["SET", "live", "v"]);
        assert_eq!(run(&mut e, c, T0 + 100, &["RANDOMKEY"]), Reply::bulk(b"live"));
        run(&mut e, c, T0 + 100, &["DEL", "live"]);
        assert_eq!(run(&mut e, c, T0 + 100, &["RANDOMKEY"]), Reply::Nil);
        assert_eq!(e.stats.expired_keys, 20);
        assert_eq!(e.db(0).len(), 0);
    }

    #[test]
    fn copy_and_move_take_the_expiry() {
        let (mut e, c) = engine();
        run(&mut e, c, T0, &["SET", "a", "5", "PX", "5000"]);
        assert_eq!(run(&mut e, c, T0, &["COPY", "a", "b", "DB", "3"]), Reply::Integer(1));
        assert_eq!(e.db(3).expire_of(b"b"), Some(T0 + 5000));
        assert_eq!(run(&mut e, c, T0, &["MOVE", "a", "2"]), Reply::Integer(1));
        assert_eq!(e.db(2).expire_of(b"a"), Some(T0 + 5000));
        assert!(e.db(0).is_empty());
        assert_eq!(vec![e.db(2).len(), e.db(3).len()], vec![1, 1]);
    }
}
