//! The shape of the crate: each stage folder under src/ may use only the stages before it, so
//! the arrows run one way (audio → pose → corpus → model → index → choreograph → align →
//! render, eval). The base modules (`io`, `runtime`, `units`) use no stage; no stage uses the
//! crate-wide `error` (each has its own error type; `error.rs` gathers them). `pipeline` and
//! `tune` sit above every stage. This test reads every `crate::` path in src/ and fails on an
//! arrow against that order.

use std::path::Path;

/// Rank of a top-level module; None for modules outside the order (checked separately).
fn rank(m: &str) -> Option<i32> {
    Some(match m {
        "io" | "runtime" | "units" => 0,
        "audio" => 1,
        "pose" => 2,
        "corpus" => 3,
        "model" => 4,
        "index" => 5,
        "choreograph" => 6,
        "align" => 7,
        "render" | "eval" => 8,
        "error" | "Error" | "Result" => 9,
        "pipeline" | "tune" => 10,
        _ => return None,
    })
}

/// Every `crate::NAME` mentioned in `text` (use lines and inline paths), comments skipped.
fn crate_refs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let tail = &rest[i + 7..];
            let name: String = tail.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if name.is_empty() && tail.starts_with('{') {
                // use crate::{a, b::c}: every first segment inside the braces.
                let inner = &tail[1..tail.find('}').unwrap_or(tail.len())];
                for part in inner.split(',') {
                    let first: String = part.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !first.is_empty() {
                        out.push((no + 1, first));
                    }
                }
            } else if !name.is_empty() {
                out.push((no + 1, name));
            }
            rest = tail;
        }
    }
    out
}

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn stages_depend_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    assert!(files.len() > 40, "src/ should hold the crate's files, found {}", files.len());
    let mut bad = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if matches!(top.as_str(), "cli" | "main" | "lib" | "error") {
            continue; // the binary, the crate root and the error aggregator may use everything
        }
        let from = rank(&top).unwrap_or_else(|| panic!("src/{}: a top-level module outside the stage order; add it to rank()", rel.display()));
        let text = std::fs::read_to_string(f).unwrap();
        for (line, name) in crate_refs(&text) {
            checked += 1;
            let Some(to) = rank(&name) else { continue };
            let same = name == top;
            // Within a rank, only the module itself (render and eval do not use each other).
            if !same && to >= from {
                bad.push(format!("src/{}:{line}: {top} uses crate::{name}", rel.display()));
            }
        }
    }
    assert!(checked > 50, "the scan found only {checked} crate:: paths");
    assert!(bad.is_empty(), "arrows against the stage order:\n{}", bad.join("\n"));
}

#[test]
fn the_scan_sees_braced_and_inline_paths() {
    let r = crate_refs("use crate::{align, pose::Frame};\nlet x = crate::eval::speed(f); // crate::index\n");
    let names: Vec<&str> = r.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["align", "pose", "eval"]);
}
