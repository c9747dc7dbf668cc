//! A list: O(1) push and pop at both ends (Redis 7.0 reports every list as `quicklist`).

/// Placeholder until the type's own implementation lands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {}

impl List {
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
