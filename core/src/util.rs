//! Number parsing and formatting with Redis's exact rules, and the engine's seeded PRNG.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Parses like Redis's `string2ll`: optional `-`, no `+`, no spaces, no leading zeros, no `-0`, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if negative {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses like Redis's `getDoubleFromObject`: `strtod` of the whole string, no leading space, no NaN.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let text = core::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned.starts_with("nan") || lower.len() - unsigned.len() > 1 {
        return None;
    }
    // Rust accepts `infinity`/`inf` like strtod; it rejects hex floats, which strtod takes.
    if let Some(hex) = unsigned.strip_prefix("0x") {
        let neg = lower.starts_with('-');
        return parse_hex_float(hex).map(|v| if neg { -v } else { v });
    }
    let v: f64 = lower.parse().ok()?;
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// `strtod`'s hexadecimal form: `1.8p3`, `ff`, `0.1p-2` (after the `0x`).
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * libm_pow2(exp))
}

fn libm_pow2(exp: i32) -> f64 {
    let mut v = 1f64;
    if exp >= 0 {
        for _ in 0..exp.min(2100) {
            v *= 2.0;
        }
    } else {
        for _ in 0..(-exp).min(2100) {
            v /= 2.0;
        }
    }
    v
}

/// Formats like C's `printf("%.17g")`, which Redis 7.0 uses for doubles in replies.
pub fn fmt_double(d: f64) -> String {
    fmt_g(d, 17)
}

/// C's `%.{prec}g`: `prec` significant digits, trailing zeros removed, exponent form below 1e-4 or from 1e{prec}.
pub fn fmt_g(d: f64, prec: usize) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let prec = prec.max(1);
    // Rust's `{:.Ne}` rounds the exact binary value correctly, as glibc does.
    let sci = format!("{:.*e}", prec - 1, d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, d)).into()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A string's bytes rendered as `i64` text.
pub fn i64_bytes(v: i64) -> Vec<u8> {
    format!("{v}").into_bytes()
}

/// ASCII case-insensitive comparison of an argument with a keyword.
pub fn eq_ic(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// The engine's PRNG (xoshiro256**), seeded by the caller so runs are reproducible.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng { s: [next(), next(), next(), next()] }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform value in `0..n` (`n` > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_rules() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [&b"9223372036854775808"[..], b"-0", b"01", b"+1", b" 1", b"1 ", b"", b"-", b"1a"] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn percent_17g() {
        assert_eq!(fmt_double(1.5), "1.5");
        assert_eq!(fmt_double(1.1), "1.1000000000000001");
        assert_eq!(fmt_double(100.0), "100");
        assert_eq!(fmt_double(1e17), "1e+17");
        assert_eq!(fmt_double(1.5e-5), "1.5e-05");
        assert_eq!(fmt_double(0.1e-5), "9.9999999999999995e-07");
        assert_eq!(fmt_double(0.0001), "0.0001");
        assert_eq!(fmt_double(-0.0), "-0");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
    }

    #[test]
    fn strtod_rules() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1 "), None);
        assert_eq!(parse_f64(b"--1"), None);
    }
}
