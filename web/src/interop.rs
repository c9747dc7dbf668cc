//! Every conversion between JavaScript and Rust values, in one place.
//!
//! The mapping (also documented in README.md and typed in the `.d.ts`):
//! - Replies become plain JS values as the client sees them: a RESP2 client gets Redis's RESP2 shapes (a map
//!   as a flat array, a double as a string), a RESP3 client the richer ones.
//! - Status, bulk and verbatim strings are JS strings when their bytes are valid UTF-8, `Uint8Array` otherwise,
//!   so no byte is ever lost to a replacement character.
//! - Integers are JS numbers within ±(2^53 − 1) (`Number.MAX_SAFE_INTEGER`) and `BigInt`s beyond, so every
//!   integer is exact; RESP3 big numbers are `BigInt`s.
//! - Nil is `null`; arrays, sets and pushes are arrays; booleans and doubles are booleans and numbers.
//! - A RESP3 map is a plain object when every key is text (a string, or a number as its decimal text), else a
//!   `Map` keeping the keys as values.
//! - An error reply is thrown as a JS `Error` whose message is Redis's text; inside an aggregate it stays an
//!   `Error` object in place.
//!
//! Arguments are strings (sent as UTF-8), `Uint8Array`s (sent as they are), or numbers and `BigInt`s (sent as
//! their decimal text, as `String(n)` writes them).

use js_sys::{Array, BigInt, Function, Map, Object, Reflect, Uint8Array};
use redlet_core::config::parse_memory;
use redlet_core::util::strtod;
use redlet_core::{Error, KeyEvent, Reply};
use wasm_bindgen::{JsCast, JsValue};

use crate::introspect::{Inspection, KeyInfo, KeysPage, ScanArgs, View};

/// Integers beyond this become `BigInt`s (JavaScript's `Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;
/// Nesting deeper than this in a value handed to `format` is refused (it would be a cycle, in practice).
const MAX_DEPTH: usize = 128;

/// A JS `Error` with this message.
pub fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// A JS `TypeError`, for arguments of the wrong kind (a mistake in the calling code, not a Redis error).
pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn redis_error(e: &Error) -> JsValue {
    // CR and LF become spaces, as on the wire.
    error(&format!("{e}").replace(['\r', '\n'], " "))
}

/// A command's reply as a JS value for a client speaking `resp`; an error reply is the `Err`, to be thrown.
pub fn reply_to_js(reply: &Reply, resp: u8) -> Result<JsValue, JsValue> {
    if let Reply::Error(e) = reply {
        return Err(redis_error(e));
    }
    Ok(value_for(reply, resp))
}

/// A reply (a push message, an element) as a JS value; errors become `Error` objects, not exceptions.
pub fn value_for(reply: &Reply, resp: u8) -> JsValue {
    to_js(reply, resp >= 3)
}

/// The commonest status replies, whose JS strings are made once: handing out a reference to one is cheaper
/// than decoding the text again on every reply.
const COMMON_STATUS: [&str; 3] = ["OK", "PONG", "QUEUED"];

thread_local! {
    static COMMON_STATUS_JS: [JsValue; 3] = COMMON_STATUS.map(JsValue::from_str);
}

/// The JS value of a reply as a RESP3 client sees it, or (`v3` false) as a RESP2 client does: the RESP2 shapes
/// are made here as `lower_resp2` makes them (a map as a flat array, a double as its `%.17g` text, a boolean as
/// 0 or 1, a big number as its text), without building the lowered reply first.
fn to_js(reply: &Reply, v3: bool) -> JsValue {
    match reply {
        Reply::Status(s) => match COMMON_STATUS.iter().position(|c| c == s) {
            Some(i) => COMMON_STATUS_JS.with(|common| common.get(i).cloned()).unwrap_or_else(|| JsValue::from_str(s)),
            None => JsValue::from_str(s),
        },
        Reply::Error(e) => redis_error(e),
        Reply::Integer(i) => int_to_js(*i),
        Reply::Bulk(b) | Reply::Verbatim(_, b) => bytes_to_js(b),
        Reply::Nil | Reply::NilArray | Reply::NullOf(_) => JsValue::NULL,
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => items.iter().map(|r| to_js(r, v3)).collect::<Array>().into(),
        Reply::Map(pairs) if v3 => map_to_js(pairs),
        Reply::Map(pairs) => pairs.iter().flat_map(|(k, v)| [to_js(k, v3), to_js(v, v3)]).collect::<Array>().into(),
        Reply::Double(d) if v3 => JsValue::from_f64(*d),
        Reply::Double(d) => JsValue::from_str(&redlet_core::util::fmt_double(*d)),
        // The number its text says (JS parses "inf" and friends as NaN, so those keep their text).
        Reply::DoubleText(t) if v3 => match strtod(t.as_bytes()) {
            p if p.consumed == t.len() && !t.is_empty() => JsValue::from_f64(p.value),
            _ => JsValue::from_str(t),
        },
        Reply::Bool(b) if v3 => JsValue::from_bool(*b),
        Reply::Bool(b) => int_to_js(i64::from(*b)),
        Reply::BigNumber(n) if v3 => BigInt::new(&JsValue::from_str(n)).map_or_else(|_| JsValue::from_str(n), JsValue::from),
        Reply::BigNumber(t) | Reply::DoubleText(t) => JsValue::from_str(t),
    }
}

// Short ASCII strings (most keys, values and members a reply carries) are built by a loop in JS over the
// wasm memory: wasm-bindgen decodes every string with a `TextDecoder`, whose call costs more than the
// string (181 against 71 ns for ten bytes in Node 20; `bench/ANALYSIS.md`).
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
let view = null;
export function ascii_text(memory, ptr, len) {
  if (view === null || view.buffer !== memory.buffer) view = new Uint8Array(memory.buffer);
  let s = "";
  for (let i = ptr, end = ptr + len; i < end; i++) s += String.fromCharCode(view[i]);
  return s;
}
"#)]
extern "C" {
    fn ascii_text(memory: &JsValue, ptr: *const u8, len: usize) -> JsValue;
}

thread_local! {
    /// The module's memory, handed to `ascii_text` (a handle made once).
    static MEMORY: JsValue = wasm_bindgen::memory();
}

/// Strings up to this long take the `ascii_text` path when they are ASCII.
const SHORT_TEXT: usize = 32;

/// A string's bytes: a JS string when they are UTF-8, else a `Uint8Array` of them.
pub fn bytes_to_js(bytes: &[u8]) -> JsValue {
    if bytes.len() <= SHORT_TEXT && bytes.is_ascii() {
        return MEMORY.with(|memory| ascii_text(memory, bytes.as_ptr(), bytes.len()));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => JsValue::from_str(s),
        Err(_) => Uint8Array::from(bytes).into(),
    }
}

pub fn int_to_js(i: i64) -> JsValue {
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) {
        JsValue::from_f64(i as f64)
    } else {
        BigInt::from(i).into()
    }
}

/// A map key as an object property name, when it has a text form.
fn text_key(key: &Reply) -> Option<String> {
    match key {
        Reply::Status(s) => Some(s.clone()),
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b.clone()).ok(),
        Reply::Integer(i) => Some(i.to_string()),
        Reply::DoubleText(t) => Some(t.clone()),
        Reply::BigNumber(n) => Some(n.clone()),
        _ => None,
    }
}

fn map_to_js(pairs: &[(Reply, Reply)]) -> JsValue {
    let keys: Option<Vec<String>> = pairs.iter().map(|(k, _)| text_key(k)).collect();
    match keys {
        Some(keys) => {
            let obj = Object::new();
            for (key, (_, value)) in keys.iter().zip(pairs) {
                set(&obj, key, &to_js(value, true));
            }
            obj.into()
        }
        None => {
            let map = Map::new();
            for (k, v) in pairs {
                map.set(&to_js(k, true), &to_js(v, true));
            }
            map.into()
        }
    }
}

/// Sets an own, enumerable property; a key named `__proto__` is defined rather than assigned, so it stays data.
fn set(obj: &Object, key: &str, value: &JsValue) {
    let key_js = JsValue::from_str(key);
    if key == "__proto__" {
        let descriptor = Object::new();
        for (flag, v) in [("value", value.clone()), ("enumerable", true.into()), ("writable", true.into()), ("configurable", true.into())] {
            let _ = Reflect::set(&descriptor, &JsValue::from_str(flag), &v);
        }
        Object::define_property(obj, &key_js, &descriptor);
    } else {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(obj, &key_js, value);
    }
}

/// The argument vector of `command(args)`.
pub fn args_from_js(args: &JsValue) -> Result<Vec<Vec<u8>>, JsValue> {
    if !Array::is_array(args) {
        return Err(type_error("command() takes an array of arguments"));
    }
    let array: &Array = args.unchecked_ref();
    array.iter().enumerate().map(|(i, a)| arg_from_js(&a).ok_or_else(|| bad_arg(i))).collect()
}

/// The argument vectors of `commands(list)`.
pub fn command_list_from_js(list: &JsValue) -> Result<Vec<Vec<Vec<u8>>>, JsValue> {
    if !Array::is_array(list) {
        return Err(type_error("commands() takes an array of argument arrays"));
    }
    list.unchecked_ref::<Array>().iter().map(|args| args_from_js(&args)).collect()
}

/// The lines of `execMany(lines)`.
pub fn lines_from_js(lines: &JsValue) -> Result<Vec<String>, JsValue> {
    if !Array::is_array(lines) {
        return Err(type_error("execMany() takes an array of strings"));
    }
    let not_text = || type_error("execMany() takes an array of strings");
    lines.unchecked_ref::<Array>().iter().map(|l| l.as_string().ok_or_else(not_text)).collect()
}

fn bad_arg(i: usize) -> JsValue {
    type_error(&format!("argument {i} must be a string, a Uint8Array, a number or a bigint"))
}

/// One argument's bytes: strings as UTF-8, bytes as they are, numbers as `String(n)` writes them.
pub fn arg_from_js(a: &JsValue) -> Option<Vec<u8>> {
    if let Some(s) = a.as_string() {
        Some(s.into_bytes())
    } else if let Some(bytes) = a.dyn_ref::<Uint8Array>() {
        Some(bytes.to_vec())
    } else {
        decimal_text(a).map(String::into_bytes)
    }
}

/// `String(n)` of a number or a `BigInt`.
pub fn decimal_text(a: &JsValue) -> Option<String> {
    if a.as_f64().is_some() {
        a.unchecked_ref::<js_sys::Number>().to_string_with_radix(10).ok().map(String::from)
    } else if a.is_bigint() {
        a.unchecked_ref::<BigInt>().to_string(10).ok().map(String::from)
    } else {
        None
    }
}

/// A JS value back into a reply, for `format`: the inverse of [`value_for`] as far as JS values allow (a
/// status reply has become a string, so it formats as a bulk string; an integral double as an integer).
pub fn reply_from_js(v: &JsValue) -> Result<Reply, JsValue> {
    from_js(v, 0)
}

fn from_js(v: &JsValue, depth: usize) -> Result<Reply, JsValue> {
    if depth > MAX_DEPTH {
        return Err(type_error("format(): the value is nested too deeply (a cycle?)"));
    }
    if v.is_null() || v.is_undefined() {
        return Ok(Reply::Nil);
    }
    if let Some(s) = v.as_string() {
        return Ok(Reply::Bulk(s.into_bytes()));
    }
    if let Some(b) = v.as_bool() {
        return Ok(Reply::Bool(b));
    }
    if let Some(d) = v.as_f64() {
        let integral = d.fract() == 0.0 && d.abs() <= MAX_SAFE_INTEGER as f64;
        return Ok(if integral { Reply::Integer(d as i64) } else { Reply::Double(d) });
    }
    if v.is_bigint() {
        let text = decimal_text(v).unwrap_or_default();
        return Ok(text.parse::<i64>().map_or(Reply::BigNumber(text), Reply::Integer));
    }
    if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
        return Ok(Reply::Bulk(bytes.to_vec()));
    }
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return Ok(Reply::Error(Error::Other(String::from(e.message()))));
    }
    if Array::is_array(v) {
        let array: &Array = v.unchecked_ref();
        return array.iter().map(|item| from_js(&item, depth + 1)).collect::<Result<_, _>>().map(Reply::Array);
    }
    if let Some(map) = v.dyn_ref::<Map>() {
        let mut pairs = Vec::new();
        for entry in map.entries().into_iter().flatten() {
            let kv: Array = entry.unchecked_into();
            pairs.push((from_js(&kv.get(0), depth + 1)?, from_js(&kv.get(1), depth + 1)?));
        }
        return Ok(Reply::Map(pairs));
    }
    if v.is_object() && !v.is_function() {
        let mut pairs = Vec::new();
        for entry in Object::entries(v.unchecked_ref()).iter() {
            let kv: Array = entry.unchecked_into();
            pairs.push((from_js(&kv.get(0), depth + 1)?, from_js(&kv.get(1), depth + 1)?));
        }
        return Ok(Reply::Map(pairs));
    }
    Err(type_error("format() takes a reply: a string, number, bigint, boolean, null, Uint8Array, Error, array, Map or object"))
}

/// `new Redlet(options)`, read.
pub struct Options {
    pub seed: Option<u64>,
    pub maxmemory: Option<u64>,
    /// One of `config::MAXMEMORY_POLICIES`.
    pub maxmemory_policy: Option<&'static str>,
    pub resp: u8,
    pub clock_start: Option<f64>,
    pub manual_clock: bool,
}

fn get(obj: &JsValue, name: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A non-negative integer from a number or a `BigInt`.
fn whole_number(v: &JsValue) -> Option<u64> {
    if let Some(d) = v.as_f64() {
        return (d.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&d)).then_some(d as u64);
    }
    if v.is_bigint() {
        return decimal_text(v)?.parse().ok();
    }
    None
}

pub fn options_from_js(options: Option<&JsValue>) -> Result<Options, JsValue> {
    let mut out = Options { seed: None, maxmemory: None, maxmemory_policy: None, resp: 2, clock_start: None, manual_clock: false };
    let Some(o) = options.filter(|o| !is_absent(o)) else { return Ok(out) };
    if !o.is_object() {
        return Err(type_error("new Redlet(options): options must be an object"));
    }
    let seed = get(o, "seed");
    if !is_absent(&seed) {
        out.seed = Some(whole_number(&seed).ok_or_else(|| type_error("options.seed must be a non-negative integer (number or bigint)"))?);
    }
    let maxmemory = get(o, "maxmemory");
    if !is_absent(&maxmemory) {
        let bytes = match maxmemory.as_string() {
            Some(s) => parse_memory(s.as_bytes()),
            None => whole_number(&maxmemory),
        };
        out.maxmemory = Some(bytes.ok_or_else(|| type_error("options.maxmemory must be a byte count or a size such as \"100mb\""))?);
    }
    let policy = get(o, "maxmemoryPolicy");
    if !is_absent(&policy) {
        let name = policy.as_string().ok_or_else(|| type_error("options.maxmemoryPolicy must be a string"))?;
        let known = redlet_core::config::MAXMEMORY_POLICIES.iter().find(|p| p.eq_ignore_ascii_case(&name));
        out.maxmemory_policy = Some(*known.ok_or_else(|| {
            let names = redlet_core::config::MAXMEMORY_POLICIES.join(", ");
            JsValue::from(js_sys::RangeError::new(&format!("options.maxmemoryPolicy must be one of: {names}")))
        })?);
    }
    let resp = get(o, "resp");
    if !is_absent(&resp) {
        out.resp = match resp.as_f64() {
            Some(v) if v == 2.0 || v == 3.0 => v as u8,
            _ => return Err(js_sys::RangeError::new("options.resp must be 2 or 3").into()),
        };
    }
    let clock_start = get(o, "clockStart");
    if !is_absent(&clock_start) {
        match clock_start.as_f64() {
            Some(t) if t.is_finite() && t >= 0.0 => out.clock_start = Some(t.floor()),
            _ => return Err(type_error("options.clockStart must be a time in unix milliseconds")),
        }
    }
    out.manual_clock = get(o, "manualClock").is_truthy();
    Ok(out)
}

/// `keys(options)`, read: the scan's arguments.
pub fn scan_args_from_js(options: Option<&JsValue>) -> Result<ScanArgs, JsValue> {
    let mut args = ScanArgs { db: 0, pattern: None, cursor: 0, count: 10 };
    let Some(o) = options.filter(|o| !is_absent(o)) else { return Ok(args) };
    let db = get(o, "db");
    if !is_absent(&db) {
        args.db = whole_number(&db).and_then(|d| usize::try_from(d).ok()).ok_or_else(|| error("ERR DB index is out of range"))?;
    }
    let pattern = get(o, "pattern");
    if !is_absent(&pattern) {
        args.pattern = Some(arg_from_js(&pattern).ok_or_else(|| type_error("keys(): pattern must be a string or a Uint8Array"))?);
    }
    let cursor = get(o, "cursor");
    if !is_absent(&cursor) {
        args.cursor = whole_number(&cursor).ok_or_else(|| error("ERR invalid cursor"))?;
    }
    let count = get(o, "count");
    if !is_absent(&count) {
        args.count = whole_number(&count).and_then(|c| usize::try_from(c).ok()).ok_or_else(|| error("ERR value is not an integer or out of range"))?;
    }
    Ok(args)
}

/// A Redis error from the engine's own checks (db index, count) as a thrown `Error`.
pub fn engine_error(e: &Error) -> JsValue {
    redis_error(e)
}

fn key_info_object(info: &KeyInfo) -> Object {
    let obj = Object::new();
    set(&obj, "key", &bytes_to_js(&info.key));
    set(&obj, "type", &JsValue::from_str(info.type_name));
    set(&obj, "encoding", &JsValue::from_str(info.encoding));
    set(&obj, "ttl", &int_to_js(info.ttl_ms));
    set(&obj, "expiresAt", &info.expires_at.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64)));
    set(&obj, "memory", &JsValue::from_f64(info.memory as f64));
    obj
}

pub fn keys_page_to_js(page: &KeysPage) -> JsValue {
    let obj = Object::new();
    set(&obj, "cursor", &JsValue::from_f64(page.cursor as f64));
    let keys: Array = page.keys.iter().map(key_info_object).collect();
    set(&obj, "keys", &keys);
    obj.into()
}

pub fn inspection_to_js(inspection: Option<&Inspection>) -> JsValue {
    let Some(inspection) = inspection else { return JsValue::NULL };
    let obj = key_info_object(&inspection.info);
    match &inspection.view {
        View::Str { bytes, int, hll } => {
            set(&obj, "value", &bytes_to_js(bytes));
            // The raw bytes as well, for drawing a bitmap whatever the text is.
            set(&obj, "bytes", &bytes_to_uint8array(bytes));
            set(&obj, "length", &JsValue::from_f64(bytes.len() as f64));
            set(&obj, "int", &int.map_or(JsValue::NULL, int_to_js));
            set(&obj, "estimate", &hll.map_or(JsValue::NULL, |n| JsValue::from_f64(n as f64)));
        }
        View::List { items, len } => {
            let array: Array = items.iter().map(|b| bytes_to_js(b)).collect();
            set(&obj, "length", &JsValue::from_f64(*len as f64));
            set(&obj, "value", &array);
        }
        View::Set { members, len } => {
            let array: Array = members.iter().map(|b| bytes_to_js(b)).collect();
            set(&obj, "length", &JsValue::from_f64(*len as f64));
            set(&obj, "value", &array);
        }
        View::Hash { fields, len } => {
            let array: Array = fields
                .iter()
                .map(|(f, v)| {
                    let entry = Object::new();
                    set(&entry, "field", &bytes_to_js(f));
                    set(&entry, "value", &bytes_to_js(v));
                    JsValue::from(entry)
                })
                .collect();
            set(&obj, "length", &JsValue::from_f64(*len as f64));
            set(&obj, "value", &array);
        }
        View::ZSet { members, len } => {
            let array: Array = members
                .iter()
                .enumerate()
                .map(|(rank, (m, score))| {
                    let entry = Object::new();
                    set(&entry, "member", &bytes_to_js(m));
                    set(&entry, "score", &JsValue::from_f64(*score));
                    set(&entry, "rank", &JsValue::from_f64(rank as f64));
                    JsValue::from(entry)
                })
                .collect();
            set(&obj, "length", &JsValue::from_f64(*len as f64));
            set(&obj, "value", &array);
        }
        View::Stream { entries, len, last_id, groups } => {
            let array: Array = entries
                .iter()
                .map(|e| {
                    let entry = Object::new();
                    set(&entry, "id", &JsValue::from_str(&e.id));
                    let fields = Object::new();
                    for (f, v) in &e.fields {
                        set(&fields, &String::from_utf8_lossy(f), &bytes_to_js(v));
                    }
                    set(&entry, "fields", &fields);
                    JsValue::from(entry)
                })
                .collect();
            let groups: Array = groups
                .iter()
                .map(|g| {
                    let group = Object::new();
                    set(&group, "name", &bytes_to_js(&g.name));
                    set(&group, "lastDeliveredId", &JsValue::from_str(&g.last_delivered_id));
                    let consumers: Array = g
                        .consumers
                        .iter()
                        .map(|(name, pending)| {
                            let c = Object::new();
                            set(&c, "name", &bytes_to_js(name));
                            set(&c, "pending", &JsValue::from_f64(*pending as f64));
                            JsValue::from(c)
                        })
                        .collect();
                    set(&group, "consumers", &consumers);
                    let pending: Array = g
                        .pending
                        .iter()
                        .map(|(id, consumer, deliveries)| {
                            let p = Object::new();
                            set(&p, "id", &JsValue::from_str(id));
                            set(&p, "consumer", &bytes_to_js(consumer));
                            set(&p, "deliveries", &JsValue::from_f64(*deliveries as f64));
                            JsValue::from(p)
                        })
                        .collect();
                    set(&group, "pending", &pending);
                    JsValue::from(group)
                })
                .collect();
            set(&obj, "length", &JsValue::from_f64(*len as f64));
            set(&obj, "lastId", &JsValue::from_str(last_id));
            set(&obj, "value", &array);
            set(&obj, "groups", &groups);
        }
    }
    obj.into()
}

/// A key argument of `inspect`.
pub fn key_from_js(key: &JsValue) -> Result<Vec<u8>, JsValue> {
    arg_from_js(key).ok_or_else(|| type_error("inspect(): the key must be a string or a Uint8Array"))
}

/// `restore`'s argument: the snapshot's bytes, as a `Uint8Array`.
pub fn rdb_from_js(bytes: &JsValue) -> Result<Vec<u8>, JsValue> {
    bytes.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec).ok_or_else(|| type_error("restore() takes the snapshot as a Uint8Array"))
}

/// A callback argument of `method` (`onPush`, `onKeyspace`): a function, or null/undefined to remove it.
pub fn callback_from_js(cb: &JsValue, method: &str) -> Result<Option<Function>, JsValue> {
    if is_absent(cb) {
        return Ok(None);
    }
    cb.dyn_ref::<Function>()
        .cloned()
        .map(Some)
        .ok_or_else(|| type_error(&format!("{method}() takes a function, or null to remove it")))
}

/// A keyspace event for `onKeyspace`: `{db, event, key}`, the key a string when it is UTF-8 (as replies are).
pub fn key_event_to_js(ev: &KeyEvent) -> JsValue {
    let obj = Object::new();
    set(&obj, "db", &JsValue::from_f64(ev.db as f64));
    set(&obj, "event", &JsValue::from_str(ev.event));
    set(&obj, "key", &bytes_to_js(&ev.key));
    obj.into()
}

/// Bytes for JS (`execResp`).
pub fn bytes_to_uint8array(bytes: &[u8]) -> Uint8Array {
    Uint8Array::from(bytes)
}
