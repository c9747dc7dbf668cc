//! The engine's configuration: what `Engine::new` takes and what CONFIG GET/SET read and change.

use alloc::string::String;

#[derive(Clone, Debug)]
pub struct Config {
    /// Seed of the engine's PRNG (RANDOMKEY, sampling): same seed, same choices.
    pub seed: u64,
    /// `databases`: how many logical databases SELECT can reach (fixed after start, as in Redis).
    pub databases: usize,
    /// `maxmemory` in bytes; 0 means no limit.
    pub maxmemory: u64,
    /// `maxmemory-policy`.
    pub maxmemory_policy: String,
    /// `maxmemory-samples`.
    pub maxmemory_samples: u32,
    /// `hz`: how often the host is expected to call `tick` per second (reported by INFO).
    pub hz: u32,
    /// `proto-max-bulk-len`: the largest string a command may create.
    pub proto_max_bulk_len: u64,
    /// `lfu-log-factor` and `lfu-decay-time` for the LFU counter.
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 0x5eed_1e7,
            databases: 16,
            maxmemory: 0,
            maxmemory_policy: String::from("noeviction"),
            maxmemory_samples: 5,
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        }
    }
}

impl Config {
    /// Whether the eviction policy lets values share integer objects (Redis disables sharing under LRU/LFU
    /// policies, since a shared object has no access time of its own).
    pub fn shared_integers(&self) -> bool {
        self.maxmemory == 0 || !(self.maxmemory_policy.contains("lru") || self.maxmemory_policy.contains("lfu"))
    }
}
