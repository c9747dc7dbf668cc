//! Redlet's integration tests: one binary, a module per concern.

mod aof;
mod console;
mod diff;
mod prop;
mod rdb;
mod redis;
mod server;
mod tutorials;
