//! A dance and its song in, one self-contained HTML page out (`choreo view`): the figure drawn
//! with three.js (lit bones and joints on a floor grid, orbit camera), the song embedded, a
//! play/pause button, a time slider, loop, and a tick on every beat. Nothing is fetched when the
//! page is opened: three.js (vendored by tools/setup.sh into `vendor/three/`, MIT), the poses and
//! the song are all inlined (base64).
//!
//! The page draws a generic [`Figure`]: joint names, parents, per-frame world positions (cm,
//! y up) and a frame rate, so any skeleton can be shown. A pose file with a 3-D track
//! (`joints3d`) gives the humanoid18 figure; one without gives the 2-D COCO-18 figure standing in
//! a vertical plane (the page says so).
//!
//! Timing: frame `i` plays at song time `i / fps` (the dance's frame 0 is the song's start, as
//! `choreo dance` writes it). While playing, the song's clock drives the figure.
//!
//! A time in the URL (`dance.html#t=12.5`) opens the page paused at that moment, so two loads
//! at two times give two deterministic pictures (the browser test screenshots them).

use std::path::{Path, PathBuf};

use super::RenderError;
use crate::pose::skeleton::{self, JOINT_NAMES, NUM_JOINTS};
use crate::pose::skeleton3d::{Frame3, JOINT3_NAMES, PARENT3};
use crate::pose::{format, Sequence};

/// three.js release the page is written for (`tools/setup.sh` vendors exactly this one).
pub const THREE_VERSION: &str = "0.185.0";

/// Folder under `vendor/` that holds three.js.
pub const THREE_DIR: &str = "three";

/// Radius of a joint sphere (cm); the floor is put where the lowest spheres touch it.
pub const JOINT_RADIUS_CM: f32 = 4.0;

/// An mp3 song at most this many bytes per second of audio (192 kbit/s) is embedded as it is;
/// anything else is transcoded to mp3 at [`TRANSCODE_KBPS`].
pub const PASSTHROUGH_MAX_BYTES_PER_SEC: f64 = 24_000.0;

/// Bit rate of a transcoded song (kbit/s).
pub const TRANSCODE_KBPS: u32 = 128;

/// Largest figure the page is asked to draw (joints).
const MAX_JOINTS: usize = 1024;

/// Largest coordinate accepted (cm): 100 km, far beyond any dance floor.
const MAX_CM: f32 = 1e7;

/// Scale of a 2-D figure when its height cannot be measured: Tang2018's canvas camera (px/cm).
const DEFAULT_PX_PER_CM: f32 = 1.75;

/// Nose-to-ankle height a 2-D figure is scaled to (cm): about that of a 1.75 m adult.
const NOSE_TO_ANKLE_CM: f32 = 150.0;

const TEMPLATE: &str = include_str!("view.html");
const MAIN_JS: &str = include_str!("view.js");

/// What the page draws: a skeleton moving in world space.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Joint names (a name containing "left"/"l_" or "right"/"r_" colours that side; "head" draws
    /// a head).
    pub names: Vec<String>,
    /// Parent of each joint (`None` for a root); a bone is drawn from each joint to its parent.
    pub parents: Vec<Option<usize>>,
    /// Per frame, per joint world position `[x, y, z]` in cm, y up. NaN marks a joint not seen in
    /// that frame (it and its bones are hidden).
    pub frames: Vec<Vec<[f32; 3]>>,
    pub fps: f64,
    /// Horizontal direction `[x, z]` the camera first looks from (towards the figure): the
    /// direction the dancer faces on average.
    pub view_from: [f32; 2],
    /// A line the page shows about the figure (e.g. that a 2-D figure has no depth).
    pub note: Option<String>,
}

/// Figure of a pose file: its 3-D track when it has one, else the 2-D figure in a vertical plane.
pub fn figure_of(seq: &Sequence) -> Figure {
    match &seq.joints3d {
        Some(j3) => Figure::from_joints3d(j3, seq.fps),
        None => Figure::from_coco18(seq),
    }
}

impl Figure {
    /// Any skeleton in world space (cm, y up): the camera first looks from the side it faces
    /// when joints are named LeftArm/RightArm or LeftUpLeg/RightUpLeg (BVH's usual names), else
    /// from +z. A BVH dance comes in here, its joint positions found by forward kinematics.
    pub fn new(names: Vec<String>, parents: Vec<Option<usize>>, frames: Vec<Vec<[f32; 3]>>, fps: f64) -> Figure {
        let mut fig = Figure { names, parents, frames, fps, view_from: [0.0, 1.0], note: None };
        fig.view_from = fig.facing();
        fig
    }

    /// The humanoid18 3-D track (cm, y up, world coordinates) as it is.
    pub fn from_joints3d(frames: &[Frame3], fps: f64) -> Figure {
        let names = JOINT3_NAMES.iter().map(|s| s.to_string()).collect();
        Figure::new(names, PARENT3.to_vec(), frames.iter().map(|f| f.to_vec()).collect(), fps)
    }

    /// A 2-D COCO-18 pose sequence (canvas pixels, y down) as a figure standing in the vertical
    /// plane z = 0, seen from +z: x to the right, y up, scaled so that the median nose-to-ankle
    /// height is 150 cm (1.75 px/cm when it cannot be measured). Joints with confidence 0 are
    /// missing.
    pub fn from_coco18(seq: &Sequence) -> Figure {
        let px_per_cm = coco_scale(seq).unwrap_or(DEFAULT_PX_PER_CM);
        let (cx, h) = (seq.width as f32 / 2.0, seq.height as f32);
        let frames = seq
            .frames
            .iter()
            .map(|f| {
                f.iter()
                    .map(|&[x, y, c]| {
                        if c > 0.0 {
                            [(x - cx) / px_per_cm, (h - y) / px_per_cm, 0.0]
                        } else {
                            [f32::NAN; 3]
                        }
                    })
                    .collect()
            })
            .collect();
        Figure {
            names: JOINT_NAMES.iter().map(|s| s.to_string()).collect(),
            parents: coco_parents().to_vec(),
            frames,
            fps: seq.fps,
            view_from: [0.0, 1.0],
            note: Some("2-D dance: the pose file has no 3-D track, so the COCO-18 figure stands in a vertical plane (no depth).".into()),
        }
    }

    pub fn joints(&self) -> usize {
        self.names.len()
    }

    /// Checks the figure is drawable; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let j = self.names.len();
        if j == 0 || j > MAX_JOINTS {
            return Err(format!("a figure needs 1..={MAX_JOINTS} joints, got {j}"));
        }
        if self.parents.len() != j {
            return Err(format!("{j} joint names but {} parents", self.parents.len()));
        }
        for (i, p) in self.parents.iter().enumerate() {
            if let Some(p) = *p {
                if p >= j || p == i {
                    return Err(format!("joint {i} ({}) has no valid parent ({p})", self.names[i]));
                }
            }
            // Following parents from any joint must reach a root within j steps (no cycle).
            let mut at = i;
            for step in 0..=j {
                match self.parents[at] {
                    None => break,
                    Some(p) if p < j => at = p,
                    Some(_) => break,
                }
                if step == j {
                    return Err(format!("the parents of joint {i} ({}) form a cycle", self.names[i]));
                }
            }
        }
        if self.frames.is_empty() {
            return Err("no frames".into());
        }
        if !(self.fps.is_finite() && self.fps >= 1.0 && self.fps <= 1000.0) {
            return Err(format!("frame rate must be in 1..=1000 fps, got {}", self.fps));
        }
        for (t, f) in self.frames.iter().enumerate() {
            if f.len() != j {
                return Err(format!("frame {t} has {} joints, expected {j}", f.len()));
            }
            for (k, p) in f.iter().enumerate() {
                if p.iter().any(|v| v.is_infinite() || v.abs() > MAX_CM) {
                    return Err(format!("joint {k} at frame {t} is out of range (|v| ≤ {MAX_CM} cm)"));
                }
            }
        }
        if self.frames.iter().all(|f| f.iter().all(|p| p.iter().any(|v| v.is_nan()))) {
            return Err("no joint is present in any frame".into());
        }
        Ok(())
    }

    /// The average facing direction `[x, z]` from the joints named LeftArm/RightArm and
    /// LeftUpLeg/RightUpLeg (left minus right, crossed with up); `[0, 1]` without them.
    fn facing(&self) -> [f32; 2] {
        let find = |n: &str| self.names.iter().position(|s| s == n);
        let pairs: Vec<(usize, usize)> = [("LeftArm", "RightArm"), ("LeftUpLeg", "RightUpLeg")]
            .iter()
            .filter_map(|(l, r)| Some((find(l)?, find(r)?)))
            .collect();
        let (mut fx, mut fz) = (0.0f64, 0.0f64);
        for f in &self.frames {
            for &(l, r) in &pairs {
                let d = [f[l][0] - f[r][0], f[l][2] - f[r][2]];
                if d.iter().all(|v| v.is_finite()) {
                    // (L − R) × up with up = y: (−d.z, 0, d.x).
                    fx -= d[1] as f64;
                    fz += d[0] as f64;
                }
            }
        }
        let n = (fx * fx + fz * fz).sqrt();
        if n > 1e-6 {
            [(fx / n) as f32, (fz / n) as f32]
        } else {
            [0.0, 1.0]
        }
    }

    /// The frames moved up or down so that the floor is at y = 0: the median over frames of the
    /// lowest joint, less a joint's radius, so the feet's spheres stand on it.
    fn grounded_frames(&self) -> Vec<Vec<[f32; 3]>> {
        let mut lows: Vec<f32> = self
            .frames
            .iter()
            .filter_map(|f| f.iter().map(|p| p[1]).filter(|y| y.is_finite()).reduce(f32::min))
            .collect();
        let floor = if lows.is_empty() {
            0.0
        } else {
            lows.sort_by(|a, b| a.total_cmp(b));
            lows[lows.len() / 2] - JOINT_RADIUS_CM
        };
        self.frames.iter().map(|f| f.iter().map(|p| [p[0], p[1] - floor, p[2]]).collect()).collect()
    }
}

/// Parent of each COCO-18 joint in a tree rooted at the neck (the limbs OpenPose draws).
fn coco_parents() -> [Option<usize>; NUM_JOINTS] {
    let mut parents = [None; NUM_JOINTS];
    for &(a, b) in &skeleton::LIMBS {
        // LIMBS run outwards from the neck: `b` hangs from `a`.
        parents[b] = Some(a);
    }
    parents
}

/// Pixels per cm of a 2-D sequence: the median nose-to-lower-ankle height over frames with both,
/// over [`NOSE_TO_ANKLE_CM`].
fn coco_scale(seq: &Sequence) -> Option<f32> {
    use skeleton::Joint;
    let mut heights: Vec<f32> = seq
        .frames
        .iter()
        .filter_map(|f| {
            let nose = f[Joint::Nose as usize];
            let ankle = [f[Joint::RAnkle as usize], f[Joint::LAnkle as usize]]
                .into_iter()
                .filter(|a| a[2] > 0.0)
                .map(|a| a[1])
                .reduce(f32::max)?;
            (nose[2] > 0.0 && ankle > nose[1]).then_some(ankle - nose[1])
        })
        .collect();
    if heights.is_empty() {
        return None;
    }
    heights.sort_by(|a, b| a.total_cmp(b));
    let h = heights[heights.len() / 2];
    (h > 1.0).then_some(h / NOSE_TO_ANKLE_CM)
}

/// The song as the page embeds it.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedSong {
    pub bytes: Vec<u8>,
    /// MIME type of `bytes` (`audio/mpeg`).
    pub mime: &'static str,
    /// True when ffmpeg re-encoded it; false when the file is embedded as it is.
    pub transcoded: bool,
    /// Length of the decoded song (s).
    pub duration_secs: f64,
}

/// three.js as the page inlines it: the core and module builds, OrbitControls and the licence.
#[derive(Debug, Clone)]
pub struct ThreeJs {
    pub core: String,
    pub module: String,
    pub orbit_controls: String,
    pub license: String,
}

/// The files of `vendor/three/`, as tools/setup.sh lays them out.
const THREE_FILES: [&str; 4] = ["three.core.min.js", "three.module.min.js", "OrbitControls.js", "LICENSE"];

impl ThreeJs {
    /// Loads three.js from `vendor/three/` (found as the ONNX Runtime folder is, from the
    /// executable's path). `out` is the page being made: the error names it and the set-up.
    pub fn find(out: &Path) -> Result<ThreeJs, RenderError> {
        Self::from_vendor(crate::runtime::vendor_dir(THREE_DIR), out)
    }

    fn from_vendor(dir: Option<PathBuf>, out: &Path) -> Result<ThreeJs, RenderError> {
        let missing = || RenderError::ToolMissing { path: out.into(), program: format!("three.js {THREE_VERSION} (vendor/{THREE_DIR}/)") };
        let dir = dir.ok_or_else(missing)?;
        Self::load(&dir).map_err(|reason| RenderError::Invalid { path: dir.clone(), reason: format!("{reason}; run tools/setup.sh") })
    }

    /// Loads three.js from `dir`, which must hold [`THREE_VERSION`].
    pub fn load(dir: &Path) -> Result<ThreeJs, String> {
        let version = std::fs::read_to_string(dir.join("VERSION")).map_err(|e| format!("VERSION: {e}"))?;
        if version.trim() != THREE_VERSION {
            return Err(format!("holds three.js {}, choreo needs {THREE_VERSION}", version.trim()));
        }
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| format!("{f}: {e}"));
        let [core, module, orbit_controls, license] = THREE_FILES.map(read);
        let module = module?;
        // The module build imports its core by a relative path, which a data: URL cannot
        // resolve: the page's import map names the core instead.
        let relative = "\"./three.core.min.js\"";
        if !module.contains(relative) {
            return Err(format!("three.module.min.js does not import {relative}"));
        }
        Ok(ThreeJs { core: core?, module: module.replace(relative, "\"three-core\""), orbit_controls: orbit_controls?, license: license? })
    }
}

/// What `view` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewStats {
    pub frames: usize,
    pub fps: f64,
    pub joints: usize,
    /// True when the figure is the dance's 3-D track.
    pub three_d: bool,
    pub beats: usize,
    /// Size of the embedded song (bytes) and whether it was transcoded.
    pub song_bytes: usize,
    pub song_transcoded: bool,
    pub page_bytes: usize,
}

impl ViewStats {
    pub fn duration_secs(&self) -> f64 {
        self.frames as f64 / self.fps
    }
}

/// Settings of [`view`]; with the `cli` feature, also `choreo view`'s flags (the doc comments are
/// their help).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct ViewConfig {
    /// The dance: a choreo pose file (.json); its 3-D track when it has one, else the 2-D figure.
    pub dance: PathBuf,
    /// The song the dance was made for (any format ffmpeg reads); the dance's frame 0 plays at its start (or at --start).
    #[cfg_attr(feature = "cli", arg(long))]
    pub song: PathBuf,
    /// The page to write (.html, self-contained).
    #[cfg_attr(feature = "cli", arg(long))]
    pub out: PathBuf,
    /// Beat times (one per line, seconds) for the beat tick, instead of the dance's own.
    // Instead of the dance's own `beats`.
    #[cfg_attr(feature = "cli", arg(long))]
    pub beats: Option<PathBuf>,
    /// Song time (seconds) of the dance's first frame (0 for `choreo dance` output).
    // A Tang2018 dance converted by `choreo poses` starts at its `start_position` / 25.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.0))]
    pub start: f64,
    /// Page title (default: the dance's file name).
    #[cfg_attr(feature = "cli", arg(long))]
    pub title: Option<String>,
}

/// Reads the dance, the song and the beats, and writes the page (atomically).
pub fn view(cfg: &ViewConfig) -> Result<ViewStats, RenderError> {
    if !(cfg.start.is_finite() && cfg.start >= 0.0) {
        return Err(RenderError::Invalid { path: cfg.out.clone(), reason: format!("song start must be ≥ 0 s, got {}", cfg.start) });
    }
    let (figure, dance_beats, three_d) = read_dance(&cfg.dance)?;
    figure.validate().map_err(|reason| RenderError::Invalid { path: cfg.dance.clone(), reason })?;
    let audio = crate::audio::decode::decode(&cfg.song).map_err(RenderError::Song)?;
    let song_secs = audio.duration_secs();
    drop(audio);
    // A beats file holds song times; the dance's own beats are its times (from frame 0).
    let beats = match &cfg.beats {
        Some(p) => crate::audio::read_beats_file(p, song_secs).map_err(RenderError::Song)?.iter().map(|b| b - cfg.start).collect(),
        None => dance_beats.unwrap_or_default(),
    };
    let three = ThreeJs::find(&cfg.out)?;
    crate::io::prepare_output(&cfg.out)?;
    let song = embed_song(&cfg.song, song_secs, &cfg.out)?;
    let title = cfg.title.clone().unwrap_or_else(|| cfg.dance.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default());
    let html = page(&figure, &song, cfg.start, &beats, &three, &title);
    crate::io::write_atomic(&cfg.out, html.as_bytes())?;
    Ok(ViewStats {
        frames: figure.frames.len(),
        fps: figure.fps,
        joints: figure.joints(),
        three_d,
        beats: beats.len(),
        song_bytes: song.bytes.len(),
        song_transcoded: song.transcoded,
        page_bytes: html.len(),
    })
}

/// The figure of a dance file, its beats and whether it is 3-D.
fn read_dance(path: &Path) -> Result<(Figure, Option<Vec<f64>>, bool), RenderError> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    // A BVH file: forward kinematics mapped onto humanoid18 (cm, y up), like a BVH corpus dance.
    let seq = if ext == "bvh" { crate::pose::bvh::load_sequence(path) } else { format::read(path) }.map_err(RenderError::Pose)?;
    let three_d = seq.joints3d.is_some();
    Ok((figure_of(&seq), seq.beats.clone(), three_d))
}

/// The song's bytes for the page: an mp3 of at most 192 kbit/s as it is; anything else
/// transcoded to a 128 kbit/s mp3 by ffmpeg (bit-exact flags, so the same song gives the same
/// bytes). The transcode goes through a temp file beside `out` (ffmpeg writes the mp3's gapless
/// header only to a seekable file).
pub fn embed_song(song: &Path, duration_secs: f64, out: &Path) -> Result<EmbeddedSong, RenderError> {
    let ext = song.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let io_err = |path: &Path, e: std::io::Error| RenderError::Io { path: path.into(), source: e };
    if ext == "mp3" {
        let bytes = std::fs::read(song).map_err(|e| io_err(song, e))?;
        if bytes.len() as f64 <= PASSTHROUGH_MAX_BYTES_PER_SEC * duration_secs.max(1.0) {
            return Ok(EmbeddedSong { bytes, mime: "audio/mpeg", transcoded: false, duration_secs });
        }
    }
    let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let audio_out = out.with_file_name(format!("{name}.song.mp3"));
    crate::io::clean_stale_temps(&audio_out);
    let tmp = crate::io::temp_path(&audio_out)?;
    let _ = std::fs::remove_file(&tmp);
    let mut cmd = crate::runtime::ffmpeg();
    cmd.args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(song)
        .args(["-map", "0:a:0", "-map_metadata", "-1", "-vn", "-ac", "2", "-c:a", "libmp3lame", "-b:a", &format!("{TRANSCODE_KBPS}k")])
        .args(["-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "mp3"])
        .arg(&tmp);
    let result = cmd.output();
    let res = match result {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) => {
            Err(RenderError::ToolMissing { path: out.into(), program: "ffmpeg".into() })
        }
        Err(e) => Err(io_err(out, e)),
        Ok(o) if !o.status.success() => {
            let s = String::from_utf8_lossy(&o.stderr);
            let line = s.lines().map(str::trim).filter(|l| !l.is_empty()).next_back().unwrap_or("ffmpeg failed").to_string();
            Err(RenderError::Encode { path: out.into(), reason: format!("transcoding {}: {line}", song.display()) })
        }
        Ok(_) => std::fs::read(&tmp).map_err(|e| io_err(out, e)),
    };
    let _ = std::fs::remove_file(&tmp);
    Ok(EmbeddedSong { bytes: res?, mime: "audio/mpeg", transcoded: true, duration_secs })
}

/// The page: `figure` with `song` (frame 0 at song time `start`), a tick on each of `beats`
/// (seconds from frame 0), three.js inlined.
pub fn page(figure: &Figure, song: &EmbeddedSong, start: f64, beats: &[f64], three: &ThreeJs, title: &str) -> String {
    let frames = figure.grounded_frames();
    let mut poses = Vec::with_capacity(frames.len() * figure.joints() * 12);
    for f in &frames {
        for p in f {
            for v in p {
                poses.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let beats: Vec<f64> = beats.iter().copied().filter(|b| b.is_finite() && *b >= 0.0).collect();
    let meta = serde_json::json!({
        "title": title,
        "note": figure.note,
        "fps": figure.fps,
        "frames": frames.len(),
        "joints": figure.joints(),
        "names": figure.names,
        "parents": figure.parents,
        "beats": beats,
        "view_from": figure.view_from,
        "joint_radius": JOINT_RADIUS_CM,
        "song_secs": song.duration_secs,
        "song_start": start,
        "song_mime": song.mime,
        "three_version": THREE_VERSION,
    });
    // Inside <script>, "</" could close the element: JSON allows "<\/" in its strings.
    let meta = meta.to_string().replace("</", "<\\/");
    let js_url = |src: &str| format!("data:text/javascript;base64,{}", base64(src.as_bytes()));
    fill(TEMPLATE, &|key| match key {
        "TITLE" => Some(html_escape(title)),
        "THREE_VERSION" => Some(THREE_VERSION.to_string()),
        // Inside an HTML comment: "--" may not appear there.
        "THREE_LICENSE" => Some(three.license.replace("--", "- -")),
        "THREE_CORE_URL" => Some(js_url(&three.core)),
        "THREE_MODULE_URL" => Some(js_url(&three.module)),
        "ORBIT_URL" => Some(js_url(&three.orbit_controls)),
        "META" => Some(meta.clone()),
        "POSES" => Some(base64(&poses)),
        "SONG" => Some(base64(&song.bytes)),
        "MAIN_JS" => Some(MAIN_JS.to_string()),
        _ => None,
    })
}

/// Replaces each `{{KEY}}` of `template` by `value(KEY)` in one pass (values are not scanned
/// again). Unknown keys are a bug in the template.
fn fill(template: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find("}}").expect("view template: unclosed {{");
        let key = &after[..end];
        out.push_str(&value(key).unwrap_or_else(|| panic!("view template: unknown key {key}")));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { A[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { A[n as usize & 63] as char } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::Frame;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn fill_replaces_once_and_does_not_rescan_values() {
        let s = fill("a{{X}}b{{Y}}c", &|k| Some(if k == "X" { "{{Y}}".into() } else { "y".into() }));
        assert_eq!(s, "a{{Y}}byc");
    }

    #[test]
    fn coco_tree_is_rooted_at_the_neck_and_valid() {
        let p = coco_parents();
        assert_eq!(p.iter().filter(|x| x.is_none()).count(), 1);
        assert_eq!(p[1], None);
        assert_eq!(p[4], Some(3));
        assert_eq!(p[16], Some(14));
    }

    fn standing(frames: usize) -> Sequence {
        // Nose at y 100, ankles at y 400 on a 512 canvas: 300 px nose to ankle → 2 px/cm.
        let f: Frame = std::array::from_fn(|j| {
            let y = match j {
                0 | 14..=17 => 100.0,
                10 | 13 => 400.0,
                _ => 250.0,
            };
            let x = if matches!(j, 2..=4 | 8..=10 | 14 | 16) { 236.0 } else { 276.0 };
            [x, y, if j == 17 { 0.0 } else { 1.0 }]
        });
        Sequence::new(24.0, 512, 512, vec![f; frames])
    }

    #[test]
    fn a_2d_figure_stands_in_a_vertical_plane_scaled_to_an_adult() {
        let fig = Figure::from_coco18(&standing(3));
        fig.validate().unwrap();
        assert!(fig.note.as_deref().unwrap().contains("vertical plane"));
        let f = &fig.grounded_frames()[0];
        // 2 px/cm: nose 150 cm above the ankles; ankles on the floor (their sphere touches y = 0).
        assert!((f[0][1] - f[10][1] - 150.0).abs() < 1e-3, "{:?} {:?}", f[0], f[10]);
        assert!((f[10][1] - JOINT_RADIUS_CM).abs() < 1e-3);
        assert!((f[2][0] - (236.0 - 256.0) / 2.0).abs() < 1e-4);
        assert!(f.iter().filter(|p| !p[0].is_nan()).all(|p| p[2] == 0.0));
        // Confidence 0 is missing.
        assert!(f[17][0].is_nan());
    }

    #[test]
    fn a_3d_figure_faces_the_camera() {
        use crate::pose::skeleton3d::Joint3;
        // Left shoulder at +z, right at −z: facing −x ((L − R) × up = (−d.z, 0, d.x), d = L − R).
        let mut f: Frame3 = [[0.0, 100.0, 0.0]; 18];
        f[Joint3::LeftArm as usize] = [0.0, 140.0, 20.0];
        f[Joint3::RightArm as usize] = [0.0, 140.0, -20.0];
        let fig = Figure::from_joints3d(&[f, f], 25.0);
        assert_eq!(fig.view_from, [-1.0, 0.0]);
        // Without those names: from +z.
        let other = Figure::new(vec!["a".into(), "b".into()], vec![None, Some(0)], vec![vec![[0.0; 3], [1.0; 3]]], 30.0);
        assert_eq!(other.view_from, [0.0, 1.0]);
        other.validate().unwrap();
        fig.validate().unwrap();
        assert!(fig.note.is_none());
    }

    #[test]
    fn invalid_figures_are_refused_with_a_reason() {
        let good = Figure::from_coco18(&standing(2));
        let mut bad = good.clone();
        bad.parents[0] = Some(0);
        assert!(bad.validate().unwrap_err().contains("parent"));
        let mut bad = good.clone();
        bad.parents[1] = Some(0);
        assert!(bad.validate().unwrap_err().contains("cycle"));
        let mut bad = good.clone();
        bad.frames[1].pop();
        assert!(bad.validate().unwrap_err().contains("frame 1"));
        let mut bad = good.clone();
        bad.frames[0][3][1] = f32::INFINITY;
        assert!(bad.validate().unwrap_err().contains("out of range"));
        let mut bad = good.clone();
        bad.fps = 0.0;
        assert!(bad.validate().unwrap_err().contains("frame rate"));
        let mut bad = good;
        bad.frames.clear();
        assert!(bad.validate().unwrap_err().contains("no frames"));
    }

    #[test]
    fn missing_or_wrong_three_js_names_the_set_up() {
        let e = ThreeJs::from_vendor(None, Path::new("d.html")).unwrap_err().to_string();
        assert_eq!(e, format!("d.html: three.js {THREE_VERSION} (vendor/three/) not found; run tools/setup.sh"));
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::write(dir.join("VERSION"), "0.1.0\n").unwrap();
        let e = ThreeJs::from_vendor(Some(dir.clone()), Path::new("d.html")).unwrap_err().to_string();
        assert!(e.contains("holds three.js 0.1.0") && e.ends_with("run tools/setup.sh"), "{e}");
        std::fs::write(dir.join("VERSION"), THREE_VERSION).unwrap();
        let e = ThreeJs::from_vendor(Some(dir.clone()), Path::new("d.html")).unwrap_err().to_string();
        assert!(e.contains(".js: No such file") && e.ends_with("run tools/setup.sh"), "{e}");
    }

    #[test]
    fn the_page_inlines_everything_and_says_what_it_shows() {
        let three = ThreeJs {
            core: "export const A=1;".into(),
            module: "import{A}from\"three-core\";export{A};".into(),
            orbit_controls: "export class OrbitControls{}".into(),
            license: "MIT -- three.js authors".into(),
        };
        let song = EmbeddedSong { bytes: vec![1, 2, 3], mime: "audio/mpeg", transcoded: false, duration_secs: 1.0 };
        let fig = Figure::from_coco18(&standing(2));
        let html = page(&fig, &song, 0.0, &[0.5, f64::NAN, -1.0], &three, "a </script> & b");
        assert!(html.contains("a &lt;/script&gt; &amp; b"));
        assert!(!html.contains("a </script>"));
        assert!(html.contains("vertical plane"));
        assert!(html.contains("MIT - - three.js authors"));
        assert!(html.contains(&format!("data:text/javascript;base64,{}", base64(b"export const A=1;"))));
        assert!(html.contains("\"beats\":[0.5]"));
        assert!(!html.contains("http://") && !html.contains("https://"), "nothing fetched at view time");
        // The poses: 2 frames × 18 joints × 3 f32.
        assert!(html.contains(&base64(&fig.grounded_frames()[0][0][0].to_le_bytes())[..4]));
        assert!(!html.contains("{{"), "every template key is filled");
    }
}
