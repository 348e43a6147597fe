//! Retrieval (DanceIt step 1): the song is cut into consecutive clips of the index's fragment
//! length, each clip is embedded with the audio encoder, and the index returns its k nearest pose
//! fragments. The encoder must be the one the index was built with.

use crate::audio::Audio;
use crate::index::{Hit, Index};
use crate::model::{data, Encoders, ModelCard};

/// Per clip: its audio embedding and its hits, nearest first.
#[derive(Debug, Clone)]
pub struct Retrieval {
    pub clip_secs: f64,
    pub embeddings: Vec<Vec<f32>>,
    pub hits: Vec<Vec<Hit>>,
}

pub fn retrieve(index: &Index, enc: &Encoders, card: &ModelCard, song: &Audio, k: usize, ef: usize, exact: bool) -> crate::Result<Retrieval> {
    index.check_encoder(&card.weights_sha256)?;
    let len = enc.cfg.frames;
    let (mf, n) = data::song_windows(song, card.fps, len);
    if n == 0 {
        return Err(crate::Error::Invalid(format!(
            "{}: {:.2} s is shorter than one fragment ({} s)",
            song.path.display(),
            song.duration_secs(),
            card.fragment_secs
        )));
    }
    let e = enc.embed_audio(&mf, n)?;
    let d = enc.cfg.embed_dim;
    let embeddings: Vec<Vec<f32>> = e.chunks(d).map(|c| c.to_vec()).collect();
    let hits = embeddings.iter().map(|q| if exact { index.search_exact(q, k) } else { index.search(q, k, ef) }).collect();
    Ok(Retrieval { clip_secs: len as f64 / card.fps, embeddings, hits })
}
