//! String commands (Redis's t_string.c).

use alloc::vec::Vec;

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::reply::Reply;
use crate::util::{eq_ic, parse_i64};
use crate::value::{Entry, RString, Value};

pub const HANDLERS: &[(&str, Handler)] = &[("get", get), ("set", set)];

/// The string at `key` for reading: `Ok(None)` when missing, WRONGTYPE for other types.
pub(crate) fn read_string<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e RString>, Error> {
    match e.lookup_read(db, key) {
        None => Ok(None),
        Some(entry) => match &entry.value {
            Value::Str(s) => Ok(Some(s)),
            _ => Err(Error::WrongType),
        },
    }
}

/// GET key
fn get(e: &mut Engine, c: &Ctx) -> Reply {
    match read_string(e, c.db, c.arg(1)) {
        Ok(Some(s)) => Reply::Bulk(s.bytes.clone()),
        Ok(None) => Reply::Nil,
        Err(err) => err.into(),
    }
}

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

/// Options of SET and GETEX, as bit flags like Redis's OBJ_SET_* (parseExtendedStringArgumentsOrReply).
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
    #[allow(dead_code)] // GETEX parses through the same function.
    GetEx,
}

/// Parses SET's or GETEX's options from argument `start` on: the flags and the expiry argument, if any.
/// Repeating the same expiry option is allowed (the last wins), mixing two is a syntax error, as in Redis.
pub(crate) fn parse_string_options<'a>(c: &Ctx<'a>, start: usize, for_cmd: OptsFor) -> Result<(u32, Option<&'a [u8]>), Error> {
    let mut flags = 0u32;
    let mut expire = None;
    let mut j = start;
    while j < c.argc() {
        let a = c.argv.get(j).copied().unwrap_or(b"");
        let next = c.argv.get(j + 1).copied();
        let set = for_cmd == OptsFor::Set;
        let expiry_flag = |name: &str, flag: u32| eq_ic(a, name) && flags & (opt::ANY_EXPIRE & !flag | opt::KEEPTTL | opt::PERSIST) == 0;
        if set && eq_ic(a, "NX") && flags & opt::XX == 0 {
            flags |= opt::NX;
        } else if set && eq_ic(a, "XX") && flags & opt::NX == 0 {
            flags |= opt::XX;
        } else if set && eq_ic(a, "GET") {
            flags |= opt::GET;
        } else if set && eq_ic(a, "KEEPTTL") && flags & (opt::PERSIST | opt::ANY_EXPIRE) == 0 {
            flags |= opt::KEEPTTL;
        } else if !set && eq_ic(a, "PERSIST") && flags & (opt::ANY_EXPIRE | opt::KEEPTTL) == 0 {
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
        Some(arg) => match expire_at(e.now, arg, flags, "set") {
            Ok(at) => Expiry::At(at),
            Err(err) => return err.into(),
        },
    };
    set_generic(e, c.db, c.arg(1), c.arg(2).to_vec(), cond, expire, flags & opt::GET != 0)
}

/// Turns an EX/PX/EXAT/PXAT argument into absolute unix ms, with Redis's checks (positive, no overflow).
/// `flags` says which of EX, PX, EXAT, PXAT the argument belongs to (Redis's getExpireMillisecondsOrReply).
pub(crate) fn expire_at(now: u64, arg: &[u8], flags: u32, cmd: &'static str) -> Result<u64, Error> {
    let v = parse_i64(arg).ok_or(Error::NotInteger)?;
    if v <= 0 {
        return Err(Error::InvalidExpireTime(cmd));
    }
    let ms = if flags & (opt::EX | opt::EXAT) != 0 { v.checked_mul(1000).ok_or(Error::InvalidExpireTime(cmd))? } else { v };
    let at = if flags & (opt::EX | opt::PX) != 0 { ms.checked_add(now as i64).ok_or(Error::InvalidExpireTime(cmd))? } else { ms };
    Ok(at as u64)
}

/// The worker behind SET, SETNX, SETEX, PSETEX and GETSET (Redis's setGenericCommand).
fn set_generic(e: &mut Engine, db: usize, key: &[u8], value: Vec<u8>, cond: Condition, expire: Expiry, want_get: bool) -> Reply {
    let old = if want_get {
        match read_string(e, db, key) {
            Ok(v) => Some(v.map(|s| s.bytes.clone())),
            Err(err) => return err.into(),
        }
    } else {
        None
    };
    let exists = e.exists(db, key);
    if (cond == Condition::IfMissing && exists) || (cond == Condition::IfExists && !exists) {
        return match old {
            Some(Some(v)) => Reply::Bulk(v),
            _ if want_get => Reply::Nil,
            _ => Reply::Nil,
        };
    }
    let entry = Entry::new(Value::Str(RString::encoded(value)), e.now);
    let dbm = e.db_mut(db);
    match expire {
        Expiry::KeepTtl => dbm.set_keep_ttl(key, entry),
        Expiry::None => dbm.set(key, entry),
        Expiry::At(at) => {
            dbm.set(key, entry);
            dbm.set_expire(key, at);
        }
    }
    e.dirty += 1;
    match old {
        Some(Some(v)) => Reply::Bulk(v),
        Some(None) => Reply::Nil,
        None => Reply::ok(),
    }
}
