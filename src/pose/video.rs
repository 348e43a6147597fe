//! Poses from a video file: ffprobe says what is in it, ffmpeg decodes it to raw RGB frames at the
//! working frame rate (over a pipe, read on a second thread so decoding overlaps inference),
//! MoveNet ([`super::movenet::Tracker`]) finds the person in each frame, and the result is a
//! [`Sequence`] letterboxed onto the 512 canvas, resampled and cleaned like every other source.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::Deserialize;

use super::clean::{clean, CleanConfig, Cleaned};
use super::movenet::{MoveNetConfig, Tracker};
use super::{normalize, Frame, PoseError, Sequence};

/// File extensions taken as videos (a video corpus is a folder of these).
pub const VIDEO_EXTS: &[&str] = &["mp4", "mkv", "webm", "avi", "mov"];

/// True when `path` has a video extension.
pub fn is_video(path: &Path) -> bool {
    path.extension().is_some_and(|x| VIDEO_EXTS.contains(&x.to_string_lossy().to_ascii_lowercase().as_str()))
}

fn spawn_error(path: &Path, program: &str, e: std::io::Error) -> PoseError {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            PoseError::ToolMissing { path: path.into(), program: program.into() }
        }
        _ => PoseError::io(path, e),
    }
}

/// What ffprobe says about a video.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Display size (after the rotation in the file's metadata).
    pub width: u32,
    pub height: u32,
    /// Frame rate of the video stream (0 when unknown).
    pub fps: f64,
    /// The same as an exact rational for ffmpeg, e.g. `30000/1001`.
    pub fps_rational: String,
    /// Seconds (0 when unknown).
    pub duration: f64,
    pub has_audio: bool,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    disposition: std::collections::HashMap<String, i64>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Value>,
}

fn parse_rational(s: &str) -> Option<f64> {
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d): (f64, f64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    (d != 0.0 && n > 0.0 && (n / d).is_finite()).then(|| n / d)
}

/// Probes a video with ffprobe: its size, frame rate, duration and whether it has an audio track.
pub fn probe(path: &Path) -> Result<VideoInfo, PoseError> {
    let meta = std::fs::metadata(path).map_err(|e| PoseError::io(path, e))?;
    if meta.is_dir() {
        return Err(PoseError::Video { path: path.into(), reason: "is a directory".into() });
    }
    if meta.len() == 0 {
        return Err(PoseError::Video { path: path.into(), reason: "file is empty".into() });
    }
    let out = crate::runtime::ffprobe()
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(path, "ffprobe", e))?;
    let bad = |reason: String| PoseError::Video { path: path.into(), reason };
    if !out.status.success() {
        return Err(bad(last_line(&out.stderr, "ffprobe failed")));
    }
    let p: Probe = serde_json::from_slice(&out.stdout).map_err(|e| bad(format!("unreadable ffprobe output: {e}")))?;
    let is = |s: &ProbeStream, t: &str| s.codec_type.as_deref() == Some(t);
    let has_audio = p.streams.iter().any(|s| is(s, "audio"));
    let v = p
        .streams
        .iter()
        .find(|s| is(s, "video") && s.disposition.get("attached_pic").copied().unwrap_or(0) == 0)
        .ok_or_else(|| bad("no video stream".into()))?;
    let (mut width, mut height) = match (v.width, v.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => return Err(bad("video stream has no frame size".into())),
    };
    let rotation = v
        .side_data_list
        .iter()
        .find_map(|d| d.get("rotation").and_then(|r| r.as_f64()))
        .or_else(|| v.tags.get("rotate").and_then(|r| r.parse().ok()))
        .unwrap_or(0.0);
    if (rotation.abs() as i64) % 180 == 90 {
        std::mem::swap(&mut width, &mut height);
    }
    let (fps, fps_rational) = [&v.avg_frame_rate, &v.r_frame_rate]
        .into_iter()
        .flatten()
        .find_map(|r| parse_rational(r).filter(|f| *f <= 1000.0).map(|f| (f, r.clone())))
        .unwrap_or((0.0, String::new()));
    let duration = [v.duration.as_deref(), p.format.as_ref().and_then(|f| f.duration.as_deref())]
        .into_iter()
        .flatten()
        .find_map(|d| d.parse::<f64>().ok().filter(|d| d.is_finite() && *d > 0.0))
        .unwrap_or(0.0);
    Ok(VideoInfo { width, height, fps, fps_rational, duration, has_audio })
}

fn last_line(stderr: &[u8], default: &str) -> String {
    let s = String::from_utf8_lossy(stderr);
    s.lines().map(str::trim).filter(|l| !l.is_empty()).next_back().unwrap_or(default).to_string()
}

#[derive(Debug, Clone, PartialEq)]
pub struct VideoPoseConfig {
    /// Working frame rate of the output.
    pub fps: f64,
    pub movenet: MoveNetConfig,
    /// Frames are decoded with their longer side at most this many pixels (MoveNet sees 256² at
    /// most; a person filling a tenth of a 4K frame still gets ~380 px).
    pub max_side: u32,
    /// Side of the square canvas the poses are letterboxed onto.
    pub canvas: u32,
    pub clean: CleanConfig,
}

impl Default for VideoPoseConfig {
    fn default() -> Self {
        VideoPoseConfig {
            fps: crate::units::DEFAULT_FPS,
            movenet: MoveNetConfig::default(),
            max_side: 1280,
            canvas: crate::pose::CANVAS,
            clean: CleanConfig::default(),
        }
    }
}

/// Frames done and (estimated from the duration) frames in all, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct FrameProgress {
    pub done: u64,
    pub total: u64,
}

/// Frame rate frames are decoded (and detected) at: the video's own when lower than the working
/// rate (no duplicated frames to run the model on; the poses are interpolated afterwards), else
/// the working rate. Also the ffmpeg `fps` filter value for it.
pub fn decode_rate(info: &VideoInfo, fps: f64) -> (f64, String) {
    if info.fps > 0.0 && info.fps < fps - 1e-6 && !info.fps_rational.is_empty() {
        (info.fps, info.fps_rational.clone())
    } else {
        (fps, format!("{fps}"))
    }
}

/// Decoded frame size: the display size, shrunk (even sides) so the longer side is ≤ `max_side`.
fn decode_size(info: &VideoInfo, max_side: u32) -> (u32, u32) {
    let long = info.width.max(info.height);
    if max_side == 0 || long <= max_side {
        return (info.width, info.height);
    }
    let s = max_side as f64 / long as f64;
    let even = |v: u32| (((v as f64 * s) / 2.0).round() as u32 * 2).max(2);
    (even(info.width), even(info.height))
}

type Decoder = (std::process::Child, std::process::ChildStdout, std::thread::JoinHandle<Vec<u8>>);

/// Starts ffmpeg decoding `path` to raw RGB frames of `dw × dh` at `rate_arg` frames/s: the
/// child, its stdout and a thread collecting its stderr.
fn spawn_decoder(path: &Path, info: &VideoInfo, rate_arg: &str, dw: u32, dh: u32) -> Result<Decoder, PoseError> {
    let mut vf = format!("fps=fps={rate_arg}");
    if (dw, dh) != (info.width, info.height) {
        vf.push_str(&format!(",scale={dw}:{dh}:flags=area"));
    }
    let mut child = crate::runtime::ffmpeg()
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-an", "-sn", "-vf", &vf, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(path, "ffmpeg", e))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        return Err(PoseError::Video { path: path.into(), reason: "could not read ffmpeg's output".into() });
    };
    let err_thread = crate::runtime::collect_stderr(stderr);
    Ok((child, stdout, err_thread))
}

/// A thread reading frames of `frame_bytes` from `stdout` into a short channel.
fn read_frames(mut stdout: std::process::ChildStdout, frame_bytes: usize) -> (std::sync::mpsc::Receiver<Vec<u8>>, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(3);
    let reader = std::thread::spawn(move || loop {
        let mut buf = vec![0u8; frame_bytes];
        if stdout.read_exact(&mut buf).is_err() || tx.send(buf).is_err() {
            break;
        }
    });
    (rx, reader)
}

/// Runs the tracker over every frame of `path` (decoded at [`decode_rate`]). Returns the poses at
/// that rate, in the video's display pixels (`info.width × info.height`), not yet letterboxed:
/// frames where nobody was found have every joint missing.
pub fn detect(
    path: &Path,
    info: &VideoInfo,
    cfg: &VideoPoseConfig,
    tracker: &mut Tracker,
    progress: &(dyn Fn(FrameProgress) + Sync),
) -> Result<Sequence, PoseError> {
    let (rate, rate_arg) = decode_rate(info, cfg.fps);
    let (dw, dh) = decode_size(info, cfg.max_side);
    let (mut child, stdout, err_thread) = spawn_decoder(path, info, &rate_arg, dw, dh)?;
    let frame_bytes = dw as usize * dh as usize * 3;
    // Decoding runs ahead of inference by a few frames.
    let (rx, reader) = read_frames(stdout, frame_bytes);
    let total = (info.duration * rate).round().max(1.0) as u64;
    let (sx, sy) = (info.width as f32 / dw as f32, info.height as f32 / dh as f32);
    let mut frames: Vec<Frame> = Vec::with_capacity(total as usize + 1);
    let mut failure = None;
    for buf in rx.iter() {
        match tracker.detect(&buf, dw, dh) {
            Ok(mut f) => {
                for j in f.iter_mut().filter(|j| j[2] > 0.0) {
                    j[0] *= sx;
                    j[1] *= sy;
                }
                frames.push(f);
                progress(FrameProgress { done: frames.len() as u64, total: total.max(frames.len() as u64) });
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    drop(rx);
    if failure.is_some() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| PoseError::io(path, e))?;
    let _ = reader.join();
    let err_text = err_thread.join().unwrap_or_default();
    if let Some(e) = failure {
        return Err(e);
    }
    if !status.success() {
        let line = last_line(&err_text, "ffmpeg failed");
        let reason = if frames.is_empty() { line } else { format!("decoding failed after {} frames: {line}", frames.len()) };
        return Err(PoseError::Video { path: path.into(), reason });
    }
    if frames.is_empty() {
        return Err(PoseError::Video { path: path.into(), reason: last_line(&err_text, "no frames decoded") });
    }
    Ok(Sequence::new(rate, info.width, info.height, frames))
}

/// True when no frame has any joint.
pub fn nobody(seq: &Sequence) -> bool {
    seq.frames.iter().all(|f| f.iter().all(|j| j[2] <= 0.0))
}

/// From detected poses (any rate, any image size) to the working form: letterboxed onto the
/// canvas, resampled to `cfg.fps`, cleaned. No person in any frame is an error naming `path`.
pub fn finish(raw: &Sequence, path: &Path, cfg: &VideoPoseConfig) -> Result<Cleaned, PoseError> {
    if nobody(raw) {
        return Err(PoseError::NoPerson { path: path.into() });
    }
    let fitted = if (raw.width, raw.height) == (cfg.canvas, cfg.canvas) { raw.clone() } else { normalize::fit_canvas(raw, cfg.canvas) };
    Ok(clean(&normalize::resample(&fitted, cfg.fps), &cfg.clean))
}

/// What [`extract`] found, for a report line.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub info: VideoInfo,
    pub cleaned: Cleaned,
    /// Frames decoded, their rate, and how many show a person.
    pub raw_frames: usize,
    pub raw_fps: f64,
    pub with_person: usize,
    /// The model file, its input side and where it ran ("CPU", "CUDA", ...).
    pub model: PathBuf,
    pub input_size: u32,
    pub execution: String,
    pub detect_secs: f64,
}

impl Extracted {
    /// One line: the model, the frames detected and how fast, then the frames kept at `fps`.
    pub fn summary(&self, path: &Path, fps: f64) -> String {
        format!(
            "{}: pose model {} ({}²) on {}: {} frames at {} fps in {:.1} s ({:.1} frames/s), person in {}; {} frames at {fps} fps, {} kept by cleaning",
            path.display(),
            self.model.file_name().unwrap_or_default().to_string_lossy(),
            self.input_size,
            self.execution,
            self.raw_frames,
            self.raw_fps,
            self.detect_secs,
            self.raw_frames as f64 / self.detect_secs.max(1e-9),
            self.with_person,
            self.cleaned.seq.len(),
            self.cleaned.keep.iter().filter(|&&k| k).count(),
        )
    }
}

/// Poses of a video, start to end: probe (a bad video is reported before the model loads), load
/// the model, detect, [`finish`].
pub fn extract(path: &Path, cfg: &VideoPoseConfig, progress: &(dyn Fn(FrameProgress) + Sync)) -> Result<Extracted, PoseError> {
    let info = probe(path)?;
    let net = super::movenet::MoveNet::load(&cfg.movenet)?;
    let (model, input_size, execution) = (net.model().to_path_buf(), net.input_size(), net.execution().to_string());
    let mut tracker = Tracker::new(net, &cfg.movenet);
    let t0 = std::time::Instant::now();
    let raw = detect(path, &info, cfg, &mut tracker, progress)?;
    let detect_secs = t0.elapsed().as_secs_f64();
    let with_person = raw.frames.iter().filter(|f| f.iter().any(|j| j[2] > 0.0)).count();
    let cleaned = finish(&raw, path, cfg)?;
    Ok(Extracted { info, cleaned, raw_frames: raw.len(), raw_fps: raw.fps, with_person, model, input_size, execution, detect_secs })
}

/// Writes the first audio track of `video` to `wav` (mono 16-bit PCM at its own rate),
/// atomically: a temp file beside `wav`, renamed at the end.
pub fn extract_audio(video: &Path, wav: &Path) -> Result<(), PoseError> {
    let name = wav.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "audio.wav".into());
    let tmp = wav.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let out = crate::runtime::ffmpeg()
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(video)
        .args(["-map", "0:a:0", "-vn", "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav"])
        .arg(&tmp)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(video, "ffmpeg", e))?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(PoseError::Video { path: video.into(), reason: format!("audio track: {}", last_line(&out.stderr, "ffmpeg failed")) });
    }
    std::fs::rename(&tmp, wav).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        PoseError::io(wav, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(w: u32, h: u32, fps: f64, r: &str) -> VideoInfo {
        VideoInfo { width: w, height: h, fps, fps_rational: r.into(), duration: 10.0, has_audio: false }
    }

    #[test]
    fn decodes_slow_videos_at_their_own_rate() {
        assert_eq!(decode_rate(&info(768, 576, 10.0, "10/1"), 24.0), (10.0, "10/1".to_string()));
        assert_eq!(decode_rate(&info(768, 576, 30000.0 / 1001.0, "30000/1001"), 24.0), (24.0, "24".to_string()));
        assert_eq!(decode_rate(&info(768, 576, 0.0, ""), 24.0).0, 24.0);
    }

    #[test]
    fn shrinks_big_frames_to_even_sides() {
        assert_eq!(decode_size(&info(3840, 2160, 30.0, "30"), 1280), (1280, 720));
        assert_eq!(decode_size(&info(1081, 1921, 30.0, "30"), 1280), (720, 1280));
        assert_eq!(decode_size(&info(768, 576, 30.0, "30"), 1280), (768, 576));
    }

    #[test]
    fn rationals() {
        assert_eq!(parse_rational("10/1"), Some(10.0));
        assert_eq!(parse_rational("0/0"), None);
        assert_eq!(parse_rational("25"), Some(25.0));
    }
}
