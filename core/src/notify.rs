//! Keyspace notifications (Redis's notify.c) and the engine's own log of the same events for visualizers.
//!
//! A command that changes a key calls `notify` with the event's class (a `notify-keyspace-events` bit) and
//! Redis's event name, right where Redis's command calls `notifyKeyspaceEvent`, so several events of one
//! command come out in Redis's order. `notify` does two independent things:
//! - when the class is enabled in `notify-keyspace-events`, it publishes `__keyspace@<db>__:<key>` → event
//!   (class `K`) and `__keyevent@<db>__:<event>` → key (class `E`) through `pubsub::publish`;
//! - when a host turned capture on (`Engine::capture_events`), it appends a `KeyEvent` to the log that
//!   `Engine::drain_events` hands out, whatever the configuration says.
//!
//! Three kinds of events come from outside the command files: `keymiss` from the read lookups
//! (`Engine::lookup_read`), `expired` from lazy and active expiry (`Engine::delete_expired`), and `new`, fired
//! by Redis's dbAdd whenever a key is added. `Db::set` cannot publish, so while `new` events are wanted it
//! records the keys it adds (`Db::new_keys`); they are published before the next event and at the end of the
//! command (`flush_new`), which is exactly where dbAdd would have published them. Both hooks cost one flag test
//! when nothing listens, so the server and the benchmarks pay nothing for them.

use alloc::vec::Vec;

use crate::engine::Engine;
use crate::pubsub::{self, Kind};

pub use crate::config::notify::*;

/// One keyspace event: what changed, where, as Redis names it (`set`, `lpush`, `expired`, `del`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    pub db: usize,
    pub event: &'static str,
    pub key: Vec<u8>,
    /// The event's class, one of the `notify-keyspace-events` bits (`GENERIC`, `LIST`, `KEY_MISS`, ...), so a
    /// host can leave out key misses or new-key events.
    pub class: u32,
}

/// The engine's side of events: the capture switch and log, and whether new keys are being recorded.
#[derive(Clone, Debug, Default)]
pub struct Events {
    /// Whether events are logged for `Engine::drain_events` (off unless a host asks).
    pub capture: bool,
    pub log: Vec<KeyEvent>,
    /// Whether every database records the keys it adds, for `new` events (see the module doc).
    track_new: bool,
}

/// Fires a keyspace event (Redis's notifyKeyspaceEvent): publishes it when its class is enabled and logs it
/// when capture is on.
#[inline]
pub fn notify(e: &mut Engine, class: u32, event: &'static str, key: &[u8], db: usize) {
    // Keys added earlier in the command were added before this event happened.
    if e.events.track_new {
        flush_new(e);
    }
    // The common case, nobody listening, costs these two tests.
    if e.events.capture || e.config.notify_keyspace_events & class != 0 {
        emit(e, class, event, key, db);
    }
}

/// A key removed by eviction (Redis's `evicted` event, class `e`), for the eviction code to call after it
/// deleted the key.
pub fn evicted(e: &mut Engine, db: usize, key: &[u8]) {
    notify(e, EVICTED, "evicted", key, db);
}

fn emit(e: &mut Engine, class: u32, event: &'static str, key: &[u8], db: usize) {
    let flags = e.config.notify_keyspace_events;
    if e.events.capture {
        e.events.log.push(KeyEvent { db, event, key: key.to_vec(), class });
    }
    if flags & class == 0 {
        return;
    }
    // Client-side caching hears of a change before its event is published, as Redis signals first; a `new`
    // event comes first in Redis (dbAdd publishes it before the command signals the key).
    if e.tracking.on && class != NEW {
        crate::tracking::notified(e, db, key);
    }
    if flags & KEYSPACE != 0 {
        let mut channel = alloc::format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        pubsub::publish(e, &channel, event.as_bytes(), Kind::Channel);
    }
    if flags & KEYEVENT != 0 {
        let channel = alloc::format!("__keyevent@{db}__:{event}");
        pubsub::publish(e, channel.as_bytes(), key, Kind::Channel);
    }
}

/// Before each command: turns the recording of added keys on or off in every database, as `new` events are
/// wanted (by the configuration or by capture) or not.
#[inline]
pub(crate) fn prepare(e: &mut Engine) {
    let want = e.events.capture || e.config.notify_keyspace_events & NEW != 0;
    if want != e.events.track_new {
        e.events.track_new = want;
        for db in &mut e.dbs {
            db.track_new = want;
            db.new_keys.clear();
        }
    }
}

/// Publishes the `new` events of the keys added since the last event, oldest first.
#[inline]
pub(crate) fn flush_new(e: &mut Engine) {
    // Inlined after every command: without `new` events wanted this is one test.
    if e.events.track_new {
        publish_new(e);
    }
}

fn publish_new(e: &mut Engine) {
    for dbi in 0..e.dbs.len() {
        let Some(db) = e.dbs.get_mut(dbi) else { continue };
        if db.new_keys.is_empty() {
            continue;
        }
        let added = core::mem::take(&mut db.new_keys);
        for key in added {
            emit(e, NEW, "new", &key, dbi);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::reply::Reply;
    use alloc::string::String;

    fn names(events: &[KeyEvent]) -> Vec<String> {
        events.iter().map(|ev| alloc::format!("{} {}", ev.event, String::from_utf8_lossy(&ev.key))).collect()
    }

    #[test]
    fn nothing_is_captured_unless_asked() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1);
        e.run_line(c, "SET a 1", 1);
        assert!(e.drain_events().is_empty());
        assert!(e.dbs.iter().all(|db| !db.track_new && db.new_keys.is_empty()));
    }

    #[test]
    fn drain_events_gives_redis_events_in_order_once() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1);
        e.capture_events(true);
        e.run_line(c, "RPUSH src a", 1);
        e.run_line(c, "LMOVE src dst LEFT RIGHT", 1);
        e.run_line(c, "GET missing", 1);
        let events = e.drain_events();
        assert_eq!(
            names(&events),
            ["new src", "rpush src", "new dst", "rpush dst", "lpop src", "del src", "keymiss missing"]
        );
        let classes: Vec<u32> = events.iter().map(|ev| ev.class).collect();
        assert_eq!(classes, [NEW, LIST, NEW, LIST, LIST, GENERIC, KEY_MISS]);
        assert!(e.drain_events().is_empty(), "a drain empties the log");
        // Other databases carry their index.
        e.run_line(c, "SELECT 2", 1);
        e.run_line(c, "SET k v", 1);
        e.run_line(c, "MOVE k 0", 1);
        let events = e.drain_events();
        let dbs: Vec<(usize, &str)> = events.iter().map(|ev| (ev.db, ev.event)).collect();
        assert_eq!(dbs, [(2, "new"), (2, "set"), (0, "new"), (2, "move_from"), (0, "move_to")]);
    }

    #[test]
    fn expiry_from_tick_and_lookups_is_captured() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1);
        e.capture_events(true);
        e.run_line(c, "SET a 1 PX 10", 1);
        e.run_line(c, "SET b 1 PX 10", 1);
        e.drain_events();
        e.run_line(c, "GET a", 100);
        assert_eq!(names(&e.drain_events()), ["expired a", "keymiss a"]);
        e.tick(100);
        assert_eq!(names(&e.drain_events()), ["expired b"]);
    }

    #[test]
    fn turning_capture_off_drops_the_log_and_stops_recording_new_keys() {
        let mut e = Engine::new(Config::default());
        let c = e.connect(1);
        e.capture_events(true);
        e.run_line(c, "SET a 1", 1);
        e.capture_events(false);
        assert!(e.drain_events().is_empty());
        e.run_line(c, "SET b 1", 1);
        assert!(e.dbs.iter().all(|db| !db.track_new && db.new_keys.is_empty()));
        assert!(e.drain_events().is_empty());
    }

    #[test]
    fn notifications_publish_to_both_channels_when_enabled() {
        let mut e = Engine::new(Config::default());
        let (writer, listener) = (e.connect(1), e.connect(1));
        e.run_line(listener, "PSUBSCRIBE *", 1);
        e.run_line(writer, "CONFIG SET notify-keyspace-events KEl", 1);
        e.drain_pushes();
        // A string event is not in the enabled classes; the list events are, on both channels.
        e.run_line(writer, "SET s v", 1);
        e.run_line(writer, "LPUSH l x", 1);
        let channels: Vec<Reply> = e
            .drain_pushes()
            .into_iter()
            .filter_map(|(_, r)| match r {
                Reply::Push(items) => items.get(2).cloned(),
                _ => None,
            })
            .collect();
        assert_eq!(channels, [Reply::bulk_str("__keyspace@0__:l"), Reply::bulk_str("__keyevent@0__:lpush")]);
        // Capture is independent of the configuration: it sees the string event too.
        e.capture_events(true);
        e.run_line(writer, "SET s w", 1);
        assert_eq!(names(&e.drain_events()), ["set s"]);
    }

    #[test]
    fn evicted_is_an_event_of_its_class() {
        let mut e = Engine::new(Config::default());
        e.capture_events(true);
        evicted(&mut e, 3, b"k");
        let events = e.drain_events();
        assert_eq!(events, [KeyEvent { db: 3, event: "evicted", key: b"k".to_vec(), class: EVICTED }]);
    }
}
