//! Geo commands on sorted sets (Redis's geo.c, geohash.c, geohash_helper.c).

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
