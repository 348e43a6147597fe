//! Corpus stage: a folder of dances in (format detected from its contents), [`Corpus`] of cleaned
//! COCO-18 dances at the working frame rate out, and from it [`Fragment`]s with their MFCC windows.
//!
//! Formats:
//! - **Tang2018**: `DANCE_<G>_<n>/{skeletons.json, config.json, audio.mp3}` (G: C cha-cha,
//!   R rumba, T tango, W waltz). See [`crate::pose::tang2018`] for the 3-D → 2-D projection.
//! - **OpenPose**: `<dance>/{keypoints/*.json, audio.<ext>, config.json}`, where config.json is
//!   `{"fps": 30, "width": 1920, "height": 1080, "start_seconds": 0.0, "genre": "waltz"}`
//!   (fps required; the rest optional). Poses are letterboxed onto the 512 canvas.
//! - **Video**: video files (mp4, mkv, webm, avi, mov) side by side, one dance each: poses
//!   detected with MoveNet and cached in `.choreo-cache/`, music from the video's audio track.
//!   See [`video`].
//! - **BVH**: `NAME.bvh` files side by side, each with its music `NAME.{wav,mp3,ogg,flac,…}` (same
//!   stem) and optionally `NAME.json` = `{"start_seconds": 0.0, "genre": "waltz"}` (song time of
//!   the first frame; default 0, no genre). Any humanoid skeleton (see
//!   [`crate::pose::bvh`] for the accepted joint names and units); dances keep their 3-D joints
//!   (`joints3d`) beside the COCO-18 projection ([`crate::pose::skeleton3d::project_coco18`]).

pub mod fragment;
pub mod genre;
pub mod stats;
pub mod video;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use crate::pose::clean::{clean, CleanConfig, CleanStats};
use crate::pose::movenet::MoveNetConfig;
use crate::pose::{openpose, tang2018, PoseError, Sequence};

pub use fragment::{fragments, Fragment, FragmentConfig};
pub use genre::Genre;
pub use stats::{stats, CorpusStats};

/// Canvas size every corpus is brought to.
pub use crate::pose::CANVAS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusFormat {
    Tang2018,
    OpenPose,
    Video,
    Bvh,
}

impl std::fmt::Display for CorpusFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CorpusFormat::Tang2018 => "tang2018",
            CorpusFormat::OpenPose => "openpose",
            CorpusFormat::Video => "video",
            CorpusFormat::Bvh => "bvh",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CorpusConfig {
    /// Working frame rate every dance is resampled to.
    pub fps: f64,
    pub clean: CleanConfig,
    /// Pose estimator for a video corpus.
    pub movenet: MoveNetConfig,
    /// Where a video corpus caches detected poses and audio (default `<corpus>/.choreo-cache`).
    pub cache_dir: Option<PathBuf>,
    /// Videos: take the poses only from the cache (filled beforehand, e.g. on other machines,
    /// with [`video::fill_cache`]); a video not in it fails the load instead of being detected.
    pub cached_only: bool,
}

impl Default for CorpusConfig {
    fn default() -> Self {
        CorpusConfig { fps: crate::units::DEFAULT_FPS, clean: CleanConfig::default(), movenet: MoveNetConfig::default(), cache_dir: None, cached_only: false }
    }
}

/// One dance of a corpus, cleaned and at the working frame rate.
#[derive(Debug, Clone)]
pub struct Dance {
    /// Folder name, e.g. `DANCE_W_1` (a video's or BVH file's stem).
    pub name: String,
    /// `None` when the corpus does not name it.
    pub genre: Option<Genre>,
    /// The dance folder (the video or BVH file, in a video or BVH corpus).
    pub dir: PathBuf,
    pub poses: Sequence,
    /// Frames kept by the cleaner (fragments are cut only from runs of kept frames).
    pub keep: Vec<bool>,
    pub clean_stats: CleanStats,
    pub audio: PathBuf,
    /// Song time (seconds) of dance frame 0.
    pub audio_offset: f64,
}

impl Dance {
    pub fn duration_secs(&self) -> f64 {
        self.poses.duration_secs()
    }
}

#[derive(Debug, Clone)]
pub struct Corpus {
    pub root: PathBuf,
    pub format: CorpusFormat,
    pub fps: f64,
    /// Dances in natural name order (W_2 before W_10).
    pub dances: Vec<Dance>,
}

/// Errors of the corpus stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CorpusError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: no dances found (expected Tang2018 DANCE_<G>_<n> folders with skeletons.json, OpenPose folders with keypoints/ and an audio file, BVH files with their audio, or video files)", path.display())]
    NoDances { path: PathBuf },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    /// A single dance that could not be loaded; callers may skip it and count it.
    #[error(transparent)]
    Dance(#[from] PoseError),
}

impl CorpusError {
    /// True for errors that concern one dance only: a corpus build may skip it and go on.
    pub fn is_recoverable(&self) -> bool {
        matches!(self, CorpusError::Dance(_))
    }
}

/// Sort key for natural order: digit runs compare as numbers.
pub fn natural_key(s: &str) -> Vec<(u8, u64, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(d);
                chars.next();
            }
            out.push((1, n.parse().unwrap_or(u64::MAX), String::new()));
        } else {
            let mut t = String::new();
            while let Some(&d) = chars.peek().filter(|d| !d.is_ascii_digit()) {
                t.push(d);
                chars.next();
            }
            out.push((0, 0, t));
        }
    }
    out
}

fn tang_genre(name: &str) -> Option<Genre> {
    match name.split('_').nth(1) {
        Some("C") => Genre::parse("cha-cha"),
        Some("R") => Genre::parse("rumba"),
        Some("T") => Genre::parse("tango"),
        Some("W") => Genre::parse("waltz"),
        _ => None,
    }
}

const AUDIO_EXTS: &[&str] = &["mp3", "wav", "ogg", "flac", "opus", "m4a", "aac"];

fn find_audio(dir: &Path) -> Option<PathBuf> {
    let mut c: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| AUDIO_EXTS.contains(&x.to_string_lossy().to_ascii_lowercase().as_str())))
        .collect();
    c.sort();
    c.into_iter().next()
}

/// Lists the dance folders of a corpus and detects its format.
pub fn scan(root: &Path) -> Result<(CorpusFormat, Vec<PathBuf>), CorpusError> {
    let meta = std::fs::metadata(root).map_err(|e| CorpusError::Io { path: root.into(), source: e })?;
    if !meta.is_dir() {
        return Err(CorpusError::Invalid { path: root.into(), reason: "a corpus must be a folder of dances".into() });
    }
    let rd = std::fs::read_dir(root).map_err(|e| CorpusError::Io { path: root.into(), source: e })?;
    let mut dirs: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort_by_key(|p| natural_key(&p.file_name().unwrap_or_default().to_string_lossy()));
    let tang: Vec<PathBuf> = dirs.iter().filter(|d| d.join("skeletons.json").is_file()).cloned().collect();
    let op: Vec<PathBuf> = dirs.iter().filter(|d| d.join("keypoints").is_dir()).cloned().collect();
    match (tang.is_empty(), op.is_empty()) {
        (false, true) => Ok((CorpusFormat::Tang2018, tang)),
        (true, false) => Ok((CorpusFormat::OpenPose, op)),
        (false, false) => Err(CorpusError::Invalid { path: root.into(), reason: "mixes Tang2018 and OpenPose dances; use one format per corpus".into() }),
        (true, true) => {
            let rd = std::fs::read_dir(root).map_err(|e| CorpusError::Io { path: root.into(), source: e })?;
            let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
            files.sort_by_key(|p| natural_key(&p.file_name().unwrap_or_default().to_string_lossy()));
            let is_bvh = |p: &PathBuf| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("bvh"));
            let bvh: Vec<PathBuf> = files.iter().filter(|p| is_bvh(p)).cloned().collect();
            let videos: Vec<PathBuf> = files.into_iter().filter(|p| crate::pose::video::is_video(p)).collect();
            match (bvh.is_empty(), videos.is_empty()) {
                (false, true) => Ok((CorpusFormat::Bvh, bvh)),
                (true, false) => Ok((CorpusFormat::Video, videos)),
                (false, false) => Err(CorpusError::Invalid { path: root.into(), reason: "mixes BVH files and videos; use one format per corpus".into() }),
                (true, true) => Err(CorpusError::NoDances { path: root.into() }),
            }
        }
    }
}

/// The format of one dance given by path: a video file, or a Tang2018 or OpenPose dance folder.
fn dance_format(p: &Path) -> Result<CorpusFormat, CorpusError> {
    let meta = std::fs::metadata(p).map_err(|e| CorpusError::Io { path: p.into(), source: e })?;
    if meta.is_file() && crate::pose::video::is_video(p) {
        Ok(CorpusFormat::Video)
    } else if meta.is_dir() && p.join("skeletons.json").is_file() {
        Ok(CorpusFormat::Tang2018)
    } else if meta.is_dir() && p.join("keypoints").is_dir() {
        Ok(CorpusFormat::OpenPose)
    } else {
        Err(CorpusError::Invalid { path: p.into(), reason: "not a dance (a video file, or a Tang2018 or OpenPose dance folder)".into() })
    }
}

/// A corpus given as a list of dances (dance folders or video files, all of one format; they
/// may lie in different folders), in the order given: what a [`scan`] of a folder gives, for a
/// chosen subset such as one shard of a larger corpus.
pub fn scan_list(paths: &[PathBuf]) -> Result<CorpusFormat, CorpusError> {
    let first = paths.first().ok_or_else(|| CorpusError::NoDances { path: PathBuf::from("(empty list)") })?;
    let format = dance_format(first)?;
    for p in &paths[1..] {
        let f = dance_format(p)?;
        if f != format {
            return Err(CorpusError::Invalid { path: p.clone(), reason: format!("a {f} dance in a list of {format} dances; use one format per corpus") });
        }
    }
    Ok(format)
}

/// [`load_with_progress`] for a list of dances ([`scan_list`]); the corpus root is the first
/// dance's folder.
pub fn load_list(paths: &[PathBuf], cfg: &CorpusConfig, tick: &(dyn Fn() + Sync)) -> Result<(Corpus, Vec<CorpusError>), CorpusError> {
    let format = scan_list(paths)?;
    let root = paths[0].parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    load_dances(&root, format, paths, cfg, tick)
}

#[derive(Deserialize)]
struct OpenPoseConfig {
    fps: f64,
    width: Option<u32>,
    height: Option<u32>,
    #[serde(default)]
    start_seconds: f64,
    #[serde(default, deserialize_with = "genre::deserialize_opt")]
    genre: Option<Genre>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BvhSidecar {
    #[serde(default)]
    start_seconds: f64,
    #[serde(default, deserialize_with = "genre::deserialize_opt")]
    genre: Option<Genre>,
}

/// The audio file beside `NAME.bvh`: `NAME.<audio ext>` (first in extension order).
fn bvh_audio(bvh: &Path) -> Option<PathBuf> {
    AUDIO_EXTS.iter().map(|x| bvh.with_extension(x)).find(|p| p.is_file())
}

/// Loads one dance of a BVH corpus: `NAME.bvh`, its audio and optional `NAME.json`.
fn load_bvh_dance(file: &Path, cfg: &CorpusConfig) -> Result<Dance, CorpusError> {
    let name = file.file_stem().unwrap_or_default().to_string_lossy().to_string();
    let audio = bvh_audio(file).ok_or_else(|| CorpusError::Dance(PoseError::parse(file, format!("no audio file {name}.{{wav,mp3,ogg,flac,opus,m4a,aac}} beside it"))))?;
    let side = file.with_extension("json");
    let (audio_offset, genre) = if side.is_file() {
        let bytes = std::fs::read(&side).map_err(|e| CorpusError::Dance(PoseError::io(&side, e)))?;
        let c: BvhSidecar = serde_json::from_slice(&bytes).map_err(|e| CorpusError::Dance(PoseError::parse(&side, format!("bad BVH dance settings (expected {{\"start_seconds\": s, \"genre\": g}}): {e}"))))?;
        if !c.start_seconds.is_finite() || c.start_seconds < 0.0 {
            return Err(CorpusError::Dance(PoseError::parse(&side, "start_seconds must be a non-negative number of seconds")));
        }
        (c.start_seconds, c.genre)
    } else {
        (0.0, None)
    };
    let seq = crate::pose::bvh::load_sequence(file)?;
    let poses = crate::pose::normalize::resample(&seq, cfg.fps);
    let cleaned = clean(&poses, &cfg.clean);
    Ok(Dance { name, genre, dir: file.into(), poses: cleaned.seq, keep: cleaned.keep, clean_stats: cleaned.stats, audio, audio_offset })
}

/// Loads one dance folder (a file, for the video and BVH formats).
pub fn load_dance(dir: &Path, format: CorpusFormat, cfg: &CorpusConfig) -> Result<Dance, CorpusError> {
    if format == CorpusFormat::Video {
        return video::load_video_dance(dir, cfg);
    }
    if format == CorpusFormat::Bvh {
        return load_bvh_dance(dir, cfg);
    }
    let name = dir.file_name().unwrap_or_default().to_string_lossy().to_string();
    let audio = find_audio(dir).ok_or_else(|| CorpusError::Dance(PoseError::parse(dir, "no audio file (mp3, wav, ogg, flac, opus, m4a) beside the poses")))?;
    let (poses, genre, audio_offset) = match format {
        CorpusFormat::Tang2018 => {
            let (seq, meta) = tang2018::load_dance(dir, cfg.fps)?;
            (seq, tang_genre(&name), meta.audio_offset)
        }
        CorpusFormat::OpenPose => {
            let p = dir.join("config.json");
            let bytes = std::fs::read(&p).map_err(|e| CorpusError::Dance(PoseError::io(&p, e)))?;
            let c: OpenPoseConfig = serde_json::from_slice(&bytes).map_err(|e| CorpusError::Dance(PoseError::parse(&p, format!("bad config.json: {e}"))))?;
            crate::pose::format::check_fps(&p, c.fps).map_err(CorpusError::Dance)?;
            let size = c.width.zip(c.height);
            (openpose::load_dir(&dir.join("keypoints"), c.fps, size, cfg.fps)?, c.genre, c.start_seconds)
        }
        CorpusFormat::Video => return video::load_video_dance(dir, cfg),
        CorpusFormat::Bvh => return load_bvh_dance(dir, cfg),
    };
    let cleaned = clean(&poses, &cfg.clean);
    Ok(Dance { name, genre, dir: dir.into(), poses: cleaned.seq, keep: cleaned.keep, clean_stats: cleaned.stats, audio, audio_offset })
}

/// Loads every dance of a corpus (in parallel). Dances that fail are returned beside the corpus,
/// so a caller can report them (`path: error`) and go on; no dance at all is an error.
pub fn load(root: &Path, cfg: &CorpusConfig) -> Result<(Corpus, Vec<CorpusError>), CorpusError> {
    load_with_progress(root, cfg, &|| {})
}

/// [`load`], calling `tick` as each dance finishes.
pub fn load_with_progress(root: &Path, cfg: &CorpusConfig, tick: &(dyn Fn() + Sync)) -> Result<(Corpus, Vec<CorpusError>), CorpusError> {
    let (format, dirs) = scan(root)?;
    load_dances(root, format, &dirs, cfg, tick)
}

/// Loads the dances `dirs` (in parallel). A dance's own failure is returned beside the corpus;
/// a failure that is not one dance's ([`CorpusError::is_recoverable`] false: the cache not
/// writable, or not filled for a cache-only load) fails the whole load.
fn load_dances(root: &Path, format: CorpusFormat, dirs: &[PathBuf], cfg: &CorpusConfig, tick: &(dyn Fn() + Sync)) -> Result<(Corpus, Vec<CorpusError>), CorpusError> {
    let results: Vec<Result<Dance, CorpusError>> = dirs
        .par_iter()
        .map(|d| {
            let r = load_dance(d, format, cfg);
            tick();
            r
        })
        .collect();
    let mut dances = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(d) => dances.push(d),
            Err(e) if !e.is_recoverable() => return Err(e),
            Err(e) => failed.push(e),
        }
    }
    if dances.is_empty() {
        return match failed.into_iter().next() {
            Some(e) => Err(e),
            None => Err(CorpusError::NoDances { path: root.into() }),
        };
    }
    Ok((Corpus { root: root.into(), format, fps: cfg.fps, dances }, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["DANCE_W_10", "DANCE_W_2", "DANCE_C_8", "DANCE_W_1"];
        v.sort_by_key(|s| natural_key(s));
        assert_eq!(v, ["DANCE_C_8", "DANCE_W_1", "DANCE_W_2", "DANCE_W_10"]);
    }

    #[test]
    fn empty_folder_is_an_error_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let e = load(d.path(), &CorpusConfig::default()).unwrap_err().to_string();
        assert!(e.contains(&d.path().display().to_string()) && e.contains("no dances"), "{e}");
    }
}
