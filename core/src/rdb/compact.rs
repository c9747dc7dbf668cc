//! The older compact encodings Redis still reads from RDB files: ziplist (ziplist.c, lists, hashes and sorted
//! sets before 7.0), zipmap (zipmap.c, hashes before 2.6) and intset (intset.c, small integer sets, still
//! written by 7.0). Each is read with every length checked; the intset is also written.

use alloc::vec::Vec;

use super::listpack::Element;

/// Reads a whole ziplist, validated as `ziplistValidateIntegrity` does deeply: the header's size and tail
/// offset, each entry's previous-length field, the count (when below 65535) and the terminator.
pub fn parse_ziplist(zl: &[u8]) -> Option<Vec<Element<'_>>> {
    let total = u32::from_le_bytes(zl.get(..4)?.try_into().ok()?) as usize;
    let tail = u32::from_le_bytes(zl.get(4..8)?.try_into().ok()?) as usize;
    let count = u16::from_le_bytes(zl.get(8..10)?.try_into().ok()?) as usize;
    if total != zl.len() || total < 11 || *zl.last()? != 0xff {
        return None;
    }
    let end = total - 1;
    let mut p = 10usize;
    let mut prev_len = 0usize;
    let mut last_start = 10usize;
    let mut out = Vec::new();
    while p < end {
        let start = p;
        // The previous entry's length: one byte below 254, else 0xfe and four bytes.
        let first = *zl.get(p)?;
        let stored_prev = if first < 254 {
            p += 1;
            first as usize
        } else if first == 254 {
            let v = u32::from_le_bytes(zl.get(p + 1..p + 5)?.try_into().ok()?) as usize;
            p += 5;
            v
        } else {
            return None;
        };
        if stored_prev != prev_len {
            return None;
        }
        let enc = *zl.get(p)?;
        let (element, size) = match enc >> 6 {
            0 => {
                let n = (enc & 0x3f) as usize;
                (Element::Str(zl.get(p + 1..p + 1 + n)?), 1 + n)
            }
            1 => {
                let n = (((enc & 0x3f) as usize) << 8) | *zl.get(p + 1)? as usize;
                (Element::Str(zl.get(p + 2..p + 2 + n)?), 2 + n)
            }
            2 => {
                if enc != 0x80 {
                    return None;
                }
                let n = u32::from_be_bytes(zl.get(p + 1..p + 5)?.try_into().ok()?) as usize;
                (Element::Str(zl.get(p + 5..p + 5 + n)?), 5 + n)
            }
            _ => {
                let le = |n: usize| -> Option<u64> {
                    let s = zl.get(p + 1..p + 1 + n)?;
                    Some(s.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
                };
                let sign = |v: u64, bits: u32| ((v << (64 - bits)) as i64) >> (64 - bits);
                match enc {
                    0xc0 => (Element::Int(sign(le(2)?, 16)), 3),
                    0xd0 => (Element::Int(sign(le(4)?, 32)), 5),
                    0xe0 => (Element::Int(le(8)? as i64), 9),
                    0xf0 => (Element::Int(sign(le(3)?, 24)), 4),
                    0xfe => (Element::Int(sign(le(1)?, 8)), 2),
                    0xf1..=0xfd => (Element::Int((enc & 0x0f) as i64 - 1), 1),
                    _ => return None,
                }
            }
        };
        p += size;
        if p > end {
            return None;
        }
        prev_len = p - start;
        last_start = start;
        out.push(element);
    }
    let expected_tail = if out.is_empty() { 10 } else { last_start };
    if tail != expected_tail || (count < 65535 && count != out.len()) {
        return None;
    }
    Some(out)
}

/// Reads a zipmap (Redis ≤ 2.4 hashes) into its field/value pairs, validated as `zipmapValidateIntegrity`.
pub fn parse_zipmap(zm: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let declared = *zm.first()? as usize;
    let mut p = 1usize;
    let mut out = Vec::new();
    // A length: one byte below 254, 254 and four bytes (little-endian), 255 ends the map.
    let read_len = |p: &mut usize| -> Option<Option<usize>> {
        let b = *zm.get(*p)?;
        match b {
            0..=253 => {
                *p += 1;
                Some(Some(b as usize))
            }
            254 => {
                let v = u32::from_le_bytes(zm.get(*p + 1..*p + 5)?.try_into().ok()?) as usize;
                *p += 5;
                Some(Some(v))
            }
            _ => Some(None),
        }
    };
    while let Some(klen) = read_len(&mut p)? {
        let key = zm.get(p..p + klen)?;
        p += klen;
        let vlen = read_len(&mut p)??;
        let free = *zm.get(p)? as usize;
        p += 1;
        let value = zm.get(p..p + vlen)?;
        p += vlen + free;
        out.push((key, value));
    }
    // The terminator is the last byte.
    if p + 1 != zm.len() || (declared < 254 && declared != out.len()) {
        return None;
    }
    Some(out)
}

/// Reads an intset: its width (2, 4 or 8 bytes), count, and members in strictly ascending order.
pub fn parse_intset(is: &[u8]) -> Option<Vec<i64>> {
    let width = u32::from_le_bytes(is.get(..4)?.try_into().ok()?) as usize;
    let count = u32::from_le_bytes(is.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width)?.checked_add(8)? != is.len() {
        return None;
    }
    let mut out: Vec<i64> = Vec::with_capacity(count);
    for chunk in is.get(8..)?.chunks_exact(width) {
        let v = match width {
            2 => i16::from_le_bytes(chunk.try_into().ok()?) as i64,
            4 => i32::from_le_bytes(chunk.try_into().ok()?) as i64,
            _ => i64::from_le_bytes(chunk.try_into().ok()?),
        };
        if out.last().is_some_and(|&last| last >= v) {
            return None;
        }
        out.push(v);
    }
    Some(out)
}

/// Writes sorted, distinct members as an intset of the narrowest width that holds them all.
pub fn build_intset(members: &[i64]) -> Vec<u8> {
    let (lo, hi) = (members.first().copied().unwrap_or(0), members.last().copied().unwrap_or(0));
    let width: usize = if lo >= i16::MIN as i64 && hi <= i16::MAX as i64 {
        2
    } else if lo >= i32::MIN as i64 && hi <= i32::MAX as i64 {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + members.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for &m in members {
        match width {
            2 => out.extend_from_slice(&(m as i16).to_le_bytes()),
            4 => out.extend_from_slice(&(m as i32).to_le_bytes()),
            _ => out.extend_from_slice(&m.to_le_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn intset_as_redis_dumps_it() {
        // SADD si 1 2 3 70000 on redis-server 7.0.15: a 4-byte-wide intset.
        let want = [4, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x70, 0x11, 1, 0];
        assert_eq!(build_intset(&[1, 2, 3, 70000]), want);
        assert_eq!(parse_intset(&want), Some(vec![1, 2, 3, 70000]));
        assert_eq!(parse_intset(&build_intset(&[-5, i64::MAX])), Some(vec![-5, i64::MAX]));
        // Out of order or the wrong size is refused.
        assert!(parse_intset(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0]).is_none());
        assert!(parse_intset(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0]).is_none());
    }

    #[test]
    fn ziplist_entries() {
        // A ziplist of "ab", 7 (immediate), 300 (int16) and -200000 (int24), written by hand.
        let mut zl = vec![0u8; 10];
        let entries: [&[u8]; 4] = [&[0x00, 0x02, b'a', b'b'], &[0x04, 0xf8], &[0x02, 0xc0, 0x2c, 0x01], &[
            0x04, 0xf0, 0xc0, 0xf2, 0xfc,
        ]];
        let mut tail = 10;
        for e in entries {
            tail = zl.len();
            zl.extend_from_slice(e);
        }
        zl.push(0xff);
        let total = zl.len() as u32;
        zl[..4].copy_from_slice(&total.to_le_bytes());
        zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&4u16.to_le_bytes());
        let els = parse_ziplist(&zl).expect("valid");
        assert_eq!(els, vec![Element::Str(b"ab"), Element::Int(7), Element::Int(300), Element::Int(-200_000)]);
        let mut bad = zl.clone();
        bad[14] = 9; // wrong previous length
        assert!(parse_ziplist(&bad).is_none());
    }

    #[test]
    fn zipmap_pairs() {
        // {"f": "v", "name": "x"} with one free byte after the second value.
        let zm = [2, 1, b'f', 1, 0, b'v', 4, b'n', b'a', b'm', b'e', 1, 1, b'x', 0, 0xff];
        assert_eq!(parse_zipmap(&zm), Some(vec![(&b"f"[..], &b"v"[..]), (&b"name"[..], &b"x"[..])]));
        assert!(parse_zipmap(&zm[..zm.len() - 1]).is_none());
    }
}
