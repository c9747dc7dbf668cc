//! The WebAssembly API over redlet-core: `new Redlet(options)`, commands as redis-cli lines or argument arrays,
//! several clients, pushes, a virtual clock, and read-only introspection for visualizers.
//!
//! A thin facade: each method imports its arguments (`interop`), calls the engine and exports the result. The
//! engine itself never sees JavaScript. Time comes from the page's clock (`Date.now()`) plus a virtual offset
//! the page can move forward (or, with `manualClock`, from the offset alone), never from inside the engine.
//!
//! One engine is shared by the `Redlet` object and every client it `connect()`s (`Rc<RefCell<_>>`). The
//! engine is borrowed only while it runs a command; JS callbacks (`onKeyspace`, `onPush`) are called after the
//! borrow ends, so a callback may run commands itself.

#[doc(hidden)]
pub mod interop;
pub mod help_texts;
pub mod introspect;
pub mod tutorial;
#[cfg(feature = "playground")]
pub mod app;

use std::cell::{Cell, RefCell};
use redlet_core::vecmap::VecMap;
use std::rc::Rc;

use js_sys::{Array, Function, Uint8Array};
use redlet_core::format::{format_console, format_tty};
use redlet_core::tokenize::{split_args, split_plain};
use redlet_core::util::with_slices;
use redlet_core::{ClientId, Config, Engine, KeyEvent, Reply};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A reply as a plain JS value (see README.md, "The JavaScript API"). */
export type RedisReply =
  | string
  | Uint8Array
  | number
  | bigint
  | boolean
  | null
  | Error
  | RedisReply[]
  | { [key: string]: RedisReply }
  | Map<RedisReply, RedisReply>;

/** One command argument: a string is sent as UTF-8, a Uint8Array as it is, a number or bigint as its decimal text. */
export type RedisArg = string | Uint8Array | number | bigint;

export interface RedletOptions {
  /** `maxmemory`: bytes, or a size as CONFIG SET takes it ("100mb"). Default 0 (no limit). */
  maxmemory?: number | bigint | string;
  /** `maxmemory-policy`: which keys go when `maxmemory` is reached. Default "noeviction" (writes are refused). */
  maxmemoryPolicy?:
    | "noeviction"
    | "allkeys-lru"
    | "allkeys-lfu"
    | "allkeys-random"
    | "volatile-lru"
    | "volatile-lfu"
    | "volatile-random"
    | "volatile-ttl";
  /** Seed of the engine's PRNG (RANDOMKEY, sampling): the same seed and commands give the same results. Default: the clock. */
  seed?: number | bigint;
  /** Protocol of the default client and of new clients: 2 (default) or 3. HELLO changes it per client. */
  resp?: 2 | 3;
  /** The virtual clock's reading at construction, in unix milliseconds. Default: Date.now(). */
  clockStart?: number;
  /** When true, time moves only through advanceTime(); otherwise it also runs with the page's clock. */
  manualClock?: boolean;
}

/**
 * Called with each push (pub/sub message, the reply of a client a blocking command had left waiting, a
 * client-side caching invalidation), the id of the client it is for, its RESP bytes as that client's connection
 * would receive them, and whether it follows the reply of the command that caused it on that connection (a
 * client's own invalidations, which Redis sends after the reply); other pushes of a command come before it.
 */
export type PushHandler = (message: RedisReply, clientId: number, resp: Uint8Array, afterReply: boolean) => void;
/** Called with each push for one client, its RESP bytes, and whether it follows the command's reply. */
export type ClientPushHandler = (message: RedisReply, resp: Uint8Array, afterReply: boolean) => void;

/**
 * A keyspace event: what a command (or expiry) did to a key, named as Redis's keyspace notifications name it
 * ("set", "lpush", "del", "expired", "new", "keymiss", ...), whatever notify-keyspace-events says.
 */
export interface KeyspaceEvent {
  /** The database index. */
  db: number;
  event: string;
  /** A string when the key is UTF-8, else its bytes. */
  key: string | Uint8Array;
}
/** Called with each keyspace event, in the order they happened. */
export type KeyspaceHandler = (event: KeyspaceEvent) => void;

export interface KeysOptions {
  /** Database index, default 0. */
  db?: number;
  /** A glob pattern as KEYS and SCAN MATCH take it. Default: every key. */
  pattern?: string | Uint8Array;
  /** Where to continue: 0 (default) to start, then the cursor the previous call returned. */
  cursor?: number;
  /** How many keys to look for in this call, as SCAN's COUNT (default 10). */
  count?: number;
}

export interface KeyInfo {
  key: string | Uint8Array;
  /** What TYPE replies: "string", "list", "hash", "set", "zset", "stream". */
  type: string;
  /** What OBJECT ENCODING replies. */
  encoding: string;
  /** Milliseconds left before the key expires (as PTTL), -1 without an expiry. */
  ttl: number;
  /** The expiry in unix milliseconds, or null. */
  expiresAt: number | null;
  /** Bytes the engine counts for the key and its value (what MEMORY USAGE replies). */
  memory: number;
}

export interface KeysPage {
  /** The cursor for the next call; 0 when the scan is complete. */
  cursor: number;
  keys: KeyInfo[];
}

export interface StringInspection extends KeyInfo {
  type: "string";
  value: string | Uint8Array;
  /** Length in bytes (STRLEN). */
  length: number;
  /** The integer the string holds (what INCR works on), or null. */
  int: number | bigint | null;
  /** The raw bytes, e.g. to draw a bitmap (GETBIT i is bit 7 - i % 8 of byte i / 8). */
  bytes: Uint8Array;
  /** When the string is a HyperLogLog: its estimate (what PFCOUNT replies), otherwise null. */
  estimate: number | null;
}

export interface ListInspection extends KeyInfo {
  type: "list";
  /** The elements from the head (index 0) to the tail. */
  value: (string | Uint8Array)[];
  /** LLEN. */
  length: number;
}

export interface SetInspection extends KeyInfo {
  type: "set";
  /** The members in the set's own order (ascending while it is an intset). */
  value: (string | Uint8Array)[];
  /** SCARD. */
  length: number;
}

export interface HashInspection extends KeyInfo {
  type: "hash";
  /** The fields in the hash's own order. */
  value: { field: string | Uint8Array; value: string | Uint8Array }[];
  /** HLEN. */
  length: number;
}

export interface ZSetInspection extends KeyInfo {
  type: "zset";
  /** The members by rank (ZRANK), lowest score first. */
  value: { member: string | Uint8Array; score: number; rank: number }[];
  /** ZCARD. */
  length: number;
}

export interface StreamEntry {
  /** The entry's ID as XRANGE shows it ("1700000000000-0"). */
  id: string;
  fields: { [field: string]: string | Uint8Array };
}

export interface StreamGroup {
  name: string | Uint8Array;
  lastDeliveredId: string;
  /** Consumers with the number of entries each has pending. */
  consumers: { name: string | Uint8Array; pending: number }[];
  /** Delivered and not yet acknowledged entries (XPENDING). */
  pending: { id: string; consumer: string | Uint8Array; deliveries: number }[];
}

export interface StreamInspection extends KeyInfo {
  type: "stream";
  /** The entries from the oldest. */
  value: StreamEntry[];
  /** XLEN. */
  length: number;
  /** The last ID the stream generated (XINFO STREAM's last-generated-id). */
  lastId: string;
  groups: StreamGroup[];
}

export type Inspection = StringInspection | ListInspection | SetInspection | HashInspection | ZSetInspection | StreamInspection;
"#;

#[wasm_bindgen]
extern "C" {
    /// `new Redlet(options)`'s argument, typed in the declarations above (read by `interop`).
    #[wasm_bindgen(typescript_type = "RedletOptions")]
    pub type RedletOptions;

    /// `keys(options)`'s argument.
    #[wasm_bindgen(typescript_type = "KeysOptions")]
    pub type KeysOptions;

    /// Where an exception thrown by a push callback goes: it must not undo the command that produced the push.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(value: &JsValue);
}

/// The virtual clock: the page's clock plus an offset that only grows.
struct Clock {
    start: f64,
    real_base: f64,
    offset: f64,
    manual: bool,
}

impl Clock {
    fn now(&self) -> f64 {
        let running = if self.manual { 0.0 } else { js_sys::Date::now() - self.real_base };
        self.start + running.max(0.0) + self.offset
    }
}

/// What the `Redlet` object and its clients share.
struct Shared {
    engine: Engine,
    clock: Clock,
    /// Protocol of new clients.
    resp: u8,
    on_push: Option<Function>,
    client_push: VecMap<ClientId, Function>,
    /// `onKeyspace`'s callback; the engine captures events only while there is one.
    on_keyspace: Option<Function>,
}

impl Shared {
    /// The time handed to the engine, in unix ms.
    fn now_ms(&self) -> u64 {
        let now = self.clock.now();
        if now.is_finite() && now > 0.0 {
            now as u64
        } else {
            0
        }
    }

    fn connect(&mut self) -> ClientId {
        let now = self.now_ms();
        let id = self.engine.connect(now);
        let resp = self.resp;
        if let Some(c) = self.engine.client_mut(id) {
            c.resp = resp;
        }
        id
    }
}

type SharedRef = Rc<RefCell<Shared>>;

fn busy() -> JsValue {
    interop::error("Redlet is busy: a command was called while the engine was running one")
}

/// A command's outcome for one client.
struct Outcome {
    reply: Option<Reply>,
    /// The client's protocol after the command (HELLO answers in the protocol it switches to).
    resp: u8,
    /// QUIT: the client is to be closed now that its reply is delivered.
    closing: bool,
}

/// Runs one command for `client`, then delivers the keyspace events and the pushes it produced.
fn run(shared: &SharedRef, client: ClientId, args: &[&[u8]]) -> Result<Outcome, JsValue> {
    let (outcome, events, pushes, after) = {
        let mut s = shared.try_borrow_mut().map_err(|_| busy())?;
        let now = s.now_ms();
        let reply = s.engine.execute(client, &args, now);
        let outcome = Outcome { reply, resp: s.engine.resp_of(client), closing: s.engine.is_closing(client) };
        (outcome, s.engine.drain_events(), s.engine.drain_pushes(), s.engine.drain_pushes_after_reply())
    };
    deliver_events(shared, events);
    deliver(shared, pushes, false);
    deliver(shared, after, true);
    Ok(outcome)
}

/// Hands keyspace events to the `onKeyspace` callback, oldest first. They go before the pushes of the same
/// command, so events of commands a callback runs come after them.
fn deliver_events(shared: &SharedRef, events: Vec<KeyEvent>) {
    if events.is_empty() {
        return;
    }
    let Some(f) = shared.try_borrow().ok().and_then(|s| s.on_keyspace.clone()) else { return };
    for ev in &events {
        if let Err(e) = f.call1(&JsValue::NULL, &interop::key_event_to_js(ev)) {
            console_error(&e);
        }
    }
}

/// Hands pushes to the callbacks: the client's own first, then the global one. `after_reply` tells them the
/// pushes follow the command's reply on the wire.
fn deliver(shared: &SharedRef, pushes: Vec<(ClientId, Reply)>, after_reply: bool) {
    let after = JsValue::from_bool(after_reply);
    for (client, message) in pushes {
        let (own, global, resp) = match shared.try_borrow() {
            Ok(s) => (s.client_push.get(&client).cloned(), s.on_push.clone(), s.engine.resp_of(client)),
            Err(_) => return,
        };
        if own.is_none() && global.is_none() {
            continue;
        }
        let value = interop::value_for(&message, resp);
        let bytes: JsValue = interop::bytes_to_uint8array(&message.to_resp(resp)).into();
        if let Some(f) = own {
            if let Err(e) = f.call3(&JsValue::NULL, &value, &bytes, &after) {
                console_error(&e);
            }
        }
        if let Some(f) = global {
            if let Err(e) = f.call4(&JsValue::NULL, &value, &JsValue::from_f64(client as f64), &bytes, &after) {
                console_error(&e);
            }
        }
    }
}

/// Time-driven work (active expiry), then the keyspace events and pushes it produced.
fn tick(shared: &SharedRef, advance_ms: f64) -> Result<(), JsValue> {
    let (events, pushes) = {
        let mut s = shared.try_borrow_mut().map_err(|_| busy())?;
        if advance_ms.is_finite() && advance_ms > 0.0 {
            s.clock.offset += advance_ms;
        }
        let now = s.now_ms();
        s.engine.tick(now);
        (s.engine.drain_events(), s.engine.drain_pushes())
    };
    deliver_events(shared, events);
    deliver(shared, pushes, false);
    Ok(())
}

fn tokenize(line: &str) -> Result<Vec<Vec<u8>>, JsValue> {
    split_args(line.as_bytes()).map_err(|e| interop::error(&e.to_string()))
}

fn empty_command() -> JsValue {
    interop::error("empty command")
}

/// One connection's calls, shared by `Redlet` (its console client) and `RedletClient`.
///
/// `id` is `None` while the connection is closed. The console client is opened on first use and again after
/// QUIT, as redis-cli reconnects when the next command is sent (`reopen`); a `RedletClient` stays closed.
struct Conn {
    shared: SharedRef,
    id: Cell<Option<ClientId>>,
    reopen: bool,
}

impl Conn {
    /// The client to run on, opening the console client if needed.
    fn client(&self) -> Result<ClientId, JsValue> {
        if let Some(id) = self.id.get() {
            return Ok(id);
        }
        if !self.reopen {
            return Err(interop::error("the client is closed"));
        }
        let id = self.shared.try_borrow_mut().map_err(|_| busy())?.connect();
        self.id.set(Some(id));
        Ok(id)
    }

    /// Runs a command; after QUIT the connection is closed once the reply is in hand.
    fn call(&self, argv: &[Vec<u8>]) -> Result<Outcome, JsValue> {
        with_slices(argv.iter().map(Vec::as_slice), |args| self.call_args(args))
    }

    fn call_args(&self, args: &[&[u8]]) -> Result<Outcome, JsValue> {
        let id = self.client()?;
        let out = run(&self.shared, id, args)?;
        if out.closing {
            self.close();
        }
        Ok(out)
    }

    /// The reply as a JS value; `undefined` when the command blocked the client (its reply comes as a push).
    fn value(&self, argv: &[Vec<u8>]) -> Result<JsValue, JsValue> {
        with_slices(argv.iter().map(Vec::as_slice), |args| self.value_args(args))
    }

    fn value_args(&self, argv: &[&[u8]]) -> Result<JsValue, JsValue> {
        let out = self.call_args(argv)?;
        match out.reply {
            Some(reply) => interop::reply_to_js(&reply, out.resp),
            None if argv.is_empty() => Err(empty_command()),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    fn exec(&self, line: &str) -> Result<JsValue, JsValue> {
        // A line without quotes (nearly every one) runs on slices of itself: no copy of each argument.
        match split_plain(line.as_bytes()) {
            Some(words) => with_slices(words, |args| self.value_args(args)),
            None => self.value(&tokenize(line)?),
        }
    }

    fn command(&self, args: &JsValue) -> Result<JsValue, JsValue> {
        self.value(&interop::args_from_js(args)?)
    }

    /// Runs commands one after another, each exactly as `value` runs it, and collects their replies: an error
    /// reply (or a line that does not parse) is an `Error` in its place rather than thrown, a command that
    /// blocked is `undefined`. Only what stops the connection itself (a closed client, a busy engine) throws,
    /// leaving the commands before it done.
    fn batch(&self, commands: impl Iterator<Item = Result<Vec<Vec<u8>>, JsValue>>) -> Result<Array, JsValue> {
        let replies = Array::new();
        for argv in commands {
            let reply = match argv {
                Err(e) => e,
                Ok(argv) if argv.is_empty() => empty_command(),
                Ok(argv) => {
                    let out = self.call(&argv)?;
                    out.reply.map_or(JsValue::UNDEFINED, |r| interop::value_for(&r, out.resp))
                }
            };
            replies.push(&reply);
        }
        Ok(replies)
    }

    fn commands(&self, list: &JsValue) -> Result<Array, JsValue> {
        // Every argument is read before anything runs, so a wrong one changes nothing.
        let all = interop::command_list_from_js(list)?;
        self.batch(all.into_iter().map(Ok))
    }

    fn exec_many(&self, lines: &JsValue) -> Result<Array, JsValue> {
        let lines = interop::lines_from_js(lines)?;
        self.batch(lines.iter().map(|line| tokenize(line)))
    }

    fn formatted(&self, line: &str) -> Result<String, JsValue> {
        let argv = match split_args(line.as_bytes()) {
            Ok(argv) => argv,
            Err(e) => return Ok(format!("{e}\n")),
        };
        let out = self.call(&argv)?;
        Ok(out.reply.map_or_else(String::new, |r| format_console(&argv, &r, out.resp)))
    }

    fn resp(&self, line: &str) -> Result<Uint8Array, JsValue> {
        let argv = tokenize(line)?;
        let out = self.call(&argv)?;
        let bytes = out.reply.map_or_else(Vec::new, |r| r.to_resp(out.resp));
        Ok(interop::bytes_to_uint8array(&bytes))
    }

    fn prompt(&self) -> Result<String, JsValue> {
        let s = self.shared.try_borrow().map_err(|_| busy())?;
        let db = self.id.get().and_then(|id| s.engine.client(id)).map_or(0, |c| c.db);
        Ok(match db {
            0 => "127.0.0.1:6379> ".into(),
            db => format!("127.0.0.1:6379[{db}]> "),
        })
    }

    /// Disconnects the client (a blocked one stops waiting). Idempotent.
    fn close(&self) {
        if let Some(id) = self.id.take() {
            if let Ok(mut s) = self.shared.try_borrow_mut() {
                s.engine.disconnect(id);
                s.client_push.remove(&id);
            }
        }
    }
}

/// A Redis-compatible database in this page: one engine, a console client of its own, and more on `connect()`.
#[wasm_bindgen]
pub struct Redlet {
    conn: Conn,
}

#[wasm_bindgen]
impl Redlet {
    /// A new, empty database.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<RedletOptions>) -> Result<Redlet, JsValue> {
        let opts = interop::options_from_js(options.as_ref().map(|o| o.as_ref()))?;
        let real_now = js_sys::Date::now();
        let mut config = Config { seed: opts.seed.unwrap_or(real_now as u64), ..Config::default() };
        if let Some(bytes) = opts.maxmemory {
            config.maxmemory = bytes;
        }
        if let Some(policy) = opts.maxmemory_policy {
            config.maxmemory_policy = policy.into();
        }
        let clock = Clock { start: opts.clock_start.unwrap_or(real_now), real_base: real_now, offset: 0.0, manual: opts.manual_clock };
        let shared = Shared {
            engine: Engine::new(config),
            clock,
            resp: opts.resp,
            on_push: None,
            client_push: VecMap::new(),
            on_keyspace: None,
        };
        Ok(Redlet { conn: Conn { shared: Rc::new(RefCell::new(shared)), id: Cell::new(None), reopen: true } })
    }

    /// Runs one redis-cli line (`SET k "two words"`) on the console client and returns its reply as a JS value;
    /// an error reply is thrown as an `Error` with Redis's text. `undefined` when the command blocked the client
    /// (BLPOP on an empty list): its reply comes later through `onPush`.
    #[wasm_bindgen(unchecked_return_type = "RedisReply | undefined")]
    pub fn exec(&self, line: &str) -> Result<JsValue, JsValue> {
        self.conn.exec(line)
    }

    /// Runs one command given as its arguments (`["SET", "k", bytes]`) on the console client.
    #[wasm_bindgen(unchecked_return_type = "RedisReply | undefined")]
    pub fn command(&self, #[wasm_bindgen(unchecked_param_type = "RedisArg[]")] args: JsValue) -> Result<JsValue, JsValue> {
        self.conn.command(&args)
    }

    /// Runs a batch of commands, each an argument array as `command` takes it, and returns their replies in
    /// order: one call instead of one per command. An error reply is an `Error` in its place (not thrown), a
    /// command that blocked the client is `undefined`.
    #[wasm_bindgen(unchecked_return_type = "(RedisReply | undefined)[]")]
    pub fn commands(&self, #[wasm_bindgen(unchecked_param_type = "RedisArg[][]")] list: JsValue) -> Result<Array, JsValue> {
        self.conn.commands(&list)
    }

    /// Runs a batch of redis-cli lines, as `commands` runs argument arrays; a line that does not parse (or is
    /// blank) is an `Error` in its place.
    #[wasm_bindgen(js_name = execMany, unchecked_return_type = "(RedisReply | undefined)[]")]
    pub fn exec_many(&self, #[wasm_bindgen(unchecked_param_type = "string[]")] lines: JsValue) -> Result<Array, JsValue> {
        self.conn.exec_many(&lines)
    }

    /// Runs one typed redis-cli line and returns what redis-cli would print for it (errors included, as
    /// `(error) ...`). A blank line, or a command that blocked the client, prints nothing.
    #[wasm_bindgen(js_name = execFormatted)]
    pub fn exec_formatted(&self, line: &str) -> Result<String, JsValue> {
        self.conn.formatted(line)
    }

    /// Runs one redis-cli line and returns the reply's RESP bytes, exactly as a server would send them (none when
    /// the command blocked the client).
    #[wasm_bindgen(js_name = execResp)]
    pub fn exec_resp(&self, line: &str) -> Result<Uint8Array, JsValue> {
        self.conn.resp(line)
    }

    /// Formats a reply value as redis-cli prints it (`(integer) 1`, `1) "a"`, `(error) ...`).
    pub fn format(&self, #[wasm_bindgen(unchecked_param_type = "RedisReply")] reply: JsValue) -> Result<String, JsValue> {
        Ok(format_tty(&interop::reply_from_js(&reply)?))
    }

    /// The prompt redis-cli shows for the console client: `127.0.0.1:6379>`, or `127.0.0.1:6379[2]>` after SELECT 2.
    pub fn prompt(&self) -> Result<String, JsValue> {
        self.conn.prompt()
    }

    /// The console client's id (what CLIENT ID replies); opens the console client if it is not open.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> Result<f64, JsValue> {
        Ok(self.conn.client()? as f64)
    }

    /// Opens another client on the same data: its own selected database, name and protocol.
    pub fn connect(&self) -> Result<RedletClient, JsValue> {
        let id = self.conn.shared.try_borrow_mut().map_err(|_| busy())?.connect();
        Ok(RedletClient { conn: Conn { shared: Rc::clone(&self.conn.shared), id: Cell::new(Some(id)), reopen: false }, id })
    }

    /// Sets the callback for every client's pushes (pub/sub messages, replies of unblocked clients); null removes it.
    /// Pushes are delivered after each command and each tick.
    #[wasm_bindgen(js_name = onPush)]
    pub fn on_push(&self, #[wasm_bindgen(unchecked_param_type = "PushHandler | null")] callback: JsValue) -> Result<(), JsValue> {
        let cb = interop::callback_from_js(&callback, "onPush")?;
        self.conn.shared.try_borrow_mut().map_err(|_| busy())?.on_push = cb;
        Ok(())
    }

    /// Sets the callback for keyspace events (`{db, event, key}`: "set", "lpush", "del", "expired", "new",
    /// "keymiss", ... as Redis's keyspace notifications name them), called after each command and each tick
    /// with what it did, in order; null removes it. Events are collected only while a callback is set, whatever
    /// `notify-keyspace-events` says (that parameter drives the pub/sub notifications).
    #[wasm_bindgen(js_name = onKeyspace)]
    pub fn on_keyspace(&self, #[wasm_bindgen(unchecked_param_type = "KeyspaceHandler | null")] callback: JsValue) -> Result<(), JsValue> {
        let cb = interop::callback_from_js(&callback, "onKeyspace")?;
        let mut s = self.conn.shared.try_borrow_mut().map_err(|_| busy())?;
        s.engine.capture_events(cb.is_some());
        s.on_keyspace = cb;
        Ok(())
    }

    /// Moves the virtual clock forward by `ms` and runs the time-driven work, so TTLs can be watched expiring
    /// (and blocking commands timing out) without waiting.
    #[wasm_bindgen(js_name = advanceTime)]
    pub fn advance_time(&self, ms: f64) -> Result<(), JsValue> {
        tick(&self.conn.shared, ms)
    }

    /// The engine's current time in unix ms (the page's clock plus the virtual offset).
    pub fn now(&self) -> Result<f64, JsValue> {
        let s = self.conn.shared.try_borrow().map_err(|_| busy())?;
        Ok(s.now_ms() as f64)
    }

    /// Time-driven work: blocked clients' timeouts and active expiry. Call it on a timer (Redis runs it 10 times
    /// a second).
    pub fn tick(&self) -> Result<(), JsValue> {
        tick(&self.conn.shared, 0.0)
    }

    /// Every database as an RDB snapshot, the bytes SAVE would write to `dump.rdb` (RDB version 9, which
    /// Redis 5.0 and later load). Expiries are absolute times on this database's clock (`now()`), as in a file
    /// Redis wrote. Reading changes nothing.
    pub fn snapshot(&self) -> Result<Uint8Array, JsValue> {
        let s = self.conn.shared.try_borrow().map_err(|_| busy())?;
        Ok(interop::bytes_to_uint8array(&s.engine.save_rdb()))
    }

    /// Replaces every database with an RDB snapshot's (a `dump.rdb` from Redis, versions 1 to 12, or what
    /// `snapshot` made). Keys whose expiry has passed on this database's clock are not loaded, as Redis skips
    /// them. All or nothing: bytes that do not read completely as a snapshot throw an `Error` with the reason
    /// as Redis gives it ("Wrong signature trying to load DB from file", "RDB CRC error", ...) and change
    /// nothing. Clients stay connected; no keyspace events are reported for the loaded keys.
    pub fn restore(&self, #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue) -> Result<(), JsValue> {
        let rdb = interop::rdb_from_js(&bytes)?;
        // The engine's clock first (a tick, with its events and pushes), so that keys whose time has passed
        // are skipped as Redis skips them.
        tick(&self.conn.shared, 0.0)?;
        let mut s = self.conn.shared.try_borrow_mut().map_err(|_| busy())?;
        s.engine.load_rdb(&rdb).map_err(|e| interop::error(&e.to_string()))
    }

    /// A page of keys with type, TTL and memory, walked with a cursor as SCAN walks them.
    /// Reading changes nothing (no expiry, no access time, no statistics).
    #[wasm_bindgen(unchecked_return_type = "KeysPage")]
    pub fn keys(&self, options: Option<KeysOptions>) -> Result<JsValue, JsValue> {
        let args = interop::scan_args_from_js(options.as_ref().map(|o| o.as_ref()))?;
        let page = {
            let s = self.conn.shared.try_borrow().map_err(|_| busy())?;
            let now = s.now_ms().max(s.engine.now);
            introspect::scan(&s.engine, &args, now)
        };
        page.map(|p| interop::keys_page_to_js(&p)).map_err(|e| interop::engine_error(&e))
    }

    /// A key's value as a structure to draw, with its details; null when the key does not exist.
    #[wasm_bindgen(unchecked_return_type = "Inspection | null")]
    pub fn inspect(&self, #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue, db: Option<u32>) -> Result<JsValue, JsValue> {
        let key = interop::key_from_js(&key)?;
        let found = {
            let s = self.conn.shared.try_borrow().map_err(|_| busy())?;
            let now = s.now_ms().max(s.engine.now);
            introspect::inspect(&s.engine, db.unwrap_or(0) as usize, &key, now)
        };
        Ok(interop::inspection_to_js(found.as_ref()))
    }
}

impl Redlet {
    /// The engine, for Rust callers (tests) that need what no JS method offers, such as queueing a push.
    pub fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> Option<T> {
        self.conn.shared.try_borrow_mut().ok().map(|mut s| f(&mut s.engine))
    }
}

/// Another connection to the same database (from `Redlet.connect()`).
#[wasm_bindgen]
pub struct RedletClient {
    conn: Conn,
    /// The id it was opened with, still reported once closed.
    id: ClientId,
}

#[wasm_bindgen]
impl RedletClient {
    /// As `Redlet.exec`, on this client.
    #[wasm_bindgen(unchecked_return_type = "RedisReply | undefined")]
    pub fn exec(&self, line: &str) -> Result<JsValue, JsValue> {
        self.conn.exec(line)
    }

    /// As `Redlet.command`, on this client.
    #[wasm_bindgen(unchecked_return_type = "RedisReply | undefined")]
    pub fn command(&self, #[wasm_bindgen(unchecked_param_type = "RedisArg[]")] args: JsValue) -> Result<JsValue, JsValue> {
        self.conn.command(&args)
    }

    /// As `Redlet.commands`, on this client.
    #[wasm_bindgen(unchecked_return_type = "(RedisReply | undefined)[]")]
    pub fn commands(&self, #[wasm_bindgen(unchecked_param_type = "RedisArg[][]")] list: JsValue) -> Result<Array, JsValue> {
        self.conn.commands(&list)
    }

    /// As `Redlet.execMany`, on this client.
    #[wasm_bindgen(js_name = execMany, unchecked_return_type = "(RedisReply | undefined)[]")]
    pub fn exec_many(&self, #[wasm_bindgen(unchecked_param_type = "string[]")] lines: JsValue) -> Result<Array, JsValue> {
        self.conn.exec_many(&lines)
    }

    /// As `Redlet.execFormatted`, on this client.
    #[wasm_bindgen(js_name = execFormatted)]
    pub fn exec_formatted(&self, line: &str) -> Result<String, JsValue> {
        self.conn.formatted(line)
    }

    /// As `Redlet.execResp`, on this client.
    #[wasm_bindgen(js_name = execResp)]
    pub fn exec_resp(&self, line: &str) -> Result<Uint8Array, JsValue> {
        self.conn.resp(line)
    }

    /// As `Redlet.prompt`, for this client's selected database.
    pub fn prompt(&self) -> Result<String, JsValue> {
        self.conn.client()?;
        self.conn.prompt()
    }

    /// This client's id (what CLIENT ID replies on it).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> f64 {
        self.id as f64
    }

    /// Whether the client was closed (`close()` or QUIT).
    #[wasm_bindgen(getter)]
    pub fn closed(&self) -> bool {
        self.conn.id.get().is_none()
    }

    /// Sets the callback for this client's pushes (such as the reply of a blocking command); null removes it.
    #[wasm_bindgen(js_name = onPush)]
    pub fn on_push(&self, #[wasm_bindgen(unchecked_param_type = "ClientPushHandler | null")] callback: JsValue) -> Result<(), JsValue> {
        let id = self.conn.client()?;
        let cb = interop::callback_from_js(&callback, "onPush")?;
        let mut s = self.conn.shared.try_borrow_mut().map_err(|_| busy())?;
        match cb {
            Some(f) => s.client_push.insert(id, f),
            None => s.client_push.remove(&id),
        };
        Ok(())
    }

    /// Closes the connection: the engine forgets the client (CLIENT LIST no longer shows it, a blocked command
    /// stops waiting). Idempotent.
    pub fn close(&self) {
        self.conn.close();
    }
}
