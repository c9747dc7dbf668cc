// TEMPORARY: the shape of redlet_core::resp until the parser lands on main. Not a parser.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub proto_max_bulk_len: i64,
    pub max_multibulk_len: i64,
    pub auth_required: bool,
}
impl Default for Limits {
    fn default() -> Limits {
        Limits { proto_max_bulk_len: 512 * 1024 * 1024, max_multibulk_len: i32::MAX as i64, auth_required: false }
    }
}
#[derive(Debug)]
pub struct ProtoError;
impl ProtoError {
    pub fn reply_bytes(&self) -> Vec<u8> {
        b"-ERR Protocol error: parser not merged yet\r\n".to_vec()
    }
}
pub type Parsed = (Vec<Vec<u8>>, usize);
pub fn parse_command(_buf: &[u8], l: &Limits) -> Result<Option<Parsed>, ProtoError> {
    let _ = (l.proto_max_bulk_len, l.max_multibulk_len, l.auth_required);
    Err(ProtoError)
}
