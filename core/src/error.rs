//! Every error a command can answer, each displaying as Redis 7.0's exact reply text (without the leading `-`).

use alloc::string::String;
use core::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    WrongType,
    NotInteger,
    NotFloat,
    Syntax,
    Overflow,
    IncrNanOrInf,
    NoSuchKey,
    DbIndexOutOfRange,
    /// MOVE or COPY onto the very key they read from.
    SameObject,
    /// A SCAN-family cursor that is not an unsigned decimal number.
    InvalidCursor,
    StringTooLong,
    /// `ERR invalid expire time in '<cmd>' command`.
    InvalidExpireTime(&'static str),
    /// `ERR wrong number of arguments for '<fullname>' command`.
    WrongArity(String),
    /// `ERR unknown command '<name>', with args beginning with: '<a>' ...`; the text is built by `Error::unknown_command`.
    UnknownCommand(String),
    /// `ERR unknown subcommand '<sub>'. Try <CONTAINER> HELP.`
    UnknownSubcommand { sub: String, container: String },
    /// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CONTAINER> HELP.`
    SubcommandSyntax { sub: String, container: String },
    NoProto,
    /// `NOAUTH Authentication required.`: a password is set and the client has not authenticated.
    NoAuth,
    /// `WRONGPASS invalid username-password pair or user is disabled.`
    WrongPass,
    /// `NOPERM this user has no permissions to run the '<fullname>' command`: the ACL denies the command.
    NoPermCommand(&'static str),
    /// The ACL denies a key the command names.
    NoPermKey,
    /// The ACL denies a channel the command names.
    NoPermChannel,
    /// A string that is not a HyperLogLog where PFADD, PFCOUNT, PFMERGE or PFDEBUG need one.
    NotHll,
    /// A HyperLogLog whose sparse registers do not add up (a value edited by hand).
    CorruptHll,
    /// `OOM command not allowed when used memory > 'maxmemory'.`: memory is over `maxmemory` and eviction
    /// cannot free any (a `denyoom` command, or a command queued in MULTI, is refused).
    Oom,
    /// An error with no variant of its own yet: the full text, prefix included (`ERR ...`).
    Other(String),
}

impl Error {
    /// Redis quotes at most 128 bytes of the name and up to ~128 bytes of arguments.
    pub fn unknown_command(argv: &[&[u8]]) -> Error {
        let name = argv.first().map(|n| lossy(n, 128)).unwrap_or_default();
        let mut args = String::new();
        for a in argv.iter().skip(1) {
            if args.len() >= 128 {
                break;
            }
            let room = 128 - args.len();
            args.push('\'');
            args.push_str(&lossy(a, room));
            args.push_str("' ");
        }
        Error::UnknownCommand(alloc::format!("unknown command '{name}', with args beginning with: {args}"))
    }

    pub fn other(text: &str) -> Error {
        Error::Other(text.into())
    }
}

/// The first `max` bytes of `b` as text (Redis prints raw bytes; invalid UTF-8 is replaced for display).
pub fn lossy(b: &[u8], max: usize) -> String {
    let b = b.get(..max.min(b.len())).unwrap_or(b);
    String::from_utf8_lossy(b).into_owned()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WrongType => f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value"),
            Error::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            Error::NotFloat => f.write_str("ERR value is not a valid float"),
            Error::Syntax => f.write_str("ERR syntax error"),
            Error::Overflow => f.write_str("ERR increment or decrement would overflow"),
            Error::IncrNanOrInf => f.write_str("ERR increment would produce NaN or Infinity"),
            Error::NoSuchKey => f.write_str("ERR no such key"),
            Error::DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            Error::SameObject => f.write_str("ERR source and destination objects are the same"),
            Error::InvalidCursor => f.write_str("ERR invalid cursor"),
            Error::StringTooLong => f.write_str("ERR string exceeds maximum allowed size (proto-max-bulk-len)"),
            Error::InvalidExpireTime(cmd) => write!(f, "ERR invalid expire time in '{cmd}' command"),
            Error::WrongArity(name) => write!(f, "ERR wrong number of arguments for '{name}' command"),
            Error::UnknownCommand(text) => write!(f, "ERR {text}"),
            Error::UnknownSubcommand { sub, container } => {
                write!(f, "ERR unknown subcommand '{sub}'. Try {container} HELP.")
            }
            Error::SubcommandSyntax { sub, container } => write!(
                f,
                "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP."
            ),
            Error::NoProto => f.write_str("NOPROTO unsupported protocol version"),
            Error::NoAuth => f.write_str("NOAUTH Authentication required."),
            Error::WrongPass => f.write_str("WRONGPASS invalid username-password pair or user is disabled."),
            Error::NoPermCommand(name) => write!(f, "NOPERM this user has no permissions to run the '{name}' command"),
            Error::NoPermKey => f.write_str("NOPERM this user has no permissions to access one of the keys used as arguments"),
            Error::NoPermChannel => {
                f.write_str("NOPERM this user has no permissions to access one of the channels used as arguments")
            }
            Error::NotHll => f.write_str("WRONGTYPE Key is not a valid HyperLogLog string value."),
            Error::CorruptHll => f.write_str("INVALIDOBJ Corrupted HLL object detected"),
            Error::Oom => f.write_str("OOM command not allowed when used memory > 'maxmemory'."),
            Error::Other(text) => f.write_str(text),
        }
    }
}
