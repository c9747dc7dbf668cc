//! The reply of one command, able to express everything RESP3 can, encoded per client as RESP2 or RESP3.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Error;
use crate::util::fmt_double;

/// What a command answers. One type for both protocols: `encode` lowers RESP3-only shapes for RESP2 clients
/// exactly as Redis 7.0 does (maps become flat arrays, doubles bulk strings, booleans integers).
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`: a status line; must not contain CR or LF.
    Status(String),
    Error(Error),
    Integer(i64),
    Bulk(Vec<u8>),
    /// The null of a missing string: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// The null of a missing array: `*-1` in RESP2, `_` in RESP3.
    NilArray,
    Array(Vec<Reply>),
    /// Key-value pairs: `%` in RESP3, a flat array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// `~` in RESP3, an array in RESP2.
    Set(Vec<Reply>),
    /// `,` in RESP3, a bulk string in RESP2; formatted like Redis's `%.17g`.
    Double(f64),
    /// A double whose text the command formats itself (Redis's addReplyHumanLongDouble, GEOPOS coordinates):
    /// `,text` in RESP3, a bulk string in RESP2.
    DoubleText(String),
    /// `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    Bool(bool),
    /// `=` in RESP3 with its three-letter format (`txt`), a bulk string in RESP2.
    Verbatim(&'static str, Vec<u8>),
    /// `(` in RESP3, a bulk string in RESP2.
    BigNumber(String),
    /// `>` in RESP3 (pub/sub messages), an array in RESP2.
    Push(Vec<Reply>),
    /// The null of protocol 2 (`$-1`) or 3 (`_`), written so whatever the receiving client speaks: a flush's
    /// tracking invalidation carries the tracking client's null, also to a redirect target of the other
    /// protocol (Redis copies `shared.null[c->resp]` into the message).
    NullOf(u8),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    pub fn status(s: &str) -> Reply {
        Reply::Status(s.into())
    }

    pub fn bulk(b: &[u8]) -> Reply {
        Reply::Bulk(b.to_vec())
    }

    pub fn bulk_str(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Encodes for a client speaking `resp` (2 or 3).
    pub fn encode(&self, resp: u8, out: &mut Vec<u8>) {
        let v3 = resp >= 3;
        match self {
            Reply::Status(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(e) => {
                let text = alloc::format!("{e}");
                line(out, b'-', sanitize_error(&text).as_bytes());
            }
            Reply::Integer(i) => int_line(out, b':', *i),
            Reply::Bulk(b) => bulk(out, b),
            Reply::Nil => out.extend_from_slice(if v3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NilArray => out.extend_from_slice(if v3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::NullOf(proto) => out.extend_from_slice(if *proto >= 3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::Array(items) => {
                int_line(out, b'*', items.len() as i64);
                items.iter().for_each(|r| r.encode(resp, out));
            }
            Reply::Map(pairs) => {
                if v3 {
                    int_line(out, b'%', pairs.len() as i64);
                } else {
                    int_line(out, b'*', 2 * pairs.len() as i64);
                }
                for (k, v) in pairs {
                    k.encode(resp, out);
                    v.encode(resp, out);
                }
            }
            Reply::Set(items) => {
                int_line(out, if v3 { b'~' } else { b'*' }, items.len() as i64);
                items.iter().for_each(|r| r.encode(resp, out));
            }
            Reply::Double(d) => {
                let text = fmt_double(*d);
                if v3 {
                    line(out, b',', text.as_bytes());
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Reply::DoubleText(text) => {
                if v3 {
                    line(out, b',', text.as_bytes());
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Reply::Bool(b) => {
                if v3 {
                    out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    int_line(out, b':', *b as i64);
                }
            }
            Reply::Verbatim(format, text) => {
                if v3 {
                    int_line(out, b'=', (text.len() + 4) as i64);
                    out.extend_from_slice(format.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(text);
                    out.extend_from_slice(b"\r\n");
                } else {
                    bulk(out, text);
                }
            }
            Reply::BigNumber(n) => {
                if v3 {
                    line(out, b'(', n.as_bytes());
                } else {
                    bulk(out, n.as_bytes());
                }
            }
            Reply::Push(items) => {
                int_line(out, if v3 { b'>' } else { b'*' }, items.len() as i64);
                items.iter().for_each(|r| r.encode(resp, out));
            }
        }
    }

    pub fn to_resp(&self, resp: u8) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(resp, &mut out);
        out
    }
}

impl From<Error> for Reply {
    fn from(e: Error) -> Reply {
        Reply::Error(e)
    }
}

/// Redis replaces CR and LF in error texts with spaces so the reply stays one line.
fn sanitize_error(text: &str) -> String {
    text.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect()
}

fn line(out: &mut Vec<u8>, prefix: u8, body: &[u8]) {
    out.push(prefix);
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

fn int_line(out: &mut Vec<u8>, prefix: u8, n: i64) {
    out.push(prefix);
    crate::util::push_i64(out, n);
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    int_line(out, b'$', b.len() as i64);
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn resp2_lowers_resp3_shapes() {
        let m = Reply::Map(vec![(Reply::bulk_str("a"), Reply::Integer(1))]);
        assert_eq!(m.to_resp(2), b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(m.to_resp(3), b"%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(Reply::Nil.to_resp(2), b"$-1\r\n");
        assert_eq!(Reply::NilArray.to_resp(2), b"*-1\r\n");
        assert_eq!(Reply::NilArray.to_resp(3), b"_\r\n");
        assert_eq!(Reply::Bool(true).to_resp(2), b":1\r\n");
        assert_eq!(Reply::Double(1.5).to_resp(2), b"$3\r\n1.5\r\n");
        assert_eq!(Reply::Double(1.5).to_resp(3), b",1.5\r\n");
        assert_eq!(Reply::Verbatim("txt", b"hi".to_vec()).to_resp(3), b"=6\r\ntxt:hi\r\n");
        assert_eq!(Reply::NullOf(2).to_resp(3), b"$-1\r\n", "a null keeps its own protocol's form");
        assert_eq!(Reply::NullOf(3).to_resp(2), b"_\r\n");
    }
}
