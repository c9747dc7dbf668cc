//! Bitmap commands on string values (Redis's bitops.c).

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
