//! Memory accounting and `maxmemory` eviction (Redis's evict.c).
//!
//! Used memory is kept incrementally, never walked: each `Entry` holds its key's size as MEMORY USAGE reports
//! it (`value::key_mem_usage`), each `Db` the sum (`Db::keys_mem`) and adds its tables' overhead, and the
//! engine adds a fixed start and its clients (`Engine::used_memory`). `Db::set` and `Db::remove` charge and
//! discharge whole keys; a value changed in place is marked when it is handed out for writing
//! (`Engine::lookup_write`, `Engine::entry_mut`): its database notes its slot in the keyspace table, and
//! `settle_memory` charges it again once the command is over, finding it by slot without hashing.
//!
//! Before every command, when `maxmemory` is set and used memory is above it, `perform_evictions` deletes keys
//! by `maxmemory-policy` until enough is freed, as Redis's processCommand does. The LRU, LFU and TTL policies
//! sample `maxmemory-samples` keys per database with the engine's PRNG (`Dict::sample`, Redis's
//! dictGetSomeKeys) into a pool of the 16 best candidates kept across calls (evictionPoolPopulate) and evict
//! the best one that still exists; the random policies take a random key of the next non-empty database in
//! turn. When nothing can be freed (`noeviction`, no keys, no volatile keys), a command flagged `denyoom`, or
//! any command but EXEC, DISCARD, QUIT and RESET inside MULTI, is refused with Redis's OOM error.
//!
//! Differences from Redis: LRU idle time is measured in milliseconds (Redis's clock has one-second
//! resolution), and eviction runs until the target is met instead of stopping after a time budget and going
//! on in a timer, so that the same commands always evict the same keys.

use alloc::vec::Vec;

use crate::engine::{ClientId, Engine};
use crate::error::Error;
use crate::notify;
use crate::table::{CommandSpec, Flag};

/// Memory a fresh engine reports as used before any key exists (Redis 7.0's used_memory_startup).
pub const STARTUP_MEMORY: u64 = 866_208;
/// What a client costs when idle (its buffers), for mem_clients_normal.
pub const PER_CLIENT_MEMORY: u64 = 1_928;
/// Redis's EVPOOL_SIZE: the eviction candidates kept between samplings.
pub const EVPOOL_SIZE: usize = 16;
/// Rounds of sampling after which a pick gives up on the pool and takes a random key (the pool always yields
/// one much sooner; this only bounds the loop).
const MAX_PICK_ROUNDS: usize = 1_000;

/// `maxmemory-policy`, with Redis's MAXMEMORY_FLAG_* as methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    NoEviction,
}

impl Policy {
    /// The policy a `maxmemory-policy` value names (CONFIG SET stores only these names).
    pub fn parse(name: &str) -> Option<Policy> {
        Some(match name {
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            "noeviction" => Policy::NoEviction,
            _ => return None,
        })
    }

    /// Whether every key may go (MAXMEMORY_FLAG_ALLKEYS), or only keys with a time to live.
    pub fn allkeys(self) -> bool {
        matches!(self, Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom)
    }

    fn is_random(self) -> bool {
        matches!(self, Policy::AllkeysRandom | Policy::VolatileRandom)
    }

    /// How many keys of a database the policy may evict.
    fn candidates(self, db: &crate::db::Db) -> usize {
        if self.allkeys() {
            db.keys.len()
        } else {
            db.expires.len()
        }
    }
}

/// One eviction candidate: the higher `idle`, the better (idle time, inverted frequency or inverted expiry).
#[derive(Clone, Debug)]
struct Candidate {
    key: Vec<u8>,
    idle: u64,
    db: usize,
}

/// What eviction keeps between calls: the candidate pool (Redis's static EvictionPoolLRU), sorted by `idle`
/// ascending with the empty slots on the right, and the database the random policies visit next.
#[derive(Clone, Debug)]
pub struct Eviction {
    pool: Vec<Option<Candidate>>,
    next_db: usize,
}

impl Default for Eviction {
    fn default() -> Eviction {
        Eviction { pool: alloc::vec![None; EVPOOL_SIZE], next_db: 0 }
    }
}

impl Eviction {
    /// Puts a sampled key in its place in the pool (evictionPoolPopulate's insertion): before the first
    /// candidate that is at least as good; when the pool is full it goes only if it beats the worst, which
    /// then leaves.
    fn insert(&mut self, key: &[u8], idle: u64, db: usize) {
        let pool = &mut self.pool;
        let mut k = pool.iter().take_while(|c| c.as_ref().is_some_and(|c| c.idle < idle)).count();
        let full = pool.last().is_some_and(Option::is_some);
        if k == 0 && full {
            return;
        }
        if pool.get(k).is_some_and(Option::is_none) {
            // An empty slot: nothing to move.
        } else if !full {
            // Room on the right: shift the better candidates one step right (the empty last slot comes to k).
            if let Some(tail) = pool.get_mut(k..) {
                tail.rotate_right(1);
            }
        } else {
            // Full: the worst candidate (slot 0) leaves, the others up to k shift left.
            k -= 1;
            if let Some(head) = pool.get_mut(..=k) {
                head.rotate_left(1);
            }
        }
        if let Some(slot) = pool.get_mut(k) {
            *slot = Some(Candidate { key: key.to_vec(), idle, db });
        }
    }
}

impl Engine {
    /// A key's value for changing in place, without touching it (the caller looked it up already): noted so
    /// that its memory is charged again after the command. Every in-place change of a value goes through here
    /// or `lookup_write`.
    pub fn entry_mut(&mut self, dbi: usize, key: &[u8]) -> Option<&mut crate::value::Entry> {
        let Engine { dbs, changed_dbs, .. } = self;
        let (entry, first) = dbs.get_mut(dbi)?.entry_for_change(key)?;
        if first {
            changed_dbs.push(dbi);
        }
        Some(entry)
    }

    /// Memory in use by Redis's measure (INFO used_memory), from the running totals: a fixed start, the
    /// clients, and each database's keys and tables. O(databases).
    pub fn used_memory(&self) -> u64 {
        let dbs: u64 = self.dbs.iter().map(|db| db.used_memory()).sum();
        STARTUP_MEMORY + self.clients.len() as u64 * PER_CLIENT_MEMORY + dbs
    }

    /// Checks the incremental accounting against a fresh count (a walk of the whole keyspace, for tests): the
    /// first database whose total drifted, with the kept and the counted figures.
    pub fn memory_drift(&self) -> Option<(usize, u64, u64)> {
        self.dbs.iter().enumerate().find_map(|(i, db)| {
            let (kept, counted) = (db.used_memory(), db.used_memory_recounted());
            (kept != counted).then_some((i, kept, counted))
        })
    }

    /// Charges the keys that commands changed in place (see the module documentation).
    #[inline]
    pub(crate) fn settle_memory(&mut self) {
        while let Some(dbi) = self.changed_dbs.pop() {
            if let Some(db) = self.dbs.get_mut(dbi) {
                db.settle_mem();
            }
        }
    }

    /// The highest used memory seen after a command (INFO used_memory_peak), updated as Redis's call() does.
    pub(crate) fn record_peak(&mut self) {
        let used = self.used_memory();
        if used > self.peak_memory {
            self.peak_memory = used;
        }
    }

    /// Deletes a key chosen by eviction: the one place where eviction removes a key, so that whatever must
    /// follow every eviction (a DEL for the append-only file) can hook here. Watchers see the key deleted
    /// (`Db::remove` signals them); the `evicted` keyspace event fires and `evicted_keys` counts it.
    /// False when the key was not there.
    pub fn evict_key(&mut self, dbi: usize, key: &[u8]) -> bool {
        if self.dbs.get_mut(dbi).and_then(|db| db.remove(key)).is_none() {
            return false;
        }
        self.stats.evicted_keys += 1;
        // Client-side caching hears of it before its `evicted` event, as Redis's performEvictions signals.
        if self.tracking.on {
            crate::tracking::evicted(self, dbi, key);
        }
        notify::evicted(self, dbi, key);
        // The AOF gets the eviction as a DEL of its own, before the command that needed the memory.
        crate::propagate::evicted(self, dbi, key);
        true
    }

    /// Redis's performEvictions: when used memory is above `maxmemory`, evicts keys by the policy until the
    /// excess is freed. False when memory is over the limit and nothing more can be evicted (EVICT_FAIL).
    pub(crate) fn perform_evictions(&mut self) -> bool {
        let max = self.config.maxmemory;
        if max == 0 {
            return true;
        }
        self.settle_memory();
        let used = self.used_memory();
        if used <= max {
            return true;
        }
        let policy = match Policy::parse(&self.config.maxmemory_policy) {
            Some(Policy::NoEviction) | None => return false,
            Some(p) => p,
        };
        let to_free = used - max;
        let mut freed = 0u64;
        while freed < to_free {
            let Some((dbi, key)) = self.pick_victim(policy) else { return false };
            let before = self.used_memory();
            if !self.evict_key(dbi, &key) {
                return false;
            }
            freed += before.saturating_sub(self.used_memory());
        }
        true
    }

    /// The key to evict next and its database, `None` when the policy finds no key at all.
    fn pick_victim(&mut self, policy: Policy) -> Option<(usize, Vec<u8>)> {
        if policy.is_random() {
            return self.pick_random(policy);
        }
        for _ in 0..MAX_PICK_ROUNDS {
            // Every database contributes samples, so the choice is not local to one database.
            let mut total = 0;
            for dbi in 0..self.dbs.len() {
                let n = self.dbs.get(dbi).map_or(0, |db| policy.candidates(db));
                if n != 0 {
                    self.populate_pool(dbi, policy);
                    total += n;
                }
            }
            if total == 0 {
                return None;
            }
            // Best first; a candidate whose key has gone since it was sampled (a ghost) is dropped.
            for k in (0..EVPOOL_SIZE).rev() {
                let Some(c) = self.eviction.pool.get_mut(k).and_then(Option::take) else { continue };
                let exists = self.dbs.get(c.db).is_some_and(|db| {
                    if policy.allkeys() {
                        db.keys.contains_key(&c.key)
                    } else {
                        db.expires.contains_key(&c.key)
                    }
                });
                if exists {
                    return Some((c.db, c.key));
                }
            }
        }
        let fallback = if policy.allkeys() { Policy::AllkeysRandom } else { Policy::VolatileRandom };
        self.pick_random(fallback)
    }

    /// evictionPoolPopulate: samples keys of database `dbi` (all keys, or the volatile ones) and offers each
    /// to the pool with its score.
    fn populate_pool(&mut self, dbi: usize, policy: Policy) {
        let samples = self.config.maxmemory_samples.max(1) as usize;
        let (now, decay) = (self.now, self.config.lfu_decay_time);
        let Engine { dbs, rng, eviction, .. } = self;
        let Some(db) = dbs.get(dbi) else { return };
        let score = |entry: &crate::value::Entry| match policy {
            Policy::AllkeysLfu | Policy::VolatileLfu => 255 - entry.lfu_decayed(now, decay) as u64,
            _ => now.saturating_sub(entry.lru_ms),
        };
        if policy.allkeys() {
            for (key, entry) in db.keys.sample(rng, samples) {
                eviction.insert(key, score(entry), dbi);
            }
        } else {
            for (key, &when) in db.expires.sample(rng, samples) {
                let idle = if policy == Policy::VolatileTtl {
                    // The sooner the expiry, the better the candidate.
                    u64::MAX - when
                } else {
                    match db.keys.get(key) {
                        Some(entry) => score(entry),
                        None => continue,
                    }
                };
                eviction.insert(key, idle, dbi);
            }
        }
    }

    /// The random policies: a random key (or volatile key) of the next non-empty database, visiting the
    /// databases in turn so that each gives up keys.
    fn pick_random(&mut self, policy: Policy) -> Option<(usize, Vec<u8>)> {
        let n = self.dbs.len();
        for _ in 0..n {
            self.eviction.next_db = (self.eviction.next_db + 1) % n.max(1);
            let j = self.eviction.next_db;
            let Engine { dbs, rng, .. } = self;
            let Some(db) = dbs.get(j) else { continue };
            let key = if policy.allkeys() {
                db.keys.random(rng).map(|(k, _)| k)
            } else {
                db.expires.random(rng).map(|(k, _)| k)
            };
            if let Some(key) = key {
                return Some((j, key.to_vec()));
            }
        }
        None
    }

    /// The memory check of Redis's processCommand, for a command about to run (or be queued): evicts what the
    /// policy allows, and when memory stays over `maxmemory` refuses a `denyoom` command, an EXEC whose queue
    /// holds one, or inside MULTI any command but EXEC, DISCARD, QUIT and RESET. The refusal is Redis's OOM
    /// error (flagging the transaction; an EXEC answers EXECABORT).
    pub(crate) fn check_memory(&mut self, client: ClientId, spec: &'static CommandSpec) -> Option<Error> {
        // An AOF being replayed rebuilds what was written, as Redis loads without evicting.
        if self.loading {
            return None;
        }
        let in_multi = self.multi.in_multi(client);
        // Inside MULTI a `no_multi` command is refused for that first, before any memory check.
        if in_multi && spec.has(Flag::NoMulti) {
            return None;
        }
        if self.perform_evictions() {
            return None;
        }
        let exec = spec.name == "exec";
        let denyoom = spec.has(Flag::Denyoom) || (exec && crate::multi::queued_denyoom(self, client));
        let reject = denyoom || (in_multi && !matches!(spec.name, "exec" | "discard" | "quit" | "reset"));
        reject.then_some(Error::Oom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::reply::Reply;
    use crate::value::key_mem_usage;
    use alloc::format;
    use alloc::string::String;

    const T0: u64 = 1_700_000_000_000;

    /// An engine with one client; commands run 1 ms apart.
    struct Run {
        e: Engine,
        c: ClientId,
        now: u64,
    }

    impl Run {
        fn new() -> Run {
            let mut e = Engine::new(Config::default());
            let c = e.connect(T0);
            Run { e, c, now: T0 }
        }

        fn cmd(&mut self, args: &[&str]) -> Reply {
            self.now += 1;
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            self.e.execute(self.c, &argv, self.now).unwrap_or(Reply::Nil)
        }

        fn ok(&mut self, args: &[&str]) {
            assert_eq!(self.cmd(args), Reply::ok(), "{args:?}");
        }

        /// Sets maxmemory to what is used now plus `room` bytes.
        fn limit_to(&mut self, room: u64) -> u64 {
            let max = self.e.used_memory() + room;
            self.ok(&["CONFIG", "SET", "maxmemory", &format!("{max}")]);
            max
        }

        fn exists(&self, key: &str) -> bool {
            self.e.db(0).keys.contains_key(key.as_bytes())
        }
    }

    fn key(i: usize) -> String {
        format!("key:{i:06}")
    }

    fn value() -> String {
        "v".repeat(100)
    }

    fn is_oom(r: &Reply) -> bool {
        matches!(r, Reply::Error(Error::Oom))
    }

    #[test]
    fn used_memory_follows_every_write_without_a_walk() {
        let mut r = Run::new();
        let start = r.e.used_memory();
        r.ok(&["SET", "foo", "bar"]);
        // Redis 7.0's MEMORY USAGE for the same keys (jemalloc size classes).
        assert_eq!(r.cmd(&["MEMORY", "USAGE", "foo"]), Reply::Integer(64));
        r.ok(&["SET", "n", "12345"]);
        assert_eq!(r.cmd(&["MEMORY", "USAGE", "n"]), Reply::Integer(48));
        r.ok(&["SET", "big", &"a".repeat(100)]);
        assert_eq!(r.cmd(&["MEMORY", "USAGE", "big"]), Reply::Integer(160));
        assert!(r.e.used_memory() > start);
        // A value growing in place is charged again after the command.
        let before = r.e.db(0).keys_mem();
        assert_eq!(r.cmd(&["APPEND", "big", &"b".repeat(1000)]), Reply::Integer(1100));
        assert!(r.e.db(0).keys_mem() >= before + 1000);
        assert_eq!(r.e.db(0).keys_mem(), r.e.db(0).keys_mem_recounted());
        // Collections too, element by element.
        for i in 0..300 {
            r.cmd(&["HSET", "h", &format!("f{i}"), &value()]);
            r.cmd(&["RPUSH", "l", &value()]);
            r.cmd(&["SADD", "s", &format!("m{i}")]);
            r.cmd(&["ZADD", "z", &format!("{i}"), &format!("m{i}")]);
            r.cmd(&["XADD", "x", "*", "f", &value()]);
        }
        assert_eq!(r.e.db(0).keys_mem(), r.e.db(0).keys_mem_recounted());
        let entry = r.e.db(0).keys.get(&b"h"[..]).map(|en| key_mem_usage(b"h", &en.value));
        assert!(entry.is_some_and(|n| n > 300 * 100));
        // Deleting everything leaves the start and the client.
        r.cmd(&["FLUSHALL"]);
        assert_eq!(r.e.used_memory(), start);
    }

    #[test]
    fn info_memory_stats_and_usage_agree() {
        let mut r = Run::new();
        for i in 0..100 {
            r.ok(&["SET", &key(i), &value()]);
        }
        let used = r.e.used_memory();
        let Reply::Verbatim(_, info) = r.cmd(&["INFO", "memory"]) else { panic!("INFO") };
        let info = String::from_utf8_lossy(&info).into_owned();
        assert!(info.contains(&format!("used_memory:{used}\r\n")), "{info}");
        let Reply::Map(stats) = r.cmd(&["MEMORY", "STATS"]) else { panic!("MEMORY STATS") };
        let field = |name: &str| stats.iter().find(|(k, _)| *k == Reply::bulk_str(name)).map(|(_, v)| v.clone());
        assert_eq!(field("total.allocated"), Some(Reply::Integer(used as i64)));
        assert_eq!(field("keys.count"), Some(Reply::Integer(100)));
        assert!(field("db.0").is_some() && field("db.1").is_none());
        // The keys' MEMORY USAGE figures add up to what the database holds.
        let sum: i64 = (0..100)
            .map(|i| match r.cmd(&["MEMORY", "USAGE", &key(i)]) {
                Reply::Integer(n) => n,
                other => panic!("{other:?}"),
            })
            .sum();
        assert_eq!(sum as u64, r.e.db(0).keys_mem());
    }

    /// The acceptance scenario: a cache under allkeys-lru written far past its memory.
    #[test]
    fn caching_with_allkeys_lru_keeps_recently_read_keys() {
        let mut r = Run::new();
        r.ok(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        let max = r.limit_to(100 * 1024);
        let (hot, total) = (50, 5_000);
        let (mut gets, mut misses) = (0u64, 0u64);
        for i in 0..total {
            let buckets = r.e.db(0).keys.bucket_count();
            let set = r.cmd(&["SET", &key(i), &value()]);
            assert_eq!(set, Reply::ok());
            // Over the limit by at most what this SET added: its key and the table growing under it.
            let stored = crate::value::Value::Str(crate::value::RString::encoded(value().into_bytes()));
            let growth = key_mem_usage(key(i).as_bytes(), &stored) as u64
                + 8
                + 8 * r.e.db(0).keys.bucket_count().saturating_sub(buckets) as u64;
            assert!(r.e.used_memory() <= max + growth, "SET {i}: {} > {max} + {growth}", r.e.used_memory());
            // The first keys are read all along.
            if i >= hot {
                gets += 1;
                if r.cmd(&["GET", &key(i % hot)]) == Reply::Nil {
                    misses += 1;
                }
            }
        }
        // Eviction runs before any command: after one that adds nothing, memory is within the limit.
        assert_eq!(r.cmd(&["PING"]), Reply::status("PONG"));
        assert!(r.e.used_memory() <= max);
        let alive = r.e.db(0).len();
        assert!(alive > 100 && alive < total, "{alive} keys left");
        assert_eq!(r.e.stats.evicted_keys, (total - alive) as u64);
        let hot_alive = (0..hot).filter(|&i| r.exists(&key(i))).count();
        let cold_alive = (hot..total / 2).filter(|&i| r.exists(&key(i))).count();
        assert!(hot_alive >= hot * 9 / 10, "{hot_alive} of {hot} read keys survived");
        assert!(cold_alive * 20 < total / 2 - hot, "{cold_alive} old unread keys survived");
        // Every GET was a hit or a miss; few missed, since read keys stay.
        assert_eq!(r.e.stats.keyspace_hits + r.e.stats.keyspace_misses, gets);
        assert_eq!(r.e.stats.keyspace_misses, misses);
        assert!(misses * 20 < gets, "{misses} misses in {gets} reads");
        let Reply::Verbatim(_, info) = r.cmd(&["INFO", "stats"]) else { panic!("INFO") };
        let info = String::from_utf8_lossy(&info).into_owned();
        assert!(info.contains(&format!("evicted_keys:{}\r\n", total - alive)), "{info}");
    }

    #[test]
    fn volatile_policies_evict_only_keys_with_a_ttl() {
        for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
            let mut r = Run::new();
            r.ok(&["CONFIG", "SET", "maxmemory-policy", policy]);
            r.limit_to(60 * 1024);
            let mut refused = 0;
            for i in 0..2_000 {
                let reply = if i % 2 == 0 {
                    r.cmd(&["SET", &key(i), &value(), "EX", "1000"])
                } else {
                    r.cmd(&["SET", &key(i), &value()])
                };
                if is_oom(&reply) && i % 2 == 1 {
                    refused += 1;
                }
            }
            assert!(r.e.stats.evicted_keys > 0, "{policy}");
            // Every key without a TTL that was written is still there.
            let persistent = (0..2_000).filter(|i| i % 2 == 1).filter(|&i| r.exists(&key(i))).count();
            assert_eq!(persistent + refused, 1_000, "{policy}");
            // Once only persistent keys are left, writes are refused rather than evicting them.
            assert!(refused > 0, "{policy}");
            assert_eq!(r.e.db(0).expires.len(), 0, "{policy}");
        }
    }

    #[test]
    fn volatile_ttl_evicts_the_soonest_to_expire() {
        let mut r = Run::new();
        r.ok(&["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]);
        for i in 0..200 {
            r.ok(&["SET", &key(i), &value(), "EX", &format!("{}", 1_000 + i)]);
        }
        // Room for about half of them.
        let half = r.e.used_memory() - r.e.db(0).used_memory() / 2;
        r.ok(&["CONFIG", "SET", "maxmemory", &format!("{half}")]);
        assert_eq!(r.cmd(&["PING"]), Reply::status("PONG"));
        let evicted: Vec<usize> = (0..200).filter(|&i| !r.exists(&key(i))).collect();
        assert!(evicted.len() > 50);
        let mean = evicted.iter().sum::<usize>() / evicted.len();
        let pure = (evicted.len() - 1) / 2;
        assert!(mean <= pure + 20, "mean evicted index {mean}, {} evicted", evicted.len());
        assert!(r.exists(&key(199)));
    }

    #[test]
    fn allkeys_lfu_keeps_frequently_read_keys() {
        let mut r = Run::new();
        r.ok(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        // Every access counts (no probability), and no decay within the test.
        r.ok(&["CONFIG", "SET", "lfu-log-factor", "0"]);
        r.ok(&["CONFIG", "SET", "lfu-decay-time", "0"]);
        for i in 0..50 {
            r.ok(&["SET", &key(i), &value()]);
            for _ in 0..5 {
                r.cmd(&["GET", &key(i)]);
            }
        }
        assert_eq!(r.cmd(&["OBJECT", "FREQ", &key(0)]), Reply::Integer(10));
        r.limit_to(20 * 1024);
        for i in 50..2_000 {
            r.ok(&["SET", &key(i), &value()]);
        }
        let frequent = (0..50).filter(|&i| r.exists(&key(i))).count();
        assert!(frequent >= 48, "{frequent} of 50 frequently read keys survived");
        assert!(r.e.stats.evicted_keys > 1_000);
    }

    #[test]
    fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
        let mut r = Run::new();
        for i in 0..10 {
            r.ok(&["SET", &key(i), &value()]);
        }
        r.ok(&["CONFIG", "SET", "maxmemory", "1"]);
        assert!(is_oom(&r.cmd(&["SET", "new", "v"])));
        assert!(is_oom(&r.cmd(&["RPUSH", "list", "a"])));
        assert_eq!(r.cmd(&["GET", &key(1)]), Reply::Bulk(value().into_bytes()));
        assert_eq!(r.cmd(&["DEL", &key(1)]), Reply::Integer(1));
        assert_eq!(r.e.stats.evicted_keys, 0);
        assert_eq!(r.e.db(0).len(), 9);
        // Refusals count as rejected calls and OOM errors.
        assert_eq!(r.e.stats.commands.get("set").map(|s| s.rejected_calls), Some(1));
        assert_eq!(r.e.stats.errors.get("OOM"), Some(&2));
        // With room again, writes go through.
        r.ok(&["CONFIG", "SET", "maxmemory", "0"]);
        r.ok(&["SET", "new", "v"]);
    }

    #[test]
    fn nothing_left_to_evict_is_out_of_memory() {
        let mut r = Run::new();
        r.ok(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
        for i in 0..10 {
            r.ok(&["SET", &key(i), &value()]);
        }
        r.ok(&["CONFIG", "SET", "maxmemory", "1"]);
        // Everything goes before the command, and the write is still refused.
        assert!(is_oom(&r.cmd(&["SET", "k", "v"])));
        assert_eq!(r.e.db(0).len(), 0);
        assert_eq!(r.e.stats.evicted_keys, 10);
    }

    #[test]
    fn transactions_under_memory_pressure() {
        let mut r = Run::new();
        let other = r.e.connect(T0);
        r.ok(&["MULTI"]);
        assert_eq!(r.cmd(&["SET", "a", "1"]), Reply::status("QUEUED"));
        r.e.execute(other, &[b"CONFIG", b"SET", b"maxmemory", b"1"], r.now);
        // A queued denyoom command makes EXEC itself refused.
        assert_eq!(
            r.cmd(&["EXEC"]),
            Reply::Error(Error::other("EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'."))
        );
        // While out of memory, anything but EXEC, DISCARD, QUIT and RESET is refused inside MULTI, and EXEC aborts.
        r.ok(&["MULTI"]);
        assert!(is_oom(&r.cmd(&["GET", "a"])));
        assert!(is_oom(&r.cmd(&["PING"])));
        assert_eq!(r.cmd(&["EXEC"]), Reply::Error(Error::other("EXECABORT Transaction discarded because of previous errors.")));
        r.ok(&["MULTI"]);
        r.ok(&["DISCARD"]);
        // A transaction of reads queued before the limit runs.
        r.e.execute(other, &[b"CONFIG", b"SET", b"maxmemory", b"0"], r.now);
        r.ok(&["MULTI"]);
        assert_eq!(r.cmd(&["GET", "a"]), Reply::status("QUEUED"));
        r.e.execute(other, &[b"CONFIG", b"SET", b"maxmemory", b"1"], r.now);
        assert_eq!(r.cmd(&["EXEC"]), Reply::Array(alloc::vec![Reply::Nil]));
    }

    #[test]
    fn eviction_touches_watchers_and_fires_the_evicted_event() {
        let mut r = Run::new();
        r.ok(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        r.ok(&["SET", "watched", "1"]);
        r.ok(&["WATCH", "watched"]);
        r.e.capture_events(true);
        for i in 0..5 {
            r.ok(&["SET", &key(i), "v"]);
        }
        r.ok(&["CONFIG", "SET", "maxmemory", "1"]);
        // The PING runs after every key is evicted; the transaction sees its key deleted.
        assert_eq!(r.cmd(&["PING"]), Reply::status("PONG"));
        assert!(!r.exists("watched"));
        let events = r.e.drain_events();
        let evicted: Vec<&[u8]> = events.iter().filter(|ev| ev.event == "evicted").map(|ev| ev.key.as_slice()).collect();
        assert_eq!(evicted.len(), 6);
        assert!(evicted.contains(&&b"watched"[..]));
        r.ok(&["CONFIG", "SET", "maxmemory", "0"]);
        r.ok(&["MULTI"]);
        r.cmd(&["SET", "x", "1"]);
        assert_eq!(r.cmd(&["EXEC"]), Reply::NilArray);
    }

    #[test]
    fn same_seed_same_evictions() {
        let survivors = |policy: &str| {
            let mut r = Run::new();
            r.ok(&["CONFIG", "SET", "maxmemory-policy", policy]);
            r.limit_to(30 * 1024);
            for i in 0..1_000 {
                r.cmd(&["SET", &key(i), &value(), "EX", "100"]);
                r.cmd(&["GET", &key(i / 3)]);
            }
            let mut keys: Vec<Vec<u8>> = r.e.db(0).keys.iter().map(|(k, _)| k.to_vec()).collect();
            keys.sort();
            keys
        };
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-ttl", "volatile-random"] {
            let a = survivors(policy);
            assert!(a.len() < 1_000);
            assert_eq!(a, survivors(policy), "{policy}");
        }
    }

    #[test]
    fn eviction_samples_every_database() {
        let mut r = Run::new();
        r.ok(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        for i in 0..200 {
            r.ok(&["SET", &key(i), &value()]);
        }
        r.ok(&["SELECT", "1"]);
        for i in 0..200 {
            r.ok(&["SET", &key(i), &value()]);
        }
        // Database 0 was written first: its keys are the least recently used.
        let keep = r.e.used_memory() - r.e.db(0).used_memory() / 2;
        r.ok(&["CONFIG", "SET", "maxmemory", &format!("{keep}")]);
        assert_eq!(r.cmd(&["PING"]), Reply::status("PONG"));
        assert!(r.e.db(0).len() < 150);
        assert!(r.e.db(1).len() > 190);
    }

    #[test]
    fn pool_keeps_the_best_candidates_in_order() {
        let mut ev = Eviction::default();
        for (i, idle) in [5u64, 1, 9, 3, 7].into_iter().enumerate() {
            ev.insert(format!("k{i}").as_bytes(), idle, 0);
        }
        let idles: Vec<u64> = ev.pool.iter().flatten().map(|c| c.idle).collect();
        assert_eq!(idles, [1, 3, 5, 7, 9]);
        for idle in 10..30 {
            ev.insert(b"x", idle, 0);
        }
        // Full: the 16 best remain, in order, and a worse one is not taken.
        let idles: Vec<u64> = ev.pool.iter().flatten().map(|c| c.idle).collect();
        assert_eq!(idles, (14..30).collect::<Vec<u64>>());
        ev.insert(b"y", 2, 0);
        assert_eq!(ev.pool.first().and_then(|c| c.as_ref()).map(|c| c.idle), Some(14));
    }
}
