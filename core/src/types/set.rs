//! A set: O(1) membership and O(1) random member (`intset` while small and all integers, then `hashtable`).

/// Placeholder until the type's own implementation lands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {}

impl Set {
    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        "placeholder"
    }

    /// Bytes this value takes, as the memory estimate counts them.
    pub fn mem_usage(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        true
    }
}
