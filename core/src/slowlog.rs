//! What the engine records about the commands it runs, for SLOWLOG and MONITOR (Redis's slowlog.c and
//! replicationFeedMonitors).
//!
//! The engine reads no clock of its own. A host that can time commands hands it a monotonic timer
//! (`Engine::set_host`, microseconds); `Engine::call` reads it around each handler, as Redis times call(), and a
//! command at or over `slowlog-log-slower-than` is logged at once. Without a timer (the browser) every command
//! takes 0 µs, so `slowlog-log-slower-than 0` logs every command and other thresholds log none. Nothing is
//! built for a command that is not logged: the entry's copies are made only for a slow one.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::engine::{ClientId, Engine};
use crate::reply::Reply;
use crate::table::{CommandSpec, Flag};

/// Most arguments an entry keeps (Redis's SLOWLOG_ENTRY_MAX_ARGC); the last one kept says how many were left out.
const MAX_ARGC: usize = 32;
/// Longest argument an entry keeps (SLOWLOG_ENTRY_MAX_STRING), followed by how many bytes were cut.
const MAX_STRING: usize = 128;

/// One slow log entry, as SLOWLOG GET shows it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time: u64,
    pub micros: u64,
    pub argv: Vec<Vec<u8>>,
    pub addr: String,
    pub name: Vec<u8>,
}

/// The slow log and the monitors.
#[derive(Debug, Default)]
pub struct Slowlog {
    /// Newest first, as Redis's list.
    pub entries: VecDeque<Entry>,
    /// The next entry's id; never reset (SLOWLOG RESET keeps counting).
    pub next_id: u64,
    /// The host's monotonic clock in microseconds, to time commands with (`Engine::set_host`).
    pub(crate) timer: Option<fn() -> u64>,
    /// The host's way to sleep for DEBUG SLEEP, in microseconds (`Engine::set_host`); without it DEBUG SLEEP
    /// returns at once.
    pub(crate) sleep: Option<fn(u64)>,
    /// Clients in MONITOR mode, in the order they asked.
    pub monitors: Vec<ClientId>,
}

/// The arguments as an entry keeps them: at most 32, strings cut at 128 bytes (Redis's slowlogCreateEntry).
fn entry_argv(argv: &[&[u8]], spec: &CommandSpec) -> Vec<Vec<u8>> {
    let kept = argv.len().min(MAX_ARGC);
    let mut out = Vec::with_capacity(kept);
    for (j, arg) in argv.iter().take(kept).enumerate() {
        if kept != argv.len() && j == kept - 1 {
            out.push(format!("... ({} more arguments)", argv.len() - kept + 1).into_bytes());
        } else if redacted(spec, argv, j) {
            out.push(b"(redacted)".to_vec());
        } else if arg.len() > MAX_STRING {
            let mut s = arg.get(..MAX_STRING).unwrap_or(arg).to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", arg.len() - MAX_STRING).as_bytes());
            out.push(s);
        } else {
            out.push(arg.to_vec());
        }
    }
    out
}

/// Arguments Redis hides from the slow log and MONITOR (redactClientCommandArgument): AUTH's credentials and
/// HELLO's AUTH pair.
fn redacted(spec: &CommandSpec, argv: &[&[u8]], j: usize) -> bool {
    match spec.name {
        "auth" => j >= 1,
        "hello" => {
            j >= 3 && argv.get(j.saturating_sub(1)).is_some_and(|a| a.eq_ignore_ascii_case(b"auth"))
                || j >= 4 && argv.get(j - 2).is_some_and(|a| a.eq_ignore_ascii_case(b"auth"))
        }
        _ => false,
    }
}

/// After a command ran through `Engine::call` (for `micros`, 0 without a host timer): logs it when it was slow
/// (Redis's slowlogPushCurrentCommand) and shows it to monitors.
#[inline]
pub(crate) fn record(e: &mut Engine, client: ClientId, db: usize, argv: &[&[u8]], spec: &'static CommandSpec, micros: u64) {
    // Inlined after every command: a fast command with no monitor is two tests.
    let threshold = e.config.slowlog_log_slower_than;
    if (threshold >= 0 && micros >= threshold as u64) || !e.slowlog.monitors.is_empty() {
        log_and_feed(e, client, db, argv, spec, micros);
    }
}

fn log_and_feed(e: &mut Engine, client: ClientId, db: usize, argv: &[&[u8]], spec: &'static CommandSpec, micros: u64) {
    let threshold = e.config.slowlog_log_slower_than;
    if threshold >= 0 && micros >= threshold as u64 && !spec.has(Flag::SkipSlowlog) && !e.loading {
        let argv = entry_argv(argv, spec);
        // A command that blocked is logged when it is served (Redis's updateStatsOnUnblock), after the
        // commands that ran while it waited: its entry waits with the client (`answered`).
        match e.blocking.waiter_mut(client) {
            Some(waiter) => waiter.slow = Some(Deferred { micros, argv }),
            None => push_entry(e, client, micros, argv),
        }
    }
    feed_monitors(e, client, db, argv, spec);
}

/// The slow-log entry of a command that blocked, kept until the client is served.
#[derive(Clone, Debug)]
pub struct Deferred {
    micros: u64,
    argv: Vec<Vec<u8>>,
}

/// A blocked client was served: its command enters the slow log now if it was slow, under the threshold in
/// force now, as Redis decides when it serves it (updateStatsOnUnblock). A client that times out, is unblocked by
/// CLIENT UNBLOCK or disconnects is never logged: Redis 7.0 updates no statistics on those paths (checked
/// against redis-server 7.0.15; `tests/cases/server/slowlog_blocked.txt` and the tests below).
pub(crate) fn answered(e: &mut Engine, client: ClientId, slow: Option<Deferred>) {
    let Some(Deferred { micros, argv }) = slow else { return };
    let threshold = e.config.slowlog_log_slower_than;
    if threshold >= 0 && micros >= threshold as u64 {
        push_entry(e, client, micros, argv);
    }
}

fn push_entry(e: &mut Engine, client: ClientId, micros: u64, argv: Vec<Vec<u8>>) {
    let (addr, name) = match e.client(client) {
        Some(cl) => (cl.addr.clone(), cl.name.clone().unwrap_or_default()),
        None => (String::new(), Vec::new()),
    };
    let entry = Entry { id: e.slowlog.next_id, time: e.now / 1000, micros, argv, addr, name };
    e.slowlog.next_id += 1;
    e.slowlog.entries.push_front(entry);
    let max = usize::try_from(e.config.slowlog_max_len).unwrap_or(usize::MAX);
    e.slowlog.entries.truncate(max);
}

/// A monitor's view of one command (Redis's replicationFeedMonitors): `<secs>.<micros> [<db> <addr>] "arg" ...`,
/// each argument quoted as `sdscatrepr` does.
fn feed_monitors(e: &mut Engine, client: ClientId, db: usize, argv: &[&[u8]], spec: &'static CommandSpec) {
    if e.slowlog.monitors.is_empty() || spec.has(Flag::SkipMonitor) || spec.has(Flag::Admin) || e.loading {
        return;
    }
    // Monitors see the database the client is in after the command (SELECT shows its new one), as in Redis.
    let (db, addr) = e.client(client).map_or((db, String::new()), |cl| (cl.db, cl.addr.clone()));
    let mut line = format!("{}.{:06} [{} {}]", e.now / 1000, (e.now % 1000) * 1000, db, addr);
    for (j, arg) in argv.iter().enumerate() {
        line.push(' ');
        if redacted(spec, argv, j) {
            line.push_str("\"(redacted)\"");
        } else {
            repr(arg, &mut line);
        }
    }
    let monitors: Vec<ClientId> = e.slowlog.monitors.iter().copied().filter(|&m| m != client).collect();
    for m in monitors {
        e.push(m, Reply::Status(line.clone()));
    }
}

/// Redis's sdscatrepr: a double-quoted string with C escapes and `\xHH` for other unprintable bytes.
pub fn repr(s: &[u8], out: &mut String) {
    out.push('"');
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

/// Forgets a closed client's monitoring.
pub(crate) fn disconnected(e: &mut Engine, client: ClientId) {
    e.slowlog.monitors.retain(|&m| m != client);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::reply::Reply;
    use alloc::string::ToString;

    fn run(e: &mut Engine, client: ClientId, args: &[&str], now: u64) -> Option<Reply> {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        e.execute(client, &argv, now)
    }

    /// The logged command names, newest first.
    fn logged(e: &Engine) -> Vec<String> {
        e.slowlog.entries.iter().map(|en| String::from_utf8_lossy(en.argv.first().map_or(&[][..], |a| a)).into_owned()).collect()
    }

    /// Redis 7.0 logs a blocked command only when it is served (after the command that served it); one that
    /// times out, is unblocked by CLIENT UNBLOCK (TIMEOUT or ERROR) or disconnects is never logged.
    #[test]
    fn a_blocked_command_is_logged_when_served_and_only_then() {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(1000), e.connect(1000));
        run(&mut e, a, &["CONFIG", "SET", "slowlog-log-slower-than", "0"], 1000);
        run(&mut e, a, &["SLOWLOG", "RESET"], 1000);
        assert_eq!(run(&mut e, b, &["BLPOP", "q", "0"], 1000), None);
        run(&mut e, a, &["PING"], 1000);
        assert_eq!(logged(&e), ["PING", "SLOWLOG"]);
        run(&mut e, a, &["LPUSH", "q", "x"], 1000);
        assert_eq!(logged(&e), ["BLPOP", "LPUSH", "PING", "SLOWLOG"]);

        // Timed out: never logged.
        assert_eq!(run(&mut e, b, &["BRPOP", "q2", "0.1"], 1000), None);
        e.tick(1200);
        assert!(e.drain_pushes().iter().any(|(c, r)| *c == b && *r == Reply::NilArray));
        run(&mut e, a, &["PING"], 1300);
        assert_eq!(logged(&e).first().map(String::as_str), Some("PING"));
        assert!(!logged(&e).iter().any(|n| n == "BRPOP"));

        // Unblocked by CLIENT UNBLOCK, with either reason: never logged.
        for reason in ["TIMEOUT", "ERROR"] {
            assert_eq!(run(&mut e, b, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"], 1300), None);
            let id = b.to_string();
            assert_eq!(run(&mut e, a, &["CLIENT", "UNBLOCK", &id, reason], 1300), Some(Reply::Integer(1)));
        }
        // Disconnected while blocked: never logged, and nothing is left waiting to be logged.
        assert_eq!(run(&mut e, b, &["BLPOP", "q3", "0"], 1300), None);
        e.disconnect(b);
        run(&mut e, a, &["RPUSH", "q3", "y"], 1300);
        assert_eq!(logged(&e).iter().filter(|n| *n == "BLPOP").count(), 1, "{:?}", logged(&e));
        assert!(!logged(&e).iter().any(|n| n == "BLMOVE"), "{:?}", logged(&e));
    }
}
