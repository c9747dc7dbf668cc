//! Transactions and WATCH: each client's MULTI state and the watched keys (Redis's multi.c).
//!
//! The flow:
//! 1. MULTI opens a [`Transaction`] for the client. From then on `Engine::execute` hands every command that
//!    passed the table's checks to [`queue`], which keeps it and answers `+QUEUED`, except the commands that
//!    act on the transaction itself (EXEC, DISCARD, MULTI, WATCH) and QUIT and RESET, which run at once.
//!    A command refused before it could be queued (unknown, wrong arity, `no_multi`, the ACL) flags the transaction
//!    (Redis's flagTransaction, here [`refused`]) and EXEC then answers EXECABORT.
//! 2. WATCH records a [`Watcher`] under the key in `Db::watched_keys` (the database's side, as Redis's
//!    `db->watched_keys`) and the `(db, key)` pair in the client's list (to unwatch). Every change of a key
//!    marks its watchers `touched` (Redis's touchWatchedKey): `Db`'s mutation primitives (set, remove,
//!    expiry changes, flush) do it themselves, and a write command that changes a watched value in place is
//!    caught by comparing the watched values of its database before and after it ([`snapshot`], [`compare`]).
//!    A command that Redis signals although the value stays the same (LSET of the same element) calls
//!    `Db::signal_modified_key` itself.
//! 3. EXEC fails with a null array when a watcher was touched or a watched key has expired since (Redis 7.0's
//!    isWatchedKeyExpired); otherwise it unwatches and runs the queue through `Engine::call`, with blocking
//!    commands denied (they answer as if timed out), and answers the replies in an array.
//!
//! A key that was already expired when watched is flagged `expired`: its deletion by expiry is then no
//! change (the key was logically gone already), as Redis 7.0 does.

use crate::vecmap::VecMap;
use alloc::vec::Vec;

use crate::cmd::Handler;
use crate::db::Db;
use crate::engine::{ClientId, Engine};
use crate::error::Error;
use crate::reply::Reply;
use crate::table::{CommandSpec, Flag};
use crate::value::Value;

/// One client watching one key, kept in `Db::watched_keys`.
#[derive(Clone, Debug)]
pub struct Watcher {
    pub client: ClientId,
    /// The key was logically expired (present but past its time) when WATCH ran: deleting it changes nothing.
    pub expired: bool,
    /// The key changed since WATCH: EXEC will fail (Redis's CLIENT_DIRTY_CAS, kept per watched key so that
    /// unwatching clears it).
    pub touched: bool,
}

/// A command waiting in a transaction.
pub(crate) struct Queued {
    pub(crate) spec: &'static CommandSpec,
    pub(crate) handler: Handler,
    pub(crate) argv: Vec<Vec<u8>>,
}

/// One client's open transaction (Redis's `c->mstate` with the CLIENT_MULTI and CLIENT_DIRTY_EXEC flags).
#[derive(Default)]
pub struct Transaction {
    pub(crate) queued: Vec<Queued>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub(crate) dirty_exec: bool,
    /// EXEC is running the queue: commands run instead of being queued, while CLIENT LIST still shows the
    /// transaction as Redis does until EXEC returns.
    pub(crate) executing: bool,
    /// How many commands were queued (CLIENT LIST's `multi=`).
    pub(crate) count: usize,
    /// Bytes of the queued arguments plus a pointer per argument (CLIENT LIST's `multi-mem=`, Redis's
    /// `mstate.argv_len_sums`).
    pub(crate) mem: usize,
}

/// The engine's transactions and the keys each client watches.
#[derive(Default)]
pub struct Multi {
    pub(crate) transactions: VecMap<ClientId, Transaction>,
    /// `(db, key)` for each key a client watches, in the order it watched them.
    pub(crate) watching: VecMap<ClientId, Vec<(usize, Vec<u8>)>>,
}

/// A watched key's value and expiry, `None` when missing.
type KeyState = (Value, Option<u64>);
/// The watched keys of a database with their state before a command.
pub type Snapshot = Vec<(Vec<u8>, Option<KeyState>)>;
/// For a key: whether it is in a database's new content, and whether it is expired there.
type Presence<'a> = &'a dyn Fn(&[u8]) -> (bool, bool);

/// What CLIENT LIST shows of a client's transaction state.
pub struct ClientMultiInfo {
    /// Queued commands while in MULTI (`multi=N`, flag `x`), `None` outside.
    pub queued: Option<usize>,
    pub mem: usize,
    /// A watched key changed (flag `d`).
    pub dirty: bool,
}

/// The commands that act at once inside MULTI instead of being queued (Redis's processCommand list).
const RUN_IN_MULTI: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

impl Multi {
    pub fn in_multi(&self, client: ClientId) -> bool {
        self.transactions.contains_key(&client)
    }
}

/// Marks watchers of a key that changed; `exists` says whether the key is there after the change.
pub fn touch_watchers(watchers: &mut [Watcher], exists: bool) {
    for w in watchers {
        if w.expired && !exists {
            // An already expired key was deleted: logically no change. Deleted keys are not expired any more.
            w.expired = false;
            continue;
        }
        w.touched = true;
    }
}

/// A database is emptied (FLUSHDB, FLUSHALL): the watchers of the keys present see them change.
pub fn touch_all_watched(db: &mut Db) {
    let Db { keys, watched_keys, .. } = db;
    touch_all(watched_keys, &|k| keys.contains_key(k), None);
}

/// Redis's touchAllWatchedKeysInDb: a database's content goes away (`in_emptied` tells what it held) and,
/// for SWAPDB, `replaced_with` tells whether a key is in the new content and expired there. Watchers of a
/// key present before or after see a change, except where the key stays logically missing.
fn touch_all(
    watched: &mut hashbrown::HashMap<Vec<u8>, Vec<Watcher>>,
    in_emptied: &dyn Fn(&[u8]) -> bool,
    replaced_with: Option<Presence>,
) {
    for (key, watchers) in watched.iter_mut() {
        let in_old = in_emptied(key);
        let (in_new, expired_in_new) = replaced_with.map_or((false, false), |f| f(key));
        if !in_old && !in_new {
            continue;
        }
        for w in watchers.iter_mut() {
            if w.expired {
                if !in_new {
                    // The expired key is now deleted: no logical change, and it is no longer expired.
                    w.expired = false;
                    continue;
                } else if expired_in_new {
                    continue;
                }
            } else if !in_old && expired_in_new {
                // A missing key replaced by an expired one: still logically missing.
                w.expired = true;
                continue;
            }
            w.touched = true;
        }
    }
}

/// After SWAPDB swapped databases `a` and `b` (whole `Engine::dbs` entries): watches stay with their
/// database index as in Redis, so the watch tables are swapped back, and each side's watchers see the
/// change of content.
pub fn swapped_dbs(e: &mut Engine, a: usize, b: usize) {
    if a == b || a >= e.dbs.len() || b >= e.dbs.len() {
        return;
    }
    let now = e.now;
    let (lo, hi) = (a.min(b), a.max(b));
    let (left, right) = e.dbs.split_at_mut(hi);
    let (Some(x), Some(y)) = (left.get_mut(lo), right.first_mut()) else { return };
    core::mem::swap(&mut x.watched_keys, &mut y.watched_keys);
    // Each database now holds the other's old content: what `x` held before is in `y` now, and back.
    touch_swapped(x, y, now);
    touch_swapped(y, x, now);
}

fn touch_swapped(this: &mut Db, other: &Db, now: u64) {
    let Db { keys, expires, watched_keys, .. } = this;
    let new = |k: &[u8]| (keys.contains_key(k), matches!(expires.get(k), Some(&when) if now > when));
    touch_all(watched_keys, &|k| other.keys.contains_key(k), Some(&new));
}

/// A command was refused before running (unknown, wrong arity, NOAUTH, the ACL): a transaction in progress is flagged so EXEC
/// fails, and a refused EXEC itself ends the transaction with EXECABORT and the reason (execCommandAbort).
pub fn refused(e: &mut Engine, client: ClientId, argv: &[&[u8]], err: Error) -> Reply {
    // A refused command uses up a CLIENT CACHING given for the next one, as Redis's resetClient.
    if e.tracking.on {
        crate::tracking::refused(e, client, argv);
    }
    let executing = e.multi.transactions.get(&client).is_some_and(|tx| tx.executing);
    if let Some(tx) = e.multi.transactions.get_mut(&client) {
        tx.dirty_exec = true;
    }
    // A refused EXEC answers EXECABORT with the reason, in a transaction or not (Redis's execCommandAbort).
    if !executing && argv.first().is_some_and(|n| n.eq_ignore_ascii_case(b"exec")) {
        discard(e, client);
        let text = alloc::format!("{err}");
        let reason = text.strip_prefix("ERR ").unwrap_or(&text);
        return Reply::Error(Error::Other(alloc::format!("EXECABORT Transaction discarded because of: {reason}")));
    }
    Reply::Error(err)
}

/// Inside MULTI, queues a command that passed the table's checks and answers `+QUEUED`; `None` when the
/// command runs now (no transaction, EXEC running the queue, or a command acting on the transaction).
#[inline]
pub fn queue(e: &mut Engine, client: ClientId, spec: &'static CommandSpec, handler: Handler, argv: &[&[u8]]) -> Option<Reply> {
    // Inlined into every command: with no transaction open anywhere this is one test.
    if e.multi.transactions.is_empty() {
        return None;
    }
    queue_in_transaction(e, client, spec, handler, argv)
}

fn queue_in_transaction(e: &mut Engine, client: ClientId, spec: &'static CommandSpec, handler: Handler, argv: &[&[u8]]) -> Option<Reply> {
    let tx = e.multi.transactions.get_mut(&client)?;
    if tx.executing {
        return None;
    }
    if spec.has(Flag::NoMulti) {
        tx.dirty_exec = true;
        e.stats.commands.entry(spec.name).or_default().rejected_calls += 1;
        return Some(Reply::Error(Error::other("ERR Command not allowed inside a transaction")));
    }
    let top = spec.name.split('|').next().unwrap_or(spec.name);
    if RUN_IN_MULTI.contains(&top) {
        return None;
    }
    // An aborted transaction answers QUEUED but keeps nothing: EXEC will not run it (Redis saves the memory).
    if tx.dirty_exec || is_dirty(e, client) {
        return Some(Reply::status("QUEUED"));
    }
    let tx = e.multi.transactions.get_mut(&client)?;
    tx.mem += argv.iter().map(|a| a.len() + core::mem::size_of::<usize>()).sum::<usize>();
    tx.count += 1;
    tx.queued.push(Queued { spec, handler, argv: argv.iter().map(|a| a.to_vec()).collect() });
    Some(Reply::status("QUEUED"))
}

/// Whether the client's queued commands include a `denyoom` one (Redis's `mstate.cmd_flags & CMD_DENYOOM`):
/// under memory pressure its EXEC is then refused.
pub fn queued_denyoom(e: &Engine, client: ClientId) -> bool {
    e.multi.transactions.get(&client).is_some_and(|tx| tx.queued.iter().any(|q| q.spec.has(Flag::Denyoom)))
}

/// Ends a client's transaction and unwatches its keys (Redis's discardTransaction). RESET and a disconnect do it.
pub fn discard(e: &mut Engine, client: ClientId) {
    e.multi.transactions.remove(&client);
    unwatch_all(e, client);
}

/// Drops every watch of a client, and with them its dirty state.
pub fn unwatch_all(e: &mut Engine, client: ClientId) {
    let Some(list) = e.multi.watching.remove(&client) else { return };
    for (dbi, key) in list {
        let Some(db) = e.dbs.get_mut(dbi) else { continue };
        if let Some(watchers) = db.watched_keys.get_mut(key.as_slice()) {
            watchers.retain(|w| w.client != client);
            if watchers.is_empty() {
                db.watched_keys.remove(key.as_slice());
            }
        }
    }
}

/// Each watched key of the client with its watcher record.
fn watchers_of(e: &Engine, client: ClientId) -> impl Iterator<Item = (usize, &[u8], &Watcher)> + '_ {
    e.multi.watching.get(&client).into_iter().flatten().filter_map(move |(dbi, key)| {
        let w = e.dbs.get(*dbi)?.watched_keys.get(key.as_slice())?.iter().find(|w| w.client == client)?;
        Some((*dbi, key.as_slice(), w))
    })
}

/// Whether a watched key changed since WATCH (CLIENT LIST's flag `d`).
pub(crate) fn is_dirty(e: &Engine, client: ClientId) -> bool {
    watchers_of(e, client).any(|(_, _, w)| w.touched)
}

/// Whether a watched key that was alive when watched has expired by now (Redis 7.0's isWatchedKeyExpired).
pub(crate) fn watched_key_expired(e: &Engine, client: ClientId) -> bool {
    let now = e.now;
    watchers_of(e, client).any(|(dbi, key, w)| !w.expired && e.db(dbi).is_expired(key, now))
}

/// What CLIENT LIST shows of a client's transaction.
pub fn client_info(e: &Engine, client: ClientId) -> ClientMultiInfo {
    let tx = e.multi.transactions.get(&client);
    ClientMultiInfo { queued: tx.map(|t| t.count), mem: tx.map_or(0, |t| t.mem), dirty: is_dirty(e, client) }
}

/// The watched values of database `dbi` before a write command runs, to find the ones it changes in place.
/// `None` when nobody watches a key there (the usual case) or the command does not write.
#[inline]
pub fn snapshot(e: &Engine, dbi: usize, spec: &CommandSpec) -> Option<Snapshot> {
    // Inlined into every command: a database nobody watches is one test.
    let db = e.dbs.get(dbi)?;
    if db.watched_keys.is_empty() || !spec.has(Flag::Write) {
        return None;
    }
    snapshot_watched(db, e.now)
}

fn snapshot_watched(db: &Db, now: u64) -> Option<Snapshot> {
    let snap = db
        .watched_keys
        .iter()
        .filter(|(_, ws)| ws.iter().any(|w| !w.touched))
        .map(|(key, _)| (key.clone(), state_of(db, key, now)))
        .collect();
    Some(snap)
}

/// A key's value and expiry as a watcher sees them: a logically expired key counts as missing, so its
/// deletion by the command's lookup is no change here (the deletion signals on its own).
fn state_of(db: &Db, key: &[u8], now: u64) -> Option<KeyState> {
    if db.is_expired(key, now) {
        return None;
    }
    db.keys.get(key).map(|entry| (entry.value.clone(), db.expire_of(key)))
}

/// After the command: signals the watched keys whose value or expiry differs from the snapshot.
#[inline]
pub fn compare(e: &mut Engine, dbi: usize, snap: Option<Snapshot>) {
    if let Some(snap) = snap {
        compare_watched(e, dbi, snap);
    }
}

fn compare_watched(e: &mut Engine, dbi: usize, snap: Snapshot) {
    let now = e.now;
    let Some(db) = e.dbs.get_mut(dbi) else { return };
    for (key, before) in snap {
        if state_of(db, &key, now) != before {
            db.signal_modified_key(&key);
        }
    }
}

/// Whether the client's open transaction queued a command that may write or replicate (CLIENT PAUSE WRITE
/// postpones its EXEC, as Redis checks `mstate.cmd_flags`).
pub(crate) fn queued_writes(e: &Engine, client: ClientId) -> bool {
    e.multi.transactions.get(&client).is_some_and(|tx| {
        tx.queued.iter().any(|q| q.spec.has(crate::table::Flag::Write) || q.spec.has(crate::table::Flag::MayReplicate))
    })
}
