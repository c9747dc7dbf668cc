//! Writing snapshots and DUMP payloads (rdb.c's rdbSaveRio, rdbSaveObject; cluster.c's createDumpPayload).
//!
//! Strings go out as Redis writes them (rdbSaveRawString): up to 11 bytes that read as a 32-bit integer in
//! the integer encoding, more than 20 bytes LZF-compressed when that saves at least 4 bytes, the rest as they
//! are. The compact encodings are built as Redis builds them, so a value laid out as Redis lays it out gives
//! the same bytes: a listpack hash or sorted set, an intset, a list of RPUSHed elements (quicklist nodes of
//! at most 8 KiB, list-max-listpack-size -2), a skiplist sorted set, a stream never deleted from.
//! Hash-table sets and hashes come out in the engine's table order, which is not Redis's (Redis's own order
//! depends on its random hash seed); any Redis loads them all the same.

use alloc::string::ToString;
use alloc::vec::Vec;

use super::compact::build_intset;
use super::listpack::Builder;
use super::*;
use crate::crc64::crc64;
use crate::lzf::Compressor;
use crate::types::set::Member;
use crate::types::stream::{Fields, Stream, StreamId};
use crate::types::{Hash, List, Set, ZSet};
use crate::util::{fmt_g, parse_i64, push_i64};
use crate::value::Value;

/// The Redis version a snapshot says wrote it (the `redis-ver` AUX field).
const REDIS_VER: &str = "7.0.15";
/// Redis's list-max-listpack-size default (-2): a quicklist node's listpack stays within 8 KiB.
const QUICKLIST_NODE_BYTES: usize = 8192;
/// quicklist.c's SIZE_ESTIMATE_OVERHEAD: what an element adds to a node beyond its own bytes, estimated.
const QUICKLIST_ENTRY_OVERHEAD: usize = 8;
/// Quicklist node containers: one element as is, or a listpack.
const CONTAINER_PACKED: u64 = 2;

/// The whole dataset as a snapshot in `format`: header, AUX fields, each non-empty database (SELECTDB,
/// RESIZEDB, then each key with its expiry and, under an LRU or LFU policy, its idle time or frequency),
/// EOF and the CRC-64.
pub fn save(e: &Engine, format: Format) -> Vec<u8> {
    save_with(e, format, false)
}

/// `save`, marking the snapshot as an AOF base (the `aof-base` AUX field Redis sets to 1 in the RDB part of
/// its multi-part AOF).
pub fn save_with(e: &Engine, format: Format, aof_base: bool) -> Vec<u8> {
    let mut w = Writer::new(format);
    w.out.extend_from_slice(b"REDIS");
    w.out.extend_from_slice(alloc::format!("{:04}", format.version()).as_bytes());
    w.aux(b"redis-ver", REDIS_VER.as_bytes());
    w.aux_int(b"redis-bits", 64);
    w.aux_int(b"ctime", (e.now / 1000) as i64);
    w.aux_int(b"used-mem", e.used_memory() as i64);
    w.aux_int(b"aof-base", i64::from(aof_base));
    let policy = e.config.maxmemory_policy.as_str();
    let (save_lru, save_lfu) = (policy.ends_with("lru"), policy.ends_with("lfu"));
    for (i, db) in e.dbs.iter().enumerate() {
        if db.keys.is_empty() {
            continue;
        }
        w.out.push(OPCODE_SELECTDB);
        w.len(i as u64);
        w.out.push(OPCODE_RESIZEDB);
        w.len(db.keys.len() as u64);
        w.len(db.expires.len() as u64);
        for (key, entry) in db.keys.iter() {
            if let Some(when) = db.expire_of(key) {
                w.out.push(OPCODE_EXPIRETIME_MS);
                w.out.extend_from_slice(&(when as i64).to_le_bytes());
            }
            if save_lru {
                w.out.push(OPCODE_IDLE);
                w.len(e.now.saturating_sub(entry.lru_ms) / 1000);
            }
            if save_lfu {
                w.out.push(OPCODE_FREQ);
                w.out.push(entry.lfu_decayed(e.now, e.config.lfu_decay_time));
            }
            w.out.push(w.type_of(&entry.value));
            w.raw_string(key);
            w.object(&entry.value);
        }
    }
    w.out.push(OPCODE_EOF);
    let crc = crc64(0, &w.out);
    w.out.extend_from_slice(&crc.to_le_bytes());
    w.out
}

/// DUMP's payload for a value, as Redis 7.0 makes it: the type, the value, the RDB version (10) and the
/// CRC-64 of all that, both little-endian.
/// The bytes `value` takes in an RDB file or a DUMP payload, without type, key or trailer (Redis's
/// rdbSavedObjectLen, what DEBUG OBJECT reports as `serializedlength`).
pub fn serialized_len(value: &Value) -> usize {
    let mut w = Writer::new(Format::V10);
    w.object(value);
    w.out.len()
}

/// A list's quicklist nodes as Redis's RPUSH fills them, each as its listpack's bytes (a node takes another
/// element while its size plus the element plus 8 stays within 8 KiB).
pub fn quicklist_nodes(l: &List) -> Vec<Vec<u8>> {
    let mut nodes: Vec<Vec<u8>> = Vec::new();
    let mut node = Builder::new();
    for item in l.iter(false) {
        if !node.is_empty() && node.bytes() + item.len() + QUICKLIST_ENTRY_OVERHEAD > QUICKLIST_NODE_BYTES {
            nodes.push(core::mem::take(&mut node).finish());
        }
        node.push_str(item);
    }
    if !node.is_empty() {
        nodes.push(node.finish());
    }
    nodes
}

pub fn dump_value(value: &Value) -> Vec<u8> {
    let mut w = Writer::new(Format::V10);
    w.out.push(w.type_of(value));
    w.object(value);
    w.out.extend_from_slice(&DUMP_VERSION.to_le_bytes());
    let crc = crc64(0, &w.out);
    w.out.extend_from_slice(&crc.to_le_bytes());
    w.out
}

struct Writer {
    out: Vec<u8>,
    format: Format,
    lzf: Compressor,
}

impl Writer {
    fn new(format: Format) -> Writer {
        Writer { out: Vec::new(), format, lzf: Compressor::new() }
    }

    /// rdbSaveLen: 6 bits, 14 bits, or a 32- or 64-bit big-endian length after a marker byte.
    fn len(&mut self, n: u64) {
        if n < 1 << 6 {
            self.out.push(n as u8);
        } else if n < 1 << 14 {
            self.out.push(((n >> 8) as u8) | 0x40);
            self.out.push(n as u8);
        } else if n <= u32::MAX as u64 {
            self.out.push(0x80);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            self.out.push(0x81);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// rdbSaveRawString.
    fn raw_string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = parse_i64(s) {
                if self.encode_int(v) {
                    return;
                }
            }
        }
        if s.len() > 20 {
            if let Some(packed) = self.lzf.compress(s, s.len() - 4) {
                self.out.push(0xc3);
                self.len(packed.len() as u64);
                self.len(s.len() as u64);
                self.out.extend_from_slice(&packed);
                return;
            }
        }
        self.len(s.len() as u64);
        self.out.extend_from_slice(s);
    }

    /// rdbEncodeInteger: the 8-, 16- or 32-bit integer encoding, when `v` fits one.
    fn encode_int(&mut self, v: i64) -> bool {
        if let Ok(b) = i8::try_from(v) {
            self.out.extend_from_slice(&[0xc0, b as u8]);
        } else if let Ok(h) = i16::try_from(v) {
            self.out.push(0xc1);
            self.out.extend_from_slice(&h.to_le_bytes());
        } else if let Ok(w) = i32::try_from(v) {
            self.out.push(0xc2);
            self.out.extend_from_slice(&w.to_le_bytes());
        } else {
            return false;
        }
        true
    }

    fn aux(&mut self, key: &[u8], value: &[u8]) {
        self.out.push(OPCODE_AUX);
        self.raw_string(key);
        self.raw_string(value);
    }

    fn aux_int(&mut self, key: &[u8], value: i64) {
        let mut text = Vec::new();
        push_i64(&mut text, value);
        self.aux(key, &text);
    }

    /// rdbSaveObjectType for this writer's format.
    fn type_of(&self, value: &Value) -> u8 {
        let v10 = self.format == Format::V10;
        match value {
            Value::Str(_) => TYPE_STRING,
            Value::List(_) if v10 => TYPE_LIST_QUICKLIST_2,
            Value::List(_) => TYPE_LIST,
            Value::Set(s) if s.is_intset() => TYPE_SET_INTSET,
            Value::Set(_) => TYPE_SET,
            Value::ZSet(z) if v10 && z.is_listpack() => TYPE_ZSET_LISTPACK,
            Value::ZSet(_) => TYPE_ZSET_2,
            Value::Hash(h) if v10 && h.is_listpack() => TYPE_HASH_LISTPACK,
            Value::Hash(_) => TYPE_HASH,
            Value::Stream(_) if v10 => TYPE_STREAM_LISTPACKS_2,
            Value::Stream(_) => TYPE_STREAM_LISTPACKS,
        }
    }

    /// rdbSaveObject, in the layout `type_of` announced.
    fn object(&mut self, value: &Value) {
        let v10 = self.format == Format::V10;
        match value {
            Value::Str(s) => self.raw_string(&s.bytes),
            Value::List(l) if v10 => self.quicklist(l),
            Value::List(l) => {
                self.len(l.len() as u64);
                for item in l.iter(false) {
                    self.raw_string(item);
                }
            }
            Value::Set(s) => self.set(s),
            Value::ZSet(z) if v10 && z.is_listpack() => self.zset_listpack(z),
            Value::ZSet(z) => {
                // From the highest score down, so loading inserts each at the head of the skiplist.
                self.len(z.len() as u64);
                for (member, score) in z.iter_rev() {
                    self.raw_string(member);
                    self.out.extend_from_slice(&score.to_le_bytes());
                }
            }
            Value::Hash(h) if v10 && h.is_listpack() => {
                let mut lp = Builder::new();
                for (f, v) in h.iter() {
                    lp.push_str(f);
                    lp.push_str(v);
                }
                self.raw_string(&lp.finish());
            }
            Value::Hash(h) => self.plain_hash(h),
            Value::Stream(s) => self.stream(s),
        }
    }

    /// A list as quicklist 2: listpack nodes filled from the head as RPUSH fills them (`quicklist_nodes`).
    fn quicklist(&mut self, l: &List) {
        let nodes = quicklist_nodes(l);
        self.len(nodes.len() as u64);
        for n in nodes {
            self.len(CONTAINER_PACKED);
            self.raw_string(&n);
        }
    }

    fn set(&mut self, s: &Set) {
        if s.is_intset() {
            let ints: Vec<i64> = s.iter().filter_map(|m| if let Member::Int(v) = m { Some(v) } else { None }).collect();
            self.raw_string(&build_intset(&ints));
        } else {
            self.len(s.len() as u64);
            for m in s.iter() {
                self.raw_string(&m.to_vec());
            }
        }
    }

    /// A listpack sorted set: member then score, in order; the score as zzlInsertAt writes it (d2string: an
    /// integer within ±2^52 in decimal, else `%.17g`), stored as an integer when it reads as one.
    fn zset_listpack(&mut self, z: &ZSet) {
        let mut lp = Builder::new();
        for (member, score) in z.iter() {
            lp.push_str(member);
            lp.push_str(score_text(score).as_bytes());
        }
        self.raw_string(&lp.finish());
    }

    fn plain_hash(&mut self, h: &Hash) {
        self.len(h.len() as u64);
        for (f, v) in h.iter() {
            self.raw_string(f);
            self.raw_string(v);
        }
    }

    /// A stream: its nodes as listpacks keyed by their master ID, the metadata, then each consumer group with
    /// its pending entries and consumers. A node's deleted entries are not kept by the engine, so a node is
    /// written with its live entries only (and a deleted count of 0); the 7.0 counters go in version 10 only.
    fn stream(&mut self, s: &Stream) {
        let nodes = stream_nodes(s);
        self.len(nodes.len() as u64);
        for (master, lp) in &nodes {
            self.raw_string(&master.encode());
            self.raw_string(lp);
        }
        self.len(s.len() as u64);
        self.len(s.last_id.ms);
        self.len(s.last_id.seq);
        if self.format == Format::V10 {
            let first = s.first_id();
            self.len(first.ms);
            self.len(first.seq);
            self.len(s.max_deleted.ms);
            self.len(s.max_deleted.seq);
            self.len(s.entries_added);
        }
        self.len(s.groups.len() as u64);
        for (name, g) in &s.groups {
            self.raw_string(name);
            self.len(g.last_id.ms);
            self.len(g.last_id.seq);
            if self.format == Format::V10 {
                // -1 (unknown) goes out as the 64-bit length it is as an unsigned number, as Redis writes it.
                self.len(g.entries_read as u64);
            }
            self.len(g.pel.len() as u64);
            for (id, nack) in &g.pel {
                self.out.extend_from_slice(&id.encode());
                self.out.extend_from_slice(&(nack.delivery_time as i64).to_le_bytes());
                self.len(nack.delivery_count);
            }
            self.len(g.consumers.len() as u64);
            for (cname, c) in &g.consumers {
                self.raw_string(cname);
                self.out.extend_from_slice(&(c.seen_time as i64).to_le_bytes());
                self.len(c.pel.len() as u64);
                for id in &c.pel {
                    self.out.extend_from_slice(&id.encode());
                }
            }
        }
    }
}

/// The score text a listpack sorted set stores (Redis 7.0's d2string).
fn score_text(score: f64) -> alloc::string::String {
    const MIN: f64 = -4_503_599_627_370_495.0;
    const MAX: f64 = 4_503_599_627_370_496.0;
    if score.is_finite() && score > MIN && score < MAX && score == (score as i64) as f64 {
        (score as i64).to_string()
    } else {
        fmt_g(score, 17)
    }
}

/// The stream's entries grouped into node listpacks, each node as t_stream.c's streamAppendItem builds it:
/// the master entry (count, deleted, the master field names, a zero), then per entry its flags, ID deltas,
/// field names unless they are the master's, values, and its element count.
fn stream_nodes(s: &Stream) -> Vec<(StreamId, Vec<u8>)> {
    let masters: Vec<(StreamId, &[Vec<u8>])> = s.node_masters().collect();
    // Each entry goes to the node of the last master at or below it; entries below every master (not something
    // the engine makes) share a node of their own, keyed by the first of them.
    struct Node<'a> {
        index: Option<usize>,
        master: StreamId,
        master_fields: Vec<Vec<u8>>,
        entries: Vec<(&'a StreamId, &'a Fields)>,
    }
    let mut nodes: Vec<Node> = Vec::new();
    for (id, fields) in &s.entries {
        let index = masters.partition_point(|(m, _)| m <= id).checked_sub(1);
        match nodes.last_mut() {
            Some(n) if n.index == index => n.entries.push((id, fields)),
            _ => {
                let (master, master_fields) = match index.and_then(|i| masters.get(i)) {
                    Some((m, f)) => (*m, f.to_vec()),
                    None => (*id, fields.iter().map(|(f, _)| f.clone()).collect()),
                };
                nodes.push(Node { index, master, master_fields, entries: alloc::vec![(id, fields)] });
            }
        }
    }
    nodes
        .into_iter()
        .map(|n| {
            let mut lp = Builder::new();
            lp.push_int(n.entries.len() as i64);
            lp.push_int(0);
            lp.push_int(n.master_fields.len() as i64);
            for f in &n.master_fields {
                lp.push_str(f);
            }
            lp.push_int(0);
            for (id, fields) in &n.entries {
                let same = fields.len() == n.master_fields.len()
                    && fields.iter().zip(&n.master_fields).all(|((f, _), m)| f == m);
                lp.push_int(if same { 2 } else { 0 });
                lp.push_int(id.ms.wrapping_sub(n.master.ms) as i64);
                lp.push_int(id.seq.wrapping_sub(n.master.seq) as i64);
                if !same {
                    lp.push_int(fields.len() as i64);
                }
                for (f, v) in fields.iter() {
                    if !same {
                        lp.push_str(f);
                    }
                    lp.push_str(v);
                }
                let count = fields.len() + 3 + if same { 0 } else { fields.len() + 1 };
                lp.push_int(count as i64);
            }
            (n.master, lp.finish())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_as_listpacks_store_them() {
        assert_eq!(score_text(3.0), "3");
        assert_eq!(score_text(-0.0), "0");
        assert_eq!(score_text(0.1), "0.10000000000000001");
        assert_eq!(score_text(1e20), "1e+20");
        assert_eq!(score_text(4_503_599_627_370_496.0), "4503599627370496");
        assert_eq!(score_text(f64::INFINITY), "inf");
    }
}
