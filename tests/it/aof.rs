//! The append-only file against a real redis-server 7.0: the commands the engine propagates are the ones Redis
//! appends to its AOF for the same commands; an AOF directory written by `redlet-server` loads into redis-server
//! with the same contents, and one written by redis-server (rewritten by BGREWRITEAOF, then appended to) loads
//! into `redlet-server`; a last file cut inside a command loads up to it on both; mutated files never panic the
//! server.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use redlet_core::aof::read_command;
use redlet_core::tokenize::split_args;
use redlet_core::{Config, Engine};

use crate::diff::now_ms;
use crate::prop::Gen;
use crate::rdb::{assert_same_with, dataset, populate, redis_or_skip, run};
use crate::redis::{required, Conn, RedisServer, TempDir};
use crate::server::RedletServer;

/// One step of a propagation script: which client sends it, and whether it blocks (no reply is read).
struct Step {
    client: usize,
    line: &'static str,
    blocks: bool,
}

const fn step(client: usize, line: &'static str) -> Step {
    Step { client, line, blocks: false }
}

const fn blocking(client: usize, line: &'static str) -> Step {
    Step { client, line, blocks: true }
}

/// Commands whose propagation is deterministic given the same data (no random members, no timing races).
const SCRIPT: &[Step] = &[
    step(1, "SET a 1"),
    step(1, "set b 2 EX 100"),
    step(1, "SETEX c 100 v"),
    step(1, "PSETEX d 100000 v"),
    step(1, "SET e v EXAT 2000000000"),
    step(1, "SET f v PXAT 2000000000000 GET"),
    step(1, "SET g v EX 100 GET NX"),
    step(1, "set k v xx get keepttl"),
    step(1, "set k v nx get"),
    step(1, "SET a 1 KEEPTTL"),
    step(1, "expire a 100"),
    step(1, "PEXPIRE a 100000 NX"),
    step(1, "PEXPIRE a 100000 XX"),
    step(1, "EXPIREAT a 2000000000"),
    step(1, "GETEX a EX 100"),
    step(1, "GETEX a PERSIST"),
    step(1, "GETEX a"),
    step(1, "GETEX a EXAT 1"),
    step(1, "SET a 1"),
    step(1, "EXPIRE a -1"),
    step(1, "EXPIRE nokey 100"),
    step(1, "getset g 1"),
    step(1, "GETDEL g"),
    step(1, "GETDEL g"),
    step(1, "INCRBYFLOAT fl 1.5"),
    step(1, "INCRBYFLOAT fl 1e2"),
    step(1, "HINCRBYFLOAT h f 2.5"),
    step(1, "HINCRBYFLOAT h f 1.10"),
    step(1, "SADD one m"),
    step(1, "SPOP one"),
    step(1, "SADD s a b c"),
    step(1, "SPOP s 3"),
    step(1, "SPOP s 0"),
    step(1, "RPUSH l a b c d e f g h i j k l m n"),
    step(1, "LPOP l"),
    step(1, "RPOP l 2"),
    step(1, "LPOP l 0"),
    step(1, "BLPOP l 0"),
    step(1, "BRPOP l 0"),
    step(1, "BLMOVE l l2 LEFT right 0"),
    step(1, "BRPOPLPUSH l l2 0"),
    step(1, "BLMPOP 0 1 l left COUNT 2"),
    step(1, "LMPOP 1 l2 RIGHT COUNT 5"),
    step(1, "ZADD z 1 a 2 b 3 c 4 d 5 e"),
    step(1, "BZPOPMIN z 0"),
    step(1, "BZPOPMAX z 0"),
    step(1, "BZMPOP 0 1 z MIN COUNT 2"),
    step(1, "ZMPOP 1 z MAX COUNT 7"),
    step(1, "zpopmin z"),
    blocking(2, "BLPOP q1 0"),
    blocking(3, "BLMOVE q2 d RIGHT LEFT 0"),
    blocking(4, "BZMPOP 0 1 zq MAX COUNT 5"),
    step(1, "RPUSH q1 a b"),
    step(1, "RPUSH q2 x"),
    step(1, "ZADD zq 1 a 2 b"),
    step(1, "MULTI"),
    step(1, "SET t1 x"),
    step(1, "GET t1"),
    step(1, "EXEC"),
    step(1, "MULTI"),
    step(1, "RPUSH t2 c"),
    step(1, "SELECT 3"),
    step(1, "RPUSH t2 d"),
    step(1, "EXEC"),
    step(1, "SET in3 x"),
    step(1, "SELECT 0"),
    step(1, "SET gone v PX 1"),
    step(1, "RESTORE r 0 \"\\x00\\x05hello\\n\\x00cr\\xdfve4 \\n\""),
    step(1, "RESTORE r2 100000 \"\\x00\\x05hello\\n\\x00cr\\xdfve4 \\n\" IDLETIME 5"),
    step(1, "RESTORE r 1 \"\\x00\\x05hello\\n\\x00cr\\xdfve4 \\n\" ABSTTL REPLACE"),
    step(1, "RESTORE r3 1 \"\\x00\\x05hello\\n\\x00cr\\xdfve4 \\n\" ABSTTL"),
    step(1, "FLUSHDB"),
    step(1, "XADD st 1-0 a 1"),
    step(1, "XADD st 2-0 a 2"),
    step(1, "XADD st 3-0 a 3"),
    step(1, "XADD st MAXLEN ~ 2 LIMIT 10 4-0 a 4"),
    step(1, "XADD st MINID ~ 3 5-0 a 5"),
    step(1, "XTRIM st MINID 2"),
    step(1, "XTRIM st MAXLEN 100"),
    step(1, "XGROUP CREATE st g 0"),
    step(1, "XREADGROUP GROUP g c1 COUNT 2 STREAMS st >"),
    step(1, "XREADGROUP GROUP g c1 STREAMS st 0"),
    step(1, "XREADGROUP GROUP g c2 NOACK COUNT 1 STREAMS st >"),
    step(1, "XDEL st 1-0"),
    step(1, "XAUTOCLAIM st g c3 0 0-0 COUNT 1"),
    step(1, "XCLAIM st g c4 0 2-0 JUSTID"),
    step(1, "XCLAIM st g c4 0 9-0 LASTID 500-0"),
    step(1, "XGROUP SETID st g $"),
    step(1, "XADD st * b 1"),
    step(1, "XTRIM st MINID ~ 1000000"),
    step(1, "SORT nokey STORE dst"),
    step(1, "MSET m1 1 m2 2"),
    step(1, "MSETNX m1 1 m3 3"),
    step(1, "APPEND m1 x"),
    step(1, "SETRANGE m2 3 yy"),
    step(1, "SETBIT bits 7 1"),
    step(1, "SETBIT bits 7 1"),
    step(1, "BITFIELD bf SET u8 0 200 GET u8 0"),
    step(1, "BITFIELD_RO bf GET u8 0"),
    step(1, "PFADD hll a b c"),
    step(1, "PFADD hll a"),
    step(1, "PFCOUNT hll"),
    step(1, "PFCOUNT hll"),
    step(1, "PFMERGE hll2 hll"),
    step(1, "RPUSH rl a b c a"),
    step(1, "LREM rl 0 a"),
    step(1, "LSET rl 0 z"),
    step(1, "LTRIM rl 0 0"),
    step(1, "LINSERT rl BEFORE zz q"),
    step(1, "SADD s1 a b c"),
    step(1, "SADD s2 b c d"),
    step(1, "SINTERSTORE s3 s1 s2"),
    step(1, "SMOVE s1 s2 a"),
    step(1, "SMOVE s1 s2 nope"),
    step(1, "SREM s1 nope"),
    step(1, "ZADD zz INCR 5 m"),
    step(1, "ZINCRBY zz 2.5 m"),
    step(1, "ZADD zz NX 1 m"),
    step(1, "ZRANGESTORE zz2 zz 0 -1"),
    step(1, "HSET hh a 1 b 2"),
    step(1, "HSETNX hh a 9"),
    step(1, "HDEL hh a zz"),
    step(1, "HINCRBY hh b 5"),
    step(1, "GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"),
    step(1, "GEOSEARCHSTORE gdst geo FROMLONLAT 15 37 BYRADIUS 200 km ASC"),
    step(1, "COPY m1 m1copy"),
    step(1, "MOVE m1copy 5"),
    step(1, "RENAME m2 m2b"),
    step(1, "RENAMENX m2b m3"),
    step(1, "SET ttl v EX 100"),
    step(1, "EXPIRE ttl 50 GT"),
    step(1, "EXPIRE ttl 50 LT"),
    step(1, "PERSIST ttl"),
    step(1, "PERSIST ttl"),
    step(1, "SWAPDB 0 5"),
    step(1, "SWAPDB 0 5"),
    step(1, "XADD xs 1-1 a 1"),
    step(1, "XGROUP CREATE xs g 0"),
    step(1, "XGROUP CREATECONSUMER xs g alice"),
    step(1, "XREADGROUP GROUP g alice STREAMS xs >"),
    step(1, "XACK xs g 1-1 9-9"),
    step(1, "XGROUP DELCONSUMER xs g alice"),
    step(1, "XSETID xs 5-0"),
    step(1, "XGROUP DESTROY xs g"),
    step(1, "DEL m1 nokey m3"),
    step(1, "UNLINK bits nokey"),
    step(1, "FLUSHALL"),
    step(1, "FLUSHALL"),
];

/// A propagated command as text, with times near now (absolute expiries, IDs, delivery times) made `<now>`,
/// since the two servers ran at slightly different moments.
fn normalize(argv: &[Vec<u8>], now: u64) -> String {
    let near = |ms: u64| ms.abs_diff(now) < 3_600_000;
    argv.iter()
        .map(|a| {
            let s = String::from_utf8_lossy(a).into_owned();
            let ms_part = s.split('-').next().unwrap_or_default();
            match ms_part.parse::<u64>() {
                Ok(ms) if near(ms) && s.contains('-') => String::from("<now>-<seq>"),
                Ok(ms) if near(ms) => String::from("<now>"),
                _ => s,
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The commands of a file of AOF commands.
fn commands(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Ok(Some((argv, next))) = read_command(data, pos) {
        out.push(argv.iter().map(|a| a.to_vec()).collect());
        pos = next;
    }
    out
}

/// The AOF directory of a server's `--dir`, and the bytes of its (only) incremental file.
fn incr_file(dir: &Path) -> Vec<u8> {
    let aofdir = dir.join("appendonlydir");
    let mut incrs: Vec<_> = std::fs::read_dir(&aofdir)
        .expect("appendonlydir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .collect();
    incrs.sort();
    incrs.last().map(|p| std::fs::read(p).expect("read incr")).unwrap_or_default()
}

/// The same script on redis-server (appendonly yes, appendfsync always) and on the engine with propagation on:
/// what Redis appended to its incremental file is what the engine propagated, command for command.
#[test]
fn propagation_matches_what_redis_appends() {
    let Some(redis) = RedisServer::start_in(TempDir::new(), &["--appendonly", "yes", "--appendfsync", "always"]) else {
        assert!(!required(), "REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
        return;
    };
    let mut conns: Vec<Conn> = (0..5).map(|_| redis.connect().expect("connect")).collect();
    let mut engine = Engine::new(Config::default());
    let clients: Vec<_> = (0..5).map(|_| engine.connect(now_ms())).collect();
    engine.capture_propagation(true);
    let now = now_ms();
    for s in SCRIPT {
        let argv = split_args(s.line.as_bytes()).expect("a valid line");
        let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let conn = &mut conns[s.client];
        if s.blocks {
            conn.send(&argv).expect("send");
            // Redis must have blocked the client before the next command serves it.
            std::thread::sleep(Duration::from_millis(50));
        } else {
            conn.call(&argv).expect("a reply");
        }
        if s.line == "SET gone v PX 1" {
            // Let it expire: both sides then delete it on the next access (or Redis by its active expiry).
            std::thread::sleep(Duration::from_millis(20));
            conns[1].call(&[b"GET", b"gone"]).expect("get");
            engine.execute(clients[1], &[b"SET", b"gone", b"v", b"PX", b"1"], now_ms());
            engine.execute(clients[1], &[b"GET", b"gone"], now_ms() + 20);
            continue;
        }
        let reply = engine.execute(clients[s.client], &argv, now_ms());
        assert_eq!(reply.is_none(), s.blocks, "{}: blocked on one side only", s.line);
    }
    let theirs: Vec<String> = commands(&incr_file(redis.dir())).iter().map(|c| normalize(c, now)).collect();
    let ours: Vec<String> = engine.drain_propagated().iter().map(|c| normalize(c, now)).collect();
    for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
        assert_eq!(a, b, "command {i} differs (redis vs redlet); redis so far: {:#?}", &theirs[..=i]);
    }
    assert_eq!(theirs.len(), ours.len(), "redis: {theirs:#?}\nredlet: {ours:#?}");
    assert!(theirs.len() > 80, "the script propagated {} commands", theirs.len());
}

/// Copies `from` (a server's --dir) into a fresh directory.
fn copy_dir(from: &Path) -> TempDir {
    let to = TempDir::new();
    let status = Command::new("cp").arg("-r").arg(from.join("appendonlydir")).arg(&to.0).status().expect("cp");
    assert!(status.success());
    to
}

/// Waits until INFO persistence says no AOF rewrite is running and `rewrites` were done.
fn wait_rewrite(c: &mut Conn, rewrites: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = String::from_utf8_lossy(&c.call(&[b"INFO", b"persistence"]).expect("info")).into_owned();
        if info.contains("aof_rewrite_in_progress:0") && info.contains(&format!("aof_rewrites:{rewrites}\r")) {
            return;
        }
        assert!(Instant::now() < deadline, "the AOF rewrite did not finish: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes after a rewrite, so the loaded AOF has a base and commands.
const AFTER_REWRITE: &[&str] = &[
    "SET after 1",
    "INCR after",
    "RPUSH biglist tail",
    "SELECT 3",
    "SET in3 changed",
    "SELECT 0",
    "SADD ss d",
    "ZINCRBY z 5 a",
    "HSET h extra 1",
    "SET volatile v EX 5000",
    "XADD x 9999-0 late 1",
    "XREADGROUP GROUP g1 dave COUNT 2 STREAMS x >",
    "DEL s1",
];

/// Times a replay sets to its own clock (a consumer's seen-time when an XCLAIM creates it), which differ
/// between two servers loading the same files, and delivery times with them: any integer within an hour of
/// now.
fn mask_times(text: String) -> String {
    let now = now_ms();
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        match digits.parse::<u64>() {
            Ok(ms) if digits.len() == 13 && ms.abs_diff(now) < 3_600_000 => out.push_str("<now>"),
            _ => out.push_str(digits),
        }
        digits.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
        } else {
            flush(&mut digits, &mut out);
            out.push(ch);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// An AOF directory `redlet-server` wrote (a base from BGREWRITEAOF, commands after) loads into redis-server
/// with the same contents as into `redlet-server` itself. (Loaded is compared with loaded: as in Redis 7.0, a
/// replay does not rebuild everything the live server had, such as a group's read counter after XCLAIMs.)
#[test]
fn redlet_aof_loads_into_redis() {
    if redis_or_skip("redlet_aof_loads_into_redis").is_none() {
        return;
    }
    let dir = TempDir::new();
    let server = RedletServer::start_with(&["--dir", dir.path(), "--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = server.connect().expect("connect");
    populate(&mut c);
    assert_eq!(c.call(&[b"BGREWRITEAOF"]).expect("bgrewriteaof"), b"+Background append only file rewriting started\r\n");
    wait_rewrite(&mut c, 1);
    for line in AFTER_REWRITE {
        run(&mut c, line);
    }
    drop(c);
    drop(server);
    let copy = copy_dir(&dir.0);
    let redis = RedisServer::start_in(copy, &["--appendonly", "yes"]).expect("redis-server");
    let mut theirs = redis.connect().expect("connect");
    let server = RedletServer::start_with(&["--dir", dir.path(), "--appendonly", "yes"]);
    let mut ours = server.connect().expect("connect");
    assert_same_with(&mut theirs, &mut ours, "redlet's AOF loaded by redis-server", &mask_times);
}

/// An AOF directory redis-server wrote (BGREWRITEAOF, then more writes) loads into `redlet-server`.
#[test]
fn redis_aof_loads_into_redlet() {
    let dir = TempDir::new();
    let Some(redis) = RedisServer::start_in(dir, &["--appendonly", "yes", "--appendfsync", "always"]) else {
        assert!(!required(), "REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
        return;
    };
    let mut theirs = redis.connect().expect("connect");
    populate(&mut theirs);
    assert_eq!(theirs.call(&[b"BGREWRITEAOF"]).expect("bgrewriteaof"), b"+Background append only file rewriting started\r\n");
    wait_rewrite(&mut theirs, 1);
    for line in AFTER_REWRITE {
        run(&mut theirs, line);
    }
    drop(theirs);
    let copy = copy_dir(redis.dir());
    let reloaded = RedisServer::start_in(copy_dir(redis.dir()), &["--appendonly", "yes"]).expect("redis-server");
    drop(redis);
    let mut theirs = reloaded.connect().expect("connect");
    let server = RedletServer::start_with(&["--dir", copy.path(), "--appendonly", "yes"]);
    let mut ours = server.connect().expect("connect");
    assert_same_with(&mut theirs, &mut ours, "redis-server's AOF loaded by redlet-server", &mask_times);
    // It goes on appending where Redis left off, and loads again.
    run(&mut ours, "SET more 1");
    drop(ours);
    let (status, _) = server.terminate();
    assert!(status.success());
    let server = RedletServer::start_with(&["--dir", copy.path(), "--appendonly", "yes"]);
    let mut ours = server.connect().expect("connect");
    run(&mut theirs, "SET more 1");
    assert_same_with(&mut theirs, &mut ours, "after appending and restarting", &mask_times);
}

/// A last file cut inside a command loads up to the command before (`aof-load-truncated yes`) and is truncated
/// there, by redlet-server as by redis-server, which then agree on the contents.
#[test]
fn a_truncated_tail_loads_up_to_the_last_complete_command() {
    let dir = TempDir::new();
    let server = RedletServer::start_with(&["--dir", dir.path(), "--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = server.connect().expect("connect");
    for i in 0..50 {
        run(&mut c, &format!("RPUSH l {i}"));
        run(&mut c, &format!("SET k{i} {i}"));
    }
    drop(c);
    drop(server);
    let incr = dir.0.join("appendonlydir/appendonly.aof.1.incr.aof");
    let full = std::fs::read(&incr).expect("incr");
    // Cut inside the last command (SET k49 49).
    let cut = full.len() - 5;
    std::fs::write(&incr, &full[..cut]).expect("cut");
    let copy = copy_dir(&dir.0);

    let server = RedletServer::start_with(&["--dir", dir.path(), "--appendonly", "yes"]);
    let mut ours = server.connect().expect("connect");
    assert_eq!(run(&mut ours, "LLEN l"), b":50\r\n");
    assert_eq!(run(&mut ours, "EXISTS k48 k49"), b":1\r\n");
    let truncated = std::fs::read(&incr).expect("incr");
    assert!(truncated.len() < cut && full.starts_with(&truncated), "the file was truncated at a command's end");
    assert_eq!(commands(&truncated).len(), commands(&full).len() - 1);

    if let Some(redis) = RedisServer::start_in(copy, &["--appendonly", "yes"]) {
        let mut theirs = redis.connect().expect("connect");
        assert_same_with(&mut theirs, &mut ours, "a truncated AOF", &mask_times);
        let theirs_file = std::fs::read(redis.dir().join("appendonlydir/appendonly.aof.1.incr.aof")).expect("incr");
        assert_eq!(theirs_file, truncated, "both truncate at the same offset");
    } else {
        assert!(!required(), "REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
    }
}

/// Random byte mutations of the manifest, the base and the incremental file: the server starts or refuses to,
/// and never panics.
#[test]
fn mutated_aof_files_never_panic_the_server() {
    let dir = TempDir::new();
    let server = RedletServer::start_with(&["--dir", dir.path(), "--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = server.connect().expect("connect");
    for line in dataset().iter().take(40) {
        run(&mut c, line);
    }
    run(&mut c, "BGREWRITEAOF");
    wait_rewrite(&mut c, 1);
    for line in AFTER_REWRITE {
        run(&mut c, line);
    }
    drop(c);
    drop(server);
    let aofdir = dir.0.join("appendonlydir");
    let files = ["appendonly.aof.manifest", "appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof"];
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(aofdir.join(f)).expect(f)).collect();
    let mut g = Gen::new(0xa0f);
    let (mut started, mut refused) = (0, 0);
    for round in 0..45 {
        let which = round % files.len();
        let mut bytes = originals[which].clone();
        for _ in 0..1 + g.below(3) {
            if bytes.is_empty() {
                break;
            }
            let at = g.below(bytes.len());
            match g.below(3) {
                0 => bytes[at] = g.below(256) as u8,
                1 => bytes.truncate(at),
                _ => bytes.insert(at, g.below(256) as u8),
            }
        }
        for (f, orig) in files.iter().zip(&originals) {
            std::fs::write(aofdir.join(f), orig).expect("restore");
        }
        std::fs::write(aofdir.join(files[which]), &bytes).expect("mutate");
        let out = Command::new(crate::server::server_bin())
            .args(["--port", "0", "--dir", dir.path(), "--appendonly", "yes"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // A server that started is stopped at once; one that refused has exited by itself.
        let pid = out.id().to_string();
        std::thread::sleep(Duration::from_millis(150));
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let result = out.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!stderr.contains("panicked"), "round {round} ({}): {stderr}", files[which]);
        if String::from_utf8_lossy(&result.stdout).contains("ready to accept") {
            started += 1;
        } else {
            refused += 1;
        }
    }
    assert!(started > 0 && refused > 0, "started {started}, refused {refused}");
}
