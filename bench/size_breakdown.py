#!/usr/bin/env python3
"""Where the engine package's bytes go: code per module, the data segment's contents, and what each group of
commands costs gzipped (bench/ANALYSIS.md, "Engine package size").

    python3 bench/size_breakdown.py modules [--top N]  code bytes per module and the data segment's contents
                                                       (--top: also the N biggest functions and pieces of each)
    python3 bench/size_breakdown.py modules --variant minimal
                                                       the same for a reduced build (what is left of it)
    python3 bench/size_breakdown.py drops [NAME...]    gzip -9 of the package without each group (all by default)
    python3 bench/size_breakdown.py list               the removal experiments

Needs what `./dev` installs to build the engine package (cargo with the wasm32 target, wasm-bindgen 0.2.130,
wasm-opt in node_modules/.bin or on PATH) and `rustfilt` (`cargo install rustfilt`) to demangle names. Builds go
to target/size-breakdown/ (about 30 s each once the dependencies are built); nothing outside target/ is written.

The package is built as `wasm-pack build web --profile wasm --target web` builds it (cargo build of the cdylib,
wasm-bindgen --target web, wasm-opt with the flags of web/Cargo.toml's
`[package.metadata.wasm-pack.profile.custom]`); `drops` checks that its baseline is byte-identical to
web/pkg/web when that exists.

`modules` builds it again with `-C symbol-mangling-version=v0` (generic arguments in the names) and runs
wasm-opt with `-g` added, so that the name section survives; it sums function body sizes per module.

`drops` builds copies of the sources (target/size-breakdown/src) with a group's handlers removed from the
`HANDLERS` tables of core/src/cmd/*.rs, so that the linker drops their code, and the group's hooks on the
command path replaced by no-ops; the drop in gzip -9 (wasm + JS glue, as `./dev`'s pkg_size) is the group's
share. The edits are text replacements that must each match exactly once: when the sources change under
them the script stops and says which one failed.
"""

import argparse
import collections
import fnmatch
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

import tomllib
from pathlib import Path

from run import leb  # wasm's LEB128 integers, as bench/run.py reads them (run.py sits beside this file)

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "size-breakdown"
WASM_NAME = "redlet_web"


# ---------------------------------------------------------------------------------------------------------------
# Building the package


def tool(name):
    local = ROOT / "node_modules" / ".bin" / name
    if local.exists():
        return str(local)
    found = shutil.which(name) or shutil.which(name, path=str(Path.home() / ".cargo" / "bin"))
    if not found:
        sys.exit(f"{name} not found (see the header of {Path(__file__).name})")
    return found


def wasm_opt_flags(src):
    meta = tomllib.loads((src / "web" / "Cargo.toml").read_text())
    return meta["package"]["metadata"]["wasm-pack"]["profile"]["custom"]["wasm-opt"]


def run(cmd, **kw):
    env = dict(os.environ, **kw.pop("env", {}))
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-8000:])
        sys.exit(f"failed: {' '.join(map(str, cmd))}")
    return r


def gz(path):
    """gzip -9 size, as `./dev`'s pkg_size measures it (the gzip tool, not Python's, so the bytes agree)."""
    return len(subprocess.run(["gzip", "-9c", str(path)], capture_output=True, check=True).stdout)


def build_package(src, target_dir, out_dir, names=False):
    """The web package from the sources in `src`: returns (wasm path, js path, linker map or None)."""
    env = {"CARGO_TARGET_DIR": str(target_dir)}
    flags = list(wasm_opt_flags(src))
    map_path = None
    if names:
        map_path = out_dir / "link.map"
        env["RUSTFLAGS"] = f"-C symbol-mangling-version=v0 -C link-arg=--Map={map_path}"
        flags.append("-g")
    out_dir.mkdir(parents=True, exist_ok=True)
    run(["cargo", "build", "-p", "redlet-web", "--lib", "--target", "wasm32-unknown-unknown", "--profile", "wasm"],
        cwd=src, env=env)
    linked = target_dir / "wasm32-unknown-unknown" / "wasm" / f"{WASM_NAME}.wasm"
    bg = out_dir / "bindgen"
    if bg.exists():
        shutil.rmtree(bg)
    run([tool("wasm-bindgen"), str(linked), "--out-dir", str(bg), "--target", "web", "--typescript"]
        + (["--keep-debug"] if names else []))
    wasm = out_dir / f"{WASM_NAME}_bg.wasm"
    run([tool("wasm-opt"), str(bg / f"{WASM_NAME}_bg.wasm"), "-o", str(wasm)] + flags)
    js = out_dir / f"{WASM_NAME}.js"
    shutil.copyfile(bg / f"{WASM_NAME}.js", js)
    return wasm, js, map_path


def sizes(wasm, js):
    return {"wasm": wasm.stat().st_size, "wasm_gz": gz(wasm), "js_gz": gz(js)}


# ---------------------------------------------------------------------------------------------------------------
# Reading a wasm file: function bodies with their names, and the data segments


def parse_wasm(path):
    """(functions as [(name, body bytes)], data segments as [(address, bytes)], section sizes by id)."""
    b = path.read_bytes()
    i = 8
    imported = 0
    bodies, names, data = [], {}, []
    sections = collections.Counter()
    while i < len(b):
        sid = b[i]
        n, i = leb(b, i + 1)
        end = i + n
        sections[sid] += n
        if sid == 2:  # imports: functions imported take the first indexes
            count, j = leb(b, i)
            for _ in range(count):
                for _ in range(2):
                    ln, j = leb(b, j)
                    j += ln
                kind = b[j]
                j += 1
                if kind == 0:
                    _, j = leb(b, j)
                    imported += 1
                elif kind in (1, 2):  # a table or a memory: limits
                    if kind == 1:
                        j += 1
                    fl, j = leb(b, j)
                    _, j = leb(b, j)
                    if fl & 1:
                        _, j = leb(b, j)
                elif kind == 3:
                    j += 2
                else:
                    raise ValueError(f"import kind {kind}")
        elif sid == 10:
            count, j = leb(b, i)
            for _ in range(count):
                size, k = leb(b, j)
                bodies.append(size + (k - j))
                j = k + size
        elif sid == 11:
            count, j = leb(b, i)
            for _ in range(count):
                flag, j = leb(b, j)
                addr = None
                if flag == 0:
                    assert b[j] == 0x41, "data offset is not an i32.const"
                    addr, j = leb(b, j + 1)
                    assert b[j] == 0x0B
                    j += 1
                ln, j = leb(b, j)
                data.append((addr, b[j:j + ln]))
                j += ln
        elif sid == 0:
            ln, j = leb(b, i)
            if b[j:j + ln] == b"name":
                j += ln
                while j < end:
                    sub = b[j]
                    sl, j = leb(b, j + 1)
                    if sub == 1:
                        count, k = leb(b, j)
                        for _ in range(count):
                            idx, k = leb(b, k)
                            ln, k = leb(b, k)
                            names[idx] = b[k:k + ln].decode("utf8", "replace")
                            k += ln
                    j += sl
        i = end
    funcs = [(names.get(imported + k, f"<function {imported + k}>"), size) for k, size in enumerate(bodies)]
    return funcs, data, sections


def demangle(names):
    out = subprocess.run([tool("rustfilt")], input="\n".join(names), capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    return [re.sub(r"\[[0-9a-f]{1,16}\]", "", d) for d in lines[: len(names)]]


# ---------------------------------------------------------------------------------------------------------------
# Attributing functions to modules

# A path inside our crates, ending at an identifier (a function, a type, or a function whose closure this is).
OUR_PATH = re.compile(r"redlet_(core|web)::((?:[A-Za-z_]\w*::)*)([A-Za-z_]\w*)")

# Modules of ours that are generic machinery: their instantiations belong to the module that instantiates them.
GENERIC_HELPERS = {"core::vecmap", "core::dict", "core::util"}


def split_self(name):
    """For `<T as Trait>::f` or `<T>::f`, T; for a plain path, the path."""
    while name.startswith("<"):
        depth = 0
        for i, c in enumerate(name):
            if c == "<":
                depth += 1
            elif c == ">":
                depth -= 1
                if depth == 0:
                    inner = name[1:i]
                    break
        else:
            return name
        depth = 0
        for j, c in enumerate(inner):
            if c == "<":
                depth += 1
            elif c == ">":
                depth -= 1
            elif depth == 0 and inner.startswith(" as ", j):
                inner = inner[:j]
                break
        name = inner.lstrip("&*").replace("mut ", "").replace("const ", "").lstrip("[")
    return name


def our_module(crate, segments, last):
    """`core::cmd::zset` for redlet_core::cmd::zset::zrange; the module of a type or function path."""
    segs = [s for s in segments.split("::") if s]
    mod = segs[:2] if segs[:1] in (["cmd"], ["types"]) else segs[:1]
    return "::".join([crate] + mod)


NUMBERS = ("u128", "u64", "i64", "usize", "isize", "i32", "u32", "u16", "i16", "u8", "i8", "i128", "f64", "f32", "char")


def std_area(path):
    """A coarse name for code of the standard library and the dependencies."""
    segs = path.split("::")
    crate = segs[0]
    if crate in ("core", "alloc", "std"):
        second = segs[1] if len(segs) > 1 else ""
        if second in ("fmt", "num"):
            return "core/alloc: fmt, numbers"
        if second in ("slice",) and "sort" in path:
            return "core/alloc: sort"
        if second in ("collections",):
            return "alloc: collections (VecDeque, BTree)"
        if second in ("vec", "raw_vec", "boxed", "string", "rc", "sync", "alloc"):
            return "alloc: Vec, String, Box, Rc"
        if second in ("str", "unicode", "char"):
            return "core: str, char"
        if second in ("iter",):
            return "core: iterator adapters"
        if second in ("ptr",):
            return "core: drop glue"
        if second in ("panicking", "panic", "result", "option") or "panic" in path:
            return "core: panics, Option/Result"
        return "core/alloc: other"
    if crate in NUMBERS:
        return "core/alloc: fmt, numbers"
    if crate in ("str",):
        return "core: str, char"
    if crate in ("hashbrown", "foldhash"):
        return "hashbrown"
    if crate == "dlmalloc":
        return "dlmalloc"
    if crate == "libm":
        return "libm"
    if crate in ("wasm_bindgen", "js_sys"):
        return "wasm-bindgen / js-sys glue"
    if crate.startswith("__") or crate in ("compiler_builtins", "memcpy", "memset", "memmove", "memcmp"):
        return "compiler builtins (memcpy, ...)"
    return "other: " + crate


def attribute(name):
    """(owner, how): `how` is "own" for our functions, "generic" for standard-library code instantiated by one of
    our modules (a closure, function or type of it among the generic arguments), "std" otherwise."""
    if "::" not in name:
        if name.startswith("<function "):
            # Binaryen names no function it makes: the shared bodies of `merge-similar-functions` (part of -Oz).
            return "functions wasm-opt made (no name)", "std"
        if name.startswith(("mem", "__")) and not name.startswith(("__wbg", "__wbindgen", "__externref")):
            return "compiler builtins (memcpy, ...)", "std"
        return "wasm-bindgen / js-sys glue", "std"  # the shims of the exported methods
    self_path = split_self(name)
    m = OUR_PATH.match(self_path)
    if m:
        owner = our_module(*m.groups())
        if owner not in GENERIC_HELPERS:
            return owner, "own"
    # Generic code: who instantiated it? A closure or function of ours among the arguments says it best; else
    # the first type of ours (so `Vec<Reply>`'s code counts for `reply`).
    # A method's closure (`<redlet_core::engine::Engine>::disconnect::{closure#0}`) counts as a function.
    ours = [(our_module(*p.groups()), "f" if name.startswith(">::", p.end()) else p.group(3))
            for p in OUR_PATH.finditer(name)]
    ours = [(mod, last) for mod, last in ours if mod not in GENERIC_HELPERS]
    if m and not ours:
        return our_module(*m.groups()), "own"
    fns = [mod for mod, last in ours if not last[:1].isupper()]
    if fns:
        return fns[0], "generic"
    if ours:
        return ours[0][0], "generic"
    if self_path.startswith("["):
        return "core: slices", "std"
    head = re.match(r"\w+(::\w+)*", self_path.lstrip("&*"))
    if not head or head.group(0) == "dyn":  # a tuple's or a trait object's impl
        return "core/alloc: other", "std"
    return std_area(head.group(0)), "std"


# Small modules counted with the one they serve, as ANALYSIS.md names them.
MODULE_LABELS = {
    "core::rdb": "rdb (+ lzf, crc64)", "core::lzf": "rdb (+ lzf, crc64)", "core::crc64": "rdb (+ lzf, crc64)",
    "core::aof": "aof / propagate", "core::propagate": "aof / propagate",
    "core::acl": "acl / sha256", "core::sha256": "acl / sha256",
    "core::tokenize": "tokenize / resp / format", "core::resp": "tokenize / resp / format",
    "core::format": "tokenize / resp / format",
    "core::decimal": "decimal / ldouble", "core::ldouble": "decimal / ldouble",
    "core::geohash": "geohash (geo)",
}


def group_name(owner):
    if owner in MODULE_LABELS:
        return MODULE_LABELS[owner]
    if owner.startswith("web"):
        return "redlet_web::" + owner.split("::", 1)[1] if "::" in owner else "redlet_web"
    if owner.startswith("core::"):
        return owner[len("core::"):]
    return owner


def module_table(funcs):
    names = demangle([n for n, _ in funcs])
    rows = collections.defaultdict(lambda: collections.Counter())
    examples = collections.defaultdict(list)
    for (_, size), name in zip(funcs, names):
        owner, how = attribute(name)
        g = group_name(owner)
        rows[g][how] += size
        rows[g]["n"] += 1
        examples[g].append((size, name))
    return rows, examples


# ---------------------------------------------------------------------------------------------------------------
# The data segment: what its pieces are


LITERAL = re.compile(r'b?"((?:[^"\\]|\\.)*)"', re.S)


def unescape(lit):
    lit = re.sub(r"\\\n\s*", "", lit)  # a line continuation inside a literal
    try:
        return bytes(lit, "utf8").decode("unicode_escape").encode("latin1")
    except (UnicodeError, ValueError):
        return lit.encode()


def module_of_file(rel):
    parts = rel.with_suffix("").parts
    crate = "core" if parts[0] == "core" else "web"
    segs = [p for p in parts[2:] if p != "mod"]
    return "::".join([crate] + (segs[:2] if segs[:1] in (["cmd"], ["types"]) else segs[:1]))


ERROR_TEXT = re.compile(rb"^-?[A-Z][A-Z_]{2,} ")
TEXTS = "other texts of ours (INFO fields, reply words, ...)"
TABLE_STRINGS = "command table: strings (names, summaries, complexity, flags, key specs)"


def literals_by_module(src, generated):
    """The text of our string literals: {bytes: {(kind, module)}}. A format string also counts as the pieces
    between its placeholders. Kinds: `help` (the lines of a HELP reply), `error` (starts with an error code),
    `text`; the generated command table's are `command table: argument syntax` (the packed `ARGS`) and
    `command table: names, summaries, ...`."""
    found = collections.defaultdict(set)
    files = list((src / "core" / "src").rglob("*.rs"))
    files += [p for p in (src / "web" / "src").rglob("*.rs") if "app" not in p.parts]
    sources = [(module_of_file(p.relative_to(src)), p.read_text().split("\n#[cfg(test)]\nmod tests")[0])
               for p in files if p.name != "tests.rs"]
    for mod, text in sources:
        helps = [(m.start(), text.index("])", m.start())) for m in re.finditer(r"help_reply\(&\[", text)]
        for m in LITERAL.finditer(text):
            s = unescape(m.group(1))
            kind = ("help" if any(a <= m.start() <= b for a, b in helps)
                    else "error" if ERROR_TEXT.match(s) or mod == "core::error" else "text")
            found[s].add((kind, mod))
            if m.group(0).startswith("b") or "{" not in m.group(1):
                continue
            s = s.replace(b"{{", b"\x00").replace(b"}}", b"\x01")
            for piece in re.split(rb"\{[^{}]*\}", s):
                piece = piece.replace(b"\x00", b"{").replace(b"\x01", b"}")
                if len(piece) >= 2:
                    found[piece].add((kind, mod))
    if generated:
        text = generated.read_text()
        args_at = text.index("static ARGS: &[u8] = b\"")
        for m in LITERAL.finditer(text):
            kind = "command table: argument syntax" if m.start() >= args_at else TABLE_STRINGS
            found[unescape(m.group(1))].add((kind, "core::table"))
    return found


def data_pieces(map_path, data):
    """The data segment cut into the linker map's input sections: [(address, bytes, symbol)]. The linker's own
    section of merged strings (format templates, panic locations) is cut at its NUL bytes."""
    memory = [(a, chunk) for a, chunk in data if a is not None]

    def read(addr, size):
        for base, chunk in memory:
            if base <= addr and addr + size <= base + len(chunk):
                return chunk[addr - base: addr - base + size]
        return None

    pieces = []
    lines = map_path.read_text().splitlines()
    for k, line in enumerate(lines):
        if len(line) < 36 or line[:8].strip() in ("", "-", "Addr"):
            continue
        col = len(line) - len(line[26:].lstrip())
        if col != 35:  # not an input section (26: an output section, 43: a symbol)
            continue
        addr, size = int(line[:8], 16), int(line[18:26], 16)
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        sym = nxt[43:].strip() if len(nxt) > 43 and nxt[43] != " " else ""
        b = read(addr, size) if size else None
        if b is None:
            continue  # .bss, or outside the data segment
        if line[35:].startswith("<internal>"):
            at = addr
            for part in b.split(b"\x00"):
                if part:
                    pieces.append((at, part, "<merged strings>"))
                at += len(part) + 1
        else:
            pieces.append((addr, b, sym))
    return pieces


def printable(b):
    return len(b) >= 2 and sum(32 <= c < 127 or c in (9, 10, 13) or c >= 0xC0 for c in b) >= 0.9 * len(b)


def text_owner(b, literals, keys):
    """(kind, module) of a piece of text: the literal it is, or the literals containing its runs (a format
    template's text runs)."""
    if b.endswith(b".rs") and b"/" in b:
        return ("panic locations (source file names)", "")
    owners = set(literals.get(bytes(b), ()))
    if not owners:
        runs = [r for r in re.split(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x80-\xff]+", bytes(b)) if len(r) >= 4]
        for r in runs:
            for cand in (r, r[1:]):  # a template's text runs start with a length byte, which may be printable
                hit = {o for lit, os in keys if cand in lit for o in os}
                if hit:
                    owners |= hit
                    break
    if not owners:
        return ("other text (standard library, dependencies)", "")
    table = [o for o in owners if o[1] == "core::table"]
    if table:  # the generated table's, or table.rs's names of flags and ACL categories
        return max(table) if max(table)[0].startswith("command table") else (TABLE_STRINGS, "core::table")
    kinds = {k for k, _ in owners}
    mods = sorted({m for _, m in owners})
    kind = "error texts" if "error" in kinds else "help texts" if "help" in kinds else TEXTS
    return (kind, mods[0] if len(mods) == 1 else "several modules")


def classify_data(pieces, literals):
    """Each piece of the data segment as (kind, module): text by the literal it comes from, pointer structures
    by what their pointers mostly point at, the rest binary."""
    keys = [(lit, os) for lit, os in literals.items() if len(lit) >= 4]
    owner_at = {}
    for addr, b, sym in pieces:
        if printable(b) or bytes(b) in literals:
            owner_at[addr] = text_owner(b, literals, keys)
    # Structures point at text, or at other structures (a key spec at its slice of flags): a few passes.
    for _ in range(4):
        for addr, b, sym in pieces:
            if addr in owner_at:
                continue
            words = [int.from_bytes(b[i:i + 4], "little") for i in range(0, len(b) - len(b) % 4, 4)]
            targets = collections.Counter(owner_at[w] for w in words if w in owner_at)
            if targets:  # a word that is the address of a known piece is a pointer: random numbers hardly are
                kind, mod = targets.most_common(1)[0][0]
                if mod == "core::table":
                    owner_at[addr] = ("command table: structures", mod)
                elif kind.startswith("structures pointing at "):
                    owner_at[addr] = (kind, mod)
                else:
                    owner_at[addr] = ("structures pointing at " + kind, mod)
    out = []
    for addr, b, sym in pieces:
        owner = owner_at.get(addr, ("binary (numeric tables, vtables, other constants)", ""))
        out.append((owner, addr, bytes(b), sym))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Sources to build from: the repository, or a scratch copy with edits


def tracked_files(src):
    out = subprocess.run(["git", "ls-files", "-z"], cwd=src, capture_output=True, check=True).stdout
    return [Path(p.decode()) for p in out.split(b"\0") if p]


class Scratch:
    """A copy of the repository's sources in target/size-breakdown/src. Every file an experiment changes is
    written fresh before the next one (so its time is newer than the last build and cargo rebuilds)."""

    def __init__(self):
        self.dir = WORK / "src"
        self.touched = set()
        for rel in tracked_files(ROOT):
            dst = self.dir / rel
            srcf = ROOT / rel
            if not srcf.exists():
                continue
            if dst.exists() and dst.read_bytes() == srcf.read_bytes():
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(srcf, dst)

    def reset(self):
        for rel in self.touched:
            shutil.copyfile(ROOT / rel, self.dir / rel)
        self.touched = set()

    def edit(self, rel, change):
        path = self.dir / rel
        text = path.read_text()
        new = change(text)
        if new != text:
            path.write_text(new)
            self.touched.add(Path(rel))


def replace_once(old, new):
    def change(text):
        n = text.count(old)
        if n != 1:
            raise SystemExit(f"edit failed: {old[:80]!r} occurs {n} times")
        return text.replace(old, new)
    return change


def body_end(text, start):
    """The index just past the brace that closes the block opening at text[start] == '{' (strings, chars and
    comments skipped)."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        if text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "'" and (text[i + 2:i + 3] == "'" or text[i + 1] == "\\"):
            i = text.index("'", i + 2 if text[i + 1] != "\\" else i + 3)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise SystemExit("unbalanced braces")


def stub(signature, body):
    """Replaces the body of the one function whose text starts with `signature`."""
    def change(text):
        n = text.count(signature)
        if n != 1:
            raise SystemExit(f"stub failed: {signature!r} occurs {n} times")
        at = text.index(signature)
        open_brace = text.index("{", at + len(signature) - 1)
        end = body_end(text, open_brace)
        return text[:open_brace] + "{\n    " + body + "\n}" + text[end:]
    return change


def drop_handlers(patterns):
    """Removes the `("name", handler)` entries of `HANDLERS` whose name matches one of `patterns` (fnmatch)."""
    entry = re.compile(r'\("([^"]+)",\s*[\w:]+\)\s*,?\s*')

    def apply(scratch):
        matched = set()
        for path in sorted((scratch.dir / "core" / "src" / "cmd").glob("*.rs")):
            def change(text):
                head, sep, rest = text.partition("pub const HANDLERS: &[(&str, Handler)] = &[")
                if not sep:
                    return text
                table, close, tail = rest.partition("];")

                def keep(m):
                    hit = [p for p in patterns if fnmatch.fnmatchcase(m.group(1), p)]
                    matched.update(hit)
                    return "" if hit else m.group(0)
                return head + sep + entry.sub(keep, table) + close + tail
            scratch.edit(path.relative_to(scratch.dir), change)
        missing = set(patterns) - matched
        if missing:
            raise SystemExit(f"no handler matches {sorted(missing)}")
    return apply


def edit(rel, change):
    return lambda scratch: scratch.edit(rel, change)


# The hooks each group has outside its handlers, replaced by what the engine would do without the group.
ACL_HOOKS = [
    edit("core/src/acl.rs", stub("pub fn check_command(e: &mut Engine, ctx: &Ctx)", "let _ = (e, ctx); Ok(())")),
    edit("core/src/acl.rs", stub("pub fn recheck_queued(e: &mut Engine, ctx: &Ctx)", "let _ = (e, ctx); Ok(())")),
    edit("core/src/acl.rs", stub("pub fn reads_any_key(e: &Engine, client: ClientId)", "let _ = (e, client); true")),
    edit("core/src/acl.rs", stub("pub fn check(&self, spec: &CommandSpec, argv: &[&[u8]])",
                                 "let _ = (spec, argv); Ok(())")),
    # Only `requirepass`: the default user's flags, its password kept as given (no SHA-256).
    edit("core/src/acl.rs", stub(
        "fn apply(&mut self, op: &[u8], pubsub_all: bool)",
        "let _ = pubsub_all; match op { b\"on\" => self.enabled = true, "
        "b\"nopass\" => { self.nopass = true; self.passwords.clear(); } "
        "b\"resetpass\" => { self.nopass = false; self.passwords.clear(); } _ => {} } Ok(())")),
    edit("core/src/sha256.rs", stub(
        "pub fn hex_digest(data: &[u8])",
        "let mut out = [0u8; 64]; for (o, b) in out.iter_mut().zip(data) { *o = *b; } out")),
]
PROPAGATION_HOOKS = [
    edit("core/src/propagate.rs", replace_once("        self.on && !self.suspended\n", "        false\n")),
    edit("core/src/propagate.rs", stub("pub(crate) fn end_unit(e: &mut Engine)", "let _ = e;")),
]
RDB_HOOKS = [
    edit("core/src/rdb/read.rs", stub("pub fn load(e: &Engine, rdb: &[u8])",
                                      "let _ = (e, rdb); Err(RdbError::Signature)")),
    edit("core/src/rdb/read.rs", stub("pub fn restore_value(e: &mut Engine, payload: &[u8])",
                                      "let _ = (e, payload); Err(RestoreError::BadData)")),
    edit("core/src/rdb/write.rs", stub("pub fn save_with(e: &Engine, format: Format, aof_base: bool)",
                                       "let _ = (e, format, aof_base); Vec::new()")),
    edit("core/src/rdb/write.rs", stub("pub fn serialized_len(value: &Value)", "let _ = value; 0")),
    edit("core/src/rdb/write.rs", stub("pub fn quicklist_nodes(l: &List)", "let _ = l; Vec::new()")),
    edit("core/src/rdb/write.rs", stub("pub fn dump_value(value: &Value)", "let _ = value; Vec::new()")),
]
SLOWLOG_HOOKS = [
    edit("core/src/slowlog.rs", stub("pub(crate) fn record(e: &mut Engine, client: ClientId,",
                                     "let _ = (e, client, db, argv, spec, micros);")),
    edit("core/src/slowlog.rs", stub("pub(crate) fn disconnected(e: &mut Engine, client: ClientId)",
                                     "let _ = (e, client);")),
]
EVICTION_HOOKS = [
    edit("core/src/evict.rs", stub("pub(crate) fn check_memory(&mut self, client: ClientId,",
                                   "let _ = (client, spec); None")),
    edit("core/src/evict.rs", stub("pub(crate) fn perform_evictions(&mut self)", "true")),
]
# The table's documentation (COMMAND DOCS and INFO are its only readers): summaries, complexity, since, group,
# doc flags, tips, key spec notes and the packed argument syntax, left out of the generated table.
TABLE_DOCS = [edit("core/build.rs", replace_once(old, new)) for old, new in [
    ('    let summary = found.map(|(s, _)| format!("Some({s:?})")).unwrap_or_else(|| "None".into());',
     '    let summary = "None"; let _ = found;'),
    ('    let complexity =\n'
     '        found.and_then(|(_, c)| c.as_ref()).map(|c| format!("Some({c:?})")).unwrap_or_else(|| "None".into());',
     '    let complexity = "None";'),
    ('"{pad}    tips: {},", strs(&c["tips"])', '"{pad}    tips: &[],{}", ""'),
    ('"{pad}    group: {:?},", c["group"].as_str().unwrap_or("")', '"{pad}    group: \\"\\",{}", ""'),
    ('"{pad}    since: {:?},", c["since"].as_str().unwrap_or("")', '"{pad}    since: \\"\\",{}", ""'),
    ('"{pad}    deprecated_since: {},", opt_str(&c["deprecated_since"])', '"{pad}    deprecated_since: None,{}", ""'),
    ('"{pad}    doc_flags: {},", strs(&c["doc_flags"])', '"{pad}    doc_flags: &[],{}", ""'),
    ('    pack_args(args, &c["arguments"]);\n', ""),
    ("notes.get(&(name.to_string(), i))", "None"),
]]

STREAMS = ["x*"]
GEO = ["geo*"]
HLL = ["pf*"]
BITMAPS = ["bitcount", "bitfield", "bitfield_ro", "bitop", "bitpos", "getbit", "setbit"]
ZSETS = ["z*", "bz*"]
SORT = ["sort", "sort_ro"]
SLOWLOG = ["slowlog|*", "latency|*", "monitor"]
INTROSPECTION = ["debug", "object|*", "memory|*"]
COMMAND_DOCS = ["command", "command|info", "command|docs"]
CLIENT_EXTRAS = ["client|list", "client|info", "client|kill", "client|pause", "client|unpause", "client|reply",
                 "client|unblock", "client|no-evict", "client|tracking", "client|getredir", "client|trackinginfo",
                 "client|caching", "client|help"]
RDB_COMMANDS = ["save", "bgsave", "dump", "restore"]
LISTS = ["lpush", "rpush", "lpushx", "rpushx", "linsert", "llen", "lindex", "lset", "lpop", "rpop", "lrange", "ltrim",
         "lpos", "lrem", "lmove", "rpoplpush", "blpop", "brpop", "blmove", "brpoplpush", "lmpop", "blmpop"]
HASHES = ["hsetnx", "hset", "hmset", "hincrby", "hincrbyfloat", "hget", "hmget", "hdel", "hlen", "hstrlen", "hkeys",
          "hvals", "hgetall", "hexists", "hscan", "hrandfield"]
SETS = ["sadd", "srem", "smove", "sismember", "smismember", "scard", "spop", "srandmember", "smembers", "sinter*",
        "sunion*", "sdiff*", "sscan"]
SERVER_ADMIN = ["info", "config|*", "command", "command|*", "lastsave", "bgrewriteaof", "shutdown", "lolwut"]

# What leaving a group out removes: (the handlers, by name pattern; the hooks replaced on the command path).
GROUPS = {
    "streams": (STREAMS, []),
    "geo": (GEO, []),
    "hll": (HLL, []),
    "bitmaps": (BITMAPS, []),
    "zsets": (ZSETS, []),
    "lists": (LISTS, []),
    "hashes": (HASHES, []),
    "sets": (SETS, []),
    "sort": (SORT, []),
    "pubsub": (["*subscribe", "publish", "spublish", "pubsub|*"], []),
    "tx": (["multi", "exec", "discard", "watch", "unwatch"], []),
    "acl": (["acl|*"], ACL_HOOKS),
    "aof": (["bgrewriteaof"], PROPAGATION_HOOKS),
    "rdb": (RDB_COMMANDS, RDB_HOOKS),
    "slowlog": (SLOWLOG, SLOWLOG_HOOKS),
    "introspection": (INTROSPECTION, []),
    "command-docs": (COMMAND_DOCS, []),
    "table-docs": ([], TABLE_DOCS),
    "client-extras": (CLIENT_EXTRAS, []),
    "eviction": ([], EVICTION_HOOKS),
    "info+config": (["info", "config|*"], []),
    "server-admin": (SERVER_ADMIN, []),
}

EXTRA_TYPES = ["streams", "geo", "hll", "bitmaps"]
SERVER_FEATURES = ["acl", "slowlog", "introspection", "command-docs", "table-docs"]
PERSISTENCE = ["rdb", "aof"]
# The smallest useful engine keeps strings, keys, lists, hashes, sets, sorted sets, pub/sub and transactions,
# with PING, ECHO, SELECT, AUTH (requirepass), HELLO, QUIT, RESET, CLIENT ID/SETNAME/GETNAME, DBSIZE, FLUSHDB,
# FLUSHALL, SWAPDB and TIME; no persistence, ACL, eviction, slow log, introspection, INFO, CONFIG or COMMAND.
MINIMAL = EXTRA_TYPES + SERVER_FEATURES + PERSISTENCE + ["sort", "client-extras", "eviction", "server-admin"]

EXPERIMENTS = {
    "streams": ("stream commands (X*)", ["streams"]),
    "geo": ("geo commands (GEO*)", ["geo"]),
    "hll": ("HyperLogLog (PF*)", ["hll"]),
    "bitmaps": ("bitmap commands (BIT*, GETBIT, SETBIT)", ["bitmaps"]),
    "zsets": ("sorted set commands (Z*, BZ*)", ["zsets"]),
    "lists": ("list commands", ["lists"]),
    "hashes": ("hash commands", ["hashes"]),
    "sets": ("set commands", ["sets"]),
    "sort": ("SORT, SORT_RO", ["sort"]),
    "pubsub": ("pub/sub commands", ["pubsub"]),
    "tx": ("MULTI, EXEC, DISCARD, WATCH, UNWATCH", ["tx"]),
    "acl": ("ACL: commands, permission checks, rule parser, SHA-256 (requirepass kept)", ["acl"]),
    "aof": ("AOF: the propagation stream and the rewrites in the command files, BGREWRITEAOF", ["aof"]),
    "rdb": ("RDB: reading and writing snapshots and DUMP payloads; SAVE, BGSAVE, DUMP, RESTORE", ["rdb"]),
    "slowlog": ("SLOWLOG, LATENCY, MONITOR and their hooks", ["slowlog"]),
    "introspection": ("DEBUG, OBJECT, MEMORY", ["introspection"]),
    "command-docs": ("COMMAND, COMMAND INFO, COMMAND DOCS", ["command-docs"]),
    "command-docs+table": ("COMMAND, COMMAND INFO, COMMAND DOCS and the table's documentation",
                           ["command-docs", "table-docs"]),
    "client-extras": ("CLIENT LIST/INFO/KILL/PAUSE/UNPAUSE/REPLY/UNBLOCK/NO-EVICT/TRACKING/CACHING/...",
                      ["client-extras"]),
    "eviction": ("eviction (maxmemory policies); the memory accounting stays", ["eviction"]),
    "info+config": ("INFO, CONFIG", ["info+config"]),
    "extra-types": ("streams, geo, HyperLogLog, bitmaps together", EXTRA_TYPES),
    "server-features": ("ACL, slow log/monitor/latency, DEBUG/OBJECT/MEMORY, COMMAND docs and table docs together",
                        SERVER_FEATURES),
    "persistence": ("RDB and AOF together", PERSISTENCE),
    "types+server": ("extra-types and server-features", EXTRA_TYPES + SERVER_FEATURES),
    "types+persistence": ("extra-types and persistence", EXTRA_TYPES + PERSISTENCE),
    "server+persistence": ("server-features and persistence", SERVER_FEATURES + PERSISTENCE),
    "types+server+persistence": ("extra-types, server-features and persistence",
                                 EXTRA_TYPES + SERVER_FEATURES + PERSISTENCE),
    "types+server+aof": ("extra-types, server-features and AOF", EXTRA_TYPES + SERVER_FEATURES + ["aof"]),
    "streams+rdb": ("stream commands and RDB (a stream's type code is left only to them)", ["streams", "rdb"]),
    "five-largest": ("streams, geo, RDB, ACL, COMMAND docs and table docs",
                     ["streams", "geo", "rdb", "acl", "command-docs", "table-docs"]),
    "minimal": ("everything except strings, keys, lists, hashes, sets, sorted sets, pub/sub, transactions", MINIMAL),
    "minimal+rdb": ("the minimal engine with RDB snapshots (SAVE, DUMP/RESTORE, snapshot()/restore())",
                    [g for g in MINIMAL if g != "rdb"]),
}


def edits_of(experiment):
    """The edits that build an experiment: its groups' handlers dropped in one pass, then their hooks."""
    groups = EXPERIMENTS[experiment][1]
    patterns = [p for g in groups for p in GROUPS[g][0]]
    edits = [drop_handlers(list(dict.fromkeys(patterns)))] if patterns else []
    return edits + [e for g in groups for e in GROUPS[g][1]]


# ---------------------------------------------------------------------------------------------------------------
# Commands


def cmd_list(_args):
    for name, (what, groups) in EXPERIMENTS.items():
        print(f"{name:26} {what}" + (f" [{', '.join(groups)}]" if len(groups) > 1 else ""))


def cmd_drops(args):
    names = args.names or list(EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        sys.exit(f"unknown experiments {unknown}; `list` shows them")
    scratch = Scratch()
    scratch.reset()
    target = WORK / "target"
    results = {}
    base_w, base_j, _ = build_package(scratch.dir, target, WORK / "out" / "baseline")
    base = sizes(base_w, base_j)
    pkg = ROOT / "web" / "pkg" / "web" / f"{WASM_NAME}_bg.wasm"
    same = pkg.exists() and pkg.read_bytes() == base_w.read_bytes()
    print(f"baseline: wasm {base['wasm']} B raw, gzip -9 wasm {base['wasm_gz']} + JS {base['js_gz']} = "
          f"{base['wasm_gz'] + base['js_gz']} B" + (" (identical to web/pkg/web)" if same else
                                                      " (web/pkg/web differs or is absent)"), flush=True)
    results["baseline"] = base
    for name in names:
        what = EXPERIMENTS[name][0]
        scratch.reset()
        for e in edits_of(name):
            e(scratch)
        w, j, _ = build_package(scratch.dir, target, WORK / "out" / name)
        s = sizes(w, j)
        results[name] = s
        total = s["wasm_gz"] + s["js_gz"]
        drop = base["wasm_gz"] + base["js_gz"] - total
        print(f"{name:26} wasm -{base['wasm'] - s['wasm']:7} B   gzip -9 {total:7} B, {drop:6} B less "
              f"({drop / 1000:5.1f} KB)   {what}", flush=True)
    scratch.reset()
    kept = WORK / "drops.json"
    previous = json.loads(kept.read_text()) if kept.exists() else {}
    if previous.get("baseline") != base:
        previous = {}  # figures of other sources: not comparable
    kept.write_text(json.dumps(previous | results, indent=1))
    print(f"(figures kept in {WORK / 'drops.json'})")


def cmd_modules(args):
    if args.variant:
        scratch = Scratch()
        scratch.reset()
        for e in edits_of(args.variant):
            e(scratch)
        src, target = scratch.dir, WORK / "target-names"
    else:
        src, target = ROOT, WORK / "target-names-root"
    out = WORK / "out" / ("names-" + (args.variant or "baseline"))
    wasm, _, map_path = build_package(src, target, out, names=True)
    if args.variant:
        scratch.reset()
    funcs, _, sections = parse_wasm(wasm)
    pre, _, pre_sections = parse_wasm(out / "bindgen" / f"{WASM_NAME}_bg.wasm")
    code = sum(s for _, s in funcs)
    print(f"code section {sections[10]} B ({len(funcs)} functions; {code} B in bodies), "
          f"data section {sections[11]} B; before wasm-opt: code {pre_sections[10]} B ({len(pre)} functions)\n")
    rows, examples = module_table(funcs)
    pre_rows, _ = module_table(pre)
    print("| module | own code | generic code it instantiates | total KB | before wasm-opt KB | functions |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    order = sorted(rows, key=lambda g: -(rows[g]["own"] + rows[g]["generic"] + rows[g]["std"]))
    for g in order:
        r = rows[g]
        tot = r["own"] + r["generic"] + r["std"]
        p = pre_rows.get(g, collections.Counter())
        ptot = p["own"] + p["generic"] + p["std"]
        print(f"| {g} | {(r['own'] + r['std']) / 1000:.1f} | {r['generic'] / 1000:.1f} | {tot / 1000:.1f} | "
              f"{ptot / 1000:.1f} | {r['n']} |")
    if args.top:
        for g in order:
            print(f"\n## {g}")
            for size, name in sorted(examples[g], reverse=True)[: args.top]:
                print(f"{size:7} {name[:220]}")
    generated = next(iter(target.glob("wasm32-unknown-unknown/wasm/build/redlet-core-*/out/commands.rs")), None)
    literals = literals_by_module(WORK / "src" if args.variant else ROOT, generated)
    pieces = data_pieces(map_path, parse_wasm(target / "wasm32-unknown-unknown" / "wasm" / f"{WASM_NAME}.wasm")[1])
    classified = classify_data(pieces, literals)
    by_kind = collections.defaultdict(bytearray)
    by_text_module = collections.defaultdict(bytearray)
    for (kind, mod), addr, b, sym in classified:
        by_kind[kind] += b
        if kind in ("error texts", "help texts", TEXTS):
            by_text_module[group_name(mod) if mod.startswith(("core", "web")) else mod] += b
    total = sum(len(b) for _, _, b, _ in classified)
    print(f"\ndata segment: {total} B in {len(classified)} pieces (gzip -9 alone: each kind compressed by itself)\n")
    print("| contents | raw KB | gzip -9 alone KB |")
    print("| --- | ---: | ---: |")
    for kind, b in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        print(f"| {kind} | {len(b) / 1000:.1f} | {len(gzip.compress(bytes(b), 9)) / 1000:.1f} |")
    print("\nerror, help and other texts by module:\n")
    print("| module | raw KB | gzip -9 alone KB |")
    print("| --- | ---: | ---: |")
    for mod, b in sorted(by_text_module.items(), key=lambda kv: -len(kv[1])):
        if len(b) >= 200:
            print(f"| {mod} | {len(b) / 1000:.1f} | {len(gzip.compress(bytes(b), 9)) / 1000:.1f} |")
    if args.top:
        for kind in sorted(by_kind, key=lambda k: -len(by_kind[k])):
            print(f"\n## data: {kind}")
            items = sorted(((len(b), mod, b[:100], sym) for (k, mod), _, b, sym in classified if k == kind),
                           reverse=True)
            for size, mod, head, sym in items[: args.top]:
                print(f"{size:7} {mod:24} {head!r} {sym[:60]}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("modules")
    m.add_argument("--variant", choices=list(EXPERIMENTS), help="measure a reduced build instead")
    m.add_argument("--top", type=int, default=0, help="also list the N biggest functions of each module")
    d = sub.add_parser("drops")
    d.add_argument("names", nargs="*")
    sub.add_parser("list")
    args = p.parse_args()
    {"modules": cmd_modules, "drops": cmd_drops, "list": cmd_list}[args.cmd](args)


if __name__ == "__main__":
    main()
