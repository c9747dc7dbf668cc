//! redis-cli's line tokenizer: Redis's `sdssplitargs` (src/sds.c), byte for byte.
//!
//! redis-cli splits every typed line with it, and the server splits inline commands with it, so both the
//! web REPL and the inline request parser in [`crate::resp`] share this one function.
//!
//! The rules, including the odd corners the C code has:
//! - Blanks between arguments are C `isspace` (space, `\t`, `\n`, `\v`, `\f`, `\r`), but an unquoted
//!   argument ends only at space, `\t`, `\n`, `\r` or the end: `\v` and `\f` inside a word belong to it.
//! - A quote may open in the middle of a word (`ab"cd"` is `abcd`); the closing quote must be followed by
//!   a blank or the end of the line, else the whole line is rejected.
//! - In double quotes: `\xHH` (exactly two hex digits, either case) is a byte, `\n \r \t \b \a` are the
//!   control characters, and a backslash before anything else yields that character (`\xZZ` is `xZZ`).
//! - In single quotes only `\'` is an escape; every other backslash is literal.
//! - The C code reads a NUL-terminated string, so a NUL byte ends the line wherever it appears.

use alloc::vec::Vec;
use core::fmt;

/// The line has unbalanced quotes or a closing quote followed by a non-blank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenizeError;

impl fmt::Display for TokenizeError {
    /// What redis-cli prints for such a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Invalid argument(s)")
    }
}

/// C's `isspace` in the C locale (redis-cli never calls `setlocale`, so bytes >= 0x80 are never blanks).
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits `line` into arguments exactly like `sdssplitargs`. A blank line gives no arguments.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, TokenizeError> {
    split(line, true)
}

/// The arguments of a line without quotes, as slices of it (no copy): what `split_args` gives for such a line,
/// or `None` when the line has a quote (before a NUL), which only `split_args` reads. A host calling the engine
/// once per typed line (the JS API) spares an allocation per argument with it.
pub fn split_plain(line: &[u8]) -> Option<PlainArgs<'_>> {
    let end = line.iter().position(|&c| c == 0).unwrap_or(line.len());
    let line = line.get(..end)?;
    if line.iter().any(|&c| c == b'"' || c == b'\'') {
        return None;
    }
    Some(PlainArgs { rest: line })
}

/// The iterator `split_plain` returns.
#[derive(Clone)]
pub struct PlainArgs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for PlainArgs<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // Blanks before a word are `isspace`; the word ends at space, tab, newline or CR only (as `split`).
        let start = self.rest.iter().position(|&c| !is_space(c))?;
        let word = self.rest.get(start..)?;
        let len = word.iter().position(|&c| matches!(c, b' ' | b'\n' | b'\r' | b'\t')).unwrap_or(word.len());
        self.rest = word.get(len..).unwrap_or_default();
        word.get(..len)
    }
}

/// `split_args`, with or without the shortcut for plain words (the tests check that it changes nothing).
fn split(line: &[u8], plain_words: bool) -> Result<Vec<Vec<u8>>, TokenizeError> {
    // The C string ends at the first NUL; emulating that keeps `at` returning 0 exactly at the end.
    let end = line.iter().position(|&c| c == 0).unwrap_or(line.len());
    let line = line.get(..end).unwrap_or(line);
    // Reading past the end yields the terminating NUL, as dereferencing `p + k` does in C.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);

    let mut args = Vec::new();
    let mut p = 0usize;
    loop {
        while p < line.len() && is_space(at(p)) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(args);
        }
        // A plain word (the common case) is copied in one piece; one with a quote goes on below from the quote.
        let rest = line.get(p..).unwrap_or_default();
        let plain = if !plain_words { 0 } else { rest.iter().position(|&c| matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b'"' | b'\'')).unwrap_or(rest.len()) };
        let mut current = rest.get(..plain).unwrap_or_default().to_vec();
        p += plain;
        if plain_words && !matches!(at(p), b'"' | b'\'') {
            // Ended by a blank (skipped, as the loop below skips it) or by the end of the line.
            if at(p) != 0 {
                p += 1;
            }
            args.push(current);
            continue;
        }
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = at(p);
            let mut done = false;
            if in_double {
                let escaped_hex = match (c, at(p + 1), hex_value(at(p + 2)), hex_value(at(p + 3))) {
                    (b'\\', b'x', Some(hi), Some(lo)) => Some(hi * 16 + lo),
                    _ => None,
                };
                if let Some(byte) = escaped_hex {
                    current.push(byte);
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    let next = at(p + 1);
                    if next != 0 && !is_space(next) {
                        return Err(TokenizeError);
                    }
                    done = true;
                } else if c == 0 {
                    return Err(TokenizeError);
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    let next = at(p + 1);
                    if next != 0 && !is_space(next) {
                        return Err(TokenizeError);
                    }
                    done = true;
                } else if c == 0 {
                    return Err(TokenizeError);
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            // `if (*p) p++;` — the C code re-reads `p`, which the escape branches above have moved.
            if at(p) != 0 {
                p += 1;
            }
            if done {
                break;
            }
        }
        args.push(current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    /// The shortcut for plain words gives what the character-by-character reading gives, on random lines made
    /// of the characters that matter.
    #[test]
    fn plain_word_shortcut_changes_nothing() {
        let alphabet = b"ab \t\n\r\x0b\x0c\"'\\x4F\0";
        let mut rng = crate::util::Rng::new(11);
        for _ in 0..50_000 {
            let len = (rng.next_u64() % 12) as usize;
            let line: Vec<u8> = (0..len).map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize]).collect();
            assert_eq!(split(&line, true), split(&line, false), "{line:?}");
        }
    }

    /// `split_plain` gives `split_args`'s arguments for every line without quotes, and declines the others.
    #[test]
    fn split_plain_agrees_with_split_args() {
        let alphabet = b"ab \t\n\r\x0b\x0c\"'\\x4F\0";
        let mut rng = crate::util::Rng::new(12);
        let mut plain = 0;
        for _ in 0..50_000 {
            let len = (rng.next_u64() % 12) as usize;
            let line: Vec<u8> = (0..len).map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize]).collect();
            match split_plain(&line) {
                Some(args) => {
                    plain += 1;
                    let args: Vec<Vec<u8>> = args.map(<[u8]>::to_vec).collect();
                    assert_eq!(Ok(args), split_args(&line), "{line:?}");
                }
                None => {
                    let quoted = line.iter().take_while(|&&c| c != 0).any(|&c| c == b'"' || c == b'\'');
                    assert!(quoted, "{line:?} declined");
                }
            }
        }
        assert!(plain > 1000, "too few lines without quotes were tried: {plain}");
    }

    fn ok(line: &[u8]) -> Vec<Vec<u8>> {
        match split_args(line) {
            Ok(v) => v,
            Err(e) => panic!("{:?} rejected: {e}", core::str::from_utf8(line)),
        }
    }

    fn v(items: &[&[u8]]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.to_vec()).collect()
    }

    // Every expectation below was checked by typing the line into an interactive redis-cli 7.0.15 and
    // reading the arguments back from the server's "unknown command ... with args beginning with" error.
    #[test]
    fn matches_interactive_redis_cli() {
        assert_eq!(ok(br#"FOO "a b" c"#), v(&[b"FOO", b"a b", b"c"]));
        assert_eq!(ok(br#"ECHO "a\x41b""#), v(&[b"ECHO", b"aAb"]));
        assert_eq!(ok(br"FOO 'a\'b' 'c\nd'"), v(&[b"FOO", b"a'b", br"c\nd"]));
        assert_eq!(ok(br#"FOO ab"cd" ef"#), v(&[b"FOO", b"abcd", b"ef"]));
        assert_eq!(ok(br#"FOO "\xZZ" "\x4" "\q" "\"" "\\""#), v(&[b"FOO", b"xZZ", b"x4", b"q", b"\"", b"\\"]));
        assert_eq!(ok(br#"FOO a\x41 "\X41""#), v(&[b"FOO", br"a\x41", b"X41"]));
        assert_eq!(ok(b"FOO ab'c d'"), v(&[b"FOO", b"abc d"]));
        assert_eq!(ok(br"FOO 'a\\b'"), v(&[b"FOO", br"a\\b"]));
        assert_eq!(ok(br#"FOO """#), v(&[b"FOO", b""]));
        assert_eq!(ok(b"FOO '' x"), v(&[b"FOO", b"", b"x"]));
        assert_eq!(ok(br#"FOO "\n\r\t\b\a" x"#), v(&[b"FOO", b"\n\r\t\x08\x07", b"x"]));
        for bad in [&br#"FOO "a"b"#[..], br#"FOO ab"cd"ef"#, br#"FOO "unterminated"#, b"FOO 'unterminated", br#"" x"#] {
            assert_eq!(split_args(bad), Err(TokenizeError), "{:?}", core::str::from_utf8(bad));
        }
        assert_eq!(TokenizeError.to_string(), "Invalid argument(s)");
    }

    #[test]
    fn blank_lines_give_nothing() {
        assert!(ok(b"").is_empty());
        assert!(ok(b"   \t\r\n\x0b\x0c").is_empty());
    }

    // Checked against the server's inline parser, which uses the same function.
    #[test]
    fn vertical_tab_and_form_feed_are_blanks_only_between_words() {
        assert_eq!(ok(b"\x0bPING\x0b"), v(&[b"PING\x0b"]));
        assert_eq!(ok(b"ECHO a\x0cb"), v(&[b"ECHO", b"a\x0cb"]));
        // ... yet they may follow a closing quote, because that check uses isspace.
        assert_eq!(ok(b"'a'\x0bb"), v(&[b"a", b"b"]));
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(ok(b"a b\0c d"), v(&[b"a", b"b"]));
        assert_eq!(split_args(b"\"abc\0\""), Err(TokenizeError));
        assert_eq!(split_args(b"\"ab\\\0\""), Err(TokenizeError));
        assert_eq!(ok(br#""\x00""#), vec![vec![0u8]]);
    }

    #[test]
    fn escape_at_end_of_line() {
        // A backslash as the last byte inside quotes is kept literally, and then the quote is unterminated.
        assert_eq!(split_args(b"\"ab\\"), Err(TokenizeError));
        assert_eq!(split_args(b"'ab\\"), Err(TokenizeError));
        assert_eq!(ok(b"ab\\"), v(&[b"ab\\"]));
        assert_eq!(ok(br#""\x4""#), v(&[b"x4"]));
        assert_eq!(ok(br#""\xfF""#), vec![vec![0xffu8]]);
        assert_eq!(ok(b"\xff\x80"), vec![vec![0xffu8, 0x80]]);
    }
}
