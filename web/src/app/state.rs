//! The playground's state and its reducer: consoles, the key browser's list and filter, the selected key, the
//! clock, the language, the open lesson.
//!
//! `State::reduce` is pure apart from the engine it drives (`Session`, shared by `Rc<RefCell<_>>` because
//! the engine is large and mutable): the real time comes in with each action, so the reducer is tested as
//! plain Rust, without a browser.

use std::cell::RefCell;
use std::rc::Rc;

use redlet_core::ClientId;

use super::i18n::Lang;
use super::lessons::{Library, Progress};
use super::session::{Out, Session};
use crate::tutorial::{self, LessonFile, Step};
use crate::introspect::{self, KeyInfo};

/// Lines a console keeps; older ones scroll away, as a terminal's do.
pub const SCROLLBACK: usize = 2000;
/// History entries kept (and saved across reloads).
pub const HISTORY: usize = 500;
/// Up to this many keyspace events after one action, the key list is updated key by key; beyond, it is read anew.
const INCREMENTAL_MAX: usize = 2000;

#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleState {
    /// The engine client this console speaks as.
    pub client: ClientId,
    /// The number the learner sees ("Client 2"), stable while the console lives.
    pub number: usize,
    pub lines: Rc<Vec<Out>>,
    pub prompt: String,
    pub blocked: bool,
    pub subscribed: bool,
    pub in_multi: bool,
}

/// The key browser's filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// A glob pattern; text without `*?[` matches keys containing it.
    pub pattern: String,
    /// A TYPE name, or none for every type.
    pub kind: Option<&'static str>,
}

impl Filter {
    pub fn glob(&self) -> Option<Vec<u8>> {
        let p = self.pattern.trim();
        if p.is_empty() {
            None
        } else if p.contains(['*', '?', '[']) {
            Some(p.as_bytes().to_vec())
        } else {
            // Escape the glob's special characters so the text is matched literally.
            let mut g = Vec::with_capacity(p.len() + 2);
            g.push(b'*');
            for b in p.bytes() {
                if b == b'\\' {
                    g.push(b'\\');
                }
                g.push(b);
            }
            g.push(b'*');
            Some(g)
        }
    }
}

/// The shared engine, compared by identity (a `Reset` makes a new one).
#[derive(Clone)]
pub struct SessionRef(pub Rc<RefCell<Session>>);

impl SessionRef {
    pub fn new(session: Session) -> SessionRef {
        SessionRef(Rc::new(RefCell::new(session)))
    }
}

impl PartialEq for SessionRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for SessionRef {
    type Target = RefCell<Session>;

    fn deref(&self) -> &RefCell<Session> {
        &self.0
    }
}

#[derive(Clone)]
pub struct State {
    pub session: SessionRef,
    pub lang: Lang,
    pub consoles: Vec<ConsoleState>,
    /// The console that ran last (the key browser shows its database).
    pub active: usize,
    /// Typed lines, oldest first, shared by the consoles as redis-cli's history file is.
    pub history: Rc<Vec<String>>,
    pub next_number: usize,
    /// The database the key browser lists.
    pub db: usize,
    pub filter: Filter,
    /// The listed keys, filtered and sorted; `total` counts the database's keys before filtering.
    pub keys: Rc<Vec<Rc<KeyInfo>>>,
    pub total: usize,
    /// The earliest expiry among the listed keys: when it passes, the list is read again.
    pub next_expiry: Option<u64>,
    pub selected: Option<Vec<u8>>,
    /// Bumped whenever the data may have changed: views that read the engine redraw.
    pub version: u64,
    /// The keys the last line named (the visualizer's "last change").
    pub last_keys: Rc<Vec<Vec<u8>>>,
    /// The engine's write counter when the list was last read.
    seen_dirty: u64,
    /// Virtual and real time at the last action.
    pub now: u64,
    pub real: u64,
    pub lessons_open: bool,
    /// The open lesson's slug (none: the pane lists the course).
    pub lesson: Option<String>,
    pub progress: Progress,
    /// The lesson texts fetched so far (the page reads them from the built site when a lesson opens).
    pub library: Rc<Library>,
    /// The compact layout for iframes (`?embed=1`).
    pub embed: bool,
    pub notice: Option<String>,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.session == other.session
            && self.lang == other.lang
            && self.consoles == other.consoles
            && self.version == other.version
            && self.now == other.now
            && self.selected == other.selected
            && self.filter == other.filter
            && self.lessons_open == other.lessons_open
            && self.lesson == other.lesson
            && self.progress == other.progress
            && self.library == other.library
            && self.active == other.active
            && self.db == other.db
            && self.notice == other.notice
    }
}

pub enum Action {
    /// A line typed (or pasted, or run from a lesson) into a console.
    Run { console: usize, line: String, real: u64 },
    /// The page's timer: engine ticks, TTLs count down.
    Tick { real: u64 },
    AddConsole { real: u64 },
    CloseConsole { console: usize },
    ClearConsole { console: usize },
    /// Ctrl+C: the console's client is dropped and a fresh one takes its place (stops a BLPOP or a SUBSCRIBE).
    Interrupt { console: usize, real: u64 },
    SetLang(Lang),
    Select(Option<Vec<u8>>),
    SetPattern(String),
    SetKind(Option<&'static str>),
    SetDb(usize),
    Advance { ms: u64, real: u64 },
    Pause { real: u64 },
    Resume { real: u64 },
    /// Everything removed: a new engine, every console reconnected.
    Reset { real: u64 },
    /// The engine's data was replaced (a `dump.rdb` loaded): the views read it again.
    Restored { real: u64 },
    ToggleLessons,
    /// Opens a lesson by slug, or the course list; another lesson starts with no progress.
    OpenLesson(Option<String>),
    /// A lesson's step, run with one click: the clock moves on by its `wait`, then its lines run, in order, in
    /// its console (opened if the learner has fewer).
    RunStep { id: usize, step: Step, real: u64 },
    /// Runs an exercise's check on a client of its own and records the outcome.
    Check { check: Step, real: u64 },
    ShowHint,
    ShowSolution,
    DismissNotice,
    /// The page started fetching a lesson's text.
    LessonRequested(&'static LessonFile),
    /// A lesson's text arrived, or why it did not.
    LessonFetched { file: &'static LessonFile, text: Result<String, String> },
    /// The learner asks again for a lesson that failed to load.
    RetryLesson(&'static LessonFile),
}

impl State {
    pub fn new(session: Session, lang: Lang, history: Vec<String>, real: u64) -> State {
        State::with_session(SessionRef::new(session), lang, history, real)
    }

    /// A state over a session the page prepared (with the data it kept across a reload).
    pub fn with_session(session: SessionRef, lang: Lang, history: Vec<String>, real: u64) -> State {
        let mut state = State {
            session,
            lang,
            consoles: Vec::new(),
            active: 0,
            history: Rc::new(history),
            next_number: 1,
            db: 0,
            filter: Filter::default(),
            keys: Rc::new(Vec::new()),
            total: 0,
            next_expiry: None,
            selected: None,
            version: 0,
            last_keys: Rc::new(Vec::new()),
            seen_dirty: 0,
            now: 0,
            real,
            lessons_open: false,
            lesson: None,
            progress: Progress::default(),
            library: Rc::new(Library::default()),
            embed: false,
            notice: None,
        };
        state.add_console(real);
        state.refresh(real);
        state
    }

    fn add_console(&mut self, real: u64) {
        let client = self.session.borrow_mut().connect(real);
        let number = self.next_number;
        self.next_number += 1;
        let mut console =
            ConsoleState { client, number, lines: Rc::new(Vec::new()), prompt: String::new(), blocked: false, subscribed: false, in_multi: false };
        self.describe(&mut console);
        self.consoles.push(console);
    }

    fn describe(&self, console: &mut ConsoleState) {
        let s = self.session.borrow();
        console.prompt = s.prompt(console.client);
        console.blocked = s.is_blocked(console.client);
        console.subscribed = s.is_subscribed(console.client);
        console.in_multi = s.in_multi(console.client);
    }

    /// Appends outputs to the consoles of their clients.
    fn deliver(&mut self, outputs: Vec<(ClientId, Out)>) {
        for (client, out) in outputs {
            if let Some(console) = self.consoles.iter_mut().find(|c| c.client == client) {
                let lines = Rc::make_mut(&mut console.lines);
                lines.push(out);
                if lines.len() > SCROLLBACK {
                    let excess = lines.len() - SCROLLBACK;
                    lines.drain(..excess);
                }
            }
        }
    }

    fn describe_all(&mut self) {
        let mut consoles = std::mem::take(&mut self.consoles);
        for c in &mut consoles {
            self.describe(c);
        }
        self.consoles = consoles;
    }

    /// Reads the key list again (after a write, or when a listed key's time has passed).
    fn refresh(&mut self, real: u64) {
        let session = self.session.borrow();
        let now = session.now(real);
        let engine = &session.engine;
        let pattern = self.filter.glob();
        let mut keys: Vec<Rc<KeyInfo>> =
            introspect::all_keys(engine, self.db, pattern.as_deref(), self.filter.kind, now).into_iter().map(Rc::new).collect();
        keys.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        // What the engine logged up to now is in this reading.
        drop(session);
        self.session.borrow_mut().engine.drain_events();
        let session = self.session.borrow();
        let engine = &session.engine;
        self.next_expiry = keys.iter().filter_map(|k| k.expires_at).min();
        self.total = engine.dbs.get(self.db).map_or(0, |d| d.keys.len());
        self.seen_dirty = engine.dirty;
        self.now = now;
        drop(session);
        self.keys = Rc::new(keys);
        self.version += 1;
        self.drop_missing_selection(now);
    }

    /// Brings the key list up to date after the engine ran: the keys the logged keyspace events name are read
    /// again (a few lookups and sorted inserts, whatever the database's size), or every key when the change
    /// was a bulk one, when the log is long, or when the write counter moved without events.
    fn sync(&mut self, real: u64, bulk: bool) {
        let (events, dirty, now) = {
            let mut s = self.session.borrow_mut();
            let events = s.engine.drain_events();
            (events, s.engine.dirty, s.now(real))
        };
        let wrote = dirty != self.seen_dirty;
        if bulk || events.len() > INCREMENTAL_MAX || (wrote && events.is_empty()) {
            return self.refresh(real);
        }
        let mut touched: Vec<&[u8]> = events.iter().filter(|e| e.db == self.db).map(|e| e.key.as_slice()).collect();
        touched.sort_unstable();
        touched.dedup();
        let expired = self.next_expiry.is_some_and(|at| now > at);
        self.now = now;
        self.seen_dirty = dirty;
        if touched.is_empty() && !expired {
            return;
        }
        let pattern = self.filter.glob();
        let session = self.session.borrow();
        let keys = Rc::make_mut(&mut self.keys);
        if expired {
            // Keys whose time has passed leave the list even before the engine deletes them, as a read would.
            keys.retain(|k| k.expires_at.is_none_or(|at| at >= now));
        }
        let fresh: Vec<(&[u8], Option<Rc<KeyInfo>>)> = touched
            .into_iter()
            .map(|key| {
                let info = introspect::key_info(&session.engine, self.db, key, now).filter(|k| {
                    self.filter.kind.is_none_or(|t| t == k.type_name)
                        && pattern.as_deref().is_none_or(|p| redlet_core::glob::string_match(p, key, false))
                });
                (key, info.map(Rc::new))
            })
            .collect();
        if fresh.len() <= 16 {
            // A few keys: binary search and shift.
            for (key, info) in fresh {
                match (keys.binary_search_by(|k| k.key.as_slice().cmp(key)), info) {
                    (Ok(i), Some(info)) => keys[i] = info,
                    (Ok(i), None) => {
                        keys.remove(i);
                    }
                    (Err(i), Some(info)) => keys.insert(i, info),
                    (Err(_), None) => {}
                }
            }
        } else {
            // Many keys (MSET of a thousand): one merge of two sorted runs instead of a thousand shifts.
            let old = std::mem::take(keys);
            let mut merged = Vec::with_capacity(old.len() + fresh.len());
            let mut fresh = fresh.into_iter().peekable();
            for k in old {
                while let Some((_, info)) = fresh.next_if(|(key, _)| *key < k.key.as_slice()) {
                    merged.extend(info);
                }
                match fresh.next_if(|(key, _)| *key == k.key.as_slice()) {
                    Some((_, info)) => merged.extend(info),
                    None => merged.push(k),
                }
            }
            merged.extend(fresh.filter_map(|(_, info)| info));
            *keys = merged;
        }
        self.next_expiry = keys.iter().filter_map(|k| k.expires_at).min();
        self.total = session.engine.dbs.get(self.db).map_or(0, |d| d.keys.len());
        drop(session);
        self.version += 1;
        self.drop_missing_selection(now);
    }

    /// A selected key that is gone is unselected, unless the last command named it (the visualizer then says
    /// it was removed).
    fn drop_missing_selection(&mut self, now: u64) {
        if let Some(sel) = &self.selected {
            let session = self.session.borrow();
            if introspect::key_info(&session.engine, self.db, sel, now).is_none() && !self.last_keys.contains(sel) {
                drop(session);
                self.selected = None;
            }
        }
    }

    fn follow(&mut self, keys: &[Vec<u8>], real: u64) {
        let session = self.session.borrow();
        let now = session.now(real);
        let existing = keys.iter().find(|k| introspect::key_info(&session.engine, self.db, k, now).is_some()).cloned();
        drop(session);
        if let Some(key) = existing {
            self.selected = Some(key);
        } else if let Some(first) = keys.first() {
            // A key the command removed stays selected, so the visualizer can say it is gone.
            if self.selected.as_ref() == Some(first) {
                self.selected = Some(first.clone());
            }
        }
    }

    pub fn reduce(mut self, action: Action) -> State {
        self.notice = None;
        match action {
            Action::Run { console, line, real } => {
                let Some(c) = self.consoles.get(console) else { return self };
                let client = c.client;
                if !line.trim().is_empty() {
                    let history = Rc::make_mut(&mut self.history);
                    if history.last() != Some(&line) {
                        history.push(line.clone());
                    }
                    if history.len() > HISTORY {
                        let excess = history.len() - HISTORY;
                        history.drain(..excess);
                    }
                }
                let ran = self.session.borrow_mut().run_line(client, &line, real, self.lang);
                self.active = console;
                if ran.clear {
                    if let Some(c) = self.consoles.get_mut(console) {
                        c.lines = Rc::new(Vec::new());
                    }
                } else {
                    self.deliver(ran.outputs);
                }
                if let (Some(fresh), Some(c)) = (ran.reconnected, self.consoles.get_mut(console)) {
                    c.client = fresh;
                }
                self.describe_all();
                let db = self.consoles.get(console).map_or(0, |c| self.session.borrow().db_of(c.client));
                let other_db = db != self.db;
                if other_db {
                    self.db = db;
                    self.selected = None;
                }
                self.last_keys = Rc::new(ran.keys.clone());
                self.sync(real, ran.bulk || other_db);
                // The visualizer looks again after every line: the last command's keys are highlighted.
                self.version += 1;
                self.follow(&ran.keys, real);
            }
            Action::Tick { real } => {
                let pushes = self.session.borrow_mut().tick(real);
                let had_pushes = !pushes.is_empty();
                self.deliver(pushes);
                if had_pushes {
                    self.describe_all();
                }
                self.real = real;
                self.sync(real, false);
            }
            Action::AddConsole { real } => {
                self.add_console(real);
                self.active = self.consoles.len() - 1;
            }
            Action::CloseConsole { console } => {
                if self.consoles.len() > 1 && console < self.consoles.len() {
                    let c = self.consoles.remove(console);
                    self.session.borrow_mut().drop_client(c.client, self.real, false);
                    self.active = self.active.min(self.consoles.len() - 1);
                    self.describe_all();
                }
            }
            Action::ClearConsole { console } => {
                if let Some(c) = self.consoles.get_mut(console) {
                    c.lines = Rc::new(Vec::new());
                }
            }
            Action::Interrupt { console, real } => {
                if let Some(c) = self.consoles.get(console) {
                    let old = c.client;
                    let fresh = self.session.borrow_mut().drop_client(old, real, true);
                    if let (Some(fresh), Some(c)) = (fresh, self.consoles.get_mut(console)) {
                        c.client = fresh;
                        Rc::make_mut(&mut c.lines).push(Out::Note("^C".into()));
                    }
                    self.describe_all();
                    self.refresh(real);
                }
            }
            Action::SetLang(lang) => self.lang = lang,
            Action::Select(key) => {
                self.selected = key;
                self.version += 1;
            }
            Action::SetPattern(p) => {
                self.filter.pattern = p;
                self.refresh(self.real);
            }
            Action::SetKind(k) => {
                self.filter.kind = k;
                self.refresh(self.real);
            }
            Action::SetDb(db) => {
                if db < 16 && db != self.db {
                    self.db = db;
                    self.selected = None;
                    self.refresh(self.real);
                }
            }
            Action::Advance { ms, real } => {
                self.session.borrow_mut().clock.advance(ms);
                return self.reduce(Action::Tick { real });
            }
            Action::Pause { real } => {
                self.session.borrow_mut().clock.pause(real);
                return self.reduce(Action::Tick { real });
            }
            Action::Resume { real } => {
                self.session.borrow_mut().clock.resume(real);
                return self.reduce(Action::Tick { real });
            }
            Action::Reset { real } => {
                let (clock, changes) = {
                    let old = self.session.borrow();
                    (old.clock, old.changes)
                };
                let mut fresh = Session::new(real);
                fresh.clock = clock;
                // Emptying the data is a change too: the page saves the empty dataset.
                fresh.changes = changes + 1;
                self.session = SessionRef::new(fresh);
                let consoles = std::mem::take(&mut self.consoles);
                for old in consoles {
                    let client = self.session.borrow_mut().connect(real);
                    let mut c = ConsoleState { client, ..old };
                    self.describe(&mut c);
                    self.consoles.push(c);
                }
                self.selected = None;
                self.db = 0;
                self.refresh(real);
            }
            Action::Restored { real } => {
                self.selected = None;
                self.last_keys = Rc::new(Vec::new());
                self.describe_all();
                self.refresh(real);
            }
            Action::ToggleLessons => self.lessons_open = !self.lessons_open,
            Action::OpenLesson(slug) => {
                self.lessons_open = true;
                let slug = slug.map(|s| tutorial::slug_of(s.trim()));
                if slug != self.lesson {
                    self.progress = Progress::default();
                }
                self.lesson = slug;
            }
            Action::RunStep { id, step, real } => {
                let console = step.client.max(1) - 1;
                while self.consoles.len() <= console {
                    self.add_console(real);
                }
                if step.wait > 0 {
                    self = self.reduce(Action::Advance { ms: u64::from(step.wait) * 1000, real });
                }
                for line in &step.lines {
                    self = self.reduce(Action::Run { console, line: line.command.clone(), real });
                }
                if !self.progress.ran.contains(&id) {
                    self.progress.ran.push(id);
                }
            }
            Action::Check { check, real } => {
                let rows = self.session.borrow_mut().check(&check, real);
                let outputs: Vec<String> = rows.iter().map(|r| r.got.clone()).collect();
                let passed = tutorial::check_passed(&check, &outputs);
                self.progress.check = Some((passed, rows));
                // The check's client came and went: pushes and expiries it caused show up as after any command.
                self = self.reduce(Action::Tick { real });
            }
            Action::ShowHint => self.progress.hints += 1,
            Action::ShowSolution => self.progress.solution_shown = true,
            Action::DismissNotice => {}
            Action::LessonRequested(file) => Rc::make_mut(&mut self.library).requested(file),
            Action::LessonFetched { file, text } => Rc::make_mut(&mut self.library).arrived(file, text),
            Action::RetryLesson(file) => Rc::make_mut(&mut self.library).retry(file),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;

    fn state() -> State {
        State::new(Session::new(7), Lang::En, Vec::new(), T0)
    }

    fn run(s: State, console: usize, line: &str) -> State {
        s.reduce(Action::Run { console, line: line.into(), real: T0 })
    }

    fn last_reply(s: &State, console: usize) -> String {
        match s.consoles[console].lines.last() {
            Some(Out::Reply(r) | Out::Error(r) | Out::Push(r) | Out::Note(r)) => r.clone(),
            other => format!("{other:?}"),
        }
    }

    fn key_names(s: &State) -> Vec<String> {
        s.keys.iter().map(|k| String::from_utf8_lossy(&k.key).into_owned()).collect()
    }

    #[test]
    fn running_a_line_prints_it_lists_the_key_and_selects_it() {
        let s = run(state(), 0, "RPUSH queue a b c");
        assert_eq!(s.consoles[0].lines[0], Out::Input { prompt: "127.0.0.1:6379> ".into(), line: "RPUSH queue a b c".into() });
        assert_eq!(last_reply(&s, 0), "(integer) 3");
        assert_eq!(key_names(&s), ["queue"]);
        assert_eq!(s.selected.as_deref(), Some(&b"queue"[..]));
        assert_eq!(s.history.as_slice(), ["RPUSH queue a b c"]);
        let v = s.version;
        let s = run(s, 0, "GET nothing");
        assert!(s.version > v);
    }

    #[test]
    fn two_consoles_blpop_and_lpush() {
        let s = state().reduce(Action::AddConsole { real: T0 });
        assert_eq!(s.consoles.len(), 2);
        assert_eq!(s.consoles[1].number, 2);
        let s = run(s, 0, "BLPOP jobs 0");
        assert!(s.consoles[0].blocked);
        let s = run(s, 1, "LPUSH jobs resize-image");
        assert!(!s.consoles[0].blocked);
        assert_eq!(last_reply(&s, 0), "1) \"jobs\"\n2) \"resize-image\"");
        assert_eq!(last_reply(&s, 1), "(integer) 1");
    }

    #[test]
    fn interrupt_stops_a_blocked_console() {
        let s = run(state(), 0, "BLPOP jobs 0");
        let before = s.consoles[0].client;
        let s = s.reduce(Action::Interrupt { console: 0, real: T0 });
        assert!(!s.consoles[0].blocked);
        assert_ne!(s.consoles[0].client, before);
        assert_eq!(last_reply(&s, 0), "^C");
    }

    #[test]
    fn the_list_follows_filters_databases_and_expiry() {
        let mut s = state();
        for line in ["SET user:1 a", "SET user:2 b EX 10", "HSET profile:1 name x", "SADD tags a"] {
            s = run(s, 0, line);
        }
        assert_eq!(key_names(&s), ["profile:1", "tags", "user:1", "user:2"]);
        let s = s.reduce(Action::SetPattern("user".into()));
        assert_eq!(key_names(&s), ["user:1", "user:2"]);
        let s = s.reduce(Action::SetPattern("*:1".into()));
        assert_eq!(key_names(&s), ["profile:1", "user:1"]);
        let s = s.reduce(Action::SetPattern(String::new())).reduce(Action::SetKind(Some("hash")));
        assert_eq!(key_names(&s), ["profile:1"]);
        let s = s.reduce(Action::SetKind(None));
        assert_eq!(s.total, 4);
        // Fast-forward past user:2's expiry: the list drops it without any command.
        let s = s.reduce(Action::Advance { ms: 10_001, real: T0 });
        assert_eq!(key_names(&s), ["profile:1", "tags", "user:1"]);
        let s = run(s, 0, "SELECT 1");
        assert_eq!((s.db, s.keys.len()), (1, 0));
        assert_eq!(s.consoles[0].prompt, "127.0.0.1:6379[1]> ");
    }

    #[test]
    fn clear_empties_the_console_and_history_skips_repeats() {
        let s = run(run(run(state(), 0, "PING"), 0, "PING"), 0, "clear");
        assert!(s.consoles[0].lines.is_empty());
        assert_eq!(s.history.as_slice(), ["PING", "clear"]);
    }

    #[test]
    fn reset_starts_over_with_the_same_consoles() {
        let s = run(state().reduce(Action::AddConsole { real: T0 }), 0, "SET a 1");
        let s = s.reduce(Action::Reset { real: T0 });
        assert_eq!(s.consoles.len(), 2);
        assert!(s.keys.is_empty());
        let s = run(s, 1, "GET a");
        assert_eq!(last_reply(&s, 1), "(nil)");
    }

    #[test]
    fn a_restored_snapshot_replaces_the_list_and_a_reset_counts_as_a_change() {
        let s = run(run(state(), 0, "SET old 1"), 0, "RPUSH queue a");
        let snap = s.session.borrow().snapshot();
        let s = run(s, 0, "SET newer 2");
        let restored = s.session.borrow_mut().restore(&snap, T0);
        assert!(restored.is_ok());
        let s = s.reduce(Action::Restored { real: T0 });
        assert_eq!(key_names(&s), ["old", "queue"]);
        assert_eq!(s.selected, None);
        let s = run(s, 0, "GET newer");
        assert_eq!(last_reply(&s, 0), "(nil)");
        let changes = s.session.borrow().changes;
        let s = s.reduce(Action::Reset { real: T0 });
        assert_eq!(s.session.borrow().changes, changes + 1);
        assert!(s.keys.is_empty());
    }

    #[test]
    fn a_removed_key_stays_selected_so_the_view_can_say_so() {
        let s = run(run(state(), 0, "SET k v"), 0, "DEL k");
        assert_eq!(s.selected.as_deref(), Some(&b"k"[..]));
        let s = run(s, 0, "SET other v");
        assert_eq!(s.selected.as_deref(), Some(&b"other"[..]));
    }

    /// What a console printed since line `from`, split at each input: (command, its replies) in order.
    fn printed_since(s: &State, console: usize, from: usize) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for o in s.consoles[console].lines.iter().skip(from) {
            match o {
                Out::Input { line, .. } => out.push((line.clone(), String::new())),
                Out::Reply(r) | Out::Error(r) | Out::Push(r) => {
                    if let Some((_, text)) = out.last_mut() {
                        text.push_str(r);
                        text.push('\n');
                    }
                }
                Out::Note(_) => {}
            }
        }
        out
    }

    #[test]
    fn the_list_kept_by_events_is_the_list_read_anew() {
        let lines = [
            "MSET a 1 b 2 c 3 user:1 x user:2 y",
            "MSET m01 1 m02 1 m03 1 m04 1 m05 1 m06 1 m07 1 m08 1 m09 1 m10 1 m11 1 m12 1 m13 1 m14 1 m15 1 m16 1 m17 1 a 0 user:0 z",
            "DEL m01 m02 m03 m04 m05 m06 m07 m08 m09 m10 m11 m12 m13 m14 m15 m16 m17 nothing",
            "RPUSH list x y",
            "EXPIRE a 5",
            "SET b 22 EX 100",
            "RENAME c c2",
            "MOVE user:1 1",
            "DEL nothing list",
            "HSET user:3 f v",
            "MULTI",
            "SET t 1",
            "FLUSHDB",
            "SET u 1",
            "EXEC",
            "MSET k1 1 k2 2",
            "SWAPDB 0 1",
            "SETEX v 3 x",
            "GETDEL k1",
        ];
        for (pattern, kind) in [("", None), ("user", None), ("", Some("string"))] {
            let mut s = state().reduce(Action::SetPattern(pattern.into())).reduce(Action::SetKind(kind));
            let mut real = T0;
            for line in lines {
                s = s.reduce(Action::Run { console: 0, line: line.into(), real });
                real += 2000;
                s = s.reduce(Action::Tick { real });
                let mut fresh = s.clone();
                fresh.refresh(real);
                assert_eq!(key_names(&s), key_names(&fresh), "after {line} with {pattern:?} {kind:?}");
                assert_eq!(s.total, fresh.total, "after {line}");
            }
        }
    }

    #[test]
    fn every_lesson_plays_in_the_playground_as_written_and_its_exercise_checks() {
        use crate::app::lessons::{self, Play, SOLUTION};
        use crate::tutorial::Block;
        for lang in Lang::ALL {
            for entry in lessons::course(lang) {
                let (lesson, _) = lessons::find(lang, &entry.slug).expect("listed lesson");
                let mut s = state().reduce(Action::OpenLesson(Some(entry.slug.clone())));
                for play in lessons::playlist(&lesson) {
                    match play {
                        Play::Step { id, step } => {
                            let from = s.consoles.get(step.client - 1).map_or(0, |c| c.lines.len());
                            s = s.reduce(Action::RunStep { id, step: step.clone(), real: T0 });
                            assert!(s.progress.has_run(id));
                            let printed = printed_since(&s, step.client - 1, from);
                            assert_eq!(printed.len(), step.lines.len());
                            for (line, (typed, got)) in step.lines.iter().zip(&printed).filter(|(l, _)| !l.output.is_empty()) {
                                assert_eq!(typed, &line.command);
                                assert!(
                                    tutorial::output_matches(&line.output, &got, step.excerpt, step.approx),
                                    "{lang:?} {}: `{}` printed\n{got}--- not\n{}",
                                    entry.slug,
                                    line.command,
                                    line.output
                                );
                            }
                        }
                        Play::Wait { secs } => s = s.reduce(Action::Advance { ms: u64::from(secs) * 1000, real: T0 }),
                    }
                }
                let exercise = lesson.blocks.iter().find_map(|b| if let Block::Exercise(e) = b { Some(e.clone()) } else { None });
                let exercise = exercise.expect("every lesson has an exercise");
                let s = s.reduce(Action::Check { check: exercise.check.clone(), real: T0 });
                let (passed, rows) = s.progress.check.clone().expect("checked");
                assert!(!passed, "{lang:?} {}: the check passes before the task is done", entry.slug);
                assert_eq!(rows.len(), exercise.check.lines.len());
                assert!(rows.iter().any(|r| !r.ok));
                let s = s.reduce(Action::RunStep { id: SOLUTION, step: exercise.solution.clone(), real: T0 });
                let s = s.reduce(Action::Check { check: exercise.check.clone(), real: T0 });
                assert!(matches!(s.progress.check, Some((true, _))), "{lang:?} {}: {:?}", entry.slug, s.progress.check);
                // The check's own client is gone again.
                assert_eq!(s.session.borrow().engine.clients.len(), s.consoles.len());
            }
        }
    }

    /// The page's side of a lesson opened in the browser: asked for, failed, retried, arrived; the progress
    /// and the consoles are not touched by any of it.
    #[test]
    fn a_lesson_text_is_fetched_failed_retried_and_kept() {
        use crate::app::lessons::{self, Fetch};
        let (file, fallback) = lessons::source(Lang::Ar, "leaderboards").expect("ar leaderboards");
        assert!(!fallback);
        let s = run(state().reduce(Action::OpenLesson(Some("leaderboards".into()))), 0, "SET k v");
        let s = s.reduce(Action::ShowHint).reduce(Action::LessonRequested(file));
        assert_eq!(s.library.get(file), Some(&Fetch::Loading));
        let s = s.reduce(Action::LessonFetched { file, text: Err("HTTP 503".into()) });
        assert_eq!(s.library.get(file), Some(&Fetch::Failed("HTTP 503".into())));
        let before = s.clone();
        let s = s.reduce(Action::RetryLesson(file));
        assert_eq!(s.library.get(file), None);
        assert!(s != before, "a retry redraws the pane");
        let text = file.text.expect("compiled in natively").to_string();
        let s = s.reduce(Action::LessonRequested(file)).reduce(Action::LessonFetched { file, text: Ok(text) });
        let Some(Fetch::Ready(lesson)) = s.library.get(file) else { panic!("{:?}", s.library.get(file)) };
        assert_eq!(lesson.title, file.title);
        assert_eq!((s.lesson.as_deref(), s.progress.hints, s.keys.len()), (Some("leaderboards"), 1, 1));
    }

    #[test]
    fn opening_another_lesson_forgets_the_progress_and_a_step_opens_its_console() {
        let (queues, _) = crate::app::lessons::find(Lang::En, "05-queues").expect("queues");
        let second = queues.blocks.iter().enumerate().find_map(|(id, b)| match b {
            crate::tutorial::Block::Step(st) if st.client == 2 => Some((id, st.clone())),
            _ => None,
        });
        let (id, step) = second.expect("a step for client 2");
        let s = state().reduce(Action::OpenLesson(Some("05-queues".into())));
        assert_eq!(s.lesson.as_deref(), Some("queues"));
        let s = s.reduce(Action::RunStep { id, step, real: T0 });
        assert_eq!(s.consoles.len(), 2);
        let s = s.reduce(Action::ShowHint).reduce(Action::OpenLesson(Some("queues".into())));
        assert_eq!((s.progress.ran.len(), s.progress.hints), (1, 1));
        let s = s.reduce(Action::OpenLesson(Some("caching".into())));
        assert_eq!(s.progress, crate::app::lessons::Progress::default());
    }
}
