//! The JS API through wasm-bindgen, run by `./dev test` in Node and in headless Chromium
//! (`wasm-bindgen-test-runner`; `WASM_BINDGEN_USE_BROWSER=1` selects the browser).
//!
//! Every exported method is called here as JS would call it, through the exported Rust functions, and its
//! result is read back as a JS value: errors included, and two-client scenarios (SELECT isolation, CLIENT
//! SETNAME/LIST, BLPOP served by another client's RPUSH, PUBLISH to a SUBSCRIBEd client). Some tests queue
//! pushes through the engine directly (`Redlet::with_engine`) to check delivery itself.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Map, Object, Reflect, Uint8Array};
use redlet_core::{Error, Reply};
use redlet_web::interop::{decimal_text, reply_from_js, value_for};
use redlet_web::{KeysOptions, Redlet, RedletOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

// ---- helpers: build JS values, read them back ----

fn obj(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("set");
    }
    o
}

fn options(fields: &[(&str, JsValue)]) -> Option<RedletOptions> {
    Some(obj(fields).unchecked_into())
}

fn keys_opts(fields: &[(&str, JsValue)]) -> Option<KeysOptions> {
    Some(obj(fields).unchecked_into())
}

fn db_at(t: f64) -> Redlet {
    Redlet::new(options(&[("seed", 7.into()), ("clockStart", t.into()), ("manualClock", true.into())])).expect("new Redlet")
}

const T0: f64 = 1_700_000_000_000.0;

fn field(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(name)).expect("get")
}

fn text(v: &JsValue) -> String {
    v.as_string().unwrap_or_else(|| panic!("expected a string, got {v:?}"))
}

fn num(v: &JsValue) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("expected a number, got {v:?}"))
}

fn strings(v: &JsValue) -> Vec<String> {
    assert!(Array::is_array(v), "expected an array, got {v:?}");
    v.unchecked_ref::<Array>().iter().map(|x| text(&x)).collect()
}

/// The message of a thrown `Error`, and its constructor name (`Error`, `TypeError`, `RangeError`).
fn thrown<T>(r: Result<T, JsValue>) -> (String, String) {
    let Err(e) = r else { panic!("expected an exception") };
    let err: &js_sys::Error = e.dyn_ref().unwrap_or_else(|| panic!("thrown value is not an Error: {e:?}"));
    (String::from(err.message()), String::from(err.name()))
}

fn args(items: &[JsValue]) -> JsValue {
    items.iter().collect::<Array>().into()
}

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

// ---- construction and options ----

#[wasm_bindgen_test]
fn new_without_options_runs_commands() {
    let db = Redlet::new(None).expect("new Redlet");
    assert_eq!(text(&db.exec("PING").unwrap()), "PONG");
    assert!(db.id().unwrap() >= 1.0);
}

#[wasm_bindgen_test]
fn options_set_memory_protocol_seed_and_clock() {
    let db = Redlet::new(options(&[("maxmemory", "1mb".into()), ("resp", 3.into()), ("clockStart", T0.into()), ("manualClock", true.into())]))
        .unwrap();
    // RESP3: CONFIG GET answers a map, which is a plain object.
    let cfg = db.exec("CONFIG GET maxmemory").unwrap();
    assert_eq!(text(&field(&cfg, "maxmemory")), "1048576");
    assert_eq!(db.now().unwrap(), T0);
    let bytes_db = Redlet::new(options(&[("maxmemory", 2048.into())])).unwrap();
    assert_eq!(strings(&bytes_db.exec("CONFIG GET maxmemory").unwrap()), ["maxmemory", "2048"]);
    assert_eq!(strings(&bytes_db.exec("CONFIG GET maxmemory-policy").unwrap()), ["maxmemory-policy", "noeviction"]);
    // A policy evicts as soon as the limit is passed; noeviction refuses writes instead.
    let cache = Redlet::new(options(&[("maxmemory", "1mb".into()), ("maxmemoryPolicy", "ALLKEYS-LRU".into())])).unwrap();
    assert_eq!(strings(&cache.exec("CONFIG GET maxmemory-policy").unwrap()), ["maxmemory-policy", "allkeys-lru"]);
    for i in 0..5000 {
        assert_eq!(text(&cache.exec(&format!("SET key:{i} {}", "v".repeat(100))).unwrap()), "OK");
    }
    let kept = num(&cache.exec("DBSIZE").unwrap());
    assert!(kept > 0.0 && kept < 5000.0, "{kept} keys kept");
    assert_eq!(num(&cache.exec("EXISTS key:4999").unwrap()), 1.0);
    assert_eq!(
        thrown(bytes_db.exec("SET k v")).0,
        "OOM command not allowed when used memory > 'maxmemory'."
    );

    // The same seed gives the same random choices.
    let picks = |seed: f64| {
        let db = Redlet::new(options(&[("seed", seed.into())])).unwrap();
        for i in 0..50 {
            db.exec(&format!("SET key:{i} v")).unwrap();
        }
        (0..10).map(|_| text(&db.exec("RANDOMKEY").unwrap())).collect::<Vec<_>>()
    };
    assert_eq!(picks(42.0), picks(42.0));
    let big_seed = Redlet::new(options(&[("seed", js_sys::BigInt::from(u64::MAX).into())]));
    assert!(big_seed.is_ok());
}

#[wasm_bindgen_test]
fn bad_options_are_refused() {
    assert_eq!(thrown(Redlet::new(options(&[("resp", 4.into())]))).1, "RangeError");
    assert_eq!(thrown(Redlet::new(options(&[("seed", (-1).into())]))).1, "TypeError");
    assert_eq!(thrown(Redlet::new(options(&[("seed", "x".into())]))).1, "TypeError");
    assert_eq!(thrown(Redlet::new(options(&[("maxmemory", "lots".into())]))).1, "TypeError");
    assert_eq!(thrown(Redlet::new(options(&[("maxmemoryPolicy", "lru".into())]))).1, "RangeError");
    assert_eq!(thrown(Redlet::new(options(&[("maxmemoryPolicy", 1.into())]))).1, "TypeError");
    assert_eq!(thrown(Redlet::new(options(&[("clockStart", "now".into())]))).1, "TypeError");
    assert_eq!(thrown(Redlet::new(Some(JsValue::from(5).unchecked_into()))).1, "TypeError");
}

// ---- exec and command: replies as JS values ----

#[wasm_bindgen_test]
fn exec_returns_plain_values() {
    let db = db_at(T0);
    assert_eq!(text(&db.exec(r#"SET greeting "hello world""#).unwrap()), "OK");
    assert_eq!(text(&db.exec("GET greeting").unwrap()), "hello world");
    assert!(db.exec("GET missing").unwrap().is_null());
    assert_eq!(num(&db.exec("DBSIZE").unwrap()), 1.0);
    assert_eq!(num(&db.exec("EXISTS greeting missing").unwrap()), 1.0);
    assert_eq!(strings(&db.exec("KEYS *").unwrap()), ["greeting"]);
    assert_eq!(text(&db.exec("ECHO \"\"").unwrap()), "");
    // Unicode both ways.
    db.exec("SET \"\u{0995}\" \"\u{043f}\u{0440}\u{0438}\u{0432}\u{0435}\u{0442}\"").unwrap();
    assert_eq!(text(&db.exec("GET \"\u{0995}\"").unwrap()), "\u{043f}\u{0440}\u{0438}\u{0432}\u{0435}\u{0442}");
}

#[wasm_bindgen_test]
fn binary_strings_are_uint8arrays_and_big_integers_bigints() {
    let db = db_at(T0);
    db.exec(r#"SET bin "a\xffb""#).unwrap();
    let v = db.exec("GET bin").unwrap();
    assert_eq!(v.dyn_ref::<Uint8Array>().expect("Uint8Array").to_vec(), b"a\xffb");
    // Within 2^53 - 1 a number, beyond it a BigInt.
    db.exec("SET k v").unwrap();
    db.exec("PEXPIREAT k 9007199254740991").unwrap();
    assert_eq!(num(&db.exec("PEXPIRETIME k").unwrap()), 9_007_199_254_740_991.0);
    db.exec("PEXPIREAT k 9007199254740993").unwrap();
    let big = db.exec("PEXPIRETIME k").unwrap();
    assert!(big.is_bigint(), "{big:?}");
    assert_eq!(decimal_text(&big).unwrap(), "9007199254740993");
}

#[wasm_bindgen_test]
fn command_takes_strings_bytes_and_numbers() {
    let db = db_at(T0);
    assert_eq!(text(&db.command(args(&["SET".into(), "b".into(), bytes(&[0, 255, 10])])).unwrap()), "OK");
    let got = db.command(args(&["GET".into(), bytes(b"b")])).unwrap();
    assert_eq!(got.dyn_ref::<Uint8Array>().expect("bytes").to_vec(), [0, 255, 10]);
    assert_eq!(num(&db.command(args(&["EXPIRE".into(), "b".into(), 100.into()])).unwrap()), 1.0);
    assert_eq!(num(&db.command(args(&["TTL".into(), "b".into()])).unwrap()), 100.0);
    assert_eq!(num(&db.command(args(&["EXPIRE".into(), "b".into(), js_sys::BigInt::from(50).into()])).unwrap()), 1.0);
    // Arguments are not re-tokenized: quotes and spaces stay in the value.
    db.command(args(&["SET".into(), "q".into(), "two \"words\"".into()])).unwrap();
    assert_eq!(text(&db.exec("GET q").unwrap()), "two \"words\"");
}

/// String arguments arrive whole and in order as UTF-8 whatever they contain: colons and digits, empty
/// strings, Cyrillic and astral characters; a lone surrogate (not UTF-16 text) becomes U+FFFD, as every
/// string crossing into wasm does.
#[wasm_bindgen_test]
fn command_strings_arrive_whole_whatever_they_contain() {
    let db = db_at(T0);
    let lone = js_sys::JsString::from_char_code1(0xD800);
    let mut argv: Vec<JsValue> = vec!["RPUSH".into(), "list:😀".into(), "3:abc".into(), "".into(), "ключ:1".into()];
    argv.push(js_sys::JsString::from("a").concat(&lone).concat(&"b".into()).into());
    argv.extend(["😀:2".into(), ":".into()]);
    assert_eq!(num(&db.command(args(&argv)).unwrap()), 6.0);
    let got: Vec<String> = Array::from(&db.command(args(&["LRANGE".into(), "list:😀".into(), 0.into(), (-1).into()])).unwrap())
        .iter()
        .map(|v| v.as_string().expect("text"))
        .collect();
    assert_eq!(got, ["3:abc", "", "ключ:1", "a\u{FFFD}b", "😀:2", ":"]);
}

#[wasm_bindgen_test]
fn resp3_shapes_come_through_hello() {
    let db = db_at(T0);
    let hello = db.exec("HELLO 3").unwrap();
    assert_eq!(text(&field(&hello, "server")), "redis");
    assert_eq!(num(&field(&hello, "proto")), 3.0);
    assert!(Array::is_array(&field(&hello, "modules")));
    // Back to RESP2: the same map is a flat array.
    let flat = db.exec("HELLO 2").unwrap();
    assert!(Array::is_array(&flat));
    assert_eq!(text(&flat.unchecked_ref::<Array>().get(0)), "server");
}

#[wasm_bindgen_test]
fn every_reply_type_maps_to_its_js_value() {
    // Shapes no implemented command produces yet are checked on the conversion itself.
    assert_eq!(value_for(&Reply::Double(1.5), 3).as_f64(), Some(1.5));
    assert_eq!(value_for(&Reply::Double(1.5), 2).as_string().as_deref(), Some("1.5"));
    assert_eq!(value_for(&Reply::Double(f64::INFINITY), 3).as_f64(), Some(f64::INFINITY));
    assert_eq!(value_for(&Reply::Bool(true), 3).as_bool(), Some(true));
    assert_eq!(value_for(&Reply::Bool(true), 2).as_f64(), Some(1.0));
    assert!(value_for(&Reply::BigNumber("123456789012345678901234567890".into()), 3).is_bigint());
    assert_eq!(value_for(&Reply::Verbatim("txt", b"a\nb".to_vec()), 3).as_string().as_deref(), Some("a\nb"));
    assert!(value_for(&Reply::NilArray, 2).is_null());
    assert!(Array::is_array(&value_for(&Reply::Set(vec![Reply::Integer(1)]), 3)));
    assert!(Array::is_array(&value_for(&Reply::Push(vec![Reply::bulk_str("message")]), 3)));
    let int_min = value_for(&Reply::Integer(i64::MIN), 3);
    assert_eq!(decimal_text(&int_min).unwrap(), "-9223372036854775808");
    // A map with a key that is not text is a Map; with text keys an object (a key named __proto__ stays data).
    let odd = value_for(&Reply::Map(vec![(Reply::Array(vec![]), Reply::Integer(1))]), 3);
    assert_eq!(odd.dyn_ref::<Map>().expect("Map").size(), 1);
    let proto = value_for(&Reply::Map(vec![(Reply::bulk_str("__proto__"), Reply::Integer(1)), (Reply::Integer(7), Reply::Nil)]), 3);
    assert_eq!(Object::keys(proto.unchecked_ref::<Object>()).length(), 2);
    assert_eq!(num(&field(&proto, "__proto__")), 1.0);
    assert!(field(&proto, "7").is_null());
    // An error inside an aggregate is an Error object in place, not an exception.
    let nested = value_for(&Reply::Array(vec![Reply::Integer(1), Reply::Error(Error::WrongType)]), 2);
    let err = nested.unchecked_ref::<Array>().get(1);
    assert!(String::from(err.dyn_ref::<js_sys::Error>().expect("Error").message()).starts_with("WRONGTYPE"));
}

// ---- errors ----

#[wasm_bindgen_test]
fn redis_errors_are_thrown_with_redis_text() {
    let db = db_at(T0);
    assert_eq!(thrown(db.exec("GET")), ("ERR wrong number of arguments for 'get' command".into(), "Error".into()));
    assert_eq!(thrown(db.exec("SET k v XX NX")).0, "ERR syntax error");
    assert_eq!(thrown(db.exec("NOPE a b")).0, "ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ");
    assert_eq!(thrown(db.command(args(&["SELECT".into(), 99.into()]))).0, "ERR DB index is out of range");
    // Not Redis errors but mistakes in the call.
    assert_eq!(thrown(db.exec(r#"GET "unbalanced"#)).0, "Invalid argument(s)");
    assert_eq!(thrown(db.exec("   ")).0, "empty command");
    assert_eq!(thrown(db.command(args(&[]))).0, "empty command");
    assert_eq!(thrown(db.command("GET k".into())).1, "TypeError");
    assert_eq!(thrown(db.command(args(&["GET".into(), Object::new().into()]))).1, "TypeError");
    // A failed command changed nothing, and the engine still works.
    assert_eq!(num(&db.exec("DBSIZE").unwrap()), 0.0);
}

// ---- batches: commands(list), execMany(lines) ----

/// The message of an `Error` value (one in place in a batch, not thrown).
fn error_text(v: &JsValue) -> String {
    String::from(v.dyn_ref::<js_sys::Error>().unwrap_or_else(|| panic!("expected an Error, got {v:?}")).message())
}

#[wasm_bindgen_test]
fn a_batch_runs_in_order_with_errors_in_place() {
    let db = db_at(T0);
    let cmd = |words: &[&str]| args(&words.iter().map(|w| JsValue::from_str(w)).collect::<Vec<_>>());
    let list = args(&[cmd(&["SET", "k", "1"]), cmd(&["INCR", "k"]), cmd(&["GET"]), cmd(&["LPUSH", "k", "x"]), cmd(&["GET", "k"])]);
    let out = db.commands(list).unwrap();
    assert_eq!(out.length(), 5);
    assert_eq!(text(&out.get(0)), "OK");
    assert_eq!(num(&out.get(1)), 2.0);
    assert_eq!(error_text(&out.get(2)), "ERR wrong number of arguments for 'get' command");
    assert!(error_text(&out.get(3)).starts_with("WRONGTYPE"));
    assert_eq!(text(&out.get(4)), "2");
    // Bytes and numbers as in command(); the same replies as one call at a time.
    let out = db.commands(args(&[args(&["SET".into(), "b".into(), bytes(&[0, 255])]), args(&["GET".into(), "b".into()]), args(&["EXPIRE".into(), "b".into(), 9.into()])])).unwrap();
    assert_eq!(out.get(1).dyn_ref::<Uint8Array>().expect("bytes").to_vec(), [0, 255]);
    assert_eq!(num(&out.get(2)), 1.0);
    assert_eq!(db.commands(args(&[])).unwrap().length(), 0);
}

#[wasm_bindgen_test]
fn exec_many_parses_each_line_as_exec_does() {
    let db = db_at(T0);
    let lines = args(&[r#"SET greeting "hello world""#.into(), "GET greeting".into(), r#"GET "unbalanced"#.into(), "   ".into(), "BLPOP nothing 0".into(), "PING".into()]);
    let out = db.exec_many(lines).unwrap();
    assert_eq!(out.length(), 6);
    assert_eq!(text(&out.get(0)), "OK");
    assert_eq!(text(&out.get(1)), "hello world");
    assert_eq!(error_text(&out.get(2)), "Invalid argument(s)");
    assert_eq!(error_text(&out.get(3)), "empty command");
    // BLPOP blocked the client: no reply yet, and the client refuses commands until it is served.
    assert!(out.get(4).is_undefined());
    assert_eq!(error_text(&out.get(5)), "ERR client is blocked");
}

#[wasm_bindgen_test]
fn a_batch_with_a_wrong_argument_runs_nothing() {
    let db = db_at(T0);
    let list = args(&[args(&["SET".into(), "a".into(), "1".into()]), args(&["SET".into(), Object::new().into()])]);
    assert_eq!(thrown(db.commands(list)).1, "TypeError");
    assert_eq!(thrown(db.commands("SET a 1".into())).1, "TypeError");
    assert_eq!(thrown(db.commands(args(&["SET a 1".into()]))).1, "TypeError");
    assert_eq!(thrown(db.exec_many(args(&["SET a 1".into(), 7.into()]))).1, "TypeError");
    assert_eq!(thrown(db.exec_many("SET a 1".into())).1, "TypeError");
    assert_eq!(num(&db.exec("DBSIZE").unwrap()), 0.0);
}

#[wasm_bindgen_test]
fn a_client_batch_stops_at_its_quit() {
    let db = db_at(T0);
    let client = db.connect().unwrap();
    let out = client.exec_many(args(&["SELECT 2".into(), "SET k v".into()])).unwrap();
    assert_eq!(strings(&out.into()), ["OK", "OK"]);
    assert!(db.exec("GET k").unwrap().is_null());
    // QUIT closes the client once its reply is in hand; what follows it in the batch cannot run.
    assert_eq!(thrown(client.exec_many(args(&["QUIT".into(), "PING".into()]))).0, "the client is closed");
    assert!(client.closed());
    // The console client reopens after QUIT, as redis-cli reconnects.
    assert_eq!(strings(&db.exec_many(args(&["QUIT".into(), "PING".into()])).unwrap().into()), ["OK", "PONG"]);
}

// ---- formatting ----

#[wasm_bindgen_test]
fn exec_formatted_and_prompt_print_as_redis_cli() {
    let db = db_at(T0);
    assert_eq!(db.prompt().unwrap(), "127.0.0.1:6379> ");
    assert_eq!(db.exec_formatted(r#"SET "user:1:name" "Anisul""#).unwrap(), "OK\n");
    assert_eq!(db.exec_formatted("GET user:1:name").unwrap(), "\"Anisul\"\n");
    assert_eq!(db.exec_formatted("DBSIZE").unwrap(), "(integer) 1\n");
    assert_eq!(db.exec_formatted("GET").unwrap(), "(error) ERR wrong number of arguments for 'get' command\n");
    assert_eq!(db.exec_formatted("GET \"x").unwrap(), "Invalid argument(s)\n");
    assert_eq!(db.exec_formatted("").unwrap(), "");
    assert_eq!(db.exec_formatted("SELECT 2").unwrap(), "OK\n");
    assert_eq!(db.prompt().unwrap(), "127.0.0.1:6379[2]> ");
    assert_eq!(db.exec_formatted("KEYS *").unwrap(), "(empty array)\n");
}

#[wasm_bindgen_test]
fn format_renders_values_as_redis_cli_does() {
    let db = db_at(T0);
    db.exec("SET a 1").unwrap();
    db.exec("SET b 2").unwrap();
    let keys = db.exec("KEYS *").unwrap();
    let listed = db.format(keys).unwrap();
    assert!(listed == "1) \"a\"\n2) \"b\"\n" || listed == "1) \"b\"\n2) \"a\"\n", "{listed}");
    let size = db.exec("DBSIZE").unwrap();
    assert_eq!(db.format(size).unwrap(), "(integer) 2\n");
    assert_eq!(db.format(JsValue::NULL).unwrap(), "(nil)\n");
    assert_eq!(db.format(JsValue::from(1.5)).unwrap(), "(double) 1.5\n");
    assert_eq!(db.format(true.into()).unwrap(), "(true)\n");
    assert_eq!(db.format(bytes(b"\xff")).unwrap(), "\"\\xff\"\n");
    assert_eq!(db.format(js_sys::BigInt::from(i64::MAX).into()).unwrap(), "(integer) 9223372036854775807\n");
    assert_eq!(db.format(args(&[])).unwrap(), "(empty array)\n");
    let thrown_error = db.exec("GET").unwrap_err();
    assert_eq!(db.format(thrown_error).unwrap(), "(error) ERR wrong number of arguments for 'get' command\n");
    let map = obj(&[("proto", 3.into()), ("modules", args(&[]))]);
    assert_eq!(db.format(map.into()).unwrap(), "1# \"proto\" => (integer) 3\n2# \"modules\" => (empty array)\n");
    // Round trip of the reply conversion.
    assert_eq!(reply_from_js(&value_for(&Reply::Array(vec![Reply::Integer(1), Reply::Nil]), 2)).ok(), Some(Reply::Array(vec![Reply::Integer(1), Reply::Nil])));
    // What is not a reply.
    assert_eq!(thrown(db.format(js_sys::Symbol::for_("x").into())).1, "TypeError");
    let cyclic = Array::new();
    cyclic.push(&cyclic);
    assert_eq!(thrown(db.format(cyclic.into())).1, "TypeError");
}

#[wasm_bindgen_test]
fn exec_resp_gives_the_wire_bytes() {
    let db = db_at(T0);
    assert_eq!(db.exec_resp("SET k v").unwrap().to_vec(), b"+OK\r\n");
    assert_eq!(db.exec_resp("GET k").unwrap().to_vec(), b"$1\r\nv\r\n");
    assert_eq!(db.exec_resp("GET").unwrap().to_vec(), b"-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(db.exec_resp("").unwrap().to_vec(), b"");
    db.exec("HELLO 3").unwrap();
    assert_eq!(db.exec_resp("GET nothing").unwrap().to_vec(), b"_\r\n");
}

// ---- clients ----

#[wasm_bindgen_test]
fn two_clients_share_data_but_not_their_state() {
    let db = db_at(T0);
    let c = db.connect().unwrap();
    assert_ne!(c.id(), db.id().unwrap());
    assert_eq!(num(&c.exec("CLIENT ID").unwrap()), c.id());
    // SELECT is per client.
    c.exec("SELECT 1").unwrap();
    c.exec("SET where one").unwrap();
    assert!(db.exec("GET where").unwrap().is_null());
    db.exec("SELECT 1").unwrap();
    assert_eq!(text(&db.exec("GET where").unwrap()), "one");
    assert_eq!(c.prompt().unwrap(), "127.0.0.1:6379[1]> ");
    // Names and CLIENT LIST see both connections.
    db.exec("CLIENT SETNAME console").unwrap();
    c.command(args(&["CLIENT".into(), "SETNAME".into(), "worker".into()])).unwrap();
    assert_eq!(text(&c.exec("CLIENT GETNAME").unwrap()), "worker");
    let list = text(&db.exec("CLIENT LIST").unwrap());
    assert!(list.contains("name=console") && list.contains("name=worker"), "{list}");
    assert_eq!(c.exec_formatted("CLIENT GETNAME").unwrap(), "\"worker\"\n");
    assert_eq!(c.exec_resp("CLIENT GETNAME").unwrap().to_vec(), b"$6\r\nworker\r\n");
    // The protocol is per client too.
    c.exec("HELLO 3").unwrap();
    assert!(!Array::is_array(&c.exec("CONFIG GET hz").unwrap()));
    assert!(Array::is_array(&db.exec("CONFIG GET hz").unwrap()));
    // Closing forgets the client; calls on it are refused.
    c.close();
    assert!(c.closed());
    assert!(!text(&db.exec("CLIENT LIST").unwrap()).contains("name=worker"));
    assert_eq!(thrown(c.exec("PING")).0, "the client is closed");
    assert_eq!(thrown(c.command(args(&["PING".into()]))).0, "the client is closed");
    assert_eq!(thrown(c.exec_formatted("PING")).0, "the client is closed");
    c.close();
}

#[wasm_bindgen_test]
fn quit_closes_a_client_and_renews_the_console() {
    let db = db_at(T0);
    let c = db.connect().unwrap();
    assert_eq!(text(&c.exec("QUIT").unwrap()), "OK");
    assert!(c.closed());
    db.exec("SELECT 3").unwrap();
    let before = db.id().unwrap();
    assert_eq!(db.exec_formatted("QUIT").unwrap(), "OK\n");
    assert_ne!(db.id().unwrap(), before);
    assert_eq!(db.prompt().unwrap(), "127.0.0.1:6379> ");
    assert_eq!(text(&db.exec("PING").unwrap()), "PONG");
}

#[wasm_bindgen_test]
fn new_clients_speak_the_configured_protocol() {
    let db = Redlet::new(options(&[("resp", 3.into())])).unwrap();
    let c = db.connect().unwrap();
    assert!(!Array::is_array(&c.exec("CONFIG GET hz").unwrap()));
}

// ---- pushes ----

type Seen = Rc<RefCell<Vec<(String, f64)>>>;

fn recorder(seen: &Seen) -> Closure<dyn FnMut(JsValue, JsValue)> {
    let seen = Rc::clone(seen);
    Closure::new(move |msg: JsValue, id: JsValue| {
        let first = if Array::is_array(&msg) { msg.unchecked_ref::<Array>().get(0).as_string().unwrap_or_default() } else { format!("{msg:?}") };
        seen.borrow_mut().push((first, id.as_f64().unwrap_or(-1.0)));
    })
}

fn queue_push(db: &Redlet, client: f64, kind: &str) {
    db.with_engine(|e| e.push(client as u64, Reply::Push(vec![Reply::bulk_str(kind), Reply::bulk_str("chan"), Reply::bulk_str("hi")])))
        .expect("engine free");
}

#[wasm_bindgen_test]
fn pushes_reach_the_callbacks_after_commands_and_ticks() {
    let db = db_at(T0);
    let c = db.connect().unwrap();
    let all: Seen = Rc::default();
    let own: Seen = Rc::default();
    let all_cb = recorder(&all);
    let own_cb = recorder(&own);
    db.on_push(all_cb.as_ref().clone()).unwrap();
    c.on_push(own_cb.as_ref().clone()).unwrap();

    queue_push(&db, c.id(), "message");
    db.exec("PING").unwrap();
    assert_eq!(*all.borrow(), [("message".to_string(), c.id())]);
    assert_eq!(own.borrow().len(), 1);

    queue_push(&db, db.id().unwrap(), "pmessage");
    db.tick().unwrap();
    assert_eq!(all.borrow().last(), Some(&("pmessage".to_string(), db.id().unwrap())));
    assert_eq!(own.borrow().len(), 1, "a client's callback sees only its own pushes");

    queue_push(&db, c.id(), "message");
    db.advance_time(10.0).unwrap();
    assert_eq!(all.borrow().len(), 3);
    assert_eq!(own.borrow().len(), 2);

    // Removed callbacks see nothing more; a non-function is refused.
    db.on_push(JsValue::NULL).unwrap();
    c.on_push(JsValue::UNDEFINED).unwrap();
    queue_push(&db, c.id(), "message");
    c.exec("PING").unwrap();
    assert_eq!((all.borrow().len(), own.borrow().len()), (3, 2));
    assert_eq!(thrown(db.on_push(5.into())).1, "TypeError");
    c.close();
    assert_eq!(thrown(c.on_push(JsValue::NULL)).0, "the client is closed");
}

#[wasm_bindgen_test]
fn a_push_callback_may_run_commands_and_may_throw() {
    let db = Rc::new(RefCell::new(db_at(T0)));
    let worker = Rc::new(RefCell::new(db.borrow().connect().unwrap()));
    let w = Rc::clone(&worker);
    let cb: Closure<dyn FnMut(JsValue, JsValue)> = Closure::new(move |_msg: JsValue, _id: JsValue| {
        w.borrow_mut().exec("SET from-callback yes").expect("a command inside a push callback");
    });
    db.borrow().on_push(cb.as_ref().clone()).unwrap();
    let id = db.borrow().id().unwrap();
    queue_push(&db.borrow(), id, "message");
    db.borrow_mut().exec("PING").unwrap();
    assert_eq!(text(&db.borrow_mut().exec("GET from-callback").unwrap()), "yes");

    // A callback that throws does not undo the command or stop the engine (the exception goes to console.error).
    let throwing = Function::new_no_args("throw new Error('callback failed')");
    db.borrow().on_push(throwing.into()).unwrap();
    queue_push(&db.borrow(), id, "message");
    assert_eq!(text(&db.borrow_mut().exec("SET after throw").unwrap()), "OK");
    assert_eq!(text(&db.borrow_mut().exec("GET after").unwrap()), "throw");
}

// ---- time ----

#[wasm_bindgen_test]
fn advance_time_expires_keys_without_waiting() {
    let db = db_at(T0);
    assert_eq!(db.now().unwrap(), T0);
    db.exec("SET session abc PX 1500").unwrap();
    db.exec("SET other x EX 100").unwrap();
    db.advance_time(1000.0).unwrap();
    assert_eq!(db.now().unwrap(), T0 + 1000.0);
    assert_eq!(num(&db.exec("PTTL session").unwrap()), 500.0);
    db.advance_time(501.0).unwrap();
    // advanceTime runs active expiry: the key is gone without a lookup.
    assert_eq!(num(&db.exec("DBSIZE").unwrap()), 1.0);
    assert!(db.exec("GET session").unwrap().is_null());
    // Negative or non-finite advances are ignored: the clock never goes back.
    db.advance_time(-5000.0).unwrap();
    db.advance_time(f64::NAN).unwrap();
    assert_eq!(db.now().unwrap(), T0 + 1501.0);
    db.tick().unwrap();
    assert_eq!(db.now().unwrap(), T0 + 1501.0, "a manual clock does not run");
}

#[wasm_bindgen_test]
fn the_running_clock_follows_the_page() {
    let db = Redlet::new(options(&[("clockStart", T0.into())])).unwrap();
    let now = db.now().unwrap();
    assert!((T0..T0 + 60_000.0).contains(&now), "{now}");
    let real = Redlet::new(None).unwrap().now().unwrap();
    assert!((real - js_sys::Date::now()).abs() < 60_000.0);
}

#[wasm_bindgen_test]
fn tick_expires_keys_in_the_background() {
    let db = db_at(T0);
    for i in 0..30 {
        db.exec(&format!("SET k{i} v PX 100")).unwrap();
    }
    db.exec("SET keep v").unwrap();
    db.advance_time(200.0).unwrap();
    db.tick().unwrap();
    // INFO's expired_keys counts what active expiry removed; no key was looked up.
    let info = text(&db.exec("INFO stats").unwrap());
    assert!(info.contains("expired_keys:30"), "{info}");
    assert_eq!(num(&db.exec("DBSIZE").unwrap()), 1.0);
}

// ---- introspection ----

#[wasm_bindgen_test]
fn keys_lists_type_ttl_and_memory() {
    let db = db_at(T0);
    db.exec("SET counter 42").unwrap();
    db.exec("SET name \"Ada Lovelace\" PX 5000").unwrap();
    db.exec("SELECT 2").unwrap();
    db.exec("SET elsewhere 1").unwrap();
    let page = db.keys(None).unwrap();
    assert_eq!(num(&field(&page, "cursor")), 0.0);
    let keys: Array = field(&page, "keys").unchecked_into();
    assert_eq!(keys.length(), 2);
    let by_name = |name: &str| keys.iter().find(|k| field(k, "key").as_string().as_deref() == Some(name)).expect(name);
    let counter = by_name("counter");
    assert_eq!(text(&field(&counter, "type")), "string");
    assert_eq!(text(&field(&counter, "encoding")), "int");
    assert_eq!(num(&field(&counter, "ttl")), -1.0);
    assert!(field(&counter, "expiresAt").is_null());
    // What MEMORY USAGE says for it (and Redis too).
    assert_eq!(num(&field(&counter, "memory")), 56.0);
    let name = by_name("name");
    assert_eq!(num(&field(&name, "ttl")), 5000.0);
    assert_eq!(num(&field(&name, "expiresAt")), T0 + 5000.0);
    assert_eq!(text(&field(&name, "encoding")), "embstr");
    // Another database, a pattern.
    let other = db.keys(keys_opts(&[("db", 2.into())])).unwrap();
    assert_eq!(field(&other, "keys").unchecked_ref::<Array>().length(), 1);
    let matched = db.keys(keys_opts(&[("pattern", "c*".into()), ("count", 100.into())])).unwrap();
    let matched: Array = field(&matched, "keys").unchecked_into();
    assert_eq!(matched.length(), 1);
    assert_eq!(text(&field(&matched.get(0), "key")), "counter");
    // Expired keys are not shown, and looking does not delete them (DBSIZE still counts it until touched).
    db.advance_time(6000.0).unwrap();
    let after: Array = field(&db.keys(None).unwrap(), "keys").unchecked_into();
    assert_eq!(after.length(), 1);
}

#[wasm_bindgen_test]
fn keys_pages_with_a_cursor() {
    let db = db_at(T0);
    for i in 0..200 {
        db.exec(&format!("SET user:{i} {i}")).unwrap();
    }
    let mut cursor = 0.0;
    let mut seen = std::collections::BTreeSet::new();
    let mut calls = 0;
    loop {
        let page = db.keys(keys_opts(&[("cursor", cursor.into()), ("count", 25.into())])).unwrap();
        for k in field(&page, "keys").unchecked_ref::<Array>().iter() {
            seen.insert(text(&field(&k, "key")));
        }
        calls += 1;
        cursor = num(&field(&page, "cursor"));
        if cursor == 0.0 {
            break;
        }
    }
    assert!(calls > 2);
    assert_eq!(seen.len(), 200);
}

#[wasm_bindgen_test]
fn keys_refuses_bad_arguments_with_redis_errors() {
    let db = db_at(T0);
    assert_eq!(thrown(db.keys(keys_opts(&[("db", 16.into())]))).0, "ERR DB index is out of range");
    assert_eq!(thrown(db.keys(keys_opts(&[("db", (-1).into())]))).0, "ERR DB index is out of range");
    assert_eq!(thrown(db.keys(keys_opts(&[("count", 0.into())]))).0, "ERR syntax error");
    assert_eq!(thrown(db.keys(keys_opts(&[("cursor", "abc".into())]))).0, "ERR invalid cursor");
    assert!(db.keys(keys_opts(&[("pattern", 5.into())])).is_ok(), "a number is a pattern as it is an argument");
    assert_eq!(thrown(db.keys(keys_opts(&[("pattern", true.into())]))).1, "TypeError");
}

#[wasm_bindgen_test]
fn inspect_shows_a_value_to_draw() {
    let db = db_at(T0);
    db.exec("SET n 12345 EX 10").unwrap();
    db.exec("SET big 9223372036854775807").unwrap();
    db.exec(r#"SET raw "\x00\xff""#).unwrap();
    db.exec("SET word hello").unwrap();
    let n = db.inspect("n".into(), None).unwrap();
    assert_eq!(text(&field(&n, "type")), "string");
    assert_eq!(text(&field(&n, "value")), "12345");
    assert_eq!(num(&field(&n, "int")), 12345.0);
    assert_eq!(num(&field(&n, "length")), 5.0);
    assert_eq!(num(&field(&n, "ttl")), 10_000.0);
    assert!(field(&db.inspect("big".into(), None).unwrap(), "int").is_bigint());
    let raw = db.inspect(bytes(b"raw"), None).unwrap();
    assert_eq!(field(&raw, "value").dyn_ref::<Uint8Array>().expect("bytes").to_vec(), [0, 255]);
    assert!(field(&db.inspect("word".into(), None).unwrap(), "int").is_null());
    assert!(db.inspect("missing".into(), None).unwrap().is_null());
    assert!(db.inspect("n".into(), Some(1)).unwrap().is_null());
    assert_eq!(thrown(db.inspect(Object::new().into(), None)).1, "TypeError");
    // Inspecting is not an access: OBJECT IDLETIME keeps counting.
    db.advance_time(5000.0).unwrap();
    db.inspect("word".into(), None).unwrap();
    assert_eq!(num(&db.exec("OBJECT IDLETIME word").unwrap()), 5.0);
}

// ---- blocking commands: two clients ----

type Replies = Rc<RefCell<Vec<(JsValue, Vec<u8>)>>>;

fn client_recorder(seen: &Replies) -> Closure<dyn FnMut(JsValue, JsValue)> {
    let seen = Rc::clone(seen);
    Closure::new(move |msg: JsValue, resp: JsValue| {
        seen.borrow_mut().push((msg, resp.unchecked_ref::<Uint8Array>().to_vec()));
    })
}

#[wasm_bindgen_test]
fn blpop_waits_until_another_client_pushes() {
    let db = db_at(T0);
    let producer = db.connect().unwrap();
    let seen: Replies = Rc::default();
    let all: Seen = Rc::default();
    let all_cb = recorder(&all);
    db.on_push(all_cb.as_ref().clone()).unwrap();
    let consumer = db.connect().unwrap();
    let cb = client_recorder(&seen);
    consumer.on_push(cb.as_ref().clone()).unwrap();
    // The consumer blocks: no reply now.
    assert!(consumer.exec("BLPOP jobs 0").unwrap().is_undefined());
    assert_eq!(consumer.exec_formatted("PING").unwrap(), "(error) ERR client is blocked\n");
    assert!(text(&db.exec("INFO clients").unwrap()).contains("blocked_clients:1"));
    // The producer's push serves it: the reply arrives through onPush, as a value and as RESP bytes.
    assert_eq!(num(&producer.exec("RPUSH jobs job-1 job-2").unwrap()), 2.0);
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(strings(&seen.borrow()[0].0), ["jobs", "job-1"]);
    assert_eq!(seen.borrow()[0].1, b"*2\r\n$4\r\njobs\r\n$5\r\njob-1\r\n");
    assert_eq!(*all.borrow(), [("jobs".to_string(), consumer.id())]);
    assert_eq!(strings(&db.exec("LRANGE jobs 0 -1").unwrap()), ["job-2"]);
    // Unblocked, the consumer runs commands again.
    assert_eq!(text(&consumer.exec("PING").unwrap()), "PONG");
}

#[wasm_bindgen_test]
fn a_blocking_timeout_answers_when_time_moves() {
    let db = db_at(T0);
    let seen: Replies = Rc::default();
    let cb = client_recorder(&seen);
    let c = db.connect().unwrap();
    c.on_push(cb.as_ref().clone()).unwrap();
    assert!(c.command(args(&["BLPOP".into(), "empty".into(), 1.into()])).unwrap().is_undefined());
    assert_eq!(c.exec_resp("PING").unwrap().to_vec(), b"-ERR client is blocked\r\n");
    db.advance_time(500.0).unwrap();
    assert!(seen.borrow().is_empty());
    db.advance_time(600.0).unwrap();
    assert_eq!(seen.borrow().len(), 1);
    assert!(seen.borrow()[0].0.is_null());
    assert_eq!(seen.borrow()[0].1, b"*-1\r\n");
    // The console client blocks and times out the same way; execFormatted printed nothing for it.
    assert_eq!(db.exec_formatted("BRPOP empty 0.5").unwrap(), "");
    let console: Seen = Rc::default();
    let console_cb = recorder(&console);
    db.on_push(console_cb.as_ref().clone()).unwrap();
    db.advance_time(600.0).unwrap();
    assert_eq!(console.borrow().len(), 1);
}

#[wasm_bindgen_test]
fn a_closed_blocked_client_is_not_served() {
    let db = db_at(T0);
    let c = db.connect().unwrap();
    assert!(c.exec("BLPOP q 0").unwrap().is_undefined());
    c.close();
    assert_eq!(num(&db.exec("RPUSH q kept").unwrap()), 1.0);
    assert_eq!(strings(&db.exec("LRANGE q 0 -1").unwrap()), ["kept"]);
}

#[wasm_bindgen_test]
fn the_console_client_opens_on_first_use() {
    let db = db_at(T0);
    let c = db.connect().unwrap();
    // Only the client that was used exists.
    assert_eq!(text(&c.exec("CLIENT LIST").unwrap()).lines().count(), 1);
    assert_eq!(db.prompt().unwrap(), "127.0.0.1:6379> ");
    db.exec("PING").unwrap();
    assert_eq!(text(&c.exec("CLIENT LIST").unwrap()).lines().count(), 2);
}

#[wasm_bindgen_test]
fn inspect_draws_lists_and_sets() {
    let db = db_at(T0);
    db.exec("RPUSH queue a b c").unwrap();
    db.exec("SADD tags 30 10 20").unwrap();
    let list = db.inspect("queue".into(), None).unwrap();
    assert_eq!(text(&field(&list, "type")), "list");
    assert_eq!(strings(&field(&list, "value")), ["a", "b", "c"]);
    assert_eq!(num(&field(&list, "length")), 3.0);
    let set = db.inspect("tags".into(), None).unwrap();
    assert_eq!(text(&field(&set, "encoding")), "intset");
    assert_eq!(strings(&field(&set, "value")), ["10", "20", "30"]);
    db.exec("HSET user name Ada").unwrap();
    db.exec("ZADD board 20 bob 10 ada").unwrap();
    let hash = field(&db.inspect("user".into(), None).unwrap(), "value");
    let first = hash.unchecked_ref::<Array>().get(0);
    assert_eq!((text(&field(&first, "field")), text(&field(&first, "value"))), ("name".into(), "Ada".into()));
    let zset = field(&db.inspect("board".into(), None).unwrap(), "value");
    let top = zset.unchecked_ref::<Array>().get(1);
    assert_eq!((text(&field(&top, "member")), num(&field(&top, "score")), num(&field(&top, "rank"))), ("bob".into(), 20.0, 1.0));
}

#[wasm_bindgen_test]
fn publish_reaches_a_subscribed_client_through_on_push() {
    let db = db_at(T0);
    let subscriber = db.connect().unwrap();
    let seen: Replies = Rc::default();
    let cb = client_recorder(&seen);
    subscriber.on_push(cb.as_ref().clone()).unwrap();
    let confirmed = subscriber.exec("SUBSCRIBE news").unwrap();
    assert_eq!(confirmed.unchecked_ref::<Array>().length(), 3);
    assert_eq!(text(&confirmed.unchecked_ref::<Array>().get(0)), "subscribe");
    assert_eq!(num(&db.exec("PUBLISH news hello").unwrap()), 1.0);
    let last = seen.borrow().last().cloned().expect("a message");
    let parts = last.0.unchecked_ref::<Array>().clone();
    assert_eq!((text(&parts.get(0)), text(&parts.get(1)), text(&parts.get(2))), ("message".into(), "news".into(), "hello".into()));
    assert_eq!(last.1, b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
    assert_eq!(num(&db.exec("PUBLISH elsewhere hello").unwrap()), 0.0);
}

// ---- keyspace events ----

type Events = Rc<RefCell<Vec<(f64, String, JsValue)>>>;

fn event_recorder(seen: &Events) -> Closure<dyn FnMut(JsValue)> {
    let seen = Rc::clone(seen);
    Closure::new(move |ev: JsValue| {
        seen.borrow_mut().push((num(&field(&ev, "db")), text(&field(&ev, "event")), field(&ev, "key")));
    })
}

fn event_names(seen: &Events) -> Vec<(String, String)> {
    seen.borrow().iter().map(|(_, e, k)| (e.clone(), k.as_string().unwrap_or_else(|| format!("{k:?}")))).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|&(e, k)| (e.to_string(), k.to_string())).collect()
}

#[wasm_bindgen_test]
fn on_keyspace_reports_what_each_command_did() {
    let db = db_at(T0);
    db.exec("SET before-callback 1").unwrap();
    let seen: Events = Rc::default();
    let cb = event_recorder(&seen);
    db.on_keyspace(cb.as_ref().clone()).unwrap();
    // Nothing from before the callback; then Redis's events in Redis's order, from any client.
    assert!(seen.borrow().is_empty());
    db.exec("RPUSH src a").unwrap();
    db.connect().unwrap().exec("LMOVE src dst LEFT RIGHT").unwrap();
    assert_eq!(
        event_names(&seen),
        pairs(&[("new", "src"), ("rpush", "src"), ("new", "dst"), ("rpush", "dst"), ("lpop", "src"), ("del", "src")])
    );
    // Reads that miss, other databases, binary keys.
    seen.borrow_mut().clear();
    db.exec("GET nothing").unwrap();
    db.exec("SELECT 3").unwrap();
    db.command(args(&["SET".into(), bytes(b"\xff"), "v".into()])).unwrap();
    {
        let seen = seen.borrow();
        assert_eq!((seen[0].0, seen[0].1.as_str(), text(&seen[0].2)), (0.0, "keymiss", "nothing".into()));
        assert_eq!((seen[2].0, seen[2].1.as_str()), (3.0, "set"));
        assert_eq!(seen[2].2.dyn_ref::<Uint8Array>().map(|a| a.to_vec()), Some(vec![0xff]));
    }
    // Events do not depend on notify-keyspace-events, which drives the pub/sub notifications only.
    assert_eq!(text(&db.exec("CONFIG GET notify-keyspace-events").unwrap().unchecked_ref::<Array>().get(1)), "");
}

#[wasm_bindgen_test]
fn on_keyspace_reports_expiry_from_ticks_and_stops_when_removed() {
    let db = db_at(T0);
    let seen: Events = Rc::default();
    let cb = event_recorder(&seen);
    db.on_keyspace(cb.as_ref().clone()).unwrap();
    db.exec("SET session abc PX 100").unwrap();
    db.advance_time(200.0).unwrap();
    assert_eq!(event_names(&seen), pairs(&[("new", "session"), ("set", "session"), ("expire", "session"), ("expired", "session")]));
    // Removed: nothing more is reported (or collected); a non-function is refused.
    db.on_keyspace(JsValue::NULL).unwrap();
    db.exec("SET a 1").unwrap();
    db.on_keyspace(cb.as_ref().clone()).unwrap();
    db.exec("DEL a").unwrap();
    assert_eq!(event_names(&seen).last(), Some(&("del".to_string(), "a".to_string())));
    assert_eq!(seen.borrow().len(), 5);
    let (message, kind) = thrown(db.on_keyspace("nope".into()));
    assert_eq!((message.as_str(), kind.as_str()), ("onKeyspace() takes a function, or null to remove it", "TypeError"));
}

#[wasm_bindgen_test]
fn a_keyspace_callback_may_run_commands() {
    let db = Rc::new(RefCell::new(db_at(T0)));
    let worker = Rc::new(RefCell::new(db.borrow().connect().unwrap()));
    let seen: Events = Rc::default();
    let (w, s) = (Rc::clone(&worker), Rc::clone(&seen));
    // `Fn`, not `FnMut`: the command it runs fires events, which reach this callback again while it runs.
    let cb: Closure<dyn Fn(JsValue)> = Closure::new(move |ev: JsValue| {
        s.borrow_mut().push((0.0, text(&field(&ev, "event")), field(&ev, "key")));
        if text(&field(&ev, "event")) == "lpush" {
            w.borrow_mut().exec("INCR pushes").expect("a command inside a keyspace callback");
        }
    });
    db.borrow().on_keyspace(cb.as_ref().clone()).unwrap();
    db.borrow_mut().exec("LPUSH l a").unwrap();
    assert_eq!(event_names(&seen), pairs(&[("new", "l"), ("lpush", "l"), ("new", "pushes"), ("incrby", "pushes")]));
    assert_eq!(text(&db.borrow_mut().exec("GET pushes").unwrap()), "1");
}

// ---- snapshot and restore ----

/// The snapshot's bytes as Rust sees them.
fn snapshot_of(db: &Redlet) -> Vec<u8> {
    db.snapshot().unwrap().to_vec()
}

#[wasm_bindgen_test]
fn a_snapshot_restores_every_type_database_and_expiry() {
    let db = db_at(T0);
    db.exec("SET greeting hello").unwrap();
    db.exec("RPUSH queue a b c").unwrap();
    db.exec("HSET user:1 name Ada city London").unwrap();
    db.exec("SADD tags x y").unwrap();
    db.exec("ZADD board 10 ada 20 bob").unwrap();
    db.exec("XADD events 1-1 kind login").unwrap();
    db.exec("SET session abc PX 5000").unwrap();
    db.exec("EXPIRE queue 60").unwrap();
    let other_db = db.connect().unwrap();
    other_db.exec("SELECT 3").unwrap();
    other_db.exec("SET only-in-3 yes").unwrap();
    let snap = snapshot_of(&db);
    assert_eq!(snap.get(..9), Some(&b"REDIS0009"[..]), "what SAVE writes: RDB version 9");
    assert_eq!(snapshot_of(&db), snap, "taking a snapshot changes nothing");

    // A second database, a second later on its clock: what it had is replaced, the expiries are absolute.
    let copy = db_at(T0 + 1000.0);
    copy.exec("SET leftover 1").unwrap();
    copy.restore(Uint8Array::from(&snap[..]).into()).unwrap();
    assert!(copy.exec("GET leftover").unwrap().is_null());
    assert_eq!(text(&copy.exec("GET greeting").unwrap()), "hello");
    assert_eq!(strings(&copy.exec("LRANGE queue 0 -1").unwrap()), ["a", "b", "c"]);
    assert_eq!(strings(&copy.exec("HGETALL user:1").unwrap()), ["name", "Ada", "city", "London"]);
    assert_eq!(strings(&copy.exec("ZRANGE board 0 -1 WITHSCORES").unwrap()), ["ada", "10", "bob", "20"]);
    assert_eq!(num(&copy.exec("SCARD tags").unwrap()), 2.0);
    assert_eq!(num(&copy.exec("XLEN events").unwrap()), 1.0);
    assert_eq!(num(&copy.exec("PTTL session").unwrap()), 4000.0);
    assert_eq!(num(&copy.exec("PTTL queue").unwrap()), 59_000.0);
    assert_eq!(num(&copy.exec("PTTL greeting").unwrap()), -1.0);
    copy.exec("SELECT 3").unwrap();
    assert_eq!(text(&copy.exec("GET only-in-3").unwrap()), "yes");

    // Later than an expiry: that key is not loaded, as Redis skips it.
    let late = db_at(T0 + 6000.0);
    late.restore(Uint8Array::from(&snap[..]).into()).unwrap();
    assert!(late.exec("GET session").unwrap().is_null());
    assert_eq!(num(&late.exec("DBSIZE").unwrap()), 6.0);
    // The clients of the restored database stay connected.
    assert_eq!(text(&db.exec("PING").unwrap()), "PONG");
}

#[wasm_bindgen_test]
fn restore_of_what_is_not_a_snapshot_throws_and_changes_nothing() {
    let db = db_at(T0);
    db.exec("SET keep me").unwrap();
    db.exec("SET ttl x EX 100").unwrap();
    let good = snapshot_of(&db);
    let restore = |b: &[u8]| db.restore(Uint8Array::from(b).into());
    assert_eq!(thrown(restore(b"PK\x03\x04 a zip file")), ("Wrong signature trying to load DB from file".into(), "Error".into()));
    assert_eq!(thrown(restore(b"REDIS0099")).0, "Can't handle RDB format version 99");
    assert_eq!(thrown(restore(good.get(..good.len() - 12).unwrap())).0, "Unexpected EOF reading RDB file");
    let mut flipped = good.clone();
    let at = flipped.len() - 2;
    flipped[at] ^= 0x40;
    assert_eq!(thrown(restore(&flipped)).0, "RDB CRC error");
    assert_eq!(thrown(restore(b"")).0, "Unexpected EOF reading RDB file");
    assert_eq!(thrown(db.restore("REDIS0009".into())), ("restore() takes the snapshot as a Uint8Array".into(), "TypeError".into()));
    assert_eq!(thrown(db.restore(JsValue::NULL)).1, "TypeError");
    assert_eq!(text(&db.exec("GET keep").unwrap()), "me");
    assert_eq!(num(&db.exec("TTL ttl").unwrap()), 100.0);
    assert_eq!(snapshot_of(&db), good);
    // An empty database's snapshot empties a database.
    db.restore(db_at(T0).snapshot().unwrap().into()).unwrap();
    assert_eq!(num(&db.exec("DBSIZE").unwrap()), 0.0);
}
