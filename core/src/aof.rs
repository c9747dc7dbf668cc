//! The append-only file as Redis 7.0 writes it, without the files: the host reads and writes them.
//!
//! Redis 7.0 keeps a multi-part AOF in a directory (`appenddirname`, default `appendonlydir`):
//! - a base file, `appendonly.aof.<seq>.base.rdb` (an RDB snapshot, `aof-use-rdb-preamble yes`) or
//!   `.base.aof` (commands), written by a rewrite;
//! - incremental files, `appendonly.aof.<seq>.incr.aof`: the commands propagated since (`crate::propagate`),
//!   in RESP ([`encode_command`]);
//! - the manifest `appendonly.aof.manifest` naming them, one line each:
//!   `file appendonly.aof.1.base.rdb seq 1 type b` ([`Manifest`]).
//!
//! Loading is the manifest, then the base, then each incremental file replayed through the engine
//! ([`AofLoader`]). A command cut short at the end of the last file is Redis's `aof-load-truncated yes` case:
//! the commands before it count and the host truncates the file there ([`Replayed::truncated`]); anything
//! else malformed is refused ([`AofError`]), as is a truncation in any other file.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::engine::{ClientId, Engine, Stats};
use crate::error::Error;
use crate::rdb::RdbError;

/// Redis's default `appenddirname`.
pub const DEFAULT_DIRNAME: &str = "appendonlydir";
/// Redis's default `appendfilename`: the prefix of every file's name, and of the manifest's.
pub const DEFAULT_FILENAME: &str = "appendonly.aof";
/// Redis's AOF_ANNOTATION_LINE_MAX_LEN and AOF_MANIFEST_MAX_LINE: the longest line either reader takes.
const MAX_LINE: usize = 1024;

// ---------------------------------------------------------------------------------------------------------------
// Commands in RESP.

/// A command as Redis appends it (catAppendOnlyGenericCommand): `*<argc>\r\n` then `$<len>\r\n<arg>\r\n` each.
pub fn encode_command(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + argv.iter().map(|a| a.len() + 16).sum::<usize>());
    encode_command_into(&mut out, argv);
    out
}

/// `encode_command` appended to `out`.
pub fn encode_command_into(out: &mut Vec<u8>, argv: &[Vec<u8>]) {
    out.push(b'*');
    crate::util::push_i64(out, argv.len() as i64);
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        crate::util::push_i64(out, a.len() as i64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Why reading commands stopped before the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The data ends inside a command: Redis's "unexpected end of file".
    Truncated,
    /// Not the AOF format (Redis's "Bad file format reading the append only file").
    Format,
}

/// A command read from an AOF: its arguments (borrowed from the data) and the offset after it.
pub type ReadCommand<'a> = (Vec<&'a [u8]>, usize);

/// Reads the command starting at `pos` as Redis's loadSingleAppendOnlyFile does: `Ok(None)` at the end of the
/// data, else the arguments and the offset after the command. Annotation lines (`#...`) are skipped.
pub fn read_command(data: &[u8], mut pos: usize) -> Result<Option<ReadCommand<'_>>, Fault> {
    let header = loop {
        if pos >= data.len() {
            return Ok(None);
        }
        let (line, next) = read_line(data, pos)?;
        pos = next;
        if line.first() != Some(&b'#') {
            break line;
        }
    };
    if header.first() != Some(&b'*') {
        return Err(Fault::Format);
    }
    let argc = atol(header.get(1..).unwrap_or_default());
    if argc < 1 {
        return Err(Fault::Format);
    }
    // Not preallocated by the count: a corrupt count must not reserve memory the data cannot fill.
    let mut argv = Vec::with_capacity((argc as usize).min(64));
    for _ in 0..argc {
        if pos >= data.len() {
            return Err(Fault::Truncated);
        }
        let (line, next) = read_line(data, pos)?;
        pos = next;
        if line.first() != Some(&b'$') {
            return Err(Fault::Format);
        }
        let len = atol(line.get(1..).unwrap_or_default());
        if len < 0 {
            return Err(Fault::Format);
        }
        let len = usize::try_from(len).map_err(|_| Fault::Format)?;
        let end = pos.checked_add(len).ok_or(Fault::Format)?;
        let arg = data.get(pos..end).ok_or(Fault::Truncated)?;
        // The two bytes after the argument are read and discarded, as Redis does (it does not check them).
        let after = end.checked_add(2).ok_or(Fault::Format)?;
        if after > data.len() {
            return Err(Fault::Truncated);
        }
        argv.push(arg);
        pos = after;
    }
    Ok(Some((argv, pos)))
}

/// A line up to and including its `\n` (fgets), and the offset after it; a line without one is a cut file.
fn read_line(data: &[u8], pos: usize) -> Result<(&[u8], usize), Fault> {
    let rest = data.get(pos..).unwrap_or_default();
    let window = rest.get(..MAX_LINE).unwrap_or(rest);
    match window.iter().position(|&c| c == b'\n') {
        Some(i) => Ok((window.get(..=i).unwrap_or_default(), pos + i + 1)),
        None if window.len() == MAX_LINE => Err(Fault::Format),
        None => Err(Fault::Truncated),
    }
}

/// C's atoi/strtol on a line: optional spaces and sign, then digits; anything else stops it.
fn atol(s: &[u8]) -> i64 {
    let (i, neg) = crate::util::c_number_start(s);
    let mut v: i64 = 0;
    for &c in s.get(i..).unwrap_or_default() {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The manifest.

/// What a file is to the manifest (its `type` letter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// `b`: the base, a snapshot.
    Base,
    /// `i`: an incremental file of commands.
    Incr,
    /// `h`: a file a rewrite replaced, to be deleted.
    History,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::Incr => 'i',
            FileType::History => 'h',
        }
    }
}

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: FileType,
}

/// The manifest (Redis's aofManifest): the base, the files left from earlier rewrites, the incremental files in
/// order, and the sequence numbers the next files take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub history: Vec<AofFile>,
    pub incrs: Vec<AofFile>,
    pub curr_base_seq: u64,
    pub curr_incr_seq: u64,
}

/// Why an AOF did not load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AofError {
    /// The manifest is malformed; Redis's reason.
    Manifest(&'static str),
    /// A file is not in the AOF format (or holds a corrupt RDB preamble).
    Format,
    /// The base's RDB did not load.
    Rdb(RdbError),
    /// A command the engine does not know, or with the wrong number of arguments.
    UnknownCommand(String),
    /// A file other than the last ends inside a command.
    Truncated,
}

impl fmt::Display for AofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AofError::Manifest(why) => f.write_str(why),
            AofError::Format => f.write_str(
                "Bad file format reading the append only file: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>",
            ),
            AofError::Rdb(e) => write!(f, "Error reading the RDB preamble of the AOF file: {e}"),
            AofError::UnknownCommand(name) => write!(f, "Unknown command '{name}' reading the append only file"),
            AofError::Truncated => f.write_str("Unexpected end of file reading the append only file"),
        }
    }
}

impl Manifest {
    /// Parses a manifest as Redis's aofLoadManifestFromFile: `#` lines are comments; each other line is
    /// `key value` pairs split as `sdssplitargs` does (a quoted file name may hold spaces), with at least
    /// `file`, `seq` and `type`; one base at most; incremental files in increasing order.
    pub fn parse(data: &[u8]) -> Result<Manifest, AofError> {
        let bad = AofError::Manifest("Invalid AOF manifest file format");
        if data.is_empty() {
            return Err(AofError::Manifest("Found an empty AOF manifest"));
        }
        let mut m = Manifest::default();
        let mut max_seq = 0u64;
        let mut pos = 0;
        while pos < data.len() {
            let rest = data.get(pos..).unwrap_or_default();
            let window = rest.get(..MAX_LINE + 1).unwrap_or(rest);
            let (line, next) = match window.iter().position(|&c| c == b'\n') {
                Some(i) => (window.get(..i).unwrap_or_default(), pos + i + 1),
                None if window.first() == Some(&b'#') => (window, pos + window.len()),
                None => {
                    return Err(AofError::Manifest(
                        "The AOF manifest file contains too long line",
                    ))
                }
            };
            pos = next;
            if line.first() == Some(&b'#') {
                continue;
            }
            let args = crate::tokenize::split_args(line).map_err(|_| bad.clone())?;
            if args.len() < 6 || args.len() % 2 != 0 {
                return Err(bad);
            }
            let (mut name, mut seq, mut kind): (Option<String>, u64, Option<u8>) = (None, 0, None);
            for pair in args.chunks(2) {
                let (Some(k), Some(v)) = (pair.first(), pair.get(1)) else {
                    return Err(bad);
                };
                if k.eq_ignore_ascii_case(b"file") {
                    let n = String::from_utf8(v.clone()).map_err(|_| bad.clone())?;
                    if n.contains('/') || n.is_empty() {
                        return Err(AofError::Manifest("File can't be a path, just a filename"));
                    }
                    name = Some(n);
                } else if k.eq_ignore_ascii_case(b"seq") {
                    seq = atol(v).max(0) as u64;
                } else if k.eq_ignore_ascii_case(b"type") {
                    kind = v.first().copied();
                }
            }
            let (Some(name), Some(kind)) = (name, kind) else {
                return Err(bad);
            };
            if seq == 0 {
                return Err(bad);
            }
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err(AofError::Manifest("Found duplicate base file information"));
                    }
                    m.base = Some(AofFile {
                        name,
                        seq,
                        kind: FileType::Base,
                    });
                    m.curr_base_seq = seq;
                }
                b'h' => m.history.push(AofFile {
                    name,
                    seq,
                    kind: FileType::History,
                }),
                b'i' => {
                    if seq <= max_seq {
                        return Err(AofError::Manifest("Found a non-monotonic sequence number"));
                    }
                    m.incrs.push(AofFile {
                        name,
                        seq,
                        kind: FileType::Incr,
                    });
                    m.curr_incr_seq = seq;
                    max_seq = seq;
                }
                _ => return Err(AofError::Manifest("Unknown AOF file type")),
            }
        }
        Ok(m)
    }

    /// The manifest's text as Redis writes it (getAofManifestAsString): the base, then the history, then the
    /// incremental files, one `file <name> seq <n> type <b|h|i>` line each (a name needing quotes quoted).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in self
            .base
            .iter()
            .chain(self.history.iter())
            .chain(self.incrs.iter())
        {
            out.extend_from_slice(b"file ");
            // sdsneedsrepr: a name with a space, a quote, a backslash or an unprintable byte is quoted.
            if f.name
                .bytes()
                .any(|c| c == b'\\' || c == b'"' || !c.is_ascii_graphic())
            {
                out.extend_from_slice(crate::format::repr(f.name.as_bytes()).as_bytes());
            } else {
                out.extend_from_slice(f.name.as_bytes());
            }
            out.extend_from_slice(
                alloc::format!(" seq {} type {}\n", f.seq, f.kind.letter()).as_bytes(),
            );
        }
        out
    }

    /// Whether the manifest names any file to load.
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.incrs.is_empty()
    }

    /// A new incremental file (getNewIncrAofName): its name, added at the end.
    pub fn add_incr(&mut self, prefix: &str) -> String {
        self.curr_incr_seq += 1;
        let name = alloc::format!("{prefix}.{}.incr.aof", self.curr_incr_seq);
        self.incrs.push(AofFile {
            name: name.clone(),
            seq: self.curr_incr_seq,
            kind: FileType::Incr,
        });
        name
    }

    /// A rewrite's new base (getNewBaseFileNameAndMarkPreAsHistory): the old base and every incremental file
    /// become history, the new base is named; `rdb` says whether it is an RDB (`.base.rdb`) or commands.
    pub fn new_base(&mut self, prefix: &str, rdb: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.push(old);
        }
        for mut f in core::mem::take(&mut self.incrs) {
            f.kind = FileType::History;
            self.history.push(f);
        }
        self.curr_base_seq += 1;
        let name = alloc::format!(
            "{prefix}.{}.base.{}",
            self.curr_base_seq,
            if rdb { "rdb" } else { "aof" }
        );
        self.base = Some(AofFile {
            name: name.clone(),
            seq: self.curr_base_seq,
            kind: FileType::Base,
        });
        name
    }

    /// The history files, taken out of the manifest for the host to delete (aofDelHistoryFiles).
    pub fn take_history(&mut self) -> Vec<AofFile> {
        core::mem::take(&mut self.history)
    }

    /// The files to load, in order: the base, then the incremental files.
    pub fn files_to_load(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(self.incrs.iter())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Replay.

/// What one file's replay did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// Commands run.
    pub commands: u64,
    /// Bytes that loaded: the whole data, or up to the last complete command (before an unfinished MULTI).
    pub valid_len: usize,
    /// The data ended inside a command or a transaction: what came after `valid_len` was left out.
    pub truncated: bool,
}

/// Loads an AOF into an engine (loadAppendOnlyFiles): made by `Engine::aof_loader`, fed the base and the
/// incremental files in manifest order, then finished. While it lives keys do not expire and nothing is
/// propagated; commands run through a client of its own, authenticated, as Redis's fake AOF client. The
/// engine's statistics are those of before the load once it is finished (or dropped): a replay is no traffic.
pub struct AofLoader<'e> {
    engine: &'e mut Engine,
    client: ClientId,
    now: u64,
    stats: Stats,
    next_client_id: ClientId,
}

impl Engine {
    /// Starts loading an AOF at time `now`: the dataset is emptied first, as Redis loads into an empty server.
    pub fn aof_loader(&mut self, now: u64) -> AofLoader<'_> {
        let stats = self.stats.clone();
        let next_client_id = self.peek_next_client_id();
        for db in self.dbs.iter_mut() {
            db.clear();
        }
        self.loading = true;
        self.propagation.suspended = true;
        let client = self.connect(now);
        if let Some(c) = self.client_mut(client) {
            c.authenticated = true;
            c.name = Some(b"aof".to_vec());
        }
        AofLoader {
            engine: self,
            client,
            now,
            stats,
            next_client_id,
        }
    }
}

impl AofLoader<'_> {
    /// Loads a base file: an RDB (with any commands after it, as a single-file AOF with a preamble has them),
    /// or commands.
    pub fn load_base(&mut self, data: &[u8], last: bool) -> Result<Replayed, AofError> {
        if data.starts_with(b"REDIS") {
            let loaded = crate::rdb::load(self.engine, data).map_err(AofError::Rdb)?;
            let len = loaded.len;
            self.engine.install(loaded);
            let tail = data.get(len..).unwrap_or_default();
            let mut r = self.replay(tail, last)?;
            r.valid_len += len;
            return Ok(r);
        }
        self.replay(data, last)
    }

    /// Replays a file of commands. `last` says whether it is the last file to load: only there may the data
    /// end inside a command (`Replayed::truncated`, Redis's `aof-load-truncated yes`); elsewhere that is an
    /// error. An unknown command or a format error is always one.
    pub fn replay(&mut self, data: &[u8], last: bool) -> Result<Replayed, AofError> {
        let mut pos = 0;
        let mut commands = 0u64;
        // The offset before the MULTI of a transaction in progress (Redis's valid_before_multi).
        let mut before_multi: Option<usize> = None;
        let truncated_at = loop {
            match read_command(data, pos) {
                Ok(None) => break before_multi,
                Ok(Some((argv, next))) => {
                    self.run(&argv)?;
                    commands += 1;
                    let name = argv.first().copied().unwrap_or_default();
                    if name.eq_ignore_ascii_case(b"multi") {
                        before_multi = Some(pos);
                    } else if name.eq_ignore_ascii_case(b"exec")
                        || name.eq_ignore_ascii_case(b"discard")
                    {
                        before_multi = None;
                    }
                    pos = next;
                }
                Err(Fault::Format) => return Err(AofError::Format),
                // A cut command inside a transaction drops the whole transaction, as redis-check-aof would.
                Err(Fault::Truncated) => break Some(before_multi.unwrap_or(pos)),
            }
        };
        match truncated_at {
            None => Ok(Replayed {
                commands,
                valid_len: data.len(),
                truncated: false,
            }),
            Some(_) if !last => Err(AofError::Truncated),
            Some(valid_len) => {
                // The queued commands of an unfinished transaction are dropped, never run.
                crate::multi::discard(self.engine, self.client);
                Ok(Replayed {
                    commands,
                    valid_len,
                    truncated: true,
                })
            }
        }
    }

    /// Runs one command as the AOF client; its reply does not matter, as for Redis's fake client.
    fn run(&mut self, argv: &[&[u8]]) -> Result<(), AofError> {
        let name =
            || String::from_utf8_lossy(argv.first().copied().unwrap_or_default()).into_owned();
        if let Err(
            Error::UnknownCommand { .. } | Error::UnknownSubcommand { .. } | Error::WrongArity(_),
        ) = self.engine.resolve_command(argv)
        {
            return Err(AofError::UnknownCommand(name()));
        }
        let _ = self.engine.execute(self.client, argv, self.now);
        self.engine.drain_pushes();
        Ok(())
    }

    /// Ends the load: the client goes, keys expire again, statistics are as before, nothing counts as a
    /// change since the last save.
    pub fn finish(self) {}
}

impl Drop for AofLoader<'_> {
    fn drop(&mut self) {
        let e = &mut *self.engine;
        e.disconnect(self.client);
        e.loading = false;
        e.propagation.suspended = false;
        e.stats = core::mem::take(&mut self.stats);
        e.set_next_client_id(self.next_client_id);
        e.dirty = 0;
    }
}

#[cfg(test)]
mod tests;
