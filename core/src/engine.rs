//! The engine: databases, clients, the command path and time-driven work.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::acl::{self, Acl};
use crate::blocking::{self, Blocking};
use crate::cmd::{self, Handler};
use crate::config::Config;
use crate::db::Db;
use crate::error::Error;
use crate::multi::{self, Multi};
use crate::notify::{self, Events, KeyEvent};
use crate::pubsub::{self, PubSub};
use crate::reply::Reply;
use crate::table::{self, CommandSpec};
use crate::util::Rng;
use crate::value::Entry;
use crate::vecmap::VecMap;

pub type ClientId = u64;

/// One connection's state.
#[derive(Clone, Debug)]
pub struct Client {
    pub id: ClientId,
    pub name: Option<Vec<u8>>,
    pub db: usize,
    /// Protocol version for replies: 2 or 3 (HELLO).
    pub resp: u8,
    pub created_ms: u64,
    pub last_interaction_ms: u64,
    /// Full name of the last command run (`client|list`), for CLIENT LIST's `cmd=`.
    pub last_cmd: &'static str,
    /// Set by QUIT (and CLIENT KILL later): the caller closes the connection after sending the reply.
    pub closing: bool,
    /// `ip:port` as the caller reports it (the server's peer address; a made-up one in the browser).
    pub addr: String,
    pub laddr: String,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    /// Whether the client authenticated (Redis's `c->authenticated`): from the start when the `default` user
    /// is `on` and `nopass` (no `requirepass`), else once AUTH succeeds. Only while `default` needs a password
    /// does a client that has not authenticated run just the `no_auth` commands (`Engine::auth_required`).
    pub authenticated: bool,
    /// CLIENT REPLY, TRACKING and NO-EVICT settings, and MONITOR mode; see `crate::cmd::connection`.
    pub modes: crate::cmd::connection::Modes,
    /// The ACL user the client runs as (`default` until AUTH names another).
    pub user: Vec<u8>,
    /// The client's commands go through the ACL check: its user may not run everything on every key and
    /// channel. Kept up to date by `crate::acl` whenever the user or its rules change, so that a client of an
    /// unrestricted user (`default` unless changed) pays one test per command.
    pub acl_checked: bool,
}

/// Counters INFO reports.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub total_commands: u64,
    pub total_connections: u64,
    pub expired_stale_perc: f64,
    pub expire_cycle_cpu_ms: u64,
    /// Error replies, counted by their first word (`ERR`, `WRONGTYPE`), for INFO errorstats.
    pub errors: VecMap<String, u64>,
    pub total_error_replies: u64,
    /// Calls per command full name, for INFO commandstats.
    pub commands: VecMap<&'static str, CommandStats>,
}

/// One command's counters in INFO commandstats.
#[derive(Clone, Copy, Debug, Default)]
pub struct CommandStats {
    pub calls: u64,
    /// Refused before running (wrong arity).
    pub rejected_calls: u64,
    /// Ran and answered an error.
    pub failed_calls: u64,
}

impl Stats {
    /// Counts an error reply under its first word, as Redis's errorstats do.
    pub fn count_error(&mut self, reply: &Reply) {
        if let Reply::Error(e) = reply {
            let text = alloc::format!("{e}");
            let code = text.split(' ').next().unwrap_or("ERR");
            *self.errors.entry(String::from(code)).or_insert(0) += 1;
            self.total_error_replies += 1;
        }
    }
}

/// The arguments and context of one command call, handed to its handler.
pub struct Ctx<'a> {
    pub argv: &'a [&'a [u8]],
    pub client: ClientId,
    /// The client's selected database.
    pub db: usize,
    pub spec: &'static CommandSpec,
}

impl Ctx<'_> {
    /// Argument `i` (0 is the command name); arity checks make the indexes a handler uses present,
    /// and a missing one reads as empty rather than panicking.
    pub fn arg(&self, i: usize) -> &[u8] {
        self.argv.get(i).copied().unwrap_or(b"")
    }

    pub fn argc(&self) -> usize {
        self.argv.len()
    }
}

pub struct Engine {
    pub dbs: Vec<Db>,
    /// Answers `db(i)` for an index out of range instead of a panic (see `db`).
    scratch: Db,
    pub clients: VecMap<ClientId, Client>,
    pub config: Config,
    pub stats: Stats,
    pub rng: Rng,
    /// Time of the command being executed (unix ms), as passed by the caller.
    pub now: u64,
    /// The first time the engine was given, for uptime.
    pub started_ms: u64,
    /// Writes since the last save, as Redis's `dirty` counter.
    pub dirty: u64,
    /// Clients blocked on keys (BLPOP and friends); see `crate::blocking`.
    pub blocking: Blocking,
    /// Pub/sub subscriptions; see `crate::pubsub`.
    pub pubsub: PubSub,
    /// Clients' transactions (MULTI) and watched keys; see `crate::multi`.
    pub multi: Multi,
    /// Keyspace events logged for a host (`capture_events`) and the `new`-event bookkeeping; see `crate::notify`.
    pub(crate) events: Events,
    /// Snapshots: where SAVE writes, LASTSAVE and INFO persistence; see `crate::rdb`.
    pub persistence: crate::rdb::Persistence,
    /// The commands propagated for a host's AOF; see `crate::propagate`.
    pub(crate) propagation: crate::propagate::Propagation,
    /// Set while an AOF is replayed (Redis's `server.loading`): keys do not expire, and times already past
    /// are stored as given, so the replay rebuilds exactly what the commands built.
    pub(crate) loading: bool,
    /// The slow log and the monitors; see `crate::slowlog`.
    pub slowlog: crate::slowlog::Slowlog,
    /// CLIENT PAUSE and the commands it postponed; see `crate::pause`.
    pub pause: crate::pause::Pause,
    /// DEBUG SET-ACTIVE-EXPIRE: whether `tick` expires keys.
    pub active_expire: bool,
    /// ACL users and the ACL LOG; see `crate::acl`.
    pub acl: Acl,
    /// The highest used memory after a command (INFO used_memory_peak); CONFIG RESETSTAT keeps it, as Redis does.
    pub peak_memory: u64,
    /// The eviction candidate pool and the random policies' next database; see `crate::evict`.
    pub(crate) eviction: crate::evict::Eviction,
    /// The databases where the running command noted keys changed in place (`Db::entry_for_change`), to
    /// charge them again when it ends; see `crate::evict`.
    pub(crate) changed_dbs: Vec<usize>,
    /// Set once a client has turned its replies off or skipped one (CLIENT REPLY OFF|SKIP, a repeated MONITOR):
    /// from then on every reply goes through `cmd::connection::filter_reply`, which looks its client up. Until
    /// then no command pays for that lookup.
    pub(crate) reply_modes: bool,
    /// Client-side caching: the tracking table and BCAST prefixes; see `crate::tracking`.
    pub tracking: crate::tracking::Table,
    next_client_id: ClientId,
    pushes: VecDeque<(ClientId, Reply)>,
    /// Pushes a command made to its own client that go on the wire after its reply (`drain_pushes_after_reply`).
    pushes_after_reply: Vec<(ClientId, Reply)>,
    handlers: Handlers,
}

/// The implemented commands by full name (`get`, `client|list`): an open-addressing table of indexes into
/// `entries`, hashed with FNV-1a. Every command starts with a lookup here, and a general-purpose map spends
/// more on hashing a four-byte name than this whole search (BENCHMARKS.md, the server profile).
struct Handlers {
    /// Index + 1 into `entries`, 0 for an empty slot; a power-of-two count at least four times the entries.
    slots: Vec<u16>,
    entries: Vec<(&'static CommandSpec, Handler)>,
}

impl Handlers {
    fn new(all: impl Iterator<Item = (&'static CommandSpec, Handler)>) -> Handlers {
        let entries: Vec<_> = all.collect();
        let size = (entries.len() * 4).next_power_of_two().max(16);
        let mut table = Handlers { slots: alloc::vec![0; size], entries: Vec::new() };
        for (spec, handler) in entries {
            if table.get(spec.name.as_bytes()).is_some() {
                continue;
            }
            let mut i = Self::hash(spec.name.as_bytes()) & (size - 1);
            while table.slots.get(i).is_some_and(|&s| s != 0) {
                i = (i + 1) & (size - 1);
            }
            table.entries.push((spec, handler));
            if let Some(slot) = table.slots.get_mut(i) {
                *slot = table.entries.len() as u16;
            }
        }
        table
    }

    fn hash(name: &[u8]) -> usize {
        name.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ b as u32).wrapping_mul(0x0100_0193)) as usize
    }

    /// The command whose full name is `name` (lower case).
    #[inline]
    fn get(&self, name: &[u8]) -> Option<&(&'static CommandSpec, Handler)> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = Self::hash(name) & mask;
        // The table is at most a quarter full, so a probe ends at an empty slot within a few steps.
        loop {
            let slot = *self.slots.get(i)?;
            let entry = self.entries.get(usize::from(slot).checked_sub(1)?)?;
            if entry.0.name.as_bytes() == name {
                return Some(entry);
            }
            i = (i + 1) & mask;
        }
    }

    fn contains_key(&self, name: &str) -> bool {
        self.get(name.as_bytes()).is_some()
    }
}

/// How many random volatile keys active expiry looks at per database and round (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const EXPIRE_KEYS_PER_LOOP: usize = 20;
/// Rounds repeat while more than this percent of the sample was expired (ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE).
const EXPIRE_ACCEPTABLE_STALE: usize = 10;
/// A bound on rounds per `tick` so one tick stays short however much is due.
const EXPIRE_MAX_ROUNDS: usize = 64;

impl Engine {
    pub fn new(config: Config) -> Engine {
        let mut rng = Rng::new(config.seed);
        let dbs = (0..config.databases.max(1)).map(|_| Db::new(rng.next_u64())).collect();
        let handlers =
            Handlers::new(cmd::all_handlers().filter_map(|&(name, handler)| Some((find_spec(name)?, handler))));
        let acl = Acl::new(&config.requirepass);
        // The tracking table's hash seed comes from the configured one: drawing it from the PRNG would move
        // every later random choice.
        let tracking = crate::tracking::Table::new(config.seed ^ 0x7472_6163_6b69_6e67);
        Engine {
            acl,
            dbs,
            scratch: Db::new(0),
            clients: VecMap::new(),
            config,
            stats: Stats::default(),
            rng,
            now: 0,
            started_ms: 0,
            dirty: 0,
            blocking: Blocking::default(),
            pubsub: PubSub::default(),
            multi: Multi::default(),
            events: Events::default(),
            persistence: crate::rdb::Persistence::new(),
            propagation: crate::propagate::Propagation::default(),
            loading: false,
            slowlog: Default::default(),
            pause: Default::default(),
            active_expire: true,
            peak_memory: 0,
            eviction: crate::evict::Eviction::default(),
            changed_dbs: Vec::new(),
            reply_modes: false,
            tracking,
            next_client_id: 1,
            pushes: VecDeque::new(),
            pushes_after_reply: Vec::new(),
            handlers,
        }
    }

    /// Opens a client. `now` is the connection time.
    pub fn connect(&mut self, now: u64) -> ClientId {
        self.advance_clock(now);
        let id = self.next_client_id;
        self.next_client_id += 1;
        self.stats.total_connections += 1;
        self.clients.insert(
            id,
            Client {
                id,
                name: None,
                db: 0,
                resp: 2,
                created_ms: now,
                last_interaction_ms: now,
                last_cmd: "NULL",
                closing: false,
                addr: alloc::format!("127.0.0.1:{}", 40000 + id % 20000),
                laddr: String::from("127.0.0.1:6379"),
                lib_name: None,
                lib_ver: None,
                authenticated: self.acl.default_authenticated(),
                user: b"default".to_vec(),
                acl_checked: self.acl.is_restricted(b"default"),
                modes: Default::default(),
            },
        );
        // A client takes memory too.
        self.record_peak();
        id
    }

    pub fn disconnect(&mut self, id: ClientId) {
        blocking::unblock(self, id);
        self.pubsub.remove_client(id);
        multi::discard(self, id);
        crate::slowlog::disconnected(self, id);
        crate::pause::disconnected(self, id);
        crate::tracking::disable(self, id);
        self.clients.remove(&id);
        self.pushes.retain(|(c, _)| *c != id);
        self.pushes_after_reply.retain(|(c, _)| *c != id);
    }

    pub fn client(&self, id: ClientId) -> Option<&Client> {
        self.clients.get(&id)
    }

    pub fn client_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.clients.get_mut(&id)
    }

    /// The protocol version of a client (2 for unknown ids).
    pub fn resp_of(&self, id: ClientId) -> u8 {
        self.clients.get(&id).map_or(2, |c| c.resp)
    }

    /// Whether the client must authenticate before running most commands: the `default` user needs a password
    /// (or is `off`) and the client has not authenticated (Redis's authRequired). A host also uses it for the
    /// stricter request limits Redis applies before AUTH.
    pub fn auth_required(&self, id: ClientId) -> bool {
        !self.acl.default_open && self.clients.get(&id).is_some_and(|c| !c.authenticated)
    }

    /// Whether the client asked to be closed (QUIT); the caller closes it after delivering the reply.
    pub fn is_closing(&self, id: ClientId) -> bool {
        self.clients.get(&id).is_some_and(|c| c.closing)
    }

    /// Whether the client waits in a blocking command (BLPOP...); its reply will come through the pushes.
    #[inline]
    pub fn is_blocked(&self, id: ClientId) -> bool {
        self.blocking.is_blocked(id) || self.pause.is_postponed(id)
    }

    /// What a host that has a clock and can block lends the engine: a monotonic timer in microseconds, to time
    /// each command for the slow log, and a sleep for DEBUG SLEEP (see `crate::slowlog`). Optional: without
    /// them commands take no time and DEBUG SLEEP returns at once. Nothing else depends on them.
    pub fn set_host(&mut self, timer: fn() -> u64, sleep: fn(u64)) {
        self.slowlog.timer = Some(timer);
        self.slowlog.sleep = Some(sleep);
    }

    /// Runs one command for `client` at time `now` (unix ms).
    /// `None` means there is no reply to send now: an empty command, or a command that blocked the client,
    /// whose reply comes later through `drain_pushes`. A blocked client's commands are refused.
    pub fn execute(&mut self, client: ClientId, argv: &[&[u8]], now: u64) -> Option<Reply> {
        let reply = self.execute_command(client, argv, now);
        // CLIENT REPLY OFF/SKIP drop the reply; a CLIENT UNPAUSE or a pause run out releases postponed commands.
        let reply = if self.reply_modes { crate::cmd::connection::filter_reply(self, client, reply) } else { reply };
        crate::pause::resume_if_over(self);
        reply
    }

    fn execute_command(&mut self, client: ClientId, argv: &[&[u8]], now: u64) -> Option<Reply> {
        let name = argv.first()?;
        self.advance_clock(now);
        // What the checks below need of the client, read once (each lookup is a search of the client table).
        let Some(&Client { authenticated, resp, .. }) = self.clients.get(&client) else {
            return Some(Reply::Error(Error::other("ERR unknown client")));
        };
        if self.is_blocked(client) {
            return Some(Reply::Error(Error::other("ERR client is blocked")));
        }
        // Waiters whose time is up are answered first, as Redis's beforeSleep does between commands.
        blocking::handle_timeouts(self);
        let (spec, handler) = match self.resolve(argv) {
            Ok(found) => found,
            Err(e) => {
                // A known command refused for its arguments counts as a rejected call (an unknown subcommand
                // counts against its container); an unknown command has no counter.
                let refused = match &e {
                    Error::WrongArity(full) => find_spec(full),
                    Error::UnknownSubcommand { .. } => lower_name(name, &mut [0; 32]).and_then(table::lookup),
                    _ => None,
                };
                if let Some(spec) = refused {
                    self.stats.commands.entry(spec.name).or_default().rejected_calls += 1;
                }
                // Inside MULTI a refused command makes EXEC fail; a refused EXEC ends the transaction.
                let reply = multi::refused(self, client, argv, e);
                self.stats.count_error(&reply);
                return Some(reply);
            }
        };
        let _ = name;
        // With a password set, only `no_auth` commands (AUTH, HELLO, QUIT, ...) run before AUTH; the command's
        // existence and arity were checked first, as in Redis's processCommand. A refusal here and below is
        // Redis's rejectCommand: a rejected call, a transaction flagged, an EXEC answering EXECABORT.
        if !spec.has(crate::table::Flag::NoAuth) && !self.acl.default_open && !authenticated {
            self.stats.commands.entry(spec.name).or_default().rejected_calls += 1;
            let reply = multi::refused(self, client, argv, Error::NoAuth);
            self.stats.count_error(&reply);
            return Some(reply);
        }
        let (db, acl_checked) = match self.clients.get_mut(&client) {
            Some(c) => {
                c.last_interaction_ms = now;
                c.last_cmd = spec.name;
                (c.db, c.acl_checked)
            }
            None => (0, false),
        };
        // ACL permissions, only for a client whose user may not do everything (one flag test otherwise).
        if acl_checked {
            if let Err(e) = acl::check_command(self, &Ctx { argv, client, db, spec }) {
                self.stats.commands.entry(spec.name).or_default().rejected_calls += 1;
                let reply = multi::refused(self, client, argv, e);
                self.stats.count_error(&reply);
                return Some(reply);
            }
        }
        // With `maxmemory` set, keys are evicted before the command, and a command that could take more memory
        // is refused when nothing can be freed (Redis's processCommand, before the pub/sub context check).
        if self.config.maxmemory != 0 {
            // Keys evicted now are told to tracking clients before this command's reply, NOLOOP excepting its own.
            if self.tracking.on {
                crate::tracking::processing(self, client);
            }
            if let Some(e) = self.check_memory(client, spec) {
                self.stats.commands.entry(spec.name).or_default().rejected_calls += 1;
                let reply = multi::refused(self, client, argv, e);
                self.stats.count_error(&reply);
                return Some(reply);
            }
        }
        // A RESP2 client in pub/sub mode runs only the (un)subscribe commands, PING, QUIT and RESET; the refusal
        // counts as a rejected call, as Redis's rejectCommand does.
        if let Err(e) = pubsub::check_subscribed_context(self, client, resp, spec.name) {
            self.stats.commands.entry(spec.name).or_default().rejected_calls += 1;
            let reply = multi::refused(self, client, argv, e);
            self.stats.count_error(&reply);
            return Some(reply);
        }
        // While clients are paused the command waits (Redis checks the pause before queueing in MULTI).
        if crate::pause::postpone(self, client, spec, argv) {
            return None;
        }
        // Inside MULTI the command is queued (or refused) instead of run.
        if let Some(reply) = multi::queue(self, client, spec, handler, argv) {
            self.stats.count_error(&reply);
            return Some(reply);
        }
        let reply = self.call(client, db, argv, spec, handler);
        // The command's unit ends here: clients it unblocks are served as units of their own.
        crate::propagate::end_unit(self);
        if self.is_blocked(client) {
            return None;
        }
        blocking::handle_clients_blocked_on_keys(self);
        // Served clients changed values in place (a pop, a move).
        self.settle_memory();
        notify::flush_new(self);
        #[cfg(test)]
        self.check_memory_accounting();
        Some(reply)
    }

    /// Runs one resolved command and counts it, as Redis's call(): from `execute`, and from EXEC for each
    /// queued command. While keys are tracked for client-side caching, `crate::tracking::call` runs it.
    pub(crate) fn call(&mut self, client: ClientId, db: usize, argv: &[&[u8]], spec: &'static CommandSpec, handler: Handler) -> Reply {
        if self.tracking.on {
            return crate::tracking::call(self, client, db, argv, spec, handler);
        }
        self.call_untracked(client, db, argv, spec, handler)
    }

    /// `call` without client-side caching's bookkeeping. Watched keys the command changes in place are signalled
    /// here (`multi::compare`).
    #[inline]
    pub(crate) fn call_untracked(
        &mut self,
        client: ClientId,
        db: usize,
        argv: &[&[u8]],
        spec: &'static CommandSpec,
        handler: Handler,
    ) -> Reply {
        let ctx = Ctx { argv, client, db, spec };
        let watched = multi::snapshot(self, db, spec);
        let used_before = self.dbs.get(db).map_or(0, |d| d.used_memory());
        notify::prepare(self);
        let dirty_before = self.dirty;
        let saved_own = self.propagation.own.take();
        let started = self.slowlog.timer.map(|now| now());
        let reply = handler(self, &ctx);
        let micros = match (self.slowlog.timer, started) {
            (Some(now), Some(start)) => now().saturating_sub(start),
            _ => 0,
        };
        let own = core::mem::replace(&mut self.propagation.own, saved_own);
        if self.propagation.active() {
            // Propagated to the client's database after the command (SELECT inside EXEC moves it).
            let db_after = self.clients.get(&client).map_or(db, |c| c.db);
            crate::propagate::after_call(self, db_after, argv, self.dirty > dirty_before, spec.name == "exec", own);
        }
        self.settle_memory();
        // Redis records the peak after every command. Here only a command that made its own database grow
        // records it, which spares the sum over databases on every other command; data moved into another
        // database (MOVE, COPY ... DB) is seen at the next growth, and INFO never shows a peak below used memory.
        if self.dbs.get(db).is_some_and(|d| d.used_memory() > used_before) {
            self.record_peak();
        }
        notify::flush_new(self);
        multi::compare(self, db, watched);
        crate::slowlog::record(self, client, db, argv, spec, micros);
        // Counted after the call, as Redis's call() does: INFO does not count itself, CONFIG RESETSTAT does.
        self.stats.total_commands += 1;
        let cmd_stats = self.stats.commands.entry(spec.name).or_default();
        cmd_stats.calls += 1;
        if reply.is_error() {
            cmd_stats.failed_calls += 1;
            self.stats.count_error(&reply);
        }
        reply
    }

    /// Runs a command and encodes its reply in the client's protocol.
    pub fn execute_resp(&mut self, client: ClientId, argv: &[&[u8]], now: u64) -> Option<Vec<u8>> {
        let reply = self.execute(client, argv, now)?;
        Some(reply.to_resp(self.resp_of(client)))
    }

    /// Finds the spec and handler for argv, producing Redis's unknown-command, unknown-subcommand and arity errors.
    fn resolve(&self, argv: &[&[u8]]) -> Result<(&'static CommandSpec, Handler), Error> {
        let name = argv.first().copied().unwrap_or(b"");
        let mut buf = [0u8; 32];
        // The name lower-cased once, on the stack; a name longer than any command's is unknown.
        let Some(out) = buf.get_mut(..name.len()) else { return Err(Error::unknown_command(argv)) };
        let mut plain = true;
        for (o, &c) in out.iter_mut().zip(name) {
            plain &= c != b'|';
            *o = c.to_ascii_lowercase();
        }
        let out: &[u8] = out;
        // Fast path for the common case, an implemented command without subcommands: the handler table is
        // keyed by full name, which for such a command is its lower-case name. It spares the binary search of
        // the command table and the UTF-8 check on every call (BENCHMARKS.md, server profile). A name with `|`
        // never takes it, so `object|encoding` typed as a command stays unknown.
        if let Some(&(spec, handler)) = self.handlers.get(out).filter(|_| plain) {
            if spec.subcommands.is_empty() {
                if !spec.arity_ok(argv.len()) {
                    return Err(Error::WrongArity(spec.name.into()));
                }
                return Ok((spec, handler));
            }
        }
        let lower = core::str::from_utf8(out).map_err(|_| Error::unknown_command(argv))?;
        let top = table::lookup(lower).ok_or_else(|| Error::unknown_command(argv))?;
        let spec = if top.subcommands.is_empty() {
            top
        } else if argv.len() < 2 {
            // A container named alone (`OBJECT`) fails Redis's arity check for the container itself (unless,
            // like COMMAND, it runs on its own), provided we implement any of its subcommands.
            let runs_alone = self.handlers.contains_key(top.name);
            if !runs_alone && top.subcommands.iter().any(|s| self.handlers.contains_key(s.name)) {
                return Err(Error::WrongArity(top.name.into()));
            }
            top
        } else {
            let sub = argv.get(1).copied().unwrap_or(b"");
            match lower_name(sub, &mut [0; 32]).and_then(|s| top.subcommand(s)) {
                Some(s) => s,
                None => {
                    return Err(Error::UnknownSubcommand {
                        sub: crate::error::lossy(sub, 128),
                        container: String::from_utf8_lossy(name).to_ascii_uppercase(),
                    })
                }
            }
        };
        // A container named alone (`CLIENT`) fails its own arity check, when any of its subcommands exists here
        // (COMMAND, whose arity allows it alone, has a handler of its own).
        if !self.handlers.contains_key(spec.name) && spec.subcommands.iter().any(|s| self.handlers.contains_key(s.name)) {
            return Err(Error::WrongArity(spec.name.into()));
        }
        let &(spec, handler) = self.handlers.get(spec.name.as_bytes()).ok_or_else(|| {
            if spec.name.contains('|') {
                Error::UnknownSubcommand {
                    sub: crate::error::lossy(argv.get(1).copied().unwrap_or(b""), 128),
                    container: String::from_utf8_lossy(name).to_ascii_uppercase(),
                }
            } else {
                Error::unknown_command(argv)
            }
        })?;
        if !spec.arity_ok(argv.len()) {
            return Err(Error::WrongArity(spec.name.into()));
        }
        Ok((spec, handler))
    }

    /// Whether `argv` names a command the engine runs with a right number of arguments: the errors `execute`
    /// would answer before running it (unknown command or subcommand, wrong arity), for the AOF loader.
    pub(crate) fn resolve_command(&self, argv: &[&[u8]]) -> Result<(), Error> {
        self.resolve(argv).map(|_| ())
    }

    /// The id the next client will get, and setting it back (the AOF loader's client leaves no gap).
    pub(crate) fn peek_next_client_id(&self) -> ClientId {
        self.next_client_id
    }

    pub(crate) fn set_next_client_id(&mut self, id: ClientId) {
        self.next_client_id = id;
    }

    /// Whether the engine implements a command (its full name, `object|encoding` for a subcommand).
    pub fn implements(&self, full_name: &str) -> bool {
        self.handlers.contains_key(full_name)
    }

    /// The implemented commands' specs, top level only, in name order.
    pub fn implemented_commands(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        table::COMMANDS.iter().filter(move |c| {
            self.handlers.contains_key(c.name) || c.subcommands.iter().any(|s| self.handlers.contains_key(s.name))
        })
    }

    /// Time-driven work: blocked clients' timeouts and active expiry. Call it regularly (Redis does 10 times a
    /// second); timed-out clients' replies come out of `drain_pushes`.
    pub fn tick(&mut self, now: u64) {
        self.advance_clock(now);
        // No command is being processed: what expires now reaches every client as a plain push.
        if self.tracking.on {
            crate::tracking::between_commands(self);
        }
        blocking::handle_timeouts(self);
        crate::pause::resume_if_over(self);
        // Active expiry waits while clients are paused, and while DEBUG SET-ACTIVE-EXPIRE 0 holds.
        if self.active_expire && !self.pause.is_active() {
            for dbi in 0..self.dbs.len() {
                self.active_expire_db(dbi);
            }
        }
        // An expired stream tells its XREADGROUP waiters, as Redis's beforeSleep serves ready keys.
        blocking::handle_clients_blocked_on_keys(self);
        if self.tracking.on {
            crate::tracking::tick(self);
        }
        self.settle_memory();
        self.save_if_due();
    }

    /// For a host with an event loop (the server): client-side caching's BCAST messages wait for `end_turn`
    /// instead of going out after every command, so the changes of a pipeline come in one message per prefix, as
    /// Redis sends them once per event-loop turn.
    pub fn batch_broadcasts(&mut self, per_turn: bool) {
        self.tracking.per_turn = per_turn;
    }

    /// The end of a host's event-loop turn (Redis's beforeSleep), when it batches broadcasts: the BCAST
    /// messages of the turn's changes join the pushes (`drain_pushes`).
    pub fn end_turn(&mut self) {
        if self.tracking.on {
            crate::tracking::end_turn(self);
        }
    }

    /// Pushes for clients (pub/sub messages, replies of unblocked clients), oldest first. Those for the client
    /// whose command just ran go on the wire before its reply.
    pub fn drain_pushes(&mut self) -> Vec<(ClientId, Reply)> {
        self.pushes.drain(..).collect()
    }

    /// Pushes for the client whose command just ran that go on the wire after its reply: the invalidations of
    /// client-side caching about keys its own command changed, which Redis holds until the command ends
    /// (`crate::tracking`). A host writes the reply, then these; one that does not take them gets them with the
    /// next command's `drain_pushes`.
    pub fn drain_pushes_after_reply(&mut self) -> Vec<(ClientId, Reply)> {
        core::mem::take(&mut self.pushes_after_reply)
    }

    pub(crate) fn push_after_reply(&mut self, client: ClientId, reply: Reply) {
        self.pushes_after_reply.push((client, reply));
    }

    /// Turns the keyspace event log on or off (off when the engine starts): while on, every keyspace event
    /// (Redis's names: `set`, `lpush`, `del`, `expired`, `new`, `keymiss`, ...) is kept for `drain_events`,
    /// whatever `notify-keyspace-events` says. Turning it off drops what was not drained.
    pub fn capture_events(&mut self, on: bool) {
        self.events.capture = on;
        if !on {
            self.events.log = Vec::new();
        }
    }

    /// The keyspace events since the last drain, oldest first (empty unless `capture_events(true)`).
    pub fn drain_events(&mut self) -> Vec<KeyEvent> {
        core::mem::take(&mut self.events.log)
    }

    /// Queues a reply for a client outside its command's own reply: a pub/sub message, an unblocked client's
    /// reply, a confirmation of a command that answers several. Pushes a command makes to its *own* client go on
    /// the wire before that command's reply (hosts write them first), so a command answering several replies
    /// pushes all but the last and returns the last.
    pub fn push(&mut self, client: ClientId, reply: Reply) {
        self.pushes.push_back((client, reply));
    }

    /// The clock only moves forward: a caller handing an older time does not rewind expiry.
    fn advance_clock(&mut self, now: u64) {
        if self.started_ms == 0 {
            self.started_ms = now;
        }
        if now > self.now {
            self.now = now;
        }
    }

    fn active_expire_db(&mut self, dbi: usize) {
        let now = self.now;
        for _ in 0..EXPIRE_MAX_ROUNDS {
            let Some(db) = self.dbs.get(dbi) else { return };
            if db.expires.is_empty() {
                return;
            }
            let (seen, due) = db.sample_expired(&mut self.rng, EXPIRE_KEYS_PER_LOOP, now);
            let expired = due.len();
            for key in due {
                self.delete_expired(dbi, &key);
                // Each key expired by the cycle is propagated on its own, as Redis does.
                crate::propagate::end_unit(self);
            }
            if seen == 0 || expired * 100 / seen <= EXPIRE_ACCEPTABLE_STALE {
                return;
            }
        }
    }

    fn delete_expired(&mut self, dbi: usize, key: &[u8]) {
        if let Some(db) = self.dbs.get_mut(dbi) {
            if db.remove(key).is_some() {
                self.stats.expired_keys += 1;
                // Client-side caching hears of the deletion after its `expired` event, with no client behind it.
                if self.tracking.on {
                    crate::tracking::unlog(self, dbi, key);
                }
                notify::notify(self, notify::EXPIRED, "expired", key, dbi);
                crate::propagate::deletion(self, dbi, key);
                if self.tracking.on {
                    crate::tracking::expired(self, key);
                }
            }
        }
    }

    /// Lazy expiry: deletes the key if its time has passed. True when it was deleted.
    pub fn expire_if_needed(&mut self, dbi: usize, key: &[u8]) -> bool {
        if self.loading {
            return false;
        }
        let now = self.now;
        let expired = self.dbs.get(dbi).is_some_and(|db| db.is_expired(key, now));
        if expired {
            self.delete_expired(dbi, key);
        }
        expired
    }

    /// Database `dbi`. Client indexes are validated by SELECT, MOVE and friends, so the scratch database
    /// stands in only for an index no command can produce; it keeps this path free of panics.
    pub fn db(&self, dbi: usize) -> &Db {
        self.dbs.get(dbi).unwrap_or(&self.scratch)
    }

    pub fn db_mut(&mut self, dbi: usize) -> &mut Db {
        match self.dbs.get_mut(dbi) {
            Some(db) => db,
            None => &mut self.scratch,
        }
    }

    /// Looks a key up for reading: expires it if due, counts a hit or a miss, touches its access time.
    pub fn lookup_read(&mut self, dbi: usize, key: &[u8]) -> Option<&mut Entry> {
        self.expire_if_needed(dbi, key);
        let now = self.now;
        // One hashed lookup serves the hit counter and the access time: its slot finds the entry again.
        let Some(slot) = self.db(dbi).keys.slot_of(key) else {
            self.stats.keyspace_misses += 1;
            notify::notify(self, notify::KEY_MISS, "keymiss", key, dbi);
            return None;
        };
        let lfu = self.lfu_policy().then_some((self.config.lfu_log_factor, self.config.lfu_decay_time));
        let Engine { dbs, stats, rng, .. } = self;
        let (_, entry) = dbs.get_mut(dbi)?.keys.get_at_mut(slot)?;
        stats.keyspace_hits += 1;
        entry.touch(now, lfu, rng);
        Some(entry)
    }

    /// Looks a key up for writing: expires it if due; no hit/miss statistics. The key is noted so that its
    /// memory is charged again after the command (`crate::evict`), since the caller may change it in place.
    pub fn lookup_write(&mut self, dbi: usize, key: &[u8]) -> Option<&mut Entry> {
        self.expire_if_needed(dbi, key);
        let now = self.now;
        self.touch(dbi, key, now)
    }

    /// `lookup_write` for a command that replaces the value whole through `Db::set` (SET and its variants):
    /// expires the key if due and touches it, without noting it for the memory accounting, since the store that
    /// follows charges the new value itself (this spares SET, the commonest write, the note and its settling).
    /// True when the key exists.
    pub(crate) fn lookup_overwrite(&mut self, dbi: usize, key: &[u8]) -> bool {
        self.expire_if_needed(dbi, key);
        let lfu = self.lfu_policy().then_some((self.config.lfu_log_factor, self.config.lfu_decay_time));
        let now = self.now;
        let Engine { dbs, rng, .. } = self;
        match dbs.get_mut(dbi).and_then(|db| db.keys.get_mut(key)) {
            Some(entry) => {
                entry.touch(now, lfu, rng);
                true
            }
            None => false,
        }
    }

    /// Whether the eviction policy is an LFU one (Redis's MAXMEMORY_FLAG_LFU): the per-key counter OBJECT FREQ
    /// shows is kept only then, and OBJECT IDLETIME refuses to answer.
    pub fn lfu_policy(&self) -> bool {
        // The LFU policies are `allkeys-lfu` and `volatile-lfu`; a suffix test is cheap (it runs on every key
        // lookup), where `contains` set up a substring search each time.
        self.config.maxmemory_policy.ends_with("lfu")
    }

    /// Records an access to a key for writing (its access time, and its LFU counter under an LFU policy).
    fn touch(&mut self, dbi: usize, key: &[u8], now: u64) -> Option<&mut Entry> {
        let lfu = self.lfu_policy().then_some((self.config.lfu_log_factor, self.config.lfu_decay_time));
        let i = if dbi < self.dbs.len() { dbi } else { 0 };
        let Engine { dbs, rng, changed_dbs, .. } = self;
        let (entry, first) = dbs.get_mut(i)?.entry_for_change(key)?;
        if first {
            changed_dbs.push(i);
        }
        entry.touch(now, lfu, rng);
        Some(entry)
    }

    /// Whether a key exists (expiring it if due), without statistics or touching it.
    pub fn exists(&mut self, dbi: usize, key: &[u8]) -> bool {
        self.expire_if_needed(dbi, key);
        self.db(dbi).keys.contains_key(key)
    }
}

#[cfg(test)]
impl Engine {
    /// The incremental memory accounting must equal a fresh count after every command: checked in every unit
    /// test that runs commands, as long as the keyspace is small enough to walk each time.
    fn check_memory_accounting(&self) {
        if self.dbs.iter().map(|db| db.len()).sum::<usize>() <= 2_000 {
            assert_eq!(self.memory_drift(), None, "memory accounting drifted (db, kept, counted)");
        }
    }

    /// Runs a command written as space-separated words (no quoting), for unit tests.
    pub(crate) fn run_line(&mut self, client: ClientId, line: &str, now: u64) -> Option<Reply> {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        self.execute(client, &argv, now)
    }
}

/// A command name lower-cased for the table, in `buf` (no allocation on the command path); names longer than
/// any command's are unknown.
fn lower_name<'b>(name: &[u8], buf: &'b mut [u8; 32]) -> Option<&'b str> {
    let out = buf.get_mut(..name.len())?;
    out.iter_mut().zip(name).for_each(|(o, c)| *o = c.to_ascii_lowercase());
    core::str::from_utf8(out).ok()
}

fn find_spec(full_name: &str) -> Option<&'static CommandSpec> {
    match full_name.split_once('|') {
        Some((top, sub)) => table::lookup(top)?.subcommand(sub),
        None => table::lookup(full_name),
    }
}
