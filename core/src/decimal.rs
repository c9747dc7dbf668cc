//! Exact conversions between decimal text and doubles, as glibc's `strtod` and `printf` make them: parsing
//! rounds the exact decimal value to the nearest double, printing rounds the exact binary value to the
//! requested digits, both with ties to even.
//!
//! Written here rather than taken from `core`: `str::parse::<f64>` and `format!("{:.*e}")` are exact too, but
//! bring about 40 KB of WebAssembly (Eisel-Lemire's 10 KB table of powers of five, Grisu and Dragon4 with
//! their own tables) into the engine package. Here a small big-integer type does the work: the common cases
//! take a fast path (a number of at most 19 digits with a small exponent, an integral double), the rest is a
//! few multiplications and one division on numbers of at most a few hundred 32-bit words.

use alloc::vec::Vec;

/// A natural number in base 2^32, least significant word first, without high zero words.
#[derive(Clone, Debug, PartialEq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(alloc::vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of significant bits.
    fn bits(&self) -> u64 {
        match self.0.last() {
            Some(&top) => self.0.len() as u64 * 32 - u64::from(top.leading_zeros()),
            None => 0,
        }
    }

    /// `self = self * m + add`.
    fn mul_add_small(&mut self, m: u32, add: u32) {
        let mut carry = u64::from(add);
        for w in self.0.iter_mut() {
            let v = u64::from(*w) * u64::from(m) + carry;
            *w = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    /// `self *= 5^n`.
    fn mul_pow5(&mut self, mut n: u64) {
        // 5^13 is the largest power of five below 2^32.
        while n >= 13 {
            self.mul_add_small(1_220_703_125, 0);
            n -= 13;
        }
        if n > 0 {
            self.mul_add_small(5u32.pow(n as u32), 0);
        }
    }

    /// `self *= 10^n`.
    fn mul_pow10(&mut self, n: u64) {
        self.mul_pow5(n);
        self.shl(n);
    }

    /// `self <<= n`.
    fn shl(&mut self, n: u64) {
        if self.is_zero() {
            return;
        }
        let words = (n / 32) as usize;
        let bits = (n % 32) as u32;
        if bits > 0 {
            let mut carry = 0u32;
            for w in self.0.iter_mut() {
                let v = *w;
                *w = (v << bits) | carry;
                carry = v >> (32 - bits);
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        if words > 0 {
            self.0.splice(0..0, core::iter::repeat_n(0, words));
        }
    }

    /// `self >>= 1`.
    fn shr1(&mut self) {
        let mut carry = 0u32;
        for w in self.0.iter_mut().rev() {
            let v = *w;
            *w = (v >> 1) | carry;
            carry = v << 31;
        }
        self.trim();
    }

    fn cmp(&self, other: &Big) -> core::cmp::Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self -= other`, where `other <= self`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, w) in self.0.iter_mut().enumerate() {
            let v = i64::from(*w) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(v < 0);
            *w = v.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }

    /// `self /= d` (d > 0), returning the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for w in self.0.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*w);
            *w = (v / u64::from(d)) as u32;
            rem = v % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    /// The decimal digits (ASCII), most significant first; empty for zero.
    fn decimal(mut self) -> Vec<u8> {
        let mut groups = Vec::new();
        while !self.is_zero() {
            groups.push(self.div_small(1_000_000_000));
        }
        let mut out = Vec::with_capacity(groups.len() * 9);
        for (i, g) in groups.iter().rev().enumerate() {
            let text = u32_digits(*g);
            // Inner groups are nine digits with their leading zeros.
            if i > 0 {
                out.extend(core::iter::repeat_n(b'0', 9 - text.len()));
            }
            out.extend_from_slice(&text);
        }
        out
    }
}

fn u32_digits(mut v: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    loop {
        out.push(b'0' + (v % 10) as u8);
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.reverse();
    out
}

/// Significant decimal digits kept when parsing: any double's exact halfway point between two neighbours has
/// at most 767 of them, so the digits beyond only tell whether the value is above such a point (a sticky digit).
const MAX_DIGITS: usize = 800;

/// The double nearest to `digits × 10^exp10` (ties to even), `digits` being ASCII decimal digits; ±0 and
/// infinity are the results of underflow and overflow, as `strtod` gives them (the caller checks the range).
pub fn parse(digits: &[u8], exp10: i64) -> f64 {
    let digits = match digits.iter().position(|&c| c != b'0') {
        Some(first) => digits.get(first..).unwrap_or_default(),
        None => return 0.0,
    };
    let mut exp10 = exp10;
    // The fast path: an exact integer below 2^53 times an exact power of ten is one correctly rounded
    // operation (Clinger's).
    if digits.len() <= 15 && (-22..=22).contains(&exp10) {
        let v = digits.iter().fold(0u64, |v, &c| v * 10 + u64::from(c - b'0')) as f64;
        let p = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]
            .get(exp10.unsigned_abs() as usize)
            .copied()
            .unwrap_or(1.0);
        return if exp10 < 0 { v / p } else { v * p };
    }
    // Beyond these the value is above f64::MAX or below half the smallest subnormal, whatever its digits.
    let magnitude = digits.len() as i64 + exp10;
    if magnitude > 310 {
        return f64::INFINITY;
    }
    if magnitude < -326 {
        return 0.0;
    }
    let mut num = Big(Vec::new());
    let kept = digits.get(..MAX_DIGITS).unwrap_or(digits);
    for chunk in kept.chunks(9) {
        let v = chunk.iter().fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
        num.mul_add_small(10u32.pow(chunk.len() as u32), v);
    }
    exp10 += digits.len() as i64 - kept.len() as i64;
    if digits.get(MAX_DIGITS..).is_some_and(|rest| rest.iter().any(|&c| c != b'0')) {
        num.mul_add_small(10, 1);
        exp10 -= 1;
    }
    let mut den = Big::from_u64(1);
    if exp10 >= 0 {
        num.mul_pow10(exp10 as u64);
    } else {
        den.mul_pow10(exp10.unsigned_abs());
    }
    ratio_to_f64(num, den)
}

/// The double nearest to `num / den` (both nonzero), ties to even.
fn ratio_to_f64(mut num: Big, mut den: Big) -> f64 {
    // Scale so the quotient has 65 or 66 bits: `num / den = q × 2^-shift`, plus a sticky remainder.
    let shift = 65 - (num.bits() as i64 - den.bits() as i64);
    if shift >= 0 {
        num.shl(shift as u64);
    } else {
        den.shl(shift.unsigned_abs());
    }
    // Long division, one quotient bit at a time (the quotient is below 2^67).
    let mut q: u128 = 0;
    den.shl(67);
    for _ in 0..=67 {
        q <<= 1;
        if num.cmp(&den) != core::cmp::Ordering::Less {
            num.sub(&den);
            q |= 1;
        }
        den.shr1();
    }
    let sticky = !num.is_zero();
    round_to_f64(q, sticky, -shift)
}

/// The double nearest to `(q + f) × 2^exp2`, `f` in [0, 1) and nonzero when `sticky`, ties to even; `q` has at
/// least 55 bits, so the rounding position lies inside it.
fn round_to_f64(q: u128, sticky: bool, exp2: i64) -> f64 {
    let len = 128 - i64::from(q.leading_zeros());
    // The exponent of the leading bit, and how many bits the result keeps: 53, fewer for a subnormal.
    let lead = len - 1 + exp2;
    let keep = if lead >= -1022 { 53 } else { lead + 1075 };
    if keep < 0 {
        return 0.0;
    }
    let drop = len - keep;
    let (mut mant, rest, half) = if drop >= 128 {
        (0u128, q, u128::MAX)
    } else {
        (q >> drop, q & ((1u128 << drop) - 1), 1u128 << (drop - 1).max(0))
    };
    let up = if drop == 0 { false } else { rest > half || (rest == half && (sticky || mant & 1 == 1)) };
    if up {
        mant += 1;
    }
    // The value is now mant × 2^(exp2 + drop).
    if keep < 53 || lead < -1022 {
        // Subnormal: the bits are the mantissa itself (a carry into bit 52 makes the smallest normal).
        return f64::from_bits(mant as u64);
    }
    let mut e = exp2 + drop + 52;
    if mant >> 53 != 0 {
        mant >>= 1;
        e += 1;
    }
    if e > 1023 {
        return f64::INFINITY;
    }
    f64::from_bits(((e + 1023) as u64) << 52 | (mant as u64 & ((1 << 52) - 1)))
}

/// Where to round when printing.
#[derive(Clone, Copy, Debug)]
pub enum Round {
    /// To this many significant digits (`%.{n-1}e`, `%.{n}g`).
    Significant(usize),
    /// To this many digits after the decimal point (`%.{n}f`).
    Decimals(usize),
}

/// The digits of `|d|` (finite and nonzero, else none) rounded as `round` says, ties to even, and the decimal exponent of
/// the first one: `(b"15", 0)` for 1.5, `(b"1", -3)` for 0.001. With `Decimals`, a value that rounds to zero
/// gives no digits.
pub fn digits(d: f64, round: Round) -> (Vec<u8>, i64) {
    if !d.is_finite() || d == 0.0 {
        return (Vec::new(), 0);
    }
    let bits = d.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    let (mant, exp2) = if exp_bits == 0 { (frac, -1074) } else { (frac | (1 << 52), exp_bits - 1075) };
    // |d| = mant × 2^exp2 exactly: as decimal digits, mant × 2^exp2 (an integer), or mant × 5^-exp2 × 10^exp2.
    let (all, point) = if exp2 >= 0 {
        let mut n = Big::from_u64(mant);
        n.shl(exp2 as u64);
        (n.decimal(), 0)
    } else if mant.trailing_zeros() as i64 >= -exp2 {
        (u64_digits(mant >> -exp2), 0)
    } else {
        let mut n = Big::from_u64(mant);
        n.mul_pow5(exp2.unsigned_abs());
        (n.decimal(), exp2)
    };
    // The value is all × 10^point; the first digit's exponent:
    let first = all.len() as i64 - 1 + point;
    let keep = match round {
        Round::Significant(n) => n as i64,
        Round::Decimals(n) => first + 1 + n as i64,
    };
    round_digits(all, first, keep)
}

fn u64_digits(v: u64) -> Vec<u8> {
    let digits = Big::from_u64(v).decimal();
    if digits.is_empty() {
        alloc::vec![b'0']
    } else {
        digits
    }
}

/// `all` (exact digits, the first with exponent `first`) rounded to `keep` digits, ties to even, padded with
/// zeros when it has fewer.
fn round_digits(mut all: Vec<u8>, mut first: i64, keep: i64) -> (Vec<u8>, i64) {
    if keep < 0 {
        return (Vec::new(), first);
    }
    let keep_len = keep as usize;
    if all.len() <= keep_len {
        all.resize(keep_len, b'0');
        return (all, first);
    }
    let rest = all.split_off(keep_len);
    let up = match rest.split_first() {
        Some((&d, _)) if d > b'5' => true,
        Some((&b'5', tail)) => tail.iter().any(|&c| c != b'0') || all.last().is_some_and(|&c| (c - b'0') % 2 == 1),
        _ => false,
    };
    if up {
        // Add one at the last kept digit; a carry out of the first makes a new leading 1.
        let mut i = all.len();
        loop {
            if i == 0 {
                all.insert(0, b'1');
                all.truncate(keep_len.max(1));
                first += 1;
                break;
            }
            i -= 1;
            match all.get_mut(i) {
                Some(c) if *c == b'9' => *c = b'0',
                Some(c) => {
                    *c += 1;
                    break;
                }
                None => break,
            }
        }
    }
    (all, first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    fn text(d: f64, round: Round) -> String {
        let (ds, e) = digits(d, round);
        format!("{}e{e}", String::from_utf8(ds).unwrap())
    }

    /// What `core` prints, as the same digits and exponent.
    fn core_sig(d: f64, n: usize) -> String {
        let s = format!("{:.*e}", n - 1, d.abs());
        let (m, e) = s.split_once('e').unwrap();
        format!("{}e{e}", m.replace('.', ""))
    }

    fn check_value(d: f64) {
        for n in [1, 2, 6, 15, 16, 17, 18, 25] {
            assert_eq!(text(d, Round::Significant(n)), core_sig(d, n), "{d:e} to {n} digits");
        }
        let parsed = |s: &str| {
            let (m, e) = s.split_once('e').unwrap();
            parse(m.as_bytes(), e.parse::<i64>().unwrap())
        };
        // The shortest round-tripping text, and 17 digits, parse back to the same double.
        let short = format!("{:e}", d.abs());
        let (m, e) = short.split_once('e').unwrap();
        let frac_digits = m.split_once('.').map_or(0, |(_, f)| f.len()) as i64;
        let exact = format!("{}e{}", m.replace('.', ""), e.parse::<i64>().unwrap() - frac_digits);
        assert_eq!(parsed(&exact), d.abs(), "{exact}");
        let (ds, first) = digits(d, Round::Significant(17));
        let t = format!("{}e{}", String::from_utf8(ds).unwrap(), first - 16);
        assert_eq!(parsed(&t), d.abs(), "{t}");
    }

    #[test]
    fn digits_match_core_and_parse_round_trips() {
        for d in [1.0, 1.5, 0.1, 1.1, 100.0, 1e17, 1.5e-5, 0.1e-5, 0.0001, 123456789.125, 0.5, 2.5, 9.5, 0.95,
                  f64::MAX, f64::MIN_POSITIVE, 5e-324, 1e-310, 2.2250738585072009e-308, 9007199254740993.0, 1e23, 8.5e22] {
            check_value(d);
        }
        let mut rng = crate::util::Rng::new(42);
        for _ in 0..20_000 {
            let d = f64::from_bits(rng.next_u64() >> 1);
            if d.is_finite() && d != 0.0 {
                check_value(d);
            }
            // Numbers in everyday ranges too, and halfway cases.
            let e = (rng.next_u64() % 40) as i32 - 20;
            let d = (rng.next_u64() % 1_000_000_007) as f64 * 10f64.powi(e);
            if d != 0.0 {
                check_value(d);
            }
        }
    }

    #[test]
    fn parse_matches_core() {
        let mut rng = crate::util::Rng::new(9);
        let cases = ["1", "0.1", "123456789012345678901234567890", "9007199254740993", "2.2250738585072011e-308",
                     "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
                     "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e400", "1e-400",
                     "7.2057594037927933e16", "0.000000000000000000000000000000000000001", "1e22", "1e23"];
        let mut owned: Vec<String> = cases.iter().map(|s| String::from(*s)).collect();
        for _ in 0..20_000 {
            let len = 1 + (rng.next_u64() % 30) as usize;
            let mut s: String = (0..len).map(|_| char::from(b'0' + (rng.next_u64() % 10) as u8)).collect();
            let e = (rng.next_u64() % 700) as i64 - 350;
            s.push_str(&format!("e{e}"));
            owned.push(s);
        }
        // A thousand digits: the sticky digit beyond MAX_DIGITS.
        owned.push(format!("1{}1e-1000", "0".repeat(1000)));
        owned.push(format!("2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324"));
        for s in &owned {
            let (m, e) = s.split_once('e').unwrap_or((s, "0"));
            let (int, frac) = m.split_once('.').unwrap_or((m, ""));
            let digits = format!("{int}{frac}");
            let ours = parse(digits.as_bytes(), e.parse::<i64>().unwrap() - frac.len() as i64);
            let theirs: f64 = s.parse().unwrap();
            assert_eq!(ours.to_bits(), theirs.to_bits(), "{s}");
        }
    }

    #[test]
    fn decimals() {
        assert_eq!(digits(1.5, Round::Decimals(0)), (b"2".to_vec(), 0));
        assert_eq!(digits(2.5, Round::Decimals(0)), (b"2".to_vec(), 0));
        assert_eq!(digits(0.125, Round::Decimals(2)), (b"12".to_vec(), -1));
        assert_eq!(digits(0.0001, Round::Decimals(2)), (b"".to_vec(), -4));
        assert_eq!(digits(0.006, Round::Decimals(2)), (b"1".to_vec(), -2));
        // 10.00: the digits stop at the last nonzero one; the caller reads the missing ones as zeros.
        assert_eq!(digits(9.9999, Round::Decimals(2)), (b"100".to_vec(), 1));
        assert_eq!(digits(123.456, Round::Decimals(6)), (b"123456000".to_vec(), 2));
    }
}
