//! HyperLogLog commands on string values (Redis's hyperloglog.c).
//!
//! An HLL is an ordinary string holding Redis's `HYLL` bytes (see `crate::types::hll`); these commands check
//! that a string is one, then work on its bytes in place. Like Redis they make the string a private raw one
//! first (dbUnshareStringValue), so OBJECT ENCODING says `raw` afterwards even for an HLL written by SET.
//! Lookups follow Redis's: PFCOUNT and PFMERGE's sources read (keyspace hits and misses), PFADD, PFMERGE's
//! destination and PFDEBUG write.

use alloc::string::String;
use alloc::vec;

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::notify::{self, notify};
use crate::reply::Reply;
use crate::types::hll::{self, Corrupt};
use crate::value::{Entry, RString, StrEncoding, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("pfadd", pfadd),
    ("pfcount", pfcount),
    ("pfdebug", pfdebug),
    ("pfmerge", pfmerge),
    ("pfselftest", pfselftest),
];

impl From<Corrupt> for Error {
    fn from(_: Corrupt) -> Error {
        Error::CorruptHll
    }
}

/// The HLL string of an entry (Redis's isHLLObjectOrReply): WRONGTYPE for other types, the HLL flavour of
/// WRONGTYPE for a string that is not an HLL.
fn hll_string(entry: &Entry) -> Result<&RString, Error> {
    match &entry.value {
        Value::Str(s) if hll::is_hll(&s.bytes) => Ok(s),
        Value::Str(_) => Err(Error::NotHll),
        _ => Err(Error::WrongType),
    }
}

/// The HLL string of an entry for changing it in place, made a private raw string first.
fn hll_string_mut(entry: &mut Entry) -> Result<&mut RString, Error> {
    hll_string(entry)?;
    match &mut entry.value {
        Value::Str(s) => {
            s.encoding = StrEncoding::Raw;
            Ok(s)
        }
        _ => Err(Error::WrongType),
    }
}

/// Stores a new empty (sparse) HLL at `key`, as PFADD and PFMERGE do for a missing key.
fn create(e: &mut Engine, db: usize, key: &[u8]) {
    let now = e.now;
    let entry = Entry::new(Value::Str(RString::raw(hll::new_sparse())), now);
    e.db_mut(db).set(key, entry);
}

/// PFADD key [element [element ...]]
fn pfadd(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(1);
    let max_bytes = e.config.hll_sparse_max_bytes;
    // A new key counts as an update even without elements, so PFADD answers 1 for it.
    let mut updated = 0u64;
    match e.lookup_write(c.db, key) {
        Some(entry) => {
            if let Err(err) = hll_string(entry) {
                return err.into();
            }
        }
        None => {
            create(e, c.db, key);
            updated += 1;
        }
    }
    let Some(Ok(s)) = e.entry_mut(c.db, key).map(hll_string_mut) else {
        return Error::NotHll.into();
    };
    for ele in c.argv.iter().skip(2) {
        match hll::add(&mut s.bytes, ele, max_bytes) {
            Ok(true) => updated += 1,
            Ok(false) => {}
            // What was added before the corrupt part stays, as in Redis.
            Err(Corrupt) => return Error::CorruptHll.into(),
        }
    }
    if updated > 0 {
        hll::invalidate_cache(&mut s.bytes);
        notify(e, notify::STRING, "pfadd", key, c.db);
    }
    e.dirty += updated;
    Reply::Integer((updated > 0) as i64)
}

/// PFCOUNT key [key ...]
fn pfcount(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() > 2 {
        // The union of several HLLs, counted without touching any of them.
        let mut max = vec![0u8; hll::REGISTERS];
        if let Err(err) = merge_sources(e, c.db, c.argv.get(1..).unwrap_or_default(), &mut max) {
            return err.into();
        }
        return Reply::Integer(hll::count_registers(&max) as i64);
    }
    // One key: the cached cardinality, or a fresh count stored in the header. That changes the string's bytes,
    // so it counts as a change (dirty) although PFCOUNT is a read command.
    let key = c.arg(1);
    let Some(entry) = e.lookup_read(c.db, key) else {
        return Reply::Integer(0);
    };
    let s = match hll_string_mut(entry) {
        Ok(s) => s,
        Err(err) => return err.into(),
    };
    if let Some(card) = hll::cached_card(&s.bytes) {
        return Reply::Integer(card as i64);
    }
    let card = match hll::count(&s.bytes) {
        Ok(card) => card,
        Err(Corrupt) => return Error::CorruptHll.into(),
    };
    hll::set_cached_card(&mut s.bytes, card);
    e.dirty += 1;
    // PFCOUNT is a read command, so it signals its change itself (a WATCH sees it, as in Redis).
    e.db_mut(c.db).signal_modified_key(key);
    // A count past i64::MAX (a hand-made value) is replied as the C `long long` it becomes.
    Reply::Integer(card as i64)
}

/// Folds the HLLs at `keys` into `max` (missing keys count as empty). Also says whether any was dense.
fn merge_sources(e: &mut Engine, db: usize, keys: &[&[u8]], max: &mut [u8]) -> Result<bool, Error> {
    let mut any_dense = false;
    for key in keys {
        let Some(entry) = e.lookup_read(db, key) else { continue };
        let s = hll_string(entry)?;
        any_dense |= !hll::is_sparse(&s.bytes);
        hll::merge_into(max, &s.bytes)?;
    }
    Ok(any_dense)
}

/// PFMERGE destkey [sourcekey [sourcekey ...]]
fn pfmerge(e: &mut Engine, c: &Ctx) -> Reply {
    // The destination is one of the inputs (Redis reads every key from argv[1] on).
    let mut max = vec![0u8; hll::REGISTERS];
    let use_dense = match merge_sources(e, c.db, c.argv.get(1..).unwrap_or_default(), &mut max) {
        Ok(d) => d,
        Err(err) => return err.into(),
    };
    let dest = c.arg(1);
    if e.lookup_write(c.db, dest).is_none() {
        create(e, c.db, dest);
    }
    let max_bytes = e.config.hll_sparse_max_bytes;
    let Some(Ok(s)) = e.entry_mut(c.db, dest).map(hll_string_mut) else {
        return Error::NotHll.into();
    };
    // A dense input makes the result dense at once; otherwise it stays sparse unless it outgrows the limit.
    if use_dense && hll::to_dense(&mut s.bytes).is_err() {
        return Error::CorruptHll.into();
    }
    for (j, &m) in max.iter().enumerate() {
        if m != 0 {
            // The destination was validated as an input, so its opcodes add up.
            let _ = hll::set_register(&mut s.bytes, j, m, max_bytes);
        }
    }
    hll::invalidate_cache(&mut s.bytes);
    e.dirty += 1;
    // A merge is a mass add: Redis fires a `pfadd` event for it.
    notify(e, notify::STRING, "pfadd", dest, c.db);
    Reply::ok()
}

/// PFSELFTEST
fn pfselftest(_e: &mut Engine, _c: &Ctx) -> Reply {
    match hll::self_test() {
        Ok(()) => Reply::ok(),
        Err(text) => Error::Other(text).into(),
    }
}

/// PFDEBUG <GETREG | DECODE | ENCODING | TODENSE> key
fn pfdebug(e: &mut Engine, c: &Ctx) -> Reply {
    // Redis compares the subcommand as a C string: it ends at a NUL byte.
    let sub_full = c.arg(1);
    let sub = sub_full.split(|&b| b == 0).next().unwrap_or_default();
    let Some(entry) = e.lookup_write(c.db, c.arg(2)) else {
        return Error::other("ERR The specified key does not exist").into();
    };
    let s = match hll_string_mut(entry) {
        Ok(s) => s,
        Err(err) => return err.into(),
    };
    let sparse = hll::is_sparse(&s.bytes);
    if sub.eq_ignore_ascii_case(b"getreg") || sub.eq_ignore_ascii_case(b"todense") {
        // Both leave the HLL dense.
        if sparse && hll::to_dense(&mut s.bytes).is_err() {
            return Error::CorruptHll.into();
        }
        let reply = if sub.eq_ignore_ascii_case(b"getreg") {
            Reply::Array(hll::registers(&s.bytes).into_iter().map(|r| Reply::Integer(r as i64)).collect())
        } else {
            Reply::Integer(sparse as i64)
        };
        if sparse {
            e.dirty += 1;
        }
        reply
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if !sparse {
            return Error::other("ERR HLL encoding is not sparse").into();
        }
        Reply::Bulk(hll::decode(&s.bytes).into_bytes())
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        Reply::status(if sparse { "sparse" } else { "dense" })
    } else {
        Error::Other(alloc::format!("ERR Unknown PFDEBUG subcommand '{}'", String::from_utf8_lossy(sub))).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use alloc::vec::Vec;

    fn run(e: &mut Engine, c: u64, argv: &[&[u8]]) -> Reply {
        e.execute(c, argv, 1_000_000).unwrap_or(Reply::Nil)
    }

    /// Redis's server.dirty after each command, measured on redis-server 7.0.15 (the case files cannot see it:
    /// rdb_changes_since_last_save is not reset between them).
    #[test]
    fn writes_count_as_redis_counts_them() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000_000);
        let steps: [(&[&[u8]], u64); 10] = [
            (&[b"PFADD", b"dd", b"a", b"b", b"c"], 4),
            (&[b"PFADD", b"dd", b"a"], 0),
            (&[b"PFCOUNT", b"dd"], 1),
            (&[b"PFCOUNT", b"dd"], 0),
            (&[b"PFMERGE", b"m", b"dd"], 1),
            (&[b"PFDEBUG", b"TODENSE", b"m"], 1),
            (&[b"PFDEBUG", b"GETREG", b"dd"], 1),
            (&[b"PFDEBUG", b"GETREG", b"dd"], 0),
            (&[b"PFCOUNT", b"dd", b"m"], 0),
            (&[b"PFADD", b"newk"], 1),
        ];
        for (argv, want) in steps {
            let before = e.dirty;
            run(&mut e, c, argv);
            assert_eq!(e.dirty - before, want, "{:?}", argv.first());
        }
    }

    /// Random bytes behind a valid header, through every command: errors, never a panic.
    #[test]
    fn random_bodies_never_panic() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000_000);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..400u64 {
            let dense = round % 4 == 0;
            let mut v: Vec<u8> = b"HYLL".to_vec();
            v.push(if dense { 0 } else { 1 });
            v.extend_from_slice(&[0; 10]);
            v.push(if round % 3 == 0 { 0 } else { 0x80 });
            let len = if dense { hll::DENSE_SIZE - 16 } else { (rand() % 64) as usize };
            v.extend((0..len).map(|_| rand() as u8));
            run(&mut e, c, &[b"SET", b"x", &v]);
            for i in 0..8u64 {
                let ele = (rand() ^ i).to_le_bytes();
                run(&mut e, c, &[b"PFADD", b"x", &ele]);
            }
            run(&mut e, c, &[b"PFCOUNT", b"x"]);
            run(&mut e, c, &[b"PFCOUNT", b"x", b"y"]);
            run(&mut e, c, &[b"PFMERGE", b"y", b"x"]);
            run(&mut e, c, &[b"PFDEBUG", b"DECODE", b"x"]);
            run(&mut e, c, &[b"PFDEBUG", b"GETREG", b"x"]);
        }
    }
}
