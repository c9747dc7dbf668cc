//! Client-side caching: the invalidation messages of CLIENT TRACKING (Redis's tracking.c).
//!
//! A client's options (REDIRECT, BCAST, OPTIN, OPTOUT, NOLOOP, its prefixes, CLIENT CACHING) live in
//! `Client::modes.tracking` (`crate::cmd::connection`); this module keeps what the engine shares:
//! - the tracking table, key → ids of the clients that read it, whatever the database (Redis keys it by name
//!   only). Ids stay after their client turns tracking off or disconnects, as in Redis: the key's next change
//!   drops them without a message, and INFO counts them until then;
//! - the prefix table of BCAST clients, each prefix with its clients and the keys changed since the last
//!   broadcast.
//!
//! The flow:
//! 1. While anything is tracked (`Table::on`), `Engine::call` runs each handler (EXEC's commands included)
//!    through [`call`], whose top-level call stands for the whole command; otherwise a command pays that one
//!    test. Refused commands, eviction and clients served after a command have hooks of their own.
//! 2. After a read-only command of a tracking client in default mode, [`call`] remembers the keys it read (the
//!    command table's key specs, as Redis's getKeysFromCommand): OPTIN only after `CLIENT CACHING yes`, OPTOUT
//!    except after `CLIENT CACHING no`. The CACHING flag lasts one command (CLIENT commands and a transaction
//!    keep it), as Redis's resetClient.
//! 3. Every changed key is signalled where WATCH's are: `Db`'s primitives and explicit `signal_modified_key`
//!    calls log it while `Table::on` holds, and [`call`] compares the tracked keys of a write command before and
//!    after it for changes made in place, as `crate::multi` compares watched keys. Each is invalidated
//!    ([`invalidate`], Redis's trackingInvalidateKey): every client that read it gets one message and is
//!    forgotten for it, and a key under a BCAST prefix joins the prefix's changed keys. Expiry and eviction
//!    signal with no client (`Engine::delete_expired`, `Engine::evict_key`); FLUSHDB and FLUSHALL send every
//!    tracking client a null instead ([`flushed`]).
//! 4. Delivery ([`send`], Redis's sendTrackingMessage): a RESP3 client gets `>2 invalidate [keys]`; with
//!    REDIRECT the target gets it, as a RESP3 push or, when it speaks RESP2 and is in pub/sub mode, as a message
//!    on `__redis__:invalidate`; a target that is gone makes a RESP3 tracker get `tracking-redir-broken`.
//! 5. Order on the wire: a message for the client whose command runs is held until the command ends and goes
//!    after its reply (Redis's tracking_pending_keys); hosts write those from
//!    `Engine::drain_pushes_after_reply`. BCAST clients get the changed keys of each prefix in one message at the
//!    end of every command and `tick`, or, for a host with an event loop (`Engine::batch_broadcasts`), at the
//!    end of each turn (`Engine::end_turn`), as Redis batches them in beforeSleep. Several keys
//!    changed by one command are invalidated in the order of its keys, the destination first for LMOVE and its
//!    family, as Redis's commands signal them.
//! 6. `tracking-table-max-keys`: before each command and at each `tick` (Redis's processCommand and serverCron)
//!    random keys are invalidated until the table is within the limit.

use alloc::vec;
use alloc::vec::Vec;

use crate::cmd::Handler;
use crate::dict::Dict;
use crate::engine::{ClientId, Engine};
use crate::reply::Reply;
use crate::table::{CommandSpec, Flag};
use crate::value::Value;
use crate::vecmap::{VecMap, VecSet};

/// The channel a RESP2 redirect target reads its invalidations on (Redis's TrackingChannelName).
const CHANNEL: &str = "__redis__:invalidate";

/// The commands that signal their destination before their source (Redis's lmoveHandlePush runs first).
const DESTINATION_FIRST: &[&str] = &["lmove", "rpoplpush", "blmove", "brpoplpush"];

/// The engine's share of client-side caching: Redis's TrackingTable, PrefixTable, their counters, and the
/// invalidations waiting for the running command's reply.
pub struct Table {
    /// Anything is tracked: a client has tracking on, or keys or prefixes are kept. While it holds commands take
    /// the tracked path and `Db` logs changed keys; without it nothing else is looked at.
    pub(crate) on: bool,
    /// Clients with tracking on (Redis's server.tracking_clients).
    clients: usize,
    /// Each key read by a tracking client in default mode, with the clients' ids, ordered as Redis's radix tree
    /// of 8-byte ids walks them (their little-endian bytes), which is the order their messages go out in.
    keys: Dict<Vec<ClientId>>,
    /// The ids summed over all keys (Redis's TrackingTableTotalItems).
    items: usize,
    /// BCAST prefixes in byte order, as Redis's radix tree walks them.
    prefixes: VecMap<Vec<u8>, Prefix>,
    /// Invalidations for the client whose command runs, sent once it has its reply; `None` stands for a flush.
    pending: Vec<Option<Vec<u8>>>,
    /// The client whose command is being processed (Redis's server.current_client): NOLOOP skips it. Set by the
    /// command's top-level `call` (or its eviction), it stays until the next command, `tick` or `end_turn`
    /// (`between_commands`), so what clients served after the command change reaches it after its reply.
    current: Option<ClientId>,
    /// The running `Engine::call`s, innermost last (EXEC's commands run inside EXEC's): any is Redis's
    /// CLIENT_EXECUTING_COMMAND, when the current client's messages wait for its reply.
    frames: Vec<Frame>,
    /// The current command has its reply: its client's messages now go after it.
    replied: bool,
    /// Rounds in a row that ended over `tracking-table-max-keys` (Redis's timeout_counter): each round tries harder.
    over_limit: u32,
    /// The host batches BCAST messages per turn of its event loop (`Engine::batch_broadcasts`): they go out at
    /// `Engine::end_turn`, not after each command and tick.
    pub(crate) per_turn: bool,
}

/// A BCAST prefix (Redis's bcastState).
#[derive(Default)]
struct Prefix {
    clients: VecSet<ClientId>,
    keys: Changed,
}

/// A prefix's keys changed since the last broadcast, each with the client that changed it last (none for expiry
/// and eviction), so a NOLOOP client is not told of its own changes.
type Changed = VecMap<Vec<u8>, Option<ClientId>>;

/// What an invalidation message carries.
enum Message {
    Keys(Vec<Vec<u8>>),
    /// FLUSHDB and FLUSHALL: a null in place of the keys, in the tracking client's protocol.
    Flush,
}

/// One running `Engine::call`: its client and, for a write command, its tracked keys as they were.
struct Frame {
    client: ClientId,
    before: Option<Before>,
}

/// A write command's tracked keys as they were before it ran, to find those it changes in place.
struct Before {
    db: usize,
    keys: Vec<(Vec<u8>, Option<Value>)>,
}

impl Table {
    pub fn new(seed: u64) -> Table {
        Table {
            on: false,
            clients: 0,
            keys: Dict::new(seed),
            items: 0,
            prefixes: VecMap::new(),
            pending: Vec::new(),
            current: None,
            frames: Vec::new(),
            replied: false,
            over_limit: 0,
            per_turn: false,
        }
    }

    /// INFO's `tracking_clients`.
    pub fn clients(&self) -> usize {
        self.clients
    }

    /// INFO's `tracking_total_keys`: keys in the tracking table.
    pub fn total_keys(&self) -> usize {
        self.keys.len()
    }

    /// INFO's `tracking_total_items`: client ids summed over the keys.
    pub fn total_items(&self) -> usize {
        self.items
    }

    /// INFO's `tracking_total_prefixes`: distinct BCAST prefixes.
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// Whether a key is under a BCAST prefix.
    fn prefixed(&self, key: &[u8]) -> bool {
        self.prefixes.keys().any(|p| key.starts_with(p))
    }
}

/// Turns tracking on for a client, or changes its options (Redis's enableTracking): `settings` are its options
/// and all its prefixes, already checked by CLIENT TRACKING.
pub(crate) fn enable(e: &mut Engine, client: ClientId, settings: crate::cmd::connection::Tracking) {
    let Some(cl) = e.clients.get_mut(&client) else { return };
    for p in &settings.prefixes {
        e.tracking.prefixes.entry(p.clone()).or_default().clients.insert(client);
    }
    if cl.modes.tracking.replace(settings).is_none() {
        e.tracking.clients += 1;
    }
    refresh(e);
}

/// Turns tracking off for a client (CLIENT TRACKING OFF, RESET, a disconnect; Redis's disableTracking): its
/// prefixes go, and a prefix no client has any more goes with its changed keys. The keys it read stay in the
/// table until they change, as in Redis (turning tracking on again before that brings their messages back).
pub(crate) fn disable(e: &mut Engine, client: ClientId) {
    let Some(t) = e.clients.get_mut(&client).and_then(|c| c.modes.tracking.take()) else { return };
    for p in &t.prefixes {
        if let Some(prefix) = e.tracking.prefixes.get_mut(p) {
            prefix.clients.remove(&client);
            if prefix.clients.is_empty() {
                e.tracking.prefixes.remove(p);
            }
        }
    }
    e.tracking.clients = e.tracking.clients.saturating_sub(1);
    refresh(e);
}

/// Keeps `Table::on` and the databases' change logs in step with what is tracked.
fn refresh(e: &mut Engine) {
    let t = &e.tracking;
    let on = t.clients > 0 || !t.keys.is_empty() || !t.prefixes.is_empty();
    if on != t.on {
        e.tracking.on = on;
        for db in e.dbs.iter_mut() {
            db.log_modified = on;
            db.modified.clear();
        }
    }
}

/// The command of `client` is being processed before it runs (its keys may be evicted for memory): its own
/// messages go before its reply, and NOLOOP spares it (Redis's current_client).
pub(crate) fn processing(e: &mut Engine, client: ClientId) {
    e.tracking.current = Some(client);
    e.tracking.replied = false;
}

/// No command is being processed (`Engine::tick`, the end of a host's turn): the last command's client gets
/// messages as any other push, and NOLOOP spares nobody.
pub(crate) fn between_commands(e: &mut Engine) {
    e.tracking.current = None;
    e.tracking.replied = false;
}

/// Clients blocked on keys were served after a command: what they changed is invalidated at once (their own
/// messages, and the command's client's, after the replies), and BCAST clients are told.
pub(crate) fn served(e: &mut Engine) {
    invalidate_logged(e, None);
    if !e.tracking.per_turn {
        broadcast(e);
    }
}

/// A command refused before it ran (unknown, wrong arity, NOAUTH, the ACL, OOM...).
pub(crate) fn refused(e: &mut Engine, client: ClientId, argv: &[&[u8]]) {
    end_caching(e, client, argv);
}

/// CLIENT CACHING covers the next command only (Redis's resetClient): any other command ends it, unless it is a
/// CLIENT command or leaves a transaction open.
fn end_caching(e: &mut Engine, client: ClientId, argv: &[&[u8]]) {
    let keep = argv.first().is_some_and(|n| n.eq_ignore_ascii_case(b"client")) || e.multi.in_multi(client);
    if !keep {
        if let Some(t) = e.clients.get_mut(&client).and_then(|c| c.modes.tracking.as_mut()) {
            t.caching = false;
        }
    }
}

/// The end of a command that has its reply: what was held for its client goes after that reply, keys changed
/// since are invalidated, and BCAST clients get their messages.
fn finish(e: &mut Engine, client: ClientId) {
    e.tracking.replied = true;
    for key in core::mem::take(&mut e.tracking.pending) {
        send(e, client, key.map_or(Message::Flush, |k| Message::Keys(vec![k])));
    }
    invalidate_logged(e, None);
    if !e.tracking.per_turn {
        broadcast(e);
    }
}

/// `Engine::call` while anything is tracked: the keys the command changed are invalidated, its client's
/// messages held until its reply, then the keys a read-only command read are remembered (after the
/// invalidations, as Redis's call() does, so a key the command itself expired is tracked again). The top-level
/// call (not one of EXEC's commands) stands for the whole command: before it the table is kept within its
/// limit (Redis's processCommand), after it come `finish` and the end of CLIENT CACHING.
pub(crate) fn call(
    e: &mut Engine,
    client: ClientId,
    db: usize,
    argv: &[&[u8]],
    spec: &'static CommandSpec,
    handler: Handler,
) -> Reply {
    let top = e.tracking.frames.is_empty();
    if top {
        // A host that did not take the last command's trailing messages still gets them, if late.
        let late = e.drain_pushes_after_reply();
        for (to, push) in late {
            e.push(to, push);
        }
        processing(e, client);
        if e.tracking.clients > 0 {
            limit(e);
        }
    }
    // The keys a command writes or reads; other commands change keys only by expiring them, told on their own.
    let keys = if spec.has(Flag::Write) || spec.has(Flag::Readonly) {
        crate::cmd::server::command_keys(spec, argv).unwrap_or_default()
    } else {
        Vec::new()
    };
    let before = snapshot(e, db, argv, spec, &keys);
    e.tracking.frames.push(Frame { client, before });
    let reply = e.call_untracked(client, db, argv, spec, handler);
    // Its frame stays while its changes are told, so its client's messages wait for its reply.
    let before = e.tracking.frames.last_mut().and_then(|f| f.before.take());
    let changed = before.map(|b| changed_in_place(e, b)).unwrap_or_default();
    let mut order: Vec<&[u8]> = keys.iter().filter_map(|&(at, _)| argv.get(at).copied()).collect();
    if DESTINATION_FIRST.contains(&spec.name) {
        order.reverse();
    }
    signal_command(e, client, &order, changed);
    e.tracking.frames.pop();
    if spec.has(Flag::Readonly) {
        remember(e, client, argv, spec, &keys);
    }
    if top {
        finish(e, client);
        end_caching(e, client, argv);
    }
    reply
}

/// Time-driven work while anything is tracked: the limit (Redis's serverCron) and the BCAST messages of keys
/// that expired (beforeSleep).
pub(crate) fn tick(e: &mut Engine) {
    if e.tracking.clients > 0 {
        limit(e);
    }
    invalidate_logged(e, None);
    if !e.tracking.per_turn {
        broadcast(e);
    }
}

/// The end of a host's event-loop turn (Redis's beforeSleep): the BCAST messages of the turn's changes.
pub(crate) fn end_turn(e: &mut Engine) {
    between_commands(e);
    invalidate_logged(e, None);
    broadcast(e);
}

/// A key deleted by expiry (lazy or active) is invalidated with no client behind the change, after its
/// `expired` event as Redis's deleteExpiredKeyAndPropagate signals it.
pub(crate) fn expired(e: &mut Engine, key: &[u8]) {
    invalidate(e, key, None, true);
}

/// A keyspace notification is about to be published for `key` (`crate::notify`): a change to it that the
/// command made so far is invalidated first, as Redis's commands signal a key before they notify its event, so
/// a connection that gets both sees them in Redis's order.
pub(crate) fn notified(e: &mut Engine, dbi: usize, key: &[u8]) {
    let mut changed = false;
    for db in e.dbs.iter_mut() {
        let logged = db.modified.len();
        db.modified.retain(|k| k.as_slice() != key);
        changed |= db.modified.len() != logged;
    }
    let now = e.now;
    let Engine { dbs, tracking, .. } = e;
    let before = tracking.frames.last_mut().and_then(|f| f.before.as_mut()).filter(|b| b.db == dbi);
    if let Some(before) = before {
        let was = before.keys.iter_mut().find(|(k, _)| k.as_slice() == key);
        if let (Some((_, was)), Some(d)) = (was, dbs.get(dbi)) {
            let is = value_of(d, key, now);
            if is != *was {
                // The change is told now; only a later one is told at the end of the command.
                *was = is;
                changed = true;
            }
        }
    }
    if changed {
        let by = e.tracking.frames.last().map(|f| f.client);
        invalidate(e, key, by, true);
    }
}

/// Takes `key` off a database's log, where its removal by expiry or eviction put it: that change is
/// invalidated on its own (`expired`, `evicted`), with no client behind it.
pub(crate) fn unlog(e: &mut Engine, dbi: usize, key: &[u8]) {
    if let Some(db) = e.dbs.get_mut(dbi) {
        if let Some(at) = db.modified.iter().rposition(|k| k.as_slice() == key) {
            db.modified.remove(at);
        }
    }
}

/// A key evicted for memory: invalidated with no client behind the change, before its `evicted` event.
pub(crate) fn evicted(e: &mut Engine, dbi: usize, key: &[u8]) {
    unlog(e, dbi, key);
    invalidate(e, key, None, true);
}

/// FLUSHDB, FLUSHALL or a reload emptied data (Redis's trackingInvalidateKeysOnFlush): every tracking client,
/// BCAST and NOLOOP ones too, gets a null invalidation, held for the client whose command flushed; the whole
/// tracking table is dropped, whichever database was flushed.
pub(crate) fn flushed(e: &mut Engine) {
    if !e.tracking.on {
        return;
    }
    if e.tracking.clients > 0 {
        // Redis walks its client list, which is in connection order, as ids are.
        let trackers: Vec<ClientId> =
            e.clients.iter().filter(|(_, c)| c.modes.tracking.is_some()).map(|(&id, _)| id).collect();
        for id in trackers {
            if e.tracking.current == Some(id) {
                e.tracking.pending.push(None);
            } else {
                send(e, id, Message::Flush);
            }
        }
    }
    e.tracking.keys.clear();
    e.tracking.items = 0;
    refresh(e);
}

/// The tracked keys a write command may change, with their values before it runs (a logically expired key
/// counts as missing: its deletion is signalled by the expiry itself).
fn snapshot(e: &Engine, db: usize, argv: &[&[u8]], spec: &CommandSpec, keys: &[(usize, &[&str])]) -> Option<Before> {
    if !spec.has(Flag::Write) || keys.is_empty() {
        return None;
    }
    let now = e.now;
    let d = e.db(db);
    let tracked = keys
        .iter()
        .filter_map(|&(at, _)| argv.get(at).copied())
        .filter(|k| e.tracking.keys.contains_key(k) || e.tracking.prefixed(k))
        .map(|k| (k.to_vec(), value_of(d, k, now)))
        .collect();
    Some(Before { db, keys: tracked })
}

fn value_of(db: &crate::db::Db, key: &[u8], now: u64) -> Option<Value> {
    if db.is_expired(key, now) {
        return None;
    }
    db.keys.get(key).map(|entry| entry.value.clone())
}

fn changed_in_place(e: &Engine, before: Before) -> Vec<Vec<u8>> {
    let d = e.db(before.db);
    before.keys.into_iter().filter(|(k, v)| value_of(d, k, e.now) != *v).map(|(k, _)| k).collect()
}

/// Invalidates what a command changed: the keys its databases logged and those it changed in place, each once,
/// in the order of the command's keys (`order`), then any other in the order logged.
fn signal_command(e: &mut Engine, client: ClientId, order: &[&[u8]], in_place: Vec<Vec<u8>>) {
    let mut changed = in_place;
    for db in e.dbs.iter_mut() {
        changed.append(&mut db.modified);
    }
    if changed.is_empty() {
        return;
    }
    let mut seen: hashbrown::HashSet<Vec<u8>> = hashbrown::HashSet::new();
    let mut ordered: Vec<Vec<u8>> = Vec::new();
    for key in order {
        if changed.iter().any(|c| c.as_slice() == *key) && seen.insert(key.to_vec()) {
            ordered.push(key.to_vec());
        }
    }
    for key in changed {
        if !seen.contains(&key) {
            seen.insert(key.clone());
            ordered.push(key);
        }
    }
    for key in ordered {
        invalidate(e, &key, Some(client), true);
    }
}

/// Invalidates every key the databases logged, in order, as changed by `by`.
fn invalidate_logged(e: &mut Engine, by: Option<ClientId>) {
    let mut changed = Vec::new();
    for db in e.dbs.iter_mut() {
        changed.append(&mut db.modified);
    }
    for key in changed {
        invalidate(e, &key, by, true);
    }
}

/// Remembers the keys a read-only command read for its client (Redis's trackingRememberKeys).
fn remember(e: &mut Engine, client: ClientId, argv: &[&[u8]], spec: &CommandSpec, keys: &[(usize, &[&str])]) {
    let Some(t) = e.clients.get(&client).and_then(|c| c.modes.tracking.as_ref()) else { return };
    if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
        return;
    }
    // Shard channels are keys to the command table, not to a cache.
    if spec.has(Flag::Pubsub) {
        return;
    }
    let order = client.swap_bytes();
    for &(at, _) in keys {
        let Some(key) = argv.get(at) else { continue };
        let ids = match e.tracking.keys.get_mut(key) {
            Some(ids) => ids,
            None => {
                e.tracking.keys.insert(key.to_vec(), Vec::new());
                match e.tracking.keys.get_mut(key) {
                    Some(ids) => ids,
                    None => continue,
                }
            }
        };
        if let Err(i) = ids.binary_search_by_key(&order, |id| id.swap_bytes()) {
            ids.insert(i, client);
            e.tracking.items += 1;
        }
    }
    refresh(e);
}

/// One changed key (Redis's trackingInvalidateKey): noted for the BCAST prefixes it is under when `bcast`,
/// and each client that read it is told once (not a NOLOOP client about its own change; the running command's
/// client after its reply) and forgotten for it.
fn invalidate(e: &mut Engine, key: &[u8], by: Option<ClientId>, bcast: bool) {
    if bcast && !e.tracking.prefixes.is_empty() {
        for (p, prefix) in e.tracking.prefixes.iter_mut() {
            if key.starts_with(p) {
                prefix.keys.insert(key.to_vec(), by);
            }
        }
    }
    let Some(ids) = e.tracking.keys.remove(key) else { return };
    e.tracking.items = e.tracking.items.saturating_sub(ids.len());
    for id in ids {
        // A client that turned tracking off, or switched to BCAST, since it read the key is skipped.
        let Some(t) = e.clients.get(&id).and_then(|c| c.modes.tracking.as_ref()) else { continue };
        if t.bcast {
            continue;
        }
        let current = e.tracking.current == Some(id);
        if t.noloop && current {
            continue;
        }
        if current && !e.tracking.frames.is_empty() {
            e.tracking.pending.push(Some(key.to_vec()));
        } else {
            send(e, id, Message::Keys(vec![key.to_vec()]));
        }
    }
    refresh(e);
}

/// Sends each BCAST client the changed keys under each of its prefixes, one message per prefix, keys in byte
/// order (Redis's trackingBroadcastInvalidationMessages); a NOLOOP client's own changes are left out.
fn broadcast(e: &mut Engine) {
    if e.tracking.clients == 0 || e.tracking.prefixes.values().all(|p| p.keys.is_empty()) {
        return;
    }
    let batches: Vec<(Vec<ClientId>, Changed)> = e
        .tracking
        .prefixes
        .values_mut()
        .filter(|p| !p.keys.is_empty())
        .map(|p| (p.clients.iter().copied().collect(), core::mem::take(&mut p.keys)))
        .collect();
    for (clients, keys) in batches {
        for id in clients {
            let noloop = e.clients.get(&id).and_then(|c| c.modes.tracking.as_ref()).is_some_and(|t| t.noloop);
            let list: Vec<Vec<u8>> =
                keys.iter().filter(|(_, by)| !(noloop && **by == Some(id))).map(|(k, _)| k.clone()).collect();
            if !list.is_empty() {
                send(e, id, Message::Keys(list));
            }
        }
    }
}

/// Keeps the tracking table within `tracking-table-max-keys` (0: no limit) by invalidating random keys, at
/// most 100 per round, 100 more for each round in a row that could not get under it (Redis's
/// trackingLimitUsedSlots).
fn limit(e: &mut Engine) {
    let max = e.config.tracking_table_max_keys;
    if max == 0 {
        return;
    }
    if e.tracking.keys.len() as u64 <= max {
        e.tracking.over_limit = 0;
        return;
    }
    let effort = 100 * (e.tracking.over_limit as u64 + 1);
    for _ in 0..effort {
        let Some(key) = e.tracking.keys.random(&mut e.rng).map(|(k, _)| k.to_vec()) else { break };
        invalidate(e, &key, None, false);
        if e.tracking.keys.len() as u64 <= max {
            e.tracking.over_limit = 0;
            return;
        }
    }
    e.tracking.over_limit = e.tracking.over_limit.saturating_add(1);
}

/// Delivers one invalidation for `client` (Redis's sendTrackingMessage): to its redirect target if it has one,
/// in the target's protocol. A RESP2 client gets nothing unless it is a redirect target in pub/sub mode.
fn send(e: &mut Engine, client: ClientId, msg: Message) {
    let Some(cl) = e.clients.get_mut(&client) else { return };
    let resp = cl.resp;
    let redirect = cl.modes.tracking.as_ref().map_or(0, |t| t.redirect);
    let (mut target, redirected) = (client, redirect != 0);
    if redirected {
        let gone = !u64::try_from(redirect).is_ok_and(|id| e.clients.contains_key(&id));
        if gone {
            if let Some(t) = e.clients.get_mut(&client).and_then(|c| c.modes.tracking.as_mut()) {
                t.broken_redirect = true;
            }
            if resp >= 3 {
                let broken = Reply::Push(vec![Reply::bulk_str("tracking-redir-broken"), Reply::Integer(redirect)]);
                deliver(e, client, broken);
            }
            return;
        }
        target = redirect as ClientId;
    }
    let keys = match msg {
        Message::Keys(keys) => Reply::Array(keys.into_iter().map(Reply::Bulk).collect()),
        Message::Flush => Reply::NullOf(resp),
    };
    let push = if e.resp_of(target) >= 3 {
        Reply::Push(vec![Reply::bulk_str("invalidate"), keys])
    } else if redirected && e.pubsub.is_subscribed(target) {
        Reply::Push(vec![Reply::bulk_str("message"), Reply::bulk_str(CHANNEL), keys])
    } else {
        return;
    };
    deliver(e, target, push);
}

/// A message for the client whose command has its reply goes after that reply; any other at once.
fn deliver(e: &mut Engine, to: ClientId, push: Reply) {
    if e.tracking.replied && e.tracking.current == Some(to) {
        e.push_after_reply(to, push);
    } else {
        e.push(to, push);
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    use crate::{Config, Engine, Reply};

    fn run(e: &mut Engine, client: u64, line: &str) -> Reply {
        e.run_line(client, line, 1_000).unwrap_or(Reply::Nil)
    }

    fn invalidate(keys: &[&str]) -> Reply {
        let keys = keys.iter().map(|k| Reply::bulk_str(k)).collect();
        Reply::Push(vec![Reply::bulk_str("invalidate"), Reply::Array(keys)])
    }

    fn info(e: &mut Engine, client: u64) -> String {
        match run(e, client, "INFO") {
            Reply::Verbatim(_, text) | Reply::Bulk(text) => String::from_utf8(text).unwrap_or_default(),
            _ => String::new(),
        }
    }

    fn figure(e: &mut Engine, client: u64, name: &str) -> u64 {
        let text = info(e, client);
        let line = text.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')));
        line.and_then(|v| v.trim().parse().ok()).unwrap_or(u64::MAX)
    }

    /// Two RESP3 clients, the first tracking in default mode.
    fn tracked() -> (Engine, u64, u64) {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(1_000), e.connect(1_000));
        run(&mut e, a, "HELLO 3");
        assert_eq!(run(&mut e, a, "CLIENT TRACKING ON"), Reply::ok());
        (e, a, b)
    }

    #[test]
    fn a_read_key_is_invalidated_once_and_forgotten() {
        let (mut e, a, b) = tracked();
        run(&mut e, a, "GET k");
        assert_eq!((e.tracking.total_keys(), e.tracking.total_items()), (1, 1));
        run(&mut e, b, "SET k 1");
        assert_eq!(e.drain_pushes(), vec![(a, invalidate(&["k"]))]);
        assert_eq!((e.tracking.total_keys(), e.tracking.total_items()), (0, 0), "the key is forgotten");
        run(&mut e, b, "SET k 2");
        assert!(e.drain_pushes().is_empty(), "one message per read");
    }

    #[test]
    fn the_writers_own_message_follows_its_reply() {
        let (mut e, a, _) = tracked();
        run(&mut e, a, "GET k");
        assert_eq!(run(&mut e, a, "SET k 1"), Reply::ok());
        assert!(e.drain_pushes().is_empty(), "nothing before the reply");
        assert_eq!(e.drain_pushes_after_reply(), vec![(a, invalidate(&["k"]))]);
    }

    #[test]
    fn tracking_off_and_disconnect_keep_the_table_as_redis_does() {
        let (mut e, a, b) = tracked();
        let c = e.connect(1_000);
        run(&mut e, c, "HELLO 3");
        run(&mut e, c, "CLIENT TRACKING ON");
        run(&mut e, a, "MGET x y");
        run(&mut e, c, "GET x");
        assert_eq!((e.tracking.clients(), e.tracking.total_keys(), e.tracking.total_items()), (2, 2, 3));
        // OFF and a disconnect stop the messages at once; the entries go when their key changes.
        run(&mut e, a, "CLIENT TRACKING OFF");
        e.disconnect(c);
        assert_eq!((e.tracking.clients(), e.tracking.total_keys(), e.tracking.total_items()), (0, 2, 3));
        run(&mut e, b, "SET x 1");
        assert!(e.drain_pushes().is_empty(), "neither client is told");
        assert_eq!((e.tracking.total_keys(), e.tracking.total_items()), (1, 1));
        // A client that tracks again before its key changes hears about it, as in Redis.
        run(&mut e, a, "CLIENT TRACKING ON");
        run(&mut e, b, "SET y 1");
        assert_eq!(e.drain_pushes(), vec![(a, invalidate(&["y"]))]);
        run(&mut e, a, "CLIENT TRACKING OFF");
        assert!(!e.tracking.on, "nothing tracked: commands take the untracked path again");
        assert!(e.dbs.iter().all(|db| !db.log_modified));
    }

    #[test]
    fn disconnect_drops_the_prefixes_of_a_bcast_client() {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(1_000), e.connect(1_000));
        run(&mut e, a, "CLIENT TRACKING ON BCAST PREFIX x PREFIX y");
        run(&mut e, b, "CLIENT TRACKING ON BCAST PREFIX x");
        assert_eq!(e.tracking.total_prefixes(), 2);
        e.disconnect(a);
        assert_eq!(e.tracking.total_prefixes(), 1, "x stays for the other client");
        assert_eq!(figure(&mut e, b, "tracking_total_prefixes"), 1);
        assert_eq!(figure(&mut e, b, "tracking_clients"), 1);
        run(&mut e, b, "RESET");
        assert_eq!((e.tracking.clients(), e.tracking.total_prefixes()), (0, 0));
    }

    #[test]
    fn the_table_is_kept_within_max_keys() {
        let (mut e, a, b) = tracked();
        run(&mut e, b, "CONFIG SET tracking-table-max-keys 2");
        run(&mut e, a, "MGET k1 k2 k3 k4");
        assert_eq!(e.tracking.total_keys(), 4, "the limit applies before a command, not during it");
        e.drain_pushes_after_reply();
        run(&mut e, b, "PING");
        assert_eq!(e.tracking.total_keys(), 2);
        let pushes = e.drain_pushes();
        assert_eq!(pushes.len(), 2, "two random keys were invalidated: {pushes:?}");
        assert!(pushes.iter().all(|(to, p)| *to == a && matches!(p, Reply::Push(_))));
        run(&mut e, b, "CONFIG SET tracking-table-max-keys 1");
        e.tick(2_000);
        assert_eq!((e.tracking.total_keys(), e.tracking.total_items()), (1, 1), "tick applies it too");
        assert_eq!(e.drain_pushes().len(), 1);
        run(&mut e, b, "CONFIG SET tracking-table-max-keys 0");
        run(&mut e, a, "MGET k5 k6 k7");
        run(&mut e, b, "PING");
        assert_eq!(e.tracking.total_keys(), 4, "0 is no limit");
    }

    #[test]
    fn flush_drops_the_table_and_sends_a_null_to_every_tracker() {
        let (mut e, a, b) = tracked();
        run(&mut e, b, "CLIENT TRACKING ON BCAST");
        run(&mut e, a, "MGET x y");
        run(&mut e, a, "SELECT 5");
        assert_eq!(run(&mut e, a, "FLUSHDB"), Reply::ok());
        assert_eq!(e.tracking.total_keys(), 0, "whichever database was flushed");
        // RESP2 client b gets nothing (it has no redirect); a's own null comes after its reply.
        assert!(e.drain_pushes().is_empty());
        let null = Reply::Push(vec![Reply::bulk_str("invalidate"), Reply::NullOf(3)]);
        assert_eq!(e.drain_pushes_after_reply(), vec![(a, null)]);
    }

    #[test]
    fn debug_reload_flushes_as_redis_does() {
        let mut e = Engine::new(Config { enable_debug_command: "yes".into(), ..Config::default() });
        let (a, b) = (e.connect(1_000), e.connect(1_000));
        run(&mut e, a, "HELLO 3");
        run(&mut e, a, "CLIENT TRACKING ON");
        run(&mut e, a, "GET k");
        assert_eq!(run(&mut e, b, "DEBUG RELOAD"), Reply::ok());
        assert_eq!(e.drain_pushes(), vec![(a, Reply::Push(vec![Reply::bulk_str("invalidate"), Reply::NullOf(3)]))]);
        assert_eq!(e.tracking.total_keys(), 0);
    }

    #[test]
    fn in_place_changes_of_tracked_keys_are_found() {
        let (mut e, a, b) = tracked();
        run(&mut e, b, "RPUSH l x");
        run(&mut e, b, "SADD s m");
        run(&mut e, a, "LRANGE l 0 -1");
        run(&mut e, a, "SMEMBERS s");
        run(&mut e, b, "SADD s m");
        assert!(e.drain_pushes().is_empty(), "no change, no message");
        run(&mut e, b, "RPUSH l y");
        run(&mut e, b, "SADD s n");
        assert_eq!(e.drain_pushes(), vec![(a, invalidate(&["l"])), (a, invalidate(&["s"]))]);
    }

    #[test]
    fn lmove_signals_its_destination_first() {
        let (mut e, a, b) = tracked();
        run(&mut e, b, "RPUSH src x y");
        run(&mut e, b, "RPUSH dst z");
        run(&mut e, a, "LRANGE src 0 -1");
        run(&mut e, a, "LRANGE dst 0 -1");
        run(&mut e, b, "LMOVE src dst LEFT RIGHT");
        assert_eq!(e.drain_pushes(), vec![(a, invalidate(&["dst"])), (a, invalidate(&["src"]))]);
    }

    /// As redis-server with DEBUG SET-ACTIVE-EXPIRE 0 answers: a key a client's own read expires is invalidated
    /// after that read's reply (and tracked again), not for a NOLOOP client, but for a NOLOOP BCAST client, as
    /// an expiry has no client behind it.
    #[test]
    fn a_key_expired_by_its_readers_lookup() {
        let (mut e, a, b) = tracked();
        let get = |e: &mut Engine, now| e.run_line(a, "GET e", now).unwrap_or(Reply::Nil);
        e.run_line(b, "SET e 1 PX 100", 1_000);
        get(&mut e, 1_000);
        assert_eq!(get(&mut e, 2_000), Reply::Nil);
        assert!(e.drain_pushes().is_empty());
        assert_eq!(e.drain_pushes_after_reply(), vec![(a, invalidate(&["e"]))]);
        assert_eq!(e.tracking.total_keys(), 1, "the read tracks the key again");
        e.run_line(a, "CLIENT TRACKING on noloop", 2_000);
        e.run_line(b, "SET e 1 PX 100", 2_000);
        e.drain_pushes();
        get(&mut e, 2_000);
        get(&mut e, 3_000);
        assert!(e.drain_pushes().is_empty() && e.drain_pushes_after_reply().is_empty());
        e.run_line(a, "CLIENT TRACKING off", 3_000);
        e.run_line(a, "CLIENT TRACKING on bcast noloop", 3_000);
        e.run_line(b, "SET e 1 PX 100", 3_000);
        assert_eq!(e.drain_pushes(), vec![(a, invalidate(&["e"]))]);
        get(&mut e, 4_000);
        assert_eq!(e.drain_pushes_after_reply(), vec![(a, invalidate(&["e"]))]);
    }

    /// A vanished redirect target: a RESP3 tracker is told at each message due, and CLIENT INFO and
    /// TRACKINGINFO show the broken redirect until tracking is enabled again (CLIENT LIST's flag `R` after `t`).
    #[test]
    fn a_broken_redirect_is_told_and_shown() {
        let (mut e, a, b) = tracked();
        let c = e.connect(1_000);
        run(&mut e, a, &alloc::format!("CLIENT TRACKING ON REDIRECT {b}"));
        run(&mut e, a, "GET k");
        e.disconnect(b);
        run(&mut e, c, "SET k 1");
        let broken = Reply::Push(vec![Reply::bulk_str("tracking-redir-broken"), Reply::Integer(b as i64)]);
        assert_eq!(e.drain_pushes(), vec![(a, broken)]);
        let info = |e: &mut Engine| match run(e, a, "CLIENT INFO") {
            Reply::Verbatim(_, t) | Reply::Bulk(t) => String::from_utf8(t).unwrap_or_default(),
            _ => String::new(),
        };
        assert!(info(&mut e).contains(" flags=tR "), "{}", info(&mut e));
        run(&mut e, a, &alloc::format!("CLIENT TRACKING ON REDIRECT {c}"));
        assert!(info(&mut e).contains(" flags=t "), "{}", info(&mut e));
    }

    /// A tick comes between commands: what it expires reaches even the last command's client as a plain push.
    #[test]
    fn expiry_in_a_tick_is_a_plain_push() {
        let (mut e, a, _) = tracked();
        e.run_line(a, "SET e 1 PX 100", 1_000);
        e.run_line(a, "GET e", 1_000);
        assert!(e.drain_pushes_after_reply().is_empty());
        e.tick(2_000);
        assert_eq!(e.drain_pushes(), vec![(a, invalidate(&["e"]))]);
        assert!(e.drain_pushes_after_reply().is_empty());
    }

    #[test]
    fn untracked_engine_keeps_no_log() {
        let mut e = Engine::new(Config::default());
        let a = e.connect(1_000);
        run(&mut e, a, "SET k v");
        assert!(!e.tracking.on);
        assert!(e.dbs.iter().all(|db| db.modified.is_empty()));
        let keys: Vec<usize> = e.dbs.iter().map(|db| db.modified.capacity()).collect();
        assert!(keys.iter().all(|&c| c == 0), "nothing was ever logged");
    }
}
