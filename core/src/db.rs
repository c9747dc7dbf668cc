//! One logical database: the keyspace and, kept apart as Redis keeps it, the expiry of volatile keys.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::dict::Dict;
use crate::engine::ClientId;
use crate::multi::Watcher;
use crate::value::Entry;

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
    /// Whether keys added are recorded in `new_keys`: on only while `new` events are wanted (`crate::notify`).
    pub track_new: bool,
    /// Keys added since the last keyspace event, for the `new` events Redis's dbAdd fires (`crate::notify`).
    pub new_keys: Vec<Vec<u8>>,
}

impl Db {
    pub fn new(seed: u64) -> Db {
        Db {
            keys: Dict::new(seed),
            expires: Dict::new(seed ^ 0x5bd1_e995),
            blocking_keys: hashbrown::HashMap::new(),
            ready_keys: Vec::new(),
            watched_keys: hashbrown::HashMap::new(),
            track_new: false,
            new_keys: Vec::new(),
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
        if self.keys.insert(key.to_vec(), entry).is_none() && self.track_new {
            self.new_keys.push(key.to_vec());
        }
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
        let entry = self.keys.remove(key)?;
        self.expires.remove(key);
        self.signal_modified_key(key);
        Some(entry)
    }

    /// Sets the expiry of an existing key; does nothing for a missing key.
    pub fn set_expire(&mut self, key: &[u8], when: u64) {
        if self.keys.contains_key(key) {
            self.expires.insert(key.to_vec(), when);
            self.signal_modified_key(key);
        }
    }

    /// Removes the expiry; true when there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let had = self.expires.remove(key).is_some();
        if had {
            self.signal_modified_key(key);
        }
        had
    }

    /// Empties the database (FLUSHDB, FLUSHALL): the watchers of keys that existed see them change.
    pub fn clear(&mut self) {
        crate::multi::touch_all_watched(self);
        self.keys.clear();
        self.expires.clear();
    }

    /// Marks the clients watching `key` as having seen it change (Redis's signalModifiedKey, the WATCH part).
    /// The primitives above call it; a command that changes a value in place calls it when Redis's command
    /// would signal even though the value ends up the same (HSET of the same value, LSET, SETRANGE...).
    /// Other in-place changes are found by `crate::multi` comparing watched values around the command.
    pub fn signal_modified_key(&mut self, key: &[u8]) {
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
