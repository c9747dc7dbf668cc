//! The differential suite: every case file under `tests/cases` runs through a real redis-server and through
//! the engine, and the replies must be the same bytes.
//!
//! A case file is redis-cli lines. Markers in front of a line loosen the comparison only where Redis itself
//! is not deterministic: `!unordered` (arrays as multisets, recursively), `!type` (reply type only),
//! `!approx N` (numbers within N), `!fields a,b` (only those `field:value` lines of an INFO-like reply, or
//! only those fields of each entry of an array of maps, as ACL LOG's), `!entries i,j` (an array of arrays,
//! SLOWLOG GET's entries: elements i and j of each by type only, ids, times and client addresses), `!words`
//! (every string as a multiset of its space-separated words: ACL LIST and ACL GETUSER list single-command rules
//! in the order of Redis's command dictionary, which a random hash seed decides per server process).
//! Directives alone on a line: `!sleep MS` (real time passes for both), `!client N` (switch connection).
//!
//! Client ids differ between the two servers, so an argument `{id:N}` stands for the id of client N's
//! connection on each side (CLIENT TRACKING ... REDIRECT {id:2}), and `!ids` in front of a line (a command or
//! `!pushed`) compares every integer equal to such an id as `{id:N}` (a `tracking-redir-broken` push, GETREDIR).
//!
//! Blocking commands: `!noreply CMD` runs a command that blocks. Redis is sent it without a reply being read, and
//! the engine must answer nothing (`Engine::execute` returns `None`). The reply comes later: `!pushed` reads the
//! current client's pending reply from its Redis connection (waiting up to a second; none is recorded as empty)
//! and compares it with what the engine pushed to that client (`Engine::drain_pushes`, after an
//! `Engine::tick` at the current time so deadlines that passed are answered). `!close` drops the current
//! client's connection on both sides (`Engine::disconnect`); a later command on that client number connects
//! anew. A blocked client takes no other command until its reply has been read with `!pushed`.
//!
//! Commands answering several replies (SUBSCRIBE a b, UNSUBSCRIBE with no channel) and pub/sub messages: a
//! connection is a stream of replies. A command line compares the first reply the command left on it; the others,
//! and messages published to the client, are read with `!pushed N` (N replies, 1 by default; `!unordered !pushed
//! N` compares all their elements as one multiset, for replies in an order Redis takes from a dict walk). `!send CMD` sends a
//! command and reads nothing, so all its replies are left for `!pushed`. In process, the stream is what the engine
//! pushed to the client during the command followed by the command's reply, the order the server writes them.
//!
//! The Redlet side is the engine in this process (`differential_suite`) or, with the same files, a
//! `redlet-server` of its own per file reached over TCP (`differential_suite_over_tcp`): there a blocked
//! command is only sent, `!pushed` reads the connection, and the harness waits on the server's INFO as on Redis's.
//!
//! Beside each `name.txt` the replies Redis gave are recorded in `name.expected` (`REDLET_RECORD=1` writes them),
//! so the same cases run where no server is installed. With a server the recording must match it too.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redlet_core::resp::parse_reply;
use redlet_core::tokenize::split_args;
use redlet_core::{ClientId, Config, Engine, Reply};

use crate::redis::{required, Conn, RedisServer};
use crate::server::RedletServer;

/// Where the Redlet side of the suite runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// The engine, called in this process.
    InProcess,
    /// A `redlet-server` over TCP, a fresh one per case file as the in-process side gets a fresh engine.
    Tcp,
}

/// Redlet's end of one simulated connection.
enum Ours {
    Client(ClientId),
    Conn(Conn),
}

/// The Redlet side of one case file.
enum Redlet {
    Engine {
        engine: Box<Engine>,
        /// Replies the engine pushed (unblocked clients), per client, not yet compared.
        pushed: BTreeMap<ClientId, VecDeque<Vec<u8>>>,
    },
    Server {
        server: RedletServer,
        /// The counterpart of the Redis watcher, opened at the same step, so both servers count the same clients.
        watcher: Option<Conn>,
    },
}

impl Redlet {
    fn start(target: Target) -> Redlet {
        match target {
            Target::InProcess => Redlet::Engine { engine: Box::new(Engine::new(Config::default())), pushed: BTreeMap::new() },
            Target::Tcp => Redlet::Server { server: RedletServer::start(), watcher: None },
        }
    }

    fn connect(&mut self) -> Ours {
        match self {
            Redlet::Engine { engine, .. } => Ours::Client(engine.connect(now_ms())),
            Redlet::Server { server, .. } => Ours::Conn(server.connect().expect("connect to redlet-server")),
        }
    }

    /// Runs one command. Over TCP a blocking (`!noreply`) or `!send` command is only sent: its replies are read by
    /// `pushed`. In process a blocking command's reply is returned as it is (it must be none), a `!send` command's
    /// replies stay on the stream. After QUIT the client connects anew, as the Redis side does.
    fn command(&mut self, ours: &mut Ours, args: &[&[u8]], marker: &Marker) -> Vec<u8> {
        let noreply = matches!(marker, Marker::NoReply | Marker::Send);
        let quit = args.first().is_some_and(|n| n.eq_ignore_ascii_case(b"QUIT"));
        match (self, ours) {
            (Redlet::Engine { engine, pushed }, Ours::Client(id)) => {
                let reply = engine.execute(*id, args, now_ms());
                // The client's stream: what the command pushed (to it and to others) first, then its reply, then
                // what goes after the reply (its own tracking invalidations).
                for (client, push) in engine.drain_pushes() {
                    pushed.entry(client).or_default().push_back(push.to_resp(engine.resp_of(client)));
                }
                let after: Vec<(ClientId, Vec<u8>)> = engine
                    .drain_pushes_after_reply()
                    .into_iter()
                    .map(|(client, push)| (client, push.to_resp(engine.resp_of(client))))
                    .collect();
                let stream = pushed.entry(*id).or_default();
                let reply = reply.map(|r| r.to_resp(engine.resp_of(*id)));
                let reply = match (marker, reply) {
                    (Marker::NoReply, reply) => reply.unwrap_or_default(),
                    (_, reply) => {
                        stream.extend(reply);
                        if *marker == Marker::Send { Vec::new() } else { stream.pop_front().unwrap_or_default() }
                    }
                };
                for (client, push) in after {
                    pushed.entry(client).or_default().push_back(push);
                }
                if engine.is_closing(*id) {
                    engine.disconnect(*id);
                    pushed.remove(id);
                    *id = engine.connect(now_ms());
                }
                reply
            }
            (Redlet::Server { server, .. }, ours) => {
                let Ours::Conn(conn) = ours else { return Vec::new() };
                let result = if noreply { conn.send(args).map(|()| Vec::new()) } else { conn.call(args) };
                let reply = result.unwrap_or_else(|e| format!("<redlet-server: {e}>").into_bytes());
                if quit || reply.starts_with(b"<redlet-server") {
                    *ours = Ours::Conn(server.connect().expect("reconnect to redlet-server"));
                }
                reply
            }
            (Redlet::Engine { .. }, Ours::Conn(_)) => Vec::new(),
        }
    }

    /// The client's next pending reply (an unblocked client's, a message, a further confirmation), or empty.
    fn pushed(&mut self, ours: &mut Ours) -> Vec<u8> {
        match (self, ours) {
            (Redlet::Engine { engine, pushed }, Ours::Client(id)) => {
                engine.tick(now_ms());
                // A tick follows no command, so nothing of it goes after a reply.
                for (client, reply) in engine.drain_pushes() {
                    let bytes = reply.to_resp(engine.resp_of(client));
                    pushed.entry(client).or_default().push_back(bytes);
                }
                pushed.get_mut(id).and_then(VecDeque::pop_front).unwrap_or_default()
            }
            (Redlet::Server { .. }, Ours::Conn(conn)) => match conn.read_reply_within(Duration::from_secs(1)) {
                Ok(reply) => reply.unwrap_or_default(),
                Err(e) => format!("<redlet-server: {e}>").into_bytes(),
            },
            _ => Vec::new(),
        }
    }

    /// The engine's id of a client (over TCP, what CLIENT ID answers).
    fn id_of(&mut self, ours: &mut Ours) -> u64 {
        match ours {
            Ours::Client(id) => *id,
            Ours::Conn(conn) => conn.call(&[b"CLIENT", b"ID"]).map(|r| resp_integer(&r)).unwrap_or(0),
        }
    }

    fn close(&mut self, ours: Ours) {
        if let (Redlet::Engine { engine, pushed }, Ours::Client(id)) = (self, ours) {
            engine.disconnect(id);
            pushed.remove(&id);
        }
    }

    /// INFO's `blocked_clients` as the Redlet side should now show it: the engine knows; over TCP it is the
    /// clients whose blocking command has not been answered by a `!pushed` yet.
    fn blocked(&self, sides: &BTreeMap<u32, Side>) -> usize {
        match self {
            Redlet::Engine { engine, .. } => engine.blocking.len() + engine.pause.len(),
            Redlet::Server { .. } => sides.values().filter(|s| s.blocked).count(),
        }
    }

    /// Over TCP: waits until redlet-server's INFO clients shows `line`, so the next command on another connection
    /// cannot overtake a block or a disconnect. In process there is nothing to wait for.
    fn settle(&mut self, line: &str) {
        if let Redlet::Server { server, watcher } = self {
            let conn = watcher.get_or_insert_with(|| server.connect().expect("connect to redlet-server"));
            wait_info(conn, line);
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Marker {
    Exact,
    /// The command blocks: no reply now, from either side.
    NoReply,
    /// The command is sent and no reply is read: `!pushed` reads them.
    Send,
    Unordered,
    Type,
    Approx(f64),
    Fields(Vec<String>),
    Entries(Vec<usize>),
    /// Strings compared as multisets of their space-separated words.
    Words,
}

#[derive(Clone, Debug)]
pub enum Step {
    Sleep(u64),
    Client(u32),
    /// Compare the current client's next `count` pending replies (`Unordered`: as a multiset; `ids`: see `!ids`).
    Pushed { line_no: usize, count: usize, unordered: bool, ids: bool },
    /// Drop the current client's connection on both sides.
    Close,
    Command { line_no: usize, text: String, marker: Marker, argv: Vec<Vec<u8>>, ids: bool },
}

/// Parses a case file into steps; a malformed line is a test failure naming the line.
pub fn parse_case(path: &Path, text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let where_ = || format!("{}:{line_no}", path.display());
        // `!ids` goes in front of any other marker.
        let (ids, line) = match line.strip_prefix("!ids") {
            Some(tail) if tail.starts_with(char::is_whitespace) => (true, tail.trim_start()),
            _ => (false, line),
        };
        let mut rest = line;
        let mut marker = Marker::Exact;
        if let Some(after) = line.strip_prefix('!') {
            let (word, tail) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
            let tail = tail.trim_start();
            match word {
                "sleep" => {
                    steps.push(Step::Sleep(tail.parse().unwrap_or_else(|_| panic!("{}: !sleep MS", where_()))));
                    continue;
                }
                "client" => {
                    steps.push(Step::Client(tail.parse().unwrap_or_else(|_| panic!("{}: !client N", where_()))));
                    continue;
                }
                "pushed" => {
                    let count = if tail.is_empty() { 1 } else { tail.parse().unwrap_or_else(|_| panic!("{}: !pushed [N]", where_())) };
                    steps.push(Step::Pushed { line_no, count, unordered: false, ids });
                    continue;
                }
                "unordered" if tail.starts_with("!pushed") => {
                    let n = tail.trim_start_matches("!pushed").trim();
                    let count = if n.is_empty() { 1 } else { n.parse().unwrap_or_else(|_| panic!("{}: !pushed [N]", where_())) };
                    steps.push(Step::Pushed { line_no, count, unordered: true, ids });
                    continue;
                }
                "close" => {
                    steps.push(Step::Close);
                    continue;
                }
                "noreply" => marker = Marker::NoReply,
                "send" => marker = Marker::Send,
                "unordered" => marker = Marker::Unordered,
                "type" => marker = Marker::Type,
                "words" => marker = Marker::Words,
                "approx" | "fields" | "entries" => {
                    let (arg, cmd) = tail.split_once(char::is_whitespace).unwrap_or_else(|| panic!("{}: !{word} ARG CMD", where_()));
                    marker = if word == "approx" {
                        Marker::Approx(arg.parse().unwrap_or_else(|_| panic!("{}: !approx N", where_())))
                    } else if word == "entries" {
                        Marker::Entries(arg.split(',').map(|n| n.parse().unwrap_or_else(|_| panic!("{}: !entries i,j", where_()))).collect())
                    } else {
                        Marker::Fields(arg.split(',').map(String::from).collect())
                    };
                    rest = cmd.trim_start();
                    let argv = split_args(rest.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", where_()));
                    steps.push(Step::Command { line_no, text: rest.to_string(), marker, argv, ids });
                    continue;
                }
                _ => panic!("{}: unknown marker !{word}", where_()),
            }
            rest = tail;
        }
        let argv = split_args(rest.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", where_()));
        if argv.is_empty() {
            continue;
        }
        steps.push(Step::Command { line_no, text: rest.to_string(), marker, argv, ids });
    }
    steps
}

/// Whether `actual` matches `expected` under `marker`; both are RESP bytes.
pub fn matches(marker: &Marker, actual: &[u8], expected: &[u8]) -> bool {
    match marker {
        Marker::Exact | Marker::NoReply | Marker::Send => actual == expected,
        Marker::Type => actual.first() == expected.first(),
        Marker::Unordered => match (decode_all(actual), decode_all(expected)) {
            (Some(a), Some(b)) => normalize(a).to_resp(3) == normalize(b).to_resp(3),
            _ => false,
        },
        Marker::Approx(tol) => match (decode(actual), decode(expected)) {
            (Some(a), Some(b)) => approx_eq(&a, &b, *tol),
            _ => false,
        },
        Marker::Entries(loose) => match (decode(actual), decode(expected)) {
            (Some(Reply::Array(a)), Some(Reply::Array(b))) => {
                a.len() == b.len()
                    && a.iter().zip(&b).all(|(x, y)| match (x, y) {
                        (Reply::Array(x), Reply::Array(y)) => {
                            x.len() == y.len()
                                && x.iter().zip(y).enumerate().all(|(i, (p, q))| {
                                    if loose.contains(&i) {
                                        std::mem::discriminant(p) == std::mem::discriminant(q)
                                    } else {
                                        p == q
                                    }
                                })
                        }
                        _ => x == y,
                    })
            }
            _ => false,
        },
        Marker::Fields(names) => match (decode(actual), decode(expected)) {
            (Some(a), Some(b)) => match fields(&a, names) {
                Some(fa) => Some(fa) == fields(&b, names),
                None => entry_fields(&a, names).is_some_and(|fa| Some(fa) == entry_fields(&b, names)),
            },
            _ => false,
        },
        Marker::Words => match (decode(actual), decode(expected)) {
            (Some(a), Some(b)) => sort_words(a).to_resp(3) == sort_words(b).to_resp(3),
            _ => false,
        },
    }
}

/// Every string of a reply with its space-separated words sorted.
fn sort_words(r: Reply) -> Reply {
    let sort = |b: Vec<u8>| {
        let mut words: Vec<&[u8]> = b.split(|&c| c == b' ').collect();
        words.sort();
        words.join(&b' ')
    };
    match r {
        Reply::Bulk(b) => Reply::Bulk(sort(b)),
        Reply::Array(items) => Reply::Array(items.into_iter().map(sort_words).collect()),
        Reply::Set(items) => Reply::Set(items.into_iter().map(sort_words).collect()),
        Reply::Map(pairs) => Reply::Map(pairs.into_iter().map(|(k, v)| (sort_words(k), sort_words(v))).collect()),
        other => other,
    }
}

/// The named fields of each entry of an array whose entries are maps (RESP3) or flat key-value arrays (RESP2).
fn entry_fields(r: &Reply, names: &[String]) -> Option<Vec<BTreeMap<String, Vec<u8>>>> {
    let Reply::Array(items) = r else { return None };
    items
        .iter()
        .map(|item| {
            let pairs: Vec<(&Reply, &Reply)> = match item {
                Reply::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
                Reply::Array(flat) if flat.len() % 2 == 0 => flat.chunks(2).map(|kv| (&kv[0], &kv[1])).collect(),
                _ => return None,
            };
            let mut found = BTreeMap::new();
            for (k, v) in pairs {
                if let Reply::Bulk(k) = k {
                    let k = String::from_utf8_lossy(k).into_owned();
                    if names.contains(&k) {
                        found.insert(k, v.to_resp(3));
                    }
                }
            }
            Some(found)
        })
        .collect()
}

fn decode(bytes: &[u8]) -> Option<Reply> {
    match parse_reply(bytes) {
        Ok(Some((r, used))) if used == bytes.len() => Some(r),
        _ => None,
    }
}

/// One reply, or several read in a row (`!pushed N`) as one array of all their elements: Redis pairs the
/// channels of an unsubscribe-all with falling counts in its dict's order, so only the whole is comparable.
fn decode_all(bytes: &[u8]) -> Option<Reply> {
    let mut replies = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (r, used) = parse_reply(bytes.get(at..)?).ok()??;
        replies.push(r);
        at += used;
    }
    if replies.len() == 1 {
        return replies.pop();
    }
    let items = replies
        .into_iter()
        .flat_map(|r| match r {
            Reply::Array(items) | Reply::Push(items) | Reply::Set(items) => items,
            other => vec![other],
        })
        .collect();
    Some(Reply::Array(items))
}

/// Sorts every aggregate by its elements' encoding so order no longer matters.
fn normalize(r: Reply) -> Reply {
    let sort = |items: Vec<Reply>| {
        let mut v: Vec<Reply> = items.into_iter().map(normalize).collect();
        v.sort_by_key(|x| x.to_resp(3));
        v
    };
    match r {
        Reply::Array(items) => Reply::Array(sort(items)),
        Reply::Set(items) => Reply::Set(sort(items)),
        Reply::Push(items) => Reply::Push(sort(items)),
        Reply::Map(pairs) => {
            let mut v: Vec<(Reply, Reply)> = pairs.into_iter().map(|(k, v)| (normalize(k), normalize(v))).collect();
            v.sort_by_key(|(k, v)| (k.to_resp(3), v.to_resp(3)));
            Reply::Map(v)
        }
        other => other,
    }
}

fn number(r: &Reply) -> Option<f64> {
    match r {
        Reply::Integer(i) => Some(*i as f64),
        Reply::Double(d) => Some(*d),
        Reply::Bulk(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn approx_eq(a: &Reply, b: &Reply, tol: f64) -> bool {
    match (a, b) {
        (Reply::Array(x), Reply::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| approx_eq(p, q, tol)),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => std::mem::discriminant(a) == std::mem::discriminant(b) && (x - y).abs() <= tol,
            _ => a == b,
        },
    }
}

fn fields(r: &Reply, names: &[String]) -> Option<BTreeMap<String, String>> {
    let text = match r {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
        _ => return None,
    };
    let mut found = BTreeMap::new();
    for line in text.split("\r\n") {
        if let Some((k, v)) = line.split_once(':') {
            if names.iter().any(|n| n == k) {
                found.insert(k.to_string(), v.to_string());
            }
        }
    }
    Some(found)
}

/// Bytes as one printable line: `\r`, `\n`, `\\` and `\xHH` escapes.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

pub fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b'x' if i + 3 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("00");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 2;
                }
                other => out.push(other),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The recorded replies of a case file: `> command line` followed by the escaped reply bytes.
fn read_expected(path: &Path) -> Option<Vec<(String, Vec<u8>)>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(cmd) = lines.next() {
        let cmd = cmd.strip_prefix("> ")?;
        out.push((cmd.to_string(), unescape(lines.next()?)));
    }
    Some(out)
}

fn write_expected(path: &Path, rows: &[(String, Vec<u8>)]) {
    let mut text = String::new();
    for (cmd, reply) in rows {
        text.push_str("> ");
        text.push_str(cmd);
        text.push('\n');
        text.push_str(&escape(reply));
        text.push('\n');
    }
    std::fs::write(path, text).expect("write .expected");
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

pub fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "txt") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Puts a real server back to the state every case file starts from.
pub const RESET: &[&[&str]] = &[
    &["FLUSHALL"],
    &["CONFIG", "RESETSTAT"],
    &["CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction", "maxmemory-samples", "5"],
    &["CONFIG", "SET", "hz", "10", "proto-max-bulk-len", "536870912", "notify-keyspace-events", ""],
    &["CONFIG", "SET", "lfu-log-factor", "10", "lfu-decay-time", "1", "set-max-intset-entries", "512"],
    // The binary's built-in defaults, which a server started without a config file (the oracle) has: 512 hash
    // entries, although the sample redis.conf lowers that to 128.
    &["CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-listpack-value", "64"],
    &["CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "64"],
    &["CONFIG", "SET", "list-max-listpack-size", "-2", "list-compress-depth", "0"],
    &["CONFIG", "SET", "tracking-table-max-keys", "1000000"],
];

/// Both sides of one simulated connection.
struct Side {
    ours: Ours,
    conn: Option<Conn>,
    /// Sent a blocking command whose reply no `!pushed` has read yet.
    blocked: bool,
    /// The connection's id on each side (Redlet's, Redis's; 0 unknown), asked as it opens in a file that uses
    /// `{id:N}` (asked later, a subscribed RESP2 connection could not answer).
    ids: (u64, u64),
}

impl Side {
    fn open(redlet: &mut Redlet, server: Option<&RedisServer>, want_ids: bool) -> Side {
        let mut ours = redlet.connect();
        let mut conn = server.map(|s| s.connect().expect("connect to redis-server"));
        let ids = if want_ids {
            let theirs = conn.as_mut().map_or(0, |c| c.call(&[b"CLIENT", b"ID"]).map(|r| resp_integer(&r)).unwrap_or(0));
            (redlet.id_of(&mut ours), theirs)
        } else {
            (0, 0)
        };
        Side { ours, conn, blocked: false, ids }
    }
}

#[derive(Default)]
struct Tally {
    files: usize,
    commands: usize,
    differences: Vec<String>,
}

fn run_file(path: &Path, server: Option<&RedisServer>, record: bool, target: Target, tally: &mut Tally) {
    // The in-process run owns the recordings; the TCP run only reads them.
    let owns_recording = target == Target::InProcess;
    let text = std::fs::read_to_string(path).expect("read case file");
    let steps = parse_case(path, &text);
    let expected_path = path.with_extension("expected");
    let recorded = read_expected(&expected_path);
    if server.is_none() && recorded.is_none() {
        tally.differences.push(format!("{}: no recorded expectations and no redis-server to compare with", path.display()));
        return;
    }
    if let Some(s) = server {
        let mut control = s.connect().expect("connect to redis-server");
        for cmd in RESET {
            let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            control.call(&argv).expect("reset redis-server");
        }
    }
    // A side connection to watch Redis block and drop clients, opened by the first `!noreply` or `!close`
    // (so files without them see exactly their own clients in INFO and CLIENT LIST).
    let mut watcher: Option<Conn> = None;
    let mut redlet = Redlet::start(target);
    let mut watch = |redlet: &mut Redlet, line: String| {
        if let Some(s) = server {
            let conn = watcher.get_or_insert_with(|| s.connect().expect("connect to redis-server"));
            wait_info(conn, &line);
        }
        redlet.settle(&line);
    };
    let mut sides: BTreeMap<u32, Side> = BTreeMap::new();
    // The ids `{id:N}` stood for, as (N, Redlet's id, Redis's id): a `!ids` line compares them as `{id:N}`, even
    // after client N is gone.
    let mut seen_ids: Vec<(u32, u64, u64)> = Vec::new();
    let want_ids = text.contains("{id:");
    let mut current = 1u32;
    let mut rows: Vec<(String, Vec<u8>)> = Vec::new();
    let mut index = 0usize;
    tally.files += 1;
    for step in steps {
        let (line_no, text, marker, ours, theirs_live, ids) = match step {
            Step::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                continue;
            }
            Step::Client(n) => {
                current = n;
                continue;
            }
            Step::Close => {
                if let Some(side) = sides.remove(&current) {
                    redlet.close(side.ours);
                    drop(side.conn);
                    // Let Redis see the connection go before the next command arrives on another one: it has one
                    // client more than the engine, the watcher.
                    watch(&mut redlet, format!("connected_clients:{}", sides.len() + 1));
                }
                continue;
            }
            Step::Pushed { line_no, count, unordered, ids } => {
                let side = sides.entry(current).or_insert_with(|| Side::open(&mut redlet, server, want_ids));
                side.blocked = false;
                let mut ours = Vec::new();
                let mut theirs = side.conn.as_ref().map(|_| Vec::new());
                for _ in 0..count {
                    ours.extend(redlet.pushed(&mut side.ours));
                    if let (Some(conn), Some(theirs)) = (side.conn.as_mut(), theirs.as_mut()) {
                        let reply = conn
                            .read_reply_within(Duration::from_secs(1))
                            .unwrap_or_else(|e| panic!("{}:{line_no}: redis: {e}", path.display()))
                            .unwrap_or_default();
                        theirs.extend(reply);
                    }
                }
                let text = if count == 1 { "!pushed".to_string() } else { format!("!pushed {count}") };
                let marker = if unordered { Marker::Unordered } else { Marker::Exact };
                (line_no, text, marker, ours, theirs, ids)
            }
            Step::Command { line_no, text, marker, argv, ids } => {
                // `{id:N}` arguments: each side's id of client N, whose connection opens if it is not open yet.
                for n in id_refs(&argv) {
                    let side = sides.entry(n).or_insert_with(|| Side::open(&mut redlet, server, want_ids));
                    let (ours_id, theirs_id) = side.ids;
                    seen_ids.retain(|&(m, _, _)| m != n);
                    seen_ids.push((n, ours_id, theirs_id));
                }
                let ours_argv: Vec<Vec<u8>> = argv.iter().map(|a| substitute_ids(a, &seen_ids, true)).collect();
                let theirs_argv: Vec<Vec<u8>> = argv.iter().map(|a| substitute_ids(a, &seen_ids, false)).collect();
                let side = sides.entry(current).or_insert_with(|| Side::open(&mut redlet, server, want_ids));
                let args: Vec<&[u8]> = ours_argv.iter().map(Vec::as_slice).collect();
                let noreply = marker == Marker::NoReply;
                let send = noreply || marker == Marker::Send;
                let ours = redlet.command(&mut side.ours, &args, &marker);
                let args: Vec<&[u8]> = theirs_argv.iter().map(Vec::as_slice).collect();
                side.blocked |= noreply;
                let theirs = match (side.conn.as_mut(), server) {
                    (Some(conn), Some(_)) if send => {
                        conn.send(&args).unwrap_or_else(|e| panic!("{}:{line_no}: redis: {e}", path.display()));
                        Some(Vec::new())
                    }
                    (Some(conn), Some(s)) => {
                        let reply = conn.call(&args).unwrap_or_else(|e| panic!("{}:{line_no}: redis: {e}", path.display()));
                        if argv.first().is_some_and(|n| n.eq_ignore_ascii_case(b"QUIT")) {
                            side.conn = Some(s.connect().expect("reconnect"));
                        }
                        Some(reply)
                    }
                    _ => None,
                };
                if noreply {
                    // Another connection's next command must not overtake this one: wait until Redis (and a
                    // redlet-server) has as many blocked clients as the engine.
                    let blocked = redlet.blocked(&sides);
                    watch(&mut redlet, format!("blocked_clients:{blocked}"));
                }
                (line_no, text, marker, ours, theirs, ids)
            }
        };
        let (ours, theirs_live) = if ids {
            let ours_ids: Vec<(u32, u64)> = seen_ids.iter().map(|&(n, o, _)| (n, o)).collect();
            let theirs_ids: Vec<(u32, u64)> = seen_ids.iter().map(|&(n, _, t)| (n, t)).collect();
            (normalize_ids(&ours, &ours_ids), theirs_live.map(|t| normalize_ids(&t, &theirs_ids)))
        } else {
            (ours, theirs_live)
        };
        let theirs = match theirs_live {
            Some(reply) => reply,
            _ => match recorded.as_ref().and_then(|r| r.get(index)) {
                Some((cmd, reply)) if *cmd == text => reply.clone(),
                _ => {
                    tally.differences.push(format!(
                        "{}:{line_no}: recording is stale (run with REDLET_RECORD=1 where redis-server is installed)",
                        path.display()
                    ));
                    return;
                }
            },
        };
        tally.commands += 1;
        if !matches(&marker, &ours, &theirs) {
            tally.differences.push(format!(
                "{}:{line_no}: {text}\n    redis:  {}\n    redlet: {}",
                path.display(),
                escape(&theirs),
                escape(&ours)
            ));
        }
        if server.is_some() && !record && owns_recording {
            let stale = match recorded.as_ref().and_then(|r| r.get(index)) {
                Some((cmd, reply)) => *cmd != text || !matches(&marker, reply, &theirs),
                None => true,
            };
            if stale {
                tally.differences.push(format!(
                    "{}:{line_no}: recorded reply differs from redis-server (run with REDLET_RECORD=1)",
                    path.display()
                ));
            }
        }
        // Keep a recording that still holds under its marker, so re-recording changes only what changed.
        let kept = recorded
            .as_ref()
            .and_then(|r| r.get(index))
            .filter(|(cmd, reply)| *cmd == text && matches(&marker, reply, &theirs))
            .map(|(_, reply)| reply.clone());
        rows.push((text, kept.unwrap_or(theirs)));
        index += 1;
    }
    if server.is_some() && owns_recording {
        if record {
            write_expected(&expected_path, &rows);
        } else if recorded.as_ref().is_some_and(|r| r.len() != rows.len()) {
            tally.differences.push(format!("{}: recording has a different number of commands", path.display()));
        }
    }
}

/// The client numbers N of the `{id:N}` arguments of a command.
fn id_refs(argv: &[Vec<u8>]) -> Vec<u32> {
    let mut refs = Vec::new();
    for arg in argv {
        let text = String::from_utf8_lossy(arg);
        let mut rest = text.as_ref();
        while let Some(at) = rest.find("{id:") {
            let tail = &rest[at + 4..];
            if let Some(end) = tail.find('}') {
                if let Ok(n) = tail[..end].parse() {
                    refs.push(n);
                }
            }
            rest = tail;
        }
    }
    refs
}

/// `arg` with each `{id:N}` replaced by client N's id on one side (`ours`: Redlet's, else Redis's).
fn substitute_ids(arg: &[u8], ids: &[(u32, u64, u64)], ours: bool) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(arg).into_owned();
    if !text.contains("{id:") {
        return arg.to_vec();
    }
    for &(n, o, t) in ids {
        text = text.replace(&format!("{{id:{n}}}"), &(if ours { o } else { t }).to_string());
    }
    text.into_bytes()
}

/// A reply with every RESP integer that is one of `ids` written as `:{id:N}`, so replies that carry client ids
/// compare across servers.
fn normalize_ids(bytes: &[u8], ids: &[(u32, u64)]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<String> = text
        .split("\r\n")
        .map(|line| {
            let id = line.strip_prefix(':').and_then(|n| n.parse::<u64>().ok());
            match ids.iter().find(|&&(_, i)| Some(i) == id) {
                Some((n, _)) => format!(":{{id:{n}}}"),
                None => line.to_string(),
            }
        })
        .collect();
    lines.join("\r\n").into_bytes()
}

/// The value of a RESP integer reply (`:5\r\n`), 0 for anything else.
fn resp_integer(reply: &[u8]) -> u64 {
    String::from_utf8_lossy(reply).trim().strip_prefix(':').and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Polls Redis until INFO clients shows the `field:value` line `line` (for up to a second: a case that expects a
/// block Redis does not make shows up at its `!pushed`).
pub fn wait_info(control: &mut Conn, line: &str) {
    let want = format!("{line}\r\n");
    for _ in 0..200 {
        let info = control.call(&[b"INFO", b"clients"]).unwrap_or_default();
        if String::from_utf8_lossy(&info).contains(&want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

#[test]
fn differential_suite() {
    suite(Target::InProcess);
}

/// The same case files against a `redlet-server` over TCP: the server must add no difference of its own.
#[test]
fn differential_suite_over_tcp() {
    suite(Target::Tcp);
}

fn suite(target: Target) {
    let server = RedisServer::start();
    if server.is_none() && required() {
        panic!("REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
    }
    let record = std::env::var("REDLET_RECORD").is_ok_and(|v| v == "1") && server.is_some();
    let filter = std::env::var("REDLET_CASES").unwrap_or_default();
    let mut tally = Tally::default();
    for path in case_files(&cases_dir()) {
        if !filter.is_empty() && !path.to_string_lossy().contains(&filter) {
            continue;
        }
        run_file(&path, server.as_ref(), record && target == Target::InProcess, target, &mut tally);
    }
    let against = if server.is_some() { "a live redis-server" } else { "recorded redis-server replies" };
    println!(
        "differential ({target:?}): {} case files, {} commands against {against}, {} differed",
        tally.files,
        tally.commands,
        tally.differences.len()
    );
    for d in tally.differences.iter().take(60) {
        println!("DIFF {d}");
    }
    assert!(tally.files > 0 || !filter.is_empty(), "no case files found");
    assert!(tally.differences.is_empty(), "{} differences (listed above)", tally.differences.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_round_trips() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        assert_eq!(unescape(&escape(&bytes)), bytes);
    }

    #[test]
    fn markers_loosen_only_what_they_name() {
        let a = b"*2\r\n$1\r\na\r\n$1\r\nb\r\n";
        let b = b"*2\r\n$1\r\nb\r\n$1\r\na\r\n";
        assert!(!matches(&Marker::Exact, a, b));
        assert!(matches(&Marker::Unordered, a, b));
        assert!(!matches(&Marker::Unordered, a, b"*2\r\n$1\r\nb\r\n$1\r\nc\r\n"));
        assert!(matches(&Marker::Approx(2.0), b":100\r\n", b":99\r\n"));
        assert!(!matches(&Marker::Approx(2.0), b":100\r\n", b":90\r\n"));
        let info_a = Reply::bulk_str("x:1\r\nkeyspace_hits:3\r\ny:2\r\n").to_resp(2);
        let info_b = Reply::bulk_str("x:9\r\nkeyspace_hits:3\r\ny:5\r\n").to_resp(2);
        assert!(matches(&Marker::Fields(vec!["keyspace_hits".into()]), &info_a, &info_b));
        assert!(!matches(&Marker::Fields(vec!["x".into()]), &info_a, &info_b));
        // An array of entries (ACL LOG): only the named fields of each, and the entries' count, are compared.
        let entry = |count: i64, age: &str| {
            Reply::Map(vec![
                (Reply::bulk_str("count"), Reply::Integer(count)),
                (Reply::bulk_str("age-seconds"), Reply::bulk_str(age)),
            ])
        };
        let log_a = Reply::Array(vec![entry(2, "0"), entry(1, "0.5")]);
        let log_b = Reply::Array(vec![entry(2, "0.001"), entry(1, "3")]);
        let count = Marker::Fields(vec!["count".into()]);
        for resp in [2, 3] {
            assert!(matches(&count, &log_a.to_resp(resp), &log_b.to_resp(resp)));
            assert!(!matches(&Marker::Fields(vec!["age-seconds".into()]), &log_a.to_resp(resp), &log_b.to_resp(resp)));
            let shorter = Reply::Array(vec![entry(2, "0")]);
            assert!(!matches(&count, &shorter.to_resp(resp), &log_b.to_resp(resp)));
        }
        // Words: the same rules in another order match, other rules do not.
        let rules = |s: &str| Reply::Array(vec![Reply::bulk_str(s)]).to_resp(2);
        assert!(matches(&Marker::Words, &rules("-@all +get +set"), &rules("-@all +set +get")));
        assert!(!matches(&Marker::Words, &rules("-@all +get +set"), &rules("-@all +get +del")));
        assert!(!matches(&Marker::Exact, &rules("-@all +get +set"), &rules("-@all +set +get")));
    }
}
