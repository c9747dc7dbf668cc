//! A stream: entries by ID (ms-seq) in order, with consumer groups and their pending entries (Redis's stream.h).
//!
//! Redis stores entries in listpack "nodes" keyed in a radix tree by their first ID. The nodes are observable:
//! approximate trimming (`MAXLEN ~`, `MINID ~`) removes whole nodes only, and XINFO STREAM reports the radix
//! tree's key and node counts. So the entries are kept in one ordered map, and beside it a model of the nodes:
//! where each starts, how many live and deleted entries it holds, its last ID and an estimate of its bytes.

use alloc::vec::Vec;

use crate::vecmap::{DequeMap, DequeSet, VecMap};

/// Redis's default stream-node-max-entries and stream-node-max-bytes.
pub const NODE_MAX_ENTRIES: u64 = 100;
pub const NODE_MAX_BYTES: usize = 4096;

/// A stream entry ID: milliseconds and sequence, compared in that order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID (Redis's streamIncrID); `None` past the maximum.
    pub fn incr(&self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID (streamDecrID); `None` before 0-0.
    pub fn decr(&self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// `ms-seq` as Redis prints it.
    pub fn to_bytes(&self) -> Vec<u8> {
        alloc::format!("{}-{}", self.ms, self.seq).into_bytes()
    }

    /// The 16-byte big-endian key Redis's radix trees use.
    pub fn encode(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// A pending entry of a group: delivered to `consumer` and not acknowledged yet (Redis's streamNACK).
#[derive(Clone, Debug, PartialEq)]
pub struct Nack {
    pub delivery_time: u64,
    pub delivery_count: u64,
    pub consumer: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Consumer {
    pub seen_time: u64,
    /// IDs of the group's pending entries owned by this consumer.
    pub pel: DequeSet<StreamId>,
}

/// Redis's SCG_INVALID_ENTRIES_READ: the group's read counter is unknown.
pub const INVALID_ENTRIES_READ: i64 = -1;

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: DequeMap<StreamId, Nack>,
    pub consumers: VecMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, pel: DequeMap::new(), consumers: VecMap::new() }
    }

    /// Creates the consumer if missing; true when created (streamCreateConsumer).
    pub fn create_consumer(&mut self, name: &[u8], now: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(name.to_vec(), Consumer { seen_time: now, pel: DequeSet::new() });
        true
    }

    /// Deletes a consumer and its pending entries from the group (streamDelConsumer); how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pel {
            self.pel.remove(id);
        }
        Some(consumer.pel.len())
    }

    /// Removes a pending entry from the group and its owner.
    pub fn remove_pending(&mut self, id: &StreamId) -> bool {
        match self.pel.remove(id) {
            Some(nack) => {
                if let Some(c) = self.consumers.get_mut(&nack.consumer) {
                    c.pel.remove(id);
                }
                true
            }
            None => false,
        }
    }

    /// Makes `consumer` (which exists) the owner of the pending entry `id`, which exists.
    pub fn reassign(&mut self, id: StreamId, consumer: &[u8]) {
        let Some(nack) = self.pel.get_mut(&id) else { return };
        if nack.consumer.as_slice() != consumer {
            if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                old.pel.remove(&id);
            }
            nack.consumer = consumer.to_vec();
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// One listpack node of Redis's representation, as far as it is observable.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    live: u64,
    deleted: u64,
    /// The last ID appended to the node (deleted or not).
    last: StreamId,
    /// Estimated listpack size in bytes.
    bytes: usize,
    /// The master entry's field names (entries with the same fields are stored without them).
    master_fields: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {
    pub entries: DequeMap<StreamId, Fields>,
    pub last_id: StreamId,
    pub entries_added: u64,
    pub max_deleted: StreamId,
    pub groups: VecMap<Vec<u8>, Group>,
    /// Nodes by their master (first) ID.
    nodes: DequeMap<StreamId, Node>,
    /// The nodes' listpack bytes summed, kept up to date so `mem_usage` is O(1).
    node_bytes: usize,
}

/// Bytes a listpack element takes for an integer value (lpEncodeIntegerGetType) plus its back-length.
fn lp_int_size(v: i64) -> usize {
    let enc = if (0..=127).contains(&v) {
        1
    } else if (-4096..4096).contains(&v) {
        2
    } else if (-32768..32768).contains(&v) {
        3
    } else if (-8_388_608..8_388_608).contains(&v) {
        4
    } else if (-2_147_483_648..2_147_483_648).contains(&v) {
        5
    } else {
        9
    };
    enc + backlen_size(enc)
}

fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Bytes a listpack element takes for a string, which is stored as an integer when it is one.
fn lp_str_size(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = crate::util::parse_i64(s) {
            return lp_int_size(v);
        }
    }
    let enc = match s.len() {
        0..=63 => 1 + s.len(),
        64..=4095 => 2 + s.len(),
        _ => 5 + s.len(),
    };
    enc + backlen_size(enc)
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        "stream"
    }

    /// Bytes this value takes, as the memory estimate counts them: the stream header, each node's listpack and
    /// its place in the radix tree, and the consumer groups with their pending entries and consumers (Redis's
    /// objectComputeSize for streams). O(groups), not O(entries): every write recomputes it.
    pub fn mem_usage(&self) -> usize {
        let groups: usize = self.groups.values().map(|g| 64 + g.pel.len() * 48 + g.consumers.len() * 64).sum();
        64 + self.node_bytes + self.nodes.len() * 32 + groups
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first live entry's ID, 0-0 when empty (Redis's `first_id`).
    pub fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or_default()
    }

    /// The last live entry's ID, 0-0 when empty (streamLastValidID).
    pub fn last_valid_id(&self) -> StreamId {
        self.entries.keys().next_back().copied().unwrap_or_default()
    }

    /// Appends an entry whose ID is greater than `last_id` (the caller checked), with Redis's node bookkeeping.
    pub fn append(&mut self, id: StreamId, fields: Fields) {
        let entry_bytes = |same: bool, master: &StreamId| {
            let mut b = lp_int_size(if same { 2 } else { 0 });
            b += lp_int_size(id.ms.wrapping_sub(master.ms) as i64);
            b += lp_int_size(id.seq.wrapping_sub(master.seq) as i64);
            if !same {
                b += lp_int_size(fields.len() as i64);
            }
            for (f, v) in &fields {
                if !same {
                    b += lp_str_size(f);
                }
                b += lp_str_size(v);
            }
            let lp_count = fields.len() + 3 + if same { 0 } else { fields.len() + 1 };
            b + lp_int_size(lp_count as i64)
        };
        let new_elements: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let mut tail = self.nodes.iter_mut().next_back();
        let needs_new = match &tail {
            None => true,
            Some((_, n)) => n.bytes + new_elements >= NODE_MAX_BYTES || n.live + n.deleted >= NODE_MAX_ENTRIES,
        };
        if needs_new {
            let master_fields: Vec<Vec<u8>> = fields.iter().map(|(f, _)| f.clone()).collect();
            let mut bytes = 7 + lp_int_size(1) + lp_int_size(0) + lp_int_size(fields.len() as i64);
            bytes += master_fields.iter().map(|f| lp_str_size(f)).sum::<usize>() + lp_int_size(0);
            bytes += entry_bytes(true, &id);
            self.node_bytes += bytes;
            self.nodes.insert(id, Node { live: 1, deleted: 0, last: id, bytes, master_fields });
        } else if let Some((master, node)) = tail.as_mut() {
            let same = node.master_fields.len() == fields.len()
                && node.master_fields.iter().zip(fields.iter()).all(|(m, (f, _))| m == f);
            let added = entry_bytes(same, master);
            node.bytes += added;
            self.node_bytes += added;
            node.live += 1;
            node.last = id;
        }
        self.entries.insert(id, fields);
        self.last_id = id;
        self.entries_added += 1;
    }

    /// The master ID of the node holding `id`.
    fn node_of(&self, id: &StreamId) -> Option<StreamId> {
        self.nodes.range(..=*id).next_back().map(|(k, _)| *k)
    }

    /// Deletes one entry (streamDeleteItem): a node left without live entries goes.
    pub fn delete(&mut self, id: &StreamId) -> bool {
        if self.entries.remove(id).is_none() {
            return false;
        }
        if let Some(master) = self.node_of(id) {
            if let Some(node) = self.nodes.get_mut(&master) {
                node.live = node.live.saturating_sub(1);
                node.deleted += 1;
                if node.live == 0 {
                    self.remove_node(&master);
                }
            }
        }
        true
    }

    /// Trims to `maxlen` entries or to IDs from `minid` up (streamTrim): with `approx` only whole nodes go, and a
    /// nonzero `limit` bounds the entries removed. Returns how many were removed.
    pub fn trim(&mut self, maxlen: Option<u64>, minid: Option<StreamId>, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        let masters: Vec<StreamId> = self.nodes.keys().copied().collect();
        for master in masters {
            let len = self.entries.len() as u64;
            if let Some(m) = maxlen {
                if len <= m {
                    break;
                }
            }
            let Some(node) = self.nodes.get(&master) else { continue };
            let live = node.live;
            if limit != 0 && deleted + live > limit {
                break;
            }
            let remove_node = match (maxlen, minid) {
                (Some(m), _) => len.saturating_sub(live) >= m,
                (None, Some(min)) => node.last < min,
                _ => false,
            };
            let next_master = self.nodes.range(master..).nth(1).map(|(k, _)| *k);
            let ids: Vec<StreamId> = match next_master {
                Some(n) => self.entries.range(master..n).map(|(k, _)| *k).collect(),
                None => self.entries.range(master..).map(|(k, _)| *k).collect(),
            };
            if remove_node {
                for id in &ids {
                    self.entries.remove(id);
                }
                self.remove_node(&master);
                deleted += live;
                continue;
            }
            if approx {
                break;
            }
            let mut removed = 0;
            for id in ids {
                let stop = match (maxlen, minid) {
                    (Some(m), _) => self.entries.len() as u64 <= m,
                    (None, Some(min)) => id >= min,
                    _ => true,
                };
                if stop {
                    break;
                }
                self.entries.remove(&id);
                removed += 1;
            }
            if let Some(node) = self.nodes.get_mut(&master) {
                node.live = node.live.saturating_sub(removed);
                node.deleted += removed;
            }
            deleted += removed;
            break;
        }
        deleted
    }

    /// The nodes in order, each as its master ID and its master entry's field names: how RDB writing groups
    /// the entries into listpacks.
    pub fn node_masters(&self) -> impl Iterator<Item = (StreamId, &[Vec<u8>])> + '_ {
        self.nodes.iter().map(|(id, n)| (*id, n.master_fields.as_slice()))
    }

    /// Adds a node read from an RDB file, with the counts and listpack size it had there; the caller inserts
    /// its live entries into `entries`.
    pub fn push_loaded_node(&mut self, master: StreamId, live: u64, deleted: u64, last: StreamId, bytes: usize, master_fields: Vec<Vec<u8>>) {
        self.node_bytes += bytes;
        self.nodes.insert(master, Node { live, deleted, last, bytes, master_fields });
    }

    /// Drops a node, and its bytes from the total.
    fn remove_node(&mut self, master: &StreamId) {
        if let Some(node) = self.nodes.remove(master) {
            self.node_bytes -= node.bytes;
        }
    }

    /// How many keys the radix tree of nodes has.
    pub fn rax_keys(&self) -> usize {
        self.nodes.len()
    }

    /// How many nodes the radix tree has (`rax->numnodes`), for its keys laid out as Redis's rax lays them out.
    pub fn rax_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.encode()).collect();
        let slices: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
        rax_count(&slices)
    }

    /// Redis's streamEstimateDistanceFromFirstEverEntry: the entries-read counter of `id`, or
    /// `INVALID_ENTRIES_READ` when it cannot be known.
    pub fn estimate_distance(&self, id: &StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        let added = self.entries_added as i64;
        if self.entries.is_empty() && *id <= self.last_id {
            return added;
        }
        if *id == self.last_id {
            return added;
        } else if *id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        let first = self.first_id();
        if self.max_deleted.is_zero() || self.max_deleted < first {
            if *id < first {
                return added - self.entries.len() as i64;
            } else if *id == first {
                return added - self.entries.len() as i64 + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// Redis's streamRangeHasTombstones with no end: whether an entry from `start` up may have been deleted.
    pub fn has_tombstones_from(&self, start: &StreamId) -> bool {
        if self.entries.is_empty() || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id() > self.max_deleted {
            return false;
        }
        *start <= self.max_deleted
    }

    /// A group's lag as XINFO reports it (streamReplyWithCGLag); `None` when unknown.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.has_tombstones_from(&g.last_id) {
            return Some(added - g.entries_read);
        }
        let read = self.estimate_distance(&g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| added - read)
    }
}

/// Nodes of a rax holding `keys` (sorted, distinct, none a prefix of another) below a node: compressed nodes
/// for runs of a single child, branching nodes where keys diverge, and an empty leaf at each key's end.
fn rax_count(keys: &[&[u8]]) -> usize {
    if keys.is_empty() {
        return 1;
    }
    if keys.iter().any(|k| k.is_empty()) {
        // A key ends here: with nothing below it is a leaf.
        let rest: Vec<&[u8]> = keys.iter().filter(|k| !k.is_empty()).copied().collect();
        if rest.is_empty() {
            return 1;
        }
        return rax_below(&rest);
    }
    rax_below(keys)
}

/// This node plus what hangs below it, for non-empty `keys`.
fn rax_below(keys: &[&[u8]]) -> usize {
    let first = keys.first().copied().unwrap_or_default();
    let same_first = keys.iter().all(|k| k.first() == first.first());
    if same_first {
        // A compressed node over the longest common prefix.
        let mut common = first.len();
        for k in keys {
            let n = k.iter().zip(first.iter()).take_while(|(a, b)| a == b).count();
            common = common.min(n);
        }
        let rest: Vec<&[u8]> = keys.iter().map(|k| k.get(common..).unwrap_or_default()).collect();
        return 1 + rax_count(&rest);
    }
    // A branching node: one child per distinct next byte.
    let mut total = 1;
    let mut i = 0;
    while i < keys.len() {
        let c = keys.get(i).and_then(|k| k.first()).copied();
        let mut j = i;
        let mut group: Vec<&[u8]> = Vec::new();
        while let Some(k) = keys.get(j) {
            if k.first().copied() != c {
                break;
            }
            group.push(k.get(1..).unwrap_or_default());
            j += 1;
        }
        total += rax_count(&group);
        i = j;
    }
    total
}
