//! `redlet-server` driven by real clients (redis-cli, redis-py, redis-benchmark) and raw TCP bytes, each session
//! compared with the same session on a real redis-server.
//!
//! The tests run the built binary (`target/debug/redlet-server`, or `REDLET_SERVER_BIN`); `./dev test` builds it
//! first. redis-py comes from the virtual environment `./dev test` makes at `target/venv`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::redis::{encode_command, required, Conn, RedisServer, TempDir};

/// A `redlet-server` child process on a free loopback port, stopped on drop.
pub struct RedletServer {
    child: Child,
    pub port: u16,
    /// Kept open so the server's last lines (on shutdown) have somewhere to go.
    stdout: BufReader<ChildStdout>,
    /// The server's `--dir` unless the caller gave one: a SAVE in a case file lands there, not in the tree.
    _dir: Option<TempDir>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The newest modification time of any file under `dir`.
fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let p = entry.path();
        let t = if p.is_dir() { newest_mtime(&p) } else { entry.metadata().and_then(|m| m.modified()).ok() };
        newest = newest.max(t);
    }
    newest
}

/// The built server binary. Fails with what to do when it is missing or older than its sources,
/// so a test never silently checks a stale server.
pub fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("REDLET_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace_root().join("target"));
    let bin = ["debug", "release"].iter().map(|p| target.join(p).join("redlet-server")).find(|p| p.exists());
    let Some(bin) = bin else {
        panic!("redlet-server is not built: run `cargo build -p redlet-server` first (`./dev test` does)");
    };
    let built = bin.metadata().and_then(|m| m.modified()).ok();
    let sources = [workspace_root().join("server/src"), workspace_root().join("core/src")];
    if sources.iter().filter_map(|d| newest_mtime(d)).max() > built {
        panic!("{} is older than its sources: run `cargo build -p redlet-server` first (`./dev test` does)", bin.display());
    }
    bin
}

impl RedletServer {
    pub fn start() -> RedletServer {
        RedletServer::start_with(&[])
    }

    /// Starts the server on port 0 and learns the port it got from its ready line (no race for a free port).
    pub fn start_with(extra: &[&str]) -> RedletServer {
        let stderr = if std::env::var("REDLET_SERVER_LOG").is_ok() { Stdio::inherit() } else { Stdio::null() };
        let dir = (!extra.contains(&"--dir")).then(TempDir::new);
        let mut child = Command::new(server_bin())
            .args(["--port", "0"])
            .args(dir.iter().flat_map(|d| ["--dir", d.path()]))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn redlet-server");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the ready line");
        let port = line
            .trim()
            .strip_prefix("Redlet ready to accept connections on ")
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from redlet-server: {line:?}"));
        RedletServer { child, port, stdout, _dir: dir }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn connect(&self) -> std::io::Result<Conn> {
        Conn::connect(self.port)
    }

    /// Sends SIGTERM and waits: the exit status and what the server printed after its ready line.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(Instant::now() < deadline, "redlet-server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest);
        (status, rest)
    }
}

impl Drop for RedletServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real redis-server, or `None` (the test is skipped) when none is installed and none is required.
fn redis_or_skip(test: &str) -> Option<RedisServer> {
    let server = RedisServer::start();
    if server.is_none() {
        assert!(!required(), "REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
        eprintln!("{test}: skipped, no redis-server");
    }
    server
}

fn tool_or_skip(tool: &str, test: &str) -> bool {
    let found = Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !found {
        assert!(!required(), "REDLET_REQUIRE_REDIS=1 but {tool} is not installed");
        eprintln!("{test}: skipped, no {tool}");
    }
    found
}

/// Runs a program with `stdin` fed in, returning (exit ok, stdout).
fn run_tool(program: &str, args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = feeder.join();
    (out.status.success(), out.stdout)
}

fn cli(port: u16, args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>) {
    let p = port.to_string();
    let mut all = vec!["-p", p.as_str()];
    all.extend_from_slice(args);
    run_tool("redis-cli", &all, stdin)
}

/// Connects and returns the raw socket with a read timeout.
fn raw(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s
}

/// Sends bytes and collects everything the server sends until it closes the connection or goes quiet.
/// The suffix `<open>` marks a connection still open after `quiet`.
fn exchange(port: u16, payload: &[u8], quiet: Duration) -> Vec<u8> {
    let mut s = raw(port);
    s.set_read_timeout(Some(quiet)).expect("timeout");
    let _ = s.write_all(payload);
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                out.extend_from_slice(b"<open>");
                return out;
            }
            // A reset after the server closed with unread input is still a close.
            Err(_) => return out,
        }
    }
}

fn resident_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn ping_ok(port: u16) -> bool {
    Conn::connect(port).and_then(|mut c| c.call(&[b"PING"])).is_ok_and(|r| r == b"+PONG\r\n")
}

fn show(bytes: &[u8]) -> String {
    crate::diff::escape(bytes)
}

/// One-shot redis-cli commands, formatted (`--no-raw`) and raw, give the same output and exit status.
#[test]
fn redis_cli_commands_match_redis() {
    let Some(redis) = redis_or_skip("redis_cli_commands_match_redis") else { return };
    let redlet = RedletServer::start();
    let session: &[&[&str]] = &[
        &["PING"],
        &["PING", "hello world"],
        &["ECHO", "a\nb"],
        &["SET", "k", "v"],
        &["GET", "k"],
        &["SET", "n", "10"],
        &["SET", "bin", "\u{1}\u{ff}\t"],
        &["GET", "bin"],
        &["DEL", "k", "n", "missing"],
        &["GET", "k"],
        &["DBSIZE"],
        &["SET", "k"],
        &["NOSUCHCOMMAND", "a", "b"],
    ];
    for cmd in session {
        for mode in ["--no-raw", "--raw"] {
            let mut args = vec![mode];
            args.extend_from_slice(cmd);
            let theirs = cli(redis.port, &args, b"");
            let ours = cli(redlet.port, &args, b"");
            assert_eq!(
                (ours.0, show(&ours.1)),
                (theirs.0, show(&theirs.1)),
                "redis-cli {mode} {cmd:?}: redlet (left) vs redis (right)"
            );
        }
    }
}

/// More than a thousand commands typed into redis-cli's standard input, and the same as raw RESP through
/// `redis-cli --pipe` (which also counts errors and replies).
#[test]
fn redis_cli_pipes_match_redis() {
    let Some(redis) = redis_or_skip("redis_cli_pipes_match_redis") else { return };
    let redlet = RedletServer::start();
    let mut lines = String::new();
    let mut resp = Vec::new();
    for i in 0..1200 {
        lines.push_str(&format!("SET key:{i} \"value {i}\"\nGET key:{i}\n"));
        resp.extend(encode_command(&[b"SET", format!("pipe:{i}").as_bytes(), &vec![b'x'; i % 97]]));
        if i % 100 == 0 {
            lines.push_str("NOSUCH thing\nDEL key:0 key:1\n");
            resp.extend(encode_command(&[b"GET"]));
        }
    }
    lines.push_str("DBSIZE\n");
    for mode in ["--no-raw", "--raw"] {
        let theirs = cli(redis.port, &[mode], lines.as_bytes());
        let ours = cli(redlet.port, &[mode], lines.as_bytes());
        assert!(theirs.0 && theirs.1.len() > 10_000, "redis-cli against redis-server failed");
        assert!(ours.1 == theirs.1, "redis-cli {mode} from stdin: outputs differ\nredlet: {}", show(&ours.1[..ours.1.len().min(300)]));
    }
    let theirs = cli(redis.port, &["--pipe"], &resp);
    let ours = cli(redlet.port, &["--pipe"], &resp);
    let summary = |out: &[u8]| String::from_utf8_lossy(out).lines().last().unwrap_or_default().to_string();
    assert_eq!(summary(&theirs.1), "errors: 12, replies: 1212");
    assert_eq!(summary(&ours.1), summary(&theirs.1));
    assert_eq!(cli(redlet.port, &["DBSIZE"], b""), cli(redis.port, &["DBSIZE"], b""));
}

fn python() -> Option<PathBuf> {
    let py = workspace_root().join("target/venv/bin/python");
    let ok = Command::new(&py).args(["-c", "import redis"]).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(!required(), "REDLET_REQUIRE_REDIS=1 but redis-py is missing: `./dev test` installs it into target/venv");
        eprintln!("redis-py tests skipped: no target/venv with redis-py (`./dev test` makes it)");
        return None;
    }
    Some(py)
}

const REDIS_PY_SESSION: &str = r#"
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), protocol=int(sys.argv[2]))
out = []
def t(name, f):
    try:
        out.append(name + ' ' + repr(f()))
    except Exception as e:
        out.append(name + ' ' + type(e).__name__ + ': ' + str(e))
t('ping', lambda: r.ping())
t('echo', lambda: r.echo('hi'))
t('set', lambda: r.set('a', 'b'))
t('get', lambda: r.get('a'))
t('binary', lambda: r.set('bin', b'\x00\xff\r\n'))
t('getbin', lambda: r.get('bin'))
t('big', lambda: r.set('big', b'z' * 300000))
t('getbig', lambda: len(r.get('big')))
t('delete', lambda: r.delete('a', 'zz'))
t('missing', lambda: r.get('a'))
t('dbsize', lambda: r.dbsize())
t('unknown', lambda: r.execute_command('NOSUCH', 'x'))
t('arity', lambda: r.execute_command('SET', 'x'))
p = r.pipeline(transaction=False)
for i in range(500):
    p.set('k%d' % i, i)
for i in range(500):
    p.get('k%d' % i)
t('pipeline', lambda: p.execute())
t('dbsize2', lambda: r.dbsize())
print('\n'.join(out))
"#;

/// The same redis-py session, in RESP2 and RESP3, prints the same results against both servers.
#[test]
fn redis_py_session_matches_redis() {
    let Some(py) = python() else { return };
    let Some(redis) = redis_or_skip("redis_py_session_matches_redis") else { return };
    let redlet = RedletServer::start();
    for protocol in ["2", "3"] {
        let run = |port: u16| {
            let p = port.to_string();
            run_tool(py.to_str().unwrap_or("python"), &["-c", REDIS_PY_SESSION, &p, protocol], b"")
        };
        let theirs = run(redis.port);
        let ours = run(redlet.port);
        assert!(theirs.0, "redis-py against redis-server failed");
        let (a, b) = (String::from_utf8_lossy(&ours.1), String::from_utf8_lossy(&theirs.1));
        for (x, y) in a.lines().zip(b.lines()) {
            assert_eq!(x, y, "redis-py RESP{protocol}: redlet (left) vs redis (right)");
        }
        assert_eq!(a.lines().count(), b.lines().count(), "redis-py RESP{protocol}: line counts");
    }
}

/// Raw bytes: inline commands, pipelines, QUIT, protocol errors and HTTP requests get exactly Redis's bytes,
/// and the connection is closed (or kept) exactly when Redis closes (or keeps) it.
#[test]
fn raw_bytes_match_redis() {
    let Some(redis) = redis_or_skip("raw_bytes_match_redis") else { return };
    let redlet = RedletServer::start();
    let mut pipeline = Vec::new();
    for i in 0..1000 {
        pipeline.extend(encode_command(&[b"SET", format!("p{i}").as_bytes(), format!("{i}").as_bytes()]));
        pipeline.extend(encode_command(&[b"GET", format!("p{i}").as_bytes()]));
    }
    let long_inline = [b"ECHO ".as_slice(), &vec![b'a'; 70 * 1024]].concat();
    let payloads: Vec<(&str, Vec<u8>)> = vec![
        ("inline", b"PING\r\nECHO hello\r\nSET a \"b c\"\r\nGET a\r\nPING\n\r\n\r\n  \r\n".to_vec()),
        ("inline quotes", b"SET q \"\\x41\\n\" \r\nGET q\r\nSET 'x y' z\r\nGET \"x y\"\r\n".to_vec()),
        ("pipeline", pipeline),
        ("empty multibulk", b"*0\r\n*-1\r\nPING\r\n".to_vec()),
        ("quit", b"PING\r\nQUIT\r\nPING\r\n".to_vec()),
        ("garbage", b"*x\r\n".to_vec()),
        ("bad bulk", b"*1\r\nPING\r\n".to_vec()),
        ("negative bulk", b"*1\r\n$-5\r\n".to_vec()),
        ("4 GiB bulk header", b"PING\r\n*2\r\n$4\r\nECHO\r\n$4294967296\r\n".to_vec()),
        ("huge multibulk", b"*2147483648\r\n".to_vec()),
        ("unbalanced quotes", b"SET a \"b\r\n".to_vec()),
        ("too big inline", long_inline),
        ("truncated", b"*3\r\n$3\r\nSET\r\n$9\r\ntruncated\r\n$5\r\nab".to_vec()),
        ("http", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec()),
        ("post", b"POST / HTTP/1.1\r\n".to_vec()),
    ];
    for (name, payload) in &payloads {
        let theirs = exchange(redis.port, payload, Duration::from_millis(300));
        let ours = exchange(redlet.port, payload, Duration::from_millis(300));
        assert!(ours == theirs, "{name}:\n  redis:  {}\n  redlet: {}", show(&theirs), show(&ours));
        assert!(ping_ok(redlet.port), "{name}: the server stopped serving other clients");
    }
    // The truncated SET never ran.
    let mut c = redlet.connect().expect("connect");
    assert_eq!(c.call(&[b"GET", b"truncated"]).expect("GET"), b"$-1\r\n");
}

/// What one connection receives within `wait` (no close expected).
fn receive(s: &mut TcpStream, wait: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    out
}

/// A blocked client's pipelined commands wait behind its blocking command; another connection's push serves
/// it, a deadline times it out, and then the rest of its pipeline runs: the same bytes as Redis, in order.
#[test]
fn blocked_client_pipeline_waits() {
    let Some(redis) = redis_or_skip("blocked_client_pipeline_waits") else { return };
    let redlet = RedletServer::start();
    let session = |port: u16| {
        let mut a = raw(port);
        a.write_all(b"BLPOP q 0\r\nPING\r\nBLPOP q 0.2\r\nECHO after\r\n").expect("write");
        let before = receive(&mut a, Duration::from_millis(200));
        let mut b = Conn::connect(port).expect("connect");
        let pushed = b.call(&[b"RPUSH", b"q", b"x"]).expect("RPUSH");
        let after = receive(&mut a, Duration::from_millis(700));
        (show(&before), show(&pushed), show(&after))
    };
    let theirs = session(redis.port);
    let ours = session(redlet.port);
    assert_eq!(theirs.0, "", "redis answered a blocked client");
    assert_eq!(ours, theirs, "redlet (left) vs redis (right)");
    assert!(ping_ok(redlet.port));
}

/// Client-side caching with pipelines: a RESP3 client's own invalidations follow each reply in default mode;
/// BCAST messages come once per event-loop turn, one per prefix with the turn's changed keys, after the
/// pipeline's replies for the writer itself: the same bytes as Redis.
#[test]
fn tracking_messages_follow_the_event_loop() {
    let Some(redis) = redis_or_skip("tracking_messages_follow_the_event_loop") else { return };
    let redlet = RedletServer::start();
    let session = |port: u16| {
        let mut own = raw(port);
        own.write_all(b"HELLO 3\r\nCLIENT TRACKING on\r\nMGET a b\r\n").expect("write");
        receive(&mut own, Duration::from_millis(200));
        own.write_all(b"SET a 1\r\nGET a\r\nSET a 2\r\nSET b 1\r\n").expect("write");
        let default_mode = receive(&mut own, Duration::from_millis(300));
        let mut bcast = raw(port);
        bcast.write_all(b"HELLO 3\r\nCLIENT TRACKING on BCAST PREFIX p: PREFIX q\r\n").expect("write");
        receive(&mut bcast, Duration::from_millis(200));
        // One write of a whole pipeline, so one turn reads it.
        let mut writer = raw(port);
        writer.write_all(b"SET p:b 1\r\nSET q1 1\r\nSET p:a 1\r\nSET other 1\r\nSET p:b 2\r\n").expect("write");
        let to_writer = receive(&mut writer, Duration::from_millis(300));
        let batched = receive(&mut bcast, Duration::from_millis(300));
        bcast.write_all(b"SET p:x 1\r\nSET q2 1\r\nPING\r\n").expect("write");
        let own_bcast = receive(&mut bcast, Duration::from_millis(300));
        (show(&default_mode), show(&to_writer), show(&batched), show(&own_bcast))
    };
    let theirs = session(redis.port);
    let ours = session(redlet.port);
    // The pipeline's changes under p: came in one message, as one turn read them.
    let batch = r">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\np:a\r\n$3\r\np:b\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nq1\r\n";
    assert_eq!(theirs.2, batch, "redis read the pipeline in more than one turn");
    assert_eq!(ours, theirs, "redlet (left) vs redis (right)");
}

/// Bulk and multibulk lengths a client only announces cost no memory: 4 GiB headers are refused before any
/// allocation, and a legal 500 MB announcement with a few bytes behind it does not reserve 500 MB.
#[test]
fn announced_lengths_allocate_nothing() {
    let redlet = RedletServer::start();
    let before = resident_kb(redlet.pid());
    let mut open = Vec::new();
    for _ in 0..20 {
        assert_eq!(
            exchange(redlet.port, b"*1\r\n$4294967296\r\n", Duration::from_secs(2)),
            b"-ERR Protocol error: invalid bulk length\r\n"
        );
        let mut s = raw(redlet.port);
        s.write_all(b"*2\r\n$4\r\nECHO\r\n$500000000\r\nonly a few bytes").expect("write");
        open.push(s);
        let mut s = raw(redlet.port);
        s.write_all(b"*1048576\r\n$4\r\nPING\r\n").expect("write");
        open.push(s);
    }
    assert!(ping_ok(redlet.port));
    let after = resident_kb(redlet.pid());
    assert!(after < before + 32 * 1024, "resident memory grew from {before} kB to {after} kB");
    drop(open);
    assert!(ping_ok(redlet.port));
}

/// A client that pipelines big reads and never takes the replies is closed at the output limit; the server's
/// memory stays bounded and other clients are served throughout.
#[test]
fn slow_reader_is_cut_off_at_the_output_limit() {
    let redlet = RedletServer::start_with(&["--client-output-buffer-limit", "normal 8mb 4mb 1"]);
    let mut c = redlet.connect().expect("connect");
    let value = vec![b'v'; 1 << 20];
    assert_eq!(c.call(&[b"SET", b"big", &value]).expect("SET"), b"+OK\r\n");
    let before = resident_kb(redlet.pid());
    let mut slow = raw(redlet.port);
    let gets: Vec<u8> = (0..400).flat_map(|_| encode_command(&[b"GET", b"big"])).collect();
    let _ = slow.write_all(&gets);
    std::thread::sleep(Duration::from_millis(500));
    assert!(ping_ok(redlet.port), "the server stopped serving other clients");
    let peak = resident_kb(redlet.pid());
    assert!(peak < before + 64 * 1024, "resident memory grew from {before} kB to {peak} kB for one slow reader");
    // Now read: what arrives ends well before the 400 MB of replies asked for.
    slow.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match slow.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    assert!(total < 64 << 20, "the slow reader got {total} bytes: it was not cut off");
    // A client that keeps up is not affected by the same amount of output.
    let mut fast = redlet.connect().expect("connect");
    for _ in 0..50 {
        assert_eq!(fast.call(&[b"GET", b"big"]).expect("GET").len(), value.len() + 12);
    }
}

/// HELLO 3 switches the connection to RESP3: later replies use RESP3's types, byte for byte as Redis.
#[test]
fn hello_3_switches_to_resp3() {
    let Some(redis) = redis_or_skip("hello_3_switches_to_resp3") else { return };
    let redlet = RedletServer::start();
    let mut theirs = redis.connect().expect("connect");
    let mut ours = redlet.connect().expect("connect");
    let hello_theirs = theirs.call(&[b"HELLO", b"3"]).expect("HELLO");
    let hello_ours = ours.call(&[b"HELLO", b"3"]).expect("HELLO");
    assert_eq!(hello_ours.first(), hello_theirs.first(), "HELLO 3 reply type: {}", show(&hello_ours));
    for cmd in [&[b"GET".as_slice(), b"nokey"][..], &[b"SET", b"k", b"v"], &[b"GET", b"k"], &[b"PING"], &[b"NOSUCH"]] {
        let a = ours.call(cmd).expect("call");
        let b = theirs.call(cmd).expect("call");
        assert_eq!(show(&a), show(&b), "{cmd:?} in RESP3");
    }
}

/// CLIENT LIST shows the real peer and local addresses of the connection.
#[test]
fn client_addresses_are_real() {
    let redlet = RedletServer::start();
    let mut s = raw(redlet.port);
    let local = s.local_addr().expect("local addr");
    s.write_all(b"CLIENT INFO\r\n").expect("write");
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.contains(&format!("addr={local} ")), "CLIENT INFO: {text}");
    assert!(text.contains(&format!("laddr=127.0.0.1:{} ", redlet.port)), "CLIENT INFO: {text}");
}

/// SIGTERM stops the server cleanly, with connections open.
#[test]
fn sigterm_stops_cleanly() {
    let redlet = RedletServer::start();
    let _idle = raw(redlet.port);
    let mut busy = raw(redlet.port);
    busy.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nhalf").expect("write");
    let (status, said) = redlet.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(said.contains("Received SIGTERM"), "printed: {said}");
    let _ = busy.shutdown(Shutdown::Both);
}

/// redis-benchmark runs against the server with no errors (how fast is measured apart, not tested).
#[test]
fn redis_benchmark_completes() {
    if !tool_or_skip("redis-benchmark", "redis_benchmark_completes") {
        return;
    }
    let redlet = RedletServer::start();
    let p = redlet.port.to_string();
    let tests = "set,get,incr,lpush,rpop,sadd,hset,zadd";
    let (ok, out) = run_tool("redis-benchmark", &["-p", &p, "-q", "-t", tests, "-n", "2000"], b"");
    let text = String::from_utf8_lossy(&out);
    assert!(ok, "redis-benchmark failed: {text}");
    for test in tests.split(',').map(str::to_ascii_uppercase) {
        assert!(
            // Progress lines end in `\r`; the result is the last of them.
            text.split(['\r', '\n']).any(|l| l.trim_start().starts_with(&format!("{test}: ")) && l.contains("requests per second")),
            "no {test} result in: {text}"
        );
    }
    assert!(!text.contains("ERR"), "errors in: {text}");
    // The server itself saw no error reply.
    let stats = run_tool("redis-cli", &["-p", &p, "INFO", "errorstats"], b"").1;
    assert!(!String::from_utf8_lossy(&stats).contains("errorstat_"), "error replies during the benchmark");
}

/// A numeric `field:value` line of an INFO reply (raw RESP bytes).
fn info_field(reply: &[u8], field: &str) -> u64 {
    let text = String::from_utf8_lossy(reply);
    let prefix = format!("{field}:");
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO: {text}"))
}

/// The caching scenario end to end: redlet-server started with `--maxmemory-policy allkeys-lru`, a limit set
/// with CONFIG SET, and far more SETs than fit while a few keys are read all along. Memory stays within the
/// limit, old unread keys go and read ones stay, INFO counts evictions, hits and misses; under noeviction
/// writes are refused with Redis's OOM error while reads and deletes work.
#[test]
fn maxmemory_evicts_as_a_cache() {
    let redlet = RedletServer::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = redlet.connect().expect("connect");
    let used = info_field(&c.call(&[b"INFO", b"memory"]).expect("INFO"), "used_memory");
    let max = used + 256 * 1024;
    let max_arg = max.to_string();
    assert_eq!(c.call(&[b"CONFIG", b"SET", b"maxmemory", max_arg.as_bytes()]).expect("CONFIG SET"), b"+OK\r\n");
    let key = |i: usize| format!("key:{i:06}");
    let value = "v".repeat(100);
    let (hot, total) = (50, 6_000);
    let mut gets = 0u64;
    for i in 0..total {
        assert_eq!(c.call(&[b"SET", key(i).as_bytes(), value.as_bytes()]).expect("SET"), b"+OK\r\n");
        if i >= hot {
            c.call(&[b"GET", key(i % hot).as_bytes()]).expect("GET");
            gets += 1;
        }
    }
    // Eviction runs before every command: after a PING, memory is within the limit.
    assert_eq!(c.call(&[b"PING"]).expect("PING"), b"+PONG\r\n");
    let memory = c.call(&[b"INFO", b"memory"]).expect("INFO");
    assert!(info_field(&memory, "used_memory") <= max, "used memory over the limit");
    assert_eq!(info_field(&memory, "maxmemory"), max);
    let stats = c.call(&[b"INFO", b"stats"]).expect("INFO");
    let (hits, misses) = (info_field(&stats, "keyspace_hits"), info_field(&stats, "keyspace_misses"));
    assert_eq!(hits + misses, gets);
    assert!(misses * 20 < gets, "{misses} misses in {gets} reads of the hot keys");
    let dbsize = c.call(&[b"DBSIZE"]).expect("DBSIZE");
    let alive: u64 = String::from_utf8_lossy(&dbsize).trim().trim_start_matches(':').parse().expect("DBSIZE");
    assert!(alive > 100 && alive < total as u64, "{alive} keys left");
    assert_eq!(info_field(&stats, "evicted_keys"), total as u64 - alive);
    let count = |c: &mut Conn, range: std::ops::Range<usize>| {
        let keys: Vec<String> = range.map(key).collect();
        let mut argv: Vec<&[u8]> = vec![b"EXISTS"];
        argv.extend(keys.iter().map(|k| k.as_bytes()));
        let reply = c.call(&argv).expect("EXISTS");
        String::from_utf8_lossy(&reply).trim().trim_start_matches(':').parse::<usize>().expect("EXISTS")
    };
    assert!(count(&mut c, 0..hot) >= hot * 9 / 10, "read keys were evicted");
    assert!(count(&mut c, hot..total / 2) < total / 40, "old unread keys survived");
    // No eviction: writes are refused, reads and deletes are not.
    assert_eq!(c.call(&[b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction", b"maxmemory", b"1"]).expect("CONFIG"), b"+OK\r\n");
    assert_eq!(c.call(&[b"SET", b"k", b"v"]).expect("SET"), b"-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    assert_eq!(c.call(&[b"GET", key(0).as_bytes()]).expect("GET"), format!("$100\r\n{value}\r\n").into_bytes());
    assert_eq!(c.call(&[b"DEL", key(0).as_bytes()]).expect("DEL"), b":1\r\n");
    let stats = c.call(&[b"INFO", b"stats"]).expect("INFO");
    assert_eq!(info_field(&stats, "evicted_keys"), total as u64 - alive);
}
