//! Checked citations: every test, file and theory equation that the prose of the repository
//! cites exists. The prose is the comments of every `.rs` file and the text of every `.md`
//! file under `src/`, `tests/`, `examples/`, `benches/`, `docs/`, `theory/` and `python/`, and
//! `README.md` (this file is not scanned: its unit tests hold deliberately dangling
//! citations). The conventions it enforces:
//!
//! 1. **Test names.** A test is cited by its function name in backticks. A backticked
//!    identifier is read as a test name when the sentence says so before it ("Checked by",
//!    "checked by", "tested by", "test", "tests", "proptest", as in "checked by
//!    `tanh_known_coefficients`"), when a test file follows it ("`name` in `tests/x.rs`",
//!    "`name` (`tests/x.rs`)"), when it is written `tests/x.rs::name`, or when it stands in a
//!    table column headed "test", "tests", "checked by" or "measured in". It must then be a
//!    `#[test]` function (a `proptest!` test included) — in one of the files under `tests/`
//!    or `src/` that the sentence names, if it names any, else anywhere in `tests/` or in the
//!    unit tests of `src/`. Sentences end at `.` or `;` followed by a space (not inside backticks or `$…$`);
//!    a markdown table cell is a sentence of its own; trigger words inside parentheses closed
//!    before the name do not count, and an intra-doc link ``[`name`]`` is left to rustdoc.
//! 2. **Identifiers.** Every backticked snake_case identifier (one with an underscore and a
//!    lowercase letter), in any sentence, must occur in the code: outside the comments of the
//!    `.rs` files of the scanned folders, in their `.py` files (the peer scripts and the Python
//!    package), or as the
//!    name of a `.rs` file (an example or a test target). This catches a renamed test or
//!    function wherever it is cited, trigger words or not. A one-letter name with a
//!    subscript, such as `m_k` or `N_in`, is mathematics and is not checked.
//! 3. **Paths.** A path starting with `src/`, `tests/`, `examples/`, `benches/`, `docs/` or
//!    `theory/` in prose must exist (a file or a folder); `theory/05` stands for the page
//!    `theory/05-….md`, a `*` matches any characters, and a path with `…` in it is elided and
//!    not checked. Say "save it as `first.rs` in `examples/`", not a path that does not exist.
//! 4. **Equation labels.** A label is a capitalised prefix of at most three letters, a dot and
//!    a number: (V.3), (I.4), (SV.2), (S.8), (Sim.5), (F.9), (E.2), (M.1), (G.12). It is
//!    *defined* in `theory/*.md` where it is set: as `\text{(V.3)}` (or `\tag{V.3}`) at the end
//!    of a display equation (several labels separated by commas: `\text{(M.1, M.2)}`), in a
//!    heading (`## Phase (F.6)`, `### Sim.1 …`), or in bold, as a paragraph's lead-in
//!    (`**Jets (SV.7).**`) or a marker in running text (`**(G.5)**`). Every label cited anywhere
//!    — comments, strings, code blocks — with a prefix that some definition uses must be
//!    defined; a range `(SV.2–SV.6)` or `(SV.10–11)` cites every label in it.
//!
//! The checker is heuristic but has no false positives on the tree, and `checker_reports_*`
//! below feed it dangling citations of each kind to show that it fails on them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The folders whose files are scanned (and whose `.rs` code supplies identifiers).
const SCANNED: [&str; 7] = [
    "src", "tests", "examples", "benches", "docs", "theory", "python",
];
/// Scanned besides the folders.
const ROOT_FILES: [&str; 1] = ["README.md"];
/// This file: its unit tests cite what does not exist, on purpose.
const SELF: &str = "tests/citations.rs";

/// The repository as the checker sees it: the text of every scanned file and the set of all
/// paths (files and folders) that exist.
#[derive(Default)]
struct Repo {
    /// `(path relative to the root with '/' separators, text)`.
    files: Vec<(String, String)>,
    /// Every file and folder path below the root (outside `target/` and `.git/`).
    paths: BTreeSet<String>,
}

impl Repo {
    fn load(root: &Path) -> Repo {
        let mut repo = Repo::default();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let mut entries: Vec<_> = fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
                .map(|e| e.expect("directory entry").path())
                .collect();
            entries.sort();
            for p in entries {
                let rel = p
                    .strip_prefix(root)
                    .expect("below the root")
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel == "target" || rel.starts_with(".git") {
                    continue;
                }
                repo.paths.insert(rel.clone());
                if rel == SELF {
                    continue; // exists, but is neither scanned nor a source of names
                }
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let scanned = SCANNED.iter().any(|d| rel.starts_with(&format!("{d}/")))
                    || ROOT_FILES.contains(&rel.as_str());
                let text_file = [".rs", ".md", ".py"].iter().any(|x| rel.ends_with(x));
                if scanned && text_file {
                    let text =
                        fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {rel}: {e}"));
                    repo.files.push((rel, text));
                }
            }
        }
        repo
    }

    /// A repository from in-memory files (their folders exist too).
    #[cfg(test)]
    fn from_files(files: &[(&str, &str)]) -> Repo {
        let mut repo = Repo::default();
        for (path, text) in files {
            repo.files.push((path.to_string(), text.to_string()));
            let mut p = path.to_string();
            repo.paths.insert(p.clone());
            while let Some(i) = p.rfind('/') {
                p.truncate(i);
                repo.paths.insert(p.clone());
            }
        }
        repo
    }

    fn scanned(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .filter(|(p, _)| p != SELF && (p.ends_with(".rs") || p.ends_with(".md")))
            .map(|(p, t)| (p.as_str(), t.as_str()))
    }
}

/// A dangling citation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Problem {
    file: String,
    line: usize,
    message: String,
}

// ---------------------------------------------------------------------------------------------
// Lexing: comments, code, prose
// ---------------------------------------------------------------------------------------------

/// Splits a line of Rust into its code and its comment (the text after a `//` that is not
/// inside a string or character literal). Raw strings spanning lines are not tracked.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let b = line.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            // A char literal such as '"' or '/' (a lifetime has no closing quote nearby).
            b'\'' if !in_str && i + 2 < b.len() && b[i + 2] == b'\'' => i += 2,
            b'\'' if !in_str && i + 3 < b.len() && b[i + 1] == b'\\' && b[i + 3] == b'\'' => i += 3,
            b'/' if !in_str && b.get(i + 1) == Some(&b'/') => {
                return (&line[..i], Some(&line[i..]));
            }
            _ => {}
        }
        i += 1;
    }
    (line, None)
}

/// The text of a comment without its `//`, `///` or `//!` and one following space.
fn comment_text(comment: &str) -> &str {
    let t = comment.trim_start_matches('/');
    let t = t.strip_prefix('!').unwrap_or(t);
    t.strip_prefix(' ').unwrap_or(t)
}

/// A unit of prose: text with the line number of each byte's line, and whether it is a
/// markdown table cell whose column is headed as a test column.
struct Paragraph {
    text: String,
    /// `(byte offset in text, line number)`, increasing: the line of offset `o` is that of the
    /// last entry at or before `o`.
    lines: Vec<(usize, usize)>,
    test_column: bool,
}

impl Paragraph {
    fn line_of(&self, offset: usize) -> usize {
        let i = self.lines.partition_point(|&(o, _)| o <= offset);
        self.lines[i.saturating_sub(1)].1
    }
}

/// Accumulates lines into paragraphs.
#[derive(Default)]
struct Paragraphs {
    done: Vec<Paragraph>,
    current: Option<Paragraph>,
}

impl Paragraphs {
    fn push_line(&mut self, no: usize, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            self.end();
            return;
        }
        let p = self.current.get_or_insert_with(|| Paragraph {
            text: String::new(),
            lines: Vec::new(),
            test_column: false,
        });
        if !p.text.is_empty() {
            p.text.push(' ');
        }
        p.lines.push((p.text.len(), no));
        p.text.push_str(text);
    }

    fn end(&mut self) {
        if let Some(p) = self.current.take() {
            self.done.push(p);
        }
    }

    fn push_cell(&mut self, no: usize, text: &str, test_column: bool) {
        self.end();
        self.done.push(Paragraph {
            text: text.trim().to_string(),
            lines: vec![(0, no)],
            test_column,
        });
    }
}

/// The cells of a markdown table row (`|` inside backticks does not split).
fn cells(row: &str) -> Vec<&str> {
    let row = row.trim().trim_start_matches('|');
    let row = row.strip_suffix('|').unwrap_or(row);
    let mut out = Vec::new();
    let (mut start, mut tick) = (0, false);
    for (i, ch) in row.char_indices() {
        match ch {
            '`' => tick = !tick,
            '|' if !tick && !row[..i].ends_with('\\') => {
                out.push(row[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(row[start..].trim());
    out
}

fn is_test_header(cell: &str) -> bool {
    let c = cell.trim().to_lowercase();
    ["test", "tests", "checked by", "measured in"].contains(&c.as_str())
}

/// The prose of a file outside code blocks: the comments of a `.rs` file, the text of a
/// `.md` file; table cells of markdown are paragraphs of their own.
fn prose(path: &str, text: &str) -> Vec<Paragraph> {
    let mut out = Paragraphs::default();
    let mut fence = false;
    let mut header: Option<Vec<bool>> = None;
    let rust = path.ends_with(".rs");
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let line = if rust {
            match split_comment(raw).1 {
                Some(c) => comment_text(c),
                None => {
                    out.push_line(no, "");
                    continue;
                }
            }
        } else {
            raw
        };
        if line.trim_start().starts_with("```") {
            fence = !fence;
            out.push_line(no, "");
            continue;
        }
        if fence {
            continue;
        }
        if !rust && line.trim_start().starts_with('|') {
            let cs = cells(line);
            match &header {
                None => header = Some(cs.iter().map(|c| is_test_header(c)).collect()),
                Some(h) => {
                    let separator = cs
                        .iter()
                        .all(|c| c.trim().chars().all(|ch| matches!(ch, '-' | ':')));
                    if !separator {
                        for (k, c) in cs.iter().enumerate() {
                            out.push_cell(no, c, h.get(k).copied().unwrap_or(false));
                        }
                    }
                }
            }
            continue;
        }
        header = None;
        out.push_line(no, line);
    }
    out.end();
    out.done
}

/// A sentence of a paragraph: `[start, end)` byte offsets. Sentences end at `.` or `;`
/// followed by whitespace or the end, outside backticks and `$…$`.
fn sentences(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let (mut out, mut start, mut tick, mut math) = (Vec::new(), 0, false, false);
    for i in 0..b.len() {
        match b[i] {
            b'`' => tick = !tick,
            b'$' if !tick => math = !math,
            b'.' | b';'
                if !tick && !math && b.get(i + 1).is_none_or(|c| c.is_ascii_whitespace()) =>
            {
                out.push((start, i + 1));
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < b.len() {
        out.push((start, b.len()));
    }
    out
}

/// Backticked spans of `s`: `(offset of the content, content)`.
fn backticked(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut open = None;
    for (i, ch) in s.char_indices() {
        if ch == '`' {
            match open.take() {
                None => open = Some(i + 1),
                Some(o) => out.push((o, &s[o..i])),
            }
        }
    }
    out
}

fn is_ident(s: &str) -> bool {
    let mut ch = s.chars();
    ch.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && ch.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A snake_case name: an identifier with an underscore and a lowercase letter.
fn is_snake(s: &str) -> bool {
    is_ident(s) && s.contains('_') && s.chars().any(|c| c.is_ascii_lowercase())
}

/// A one-letter name with a subscript, `m_k` or `N_in`: mathematics, not code.
fn is_subscript(s: &str) -> bool {
    s.split('_').count() == 2 && s.split('_').next().is_some_and(|h| h.chars().count() == 1)
}

/// Whether the text contains `word` as a word (not part of an identifier or a path).
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '/')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '/')
    })
}

/// Whether the sentence says, before a backticked name, that the name is a test. Backticked
/// code (a path `tests/…`) and parentheses closed before the name ("a reader (for tests) of
/// `float64`") do not count.
fn says_test(before: &str) -> bool {
    let mut prose = String::new();
    let mut open = Vec::new();
    for (k, part) in before.split('`').enumerate() {
        if k % 2 == 1 {
            prose.push(' ');
            continue;
        }
        for ch in part.chars() {
            match ch {
                '(' => open.push(prose.len()),
                ')' => {
                    if let Some(o) = open.pop() {
                        prose.truncate(o);
                    }
                }
                _ => prose.push(ch),
            }
        }
    }
    let t = prose.to_lowercase();
    ["checked by", "tested by", "test", "tests", "proptest"]
        .iter()
        .any(|w| has_word(&t, w))
}

const PATH_ROOTS: [&str; 6] = [
    "src/",
    "tests/",
    "examples/",
    "benches/",
    "docs/",
    "theory/",
];

/// Paths cited in `s` (backticked or not): `(offset, path)`, with trailing punctuation and any
/// `::item` suffix removed.
fn paths_in(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    for root in PATH_ROOTS {
        for (i, _) in s.match_indices(root) {
            let before = s[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || "/._-".contains(c)) {
                continue;
            }
            let len = s[i..]
                .find(|c: char| !(c.is_alphanumeric() || "/._-*…".contains(c)))
                .unwrap_or(s.len() - i);
            let p = s[i..i + len].trim_end_matches(['.', ',', '-']);
            out.push((i, p));
        }
    }
    out.sort();
    out
}

/// Whether a cited path exists (`theory/05` for a numbered page, `*` as a wildcard).
fn path_exists(repo: &Repo, p: &str) -> bool {
    let p = p.trim_end_matches('/');
    if p.contains('…') || repo.paths.contains(p) {
        return true;
    }
    if p.contains('*') {
        return repo.paths.iter().any(|q| wildcard(p, q));
    }
    // `theory/05`: a page by its number.
    let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_digit())
        && repo
            .paths
            .iter()
            .any(|q| q.starts_with(&format!("{dir}/{name}-")))
}

/// `*` matches any run of characters (`/` included).
fn wildcard(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// What exists: tests, identifiers, labels
// ---------------------------------------------------------------------------------------------

/// Test functions: name → files defining it (`#[test]` then, past attributes and comments,
/// `fn name`; `proptest!` tests are written the same way).
fn tests_defined(repo: &Repo) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in &repo.files {
        if !path.ends_with(".rs") {
            continue;
        }
        let mut armed = false;
        for line in text.lines() {
            let code = split_comment(line).0.trim();
            if code.starts_with("#[test]") {
                armed = true;
            }
            if armed && let Some(i) = code.find("fn ") {
                let name: String = code[i + 3..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.entry(name).or_default().insert(path.clone());
                armed = false;
            }
        }
    }
    out
}

/// Every identifier in the code (outside comments) of the `.rs` files and in the `.py`
/// files, and the names of the `.rs` files (examples, benches and test targets).
fn code_words(repo: &Repo) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, text) in &repo.files {
        let rust = path.ends_with(".rs");
        if !(rust || path.ends_with(".py")) {
            continue;
        }
        if let Some(stem) = path.rsplit('/').next().and_then(|f| f.strip_suffix(".rs")) {
            out.insert(stem.to_string());
        }
        for line in text.lines() {
            let code = if rust { split_comment(line).0 } else { line };
            for w in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if is_snake(w) {
                    out.insert(w.to_string());
                }
            }
        }
    }
    out
}

/// A label at the start of `s`: `(prefix, number, bytes used)`, e.g. `SV.10` →
/// `("SV", 10, 5)`. The prefix is an uppercase letter and at most two more letters.
fn label_at(s: &str) -> Option<(&str, u32, usize)> {
    let b = s.as_bytes();
    if !b.first()?.is_ascii_uppercase() {
        return None;
    }
    let letters = 1 + b[1..]
        .iter()
        .take(2)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    if b.get(letters) != Some(&b'.') {
        return None;
    }
    let digits = b[letters + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 || digits > 3 {
        return None;
    }
    let end = letters + 1 + digits;
    if b.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((&s[..letters], s[letters + 1..end].parse().ok()?, end))
}

/// Labels in `s` at word starts: `(offset, label)`, a range `X.a–X.b` or `X.a–b` expanded
/// to every label in it.
fn labels_in(s: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let word_start = s[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        if word_start && let Some((prefix, a, used)) = label_at(&s[i..]) {
            let mut end = a;
            let rest = &s[i + used..];
            if let Some(r) = rest.strip_prefix('–').or_else(|| rest.strip_prefix('-')) {
                let r = r
                    .strip_prefix(prefix)
                    .and_then(|r| r.strip_prefix('.'))
                    .unwrap_or(r);
                let n: String = r.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(b) = n.parse::<u32>()
                    && b > a
                    && b - a <= 30
                {
                    end = b;
                }
            }
            for k in a..=end {
                out.push((i, format!("{prefix}.{k}")));
            }
            i += used;
            continue;
        }
        i += s[i..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// Labels defined in `theory/*.md`: in `\text{(…)}` / `\tag{…}`, in headings, in bold.
fn labels_defined(repo: &Repo) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add_all = |s: &str| {
        for (_, l) in labels_in(s) {
            out.insert(l);
        }
    };
    for (path, text) in &repo.files {
        if !(path.starts_with("theory/") && path.ends_with(".md")) {
            continue;
        }
        for open in ["\\text{(", "\\tag{"] {
            for (i, _) in text.match_indices(open) {
                let body = &text[i + open.len()..];
                add_all(&body[..body.find('}').unwrap_or(0)]);
            }
        }
        for line in text.lines() {
            if line.starts_with('#') {
                add_all(line);
            }
            let mut bold = line.split("**");
            bold.next();
            for (k, part) in bold.enumerate() {
                if k % 2 == 0 {
                    add_all(part);
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

/// How many citations of each kind were checked, and the dangling ones.
#[derive(Debug, Default)]
struct Report {
    problems: Vec<Problem>,
    tests: usize,
    identifiers: usize,
    paths: usize,
    labels: usize,
}

fn check(repo: &Repo) -> Report {
    let mut counts = Report::default();
    let tests = tests_defined(repo);
    let words = code_words(repo);
    let labels = labels_defined(repo);
    let prefixes: BTreeSet<&str> = labels.iter().filter_map(|l| l.split('.').next()).collect();
    let mut problems = BTreeSet::new();
    let mut report = |file: &str, line: usize, message: String| {
        problems.insert(Problem {
            file: file.to_string(),
            line,
            message,
        });
    };
    for (path, text) in repo.scanned() {
        for para in prose(path, text) {
            for (start, end) in sentences(&para.text) {
                let s = &para.text[start..end];
                let line = |o: usize| para.line_of(start + o);
                // Paths.
                let cited_rs: Vec<&str> = paths_in(s)
                    .into_iter()
                    .map(|(o, p)| {
                        counts.paths += 1;
                        if !path_exists(repo, p) {
                            report(path, line(o), format!("`{p}` does not exist"));
                        }
                        p
                    })
                    .filter(|p| {
                        p.ends_with(".rs") && (p.starts_with("tests/") || p.starts_with("src/"))
                    })
                    .collect();
                // Test names and identifiers.
                for (o, tok) in backticked(s) {
                    // [`name`] is an intra-doc link, which rustdoc checks.
                    if s[..o - 1].ends_with('[') {
                        continue;
                    }
                    let (name, files): (&str, Vec<&str>) = match tok.split_once(".rs::") {
                        Some((file, name)) if is_ident(name) => {
                            (name, vec![&tok[..file.len() + 3]])
                        }
                        _ if is_ident(tok) => (tok, cited_rs.clone()),
                        _ => continue,
                    };
                    // "`name` in `tests/x.rs`", "`name` (`tests/x.rs`)".
                    let after = s[o + tok.len() + 1..].trim_start();
                    let file_follows = ["in ", "("].iter().any(|p| {
                        after
                            .strip_prefix(p)
                            .is_some_and(|r| r.strip_prefix('`').unwrap_or(r).starts_with("tests/"))
                    });
                    let as_test = tok.contains(".rs::")
                        || para.test_column
                        || file_follows
                        || says_test(&s[..o]);
                    if as_test {
                        counts.tests += 1;
                        match tests.get(name) {
                            None => report(
                                path,
                                line(o),
                                format!(
                                    "`{name}` is cited as a test, but no #[test] fn {name} exists"
                                ),
                            ),
                            Some(defined)
                                if !files.is_empty()
                                    && !files.iter().any(|f| defined.contains(*f)) =>
                            {
                                report(
                                    path,
                                    line(o),
                                    format!(
                                        "test `{name}` is cited with {}, but it is defined in {}",
                                        files.join(", "),
                                        defined.iter().cloned().collect::<Vec<_>>().join(", ")
                                    ),
                                )
                            }
                            Some(_) => {}
                        }
                    } else if is_snake(name) && !is_subscript(name) {
                        counts.identifiers += 1;
                        if words.contains(name) {
                            continue;
                        }
                        report(
                            path,
                            line(o),
                            format!(
                                "`{name}` is not an identifier of the code (a renamed test \
                                 or function?)"
                            ),
                        );
                    }
                }
            }
        }
        // Equation labels, everywhere in the file.
        for (i, l) in text.lines().enumerate() {
            for (_, label) in labels_in(l) {
                let prefix = label.split('.').next().unwrap_or("");
                if !prefixes.contains(prefix) {
                    continue;
                }
                counts.labels += 1;
                if !labels.contains(&label) {
                    report(
                        path,
                        i + 1,
                        format!("equation ({label}) is not defined in theory/*.md"),
                    );
                }
            }
        }
    }
    counts.problems = problems.into_iter().collect();
    counts
}

#[test]
fn every_citation_exists() {
    let repo = Repo::load(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        repo.files.len() > 50,
        "only {} files scanned: is the tree there?",
        repo.files.len()
    );
    let r = check(&repo);
    let problems = r.problems;
    let list: Vec<String> = problems
        .iter()
        .map(|p| format!("{}:{}: {}", p.file, p.line, p.message))
        .collect();
    assert!(
        problems.is_empty(),
        "{} dangling citation(s):\n{}",
        problems.len(),
        list.join("\n")
    );
    // A scanner that silently stopped finding citations would pass the check above. The tree
    // had 73 test citations, 224 other identifiers, 285 paths and 460 equation labels when
    // this test was written; the floors are about half of that.
    println!(
        "checked {} test citations, {} identifiers, {} paths, {} equation labels",
        r.tests, r.identifiers, r.paths, r.labels
    );
    assert!(
        r.tests >= 35 && r.identifiers >= 110 && r.paths >= 140 && r.labels >= 230,
        "too few citations found: {} tests, {} identifiers, {} paths, {} labels",
        r.tests,
        r.identifiers,
        r.paths,
        r.labels
    );
}

#[cfg(test)]
mod checker {
    use super::*;

    /// A small tree: one test file, one source file, one theory page.
    fn tree(extra: &[(&str, &str)]) -> Repo {
        let mut files = vec![
            (
                "tests/alpha.rs",
                "#[test]\nfn alpha_works() {}\n\n\
                 proptest! {\n    #[test]\n    fn alpha_holds(x in 0..1) {}\n}\n",
            ),
            (
                "src/lib.rs",
                "fn helper_fn() {}\n\
                 #[cfg(test)]\nmod tests {\n    #[test]\n    fn unit_case() {}\n}\n",
            ),
            (
                "theory/01-a.md",
                "# A\n\n$$ x = 1 \\qquad\\text{(A.1, A.2)} $$\n\n## Part (A.3)\n\n\
                 **Lead (A.4).** and **(A.5)** here.\n",
            ),
        ];
        files.extend_from_slice(extra);
        Repo::from_files(&files)
    }

    fn messages(extra: &[(&str, &str)]) -> Vec<String> {
        check(&tree(extra))
            .problems
            .into_iter()
            .map(|p| format!("{}:{}: {}", p.file, p.line, p.message))
            .collect()
    }

    #[test]
    fn checker_accepts_valid_citations() {
        let doc = "Checked by `alpha_works` and the property test `alpha_holds` in\n\
                   `tests/alpha.rs`; see `tests/alpha.rs::alpha_works` and `unit_case` (unit\n\
                   test, `src/lib.rs`). The helper `helper_fn` is in `src/lib.rs`. Equations\n\
                   (A.1)–(A.5), (A.2), theory/01 and `theory/*.md`; a path elided as `src/…`\n\
                   is fine.\n\n\
                   | what | measured in |\n|---|---|\n| x | `alpha_works`, theory/01 (A.3) |\n";
        assert_eq!(messages(&[("docs/guide.md", doc)]), Vec::<String>::new());
        let rs = "/// Checked by `alpha_works` (`tests/alpha.rs`).\n\
                  fn f() { let s = \"// `nope_nope`\"; }\n";
        assert_eq!(messages(&[("src/f.rs", rs)]), Vec::<String>::new());
    }

    #[test]
    fn checker_reports_a_missing_test() {
        let m = messages(&[(
            "src/x.rs",
            "//! Checked by `exact_taylor_matches_jets` in\n//! `tests/alpha.rs`.\n",
        )]);
        assert_eq!(
            m,
            [
                "src/x.rs:1: `exact_taylor_matches_jets` is cited as a test, but no #[test] fn \
              exact_taylor_matches_jets exists"
            ]
        );
        // In a test column of a table, and as `file::name`, without trigger words.
        let m = messages(&[(
            "docs/a.md",
            "| what | measured in |\n|---|---|\n| x | `gone_away` |\n\n\
             See `tests/alpha.rs::vanished`.\n",
        )]);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains("`gone_away` is cited as a test") && m[0].starts_with("docs/a.md:3"));
        assert!(m[1].contains("`vanished` is cited as a test"));
        // A test cited with the wrong file; a helper cited as a test.
        let m = messages(&[(
            "docs/b.md",
            "Checked by `unit_case` in `tests/alpha.rs`. Tested by `helper_fn`.\n",
        )]);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m.iter().any(|x| x.contains(
            "test `unit_case` is cited with tests/alpha.rs, but it is defined in src/lib.rs"
        )));
        assert!(
            m.iter()
                .any(|x| x.contains("`helper_fn` is cited as a test"))
        );
    }

    #[test]
    fn checker_reports_an_unknown_identifier() {
        let m = messages(&[("docs/c.md", "The function `renamed_helper` computes it.\n")]);
        assert_eq!(
            m,
            [
                "docs/c.md:1: `renamed_helper` is not an identifier of the code (a renamed test or \
              function?)"
            ]
        );
    }

    #[test]
    fn checker_reports_a_missing_path() {
        let m = messages(&[(
            "README.md",
            "Run `examples/missing.rs`, read theory/09 and docs/none.md.\n",
        )]);
        assert_eq!(m.len(), 3, "{m:?}");
        for p in ["examples/missing.rs", "theory/09", "docs/none.md"] {
            assert!(
                m.iter()
                    .any(|x| x.contains(&format!("`{p}` does not exist"))),
                "{p}: {m:?}"
            );
        }
    }

    #[test]
    fn checker_reports_an_undefined_label() {
        let m = messages(&[
            (
                "src/y.rs",
                "/// By (A.6); the range (A.4–A.7).\nconst S: &str = \"(A.9)\";\n",
            ),
            (
                "theory/02-b.md",
                "Cites (A.2) and (A.3) but also (A.10). Not a label: Q.5 B.1x.\n",
            ),
        ]);
        let want = [
            "src/y.rs:1: equation (A.6) is not defined in theory/*.md",
            "src/y.rs:1: equation (A.7) is not defined in theory/*.md",
            "src/y.rs:2: equation (A.9) is not defined in theory/*.md",
            "theory/02-b.md:1: equation (A.10) is not defined in theory/*.md",
        ];
        assert_eq!(m, want);
    }

    #[test]
    fn lexing() {
        assert_eq!(
            split_comment("let a = \"//x\"; // c"),
            ("let a = \"//x\"; ", Some("// c"))
        );
        assert_eq!(split_comment("let c = '/'; // d").1, Some("// d"));
        assert_eq!(comment_text("//! text"), "text");
        assert_eq!(
            sentences("A `x.y` b. C $a. b$ d; e"),
            [(0, 10), (10, 22), (22, 24)]
        );
        assert_eq!(label_at("SV.10)"), Some(("SV", 10, 5)));
        assert_eq!(label_at("e.g."), None);
        assert_eq!(label_at("Sim.5a"), None);
        let l: Vec<String> = labels_in("(SV.10–11), (V.1)–(V.2), xSV.3")
            .into_iter()
            .map(|x| x.1)
            .collect();
        assert_eq!(l, ["SV.10", "SV.11", "V.1", "V.2"]);
        assert!(wildcard("theory/*.md", "theory/01-a.md") && !wildcard("theory/*.md", "docs/a.md"));
        assert_eq!(cells("| a | `x|y` | b |"), ["a", "`x|y`", "b"]);
    }
}
