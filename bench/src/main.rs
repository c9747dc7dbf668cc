//! Redlet's in-process benchmarks: the engine called directly, as `redlet-server` and the wasm API call it.
//!
//! `./dev bench` runs these through `bench/run.py`, which also runs the server, memory and size comparisons
//! against Redis and writes BENCHMARKS.md. Each subcommand prints one JSON object on stdout:
//!
//! ```text
//! redlet-bench ops                   ops/s per command, 100,000 random keys (median of 5 timed rounds)
//! redlet-bench flat [OP]             ns per operation at collection sizes 10^3..10^6, and max/min (ZREM, ZRANGE: only when named)
//! redlet-bench count OP SIZE        `flat`'s workload at one size, the operations to count under callgrind
//! redlet-bench latency               ns per dependent memory load by working-set size (a pointer chase)
//! redlet-bench memory KIND           heap growth for 1,000,000 keys/members; KIND: strings | hash | set | zset
//!                                    | zsets (200,000 small sorted sets of 5 members; not in BENCHMARKS.md)
//! redlet-bench profile OP [SIZE]     runs one operation in a loop, for `valgrind --tool=callgrind`
//! redlet-bench implemented CMD...    which of these commands the engine implements (a JSON list)
//! ```
//!
//! No criterion: a timed loop with a warm-up round and several timed rounds is enough to compare with Redis,
//! and keeps the run short. The arguments of the timed commands are generated before the clock starts.

mod clock;
mod counting;
mod latency;

use std::fmt::Write as _;

use redlet_core::{ClientId, Config, Engine, Reply};

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

/// The time handed to the engine: fixed, no key in these benchmarks expires.
const NOW: u64 = 1_700_000_000_000;
/// Distinct keys the `ops` benchmark draws from (redis-benchmark's `-r 100000`).
const KEYSPACE: u64 = 100_000;
/// Commands per timed round in `ops`.
const OPS_PER_ROUND: usize = 200_000;
/// Timed rounds (after one warm-up round); the median is reported.
const ROUNDS: usize = 5;
/// Collection sizes of the flatness benchmark.
const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
/// Timed rounds per size in `flat` (after one warm-up round); the median is reported.
const FLAT_ROUNDS: usize = 7;
/// Untimed operations that begin each round in `flat` (the caches hold the previous size's collection).
const FLAT_WARM_OPS: usize = 5_000;
/// Timed operations per round at each size in `flat`.
const FLAT_OPS_PER_ROUND: usize = 20_000;
/// Keys or members the memory benchmark stores.
const MEMORY_COUNT: usize = 1_000_000;

type Cmd = Vec<Vec<u8>>;

/// xorshift64*: deterministic, so every run times the same command sequence.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// An engine with one client.
struct Bench {
    engine: Engine,
    client: ClientId,
}

impl Bench {
    fn new() -> Bench {
        let mut engine = Engine::new(Config { seed: 42, ..Config::default() });
        let client = engine.connect(NOW);
        Bench { engine, client }
    }

    /// Runs one command without allocating for its argument vector (the timed path: commands of up to 8 arguments).
    #[inline]
    fn exec(&mut self, cmd: &[Vec<u8>]) -> Option<Reply> {
        let mut refs: [&[u8]; 8] = [&[]; 8];
        if cmd.len() > refs.len() {
            return self.exec_long(cmd);
        }
        for (r, a) in refs.iter_mut().zip(cmd) {
            *r = a;
        }
        self.engine.execute(self.client, &refs[..cmd.len()], NOW)
    }

    /// Runs a command of any length (set-up commands adding a thousand members at once).
    fn exec_long(&mut self, cmd: &[Vec<u8>]) -> Option<Reply> {
        let refs: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
        self.engine.execute(self.client, &refs, NOW)
    }

    /// Runs set-up commands, failing loudly on an error reply (a benchmark of errors would be meaningless).
    fn setup(&mut self, cmds: &[Cmd]) {
        for cmd in cmds {
            if let Some(Reply::Error(e)) = self.exec_long(cmd) {
                panic!("set-up command {} failed: {e}", show(cmd));
            }
        }
    }

    /// CPU seconds to run `cmds`, checking (outside the clock) that none failed.
    fn time(&mut self, cmds: &[Cmd]) -> f64 {
        let mut failed = None;
        let start = clock::thread_cpu_secs();
        for cmd in cmds {
            if let Some(Reply::Error(e)) = self.exec(cmd) {
                failed.get_or_insert((cmd, e));
            }
        }
        let secs = clock::thread_cpu_secs() - start;
        if let Some((cmd, e)) = failed {
            panic!("timed command {} failed: {e}", show(cmd));
        }
        secs
    }

    /// Runs `cmds` as `time` does but without the clock: the span `redlet-bench count` hands to callgrind
    /// (`--toggle-collect='*Bench*counted*'`), so only these commands are counted. Not inlined, so that
    /// callgrind sees it as a function.
    #[inline(never)]
    fn counted(&mut self, cmds: &[Cmd]) {
        for cmd in cmds {
            if let Some(Reply::Error(e)) = self.exec(cmd) {
                panic!("counted command {} failed: {e}", show(cmd));
            }
        }
    }

    fn used_memory(&mut self) -> u64 {
        let info = match self.exec(&cmd(&["INFO", "memory"])) {
            Some(Reply::Bulk(b) | Reply::Verbatim(_, b)) => b,
            _ => return 0,
        };
        let text = String::from_utf8_lossy(&info);
        text.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

fn cmd(parts: &[&str]) -> Cmd {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

fn show(cmd: &[Vec<u8>]) -> String {
    let mut s: String = cmd.iter().take(4).map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" ");
    if cmd.len() > 4 {
        let _ = write!(s, " ... ({} arguments)", cmd.len());
    }
    s
}

/// A 16-byte value that is not an integer (so it stays a string encoding, as redis-benchmark's values do).
fn value16(i: u64) -> Vec<u8> {
    format!("value:{:010}", i % 10_000_000_000).into_bytes()
}

/// Redis's DEBUG POPULATE value for `key:i` at size 16: `value:i` padded with zero bytes.
fn populate_value(i: usize) -> Vec<u8> {
    let mut v = format!("value:{i}").into_bytes();
    v.resize(16, 0);
    v
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

/// Whether the engine on this branch implements a command (HSET and ZADD arrive on their own branches).
fn implemented(name: &str) -> bool {
    Bench::new().engine.implements(name)
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------------------
// ops: throughput per command with 100,000 random keys

/// One throughput benchmark: what it runs, what fills the engine first, and what refills it before each round.
struct OpBench {
    name: &'static str,
    shape: &'static str,
    /// Commands the benchmark needs the engine to implement.
    needs: &'static [&'static str],
    prefill: Vec<Cmd>,
    per_round: Vec<Cmd>,
    timed: Vec<Cmd>,
}

fn op_benches(name: &str) -> Option<OpBench> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let n = OPS_PER_ROUND;
    let mut key = |prefix: &str| format!("{prefix}:{}", rng.below(KEYSPACE)).into_bytes();
    let bench = match name {
        "SET" => OpBench {
            name: "SET",
            shape: "SET key:R <16 bytes>",
            needs: &["set"],
            prefill: vec![],
            per_round: vec![],
            timed: (0..n).map(|i| vec![b"SET".to_vec(), key("key"), value16(i as u64)]).collect(),
        },
        "GET" => OpBench {
            name: "GET",
            shape: "GET key:R (all 100,000 keys set)",
            needs: &["get"],
            prefill: (0..KEYSPACE).map(|i| vec![b"SET".to_vec(), format!("key:{i}").into_bytes(), value16(i)]).collect(),
            per_round: vec![],
            timed: (0..n).map(|_| vec![b"GET".to_vec(), key("key")]).collect(),
        },
        "INCR" => OpBench {
            name: "INCR",
            shape: "INCR counter:R",
            needs: &["incr"],
            prefill: vec![],
            per_round: vec![],
            timed: (0..n).map(|_| vec![b"INCR".to_vec(), key("counter")]).collect(),
        },
        "LPUSH" => OpBench {
            name: "LPUSH",
            shape: "LPUSH list:R <16 bytes>",
            needs: &["lpush"],
            prefill: vec![],
            per_round: vec![],
            timed: (0..n).map(|i| vec![b"LPUSH".to_vec(), key("list"), value16(i as u64)]).collect(),
        },
        "RPOP" => {
            let keys: Vec<Vec<u8>> = (0..n).map(|_| key("list")).collect();
            OpBench {
                name: "RPOP",
                shape: "RPOP list:R (refilled before each round, every pop finds an element)",
                needs: &["rpop", "lpush"],
                prefill: vec![],
                per_round: keys.iter().enumerate().map(|(i, k)| vec![b"LPUSH".to_vec(), k.clone(), value16(i as u64)]).collect(),
                timed: keys.into_iter().map(|k| vec![b"RPOP".to_vec(), k]).collect(),
            }
        }
        "SADD" => OpBench {
            name: "SADD",
            shape: "SADD set:R member:R",
            needs: &["sadd"],
            prefill: vec![],
            per_round: vec![],
            timed: (0..n).map(|_| vec![b"SADD".to_vec(), key("set"), key("member")]).collect(),
        },
        "HSET" => OpBench {
            name: "HSET",
            shape: "HSET hash:R field:R <16 bytes>",
            needs: &["hset"],
            prefill: vec![],
            per_round: vec![],
            timed: (0..n).map(|i| vec![b"HSET".to_vec(), key("hash"), key("field"), value16(i as u64)]).collect(),
        },
        "ZADD" => {
            let mut scores = Rng(7);
            OpBench {
                name: "ZADD",
                shape: "ZADD zset:R <score> member:R",
                needs: &["zadd"],
                prefill: vec![],
                per_round: vec![],
                timed: (0..n)
                    .map(|_| {
                        let k = key("zset");
                        let m = key("member");
                        vec![b"ZADD".to_vec(), k, scores.below(1_000_000_000).to_string().into_bytes(), m]
                    })
                    .collect(),
            }
        }
        "ZRANK" => {
            let mut scores = Rng(7);
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..n).map(|_| (key("zset"), key("member"))).collect();
            OpBench {
                name: "ZRANK",
                shape: "ZRANK zset:R member:R (members added first)",
                needs: &["zrank", "zadd"],
                prefill: pairs
                    .iter()
                    .map(|(k, m)| {
                        vec![b"ZADD".to_vec(), k.clone(), scores.below(1_000_000_000).to_string().into_bytes(), m.clone()]
                    })
                    .collect(),
                per_round: vec![],
                timed: pairs.into_iter().map(|(k, m)| vec![b"ZRANK".to_vec(), k, m]).collect(),
            }
        }
        "LRANGE" => {
            let mut lists = Rng(11);
            OpBench {
                name: "LRANGE_100",
                shape: "LRANGE list:R 0 99 (1,000 lists of 100 elements: R below 1,000)",
                needs: &["lrange", "rpush"],
                prefill: (0..1000)
                    .map(|i| {
                        let mut c = vec![b"RPUSH".to_vec(), format!("list:{i}").into_bytes()];
                        c.extend((0..100).map(value16));
                        c
                    })
                    .collect(),
                per_round: vec![],
                timed: (0..n)
                    .map(|_| {
                        let k = format!("list:{}", lists.below(1000)).into_bytes();
                        vec![b"LRANGE".to_vec(), k, b"0".to_vec(), b"99".to_vec()]
                    })
                    .collect(),
            }
        }
        _ => return None,
    };
    Some(bench)
}

const OPS: [&str; 10] = ["SET", "GET", "INCR", "LPUSH", "RPOP", "SADD", "HSET", "ZADD", "ZRANK", "LRANGE"];

fn run_ops(only: Option<&str>) -> String {
    let mut rows = Vec::new();
    for name in OPS {
        if only.is_some_and(|o| !o.eq_ignore_ascii_case(name)) {
            continue;
        }
        let Some(op) = op_benches(name) else { continue };
        if let Some(missing) = op.needs.iter().find(|c| !implemented(c)) {
            rows.push(format!(
                "{{\"op\":{},\"shape\":{},\"missing\":{}}}",
                json_str(op.name),
                json_str(op.shape),
                json_str(missing)
            ));
            eprintln!("{:<11} not implemented on this branch ({missing})", op.name);
            continue;
        }
        let mut bench = Bench::new();
        bench.setup(&op.prefill);
        let mut rates = Vec::new();
        for round in 0..=ROUNDS {
            bench.setup(&op.per_round);
            let secs = bench.time(&op.timed);
            if round > 0 {
                rates.push(op.timed.len() as f64 / secs);
            }
        }
        let ops_s = median(rates.clone());
        eprintln!("{:<11} {:>12.0} ops/s  ({:.0} ns/op)", op.name, ops_s, 1e9 / ops_s);
        let all: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        rows.push(format!(
            "{{\"op\":{},\"shape\":{},\"ops_per_sec\":{ops_s:.0},\"rounds\":[{}]}}",
            json_str(op.name),
            json_str(op.shape),
            all.join(",")
        ));
    }
    format!(
        "{{\"ops_per_round\":{OPS_PER_ROUND},\"rounds\":{ROUNDS},\"keyspace\":{KEYSPACE},\"results\":[{}]}}",
        rows.join(",")
    )
}

// ---------------------------------------------------------------------------------------------------------
// flat: per-operation cost against collection size

/// The collection operations whose cost must stay flat from 10^3 to 10^6 elements.
const FLAT_OPS: [&str; 5] = ["ZADD", "ZRANK", "LPUSH", "HSET", "SADD"];
/// More sorted-set operations measured the same way, only when named (`flat ZREM`): no budget names them,
/// they show how the sorted set's other paths scale.
const FLAT_EXTRA_OPS: [&str; 3] = ["ZREM", "ZRANGE", "ZSCORE"];

/// How one collection operation is built, timed in batches, and undone so the size stays near `size`.
struct Flat {
    rng: Rng,
    next_new: u64,
}

impl Flat {
    fn score(&mut self) -> Vec<u8> {
        self.rng.below(1_000_000_000).to_string().into_bytes()
    }

    /// Commands filling key `c` with `size` elements, a thousand per command.
    fn fill(&mut self, op: &str, size: usize) -> Vec<Cmd> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < size {
            let end = (i + 1000).min(size);
            let mut c = match op {
                "ZADD" | "ZRANK" | "ZREM" | "ZRANGE" | "ZSCORE" => vec![b"ZADD".to_vec(), b"c".to_vec()],
                "LPUSH" => vec![b"RPUSH".to_vec(), b"c".to_vec()],
                "HSET" => vec![b"HSET".to_vec(), b"c".to_vec()],
                _ => vec![b"SADD".to_vec(), b"c".to_vec()],
            };
            for j in i..end {
                match op {
                    "ZADD" | "ZRANK" | "ZREM" | "ZRANGE" | "ZSCORE" => {
                        c.push(self.score());
                        c.push(format!("member:{j}").into_bytes());
                    }
                    "LPUSH" => c.push(value16(j as u64)),
                    "HSET" => {
                        c.push(format!("field:{j}").into_bytes());
                        c.push(value16(j as u64));
                    }
                    _ => c.push(format!("member:{j}").into_bytes()),
                }
            }
            out.push(c);
            i = end;
        }
        out
    }

    /// Runs one batch of `op` through `run` (timed, counted, or only for warming up), then its undo untimed,
    /// so the collection stays near `size`. Gives back what `run` gave and the batch's length.
    fn step<R>(
        &mut self,
        bench: &mut Bench,
        op: &str,
        size: usize,
        n: usize,
        run: impl FnOnce(&mut Bench, &[Cmd]) -> R,
    ) -> (R, usize) {
        let (timed, undo) = self.batch(op, size, n);
        let out = run(bench, &timed);
        if let Some(undo) = undo {
            bench.setup(&[undo]);
        }
        (out, timed.len())
    }

    /// A batch of `n` timed commands on `c`, and the one command that undoes it (none for ZRANK and ZRANGE).
    fn batch(&mut self, op: &str, size: usize, n: usize) -> (Vec<Cmd>, Option<Cmd>) {
        let mut timed = Vec::with_capacity(n);
        // ZREM removes distinct existing members, put back (with new scores) by the undo.
        let mut removed = std::collections::HashSet::new();
        let mut undo = match op {
            "ZADD" => vec![b"ZREM".to_vec(), b"c".to_vec()],
            "ZREM" => vec![b"ZADD".to_vec(), b"c".to_vec()],
            "LPUSH" => vec![b"LPOP".to_vec(), b"c".to_vec(), n.to_string().into_bytes()],
            "HSET" => vec![b"HDEL".to_vec(), b"c".to_vec()],
            _ => vec![b"SREM".to_vec(), b"c".to_vec()],
        };
        for _ in 0..n {
            let fresh = format!("new:{}", self.next_new).into_bytes();
            self.next_new += 1;
            match op {
                "ZADD" => {
                    timed.push(vec![b"ZADD".to_vec(), b"c".to_vec(), self.score(), fresh.clone()]);
                    undo.push(fresh);
                }
                "ZRANK" => {
                    let m = format!("member:{}", self.rng.below(size as u64)).into_bytes();
                    timed.push(vec![b"ZRANK".to_vec(), b"c".to_vec(), m]);
                }
                "ZSCORE" => {
                    let m = format!("member:{}", self.rng.below(size as u64)).into_bytes();
                    timed.push(vec![b"ZSCORE".to_vec(), b"c".to_vec(), m]);
                }
                "ZREM" => {
                    let mut j = self.rng.below(size as u64);
                    while !removed.insert(j) {
                        j = self.rng.below(size as u64);
                    }
                    let m = format!("member:{j}").into_bytes();
                    timed.push(vec![b"ZREM".to_vec(), b"c".to_vec(), m.clone()]);
                    undo.push(self.score());
                    undo.push(m);
                }
                "ZRANGE" => {
                    // Ten elements from a random rank: one rank lookup and a short walk.
                    let start = self.rng.below(size as u64);
                    let (a, b) = (start.to_string().into_bytes(), (start + 9).to_string().into_bytes());
                    timed.push(vec![b"ZRANGE".to_vec(), b"c".to_vec(), a, b]);
                }
                "LPUSH" => timed.push(vec![b"LPUSH".to_vec(), b"c".to_vec(), value16(self.next_new)]),
                "HSET" => {
                    timed.push(vec![b"HSET".to_vec(), b"c".to_vec(), fresh.clone(), value16(self.next_new)]);
                    undo.push(fresh);
                }
                _ => {
                    timed.push(vec![b"SADD".to_vec(), b"c".to_vec(), fresh.clone()]);
                    undo.push(fresh);
                }
            }
        }
        (timed, (!matches!(op, "ZRANK" | "ZRANGE" | "ZSCORE")).then_some(undo))
    }
}

fn flat_needs(op: &str) -> &'static [&'static str] {
    match op {
        "ZADD" => &["zadd", "zrem"],
        "ZRANK" => &["zrank", "zadd"],
        "ZREM" => &["zrem", "zadd"],
        "ZSCORE" => &["zscore", "zadd"],
        "ZRANGE" => &["zrange", "zadd"],
        "LPUSH" => &["lpush", "rpush", "lpop"],
        "HSET" => &["hset", "hdel"],
        _ => &["sadd", "srem"],
    }
}

fn run_flat(only: Option<&str>) -> String {
    let mut rows = Vec::new();
    let extra = FLAT_EXTRA_OPS.iter().filter(|op| only.is_some_and(|o| o.eq_ignore_ascii_case(op)));
    for &op in FLAT_OPS.iter().chain(extra) {
        if only.is_some_and(|o| !o.eq_ignore_ascii_case(op)) {
            continue;
        }
        if let Some(missing) = flat_needs(op).iter().find(|c| !implemented(c)) {
            eprintln!("{op:<6} not implemented on this branch ({missing})");
            rows.push(format!("{{\"op\":{},\"missing\":{}}}", json_str(op), json_str(missing)));
            continue;
        }
        // Every size's collection is built first, then their rounds are taken in turn (10³, 10⁴, 10⁵, 10⁶,
        // 10³, ...): a burst of load from the machine's other work then falls on all sizes alike rather than
        // on one size's rounds, and the ratio is made of all four. Each round begins with `FLAT_WARM_OPS`
        // untimed operations, because the round before it has just filled the caches with another collection.
        let mut runs: Vec<(usize, Flat, Bench, Vec<f64>)> = SIZES
            .iter()
            .map(|&size| {
                let mut flat = Flat { rng: Rng(0x5151_5151 ^ size as u64), next_new: 0 };
                let mut bench = Bench::new();
                bench.setup(&flat.fill(op, size));
                (size, flat, bench, Vec::new())
            })
            .collect();
        for round in 0..=FLAT_ROUNDS {
            for (size, flat, bench, per_round) in runs.iter_mut() {
                // Batches small against the collection, so it stays between size and size + 10%.
                let batch = (*size / 10).clamp(1, 1000);
                let mut secs = 0.0;
                let mut done = 0;
                let mut warming = 0;
                while done < FLAT_OPS_PER_ROUND {
                    let (spent, n) = flat.step(bench, op, *size, batch, Bench::time);
                    if warming < FLAT_WARM_OPS {
                        warming += n;
                    } else {
                        secs += spent;
                        done += n;
                    }
                }
                if round > 0 {
                    per_round.push(secs * 1e9 / done as f64);
                }
            }
        }
        let mut cells = Vec::new();
        let mut costs = Vec::new();
        for (size, _, _, per_round) in runs {
            let ns = median(per_round);
            eprintln!("{op:<6} size {size:>9}: {ns:>8.1} ns/op");
            costs.push(ns);
            cells.push(format!("{{\"size\":{size},\"ns_per_op\":{ns:.1}}}"));
        }
        let max = costs.iter().copied().fold(f64::MIN, f64::max);
        let min = costs.iter().copied().fold(f64::MAX, f64::min);
        rows.push(format!("{{\"op\":{},\"sizes\":[{}],\"ratio\":{:.2}}}", json_str(op), cells.join(","), max / min));
    }
    format!("{{\"ops_per_round\":{FLAT_OPS_PER_ROUND},\"rounds\":{FLAT_ROUNDS},\"results\":[{}]}}", rows.join(","))
}

// ---------------------------------------------------------------------------------------------------------
// memory: heap per key or member

/// The commands storing `MEMORY_COUNT` keys or members of one kind, the same data the Redis side stores.
fn memory_commands(kind: &str) -> Option<(&'static [&'static str], Vec<Cmd>)> {
    let n = MEMORY_COUNT;
    let chunks = |make: &dyn Fn(usize, &mut Cmd), head: &[u8]| -> Vec<Cmd> {
        (0..n)
            .step_by(1000)
            .map(|start| {
                let mut c = vec![head.to_vec(), b"big".to_vec()];
                for i in start..(start + 1000).min(n) {
                    make(i, &mut c);
                }
                c
            })
            .collect()
    };
    Some(match kind {
        // One SET per key, the values DEBUG POPULATE writes.
        "strings" => (
            &["set"],
            (0..n).map(|i| vec![b"SET".to_vec(), format!("key:{i}").into_bytes(), populate_value(i)]).collect(),
        ),
        "hash" => (
            &["hset"],
            chunks(
                &|i, c| {
                    c.push(format!("field:{i}").into_bytes());
                    c.push(populate_value(i));
                },
                b"HSET",
            ),
        ),
        "set" => (&["sadd"], chunks(&|i, c| c.push(format!("member:{i}").into_bytes()), b"SADD")),
        "zset" => (
            &["zadd"],
            chunks(
                &|i, c| {
                    c.push(i.to_string().into_bytes());
                    c.push(format!("member:{i}").into_bytes());
                },
                b"ZADD",
            ),
        ),
        // Small sorted sets (the listpack encoding): 200,000 keys of 5 members each, so 1,000,000 members.
        "zsets" => (
            &["zadd"],
            (0..n / 5)
                .map(|k| {
                    let mut c = vec![b"ZADD".to_vec(), format!("zset:{k}").into_bytes()];
                    for j in 0..5 {
                        c.push(j.to_string().into_bytes());
                        c.push(format!("member:{j}").into_bytes());
                    }
                    c
                })
                .collect(),
        ),
        _ => return None,
    })
}

fn rss_bytes() -> u64 {
    // /proc/self/statm: size resident ... in pages.
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn run_memory(kind: &str) -> Result<String, String> {
    let (needs, cmds) = memory_commands(kind).ok_or_else(|| format!("unknown kind {kind}: strings | hash | set | zset | zsets"))?;
    if let Some(missing) = needs.iter().find(|c| !implemented(c)) {
        return Ok(format!("{{\"kind\":{},\"missing\":{}}}", json_str(kind), json_str(missing)));
    }
    // Counting starts here: everything allocated before (the commands) stays out of the differences, and it is
    // freed only after the second snapshot.
    counting::enable();
    let mut bench = Bench::new();
    let used_before = bench.used_memory();
    let before = counting::snapshot();
    let rss_before = rss_bytes();
    for c in &cmds {
        if let Some(Reply::Error(e)) = bench.exec_long(c) {
            return Err(format!("{} failed: {e}", show(c)));
        }
    }
    let after = counting::snapshot();
    let rss_after = rss_bytes();
    let used_after = bench.used_memory();
    let n = MEMORY_COUNT as f64;
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / n;
    eprintln!(
        "memory {kind}: requested {:.1} B, jemalloc classes {:.1} B, glibc usable {:.1} B, RSS {:.1} B, \
         INFO used_memory {:.1} B per entry",
        per(after.requested, before.requested),
        per(after.jemalloc, before.jemalloc),
        per(after.usable, before.usable),
        per(rss_after, rss_before),
        per(used_after, used_before)
    );
    Ok(format!(
        "{{\"kind\":{},\"count\":{MEMORY_COUNT},\"requested\":{},\"usable\":{},\"jemalloc\":{},\"rss\":{},\"used_memory\":{},\"allocations\":{}}}",
        json_str(kind),
        after.requested.saturating_sub(before.requested),
        after.usable.saturating_sub(before.usable),
        after.jemalloc.saturating_sub(before.jemalloc),
        rss_after.saturating_sub(rss_before),
        used_after.saturating_sub(used_before),
        after.live.saturating_sub(before.live),
    ))
}

// ---------------------------------------------------------------------------------------------------------
// profile: one operation in a loop, for callgrind

/// Runs `op` (one of the flatness operations, at collection size `size`, or a throughput benchmark's name)
/// so callgrind can count where its instructions go. Set-up is included in the profile; keep it small or
/// read the profile from the command handler down (`callgrind_annotate --inclusive=yes`).
fn run_profile(op: &str, size: Option<usize>) -> Result<String, String> {
    let op = op.to_ascii_uppercase();
    if let Some(size) = size {
        let mut flat = Flat { rng: Rng(3), next_new: 0 };
        let mut bench = Bench::new();
        bench.setup(&flat.fill(&op, size));
        for _ in 0..20 {
            flat.step(&mut bench, &op, size, 1000, Bench::time);
        }
        return Ok(format!("{{\"profiled\":{},\"size\":{size}}}", json_str(&op)));
    }
    let bench_op = op_benches(&op).ok_or_else(|| format!("unknown operation {op}"))?;
    let mut bench = Bench::new();
    bench.setup(&bench_op.prefill);
    bench.setup(&bench_op.per_round);
    bench.time(&bench_op.timed);
    Ok(format!("{{\"profiled\":{}}}", json_str(&op)))
}

/// Batches of 1,000 run before `count` counts, so the caches hold what a steady run would.
const COUNT_WARMUP_BATCHES: usize = 5;
/// Batches of 1,000 operations `count` counts.
const COUNT_BATCHES: usize = 10;

/// `flat`'s workload at one size, for callgrind: the collection filled, warm-up batches, then
/// `COUNT_BATCHES` batches through `Bench::counted` (each undone like `flat`'s). Instruction and cache-miss
/// counts do not depend on the machine's load, so they show what grows with the size and what does not.
fn run_count(op: &str, size: usize) -> Result<String, String> {
    let op = op.to_ascii_uppercase();
    if !FLAT_OPS.iter().chain(&FLAT_EXTRA_OPS).any(|o| *o == op) {
        return Err(format!("unknown operation {op}"));
    }
    let mut flat = Flat { rng: Rng(0x5151_5151 ^ size as u64), next_new: 0 };
    let mut bench = Bench::new();
    bench.setup(&flat.fill(&op, size));
    let batch = (size / 10).clamp(1, 1000);
    let mut ops = 0;
    for _ in 0..COUNT_WARMUP_BATCHES {
        flat.step(&mut bench, &op, size, batch, Bench::time);
    }
    for _ in 0..COUNT_BATCHES {
        ops += flat.step(&mut bench, &op, size, batch, Bench::counted).1;
    }
    Ok(format!("{{\"op\":{},\"size\":{size},\"ops\":{ops}}}", json_str(&op)))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let out = match arg(0) {
        Some("ops") => Ok(run_ops(arg(1))),
        Some("flat") => Ok(run_flat(arg(1))),
        Some("memory") => run_memory(arg(1).unwrap_or("strings")),
        Some("implemented") => {
            let names: Vec<String> =
                args.iter().skip(1).filter(|c| implemented(&c.to_ascii_lowercase())).map(|c| json_str(c)).collect();
            Ok(format!("[{}]", names.join(",")))
        }
        Some("latency") => Ok(latency::run()),
        Some("count") => match (arg(1), arg(2).and_then(|s| s.parse().ok())) {
            (Some(op), Some(size)) => run_count(op, size),
            _ => Err("count needs an operation and a size".into()),
        },
        Some("profile") => match arg(1) {
            Some(op) => run_profile(op, arg(2).and_then(|s| s.parse().ok())),
            None => Err("profile needs an operation".into()),
        },
        _ => Err("usage: redlet-bench ops [OP] | flat [OP] | count OP SIZE | latency | memory strings|hash|set|zset|zsets | profile OP [SIZE] | implemented CMD..."
            .into()),
    };
    match out {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("redlet-bench: {e}");
            std::process::exit(2);
        }
    }
}
