//! One logical database: the keyspace and, kept apart as Redis keeps it, the expiry of volatile keys.

use alloc::vec::Vec;

use crate::dict::Dict;
use crate::value::Entry;

pub struct Db {
    /// Every key with its value.
    pub keys: Dict<Entry>,
    /// Absolute expiry (unix ms) of the keys that have one. A separate table, as in Redis,
    /// so active expiry can sample volatile keys only.
    pub expires: Dict<u64>,
}

impl Db {
    pub fn new(seed: u64) -> Db {
        Db { keys: Dict::new(seed), expires: Dict::new(seed ^ 0x5bd1_e995) }
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
    pub fn set(&mut self, key: &[u8], entry: Entry) {
        self.expires.remove(key);
        self.keys.insert(key.to_vec(), entry);
    }

    /// Stores `entry`, keeping an existing expiry.
    pub fn set_keep_ttl(&mut self, key: &[u8], entry: Entry) {
        self.keys.insert(key.to_vec(), entry);
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entry = self.keys.remove(key)?;
        self.expires.remove(key);
        Some(entry)
    }

    /// Sets the expiry of an existing key; does nothing for a missing key.
    pub fn set_expire(&mut self, key: &[u8], when: u64) {
        if self.keys.contains_key(key) {
            self.expires.insert(key.to_vec(), when);
        }
    }

    /// Removes the expiry; true when there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        self.expires.remove(key).is_some()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.expires.clear();
    }

    /// The keys whose expiry is due at `now`, among `sample` random volatile keys.
    pub fn sample_expired(&self, rng: &mut crate::util::Rng, sample: usize, now: u64) -> (usize, Vec<Vec<u8>>) {
        let picked = self.expires.sample(rng, sample);
        let seen = picked.len();
        let due = picked.into_iter().filter(|(_, &when)| now > when).map(|(k, _)| k.to_vec()).collect();
        (seen, due)
    }
}
