//! Users and what they may do: the access control lists of Redis 7.0 (Redis's acl.c). The ACL commands are in
//! `cmd/acl.rs`, AUTH and HELLO in `cmd/connection.rs`.
//!
//! A [`User`] has flags (`on`/`off`, `nopass`, the payload-sanitizing pair), passwords kept as the hex of their
//! SHA-256 (`crate::sha256`), and selectors: the root selector (the rules written outside parentheses) and any
//! number of others (`(~key* +get)`). A command is allowed when one selector allows it: its command bit (one
//! per command and subcommand of the table, `CommandSpec::acl_id`) or an allowed first argument (`+select|0`),
//! every key it names (found with the table's key specs, read or written as their flags say, against `~`, `%R~`,
//! `%W~` patterns) and every channel it names (`&` patterns, for PUBLISH and the SUBSCRIBE commands).
//!
//! The rules are kept as Redis keeps them, as bits and lists, and ACL LIST and ACL GETUSER rebuild their text
//! as Redis does (`describe_commands`: `+@all` or `-@all`, then the categories that fit best, then single
//! commands). Redis lists the single commands in its command dictionary's order, which depends on a hash seed
//! chosen at random when the server starts; here they come in the table's order (by name, a container's
//! subcommands after it).
//!
//! The command path stays cheap for a client whose user may do everything (the `default` user unless it is
//! changed): every client carries `acl_checked`, true only when its user is restricted, and
//! `Engine::execute` tests that one flag. The flags are brought up to date whenever a user changes
//! ([`refresh_clients`]) or a client changes user.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::engine::{ClientId, Ctx, Engine};
use crate::error::Error;
use crate::glob::string_match;
use crate::reply::Reply;
use crate::sha256;
use crate::table::{self, CommandSpec, Flag, ACL_CATEGORIES, COMMAND_IDS};
use crate::vecmap::VecMap;

/// Words of a command bitmap: a bit per command and subcommand, and one more, [`FUTURE`].
const WORDS: usize = (COMMAND_IDS + 1).div_ceil(64);
/// The bit only `+@all` (and `allcommands`) sets and only `-@all` (and `nocommands`) clears, Redis's reserved
/// last bit: it tells a user built from `+@all` (who would get commands added later) from one built up from
/// `-@all`, so a description starts with the one the user was made from.
const FUTURE: usize = COMMAND_IDS;

/// The longest password hash `#<hash>` accepts: SHA-256 as 64 lowercase hex digits.
const HASH_LEN: usize = 64;

/// How long (ms) a new ACL LOG entry may merge into an equal one (Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA).
const LOG_GROUPING_MS: u64 = 60_000;

/// How many recent ACL LOG entries a new one is compared with for merging.
const LOG_MERGE_SCAN: usize = 10;

/// A key pattern may be read from (`%R~`), written to (`%W~`), or both (`~`).
const READ: u8 = 1;
const WRITE: u8 = 2;
const READ_WRITE: u8 = READ | WRITE;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Bits([u64; WORDS]);

impl Bits {
    const NONE: Bits = Bits([0; WORDS]);
    const ALL: Bits = Bits([u64::MAX; WORDS]);

    fn get(&self, id: usize) -> bool {
        self.0.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set(&mut self, id: usize, on: bool) {
        if let Some(w) = self.0.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyPattern {
    /// `READ`, `WRITE` or both.
    flags: u8,
    pattern: Vec<u8>,
}

/// One set of permissions: commands, keys and channels (Redis's aclSelector).
#[derive(Clone, Debug)]
struct Selector {
    /// `~*` or `allkeys`: any key, and no patterns kept.
    all_keys: bool,
    /// `&*` or `allchannels`.
    all_channels: bool,
    /// Set by `+@all`, cleared as soon as any command bit is cleared: every command is allowed.
    all_commands: bool,
    allowed: Bits,
    /// First arguments allowed for a command whose own bit is clear (`+select|0`), by command id, in the order
    /// they were given, each once whatever its case.
    firstargs: Vec<(u16, Vec<Vec<u8>>)>,
    keys: Vec<KeyPattern>,
    channels: Vec<Vec<u8>>,
}

impl Selector {
    /// An empty selector: no command, key or channel, but all channels under `acl-pubsub-default allchannels`.
    fn new(all_channels: bool) -> Selector {
        Selector {
            all_keys: false,
            all_channels,
            all_commands: false,
            allowed: Bits::NONE,
            firstargs: Vec::new(),
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    fn allows_everything(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        self.allowed.set(id, on);
        if !on {
            self.all_commands = false;
        }
    }

    /// Allows or denies a command and, for a container, all its subcommands (Redis's ACLChangeSelectorPerm).
    fn change_perm(&mut self, cmd: &CommandSpec, allow: bool) {
        self.set_bit(cmd.acl_id as usize, allow);
        self.firstargs.retain(|(id, _)| *id != cmd.acl_id);
        for sub in cmd.subcommands {
            self.set_bit(sub.acl_id as usize, allow);
        }
    }

    /// `+@cat` or `-@cat`: every command of the category, a container with all its subcommands, and the
    /// subcommands of the category in other containers.
    fn change_category(&mut self, bit: u32, allow: bool) {
        fn walk(s: &mut Selector, cmds: &'static [CommandSpec], bit: u32, allow: bool) {
            for cmd in cmds {
                if cmd.acl_bits & bit != 0 {
                    s.change_perm(cmd, allow);
                }
                walk(s, cmd.subcommands, bit, allow);
            }
        }
        walk(self, table::COMMANDS, bit, allow);
    }

    fn add_firstarg(&mut self, id: u16, arg: &[u8]) {
        match self.firstargs.iter_mut().find(|(i, _)| *i == id) {
            Some((_, args)) => {
                if !args.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                    args.push(arg.to_vec());
                }
            }
            None => self.firstargs.push((id, alloc::vec![arg.to_vec()])),
        }
    }

    fn firstargs_of(&self, id: u16) -> Option<&Vec<Vec<u8>>> {
        self.firstargs.iter().find(|(i, _)| *i == id).map(|(_, a)| a)
    }

    /// Applies one selector rule (Redis's ACLSetSelector).
    fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let word = c_str(op);
        let is = |w: &str| word.eq_ignore_ascii_case(w.as_bytes());
        let first = op.first().copied().unwrap_or(0);
        let second = op.get(1).copied().unwrap_or(0);
        if is("allkeys") || word == b"~*" {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || word == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.allowed = Bits::ALL;
            self.all_commands = true;
            self.firstargs.clear();
        } else if is("nocommands") || is("-@all") {
            self.allowed = Bits::NONE;
            self.all_commands = false;
            self.firstargs.clear();
        } else if first == b'~' || first == b'%' {
            if self.all_keys {
                return Err(RuleError::KeysAfterAll);
            }
            let (flags, pattern) = parse_key_pattern(op)?;
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.keys.iter_mut().find(|p| p.pattern == pattern) {
                Some(p) => p.flags |= flags,
                None => self.keys.push(KeyPattern { flags, pattern: pattern.to_vec() }),
            }
            self.all_keys = false;
        } else if first == b'&' {
            if self.all_channels {
                return Err(RuleError::ChannelsAfterAll);
            }
            let pattern = op.get(1..).unwrap_or_default();
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.all_channels = false;
        } else if first == b'+' && second != b'@' {
            let name = c_str(op.get(1..).unwrap_or_default());
            match name.iter().rposition(|&b| b == b'|') {
                None => {
                    let cmd = lookup_command(name).ok_or(RuleError::Unknown)?;
                    self.change_perm(cmd, true);
                }
                Some(bar) => {
                    let (base, sub) = (name.get(..bar).unwrap_or_default(), name.get(bar + 1..).unwrap_or_default());
                    let cmd = lookup_command(base).ok_or(RuleError::Unknown)?;
                    if cmd.name.contains('|') {
                        return Err(RuleError::FirstArgOfSubcommand);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if cmd.subcommands.is_empty() {
                        // A first argument of a command without subcommands (`+select|0`): allowed on its own
                        // while the command stays denied.
                        self.add_firstarg(cmd.acl_id, sub);
                    } else {
                        let sub = lookup_command(name).ok_or(RuleError::Unknown)?;
                        self.change_perm(sub, true);
                    }
                }
            }
        } else if first == b'-' && second != b'@' {
            let cmd = lookup_command(c_str(op.get(1..).unwrap_or_default())).ok_or(RuleError::Unknown)?;
            self.change_perm(cmd, false);
        } else if (first == b'+' || first == b'-') && second == b'@' {
            let bit = category_bit(c_str(op.get(2..).unwrap_or_default())).ok_or(RuleError::Unknown)?;
            self.change_category(bit, first == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// Whether the selector lets the command run with these arguments; `keys` caches the command's keys for
    /// the next selector. The denial names the argument at fault.
    fn check(&self, spec: &CommandSpec, argv: &[&[u8]], keys: &mut Option<Vec<(usize, u8)>>) -> Result<(), Denied> {
        if !self.all_commands && !spec.has(Flag::NoAuth) && !self.allowed.get(spec.acl_id as usize) {
            let at = if spec.name.contains('|') { 2 } else { 1 };
            let arg = argv.get(at).copied().unwrap_or_default();
            let allowed = argv.len() >= 2
                && self.firstargs_of(spec.acl_id).is_some_and(|args| args.iter().any(|a| eq_c_ic(a, arg)));
            if !allowed {
                return Err(Denied::Command);
            }
        }
        if !self.all_keys {
            let keys = keys.get_or_insert_with(|| command_keys(spec, argv));
            for &(at, need) in keys.iter() {
                let key = argv.get(at).copied().unwrap_or_default();
                let ok = self.keys.iter().any(|p| p.flags & need == need && string_match(&p.pattern, key, false));
                if !ok {
                    return Err(Denied::Key(at));
                }
            }
        }
        if !self.all_channels {
            let (literal, range) = match spec.name {
                "publish" | "spublish" => (false, 1..2),
                "subscribe" | "ssubscribe" => (false, 1..argv.len()),
                "psubscribe" => (true, 1..argv.len()),
                _ => (false, 0..0),
            };
            for at in range {
                let channel = argv.get(at).copied().unwrap_or_default();
                if !channel_allowed(&self.channels, channel, literal) {
                    return Err(Denied::Channel(at));
                }
            }
        }
        Ok(())
    }

    /// The selector's keys, channels and commands as rules (Redis's ACLDescribeSelector).
    fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for p in &self.keys {
                push_key_pattern(&mut out, p);
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.describe_commands());
        out
    }

    /// The command rules that rebuild this selector's bitmap, as Redis's ACLDescribeSelectorCommandRules writes
    /// them: `+@all` or `-@all`; then, while some category has more commands agreeing with the bitmap than
    /// disagreeing, the one with the fewest disagreements (the most agreements on a tie); then the single
    /// commands still differing; then the allowed first arguments.
    fn describe_commands(&self) -> Vec<u8> {
        let mut rules = Vec::new();
        // `fake` is built from the rules as they are written, `temp` is the bitmap still to explain.
        let mut fake = Selector::new(false);
        let additive = !self.allowed.get(FUTURE);
        let start: &[u8] = if additive { b"-@all" } else { b"+@all" };
        let _ = fake.apply(start);
        rules.extend_from_slice(start);
        rules.push(b' ');
        let mut temp = Selector::new(false);
        temp.allowed = self.allowed;
        let mut applied = [false; ACL_CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut min_diff, mut max_same) = (u64::MAX, 0);
            for (j, done) in applied.iter().enumerate() {
                if *done {
                    continue;
                }
                let (on, off) = count_category(&temp.allowed, 1 << j);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < min_diff || (diff == min_diff && same > max_same)) {
                    best = Some(j);
                    min_diff = diff;
                    max_same = same;
                }
            }
            let Some(j) = best else { break };
            fake.change_category(1 << j, additive);
            temp.change_category(1 << j, !additive);
            rules.push(if additive { b'+' } else { b'-' });
            rules.extend_from_slice(ACL_CATEGORIES.get(j).copied().unwrap_or_default().as_bytes());
            rules.push(b' ');
            if let Some(done) = applied.get_mut(j) {
                *done = true;
            }
        }
        self.describe_single_commands(&mut fake, &mut rules, table::COMMANDS);
        rules.pop();
        rules
    }

    fn describe_single_commands(&self, fake: &mut Selector, rules: &mut Vec<u8>, cmds: &'static [CommandSpec]) {
        for cmd in cmds {
            let id = cmd.acl_id as usize;
            let user_bit = self.allowed.get(id);
            if user_bit != fake.allowed.get(id) {
                rules.push(if user_bit { b'+' } else { b'-' });
                rules.extend_from_slice(cmd.name.as_bytes());
                rules.push(b' ');
                fake.change_perm(cmd, user_bit);
            }
            self.describe_single_commands(fake, rules, cmd.subcommands);
            if !user_bit {
                for arg in self.firstargs_of(cmd.acl_id).into_iter().flatten() {
                    rules.push(b'+');
                    rules.extend_from_slice(cmd.name.as_bytes());
                    rules.push(b'|');
                    rules.extend_from_slice(arg);
                    rules.push(b' ');
                }
            }
        }
    }

    /// The three fields ACL GETUSER shows of a selector: commands, keys, channels.
    fn fields(&self) -> [(Reply, Reply); 3] {
        let keys = if self.all_keys {
            b"~*".to_vec()
        } else {
            let mut out = Vec::new();
            for (i, p) in self.keys.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                push_key_pattern(&mut out, p);
            }
            out
        };
        let channels = if self.all_channels {
            b"&*".to_vec()
        } else {
            let mut out = Vec::new();
            for (i, c) in self.channels.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.push(b'&');
                out.extend_from_slice(c);
            }
            out
        };
        [
            (Reply::bulk_str("commands"), Reply::Bulk(self.describe_commands())),
            (Reply::bulk_str("keys"), Reply::Bulk(keys)),
            (Reply::bulk_str("channels"), Reply::Bulk(channels)),
        ]
    }
}

/// How many commands of a category (`bit`) a bitmap allows and denies, subcommands counted one by one.
fn count_category(bits: &Bits, bit: u32) -> (u64, u64) {
    fn walk(cmds: &'static [CommandSpec], bits: &Bits, bit: u32, on: &mut u64, off: &mut u64) {
        for cmd in cmds {
            if cmd.acl_bits & bit != 0 {
                if bits.get(cmd.acl_id as usize) {
                    *on += 1;
                } else {
                    *off += 1;
                }
            }
            walk(cmd.subcommands, bits, bit, on, off);
        }
    }
    let (mut on, mut off) = (0, 0);
    walk(table::COMMANDS, bits, bit, &mut on, &mut off);
    (on, off)
}

fn push_key_pattern(out: &mut Vec<u8>, p: &KeyPattern) {
    out.extend_from_slice(match p.flags {
        READ => b"%R~",
        WRITE => b"%W~",
        _ => b"~",
    });
    out.extend_from_slice(&p.pattern);
}

/// `~pattern` (read and write) or `%R~`, `%W~`, `%RW~pattern`: the permission and the pattern.
fn parse_key_pattern(op: &[u8]) -> Result<(u8, &[u8]), RuleError> {
    if op.first() != Some(&b'%') {
        return Ok((READ_WRITE, op.get(1..).unwrap_or_default()));
    }
    let mut flags = 0;
    let mut at = 1;
    while let Some(&c) = op.get(at) {
        match c.to_ascii_uppercase() {
            b'R' if flags & READ == 0 => flags |= READ,
            b'W' if flags & WRITE == 0 => flags |= WRITE,
            _ if c == b'~' => {
                at += 1;
                break;
            }
            _ => return Err(RuleError::Syntax),
        }
        at += 1;
    }
    if flags == 0 {
        return Err(RuleError::Syntax);
    }
    Ok((flags, op.get(at..).unwrap_or_default()))
}

/// Whether a channel is among the patterns: by glob match, or for PSUBSCRIBE's patterns by equality.
fn channel_allowed(patterns: &[Vec<u8>], channel: &[u8], literal: bool) -> bool {
    patterns.iter().any(|p| if literal { c_str(p) == c_str(channel) } else { string_match(p, channel, false) })
}

/// A command's keys with the permission each needs: read for a key spec that accesses the value, write for
/// one that inserts, deletes or updates (a key spec with neither needs nothing but a matching pattern).
fn command_keys(spec: &CommandSpec, argv: &[&[u8]]) -> Vec<(usize, u8)> {
    let keys = crate::cmd::server::command_keys(spec, argv).unwrap_or_default();
    keys.into_iter()
        .map(|(at, flags)| {
            let mut need = 0;
            for f in flags {
                match *f {
                    "access" => need |= READ,
                    "insert" | "delete" | "update" => need |= WRITE,
                    _ => {}
                }
            }
            (at, need)
        })
        .collect()
}

/// The bytes before the first NUL: Redis compares rule words as C strings.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(end) => b.get(..end).unwrap_or(b),
        None => b,
    }
}

fn eq_c_ic(a: &[u8], b: &[u8]) -> bool {
    c_str(a).eq_ignore_ascii_case(c_str(b))
}

/// Redis's ACLStringHasSpaces: white space or a NUL byte.
fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| crate::util::is_c_space(c) || c == 0)
}

/// A command or `container|subcommand` by name, any case, among all the commands Redis knows (Redis's
/// ACLLookupCommand): rules may name commands this engine does not implement.
pub fn lookup_command(name: &[u8]) -> Option<&'static CommandSpec> {
    let lower = core::str::from_utf8(name).ok()?.to_ascii_lowercase();
    let mut parts = lower.split('|');
    let base = table::lookup(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) if !base.subcommands.is_empty() => base.subcommand(sub),
        _ => None,
    }
}

/// A category's bit in `CommandSpec::acl_bits`, by its name without `@`, any case.
pub fn category_bit(name: &[u8]) -> Option<u32> {
    ACL_CATEGORIES.iter().position(|c| c.get(1..).is_some_and(|c| c.as_bytes().eq_ignore_ascii_case(name))).map(|i| 1 << i)
}

/// Why a rule was refused, each with Redis's text (ACLSetUserStringError).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    Syntax,
    Unknown,
    KeysAfterAll,
    ChannelsAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl RuleError {
    pub fn text(self) -> &'static str {
        match self {
            RuleError::Syntax => "Syntax error",
            RuleError::Unknown => "Unknown command or category name in ACL",
            RuleError::KeysAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any \
                 effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelsAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have \
                 any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Why a command was refused, with the argument at fault for a key or a channel. Ordered as Redis picks the
/// error to report when no selector allows a command: a channel over a key over the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(at) => (2, at),
            Denied::Channel(at) => (4, at),
        }
    }

    /// The error a refused command answers.
    pub fn error(self, spec: &'static CommandSpec) -> Error {
        match self {
            Denied::Command => Error::NoPermCommand(spec.name),
            Denied::Key(_) => Error::NoPermKey,
            Denied::Channel(_) => Error::NoPermChannel,
        }
    }
}

/// A user (Redis's `user`).
#[derive(Clone, Debug)]
pub struct User {
    pub name: Vec<u8>,
    /// `on`: the user may authenticate. A new user is `off`.
    enabled: bool,
    /// `nopass`: any password authenticates.
    nopass: bool,
    /// `sanitize-payload` (`Some(true)`) or `skip-sanitize-payload` (`Some(false)`); neither at first.
    sanitize: Option<bool>,
    /// SHA-256 hex digests, in the order added.
    passwords: Vec<[u8; HASH_LEN]>,
    /// The root selector first, then the `(...)` ones in the order added; never empty.
    selectors: Vec<Selector>,
}

impl User {
    /// A new user as ACL SETUSER creates it: `off`, no password, and a root selector that allows nothing.
    fn new(name: &[u8], pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: alloc::vec![Selector::new(pubsub_all)],
        }
    }

    /// The `default` user at start: `on nopass ~* &* +@all`, with `requirepass` as its password when set.
    fn default_user(requirepass: &[u8]) -> User {
        let mut u = User::new(b"default", false);
        for op in [&b"+@all"[..], b"~*", b"&*", b"on", b"nopass"] {
            let _ = u.apply(op, false);
        }
        u.set_requirepass(requirepass);
        u
    }

    /// `requirepass` changed: the default user's passwords become that one, or none with `nopass` when empty
    /// (Redis's ACLUpdateDefaultUserPassword).
    fn set_requirepass(&mut self, pass: &[u8]) {
        let _ = self.apply(b"resetpass", false);
        if pass.is_empty() {
            let _ = self.apply(b"nopass", false);
        } else {
            self.passwords.push(sha256::hex_digest(pass));
        }
    }

    fn root(&self) -> Option<&Selector> {
        self.selectors.first()
    }

    /// `nopass`: any password authenticates the user.
    pub fn nopass(&self) -> bool {
        self.nopass
    }

    /// Whether the user may run anything on any key and channel: its clients skip the checks.
    pub fn allows_everything(&self) -> bool {
        self.root().is_some_and(Selector::allows_everything)
    }

    /// Whether `password` authenticates this user (Redis's ACLCheckUserCredentials, past the user lookup).
    fn accepts(&self, password: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hashed = sha256::hex_digest(password);
        // Every stored hash is compared in full, so the time taken does not tell which one came close.
        self.passwords.iter().fold(false, |found, p| found | (p.iter().zip(&hashed).fold(0, |d, (a, b)| d | (a ^ b)) == 0))
    }

    /// Applies one rule (Redis's ACLSetUser).
    fn apply(&mut self, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let word = c_str(op);
        let is = |w: &str| word.eq_ignore_ascii_case(w.as_bytes());
        let rest = op.get(1..).unwrap_or_default();
        match op.first().copied() {
            _ if is("on") => self.enabled = true,
            _ if is("off") => self.enabled = false,
            _ if is("skip-sanitize-payload") => self.sanitize = Some(false),
            _ if is("sanitize-payload") => self.sanitize = Some(true),
            _ if is("nopass") => {
                self.nopass = true;
                self.passwords.clear();
            }
            _ if is("resetpass") => {
                self.nopass = false;
                self.passwords.clear();
            }
            Some(b'>' | b'#') => {
                let hash = if op.first() == Some(&b'>') { sha256::hex_digest(rest) } else { check_hash(rest)? };
                if !self.passwords.contains(&hash) {
                    self.passwords.push(hash);
                }
                self.nopass = false;
            }
            Some(b'<' | b'!') => {
                let hash = if op.first() == Some(&b'<') { sha256::hex_digest(rest) } else { check_hash(rest)? };
                let at = self.passwords.iter().position(|p| *p == hash).ok_or(RuleError::NoSuchPassword)?;
                self.passwords.remove(at);
            }
            Some(b'(') if op.last() == Some(&b')') => {
                let inner = op.get(1..op.len() - 1).unwrap_or_default();
                let mut selector = Selector::new(pubsub_all);
                // Unbalanced quotes leave no rule, as sdssplitargs gives none: an empty selector.
                for rule in crate::tokenize::split_args(inner).unwrap_or_default() {
                    selector.apply(&rule)?;
                }
                self.selectors.push(selector);
            }
            _ if is("clearselectors") => self.selectors.truncate(1),
            _ if is("reset") => {
                for op in [&b"resetpass"[..], b"resetkeys", b"resetchannels"] {
                    let _ = self.apply(op, pubsub_all);
                }
                if pubsub_all {
                    let _ = self.apply(b"allchannels", pubsub_all);
                }
                for op in [&b"off"[..], b"sanitize-payload", b"clearselectors", b"-@all"] {
                    let _ = self.apply(op, pubsub_all);
                }
            }
            _ => match self.selectors.first_mut() {
                Some(root) => root.apply(op)?,
                None => return Err(RuleError::Syntax),
            },
        }
        Ok(())
    }

    /// Whether the user may run the command with these arguments (Redis's ACLCheckAllUserCommandPerm): one
    /// selector allowing it is enough; otherwise the error reported is the worst kind, the last argument at
    /// fault on a tie.
    pub fn check(&self, spec: &CommandSpec, argv: &[&[u8]]) -> Result<(), Denied> {
        let mut keys = None;
        let mut worst = Denied::Command;
        for s in &self.selectors {
            match s.check(spec, argv, &mut keys) {
                Ok(()) => return Ok(()),
                Err(d) if d.rank() > worst.rank() => worst = d,
                Err(_) => {}
            }
        }
        Err(worst)
    }

    /// The user's flags, passwords and selectors as rules, as ACL LIST shows them (Redis's ACLDescribeUser).
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for flag in self.flags() {
            out.extend_from_slice(flag.as_bytes());
            out.push(b' ');
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p);
            out.push(b' ');
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if i == 0 {
                out.extend_from_slice(&s.describe());
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&s.describe());
                out.push(b')');
            }
        }
        out
    }

    /// The flags in Redis's order (ACLUserFlags).
    fn flags(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.enabled, "on"),
            (!self.enabled, "off"),
            (self.nopass, "nopass"),
            (self.sanitize == Some(false), "skip-sanitize-payload"),
            (self.sanitize == Some(true), "sanitize-payload"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name)
    }

    /// ACL GETUSER's reply: flags, passwords, the root selector's fields, then the other selectors.
    pub fn getuser_reply(&self) -> Reply {
        let mut fields = alloc::vec![
            (Reply::bulk_str("flags"), Reply::Set(self.flags().map(Reply::bulk_str).collect())),
            (Reply::bulk_str("passwords"), Reply::Array(self.passwords.iter().map(|p| Reply::bulk(p)).collect())),
        ];
        if let Some(root) = self.root() {
            fields.extend(root.fields());
        }
        let others = self.selectors.iter().skip(1).map(|s| Reply::Map(s.fields().into())).collect();
        fields.push((Reply::bulk_str("selectors"), Reply::Array(others)));
        Reply::Map(fields)
    }
}

fn check_hash(hash: &[u8]) -> Result<[u8; HASH_LEN], RuleError> {
    let hash: [u8; HASH_LEN] = hash.try_into().map_err(|_| RuleError::BadHash)?;
    if hash.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(hash)
    } else {
        Err(RuleError::BadHash)
    }
}

/// Why an ACL LOG entry was logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// One ACL LOG entry (Redis's ACLLogEntry).
#[derive(Clone, Debug)]
pub struct LogEntry {
    count: u64,
    reason: Reason,
    /// Logged inside a transaction (`multi`) or not (`toplevel`).
    in_multi: bool,
    /// The command's full name, the key or channel, or AUTH/HELLO as typed.
    object: Vec<u8>,
    username: Vec<u8>,
    /// When it last happened (engine time, ms).
    at_ms: u64,
    /// The client's CLIENT INFO line when it last happened.
    client_info: String,
}

impl LogEntry {
    fn same_event(&self, other: &LogEntry) -> bool {
        self.reason == other.reason
            && self.in_multi == other.in_multi
            && self.at_ms.abs_diff(other.at_ms) <= LOG_GROUPING_MS
            && self.object == other.object
            && self.username == other.username
    }

    /// The entry as ACL LOG answers it, `now` giving its age.
    pub fn reply(&self, now: u64) -> Reply {
        let age = now.saturating_sub(self.at_ms) as f64 / 1000.0;
        Reply::Map(alloc::vec![
            (Reply::bulk_str("count"), Reply::Integer(self.count as i64)),
            (Reply::bulk_str("reason"), Reply::bulk_str(self.reason.name())),
            (Reply::bulk_str("context"), Reply::bulk_str(if self.in_multi { "multi" } else { "toplevel" })),
            (Reply::bulk_str("object"), Reply::bulk(&self.object)),
            (Reply::bulk_str("username"), Reply::bulk(&self.username)),
            (Reply::bulk_str("age-seconds"), Reply::Double(age)),
            (Reply::bulk_str("client-info"), Reply::bulk(self.client_info.as_bytes())),
        ])
    }
}

/// The engine's users and the security log.
#[derive(Clone, Debug)]
pub struct Acl {
    /// Users by name, in byte order as Redis's radix tree lists them; `default` is always there.
    pub users: VecMap<Vec<u8>, User>,
    /// Newest first.
    pub log: VecDeque<LogEntry>,
    /// `default` is `on` and `nopass`: no client needs to authenticate (Redis's authRequired is false).
    pub default_open: bool,
}

impl Acl {
    pub fn new(requirepass: &[u8]) -> Acl {
        let mut users = VecMap::new();
        let default = User::default_user(requirepass);
        let default_open = default.enabled && default.nopass;
        users.insert(b"default".to_vec(), default);
        Acl { users, log: VecDeque::new(), default_open }
    }

    pub fn user(&self, name: &[u8]) -> Option<&User> {
        self.users.get(name)
    }

    /// Whether a newly connected (or reset) client starts authenticated as `default` (Redis's
    /// clientSetDefaultAuth): the default user is `on` and `nopass`.
    pub fn default_authenticated(&self) -> bool {
        self.default_open
    }

    /// Whether the clients of this user go through the checks.
    pub fn is_restricted(&self, name: &[u8]) -> bool {
        !self.users.get(name).is_some_and(User::allows_everything)
    }
}

/// Creates or changes a user with a list of rules, all or nothing (ACL SETUSER). Rules split across arguments
/// inside parentheses are joined first. Pub/sub clients of the user that lose a channel they listen to are
/// disconnected; the caller itself, if among them, closes after its reply.
pub fn set_user(e: &mut Engine, caller: ClientId, name: &[u8], rules: &[&[u8]]) -> Result<(), Error> {
    if has_spaces(name) {
        return Err(Error::other("ERR Usernames can't contain spaces or null characters"));
    }
    let rules = merge_selector_args(rules).map_err(|open| {
        Error::Other(alloc::format!(
            "ERR Unmatched parenthesis in acl selector starting at '{}'.",
            String::from_utf8_lossy(c_str(open))
        ))
    })?;
    let pubsub_all = e.config.acl_pubsub_default;
    let existing = e.acl.users.get(name);
    let mut user = existing.cloned().unwrap_or_else(|| User::new(name, pubsub_all));
    for rule in &rules {
        if let Err(why) = user.apply(rule, pubsub_all) {
            return Err(Error::Other(alloc::format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                String::from_utf8_lossy(c_str(rule)),
                why.text()
            )));
        }
    }
    if let Some(old) = existing {
        let doomed = pubsub_clients_losing_channels(e, old, &user);
        for id in doomed {
            kill_client(e, caller, id);
        }
    }
    e.acl.users.insert(name.to_vec(), user);
    refresh_clients(e, name);
    Ok(())
}

/// ACL SETUSER's arguments with a selector written over several (`(~a` `+get)`) joined by spaces
/// (Redis's ACLMergeSelectorArguments); on an unclosed one, the argument that opened it.
fn merge_selector_args<'a>(args: &[&'a [u8]]) -> Result<Vec<alloc::borrow::Cow<'a, [u8]>>, &'a [u8]> {
    use alloc::borrow::Cow;
    let mut out = Vec::new();
    let mut open: Option<(&[u8], Vec<u8>)> = None;
    for &arg in args {
        if let Some((_, joined)) = open.as_mut() {
            joined.push(b' ');
            joined.extend_from_slice(arg);
            if arg.last() == Some(&b')') {
                if let Some((_, joined)) = open.take() {
                    out.push(Cow::Owned(joined));
                }
            }
            continue;
        }
        if arg.first() == Some(&b'(') && arg.last() != Some(&b')') {
            open = Some((arg, arg.to_vec()));
            continue;
        }
        out.push(Cow::Borrowed(arg));
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(out),
    }
}

/// The subscribed clients of `old` that `new` no longer lets listen to one of their channels or patterns
/// (Redis's ACLKillPubsubClientsIfNeeded): none when some new selector allows all channels, or when the old
/// rules did not and each of their channel patterns is among the new ones.
fn pubsub_clients_losing_channels(e: &Engine, old: &User, new: &User) -> Vec<ClientId> {
    if new.selectors.iter().any(|s| s.all_channels) {
        return Vec::new();
    }
    let upcoming: Vec<Vec<u8>> = new.selectors.iter().flat_map(|s| s.channels.iter().cloned()).collect();
    let kept = !old.selectors.iter().any(|s| s.all_channels)
        && old.selectors.iter().flat_map(|s| &s.channels).all(|c| upcoming.contains(c));
    if kept {
        return Vec::new();
    }
    let mut doomed = Vec::new();
    for c in e.clients.values().filter(|c| c.user == old.name) {
        let Some(subs) = e.pubsub.client(c.id) else { continue };
        let lost = subs.patterns.iter().any(|p| !channel_allowed(&upcoming, p, true))
            || subs.channels.iter().any(|(ch, _)| !channel_allowed(&upcoming, ch, false))
            || subs.shard_channels.iter().any(|(ch, _)| !channel_allowed(&upcoming, ch, false));
        if lost {
            doomed.push(c.id);
        }
    }
    doomed
}

/// Disconnects a client; the caller itself is only marked, to close after its reply.
fn kill_client(e: &mut Engine, caller: ClientId, id: ClientId) {
    if id == caller {
        if let Some(c) = e.client_mut(id) {
            c.closing = true;
        }
    } else {
        e.disconnect(id);
    }
}

/// Deletes users (ACL DELUSER); their clients are disconnected, the caller after its reply, and meanwhile run
/// as an unauthenticated `default` as Redis leaves them. `default` cannot be deleted. Answers how many existed.
pub fn delete_users(e: &mut Engine, caller: ClientId, names: &[&[u8]]) -> Result<usize, Error> {
    if names.iter().any(|n| *n == b"default") {
        return Err(Error::other("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in names {
        if e.acl.users.remove(*name).is_none() {
            continue;
        }
        deleted += 1;
        let victims: Vec<ClientId> = e.clients.values().filter(|c| c.user == *name).map(|c| c.id).collect();
        let default_restricted = e.acl.is_restricted(b"default");
        for id in victims {
            if let Some(c) = e.client_mut(id) {
                c.user = b"default".to_vec();
                c.authenticated = false;
                c.acl_checked = default_restricted;
            }
            kill_client(e, caller, id);
        }
    }
    Ok(deleted)
}

/// Brings the clients of a user that changed up to date: whether their commands go through the checks, and
/// for `default`, whether clients need to authenticate at all.
pub fn refresh_clients(e: &mut Engine, name: &[u8]) {
    let restricted = e.acl.is_restricted(name);
    for c in e.clients.values_mut().filter(|c| c.user == name) {
        c.acl_checked = restricted;
    }
    if name == b"default" {
        e.acl.default_open = e.acl.users.get(name).is_some_and(|u| u.enabled && u.nopass);
    }
}

/// `requirepass` changed: it becomes the default user's only password (none, and `nopass`, when empty).
pub fn requirepass_changed(e: &mut Engine) {
    let pass = e.config.requirepass.clone();
    if let Some(u) = e.acl.users.get_mut(b"default".as_slice()) {
        u.set_requirepass(&pass);
    }
    refresh_clients(e, b"default");
}

/// AUTH and HELLO's AUTH: on success the client is authenticated as `user`; a failure is logged under
/// `command` (the command's name as typed) and answers WRONGPASS whether the user exists or not.
pub fn authenticate(e: &mut Engine, ctx: &Ctx, user: &[u8], password: &[u8]) -> Result<(), Error> {
    if e.acl.users.get(user).is_some_and(|u| u.accepts(password)) {
        let restricted = e.acl.is_restricted(user);
        if let Some(c) = e.client_mut(ctx.client) {
            c.authenticated = true;
            c.user = user.to_vec();
            c.acl_checked = restricted;
        }
        return Ok(());
    }
    let object = ctx.arg(0).to_vec();
    log(e, ctx, Reason::Auth, object, user.to_vec());
    Err(Error::WrongPass)
}

/// A client goes back to the default user as a new connection has it (RESET).
pub fn reset_client(e: &mut Engine, id: ClientId) {
    let authenticated = e.acl.default_authenticated();
    let restricted = e.acl.is_restricted(b"default");
    if let Some(c) = e.client_mut(id) {
        c.user = b"default".to_vec();
        c.authenticated = authenticated;
        c.acl_checked = restricted;
    }
}

/// The permission check of `Engine::execute`, for a client whose user is restricted: `Err` with the error to
/// answer, the denial logged. A command refused inside MULTI for being one that cannot be queued is left to
/// that check, which Redis makes first.
pub fn check_command(e: &mut Engine, ctx: &Ctx) -> Result<(), Error> {
    if ctx.spec.has(Flag::NoMulti) && e.multi.in_multi(ctx.client) {
        return Ok(());
    }
    let Err(denied) = user_check(e, ctx) else { return Ok(()) };
    let user_name = e.client(ctx.client).map(|c| c.user.clone()).unwrap_or_default();
    log_denial(e, ctx, denied, user_name);
    Err(denied.error(ctx.spec))
}

/// The client's user's verdict on the command; a client or user that is gone allows it (it is being closed).
fn user_check(e: &Engine, ctx: &Ctx) -> Result<(), Denied> {
    let Some(client) = e.client(ctx.client) else { return Ok(()) };
    match e.acl.users.get(&client.user) {
        Some(user) => user.check(ctx.spec, ctx.argv),
        None => Ok(()),
    }
}

/// EXEC checks each queued command again, as the rules may have changed since it was queued: `Err` with the
/// reply that takes the command's place.
pub fn recheck_queued(e: &mut Engine, ctx: &Ctx) -> Result<(), Reply> {
    if !e.client(ctx.client).is_some_and(|c| c.acl_checked) {
        return Ok(());
    }
    let Err(denied) = user_check(e, ctx) else { return Ok(()) };
    let user_name = e.client(ctx.client).map(|c| c.user.clone()).unwrap_or_default();
    log_denial(e, ctx, denied, user_name);
    let reason = match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    Err(Reply::Error(Error::Other(alloc::format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. \
         This command is no longer allowed for the following reason: {reason}"
    ))))
}

fn log_denial(e: &mut Engine, ctx: &Ctx, denied: Denied, user: Vec<u8>) {
    let (reason, object) = match denied {
        Denied::Command => (Reason::Command, ctx.spec.name.as_bytes().to_vec()),
        Denied::Key(at) => (Reason::Key, ctx.arg(at).to_vec()),
        Denied::Channel(at) => (Reason::Channel, ctx.arg(at).to_vec()),
    };
    log(e, ctx, reason, object, user);
}

/// Adds an ACL LOG entry, or counts it again in an equal recent one (same reason, context, object and user
/// within a minute, among the 10 newest), which then moves to the front (Redis's addACLLogEntry).
fn log(e: &mut Engine, ctx: &Ctx, reason: Reason, object: Vec<u8>, username: Vec<u8>) {
    let client_info = match e.client(ctx.client) {
        Some(c) => crate::cmd::connection::client_info_line(e, c, Some(ctx)),
        None => String::new(),
    };
    let entry = LogEntry {
        count: 1,
        reason,
        in_multi: e.multi.in_multi(ctx.client),
        object,
        username,
        at_ms: e.now,
        client_info,
    };
    let log = &mut e.acl.log;
    match log.iter().take(LOG_MERGE_SCAN).position(|old| old.same_event(&entry)) {
        Some(at) => {
            if let Some(mut old) = log.remove(at) {
                old.count += 1;
                old.at_ms = entry.at_ms;
                old.client_info = entry.client_info;
                log.push_front(old);
            }
        }
        None => {
            log.push_front(entry);
            let max = usize::try_from(e.config.acllog_max_len).unwrap_or(usize::MAX);
            log.truncate(max);
        }
    }
}

/// Whether the client's user may read any key (Redis's ACLUserCheckKeyPerm on `*` for reading): SORT's BY
/// and GET patterns read keys no key spec names.
pub fn reads_any_key(e: &Engine, client: ClientId) -> bool {
    let Some(c) = e.client(client) else { return true };
    if !c.acl_checked {
        return true;
    }
    e.acl.users.get(&c.user).is_some_and(|u| {
        u.selectors.iter().any(|s| s.all_keys || s.keys.iter().any(|p| p.flags & READ != 0 && string_match(&p.pattern, b"*", false)))
    })
}

/// ACL DRYRUN's check: `None` when allowed, else the sentence Redis answers.
pub fn dry_run(user: &User, spec: &CommandSpec, argv: &[&[u8]]) -> Option<String> {
    let denied = user.check(spec, argv).err()?;
    Some(match denied {
        Denied::Command => alloc::format!("This user has no permissions to run the '{}' command", spec.name),
        Denied::Key(at) => alloc::format!(
            "This user has no permissions to access the '{}' key",
            String::from_utf8_lossy(argv.get(at).copied().unwrap_or_default())
        ),
        Denied::Channel(at) => alloc::format!(
            "This user has no permissions to access the '{}' channel",
            String::from_utf8_lossy(argv.get(at).copied().unwrap_or_default())
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        for r in rules {
            u.apply(r.as_bytes(), false).unwrap_or_else(|e| panic!("{r}: {e:?}"));
        }
        u
    }

    fn text(v: Vec<u8>) -> String {
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn default_user_is_open_until_requirepass() {
        let acl = Acl::new(b"");
        let d = acl.user(b"default").unwrap();
        assert_eq!(text(d.describe()), "on nopass ~* &* +@all");
        assert!(d.allows_everything() && acl.default_open);
        let acl = Acl::new(b"s3cret");
        let d = acl.user(b"default").unwrap();
        assert!(!acl.default_open && d.accepts(b"s3cret") && !d.accepts(b"nope"));
    }

    /// Descriptions recorded from Redis 7.0.15's ACL LIST for the same rules.
    #[test]
    fn descriptions_match_redis() {
        assert_eq!(text(user(&[]).describe()), "off resetchannels -@all");
        assert_eq!(text(user(&["on", "~cache:*", "+get"]).describe()), "on ~cache:* resetchannels -@all +get");
        assert_eq!(
            text(user(&["~a*", "%R~b*", "%W~c*", "%RW~d*", "%WR~e*", "%rw~f*", "~a*", "%R~a*"]).describe()),
            "off ~a* %R~b* %W~c* ~d* ~e* ~f* resetchannels -@all"
        );
        assert_eq!(
            text(user(&["+GET", "+CONFIG|GET", "+@READ", "-@Write", "+SELECT|Ab", "+select|ab", "+select|CD"]).describe()),
            // Redis gave `+select|Ab +select|CD +config|get`: single commands come in its dictionary's order,
            // random per server process; here in the table's.
            "off resetchannels -@all +@read +config|get +select|Ab +select|CD"
        );
        assert_eq!(
            text(user(&["~*", "&x", "&y", "(~x +get)", "(+set ~y &z)"]).describe()),
            "off ~* resetchannels &x &y -@all (~x resetchannels -@all +get) (~y resetchannels &z -@all +set)"
        );
    }

    #[test]
    fn rule_errors() {
        let mut u = user(&["~*"]);
        assert_eq!(u.apply(b"~x", false), Err(RuleError::KeysAfterAll));
        assert_eq!(u.apply(b"%X~a", false), Err(RuleError::KeysAfterAll));
        let mut u = user(&[]);
        assert_eq!(u.apply(b"%X~a", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"%~a", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"%R", false), Ok(()));
        assert_eq!(u.apply(b"+config|get|x", false), Err(RuleError::FirstArgOfSubcommand));
        assert_eq!(u.apply(b"+config|", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"-select|0", false), Err(RuleError::Unknown));
        assert_eq!(u.apply(b"+", false), Err(RuleError::Unknown));
        assert_eq!(u.apply(b"#abc", false), Err(RuleError::BadHash));
        assert_eq!(u.apply(b"<nope", false), Err(RuleError::NoSuchPassword));
        assert_eq!(u.apply(b"(on)", false), Err(RuleError::Syntax));
    }

    #[test]
    fn checks_commands_keys_and_channels() {
        let u = user(&["on", "~cache:*", "%R~ro:*", "+get", "+set", "&news.*", "+publish", "+psubscribe", "+select|0"]);
        let spec = |n: &str| lookup_command(n.as_bytes()).unwrap();
        assert_eq!(u.check(spec("get"), &[b"get", b"cache:1"]), Ok(()));
        assert_eq!(u.check(spec("get"), &[b"get", b"other"]), Err(Denied::Key(1)));
        assert_eq!(u.check(spec("get"), &[b"get", b"ro:1"]), Ok(()));
        assert_eq!(u.check(spec("set"), &[b"set", b"ro:1", b"v"]), Err(Denied::Key(1)));
        assert_eq!(u.check(spec("del"), &[b"del", b"cache:1"]), Err(Denied::Command));
        assert_eq!(u.check(spec("publish"), &[b"publish", b"news.a", b"m"]), Ok(()));
        assert_eq!(u.check(spec("publish"), &[b"publish", b"sport", b"m"]), Err(Denied::Channel(1)));
        assert_eq!(u.check(spec("psubscribe"), &[b"psubscribe", b"news.*"]), Ok(()));
        assert_eq!(u.check(spec("psubscribe"), &[b"psubscribe", b"news.a*"]), Err(Denied::Channel(1)));
        assert_eq!(u.check(spec("select"), &[b"select", b"0"]), Ok(()));
        assert_eq!(u.check(spec("select"), &[b"select", b"1"]), Err(Denied::Command));
        // A no_auth command needs no permission of its own.
        assert_eq!(u.check(spec("auth"), &[b"auth", b"x"]), Ok(()));
    }

    #[test]
    fn a_selector_allows_what_the_root_does_not() {
        let u = user(&["on", "+get", "~a", "(+set ~b)"]);
        let spec = |n: &str| lookup_command(n.as_bytes()).unwrap();
        assert_eq!(u.check(spec("set"), &[b"set", b"b", b"v"]), Ok(()));
        assert_eq!(u.check(spec("get"), &[b"get", b"b"]), Err(Denied::Key(1)));
        assert_eq!(u.check(spec("set"), &[b"set", b"a", b"v"]), Err(Denied::Key(1)));
    }

    fn run(e: &mut Engine, c: ClientId, line: &str) -> Reply {
        e.run_line(c, line, 1_000).unwrap_or(Reply::Nil)
    }

    /// The flag the command path tests follows the user: off for `default`, on once a client logs in as a
    /// restricted user, on for everyone when `default` itself is restricted, and back off when it is not.
    #[test]
    fn clients_are_checked_only_while_their_user_is_restricted() {
        let mut e = Engine::new(crate::Config::default());
        let (admin, c) = (e.connect(1_000), e.connect(1_000));
        let checked = |e: &Engine, id| e.client(id).is_some_and(|c| c.acl_checked);
        assert!(!checked(&e, c));
        assert_eq!(run(&mut e, admin, "ACL SETUSER u on nopass ~k* +get"), Reply::ok());
        assert_eq!(run(&mut e, c, "AUTH u x"), Reply::ok());
        assert!(checked(&e, c) && !checked(&e, admin));
        assert_eq!(run(&mut e, c, "SET k v"), Reply::Error(Error::NoPermCommand("set")));
        assert_eq!(run(&mut e, admin, "ACL SETUSER u +@all ~* &*"), Reply::ok());
        assert!(!checked(&e, c), "a user allowed everything again is not checked");
        assert_eq!(run(&mut e, c, "SET k v"), Reply::ok());
        assert_eq!(run(&mut e, admin, "ACL SETUSER default -flushall"), Reply::ok());
        assert!(checked(&e, admin));
        assert_eq!(run(&mut e, admin, "FLUSHALL"), Reply::Error(Error::NoPermCommand("flushall")));
        assert_eq!(run(&mut e, admin, "ACL SETUSER default +flushall"), Reply::ok());
        // As in Redis, adding the command back does not restore the all-commands flag: still checked, allowed.
        assert!(checked(&e, admin));
        assert_eq!(run(&mut e, admin, "FLUSHALL"), Reply::ok());
        assert_eq!(run(&mut e, admin, "ACL SETUSER default allcommands"), Reply::ok());
        assert!(!checked(&e, admin));
    }

    #[test]
    fn deleting_a_user_disconnects_its_clients_and_the_caller_after_its_reply() {
        let mut e = Engine::new(crate::Config::default());
        let (admin, a, b) = (e.connect(1_000), e.connect(1_000), e.connect(1_000));
        assert_eq!(run(&mut e, admin, "ACL SETUSER d on nopass ~* +@all"), Reply::ok());
        assert_eq!(run(&mut e, a, "AUTH d x"), Reply::ok());
        assert_eq!(run(&mut e, b, "AUTH d x"), Reply::ok());
        assert_eq!(run(&mut e, b, "ACL DELUSER d"), Reply::Integer(1));
        assert!(e.client(a).is_none(), "another client of the user is gone at once");
        assert!(e.is_closing(b), "the caller closes after its reply");
        assert!(e.client(admin).is_some_and(|c| !c.closing));
        assert_eq!(run(&mut e, admin, "ACL DELUSER default"), Reply::Error(Error::other("ERR The 'default' user cannot be removed")));
    }

    /// Whatever the rules, the description rebuilds the same bitmap (Redis aborts if it does not).
    #[test]
    fn descriptions_rebuild_the_bitmap() {
        let sets: &[&[&str]] = &[
            &["+@all", "-@dangerous", "+flushall", "-get"],
            &["+@read", "-@hash", "+hset", "+config|get", "-@slow"],
            &["+@all", "-config", "+config|get", "-client|kill"],
            &["+@write", "+@read", "-@string", "+@fast", "-@keyspace"],
        ];
        for rules in sets {
            let u = user(rules);
            let Some(root) = u.root() else { panic!() };
            let described = text(root.describe_commands());
            let rebuilt = user(&described.split(' ').collect::<Vec<_>>());
            assert_eq!(rebuilt.root().map(|s| s.allowed), Some(root.allowed), "{rules:?} -> {described}");
        }
    }
}
