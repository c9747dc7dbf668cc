//! HyperLogLog commands on string values (Redis's hyperloglog.c).

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
