//! Connection commands: PING, ECHO, SELECT, AUTH, HELLO, QUIT, RESET, CLIENT (Redis's networking.c and server.c).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::Handler;
use crate::acl;
use crate::engine::{Client, Ctx, Engine};
use crate::error::Error;
use crate::reply::Reply;
use crate::util::{eq_ic, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("ping", ping),
    ("echo", echo),
    ("select", select),
    ("auth", auth),
    ("hello", hello),
    ("quit", quit),
    ("reset", reset),
    ("client|id", client_id),
    ("client|setname", client_setname),
    ("client|getname", client_getname),
    ("client|info", client_info),
    ("client|list", client_list),
    ("client|kill", client_kill),
    ("client|help", client_help),
    ("client|pause", client_pause),
    ("client|unpause", client_unpause),
    ("client|reply", client_reply),
    ("client|unblock", client_unblock),
    ("client|no-evict", client_no_evict),
    ("client|tracking", client_tracking),
    ("client|getredir", client_getredir),
    ("client|trackinginfo", client_trackinginfo),
    ("client|caching", client_caching),
];

/// A client's settings from CLIENT REPLY, NO-EVICT and TRACKING (Redis's client flags).
#[derive(Clone, Debug, Default)]
pub struct Modes {
    /// CLIENT REPLY OFF: no replies until CLIENT REPLY ON.
    pub reply_off: bool,
    /// The reply of the command running now is dropped (CLIENT REPLY SKIP, OFF, and the command after SKIP).
    skip_this: bool,
    /// CLIENT REPLY SKIP: the next command's reply is dropped too.
    skip_next: bool,
    /// CLIENT NO-EVICT ON.
    pub no_evict: bool,
    /// CLIENT TRACKING ON and its options; `None` while tracking is off.
    pub tracking: Option<Tracking>,
}

/// CLIENT TRACKING's options for one client; what the engine shares (the tracking table, the prefixes'
/// clients) is in `crate::tracking`.
#[derive(Clone, Debug, Default)]
pub struct Tracking {
    /// The client invalidations are redirected to; 0 for none (what GETREDIR answers while tracking).
    pub redirect: i64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) was given for the next command.
    pub caching: bool,
    /// The redirect target was gone when an invalidation was due (TRACKINGINFO's `broken_redirect`, CLIENT
    /// LIST's flag `R`), until tracking is enabled again.
    pub broken_redirect: bool,
    /// BCAST prefixes, sorted as Redis's radix tree walks them; BCAST alone registers the empty prefix.
    pub prefixes: Vec<Vec<u8>>,
}

impl Modes {
    /// Drops the reply of the command running now (MONITOR repeated answers nothing, as in Redis).
    pub(crate) fn skip_reply(&mut self) {
        self.skip_this = true;
    }
}

/// The reply `execute` hands out, after CLIENT REPLY: dropped while replies are off or skipped, as Redis never
/// writes them (the command still ran). Runs after every command once some client has turned replies off or
/// skipped one (`Engine::reply_modes`); SKIP's effect moves on to the next command.
pub(crate) fn filter_reply(e: &mut Engine, client: u64, reply: Option<Reply>) -> Option<Reply> {
    let cl = e.client_mut(client)?;
    let m = &mut cl.modes;
    let drop = m.reply_off || m.skip_this;
    m.skip_this = core::mem::take(&mut m.skip_next);
    if drop {
        None
    } else {
        reply
    }
}

/// The version HELLO and INFO report: the Redis release whose behaviour the engine follows.
pub const REDIS_VERSION: &str = "7.0.15";

/// PING [message]
fn ping(e: &mut Engine, c: &Ctx) -> Reply {
    // The table's arity (-1) lets any count through; PING itself takes at most one message.
    if c.argc() > 2 {
        return Error::WrongArity("ping".into()).into();
    }
    // A RESP2 client in pub/sub mode gets a message-shaped `["pong", message]` its reader can tell apart.
    if e.resp_of(c.client) == 2 && e.pubsub.is_subscribed(c.client) {
        return Reply::Array(vec![Reply::bulk_str("pong"), Reply::bulk(c.arg(1))]);
    }
    match c.argc() {
        1 => Reply::status("PONG"),
        _ => Reply::bulk(c.arg(1)),
    }
}

/// ECHO message
fn echo(_e: &mut Engine, c: &Ctx) -> Reply {
    Reply::bulk(c.arg(1))
}

/// Parses a C `int` argument as Redis's getIntFromObjectOrReply. `msg` replaces both errors when given
/// (SWAPDB's "invalid first DB index"); otherwise a non-integer and an out-of-int value get Redis's own texts.
pub(crate) fn parse_int_arg(arg: &[u8], msg: Option<&str>) -> Result<i32, Error> {
    let custom = || msg.map(|m| Error::Other(format!("ERR {m}")));
    let v = parse_i64(arg).ok_or_else(|| custom().unwrap_or(Error::NotInteger))?;
    i32::try_from(v).map_err(|_| {
        custom().unwrap_or_else(|| {
            Error::other("ERR value is out of range, value must between -2147483648 and 2147483647")
        })
    })
}

/// SELECT index
fn select(e: &mut Engine, c: &Ctx) -> Reply {
    let id = match parse_int_arg(c.arg(1), None) {
        Ok(id) => id,
        Err(err) => return err.into(),
    };
    let Ok(id) = usize::try_from(id) else { return Error::DbIndexOutOfRange.into() };
    if id >= e.dbs.len() {
        return Error::DbIndexOutOfRange.into();
    }
    if let Some(cl) = e.client_mut(c.client) {
        cl.db = id;
    }
    Reply::ok()
}

/// AUTH [username] password
fn auth(e: &mut Engine, c: &Ctx) -> Reply {
    let default_nopass = e.acl.user(b"default").is_some_and(acl::User::nopass);
    let result = match c.argc() {
        // The one-argument form authenticates the default user, which needs a password to check against.
        2 if default_nopass => Err(Error::other(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        )),
        2 => acl::authenticate(e, c, b"default", c.arg(1)),
        3 => acl::authenticate(e, c, c.arg(1), c.arg(2)),
        _ => Err(Error::Syntax),
    };
    match result {
        Ok(()) => Reply::ok(),
        Err(err) => err.into(),
    }
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(e: &mut Engine, c: &Ctx) -> Reply {
    let mut ver = None;
    if c.argc() >= 2 {
        let v = match parse_i64(c.arg(1)) {
            Some(v) => v,
            None => return Error::other("ERR Protocol version is not an integer or out of range").into(),
        };
        if !(2..=3).contains(&v) {
            return Error::NoProto.into();
        }
        ver = Some(v as u8);
    }
    // Options are all parsed before anything changes.
    let mut credentials = None;
    let mut name = None;
    let mut j = 2;
    while j < c.argc() {
        let more = c.argc() - 1 - j;
        let opt = c.arg(j);
        if eq_ic(opt, "AUTH") && more >= 2 {
            credentials = Some((c.arg(j + 1), c.arg(j + 2)));
            j += 2;
        } else if eq_ic(opt, "SETNAME") && more >= 1 {
            name = Some(c.arg(j + 1));
            j += 1;
        } else {
            return Error::Other(format!("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(opt))).into();
        }
        j += 1;
    }
    if let Some((user, password)) = credentials {
        if let Err(err) = acl::authenticate(e, c, user, password) {
            return err.into();
        }
    }
    if let Some(name) = name {
        if let Err(err) = set_client_name(e, c.client, name) {
            return err.into();
        }
    }
    // Redis asks for the client's own authentication here, even when `default` needs none any more.
    if e.client(c.client).is_some_and(|cl| !cl.authenticated) {
        return Error::other(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH \
             <user> <pass> option can be used to authenticate the client and select the RESP protocol version at \
             the same time",
        )
        .into();
    }
    let Some(cl) = e.client_mut(c.client) else { return Reply::Error(Error::other("ERR unknown client")) };
    if let Some(v) = ver {
        cl.resp = v;
    }
    Reply::Map(vec![
        (Reply::bulk_str("server"), Reply::bulk_str("redis")),
        (Reply::bulk_str("version"), Reply::bulk_str(REDIS_VERSION)),
        (Reply::bulk_str("proto"), Reply::Integer(cl.resp as i64)),
        (Reply::bulk_str("id"), Reply::Integer(cl.id as i64)),
        (Reply::bulk_str("mode"), Reply::bulk_str("standalone")),
        (Reply::bulk_str("role"), Reply::bulk_str("master")),
        (Reply::bulk_str("modules"), Reply::Array(Vec::new())),
    ])
}

/// QUIT
fn quit(e: &mut Engine, c: &Ctx) -> Reply {
    // The caller closes the connection once this reply is written.
    if let Some(cl) = e.client_mut(c.client) {
        cl.closing = true;
    }
    Reply::ok()
}

/// RESET
fn reset(e: &mut Engine, c: &Ctx) -> Reply {
    // Redis's clearClientConnectionState: back to a fresh connection's state, keeping id and address;
    // the transaction is discarded and subscriptions are dropped without confirmations.
    crate::multi::discard(e, c.client);
    e.pubsub.remove_client(c.client);
    // Out of MONITOR mode, tracking off, replies on, NO-EVICT off.
    crate::slowlog::disconnected(e, c.client);
    crate::tracking::disable(e, c.client);
    if let Some(cl) = e.client_mut(c.client) {
        cl.db = 0;
        cl.resp = 2;
        cl.name = None;
        cl.modes = Default::default();
    }
    acl::reset_client(e, c.client);
    Reply::status("RESET")
}

/// Sets or clears (empty name) a client's name; names are printable ASCII without spaces, as CLIENT LIST
/// separates fields by spaces.
fn set_client_name(e: &mut Engine, client: u64, name: &[u8]) -> Result<(), Error> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(Error::other("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    if let Some(cl) = e.client_mut(client) {
        cl.name = if name.is_empty() { None } else { Some(name.to_vec()) };
    }
    Ok(())
}

/// CLIENT ID
fn client_id(_e: &mut Engine, c: &Ctx) -> Reply {
    Reply::Integer(c.client as i64)
}

/// CLIENT SETNAME connection-name
fn client_setname(e: &mut Engine, c: &Ctx) -> Reply {
    match set_client_name(e, c.client, c.arg(2)) {
        Ok(()) => Reply::ok(),
        Err(err) => err.into(),
    }
}

/// CLIENT GETNAME
fn client_getname(e: &mut Engine, c: &Ctx) -> Reply {
    match e.client(c.client).and_then(|cl| cl.name.as_ref()) {
        Some(name) => Reply::Bulk(name.clone()),
        None => Reply::Nil,
    }
}

/// CLIENT INFO
fn client_info(e: &mut Engine, c: &Ctx) -> Reply {
    let Some(cl) = e.client(c.client) else { return Reply::Nil };
    let mut line = client_info_line(e, cl, Some(c));
    line.push('\n');
    Reply::Bulk(line.into_bytes())
}

/// The kinds CLIENT LIST TYPE filters on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

impl ClientType {
    fn parse(name: &[u8]) -> Option<ClientType> {
        [
            ("normal", ClientType::Normal),
            ("slave", ClientType::Replica),
            ("replica", ClientType::Replica),
            ("pubsub", ClientType::PubSub),
            ("master", ClientType::Master),
        ]
        .into_iter()
        .find(|(n, _)| eq_ic(name, n))
        .map(|(_, t)| t)
    }

    /// A client with subscriptions is a pub/sub one (Redis's CLIENT_PUBSUB); the engine has no replicas.
    fn of(e: &Engine, client: &Client) -> ClientType {
        if e.pubsub.is_subscribed(client.id) {
            ClientType::PubSub
        } else {
            ClientType::Normal
        }
    }
}

/// CLIENT KILL ip:port
/// CLIENT KILL [ID client-id] [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]
fn client_kill(e: &mut Engine, c: &Ctx) -> Reply {
    let mut addr = None;
    let mut laddr = None;
    let mut kind = None;
    let mut id = None;
    let mut user = None;
    // The old form (one address) may kill the caller itself; the filter form skips it unless told otherwise.
    let old_form = c.argc() == 3;
    let mut skipme = !old_form;
    if old_form {
        addr = Some(c.arg(2));
    } else {
        let mut i = 2;
        while i < c.argc() {
            let (opt, value) = (c.arg(i), c.argv.get(i + 1).copied());
            match value {
                Some(v) if eq_ic(opt, "ID") => match parse_i64(v).filter(|&n| n >= 1) {
                    Some(n) => id = Some(n as u64),
                    None => return Error::other("ERR client-id should be greater than 0").into(),
                },
                Some(v) if eq_ic(opt, "TYPE") => match ClientType::parse(v) {
                    Some(k) => kind = Some(k),
                    None => return Error::Other(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(v))).into(),
                },
                Some(v) if eq_ic(opt, "ADDR") => addr = Some(v),
                Some(v) if eq_ic(opt, "LADDR") => laddr = Some(v),
                Some(v) if eq_ic(opt, "USER") => {
                    if e.acl.user(v).is_none() {
                        return Error::Other(format!("ERR No such user '{}'", String::from_utf8_lossy(v))).into();
                    }
                    user = Some(v);
                }
                Some(v) if eq_ic(opt, "SKIPME") && eq_ic(v, "yes") => skipme = true,
                Some(v) if eq_ic(opt, "SKIPME") && eq_ic(v, "no") => skipme = false,
                _ => return Error::Syntax.into(),
            }
            i += 2;
        }
    }
    let victims: Vec<u64> = e
        .clients
        .values()
        .filter(|cl| addr.is_none_or(|a| cl.addr.as_bytes() == a))
        .filter(|cl| laddr.is_none_or(|a| cl.laddr.as_bytes() == a))
        .filter(|cl| kind.is_none_or(|k| ClientType::of(e, cl) == k))
        .filter(|cl| id.is_none_or(|n| cl.id == n))
        .filter(|cl| user.is_none_or(|u| cl.user == u))
        .filter(|cl| !(skipme && cl.id == c.client))
        .map(|cl| cl.id)
        .collect();
    for &victim in &victims {
        if victim == c.client {
            // The caller gets its reply first, then the host closes it.
            if let Some(cl) = e.client_mut(victim) {
                cl.closing = true;
            }
        } else {
            e.disconnect(victim);
        }
    }
    match (old_form, victims.len()) {
        (true, 0) => Error::other("ERR No such client").into(),
        (true, _) => Reply::ok(),
        (false, n) => Reply::Integer(n as i64),
    }
}

/// CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]
fn client_list(e: &mut Engine, c: &Ctx) -> Reply {
    let mut out = String::new();
    let mut add = |cl: &Client| {
        out.push_str(&client_info_line(e, cl, (cl.id == c.client).then_some(c)));
        out.push('\n');
    };
    if c.argc() == 4 && eq_ic(c.arg(2), "TYPE") {
        let Some(kind) = ClientType::parse(c.arg(3)) else {
            return Error::Other(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(c.arg(3)))).into();
        };
        e.clients.values().filter(|cl| ClientType::of(e, cl) == kind).for_each(&mut add);
    } else if c.argc() > 3 && eq_ic(c.arg(2), "ID") {
        // All ids are checked before any is listed; a repeated id is listed again, as Redis does.
        let mut ids = Vec::new();
        for arg in c.argv.iter().skip(3) {
            match parse_i64(arg) {
                Some(id) => ids.push(id),
                None => return Error::other("ERR Invalid client ID").into(),
            }
        }
        for id in ids {
            if let Some(cl) = u64::try_from(id).ok().and_then(|id| e.clients.get(&id)) {
                add(cl);
            }
        }
    } else if c.argc() != 2 {
        return Error::Syntax.into();
    } else {
        e.clients.values().for_each(&mut add);
    }
    Reply::Bulk(out.into_bytes())
}

/// One client's line in CLIENT LIST and CLIENT INFO, with Redis 7.0.15's fields in its order.
/// Buffer and memory figures the engine has no notion of are plausible constants; `current` is the running
/// command when `cl` is the client executing it (its query buffer and argv are then in use).
pub(crate) fn client_info_line(e: &Engine, cl: &Client, current: Option<&Ctx>) -> String {
    let now = e.now;
    let name = cl.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
    let (qbuf, argv_mem) = match current {
        Some(ctx) => {
            let argv_mem: usize = ctx.argv.iter().map(|a| a.len()).sum();
            let qbuf: usize = ctx.argv.iter().map(|a| a.len() + 5 + decimal_len(a.len())).sum::<usize>()
                + 3
                + decimal_len(ctx.argc());
            (qbuf, argv_mem)
        }
        None => (0, 0),
    };
    // Redis keeps a 20 KiB query buffer per connection; the running command occupies part of it.
    let qbuf_free = 20474usize.saturating_sub(qbuf);
    let multi = crate::multi::client_info(e, cl.id);
    // A transaction's queue is part of the client's memory, as Redis's multiStateMemOverhead counts it.
    let tot_mem = 22272 + argv_mem + qbuf + multi.mem;
    let subs = e.pubsub.client(cl.id);
    // Redis's flag letters in its order: `P` pub/sub mode, `x` in MULTI, `b` blocked, `d` a watched key changed;
    // `N`: none.
    let mut flags = String::new();
    if subs.is_some() {
        flags.push('P');
    }
    if multi.queued.is_some() {
        flags.push('x');
    }
    if e.is_blocked(cl.id) {
        flags.push('b');
    }
    if cl.modes.tracking.is_some() {
        flags.push('t');
    }
    if cl.modes.tracking.as_ref().is_some_and(|t| t.broken_redirect) {
        flags.push('R');
    }
    if cl.modes.tracking.as_ref().is_some_and(|t| t.bcast) {
        flags.push('B');
    }
    if multi.dirty {
        flags.push('d');
    }
    if cl.modes.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    format!(
        "id={id} addr={addr} laddr={laddr} fd={fd} name={name} age={age} idle={idle} flags={flags} db={db} \
         sub={sub} psub={psub} ssub={ssub} multi={multi_count} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem={multi_mem} \
         rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem={tot_mem} events=r cmd={cmd} user={user} redir={redir} resp={resp}",
        id = cl.id,
        addr = cl.addr,
        laddr = cl.laddr,
        fd = cl.id + 7,
        age = now.saturating_sub(cl.created_ms) / 1000,
        idle = now.saturating_sub(cl.last_interaction_ms) / 1000,
        sub = subs.map_or(0, |s| s.channels.len()),
        psub = subs.map_or(0, |s| s.patterns.len()),
        ssub = subs.map_or(0, |s| s.shard_channels.len()),
        multi_count = multi.queued.map_or(-1, |n| n as i64),
        multi_mem = multi.mem,
        db = cl.db,
        cmd = cl.last_cmd,
        user = String::from_utf8_lossy(&cl.user),
        resp = cl.resp,
        redir = cl.modes.tracking.as_ref().map_or(-1, |t| t.redirect),
    )
}

fn decimal_len(n: usize) -> usize {
    let mut len = 1;
    let mut n = n;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// Help lines are replied as status lines, like Redis's addReplyHelp.
pub(crate) fn help_reply(lines: &[&str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::status(l)).collect())
}

/// CLIENT HELP
fn client_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    help_reply(&[
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Prints this help.",
    ])
}

/// CLIENT PAUSE timeout [WRITE|ALL]
fn client_pause(e: &mut Engine, c: &Ctx) -> Reply {
    let mut kind = crate::pause::Kind::All;
    if c.argc() == 4 {
        if eq_ic(c.arg(3), "write") {
            kind = crate::pause::Kind::Write;
        } else if !eq_ic(c.arg(3), "all") {
            return Error::other("ERR CLIENT PAUSE mode must be WRITE or ALL").into();
        }
    }
    // getTimeoutFromObjectOrReply in milliseconds: 0 gives an end already past, a pause that ends at once.
    let ms = match parse_i64(c.arg(2)) {
        Some(ms) if ms < 0 => return Error::other("ERR timeout is negative").into(),
        Some(ms) => ms as u64,
        None => return Error::other("ERR timeout is not an integer or out of range").into(),
    };
    let end = if ms > 0 { e.now.saturating_add(ms) } else { 0 };
    e.pause.start(kind, end);
    Reply::ok()
}

/// CLIENT UNPAUSE
fn client_unpause(e: &mut Engine, _c: &Ctx) -> Reply {
    e.pause.lift();
    Reply::ok()
}

/// CLIENT REPLY ON|OFF|SKIP
fn client_reply(e: &mut Engine, c: &Ctx) -> Reply {
    let Some(cl) = e.client_mut(c.client) else { return Reply::Nil };
    let m = &mut cl.modes;
    if eq_ic(c.arg(2), "on") {
        m.reply_off = false;
        m.skip_next = false;
        return Reply::ok();
    }
    if eq_ic(c.arg(2), "off") {
        m.reply_off = true;
    } else if eq_ic(c.arg(2), "skip") {
        if !m.reply_off {
            m.skip_next = true;
        }
    } else {
        return Error::Syntax.into();
    }
    // OFF and SKIP answer nothing themselves.
    m.skip_this = true;
    e.reply_modes = true;
    Reply::ok()
}

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
fn client_unblock(e: &mut Engine, c: &Ctx) -> Reply {
    let mut error = false;
    if c.argc() == 4 {
        if eq_ic(c.arg(3), "error") {
            error = true;
        } else if !eq_ic(c.arg(3), "timeout") {
            return Error::other("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR").into();
        }
    }
    let Some(id) = parse_i64(c.arg(2)) else { return Error::NotInteger.into() };
    // Only clients waiting on keys: a client postponed by CLIENT PAUSE stays paused.
    let Some(target) = u64::try_from(id).ok().filter(|&t| e.blocking.is_blocked(t)) else { return Reply::Integer(0) };
    crate::blocking::unblock(e, target);
    let reply = if error {
        Reply::Error(Error::other("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
    } else {
        // What a timeout answers: a null array.
        Reply::NilArray
    };
    e.stats.count_error(&reply);
    e.push(target, reply);
    Reply::Integer(1)
}

/// CLIENT NO-EVICT ON|OFF
fn client_no_evict(e: &mut Engine, c: &Ctx) -> Reply {
    let on = if eq_ic(c.arg(2), "on") {
        true
    } else if eq_ic(c.arg(2), "off") {
        false
    } else {
        return Error::Syntax.into();
    };
    if let Some(cl) = e.client_mut(c.client) {
        cl.modes.no_evict = on;
    }
    Reply::ok()
}

/// Whether one prefix starts the other (Redis's stringCheckPrefix): such prefixes overlap.
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a.get(..n) == b.get(..n)
}

/// CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
fn client_tracking(e: &mut Engine, c: &Ctx) -> Reply {
    let (mut redirect, mut bcast, mut optin, mut optout, mut noloop) = (0i64, false, false, false, false);
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < c.argc() {
        let more = j + 1 < c.argc();
        let opt = c.arg(j);
        if eq_ic(opt, "redirect") && more {
            j += 1;
            if redirect != 0 {
                return Error::other("ERR A client can only redirect to a single other client").into();
            }
            let Some(id) = parse_i64(c.arg(j)) else { return Error::NotInteger.into() };
            if !u64::try_from(id).is_ok_and(|id| e.clients.contains_key(&id)) {
                return Error::other("ERR The client ID you want redirect to does not exist").into();
            }
            redirect = id;
        } else if eq_ic(opt, "bcast") {
            bcast = true;
        } else if eq_ic(opt, "optin") {
            optin = true;
        } else if eq_ic(opt, "optout") {
            optout = true;
        } else if eq_ic(opt, "noloop") {
            noloop = true;
        } else if eq_ic(opt, "prefix") && more {
            j += 1;
            prefixes.push(c.arg(j));
        } else {
            return Error::Syntax.into();
        }
        j += 1;
    }
    let Some(cl) = e.clients.get_mut(&c.client) else { return Reply::Nil };
    if eq_ic(c.arg(2), "off") {
        crate::tracking::disable(e, c.client);
        return Reply::ok();
    }
    if !eq_ic(c.arg(2), "on") {
        return Error::Syntax.into();
    }
    let old = cl.modes.tracking.take();
    let refuse = |cl: &mut Client, old, text: String| {
        cl.modes.tracking = old;
        Reply::Error(Error::Other(text))
    };
    if !bcast && !prefixes.is_empty() {
        return refuse(cl, old, "ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    if old.as_ref().is_some_and(|t| t.bcast != bcast) {
        return refuse(
            cl,
            old,
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it \
             with a different mode."
                .into(),
        );
    }
    if bcast && (optin || optout) {
        return refuse(cl, old, "ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if optin && optout {
        return refuse(cl, old, "ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if old.as_ref().is_some_and(|t| (optin && t.optout) || (optout && t.optin)) {
        return refuse(
            cl,
            old,
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling \
             it with a different mode."
                .into(),
        );
    }
    let existing: &[Vec<u8>] = old.as_ref().map_or(&[], |t| t.prefixes.as_slice());
    if bcast {
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(q) = existing.iter().find(|q| overlaps(q, p)) {
                let text = format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(q)
                );
                return refuse(cl, old, text);
            }
            if let Some(q) = prefixes.iter().skip(i + 1).find(|q| overlaps(p, q)) {
                let text = format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(q)
                );
                return refuse(cl, old, text);
            }
        }
    }
    // Enabling again keeps the prefixes registered before and CLIENT CACHING's flag, and replaces the other
    // options (Redis's enableTracking).
    let mut all = old.as_ref().map(|t| t.prefixes.clone()).unwrap_or_default();
    let caching = old.as_ref().is_some_and(|t| t.caching);
    if bcast && prefixes.is_empty() {
        prefixes.push(b"");
    }
    for p in prefixes {
        if let Err(at) = all.binary_search_by(|q| q.as_slice().cmp(p)) {
            all.insert(at, p.to_vec());
        }
    }
    cl.modes.tracking = old;
    let settings = Tracking { redirect, bcast, optin, optout, noloop, caching, broken_redirect: false, prefixes: all };
    crate::tracking::enable(e, c.client, settings);
    Reply::ok()
}

/// CLIENT GETREDIR
fn client_getredir(e: &mut Engine, c: &Ctx) -> Reply {
    Reply::Integer(e.client(c.client).and_then(|cl| cl.modes.tracking.as_ref()).map_or(-1, |t| t.redirect))
}

/// CLIENT TRACKINGINFO
fn client_trackinginfo(e: &mut Engine, c: &Ctx) -> Reply {
    let tracking = e.client(c.client).and_then(|cl| cl.modes.tracking.as_ref());
    let mut flags = Vec::new();
    match tracking {
        None => flags.push("off"),
        Some(t) => {
            flags.push("on");
            if t.bcast {
                flags.push("bcast");
            }
            if t.optin {
                flags.push("optin");
                if t.caching {
                    flags.push("caching-yes");
                }
            }
            if t.optout {
                flags.push("optout");
                if t.caching {
                    flags.push("caching-no");
                }
            }
            if t.noloop {
                flags.push("noloop");
            }
            if t.broken_redirect {
                flags.push("broken_redirect");
            }
        }
    }
    Reply::Map(vec![
        (Reply::bulk_str("flags"), Reply::Set(flags.into_iter().map(Reply::bulk_str).collect())),
        (Reply::bulk_str("redirect"), Reply::Integer(tracking.map_or(-1, |t| t.redirect))),
        (
            Reply::bulk_str("prefixes"),
            Reply::Array(tracking.map_or_else(Vec::new, |t| t.prefixes.iter().map(|p| Reply::bulk(p)).collect())),
        ),
    ])
}

/// CLIENT CACHING YES|NO
fn client_caching(e: &mut Engine, c: &Ctx) -> Reply {
    let Some(t) = e.client_mut(c.client).and_then(|cl| cl.modes.tracking.as_mut()) else {
        return Error::other(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        )
        .into();
    };
    if eq_ic(c.arg(2), "yes") {
        if !t.optin {
            return Error::other("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.").into();
        }
    } else if eq_ic(c.arg(2), "no") {
        if !t.optout {
            return Error::other("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.").into();
        }
    } else {
        return Error::Syntax.into();
    }
    t.caching = true;
    Reply::ok()
}

#[cfg(test)]
mod tests {
    use crate::{Config, Engine, Error, Reply};

    fn run(e: &mut Engine, client: u64, line: &str) -> Reply {
        e.run_line(client, line, 1_000).unwrap_or(Reply::Nil)
    }

    #[test]
    fn client_kill_by_id_removes_the_other_client_and_closes_the_caller_after_its_reply() {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(1_000), e.connect(1_000));
        assert_eq!(run(&mut e, a, &alloc::format!("CLIENT KILL ID {b}")), Reply::Integer(1));
        assert!(e.client(b).is_none(), "the killed client is gone at once");
        assert_eq!(run(&mut e, a, &alloc::format!("CLIENT KILL ID {a}")), Reply::Integer(0), "SKIPME yes by default");
        assert_eq!(run(&mut e, a, &alloc::format!("CLIENT KILL ID {a} SKIPME no")), Reply::Integer(1));
        assert!(e.is_closing(a), "the caller is closed after its reply");
    }

    #[test]
    fn requirepass_refuses_commands_until_auth() {
        let mut e = Engine::new(Config { requirepass: b"pw".to_vec(), ..Config::default() });
        let c = e.connect(1_000);
        assert_eq!(run(&mut e, c, "SET k v"), Reply::Error(Error::NoAuth));
        assert_eq!(run(&mut e, c, "AUTH nope"), Reply::Error(Error::WrongPass));
        assert_eq!(run(&mut e, c, "AUTH pw"), Reply::ok());
        assert_eq!(run(&mut e, c, "SET k v"), Reply::ok());
        assert_eq!(run(&mut e, c, "RESET"), Reply::status("RESET"));
        assert_eq!(run(&mut e, c, "GET k"), Reply::Error(Error::NoAuth), "RESET forgets the authentication");
    }
}
