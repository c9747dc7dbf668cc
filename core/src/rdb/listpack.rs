//! Redis's listpack (listpack.c): the compact encoding of small hashes, sorted sets, list nodes and stream
//! nodes, built here byte for byte as Redis builds it and read back with every length checked.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 when unknown), the elements, 0xFF. An element is
//! its encoding (a 7-bit, 13-, 16-, 24-, 32- or 64-bit integer, or a string with a 6-, 12- or 32-bit length),
//! then its "backlen": the encoding's size in 7-bit groups, so the list can be walked from the end.

use alloc::vec::Vec;

use crate::util::{i64_bytes, parse_i64};

const HEADER: usize = 6;
const EOF: u8 = 0xff;
/// The count field's "too many to say" value (LP_HDR_NUMELE_UNKNOWN).
const COUNT_UNKNOWN: usize = 65535;

/// One element as stored: an integer, or a string that did not parse as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Element<'_> {
    /// The element as the string Redis returns for it (an integer in decimal).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Element::Int(v) => i64_bytes(v),
            Element::Str(s) => s.to_vec(),
        }
    }

    /// The element as an integer (lpGetIntegerIfValid): an integer, or a string that parses as one.
    pub fn as_int(self) -> Option<i64> {
        match self {
            Element::Int(v) => Some(v),
            Element::Str(s) => parse_i64(s),
        }
    }
}

/// A listpack being built by appending, as `lpNew` + `lpAppend`.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HEADER]);
        Builder { buf, count: 0 }
    }

    /// The size the listpack has so far, terminator included (lpBytes).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// `lpAppend`: a string that parses as an integer (string2ll rules) is stored as one.
    pub fn push_str(&mut self, s: &[u8]) {
        if s.len() <= 20 {
            if let Some(v) = parse_i64(s) {
                self.push_int(v);
                return;
            }
        }
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xe0 | (n >> 8) as u8);
            self.buf.push(n as u8);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.finish_element(start);
    }

    /// `lpAppendInteger`: the smallest integer encoding that holds `v`.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v } as u16;
            self.buf.push(0xc0 | (u >> 8) as u8);
            self.buf.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xf1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            self.buf.push(0xf2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
            self.buf.push(0xf3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xf4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.finish_element(start);
    }

    pub fn push(&mut self, e: Element) {
        match e {
            Element::Int(v) => self.push_int(v),
            Element::Str(s) => self.push_str(s),
        }
    }

    /// Appends the back-length of the element that starts at `start`.
    fn finish_element(&mut self, start: usize) {
        let len = self.buf.len() - start;
        push_backlen(&mut self.buf, len);
        self.count += 1;
    }

    /// The finished listpack: header filled in, terminator appended.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        let count = self.count.min(COUNT_UNKNOWN) as u16;
        if let Some(h) = self.buf.get_mut(..HEADER) {
            h[..4].copy_from_slice(&total.to_le_bytes());
            h[4..].copy_from_slice(&count.to_le_bytes());
        }
        self.buf
    }
}

/// lpEncodeBacklen: the length in 7-bit groups, most significant first, the high bit set on all but the first.
fn push_backlen(buf: &mut Vec<u8>, len: usize) {
    let l = len as u64;
    if l <= 127 {
        buf.push(l as u8);
    } else if l < 16383 {
        buf.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]);
    } else if l < 2_097_151 {
        buf.extend_from_slice(&[(l >> 14) as u8, ((l >> 7) & 127) as u8 | 128, (l & 127) as u8 | 128]);
    } else if l < 268_435_455 {
        buf.extend_from_slice(&[
            (l >> 21) as u8,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    } else {
        buf.extend_from_slice(&[
            (l >> 28) as u8,
            ((l >> 21) & 127) as u8 | 128,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    }
}

/// Reads a whole listpack, validating it as Redis's deep `lpValidateIntegrity` does: the header's size is the
/// blob's, every element lies inside it with a matching back-length, the count (when known) is right and the
/// terminator ends it. `None` for anything else.
pub fn parse(lp: &[u8]) -> Option<Vec<Element<'_>>> {
    let total = u32::from_le_bytes(lp.get(..4)?.try_into().ok()?) as usize;
    let count = u16::from_le_bytes(lp.get(4..6)?.try_into().ok()?) as usize;
    if total != lp.len() || total < HEADER + 1 || *lp.last()? != EOF {
        return None;
    }
    let body = lp.get(HEADER..total - 1)?;
    let mut out = Vec::new();
    let mut p = 0usize;
    while p < body.len() {
        let (element, enc_len) = element_at(body, p)?;
        let mut check = Vec::with_capacity(5);
        push_backlen(&mut check, enc_len);
        let back = body.get(p + enc_len..p + enc_len + check.len())?;
        if back != check.as_slice() {
            return None;
        }
        out.push(element);
        p += enc_len + check.len();
    }
    if count != COUNT_UNKNOWN && count != out.len() {
        return None;
    }
    Some(out)
}

/// The element at `p` and the size of its encoding (without the back-length).
fn element_at(body: &[u8], p: usize) -> Option<(Element<'_>, usize)> {
    let b = *body.get(p)?;
    let bytes = |from: usize, n: usize| body.get(p + from..p + from + n);
    let le = |from: usize, n: usize| -> Option<u64> {
        let s = bytes(from, n)?;
        Some(s.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    };
    let sign = |v: u64, bits: u32| -> i64 {
        let shift = 64 - bits;
        ((v << shift) as i64) >> shift
    };
    match b {
        0x00..=0x7f => Some((Element::Int(b as i64), 1)),
        0x80..=0xbf => {
            let n = (b & 0x3f) as usize;
            Some((Element::Str(bytes(1, n)?), 1 + n))
        }
        0xc0..=0xdf => {
            let v = ((b as u64 & 0x1f) << 8) | *body.get(p + 1)? as u64;
            Some((Element::Int(sign(v, 13)), 2))
        }
        0xe0..=0xef => {
            let n = ((b as usize & 0x0f) << 8) | *body.get(p + 1)? as usize;
            Some((Element::Str(bytes(2, n)?), 2 + n))
        }
        0xf0 => {
            let n = le(1, 4)? as usize;
            Some((Element::Str(bytes(5, n)?), 5 + n))
        }
        0xf1 => Some((Element::Int(sign(le(1, 2)?, 16)), 3)),
        0xf2 => Some((Element::Int(sign(le(1, 3)?, 24)), 4)),
        0xf3 => Some((Element::Int(sign(le(1, 4)?, 32)), 5)),
        0xf4 => Some((Element::Int(le(1, 8)? as i64), 9)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn builds_what_redis_dumps() {
        // DUMP of RPUSH l a b 1 2 300 -5 on redis-server 7.0.15: the quicklist node's listpack.
        let mut b = Builder::new();
        for s in [&b"a"[..], b"b", b"1", b"2", b"300", b"-5"] {
            b.push_str(s);
        }
        let want = [
            0x17, 0, 0, 0, 6, 0, 0x81, 0x61, 2, 0x81, 0x62, 2, 1, 1, 2, 1, 0xc1, 0x2c, 2, 0xdf, 0xfb, 2, 0xff,
        ];
        assert_eq!(b.finish(), want);
        let els = parse(&want).expect("valid");
        assert_eq!(els, vec![
            Element::Str(b"a"),
            Element::Str(b"b"),
            Element::Int(1),
            Element::Int(2),
            Element::Int(300),
            Element::Int(-5)
        ]);
    }

    #[test]
    fn every_integer_width_round_trips() {
        let values = [0, 127, 128, -1, 4095, -4096, 4096, 32767, -32768, 32768, 8_388_607, -8_388_608, 8_388_608];
        let more = [i32::MAX as i64, i32::MIN as i64, i32::MAX as i64 + 1, i64::MAX, i64::MIN];
        let mut b = Builder::new();
        for v in values.iter().chain(more.iter()) {
            b.push_int(*v);
        }
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 100];
        b.push_str(&long);
        b.push_str(&mid);
        b.push_str(b"");
        b.push_str(b"-0");
        let lp = b.finish();
        let els = parse(&lp).expect("valid");
        let ints: Vec<i64> = els.iter().take(values.len() + more.len()).filter_map(|e| e.as_int()).collect();
        assert_eq!(ints, values.iter().chain(more.iter()).copied().collect::<Vec<_>>());
        assert_eq!(els.get(values.len() + more.len()), Some(&Element::Str(&long)));
        assert_eq!(els.last(), Some(&Element::Str(b"-0")));
    }

    #[test]
    fn damage_is_refused() {
        let mut b = Builder::new();
        b.push_str(b"hello");
        b.push_int(1000);
        let lp = b.finish();
        assert!(parse(&lp).is_some());
        for i in 0..lp.len() {
            let mut bad = lp.clone();
            bad[i] ^= 0x40;
            // Either refused or still a well-formed listpack; never a panic.
            let _ = parse(&bad);
        }
        assert!(parse(&lp[..lp.len() - 1]).is_none());
        let mut wrong_count = lp.clone();
        wrong_count[4] = 3;
        assert!(parse(&wrong_count).is_none());
    }
}
