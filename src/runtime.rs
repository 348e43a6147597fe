//! The external runtimes choreo runs with, in one place for every stage: the ffmpeg and ffprobe
//! CLIs (audio decoding, video in and out) and ONNX Runtime (MoveNet, the learned renderer):
//! finding them, one ONNX Runtime environment per process, and its sessions. `tools/setup.sh`
//! unpacks ONNX Runtime's shared library into `vendor/onnxruntime/` of the project. The binary finds that
//! folder from its own path (target/{release,debug}/choreo → ../../vendor), so no environment
//! variable is needed; `CHOREO_ORT_LIB` may still point at another library.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;

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

/// The folder `vendor/<name>` that tools/setup.sh made (three.js for `choreo view`), looked for
/// as ONNX Runtime's is: beside the executable and up to three folders above it, then in the
/// source tree.
pub fn vendor_dir(name: &str) -> Option<PathBuf> {
    vendor_candidates().into_iter().map(|v| v.join(name)).find(|d| d.is_dir())
}

/// Where a model shipped in the repository's `models/` folder is: `models/<file>` under the
/// working folder, the executable's folder and up to four folders above it
/// (target/release/choreo → ../../models), then the source tree. Falls back to `models/<file>`,
/// which then fails to load with an error naming it.
pub fn shipped_model(file: &str) -> PathBuf {
    let rel = Path::new("models").join(file);
    let mut roots: Vec<PathBuf> = vec![PathBuf::from(".")];
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        for _ in 0..4 {
            if let Some(d) = dir {
                roots.push(d.clone());
                dir = d.parent().map(Path::to_path_buf);
            }
        }
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    roots.into_iter().map(|r| r.join(&rel)).find(|p| p.is_file()).unwrap_or(rel)
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

/// ONNX Runtime's library could not be found or loaded (`path`: where it was looked for).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: ONNX Runtime {ORT_VERSION} library not usable ({reason}); run tools/setup.sh", path.display())]
pub struct OrtError {
    pub path: PathBuf,
    pub reason: String,
}

/// Which hardware runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Device {
    /// CUDA when the `cuda` feature is built in and a GPU answers, else CPU.
    #[default]
    Auto,
    Cpu,
    /// CUDA, falling back to CPU (and saying so) when it cannot be used.
    Cuda,
}

/// One ONNX Runtime environment per process (ort allows no second one): made on first use.
pub fn environment() -> Result<&'static Environment, OrtError> {
    static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();
    let lib = onnxruntime_library();
    let res = ENV.get_or_init(|| {
        let Some(lib) = &lib else { return Err("not found".to_string()) };
        let builder = ort::init_from(lib).map_err(|e| e.to_string())?;
        builder.with_name("choreo").build().map_err(|e| e.to_string())
    });
    res.as_ref().map_err(|reason| OrtError {
        path: lib.unwrap_or_else(|| Path::new("vendor/onnxruntime").join(format!("libonnxruntime.so.{ORT_VERSION}"))),
        reason: reason.clone(),
    })
}

/// Intra-op threads when not configured: all cores but one, at least one.
pub fn auto_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get().saturating_sub(1)).unwrap_or(1).max(1)
}

pub fn cpu_session(env: &Environment, path: &Path, threads: usize) -> Result<Session, String> {
    let threads = if threads > 0 { threads } else { auto_threads() };
    let b = Session::builder(env).map_err(|e| e.to_string())?;
    // No spin-waiting: the threads would fight ffmpeg's decoding (and anything else running) for
    // the cores; measured on 2 shared cores, thunder went from 11 to 18 frames/s with 2 threads.
    let mut b = b
        .with_intra_threads(threads)
        .and_then(|b| b.with_config_entry("session.intra_op.allow_spinning", "0"))
        .map_err(|e| e.to_string())?;
    b.commit_from_file(path).map_err(|e| e.to_string())
}

#[cfg(feature = "cuda")]
pub fn cuda_session(env: &Environment, path: &Path) -> Result<Session, String> {
    let b = Session::builder(env).map_err(|e| e.to_string())?;
    let mut b = b
        .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
        .map_err(|e| format!("CUDA execution provider unavailable: {e}"))?;
    b.commit_from_file(path).map_err(|e| format!("CUDA execution provider unavailable: {e}"))
}

#[cfg(not(feature = "cuda"))]
pub fn cuda_session(_env: &Environment, _path: &Path) -> Result<Session, String> {
    Err("this build has no `cuda` feature".into())
}

/// Path of the ffmpeg binary: `$CHOREO_FFMPEG` if set, else `ffmpeg` on PATH.
pub fn ffmpeg_bin() -> PathBuf {
    std::env::var_os("CHOREO_FFMPEG").map(PathBuf::from).unwrap_or_else(|| "ffmpeg".into())
}

/// Path of the ffprobe binary: `$CHOREO_FFPROBE`; else, when `$CHOREO_FFMPEG` is set, the
/// `ffprobe` beside it; else `ffprobe` on PATH.
pub fn ffprobe_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CHOREO_FFPROBE") {
        return p.into();
    }
    if let Some(p) = std::env::var_os("CHOREO_FFMPEG") {
        return Path::new(&p).with_file_name("ffprobe");
    }
    "ffprobe".into()
}

/// An ffmpeg command, quiet on stdin, killed when choreo dies (every stage spawns ffmpeg
/// through this: a killed `choreo dance --out x.mp4` leaves no ffmpeg writing on).
pub fn ffmpeg() -> Command {
    let mut c = Command::new(ffmpeg_bin());
    c.stdin(Stdio::null());
    die_with_parent(&mut c);
    c
}

/// Makes a child process get SIGKILL when the thread that spawned it dies (Linux
/// `PR_SET_PDEATHSIG`), so a killed render leaves no ffmpeg running and writing.
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: only async-signal-safe calls (prctl, getppid) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the prctl: then nobody will send the signal.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}


/// An ffprobe command, quiet on stdin.
/// A thread that reads a child's stderr to the end (so the child never blocks on a full pipe);
/// join it for the text, to quote in an error.
pub fn collect_stderr(mut stderr: std::process::ChildStderr) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut v);
        v
    })
}

pub fn ffprobe() -> Command {
    let mut c = Command::new(ffprobe_bin());
    c.stdin(Stdio::null());
    c
}

/// First line of `ffmpeg -version`, if ffmpeg runs.
/// `choreo doctor`: a line for ffmpeg and one for ONNX Runtime (where found, or how to get
/// them), and whether both were found.
pub fn doctor() -> (String, bool) {
    let ffmpeg = ffmpeg_version();
    let ort = onnxruntime_library();
    let text = format!(
        "ffmpeg: {}\nonnxruntime: {}",
        ffmpeg.as_deref().unwrap_or("not found (run tools/setup.sh)"),
        match &ort {
            Some(p) => p.display().to_string(),
            None => format!("libonnxruntime.so {ORT_VERSION} not found in vendor/onnxruntime (run tools/setup.sh)"),
        }
    );
    (text, ffmpeg.is_some() && ort.is_some())
}

pub fn ffmpeg_version() -> Option<String> {
    let out = Command::new(ffmpeg_bin()).arg("-version").stdin(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string())
}
