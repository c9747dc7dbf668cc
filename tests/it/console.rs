//! The console formatter against the real redis-cli: typed lines go through our tokenizer, the engine and
//! `format_tty`, and through `redis-cli --no-raw` (its terminal format) against a real redis-server.

use std::io::Write;
use std::process::{Command, Stdio};

use redlet_core::format::format_console;
use redlet_core::tokenize::split_args;
use redlet_core::{Config, Engine};

use crate::diff::now_ms;
use crate::redis::RedisServer;

/// What our console prints for each line, one after the other.
fn ours(lines: &[&str]) -> String {
    let mut engine = Engine::new(Config::default());
    let client = engine.connect(now_ms());
    let mut out = String::new();
    for line in lines {
        match split_args(line.as_bytes()) {
            Ok(argv) => {
                let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                if let Some(reply) = engine.execute(client, &args, now_ms()) {
                    out.push_str(&format_console(&args, &reply, engine.resp_of(client)));
                }
            }
            Err(e) => out.push_str(&format!("{e}\n")),
        }
    }
    out
}

/// What redis-cli prints for the same lines typed into it.
fn redis_cli(server: &RedisServer, lines: &[&str]) -> String {
    let mut child = Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "--no-raw"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-cli is installed with redis-server");
    let mut input = lines.join("\n");
    input.push('\n');
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write to redis-cli");
    let out = child.wait_with_output().expect("redis-cli output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const TUTORIAL: &[&str] = &[r#"SET "user:1:name" "Anisul""#, "GET user:1:name", "INCR page_views"];

#[test]
fn tutorial_lines_print_as_redis_cli_prints_them() {
    assert_eq!(ours(TUTORIAL), "OK\n\"Anisul\"\n(integer) 1\n");
    let Some(server) = RedisServer::start() else {
        assert!(!crate::redis::required(), "REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
        return;
    };
    assert_eq!(ours(TUTORIAL), redis_cli(&server, TUTORIAL));
}

#[test]
fn console_output_matches_redis_cli_across_reply_shapes() {
    let Some(server) = RedisServer::start() else {
        assert!(!crate::redis::required(), "REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
        return;
    };
    let lines: &[&str] = &[
        "SET a 1",
        "MSET b \"two words\" c \"quote\\\"d\" e \"\\xe0\\xa6\\x95\"",
        "MGET a b c e missing",
        "GET missing",
        "INCRBY a 41",
        "INCR b",
        "GET",
        "SET k v XX NX",
        "MSET k1 1 k2 2 k3 3 k4 4 k5 5 k6 6 k7 7 k8 8 k9 9 k10 10",
        "MGET k1 k2 k3 k4 k5 k6 k7 k8 k9 k10",
        "ECHO \"line\\nbreak\\ttab\"",
        "SET \"\u{0995}\u{09c0}\" \"\u{0645}\u{0631}\u{062d}\u{0628}\u{0627} \u{043f}\u{0440}\u{0438}\u{0432}\u{0435}\u{0442}\"",
        "GET \"\u{0995}\u{09c0}\"",
        "NOSUCHCOMMAND x",
        "PING",
        "CONFIG GET maxmemory",
        "ECHO \"\"",
        "CLIENT SETNAME console",
        "CLIENT GETNAME",
    ];
    assert_eq!(ours(lines), redis_cli(&server, lines));
}
