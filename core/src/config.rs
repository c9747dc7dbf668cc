//! The engine's configuration: what `Engine::new` takes and what CONFIG GET/SET read and change.
//!
//! `PARAMS` describes every parameter CONFIG knows: its name, how its value is shown and how a new value is
//! parsed and checked, with Redis 7.0's exact error texts. A parameter is added by adding a field and a row.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::util::parse_i64;

#[derive(Clone, Debug)]
pub struct Config {
    /// Seed of the engine's PRNG (RANDOMKEY, sampling): same seed, same choices.
    pub seed: u64,
    /// `databases`: how many logical databases SELECT can reach (fixed after start, as in Redis).
    pub databases: usize,
    /// `maxmemory` in bytes; 0 means no limit.
    pub maxmemory: u64,
    /// `maxmemory-policy`, one of `MAXMEMORY_POLICIES`.
    pub maxmemory_policy: String,
    /// `maxmemory-samples`.
    pub maxmemory_samples: u32,
    /// `hz`: how often the host is expected to call `tick` per second (reported by INFO).
    /// Redis keeps what was set within 1..=500.
    pub hz: u32,
    /// `proto-max-bulk-len`: the largest string a command may create.
    pub proto_max_bulk_len: u64,
    /// `lfu-log-factor` and `lfu-decay-time` for the LFU counter.
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`): the most fields a hash keeps in its
    /// compact `listpack` encoding.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`): the longest field or value it keeps there.
    pub hash_max_listpack_value: usize,
    /// `notify-keyspace-events` as the bits of `notify`.
    pub notify_keyspace_events: u32,
    /// `appendonly`: stored for the host, which owns the AOF file.
    pub appendonly: bool,
    /// `save`: (seconds, changes) snapshot points, stored for the host, which owns the RDB file.
    pub save: Vec<(i64, i64)>,
    /// `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`): the most elements a sorted set keeps
    /// in the compact encoding.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value` (alias `zset-max-ziplist-value`): the longest member it keeps there.
    pub zset_max_listpack_value: usize,
    /// `set-max-intset-entries`: the most members a set keeps in its compact `intset` encoding.
    pub set_max_intset_entries: u64,
    /// `hll-sparse-max-bytes`: the longest a sparse HyperLogLog string grows before it becomes dense.
    pub hll_sparse_max_bytes: u64,
    /// `requirepass`: the default user's password; empty means none. Set by CONFIG SET or the host (`--requirepass`).
    /// Empty means none.
    pub requirepass: Vec<u8>,
    /// `dir`: the host's working directory for RDB/AOF files (redlet-server's `--dir`); empty in the browser.
    pub dir: String,
    /// `dbfilename`: the snapshot's file name in `dir`, for the host that writes it (`--dbfilename`).
    pub dbfilename: String,
    /// `enable-debug-command`: `no` (Redis's default: DEBUG is refused), `yes`, or `local` (the host decides
    /// what is local; the engine treats it as `yes`). Set only at start.
    pub enable_debug_command: String,
    /// `appendfsync`: `always`, `everysec` or `no`, for the host that writes the AOF.
    pub appendfsync: String,
    /// `appenddirname` and `appendfilename`: where the host keeps the AOF's files and their prefix (set at start).
    pub appenddirname: String,
    pub appendfilename: String,
    /// `aof-use-rdb-preamble`: whether a rewrite writes the base as an RDB (`.base.rdb`) or as commands.
    pub aof_use_rdb_preamble: bool,
    /// `aof-load-truncated`: whether a last AOF file cut inside a command loads up to it (else the start fails).
    pub aof_load_truncated: bool,
    /// `aof-timestamp-enabled`, `aof-rewrite-incremental-fsync`, `aof-disable-auto-gc`: kept and reported only.
    pub aof_timestamp_enabled: bool,
    pub aof_rewrite_incremental_fsync: bool,
    pub aof_disable_auto_gc: bool,
    /// `slowlog-log-slower-than` (microseconds; negative turns the slow log off) and `slowlog-max-len`.
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    /// `latency-monitor-threshold` (milliseconds; 0 is off): kept and reported; the engine records no latency events.
    pub latency_monitor_threshold: u64,
    /// `acllog-max-len`: how many entries ACL LOG keeps.
    pub acllog_max_len: u64,
    /// `tracking-table-max-keys`: the most keys client-side caching's tracking table keeps (0: no limit);
    /// random keys are invalidated to stay within it (`crate::tracking`).
    pub tracking_table_max_keys: u64,
    /// `acl-pubsub-default`: whether new users and selectors start with all channels (`allchannels`) or none
    /// (`resetchannels`, Redis 7.0's default).
    pub acl_pubsub_default: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 0x05ee_d1e7,
            databases: 16,
            maxmemory: 0,
            maxmemory_policy: String::from("noeviction"),
            maxmemory_samples: 5,
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            // Redis 7.0.15's built-in defaults (the sample redis.conf lowers entries to 128).
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            notify_keyspace_events: 0,
            appendonly: false,
            // The engine never snapshots by itself: like `redis-server --save ''` until a host says otherwise.
            save: Vec::new(),
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            hll_sparse_max_bytes: 3000,
            requirepass: Vec::new(),
            dir: String::new(),
            dbfilename: String::from("dump.rdb"),
            enable_debug_command: String::from("no"),
            appendfsync: String::from("everysec"),
            appenddirname: String::from("appendonlydir"),
            appendfilename: String::from("appendonly.aof"),
            aof_use_rdb_preamble: true,
            aof_load_truncated: true,
            aof_timestamp_enabled: false,
            aof_rewrite_incremental_fsync: true,
            aof_disable_auto_gc: false,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            acllog_max_len: 128,
            acl_pubsub_default: false,
            tracking_table_max_keys: 1_000_000,
        }
    }
}

impl Config {
    /// Whether the eviction policy lets values share integer objects (Redis disables sharing under LRU/LFU
    /// policies, since a shared object has no access time of its own).
    pub fn shared_integers(&self) -> bool {
        self.maxmemory == 0 || !(self.maxmemory_policy.contains("lru") || self.maxmemory_policy.contains("lfu"))
    }

    /// Whether keyspace notifications of `class` (a `notify` bit) are on, in either channel kind.
    pub fn notifies(&self, class: u32) -> bool {
        let n = self.notify_keyspace_events;
        n & (notify::KEYSPACE | notify::KEYEVENT) != 0 && n & class != 0
    }
}

/// Bits of `notify-keyspace-events`, as Redis's NOTIFY_* flags.
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 12;
    pub const NEW: u32 = 1 << 13;
    /// What `A` stands for: every class but key-miss and new-key events.
    pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Parses a `notify-keyspace-events` value (Redis's keyspaceEventsStringToFlags); `None` on an unknown class.
pub fn parse_notify_flags(s: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &ch in s {
        flags |= match ch {
            b'A' => notify::ALL,
            b'g' => notify::GENERIC,
            b'$' => notify::STRING,
            b'l' => notify::LIST,
            b's' => notify::SET,
            b'h' => notify::HASH,
            b'z' => notify::ZSET,
            b'x' => notify::EXPIRED,
            b'e' => notify::EVICTED,
            b'K' => notify::KEYSPACE,
            b'E' => notify::KEYEVENT,
            b't' => notify::STREAM,
            b'm' => notify::KEY_MISS,
            b'd' => notify::MODULE,
            b'n' => notify::NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// Shows notification flags as Redis does (keyspaceEventsFlagsToString): `A` replaces the classes it covers.
pub fn notify_flags_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & notify::ALL == notify::ALL {
        s.push('A');
    } else {
        let classes = [
            (notify::GENERIC, 'g'),
            (notify::STRING, '$'),
            (notify::LIST, 'l'),
            (notify::SET, 's'),
            (notify::HASH, 'h'),
            (notify::ZSET, 'z'),
            (notify::EXPIRED, 'x'),
            (notify::EVICTED, 'e'),
            (notify::STREAM, 't'),
            (notify::MODULE, 'd'),
            (notify::NEW, 'n'),
        ];
        s.extend(classes.iter().filter(|(bit, _)| flags & bit != 0).map(|&(_, c)| c));
    }
    for (bit, c) in [(notify::KEYSPACE, 'K'), (notify::KEYEVENT, 'E'), (notify::KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

pub const MAXMEMORY_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// One parameter CONFIG GET and CONFIG SET know.
pub struct Param {
    /// Lower-case canonical name.
    pub name: &'static str,
    /// Set only at start (`databases`): CONFIG SET refuses it.
    pub immutable: bool,
    pub get: fn(&Config) -> String,
    /// Parses and stores a new value, or says why not (the text after Redis's "CONFIG SET failed ... - ").
    pub set: fn(&mut Config, &[u8]) -> Result<(), String>,
}

/// Every parameter, by name.
pub static PARAMS: &[Param] = &[
    Param {
        name: "acl-pubsub-default",
        immutable: false,
        get: |c| String::from(if c.acl_pubsub_default { "allchannels" } else { "resetchannels" }),
        set: |c, v| {
            c.acl_pubsub_default = one_of(v, &["allchannels", "resetchannels"])? == "allchannels";
            Ok(())
        },
    },
    Param {
        name: "aclfile",
        // Users live in memory only: there is no ACL file to name (ACL SAVE and LOAD say so).
        immutable: true,
        get: |_| String::new(),
        set: |_, _| Err(String::from("can't set immutable config")),
    },
    Param {
        name: "acllog-max-len",
        immutable: false,
        get: |c| c.acllog_max_len.to_string(),
        set: |c, v| {
            c.acllog_max_len = int_in(v, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "aof-disable-auto-gc",
        immutable: false,
        get: |c| yes_no(c.aof_disable_auto_gc),
        set: |c, v| {
            c.aof_disable_auto_gc = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "aof-load-truncated",
        immutable: false,
        get: |c| yes_no(c.aof_load_truncated),
        set: |c, v| {
            c.aof_load_truncated = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "aof-rewrite-incremental-fsync",
        immutable: false,
        get: |c| yes_no(c.aof_rewrite_incremental_fsync),
        set: |c, v| {
            c.aof_rewrite_incremental_fsync = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "aof-timestamp-enabled",
        immutable: false,
        get: |c| yes_no(c.aof_timestamp_enabled),
        set: |c, v| {
            c.aof_timestamp_enabled = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "aof-use-rdb-preamble",
        immutable: false,
        get: |c| yes_no(c.aof_use_rdb_preamble),
        set: |c, v| {
            c.aof_use_rdb_preamble = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "appenddirname",
        immutable: true,
        get: |c| c.appenddirname.clone(),
        set: |c, v| {
            c.appenddirname = String::from_utf8_lossy(v).into_owned();
            Ok(())
        },
    },
    Param {
        name: "appendfilename",
        immutable: true,
        get: |c| c.appendfilename.clone(),
        set: |c, v| {
            c.appendfilename = String::from_utf8_lossy(v).into_owned();
            Ok(())
        },
    },
    Param {
        name: "appendfsync",
        immutable: false,
        get: |c| c.appendfsync.clone(),
        set: |c, v| {
            c.appendfsync = String::from(one_of(v, &["everysec", "always", "no"])?);
            Ok(())
        },
    },
    Param {
        name: "appendonly",
        immutable: false,
        get: |c| yes_no(c.appendonly),
        set: |c, v| {
            c.appendonly = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "databases",
        immutable: true,
        get: |c| c.databases.to_string(),
        set: |c, v| {
            c.databases = int_in(v, 1, i32::MAX as i64)? as usize;
            Ok(())
        },
    },
    Param {
        name: "dbfilename",
        immutable: false,
        get: |c| c.dbfilename.clone(),
        // A protected config in Redis 7.0 (`enable-protected-configs no`): CONFIG SET refuses it.
        set: |_, _| Err(String::from("can't set protected config")),
    },
    Param {
        name: "dir",
        immutable: false,
        get: |c| c.dir.clone(),
        set: |_, _| Err(String::from("can't set protected config")),
    },
    Param {
        name: "enable-debug-command",
        immutable: true,
        get: |c| c.enable_debug_command.clone(),
        set: |c, v| {
            c.enable_debug_command = String::from(one_of(v, &["no", "yes", "local"])?);
            Ok(())
        },
    },
    Param {
        name: "hash-max-listpack-entries",
        immutable: false,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: set_hash_max_entries,
    },
    Param {
        name: "hash-max-listpack-value",
        immutable: false,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: set_hash_max_value,
    },
    Param {
        name: "hash-max-ziplist-entries",
        immutable: false,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: set_hash_max_entries,
    },
    Param {
        name: "hash-max-ziplist-value",
        immutable: false,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: set_hash_max_value,
    },
    Param {
        name: "hll-sparse-max-bytes",
        immutable: false,
        get: |c| c.hll_sparse_max_bytes.to_string(),
        set: |c, v| {
            // A size_t memory config limited to 0..=LONG_MAX; an overlong number saturates and fails the range.
            let n = parse_memory(v).ok_or_else(|| String::from("argument must be a memory value"))?;
            c.hll_sparse_max_bytes = check_range(i64::try_from(n).unwrap_or(-1), 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "hz",
        immutable: false,
        get: |c| c.hz.to_string(),
        set: |c, v| {
            // Redis accepts any int but runs (and reports) within CONFIG_MIN_HZ..=CONFIG_MAX_HZ.
            c.hz = int_in(v, 0, i32::MAX as i64)?.clamp(1, 500) as u32;
            Ok(())
        },
    },
    Param {
        name: "latency-monitor-threshold",
        immutable: false,
        get: |c| c.latency_monitor_threshold.to_string(),
        set: |c, v| {
            c.latency_monitor_threshold = int_in(v, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "lfu-decay-time",
        immutable: false,
        get: |c| c.lfu_decay_time.to_string(),
        set: |c, v| {
            c.lfu_decay_time = int_in(v, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "lfu-log-factor",
        immutable: false,
        get: |c| c.lfu_log_factor.to_string(),
        set: |c, v| {
            c.lfu_log_factor = int_in(v, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "maxmemory",
        immutable: false,
        get: |c| c.maxmemory.to_string(),
        set: |c, v| {
            // An unsigned long long config: any memory value fits.
            c.maxmemory = parse_memory(v).ok_or_else(|| String::from("argument must be a memory value"))?;
            Ok(())
        },
    },
    Param {
        name: "maxmemory-policy",
        immutable: false,
        get: |c| c.maxmemory_policy.clone(),
        set: |c, v| {
            c.maxmemory_policy = String::from(one_of(v, MAXMEMORY_POLICIES)?);
            Ok(())
        },
    },
    Param {
        name: "maxmemory-samples",
        immutable: false,
        get: |c| c.maxmemory_samples.to_string(),
        set: |c, v| {
            c.maxmemory_samples = int_in(v, 1, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "notify-keyspace-events",
        immutable: false,
        get: |c| notify_flags_string(c.notify_keyspace_events),
        set: |c, v| {
            c.notify_keyspace_events = parse_notify_flags(v)
                .ok_or_else(|| String::from("Invalid event class character. Use 'Ag$lshzxeKEtmdn'."))?;
            Ok(())
        },
    },
    Param {
        name: "proto-max-bulk-len",
        immutable: false,
        get: |c| c.proto_max_bulk_len.to_string(),
        set: |c, v| {
            // A signed long long memory config: Redis reads the memory value as unsigned, then checks it as signed.
            let n = parse_memory(v).ok_or_else(|| String::from("argument must be a memory value"))? as i64;
            c.proto_max_bulk_len = check_range(n, 1024 * 1024, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "requirepass",
        immutable: false,
        get: |c| String::from_utf8_lossy(&c.requirepass).into_owned(),
        // The default user's password (`crate::acl::requirepass_changed`, called by CONFIG SET when the value
        // changes); connections already open keep the state they have.
        set: |c, v| {
            c.requirepass = v.to_vec();
            Ok(())
        },
    },
    Param {
        name: "save",
        immutable: false,
        get: |c| {
            let parts: Vec<String> = c.save.iter().map(|(s, n)| format!("{s} {n}")).collect();
            parts.join(" ")
        },
        set: |c, v| {
            c.save = parse_save(v).ok_or_else(|| String::from("Invalid save parameters"))?;
            Ok(())
        },
    },
    Param {
        name: "set-max-intset-entries",
        immutable: false,
        get: |c| c.set_max_intset_entries.to_string(),
        set: |c, v| {
            c.set_max_intset_entries = int_in(v, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "slowlog-log-slower-than",
        immutable: false,
        get: |c| c.slowlog_log_slower_than.to_string(),
        set: |c, v| {
            c.slowlog_log_slower_than = int_in(v, -1, i64::MAX)?;
            Ok(())
        },
    },
    Param {
        name: "slowlog-max-len",
        immutable: false,
        get: |c| c.slowlog_max_len.to_string(),
        set: |c, v| {
            c.slowlog_max_len = int_in(v, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "tracking-table-max-keys",
        immutable: false,
        get: |c| c.tracking_table_max_keys.to_string(),
        set: |c, v| {
            c.tracking_table_max_keys = int_in(v, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "zset-max-listpack-entries",
        immutable: false,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: set_zset_max_entries,
    },
    Param {
        name: "zset-max-listpack-value",
        immutable: false,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: set_zset_max_value,
    },
    Param {
        name: "zset-max-ziplist-entries",
        immutable: false,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: set_zset_max_entries,
    },
    Param {
        name: "zset-max-ziplist-value",
        immutable: false,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: set_zset_max_value,
    },
];

fn set_hash_max_entries(c: &mut Config, v: &[u8]) -> Result<(), String> {
    c.hash_max_listpack_entries = int_in(v, 0, i64::MAX)? as usize;
    Ok(())
}

/// A memory config: `1kb` is 1024.
fn set_hash_max_value(c: &mut Config, v: &[u8]) -> Result<(), String> {
    let n = parse_memory(v).ok_or_else(|| String::from("argument must be a memory value"))? as i64;
    c.hash_max_listpack_value = check_range(n, 0, i64::MAX)? as usize;
    Ok(())
}

fn set_zset_max_entries(c: &mut Config, v: &[u8]) -> Result<(), String> {
    c.zset_max_listpack_entries = int_in(v, 0, i64::MAX)? as usize;
    Ok(())
}

/// A memory config: `1kb` is 1024.
fn set_zset_max_value(c: &mut Config, v: &[u8]) -> Result<(), String> {
    let n = parse_memory(v).ok_or_else(|| String::from("argument must be a memory value"))? as i64;
    c.zset_max_listpack_value = check_range(n, 0, i64::MAX)? as usize;
    Ok(())
}

/// Finds a parameter by name, ignoring case as Redis's config dictionary does.
pub fn lookup(name: &[u8]) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name.as_bytes().eq_ignore_ascii_case(name))
}

fn yes_no(b: bool) -> String {
    String::from(if b { "yes" } else { "no" })
}

fn parse_bool(v: &[u8]) -> Result<bool, String> {
    if v.eq_ignore_ascii_case(b"yes") {
        Ok(true)
    } else if v.eq_ignore_ascii_case(b"no") {
        Ok(false)
    } else {
        Err(String::from("argument must be 'yes' or 'no'"))
    }
}

/// An integer config: string2ll rules, then the bounds.
fn int_in(v: &[u8], min: i64, max: i64) -> Result<i64, String> {
    let n = parse_i64(v).ok_or_else(|| String::from("argument couldn't be parsed into an integer"))?;
    check_range(n, min, max)
}

fn check_range(n: i64, min: i64, max: i64) -> Result<i64, String> {
    if n < min || n > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(n)
}

/// An enumerated config: the canonical name matched ignoring case.
fn one_of(v: &[u8], names: &'static [&'static str]) -> Result<&'static str, String> {
    names
        .iter()
        .copied()
        .find(|n| n.as_bytes().eq_ignore_ascii_case(v))
        .ok_or_else(|| format!("argument(s) must be one of the following: {}", names.join(", ")))
}

/// Parses a memory value as Redis's `memtoull`: digits then an optional unit (b, k, kb, m, mb, g, gb, any case).
/// Like Redis, digits alone may be empty (`mb` is 0), an overlong number saturates and the unit multiplies
/// with wrap-around.
pub fn parse_memory(v: &[u8]) -> Option<u64> {
    let digits = v.iter().take_while(|c| c.is_ascii_digit()).count();
    let (num, unit) = v.split_at(digits);
    let unit = unit.to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let mut n: u64 = 0;
    for &d in num {
        // strtoull saturates at ULLONG_MAX on overflow, and Redis does not check for it.
        n = n.checked_mul(10).and_then(|n| n.checked_add((d - b'0') as u64)).unwrap_or(u64::MAX);
    }
    Some(n.wrapping_mul(mul))
}

/// Parses `save`: space-separated pairs of seconds (at least 1) and changes (at least 0), or nothing.
pub fn parse_save(v: &[u8]) -> Option<Vec<(i64, i64)>> {
    if v.is_empty() {
        return Some(Vec::new());
    }
    // Redis splits on single spaces, so doubled spaces make empty (invalid) numbers.
    let nums: Vec<i64> = v.split(|&c| c == b' ').map(strtoll_whole).collect::<Option<_>>()?;
    if nums.len() & 1 == 1 {
        return None;
    }
    let pairs: Vec<(i64, i64)> = nums.chunks(2).filter_map(|p| Some((*p.first()?, *p.get(1)?))).collect();
    if pairs.iter().any(|&(secs, changes)| secs < 1 || changes < 0) {
        return None;
    }
    Some(pairs)
}

/// C's `strtoll(s, &end, 10)` required to consume the whole string: leading white space and a sign allowed,
/// saturating on overflow. An empty string reads as 0.
fn strtoll_whole(s: &[u8]) -> Option<i64> {
    let s = match s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) {
        Some(i) => s.get(i..)?,
        None => return if s.is_empty() { Some(0) } else { None },
    };
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        let digit = (d - b'0') as i64;
        n = n.checked_mul(10).and_then(|n| if neg { n.checked_sub(digit) } else { n.checked_add(digit) }).unwrap_or(
            if neg { i64::MIN } else { i64::MAX },
        );
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_values() {
        assert_eq!(parse_memory(b"100mb"), Some(100 * 1024 * 1024));
        assert_eq!(parse_memory(b"1MB"), Some(1024 * 1024));
        assert_eq!(parse_memory(b"2k"), Some(2000));
        assert_eq!(parse_memory(b""), Some(0));
        assert_eq!(parse_memory(b"mb"), Some(0));
        assert_eq!(parse_memory(b"99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_memory(b"99999999999gb"), Some(15140462030378500096));
        for bad in [&b"-1"[..], b"+1", b" 1", b"1.5mb", b"1xb"] {
            assert_eq!(parse_memory(bad), None);
        }
    }

    #[test]
    fn notify_flags_round_trip() {
        assert_eq!(notify_flags_string(parse_notify_flags(b"KEA").unwrap()), "AKE");
        assert_eq!(notify_flags_string(parse_notify_flags(b"Kgx").unwrap()), "gxK");
        assert_eq!(notify_flags_string(parse_notify_flags(b"Ag$lshzxeKEtmdn").unwrap()), "AKEm");
        assert_eq!(parse_notify_flags(b"k"), None);
    }

    #[test]
    fn save_points() {
        assert_eq!(parse_save(b"3600 1 300 100"), Some(alloc::vec![(3600, 1), (300, 100)]));
        assert_eq!(parse_save(b"+5 1"), Some(alloc::vec![(5, 1)]));
        assert_eq!(parse_save(b""), Some(Vec::new()));
        for bad in [&b"100"[..], b"a b", b"  3600   1  ", b"-1 1", b"0 1", b"1 -1"] {
            assert_eq!(parse_save(bad), None);
        }
    }
}
