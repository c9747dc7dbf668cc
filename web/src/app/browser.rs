//! The playground's contact with the browser: mounting, the page clock, localStorage, the clipboard, fetching
//! the texts the page reads when needed (lessons, translated command summaries).
//! Everything that can fail here (storage in private mode, a missing element) degrades quietly: the page keeps
//! working without it. The data kept across reloads is `storage`'s (IndexedDB); it is read before mounting.

use gloo::storage::{LocalStorage, Storage};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use yew::Renderer;

use super::components::app::{App, AppProps};
use super::i18n::Lang;
use super::persist::{self, Persistence};
use super::session::Session;
use super::state::SessionRef;
use super::{storage, url};
use crate::help_texts;

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

/// A text file of the built site, by a URL relative to the page; the error says why there is none (offline, a
/// blocked request, an HTTP status other than 2xx).
pub async fn fetch_text(url: &str) -> Result<String, String> {
    let describe = |e: JsValue| {
        e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| "network error".into())
    };
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(describe)?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "not a response".to_string())?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(describe)?).await.map_err(describe)?;
    text.as_string().ok_or_else(|| "not text".into())
}

/// Fetches the interface language's command summaries for `HELP`, unless they are in. Until they arrive (and if
/// they never do) `HELP` shows the English summaries; a later switch to the language tries again.
pub fn fetch_summaries(lang: Lang) {
    let code = lang.code();
    let Some(url) = help_texts::summaries_url(code).filter(|_| !help_texts::has_summaries(code)) else { return };
    wasm_bindgen_futures::spawn_local(async move {
        let installed = match fetch_text(&url).await {
            Ok(text) => help_texts::install(code, text),
            Err(e) => Err(e),
        };
        if let Err(e) = installed {
            web_sys::console::warn_1(&format!("{url}: {e}; HELP shows the English summaries").into());
        }
    });
}
