//! A pose sequence and a song in, an mp4 out: each frame drawn as the OpenPose-style limb map
//! ([`super::skeleton`]) and streamed as raw RGB into ffmpeg (H.264, yuv420p), the song muxed in as
//! AAC. The video lasts exactly as long as the poses (frames / fps); the song starts with the first
//! frame (optionally from `start` seconds into it), is cut there, and padded with silence if it is
//! shorter. The mp4 is written to a temp file beside the target and renamed at the end, so a failed
//! run leaves no partial file.
//!
//! With a learned renderer ([`render_video_with`] and a [`Generator`]) the limb maps are drawn at
//! the generator's side, batched through it, and the pictures it makes are what ffmpeg encodes
//! (scaled to the video's size by ffmpeg when the model's side is fixed and differs).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::{draw_frame, Canvas, Generator, RenderError};
use crate::pose::Sequence;

/// How a frame is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Renderer {
    /// OpenPose-style coloured limb map on black.
    #[default]
    Skeleton,
}

/// How a video is drawn and encoded; with the `cli` feature, also `choreo render`'s size and start
/// flags (the doc comments are their help).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct RenderConfig {
    /// Width and height of the video in pixels (even).
    // Even, as yuv420p needs.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = RenderConfig::default().size))]
    pub size: u32,
    #[cfg_attr(feature = "cli", arg(skip))]
    pub renderer: Renderer,
    /// Song time (seconds) of the first frame.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = RenderConfig::default().start))]
    pub start: f64,
    // x264 constant rate factor (lower = better; 18 is visually lossless for these flat images).
    #[cfg_attr(feature = "cli", arg(skip = RenderConfig::default().crf))]
    pub crf: u8,
    // x264 preset; `veryfast` encodes 512² limb maps several hundred frames/s on one core.
    #[cfg_attr(feature = "cli", arg(skip = RenderConfig::default().preset))]
    pub preset: X264Preset,
}

/// x264's speed/size presets (`-preset`), fastest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum X264Preset {
    Ultrafast,
    Superfast,
    Veryfast,
    Faster,
    Fast,
    Medium,
    Slow,
    Slower,
    Veryslow,
}

impl X264Preset {
    pub fn as_str(self) -> &'static str {
        match self {
            X264Preset::Ultrafast => "ultrafast",
            X264Preset::Superfast => "superfast",
            X264Preset::Veryfast => "veryfast",
            X264Preset::Faster => "faster",
            X264Preset::Fast => "fast",
            X264Preset::Medium => "medium",
            X264Preset::Slow => "slow",
            X264Preset::Slower => "slower",
            X264Preset::Veryslow => "veryslow",
        }
    }
}

impl RenderConfig {
    /// Checks the settings; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.size < 16 || self.size > 4096 || self.size % 2 != 0 {
            return Err(format!("size must be even and in 16..=4096, got {}", self.size));
        }
        if !(self.start.is_finite() && self.start >= 0.0) {
            return Err(format!("start must be ≥ 0 seconds, got {}", self.start));
        }
        if self.crf > 51 {
            return Err(format!("crf must be in 0..=51, got {}", self.crf));
        }
        Ok(())
    }
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig { size: 512, renderer: Renderer::Skeleton, start: 0.0, crf: 18, preset: X264Preset::Veryfast }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderStats {
    pub frames: usize,
    pub duration_secs: f64,
}

impl RenderStats {
    /// One line: the video written to `out` (`size`² at `fps`), frames per second over `secs`,
    /// and the generator's time per frame when there is one.
    pub fn summary(&self, out: &Path, fps: f64, size: u32, secs: f64, generator: Option<&Generator>) -> String {
        let n = self.frames as f64;
        let model = match generator {
            Some(g) => {
                let t = g.model_time().as_secs_f64();
                format!(", generator {:.1} ms/frame ({:.2} frames/s)", 1e3 * t / n, n / t.max(1e-9))
            }
            None => String::new(),
        };
        format!("{}: {} frames, {:.2} s at {} fps, {}² ({:.2} frames/s{model})", out.display(), self.frames, self.duration_secs, fps, size, n / secs.max(1e-9))
    }
}

/// Draws frame `t` of `seq` as configured.
pub fn draw(seq: &Sequence, t: usize, cfg: &RenderConfig, canvas: &mut Canvas) {
    canvas.rgb.fill(0);
    match cfg.renderer {
        Renderer::Skeleton => draw_frame(&seq.frames[t], seq.width, seq.height, canvas),
    }
}

fn temp_beside(out: &Path) -> Result<PathBuf, RenderError> {
    crate::io::temp_path(out).map_err(|_| RenderError::Invalid { path: out.into(), reason: "not a file path".into() })
}

/// The song must be one the decoder accepts (as for `beats`, `mfcc`, `dance`): a truncated or
/// empty file, or an unknown format, is refused here with the song named, before encoding starts.
fn check_song(song: &Path) -> Result<(), RenderError> {
    crate::audio::decode::decode(song).map(|_| ()).map_err(RenderError::Song)
}

/// Renders `seq` with `song` into the mp4 `out`. `progress(done, total)` is called per frame.
pub fn render_video(
    seq: &Sequence,
    song: &Path,
    out: &Path,
    cfg: &RenderConfig,
    progress: &dyn Fn(u64, u64),
) -> Result<RenderStats, RenderError> {
    render_video_with(seq, song, out, cfg, None, progress)
}

/// [`render_video`], with each limb map turned into a picture by `generator` when one is given.
pub fn render_video_with(
    seq: &Sequence,
    song: &Path,
    out: &Path,
    cfg: &RenderConfig,
    mut generator: Option<&mut Generator>,
    progress: &dyn Fn(u64, u64),
) -> Result<RenderStats, RenderError> {
    let invalid = |reason: String| RenderError::Invalid { path: out.into(), reason };
    if seq.is_empty() {
        return Err(invalid("no frames to render".into()));
    }
    if !(seq.fps.is_finite() && seq.fps > 0.0) {
        return Err(invalid(format!("frame rate must be positive, got {}", seq.fps)));
    }
    if cfg.size < 16 || cfg.size > 4096 || cfg.size % 2 != 0 {
        return Err(invalid(format!("video size must be even and in 16..=4096, got {}", cfg.size)));
    }
    if !(cfg.start.is_finite() && cfg.start >= 0.0) {
        return Err(invalid(format!("song start must be ≥ 0 s, got {}", cfg.start)));
    }
    if out.is_dir() {
        return Err(invalid("is a directory".into()));
    }
    check_song(song)?;
    // Only a regular file is replaced; missing folders are created; stale temps of killed renders go.
    crate::io::prepare_output(out).map_err(|e| invalid(e.to_string().trim_start_matches(&format!("{}: ", out.display())).to_string()))?;
    let tmp = temp_beside(out)?;
    // Creating the temp file ourselves gives a plain "permission denied" naming the target,
    // before any encoding starts.
    let _ = std::fs::remove_file(&tmp);
    std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| RenderError::Io { path: out.into(), source: e })?;
    let result = encode(seq, song, out, &tmp, cfg, generator.as_deref_mut(), progress);
    match result {
        Ok(stats) => {
            let synced = std::fs::File::open(&tmp).and_then(|f| f.sync_all());
            match synced.and_then(|_| std::fs::rename(&tmp, out)) {
                Ok(()) => Ok(stats),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err(RenderError::Io { path: out.into(), source: e })
                }
            }
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The ffmpeg command that reads raw RGB frames of `side`² at `fps` on stdin, muxes them with
/// `song` (from `cfg.start`, padded) and writes an H.264 + AAC mp4 of `duration` seconds to `tmp`.
fn encoder_command(song: &Path, tmp: &Path, side: u32, fps: f64, duration: f64, cfg: &RenderConfig) -> std::process::Command {
    let size = format!("{0}x{0}", side);
    let fps = format!("{fps}");
    let mut cmd = crate::runtime::ffmpeg();
    cmd.args(["-v", "error", "-nostdin", "-y"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", &size, "-framerate", &fps, "-i", "-"]);
    if cfg.start > 0.0 {
        cmd.args(["-ss", &format!("{:.6}", cfg.start)]);
    }
    cmd.arg("-i").arg(song).args(["-map", "0:v:0", "-map", "1:a:0"]);
    if side != cfg.size {
        cmd.args(["-vf", &format!("scale={0}:{0}:flags=bicubic", cfg.size)]);
    }
    cmd.args(["-c:v", "libx264", "-preset", cfg.preset.as_str(), "-crf", &cfg.crf.to_string(), "-pix_fmt", "yuv420p"])
        .args(["-c:a", "aac", "-b:a", "192k", "-af", "apad"])
        .args(["-t", &format!("{duration:.6}"), "-movflags", "+faststart", "-f", "mp4"])
        .arg(tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Starts ffmpeg: the child, its stdin (raw frames go there) and a thread collecting its stderr.
fn spawn_encoder(mut cmd: std::process::Command, out: &Path) -> Result<(std::process::Child, std::process::ChildStdin, std::thread::JoinHandle<Vec<u8>>), RenderError> {
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            RenderError::ToolMissing { path: out.into(), program: "ffmpeg".into() }
        }
        _ => RenderError::Io { path: out.into(), source: e },
    })?;
    let (Some(stdin), Some(stderr)) = (child.stdin.take(), child.stderr.take()) else {
        let _ = child.kill();
        return Err(RenderError::Encode { path: out.into(), reason: "could not talk to ffmpeg".into() });
    };
    let err_thread = crate::runtime::collect_stderr(stderr);
    Ok((child, stdin, err_thread))
}

fn encode(
    seq: &Sequence,
    song: &Path,
    out: &Path,
    tmp: &Path,
    cfg: &RenderConfig,
    mut generator: Option<&mut Generator>,
    progress: &dyn Fn(u64, u64),
) -> Result<RenderStats, RenderError> {
    let n = seq.len();
    let duration = n as f64 / seq.fps;
    // Side of the raw frames piped to ffmpeg, and frames drawn per step.
    let (side, batch) = match generator.as_deref() {
        Some(g) => (g.resolution(cfg.size), g.batch()),
        None => (cfg.size, 1),
    };
    let (mut child, mut stdin, err_thread) = spawn_encoder(encoder_command(song, tmp, side, seq.fps, duration, cfg), out)?;
    let mut maps = vec![Canvas::black(side, side); batch];
    let mut write_failed = false;
    let mut model_failed = None;
    'frames: for start in (0..n).step_by(batch) {
        let k = batch.min(n - start);
        for (i, map) in maps.iter_mut().take(k).enumerate() {
            draw(seq, start + i, cfg, map);
        }
        let painted;
        let pictures: &[Canvas] = match generator.as_deref_mut() {
            None => &maps[..k],
            Some(g) => {
                let frames: Vec<_> = seq.frames[start..start + k].iter().collect();
                match g.paint(&maps[..k], &frames, seq.width, seq.height) {
                    Ok(p) => {
                        painted = p;
                        &painted
                    }
                    Err(e) => {
                        model_failed = Some(e);
                        break 'frames;
                    }
                }
            }
        };
        for (i, pic) in pictures.iter().enumerate() {
            if stdin.write_all(&pic.rgb).is_err() {
                // ffmpeg stopped reading (it failed): its stderr says why.
                write_failed = true;
                break 'frames;
            }
            progress((start + i) as u64 + 1, n as u64);
        }
    }
    if let Some(e) = model_failed {
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
        let _ = err_thread.join();
        return Err(e);
    }
    drop(stdin);
    let status = child.wait().map_err(|e| RenderError::Io { path: out.into(), source: e })?;
    let err_text = err_thread.join().unwrap_or_default();
    if write_failed || !status.success() {
        let s = String::from_utf8_lossy(&err_text);
        let line = s.lines().map(str::trim).filter(|l| !l.is_empty()).next_back().unwrap_or("ffmpeg failed").to_string();
        return Err(RenderError::Encode { path: out.into(), reason: line });
    }
    Ok(RenderStats { frames: n, duration_secs: duration })
}
