//! The values a key can hold, and how each reports its type and encoding as Redis does.

use alloc::vec::Vec;

use crate::util::parse_i64;

/// Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT: strings up to this length are embstr, longer ones raw.
pub const EMBSTR_SIZE_LIMIT: usize = 44;
/// Redis's OBJ_SHARED_INTEGERS: integers below this are shared objects (OBJECT REFCOUNT shows INT_MAX).
pub const SHARED_INTEGERS: i64 = 10_000;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(RString),
}

impl Value {
    /// The name TYPE replies.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding.name(),
        }
    }
}

/// A string value and the encoding Redis would have given it.
/// The encoding is observable (OBJECT ENCODING) and follows how the value was made, not only its bytes:
/// SET tries the compact encodings, APPEND and SETRANGE always leave a raw string.
#[derive(Clone, Debug, PartialEq)]
pub struct RString {
    pub bytes: Vec<u8>,
    pub encoding: StrEncoding,
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
        RString { bytes, encoding }
    }

    /// What `createStringObject` makes: embstr when short, raw otherwise, never int (INCRBYFLOAT results).
    pub fn plain(bytes: Vec<u8>) -> RString {
        let encoding = if bytes.len() <= EMBSTR_SIZE_LIMIT { StrEncoding::Embstr } else { StrEncoding::Raw };
        RString { bytes, encoding }
    }

    /// A string modified in place (APPEND, SETRANGE): always raw.
    pub fn raw(bytes: Vec<u8>) -> RString {
        RString { bytes, encoding: StrEncoding::Raw }
    }

    /// An integer result (INCR and friends): int encoded.
    pub fn from_i64(v: i64) -> RString {
        RString { bytes: crate::util::i64_bytes(v), encoding: StrEncoding::Int }
    }

    /// Whether Redis would share this object (integers 0..9999 when the eviction policy allows sharing).
    pub fn is_shared_integer(&self, sharing_allowed: bool) -> bool {
        sharing_allowed
            && self.encoding == StrEncoding::Int
            && matches!(parse_i64(&self.bytes), Some(v) if (0..SHARED_INTEGERS).contains(&v))
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
}

/// Redis's LFU_INIT_VAL: a new key starts with this counter so it is not evicted at once.
pub const LFU_INIT_VAL: u8 = 5;

impl Entry {
    pub fn new(value: Value, now: u64) -> Entry {
        Entry { value, lru_ms: now, lfu: LFU_INIT_VAL }
    }
}
