//! Keyspace commands (Redis's db.c and expire.c).

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::reply::Reply;

pub const HANDLERS: &[(&str, Handler)] = &[("del", del)];

/// DEL key [key ...]
fn del(e: &mut Engine, c: &Ctx) -> Reply {
    let mut n = 0;
    for key in c.argv.iter().skip(1) {
        e.expire_if_needed(c.db, key);
        if e.db_mut(c.db).remove(key).is_some() {
            n += 1;
        }
    }
    e.dirty += n as u64;
    Reply::Integer(n)
}
