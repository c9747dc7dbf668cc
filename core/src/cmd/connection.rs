//! Connection commands: PING, ECHO, SELECT, HELLO, QUIT, RESET, CLIENT.

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::reply::Reply;

pub const HANDLERS: &[(&str, Handler)] = &[("ping", ping), ("echo", echo)];

/// PING [message]
fn ping(_e: &mut Engine, c: &Ctx) -> Reply {
    match c.argc() {
        1 => Reply::status("PONG"),
        _ => Reply::bulk(c.arg(1)),
    }
}

/// ECHO message
fn echo(_e: &mut Engine, c: &Ctx) -> Reply {
    Reply::bulk(c.arg(1))
}
