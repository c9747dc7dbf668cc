//! The event loop: one thread owns the engine and every connection, as Redis's `aeMain` does.
//!
//! Each turn of the loop waits for readiness (epoll through mio), reads what connections sent, runs every
//! complete command in arrival order, delivers the engine's pushes, then writes each connection's pending
//! replies in one go. `Engine::tick` runs `hz` times a second (10 by default, Redis's `hz`).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use redlet_core::{ClientId, Config, Engine, Reply};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

use crate::aof::Aof;
use crate::cli::{Options, OutputLimit};
use crate::persist::FileStore;
use redlet_core::resp::{parse_request, Limits, Request};
use redlet_core::util::with_slices;

const SIGNALS: Token = Token(usize::MAX - 1);
/// Tokens below this are listeners; a client's token is `FIRST_CLIENT + its slot`.
const FIRST_CLIENT: usize = 1 << 16;
/// One `read` call's size: Redis's PROTO_IOBUF_LEN is 16 KiB; larger reads cost fewer calls for big values.
const READ_CHUNK: usize = 64 * 1024;
/// Bytes taken from one connection per turn of the loop, so a fast sender cannot starve the others;
/// a connection that had more is read again on the next turn without waiting.
const READ_BUDGET: usize = 1 << 20;
/// Redis's `client-query-buffer-limit`: unparsed input beyond this closes the connection (without a reply, as Redis).
const QUERY_BUFFER_LIMIT: usize = 1 << 30;
/// An output buffer grown past this by a big reply is given back once flushed.
const OUTPUT_KEEP: usize = 1 << 20;

/// One connection's I/O state; what the engine knows of it lives in the engine under `id`.
struct Conn {
    id: ClientId,
    stream: TcpStream,
    /// Bytes received and not yet consumed by a complete command.
    input: Vec<u8>,
    /// Encoded replies not yet written; `output[..sent]` already went out.
    output: Vec<u8>,
    sent: usize,
    /// Read no more; close once the output is written (QUIT, a protocol error, the peer's end of stream).
    close_after_reply: bool,
    /// Close at the next opportunity, dropping unsent output (output limit, write error, killed).
    close_now: bool,
    /// When the unsent output first went past the soft limit, if it still is.
    over_soft_since: Option<Instant>,
    /// Already in the list of connections to flush this turn.
    queued: bool,
    /// Waits in a blocking command (BLPOP...): its further input stays unparsed until the engine answers it.
    blocked: bool,
}

impl Conn {
    fn pending(&self) -> usize {
        self.output.len() - self.sent
    }
}

pub struct Server {
    poll: Poll,
    listeners: Vec<TcpListener>,
    signals: Signals,
    engine: Engine,
    /// Connections by slot; a slot is reused after its connection is closed.
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    by_id: HashMap<ClientId, usize>,
    /// Slots with output to write (or to close) at the end of this turn.
    to_flush: Vec<usize>,
    /// Slots whose read budget ran out with data possibly left in the socket.
    to_read: Vec<usize>,
    /// Slots just unblocked, whose pending input runs at the end of the turn (Redis's processUnblockedClients).
    unblocked: Vec<usize>,
    /// Set after a CLIENT command: the engine may have marked other clients for closing (CLIENT KILL).
    check_closing: bool,
    maxclients: usize,
    output_limit: OutputLimit,
    /// The buffer every `read` goes through, allocated once (not zeroed again for each small request).
    read_buf: Vec<u8>,
    /// Where the parser leaves a request's argument spans, reused from request to request.
    spans: Vec<(usize, usize)>,
    /// The append-only file; appending while `appendonly` is on.
    aof: Aof,
}

/// The wall clock in unix milliseconds: the only time the engine is given.
pub fn now_ms() -> u64 {
    // Seconds and milliseconds apart: `as_millis` divides a u128, which costs more than the clock read.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() * 1000 + u64::from(d.subsec_millis()))
}

impl Server {
    /// Binds every address and sets the engine up from the options. Nothing is served until `run`.
    pub fn bind(opts: &Options) -> io::Result<Server> {
        let poll = Poll::new()?;
        let mut listeners = Vec::new();
        for (i, host) in opts.bind.iter().enumerate() {
            // As in redis.conf, a leading `-` makes an address optional: failing to bind it is not fatal.
            let (optional, host) = match host.strip_prefix('-') {
                Some(h) => (true, h),
                None => (false, host.as_str()),
            };
            match bind_one(host, opts.port) {
                Ok(mut l) => {
                    poll.registry().register(&mut l, Token(i), Interest::READABLE)?;
                    listeners.push(l);
                }
                Err(_) if optional => {}
                Err(e) => return Err(io::Error::new(e.kind(), format!("could not bind {host}:{}: {e}", opts.port))),
            }
        }
        if listeners.is_empty() {
            return Err(io::Error::other("no address to listen on"));
        }
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;

        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64) ^ u64::from(std::process::id());
        let mut config = Config { seed, ..Config::default() };
        if let Some(m) = opts.maxmemory {
            config.maxmemory = m;
        }
        if let Some(p) = &opts.maxmemory_policy {
            config.maxmemory_policy = p.clone();
        }
        if let Some(p) = &opts.requirepass {
            config.requirepass = p.clone();
        }
        config.dir = std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
        config.dbfilename = opts.dbfilename.clone();
        config.save = opts.save.clone();
        config.enable_debug_command = opts.enable_debug_command.clone();
        config.appendonly = opts.appendonly;
        config.appendfsync = opts.appendfsync.clone();
        config.appenddirname = opts.appenddirname.clone();
        config.appendfilename = opts.appendfilename.clone();
        let mut engine = Engine::new(config);
        // Client-side caching's BCAST messages go out once per turn of the event loop, as Redis's do.
        engine.batch_broadcasts(true);
        // The engine times commands for the slow log and sleeps for DEBUG SLEEP with the host's clock.
        engine.set_host(monotonic_micros, |micros| std::thread::sleep(Duration::from_micros(micros)));
        // The data is loaded before the first client is accepted, as redis-server loads before serving: from
        // the AOF when it is on (the snapshot is then not read, as in Redis), else from the snapshot.
        let store = FileStore::new(&opts.dbfilename);
        engine.tick(now_ms());
        let mut aof = Aof::new(&opts.appenddirname, &opts.appendfilename);
        if opts.appendonly {
            if let Some(keys) = aof.load(&mut engine, now_ms()).map_err(io::Error::other)? {
                log!("DB loaded from append only file: {keys} keys");
            }
            aof.start(&mut engine).map_err(|e| io::Error::other(format!("Can't open the append-only file: {e}")))?;
        } else if let Some(keys) = store.load_into(&mut engine).map_err(io::Error::other)? {
            log!("DB loaded from disk: {keys} keys");
        }
        engine.set_snapshot_store(Box::new(store));
        engine.set_aof_host(true);
        Ok(Server {
            poll,
            listeners,
            signals,
            engine,
            conns: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            to_flush: Vec::new(),
            to_read: Vec::new(),
            unblocked: Vec::new(),
            check_closing: false,
            maxclients: opts.maxclients,
            output_limit: opts.output_limit,
            read_buf: vec![0; READ_CHUNK],
            spans: Vec::new(),
            aof,
        })
    }

    /// The addresses actually listened on (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// Serves until SIGINT or SIGTERM.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut next_tick = Instant::now() + self.tick_interval();
        loop {
            let timeout = if self.to_read.is_empty() {
                next_tick.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            // Connections left with data last turn are read after this turn's events, once each.
            let carried = std::mem::take(&mut self.to_read);
            let mut shutdown = false;
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => shutdown |= self.signalled(),
                    Token(t) if t < FIRST_CLIENT => self.accept(t),
                    Token(t) => {
                        let slot = t - FIRST_CLIENT;
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.read(slot, ev.is_read_closed() || ev.is_error());
                        }
                        if ev.is_writable() || ev.is_write_closed() {
                            self.queue(slot);
                        }
                    }
                }
            }
            for slot in carried {
                self.read(slot, true);
            }
            if Instant::now() >= next_tick {
                // Blocked clients' deadlines and active expiry; timed-out clients get their replies as pushes.
                self.engine.tick(now_ms());
                self.deliver_pushes();
                self.check_clients();
                if self.engine.config.appendfsync == "everysec" {
                    // Syncs what the last second appended, when there was nothing to append since.
                    let _ = self.aof.append(&[], "everysec");
                }
                next_tick = Instant::now() + self.tick_interval();
            }
            self.run_unblocked();
            if std::mem::take(&mut self.check_closing) {
                self.check_clients();
            }
            // Client-side caching's BCAST messages of this turn's changes, one per prefix (Redis's beforeSleep).
            self.engine.end_turn();
            self.deliver_pushes();
            // What this turn's commands propagated goes to the AOF before any of their replies goes out.
            self.persist_aof();
            if shutdown {
                // SIGINT/SIGTERM: Redis saves first when save points are configured (prepareForShutdown).
                if !self.engine.config.save.is_empty() {
                    let _ = self.engine.save_snapshot(redlet_core::rdb::Format::V9);
                }
            }
            if shutdown || self.engine.shutdown_requested() {
                // Redis syncs the AOF before it exits.
                let _ = self.aof.fsync();
            }
            if self.engine.shutdown_requested() {
                // SHUTDOWN already saved; Redis exits without answering it.
                return Ok(());
            }
            self.flush_all();
            if shutdown {
                return Ok(());
            }
        }
    }

    /// The AOF's share of a turn: appends what the engine propagated (synced first with `appendfsync
    /// always`), then does a rewrite BGREWRITEAOF asked for, and follows CONFIG SET appendonly.
    fn persist_aof(&mut self) {
        if self.aof.is_on() {
            let commands = self.engine.drain_propagated();
            let fsync = self.engine.config.appendfsync.clone();
            let result = self.aof.append(&commands, &fsync);
            if let Err(e) = &result {
                log!("Error writing to the AOF file: {e}");
            }
            self.engine.persistence.aof.last_write_failed = result.is_err();
        }
        if self.engine.take_aof_rewrite_request() {
            let on = self.aof.is_on();
            self.rewrite_aof(on, "on background rewrite");
        }
        let want = self.engine.config.appendonly;
        if want && !self.aof.is_on() {
            // CONFIG SET appendonly yes: a rewrite writes the base of the dataset, then appending starts.
            if !self.rewrite_aof(true, "on AOF enable") {
                self.engine.config.appendonly = false;
            }
        } else if !want && self.aof.is_on() {
            self.aof.stop(&mut self.engine);
        }
        self.aof.report(&mut self.engine);
    }

    /// Runs a rewrite and reports it to the engine (INFO's `aof_rewrites`, `aof_last_bgrewrite_status`).
    fn rewrite_aof(&mut self, aof_on: bool, why: &str) -> bool {
        match self.aof.rewrite(&mut self.engine, aof_on, why) {
            Ok(()) => {
                log!("Background AOF rewrite finished successfully");
                self.engine.aof_rewrite_done(true);
                true
            }
            Err(e) => {
                log!("Background AOF rewrite failed: {e}");
                self.engine.aof_rewrite_done(false);
                false
            }
        }
    }

    fn tick_interval(&self) -> Duration {
        Duration::from_millis(1000 / u64::from(self.engine.config.hz.clamp(1, 500)))
    }

    fn signalled(&mut self) -> bool {
        let mut stop = false;
        for sig in self.signals.pending() {
            let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
            let mut out = io::stdout();
            let _ = writeln!(out, "Received {name} scheduling shutdown...");
            let _ = out.flush();
            stop = true;
        }
        stop
    }

    fn accept(&mut self, listener: usize) {
        loop {
            let Some(l) = self.listeners.get(listener) else { return };
            match l.accept() {
                Ok((stream, peer)) => self.add_client(stream, peer),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors and the like: the pending connection waits for the next readiness.
                    log!("Accepting client connection: {e}");
                    return;
                }
            }
        }
    }

    fn add_client(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        if self.by_id.len() >= self.maxclients {
            // Redis's answer past maxclients, written best-effort before the socket is dropped.
            let _ = stream.write(b"-ERR max number of clients reached\r\n");
            return;
        }
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let registered = self.poll.registry().register(&mut stream, Token(FIRST_CLIENT + slot), Interest::READABLE | Interest::WRITABLE);
        if let Err(e) = registered {
            log!("Registering client connection: {e}");
            self.free.push(slot);
            return;
        }
        let id = self.engine.connect(now_ms());
        if let Some(c) = self.engine.client_mut(id) {
            // The peer and local addresses as Redis formats them (`[::1]:port` for IPv6), for CLIENT LIST.
            c.addr = peer.to_string();
            c.laddr = local;
        }
        self.by_id.insert(id, slot);
        if let Some(cell) = self.conns.get_mut(slot) {
            *cell = Some(Conn {
                id,
                stream,
                input: Vec::new(),
                output: Vec::new(),
                sent: 0,
                close_after_reply: false,
                close_now: false,
                over_soft_since: None,
                queued: false,
                blocked: false,
            });
        }
    }

    /// Reads what the connection sent (up to the budget), then runs every complete command in it.
    /// Without `drain`, a short read ends the reading, as Redis's one read per readable event: the socket had
    /// nothing more at that moment, and epoll reports anything that arrives later (data or the peer's close)
    /// as a new event. That spares the read that would only say WouldBlock, one system call per request
    /// (BENCHMARKS.md, server). With `drain` (the event already carries the peer's close or an error, or the
    /// connection is carried over from the last turn's budget) it reads on until WouldBlock or the end.
    fn read(&mut self, slot: usize, drain: bool) {
        let Some(Some(c)) = self.conns.get_mut(slot) else { return };
        if c.close_after_reply || c.close_now {
            return;
        }
        let mut chunk = std::mem::take(&mut self.read_buf);
        chunk.resize(READ_CHUNK, 0);
        let mut budget = READ_BUDGET;
        let mut eof = false;
        loop {
            match c.stream.read(&mut chunk) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    c.input.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    budget = budget.saturating_sub(n);
                    if budget == 0 {
                        self.to_read.push(slot);
                        break;
                    }
                    if n < chunk.len() && !drain {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    c.close_now = true;
                    break;
                }
            }
        }
        self.read_buf = chunk;
        self.process_input(slot);
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            // The peer finished sending: what it sent has run; its replies still go out before we close
            // (`printf 'PING\r\n' | nc` gets its PONG, as from Redis).
            if eof {
                c.close_after_reply = true;
            }
            if c.input.len() > QUERY_BUFFER_LIMIT {
                log!("Closing client that reached max query buffer length (qbuf={})", c.input.len());
                c.close_now = true;
            }
        }
        self.queue(slot);
    }

    /// Runs every complete command at the front of the connection's input, in order.
    /// A command runs only once all of it has arrived, so a client that vanishes mid-command changes nothing.
    fn process_input(&mut self, slot: usize) {
        // Read per call: CONFIG SET proto-max-bulk-len applies to the next request.
        let max_bulk = i64::try_from(self.engine.config.proto_max_bulk_len).unwrap_or(i64::MAX);
        let mut limits = Limits { proto_max_bulk_len: max_bulk, ..Limits::default() };
        let mut used_total = 0;
        // The input is taken out of the connection while its commands run, so that their arguments can be
        // slices of it (no copy per argument); nothing else reads a connection's input meanwhile.
        let Some(Some(c)) = self.conns.get_mut(slot) else { return };
        let input = std::mem::take(&mut c.input);
        let mut spans = std::mem::take(&mut self.spans);
        loop {
            // Before AUTH, Redis refuses large requests outright (its unauthenticated limits).
            let id = self.conns.get(slot).and_then(|c| c.as_ref()).map(|c| c.id);
            limits.auth_required = id.is_some_and(|id| self.engine.auth_required(id));
            let Some(Some(c)) = self.conns.get_mut(slot) else { break };
            if c.close_after_reply || c.close_now || c.blocked {
                break;
            }
            let rest = input.get(used_total..).unwrap_or_default();
            match parse_request(rest, &limits, &mut spans) {
                Ok(Some(Request::Spans { used })) => {
                    used_total += used;
                    let args = spans.iter().map(|&(s, e)| rest.get(s..e).unwrap_or_default());
                    with_slices(args, |args| self.run_command(slot, args));
                }
                Ok(Some(Request::Inline((argv, used)))) => {
                    used_total += used;
                    with_slices(argv.iter().map(Vec::as_slice), |args| self.run_command(slot, args));
                }
                Ok(None) => break,
                Err(e) => {
                    // Redis answers a protocol error and closes that connection only; commands before it have run.
                    c.output.extend_from_slice(&e.reply_bytes());
                    c.close_after_reply = true;
                    break;
                }
            }
        }
        self.spans = spans;
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            // Put back what was not consumed, ahead of anything that arrived meanwhile (nothing reads a
            // connection while its commands run, so that is empty in practice).
            let mut input = input;
            input.drain(..used_total.min(input.len()));
            input.append(&mut c.input);
            c.input = input;
        }
    }

    fn run_command(&mut self, slot: usize, args: &[&[u8]]) {
        let Some(name) = args.first() else { return };
        let Some(Some(c)) = self.conns.get_mut(slot) else { return };
        if name.eq_ignore_ascii_case(b"post") || name.eq_ignore_ascii_case(b"host:") {
            // Redis's securityWarningCommand: an HTTP request sent to the port (a browser tricked into
            // talking to a local Redis) drops the connection at once, without any reply.
            log!("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. Connection aborted.");
            c.close_now = true;
            return;
        }
        // CLIENT KILL, ACL DELUSER and ACL SETUSER may close other connections: look for them after this turn.
        if name.eq_ignore_ascii_case(b"client") || name.eq_ignore_ascii_case(b"acl") {
            self.check_closing = true;
        }
        let id = c.id;
        let reply = self.engine.execute(id, args, now_ms());
        // Pushes the command caused go out before its reply, as Redis appends them while the command runs
        // (a RESP3 client publishing to a channel it subscribes to gets the message, then the count).
        self.deliver_pushes();
        // One look at the client for both (each lookup searches the engine's client table).
        let (resp, closing) = self.engine.client(id).map_or((2, false), |cl| (cl.resp, cl.closing));
        let blocked = self.engine.is_blocked(id);
        let Some(Some(c)) = self.conns.get_mut(slot) else { return };
        if let Some(reply) = reply {
            reply.encode(resp, &mut c.output);
        }
        // Its own tracking invalidations follow its reply, as Redis holds them until the command ends.
        let after = self.engine.drain_pushes_after_reply();
        if !after.is_empty() {
            self.deliver(after);
        }
        let Some(Some(c)) = self.conns.get_mut(slot) else { return };
        // A blocking command that found nothing has no reply yet: it comes as a push when the client is served
        // or times out, and until then the connection's next commands wait (Redis stops processing its input).
        c.blocked = blocked;
        if closing {
            // QUIT (and CLIENT KILL of oneself): the reply is written, then the connection closes;
            // commands pipelined after it are not run.
            c.close_after_reply = true;
        }
        check_output_limit(c, &self.output_limit);
    }

    /// Appends the engine's pending pushes (pub/sub messages, replies of unblocked clients) to their connections.
    fn deliver_pushes(&mut self) {
        let pushes = self.engine.drain_pushes();
        self.deliver(pushes);
    }

    fn deliver(&mut self, pushes: Vec<(ClientId, Reply)>) {
        for (id, push) in pushes {
            let Some(&slot) = self.by_id.get(&id) else { continue };
            let resp = self.engine.resp_of(id);
            let still_blocked = self.engine.is_blocked(id);
            if let Some(Some(c)) = self.conns.get_mut(slot) {
                push.encode(resp, &mut c.output);
                check_output_limit(c, &self.output_limit);
                if c.blocked && !still_blocked {
                    c.blocked = false;
                    self.unblocked.push(slot);
                }
                if !c.queued {
                    c.queued = true;
                    self.to_flush.push(slot);
                }
            }
        }
    }

    /// Runs the input that waited behind the blocking commands of clients the engine has since answered.
    /// Their commands may unblock others in turn; those run in the same loop.
    fn run_unblocked(&mut self) {
        while !self.unblocked.is_empty() {
            // First unblocked, first run, as Redis's list of unblocked clients.
            let slot = self.unblocked.remove(0);
            self.process_input(slot);
            self.queue(slot);
        }
    }

    /// Closes what the engine closed (CLIENT KILL) and applies the soft output limit's time.
    fn check_clients(&mut self) {
        for slot in 0..self.conns.len() {
            let Some(Some(c)) = self.conns.get_mut(slot) else { continue };
            if self.engine.client(c.id).is_none() {
                c.close_now = true;
            } else if self.engine.is_closing(c.id) {
                c.close_after_reply = true;
            }
            check_output_limit(c, &self.output_limit);
            if (c.close_now || c.close_after_reply) && !c.queued {
                c.queued = true;
                self.to_flush.push(slot);
            }
        }
    }

    fn queue(&mut self, slot: usize) {
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            if !c.queued {
                c.queued = true;
                self.to_flush.push(slot);
            }
        }
    }

    /// Writes every queued connection's output (one write per connection per turn when the socket takes it all),
    /// then closes those that are done.
    fn flush_all(&mut self) {
        for slot in std::mem::take(&mut self.to_flush) {
            let Some(Some(c)) = self.conns.get_mut(slot) else { continue };
            c.queued = false;
            if !c.close_now {
                write_out(c);
            }
            if c.close_now || (c.close_after_reply && c.pending() == 0) {
                self.close(slot);
            }
        }
    }

    fn close(&mut self, slot: usize) {
        let Some(cell) = self.conns.get_mut(slot) else { return };
        let Some(mut c) = cell.take() else { return };
        let _ = self.poll.registry().deregister(&mut c.stream);
        self.engine.disconnect(c.id);
        self.by_id.remove(&c.id);
        self.to_read.retain(|&s| s != slot);
        self.unblocked.retain(|&s| s != slot);
        self.free.push(slot);
    }
}

/// Microseconds on a monotonic clock (since the first call), the timer the engine times commands with.
fn monotonic_micros() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let elapsed = START.get_or_init(Instant::now).elapsed();
    // As in `now_ms`, without `as_micros`'s u128 division.
    elapsed.as_secs().saturating_mul(1_000_000).saturating_add(u64::from(elapsed.subsec_micros()))
}

/// Writes as much pending output as the socket takes; a writable event brings the rest later.
fn write_out(c: &mut Conn) {
    while c.sent < c.output.len() {
        match c.stream.write(c.output.get(c.sent..).unwrap_or_default()) {
            Ok(0) => {
                c.close_now = true;
                return;
            }
            Ok(n) => c.sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                c.close_now = true;
                return;
            }
        }
    }
    if c.sent == c.output.len() {
        c.output.clear();
        c.sent = 0;
        c.over_soft_since = None;
        if c.output.capacity() > OUTPUT_KEEP {
            c.output.shrink_to(16 * 1024);
        }
    } else if c.sent >= OUTPUT_KEEP && c.sent * 2 >= c.output.len() {
        // Drop the written front so a long-lived slow reader's buffer does not only ever grow.
        c.output.drain(..c.sent);
        c.sent = 0;
    }
}

/// Redis's checkClientOutputBufferLimits: past the hard limit the connection closes at once; past the soft limit
/// it closes once it has stayed there longer than the limit's seconds.
fn check_output_limit(c: &mut Conn, limit: &OutputLimit) {
    let pending = c.pending() as u64;
    let hard = limit.hard > 0 && pending > limit.hard;
    let mut soft = false;
    if limit.soft > 0 && pending > limit.soft {
        match c.over_soft_since {
            None => c.over_soft_since = Some(Instant::now()),
            Some(t) => soft = t.elapsed() > Duration::from_secs(limit.soft_seconds),
        }
    } else {
        c.over_soft_since = None;
    }
    if (hard || soft) && !c.close_now {
        log!("Client id={} closed for overcoming of output buffer limits ({pending} bytes pending).", c.id);
        c.close_now = true;
    }
}

fn bind_one(host: &str, port: u16) -> io::Result<TcpListener> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "address did not resolve");
    for addr in (host, port).to_socket_addrs()? {
        match TcpListener::bind(addr) {
            Ok(l) => return Ok(l),
            Err(e) => last = e,
        }
    }
    Err(last)
}
