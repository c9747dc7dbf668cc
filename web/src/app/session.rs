//! The engine as the playground drives it: one `Engine`, the console clients, the virtual clock, and a
//! console line run the way an interactive redis-cli runs it.
//!
//! Plain Rust without the browser: the page passes in the real clock (`Date.now()`), and everything here is
//! tested natively.

use redlet_core::format::format_console;
use redlet_core::rdb::RdbError;
use redlet_core::tokenize::split_args;
use redlet_core::{ClientId, Config, Engine, Reply};

use super::help;
use super::i18n::Lang;
use super::lessons::CheckRow;
use crate::tutorial::{self, Step};

/// The playground's clock: the page's clock plus an offset the learner moves forward, or frozen while paused.
/// The engine only ever sees `now`, which never goes backwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    /// Added to the real clock while running (negative after a pause: the paused time is not skipped).
    offset: i64,
    /// The virtual time at which the clock was paused.
    paused_at: Option<u64>,
}

impl Clock {
    /// A clock as `offset` and `paused_at` describe it (what the page keeps across reloads).
    pub fn from_parts(offset: i64, paused_at: Option<u64>) -> Clock {
        Clock { offset, paused_at }
    }

    /// How far ahead of the real clock it runs (ms; negative after pauses); meaningless while paused.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// The virtual time it stands still at, while paused.
    pub fn paused_at(&self) -> Option<u64> {
        self.paused_at
    }

    pub fn now(&self, real: u64) -> u64 {
        match self.paused_at {
            Some(at) => at,
            None => real.saturating_add_signed(self.offset),
        }
    }

    pub fn paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// How far the virtual clock is ahead of the real one (negative after pauses).
    pub fn ahead(&self, real: u64) -> i64 {
        self.now(real) as i64 - real as i64
    }

    pub fn advance(&mut self, ms: u64) {
        match &mut self.paused_at {
            Some(at) => *at = at.saturating_add(ms),
            None => self.offset = self.offset.saturating_add(ms as i64),
        }
    }

    pub fn pause(&mut self, real: u64) {
        if self.paused_at.is_none() {
            self.paused_at = Some(self.now(real));
        }
    }

    pub fn resume(&mut self, real: u64) {
        if let Some(at) = self.paused_at.take() {
            // Continue from where the clock stood, so the paused time did not pass for the data.
            self.offset = at as i64 - real as i64;
        }
    }
}

/// What a console shows for one piece of output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// The prompt and the line as typed.
    Input { prompt: String, line: String },
    /// A reply as redis-cli prints it (final newline removed).
    Reply(String),
    /// An error reply as redis-cli prints it (`(error) ERR …`).
    Error(String),
    /// A message pushed to the client (pub/sub), or the late reply of a blocking command.
    Push(String),
    /// Text from the console itself (redis-cli's own messages, HELP).
    Note(String),
}

/// What running one line produced, for every console it concerns.
#[derive(Debug, Default)]
pub struct Ran {
    pub outputs: Vec<(ClientId, Out)>,
    /// The keys the line's command names (by the command table), for the key browser to follow.
    pub keys: Vec<Vec<u8>>,
    /// The line was `clear` (redis-cli clears the screen).
    pub clear: bool,
    /// The client was replaced (QUIT): its console goes on with this new client.
    pub reconnected: Option<ClientId>,
    /// The command may change keys without keyspace events (FLUSHDB, SWAPDB, DEBUG RELOAD, a transaction
    /// holding any of them): views must read every key again rather than follow the events.
    pub bulk: bool,
}

/// Commands that change keys without a keyspace event per key (Redis emits none for a flush or a swap), and
/// EXEC, whose transaction may hold one.
const BULK: [&[u8]; 6] = [b"flushdb", b"flushall", b"swapdb", b"debug", b"exec", b"restore"];

/// redis-cli's own message after SUBSCRIBE and friends.
pub const READING_MESSAGES: &str = "Reading messages... (press Ctrl-C to quit)";

pub struct Session {
    pub engine: Engine,
    pub clock: Clock,
    /// Commands and ticks that changed the data, and loads, since the page started (carried over by a reset):
    /// what the page watches to know there is something new to keep. The engine's own `dirty` cannot say it,
    /// since SAVE sets it back to 0.
    pub changes: u64,
}

impl Session {
    pub fn new(seed: u64) -> Session {
        // DEBUG as redis-cli may use it on a server of one's own (`local`: every console is a local client), so a
        // learner can DEBUG POPULATE 100000 to watch a big keyspace.
        let config = Config { seed, enable_debug_command: "local".into(), ..Config::default() };
        let mut engine = Engine::new(config);
        // Every change to a key is logged (whatever notify-keyspace-events says), so the key browser updates
        // the keys a command touched instead of reading 100,000 keys after each one; `State` drains the log.
        engine.capture_events(true);
        Session { engine, clock: Clock::default(), changes: 0 }
    }

    /// Every database as an RDB snapshot, what SAVE writes to `dump.rdb`; expiries in it are times on the
    /// virtual clock.
    pub fn snapshot(&self) -> Vec<u8> {
        self.engine.save_rdb()
    }

    /// Replaces every database with an RDB snapshot's (a `dump.rdb`, or what `snapshot` made). All or
    /// nothing: a snapshot that does not read completely changes nothing. Keys whose expiry has passed on the
    /// virtual clock are not loaded, as Redis skips them; the consoles' clients stay connected.
    pub fn restore(&mut self, rdb: &[u8], real: u64) -> Result<(), RdbError> {
        // The engine's clock first, so that it knows which keys' time has passed.
        self.tick_engine(real);
        self.engine.load_rdb(rdb)?;
        self.changes += 1;
        Ok(())
    }

    /// Keys in every database.
    pub fn key_count(&self) -> usize {
        self.engine.dbs.iter().map(|d| d.keys.len()).sum()
    }

    /// The engine's periodic work at the virtual time, counted as a change when it changed the data.
    fn tick_engine(&mut self, real: u64) {
        let now = self.now(real);
        let dirty = self.engine.dirty;
        self.engine.tick(now);
        if self.engine.dirty != dirty {
            self.changes += 1;
        }
    }

    pub fn now(&self, real: u64) -> u64 {
        self.clock.now(real)
    }

    pub fn connect(&mut self, real: u64) -> ClientId {
        let now = self.now(real);
        self.engine.connect(now)
    }

    /// The prompt redis-cli shows for the client: `127.0.0.1:6379>`, `127.0.0.1:6379[2]>` after SELECT 2,
    /// `127.0.0.1:6379(TX)>` inside MULTI.
    pub fn prompt(&self, client: ClientId) -> String {
        let db = self.engine.client(client).map_or(0, |c| c.db);
        let mut p = String::from("127.0.0.1:6379");
        if db != 0 {
            p.push_str(&format!("[{db}]"));
        }
        if self.engine.multi.in_multi(client) {
            p.push_str("(TX)");
        }
        p.push_str("> ");
        p
    }

    pub fn is_blocked(&self, client: ClientId) -> bool {
        self.engine.is_blocked(client)
    }

    pub fn is_subscribed(&self, client: ClientId) -> bool {
        self.engine.pubsub.is_subscribed(client)
    }

    pub fn in_multi(&self, client: ClientId) -> bool {
        self.engine.multi.in_multi(client)
    }

    pub fn db_of(&self, client: ClientId) -> usize {
        self.engine.client(client).map_or(0, |c| c.db)
    }

    /// Runs one console line for `client` as an interactive redis-cli would: its own commands (`HELP`,
    /// `clear`, a leading repeat count as in `3 INCR n`), the "Invalid argument(s)" of an unbalanced quote, then
    /// the command itself. Pushes the command caused go to the consoles of the clients they are for.
    /// Runs an exercise's check as the tests do: each command on a client of its own, which is then closed, with
    /// what it printed beside what the lesson expects.
    pub fn check(&mut self, check: &Step, real: u64) -> Vec<CheckRow> {
        let client = self.connect(real);
        let now = self.now(real);
        let rows = check
            .lines
            .iter()
            .map(|line| {
                let argv = line.argv();
                let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                let got = match self.engine.execute(client, &args, now) {
                    Some(reply) => format_console(&argv, &reply, self.engine.resp_of(client)),
                    None => String::new(),
                };
                let ok = tutorial::output_matches(&line.output, &got, check.excerpt, check.approx);
                CheckRow { command: line.command.clone(), expected: line.output.clone(), got, ok }
            })
            .collect();
        self.engine.disconnect(client);
        rows
    }

    pub fn run_line(&mut self, client: ClientId, line: &str, real: u64, lang: Lang) -> Ran {
        let mut ran = Ran::default();
        let trimmed = line.trim();
        let prompt = self.prompt(client);
        ran.outputs.push((client, Out::Input { prompt, line: line.to_string() }));
        if trimmed.is_empty() {
            return ran;
        }
        let argv = match split_args(trimmed.as_bytes()) {
            Ok(argv) => argv,
            Err(_) => {
                ran.outputs.push((client, Out::Note("Invalid argument(s)".into())));
                return ran;
            }
        };
        let Some(first) = argv.first() else { return ran };
        if first.eq_ignore_ascii_case(b"clear") {
            ran.clear = true;
            return ran;
        }
        if first.eq_ignore_ascii_case(b"help") || first == b"?" {
            let args: Vec<String> = argv.iter().skip(1).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            let engine = &self.engine;
            let text = help::help(lang, &args, &|name| engine.implements(name));
            ran.outputs.push((client, Out::Note(text.trim_end_matches('\n').to_string())));
            return ran;
        }
        // redis-cli: a first word that is a number repeats the rest ("3 INCR n").
        let (repeat, argv) = match repeat_count(&argv) {
            Repeat::Once => (1, argv),
            Repeat::Times(n) => (n, argv[1..].to_vec()),
            Repeat::Invalid => {
                ran.outputs.push((client, Out::Note("Invalid redis-cli repeat command option value.".into())));
                return ran;
            }
        };
        ran.keys = help::command_keys(&argv);
        ran.bulk = argv.first().is_some_and(|c| BULK.iter().any(|b| c.eq_ignore_ascii_case(b)));
        let subscribing = argv.first().is_some_and(|c| {
            [&b"subscribe"[..], b"psubscribe", b"ssubscribe"].iter().any(|s| c.eq_ignore_ascii_case(s))
        });
        for _ in 0..repeat {
            if subscribing && !self.engine.multi.in_multi(client) {
                ran.outputs.push((client, Out::Note(READING_MESSAGES.into())));
            }
            let now = self.now(real);
            let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let dirty = self.engine.dirty;
            let reply = self.engine.execute(client, &args, now);
            if self.engine.dirty != dirty {
                self.changes += 1;
            }
            // The client's own pushes (SUBSCRIBE a b's first confirmations) come before its reply, as on the wire.
            self.route_pushes(&mut ran, client, reply.as_ref().map(|r| (&argv, r)));
            if self.engine.is_closing(client) {
                // QUIT: redis-cli would exit; the console goes on with a fresh connection instead.
                self.engine.disconnect(client);
                let fresh = self.connect(real);
                ran.reconnected = Some(fresh);
                break;
            }
            if reply.is_none() {
                // Blocked: the reply arrives later as a push.
                break;
            }
        }
        ran
    }

    /// Runs the engine's periodic work (active expiry, timeouts of blocked clients) and returns the pushes it
    /// caused (a BLPOP that timed out gets its nil reply).
    pub fn tick(&mut self, real: u64) -> Vec<(ClientId, Out)> {
        self.tick_engine(real);
        let mut ran = Ran::default();
        self.route_pushes(&mut ran, 0, None);
        ran.outputs
    }

    /// Disconnects a client (Ctrl+C, closing its console): a blocked client stops waiting, a subscribed one
    /// unsubscribes. Returns the fresh client that takes its place when `reconnect` is set.
    pub fn drop_client(&mut self, client: ClientId, real: u64, reconnect: bool) -> Option<ClientId> {
        self.engine.disconnect(client);
        reconnect.then(|| self.connect(real))
    }

    fn route_pushes(&mut self, ran: &mut Ran, client: ClientId, reply: Option<(&Vec<Vec<u8>>, &Reply)>) {
        for (to, push) in self.engine.drain_pushes() {
            let resp = self.engine.resp_of(to);
            ran.outputs.push((to, Out::Push(trim(format_console::<&[u8]>(&[], &push, resp)))));
        }
        if let Some((argv, reply)) = reply {
            let resp = self.engine.resp_of(client);
            let text = trim(format_console(argv, reply, resp));
            ran.outputs.push((client, if reply.is_error() { Out::Error(text) } else { Out::Reply(text) }));
        }
        // A client's own tracking invalidations follow its reply, as on the wire.
        for (to, push) in self.engine.drain_pushes_after_reply() {
            let resp = self.engine.resp_of(to);
            ran.outputs.push((to, Out::Push(trim(format_console::<&[u8]>(&[], &push, resp)))));
        }
    }
}

fn trim(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

enum Repeat {
    Once,
    Times(u32),
    Invalid,
}

/// redis-cli's repeat prefix: a first word that parses entirely as a number, followed by a command.
fn repeat_count(argv: &[Vec<u8>]) -> Repeat {
    let [first, _, ..] = argv else { return Repeat::Once };
    let Ok(text) = core::str::from_utf8(first) else { return Repeat::Once };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'+') {
        return Repeat::Once;
    }
    match text.parse::<i64>() {
        // A page must stay responsive: the console caps what redis-cli would loop on forever.
        Ok(n) if n > 0 => Repeat::Times(n.min(10_000) as u32),
        _ => Repeat::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;

    fn replies(ran: &Ran, client: ClientId) -> Vec<String> {
        ran.outputs
            .iter()
            .filter(|(c, _)| *c == client)
            .filter_map(|(_, o)| match o {
                Out::Input { .. } => None,
                Out::Reply(s) | Out::Error(s) | Out::Push(s) | Out::Note(s) => Some(s.clone()),
            })
            .collect()
    }

    #[test]
    fn lines_print_as_redis_cli_prints_them() {
        let mut s = Session::new(1);
        let c = s.connect(T0);
        assert_eq!(replies(&s.run_line(c, "SET user:1:name \"Anisul\"", T0, Lang::En), c), ["OK"]);
        assert_eq!(replies(&s.run_line(c, "GET user:1:name", T0, Lang::En), c), ["\"Anisul\""]);
        assert_eq!(replies(&s.run_line(c, "INCR page_views", T0, Lang::En), c), ["(integer) 1"]);
        assert_eq!(replies(&s.run_line(c, "GET \"unbalanced", T0, Lang::En), c), ["Invalid argument(s)"]);
        let err = s.run_line(c, "INCR user:1:name", T0, Lang::En);
        assert!(matches!(&err.outputs[1].1, Out::Error(e) if e == "(error) ERR value is not an integer or out of range"));
        assert_eq!(replies(&s.run_line(c, "3 INCR n", T0, Lang::En), c), ["(integer) 1", "(integer) 2", "(integer) 3"]);
        assert_eq!(replies(&s.run_line(c, "0 INCR n", T0, Lang::En), c), ["Invalid redis-cli repeat command option value."]);
        assert!(s.run_line(c, "clear", T0, Lang::En).clear);
        assert!(replies(&s.run_line(c, "", T0, Lang::En), c).is_empty());
        let help = replies(&s.run_line(c, "HELP GET", T0, Lang::En), c);
        assert!(help[0].starts_with("\n  GET key\n"), "{help:?}");
    }

    #[test]
    fn the_prompt_shows_the_database_and_a_transaction() {
        let mut s = Session::new(1);
        let c = s.connect(T0);
        assert_eq!(s.prompt(c), "127.0.0.1:6379> ");
        s.run_line(c, "SELECT 2", T0, Lang::En);
        assert_eq!(s.prompt(c), "127.0.0.1:6379[2]> ");
        s.run_line(c, "MULTI", T0, Lang::En);
        assert_eq!(s.prompt(c), "127.0.0.1:6379[2](TX)> ");
        assert_eq!(replies(&s.run_line(c, "INCR x", T0, Lang::En), c), ["QUEUED"]);
        assert_eq!(replies(&s.run_line(c, "EXEC", T0, Lang::En), c), ["1) (integer) 1"]);
        assert_eq!(s.prompt(c), "127.0.0.1:6379[2]> ");
    }

    #[test]
    fn a_blocked_client_is_served_by_another_clients_push() {
        let mut s = Session::new(1);
        let (a, b) = (s.connect(T0), s.connect(T0));
        let ran = s.run_line(a, "BLPOP jobs 0", T0, Lang::En);
        assert!(replies(&ran, a).is_empty());
        assert!(s.is_blocked(a));
        let ran = s.run_line(b, "LPUSH jobs email", T0, Lang::En);
        assert_eq!(replies(&ran, b), ["(integer) 1"]);
        assert_eq!(replies(&ran, a), ["1) \"jobs\"\n2) \"email\""]);
        assert!(!s.is_blocked(a));
    }

    #[test]
    fn a_tracking_console_sees_its_own_invalidation_after_the_reply() {
        let mut s = Session::new(1);
        let (a, b) = (s.connect(T0), s.connect(T0));
        s.run_line(a, "HELLO 3", T0, Lang::En);
        s.run_line(a, "CLIENT TRACKING ON", T0, Lang::En);
        s.run_line(a, "GET k", T0, Lang::En);
        let ran = s.run_line(a, "SET k 1", T0, Lang::En);
        let printed: Vec<&Out> = ran.outputs.iter().filter(|(to, _)| *to == a).map(|(_, o)| o).skip(1).collect();
        // As redis-cli prints an invalidation on a terminal.
        let invalidate = Out::Push("-> invalidate: 'k'".into());
        assert_eq!(printed, [&Out::Reply("OK".into()), &invalidate]);
        s.run_line(a, "GET k", T0, Lang::En);
        let ran = s.run_line(b, "SET k 2", T0, Lang::En);
        assert_eq!(ran.outputs.iter().filter(|(to, _)| *to == a).map(|(_, o)| o).collect::<Vec<_>>(), [&invalidate]);
    }

    #[test]
    fn a_blocked_client_times_out_on_the_virtual_clock() {
        let mut s = Session::new(1);
        let a = s.connect(T0);
        s.run_line(a, "BLPOP jobs 5", T0, Lang::En);
        assert!(s.tick(T0 + 1000).is_empty());
        s.clock.advance(5000);
        let out = s.tick(T0 + 1000);
        assert_eq!(out, [(a, Out::Push("(nil)".into()))]);
    }

    #[test]
    fn subscribers_see_messages_and_redis_clis_notice() {
        let mut s = Session::new(1);
        let (a, b) = (s.connect(T0), s.connect(T0));
        let ran = s.run_line(a, "SUBSCRIBE news alerts", T0, Lang::En);
        assert_eq!(replies(&ran, a), [
            READING_MESSAGES,
            "1) \"subscribe\"\n2) \"news\"\n3) (integer) 1",
            "1) \"subscribe\"\n2) \"alerts\"\n3) (integer) 2"
        ]);
        assert!(s.is_subscribed(a));
        let ran = s.run_line(b, "PUBLISH news hello", T0, Lang::En);
        assert_eq!(replies(&ran, b), ["(integer) 1"]);
        assert_eq!(replies(&ran, a), ["1) \"message\"\n2) \"news\"\n3) \"hello\""]);
        // Ctrl+C: the subscription ends with the connection.
        let fresh = s.drop_client(a, T0, true);
        assert!(fresh.is_some_and(|f| !s.is_subscribed(f)));
        assert_eq!(replies(&s.run_line(b, "PUBLISH news again", T0, Lang::En), b), ["(integer) 0"]);
    }

    #[test]
    fn quit_reconnects_the_console() {
        let mut s = Session::new(1);
        let a = s.connect(T0);
        s.run_line(a, "SELECT 3", T0, Lang::En);
        let ran = s.run_line(a, "QUIT", T0, Lang::En);
        let fresh = ran.reconnected.unwrap_or_else(|| panic!("reconnected"));
        assert_ne!(fresh, a);
        assert_eq!(s.prompt(fresh), "127.0.0.1:6379> ");
    }

    #[test]
    fn the_clock_pauses_and_moves_forward_without_going_back() {
        let mut c = Clock::default();
        assert_eq!(c.now(T0), T0);
        c.advance(10_000);
        assert_eq!(c.now(T0), T0 + 10_000);
        c.pause(T0 + 1000);
        assert_eq!(c.now(T0 + 5000), T0 + 11_000);
        c.advance(60_000);
        assert_eq!(c.now(T0 + 9000), T0 + 71_000);
        c.resume(T0 + 9000);
        assert_eq!(c.now(T0 + 9000), T0 + 71_000);
        assert_eq!(c.now(T0 + 10_000), T0 + 72_000);
        assert!(!c.paused());
    }

    #[test]
    fn ttl_counts_down_with_the_virtual_clock() {
        let mut s = Session::new(1);
        let a = s.connect(T0);
        s.run_line(a, "SET session:1 x EX 60", T0, Lang::En);
        s.clock.advance(45_000);
        assert_eq!(replies(&s.run_line(a, "TTL session:1", T0, Lang::En), a), ["(integer) 15"]);
        // Redis expires a key once its time has passed, not at the very millisecond.
        s.clock.advance(15_000);
        assert_eq!(replies(&s.run_line(a, "TTL session:1", T0, Lang::En), a), ["(integer) 0"]);
        s.clock.advance(1);
        assert_eq!(replies(&s.run_line(a, "TTL session:1", T0, Lang::En), a), ["(integer) -2"]);
    }

    #[test]
    fn the_keys_a_line_names_are_reported() {
        let mut s = Session::new(1);
        let a = s.connect(T0);
        assert_eq!(s.run_line(a, "RPUSH queue a b", T0, Lang::En).keys, [b"queue".to_vec()]);
        assert_eq!(s.run_line(a, "2 LPUSH other x", T0, Lang::En).keys, [b"other".to_vec()]);
    }
}
