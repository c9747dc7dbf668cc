//! SORT and SORT_RO (Redis's sort.c): sorting a list, set or sorted set by its elements or by external
//! keys, with GET projections, LIMIT and STORE.
//!
//! Redis's result order is reproduced exactly, ties included: a full sort is glibc's `qsort`, which for
//! these arrays is a stable merge sort, so a stable sort here; a sort by a pattern with a LIMIT that cuts
//! the range is Redis's own partial quicksort (`pqsort.c`), ported below, whose order of equal elements
//! differs from a stable sort's.

use alloc::vec::Vec;
use core::cmp::Ordering;

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::notify::{self, notify};
use crate::reply::Reply;
use crate::types::List;
use crate::util::{eq_ic, parse_f64, parse_i64, sort_by_dyn};
use crate::value::{Entry, Value};

pub const HANDLERS: &[(&str, Handler)] = &[("sort", sort), ("sort_ro", sort_ro)];

/// What a SORT call asked for, parsed before any key is read.
struct SortOptions<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    /// The last BY pattern given.
    by: Option<&'a [u8]>,
    /// Set by any BY without a `*` and never cleared by a later one, as in Redis.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

/// Parses SORT's options from argument 2 on (Redis's loop in sortCommandGeneric): each keyword needs its
/// arguments to be present, otherwise it is a syntax error; STORE is no keyword for SORT_RO. A BY pattern with
/// `*` and any GET read keys the ACL check did not see, so they need a user that may read every key.
fn parse_options<'a>(c: &Ctx<'a>, readonly: bool, reads_any_key: bool) -> Result<SortOptions<'a>, Error> {
    let mut o = SortOptions {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < c.argc() {
        let a = c.argv.get(j).copied().unwrap_or(b"");
        let left = c.argc() - j - 1;
        let next = c.argv.get(j + 1).copied().unwrap_or(b"");
        if eq_ic(a, "asc") {
            o.desc = false;
        } else if eq_ic(a, "desc") {
            o.desc = true;
        } else if eq_ic(a, "alpha") {
            o.alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            o.limit_start = parse_i64(next).ok_or(Error::NotInteger)?;
            o.limit_count = parse_i64(c.argv.get(j + 2).copied().unwrap_or(b"")).ok_or(Error::NotInteger)?;
            j += 2;
        } else if !readonly && eq_ic(a, "store") && left >= 1 {
            o.store = Some(next);
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            o.by = Some(next);
            // A pattern without `*` is constant: nothing to look up, nothing to sort by.
            if !cstr(next).contains(&b'*') {
                o.dontsort = true;
            } else if !reads_any_key {
                return Err(Error::other("ERR BY option of SORT denied due to insufficient ACL permissions."));
            }
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            if !reads_any_key {
                return Err(Error::other("ERR GET option of SORT denied due to insufficient ACL permissions."));
            }
            o.gets.push(next);
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA] [STORE destination]
fn sort(e: &mut Engine, c: &Ctx) -> Reply {
    sort_generic(e, c, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]
fn sort_ro(e: &mut Engine, c: &Ctx) -> Reply {
    sort_generic(e, c, true)
}

/// The kinds of value SORT accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    List,
    Set,
    ZSet,
}

/// One element being sorted: the element, and what it sorts by (Redis's redisSortObject).
struct Item {
    obj: Vec<u8>,
    score: f64,
    /// The BY value for an ALPHA sort by pattern; `None` when the key or field was missing.
    cmpobj: Option<Vec<u8>>,
}

/// The worker behind SORT and SORT_RO (Redis's sortCommandGeneric).
fn sort_generic(e: &mut Engine, c: &Ctx, readonly: bool) -> Reply {
    let mut o = match parse_options(c, readonly, crate::acl::reads_any_key(e, c.client)) {
        Ok(o) => o,
        Err(err) => return err.into(),
    };
    let key = c.arg(1);
    let source = match e.lookup_read(c.db, key) {
        None => None,
        Some(entry) => match &mut entry.value {
            Value::List(_) => Some(Source::List),
            Value::Set(_) => Some(Source::Set),
            Value::ZSet(z) => {
                // Redis converts a listpack sorted set to a skiplist for SORT, for good.
                z.set_skiplist();
                Some(Source::ZSet)
            }
            _ => return Error::WrongType.into(),
        },
    };
    // A missing key sorts as an empty list.
    let kind = source.unwrap_or(Source::List);
    // A set has no order of its own: when its order would be kept (STORE), sort it as strings so the
    // stored result does not depend on the set's internal layout.
    if o.dontsort && kind == Source::Set && o.store.is_some() {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = match source {
        None => 0,
        Some(_) => source_len(e, c.db, key),
    } as i64;

    // LIMIT, clamped to the object's size as Redis does (which also keeps the sums from overflowing).
    let start0 = o.limit_start.clamp(0, len);
    let count = o.limit_count.clamp(-1, len);
    let mut end = if count < 0 { len - 1 } else { start0 + count - 1 };
    let mut start = start0;
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    // A list or sorted set kept in its own order: take just the range, in the requested direction.
    let ordered = matches!(kind, Source::List | Source::ZSet);
    let mut items: Vec<Item> = if ordered && o.dontsort {
        let mut all = source_elements(e, c.db, key);
        if o.desc {
            all.reverse();
        }
        let taken: Vec<Vec<u8>> =
            if end >= start { all.into_iter().skip(start as usize).take((end - start + 1) as usize).collect() } else { Vec::new() };
        end -= start;
        start = 0;
        taken.into_iter().map(|obj| Item { obj, score: 0.0, cmpobj: None }).collect()
    } else {
        source_elements(e, c.db, key).into_iter().map(|obj| Item { obj, score: 0.0, cmpobj: None }).collect()
    };

    if !o.dontsort {
        let mut conversion_error = false;
        for item in items.iter_mut() {
            let byval = match o.by {
                Some(pattern) => match lookup_by_pattern(e, c.db, pattern, &item.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => item.obj.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    item.cmpobj = Some(byval);
                }
            } else {
                match strtod_score(&byval) {
                    Some(score) => item.score = score,
                    None => conversion_error = true,
                }
            }
        }
        if conversion_error {
            return Error::other("ERR One or more scores can't be converted into double").into();
        }
        let cmp = Comparator { desc: o.desc, alpha: o.alpha, by_pattern: o.by.is_some(), store: o.store.is_some() };
        let n = items.len() as i64;
        if o.by.is_some() && (start != 0 || end != n - 1) {
            pqsort(&mut items, &|a, b| cmp.compare(a, b), start, end);
        } else {
            sort_by_dyn(&mut items, &mut |a, b| cmp.compare(a, b));
        }
    }

    let per_item = if o.gets.is_empty() { 1 } else { o.gets.len() as i64 };
    let outputlen = per_item * (end - start + 1);
    let range: &[Item] = if end >= start {
        items.get(start as usize..=end as usize).unwrap_or_default()
    } else {
        &[]
    };
    // Copy the chosen elements out so the GET lookups can borrow the engine.
    let chosen: Vec<Vec<u8>> = range.iter().map(|it| it.obj.clone()).collect();
    match o.store {
        None => {
            let mut out = Vec::with_capacity(outputlen.max(0) as usize);
            for obj in &chosen {
                if o.gets.is_empty() {
                    out.push(Reply::bulk(obj));
                }
                for pattern in &o.gets {
                    out.push(lookup_by_pattern(e, c.db, pattern, obj).map_or(Reply::Nil, Reply::Bulk));
                }
            }
            Reply::Array(out)
        }
        Some(dst) => {
            let mut values = Vec::new();
            for obj in chosen {
                if o.gets.is_empty() {
                    values.push(obj);
                } else {
                    for pattern in &o.gets {
                        // A missing GET value is stored as an empty string.
                        values.push(lookup_by_pattern(e, c.db, pattern, &obj).unwrap_or_default());
                    }
                }
            }
            if outputlen > 0 {
                let entry = Entry::new(Value::List(list_from(values).into()), e.now);
                e.expire_if_needed(c.db, dst);
                e.db_mut(c.db).set(dst, entry);
                notify(e, notify::LIST, "sortstore", dst, c.db);
                e.dirty += outputlen as u64;
            } else if e.db_mut(c.db).remove(dst).is_some() {
                // Redis's dbDelete: no expiry check first, so a key past its time still counts as deleted.
                e.dirty += 1;
                notify(e, notify::GENERIC, "del", dst, c.db);
            }
            Reply::Integer(outputlen)
        }
    }
}

/// How two items compare (Redis's sortCompare), with the options of the call.
struct Comparator {
    desc: bool,
    alpha: bool,
    by_pattern: bool,
    /// With STORE Redis compares strings as bytes; otherwise with `strcoll`, which in the C/C.UTF-8 locale
    /// compares as C strings (up to the first NUL byte).
    store: bool,
}

impl Comparator {
    fn compare(&self, a: &Item, b: &Item) -> Ordering {
        let ord = if !self.alpha {
            match a.score.partial_cmp(&b.score) {
                Some(Ordering::Equal) | None => a.obj.cmp(&b.obj),
                Some(o) => o,
            }
        } else if self.by_pattern {
            match (&a.cmpobj, &b.cmpobj) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => self.strings(x, y),
            }
        } else {
            self.strings(&a.obj, &b.obj)
        };
        if self.desc {
            ord.reverse()
        } else {
            ord
        }
    }

    fn strings(&self, x: &[u8], y: &[u8]) -> Ordering {
        if self.store {
            x.cmp(y)
        } else {
            cstr(x).cmp(cstr(y))
        }
    }
}

/// The bytes C's string functions see: up to the first NUL.
fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => b.get(..i).unwrap_or(b),
        None => b,
    }
}

/// The value a GET or BY pattern names for one element (Redis's lookupKeyByPattern): `#` is the element
/// itself; otherwise the first `*` is replaced by the element to make a key name, and `key->field` reads a
/// hash field. A pattern without `*`, a missing key, or a key of the wrong type gives `None`. Redis scans
/// the pattern with C string functions, so only the part before a NUL byte counts for finding `*` and `->`.
fn lookup_by_pattern(e: &mut Engine, db: usize, pattern: &[u8], subst: &[u8]) -> Option<Vec<u8>> {
    let c = cstr(pattern);
    if c == b"#" {
        return Some(subst.to_vec());
    }
    let star = c.iter().position(|&b| b == b'*')?;
    // `->` after the star, followed by at least one byte, makes the rest a field name.
    let arrow = c
        .get(star + 1..)
        .and_then(|rest| rest.windows(2).position(|w| w == b"->"))
        .map(|i| star + 1 + i)
        .filter(|&f| c.get(f + 2).is_some());
    let (key_tail, field) = match arrow {
        Some(f) => (pattern.get(star + 1..f)?, Some(pattern.get(f + 2..)?)),
        None => (pattern.get(star + 1..)?, None),
    };
    let mut name = Vec::with_capacity(pattern.len() + subst.len());
    name.extend_from_slice(pattern.get(..star)?);
    name.extend_from_slice(subst);
    name.extend_from_slice(key_tail);
    let entry = e.lookup_read(db, &name)?;
    match (&entry.value, field) {
        (Value::Hash(h), Some(f)) => h.get(f).map(<[u8]>::to_vec),
        (Value::Str(s), None) => Some(s.bytes.clone()),
        _ => None,
    }
}

/// A score as SORT reads it with C's `strtod`: leading white space is skipped, the number must run to the
/// end of the string (or to a NUL byte), an empty string is 0, and NaN or a value out of range (`ERANGE`:
/// overflow, or a nonzero decimal that underflows to a denormal or zero) is refused.
///
/// Redis does not clear `errno` before this `strtod`, so after one out-of-range score every later SORT by
/// number on the same connection fails until some other call resets `errno`; that stale state is not
/// reproduced here: each value is judged on its own.
fn strtod_score(bytes: &[u8]) -> Option<f64> {
    let s = cstr(bytes);
    if s.is_empty() {
        return Some(0.0);
    }
    let body = match s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        Some(i) => s.get(i..)?,
        // Only white space: nothing converts and the end pointer stays at the first space.
        None => return None,
    };
    let v = parse_f64(body)?;
    let lower = body.to_ascii_lowercase();
    let digits = lower.strip_prefix(b"-").or_else(|| lower.strip_prefix(b"+")).unwrap_or(&lower);
    if v.is_infinite() && !digits.starts_with(b"inf") {
        return None;
    }
    let hex = digits.starts_with(b"0x");
    let mantissa_nonzero = || {
        let m = if hex { digits.get(2..).unwrap_or_default() } else { digits };
        let end = m.iter().position(|&c| c == if hex { b'p' } else { b'e' }).unwrap_or(m.len());
        m.get(..end).unwrap_or_default().iter().any(|&c| c.is_ascii_hexdigit() && c != b'0' && (hex || c.is_ascii_digit()))
    };
    // glibc reports underflow when the result is tiny and inexact: any decimal denormal, a zero from
    // nonzero digits; an exact hexadecimal denormal is not an underflow.
    if v == 0.0 && mantissa_nonzero() {
        return None;
    }
    if !hex && v != 0.0 && v.abs() < f64::MIN_POSITIVE {
        return None;
    }
    Some(v)
}

/// The number of elements of the value at `key` (already checked to be a list, set or sorted set).
fn source_len(e: &Engine, db: usize, key: &[u8]) -> usize {
    match e.db(db).keys.get(key).map(|entry| &entry.value) {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    }
}

/// The elements of the value at `key` in its own order: a list's, a set's iteration order, a sorted set's
/// by score (Redis reads a sorted set's dict when it sorts it, whose order is its own; any order serves
/// there, since the sort decides).
fn source_elements(e: &Engine, db: usize, key: &[u8]) -> Vec<Vec<u8>> {
    match e.db(db).keys.get(key).map(|entry| &entry.value) {
        Some(Value::List(l)) => l.iter(false).map(<[u8]>::to_vec).collect(),
        Some(Value::Set(s)) => s.iter().map(|m| m.to_vec()).collect(),
        Some(Value::ZSet(z)) => z.iter().map(|(m, _)| m.to_vec()).collect(),
        _ => Vec::new(),
    }
}

/// A list holding `values` in order (SORT ... STORE always stores a list).
fn list_from(values: Vec<Vec<u8>>) -> List {
    let mut l = List::new();
    for v in values {
        l.push(v, crate::types::list::End::Tail);
    }
    l
}

/// Redis's pqsort: Bentley and McIlroy's quicksort (NetBSD's qsort) that skips the partitions lying
/// wholly outside elements `lrange..=rrange`, so only that range ends up sorted. Ported step for step,
/// because which of several equal elements lands where depends on the exact swaps.
fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lrange: i64, rrange: i64) {
    let n = v.len();
    pqsort_range(v, 0, n, cmp, lrange, rrange);
}

fn pqsort_range<T>(v: &mut [T], mut a: usize, mut n: usize, cmp: &impl Fn(&T, &T) -> Ordering, lr: i64, rr: i64) {
    let c = |v: &[T], i: usize, j: usize| match (v.get(i), v.get(j)) {
        (Some(x), Some(y)) => cmp(x, y),
        _ => Ordering::Equal,
    };
    let swap = |v: &mut [T], i: usize, j: usize| {
        if i < v.len() && j < v.len() {
            v.swap(i, j);
        }
    };
    let insertion = |v: &mut [T], a: usize, n: usize| {
        for pm in a + 1..a + n {
            let mut pl = pm;
            while pl > a && c(v, pl - 1, pl) == Ordering::Greater {
                swap(v, pl, pl - 1);
                pl -= 1;
            }
        }
    };
    let med3 = |v: &[T], x: usize, y: usize, z: usize| {
        if c(v, x, y) == Ordering::Less {
            if c(v, y, z) == Ordering::Less {
                y
            } else if c(v, x, z) == Ordering::Less {
                z
            } else {
                x
            }
        } else if c(v, y, z) == Ordering::Greater {
            y
        } else if c(v, x, z) == Ordering::Less {
            x
        } else {
            z
        }
    };
    let vecswap = |v: &mut [T], x: usize, y: usize, k: usize| {
        for i in 0..k {
            swap(v, x + i, y + i);
        }
    };
    // Whether the partition [s, s+m) lies wholly before or wholly after the wanted range.
    let outside = |s: usize, m: usize| {
        let (s, e) = (s as i64, (s + m) as i64);
        (lr < s && rr < s) || (lr >= e && rr >= e)
    };
    loop {
        if n < 7 {
            insertion(v, a, n);
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d);
                pm = med3(v, pm - d, pm, pm + d);
                pn = med3(v, pn - 2 * d, pn - d, pn);
            }
            pm = med3(v, pl, pm, pn);
        }
        swap(v, a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        let mut swapped = false;
        loop {
            while pb <= pc {
                let r = c(v, pb, a);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    swapped = true;
                    swap(v, pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = c(v, pc, a);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    swapped = true;
                    swap(v, pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            swap(v, pb, pc);
            swapped = true;
            pb += 1;
            pc -= 1;
        }
        if !swapped {
            insertion(v, a, n);
            return;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !outside(a, r) {
            pqsort_range(v, a, r, cmp, lr, rr);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if !outside(a, n) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pqsort_sorts_the_requested_range() {
        let mut seed = 7u64;
        for n in [0usize, 1, 5, 7, 8, 40, 41, 100, 333] {
            let v: Vec<u32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 33) as u32 % 50
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            for (lo, hi) in [(0i64, n as i64 - 1), (2, 5), (n as i64 / 2, n as i64 - 1), (0, 0)] {
                if n == 0 || hi < lo || hi >= n as i64 {
                    continue;
                }
                let mut w = v.clone();
                pqsort(&mut w, &|a: &u32, b: &u32| a.cmp(b), lo, hi);
                assert_eq!(w.get(lo as usize..=hi as usize), sorted.get(lo as usize..=hi as usize), "n={n} {lo}..={hi}");
            }
        }
    }

    #[test]
    fn strtod_scores() {
        assert_eq!(strtod_score(b""), Some(0.0));
        assert_eq!(strtod_score(b" 2"), Some(2.0));
        assert_eq!(strtod_score(b"\t5"), Some(5.0));
        assert_eq!(strtod_score(b"+7"), Some(7.0));
        assert_eq!(strtod_score(b"0x10"), Some(16.0));
        assert_eq!(strtod_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod_score(b"infinity"), Some(f64::INFINITY));
        assert_eq!(strtod_score(b"1\0junk"), Some(1.0));
        assert_eq!(strtod_score(b"0e-500"), Some(0.0));
        assert_eq!(strtod_score(b"-0"), Some(-0.0));
        assert_eq!(strtod_score(b"0x1p-1074"), Some(f64::from_bits(1)));
        for bad in [&b" "[..], b"2 ", b"nan", b"1e400", b"1e-400", b"1e-310", b"-", b".", b"0x", b"1e", b"a"] {
            assert_eq!(strtod_score(bad), None, "{bad:?}");
        }
    }
}
