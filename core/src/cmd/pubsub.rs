//! Pub/sub commands (Redis's pubsub.c). The subscription state and the delivery rules are in `crate::pubsub`;
//! a command that confirms several channels pushes all but its last confirmation, which is its reply.

use alloc::vec::Vec;

use super::connection::help_reply;
use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::{lossy, Error};
use crate::glob::string_match;
use crate::pubsub::{self, Confirmations, Kind, Subscribers};
use crate::reply::Reply;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("subscribe", subscribe),
    ("unsubscribe", unsubscribe),
    ("psubscribe", psubscribe),
    ("punsubscribe", punsubscribe),
    ("ssubscribe", ssubscribe),
    ("sunsubscribe", sunsubscribe),
    ("publish", publish),
    ("spublish", spublish),
    ("pubsub|channels", pubsub_channels),
    ("pubsub|numsub", pubsub_numsub),
    ("pubsub|numpat", pubsub_numpat),
    ("pubsub|shardchannels", pubsub_shardchannels),
    ("pubsub|shardnumsub", pubsub_shardnumsub),
    ("pubsub|help", pubsub_help),
];

/// SUBSCRIBE channel [channel ...]
fn subscribe(e: &mut Engine, c: &Ctx) -> Reply {
    subscribe_generic(e, c, Kind::Channel)
}

/// SSUBSCRIBE shardchannel [shardchannel ...]
fn ssubscribe(e: &mut Engine, c: &Ctx) -> Reply {
    subscribe_generic(e, c, Kind::Shard)
}

fn subscribe_generic(e: &mut Engine, c: &Ctx, kind: Kind) -> Reply {
    let mut out = Confirmations::new(c.client);
    for ch in c.argv.iter().skip(1) {
        pubsub::subscribe(e, &mut out, ch, kind);
    }
    out.finish()
}

/// UNSUBSCRIBE [channel [channel ...]]
fn unsubscribe(e: &mut Engine, c: &Ctx) -> Reply {
    unsubscribe_generic(e, c, Kind::Channel)
}

/// SUNSUBSCRIBE [shardchannel [shardchannel ...]]
fn sunsubscribe(e: &mut Engine, c: &Ctx) -> Reply {
    unsubscribe_generic(e, c, Kind::Shard)
}

fn unsubscribe_generic(e: &mut Engine, c: &Ctx, kind: Kind) -> Reply {
    let mut out = Confirmations::new(c.client);
    if c.argc() == 1 {
        pubsub::unsubscribe_all(e, &mut out, kind);
    }
    for ch in c.argv.iter().skip(1) {
        pubsub::unsubscribe(e, &mut out, ch, kind);
    }
    out.finish()
}

/// PSUBSCRIBE pattern [pattern ...]
fn psubscribe(e: &mut Engine, c: &Ctx) -> Reply {
    let mut out = Confirmations::new(c.client);
    for p in c.argv.iter().skip(1) {
        pubsub::psubscribe(e, &mut out, p);
    }
    out.finish()
}

/// PUNSUBSCRIBE [pattern [pattern ...]]
fn punsubscribe(e: &mut Engine, c: &Ctx) -> Reply {
    let mut out = Confirmations::new(c.client);
    if c.argc() == 1 {
        pubsub::punsubscribe_all(e, &mut out);
    }
    for p in c.argv.iter().skip(1) {
        pubsub::punsubscribe(e, &mut out, p);
    }
    out.finish()
}

/// PUBLISH channel message
fn publish(e: &mut Engine, c: &Ctx) -> Reply {
    Reply::Integer(pubsub::publish(e, c.arg(1), c.arg(2), Kind::Channel) as i64)
}

/// SPUBLISH shardchannel message
fn spublish(e: &mut Engine, c: &Ctx) -> Reply {
    Reply::Integer(pubsub::publish(e, c.arg(1), c.arg(2), Kind::Shard) as i64)
}

/// PUBSUB CHANNELS [pattern]
fn pubsub_channels(e: &mut Engine, c: &Ctx) -> Reply {
    channel_list(c, &e.pubsub.channels)
}

/// PUBSUB SHARDCHANNELS [pattern]
fn pubsub_shardchannels(e: &mut Engine, c: &Ctx) -> Reply {
    channel_list(c, &e.pubsub.shard_channels)
}

/// The active channels matching the optional pattern (Redis's channelList).
fn channel_list(c: &Ctx, channels: &Subscribers) -> Reply {
    // The table lets any count from 2 up through; Redis takes at most the pattern.
    if c.argc() > 3 {
        return subcommand_syntax(c);
    }
    let pattern = (c.argc() == 3).then(|| c.arg(2));
    let names = channels
        .iter()
        .map(|(ch, _)| ch)
        .filter(|ch| pattern.is_none_or(|p| string_match(p, ch, false)))
        .map(Reply::bulk)
        .collect();
    Reply::Array(names)
}

/// PUBSUB NUMSUB [channel [channel ...]]
fn pubsub_numsub(e: &mut Engine, c: &Ctx) -> Reply {
    numsub(c, &e.pubsub.channels)
}

/// PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]
fn pubsub_shardnumsub(e: &mut Engine, c: &Ctx) -> Reply {
    numsub(c, &e.pubsub.shard_channels)
}

/// Each named channel with its subscriber count (patterns not counted), in argument order.
fn numsub(c: &Ctx, channels: &Subscribers) -> Reply {
    let mut out = Vec::new();
    for ch in c.argv.iter().skip(2) {
        out.push(Reply::bulk(ch));
        out.push(Reply::Integer(channels.get(ch).map_or(0, Vec::len) as i64));
    }
    Reply::Array(out)
}

/// PUBSUB NUMPAT
fn pubsub_numpat(e: &mut Engine, _c: &Ctx) -> Reply {
    // Distinct patterns with any subscriber (Redis 7.0 counts the dict, not every subscription).
    Reply::Integer(e.pubsub.patterns.len() as i64)
}

/// PUBSUB HELP
fn pubsub_help(_e: &mut Engine, _c: &Ctx) -> Reply {
    help_reply(&[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ])
}

fn subcommand_syntax(c: &Ctx) -> Reply {
    Error::SubcommandSyntax { sub: lossy(c.arg(1), 128), container: lossy(c.arg(0), usize::MAX).to_ascii_uppercase() }.into()
}

#[cfg(test)]
mod tests {
    use crate::{Config, Engine, Reply};

    fn run(e: &mut Engine, c: u64, args: &[&str]) -> Reply {
        let argv: alloc::vec::Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        e.execute(c, &argv, 1_000).unwrap_or(Reply::Nil)
    }

    fn text(r: &Reply) -> alloc::string::String {
        match r {
            Reply::Bulk(b) => alloc::string::String::from_utf8_lossy(b).into_owned(),
            _ => alloc::string::String::new(),
        }
    }

    #[test]
    fn several_confirmations_push_all_but_the_last() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1_000);
        let last = run(&mut e, c, &["SUBSCRIBE", "a", "b", "c"]);
        let pushed: alloc::vec::Vec<_> = e.drain_pushes().into_iter().map(|(id, r)| (id, r.to_resp(2))).collect();
        assert_eq!(
            pushed,
            [
                (c, b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n".to_vec()),
                (c, b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n".to_vec())
            ]
        );
        assert_eq!(last.to_resp(2), b"*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:3\r\n");
    }

    #[test]
    fn client_list_shows_subscriptions() {
        let mut e = Engine::new(Config::default());
        let sub = e.connect(1_000);
        let other = e.connect(1_000);
        run(&mut e, sub, &["SUBSCRIBE", "a", "b"]);
        run(&mut e, sub, &["PSUBSCRIBE", "p*"]);
        run(&mut e, sub, &["SSUBSCRIBE", "s"]);
        let list = text(&run(&mut e, other, &["CLIENT", "LIST", "TYPE", "pubsub"]));
        assert!(list.starts_with(&alloc::format!("id={sub} ")), "{list}");
        assert!(list.contains(" flags=P db=0 sub=2 psub=1 ssub=1 "), "{list}");
        assert_eq!(list.lines().count(), 1);
        let normal = text(&run(&mut e, other, &["CLIENT", "LIST", "TYPE", "normal"]));
        assert!(normal.starts_with(&alloc::format!("id={other} ")) && normal.lines().count() == 1, "{normal}");
        run(&mut e, sub, &["RESET"]);
        assert_eq!(text(&run(&mut e, other, &["CLIENT", "LIST", "TYPE", "pubsub"])), "");
        assert!(e.pubsub.channels.is_empty() && e.pubsub.patterns.is_empty() && e.pubsub.shard_channels.is_empty());
    }
}
