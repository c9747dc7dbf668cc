use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::config::Config;
use crate::reply::Reply;

const NOW: u64 = 1_700_000_000_000;

fn run(e: &mut Engine, c: ClientId, line: &str, now: u64) -> Option<Reply> {
    let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    e.execute(c, &argv, now)
}

/// A key as a reload must rebuild it: database, name, DUMP payload, absolute expiry.
type KeyState = (usize, Vec<u8>, Vec<u8>, Option<u64>);

/// Every key of every database with its DUMP payload and absolute expiry: what must survive a reload.
fn contents(e: &mut Engine) -> Vec<KeyState> {
    let mut out = Vec::new();
    for (i, db) in e.dbs.iter().enumerate() {
        for (k, entry) in db.keys.iter() {
            out.push((
                i,
                k.to_vec(),
                crate::rdb::dump_value(&entry.value),
                db.expire_of(k),
            ));
        }
    }
    out.sort();
    out
}

fn stream_of(e: &mut Engine) -> Vec<u8> {
    let mut out = Vec::new();
    for argv in e.drain_propagated() {
        encode_command_into(&mut out, &argv);
    }
    out
}

#[test]
fn commands_are_encoded_as_redis_appends_them() {
    assert_eq!(
        encode_command(&[b"SELECT".to_vec(), b"0".to_vec()]),
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        encode_command(&[b"SET".to_vec(), b"".to_vec()]),
        b"*2\r\n$3\r\nSET\r\n$0\r\n\r\n"
    );
}

#[test]
fn reading_commands_stops_cleanly_on_truncation_and_refuses_bad_format() {
    let data = b"#annotation\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n";
    let (argv, next) = read_command(data, 0).unwrap().unwrap();
    assert_eq!(argv, [&b"GET"[..], b"k"]);
    let (argv, end) = read_command(data, next).unwrap().unwrap();
    assert_eq!((argv, end), (vec![&b"PING"[..]], data.len()));
    assert_eq!(read_command(data, end), Ok(None));
    // Every cut inside a command is a truncation.
    for cut in 1..data.len() - 13 {
        let r = read_command(&data[..13 + cut], 13);
        if 13 + cut < next {
            assert_eq!(r, Err(Fault::Truncated), "cut at {cut}");
        }
    }
    assert_eq!(read_command(b"SET k v\r\n", 0), Err(Fault::Format));
    assert_eq!(read_command(b"*0\r\n", 0), Err(Fault::Format));
    assert_eq!(read_command(b"*1\r\n+OK\r\n", 0), Err(Fault::Format));
    assert_eq!(read_command(b"*1\r\n$-1\r\n", 0), Err(Fault::Format));
    // A huge count is no allocation: the data runs out first.
    assert_eq!(
        read_command(b"*999999999999\r\n$1\r\na\r\n", 0),
        Err(Fault::Truncated)
    );
}

#[test]
fn manifests_parse_and_print_as_redis_writes_them() {
    let text = b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
    let m = Manifest::parse(text).unwrap();
    assert_eq!(
        m.base.as_ref().map(|b| b.name.as_str()),
        Some("appendonly.aof.1.base.rdb")
    );
    assert_eq!(m.incrs.len(), 1);
    assert_eq!((m.curr_base_seq, m.curr_incr_seq), (1, 1));
    assert_eq!(m.to_bytes(), text);
    // Comments, other key orders and quoted names are read; a name with a space is written quoted.
    let m = Manifest::parse(b"# c\ntype i seq 3 file \"my file.aof\"\n").unwrap();
    assert_eq!(
        m.incrs.first().map(|f| f.name.as_str()),
        Some("my file.aof")
    );
    assert_eq!(m.to_bytes(), b"file \"my file.aof\" seq 3 type i\n");
    for bad in [
        &b""[..],
        b"file a seq 1\n",
        b"file a seq 1 type x\n",
        b"file a/b seq 1 type b\n",
        b"file a seq 0 type b\n",
        b"file a seq 1 type b\nfile b seq 2 type b\n",
        b"file a seq 2 type i\nfile b seq 2 type i\n",
        b"file a seq 1 type b",
    ] {
        assert!(
            Manifest::parse(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn a_rewrite_names_the_next_files_and_retires_the_old_ones() {
    let mut m = Manifest::default();
    assert_eq!(
        m.new_base(DEFAULT_FILENAME, true),
        "appendonly.aof.1.base.rdb"
    );
    assert_eq!(m.add_incr(DEFAULT_FILENAME), "appendonly.aof.1.incr.aof");
    assert!(m.take_history().is_empty());
    assert_eq!(
        m.new_base(DEFAULT_FILENAME, true),
        "appendonly.aof.2.base.rdb"
    );
    assert_eq!(m.add_incr(DEFAULT_FILENAME), "appendonly.aof.2.incr.aof");
    let old: Vec<String> = m.take_history().into_iter().map(|f| f.name).collect();
    assert_eq!(
        old,
        ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof"]
    );
    assert_eq!(m.to_bytes(), b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n");
}

/// Runs a workload with propagation on and returns the engine, the base taken at `base_after` commands and
/// the incremental stream after it.
fn workload() -> (Engine, Vec<u8>, Vec<u8>) {
    let mut e = Engine::new(Config::default());
    let c = e.connect(NOW);
    e.capture_propagation(true);
    let lines = [
        "SET a 1",
        "INCR a",
        "RPUSH l x y z",
        "SADD s m1 m2 m3 m4",
        "ZADD z 1 a 2 b 3 c",
        "HSET h f v g w",
        "SET t v EX 1000",
        "XADD st * f v",
        "SELECT 2",
        "SET other 1",
        "SELECT 0",
    ];
    for l in lines {
        run(&mut e, c, l, NOW);
    }
    e.drain_propagated();
    let base = crate::rdb::save_with(&e, crate::rdb::Format::V10, true);
    e.capture_propagation(true);
    for l in [
        "INCRBYFLOAT a 0.5",
        "SPOP s",
        "LPOP l",
        "ZPOPMIN z",
        "MULTI",
        "HINCRBYFLOAT h n 1.5",
        "EXPIRE a 100",
        "EXEC",
        "SELECT 2",
        "SETEX sx 100 v",
        "GETEX other PX 5000",
        "SELECT 0",
        // (Group reads are left out: their XCLAIMs rebuild the pending entries but, as in Redis 7.0, not the
        // group's read counter nor the consumer's seen time.)
        "XADD st MAXLEN ~ 1 * f w",
        "XGROUP CREATE st g 0",
    ] {
        run(&mut e, c, l, NOW + 10);
    }
    let incr = stream_of(&mut e);
    (e, base, incr)
}

#[test]
fn a_base_and_its_commands_rebuild_the_dataset() {
    let (mut e, base, incr) = workload();
    let want = contents(&mut e);
    let mut loaded = Engine::new(Config::default());
    {
        let mut l = loaded.aof_loader(NOW + 20);
        assert!(!l.load_base(&base, false).unwrap().truncated);
        let r = l.replay(&incr, true).unwrap();
        assert_eq!((r.valid_len, r.truncated), (incr.len(), false));
        l.finish();
    }
    assert_eq!(contents(&mut loaded), want);
    // The load left no trace: no client, no statistics, nothing to save, keys expire again.
    assert!(loaded.clients.is_empty());
    assert_eq!(loaded.stats.total_commands, 0);
    assert_eq!(loaded.dirty, 0);
    assert!(!loaded.loading);
}

#[test]
fn a_cut_last_file_loads_up_to_its_last_complete_command() {
    let (_, base, incr) = workload();
    let mut cuts = 0;
    for cut in 0..incr.len() {
        let data = &incr[..cut];
        let mut e = Engine::new(Config::default());
        let mut l = e.aof_loader(NOW + 20);
        l.load_base(&base, false).unwrap();
        let r = l.replay(data, true).unwrap();
        assert!(r.valid_len <= cut);
        // What loaded is a prefix of complete commands, outside any transaction.
        let again = l.replay(&data[..r.valid_len], true).unwrap();
        assert!(!again.truncated, "cut {cut}");
        if r.truncated {
            cuts += 1;
            // Not the last file: refused.
            assert_eq!(l.replay(data, false), Err(AofError::Truncated));
        }
    }
    assert!(cuts > 100);
}

#[test]
fn an_unfinished_transaction_is_dropped() {
    let mut e = Engine::new(Config::default());
    let data = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
    let mut l = e.aof_loader(NOW);
    let r = l.replay(data, true).unwrap();
    assert!(r.truncated);
    assert_eq!(
        &data[..r.valid_len],
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    drop(l);
    assert!(e.db(0).keys.contains_key(b"a".as_slice()));
    assert!(!e.db(0).keys.contains_key(b"b".as_slice()));
}

#[test]
fn unknown_commands_and_bad_format_are_refused() {
    let mut e = Engine::new(Config::default());
    let mut l = e.aof_loader(NOW);
    assert_eq!(
        l.replay(b"*1\r\n$4\r\nNOPE\r\n", true),
        Err(AofError::UnknownCommand(String::from("NOPE")))
    );
    assert_eq!(
        l.replay(b"*1\r\n$3\r\nSET\r\n", true),
        Err(AofError::UnknownCommand(String::from("SET")))
    );
    assert_eq!(l.replay(b"garbage\r\n", true), Err(AofError::Format));
    assert!(matches!(
        l.load_base(b"REDIS0010garbage", true),
        Err(AofError::Rdb(_))
    ));
}

#[test]
fn keys_do_not_expire_while_loading() {
    // An INCR on a key whose time passed before the load: the replay still sees the key, as Redis's does.
    let data = b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n$4\r\nPXAT\r\n$1\r\n5\r\n*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nj\r\n$1\r\n5\r\n";
    let mut e = Engine::new(Config::default());
    let mut l = e.aof_loader(NOW);
    l.replay(data, true).unwrap();
    l.finish();
    assert_eq!(e.db(0).expire_of(b"k"), Some(5));
    let c = e.connect(NOW);
    assert_eq!(
        run(&mut e, c, "GET k", NOW),
        Some(Reply::Nil),
        "expired once loaded"
    );
}

#[test]
fn random_mutations_never_panic_the_loader() {
    let (_, base, incr) = workload();
    let mut rng = crate::util::Rng::new(7);
    for round in 0..400 {
        let mut b = base.clone();
        let mut i = incr.clone();
        let target = if round % 2 == 0 { &mut b } else { &mut i };
        for _ in 0..1 + rng.below(4) {
            let len = target.len() as u64;
            if len == 0 {
                break;
            }
            let at = rng.below(len) as usize;
            match rng.below(3) {
                0 => target[at] = rng.next_u64() as u8,
                1 => {
                    target.remove(at);
                }
                _ => target.insert(at, rng.next_u64() as u8),
            }
        }
        let mut e = Engine::new(Config::default());
        let mut l = e.aof_loader(NOW);
        if l.load_base(&b, false).is_ok() {
            let _ = l.replay(&i, true);
        }
        let _ = Manifest::parse(&i);
    }
}
