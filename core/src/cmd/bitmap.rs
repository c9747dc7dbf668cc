//! Bitmap commands on string values (Redis's bitops.c).
//!
//! Bits are numbered from the most significant bit of the first byte, as SETBIT and BITFIELD see them.
//! The bit-level workers come first (counting, searching, reading and writing fields, overflow rules),
//! then the lookups shared by the commands, then the commands, each with its syntax above it.
//!
//! Lookups follow Redis's: GETBIT, BITCOUNT, BITPOS, BITOP's sources and a BITFIELD of GETs only read
//! (keyspace hits and misses); SETBIT and a writing BITFIELD look the key up for writing.
//! A string read as bits is its bytes; an int-encoded one reads as its decimal text, as in Redis.
//! A string written as bits (SETBIT, a writing BITFIELD, even one whose writes all fail) becomes raw-encoded,
//! as Redis's dbUnshareStringValue makes it, and BITOP's result is raw whatever its length.
//!
//! Memory: bit offsets go up to `proto-max-bulk-len` * 8 - 1 (2^32 - 1 by default), so one SETBIT may grow a
//! string to 512 MB, as in Redis. When `maxmemory` is set, a growth that would take the engine's memory
//! estimate past it is refused with Redis's OOM error before anything is allocated (Redis allocates, then
//! refuses the next writes): that is what keeps `SETBIT k 4294967295 1` from taking a browser tab down.
//! Only growths of `LARGE_GROWTH` bytes or more are checked; a smaller one is no different from any SET, and is
//! left to eviction before the next command, as in Redis (`crate::evict`). Without `maxmemory`,
//! growth is allowed as in Redis, and an allocation that fails answers the OOM error instead of aborting.

use alloc::vec::Vec;

use super::string::read_string;
use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::notify::{self, notify};
use crate::reply::Reply;
use crate::util::parse_i64;
use crate::value::{Entry, RString, StrEncoding, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("bitcount", bitcount),
    ("bitfield", bitfield),
    ("bitfield_ro", bitfield_ro),
    ("bitop", bitop),
    ("bitpos", bitpos),
    ("getbit", getbit),
    ("setbit", setbit),
];

/// Growths from this size on are checked against `maxmemory` before anything is allocated.
const LARGE_GROWTH: u64 = 64 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Bits.

/// Bit `i` of `s` (0 or 1); bits past the end read as 0, as the string were zero-padded.
fn bit_at(s: &[u8], i: u64) -> u64 {
    let byte = usize::try_from(i >> 3).ok().and_then(|b| s.get(b)).copied().unwrap_or(0);
    u64::from(byte >> (7 - (i & 7)) & 1)
}

/// Sets bit `i` of `s` to `v`; the caller has grown `s` to hold it.
fn set_bit_at(s: &mut [u8], i: u64, v: u64) {
    if let Some(byte) = usize::try_from(i >> 3).ok().and_then(|b| s.get_mut(b)) {
        let mask = 1u8 << (7 - (i & 7));
        if v & 1 == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// The number of set bits among bits `first..=last` of `s` (both within it).
fn count_bits(s: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = (first >> 3, last >> 3);
    let whole = |from: u64, to: u64| -> u64 {
        // Bytes from..to, counted eight at a time: BITCOUNT of a 512 MB string stays fast.
        let slice = s.get(from as usize..to as usize).unwrap_or_default();
        let mut chunks = slice.chunks_exact(8);
        let mut n: u64 = 0;
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            n += u64::from(u64::from_ne_bytes(word).count_ones());
        }
        n + chunks.remainder().iter().map(|b| u64::from(b.count_ones())).sum::<u64>()
    };
    let partial = |from: u64, to: u64| (from..=to).map(|i| bit_at(s, i)).sum::<u64>();
    if fb == lb {
        return partial(first, last);
    }
    partial(first, fb * 8 + 7) + whole(fb + 1, lb) + partial(lb * 8, last)
}

/// The position of the first bit equal to `bit` among bits `first..=last` of `s` (both within it).
fn find_bit(s: &[u8], first: u64, last: u64, bit: u64) -> Option<u64> {
    let mut i = first;
    // Bits up to the first byte boundary, then whole bytes skipped while they hold no such bit, then the rest.
    while i <= last && i & 7 != 0 {
        if bit_at(s, i) == bit {
            return Some(i);
        }
        i += 1;
    }
    let (from, to) = (i >> 3, (last + 1) >> 3);
    if from < to {
        let skip = if bit == 1 { 0x00 } else { 0xff };
        let bytes = s.get(from as usize..to as usize).unwrap_or_default();
        match bytes.iter().position(|&b| b != skip) {
            Some(k) => i = (from + k as u64) * 8,
            None => i = to * 8,
        }
    }
    while i <= last {
        if bit_at(s, i) == bit {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The `bits`-wide unsigned field at bit `offset` (Redis's getUnsignedBitfield, zero-padded past the end).
fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0, |v, j| (v << 1) | bit_at(s, offset + j))
}

/// The `bits`-wide two's complement field at bit `offset` (getSignedBitfield).
fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(s, offset, bits);
    if bits < 64 && v >> (bits - 1) & 1 == 1 {
        v |= u64::MAX << bits;
    }
    v as i64
}

/// Writes the low `bits` bits of `value` at bit `offset` (setUnsignedBitfield; signed values as their bits).
fn set_field(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        set_bit_at(s, offset + j, value >> (u64::from(bits) - 1 - j) & 1);
    }
}

/// BITFIELD's OVERFLOW modes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Redis's checkUnsignedBitfieldOverflow: whether `value + incr` leaves a `bits`-wide unsigned field, and if so
/// the value to store instead (wrapped or saturated; unused under FAIL). Computed with Redis's exact wrapping
/// arithmetic, so out-of-range SET values (`incr` 0) land where they land in Redis.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, mode: Overflow) -> Option<u64> {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let limit = if value > max || (incr > 0 && incr > max_incr) {
        max
    } else if incr < 0 && incr < min_incr {
        0
    } else {
        return None;
    };
    Some(match mode {
        Overflow::Wrap => value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0)),
        _ => limit,
    })
}

/// Redis's checkSignedBitfieldOverflow, with the same wrapping arithmetic (see `unsigned_overflow`).
fn signed_overflow(value: i64, incr: i64, bits: u32, mode: Overflow) -> Option<i64> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let limit = if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        max
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        min
    } else {
        return None;
    };
    Some(match mode {
        Overflow::Wrap => {
            let mut c = (value as u64).wrapping_add(incr as u64);
            if bits < 64 {
                let mask = u64::MAX << bits;
                if c >> (bits - 1) & 1 == 1 {
                    c |= mask;
                } else {
                    c &= !mask;
                }
            }
            c as i64
        }
        _ => limit,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments.

/// Whether an argument is `keyword`, compared as Redis's strcasecmp compares a C string: case-insensitively,
/// up to its first NUL byte.
fn keyword_is(arg: &[u8], keyword: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(keyword.as_bytes())
}

/// An argument as C sees it: up to its first NUL byte.
fn c_str(arg: &[u8]) -> &[u8] {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    arg.get(..end).unwrap_or(arg)
}

fn bit_offset_error() -> Error {
    Error::other("ERR bit offset is not an integer or out of range")
}

/// A bit offset (Redis's getBitOffsetFromArgument): a non-negative integer whose byte is below
/// `proto-max-bulk-len`. With `field_bits` (BITFIELD), `#n` means n times the field width; the product wraps
/// as Redis's does, and lands out of range or not as there.
fn parse_bit_offset(e: &Engine, arg: &[u8], field_bits: Option<u32>) -> Result<u64, Error> {
    let (digits, scale) = match (arg.split_first(), field_bits) {
        (Some((b'#', rest)), Some(bits)) => (rest, i64::from(bits)),
        _ => (arg, 1),
    };
    let offset = parse_i64(digits).ok_or_else(bit_offset_error)?.wrapping_mul(scale);
    if offset < 0 || (offset as u64 >> 3) >= e.config.proto_max_bulk_len {
        return Err(bit_offset_error());
    }
    Ok(offset as u64)
}

/// A BITFIELD type, `i1`..`i64` or `u1`..`u63`: (signed, bits).
fn parse_field_type(arg: &[u8]) -> Result<(bool, u32), Error> {
    let invalid = || Error::other("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    let (signed, rest) = match arg.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return Err(invalid()),
    };
    // Redis reads the width with strlen, so it ends at a NUL byte.
    match parse_i64(c_str(rest)) {
        Some(bits @ 1..=64) if signed => Ok((true, bits as u32)),
        Some(bits @ 1..=63) => Ok((false, bits as u32)),
        _ => Err(invalid()),
    }
}

/// BITCOUNT's and BITPOS's `BIT | BYTE` unit: true for BIT.
fn parse_unit(arg: &[u8]) -> Result<bool, Error> {
    if keyword_is(arg, "BIT") {
        Ok(true)
    } else if keyword_is(arg, "BYTE") {
        Ok(false)
    } else {
        Err(Error::Syntax)
    }
}

/// A `start end` range of BITCOUNT or BITPOS made absolute and clamped as Redis does, in bits:
/// `None` for an empty range. `len` is the string's length in bytes; `end` may lie past the string.
fn bit_range(len: u64, mut start: i64, mut end: i64, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    if start < 0 {
        start = start.saturating_add(total);
    }
    if end < 0 {
        end = end.saturating_add(total);
    }
    start = start.max(0);
    end = end.max(0).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits { (start, end) } else { (start * 8, end * 8 + 7) })
}

// ---------------------------------------------------------------------------------------------------------------
// Lookups.

/// Refuses a growth of `growth` bytes that would take the memory estimate past `maxmemory` (see the module
/// documentation for why this check exists and when it runs).
fn check_growth(e: &Engine, growth: u64) -> Result<(), Error> {
    let max = e.config.maxmemory;
    if growth == 0 || max == 0 {
        return Ok(());
    }
    if growth > max || (growth >= LARGE_GROWTH && e.used_memory().saturating_add(growth) > max) {
        return Err(Error::Oom);
    }
    Ok(())
}

/// Zero bytes, or the OOM error when they cannot be allocated.
fn zeroes(len: u64) -> Result<Vec<u8>, Error> {
    let len = usize::try_from(len).map_err(|_| Error::Oom)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::Oom)?;
    v.resize(len, 0);
    Ok(v)
}

/// Redis's lookupStringForBitCommand: the string at `key` for writing bits up to byte `min_len - 1`,
/// created zero-filled when missing, otherwise made raw and zero-padded to `min_len` bytes.
/// Answers the string and whether it was created or grew (a change even when no bit flips).
fn string_for_bits<'e>(e: &'e mut Engine, db: usize, key: &[u8], min_len: u64) -> Result<(&'e mut RString, bool), Error> {
    let old_len = match e.lookup_write(db, key) {
        None => None,
        Some(Entry { value: Value::Str(s), .. }) => Some(s.bytes.len() as u64),
        Some(_) => return Err(Error::WrongType),
    };
    check_growth(e, min_len.saturating_sub(old_len.unwrap_or(0)))?;
    if old_len.is_none() {
        let bytes = zeroes(min_len)?;
        let now = e.now;
        e.db_mut(db).set(key, Entry::new(Value::Str(RString::raw(bytes)), now));
    }
    let grew = old_len.is_none_or(|len| len < min_len);
    let s = match e.entry_mut(db, key) {
        Some(Entry { value: Value::Str(s), .. }) => s,
        _ => return Err(Error::WrongType),
    };
    if (s.bytes.len() as u64) < min_len {
        let more = usize::try_from(min_len - s.bytes.len() as u64).map_err(|_| Error::Oom)?;
        s.bytes.try_reserve_exact(more).map_err(|_| Error::Oom)?;
        s.bytes.resize(s.bytes.len() + more, 0);
    }
    // dbUnshareStringValue: an int or embstr string becomes a private raw one.
    s.encoding = StrEncoding::Raw;
    s.unshared = false;
    Ok((s, grew))
}

// ---------------------------------------------------------------------------------------------------------------
// SETBIT, GETBIT.

/// SETBIT key offset value
fn setbit(e: &mut Engine, c: &Ctx) -> Reply {
    let offset = match parse_bit_offset(e, c.arg(2), None) {
        Ok(o) => o,
        Err(err) => return err.into(),
    };
    let on = match parse_i64(c.arg(3)) {
        Some(v @ (0 | 1)) => v as u64,
        _ => return Error::other("ERR bit is not an integer or out of range").into(),
    };
    let (s, grew) = match string_for_bits(e, c.db, c.arg(1), (offset >> 3) + 1) {
        Ok(found) => found,
        Err(err) => return err.into(),
    };
    let old = bit_at(&s.bytes, offset);
    // A write that changes nothing (same bit, no growth) is not counted as a change, as in Redis 7.0.15.
    if grew || old != on {
        set_bit_at(&mut s.bytes, offset, on);
        e.dirty += 1;
        notify(e, notify::STRING, "setbit", c.arg(1), c.db);
    }
    Reply::Integer(old as i64)
}

/// GETBIT key offset
fn getbit(e: &mut Engine, c: &Ctx) -> Reply {
    let offset = match parse_bit_offset(e, c.arg(2), None) {
        Ok(o) => o,
        Err(err) => return err.into(),
    };
    match read_string(e, c.db, c.arg(1)) {
        Ok(s) => Reply::Integer(s.map_or(0, |s| bit_at(&s.bytes, offset)) as i64),
        Err(err) => err.into(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// BITCOUNT, BITPOS.

/// BITCOUNT key [start end [BYTE | BIT]]
fn bitcount(e: &mut Engine, c: &Ctx) -> Reply {
    // Redis 7.0 looks the key up first: a missing key answers 0 whatever the arguments.
    let s = match read_string(e, c.db, c.arg(1)) {
        Ok(Some(s)) => &s.bytes,
        Ok(None) => return Reply::Integer(0),
        Err(err) => return err.into(),
    };
    let len = s.len() as u64;
    let range = match c.argc() {
        2 => (len > 0).then(|| (0, len * 8 - 1)),
        4 | 5 => {
            let (Some(start), Some(end)) = (parse_i64(c.arg(2)), parse_i64(c.arg(3))) else {
                return Error::NotInteger.into();
            };
            // Both negative and crossed: empty, before clamping could turn it into the first byte.
            // Redis 7.0 answers this before it reads the unit, so a bad unit goes unnoticed here.
            if start < 0 && end < 0 && start > end {
                return Reply::Integer(0);
            }
            let in_bits = match c.argc() {
                5 => match parse_unit(c.arg(4)) {
                    Ok(b) => b,
                    Err(err) => return err.into(),
                },
                _ => false,
            };
            bit_range(len, start, end, in_bits)
        }
        _ => return Error::Syntax.into(),
    };
    Reply::Integer(range.map_or(0, |(first, last)| count_bits(s, first, last)) as i64)
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
fn bitpos(e: &mut Engine, c: &Ctx) -> Reply {
    let bit = match parse_i64(c.arg(2)) {
        Some(b @ (0 | 1)) => b as u64,
        Some(_) => return Error::other("ERR The bit argument must be 1 or 0.").into(),
        None => return Error::NotInteger.into(),
    };
    // A missing key is an endless run of zeroes, whatever the range.
    let s = match read_string(e, c.db, c.arg(1)) {
        Ok(Some(s)) => &s.bytes,
        Ok(None) => return Reply::Integer(if bit == 1 { -1 } else { 0 }),
        Err(err) => return err.into(),
    };
    let len = s.len() as u64;
    // Redis's order: start, then the unit, then end.
    let end_given = c.argc() >= 5;
    let range = match c.argc() {
        3 => (len > 0).then(|| (0, len * 8 - 1)),
        4..=6 => {
            let Some(start) = parse_i64(c.arg(3)) else { return Error::NotInteger.into() };
            let in_bits = match c.argc() {
                6 => match parse_unit(c.arg(5)) {
                    Ok(b) => b,
                    Err(err) => return err.into(),
                },
                _ => false,
            };
            let end = if end_given {
                match parse_i64(c.arg(4)) {
                    Some(end) => end,
                    None => return Error::NotInteger.into(),
                }
            } else {
                len as i64 - 1
            };
            bit_range(len, start, end, in_bits)
        }
        _ => return Error::Syntax.into(),
    };
    let Some((first, last)) = range else { return Reply::Integer(-1) };
    let pos = match find_bit(s, first, last, bit) {
        Some(pos) => pos as i64,
        None if bit == 1 || end_given => -1,
        // Looking for a clear bit with no end given: the string counts as zero-padded on the right.
        None => last as i64 + 1,
    };
    Reply::Integer(pos)
}

// ---------------------------------------------------------------------------------------------------------------
// BITOP.

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP <AND | OR | XOR | NOT> destkey key [key ...]
fn bitop(e: &mut Engine, c: &Ctx) -> Reply {
    let name = c.arg(1);
    let op = if keyword_is(name, "AND") {
        BitOp::And
    } else if keyword_is(name, "OR") {
        BitOp::Or
    } else if keyword_is(name, "XOR") {
        BitOp::Xor
    } else if keyword_is(name, "NOT") {
        BitOp::Not
    } else {
        return Error::Syntax.into();
    };
    if op == BitOp::Not && c.argc() != 4 {
        return Error::other("ERR BITOP NOT must be called with a single source key.").into();
    }
    let (dst, sources) = (c.arg(2), c.argv.get(3..).unwrap_or_default());
    // Every source is looked up in order (hits, misses, expiry); the first that is not a string stops it.
    for key in sources {
        if let Err(err) = read_string(e, c.db, key) {
            return err.into();
        }
    }
    let result = {
        let db = e.db(c.db);
        let srcs: Vec<&[u8]> = sources
            .iter()
            .map(|k| match db.keys.get(k) {
                Some(Entry { value: Value::Str(s), .. }) => s.bytes.as_slice(),
                _ => &[],
            })
            .collect();
        let max_len = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
        if let Err(err) = check_growth(e, max_len as u64) {
            return err.into();
        }
        let mut out = match zeroes(max_len as u64) {
            Ok(v) => v,
            Err(err) => return err.into(),
        };
        // A source shorter than the result reads as zero bytes past its end.
        let byte = |s: &[u8], j: usize| s.get(j).copied().unwrap_or(0);
        let (first, rest) = srcs.split_first().map_or((&[][..], &[][..]), |(f, r)| (*f, r));
        for (j, slot) in out.iter_mut().enumerate() {
            let mut acc = byte(first, j);
            match op {
                BitOp::Not => acc = !acc,
                BitOp::And => rest.iter().for_each(|s| acc &= byte(s, j)),
                BitOp::Or => rest.iter().for_each(|s| acc |= byte(s, j)),
                BitOp::Xor => rest.iter().for_each(|s| acc ^= byte(s, j)),
            }
            *slot = acc;
        }
        out
    };
    let len = result.len();
    if len > 0 {
        store(e, c.db, dst, RString::raw(result));
        e.dirty += 1;
        notify(e, notify::STRING, "set", dst, c.db);
    } else if e.db_mut(c.db).remove(dst).is_some() {
        // An empty result deletes the destination.
        e.dirty += 1;
        notify(e, notify::GENERIC, "del", dst, c.db);
    }
    Reply::Integer(len as i64)
}

/// Replaces whatever `key` holds with `s` and drops its expiry (Redis's setKey), keeping the LFU counter
/// under an LFU policy as dbOverwrite does.
fn store(e: &mut Engine, db: usize, key: &[u8], s: RString) {
    // setKey looks the destination up for writing, which may expire it first.
    e.expire_if_needed(db, key);
    let now = e.now;
    let lfu_policy = e.lfu_policy();
    let dbm = e.db_mut(db);
    let mut entry = Entry::new(Value::Str(s), now);
    if lfu_policy {
        if let Some(old) = dbm.keys.get(key) {
            entry.lfu = old.lfu;
        }
    }
    dbm.set(key, entry);
}

// ---------------------------------------------------------------------------------------------------------------
// BITFIELD.

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One GET, SET or INCRBY of a BITFIELD call, with the OVERFLOW mode in force where it appeared.
#[derive(Clone, Copy)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> ...]]
fn bitfield(e: &mut Engine, c: &Ctx) -> Reply {
    bitfield_generic(e, c, false)
}

/// BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]
fn bitfield_ro(e: &mut Engine, c: &Ctx) -> Reply {
    bitfield_generic(e, c, true)
}

/// The worker behind BITFIELD and BITFIELD_RO (bitfieldGeneric): every operation is parsed first, then the
/// key is looked up once (for reading when all are GETs, else for writing, grown to the farthest bit written),
/// then the operations run in order. `read_only` refuses SET and INCRBY after parsing, as Redis does.
fn bitfield_generic(e: &mut Engine, c: &Ctx, read_only: bool) -> Reply {
    let fields = match parse_fields(e, c) {
        Ok(f) => f,
        Err(err) => return err.into(),
    };
    let key = c.arg(1);
    // The farthest bit a SET or INCRBY reaches, if any writes.
    let highest_write = fields.iter().filter(|f| f.op != FieldOp::Get).map(|f| f.offset + u64::from(f.bits) - 1).max();
    let Some(highest) = highest_write else {
        return match read_string(e, c.db, key) {
            Ok(s) => {
                let bytes = s.map_or(&[][..], |s| s.bytes.as_slice());
                Reply::Array(fields.iter().map(|f| Reply::Integer(get_field(bytes, f))).collect())
            }
            Err(err) => err.into(),
        };
    };
    if read_only {
        return Error::other("ERR BITFIELD_RO only supports the GET subcommand").into();
    }
    let (s, grew) = match string_for_bits(e, c.db, key, (highest >> 3) + 1) {
        Ok(found) => found,
        Err(err) => return err.into(),
    };
    let mut changes = 0;
    let replies = fields
        .iter()
        .map(|f| {
            let (old, new, reply) = match (f.op, f.signed) {
                (FieldOp::Get, _) => return Reply::Integer(get_field(&s.bytes, f)),
                (op, true) => {
                    let old = get_signed(&s.bytes, f.offset, f.bits);
                    let (value, incr) = match op {
                        FieldOp::IncrBy(incr) => (old, incr),
                        FieldOp::Set(v) => (v, 0),
                        FieldOp::Get => (old, 0),
                    };
                    let overflowed = signed_overflow(value, incr, f.bits, f.overflow);
                    if overflowed.is_some() && f.overflow == Overflow::Fail {
                        return Reply::Nil;
                    }
                    let new = overflowed.unwrap_or_else(|| value.wrapping_add(incr));
                    // SET answers the old value, INCRBY the new one.
                    let reply = if matches!(op, FieldOp::Set(_)) { old } else { new };
                    (old as u64, new as u64, reply)
                }
                (op, false) => {
                    let old = get_unsigned(&s.bytes, f.offset, f.bits);
                    let (value, incr) = match op {
                        FieldOp::IncrBy(incr) => (old, incr),
                        FieldOp::Set(v) => (v as u64, 0),
                        FieldOp::Get => (old, 0),
                    };
                    let overflowed = unsigned_overflow(value, incr, f.bits, f.overflow);
                    if overflowed.is_some() && f.overflow == Overflow::Fail {
                        return Reply::Nil;
                    }
                    let new = overflowed.unwrap_or_else(|| value.wrapping_add(incr as u64));
                    let reply = if matches!(op, FieldOp::Set(_)) { old as i64 } else { new as i64 };
                    (old, new, reply)
                }
            };
            set_field(&mut s.bytes, f.offset, f.bits, new);
            // Redis 7.0.15 counts a write as a change when the string grew or the field's bits changed.
            if grew || old != new {
                changes += 1;
            }
            Reply::Integer(reply)
        })
        .collect();
    e.dirty += changes;
    if changes > 0 {
        notify(e, notify::STRING, "setbit", key, c.db);
    }
    Reply::Array(replies)
}

/// A GET's value.
fn get_field(s: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(s, f.offset, f.bits)
    } else {
        get_unsigned(s, f.offset, f.bits) as i64
    }
}

/// BITFIELD's operations, with Redis's errors in Redis's order (each operation's type, offset, then value).
fn parse_fields(e: &Engine, c: &Ctx) -> Result<Vec<Field>, Error> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < c.argc() {
        let remaining = c.argc() - j - 1;
        let sub = c.arg(j);
        let op = if keyword_is(sub, "GET") && remaining >= 2 {
            FieldOp::Get
        } else if keyword_is(sub, "SET") && remaining >= 3 {
            FieldOp::Set(0)
        } else if keyword_is(sub, "INCRBY") && remaining >= 3 {
            FieldOp::IncrBy(0)
        } else if keyword_is(sub, "OVERFLOW") && remaining >= 1 {
            let mode = c.arg(j + 1);
            overflow = if keyword_is(mode, "WRAP") {
                Overflow::Wrap
            } else if keyword_is(mode, "SAT") {
                Overflow::Sat
            } else if keyword_is(mode, "FAIL") {
                Overflow::Fail
            } else {
                return Err(Error::other("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(Error::Syntax);
        };
        let (signed, bits) = parse_field_type(c.arg(j + 1))?;
        let offset = parse_bit_offset(e, c.arg(j + 2), Some(bits))?;
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            FieldOp::Set(_) => FieldOp::Set(parse_i64(c.arg(j + 3)).ok_or(Error::NotInteger)?),
            FieldOp::IncrBy(_) => FieldOp::IncrBy(parse_i64(c.arg(j + 3)).ok_or(Error::NotInteger)?),
        };
        fields.push(Field { op, signed, bits, offset, overflow });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use alloc::vec;

    fn run(e: &mut Engine, c: u64, line: &str) -> Reply {
        e.run_line(c, line, 1_000_000).unwrap_or(Reply::Nil)
    }

    #[test]
    fn dirty_counts_changes_as_redis() {
        // Each line with the change of Redis's `rdb_changes_since_last_save` it causes (checked on 7.0.15):
        // writes that change no bit and grow nothing do not count; BITFIELD counts each changing write.
        let script = [
            ("SETBIT k 7 1", 1),
            ("SETBIT k 7 1", 0),
            ("SETBIT k 7 0", 1),
            ("SETBIT k 100 0", 1),
            ("SETBIT k 0 2", 0),
            ("GETBIT k 7", 0),
            ("BITFIELD k GET u8 0", 0),
            ("BITFIELD k SET u8 0 0", 0),
            ("BITFIELD k SET u8 0 1 SET u8 8 1 SET u8 8 1", 2),
            ("BITFIELD k INCRBY u8 0 0", 0),
            ("BITFIELD k OVERFLOW FAIL INCRBY u8 0 1000", 0),
            ("BITFIELD new OVERFLOW FAIL INCRBY u8 0 1000", 0),
            ("BITFIELD new2 SET u8 0 0 SET u8 8 0", 2),
            ("BITFIELD_RO k GET u8 0", 0),
            ("BITOP AND dst nokey nokey2", 0),
            ("BITOP AND dst k k", 1),
            ("BITOP AND dst k k", 1),
            ("BITOP AND dst nokey", 1),
            ("BITOP AND dst nokey", 0),
            ("BITOP NOT dst k k", 0),
            ("BITCOUNT k", 0),
            ("BITPOS k 1", 0),
        ];
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000_000);
        for (line, delta) in script {
            let before = e.dirty;
            run(&mut e, c, line);
            assert_eq!(e.dirty - before, delta, "{line}");
        }
        assert!(e.db(0).keys.contains_key(b"new"), "a BITFIELD whose writes all fail still creates its key");
    }

    #[test]
    fn growth_past_maxmemory_is_refused_before_allocating() {
        let mut e = Engine::new(Config { maxmemory: 1 << 20, ..Config::default() });
        let c = e.connect(1_000_000);
        let oom = Reply::Error(Error::Oom);
        assert_eq!(run(&mut e, c, "SETBIT k 4294967295 1"), oom);
        assert_eq!(run(&mut e, c, "SETBIT k 16777215 1"), oom);
        // Under maxmemory by itself, but not with what the engine already holds.
        assert_eq!(run(&mut e, c, "BITFIELD k SET u8 #1000000 1"), oom);
        assert!(!e.db(0).keys.contains_key(b"k"));
        assert_eq!(run(&mut e, c, "SETBIT k 800 1"), Reply::Integer(0));
        assert_eq!(run(&mut e, c, "BITOP NOT d k"), Reply::Integer(101));
        // Without maxmemory the same growth is allowed, as in Redis.
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000_000);
        assert_eq!(run(&mut e, c, "SETBIT k 16777215 1"), Reply::Integer(0));
        assert_eq!(run(&mut e, c, "STRLEN k"), Reply::Integer(2 << 20));
    }

    #[test]
    fn fields_read_and_write_across_bytes() {
        let mut s = vec![0u8; 2];
        set_field(&mut s, 7, 5, 23);
        assert_eq!(s, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&s, 7, 5), 23);
        assert_eq!(get_signed(&s, 7, 5), 23 - 32);
        // Past the end reads as zeroes.
        assert_eq!(get_unsigned(&s, 12, 64), 0);
    }

    #[test]
    fn overflow_rules_match_redis() {
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(-1, i64::MIN, 64, Overflow::Sat), Some(i64::MIN));
        // Redis's arithmetic: SET i8 to i64::MIN saturates to the maximum (checked on 7.0.15).
        assert_eq!(signed_overflow(i64::MIN, 0, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_overflow(5, 3, 8, Overflow::Sat), None);
        assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Wrap), Some(0));
        assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(u64::MAX, 0, 8, Overflow::Sat), Some(255));
    }

    #[test]
    fn searches_and_counts_bit_ranges() {
        let s = b"\x00\xff\x0f";
        assert_eq!(count_bits(s, 0, 23), 12);
        assert_eq!(count_bits(s, 3, 9), 2);
        assert_eq!(find_bit(s, 0, 23, 1), Some(8));
        assert_eq!(find_bit(s, 8, 15, 0), None);
        assert_eq!(find_bit(s, 9, 23, 0), Some(16));
        assert_eq!(find_bit(s, 20, 23, 0), None);
    }
}
