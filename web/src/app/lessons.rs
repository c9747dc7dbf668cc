//! The lessons as the playground offers them: the course in the learner's language (English where a
//! translation is missing), a lesson found by the name a URL gives, the lesson texts fetched so far, and what
//! running a lesson has done so far.
//!
//! Plain Rust over `crate::tutorial`, tested natively; `components/lessons.rs` draws it. The course list comes
//! from the index `build.rs` writes (titles and step counts), so it draws at once; the page fetches a lesson's
//! text when it opens ([`Library`], kept in the state), while natively the texts are compiled in ([`find`]).

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::tutorial::{self, Block, Lesson, LessonFile, Step};

use super::i18n::Lang;

/// One lesson of the course as the list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub slug: String,
    pub title: String,
    /// Runnable steps (not counting the exercise).
    pub steps: usize,
}

/// The course in `lang`, in order: each lesson of the English course, in `lang` where it is written.
pub fn course(lang: Lang) -> Vec<Entry> {
    tutorial::slugs("en")
        .into_iter()
        .filter_map(|slug| {
            let (file, _) = source(lang, &slug)?;
            Some(Entry { slug, title: file.title.to_string(), steps: file.steps })
        })
        .collect()
}

/// The file to read for a lesson named by its slug (`caching`) or file name (`02-caching`, `02-caching.md`):
/// the one in `lang`, else the English one, the flag saying English stands in for a missing translation.
pub fn source(lang: Lang, name: &str) -> Option<(&'static LessonFile, bool)> {
    let slug = tutorial::slug_of(name.trim());
    match tutorial::file(lang.code(), &slug) {
        Some(file) => Some((file, false)),
        None => tutorial::file("en", &slug).map(|file| (file, lang != Lang::En)),
    }
}

/// A lesson by name in `lang`, else in English, from the compiled-in texts (see [`source`]).
#[cfg(not(fetch_texts))]
pub fn find(lang: Lang, name: &str) -> Option<(Rc<Lesson>, bool)> {
    let (file, fallback) = source(lang, name)?;
    let lesson = tutorial::parse(&file.slug(), file.text?).ok()?;
    Some((Rc::new(lesson), fallback))
}

/// A lesson file's text as the page has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetch {
    /// Asked for, not arrived.
    Loading,
    /// The fetch failed or the text did not parse: why, for the notice beside the Retry button.
    Failed(String),
    Ready(Rc<Lesson>),
}

/// The lesson files the page has fetched or is fetching, by file. Nothing is fetched twice unless it failed and
/// the learner retried; the texts stay for the page's life (a course is a few hundred KB at most).
///
/// `Eq` all the way down, so that comparing the pane's props (every tick) finds an unchanged `Rc<Library>` or
/// `Rc<Lesson>` by pointer (the standard library's `Rc` compares `Eq` values by pointer first) without walking it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Library {
    files: BTreeMap<&'static LessonFile, Fetch>,
}

impl Library {
    /// `None`: never asked for (or forgotten for a retry), so the pane starts a fetch.
    pub fn get(&self, file: &LessonFile) -> Option<&Fetch> {
        self.files.get(file)
    }

    pub fn requested(&mut self, file: &'static LessonFile) {
        self.files.insert(file, Fetch::Loading);
    }

    /// What the fetch gave: the text, parsed, or why there is none.
    pub fn arrived(&mut self, file: &'static LessonFile, text: Result<String, String>) {
        let fetched = match text {
            Ok(text) => match tutorial::parse(&file.slug(), &text) {
                Ok(lesson) => Fetch::Ready(Rc::new(lesson)),
                Err(e) => Fetch::Failed(format!("{}: {e}", file.file)),
            },
            Err(e) => Fetch::Failed(e),
        };
        self.files.insert(file, fetched);
    }

    /// Forgets a failed file, so it is fetched again.
    pub fn retry(&mut self, file: &LessonFile) {
        if matches!(self.files.get(file), Some(Fetch::Failed(_))) {
            self.files.remove(file);
        }
    }
}

/// The slugs before and after `slug` in the course.
pub fn neighbours(slug: &str) -> (Option<String>, Option<String>) {
    let slugs = tutorial::slugs("en");
    match slugs.iter().position(|s| s == slug) {
        Some(i) => (i.checked_sub(1).and_then(|p| slugs.get(p).cloned()), slugs.get(i + 1).cloned()),
        None => (None, None),
    }
}

/// What is to be done to play a lesson from top to bottom, as "Run all steps" does: each step, and the clock
/// moved on where a `continued` block waits (a blocking command's timeout).
#[derive(Clone, Debug, PartialEq)]
pub enum Play {
    Step { id: usize, step: Step },
    Wait { secs: u32 },
}

/// The lesson's steps in order; a step's id is its block index, which is the same in every language.
pub fn playlist(lesson: &Lesson) -> Vec<Play> {
    lesson
        .blocks
        .iter()
        .enumerate()
        .filter_map(|(id, block)| match block {
            Block::Step(step) => Some(Play::Step { id, step: step.clone() }),
            Block::Output(out) if out.wait > 0 => Some(Play::Wait { secs: out.wait }),
            _ => None,
        })
        .collect()
}

/// The id the exercise's reference solution runs under (a block index never reaches it).
pub const SOLUTION: usize = usize::MAX;

/// One line of an exercise check: the command, what it must print, what it printed.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRow {
    pub command: String,
    pub expected: String,
    pub got: String,
    pub ok: bool,
}

/// The open lesson's progress. It survives a language switch (the steps are the same in every language) and is
/// dropped when another lesson opens.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Ids of the steps run (block indexes, or `SOLUTION`).
    pub ran: Vec<usize>,
    /// Hints shown so far.
    pub hints: usize,
    pub solution_shown: bool,
    /// The last check: passed, and each line's outcome.
    pub check: Option<(bool, Vec<CheckRow>)>,
}

impl Progress {
    pub fn has_run(&self, id: usize) -> bool {
        self.ran.contains(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_lists_every_lesson_in_order_with_its_steps() {
        let course = course(Lang::En);
        let slugs: Vec<&str> = course.iter().map(|e| e.slug.as_str()).collect();
        assert_eq!(slugs, ["first-steps", "caching", "sessions", "counters", "queues", "leaderboards"]);
        assert!(course.iter().all(|e| e.steps >= 3 && !e.title.is_empty()));
        for lang in Lang::ALL {
            assert_eq!(super::course(lang).len(), course.len(), "{lang:?}");
        }
    }

    #[test]
    fn a_lesson_is_found_by_slug_or_file_name_and_falls_back_to_english() {
        let (a, fallback) = find(Lang::En, "caching").expect("caching");
        assert!(!fallback);
        assert_eq!(find(Lang::En, "02-caching.md").map(|(l, _)| l), Some(a.clone()));
        assert_eq!(find(Lang::En, " 02-caching ").map(|(l, _)| l.slug.clone()).as_deref(), Some("caching"));
        assert!(find(Lang::Ru, "no-such-lesson").is_none());
        // Whatever the language, the steps are the English lesson's.
        for lang in Lang::ALL {
            let (l, fallback) = find(lang, "caching").expect("caching");
            assert_eq!(fallback, l.title == a.title && lang != Lang::En);
            assert_eq!(playlist(&l), playlist(&a), "{lang:?}");
        }
    }

    #[test]
    fn the_source_is_the_translation_or_english_standing_in() {
        assert_eq!(source(Lang::Ru, "02-caching.md").map(|(f, fallback)| (f.lang, f.file, fallback)), Some(("ru", "02-caching.md", false)));
        assert_eq!(source(Lang::En, " caching ").map(|(f, _)| f.lang), Some("en"));
        assert!(source(Lang::Bn, "nope").is_none());
        // The list shows each language's own titles without any lesson's text.
        let titles = |lang| course(lang).into_iter().map(|e| e.title).collect::<Vec<_>>();
        assert_ne!(titles(Lang::Ru), titles(Lang::En));
        assert_eq!(course(Lang::Ar).iter().map(|e| e.steps).collect::<Vec<_>>(), course(Lang::En).iter().map(|e| e.steps).collect::<Vec<_>>());
    }

    #[test]
    fn the_library_keeps_what_was_fetched_and_forgets_a_failure_for_a_retry() {
        let (file, _) = source(Lang::Bn, "caching").expect("bn caching");
        let mut library = Library::default();
        assert_eq!(library.get(file), None);
        library.requested(file);
        assert_eq!(library.get(file), Some(&Fetch::Loading));
        // Only a failure is forgotten: a retry never drops a lesson being fetched or read.
        library.retry(file);
        assert_eq!(library.get(file), Some(&Fetch::Loading));
        library.arrived(file, Err("HTTP 404".into()));
        assert_eq!(library.get(file), Some(&Fetch::Failed("HTTP 404".into())));
        library.retry(file);
        assert_eq!(library.get(file), None);
        // A host's error page is not a lesson.
        library.arrived(file, Ok("<!doctype html><title>Not found</title>".into()));
        assert!(matches!(library.get(file), Some(Fetch::Failed(why)) if why.starts_with("02-caching.md: line 1")));
        library.arrived(file, Ok(file.text.expect("compiled in natively").to_string()));
        let (expected, _) = find(Lang::Bn, "caching").expect("bn caching");
        assert_eq!(library.get(file), Some(&Fetch::Ready(expected)));
    }

    #[test]
    fn neighbours_follow_the_course_order() {
        assert_eq!(neighbours("first-steps"), (None, Some("caching".into())));
        assert_eq!(neighbours("counters"), (Some("sessions".into()), Some("queues".into())));
        assert_eq!(neighbours("leaderboards"), (Some("queues".into()), None));
        assert_eq!(neighbours("nothing"), (None, None));
    }

    #[test]
    fn the_playlist_runs_steps_and_waits_for_timeouts() {
        let (queues, _) = find(Lang::En, "queues").expect("queues");
        let list = playlist(&queues);
        assert!(list.iter().any(|p| matches!(p, Play::Step { step, .. } if step.client == 2)));
        let ids: Vec<usize> = list.iter().filter_map(|p| if let Play::Step { id, .. } = p { Some(*id) } else { None }).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
