//! redlet-core: a Redis 7.0-compatible in-memory data store as a deterministic state machine.
//!
//! The engine does no I/O and reads no clock: the caller passes the time into every call and seeds the PRNG.
//! See ARCHITECTURE.md at the repository root for the code map and invariants.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod aof;
pub mod acl;
pub mod blocking;
pub mod cmd;
pub mod config;
pub mod crc64;
pub mod db;
pub mod decimal;
pub mod dict;
pub mod engine;
pub mod error;
pub mod evict;
pub mod format;
pub mod geohash;
pub mod glob;
pub mod ldouble;
pub mod lzf;
pub mod multi;
pub mod notify;
pub mod pause;
pub mod propagate;
pub mod pubsub;
pub mod rdb;
pub mod reply;
pub mod resp;
pub mod slowlog;
pub mod sha256;
pub mod table;
pub mod tokenize;
pub mod tracking;
pub mod types;
pub mod util;
pub mod value;
pub mod vecmap;

pub use config::Config;
pub use engine::{ClientId, Engine};
pub use notify::KeyEvent;
pub use error::Error;
pub use reply::Reply;
