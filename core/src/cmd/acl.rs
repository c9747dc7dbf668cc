//! The ACL command (Redis's aclCommand in acl.c): users, their rules, the categories and the security log.
//! Users, rules and checks themselves are in `crate::acl`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::connection::help_reply;
use super::Handler;
use crate::acl;
use crate::engine::{Ctx, Engine};
use crate::error::{lossy, Error};
use crate::reply::Reply;
use crate::table::{self, ACL_CATEGORIES};
use crate::util::{eq_ic, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("acl|setuser", setuser),
    ("acl|deluser", deluser),
    ("acl|getuser", getuser),
    ("acl|list", list),
    ("acl|users", users),
    ("acl|whoami", whoami),
    ("acl|cat", cat),
    ("acl|genpass", genpass),
    ("acl|log", log),
    ("acl|dryrun", dryrun),
    ("acl|load", load_or_save),
    ("acl|save", load_or_save),
    ("acl|help", help),
];

/// The subcommand's own argument count check (the table's arity lets more through).
fn syntax(c: &Ctx) -> Reply {
    Error::SubcommandSyntax { sub: lossy(c.arg(1), 128), container: lossy(c.arg(0), usize::MAX).to_ascii_uppercase() }
        .into()
}

/// ACL SETUSER username [rule [rule ...]]
fn setuser(e: &mut Engine, c: &Ctx) -> Reply {
    let rules = c.argv.get(3..).unwrap_or_default();
    match acl::set_user(e, c.client, c.arg(2), rules) {
        Ok(()) => Reply::ok(),
        Err(err) => err.into(),
    }
}

/// ACL DELUSER username [username ...]
fn deluser(e: &mut Engine, c: &Ctx) -> Reply {
    match acl::delete_users(e, c.client, c.argv.get(2..).unwrap_or_default()) {
        Ok(n) => Reply::Integer(n as i64),
        Err(err) => err.into(),
    }
}

/// ACL GETUSER username
fn getuser(e: &mut Engine, c: &Ctx) -> Reply {
    match e.acl.user(c.arg(2)) {
        Some(u) => u.getuser_reply(),
        None => Reply::Nil,
    }
}

/// ACL LIST
fn list(e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Array(
        e.acl
            .users
            .values()
            .map(|u| {
                let mut line = b"user ".to_vec();
                line.extend_from_slice(&u.name);
                line.push(b' ');
                line.extend_from_slice(&u.describe());
                Reply::Bulk(line)
            })
            .collect(),
    )
}

/// ACL USERS
fn users(e: &mut Engine, _c: &Ctx) -> Reply {
    Reply::Array(e.acl.users.keys().map(|name| Reply::bulk(name)).collect())
}

/// ACL WHOAMI
fn whoami(e: &mut Engine, c: &Ctx) -> Reply {
    match e.client(c.client) {
        Some(cl) => Reply::bulk(&cl.user),
        None => Reply::Nil,
    }
}

/// ACL CAT [category]
fn cat(_e: &mut Engine, c: &Ctx) -> Reply {
    match c.argc() {
        2 => Reply::Array(ACL_CATEGORIES.iter().map(|name| Reply::bulk_str(name.get(1..).unwrap_or(name))).collect()),
        3 => {
            let Some(bit) = acl::category_bit(c.arg(2)) else {
                return Error::Other(format!("ERR Unknown category '{}'", lossy(c.arg(2), 128))).into();
            };
            // Every command Redis knows, implemented here or not: the rules can name them all.
            fn walk(cmds: &'static [table::CommandSpec], bit: u32, out: &mut Vec<Reply>) {
                for cmd in cmds {
                    if cmd.acl_bits & bit != 0 {
                        out.push(Reply::bulk_str(cmd.name));
                    }
                    walk(cmd.subcommands, bit, out);
                }
            }
            let mut out = Vec::new();
            walk(table::COMMANDS, bit, &mut out);
            Reply::Array(out)
        }
        _ => syntax(c),
    }
}

/// The most bits ACL GENPASS makes.
const GENPASS_MAX_BITS: i64 = 4096;

/// ACL GENPASS [bits]
fn genpass(e: &mut Engine, c: &Ctx) -> Reply {
    let bits = match c.argc() {
        2 => 256,
        3 => match parse_i64(c.arg(2)) {
            Some(n) => n,
            None => return Error::NotInteger.into(),
        },
        _ => return syntax(c),
    };
    if !(1..=GENPASS_MAX_BITS).contains(&bits) {
        return Error::Other(format!(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to \
             {GENPASS_MAX_BITS}"
        ))
        .into();
    }
    // From the engine's seeded generator, which is no cryptographic one (Redis uses its SHA-256 based generator
    // seeded from /dev/urandom): the engine reads no OS randomness, the host seeds it (`Config::seed`).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let chars = (bits as usize).div_ceil(4);
    let mut out = Vec::with_capacity(chars);
    while out.len() < chars {
        let mut r = e.rng.next_u64();
        for _ in 0..16 {
            if out.len() < chars {
                out.push(HEX[(r & 15) as usize]);
            }
            r >>= 4;
        }
    }
    Reply::Bulk(out)
}

/// ACL LOG [count | RESET]
fn log(e: &mut Engine, c: &Ctx) -> Reply {
    let count = match c.argc() {
        2 => 10,
        3 if eq_ic(c.arg(2), "RESET") => {
            e.acl.log.clear();
            return Reply::ok();
        }
        3 => match parse_i64(c.arg(2)) {
            Some(n) => n.max(0) as usize,
            None => return Error::NotInteger.into(),
        },
        _ => return syntax(c),
    };
    let now = e.now;
    Reply::Array(e.acl.log.iter().take(count).map(|entry| entry.reply(now)).collect())
}

/// ACL DRYRUN username command [arg ...]
fn dryrun(e: &mut Engine, c: &Ctx) -> Reply {
    let Some(user) = e.acl.user(c.arg(2)) else {
        return Error::Other(format!("ERR User '{}' not found", String::from_utf8_lossy(c.arg(2)))).into();
    };
    let argv = c.argv.get(3..).unwrap_or_default();
    // As Redis's lookupCommand: a container followed by a word names that subcommand.
    let name = c.arg(3);
    let spec = core::str::from_utf8(name).ok().map(str::to_ascii_lowercase).and_then(|n| table::lookup(&n)).and_then(
        |top| match argv.get(1) {
            Some(sub) if !top.subcommands.is_empty() => {
                core::str::from_utf8(sub).ok().and_then(|s| top.subcommand(&s.to_ascii_lowercase()))
            }
            _ => Some(top),
        },
    );
    let Some(spec) = spec else {
        return Error::Other(format!("ERR Command '{}' not found", String::from_utf8_lossy(name))).into();
    };
    if !spec.arity_ok(argv.len()) {
        return Error::WrongArity(spec.name.into()).into();
    }
    match acl::dry_run(user, spec, argv) {
        None => Reply::ok(),
        Some(why) => Reply::Bulk(why.into_bytes()),
    }
}

/// ACL LOAD, ACL SAVE: users live in memory only, as in a Redis started without an `aclfile`.
fn load_or_save(_e: &mut Engine, _c: &Ctx) -> Reply {
    Error::other(
        "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the \
         ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) \
         in order to store users in the Redis configuration.",
    )
    .into()
}

/// ACL HELP
fn help(_e: &mut Engine, _c: &Ctx) -> Reply {
    help_reply(&[
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ])
}
