//! Every string of the playground's interface, in English, Bangla, Arabic and Russian.
//!
//! A message is a `Msg`; its text in a language comes from that language's table (`i18n/<lang>.rs`). A message
//! a table lacks falls back to English, and `text` says so, so the page can mark it (a dotted underline with
//! `lang="en"`) instead of hiding the gap; the tests require every table to be complete.
//! Counted messages (`Plural`) have one text per CLDR plural category of the language: Russian needs
//! one/few/many, Arabic zero/one/two/few/many/other.
//! Commands, keys and replies are never translated: they are Redis's.

mod ar;
mod bn;
mod en;
mod ru;

/// The interface languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Bn,
    Ar,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Bn, Lang::Ar, Lang::Ru];

    /// The BCP 47 tag (`lang` attribute, URL parameter, tutorial folder).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Bn => "bn",
            Lang::Ar => "ar",
            Lang::Ru => "ru",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let code = code.trim().to_ascii_lowercase();
        // "bn-BD", "ar_EG": the primary subtag decides.
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The language's name in itself, as the language menu shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Bn => "বাংলা",
            Lang::Ar => "العربية",
            Lang::Ru => "Русский",
        }
    }

    pub fn rtl(self) -> bool {
        self == Lang::Ar
    }

    /// The CLDR plural category of `n` (integers only, which is all the interface counts).
    pub fn plural_category(self, n: u64) -> Category {
        match self {
            // English: one for 1. Bangla: one for 0 and 1 (CLDR "i = 0 or n = 1").
            Lang::En => {
                if n == 1 {
                    Category::One
                } else {
                    Category::Other
                }
            }
            Lang::Bn => {
                if n <= 1 {
                    Category::One
                } else {
                    Category::Other
                }
            }
            Lang::Ru => {
                let (m10, m100) = (n % 10, n % 100);
                if m10 == 1 && m100 != 11 {
                    Category::One
                } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
                    Category::Few
                } else {
                    Category::Many
                }
            }
            Lang::Ar => {
                let m100 = n % 100;
                match n {
                    0 => Category::Zero,
                    1 => Category::One,
                    2 => Category::Two,
                    _ if (3..=10).contains(&m100) => Category::Few,
                    _ if (11..=99).contains(&m100) => Category::Many,
                    _ => Category::Other,
                }
            }
        }
    }

    fn table(self) -> fn(Msg) -> Option<&'static str> {
        match self {
            Lang::En => en::text,
            Lang::Bn => bn::text,
            Lang::Ar => ar::text,
            Lang::Ru => ru::text,
        }
    }

    fn plural_table(self) -> fn(Plural, Category) -> Option<&'static str> {
        match self {
            Lang::En => en::plural,
            Lang::Bn => bn::plural,
            Lang::Ar => ar::plural,
            Lang::Ru => ru::plural,
        }
    }
}

/// CLDR plural categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Zero,
    One,
    Two,
    Few,
    Many,
    Other,
}

/// A text in a language, and whether it is the English fallback for a missing translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text {
    pub text: &'static str,
    pub fallback: bool,
}

/// The text of `msg` in `lang` (English when the table lacks it).
pub fn text(lang: Lang, msg: Msg) -> Text {
    match lang.table()(msg) {
        Some(text) => Text { text, fallback: false },
        None => Text { text: en::text(msg).unwrap_or("?"), fallback: lang != Lang::En },
    }
}

/// Shorthand for the text alone.
pub fn t(lang: Lang, msg: Msg) -> &'static str {
    text(lang, msg).text
}

/// `msg` with `{name}` placeholders filled in.
pub fn tf(lang: Lang, msg: Msg, args: &[(&str, &str)]) -> String {
    fill(t(lang, msg), args)
}

/// The counted text for `n`, with `{n}` filled in (and any other placeholders from `args`).
pub fn plural(lang: Lang, p: Plural, n: u64, args: &[(&str, &str)]) -> String {
    let category = lang.plural_category(n);
    let template = lang
        .plural_table()(p, category)
        .or_else(|| lang.plural_table()(p, Category::Other))
        .or_else(|| en::plural(p, Lang::En.plural_category(n)))
        .unwrap_or("{n}");
    let n = n.to_string();
    let mut all = vec![("n", n.as_str())];
    all.extend_from_slice(args);
    fill(template, &all)
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

macro_rules! messages {
    ($($name:ident),* $(,)?) => {
        /// Every message of the interface.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Msg { $($name),* }
        impl Msg {
            pub const ALL: &'static [Msg] = &[$(Msg::$name),*];
        }
    };
}

messages! {
    Tagline,
    Loading,
    LoadFailed,
    Language,
    Lessons,
    HideLessons,
    Reset,
    ResetDone,
    ClientN,
    AddClient,
    CloseClient,
    Clear,
    Copy,
    Copied,
    ConsoleHint,
    InputLabel,
    Blocked,
    Subscribed,
    InMulti,
    CtrlC,
    Keys,
    FilterPlaceholder,
    AllTypes,
    NoKeys,
    NoMatch,
    Database,
    ColKey,
    ColType,
    ColTtl,
    ColSize,
    NoExpiry,
    Value,
    SelectKey,
    KeyGone,
    Encoding,
    Memory,
    Expires,
    Index,
    FromTail,
    Field,
    Member,
    Score,
    Rank,
    Entries,
    Groups,
    Consumers,
    Pending,
    LastDelivered,
    LastId,
    Estimate,
    AsText,
    AsInteger,
    AsBits,
    AsGeo,
    Longitude,
    Latitude,
    Added,
    Removed,
    Changed,
    LastChange,
    Time,
    Pause,
    Resume,
    Paused,
    FastForward,
    ClockAhead,
    HelpSummary,
    HelpSince,
    HelpGroup,
    HelpComplexity,
    HelpIntro,
    HelpUnknown,
    AllLessons,
    Exercise,
    Check,
    Correct,
    NotYet,
    Hint,
    Solution,
    RunStep,
    RunAll,
    Ran,
    Previous,
    Next,
    WhereUsed,
    LessonMissing,
    LessonLoading,
    LessonFailed,
    Retry,
    NotTranslated,
    LessonFresh,
    StartFresh,
    OpenFull,
    Expected,
    Got,
    Storage,
    DownloadRdb,
    DownloadHint,
    LoadRdb,
    LoadHint,
    ResetConfirm,
    ResetYes,
    Cancel,
    DropHere,
    Loaded,
    BadFile,
    StorageOff,
    StorageUnreadable,
    Dismiss,
    DownloadFailed,
}

macro_rules! plurals {
    ($($name:ident),* $(,)?) => {
        /// Every counted message.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Plural { $($name),* }
        impl Plural {
            pub const ALL: &'static [Plural] = &[$(Plural::$name),*];
        }
    };
}

plurals! {
    KeyCount,
    Elements,
    Bytes,
    ShowingFirst,
    Seconds,
    Steps,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_translates_every_message() {
        for lang in Lang::ALL {
            for &msg in Msg::ALL {
                let t = text(lang, msg);
                assert!(!t.fallback, "{lang:?} lacks {msg:?}");
                assert!(!t.text.is_empty(), "{lang:?} {msg:?} is empty");
            }
        }
    }

    #[test]
    fn every_language_has_every_plural_form_it_uses() {
        let categories = |lang: Lang| -> Vec<Category> {
            let mut seen = Vec::new();
            for n in 0..=200 {
                let c = lang.plural_category(n);
                if !seen.contains(&c) {
                    seen.push(c);
                }
            }
            seen
        };
        for lang in Lang::ALL {
            for &p in Plural::ALL {
                for c in categories(lang) {
                    let form = lang.plural_table()(p, c);
                    // Arabic says "one key", "two keys", "no keys" in words, without the digit.
                    let in_words = lang == Lang::Ar && matches!(c, Category::Zero | Category::One | Category::Two);
                    assert!(form.is_some_and(|f| in_words || f.contains("{n}")), "{lang:?} {p:?} {c:?}");
                }
            }
        }
    }

    #[test]
    fn placeholders_survive_translation() {
        // A translation must keep the placeholders of the English text, or the page would show "{name}".
        let names = |s: &str| -> Vec<String> {
            let mut v: Vec<String> =
                s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string())).collect();
            v.sort();
            v
        };
        for lang in Lang::ALL {
            for &msg in Msg::ALL {
                assert_eq!(names(t(lang, msg)), names(t(Lang::En, msg)), "{lang:?} {msg:?}");
            }
        }
    }

    #[test]
    fn russian_and_arabic_plurals_follow_cldr() {
        let ru = |n| Lang::Ru.plural_category(n);
        assert_eq!([ru(1), ru(2), ru(5), ru(11), ru(21), ru(22), ru(112)], [
            Category::One,
            Category::Few,
            Category::Many,
            Category::Many,
            Category::One,
            Category::Few,
            Category::Many
        ]);
        let ar = |n| Lang::Ar.plural_category(n);
        assert_eq!([ar(0), ar(1), ar(2), ar(3), ar(11), ar(100), ar(103)], [
            Category::Zero,
            Category::One,
            Category::Two,
            Category::Few,
            Category::Many,
            Category::Other,
            Category::Few
        ]);
        assert_eq!(plural(Lang::Ru, Plural::KeyCount, 3, &[]), "3 ключа");
        assert_eq!(plural(Lang::En, Plural::KeyCount, 1, &[]), "1 key");
    }

    #[test]
    fn language_codes_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
        }
        assert_eq!(Lang::from_code("bn-BD"), Some(Lang::Bn));
        assert_eq!(Lang::from_code("AR_eg"), Some(Lang::Ar));
        assert_eq!(Lang::from_code("de"), None);
    }

    #[test]
    fn fill_replaces_known_placeholders_and_keeps_others() {
        assert_eq!(fill("{a} and {b} {c", &[("a", "1"), ("b", "2")]), "1 and 2 {c");
        assert_eq!(fill("x {unknown} y", &[]), "x {unknown} y");
    }
}
