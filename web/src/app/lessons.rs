//! The lessons as the playground offers them: the course in the learner's language (English where a
//! translation is missing), a lesson found by the name a URL gives, and what running it has done so far.
//!
//! Plain Rust over `crate::tutorial`, tested natively; `components/lessons.rs` draws it.

use std::rc::Rc;

use crate::tutorial::{self, Block, Lesson, Step};

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
/// A lesson that does not parse is left out (the tests keep every file parsing).
pub fn course(lang: Lang) -> Vec<Entry> {
    tutorial::slugs("en")
        .into_iter()
        .filter_map(|slug| {
            let (lesson, _) = find(lang, &slug)?;
            let steps = lesson.blocks.iter().filter(|b| matches!(b, Block::Step(_))).count();
            Some(Entry { slug, title: lesson.title.clone(), steps })
        })
        .collect()
}

/// A lesson by its slug (`caching`) or file name (`02-caching`, `02-caching.md`), in `lang`, else in English.
/// The flag says the English one stands in for a missing translation.
pub fn find(lang: Lang, name: &str) -> Option<(Rc<Lesson>, bool)> {
    let slug = tutorial::slug_of(name.trim());
    let parsed = |code: &str| tutorial::load(code, &slug).and_then(Result::ok);
    match parsed(lang.code()) {
        Some(lesson) => Some((Rc::new(lesson), false)),
        None => parsed("en").map(|lesson| (Rc::new(lesson), lang != Lang::En)),
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
