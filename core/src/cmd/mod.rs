//! Command implementations, one file per command group as Redis's `t_*.c` files.
//!
//! Each group exports `HANDLERS`: its commands by full lower-case name (`object|encoding` for subcommands).
//! Arity, unknown-command and unknown-subcommand errors never reach a handler: `Engine::execute` checks them
//! from the command table first.

use crate::engine::{Ctx, Engine};
use crate::reply::Reply;

pub mod acl;
pub mod bitmap;
pub mod connection;
pub mod diagnostic;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod tx;
pub mod zset;

pub type Handler = fn(&mut Engine, &Ctx) -> Reply;

const GROUPS: &[&[(&str, Handler)]] = &[
    string::HANDLERS,
    keys::HANDLERS,
    list::HANDLERS,
    hash::HANDLERS,
    set::HANDLERS,
    sort::HANDLERS,
    zset::HANDLERS,
    stream::HANDLERS,
    bitmap::HANDLERS,
    hll::HANDLERS,
    geo::HANDLERS,
    pubsub::HANDLERS,
    tx::HANDLERS,
    server::HANDLERS,
    connection::HANDLERS,
    diagnostic::HANDLERS,
    acl::HANDLERS,
];

/// Every implemented command with its handler.
pub fn all_handlers() -> impl Iterator<Item = &'static (&'static str, Handler)> {
    GROUPS.iter().flat_map(|g| g.iter())
}
