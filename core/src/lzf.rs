//! LZF, the compression Redis applies to long strings in RDB files and DUMP payloads (lzf_c.c, lzf_d.c).
//!
//! The compressor is a port of liblzf 3.6 (`HLOG 16`, `VERY_FAST`), operation for operation, so the compressed
//! bytes and the decision to compress at all are the ones redis-server writes: a DUMP payload of a long string
//! is byte-identical to Redis's. Debian's redis-server links the system liblzf 3.6, whose compressor differs
//! from the copy bundled in Redis's sources in two details near the end of the output: a match may start with
//! only three bytes left, and the output-space test before a back reference counts an empty literal run as
//! undone. Both are 3.6's here, since that is the redis-server the tests compare with.
//! The decompressor checks every read and write, so corrupt input is refused, never trusted.

use alloc::vec;
use alloc::vec::Vec;

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// A compressor with its hash table, kept between calls: the table is 64 Ki slots, and a snapshot compresses
/// many strings, so clearing it each time would cost more than the compression. Each slot carries the number
/// of the call that wrote it; a slot from an earlier call reads as empty (liblzf leaves the table
/// uninitialised, where an old value can only ever produce a match the byte comparison confirms).
pub struct Compressor {
    slots: Vec<(u32, u32)>,
    call: u32,
}

impl Default for Compressor {
    fn default() -> Compressor {
        Compressor::new()
    }
}

impl Compressor {
    pub fn new() -> Compressor {
        Compressor { slots: Vec::new(), call: 0 }
    }

    /// `lzf_compress(input, out_len)`: the compressed bytes, or `None` when they would not fit in `out_len`
    /// bytes (Redis asks for at least 4 bytes saved) or the input is empty.
    pub fn compress(&mut self, input: &[u8], out_len: usize) -> Option<Vec<u8>> {
        let in_len = input.len();
        if in_len == 0 || out_len == 0 || in_len > u32::MAX as usize {
            return None;
        }
        if self.slots.is_empty() {
            self.slots = vec![(0, 0); HSIZE];
        }
        self.call = self.call.wrapping_add(1);
        if self.call == 0 {
            self.slots.iter_mut().for_each(|s| *s = (0, 0));
            self.call = 1;
        }
        let call = self.call;
        let at = |i: usize| input.get(i).copied().unwrap_or(0);
        let frst = |p: usize| (u32::from(at(p)) << 8) | u32::from(at(p + 1));
        let next = |v: u32, p: usize| (v << 8) | u32::from(at(p + 2));
        let idx = |h: u32| ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1);

        let mut out = vec![0u8; out_len];
        let mut op = 0usize;
        let mut lit = 0usize;
        op += 1; // start run
        let mut ip = 0usize;
        let mut hval = frst(0);
        while ip + 2 < in_len {
            hval = next(hval, ip);
            let slot = self.slots.get_mut(idx(hval))?;
            let found = (slot.0 == call).then_some(slot.1 as usize);
            *slot = (call, ip as u32);
            let matched = match found {
                Some(r) if r > 0 && r < ip && ip - r - 1 < MAX_OFF => {
                    at(r) == at(ip) && at(r + 1) == at(ip + 1) && at(r + 2) == at(ip + 2)
                }
                _ => false,
            };
            if matched {
                let r = found.unwrap_or(0);
                let off = ip - r - 1;
                let mut len = 2usize;
                let maxlen = (in_len - ip - len).min(MAX_REF);
                // Room for the reference (counting an empty literal run as undone), then the run is stopped,
                // or undone when empty.
                if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                    return None;
                }
                *out.get_mut(op.checked_sub(lit + 1)?)? = (lit as u8).wrapping_sub(1);
                op -= usize::from(lit == 0);
                // liblzf compares 16 bytes unrolled when at least 17 may match, then goes on byte by byte;
                // kept as is, since where it stops decides the output.
                let mut stopped = false;
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if at(r + len) != at(ip + len) {
                            stopped = true;
                            break;
                        }
                    }
                }
                if !stopped {
                    loop {
                        len += 1;
                        if !(len < maxlen && at(r + len) == at(ip + len)) {
                            break;
                        }
                    }
                }
                len -= 2;
                ip += 1;
                if len < 7 {
                    *out.get_mut(op)? = ((off >> 8) + (len << 5)) as u8;
                    op += 1;
                } else {
                    *out.get_mut(op)? = ((off >> 8) + (7 << 5)) as u8;
                    *out.get_mut(op + 1)? = (len - 7) as u8;
                    op += 2;
                }
                *out.get_mut(op)? = off as u8;
                op += 1;
                lit = 0;
                op += 1; // start run
                ip += len + 1;
                if ip + 2 >= in_len {
                    break;
                }
                // VERY_FAST: hash the two positions before the new one.
                ip -= 2;
                hval = frst(ip);
                hval = next(hval, ip);
                *self.slots.get_mut(idx(hval))? = (call, ip as u32);
                ip += 1;
                hval = next(hval, ip);
                *self.slots.get_mut(idx(hval))? = (call, ip as u32);
                ip += 1;
            } else {
                if op >= out_len {
                    return None;
                }
                lit += 1;
                *out.get_mut(op)? = at(ip);
                op += 1;
                ip += 1;
                if lit == MAX_LIT {
                    *out.get_mut(op - lit - 1)? = (lit - 1) as u8;
                    lit = 0;
                    op += 1;
                }
            }
        }
        if op + 3 > out_len {
            return None;
        }
        while ip < in_len {
            lit += 1;
            *out.get_mut(op)? = at(ip);
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                *out.get_mut(op - lit - 1)? = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
        *out.get_mut(op.checked_sub(lit + 1)?)? = (lit as u8).wrapping_sub(1);
        op -= usize::from(lit == 0);
        out.truncate(op);
        Some(out)
    }
}

/// `lzf_decompress` expecting exactly `out_len` bytes: `None` for corrupt input or any other length.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(out_len).ok()?;
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = *input.get(ip)? as usize;
        ip += 1;
        if ctrl < (1 << 5) {
            let run = ctrl + 1;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(input.get(ip..ip + run)?);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            let mut back = ((ctrl & 0x1f) << 8) + 1;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            back += *input.get(ip)? as usize;
            ip += 1;
            if out.len() + len + 2 > out_len {
                return None;
            }
            let start = out.len().checked_sub(back)?;
            // Byte by byte: a reference may overlap what it produces (a run).
            for i in start..start + len + 2 {
                let b = *out.get(i)?;
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_as_redis_does() {
        // DUMP of SET long aaa...a(47)bbb...b(24) on redis-server 7.0.15 holds these bytes after `c3 0e 40 47`.
        let input = [&[b'a'; 47][..], &[b'b'; 24][..]].concat();
        let got = Compressor::new().compress(&input, input.len() - 4);
        let want = [0x01, 0x61, 0x61, 0xe0, 0x24, 0x00, 0x00, 0x62, 0xe0, 0x0c, 0x00, 0x01, 0x62, 0x62];
        assert_eq!(got.as_deref(), Some(&want[..]));
        assert_eq!(decompress(&want, input.len()), Some(input));
    }

    #[test]
    fn a_match_may_start_three_bytes_before_the_end() {
        // liblzf 3.6 (what Debian's redis-server links) references the final "abc"; the copy bundled in Redis's
        // sources would have left it literal.
        let input = b"xabcabcabcabcabcabcabcabcQabc";
        let want = [0x03, b'x', b'a', b'b', b'c', 0xe0, 0x0c, 0x02, 0x00, b'Q', 0x20, 0x15];
        assert_eq!(Compressor::new().compress(input, input.len() - 4).as_deref(), Some(&want[..]));
        assert_eq!(decompress(&want, input.len()).as_deref(), Some(&input[..]));
    }

    #[test]
    fn round_trips_and_refuses_what_does_not_fit() {
        let mut c = Compressor::new();
        let text = b"the quick brown fox jumps over the lazy dog, the quick brown fox jumps again and again";
        let packed = c.compress(text, text.len() - 4).expect("compressible");
        assert_eq!(decompress(&packed, text.len()).as_deref(), Some(&text[..]));
        // Random-looking bytes do not compress into fewer.
        let noise: Vec<u8> = (0..64u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        assert!(c.compress(&noise, noise.len() - 4).is_none());
        // A second call does not see the first call's positions.
        assert_eq!(c.compress(text, text.len() - 4), Some(packed));
    }

    #[test]
    fn corrupt_input_is_refused() {
        assert!(decompress(&[0x05, b'a'], 6).is_none()); // literal past the end
        assert!(decompress(&[0x20, 0x00], 2).is_none()); // reference before the start
        assert!(decompress(&[0x00, b'a'], 2).is_none()); // wrong length
        assert!(decompress(&[0xe0], 9).is_none()); // truncated reference
    }
}
