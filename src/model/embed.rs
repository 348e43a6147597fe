//! Embedding a corpus: every dance cut into consecutive non-overlapping fragments of the encoder's
//! length, each fragment's poses and the music under them run through both encoders. What the
//! index stage stores and searches; the index itself never decodes audio or runs a network.

use super::{data, Encoders, ModelCard, ModelError};
use crate::corpus::Corpus;
use crate::pose::Frame;

/// A dance of the embedded corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedSource {
    pub name: String,
    pub genre: String,
    /// Frames of the dance (at the corpus' fps).
    pub frames: usize,
}

/// One fragment: where it lies, its poses (canvas pixels, as in the corpus) and both embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedFragment {
    /// Index into [`EmbeddedCorpus::sources`].
    pub source: usize,
    /// First frame in the source dance.
    pub start: usize,
    pub poses: Vec<Frame>,
    /// The 3-D track of the same frames, when the corpus has depth.
    pub joints3d: Option<Vec<crate::pose::skeleton3d::Frame3>>,
    pub pose_embedding: Vec<f32>,
    pub audio_embedding: Vec<f32>,
}

/// A corpus run through the encoders: fragments in dance order, then start order.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedCorpus {
    pub sources: Vec<EmbeddedSource>,
    pub fragments: Vec<EmbeddedFragment>,
    pub fps: f64,
    pub fragment_frames: usize,
    pub fragment_secs: f64,
    pub embed_dim: usize,
    /// The encoder's architecture and weights hash (from its model card).
    pub architecture: String,
    pub weights_sha256: String,
}

/// Embeds every fragment of `corpus` with `enc` (whose card is `card`).
pub fn embed_corpus(corpus: &Corpus, enc: &Encoders, card: &ModelCard) -> Result<EmbeddedCorpus, ModelError> {
    if (corpus.fps - card.fps).abs() > 1e-9 {
        return Err(ModelError::Invalid(format!("{}: corpus loaded at {} fps but the encoder was trained at {} fps", corpus.root.display(), corpus.fps, card.fps)));
    }
    let len = enc.cfg.frames;
    let dances = data::prepare(corpus, len)?;
    let all: Vec<usize> = (0..dances.len()).collect();
    let frags = data::eval_fragments(&dances, &all, len);
    if frags.is_empty() {
        return Err(ModelError::Invalid(format!("{}: no dance is long enough for one fragment of {len} frames", corpus.root.display())));
    }
    let (t, f) = (len, enc.cfg.mfcc_dim);
    let mf: Vec<f32> = frags.iter().flat_map(|&(d, s)| dances[d].mfcc[s * f..(s + t) * f].to_vec()).collect();
    let po: Vec<f32> = frags.iter().flat_map(|&(d, s)| data::pose_window(&dances[d].poses[s..s + t])).collect();
    let ae = enc.embed_audio(&mf, frags.len())?;
    let pe = enc.embed_poses(&po, frags.len())?;
    let e = enc.cfg.embed_dim;
    let fragments = frags
        .iter()
        .enumerate()
        .map(|(i, &(d, s))| EmbeddedFragment {
            source: d,
            start: s,
            poses: corpus.dances[d].poses.frames[s..s + len].to_vec(),
            joints3d: corpus.dances[d].poses.joints3d.as_ref().filter(|j| j.len() == corpus.dances[d].poses.frames.len()).map(|j| j[s..s + len].to_vec()),
            pose_embedding: pe[i * e..(i + 1) * e].to_vec(),
            audio_embedding: ae[i * e..(i + 1) * e].to_vec(),
        })
        .collect();
    let sources = corpus.dances.iter().map(|x| EmbeddedSource { name: x.name.clone(), genre: x.genre.clone(), frames: x.poses.len() }).collect();
    Ok(EmbeddedCorpus {
        sources,
        fragments,
        fps: card.fps,
        fragment_frames: len,
        fragment_secs: card.fragment_secs,
        embed_dim: e,
        architecture: card.architecture.clone(),
        weights_sha256: card.weights_sha256.clone(),
    })
}
