//! The visualizer: the selected key drawn by its type, with what the last command changed highlighted
//! (added, removed, changed, moved), found by comparing the key before and after (`viz::diff`).

use std::collections::HashSet;

use redlet_core::geohash;
use yew::prelude::*;

use super::super::i18n::{plural, t, tf, Lang, Msg, Plural};
use super::super::viz::{diff, Changes};
use super::{clock_text, show_bytes, size_text, tr, use_app};
use crate::introspect::{self, GroupView, Inspection, StreamEntry, View};

#[derive(Properties, PartialEq)]
pub struct VisualizerProps {
    pub selected: Option<Vec<u8>>,
    pub db: usize,
    pub version: u64,
    pub now: u64,
}

/// Elements drawn per key; the rest is counted ("showing the first 300 of 1000000").
const LIMIT: usize = 300;

/// The last look at the selected key, and what changed since the look before.
#[derive(Default)]
struct Memory {
    key: Option<(usize, Vec<u8>)>,
    version: u64,
    seen: Option<Inspection>,
    changes: Changes,
}

#[derive(Clone, Copy, PartialEq)]
enum StrMode {
    Text,
    Int,
    Bits,
}

#[component]
pub fn Visualizer(props: &VisualizerProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let memory = use_mut_ref(Memory::default);
    let str_mode = use_state(|| StrMode::Text);
    let geo_mode = use_state(|| true);

    let Some(key) = props.selected.clone() else {
        memory.borrow_mut().key = None;
        return html! {
            <section class="viz" aria-label={t(lang, Msg::Value)}>
                <div class="pane-head"><h2>{ tr(lang, Msg::Value) }</h2></div>
                <p class="empty">{ t(lang, Msg::SelectKey) }</p>
            </section>
        };
    };

    // Look again only when the data may have changed (or another key was chosen), so the TTL's ticking does not
    // copy the value four times a second.
    {
        let mut m = memory.borrow_mut();
        let same_key = m.key.as_ref() == Some(&(props.db, key.clone()));
        if !same_key || m.version != props.version {
            let session = app.session.borrow();
            let now = session.now(js_sys::Date::now() as u64);
            let fresh = introspect::inspect_limited(&session.engine, props.db, &key, now, LIMIT);
            m.changes = match (&m.seen, &fresh) {
                (Some(before), Some(after)) if same_key => diff(&before.view, &after.view),
                _ => Changes::default(),
            };
            m.seen = fresh;
            m.key = Some((props.db, key.clone()));
            m.version = props.version;
        }
    }
    let m = memory.borrow();
    let name = show_bytes(&key);
    let Some(ins) = &m.seen else {
        return html! {
            <section class="viz" aria-label={t(lang, Msg::Value)}>
                <div class="pane-head"><h2>{ tr(lang, Msg::Value) }</h2></div>
                <p class="gone">{ tf(lang, Msg::KeyGone, &[("key", &name)]) }</p>
            </section>
        };
    };
    let info = &ins.info;
    let ttl = match info.expires_at {
        Some(at) => clock_text(at.saturating_sub(props.now) + 999),
        None => t(lang, Msg::NoExpiry).to_string(),
    };
    let body = match &ins.view {
        View::Str { bytes, int, hll } => {
            if let Some(estimate) = hll {
                html! {
                    <div class="hll">
                        <div class="estimate" dir="ltr">{ estimate.to_string() }</div>
                        <div class="label">{ t(lang, Msg::Estimate) }</div>
                        <div class="meta" dir="ltr">{ format!("HyperLogLog · {}", size_text(bytes.len())) }</div>
                    </div>
                }
            } else {
                string_view(lang, bytes, *int, *str_mode, &str_mode, m.changes.value_changed)
            }
        }
        View::List { items, len } => list_view(lang, items, *len, &m.changes),
        View::Set { members, len } => set_view(lang, members, *len, &m.changes),
        View::Hash { fields, len } => hash_view(lang, fields, *len, &m.changes),
        View::ZSet { members, len } => {
            let geo = members.iter().all(|(_, s)| is_geo_score(*s)) && !members.is_empty();
            html! {
                <>
                    if geo {
                        <div class="modes" role="tablist">
                            <button class={classes!((*geo_mode).then_some("on"))} onclick={let g = geo_mode.clone(); move |_| g.set(true)}>{ t(lang, Msg::AsGeo) }</button>
                            <button class={classes!((!*geo_mode).then_some("on"))} onclick={let g = geo_mode.clone(); move |_| g.set(false)}>{ t(lang, Msg::Rank) }</button>
                        </div>
                    }
                    if geo && *geo_mode { { geo_view(lang, members, &m.changes) } } else { { zset_view(lang, members, *len, &m.changes) } }
                </>
            }
        }
        View::Stream { entries, len, last_id, groups } => stream_view(lang, entries, *len, last_id, groups, &m.changes),
    };
    html! {
        <section class="viz" aria-label={t(lang, Msg::Value)}>
            <div class="pane-head">
                <h2>{ tr(lang, Msg::Value) }</h2>
                <span class={classes!("type", info.type_name)}>{ info.type_name }</span>
                <span class="key-name" dir="auto">{ name }</span>
            </div>
            <dl class="facts">
                <div><dt>{ t(lang, Msg::Encoding) }</dt><dd dir="ltr">{ info.encoding }</dd></div>
                <div><dt>{ t(lang, Msg::Memory) }</dt><dd dir="ltr">{ size_text(info.memory) }</dd></div>
                <div><dt>{ t(lang, Msg::ColTtl) }</dt><dd dir="ltr" class="ttl">{ ttl }</dd></div>
            </dl>
            <div class="drawing" dir="ltr">{ body }</div>
            if !m.changes.removed.is_empty() {
                <div class="removed" dir="ltr">
                    <span class="label" dir="auto">{ t(lang, Msg::Removed) }{ ": " }</span>
                    { for m.changes.removed.iter().map(|r| html! { <span class="gone-item">{ show_bytes(r) }</span> }) }
                </div>
            }
        </section>
    }
}

fn more(lang: Lang, shown: usize, len: usize) -> Html {
    if len > shown {
        html! { <p class="more" dir="auto">{ plural(lang, Plural::ShowingFirst, shown as u64, &[("total", &len.to_string())]) }</p> }
    } else {
        html! {}
    }
}

fn string_view(lang: Lang, bytes: &[u8], int: Option<i64>, mode: StrMode, set: &UseStateHandle<StrMode>, changed: bool) -> Html {
    let tab = |m: StrMode, label: Msg| {
        let set = set.clone();
        html! { <button class={classes!((mode == m).then_some("on"))} role="tab" onclick={move |_| set.set(m)}>{ t(lang, label) }</button> }
    };
    let mode = if mode == StrMode::Int && int.is_none() { StrMode::Text } else { mode };
    let body = match mode {
        StrMode::Text => html! { <pre class={classes!("string", changed.then_some("changed"))}>{ show_bytes(bytes) }</pre> },
        StrMode::Int => html! {
            <div class={classes!("integer", changed.then_some("changed"))}>{ int.map(|i| i.to_string()).unwrap_or_default() }</div>
        },
        StrMode::Bits => {
            // GETBIT's numbering: bit 0 is the most significant bit of byte 0.
            let shown = &bytes[..bytes.len().min(64)];
            html! {
                <>
                    <div class="bits">
                        { for shown.iter().enumerate().map(|(i, byte)| html! {
                            <div class="byte">
                                <span class="offset">{ (i * 8).to_string() }</span>
                                { for (0..8).map(|b| {
                                    let on = byte & (0x80 >> b) != 0;
                                    html! { <span class={classes!("bit", on.then_some("on"))} title={(i * 8 + b).to_string()}>{ if on { "1" } else { "0" } }</span> }
                                }) }
                            </div>
                        }) }
                    </div>
                    { more(lang, shown.len(), bytes.len()) }
                </>
            }
        }
    };
    html! {
        <>
            <div class="modes" role="tablist">
                { tab(StrMode::Text, Msg::AsText) }
                if int.is_some() { { tab(StrMode::Int, Msg::AsInteger) } }
                { tab(StrMode::Bits, Msg::AsBits) }
            </div>
            { body }
        </>
    }
}

fn list_view(lang: Lang, items: &[Vec<u8>], len: usize, changes: &Changes) -> Html {
    html! {
        <>
            <div class="meta">{ plural(lang, Plural::Elements, len as u64, &[]) }</div>
            <ol class="list-cells">
                { for items.iter().enumerate().map(|(i, item)| html! {
                    <li class={classes!("cell", changes.added_at.contains(&i).then_some("added"))}>
                        <span class="idx">{ i.to_string() }</span>
                        <span class="val">{ show_bytes(item) }</span>
                        <span class="idx neg">{ format!("-{}", len - i) }</span>
                    </li>
                }) }
            </ol>
            { more(lang, items.len(), len) }
        </>
    }
}

fn set_view(lang: Lang, members: &[Vec<u8>], len: usize, changes: &Changes) -> Html {
    html! {
        <>
            <div class="meta">{ plural(lang, Plural::Elements, len as u64, &[]) }</div>
            <div class="set-members">
                { for members.iter().map(|m| html! {
                    <span class={classes!("member", changes.added.contains(m).then_some("added"))}>{ show_bytes(m) }</span>
                }) }
            </div>
            { more(lang, members.len(), len) }
        </>
    }
}

fn hash_view(lang: Lang, fields: &[(Vec<u8>, Vec<u8>)], len: usize, changes: &Changes) -> Html {
    html! {
        <>
            <table class="hash">
                <thead><tr><th dir="auto">{ t(lang, Msg::Field) }</th><th dir="auto">{ t(lang, Msg::Value) }</th></tr></thead>
                <tbody>
                    { for fields.iter().map(|(f, v)| {
                        let class = if changes.added.contains(f) { Some("added") } else if changes.changed.contains(f) { Some("changed") } else { None };
                        html! { <tr class={classes!(class)}><td>{ show_bytes(f) }</td><td>{ show_bytes(v) }</td></tr> }
                    }) }
                </tbody>
            </table>
            { more(lang, fields.len(), len) }
        </>
    }
}

fn zset_view(lang: Lang, members: &[(Vec<u8>, f64)], len: usize, changes: &Changes) -> Html {
    let finite: Vec<f64> = members.iter().map(|(_, s)| *s).filter(|s| s.is_finite()).collect();
    let max = finite.iter().fold(0f64, |a, b| a.max(b.abs()));
    html! {
        <>
            <table class="zset">
                <thead><tr>
                    <th dir="auto">{ t(lang, Msg::Rank) }</th><th dir="auto">{ t(lang, Msg::Member) }</th>
                    <th dir="auto">{ t(lang, Msg::Score) }</th><th></th>
                </tr></thead>
                <tbody>
                    { for members.iter().enumerate().map(|(rank, (m, score))| {
                        let width = if !score.is_finite() { 100.0 } else if max > 0.0 { score.abs() / max * 100.0 } else { 0.0 };
                        let class = if changes.added.contains(m) { Some("added") } else if changes.changed.contains(m) { Some("changed") } else { None };
                        let moved = changes.moved.get(m).map(|old| {
                            if *old > rank { format!("↑{}", old - rank) } else { format!("↓{}", rank - old) }
                        });
                        html! {
                            <tr class={classes!(class)}>
                                <td class="rank">{ rank.to_string() }{ moved.map(|m| html! { <span class="moved">{ m }</span> }).unwrap_or_default() }</td>
                                <td>{ show_bytes(m) }</td>
                                <td class="score">{ redlet_core::util::fmt_double(*score) }</td>
                                <td class="bar-cell"><span class={classes!("bar", (*score < 0.0).then_some("neg"))} style={format!("width:{width:.1}%")}></span></td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            { more(lang, members.len(), len) }
        </>
    }
}

/// A score GEOADD could have written: an integer 52-bit geohash. Scores below 2^32 are the corner of the map
/// near (-180, -85), where nobody's points are, and where small integer scores (a leaderboard's) would land.
fn is_geo_score(s: f64) -> bool {
    s.is_finite() && s >= (1u64 << 32) as f64 && s < (1u64 << 52) as f64 && s.fract() == 0.0 && geohash::decode_score(s).is_some()
}

/// Geo members as points on a plain longitude/latitude grid, scaled to the points' extent.
fn geo_view(lang: Lang, members: &[(Vec<u8>, f64)], changes: &Changes) -> Html {
    let points: Vec<(&Vec<u8>, f64, f64)> =
        members.iter().filter_map(|(m, s)| geohash::decode_score(*s).map(|[lon, lat]| (m, lon, lat))).collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (_, lon, lat) in &points {
        x0 = x0.min(*lon);
        x1 = x1.max(*lon);
        y0 = y0.min(*lat);
        y1 = y1.max(*lat);
    }
    // A margin, and a minimum extent so one point or a line of points still has room.
    let pad_x = ((x1 - x0) * 0.15).max(0.5);
    let pad_y = ((y1 - y0) * 0.15).max(0.5);
    let (x0, x1, y0, y1) = (x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y);
    let (w, h) = (400.0, 260.0);
    let sx = |lon: f64| (lon - x0) / (x1 - x0) * w;
    let sy = |lat: f64| h - (lat - y0) / (y1 - y0) * h;
    html! {
        <>
            <svg class="geo" viewBox={format!("0 0 {w} {h}")} role="img" aria-label={t(lang, Msg::AsGeo)}>
                { for (1..4).map(|i| {
                    let x = w * i as f64 / 4.0;
                    let y = h * i as f64 / 4.0;
                    html! { <><line class="grid" x1={x.to_string()} y1="0" x2={x.to_string()} y2={h.to_string()} /><line class="grid" x1="0" y1={y.to_string()} x2={w.to_string()} y2={y.to_string()} /></> }
                }) }
                { for points.iter().map(|(m, lon, lat)| {
                    let added = changes.added.contains(*m);
                    html! {
                        <g class={classes!("point", added.then_some("added"))}>
                            <circle cx={format!("{:.1}", sx(*lon))} cy={format!("{:.1}", sy(*lat))} r="5" />
                            <text x={format!("{:.1}", sx(*lon) + 8.0)} y={format!("{:.1}", sy(*lat) + 4.0)}>{ show_bytes(m) }</text>
                        </g>
                    }
                }) }
            </svg>
            <table class="geo-table">
                <thead><tr><th>{ t(lang, Msg::Member) }</th><th>{ t(lang, Msg::Longitude) }</th><th>{ t(lang, Msg::Latitude) }</th></tr></thead>
                <tbody>
                    { for points.iter().map(|(m, lon, lat)| html! {
                        <tr><td>{ show_bytes(m) }</td><td>{ format!("{lon:.6}") }</td><td>{ format!("{lat:.6}") }</td></tr>
                    }) }
                </tbody>
            </table>
        </>
    }
}

fn stream_view(lang: Lang, entries: &[StreamEntry], len: usize, last_id: &str, groups: &[GroupView], changes: &Changes) -> Html {
    let pending: HashSet<&str> = groups.iter().flat_map(|g| g.pending.iter().map(|(id, _, _)| id.as_str())).collect();
    html! {
        <>
            <div class="meta">{ plural(lang, Plural::Elements, len as u64, &[]) }{ " · " }{ t(lang, Msg::LastId) }{ ": " }<code>{ last_id }</code></div>
            <ol class="stream">
                { for entries.iter().map(|e| {
                    let delivered_to: Vec<String> = groups.iter().filter(|g| id_le(&e.id, &g.last_delivered_id)).map(|g| show_bytes(&g.name)).collect();
                    html! {
                        <li class={classes!("entry", changes.added.contains(e.id.as_bytes()).then_some("added"), pending.contains(e.id.as_str()).then_some("pending"))}>
                            <code class="id">{ e.id.clone() }</code>
                            <span class="fields">
                                { for e.fields.iter().map(|(f, v)| html! { <span class="pair"><b>{ show_bytes(f) }</b>{ " " }{ show_bytes(v) }</span> }) }
                            </span>
                            { for delivered_to.into_iter().map(|g| html! { <span class="delivered">{ "✓ " }{ g }</span> }) }
                        </li>
                    }
                }) }
            </ol>
            { more(lang, entries.len(), len) }
            if !groups.is_empty() {
                <h3 dir="auto">{ t(lang, Msg::Groups) }</h3>
                { for groups.iter().map(|g| html! {
                    <div class="group">
                        <div class="group-head"><b>{ show_bytes(&g.name) }</b>{ " · " }<span dir="auto">{ t(lang, Msg::LastDelivered) }</span>{ ": " }<code>{ g.last_delivered_id.clone() }</code></div>
                        <div class="consumers">
                            <span dir="auto">{ t(lang, Msg::Consumers) }{ ": " }</span>
                            { for g.consumers.iter().map(|(c, n)| html! { <span class="consumer">{ show_bytes(c) }{ format!(" ({n})") }</span> }) }
                        </div>
                        if !g.pending.is_empty() {
                            <div class="pel">
                                <span dir="auto">{ t(lang, Msg::Pending) }{ ": " }</span>
                                { for g.pending.iter().map(|(id, c, n)| html! { <span class="nack"><code>{ id.clone() }</code>{ " → " }{ show_bytes(c) }{ format!(" ×{n}") }</span> }) }
                            </div>
                        }
                    </div>
                }) }
            }
        </>
    }
}

/// Stream IDs compared as numbers (`ms-seq`).
fn id_le(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> (u64, u64) {
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
    };
    parse(a) <= parse(b)
}
