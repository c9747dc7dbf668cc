//! Persistence in Redis's RDB format: snapshots of the whole dataset and the DUMP/RESTORE payloads of one value.
//!
//! The engine produces and consumes bytes only; where they are kept (a file, IndexedDB) is the host's business.
//! - `write.rs` writes snapshots as RDB version 9 (which every Redis from 5.0 on loads) and DUMP payloads as
//!   Redis 7.0 does (version 10, with the listpack, quicklist and intset encodings), byte for byte where our
//!   values are laid out as Redis's are.
//! - `read.rs` reads versions 1 to 12: every encoding Redis has written (LZF and integer strings, linked,
//!   ziplist, quicklist and listpack lists, intset and listpack sets, zipmap, ziplist and listpack hashes,
//!   plain, binary-score, ziplist and listpack sorted sets, streams with consumer groups in all three layouts,
//!   and Redis 7.4's hashes with field expiry, whose fields lose their expiry: the engine has none; a field
//!   whose time has passed is left out).
//!   Everything is validated as it is read, so corrupt input is refused with an error, never trusted.
//! - `listpack.rs` and `compact.rs` are the compact encodings themselves.
//!
//! Loading is all-or-nothing: a snapshot is parsed completely into new values before the keyspace is touched.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::engine::Engine;

pub mod compact;
pub mod listpack;
mod read;
mod write;

pub use read::{apply_lru_lfu, load, restore_value, Loaded, LoadedKey, RestoreError};
pub use write::{dump_value, quicklist_nodes, save, save_with, serialized_len};

/// The RDB version Redis 7.0 writes, and the newest a DUMP payload may carry for RESTORE to accept it.
pub const DUMP_VERSION: u16 = 10;
/// The newest RDB version the reader understands (Redis 7.4).
pub const MAX_READ_VERSION: u32 = 12;

/// How a snapshot lays values out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// RDB version 9, loadable by Redis 5.0 and later: plain lists, hashes and sorted sets (the loader picks
    /// the compact encodings again), intsets, and streams without the 7.0 counters (entries added, the
    /// largest deleted ID, each group's entries read), which a 7.0 loader estimates as Redis does.
    V9,
    /// RDB version 10, as Redis 7.0 writes files and DUMP payloads: every 7.0 field kept.
    V10,
}

impl Format {
    pub fn version(self) -> u16 {
        match self {
            Format::V9 => 9,
            Format::V10 => 10,
        }
    }
}

// Value types (rdb.h).
pub(crate) const TYPE_STRING: u8 = 0;
pub(crate) const TYPE_LIST: u8 = 1;
pub(crate) const TYPE_SET: u8 = 2;
pub(crate) const TYPE_ZSET: u8 = 3;
pub(crate) const TYPE_HASH: u8 = 4;
pub(crate) const TYPE_ZSET_2: u8 = 5;
pub(crate) const TYPE_MODULE_PRE_GA: u8 = 6;
pub(crate) const TYPE_MODULE_2: u8 = 7;
pub(crate) const TYPE_HASH_ZIPMAP: u8 = 9;
pub(crate) const TYPE_LIST_ZIPLIST: u8 = 10;
pub(crate) const TYPE_SET_INTSET: u8 = 11;
pub(crate) const TYPE_ZSET_ZIPLIST: u8 = 12;
pub(crate) const TYPE_HASH_ZIPLIST: u8 = 13;
pub(crate) const TYPE_LIST_QUICKLIST: u8 = 14;
pub(crate) const TYPE_STREAM_LISTPACKS: u8 = 15;
pub(crate) const TYPE_HASH_LISTPACK: u8 = 16;
pub(crate) const TYPE_ZSET_LISTPACK: u8 = 17;
pub(crate) const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub(crate) const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub(crate) const TYPE_SET_LISTPACK: u8 = 20;
pub(crate) const TYPE_STREAM_LISTPACKS_3: u8 = 21;
pub(crate) const TYPE_HASH_METADATA_PRE_GA: u8 = 22;
pub(crate) const TYPE_HASH_LISTPACK_EX_PRE_GA: u8 = 23;
pub(crate) const TYPE_HASH_METADATA: u8 = 24;
pub(crate) const TYPE_HASH_LISTPACK_EX: u8 = 25;

// Opcodes.
pub(crate) const OPCODE_SLOT_INFO: u8 = 244;
pub(crate) const OPCODE_FUNCTION2: u8 = 245;
pub(crate) const OPCODE_FUNCTION_PRE_GA: u8 = 246;
pub(crate) const OPCODE_MODULE_AUX: u8 = 247;
pub(crate) const OPCODE_IDLE: u8 = 248;
pub(crate) const OPCODE_FREQ: u8 = 249;
pub(crate) const OPCODE_AUX: u8 = 250;
pub(crate) const OPCODE_RESIZEDB: u8 = 251;
pub(crate) const OPCODE_EXPIRETIME_MS: u8 = 252;
pub(crate) const OPCODE_EXPIRETIME: u8 = 253;
pub(crate) const OPCODE_SELECTDB: u8 = 254;
pub(crate) const OPCODE_EOF: u8 = 255;

/// Why a snapshot or payload was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RdbError {
    /// The data does not start with `REDIS`.
    Signature,
    /// A format version outside 1..=12.
    Version(u32),
    /// The data ends before the snapshot does.
    Truncated,
    /// The CRC-64 at the end does not match the content.
    Checksum,
    /// Structurally invalid content; says what was wrong.
    Corrupt(&'static str),
    /// Module data, which only the module that wrote it can read (Redis's own message).
    Module(String),
    /// A database index beyond the configured `databases`.
    DbIndex(u64),
    /// The same key twice in one database.
    DuplicateKey(Vec<u8>),
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbError::Signature => f.write_str("Wrong signature trying to load DB from file"),
            RdbError::Version(v) => write!(f, "Can't handle RDB format version {v}"),
            RdbError::Truncated => f.write_str("Unexpected EOF reading RDB file"),
            RdbError::Checksum => f.write_str("RDB CRC error"),
            RdbError::Corrupt(what) => write!(f, "Corrupt RDB: {what}"),
            RdbError::Module(name) => {
                write!(f, "The RDB file contains module data I can't load: no matching module type '{name}'")
            }
            RdbError::DbIndex(i) => write!(f, "Data file was created with a Redis server configured to handle more than {i} databases"),
            RdbError::DuplicateKey(k) => {
                write!(f, "RDB has duplicated key '{}'", String::from_utf8_lossy(k))
            }
        }
    }
}

/// Where SAVE, BGSAVE, SHUTDOWN and the save points put snapshots: the host's storage.
///
/// The engine never does I/O; a host that keeps files (redlet-server) installs a store with
/// `Engine::set_snapshot_store`. Without one the engine keeps the last snapshot in memory, for the host to
/// take with `Engine::take_snapshot` (the browser stores it where it likes). A store must be `Send`, so the
/// engine stays `Send` for hosts that move it between threads.
pub trait SnapshotStore {
    /// Stores a snapshot; an error makes SAVE fail and INFO report `rdb_last_bgsave_status:err`.
    fn store(&mut self, rdb: &[u8]) -> Result<(), String>;
    /// The stored snapshot, for DEBUG RELOAD; `Ok(None)` when there is none.
    fn fetch(&mut self) -> Result<Option<Vec<u8>>, String>;
}

/// The engine's persistence state, as INFO persistence and LASTSAVE report it.
#[derive(Default)]
pub struct Persistence {
    /// The host's storage; `None` keeps snapshots in `snapshot`.
    pub(crate) store: Option<Box<dyn SnapshotStore + Send>>,
    /// The last snapshot, when there is no store.
    pub(crate) snapshot: Option<Vec<u8>>,
    /// Unix ms of the last successful save; `None` until one happens (LASTSAVE then says the start time).
    pub last_save_ms: Option<u64>,
    /// Unix ms of the last save attempt, for the save points' retry delay.
    pub last_try_ms: u64,
    /// Whether the last save succeeded (`rdb_last_bgsave_status`).
    pub last_save_ok: bool,
    /// Snapshots SAVE, BGSAVE and the save points wrote (`rdb_saves`; FLUSHALL's and SHUTDOWN's do not count).
    pub saves: u64,
    /// Whether a BGSAVE ran (`rdb_last_bgsave_time_sec` says 0 instead of -1 after the first: ours take no time).
    pub bgsaved: bool,
    /// BGSAVE inside a transaction is only scheduled (Redis cannot fork in EXEC); `tick` runs it.
    pub bgsave_scheduled: bool,
    /// Keys loaded and keys skipped as expired by the last load.
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
    /// Set by SHUTDOWN: the host should stop (after the snapshot SHUTDOWN wrote, if any).
    pub shutdown_requested: bool,
    /// The append-only file, as INFO persistence reports it; the host that keeps it updates it.
    pub aof: AofStatus,
}

/// The AOF's state: the host keeps the files (`crate::aof`), the engine answers for them.
///
/// A host that keeps an AOF says so with `Engine::set_aof_host`; BGREWRITEAOF then only asks for a rewrite
/// (`Engine::take_aof_rewrite_request`), which the host does between commands and reports with
/// `Engine::aof_rewrite_done`. Without a host there is nothing to rewrite: BGREWRITEAOF succeeds at once.
#[derive(Clone, Debug, Default)]
pub struct AofStatus {
    pub host: bool,
    /// BGREWRITEAOF asked for a rewrite the host has not done yet.
    pub rewrite_requested: bool,
    /// Rewrites done (`aof_rewrites`), and whether the last succeeded (`aof_last_bgrewrite_status`).
    pub rewrites: u64,
    pub last_rewrite_failed: bool,
    /// Whether the last write to the AOF failed (`aof_last_write_status`).
    pub last_write_failed: bool,
    /// Sizes of the AOF (base and incremental files) and of its base, for INFO when the AOF is on.
    pub current_size: u64,
    pub base_size: u64,
}

impl Engine {
    /// Declares that the host keeps an AOF: BGREWRITEAOF leaves the rewrite to it.
    pub fn set_aof_host(&mut self, on: bool) {
        self.persistence.aof.host = on;
    }

    /// Whether BGREWRITEAOF asked for a rewrite since the last call (the host then does it).
    pub fn take_aof_rewrite_request(&mut self) -> bool {
        core::mem::take(&mut self.persistence.aof.rewrite_requested)
    }

    /// The host finished a rewrite (BGREWRITEAOF's or CONFIG SET appendonly yes's): counted, its status kept.
    pub fn aof_rewrite_done(&mut self, ok: bool) {
        let aof = &mut self.persistence.aof;
        aof.rewrites += u64::from(ok);
        aof.last_rewrite_failed = !ok;
    }

    /// An AOF's base as a rewrite writes it: the dataset as an RDB with the `aof-base` mark (Redis 7.0's
    /// `aof-use-rdb-preamble yes`).
    pub fn aof_base_rdb(&self) -> Vec<u8> {
        save_with(self, Format::V10, true)
    }
}

impl fmt::Debug for Persistence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persistence")
            .field("store", &self.store.is_some())
            .field("last_save_ms", &self.last_save_ms)
            .field("saves", &self.saves)
            .finish()
    }
}

impl Persistence {
    pub fn new() -> Persistence {
        Persistence { last_save_ok: true, ..Persistence::default() }
    }
}

/// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed save, save points wait this long before trying again.
const SAVE_RETRY_DELAY_MS: u64 = 5000;

impl Engine {
    /// The whole dataset as an RDB version 9 snapshot, as SAVE writes it.
    pub fn save_rdb(&self) -> Vec<u8> {
        save(self, Format::V9)
    }

    /// Replaces the dataset with an RDB snapshot's (versions 1 to 12). All or nothing: on error nothing
    /// changed. Keys whose expiry has passed are not loaded, as Redis does.
    pub fn load_rdb(&mut self, rdb: &[u8]) -> Result<(), RdbError> {
        let loaded = load(self, rdb)?;
        self.install(loaded);
        Ok(())
    }

    /// Installs the snapshot's storage: SAVE and friends call it, DEBUG RELOAD reads from it.
    pub fn set_snapshot_store(&mut self, store: Box<dyn SnapshotStore + Send>) {
        self.persistence.store = Some(store);
    }

    /// The last snapshot SAVE, BGSAVE or a save point made, when no store is installed.
    pub fn take_snapshot(&mut self) -> Option<Vec<u8>> {
        self.persistence.snapshot.take()
    }

    /// Whether SHUTDOWN asked the host to stop.
    pub fn shutdown_requested(&self) -> bool {
        self.persistence.shutdown_requested
    }

    /// Writes a snapshot to the store (SAVE, BGSAVE, SHUTDOWN, save points; a host stopping on a signal),
    /// updating what INFO and LASTSAVE report.
    pub fn save_snapshot(&mut self, format: Format) -> Result<(), String> {
        let bytes = save(self, format);
        self.persistence.last_try_ms = self.now;
        let result = match self.persistence.store.as_mut() {
            Some(store) => store.store(&bytes),
            None => {
                self.persistence.snapshot = Some(bytes);
                Ok(())
            }
        };
        self.persistence.last_save_ok = result.is_ok();
        if result.is_ok() {
            self.dirty = 0;
            self.persistence.last_save_ms = Some(self.now);
        }
        result
    }

    /// What BGSAVE does, at once: a snapshot, counted in `rdb_saves`; a failure shows in INFO only.
    pub(crate) fn bgsave(&mut self) {
        self.persistence.saves += 1;
        self.persistence.bgsaved = true;
        let _ = self.save_snapshot(Format::V9);
    }

    /// The stored snapshot, for DEBUG RELOAD.
    pub(crate) fn fetch_snapshot(&mut self) -> Result<Option<Vec<u8>>, String> {
        match self.persistence.store.as_mut() {
            Some(store) => store.fetch(),
            None => Ok(self.persistence.snapshot.clone()),
        }
    }

    /// Replaces every database with the loaded keys.
    pub(crate) fn install(&mut self, loaded: Loaded) {
        for db in self.dbs.iter_mut() {
            db.clear();
        }
        // Emptied data, as a flush (Redis's emptyData): tracking clients get a null invalidation.
        crate::tracking::flushed(self);
        self.merge(loaded);
    }

    /// Adds the loaded keys, replacing keys of the same name (DEBUG RELOAD NOFLUSH MERGE).
    pub(crate) fn merge(&mut self, loaded: Loaded) {
        self.rng = loaded.rng.clone();
        self.persistence.last_load_keys_loaded = loaded.keys.len() as u64;
        self.persistence.last_load_keys_expired = loaded.expired;
        for k in loaded.keys {
            let db = self.db_mut(k.db);
            db.remove(&k.key);
            db.set(&k.key, k.entry);
            if let Some(when) = k.expire {
                db.set_expire(&k.key, when);
            }
        }
    }

    /// Save points (`save 900 1`): a snapshot when enough changes happened since the last one and enough
    /// time passed, as Redis's serverCron; a failed save is retried after a delay. Called by `tick`.
    pub fn save_if_due(&mut self) {
        if self.persistence.bgsave_scheduled {
            self.persistence.bgsave_scheduled = false;
            self.bgsave();
        }
        if self.config.save.is_empty() || self.dirty == 0 {
            return;
        }
        let now = self.now;
        let last = self.persistence.last_save_ms.unwrap_or(self.started_ms);
        let retry_ok = self.persistence.last_save_ok || now.saturating_sub(self.persistence.last_try_ms) > SAVE_RETRY_DELAY_MS;
        let due = self.config.save.iter().any(|&(secs, changes)| {
            self.dirty >= changes.max(0) as u64 && (now / 1000).saturating_sub(last / 1000) > secs.max(0) as u64
        });
        if due && retry_ok {
            self.bgsave();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Reply;
    use crate::Config;
    use std::sync::{Arc, Mutex};

    type Kept = Arc<Mutex<(Vec<Vec<u8>>, bool)>>;

    /// A store that keeps what it was given, or fails.
    struct Shared(Kept);

    impl SnapshotStore for Shared {
        fn store(&mut self, rdb: &[u8]) -> Result<(), String> {
            let mut s = self.0.lock().map_err(|_| String::from("poisoned"))?;
            if s.1 {
                return Err("disk full".into());
            }
            s.0.push(rdb.to_vec());
            Ok(())
        }
        fn fetch(&mut self) -> Result<Option<Vec<u8>>, String> {
            Ok(self.0.lock().ok().and_then(|s| s.0.last().cloned()))
        }
    }

    fn info_field(e: &mut Engine, c: u64, name: &str) -> String {
        let b = match e.run_line(c, "INFO persistence", 1_000) {
            Some(Reply::Bulk(b)) | Some(Reply::Verbatim(_, b)) => b,
            _ => return String::new(),
        };
        let text = String::from_utf8_lossy(&b).into_owned();
        let prefix = alloc::format!("{name}:");
        text.lines().find_map(|l| l.strip_prefix(prefix.as_str()).map(String::from)).unwrap_or_default()
    }

    #[test]
    fn the_engine_stays_send_with_a_store() {
        fn send<T: Send>() {}
        send::<Engine>();
    }

    #[test]
    fn save_goes_to_the_store_and_a_failure_shows() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000);
        let state: Kept = Arc::new(Mutex::new((Vec::new(), false)));
        e.set_snapshot_store(Box::new(Shared(state.clone())));
        e.run_line(c, "SET a 1", 1_000);
        assert_eq!(e.run_line(c, "SAVE", 2_000), Some(Reply::ok()));
        assert_eq!(state.lock().map(|s| s.0.len()).unwrap_or(0), 1);
        assert_eq!(info_field(&mut e, c, "rdb_changes_since_last_save"), "0");
        assert_eq!(e.run_line(c, "LASTSAVE", 3_000), Some(Reply::Integer(2)));
        if let Ok(mut s) = state.lock() {
            s.1 = true;
        }
        e.run_line(c, "SET b 2", 3_000);
        assert_eq!(e.run_line(c, "SAVE", 3_000), Some(Reply::Error(crate::Error::other("ERR"))));
        assert_eq!(info_field(&mut e, c, "rdb_last_bgsave_status"), "err");
        assert_eq!(info_field(&mut e, c, "rdb_changes_since_last_save"), "1");
        // The snapshot the store kept loads into a fresh engine.
        let mut f = Engine::new(Config::default());
        let bytes = state.lock().ok().and_then(|s| s.0.first().cloned()).unwrap_or_default();
        assert!(f.load_rdb(&bytes).is_ok());
        assert_eq!(f.db(0).len(), 1);
    }

    #[test]
    fn save_points_and_shutdown() {
        let mut e = Engine::new(Config { save: alloc::vec![(10, 2)], ..Config::default() });
        let c = e.connect(1_000);
        e.run_line(c, "SET a 1", 1_000);
        e.run_line(c, "SET b 1", 1_000);
        e.tick(5_000);
        assert!(e.take_snapshot().is_none(), "not 10 seconds yet");
        e.tick(12_000);
        assert!(e.take_snapshot().is_some(), "two changes and more than 10 seconds");
        e.tick(30_000);
        assert!(e.take_snapshot().is_none(), "nothing changed since");
        // SHUTDOWN saves when save points exist (and NOSAVE does not), then asks the host to stop.
        e.run_line(c, "SET c 1", 31_000);
        assert_eq!(e.run_line(c, "SHUTDOWN NOSAVE", 31_000), Some(Reply::ok()));
        assert!(e.shutdown_requested());
        assert!(e.take_snapshot().is_none());
        e.persistence.shutdown_requested = false;
        assert_eq!(e.run_line(c, "SHUTDOWN", 31_000), Some(Reply::ok()));
        let snap = e.take_snapshot().unwrap_or_default();
        let mut f = Engine::new(Config::default());
        assert!(f.load_rdb(&snap).is_ok());
        assert_eq!(f.db(0).len(), 3);
    }

    #[test]
    fn a_refused_snapshot_changes_nothing() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000);
        e.run_line(c, "SET keep me", 1_000);
        let mut snap = e.save_rdb();
        let n = snap.len();
        snap[n - 3] ^= 1;
        e.run_line(c, "SET other 1", 1_000);
        assert_eq!(e.load_rdb(&snap), Err(RdbError::Checksum));
        assert_eq!(e.db(0).len(), 2);
        assert_eq!(e.load_rdb(b"REDIS0013"), Err(RdbError::Version(13)));
        assert_eq!(e.load_rdb(b"RUBBISH00"), Err(RdbError::Signature));
        assert_eq!(e.load_rdb(b"REDIS0009\xfe"), Err(RdbError::Truncated));
        assert_eq!(e.db(0).len(), 2);
    }
}
