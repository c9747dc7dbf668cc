//! The top bar: name, tagline, the clock, lessons, the data's actions and the language menu.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::super::browser::target;
use super::super::i18n::{t, Lang, Msg};
use super::super::state::Action;
use super::data::DataActions;
use super::time_control::TimeControl;
use super::use_app;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub lessons_open: bool,
    pub embed: bool,
    pub now: u64,
    pub real: u64,
    pub paused: bool,
}

#[component]
pub fn Header(props: &HeaderProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let on_lang = {
        let dispatch = app.dispatch.clone();
        Callback::from(move |e: Event| {
            if let Some(code) = target::<HtmlSelectElement>(&e).map(|s| s.value()) {
                if let Some(l) = Lang::from_code(&code) {
                    dispatch.dispatch(Action::SetLang(l));
                }
            }
        })
    };
    let on_lessons = {
        let dispatch = app.dispatch.clone();
        Callback::from(move |_| dispatch.dispatch(Action::ToggleLessons))
    };
    html! {
        <header class="top">
            <div class="brand">
                <h1><span class="logo" aria-hidden="true">{ "◆" }</span>{ "Redlet" }</h1>
                if !props.embed {
                    <p class="tagline">{ t(lang, Msg::Tagline) }</p>
                }
            </div>
            <TimeControl now={props.now} real={props.real} paused={props.paused} />
            <div class="actions">
                <button class={classes!("lessons-toggle", props.lessons_open.then_some("on"))} onclick={on_lessons}
                        aria-pressed={if props.lessons_open { "true" } else { "false" }}>
                    { t(lang, if props.lessons_open { Msg::HideLessons } else { Msg::Lessons }) }
                </button>
                <DataActions embed={props.embed} />
                <label class="lang">
                    <span class="sr-only">{ t(lang, Msg::Language) }</span>
                    <select onchange={on_lang} aria-label={t(lang, Msg::Language)}>
                        { for Lang::ALL.iter().map(|l| html! {
                            <option value={l.code()} selected={*l == lang} lang={l.code()}>{ l.native_name() }</option>
                        }) }
                    </select>
                </label>
            </div>
        </header>
    }
}
