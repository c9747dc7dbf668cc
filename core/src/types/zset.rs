//! A sorted set: members by score with O(log N) rank (`listpack` while small, then `skiplist`).

/// Placeholder until the type's own implementation lands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {}

impl ZSet {
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
