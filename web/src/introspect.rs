//! What visualizers read from the engine without running a command: a page of keys with their type, TTL and
//! memory, and one key's value as a structure to draw.
//!
//! Plain Rust over the engine's data, so it is tested natively; `interop` turns the results into JS values.
//! Reading here never changes anything: no lazy expiry, no access time, no keyspace hit or miss. A key whose
//! time has passed but that expiry has not removed yet is left out, as every command would see it gone.

use redlet_core::glob::{matches_everything, string_match};
use redlet_core::types::hll;
use redlet_core::types::stream::StreamId;
use redlet_core::util::parse_i64;
use redlet_core::value::{key_mem_usage, Entry, Value};
use redlet_core::{Engine, Error};

/// One key as a key browser lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyInfo {
    pub key: Vec<u8>,
    /// What TYPE replies.
    pub type_name: &'static str,
    /// What OBJECT ENCODING replies.
    pub encoding: &'static str,
    /// Milliseconds left (what PTTL replies), or -1 without an expiry.
    pub ttl_ms: i64,
    /// Absolute expiry in unix ms.
    pub expires_at: Option<u64>,
    /// Bytes the engine counts for the key and its value (what MEMORY USAGE replies).
    pub memory: usize,
}

/// One step of a key scan: the keys found and the cursor to continue from (0 when the scan is complete).
#[derive(Clone, Debug, PartialEq)]
pub struct KeysPage {
    pub cursor: u64,
    pub keys: Vec<KeyInfo>,
}

/// A key's value as a structure suited to drawing.
///
/// Collections carry `len`, the number of elements the key holds; their element vectors hold at most the limit
/// given to [`inspect_limited`] (all of them through [`inspect`]), from the head or the lowest rank.
#[derive(Clone, Debug, PartialEq)]
pub enum View {
    /// A string, with the integer it holds when it is one (what INCR would work on), and the estimate when it is a
    /// HyperLogLog (what PFCOUNT would reply, computed without PFCOUNT's cache write).
    Str { bytes: Vec<u8>, int: Option<i64>, hll: Option<u64> },
    /// A list's elements from the head (index 0) to the tail.
    List { items: Vec<Vec<u8>>, len: usize },
    /// A set's members in the set's own order (ascending for an intset).
    Set { members: Vec<Vec<u8>>, len: usize },
    /// A hash's fields and values in the hash's own order.
    Hash { fields: Vec<(Vec<u8>, Vec<u8>)>, len: usize },
    /// A sorted set's members by rank (index = ZRANK), with their scores.
    ZSet { members: Vec<(Vec<u8>, f64)>, len: usize },
    /// A stream's entries from the oldest, and its consumer groups.
    Stream { entries: Vec<StreamEntry>, len: usize, last_id: String, groups: Vec<GroupView> },
}

/// One stream entry: its ID as XRANGE shows it and its field-value pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamEntry {
    pub id: String,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A consumer group as XINFO GROUPS and XPENDING describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupView {
    pub name: Vec<u8>,
    pub last_delivered_id: String,
    /// Consumers with the number of entries each has pending.
    pub consumers: Vec<(Vec<u8>, usize)>,
    /// Pending entries (delivered, not acknowledged): ID, consumer, delivery count.
    pub pending: Vec<(String, Vec<u8>, u64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    pub info: KeyInfo,
    pub view: View,
}

/// The scan's arguments, as SCAN takes them.
#[derive(Clone, Debug)]
pub struct ScanArgs {
    pub db: usize,
    pub pattern: Option<Vec<u8>>,
    pub cursor: u64,
    pub count: usize,
}

/// Walks the keyspace as SCAN does (Redis's reverse-binary cursor over the table's buckets, at most `count * 10`
/// buckets per call, stopping once `count` keys were found), so a visualizer can page through millions of keys.
pub fn scan(engine: &Engine, args: &ScanArgs, now: u64) -> Result<KeysPage, Error> {
    let db = engine.dbs.get(args.db).ok_or(Error::DbIndexOutOfRange)?;
    if args.count == 0 {
        // What SCAN says to COUNT 0.
        return Err(Error::Syntax);
    }
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut cursor = args.cursor;
    let mut budget = args.count.saturating_mul(10);
    loop {
        cursor = db.keys.scan(cursor, |k, _| found.push(k.to_vec()));
        budget -= 1;
        if cursor == 0 || budget == 0 || found.len() >= args.count {
            break;
        }
    }
    let all = match args.pattern.as_deref() {
        None => true,
        Some(p) => matches_everything(p),
    };
    let keys = found
        .into_iter()
        .filter(|k| all || args.pattern.as_deref().is_some_and(|p| string_match(p, k, false)))
        .filter_map(|k| key_info(engine, args.db, &k, now))
        .collect();
    Ok(KeysPage { cursor, keys })
}

/// Every live key of a database whose name matches `pattern` (a glob; `None` for all) and whose type is `kind`
/// (`None` for every type), in no particular order. One pass over the keys as they are stored, without SCAN's
/// cursor walk or a second lookup per key: the key browser reads 100,000 keys this way in a few milliseconds.
pub fn all_keys(engine: &Engine, dbi: usize, pattern: Option<&[u8]>, kind: Option<&str>, now: u64) -> Vec<KeyInfo> {
    let Some(db) = engine.dbs.get(dbi) else { return Vec::new() };
    let all = pattern.is_none_or(matches_everything);
    let volatile = !db.expires.is_empty();
    db.keys
        .iter()
        .filter(|(k, entry)| {
            kind.is_none_or(|t| entry.value.type_name() == t) && (all || pattern.is_some_and(|p| string_match(p, k, false)))
        })
        .filter_map(|(k, entry)| {
            let expires_at = if volatile { db.expires.get(k).copied() } else { None };
            match expires_at {
                Some(at) if at < now => None,
                _ => Some(info_of(k, entry, expires_at, now)),
            }
        })
        .collect()
}

/// One key's details, `None` when it does not exist (or its time has passed).
pub fn key_info(engine: &Engine, dbi: usize, key: &[u8], now: u64) -> Option<KeyInfo> {
    let (entry, expires_at) = live_entry(engine, dbi, key, now)?;
    Some(info_of(key, entry, expires_at, now))
}

/// A key's value and details, `None` when it does not exist.
pub fn inspect(engine: &Engine, dbi: usize, key: &[u8], now: u64) -> Option<Inspection> {
    inspect_limited(engine, dbi, key, now, usize::MAX)
}

/// As [`inspect`], with at most `limit` elements of a collection (and of a stream group's pending entries), so a
/// visualizer can draw the head of a million-element key without copying it.
pub fn inspect_limited(engine: &Engine, dbi: usize, key: &[u8], now: u64, limit: usize) -> Option<Inspection> {
    let (entry, expires_at) = live_entry(engine, dbi, key, now)?;
    let view = match &entry.value {
        Value::Str(s) => View::Str {
            bytes: s.bytes.clone(),
            int: parse_i64(&s.bytes),
            hll: if hll::is_hll(&s.bytes) { hll::count(&s.bytes).ok() } else { None },
        },
        Value::List(l) => View::List { items: l.iter(false).take(limit).map(<[u8]>::to_vec).collect(), len: l.len() },
        Value::Set(s) => View::Set { members: s.iter().take(limit).map(|m| m.to_vec()).collect(), len: s.len() },
        Value::Hash(h) => {
            View::Hash { fields: h.iter().take(limit).map(|(f, v)| (f.to_vec(), v.to_vec())).collect(), len: h.len() }
        }
        Value::ZSet(z) => View::ZSet { members: z.iter().take(limit).map(|(m, score)| (m.to_vec(), score)).collect(), len: z.len() },
        Value::Stream(st) => View::Stream {
            entries: st.entries.iter().take(limit).map(|(id, f)| StreamEntry { id: id_text(id), fields: f.clone() }).collect(),
            len: st.len(),
            last_id: id_text(&st.last_id),
            groups: st
                .groups
                .iter()
                .map(|(name, g)| GroupView {
                    name: name.clone(),
                    last_delivered_id: id_text(&g.last_id),
                    consumers: g.consumers.iter().map(|(c, cons)| (c.clone(), cons.pel.len())).collect(),
                    pending: g
                        .pel
                        .iter()
                        .take(limit)
                        .map(|(id, nack)| (id_text(id), nack.consumer.clone(), nack.delivery_count))
                        .collect(),
                })
                .collect(),
        },
    };
    Some(Inspection { info: info_of(key, entry, expires_at, now), view })
}

fn id_text(id: &StreamId) -> String {
    format!("{}-{}", id.ms, id.seq)
}

fn live_entry<'e>(engine: &'e Engine, dbi: usize, key: &[u8], now: u64) -> Option<(&'e Entry, Option<u64>)> {
    let db = engine.dbs.get(dbi)?;
    if db.is_expired(key, now) {
        return None;
    }
    Some((db.keys.get(key)?, db.expire_of(key)))
}

fn info_of(key: &[u8], entry: &Entry, expires_at: Option<u64>, now: u64) -> KeyInfo {
    let ttl_ms = match expires_at {
        // A live key's expiry is at or after `now`.
        Some(when) => i64::try_from(when.saturating_sub(now)).unwrap_or(i64::MAX),
        None => -1,
    };
    KeyInfo {
        key: key.to_vec(),
        type_name: entry.value.type_name(),
        encoding: entry.value.encoding_name(),
        ttl_ms,
        expires_at,
        memory: key_mem_usage(key, &entry.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redlet_core::Config;

    const T0: u64 = 1_700_000_000_000;

    fn engine_with(lines: &[&[&str]]) -> Engine {
        let mut e = Engine::new(Config::default());
        let c = e.connect(T0);
        for argv in lines {
            let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
            let reply = e.execute(c, &args, T0);
            assert!(reply.is_some_and(|r| !r.is_error()), "{argv:?}");
        }
        e
    }

    fn all(db: usize) -> ScanArgs {
        ScanArgs { db, pattern: None, cursor: 0, count: 1000 }
    }

    #[test]
    fn scan_lists_every_key_with_its_details() {
        let e = engine_with(&[&["SET", "a", "1"], &["SET", "b", "hello", "PX", "5000"], &["SET", "c", &"x".repeat(50)]]);
        let page = scan(&e, &all(0), T0 + 1000).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(page.cursor, 0);
        let mut keys = page.keys;
        keys.sort_by(|x, y| x.key.cmp(&y.key));
        assert_eq!(keys.len(), 3);
        assert_eq!((keys[0].type_name, keys[0].encoding, keys[0].ttl_ms, keys[0].memory), ("string", "int", -1, 48));
        assert_eq!((keys[1].encoding, keys[1].ttl_ms, keys[1].expires_at), ("embstr", 4000, Some(T0 + 5000)));
        assert_eq!((keys[2].encoding, keys[2].memory), ("raw", 112));
    }

    #[test]
    fn scan_pages_through_a_large_keyspace_with_a_cursor() {
        let names: Vec<String> = (0..500).map(|i| format!("key:{i}")).collect();
        let mut e = Engine::new(Config::default());
        let c = e.connect(T0);
        for n in &names {
            e.execute(c, &[b"SET", n.as_bytes(), b"v"], T0);
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut args = ScanArgs { db: 0, pattern: Some(b"key:1*".to_vec()), cursor: 0, count: 20 };
        let mut calls = 0;
        loop {
            let page = scan(&e, &args, T0).unwrap_or_else(|err| panic!("{err}"));
            seen.extend(page.keys.into_iter().map(|k| k.key));
            calls += 1;
            if page.cursor == 0 {
                break;
            }
            args.cursor = page.cursor;
        }
        assert!(calls > 1);
        let expected: std::collections::BTreeSet<Vec<u8>> =
            names.iter().filter(|n| n.starts_with("key:1")).map(|n| n.as_bytes().to_vec()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn scan_refuses_what_scan_refuses_and_hides_expired_keys() {
        let e = engine_with(&[&["SET", "gone", "v", "PX", "10"], &["SET", "kept", "v"]]);
        assert_eq!(scan(&e, &ScanArgs { db: 16, ..all(0) }, T0), Err(Error::DbIndexOutOfRange));
        assert_eq!(scan(&e, &ScanArgs { count: 0, ..all(0) }, T0), Err(Error::Syntax));
        let page = scan(&e, &all(0), T0 + 11).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(page.keys.iter().map(|k| k.key.as_slice()).collect::<Vec<_>>(), [b"kept"]);
        // Looking did not delete it: a read changes nothing.
        assert!(e.dbs[0].keys.contains_key(b"gone"));
        assert!(inspect(&e, 0, b"gone", T0 + 11).is_none());
        assert!(inspect(&e, 0, b"gone", T0 + 10).is_some());
    }

    #[test]
    fn inspect_shows_a_string_and_its_integer() {
        let e = engine_with(&[&["SET", "n", "-42"], &["SET", "s", "4.5"], &["SELECT", "3"], &["SET", "other", "x"]]);
        let n = inspect(&e, 0, b"n", T0).unwrap_or_else(|| panic!("n exists"));
        assert_eq!(n.view, View::Str { bytes: b"-42".to_vec(), int: Some(-42), hll: None });
        assert_eq!(n.info.encoding, "int");
        let s = inspect(&e, 0, b"s", T0).unwrap_or_else(|| panic!("s exists"));
        assert_eq!(s.view, View::Str { bytes: b"4.5".to_vec(), int: None, hll: None });
        assert!(inspect(&e, 0, b"other", T0).is_none());
        assert!(inspect(&e, 3, b"other", T0).is_some());
        assert!(inspect(&e, 99, b"other", T0).is_none());
    }

    #[test]
    fn inspect_shows_list_items_and_set_members_in_order() {
        let e = engine_with(&[&["RPUSH", "l", "a", "b"], &["LPUSH", "l", "z"], &["SADD", "ints", "3", "1", "2"], &["SADD", "words", "x"]]);
        let list = inspect(&e, 0, b"l", T0).unwrap_or_else(|| panic!("l exists"));
        assert_eq!(list.view, View::List { items: vec![b"z".to_vec(), b"a".to_vec(), b"b".to_vec()], len: 3 });
        assert_eq!((list.info.type_name, list.info.encoding), ("list", "quicklist"));
        let ints = inspect(&e, 0, b"ints", T0).unwrap_or_else(|| panic!("ints exists"));
        assert_eq!(ints.view, View::Set { members: vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()], len: 3 });
        assert_eq!(ints.info.encoding, "intset");
        let words = inspect(&e, 0, b"words", T0).unwrap_or_else(|| panic!("words exists"));
        assert_eq!((words.view, words.info.encoding), (View::Set { members: vec![b"x".to_vec()], len: 1 }, "hashtable"));
    }

    #[test]
    fn inspect_shows_hash_fields_and_zset_members_by_rank() {
        let e = engine_with(&[&["HSET", "h", "f", "v"], &["ZADD", "z", "2", "b", "1", "a", "1.5", "c"]]);
        let h = inspect(&e, 0, b"h", T0).unwrap_or_else(|| panic!("h exists"));
        assert_eq!(h.view, View::Hash { fields: vec![(b"f".to_vec(), b"v".to_vec())], len: 1 });
        let z = inspect(&e, 0, b"z", T0).unwrap_or_else(|| panic!("z exists"));
        assert_eq!(z.view, View::ZSet { members: vec![(b"a".to_vec(), 1.0), (b"c".to_vec(), 1.5), (b"b".to_vec(), 2.0)], len: 3 });
    }

    #[test]
    fn inspect_shows_streams_with_groups_hll_estimates_and_limits() {
        let e = engine_with(&[
            &["XADD", "s", "1-1", "a", "1"],
            &["XADD", "s", "2-0", "b", "2"],
            &["XGROUP", "CREATE", "s", "g", "0"],
            &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"],
            &["PFADD", "h", "x", "y", "z"],
            &["RPUSH", "big", "1", "2", "3", "4", "5"],
        ]);
        let s = inspect(&e, 0, b"s", T0).unwrap_or_else(|| panic!("s exists"));
        let View::Stream { entries, len, last_id, groups } = s.view else { panic!("a stream view") };
        assert_eq!((len, last_id.as_str()), (2, "2-0"));
        assert_eq!(entries[0], StreamEntry { id: "1-1".into(), fields: vec![(b"a".to_vec(), b"1".to_vec())] });
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].last_delivered_id, "1-1");
        assert_eq!(groups[0].consumers, vec![(b"alice".to_vec(), 1)]);
        assert_eq!(groups[0].pending, vec![("1-1".to_string(), b"alice".to_vec(), 1)]);
        let h = inspect(&e, 0, b"h", T0).unwrap_or_else(|| panic!("h exists"));
        assert!(matches!(h.view, View::Str { hll: Some(3), .. }));
        let big = inspect_limited(&e, 0, b"big", T0, 2).unwrap_or_else(|| panic!("big exists"));
        assert_eq!(big.view, View::List { items: vec![b"1".to_vec(), b"2".to_vec()], len: 5 });
    }
}
