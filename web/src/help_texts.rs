//! Command summaries and group names in the interface languages, for the console's `HELP`.
//!
//! English summaries are the command table's own (`core/data/summaries.tsv`, which COMMAND DOCS shows too);
//! the translations live beside this crate in `i18n/summaries.{bn,ar,ru}.tsv` (`name<TAB>summary`), and the
//! group names of all four languages in `i18n/groups.tsv` (`group<TAB>en<TAB>bn<TAB>ar<TAB>ru`, English
//! being Redis's own name as redis-cli prints it). Each is parsed once, on first use, into a table sorted by
//! name. `i18n/GLOSSARY.md` fixes the words they use.
//!
//! The group names are compiled in everywhere. The translated summaries are too, except in the wasm playground
//! (cfg `fetch_texts`, set by `build.rs`): there the page fetches a language's file when the interface switches
//! to it ([`summaries_url`]) and hands it to [`install`]; until then [`summary`] has no translation and `HELP`
//! shows the English summary.

use std::sync::OnceLock;

use redlet_core::table;

include!(concat!(env!("OUT_DIR"), "/summaries.rs"));

#[cfg(not(fetch_texts))]
const BN: &str = include_str!("../i18n/summaries.bn.tsv");
#[cfg(not(fetch_texts))]
const AR: &str = include_str!("../i18n/summaries.ar.tsv");
#[cfg(not(fetch_texts))]
const RU: &str = include_str!("../i18n/summaries.ru.tsv");
const GROUPS: &str = include_str!("../i18n/groups.tsv");

/// The languages of `groups.tsv`, in its column order.
const GROUP_LANGS: [&str; 4] = ["en", "bn", "ar", "ru"];

type Table<'a> = Vec<(&'a str, &'a str)>;
type GroupTable = Vec<(&'static str, [&'static str; 4])>;

/// The non-comment lines of a TSV file, split at tabs.
fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(|l| l.split('\t').collect())
}

/// `name<TAB>summary` lines, sorted by name for binary search. Malformed lines are left out (the tests
/// reject them).
fn parse_summaries(text: &str) -> Table<'_> {
    let mut t: Table<'_> = rows(text)
        .filter_map(|r| match r.as_slice() {
            [name, summary] => Some((*name, *summary)),
            _ => None,
        })
        .collect();
    t.sort_unstable_by_key(|(name, _)| *name);
    t
}

/// A fetched summaries file, parsed; refused when no line names a command (a host's HTML error page served
/// with status 200, a truncated body), so the English summaries stay rather than none.
#[cfg(any(fetch_texts, test))]
fn checked(text: &str) -> Result<Table<'_>, String> {
    let t = parse_summaries(text);
    if t.iter().any(|(name, _)| spec(name).is_some()) {
        Ok(t)
    } else {
        Err("the file holds no command summaries".into())
    }
}

fn parse_groups(text: &'static str) -> GroupTable {
    let mut t: GroupTable = rows(text)
        .filter_map(|r| match r.as_slice() {
            [group, en, bn, ar, ru] => Some((*group, [*en, *bn, *ar, *ru])),
            _ => None,
        })
        .collect();
    t.sort_unstable_by_key(|(group, _)| *group);
    t
}

/// The table a translated language's summaries are kept in, once read.
fn cell(lang: &str) -> Option<&'static OnceLock<Table<'static>>> {
    static BN_TABLE: OnceLock<Table<'static>> = OnceLock::new();
    static AR_TABLE: OnceLock<Table<'static>> = OnceLock::new();
    static RU_TABLE: OnceLock<Table<'static>> = OnceLock::new();
    match lang {
        "bn" => Some(&BN_TABLE),
        "ar" => Some(&AR_TABLE),
        "ru" => Some(&RU_TABLE),
        _ => None,
    }
}

#[cfg(not(fetch_texts))]
fn translations(lang: &str) -> Option<&'static Table<'static>> {
    let text = match lang {
        "bn" => BN,
        "ar" => AR,
        "ru" => RU,
        _ => return None,
    };
    Some(cell(lang)?.get_or_init(|| parse_summaries(text)))
}

#[cfg(fetch_texts)]
fn translations(lang: &str) -> Option<&'static Table<'static>> {
    cell(lang)?.get()
}

/// Whether `lang`'s own summaries are in: English always (the command table's), a translation once compiled
/// in or [`install`]ed.
pub fn has_summaries(lang: &str) -> bool {
    lang == "en" || translations(lang).is_some()
}

/// Where the built site has a translation's summaries, relative to the page (trunk copies the files into
/// `dist/i18n/`): `i18n/summaries.ru.tsv?v=…`, the version changing with the content. `None` for English
/// and unknown languages.
pub fn summaries_url(lang: &str) -> Option<String> {
    let (_, version) = SUMMARY_VERSIONS.iter().find(|(l, _)| *l == lang)?;
    Some(format!("i18n/summaries.{lang}.tsv?v={version}"))
}

/// Takes a translation's summaries as the page fetched them (`summaries_url`). The text is kept for the
/// page's life (leaked, once per language: the table points into it); a second copy is dropped.
#[cfg(fetch_texts)]
pub fn install(lang: &str, text: String) -> Result<(), String> {
    let Some(cell) = cell(lang) else { return Err(format!("no summaries for {lang}")) };
    if cell.get().is_some() {
        return Ok(());
    }
    checked(&text)?;
    let text: &'static str = Box::leak(text.into_boxed_str());
    let _ = cell.set(parse_summaries(text));
    Ok(())
}

fn groups() -> &'static GroupTable {
    static GROUP_TABLE: OnceLock<GroupTable> = OnceLock::new();
    GROUP_TABLE.get_or_init(|| parse_groups(GROUPS))
}

/// The command table's entry for a full name: `get`, `client|list`.
fn spec(full_name: &str) -> Option<&'static table::CommandSpec> {
    match full_name.split_once('|') {
        Some((container, sub)) => table::lookup(container)?.subcommand(sub),
        None => table::lookup(full_name),
    }
}

/// The one-line summary of a command (`get`) or subcommand (`client|list`, lower case) in `lang`
/// (`en`, `bn`, `ar`, `ru`); `None` for an unknown language or name.
pub fn summary(lang: &str, full_name: &str) -> Option<&'static str> {
    if lang == "en" {
        return spec(full_name)?.summary;
    }
    let t = translations(lang)?;
    let i = t.binary_search_by(|(name, _)| (*name).cmp(full_name)).ok()?;
    t.get(i).map(|(_, s)| *s)
}

/// The display name of a command group as Redis names it (`sorted-set`) in `lang`.
pub fn group_name(lang: &str, group: &str) -> Option<&'static str> {
    let col = GROUP_LANGS.iter().position(|l| *l == lang)?;
    let t = groups();
    let i = t.binary_search_by(|(g, _)| (*g).cmp(group)).ok()?;
    t.get(i).and_then(|(_, names)| names.get(col)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use redlet_core::table::{CommandSpec, COMMANDS};
    use std::collections::BTreeSet;

    const LANGS: [&str; 4] = ["en", "bn", "ar", "ru"];
    const FILES: [(&str, &str); 3] = [("bn", BN), ("ar", AR), ("ru", RU)];

    /// Group names that are rightly the English one (Redis's own, give or take capitals): names, and the
    /// data types Bangla and Arabic keep in Latin script (GLOSSARY.md).
    const GROUPS_AS_IN_ENGLISH: &[(&str, &str)] = &[
        ("bn", "hyperloglog"),
        ("ar", "hyperloglog"),
        ("ru", "hyperloglog"),
        ("bn", "sentinel"),
        ("ar", "sentinel"),
        ("ru", "sentinel"),
        ("bn", "bitmap"),
        ("bn", "hash"),
        ("bn", "list"),
        ("bn", "set"),
        ("bn", "stream"),
        ("bn", "string"),
        ("ar", "hash"),
        ("ar", "stream"),
    ];

    /// Summaries that are rightly the same as the English one. None so far.
    const SUMMARIES_AS_IN_ENGLISH: &[(&str, &str)] = &[];

    fn all_specs() -> Vec<&'static CommandSpec> {
        COMMANDS.iter().flat_map(|c| std::iter::once(c).chain(c.subcommands.iter())).collect()
    }

    #[test]
    fn every_command_has_a_summary_in_every_language() {
        let specs = all_specs();
        assert_eq!(specs.len(), 366);
        for spec in specs {
            for lang in LANGS {
                let s = summary(lang, spec.name);
                assert!(s.is_some_and(|s| !s.trim().is_empty()), "no {lang} summary for {}", spec.name);
            }
        }
    }

    #[test]
    fn translation_files_name_only_known_commands_once_each() {
        for (lang, text) in FILES {
            let mut seen = BTreeSet::new();
            for row in rows(text) {
                let name = row.first().copied().unwrap_or_default();
                assert!(spec(name).is_some(), "summaries.{lang}.tsv names an unknown command: {name}");
                assert!(seen.insert(name), "summaries.{lang}.tsv names {name} twice");
            }
        }
    }

    #[test]
    fn no_line_is_empty_or_malformed() {
        for (lang, text) in FILES {
            for (n, line) in text.lines().enumerate() {
                if line.starts_with('#') {
                    continue;
                }
                let fields: Vec<&str> = line.split('\t').collect();
                assert!(
                    fields.len() == 2 && fields.iter().all(|f| !f.trim().is_empty() && f.trim() == *f),
                    "summaries.{lang}.tsv line {}: {line:?}",
                    n + 1
                );
            }
        }
        for (n, line) in GROUPS.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            assert!(
                fields.len() == 5 && fields.iter().all(|f| !f.trim().is_empty() && f.trim() == *f),
                "groups.tsv line {}: {line:?}",
                n + 1
            );
        }
    }

    #[test]
    fn translations_differ_from_the_english() {
        for spec in all_specs() {
            let en = summary("en", spec.name);
            for lang in ["bn", "ar", "ru"] {
                let same = summary(lang, spec.name) == en;
                let allowed = SUMMARIES_AS_IN_ENGLISH.contains(&(lang, spec.name));
                assert_eq!(same, allowed, "{lang} summary of {} is the English one: {en:?}", spec.name);
            }
        }
        for (group, _) in groups() {
            let en = group_name("en", group).unwrap_or_default();
            for lang in ["bn", "ar", "ru"] {
                let same = group_name(lang, group).is_some_and(|g| g.eq_ignore_ascii_case(en));
                let allowed = GROUPS_AS_IN_ENGLISH.contains(&(lang, *group));
                assert_eq!(same, allowed, "{lang} name of group {group}: {en:?}");
            }
        }
    }

    #[test]
    fn every_group_of_the_table_has_a_name_in_every_language() {
        let used: BTreeSet<&str> = all_specs().iter().map(|s| s.group).collect();
        assert!(used.contains("sorted-set") && used.contains("generic"));
        for group in used {
            for lang in LANGS {
                assert!(group_name(lang, group).is_some(), "no {lang} name for group {group}");
            }
        }
        assert_eq!(groups().len(), 17, "the groups Redis names, sentinel included");
    }

    #[test]
    fn lookups() {
        assert_eq!(summary("en", "get"), lookup_en("get"));
        assert!(summary("ru", "client|list").is_some_and(|s| s.contains("соединени")));
        assert_eq!(summary("ru", "nosuch"), None);
        assert_eq!(summary("fr", "get"), None);
        assert_eq!(summary("en", "client|nosuch"), None);
        assert_eq!(group_name("en", "sorted-set"), Some("sorted-set"));
        assert_eq!(group_name("bn", "sorted-set"), Some("sorted set"));
        assert_eq!(group_name("ar", "list"), Some("القوائم"));
        assert_eq!(group_name("ru", "nosuch"), None);
        assert_eq!(group_name("fr", "list"), None);
    }

    #[test]
    fn fetched_files_are_found_by_versioned_relative_urls_and_checked() {
        for (lang, text) in FILES {
            let url = summaries_url(lang).expect("a translation");
            let version = url.rsplit_once("?v=").map(|(path, v)| (path.to_string(), v.len()));
            assert_eq!(version, Some((format!("i18n/summaries.{lang}.tsv"), 16)));
            assert_eq!(checked(text).map(|t| t.len()), Ok(parse_summaries(text).len()));
            assert!(has_summaries(lang));
        }
        assert_eq!(summaries_url("en"), None);
        assert_eq!(summaries_url("fr"), None);
        assert!(has_summaries("en") && !has_summaries("fr"));
        assert_ne!(summaries_url("bn"), summaries_url("ru"));
        // What a host may answer instead of the file.
        assert!(checked("<!doctype html><html><body>Not found</body></html>").is_err());
        assert!(checked("").is_err());
        assert!(checked("nosuch\tsummary\n").is_err());
        assert_eq!(checked("# comment\nget\tчитает\nnosuch\tx\n").map(|t| t.len()), Ok(2));
    }

    fn lookup_en(name: &str) -> Option<&'static str> {
        table::lookup(name).and_then(|s| s.summary)
    }
}
