//! redis-cli 7.0.15's output formatting: `cliFormatReplyTTY` (a terminal, or `--no-raw`) and
//! `cliFormatReplyRaw` (`--raw`, or stdout not a terminal), reproduced byte for byte.
//!
//! The input is the reply as a RESP3 client sees it; for what a RESP2 redis-cli prints, format
//! [`crate::resp::lower_resp2`] of it. Errors are shown as they arrive over the wire, i.e. with CR and LF
//! replaced by spaces as [`Reply::encode`] does, so formatting a reply and formatting
//! `parse_reply(reply.to_resp(..))` always agree.
//!
//! Two replies redis-cli 7.0.15 cannot print at all: a big number makes it exit with "Unknown reply type:
//! 13", and an attribute with a protocol error. Big numbers are shown here as later redis-cli versions show
//! them (`(big number) 123`, raw `123`); attributes never reach a [`Reply`].

use alloc::string::String;
use alloc::vec::Vec;

use crate::reply::Reply;
use crate::util::fmt_double;

/// What an interactive redis-cli prints after running `argv` on a connection speaking `resp`:
/// the RESP2 view of the reply when the connection is RESP2, raw for the commands redis-cli always prints raw.
pub fn format_console<A: AsRef<[u8]>>(argv: &[A], reply: &Reply, resp: u8) -> String {
    let lowered;
    let seen = if resp >= 3 {
        reply
    } else {
        lowered = crate::resp::lower_resp2(reply);
        &lowered
    };
    let bytes = if cli_forces_raw(argv) { format_forced_raw(seen) } else { format_tty_bytes(seen) };
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// What redis-cli prints for `reply` on a terminal, final newline included.
///
/// The text is what redis-cli writes, as UTF-8; only a verbatim string holding invalid UTF-8 (printed raw
/// by redis-cli) is altered, with U+FFFD. [`format_tty_bytes`] gives the exact bytes.
pub fn format_tty(reply: &Reply) -> String {
    let bytes = format_tty_bytes(reply);
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The exact bytes redis-cli prints for `reply` on a terminal.
pub fn format_tty_bytes(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    tty(reply, b"", &mut out);
    out
}

/// What `redis-cli --raw` prints for `reply`: `cliFormatReplyRaw` plus the command delimiter `\n`.
/// Bytes, since strings are printed unescaped.
pub fn format_raw(reply: &Reply) -> Vec<u8> {
    let mut out = format_forced_raw(reply);
    out.push(b'\n');
    out
}

/// What redis-cli prints, in either mode, for the commands where [`cli_forces_raw`] holds: the raw form
/// without the trailing delimiter (those replies end with their own newline).
pub fn format_forced_raw(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    raw(reply, &mut out);
    out
}

/// Whether redis-cli prints this command's reply raw even on a terminal (`cliSendCommand`'s list:
/// INFO, LOLWUT, CLIENT LIST/INFO, MEMORY DOCTOR/MALLOC-STATS, LATENCY DOCTOR/GRAPH, ...).
pub fn cli_forces_raw<A: AsRef<[u8]>>(argv: &[A]) -> bool {
    let arg = |i: usize| argv.get(i).map(|a| a.as_ref());
    let is = |i: usize, word: &str| arg(i).is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()));
    let argc = argv.len();
    is(0, "info")
        || is(0, "lolwut")
        || (is(0, "debug") && (is(1, "htstats") || is(1, "htstats-key")))
        || (is(0, "memory") && (is(1, "malloc-stats") || is(1, "doctor")))
        || (argc == 2 && is(0, "cluster") && (is(1, "nodes") || is(1, "info")))
        || (is(0, "client") && (is(1, "list") || is(1, "info")))
        || (argc == 3 && is(0, "latency") && is(1, "graph"))
        || (argc == 2 && is(0, "latency") && is(1, "doctor"))
        || (is(0, "proxy") && is(1, "info"))
}

/// `sdscatrepr`: a double-quoted string with C escapes; bytes outside ASCII's printable range (C-locale
/// `isprint`) as `\xHH`.
pub fn repr(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    repr_into(bytes, &mut out);
    // Every byte written is printable ASCII.
    String::from_utf8_lossy(&out).into_owned()
}

fn repr_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in bytes {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(alloc::format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// An error's text as it arrives: Redis puts CR and LF on the wire as spaces.
fn error_text(reply_error: &crate::error::Error) -> Vec<u8> {
    alloc::format!("{reply_error}").bytes().map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }).collect()
}

/// redis-cli prints status and error texts with `%s`/`strlen`, so they stop at a NUL byte.
fn c_string(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    bytes.get(..end).unwrap_or(bytes)
}

fn tty(reply: &Reply, prefix: &[u8], out: &mut Vec<u8>) {
    match reply {
        Reply::Error(e) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(c_string(&error_text(e)));
            out.push(b'\n');
        }
        Reply::Status(s) => {
            out.extend_from_slice(c_string(s.as_bytes()));
            out.push(b'\n');
        }
        Reply::Integer(i) => out.extend_from_slice(alloc::format!("(integer) {i}\n").as_bytes()),
        Reply::Double(d) => out.extend_from_slice(alloc::format!("(double) {}\n", fmt_double(*d)).as_bytes()),
        Reply::DoubleText(t) => out.extend_from_slice(alloc::format!("(double) {t}\n").as_bytes()),
        Reply::Bulk(b) => {
            repr_into(b, out);
            out.push(b'\n');
        }
        // Verbatim strings (INFO, CLIENT LIST under RESP3) are meant to be read as they are.
        Reply::Verbatim(_, text) => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Reply::Nil | Reply::NilArray | Reply::NullOf(_) => out.extend_from_slice(b"(nil)\n"),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Reply::BigNumber(n) => out.extend_from_slice(alloc::format!("(big number) {n}\n").as_bytes()),
        Reply::Array(items) => tty_list(items, b')', "(empty array)\n", prefix, out),
        Reply::Set(items) => tty_list(items, b'~', "(empty set)\n", prefix, out),
        Reply::Push(items) => match invalidated_keys(items).filter(|_| prefix.is_empty()) {
            Some(keys) => tty_invalidate(keys, out),
            None => tty_list(items, b')', "(empty push)\n", prefix, out),
        },
        Reply::Map(pairs) => tty_map(pairs, prefix, out),
    }
}

/// The keys of a client-side caching invalidation push (`invalidate` and an array of keys), which redis-cli's
/// push handler prints its own way (`isInvalidateReply`); a flush's null list is printed as any push.
fn invalidated_keys(items: &[Reply]) -> Option<&[Reply]> {
    match items {
        [Reply::Bulk(kind), Reply::Array(keys)] if kind.as_slice() == b"invalidate" => Some(keys),
        _ => None,
    }
}

/// `-> invalidate: 'k1', 'k2'`, as redis-cli's cliFormatInvalidateTTY: each key as a C string (up to a NUL) in
/// single quotes, unescaped.
fn tty_invalidate(keys: &[Reply], out: &mut Vec<u8>) {
    out.extend_from_slice(b"-> invalidate: ");
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.push(b'\'');
        if let Reply::Bulk(k) = key {
            out.extend_from_slice(c_string(k));
        }
        out.push(b'\'');
    }
    out.push(b'\n');
}

/// The width of the largest 1-based index, and the prefix nested lines get: the parent's plus that width
/// plus two (for the separator and its space).
fn index_layout(count: usize, prefix: &[u8]) -> (usize, Vec<u8>) {
    let width = digits(count);
    let mut child = prefix.to_vec();
    child.resize(prefix.len() + width + 2, b' ');
    (width, child)
}

/// The `%*u` index and separator; every entry but the first is preceded by the prefix, because the parent
/// already printed the first line's indentation (its own index).
fn entry_start(i: usize, width: usize, sep: u8, prefix: &[u8], out: &mut Vec<u8>) {
    if i > 0 {
        out.extend_from_slice(prefix);
    }
    out.extend_from_slice(alloc::format!("{:>width$}{} ", i + 1, char::from(sep)).as_bytes());
}

fn tty_list(items: &[Reply], sep: u8, empty: &str, prefix: &[u8], out: &mut Vec<u8>) {
    if items.is_empty() {
        out.extend_from_slice(empty.as_bytes());
        return;
    }
    let (width, child) = index_layout(items.len(), prefix);
    for (i, item) in items.iter().enumerate() {
        entry_start(i, width, sep, prefix, out);
        tty(item, &child, out);
    }
}

fn tty_map(pairs: &[(Reply, Reply)], prefix: &[u8], out: &mut Vec<u8>) {
    if pairs.is_empty() {
        out.extend_from_slice(b"(empty hash)\n");
        return;
    }
    let (width, child) = index_layout(pairs.len(), prefix);
    for (i, (key, value)) in pairs.iter().enumerate() {
        entry_start(i, width, b'#', prefix, out);
        tty(key, &child, out);
        // redis-cli drops the key's final newline (`sdsrange(out,0,-2)`) to put the value on the same line.
        out.pop();
        out.extend_from_slice(b" => ");
        if is_multiline(value) {
            out.push(b'\n');
            out.extend_from_slice(&child);
        }
        tty(value, &child, out);
    }
}

/// `cliIsMultilineValueTTY`: a map value that prints on several lines starts on its own line.
fn is_multiline(reply: &Reply) -> bool {
    match reply {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => match items.as_slice() {
            [] => false,
            [only] => is_multiline(only),
            _ => true,
        },
        Reply::Map(pairs) => match pairs.as_slice() {
            [] => false,
            [(_, only)] => is_multiline(only),
            _ => true,
        },
        _ => false,
    }
}

fn raw(reply: &Reply, out: &mut Vec<u8>) {
    match reply {
        Reply::Nil | Reply::NilArray | Reply::NullOf(_) => {}
        Reply::Error(e) => {
            out.extend_from_slice(&error_text(e));
            out.push(b'\n');
        }
        Reply::Status(s) => out.extend_from_slice(s.as_bytes()),
        Reply::Bulk(b) | Reply::Verbatim(_, b) => out.extend_from_slice(b),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Reply::Integer(i) => out.extend_from_slice(alloc::format!("{i}").as_bytes()),
        Reply::Double(d) => out.extend_from_slice(fmt_double(*d).as_bytes()),
        Reply::BigNumber(n) | Reply::DoubleText(n) => out.extend_from_slice(n.as_bytes()),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                raw(item, out);
            }
        }
        Reply::Map(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                raw(key, out);
                out.push(b' ');
                raw(value, out);
            }
        }
    }
}

/// The number of decimal digits of a count, as redis-cli's `do { idxlen++; i /= 10; } while (i)`.
fn digits(mut n: usize) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::resp::{lower_resp2, parse_reply};
    use alloc::vec;

    /// One redis-cli run captured through a recording proxy (see testdata/capture_redis_cli.py).
    struct Case {
        name: &'static str,
        /// Every byte the server sent on that connection: HELLO 3's reply first under `-3`.
        wire: &'static [u8],
        /// `--no-raw` (true) or `--raw` (false).
        tty: bool,
        /// What redis-cli printed.
        output: &'static [u8],
    }

    const CASES: &[Case] = include!("../testdata/redis_cli_7_0_15.rs");

    fn show(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    /// Client-side caching's invalidations as redis-cli 7.0.15 printed them on a terminal (`redis-cli -3`,
    /// CLIENT TRACKING on BCAST, MSET a 1 b 2, then FLUSHALL): its push handler's own line for a list of keys,
    /// the usual layout for a flush's null.
    #[test]
    fn invalidations_print_as_redis_cli_prints_them() {
        let push = |keys: Reply| Reply::Push(vec![Reply::bulk_str("invalidate"), keys]);
        let keys = push(Reply::Array(vec![Reply::bulk_str("a"), Reply::bulk_str("b")]));
        assert_eq!(show(&format_tty_bytes(&keys)), "-> invalidate: 'a', 'b'\n");
        assert_eq!(show(&format_tty_bytes(&push(Reply::Array(vec![Reply::bulk_str("k")])))), "-> invalidate: 'k'\n");
        assert_eq!(show(&format_tty_bytes(&push(Reply::Nil))), "1) \"invalidate\"\n2) (nil)\n");
        // Any other push keeps the list layout.
        let message = Reply::Push(vec![Reply::bulk_str("message"), Reply::bulk_str("ch"), Reply::bulk_str("hi")]);
        assert_eq!(show(&format_tty_bytes(&message)), "1) \"message\"\n2) \"ch\"\n3) \"hi\"\n");
    }

    #[test]
    fn matches_captured_redis_cli_output() {
        assert!(CASES.len() > 100);
        for case in CASES {
            let mut pos = 0;
            let mut last = None;
            while pos < case.wire.len() {
                match parse_reply(case.wire.get(pos..).unwrap_or_default()) {
                    Ok(Some((reply, used))) => {
                        last = Some(reply);
                        pos += used;
                    }
                    other => panic!("{}: wire does not parse: {other:?}", case.name),
                }
            }
            let Some(reply) = last else { panic!("{}: no reply", case.name) };
            let got = if case.tty { format_tty_bytes(&reply) } else { format_raw(&reply) };
            assert_eq!(show(&got), show(case.output), "{}", case.name);
            assert_eq!(got, case.output, "{}", case.name);
        }
    }

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|s| Reply::bulk_str(s)).collect())
    }

    // The expected texts below are copied from redis-cli 7.0.15's output (also in the captured cases).
    #[test]
    fn scalars() {
        assert_eq!(format_tty(&Reply::ok()), "OK\n");
        assert_eq!(format_tty(&Reply::bulk_str("v")), "\"v\"\n");
        assert_eq!(format_tty(&Reply::Nil), "(nil)\n");
        assert_eq!(format_tty(&Reply::Integer(42)), "(integer) 42\n");
        assert_eq!(
            format_tty(&Reply::Error(Error::NotInteger)),
            "(error) ERR value is not an integer or out of range\n"
        );
        assert_eq!(format_raw(&Reply::Error(Error::NotInteger)), b"ERR value is not an integer or out of range\n\n");
        assert_eq!(format_raw(&Reply::Nil), b"\n");
        assert_eq!(format_tty(&Reply::bulk(b"\xe2\x82\xac")), "\"\\xe2\\x82\\xac\"\n");
        assert_eq!(format_raw(&Reply::bulk(b"\xe2\x82\xac")), b"\xe2\x82\xac\n");
        assert_eq!(
            format_tty(&Reply::bulk(b"q\"b\\s\n\r\t\x07\x08\x01\x7f\xff ~")),
            "\"q\\\"b\\\\s\\n\\r\\t\\a\\b\\x01\\x7f\\xff ~\"\n"
        );
        assert_eq!(format_tty(&Reply::Double(1.1)), "(double) 1.1000000000000001\n");
        assert_eq!(format_tty(&lower_resp2(&Reply::Double(1.5))), "\"1.5\"\n");
        assert_eq!(format_tty(&Reply::Bool(true)), "(true)\n");
        assert_eq!(format_raw(&Reply::Bool(false)), b"(false)\n");
        assert_eq!(format_tty(&Reply::Verbatim("txt", b"line1\nline2".to_vec())), "line1\nline2\n");
    }

    #[test]
    fn arrays() {
        assert_eq!(format_tty(&Reply::Array(vec![])), "(empty array)\n");
        assert_eq!(format_tty(&Reply::Set(vec![])), "(empty set)\n");
        assert_eq!(format_tty(&Reply::Map(vec![])), "(empty hash)\n");
        assert_eq!(format_tty(&bulks(&["a"])), "1) \"a\"\n");
        assert_eq!(format_tty(&bulks(&["a", "b", "c"])), "1) \"a\"\n2) \"b\"\n3) \"c\"\n");
        let twelve: Vec<String> = (1..=12).map(|i| alloc::format!("{i}")).collect();
        let twelve: Vec<&str> = twelve.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            format_tty(&bulks(&twelve)),
            " 1) \"1\"\n 2) \"2\"\n 3) \"3\"\n 4) \"4\"\n 5) \"5\"\n 6) \"6\"\n 7) \"7\"\n 8) \"8\"\n 9) \"9\"\n\
             10) \"10\"\n11) \"11\"\n12) \"12\"\n"
        );
        assert_eq!(format_raw(&bulks(&["a", "b"])), b"a\nb\n");
        // XRANGE s - + with entries 1-1 {f: v} and 2-1 {f1: v1, f2: v2}.
        let xrange = Reply::Array(vec![
            Reply::Array(vec![Reply::bulk_str("1-1"), bulks(&["f", "v"])]),
            Reply::Array(vec![Reply::bulk_str("2-1"), bulks(&["f1", "v1", "f2", "v2"])]),
        ]);
        assert_eq!(
            format_tty(&xrange),
            "1) 1) \"1-1\"\n   2) 1) \"f\"\n      2) \"v\"\n2) 1) \"2-1\"\n   2) 1) \"f1\"\n      2) \"v1\"\n      \
             3) \"f2\"\n      4) \"v2\"\n"
        );
        assert_eq!(format_raw(&xrange), b"1-1\nf\nv\n2-1\nf1\nv1\nf2\nv2\n");
    }

    #[test]
    fn maps() {
        // EVAL "return {map={...}}" under -3, as redis-cli 7.0.15 printed it.
        let map = Reply::Map(vec![
            (Reply::bulk_str("a"), Reply::Array(vec![Reply::Integer(1)])),
            (Reply::bulk_str("c"), Reply::Array(vec![])),
            (
                Reply::bulk_str("b"),
                Reply::Array(vec![Reply::Integer(1), Reply::Array(vec![Reply::Integer(2), Reply::Integer(3)])]),
            ),
            (
                Reply::bulk_str("e"),
                Reply::Map(vec![
                    (Reply::bulk_str("z"), Reply::bulk_str("w")),
                    (Reply::bulk_str("x"), Reply::bulk_str("y")),
                ]),
            ),
            (Reply::bulk_str("d"), Reply::Map(vec![(Reply::bulk_str("x"), Reply::bulk_str("y"))])),
            (Reply::bulk_str("f"), Reply::Array(vec![Reply::Array(vec![])])),
        ]);
        assert_eq!(
            format_tty(&map),
            "1# \"a\" => 1) (integer) 1\n2# \"c\" => (empty array)\n3# \"b\" => \n   1) (integer) 1\n   \
             2) 1) (integer) 2\n      2) (integer) 3\n4# \"e\" => \n   1# \"z\" => \"w\"\n   2# \"x\" => \"y\"\n\
             5# \"d\" => 1# \"x\" => \"y\"\n6# \"f\" => 1) (empty array)\n"
        );
        assert_eq!(format_raw(&map), b"a 1\nc \nb 1\n2\n3\ne z w\nx y\nd x y\nf \n");
        assert_eq!(
            format_tty(&lower_resp2(&Reply::Map(vec![(Reply::bulk_str("k"), Reply::Set(vec![Reply::Integer(1)]))]))),
            "1) \"k\"\n2) 1) (integer) 1\n"
        );
    }

    #[test]
    fn forced_raw_commands() {
        assert!(cli_forces_raw(&["INFO", "server"]));
        assert!(cli_forces_raw(&["client", "LIST", "ID", "1"]));
        assert!(cli_forces_raw(&["latency", "doctor"]));
        assert!(!cli_forces_raw(&["latency", "doctor", "x"]));
        assert!(!cli_forces_raw(&["GET", "info"]));
        assert!(!cli_forces_raw::<&str>(&[]));
        assert_eq!(format_forced_raw(&Reply::bulk_str("id=1 resp=2\n")), b"id=1 resp=2\n");
        assert_eq!(format_forced_raw(&Reply::Error(Error::other("ERR no"))), b"ERR no\n");
    }

    #[test]
    fn error_texts_are_shown_as_sent() {
        assert_eq!(format_tty(&Reply::Error(Error::other("ERR a\r\nb"))), "(error) ERR a  b\n");
        assert_eq!(format_tty(&Reply::Status("A\0B".into())), "A\n");
        assert_eq!(format_raw(&Reply::Status("A\0B".into())), b"A\0B\n");
    }
}
