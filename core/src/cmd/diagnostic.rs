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
