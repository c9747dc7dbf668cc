//! The playground: a yew app over the engine, built by trunk from the root `index.html`
//! (`src/bin/playground.rs` calls [`start`]).
//!
//! Pure parts, tested natively: `session` (the engine, console clients and the virtual clock), `state` (the
//! reducer), `help` (HELP, hints, completion from the command table), `i18n` (every interface string),
//! `lessons` (the course, the lesson texts fetched so far, a lesson's playlist and progress), `url` (the
//! embedding parameters), `viz` (what changed in a key between two looks), `persist` (what the page keeps
//! across reloads, and when it saves).
//! Browser parts: `components/` (one component per file), `browser` (mounting, localStorage, clock,
//! clipboard, fetching lesson texts and summaries) and `storage` (IndexedDB, downloads, files).

pub mod help;
pub mod i18n;
pub mod lessons;
pub mod persist;
pub mod session;
pub mod state;
pub mod url;
pub mod viz;

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod storage;

use std::rc::Rc;

use yew::prelude::*;

use state::{Action, State};

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Rc::unwrap_or_clone(self).reduce(action))
    }
}

/// What every component may read: the language, the way to change the state, the engine, and whether the
/// page keeps its data in the browser.
#[derive(Clone, PartialEq)]
pub struct AppContext {
    pub lang: i18n::Lang,
    pub dispatch: UseReducerDispatcher<State>,
    pub session: state::SessionRef,
    pub persistence: persist::Persistence,
}

/// Mounts the playground into `#app` (replacing the loading message), or into the body.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    browser::start();
}

#[cfg(not(target_arch = "wasm32"))]
pub fn start() {}
