//! `redlet-server`: the Redlet engine served over RESP2/RESP3 on TCP, for redis-cli, redis-py, redis-benchmark
//! and any other Redis client.
//!
//! ```text
//! cargo run --release -p redlet-server -- --port 6379      # Redlet ready to accept connections on 127.0.0.1:6379
//! redis-cli -p 6379 set greeting hello
//! ```
//!
//! `cli.rs` reads the flags (redis-server's spelling: `--port`, `--bind`, `--requirepass`, `--maxmemory`,
//! `--maxmemory-policy`, `--dir`, `--dbfilename`, `--save`, `--enable-debug-command`, `--maxclients`,
//! `--client-output-buffer-limit`);
//! `server.rs` is the single-threaded event loop that owns the engine; `persist.rs` keeps its snapshots in a
//! file and `aof.rs` its append-only file (`--appendonly yes`). SIGINT and SIGTERM stop it cleanly (saving first when save points are configured, as Redis does).
#![forbid(unsafe_code)]

/// A line on stderr; a closed stderr is not worth a panic.
macro_rules! log {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod aof;
mod cli;
mod persist;
mod server;

use std::io::Write;
use std::process::ExitCode;

use cli::Command;
use server::Server;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let opts = match cli::parse(&args) {
        Ok(Command::Run(o)) => *o,
        Ok(Command::Help) => {
            let _ = write!(std::io::stdout(), "{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            let _ = writeln!(std::io::stdout(), "redlet-server v={} (Redis 7.0.15 compatible)", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            log!("redlet-server: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    // As redis-server does, `--dir` becomes the working directory: persistence files land there.
    if let Some(dir) = &opts.dir {
        if let Err(e) = std::env::set_current_dir(dir) {
            log!("Can't chdir to '{dir}': {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut server = match Server::bind(&opts) {
        Ok(s) => s,
        Err(e) => {
            log!("redlet-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    for addr in server.local_addrs() {
        let _ = writeln!(out, "Redlet ready to accept connections on {addr}");
    }
    let _ = out.flush();
    match server.run() {
        Ok(()) => {
            let _ = writeln!(out, "Redlet is now ready to exit, bye bye...");
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Err(e) => {
            log!("redlet-server: event loop failed: {e}");
            ExitCode::FAILURE
        }
    }
}
