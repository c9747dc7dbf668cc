//! Redis's glob matching (`KEYS`, `SCAN MATCH`, `PSUBSCRIBE`, `CONFIG GET` ...): a line-by-line port of
//! Redis 7.0.15's `stringmatchlen` (src/util.c), quirks included.
//!
//! The C code walks a NUL-terminated `sds` buffer and in a few places reads the byte just past the
//! pattern's length (the terminator). `at` reproduces that by answering `0` past the end, which keeps every
//! quirk (unterminated `[`, `[^` at the end, a trailing `\`) identical without any out-of-bounds access.
//!
//! Things worth knowing, all confirmed against a real Redis 7.0.15 with `KEYS`:
//! - Patterns and strings are bytes; `?` and `[...]` match exactly one byte.
//! - `string_match(b"*", b"", _)` is **false**: the matcher never runs its loop on an empty subject.
//!   `KEYS *` still returns the empty key only because `KEYS` short-circuits the exact pattern `*` before
//!   calling the matcher; callers must do the same (see [`matches_everything`]).
//! - Ranges compare bytes as C's signed `char`, so a range with a byte >= 0x80 behaves "backwards"
//!   (`[a-\xff]` is the range -1..=97, i.e. `\xff` plus `\x00`..=`a`).
//! - Inside `[...]`, a `\`-escaped byte is compared case-sensitively even in `nocase` mode.

/// The pattern byte at `i`, or `0` past the end, like reading the `sds` NUL terminator in C.
fn at(pattern: &[u8], i: usize) -> u8 {
    pattern.get(i).copied().unwrap_or(0)
}

/// C's `tolower` in the "C" locale (Redis never sets `LC_CTYPE`), applied to a value widened from a signed
/// `char`: only `A`..=`Z` change.
fn c_tolower(c: i32) -> i32 {
    if (b'A' as i32..=b'Z' as i32).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// Redis 7.0's `stringmatchlen(pattern, string, nocase)`.
pub fn string_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    match_impl(pattern, 0, s, 0, nocase, &mut skip_longer_matches, 0)
}

/// Whether the pattern contains no glob syntax, so that it matches exactly the strings equal to it
/// (byte-for-byte, or ASCII case-insensitively with `nocase`). Lets `KEYS`/`SCAN` do one lookup
/// instead of a full walk.
pub fn is_literal(pattern: &[u8]) -> bool {
    !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[' | b'\\'))
}

/// Whether `KEYS`/`SCAN` treat the pattern as "every key" without calling the matcher (Redis tests for
/// exactly `*`). This is the only way the empty key is matched by a star.
pub fn matches_everything(pattern: &[u8]) -> bool {
    pattern == b"*"
}

/// `stringmatchlen_impl`: `p` and `i` are the C code's `pattern` and `string` pointers as offsets, so that
/// the unterminated-class case can step back one byte as the C code does.
fn match_impl(
    pattern: &[u8],
    mut p: usize,
    s: &[u8],
    mut i: usize,
    nocase: bool,
    skip_longer_matches: &mut bool,
    nesting: u32,
) -> bool {
    // Redis 7.0.9+ (CVE-2022-36021): bound the recursion so abusive patterns cannot blow the stack.
    if nesting > 1000 {
        return false;
    }
    while p < pattern.len() && i < s.len() {
        let c = s.get(i).copied().unwrap_or(0);
        match at(pattern, p) {
            b'*' => {
                while at(pattern, p + 1) == b'*' {
                    p += 1;
                }
                if p + 1 == pattern.len() {
                    return true;
                }
                while i < s.len() {
                    if match_impl(pattern, p + 1, s, i, nocase, skip_longer_matches, nesting + 1) {
                        return true;
                    }
                    if *skip_longer_matches {
                        return false;
                    }
                    i += 1;
                }
                // The rest of the pattern matches no suffix of the string, so no earlier `*` can help
                // by consuming more: tell every enclosing `*` to give up. This keeps `a*a*a*...b` linear.
                *skip_longer_matches = true;
                return false;
            }
            b'?' => i += 1,
            b'[' => {
                p += 1;
                let not = at(pattern, p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let remaining = pattern.len().saturating_sub(p);
                    let pc = at(pattern, p);
                    if pc == b'\\' && remaining >= 2 {
                        p += 1;
                        // Case-sensitive even with `nocase`, as in Redis.
                        if at(pattern, p) == c {
                            matched = true;
                        }
                    } else if pc == b']' {
                        break;
                    } else if remaining == 0 {
                        // Unterminated class: step back so the outer `p += 1` lands on the end.
                        p = p.saturating_sub(1);
                        break;
                    } else if remaining >= 3 && at(pattern, p + 1) == b'-' {
                        // Redis compares `char`s, which are signed on x86-64: widen through i8 so bytes
                        // >= 0x80 order below ASCII exactly as there.
                        let mut start = pc as i8 as i32;
                        let mut end = at(pattern, p + 2) as i8 as i32;
                        let mut cc = c as i8 as i32;
                        if start > end {
                            core::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = c_tolower(start);
                            end = c_tolower(end);
                            cc = c_tolower(cc);
                        }
                        p += 2;
                        if cc >= start && cc <= end {
                            matched = true;
                        }
                    } else if !nocase {
                        if pc == c {
                            matched = true;
                        }
                    } else if pc.eq_ignore_ascii_case(&c) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            pc => {
                let mut pc = pc;
                // `\x` matches `x`; a trailing lone `\` matches a literal `\`.
                if pc == b'\\' && pattern.len() - p >= 2 {
                    p += 1;
                    pc = at(pattern, p);
                }
                let equal = if nocase { pc.eq_ignore_ascii_case(&c) } else { pc == c };
                if !equal {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            // The string is consumed: only trailing stars may remain for a match.
            while at(pattern, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == pattern.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn m(p: &[u8], s: &[u8]) -> bool {
        string_match(p, s, false)
    }

    /// (pattern, subject, matches) with `nocase = false`. Every row was confirmed on Redis 7.0.15 by storing
    /// the subject as a key and running `KEYS pattern` (except `""` subjects, see `star_and_empty_subject`).
    const CASES: &[(&[u8], &[u8], bool)] = &[
        (b"h?llo", b"hello", true),
        (b"h?llo", b"hxllo", true),
        (b"h?llo", b"hllo", false),
        (b"h*llo", b"hllo", true),
        (b"h*llo", b"heeeello", true),
        (b"h[ae]llo", b"hallo", true),
        (b"h[ae]llo", b"hxllo", false),
        (b"h[^e]llo", b"hallo", true),
        (b"h[^e]llo", b"h\xffllo", true),
        (b"h[^e]llo", b"hello", false),
        (b"h[a-b]llo", b"hallo", true),
        (b"h[a-b]llo", b"hello", false),
        // Reversed ranges are swapped.
        (b"h[z-a]llo", b"hello", true),
        (b"hello", b"Hello", false),
        (b"h\x00llo", b"h\x00llo", true),
        (b"h\x00llo", b"hallo", false),
        (b"*", b"\x00", true),
        (b"**", b"abc", true),
        (b"*?*", b"x", true),
        (b"*\\*", b"*", true),
        (b"*\\*", b"foo*", true),
        (b"*\\*", b"foo", false),
        // A lone trailing backslash is a literal backslash.
        (b"\\", b"\\", true),
        (b"h\\", b"h\\", true),
        (b"h\\", b"h", false),
        (b"hello\\", b"hello\\", true),
        (b"hello\\", b"hello", false),
        (b"\\*", b"*", true),
        (b"\\*", b"a", false),
        (b"\\?", b"?", true),
        (b"\\[", b"[", true),
        (b"\\\\", b"\\", true),
        (b"[\\]]", b"]", true),
        (b"[\\-]", b"-", true),
        (b"[\\\\]", b"\\", true),
        // An escaped '-' is not a range.
        (b"[a\\-z]", b"-", true),
        (b"[a\\-z]", b"b", false),
        // Unterminated class holding a lone backslash: a literal backslash.
        (b"[\\", b"\\", true),
        // `[` alone: an empty, unterminated class, which matches nothing.
        (b"[", b"[", false),
        (b"[", b"a", false),
        // A leading `]` closes the class at once: `[]]` is an empty class then `]`, and never matches.
        (b"[]]", b"]", false),
        (b"[]]", b"]]", false),
        (b"[]", b"]", false),
        (b"[]", b"[]", false),
        // `[^]` is a negated empty class, i.e. any one byte; so is the unterminated `[^`.
        (b"[^]", b"x", true),
        (b"[^]", b"]", true),
        (b"[^]", b"xy", false),
        (b"[^", b"a", true),
        (b"[^", b"\x00", true),
        (b"[^", b"ab", false),
        (b"[^]]", b"x]", true),
        // Unterminated classes use the remaining bytes as members.
        (b"[a-", b"a", true),
        (b"[a-", b"-", true),
        (b"[a-", b"b", false),
        (b"[ab", b"b", true),
        (b"h[l", b"hl", true),
        // `[a-]` is the range a..']' (swapped to ']'..'a'), which swallows the closing bracket.
        (b"[a-]", b"]", true),
        (b"[a-]", b"^", true),
        (b"[a-]", b"_", true),
        (b"[a-]", b"`", true),
        (b"[a-]", b"a", true),
        (b"[a-]", b"-", false),
        (b"[a-]", b"b", false),
        (b"[a-]]", b"a", true),
        (b"[-]", b"-", true),
        (b"[a-c-e]", b"-", true),
        (b"[a-c-e]", b"b", true),
        (b"[a-c-e]", b"e", true),
        (b"[a-c-e]", b"d", false),
        (b"[*]", b"*", true),
        (b"[?]", b"?", true),
        (b"[?]", b"a", false),
        (b"[[]", b"[", true),
        // Ranges compare signed chars: `[a-\xff]` is -1..=97, so \xff and \x00..='a' but not \x80 or 'b'.
        (b"[a-\xff]", b"\xff", true),
        (b"[a-\xff]", b"\x00", true),
        (b"[a-\xff]", b"a", true),
        (b"[a-\xff]", b"A", true),
        (b"[a-\xff]", b"b", false),
        (b"[a-\xff]", b"\x80", false),
        (b"[\xff-a]", b"`", true),
        (b"[\xff-a]", b"\xff", true),
        (b"[\x80-\xff]", b"\x80", true),
        (b"[\x80-\xff]", b"\xff", true),
        (b"[\x80-\xff]", b"a", false),
        (b"user:1", b"user:1", true),
        (b"user:1", b"user:10", false),
        (b"user:1", b"user:", false),
    ];

    /// (pattern, subject, matches) with `nocase = true`, confirmed with `CONFIG GET pattern` (which uses
    /// `stringmatch(.., nocase=1)` in 7.0) against the config names.
    const NOCASE: &[(&[u8], &[u8], bool)] = &[
        (b"MAXMEM*", b"maxmemory", true),
        (b"M?xmemory", b"maxmemory", true),
        (b"MAXMEMORY-[P]OLICY", b"maxmemory-policy", true),
        (b"[L-M]*", b"maxmemory", true),
        (b"[l-m]*", b"maxmemory", true),
        // Ranges are lowered after swapping: [Z-a] becomes z..a, which is empty.
        (b"[Z-a]*", b"appendonly", false),
        (b"[Z-a]*", b"zset-max-listpack-entries", false),
        // An escaped byte inside a class stays case-sensitive.
        (b"[\\m]axmemory", b"maxmemory", true),
        (b"[\\M]axmemory", b"maxmemory", false),
    ];

    #[test]
    fn confirmed_cases() {
        for &(p, s, want) in CASES {
            assert_eq!(m(p, s), want, "pattern {p:?} subject {s:?}");
        }
        for &(p, s, want) in NOCASE {
            assert_eq!(string_match(p, s, true), want, "nocase pattern {p:?} subject {s:?}");
        }
        assert!(!m(b"maxmemory", b"MAXMEMORY") && string_match(b"maxmemory", b"MAXMEMORY", true));
    }

    #[test]
    fn star_and_empty_subject() {
        // The matcher alone never matches an empty string, not even with `*` (confirmed: `KEYS **` and
        // `KEYS *?*` skip the empty key while `KEYS *` returns it, because KEYS special-cases `*`).
        assert!(!m(b"*", b"") && !m(b"**", b"") && !m(b"?", b"") && !m(b"[", b""));
        assert!(m(b"", b"") && !m(b"", b"a") && !m(b"a", b""));
        assert!(matches_everything(b"*") && !matches_everything(b"**"));
    }

    #[test]
    fn no_exponential_blowup_and_nesting_limit() {
        let key = [b'a'; 3000];
        let pattern: Vec<u8> = b"a*".iter().copied().cycle().take(80).chain(*b"b").collect();
        assert!(!m(&pattern, &key));
        assert!(!m(b"*a*a*a*a*a*a*a*a*a*a*a*b", &key));
        // Redis stops recursing past 1000 nested stars: 1001 `a*` groups still match, 1002 do not.
        let aaa = [b'a'; 1100];
        let stars = |n: usize| -> Vec<u8> { b"a*".iter().copied().cycle().take(2 * n).collect() };
        assert!(m(&stars(1001), &aaa));
        assert!(!m(&stars(1002), &aaa));
    }

    #[test]
    fn literal_patterns() {
        assert!(is_literal(b"") && is_literal(b"user:1000") && is_literal(b"a]b^c-d\x00"));
        for p in [&b"a*"[..], b"a?", b"a[", b"a\\"] {
            assert!(!is_literal(p));
        }
    }
}
