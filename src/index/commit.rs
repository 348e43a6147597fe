//! Writing an index folder so that a crash at any moment leaves the old index or the new one,
//! never none and never a mix (after tantivy's `meta.json` swap):
//!
//! 1. the new files go into `.gen-N.tmp-PID/` inside the index folder, are synced, and the
//!    folder is renamed to `gen-N` (N one above every generation there);
//! 2. the new `manifest.json`, naming `gen-N`, is written to `.manifest.json.tmp-PID`, synced and
//!    renamed over `manifest.json`: that rename is the commit;
//! 3. the previous generation (and a version-1 index's files) are removed.
//!
//! One writer at a time holds `.lock` (its PID inside). Each run first removes what dead runs
//! left: temp folders and files whose PID is no longer running, a dead writer's lock, and
//! generations the manifest does not name. Only names of this layout are ever removed; a folder
//! holding anything else is refused unless forced, and then written beside those files.

use std::path::{Path, PathBuf};

use super::manifest::{generation_seq, plain_name, MANIFEST};
use super::IndexError;

const LOCK: &str = ".lock";

fn io(path: &Path) -> impl Fn(std::io::Error) -> IndexError + '_ {
    move |e| IndexError::Io { path: path.into(), source: e }
}

/// A test failpoint: with the `failpoints` feature, the process aborts (as if killed) at the point
/// named by the environment variable `CHOREO_FAILPOINT`. Without the feature it is nothing.
#[cfg(feature = "failpoints")]
pub(crate) fn failpoint(name: &str) {
    if std::env::var("CHOREO_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn failpoint(_: &str) {}

/// Whether process `pid` is running (on Linux, by /proc; elsewhere every process counts as
/// running, so nothing of another process is removed).
fn alive(pid: u32) -> bool {
    pid == std::process::id() || !Path::new("/proc/self").exists() || Path::new("/proc").join(pid.to_string()).exists()
}

/// The PID at the end of a temp name `PREFIX.tmp-PID` / `PREFIX-PID`.
fn pid_after(name: &str, sep: &str) -> Option<u32> {
    let (_, pid) = name.rsplit_once(sep)?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// What an entry of an index folder is, by its name.
#[derive(Debug, PartialEq)]
enum Entry {
    Manifest,
    Lock,
    Generation(u64),
    /// A temp folder or file of process PID (with the generation number for folders).
    Temp { pid: u32, seq: Option<u64> },
    Other,
}

fn classify(name: &str) -> Entry {
    if name == MANIFEST {
        return Entry::Manifest;
    }
    if name == LOCK {
        return Entry::Lock;
    }
    if let Some(seq) = generation_seq(name) {
        return Entry::Generation(seq);
    }
    if let Some(rest) = name.strip_prefix('.') {
        if let (Some(pid), Some((stem, _))) = (pid_after(rest, ".tmp-"), rest.rsplit_once(".tmp-")) {
            if stem == MANIFEST {
                return Entry::Temp { pid, seq: None };
            }
            if let Some(seq) = generation_seq(stem) {
                return Entry::Temp { pid, seq: Some(seq) };
            }
        }
    }
    Entry::Other
}

fn entries(dir: &Path) -> Result<Vec<(String, Entry)>, IndexError> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let name = e.map_err(io(dir))?.file_name().to_string_lossy().into_owned();
        let kind = classify(&name);
        v.push((name, kind));
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

/// The manifest found in an index folder, as far as the writer needs it.
struct Previous {
    generation: Option<String>,
    /// A format-version-1 index's files (top level), removed once the new version is committed.
    legacy: Vec<String>,
}

/// Reads `dir/manifest.json` if there is one; an error if it is not choreo's.
fn previous(dir: &Path) -> Result<Option<Previous>, IndexError> {
    let mp = dir.join(MANIFEST);
    if !mp.exists() {
        return Ok(None);
    }
    let foreign = || IndexError::Invalid(format!("{}: not a choreo index manifest; not replaced (move it away first)", mp.display()));
    let len = std::fs::metadata(&mp).map_err(io(&mp))?.len();
    if len > 64 << 20 {
        return Err(foreign());
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&mp).map_err(io(&mp))?).map_err(|_| foreign())?;
    if !v.get("created_by").and_then(|c| c.as_str()).is_some_and(|c| c.starts_with("choreo")) {
        return Err(foreign());
    }
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).filter(|x| plain_name(x)).map(str::to_string);
    let generation = s("/generation").filter(|g| generation_seq(g).is_some());
    let mut legacy = Vec::new();
    if v.get("format_version").and_then(|x| x.as_u64()) == Some(1) {
        legacy.extend(s("/store_file"));
        if let Some(b) = s("/hnsw/basename") {
            legacy.push(format!("{b}.hnsw.graph"));
            legacy.push(format!("{b}.hnsw.data"));
        }
    }
    Ok(Some(Previous { generation, legacy }))
}

/// `.lock` held while writing; removed on drop.
struct Lock(PathBuf);

impl Lock {
    fn take(dir: &Path) -> Result<Lock, IndexError> {
        let p = dir.join(LOCK);
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&p) {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(std::process::id().to_string().as_bytes()).map_err(io(&p))?;
                    return Ok(Lock(p));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&p).ok().and_then(|s| s.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if alive(pid) && pid != std::process::id() => {
                            return Err(IndexError::Invalid(format!("{}: another choreo process (pid {pid}) is writing this index", dir.display())));
                        }
                        // A dead writer's lock (or one it had not filled in yet): take it over.
                        _ => std::fs::remove_file(&p).map_err(io(&p))?,
                    }
                }
                Err(e) => return Err(IndexError::Io { path: p, source: e }),
            }
        }
        Err(IndexError::Invalid(format!("{}: another choreo process is writing this index", dir.display())))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn remove(path: &Path) {
    let _ = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
}

fn sync_dir(dir: &Path) -> Result<(), IndexError> {
    std::fs::File::open(dir).and_then(|f| f.sync_all()).map_err(io(dir))
}

/// Removes the temp folders `.NAME.building-PID` / `.NAME.old-PID` that versions before the
/// generation layout left beside the index when killed, if their process is gone.
fn clean_legacy_siblings(parent: &Path, name: &str) {
    let Ok(rd) = std::fs::read_dir(parent) else { return };
    for e in rd.flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        for kind in [".building-", ".old-"] {
            let prefix = format!(".{name}{kind}");
            if let Some(pid) = f.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) {
                if !alive(pid) {
                    remove(&e.path());
                }
            }
        }
    }
}

/// Checks that `out` may be written: missing, an empty folder, a choreo index, or a folder of
/// this layout's leftovers; a folder with other files only when `force` (they are left in
/// place). Writes nothing.
pub(crate) fn check_output(out: &Path, force: bool) -> Result<(), IndexError> {
    match std::fs::metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(IndexError::Io { path: out.into(), source: e }),
        Ok(m) if !m.is_dir() => return Err(IndexError::Invalid(format!("{}: not a folder; an index is a folder", out.display()))),
        Ok(_) => {}
    }
    let known = previous(out)?.is_some();
    if !known && !force {
        if let Some((name, _)) = entries(out)?.into_iter().find(|(_, k)| *k == Entry::Other) {
            return Err(IndexError::Invalid(format!(
                "{}: a folder that is not a choreo index and holds other files (e.g. {name}); nothing written (choose a new or empty folder, or force writing beside them)",
                out.display()
            )));
        }
    }
    Ok(())
}

/// Removes what dead runs left in `out` and every generation but `keep` (and below `below`, if
/// given, only those numbered lower).
fn clean(out: &Path, keep: Option<&str>, below: Option<u64>) -> Result<(), IndexError> {
    for (name, kind) in entries(out)? {
        let stale = match kind {
            Entry::Temp { pid, .. } => !alive(pid),
            Entry::Generation(seq) => Some(name.as_str()) != keep && below.is_none_or(|b| seq < b),
            _ => false,
        };
        if stale {
            remove(&out.join(name));
        }
    }
    Ok(())
}

/// Writes `files` as a new generation of the index at `out` and commits it with the manifest
/// `manifest_for(generation name)` returns. See the module documentation.
pub(crate) fn commit(out: &Path, files: &[(&str, &[u8])], force: bool, manifest_for: impl FnOnce(&str) -> Result<Vec<u8>, IndexError>) -> Result<(), IndexError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out.file_name().ok_or_else(|| IndexError::Invalid(format!("{}: not a folder name", out.display())))?.to_string_lossy().into_owned();
    check_output(out, force)?;
    std::fs::create_dir_all(out).map_err(io(out))?;
    clean_legacy_siblings(&parent, &name);
    let _lock = Lock::take(out)?;
    let prev = previous(out)?;
    let current = prev.as_ref().and_then(|p| p.generation.clone());
    clean(out, current.as_deref(), None)?;
    let seq = 1 + entries(out)?
        .iter()
        .filter_map(|(_, k)| match k {
            Entry::Generation(s) | Entry::Temp { seq: Some(s), .. } => Some(*s),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let generation = format!("gen-{seq:06}");
    let tmp = out.join(format!(".{generation}.tmp-{}", std::process::id()));
    let written = (|| {
        std::fs::create_dir(&tmp).map_err(io(&tmp))?;
        for (file, bytes) in files {
            let p = tmp.join(file);
            let mut f = std::fs::File::create(&p).map_err(io(&p))?;
            std::io::Write::write_all(&mut f, bytes).and_then(|_| f.sync_all()).map_err(io(&p))?;
        }
        sync_dir(&tmp)?;
        failpoint("generation-written");
        std::fs::rename(&tmp, out.join(&generation)).map_err(io(out))?;
        sync_dir(out)
    })();
    if let Err(e) = written {
        remove(&tmp);
        return Err(e);
    }
    let mtmp = out.join(format!(".{MANIFEST}.tmp-{}", std::process::id()));
    let swapped = (|| {
        let json = manifest_for(&generation)?;
        let mut f = std::fs::File::create(&mtmp).map_err(io(&mtmp))?;
        std::io::Write::write_all(&mut f, &json).and_then(|_| f.sync_all()).map_err(io(&mtmp))?;
        failpoint("manifest-written");
        // The commit.
        std::fs::rename(&mtmp, out.join(MANIFEST)).map_err(io(out))?;
        sync_dir(out)
    })();
    if let Err(e) = swapped {
        remove(&mtmp);
        remove(&out.join(&generation));
        return Err(e);
    }
    failpoint("committed");
    clean(out, Some(&generation), Some(seq))?;
    for f in prev.map(|p| p.legacy).unwrap_or_default() {
        remove(&out.join(f));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified_strictly() {
        assert_eq!(classify("manifest.json"), Entry::Manifest);
        assert_eq!(classify("gen-000003"), Entry::Generation(3));
        assert_eq!(classify(".gen-000003.tmp-77"), Entry::Temp { pid: 77, seq: Some(3) });
        assert_eq!(classify(".manifest.json.tmp-9"), Entry::Temp { pid: 9, seq: None });
        for other in ["notes.txt", "gen-3x", ".gen-3.tmp-", ".gen-3.tmp-1a", ".x.tmp-5", "fragments.bin"] {
            assert_eq!(classify(other), Entry::Other, "{other}");
        }
    }

    fn commit_bytes(out: &Path, b: &[u8], force: bool) -> Result<(), IndexError> {
        commit(out, &[("data.bin", b)], force, |g| Ok(format!("{{\"created_by\": \"choreo test\", \"generation\": \"{g}\"}}").into_bytes()))
    }

    #[test]
    fn generations_replace_each_other_and_dead_leftovers_go() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("ix");
        commit_bytes(&out, b"one", false).unwrap();
        assert_eq!(std::fs::read(out.join("gen-000001/data.bin")).unwrap(), b"one");
        // Leftovers of a dead writer (a PID above the kernel's largest, 2^22).
        let dead = 4_194_305 + 7;
        std::fs::create_dir(out.join(format!(".gen-000005.tmp-{dead}"))).unwrap();
        std::fs::write(out.join(format!(".manifest.json.tmp-{dead}")), b"{}").unwrap();
        std::fs::write(out.join(".lock"), dead.to_string()).unwrap();
        std::fs::create_dir(t.path().join(format!(".ix.building-{dead}"))).unwrap();
        commit_bytes(&out, b"two", false).unwrap();
        let names: Vec<String> = entries(&out).unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(names, ["gen-000002", "manifest.json"]);
        assert!(std::fs::read_to_string(out.join("manifest.json")).unwrap().contains("gen-000002"));
        assert!(!t.path().join(format!(".ix.building-{dead}")).exists());
        // A live writer's lock is respected.
        std::fs::write(out.join(".lock"), "1").unwrap();
        assert!(commit_bytes(&out, b"three", false).unwrap_err().to_string().contains("pid 1"));
        std::fs::remove_file(out.join(".lock")).unwrap();
    }

    #[test]
    fn foreign_folders_and_files_are_not_replaced() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("mine");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("thesis.tex"), b"keep").unwrap();
        let e = commit_bytes(&out, b"x", false).unwrap_err().to_string();
        assert!(e.contains("mine") && e.contains("thesis.tex") && e.contains("nothing written"), "{e}");
        assert_eq!(entries(&out).unwrap().len(), 1);
        // Forced: written beside the user's file, which stays.
        commit_bytes(&out, b"x", true).unwrap();
        assert_eq!(std::fs::read(out.join("thesis.tex")).unwrap(), b"keep");
        // A manifest.json that is not choreo's is never replaced, forced or not.
        let other = t.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("manifest.json"), b"{\"name\": \"webapp\"}").unwrap();
        assert!(commit_bytes(&other, b"x", true).unwrap_err().to_string().contains("not a choreo index manifest"));
        // A file is not a folder.
        std::fs::write(t.path().join("f"), b"").unwrap();
        assert!(commit_bytes(&t.path().join("f"), b"x", true).unwrap_err().to_string().contains("not a folder"));
    }
}
