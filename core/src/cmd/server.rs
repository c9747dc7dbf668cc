//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, TIME, INFO, COMMAND, CONFIG, SWAPDB.

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::reply::Reply;

pub const HANDLERS: &[(&str, Handler)] = &[("dbsize", dbsize)];

/// DBSIZE
fn dbsize(e: &mut Engine, c: &Ctx) -> Reply {
    Reply::Integer(e.db(c.db).len() as i64)
}
