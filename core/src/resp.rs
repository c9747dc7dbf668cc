//! RESP on the wire: the server's incremental request parser and a client-side reply parser.
//!
//! [`parse_command`] reproduces Redis 7.0.15's `processInlineBuffer` / `processMultibulkBuffer`
//! (src/networking.c): the same limits, the same error texts, and the same leniencies, because clients in
//! the wild depend on them (the byte after a count line's `\r` and the two bytes after a bulk payload are
//! skipped unchecked, and a NUL byte stops the `strchr` line search).
//!
//! Both parsers are stateless: they parse one message from the front of the buffer and report how many
//! bytes it used, or `Ok(None)` when the message is not complete yet. Redis keeps partial state between
//! reads instead; re-scanning gives the same answers because every check depends only on the bytes.
//! Nothing is preallocated from a length the peer announced before those bytes have arrived.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::Error;
use crate::reply::Reply;
use crate::util::parse_i64;

/// `PROTO_INLINE_MAX_SIZE`: the longest inline request, count line or bulk length line Redis waits for.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Redis sizes `argv` for at most this many arguments up front, growing it as they arrive.
const ARGV_PREALLOC_MAX: usize = 1024;

/// Aggregates nested deeper than this are refused by [`parse_reply`], so neither the recursive parser nor
/// dropping or formatting the result can exhaust the stack (a wasm stack is small).
pub const MAX_REPLY_DEPTH: usize = 256;

/// The request limits a server applies; `Default` is Redis 7.0's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len` (default 512 MiB): longer bulk arguments are a protocol error.
    pub proto_max_bulk_len: i64,
    /// The largest `*N` accepted. Redis 7.0.15 accepts up to `INT_MAX` (the 1024*1024 cap is from older versions).
    pub max_multibulk_len: i64,
    /// True while the connection still has to AUTH: Redis then refuses `*N` above 10 and bulks above 16384,
    /// so an unauthenticated peer cannot make it buffer much.
    pub auth_required: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { proto_max_bulk_len: 512 * 1024 * 1024, max_multibulk_len: i32::MAX as i64, auth_required: false }
    }
}

/// A malformed message. For requests, Redis answers `-ERR <Display>` and closes the connection
/// ([`ProtoError::reply_bytes`] gives the exact bytes). The reply-side variants are this crate's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtoError {
    TooBigInlineRequest,
    UnbalancedQuotes,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    TooBigMbulkCountString,
    /// The byte found where a bulk argument's `$` should be.
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
    TooBigBulkCountString,
    /// parse_reply: a reply started with a byte that is no RESP2/RESP3 type.
    UnknownReplyType(u8),
    /// parse_reply: a malformed reply; the text says which part.
    BadReply(&'static str),
    /// parse_reply: aggregates nested deeper than [`MAX_REPLY_DEPTH`].
    TooDeep,
}

impl ProtoError {
    /// The error text exactly as Redis sends it after `-ERR ` (which may hold a non-UTF-8 byte).
    pub fn message_bytes(&self) -> Vec<u8> {
        let text = match self {
            ProtoError::TooBigInlineRequest => "Protocol error: too big inline request",
            ProtoError::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            ProtoError::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtoError::UnauthenticatedMultibulkLength => "Protocol error: unauthenticated multibulk length",
            ProtoError::TooBigMbulkCountString => "Protocol error: too big mbulk count string",
            ProtoError::ExpectedDollar(got) => {
                let mut out = b"Protocol error: expected '$', got '".to_vec();
                // addReplyErrorFormat turns CR and LF into spaces so the error stays one line.
                out.push(if matches!(got, b'\r' | b'\n') { b' ' } else { *got });
                out.push(b'\'');
                return out;
            }
            ProtoError::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtoError::UnauthenticatedBulkLength => "Protocol error: unauthenticated bulk length",
            ProtoError::TooBigBulkCountString => "Protocol error: too big bulk count string",
            ProtoError::UnknownReplyType(b) => {
                // hiredis's wording, with the byte escaped so the text stays printable.
                let shown = match b {
                    b'\r' => String::from("\\r"),
                    b'\n' => String::from("\\n"),
                    0x20..=0x7e => String::from(char::from(*b)),
                    _ => alloc::format!("\\x{b:02x}"),
                };
                return alloc::format!("Protocol error, got \"{shown}\" as reply type byte").into_bytes();
            }
            ProtoError::BadReply(what) => *what,
            ProtoError::TooDeep => "Protocol error: reply nested too deeply",
        };
        text.as_bytes().to_vec()
    }

    /// The whole reply Redis writes before closing the connection: `-ERR Protocol error: ...\r\n`.
    pub fn reply_bytes(&self) -> Vec<u8> {
        let mut out = b"-ERR ".to_vec();
        out.extend_from_slice(&self.message_bytes());
        out.extend_from_slice(b"\r\n");
        out
    }
}

impl fmt::Display for ProtoError {
    /// The text after `-ERR `; a non-UTF-8 byte (only possible in `ExpectedDollar`) shows as U+FFFD.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.message_bytes()))
    }
}

/// One parsed request: its arguments and how many bytes of the buffer it used.
pub type Parsed = (Vec<Vec<u8>>, usize);

/// One request as [`parse_request`] found it, without copying a multibulk request's arguments.
#[derive(Debug, PartialEq)]
pub enum Request {
    /// A multibulk request of `used` bytes: its arguments are `buf[start..end]` for each span pushed.
    Spans { used: usize },
    /// An inline request (a typed line), whose arguments are unquoted and unescaped, so owned.
    Inline(Parsed),
}

/// Parses one request from the front of `buf`.
///
/// `Ok(None)`: more bytes are needed. `Ok(Some((argv, consumed)))`: drop `consumed` bytes; an empty `argv`
/// (blank inline line, `*0`, `*-1`) is no command and is skipped. `Err`: reply and close the connection.
pub fn parse_command(buf: &[u8], limits: &Limits) -> Result<Option<Parsed>, ProtoError> {
    let mut spans = Vec::new();
    Ok(match parse_request(buf, limits, &mut spans)? {
        None => None,
        Some(Request::Inline(parsed)) => Some(parsed),
        Some(Request::Spans { used }) => {
            Some((spans.iter().map(|&(s, e)| buf.get(s..e).unwrap_or_default().to_vec()).collect(), used))
        }
    })
}

/// [`parse_command`] for a server: a multibulk request's arguments are left in `buf` and their spans pushed to
/// `spans` (cleared first), so the common request costs no allocation; the outcomes and errors are the same.
pub fn parse_request(buf: &[u8], limits: &Limits, spans: &mut Vec<(usize, usize)>) -> Result<Option<Request>, ProtoError> {
    spans.clear();
    match buf.first() {
        None => Ok(None),
        Some(b'*') => Ok(parse_multibulk(buf, limits, spans)?.map(|used| Request::Spans { used })),
        Some(_) => Ok(parse_inline(buf)?.map(Request::Inline)),
    }
}

/// The index of the first `needle` at or after `from`, with `strchr`'s behaviour on Redis's NUL-terminated
/// query buffer: a NUL byte before it means "not found".
fn strchr(buf: &[u8], from: usize, needle: u8) -> Option<usize> {
    let rest = buf.get(from..)?;
    let i = rest.iter().position(|&c| c == needle || c == 0)?;
    match rest.get(i) {
        Some(&c) if c == needle => Some(from + i),
        _ => None,
    }
}

fn parse_inline(buf: &[u8]) -> Result<Option<Parsed>, ProtoError> {
    let Some(newline) = strchr(buf, 0, b'\n') else {
        return if buf.len() > PROTO_INLINE_MAX_SIZE { Err(ProtoError::TooBigInlineRequest) } else { Ok(None) };
    };
    // "\r\n" and a lone "\n" both end the line.
    let line_end = match newline.checked_sub(1) {
        Some(before) if buf.get(before) == Some(&b'\r') => before,
        _ => newline,
    };
    let line = buf.get(..line_end).unwrap_or_default();
    let argv = crate::tokenize::split_args(line).map_err(|_| ProtoError::UnbalancedQuotes)?;
    Ok(Some((argv, newline + 1)))
}

/// A count or length line starting at `start` (the `*` or `$`): the index of its `\r`, or `None` when
/// incomplete. Redis only requires one more byte after the `\r` and never checks it is `\n`.
fn count_line(buf: &[u8], start: usize, too_big: ProtoError) -> Result<Option<usize>, ProtoError> {
    let Some(cr) = strchr(buf, start, b'\r') else {
        let pending = buf.len().saturating_sub(start);
        return if pending > PROTO_INLINE_MAX_SIZE { Err(too_big) } else { Ok(None) };
    };
    if cr.saturating_add(2) > buf.len() {
        return Ok(None);
    }
    Ok(Some(cr))
}

/// The bytes used by a complete multibulk request, its arguments' spans pushed to `spans`.
fn parse_multibulk(buf: &[u8], limits: &Limits, spans: &mut Vec<(usize, usize)>) -> Result<Option<usize>, ProtoError> {
    let Some(cr) = count_line(buf, 0, ProtoError::TooBigMbulkCountString)? else { return Ok(None) };
    let count = buf.get(1..cr).and_then(parse_i64);
    let count = match count {
        Some(n) if n <= limits.max_multibulk_len => n,
        _ => return Err(ProtoError::InvalidMultibulkLength),
    };
    if count > 10 && limits.auth_required {
        return Err(ProtoError::UnauthenticatedMultibulkLength);
    }
    let mut pos = cr + 2;
    if count <= 0 {
        // `*0` and every negative count are an empty command.
        return Ok(Some(pos));
    }
    let count = usize::try_from(count).map_err(|_| ProtoError::InvalidMultibulkLength)?;
    spans.reserve(count.min(ARGV_PREALLOC_MAX));
    for _ in 0..count {
        let Some(cr) = count_line(buf, pos, ProtoError::TooBigBulkCountString)? else { return Ok(None) };
        // count_line found a `\r` at or after `pos`, so this byte exists.
        let first = buf.get(pos).copied().unwrap_or(b'\r');
        if first != b'$' {
            return Err(ProtoError::ExpectedDollar(first));
        }
        let len = match buf.get(pos + 1..cr).and_then(parse_i64) {
            Some(n) if n >= 0 && n <= limits.proto_max_bulk_len => n,
            _ => return Err(ProtoError::InvalidBulkLength),
        };
        if len > 16384 && limits.auth_required {
            return Err(ProtoError::UnauthenticatedBulkLength);
        }
        pos = cr + 2;
        let len = usize::try_from(len).map_err(|_| ProtoError::InvalidBulkLength)?;
        // The payload is followed by two bytes Redis skips without looking at them.
        let end = pos.checked_add(len).ok_or(ProtoError::InvalidBulkLength)?;
        if end.saturating_add(2) > buf.len() {
            return Ok(None);
        }
        spans.push((pos, end));
        pos = end + 2;
    }
    Ok(Some(pos))
}

/// Parses one RESP2 or RESP3 reply from the front of `buf` (what a client reads from a real server).
///
/// `Ok(None)`: incomplete. Errors (`-` and `!`) become `Reply::Error(Error::Other(text))`; `$-1`, `*-1`
/// and `_` become `Nil`, `NilArray` and `Nil`; attributes (`|`) are read and dropped. Verbatim strings keep
/// the `txt` and `mkd` formats (the only ones RESP3 defines); any other format yields a plain `Bulk`,
/// because `Reply::Verbatim` can only hold a static format name.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ProtoError> {
    parse_value(buf, 0, 0)
}

/// The line starting at `pos` up to its `\r\n`, and the index after that.
fn reply_line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let i = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((rest.get(..i)?, pos + i + 2))
}

fn bad(what: &'static str) -> ProtoError {
    ProtoError::BadReply(what)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The payload of a `$`/`=`/`!` blob whose length line is `len_text`, starting after that line.
fn blob<'a>(buf: &'a [u8], len_text: &[u8], start: usize) -> Result<Option<(&'a [u8], usize)>, ProtoError> {
    let len = parse_i64(len_text).and_then(|n| usize::try_from(n).ok()).ok_or(bad("Bad blob length"))?;
    let end = start.checked_add(len).ok_or(bad("Bad blob length"))?;
    let Some(tail) = buf.get(end..end.saturating_add(2)) else { return Ok(None) };
    if tail.len() < 2 {
        return Ok(None);
    }
    if tail != b"\r\n" {
        return Err(bad("Bad blob terminator"));
    }
    Ok(buf.get(start..end).map(|payload| (payload, end + 2)))
}

type Step<T> = Result<Option<(T, usize)>, ProtoError>;

fn parse_value(buf: &[u8], pos: usize, depth: usize) -> Step<Reply> {
    let Some(&kind) = buf.get(pos) else { return Ok(None) };
    let Some((line, after)) = reply_line(buf, pos + 1) else {
        // An unknown type byte is an error at once; anything else waits for its line.
        return if b"+-:$*%~>_,#=(!|".contains(&kind) { Ok(None) } else { Err(ProtoError::UnknownReplyType(kind)) };
    };
    let reply = match kind {
        b'+' => Reply::Status(text(line)),
        b'-' => Reply::Error(Error::Other(text(line))),
        b':' => Reply::Integer(parse_i64(line).ok_or(bad("Bad integer value"))?),
        b'_' if line.is_empty() => Reply::Nil,
        b'_' => return Err(bad("Bad nil value")),
        b'#' => match line {
            b"t" => Reply::Bool(true),
            b"f" => Reply::Bool(false),
            _ => return Err(bad("Bad bool value")),
        },
        b',' => Reply::Double(parse_double(line).ok_or(bad("Bad double value"))?),
        b'(' => {
            let digits = line.strip_prefix(b"-").unwrap_or(line);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad("Bad big number value"));
            }
            Reply::BigNumber(text(line))
        }
        b'$' if line == b"-1" => Reply::Nil,
        b'*' if line == b"-1" => Reply::NilArray,
        b'$' | b'=' | b'!' => {
            let Some((payload, end)) = blob(buf, line, after)? else { return Ok(None) };
            let reply = match kind {
                b'$' => Reply::Bulk(payload.to_vec()),
                b'!' => Reply::Error(Error::Other(text(payload))),
                _ => verbatim(payload)?,
            };
            return Ok(Some((reply, end)));
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => return parse_aggregate(buf, kind, line, after, depth),
        other => return Err(ProtoError::UnknownReplyType(other)),
    };
    Ok(Some((reply, after)))
}

/// A RESP3 double: `inf`, `-inf`, `nan` or a decimal/exponent number.
fn parse_double(line: &[u8]) -> Option<f64> {
    let s = core::str::from_utf8(line).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    s.parse().ok()
}

fn verbatim(payload: &[u8]) -> Result<Reply, ProtoError> {
    let (format, rest) = match payload {
        [a, b, c, b':', rest @ ..] => ([*a, *b, *c], rest),
        _ => return Err(bad("Bad verbatim string")),
    };
    Ok(match &format {
        b"txt" => Reply::Verbatim("txt", rest.to_vec()),
        b"mkd" => Reply::Verbatim("mkd", rest.to_vec()),
        _ => Reply::Bulk(rest.to_vec()),
    })
}

fn parse_aggregate(buf: &[u8], kind: u8, line: &[u8], mut pos: usize, depth: usize) -> Step<Reply> {
    if depth >= MAX_REPLY_DEPTH {
        return Err(ProtoError::TooDeep);
    }
    let n = parse_i64(line).and_then(|n| usize::try_from(n).ok()).ok_or(bad("Bad aggregate length"))?;
    let remaining = buf.len().saturating_sub(pos);
    if kind == b'%' || kind == b'|' {
        // Each element takes at least three bytes (`_\r\n`), which bounds any honest preallocation.
        let mut pairs = Vec::with_capacity(n.min(remaining / 6));
        for _ in 0..n {
            let Some((key, next)) = parse_value(buf, pos, depth + 1)? else { return Ok(None) };
            let Some((value, next)) = parse_value(buf, next, depth + 1)? else { return Ok(None) };
            pairs.push((key, value));
            pos = next;
        }
        if kind == b'|' {
            // Attributes describe the reply that follows; we return that reply and drop them.
            return parse_value(buf, pos, depth);
        }
        return Ok(Some((Reply::Map(pairs), pos)));
    }
    let mut items = Vec::with_capacity(n.min(remaining / 3));
    for _ in 0..n {
        let Some((item, next)) = parse_value(buf, pos, depth + 1)? else { return Ok(None) };
        items.push(item);
        pos = next;
    }
    let reply = match kind {
        b'~' => Reply::Set(items),
        b'>' => Reply::Push(items),
        _ => Reply::Array(items),
    };
    Ok(Some((reply, pos)))
}

/// What a RESP2 client reads for `reply`: the RESP3-only shapes lowered as [`Reply::encode`] lowers them
/// (maps to flat arrays, doubles/verbatims/big numbers to bulks, booleans to integers). Useful for
/// formatting a reply as redis-cli shows it on a RESP2 connection.
pub fn lower_resp2(reply: &Reply) -> Reply {
    let all = |items: &[Reply]| items.iter().map(lower_resp2).collect::<Vec<_>>();
    match reply {
        Reply::Map(pairs) => Reply::Array(pairs.iter().flat_map(|(k, v)| [lower_resp2(k), lower_resp2(v)]).collect()),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => Reply::Array(all(items)),
        Reply::Double(d) => Reply::Bulk(crate::util::fmt_double(*d).into_bytes()),
        Reply::Bool(b) => Reply::Integer(*b as i64),
        Reply::Verbatim(_, t) => Reply::Bulk(t.clone()),
        Reply::BigNumber(n) | Reply::DoubleText(n) => Reply::Bulk(n.clone().into_bytes()),
        Reply::Error(e) => Reply::Error(Error::Other(alloc::format!("{e}").replace(['\r', '\n'], " "))),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn cmd(buf: &[u8]) -> Result<Option<Parsed>, ProtoError> {
        parse_command(buf, &Limits::default())
    }

    fn args(items: &[&[u8]]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.to_vec()).collect()
    }

    #[test]
    fn multibulk_and_inline() {
        assert_eq!(cmd(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nrest"), Ok(Some((args(&[b"ECHO", b"hi"]), 22))));
        assert_eq!(cmd(b"ECHO \"a\\x41\\z\"\nrest"), Ok(Some((args(&[b"ECHO", b"aAz"]), 15))));
        assert_eq!(cmd(b"PING\r\n"), Ok(Some((args(&[b"PING"]), 6))));
        assert_eq!(cmd(b"\r\n\nPING\r\n"), Ok(Some((vec![], 2))));
        assert_eq!(cmd(b"\nPING\r\n"), Ok(Some((vec![], 1))));
        assert_eq!(cmd(b"\t  \r\n"), Ok(Some((vec![], 5))));
        // A lone \r inside an inline line is a blank.
        assert_eq!(cmd(b"ECHO\rx\n"), Ok(Some((args(&[b"ECHO", b"x"]), 7))));
        assert_eq!(cmd(b"*0\r\n*-1\r\nPING\r\n"), Ok(Some((vec![], 4))));
        assert_eq!(cmd(b"*-1\r\nPING\r\n"), Ok(Some((vec![], 5))));
        assert_eq!(cmd(b"*-5\r\nPING\r\n"), Ok(Some((vec![], 5))));
        assert_eq!(cmd(b"*1\r\n$0\r\n\r\n"), Ok(Some((args(&[b""]), 10))));
    }

    // Redis 7.0.15 answers +PONG to both of these: it never checks the bytes after a `\r` or a payload.
    #[test]
    fn unchecked_terminators_like_redis() {
        assert_eq!(cmd(b"*1\r\n$4\r\nPINGxx"), Ok(Some((args(&[b"PING"]), 14))));
        assert_eq!(cmd(b"*1\rX$4\rYPINGxx*1"), Ok(Some((args(&[b"PING"]), 14))));
    }

    #[test]
    fn incomplete() {
        for partial in [
            &b""[..],
            b"*",
            b"*1",
            b"*1\r",
            b"*1\r\n",
            b"*1\r\n$",
            b"*1\r\n$4\r",
            b"*1\r\n$4\r\nPI",
            b"*1\r\n$4\r\nPING",
            b"*1\r\n$4\r\nPING\r",
            b"*2\r\n$4\r\nPING\r\n",
            b"PING",
            b"PING\r",
            b"\"unbalanced",
            // Redis's strchr stops at a NUL, so these wait for more (until the 64 KiB limit).
            b"PING\0\n",
            b"\0",
            b"*1\0\r\n",
            b"*1\r\n$4\0\r\n",
        ] {
            assert_eq!(cmd(partial), Ok(None), "{partial:?}");
        }
    }

    // Each text below is what Redis 7.0.15 sent back (then it closed the connection).
    #[test]
    fn protocol_errors_match_redis() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"*1\r\n$x\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
            (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
            (b"*1\r\n\r\n", b"-ERR Protocol error: expected '$', got ' '\r\n"),
            (b"*1\r\n\n\r\n", b"-ERR Protocol error: expected '$', got ' '\r\n"),
            (b"*1\r\n\xff\r\n", b"-ERR Protocol error: expected '$', got '\xff'\r\n"),
            (b"ping \"a\"b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
            (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
            (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
            (b"*+1\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
            (b"*01\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
            (b"*\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
            (b"*1\r\n$+4\r\nPING\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
            (b"*1\r\n$\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        ];
        for (input, reply) in cases {
            match cmd(input) {
                Err(e) => assert_eq!(&e.reply_bytes()[..], *reply, "{input:?}"),
                other => panic!("{input:?} gave {other:?}"),
            }
        }
        assert_eq!(cmd(b"*2147483647\r\n"), Ok(None));
        assert_eq!(cmd(b"*1048577\r\n"), Ok(None));
        assert_eq!(cmd(b"*1\r\n$536870912\r\n"), Ok(None));
        assert_eq!(ProtoError::InvalidBulkLength.to_string(), "Protocol error: invalid bulk length");
    }

    #[test]
    fn size_limits_match_redis() {
        let mut inline = vec![b'A'; 65536];
        assert_eq!(cmd(&inline), Ok(None));
        inline.push(b'A');
        assert_eq!(cmd(&inline), Err(ProtoError::TooBigInlineRequest));
        // A NUL hides the newline, so the request only ends at the limit.
        let mut hidden = b"PING\0\n".to_vec();
        hidden.resize(65537, b'A');
        assert_eq!(cmd(&hidden), Err(ProtoError::TooBigInlineRequest));

        let mut count = b"*1".to_vec();
        count.resize(65536, b'1');
        assert_eq!(cmd(&count), Ok(None));
        count.push(b'1');
        assert_eq!(cmd(&count), Err(ProtoError::TooBigMbulkCountString));

        let mut bulk = b"*1\r\n$".to_vec();
        bulk.resize(4 + 65536, b'1');
        assert_eq!(cmd(&bulk), Ok(None));
        bulk.push(b'1');
        assert_eq!(cmd(&bulk), Err(ProtoError::TooBigBulkCountString));

        let small = Limits { proto_max_bulk_len: 3, ..Limits::default() };
        assert_eq!(parse_command(b"*1\r\n$4\r\n", &small), Err(ProtoError::InvalidBulkLength));
        assert_eq!(parse_command(b"*1\r\n$3\r\nabc\r\n", &small), Ok(Some((args(&[b"abc"]), 13))));
    }

    // Checked with `CONFIG SET requirepass` on Redis 7.0.15.
    #[test]
    fn unauthenticated_limits() {
        let limits = Limits { auth_required: true, ..Limits::default() };
        assert_eq!(parse_command(b"*11\r\n", &limits), Err(ProtoError::UnauthenticatedMultibulkLength));
        assert_eq!(parse_command(b"*10\r\n", &limits), Ok(None));
        assert_eq!(parse_command(b"*1\r\n$16385\r\n", &limits), Err(ProtoError::UnauthenticatedBulkLength));
        assert_eq!(parse_command(b"*1\r\n$16384\r\n", &limits), Ok(None));
        assert_eq!(
            ProtoError::UnauthenticatedMultibulkLength.to_string(),
            "Protocol error: unauthenticated multibulk length"
        );
    }

    #[test]
    fn huge_announced_sizes_allocate_nothing_up_front() {
        assert_eq!(cmd(b"*2147483647\r\n$1\r\na\r\n"), Ok(None));
        assert_eq!(cmd(b"*1\r\n$536870912\r\nabc"), Ok(None));
        assert_eq!(parse_reply(b"*9223372036854775807\r\n:1\r\n"), Ok(None));
        assert_eq!(parse_reply(b"%9223372036854775807\r\n:1\r\n"), Ok(None));
        assert_eq!(parse_reply(b"$9223372036854775807\r\nabc"), Ok(None));
    }

    #[test]
    fn replies() {
        let p = |b: &[u8]| parse_reply(b).map(|o| o.map(|(r, _)| r));
        assert_eq!(p(b"+OK\r\n"), Ok(Some(Reply::ok())));
        assert_eq!(p(b"-ERR x\r\n"), Ok(Some(Reply::Error(Error::other("ERR x")))));
        assert_eq!(p(b"!5\r\nERR y\r\n"), Ok(Some(Reply::Error(Error::other("ERR y")))));
        assert_eq!(p(b":-12\r\n"), Ok(Some(Reply::Integer(-12))));
        assert_eq!(p(b"$-1\r\n"), Ok(Some(Reply::Nil)));
        assert_eq!(p(b"*-1\r\n"), Ok(Some(Reply::NilArray)));
        assert_eq!(p(b"_\r\n"), Ok(Some(Reply::Nil)));
        assert_eq!(p(b"$3\r\na\r\n\r\n"), Ok(Some(Reply::bulk(b"a\r\n"))));
        assert_eq!(p(b",inf\r\n"), Ok(Some(Reply::Double(f64::INFINITY))));
        assert_eq!(p(b",-inf\r\n"), Ok(Some(Reply::Double(f64::NEG_INFINITY))));
        assert_eq!(p(b",1e+300\r\n"), Ok(Some(Reply::Double(1e300))));
        assert!(matches!(p(b",nan\r\n"), Ok(Some(Reply::Double(d))) if d.is_nan()));
        assert_eq!(p(b"#t\r\n"), Ok(Some(Reply::Bool(true))));
        assert_eq!(
            p(b"(-123456789012345678901234567890\r\n"),
            Ok(Some(Reply::BigNumber("-123456789012345678901234567890".into())))
        );
        assert_eq!(p(b"=7\r\nmkd:a b\r\n"), Ok(Some(Reply::Verbatim("mkd", b"a b".to_vec()))));
        assert_eq!(p(b"=7\r\nxyz:a b\r\n"), Ok(Some(Reply::bulk(b"a b"))));
        assert_eq!(
            p(b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.5\r\n*2\r\n:1\r\n:2\r\n"),
            Ok(Some(Reply::Array(vec![Reply::Integer(1), Reply::Integer(2)])))
        );
        assert_eq!(
            p(b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n~1\r\n>0\r\n"),
            Ok(Some(Reply::Array(vec![Reply::Integer(1), Reply::Set(vec![Reply::Push(vec![])])])))
        );
        assert_eq!(parse_reply(b"+OK\r\n:1\r\n"), Ok(Some((Reply::ok(), 5))));
        for bad in [
            &b"@x\r\n"[..],
            b"@",
            b":x\r\n",
            b"$2\r\nabc\r\n",
            b"#x\r\n",
            b"_x\r\n",
            b",\r\n",
            b"=2\r\nab\r\n",
            b"*-2\r\n",
            b"(1a\r\n",
        ] {
            assert!(parse_reply(bad).is_err(), "{bad:?}");
        }
        for partial in [
            &b"+OK"[..],
            b"+OK\r",
            b"$3\r\nab",
            b"$3\r\nabc\r",
            b"*2\r\n:1\r\n",
            b"%1\r\n:1\r\n",
            b"|1\r\n:1\r\n:2\r\n",
        ] {
            assert_eq!(parse_reply(partial), Ok(None), "{partial:?}");
        }
        assert_eq!(ProtoError::UnknownReplyType(b'@').to_string(), "Protocol error, got \"@\" as reply type byte");
    }

    #[test]
    fn reply_depth_is_bounded() {
        let mut deep = Vec::new();
        for _ in 0..MAX_REPLY_DEPTH + 1 {
            deep.extend_from_slice(b"*1\r\n");
        }
        deep.extend_from_slice(b":1\r\n");
        assert_eq!(parse_reply(&deep), Err(ProtoError::TooDeep));
        let ok = &deep[4..];
        assert!(matches!(parse_reply(ok), Ok(Some(_))));
    }

    /// A xorshift64* generator: deterministic pseudo-random input without extra crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a [u8]]) -> &'a [u8] {
            items.get(self.below(items.len())).copied().unwrap_or_default()
        }
    }

    /// Fragments that steer random input into the parsers' interesting branches.
    const PIECES: &[&[u8]] = &[
        b"*",
        b"$",
        b"\r\n",
        b"\r",
        b"\n",
        b"\0",
        b"0",
        b"1",
        b"2",
        b"3",
        b"-1",
        b"-2",
        b"4",
        b"10",
        b"99999999999",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"18446744073709551616",
        b":",
        b"+",
        b"-",
        b"%",
        b"~",
        b">",
        b"|",
        b"_",
        b",",
        b"#t",
        b"#f",
        b"=",
        b"(",
        b"!",
        b"\"",
        b"'",
        b"\\",
        b"\\x",
        b"\\x4",
        b"ff",
        b"txt:",
        b" ",
        b"\t",
        b"\x0b",
        b"a",
        b"PING",
        b"inf",
        b"nan",
        b"1e5",
        b"\xff",
        b"$-1\r\n",
        b"*1\r\n",
        b"%1\r\n",
    ];

    fn random_input(rng: &mut Rng) -> Vec<u8> {
        let mut out = Vec::new();
        let parts = rng.below(24);
        for _ in 0..parts {
            if rng.below(3) == 0 {
                let n = rng.below(8);
                for _ in 0..n {
                    out.push(rng.next() as u8);
                }
            } else {
                out.extend_from_slice(rng.pick(PIECES));
            }
        }
        out
    }

    fn check_no_panic(input: &[u8]) {
        let _ = crate::tokenize::split_args(input);
        for limits in [Limits::default(), Limits { auth_required: true, proto_max_bulk_len: 5, max_multibulk_len: 3 }] {
            if let Ok(Some((_, used))) = parse_command(input, &limits) {
                assert!(used > 0 && used <= input.len(), "{input:?}");
            }
        }
        if let Ok(Some((reply, used))) = parse_reply(input) {
            assert!(used > 0 && used <= input.len(), "{input:?}");
            let _ = crate::format::format_tty(&reply);
            let _ = crate::format::format_raw(&reply);
            let _ = reply.to_resp(2);
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..40_000 {
            let input = random_input(&mut rng);
            check_no_panic(&input);
            // Every prefix too: that is how the bytes arrive.
            let cut = rng.below(input.len() + 1);
            check_no_panic(input.get(..cut).unwrap_or_default());
        }
    }

    fn random_bytes(rng: &mut Rng, alphabet: &[u8]) -> Vec<u8> {
        let n = rng.below(12);
        (0..n).map(|_| alphabet.get(rng.below(alphabet.len())).copied().unwrap_or(b'a')).collect()
    }

    fn random_text(rng: &mut Rng) -> String {
        // No CR or LF: a status line cannot hold them.
        String::from_utf8_lossy(&random_bytes(rng, b"abc XYZ-_:\t\"'\\\x01\x7f")).into_owned()
    }

    fn random_reply(rng: &mut Rng, depth: usize) -> Reply {
        let kinds = if depth >= 4 { 10 } else { 15 };
        let all: Vec<u8> = (0..=255).collect();
        let children = |rng: &mut Rng| {
            let n = rng.below(4);
            (0..n).map(|_| random_reply(rng, depth + 1)).collect::<Vec<_>>()
        };
        match rng.below(kinds) {
            0 => Reply::Status(random_text(rng)),
            1 => Reply::Error(if rng.below(2) == 0 {
                Error::WrongArity(String::from_utf8_lossy(&random_bytes(rng, b"ab\r\nc")).into_owned())
            } else {
                Error::Other(alloc::format!("ERR {}", random_text(rng)))
            }),
            2 => Reply::Integer(match rng.below(3) {
                0 => i64::MIN,
                1 => i64::MAX,
                _ => rng.next() as i64,
            }),
            3 => Reply::Bulk(random_bytes(rng, &all)),
            4 => Reply::Nil,
            5 => Reply::NilArray,
            6 => Reply::Double(match rng.below(4) {
                0 => f64::INFINITY,
                1 => f64::NEG_INFINITY,
                2 => (rng.next() as i64) as f64 / 1e6,
                _ => f64::from_bits(rng.next()),
            }),
            7 => Reply::Bool(rng.below(2) == 0),
            8 => Reply::Verbatim(if rng.below(2) == 0 { "txt" } else { "mkd" }, random_bytes(rng, &all)),
            9 => Reply::BigNumber(alloc::format!("{}{}", if rng.below(2) == 0 { "-" } else { "" }, rng.next())),
            10 => Reply::Array(children(rng)),
            11 => Reply::Set(children(rng)),
            12 => Reply::Push(children(rng)),
            _ => {
                let n = rng.below(3);
                Reply::Map((0..n).map(|_| (random_reply(rng, depth + 1), random_reply(rng, depth + 1))).collect())
            }
        }
    }

    /// What a RESP3 client reads back: `_` cannot tell the two nulls apart, and errors arrive as text.
    fn as_read_over_resp3(r: &Reply) -> Reply {
        let all = |items: &[Reply]| items.iter().map(as_read_over_resp3).collect::<Vec<_>>();
        match r {
            Reply::NilArray => Reply::Nil,
            Reply::Error(e) => Reply::Error(Error::Other(alloc::format!("{e}").replace(['\r', '\n'], " "))),
            Reply::Array(items) => Reply::Array(all(items)),
            Reply::Set(items) => Reply::Set(all(items)),
            Reply::Push(items) => Reply::Push(all(items)),
            Reply::Map(pairs) => {
                Reply::Map(pairs.iter().map(|(k, v)| (as_read_over_resp3(k), as_read_over_resp3(v))).collect())
            }
            other => other.clone(),
        }
    }

    fn has_nan(r: &Reply) -> bool {
        match r {
            Reply::Double(d) => d.is_nan(),
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => items.iter().any(has_nan),
            Reply::Map(pairs) => pairs.iter().any(|(k, v)| has_nan(k) || has_nan(v)),
            _ => false,
        }
    }

    #[test]
    fn replies_round_trip() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for _ in 0..20_000 {
            let reply = random_reply(&mut rng, 0);
            if has_nan(&reply) {
                continue;
            }
            for (resp, expected) in [(3u8, as_read_over_resp3(&reply)), (2, lower_resp2(&reply))] {
                let wire = reply.to_resp(resp);
                assert_eq!(parse_reply(&wire), Ok(Some((expected.clone(), wire.len()))), "RESP{resp} {reply:?}");
                // Any strict prefix is incomplete, never an error.
                let cut = rng.below(wire.len());
                assert_eq!(parse_reply(wire.get(..cut).unwrap_or_default()), Ok(None), "{reply:?} cut at {cut}");
                // Formatting the original and what the client read gives the same text.
                if resp == 3 {
                    assert_eq!(crate::format::format_tty(&reply), crate::format::format_tty(&expected));
                    assert_eq!(crate::format::format_raw(&reply), crate::format::format_raw(&expected));
                }
            }
        }
        let nan = Reply::Double(f64::NAN).to_resp(3);
        assert!(matches!(parse_reply(&nan), Ok(Some((Reply::Double(d), 6))) if d.is_nan()));
    }

    #[test]
    fn commands_round_trip() {
        let mut rng = Rng(42);
        let all: Vec<u8> = (0..=255).collect();
        for _ in 0..5_000 {
            let n = rng.below(6);
            let argv: Vec<Vec<u8>> = (0..n).map(|_| random_bytes(&mut rng, &all)).collect();
            let mut wire = alloc::format!("*{n}\r\n").into_bytes();
            for a in &argv {
                wire.extend_from_slice(alloc::format!("${}\r\n", a.len()).as_bytes());
                wire.extend_from_slice(a);
                wire.extend_from_slice(b"\r\n");
            }
            assert_eq!(cmd(&wire), Ok(Some((argv.clone(), wire.len()))));
            for cut in 0..wire.len() {
                assert_eq!(cmd(wire.get(..cut).unwrap_or_default()), Ok(None));
            }
        }
    }
}
