//! The command table: one static spec per Redis command, generated from data.
//!
//! `build.rs` turns `data/commands.json` (the facts Redis 7.0.15 reports through COMMAND and COMMAND DOCS)
//! into `COMMANDS`, sorted by name, subcommands nested in their container.
//! Arity, unknown-command and unknown-subcommand errors are produced once, in `Engine::execute`, from this table.
//! Which commands the engine implements is decided by `cmd::HANDLERS`, not here.
//!
//! The table is part of every WebAssembly build, so it is kept compact: flags and ACL categories are bit sets
//! named in Redis's order, and the argument syntax (only COMMAND DOCS and help read it) is one packed byte
//! string, `ARGS`, decoded on demand by `CommandSpec::arguments`.

use alloc::vec::Vec;

/// One command or subcommand as Redis describes it.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case full name: `get`, or `object|encoding` for a subcommand.
    pub name: &'static str,
    /// The command's bit in an ACL selector's command bitmap (`crate::acl`): every command and subcommand
    /// numbered in table order, below `COMMAND_IDS`.
    pub acl_id: u16,
    /// Redis's arity: N means exactly N arguments including the name, -N means at least N.
    pub arity: i32,
    /// The command's flags as bits, in the order of `Flag` (`flags()` names them).
    pub flag_bits: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    /// ACL categories as bits, in the order of `ACL_CATEGORIES` (`acl_categories()` names them).
    pub acl_bits: u32,
    pub tips: &'static [&'static str],
    pub key_specs: &'static [KeySpec],
    pub group: &'static str,
    pub since: &'static str,
    pub deprecated_since: Option<&'static str>,
    pub doc_flags: &'static [&'static str],
    /// Our own one-line summary (Redis's texts are not copied).
    pub summary: Option<&'static str>,
    /// Our own statement of the time complexity, when `data/summaries.tsv` gives one.
    pub complexity: Option<&'static str>,
    /// Where the argument syntax starts in the packed `ARGS` (`arguments()` decodes it).
    args_at: u32,
    pub subcommands: &'static [CommandSpec],
}

#[derive(Debug)]
pub struct KeySpec {
    /// The remark COMMAND INFO shows on a few key specs (why SET's key is RW, ...), as Redis words it:
    /// it is part of the reply clients compare, like an error text.
    pub notes: Option<&'static str>,
    pub flags: &'static [&'static str],
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

#[derive(Debug)]
pub enum BeginSearch {
    Index(i64),
    Keyword { keyword: &'static str, startfrom: i64 },
    Unknown,
}

#[derive(Debug)]
pub enum FindKeys {
    Range { lastkey: i64, keystep: i64, limit: i64 },
    Keynum { keynumidx: i64, firstkey: i64, keystep: i64 },
    Unknown,
}

/// One argument of a command's syntax, as COMMAND DOCS describes it (decoded from `ARGS` on demand).
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: &'static str,
    /// `key`, `string`, `integer`, `double`, `pattern`, `unix-time`, `pure-token`, `oneof` or `block`.
    pub kind: &'static str,
    pub token: Option<&'static str>,
    pub since: Option<&'static str>,
    pub flags: &'static [&'static str],
    pub key_spec_index: Option<i64>,
    /// The members of a `oneof` or `block`.
    pub arguments: Vec<Arg>,
}

/// Argument types by their code in `ARGS` (build.rs writes them).
const ARG_KINDS: [&str; 9] = ["key", "string", "integer", "double", "pattern", "unix-time", "pure-token", "oneof", "block"];

/// Argument flags by their bits in `ARGS`, each set in Redis's order.
const ARG_FLAGS: [&[&str]; 8] = [
    &[],
    &["optional"],
    &["multiple"],
    &["optional", "multiple"],
    &["multiple_token"],
    &["optional", "multiple_token"],
    &["multiple", "multiple_token"],
    &["optional", "multiple", "multiple_token"],
];

/// Reads an argument list of `ARGS` at `*at` (see build.rs for the layout). The data is generated, so it is
/// well formed; a short read ends the list rather than panicking.
fn read_args(at: &mut usize) -> Vec<Arg> {
    let byte = |at: &mut usize| {
        let b = ARGS.get(*at).copied();
        *at += 1;
        b
    };
    let text = |at: &mut usize| -> Option<&'static str> {
        let len = *ARGS.get(*at)? as usize;
        let s = ARGS.get(*at + 1..*at + 1 + len)?;
        *at += 1 + len;
        core::str::from_utf8(s).ok()
    };
    let count = byte(at).unwrap_or(0);
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let (Some(kind), Some(present)) = (byte(at), byte(at)) else { break };
        let Some(name) = text(at) else { break };
        let token = if present & 1 != 0 { text(at) } else { None };
        let since = if present & 2 != 0 { text(at) } else { None };
        let key_spec_index = if present & 4 != 0 { byte(at).map(i64::from) } else { None };
        out.push(Arg {
            name,
            kind: ARG_KINDS.get((kind & 15) as usize).copied().unwrap_or(""),
            token,
            since,
            flags: ARG_FLAGS.get((kind >> 4) as usize).copied().unwrap_or(&[]),
            key_spec_index,
            arguments: read_args(at),
        });
    }
    out
}

/// Flag names by bit (`Flag`'s order, Redis's).
const FLAG_NAMES: [&str; 26] = [
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking", "loading", "stale",
    "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "may_replicate", "sentinel", "only_sentinel",
    "no_mandatory_keys", "protected", "module_getkeys", "module_no_cluster", "no_async_loading", "no_multi",
    "movablekeys", "allow_busy",
];

/// ACL category names by bit, in Redis's order (ACLCommandCategories).
pub const ACL_CATEGORIES: [&str; 21] = [
    "@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string", "@bitmap", "@hyperloglog",
    "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow", "@blocking", "@dangerous", "@connection",
    "@transaction", "@scripting",
];

/// The names whose bits are set, in bit order.
fn names(bits: u32, names: &'static [&'static str]) -> impl Iterator<Item = &'static str> {
    names.iter().enumerate().filter(move |(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n)
}

/// Command flags, in the bit order build.rs uses for `CommandSpec::flag_bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Flag {
    Write = 0,
    Readonly,
    Denyoom,
    Module,
    Admin,
    Pubsub,
    Noscript,
    Blocking,
    Loading,
    Stale,
    SkipMonitor,
    SkipSlowlog,
    Asking,
    Fast,
    NoAuth,
    MayReplicate,
    Sentinel,
    OnlySentinel,
    NoMandatoryKeys,
    Protected,
    ModuleGetkeys,
    ModuleNoCluster,
    NoAsyncLoading,
    NoMulti,
    Movablekeys,
    AllowBusy,
}

impl CommandSpec {
    pub fn has(&self, flag: Flag) -> bool {
        self.flag_bits & (1 << flag as u32) != 0
    }

    /// The flags COMMAND INFO lists (`write`, `denyoom`, ...), in Redis's order.
    pub fn flags(&self) -> impl Iterator<Item = &'static str> {
        names(self.flag_bits, &FLAG_NAMES)
    }

    /// The ACL categories (`@write`, `@string`, ...), in Redis's order.
    pub fn acl_categories(&self) -> impl Iterator<Item = &'static str> {
        names(self.acl_bits, &ACL_CATEGORIES)
    }

    /// The argument syntax COMMAND DOCS describes, decoded from the packed table.
    pub fn arguments(&self) -> Vec<Arg> {
        read_args(&mut (self.args_at as usize))
    }

    /// Whether `argc` (the name included) satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let arity = self.arity;
        if arity >= 0 {
            argc == arity as usize
        } else {
            argc >= arity.unsigned_abs() as usize
        }
    }

    /// The name a user knows the command by: `encoding` for `object|encoding`.
    pub fn short_name(&self) -> &'static str {
        match self.name.split_once('|') {
            Some((_, sub)) => sub,
            None => self.name,
        }
    }

    pub fn subcommand(&self, lower_name: &str) -> Option<&'static CommandSpec> {
        let subs = self.subcommands;
        subs.binary_search_by(|s| s.short_name().cmp(lower_name)).ok().and_then(|i| subs.get(i))
    }
}

include!(concat!(env!("OUT_DIR"), "/commands.rs"));

/// Finds a top-level command by its lower-case name.
pub fn lookup(lower_name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.binary_search_by(|c| c.name.cmp(lower_name)).ok().and_then(|i| COMMANDS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert_eq!(COMMANDS.len(), 240);
        assert!(COMMANDS.windows(2).all(|w| w[0].name < w[1].name));
        let set = lookup("set").unwrap();
        assert_eq!(set.arity, -3);
        assert!(set.has(Flag::Write) && set.has(Flag::Denyoom) && !set.has(Flag::Readonly));
        assert_eq!(set.flags().collect::<Vec<_>>(), ["write", "denyoom"]);
        assert_eq!(set.acl_categories().collect::<Vec<_>>(), ["@write", "@string", "@slow"]);
        assert_eq!(FLAG_NAMES[Flag::Fast as usize], "fast");
        assert_eq!(FLAG_NAMES[Flag::AllowBusy as usize], "allow_busy");
        let args = set.arguments();
        assert_eq!(args.iter().map(|a| a.name).collect::<Vec<_>>(), ["key", "value", "condition", "get", "expiration"]);
        assert_eq!((args[0].kind, args[0].key_spec_index, args[0].flags), ("key", Some(0), &[][..]));
        assert_eq!((args[2].kind, args[2].since, args[2].flags), ("oneof", Some("2.6.12"), &["optional"][..]));
        assert_eq!(args[2].arguments.iter().map(|a| (a.name, a.token)).collect::<Vec<_>>(), [("nx", Some("NX")), ("xx", Some("XX"))]);
        let enc = lookup("object").unwrap().subcommand("encoding").unwrap();
        assert_eq!(enc.name, "object|encoding");
        assert_eq!(enc.arity, 3);
    }

    /// `data/summaries.tsv` covers the whole table: one plain sentence each, short enough for HELP.
    #[test]
    fn every_command_has_our_summary() {
        for c in COMMANDS.iter().flat_map(|c| core::iter::once(c).chain(c.subcommands)) {
            let s = c.summary.unwrap_or_else(|| panic!("no summary for {}", c.name));
            assert!(!s.is_empty() && s.chars().count() <= 90 && !s.ends_with('.'), "{}: {s:?}", c.name);
        }
    }
}
