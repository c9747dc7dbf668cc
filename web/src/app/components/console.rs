//! One console: a client of the engine, used as redis-cli is used. History (↑/↓, shared and kept across
//! reloads), Tab completion of commands and keys, the grey argument hint, Ctrl+L to clear, Ctrl+C to stop a
//! blocked or subscribed client, multi-line paste run line by line, and copy of any reply.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{ClipboardEvent, HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

use super::super::browser::{copy_text, now_ms, target};
use super::super::help;
use super::super::i18n::{t, tf, Msg};
use super::super::session::Out;
use super::super::state::{Action, ConsoleState};
use super::use_app;
use crate::introspect::{self, ScanArgs};

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub index: usize,
    pub console: ConsoleState,
    pub history: Rc<Vec<String>>,
    pub closable: bool,
    pub db: usize,
}

/// Where ↑/↓ stand in the history, and the line being typed before the learner went up.
#[derive(Default)]
struct Browse {
    pos: Option<usize>,
    draft: String,
    /// Tab cycling: the candidates and the one shown.
    completions: Option<(Vec<String>, usize)>,
}

#[component]
pub fn Console(props: &ConsoleProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let input = use_state(String::new);
    let browse = use_mut_ref(Browse::default);
    let input_ref = use_node_ref();
    let out_ref = use_node_ref();
    let copied = use_state(|| None::<usize>);

    // Keep the newest output in view.
    {
        let out_ref = out_ref.clone();
        use_effect_with(props.console.lines.len(), move |_| {
            if let Some(el) = out_ref.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    // A console opened by "Add a client" takes the keyboard.
    {
        let input_ref = input_ref.clone();
        use_effect_with(props.console.number, move |_| {
            if let Some(el) = input_ref.cast::<HtmlInputElement>() {
                let _ = el.focus();
            }
        });
    }

    let index = props.index;
    let run = {
        let dispatch = app.dispatch.clone();
        move |line: String| dispatch.dispatch(Action::Run { console: index, line, real: now_ms() })
    };

    let onkeydown = {
        let input = input.clone();
        let browse = browse.clone();
        let history = props.history.clone();
        let dispatch = app.dispatch.clone();
        let session = app.session.clone();
        let db = props.db;
        let waiting = props.console.blocked || props.console.subscribed;
        let run = run.clone();
        Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            let ctrl = e.ctrl_key() || e.meta_key();
            match key.as_str() {
                "Enter" => {
                    e.prevent_default();
                    let line = (*input).clone();
                    *browse.borrow_mut() = Browse::default();
                    input.set(String::new());
                    run(line);
                }
                "ArrowUp" | "ArrowDown" => {
                    e.prevent_default();
                    let mut b = browse.borrow_mut();
                    b.completions = None;
                    if history.is_empty() {
                        return;
                    }
                    let next = match (key.as_str(), b.pos) {
                        ("ArrowUp", None) => {
                            b.draft = (*input).clone();
                            Some(history.len() - 1)
                        }
                        ("ArrowUp", Some(p)) => Some(p.saturating_sub(1)),
                        ("ArrowDown", Some(p)) if p + 1 < history.len() => Some(p + 1),
                        _ => None,
                    };
                    b.pos = next;
                    input.set(match next {
                        Some(p) => history.get(p).cloned().unwrap_or_default(),
                        None => std::mem::take(&mut b.draft),
                    });
                }
                "Tab" => {
                    e.prevent_default();
                    let mut b = browse.borrow_mut();
                    let current = (*input).clone();
                    if let Some((cands, i)) = &mut b.completions {
                        if cands.get(*i) == Some(&current) && cands.len() > 1 {
                            *i = (*i + 1) % cands.len();
                            input.set(cands[*i].clone());
                            return;
                        }
                    }
                    let s = session.borrow();
                    let now = s.now(now_ms());
                    let keys = |prefix: &str| -> Vec<String> { keys_starting_with(&s.engine, db, prefix, now) };
                    let cands = help::complete(&current, &keys);
                    if let Some(first) = cands.first() {
                        input.set(first.clone());
                        b.completions = Some((cands, 0));
                    }
                }
                "l" | "L" if ctrl => {
                    e.prevent_default();
                    dispatch.dispatch(Action::ClearConsole { console: index });
                }
                "c" | "C" if ctrl => {
                    let selecting = web_sys::window()
                        .and_then(|w| w.get_selection().ok().flatten())
                        .is_some_and(|s| !s.is_collapsed());
                    if selecting {
                        return; // the browser copies
                    }
                    e.prevent_default();
                    if waiting {
                        dispatch.dispatch(Action::Interrupt { console: index, real: now_ms() });
                    } else {
                        input.set(String::new());
                    }
                }
                _ => {}
            }
        })
    };

    let oninput = {
        let input = input.clone();
        let browse = browse.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(el) = target::<HtmlInputElement>(&e) {
                browse.borrow_mut().completions = None;
                input.set(el.value());
            }
        })
    };

    // A paste of several lines runs them one by one, as a terminal would.
    let onpaste = {
        let input = input.clone();
        let run = run.clone();
        Callback::from(move |e: Event| {
            let Some(e) = e.dyn_ref::<ClipboardEvent>().cloned() else { return };
            let Some(text) = e.clipboard_data().and_then(|d| d.get_data("text").ok()) else { return };
            if !text.contains('\n') {
                return;
            }
            e.prevent_default();
            let text = format!("{}{}", *input, text);
            let mut lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
            // A last line without its newline stays in the input, as it would in a terminal.
            let rest = if text.ends_with('\n') { String::new() } else { lines.pop().unwrap_or_default().to_string() };
            for line in lines {
                run(line.to_string());
            }
            input.set(rest);
        })
    };

    let focus_input = {
        let input_ref = input_ref.clone();
        Callback::from(move |_: MouseEvent| {
            let collapsed = web_sys::window()
                .and_then(|w| w.get_selection().ok().flatten())
                .is_none_or(|s| s.is_collapsed());
            if collapsed {
                if let Some(el) = input_ref.cast::<HtmlInputElement>() {
                    let _ = el.focus();
                }
            }
        })
    };

    let dispatch = app.dispatch.clone();
    let clear = Callback::from(move |_| dispatch.dispatch(Action::ClearConsole { console: index }));
    let dispatch = app.dispatch.clone();
    let close = Callback::from(move |_| dispatch.dispatch(Action::CloseConsole { console: index }));
    let dispatch = app.dispatch.clone();
    let interrupt = Callback::from(move |_| dispatch.dispatch(Action::Interrupt { console: index, real: now_ms() }));

    let c = &props.console;
    let hint = if c.blocked { None } else { help::hint(&input) };
    let number = c.number.to_string();
    let lines = c.lines.iter().enumerate().map(|(i, out)| {
        let copy_button = |text: &str| {
            let text = text.to_string();
            let label = if *copied == Some(i) { t(lang, Msg::Copied) } else { t(lang, Msg::Copy) };
            let copied = copied.clone();
            let onclick = Callback::from(move |_| {
                copy_text(&text);
                copied.set(Some(i));
            });
            html! { <button class="copy" {onclick} title={t(lang, Msg::Copy)}>{ label }</button> }
        };
        match out {
            Out::Input { prompt, line } => html! {
                <div class="in"><span class="prompt">{ prompt }</span><span class="typed">{ line }</span></div>
            },
            Out::Reply(text) => html! { <div class="out reply"><pre>{ text }</pre>{ copy_button(text) }</div> },
            Out::Error(text) => html! { <div class="out error"><pre>{ text }</pre>{ copy_button(text) }</div> },
            Out::Push(text) => html! { <div class="out push"><pre>{ text }</pre>{ copy_button(text) }</div> },
            Out::Note(text) => html! { <div class="out note"><pre>{ text }</pre></div> },
        }
    });

    html! {
        <div class={classes!("console", c.blocked.then_some("blocked"), c.subscribed.then_some("subscribed"))}
             data-client={number.clone()}>
            <div class="console-head">
                <span class="client-name">{ tf(lang, Msg::ClientN, &[("n", &number)]) }</span>
                <span class="badges">
                    if c.blocked { <span class="badge blocked">{ t(lang, Msg::Blocked) }</span> }
                    if c.subscribed { <span class="badge subscribed">{ t(lang, Msg::Subscribed) }</span> }
                    if c.in_multi { <span class="badge multi">{ t(lang, Msg::InMulti) }</span> }
                </span>
                <span class="tools">
                    <button class="clear" onclick={clear}>{ t(lang, Msg::Clear) }</button>
                    if props.closable {
                        <button class="close" onclick={close} title={t(lang, Msg::CloseClient)}
                                aria-label={t(lang, Msg::CloseClient)}>{ "×" }</button>
                    }
                </span>
            </div>
            <div class="screen" dir="ltr" ref={out_ref} onclick={focus_input}>
                if c.lines.is_empty() {
                    <p class="hint-text" dir="auto">{ t(lang, Msg::ConsoleHint) }</p>
                }
                { for lines }
                <div class="in current">
                    <span class="prompt">{ c.prompt.clone() }</span>
                    <span class="field">
                        <span class="ghost" aria-hidden="true">
                            <span class="typed-ghost">{ (*input).clone() }</span>
                            if let Some(h) = hint { <span class="hint">{ h }</span> }
                        </span>
                        <input ref={input_ref} class="line" type="text" value={(*input).clone()} {oninput} {onkeydown}
                               {onpaste} readonly={c.blocked} spellcheck="false" autocomplete="off" autocapitalize="off"
                               aria-label={tf(lang, Msg::InputLabel, &[("n", &number)])} />
                    </span>
                </div>
            </div>
            if c.blocked || c.subscribed {
                <div class="waiting">
                    <span>{ t(lang, Msg::CtrlC) }</span>
                    <button class="interrupt" onclick={interrupt}>{ "Ctrl+C" }</button>
                </div>
            }
        </div>
    }
}

/// Up to 50 keys of `db` that start with `prefix`, for Tab completion.
fn keys_starting_with(engine: &redlet_core::Engine, db: usize, prefix: &str, now: u64) -> Vec<String> {
    let mut pattern = Vec::with_capacity(prefix.len() + 1);
    for b in prefix.bytes() {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            pattern.push(b'\\');
        }
        pattern.push(b);
    }
    pattern.push(b'*');
    let mut out = Vec::new();
    let mut args = ScanArgs { db, pattern: Some(pattern), cursor: 0, count: 1000 };
    while let Ok(page) = introspect::scan(engine, &args, now) {
        out.extend(page.keys.into_iter().filter_map(|k| String::from_utf8(k.key).ok()));
        if page.cursor == 0 || out.len() >= 50 {
            break;
        }
        args.cursor = page.cursor;
    }
    out.truncate(50);
    out
}
