//! Clients blocked on keys: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP here, and the same machinery for the
//! sorted-set (BZPOPMIN, BZPOPMAX, BZMPOP) and stream (XREAD BLOCK) commands; Redis's blocked.c.
//!
//! The flow:
//! 1. A blocking command that finds nothing to take calls [`block`]: the client becomes a [`Waiter`] (its
//!    database, its keys, its deadline, the type of value that can serve it, and how to serve it), queued on
//!    each of its keys in `Db::blocking_keys`. `Engine::execute` sees the client blocked and returns `None`:
//!    there is no reply now.
//! 2. When a key that clients wait for is added, `Db::set` queues it in `Db::ready_keys` (Redis's
//!    signalKeyAsReady, which its dbAdd calls). A command that makes an existing value servable (a stream
//!    growing) calls `Db::signal_key_as_ready` itself.
//! 3. After each command `Engine::execute` calls [`handle_clients_blocked_on_keys`]: every ready key, in the
//!    order it became ready, serves its waiters in the order they blocked (first blocked, first served), as
//!    long as the key holds a value of the type they wait for. Serving runs the waiter's `serve` function (the
//!    pop its own command would have done) and delivers the reply with `Engine::push`; the host reads it with
//!    `Engine::drain_pushes`. A served client that adds a key others wait for (BLMOVE into a new list) makes
//!    that key ready in turn, and it is served in the next round of the same call. A stream that is deleted
//!    or replaced while clients wait on it (DEL, an overwrite, RENAME, a flush, expiry, eviction) is made ready
//!    too, by `Db` (Redis's signalDeletedKeyAsReady): its XREADGROUP waiters are answered UNBLOCKED.
//! 4. [`handle_timeouts`] (from `Engine::tick`, and before each command as Redis's beforeSleep would have run)
//!    answers the waiters whose deadline has passed with a null array and unblocks them.
//!    `Engine::disconnect` drops a waiter without a reply.
//!
//! A blocked client has no reply pending in the engine's view, and `Engine::execute` refuses further commands
//! from it (`ERR client is blocked`) until it is served, times out or disconnects: a connection waits for its
//! reply before sending more, as redis-cli does (the server stops reading a blocked connection).
//!
//! While `Blocking::deny` is set (by EXEC or a script running its commands, Redis's CLIENT_DENY_BLOCKING),
//! blocking commands must not call [`block`]: they answer at once as a timeout would.

use crate::vecmap::{VecMap, VecSet};
use alloc::vec::Vec;

use crate::engine::{ClientId, Engine};
use crate::error::Error;
use crate::ldouble;
use crate::reply::Reply;

/// Serves a waiter from `key`, which holds a value of the type the waiter waits for. The function has the
/// waiter's database and arguments in the [`Waiter`]; it answers the reply to deliver, or `None` to leave the
/// client blocked (nothing in the value for it yet).
pub type ServeFn = fn(&mut Engine, &Waiter, &[u8]) -> Option<Reply>;

/// A blocked client: what it waits for and what to do when it can be served (Redis's `c->bpop`).
#[derive(Clone, Debug)]
pub struct Waiter {
    pub client: ClientId,
    pub db: usize,
    /// The keys it waits for, each once, in argument order.
    pub keys: Vec<Vec<u8>>,
    /// Unix ms after which it times out; 0 waits forever.
    pub deadline: u64,
    /// The type name (`Value::type_name`) a ready key must hold to serve it, Redis's `btype`: a BLPOP client is
    /// not woken by a sorted set appearing under its key.
    pub wakes_on: &'static str,
    /// What the blocking command keeps for `serve` (BLMOVE: its directions and destination), as arguments.
    pub args: Vec<Vec<u8>>,
    pub serve: ServeFn,
    /// The command's slow-log entry, logged if the client is served (`crate::slowlog::answered`).
    pub slow: Option<crate::slowlog::Deferred>,
}

/// The engine's blocked clients.
#[derive(Debug, Default)]
pub struct Blocking {
    waiters: VecMap<ClientId, Waiter>,
    /// `(deadline, client)` of the waiters that have a deadline, earliest first (Redis's clients_timeout_table).
    timeouts: VecSet<(u64, ClientId)>,
    /// Set while EXEC or a script runs commands: blocking commands then answer as if timed out.
    pub deny: bool,
}

impl Blocking {
    #[inline]
    pub fn is_blocked(&self, client: ClientId) -> bool {
        !self.waiters.is_empty() && self.waiters.contains_key(&client)
    }

    /// How many clients are blocked (INFO's `blocked_clients`).
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// How many blocked clients have a deadline (INFO's `clients_in_timeout_table`).
    pub fn with_deadline(&self) -> usize {
        self.timeouts.len()
    }

    pub(crate) fn waiter_mut(&mut self, client: ClientId) -> Option<&mut Waiter> {
        if self.waiters.is_empty() {
            return None;
        }
        self.waiters.get_mut(&client)
    }

    pub fn waiter(&self, client: ClientId) -> Option<&Waiter> {
        self.waiters.get(&client)
    }
}

pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";

/// A timeout in seconds as blocking commands take it, turned into a deadline in unix ms (0: wait forever);
/// Redis 7.0's getTimeoutFromObjectOrReply with UNIT_SECONDS.
///
/// Redis parses a `long double`, multiplies by 1000 and rounds up (`ceill`), then converts to `long long`:
/// `0.0001` waits 1 ms, `-0.0001` rounds to 0 and waits forever, and values past the `long long` range
/// (`inf`, `1e30`) convert to LLONG_MIN and are refused as negative. The deadline is `now` plus that, wrapping
/// as Redis's addition does (its timeout table then reads it unsigned, so a wrapped deadline never comes).
pub fn parse_timeout(arg: &[u8], now: u64) -> Result<u64, Error> {
    let secs = ldouble::parse(arg).ok_or_else(|| Error::other(TIMEOUT_NOT_FLOAT))?;
    let ms = ceil_millis(&secs);
    if ms < 0 {
        return Err(Error::other(TIMEOUT_NEGATIVE));
    }
    if ms == 0 {
        return Ok(0);
    }
    Ok((ms as u64).wrapping_add(now))
}

/// `(long long) ceill(secs * 1000.0)` on x86-64: the product rounded to the x87's 64-bit mantissa, rounded up
/// to an integer, and anything outside the `long long` range (infinity included) becoming the x87 "integer
/// indefinite" LLONG_MIN.
fn ceil_millis(secs: &ldouble::LongDouble) -> i64 {
    let (sign_exp, mantissa) = secs.to_bits();
    let negative = sign_exp & 0x8000 != 0;
    let biased = i64::from(sign_exp & 0x7fff);
    if biased == 0x7fff {
        return i64::MIN;
    }
    if mantissa == 0 {
        return 0;
    }
    // The value is mantissa * 2^exp (denormals have biased exponent 0 but scale like 1).
    let mut exp = biased.max(1) - 16383 - 63;
    let mut product = u128::from(mantissa) * 1000;
    let bits = 128 - i64::from(product.leading_zeros());
    if bits > 64 {
        let shift = (bits - 64) as u32;
        let half = 1u128 << (shift - 1);
        let rest = product & ((1u128 << shift) - 1);
        product >>= shift;
        if rest > half || (rest == half && product & 1 == 1) {
            product += 1;
        }
        exp += i64::from(shift);
        if product >> 64 != 0 {
            product >>= 1;
            exp += 1;
        }
    }
    let magnitude = if exp >= 0 {
        if exp > 64 {
            return i64::MIN;
        }
        product << exp
    } else {
        let shift = exp.unsigned_abs();
        let (whole, fraction) = if shift >= 128 {
            (0, product != 0)
        } else {
            (product >> shift, product & ((1u128 << shift) - 1) != 0)
        };
        // Rounding up moves a positive value away from zero and a negative one toward it.
        if negative {
            whole
        } else {
            whole + u128::from(fraction)
        }
    };
    let limit = 1u128 << 63;
    match (negative, magnitude) {
        (false, m) if m >= limit => i64::MIN,
        (false, m) => m as i64,
        (true, m) if m > limit => i64::MIN,
        (true, m) => (m as i128).wrapping_neg() as i64,
    }
}

/// Blocks `client` on `keys` of database `db` until `deadline` (0: forever); `Engine::execute` then returns no
/// reply. See the module documentation for the rest of the flow.
#[allow(clippy::too_many_arguments)]
pub fn block(
    e: &mut Engine,
    client: ClientId,
    db: usize,
    keys: &[&[u8]],
    deadline: u64,
    wakes_on: &'static str,
    args: Vec<Vec<u8>>,
    serve: ServeFn,
) {
    let mut unique: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    let mut seen = hashbrown::HashSet::new();
    for &k in keys {
        if seen.insert(k) {
            unique.push(k.to_vec());
        }
    }
    let db = if db < e.dbs.len() { db } else { 0 };
    let dbm = e.db_mut(db);
    for k in &unique {
        dbm.blocking_keys.entry(k.clone()).or_default().push_back(client);
    }
    if deadline != 0 {
        e.blocking.timeouts.insert((deadline, client));
    }
    e.blocking.waiters.insert(client, Waiter { client, db, keys: unique, deadline, wakes_on, args, serve, slow: None });
}

/// Ends a client's wait without replying (served, timed out, disconnected); the waiter it was, if blocked.
pub fn unblock(e: &mut Engine, client: ClientId) -> Option<Waiter> {
    let w = e.blocking.waiters.remove(&client)?;
    e.blocking.timeouts.remove(&(w.deadline, client));
    let dbm = e.db_mut(w.db);
    for k in &w.keys {
        if let Some(queue) = dbm.blocking_keys.get_mut(k) {
            queue.retain(|&c| c != client);
            if queue.is_empty() {
                dbm.blocking_keys.remove(k);
            }
        }
    }
    Some(w)
}

/// Serves the clients blocked on keys that became ready, round after round until no key is ready
/// (Redis's handleClientsBlockedOnKeys, which runs after every command).
#[inline]
pub fn handle_clients_blocked_on_keys(e: &mut Engine) {
    // Keys are only queued while someone waits for them: nothing to do for the common case of no waiters
    // (one test, inlined into every command).
    if !e.blocking.is_empty() {
        serve_ready_keys(e);
        // What the served clients changed is invalidated for client-side caching.
        if e.tracking.on {
            crate::tracking::served(e);
        }
    }
}

fn serve_ready_keys(e: &mut Engine) {
    loop {
        let round: Vec<(usize, Vec<u8>)> = e
            .dbs
            .iter()
            .enumerate()
            .flat_map(|(i, db)| db.ready_keys.iter().map(move |k| (i, k.clone())))
            .collect();
        if round.is_empty() {
            return;
        }
        for (dbi, key) in round {
            // Off the ready list before serving, so serving can make the key ready again for the next round.
            e.db_mut(dbi).ready_keys.retain(|k| *k != key);
            serve_key(e, dbi, &key);
        }
    }
}

/// Serves the clients waiting for one ready key, first blocked first, while the key holds a value.
fn serve_key(e: &mut Engine, dbi: usize, key: &[u8]) {
    e.expire_if_needed(dbi, key);
    crate::propagate::end_unit(e);
    let Some(queue) = e.db(dbi).blocking_keys.get(key) else { return };
    let queue: Vec<ClientId> = queue.iter().copied().collect();
    for client in queue {
        // A waiter before this one may have emptied the value, which deletes the key. A stream waiter is asked
        // even then, or when the key holds another type now: XREADGROUP answers that the stream is gone.
        let ready_type = e.db(dbi).keys.get(key).map(|en| en.value.type_name());
        let Some(w) = e.blocking.waiters.get(&client).filter(|w| Some(w.wakes_on) == ready_type || w.wakes_on == "stream").cloned()
        else {
            continue;
        };
        let Some(reply) = (w.serve)(e, &w, key) else { continue };
        // Each client served is an execution unit of its own (what it popped, as the non-blocking command).
        crate::propagate::end_unit(e);
        let slow = unblock(e, client).and_then(|w| w.slow);
        crate::slowlog::answered(e, client, slow);
        if reply.is_error() {
            // The blocked command was counted as a call when it blocked; its late error counts as a failure.
            let name = e.client(client).map(|cl| cl.last_cmd);
            if let Some(stats) = name.and_then(|n| e.stats.commands.get_mut(n)) {
                stats.failed_calls += 1;
            }
            e.stats.count_error(&reply);
        }
        e.push(client, reply);
    }
}

/// Answers with a null array, and unblocks, every waiter whose deadline is before the engine's clock
/// (Redis's handleBlockedClientsTimeout).
#[inline]
pub fn handle_timeouts(e: &mut Engine) {
    // Inlined into every command: the common case, nobody waiting with a deadline, is one test.
    if !e.blocking.timeouts.is_empty() {
        answer_timeouts(e);
    }
}

fn answer_timeouts(e: &mut Engine) {
    let now = e.now;
    while let Some(&(deadline, client)) = e.blocking.timeouts.first() {
        if deadline >= now {
            return;
        }
        e.blocking.timeouts.remove(&(deadline, client));
        if unblock(e, client).is_some() {
            e.push(client, Reply::NilArray);
        }
    }
}

/// After SWAPDB swapped two databases' contents: blocked clients stay with their database index, so the
/// blocking bookkeeping is swapped back, and keys now present that clients wait for become ready
/// (Redis's swapdb keeps blocking_keys in place and runs scanDatabaseForReadyKeys on both).
pub fn swapped_dbs(e: &mut Engine, a: usize, b: usize) {
    if a == b || a >= e.dbs.len() || b >= e.dbs.len() {
        return;
    }
    let (lo, hi) = (a.min(b), a.max(b));
    let (left, right) = e.dbs.split_at_mut(hi);
    if let (Some(x), Some(y)) = (left.get_mut(lo), right.first_mut()) {
        core::mem::swap(&mut x.blocking_keys, &mut y.blocking_keys);
        core::mem::swap(&mut x.ready_keys, &mut y.ready_keys);
    }
    for dbi in [a, b] {
        let waited: Vec<Vec<u8>> = e.db(dbi).blocking_keys.keys().cloned().collect();
        for key in waited {
            if e.db(dbi).keys.contains_key(&key) {
                e.db_mut(dbi).signal_key_as_ready(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use alloc::vec;

    fn ms(s: &str) -> i64 {
        ceil_millis(&ldouble::parse(s.as_bytes()).unwrap_or(ldouble::LongDouble::ZERO))
    }

    #[test]
    fn timeouts_round_up_to_milliseconds() {
        assert_eq!(ms("0"), 0);
        assert_eq!(ms("1"), 1000);
        assert_eq!(ms("0.0001"), 1);
        assert_eq!(ms("0.0015"), 2);
        assert_eq!(ms("1e-400"), 1);
        assert_eq!(ms("-0.0001"), 0);
        assert_eq!(ms("-0.5"), -500);
        assert_eq!(ms("0x10"), 16000);
        assert_eq!(ms("9.22e15"), 9_220_000_000_000_000_000);
        assert_eq!(ms("9.3e15"), i64::MIN);
        assert_eq!(ms("inf"), i64::MIN);
        assert_eq!(ms("-inf"), i64::MIN);
        assert_eq!(parse_timeout(b"0.1", 1000), Ok(1100));
        assert_eq!(parse_timeout(b"-0", 1000), Ok(0));
        assert_eq!(parse_timeout(b"1e30", 1000), Err(Error::other(TIMEOUT_NEGATIVE)));
        assert_eq!(parse_timeout(b"nan", 1000), Err(Error::other(TIMEOUT_NOT_FLOAT)));
        assert_eq!(parse_timeout(b" 1", 1000), Err(Error::other(TIMEOUT_NOT_FLOAT)));
    }

    fn run(e: &mut Engine, client: ClientId, args: &[&str], now: u64) -> Option<Reply> {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        e.execute(client, &argv, now)
    }

    fn pair(k: &str, v: &str) -> Reply {
        Reply::Array(vec![Reply::bulk_str(k), Reply::bulk_str(v)])
    }

    #[test]
    fn blpop_is_served_by_another_clients_push() {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(1000), e.connect(1000));
        assert_eq!(run(&mut e, a, &["BLPOP", "q", "0"], 1000), None);
        assert!(e.is_blocked(a));
        assert_eq!(e.blocking.len(), 1);
        assert!(run(&mut e, a, &["PING"], 1001).is_some_and(|r| r.is_error()));
        assert_eq!(run(&mut e, b, &["RPUSH", "q", "x", "y"], 1002), Some(Reply::Integer(2)));
        assert!(!e.is_blocked(a));
        assert_eq!(e.drain_pushes(), vec![(a, pair("q", "x"))]);
        assert_eq!(run(&mut e, b, &["LLEN", "q"], 1003), Some(Reply::Integer(1)));
        assert!(e.db(0).blocking_keys.is_empty());
    }

    #[test]
    fn first_blocked_first_served() {
        let mut e = Engine::new(Config::default());
        let (a, b, c) = (e.connect(0), e.connect(0), e.connect(0));
        assert_eq!(run(&mut e, a, &["BRPOP", "q", "0"], 10), None);
        assert_eq!(run(&mut e, b, &["BLPOP", "other", "q", "0"], 10), None);
        assert_eq!(run(&mut e, c, &["LPUSH", "q", "1"], 10), Some(Reply::Integer(1)));
        assert_eq!(e.drain_pushes(), vec![(a, pair("q", "1"))]);
        assert_eq!(run(&mut e, c, &["LPUSH", "q", "2", "3"], 10), Some(Reply::Integer(2)));
        assert_eq!(e.drain_pushes(), vec![(b, pair("q", "3"))]);
        assert_eq!(run(&mut e, c, &["LRANGE", "q", "0", "-1"], 10), Some(Reply::Array(vec![Reply::bulk_str("2")])));
    }

    #[test]
    fn timeout_comes_from_tick_without_sleeping() {
        let mut e = Engine::new(Config::default());
        let a = e.connect(1_000);
        assert_eq!(run(&mut e, a, &["BLPOP", "q", "0.5"], 1_000), None);
        e.tick(1_500);
        assert!(e.is_blocked(a), "the deadline itself has not passed");
        assert!(e.drain_pushes().is_empty());
        e.tick(1_501);
        assert!(!e.is_blocked(a));
        assert_eq!(e.drain_pushes(), vec![(a, Reply::NilArray)]);
        assert_eq!(run(&mut e, a, &["PING"], 1_502), Some(Reply::status("PONG")));
    }

    #[test]
    fn disconnect_drops_the_waiter() {
        let mut e = Engine::new(Config::default());
        let (a, b) = (e.connect(0), e.connect(0));
        assert_eq!(run(&mut e, a, &["BLPOP", "q", "1"], 0), None);
        e.disconnect(a);
        assert!(!e.is_blocked(a));
        assert_eq!(run(&mut e, b, &["LPUSH", "q", "x"], 1), Some(Reply::Integer(1)));
        assert!(e.drain_pushes().is_empty());
        e.tick(5_000);
        assert!(e.drain_pushes().is_empty());
        assert_eq!(run(&mut e, b, &["LLEN", "q"], 5_001), Some(Reply::Integer(1)));
    }

    #[test]
    fn blmove_chains_wake_the_next_list() {
        let mut e = Engine::new(Config::default());
        let (a, b, c) = (e.connect(0), e.connect(0), e.connect(0));
        assert_eq!(run(&mut e, a, &["BLMOVE", "q1", "q2", "LEFT", "RIGHT", "0"], 0), None);
        assert_eq!(run(&mut e, b, &["BLPOP", "q2", "0"], 0), None);
        assert_eq!(run(&mut e, c, &["RPUSH", "q1", "job"], 0), Some(Reply::Integer(1)));
        assert_eq!(e.drain_pushes(), vec![(a, Reply::bulk_str("job")), (b, pair("q2", "job"))]);
        assert_eq!(run(&mut e, c, &["EXISTS", "q1", "q2"], 0), Some(Reply::Integer(0)));
    }
}
