//! The WebAssembly facade over redlet-core.
