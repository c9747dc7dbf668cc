//! The virtual clock: what time the data sees, pause and resume, and fast-forward, so TTLs and rate limits
//! can be watched expiring.

use yew::prelude::*;

use super::super::browser::now_ms;
use super::super::i18n::{t, tf, Msg};
use super::super::state::Action;
use super::{clock_text, use_app};

#[derive(Properties, PartialEq)]
pub struct TimeControlProps {
    pub now: u64,
    pub real: u64,
    pub paused: bool,
}

/// The fast-forward steps offered, in milliseconds, with their labels (digits and SI units read the same in
/// every language of the interface).
const STEPS: [(u64, &str); 5] = [(1_000, "+1 s"), (10_000, "+10 s"), (60_000, "+1 min"), (600_000, "+10 min"), (3_600_000, "+1 h")];

#[component]
pub fn TimeControl(props: &TimeControlProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let toggle = {
        let dispatch = app.dispatch.clone();
        let paused = props.paused;
        Callback::from(move |_| {
            let real = now_ms();
            dispatch.dispatch(if paused { Action::Resume { real } } else { Action::Pause { real } });
        })
    };
    let ahead = props.now as i64 - props.real as i64;
    let time_of_day = {
        let secs = props.now / 1000;
        format!("{:02}:{:02}:{:02}", secs / 3600 % 24, secs / 60 % 60, secs % 60)
    };
    html! {
        <div class="time" role="group" aria-label={t(lang, Msg::Time)}>
            <span class="clock" dir="ltr" title={t(lang, Msg::Time)}>{ time_of_day }{ " UTC" }</span>
            if props.paused {
                <span class="badge paused">{ t(lang, Msg::Paused) }</span>
            }
            if ahead > 999 {
                <span class="ahead">{ tf(lang, Msg::ClockAhead, &[("amount", &clock_text(ahead as u64))]) }</span>
            }
            <button class="pause" onclick={toggle}>{ if props.paused { t(lang, Msg::Resume) } else { t(lang, Msg::Pause) } }</button>
            <span class="ff" title={t(lang, Msg::FastForward)}>
                { for STEPS.iter().map(|(ms, label)| {
                    let dispatch = app.dispatch.clone();
                    let ms = *ms;
                    let onclick = Callback::from(move |_| dispatch.dispatch(Action::Advance { ms, real: now_ms() }));
                    html! { <button class="step" dir="ltr" data-ms={ms.to_string()} {onclick}>{ *label }</button> }
                }) }
            </span>
        </div>
    }
}
