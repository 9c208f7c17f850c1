//! Safe output: where mfrnn may write, and how.
//!
//! The contract (the one of `cargo new`, `git clone`): mfrnn writes only where the user
//! pointed, and only into
//!
//! - a path that does not exist (its parent directory must exist: missing parents are
//!   refused, in every command, so that nothing but the output itself is ever created);
//! - an empty directory (directory outputs only);
//! - its own earlier output of the same kind, unmodified since it was written: a directory
//!   holding the marker file [`MARKER`] that lists every file mfrnn wrote there with its size
//!   and hash, or a single file whose signature line carries the hash of its contents.
//!
//! Anything else — a user's file, a non-empty directory, a device, a modified earlier output —
//! is refused with [`Error::OutputPath`] naming the flag, before any work starts. Nothing that
//! mfrnn did not create is renamed, moved or deleted.
//!
//! Writing is atomic per file: a directory output is staged in a hidden directory inside the
//! target (`.mfrnn-partial-<pid>`), and each finished file is renamed into place; a single file
//! is written to a hidden sibling and linked into place (which fails, rather than clobbers, if
//! something appeared there meanwhile). An error removes everything the run created; a killed
//! run leaves only its hidden staging area, which the next run into the same place removes.
//!
//! Checked by the tests in this module and `tests/output_safety.rs`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The marker file of a directory output: JSON naming the generator, the kind of output and
/// every file written (name, bytes, FNV-1a 64-bit hash).
pub const MARKER: &str = ".mfrnn-output";

/// Prefix of the staging directory inside a directory output (followed by the process id).
const STAGING_PREFIX: &str = ".mfrnn-partial-";

/// The file that marks a staging directory as ours: the output kind, then the writer's
/// program name.
const STAGING_MARKER: &str = ".mfrnn-partial";

/// The token that signs a single-file output: `mfrnn-output:<kind>:<16 hex digits>`.
const SIGNATURE: &str = "mfrnn-output:";

/// 64-bit FNV-1a: a cheap, stable hash to recognise unmodified earlier outputs (not a
/// cryptographic guarantee: it detects edits, not forgeries).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// An [`Error::OutputPath`] refusing `path` given by `flag`, for `reason`.
pub(crate) fn refuse(flag: &'static str, path: &Path, reason: impl Into<String>) -> Error {
    Error::OutputPath {
        flag,
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// An [`Error::Io`] on `path` while doing `what`.
pub(crate) fn io(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: format!("{what}: {e}"),
    }
}

/// The parent of `path` must be an existing directory.
fn check_parent(path: &Path, flag: &'static str) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => return Ok(()), // the root: its own parent
    };
    match fs::metadata(parent) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(refuse(
            flag,
            path,
            format!("its parent {} is not a directory", parent.display()),
        )),
        Err(_) => Err(refuse(
            flag,
            path,
            format!(
                "its parent directory {} does not exist (mfrnn does not create missing \
                 parents: create it first)",
                parent.display()
            ),
        )),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    name: String,
    bytes: u64,
    fnv1a64: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Marker {
    generator: String,
    kind: String,
    entries: Vec<Entry>,
}

fn entry_of(path: &Path, name: &str) -> Result<Entry> {
    let bytes = fs::read(path).map_err(|e| io(path, "reading", e))?;
    Ok(Entry {
        name: name.to_string(),
        bytes: bytes.len() as u64,
        fnv1a64: format!("{:016x}", fnv1a64(&bytes)),
    })
}

/// The name of this process as the kernel knows it (Linux), to tell a live writer from a
/// recycled process id.
fn own_comm() -> String {
    fs::read_to_string("/proc/self/comm")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Is a staging directory owned by a live process other than us? On Linux: its process id
/// exists, is not a zombie, and runs the same program name as the one that made it (a
/// recycled id runs something else). Elsewhere a staging directory is taken to be stale.
fn staging_is_live(dir: &Path, name: &str) -> bool {
    let Some(pid) = name.strip_prefix(STAGING_PREFIX) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if pid == std::process::id() || !Path::new("/proc/self").exists() {
        return false;
    }
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let Ok(status) = fs::read_to_string(proc_dir.join("status")) else {
        return false;
    };
    let zombie = status
        .lines()
        .find_map(|l| l.strip_prefix("State:"))
        .is_some_and(|st| matches!(st.trim().chars().next(), Some('Z' | 'X')));
    let comm = fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
    let recorded = fs::read_to_string(dir.join(STAGING_MARKER)).unwrap_or_default();
    let writer = recorded.lines().nth(1).unwrap_or("");
    !zombie && (writer.is_empty() || writer == comm.trim())
}

/// A directory output being written: stage files in [`OutputDir::staging`], then
/// [`OutputDir::commit`]. Dropping it uncommitted removes everything it created.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    kind: &'static str,
    previous: Option<Marker>,
    stale_staging: Vec<PathBuf>,
    created_target: bool,
    committed: bool,
}

impl OutputDir {
    /// Checks that `path` may receive a directory output of `kind` (`"report"`, `"weights"`,
    /// ...) and creates the staging area. Call it before any work, so that a refusal costs
    /// nothing. `flag` names the option the path came from (`out` for `--out`).
    ///
    /// # Errors
    /// [`Error::OutputPath`] when the path is an existing file or device, a non-empty directory
    /// that is not an unmodified mfrnn output of the same kind, or has a missing parent, or
    /// another mfrnn run is writing there; [`Error::Io`] when the staging area cannot be made.
    pub fn prepare(path: &Path, kind: &'static str, flag: &'static str) -> Result<OutputDir> {
        let Inspection {
            exists,
            previous,
            stale_staging,
        } = inspect(path, kind, flag)?;
        let created_target = !exists;
        if created_target {
            fs::create_dir(path).map_err(|e| io(path, "creating the directory", e))?;
        }
        let staging = path.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        let made = fs::create_dir(&staging).and_then(|_| {
            fs::write(
                staging.join(STAGING_MARKER),
                format!("{kind}\n{}\n", own_comm()),
            )
        });
        if let Err(e) = made {
            let _ = fs::remove_dir_all(&staging);
            if created_target {
                let _ = fs::remove_dir(path);
            }
            return Err(io(&staging, "creating the staging directory", e));
        }
        Ok(OutputDir {
            target: path.to_path_buf(),
            staging,
            kind,
            previous,
            stale_staging,
            created_target,
            committed: false,
        })
    }

    /// Where to write the output's files (a hidden directory inside the target).
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The final directory.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes the output file `name` (a plain file name, no directories) into the staging
    /// area; [`OutputDir::commit`] moves it into place.
    ///
    /// # Errors
    /// [`Error::Io`] when `name` is not a plain file name (or is reserved for the marker) or
    /// the file cannot be written.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
        let path = self.staging.join(name);
        let plain = Path::new(name).file_name().is_some_and(|f| f == name);
        if !plain || name == STAGING_MARKER || name == MARKER {
            return Err(Error::Io {
                path: path.display().to_string(),
                reason: "an output file needs a plain name of its own".into(),
            });
        }
        fs::write(&path, bytes).map_err(|e| io(&path, "writing", e))
    }

    /// Moves the staged files into the target, replacing the earlier output's files, and
    /// writes the marker. Each file is renamed into place (atomic per file); the marker lists
    /// old and new files until the move is complete, so an interruption still leaves a
    /// directory that the next run recognises as its own.
    ///
    /// # Errors
    /// [`Error::Io`]; the staging area is then removed.
    pub fn commit(mut self) -> Result<PathBuf> {
        let mut new = Vec::new();
        let listing = fs::read_dir(&self.staging).map_err(|e| io(&self.staging, "listing", e))?;
        for e in listing {
            let e = e.map_err(|e| io(&self.staging, "listing", e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name == STAGING_MARKER {
                continue;
            }
            let ft = e
                .file_type()
                .map_err(|err| io(&e.path(), "inspecting", err))?;
            if !ft.is_file() {
                return Err(Error::Io {
                    path: e.path().display().to_string(),
                    reason: "directory outputs hold plain files only".into(),
                });
            }
            new.push(entry_of(&e.path(), &name)?);
        }
        new.sort_by(|a, b| a.name.cmp(&b.name));
        let old = self.previous.take().map(|m| m.entries).unwrap_or_default();
        // While files move, the marker lists old and new contents, so that whatever state an
        // interruption leaves is recognised as our own by the next run.
        let mut union = old.clone();
        union.extend(new.iter().cloned());
        self.write_marker(&Marker {
            generator: generator(),
            kind: self.kind.to_string(),
            entries: union,
        })?;
        for o in &old {
            if !new.iter().any(|e| e.name == o.name) {
                let p = self.target.join(&o.name);
                fs::remove_file(&p)
                    .or_else(not_found_ok)
                    .map_err(|e| io(&p, "removing", e))?;
            }
        }
        for e in &new {
            let from = self.staging.join(&e.name);
            let to = self.target.join(&e.name);
            fs::rename(&from, &to).map_err(|err| io(&to, "moving into place", err))?;
        }
        self.write_marker(&Marker {
            generator: generator(),
            kind: self.kind.to_string(),
            entries: new,
        })?;
        fs::remove_dir_all(&self.staging).map_err(|e| io(&self.staging, "removing", e))?;
        for s in &self.stale_staging {
            let _ = fs::remove_dir_all(s);
        }
        self.committed = true;
        Ok(self.target.clone())
    }

    fn write_marker(&self, m: &Marker) -> Result<()> {
        let text = serde_json::to_string_pretty(m).expect("serialisable");
        let tmp = self.staging.join("marker.tmp");
        fs::write(&tmp, text).map_err(|e| io(&tmp, "writing", e))?;
        let to = self.target.join(MARKER);
        fs::rename(&tmp, &to).map_err(|e| io(&to, "writing", e))
    }
}

/// What [`OutputDir::prepare`] found at the target.
struct Inspection {
    exists: bool,
    previous: Option<Marker>,
    stale_staging: Vec<PathBuf>,
}

/// Checks, without creating anything, that `path` may receive a directory output of `kind`
/// (the rules of [`OutputDir::prepare`]). Commands call it before any work.
///
/// # Errors
/// As [`OutputDir::prepare`].
pub fn check_dir(path: &Path, kind: &'static str, flag: &'static str) -> Result<()> {
    inspect(path, kind, flag).map(|_| ())
}

fn inspect(path: &Path, kind: &'static str, flag: &'static str) -> Result<Inspection> {
    let mut previous = None;
    let mut stale_staging = Vec::new();
    match fs::metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if fs::symlink_metadata(path).is_ok() {
                return Err(refuse(flag, path, "is a dangling symbolic link"));
            }
            check_parent(path, flag)?;
            return Ok(Inspection {
                exists: false,
                previous,
                stale_staging,
            });
        }
        Err(e) => return Err(io(path, "inspecting", e)),
        Ok(m) if !m.is_dir() => {
            return Err(refuse(
                flag,
                path,
                if m.is_file() {
                    "is an existing file (mfrnn writes a directory here and never \
                         replaces a file it did not create: choose a new path)"
                } else {
                    "exists and is not a directory"
                },
            ));
        }
        Ok(_) => {
            let listing = fs::read_dir(path).map_err(|e| io(path, "listing", e))?;
            let mut names = Vec::new();
            for e in listing {
                let e = e.map_err(|e| io(path, "listing", e))?;
                names.push(e.file_name().to_string_lossy().into_owned());
            }
            if names.iter().any(|n| n == MARKER) {
                previous = Some(verify_marker(path, kind, flag, &names)?);
            } else {
                // Empty, or only the staging areas of earlier killed runs.
                let foreign: Vec<&String> = names
                    .iter()
                    .filter(|n| !is_staging(&path.join(n), n))
                    .collect();
                if !foreign.is_empty() {
                    return Err(refuse(
                        flag,
                        path,
                        format!(
                            "is a non-empty directory that mfrnn did not write (it holds {}); \
                                 mfrnn writes only into a new or empty directory or over its \
                                 own earlier {kind}",
                            list_names(&foreign)
                        ),
                    ));
                }
            }
            for n in &names {
                if is_staging(&path.join(n), n) {
                    if staging_is_live(&path.join(n), n) {
                        return Err(refuse(
                            flag,
                            path,
                            format!(
                                "another mfrnn run is writing there ({}); if none is, \
                                     remove that directory",
                                path.join(n).display()
                            ),
                        ));
                    }
                    stale_staging.push(path.join(n));
                }
            }
        }
    }
    Ok(Inspection {
        exists: true,
        previous,
        stale_staging,
    })
}

fn is_staging(path: &Path, name: &str) -> bool {
    name.starts_with(STAGING_PREFIX) && path.join(STAGING_MARKER).is_file()
}

fn verify_marker(
    path: &Path,
    kind: &'static str,
    flag: &'static str,
    names: &[String],
) -> Result<Marker> {
    let text = fs::read_to_string(path.join(MARKER)).map_err(|e| io(path, "reading", e))?;
    let marker: Marker = serde_json::from_str(&text).map_err(|_| {
        refuse(
            flag,
            path,
            format!("holds a {MARKER} file that mfrnn cannot read; not replacing it"),
        )
    })?;
    if marker.kind != kind {
        return Err(refuse(
            flag,
            path,
            format!(
                "holds an mfrnn {} output, not a {kind}; choose another path",
                marker.kind
            ),
        ));
    }
    // During a replacement the marker lists a name twice (old and new contents).
    let mut listed: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in &marker.entries {
        listed.entry(e.name.as_str()).or_default().push(e);
    }
    let mut foreign = Vec::new();
    let mut modified = Vec::new();
    for n in names {
        let p = path.join(n);
        if n == MARKER || is_staging(&p, n) {
            continue;
        }
        match listed.get(n.as_str()) {
            None => foreign.push(n),
            Some(es) => {
                let m = fs::symlink_metadata(&p).map_err(|e| io(&p, "inspecting", e))?;
                let ok = m.is_file() && {
                    let now = entry_of(&p, n)?;
                    es.iter()
                        .any(|e| e.bytes == now.bytes && e.fnv1a64 == now.fnv1a64)
                };
                if !ok {
                    modified.push(n);
                }
            }
        }
    }
    if !foreign.is_empty() {
        return Err(refuse(
            flag,
            path,
            format!(
                "holds an earlier mfrnn {kind} plus files mfrnn did not write ({}); \
                     move them out first",
                list_names(&foreign)
            ),
        ));
    }
    if !modified.is_empty() {
        return Err(refuse(
            flag,
            path,
            format!(
                "holds an earlier mfrnn {kind} whose files were changed since ({}); \
                     not replacing them",
                list_names(&modified)
            ),
        ));
    }
    Ok(marker)
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
            if self.created_target {
                // Only if nothing else appeared there.
                let _ = fs::remove_dir(&self.target);
            }
        }
    }
}

fn not_found_ok(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

fn list_names<S: AsRef<str>>(names: &[S]) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(3)
        .map(|n| format!("`{}`", n.as_ref()))
        .collect();
    if names.len() > 3 {
        shown.push(format!("and {} more", names.len() - 3));
    }
    shown.join(", ")
}

fn generator() -> String {
    format!("mfrnn {}", env!("CARGO_PKG_VERSION"))
}

/// The format of a single-file output, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `.svg`: signed by an XML comment on the first line.
    Svg,
    /// `.csv`: signed by a `#` comment on the first line (pandas: `comment="#"`; numpy's
    /// `loadtxt`/`genfromtxt` skip it by default).
    Csv,
    /// `.json`: signed by the first key, `"mfrnn_output"`.
    Json,
}

impl FileFormat {
    /// The format of `path` among `allowed`, from its extension (case-insensitive).
    ///
    /// # Errors
    /// [`Error::OutputPath`] naming `flag` when the extension is missing or not allowed.
    pub fn of(path: &Path, allowed: &[FileFormat], flag: &'static str) -> Result<FileFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let f = match ext.as_str() {
            "svg" => Some(FileFormat::Svg),
            "csv" => Some(FileFormat::Csv),
            "json" => Some(FileFormat::Json),
            _ => None,
        };
        match f {
            Some(f) if allowed.contains(&f) => Ok(f),
            _ => Err(refuse(
                flag,
                path,
                format!(
                    "the extension must be {} (it chooses what is written)",
                    allowed
                        .iter()
                        .map(|f| f.extension())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// `.svg`, `.csv` or `.json`.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Svg => ".svg",
            FileFormat::Csv => ".csv",
            FileFormat::Json => ".json",
        }
    }
}

/// Checks that `path` may receive a single-file output of `kind`: it does not exist (and its
/// parent directory does), or it is an unmodified earlier mfrnn output of the same kind. Call
/// it before any work.
///
/// # Errors
/// [`Error::OutputPath`] naming `flag`.
pub fn check_file(path: &Path, kind: &str, flag: &'static str) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => check_parent(path, flag),
        Err(e) => Err(io(path, "inspecting", e)),
        Ok(m) if m.is_dir() => Err(refuse(flag, path, "is a directory (give a file name)")),
        Ok(m) if !m.is_file() => Err(refuse(
            flag,
            path,
            "exists and is not a regular file (a device, socket or link); not writing there",
        )),
        Ok(_) => {
            let bytes = fs::read(path).map_err(|e| io(path, "reading", e))?;
            match signature_of(&bytes) {
                Some((k, _)) if k != kind => Err(refuse(
                    flag,
                    path,
                    format!("holds an mfrnn {k} output, not a {kind}; choose another path"),
                )),
                Some(_) if verify_signature(&bytes) => Ok(()),
                Some(_) => Err(refuse(
                    flag,
                    path,
                    "was written by mfrnn but has been changed since; not replacing it",
                )),
                None => Err(refuse(
                    flag,
                    path,
                    "is an existing file that mfrnn did not write; choose a new path",
                )),
            }
        }
    }
}

/// The placeholder signature, to be put where the format allows a comment (first line).
fn placeholder(kind: &str) -> String {
    format!("{SIGNATURE}{kind}:{:016x}", 0u64)
}

/// `(kind, hash)` of a signed output: the token in its first 512 bytes.
fn signature_of(bytes: &[u8]) -> Option<(String, usize)> {
    let head = &bytes[..bytes.len().min(512)];
    let text = std::str::from_utf8(head)
        .ok()
        .or_else(|| std::str::from_utf8(&head[..head.len().saturating_sub(3)]).ok())?;
    let at = text.find(SIGNATURE)?;
    let rest = &text[at + SIGNATURE.len()..];
    let colon = rest.find(':')?;
    let kind = &rest[..colon];
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let hex_at = at + SIGNATURE.len() + colon + 1;
    let hex = text.get(hex_at..hex_at + 16)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((kind.to_string(), hex_at))
}

fn verify_signature(bytes: &[u8]) -> bool {
    let Some((_, at)) = signature_of(bytes) else {
        return false;
    };
    let claimed = std::str::from_utf8(&bytes[at..at + 16])
        .ok()
        .and_then(|h| u64::from_str_radix(h, 16).ok());
    let mut zeroed = bytes.to_vec();
    zeroed[at..at + 16].copy_from_slice(b"0000000000000000");
    claimed == Some(fnv1a64(&zeroed))
}

/// The kind of a signed single-file output whose signature verifies (its bytes are unchanged
/// since mfrnn signed them), or `None`. Formats that append to a signed first line (the
/// trainability grid's JSON lines) verify that line alone.
pub fn verified_kind(bytes: &[u8]) -> Option<String> {
    verify_signature(bytes).then(|| signature_of(bytes).map(|(k, _)| k))?
}

/// Signs `body` for `format`: puts the signature where the format allows it and fills in the
/// hash of the whole file (computed with the hash digits zeroed).
pub fn sign(body: &str, kind: &str, format: FileFormat) -> Vec<u8> {
    let token = placeholder(kind);
    let text = match format {
        FileFormat::Svg => format!("<!-- {token} -->\n{body}"),
        FileFormat::Csv => format!("# {token}\n{body}"),
        FileFormat::Json => {
            let rest = body.trim_start();
            match rest.strip_prefix('{') {
                Some(inner) if inner.trim_start().starts_with('}') => {
                    format!("{{\"mfrnn_output\": \"{token}\"}}")
                }
                Some(inner) => format!("{{\"mfrnn_output\": \"{token}\",{inner}"),
                // Not an object: wrap it.
                None => format!("{{\"mfrnn_output\": \"{token}\", \"data\": {rest}}}"),
            }
        }
    };
    let mut bytes = text.into_bytes();
    let at = signature_of(&bytes).expect("just signed").1;
    let h = fnv1a64(&bytes);
    bytes[at..at + 16].copy_from_slice(format!("{h:016x}").as_bytes());
    bytes
}

/// Writes a single-file output atomically: to a hidden sibling, then into place — linked
/// (failing if something appeared at `path` meanwhile) when `path` is new, renamed over it
/// when it is an earlier output that [`check_file`] accepted. Call [`check_file`] first.
///
/// # Errors
/// [`Error::OutputPath`] if `path` appeared since the check; [`Error::Io`] otherwise. No
/// temporary file is left behind.
pub fn write_file(path: &Path, bytes: &[u8], flag: &'static str) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| refuse(flag, path, "has no file name"))?
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(".{name}.mfrnn-partial-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create_new(&tmp).map_err(|e| io(&tmp, "creating", e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, "writing", e))?;
        f.sync_all().map_err(|e| io(&tmp, "writing", e))?;
        drop(f);
        let existed = fs::symlink_metadata(path).is_ok();
        if existed {
            // check_file accepted it as our own earlier output.
            fs::rename(&tmp, path).map_err(|e| io(path, "moving into place", e))
        } else {
            match fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(refuse(
                    flag,
                    path,
                    "appeared while mfrnn was working; not replacing it",
                )),
                // File systems without hard links: a rename (a new path, checked just above).
                Err(_) => fs::rename(&tmp, path).map_err(|e| io(path, "moving into place", e)),
            }
        }
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Writes one file of a directory output into its staging area (the path must be new).
///
/// # Errors
/// [`Error::Io`].
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create_new(path).map_err(|e| io(path, "creating", e))?;
    f.write_all(bytes).map_err(|e| io(path, "writing", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mfrnn-output-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn fnv_matches_published_vectors() {
        // FNV-1a 64 test vectors (Fowler–Noll–Vo reference): "" and "a".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn signed_files_verify_and_edits_are_detected() {
        for (body, f) in [
            ("<svg></svg>\n", FileFormat::Svg),
            ("a,b\n1,2\n", FileFormat::Csv),
            ("{\n  \"x\": 1\n}", FileFormat::Json),
            ("{}", FileFormat::Json),
            ("[1, 2]", FileFormat::Json),
        ] {
            let s = sign(body, "phase", f);
            assert!(verify_signature(&s), "{body}");
            assert_eq!(signature_of(&s).unwrap().0, "phase");
            if f == FileFormat::Json {
                let v: serde_json::Value = serde_json::from_slice(&s).unwrap();
                assert!(v["mfrnn_output"].as_str().unwrap().starts_with(SIGNATURE));
            }
            let mut edited = s.clone();
            let last = edited.len() - 2;
            edited[last] ^= 1;
            assert!(!verify_signature(&edited), "{body}");
        }
        assert!(!verify_signature(b"plain text"));
    }

    #[test]
    fn directory_contract() {
        let d = scratch("dir");
        // A user's directory with a file is refused and untouched.
        let user = d.join("user");
        fs::create_dir(&user).unwrap();
        fs::write(user.join("notes.txt"), "mine").unwrap();
        let e = OutputDir::prepare(&user, "report", "out").unwrap_err();
        assert!(matches!(e, Error::OutputPath { flag: "out", .. }), "{e}");
        assert_eq!(fs::read_to_string(user.join("notes.txt")).unwrap(), "mine");
        assert_eq!(fs::read_dir(&user).unwrap().count(), 1);
        // A file is refused and untouched.
        let file = d.join("file");
        fs::write(&file, "data").unwrap();
        assert!(OutputDir::prepare(&file, "report", "out").is_err());
        assert_eq!(fs::read_to_string(&file).unwrap(), "data");
        // Missing parent: refused, nothing created.
        assert!(OutputDir::prepare(&d.join("no/such"), "report", "out").is_err());
        assert!(!d.join("no").exists());
        // New path: written; then replaced by a second run.
        let out = d.join("new");
        let o = OutputDir::prepare(&out, "report", "out").unwrap();
        fs::write(o.staging().join("a.txt"), "1").unwrap();
        o.write("b.txt", "2").unwrap();
        // Only plain names of our own files.
        for bad in ["../c.txt", "sub/c.txt", "", MARKER, STAGING_MARKER] {
            assert!(o.write(bad, "x").is_err(), "{bad}");
        }
        assert!(!d.join("c.txt").exists());
        o.commit().unwrap();
        let names = |p: &Path| {
            let mut v: Vec<String> = fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&out), [MARKER, "a.txt", "b.txt"]);
        let o = OutputDir::prepare(&out, "report", "out").unwrap();
        fs::write(o.staging().join("a.txt"), "3").unwrap();
        o.commit().unwrap();
        assert_eq!(names(&out), [MARKER, "a.txt"]);
        assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), "3");
        // Another kind is refused.
        assert!(OutputDir::prepare(&out, "weights", "out").is_err());
        // A user file added to our output: refused, nothing removed.
        fs::write(out.join("mine.txt"), "x").unwrap();
        assert!(OutputDir::prepare(&out, "report", "out").is_err());
        fs::remove_file(out.join("mine.txt")).unwrap();
        // A modified file of ours: refused.
        fs::write(out.join("a.txt"), "edited").unwrap();
        assert!(OutputDir::prepare(&out, "report", "out").is_err());
        assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), "edited");
        // Dropped uncommitted into a new path: nothing is left.
        let gone = d.join("gone");
        let o = OutputDir::prepare(&gone, "report", "out").unwrap();
        fs::write(o.staging().join("x"), "1").unwrap();
        drop(o);
        assert!(!gone.exists());
        // Empty directory: used, and kept when the run fails.
        let empty = d.join("empty");
        fs::create_dir(&empty).unwrap();
        drop(OutputDir::prepare(&empty, "report", "out").unwrap());
        assert!(empty.is_dir() && names(&empty).is_empty());
        // A killed run's staging area (stale pid) does not block the next run, which removes it.
        let stale = empty.join(format!("{STAGING_PREFIX}{}", u32::MAX - 7));
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join(STAGING_MARKER), "report\n").unwrap();
        let o = OutputDir::prepare(&empty, "report", "out").unwrap();
        fs::write(o.staging().join("r.txt"), "1").unwrap();
        o.commit().unwrap();
        assert_eq!(names(&empty), [MARKER, "r.txt"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn file_contract() {
        let d = scratch("file");
        let p = d.join("x.csv");
        check_file(&p, "phase", "out").unwrap();
        write_file(&p, &sign("a\n", "phase", FileFormat::Csv), "out").unwrap();
        check_file(&p, "phase", "out").unwrap();
        assert!(check_file(&p, "spectrum", "out").is_err());
        write_file(&p, &sign("b\n", "phase", FileFormat::Csv), "out").unwrap();
        assert!(fs::read_to_string(&p).unwrap().ends_with("\nb\n"));
        let user = d.join("user.csv");
        fs::write(&user, "mine").unwrap();
        assert!(check_file(&user, "phase", "out").is_err());
        assert!(check_file(&d, "phase", "out").is_err());
        assert!(check_file(&d.join("no/x.csv"), "phase", "out").is_err());
        // Nothing but the outputs is left (no temporaries).
        assert_eq!(fs::read_dir(&d).unwrap().count(), 2);
        assert!(
            FileFormat::of(Path::new("a.json"), &[FileFormat::Svg], "out").is_err()
                && FileFormat::of(Path::new("a.SVG"), &[FileFormat::Svg], "out").is_ok()
        );
        fs::remove_dir_all(&d).unwrap();
    }
}
