//! The data's actions in the header, and its life across reloads.
//!
//! The full page saves a snapshot of its data (and the virtual clock) in the browser after writes, once
//! they pause for `persist::QUIET_MS`, and at once when the page is hidden or left. Download offers the data
//! as `dump.rdb`; Load takes one from the file picker or dropped anywhere on the page; Reset empties every
//! database after a confirmation. What goes wrong (storage refused or full, a file that is not a snapshot)
//! shows as a small notice; the page goes on working, and a refused file changes nothing.
//! `<body data-storage>` says where saving stands (`off`, `pending`, `saved`, `error`), for tests.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::timers::callback::{Interval, Timeout};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DragEvent, Event, File, HtmlElement, HtmlInputElement, VisibilityState};
use yew::prelude::*;

use super::super::browser::{now_ms, target};
use super::super::i18n::{plural, t, Lang, Msg, Plural};
use super::super::persist::{Autosave, Mark, Problem, Saved};
use super::super::state::{Action, SessionRef};
use super::super::storage;
use super::use_app;

/// How often the page looks for changes to save (ms).
const WATCH_MS: u32 = 100;
/// How long a notice that only informs stays (ms); errors stay until dismissed.
const INFO_MS: u32 = 6000;
/// The file name redis-server gives its snapshot.
const FILE_NAME: &str = "dump.rdb";

/// What the notice says.
#[derive(Clone, Debug, PartialEq)]
enum Notice {
    ResetDone,
    Loaded { name: String, keys: u64 },
    BadFile { name: String, error: String },
    DownloadFailed(String),
    SaveFailed(String),
    StorageOff(String),
    Unreadable(String),
}

impl Notice {
    fn is_error(&self) -> bool {
        !matches!(self, Notice::ResetDone | Notice::Loaded { .. })
    }

    fn text(&self, lang: Lang) -> Html {
        let isolated = |s: &String| html! { <bdi dir="ltr">{ s.clone() }</bdi> };
        match self {
            Notice::ResetDone => html! { t(lang, Msg::ResetDone) },
            Notice::Loaded { name, keys } => {
                fill(t(lang, Msg::Loaded), &[("name", isolated(name)), ("keys", html! { plural(lang, Plural::KeyCount, *keys, &[]) })])
            }
            Notice::BadFile { name, error } => fill(t(lang, Msg::BadFile), &[("name", isolated(name)), ("error", isolated(error))]),
            Notice::DownloadFailed(e) => fill(t(lang, Msg::DownloadFailed), &[("error", isolated(e))]),
            Notice::SaveFailed(e) => fill(t(lang, Msg::Storage), &[("error", isolated(e))]),
            Notice::StorageOff(e) => fill(t(lang, Msg::StorageOff), &[("error", isolated(e))]),
            Notice::Unreadable(e) => fill(t(lang, Msg::StorageUnreadable), &[("error", isolated(e))]),
        }
    }
}

/// A message with its `{placeholders}` replaced by markup: a file name or an error (text from elsewhere,
/// usually English) goes in a `<bdi>`, so that it cannot reorder the right-to-left sentence around it.
fn fill(template: &str, args: &[(&str, Html)]) -> Html {
    let mut parts: Vec<Html> = Vec::new();
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        let Some((name, tail)) = after.split_once('}') else { break };
        parts.push(html! { before.to_string() });
        match args.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => parts.push(v.clone()),
            None => parts.push(html! { format!("{{{name}}}") }),
        }
        rest = tail;
    }
    parts.push(html! { rest.to_string() });
    parts.into_iter().collect::<Html>()
}

/// Where saving stands, on `<body data-storage>`; written only when it changes.
fn set_status(status: &str) {
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        if body.get_attribute("data-storage").as_deref() != Some(status) {
            let _ = body.set_attribute("data-storage", status);
        }
    }
}

/// Saves what the session holds now; `on_fail` hears why a save failed.
fn save(session: &SessionRef, autosave: &Rc<RefCell<Autosave>>, on_fail: &Callback<String>) {
    let (mark, saved) = match session.try_borrow() {
        Ok(s) => (Mark::of(&s), Saved { rdb: s.snapshot(), clock: s.clock }),
        Err(_) => return,
    };
    autosave.borrow_mut().begin(mark);
    // The write reaches IndexedDB inside this call; only its completion is awaited.
    let write = storage::write(saved);
    let (autosave, on_fail) = (Rc::clone(autosave), on_fail.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let result = write.await;
        let pending = {
            let mut a = autosave.borrow_mut();
            a.finish(mark, result.is_ok());
            a.pending()
        };
        match result {
            Ok(()) => set_status(if pending { "pending" } else { "saved" }),
            Err(why) => {
                set_status("error");
                on_fail.emit(why);
            }
        }
    });
}

/// Whether a drag carries files (not text or a link dragged within the page).
fn carries_files(e: &Event) -> bool {
    e.dyn_ref::<DragEvent>().and_then(|d| d.data_transfer()).is_some_and(|dt| dt.types().includes(&"Files".into(), 0))
}

#[derive(Properties, PartialEq)]
pub struct DataActionsProps {
    /// In an embed only Reset is offered.
    pub embed: bool,
}

#[component]
pub fn DataActions(props: &DataActionsProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let keep = app.persistence.keep;
    let notice = {
        let problem = app.persistence.problem.clone();
        use_state(move || {
            problem.map(|p| match p {
                Problem::Unavailable(why) => Notice::StorageOff(why),
                Problem::Unreadable(why) => Notice::Unreadable(why),
            })
        })
    };
    let confirming = use_state(|| false);
    let dragging = use_state(|| false);
    let drag_depth = use_mut_ref(|| 0i32);
    let file_input = use_node_ref();
    let cancel_button = use_node_ref();
    let backdrop = use_node_ref();
    // The engine for timers and listeners, which outlive a render (a reset makes a new one).
    let session = use_mut_ref(|| app.session.clone());
    *session.borrow_mut() = app.session.clone();
    // Made in the first render, before the URL's commands run: what the storage holds is the data now.
    let autosave = use_mut_ref(|| Autosave::new(app.session.try_borrow().map(|s| Mark::of(&s)).unwrap_or(Mark { changes: 0, clock: Default::default() })));

    // Saving: a look every WATCH_MS, a save once the data has been quiet long enough, and at once when the
    // page is hidden or left (the last chance a phone gives).
    {
        let (session, autosave, notice) = (session.clone(), autosave.clone(), notice.setter());
        use_effect_with(keep, move |&keep| {
            let mut listeners = Vec::new();
            let mut interval = None;
            if keep {
                set_status("saved");
                let on_fail = Callback::from(move |why: String| notice.set(Some(Notice::SaveFailed(why))));
                let check = Rc::new(move |leaving: bool| {
                    let current = session.borrow().clone();
                    let Ok(mark) = current.try_borrow().map(|s| Mark::of(&s)) else { return };
                    let now = now_ms();
                    let go = {
                        let mut a = autosave.borrow_mut();
                        a.observe(mark, now);
                        if a.unsaved() {
                            set_status("pending");
                        }
                        if leaving {
                            a.unsaved()
                        } else {
                            a.due(now)
                        }
                    };
                    if go {
                        save(&current, &autosave, &on_fail);
                    }
                });
                let tick = Rc::clone(&check);
                interval = Some(Interval::new(WATCH_MS, move || tick(false)));
                if let Some(window) = web_sys::window() {
                    let on_hide = Rc::clone(&check);
                    listeners.push(EventListener::new(&window, "pagehide", move |_| on_hide(true)));
                    if let Some(document) = window.document() {
                        let on_hidden = Rc::clone(&check);
                        let doc = document.clone();
                        listeners.push(EventListener::new(&document, "visibilitychange", move |_| {
                            if doc.visibility_state() == VisibilityState::Hidden {
                                on_hidden(true);
                            }
                        }));
                    }
                }
            } else {
                set_status("off");
            }
            move || {
                drop(interval);
                drop(listeners);
            }
        });
    }

    // A notice that only informs goes by itself.
    {
        let handle = notice.clone();
        use_effect_with((*notice).clone(), move |shown| {
            let timer = shown.as_ref().filter(|n| !n.is_error()).map(|_| Timeout::new(INFO_MS, move || handle.set(None)));
            move || drop(timer)
        });
    }

    // A file from the picker or a drop: read, then loaded all or nothing.
    let load = {
        let (session, dispatch, notice) = (session.clone(), app.dispatch.clone(), notice.setter());
        Callback::from(move |file: File| {
            let (session, dispatch, notice) = (session.clone(), dispatch.clone(), notice.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let name = file.name();
                let loaded = match storage::read_file(&file).await {
                    Ok(bytes) => {
                        let current = session.borrow().clone();
                        let mut s = match current.try_borrow_mut() {
                            Ok(s) => s,
                            Err(_) => return,
                        };
                        s.restore(&bytes, now_ms()).map(|()| s.key_count() as u64).map_err(|e| e.to_string())
                    }
                    Err(why) => Err(why),
                };
                match loaded {
                    Ok(keys) => {
                        dispatch.dispatch(Action::Restored { real: now_ms() });
                        notice.set(Some(Notice::Loaded { name, keys }));
                    }
                    Err(error) => notice.set(Some(Notice::BadFile { name, error })),
                }
            });
        })
    };

    // Dropping a file anywhere on the page loads it; while one is dragged over the page, the page says so.
    {
        let (load, dragging, depth) = (load.clone(), dragging.setter(), drag_depth.clone());
        use_effect_with(props.embed, move |&embed| {
            let mut listeners = Vec::new();
            if let (false, Some(window)) = (embed, web_sys::window()) {
                let on = |name: &'static str, f: Box<dyn Fn(&Event)>| {
                    EventListener::new_with_options(&window, name, EventListenerOptions::enable_prevent_default(), move |e| f(e))
                };
                let (d, show) = (depth.clone(), dragging.clone());
                listeners.push(on(
                    "dragenter",
                    Box::new(move |e| {
                        if carries_files(e) {
                            e.prevent_default();
                            *d.borrow_mut() += 1;
                            show.set(true);
                        }
                    }),
                ));
                listeners.push(on(
                    "dragover",
                    Box::new(|e| {
                        if carries_files(e) {
                            // Without this the browser would open the file in place of the page.
                            e.prevent_default();
                            if let Some(dt) = e.dyn_ref::<DragEvent>().and_then(|d| d.data_transfer()) {
                                dt.set_drop_effect("copy");
                            }
                        }
                    }),
                ));
                let (d, show) = (depth.clone(), dragging.clone());
                listeners.push(on(
                    "dragleave",
                    Box::new(move |e| {
                        if carries_files(e) {
                            let mut depth = d.borrow_mut();
                            *depth -= 1;
                            if *depth <= 0 {
                                *depth = 0;
                                show.set(false);
                            }
                        }
                    }),
                ));
                let (d, show) = (depth.clone(), dragging.clone());
                listeners.push(on(
                    "drop",
                    Box::new(move |e| {
                        if carries_files(e) {
                            e.prevent_default();
                            *d.borrow_mut() = 0;
                            show.set(false);
                            let file = e.dyn_ref::<DragEvent>().and_then(|d| d.data_transfer()).and_then(|dt| dt.files()).and_then(|f| f.get(0));
                            if let Some(file) = file {
                                load.emit(file);
                            }
                        }
                    }),
                ));
            }
            move || drop(listeners)
        });
    }

    // The confirmation takes the focus (on Cancel, the harmless answer).
    {
        let cancel_button = cancel_button.clone();
        use_effect_with(*confirming, move |&open| {
            if open {
                if let Some(b) = cancel_button.cast::<HtmlElement>() {
                    let _ = b.focus();
                }
            }
        });
    }

    let on_download = {
        let (session, notice) = (session.clone(), notice.setter());
        Callback::from(move |_: MouseEvent| {
            let current = session.borrow().clone();
            let Ok(bytes) = current.try_borrow().map(|s| s.snapshot()) else { return };
            if let Err(why) = storage::download(&bytes, FILE_NAME) {
                notice.set(Some(Notice::DownloadFailed(why)));
            }
        })
    };
    let on_pick = {
        let input = file_input.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(i) = input.cast::<HtmlInputElement>() {
                i.click();
            }
        })
    };
    let on_file = Callback::from(move |e: Event| {
        if let Some(input) = target::<HtmlInputElement>(&e) {
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                load.emit(file);
            }
            // Picking the same file again is a change again.
            input.set_value("");
        }
    });
    let on_reset = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(!*confirming))
    };
    let on_confirm = {
        let (dispatch, confirming, notice) = (app.dispatch.clone(), confirming.setter(), notice.setter());
        Callback::from(move |_: MouseEvent| {
            dispatch.dispatch(Action::Reset { real: now_ms() });
            confirming.set(false);
            notice.set(Some(Notice::ResetDone));
        })
    };
    let on_cancel = {
        let confirming = confirming.setter();
        Callback::from(move |_: MouseEvent| confirming.set(false))
    };
    let on_key = {
        let confirming = confirming.setter();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                confirming.set(false);
            }
        })
    };
    // A click beside the question is a no. (yew delegates events, so `current_target` is not the backdrop.)
    let on_backdrop = {
        let (confirming, backdrop) = (confirming.setter(), backdrop.clone());
        Callback::from(move |e: MouseEvent| {
            let on_backdrop = e.target().zip(backdrop.get()).is_some_and(|(t, b)| JsValue::from(t) == JsValue::from(b));
            if on_backdrop {
                confirming.set(false);
            }
        })
    };
    let on_dismiss = {
        let notice = notice.setter();
        Callback::from(move |_: MouseEvent| notice.set(None))
    };

    html! {
        <>
            <div class="data-actions">
                if !props.embed {
                    <button class="download" title={t(lang, Msg::DownloadHint)} onclick={on_download}>{ t(lang, Msg::DownloadRdb) }</button>
                    <button class="load" title={t(lang, Msg::LoadHint)} onclick={on_pick}>{ t(lang, Msg::LoadRdb) }</button>
                    <input ref={file_input} type="file" class="rdb-file" accept=".rdb,application/octet-stream" hidden=true
                           aria-label={t(lang, Msg::LoadHint)} onchange={on_file} />
                }
                <button class="reset" aria-expanded={if *confirming { "true" } else { "false" }} onclick={on_reset}>{ t(lang, Msg::Reset) }</button>
                if *confirming {
                    <div ref={backdrop} class="confirm-backdrop" onclick={on_backdrop} onkeydown={on_key}>
                        <div class="confirm" role="alertdialog" aria-modal="true" aria-labelledby="reset-question">
                            <p id="reset-question">{ t(lang, Msg::ResetConfirm) }</p>
                            <div class="answers">
                                <button class="confirm-reset danger" onclick={on_confirm}>{ t(lang, Msg::ResetYes) }</button>
                                <button ref={cancel_button} class="cancel" onclick={on_cancel}>{ t(lang, Msg::Cancel) }</button>
                            </div>
                        </div>
                    </div>
                }
            </div>
            if let Some(n) = &*notice {
                <div class={classes!("data-notice", if n.is_error() { "error" } else { "info" })} role={if n.is_error() { "alert" } else { "status" }}>
                    <span class="text">{ n.text(lang) }</span>
                    <button class="dismiss" title={t(lang, Msg::Dismiss)} aria-label={t(lang, Msg::Dismiss)} onclick={on_dismiss}>{ "×" }</button>
                </div>
            }
            if *dragging {
                <div class="drop-overlay" aria-hidden="true"><div class="drop-box">{ t(lang, Msg::DropHere) }</div></div>
            }
        </>
    }
}
