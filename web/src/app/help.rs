//! What the console knows about commands, all read from the engine's command table: `HELP` as redis-cli
//! prints it (in the learner's language), the grey argument hint after the cursor, Tab completion, and which
//! keys a command line names (so the key browser can follow what the learner works on).

use redlet_core::table::{self, Arg, BeginSearch, CommandSpec, FindKeys, COMMANDS};

use super::i18n::{t, tf, Lang, Msg};
use crate::help_texts;

/// The argument syntax redis-cli shows for a command: `key value [NX|XX] [GET] [EX seconds|...]`.
pub fn syntax(spec: &CommandSpec) -> String {
    let parts: Vec<String> = spec.arguments.iter().map(arg_syntax).collect();
    parts.join(" ")
}

fn arg_syntax(arg: &Arg) -> String {
    let has = |flag: &str| arg.flags.contains(&flag);
    let mut base = match arg.kind {
        "pure-token" => arg.token.unwrap_or(arg.name).to_string(),
        "oneof" => arg.arguments.iter().map(arg_syntax).collect::<Vec<_>>().join("|"),
        "block" => arg.arguments.iter().map(arg_syntax).collect::<Vec<_>>().join(" "),
        _ => arg.name.to_string(),
    };
    if arg.kind != "pure-token" {
        if let Some(token) = arg.token {
            base = format!("{token} {base}");
        }
    }
    if has("multiple") {
        base = if has("multiple_token") {
            format!("{base} [{base} ...]")
        } else {
            // `key [key ...]`; a token is written once: `GET pattern [pattern ...]`.
            let repeated = match (arg.kind, arg.token) {
                ("pure-token", _) | (_, None) => base.clone(),
                (_, Some(token)) => base.strip_prefix(token).map_or(base.clone(), |r| r.trim_start().to_string()),
            };
            format!("{base} [{repeated} ...]")
        };
    }
    if has("optional") {
        base = format!("[{base}]");
    }
    base
}

/// Finds the command (or `CONTAINER SUBCOMMAND`) the words start with, and how many words its name takes.
pub fn find_command(words: &[&str]) -> Option<(&'static CommandSpec, usize)> {
    let first = words.first()?.to_ascii_lowercase();
    let spec = table::lookup(&first)?;
    if !spec.subcommands.is_empty() {
        if let Some(sub) = words.get(1).and_then(|w| spec.subcommand(&w.to_ascii_lowercase())) {
            return Some((sub, 2));
        }
    }
    Some((spec, 1))
}

/// The name as redis-cli's help shows it: `SET`, `CLIENT LIST`.
pub fn display_name(spec: &CommandSpec) -> String {
    spec.name.replace('|', " ").to_ascii_uppercase()
}

/// The grey hint redis-cli shows after what was typed: the arguments not typed yet (its `hintsCallback`: typed
/// positional arguments are removed from the front of the syntax until an optional one starts), or `None`.
pub fn hint(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (spec, name_words) = find_command(&words)?;
    let mut hint = syntax(spec);
    if hint.is_empty() {
        return None;
    }
    let ends_with_space = line.ends_with(char::is_whitespace);
    // A command name still being typed ("SE") gets no hint; "SET" gets " key value ...".
    let mut to_remove = words.len().saturating_sub(name_words);
    while to_remove > 0 && !hint.is_empty() {
        if hint.starts_with('[') {
            break;
        }
        if hint.starts_with(' ') {
            to_remove -= 1;
        }
        hint.remove(0);
    }
    if hint.is_empty() {
        return None;
    }
    Some(if ends_with_space { hint } else { format!(" {hint}") })
}

/// `HELP …` typed in the console, answered as redis-cli answers it: one command, or every command of a
/// `@group`, with our summaries in the learner's language.
pub fn help(lang: Lang, args: &[String], implemented: &dyn Fn(&str) -> bool) -> String {
    let Some(first) = args.first() else {
        return format!("{}\n", t(lang, Msg::HelpIntro));
    };
    if let Some(group) = first.strip_prefix('@') {
        let group = group.to_ascii_lowercase();
        let mut out = String::new();
        for spec in COMMANDS.iter().filter(|c| c.group == group && implemented(c.name)) {
            out.push_str(&entry(lang, spec, false));
            for sub in spec.subcommands.iter().filter(|s| implemented(s.name)) {
                out.push_str(&entry(lang, sub, false));
            }
        }
        for spec in COMMANDS.iter().filter(|c| c.group != group) {
            for sub in spec.subcommands.iter().filter(|s| s.group == group && implemented(s.name)) {
                out.push_str(&entry(lang, sub, false));
            }
        }
        if out.is_empty() {
            return format!("{}\n", tf(lang, Msg::HelpUnknown, &[("name", first)]));
        }
        return out;
    }
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match find_command(&words) {
        Some((spec, used)) if used == words.len() || spec.subcommands.is_empty() => {
            if spec.subcommands.is_empty() || used == 2 {
                entry(lang, spec, true)
            } else {
                // HELP CLIENT: the container and each subcommand.
                let mut out = String::new();
                for sub in spec.subcommands {
                    out.push_str(&entry(lang, sub, true));
                }
                out
            }
        }
        _ => format!("{}\n", tf(lang, Msg::HelpUnknown, &[("name", &args.join(" "))])),
    }
}

/// One command's help block, laid out as redis-cli's `cliOutputCommandHelp` lays it out.
fn entry(lang: Lang, spec: &CommandSpec, with_group: bool) -> String {
    let mut out = format!("\n  {} {}\n", display_name(spec), syntax(spec));
    let summary = help_texts::summary(lang.code(), spec.name).or(spec.summary).unwrap_or("");
    out.push_str(&format!("  {}: {}\n", t(lang, Msg::HelpSummary), summary));
    out.push_str(&format!("  {}: {}\n", t(lang, Msg::HelpSince), spec.since));
    if with_group {
        let group = help_texts::group_name(lang.code(), spec.group).unwrap_or(spec.group);
        out.push_str(&format!("  {}: {}\n", t(lang, Msg::HelpGroup), group));
    }
    out
}

/// Tab completion of the word under the cursor (the end of the line): command names for the first word (and
/// subcommand names for the second), keys for the others. Each candidate is the whole new line; redis-cli
/// keeps the case the learner started with.
pub fn complete(line: &str, keys: &dyn Fn(&str) -> Vec<String>) -> Vec<String> {
    let (head, word) = match line.rfind(char::is_whitespace) {
        Some(i) => (&line[..=i], &line[i + 1..]),
        None => ("", line),
    };
    let before: Vec<&str> = head.split_whitespace().collect();
    let lower = word.to_ascii_lowercase();
    let keep_case = |name: &str| -> String {
        if word.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            name.to_ascii_lowercase()
        } else {
            name.to_ascii_uppercase()
        }
    };
    let mut out: Vec<String> = Vec::new();
    if before.is_empty() {
        if word.is_empty() {
            return out;
        }
        out.extend(COMMANDS.iter().filter(|c| c.name.starts_with(&lower)).map(|c| format!("{head}{}", keep_case(c.name))));
        return out;
    }
    if before.len() == 1 {
        if let Some(spec) = table::lookup(&before[0].to_ascii_lowercase()) {
            if !spec.subcommands.is_empty() {
                out.extend(
                    spec.subcommands
                        .iter()
                        .map(CommandSpec::short_name)
                        .filter(|s| s.starts_with(&lower) && *s != "help" || (!lower.is_empty() && s.starts_with(&lower)))
                        .map(|s| format!("{head}{}", keep_case(s))),
                );
                return out;
            }
        }
    }
    let mut found = keys(word);
    found.sort();
    found.dedup();
    out.extend(found.into_iter().map(|k| format!("{head}{}", quote_if_needed(&k))));
    out
}

/// A key as the tokenizer reads it back: quoted when it holds spaces, quotes or backslashes.
pub fn quote_if_needed(s: &str) -> String {
    if !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '\\') {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The keys a command line names, by the table's key specs (what the key browser selects after a command).
pub fn command_keys(argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let words: Vec<&str> = argv.iter().take(2).map(|a| core::str::from_utf8(a).unwrap_or("")).collect();
    let Some((spec, _)) = find_command(&words) else { return Vec::new() };
    let mut keys = Vec::new();
    for ks in spec.key_specs {
        let start = match ks.begin_search {
            BeginSearch::Index(i) => usize::try_from(i).ok(),
            BeginSearch::Keyword { keyword, startfrom } => {
                let from = if startfrom >= 0 { startfrom as usize } else { argv.len().saturating_sub(startfrom.unsigned_abs() as usize) };
                let positions: Box<dyn Iterator<Item = usize>> =
                    if startfrom >= 0 { Box::new(from..argv.len()) } else { Box::new((1..=from).rev()) };
                let mut found = None;
                for i in positions {
                    if argv.get(i).is_some_and(|a| a.eq_ignore_ascii_case(keyword.as_bytes())) {
                        found = Some(i + 1);
                        break;
                    }
                }
                found
            }
            BeginSearch::Unknown => None,
        };
        let Some(start) = start else { continue };
        match ks.find_keys {
            FindKeys::Range { lastkey, keystep, limit } => {
                let last = if lastkey >= 0 {
                    start + lastkey as usize
                } else if limit > 1 {
                    // XREAD's STREAMS k1 k2 id1 id2: the keys are the first 1/limit of what follows.
                    let span = argv.len().saturating_sub(start);
                    (start + span / limit as usize).saturating_sub(1)
                } else {
                    argv.len().saturating_sub(lastkey.unsigned_abs() as usize)
                };
                let step = keystep.max(1) as usize;
                let mut i = start;
                while i <= last && i < argv.len() {
                    if let Some(k) = argv.get(i) {
                        keys.push(k.clone());
                    }
                    i += step;
                }
            }
            FindKeys::Keynum { keynumidx, firstkey, keystep } => {
                let count = argv
                    .get(start + keynumidx.max(0) as usize)
                    .and_then(|n| core::str::from_utf8(n).ok())
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
                let first = start + firstkey.max(0) as usize;
                let step = keystep.max(1) as usize;
                for j in 0..count.min(argv.len()) {
                    if let Some(k) = argv.get(first + j * step) {
                        keys.push(k.clone());
                    }
                }
            }
            FindKeys::Unknown => {}
        }
    }
    let mut seen = Vec::new();
    keys.retain(|k| {
        if seen.contains(k) {
            false
        } else {
            seen.push(k.clone());
            true
        }
    });
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> &'static CommandSpec {
        let words: Vec<&str> = name.split(' ').collect();
        find_command(&words).unwrap_or_else(|| panic!("{name}")).0
    }

    #[test]
    fn syntax_reads_as_redis_cli_shows_it() {
        assert_eq!(
            syntax(spec("set")),
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"
        );
        assert_eq!(syntax(spec("del")), "key [key ...]");
        assert_eq!(syntax(spec("lpush")), "key element [element ...]");
        assert_eq!(syntax(spec("mset")), "key value [key value ...]");
        assert!(syntax(spec("client kill")).starts_with("ip:port|[ID client-id]"));
    }

    #[test]
    fn hints_drop_what_was_typed_as_redis_cli_does() {
        assert_eq!(hint("SET").as_deref(), Some(" key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"));
        assert_eq!(hint("set k ").as_deref(), Some("value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"));
        assert_eq!(hint("SET k v").as_deref(), Some(" [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"));
        assert_eq!(hint("GET k"), None);
        assert_eq!(hint("nosuchcommand x"), None);
        assert_eq!(hint("").as_deref(), None);
        assert_eq!(hint("CLIENT KILL").as_deref().map(|h| h.starts_with(" ip:port")), Some(true));
    }

    #[test]
    fn completion_offers_commands_subcommands_and_keys_in_the_typed_case() {
        let no_keys = |_: &str| Vec::new();
        let c = complete("zra", &no_keys);
        assert!(c.contains(&"zrange".to_string()) && c.contains(&"zrangebyscore".to_string()), "{c:?}");
        assert!(complete("ZRAN", &no_keys).iter().all(|s| s.starts_with("ZRAN")));
        assert_eq!(complete("client setn", &no_keys), ["client setname"]);
        let keys = |prefix: &str| ["user:1", "user:2", "my key"].iter().filter(|k| k.starts_with(prefix)).map(|k| k.to_string()).collect();
        assert_eq!(complete("GET us", &keys), ["GET user:1", "GET user:2"]);
        assert_eq!(complete("GET my", &keys), ["GET \"my key\""]);
        assert!(complete("", &keys).is_empty());
    }

    #[test]
    fn help_prints_the_command_with_its_syntax_summary_since_and_group() {
        let all = |_: &str| true;
        let out = help(Lang::En, &["set".into()], &all);
        assert!(out.starts_with("\n  SET key value [NX|XX]"), "{out}");
        assert!(out.contains("  since: 1.0.0\n") && out.contains("  group: string\n"), "{out}");
        let ru = help(Lang::Ru, &["SET".into()], &all);
        assert!(ru.contains("  с версии: 1.0.0\n"), "{ru}");
        let group = help(Lang::En, &["@list".into()], &all);
        assert!(group.contains("\n  LPUSH key element [element ...]\n") && group.contains("\n  BLMOVE "), "{group}");
        assert!(!group.contains("group:"));
        assert!(help(Lang::En, &["nosuch".into()], &all).starts_with("No help for nosuch."));
        assert!(help(Lang::En, &[], &all).starts_with("Type HELP"));
    }

    #[test]
    fn command_keys_follow_the_key_specs() {
        let argv = |s: &str| -> Vec<Vec<u8>> { s.split(' ').map(|w| w.as_bytes().to_vec()).collect() };
        assert_eq!(command_keys(&argv("SET k v")), [b"k".to_vec()]);
        assert_eq!(command_keys(&argv("MSET a 1 b 2")), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(command_keys(&argv("LMOVE src dst LEFT RIGHT")), [b"src".to_vec(), b"dst".to_vec()]);
        assert_eq!(command_keys(&argv("ZUNIONSTORE out 2 a b")), [b"out".to_vec(), b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(command_keys(&argv("XREAD COUNT 2 STREAMS s1 s2 0 0")), [b"s1".to_vec(), b"s2".to_vec()]);
        assert_eq!(command_keys(&argv("BLPOP q1 q2 0")), [b"q1".to_vec(), b"q2".to_vec()]);
        assert!(command_keys(&argv("PING")).is_empty());
        assert!(command_keys(&argv("NOSUCH x")).is_empty());
    }
}
