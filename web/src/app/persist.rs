//! Keeping the playground's data across reloads, the part that needs no browser: which pages keep it, what
//! is kept (an RDB snapshot and the virtual clock), how a page resumes from it, and when to save.
//!
//! The browser part (`storage`: IndexedDB, downloads, files) and the component that drives both
//! (`components::data`) build on this. A page keeps its data only when it is the full playground: an embed
//! or a lesson starts empty and saves nothing, so the embeds of a course page do not share one dataset and
//! a lesson always starts from an empty database.

use super::session::{Clock, Session};
use super::url::Params;

/// How long the data must stay unchanged before it is saved (ms): a burst of commands is saved once.
pub const QUIET_MS: u64 = 400;

/// Whether a page with these URL parameters keeps its data in the browser.
pub fn keeps_data(params: &Params) -> bool {
    !params.embed && params.lesson.is_none()
}

/// What the browser keeps: the data as an RDB snapshot, whose expiries are times on the virtual clock, and
/// that clock, so that a fast-forwarded TTL is still right after a reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    pub rdb: Vec<u8>,
    pub clock: Clock,
}

/// What reading the browser's storage found at start.
#[derive(Debug)]
pub enum Stored {
    /// Nothing kept yet.
    Nothing,
    Found(Saved),
    /// No storage to keep data in (IndexedDB missing, refused in a private window, not answering): why.
    Unavailable(String),
}

/// What went wrong with the browser's storage at start, for the page to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The page cannot keep data here: it starts empty and saves nothing.
    Unavailable(String),
    /// What was kept could not be read (the reason, as the loader says it): the page starts empty, and the
    /// next save replaces it.
    Unreadable(String),
}

/// Whether this page keeps its data, and what went wrong at start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persistence {
    pub keep: bool,
    pub problem: Option<Problem>,
}

/// Puts what the browser kept into a fresh session: the clock, then the data (whose expiries are read on
/// that clock). Says whether the page goes on keeping its data.
pub fn resume(session: &mut Session, stored: Stored, real: u64) -> Persistence {
    match stored {
        Stored::Nothing => Persistence { keep: true, problem: None },
        Stored::Unavailable(why) => Persistence { keep: false, problem: Some(Problem::Unavailable(why)) },
        Stored::Found(saved) => {
            let clock = session.clock;
            session.clock = saved.clock;
            match session.restore(&saved.rdb, real) {
                Ok(()) => Persistence { keep: true, problem: None },
                Err(e) => {
                    session.clock = clock;
                    Persistence { keep: true, problem: Some(Problem::Unreadable(e.to_string())) }
                }
            }
        }
    }
}

/// What a session looks like to the saver: two looks with the same mark hold the same data and clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub changes: u64,
    pub clock: Clock,
}

impl Mark {
    pub fn of(session: &Session) -> Mark {
        Mark { changes: session.changes, clock: session.clock }
    }
}

/// When to save: after a change, once nothing more changed for `QUIET_MS`; one save at a time; after a
/// failed save, not again until the next change (a full quota would otherwise be retried forever).
#[derive(Clone, Debug)]
pub struct Autosave {
    /// The last mark seen, and when it was first seen.
    seen: Mark,
    since: u64,
    /// What the storage holds.
    saved: Mark,
    /// A save on its way.
    writing: Option<Mark>,
    /// The last save that failed.
    failed: Option<Mark>,
}

impl Autosave {
    /// Starts from a session whose state is what the storage holds (just resumed, or empty with nothing kept).
    pub fn new(mark: Mark) -> Autosave {
        Autosave { seen: mark, since: 0, saved: mark, writing: None, failed: None }
    }

    /// Looks at the session at time `at` (ms).
    pub fn observe(&mut self, mark: Mark, at: u64) {
        if mark != self.seen {
            self.seen = mark;
            self.since = at;
        }
    }

    /// Whether what was seen last is not in the storage yet.
    pub fn pending(&self) -> bool {
        self.seen != self.saved
    }

    /// Whether to save what was seen last, now, were the page about to go: it differs from the storage, it is
    /// not being written, and it did not just fail.
    pub fn unsaved(&self) -> bool {
        self.pending() && self.writing != Some(self.seen) && self.failed != Some(self.seen)
    }

    /// Whether to save now: unsaved, and unchanged for `QUIET_MS`.
    pub fn due(&self, at: u64) -> bool {
        self.unsaved() && at.saturating_sub(self.since) >= QUIET_MS
    }

    /// A save of `mark` starts.
    pub fn begin(&mut self, mark: Mark) {
        self.writing = Some(mark);
    }

    /// The save of `mark` ended.
    pub fn finish(&mut self, mark: Mark, ok: bool) {
        if self.writing == Some(mark) {
            self.writing = None;
        }
        if ok {
            self.saved = mark;
            self.failed = None;
        } else {
            self.failed = Some(mark);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::i18n::Lang;
    use crate::app::url;

    const T0: u64 = 1_700_000_000_000;

    fn reply(s: &mut Session, line: &str, real: u64) -> String {
        let c = s.connect(real);
        let ran = s.run_line(c, line, real, Lang::En);
        match ran.outputs.last() {
            Some((_, super::super::session::Out::Reply(r) | super::super::session::Out::Error(r))) => r.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn only_the_full_page_keeps_its_data() {
        assert!(keeps_data(&url::parse("")));
        assert!(keeps_data(&url::parse("?lang=ar&run=SET%20a%201")));
        assert!(!keeps_data(&url::parse("?embed=1")));
        assert!(!keeps_data(&url::parse("?lesson=caching")));
        assert!(keeps_data(&url::parse("?embed=0")));
    }

    #[test]
    fn a_reload_resumes_data_and_fast_forwarded_ttls() {
        let mut before = Session::new(1);
        reply(&mut before, "SET session:1 x EX 600", T0);
        reply(&mut before, "RPUSH queue a b", T0);
        reply(&mut before, "HSET user:1 name Ada", T0);
        before.clock.advance(60_000);
        assert_eq!(reply(&mut before, "TTL session:1", T0), "(integer) 540");
        let saved = Saved { rdb: before.snapshot(), clock: before.clock };

        // Reloaded ten real seconds later: the clock is still a minute ahead, the TTL went on counting.
        let mut after = Session::new(2);
        let p = resume(&mut after, Stored::Found(saved.clone()), T0 + 10_000);
        assert_eq!(p, Persistence { keep: true, problem: None });
        assert_eq!(reply(&mut after, "TTL session:1", T0 + 10_000), "(integer) 530");
        assert_eq!(reply(&mut after, "LRANGE queue 0 -1", T0 + 10_000), "1) \"a\"\n2) \"b\"");
        assert_eq!(reply(&mut after, "HGET user:1 name", T0 + 10_000), "\"Ada\"");

        // A paused clock stays paused where it stood.
        let mut paused = Session::new(3);
        let mut clock = saved.clock;
        clock.pause(T0);
        resume(&mut paused, Stored::Found(Saved { clock, ..saved }), T0 + 99_000);
        assert_eq!(paused.now(T0 + 99_000), T0 + 60_000);
        assert_eq!(reply(&mut paused, "TTL session:1", T0 + 99_000), "(integer) 540");
    }

    #[test]
    fn unreadable_or_missing_storage_starts_empty() {
        let mut s = Session::new(1);
        let p = resume(&mut s, Stored::Found(Saved { rdb: b"not an RDB file".to_vec(), clock: Clock::from_parts(5000, None) }), T0);
        assert_eq!(p, Persistence { keep: true, problem: Some(Problem::Unreadable("Wrong signature trying to load DB from file".into())) });
        assert_eq!(s.now(T0), T0, "the clock of an unreadable save is not taken either");
        assert_eq!(s.key_count(), 0);
        let p = resume(&mut s, Stored::Unavailable("IndexedDB is not available".into()), T0);
        assert_eq!(p, Persistence { keep: false, problem: Some(Problem::Unavailable("IndexedDB is not available".into())) });
        assert_eq!(resume(&mut s, Stored::Nothing, T0), Persistence { keep: true, problem: None });
    }

    #[test]
    fn writes_are_saved_once_quiet_and_a_failure_waits_for_the_next_change() {
        let mut s = Session::new(1);
        let mut auto = Autosave::new(Mark::of(&s));
        auto.observe(Mark::of(&s), T0);
        assert!(!auto.pending() && !auto.due(T0 + 10_000), "nothing changed");
        // Reads change nothing.
        reply(&mut s, "GET nothing", T0);
        auto.observe(Mark::of(&s), T0);
        assert!(!auto.pending());

        reply(&mut s, "SET a 1", T0);
        auto.observe(Mark::of(&s), T0);
        assert!(auto.pending() && !auto.due(T0 + 100));
        reply(&mut s, "SET b 2", T0 + 300);
        auto.observe(Mark::of(&s), T0 + 300);
        assert!(!auto.due(T0 + 600), "each write restarts the wait");
        assert!(auto.due(T0 + 300 + QUIET_MS));

        let mark = Mark::of(&s);
        auto.begin(mark);
        assert!(!auto.due(T0 + 5000) && !auto.unsaved(), "one save at a time");
        auto.finish(mark, true);
        assert!(!auto.pending());

        // Time control is kept too.
        s.clock.advance(10_000);
        auto.observe(Mark::of(&s), T0 + 6000);
        assert!(auto.due(T0 + 6000 + QUIET_MS));
        let mark = Mark::of(&s);
        auto.begin(mark);
        auto.finish(mark, false);
        assert!(auto.pending() && !auto.unsaved() && !auto.due(T0 + 60_000), "not retried in a loop");
        reply(&mut s, "DEL a", T0 + 7000);
        auto.observe(Mark::of(&s), T0 + 7000);
        assert!(auto.due(T0 + 7000 + QUIET_MS), "the next change tries again");

        // SAVE sets the engine's dirty counter back to 0; it still counts as a change.
        let before = s.changes;
        reply(&mut s, "SAVE", T0 + 8000);
        assert_eq!(s.changes, before + 1);
    }
}
