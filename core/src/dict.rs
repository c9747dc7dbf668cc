//! Placeholder keyspace table (hashbrown-backed); replaced by the scannable chained table.

use alloc::vec::Vec;
use hashbrown::HashMap;

use crate::util::Rng;

pub struct Dict<V> {
    map: HashMap<Vec<u8>, V>,
}

impl<V> Dict<V> {
    pub fn new(_seed: u64) -> Self {
        Dict { map: HashMap::new() }
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.map.get(key)
    }
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.map.get_mut(key)
    }
    pub fn get_key_value(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        self.map.get_key_value(key).map(|(k, v)| (k.as_slice(), v))
    }
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.map.contains_key(key)
    }
    pub fn insert(&mut self, key: Vec<u8>, value: V) -> Option<V> {
        self.map.insert(key, value)
    }
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.map.remove(key)
    }
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(Vec<u8>, V)> {
        self.map.remove_entry(key)
    }
    pub fn clear(&mut self) {
        self.map.clear()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.map.iter().map(|(k, v)| (k.as_slice(), v))
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&[u8], &mut V)> {
        self.map.iter_mut().map(|(k, v)| (k.as_slice(), v))
    }
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        let mut it = self.map.iter().skip(cursor as usize);
        match it.next() {
            Some((k, v)) => {
                f(k, v);
                if cursor as usize + 1 >= self.map.len() {
                    0
                } else {
                    cursor + 1
                }
            }
            None => 0,
        }
    }
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &V)> {
        if self.map.is_empty() {
            return None;
        }
        let i = rng.below(self.map.len() as u64) as usize;
        self.map.iter().nth(i).map(|(k, v)| (k.as_slice(), v))
    }
    pub fn sample(&self, rng: &mut Rng, count: usize) -> Vec<(&[u8], &V)> {
        (0..count.min(self.map.len())).filter_map(|_| self.random(rng)).collect()
    }
}
