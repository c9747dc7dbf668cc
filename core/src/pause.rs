//! CLIENT PAUSE and CLIENT UNPAUSE (Redis's pauseClients, BLOCKED_POSTPONE).
//!
//! While a pause holds, a command it covers (every command with `ALL`; with `WRITE` those that may write or
//! replicate, and EXEC of a transaction holding one) is postponed: `Engine::execute` answers nothing, the
//! client counts as blocked (its connection's further input waits, as Redis stops reading it), and when the
//! pause ends (its time runs out at a command or `tick`, or CLIENT UNPAUSE) the postponed commands run in the
//! order they came, their replies delivered through `Engine::drain_pushes`. Clients see what Redis's see: the
//! reply arrives after the pause.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::engine::{ClientId, Engine};
use crate::table::{CommandSpec, Flag};

/// What a pause covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Write,
    All,
}

#[derive(Debug, Default)]
pub struct Pause {
    /// The pause in force: its kind and the unix ms it ends at.
    current: Option<(Kind, u64)>,
    /// Set by CLIENT UNPAUSE: the postponed commands run once the current command is done.
    lifted: bool,
    postponed: VecDeque<(ClientId, Vec<Vec<u8>>)>,
}

impl Pause {
    #[inline]
    pub fn is_postponed(&self, client: ClientId) -> bool {
        !self.postponed.is_empty() && self.postponed.iter().any(|(c, _)| *c == client)
    }

    /// Whether a pause is in force (active expiry waits meanwhile, as in Redis).
    pub fn is_active(&self) -> bool {
        self.current.is_some()
    }

    /// How many clients wait for the pause to end.
    pub fn len(&self) -> usize {
        self.postponed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.postponed.is_empty()
    }

    /// CLIENT PAUSE: a longer or stronger pause replaces the current one, never a shorter or weaker one
    /// (Redis's pauseClients keeps the later end and the stronger kind).
    pub fn start(&mut self, kind: Kind, end: u64) {
        self.current = Some(match self.current {
            Some((k, t)) => (if k == Kind::All || kind == Kind::All { Kind::All } else { Kind::Write }, t.max(end)),
            None => (kind, end),
        });
    }

    /// CLIENT UNPAUSE.
    pub fn lift(&mut self) {
        self.current = None;
        self.lifted = true;
    }
}

/// Postpones the command if a pause covers it; true when it did.
#[inline]
pub(crate) fn postpone(e: &mut Engine, client: ClientId, spec: &'static CommandSpec, argv: &[&[u8]]) -> bool {
    // Inlined into every command: without a pause this is one test.
    match e.pause.current {
        None => false,
        Some((kind, end)) => postpone_if_covered(e, client, spec, argv, kind, end),
    }
}

fn postpone_if_covered(e: &mut Engine, client: ClientId, spec: &'static CommandSpec, argv: &[&[u8]], kind: Kind, end: u64) -> bool {
    if e.now >= end {
        return false;
    }
    let covered = match kind {
        Kind::All => true,
        Kind::Write => may_replicate(spec) || (spec.name == "exec" && crate::multi::queued_writes(e, client)),
    };
    if covered {
        e.pause.postponed.push_back((client, argv.iter().map(|a| a.to_vec()).collect()));
    }
    covered
}

fn may_replicate(spec: &CommandSpec) -> bool {
    spec.has(Flag::Write) || spec.has(Flag::MayReplicate)
}

/// Runs the postponed commands when the pause is over (lifted, or its time passed), replies pushed.
#[inline]
pub(crate) fn resume_if_over(e: &mut Engine) {
    // Inlined after every command: with no pause and nothing lifted this is two tests.
    if e.pause.current.is_some() || e.pause.lifted {
        resume_postponed(e);
    }
}

fn resume_postponed(e: &mut Engine) {
    let over = match e.pause.current {
        Some((_, end)) => e.now >= end,
        None => e.pause.lifted,
    };
    if !over {
        return;
    }
    e.pause.current = None;
    e.pause.lifted = false;
    let now = e.now;
    while let Some((client, argv)) = e.pause.postponed.pop_front() {
        let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        if let Some(reply) = e.execute(client, &args, now) {
            e.push(client, reply);
        }
        // A command run here may pause again (CLIENT PAUSE was itself postponed): the rest wait for that one.
        if e.pause.current.is_some() {
            break;
        }
    }
}

pub(crate) fn disconnected(e: &mut Engine, client: ClientId) {
    e.pause.postponed.retain(|(c, _)| *c != client);
}
