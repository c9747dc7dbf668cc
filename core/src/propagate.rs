//! The propagation stream: the commands Redis 7.0 would append to its AOF for what the engine executed
//! (Redis's `alsoPropagate`, `propagatePendingCommands` and the SELECT of `feedAppendOnlyFile`).
//!
//! The engine does no I/O: while a host has turned capture on (`Engine::capture_propagation`), each write
//! yields argument vectors that `Engine::drain_propagated` hands out, in order; the host appends them (RESP
//! encoded, `crate::aof::encode_command`) to its AOF. Nothing is recorded while capture is off, and the hooks
//! cost a flag test.
//!
//! The rules, as Redis's `call()`:
//! - A command is propagated only when it changed the dataset, that is when `Engine::dirty` grew while it ran
//!   (FLUSHALL and FLUSHDB force themselves in by counting a change even on empty databases, as Redis's
//!   forceCommandPropagation). EXEC itself never is: the commands it runs are.
//! - A command may propagate as something else: it calls [`rewrite`] (Redis's rewriteClientCommandVector:
//!   SET … EX → SET … PXAT, EXPIRE → PEXPIREAT, SPOP → SREM, BLPOP → LPOP, …) or [`prevent`] plus [`also`]
//!   for several commands in its place (SPOP with a count, XREADGROUP's XCLAIMs).
//! - Effects beside the command come first, in the order they happen: a key found expired while the command
//!   ran is a `DEL` before it ([`deletion`]).
//! - Everything one execution unit propagated (a command with its side effects, a whole EXEC, one blocked
//!   client served, one key expired by `tick`) is flushed by [`end_unit`]: wrapped in MULTI … EXEC when it is
//!   more than one command, a `SELECT` inserted whenever the database differs from the stream's last one.

use alloc::vec::Vec;

use crate::engine::Engine;

/// One propagated command: its arguments.
pub type Argv = Vec<Vec<u8>>;

/// What the running command asked for its own arguments.
#[derive(Clone, Debug)]
pub(crate) enum Own {
    /// Not propagated as itself (Redis's preventCommandPropagation); what it propagates goes through `also`.
    Prevent,
    /// Propagated as these arguments instead.
    Replace(Argv),
    /// Propagated as itself even when it changed nothing (Redis's forceCommandPropagation: FLUSHALL, FLUSHDB).
    Force,
}

/// The engine's propagation state.
#[derive(Debug, Default)]
pub struct Propagation {
    /// Whether a host wants the stream (`Engine::capture_propagation`).
    pub(crate) on: bool,
    /// The current execution unit's commands, each with its database (Redis's `server.also_propagate`).
    pending: Vec<(usize, Argv)>,
    /// The running command's request about its own arguments; saved and restored around nested calls (EXEC).
    pub(crate) own: Option<Own>,
    /// The database the stream last selected; `None` at its start, so the first command selects one
    /// (Redis's `aof_selected_db = -1` when an AOF file is opened).
    selected: Option<usize>,
    /// Finished commands waiting for `drain_propagated`.
    out: Vec<Argv>,
    /// Set while the engine replays an AOF: nothing is propagated.
    pub(crate) suspended: bool,
}

impl Propagation {
    /// Whether commands are being recorded now.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        self.on && !self.suspended
    }
}

fn owned(argv: &[&[u8]]) -> Argv {
    argv.iter().map(|a| a.to_vec()).collect()
}

/// Adds a command to the current unit (Redis's alsoPropagate), for database `db`.
pub(crate) fn also(e: &mut Engine, db: usize, argv: &[&[u8]]) {
    if e.propagation.active() {
        e.propagation.pending.push((db, owned(argv)));
    }
}

/// The running command propagates as `argv` instead of its own arguments (rewriteClientCommandVector).
pub(crate) fn rewrite(e: &mut Engine, argv: &[&[u8]]) {
    if e.propagation.active() {
        e.propagation.own = Some(Own::Replace(owned(argv)));
    }
}

/// The running command propagates as `argv`, already owned.
pub(crate) fn rewrite_owned(e: &mut Engine, argv: Argv) {
    if e.propagation.active() {
        e.propagation.own = Some(Own::Replace(argv));
    }
}

/// The running command is propagated as itself even if it changed nothing (forceCommandPropagation).
pub(crate) fn force(e: &mut Engine) {
    if e.propagation.active() {
        e.propagation.own = Some(Own::Force);
    }
}

/// The running command is not propagated as itself (preventCommandPropagation).
pub(crate) fn prevent(e: &mut Engine) {
    if e.propagation.active() {
        e.propagation.own = Some(Own::Prevent);
    }
}

/// A key deleted by the server rather than by a command (expired, evicted): `DEL key`, as Redis's
/// propagateDeletion with the default `lazyfree-lazy-expire no` and `lazyfree-lazy-eviction no`.
pub(crate) fn deletion(e: &mut Engine, db: usize, key: &[u8]) {
    also(e, db, &[b"DEL", key]);
}

/// A key removed by eviction: its `DEL` is an execution unit of its own, as Redis propagates each eviction
/// when it happens, before the command that needed the memory. For the eviction code to call after it deleted
/// the key (with `notify::evicted`).
pub fn evicted(e: &mut Engine, db: usize, key: &[u8]) {
    end_unit(e);
    deletion(e, db, key);
    end_unit(e);
}

/// Called by `Engine::call` once a command ran: propagates it as Redis's call() does.
pub(crate) fn after_call(
    e: &mut Engine,
    db: usize,
    argv: &[&[u8]],
    changed: bool,
    is_exec: bool,
    own: Option<Own>,
) {
    if !e.propagation.active() || is_exec {
        return;
    }
    match own {
        Some(Own::Force) => e.propagation.pending.push((db, owned(argv))),
        Some(Own::Prevent) => {}
        Some(Own::Replace(v)) if changed => e.propagation.pending.push((db, v)),
        None if changed => e.propagation.pending.push((db, owned(argv))),
        _ => {}
    }
}

/// Ends an execution unit (Redis's propagatePendingCommands): its commands go to the output, in MULTI … EXEC
/// when there are several, with the SELECTs the database changes need.
#[inline]
pub(crate) fn end_unit(e: &mut Engine) {
    // Inlined after every command: nothing pending (no AOF, or a read) is one test.
    if !e.propagation.pending.is_empty() {
        emit_unit(e);
    }
}

fn emit_unit(e: &mut Engine) {
    let p = &mut e.propagation;
    let ops = core::mem::take(&mut p.pending);
    let wrap = ops.len() > 1;
    if wrap {
        // MULTI goes to the first command's database, so the SELECT comes before it.
        let first = ops.first().map_or(0, |(db, _)| *db);
        p.emit(first, alloc::vec![b"MULTI".to_vec()]);
    }
    let last = ops.last().map_or(0, |(db, _)| *db);
    for (db, argv) in ops {
        p.emit(db, argv);
    }
    if wrap {
        p.emit(last, alloc::vec![b"EXEC".to_vec()]);
    }
}

impl Propagation {
    fn emit(&mut self, db: usize, argv: Argv) {
        if self.selected != Some(db) {
            self.out.push(alloc::vec![
                b"SELECT".to_vec(),
                crate::util::i64_bytes(db as i64)
            ]);
            self.selected = Some(db);
        }
        self.out.push(argv);
    }
}

impl Engine {
    /// Turns the propagation stream on or off (off when the engine starts). While on, every command that
    /// changed the dataset yields the commands Redis 7.0 would append to its AOF for it, for
    /// `drain_propagated` (see `crate::propagate`). Turning it on (again) starts a new stream, whose first
    /// command selects its database, as a new AOF file's does; turning it off drops what was not drained.
    pub fn capture_propagation(&mut self, on: bool) {
        let p = &mut self.propagation;
        p.on = on;
        p.selected = None;
        p.pending.clear();
        p.own = None;
        if !on {
            p.out = Vec::new();
        }
    }

    /// Whether the propagation stream is on.
    pub fn propagation_enabled(&self) -> bool {
        self.propagation.on
    }

    /// The commands propagated since the last drain, oldest first, each as its arguments.
    pub fn drain_propagated(&mut self) -> Vec<Argv> {
        core::mem::take(&mut self.propagation.out)
    }
}

#[cfg(test)]
mod tests;
