//! The `choreo` binary: parse flags (src/cli), call the library, print. Any failure is printed as
//! one line, `choreo: <error chain>`, with exit code 1; warnings go to stderr and keep exit 0.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("choreo: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}

/// The anyhow chain on one line (`a: b: c`), without repeating a cause already in its parent.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if out.contains(&s) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s);
    }
    out.replace('\n', " ")
}
