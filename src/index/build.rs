//! Building and merging indexes. HNSW after Malkov & Yashunin: `max_nb_connection` is M, each
//! point's neighbours per layer; `ef_construction` the candidate list while inserting; 16 layers
//! (hnsw_rs only dumps a graph with exactly 16). Points are inserted one by one in fragment order,
//! and hnsw_rs draws levels from a fixed-seed generator, so the same fragments give the same graph.

use std::path::{Path, PathBuf};

use hnsw_rs::prelude::*;

use super::search::read_manifest;
use super::store::{self, FragmentRecord};
use super::{EncoderRef, FragmentId, HnswInfo, IndexError, Manifest, Source, FORMAT_VERSION};
use crate::corpus::Corpus;
use crate::model::{data, Encoders, ModelCard};

#[derive(Debug, Clone, PartialEq)]
pub struct IndexParams {
    /// M: neighbours per point and layer.
    pub max_nb_connection: usize,
    pub ef_construction: usize,
    /// Default search width recorded in the manifest.
    pub ef_search: usize,
}

impl Default for IndexParams {
    fn default() -> Self {
        IndexParams { max_nb_connection: 24, ef_construction: 200, ef_search: 64 }
    }
}

pub const LAYERS: usize = 16;
const BASENAME: &str = "graph";
const STORE: &str = "fragments.bin";

pub struct IndexBuilder {
    pub params: IndexParams,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> IndexError + '_ {
    move |e| IndexError::Io { path: path.into(), source: e }
}

impl IndexBuilder {
    pub fn new(params: IndexParams) -> Self {
        IndexBuilder { params }
    }

    /// Embeds every fragment of `corpus` and writes the index to `out` (atomically).
    /// `weights` is the encoder file, recorded in the manifest. `tick` is called per dance prepared.
    pub fn build(&self, corpus: &Corpus, enc: &Encoders, card: &ModelCard, weights: &Path, out: &Path) -> Result<Manifest, IndexError> {
        if (corpus.fps - card.fps).abs() > 1e-9 {
            return Err(IndexError::Invalid(format!("corpus loaded at {} fps but the encoder was trained at {} fps", corpus.fps, card.fps)));
        }
        let len = enc.cfg.frames;
        let dances = data::prepare(corpus, len).map_err(|e| IndexError::Invalid(e.to_string()))?;
        let all: Vec<usize> = (0..dances.len()).collect();
        let frags = data::eval_fragments(&dances, &all, len);
        if frags.is_empty() {
            return Err(IndexError::Invalid(format!("{}: no dance is long enough for one fragment of {len} frames", corpus.root.display())));
        }
        let (t, f) = (len, enc.cfg.mfcc_dim);
        let mf: Vec<f32> = frags.iter().flat_map(|&(d, s)| dances[d].mfcc[s * f..(s + t) * f].to_vec()).collect();
        let po: Vec<f32> = frags.iter().flat_map(|&(d, s)| data::pose_window(&dances[d].poses[s..s + t])).collect();
        let ae = enc.embed_audio(&mf, frags.len()).map_err(|e| IndexError::Invalid(e.to_string()))?;
        let pe = enc.embed_poses(&po, frags.len()).map_err(|e| IndexError::Invalid(e.to_string()))?;
        let e = enc.cfg.embed_dim;
        let records: Vec<FragmentRecord> = frags
            .iter()
            .enumerate()
            .map(|(i, &(d, s))| {
                let next = frags.get(i + 1).filter(|&&(d2, s2)| d2 == d && s2 == s + len).map(|_| FragmentId(i as u32 + 1));
                FragmentRecord {
                    source: d as u32,
                    start: s as u32,
                    poses: corpus.dances[d].poses.frames[s..s + len].to_vec(),
                    next,
                    pose_embedding: pe[i * e..(i + 1) * e].to_vec(),
                    audio_embedding: ae[i * e..(i + 1) * e].to_vec(),
                }
            })
            .collect();
        let sources = corpus
            .dances
            .iter()
            .enumerate()
            .map(|(d, x)| Source { name: x.name.clone(), genre: x.genre.clone(), frames: x.poses.len(), fragments: frags.iter().filter(|f| f.0 == d).count() })
            .collect();
        let encoder = EncoderRef { architecture: card.architecture.clone(), weights_sha256: card.weights_sha256.clone(), path: weights.display().to_string() };
        write_index(out, records, sources, encoder, card.fps, len, card.fragment_secs, e, &self.params)
    }
}

/// Writes store, graph and manifest into a fresh folder beside `out`, syncs them, and swaps it in.
#[allow(clippy::too_many_arguments)]
fn write_index(
    out: &Path,
    records: Vec<FragmentRecord>,
    sources: Vec<Source>,
    encoder: EncoderRef,
    fps: f64,
    len: usize,
    fragment_secs: f64,
    embed_dim: usize,
    params: &IndexParams,
) -> Result<Manifest, IndexError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = out.file_name().ok_or_else(|| IndexError::Invalid(format!("{}: not a folder name", out.display())))?.to_string_lossy().to_string();
    let tmp = parent.join(format!(".{name}.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| {
        std::fs::create_dir(&tmp).map_err(io(&tmp))?;
        let hnsw = Hnsw::<f32, DistL2>::new(params.max_nb_connection, records.len().max(1), LAYERS, params.ef_construction, DistL2 {});
        for (i, r) in records.iter().enumerate() {
            hnsw.insert_slice((&r.pose_embedding, i));
        }
        let basename = hnsw.file_dump(&tmp, BASENAME).map_err(|e| IndexError::Invalid(format!("{}: writing the HNSW graph: {e}", tmp.display())))?;
        let mut hnsw_sha256: [String; 2] = Default::default();
        for (k, ext) in ["hnsw.graph", "hnsw.data"].iter().enumerate() {
            let p = tmp.join(format!("{basename}.{ext}"));
            hnsw_sha256[k] = crate::io::sha256_hex(&std::fs::read(&p).map_err(io(&p))?);
        }
        let bytes = store::encode(&records)?;
        let sp = tmp.join(STORE);
        std::fs::write(&sp, &bytes).map_err(io(&sp))?;
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            encoder,
            fps,
            skeleton: crate::pose::format::SKELETON_NAME.into(),
            fragment_frames: len,
            fragment_secs,
            embed_dim,
            dances: sources.len(),
            fragments: records.len(),
            sources,
            hnsw: HnswInfo { basename, max_nb_connection: params.max_nb_connection, ef_construction: params.ef_construction, ef_search: params.ef_search, layers: LAYERS },
            store_file: STORE.into(),
            store_sha256: crate::io::sha256_hex(&bytes),
            hnsw_sha256,
            created_by: format!("choreo {}", env!("CARGO_PKG_VERSION")),
        };
        let mp = tmp.join("manifest.json");
        let json = serde_json::to_string_pretty(&manifest).map_err(|e| IndexError::Invalid(e.to_string()))?;
        std::fs::write(&mp, json).map_err(io(&mp))?;
        // Sync every file and the folder before it becomes visible.
        for entry in std::fs::read_dir(&tmp).map_err(io(&tmp))? {
            let p = entry.map_err(io(&tmp))?.path();
            std::fs::File::open(&p).and_then(|f| f.sync_all()).map_err(io(&p))?;
        }
        std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io(&tmp))?;
        if let Ok(v) = std::env::var("CHOREO_FAIL_BEFORE_COMMIT") {
            // Test hook: simulate a crash after writing everything, before the swap.
            if !v.is_empty() {
                return Err(IndexError::Invalid(format!("{}: build interrupted before commit (CHOREO_FAIL_BEFORE_COMMIT)", out.display())));
            }
        }
        Ok(manifest)
    })();
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    // Commit: the old index moves aside, the new one takes its name, the old one is removed.
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let had_old = out.exists();
    if had_old {
        std::fs::rename(out, &old).map_err(io(out))?;
    }
    if let Err(e) = std::fs::rename(&tmp, out) {
        if had_old {
            let _ = std::fs::rename(&old, out);
        }
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(IndexError::Io { path: out.into(), source: e });
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(manifest)
}

/// Merges indexes built with the same encoder, fps and fragment length into `out`.
pub fn merge(inputs: &[PathBuf], out: &Path, params: &IndexParams) -> Result<Manifest, IndexError> {
    let mut records = Vec::new();
    let mut sources: Vec<Source> = Vec::new();
    let mut first: Option<Manifest> = None;
    for dir in inputs {
        let ix = super::Index::open(dir)?;
        let m = ix.manifest.clone();
        if let Some(f) = &first {
            if f.encoder.weights_sha256 != m.encoder.weights_sha256 {
                return Err(IndexError::Encoder { path: dir.clone(), expected: f.encoder.weights_sha256.chars().take(12).collect(), found: m.encoder.weights_sha256.chars().take(12).collect() });
            }
            if (f.fps - m.fps).abs() > 1e-9 || f.fragment_frames != m.fragment_frames {
                return Err(IndexError::Invalid(format!("{}: {} fps × {} frames, but {} has {} fps × {} frames", dir.display(), m.fps, m.fragment_frames, inputs[0].display(), f.fps, f.fragment_frames)));
            }
        }
        let src_off = sources.len() as u32;
        let id_off = records.len() as u32;
        for mut r in ix.fragments {
            r.source += src_off;
            r.next = r.next.map(|n| FragmentId(n.0 + id_off));
            records.push(r);
        }
        sources.extend(m.sources.iter().cloned());
        first.get_or_insert(m);
    }
    let f = first.ok_or_else(|| IndexError::Invalid("merge needs at least one index".into()))?;
    write_index(out, records, sources, f.encoder.clone(), f.fps, f.fragment_frames, f.fragment_secs, f.embed_dim, params)
}

/// Reads only the manifest (for `choreo index info`).
pub fn info(dir: &Path) -> Result<Manifest, IndexError> {
    read_manifest(dir)
}
