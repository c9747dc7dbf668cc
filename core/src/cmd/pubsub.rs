//! Pub/sub commands (Redis's pubsub.c).

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
