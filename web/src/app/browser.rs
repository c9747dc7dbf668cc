//! The playground's contact with the browser: mounting, the page clock, localStorage, the clipboard.
//! Everything that can fail here (storage in private mode, a missing element) degrades quietly: the page keeps
//! working without it. The data kept across reloads is `storage`'s (IndexedDB); it is read before mounting.

use gloo::storage::{LocalStorage, Storage};
use wasm_bindgen::JsCast;
use yew::Renderer;

use super::components::app::{App, AppProps};
use super::i18n::Lang;
use super::persist::{self, Persistence};
use super::session::Session;
use super::state::SessionRef;
use super::{storage, url};

const HISTORY_KEY: &str = "redlet.history";
const LANG_KEY: &str = "redlet.lang";

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Starts the playground. The full page first reads what it kept in the browser, so that the data is there
/// before the URL's commands run; an embed or a lesson starts empty at once.
pub fn start() {
    let window = web_sys::window();
    let query = window.as_ref().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let params = url::parse(&query);
    let lang = params.lang.or_else(saved_lang).or_else(browser_lang).unwrap_or(Lang::En);
    let session = Session::new(now_ms());
    if persist::keeps_data(&params) {
        wasm_bindgen_futures::spawn_local(async move {
            let stored = storage::read().await;
            let mut session = session;
            let persistence = persist::resume(&mut session, stored, now_ms());
            mount(AppProps { params, lang, history: load_history(), session: SessionRef::new(session), persistence });
        });
    } else {
        let persistence = Persistence::default();
        mount(AppProps { params, lang, history: load_history(), session: SessionRef::new(session), persistence });
    }
}

fn mount(props: AppProps) {
    let root = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("app"));
    match root {
        Some(root) => {
            // The loading message goes; the app takes its place.
            root.set_inner_html("");
            Renderer::<App>::with_root_and_props(root, props).render();
        }
        None => {
            Renderer::<App>::with_props(props).render();
        }
    }
}

fn saved_lang() -> Option<Lang> {
    LocalStorage::get::<String>(LANG_KEY).ok().and_then(|c| Lang::from_code(&c))
}

fn browser_lang() -> Option<Lang> {
    web_sys::window().and_then(|w| w.navigator().language()).and_then(|l| Lang::from_code(&l))
}

pub fn save_lang(lang: Lang) {
    let _ = LocalStorage::set(LANG_KEY, lang.code());
}

pub fn load_history() -> Vec<String> {
    LocalStorage::get::<Vec<String>>(HISTORY_KEY).unwrap_or_default()
}

pub fn save_history(history: &[String]) {
    let _ = LocalStorage::set(HISTORY_KEY, history);
}

/// Sets `lang` and `dir` on the document, so the whole page (scrollbars, form controls) follows the language.
pub fn set_document_language(lang: Lang) {
    if let Some(html) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = html.set_attribute("lang", lang.code());
        let _ = html.set_attribute("dir", if lang.rtl() { "rtl" } else { "ltr" });
    }
}

/// Marks the page ready for input (`<body data-ready="1">`): tests and the load-time benchmark wait for it.
pub fn mark_ready() {
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.set_attribute("data-ready", "1");
    }
}

pub fn copy_text(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// The element behind an event, as the type the handler expects.
pub fn target<T: JsCast>(e: &web_sys::Event) -> Option<T> {
    e.target().and_then(|t| t.dyn_into::<T>().ok())
}
