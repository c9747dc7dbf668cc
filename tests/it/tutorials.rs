//! The tutorials are tests. Every lesson of every language under `tutorials/` runs, block by block, through a
//! fresh engine with a fixed clock: what each console prints (`format_console` of every reply and push) must
//! be the output the lesson shows, and each prompt the one redis-cli would show. The same commands go to a real
//! redis-server on one connection per console, and every reply must be the same RESP bytes as the engine's
//! (an `excerpt` block's reply, INFO, is compared through its shown lines instead). Each exercise's check must
//! fail after the lesson's steps and pass after its reference solution, on both sides.
//!
//! Languages must agree: the same files, and in each the same runnable blocks (commands, outputs, consoles,
//! waits, exercise checks and solutions) as the English source. Since those are equal, redis-server runs each
//! distinct lesson once; the engine runs every file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use redlet_core::format::format_console;
use redlet_core::resp::parse_reply;
use redlet_core::table::{lookup, Flag};
use redlet_core::{ClientId, Config, Engine, Reply};
use redlet_web::tutorial::{self, Block, Exercise, Lesson, Output, Step, StepLine};

use crate::diff::{escape, wait_info, RESET};
use crate::redis::{required, Conn, RedisServer};

/// 2024-06-01 12:00:00 UTC. The engine's clock stands still except for `wait=S`, so TTLs print exactly.
const CLOCK_START: u64 = 1_717_243_200_000;

fn tutorials_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tutorials")
}

/// What a lesson shows for a console's last command, compared once the console moves on.
struct Shown {
    line: usize,
    command: String,
    text: String,
    excerpt: bool,
    approx: u64,
}

/// One console: an engine client and, with a server, a connection to it; redis-cli's prompt state.
struct Console {
    id: ClientId,
    redis: Option<Conn>,
    db: i64,
    in_multi: bool,
    pre_multi_db: i64,
    /// What the console printed since its last command was typed.
    printed: String,
    shown: Option<Shown>,
}

/// One lesson's run.
struct Run<'a> {
    file: String,
    engine: Engine,
    now: u64,
    consoles: BTreeMap<usize, Console>,
    server: Option<&'a RedisServer>,
    /// A connection of the harness's own, to wait until Redis has blocked a client.
    control: Option<Conn>,
    failures: &'a mut Vec<String>,
    commands: usize,
}

/// The console number of an exercise's check, apart from the lesson's consoles.
const CHECKER: usize = usize::MAX;

impl<'a> Run<'a> {
    fn new(file: String, server: Option<&'a RedisServer>, failures: &'a mut Vec<String>) -> Run<'a> {
        let control = server.map(|s| {
            let mut c = s.connect().expect("connect to redis-server");
            for cmd in RESET {
                let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
                c.call(&argv).expect("reset redis-server");
            }
            c
        });
        Run { file, engine: Engine::new(Config::default()), now: CLOCK_START, consoles: BTreeMap::new(), server, control, failures, commands: 0 }
    }

    fn fail(&mut self, line: usize, message: String) {
        self.failures.push(format!("tutorials/{}:{line}: {message}", self.file));
    }

    fn console(&mut self, n: usize) -> &mut Console {
        let (engine, now, server) = (&mut self.engine, self.now, self.server);
        self.consoles.entry(n).or_insert_with(|| Console {
            id: engine.connect(now),
            redis: server.map(|s| s.connect().expect("connect to redis-server")),
            db: 0,
            in_multi: false,
            pre_multi_db: 0,
            printed: String::new(),
            shown: None,
        })
    }

    /// `wait=S`: the engine's clock moves on (and `tick` answers what timed out); Redis's really passes.
    fn wait(&mut self, secs: u32, line: usize) {
        if secs == 0 {
            return;
        }
        self.now += u64::from(secs) * 1000;
        if self.server.is_some() {
            std::thread::sleep(Duration::from_secs(u64::from(secs)));
        }
        self.engine.tick(self.now);
        self.deliver(line);
    }

    /// Hands the engine's pushes to the consoles they are for, each compared with the next reply Redis sent that
    /// console's connection.
    fn deliver(&mut self, line: usize) {
        let pushes = self.engine.drain_pushes();
        self.deliver_pushes(pushes, line);
    }

    fn deliver_pushes(&mut self, pushes: Vec<(ClientId, Reply)>, line: usize) {
        for (id, push) in pushes {
            let resp = self.engine.resp_of(id);
            let Some((&n, console)) = self.consoles.iter_mut().find(|(_, c)| c.id == id) else { continue };
            console.printed.push_str(&format_console::<&[u8]>(&[], &push, resp));
            let ours = push.to_resp(resp);
            let theirs = console.redis.as_mut().map(|c| c.read_reply_within(Duration::from_secs(2)));
            match theirs {
                Some(Ok(Some(theirs))) if theirs == ours => {}
                Some(theirs) => {
                    let theirs = match theirs {
                        Ok(Some(bytes)) => escape(&bytes),
                        Ok(None) => "nothing".into(),
                        Err(e) => format!("{e}"),
                    };
                    self.fail(line, format!("console {n} was sent\n    redis:  {theirs}\n    redlet: {}", escape(&ours)));
                }
                None => {}
            }
        }
    }

    /// Compares what a console printed for its last command with what the lesson shows, then forgets both.
    fn settle(&mut self, n: usize) {
        let Some(console) = self.consoles.get_mut(&n) else { return };
        let printed = std::mem::take(&mut console.printed);
        let Some(shown) = console.shown.take() else { return };
        if !tutorial::output_matches(&shown.text, &printed, shown.excerpt, shown.approx) {
            let what = if shown.excerpt { "the lines the excerpt shows" } else { "what the lesson shows" };
            self.fail(shown.line, format!("`{}` printed\n{printed}--- which is not {what}:\n{}---", shown.command, shown.text));
        }
    }

    fn step(&mut self, step: &Step) {
        self.wait(step.wait, step.line);
        for line in &step.lines {
            self.command(step.client, line, step);
        }
    }

    fn command(&mut self, n: usize, line: &StepLine, step: &Step) {
        self.run_command(n, line, step);
        // What goes on the wire after the reply (a client's own tracking invalidations) comes next.
        let after = self.engine.drain_pushes_after_reply();
        self.deliver_pushes(after, line.line);
    }

    fn run_command(&mut self, n: usize, line: &StepLine, step: &Step) {
        let (excerpt, approx) = (step.excerpt, step.approx);
        self.settle(n);
        self.commands += 1;
        let id = self.console(n).id;
        let console = self.consoles.get(&n).map(|c| (c.db, c.in_multi));
        if let Some((db, in_multi)) = console {
            let want = tutorial::prompt(db, in_multi);
            if line.prompt != want && n != CHECKER {
                self.fail(line.line, format!("the prompt is `{}`; redis-cli shows `{want}` here", line.prompt));
            }
        }
        if self.engine.blocking.is_blocked(id) {
            self.fail(line.line, format!("console {n} is still waiting for its last command; it cannot run `{}`", line.command));
            return;
        }
        let argv = line.argv();
        let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        if let Some(conn) = self.consoles.get_mut(&n).and_then(|c| c.redis.as_mut()) {
            conn.send(&args).expect("send to redis-server");
        }
        let reply = self.engine.execute(id, &args, self.now);
        // The console's own pushes (SUBSCRIBE's first confirmations) come before its reply.
        self.deliver(line.line);
        let resp = self.engine.resp_of(id);
        let blocked = self.engine.blocking.is_blocked(id);
        let file = self.file.clone();
        let Some(console) = self.consoles.get_mut(&n) else { return };
        console.shown = Some(Shown { line: line.line, command: line.command.clone(), text: line.output.clone(), excerpt, approx });
        let Some(reply) = reply else {
            if blocked {
                // Redis must have blocked the client too before another console's command may overtake it.
                let waiting = self.engine.blocking.len();
                if let Some(control) = self.control.as_mut() {
                    wait_info(control, &format!("blocked_clients:{waiting}"));
                }
            }
            return;
        };
        let printed = format_console(&argv, &reply, resp);
        console.printed.push_str(&printed);
        prompt_state(console, &argv, &reply);
        let ours = reply.to_resp(resp);
        let Some(conn) = console.redis.as_mut() else { return };
        let theirs = conn.read_reply().unwrap_or_else(|e| format!("<{e}>").into_bytes());
        let text = || match parse_reply(&theirs) {
            Ok(Some((r, _))) => format_console(&argv, &r, resp),
            _ => String::new(),
        };
        let same = if excerpt {
            // INFO: only the lines shown are comparable (uptime, memory and the like differ).
            tutorial::output_matches(&line.output, &text(), true, approx)
        } else if approx > 0 {
            // Real time passes for Redis between commands: a TTL may be a second less.
            tutorial::output_matches(&printed, &text(), false, approx)
        } else {
            theirs == ours
        };
        if !same {
            self.failures.push(format!(
                "tutorials/{file}:{}: `{}`\n    redis:  {}\n    redlet: {}",
                line.line,
                line.command,
                escape(&theirs),
                escape(&ours)
            ));
        }
    }

    fn output(&mut self, out: &Output) {
        self.wait(out.wait, out.line);
        let Some(console) = self.consoles.get_mut(&out.client) else { return };
        if let Some(shown) = console.shown.as_mut() {
            shown.text.push_str(&out.text);
            // What a `continued` block shows must have arrived by now.
            if !tutorial::output_matches(&shown.text, &console.printed, shown.excerpt, shown.approx) {
                let (line, command, text) = (out.line, shown.command.clone(), shown.text.clone());
                // Reported once: the comparison at the console's next command is dropped.
                let printed = std::mem::take(&mut console.printed);
                console.shown = None;
                self.fail(line, format!("by now console {} has printed for `{command}`\n{printed}--- not\n{text}---", out.client));
            }
        }
    }

    /// Runs an exercise's check on a console of its own and returns whether it passed (differences from Redis are
    /// failures either way).
    fn check(&mut self, check: &Step) -> bool {
        let mut outputs = Vec::new();
        for line in &check.lines {
            self.command(CHECKER, line, check);
            let printed = self.consoles.get_mut(&CHECKER).map(|c| {
                c.shown = None;
                std::mem::take(&mut c.printed)
            });
            outputs.push(printed.unwrap_or_default());
        }
        if let Some(c) = self.consoles.remove(&CHECKER) {
            self.engine.disconnect(c.id);
        }
        tutorial::check_passed(check, &outputs)
    }

    fn exercise(&mut self, ex: &Exercise) {
        for line in &ex.check.lines {
            let name = line.argv().first().map(|a| String::from_utf8_lossy(a).to_lowercase()).unwrap_or_default();
            let spec = lookup(&name);
            let sub = spec.filter(|s| !s.subcommands.is_empty()).and_then(|s| {
                let sub = line.argv().get(1).map(|a| String::from_utf8_lossy(a).to_lowercase())?;
                s.subcommand(&sub)
            });
            if spec.or(sub).is_none() || sub.or(spec).is_some_and(|s| s.has(Flag::Write)) {
                self.fail(line.line, format!("a check reads and never writes: `{}` is not a read-only command", line.command));
            }
        }
        for c in self.consoles.keys().copied().collect::<Vec<_>>() {
            self.settle(c);
        }
        if self.check(&ex.check) {
            self.fail(ex.check.line, "the check passes before the task is done".into());
        }
        self.step(&ex.solution);
        self.settle(ex.solution.client);
        if !self.check(&ex.check) {
            self.fail(ex.check.line, "the check does not pass after the reference solution".into());
        }
    }

    fn lesson(&mut self, lesson: &Lesson) {
        let mut exercises = Vec::new();
        for block in &lesson.blocks {
            match block {
                Block::Step(step) => self.step(step),
                Block::Output(out) => self.output(out),
                Block::Exercise(ex) => exercises.push(ex),
                _ => {}
            }
        }
        for c in self.consoles.keys().copied().collect::<Vec<_>>() {
            self.settle(c);
        }
        // Exercises are checked against the state the whole lesson leaves.
        for ex in exercises {
            self.exercise(ex);
        }
        // Nothing more may be waiting on a Redis connection than the engine sent.
        for (n, console) in &mut self.consoles {
            if let Some(conn) = console.redis.as_mut() {
                if let Ok(Some(extra)) = conn.read_reply_within(Duration::from_millis(50)) {
                    self.failures.push(format!("tutorials/{}: redis sent console {n} more: {}", self.file, escape(&extra)));
                }
            }
        }
        // The next lesson starts with Redis's clients gone, as its engine starts with none.
        let open = self.consoles.len();
        self.consoles.clear();
        if let (true, Some(control)) = (open > 0, self.control.as_mut()) {
            wait_info(control, "connected_clients:1");
        }
    }
}

/// redis-cli's prompt bookkeeping (`cliSendCommand`): SELECT changes the database, MULTI enters `(TX)`, EXEC and
/// DISCARD leave it (a failed or aborted EXEC, and DISCARD, go back to the database MULTI started in).
fn prompt_state(c: &mut Console, argv: &[Vec<u8>], reply: &Reply) {
    let is = |name: &str| argv.first().is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()));
    let error = matches!(reply, Reply::Error(_));
    if is("select") && argv.len() == 2 && !error {
        c.db = argv.get(1).and_then(|a| std::str::from_utf8(a).ok()?.parse().ok()).unwrap_or(0);
    } else if is("multi") && argv.len() == 1 && !error {
        c.in_multi = true;
        c.pre_multi_db = c.db;
    } else if is("exec") && argv.len() == 1 && c.in_multi {
        c.in_multi = false;
        if error || matches!(reply, Reply::Nil | Reply::NilArray) {
            c.db = c.pre_multi_db;
        }
    } else if is("discard") && argv.len() == 1 && !error {
        c.in_multi = false;
        c.db = c.pre_multi_db;
    }
}

/// What must be the same in every language: the runnable blocks, in order, each rendered as its fence (options
/// normalized) and transcript.
fn skeleton(lesson: &Lesson) -> Vec<String> {
    skeleton_with_lines(lesson).into_iter().map(|(_, s)| s).collect()
}

/// The skeleton with the source line of each block, for messages.
fn skeleton_with_lines(lesson: &Lesson) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for block in &lesson.blocks {
        match block {
            Block::Step(s) => out.push((s.line, runnable("", s))),
            Block::Output(o) => out.push((o.line, format!("```redis client={} wait={} continued\n{}```", o.client, o.wait, o.text))),
            Block::Exercise(e) => {
                out.push((e.solution.line, runnable(" solution", &e.solution)));
                out.push((e.check.line, runnable(" check", &e.check)));
            }
            _ => {}
        }
    }
    out
}

fn runnable(role: &str, s: &Step) -> String {
    let mut text = format!("```redis{role} client={} wait={} approx={}{}\n", s.client, s.wait, s.approx, if s.excerpt { " excerpt" } else { "" });
    for l in &s.lines {
        text.push_str(&format!("{}{}\n{}", l.prompt, l.command, l.output));
    }
    text.push_str("```");
    text
}

fn parse_all(failures: &mut Vec<String>) -> Vec<(String, Lesson)> {
    let mut out = Vec::new();
    for (lang, file, src) in tutorial::all() {
        match tutorial::parse(&tutorial::slug_of(file), src) {
            Ok(lesson) => out.push((format!("{lang}/{file}"), lesson)),
            Err(e) => failures.push(format!("tutorials/{lang}/{file}: {e}")),
        }
    }
    out
}

#[test]
fn tutorials_run_in_the_engine_and_match_redis() {
    let server = RedisServer::start();
    if server.is_none() && required() {
        panic!("REDLET_REQUIRE_REDIS=1 but redis-server could not be started");
    }
    let mut failures = Vec::new();
    let lessons = parse_all(&mut failures);
    let mut against_redis = BTreeSet::new();
    let (mut commands, mut redis_runs) = (0, 0);
    for (file, lesson) in &lessons {
        // The engine runs every file; Redis each distinct lesson once (the languages share their steps).
        let fresh = against_redis.insert(skeleton(lesson));
        let server = server.as_ref().filter(|_| fresh);
        redis_runs += usize::from(server.is_some());
        let mut run = Run::new(file.clone(), server, &mut failures);
        run.lesson(lesson);
        commands += run.commands;
    }
    let against = if server.is_some() { format!("{redis_runs} distinct also against a live redis-server") } else { "no redis-server".into() };
    println!("tutorials: {} lessons ({against}), {commands} commands, {} failures", lessons.len(), failures.len());
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(!lessons.is_empty(), "no lessons found");
    assert!(failures.is_empty(), "{} failures (listed above)", failures.len());
}

#[test]
fn every_tutorial_file_is_embedded() {
    let mut on_disk = Vec::new();
    for lang in std::fs::read_dir(tutorials_dir()).expect("tutorials/").flatten().filter(|e| e.path().is_dir()) {
        for file in std::fs::read_dir(lang.path()).expect("a language directory").flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") {
                let text = std::fs::read_to_string(file.path()).expect("read lesson");
                on_disk.push((lang.file_name().to_string_lossy().into_owned(), name, text));
            }
        }
    }
    on_disk.sort();
    let embedded: Vec<(String, String, String)> =
        tutorial::all().into_iter().map(|(l, f, s)| (l.to_string(), f.to_string(), s.to_string())).collect();
    let names = |v: &[(String, String, String)]| v.iter().map(|(l, f, _)| format!("{l}/{f}")).collect::<Vec<_>>();
    assert_eq!(names(&embedded), names(&on_disk), "tutorial::all() and tutorials/ list different files");
    assert!(embedded == on_disk, "an embedded lesson is out of date with its file (rebuild)");
}

#[test]
fn every_language_has_the_same_lessons_and_steps() {
    let mut failures = Vec::new();
    let lessons = parse_all(&mut failures);
    let mut by_lang: BTreeMap<&str, Vec<(&str, &Lesson)>> = BTreeMap::new();
    for (path, lesson) in &lessons {
        let (lang, file) = path.split_once('/').unwrap_or(("", path));
        by_lang.entry(lang).or_default().push((file, lesson));
    }
    // Every language of the interface has the whole course.
    for lang in tutorial::LANGUAGES {
        if !by_lang.contains_key(lang) {
            failures.push(format!("tutorials/{lang}/: missing (every lesson is written in {:?})", tutorial::LANGUAGES));
        }
    }
    for lang in by_lang.keys() {
        if !tutorial::LANGUAGES.contains(lang) {
            failures.push(format!("tutorials/{lang}/: not one of the languages {:?}", tutorial::LANGUAGES));
        }
    }
    let english = by_lang.get("en").cloned().unwrap_or_default();
    let english_files: Vec<&str> = english.iter().map(|(f, _)| *f).collect();
    assert_eq!(english_files.len(), 6, "the English course has six lessons: {english_files:?}");
    for (lang, list) in &by_lang {
        let files: Vec<&str> = list.iter().map(|(f, _)| *f).collect();
        if files != english_files {
            failures.push(format!("tutorials/{lang}/ has {files:?}; tutorials/en/ has {english_files:?}"));
            continue;
        }
        for ((file, lesson), (_, source)) in list.iter().zip(&english) {
            let (ours, theirs) = (skeleton_with_lines(lesson), skeleton_with_lines(source));
            let differ = |i: usize| ours.get(i).map(|(_, s)| s) != theirs.get(i).map(|(_, s)| s);
            if let Some(i) = (0..ours.len().max(theirs.len())).find(|&i| differ(i)) {
                let show = |side: Option<&(usize, String)>, path: String| match side {
                    Some((line, text)) => format!("{path}:{line}:\n{text}"),
                    None => format!("{path}: (no such block)"),
                };
                failures.push(format!(
                    "tutorials/{lang}/{file}: runnable block {} differs from the English one\n{}\n{}",
                    i + 1,
                    show(ours.get(i), format!("tutorials/{lang}/{file}")),
                    show(theirs.get(i), format!("tutorials/en/{file}"))
                ));
            }
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} failures (listed above)", failures.len());
}
