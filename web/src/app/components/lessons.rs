//! The lessons pane: the course list, and a lesson read beside the consoles, with a *Run* button on every
//! step (it types the step's commands into its console), the exercise with hints, a check against the
//! engine's state and a reference solution.
//!
//! Prose follows the interface's direction (Arabic right to left); steps, code and inline code are set
//! `dir="ltr"`, as commands are typed.
//!
//! The list draws from the built-in index; a lesson's text is fetched when it opens (in the learner's language,
//! the English file standing in for a missing translation): "Loading…" until it arrives, a notice with a retry
//! if it does not.

use std::rc::Rc;

use yew::prelude::*;

use super::super::browser::{fetch_text, now_ms};
use super::super::i18n::{plural, t, tf, Lang, Msg, Plural};
use super::super::lessons::{self, Fetch, Library, Play, Progress, SOLUTION};
use super::super::state::Action;
use super::use_app;
use crate::tutorial::{self, Block, Exercise, Inline, Output, Step};

#[derive(Properties, PartialEq)]
pub struct LessonsProps {
    pub lesson: Option<String>,
    pub progress: Progress,
    pub library: Rc<Library>,
    /// Keys in the engine (any database): a lesson expects an empty one.
    pub has_data: bool,
}

#[component]
pub fn LessonsPane(props: &LessonsProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let source = props.lesson.as_deref().and_then(|name| lessons::source(lang, name));
    let fetched = source.and_then(|(file, _)| props.library.get(file));
    // A lesson file not asked for yet (or forgotten for a retry) is fetched once, whoever opened it: the list, a
    // `?lesson=` URL, Previous/Next, a language switch.
    {
        let dispatch = app.dispatch.clone();
        let wanted = source.filter(|_| fetched.is_none()).map(|(file, _)| file);
        use_effect_with(wanted, move |wanted| {
            if let Some(file) = *wanted {
                dispatch.dispatch(Action::LessonRequested(file));
                wasm_bindgen_futures::spawn_local(async move {
                    let text = fetch_text(&file.url()).await;
                    dispatch.dispatch(Action::LessonFetched { file, text });
                });
            }
        });
    }
    let course = use_memo(lang, |lang| lessons::course(*lang));
    let body = match (props.lesson.as_deref(), source, fetched) {
        (None, _, _) => course_list(lang, &course, &app.dispatch),
        (Some(name), None, _) => html! {
            <>
                { back_button(lang, &app.dispatch) }
                <p class="empty">{ tf(lang, Msg::LessonMissing, &[("name", name)]) }</p>
                { course_list(lang, &course, &app.dispatch) }
            </>
        },
        (Some(_), Some((_, fallback)), Some(Fetch::Ready(lesson))) => lesson_view(lesson, fallback, props, lang, &app.dispatch),
        (Some(_), Some((file, _)), Some(Fetch::Failed(why))) => {
            let dispatch = app.dispatch.clone();
            let onclick = Callback::from(move |_| dispatch.dispatch(Action::RetryLesson(file)));
            html! {
                <>
                    { back_button(lang, &app.dispatch) }
                    <div class="note lesson-failed" role="alert" data-slug={file.slug()}>
                        <span>{ tf(lang, Msg::LessonFailed, &[("error", why)]) }</span>
                        <button class="retry" {onclick}>{ t(lang, Msg::Retry) }</button>
                    </div>
                </>
            }
        }
        (Some(_), Some((file, _)), _) => html! {
            <>
                { back_button(lang, &app.dispatch) }
                <p class="lesson-loading" role="status" data-slug={file.slug()}>
                    <span class="spinner" aria-hidden="true"></span>{ t(lang, Msg::LessonLoading) }
                </p>
            </>
        },
    };
    html! {
        <aside class="lessons-pane lessons" aria-label={t(lang, Msg::Lessons)}>{ body }</aside>
    }
}

fn course_list(lang: Lang, course: &[lessons::Entry], dispatch: &UseReducerDispatcher<super::super::state::State>) -> Html {
    let items = course.iter().enumerate().map(|(i, entry)| {
        let dispatch = dispatch.clone();
        let slug = entry.slug.clone();
        let onclick = Callback::from(move |_| dispatch.dispatch(Action::OpenLesson(Some(slug.clone()))));
        html! {
            <li>
                <button class="lesson-link" data-slug={entry.slug.clone()} {onclick}>
                    <span class="num">{ i + 1 }</span>
                    <span class="title">{ inline_html(&entry.title) }</span>
                    <span class="count">{ plural(lang, Plural::Steps, entry.steps as u64, &[]) }</span>
                </button>
            </li>
        }
    });
    html! {
        <>
            <div class="pane-head"><h2>{ t(lang, Msg::Lessons) }</h2></div>
            <ol class="course">{ for items }</ol>
        </>
    }
}

fn back_button(lang: Lang, dispatch: &UseReducerDispatcher<super::super::state::State>) -> Html {
    let dispatch = dispatch.clone();
    let onclick = Callback::from(move |_| dispatch.dispatch(Action::OpenLesson(None)));
    html! { <button class="all-lessons" {onclick}>{ t(lang, Msg::AllLessons) }</button> }
}

fn lesson_view(
    lesson: &Rc<tutorial::Lesson>,
    fallback: bool,
    props: &LessonsProps,
    lang: Lang,
    dispatch: &UseReducerDispatcher<super::super::state::State>,
) -> Html {
    let progress = &props.progress;
    let (prev, next) = lessons::neighbours(&lesson.slug);
    let nav = |slug: Option<String>, msg: Msg, class: &'static str| {
        slug.map(|slug| {
            let dispatch = dispatch.clone();
            let onclick = Callback::from(move |_| dispatch.dispatch(Action::OpenLesson(Some(slug.clone()))));
            html! { <button class={class} {onclick}>{ t(lang, msg) }</button> }
        })
    };
    let run_all = {
        let dispatch = dispatch.clone();
        let playlist = lessons::playlist(lesson);
        Callback::from(move |_| {
            let real = now_ms();
            for play in &playlist {
                match play {
                    Play::Step { id, step } => dispatch.dispatch(Action::RunStep { id: *id, step: step.clone(), real }),
                    Play::Wait { secs } => dispatch.dispatch(Action::Advance { ms: u64::from(*secs) * 1000, real }),
                }
            }
        })
    };
    let fresh = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.dispatch(Action::Reset { real: now_ms() }))
    };
    let blocks = lesson.blocks.iter().enumerate().map(|(id, block)| block_html(id, block, progress, lang, dispatch));
    html! {
        <>
            <div class="lesson-nav">
                { back_button(lang, dispatch) }
                <span class="spacer" />
                { nav(prev, Msg::Previous, "prev") }
                { nav(next, Msg::Next, "next") }
            </div>
            <article class="lesson" data-slug={lesson.slug.clone()}>
                <h2 class="lesson-title">{ inline_html(&lesson.title) }</h2>
                if fallback {
                    <p class="note untranslated" lang="en">{ t(lang, Msg::NotTranslated) }</p>
                }
                if props.has_data && progress.ran.is_empty() {
                    <div class="note fresh">
                        <span>{ t(lang, Msg::LessonFresh) }</span>
                        <button class="start-fresh" onclick={fresh}>{ t(lang, Msg::StartFresh) }</button>
                    </div>
                }
                <button class="run-all" onclick={run_all}>{ t(lang, Msg::RunAll) }</button>
                { for blocks }
            </article>
        </>
    }
}

fn block_html(
    id: usize,
    block: &Block,
    progress: &Progress,
    lang: Lang,
    dispatch: &UseReducerDispatcher<super::super::state::State>,
) -> Html {
    match block {
        Block::Step(step) => step_html(id, step, progress.has_run(id), lang, dispatch),
        Block::Output(out) => output_html(out, lang, dispatch),
        Block::Exercise(ex) => exercise_html(ex, progress, lang, dispatch),
        other => prose_html(other),
    }
}

/// Headings, paragraphs, lists and shown-only code.
fn prose_html(block: &Block) -> Html {
    match block {
        Block::Heading { level, text } => {
            let tag = match level {
                0..=2 => "h3",
                3 => "h4",
                _ => "h5",
            };
            html! { <@{tag}>{ inline_html(text) }</@> }
        }
        Block::Paragraph(text) => html! { <p>{ inline_html(text) }</p> },
        Block::List { ordered, items } => {
            let items = items.iter().map(|i| html! { <li>{ inline_html(i) }</li> });
            if *ordered {
                html! { <ol>{ for items }</ol> }
            } else {
                html! { <ul>{ for items }</ul> }
            }
        }
        Block::Code { lang, text } => html! {
            <pre class="code" dir="ltr" data-lang={lang.clone()}><code>{ text.clone() }</code></pre>
        },
        _ => html! {},
    }
}

/// A step as the redis-cli transcript it is, with its console, its wait and the Run button.
fn step_html(id: usize, step: &Step, ran: bool, lang: Lang, dispatch: &UseReducerDispatcher<super::super::state::State>) -> Html {
    let onclick = {
        let dispatch = dispatch.clone();
        let step = step.clone();
        Callback::from(move |_| dispatch.dispatch(Action::RunStep { id, step: step.clone(), real: now_ms() }))
    };
    html! {
        <div class={classes!("step", ran.then_some("ran"))} data-step={id.to_string()}>
            <div class="step-head">
                { client_badge(step.client, lang) }
                if step.wait > 0 {
                    <span class="badge wait">{ "⏩ " }{ plural(lang, Plural::Seconds, u64::from(step.wait), &[]) }</span>
                }
                <span class="spacer" />
                if ran {
                    <span class="done">{ "✓ " }{ t(lang, Msg::Ran) }</span>
                }
                <button class="run-step" {onclick}>{ "▶ " }{ t(lang, Msg::RunStep) }</button>
            </div>
            { transcript(step) }
        </div>
    }
}

fn transcript(step: &Step) -> Html {
    let lines = step.lines.iter().map(|l| {
        html! {
            <>
                <span class="prompt">{ l.prompt.clone() }</span><span class="cmd">{ l.command.clone() }</span>{ "\n" }
                <span class="reply">{ l.output.clone() }</span>
            </>
        }
    });
    html! { <pre class="transcript" dir="ltr">{ for lines }</pre> }
}

fn client_badge(client: usize, lang: Lang) -> Html {
    if client > 1 {
        html! { <span class="badge client">{ tf(lang, Msg::ClientN, &[("n", &client.to_string())]) }</span> }
    } else {
        html! {}
    }
}

/// What a console prints later; where a timeout must pass first, a button moves the clock on.
fn output_html(out: &Output, lang: Lang, dispatch: &UseReducerDispatcher<super::super::state::State>) -> Html {
    let wait = (out.wait > 0).then(|| {
        let dispatch = dispatch.clone();
        let secs = out.wait;
        let onclick = Callback::from(move |_| dispatch.dispatch(Action::Advance { ms: u64::from(secs) * 1000, real: now_ms() }));
        html! {
            <button class="wait-step" {onclick}>
                { "⏩ " }{ t(lang, Msg::FastForward) }{ " " }{ plural(lang, Plural::Seconds, u64::from(secs), &[]) }
            </button>
        }
    });
    html! {
        <div class="step continued">
            <div class="step-head">{ client_badge(out.client, lang) }<span class="spacer" />{ for wait }</div>
            <pre class="transcript" dir="ltr"><span class="reply">{ out.text.clone() }</span></pre>
        </div>
    }
}

fn exercise_html(
    ex: &Exercise,
    progress: &Progress,
    lang: Lang,
    dispatch: &UseReducerDispatcher<super::super::state::State>,
) -> Html {
    let task = ex.task.iter().map(prose_html);
    let hints = ex.hints.iter().take(progress.hints).map(|h| html! { <div class="hint-box">{ for h.iter().map(prose_html) }</div> });
    let more_hints = progress.hints < ex.hints.len();
    let show_hint = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.dispatch(Action::ShowHint))
    };
    let show_solution = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.dispatch(Action::ShowSolution))
    };
    let check = {
        let dispatch = dispatch.clone();
        let check = ex.check.clone();
        Callback::from(move |_| dispatch.dispatch(Action::Check { check: check.clone(), real: now_ms() }))
    };
    let result = progress.check.as_ref().map(|(passed, rows)| {
        if *passed {
            html! { <p class="result correct" role="status">{ "✓ " }{ t(lang, Msg::Correct) }</p> }
        } else {
            let rows = rows.iter().filter(|r| !r.ok).map(|r| {
                html! {
                    <div class="check-row">
                        <code dir="ltr">{ r.command.clone() }</code>
                        <div class="pair">
                            <span class="label">{ t(lang, Msg::Expected) }</span>
                            <pre dir="ltr">{ r.expected.clone() }</pre>
                        </div>
                        <div class="pair">
                            <span class="label">{ t(lang, Msg::Got) }</span>
                            <pre dir="ltr">{ r.got.clone() }</pre>
                        </div>
                    </div>
                }
            });
            html! {
                <div class="result not-yet" role="status">
                    <p>{ t(lang, Msg::NotYet) }</p>
                    { for rows }
                </div>
            }
        }
    });
    html! {
        <section class="exercise">
            <h3 class="exercise-label">{ t(lang, Msg::Exercise) }</h3>
            { for task }
            { for hints }
            <div class="exercise-actions">
                <button class="check" onclick={check}>{ t(lang, Msg::Check) }</button>
                if more_hints {
                    <button class="hint-button" onclick={show_hint}>{ t(lang, Msg::Hint) }</button>
                }
                if !progress.solution_shown {
                    <button class="show-solution" onclick={show_solution}>{ t(lang, Msg::Solution) }</button>
                }
            </div>
            { for result }
            if progress.solution_shown {
                <div class="solution">{ step_html(SOLUTION, &ex.solution, progress.has_run(SOLUTION), lang, dispatch) }</div>
            }
        </section>
    }
}

/// Inline Markdown as HTML: code stays left to right, links open in a new tab.
fn inline_html(text: &str) -> Html {
    fn pieces(items: &[Inline]) -> Html {
        html! {
            { for items.iter().map(|item| match item {
                Inline::Text(t) => html! { { t.clone() } },
                Inline::Code(c) => html! { <code dir="ltr">{ c.clone() }</code> },
                Inline::Strong(inner) => html! { <strong>{ pieces(inner) }</strong> },
                Inline::Emph(inner) => html! { <em>{ pieces(inner) }</em> },
                Inline::Link { text, url } => {
                    // Only web links: a lesson never needs `javascript:` or other schemes.
                    if url.starts_with("https://") || url.starts_with("http://") {
                        html! { <a href={url.clone()} target="_blank" rel="noopener noreferrer">{ pieces(text) }</a> }
                    } else {
                        pieces(text)
                    }
                }
            }) }
        }
    }
    pieces(&tutorial::inline(text))
}
