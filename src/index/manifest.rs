//! The manifest: what an index holds (format version, encoder, fps, fragment length, sources,
//! HNSW parameters, file names and hashes), read and checked before anything else is opened.
//! Both the builder and the reader depend on this module; neither depends on the other.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::corpus::Genre;

use super::IndexError;

/// HNSW parameters of a build (recorded in the manifest); with the `cli` feature, also the flags
/// of `index build` and `index merge` (the doc comments are their help).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct IndexParams {
    /// HNSW M: neighbours per point and layer.
    #[cfg_attr(feature = "cli", arg(long = "m", value_name = "M", default_value_t = IndexParams::default().max_nb_connection))]
    pub max_nb_connection: usize,
    /// HNSW candidate list while inserting.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = IndexParams::default().ef_construction))]
    pub ef_construction: usize,
    /// Default search width stored in the manifest.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = IndexParams::default().ef_search))]
    pub ef_search: usize,
}

impl IndexParams {
    /// Checks every setting; the error names the setting.
    pub fn validate(&self) -> Result<(), crate::units::SettingError> {
        if self.max_nb_connection < 2 || self.max_nb_connection > MAX_M {
            return Err(crate::units::SettingError::new("max_nb_connection", format!("must be 2 to {MAX_M}, got {}", self.max_nb_connection)));
        }
        for (name, v) in [("ef_construction", self.ef_construction), ("ef_search", self.ef_search)] {
            if v == 0 {
                return Err(crate::units::SettingError::new(name, "must be at least 1"));
            }
        }
        Ok(())
    }
}

impl Default for IndexParams {
    fn default() -> Self {
        IndexParams { max_nb_connection: 24, ef_construction: 200, ef_search: 64 }
    }
}

/// Layers of the HNSW graph (hnsw_rs only dumped graphs with exactly 16; the level draws depend on it).
pub const LAYERS: usize = 16;
/// Version of the on-disk layout; an index of another version is refused with both named.
/// 2: generation folders under an atomically replaced `manifest.json`, the graph in choreo's own
/// format (`graph.bin`) instead of the hnsw_rs dump.
/// 3: fragment records carry the 3-D track (humanoid18) when the corpus has depth.
pub const FORMAT_VERSION: u32 = 3;
/// The manifest's file name: the one file whose atomic replacement commits a build.
pub const MANIFEST: &str = "manifest.json";

/// Limits on what a manifest may claim, checked before anything is allocated.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;
const MAX_FPS: f64 = 1000.0;
const MAX_FRAGMENT_FRAMES: usize = 100_000;
const MAX_EMBED_DIM: usize = 4096;
/// Fragment ids are u32.
const MAX_FRAGMENTS: usize = u32::MAX as usize;
const MAX_EF: usize = 1 << 20;
/// The largest HNSW M a build accepts (and a manifest may claim).
pub const MAX_M: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    /// Left out when the dance has none (format 2 stored the word `unknown`, read as none).
    #[serde(default, deserialize_with = "crate::corpus::genre::deserialize_opt", skip_serializing_if = "Option::is_none")]
    pub genre: Option<Genre>,
    pub frames: usize,
    pub fragments: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderRef {
    pub architecture: String,
    pub weights_sha256: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HnswInfo {
    pub max_nb_connection: usize,
    pub ef_construction: usize,
    pub ef_search: usize,
    pub layers: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub encoder: EncoderRef,
    pub fps: f64,
    pub skeleton: String,
    pub fragment_frames: usize,
    pub fragment_secs: f64,
    pub embed_dim: usize,
    pub dances: usize,
    pub fragments: usize,
    pub sources: Vec<Source>,
    pub hnsw: HnswInfo,
    /// The generation folder (`gen-NNNNNN`, inside the index) holding the two files below.
    pub generation: String,
    pub store_file: String,
    pub store_sha256: String,
    /// The flattened HNSW graph (choreo's format, see `graph`).
    pub graph_file: String,
    pub graph_sha256: String,
    pub created_by: String,
}

/// A file or folder name with no path in it: an index only reads files inside itself.
pub(crate) fn plain_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// The sequence number of a generation folder name `gen-NNNNNN`.
pub(crate) fn generation_seq(s: &str) -> Option<u64> {
    let d = s.strip_prefix("gen-")?;
    if d.is_empty() || d.len() > 18 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    d.parse().ok()
}

impl Manifest {
    pub fn generation_dir(&self, dir: &Path) -> PathBuf {
        dir.join(&self.generation)
    }

    pub fn store_path(&self, dir: &Path) -> PathBuf {
        self.generation_dir(dir).join(&self.store_file)
    }

    pub fn graph_path(&self, dir: &Path) -> PathBuf {
        self.generation_dir(dir).join(&self.graph_file)
    }

    /// Every field a reader relies on, in range (`path` is the manifest file, named in the error).
    pub fn check(&self, path: &Path) -> Result<(), IndexError> {
        let bad = |reason: String| Err(IndexError::Corrupt { path: path.into(), reason });
        if !(self.fps.is_finite() && self.fps >= 1.0 && self.fps <= MAX_FPS) {
            return bad(format!("fps {} out of range (1 to {MAX_FPS})", self.fps));
        }
        if self.fragment_frames == 0 || self.fragment_frames > MAX_FRAGMENT_FRAMES {
            return bad(format!("fragment_frames {} out of range (1 to {MAX_FRAGMENT_FRAMES})", self.fragment_frames));
        }
        if !(self.fragment_secs.is_finite() && self.fragment_secs > 0.0) || (self.fragment_secs * self.fps - self.fragment_frames as f64).abs() > 0.5 {
            return bad(format!("fragment_secs {} does not match {} frames at {} fps", self.fragment_secs, self.fragment_frames, self.fps));
        }
        if self.embed_dim == 0 || self.embed_dim > MAX_EMBED_DIM {
            return bad(format!("embed_dim {} out of range (1 to {MAX_EMBED_DIM})", self.embed_dim));
        }
        if self.skeleton != crate::pose::format::SKELETON_NAME {
            return bad(format!("skeleton {:?}, this choreo reads {:?}", self.skeleton, crate::pose::format::SKELETON_NAME));
        }
        if self.sources.is_empty() || self.sources.len() != self.dances {
            return bad(format!("{} sources listed, {} dances", self.sources.len(), self.dances));
        }
        let listed = self.sources.iter().try_fold(0usize, |a, s| a.checked_add(s.fragments));
        if self.fragments == 0 || self.fragments > MAX_FRAGMENTS || listed != Some(self.fragments) {
            return bad(format!("{} fragments, the sources list {}", self.fragments, listed.map_or("too many".into(), |n| n.to_string())));
        }
        if self.hnsw.ef_search == 0 || self.hnsw.ef_search > MAX_EF {
            return bad(format!("hnsw ef_search {} out of range (1 to {MAX_EF})", self.hnsw.ef_search));
        }
        if self.hnsw.max_nb_connection < 2 || self.hnsw.max_nb_connection > MAX_M {
            return bad(format!("hnsw max_nb_connection {} out of range (2 to {MAX_M})", self.hnsw.max_nb_connection));
        }
        if generation_seq(&self.generation).is_none() {
            return bad(format!("generation {:?} is not a generation folder name (gen-NNNNNN)", self.generation));
        }
        for (what, name) in [("store_file", &self.store_file), ("graph_file", &self.graph_file)] {
            if !plain_name(name) {
                return bad(format!("{what} {name:?} is not a plain file name (an index only reads files inside itself)"));
            }
        }
        Ok(())
    }
}

/// Reads `dir/manifest.json`: the version first (so another version is named), then the fields,
/// then [`Manifest::check`].
pub fn read_manifest(dir: &Path) -> Result<Manifest, IndexError> {
    let mp = dir.join(MANIFEST);
    if !dir.is_dir() || !mp.is_file() {
        return Err(IndexError::Missing { path: dir.into() });
    }
    let io = |e| IndexError::Io { path: mp.clone(), source: e };
    let len = std::fs::metadata(&mp).map_err(io)?.len();
    if len > MAX_MANIFEST_BYTES {
        return Err(IndexError::Corrupt { path: mp, reason: format!("{len} bytes, more than a manifest can be ({MAX_MANIFEST_BYTES})") });
    }
    let bytes = std::fs::read(&mp).map_err(io)?;
    // Check the version before the rest, so an index from another version names it.
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| IndexError::Corrupt { path: mp.clone(), reason: format!("manifest is not JSON: {e}") })?;
    let found = v.get("format_version").and_then(|x| x.as_u64()).unwrap_or(0).min(u32::MAX as u64) as u32;
    if found != FORMAT_VERSION {
        return Err(IndexError::Version { path: dir.into(), found, expected: FORMAT_VERSION });
    }
    let m: Manifest = serde_json::from_value(v).map_err(|e| IndexError::Corrupt { path: mp.clone(), reason: format!("manifest: {e}") })?;
    m.check(&mp)?;
    Ok(m)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            encoder: EncoderRef { architecture: "a".into(), weights_sha256: "0".repeat(64), path: "enc.safetensors".into() },
            fps: 24.0,
            skeleton: crate::pose::format::SKELETON_NAME.into(),
            fragment_frames: 24,
            fragment_secs: 1.0,
            embed_dim: 16,
            dances: 2,
            fragments: 3,
            sources: vec![
                Source { name: "A".into(), genre: Genre::parse("waltz"), frames: 60, fragments: 2 },
                Source { name: "B".into(), genre: Genre::parse("tango"), frames: 30, fragments: 1 },
            ],
            hnsw: HnswInfo { max_nb_connection: 24, ef_construction: 200, ef_search: 64, layers: LAYERS },
            generation: "gen-000001".into(),
            store_file: "fragments.bin".into(),
            store_sha256: String::new(),
            graph_file: "graph.bin".into(),
            graph_sha256: String::new(),
            created_by: "choreo test".into(),
        }
    }

    #[test]
    fn a_source_without_genre_leaves_it_out_and_reads_unknown_as_none() {
        let none = Source { name: "V".into(), genre: None, frames: 10, fragments: 1 };
        let text = serde_json::to_string(&none).unwrap();
        assert!(!text.contains("genre"), "{text}");
        assert_eq!(serde_json::from_str::<Source>(&text).unwrap(), none);
        let old: Source = serde_json::from_str(r#"{"name": "V", "genre": "unknown", "frames": 10, "fragments": 1}"#).unwrap();
        assert_eq!(old, none);
        let waltz: Source = serde_json::from_str(r#"{"name": "V", "genre": "waltz", "frames": 10, "fragments": 1}"#).unwrap();
        assert_eq!(waltz.genre.as_ref().map(Genre::as_str), Some("waltz"));
    }

    #[test]
    fn check_refuses_out_of_range_fields_and_paths() {
        let p = Path::new("x/manifest.json");
        sample().check(p).unwrap();
        let cases: Vec<(&str, Box<dyn Fn(&mut Manifest)>)> = vec![
            ("fps", Box::new(|m| m.fps = 1e308)),
            ("fps", Box::new(|m| m.fps = 0.0)),
            ("fps", Box::new(|m| m.fps = f64::NAN)),
            ("fragment_frames", Box::new(|m| m.fragment_frames = 0)),
            ("fragment_secs", Box::new(|m| m.fragment_secs = 3.0)),
            ("embed_dim", Box::new(|m| m.embed_dim = 0)),
            ("sources", Box::new(|m| m.sources.clear())),
            ("fragments", Box::new(|m| m.fragments = 4)),
            ("fragments", Box::new(|m| m.sources[0].fragments = usize::MAX)),
            ("ef_search", Box::new(|m| m.hnsw.ef_search = 0)),
            ("generation", Box::new(|m| m.generation = "../gen-000001".into())),
            ("generation", Box::new(|m| m.generation = "/tmp".into())),
            ("store_file", Box::new(|m| m.store_file = "../x".into())),
            ("store_file", Box::new(|m| m.store_file = "/etc/passwd".into())),
            ("graph_file", Box::new(|m| m.graph_file = "..".into())),
            ("skeleton", Box::new(|m| m.skeleton = "body25".into())),
        ];
        for (field, f) in cases {
            let mut m = sample();
            f(&mut m);
            let e = m.check(p).unwrap_err().to_string();
            assert!(e.starts_with("x/manifest.json: ") && e.contains(field) && !e.contains('\n'), "{field}: {e}");
        }
    }

    #[test]
    fn generation_names() {
        assert_eq!(generation_seq("gen-000012"), Some(12));
        for s in ["gen-", "gen-1a", "gen-../1", "xgen-1", "gen-1234567890123456789"] {
            assert_eq!(generation_seq(s), None, "{s}");
        }
        assert!(plain_name("graph.bin") && !plain_name("a/b") && !plain_name("..") && !plain_name(""));
    }
}
