//! A stream: entries by ID (ms-seq) in order, with consumer groups and their pending entries.

/// Placeholder until the type's own implementation lands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {}

impl Stream {
    /// The name OBJECT ENCODING replies.
    pub fn encoding_name(&self) -> &'static str {
        "stream"
    }

    /// Bytes this value takes, as the memory estimate counts them.
    pub fn mem_usage(&self) -> usize {
        0
    }
}
