//! A hash: field → value, O(1) access and O(1) random field (`listpack` while small, then `hashtable`).

/// Placeholder until the type's own implementation lands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hash {}

impl Hash {
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
