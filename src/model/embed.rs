//! Embedding a corpus: every dance cut into consecutive non-overlapping fragments of the encoder's
//! length, each fragment's poses and the music under them run through both encoders. What the
//! index stage stores and searches; the index itself never decodes audio or runs a network.

use super::{data, Encoders, ModelCard, ModelError};
use crate::corpus::{Corpus, Genre};
use crate::pose::Frame;

/// A dance of the embedded corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedSource {
    pub name: String,
    pub genre: Option<Genre>,
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
    // Full-size batches: a fragment's embedding does not depend on the corpus around it, so the
    // shards of a corpus, merged, hold the very embeddings of the corpus built whole.
    let ae = enc.embed_audio_fixed(&mf, frags.len())?;
    let pe = enc.embed_poses_fixed(&po, frags.len())?;
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

/// A song's clips of one fragment each, embedded by the audio encoder: (rows, clips). Fails on a
/// song shorter than one fragment.
pub fn embed_song(enc: &Encoders, card: &ModelCard, song: &crate::audio::Audio) -> Result<(Vec<f32>, usize), ModelError> {
    let (mf, n) = data::song_windows(song, card.fps, enc.cfg.frames);
    if n == 0 {
        return Err(ModelError::Invalid(format!("{}: shorter than one fragment ({} s)", song.path.display(), card.fragment_secs)));
    }
    Ok((enc.embed_audio(&mf, n)?, n))
}

/// A dance's fragments (cut end to end at the model's fps), embedded by the pose encoder:
/// (rows, fragments). `path` names the dance in the error for one shorter than a fragment.
pub fn embed_dance(enc: &Encoders, card: &ModelCard, seq: &crate::pose::Sequence, path: &std::path::Path) -> Result<(Vec<f32>, usize), ModelError> {
    let len = enc.cfg.frames;
    let seq = crate::pose::normalize::resample(seq, card.fps);
    let starts: Vec<usize> = (0..seq.len() / len).map(|i| i * len).collect();
    if starts.is_empty() {
        return Err(ModelError::Invalid(format!("{}: shorter than one fragment ({} frames)", path.display(), len)));
    }
    let w = data::sequence_windows(&seq, &starts, len);
    Ok((enc.embed_poses(&w, starts.len())?, starts.len()))
}

