//! Reading RDB snapshots (versions 1 to 12) and DUMP payloads into new values (rdb.c's rdbLoadRio and
//! rdbLoadObject). Nothing here touches the keyspace: `load` returns the keys to install, `restore_value` one
//! value, so a refused input changes nothing.
//!
//! Values are built as Redis's loader builds them, so OBJECT ENCODING agrees after a load: a plain hash or
//! sorted set small enough becomes a listpack, a compact one too large for the configuration converts, an
//! intset past `set-max-intset-entries` becomes a hash table. Where Redis's loader checks deeply only when
//! `sanitize-dump-payload` asks, this reader always does (duplicates, counts, orderings), since the engine
//! must never hold a value its own code could trip over.

use alloc::string::String;
use alloc::vec::Vec;

use super::compact::{parse_intset, parse_ziplist, parse_zipmap};
use super::listpack::{self, Element};
use super::*;
use crate::crc64::crc64;
use crate::engine::Engine;
use crate::lzf;
use crate::types::hash::Limits as HashLimits;
use crate::types::list::End;
use crate::types::stream::{Consumer, Fields, Group, Nack, StreamId};
use crate::types::zset::Limits as ZSetLimits;
use crate::types::{Hash, List, Set, Stream, ZSet};
use crate::util::{strtod, Rng};
use crate::value::{Entry, RString, Value};

/// One key read from a snapshot, ready to install.
#[derive(Debug)]
pub struct LoadedKey {
    pub db: usize,
    pub key: Vec<u8>,
    pub entry: Entry,
    /// Absolute expiry, unix ms.
    pub expire: Option<u64>,
}

/// A snapshot read completely.
pub struct Loaded {
    pub keys: Vec<LoadedKey>,
    /// Keys not loaded because their expiry had passed.
    pub expired: u64,
    /// Function libraries skipped (the engine has no FUNCTION support yet).
    pub functions_skipped: u64,
    /// The engine's PRNG after drawing the new hashes' seeds; installed with the keys.
    pub(crate) rng: Rng,
    /// Bytes the snapshot took, its checksum included: in an AOF with an RDB preamble, commands follow.
    pub len: usize,
}

/// Why RESTORE refused a payload, as its two error replies tell apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// `ERR DUMP payload version or checksum are wrong`.
    VersionOrChecksum,
    /// `ERR Bad data format`.
    BadData,
}

type Result<T> = core::result::Result<T, RdbError>;

/// The parts of the configuration that decide encodings, and where new hashes' seeds come from.
struct Ctx<'a> {
    hash: HashLimits,
    zset: ZSetLimits,
    max_intset: usize,
    rng: &'a mut Rng,
    /// The time loaded hash fields' expiry is judged against.
    now: u64,
}

impl<'a> Ctx<'a> {
    fn new(e: &Engine, rng: &'a mut Rng) -> Ctx<'a> {
        let c = &e.config;
        Ctx {
            hash: HashLimits { max_entries: c.hash_max_listpack_entries, max_value: c.hash_max_listpack_value },
            zset: ZSetLimits { max_entries: c.zset_max_listpack_entries, max_value: c.zset_max_listpack_value },
            max_intset: c.set_max_intset_entries.min(usize::MAX as u64) as usize,
            rng,
            now: e.now,
        }
    }
}

/// Reads a whole snapshot, checking its CRC-64 (when the file has one, version 5 on) before anything is kept.
pub fn load(e: &Engine, rdb: &[u8]) -> Result<Loaded> {
    let magic = rdb.get(..9).ok_or(RdbError::Truncated)?;
    if magic.get(..5) != Some(&b"REDIS"[..]) {
        return Err(RdbError::Signature);
    }
    // atoi of the four digits: leading digits count, anything else stops it.
    let version = magic[5..].iter().take_while(|c| c.is_ascii_digit()).fold(0u32, |v, c| v * 10 + (c - b'0') as u32);
    if !(1..=MAX_READ_VERSION).contains(&version) {
        return Err(RdbError::Version(version));
    }
    let mut rng = e.rng.clone();
    let mut ctx = Ctx::new(e, &mut rng);
    let mut r = Reader { buf: rdb, pos: 9 };
    let now = e.now;
    let lfu_policy = e.lfu_policy();
    let databases = e.dbs.len();
    let mut keys: Vec<LoadedKey> = Vec::new();
    let mut seen: Vec<hashbrown::HashSet<Vec<u8>>> = Vec::new();
    let mut expired = 0u64;
    let mut functions_skipped = 0u64;
    let mut db = 0usize;
    let (mut expire, mut lru_idle, mut lfu_freq): (Option<i64>, Option<u64>, Option<u8>) = (None, None, None);
    loop {
        let t = r.byte()?;
        match t {
            OPCODE_EXPIRETIME => {
                let secs = i32::from_le_bytes(r.array()?);
                expire = Some(secs as i64 * 1000);
            }
            OPCODE_EXPIRETIME_MS => expire = Some(i64::from_le_bytes(r.array()?)),
            OPCODE_FREQ => lfu_freq = Some(r.byte()?),
            OPCODE_IDLE => lru_idle = Some(r.len()?),
            OPCODE_EOF => break,
            OPCODE_SELECTDB => {
                let i = r.len()?;
                if i >= databases as u64 {
                    return Err(RdbError::DbIndex(databases as u64));
                }
                db = i as usize;
            }
            OPCODE_RESIZEDB => {
                r.len()?;
                r.len()?;
            }
            OPCODE_AUX => {
                r.string()?;
                r.string()?;
            }
            OPCODE_MODULE_AUX => {
                let id = r.len()?;
                return Err(RdbError::Module(module_type_name(id)));
            }
            OPCODE_FUNCTION2 => {
                r.string()?;
                functions_skipped += 1;
            }
            OPCODE_FUNCTION_PRE_GA => {
                // 7.0 release candidates: name, engine, an optional description, the code.
                r.string()?;
                r.string()?;
                if r.len()? != 0 {
                    r.string()?;
                }
                r.string()?;
                functions_skipped += 1;
            }
            OPCODE_SLOT_INFO => {
                r.len()?;
                r.len()?;
                r.len()?;
            }
            t if is_object_type(t, TYPE_HASH_LISTPACK_EX) => {
                let key = r.string()?;
                let value = r.object(t, &mut ctx)?;
                let when = expire.take();
                let (idle, freq) = (lru_idle.take(), lfu_freq.take());
                // An empty collection (an old Redis bug could write one) is skipped, as Redis does.
                let Some(value) = value else { continue };
                // Keys past their time are skipped, except in an AOF's base: the commands after it may still
                // use them (Redis loads them with RDBFLAGS_AOF_PREAMBLE and lets them expire afterwards).
                if !e.loading && when.is_some_and(|w| w < now as i64) {
                    expired += 1;
                    continue;
                }
                if seen.len() <= db {
                    seen.resize_with(db + 1, hashbrown::HashSet::new);
                }
                if let Some(set) = seen.get_mut(db) {
                    if !set.insert(key.clone()) {
                        return Err(RdbError::DuplicateKey(key));
                    }
                }
                let mut entry = Entry::new(value, now);
                apply_lru_lfu(&mut entry, lfu_policy, freq, idle, now);
                keys.push(LoadedKey { db, key, entry, expire: when.map(|w| w.max(0) as u64) });
            }
            _ => return Err(RdbError::Corrupt("unknown RDB type or opcode")),
        }
    }
    if version >= 5 {
        let body_end = r.pos;
        let stored = u64::from_le_bytes(r.array()?);
        if stored != 0 && stored != crc64(0, rdb.get(..body_end).unwrap_or_default()) {
            return Err(RdbError::Checksum);
        }
    }
    Ok(Loaded { keys, expired, functions_skipped, rng, len: r.pos })
}

/// Redis's objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLE (seconds) otherwise.
pub fn apply_lru_lfu(entry: &mut Entry, lfu_policy: bool, freq: Option<u8>, idle_secs: Option<u64>, now: u64) {
    if lfu_policy {
        if let Some(f) = freq {
            entry.lfu = f;
        }
    } else if let Some(idle) = idle_secs {
        entry.lru_ms = now.saturating_sub(idle.saturating_mul(1000));
    }
}

/// RESTORE's reading of a DUMP payload (verifyDumpPayload, then rdbLoadObject): the footer's version must be at
/// most 10 and its CRC-64 right; the value is read from the start of the payload.
pub fn restore_value(e: &mut Engine, payload: &[u8]) -> core::result::Result<Value, RestoreError> {
    if payload.len() < 10 {
        return Err(RestoreError::VersionOrChecksum);
    }
    let footer = payload.len() - 10;
    let version = u16::from_le_bytes([payload[footer], payload[footer + 1]]);
    let crc = u64::from_le_bytes(payload[footer + 2..].try_into().map_err(|_| RestoreError::VersionOrChecksum)?);
    if version > DUMP_VERSION || crc != crc64(0, &payload[..payload.len() - 8]) {
        return Err(RestoreError::VersionOrChecksum);
    }
    let mut rng = e.rng.clone();
    let mut ctx = Ctx::new(e, &mut rng);
    // As Redis's rio over the whole buffer, a value may run into the footer's bytes; nothing checks the end.
    let mut r = Reader { buf: payload, pos: 0 };
    let t = r.byte().map_err(|_| RestoreError::BadData)?;
    if !is_object_type(t, TYPE_STREAM_LISTPACKS_2) {
        return Err(RestoreError::BadData);
    }
    match r.object(t, &mut ctx) {
        Ok(Some(v)) => {
            e.rng = rng;
            Ok(v)
        }
        _ => Err(RestoreError::BadData),
    }
}

/// rdbIsObjectType, up to the newest type the caller accepts.
fn is_object_type(t: u8, max: u8) -> bool {
    t <= TYPE_MODULE_2 || (TYPE_HASH_ZIPMAP..=max).contains(&t)
}

/// Redis's moduleTypeNameByID: the nine-character name packed in a module type ID.
fn module_type_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = id >> 10;
    let mut name = [0u8; 9];
    for slot in name.iter_mut().rev() {
        *slot = CHARSET[(id & 63) as usize];
        id >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

/// A cursor over the input; every read is checked.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

const ENC_INT8: u64 = 0;
const ENC_INT16: u64 = 1;
const ENC_INT32: u64 = 2;
const ENC_LZF: u64 = 3;

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(RdbError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(RdbError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(*self.take(1)?.first().ok_or(RdbError::Truncated)?)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| RdbError::Truncated)
    }

    /// rdbLoadLenByRef: a length, or (`true`) the number of a special string encoding.
    fn len_or_enc(&mut self) -> Result<(u64, bool)> {
        let b = self.byte()?;
        match b >> 6 {
            0 => Ok(((b & 0x3f) as u64, false)),
            1 => Ok(((((b & 0x3f) as u64) << 8) | self.byte()? as u64, false)),
            3 => Ok(((b & 0x3f) as u64, true)),
            _ => match b {
                0x80 => Ok((u32::from_be_bytes(self.array()?) as u64, false)),
                0x81 => Ok((u64::from_be_bytes(self.array()?), false)),
                _ => Err(RdbError::Corrupt("unknown length encoding")),
            },
        }
    }

    fn len(&mut self) -> Result<u64> {
        match self.len_or_enc()? {
            (n, false) => Ok(n),
            (_, true) => Err(RdbError::Corrupt("encoded value where a length was expected")),
        }
    }

    /// A length that counts items still to read: at most one per remaining byte, so a huge count in a small
    /// input is refused before anything is allocated for it.
    fn count(&mut self) -> Result<usize> {
        let n = self.len()?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(RdbError::Truncated);
        }
        Ok(n as usize)
    }

    /// rdbGenericLoadStringObject: plain, integer-encoded (as decimal text) or LZF-compressed.
    fn string(&mut self) -> Result<Vec<u8>> {
        match self.len_or_enc()? {
            (n, false) => Ok(self.take(usize::try_from(n).map_err(|_| RdbError::Truncated)?)?.to_vec()),
            (ENC_INT8, true) => Ok(crate::util::i64_bytes(self.byte()? as i8 as i64)),
            (ENC_INT16, true) => Ok(crate::util::i64_bytes(i16::from_le_bytes(self.array()?) as i64)),
            (ENC_INT32, true) => Ok(crate::util::i64_bytes(i32::from_le_bytes(self.array()?) as i64)),
            (ENC_LZF, true) => {
                let clen = self.len()?;
                let len = self.len()?;
                let data = self.take(usize::try_from(clen).map_err(|_| RdbError::Truncated)?)?;
                // LZF expands at most 88 times (a 3-byte back reference makes 264 bytes): a larger claim is
                // corrupt, and refusing it spares a huge allocation.
                if len > clen.saturating_mul(88).saturating_add(64) {
                    return Err(RdbError::Corrupt("invalid LZF compressed string"));
                }
                lzf::decompress(data, len as usize).ok_or(RdbError::Corrupt("invalid LZF compressed string"))
            }
            _ => Err(RdbError::Corrupt("unknown string encoding")),
        }
    }

    fn millis(&mut self) -> Result<u64> {
        Ok(i64::from_le_bytes(self.array()?) as u64)
    }

    /// rdbLoadDoubleValue: the old text form (a length byte, or 253/254/255 for nan/+inf/-inf).
    fn text_double(&mut self) -> Result<f64> {
        let n = self.byte()?;
        match n {
            255 => Ok(f64::NEG_INFINITY),
            254 => Ok(f64::INFINITY),
            253 => Ok(f64::NAN),
            _ => {
                let s = self.take(n as usize)?;
                let parsed = strtod(s);
                if parsed.consumed == 0 {
                    return Err(RdbError::Corrupt("invalid double"));
                }
                Ok(parsed.value)
            }
        }
    }

    fn binary_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// rdbLoadObject: one value of type `t`; `None` for an empty collection.
    fn object(&mut self, t: u8, ctx: &mut Ctx) -> Result<Option<Value>> {
        let value = match t {
            TYPE_STRING => Value::Str(RString::encoded(self.string()?)),
            TYPE_LIST => {
                let n = self.count()?;
                let mut list = List::new();
                for _ in 0..n {
                    list.push(self.string()?, End::Tail);
                }
                Value::List(list.into())
            }
            TYPE_SET => {
                let n = self.count()?;
                let mut members = Vec::new();
                for _ in 0..n {
                    members.push(self.string()?);
                }
                Value::Set(build_set(members.iter().map(Vec::as_slice), n, ctx.max_intset)?.into())
            }
            TYPE_ZSET | TYPE_ZSET_2 => {
                let n = self.count()?;
                let mut pairs = Vec::new();
                for _ in 0..n {
                    let member = self.string()?;
                    let score = if t == TYPE_ZSET_2 { self.binary_double()? } else { self.text_double()? };
                    pairs.push((member, score));
                }
                Value::ZSet(build_zset(pairs, false, ctx.zset)?.into())
            }
            TYPE_HASH => {
                let n = self.count()?;
                let mut pairs = Vec::new();
                for _ in 0..n {
                    let f = self.string()?;
                    let v = self.string()?;
                    pairs.push((f, v));
                }
                Value::Hash(build_hash(pairs, ctx.hash, ctx)?.into())
            }
            TYPE_MODULE_PRE_GA | TYPE_MODULE_2 => return Err(RdbError::Module(module_type_name(self.len()?))),
            TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
                let nodes = self.count()?;
                let mut list = List::new();
                for _ in 0..nodes {
                    // Quicklist 2 nodes say their container: 1 is one plain element, 2 a listpack.
                    let container = if t == TYPE_LIST_QUICKLIST_2 { self.len()? } else { 2 };
                    let blob = self.string()?;
                    if blob.is_empty() {
                        return Err(RdbError::Corrupt("empty quicklist node"));
                    }
                    match container {
                        1 => list.push(blob, End::Tail),
                        2 => {
                            let els = if t == TYPE_LIST_QUICKLIST_2 {
                                listpack::parse(&blob).ok_or(RdbError::Corrupt("listpack integrity check failed"))?
                            } else {
                                parse_ziplist(&blob).ok_or(RdbError::Corrupt("ziplist integrity check failed"))?
                            };
                            for el in els {
                                list.push(el.to_vec(), End::Tail);
                            }
                        }
                        _ => return Err(RdbError::Corrupt("quicklist integrity check failed")),
                    }
                }
                Value::List(list.into())
            }
            TYPE_HASH_ZIPMAP => {
                let blob = self.string()?;
                let pairs = parse_zipmap(&blob).ok_or(RdbError::Corrupt("zipmap integrity check failed"))?;
                let pairs = pairs.into_iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                Value::Hash(build_hash(pairs, ctx.hash, ctx)?.into())
            }
            TYPE_LIST_ZIPLIST => {
                let blob = self.string()?;
                let els = parse_ziplist(&blob).ok_or(RdbError::Corrupt("ziplist integrity check failed"))?;
                let mut list = List::new();
                for el in els {
                    list.push(el.to_vec(), End::Tail);
                }
                Value::List(list.into())
            }
            TYPE_SET_INTSET => {
                let blob = self.string()?;
                let ints = parse_intset(&blob).ok_or(RdbError::Corrupt("intset integrity check failed"))?;
                let mut set = Set::new_intset();
                for v in &ints {
                    set.add(&crate::util::i64_bytes(*v), ctx.max_intset);
                }
                Value::Set(set.into())
            }
            TYPE_SET_LISTPACK => {
                let blob = self.string()?;
                let els = listpack::parse(&blob).ok_or(RdbError::Corrupt("set listpack integrity check failed"))?;
                let members: Vec<Vec<u8>> = els.into_iter().map(Element::to_vec).collect();
                Value::Set(build_set(members.iter().map(Vec::as_slice), members.len(), ctx.max_intset)?.into())
            }
            TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
                let blob = self.string()?;
                let els = if t == TYPE_ZSET_LISTPACK {
                    listpack::parse(&blob).ok_or(RdbError::Corrupt("zset listpack integrity check failed"))?
                } else {
                    parse_ziplist(&blob).ok_or(RdbError::Corrupt("zset ziplist integrity check failed"))?
                };
                if els.len() % 2 != 0 {
                    return Err(RdbError::Corrupt("zset listpack with an odd number of elements"));
                }
                let mut pairs = Vec::with_capacity(els.len() / 2);
                for pair in els.chunks_exact(2) {
                    let (m, s) = (pair[0], pair[1]);
                    let score = match s {
                        Element::Int(v) => v as f64,
                        // zzlStrtod: strtod of the text, 0 when nothing converts.
                        Element::Str(text) => strtod(text).value,
                    };
                    if score.is_nan() {
                        return Err(RdbError::Corrupt("zset with a NaN score"));
                    }
                    pairs.push((m.to_vec(), score));
                }
                Value::ZSet(build_zset(pairs, true, ctx.zset)?.into())
            }
            TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
                let blob = self.string()?;
                let els = if t == TYPE_HASH_LISTPACK {
                    listpack::parse(&blob).ok_or(RdbError::Corrupt("hash listpack integrity check failed"))?
                } else {
                    parse_ziplist(&blob).ok_or(RdbError::Corrupt("hash ziplist integrity check failed"))?
                };
                if els.len() % 2 != 0 {
                    return Err(RdbError::Corrupt("hash listpack with an odd number of elements"));
                }
                let pairs = els.chunks_exact(2).map(|p| (p[0].to_vec(), p[1].to_vec())).collect();
                // A compact hash converts only for its count, not for long values (Redis checks the length alone).
                let limits = HashLimits { max_entries: ctx.hash.max_entries, max_value: usize::MAX };
                Value::Hash(build_hash(pairs, limits, ctx)?.into())
            }
            TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
                return self.stream(t).map(|s| Some(Value::Stream(s.into())));
            }
            // Redis 7.4's hashes with field expiry. The engine has no field expiry: a field whose time has
            // passed is left out, the others are kept without theirs.
            TYPE_HASH_METADATA_PRE_GA | TYPE_HASH_METADATA => {
                // 7.4 writes each time relative to the smallest (plus one, 0 meaning none); its release
                // candidates wrote absolute times without the base.
                let base = if t == TYPE_HASH_METADATA { Some(self.millis()?) } else { None };
                let n = self.count()?;
                let mut pairs = Vec::new();
                for _ in 0..n {
                    let ttl = self.len()?;
                    let expire_at = match base {
                        Some(b) if ttl != 0 => ttl.wrapping_add(b).wrapping_sub(1),
                        _ => ttl,
                    };
                    let f = self.string()?;
                    let v = self.string()?;
                    pairs.push((f, v, expire_at));
                }
                Value::Hash(build_expiring_hash(pairs, ctx.hash, ctx)?.into())
            }
            TYPE_HASH_LISTPACK_EX_PRE_GA | TYPE_HASH_LISTPACK_EX => {
                if t == TYPE_HASH_LISTPACK_EX {
                    let _smallest_expiry = self.millis()?;
                }
                let blob = self.string()?;
                let els = listpack::parse(&blob).ok_or(RdbError::Corrupt("hash listpackex integrity check failed"))?;
                if els.len() % 3 != 0 {
                    return Err(RdbError::Corrupt("hash listpackex with a partial entry"));
                }
                let mut pairs = Vec::with_capacity(els.len() / 3);
                for triple in els.chunks_exact(3) {
                    let expire_at = triple[2].as_int().ok_or(RdbError::Corrupt("hash listpackex with a bad expiry"))?;
                    pairs.push((triple[0].to_vec(), triple[1].to_vec(), expire_at.max(0) as u64));
                }
                let limits = HashLimits { max_entries: ctx.hash.max_entries, max_value: usize::MAX };
                Value::Hash(build_expiring_hash(pairs, limits, ctx)?.into())
            }
            _ => return Err(RdbError::Corrupt("unknown RDB type")),
        };
        let empty = match &value {
            Value::Str(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            Value::Stream(_) => false,
        };
        Ok((!empty).then_some(value))
    }

    /// A stream in any of its three layouts: 15 (5.0), 19 (7.0: entries added, largest deleted ID, groups'
    /// entries read) and 21 (7.2: consumers' active time, which this engine does not keep).
    fn stream(&mut self, t: u8) -> Result<Stream> {
        let mut s = Stream::new();
        let nodes = self.count()?;
        let mut prev_last: Option<StreamId> = None;
        for _ in 0..nodes {
            let key = self.string()?;
            let master_key: [u8; 16] = key.as_slice().try_into().map_err(|_| RdbError::Corrupt("stream node key is not the size of a stream ID"))?;
            let master = StreamId::new(
                u64::from_be_bytes(master_key[..8].try_into().unwrap_or_default()),
                u64::from_be_bytes(master_key[8..].try_into().unwrap_or_default()),
            );
            let lp = self.string()?;
            let node = parse_stream_node(&lp, master).ok_or(RdbError::Corrupt("stream listpack integrity check failed"))?;
            // Nodes come in ID order, each after the previous one's entries: the engine's node model relies on it.
            if prev_last.is_some_and(|p| master <= p) {
                return Err(RdbError::Corrupt("stream nodes out of order"));
            }
            prev_last = Some(node.last);
            let live = node.entries.len() as u64;
            for (id, fields) in node.entries {
                s.entries.insert(id, fields);
            }
            s.push_loaded_node(master, live, node.deleted, node.last, lp.len(), node.master_fields);
        }
        let length = self.len()?;
        let last_id = StreamId::new(self.len()?, self.len()?);
        if length != s.entries.len() as u64 {
            return Err(RdbError::Corrupt("stream length does not match its entries"));
        }
        if s.entries.keys().next_back().is_some_and(|id| *id > last_id) {
            return Err(RdbError::Corrupt("stream last ID below an entry's"));
        }
        s.last_id = last_id;
        if t >= TYPE_STREAM_LISTPACKS_2 {
            let _first = StreamId::new(self.len()?, self.len()?);
            s.max_deleted = StreamId::new(self.len()?, self.len()?);
            s.entries_added = self.len()?;
        } else {
            // Before 7.0 these were not kept: Redis starts the count at the length, with no tombstone known.
            s.max_deleted = StreamId::default();
            s.entries_added = length;
        }
        let groups = self.count()?;
        for _ in 0..groups {
            let name = self.string()?;
            let last = StreamId::new(self.len()?, self.len()?);
            let entries_read = if t >= TYPE_STREAM_LISTPACKS_2 { self.len()? as i64 } else { s.estimate_distance(&last) };
            if s.groups.contains_key(&name) {
                return Err(RdbError::Corrupt("duplicated consumer group name"));
            }
            let mut g = Group::new(last, entries_read);
            let pel = self.count()?;
            let mut owners: hashbrown::HashMap<StreamId, Option<Vec<u8>>> = hashbrown::HashMap::new();
            let mut nacks: Vec<(StreamId, u64, u64)> = Vec::new();
            for _ in 0..pel {
                let id = raw_id(self.array()?);
                let delivery_time = self.millis()?;
                let delivery_count = self.len()?;
                if owners.insert(id, None).is_some() {
                    return Err(RdbError::Corrupt("duplicated global PEL entry"));
                }
                nacks.push((id, delivery_time, delivery_count));
            }
            let consumers = self.count()?;
            for _ in 0..consumers {
                let cname = self.string()?;
                let seen_time = self.millis()?;
                if t >= TYPE_STREAM_LISTPACKS_3 {
                    let _active_time = self.millis()?;
                }
                if g.consumers.contains_key(&cname) {
                    return Err(RdbError::Corrupt("duplicate stream consumer"));
                }
                let mut consumer = Consumer { seen_time, pel: Default::default() };
                let n = self.count()?;
                for _ in 0..n {
                    let id = raw_id(self.array()?);
                    match owners.get_mut(&id) {
                        Some(owner @ None) => *owner = Some(cname.clone()),
                        Some(Some(_)) => return Err(RdbError::Corrupt("duplicated consumer PEL entry")),
                        None => return Err(RdbError::Corrupt("consumer entry not found in group global PEL")),
                    }
                    consumer.pel.insert(id);
                }
                g.consumers.insert(cname, consumer);
            }
            for (id, delivery_time, delivery_count) in nacks {
                let consumer = owners.remove(&id).flatten().ok_or(RdbError::Corrupt("stream group PEL entry without consumer"))?;
                g.pel.insert(id, Nack { delivery_time, delivery_count, consumer });
            }
            s.groups.insert(name, g);
        }
        Ok(s)
    }
}

/// A PEL ID as stored: the radix tree's 16-byte big-endian key.
fn raw_id(raw: [u8; 16]) -> StreamId {
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&raw[..8]);
    seq.copy_from_slice(&raw[8..]);
    StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
}

/// One stream node's listpack, read.
struct StreamNode {
    entries: Vec<(StreamId, Fields)>,
    deleted: u64,
    /// The last ID in the node, deleted or not.
    last: StreamId,
    master_fields: Vec<Vec<u8>>,
}

const STREAM_ITEM_DELETED: i64 = 1;
const STREAM_ITEM_SAMEFIELDS: i64 = 2;

/// Reads a stream node (t_stream.c's layout), checked as streamValidateListpackIntegrity checks it deeply:
/// the master entry (count, deleted, field names, a zero terminator), then exactly count + deleted entries,
/// each `flags ms-diff seq-diff [fields] values lp-count` with the right lp-count. IDs must increase.
fn parse_stream_node(lp: &[u8], master: StreamId) -> Option<StreamNode> {
    let els = listpack::parse(lp)?;
    let mut it = els.into_iter();
    let int = |it: &mut alloc::vec::IntoIter<Element>| it.next().and_then(Element::as_int);
    let count = int(&mut it)?;
    let deleted = int(&mut it)?;
    let nfields = int(&mut it)?;
    if count < 0 || deleted < 0 || nfields < 0 || count.checked_add(deleted)? == 0 {
        return None;
    }
    let mut master_fields = Vec::new();
    for _ in 0..nfields {
        master_fields.push(it.next()?.to_vec());
    }
    if int(&mut it)? != 0 {
        return None;
    }
    let mut entries = Vec::new();
    let mut seen_deleted = 0u64;
    let mut last: Option<StreamId> = None;
    for _ in 0..count + deleted {
        let flags = int(&mut it)?;
        let ms = master.ms.wrapping_add(int(&mut it)? as u64);
        let seq = master.seq.wrapping_add(int(&mut it)? as u64);
        let id = StreamId::new(ms, seq);
        if id < master || last.is_some_and(|l| id <= l) {
            return None;
        }
        last = Some(id);
        let same = flags & STREAM_ITEM_SAMEFIELDS != 0;
        // Fields the master's: values only; else a count, then each field followed by its value.
        let n = if same { nfields } else { int(&mut it)? };
        if n < 0 {
            return None;
        }
        let mut fields = Vec::new();
        for i in 0..n {
            let name = if same { master_fields.get(i as usize)?.clone() } else { it.next()?.to_vec() };
            fields.push((name, it.next()?.to_vec()));
        }
        let lp_count = int(&mut it)?;
        if lp_count != n + if same { 3 } else { n + 4 } {
            return None;
        }
        if flags & STREAM_ITEM_DELETED != 0 {
            seen_deleted += 1;
        } else {
            entries.push((id, fields));
        }
    }
    if it.next().is_some() || entries.len() as i64 != count || seen_deleted as i64 != deleted {
        return None;
    }
    Some(StreamNode { entries, deleted: seen_deleted, last: last?, master_fields })
}

/// A set as Redis's loader builds it: an intset while every member is an integer and there are at most
/// `set-max-intset-entries`, else a hash table. Duplicates are refused.
fn build_set<'m>(members: impl Iterator<Item = &'m [u8]>, n: usize, max_intset: usize) -> Result<Set> {
    let mut set = if n > max_intset.min(1 << 30) { Set::new_hashtable() } else { Set::new_intset() };
    for m in members {
        if !set.add(m, max_intset) {
            return Err(RdbError::Corrupt("duplicate set members"));
        }
    }
    Ok(set)
}

/// A hash: a listpack within `limits` (fields and values up to `max_value` bytes, at most `max_entries`),
/// else a hash table. Duplicate fields are refused.
fn build_hash(pairs: Vec<(Vec<u8>, Vec<u8>)>, limits: HashLimits, ctx: &mut Ctx) -> Result<Hash> {
    let mut h = Hash::new(ctx.rng.next_u64());
    for (f, v) in pairs {
        if !h.set(&f, v, limits) {
            return Err(RdbError::Corrupt("duplicate hash fields"));
        }
    }
    Ok(h)
}

/// A hash read with field expiry times (Redis 7.4): fields already expired are left out (after the duplicate
/// check), the others kept without an expiry.
fn build_expiring_hash(fields: Vec<(Vec<u8>, Vec<u8>, u64)>, limits: HashLimits, ctx: &mut Ctx) -> Result<Hash> {
    let now = ctx.now;
    let mut seen = hashbrown::HashSet::new();
    let mut pairs = Vec::with_capacity(fields.len());
    for (f, v, expire_at) in fields {
        if !seen.insert(f.clone()) {
            return Err(RdbError::Corrupt("duplicate hash fields"));
        }
        if expire_at == 0 || expire_at > now {
            pairs.push((f, v));
        }
    }
    build_hash(pairs, limits, ctx)
}

/// A sorted set. From a plain (unordered) form it is built as a skiplist and becomes a listpack when it fits
/// the limits (zsetConvert after loading); from a compact form it stays a listpack unless it has more than
/// `zset-max-listpack-entries` members. Duplicate members and NaN scores are refused.
fn build_zset(pairs: Vec<(Vec<u8>, f64)>, compact: bool, limits: ZSetLimits) -> Result<ZSet> {
    let unlimited = ZSetLimits { max_entries: usize::MAX, max_value: usize::MAX };
    let mut z = ZSet::new(compact);
    for (m, score) in pairs {
        if score.is_nan() {
            return Err(RdbError::Corrupt("zset with a NaN score"));
        }
        if z.score(&m).is_some() {
            return Err(RdbError::Corrupt("duplicate zset members"));
        }
        z.set(&m, score, unlimited);
    }
    if compact {
        if z.len() > limits.max_entries {
            z.set_skiplist();
        }
    } else {
        z.shrink_if_fits(limits);
    }
    Ok(z)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use alloc::vec;

    fn len(n: usize) -> Vec<u8> {
        if n < 64 {
            vec![n as u8]
        } else {
            vec![0x40 | (n >> 8) as u8, n as u8]
        }
    }

    fn string(s: &[u8]) -> Vec<u8> {
        [len(s.len()), s.to_vec()].concat()
    }

    /// A version 12 file: one key of `t` with `body`, the checksum left 0 (not checked).
    fn file(t: u8, key: &[u8], body: &[u8]) -> Vec<u8> {
        let mut f = b"REDIS0012".to_vec();
        f.extend_from_slice(&[OPCODE_SLOT_INFO, 1, 2, 3]);
        f.push(OPCODE_FUNCTION2);
        f.extend_from_slice(&string(b"#!lua name=lib\nredis.register_function('f', function() return 1 end)"));
        f.push(t);
        f.extend_from_slice(&string(key));
        f.extend_from_slice(body);
        f.push(OPCODE_EOF);
        f.extend_from_slice(&[0; 8]);
        f
    }

    fn lp(items: &[Element]) -> Vec<u8> {
        let mut b = listpack::Builder::new();
        for i in items {
            b.push(*i);
        }
        b.finish()
    }

    #[test]
    fn newer_types_load() {
        let now = 1_000_000u64;
        let mut e = Engine::new(Config::default());
        e.tick(now);
        // 7.2's listpack set.
        let set = file(TYPE_SET_LISTPACK, b"s", &string(&lp(&[Element::Str(b"a"), Element::Int(7)])));
        let loaded = load(&e, &set).expect("listpack set");
        assert_eq!(loaded.functions_skipped, 1);
        assert!(matches!(&loaded.keys[0].entry.value, Value::Set(s) if s.len() == 2 && s.encoding_name() == "hashtable"));
        // 7.4's hash with field expiry, relative to the smallest: one field expired, one later, one without.
        let base = now - 10;
        let mut body = base.to_le_bytes().to_vec();
        body.extend(len(3));
        for (ttl, f, v) in [(1u64, &b"gone"[..], &b"1"[..]), (21, b"later", b"2"), (0, b"kept", b"3")] {
            body.extend(len(ttl as usize));
            body.extend(string(f));
            body.extend(string(v));
        }
        let loaded = load(&e, &file(TYPE_HASH_METADATA, b"h", &body)).expect("hash metadata");
        let Value::Hash(h) = &loaded.keys[0].entry.value else { panic!("not a hash") };
        assert_eq!((h.len(), h.get(b"gone"), h.get(b"later"), h.get(b"kept")), (2, None, Some(&b"2"[..]), Some(&b"3"[..])));
        // The listpack form: field, value, absolute expiry.
        let mut body = 0u64.to_le_bytes().to_vec();
        let items = [Element::Str(b"a"), Element::Str(b"x"), Element::Int(5), Element::Str(b"b"), Element::Str(b"y"), Element::Int(0)];
        body.extend(string(&lp(&items)));
        let loaded = load(&e, &file(TYPE_HASH_LISTPACK_EX, b"h", &body)).expect("hash listpack ex");
        let Value::Hash(h) = &loaded.keys[0].entry.value else { panic!("not a hash") };
        assert_eq!((h.len(), h.get(b"b")), (1, Some(&b"y"[..])));
    }

    #[test]
    fn module_names_unpack() {
        // A module type ID is the name in 6-bit characters above a 10-bit encoding version.
        let name = b"mymodtype";
        const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut id = 0u64;
        for c in name {
            id = (id << 6) | CHARSET.iter().position(|x| x == c).unwrap_or(0) as u64;
        }
        assert_eq!(module_type_name((id << 10) | 3), "mymodtype");
    }
}
