//! Stream commands (Redis's t_stream.c), the blocking XREAD/XREADGROUP included; the waiting itself is
//! `crate::blocking`.

use alloc::string::String;
use alloc::vec::Vec;

use super::Handler;
use crate::blocking::{self, Waiter};
use crate::engine::{Ctx, Engine};
use crate::error::{lossy, Error};
use crate::notify::{self, notify};
use crate::reply::Reply;
use crate::types::stream::{Fields, Group, Nack, Stream, StreamId, INVALID_ENTRIES_READ, NODE_MAX_ENTRIES};
use crate::util::{eq_ic, i64_bytes, parse_i64};
use crate::value::{Entry, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("xadd", xadd),
    ("xlen", xlen),
    ("xrange", xrange),
    ("xrevrange", xrevrange),
    ("xdel", xdel),
    ("xtrim", xtrim),
    ("xread", xread),
    ("xreadgroup", xreadgroup),
    ("xgroup|create", xgroup),
    ("xgroup|createconsumer", xgroup),
    ("xgroup|delconsumer", xgroup),
    ("xgroup|destroy", xgroup),
    ("xgroup|setid", xgroup),
    ("xgroup|help", xgroup_help),
    ("xack", xack),
    ("xpending", xpending),
    ("xclaim", xclaim),
    ("xautoclaim", xautoclaim),
    ("xinfo|stream", xinfo),
    ("xinfo|groups", xinfo),
    ("xinfo|consumers", xinfo),
    ("xinfo|help", xinfo_help),
    ("xsetid", xsetid),
];

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const ID_TOO_SMALL: &str = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
/// XREAD's count when it blocks without one (XREAD_BLOCKED_DEFAULT_COUNT).
const BLOCKED_DEFAULT_COUNT: u64 = 1000;

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/// The stream at `key` for reading (counts a keyspace hit or miss): `Ok(None)` when missing.
fn read_stream<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e mut Stream>, Error> {
    match e.lookup_read(db, key) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The stream at `key` for writing (no hit/miss statistics): `Ok(None)` when missing.
fn write_stream<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Result<Option<&'e mut Stream>, Error> {
    match e.lookup_write(db, key) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The stream at `key` once a lookup has checked it, without touching it again.
fn stream_mut<'e>(e: &'e mut Engine, db: usize, key: &[u8]) -> Option<&'e mut Stream> {
    match &mut e.entry_mut(db, key)?.value {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

/// Stores a new stream (through `Db::set`, which wakes clients blocked on the key).
fn create_stream(e: &mut Engine, db: usize, key: &[u8]) {
    let entry = Entry::new(Value::Stream(Stream::new().into()), e.now);
    e.db_mut(db).set(key, entry);
}

fn nogroup(text: String) -> Reply {
    Error::Other(text).into()
}

/// The NOGROUP error of XPENDING, XCLAIM and XAUTOCLAIM.
fn no_such_key_or_group(key: &[u8], grp: &[u8]) -> Reply {
    nogroup(alloc::format!("NOGROUP No such key '{}' or consumer group '{}'", lossy(key, usize::MAX), lossy(grp, usize::MAX)))
}

/// The NOGROUP error of XGROUP and XINFO CONSUMERS (the same fact, Redis words it the other way round).
fn no_such_group_for_key(grp: &[u8], key: &[u8]) -> Reply {
    nogroup(alloc::format!("NOGROUP No such consumer group '{}' for key name '{}'", lossy(grp, usize::MAX), lossy(key, usize::MAX)))
}

/// WRONGTYPE, or NOGROUP when the stream or its group is missing: the check XCLAIM and XAUTOCLAIM start with.
fn require_group(e: &mut Engine, db: usize, key: &[u8], grp: &[u8]) -> Result<(), Reply> {
    match read_stream(e, db, key) {
        Err(err) => Err(err.into()),
        Ok(Some(s)) if s.groups.contains_key(grp) => Ok(()),
        Ok(_) => Err(no_such_key_or_group(key, grp)),
    }
}

fn parse_long(arg: &[u8]) -> Result<i64, Error> {
    parse_i64(arg).ok_or(Error::NotInteger)
}

/// C's `isspace`.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Redis's string2ull: a strict signed 64-bit integer that is not negative, or else what `strtoull` takes
/// (leading spaces, a sign, digits to the end, no overflow; a minus sign negates modulo 2^64).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut rest = s;
    while let Some((&b, tail)) = rest.split_first() {
        if !is_c_space(b) {
            break;
        }
        rest = tail;
    }
    let mut negative = false;
    if let Some((&b, tail)) = rest.split_first() {
        if b == b'+' || b == b'-' {
            negative = b == b'-';
            rest = tail;
        }
    }
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in rest {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// Redis's streamGenericParseIDOrReply: `ms-seq`, `ms` (with `missing_seq`), `-` and `+` unless `strict`, and
/// with `seq_auto` the `ms-*` form (the returned flag is then false: the sequence is to be generated).
fn parse_id_generic(arg: &[u8], missing_seq: u64, strict: bool, seq_auto: bool) -> Result<(StreamId, bool), Error> {
    let invalid = || Error::other(INVALID_ID);
    // Redis copies the argument into a 128-byte C buffer; a NUL byte ends the string there.
    if arg.len() > 127 {
        return Err(invalid());
    }
    let arg = match arg.iter().position(|&b| b == 0) {
        Some(n) => arg.get(..n).unwrap_or_default(),
        None => arg,
    };
    if strict && (arg == b"-" || arg == b"+") {
        return Err(invalid());
    }
    if arg == b"-" {
        return Ok((StreamId::MIN, true));
    }
    if arg == b"+" {
        return Ok((StreamId::MAX, true));
    }
    let (ms_part, seq_part) = match arg.iter().position(|&b| b == b'-') {
        Some(p) => (arg.get(..p).unwrap_or_default(), Some(arg.get(p + 1..).unwrap_or_default())),
        None => (arg, None),
    };
    let ms = string2ull(ms_part).ok_or_else(invalid)?;
    match seq_part {
        Some(b"*") if seq_auto => Ok((StreamId::new(ms, 0), false)),
        Some(s) => Ok((StreamId::new(ms, string2ull(s).ok_or_else(invalid)?), true)),
        None => Ok((StreamId::new(ms, missing_seq), true)),
    }
}

/// streamParseStrictIDOrReply: an ID, `-` and `+` refused.
fn parse_strict_id(arg: &[u8]) -> Result<StreamId, Error> {
    parse_id_generic(arg, 0, true, false).map(|(id, _)| id)
}

/// streamParseIntervalIDOrReply: an ID, `-`, `+`, or `(ID` exclusive; returns the ID and whether exclusive.
fn parse_interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), Error> {
    if arg.len() > 1 && arg.first() == Some(&b'(') {
        let id = parse_id_generic(arg.get(1..).unwrap_or_default(), missing_seq, true, false)?.0;
        Ok((id, true))
    } else {
        Ok((parse_id_generic(arg, missing_seq, false, false)?.0, false))
    }
}

/// A range's start: its ID, the next one when exclusive.
fn parse_range_start(arg: &[u8]) -> Result<StreamId, Error> {
    let (id, ex) = parse_interval_id(arg, 0)?;
    if ex {
        return id.incr().ok_or_else(|| Error::other("ERR invalid start ID for the interval"));
    }
    Ok(id)
}

/// A range's end: its ID, the previous one when exclusive.
fn parse_range_end(arg: &[u8]) -> Result<StreamId, Error> {
    let (id, ex) = parse_interval_id(arg, u64::MAX)?;
    if ex {
        return id.decr().ok_or_else(|| Error::other("ERR invalid end ID for the interval"));
    }
    Ok(id)
}

fn id_reply(id: &StreamId) -> Reply {
    Reply::Bulk(id.to_bytes())
}

/// `[id, [field, value, ...]]`.
fn entry_reply(id: &StreamId, fields: &Fields) -> Reply {
    let mut flat = Vec::with_capacity(fields.len() * 2);
    for (f, v) in fields {
        flat.push(Reply::bulk(f));
        flat.push(Reply::bulk(v));
    }
    Reply::Array(alloc::vec![id_reply(id), Reply::Array(flat)])
}

/// The entries from `start` to `end` (inclusive), at most `count` of them (0: all), reversed with `rev`.
fn range_entries(s: &Stream, start: StreamId, end: StreamId, count: usize, rev: bool) -> Vec<Reply> {
    if start > end {
        return Vec::new();
    }
    let limit = if count == 0 { usize::MAX } else { count };
    let range = s.entries.range(start..=end);
    if rev {
        range.rev().take(limit).map(|(id, f)| entry_reply(id, f)).collect()
    } else {
        range.take(limit).map(|(id, f)| entry_reply(id, f)).collect()
    }
}

/// One entry as `[id, fields]`, or `None` when it is not in the stream.
fn single_entry(s: &Stream, id: &StreamId) -> Option<Reply> {
    s.entries.get(id).map(|f| entry_reply(id, f))
}

// ---------------------------------------------------------------------------------------------------------------
// Adding and trimming

/// The trimming options shared by XADD and XTRIM (streamAddTrimArgs).
#[derive(Default)]
struct TrimArgs {
    maxlen: Option<u64>,
    minid: Option<StreamId>,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    /// Where the trimming threshold is in argv (after MAXLEN/MINID and any `~`/`=`), for the rewrite of `~`.
    threshold_idx: usize,
    /// XADD's ID: `None` for `*`; the flag says whether the sequence was given.
    id: Option<(StreamId, bool)>,
}

/// Parses XADD's or XTRIM's options (streamParseAddOrTrimArgsOrReply); for XADD returns also where the
/// ID argument is.
fn parse_add_trim(c: &Ctx, xadd: bool, loading: bool) -> Result<(TrimArgs, usize), Error> {
    let mut args = TrimArgs::default();
    let mut limit: Option<i64> = None;
    let mut strategy = false;
    let mut i = 2;
    while i < c.argc() {
        let moreargs = c.argc() - 1 - i;
        let opt = c.arg(i);
        if xadd && opt == b"*" {
            break;
        } else if (eq_ic(opt, "MAXLEN") || eq_ic(opt, "MINID")) && moreargs > 0 {
            if strategy {
                return Err(Error::other(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            let is_maxlen = eq_ic(opt, "MAXLEN");
            args.approx = false;
            let next = c.arg(i + 1);
            if moreargs >= 2 && next == b"~" {
                args.approx = true;
                i += 1;
            } else if moreargs >= 2 && next == b"=" {
                i += 1;
            }
            if is_maxlen {
                let n = parse_long(c.arg(i + 1))?;
                if n < 0 {
                    return Err(Error::other("ERR The MAXLEN argument must be >= 0."));
                }
                args.maxlen = Some(n as u64);
                args.minid = None;
            } else {
                args.minid = Some(parse_strict_id(c.arg(i + 1))?);
                args.maxlen = None;
            }
            args.threshold_idx = i + 1;
            i += 1;
            strategy = true;
        } else if eq_ic(opt, "LIMIT") && moreargs > 0 {
            let n = parse_long(c.arg(i + 1))?;
            if n < 0 {
                return Err(Error::other("ERR The LIMIT argument must be >= 0."));
            }
            limit = Some(n);
            i += 1;
        } else if xadd && eq_ic(opt, "NOMKSTREAM") {
            args.nomkstream = true;
        } else if xadd {
            args.id = Some(parse_id_generic(opt, 0, true, true)?);
            break;
        } else {
            return Err(Error::Syntax);
        }
        i += 1;
    }
    if limit.is_some_and(|l| l != 0) && !strategy {
        return Err(Error::other("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && !strategy {
        return Err(Error::other("ERR syntax error, XTRIM must be called with a trimming strategy"));
    }
    match limit {
        // An AOF holds what `~` was rewritten to (`= n LIMIT m`): Redis's AOF client trims exactly, unlimited.
        _ if loading => args.limit = 0,
        Some(_) if !args.approx => {
            return Err(Error::other("ERR syntax error, LIMIT cannot be used without the special ~ option"));
        }
        Some(l) => args.limit = l as u64,
        None => args.limit = if args.approx { 100 * NODE_MAX_ENTRIES } else { 0 },
    }
    Ok((args, i))
}

/// The ID XADD gives the new entry (streamAppendItem's checks), or its error.
fn next_add_id(s: &Stream, given: Option<(StreamId, bool)>, now: u64) -> Result<StreamId, Error> {
    let last = s.last_id;
    let id = match given {
        None => {
            if now > last.ms {
                StreamId::new(now, 0)
            } else {
                last.incr().ok_or_else(|| Error::other(ID_TOO_SMALL))?
            }
        }
        Some((id, true)) => id,
        Some((id, false)) => {
            if id.ms == last.ms {
                if last.seq == u64::MAX {
                    return Err(Error::other(ID_TOO_SMALL));
                }
                StreamId::new(last.ms, last.seq + 1)
            } else {
                id
            }
        }
    };
    if id <= last {
        return Err(Error::other(ID_TOO_SMALL));
    }
    Ok(id)
}

/// A `~` trim propagates as the exact trim it did (streamRewriteApproxSpecifier and
/// streamRewriteTrimArgument): `=`, and as threshold the length left (MAXLEN) or the first ID left (MINID; the
/// largest ID when nothing is left).
fn rewrite_approx_trim(argv: &mut [Vec<u8>], s: &Stream, args: &TrimArgs) {
    if !args.approx || args.threshold_idx < 1 {
        return;
    }
    if let Some(a) = argv.get_mut(args.threshold_idx - 1) {
        *a = b"=".to_vec();
    }
    let threshold = if args.maxlen.is_some() {
        crate::util::i64_bytes(s.len() as i64)
    } else if s.is_empty() {
        StreamId::MAX.to_bytes()
    } else {
        s.first_id().to_bytes()
    };
    if let Some(a) = argv.get_mut(args.threshold_idx) {
        *a = threshold;
    }
}

fn trim_stream(s: &mut Stream, args: &TrimArgs) -> u64 {
    s.trim(args.maxlen, args.minid, args.approx, args.limit)
}

/// XADD key [NOMKSTREAM] [MAXLEN | MINID [= | ~] threshold [LIMIT count]] * | id field value [field value ...]
fn xadd(e: &mut Engine, c: &Ctx) -> Reply {
    let (args, idpos) = match parse_add_trim(c, true, e.loading) {
        Ok(p) => p,
        Err(err) => return err.into(),
    };
    let field_pos = idpos + 1;
    let nfields = c.argc().saturating_sub(field_pos);
    if c.argc() < field_pos + 2 || !nfields.is_multiple_of(2) {
        return Error::WrongArity(c.spec.name.into()).into();
    }
    if let Some((id, true)) = args.id {
        if id.is_zero() {
            return Error::other("ERR The ID specified in XADD must be greater than 0-0").into();
        }
    }
    let key = c.arg(1);
    let exists = match write_stream(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(s) => s.is_some(),
    };
    if !exists {
        if args.nomkstream {
            return Reply::Nil;
        }
        create_stream(e, c.db, key);
    }
    let now = e.now;
    let Some(s) = stream_mut(e, c.db, key) else { return Reply::Nil };
    if s.last_id == StreamId::MAX {
        return Error::other("ERR The stream has exhausted the last possible ID, unable to add more items").into();
    }
    let id = match next_add_id(s, args.id, now) {
        Ok(id) => id,
        Err(err) => return err.into(),
    };
    let fields: Fields = c
        .argv
        .get(field_pos..)
        .unwrap_or_default()
        .chunks(2)
        .map(|p| (p.first().copied().unwrap_or_default().to_vec(), p.get(1).copied().unwrap_or_default().to_vec()))
        .collect();
    s.append(id, fields);
    // Redis trims after the `xadd` event, and fires `xtrim` when that removed anything.
    let trimmed = if args.maxlen.is_some() || args.minid.is_some() { trim_stream(s, &args) } else { 0 };
    if e.propagation_enabled() {
        // Propagated with the ID it took and, for `~`, the exact trim it did (xaddCommand's rewrites).
        let mut argv: Vec<Vec<u8>> = c.argv.iter().map(|a| a.to_vec()).collect();
        if !matches!(args.id, Some((_, true))) {
            if let Some(a) = argv.get_mut(idpos) {
                *a = id.to_bytes();
            }
        }
        if let Some(s) = stream_mut(e, c.db, key) {
            rewrite_approx_trim(&mut argv, s, &args);
        }
        crate::propagate::rewrite_owned(e, argv);
    }
    e.dirty += 1;
    e.db_mut(c.db).signal_key_as_ready(key);
    notify(e, notify::STREAM, "xadd", key, c.db);
    if trimmed > 0 {
        notify(e, notify::STREAM, "xtrim", key, c.db);
    }
    id_reply(&id)
}

/// XTRIM key MAXLEN | MINID [= | ~] threshold [LIMIT count]
fn xtrim(e: &mut Engine, c: &Ctx) -> Reply {
    let args = match parse_add_trim(c, false, e.loading) {
        Ok((a, _)) => a,
        Err(err) => return err.into(),
    };
    let deleted = match write_stream(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Integer(0),
        Ok(Some(s)) => {
            let deleted = trim_stream(s, &args);
            if args.approx {
                let mut argv: Vec<Vec<u8>> = c.argv.iter().map(|a| a.to_vec()).collect();
                rewrite_approx_trim(&mut argv, s, &args);
                crate::propagate::rewrite_owned(e, argv);
            }
            deleted
        }
    };
    e.dirty += deleted;
    if deleted > 0 {
        notify(e, notify::STREAM, "xtrim", c.arg(1), c.db);
    }
    Reply::Integer(deleted as i64)
}

/// XDEL key id [id ...]
fn xdel(e: &mut Engine, c: &Ctx) -> Reply {
    match write_stream(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) => return Reply::Integer(0),
        Ok(Some(_)) => {}
    }
    let mut ids = Vec::with_capacity(c.argc().saturating_sub(2));
    for &arg in c.argv.get(2..).unwrap_or_default() {
        match parse_strict_id(arg) {
            Ok(id) => ids.push(id),
            Err(err) => return err.into(),
        }
    }
    let Some(s) = stream_mut(e, c.db, c.arg(1)) else { return Reply::Integer(0) };
    let mut deleted = 0;
    for id in ids {
        if s.delete(&id) {
            if id > s.max_deleted {
                s.max_deleted = id;
            }
            deleted += 1;
        }
    }
    e.dirty += deleted;
    if deleted > 0 {
        notify(e, notify::STREAM, "xdel", c.arg(1), c.db);
    }
    Reply::Integer(deleted as i64)
}

/// XLEN key
fn xlen(e: &mut Engine, c: &Ctx) -> Reply {
    match read_stream(e, c.db, c.arg(1)) {
        Err(err) => err.into(),
        Ok(s) => Reply::Integer(s.map_or(0, |s| s.len() as i64)),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Ranges

/// The worker behind XRANGE and XREVRANGE (xrangeGenericCommand).
fn xrange_generic(e: &mut Engine, c: &Ctx, rev: bool) -> Reply {
    let (start_arg, end_arg) = if rev { (c.arg(3), c.arg(2)) } else { (c.arg(2), c.arg(3)) };
    let start = match parse_range_start(start_arg) {
        Ok(id) => id,
        Err(err) => return err.into(),
    };
    let end = match parse_range_end(end_arg) {
        Ok(id) => id,
        Err(err) => return err.into(),
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < c.argc() {
        if eq_ic(c.arg(j), "COUNT") && j + 1 < c.argc() {
            match parse_long(c.arg(j + 1)) {
                Ok(n) => count = n.max(0),
                Err(err) => return err.into(),
            }
            j += 2;
        } else {
            return Error::Syntax.into();
        }
    }
    match read_stream(e, c.db, c.arg(1)) {
        Err(err) => err.into(),
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(_)) if count == 0 => Reply::NilArray,
        Ok(Some(s)) => {
            let count = if count < 0 { 0 } else { count as usize };
            Reply::Array(range_entries(s, start, end, count, rev))
        }
    }
}

/// XRANGE key start end [COUNT count]
fn xrange(e: &mut Engine, c: &Ctx) -> Reply {
    xrange_generic(e, c, false)
}

/// XREVRANGE key end start [COUNT count]
fn xrevrange(e: &mut Engine, c: &Ctx) -> Reply {
    xrange_generic(e, c, true)
}

// ---------------------------------------------------------------------------------------------------------------
// Reading with and without groups

/// Delivers entries after `after` to a group's consumer (streamReplyWithRange with a group): advances the
/// group's last ID and read counter, and records each entry as pending unless `noack`.
/// What a group read propagates: each entry it made pending (an XCLAIM each: its ID, delivery time and count,
/// and the group's last ID then), and whether it moved the group's last ID.
#[derive(Default)]
struct Delivered {
    claims: Vec<(StreamId, u64, u64, StreamId)>,
    last_id_moved: bool,
}

#[allow(clippy::too_many_arguments)]
fn deliver_new(
    s: &mut Stream,
    group: &[u8],
    consumer: &[u8],
    after: StreamId,
    count: u64,
    noack: bool,
    now: u64,
    out_prop: &mut Delivered,
) -> Vec<Reply> {
    let Some(start) = after.incr() else { return Vec::new() };
    let limit = if count == 0 { usize::MAX } else { count as usize };
    let ids: Vec<StreamId> = s.entries.range(start..).take(limit).map(|(id, _)| *id).collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let tombstones = s.has_tombstones_from(&id);
        let estimate = s.estimate_distance(&id);
        let added = s.entries_added;
        if let Some(g) = s.groups.get_mut(group) {
            if id > g.last_id {
                if g.entries_read != INVALID_ENTRIES_READ && !tombstones {
                    g.entries_read += 1;
                } else if added != 0 {
                    g.entries_read = estimate;
                }
                g.last_id = id;
                out_prop.last_id_moved = true;
            }
            if !noack {
                if let Some(nack) = g.pel.get_mut(&id) {
                    nack.delivery_time = now;
                    nack.delivery_count = 1;
                } else {
                    g.pel.insert(id, Nack { delivery_time: now, delivery_count: 1, consumer: consumer.to_vec() });
                }
                g.reassign(id, consumer);
                out_prop.claims.push((id, now, 1, g.last_id));
            }
        }
        if let Some(r) = single_entry(s, &id) {
            out.push(r);
        }
    }
    out
}

/// A consumer's own pending entries after `after` (streamReplyWithRangeFromConsumerPEL): each delivered again,
/// or with a null body when the entry was deleted since.
fn deliver_history(s: &mut Stream, group: &[u8], consumer: &[u8], after: StreamId, count: u64, now: u64) -> Vec<Reply> {
    let Some(start) = after.incr() else { return Vec::new() };
    let limit = if count == 0 { usize::MAX } else { count as usize };
    let ids: Vec<StreamId> = match s.groups.get(group).and_then(|g| g.consumers.get(consumer)) {
        Some(cons) => cons.pel.range(start..).take(limit).copied().collect(),
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match single_entry(s, &id) {
            Some(r) => {
                if let Some(nack) = s.groups.get_mut(group).and_then(|g| g.pel.get_mut(&id)) {
                    nack.delivery_time = now;
                    nack.delivery_count += 1;
                }
                out.push(r);
            }
            None => out.push(Reply::Array(alloc::vec![id_reply(&id), Reply::NilArray])),
        }
    }
    out
}

/// Creates the consumer (an `xgroup-createconsumer` event) or refreshes its seen time (streamLookupConsumer +
/// streamCreateConsumer).
fn touch_consumer(e: &mut Engine, s_key: (usize, &[u8]), group: &[u8], consumer: &[u8]) -> bool {
    let now = e.now;
    let mut created = false;
    if let Some(g) = stream_mut(e, s_key.0, s_key.1).and_then(|s| s.groups.get_mut(group)) {
        created = g.create_consumer(consumer, now);
        if let Some(cons) = g.consumers.get_mut(consumer) {
            cons.seen_time = now;
        }
    }
    if created {
        e.dirty += 1;
        notify(e, notify::STREAM, "xgroup-createconsumer", s_key.1, s_key.0);
    }
    created
}

/// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id`, the command Redis propagates
/// for an entry a group read or claim made pending (streamPropagateXCLAIM).
#[allow(clippy::too_many_arguments)]
fn propagate_xclaim(e: &mut Engine, db: usize, key: &[u8], group: &[u8], consumer: &[u8], id: &[u8], time: u64, count: u64, last: StreamId) {
    let (time, count, last) = (i64_bytes(time as i64), i64_bytes(count as i64), last.to_bytes());
    crate::propagate::also(
        e,
        db,
        &[b"XCLAIM", key, group, consumer, b"0", id, b"TIME", &time, b"RETRYCOUNT", &count, b"FORCE", b"JUSTID", b"LASTID", &last],
    );
}

/// `XGROUP SETID key group id ENTRIESREAD n` with the group's state (streamPropagateGroupID).
fn propagate_group_id(e: &mut Engine, db: usize, key: &[u8], group: &[u8]) {
    let Some(g) = stream_mut(e, db, key).and_then(|s| s.groups.get(group)) else { return };
    let (last, read) = (g.last_id.to_bytes(), i64_bytes(g.entries_read));
    crate::propagate::also(e, db, &[b"XGROUP", b"SETID", key, group, &last, b"ENTRIESREAD", &read]);
}

/// What a group read propagates: the consumer it created (with NOACK only: an XCLAIM creates it), each
/// entry made pending as an XCLAIM, and with NOACK the group's new last ID.
#[allow(clippy::too_many_arguments)]
fn propagate_delivery(e: &mut Engine, db: usize, key: &[u8], group: &[u8], consumer: &[u8], created: bool, noack: bool, d: Delivered) {
    if !e.propagation_enabled() {
        return;
    }
    if created {
        crate::propagate::also(e, db, &[b"XGROUP", b"CREATECONSUMER", key, group, consumer]);
    }
    for (id, time, count, last) in d.claims {
        propagate_xclaim(e, db, key, group, consumer, &id.to_bytes(), time, count, last);
    }
    if noack && d.last_id_moved {
        propagate_group_id(e, db, key, group);
    }
}

/// XREAD's reply: an array of `[key, entries]` pairs in RESP2, a map in RESP3.
fn streams_reply(resp: u8, items: Vec<(Reply, Reply)>) -> Reply {
    if resp >= 3 {
        Reply::Map(items)
    } else {
        Reply::Array(items.into_iter().map(|(k, v)| Reply::Array(alloc::vec![k, v])).collect())
    }
}

/// The worker behind XREAD and XREADGROUP (xreadCommand).
fn xread_generic(e: &mut Engine, c: &Ctx, xreadgroup: bool) -> Reply {
    let mut timeout: Option<u64> = None;
    let mut count: u64 = 0;
    let mut streams_arg = 0;
    let mut streams_count = 0;
    let mut noack = false;
    let mut group: Option<&[u8]> = None;
    let mut consumer: &[u8] = b"";
    let mut i = 1;
    while i < c.argc() {
        let moreargs = c.argc() - i - 1;
        let o = c.arg(i);
        if eq_ic(o, "BLOCK") && moreargs > 0 {
            i += 1;
            let ms = match parse_i64(c.arg(i)) {
                Some(v) => v,
                None => return Error::other("ERR timeout is not an integer or out of range").into(),
            };
            if ms < 0 {
                return Error::other(blocking::TIMEOUT_NEGATIVE).into();
            }
            timeout = Some(if ms == 0 { 0 } else { (ms as u64).wrapping_add(e.now) });
        } else if eq_ic(o, "COUNT") && moreargs > 0 {
            i += 1;
            match parse_long(c.arg(i)) {
                Ok(n) => count = n.max(0) as u64,
                Err(err) => return err.into(),
            }
        } else if eq_ic(o, "STREAMS") && moreargs > 0 {
            streams_arg = i + 1;
            let n = c.argc() - streams_arg;
            if !n.is_multiple_of(2) {
                // Redis 7.0's text names XREAD and `$` for XREADGROUP too.
                return Error::other(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                )
                .into();
            }
            streams_count = n / 2;
            break;
        } else if eq_ic(o, "GROUP") && moreargs >= 2 {
            if !xreadgroup {
                return Error::other("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
                    .into();
            }
            group = Some(c.arg(i + 1));
            consumer = c.arg(i + 2);
            i += 2;
        } else if eq_ic(o, "NOACK") {
            if !xreadgroup {
                return Error::other("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
                    .into();
            }
            noack = true;
        } else {
            return Error::Syntax.into();
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Error::Syntax.into();
    }
    if xreadgroup && group.is_none() {
        return Error::other("ERR Missing GROUP option for XREADGROUP").into();
    }
    let keys: Vec<&[u8]> = (0..streams_count).map(|k| c.arg(streams_arg + k)).collect();
    // `None` stands for `>`.
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(streams_count);
    for (k, &key) in keys.iter().enumerate() {
        let arg = c.arg(streams_arg + streams_count + k);
        let s = match read_stream(e, c.db, key) {
            Ok(s) => s,
            Err(err) => return err.into(),
        };
        if let Some(g) = group {
            if !s.as_ref().is_some_and(|s| s.groups.contains_key(g)) {
                return nogroup(alloc::format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    lossy(key, usize::MAX),
                    lossy(g, usize::MAX)
                ));
            }
        }
        if arg == b"$" {
            if xreadgroup {
                return Error::other(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this \
                     consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just \
                     return an empty result set.",
                )
                .into();
            }
            ids.push(Some(s.map_or(StreamId::MIN, |s| s.last_id)));
        } else if arg == b">" {
            if !xreadgroup {
                return Error::other(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> \
                     option.",
                )
                .into();
            }
            ids.push(None);
        } else {
            match parse_strict_id(arg) {
                Ok(id) => ids.push(Some(id)),
                Err(err) => return err.into(),
            }
        }
    }
    let now = e.now;
    let mut items = Vec::new();
    for (k, &key) in keys.iter().enumerate() {
        let gt = ids.get(k).copied().flatten();
        // Redis 7.0 looks each key up again here (a second hit or miss, and a second `keymiss`).
        let Some(s) = e.lookup_read(c.db, key).and_then(|en| match &en.value {
            Value::Stream(s) => Some(s),
            _ => None,
        }) else {
            continue;
        };
        let mut serve: Option<(StreamId, bool)> = None;
        if let Some(g) = group {
            let last = s.groups.get(g).map(|g| g.last_id).unwrap_or_default();
            match gt {
                Some(id) => serve = Some((id, true)),
                None if !s.is_empty() && s.last_valid_id() > last => serve = Some((last, false)),
                None => {}
            }
        } else if let Some(id) = gt {
            if !s.is_empty() && s.last_valid_id() > id {
                serve = Some((id, false));
            }
        }
        let Some((after, history)) = serve else { continue };
        // Redis 7.0 creates (or refreshes) the consumer only when it serves it now, not when it blocks.
        let created = match group {
            Some(g) => touch_consumer(e, (c.db, key), g, consumer),
            None => false,
        };
        let Some(s) = stream_mut(e, c.db, key) else { continue };
        let mut delivered = Delivered::default();
        let entries = match group {
            Some(g) if history => deliver_history(s, g, consumer, after, count, now),
            Some(g) => {
                let entries = deliver_new(s, g, consumer, after, count, noack, now, &mut delivered);
                propagate_delivery(e, c.db, key, g, consumer, created && noack, noack, delivered);
                entries
            }
            None => {
                let Some(start) = after.incr() else { continue };
                range_entries(s, start, StreamId::MAX, count as usize, false)
            }
        };
        if group.is_some() {
            e.dirty += 1;
        }
        items.push((Reply::bulk(key), Reply::Array(entries)));
    }
    if !items.is_empty() {
        return streams_reply(e.resp_of(c.client), items);
    }
    let Some(deadline) = timeout else { return Reply::NilArray };
    if e.blocking.deny {
        return Reply::NilArray;
    }
    // The waiter keeps: the kind, the count, NOACK, the group and consumer, then each key with its ID.
    let mut args: Vec<Vec<u8>> = alloc::vec![
        if xreadgroup { b"group".to_vec() } else { b"plain".to_vec() },
        crate::util::i64_bytes(if count == 0 { BLOCKED_DEFAULT_COUNT } else { count } as i64),
        alloc::vec![u8::from(noack)],
        group.unwrap_or_default().to_vec(),
        consumer.to_vec(),
    ];
    for (k, &key) in keys.iter().enumerate() {
        args.push(key.to_vec());
        args.push(ids.get(k).copied().flatten().unwrap_or(StreamId::MAX).encode().to_vec());
    }
    blocking::block(e, c.client, c.db, &keys, deadline, "stream", args, serve_stream);
    Reply::NilArray
}

fn decode_id(b: &[u8]) -> StreamId {
    let ms = b.get(..8).and_then(|x| x.try_into().ok()).map_or(0, u64::from_be_bytes);
    let seq = b.get(8..16).and_then(|x| x.try_into().ok()).map_or(0, u64::from_be_bytes);
    StreamId::new(ms, seq)
}

/// Serves a blocked XREAD/XREADGROUP from `key`, which holds a stream (serveClientsBlockedOnStreamKey).
fn serve_stream(e: &mut Engine, w: &Waiter, key: &[u8]) -> Option<Reply> {
    let is_group = w.args.first()?.as_slice() == b"group";
    let count = w.args.get(1).and_then(|n| parse_i64(n)).unwrap_or(0).max(0) as u64;
    let noack = w.args.get(2).is_some_and(|n| n.first() == Some(&1));
    let group = w.args.get(3)?.clone();
    let consumer = w.args.get(4)?.clone();
    let mut gt = w.args.get(5..)?.chunks(2).find(|p| p.first().is_some_and(|k| k.as_slice() == key)).map(|p| {
        decode_id(p.get(1).map(|v| v.as_slice()).unwrap_or_default())
    })?;
    let now = e.now;
    // The stream was deleted or replaced (signalDeletedKeyAsReady): XREADGROUP is told, XREAD waits on.
    if is_group && stream_mut(e, w.db, key).is_none() {
        return Some(Error::other("UNBLOCKED the stream key no longer exists").into());
    }
    let s = stream_mut(e, w.db, key)?;
    if is_group {
        match s.groups.get(&group) {
            None => {
                return Some(nogroup(String::from(
                    "NOGROUP the consumer group this client was blocked on no longer exists",
                )))
            }
            Some(g) => gt = g.last_id,
        }
    }
    if s.last_id <= gt {
        return None;
    }
    let entries = if is_group {
        let created = touch_consumer(e, (w.db, key), &group, &consumer);
        let s = stream_mut(e, w.db, key)?;
        let mut delivered = Delivered::default();
        let entries = deliver_new(s, &group, &consumer, gt, count, noack, now, &mut delivered);
        propagate_delivery(e, w.db, key, &group, &consumer, created && noack, noack, delivered);
        entries
    } else {
        let start = gt.incr()?;
        range_entries(s, start, StreamId::MAX, count as usize, false)
    };
    Some(streams_reply(e.resp_of(w.client), alloc::vec![(Reply::bulk(key), Reply::Array(entries))]))
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
fn xread(e: &mut Engine, c: &Ctx) -> Reply {
    xread_generic(e, c, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
fn xreadgroup(e: &mut Engine, c: &Ctx) -> Reply {
    // Never propagated as itself: as the XCLAIMs (and with NOACK the XGROUP commands) of what it delivered.
    crate::propagate::prevent(e);
    xread_generic(e, c, true)
}

// ---------------------------------------------------------------------------------------------------------------
// Groups

fn subcommand_syntax(c: &Ctx) -> Reply {
    Error::SubcommandSyntax { sub: lossy(c.arg(1), 128), container: lossy(c.arg(0), usize::MAX).to_ascii_uppercase() }
        .into()
}

/// XGROUP CREATE key group id | $ [MKSTREAM] [ENTRIESREAD entries-read],
/// XGROUP SETID key group id | $ [ENTRIESREAD entries-read], XGROUP DESTROY key group,
/// XGROUP CREATECONSUMER key group consumer, XGROUP DELCONSUMER key group consumer (xgroupCommand)
fn xgroup(e: &mut Engine, c: &Ctx) -> Reply {
    let sub = c.arg(1);
    let create = eq_ic(sub, "CREATE");
    let setid = eq_ic(sub, "SETID");
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    if (create || setid) && c.argc() >= 5 {
        let mut i = 5;
        while i < c.argc() {
            if create && eq_ic(c.arg(i), "MKSTREAM") {
                mkstream = true;
                i += 1;
            } else if eq_ic(c.arg(i), "ENTRIESREAD") && i + 1 < c.argc() {
                match parse_long(c.arg(i + 1)) {
                    Ok(n) if n < 0 && n != INVALID_ENTRIES_READ => {
                        return Error::other("ERR value for ENTRIESREAD must be positive or -1").into()
                    }
                    Ok(n) => entries_read = n,
                    Err(err) => return err.into(),
                }
                i += 2;
            } else {
                return subcommand_syntax(c);
            }
        }
    }
    let key = c.arg(2);
    let grp = c.arg(3);
    let exists = match write_stream(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(s) => s.is_some(),
    };
    if !exists && !mkstream {
        return Error::other(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the \
             MKSTREAM option to create an empty stream automatically.",
        )
        .into();
    }
    let has_group = exists && stream_mut(e, c.db, key).is_some_and(|s| s.groups.contains_key(grp));
    if !has_group && !create && !eq_ic(sub, "DESTROY") {
        return no_such_group_for_key(grp, key);
    }
    let now = e.now;
    if create {
        if c.argc() > 8 {
            return subcommand_syntax(c);
        }
        let id = if c.arg(4) == b"$" {
            stream_mut(e, c.db, key).map_or(StreamId::MIN, |s| s.last_id)
        } else {
            match parse_strict_id(c.arg(4)) {
                Ok(id) => id,
                Err(err) => return err.into(),
            }
        };
        if !exists {
            create_stream(e, c.db, key);
        }
        let Some(s) = stream_mut(e, c.db, key) else { return Reply::Nil };
        if s.groups.contains_key(grp) {
            return Error::other("BUSYGROUP Consumer Group name already exists").into();
        }
        s.groups.insert(grp.to_vec(), Group::new(id, entries_read));
        e.dirty += 1;
        notify(e, notify::STREAM, "xgroup-create", key, c.db);
        return Reply::ok();
    }
    let Some(s) = stream_mut(e, c.db, key) else { return Reply::Nil };
    if setid {
        if c.argc() != 5 && c.argc() != 7 {
            return subcommand_syntax(c);
        }
        let id = if c.arg(4) == b"$" {
            s.last_id
        } else {
            match parse_id_generic(c.arg(4), 0, false, false) {
                Ok((id, _)) => id,
                Err(err) => return err.into(),
            }
        };
        if let Some(g) = s.groups.get_mut(grp) {
            g.last_id = id;
            g.entries_read = entries_read;
        }
        e.dirty += 1;
        notify(e, notify::STREAM, "xgroup-setid", key, c.db);
        return Reply::ok();
    }
    if eq_ic(sub, "DESTROY") {
        if s.groups.remove(grp).is_some() {
            e.dirty += 1;
            // Clients blocked in XREADGROUP on this group get their NOGROUP error.
            e.db_mut(c.db).signal_key_as_ready(key);
            notify(e, notify::STREAM, "xgroup-destroy", key, c.db);
            return Reply::Integer(1);
        }
        return Reply::Integer(0);
    }
    let name = c.arg(4);
    let Some(g) = s.groups.get_mut(grp) else { return Reply::Integer(0) };
    if eq_ic(sub, "CREATECONSUMER") {
        let created = g.create_consumer(name, now);
        if created {
            e.dirty += 1;
            notify(e, notify::STREAM, "xgroup-createconsumer", key, c.db);
        }
        return Reply::Integer(i64::from(created));
    }
    // DELCONSUMER
    match g.delete_consumer(name) {
        Some(pending) => {
            e.dirty += 1;
            notify(e, notify::STREAM, "xgroup-delconsumer", key, c.db);
            Reply::Integer(pending as i64)
        }
        None => Reply::Integer(0),
    }
}

/// XGROUP HELP
fn xgroup_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    super::connection::help_reply(&[
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ])
}

/// XACK key group id [id ...]
fn xack(e: &mut Engine, c: &Ctx) -> Reply {
    let grp = c.arg(2);
    match read_stream(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(Some(s)) if s.groups.contains_key(grp) => {}
        Ok(_) => return Reply::Integer(0),
    }
    let mut ids = Vec::new();
    for &arg in c.argv.get(3..).unwrap_or_default() {
        match parse_strict_id(arg) {
            Ok(id) => ids.push(id),
            Err(err) => return err.into(),
        }
    }
    let Some(g) = stream_mut(e, c.db, c.arg(1)).and_then(|s| s.groups.get_mut(grp)) else {
        return Reply::Integer(0);
    };
    let mut acked = 0;
    for id in ids {
        if g.remove_pending(&id) {
            acked += 1;
        }
    }
    e.dirty += acked;
    Reply::Integer(acked as i64)
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
fn xpending(e: &mut Engine, c: &Ctx) -> Reply {
    let argc = c.argc();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return Error::Syntax.into();
    }
    let mut minidle: i64 = 0;
    let mut range = (StreamId::MIN, StreamId::MAX, 0i64);
    let mut consumer: Option<&[u8]> = None;
    if argc >= 6 {
        let mut startidx = 3;
        if eq_ic(c.arg(3), "IDLE") {
            match parse_long(c.arg(4)) {
                Ok(n) => minidle = n,
                Err(err) => return err.into(),
            }
            if argc < 8 {
                return Error::Syntax.into();
            }
            startidx += 2;
        }
        let count = match parse_long(c.arg(startidx + 2)) {
            Ok(n) => n.max(0),
            Err(err) => return err.into(),
        };
        let start = match parse_range_start(c.arg(startidx)) {
            Ok(id) => id,
            Err(err) => return err.into(),
        };
        let end = match parse_range_end(c.arg(startidx + 1)) {
            Ok(id) => id,
            Err(err) => return err.into(),
        };
        range = (start, end, count);
        if startidx + 3 < argc {
            consumer = Some(c.arg(startidx + 3));
        }
    }
    let (key, grp) = (c.arg(1), c.arg(2));
    let now = e.now;
    let s = match read_stream(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(s) => s,
    };
    let Some(g) = s.and_then(|s| s.groups.get(grp)) else {
        return no_such_key_or_group(key, grp);
    };
    if justinfo {
        let (Some(first), Some(last)) = (g.pel.keys().next(), g.pel.keys().next_back()) else {
            return Reply::Array(alloc::vec![Reply::Integer(0), Reply::Nil, Reply::Nil, Reply::NilArray]);
        };
        let owners: Vec<Reply> = g
            .consumers
            .iter()
            .filter(|(_, cons)| !cons.pel.is_empty())
            .map(|(name, cons)| {
                Reply::Array(alloc::vec![Reply::bulk(name), Reply::Bulk(crate::util::i64_bytes(cons.pel.len() as i64))])
            })
            .collect();
        return Reply::Array(alloc::vec![
            Reply::Integer(g.pel.len() as i64),
            id_reply(first),
            id_reply(last),
            Reply::Array(owners)
        ]);
    }
    let (start, end, mut count) = range;
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(name) {
            None => return Reply::Array(Vec::new()),
            Some(cons) if start <= end => cons.pel.range(start..=end).copied().collect(),
            Some(_) => Vec::new(),
        },
        None if start <= end => g.pel.range(start..=end).map(|(id, _)| *id).collect(),
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        let idle = (now as i64).wrapping_sub(nack.delivery_time as i64);
        if minidle != 0 && idle < minidle {
            continue;
        }
        count -= 1;
        out.push(Reply::Array(alloc::vec![
            id_reply(&id),
            Reply::bulk(&nack.consumer),
            Reply::Integer(idle.max(0)),
            Reply::Integer(nack.delivery_count as i64),
        ]));
    }
    Reply::Array(out)
}

/// Claims the pending entry `id` for `consumer` (creating the consumer), as XCLAIM and XAUTOCLAIM do.
/// True when the consumer was created (the caller fires `xgroup-createconsumer`).
fn claim_one(g: &mut Group, id: StreamId, consumer: &[u8], delivery_time: u64, retry: Option<u64>, justid: bool, now: u64) -> bool {
    let mut created = false;
    if !g.consumers.contains_key(consumer) {
        created = g.create_consumer(consumer, now);
    } else if let Some(cons) = g.consumers.get_mut(consumer) {
        cons.seen_time = now;
    }
    g.reassign(id, consumer);
    if let Some(nack) = g.pel.get_mut(&id) {
        nack.delivery_time = delivery_time;
        match retry {
            Some(n) => nack.delivery_count = n,
            None if !justid => nack.delivery_count += 1,
            None => {}
        }
    }
    created
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
fn xclaim(e: &mut Engine, c: &Ctx) -> Reply {
    let (key, grp, name) = (c.arg(1), c.arg(2), c.arg(3));
    if let Err(reply) = require_group(e, c.db, key, grp) {
        return reply;
    }
    let minidle = match parse_i64(c.arg(4)) {
        Some(n) => n.max(0),
        None => return Error::other("ERR Invalid min-idle-time argument for XCLAIM").into(),
    };
    let mut ids = Vec::new();
    let mut j = 5;
    while j < c.argc() {
        match parse_strict_id(c.arg(j)) {
            Ok(id) => ids.push((id, c.arg(j))),
            Err(_) => break,
        }
        j += 1;
    }
    let now = e.now as i64;
    let mut force = false;
    let mut justid = false;
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < c.argc() {
        let moreargs = c.argc() - 1 - j;
        let opt = c.arg(j);
        if eq_ic(opt, "FORCE") {
            force = true;
        } else if eq_ic(opt, "JUSTID") {
            justid = true;
        } else if eq_ic(opt, "IDLE") && moreargs > 0 {
            j += 1;
            match parse_i64(c.arg(j)) {
                Some(n) => delivery = Some(now.wrapping_sub(n)),
                None => return Error::other("ERR Invalid IDLE option argument for XCLAIM").into(),
            }
        } else if eq_ic(opt, "TIME") && moreargs > 0 {
            j += 1;
            match parse_i64(c.arg(j)) {
                Some(n) => delivery = Some(n),
                None => return Error::other("ERR Invalid TIME option argument for XCLAIM").into(),
            }
        } else if eq_ic(opt, "RETRYCOUNT") && moreargs > 0 {
            j += 1;
            match parse_i64(c.arg(j)) {
                Some(n) => retry = Some(n),
                None => return Error::other("ERR Invalid RETRYCOUNT option argument for XCLAIM").into(),
            }
        } else if eq_ic(opt, "LASTID") && moreargs > 0 {
            j += 1;
            match parse_strict_id(c.arg(j)) {
                Ok(id) => last_id = id,
                Err(err) => return err.into(),
            }
        } else {
            return Error::Other(alloc::format!("ERR Unrecognized XCLAIM option '{}'", lossy(opt, usize::MAX))).into();
        }
        j += 1;
    }
    // Redis takes -1 as "not given", so an explicit IDLE/TIME landing on -1 means now as well.
    let delivery_time = match delivery {
        Some(t) if t != -1 && (0..=now).contains(&t) => t as u64,
        _ => now as u64,
    };
    let retry = retry.filter(|&n| n >= 0).map(|n| n as u64);
    // XCLAIM never propagates as itself: as one XCLAIM per entry it claimed or dropped (with FORCE, JUSTID and
    // the resulting state), and as XGROUP SETID when only LASTID moved the group.
    crate::propagate::prevent(e);
    let propagating = e.propagation_enabled();
    // (consumer, ID as given, delivery time, delivery count, the group's last ID) per XCLAIM to propagate.
    type Claim<'a> = (Vec<u8>, &'a [u8], u64, u64, StreamId);
    let mut claims: Vec<Claim> = Vec::new();
    let Some(s) = stream_mut(e, c.db, key) else { return Reply::Nil };
    let mut dirty = 0;
    let mut created = false;
    let mut propagate_last_id = false;
    if let Some(g) = s.groups.get_mut(grp) {
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    let mut out = Vec::new();
    for (id, id_arg) in ids {
        let exists = s.entries.contains_key(&id);
        let Some(g) = s.groups.get_mut(grp) else { break };
        if !exists {
            let old = g.pel.get(&id).cloned();
            if g.remove_pending(&id) {
                dirty += 1;
                if let (true, Some(n)) = (propagating, old) {
                    claims.push((n.consumer, id_arg, n.delivery_time, n.delivery_count, g.last_id));
                    propagate_last_id = false;
                }
            }
            continue;
        }
        let mut forced = false;
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(id, Nack { delivery_time: now as u64, delivery_count: 1, consumer: Vec::new() });
            forced = true;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if !forced && minidle != 0 && now.wrapping_sub(nack.delivery_time as i64) < minidle {
            continue;
        }
        created |= claim_one(g, id, name, delivery_time, retry, justid, now as u64);
        if let (true, Some(n)) = (propagating, g.pel.get(&id)) {
            claims.push((name.to_vec(), id_arg, n.delivery_time, n.delivery_count, g.last_id));
            propagate_last_id = false;
        }
        if justid {
            out.push(id_reply(&id));
        } else {
            out.push(single_entry(s, &id).unwrap_or(Reply::Nil));
        }
        dirty += 1;
    }
    e.dirty += dirty;
    for (consumer, id_arg, time, count, last) in claims {
        propagate_xclaim(e, c.db, key, grp, &consumer, id_arg, time, count, last);
    }
    if propagate_last_id {
        propagate_group_id(e, c.db, key, grp);
        e.dirty += 1;
    }
    // XCLAIM fires no event of its own; only the consumer it created has one.
    if created {
        notify(e, notify::STREAM, "xgroup-createconsumer", key, c.db);
    }
    Reply::Array(out)
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
fn xautoclaim(e: &mut Engine, c: &Ctx) -> Reply {
    let (key, grp, name) = (c.arg(1), c.arg(2), c.arg(3));
    let minidle = match parse_i64(c.arg(4)) {
        Some(n) => n.max(0),
        None => return Error::other("ERR Invalid min-idle-time argument for XAUTOCLAIM").into(),
    };
    let start = match parse_range_start(c.arg(5)) {
        Ok(id) => id,
        Err(err) => return err.into(),
    };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < c.argc() {
        let moreargs = c.argc() - 1 - j;
        if eq_ic(c.arg(j), "COUNT") && moreargs > 0 {
            let max = i64::MAX / 16;
            match parse_i64(c.arg(j + 1)) {
                Some(n) if (1..=max).contains(&n) => count = n,
                _ => return Error::other("ERR COUNT must be > 0").into(),
            }
            j += 1;
        } else if eq_ic(c.arg(j), "JUSTID") {
            justid = true;
        } else {
            return Error::Syntax.into();
        }
        j += 1;
    }
    if let Err(reply) = require_group(e, c.db, key, grp) {
        return reply;
    }
    // Redis allocates room for `count` deleted IDs up front and answers this when the allocation fails; the
    // point where it fails depends on the machine, here past 2^34 IDs (256 GiB).
    if count > 1 << 34 {
        return Error::other("ERR Insufficient memory, failed allocating transient memory, COUNT too high.").into();
    }
    let now = e.now;
    // Never propagated as itself: one XCLAIM per entry claimed or found deleted.
    crate::propagate::prevent(e);
    let propagating = e.propagation_enabled();
    let mut claims: Vec<(Vec<u8>, StreamId, u64, u64, StreamId)> = Vec::new();
    let Some(s) = stream_mut(e, c.db, key) else { return Reply::Nil };
    let mut attempts = count.saturating_mul(10);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut dirty = 0;
    let mut created = false;
    let mut cursor = Some(start);
    let mut next_cursor = StreamId::MIN;
    loop {
        // The loop condition of Redis: attempts--, count, then the next pending entry.
        let exhausted = attempts == 0;
        attempts -= 1;
        if exhausted || count == 0 {
            // The cursor is the entry after the last one looked at.
            next_cursor = cursor
                .and_then(|from| s.groups.get(grp).and_then(|g| g.pel.range(from..).next().map(|(id, _)| *id)))
                .unwrap_or(StreamId::MIN);
            break;
        }
        let Some(from) = cursor else { break };
        let Some(id) = s.groups.get(grp).and_then(|g| g.pel.range(from..).next().map(|(id, _)| *id)) else {
            break;
        };
        cursor = id.incr();
        let exists = s.entries.contains_key(&id);
        let Some(g) = s.groups.get_mut(grp) else { break };
        if !exists {
            if let (true, Some(n)) = (propagating, g.pel.get(&id)) {
                claims.push((n.consumer.clone(), id, n.delivery_time, n.delivery_count, g.last_id));
            }
            g.remove_pending(&id);
            deleted.push(id_reply(&id));
            dirty += 1;
            count -= 1;
            continue;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if minidle != 0 && (now as i64).wrapping_sub(nack.delivery_time as i64) < minidle {
            continue;
        }
        created |= claim_one(g, id, name, now, None, justid, now);
        if let (true, Some(n)) = (propagating, g.pel.get(&id)) {
            claims.push((name.to_vec(), id, n.delivery_time, n.delivery_count, g.last_id));
        }
        if justid {
            claimed.push(id_reply(&id));
        } else {
            claimed.push(single_entry(s, &id).unwrap_or(Reply::Nil));
        }
        count -= 1;
        dirty += 1;
    }
    e.dirty += dirty;
    for (consumer, id, time, n, last) in claims {
        propagate_xclaim(e, c.db, key, grp, &consumer, &id.to_bytes(), time, n, last);
    }
    if created {
        notify(e, notify::STREAM, "xgroup-createconsumer", key, c.db);
    }
    Reply::Array(alloc::vec![id_reply(&next_cursor), Reply::Array(claimed), Reply::Array(deleted)])
}

// ---------------------------------------------------------------------------------------------------------------
// Introspection

fn lag_reply(s: &Stream, g: &Group) -> Reply {
    match s.lag(g) {
        Some(n) => Reply::Integer(n),
        None => Reply::Nil,
    }
}

fn entries_read_reply(g: &Group) -> Reply {
    if g.entries_read == INVALID_ENTRIES_READ {
        Reply::Nil
    } else {
        Reply::Integer(g.entries_read)
    }
}

fn field(name: &str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk_str(name), value)
}

/// XINFO STREAM key [FULL [COUNT count]], XINFO GROUPS key, XINFO CONSUMERS key group (xinfoCommand)
fn xinfo(e: &mut Engine, c: &Ctx) -> Reply {
    let sub = c.arg(1);
    let key = c.arg(2);
    let now = e.now;
    let s = match read_stream(e, c.db, key) {
        Err(err) => return err.into(),
        Ok(None) => return Error::NoSuchKey.into(),
        Ok(Some(s)) => s,
    };
    if eq_ic(sub, "CONSUMERS") {
        let grp = c.arg(3);
        let Some(g) = s.groups.get(grp) else {
            return no_such_group_for_key(grp, key);
        };
        return Reply::Array(
            g.consumers
                .iter()
                .map(|(name, cons)| {
                    Reply::Map(alloc::vec![
                        field("name", Reply::bulk(name)),
                        field("pending", Reply::Integer(cons.pel.len() as i64)),
                        field("idle", Reply::Integer((now as i64).wrapping_sub(cons.seen_time as i64).max(0))),
                    ])
                })
                .collect(),
        );
    }
    if eq_ic(sub, "GROUPS") {
        return Reply::Array(
            s.groups
                .iter()
                .map(|(name, g)| {
                    Reply::Map(alloc::vec![
                        field("name", Reply::bulk(name)),
                        field("consumers", Reply::Integer(g.consumers.len() as i64)),
                        field("pending", Reply::Integer(g.pel.len() as i64)),
                        field("last-delivered-id", id_reply(&g.last_id)),
                        field("entries-read", entries_read_reply(g)),
                        field("lag", lag_reply(s, g)),
                    ])
                })
                .collect(),
        );
    }
    // STREAM
    let optc = c.argc() - 3;
    let mut full = false;
    let mut count: i64 = 10;
    if optc != 0 {
        if (optc != 1 && optc != 3) || !eq_ic(c.arg(3), "FULL") || (optc == 3 && !eq_ic(c.arg(4), "COUNT")) {
            return subcommand_syntax(c);
        }
        full = true;
        if optc == 3 {
            match parse_long(c.arg(5)) {
                Ok(n) => count = if n < 0 { 10 } else { n },
                Err(err) => return err.into(),
            }
        }
    }
    let mut m = alloc::vec![
        field("length", Reply::Integer(s.len() as i64)),
        field("radix-tree-keys", Reply::Integer(s.rax_keys() as i64)),
        field("radix-tree-nodes", Reply::Integer(s.rax_nodes() as i64)),
        field("last-generated-id", id_reply(&s.last_id)),
        field("max-deleted-entry-id", id_reply(&s.max_deleted)),
        field("entries-added", Reply::Integer(s.entries_added as i64)),
        field("recorded-first-entry-id", id_reply(&s.first_id())),
    ];
    if !full {
        m.push(field("groups", Reply::Integer(s.groups.len() as i64)));
        let first = s.entries.iter().next().map_or(Reply::Nil, |(id, f)| entry_reply(id, f));
        let last = s.entries.iter().next_back().map_or(Reply::Nil, |(id, f)| entry_reply(id, f));
        m.push(field("first-entry", first));
        m.push(field("last-entry", last));
        return Reply::Map(m);
    }
    let limit = if count == 0 { usize::MAX } else { count as usize };
    m.push(field("entries", Reply::Array(range_entries(s, StreamId::MIN, StreamId::MAX, limit, false))));
    let groups: Vec<Reply> = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pending: Vec<Reply> = g
                .pel
                .iter()
                .take(limit)
                .map(|(id, n)| {
                    Reply::Array(alloc::vec![
                        id_reply(id),
                        Reply::bulk(&n.consumer),
                        Reply::Integer(n.delivery_time as i64),
                        Reply::Integer(n.delivery_count as i64),
                    ])
                })
                .collect();
            let consumers: Vec<Reply> = g
                .consumers
                .iter()
                .map(|(cname, cons)| {
                    let cpel: Vec<Reply> = cons
                        .pel
                        .iter()
                        .take(limit)
                        .filter_map(|id| g.pel.get(id).map(|n| (id, n)))
                        .map(|(id, n)| {
                            Reply::Array(alloc::vec![
                                id_reply(id),
                                Reply::Integer(n.delivery_time as i64),
                                Reply::Integer(n.delivery_count as i64),
                            ])
                        })
                        .collect();
                    Reply::Map(alloc::vec![
                        field("name", Reply::bulk(cname)),
                        field("seen-time", Reply::Integer(cons.seen_time as i64)),
                        field("pel-count", Reply::Integer(cons.pel.len() as i64)),
                        field("pending", Reply::Array(cpel)),
                    ])
                })
                .collect();
            Reply::Map(alloc::vec![
                field("name", Reply::bulk(name)),
                field("last-delivered-id", id_reply(&g.last_id)),
                field("entries-read", entries_read_reply(g)),
                field("lag", lag_reply(s, g)),
                field("pel-count", Reply::Integer(g.pel.len() as i64)),
                field("pending", Reply::Array(pending)),
                field("consumers", Reply::Array(consumers)),
            ])
        })
        .collect();
    m.push(field("groups", Reply::Array(groups)));
    Reply::Map(m)
}

/// XINFO HELP
fn xinfo_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    super::connection::help_reply(&[
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ])
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(e: &mut Engine, c: &Ctx) -> Reply {
    let id = match parse_strict_id(c.arg(2)) {
        Ok(id) => id,
        Err(err) => return err.into(),
    };
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < c.argc() {
        let moreargs = c.argc() - 1 - i;
        let opt = c.arg(i);
        if eq_ic(opt, "ENTRIESADDED") && moreargs > 0 {
            match parse_long(c.arg(i + 1)) {
                Ok(n) if n < 0 => return Error::other("ERR entries_added must be positive").into(),
                Ok(n) => entries_added = n,
                Err(err) => return err.into(),
            }
            i += 2;
        } else if eq_ic(opt, "MAXDELETEDID") && moreargs > 0 {
            match parse_strict_id(c.arg(i + 1)) {
                Ok(m) if id < m => {
                    return Error::other("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
                        .into()
                }
                Ok(m) => max_xdel = m,
                Err(err) => return err.into(),
            }
            i += 2;
        } else {
            return Error::Syntax.into();
        }
    }
    let s = match write_stream(e, c.db, c.arg(1)) {
        Err(err) => return err.into(),
        Ok(None) => return Error::NoSuchKey.into(),
        Ok(Some(s)) => s,
    };
    // Redis 7.0 does not compare the new ID with the current max-deleted-entry-id (later versions refuse one
    // below it).
    if !s.is_empty() {
        if id < s.last_valid_id() {
            return Error::other("ERR The ID specified in XSETID is smaller than the target stream top item").into();
        }
        if entries_added != -1 && s.len() as u64 > entries_added as u64 {
            return Error::other(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            )
            .into();
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted = max_xdel;
    }
    e.dirty += 1;
    notify(e, notify::STREAM, "xsetid", c.arg(1), c.db);
    Reply::ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_like_redis() {
        assert_eq!(parse_strict_id(b"1-2"), Ok(StreamId::new(1, 2)));
        assert_eq!(parse_strict_id(b"5"), Ok(StreamId::new(5, 0)));
        assert!(parse_strict_id(b"-").is_err());
        assert!(parse_strict_id(b"-1").is_err());
        assert!(parse_strict_id(b"1-2-3").is_err());
        assert_eq!(parse_strict_id(b"18446744073709551615-0"), Ok(StreamId::new(u64::MAX, 0)));
        assert!(parse_strict_id(b"18446744073709551616").is_err());
        assert_eq!(parse_id_generic(b"+", u64::MAX, false, false), Ok((StreamId::MAX, true)));
        assert_eq!(parse_id_generic(b"7-*", 0, true, true), Ok((StreamId::new(7, 0), false)));
        assert_eq!(string2ull(b" +5"), Some(5));
        assert_eq!(string2ull(b""), None);
    }
}
