//! The playground's components, one per file.

pub mod app;
pub mod console;
pub mod data;
pub mod header;
pub mod key_browser;
pub mod lessons;
pub mod time_control;
pub mod visualizer;

use yew::prelude::*;

use super::i18n::{text, Lang, Msg};
use super::AppContext;

/// The context every component reads (provided by `App`).
#[hook]
pub fn use_app() -> AppContext {
    use_context::<AppContext>().unwrap_or_else(|| unreachable!("App provides the context"))
}

/// A translated text; a missing translation shows in English, marked (`lang="en"`, class `fallback`).
pub fn tr(lang: Lang, msg: Msg) -> Html {
    let t = text(lang, msg);
    if t.fallback {
        html! { <span class="fallback" lang="en">{ t.text }</span> }
    } else {
        html! { { t.text } }
    }
}

/// Bytes shown as text: UTF-8 as it is (Bangla, Arabic, Cyrillic keys), anything else with `\xNN` escapes.
pub fn show_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::new();
            for chunk in b.utf8_chunks() {
                out.push_str(chunk.valid());
                for byte in chunk.invalid() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
            out
        }
    }
}

/// A duration as a clock shows it: `0:05`, `12:30`, `1:02:03`, `3d 04:00:00`.
pub fn clock_text(ms: u64) -> String {
    let s = ms / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{sec:02}")
    } else if h > 0 {
        format!("{h}:{m:02}:{sec:02}")
    } else {
        format!("{m}:{sec:02}")
    }
}

/// A byte count in compact units.
pub fn size_text(bytes: usize) -> String {
    match bytes {
        0..=1023 => format!("{bytes} B"),
        1024..=1_048_575 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}
