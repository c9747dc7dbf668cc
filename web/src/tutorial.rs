//! Lessons: the Markdown files under `tutorials/<lang>/`, listed at build time ([`index`]: titles and step
//! counts) and parsed into blocks the playground draws and the tests run. The texts are compiled in, except in
//! the wasm playground, which fetches each when it is opened ([`LessonFile::text`], [`LessonFile::url`]).
//!
//! Plain Rust with no JavaScript types, so the tests use it natively. `tutorials/README.md` is the format's
//! reference for authors and translators; in short:
//!
//! - The first line is the title, `# Title`. Then a small Markdown subset: `##`..`######` headings,
//!   paragraphs, `-`/`*`/`1.` lists (one paragraph per item), fenced code; inline `code`, **bold**, *italic*,
//!   `[links](url)` ([`inline`] splits them).
//! - A fenced block tagged `redis` is a runnable step ([`Step`]), written as a redis-cli transcript: lines
//!   starting with the prompt `127.0.0.1:6379> ` (or `127.0.0.1:6379[2]> ` after SELECT 2,
//!   `127.0.0.1:6379(TX)> ` inside MULTI) are commands, the lines after each are what redis-cli prints for it.
//!   Words after `redis` set options: `client=N` (which console runs it, 1 by default), `wait=S` (S seconds
//!   pass before it runs), `excerpt` (the output shown is a selection of the lines printed: INFO), `approx=N`
//!   (an `(integer)` reply may be off by up to N: a TTL read while time passes), and `continued` (no
//!   commands: what the console prints later for its last command, e.g. a blocked BRPOP once a job arrives,
//!   or a pub/sub message; an [`Output`]).
//! - `:::exercise` … `:::` holds a task (prose), optional `:::hint` … `:::` blocks, one ` ```redis solution `
//!   and one ` ```redis check ` block ([`Exercise`]). The check is read-only commands with the output they
//!   give once the task is done.
//! - Other fences (`python`, `go`, `text`, none) are shown as code, never run.
//!
//! Every command must show output: in its own block or in a later `continued` block of the same console
//! (before that console's next command). [`parse`] rejects a lesson where one does not.

use redlet_core::tokenize::split_args;

include!(concat!(env!("OUT_DIR"), "/tutorials.rs"));

/// The languages lessons are written in, English (the source) first.
pub const LANGUAGES: &[&str] = &["en", "bn", "ar", "ru"];

/// A lesson file as `web/build.rs` found it: what the course list shows, and where to read the lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LessonFile {
    pub lang: &'static str,
    /// `02-caching.md`
    pub file: &'static str,
    /// The `# Title` line's text (may hold inline markup).
    pub title: &'static str,
    /// Runnable steps, not counting the exercise's solution and check.
    pub steps: usize,
    /// A hash of the text, in the URL the page fetches it by ([`LessonFile::url`]).
    pub version: &'static str,
    /// The Markdown source, compiled in everywhere but the wasm playground (cfg `fetch_texts`), which fetches
    /// it from the built site when the lesson opens: the lessons are most of the page's text, and most visits
    /// never open one.
    pub text: Option<&'static str>,
}

impl LessonFile {
    pub fn slug(&self) -> String {
        slug_of(self.file)
    }

    /// Where the built site has the file, relative to the page (trunk copies `tutorials/` into `dist/`):
    /// `tutorials/ru/02-caching.md?v=…`. A relative URL works from any host and sub-path and inside the embed's
    /// iframe; the version makes a changed lesson a new URL, so no cache serves the old text.
    pub fn url(&self) -> String {
        format!("tutorials/{}/{}?v={}", self.lang, self.file, self.version)
    }
}

/// Every lesson file, sorted by language and file name, without reading any text.
pub fn index() -> &'static [LessonFile] {
    INDEX
}

/// The file of a lesson by language and slug (`first-steps`).
pub fn file(lang: &str, slug: &str) -> Option<&'static LessonFile> {
    INDEX.iter().find(|f| f.lang == lang && slug_of(f.file) == slug)
}

/// The slugs of one language's lessons in course order.
pub fn slugs(lang: &str) -> Vec<String> {
    INDEX.iter().filter(|f| f.lang == lang).map(LessonFile::slug).collect()
}

/// Every lesson file as `(language, file name, Markdown source)`, sorted by language and file name.
#[cfg(not(fetch_texts))]
pub fn all() -> Vec<(&'static str, &'static str, &'static str)> {
    INDEX.iter().filter_map(|f| Some((f.lang, f.file, f.text?))).collect()
}

/// The lessons of one language in course order: `(slug, parsed lesson)`.
#[cfg(not(fetch_texts))]
pub fn lessons(lang: &str) -> Vec<(String, Result<Lesson, ParseError>)> {
    all().into_iter().filter(|(l, _, _)| *l == lang).map(|(_, file, src)| (slug_of(file), parse(&slug_of(file), src))).collect()
}

/// One lesson by language and slug (`first-steps`), `None` when there is no such file.
#[cfg(not(fetch_texts))]
pub fn load(lang: &str, slug: &str) -> Option<Result<Lesson, ParseError>> {
    file(lang, slug).and_then(|f| f.text).map(|src| parse(slug, src))
}

/// A lesson's slug from its file name: `01-first-steps.md` → `first-steps` (the number only orders the course).
pub fn slug_of(file: &str) -> String {
    let stem = file.strip_suffix(".md").unwrap_or(file);
    match stem.split_once('-') {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => rest.to_string(),
        _ => stem.to_string(),
    }
}

/// A parsed lesson.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lesson {
    pub slug: String,
    /// The `# Title` line's text (may hold inline markup).
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// `##` is level 2, down to `######` (the title, level 1, is [`Lesson::title`]).
    Heading { level: u8, text: String },
    /// A paragraph's lines joined by spaces; inline markup is left in the text ([`inline`]).
    Paragraph(String),
    /// Each item one paragraph of text.
    List { ordered: bool, items: Vec<String> },
    /// A fenced block that is not run: `lang` is the info string's first word (`python`, `go`, or empty).
    Code { lang: String, text: String },
    /// A runnable ` ```redis ` block.
    Step(Step),
    /// A ` ```redis continued ` block: more output of a console's last command.
    Output(Output),
    Exercise(Exercise),
}

/// Commands one console runs, in order, with the output each prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The console (simulated client) that runs the lines, from 1.
    pub client: usize,
    /// Seconds that pass before the lines run (the playground moves its clock forward).
    pub wait: u32,
    /// The output shown is a selection: each shown line appears in the real output, in this order ([`output_matches`]).
    pub excerpt: bool,
    /// An `(integer)` reply may differ from the one shown by up to this much (a TTL, read while time passes).
    pub approx: u64,
    pub lines: Vec<StepLine>,
    /// 1-based line of the opening fence in the source.
    pub line: usize,
}

/// One command of a step and the output redis-cli prints for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepLine {
    /// As written: `127.0.0.1:6379> `, `127.0.0.1:6379[1]> `, `127.0.0.1:6379(TX)> `.
    pub prompt: String,
    /// The command as typed (redis-cli quoting).
    pub command: String,
    /// The lines printed, each ending in `\n` (as `format_console` returns them); empty when the output comes in
    /// a later `continued` block.
    pub output: String,
    /// 1-based source line of the command.
    pub line: usize,
}

impl StepLine {
    /// The command's arguments, split as redis-cli splits a typed line (the parser has checked it splits).
    pub fn argv(&self) -> Vec<Vec<u8>> {
        split_args(self.command.as_bytes()).unwrap_or_default()
    }
}

/// What a console prints later for its last command (a blocked command served, a message published to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub client: usize,
    /// Seconds that pass before it is printed (a blocking command's timeout).
    pub wait: u32,
    /// The lines, each ending in `\n`.
    pub text: String,
    pub line: usize,
}

/// A task the playground checks against the engine's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exercise {
    /// The task, in prose (headings, paragraphs, lists, code).
    pub task: Vec<Block>,
    /// Hints, hidden until asked for, each a few blocks of prose.
    pub hints: Vec<Vec<Block>>,
    /// A reference solution (hidden): run after the lesson's steps, it makes the check pass.
    pub solution: Step,
    /// Read-only commands run on a console of their own; the exercise is done when each prints its output.
    pub check: Step,
}

/// Whether `actual` (what a command printed) is what a step shows: the same lines, or with `excerpt` the shown
/// lines in order among the printed ones (a shown `...` line stands for lines left out). With `approx`, a line
/// ending in `(integer) N` matches one that differs only in N, by up to `approx`. Line ends do not matter:
/// trailing blanks and the `\r` of INFO's lines are ignored.
pub fn output_matches(expected: &str, actual: &str, excerpt: bool, approx: u64) -> bool {
    let same = |w: &str, g: &str| w == g || near(w, g, approx);
    let want = expected.lines().map(str::trim_end);
    let mut got = actual.lines().map(str::trim_end);
    if !excerpt {
        let got: Vec<&str> = got.collect();
        let want: Vec<&str> = want.collect();
        return want.len() == got.len() && want.iter().zip(&got).all(|(w, g)| same(w, g));
    }
    want.filter(|l| *l != "...").all(|w| got.any(|g| same(w, g)))
}

/// `… (integer) 1800` and `… (integer) 1795` with the same text before the number, within `approx`.
fn near(want: &str, got: &str, approx: u64) -> bool {
    match (integer_at_end(want), integer_at_end(got)) {
        (Some((wp, w)), Some((gp, g))) => approx > 0 && wp == gp && w.abs_diff(g) <= approx,
        _ => false,
    }
}

/// `prefix (integer) N` → (prefix, N).
fn integer_at_end(line: &str) -> Option<(&str, i64)> {
    const INT: &str = "(integer) ";
    let i = line.rfind(INT)?;
    Some((&line[..i], line[i + INT.len()..].parse().ok()?))
}

/// Whether an exercise's check passed, given what each check command printed, in order.
pub fn check_passed(check: &Step, actual: &[String]) -> bool {
    check.lines.len() == actual.len()
        && check.lines.iter().zip(actual).all(|(line, got)| output_matches(&line.output, got, check.excerpt, check.approx))
}

/// The prompt redis-cli shows for a database and transaction state.
pub fn prompt(db: i64, in_multi: bool) -> String {
    let mut p = String::from("127.0.0.1:6379");
    if db != 0 {
        p.push_str(&format!("[{db}]"));
    }
    if in_multi {
        p.push_str("(TX)");
    }
    p.push_str("> ");
    p
}

/// A problem in a lesson's source, with its 1-based line.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError { line, message: message.into() })
}

/// A piece of inline text.
#[derive(Clone, Debug, PartialEq)]
pub enum Inline {
    Text(String),
    /// `` `code` ``: shown as it is, left to right in any language.
    Code(String),
    /// `**bold**`
    Strong(Vec<Inline>),
    /// `*italic*`
    Emph(Vec<Inline>),
    /// `[text](url)`
    Link { text: Vec<Inline>, url: String },
}

/// Splits text into inline pieces: `` `code` ``, `**bold**`, `*italic*`, `[link](url)`. A marker without its
/// closing partner is plain text; nothing inside code is interpreted.
pub fn inline(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let piece = match c {
            '`' => rest[1..].find('`').map(|end| (Inline::Code(rest[1..1 + end].to_string()), end + 2)),
            '*' if rest.starts_with("**") => {
                closing(&rest[2..], "**").map(|end| (Inline::Strong(inline(&rest[2..2 + end])), end + 4))
            }
            '*' => closing(&rest[1..], "*").map(|end| (Inline::Emph(inline(&rest[1..1 + end])), end + 2)),
            '[' => link(rest),
            _ => None,
        };
        match piece {
            Some((item, used)) => {
                if !plain.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut plain)));
                }
                out.push(item);
                rest = &rest[used..];
            }
            None => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
    out
}

/// `[text](url)` at the start of `s`, and the bytes it spans.
fn link(s: &str) -> Option<(Inline, usize)> {
    let close = s.find(']')?;
    if !s[close + 1..].starts_with('(') {
        return None;
    }
    let text = &s[1..close];
    let url_len = s[close + 2..].find(')')?;
    let url = &s[close + 2..close + 2 + url_len];
    if text.is_empty() || url.is_empty() || url.contains(char::is_whitespace) {
        return None;
    }
    Some((Inline::Link { text: inline(text), url: url.to_string() }, close + 2 + url_len + 1))
}

/// Where `marker` closes in `s` (non-empty content, code spans skipped; a single `*` is not half of a `**`).
fn closing(s: &str, marker: &str) -> Option<usize> {
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if let Some(code) = rest.strip_prefix('`') {
            i += 1 + code.find('`')? + 1;
            continue;
        }
        if let Some(bold) = rest.strip_prefix("**").filter(|_| marker == "*") {
            // Skip a whole bold span inside italics.
            i += 2 + closing(bold, "**")? + 2;
            continue;
        }
        if rest.starts_with(marker) && i > 0 {
            return Some(i);
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// Parses a lesson's Markdown.
pub fn parse(slug: &str, src: &str) -> Result<Lesson, ParseError> {
    let lines: Vec<&str> = src.lines().collect();
    let mut p = Parser { lines: &lines, at: 0 };
    p.skip_blank();
    let title = match p.peek().and_then(|l| l.strip_prefix("# ")) {
        Some(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => return err(p.at + 1, "a lesson starts with its title: `# Title`"),
    };
    p.at += 1;
    let blocks = p.blocks(Container::Lesson)?;
    let lesson = Lesson { slug: slug.to_string(), title, blocks };
    check_outputs(&lesson)?;
    Ok(lesson)
}

#[derive(Clone, Copy, PartialEq)]
enum Container {
    Lesson,
    Exercise,
    Hint,
}

struct Parser<'a> {
    lines: &'a [&'a str],
    at: usize,
}

/// What a fence's info string says.
struct Fence {
    lang: String,
    client: usize,
    wait: u32,
    excerpt: bool,
    approx: u64,
    continued: bool,
    role: Option<&'static str>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.lines.get(self.at).copied()
    }

    fn skip_blank(&mut self) {
        while self.peek().is_some_and(|l| l.trim().is_empty()) {
            self.at += 1;
        }
    }

    /// Blocks up to the end of the container (`:::` closes an exercise or hint; the file ends a lesson).
    fn blocks(&mut self, container: Container) -> Result<Vec<Block>, ParseError> {
        let opened = self.at;
        let mut blocks = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.peek() else {
                return match container {
                    Container::Lesson => Ok(blocks),
                    _ => err(opened, "`:::` block is not closed"),
                };
            };
            let line_no = self.at + 1;
            let trimmed = line.trim_end();
            if let Some(word) = trimmed.strip_prefix(":::") {
                self.at += 1;
                match (word.trim(), container) {
                    ("", Container::Lesson) => return err(line_no, "`:::` closes nothing"),
                    ("", _) => return Ok(blocks),
                    ("exercise", Container::Lesson) => blocks.push(self.exercise(line_no)?),
                    ("exercise", _) => return err(line_no, "an exercise cannot be inside another block"),
                    ("hint", _) => return err(line_no, "`:::hint` belongs inside `:::exercise`"),
                    (other, _) => return err(line_no, format!("unknown block `:::{other}`")),
                }
                continue;
            }
            if trimmed.starts_with("```") {
                blocks.push(self.fence(container)?);
                continue;
            }
            if let Some((level, text)) = heading(trimmed) {
                if level == 1 {
                    return err(line_no, "only the first line is a `# title`; use `##` for sections");
                }
                blocks.push(Block::Heading { level, text: text.to_string() });
                self.at += 1;
                continue;
            }
            if list_item(trimmed).is_some() {
                blocks.push(self.list());
                continue;
            }
            blocks.push(self.paragraph());
        }
    }

    fn paragraph(&mut self) -> Block {
        let mut text = String::new();
        while let Some(line) = self.peek() {
            let t = line.trim();
            if t.is_empty() || interrupts(line.trim_end()) {
                break;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(t);
            self.at += 1;
        }
        Block::Paragraph(text)
    }

    /// Items start with `- `, `* ` or `N. `; indented lines continue an item; a blank line between items of the
    /// same kind keeps the list going.
    fn list(&mut self) -> Block {
        let ordered = self.peek().and_then(|l| list_item(l.trim_end())).is_some_and(|(o, _)| o);
        let mut items: Vec<String> = Vec::new();
        while let Some(line) = self.peek() {
            let t = line.trim_end();
            if let Some((o, text)) = list_item(t) {
                if o != ordered {
                    break;
                }
                items.push(text.trim().to_string());
                self.at += 1;
            } else if !t.trim().is_empty() && line.starts_with("  ") && !items.is_empty() {
                if let Some(last) = items.last_mut() {
                    last.push(' ');
                    last.push_str(t.trim());
                }
                self.at += 1;
            } else if t.trim().is_empty() {
                // A blank line: the list goes on only if the next non-blank line is an item of the same kind.
                let mut next = self.at;
                while self.lines.get(next).is_some_and(|l| l.trim().is_empty()) {
                    next += 1;
                }
                match self.lines.get(next).and_then(|l| list_item(l.trim_end())) {
                    Some((o, _)) if o == ordered => self.at = next,
                    _ => break,
                }
            } else {
                break;
            }
        }
        Block::List { ordered, items }
    }

    fn exercise(&mut self, opened: usize) -> Result<Block, ParseError> {
        let mut task = Vec::new();
        let mut hints = Vec::new();
        let mut solution = None;
        let mut check = None;
        loop {
            self.skip_blank();
            let Some(line) = self.peek() else { return err(opened, "`:::exercise` is not closed") };
            let line_no = self.at + 1;
            let t = line.trim_end();
            if t == ":::" {
                self.at += 1;
                break;
            }
            if t.strip_prefix(":::").is_some_and(|w| w.trim() == "hint") {
                self.at += 1;
                hints.push(self.blocks(Container::Hint)?);
                continue;
            }
            if t.starts_with("```") {
                let fence = self.info(t, line_no)?;
                match fence.role {
                    Some("solution") if solution.is_none() => solution = Some(self.step(&fence, line_no)?),
                    Some("check") if check.is_none() => check = Some(self.step(&fence, line_no)?),
                    Some(role) => return err(line_no, format!("an exercise has one `{role}` block")),
                    None => {
                        let block = self.fence(Container::Exercise)?;
                        task.push(block);
                    }
                }
                continue;
            }
            // Anything else is the task's prose.
            if let Some((level, text)) = heading(t) {
                if level == 1 {
                    return err(line_no, "only the first line is a `# title`; use `##` for sections");
                }
                task.push(Block::Heading { level, text: text.to_string() });
                self.at += 1;
            } else if t.starts_with(":::") {
                return err(line_no, format!("unexpected `{t}` inside an exercise"));
            } else if list_item(t).is_some() {
                task.push(self.list());
            } else {
                task.push(self.paragraph());
            }
        }
        let Some(solution) = solution else { return err(opened, "an exercise needs a ```redis solution block") };
        let Some(check) = check else { return err(opened, "an exercise needs a ```redis check block") };
        for step in [&solution, &check] {
            if let Some(l) = step.lines.iter().find(|l| l.output.is_empty()) {
                return err(l.line, format!("`{}` shows no output", l.command));
            }
        }
        Ok(Block::Exercise(Exercise { task, hints, solution, check }))
    }

    /// A fenced block at the cursor: a step, a continued output, or code to show.
    fn fence(&mut self, container: Container) -> Result<Block, ParseError> {
        let line_no = self.at + 1;
        let open = self.peek().unwrap_or_default().trim_end();
        let fence = self.info(open, line_no)?;
        if fence.lang != "redis" {
            let text = self.body(line_no)?.join("\n");
            return Ok(Block::Code { lang: fence.lang, text });
        }
        if let Some(role) = fence.role {
            return err(line_no, format!("a `{role}` block belongs inside `:::exercise`"));
        }
        if container == Container::Hint {
            return err(line_no, "a hint is prose and code, not a runnable step; use ```text");
        }
        if container == Container::Exercise {
            return err(line_no, "inside an exercise, ```redis blocks are `solution` or `check`");
        }
        if fence.continued {
            let body = self.body(line_no)?;
            if let Some(i) = body.iter().position(|l| split_prompt(l).is_some()) {
                return err(line_no + 1 + i, "a `continued` block has output only, no commands");
            }
            if body.iter().all(|l| l.trim().is_empty()) {
                return err(line_no, "a `continued` block shows the output that arrives; it is empty");
            }
            let text = body.iter().map(|l| format!("{l}\n")).collect();
            return Ok(Block::Output(Output { client: fence.client, wait: fence.wait, text, line: line_no }));
        }
        Ok(Block::Step(self.step(&fence, line_no)?))
    }

    /// A redis block's transcript: prompt lines and the output after each.
    fn step(&mut self, fence: &Fence, line_no: usize) -> Result<Step, ParseError> {
        if fence.continued {
            return err(line_no, "`continued` cannot be a solution or a check");
        }
        let body = self.body(line_no)?;
        let mut lines: Vec<StepLine> = Vec::new();
        for (i, text) in body.iter().enumerate() {
            let at = line_no + 1 + i;
            match split_prompt(text) {
                Some((prompt, command)) => {
                    if command.trim().is_empty() {
                        return err(at, "a prompt without a command");
                    }
                    if split_args(command.as_bytes()).is_err() {
                        return err(at, "redis-cli cannot split this line: Invalid argument(s)");
                    }
                    lines.push(StepLine { prompt: prompt.to_string(), command: command.to_string(), output: String::new(), line: at });
                }
                None => match lines.last_mut() {
                    Some(last) => {
                        last.output.push_str(text);
                        last.output.push('\n');
                    }
                    None => {
                        return err(at, "a ```redis block starts with a command line: `127.0.0.1:6379> COMMAND`")
                    }
                },
            }
        }
        if lines.is_empty() {
            return err(line_no, "an empty ```redis block");
        }
        // Blank lines at the end of an output belong to the layout, not to what redis-cli printed.
        for l in &mut lines {
            while l.output.ends_with("\n\n") || l.output == "\n" {
                l.output.pop();
            }
        }
        Ok(Step { client: fence.client, wait: fence.wait, excerpt: fence.excerpt, approx: fence.approx, lines, line: line_no })
    }

    /// The lines of a fence whose opening line is at the cursor, up to its closing fence.
    fn body(&mut self, line_no: usize) -> Result<Vec<&'a str>, ParseError> {
        let open = self.peek().unwrap_or_default().trim_start();
        let ticks = open.len() - open.trim_start_matches('`').len();
        self.at += 1;
        let mut body = Vec::new();
        while let Some(line) = self.peek() {
            self.at += 1;
            let t = line.trim();
            if t.len() >= ticks && t.bytes().all(|b| b == b'`') {
                return Ok(body);
            }
            body.push(line);
        }
        err(line_no, "the fenced block is not closed")
    }

    fn info(&self, open: &str, line_no: usize) -> Result<Fence, ParseError> {
        let info = open.trim_start_matches('`').trim();
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or_default().to_string();
        let mut fence = Fence { lang, client: 1, wait: 0, excerpt: false, approx: 0, continued: false, role: None };
        if fence.lang != "redis" {
            return Ok(fence);
        }
        for word in words {
            match word.split_once('=') {
                Some(("client", n)) => match n.parse::<usize>() {
                    Ok(n) if n >= 1 => fence.client = n,
                    _ => return err(line_no, format!("`{word}`: client=N counts from 1")),
                },
                Some(("wait", s)) => match s.parse::<u32>() {
                    Ok(s) => fence.wait = s,
                    _ => return err(line_no, format!("`{word}`: wait=S takes whole seconds")),
                },
                Some(("approx", n)) => match n.parse::<u64>() {
                    Ok(n) => fence.approx = n,
                    _ => return err(line_no, format!("`{word}`: approx=N takes a whole number")),
                },
                None if word == "excerpt" => fence.excerpt = true,
                None if word == "continued" => fence.continued = true,
                None if word == "solution" => fence.role = Some("solution"),
                None if word == "check" => fence.role = Some("check"),
                _ => return err(line_no, format!("unknown option `{word}` after ```redis")),
            }
        }
        Ok(fence)
    }
}

/// `127.0.0.1:6379[N](TX)> command` → (prompt, command).
fn split_prompt(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("127.0.0.1:6379")?;
    let mut tail = rest;
    if let Some(r) = tail.strip_prefix('[') {
        let end = r.find(']')?;
        if end == 0 || !r[..end].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        tail = &r[end + 1..];
    }
    tail = tail.strip_prefix("(TX)").unwrap_or(tail);
    let command = tail.strip_prefix("> ")?;
    let prompt_len = line.len() - command.len();
    Some((&line[..prompt_len], command))
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let hashes = line.len() - line.trim_start_matches('#').len();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let text = line[hashes..].strip_prefix(' ')?.trim();
    Some((hashes as u8, text))
}

/// `- item`, `* item` → (false, text); `3. item` → (true, text).
fn list_item(line: &str) -> Option<(bool, &str)> {
    if let Some(text) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return Some((false, text));
    }
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 3 {
        return None;
    }
    line[digits..].strip_prefix(". ").map(|text| (true, text))
}

/// Whether a line starts a block of its own, ending the paragraph before it.
fn interrupts(line: &str) -> bool {
    line.starts_with("```") || line.starts_with(":::") || heading(line).is_some() || list_item(line).is_some()
}

/// Every command shows output: in its block, or in a `continued` block of its console before that console runs
/// anything else; a `continued` block follows a command of its console.
fn check_outputs(lesson: &Lesson) -> Result<(), ParseError> {
    // Per console: the last command (its line and text) and whether it has shown output yet.
    let mut last: std::collections::BTreeMap<usize, (usize, String, bool)> = Default::default();
    for block in &lesson.blocks {
        match block {
            Block::Step(step) => {
                for l in &step.lines {
                    if let Some((line, command, false)) = last.get(&step.client) {
                        return err(*line, format!("`{command}` shows no output"));
                    }
                    last.insert(step.client, (l.line, l.command.clone(), !l.output.is_empty()));
                }
            }
            Block::Output(out) => match last.get_mut(&out.client) {
                Some(entry) => entry.2 = true,
                None => return err(out.line, format!("a `continued` block, but console {} has run no command", out.client)),
            },
            _ => {}
        }
    }
    match last.values().find(|(_, _, shown)| !shown) {
        Some((line, command, _)) => err(*line, format!("`{command}` shows no output")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LESSON: &str = "# Hello\n\nSome *words* and `code`.\nMore words.\n\n## Section\n\n- one\n- two\n  continued\n\n1. first\n\n```redis\n127.0.0.1:6379> SET k \"v\"\nOK\n127.0.0.1:6379> GET k\n\"v\"\n```\n\n```redis client=2\n127.0.0.1:6379> BRPOP q 0\n```\n\n```redis\n127.0.0.1:6379> LPUSH q a\n(integer) 1\n```\n\n```redis client=2 continued\n1) \"q\"\n2) \"a\"\n```\n\n```python\nr.get(\"k\")\n```\n\n:::exercise\nDo it.\n\n:::hint\nLike this.\n:::\n\n```redis solution\n127.0.0.1:6379> SET x 1\nOK\n```\n\n```redis check\n127.0.0.1:6379> GET x\n\"1\"\n```\n:::\n";

    #[test]
    fn parses_every_kind_of_block() {
        let lesson = parse("hello", LESSON).unwrap();
        assert_eq!(lesson.title, "Hello");
        let b = &lesson.blocks;
        assert_eq!(b[0], Block::Paragraph("Some *words* and `code`. More words.".into()));
        assert_eq!(b[1], Block::Heading { level: 2, text: "Section".into() });
        assert_eq!(b[2], Block::List { ordered: false, items: vec!["one".into(), "two continued".into()] });
        assert_eq!(b[3], Block::List { ordered: true, items: vec!["first".into()] });
        let Block::Step(step) = &b[4] else { panic!("{:?}", b[4]) };
        assert_eq!(step.client, 1);
        assert_eq!(step.lines[0].command, "SET k \"v\"");
        assert_eq!(step.lines[0].output, "OK\n");
        assert_eq!(step.lines[1].output, "\"v\"\n");
        assert_eq!(step.lines[1].argv(), vec![b"GET".to_vec(), b"k".to_vec()]);
        let Block::Step(blocked) = &b[5] else { panic!() };
        assert_eq!((blocked.client, blocked.lines[0].output.as_str()), (2, ""));
        assert_eq!(b[7], Block::Output(Output { client: 2, wait: 0, text: "1) \"q\"\n2) \"a\"\n".into(), line: 30 }));
        assert_eq!(b[8], Block::Code { lang: "python".into(), text: "r.get(\"k\")".into() });
        let Block::Exercise(ex) = &b[9] else { panic!() };
        assert_eq!(ex.task, vec![Block::Paragraph("Do it.".into())]);
        assert_eq!(ex.hints, vec![vec![Block::Paragraph("Like this.".into())]]);
        assert_eq!(ex.solution.lines[0].command, "SET x 1");
        assert!(check_passed(&ex.check, &["\"1\"\n".into()]));
        assert!(!check_passed(&ex.check, &["(nil)\n".into()]));
    }

    #[test]
    fn a_command_without_output_is_an_error() {
        let e = parse("x", "# T\n\n```redis\n127.0.0.1:6379> GET k\n```\n").unwrap_err();
        assert_eq!(e, ParseError { line: 4, message: "`GET k` shows no output".into() });
        // Output that comes later must come before the console's next command.
        let src = "# T\n\n```redis client=2\n127.0.0.1:6379> BLPOP q 0\n127.0.0.1:6379> GET k\n(nil)\n```\n";
        assert_eq!(parse("x", src).unwrap_err().line, 4);
        let src = "# T\n\n:::exercise\nx\n```redis solution\n127.0.0.1:6379> SET k 1\n```\n```redis check\n127.0.0.1:6379> GET k\n\"1\"\n```\n:::\n";
        assert_eq!(parse("x", src).unwrap_err().line, 6);
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let cases = [
            ("no title\n", 1),
            ("# T\n```redis clients=2\n127.0.0.1:6379> PING\nPONG\n```\n", 2),
            ("# T\n```redis\nPONG\n```\n", 3),
            ("# T\n```redis\n127.0.0.1:6379> SET \"a b\n```\n", 3),
            ("# T\n```redis\n127.0.0.1:6379> PING\nPONG\n", 2),
            ("# T\n:::exercise\ntext\n", 2),
            ("# T\n:::\n", 2),
            ("# T\n```redis continued\nPONG\n```\n", 2),
            ("# T\n:::exercise\ntext\n```redis check\n127.0.0.1:6379> GET k\n(nil)\n```\n:::\n", 2),
            ("# T\n\n# Again\n", 3),
        ];
        for (src, line) in cases {
            let e = parse("x", src).expect_err(src);
            assert_eq!(e.line, line, "{src:?}: {e}");
        }
    }

    #[test]
    fn prompts_are_recognized_with_database_and_transaction() {
        assert_eq!(split_prompt("127.0.0.1:6379> GET a"), Some(("127.0.0.1:6379> ", "GET a")));
        assert_eq!(split_prompt("127.0.0.1:6379[2](TX)> GET a"), Some(("127.0.0.1:6379[2](TX)> ", "GET a")));
        assert_eq!(split_prompt("127.0.0.1:6379>GET a"), None);
        assert_eq!(split_prompt("1) \"127.0.0.1:6379> \""), None);
        assert_eq!(prompt(2, true), "127.0.0.1:6379[2](TX)> ");
        assert_eq!(prompt(0, false), "127.0.0.1:6379> ");
    }

    #[test]
    fn inline_markup() {
        use Inline::*;
        assert_eq!(
            inline("a `x*y*` **b `c`** *i* and * alone"),
            vec![
                Text("a ".into()),
                Code("x*y*".into()),
                Text(" ".into()),
                Strong(vec![Text("b ".into()), Code("c".into())]),
                Text(" ".into()),
                Emph(vec![Text("i".into())]),
                Text(" and * alone".into()),
            ]
        );
        assert_eq!(
            inline("see [redis-py](https://pypi.org/project/redis/) [not a link] (x) [a] [b](u)"),
            vec![
                Text("see ".into()),
                Link { text: vec![Text("redis-py".into())], url: "https://pypi.org/project/redis/".into() },
                Text(" [not a link] (x) [a] ".into()),
                Link { text: vec![Text("b".into())], url: "u".into() },
            ]
        );
        assert_eq!(inline("ключ `user:1` — ключ"), vec![Text("ключ ".into()), Code("user:1".into()), Text(" — ключ".into())]);
    }

    #[test]
    fn excerpts_match_selected_lines() {
        let info = "# Stats\r\ntotal:1\r\nkeyspace_hits:3\r\nkeyspace_misses:1\r\n";
        assert!(output_matches("# Stats\n...\nkeyspace_hits:3\nkeyspace_misses:1\n", info, true, 0));
        assert!(!output_matches("keyspace_misses:1\nkeyspace_hits:3\n", info, true, 0));
        assert!(!output_matches("keyspace_hits:4\n", info, true, 0));
        assert!(!output_matches("keyspace_hits:3\n", info, false, 0));
        assert!(output_matches("OK\n", "OK  \n", false, 0));
    }

    #[test]
    fn approx_loosens_integer_replies_only() {
        assert!(output_matches("(integer) 1800\n", "(integer) 1795\n", false, 10));
        assert!(!output_matches("(integer) 1800\n", "(integer) 1795\n", false, 0));
        assert!(!output_matches("(integer) 1800\n", "(integer) -2\n", false, 10));
        assert!(output_matches("2) (integer) 60\n", "2) (integer) 59\n", false, 1));
        assert!(!output_matches("2) (integer) 60\n", "3) (integer) 60\n", false, 1));
        assert!(!output_matches("\"60\"\n", "\"59\"\n", false, 5));
    }

    /// Damaged lessons (the embedded ones and the sample, with characters the syntax cares about inserted and
    /// text cut out at random) give errors, never a panic.
    #[test]
    fn damaged_sources_never_panic() {
        let alphabet: Vec<char> = "`*[]()#:-=\n 1.>\"'éর€ل".chars().collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        let mut sources: Vec<String> = all().iter().map(|(_, _, s)| s.to_string()).collect();
        sources.push(LESSON.to_string());
        for src in &sources {
            for _ in 0..40 {
                let mut chars: Vec<char> = src.chars().collect();
                for _ in 0..1 + next(8) {
                    let at = next(chars.len() + 1);
                    if next(2) == 0 {
                        chars.insert(at, alphabet[next(alphabet.len())]);
                    } else {
                        let end = (at + next(40)).min(chars.len());
                        chars.drain(at..end);
                    }
                }
                let text: String = chars.into_iter().collect();
                if let Ok(lesson) = parse("x", &text) {
                    for block in &lesson.blocks {
                        if let Block::Paragraph(p) = block {
                            let _ = inline(p);
                        }
                    }
                }
                let _ = inline(&text);
            }
        }
    }

    #[test]
    fn the_embedded_course_loads_by_language_and_slug() {
        let english = lessons("en");
        assert_eq!(english.len(), 6);
        assert!(english.iter().all(|(_, lesson)| lesson.is_ok()));
        let first = load("en", "first-steps").and_then(Result::ok).map(|l| l.title);
        assert_eq!(first.as_deref(), Some("First steps"));
        assert!(load("en", "no-such-lesson").is_none());
    }

    /// The index build.rs writes (what the course list shows without a lesson's text) is what parsing says.
    #[test]
    fn the_index_agrees_with_the_parsed_lessons() {
        assert_eq!(index().len(), 6 * LANGUAGES.len());
        for f in index() {
            let lesson = parse(&f.slug(), f.text.expect("compiled in")).expect("parses");
            let steps = lesson.blocks.iter().filter(|b| matches!(b, Block::Step(_))).count();
            assert_eq!((f.title, f.steps), (lesson.title.as_str(), steps), "{}/{}", f.lang, f.file);
            assert_eq!(file(f.lang, &f.slug()), Some(f));
        }
        let caching = file("ru", "caching").expect("ru caching");
        assert_eq!(caching.url(), format!("tutorials/ru/02-caching.md?v={}", caching.version));
        assert_eq!(caching.version.len(), 16);
        assert_ne!(caching.version, file("en", "caching").map_or("", |f| f.version));
    }

    #[test]
    fn slugs_drop_the_course_number() {
        assert_eq!(slug_of("01-first-steps.md"), "first-steps");
        assert_eq!(slug_of("notes.md"), "notes");
    }
}
