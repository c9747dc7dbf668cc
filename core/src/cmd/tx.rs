//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's multi.c). The state they act on, and how
//! commands are queued and watched keys signalled, is in `crate::multi`.

use alloc::vec::Vec;

use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::Error;
use crate::multi::{self, Transaction, Watcher};
use crate::reply::Reply;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("multi", multi_cmd),
    ("exec", exec),
    ("discard", discard),
    ("watch", watch),
    ("unwatch", unwatch),
];

/// MULTI
fn multi_cmd(e: &mut Engine, c: &Ctx) -> Reply {
    if e.multi.in_multi(c.client) {
        return Error::other("ERR MULTI calls can not be nested").into();
    }
    e.multi.transactions.insert(c.client, Transaction::default());
    Reply::ok()
}

/// EXEC
fn exec(e: &mut Engine, c: &Ctx) -> Reply {
    let client = c.client;
    let Some(tx) = e.multi.transactions.get_mut(&client) else {
        return Error::other("ERR EXEC without MULTI").into();
    };
    // A command refused while queueing wins over a watched key's change.
    if tx.dirty_exec {
        multi::discard(e, client);
        return Error::other("EXECABORT Transaction discarded because of previous errors.").into();
    }
    if multi::is_dirty(e, client) || multi::watched_key_expired(e, client) {
        multi::discard(e, client);
        return Reply::NilArray;
    }
    multi::unwatch_all(e, client);
    // The transaction stays open while its commands run (CLIENT LIST shows it) but no longer queues.
    let queued = match e.multi.transactions.get_mut(&client) {
        Some(tx) => {
            tx.executing = true;
            core::mem::take(&mut tx.queued)
        }
        None => Vec::new(),
    };
    // Blocking commands answer at once inside a transaction, as if they had timed out.
    let deny = core::mem::replace(&mut e.blocking.deny, true);
    let mut replies = Vec::with_capacity(queued.len());
    for q in &queued {
        let argv: Vec<&[u8]> = q.argv.iter().map(|a| a.as_slice()).collect();
        // SELECT inside the transaction moves the commands after it.
        let db = e.client(client).map_or(0, |cl| cl.db);
        // The ACL rules may have changed since the command was queued: it is checked again (Redis's execCommand).
        if let Err(reply) = crate::acl::recheck_queued(e, &crate::engine::Ctx { argv: &argv, client, db, spec: q.spec }) {
            e.stats.count_error(&reply);
            replies.push(reply);
            continue;
        }
        replies.push(e.call(client, db, &argv, q.spec, q.handler));
    }
    e.blocking.deny = deny;
    e.multi.transactions.remove(&client);
    Reply::Array(replies)
}

/// DISCARD
fn discard(e: &mut Engine, c: &Ctx) -> Reply {
    if !e.multi.in_multi(c.client) {
        return Error::other("ERR DISCARD without MULTI").into();
    }
    multi::discard(e, c.client);
    Reply::ok()
}

/// WATCH key [key ...]
fn watch(e: &mut Engine, c: &Ctx) -> Reply {
    if e.multi.in_multi(c.client) {
        return Error::other("ERR WATCH inside MULTI is not allowed").into();
    }
    let now = e.now;
    for key in c.argv.iter().skip(1) {
        let list = e.multi.watching.entry(c.client).or_default();
        if list.iter().any(|(dbi, k)| *dbi == c.db && k.as_slice() == *key) {
            continue;
        }
        list.push((c.db, key.to_vec()));
        // A key already past its time when watched is logically missing: its deletion will be no change.
        let expired = e.db(c.db).is_expired(key, now);
        e.db_mut(c.db).watched_keys.entry(key.to_vec()).or_default().push(Watcher {
            client: c.client,
            expired,
            touched: false,
        });
    }
    Reply::ok()
}

/// UNWATCH
fn unwatch(e: &mut Engine, c: &Ctx) -> Reply {
    multi::unwatch_all(e, c.client);
    Reply::ok()
}
