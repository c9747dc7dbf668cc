//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, INFO, COMMAND, CONFIG, and persistence: SAVE,
//! BGSAVE, LASTSAVE, SHUTDOWN, DEBUG RELOAD (Redis's server.c, db.c, config.c, rdb.c and debug.c).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

use super::connection::{help_reply, parse_int_arg, REDIS_VERSION};
use super::Handler;
use crate::config::{self, Config};
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::glob::string_match;
use crate::rdb::Format;
use crate::reply::Reply;
use crate::table::{self, Arg, BeginSearch, CommandSpec, FindKeys, KeySpec};
use crate::util::{eq_ic, parse_i64, Rng};
use crate::value::Value;
use crate::evict::{PER_CLIENT_MEMORY, STARTUP_MEMORY};
use crate::value::key_mem_usage;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("dbsize", dbsize),
    ("flushdb", flushdb),
    ("flushall", flushall),
    ("swapdb", swapdb),
    ("time", time),
    ("info", info),
    ("command", command),
    ("command|count", command_count),
    ("command|info", command_info),
    ("command|docs", command_docs),
    ("command|list", command_list),
    ("command|getkeys", command_getkeys),
    ("command|getkeysandflags", command_getkeysandflags),
    ("command|help", command_help),
    ("config|get", config_get),
    ("config|set", config_set),
    ("config|resetstat", config_resetstat),
    ("config|rewrite", config_rewrite),
    ("config|help", config_help),
    ("memory|usage", memory_usage),
    ("memory|stats", memory_stats),
    ("memory|doctor", memory_doctor),
    ("memory|malloc-stats", memory_malloc_stats),
    ("memory|purge", memory_purge),
    ("memory|help", memory_help),
    ("save", save),
    ("bgsave", bgsave),
    ("lastsave", lastsave),
    ("bgrewriteaof", bgrewriteaof),
    ("shutdown", shutdown),
    ("debug", debug),
];

/// DBSIZE
fn dbsize(e: &mut Engine, c: &Ctx) -> Reply {
    Reply::Integer(e.db(c.db).len() as i64)
}

/// The optional ASYNC|SYNC of FLUSHDB and FLUSHALL. The engine frees memory at once either way.
fn flush_mode_ok(c: &Ctx) -> bool {
    match c.argc() {
        1 => true,
        2 => eq_ic(c.arg(1), "ASYNC") || eq_ic(c.arg(1), "SYNC"),
        _ => false,
    }
}

/// Empties one database; the removed keys count as changes, as Redis's emptyData.
fn flush_db(e: &mut Engine, dbi: usize) {
    let removed = e.db(dbi).len() as u64;
    e.db_mut(dbi).clear();
    e.dirty += removed;
}

/// FLUSHDB [ASYNC | SYNC]
fn flushdb(e: &mut Engine, c: &Ctx) -> Reply {
    if !flush_mode_ok(c) {
        return Error::Syntax.into();
    }
    flush_db(e, c.db);
    // Client-side caching drops every tracked key, whichever database was flushed (Redis's signalFlushedDb).
    crate::tracking::flushed(e);
    // Propagated even when the database was already empty, as Redis forces it.
    crate::propagate::force(e);
    Reply::ok()
}

/// FLUSHALL [ASYNC | SYNC]
fn flushall(e: &mut Engine, c: &Ctx) -> Reply {
    if !flush_mode_ok(c) {
        return Error::Syntax.into();
    }
    for dbi in 0..e.dbs.len() {
        flush_db(e, dbi);
    }
    crate::tracking::flushed(e);
    // With save points configured, Redis writes the now empty dataset at once (flushAllDataAndResetRDB).
    if !e.config.save.is_empty() {
        let _ = e.save_snapshot(Format::V9);
    }
    // Propagated even when every database was already empty, as Redis forces it.
    crate::propagate::force(e);
    Reply::ok()
}

/// SWAPDB index1 index2
fn swapdb(e: &mut Engine, c: &Ctx) -> Reply {
    let parsed = parse_int_arg(c.arg(1), Some("invalid first DB index"))
        .and_then(|a| Ok((a, parse_int_arg(c.arg(2), Some("invalid second DB index"))?)));
    let (a, b) = match parsed {
        Ok(ids) => ids,
        Err(err) => return err.into(),
    };
    let n = e.dbs.len();
    let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else { return Error::DbIndexOutOfRange.into() };
    if a >= n || b >= n {
        return Error::DbIndexOutOfRange.into();
    }
    // Keys noted for memory settling are noted by database index (none are pending between commands, but
    // settling first keeps that true whatever ran before).
    e.settle_memory();
    // Clients keep their index: whoever had selected `a` now sees what was in `b`.
    e.dbs.swap(a, b);
    crate::blocking::swapped_dbs(e, a, b);
    crate::multi::swapped_dbs(e, a, b);
    e.dirty += 1;
    Reply::ok()
}

/// TIME
fn time(e: &mut Engine, _c: &Ctx) -> Reply {
    // The engine's clock has millisecond resolution; the microseconds are the milliseconds scaled.
    let secs = e.now / 1000;
    let micros = (e.now % 1000) * 1000;
    Reply::Array(vec![Reply::bulk_str(&format!("{secs}")), Reply::bulk_str(&format!("{micros}"))])
}

// ---------------------------------------------------------------------------------------------------------
// INFO

/// INFO sections in the order Redis prints them, and whether `INFO` / `INFO default` includes each.
const INFO_SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// INFO [section [section ...]]
fn info(e: &mut Engine, c: &Ctx) -> Reply {
    let mut wanted = [false; INFO_SECTIONS.len()];
    if c.argc() == 1 {
        wanted.iter_mut().zip(INFO_SECTIONS).for_each(|(w, &(_, default))| *w = default);
    }
    for arg in c.argv.iter().skip(1) {
        if eq_ic(arg, "default") {
            wanted.iter_mut().zip(INFO_SECTIONS).for_each(|(w, &(_, default))| *w |= default);
        } else if eq_ic(arg, "all") || eq_ic(arg, "everything") {
            wanted.iter_mut().for_each(|w| *w = true);
        } else if let Some(i) = INFO_SECTIONS.iter().position(|(name, _)| eq_ic(arg, name)) {
            if let Some(w) = wanted.get_mut(i) {
                *w = true;
            }
        }
        // Unknown names select nothing, as module sections that are not loaded.
    }
    let mut out = String::new();
    for (&(name, _), _) in INFO_SECTIONS.iter().zip(wanted).filter(|(_, w)| *w) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        info_section(e, name, &mut out);
    }
    Reply::Verbatim("txt", out.into_bytes())
}

/// Appends `name:value\r\n` lines.
macro_rules! fields {
    ($out:expr, $($name:literal => $value:expr),* $(,)?) => {
        $( let _ = write!($out, concat!($name, ":{}\r\n"), $value); )*
    };
}

/// What Redis 7.0.15 reports for its function engine's caches (used_memory_functions, MEMORY STATS's
/// `functions.caches`); the engine has no scripting, so the figure of an empty server.
const FUNCTIONS_CACHES: u64 = 184;
/// MEMORY DOCTOR has nothing to say below this much used memory (Redis's threshold).
const DOCTOR_MIN_MEMORY: u64 = 5 * 1024 * 1024;

/// Redis's getMemoryOverheadData: the figures INFO memory and MEMORY STATS share, all from the engine's
/// incremental accounting (`crate::evict`).
struct MemOverhead {
    /// Used memory (`total.allocated`, INFO used_memory).
    total: u64,
    peak: u64,
    clients_normal: u64,
    /// Non-empty databases: index, keyspace table and expiry table overhead.
    dbs: Vec<(usize, u64, u64)>,
    /// Everything that is not data: the start, the clients, the tables.
    overhead: u64,
    keys: u64,
    dataset: u64,
    /// Used memory above the start (at least 1, as Redis divides by it).
    net: u64,
}

fn mem_overhead(e: &Engine) -> MemOverhead {
    let total = e.used_memory();
    let clients_normal = e.clients.len() as u64 * PER_CLIENT_MEMORY;
    let dbs: Vec<(usize, u64, u64)> = e
        .dbs
        .iter()
        .enumerate()
        .filter(|(_, db)| !db.is_empty())
        .map(|(i, db)| {
            let (main, expires) = db.table_overhead();
            (i, main, expires)
        })
        .collect();
    let overhead = STARTUP_MEMORY + clients_normal + dbs.iter().map(|&(_, m, x)| m + x).sum::<u64>();
    MemOverhead {
        total,
        peak: e.peak_memory.max(total),
        clients_normal,
        dbs,
        overhead,
        keys: e.dbs.iter().map(|db| db.len() as u64).sum(),
        dataset: total.saturating_sub(overhead),
        net: total.saturating_sub(STARTUP_MEMORY).max(1),
    }
}

/// Redis's bytesToHuman: `B` below 1 KiB, then two decimals with K, M, G, T, P.
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(char, u32); 5] = [('K', 10), ('M', 20), ('G', 30), ('T', 40), ('P', 50)];
    if n < 1024 {
        return format!("{n}B");
    }
    for (unit, shift) in UNITS {
        if shift == 50 || n < 1u64 << (shift + 10) {
            return format!("{}{unit}", fixed2(n as u128, 1u128 << shift));
        }
    }
    format!("{n}B")
}

/// `num / den` with two decimals, rounded as printf's `%.2f` rounds the exact quotient (half to even).
fn fixed2(num: u128, den: u128) -> String {
    let scaled = num * 100;
    let (mut q, r) = (scaled / den, scaled % den);
    if 2 * r > den || (2 * r == den && q % 2 == 1) {
        q += 1;
    }
    format!("{}.{:02}", q / 100, q % 100)
}

/// A percentage as Redis prints it (`%.2f%%`).
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return String::from("0.00%");
    }
    format!("{}%", fixed2(part as u128 * 100, whole as u128))
}

/// A 40-hex-digit id (run_id, master_replid) derived from the engine's seed, stable for an engine's life.
fn hex_id(seed: u64, salt: u64) -> String {
    let mut rng = Rng::new(seed ^ salt);
    let mut s = String::new();
    for _ in 0..3 {
        let _ = write!(s, "{:016x}", rng.next_u64());
    }
    s.truncate(40);
    s
}

fn info_section(e: &Engine, name: &str, out: &mut String) {
    let now = e.now;
    let cfg: &Config = &e.config;
    match name {
        "server" => {
            out.push_str("# Server\r\n");
            let uptime = now.saturating_sub(e.started_ms) / 1000;
            fields!(out,
                "redis_version" => REDIS_VERSION,
                "redis_git_sha1" => "00000000",
                "redis_git_dirty" => 0,
                "redis_build_id" => "7265646c65740000",
                "redis_mode" => "standalone",
                "os" => "Redlet",
                // What Redis reports on the 64-bit hosts it runs on; the same on every host, wasm32 included.
                "arch_bits" => 64,
                "monotonic_clock" => "host",
                "multiplexing_api" => "host",
                "atomicvar_api" => "c11-builtin",
                "gcc_version" => "0.0.0",
                "process_id" => 1,
                "process_supervised" => "no",
                "run_id" => hex_id(cfg.seed, 0x72_75_6e),
                "tcp_port" => 6379,
                "server_time_usec" => now.saturating_mul(1000),
                "uptime_in_seconds" => uptime,
                "uptime_in_days" => uptime / 86400,
                "hz" => cfg.hz,
                "configured_hz" => cfg.hz,
                "lru_clock" => (now / 1000) & ((1 << 24) - 1),
                "executable" => "",
                "config_file" => "",
                "io_threads_active" => 0,
            );
        }
        "clients" => {
            out.push_str("# Clients\r\n");
            fields!(out,
                "connected_clients" => e.clients.len(),
                "cluster_connections" => 0,
                "maxclients" => 10000,
                "client_recent_max_input_buffer" => 20480,
                "client_recent_max_output_buffer" => 0,
                "blocked_clients" => e.blocking.len() + e.pause.len(),
                "tracking_clients" => e.tracking.clients(),
                "clients_in_timeout_table" => e.blocking.with_deadline(),
            );
        }
        "memory" => {
            out.push_str("# Memory\r\n");
            let mh = mem_overhead(e);
            let (used, peak) = (mh.total, mh.peak);
            let vm_eval = 32768u64;
            let vm_functions = 32768u64;
            let scripts = FUNCTIONS_CACHES;
            let total_system = 8u64 << 30;
            fields!(out,
                "used_memory" => used,
                "used_memory_human" => bytes_to_human(used),
                "used_memory_rss" => used,
                "used_memory_rss_human" => bytes_to_human(used),
                "used_memory_peak" => peak,
                "used_memory_peak_human" => bytes_to_human(peak),
                "used_memory_peak_perc" => percent(used, peak),
                "used_memory_overhead" => mh.overhead,
                "used_memory_startup" => STARTUP_MEMORY,
                "used_memory_dataset" => mh.dataset,
                "used_memory_dataset_perc" => percent(mh.dataset, mh.net),
                "allocator_allocated" => used,
                "allocator_active" => used,
                "allocator_resident" => used,
                "total_system_memory" => total_system,
                "total_system_memory_human" => bytes_to_human(total_system),
                "used_memory_lua" => vm_eval,
                "used_memory_vm_eval" => vm_eval,
                "used_memory_lua_human" => bytes_to_human(vm_eval),
                "used_memory_scripts_eval" => 0,
                "number_of_cached_scripts" => 0,
                "number_of_functions" => 0,
                "number_of_libraries" => 0,
                "used_memory_vm_functions" => vm_functions,
                "used_memory_vm_total" => vm_eval + vm_functions,
                "used_memory_vm_total_human" => bytes_to_human(vm_eval + vm_functions),
                "used_memory_functions" => scripts,
                "used_memory_scripts" => scripts,
                "used_memory_scripts_human" => bytes_to_human(scripts),
                "maxmemory" => cfg.maxmemory,
                "maxmemory_human" => bytes_to_human(cfg.maxmemory),
                "maxmemory_policy" => &cfg.maxmemory_policy,
                "allocator_frag_ratio" => "1.00",
                "allocator_frag_bytes" => 0,
                "allocator_rss_ratio" => "1.00",
                "allocator_rss_bytes" => 0,
                "rss_overhead_ratio" => "1.00",
                "rss_overhead_bytes" => 0,
                "mem_fragmentation_ratio" => "1.00",
                "mem_fragmentation_bytes" => 0,
                "mem_not_counted_for_evict" => 0,
                "mem_replication_backlog" => 0,
                "mem_total_replication_buffers" => 0,
                "mem_clients_slaves" => 0,
                "mem_clients_normal" => mh.clients_normal,
                "mem_cluster_links" => 0,
                "mem_aof_buffer" => 0,
                "mem_allocator" => "rust-alloc",
                "active_defrag_running" => 0,
                "lazyfree_pending_objects" => 0,
                "lazyfreed_objects" => 0,
            );
        }
        "persistence" => {
            let aof = &e.persistence.aof;
            out.push_str("# Persistence\r\n");
            fields!(out,
                "loading" => 0,
                "async_loading" => 0,
                "current_cow_peak" => 0,
                "current_cow_size" => 0,
                "current_cow_size_age" => 0,
                "current_fork_perc" => "0.00",
                "current_save_keys_processed" => 0,
                "current_save_keys_total" => 0,
                "rdb_changes_since_last_save" => e.dirty,
                "rdb_bgsave_in_progress" => 0,
                "rdb_last_save_time" => last_save_secs(e),
                "rdb_last_bgsave_status" => if e.persistence.last_save_ok { "ok" } else { "err" },
                "rdb_last_bgsave_time_sec" => if e.persistence.bgsaved { 0 } else { -1 },
                "rdb_current_bgsave_time_sec" => -1,
                "rdb_saves" => e.persistence.saves,
                "rdb_last_cow_size" => 0,
                "rdb_last_load_keys_expired" => e.persistence.last_load_keys_expired,
                "rdb_last_load_keys_loaded" => e.persistence.last_load_keys_loaded,
                "aof_enabled" => cfg.appendonly as u8,
                "aof_rewrite_in_progress" => 0,
                "aof_rewrite_scheduled" => 0,
                "aof_last_rewrite_time_sec" => if aof.rewrites > 0 || aof.last_rewrite_failed { 0 } else { -1 },
                "aof_current_rewrite_time_sec" => -1,
                "aof_last_bgrewrite_status" => if aof.last_rewrite_failed { "err" } else { "ok" },
                "aof_rewrites" => aof.rewrites,
                "aof_rewrites_consecutive_failures" => u8::from(aof.last_rewrite_failed),
                "aof_last_write_status" => if aof.last_write_failed { "err" } else { "ok" },
                "aof_last_cow_size" => 0,
                "module_fork_in_progress" => 0,
                "module_fork_last_cow_size" => 0,
            );
            if cfg.appendonly {
                fields!(out,
                    "aof_current_size" => aof.current_size,
                    "aof_base_size" => aof.base_size,
                    "aof_pending_rewrite" => 0,
                    "aof_buffer_length" => 0,
                    "aof_pending_bio_fsync" => 0,
                    "aof_delayed_fsync" => 0,
                );
            }
        }
        "stats" => {
            out.push_str("# Stats\r\n");
            let s = &e.stats;
            let stale = (s.expired_stale_perc * 100.0) as u64;
            fields!(out,
                "total_connections_received" => s.total_connections,
                "total_commands_processed" => s.total_commands,
                "instantaneous_ops_per_sec" => 0,
                "total_net_input_bytes" => 0,
                "total_net_output_bytes" => 0,
                "total_net_repl_input_bytes" => 0,
                "total_net_repl_output_bytes" => 0,
                "instantaneous_input_kbps" => "0.00",
                "instantaneous_output_kbps" => "0.00",
                "instantaneous_input_repl_kbps" => "0.00",
                "instantaneous_output_repl_kbps" => "0.00",
                "rejected_connections" => 0,
                "sync_full" => 0,
                "sync_partial_ok" => 0,
                "sync_partial_err" => 0,
                "expired_keys" => s.expired_keys,
                "expired_stale_perc" => format!("{}.{:02}", stale / 100, stale % 100),
                "expired_time_cap_reached_count" => 0,
                "expire_cycle_cpu_milliseconds" => s.expire_cycle_cpu_ms,
                "evicted_keys" => s.evicted_keys,
                "evicted_clients" => 0,
                "total_eviction_exceeded_time" => 0,
                "current_eviction_exceeded_time" => 0,
                "keyspace_hits" => s.keyspace_hits,
                "keyspace_misses" => s.keyspace_misses,
                "pubsub_channels" => e.pubsub.channels.len(),
                "pubsub_patterns" => e.pubsub.patterns.len(),
                "pubsubshard_channels" => e.pubsub.shard_channels.len(),
                "latest_fork_usec" => 0,
                "total_forks" => 0,
                "migrate_cached_sockets" => 0,
                "slave_expires_tracked_keys" => 0,
                "active_defrag_hits" => 0,
                "active_defrag_misses" => 0,
                "active_defrag_key_hits" => 0,
                "active_defrag_key_misses" => 0,
                "total_active_defrag_time" => 0,
                "current_active_defrag_time" => 0,
                "tracking_total_keys" => e.tracking.total_keys(),
                "tracking_total_items" => e.tracking.total_items(),
                "tracking_total_prefixes" => e.tracking.total_prefixes(),
                "unexpected_error_replies" => 0,
                "total_error_replies" => s.total_error_replies,
                "dump_payload_sanitizations" => 0,
                "total_reads_processed" => s.total_commands,
                "total_writes_processed" => s.total_commands,
                "io_threaded_reads_processed" => 0,
                "io_threaded_writes_processed" => 0,
                "reply_buffer_shrinks" => 0,
                "reply_buffer_expands" => 0,
            );
        }
        "replication" => {
            out.push_str("# Replication\r\n");
            fields!(out,
                "role" => "master",
                "connected_slaves" => 0,
                "master_failover_state" => "no-failover",
                "master_replid" => hex_id(cfg.seed, 0x72_65_70_6c),
                "master_replid2" => "0000000000000000000000000000000000000000",
                "master_repl_offset" => 0,
                "second_repl_offset" => -1,
                "repl_backlog_active" => 0,
                "repl_backlog_size" => 1048576,
                "repl_backlog_first_byte_offset" => 0,
                "repl_backlog_histlen" => 0,
            );
        }
        "cpu" => {
            out.push_str("# CPU\r\n");
            fields!(out,
                "used_cpu_sys" => "0.000000",
                "used_cpu_user" => "0.000000",
                "used_cpu_sys_children" => "0.000000",
                "used_cpu_user_children" => "0.000000",
                "used_cpu_sys_main_thread" => "0.000000",
                "used_cpu_user_main_thread" => "0.000000",
            );
        }
        "modules" => out.push_str("# Modules\r\n"),
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            for (name, st) in &e.stats.commands {
                let _ = write!(
                    out,
                    "cmdstat_{name}:calls={},usec=0,usec_per_call=0.00,rejected_calls={},failed_calls={}\r\n",
                    st.calls, st.rejected_calls, st.failed_calls
                );
            }
        }
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (code, count) in &e.stats.errors {
                let _ = write!(out, "errorstat_{code}:count={count}\r\n");
            }
        }
        "latencystats" => {
            out.push_str("# Latencystats\r\n");
            for (name, st) in e.stats.commands.iter().filter(|(_, st)| st.calls > 0) {
                let _ = st;
                let _ = write!(out, "latency_percentiles_usec_{name}:p50=1.003,p99=1.003,p99.9=1.003\r\n");
            }
        }
        "cluster" => {
            out.push_str("# Cluster\r\n");
            fields!(out, "cluster_enabled" => 0);
        }
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            for (i, db) in e.dbs.iter().enumerate().filter(|(_, db)| !db.is_empty()) {
                let expires = db.expires.len() as u64;
                // The mean time to live of the volatile keys, in ms.
                let avg_ttl = match expires {
                    0 => 0,
                    n => db.expires.iter().map(|(_, &when)| when.saturating_sub(now)).sum::<u64>() / n,
                };
                let _ = write!(out, "db{i}:keys={},expires={expires},avg_ttl={avg_ttl}\r\n", db.len());
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------------------
// COMMAND

/// COMMAND
fn command(e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Array(e.implemented_commands().map(|spec| info_reply(e, spec)).collect())
}

/// COMMAND COUNT
fn command_count(e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Integer(e.implemented_commands().count() as i64)
}

/// Finds an implemented command by a name as a user writes it: `get`, or `client|list` for a subcommand
/// (Redis's lookupCommandBySds). A container counts as implemented when any of its subcommands is.
fn lookup_implemented(e: &Engine, name: &[u8]) -> Option<&'static CommandSpec> {
    let name = core::str::from_utf8(name).ok()?.to_ascii_lowercase();
    let mut parts = name.split('|');
    let top = table::lookup(parts.next()?)?;
    let spec = match (parts.next(), parts.next()) {
        (None, _) => top,
        (Some(sub), None) => top.subcommand(sub)?,
        _ => return None,
    };
    let implemented = e.implements(spec.name) || spec.subcommands.iter().any(|s| e.implements(s.name));
    implemented.then_some(spec)
}

/// The implemented subcommands of a container, in the table's (name) order.
fn implemented_subcommands<'a>(e: &'a Engine, spec: &'static CommandSpec) -> impl Iterator<Item = &'static CommandSpec> + 'a {
    spec.subcommands.iter().filter(move |s| e.implements(s.name))
}

fn statuses<'a>(items: impl IntoIterator<Item = &'a str>) -> Reply {
    Reply::Set(items.into_iter().map(Reply::status).collect())
}

fn bulks(items: &[&str]) -> Reply {
    Reply::Set(items.iter().map(|s| Reply::bulk_str(s)).collect())
}

fn pair(name: &str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk_str(name), value)
}

/// One command as COMMAND INFO describes it: name, arity, flags, first key, last key, step,
/// ACL categories, tips, key specs and subcommands.
fn info_reply(e: &Engine, spec: &'static CommandSpec) -> Reply {
    let subs: Vec<Reply> = implemented_subcommands(e, spec).map(|s| info_reply(e, s)).collect();
    Reply::Array(vec![
        Reply::bulk_str(spec.name),
        Reply::Integer(spec.arity as i64),
        statuses(spec.flags()),
        Reply::Integer(spec.first_key as i64),
        Reply::Integer(spec.last_key as i64),
        Reply::Integer(spec.key_step as i64),
        statuses(spec.acl_categories()),
        bulks(spec.tips),
        Reply::Set(spec.key_specs.iter().map(key_spec_reply).collect()),
        // A container's subcommands are an array; a plain command has an empty set, as Redis replies.
        if spec.subcommands.is_empty() { Reply::Set(Vec::new()) } else { Reply::Array(subs) },
    ])
}

fn key_spec_reply(ks: &KeySpec) -> Reply {
    let mut m = Vec::with_capacity(4);
    if let Some(notes) = ks.notes {
        m.push(pair("notes", Reply::bulk_str(notes)));
    }
    m.push(pair("flags", statuses(ks.flags.iter().copied())));
    let typed = |kind: &str, spec: Vec<(Reply, Reply)>| {
        Reply::Map(vec![pair("type", Reply::bulk_str(kind)), pair("spec", Reply::Map(spec))])
    };
    let begin = match ks.begin_search {
        BeginSearch::Index(i) => typed("index", vec![pair("index", Reply::Integer(i))]),
        BeginSearch::Keyword { keyword, startfrom } => typed(
            "keyword",
            vec![pair("keyword", Reply::bulk_str(keyword)), pair("startfrom", Reply::Integer(startfrom))],
        ),
        BeginSearch::Unknown => typed("unknown", Vec::new()),
    };
    m.push(pair("begin_search", begin));
    let find = match ks.find_keys {
        FindKeys::Range { lastkey, keystep, limit } => typed(
            "range",
            vec![
                pair("lastkey", Reply::Integer(lastkey)),
                pair("keystep", Reply::Integer(keystep)),
                pair("limit", Reply::Integer(limit)),
            ],
        ),
        FindKeys::Keynum { keynumidx, firstkey, keystep } => typed(
            "keynum",
            vec![
                pair("keynumidx", Reply::Integer(keynumidx)),
                pair("firstkey", Reply::Integer(firstkey)),
                pair("keystep", Reply::Integer(keystep)),
            ],
        ),
        FindKeys::Unknown => typed("unknown", Vec::new()),
    };
    m.push(pair("find_keys", find));
    Reply::Map(m)
}

/// COMMAND INFO [command-name [command-name ...]]
fn command_info(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() == 2 {
        return command(e, c);
    }
    Reply::Array(
        c.argv
            .iter()
            .skip(2)
            .map(|name| lookup_implemented(e, name).map_or(Reply::Nil, |spec| info_reply(e, spec)))
            .collect(),
    )
}

/// One command as COMMAND DOCS describes it. Redis's complexity and history texts are not ours to copy:
/// complexity appears where `data/summaries.tsv` states one, history never.
fn docs_reply(e: &Engine, spec: &'static CommandSpec) -> Reply {
    let mut m = Vec::new();
    if let Some(summary) = spec.summary {
        m.push(pair("summary", Reply::bulk_str(summary)));
    }
    m.push(pair("since", Reply::bulk_str(spec.since)));
    m.push(pair("group", Reply::bulk_str(spec.group)));
    if let Some(complexity) = spec.complexity {
        m.push(pair("complexity", Reply::bulk_str(complexity)));
    }
    if !spec.doc_flags.is_empty() {
        m.push(pair("doc_flags", statuses(spec.doc_flags.iter().copied())));
    }
    if let Some(since) = spec.deprecated_since {
        m.push(pair("deprecated_since", Reply::bulk_str(since)));
    }
    let args = spec.arguments();
    if !args.is_empty() {
        m.push(pair("arguments", args_reply(&args)));
    }
    if !spec.subcommands.is_empty() {
        let subs = implemented_subcommands(e, spec).map(|s| (Reply::bulk_str(s.name), docs_reply(e, s))).collect();
        m.push(pair("subcommands", Reply::Map(subs)));
    }
    Reply::Map(m)
}

fn args_reply(args: &[Arg]) -> Reply {
    Reply::Array(
        args.iter()
            .map(|a| {
                let mut m = vec![pair("name", Reply::bulk_str(a.name)), pair("type", Reply::bulk_str(a.kind))];
                if let Some(i) = a.key_spec_index {
                    m.push(pair("key_spec_index", Reply::Integer(i)));
                }
                if let Some(token) = a.token {
                    m.push(pair("token", Reply::bulk_str(token)));
                }
                if let Some(since) = a.since {
                    m.push(pair("since", Reply::bulk_str(since)));
                }
                if !a.flags.is_empty() {
                    m.push(pair("flags", statuses(a.flags.iter().copied())));
                }
                if a.kind == "oneof" || a.kind == "block" {
                    m.push(pair("arguments", args_reply(&a.arguments)));
                }
                Reply::Map(m)
            })
            .collect(),
    )
}

/// COMMAND DOCS [command-name [command-name ...]]
fn command_docs(e: &mut Engine, c: &Ctx) -> Reply {
    let specs: Vec<&'static CommandSpec> = if c.argc() == 2 {
        e.implemented_commands().collect()
    } else {
        c.argv.iter().skip(2).filter_map(|name| lookup_implemented(e, name)).collect()
    };
    Reply::Map(specs.into_iter().map(|spec| (Reply::bulk_str(spec.name), docs_reply(e, spec))).collect())
}

/// COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]
fn command_list(e: &mut Engine, c: &Ctx) -> Reply {
    enum Filter<'a> {
        All,
        Module,
        AclCat(&'a [u8]),
        Pattern(&'a [u8]),
    }
    let filter = match c.argc() {
        2 => Filter::All,
        5 if eq_ic(c.arg(2), "FILTERBY") => {
            let (kind, value) = (c.arg(3), c.arg(4));
            if eq_ic(kind, "MODULE") {
                Filter::Module
            } else if eq_ic(kind, "ACLCAT") {
                Filter::AclCat(value)
            } else if eq_ic(kind, "PATTERN") {
                Filter::Pattern(value)
            } else {
                return Error::Syntax.into();
            }
        }
        _ => return Error::Syntax.into(),
    };
    let keep = |spec: &CommandSpec| match filter {
        Filter::All => true,
        // No modules are ever loaded.
        Filter::Module => false,
        Filter::AclCat(cat) => spec.acl_categories().any(|a| a.strip_prefix('@').is_some_and(|a| eq_ic(cat, a))),
        Filter::Pattern(p) => string_match(p, spec.name.as_bytes(), true),
    };
    let mut names = Vec::new();
    for spec in e.implemented_commands() {
        if keep(spec) {
            names.push(Reply::bulk_str(spec.name));
        }
        for sub in implemented_subcommands(e, spec).filter(|s| keep(s)) {
            names.push(Reply::bulk_str(sub.name));
        }
    }
    Reply::Array(names)
}

/// COMMAND GETKEYS command [arg [arg ...]]
fn command_getkeys(e: &mut Engine, c: &Ctx) -> Reply {
    match getkeys(e, c) {
        Ok(keys) => Reply::Array(keys.into_iter().map(|(i, _)| Reply::bulk(c.arg(i + 2))).collect()),
        Err(err) => err.into(),
    }
}

/// COMMAND GETKEYSANDFLAGS command [arg [arg ...]]
fn command_getkeysandflags(e: &mut Engine, c: &Ctx) -> Reply {
    match getkeys(e, c) {
        Ok(keys) => Reply::Array(
            keys.into_iter().map(|(i, flags)| Reply::Array(vec![Reply::bulk(c.arg(i + 2)), statuses(flags.iter().copied())])).collect(),
        ),
        Err(err) => err.into(),
    }
}

/// The keys of the command written after COMMAND GETKEYS, as (argument index, key-spec flags),
/// with Redis's checks and error texts.
fn getkeys(e: &Engine, c: &Ctx) -> Result<Vec<(usize, &'static [&'static str])>, Error> {
    let argv = c.argv.get(2..).unwrap_or(&[]);
    let name = argv.first().copied().unwrap_or(b"");
    let lower = |b: &[u8]| core::str::from_utf8(b).ok().map(|s| s.to_ascii_lowercase());
    let top = lower(name).and_then(|n| table::lookup(&n));
    // As lookupCommand: a container with a second word names its subcommand.
    let spec = match top {
        Some(top) if !top.subcommands.is_empty() && argv.len() > 1 => {
            lower(argv.get(1).copied().unwrap_or(b"")).and_then(|s| top.subcommand(&s))
        }
        other => other,
    };
    let spec = spec.filter(|s| e.implements(s.name)).ok_or_else(|| Error::other("ERR Invalid command specified"))?;
    if !spec.key_specs.iter().any(|ks| !ks.flags.contains(&"not_key")) {
        return Err(Error::other("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(argv.len()) {
        return Err(Error::other("ERR Invalid number of arguments specified for command"));
    }
    match command_keys(spec, argv) {
        Some(keys) if !keys.is_empty() => Ok(keys),
        _ if spec.has(table::Flag::NoMandatoryKeys) => Ok(Vec::new()),
        _ => Err(Error::other("ERR Invalid arguments specified for command")),
    }
}

/// A command's keys as Redis's getKeysFromCommandWithSpecs finds them: from the key specs when they are
/// reliable, otherwise with the command's own key finder (`getkeys_proc`), for the few commands that have one.
/// Argument indexes count the command name as 0. `None` when the arguments cannot hold the keys.
pub fn command_keys(spec: &CommandSpec, argv: &[&[u8]]) -> Option<Vec<(usize, &'static [&'static str])>> {
    let variable = spec.key_specs.iter().any(|ks| ks.flags.contains(&"variable_flags"));
    if !variable {
        if let Some(keys) = keys_from_specs(spec, argv) {
            return Some(keys);
        }
    }
    command_keys_proc(spec.name, argv)
}

/// The key finders Redis keeps beside the specs, for flags that depend on the arguments (SET with GET,
/// BITFIELD with writes) and for specs that cannot be followed (SORT's STORE, a count parsed with atoi).
fn command_keys_proc(name: &str, argv: &[&[u8]]) -> Option<Vec<(usize, &'static [&'static str])>> {
    const RO_ACCESS: &[&str] = &["RO", "access"];
    const RW_ACCESS_UPDATE: &[&str] = &["RW", "access", "update"];
    const OW_UPDATE: &[&str] = &["OW", "update"];
    // genericGetKeys: (store key index, key count index, first key index); 0 means no store key.
    let generic = match name {
        "zunionstore" | "zinterstore" | "zdiffstore" => Some((1, 2, 3)),
        "zunion" | "zinter" | "zdiff" | "zintercard" | "sintercard" | "lmpop" | "zmpop" => Some((0, 1, 2)),
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" | "blmpop" | "bzmpop" => Some((0, 2, 3)),
        _ => None,
    };
    if let Some((store, count_at, first)) = generic {
        let num = atoi(argv.get(count_at)?);
        let room = argv.len() as i64 - first as i64;
        if num < 1 || num > room {
            return Some(Vec::new());
        }
        let mut keys: Vec<(usize, &'static [&'static str])> = (0..num as usize).map(|i| (first + i, &[][..])).collect();
        if store > 0 {
            keys.push((store, &[]));
        }
        return Some(keys);
    }
    match name {
        "set" => {
            let get = argv.iter().skip(3).any(|a| eq_ic(a, "GET"));
            Some(vec![(1, if get { RW_ACCESS_UPDATE } else { OW_UPDATE })])
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < argv.len() {
                let rem = argv.len() - i - 1;
                let a = argv.get(i).copied().unwrap_or(b"");
                if eq_ic(a, "GET") && rem >= 2 {
                    i += 2;
                } else if (eq_ic(a, "SET") || eq_ic(a, "INCRBY")) && rem >= 3 {
                    readonly = false;
                    break;
                } else if eq_ic(a, "OVERFLOW") && rem >= 1 {
                    i += 1;
                } else {
                    // A syntax error: assume a write, to be safe.
                    readonly = false;
                    break;
                }
                i += 1;
            }
            Some(vec![(1, if readonly { RO_ACCESS } else { RW_ACCESS_UPDATE })])
        }
        "sort_ro" => Some(vec![(1, RO_ACCESS)]),
        "sort" => {
            // The last STORE wins; LIMIT, GET and BY skip their arguments.
            let mut keys = vec![(1, RO_ACCESS)];
            let mut store = None;
            let mut i = 2;
            while i < argv.len() {
                let a = argv.get(i).copied().unwrap_or(b"");
                if eq_ic(a, "LIMIT") {
                    i += 2;
                } else if eq_ic(a, "GET") || eq_ic(a, "BY") {
                    i += 1;
                } else if eq_ic(a, "STORE") && i + 1 < argv.len() {
                    store = Some(i + 1);
                }
                i += 1;
            }
            keys.extend(store.map(|s| (s, OW_UPDATE)));
            Some(keys)
        }
        _ => None,
    }
}

/// C's `atoi`: leading white space, a sign, then digits as far as they go; anything else reads as 0.
fn atoi(s: &[u8]) -> i64 {
    let s = match s.iter().position(|c| !c.is_ascii_whitespace()) {
        Some(i) => s.get(i..).unwrap_or(&[]),
        None => return 0,
    };
    let (neg, digits) = match s.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add((d - b'0') as i64);
    }
    let n = if neg { -n } else { n };
    // atoi returns an int.
    n as i32 as i64
}

/// Finds a command's keys from its key specs, as Redis's getKeysUsingKeySpecs: argument indexes (0 is the
/// command name) with the flags of the spec that found them. `None` when a spec cannot be followed
/// (an unknown spec, a bad key count, keys past the end): the arguments are invalid for the command.
pub fn keys_from_specs(spec: &CommandSpec, argv: &[&[u8]]) -> Option<Vec<(usize, &'static [&'static str])>> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for ks in spec.key_specs {
        if ks.flags.contains(&"not_key") {
            continue;
        }
        let mut first = match ks.begin_search {
            BeginSearch::Index(i) => i,
            BeginSearch::Keyword { keyword, startfrom } => {
                let start = if startfrom > 0 { startfrom } else { argc + startfrom };
                let end = if startfrom > 0 { argc - 1 } else { 1 };
                let found = if start <= end {
                    (start..=end).take_while(|&i| i >= 1 && i < argc).find(|&i| arg_is(argv, i, keyword))
                } else {
                    (end..=start).rev().take_while(|&i| i >= 1 && i < argc).find(|&i| arg_is(argv, i, keyword))
                };
                match found {
                    Some(i) => i + 1,
                    // The keyword is absent: this spec has no keys.
                    None => continue,
                }
            }
            BeginSearch::Unknown => return None,
        };
        let (last, step) = match ks.find_keys {
            FindKeys::Range { lastkey, keystep, limit } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, keystep)
            }
            FindKeys::Keynum { keynumidx, firstkey, keystep } => {
                if keynumidx >= argc - first {
                    return None;
                }
                let n = argv.get(usize::try_from(first + keynumidx).ok()?).and_then(|a| parse_i64(a))?;
                if n < 0 {
                    return None;
                }
                first += firstkey;
                (first.checked_add(n)? - 1, keystep)
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc || step <= 0 {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push((i as usize, ks.flags));
            i += step;
        }
    }
    Some(keys)
}

fn arg_is(argv: &[&[u8]], i: i64, keyword: &str) -> bool {
    usize::try_from(i).ok().and_then(|i| argv.get(i)).is_some_and(|a| eq_ic(a, keyword))
}

/// COMMAND HELP
fn command_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    help_reply(&[
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    ])
}

// ---------------------------------------------------------------------------------------------------------
// CONFIG

/// CONFIG GET parameter [parameter ...]
fn config_get(e: &mut Engine, c: &Ctx) -> Reply {
    // Each parameter once, under the name that first matched it: the argument itself for an exact name,
    // the canonical name for a pattern.
    let mut found: Vec<(String, &'static config::Param)> = Vec::new();
    for arg in c.argv.iter().skip(2) {
        if !arg.iter().any(|b| matches!(b, b'[' | b'*' | b'?')) {
            if let Some(p) = config::lookup(arg) {
                if !found.iter().any(|(_, q)| core::ptr::eq(*q, p)) {
                    found.push((String::from_utf8_lossy(arg).into_owned(), p));
                }
            }
            continue;
        }
        for p in config::PARAMS {
            if !found.iter().any(|(_, q)| core::ptr::eq(*q, p)) && string_match(arg, p.name.as_bytes(), true) {
                found.push((String::from(p.name), p));
            }
        }
    }
    Reply::Map(found.into_iter().map(|(name, p)| (Reply::bulk_str(&name), Reply::bulk_str(&(p.get)(&e.config)))).collect())
}

/// CONFIG SET parameter value [parameter value ...]
fn config_set(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() & 1 == 1 {
        return Error::Syntax.into();
    }
    let pairs: Vec<(&[u8], &[u8])> = c
        .argv
        .get(2..)
        .unwrap_or(&[])
        .chunks(2)
        .filter_map(|p| match p {
            [name, value] => Some((*name, *value)),
            _ => None,
        })
        .collect();
    // First every name is checked (unknown, immutable, repeated); the first problem is the one reported,
    // except that an unknown name is only reported when nothing was wrong before it, as Redis does.
    let mut params: Vec<&'static config::Param> = Vec::new();
    let mut problem: Option<Error> = None;
    for &(name, _) in &pairs {
        let shown = String::from_utf8_lossy(name);
        let Some(p) = config::lookup(name) else {
            if problem.is_none() {
                problem = Some(Error::Other(format!("ERR Unknown option or number of arguments for CONFIG SET - '{shown}'")));
            }
            continue;
        };
        if problem.is_some() {
            continue;
        }
        if p.immutable {
            problem = Some(set_failed(&shown, "can't set immutable config"));
        } else if params.iter().any(|q| core::ptr::eq(*q, p)) {
            problem = Some(set_failed(&shown, "duplicate parameter"));
        }
        params.push(p);
    }
    if let Some(err) = problem {
        return err.into();
    }
    // Then the values are applied to a copy, so that one bad value leaves the configuration as it was.
    let mut next = e.config.clone();
    for (p, &(_, value)) in params.iter().zip(&pairs) {
        if let Err(why) = (p.set)(&mut next, value) {
            return set_failed(p.name, &why).into();
        }
    }
    // A new `requirepass` replaces the default user's passwords (only when it changed, as in Redis).
    let new_pass = next.requirepass != e.config.requirepass;
    e.config = next;
    if new_pass {
        crate::acl::requirepass_changed(e);
    }
    Reply::ok()
}

fn set_failed(name: &str, why: &str) -> Error {
    Error::Other(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"))
}

/// CONFIG RESETSTAT
fn config_resetstat(e: &mut Engine, _c: &Ctx) -> Reply {
    e.stats = Default::default();
    Reply::ok()
}

/// CONFIG REWRITE
fn config_rewrite(_e: &mut Engine, _c: &Ctx) -> Reply {
    // The engine reads no configuration file, so there is none to rewrite; the host keeps its own settings.
    Error::other("ERR The server is running without a config file").into()
}

/// CONFIG HELP
fn config_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    help_reply(&[
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ])
}

// ---------------------------------------------------------------------------------------------------------
// MEMORY

/// MEMORY USAGE key [SAMPLES count]
///
/// The key's figure in the memory accounting (`value::key_mem_usage`). Redis samples a few elements of a large
/// collection and extrapolates; the engine's figure is exact, so SAMPLES is checked and otherwise ignored.
fn memory_usage(e: &mut Engine, c: &Ctx) -> Reply {
    let mut j = 3;
    while j < c.argc() {
        if eq_ic(c.arg(j), "samples") && j + 1 < c.argc() {
            match parse_i64(c.arg(j + 1)) {
                None => return Error::NotInteger.into(),
                Some(n) if n < 0 => return Error::Syntax.into(),
                Some(_) => {}
            }
            j += 2;
        } else {
            return Error::Syntax.into();
        }
    }
    // Redis finds the key in the table directly: no expiry, no statistics, no access time.
    let key = c.arg(2);
    match e.db(c.db).keys.get(key) {
        Some(entry) => Reply::Integer(key_mem_usage(key, &entry.value) as i64),
        None => Reply::Nil,
    }
}

/// MEMORY STATS
fn memory_stats(e: &mut Engine, _c: &Ctx) -> Reply {
    let mh = mem_overhead(e);
    let int = |n: u64| Reply::Integer(n as i64);
    // Redis keeps these ratios as C floats and replies them as doubles.
    let ratio = |x: f64| Reply::Double(x as f32 as f64);
    let mut out = vec![
        (Reply::bulk_str("peak.allocated"), int(mh.peak)),
        (Reply::bulk_str("total.allocated"), int(mh.total)),
        (Reply::bulk_str("startup.allocated"), int(STARTUP_MEMORY)),
        (Reply::bulk_str("replication.backlog"), int(0)),
        (Reply::bulk_str("clients.slaves"), int(0)),
        (Reply::bulk_str("clients.normal"), int(mh.clients_normal)),
        (Reply::bulk_str("cluster.links"), int(0)),
        (Reply::bulk_str("aof.buffer"), int(0)),
        (Reply::bulk_str("lua.caches"), int(0)),
        (Reply::bulk_str("functions.caches"), int(FUNCTIONS_CACHES)),
    ];
    for &(i, main, expires) in &mh.dbs {
        let tables = Reply::Map(vec![
            (Reply::bulk_str("overhead.hashtable.main"), int(main)),
            (Reply::bulk_str("overhead.hashtable.expires"), int(expires)),
            (Reply::bulk_str("overhead.hashtable.slot-to-keys"), int(0)),
        ]);
        out.push((Reply::bulk_str(&format!("db.{i}")), tables));
    }
    out.extend([
        (Reply::bulk_str("overhead.total"), int(mh.overhead)),
        (Reply::bulk_str("keys.count"), int(mh.keys)),
        (Reply::bulk_str("keys.bytes-per-key"), int(mh.net.checked_div(mh.keys).unwrap_or(0))),
        (Reply::bulk_str("dataset.bytes"), int(mh.dataset)),
        (Reply::bulk_str("dataset.percentage"), ratio(mh.dataset as f64 * 100.0 / mh.net as f64)),
        (Reply::bulk_str("peak.percentage"), ratio(mh.total as f64 * 100.0 / mh.peak.max(1) as f64)),
        // The engine is its own allocator: nothing allocated but unused, no fragmentation.
        (Reply::bulk_str("allocator.allocated"), int(mh.total)),
        (Reply::bulk_str("allocator.active"), int(mh.total)),
        (Reply::bulk_str("allocator.resident"), int(mh.total)),
        (Reply::bulk_str("allocator-fragmentation.ratio"), ratio(1.0)),
        (Reply::bulk_str("allocator-fragmentation.bytes"), int(0)),
        (Reply::bulk_str("allocator-rss.ratio"), ratio(1.0)),
        (Reply::bulk_str("allocator-rss.bytes"), int(0)),
        (Reply::bulk_str("rss-overhead.ratio"), ratio(1.0)),
        (Reply::bulk_str("rss-overhead.bytes"), int(0)),
        (Reply::bulk_str("fragmentation"), ratio(1.0)),
        (Reply::bulk_str("fragmentation.bytes"), int(0)),
    ]);
    Reply::Map(out)
}

/// MEMORY DOCTOR
///
/// Redis's report for a small instance word for word (it is what a fresh server answers); otherwise the
/// engine can only find a past peak, as it has no fragmentation or buffers to speak of.
fn memory_doctor(e: &mut Engine, _c: &Ctx) -> Reply {
    let mh = mem_overhead(e);
    let text = if mh.total < DOCTOR_MIN_MEMORY {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else if mh.peak as f64 / mh.total as f64 > 1.5 {
        "Sam, I detected a few issues in this Redis instance memory implants:\n\n * Peak memory: this instance once used more than 150% of the memory it uses now. The engine frees what it no longer needs, so this only tells that the dataset was larger before (see INFO memory, used_memory_peak).\n\nI'm here to keep you safe, Sam. I want to help you.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    Reply::Verbatim("txt", text.as_bytes().to_vec())
}

/// MEMORY MALLOC-STATS: Redis's answer when its allocator is not jemalloc.
fn memory_malloc_stats(_e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::status("Stats not supported for the current allocator")
}

/// MEMORY PURGE: nothing is held back to purge.
fn memory_purge(_e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::ok()
}

/// MEMORY HELP
fn memory_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    help_reply(&[
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ])
}

/// Unix seconds of the last successful save, or of the start when there was none (Redis's `lastsave`).
fn last_save_secs(e: &Engine) -> u64 {
    e.persistence.last_save_ms.unwrap_or(e.started_ms) / 1000
}

/// SAVE
fn save(e: &mut Engine, _c: &Ctx) -> Reply {
    e.persistence.saves += 1;
    match e.save_snapshot(Format::V9) {
        Ok(()) => Reply::ok(),
        // Redis's shared.err: the details go to the log (the host's store reports them).
        Err(_) => Error::other("ERR").into(),
    }
}

/// BGSAVE [SCHEDULE]
fn bgsave(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() > 1 && !(c.argc() == 2 && eq_ic(c.arg(1), "schedule")) {
        return Error::Syntax.into();
    }
    // Redis cannot fork inside EXEC, so there it only schedules; the engine keeps that reply, and `tick` saves.
    if e.multi.transactions.get(&c.client).is_some_and(|tx| tx.executing) {
        e.persistence.bgsave_scheduled = true;
        return Reply::status("Background saving scheduled");
    }
    // The snapshot is made at once; a failure to store it shows in INFO, as a failed child's would.
    e.bgsave();
    Reply::status("Background saving started")
}

/// BGREWRITEAOF
///
/// The host that keeps the AOF does the rewrite between commands (a new base from the dataset, a new
/// incremental file, the manifest), as Redis's child would in the background; without one there is nothing
/// to rewrite and it counts as done.
fn bgrewriteaof(e: &mut Engine, c: &Ctx) -> Reply {
    let aof = &mut e.persistence.aof;
    if aof.rewrite_requested {
        return Error::other("ERR Background append only file rewriting already in progress").into();
    }
    if aof.host {
        aof.rewrite_requested = true;
    } else {
        e.aof_rewrite_done(true);
    }
    // Redis cannot fork inside EXEC, so there the rewrite is only scheduled.
    if e.multi.transactions.get(&c.client).is_some_and(|tx| tx.executing) {
        return Reply::status("Background append only file rewriting scheduled");
    }
    Reply::status("Background append only file rewriting started")
}

/// LASTSAVE
fn lastsave(e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Integer(last_save_secs(e) as i64)
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
///
/// Saves when asked or when save points are configured (unless NOSAVE), then asks the host to stop
/// (`Engine::shutdown_requested`): Redis exits without a reply, and so does redlet-server; a host that keeps
/// running (the browser) gets `OK`.
fn shutdown(e: &mut Engine, c: &Ctx) -> Reply {
    let (mut nosave, mut save, mut force, mut abort, mut flags) = (false, false, false, false, false);
    for i in 1..c.argc() {
        let a = c.arg(i);
        if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "now") {
        } else if eq_ic(a, "force") {
            force = true;
        } else if eq_ic(a, "abort") {
            abort = true;
            continue;
        } else {
            return Error::Syntax.into();
        }
        flags = true;
    }
    if (abort && flags) || (nosave && save) {
        return Error::Syntax.into();
    }
    if abort {
        return Error::other("ERR No shutdown in progress.").into();
    }
    if (save || (!nosave && !e.config.save.is_empty())) && e.save_snapshot(Format::V9).is_err() && !force {
        return Error::other("ERR Errors trying to SHUTDOWN. Check logs.").into();
    }
    e.persistence.shutdown_requested = true;
    Reply::ok()
}

/// DEBUG subcommand [arg ...]: RELOAD, POPULATE, OBJECT, SLEEP and SET-ACTIVE-EXPIRE, and only where
/// `enable-debug-command` allows DEBUG at all (Redis 7.0 refuses it by default).
fn debug(e: &mut Engine, c: &Ctx) -> Reply {
    let allowed = match e.config.enable_debug_command.as_str() {
        "yes" => true,
        "local" => e.client(c.client).is_some_and(|cl| cl.addr.starts_with("127.0.0.1:") || cl.addr.starts_with("[::1]:")),
        _ => false,
    };
    if !allowed {
        return Error::other(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
        )
        .into();
    }
    if eq_ic(c.arg(1), "reload") {
        return debug_reload(e, c);
    }
    if eq_ic(c.arg(1), "populate") && (3..=5).contains(&c.argc()) {
        return debug_populate(e, c);
    }
    if eq_ic(c.arg(1), "object") && c.argc() == 3 {
        return debug_object(e, c);
    }
    // DEBUG SLEEP seconds: the host's sleep, when it lent one (redlet-server); the seconds read as strtod
    // reads them, a non-number sleeping 0.
    if eq_ic(c.arg(1), "sleep") && c.argc() == 3 {
        if let Some(sleep) = e.slowlog.sleep {
            let secs = crate::util::strtod(c.arg(2)).value;
            if secs.is_finite() && secs > 0.0 {
                sleep((secs.min(3600.0) * 1e6) as u64);
            }
        }
        return Reply::ok();
    }
    // DEBUG SET-ACTIVE-EXPIRE 0|1: Redis takes any integer, non-zero turning it on.
    if eq_ic(c.arg(1), "set-active-expire") && c.argc() == 3 {
        e.active_expire = atoi(c.arg(2)) != 0;
        return Reply::ok();
    }
    Error::SubcommandSyntax { sub: crate::error::lossy(c.arg(1), 128), container: String::from("DEBUG") }.into()
}

/// DEBUG OBJECT key: Redis's one status line about the value: where it lives (an address of our own making,
/// from the key's hash), its refcount and encoding, its RDB length, its LRU clock and idle seconds, and for a
/// list the quicklist's nodes as Redis would have them after RPUSH. Looked up without expiring or touching.
fn debug_object(e: &mut Engine, c: &Ctx) -> Reply {
    let key = c.arg(2);
    let sharing = e.config.shared_integers();
    let lfu = e.lfu_policy();
    let now = e.now;
    let Some(entry) = e.db(c.db).keys.get(key) else { return Error::NoSuchKey.into() };
    let refcount = crate::value::refcount(&entry.value, sharing);
    // Redis's 24-bit `lru` field: the LRU clock in seconds, or under an LFU policy the decay minutes and counter.
    let lru = if lfu {
        (((entry.lru_ms / 60_000) & 0xffff) << 8) | u64::from(entry.lfu)
    } else {
        (entry.lru_ms / 1000) & 0xff_ffff
    };
    let idle = (now / 1000).saturating_sub(entry.lru_ms / 1000);
    let mut extra = String::new();
    if let Value::List(l) = &entry.value {
        let nodes = crate::rdb::quicklist_nodes(l);
        let count = nodes.len().max(1);
        // `%.2f` through `fmt_fixed`: `core`'s float formatting would add its tables to the WebAssembly package.
        let _ = write!(
            extra,
            " ql_nodes:{} ql_avg_node:{} ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:{}",
            nodes.len(),
            crate::util::fmt_fixed(l.len() as f64 / count as f64, 2),
            nodes.iter().map(Vec::len).sum::<usize>()
        );
    }
    let address = 0x7f00_0000_0000u64 | (crate::dict::hash_bytes(0, key) & 0xff_ffff_fff0);
    Reply::Status(format!(
        "Value at:0x{address:x} refcount:{refcount} encoding:{} serializedlength:{} lru:{lru} lru_seconds_idle:{idle}{extra}",
        entry.value.encoding_name(),
        crate::rdb::serialized_len(&entry.value)
    ))
}

/// Most keys DEBUG POPULATE makes at once: Redis answers a count its dict cannot grow to with this error; the
/// engine draws the line where a browser tab's memory would give out first.
const POPULATE_MAX: i64 = 50_000_000;
const POPULATE_MAX_BYTES: u128 = 4 << 30;

/// DEBUG POPULATE count [prefix] [size]: keys `prefix:0` .. `prefix:count-1` (prefix `key`) in the client's
/// database holding `value:N`, cut or padded with zero bytes to `size`; keys that exist are left alone. As in
/// Redis, no keyspace event is fired and the write counter does not move.
fn debug_populate(e: &mut Engine, c: &Ctx) -> Reply {
    // getPositiveLongFromObjectOrReply: one message for a negative number and for no number at all.
    let positive = |arg: &[u8]| match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(Reply::from(Error::other("ERR value is out of range, must be positive"))),
    };
    let count = match positive(c.arg(2)) {
        Ok(n) => n,
        Err(r) => return r,
    };
    if count > POPULATE_MAX {
        return Error::other("ERR OOM in dictTryExpand").into();
    }
    let size = if c.argc() == 5 {
        match positive(c.arg(4)) {
            Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
            Err(r) => return r,
        }
    } else {
        0
    };
    // Beyond what a page (or this machine) could hold, refuse rather than let the allocator abort.
    if (count as u128).saturating_mul(size.max(32) as u128) > POPULATE_MAX_BYTES {
        return Error::other("ERR OOM in dictTryExpand").into();
    }
    let prefix = if c.argc() == 3 { &b"key"[..] } else { c.arg(3) };
    let now = e.now;
    for j in 0..count {
        let mut key = Vec::with_capacity(prefix.len() + 12);
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(&crate::util::i64_bytes(j));
        // Redis formats the name into a 128-byte buffer: longer names are cut to 127 bytes.
        key.truncate(127);
        if e.lookup_write(c.db, &key).is_some() {
            continue;
        }
        let mut value = b"value:".to_vec();
        value.extend_from_slice(&crate::util::i64_bytes(j));
        if size > 0 {
            value.resize(size, 0);
        }
        e.db_mut(c.db).set(&key, crate::value::Entry::new(Value::Str(crate::value::RString::plain(value)), now));
    }
    Reply::ok()
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves a snapshot (version 10, so streams keep every counter), then
/// loads it back in place of the dataset. Parsed completely before anything is replaced: a snapshot that does
/// not load changes nothing.
fn debug_reload(e: &mut Engine, c: &Ctx) -> Reply {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for i in 2..c.argc() {
        let a = c.arg(i);
        if eq_ic(a, "merge") {
            merge = true;
        } else if eq_ic(a, "noflush") {
            flush = false;
        } else if eq_ic(a, "nosave") {
            save = false;
        } else {
            return Error::other("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.").into();
        }
    }
    if save && e.save_snapshot(Format::V10).is_err() {
        return Error::other("ERR").into();
    }
    let failed = || Error::other("ERR Error trying to load the RDB dump").into();
    let Ok(Some(bytes)) = e.fetch_snapshot() else { return failed() };
    let Ok(loaded) = crate::rdb::load(e, &bytes) else { return failed() };
    if flush {
        e.install(loaded);
    } else {
        // Without MERGE a key already present is an error (Redis stops on it); with it the file's value wins.
        let clash = loaded.keys.iter().any(|k| e.db(k.db).keys.contains_key(&k.key));
        if clash && !merge {
            return failed();
        }
        e.merge(loaded);
    }
    Reply::ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(name: &str, args: &[&str]) -> Option<Vec<usize>> {
        let spec = table::lookup(name)?;
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        command_keys(spec, &argv).map(|k| k.into_iter().map(|(i, _)| i).collect())
    }

    #[test]
    fn keys_from_the_table() {
        assert_eq!(keys("get", &["get", "k"]), Some(vec![1]));
        assert_eq!(keys("del", &["del", "a", "b", "c"]), Some(vec![1, 2, 3]));
        assert_eq!(keys("mset", &["mset", "a", "1", "b", "2"]), Some(vec![1, 3]));
        assert_eq!(keys("zunionstore", &["zunionstore", "d", "2", "a", "b"]), Some(vec![1, 3, 4]));
        // The count is bad for the spec: atoi's reading decides, the store key last.
        assert_eq!(keys("zunionstore", &["zunionstore", "d", "2x", "a", "b"]), Some(vec![3, 4, 1]));
        assert_eq!(keys("zunionstore", &["zunionstore", "d", "0", "a"]), Some(vec![]));
        assert_eq!(keys("sort", &["sort", "k", "BY", "store", "STORE", "dst"]), Some(vec![1, 5]));
        assert_eq!(keys("xread", &["xread", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"]), Some(vec![4, 5]));
        assert_eq!(keys("eval", &["eval", "s", "0"]), Some(vec![]));
    }

    #[test]
    fn human_bytes() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(1152), "1.12K");
        assert_eq!(bytes_to_human(1_313_720), "1.25M");
        assert_eq!(bytes_to_human(100 * 1024 * 1024), "100.00M");
        assert_eq!(bytes_to_human(3 << 30), "3.00G");
    }
}
