//! What the page's URL asks for: `?lang=bn&lesson=caching&embed=1&run=SET%20a%201%0AGET%20a`.
//! Course pages embed the playground by iframe with these parameters.

use super::i18n::Lang;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    pub lang: Option<Lang>,
    /// A lesson to open, by its slug (`caching`) or file name (`02-caching`).
    pub lesson: Option<String>,
    /// The compact layout for iframes: one console and the visualizer.
    pub embed: bool,
    /// Lines to run in the first console once the engine is up (`run`, repeatable, or newline-separated).
    pub run: Vec<String>,
    /// Extra consoles to open (`clients=2`).
    pub clients: usize,
}

/// Parses a query string (with or without the leading `?`).
pub fn parse(query: &str) -> Params {
    let mut p = Params::default();
    for pair in query.trim_start_matches('?').split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = decode(v);
        match decode(k).as_str() {
            "lang" => p.lang = Lang::from_code(&v),
            "lesson" => p.lesson = Some(v).filter(|s| !s.is_empty()),
            "embed" => p.embed = !matches!(v.as_str(), "0" | "false" | "no"),
            "run" | "cmd" => p.run.extend(v.lines().map(str::to_string).filter(|l| !l.trim().is_empty())),
            "clients" => p.clients = v.parse::<usize>().unwrap_or(1).clamp(1, 4),
            _ => {}
        }
    }
    p
}

/// Percent-decoding with `+` as a space (form encoding, what `URLSearchParams` writes); invalid UTF-8 is replaced.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| core::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_choose_language_lesson_layout_and_commands() {
        let p = parse("?lang=ru&lesson=caching&embed=1&run=SET%20a%201%0AGET+a&run=INCR%20n&clients=2");
        assert_eq!(p.lang, Some(Lang::Ru));
        assert_eq!(p.lesson.as_deref(), Some("caching"));
        assert!(p.embed);
        assert_eq!(p.run, ["SET a 1", "GET a", "INCR n"]);
        assert_eq!(p.clients, 2);
        assert_eq!(parse(""), Params::default());
        assert_eq!(parse("lang=xx&embed=0&clients=99").clients, 4);
        assert_eq!(parse("lang=xx").lang, None);
    }

    #[test]
    fn decoding_keeps_non_latin_text_and_survives_bad_escapes() {
        assert_eq!(decode("SET%20%E0%A6%A8%E0%A6%BE%E0%A6%AE%20x"), "SET নাম x");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%e0"), "%zz\u{fffd}");
    }
}
