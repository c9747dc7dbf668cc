//! Integration tests live under tests/it.
