//! HyperLogLog: Redis's cardinality sketch, kept in a plain string value byte for byte as Redis keeps it
//! (hyperloglog.c), so GET, DUMP and SETRANGE see exactly Redis's bytes and PFCOUNT answers Redis's numbers.
//!
//! The string is a 16-byte header and the registers:
//!
//! ```text
//! +------+---+-----+----------+-----------------------------+
//! | HYLL | E | N/U | Cardin.  | registers (dense or sparse) |
//! +------+---+-----+----------+-----------------------------+
//! ```
//!
//! `E` is the encoding (0 dense, 1 sparse), `N/U` three unused bytes, `Cardin.` the last computed cardinality
//! as a little-endian u64 whose top bit says the cache is stale.
//!
//! - Dense: 16384 registers of 6 bits, packed from the least significant bit of each byte on (12288 bytes).
//! - Sparse: a run-length code of opcodes. `ZERO` is `00xxxxxx` (1..=64 zero registers), `XZERO` is
//!   `01xxxxxx yyyyyyyy` (1..=16384 zero registers), `VAL` is `1vvvvvxx` (1..=4 registers of value 1..=32).
//!
//! A key starts sparse and becomes dense, never back, when a register needs a value above 32 or the sparse
//! string would grow past `hll-sparse-max-bytes`.
//!
//! The value can be anything a user wrote with SET or SETRANGE, so every reader here treats the bytes as
//! untrusted: a malformed sparse string is reported as `Corrupt` (Redis's INVALIDOBJ), never a panic. Where
//! Redis's C code reads one byte past the end of the string (the sds NUL terminator), these functions read 0.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// The header: magic, encoding, three unused bytes, cached cardinality.
pub const HDR_SIZE: usize = 16;
/// Bits of the hash that choose the register (Redis's HLL_P).
const P: u32 = 14;
/// The hash bits left for the run of zeros (HLL_Q).
const Q: usize = 64 - P as usize;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const BITS: usize = 6;
const REGISTER_MAX: u32 = (1 << BITS) - 1;
/// The length of a dense HLL string, header included; a dense value of any other length is not an HLL.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = SPARSE;

const SPARSE_XZERO_BIT: u8 = 0x40;
const SPARSE_VAL_BIT: u8 = 0x80;
const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;

/// Redis's HLL_ALPHA_INF, 0.5/ln(2), written as Redis writes it.
#[allow(clippy::excessive_precision)]
const ALPHA_INF: f64 = 0.721_347_520_444_481_703_680;
/// The seed Redis hashes elements with.
const HASH_SEED: u64 = 0xadc8_3b19;

/// A sparse HLL whose opcodes do not cover exactly 16384 registers (Redis's `INVALIDOBJ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

// ---------------------------------------------------------------------------------------------------------------
// The header.

/// An empty HLL as PFADD and PFMERGE create it: sparse, one XZERO opcode covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut s = vec![0u8; HDR_SIZE];
    s[..4].copy_from_slice(b"HYLL");
    s[4] = SPARSE;
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        s.extend_from_slice(&xzero_op(run));
        left -= run;
    }
    s
}

/// Whether a string's bytes can be used as an HLL (Redis's isHLLObjectOrReply): long enough for the header,
/// the magic, a known encoding, and for a dense HLL the exact length. A sparse body is only checked as it is
/// read.
pub fn is_hll(s: &[u8]) -> bool {
    s.len() >= HDR_SIZE
        && s.starts_with(b"HYLL")
        && byte(s, 4) <= MAX_ENCODING
        && (byte(s, 4) != DENSE || s.len() == DENSE_SIZE)
}

pub fn is_sparse(s: &[u8]) -> bool {
    byte(s, 4) == SPARSE
}

/// The cached cardinality, when it is valid (the top bit of the last header byte clear).
pub fn cached_card(s: &[u8]) -> Option<u64> {
    let card: [u8; 8] = s.get(8..HDR_SIZE)?.try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

pub fn set_cached_card(s: &mut [u8], card: u64) {
    if let Some(c) = s.get_mut(8..HDR_SIZE) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale: only its top bit changes, the old bytes stay (HLL_INVALIDATE_CACHE).
pub fn invalidate_cache(s: &mut [u8]) {
    if let Some(b) = s.get_mut(HDR_SIZE - 1) {
        *b |= 0x80;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Hashing.

/// MurmurHash2, 64-bit version (MurmurHash64A), reading 8-byte blocks little-endian as Redis does on every
/// architecture.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    // C computes `len * m` with the int length widened to 64 bits.
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the length of its `000..1` pattern (Redis's hllPatLen): the low 14 bits
/// of the hash pick the register, the count is the trailing zeros of the remaining 50 bits plus one, at most 51.
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, HASH_SEED);
    let index = (hash & P_MASK) as usize;
    // The sentinel bit ends the run after Q zeros.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------------------------------------------
// The dense representation. `regs` is the string after the header.

fn byte(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// Register `i` of a dense HLL (HLL_DENSE_GET_REGISTER).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let at = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = byte(regs, at) as u32;
    let b1 = byte(regs, at + 1) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX) as u8
}

/// Sets register `i` of a dense HLL to `val` (HLL_DENSE_SET_REGISTER); `val` is at most 63.
fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let at = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let fb8 = 8 - fb;
    let v = val as u32;
    if let Some(b) = regs.get_mut(at) {
        *b &= !((REGISTER_MAX << fb) as u8);
        *b |= (v << fb) as u8;
    }
    if let Some(b) = regs.get_mut(at + 1) {
        *b &= !((REGISTER_MAX >> fb8) as u8);
        *b |= (v >> fb8) as u8;
    }
}

/// Raises register `i` to `count` if it is lower (hllDenseSet); true when it changed.
fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The sparse representation.

/// One sparse opcode: how many registers it covers and their value (0 for ZERO and XZERO).
#[derive(Clone, Copy)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    /// Bytes the opcode takes.
    fn size(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }
}

/// The opcode at `p`. An XZERO cut short by the end of the string reads its second byte as 0, as Redis's
/// code reads the NUL terminator there.
fn op_at(s: &[u8], p: usize) -> Op {
    let b = byte(s, p);
    if b & 0xc0 == 0 {
        Op::Zero((b & 0x3f) as usize + 1)
    } else if b & 0xc0 == SPARSE_XZERO_BIT {
        Op::XZero(((((b & 0x3f) as usize) << 8) | byte(s, p + 1) as usize) + 1)
    } else {
        Op::Val(((b >> 2) & 0x1f) + 1, (b & 0x3) as usize + 1)
    }
}

fn is_val(b: u8) -> bool {
    b & SPARSE_VAL_BIT != 0
}

/// A VAL opcode for `len` (1..=4) registers of `val` (1..=32).
fn val_op(val: u8, len: usize) -> u8 {
    ((val - 1) << 2 | (len as u8 - 1)) | SPARSE_VAL_BIT
}

fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | SPARSE_XZERO_BIT, (l & 0xff) as u8]
}

/// A run of `len` zero registers as the shortest opcode Redis would write.
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero_op(len));
    } else {
        seq.push(zero_op(len));
    }
}

/// The dense form of a sparse HLL (hllSparseToDense): the header is kept, cached cardinality and unused bytes
/// included, with the encoding changed. Corrupt unless the opcodes cover exactly 16384 registers.
fn sparse_to_dense(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut dense = vec![0u8; DENSE_SIZE];
    if let (Some(d), Some(h)) = (dense.get_mut(..HDR_SIZE), s.get(..HDR_SIZE)) {
        d.copy_from_slice(h);
    }
    dense[4] = DENSE;
    let regs = dense.get_mut(HDR_SIZE..).unwrap_or_default();
    let mut idx = 0usize;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let op = op_at(s, p);
        match op {
            Op::Zero(n) | Op::XZero(n) => idx += n,
            Op::Val(v, n) => {
                if idx + n > REGISTERS {
                    break;
                }
                for _ in 0..n {
                    dense_put(regs, idx, v);
                    idx += 1;
                }
            }
        }
        p += op.size();
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(dense)
}

/// Raises register `index` of a sparse HLL to `count` if it is lower (hllSparseSet), splitting the opcode that
/// covers it and merging equal VAL neighbours as Redis does, so the bytes come out identical. Promotes the HLL
/// to dense when `count` does not fit a VAL opcode or the string would grow past `max_bytes`.
/// Ok(true) when the register changed; Corrupt when the opcodes do not reach `index` (or, on promotion, do
/// not cover exactly 16384 registers).
fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: u64) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: find the opcode covering `index`, with its first register and the opcode before it.
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev = None;
    let mut span = 0usize;
    while p < s.len() {
        let op = op_at(s, p);
        span = op.span();
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += op.size();
        first += span;
    }
    if span == 0 || p >= s.len() {
        return Err(Corrupt);
    }
    let op = op_at(s, p);
    let has_next = p + op.size() < s.len();

    // Step 2: the trivial updates in place, else the replacement sequence (at most XZERO-VAL-XZERO).
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    let last = first + span - 1;
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => {
            if let Some(b) = s.get_mut(p) {
                *b = val_op(count, 1);
            }
            return Ok(merge_vals_and_invalidate(s, prev));
        }
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
        Op::Val(cur, _) => {
            if index != first {
                seq.push(val_op(cur, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(cur, last - index));
            }
        }
    }

    // Step 3: put the sequence in place of the opcode, unless the string would grow too long.
    let old_len = op.size();
    let len = s.len();
    if seq.len() > old_len && (len + seq.len() - old_len) as u64 > max_bytes {
        return promote(s, index, count);
    }
    let new_len = len + seq.len() - old_len;
    let replaced_end = if has_next { p + old_len } else { len };
    s.splice(p..replaced_end, seq);
    // Only differs from the spliced length when the last opcode was an XZERO cut short by the end of the string:
    // Redis still counts it as two bytes, so the last byte written falls off.
    s.truncate(new_len);
    Ok(merge_vals_and_invalidate(s, prev))
}

/// Step 4 of a sparse update: from the opcode before the changed one, up to five opcodes are scanned and two
/// adjacent VAL opcodes of the same value merged when their lengths fit one opcode. Then the cache is marked
/// stale. Always true (the register changed).
fn merge_vals_and_invalidate(s: &mut Vec<u8>, prev: Option<usize>) -> bool {
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let op = op_at(s, p);
        let Op::Val(v1, l1) = op else {
            p += op.size();
            continue;
        };
        if p + 1 < s.len() && is_val(byte(s, p + 1)) {
            if let Op::Val(v2, l2) = op_at(s, p + 1) {
                if v1 == v2 && l1 + l2 <= SPARSE_VAL_MAX_LEN {
                    if let Some(b) = s.get_mut(p + 1) {
                        *b = val_op(v1, l1 + l2);
                    }
                    s.remove(p);
                    // Stay on the merged opcode: it may merge with the next one too.
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    true
}

/// Turns a sparse HLL dense and sets the register there. The register is necessarily raised (the sparse
/// update had found it lower), so this answers true as Redis's assertion requires.
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    let mut dense = sparse_to_dense(s)?;
    dense_set(dense.get_mut(HDR_SIZE..).unwrap_or_default(), index, count);
    *s = dense;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------------------------
// The operations the commands use.

/// Adds an element (hllAdd): true when a register changed. The string must have passed `is_hll`.
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: u64) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    set_register(s, index, count, max_bytes)
}

/// Raises one register in either encoding; true when it changed.
pub fn set_register(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: u64) -> Result<bool, Corrupt> {
    match byte(s, 4) {
        DENSE => Ok(dense_set(s.get_mut(HDR_SIZE..).unwrap_or_default(), index, count)),
        SPARSE => sparse_set(s, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

/// Makes a sparse HLL dense in place; true when it was sparse.
pub fn to_dense(s: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if byte(s, 4) != SPARSE {
        return Ok(false);
    }
    *s = sparse_to_dense(s)?;
    Ok(true)
}

/// Folds an HLL's registers into `max` (register-wise maximum, Redis's hllMerge); `max` has 16384 entries.
pub fn merge_into(max: &mut [u8], s: &[u8]) -> Result<(), Corrupt> {
    if byte(s, 4) == DENSE {
        let regs = s.get(HDR_SIZE..).unwrap_or_default();
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let mut i = 0usize;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let op = op_at(s, p);
        match op {
            Op::Zero(n) | Op::XZero(n) => i += n,
            Op::Val(v, n) => {
                if i + n > REGISTERS {
                    break;
                }
                for m in max.iter_mut().skip(i).take(n) {
                    *m = (*m).max(v);
                }
                i += n;
            }
        }
        p += op.size();
    }
    if i != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

/// The estimate of one HLL (hllCount). A sparse HLL whose opcodes do not cover exactly 16384 registers is
/// Corrupt.
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u64; 64];
    let bump = |histo: &mut [u64; 64], v: u8, n: usize| {
        if let Some(h) = histo.get_mut(v as usize) {
            *h += n as u64;
        }
    };
    if byte(s, 4) == DENSE {
        let regs = s.get(HDR_SIZE..).unwrap_or_default();
        for i in 0..REGISTERS {
            bump(&mut histo, dense_get(regs, i), 1);
        }
    } else {
        let mut idx = 0usize;
        let mut p = HDR_SIZE;
        while p < s.len() {
            let op = op_at(s, p);
            match op {
                Op::Zero(n) | Op::XZero(n) => bump(&mut histo, 0, n),
                Op::Val(v, n) => bump(&mut histo, v, n),
            }
            idx += op.span();
            p += op.size();
        }
        if idx != REGISTERS {
            return Err(Corrupt);
        }
    }
    Ok(estimate(&histo))
}

/// The estimate of a register array of one byte per register (PFCOUNT of several keys, Redis's HLL_RAW).
pub fn count_registers(regs: &[u8]) -> u64 {
    let mut histo = [0u64; 64];
    for &r in regs.iter().take(REGISTERS) {
        if let Some(h) = histo.get_mut(r as usize) {
            *h += 1;
        }
    }
    estimate(&histo)
}

/// Redis 7.0's estimator from the register histogram (Otmar Ertl, "New cardinality estimation algorithms for
/// HyperLogLog sketches", arXiv:1702.01284), with Redis's floating-point operations in Redis's order so the
/// result is the same integer. Registers above Q+1 (only in a hand-made value) count for nothing, as in Redis.
fn estimate(histo: &[u64; 64]) -> u64 {
    let h = |i: usize| histo.get(i).copied().unwrap_or(0) as f64;
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h(Q + 1)) / m);
    for j in (1..=Q).rev() {
        z += h(j);
        z *= 0.5;
    }
    z += m * sigma(h(0) / m);
    llround_as_u64(ALPHA_INF * m * m / z)
}

/// Ertl's sigma function, as Redis computes it.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prev = z;
        z += x * y;
        y += y;
        if z_prev == z {
            return z;
        }
    }
}

/// Ertl's tau function, as Redis computes it. C's `pow(1 - x, 2)` is the square, computed here as a product.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = sqrt(x);
        let z_prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prev == z {
            return z / 3.0;
        }
    }
}

/// `(uint64_t)(double)llroundl(d)` on x86-64: rounding half away from zero; a value out of `long long`'s range
/// (or infinite, when every register holds 51) gives the "integer indefinite" 0x8000000000000000, which Redis
/// then stores and replies as a negative number.
fn llround_as_u64(d: f64) -> u64 {
    if d.is_nan() || d.abs() >= 9_223_372_036_854_775_808.0 {
        return 1 << 63;
    }
    let t = d as i64;
    let frac = d - t as f64;
    let r = if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    };
    r as u64
}

/// The correctly rounded square root (what C's `sqrt` returns), computed on integers since `core` has no
/// `f64::sqrt`.
fn sqrt(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 || x.is_infinite() {
        return x;
    }
    let bits = x.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    // x = mant * 2^exp with mant an integer in [2^52, 2^53).
    let (mant, mut exp) = if raw_exp == 0 {
        let shift = frac.leading_zeros() as i64 - 11;
        (frac << shift, 1 - 1075 - shift)
    } else {
        (frac | (1u64 << 52), raw_exp - 1075)
    };
    let mut n = mant as u128;
    if exp & 1 != 0 {
        n <<= 1;
        exp -= 1;
    }
    // Scale so the integer root has 55 bits: 53 kept, a guard bit and a sticky bit.
    n <<= 56;
    exp -= 56;
    let (root, rem) = isqrt(n);
    let mut kept = (root >> 2) as u64;
    let guard = root & 2 != 0;
    let sticky = root & 1 != 0 || rem != 0;
    if guard && (sticky || kept & 1 != 0) {
        kept += 1;
    }
    kept as f64 * pow2(exp / 2 + 2)
}

/// The integer square root of `n` and the remainder.
fn isqrt(mut n: u128) -> (u128, u128) {
    let mut root = 0u128;
    let mut bit = 1u128 << 126;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if n >= root + bit {
            n -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    (root, n)
}

/// 2^k for k in the normal range.
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023).clamp(1, 2046) as u64) << 52)
}

// ---------------------------------------------------------------------------------------------------------------
// Debugging (PFDEBUG, PFSELFTEST).

/// Every register of a dense HLL.
pub fn registers(s: &[u8]) -> Vec<u8> {
    let regs = s.get(HDR_SIZE..).unwrap_or_default();
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// The opcodes of a sparse HLL as PFDEBUG DECODE prints them: `Z:n` (XZERO), `z:n` (ZERO), `v:value,n` (VAL),
/// space-separated.
pub fn decode(s: &[u8]) -> String {
    let mut out = String::new();
    let mut p = HDR_SIZE;
    while p < s.len() {
        let op = op_at(s, p);
        if !out.is_empty() {
            out.push(' ');
        }
        match op {
            Op::Zero(n) => out.push_str(&alloc::format!("z:{n}")),
            Op::XZero(n) => out.push_str(&alloc::format!("Z:{n}")),
            Op::Val(v, n) => out.push_str(&alloc::format!("v:{v},{n}")),
        }
        p += op.size();
    }
    out
}

/// A self-test of the representation in the spirit of Redis's PFSELFTEST, kept short: dense registers read back
/// what was written without disturbing their neighbours, and a sparse and a dense HLL fed the same elements
/// agree and stay within a few standard errors. Redis's own test runs ten million elements; this one does not.
pub fn self_test() -> Result<(), String> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut expect = vec![0u8; REGISTERS];
    for _ in 0..8 {
        for (i, e) in expect.iter_mut().enumerate() {
            let r = (rand() & REGISTER_MAX as u64) as u8;
            *e = r;
            dense_put(&mut regs, i, r);
        }
        for (i, &e) in expect.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != e {
                return Err(alloc::format!("TESTFAILED Register {i} should be {e} but is {got}"));
            }
        }
    }
    let mut dense = new_sparse();
    dense[4] = DENSE;
    dense.truncate(HDR_SIZE);
    dense.resize(DENSE_SIZE, 0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / sqrt(REGISTERS as f64);
    let seed = rand();
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let _ = add(&mut dense, &ele, 3000);
        if add(&mut sparse, &ele, 3000).is_err() {
            return Err(String::from("TESTFAILED sparse representation corrupted"));
        }
        if j == checkpoint {
            if j < 1500 && !is_sparse(&sparse) {
                return Err(String::from("TESTFAILED sparse encoding not used"));
            }
            let card = count(&dense).map_err(|_| String::from("TESTFAILED dense corrupted"))?;
            if count(&sparse) != Ok(card) {
                return Err(String::from("TESTFAILED dense/sparse disagree"));
            }
            let abserr = checkpoint.abs_diff(card);
            let maxerr = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64) as u64 + 1 };
            if abserr > maxerr {
                return Err(alloc::format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"));
            }
            checkpoint *= 10;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn sqrt_is_correctly_rounded() {
        let mut x = 1e-300f64;
        while x < 1e300 {
            for v in [x, x * 1.000_000_1, x * 3.3, f64::from_bits(x.to_bits() + 1)] {
                assert_eq!(sqrt(v), std::primitive::f64::sqrt(v), "{v}");
            }
            x *= 1.7;
        }
        assert_eq!(sqrt(f64::MIN_POSITIVE / 8.0), (f64::MIN_POSITIVE / 8.0).sqrt());
        assert_eq!(sqrt(0.25), 0.5);
    }

    #[test]
    fn empty_sparse_is_one_xzero() {
        let s = new_sparse();
        assert_eq!(s, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert_eq!(count(&s), Ok(0));
        assert_eq!(decode(&s), "Z:16384");
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        to_dense(&mut dense).unwrap();
        for i in 0..2000u32 {
            let e = alloc::format!("e{i}");
            let a = add(&mut sparse, e.as_bytes(), u64::MAX).unwrap();
            let b = add(&mut dense, e.as_bytes(), u64::MAX).unwrap();
            assert_eq!(a, b);
        }
        assert_eq!(registers(&sparse_to_dense(&sparse).unwrap()), registers(&dense));
        assert_eq!(count(&sparse), count(&dense));
    }

    #[test]
    fn corrupt_sparse_never_panics() {
        let mut s = new_sparse();
        for e in 0..50u32 {
            add(&mut s, &e.to_le_bytes(), 3000).unwrap();
        }
        let base = s.clone();
        for pos in HDR_SIZE..base.len() + 2 {
            for b in [0u8, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0xfc] {
                let mut t = base.clone();
                if pos < t.len() {
                    t[pos] = b;
                } else {
                    t.push(b);
                }
                let _ = count(&t);
                let mut max = vec![0u8; REGISTERS];
                let _ = merge_into(&mut max, &t);
                for e in 0..20u32 {
                    let _ = add(&mut t, &(e * 7919).to_le_bytes(), 3000);
                }
                let _ = decode(&t);
                let _ = to_dense(&mut t);
            }
        }
    }

    /// Dense HLLs no PFADD makes (registers of 50 and 51 everywhere), with the counts redis-server 7.0.15 gives
    /// for them: these go through tau's square roots and llroundl's out-of-range result.
    #[test]
    fn hand_made_registers_count_as_in_redis() {
        let dense = |f: &dyn Fn(usize) -> u8| {
            let mut s = new_sparse();
            to_dense(&mut s).unwrap();
            for i in 0..REGISTERS {
                dense_put(&mut s[HDR_SIZE..], i, f(i));
            }
            s
        };
        let cases: [(&dyn Fn(usize) -> u8, u64); 6] = [
            (&|_| 51, 1 << 63),
            (&|_| 50, 1 << 63),
            (&|i| if i < 16000 { 51 } else { 1 }, 1_008_517),
            (&|i| if i < 16383 { 51 } else { 0 }, 193_623_433),
            (&|i| 30 + (i % 22) as u8, 139_539_823_917_546),
            (&|i| if i < 8192 { 51 } else { 3 }, 189_097),
        ];
        for (f, want) in cases {
            let s = dense(f);
            assert_eq!(count(&s), Ok(want));
            assert_eq!(count_registers(&registers(&s)), want);
        }
    }

    #[test]
    fn self_test_passes() {
        assert_eq!(self_test(), Ok(()));
    }
}
