//! Snapshots on disk: the engine makes and reads RDB bytes; this file keeps them in `dir/dbfilename`.
//!
//! A snapshot is written as Redis writes one (rdbSave): to `temp-<pid>.rdb` in the same directory, flushed to
//! disk, then renamed over the old file, so the file is always a complete snapshot, the old or the new.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

use redlet_core::rdb::SnapshotStore;
use redlet_core::Engine;

/// The engine's snapshot store for redlet-server: one file, replaced atomically.
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// `file` relative to the working directory (`--dir` has become it).
    pub fn new(file: &str) -> FileStore {
        FileStore { path: PathBuf::from(file) }
    }

    /// Loads the snapshot at start, as redis-server does: a missing file is an empty dataset; a file that does
    /// not load is an error (Redis refuses to start on it rather than lose it by saving over it later).
    pub fn load_into(&self, engine: &mut Engine) -> Result<Option<u64>, String> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
        };
        engine
            .load_rdb(&bytes)
            .map(|()| Some(engine.persistence.last_load_keys_loaded))
            .map_err(|e| format!("Fatal error loading the DB ({}): {e}. Exiting.", self.path.display()))
    }

    fn write_atomically(&self, rdb: &[u8]) -> io::Result<()> {
        let dir = self.path.parent().map(PathBuf::from).unwrap_or_default();
        let temp = dir.join(format!("temp-{}.rdb", std::process::id()));
        let result = (|| {
            let mut f = File::create(&temp)?;
            f.write_all(rdb)?;
            f.sync_all()?;
            fs::rename(&temp, &self.path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

impl SnapshotStore for FileStore {
    fn store(&mut self, rdb: &[u8]) -> Result<(), String> {
        match self.write_atomically(rdb) {
            Ok(()) => {
                log!("DB saved on disk");
                Ok(())
            }
            Err(e) => {
                let msg = format!("Write error saving DB on disk: {e}");
                log!("{msg}");
                Err(msg)
            }
        }
    }

    fn fetch(&mut self) -> Result<Option<Vec<u8>>, String> {
        match fs::read(&self.path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}
