//! A video corpus: a folder of video files (mp4, mkv, webm, avi, mov), one dance per video, the
//! poses detected with MoveNet ([`crate::pose::video`]) and the music taken from the video's own
//! audio track.
//!
//! Detection is the slow part (seconds per minute of video), so its result is cached per video in
//! `<corpus>/.choreo-cache/` (or [`CorpusConfig::cache_dir`]), keyed by the SHA-256 of the video's
//! bytes (a renamed or moved video still hits, an edited one misses) plus what changes the output:
//! the model file name, the decode frame rate and the keypoint threshold. The audio track is
//! extracted once to `<hash>.wav` beside it. Every cache file is written by temp-file-then-rename,
//! so an interrupted build never leaves a half file that a later build would trust.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{CorpusConfig, CorpusError, Dance};
use crate::pose::movenet::{MoveNet, Tracker};
use crate::pose::video::{self, VideoPoseConfig};
use crate::pose::{format, PoseError};

/// Name of the cache folder made inside a video corpus.
pub const CACHE_DIR: &str = ".choreo-cache";

/// Hex SHA-256 of a file's bytes.
pub fn content_hash(path: &Path) -> Result<String, PoseError> {
    let mut f = std::fs::File::open(path).map_err(|e| PoseError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| PoseError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The cache folder for the videos of `root` under `cfg`.
pub fn cache_dir(root: &Path, cfg: &CorpusConfig) -> PathBuf {
    cfg.cache_dir.clone().unwrap_or_else(|| root.join(CACHE_DIR))
}

/// The video pose settings a corpus uses. Videos are loaded in parallel (one per core), so each
/// model gets one thread unless configured otherwise.
pub fn pose_config(cfg: &CorpusConfig) -> VideoPoseConfig {
    let mut movenet = cfg.movenet.clone();
    if movenet.threads == 0 {
        movenet.threads = 1;
    }
    VideoPoseConfig { fps: cfg.fps, movenet, clean: cfg.clean.clone(), ..VideoPoseConfig::default() }
}

/// Loads one video of a corpus: a video without an audio track, one that does not decode or one
/// where nobody is found is a recoverable [`CorpusError::Dance`] naming it.
pub fn load_video_dance(path: &Path, cfg: &CorpusConfig) -> Result<Dance, CorpusError> {
    let name = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
    let root = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let info = video::probe(path)?;
    if !info.has_audio {
        return Err(PoseError::NoAudio { path: path.into() }.into());
    }
    let cache = cache_dir(&root, cfg);
    std::fs::create_dir_all(&cache).map_err(|e| CorpusError::Io { path: cache.clone(), source: e })?;
    let hash = content_hash(path)?;
    let vcfg = pose_config(cfg);
    let (rate, _) = video::decode_rate(&info, cfg.fps);
    let model = cfg.movenet.model.file_stem().unwrap_or_default().to_string_lossy().to_string();
    let key = format!("{}.{model}.{rate:.3}fps.s{:.2}", &hash[..32], cfg.movenet.min_score);
    let poses_file = cache.join(format!("{key}.poses.json"));
    let raw = match format::read(&poses_file) {
        Ok(seq) => seq,
        Err(_) => {
            let net = MoveNet::load(&vcfg.movenet)?;
            let mut tracker = Tracker::new(net, &vcfg.movenet);
            let raw = video::detect(path, &info, &vcfg, &mut tracker, &|_| {})?;
            // Cached even when nobody was found, so a rebuild does not look again; read back so a
            // first build and a rebuild see the very same (rounded) numbers.
            format::write(&raw, &poses_file).map_err(|e| CorpusError::Invalid { path: poses_file.clone(), reason: e.to_string() })?;
            format::read(&poses_file)?
        }
    };
    let cleaned = video::finish(&raw, path, &vcfg)?;
    let wav = cache.join(format!("{}.wav", &hash[..32]));
    if !wav.is_file() {
        video::extract_audio(path, &wav)?;
    }
    Ok(Dance {
        name,
        genre: None,
        dir: path.into(),
        poses: cleaned.seq,
        keep: cleaned.keep,
        clean_stats: cleaned.stats,
        audio: wav,
        audio_offset: 0.0,
    })
}
