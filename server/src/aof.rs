//! The append-only file on disk, as Redis 7.0 keeps it: a multi-part AOF in `dir/appenddirname`.
//!
//! The engine propagates commands and reads and writes the formats (`redlet_core::aof`); this file owns the
//! files: it loads them at start (manifest, base, incremental files; a last file cut inside a command is
//! truncated there, as `aof-load-truncated yes`), appends what each turn of the event loop propagated before
//! any reply of that turn is written (synced first with `appendfsync always`, at most a second later with
//! `everysec`), and does the rewrites BGREWRITEAOF and CONFIG SET appendonly yes ask for: a new base from the
//! dataset, a new empty incremental file, the manifest replaced atomically, the old files removed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redlet_core::aof::{encode_command_into, AofFile, Manifest};
use redlet_core::propagate::Argv;
use redlet_core::Engine;

/// The AOF's files and the open incremental file.
pub struct Aof {
    dir: PathBuf,
    prefix: String,
    manifest: Manifest,
    /// The incremental file being appended to, while the AOF is on.
    incr: Option<File>,
    /// Appended since the last fsync (for `everysec`).
    unsynced: bool,
    last_fsync: Instant,
    /// Bytes of the base and of every incremental file, for INFO.
    base_size: u64,
    incr_size: u64,
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced, then renamed over it.
fn write_atomically(dir: &Path, temp_name: &str, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = dir.join(temp_name);
    let result = (|| {
        let mut f = File::create(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Makes a rename or a new file in `dir` durable.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

impl Aof {
    /// The AOF in `dir` (relative to the working directory, which `--dir` has become) with files named
    /// `prefix.*`; nothing is read or written yet.
    pub fn new(dirname: &str, prefix: &str) -> Aof {
        Aof {
            dir: PathBuf::from(dirname),
            prefix: prefix.to_string(),
            manifest: Manifest::default(),
            incr: None,
            unsynced: false,
            last_fsync: Instant::now(),
            base_size: 0,
            incr_size: 0,
        }
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.prefix))
    }

    /// Loads the AOF into the engine at start (loadAppendOnlyFiles). `Ok(None)` when there is none; a file that
    /// does not load stops the server, as it stops redis-server.
    pub fn load(&mut self, engine: &mut Engine, now: u64) -> Result<Option<u64>, String> {
        let bytes = match fs::read(self.manifest_path()) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("Fatal error: can't open the AOF manifest {} for reading: {e}", self.manifest_path().display())),
        };
        self.manifest = Manifest::parse(&bytes).map_err(|e| format!("Fatal error: {e}"))?;
        if self.manifest.is_empty() {
            return Ok(None);
        }
        let files: Vec<AofFile> = self.manifest.files_to_load().cloned().collect();
        let allow_truncated = engine.config.aof_load_truncated;
        let mut loader = engine.aof_loader(now);
        let count = files.len();
        for (i, file) in files.iter().enumerate() {
            let last = i + 1 == count;
            let path = self.dir.join(&file.name);
            let data = fs::read(&path).map_err(|e| format!("Fatal error: can't open the append log file {} for reading: {e}", file.name))?;
            let is_base = self.manifest.base.as_ref() == Some(file);
            let result = if is_base { loader.load_base(&data, last) } else { loader.replay(&data, last) };
            let replayed = result.map_err(|e| format!("{e} ({})", file.name))?;
            if replayed.truncated {
                if !allow_truncated {
                    return Err(format!(
                        "Unexpected end of file reading the append only file {}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                        file.name
                    ));
                }
                log!("!!! Warning: short read while loading the AOF file {}!!!", file.name);
                log!("!!! Truncating the AOF {} at offset {} !!!", file.name, replayed.valid_len);
                let f = OpenOptions::new().write(true).open(&path).map_err(|e| format!("Error truncating the AOF file {}: {e}", file.name))?;
                f.set_len(replayed.valid_len as u64).and_then(|()| f.sync_all()).map_err(|e| format!("Error truncating the AOF file {}: {e}", file.name))?;
                log!("AOF {} loaded anyway because aof-load-truncated is enabled", file.name);
            }
            let kind = if is_base { "base" } else { "incr" };
            log!("DB loaded from {kind} file {}", file.name);
        }
        loader.finish();
        let keys: u64 = engine.dbs.iter().map(|db| db.len() as u64).sum();
        self.measure();
        Ok(Some(keys))
    }

    /// Starts appending (the AOF is on): a server starting without an AOF writes a base of its dataset first,
    /// one whose manifest has no incremental file gets one, otherwise the last incremental file is appended to.
    pub fn start(&mut self, engine: &mut Engine) -> io::Result<()> {
        if self.manifest.is_empty() {
            fs::create_dir_all(&self.dir)?;
            return self.rewrite(engine, true, "on server start");
        }
        if self.manifest.incrs.is_empty() {
            let name = self.manifest.add_incr(&self.prefix);
            File::create(self.dir.join(&name))?.sync_all()?;
            self.persist_manifest()?;
            log!("Creating AOF incr file {name} on server start");
        }
        let name = self.manifest.incrs.last().map(|f| f.name.clone()).unwrap_or_default();
        self.incr = Some(OpenOptions::new().append(true).open(self.dir.join(&name))?);
        log!("Opening AOF incr file {name} on server start");
        engine.capture_propagation(true);
        self.measure();
        self.report(engine);
        Ok(())
    }

    /// Whether commands are being appended.
    pub fn is_on(&self) -> bool {
        self.incr.is_some()
    }

    /// Appends what the engine propagated since the last call; with `always` it is on disk when this returns.
    pub fn append(&mut self, commands: &[Argv], fsync: &str) -> io::Result<()> {
        let Some(f) = self.incr.as_mut() else { return Ok(()) };
        let mut buf = Vec::new();
        for argv in commands {
            encode_command_into(&mut buf, argv);
        }
        if !buf.is_empty() {
            f.write_all(&buf)?;
            self.incr_size += buf.len() as u64;
            self.unsynced = true;
        }
        match fsync {
            "always" => self.fsync()?,
            "everysec" if self.last_fsync.elapsed() >= Duration::from_secs(1) => self.fsync()?,
            _ => {}
        }
        Ok(())
    }

    /// Syncs the incremental file if anything was appended since the last sync.
    pub fn fsync(&mut self) -> io::Result<()> {
        if self.unsynced {
            if let Some(f) = self.incr.as_ref() {
                f.sync_data()?;
            }
            self.unsynced = false;
        }
        self.last_fsync = Instant::now();
        Ok(())
    }

    /// A rewrite (rewriteAppendOnlyFileBackground and its done handler, at once): a new base from the dataset,
    /// with the AOF on a new empty incremental file, the manifest replaced, the files it replaced removed.
    /// The engine's commands up to now must have been appended already: they are all in the new base.
    pub fn rewrite(&mut self, engine: &mut Engine, aof_on: bool, why: &str) -> io::Result<()> {
        let before = self.manifest.clone();
        let result = self.rewrite_files(engine, aof_on, why);
        if result.is_err() {
            self.manifest = before;
        }
        result
    }

    fn rewrite_files(&mut self, engine: &mut Engine, aof_on: bool, why: &str) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let base = engine.aof_base_rdb();
        let base_name = self.manifest.new_base(&self.prefix, true);
        let temp = format!("temp-rewriteaof-bg-{}.aof", std::process::id());
        write_atomically(&self.dir, &temp, &self.dir.join(&base_name), &base)?;
        log!("Creating AOF base file {base_name} {why}");
        let incr = if aof_on {
            let name = self.manifest.add_incr(&self.prefix);
            let f = OpenOptions::new().create(true).truncate(true).write(true).open(self.dir.join(&name))?;
            f.sync_all()?;
            log!("Creating AOF incr file {name} {why}");
            Some(OpenOptions::new().append(true).open(self.dir.join(&name))?)
        } else {
            None
        };
        let history = self.manifest.take_history();
        self.persist_manifest()?;
        // The old files are history once the new manifest is in place.
        if let Some(old) = self.incr.take() {
            let _ = old.sync_all();
        }
        for f in history {
            log!("Removing the history file {} in the background", f.name);
            let _ = fs::remove_file(self.dir.join(&f.name));
        }
        self.incr = incr;
        self.unsynced = false;
        if aof_on {
            // A new incremental file: its first command selects its database again.
            engine.capture_propagation(true);
        }
        self.measure();
        self.report(engine);
        Ok(())
    }

    /// Stops appending (CONFIG SET appendonly no): what was appended is synced, the files stay.
    pub fn stop(&mut self, engine: &mut Engine) {
        let _ = self.fsync();
        self.incr = None;
        engine.capture_propagation(false);
    }

    fn persist_manifest(&self) -> io::Result<()> {
        let temp = format!("temp-{}.manifest", self.prefix);
        write_atomically(&self.dir, &temp, &self.manifest_path(), &self.manifest.to_bytes())?;
        sync_dir(&self.dir);
        Ok(())
    }

    /// Reads the files' sizes again (after a load or a rewrite).
    fn measure(&mut self) {
        let size = |f: &AofFile| fs::metadata(self.dir.join(&f.name)).map_or(0, |m| m.len());
        self.base_size = self.manifest.base.as_ref().map_or(0, size);
        self.incr_size = self.manifest.incrs.iter().map(size).sum();
    }

    /// Hands the sizes to the engine for INFO.
    pub fn report(&self, engine: &mut Engine) {
        let status = &mut engine.persistence.aof;
        status.base_size = self.base_size;
        status.current_size = self.base_size + self.incr_size;
    }
}
