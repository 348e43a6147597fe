//! ffmpeg-side helpers shared by tests/video.rs and tests/renderer.rs (included by `#[path]`).

use std::path::Path;
use std::process::Command;

pub fn ffmpeg(args: &[&str]) {
    let o = Command::new("ffmpeg").args(["-v", "error", "-nostdin", "-y"]).args(args).output().expect("ffmpeg runs");
    assert!(o.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

pub fn ffprobe(args: &[&str]) -> String {
    let o = Command::new("ffprobe").args(["-v", "error"]).args(args).output().expect("ffprobe runs");
    assert!(o.status.success(), "ffprobe {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A sine tone of `secs` seconds (stereo, 44.1 kHz) encoded by extension.
pub fn tone(path: &Path, secs: f64) {
    ffmpeg(&["-f", "lavfi", "-i", &format!("sine=frequency=440:duration={secs}"), "-ac", "2", path.to_str().unwrap()]);
}

/// `codec_name,codec_type` of every stream, sorted.
pub fn streams(mp4: &Path) -> Vec<String> {
    let mut v: Vec<String> = ffprobe(&["-show_entries", "stream=codec_name,codec_type", "-of", "csv=p=0", mp4.to_str().unwrap()])
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    v
}

/// No finished or temporary video left in `dir` (after a failed render).
pub fn no_leftovers(dir: &Path) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".mp4") || n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
