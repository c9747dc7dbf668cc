//! The key browser: every key of the console's database with its type, live TTL and size; filter by pattern
//! and type; a virtualized list (only the visible rows are drawn), so 100,000 keys scroll smoothly.

use std::rc::Rc;

use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::super::browser::target;
use super::super::i18n::{plural, t, Msg, Plural};
use super::super::state::{Action, Filter};
use super::{clock_text, show_bytes, size_text, tr, use_app};
use crate::introspect::KeyInfo;

#[derive(Properties, PartialEq)]
pub struct KeyBrowserProps {
    pub keys: Rc<Vec<Rc<KeyInfo>>>,
    pub total: usize,
    pub filter: Filter,
    pub db: usize,
    pub selected: Option<Vec<u8>>,
    pub now: u64,
    pub last_keys: Rc<Vec<Vec<u8>>>,
}

/// Row height in CSS pixels (the stylesheet's `.key-row` height); the list draws only the rows in view.
const ROW: usize = 28;
/// Rows drawn above and below the visible ones, so fast scrolling shows no gaps.
const OVERSCAN: usize = 8;

const TYPES: [&str; 6] = ["string", "list", "hash", "set", "zset", "stream"];

#[component]
pub fn KeyBrowser(props: &KeyBrowserProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let scroll = use_state(|| 0usize);
    let viewport = use_state(|| 480usize);
    let list_ref = use_node_ref();

    let onscroll = {
        let scroll = scroll.clone();
        let viewport = viewport.clone();
        Callback::from(move |e: Event| {
            if let Some(el) = target::<Element>(&e) {
                scroll.set(el.scroll_top().max(0) as usize);
                viewport.set(el.client_height().max(0) as usize);
            }
        })
    };
    let on_pattern = {
        let dispatch = app.dispatch.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(el) = target::<HtmlInputElement>(&e) {
                dispatch.dispatch(Action::SetPattern(el.value()));
            }
        })
    };
    let on_kind = {
        let dispatch = app.dispatch.clone();
        Callback::from(move |e: Event| {
            if let Some(el) = target::<HtmlSelectElement>(&e) {
                let v = el.value();
                dispatch.dispatch(Action::SetKind(TYPES.iter().find(|t| **t == v).copied()));
            }
        })
    };
    let on_db = {
        let dispatch = app.dispatch.clone();
        Callback::from(move |e: Event| {
            if let Some(db) = target::<HtmlSelectElement>(&e).and_then(|el| el.value().parse::<usize>().ok()) {
                dispatch.dispatch(Action::SetDb(db));
            }
        })
    };

    let n = props.keys.len();
    let first = (*scroll / ROW).saturating_sub(OVERSCAN);
    let last = ((*scroll + *viewport) / ROW + OVERSCAN).min(n);
    let rows = props.keys.get(first..last).unwrap_or_default().iter().enumerate().map(|(i, k)| {
        let top = (first + i) * ROW;
        let selected = props.selected.as_deref() == Some(k.key.as_slice());
        let touched = props.last_keys.contains(&k.key);
        let onclick = {
            let dispatch = app.dispatch.clone();
            let key = k.key.clone();
            Callback::from(move |_| dispatch.dispatch(Action::Select(Some(key.clone()))))
        };
        let ttl = match k.expires_at {
            Some(at) => clock_text(at.saturating_sub(props.now) + 999),
            None => "—".to_string(),
        };
        let name = show_bytes(&k.key);
        html! {
            <div class={classes!("key-row", selected.then_some("selected"), touched.then_some("touched"))}
                 style={format!("top:{top}px")} role="option" aria-selected={selected.to_string()} {onclick}
                 title={name.clone()}>
                <span class={classes!("type", k.type_name)}>{ k.type_name }</span>
                <span class="name" dir="auto">{ name }</span>
                <span class={classes!("ttl", k.expires_at.is_some().then_some("volatile"))} dir="ltr">{ ttl }</span>
                <span class="size" dir="ltr">{ size_text(k.memory) }</span>
            </div>
        }
    });

    let filtered = props.filter.pattern.trim().is_empty() && props.filter.kind.is_none();
    let count = if filtered {
        plural(lang, Plural::KeyCount, props.total as u64, &[])
    } else {
        format!("{} / {}", plural(lang, Plural::KeyCount, n as u64, &[]), props.total)
    };

    html! {
        <section class="keys" aria-label={t(lang, Msg::Keys)}>
            <div class="pane-head">
                <h2>{ tr(lang, Msg::Keys) }</h2>
                <span class="count">{ count }</span>
            </div>
            <div class="filters">
                <input class="pattern" type="search" value={props.filter.pattern.clone()} oninput={on_pattern}
                       placeholder={t(lang, Msg::FilterPlaceholder)} aria-label={t(lang, Msg::FilterPlaceholder)}
                       dir="ltr" spellcheck="false" />
                <select class="kind" onchange={on_kind} aria-label={t(lang, Msg::ColType)}>
                    <option value="" selected={props.filter.kind.is_none()}>{ t(lang, Msg::AllTypes) }</option>
                    { for TYPES.iter().map(|ty| html! {
                        <option value={*ty} selected={props.filter.kind == Some(*ty)}>{ *ty }</option>
                    }) }
                </select>
                <select class="db" onchange={on_db} aria-label={t(lang, Msg::Database)} title={t(lang, Msg::Database)}>
                    { for (0..16).map(|i| html! {
                        <option value={i.to_string()} selected={i == props.db}>{ format!("db{i}") }</option>
                    }) }
                </select>
            </div>
            <div class="key-cols" aria-hidden="true">
                <span class="type">{ t(lang, Msg::ColType) }</span>
                <span class="name">{ t(lang, Msg::ColKey) }</span>
                <span class="ttl">{ t(lang, Msg::ColTtl) }</span>
                <span class="size">{ t(lang, Msg::ColSize) }</span>
            </div>
            <div class="key-list" ref={list_ref} {onscroll} role="listbox" aria-label={t(lang, Msg::Keys)}>
                if n == 0 {
                    <p class="empty">{ if props.total == 0 { t(lang, Msg::NoKeys) } else { t(lang, Msg::NoMatch) } }</p>
                }
                <div class="key-rows" style={format!("height:{}px", n * ROW)}>{ for rows }</div>
            </div>
        </section>
    }
}
