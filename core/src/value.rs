//! The values a key can hold, and how each reports its type and encoding as Redis does.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::types::{Hash, List, Set, Stream, ZSet};
use crate::util::{parse_i64, Rng};

/// Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT: strings up to this length are embstr, longer ones raw.
pub const EMBSTR_SIZE_LIMIT: usize = 44;
/// Redis's OBJ_SHARED_INTEGERS: integers below this are shared objects (OBJECT REFCOUNT shows INT_MAX).
pub const SHARED_INTEGERS: i64 = 10_000;

/// The collections are boxed: every key's entry in the keyspace table is as large as the largest variant,
/// and a string key (most keys) would otherwise pay for a sorted set's inline fields. Boxed, a `Value` is the
/// size of an `RString` (32 bytes); unboxed it was 152, about 120 bytes more per key (BENCHMARKS.md, memory).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(RString),
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

impl Value {
    /// The name TYPE replies.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding.name(),
            Value::List(l) => l.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::Stream(x) => x.encoding_name(),
        }
    }

    /// Bytes the value takes as Redis lays it out (its `objectComputeSize`): the object header and what it
    /// points to, rounded to jemalloc's size classes where Redis makes one allocation of a known size. For the
    /// memory accounting (INFO used_memory, MEMORY USAGE, maxmemory), so it must be O(1): every write
    /// command recomputes it for the keys it changed.
    pub fn mem_usage(&self) -> usize {
        match self {
            Value::Str(s) => match s.encoding {
                // The integer lives in the object's pointer.
                StrEncoding::Int => ROBJ_SIZE,
                // Object header and sds in one allocation (createEmbeddedStringObject).
                StrEncoding::Embstr => alloc_size(ROBJ_SIZE + 3 + s.bytes.len() + 1),
                StrEncoding::Raw => ROBJ_SIZE + sds_alloc_size(s.bytes.len()),
            },
            Value::List(l) => ROBJ_SIZE + l.mem_usage(),
            Value::Hash(h) => ROBJ_SIZE + h.mem_usage(),
            Value::Set(s) => ROBJ_SIZE + s.mem_usage(),
            Value::ZSet(z) => ROBJ_SIZE + z.mem_usage(),
            Value::Stream(x) => ROBJ_SIZE + x.mem_usage(),
        }
    }
}

/// Redis's `robj` header (type, encoding, LRU/LFU field, refcount, pointer).
pub const ROBJ_SIZE: usize = 16;
/// Redis's `dictEntry` (key, value and next pointers), as MEMORY USAGE counts it (unrounded).
pub const DICT_ENTRY_SIZE: usize = 24;

/// jemalloc 5's size class for an allocation of `n` bytes (16-byte quantum): 8, 16, 32, 48, ..., 128, then four
/// classes per doubling (160, 192, 224, 256, 320, ...). Redis's figures are sums of these.
pub fn alloc_size(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    // Up to 128 the classes are the multiples of 16 (most keys and small strings: the fast path).
    if n <= 128 {
        return (n + 15) & !15;
    }
    let group = n.checked_next_power_of_two().unwrap_or(usize::MAX / 2 + 1) / 2;
    let delta = (group / 4).max(16);
    n.div_ceil(delta).saturating_mul(delta)
}

/// The allocation of an sds string of `len` bytes: its header (sdsReqType: 1, 3, 5, 9 or 17 bytes by length),
/// the bytes and the terminating zero.
pub fn sds_alloc_size(len: usize) -> usize {
    let header = match len {
        0..=31 => 1,
        32..=255 => 3,
        256..=65_535 => 5,
        _ if (len as u64) < 1 << 32 => 9,
        _ => 17,
    };
    alloc_size(header + len + 1)
}

/// What MEMORY USAGE reports for a key holding `value`: the value, the key's sds and the keyspace's dict entry
/// (Redis's memoryCommand). The engine keeps this figure in each `Entry` and sums it per database.
pub fn key_mem_usage(key: &[u8], value: &Value) -> usize {
    value.mem_usage() + sds_alloc_size(key.len()) + DICT_ENTRY_SIZE
}


/// A string value and the encoding Redis would have given it.
/// The encoding is observable (OBJECT ENCODING) and follows how the value was made, not only its bytes:
/// SET tries the compact encodings, APPEND and SETRANGE always leave a raw string.
#[derive(Clone, Debug, PartialEq)]
pub struct RString {
    pub bytes: Vec<u8>,
    pub encoding: StrEncoding,
    /// A private copy Redis never shares even when it holds a small integer (COPY's `dupStringObject`),
    /// so OBJECT REFCOUNT says 1 for it.
    pub unshared: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrEncoding {
    Int,
    Embstr,
    Raw,
}

impl StrEncoding {
    pub fn name(self) -> &'static str {
        match self {
            StrEncoding::Int => "int",
            StrEncoding::Embstr => "embstr",
            StrEncoding::Raw => "raw",
        }
    }
}

impl RString {
    /// What Redis's `tryObjectEncoding` makes of a value stored by SET, MSET, GETSET and friends.
    pub fn encoded(bytes: Vec<u8>) -> RString {
        let encoding = if bytes.len() <= 20 && parse_i64(&bytes).is_some() {
            StrEncoding::Int
        } else if bytes.len() <= EMBSTR_SIZE_LIMIT {
            StrEncoding::Embstr
        } else {
            StrEncoding::Raw
        };
        RString { bytes, encoding, unshared: false }
    }

    /// What `createStringObject` makes: embstr when short, raw otherwise, never int (INCRBYFLOAT results).
    pub fn plain(bytes: Vec<u8>) -> RString {
        let encoding = if bytes.len() <= EMBSTR_SIZE_LIMIT { StrEncoding::Embstr } else { StrEncoding::Raw };
        RString { bytes, encoding, unshared: false }
    }

    /// A string modified in place (APPEND, SETRANGE): always raw.
    pub fn raw(bytes: Vec<u8>) -> RString {
        RString { bytes, encoding: StrEncoding::Raw, unshared: false }
    }

    /// An integer result (INCR and friends): int encoded.
    pub fn from_i64(v: i64) -> RString {
        RString { bytes: crate::util::i64_bytes(v), encoding: StrEncoding::Int, unshared: false }
    }

    /// Whether Redis would share this object (integers 0..9999 when the eviction policy allows sharing).
    pub fn is_shared_integer(&self, sharing_allowed: bool) -> bool {
        sharing_allowed
            && !self.unshared
            && self.encoding == StrEncoding::Int
            && matches!(parse_i64(&self.bytes), Some(v) if (0..SHARED_INTEGERS).contains(&v))
    }
}

/// The refcount OBJECT REFCOUNT and DEBUG OBJECT report: Redis's shared integer objects carry
/// OBJ_SHARED_REFCOUNT (INT_MAX); every other value is referenced once.
pub fn refcount(value: &Value, sharing_allowed: bool) -> i64 {
    match value {
        Value::Str(s) if s.is_shared_integer(sharing_allowed) => i64::from(i32::MAX),
        _ => 1,
    }
}

/// A key's value with the bookkeeping Redis keeps in the object header.
#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    /// Time of the last access in ms, for OBJECT IDLETIME and LRU eviction.
    pub lru_ms: u64,
    /// The LFU counter (OBJECT FREQ) as Redis's 8-bit logarithmic counter.
    pub lfu: u8,
    /// The key's memory as last accounted (`key_mem_usage`, saturating at 4 GiB so the entry stays 48 bytes):
    /// what its database's total holds for it, so a removal subtracts exactly what was added. Set by `Db`.
    pub(crate) mem: u32,
}

/// Redis's LFU_INIT_VAL: a new key starts with this counter so it is not evicted at once.
pub const LFU_INIT_VAL: u8 = 5;

impl Entry {
    pub fn new(value: Value, now: u64) -> Entry {
        Entry { value, lru_ms: now, lfu: LFU_INIT_VAL, mem: 0 }
    }

    /// Records an access at `now` (Redis's lookupKey without LOOKUP_NOTOUCH): the access time, and under an
    /// LFU policy (`lfu` = `(lfu-log-factor, lfu-decay-time)`) the decayed-then-incremented counter (updateLFU).
    pub fn touch(&mut self, now: u64, lfu: Option<(u32, u32)>, rng: &mut Rng) {
        if let Some((log_factor, decay_time)) = lfu {
            let counter = self.lfu_decayed(now, decay_time);
            self.lfu = lfu_log_incr(counter, log_factor, rng);
        }
        self.lru_ms = now;
    }

    /// The LFU counter after decay: one less per `decay_time` minutes since the last access (LFUDecrAndReturn).
    /// Minutes are counted on Redis's 16-bit minute clock, wrap-around included.
    pub fn lfu_decayed(&self, now: u64, decay_time: u32) -> u8 {
        let now_min = (now / 60_000) & 0xffff;
        let last_min = (self.lru_ms / 60_000) & 0xffff;
        let elapsed = if now_min >= last_min { now_min - last_min } else { 65_535 - last_min + now_min };
        let periods = if decay_time == 0 { 0 } else { elapsed / decay_time as u64 };
        if periods >= self.lfu as u64 {
            0
        } else {
            self.lfu - periods as u8
        }
    }
}

/// Redis's LFULogIncr: the counter grows with probability 1 / ((counter - LFU_INIT_VAL) * log_factor + 1).
fn lfu_log_incr(counter: u8, log_factor: u32, rng: &mut Rng) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let r = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let baseval = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (baseval * log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}
