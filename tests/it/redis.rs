//! A real `redis-server` for the differential tests: started on a free loopback port, stopped on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redlet_core::resp::parse_reply;
use redlet_core::Reply;

pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

/// Whether the test run must have a real server (the README's test command sets it, so CI cannot silently skip).
pub fn required() -> bool {
    std::env::var("REDLET_REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

impl RedisServer {
    /// Starts `redis-server` without persistence; `None` when the binary is not installed.
    pub fn start() -> Option<RedisServer> {
        RedisServer::start_in(TempDir::new(), &[])
    }

    /// Starts `redis-server` with `dir` as its directory (where SAVE writes and from which it loads `dump.rdb`)
    /// and `extra` options after the defaults.
    pub fn start_in(dir: TempDir, extra: &[&str]) -> Option<RedisServer> {
        let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let port = free_port();
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--dir", dir.path()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = RedisServer { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut c) = server.connect() {
                if c.call(&[b"PING"]).map(|r| r == b"+PONG\r\n").unwrap_or(false) {
                    return Some(server);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not answer on port {port}");
    }

    pub fn connect(&self) -> std::io::Result<Conn> {
        Conn::connect(self.port)
    }

    /// The server's directory (`--dir`).
    pub fn dir(&self) -> &std::path::Path {
        &self._dir.0
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A RESP connection that returns each reply's exact bytes.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// A connection to a RESP server on a loopback port (redis-server or redlet-server).
    pub fn connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::new() })
    }

    /// Sends one command and reads exactly one reply, returned as the raw bytes Redis sent.
    pub fn call(&mut self, argv: &[&[u8]]) -> std::io::Result<Vec<u8>> {
        self.stream.write_all(&encode_command(argv))?;
        self.read_reply()
    }

    /// Sends one command without reading a reply (a command that blocks; its reply comes later).
    pub fn send(&mut self, argv: &[&[u8]]) -> std::io::Result<()> {
        self.stream.write_all(&encode_command(argv))
    }

    /// The next reply if one arrives within `wait`, `None` when none does.
    pub fn read_reply_within(&mut self, wait: Duration) -> std::io::Result<Option<Vec<u8>>> {
        self.stream.set_read_timeout(Some(wait))?;
        let reply = self.read_reply();
        self.stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        match reply {
            Ok(r) => Ok(Some(r)),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn read_reply(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            match parse_reply(&self.buf) {
                Ok(Some((_, used))) => return Ok(self.buf.drain(..used).collect()),
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::other(format!("bad reply from redis: {e}"))),
            }
            let mut chunk = [0u8; 16384];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "redis closed the connection"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// A command as a RESP multibulk request.
pub fn encode_command(argv: &[&[u8]]) -> Vec<u8> {
    let items = argv.iter().map(|a| Reply::Bulk(a.to_vec())).collect();
    Reply::Array(items).to_resp(2)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

/// A scratch directory removed on drop (redis-server wants a --dir even without persistence).
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("redlet-redis-{}-{stamp}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap_or(".")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
