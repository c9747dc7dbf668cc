//! The command table: one static spec per Redis command, generated from data.
//!
//! `build.rs` turns `data/commands.json` (the facts Redis 7.0.15 reports through COMMAND and COMMAND DOCS)
//! into `COMMANDS`, sorted by name, subcommands nested in their container.
//! Arity, unknown-command and unknown-subcommand errors are produced once, in `Engine::execute`, from this table.
//! Which commands the engine implements is decided by `cmd::HANDLERS`, not here.

/// One command or subcommand as Redis describes it.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case full name: `get`, or `object|encoding` for a subcommand.
    pub name: &'static str,
    /// Redis's arity: N means exactly N arguments including the name, -N means at least N.
    pub arity: i32,
    pub flags: &'static [&'static str],
    /// `flags` as bits, in the order of `Flag`.
    pub flag_bits: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    pub acl_categories: &'static [&'static str],
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
    pub arguments: &'static [Arg],
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

/// One argument of a command's syntax, as COMMAND DOCS describes it.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    /// `key`, `string`, `integer`, `double`, `pattern`, `unix-time`, `pure-token`, `oneof` or `block`.
    pub kind: &'static str,
    pub token: Option<&'static str>,
    pub since: Option<&'static str>,
    pub flags: &'static [&'static str],
    pub key_spec_index: Option<i64>,
    pub arguments: &'static [Arg],
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
