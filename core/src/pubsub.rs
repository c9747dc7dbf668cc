//! Subscription state for pub/sub: who listens to which channel, pattern and shard channel (the data half of
//! Redis's pubsub.c; the commands are in `cmd/pubsub.rs`).
//!
//! How messages reach clients: every confirmation and message is a `Reply::Push` handed to `Engine::push`
//! (an array in RESP2, a `>` push in RESP3, as Redis's addReplyPubsub* functions write them). A command that
//! answers several replies (SUBSCRIBE a b c) pushes all but the last to its own client and returns the last:
//! the pushes a command makes to its own client go on the wire *before* its reply (the server writes them so,
//! and so must any host), which keeps the bytes and their order identical to Redis's. The same rule puts a RESP3
//! client's own PUBLISH message before the receiver count, as Redis 7.0 does.
//!
//! Orders follow Redis 7.0.15 where it has one: a channel's (and a pattern's) subscribers are a list, served in
//! subscription order; a client's patterns are a list, so PUNSUBSCRIBE without arguments goes in subscription
//! order. Where Redis walks a dict (a client's channels for UNSUBSCRIBE without arguments, the server's
//! patterns when a message matches several, PUBSUB CHANNELS) its order depends on a random hash seed; ours is
//! the order of our own hash table (`Dict`: insertion order, a removal moving the last entry into its place).
//! Sorted maps would cost O(n) per new name or a B-tree's code; a server may hold very many channels.

use alloc::vec::Vec;

use crate::dict::Dict;
use crate::engine::{ClientId, Engine};
use crate::glob::string_match;
use crate::reply::Reply;
use crate::vecmap::VecMap;

/// Channel (or pattern) to its subscribers in subscription order.
pub type Subscribers = Dict<Vec<ClientId>>;

/// The hash key of the subscription tables: fixed, as nothing about them depends on the engine's seed.
const SEED: u64 = 0x7075_6273_7562;

/// The engine's subscriptions, both ways: channel to subscribers and client to channels.
#[derive(Clone, Debug)]
pub struct PubSub {
    /// Channel to its subscribers in subscription order (Redis's `server.pubsub_channels`).
    pub channels: Subscribers,
    /// Pattern to its subscribers in subscription order (`server.pubsub_patterns`).
    pub patterns: Subscribers,
    /// Shard channel to its subscribers (`server.pubsubshard_channels`).
    pub shard_channels: Subscribers,
    /// Each subscribed client's side; a client with no subscription left has no entry.
    clients: VecMap<ClientId, ClientSubs>,
}

impl Default for PubSub {
    fn default() -> Self {
        PubSub { channels: Dict::new(SEED), patterns: Dict::new(SEED), shard_channels: Dict::new(SEED), clients: VecMap::new() }
    }
}

/// One client's subscriptions (Redis's `c->pubsub_channels`, `c->pubsub_patterns`, `c->pubsubshard_channels`).
#[derive(Clone, Debug)]
pub struct ClientSubs {
    pub channels: Dict<()>,
    /// A list in Redis 7.0: kept in subscription order.
    pub patterns: Vec<Vec<u8>>,
    pub shard_channels: Dict<()>,
}

impl Default for ClientSubs {
    fn default() -> Self {
        ClientSubs { channels: Dict::new(SEED), patterns: Vec::new(), shard_channels: Dict::new(SEED) }
    }
}

impl ClientSubs {
    fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty()
    }
}

/// Which family of channels a (un)subscription is about: plain channels or shard channels (Redis's pubsubtype).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }

    fn message_word(self) -> &'static str {
        match self {
            Kind::Channel => "message",
            Kind::Shard => "smessage",
        }
    }
}

impl PubSub {
    pub fn client(&self, id: ClientId) -> Option<&ClientSubs> {
        self.clients.get(&id)
    }

    /// Whether the client is in pub/sub mode (Redis's CLIENT_PUBSUB flag): it has any subscription.
    pub fn is_subscribed(&self, id: ClientId) -> bool {
        self.clients.contains_key(&id)
    }

    /// Channels plus patterns, the count (un)subscribe confirmations carry (clientSubscriptionsCount).
    pub fn count(&self, id: ClientId) -> usize {
        self.clients.get(&id).map_or(0, |s| s.channels.len() + s.patterns.len())
    }

    /// Shard channels, the count of SSUBSCRIBE/SUNSUBSCRIBE confirmations.
    pub fn shard_count(&self, id: ClientId) -> usize {
        self.clients.get(&id).map_or(0, |s| s.shard_channels.len())
    }

    fn count_for(&self, id: ClientId, kind: Kind) -> usize {
        match kind {
            Kind::Channel => self.count(id),
            Kind::Shard => self.shard_count(id),
        }
    }

    fn server_map(&mut self, kind: Kind) -> &mut Subscribers {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// Subscribes a client to a channel; false when it already was.
    pub fn subscribe(&mut self, id: ClientId, channel: &[u8], kind: Kind) -> bool {
        let subs = self.clients.entry(id).or_default();
        let mine = match kind {
            Kind::Channel => &mut subs.channels,
            Kind::Shard => &mut subs.shard_channels,
        };
        if mine.insert(channel.to_vec(), ()).is_some() {
            return false;
        }
        add_subscriber(self.server_map(kind), channel, id);
        true
    }

    /// Unsubscribes a client from a channel; false when it was not subscribed.
    pub fn unsubscribe(&mut self, id: ClientId, channel: &[u8], kind: Kind) -> bool {
        let Some(subs) = self.clients.get_mut(&id) else { return false };
        let mine = match kind {
            Kind::Channel => &mut subs.channels,
            Kind::Shard => &mut subs.shard_channels,
        };
        if mine.remove(channel).is_none() {
            return false;
        }
        if subs.is_empty() {
            self.clients.remove(&id);
        }
        remove_subscriber(self.server_map(kind), channel, id);
        true
    }

    /// Subscribes a client to a pattern; false when it already was.
    pub fn psubscribe(&mut self, id: ClientId, pattern: &[u8]) -> bool {
        let subs = self.clients.entry(id).or_default();
        if subs.patterns.iter().any(|p| p == pattern) {
            return false;
        }
        subs.patterns.push(pattern.to_vec());
        add_subscriber(&mut self.patterns, pattern, id);
        true
    }

    /// Unsubscribes a client from a pattern; false when it was not subscribed.
    pub fn punsubscribe(&mut self, id: ClientId, pattern: &[u8]) -> bool {
        let Some(subs) = self.clients.get_mut(&id) else { return false };
        let Some(i) = subs.patterns.iter().position(|p| p == pattern) else { return false };
        subs.patterns.remove(i);
        if subs.is_empty() {
            self.clients.remove(&id);
        }
        remove_subscriber(&mut self.patterns, pattern, id);
        true
    }

    /// Drops every subscription of a client without telling it (a disconnect, RESET).
    pub fn remove_client(&mut self, id: ClientId) {
        let Some(subs) = self.clients.remove(&id) else { return };
        for (ch, ()) in subs.channels.iter() {
            remove_subscriber(&mut self.channels, ch, id);
        }
        for (ch, ()) in subs.shard_channels.iter() {
            remove_subscriber(&mut self.shard_channels, ch, id);
        }
        for p in &subs.patterns {
            remove_subscriber(&mut self.patterns, p, id);
        }
    }
}

/// Adds a client to a channel's subscribers, creating the channel.
fn add_subscriber(map: &mut Subscribers, name: &[u8], id: ClientId) {
    match map.get_mut(name) {
        Some(list) => list.push(id),
        None => {
            map.insert(name.to_vec(), alloc::vec![id]);
        }
    }
}

/// Takes a client off a channel's subscribers, forgetting the channel when nobody is left (as Redis frees it).
fn remove_subscriber(map: &mut Subscribers, name: &[u8], id: ClientId) {
    if let Some(list) = map.get_mut(name) {
        list.retain(|&c| c != id);
        if list.is_empty() {
            map.remove(name);
        }
    }
}

/// A confirmation: `[subscribe, channel, count]` and its kin; `None` is the nil channel of an unsubscribe-all
/// from nothing.
fn confirmation(word: &str, name: Option<&[u8]>, count: usize) -> Reply {
    Reply::Push(alloc::vec![
        Reply::bulk_str(word),
        name.map_or(Reply::Nil, Reply::bulk),
        Reply::Integer(count as i64),
    ])
}

/// Collects a command's confirmations: all but the last are pushed to the client, the last is the reply
/// (see the module doc for why the last).
pub struct Confirmations {
    client: ClientId,
    last: Option<Reply>,
}

impl Confirmations {
    pub fn new(client: ClientId) -> Confirmations {
        Confirmations { client, last: None }
    }

    fn add(&mut self, e: &mut Engine, reply: Reply) {
        if let Some(prev) = self.last.replace(reply) {
            e.push(self.client, prev);
        }
    }

    pub fn finish(self) -> Reply {
        // Every caller adds at least one confirmation; an empty array stands in for the impossible case.
        self.last.unwrap_or(Reply::Array(Vec::new()))
    }
}

/// SUBSCRIBE/SSUBSCRIBE one channel and confirm it.
pub fn subscribe(e: &mut Engine, out: &mut Confirmations, channel: &[u8], kind: Kind) {
    let id = out.client;
    e.pubsub.subscribe(id, channel, kind);
    let count = e.pubsub.count_for(id, kind);
    out.add(e, confirmation(kind.subscribe_word(), Some(channel), count));
}

/// UNSUBSCRIBE/SUNSUBSCRIBE one channel and confirm it (confirmed even when the client was not subscribed).
pub fn unsubscribe(e: &mut Engine, out: &mut Confirmations, channel: &[u8], kind: Kind) {
    let id = out.client;
    e.pubsub.unsubscribe(id, channel, kind);
    let count = e.pubsub.count_for(id, kind);
    out.add(e, confirmation(kind.unsubscribe_word(), Some(channel), count));
}

/// UNSUBSCRIBE/SUNSUBSCRIBE without arguments: every channel, or one nil confirmation when there was none.
pub fn unsubscribe_all(e: &mut Engine, out: &mut Confirmations, kind: Kind) {
    let id = out.client;
    let mine: Vec<Vec<u8>> = match (e.pubsub.client(id), kind) {
        (Some(s), Kind::Channel) => s.channels.iter().map(|(ch, ())| ch.to_vec()).collect(),
        (Some(s), Kind::Shard) => s.shard_channels.iter().map(|(ch, ())| ch.to_vec()).collect(),
        (None, _) => Vec::new(),
    };
    if mine.is_empty() {
        let count = e.pubsub.count_for(id, kind);
        out.add(e, confirmation(kind.unsubscribe_word(), None, count));
    }
    for ch in mine {
        unsubscribe(e, out, &ch, kind);
    }
}

/// PSUBSCRIBE one pattern and confirm it.
pub fn psubscribe(e: &mut Engine, out: &mut Confirmations, pattern: &[u8]) {
    let id = out.client;
    e.pubsub.psubscribe(id, pattern);
    let count = e.pubsub.count(id);
    out.add(e, confirmation("psubscribe", Some(pattern), count));
}

/// PUNSUBSCRIBE one pattern and confirm it.
pub fn punsubscribe(e: &mut Engine, out: &mut Confirmations, pattern: &[u8]) {
    let id = out.client;
    e.pubsub.punsubscribe(id, pattern);
    let count = e.pubsub.count(id);
    out.add(e, confirmation("punsubscribe", Some(pattern), count));
}

/// PUNSUBSCRIBE without arguments: every pattern in subscription order, or one nil confirmation.
pub fn punsubscribe_all(e: &mut Engine, out: &mut Confirmations) {
    let id = out.client;
    let mine: Vec<Vec<u8>> = e.pubsub.client(id).map(|s| s.patterns.clone()).unwrap_or_default();
    if mine.is_empty() {
        let count = e.pubsub.count(id);
        out.add(e, confirmation("punsubscribe", None, count));
    }
    for p in mine {
        punsubscribe(e, out, &p);
    }
}

/// Delivers a message to a channel's subscribers, then (plain channels only) to the clients of every matching
/// pattern; answers how many deliveries were made (PUBLISH's reply). Keyspace notifications publish through
/// here too.
pub fn publish(e: &mut Engine, channel: &[u8], message: &[u8], kind: Kind) -> usize {
    let mut deliveries: Vec<(ClientId, Reply)> = Vec::new();
    let server = match kind {
        Kind::Channel => &e.pubsub.channels,
        Kind::Shard => &e.pubsub.shard_channels,
    };
    if let Some(subscribers) = server.get(channel) {
        for &c in subscribers {
            let msg = alloc::vec![Reply::bulk_str(kind.message_word()), Reply::bulk(channel), Reply::bulk(message)];
            deliveries.push((c, Reply::Push(msg)));
        }
    }
    if kind == Kind::Channel {
        for (pattern, subscribers) in e.pubsub.patterns.iter() {
            if !string_match(pattern, channel, false) {
                continue;
            }
            for &c in subscribers {
                let msg = alloc::vec![
                    Reply::bulk_str("pmessage"),
                    Reply::bulk(pattern),
                    Reply::bulk(channel),
                    Reply::bulk(message),
                ];
                deliveries.push((c, Reply::Push(msg)));
            }
        }
    }
    let receivers = deliveries.len();
    for (c, msg) in deliveries {
        e.push(c, msg);
    }
    receivers
}

/// The commands a RESP2 client in pub/sub mode may still run (Redis's processCommand check).
const ALLOWED_WHEN_SUBSCRIBED: &[&str] =
    &["ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset"];

/// Refuses a command a RESP2 client in pub/sub mode may not run; `full_name` is the command's (`client|list`).
/// RESP3 clients have no restriction: their pushes cannot be confused with replies.
#[inline]
pub fn check_subscribed_context(e: &Engine, client: ClientId, resp: u8, full_name: &str) -> Result<(), crate::error::Error> {
    // Inlined into every command: a RESP3 client, or nobody subscribed, is one test.
    if resp != 2 || e.pubsub.clients.is_empty() {
        return Ok(());
    }
    refuse_when_subscribed(e, client, full_name)
}

fn refuse_when_subscribed(e: &Engine, client: ClientId, full_name: &str) -> Result<(), crate::error::Error> {
    if !e.pubsub.is_subscribed(client) || ALLOWED_WHEN_SUBSCRIBED.contains(&full_name) {
        return Ok(());
    }
    Err(crate::error::Error::Other(alloc::format!(
        "ERR Can't execute '{full_name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_stay_in_step() {
        let mut p = PubSub::default();
        assert!(p.subscribe(1, b"a", Kind::Channel));
        assert!(!p.subscribe(1, b"a", Kind::Channel));
        assert!(p.subscribe(2, b"a", Kind::Channel));
        assert!(p.psubscribe(1, b"a*"));
        assert_eq!(p.count(1), 2);
        assert_eq!(p.channels.get(b"a".as_slice()).map(Vec::len), Some(2));
        p.remove_client(1);
        assert!(!p.is_subscribed(1));
        assert!(p.patterns.is_empty());
        assert_eq!(p.channels.get(b"a".as_slice()).map(Vec::as_slice), Some([2u64].as_slice()));
        assert!(p.unsubscribe(2, b"a", Kind::Channel));
        assert!(p.channels.is_empty() && !p.is_subscribed(2));
    }
}
