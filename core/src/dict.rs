//! The engine's hash table (the keyspace, and the members of large sets, hashes and sorted sets): power-of-two
//! bucket counts and Redis's reverse-binary `SCAN` cursor (`dictScan` in src/dict.c).
//!
//! Why this shape: `SCAN` must return every element present for the whole scan at least once, even when
//! the table grows or shrinks between calls. Redis gets that from `bucket = hash & (size - 1)` plus a cursor
//! that increments its *high* bits first: the buckets already visited in a table of size 2^k are exactly the
//! ones whose "descendants" in a table of size 2^(k+1) (or "ancestors" in 2^(k-1)) the cursor will skip.
//! Because that argument only needs the table to be consistent *between* calls, we resize all at once instead
//! of rehashing incrementally, and a scan only ever looks at one table.
//!
//! Memory layout (the keyspace holds millions of entries, so bytes per entry matter):
//! - `entries: Vec<Entry<V>>` is a dense slab. Chains link through `next: u32` slab indices. Removal
//!   swap-removes the last entry into the hole and fixes the one link that pointed at it, so there is no
//!   free list, no per-slot tag, and `iter()` is a plain slice walk.
//! - The index from a key to its entry comes in two kinds, chosen when the dict is made:
//!   - `Dict::new`, chained (the keyspace's): `Vec<u32>` chain heads (`NIL` = empty), 4 bytes per bucket at a
//!     load of up to 1, as Redis grows its dict. Memory per key is what the keyspace is judged on.
//!   - `Dict::probed`, open addressing (the collections'): a control byte per slot (7 bits of the hash, or
//!     empty or deleted) and a `u32` slab index, at a load of up to 3/4, probed eight slots at a time. The
//!     control bytes are small enough to stay in the cache for a million members, so adding a member or
//!     looking for an absent one touches no memory outside it (see `Probed`); about 6 bytes per element more.
//!     Its bucket, for `SCAN`, is the set of elements whose probe starts there, so the argument above holds.
//! - Each entry stores the low 32 bits of its hash, so resizing never rehashes keys and lookups compare
//!   hashes before bytes.
//! - Keys up to [`INLINE_KEY`] bytes live inside the entry; longer ones get one exact-size heap allocation.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use crate::util::Rng;

/// "No entry" in `buckets` and `next`.
const NIL: u32 = u32::MAX;
/// Redis's `DICT_HT_INITIAL_SIZE`: the table never shrinks below this.
const MIN_BUCKETS: usize = 4;
/// Redis's `HASHTABLE_MIN_FILL`: shrink when fewer than 1/10 of the buckets' worth of elements remain.
const MIN_FILL_DIVISOR: usize = 10;
/// Keys this long or shorter are stored inline. 22 makes the key field exactly 24 bytes (tag + length + 22).
pub const INLINE_KEY: usize = 22;
/// Slab indices are `u32` and `NIL` is reserved, so this is the most entries a dict can hold. At ~48 bytes
/// per entry that is ~200 GB, so memory runs out first on any realistic host.
pub const MAX_LEN: usize = NIL as usize;

/// A key's bytes, inline when short (no allocation, no pointer chase on compare).
#[derive(Clone)]
enum Key {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

impl Key {
    fn new(key: Vec<u8>) -> Key {
        if key.len() <= INLINE_KEY {
            let mut bytes = [0u8; INLINE_KEY];
            if let Some(dst) = bytes.get_mut(..key.len()) {
                dst.copy_from_slice(&key);
            }
            Key::Inline { len: key.len() as u8, bytes }
        } else {
            // `into_boxed_slice` drops spare capacity, so the allocation is exactly the key.
            Key::Heap(key.into_boxed_slice())
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => bytes.get(..*len as usize).unwrap_or_default(),
            Key::Heap(b) => b,
        }
    }

    fn into_vec(self) -> Vec<u8> {
        match self {
            Key::Inline { .. } => self.as_bytes().to_vec(),
            Key::Heap(b) => b.into_vec(),
        }
    }
}

#[derive(Clone)]
struct Entry<V> {
    /// Low 32 bits of the key's hash; bucket = `hash & mask`, which is what makes the cursor work.
    hash: u32,
    /// Next entry in the same bucket, or `NIL`.
    next: u32,
    key: Key,
    value: V,
}

/// A hash table from byte-string keys to `V` with Redis `dict` semantics (see the module docs).
#[derive(Clone)]
pub struct Dict<V> {
    entries: Vec<Entry<V>>,
    index: Index,
    /// The hash's key: the seed already mixed as `hash_bytes` begins (`prepare_seed`), once rather than per key.
    seed: u64,
}

/// How keys find their slab entries: two layouts, one per kind of table (see the module docs).
#[derive(Clone)]
enum Index {
    /// Chain heads (`NIL` = empty), linked through `Entry::next`; the length is always a power of two >=
    /// `MIN_BUCKETS`. The keyspace's: 4 bytes per bucket at a load of up to 1.
    Chained(Vec<u32>),
    /// Open addressing with linear probing, for collections.
    Probed(Probed),
}

/// An open-addressed index: per slot a control byte and a slab index, in two arrays.
///
/// Why: a lookup reads control bytes until it meets its tag or an empty slot, and only on a tag match the
/// slab index and the entry. The control bytes are one byte per slot, so for a collection of a million
/// members they are 2 MB and stay in the cache while the entries (40-80 MB) do not: adding a new member
/// (SADD, HSET, ZADD of a new element) or asking for an absent one reads no memory outside the cache, where
/// a chain head and the entry it points to are each a load from memory. Costs 5 bytes per slot at a load of
/// at most 3/4, about 6 bytes per element more than `Chained`, which is why the keyspace keeps chains.
///
/// A removal leaves a tombstone (probes go on past it; an insertion reuses it), because moving later
/// elements back would need their hashes, from entries outside the cache. Tombstones count towards the load
/// and go when the index is rebuilt.
#[derive(Clone)]
struct Probed {
    /// `EMPTY`, `DELETED`, or the element's tag (`tag(hash)`, below 0x80).
    ctrl: Vec<u8>,
    /// The slab index of the element in each full slot.
    slots: Vec<u32>,
    tombstones: usize,
}

const EMPTY: u8 = 0x80;
const DELETED: u8 = 0xfe;

/// Seven bits of the hash that the slot number does not use (the top ones; the slot is `hash & mask`).
fn tag(hash: u32) -> u8 {
    (hash >> 25) as u8
}

/// A byte repeated in each of a word's eight bytes, and each byte's high bit.
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `g` equal to `b`. The subtraction's borrow can flag a byte just above a true
/// match as well, never miss one: callers verify each candidate (a key compare, an index compare), and a
/// flagged empty slot always has a true one below it in the same group.
fn matching(g: u64, b: u8) -> u64 {
    let x = g ^ LO.wrapping_mul(b as u64);
    x.wrapping_sub(LO) & !x & HI
}

impl Probed {
    fn new(size: usize) -> Probed {
        Probed { ctrl: vec![EMPTY; size], slots: vec![0; size], tombstones: 0 }
    }

    /// Slots for `n` elements at a load of at most 3/4.
    fn size_for(n: usize) -> usize {
        n.saturating_mul(4).div_ceil(3).max(MIN_BUCKETS).checked_next_power_of_two().unwrap_or(MIN_BUCKETS)
    }

    fn mask(&self) -> usize {
        self.ctrl.len().wrapping_sub(1)
    }

    /// The eight control bytes from slot `pos` on, wrapping, as a little-endian word (byte k is slot
    /// `pos + k`): probes read eight slots per step.
    #[inline]
    fn group(&self, pos: usize) -> u64 {
        if let Some(b) = self.ctrl.get(pos..pos + 8) {
            return u64::from_le_bytes(b.try_into().unwrap_or([EMPTY; 8]));
        }
        let mask = self.mask();
        (0..8).fold(0, |g, k| g | (self.ctrl.get((pos + k) & mask).copied().unwrap_or(EMPTY) as u64) << (8 * k))
    }

    /// Walks `hash`'s probe, up to the group holding the first empty slot, calling `hit` with each slot
    /// whose tag matches until it says found: `Ok` with that slot, else `Err` with the slot an insertion
    /// would fill (the first free or deleted one of the probe; `NIL` if none). Every lookup, removal and
    /// insertion goes through here; most read one group and no slot.
    #[inline]
    fn probe(&self, hash: u32, mut hit: impl FnMut(usize) -> bool) -> Result<usize, usize> {
        let (mask, t) = (self.mask(), tag(hash));
        let mut pos = hash as usize & mask;
        let mut free = NIL as usize;
        for _ in 0..=self.ctrl.len() / 8 {
            let g = self.group(pos);
            let mut m = matching(g, t);
            while m != 0 {
                let i = (pos + (m.trailing_zeros() / 8) as usize) & mask;
                if hit(i) {
                    return Ok(i);
                }
                m &= m.wrapping_sub(1);
            }
            // Empty and deleted are the control bytes with the high bit set.
            if free == NIL as usize && g & HI != 0 {
                free = (pos + ((g & HI).trailing_zeros() / 8) as usize) & mask;
            }
            if matching(g, EMPTY) != 0 {
                break;
            }
            pos = (pos + 8) & mask;
        }
        Err(free)
    }

    /// The slot holding slab index `idx`, whose hash is `hash`.
    fn slot_of_index(&self, hash: u32, idx: u32) -> Option<usize> {
        self.probe(hash, |i| self.slots.get(i) == Some(&idx)).ok()
    }

    /// Frees slot `at`: empty where no probe can have gone on past it, else a tombstone.
    ///
    /// A probe reads eight slots at a time and goes on only past eight with no empty slot among them. So `at`
    /// can become empty when every eight consecutive slots around it hold another empty one: fewer than 8
    /// non-empty slots in the row through `at`. At the loads used here that is most removals, so tombstones
    /// stay few and the index is rarely rebuilt for their sake. (A table of 8 slots or fewer is one group,
    /// and always holds an empty slot besides: the load is at most 3/4.)
    fn vacate(&mut self, at: usize) {
        let (mask, n) = (self.mask(), self.ctrl.len());
        let full = |i: usize| self.ctrl.get(i & mask).is_some_and(|&c| c != EMPTY);
        let before = (1..8).take_while(|&k| full(at.wrapping_sub(k))).count();
        let after = (1..8).take_while(|&k| full(at + k)).count();
        let keep_probing = n > 8 && before + after + 1 >= 8;
        if let Some(c) = self.ctrl.get_mut(at) {
            if keep_probing {
                *c = DELETED;
                self.tombstones += 1;
            } else {
                *c = EMPTY;
            }
        }
    }

    /// Puts slab index `idx` (hash `hash`, not present) in the first free or deleted slot of its probe.
    fn place(&mut self, hash: u32, idx: u32) {
        if let Err(at) = self.probe(hash, |_| false) {
            self.put(at, hash, idx);
        }
    }

    /// Fills free or deleted slot `at` with slab index `idx`, whose hash is `hash`.
    fn put(&mut self, at: usize, hash: u32, idx: u32) {
        if self.ctrl.get(at) == Some(&DELETED) {
            self.tombstones -= 1;
        }
        if let (Some(c), Some(s)) = (self.ctrl.get_mut(at), self.slots.get_mut(at)) {
            *c = tag(hash);
            *s = idx;
        }
    }
}

impl<V> Dict<V> {
    /// An empty dict with the keyspace's index (`Chained`). `seed` keys the hash, so the same seed and the
    /// same operations give the same layout (and so the same `SCAN`/`RANDOMKEY` results).
    pub fn new(seed: u64) -> Self {
        Dict { entries: Vec::new(), index: Index::Chained(vec![NIL; MIN_BUCKETS]), seed: prepare_seed(seed) }
    }

    /// An empty dict with the collections' index (`Probed`): the same interface and semantics, for the
    /// members of sets, hashes and sorted sets.
    pub fn probed(seed: u64) -> Self {
        Dict { entries: Vec::new(), index: Index::Probed(Probed::new(MIN_BUCKETS)), seed: prepare_seed(seed) }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of buckets (slots of a probed dict): a power of two, at least 4.
    pub fn bucket_count(&self) -> usize {
        match &self.index {
            Index::Chained(b) => b.len(),
            Index::Probed(p) => p.ctrl.len(),
        }
    }

    fn mask(&self) -> usize {
        self.bucket_count().wrapping_sub(1)
    }

    fn hash(&self, key: &[u8]) -> u32 {
        hash_prepared(self.seed, key) as u32
    }

    fn key_at(&self, idx: u32, key: &[u8], hash: u32) -> bool {
        self.entries.get(idx as usize).is_some_and(|e| e.hash == hash && e.key.as_bytes() == key)
    }

    /// Slab index of `key`.
    #[inline]
    fn find(&self, key: &[u8], hash: u32) -> Option<u32> {
        match &self.index {
            Index::Chained(buckets) => self.chain_find(buckets, key, hash).map(|(_, i)| i),
            Index::Probed(p) => self.find_probed(p, key, hash).ok().and_then(|at| p.slots.get(at).copied()),
        }
    }

    /// The slot of `key` in a probed dict, or when it is absent the slot an insertion puts it in.
    #[inline]
    fn find_probed(&self, p: &Probed, key: &[u8], hash: u32) -> Result<usize, usize> {
        p.probe(hash, |i| p.slots.get(i).is_some_and(|&idx| self.key_at(idx, key, hash)))
    }

    /// Slab index of `key` in a chained dict, and of its predecessor in the chain (`None` when it is the
    /// bucket head).
    #[inline]
    fn chain_find(&self, buckets: &[u32], key: &[u8], hash: u32) -> Option<(Option<u32>, u32)> {
        let mut prev = None;
        let mut cur = *buckets.get(hash as usize & buckets.len().wrapping_sub(1))?;
        while cur != NIL {
            let e = self.entries.get(cur as usize)?;
            if e.hash == hash && e.key.as_bytes() == key {
                return Some((prev, cur));
            }
            prev = Some(cur);
            cur = e.next;
        }
        None
    }

    fn index_of(&self, key: &[u8]) -> Option<usize> {
        // An empty dict (the expiry table of a database without TTLs, on every command) needs no hash.
        if self.entries.is_empty() {
            return None;
        }
        self.find(key, self.hash(key)).map(|i| i as usize)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let i = self.index_of(key)?;
        self.entries.get(i).map(|e| &e.value)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let i = self.index_of(key)?;
        self.entries.get_mut(i).map(|e| &mut e.value)
    }

    /// `get_mut` that also gives the entry's slot in the slab, where `get_at_mut` finds it again without
    /// hashing. A slot stays the entry's until a removal moves the last entry into a freed slot
    /// (`remove_tracking` says which).
    pub fn get_mut_with_slot(&mut self, key: &[u8]) -> Option<(u32, &mut V)> {
        let i = self.index_of(key)?;
        self.entries.get_mut(i).map(|e| (i as u32, &mut e.value))
    }

    /// The key and value in `slot`.
    pub fn get_at_mut(&mut self, slot: u32) -> Option<(&[u8], &mut V)> {
        self.entries.get_mut(slot as usize).map(|e| (e.key.as_bytes(), &mut e.value))
    }

    pub fn get_key_value(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        let i = self.index_of(key)?;
        self.entries.get(i).map(|e| (e.key.as_bytes(), &e.value))
    }

    /// The slot of `key` in the slab, where `get_at_mut` finds it again without hashing (see
    /// `get_mut_with_slot` for how long a slot stays the entry's).
    pub fn slot_of(&self, key: &[u8]) -> Option<u32> {
        self.index_of(key).map(|i| i as u32)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.index_of(key).is_some()
    }

    /// Inserts or replaces; on replace the stored key is kept and the old value returned.
    ///
    /// Panics only if the dict already holds [`MAX_LEN`] entries (which needs ~200 GB of entries).
    pub fn insert(&mut self, key: Vec<u8>, value: V) -> Option<V> {
        self.insert_slot(key, value).1
    }

    /// `insert` that also gives the slot the value is in now.
    pub fn insert_slot(&mut self, key: Vec<u8>, value: V) -> (u32, Option<V>) {
        let hash = self.hash(&key);
        // A probed lookup that misses also finds the slot the key goes in.
        let (found, mut free) = match &self.index {
            Index::Chained(buckets) => (self.chain_find(buckets, &key, hash).map(|(_, i)| i), None),
            Index::Probed(p) => match self.find_probed(p, &key, hash) {
                Ok(at) => (p.slots.get(at).copied(), None),
                Err(at) => (None, Some(at)),
            },
        };
        if let Some(i) = found {
            return (i, self.entries.get_mut(i as usize).map(|e| core::mem::replace(&mut e.value, value)));
        }
        assert!(self.entries.len() < MAX_LEN, "Dict is full");
        let len = self.entries.len();
        match &self.index {
            // Redis's _dictExpandIfNeeded: grow before adding once the load factor reaches 1.
            Index::Chained(b) if len >= b.len() => {
                let want = (len + 1).checked_next_power_of_two().unwrap_or(b.len());
                self.rebuild(want);
            }
            // Past a load of 3/4, counting tombstones. Rebuilt with room for a quarter more than now, so
            // that a table near the limit with removals and additions in turn is not rebuilt again soon.
            Index::Probed(p) if (len + p.tombstones + 1) * 4 > p.ctrl.len() * 3 => {
                self.rebuild(Probed::size_for(len + 1 + len / 4));
                free = None;
            }
            _ => {}
        }
        // Grow the slab by 1.5x rather than Vec's 2x: at millions of keys the spare capacity is the
        // single biggest overhead, and the amortized cost stays O(1).
        if self.entries.len() == self.entries.capacity() {
            let extra = (self.entries.capacity() / 2).max(MIN_BUCKETS);
            // On failure just fall through: `push` then grows (or aborts on OOM) as usual.
            let _ = self.entries.try_reserve_exact(extra);
        }
        let idx = len as u32;
        match &mut self.index {
            Index::Chained(buckets) => {
                let b = hash as usize & buckets.len().wrapping_sub(1);
                let next = buckets.get(b).copied().unwrap_or(NIL);
                self.entries.push(Entry { hash, next, key: Key::new(key), value });
                if let Some(head) = buckets.get_mut(b) {
                    *head = idx;
                }
            }
            Index::Probed(p) => {
                self.entries.push(Entry { hash, next: NIL, key: Key::new(key), value });
                match free {
                    Some(at) if at < p.ctrl.len() => p.put(at, hash, idx),
                    _ => p.place(hash, idx),
                }
            }
        }
        (idx, None)
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_entry(key).map(|(_, v)| v)
    }

    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(Vec<u8>, V)> {
        self.remove_tracking(key).map(|(k, v, _, _)| (k, v))
    }

    /// `remove_entry` that also tells which slot was freed and which slot's entry was moved into it (the
    /// last one; the same slot when the removed entry was the last).
    pub fn remove_tracking(&mut self, key: &[u8]) -> Option<(Vec<u8>, V, u32, u32)> {
        if self.entries.is_empty() {
            return None;
        }
        let hash = self.hash(key);
        let last = (self.entries.len() - 1) as u32;
        let idx = match &self.index {
            Index::Chained(buckets) => {
                let (prev, idx) = self.chain_find(buckets, key, hash)?;
                self.unlink_chained(prev, idx, hash)?;
                idx
            }
            Index::Probed(p) => {
                let at = self.find_probed(p, key, hash).ok()?;
                let idx = *p.slots.get(at)?;
                if let Index::Probed(p) = &mut self.index {
                    p.vacate(at);
                }
                idx
            }
        };
        self.repoint(last, idx)?;
        if (idx as usize) >= self.entries.len() {
            return None;
        }
        let entry = self.entries.swap_remove(idx as usize);
        // Shrinking on delete (Redis does it from serverCron) keeps memory tracking the live size; the
        // 1/10 threshold against growth at 1/1 gives enough hysteresis that add/remove cycles don't thrash.
        let (len, buckets) = (self.entries.len(), self.bucket_count());
        if buckets > MIN_BUCKETS && len * MIN_FILL_DIVISOR < buckets {
            let want = match &self.index {
                Index::Chained(_) => len.max(MIN_BUCKETS).checked_next_power_of_two().unwrap_or(MIN_BUCKETS),
                Index::Probed(_) => Probed::size_for(len),
            };
            self.rebuild(want);
            // The slab was sized for the old population; give most of it back too.
            self.entries.shrink_to(len + len / 2);
        }
        Some((entry.key.into_vec(), entry.value, idx, last))
    }

    /// Takes slab entry `idx` (found with predecessor `prev`) out of its chain.
    fn unlink_chained(&mut self, prev: Option<u32>, idx: u32, hash: u32) -> Option<()> {
        let next = self.entries.get(idx as usize)?.next;
        match prev {
            None => {
                let Index::Chained(buckets) = &mut self.index else { return None };
                let mask = buckets.len().wrapping_sub(1);
                *buckets.get_mut(hash as usize & mask)? = next;
            }
            Some(p) => self.entries.get_mut(p as usize)?.next = next,
        }
        Some(())
    }

    /// The last slab entry is about to move into slot `to` (by `swap_remove`): repoints the one link (bucket
    /// head, chain `next` or probed slot) that refers to it. Nothing to do when `to` is the last.
    fn repoint(&mut self, last: u32, to: u32) -> Option<()> {
        if to == last {
            return Some(());
        }
        let last_hash = self.entries.get(last as usize)?.hash;
        match &mut self.index {
            Index::Chained(buckets) => {
                let mask = buckets.len().wrapping_sub(1);
                let head = buckets.get_mut(last_hash as usize & mask)?;
                if *head == last {
                    *head = to;
                    return Some(());
                }
                let mut cur = *head;
                while cur != NIL {
                    let e = self.entries.get_mut(cur as usize)?;
                    if e.next == last {
                        e.next = to;
                        break;
                    }
                    cur = e.next;
                }
            }
            Index::Probed(p) => {
                let at = p.slot_of_index(last_hash, last)?;
                *p.slots.get_mut(at)? = to;
            }
        }
        Some(())
    }

    /// Rebuilds the index for `size` buckets (a power of two) from the stored hashes.
    fn rebuild(&mut self, size: usize) {
        match &mut self.index {
            Index::Chained(buckets) => {
                buckets.clear();
                buckets.resize(size, NIL);
                buckets.shrink_to_fit();
                let mask = size.wrapping_sub(1);
                for (i, e) in self.entries.iter_mut().enumerate() {
                    if let Some(head) = buckets.get_mut(e.hash as usize & mask) {
                        e.next = *head;
                        *head = i as u32;
                    }
                }
            }
            Index::Probed(p) => {
                // Free the old arrays before the new ones are made: at millions of members they are
                // megabytes.
                *p = Probed::new(0);
                *p = Probed::new(size);
                for (i, e) in self.entries.iter().enumerate() {
                    p.place(e.hash, i as u32);
                }
            }
        }
    }

    /// Removes everything and releases the memory, back to the initial 4 buckets.
    pub fn clear(&mut self) {
        self.entries = Vec::new();
        self.index = match self.index {
            Index::Chained(_) => Index::Chained(vec![NIL; MIN_BUCKETS]),
            Index::Probed(_) => Index::Probed(Probed::new(MIN_BUCKETS)),
        };
    }

    /// All elements, in slab order (unspecified, but deterministic for a given history).
    pub fn iter(&self) -> Iter<'_, V> {
        Iter(self.entries.iter())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&[u8], &mut V)> + '_ {
        self.entries.iter_mut().map(|e| (e.key.as_bytes(), &mut e.value))
    }

    /// Calls `f` with the slab index of every element whose bucket is `b` (`hash & mask`): a chain, or in
    /// a probed dict the elements of the run from slot `b` to the next empty slot that belong to `b`.
    fn each_in_bucket(&self, b: usize, mut f: impl FnMut(u32)) {
        match &self.index {
            Index::Chained(buckets) => {
                let mut cur = buckets.get(b).copied().unwrap_or(NIL);
                while cur != NIL {
                    let Some(e) = self.entries.get(cur as usize) else { break };
                    f(cur);
                    cur = e.next;
                }
            }
            // The windows a lookup from `b` reads, up to the first holding an empty slot: every element whose
            // probe starts at `b` is in them (in a table of fewer than 8 slots a window wraps onto itself, so
            // only its first `len` slots are new).
            Index::Probed(p) => {
                let (mask, n) = (p.mask(), p.ctrl.len());
                let mut pos = b;
                for _ in 0..=n / 8 {
                    let mut empty = false;
                    for k in 0..8.min(n) {
                        let i = (pos + k) & mask;
                        match p.ctrl.get(i).copied() {
                            Some(EMPTY) | None => empty = true,
                            Some(DELETED) => {}
                            Some(_) => {
                                let idx = p.slots.get(i).copied().unwrap_or(NIL);
                                if self.entries.get(idx as usize).is_some_and(|e| e.hash as usize & mask == b) {
                                    f(idx);
                                }
                            }
                        }
                    }
                    if empty {
                        break;
                    }
                    pos = (pos + 8) & mask;
                }
            }
        }
    }

    /// Visits the bucket at `cursor` (and, as dictScan does, the related buckets when the table size
    /// changed), calling `f` for each element; returns the next cursor (0 = done). Same semantics as Redis's
    /// dictScan with one table.
    ///
    /// With a single table there are no "related buckets" to visit within one call: a resize between calls
    /// is handled by the cursor itself, which is `cursor & mask` read in reverse-bit order. Growing may make
    /// the scan skip buckets whose elements it has already returned; shrinking may return some twice. A
    /// probed dict's bucket is every element whose hash puts it there first, wherever probing placed it, so
    /// the same argument holds.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let m0 = self.mask() as u64;
        self.each_in_bucket((cursor & m0) as usize, |i| {
            if let Some(e) = self.entries.get(i as usize) {
                f(e.key.as_bytes(), &e.value);
            }
        });
        // Increment the reversed cursor: set the bits above the mask so the carry flows out of the
        // masked part, then add one to the reversed value.
        let mut v = cursor | !m0;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A uniformly random element, O(1).
    ///
    /// Redis's `dictGetFairRandomKey` approximates uniformity (random non-empty bucket, then a random element
    /// of its chain, corrected by sampling) because its entries are scattered across chains. Here every
    /// element sits in the dense slab, so picking a random slab index is exactly uniform and cheaper.
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        let i = rng.below(self.entries.len() as u64) as usize;
        self.entries.get(i).map(|e| (e.key.as_bytes(), &e.value))
    }

    /// Up to `count` elements starting at a random bucket, like `dictGetSomeKeys` (used for active expiry
    /// and eviction sampling): walks consecutive buckets collecting whole buckets, jumps to a new random
    /// bucket after a run of empty ones, and gives up after `count * 10` buckets. Buckets follow the hash,
    /// not insertion order, so the sample is not biased by key age (a slab window would be). May return
    /// fewer than `count` elements, and can return an element twice if the walk wraps around.
    pub fn sample(&self, rng: &mut Rng, count: usize) -> Vec<(&[u8], &V)> {
        let count = count.min(self.entries.len());
        let mut out = Vec::with_capacity(count);
        if count == 0 {
            return out;
        }
        let mask = self.mask();
        let mut maxsteps = count.saturating_mul(10);
        let mut i = rng.next_u64() as usize & mask;
        let mut emptylen = 0usize;
        while out.len() < count && maxsteps > 0 {
            maxsteps -= 1;
            let before = out.len();
            self.each_in_bucket(i, |idx| {
                if out.len() < count {
                    if let Some(e) = self.entries.get(idx as usize) {
                        out.push((e.key.as_bytes(), &e.value));
                    }
                }
            });
            if out.len() == before {
                emptylen += 1;
                if emptylen >= 5 && emptylen > count {
                    i = rng.next_u64() as usize & mask;
                    emptylen = 0;
                }
            } else {
                emptylen = 0;
            }
            i = (i + 1) & mask;
        }
        out
    }
}

/// A dict's elements in slab order. A named type with a plain `next`, so what iterates it (and there is much)
/// compiles to less than through a chain of adapters.
pub struct Iter<'a, V>(core::slice::Iter<'a, Entry<V>>);

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a [u8], &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|e| (e.key.as_bytes(), &e.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}

impl<V: core::fmt::Debug> core::fmt::Debug for Dict<V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.iter().map(|(k, v)| (KeyDebug(k), v))).finish()
    }
}

/// Shows a key as an escaped byte string (`b"..."`-like) rather than a list of numbers.
struct KeyDebug<'a>(&'a [u8]);

impl core::fmt::Debug for KeyDebug<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("\"")?;
        for &c in self.0 {
            for e in core::ascii::escape_default(c) {
                core::fmt::Write::write_char(f, e as char)?;
            }
        }
        f.write_str("\"")
    }
}

// ---------------------------------------------------------------------------------------------------------
// Hashing: wyhash (final v4 constants). Fast on short keys, good avalanche, seeded. `u128` multiplies
// compile to two instructions on 64-bit hosts and to a short sequence on wasm32.
// ---------------------------------------------------------------------------------------------------------

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;
const P3: u64 = 0x5899_65cc_7537_4cc3;

/// The 128-bit product of `a` and `b`, as (low, high) halves.
#[cfg(not(target_arch = "wasm32"))]
fn mum(a: u64, b: u64) -> (u64, u64) {
    let r = (a as u128) * (b as u128);
    (r as u64, (r >> 64) as u64)
}

/// wasm32 has no 64×64→128 multiply, and a `u128` product is a call to a full 128×128 one (`__multi3`):
/// four 32×32 products are cheaper.
#[cfg(target_arch = "wasm32")]
fn mum(a: u64, b: u64) -> (u64, u64) {
    mum_halves(a, b)
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn mum_halves(a: u64, b: u64) -> (u64, u64) {
    let (a0, a1) = (a & 0xffff_ffff, a >> 32);
    let (b0, b1) = (b & 0xffff_ffff, b >> 32);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 32) + (p01 & 0xffff_ffff) + (p10 & 0xffff_ffff);
    ((p00 & 0xffff_ffff) | (mid << 32), p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32))
}

fn mix(a: u64, b: u64) -> u64 {
    let (lo, hi) = mum(a, b);
    lo ^ hi
}

// The reads convert a subslice into an array, which compiles to one load (`copy_from_slice` was a memcpy call
// on wasm32).
fn r8(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| <[u8; 8]>::try_from(s).ok()).map_or(0, u64::from_le_bytes)
}

fn r4(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()).map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

fn byte(b: &[u8], at: usize) -> u64 {
    b.get(at).copied().unwrap_or(0) as u64
}

/// Seeded 64-bit wyhash of `bytes`. Stable across platforms (little-endian reads), so layouts are too.
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    hash_prepared(prepare_seed(seed), bytes)
}

/// The first step of `hash_bytes`, which depends on the seed alone.
fn prepare_seed(seed: u64) -> u64 {
    seed ^ mix(seed ^ P0, P1)
}

/// `hash_bytes` after `prepare_seed`.
fn hash_prepared(seed: u64, bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let mut seed = seed;
    let (a, b);
    if len <= 16 {
        if len >= 4 {
            let quarter = (len >> 3) << 2;
            a = (r4(bytes, 0) << 32) | r4(bytes, quarter);
            b = (r4(bytes, len - 4) << 32) | r4(bytes, len - 4 - quarter);
        } else if len > 0 {
            a = (byte(bytes, 0) << 16) | (byte(bytes, len >> 1) << 8) | byte(bytes, len - 1);
            b = 0;
        } else {
            a = 0;
            b = 0;
        }
    } else {
        let mut p = 0usize;
        let mut i = len;
        if i > 48 {
            let mut see1 = seed;
            let mut see2 = seed;
            while i > 48 {
                seed = mix(r8(bytes, p) ^ P1, r8(bytes, p + 8) ^ seed);
                see1 = mix(r8(bytes, p + 16) ^ P2, r8(bytes, p + 24) ^ see1);
                see2 = mix(r8(bytes, p + 32) ^ P3, r8(bytes, p + 40) ^ see2);
                p += 48;
                i -= 48;
            }
            seed ^= see1 ^ see2;
        }
        while i > 16 {
            seed = mix(r8(bytes, p) ^ P1, r8(bytes, p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        a = r8(bytes, p + i - 16);
        b = r8(bytes, p + i - 8);
    }
    let (a, b) = mum(a ^ P1, b ^ seed);
    mix(a ^ P0 ^ len as u64, b ^ P1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::{BTreeMap, BTreeSet};
    use alloc::format;

    /// Short keys are stored inline, long ones on the heap; mix both.
    fn key(n: u64) -> Vec<u8> {
        match n % 3 {
            0 => format!("a-rather-long-key-that-does-not-fit-inline:{n}").into_bytes(),
            _ => format!("k{n}").into_bytes(),
        }
    }

    fn check_invariants<V: PartialEq + core::fmt::Debug>(d: &Dict<V>, model: &BTreeMap<Vec<u8>, V>) {
        assert_eq!(d.len(), model.len());
        let b = d.bucket_count();
        assert!(b.is_power_of_two() && b >= MIN_BUCKETS);
        match &d.index {
            Index::Chained(_) => assert!(d.len() <= b, "load factor above 1: {} / {b}", d.len()),
            Index::Probed(p) => {
                assert!((d.len() + p.tombstones) * 4 <= b * 3, "load above 3/4: {} + {} / {b}", d.len(), p.tombstones);
                let deleted = p.ctrl.iter().filter(|&&c| c == DELETED).count();
                assert_eq!(deleted, p.tombstones, "tombstones counted");
                assert_eq!(p.ctrl.iter().filter(|&&c| c < EMPTY).count(), d.len(), "one full slot per element");
            }
        }
        assert!(b == MIN_BUCKETS || d.len() * MIN_FILL_DIVISOR >= b, "not shrunk: {} / {b}", d.len());
        let mut seen = BTreeMap::new();
        for (k, v) in d.iter() {
            assert!(seen.insert(k.to_vec(), v).is_none(), "duplicate key");
        }
        assert_eq!(seen.len(), model.len());
        for (k, v) in model {
            assert_eq!(seen.get(k), Some(&v));
        }
        // Every entry is reachable through exactly its own bucket's chain.
        let mut chained = 0;
        let mut cursor = 0;
        loop {
            cursor = d.scan(cursor, |k, v| {
                chained += 1;
                assert_eq!(model.get(k), Some(v));
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(chained, model.len());
    }

    /// Both kinds of index, built by the same seed.
    fn both<V>(seed: u64) -> [Dict<V>; 2] {
        [Dict::new(seed), Dict::probed(seed)]
    }

    #[test]
    fn crud_matches_btreemap() {
        for d in both(42) {
            crud_matches_btreemap_with(d);
        }
    }

    fn crud_matches_btreemap_with(mut d: Dict<u64>) {
        let mut rng = Rng::new(7);
        let mut model: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        // Phases with different key ranges and insert/remove mixes so the table grows to thousands of
        // buckets, shrinks back to the minimum, and grows again.
        let phases: [(u64, u64); 6] = [(64, 70), (20_000, 80), (20_000, 20), (300, 30), (5_000, 60), (50, 10)];
        let mut op = 0u64;
        for (range, insert_pct) in phases {
            for _ in 0..60_000 {
                op += 1;
                let k = key(rng.below(range));
                match rng.below(100) {
                    r if r < insert_pct => assert_eq!(d.insert(k.clone(), op), model.insert(k, op)),
                    r if r < insert_pct + 10 => {
                        assert_eq!(d.get(&k), model.get(&k));
                        assert_eq!(d.contains_key(&k), model.contains_key(&k));
                        assert_eq!(d.get_key_value(&k), model.get_key_value(&k).map(|(k, v)| (&k[..], v)));
                    }
                    r if r < insert_pct + 15 => {
                        if let Some(v) = d.get_mut(&k) {
                            *v += 1;
                        }
                        if let Some(v) = model.get_mut(&k) {
                            *v += 1;
                        }
                    }
                    r if r % 2 == 0 => assert_eq!(d.remove(&k), model.remove(&k)),
                    _ => assert_eq!(d.remove_entry(&k), model.remove_entry(&k)),
                }
                if op % 4_999 == 1 {
                    check_invariants(&d, &model);
                }
            }
            check_invariants(&d, &model);
        }
        for (_, v) in d.iter_mut() {
            *v *= 2;
        }
        for v in model.values_mut() {
            *v *= 2;
        }
        check_invariants(&d, &model);
        // Drain everything: the table must shrink back to the minimum.
        let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
        for k in keys {
            assert_eq!(d.remove(&k), model.remove(&k));
        }
        check_invariants(&d, &model);
        assert_eq!(d.bucket_count(), MIN_BUCKETS);
        assert!(d.is_empty());
    }

    #[test]
    fn growth_and_shrink_thresholds() {
        let mut d = Dict::new(1);
        assert_eq!(d.bucket_count(), 4);
        for n in 0..4 {
            d.insert(key(n), ());
        }
        assert_eq!(d.bucket_count(), 4, "len == buckets is allowed");
        d.insert(key(4), ());
        assert_eq!(d.bucket_count(), 8, "the fifth element grows the table");
        for n in 5..1000 {
            d.insert(key(n), ());
        }
        assert_eq!(d.bucket_count(), 1024);
        for n in 103..1000 {
            d.remove(&key(n));
        }
        assert_eq!(d.bucket_count(), 1024, "103 of 1024 is still >= 10%");
        d.remove(&key(102));
        assert_eq!(d.bucket_count(), 128, "below 10% shrinks to the next power of two >= len");
        d.clear();
        assert!(d.is_empty() && d.bucket_count() == 4 && d.get(&key(1)).is_none());
    }

    #[test]
    fn probed_growth_and_shrink_thresholds() {
        let mut d = Dict::probed(1);
        assert_eq!(d.bucket_count(), 4);
        for n in 0..3 {
            d.insert(key(n), ());
        }
        assert_eq!(d.bucket_count(), 4, "3 of 4 slots is the most");
        d.insert(key(3), ());
        assert_eq!(d.bucket_count(), 8, "the fourth element grows the table");
        for n in 4..100 {
            d.insert(key(n), ());
        }
        // Removing one and adding another at a constant size leaves tombstones: they are cleared by
        // rebuilding, which must not make the table grow without bound.
        let mut model: BTreeMap<Vec<u8>, ()> = (0..100).map(|n| (key(n), ())).collect();
        for n in 100..20_000 {
            assert_eq!(d.remove(&key(n - 100)), Some(()));
            model.remove(&key(n - 100));
            d.insert(key(n), ());
            model.insert(key(n), ());
            assert!(d.bucket_count() <= 256, "{} slots for 100 elements", d.bucket_count());
            if n % 997 == 0 {
                check_invariants(&d, &model);
            }
        }
        check_invariants(&d, &model);
        assert_eq!(d.bucket_count(), 256);
        for n in 19_900..19_990 {
            d.remove(&key(n));
        }
        // 25 of 256 is below 10%: the fewest slots for 25 at a load of 3/4 are 64 (34 rounded up).
        assert_eq!(d.bucket_count(), 64, "below 10% shrinks");
        d.clear();
        assert!(d.is_empty() && d.bucket_count() == 4 && d.get(&key(1)).is_none());
    }

    #[test]
    fn matching_flags_every_equal_byte() {
        let mut rng = Rng::new(17);
        for _ in 0..20_000 {
            // Words of control-byte-like values, so that equal bytes are common.
            let bytes: [u8; 8] = core::array::from_fn(|_| [0, 1, 0x7f, 0x80, 0x81, 0xfe, 0x55][rng.below(7) as usize]);
            let g = u64::from_le_bytes(bytes);
            for b in [0u8, 1, 0x7f, 0x80, 0xfe] {
                let m = matching(g, b);
                let first = bytes.iter().position(|&x| x == b);
                for (k, &x) in bytes.iter().enumerate() {
                    let flagged = m >> (8 * k + 7) & 1 == 1;
                    if x == b {
                        assert!(flagged, "{bytes:x?}: byte {k} equals {b:#x} but is not flagged");
                    } else if flagged {
                        assert!(first.is_some_and(|f| f < k), "{bytes:x?}: byte {k} flagged with no match below");
                    }
                }
            }
        }
    }

    #[test]
    fn empty_scan_returns_zero() {
        let d: Dict<()> = Dict::new(0);
        let mut calls = 0;
        assert_eq!(d.scan(0, |_, _| calls += 1), 0);
        assert_eq!(d.scan(12345, |_, _| calls += 1), 0);
        assert_eq!(calls, 0);
    }

    /// Redis's guarantee: an element present from the start to the end of a scan is returned at least once,
    /// whatever is added or removed (and however the table resizes) between calls.
    #[test]
    fn scan_survives_growth_and_shrink() {
        for (seed, probed) in (0..8u64).flat_map(|s| [(s, false), (s, true)]) {
            let mut rng = Rng::new(seed);
            let mut d = if probed { Dict::probed(seed) } else { Dict::new(seed) };
            let stable: Vec<Vec<u8>> = (0..200).map(|n| format!("stable:{n}").into_bytes()).collect();
            for k in &stable {
                d.insert(k.clone(), ());
            }
            let mut churn: Vec<Vec<u8>> = Vec::new();
            let mut next_churn = 0u64;
            let mut flooding = true;
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            let mut grew = false;
            let mut shrank = false;
            let mut steps = 0;
            loop {
                let before = d.bucket_count();
                cursor = d.scan(cursor, |k, _| {
                    seen.insert(k.to_vec());
                });
                if cursor == 0 {
                    break;
                }
                steps += 1;
                assert!(steps < 1_000_000, "scan does not terminate");
                // Oscillate between flooding (growth to 4096 buckets) and draining (shrink back to 256),
                // a random amount per step so resizes land at every point of the cursor's progress.
                if churn.len() >= 3_000 {
                    flooding = false;
                } else if churn.is_empty() {
                    flooding = true;
                }
                for _ in 0..rng.below(100) {
                    if flooding {
                        let k = format!("churn:{next_churn}").into_bytes();
                        next_churn += 1;
                        d.insert(k.clone(), ());
                        churn.push(k);
                    } else if let Some(k) = churn.pop() {
                        d.remove(&k);
                    }
                }
                grew |= d.bucket_count() > before;
                shrank |= d.bucket_count() < before;
            }
            assert!(grew && shrank, "seed {seed}: the test must exercise both resizes");
            for k in &stable {
                assert!(seen.contains(k), "seed {seed}: {k:?} missed by SCAN");
            }
        }
    }

    #[test]
    fn random_is_present_and_covers_everything() {
        for d in both(9) {
            random_is_present_and_covers_everything_with(d);
        }
    }

    fn random_is_present_and_covers_everything_with(mut d: Dict<u64>) {
        let mut rng = Rng::new(3);
        assert!(d.random(&mut rng).is_none());
        for n in 0..50 {
            d.insert(key(n), n);
        }
        for n in (0..50).step_by(2) {
            d.remove(&key(n));
        }
        let mut hits = BTreeMap::new();
        for _ in 0..5_000 {
            let (k, v) = d.random(&mut rng).expect("non-empty");
            assert_eq!(d.get(k), Some(v));
            *hits.entry(k.to_vec()).or_insert(0u32) += 1;
        }
        assert_eq!(hits.len(), 25);
        // Uniform: 200 expected per key; allow a wide margin.
        assert!(hits.values().all(|&c| (100..300).contains(&c)), "{hits:?}");
    }

    #[test]
    fn sample_returns_present_elements() {
        for d in both(11) {
            sample_returns_present_elements_with(d);
        }
    }

    fn sample_returns_present_elements_with(mut d: Dict<u64>) {
        let mut rng = Rng::new(5);
        assert!(d.sample(&mut rng, 20).is_empty());
        for n in 0..1000 {
            d.insert(key(n), n);
        }
        let mut union = BTreeSet::new();
        for _ in 0..500 {
            let s = d.sample(&mut rng, 20);
            assert!(!s.is_empty() && s.len() <= 20);
            for (k, v) in s {
                assert_eq!(d.get(k), Some(v));
                union.insert(k.to_vec());
            }
        }
        assert!(union.len() > 900, "samples start at random buckets: {}", union.len());
        // Asking for more than there is returns at most everything.
        let mut small = Dict::new(1);
        small.insert(b"a".to_vec(), 1);
        small.insert(b"b".to_vec(), 2);
        assert!(small.sample(&mut rng, 10).len() <= 2);
        assert_eq!(small.sample(&mut rng, 0).len(), 0);
    }

    #[test]
    fn multiply_by_halves_is_the_u128_product() {
        let mut rng = Rng::new(5);
        for _ in 0..100_000 {
            let (a, b) = (rng.next_u64(), rng.next_u64() >> (rng.next_u64() % 64));
            let r = (a as u128) * (b as u128);
            assert_eq!(mum_halves(a, b), (r as u64, (r >> 64) as u64));
        }
        assert_eq!(mum_halves(u64::MAX, u64::MAX), (1, u64::MAX - 1));
    }

    #[test]
    fn same_seed_same_layout() {
        for probed in [false, true] {
            same_seed_same_layout_with(probed);
        }
    }

    fn same_seed_same_layout_with(probed: bool) {
        let build = |seed| {
            let mut d = if probed { Dict::probed(seed) } else { Dict::new(seed) };
            for n in 0..500 {
                d.insert(key(n), n);
            }
            for n in (0..500).step_by(3) {
                d.remove(&key(n));
            }
            let mut order = Vec::new();
            let mut cursor = 0;
            loop {
                cursor = d.scan(cursor, |k, _| order.push(k.to_vec()));
                if cursor == 0 {
                    break order;
                }
            }
        };
        assert_eq!(build(1), build(1));
        assert_ne!(build(1), build(2));
    }

    #[test]
    fn hash_covers_every_length_path() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut seen = BTreeSet::new();
        for len in 0..=data.len() {
            let bytes = &data[..len];
            let h = hash_bytes(1, bytes);
            assert_eq!(h, hash_bytes(1, bytes));
            assert_ne!(h, hash_bytes(2, bytes));
            assert!(seen.insert(h));
        }
        // One-bit changes flip about half of the output bits.
        let mut total = 0;
        for i in 0..64 {
            let mut k = *b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
            let a = hash_bytes(0, &k);
            k[i] ^= 1;
            total += (a ^ hash_bytes(0, &k)).count_ones();
        }
        assert!((24 * 64..40 * 64).contains(&total), "{total}");
    }

    #[test]
    fn entry_is_compact() {
        assert_eq!(core::mem::size_of::<Key>(), 24);
        assert_eq!(core::mem::size_of::<Entry<[u8; 16]>>(), 48);
    }
}
