//! Stream commands (Redis's t_stream.c).

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
