//! Software x87 80-bit extended precision, so INCRBYFLOAT and HINCRBYFLOAT answer byte for byte like Redis.
//!
//! Redis does these two commands in C `long double`, which on x86-64 is the x87 extended format: a 64-bit
//! mantissa with an explicit integer bit and a 15-bit exponent. It parses with `strtold` (via `string2ld`)
//! and prints with `%.17Lf` minus trailing zeros (`ld2string(..., LD_STR_HUMAN)`). The 11 extra mantissa
//! bits over `f64` are why `SET k 10.50; INCRBYFLOAT k 0.1` replies `10.6`: in extended precision the
//! sum's error sits below the 17th decimal, while in `f64` it shows (`10.59999999999999964`). Rust has no
//! extended type and the engine may not call libc, so this module does the three steps itself, each
//! correctly rounded the way glibc and the x87 unit are: decimal and hex parsing (round-half-even, via a
//! small bignum), addition (round-half-even at 64 bits), and exact fixed-point printing.
//!
//! Behaviour follows Redis 7.0.15 on x86-64 glibc, checked against both: `string2ld` rejects empty input,
//! input of `MAX_LONG_DOUBLE_CHARS` bytes or more, leading whitespace, anything `strtold` leaves
//! unconsumed (an embedded NUL included), NaN, and out-of-range decimals (`strtold` sets `ERANGE` and
//! returns ±HUGE_VAL or 0, which Redis refuses). A literal `inf` parses; the sum is refused later.

use alloc::vec::Vec;
use core::cmp::Ordering;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` copies into a buffer this size (NUL included), so input
/// this long or longer is refused.
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// An x87 80-bit extended value: zero, finite (normal or denormal), infinity or NaN, each with a sign.
///
/// Equality is representational: `-0` and `+0` differ, and a NaN equals itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    negative: bool,
    kind: Kind,
}

/// Why `incr_by_float` refused; the caller picks the Redis error text, which differs between commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrFloatError {
    /// The stored value is not a float (INCRBYFLOAT: "value is not a valid float";
    /// HINCRBYFLOAT: "hash value is not a float").
    CurrentNotFloat,
    /// The increment argument is not a float ("value is not a valid float").
    IncrementNotFloat,
    /// The sum is NaN or infinite ("increment would produce NaN or Infinity").
    NanOrInfinity,
}

impl LongDouble {
    /// Positive zero, the value Redis starts from when the key or field is missing.
    pub const ZERO: LongDouble = LongDouble { negative: false, kind: Kind::Zero };

    /// The exact value of an integer: every `i64` fits in the 64-bit mantissa, as with C's `(long double)ll`.
    pub fn from_i64(v: i64) -> LongDouble {
        round_pack(v < 0, u128::from(v.unsigned_abs()), 0, false)
    }

    /// True unless infinite or NaN.
    pub fn is_finite(&self) -> bool {
        matches!(self.kind, Kind::Zero | Kind::Finite { .. })
    }

    /// True for NaN.
    pub fn is_nan(&self) -> bool {
        matches!(self.kind, Kind::Nan)
    }

    /// The x87 memory encoding: (sign bit and 15-bit biased exponent, 64-bit mantissa with the integer bit).
    /// NaN is reported as the x87 "indefinite" quiet NaN.
    pub fn to_bits(&self) -> (u16, u64) {
        let sign = if self.negative { 0x8000 } else { 0 };
        match self.kind {
            Kind::Zero => (sign, 0),
            Kind::Finite { mantissa, exponent } => {
                // Denormals keep the smallest exponent but have the integer bit clear; their biased exponent is 0.
                let biased = if mantissa >> 63 == 0 { 0 } else { i64::from(exponent) + EXP_BIAS };
                (sign | (biased as u16 & 0x7fff), mantissa)
            }
            Kind::Infinite => (sign | 0x7fff, 1 << 63),
            Kind::Nan => (sign | 0x7fff, 3 << 62),
        }
    }

    /// Redis's `ld2string(LD_STR_HUMAN)`: `%.17Lf`, then trailing zeros and a trailing '.' dropped, and a
    /// lone "-0" turned into "0". `None` for infinity and NaN, which Redis refuses to store.
    pub fn to_human_string(&self) -> Option<Vec<u8>> {
        let mut out = self.fixed17()?;
        // `%.17Lf` always prints a '.', so the strip always applies.
        while out.last() == Some(&b'0') {
            out.pop();
        }
        if out.last() == Some(&b'.') {
            out.pop();
        }
        if out == b"-0" {
            out.remove(0);
        }
        Some(out)
    }

    /// Exactly glibc's `%.17Lf`: the binary value's exact decimal expansion rounded half-even at 17 decimals.
    fn fixed17(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        if self.negative {
            out.push(b'-');
        }
        match self.kind {
            Kind::Infinite | Kind::Nan => return None,
            Kind::Zero => out.extend_from_slice(b"0.00000000000000000"),
            Kind::Finite { mantissa, exponent } if exponent >= 0 => {
                let mut int = Big::from_u128(u128::from(mantissa));
                int.shl(exponent.unsigned_abs().into());
                out.extend_from_slice(&int.into_decimal());
                out.extend_from_slice(b".00000000000000000");
            }
            Kind::Finite { mantissa, exponent } => {
                // mantissa * 10^17 < 2^121, so the scaled value and its rounding fit a u128.
                let scaled = u128::from(mantissa) * TEN_POW_17;
                let units = shr_round_half_even(scaled, exponent.unsigned_abs().into(), false);
                push_u128(&mut out, units / TEN_POW_17);
                out.push(b'.');
                let frac = units % TEN_POW_17;
                let mut digits = Vec::new();
                push_u128(&mut digits, frac);
                out.resize(out.len() + 17usize.saturating_sub(digits.len()), b'0');
                out.extend_from_slice(&digits);
            }
        }
        Some(out)
    }
}

impl core::ops::Add for LongDouble {
    type Output = LongDouble;

    fn add(self, rhs: LongDouble) -> LongDouble {
        add(self, rhs)
    }
}

/// Redis's `string2ld`: the whole input must be one `strtold` number, with no leading whitespace, not NaN,
/// and not a decimal or hex value that overflows to infinity or underflows to zero.
pub fn parse(s: &[u8]) -> Option<LongDouble> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    let (negative, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(LongDouble { negative, kind: Kind::Infinite });
    }
    // "nan" and "nan(...)" parse in C but are refused by Redis, so they fall through to the failing paths.
    let value = match body {
        [b'0', b'x' | b'X', hex @ ..] => parse_hex(negative, hex)?,
        _ => parse_decimal(negative, body)?,
    };
    Some(value)
}

/// `a + b` rounded to nearest, ties to even, at 64 mantissa bits: what x87 `fadd` does under the default
/// extended precision control. Denormal sums are exact, so gradual underflow needs no extra care.
pub fn add(a: LongDouble, b: LongDouble) -> LongDouble {
    match (a.kind, b.kind) {
        (Kind::Nan, _) => a,
        (_, Kind::Nan) => b,
        (Kind::Infinite, Kind::Infinite) if a.negative != b.negative => LongDouble { negative: true, kind: Kind::Nan },
        (Kind::Infinite, _) => a,
        (_, Kind::Infinite) => b,
        // IEEE 754: the sum of two zeros is -0 only when both are -0.
        (Kind::Zero, Kind::Zero) => LongDouble::zero(a.negative && b.negative),
        (Kind::Zero, _) => b,
        (_, Kind::Zero) => a,
        (Kind::Finite { mantissa: ma, exponent: ea }, Kind::Finite { mantissa: mb, exponent: eb }) => {
            // Work with 62 guard bits below the larger operand's mantissa, plus a sticky bit for anything
            // shifted out of the smaller one: enough for a correctly rounded result.
            let (ea, eb) = (i64::from(ea), i64::from(eb));
            let e = ea.max(eb);
            let (x, sx) = shr_sticky(u128::from(ma) << GUARD, e.saturating_sub(ea));
            let (y, sy) = shr_sticky(u128::from(mb) << GUARD, e.saturating_sub(eb));
            let sticky = sx || sy;
            let lsb = e.saturating_sub(GUARD.into());
            if a.negative == b.negative {
                return round_pack(a.negative, x + y, lsb, sticky);
            }
            // Only an operand shifted right by more than the guard bits can set sticky, and such an operand
            // is far smaller than the other, so the truncated comparison decides the sign of the result.
            let (big, small, negative) = match x.cmp(&y) {
                Ordering::Greater => (x, y, a.negative),
                Ordering::Less => (y, x, b.negative),
                // Exact cancellation rounds to +0 in round-to-nearest.
                Ordering::Equal => return LongDouble::ZERO,
            };
            // The shifted-out fraction is subtracted too: borrow one unit and keep the rest as sticky.
            let diff = (big - small).saturating_sub(u128::from(sticky));
            round_pack(negative, diff, lsb, sticky)
        }
    }
}

/// INCRBYFLOAT's arithmetic: parse both, add, print like Redis. The stored value is checked first, as
/// INCRBYFLOAT does; a missing key is `b"0"`. HINCRBYFLOAT parses the increment and refuses an infinite
/// one ("value is NaN or Infinity") before reading the field, so it should `parse` and check
/// `is_finite` on the increment itself, then call this.
pub fn incr_by_float(current: &[u8], incr: &[u8]) -> Result<Vec<u8>, IncrFloatError> {
    let current = parse(current).ok_or(IncrFloatError::CurrentNotFloat)?;
    let incr = parse(incr).ok_or(IncrFloatError::IncrementNotFloat)?;
    add(current, incr).to_human_string().ok_or(IncrFloatError::NanOrInfinity)
}

/// A finite nonzero value is `mantissa * 2^exponent`. Normal values have bit 63 set and
/// `MIN_EXP <= exponent <= MAX_EXP`; denormals have bit 63 clear and `exponent == MIN_EXP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Zero,
    Finite { mantissa: u64, exponent: i32 },
    Infinite,
    Nan,
}

/// Exponent of the mantissa's lowest bit in the smallest binade (biased exponent 1, and denormals): 1 - 16383 - 63.
const MIN_EXP: i64 = -16445;
/// Exponent of the mantissa's lowest bit in the largest binade (biased exponent 32766): 32766 - 16383 - 63.
const MAX_EXP: i64 = 16320;
/// Adds to `exponent` to give the x87 biased exponent field.
const EXP_BIAS: i64 = 16383 + 63;
/// Guard bits for addition; 64 + 62 keeps the aligned sum of two operands below 2^127.
const GUARD: u32 = 62;
const TEN_POW_17: u128 = 100_000_000_000_000_000;
/// Decimal exponents past these bounds are certainly infinite or zero; clamping keeps the arithmetic small.
/// 10^(4933) exceeds the largest value; 10^(-4952) is below half the smallest denormal (2^-16446).
const DEC_OVERFLOW_EXP: i64 = 4933;
const DEC_UNDERFLOW_EXP: i64 = -4952;
/// Caps parsed exponents far beyond any meaningful range so sums of them cannot overflow an i64.
const EXP_CLAMP: i64 = 1 << 40;

impl LongDouble {
    fn zero(negative: bool) -> LongDouble {
        LongDouble { negative, kind: Kind::Zero }
    }
}

/// Rounds `(m + s) * 2^e` to the extended format, where `s` stands for a nonzero fraction of one unit of `m`
/// when `sticky` is set. Callers that set `sticky` give `m` at least 66 significant bits, so the fraction only
/// ever breaks ties. Handles denormals, rounding up into a new binade, and overflow to infinity.
fn round_pack(negative: bool, m: u128, e: i64, sticky: bool) -> LongDouble {
    if m == 0 {
        return LongDouble::zero(negative);
    }
    let bits = i64::from(128 - m.leading_zeros());
    let mut shift = bits - 64;
    if e.saturating_add(shift) < MIN_EXP {
        // Below the normal range the grid is fixed at 2^MIN_EXP: keep fewer bits (gradual underflow).
        shift = MIN_EXP.saturating_sub(e);
    }
    let mut exponent = e.saturating_add(shift);
    let mut mantissa = if shift <= 0 {
        // Fewer than 64 significant bits: exact, just move them up.
        m.checked_shl(shift.unsigned_abs() as u32).unwrap_or(0)
    } else {
        shr_round_half_even(m, shift.unsigned_abs(), sticky)
    };
    if mantissa >> 64 != 0 {
        // Rounded up to 2^64: exactly one more binade.
        mantissa >>= 1;
        exponent = exponent.saturating_add(1);
    }
    if mantissa == 0 {
        return LongDouble::zero(negative);
    }
    if exponent > MAX_EXP {
        return LongDouble { negative, kind: Kind::Infinite };
    }
    let exponent = i32::try_from(exponent).unwrap_or(i32::MAX);
    LongDouble { negative, kind: Kind::Finite { mantissa: mantissa as u64, exponent } }
}

/// `m / 2^shift` rounded to nearest, ties to even; `sticky` means a nonzero fraction lies below `m`'s lowest bit.
fn shr_round_half_even(m: u128, shift: u64, sticky: bool) -> u128 {
    if shift == 0 {
        return m;
    }
    if shift > 128 {
        // Even half a unit, 2^(shift-1), exceeds m.
        return 0;
    }
    let (q, rem) = if shift == 128 { (0, m) } else { (m >> shift, m & ((1u128 << shift) - 1)) };
    let half = 1u128 << (shift - 1);
    let up = rem > half || (rem == half && (sticky || q & 1 == 1));
    q + u128::from(up)
}

/// `m >> shift` and whether any 1 bits were shifted out.
fn shr_sticky(m: u128, shift: i64) -> (u128, bool) {
    match u32::try_from(shift) {
        Ok(s) if s < 128 => (m >> s, m & ((1u128 << s) - 1) != 0),
        _ => (0, m != 0),
    }
}

/// Rounds `big * 2^e` (plus a sticky fraction) from its top 128 bits.
fn round_pack_big(negative: bool, big: &Big, e: i64, sticky: bool) -> LongDouble {
    let bits = big.bit_len();
    if bits <= 128 {
        let (m, _) = big.shr_to_u128(0);
        return round_pack(negative, m, e, sticky);
    }
    let drop = bits - 128;
    let (m, lost) = big.shr_to_u128(drop);
    round_pack(negative, m, e.saturating_add(drop as i64), sticky || lost)
}

/// A finite, correctly rounded result, or `None` where `strtold` sets `ERANGE` with an infinite or zero result.
fn in_range(value: LongDouble) -> Option<LongDouble> {
    match value.kind {
        Kind::Finite { .. } => Some(value),
        _ => None,
    }
}

/// strtold's decimal form, which must fill `s`: digits with an optional '.', at least one digit, then an
/// optional exponent `e`/`E`, sign, digits.
fn parse_decimal(negative: bool, s: &[u8]) -> Option<LongDouble> {
    let int_len = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int_digits, rest) = s.split_at(int_len);
    let (frac_digits, rest) = match rest.split_first() {
        Some((b'.', after)) => {
            let n = after.iter().take_while(|c| c.is_ascii_digit()).count();
            after.split_at(n)
        }
        _ => (&[][..], rest),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let exp10 = match rest.split_first() {
        None => 0,
        Some((b'e' | b'E', exp)) => parse_exponent(exp)?,
        Some(_) => return None,
    };
    // value = digits * 10^(exp10 - frac_len), with leading and trailing zeros dropped from the digits.
    let mut digits: Vec<u8> = int_digits.iter().chain(frac_digits.iter()).copied().collect();
    let mut e10 = exp10.saturating_sub(frac_digits.len() as i64);
    while digits.last() == Some(&b'0') {
        digits.pop();
        e10 = e10.saturating_add(1);
    }
    let first = digits.iter().position(|&c| c != b'0');
    let digits = match first {
        // All zeros: an exact zero, never ERANGE, whatever the exponent.
        None => return Some(LongDouble::zero(negative)),
        Some(i) => digits.get(i..).unwrap_or(&[]),
    };
    let count = digits.len() as i64;
    // The value lies in [10^(count-1+e10), 10^(count+e10)).
    if count - 1 + e10 >= DEC_OVERFLOW_EXP || count + e10 <= DEC_UNDERFLOW_EXP {
        return None;
    }
    let mut num = Big::from_decimal(digits);
    if e10 >= 0 {
        // 10^e = 5^e * 2^e: multiply by the odd part only.
        num.mul_pow5(e10.unsigned_abs());
        return in_range(round_pack_big(negative, &num, e10, false));
    }
    // value = num / 5^f * 2^-f. Scale so the quotient has 66 or 67 bits: enough to round correctly.
    let f = e10.unsigned_abs();
    let mut den = Big::from_u128(1);
    den.mul_pow5(f);
    let mut e2 = e10;
    let want = den.bit_len() + 66;
    let have = num.bit_len();
    if have < want {
        num.shl(want - have);
        e2 = e2.saturating_sub((want - have) as i64);
    } else {
        den.shl(have - want);
        e2 = e2.saturating_add((have - want) as i64);
    }
    let (q, inexact) = div_small_quotient(&num, &den);
    in_range(round_pack(negative, q, e2, inexact))
}

/// strtold's hex form after the "0x": hex digits with an optional '.', at least one digit, then an optional
/// binary exponent `p`/`P`, sign, decimal digits.
fn parse_hex(negative: bool, s: &[u8]) -> Option<LongDouble> {
    let int_len = s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let (int_digits, rest) = s.split_at(int_len);
    let (frac_digits, rest) = match rest.split_first() {
        Some((b'.', after)) => {
            let n = after.iter().take_while(|c| c.is_ascii_hexdigit()).count();
            after.split_at(n)
        }
        _ => (&[][..], rest),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let exp2 = match rest.split_first() {
        None => 0,
        Some((b'p' | b'P', exp)) => parse_exponent(exp)?,
        Some(_) => return None,
    };
    let mut num = Big::from_u128(0);
    for &c in int_digits.iter().chain(frac_digits.iter()) {
        let digit = char::from(c).to_digit(16).unwrap_or(0);
        num.mul_add_small(16, digit);
    }
    if num.is_zero() {
        return Some(LongDouble::zero(negative));
    }
    let frac_bits = (frac_digits.len() as i64).saturating_mul(4);
    in_range(round_pack_big(negative, &num, exp2.saturating_sub(frac_bits), false))
}

/// An exponent's optional sign and its (at least one) decimal digits, filling `s`; clamped far out of range.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0')).min(EXP_CLAMP);
    }
    Some(if negative { -v } else { v })
}

/// `floor(num / den)` and whether a remainder is left; the caller keeps the quotient under 2^127.
fn div_small_quotient(num: &Big, den: &Big) -> (u128, bool) {
    let (nb, db) = (num.bit_len(), den.bit_len());
    if db == 0 || nb < db {
        return (0, !num.is_zero());
    }
    let shift = nb - db;
    let mut rem = num.clone();
    let mut d = den.clone();
    d.shl(shift);
    let mut q: u128 = 0;
    for _ in 0..=shift {
        q <<= 1;
        if rem.cmp(&d) != Ordering::Less {
            rem.sub_assign(&d);
            q |= 1;
        }
        d.shr1();
    }
    (q, !rem.is_zero())
}

fn push_u128(out: &mut Vec<u8>, mut v: u128) {
    let start = out.len();
    loop {
        out.push(b'0' + (v % 10) as u8);
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if let Some(tail) = out.get_mut(start..) {
        tail.reverse();
    }
}

/// An unsigned integer as little-endian 32-bit limbs with no high zero limbs: just the operations
/// exact parsing and printing need.
#[derive(Clone, Debug)]
struct Big {
    limbs: Vec<u32>,
}

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big { limbs }
    }

    fn from_decimal(digits: &[u8]) -> Big {
        let mut big = Big::from_u128(0);
        for chunk in digits.chunks(9) {
            let mut value = 0u32;
            let mut scale = 1u32;
            for &c in chunk {
                value = value * 10 + u32::from(c.wrapping_sub(b'0') % 10);
                scale *= 10;
            }
            big.mul_add_small(scale, value);
        }
        big
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
        }
    }

    fn mul_add_small(&mut self, mul: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in self.limbs.iter_mut() {
            let t = u64::from(*limb) * u64::from(mul) + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    fn mul_pow5(&mut self, mut n: u64) {
        // 5^13 is the largest power of five in a u32.
        while n >= 13 {
            self.mul_add_small(1_220_703_125, 0);
            n -= 13;
        }
        if n > 0 {
            self.mul_add_small(5u32.pow(n as u32), 0);
        }
    }

    fn shl(&mut self, n: u64) {
        if self.is_zero() {
            return;
        }
        let bits = (n % 32) as u32;
        if bits != 0 {
            let mut carry = 0u32;
            for limb in self.limbs.iter_mut() {
                let v = *limb;
                *limb = (v << bits) | carry;
                carry = v >> (32 - bits);
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        let words = usize::try_from(n / 32).unwrap_or(0);
        if words != 0 {
            let mut limbs = Vec::with_capacity(words + self.limbs.len());
            limbs.resize(words, 0);
            limbs.extend_from_slice(&self.limbs);
            self.limbs = limbs;
        }
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.limbs.iter_mut().rev() {
            let v = *limb;
            *limb = (v >> 1) | (carry << 31);
            carry = v & 1;
        }
        self.trim();
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }

    /// `self -= other`; the caller guarantees `self >= other`.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = 0u64;
        for (i, limb) in self.limbs.iter_mut().enumerate() {
            let sub = u64::from(other.limbs.get(i).copied().unwrap_or(0)) + borrow;
            let cur = u64::from(*limb);
            if cur >= sub {
                *limb = (cur - sub) as u32;
                borrow = 0;
            } else {
                *limb = (cur + (1 << 32) - sub) as u32;
                borrow = 1;
            }
        }
        self.trim();
    }

    /// `self /= d`, returning the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let d = u64::from(d.max(1));
        let mut rem = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / d) as u32;
            rem = cur % d;
        }
        self.trim();
        rem as u32
    }

    /// The low 128 bits of `self >> n`, and whether any 1 bits were shifted out.
    fn shr_to_u128(&self, n: u64) -> (u128, bool) {
        let words = usize::try_from(n / 32).unwrap_or(usize::MAX);
        let bits = (n % 32) as u32;
        let limb = |i: usize| self.limbs.get(i).copied().unwrap_or(0);
        let partial = bits != 0 && limb(words) & ((1u32 << bits) - 1) != 0;
        let sticky = partial || self.limbs.iter().take(words).any(|&l| l != 0);
        let mut out = 0u128;
        for j in 0..4usize {
            let i = words.saturating_add(j);
            let lo = limb(i);
            let word = if bits == 0 { lo } else { (lo >> bits) | (limb(i.saturating_add(1)) << (32 - bits)) };
            out |= u128::from(word) << (32 * j);
        }
        (out, sticky)
    }

    fn into_decimal(mut self) -> Vec<u8> {
        let mut chunks = Vec::new();
        while !self.is_zero() {
            chunks.push(self.div_small(1_000_000_000));
        }
        let mut out = Vec::new();
        let mut rest = chunks.iter().rev();
        match rest.next() {
            None => out.push(b'0'),
            Some(&top) => push_u128(&mut out, u128::from(top)),
        }
        for &chunk in rest {
            let mut digits = Vec::new();
            push_u128(&mut digits, u128::from(chunk));
            out.resize(out.len() + 9usize.saturating_sub(digits.len()), b'0');
            out.extend_from_slice(&digits);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    //! Expected values come from glibc `strtold` + x87 addition + `%.17Lf` on x86-64 (Redis 7.0.15's
    //! `string2ld`/`ld2string` compiled as-is) and were confirmed against a live Redis where noted.

    use super::*;
    use alloc::string::String;
    use alloc::vec;

    fn incr(a: &str, b: &str) -> Result<String, IncrFloatError> {
        incr_by_float(a.as_bytes(), b.as_bytes()).map(|v| String::from_utf8(v).unwrap_or_default())
    }

    fn bits(s: &str) -> Option<(u16, u64)> {
        parse(s.as_bytes()).map(|v| v.to_bits())
    }

    fn hex_sum(a: &str, b: &str) -> (u16, u64) {
        match (parse(a.as_bytes()), parse(b.as_bytes())) {
            (Some(x), Some(y)) => add(x, y).to_bits(),
            _ => (0xdead, 0),
        }
    }

    #[test]
    fn incrbyfloat_results() {
        let cases = [
            ("10.50", "0.1", "10.6"),
            ("3.0e3", "1", "3001"),
            ("5.0e3", "0", "5000"),
            ("1.1", "2.2", "3.3"),
            ("0.1", "0.2", "0.3"),
            ("1e20", "1", "100000000000000000000"),
            ("1e30", "0", "1000000000000000000024696061952"),
            ("-1.5", "1.5", "0"),
            ("-0", "-0", "0"),
            ("-1e-20", "0", "0"),
            ("1e-17", "0", "0.00000000000000001"),
            ("5e-18", "0", "0"),
            ("1.5e-17", "0", "0.00000000000000002"),
            ("0.00000000000000001", "0.000000000000000005", "0.00000000000000002"),
            ("3.14159265358979323846264338327950288", "0", "3.14159265358979324"),
            ("18446744073709551615", "1", "18446744073709551616"),
            ("9223372036854775807", "1", "9223372036854775808"),
            ("-9223372036854775808", "-1", "-9223372036854775809"),
            ("123456789012345678901234567890", "-123456789012345678901234567889", "0"),
            ("1e19", "-1e-19", "10000000000000000000"),
            ("+1", ".5", "1.5"),
            ("5.", "-.5", "4.5"),
            ("0x1.8p3", "0X.8P1", "13"),
            ("0e-99999", "1", "1"),
            ("1e-4940", "1e-4940", "0"),
            (
                "1.7976931348623157e308",
                "1e308",
                "279769313486231570002352240441350078789299929179619934003987695617693370918830364684014944221042050\
                 987341155710361544171686148029276505307138777262321877129888036065002204239033812550598509174132739\
                 480498569620043582760541189365866551522561741435317031294527744011878159793174665688773926186886103\
                 199182225408",
            ),
            (
                "1e300",
                "1",
                "100000000000000000000899732407955919387052394427329074793826008232126564659618093575584915208375049\
                 719035037250861427483590359255618467298391309626052074864628732713564184365329408425510760601678972\
                 665293237003055138294762099454029477278188962060617926761162709741065056718738610569008942491510400\
                 6144",
            ),
        ];
        for (a, b, want) in cases {
            assert_eq!(incr(a, b).as_deref(), Ok(want), "{a} + {b}");
        }
    }

    #[test]
    fn incrbyfloat_errors() {
        use IncrFloatError::*;
        let cases = [
            ("", "1", CurrentNotFloat),
            (" 1", "1", CurrentNotFloat),
            ("1 ", "1", CurrentNotFloat),
            ("\t1", "1", CurrentNotFloat),
            ("1\x002", "1", CurrentNotFloat),
            ("1", "nan", IncrementNotFloat),
            ("1", "-nan", IncrementNotFloat),
            ("1", "1e", IncrementNotFloat),
            ("1", "1e+", IncrementNotFloat),
            ("1", ".", IncrementNotFloat),
            ("1", "0x", IncrementNotFloat),
            ("1", "0x1p", IncrementNotFloat),
            ("1", "Infinit", IncrementNotFloat),
            ("1", "abc", IncrementNotFloat),
            ("1", "++1", IncrementNotFloat),
            // strtold reports ERANGE with ±HUGE_VAL or 0 here, which string2ld refuses.
            ("1e5000", "1", CurrentNotFloat),
            ("1", "1e-5000", IncrementNotFloat),
            ("1", "0x1p-16446", IncrementNotFloat),
            ("1", "1.18973149535723176508e4932", IncrementNotFloat),
            // Literal infinities parse; only the sum is refused.
            ("inf", "1", NanOrInfinity),
            ("-inf", "inf", NanOrInfinity),
            ("1", "Infinity", NanOrInfinity),
            ("infinity", "-1e4932", NanOrInfinity),
            ("1e4932", "1e4932", NanOrInfinity),
        ];
        for (a, b, want) in cases {
            assert_eq!(incr(a, b), Err(want), "{a:?} + {b:?}");
        }
    }

    #[test]
    fn length_limit() {
        // Redis 7.0.15 accepts 5119 bytes and refuses 5120 (checked against the server).
        let mut ok = vec![b'1', b'.'];
        ok.resize(MAX_LONG_DOUBLE_CHARS - 1, b'0');
        assert_eq!(incr_by_float(&ok, b"1"), Ok(b"2".to_vec()));
        ok.push(b'0');
        assert_eq!(incr_by_float(&ok, b"1"), Err(IncrFloatError::CurrentNotFloat));
    }

    #[test]
    fn parse_bits() {
        assert_eq!(bits("0.1"), Some((0x3ffb, 0xcccc_cccc_cccc_cccd)));
        assert_eq!(bits("10.50"), Some((0x4002, 0xa800_0000_0000_0000)));
        assert_eq!(bits("1e30"), Some((0x4062, 0xc9f2_c9cd_0467_4edf)));
        assert_eq!(bits("-1e-20"), Some((0xbfbc, 0xbce5_0864_9211_1aeb)));
        assert_eq!(bits("-0"), Some((0x8000, 0)));
        assert_eq!(bits("1e-4940"), Some((0, 0x6_6327_8e62)));
        assert_eq!(bits("1e4932"), Some((0x7ffe, 0xd72c_b2a9_5c7e_f6cd)));
        assert_eq!(bits("1.18973149535723176502e4932"), Some((0x7ffe, 0xffff_ffff_ffff_ffff)));
        assert_eq!(bits("0x1p-16445"), Some((0, 1)));
        assert_eq!(bits("-inf"), Some((0xffff, 1 << 63)));
        assert_eq!(LongDouble::from_i64(i64::MIN).to_bits(), (0xc03e, 1 << 63));
        assert_eq!(LongDouble::from_i64(0), LongDouble::ZERO);
    }

    #[test]
    fn addition_rounds_half_even() {
        // 1 + 2^-64 is exactly halfway: stays at the even 1; 1 + 3*2^-65 is above halfway.
        assert_eq!(hex_sum("0x1p0", "0x1p-64"), (0x3fff, 1 << 63));
        assert_eq!(hex_sum("0x1p0", "0x3p-65"), (0x3fff, (1 << 63) | 1));
        assert_eq!(hex_sum("0x1p0", "-0x1p-65"), (0x3fff, 1 << 63));
        assert_eq!(hex_sum("0x1p0", "-0x1p-66"), (0x3fff, 1 << 63));
        assert_eq!(hex_sum("0x1.0000000000000002p0", "0x1p-64"), (0x3fff, (1 << 63) | 2));
        assert_eq!(hex_sum("-0x1p0", "0x1.0000000000000002p0"), (0x3fc0, 1 << 63));
        // Denormal sums are exact; 0 + -0 is +0, -0 + -0 is -0; inf - inf is the x87 default NaN.
        assert_eq!(hex_sum("1e-4940", "1e-4940"), (0, 0xc_c64f_1cc4));
        assert_eq!(hex_sum("0", "-0"), (0, 0));
        assert_eq!(hex_sum("-0", "-0"), (0x8000, 0));
        assert_eq!(hex_sum("-inf", "inf"), (0xffff, 3 << 62));
    }

    #[test]
    fn printing_ties_go_to_even() {
        // 2^-18 = 0.000003814697265625 ends in a 5 at the 18th decimal.
        assert_eq!(incr("0x1p-18", "0").as_deref(), Ok("0.00000381469726562"));
        assert_eq!(incr("0x3p-18", "0").as_deref(), Ok("0.00001144409179688"));
    }

    #[test]
    fn largest_value_prints_every_digit() {
        let s = incr("1.18973149535723176502e4932", "0").unwrap_or_default();
        assert_eq!(s.len(), 4933);
        assert!(s.starts_with("1189731495357231765021263853030970205169063322294624200440323733891737005522970722616"));
        assert!(s.ends_with("489260031762345960769508849149662444156604419552086811989770240"));
    }
}
