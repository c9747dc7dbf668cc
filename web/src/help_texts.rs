//! Command summaries and group names in the interface languages, for the console's `HELP`.
//!
//! English summaries are the command table's own (`core/data/summaries.tsv`, which COMMAND DOCS shows too);
//! the translations live beside this crate in `i18n/summaries.{bn,ar,ru}.tsv` (`name<TAB>summary`), and the
//! group names of all four languages in `i18n/groups.tsv` (`group<TAB>en<TAB>bn<TAB>ar<TAB>ru`, English
//! being Redis's own name as redis-cli prints it). The files are compiled in and parsed once, on first use,
//! into tables sorted by name. `i18n/GLOSSARY.md` fixes the words they use.

use std::sync::OnceLock;

use redlet_core::table;

const BN: &str = include_str!("../i18n/summaries.bn.tsv");
const AR: &str = include_str!("../i18n/summaries.ar.tsv");
const RU: &str = include_str!("../i18n/summaries.ru.tsv");
const GROUPS: &str = include_str!("../i18n/groups.tsv");

/// The languages of `groups.tsv`, in its column order.
const GROUP_LANGS: [&str; 4] = ["en", "bn", "ar", "ru"];

type Table = Vec<(&'static str, &'static str)>;
type GroupTable = Vec<(&'static str, [&'static str; 4])>;

/// The non-comment lines of a TSV file, split at tabs.
fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(|l| l.split('\t').collect())
}

/// `name<TAB>summary` lines, sorted by name for binary search. Malformed lines are left out (the tests
/// reject them).
fn parse_summaries(text: &'static str) -> Table {
    let mut t: Table = rows(text)
        .filter_map(|r| match r.as_slice() {
            [name, summary] => Some((*name, *summary)),
            _ => None,
        })
        .collect();
    t.sort_unstable_by_key(|(name, _)| *name);
    t
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

fn translations(lang: &str) -> Option<&'static Table> {
    static BN_TABLE: OnceLock<Table> = OnceLock::new();
    static AR_TABLE: OnceLock<Table> = OnceLock::new();
    static RU_TABLE: OnceLock<Table> = OnceLock::new();
    let (cell, text) = match lang {
        "bn" => (&BN_TABLE, BN),
        "ar" => (&AR_TABLE, AR),
        "ru" => (&RU_TABLE, RU),
        _ => return None,
    };
    Some(cell.get_or_init(|| parse_summaries(text)))
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

    fn lookup_en(name: &str) -> Option<&'static str> {
        table::lookup(name).and_then(|s| s.summary)
    }
}
