//! Command-line options, spelled as redis-server's where the two overlap (`--port 6379 --bind 127.0.0.1`).

use std::fmt;

/// Redis's default `maxclients`: a connection past it is told so and closed.
pub const DEFAULT_MAXCLIENTS: usize = 10_000;

/// What `redlet-server` was asked to do.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub port: u16,
    /// Addresses to listen on; loopback only unless told otherwise, so a stray start exposes nothing.
    pub bind: Vec<String>,
    pub requirepass: Option<Vec<u8>>,
    pub maxmemory: Option<u64>,
    /// `maxmemory-policy`, one of Redis's eight names (lower-cased).
    pub maxmemory_policy: Option<String>,
    pub dir: Option<String>,
    /// The snapshot's file name inside `dir` (Redis's `dbfilename`).
    pub dbfilename: String,
    /// Save points as (seconds, changes); none unless given (`--save "3600 1 300 100 60 10000"` is Redis's
    /// built-in default), so a server started for a test writes no file by itself.
    pub save: Vec<(i64, i64)>,
    /// `enable-debug-command`: `no` (the default, as Redis), `yes` or `local`.
    pub enable_debug_command: String,
    pub maxclients: usize,
    pub output_limit: OutputLimit,
    /// `appendonly`: keep a multi-part AOF in `dir/appenddirname` (and load it at start instead of the snapshot).
    pub appendonly: bool,
    /// `appendfsync`: `always` (before each reply), `everysec` or `no`.
    pub appendfsync: String,
    pub appenddirname: String,
    pub appendfilename: String,
}

/// A cap on one client's unsent output (Redis's `client-output-buffer-limit` for the normal class).
///
/// Redis leaves normal clients unlimited; we do not, so a client that pipelines reads and never takes the
/// replies cannot grow the server's memory without bound. The defaults are Redis's own numbers for its
/// replica class: closed at once past 256 MiB, or after 60 s spent continuously past 64 MiB.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutputLimit {
    /// 0 means no hard limit.
    pub hard: u64,
    /// 0 means no soft limit.
    pub soft: u64,
    pub soft_seconds: u64,
}

impl Default for OutputLimit {
    fn default() -> OutputLimit {
        OutputLimit { hard: 256 << 20, soft: 64 << 20, soft_seconds: 60 }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            requirepass: None,
            maxmemory: None,
            maxmemory_policy: None,
            dir: None,
            dbfilename: "dump.rdb".into(),
            save: Vec::new(),
            enable_debug_command: "no".into(),
            maxclients: DEFAULT_MAXCLIENTS,
            output_limit: OutputLimit::default(),
            appendonly: false,
            appendfsync: "everysec".into(),
            appenddirname: redlet_core::aof::DEFAULT_DIRNAME.into(),
            appendfilename: redlet_core::aof::DEFAULT_FILENAME.into(),
        }
    }
}

/// What the command line asked for besides running.
// Made once per process: the size of `Run` does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Boxed: the options are far larger than the other variants.
    Run(Box<Options>),
    Help,
    Version,
}

#[derive(Debug, PartialEq)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const USAGE: &str = "\
Usage: redlet-server [--port PORT] [--bind ADDR [ADDR ...]] [--requirepass PASS]
                     [--maxmemory BYTES|100mb] [--maxmemory-policy POLICY] [--dir DIR] [--dbfilename NAME]
                     [--save 'SECS CHANGES ...']
                     [--enable-debug-command no|yes|local] [--maxclients N]
                     [--client-output-buffer-limit 'normal HARD SOFT SECONDS']
                     [--appendonly yes|no] [--appendfsync always|everysec|no]
                     [--appenddirname NAME] [--appendfilename NAME]
       redlet-server --version | --help

A Redis 7.0-compatible server over the Redlet engine. Listens on 127.0.0.1:6379 unless told otherwise.
Memory values take Redis's units: b, k (1000), kb (1024), m, mb, g, gb.
Port 0 picks a free port; the ready line says which.
The snapshot DIR/NAME (dump.rdb in the working directory by default) is loaded at start when it exists, and
written by SAVE, BGSAVE, SHUTDOWN and the save points (none unless --save gives them; --save '' clears).
With --appendonly yes, every write is also appended to the multi-part AOF in DIR/appendonlydir (Redis 7.0's
layout), which is loaded at start in place of the snapshot; --appendfsync always syncs it before each reply.
";

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let mut o = Options::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        // `--port=6379` is accepted as well as redis-server's `--port 6379`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let flag = flag.to_ascii_lowercase();
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-v" | "--version" => return Ok(Command::Version),
            _ => {}
        }
        let mut value = || -> Result<String, CliError> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            let v = args.get(i).cloned().ok_or_else(|| CliError(format!("{flag} needs a value")))?;
            i += 1;
            Ok(v)
        };
        match flag.as_str() {
            "--port" => {
                let v = value()?;
                o.port = v.parse().map_err(|_| CliError(format!("invalid port '{v}'")))?;
            }
            "--bind" => {
                // redis-server takes several addresses, in one argument or in several.
                let mut addrs: Vec<String> = value()?.split_whitespace().map(String::from).collect();
                while let Some(next) = args.get(i).filter(|a| !a.starts_with("--")) {
                    addrs.extend(next.split_whitespace().map(String::from));
                    i += 1;
                }
                if addrs.is_empty() {
                    return Err(CliError("--bind needs an address".into()));
                }
                o.bind = addrs;
            }
            "--requirepass" => {
                let v = value()?;
                o.requirepass = if v.is_empty() { None } else { Some(v.into_bytes()) };
            }
            "--maxmemory" => {
                let v = value()?;
                o.maxmemory = Some(parse_memory(&v).ok_or_else(|| CliError(format!("invalid memory value '{v}'")))?);
            }
            "--maxmemory-policy" => {
                let v = value()?.to_ascii_lowercase();
                if !redlet_core::config::MAXMEMORY_POLICIES.contains(&v.as_str()) {
                    let names = redlet_core::config::MAXMEMORY_POLICIES.join(", ");
                    return Err(CliError(format!("invalid maxmemory-policy '{v}' ({names})")));
                }
                o.maxmemory_policy = Some(v);
            }
            "--dir" => o.dir = Some(value()?),
            "--dbfilename" => {
                let v = value()?;
                // As Redis's isValidDBfilename: a name, not a path.
                if v.is_empty() || v.contains('/') {
                    return Err(CliError(format!("dbfilename can't be a path, just a filename: '{v}'")));
                }
                o.dbfilename = v;
            }
            "--save" => {
                let v = value()?;
                let points = redlet_core::config::parse_save(v.as_bytes())
                    .ok_or_else(|| CliError(format!("invalid save parameters '{v}'")))?;
                // `--save ''` clears; each other `--save` adds its points, as repeated `save` lines in redis.conf.
                if points.is_empty() {
                    o.save.clear();
                } else {
                    o.save.extend(points);
                }
            }
            "--enable-debug-command" => {
                let v = value()?.to_ascii_lowercase();
                if !matches!(v.as_str(), "no" | "yes" | "local") {
                    return Err(CliError(format!("invalid enable-debug-command '{v}' (no, yes or local)")));
                }
                o.enable_debug_command = v;
            }
            "--maxclients" => {
                let v = value()?;
                o.maxclients = v.parse().ok().filter(|&n| n >= 1).ok_or_else(|| CliError(format!("invalid maxclients '{v}'")))?;
            }
            "--client-output-buffer-limit" => o.output_limit = parse_output_limit(&value()?)?,
            "--appendonly" => {
                let v = value()?.to_ascii_lowercase();
                o.appendonly = match v.as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(CliError(format!("invalid appendonly '{v}' (yes or no)"))),
                };
            }
            "--appendfsync" => {
                let v = value()?.to_ascii_lowercase();
                if !matches!(v.as_str(), "always" | "everysec" | "no") {
                    return Err(CliError(format!("invalid appendfsync '{v}' (always, everysec or no)")));
                }
                o.appendfsync = v;
            }
            "--appenddirname" | "--appendfilename" => {
                let v = value()?;
                // As Redis's checks: a name, not a path.
                if v.is_empty() || v.contains('/') {
                    return Err(CliError(format!("{} can't be a path, just a name: '{v}'", &flag[2..])));
                }
                if flag == "--appenddirname" {
                    o.appenddirname = v;
                } else {
                    o.appendfilename = v;
                }
            }
            _ => return Err(CliError(format!("unknown option '{arg}'"))),
        }
    }
    Ok(Command::Run(Box::new(o)))
}

/// Redis's `memtoull`: digits with an optional unit; `k` is 1000 and `kb` 1024, case-insensitive.
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let split = lower.find(|c: char| !c.is_ascii_digit()).unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    if digits.is_empty() {
        return None;
    }
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(mul)
}

/// `client-output-buffer-limit` as Redis writes it: groups of `class hard soft seconds`.
/// Only the `normal` class applies here (every connection is a normal client); others are accepted and ignored.
pub fn parse_output_limit(s: &str) -> Result<OutputLimit, CliError> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let bad = || CliError(format!("invalid client-output-buffer-limit '{s}'"));
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err(bad());
    }
    let mut limit = OutputLimit::default();
    for group in words.chunks(4) {
        let [class, hard, soft, secs] = group else { return Err(bad()) };
        let parsed = OutputLimit {
            hard: parse_memory(hard).ok_or_else(bad)?,
            soft: parse_memory(soft).ok_or_else(bad)?,
            soft_seconds: secs.parse().map_err(|_| bad())?,
        };
        match class.to_ascii_lowercase().as_str() {
            "normal" => limit = parsed,
            "replica" | "slave" | "pubsub" => {}
            _ => return Err(bad()),
        }
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, CliError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args)? {
            Command::Run(o) => Ok(*o),
            other => Err(CliError(format!("{other:?}"))),
        }
    }

    #[test]
    fn defaults_are_loopback_6379() {
        let o = run(&[]).unwrap();
        assert_eq!(o.port, 6379);
        assert_eq!(o.bind, vec!["127.0.0.1"]);
        assert_eq!(o.requirepass, None);
    }

    #[test]
    fn flags_as_redis_server_spells_them() {
        let o = run(&["--port", "7000", "--bind", "127.0.0.1", "::1", "--maxmemory", "100mb", "--requirepass", "s3"]).unwrap();
        assert_eq!(o.port, 7000);
        assert_eq!(o.bind, vec!["127.0.0.1", "::1"]);
        assert_eq!(o.maxmemory, Some(100 << 20));
        assert_eq!(o.requirepass, Some(b"s3".to_vec()));
        assert_eq!(run(&["--port=7001"]).unwrap().port, 7001);
        assert!(run(&["--port", "x"]).is_err());
        assert!(run(&["--port"]).is_err());
        assert!(run(&["--nope"]).is_err());
        assert_eq!(run(&["--maxmemory-policy", "ALLKEYS-LRU"]).unwrap().maxmemory_policy.as_deref(), Some("allkeys-lru"));
        assert!(run(&["--maxmemory-policy", "lru"]).is_err());
    }

    #[test]
    fn aof_flags() {
        let o = run(&["--appendonly", "yes", "--appendfsync", "always", "--appenddirname", "aofs"]).unwrap();
        assert!(o.appendonly);
        assert_eq!((o.appendfsync.as_str(), o.appenddirname.as_str()), ("always", "aofs"));
        assert_eq!(run(&[]).unwrap().appenddirname, "appendonlydir");
        assert!(run(&["--appendonly", "maybe"]).is_err());
        assert!(run(&["--appendfsync", "sometimes"]).is_err());
        assert!(run(&["--appenddirname", "a/b"]).is_err());
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("2gb"), Some(2 << 30));
        assert_eq!(parse_memory("mb"), None);
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("1tb"), None);
        assert_eq!(parse_memory("99999999999999999999"), None);
    }

    #[test]
    fn output_limit_normal_class() {
        let l = parse_output_limit("normal 1mb 512kb 5 pubsub 32mb 8mb 60").unwrap();
        assert_eq!(l, OutputLimit { hard: 1 << 20, soft: 512 << 10, soft_seconds: 5 });
        assert!(parse_output_limit("normal 1mb").is_err());
        assert!(parse_output_limit("bogus 1 1 1").is_err());
    }
}
