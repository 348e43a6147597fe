//! Inputs a test needs that the repository does not hold: `../shared` (data), `vendor/media`,
//! `vendor/three` and `index/default` (tools/setup.sh), and programs on PATH (chromium, also
//! installed by tools/setup.sh). A missing input never lets a test pass
//! quietly: under CI (the `CI` variable set, as `.ci/run` has it) the test fails; locally it is
//! skipped loudly and the skip is recorded in `target/skipped-tests.log`, which `tools/test.sh`
//! counts and prints at the end.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// `path` if it exists; otherwise fails under CI, or records a skip and returns None.
pub fn require(path: PathBuf, hint: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    missing(format!("{} not found ({hint})", path.display()));
    None
}

/// The program `name` found on PATH; otherwise fails under CI, or records a skip and returns None.
pub fn require_program(name: &str, hint: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        missing(format!("{name} not found on PATH ({hint})"));
    }
    found
}

/// A missing input: a panic under CI, else a loud skip recorded in target/skipped-tests.log.
fn missing(why: String) {
    if std::env::var_os("CI").is_some() {
        panic!("{why}: CI must have every test input");
    }
    let test = std::thread::current().name().unwrap_or("?").to_string();
    eprintln!("SKIPPED {test}: {why}");
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/skipped-tests.log");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
        let _ = writeln!(f, "{test}: {why}");
    }
}

/// A path under `../shared` (the project's data, beside the repository).
pub fn shared(sub: &str) -> Option<PathBuf> {
    require(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared").join(sub), "the shared data folder beside the repository")
}
