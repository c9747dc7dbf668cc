//! One logical database: the keyspace and, kept apart as Redis keeps it, the expiry of volatile keys.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::dict::Dict;
use crate::engine::ClientId;
use crate::multi::Watcher;
use crate::value::{key_mem_usage, Entry, DICT_ENTRY_SIZE, ROBJ_SIZE};

/// A keyspace bucket (a pointer), as Redis's dict tables count them.
const BUCKET_SIZE: u64 = 8;
/// What jemalloc rounds a 24-byte `dictEntry` up to: used memory counts the allocation, MEMORY USAGE the struct.
const DICT_ENTRY_ALLOC: u64 = 32;

pub struct Db {
    /// Every key with its value.
    pub keys: Dict<Entry>,
    /// Absolute expiry (unix ms) of the keys that have one. A separate table, as in Redis,
    /// so active expiry can sample volatile keys only.
    pub expires: Dict<u64>,
    /// Keys that blocked clients wait for, each with its clients in the order they blocked (Redis's
    /// `db->blocking_keys`). Kept here so that adding a key can tell at once whether anyone waits for it;
    /// the clients' side of the wait is in `crate::blocking`.
    pub blocking_keys: hashbrown::HashMap<Vec<u8>, VecDeque<ClientId>>,
    /// Waited-for keys that were added since blocked clients were last served, in the order they were added,
    /// each once (Redis's `db->ready_keys` and its share of `server.ready_keys`).
    pub ready_keys: Vec<Vec<u8>>,
    /// Keys that clients WATCH, each with its watchers (Redis's `db->watched_keys`). Kept here so every
    /// mutation primitive below can mark the watchers of the key it changes; see `crate::multi`.
    pub watched_keys: hashbrown::HashMap<Vec<u8>, Vec<Watcher>>,
    /// Whether changed keys are logged in `modified`: on while anything is tracked for client-side caching
    /// (`crate::tracking`), which invalidates them after the change.
    pub(crate) log_modified: bool,
    /// Keys signalled as changed (`signal_modified_key`) since `crate::tracking` last took them, in order.
    pub(crate) modified: Vec<Vec<u8>>,
    /// Whether keys added are recorded in `new_keys`: on only while `new` events are wanted (`crate::notify`).
    pub track_new: bool,
    /// Keys added since the last keyspace event, for the `new` events Redis's dbAdd fires (`crate::notify`).
    pub new_keys: Vec<Vec<u8>>,
    /// The sum of the keys' `Entry::mem` (MEMORY USAGE's figure per key), kept up to date by every change so
    /// that used memory is known without walking the keyspace (maxmemory checks it before every command).
    mem: u64,
    /// `used_memory`'s figure, refreshed by every primitive that changes the tables (`refresh_used`), so the
    /// engine's total is a sum of one field per database.
    used: u64,
    /// Slots (in `keys`) of the keys handed out for changing in place during the running command
    /// (`Engine::lookup_write`, `Engine::entry_mut`): `settle_mem` charges them again when it ends. A removal
    /// moves an entry between slots, and `remove` keeps these in step, so no key needs to be kept or hashed.
    changed: Vec<u32>,
}

impl Db {
    pub fn new(seed: u64) -> Db {
        Db {
            keys: Dict::new(seed),
            expires: Dict::new(seed ^ 0x5bd1_e995),
            blocking_keys: hashbrown::HashMap::new(),
            ready_keys: Vec::new(),
            watched_keys: hashbrown::HashMap::new(),
            log_modified: false,
            modified: Vec::new(),
            track_new: false,
            new_keys: Vec::new(),
            mem: 0,
            used: 0,
            changed: Vec::new(),
        }
    }

    /// MEMORY USAGE's figures of all the keys summed.
    pub fn keys_mem(&self) -> u64 {
        self.mem
    }

    /// The database's hash tables apart from the keys and values: the dict entries (MEMORY STATS's
    /// `overhead.hashtable.main` counts an object header per key too) and bucket arrays of the keyspace, and
    /// the expiry table's. Redis allocates no table for an empty dict.
    pub fn table_overhead(&self) -> (u64, u64) {
        let buckets = |n: usize, len: usize| if len == 0 { 0 } else { n as u64 * BUCKET_SIZE };
        let keys = self.keys.len() as u64;
        let main = keys * (DICT_ENTRY_SIZE + ROBJ_SIZE) as u64 + buckets(self.keys.bucket_count(), self.keys.len());
        let expires = self.expires.len() as u64 * DICT_ENTRY_SIZE as u64 + buckets(self.expires.bucket_count(), self.expires.len());
        (main, expires)
    }

    /// The memory the database takes in the used-memory total: its keys as MEMORY USAGE counts them, the
    /// rounding of each dict entry to its allocation, the bucket arrays and the expiry table.
    pub fn used_memory(&self) -> u64 {
        self.used
    }

    /// Computes `used` again after a change of the tables.
    fn refresh_used(&mut self) {
        self.used = self.used_with(self.mem);
    }

    /// The used-memory figure for keys taking `mem` in all.
    fn used_with(&self, mem: u64) -> u64 {
        let rounding = self.keys.len() as u64 * (DICT_ENTRY_ALLOC - DICT_ENTRY_SIZE as u64);
        let buckets = |n: usize, len: usize| if len == 0 { 0 } else { n as u64 * BUCKET_SIZE };
        mem + rounding
            + buckets(self.keys.bucket_count(), self.keys.len())
            + self.expires.len() as u64 * DICT_ENTRY_ALLOC
            + buckets(self.expires.bucket_count(), self.expires.len())
    }

    /// `used_memory` computed afresh from a walk of the keyspace: what it must always equal.
    pub fn used_memory_recounted(&self) -> u64 {
        self.used_with(self.keys_mem_recounted())
    }

    /// The keys' memory counted afresh by walking the keyspace: what `keys_mem` must always equal (tests check
    /// the incremental accounting against it).
    pub fn keys_mem_recounted(&self) -> u64 {
        self.keys.iter().map(|(k, e)| clamp_mem(key_mem_usage(k, &e.value)) as u64).sum()
    }

    /// A key's value for changing in place (`Engine::lookup_write`, `Engine::entry_mut`): its slot is noted so
    /// that `settle_mem` charges it again. True when it is the first key noted since the last settling.
    pub(crate) fn entry_for_change(&mut self, key: &[u8]) -> Option<(&mut Entry, bool)> {
        let (slot, entry) = self.keys.get_mut_with_slot(key)?;
        let first = self.changed.is_empty();
        // A command usually looks its key up more than once; one note is enough.
        if self.changed.last() != Some(&slot) {
            self.changed.push(slot);
        }
        Some((entry, first))
    }

    /// Charges the keys changed in place again: each one's `Entry::mem` becomes its current size, and the
    /// database's totals follow.
    pub(crate) fn settle_mem(&mut self) {
        let mut changed_size = false;
        for &slot in &self.changed {
            if let Some((key, entry)) = self.keys.get_at_mut(slot) {
                let now = clamp_mem(key_mem_usage(key, &entry.value));
                if now != entry.mem {
                    self.mem = self.mem.saturating_sub(entry.mem as u64) + now as u64;
                    entry.mem = now;
                    changed_size = true;
                }
            }
        }
        self.changed.clear();
        if changed_size {
            self.refresh_used();
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn expire_of(&self, key: &[u8]) -> Option<u64> {
        self.expires.get(key).copied()
    }

    /// Whether the key has an expiry that `now` has passed (Redis: `now > when`, so a key lives through its own millisecond).
    pub fn is_expired(&self, key: &[u8], now: u64) -> bool {
        matches!(self.expires.get(key), Some(&when) if now > when)
    }

    /// Stores `entry` under `key`, dropping any previous expiry (Redis's `setKey` without KEEPTTL).
    /// Every new key goes through here or `set_keep_ttl`, so a key clients block on is seen when it appears.
    pub fn set(&mut self, key: &[u8], entry: Entry) {
        self.expires.remove(key);
        self.set_keep_ttl(key, entry);
    }

    /// Stores `entry`, keeping an existing expiry.
    pub fn set_keep_ttl(&mut self, key: &[u8], entry: Entry) {
        // Redis's dbAdd signals a key as ready when it is added, not when an existing one is overwritten.
        if !self.blocking_keys.is_empty() && !self.keys.contains_key(key) {
            self.signal_key_as_ready(key);
        }
        let mut entry = entry;
        entry.mem = clamp_mem(key_mem_usage(key, &entry.value));
        self.mem += entry.mem as u64;
        let (slot, old) = self.keys.insert_slot(key.to_vec(), entry);
        // Charged whole just now: a note to charge it again after the command (its lookup for writing) is moot.
        if self.changed.last() == Some(&slot) {
            self.changed.pop();
        }
        match old {
            Some(old) => {
                self.mem = self.mem.saturating_sub(old.mem as u64);
                self.signal_if_stream_gone(key, &old);
            }
            None if self.track_new => self.new_keys.push(key.to_vec()),
            None => {}
        }
        self.refresh_used();
        self.signal_modified_key(key);
    }

    /// Queues `key` for serving its blocked clients after the current command, if any wait for it and it is
    /// not queued already (Redis's signalKeyAsReady). Adding a key does this by itself; a command that makes
    /// an existing value servable (a stream growing) calls it.
    pub fn signal_key_as_ready(&mut self, key: &[u8]) {
        if self.blocking_keys.contains_key(key) && !self.ready_keys.iter().any(|k| k.as_slice() == key) {
            self.ready_keys.push(key.to_vec());
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (_, entry, freed, moved) = self.keys.remove_tracking(key)?;
        self.signal_if_stream_gone(key, &entry);
        if !self.changed.is_empty() {
            // The removed key needs no settling; the entry moved into its slot is found there.
            self.changed.retain(|&s| s != freed);
            self.changed.iter_mut().filter(|s| **s == moved).for_each(|s| *s = freed);
        }
        self.mem = self.mem.saturating_sub(entry.mem as u64);
        self.expires.remove(key);
        self.refresh_used();
        self.signal_modified_key(key);
        Some(entry)
    }

    /// Sets the expiry of an existing key; does nothing for a missing key.
    pub fn set_expire(&mut self, key: &[u8], when: u64) {
        if self.keys.contains_key(key) {
            self.expires.insert(key.to_vec(), when);
            self.refresh_used();
            self.signal_modified_key(key);
        }
    }

    /// Removes the expiry; true when there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let had = self.expires.remove(key).is_some();
        if had {
            self.refresh_used();
            self.signal_modified_key(key);
        }
        had
    }

    /// A stream that clients wait for was deleted or replaced (Redis's signalDeletedKeyAsReady): the key is
    /// made ready, so XREADGROUP waiters learn that it is gone.
    fn signal_if_stream_gone(&mut self, key: &[u8], old: &Entry) {
        if !self.blocking_keys.is_empty() && matches!(old.value, crate::value::Value::Stream(_)) {
            self.signal_key_as_ready(key);
        }
    }

    /// Empties the database (FLUSHDB, FLUSHALL): the watchers of keys that existed see them change, and
    /// clients waiting on a stream in it learn that it is gone.
    pub fn clear(&mut self) {
        crate::multi::touch_all_watched(self);
        if !self.blocking_keys.is_empty() {
            let streams: Vec<Vec<u8>> = self
                .blocking_keys
                .keys()
                .filter(|k| matches!(self.keys.get(k), Some(Entry { value: crate::value::Value::Stream(_), .. })))
                .cloned()
                .collect();
            for key in streams {
                self.signal_key_as_ready(&key);
            }
        }
        self.keys.clear();
        self.expires.clear();
        self.mem = 0;
        self.changed.clear();
        self.refresh_used();
    }

    /// Marks the clients watching `key` as having seen it change and, while anything is tracked, logs it for
    /// client-side caching (Redis's signalModifiedKey: touchWatchedKey and trackingInvalidateKey).
    /// The primitives above call it; a command that changes a value in place calls it when Redis's command
    /// would signal even though the value ends up the same (HSET of the same value, LSET, SETRANGE...).
    /// Other in-place changes are found by `crate::multi` and `crate::tracking` comparing the watched or
    /// tracked values around the command.
    pub fn signal_modified_key(&mut self, key: &[u8]) {
        if self.log_modified {
            self.modified.push(key.to_vec());
        }
        if self.watched_keys.is_empty() {
            return;
        }
        let exists = self.keys.contains_key(key);
        if let Some(watchers) = self.watched_keys.get_mut(key) {
            crate::multi::touch_watchers(watchers, exists);
        }
    }

    /// The keys whose expiry is due at `now`, among `sample` random volatile keys.
    pub fn sample_expired(&self, rng: &mut crate::util::Rng, sample: usize, now: u64) -> (usize, Vec<Vec<u8>>) {
        let picked = self.expires.sample(rng, sample);
        let seen = picked.len();
        let due = picked.into_iter().filter(|(_, &when)| now > when).map(|(k, _)| k.to_vec()).collect();
        (seen, due)
    }
}

/// A key's memory as `Entry::mem` holds it.
fn clamp_mem(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{RString, Value};

    fn string(s: &str) -> Entry {
        Entry::new(Value::Str(RString::encoded(s.as_bytes().to_vec())), 0)
    }

    fn grow(db: &mut Db, key: &[u8]) {
        if let Some((entry, _)) = db.entry_for_change(key) {
            if let Value::Str(s) = &mut entry.value {
                s.bytes.extend_from_slice(&[b'x'; 500]);
                s.encoding = crate::value::StrEncoding::Raw;
            }
        }
    }

    /// A key noted for settling is found again after a removal moved it to another slot, and a removed key's
    /// note is dropped (the slot it leaves may be taken by another key).
    #[test]
    fn noted_keys_follow_their_entries_through_removals() {
        let mut db = Db::new(1);
        for k in ["a", "b", "c", "d"] {
            db.set(k.as_bytes(), string("v"));
        }
        grow(&mut db, b"d");
        grow(&mut db, b"b");
        // Removing "a" moves the last entry ("d") into its slot; removing "b" drops its note.
        db.remove(b"a");
        db.remove(b"b");
        db.settle_mem();
        assert_eq!(db.keys_mem(), db.keys_mem_recounted());
        assert_eq!(db.used_memory(), db.used_memory_recounted());
        assert!(db.keys_mem() > 500);
        db.clear();
        assert_eq!((db.keys_mem(), db.used_memory()), (0, 0));
    }
}
