//! Property tests: random input never panics, and random command sequences get the same replies from the
//! engine as from a real redis-server.

use std::panic::{catch_unwind, AssertUnwindSafe};

use redlet_core::resp::{parse_command, parse_reply, Limits};
use redlet_core::tokenize::split_args;
use redlet_core::{Config, Engine, Reply};

use crate::diff::{escape, now_ms};
use crate::redis::RedisServer;

/// xorshift64*: a tiny seeded generator so every failure names a reproducible seed.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes biased toward what parsers care about: RESP type bytes, digits, quotes, escapes, CR/LF.
fn random_bytes(g: &mut Gen) -> Vec<u8> {
    const ALPHABET: &[u8] = b"*$+-:_,#!=(%~>\r\n\r\n0123456789-\"'\\x \t abcAZ{}";
    let len = g.below(64);
    (0..len)
        .map(|_| if g.below(8) == 0 { g.next() as u8 } else { *g.pick(ALPHABET) })
        .collect()
}

#[test]
fn random_bytes_never_panic_the_tokenizer_or_resp_parsers() {
    let limits = Limits::default();
    let mut g = Gen::new(7);
    for _ in 0..200_000 {
        let input = random_bytes(&mut g);
        let outcome = catch_unwind(|| {
            let _ = split_args(&input);
            let _ = parse_command(&input, &limits);
            let _ = parse_reply(&input);
        });
        assert!(outcome.is_ok(), "panic on input {}", escape(&input));
    }
}

/// Arguments that exercise option parsing, number parsing and bounds.
const WORDS: &[&str] = &[
    "k", "k2", "k3", "", "v", "0", "1", "-1", "2", "10", "100", "-100", "3.5", "1e3", "inf", "-inf", "nan",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "4294967296",
    "536870912", "NX", "XX", "GT", "LT", "GET", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "PERSIST", "LEN", "IDX",
    "MINMATCHLEN", "WITHMATCHLEN", "MATCH", "COUNT", "TYPE", "DB", "REPLACE", "ASYNC", "SYNC", "*", "k*", "[", "\\",
    "string", "SETNAME", "AUTH", "3", "16", "-16", "ID", "TYPE", "normal", "FILTERBY", "PATTERN", "ACLCAT", "maxmemory",
    "hz", "INFO", "DOCS", "GETKEYS", "LIST", "ENCODING", "FREQ", "IDLETIME", "REFCOUNT", "HELP", "default",
];

/// Ways a client turns client-side caching on or off (`random_commands_never_panic_the_engine`).
const TRACKING_SETUPS: &[&[&[u8]]] = &[
    &[b"CLIENT", b"TRACKING", b"ON"],
    &[b"CLIENT", b"TRACKING", b"ON", b"NOLOOP"],
    &[b"CLIENT", b"TRACKING", b"ON", b"BCAST"],
    &[b"CLIENT", b"TRACKING", b"ON", b"BCAST", b"PREFIX", b"k"],
    &[b"CLIENT", b"TRACKING", b"ON", b"OPTIN"],
    &[b"CLIENT", b"TRACKING", b"ON", b"OPTOUT"],
    &[b"CLIENT", b"TRACKING", b"OFF"],
    &[b"CLIENT", b"CACHING", b"YES"],
    &[b"HELLO", b"3"],
    &[b"HELLO", b"2"],
];

fn random_argv(g: &mut Gen, names: &[&str]) -> Vec<Vec<u8>> {
    let mut argv = vec![g.pick(names).as_bytes().to_vec()];
    for _ in 0..g.below(7) {
        argv.push(if g.below(10) == 0 { random_bytes(g) } else { g.pick(WORDS).as_bytes().to_vec() });
    }
    argv
}

/// Every command the engine implements, subcommands as `NAME SUB`.
fn implemented(engine: &Engine) -> Vec<String> {
    let mut names = Vec::new();
    for spec in engine.implemented_commands() {
        if spec.subcommands.is_empty() {
            names.push(spec.name.to_string());
        }
        for sub in spec.subcommands.iter().filter(|s| engine.implements(s.name)) {
            names.push(sub.name.replace('|', " "));
        }
    }
    names
}

#[test]
fn random_commands_never_panic_the_engine() {
    let mut engine = Engine::new(Config::default());
    let names_owned = implemented(&engine);
    // Split `OBJECT ENCODING` into two leading arguments.
    let names: Vec<&str> = names_owned.iter().map(String::as_str).collect();
    let mut client = engine.connect(1_000);
    let mut g = Gen::new(11);
    let mut now = 1_700_000_000_000u64;
    let mut tracked = false;
    for _ in 0..100_000 {
        let head = g.pick(&names).to_string();
        let mut argv: Vec<Vec<u8>> = head.split(' ').map(|s| s.as_bytes().to_vec()).collect();
        argv.extend(random_argv(&mut g, &names).into_iter().skip(1));
        // Real time, and sometimes a jump far ahead, so expiry paths run too.
        now += if g.below(50) == 0 { 10_000_000 } else { g.below(3) as u64 };
        let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        if args.first().is_some_and(|a| a.eq_ignore_ascii_case(b"FLUSHALL") || a.eq_ignore_ascii_case(b"QUIT")) {
            continue;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let reply = engine.execute(client, &args, now);
            engine.tick(now);
            reply
        }));
        // Now and then the client switches client-side caching on in one of its modes (or off, or to RESP3), so
        // that tracking's paths run under the random commands too; random arguments alone seldom manage it.
        if g.below(300) == 0 {
            let setup: &[&[u8]] = *g.pick(TRACKING_SETUPS);
            let on = catch_unwind(AssertUnwindSafe(|| engine.execute(client, setup, now)));
            assert!(on.is_ok(), "panic on {setup:?}");
            tracked |= setup.get(2) == Some(&&b"ON"[..]) && matches!(&on, Ok(Some(Reply::Status(s))) if s == "OK");
        }
        let shown: Vec<String> = argv.iter().map(|a| escape(a)).collect();
        assert!(outcome.is_ok(), "panic on {:?}", shown);
        // The incremental memory accounting (maxmemory's input) stays equal to a fresh count.
        assert_eq!(engine.memory_drift(), None, "memory accounting drifted after {:?}", shown);
        // A client left blocked would answer every later command with an error: start a fresh one.
        if engine.is_closing(client) || engine.is_blocked(client) {
            engine.disconnect(client);
            client = engine.connect(now);
        }
    }
    assert!(tracked, "no CLIENT TRACKING ON succeeded: client-side caching went untested");
}

/// Commands whose replies are deterministic given the same state (no time, randomness or server identity),
/// each with the shape of its arguments: `k` a key, `v` a value, `n` an integer, `f` a float,
/// `i` an index, a literal in capitals, `+` repeats the previous item one to three times.
const SHAPES: &[(&str, &str)] = &[
    ("SET", "k v"), ("SET", "k v NX"), ("SET", "k v XX"), ("SET", "k v GET"), ("SET", "k v KEEPTTL"),
    ("GET", "k"), ("GETDEL", "k"), ("GETSET", "k v"), ("MGET", "k+"), ("MSET", "k v k v"), ("MSETNX", "k v"),
    ("SETNX", "k v"), ("APPEND", "k v"), ("STRLEN", "k"), ("INCR", "k"), ("INCRBY", "k n"), ("DECR", "k"),
    ("DECRBY", "k n"), ("INCRBYFLOAT", "k f"), ("GETRANGE", "k i i"), ("SUBSTR", "k i i"), ("SETRANGE", "k i v"),
    ("LCS", "k k"), ("DEL", "k+"), ("UNLINK", "k+"), ("EXISTS", "k+"), ("TYPE", "k"), ("PERSIST", "k"),
    ("RENAME", "k k"), ("RENAMENX", "k k"), ("COPY", "k k"), ("TOUCH", "k+"), ("DBSIZE", ""), ("ECHO", "v"),
    ("PING", ""), ("EXPIRE", "k e"), ("PEXPIRE", "k e"), ("TTL", "k"), ("SETEX", "k e v"), ("PSETEX", "k e v"),
    ("GETEX", "k"), ("OBJECT", "ENCODING k"),
    ("LPUSH", "k v+"), ("RPUSH", "k v+"), ("LPUSHX", "k v"), ("RPUSHX", "k v"), ("LPOP", "k"), ("RPOP", "k n"),
    ("LLEN", "k"), ("LRANGE", "k i i"), ("LINDEX", "k i"), ("LSET", "k i v"), ("LREM", "k i v"),
    ("LTRIM", "k i i"), ("LINSERT", "k BEFORE v v"), ("LPOS", "k v"), ("LMOVE", "k k LEFT RIGHT"),
    ("RPOPLPUSH", "k k"), ("LMPOP", "2 k k LEFT"),
    ("SADD", "k v+"), ("SREM", "k v+"), ("SISMEMBER", "k v"), ("SMISMEMBER", "k v+"), ("SCARD", "k"),
    ("SMOVE", "k k v"), ("SINTERCARD", "2 k k"),
    ("HSET", "k v v"), ("HSET", "k v v v v"), ("HSETNX", "k v v"), ("HGET", "k v"), ("HMGET", "k v+"),
    ("HGETALL", "k"), ("HDEL", "k v+"), ("HEXISTS", "k v"), ("HLEN", "k"), ("HSTRLEN", "k v"), ("HKEYS", "k"),
    ("HVALS", "k"), ("HINCRBY", "k v n"), ("HINCRBYFLOAT", "k v f"),
    ("ZADD", "k f v"), ("ZADD", "k NX f v f v"), ("ZADD", "k XX CH f v"), ("ZADD", "k GT f v"), ("ZADD", "k INCR f v"),
    ("ZINCRBY", "k f v"), ("ZREM", "k v+"), ("ZCARD", "k"), ("ZCOUNT", "k f f"), ("ZSCORE", "k v"), ("ZMSCORE", "k v+"),
    ("ZRANK", "k v"), ("ZREVRANK", "k v"), ("ZRANGE", "k i i"), ("ZRANGE", "k i i WITHSCORES"),
    ("ZRANGE", "k f f BYSCORE"), ("ZRANGE", "k i i REV WITHSCORES"), ("ZRANGEBYSCORE", "k -inf +inf WITHSCORES"),
    ("ZPOPMIN", "k"), ("ZPOPMAX", "k n"), ("ZREMRANGEBYRANK", "k i i"), ("ZREMRANGEBYSCORE", "k f f"),
    ("ZUNIONSTORE", "k 2 k k"), ("ZINTERSTORE", "k 2 k k WEIGHTS f f"), ("ZDIFFSTORE", "k 2 k k"),
    ("SORT", "k"), ("SORT", "k ALPHA"), ("SORT", "k DESC LIMIT i i"),
    ("PFADD", "k v+"), ("PFCOUNT", "k+"), ("PFMERGE", "k k+"),
    ("GEOADD", "k lon lat v"), ("GEOADD", "k CH lon lat v lon lat v"), ("GEOADD", "k NX lon lat v"),
    ("GEOADD", "k XX lon lat v"), ("GEODIST", "k v v"), ("GEODIST", "k v v km"), ("GEOPOS", "k v+"),
    ("GEOHASH", "k v+"),
    // Streams with explicit IDs only: automatic IDs come from the clock.
    ("XADD", "k 1-1 v v"), ("XADD", "k 5 v v v v"), ("XADD", "k 7-* v v"), ("XADD", "k MAXLEN n 9-9 v v"),
    ("XADD", "k NOMKSTREAM 3-0 v v"), ("XADD", "k MINID i 12 v v"), ("XLEN", "k"), ("XRANGE", "k - +"),
    ("XRANGE", "k i +"), ("XRANGE", "k - + COUNT n"), ("XDEL", "k 1-1"), ("XDEL", "k 5 9-9"), ("XTRIM", "k MAXLEN n"),
    ("XTRIM", "k MINID 6"),
    ("SETBIT", "k i n"), ("GETBIT", "k i"), ("BITCOUNT", "k"), ("BITCOUNT", "k i i"), ("BITCOUNT", "k i i BIT"),
    ("BITPOS", "k n"), ("BITPOS", "k n i"), ("BITPOS", "k n i i"), ("BITPOS", "k n i i BIT"),
    ("BITOP", "AND k k k"), ("BITOP", "OR k k+"), ("BITOP", "XOR k k k"), ("BITOP", "NOT k k"),
    ("BITFIELD", "k GET i8 i"), ("BITFIELD", "k SET u8 i n"), ("BITFIELD", "k INCRBY i16 i n GET u4 i"),
    ("BITFIELD", "k OVERFLOW SAT INCRBY u4 i n"), ("BITFIELD", "k OVERFLOW FAIL INCRBY i8 i n"), ("BITFIELD_RO", "k GET u8 i"),
];
const KEYS: &[&str] = &["a", "b", "c", "n"];
const VALUES: &[&str] = &["1", "-7", "10.5", "hello", "", "9223372036854775806", "0.1", "abc123", "3e2", "42"];

fn random_deterministic_command(g: &mut Gen) -> Vec<String> {
    let (cmd, shape) = *g.pick(SHAPES);
    let mut argv = vec![cmd.to_string()];
    let mut last = "";
    for item in shape.split_whitespace() {
        let items: Vec<&str> = if item == "+" { (0..g.below(3)).map(|_| last).collect() } else { vec![item] };
        for it in items {
            let arg = match it {
                "k" => g.pick(KEYS).to_string(),
                "v" => g.pick(VALUES).to_string(),
                "n" => g.pick(&["1", "-1", "3", "0", "x", "9223372036854775807"]).to_string(),
                "f" => g.pick(&["0.1", "-1.5", "1e2", "x", "3"]).to_string(),
                "i" => g.pick(&["0", "1", "-1", "3", "-3", "100", "x"]).to_string(),
                // Expiry values that cannot race the clock: far future, already past, or invalid.
                "e" => g.pick(&["100000", "0", "-5", "x", "9223372036854775807"]).to_string(),
                // Coordinates: valid ones mostly, and a few out of range or not numbers.
                "lon" => g.pick(&["13.361389", "-122.27652", "0", "180", "-180", "15.08", "181", "x"]).to_string(),
                "lat" => g.pick(&["38.115556", "37.805186", "0", "85.05112878", "-85.05112878", "37.5", "86", "x"]).to_string(),
                literal => literal.to_string(),
            };
            argv.push(arg);
        }
        if item != "+" {
            last = item;
        }
    }
    argv
}

#[test]
fn random_sequences_match_redis() {
    let Some(server) = RedisServer::start() else {
        assert!(!crate::redis::required(), "REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
        return;
    };
    let mut compared = 0;
    for seed in 1..=40u64 {
        let mut g = Gen::new(seed);
        let mut conn = server.connect().expect("connect");
        conn.call(&[b"FLUSHALL"]).expect("flushall");
        let mut engine = Engine::new(Config::default());
        let client = engine.connect(now_ms());
        for step in 0..250 {
            let argv = random_deterministic_command(&mut g);
            let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
            let theirs = conn.call(&args).expect("redis reply");
            let ours = engine.execute_resp(client, &args, now_ms()).unwrap_or_default();
            assert_eq!(
                escape(&ours),
                escape(&theirs),
                "seed {seed}, step {step}: {}",
                argv.join(" ")
            );
            compared += 1;
        }
    }
    println!("random sequences: {compared} commands compared with redis-server, 0 differed");
}
