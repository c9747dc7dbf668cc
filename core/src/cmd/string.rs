//! String commands (Redis's t_string.c).
//!
//! The workers come first (reading a string, storing one, the SET family, INCR family, the LCS table),
//! then the commands, each with its syntax above it.
//! Lookups follow Redis's: commands that read (GET, MGET, STRLEN, GETRANGE, LCS, the GET of SET/GETSET/GETDEL,
//! GETEX) count keyspace hits and misses; commands that write (INCR, APPEND, SETRANGE, MSETNX, ...) do not.

use alloc::vec;
use alloc::vec::Vec;

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::ldouble::{self, IncrFloatError};
use crate::notify::{self, notify};
use crate::propagate;
use crate::reply::Reply;
use crate::util::{eq_ic, i64_bytes, parse_i64};
use crate::value::{Entry, RString, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("append", append),
    ("decr", decr),
    ("decrby", decrby),
    ("get", get),
    ("getdel", getdel),
    ("getex", getex),
    ("getrange", getrange),
    ("getset", getset),
    ("incr", incr),
    ("incrby", incrby),
    ("incrbyfloat", incrbyfloat),
    ("lcs", lcs),
    ("mget", mget),
    ("mset", mset),
    ("msetnx", msetnx),
    ("psetex", psetex),
    ("set", set),
    ("setex", setex),
    ("setnx", setnx),
    ("setrange", setrange),
    ("strlen", strlen),
    ("substr", getrange),
];

// ---------------------------------------------------------------------------------------------------------------
// Reading and storing strings.

/// The string inside a value, `None` for the other types.
fn as_string(v: &Value) -> Option<&RString> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn as_string_mut(v: &mut Value) -> Option<&mut RString> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// The string at `key` for reading: `Ok(None)` when missing, WRONGTYPE for other types.
/// Counts a keyspace hit or miss, as Redis's lookupKeyRead.
pub(crate) fn read_string<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e RString>, Error> {
    match e.lookup_read(db, key) {
        None => Ok(None),
        Some(entry) => as_string(&entry.value).map(Some).ok_or(Error::WrongType),
    }
}

/// The entry at `key` for modifying a string in place: `Ok(None)` when missing, WRONGTYPE for other types.
/// No keyspace statistics, as Redis's lookupKeyWrite.
fn write_string<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e mut Entry>, Error> {
    match e.lookup_write(db, key) {
        None => Ok(None),
        Some(entry) if as_string(&entry.value).is_some() => Ok(Some(entry)),
        Some(_) => Err(Error::WrongType),
    }
}

/// Replaces (or creates) the string at `key`: a new object as Redis's setKey/dbAdd/dbOverwrite make.
/// `keep_ttl` keeps an existing expiry (KEEPTTL, and the in-place style overwrites of INCR and INCRBYFLOAT);
/// otherwise any expiry is dropped. Under an LFU policy the access counter survives the overwrite, as in dbOverwrite.
fn store(e: &mut Engine, db: usize, key: &[u8], s: RString, keep_ttl: bool) {
    let now = e.now;
    let lfu_policy = e.lfu_policy();
    let dbm = e.db_mut(db);
    let mut entry = Entry::new(Value::Str(s), now);
    if lfu_policy {
        if let Some(old) = dbm.keys.get(key) {
            entry.lfu = old.lfu;
        }
    }
    if keep_ttl {
        dbm.set_keep_ttl(key, entry);
    } else {
        dbm.set(key, entry);
    }
}

/// Redis's checkStringLength: a string a command builds may not exceed `proto-max-bulk-len`.
/// Checked before anything is allocated; `None` (an overflowing sum) is too long as well.
fn check_string_length(e: &Engine, total: Option<u64>) -> Result<(), Error> {
    match total {
        Some(n) if n <= e.config.proto_max_bulk_len => Ok(()),
        _ => Err(Error::StringTooLong),
    }
}

/// Whether an option argument is `keyword`, compared as Redis compares it: case-insensitively, as a C string,
/// so the argument ends at its first NUL byte (`"nx\0junk"` is NX, as it is in Redis).
fn opt_is(arg: &[u8], keyword: &str) -> bool {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    arg.get(..end).is_some_and(|a| a.eq_ignore_ascii_case(keyword.as_bytes()))
}

// ---------------------------------------------------------------------------------------------------------------
// SET and its options.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfMissing,
    IfExists,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expiry {
    None,
    KeepTtl,
    /// Absolute unix ms.
    At(u64),
}

/// Options of SET and GETEX, as bit flags like Redis's OBJ_* flags (parseExtendedStringArgumentsOrReply).
pub(crate) mod opt {
    pub const NX: u32 = 1 << 0;
    pub const XX: u32 = 1 << 1;
    pub const GET: u32 = 1 << 2;
    pub const KEEPTTL: u32 = 1 << 3;
    pub const PERSIST: u32 = 1 << 4;
    pub const EX: u32 = 1 << 5;
    pub const PX: u32 = 1 << 6;
    pub const EXAT: u32 = 1 << 7;
    pub const PXAT: u32 = 1 << 8;
    pub const ANY_EXPIRE: u32 = EX | PX | EXAT | PXAT;
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptsFor {
    Set,
    GetEx,
}

/// Parses SET's or GETEX's options from argument `start` on: the flags and the expiry argument, if any.
/// Repeating the same expiry option is allowed (the last wins), mixing two is a syntax error, as in Redis.
pub(crate) fn parse_string_options<'a>(c: &Ctx<'a>, start: usize, for_cmd: OptsFor) -> Result<(u32, Option<&'a [u8]>), Error> {
    let mut flags = 0u32;
    let mut expire = None;
    let mut j = start;
    let set = for_cmd == OptsFor::Set;
    while j < c.argc() {
        let a = c.argv.get(j).copied().unwrap_or(b"");
        let next = c.argv.get(j + 1).copied();
        // An expiry option is accepted when no other expiry, KEEPTTL or PERSIST was given.
        let expiry_flag = |name: &str, flag: u32| opt_is(a, name) && flags & (opt::ANY_EXPIRE & !flag | opt::KEEPTTL | opt::PERSIST) == 0;
        if set && opt_is(a, "NX") && flags & opt::XX == 0 {
            flags |= opt::NX;
        } else if set && opt_is(a, "XX") && flags & opt::NX == 0 {
            flags |= opt::XX;
        } else if set && opt_is(a, "GET") {
            flags |= opt::GET;
        } else if set && opt_is(a, "KEEPTTL") && flags & (opt::PERSIST | opt::ANY_EXPIRE) == 0 {
            flags |= opt::KEEPTTL;
        } else if !set && opt_is(a, "PERSIST") && flags & (opt::ANY_EXPIRE | opt::KEEPTTL) == 0 {
            flags |= opt::PERSIST;
        } else if let (Some(n), Some(flag)) = (
            next,
            [("EX", opt::EX), ("PX", opt::PX), ("EXAT", opt::EXAT), ("PXAT", opt::PXAT)]
                .into_iter()
                .find(|&(name, flag)| expiry_flag(name, flag))
                .map(|(_, f)| f),
        ) {
            flags |= flag;
            expire = Some(n);
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    Ok((flags, expire))
}

/// Turns an EX/PX/EXAT/PXAT argument into absolute unix ms, with Redis's checks (getExpireMillisecondsOrReply):
/// not an integer is NotInteger; zero, negative, or overflowing when scaled to ms or made absolute is
/// `invalid expire time in '<cmd>' command`. `flags` says which of EX, PX, EXAT, PXAT the argument belongs to.
pub(crate) fn expire_at(now: u64, arg: &[u8], flags: u32, cmd: &'static str) -> Result<u64, Error> {
    let v = parse_i64(arg).ok_or(Error::NotInteger)?;
    if v <= 0 {
        return Err(Error::InvalidExpireTime(cmd));
    }
    let ms = if flags & (opt::EX | opt::EXAT) != 0 { v.checked_mul(1000).ok_or(Error::InvalidExpireTime(cmd))? } else { v };
    let at = if flags & (opt::EX | opt::PX) != 0 {
        i64::try_from(now).ok().and_then(|n| ms.checked_add(n)).ok_or(Error::InvalidExpireTime(cmd))?
    } else {
        ms
    };
    Ok(at as u64)
}

/// The worker behind SET, SETNX, SETEX, PSETEX and GETSET (Redis's setGenericCommand).
/// The expiry was validated by the caller; then, in Redis's order: GET's read (WRONGTYPE stops everything),
/// the NX/XX condition, the write. With GET the reply is the old value whether or not the write happened.
/// `abort` is what a failed NX/XX answers without GET (`nil` for SET, `0` for SETNX); `ok` what success answers.
#[allow(clippy::too_many_arguments)] // The variants differ in exactly these.
fn set_generic(
    e: &mut Engine,
    db: usize,
    key: &[u8],
    value: &[u8],
    cond: Condition,
    expire: Expiry,
    want_get: bool,
    ok: Reply,
    abort: Reply,
) -> Reply {
    let old = if want_get {
        match read_string(e, db, key) {
            Ok(v) => Some(v.map_or(Reply::Nil, |s| Reply::Bulk(s.bytes.clone()))),
            Err(err) => return err.into(),
        }
    } else {
        None
    };
    // The value is replaced whole (`store`), so the lookup need not note the key for the memory accounting.
    let found = e.lookup_overwrite(db, key);
    if (cond == Condition::IfMissing && found) || (cond == Condition::IfExists && !found) {
        return old.unwrap_or(abort);
    }
    store(e, db, key, RString::encoded(value.to_vec()), expire == Expiry::KeepTtl);
    notify(e, notify::STRING, "set", key, db);
    if let Expiry::At(at) = expire {
        // A time already past is stored as given: the key then expires on its next access, as in Redis 7.0.
        e.db_mut(db).set_expire(key, at);
        notify(e, notify::GENERIC, "expire", key, db);
        // Every expiry form (SET EX/PX/EXAT/PXAT, SETEX, PSETEX) propagates as `SET key value PXAT ms`.
        propagate::rewrite(e, &[b"SET", key, value, b"PXAT", &i64_bytes(at as i64)]);
    }
    e.dirty += 1;
    old.unwrap_or(ok)
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
fn set(e: &mut Engine, c: &Ctx) -> Reply {
    let (flags, expire_arg) = match parse_string_options(c, 3, OptsFor::Set) {
        Ok(parsed) => parsed,
        Err(err) => return err.into(),
    };
    let cond = if flags & opt::NX != 0 {
        Condition::IfMissing
    } else if flags & opt::XX != 0 {
        Condition::IfExists
    } else {
        Condition::Always
    };
    let expire = match expire_arg {
        None if flags & opt::KEEPTTL != 0 => Expiry::KeepTtl,
        None => Expiry::None,
        Some(arg) => match expire_at(e.now, arg, flags, c.spec.name) {
            Ok(at) => Expiry::At(at),
            Err(err) => return err.into(),
        },
    };
    let want_get = flags & opt::GET != 0;
    let reply = set_generic(e, c.db, c.arg(1), c.arg(2), cond, expire, want_get, Reply::ok(), Reply::Nil);
    if want_get && expire_arg.is_none() && e.propagation_enabled() {
        // Propagated without its GET arguments (an expiry already rewrote the whole command).
        let argv: Vec<&[u8]> =
            c.argv.iter().enumerate().filter(|(j, a)| *j < 3 || !eq_ic(a, "GET")).map(|(_, a)| *a).collect();
        propagate::rewrite(e, &argv);
    }
    reply
}

/// SETNX key value
fn setnx(e: &mut Engine, c: &Ctx) -> Reply {
    set_generic(e, c.db, c.arg(1), c.arg(2), Condition::IfMissing, Expiry::None, false, Reply::Integer(1), Reply::Integer(0))
}

/// SETEX key seconds value
fn setex(e: &mut Engine, c: &Ctx) -> Reply {
    set_with_ttl(e, c, opt::EX)
}

/// PSETEX key milliseconds value
fn psetex(e: &mut Engine, c: &Ctx) -> Reply {
    set_with_ttl(e, c, opt::PX)
}

/// SETEX and PSETEX: SET with a mandatory relative expiry, validated before anything else.
fn set_with_ttl(e: &mut Engine, c: &Ctx, unit: u32) -> Reply {
    match expire_at(e.now, c.arg(2), unit, c.spec.name) {
        Ok(at) => set_generic(e, c.db, c.arg(1), c.arg(3), Condition::Always, Expiry::At(at), false, Reply::ok(), Reply::Nil),
        Err(err) => err.into(),
    }
}

/// GETSET key value
fn getset(e: &mut Engine, c: &Ctx) -> Reply {
    // Exactly SET key value GET, propagated as `SET key value`.
    propagate::rewrite(e, &[b"SET", c.arg(1), c.arg(2)]);
    set_generic(e, c.db, c.arg(1), c.arg(2), Condition::Always, Expiry::None, true, Reply::ok(), Reply::Nil)
}

// ---------------------------------------------------------------------------------------------------------------
// GET and friends.

/// GET key
fn get(e: &mut Engine, c: &Ctx) -> Reply {
    match read_string(e, c.db, c.arg(1)) {
        Ok(Some(s)) => Reply::Bulk(s.bytes.clone()),
        Ok(None) => Reply::Nil,
        Err(err) => err.into(),
    }
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]
fn getex(e: &mut Engine, c: &Ctx) -> Reply {
    // Redis's order: syntax, then the key (a missing key answers nil even with a bad expiry), then the type,
    // then the expiry value.
    let (flags, expire_arg) = match parse_string_options(c, 2, OptsFor::GetEx) {
        Ok(parsed) => parsed,
        Err(err) => return err.into(),
    };
    let key = c.arg(1);
    let value = match read_string(e, c.db, key) {
        Ok(Some(s)) => s.bytes.clone(),
        Ok(None) => return Reply::Nil,
        Err(err) => return err.into(),
    };
    let at = match expire_arg.map(|arg| expire_at(e.now, arg, flags, c.spec.name)) {
        Some(Ok(at)) => Some(at),
        Some(Err(err)) => return err.into(),
        None => None,
    };
    let now = e.now;
    let loading = e.loading;
    let dbm = e.db_mut(c.db);
    // GETEX never propagates as itself: as DEL, PEXPIREAT or PERSIST.
    match at {
        // An absolute time already past deletes the key (checkAlreadyExpired: `when <= now`, never while
        // loading).
        Some(at) if flags & (opt::EXAT | opt::PXAT) != 0 && at <= now && !loading => {
            dbm.remove(key);
            e.dirty += 1;
            propagate::rewrite(e, &[b"DEL", key]);
            notify(e, notify::GENERIC, "del", key, c.db);
        }
        Some(at) => {
            dbm.set_expire(key, at);
            e.dirty += 1;
            propagate::rewrite(e, &[b"PEXPIREAT", key, &i64_bytes(at as i64)]);
            notify(e, notify::GENERIC, "expire", key, c.db);
        }
        None if flags & opt::PERSIST != 0 && dbm.persist(key) => {
            e.dirty += 1;
            propagate::rewrite(e, &[b"PERSIST", key]);
            notify(e, notify::GENERIC, "persist", key, c.db);
        }
        None => {}
    }
    Reply::Bulk(value)
}

/// GETDEL key
fn getdel(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    match read_string(e, c.db, key) {
        Ok(Some(s)) => {
            let value = s.bytes.clone();
            e.db_mut(c.db).remove(key);
            e.dirty += 1;
            propagate::rewrite(e, &[b"DEL", key]);
            notify(e, notify::GENERIC, "del", key, c.db);
            Reply::Bulk(value)
        }
        Ok(None) => Reply::Nil,
        Err(err) => err.into(),
    }
}

/// MGET key [key ...]
fn mget(e: &mut Engine, c: &Ctx) -> Reply {
    // A key of another type reads as nil here, not WRONGTYPE.
    let replies = c
        .argv
        .iter()
        .skip(1)
        .map(|key| match e.lookup_read(c.db, key).and_then(|entry| as_string(&entry.value)) {
            Some(s) => Reply::Bulk(s.bytes.clone()),
            None => Reply::Nil,
        })
        .collect();
    Reply::Array(replies)
}

/// STRLEN key
fn strlen(e: &mut Engine, c: &Ctx) -> Reply {
    match read_string(e, c.db, c.arg(1)) {
        Ok(s) => Reply::Integer(s.map_or(0, |s| s.bytes.len() as i64)),
        Err(err) => err.into(),
    }
}

/// GETRANGE key start end (and SUBSTR key start end, its old name)
fn getrange(e: &mut Engine, c: &Ctx) -> Reply {
    // Both indexes are parsed before the key is looked at.
    let (Some(mut start), Some(mut end)) = (parse_i64(c.arg(2)), parse_i64(c.arg(3))) else {
        return Error::NotInteger.into();
    };
    let s = match read_string(e, c.db, c.arg(1)) {
        Ok(Some(s)) => &s.bytes,
        Ok(None) => return Reply::Bulk(Vec::new()),
        Err(err) => return err.into(),
    };
    // Redis's arithmetic, step by step (getrangeCommand).
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Reply::Bulk(Vec::new());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Reply::Bulk(Vec::new());
    }
    Reply::Bulk(s.get(start as usize..=end as usize).unwrap_or_default().to_vec())
}

// ---------------------------------------------------------------------------------------------------------------
// Multi-key writes.

/// MSET key value [key value ...]
fn mset(e: &mut Engine, c: &Ctx) -> Reply {
    mset_generic(e, c, false)
}

/// MSETNX key value [key value ...]
fn msetnx(e: &mut Engine, c: &Ctx) -> Reply {
    mset_generic(e, c, true)
}

/// The worker behind MSET and MSETNX (msetGenericCommand). With `nx`, nothing is set if any key exists.
fn mset_generic(e: &mut Engine, c: &Ctx, nx: bool) -> Reply {
    // The table's arity only says "at least 3": an unpaired key is checked here, with the same error.
    if c.argc().is_multiple_of(2) {
        return Error::WrongArity(c.spec.name.into()).into();
    }
    let pairs = || c.argv.get(1..).unwrap_or_default().chunks_exact(2);
    if nx {
        for pair in pairs() {
            if let Some(key) = pair.first() {
                if e.lookup_write(c.db, key).is_some() {
                    return Reply::Integer(0);
                }
            }
        }
    }
    for pair in pairs() {
        if let [key, value] = pair {
            store(e, c.db, key, RString::encoded(value.to_vec()), false);
            notify(e, notify::STRING, "set", key, c.db);
        }
    }
    e.dirty += (c.argc() as u64 - 1) / 2;
    if nx {
        Reply::Integer(1)
    } else {
        Reply::ok()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Counters.

/// The worker behind INCR, INCRBY, DECR and DECRBY (incrDecrCommand): the result is stored int-encoded,
/// keeping the key's expiry.
fn incr_decr(e: &mut Engine, db: usize, key: &[u8], incr: i64) -> Reply {
    let current = match write_string(e, db, key) {
        Ok(Some(entry)) => match as_string(&entry.value).and_then(|s| parse_i64(&s.bytes)) {
            Some(v) => v,
            None => return Error::NotInteger.into(),
        },
        Ok(None) => 0,
        Err(err) => return err.into(),
    };
    let Some(value) = current.checked_add(incr) else {
        return Error::Overflow.into();
    };
    store(e, db, key, RString::from_i64(value), true);
    e.dirty += 1;
    // INCR, DECR and DECRBY are all `incrby` events.
    notify(e, notify::STRING, "incrby", key, db);
    Reply::Integer(value)
}

/// INCR key
fn incr(e: &mut Engine, c: &Ctx) -> Reply {
    incr_decr(e, c.db, c.arg(1), 1)
}

/// DECR key
fn decr(e: &mut Engine, c: &Ctx) -> Reply {
    incr_decr(e, c.db, c.arg(1), -1)
}

/// INCRBY key increment
fn incrby(e: &mut Engine, c: &Ctx) -> Reply {
    match parse_i64(c.arg(2)) {
        Some(incr) => incr_decr(e, c.db, c.arg(1), incr),
        None => Error::NotInteger.into(),
    }
}

/// DECRBY key decrement
fn decrby(e: &mut Engine, c: &Ctx) -> Reply {
    match parse_i64(c.arg(2)) {
        // Negating i64::MIN overflows; Redis says so with its own text, before looking at the key.
        Some(i64::MIN) => Error::other("ERR decrement would overflow").into(),
        Some(decr) => incr_decr(e, c.db, c.arg(1), -decr),
        None => Error::NotInteger.into(),
    }
}

/// INCRBYFLOAT key increment
fn incrbyfloat(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    // Redis adds in 80-bit long double and prints with `%.17Lf` (ldouble.rs does both); a missing key counts as 0.
    let result = match write_string(e, c.db, key) {
        Ok(Some(entry)) => match as_string(&entry.value) {
            Some(s) => ldouble::incr_by_float(&s.bytes, c.arg(2)),
            None => return Error::WrongType.into(),
        },
        Ok(None) => ldouble::incr_by_float(b"0", c.arg(2)),
        Err(err) => return err.into(),
    };
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(IncrFloatError::CurrentNotFloat | IncrFloatError::IncrementNotFloat) => {
            return Error::NotFloat.into()
        }
        Err(IncrFloatError::NanOrInfinity) => return Error::IncrNanOrInf.into(),
    };
    // createStringObjectFromLongDouble: embstr or raw by length, never int.
    store(e, c.db, key, RString::plain(bytes.clone()), true);
    e.dirty += 1;
    // Propagated as the value it computed, so a replay cannot round differently.
    propagate::rewrite(e, &[b"SET", key, &bytes, b"KEEPTTL"]);
    notify(e, notify::STRING, "incrbyfloat", key, c.db);
    Reply::Bulk(bytes)
}

// ---------------------------------------------------------------------------------------------------------------
// In-place edits.

/// APPEND key value
fn append(e: &mut Engine, c: &Ctx) -> Reply {
    let (key, tail) = (c.arg(1), c.arg(2));
    let max = e.config.proto_max_bulk_len;
    let reply = match write_string(e, c.db, key) {
        // A new key is stored as SET would store it (it may even be int-encoded).
        Ok(None) => {
            store(e, c.db, key, RString::encoded(tail.to_vec()), false);
            Reply::Integer(tail.len() as i64)
        }
        Ok(Some(entry)) => {
            let Some(s) = as_string_mut(&mut entry.value) else { return Error::WrongType.into() };
            let total = s.bytes.len() as u64 + tail.len() as u64;
            if total > max {
                return Error::StringTooLong.into();
            }
            // Appending leaves a raw string whatever the encoding was (dbUnshareStringValue).
            let mut bytes = core::mem::take(&mut s.bytes);
            bytes.extend_from_slice(tail);
            *s = RString::raw(bytes);
            Reply::Integer(total as i64)
        }
        Err(err) => return err.into(),
    };
    e.dirty += 1;
    // APPEND of an empty string changes nothing, and Redis still signals the key and fires the event.
    e.db_mut(c.db).signal_modified_key(key);
    notify(e, notify::STRING, "append", key, c.db);
    reply
}

/// SETRANGE key offset value
fn setrange(e: &mut Engine, c: &Ctx) -> Reply {
    let (key, patch) = (c.arg(1), c.arg(3));
    let Some(offset) = parse_i64(c.arg(2)) else { return Error::NotInteger.into() };
    if offset < 0 {
        return Error::other("ERR offset is out of range").into();
    }
    // offset >= 0 here, so the sum is computed in u64 and can only overflow into "too long".
    let total = (offset as u64).checked_add(patch.len() as u64);
    let too_long = check_string_length(e, total).err();
    let entry = match write_string(e, c.db, key) {
        Ok(entry) => entry,
        Err(err) => return err.into(),
    };
    let Some(entry) = entry else {
        // Setting nothing on a missing key creates nothing.
        if patch.is_empty() {
            return Reply::Integer(0);
        }
        if let Some(err) = too_long {
            return err.into();
        }
        let mut bytes = vec![0u8; offset as usize];
        bytes.extend_from_slice(patch);
        let len = bytes.len();
        store(e, c.db, key, RString::raw(bytes), false);
        e.dirty += 1;
        notify(e, notify::STRING, "setrange", key, c.db);
        return Reply::Integer(len as i64);
    };
    let Some(s) = as_string_mut(&mut entry.value) else { return Error::WrongType.into() };
    if patch.is_empty() {
        return Reply::Integer(s.bytes.len() as i64);
    }
    if let Some(err) = too_long {
        return err.into();
    }
    let offset = offset as usize;
    let mut bytes = core::mem::take(&mut s.bytes);
    let end = offset + patch.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    if let Some(dst) = bytes.get_mut(offset..end) {
        dst.copy_from_slice(patch);
    }
    let len = bytes.len();
    *s = RString::raw(bytes);
    e.dirty += 1;
    // Redis signals the key even when the value ends up the same (a WATCH sees a change).
    e.db_mut(c.db).signal_modified_key(key);
    notify(e, notify::STRING, "setrange", key, c.db);
    Reply::Integer(len as i64)
}

// ---------------------------------------------------------------------------------------------------------------
// LCS.

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
fn lcs(e: &mut Engine, c: &Ctx) -> Reply {
    // Redis looks both keys up (counting hits and misses) and checks their types before parsing the options.
    let a = e.lookup_read(c.db, c.arg(1)).map(|entry| as_string(&entry.value).map(|s| s.bytes.clone()));
    let b = e.lookup_read(c.db, c.arg(2)).map(|entry| as_string(&entry.value).map(|s| s.bytes.clone()));
    let (Some(a), Some(b)) = (a.unwrap_or(Some(Vec::new())), b.unwrap_or(Some(Vec::new()))) else {
        return Error::other("ERR The specified keys must contain string values").into();
    };
    let (mut get_len, mut get_idx, mut with_match_len, mut min_match_len) = (false, false, false, 0i64);
    let mut j = 3;
    while j < c.argc() {
        let o = c.arg(j);
        let more = j + 1 < c.argc();
        if opt_is(o, "IDX") {
            get_idx = true;
        } else if opt_is(o, "LEN") {
            get_len = true;
        } else if opt_is(o, "WITHMATCHLEN") {
            with_match_len = true;
        } else if opt_is(o, "MINMATCHLEN") && more {
            let Some(n) = parse_i64(c.arg(j + 1)) else { return Error::NotInteger.into() };
            min_match_len = n.max(0);
            j += 1;
        } else {
            return Error::Syntax.into();
        }
        j += 1;
    }
    if get_len && get_idx {
        return Error::other("ERR If you want both the length and indexes, please just use IDX.").into();
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Error::other("ERR String too long for LCS").into();
    }
    // The table Redis allocates holds (|a|+1)(|b|+1) u32 cells; it refuses one larger than proto-max-bulk-len.
    let cells = (a.len() as u64 + 1).saturating_mul(b.len() as u64 + 1);
    if cells.saturating_mul(4) > e.config.proto_max_bulk_len {
        return Error::other("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len").into();
    }
    let Some(table) = LcsTable::build(&a, &b) else {
        return Error::other("ERR Insufficient memory, failed allocating transient memory for LCS").into();
    };
    let total = table.at(a.len(), b.len());
    if get_len && !get_idx {
        return Reply::Integer(total as i64);
    }
    let (common, matches) = table.walk(&a, &b, get_idx, with_match_len, min_match_len);
    if get_idx {
        Reply::Map(vec![
            (Reply::bulk_str("matches"), Reply::Array(matches)),
            (Reply::bulk_str("len"), Reply::Integer(total as i64)),
        ])
    } else {
        Reply::Bulk(common)
    }
}

/// Redis's LCS dynamic-programming table: cell (i, j) holds the LCS length of a[..i] and b[..j].
/// Kept exactly as Redis builds and walks it, so IDX answers the same ranges in the same order.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

impl LcsTable {
    /// `None` when the table cannot be allocated.
    fn build(a: &[u8], b: &[u8]) -> Option<LcsTable> {
        let width = b.len() + 1;
        let size = (a.len() + 1).checked_mul(width)?;
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).ok()?;
        cells.resize(size, 0u32);
        let mut t = LcsTable { cells, width };
        for (i, &ca) in a.iter().enumerate() {
            for (j, &cb) in b.iter().enumerate() {
                let v = if ca == cb { t.at(i, j) + 1 } else { t.at(i, j + 1).max(t.at(i + 1, j)) };
                if let Some(cell) = t.cells.get_mut((i + 1) * width + j + 1) {
                    *cell = v;
                }
            }
        }
        Some(t)
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells.get(i * self.width + j).copied().unwrap_or(0)
    }

    /// Walks back from the end as Redis's lcsCommand does: the common subsequence, and with `want_ranges`
    /// the matching ranges (last first), each `[[a_start, a_end], [b_start, b_end]]` plus its length with
    /// `with_len`, keeping those at least `min_len` long.
    fn walk(&self, a: &[u8], b: &[u8], want_ranges: bool, with_len: bool, min_len: i64) -> (Vec<u8>, Vec<Reply>) {
        let alen = a.len();
        let mut idx = self.at(alen, b.len()) as usize;
        let mut common = vec![0u8; idx];
        let mut ranges = Vec::new();
        // `arange_start == alen` means "no range open", as in Redis.
        let (mut arange_start, mut arange_end, mut brange_start, mut brange_end) = (alen, 0usize, 0usize, 0usize);
        let (mut i, mut j) = (alen, b.len());
        while i > 0 && j > 0 {
            let mut emit = false;
            let (ca, cb) = (a.get(i - 1).copied(), b.get(j - 1).copied());
            if ca == cb {
                if let (Some(slot), Some(ch)) = (idx.checked_sub(1).and_then(|k| common.get_mut(k)), ca) {
                    *slot = ch;
                }
                if arange_start == alen {
                    (arange_start, arange_end, brange_start, brange_end) = (i - 1, i - 1, j - 1, j - 1);
                } else if arange_start == i && brange_start == j {
                    // Contiguous with the open range: extend it backwards.
                    arange_start -= 1;
                    brange_start -= 1;
                } else {
                    emit = true;
                }
                // A match at the first byte of either string ends the walk: emit now.
                if arange_start == 0 || brange_start == 0 {
                    emit = true;
                }
                idx = idx.saturating_sub(1);
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                if arange_start != alen {
                    emit = true;
                }
            }
            if emit {
                // Redis computes the length in u32; a range is open whenever `emit` is set, so it is positive.
                let match_len = (arange_end as u32).wrapping_sub(arange_start as u32).wrapping_add(1);
                if want_ranges && (min_len == 0 || i64::from(match_len) >= min_len) {
                    let pair = |s: usize, e: usize| Reply::Array(vec![Reply::Integer(s as i64), Reply::Integer(e as i64)]);
                    let mut range = vec![pair(arange_start, arange_end), pair(brange_start, brange_end)];
                    if with_len {
                        range.push(Reply::Integer(i64::from(match_len)));
                    }
                    ranges.push(Reply::Array(range));
                }
                arange_start = alen;
            }
        }
        (common, ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn run(e: &mut Engine, c: u64, line: &str) -> Reply {
        e.run_line(c, line, 1_000_000).unwrap_or(Reply::Nil)
    }

    #[test]
    fn lcs_ranges_match_redis() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000_000);
        run(&mut e, c, "MSET key1 ohmytext key2 mynewtext");
        assert_eq!(run(&mut e, c, "LCS key1 key2"), Reply::bulk_str("mytext"));
        let r = run(&mut e, c, "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN");
        assert_eq!(
            r.to_resp(2),
            b"*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n".to_vec()
        );
    }

    #[test]
    fn encodings_follow_the_writer() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000_000);
        let enc = |e: &Engine, k: &[u8]| e.db(0).keys.get(k).map(|en| en.value.encoding_name());
        run(&mut e, c, "SET a 123");
        assert_eq!(enc(&e, b"a"), Some("int"));
        run(&mut e, c, "APPEND a 4");
        assert_eq!(enc(&e, b"a"), Some("raw"));
        run(&mut e, c, "INCR a");
        assert_eq!(enc(&e, b"a"), Some("int"));
        run(&mut e, c, "SETRANGE b 2 x");
        assert_eq!(enc(&e, b"b"), Some("raw"));
        run(&mut e, c, "INCRBYFLOAT f 1.5");
        assert_eq!(enc(&e, b"f"), Some("embstr"));
    }

    #[test]
    fn dirty_counts_writes_as_redis() {
        // Each line with the change of Redis's `rdb_changes_since_last_save` it causes (checked on 7.0.15).
        let script = [
            ("SET k v", 1),
            ("SET k v NX", 0),
            ("SET k v XX", 1),
            ("SETNX k v", 0),
            ("SETEX k 10 v", 1),
            ("GETEX k", 0),
            ("GETEX k EX 100", 1),
            ("GETEX k PERSIST", 1),
            ("GETEX k PERSIST", 0),
            ("GETEX k EXAT 1", 1),
            ("GETEX nokey EX 10", 0),
            ("GETDEL nokey", 0),
            ("GETSET k v", 1),
            ("GETDEL k", 1),
            ("MSET a 1 b 2 c 3", 3),
            ("MSETNX a 1 d 2", 0),
            ("MSETNX d 1 e 2", 2),
            ("INCRBY a 0", 1),
            ("INCRBYFLOAT a 0", 1),
            ("APPEND a x", 1),
            ("SETRANGE a 0 x", 1),
            ("SETRANGE newk 0 x", 1),
            ("LCS a b", 0),
        ];
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000_000);
        for (line, delta) in script {
            let before = e.dirty;
            run(&mut e, c, line);
            assert_eq!(e.dirty - before, delta, "{line}");
        }
        // Zero-length patches and appends: SETRANGE writes nothing, APPEND still counts.
        let before = e.dirty;
        e.execute(c, &[b"SETRANGE", b"a", b"0", b""], 1_000_000);
        e.execute(c, &[b"SETRANGE", b"nothing", b"0", b""], 1_000_000);
        assert_eq!(e.dirty, before);
        e.execute(c, &[b"APPEND", b"a", b""], 1_000_000);
        assert_eq!(e.dirty, before + 1);
    }

    #[test]
    fn keyspace_hits_and_misses_as_redis() {
        // (hits, misses) each line adds on Redis 7.0.15: reads count, writes do not.
        let script = [
            ("SET k v", (0, 0)),
            ("SET k v GET", (1, 0)),
            ("SET nk v NX GET", (0, 1)),
            ("GETEX x", (0, 1)),
            ("GETSET k v", (1, 0)),
            ("MGET k x y", (1, 2)),
            ("STRLEN x", (0, 1)),
            ("GETRANGE k 0 1", (1, 0)),
            ("LCS k x", (1, 1)),
            ("LCS k k", (2, 0)),
            ("INCR x", (0, 0)),
            ("APPEND k x", (0, 0)),
            ("SETRANGE k 0 x", (0, 0)),
            ("MSETNX k 1", (0, 0)),
        ];
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000_000);
        for (line, (hits, misses)) in script {
            let (h, m) = (e.stats.keyspace_hits, e.stats.keyspace_misses);
            run(&mut e, c, line);
            assert_eq!((e.stats.keyspace_hits - h, e.stats.keyspace_misses - m), (hits, misses), "{line}");
        }
    }
}
