//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's multi.c).

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
