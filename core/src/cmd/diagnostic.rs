//! Diagnostic commands: SLOWLOG, LATENCY, MONITOR, LOLWUT (Redis's slowlog.c, latency.c, replication.c's
//! monitorCommand and lolwut.c). The slow log and the monitors themselves are `crate::slowlog`.

use alloc::format;
use alloc::vec::Vec;

use super::connection::{help_reply, REDIS_VERSION};
use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::reply::Reply;
use crate::util::{eq_ic, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("slowlog|get", slowlog_get),
    ("slowlog|len", slowlog_len),
    ("slowlog|reset", slowlog_reset),
    ("slowlog|help", slowlog_help),
    ("latency|latest", latency_latest),
    ("latency|history", latency_history),
    ("latency|reset", latency_reset),
    ("latency|doctor", latency_doctor),
    ("latency|graph", latency_graph),
    ("latency|help", latency_help),
    ("monitor", monitor),
    ("lolwut", lolwut),
];

/// SLOWLOG GET [count]
fn slowlog_get(e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() > 3 {
        return Error::SubcommandSyntax { sub: crate::error::lossy(c.arg(1), 128), container: "SLOWLOG".into() }.into();
    }
    let mut count = 10usize;
    if c.argc() == 3 {
        match parse_i64(c.arg(2)) {
            Some(-1) => count = usize::MAX,
            Some(n) if n >= 0 => count = usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Error::other("ERR count should be greater than or equal to -1").into(),
        }
    }
    let entries = e.slowlog.entries.iter().take(count).map(|en| {
        Reply::Array(alloc::vec![
            Reply::Integer(en.id as i64),
            Reply::Integer(en.time as i64),
            Reply::Integer(en.micros as i64),
            Reply::Array(en.argv.iter().map(|a| Reply::bulk(a)).collect()),
            Reply::bulk(en.addr.as_bytes()),
            Reply::bulk(&en.name),
        ])
    });
    Reply::Array(entries.collect())
}

/// SLOWLOG LEN
fn slowlog_len(e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Integer(e.slowlog.entries.len() as i64)
}

/// SLOWLOG RESET
fn slowlog_reset(e: &mut Engine, _c: &Ctx) -> Reply {
    e.slowlog.entries.clear();
    Reply::ok()
}

/// SLOWLOG HELP
fn slowlog_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    help_reply(&[
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    ])
}

// The engine measures no latency events (it has no clock of its own), so the latency monitor always reads
// as Redis's does before any event passed `latency-monitor-threshold`.

/// LATENCY LATEST
fn latency_latest(_e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Array(Vec::new())
}

/// LATENCY HISTORY event
fn latency_history(_e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Array(Vec::new())
}

/// LATENCY RESET [event ...]: how many event series were reset.
fn latency_reset(_e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Integer(0)
}

/// LATENCY DOCTOR
fn latency_doctor(e: &mut Engine, _c: &Ctx) -> Reply {
    let text = if e.config.latency_monitor_threshold == 0 {
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \
         \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep \
         space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
    } else {
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. \
         I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n"
    };
    Reply::Verbatim("txt", text.as_bytes().to_vec())
}

/// LATENCY GRAPH event
fn latency_graph(_e: &mut Engine, c: &Ctx) -> Reply {
    Error::Other(format!("ERR No samples available for event '{}'", crate::error::lossy(c.arg(2), usize::MAX))).into()
}

/// LATENCY HELP
fn latency_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    help_reply(&[
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    ])
}

/// MONITOR: from now on the client receives a line for every command other clients run (`crate::slowlog`).
fn monitor(e: &mut Engine, c: &Ctx) -> Reply {
    if e.slowlog.monitors.contains(&c.client) {
        // Redis ignores MONITOR from a client already monitoring: no reply at all.
        if let Some(cl) = e.client_mut(c.client) {
            cl.modes.skip_reply();
        }
        e.reply_modes = true;
        return Reply::ok();
    }
    e.slowlog.monitors.push(c.client);
    Reply::ok()
}

/// LOLWUT [VERSION version]
///
/// Versions 5 and 6 draw random art in Redis (`rand()`, seeded from the clock); every other version, the
/// default included, answers the version line alone, as here for all.
fn lolwut(_e: &mut Engine, c: &Ctx) -> Reply {
    if c.argc() >= 3 && eq_ic(c.arg(1), "version") && parse_i64(c.arg(2)).is_none() {
        return Error::NotInteger.into();
    }
    Reply::Verbatim("txt", format!("Redis ver. {REDIS_VERSION}\n").into_bytes())
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use crate::{Config, Engine, Reply};

    fn run(e: &mut Engine, client: u64, line: &str, now: u64) -> Option<Reply> {
        e.run_line(client, line, now)
    }

    /// A host timer for the test: every reading is `STEP` µs after the previous one, so each command takes
    /// `STEP` (the test sets it before each command).
    static CLOCK: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    static STEP: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

    fn test_timer() -> u64 {
        use core::sync::atomic::Ordering::Relaxed;
        CLOCK.fetch_add(STEP.load(Relaxed), Relaxed)
    }

    #[test]
    fn slowlog_keeps_commands_at_or_over_the_threshold_the_host_timed() {
        use core::sync::atomic::Ordering::Relaxed;
        let mut e = Engine::new(Config::default());
        e.set_host(test_timer, |_| {});
        let c = e.connect(1_000);
        STEP.store(9_999, Relaxed);
        run(&mut e, c, "SET a 1", 1_000);
        STEP.store(10_000, Relaxed);
        run(&mut e, c, "SET b 2", 2_000);
        STEP.store(0, Relaxed);
        run(&mut e, c, "SET c 3", 3_000);
        assert_eq!(run(&mut e, c, "SLOWLOG LEN", 4_000), Some(Reply::Integer(1)));
        let Some(Reply::Array(entries)) = run(&mut e, c, "SLOWLOG GET", 4_000) else { panic!("entries") };
        let Some(Reply::Array(first)) = entries.first() else { panic!("entry") };
        assert_eq!(first.get(1), Some(&Reply::Integer(2)), "logged at the command's time, in seconds");
        assert_eq!(first.get(2), Some(&Reply::Integer(10_000)));
        assert_eq!(
            first.get(3),
            Some(&Reply::Array(alloc::vec![Reply::bulk_str("SET"), Reply::bulk_str("b"), Reply::bulk_str("2")]))
        );
        // Without a host timer every command takes no time: only a threshold of 0 logs it.
        let mut bare = Engine::new(Config::default());
        let b = bare.connect(1_000);
        run(&mut bare, b, "SET a 1", 1_000);
        assert_eq!(run(&mut bare, b, "SLOWLOG LEN", 1_000), Some(Reply::Integer(0)));
        run(&mut bare, b, "CONFIG SET slowlog-log-slower-than 0", 1_000);
        run(&mut bare, b, "SET a 2", 1_000);
        assert_eq!(run(&mut bare, b, "SLOWLOG LEN", 1_000), Some(Reply::Integer(2)));
    }

    #[test]
    fn client_unblock_answers_the_blocked_client_as_a_timeout_or_an_error() {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(1_000), e.connect(1_000));
        assert_eq!(run(&mut e, b, "BLPOP l 0", 1_000), None);
        assert_eq!(
            run(&mut e, a, &format!("CLIENT UNBLOCK {b}"), 1_000),
            Some(Reply::Integer(1))
        );
        assert_eq!(e.drain_pushes(), alloc::vec![(b, Reply::NilArray)]);
        assert!(!e.is_blocked(b));
        assert_eq!(
            run(&mut e, a, &format!("CLIENT UNBLOCK {b}"), 1_000),
            Some(Reply::Integer(0)),
            "no longer blocked"
        );
        assert_eq!(run(&mut e, b, "BLPOP l 0", 1_000), None);
        assert_eq!(
            run(&mut e, a, &format!("CLIENT UNBLOCK {b} ERROR"), 1_000),
            Some(Reply::Integer(1))
        );
        let pushed = e.drain_pushes();
        assert_eq!(pushed.len(), 1);
        assert_eq!(
            pushed[0].1.to_resp(2),
            b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
        );
    }

    #[test]
    fn monitor_shows_other_clients_commands_after_they_ran_without_admin_ones() {
        let mut e = Engine::new(Config::default());
        let (m, c) = (e.connect(1_000), e.connect(1_000));
        assert_eq!(run(&mut e, m, "MONITOR", 1_000), Some(Reply::ok()));
        // A second MONITOR answers nothing, as in Redis.
        assert_eq!(run(&mut e, m, "MONITOR", 1_000), None);
        e.execute(c, &[b"SET", b"k", b"a \"b\"\n\x01"], 1_234_567);
        run(&mut e, c, "SELECT 2", 1_234_568);
        run(&mut e, c, "CONFIG GET hz", 1_234_569);
        let addr = e.client(c).map(|cl| cl.addr.clone()).unwrap_or_default();
        let lines: alloc::vec::Vec<Reply> = e.drain_pushes().into_iter().map(|(_, r)| r).collect();
        assert_eq!(
            lines,
            alloc::vec![
                Reply::Status(format!(
                    "1234.567000 [0 {addr}] \"SET\" \"k\" \"a \\\"b\\\"\\n\\x01\""
                )),
                Reply::Status(format!("1234.568000 [2 {addr}] \"SELECT\" \"2\"")),
            ]
        );
    }

    #[test]
    fn debug_set_active_expire_0_stops_tick_expiring_keys() {
        let mut e = Engine::new(Config {
            enable_debug_command: "yes".into(),
            ..Config::default()
        });
        let c = e.connect(1_000);
        run(&mut e, c, "SET k v PX 10", 1_000);
        assert_eq!(
            run(&mut e, c, "DEBUG SET-ACTIVE-EXPIRE 0", 1_000),
            Some(Reply::ok())
        );
        e.tick(5_000);
        assert_eq!(e.db(0).keys.len(), 1, "not expired by tick");
        run(&mut e, c, "DEBUG SET-ACTIVE-EXPIRE 1", 5_000);
        e.tick(6_000);
        assert_eq!(e.db(0).keys.len(), 0);
    }

    #[test]
    fn a_paused_write_runs_when_the_pause_ends() {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(1_000), e.connect(1_000));
        assert_eq!(
            run(&mut e, a, "CLIENT PAUSE 100 WRITE", 1_000),
            Some(Reply::ok())
        );
        assert_eq!(
            run(&mut e, b, "GET k", 1_010),
            Some(Reply::Nil),
            "reads go on"
        );
        assert_eq!(run(&mut e, b, "SET k v", 1_020), None);
        assert!(e.is_blocked(b));
        e.tick(1_050);
        assert!(e.drain_pushes().is_empty());
        e.tick(1_100);
        assert_eq!(e.drain_pushes(), alloc::vec![(b, Reply::ok())]);
        assert_eq!(run(&mut e, a, "GET k", 1_200), Some(Reply::bulk_str("v")));
    }
}
