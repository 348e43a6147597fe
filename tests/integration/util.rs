use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../common/inputs.rs"]
mod inputs;
#[allow(unused_imports)]
pub use inputs::{require, require_program, shared};

pub fn tang(dance: &str) -> Option<PathBuf> {
    shared(&format!("data/tang2018/{dance}"))
}

/// Runs the choreo binary with `args` in `dir`.
pub fn choreo(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_choreo")).args(args).current_dir(dir).output().expect("run choreo")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A failed run: exit 1, no panic, and the error is one line — the last on stderr, the only one
/// starting `choreo: ` (progress lines may come before it) — naming `name`.
pub fn assert_one_line_error(o: &Output, name: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {e}");
    assert!(!e.contains("panicked"), "panic: {e}");
    let errors: Vec<&str> = e.lines().filter(|l| l.starts_with("choreo: ") && !l.starts_with("choreo: warning")).collect();
    assert_eq!(errors.len(), 1, "one error line expected: {e}");
    assert_eq!(e.trim_end().lines().last(), Some(errors[0]), "the error comes last: {e}");
    assert!(errors[0].contains(name), "error should name {name}: {e}");
}

/// Writes `secs` of 16-bit mono PCM wav made by `f(t)`.
pub fn write_wav(path: &Path, sr: u32, secs: f64, f: impl Fn(f64) -> f64) {
    std::fs::write(path, wav_bytes(sr, secs, f)).unwrap();
}

/// `secs` of 16-bit mono PCM wav made by `f(t)` (in -1..1), as bytes.
pub fn wav_bytes(sr: u32, secs: f64, f: impl Fn(f64) -> f64) -> Vec<u8> {
    let n = (sr as f64 * secs) as usize;
    let mut data = Vec::with_capacity(n * 2);
    for i in 0..n {
        let v = (f(i as f64 / sr as f64).clamp(-1.0, 1.0) * 32767.0) as i16;
        data.extend_from_slice(&v.to_le_bytes());
    }
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&sr.to_le_bytes());
    b.extend_from_slice(&(sr * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    b
}
