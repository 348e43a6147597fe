//! Finding the external pieces choreo runs with: the ffmpeg CLI and ONNX Runtime's shared library,
//! which `tools/setup.sh` unpacks into `vendor/onnxruntime/` of the project. The binary finds that
//! folder from its own path (target/{release,debug}/choreo → ../../vendor), so no environment
//! variable is needed; `CHOREO_ORT_LIB` may still point at another library.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// ONNX Runtime version the project is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

fn vendor_candidates() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        let exe = exe.canonicalize().unwrap_or(exe);
        let mut dir = exe.parent().map(Path::to_path_buf);
        // The exe's folder and up to three levels above it (target/release/deps/… for tests).
        for _ in 0..4 {
            if let Some(d) = dir {
                roots.push(d.join("vendor"));
                dir = d.parent().map(Path::to_path_buf);
            }
        }
    }
    roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor"));
    roots
}

/// Path of `libonnxruntime.so`, if it can be found.
pub fn onnxruntime_library() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHOREO_ORT_LIB") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    vendor_candidates().into_iter().flat_map(|v| {
        let d = v.join("onnxruntime");
        [d.join(format!("libonnxruntime.so.{ORT_VERSION}")), d.join("libonnxruntime.so")]
    })
    .find(|p| p.is_file())
}

/// First line of `ffmpeg -version`, if ffmpeg runs.
pub fn ffmpeg_version() -> Option<String> {
    let out = Command::new(crate::audio::decode::ffmpeg_bin()).arg("-version").stdin(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string())
}
