//! The browser's side of keeping the data: IndexedDB (one record, the last snapshot and the clock),
//! downloading a snapshot as `dump.rdb`, reading a file the learner picked or dropped.
//!
//! Every failure comes back as a `String` saying what went wrong (a `DOMException`'s name and message, as
//! `QuotaExceededError: ...`), for the page to show; nothing here panics or throws.
//! IndexedDB's callbacks become promises (`request`): a request's `onsuccess` and `onerror` are the
//! promise's own `resolve` and `reject`, so no Rust closure has to outlive anything.

use std::cell::RefCell;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, DomException, Event, File, HtmlAnchorElement, IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode, Url};

use super::persist::{Saved, Stored};
use super::session::Clock;

/// The database, its one object store, and the key of the one record.
const DB_NAME: &str = "redlet-playground";
const STORE: &str = "snapshots";
const RECORD: &str = "current";
/// A browser that neither opens nor refuses (a stuck upgrade in another tab) is given up on after this.
const OPEN_TIMEOUT_MS: i32 = 3000;

thread_local! {
    /// The open database, kept so that a save started while the page is being hidden reaches IndexedDB at
    /// once, without waiting for an `open`.
    static DB: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

/// A JS failure as text: a `DOMException`'s or `Error`'s name and message, else its string form.
fn describe(e: &JsValue) -> String {
    if let Some(d) = e.dyn_ref::<DomException>() {
        return format!("{}: {}", d.name(), d.message());
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(err.name()), String::from(err.message()));
    }
    e.as_string().unwrap_or_else(|| "unknown error".into())
}

/// Why a request failed: its `error`, or else what the promise was rejected with.
fn request_error(req: &IdbRequest, rejected: &JsValue) -> String {
    match req.error() {
        Ok(Some(d)) => describe(&d),
        _ => describe(rejected),
    }
}

/// A promise settled by the request's own events.
fn request(req: &IdbRequest) -> Promise {
    Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    })
}

/// A promise rejected after `ms` with `why`.
fn timeout(ms: i32, why: &'static str) -> Promise {
    Promise::new(&mut |_, reject| {
        let fire = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(why));
        });
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(fire.unchecked_ref(), ms);
        }
    })
}

/// The database, opened (and created, the first time) if it is not open yet.
async fn open() -> Result<IdbDatabase, String> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let window = web_sys::window().ok_or("no window")?;
    let factory = window.indexed_db().map_err(|e| describe(&e))?.ok_or("IndexedDB is not available")?;
    let req: IdbOpenDbRequest = factory.open_with_u32(DB_NAME, 1).map_err(|e| describe(&e))?;
    // The first open creates the store. Called at most once, and it frees itself then (a browser may still
    // call it after a timeout made us give up, so it must not be dropped here).
    let upgrade = Closure::once_into_js(move |e: Event| {
        let db = e.target().and_then(|t| t.dyn_into::<IdbRequest>().ok()).and_then(|r| r.result().ok());
        if let Some(db) = db.and_then(|d| d.dyn_into::<IdbDatabase>().ok()) {
            if !db.object_store_names().contains(STORE) {
                let _ = db.create_object_store(STORE);
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let opened = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
        // Another tab holds an older version open: nothing will happen until it closes.
        req.set_onblocked(Some(&reject));
    });
    let race = Promise::race(&Array::of2(&opened, &timeout(OPEN_TIMEOUT_MS, "IndexedDB did not answer")));
    if let Err(e) = JsFuture::from(race).await {
        return Err(request_error(&req, &e));
    }
    let db: IdbDatabase = req.result().map_err(|e| describe(&e))?.dyn_into().map_err(|e| describe(&e))?;
    DB.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

/// Forgets the open database after a failure (the browser may have closed it), so the next save reopens it.
fn forget() {
    DB.with(|d| *d.borrow_mut() = None);
}

/// What the browser kept for the playground.
pub async fn read() -> Stored {
    let db = match open().await {
        Ok(db) => db,
        Err(why) => return Stored::Unavailable(why),
    };
    let req = match db.transaction_with_str(STORE).and_then(|tx| tx.object_store(STORE)).and_then(|s| s.get(&RECORD.into())) {
        Ok(req) => req,
        Err(e) => {
            forget();
            return Stored::Unavailable(describe(&e));
        }
    };
    if let Err(e) = JsFuture::from(request(&req)).await {
        return Stored::Unavailable(request_error(&req, &e));
    }
    match req.result() {
        Ok(v) if v.is_undefined() || v.is_null() => Stored::Nothing,
        Ok(v) => Stored::Found(saved_from_js(&v)),
        Err(e) => Stored::Unavailable(describe(&e)),
    }
}

/// The record as `write` lays it out: `{rdb: Uint8Array, clockOffset, pausedAt, savedAt}`. A record that is
/// not one gives empty bytes, which the loader refuses as it refuses any damaged snapshot.
fn saved_from_js(v: &JsValue) -> Saved {
    let get = |name: &str| Reflect::get(v, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    let rdb = get("rdb").dyn_ref::<Uint8Array>().map(Uint8Array::to_vec).unwrap_or_default();
    let offset = get("clockOffset").as_f64().filter(|f| f.is_finite()).map_or(0, |f| f as i64);
    let paused = get("pausedAt").as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64);
    Saved { rdb, clock: Clock::from_parts(offset, paused) }
}

fn saved_to_js(saved: &Saved) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    };
    set("rdb", &Uint8Array::from(saved.rdb.as_slice()).into());
    set("clockOffset", &JsValue::from_f64(saved.clock.offset() as f64));
    set("pausedAt", &saved.clock.paused_at().map_or(JsValue::NULL, |p| JsValue::from_f64(p as f64)));
    set("savedAt", &JsValue::from_f64(js_sys::Date::now()));
    o.into()
}

/// Puts the record in a new transaction now; the promise settles when the transaction does.
fn put(db: &IdbDatabase, saved: &Saved) -> Result<(IdbTransaction, Promise), JsValue> {
    let tx = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)?;
    tx.object_store(STORE)?.put_with_key(&saved_to_js(saved), &RECORD.into())?;
    let done = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        // A full quota aborts the transaction.
        tx.set_onabort(Some(&reject));
    });
    // Committed now rather than when this task ends: a page being left may not get that far. Looked up
    // rather than called through web-sys, which marks it deprecated; browsers without it commit at the end
    // of the task anyway.
    if let Some(commit) = Reflect::get(&tx, &JsValue::from_str("commit")).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
        let _ = commit.call0(&tx);
    }
    Ok((tx, done))
}

/// Saves the record, replacing the one before. When the database is open the write is handed to IndexedDB
/// before this returns (a page being hidden may not run another task), and the future only waits for it.
pub fn write(saved: Saved) -> impl std::future::Future<Output = Result<(), String>> {
    let started = DB.with(|d| d.borrow().clone()).map(|db| put(&db, &saved));
    async move {
        let (tx, done) = match started {
            Some(Ok(started)) => started,
            Some(Err(e)) => {
                forget();
                return Err(describe(&e));
            }
            None => {
                let db = open().await?;
                put(&db, &saved).map_err(|e| {
                    forget();
                    describe(&e)
                })?
            }
        };
        match JsFuture::from(done).await {
            Ok(_) => Ok(()),
            Err(e) => Err(tx.error().map_or_else(|| describe(&e), |d| describe(&d))),
        }
    }
}

/// Offers `bytes` to the learner as a download named `name`.
pub fn download(bytes: &[u8], name: &str) -> Result<(), String> {
    let fail = |e: JsValue| describe(&e);
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let body = document.body().ok_or("no document body")?;
    let options = BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let parts = Array::of1(&Uint8Array::from(bytes));
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let link: HtmlAnchorElement = document.create_element("a").map_err(fail)?.dyn_into().map_err(|_| "no link element")?;
    link.set_href(&url);
    link.set_download(name);
    link.set_hidden(true);
    body.append_child(&link).map_err(fail)?;
    link.click();
    link.remove();
    // The browser reads the URL after click() returns: it is released a while later.
    gloo::timers::callback::Timeout::new(60_000, move || {
        let _ = Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// The content of a file the learner picked or dropped.
pub async fn read_file(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|e| describe(&e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
