//! What `choreo index info` prints: the manifest in words, and its dances per genre.

use std::collections::BTreeMap;
use std::path::Path;

use super::Manifest;
use crate::corpus::Genre;

impl Manifest {
    /// The manifest of the index at `dir` in lines (each ending in a newline): format, encoder,
    /// fragments, HNSW settings, then the dances and fragments per genre.
    pub fn describe(&self, dir: &Path) -> String {
        let mut s = format!("index {} (format {}, {}; store and graph verified)\n", dir.display(), self.format_version, self.generation);
        s += &format!("encoder   {} {} ({})\n", self.encoder.architecture, self.encoder.weights_sha256.chars().take(12).collect::<String>(), self.encoder.path);
        s += &format!("fragments {} × {} frames ({} s at {} fps, {}), {}-d\n", self.fragments, self.fragment_frames, self.fragment_secs, self.fps, self.skeleton, self.embed_dim);
        let h = &self.hnsw;
        s += &format!("hnsw      M {} ef_construction {} ef_search {} layers {}\n", h.max_nb_connection, h.ef_construction, h.ef_search, h.layers);
        let mut genres = BTreeMap::<&str, (usize, usize)>::new();
        for src in &self.sources {
            let g = genres.entry(Genre::label(src.genre.as_ref())).or_default();
            g.0 += 1;
            g.1 += src.fragments;
        }
        s += &format!("dances    {}\n", self.dances);
        for (g, (d, f)) in genres {
            s += &format!("  {g:<10} {d:>4} dances {f:>6} fragments\n");
        }
        s
    }
}
