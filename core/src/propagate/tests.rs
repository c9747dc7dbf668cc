//! One test per rewrite rule, each checked against what Redis 7.0.15 appends to its AOF for the same commands
//! (the differential test `tests/it/aof.rs` compares whole streams with a real server).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::config::Config;
use crate::engine::{ClientId, Engine};
use crate::reply::Reply;

const NOW: u64 = 1_700_000_000_000;

fn engine() -> (Engine, ClientId) {
    let mut e = Engine::new(Config::default());
    let c = e.connect(NOW);
    e.capture_propagation(true);
    (e, c)
}

fn run(e: &mut Engine, c: ClientId, line: &str) -> Option<Reply> {
    let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    e.execute(c, &argv, NOW)
}

/// The propagated commands since the last call, one line each.
fn drained(e: &mut Engine) -> Vec<String> {
    e.drain_propagated()
        .into_iter()
        .map(|argv| {
            argv.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Runs `lines` after `setup` and returns what they propagated.
fn propagated(setup: &[&str], lines: &[&str]) -> Vec<String> {
    let (mut e, c) = engine();
    for l in setup {
        run(&mut e, c, l);
    }
    drained(&mut e);
    for l in lines {
        run(&mut e, c, l);
    }
    // Without a setup the stream starts by selecting database 0; the cases are about what follows.
    let mut out = drained(&mut e);
    if setup.is_empty() && out.first().is_some_and(|l| l == "SELECT 0") {
        out.remove(0);
    }
    out
}

#[test]
fn the_first_command_selects_its_database_and_unchanged_commands_are_not_propagated() {
    let (mut e, c) = engine();
    run(&mut e, c, "SET a 1");
    run(&mut e, c, "GET a");
    run(&mut e, c, "SET a 2 NX");
    run(&mut e, c, "DEL missing");
    run(&mut e, c, "SELECT 3");
    run(&mut e, c, "set b 2");
    run(&mut e, c, "SELECT 0");
    run(&mut e, c, "INCR n");
    assert_eq!(
        drained(&mut e),
        ["SELECT 0", "SET a 1", "SELECT 3", "set b 2", "SELECT 0", "INCR n"]
    );
    // A new stream (a new AOF file) selects again.
    e.capture_propagation(true);
    run(&mut e, c, "INCR n");
    assert_eq!(drained(&mut e), ["SELECT 0", "INCR n"]);
}

#[test]
fn nothing_is_recorded_unless_asked() {
    let mut e = Engine::new(Config::default());
    let c = e.connect(NOW);
    run(&mut e, c, "SET a 1");
    assert!(e.drain_propagated().is_empty());
    e.capture_propagation(true);
    run(&mut e, c, "SET a 1");
    e.capture_propagation(false);
    assert!(
        e.drain_propagated().is_empty(),
        "turning it off drops the undrained stream"
    );
}

#[test]
fn relative_expiries_become_absolute() {
    let at = NOW + 100_000;
    assert_eq!(
        propagated(&[], &["SET b 2 EX 100"]),
        [alloc::format!("SET b 2 PXAT {at}")]
    );
    assert_eq!(
        propagated(&[], &["SETEX c 100 v"]),
        [alloc::format!("SET c v PXAT {at}")]
    );
    assert_eq!(
        propagated(&[], &["PSETEX d 100000 v"]),
        [alloc::format!("SET d v PXAT {at}")]
    );
    assert_eq!(
        propagated(&[], &["SET e v EXAT 2000000000"]),
        ["SET e v PXAT 2000000000000"]
    );
    assert_eq!(
        propagated(&[], &["set f v PXAT 2000000000000 GET"]),
        ["SET f v PXAT 2000000000000"]
    );
    assert_eq!(
        propagated(&["SET a 1"], &["expire a 100 NX"]),
        [alloc::format!("PEXPIREAT a {at} NX")]
    );
    assert_eq!(
        propagated(&["SET a 1"], &["EXPIREAT a 2000000000"]),
        ["PEXPIREAT a 2000000000000"]
    );
    assert_eq!(
        propagated(&["SET a 1"], &["GETEX a PX 100000"]),
        [alloc::format!("PEXPIREAT a {at}")]
    );
    assert_eq!(
        propagated(&["SET a 1 EX 10"], &["GETEX a PERSIST", "GETEX a"]),
        ["PERSIST a"]
    );
    // A time already past deletes the key: DEL (lazyfree-lazy-server-del no).
    assert_eq!(propagated(&["SET a 1"], &["EXPIRE a -1"]), ["DEL a"]);
    assert_eq!(propagated(&["SET a 1"], &["GETEX a EXAT 1"]), ["DEL a"]);
    // Refused conditions change nothing.
    assert!(propagated(&["SET a 1"], &["EXPIRE a 100 XX", "EXPIRE nokey 10"]).is_empty());
}

#[test]
fn set_drops_get_and_getset_is_a_set() {
    assert_eq!(
        propagated(&["SET k v"], &["set k w xx get keepttl"]),
        ["set k w xx keepttl"]
    );
    assert_eq!(propagated(&[], &["set k v nx get"]), ["set k v nx"]);
    assert_eq!(propagated(&[], &["getset k v"]), ["SET k v"]);
    assert_eq!(
        propagated(&["SET k v"], &["getdel k", "getdel k"]),
        ["DEL k"]
    );
}

#[test]
fn float_increments_propagate_their_result() {
    assert_eq!(
        propagated(&[], &["incrbyfloat f 1.5", "INCRBYFLOAT f 1e2"]),
        ["SET f 1.5 KEEPTTL", "SET f 101.5 KEEPTTL"]
    );
    assert_eq!(
        propagated(&["HSET h f 1"], &["HINCRBYFLOAT h f 1.10"]),
        ["HSET h f 2.1"]
    );
}

#[test]
fn spop_becomes_srem_and_a_whole_set_del() {
    let (mut e, c) = engine();
    run(&mut e, c, "SADD s a b c d e f");
    drained(&mut e);
    let Some(Reply::Bulk(m)) = run(&mut e, c, "SPOP s") else {
        panic!("a member")
    };
    assert_eq!(
        drained(&mut e),
        [alloc::format!("SREM s {}", String::from_utf8_lossy(&m))]
    );
    let Some(Reply::Set(two)) = run(&mut e, c, "SPOP s 2") else {
        panic!("members")
    };
    let mut want = vec![String::from("MULTI")];
    for r in &two {
        if let Reply::Bulk(m) = r {
            want.push(alloc::format!("SREM s {}", String::from_utf8_lossy(m)));
        }
    }
    want.push(String::from("EXEC"));
    assert_eq!(drained(&mut e), want);
    run(&mut e, c, "SPOP s 0");
    run(&mut e, c, "SPOP s 10");
    assert_eq!(drained(&mut e), ["DEL s"]);
}

#[test]
fn blocking_pops_served_at_once_propagate_as_plain_pops() {
    let setup = ["RPUSH l a b c d e f g h i j", "ZADD z 1 a 2 b 3 c 4 d 5 e"];
    assert_eq!(
        propagated(
            &setup,
            &[
                "BLPOP l 0",
                "BRPOP l 0",
                "BLMOVE l l2 LEFT right 0",
                "BRPOPLPUSH l l2 0",
                "BLMPOP 0 1 l left COUNT 2",
                "LMPOP 1 l2 RIGHT COUNT 5"
            ]
        ),
        [
            "LPOP l",
            "RPOP l",
            "LMOVE l l2 LEFT right",
            "RPOPLPUSH l l2",
            "LPOP l 2",
            "RPOP l2 2"
        ]
    );
    assert_eq!(
        propagated(
            &setup,
            &[
                "BZPOPMIN z 0",
                "BZPOPMAX z 0",
                "BZMPOP 0 1 z MIN COUNT 2",
                "ZMPOP 1 z MAX COUNT 9",
                "zpopmin z"
            ]
        ),
        ["ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN z 2", "ZPOPMAX z 1"]
    );
}

#[test]
fn a_client_served_later_propagates_its_pop_after_the_push() {
    let (mut e, c) = engine();
    let (b1, b2, b3, b4) = (
        e.connect(NOW),
        e.connect(NOW),
        e.connect(NOW),
        e.connect(NOW),
    );
    run(&mut e, b1, "BLPOP q1 0");
    run(&mut e, b2, "BLMOVE q2 d RIGHT LEFT 0");
    run(&mut e, b3, "BZPOPMIN zq 0");
    run(&mut e, b4, "BLMPOP 0 1 q3 RIGHT COUNT 5");
    run(&mut e, c, "RPUSH q1 a b");
    run(&mut e, c, "RPUSH q2 x");
    run(&mut e, c, "ZADD zq 1 a 2 b");
    run(&mut e, c, "RPUSH q3 a b c");
    assert_eq!(
        drained(&mut e),
        [
            "SELECT 0",
            "RPUSH q1 a b",
            "LPOP q1",
            "RPUSH q2 x",
            "LMOVE q2 d right left",
            "ZADD zq 1 a 2 b",
            "ZPOPMIN zq",
            "RPUSH q3 a b c",
            "RPOP q3 3"
        ]
    );
}

#[test]
fn transactions_are_wrapped_only_when_they_propagate_several_commands() {
    let (mut e, c) = engine();
    for l in [
        "MULTI",
        "SET k3 x",
        "GET k3",
        "EXEC",
        "MULTI",
        "RPUSH q c",
        "SELECT 2",
        "RPUSH q d",
        "EXEC",
        "MULTI",
        "GET x",
        "EXEC",
    ] {
        run(&mut e, c, l);
    }
    assert_eq!(
        drained(&mut e),
        [
            "SELECT 0",
            "SET k3 x",
            "MULTI",
            "RPUSH q c",
            "SELECT 2",
            "RPUSH q d",
            "EXEC"
        ]
    );
}

#[test]
fn expired_keys_are_deleted_as_del() {
    let (mut e, c) = engine();
    for l in [
        "SET k1 v PX 50",
        "SET k2 v PX 50",
        "SET k3 v PX 50",
        "SET k4 v PX 50",
        "SET k5 v PX 50",
    ] {
        run(&mut e, c, l);
    }
    drained(&mut e);
    let later = NOW + 100;
    e.execute(c, &[b"GET", b"k1"], later);
    e.execute(c, &[b"SET", b"k2", b"new"], later);
    e.execute(c, &[b"MGET", b"k3", b"k4"], later);
    assert_eq!(
        drained(&mut e),
        [
            "DEL k1",
            "MULTI",
            "DEL k2",
            "SET k2 new",
            "EXEC",
            "MULTI",
            "DEL k3",
            "DEL k4",
            "EXEC"
        ]
    );
    // Active expiry: one DEL per key, never wrapped.
    e.tick(later);
    assert_eq!(drained(&mut e), ["DEL k5"]);
}

#[test]
fn evicted_keys_are_units_of_their_own() {
    let (mut e, c) = engine();
    run(&mut e, c, "SET a 1");
    drained(&mut e);
    e.db_mut(0).remove(b"a");
    crate::propagate::evicted(&mut e, 0, b"a");
    assert_eq!(drained(&mut e), ["DEL a"]);
}

#[test]
fn restore_propagates_an_absolute_ttl() {
    let (mut e, c) = engine();
    run(&mut e, c, "SET a hello");
    let Some(Reply::Bulk(payload)) = run(&mut e, c, "DUMP a") else {
        panic!("a payload")
    };
    drained(&mut e);
    e.execute(c, &[b"RESTORE", b"b", b"0", &payload], NOW);
    e.execute(
        c,
        &[b"restore", b"c", b"100000", &payload, b"IDLETIME", b"5"],
        NOW,
    );
    e.execute(
        c,
        &[b"RESTORE", b"d", b"2000000000000", &payload, b"ABSTTL"],
        NOW,
    );
    // Already expired: nothing, unless it replaced a key, which then is deleted.
    e.execute(c, &[b"RESTORE", b"e", b"1", &payload, b"ABSTTL"], NOW);
    e.execute(
        c,
        &[b"RESTORE", b"a", b"1", &payload, b"ABSTTL", b"REPLACE"],
        NOW,
    );
    let p = String::from_utf8_lossy(&payload).into_owned();
    assert_eq!(
        drained(&mut e),
        [
            alloc::format!("RESTORE b 0 {p}"),
            alloc::format!("restore c {} {p} IDLETIME 5 ABSTTL", NOW + 100_000),
            alloc::format!("RESTORE d 2000000000000 {p} ABSTTL"),
            String::from("DEL a"),
        ]
    );
}

#[test]
fn flushes_are_propagated_even_on_empty_databases() {
    assert_eq!(
        propagated(&[], &["FLUSHALL", "FLUSHDB", "flushall"]),
        ["FLUSHALL", "FLUSHDB", "flushall"]
    );
}

#[test]
fn xadd_propagates_its_id_and_exact_trims() {
    let setup: Vec<String> = (1..=7)
        .map(|i| alloc::format!("XADD st {i}-0 a {i}"))
        .collect();
    let setup: Vec<&str> = setup.iter().map(String::as_str).collect();
    assert_eq!(
        propagated(
            &setup,
            &[
                "XADD st MAXLEN ~ 2 LIMIT 10 8-0 a 4",
                "XADD st MINID ~ 3 9-0 a 4",
                "XTRIM st MINID 5",
                "XTRIM st MAXLEN 100"
            ]
        ),
        [
            "XADD st MAXLEN = 8 LIMIT 10 8-0 a 4",
            "XADD st MINID = 1-0 9-0 a 4",
            "XTRIM st MINID 5"
        ]
    );
    assert_eq!(
        propagated(&[], &["XADD s * a 1", "XADD s 1700000000000-* b 2"]),
        ["XADD s 1700000000000-0 a 1", "XADD s 1700000000000-1 b 2"]
    );
    assert_eq!(
        propagated(&setup, &["XTRIM st MINID ~ 100"]),
        ["XTRIM st MINID = 18446744073709551615-18446744073709551615"]
    );
}

#[test]
fn group_reads_propagate_as_claims() {
    let setup = [
        "XADD st 1-0 a 1",
        "XADD st 2-0 a 2",
        "XADD st 3-0 a 3",
        "XGROUP CREATE st g 0",
    ];
    let t = NOW;
    assert_eq!(
        propagated(
            &setup,
            &[
                "XREADGROUP GROUP g c1 COUNT 2 STREAMS st >",
                "XREADGROUP GROUP g c1 STREAMS st 0"
            ]
        ),
        [
            String::from("MULTI"),
            alloc::format!("XCLAIM st g c1 0 1-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 1-0"),
            alloc::format!("XCLAIM st g c1 0 2-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 2-0"),
            String::from("EXEC"),
        ]
    );
    assert_eq!(
        propagated(
            &setup,
            &["XREADGROUP GROUP g c2 NOACK COUNT 1 STREAMS st >"]
        ),
        [
            "MULTI",
            "XGROUP CREATECONSUMER st g c2",
            "XGROUP SETID st g 1-0 ENTRIESREAD 1",
            "EXEC"
        ]
    );
    assert_eq!(
        propagated(
            &setup,
            &[
                "XREADGROUP GROUP g c1 STREAMS st >",
                "XCLAIM st g c9 0 1-0 2 JUSTID",
                "XCLAIM st g c9 0 9-0 LASTID 500-0"
            ]
        ),
        [
            String::from("MULTI"),
            alloc::format!("XCLAIM st g c1 0 1-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 1-0"),
            alloc::format!("XCLAIM st g c1 0 2-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 2-0"),
            alloc::format!("XCLAIM st g c1 0 3-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 3-0"),
            String::from("EXEC"),
            String::from("MULTI"),
            alloc::format!("XCLAIM st g c9 0 1-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 3-0"),
            alloc::format!("XCLAIM st g c9 0 2 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 3-0"),
            String::from("EXEC"),
            String::from("XGROUP SETID st g 500-0 ENTRIESREAD 3"),
        ]
    );
}

#[test]
fn xautoclaim_claims_and_drops_deleted_entries() {
    let setup = [
        "XADD st 1-0 a 1",
        "XADD st 2-0 a 2",
        "XGROUP CREATE st g 0",
        "XREADGROUP GROUP g x STREAMS st >",
        "XDEL st 1-0",
    ];
    let t = NOW;
    assert_eq!(
        propagated(&setup, &["XAUTOCLAIM st g y 0 0-0"]),
        [
            String::from("MULTI"),
            alloc::format!("XCLAIM st g x 0 1-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 2-0"),
            alloc::format!("XCLAIM st g y 0 2-0 TIME {t} RETRYCOUNT 2 FORCE JUSTID LASTID 2-0"),
            String::from("EXEC"),
        ]
    );
}

#[test]
fn a_blocked_group_read_served_later_claims() {
    let (mut e, c) = engine();
    let b = e.connect(NOW);
    run(&mut e, c, "XGROUP CREATE st g $ MKSTREAM");
    drained(&mut e);
    assert_eq!(
        run(&mut e, b, "XREADGROUP GROUP g c BLOCK 0 STREAMS st >"),
        None
    );
    run(&mut e, c, "XADD st 5-0 f v");
    assert_eq!(
        drained(&mut e),
        [
            String::from("XADD st 5-0 f v"),
            alloc::format!("XCLAIM st g c 0 5-0 TIME {NOW} RETRYCOUNT 1 FORCE JUSTID LASTID 5-0")
        ]
    );
}
