//! The root: holds the state, provides the context, runs the clock, and lays out the panes.

use gloo::timers::callback::Interval;
use yew::prelude::*;

use super::super::browser::{fetch_summaries, mark_ready, now_ms, save_history, save_lang, set_document_language};
use super::super::i18n::{t, Lang, Msg};
use super::super::persist::Persistence;
use super::super::state::{Action, SessionRef, State};
use super::super::url::Params;
use super::super::AppContext;
use super::console::Console;
use super::header::Header;
use super::key_browser::KeyBrowser;
use super::lessons::LessonsPane;
use super::visualizer::Visualizer;

#[derive(Properties, PartialEq, Clone)]
pub struct AppProps {
    pub params: Params,
    pub lang: Lang,
    pub history: Vec<String>,
    /// The engine, with what the page kept across the last reload already in it.
    pub session: SessionRef,
    pub persistence: Persistence,
}

/// How often the page's clock drives the engine (active expiry, timeouts) and the TTL countdowns.
const TICK_MS: u32 = 250;

#[component]
pub fn App(props: &AppProps) -> Html {
    let state = {
        let props = props.clone();
        use_reducer(move || {
            let real = now_ms();
            let mut s = State::with_session(props.session, props.lang, props.history, real);
            s.embed = props.params.embed;
            if props.params.lesson.is_some() {
                s = s.reduce(Action::OpenLesson(props.params.lesson.clone()));
            }
            s
        })
    };

    // The URL's extra clients and commands, once, after the first render.
    {
        let dispatch = state.dispatcher();
        let params = props.params.clone();
        use_effect_with((), move |_| {
            for _ in 1..params.clients {
                dispatch.dispatch(Action::AddConsole { real: now_ms() });
            }
            for line in params.run {
                dispatch.dispatch(Action::Run { console: 0, line, real: now_ms() });
            }
            mark_ready();
        });
    }

    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let interval = Interval::new(TICK_MS, move || dispatch.dispatch(Action::Tick { real: now_ms() }));
            move || drop(interval)
        });
    }

    use_effect_with(state.lang, |lang| {
        set_document_language(*lang);
        save_lang(*lang);
        // HELP's summaries in the new language, fetched now rather than with the page.
        fetch_summaries(*lang);
    });

    use_effect_with(state.history.clone(), |history| save_history(history));

    let ctx = AppContext {
        lang: state.lang,
        dispatch: state.dispatcher(),
        session: state.session.clone(),
        persistence: props.persistence.clone(),
    };
    let lang = state.lang;
    let consoles = state.consoles.iter().enumerate().map(|(i, c)| {
        html! {
            <Console key={c.number} index={i} console={c.clone()} history={state.history.clone()}
                     closable={state.consoles.len() > 1} db={state.db} />
        }
    });
    let add_client = {
        let dispatch = state.dispatcher();
        Callback::from(move |_| dispatch.dispatch(Action::AddConsole { real: now_ms() }))
    };
    let main_class = classes!(
        "panes",
        state.embed.then_some("embed"),
        (state.consoles.len() > 1).then_some("multi"),
        state.lessons_open.then_some("with-lessons")
    );
    let has_data = state.session.borrow().engine.dbs.iter().any(|db| !db.keys.is_empty());

    html! {
        <ContextProvider<AppContext> context={ctx}>
            <div class={classes!("app", state.embed.then_some("embedded"))} lang={lang.code()} dir={if lang.rtl() { "rtl" } else { "ltr" }}>
                <Header lessons_open={state.lessons_open} embed={state.embed} now={state.now} real={state.real}
                        paused={state.session.borrow().clock.paused()} />
                if let Some(notice) = &state.notice {
                    <div class="notice" role="status">{ notice.clone() }</div>
                }
                <main class={main_class}>
                    if state.lessons_open {
                        <LessonsPane lesson={state.lesson.clone()} progress={state.progress.clone()} library={state.library.clone()} {has_data} />
                    }
                    <section class="consoles" aria-label={t(lang, Msg::ClientN).replace("{n}", "")}>
                        <div class="console-grid">{ for consoles }</div>
                        if state.consoles.len() < 4 {
                            <button class="add-client" onclick={add_client}>{ "+ " }{ t(lang, Msg::AddClient) }</button>
                        }
                    </section>
                    <section class="inspect">
                        if !state.embed {
                            <KeyBrowser keys={state.keys.clone()} total={state.total} filter={state.filter.clone()}
                                        db={state.db} selected={state.selected.clone()} now={state.now}
                                        last_keys={state.last_keys.clone()} />
                        }
                        <Visualizer selected={state.selected.clone()} db={state.db} version={state.version}
                                    now={state.now} />
                    </section>
                </main>
            </div>
        </ContextProvider<AppContext>>
    }
}
