// TEMPORARY: stands in for redlet_core::resp until the parser lands on main. Not a parser.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    pub max_bulk_len: u64,
}
#[derive(Debug)]
pub struct ProtoError(pub String);
impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}
pub fn parse_command(_buf: &[u8], _l: &Limits) -> Result<Option<(Vec<Vec<u8>>, usize)>, ProtoError> {
    Err(ProtoError("parser not merged yet".into()))
}
