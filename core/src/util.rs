//! Number parsing and formatting with Redis's exact rules, and the engine's seeded PRNG.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// `f` of a command's arguments as a slice of slices, which `Engine::execute` takes: most commands have a few,
/// whose slices go on the stack rather than in a fresh vector (hosts call it once per command).
pub fn with_slices<'a, R>(argv: impl Iterator<Item = &'a [u8]> + Clone, f: impl FnOnce(&[&[u8]]) -> R) -> R {
    let mut few: [&[u8]; 8] = [&[]; 8];
    let mut n = 0;
    for (slot, a) in few.iter_mut().zip(argv.clone()) {
        *slot = a;
        n += 1;
    }
    if n < few.len() || argv.clone().nth(few.len()).is_none() {
        f(few.get(..n).unwrap_or_default())
    } else {
        f(&argv.collect::<Vec<_>>())
    }
}

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

/// Parses like Redis's `getDoubleFromObject`: `strtod` of the whole string, no leading space, no NaN, and
/// no out-of-range decimal (`strtod` sets ERANGE and returns ±HUGE_VAL, or 0 for an underflow, which Redis
/// refuses; a denormal result is kept). A literal `inf` parses.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|c| is_c_space(*c)) {
        return None;
    }
    let parsed = strtod(s);
    if parsed.consumed != s.len() || parsed.out_of_range || parsed.value.is_nan() {
        return None;
    }
    Some(parsed.value)
}

/// What C's `strtod` makes of the start of a string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Strtod {
    pub value: f64,
    /// Bytes read (the `endptr` offset); 0 when nothing converts.
    pub consumed: usize,
    /// `errno == ERANGE` with a result of ±HUGE_VAL or zero: a finite number too large, or a nonzero one too
    /// small for a double.
    pub out_of_range: bool,
}

/// C's `isspace` in the C locale.
pub fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// How C's number parsers (`strtod`, `strtol`, `atoi`) start: leading white space, then an optional sign.
/// Returns where the number proper begins and whether it is negative.
pub fn c_number_start(s: &[u8]) -> (usize, bool) {
    let i = s.iter().take_while(|c| is_c_space(**c)).count();
    match s.get(i) {
        Some(b'-') => (i + 1, true),
        Some(b'+') => (i + 1, false),
        _ => (i, false),
    }
}

/// glibc's `strtod`: leading white space, an optional sign, then `inf`/`infinity`, `nan`/`nan(...)`, a hex
/// float (`0x1.8p3`) or a decimal (`1.5e-3`, `.5`, `5.`), all case-insensitive; the longest prefix that
/// reads as a number. Decimals are rounded correctly, as glibc does.
pub fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod { value: 0.0, consumed: 0, out_of_range: false };
    let (i, negative) = c_number_start(s);
    let signed = |v: f64| if negative { -v } else { v };
    let rest = s.get(i..).unwrap_or(b"");
    let starts = |word: &[u8]| rest.get(..word.len()).is_some_and(|p| p.eq_ignore_ascii_case(word));
    if starts(b"inf") {
        let len = if starts(b"infinity") { 8 } else { 3 };
        return Strtod { value: signed(f64::INFINITY), consumed: i + len, out_of_range: false };
    }
    if starts(b"nan") {
        let mut len = 3;
        // `nan(n-char-sequence)`: the parenthesised part is consumed only when it is closed.
        if rest.get(3) == Some(&b'(') {
            let body = rest.get(4..).unwrap_or(b"");
            let inner = body.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
            if body.get(inner) == Some(&b')') {
                len = 4 + inner + 1;
            }
        }
        return Strtod { value: signed(f64::NAN), consumed: i + len, out_of_range: false };
    }
    let hex_digit_at = |j: usize| rest.get(j).is_some_and(u8::is_ascii_hexdigit);
    if starts(b"0x") && (hex_digit_at(2) || (rest.get(2) == Some(&b'.') && hex_digit_at(3))) {
        let (value, len, nonzero) = hex_prefix(rest.get(2..).unwrap_or(b""));
        let out_of_range = value.is_infinite() || (value == 0.0 && nonzero);
        return Strtod { value: signed(value), consumed: i + 2 + len, out_of_range };
    }
    // A decimal: digits, an optional point and digits (at least one digit in all), then an exponent that
    // counts only when it has digits.
    let digits_at = |j: usize| rest.get(j..).unwrap_or(b"").iter().take_while(|c| c.is_ascii_digit()).count();
    let int_digits = digits_at(0);
    let mut len = int_digits;
    let mut frac_digits = 0;
    if rest.get(len) == Some(&b'.') {
        frac_digits = digits_at(len + 1);
        if int_digits + frac_digits > 0 {
            len += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return none;
    }
    let mantissa_end = len;
    let mut exp: i64 = 0;
    if matches!(rest.get(len), Some(b'e' | b'E')) {
        let mut j = len + 1;
        let negative_exp = rest.get(j) == Some(&b'-');
        if matches!(rest.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_digits = digits_at(j);
        if exp_digits > 0 {
            len = j + exp_digits;
            // Saturated: any exponent beyond this over- or underflows whatever the digits.
            for &d in rest.get(j..len).unwrap_or(b"") {
                exp = (exp * 10 + i64::from(d - b'0')).min(1_000_000_000);
            }
            if negative_exp {
                exp = -exp;
            }
        }
    }
    let int_part = rest.get(..int_digits).unwrap_or(b"");
    let frac_part = rest.get(int_digits + 1..int_digits + 1 + frac_digits).unwrap_or(b"");
    let mut digits = Vec::with_capacity(int_part.len() + frac_part.len());
    digits.extend_from_slice(int_part);
    digits.extend_from_slice(frac_part);
    // Rounded correctly, as glibc's strtod does.
    let value = crate::decimal::parse(&digits, exp - frac_digits as i64);
    let nonzero = rest.get(..mantissa_end).unwrap_or(b"").iter().any(|c| matches!(c, b'1'..=b'9'));
    let out_of_range = value.is_infinite() || (value == 0.0 && nonzero);
    Strtod { value: signed(value), consumed: i + len, out_of_range }
}

/// A hex float after its `0x`: the value, the bytes read and whether any mantissa digit is nonzero.
fn hex_prefix(s: &[u8]) -> (f64, usize, bool) {
    let int_len = s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let mut len = int_len;
    let mut frac: &[u8] = b"";
    if s.get(len) == Some(&b'.') {
        let tail = s.get(len + 1..).unwrap_or(b"");
        let n = tail.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        frac = tail.get(..n).unwrap_or(b"");
        len += 1 + n;
    }
    let int_part = s.get(..int_len).unwrap_or(b"");
    let mut exp: i64 = 0;
    if matches!(s.get(len), Some(b'p' | b'P')) {
        let mut j = len + 1;
        let neg = s.get(j) == Some(&b'-');
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let digits = s.get(j..).unwrap_or(b"").iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            for &d in s.get(j..j + digits).unwrap_or(b"") {
                exp = (exp * 10 + (d - b'0') as i64).min(100_000);
            }
            if neg {
                exp = -exp;
            }
            len = j + digits;
        }
    }
    let nonzero = int_part.iter().chain(frac).any(|&c| c != b'0');
    let mut v = 0f64;
    for &c in int_part {
        v = v * 16.0 + (c as char).to_digit(16).unwrap_or(0) as f64;
    }
    let mut scale = 1.0 / 16.0;
    for &c in frac {
        v += (c as char).to_digit(16).unwrap_or(0) as f64 * scale;
        scale /= 16.0;
    }
    (v * libm_pow2(exp.clamp(-5000, 5000) as i32), len, nonzero)
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
    let (digits, exp) = crate::decimal::digits(d, crate::decimal::Round::Significant(prec));
    let mut out = String::with_capacity(prec + 8);
    if d < 0.0 {
        out.push('-');
    }
    // Trailing zeros are not printed (no `#` flag), nor a point without digits after it.
    let significant = digits.iter().rposition(|&c| c != b'0').map_or(1, |i| i + 1);
    let digits = digits.get(..significant).unwrap_or_default();
    let push = |out: &mut String, ds: &[u8]| ds.iter().for_each(|&c| out.push(char::from(c)));
    if exp < -4 || exp >= prec as i64 {
        // Exponent form: d.ddde±XX, at least two exponent digits.
        push(&mut out, digits.get(..1).unwrap_or_default());
        if digits.len() > 1 {
            out.push('.');
            push(&mut out, digits.get(1..).unwrap_or_default());
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        if exp.unsigned_abs() < 10 {
            out.push('0');
        }
        out.push_str(&format!("{}", exp.unsigned_abs()));
    } else if exp < 0 {
        out.push_str("0.");
        (0..-exp - 1).for_each(|_| out.push('0'));
        push(&mut out, digits);
    } else {
        let int_len = exp as usize + 1;
        let int = digits.get(..int_len.min(digits.len())).unwrap_or_default();
        push(&mut out, int);
        (digits.len()..int_len).for_each(|_| out.push('0'));
        if digits.len() > int_len {
            out.push('.');
            push(&mut out, digits.get(int_len..).unwrap_or_default());
        }
    }
    out
}

/// C's `%.{decimals}f` (glibc's: `inf`, `-inf`, `nan` and `-nan` for the non-finite).
pub fn fmt_fixed(d: f64, decimals: usize) -> String {
    let mut out = String::new();
    if d.is_sign_negative() {
        out.push('-');
    }
    if !d.is_finite() {
        out.push_str(if d.is_nan() { "nan" } else { "inf" });
        return out;
    }
    let (digits, exp) = if d == 0.0 { (Vec::new(), 0) } else { crate::decimal::digits(d, crate::decimal::Round::Decimals(decimals)) };
    // Digit for the power of ten `p`: from `digits` (the first has exponent `exp`), else zero.
    let digit = |p: i64| {
        let i = exp - p;
        if i < 0 { b'0' } else { digits.get(i as usize).copied().unwrap_or(b'0') }
    };
    let top = if digits.is_empty() { 0 } else { exp.max(0) };
    (0..=top).rev().for_each(|p| out.push(char::from(digit(p))));
    if decimals > 0 {
        out.push('.');
        (1..=decimals as i64).for_each(|p| out.push(char::from(digit(-p))));
    }
    out
}

/// Sorts `v` stably by `cmp`, as `sort_by` does: the same order for any comparator that is a total preorder
/// (the engine's are). Written once here because each `sort_by` call compiles the standard library's sort
/// again for its element and closure types (some 3.5 KB of WebAssembly each): this one is a merge sort of
/// positions through a `dyn` comparator, and only moving the elements into place depends on `T`.
pub fn sort_by_dyn<T>(v: &mut Vec<T>, cmp: &mut dyn FnMut(&T, &T) -> core::cmp::Ordering) {
    if v.len() < 2 {
        return;
    }
    let order = {
        let items: &[T] = v;
        merge_order(items.len(), &mut |a, b| match (items.get(a), items.get(b)) {
            (Some(x), Some(y)) => cmp(x, y),
            _ => core::cmp::Ordering::Equal,
        })
    };
    let mut slots: Vec<Option<T>> = core::mem::take(v).into_iter().map(Some).collect();
    v.extend(order.iter().filter_map(|&i| slots.get_mut(i).and_then(Option::take)));
}

/// The positions `0..n` in stable sorted order under `cmp` (a bottom-up merge sort).
fn merge_order(n: usize, cmp: &mut dyn FnMut(usize, usize) -> core::cmp::Ordering) -> Vec<usize> {
    let mut from: Vec<usize> = (0..n).collect();
    let mut to: Vec<usize> = Vec::with_capacity(n);
    let mut width = 1;
    while width < n {
        to.clear();
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (left, right) = (from.get(lo..mid).unwrap_or_default(), from.get(mid..hi).unwrap_or_default());
            let (mut i, mut j) = (0, 0);
            while let (Some(&a), Some(&b)) = (left.get(i), right.get(j)) {
                // Ties take the left run's element first: that is what keeps the sort stable.
                if cmp(b, a) == core::cmp::Ordering::Less {
                    to.push(b);
                    j += 1;
                } else {
                    to.push(a);
                    i += 1;
                }
            }
            to.extend_from_slice(left.get(i..).unwrap_or_default());
            to.extend_from_slice(right.get(j..).unwrap_or_default());
            lo = hi;
        }
        core::mem::swap(&mut from, &mut to);
        width *= 2;
    }
    from
}

/// A string's bytes rendered as `i64` text.
pub fn i64_bytes(v: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    push_i64(&mut out, v);
    out
}

/// Appends the decimal digits of `v`. Replies and integer values are written on every command, so this avoids
/// `format!`'s machinery and its temporary string (BENCHMARKS.md, server profile).
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    // u64::MAX has 20 digits; i64::MIN's magnitude has 19.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut n = v.unsigned_abs();
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
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

    /// Every argument arrives in order, whether they fit on the stack (up to eight) or not.
    #[test]
    fn with_slices_hands_over_every_argument_in_order() {
        for n in [0usize, 1, 7, 8, 9, 20] {
            let owned: Vec<Vec<u8>> = (0..n).map(|i| format!("a{i}").into_bytes()).collect();
            let seen: Vec<Vec<u8>> = with_slices(owned.iter().map(Vec::as_slice), |args| args.iter().map(|a| a.to_vec()).collect());
            assert_eq!(seen, owned, "{n} arguments");
        }
    }

    #[test]
    fn i64_digits() {
        for v in [0, 7, -1, 10, -10, 9_999, 1_000_000, i64::MAX, i64::MIN, i64::MIN + 1] {
            assert_eq!(i64_bytes(v), alloc::format!("{v}").into_bytes());
        }
    }

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

    /// `%.Ng` and `%.Nf` as the engine printed them before `decimal` (with `core`'s exact formatting).
    #[test]
    fn printf_matches_core_formatting() {
        fn reference_g(d: f64, prec: usize) -> String {
            let sci = format!("{:.*e}", prec - 1, d);
            let (mantissa, exp) = sci.split_once('e').unwrap();
            let exp: i32 = exp.parse().unwrap();
            let strip = |s: &str| String::from(if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s });
            if exp < -4 || exp >= prec as i32 {
                format!("{}e{}{:02}", strip(mantissa), if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
            } else {
                strip(&format!("{:.*}", (prec as i32 - 1 - exp).max(0) as usize, d))
            }
        }
        let mut rng = Rng::new(3);
        let mut values = alloc::vec![1.0, -1.0, 0.5, 1e16, 1e17, 123456789012345680.0, 1e-5, 9.99999999999999999e-5, 0.1, -2.5e-300, f64::MAX, 5e-324];
        for _ in 0..20_000 {
            values.push(f64::from_bits(rng.next_u64()));
            let e = (rng.next_u64() % 30) as i32 - 12;
            values.push((rng.next_u64() % 100_000) as f64 * 10f64.powi(e) - 50.0);
        }
        for d in values.into_iter().filter(|d| d.is_finite() && *d != 0.0) {
            for prec in [1, 6, 17] {
                assert_eq!(fmt_g(d, prec), reference_g(d, prec), "{d:e} %.{prec}g");
            }
            if d.abs() < 1e30 {
                assert_eq!(fmt_fixed(d, 6), format!("{d:.6}"), "{d:e}");
                assert_eq!(fmt_fixed(d, 0), format!("{d:.0}"), "{d:e}");
            }
        }
        assert_eq!(fmt_fixed(0.0, 6), "0.000000");
        assert_eq!(fmt_fixed(-0.0, 2), "-0.00");
        assert_eq!(fmt_fixed(f64::NEG_INFINITY, 6), "-inf");
        assert_eq!(fmt_fixed(f64::INFINITY, 6), "inf");
        assert_eq!(fmt_fixed(f64::NAN, 6), "nan");
    }

    /// `sort_by_dyn` orders as the standard library's stable sort does, ties included.
    #[test]
    fn dyn_sort_is_a_stable_sort() {
        let mut rng = Rng::new(8);
        for len in [0usize, 1, 2, 3, 7, 16, 33, 100, 1000] {
            let items: Vec<(u64, usize)> = (0..len).map(|i| (rng.next_u64() % 10, i)).collect();
            let mut ours = items.clone();
            sort_by_dyn(&mut ours, &mut |a, b| a.0.cmp(&b.0));
            let mut theirs = items;
            theirs.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(ours, theirs);
        }
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
        assert_eq!(parse_f64(b"1e500"), None);
        assert_eq!(parse_f64(b"1e-500"), None);
        assert_eq!(parse_f64(b"0e-500"), Some(0.0));
        assert_eq!(parse_f64(b"4.9e-324"), Some(4.9e-324));
        assert_eq!(parse_f64(b"5."), Some(5.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"."), None);
        assert_eq!(parse_f64(b"1e"), None);
        assert_eq!(parse_f64(b"0x"), None);
        assert_eq!(parse_f64(b"0x1p-3"), Some(0.125));
        assert_eq!(parse_f64(b""), None);
    }

    #[test]
    fn strtod_prefixes() {
        let p = |s: &[u8]| {
            let r = strtod(s);
            (r.value, r.consumed)
        };
        assert_eq!(p(b" 1.5x"), (1.5, 4));
        assert_eq!(p(b"1e+"), (1.0, 1));
        assert_eq!(p(b"0x"), (0.0, 1));
        assert_eq!(p(b"-Infinityx"), (f64::NEG_INFINITY, 9));
        assert_eq!(p(b"infinit"), (f64::INFINITY, 3));
        assert_eq!(p(b""), (0.0, 0));
        assert_eq!(p(b"-"), (0.0, 0));
        assert!(strtod(b"nan(12)").value.is_nan());
        assert_eq!(strtod(b"nan(12)").consumed, 7);
        assert_eq!(strtod(b"nan(12").consumed, 3);
    }
}
