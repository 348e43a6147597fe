//! Our search over the hnsw_rs graph. After a build or a load the graph is flattened into
//! contiguous arrays — all vectors in one `Vec<f32>` (n × dim, row = point number), layer 0's
//! adjacency in CSR form (offsets + u32 neighbour ids), each upper layer as CSR over its sorted
//! members — and searched the standard HNSW way: from the entry point a full greedy descent on
//! every upper layer (moving while any neighbour is closer), then a beam of width `ef` on layer 0,
//! with a visited array of generation stamps (no hashing), binary heaps, squared L2 on rows.
//! Ties are broken by point number, so results are deterministic. hnsw_rs pays about a microsecond
//! per visited point (a `HashMap`, an `Arc` clone and a lock per neighbour); this pays a distance.
//! The brute-force reference (`exact`) scans the same contiguous rows with a bounded heap.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use hnsw_rs::prelude::*;

const GRAPH_MAGIC: &[u8; 8] = b"CHOREOGR";
const GRAPH_VERSION: u32 = 1;
/// hnsw_rs graphs have at most 16 layers; a file claiming more is damaged.
const MAX_UPPER_LAYERS: usize = 64;

/// Little-endian reads that check the length left first.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.b.len()).ok_or_else(|| format!("truncated: {len} bytes wanted at offset {}, the file has {}", self.pos, self.b.len()))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn u32s(&mut self, count: usize) -> Result<Vec<u32>, String> {
        let s = self.take(count.checked_mul(4).ok_or("count too large")?)?;
        Ok(s.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// `rows` degrees, then their neighbour ids (each < `n`), as CSR offsets and ids.
    fn csr(&mut self, rows: usize, n: usize) -> Result<(Vec<usize>, Vec<u32>), String> {
        let degrees = self.u32s(rows)?;
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0usize);
        for d in &degrees {
            let next = offsets[offsets.len() - 1].checked_add(*d as usize).ok_or("degrees too large")?;
            offsets.push(next);
        }
        let neighbours = self.u32s(offsets[rows])?;
        if let Some(bad) = neighbours.iter().find(|&&x| x as usize >= n) {
            return Err(format!("neighbour {bad} out of range ({n} points)"));
        }
        Ok((offsets, neighbours))
    }
}

/// An upper layer: its members (sorted point numbers) and their neighbours in CSR form.
#[derive(Debug)]
struct Upper {
    members: Vec<u32>,
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
}

#[derive(Debug)]
pub(crate) struct Graph {
    dim: usize,
    n: usize,
    vectors: Vec<f32>,
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
    /// `upper[l - 1]` is layer l.
    upper: Vec<Upper>,
    entry: u32,
}

/// A point number and a distance in one sortable key: the distance's bits (non-negative, so they
/// order like the floats) above the number.
#[inline]
fn key(d: f32, id: u32) -> u64 {
    let d = if d.is_nan() { f32::INFINITY } else { d };
    ((d.to_bits() as u64) << 32) | id as u64
}

#[inline]
fn unkey(k: u64) -> (u32, f32) {
    (k as u32, f32::from_bits((k >> 32) as u32))
}

/// Squared Euclidean distance, 8 lanes (vectorised by the compiler), fixed summation order.
#[inline]
pub(crate) fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    if let (Ok(a), Ok(b)) = (<&[f32; 16]>::try_from(a), <&[f32; 16]>::try_from(b)) {
        return l2sq16(a, b);
    }
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    for (x, y) in ra.iter().zip(rb) {
        acc[0] += (x - y) * (x - y);
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// The 16-d case unrolled (the same sums in the same order as the general one).
#[inline(always)]
fn l2sq16(a: &[f32; 16], b: &[f32; 16]) -> f32 {
    let mut acc = [0f32; 8];
    for i in 0..8 {
        let (d0, d1) = (a[i] - b[i], a[i + 8] - b[i + 8]);
        acc[i] = d0 * d0 + d1 * d1;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

#[inline(always)]
fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; the pointer is that of a live slice.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(row.as_ptr() as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// Per-thread search scratch: generation stamps of visited points (one byte each, so that at 1M
/// points they stay in cache; cleared once every 255 searches) and the two heaps.
struct Scratch {
    stamp: Vec<u8>,
    generation: u8,
    candidates: BinaryHeap<Reverse<u64>>,
    results: BinaryHeap<u64>,
    fresh: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch { stamp: Vec::new(), generation: 0, candidates: BinaryHeap::new(), results: BinaryHeap::new(), fresh: Vec::new() }) };
}

impl Graph {
    /// Flattens an hnsw_rs graph whose data ids are the point numbers 0..n; a one-line reason if
    /// they are not, or if the vectors differ in length.
    pub(crate) fn from_hnsw(hnsw: &Hnsw<'_, f32, DistL2>, n: usize) -> Result<Graph, String> {
        let pi = hnsw.get_point_indexation();
        if pi.get_nb_point() != n {
            return Err(format!("{} points in the graph, expected {n}", pi.get_nb_point()));
        }
        if n == 0 {
            return Ok(Graph { dim: 0, n: 0, vectors: Vec::new(), offsets: vec![0], neighbours: Vec::new(), upper: Vec::new(), entry: 0 });
        }
        let top = pi.get_max_level_observed() as usize;
        let dim = pi.get_data_dimension();
        let mut vectors = vec![0f32; n * dim];
        let mut level = vec![u8::MAX; n];
        let mut l0: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut up: Vec<Vec<(u32, Vec<u32>)>> = vec![Vec::new(); top];
        for l in 0..=top {
            for p in pi.get_layer_iterator(l) {
                let id = p.get_origin_id();
                if id >= n || level[id] != u8::MAX {
                    return Err(format!("point number {id} out of range or repeated ({n} points)"));
                }
                let v = p.get_v();
                if v.len() != dim {
                    return Err(format!("point {id} has {} dimensions, the others {dim}", v.len()));
                }
                level[id] = l as u8;
                vectors[id * dim..(id + 1) * dim].copy_from_slice(v);
                let nbh = p.get_neighborhood_id();
                let ids = |layer: usize| -> Result<Vec<u32>, String> {
                    nbh.get(layer)
                        .map(|ns| ns.iter().map(|x| if x.d_id < n { Ok(x.d_id as u32) } else { Err(format!("neighbour {} of point {id} out of range", x.d_id)) }).collect())
                        .unwrap_or(Ok(Vec::new()))
                };
                l0[id] = ids(0)?;
                for (layer, u) in up.iter_mut().enumerate().take(l) {
                    u.push((id as u32, ids(layer + 1)?));
                }
            }
        }
        if let Some(missing) = level.iter().position(|&x| x == u8::MAX) {
            return Err(format!("point {missing} missing from the graph"));
        }
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let mut neighbours = Vec::with_capacity(l0.iter().map(Vec::len).sum());
        for list in l0 {
            neighbours.extend_from_slice(&list);
            offsets.push(neighbours.len());
        }
        let upper = up
            .into_iter()
            .map(|mut members| {
                members.sort_by_key(|m| m.0);
                let mut u = Upper { members: Vec::with_capacity(members.len()), offsets: vec![0], neighbours: Vec::new() };
                for (id, list) in members {
                    u.members.push(id);
                    u.neighbours.extend_from_slice(&list);
                    u.offsets.push(u.neighbours.len());
                }
                u
            })
            .collect();
        // The entry point: the lowest-numbered point on the top layer (hnsw_rs keeps its own
        // private; any top-layer point serves, this one does not depend on load order).
        let entry = level.iter().position(|&x| x as usize == top).unwrap_or(0) as u32;
        Ok(Graph { dim, n, vectors, offsets, neighbours, upper, entry })
    }

    /// The graph in choreo's own file format (all little-endian): magic `CHOREOGR`, version u32,
    /// dim u32, n u32, entry u32, upper layers u32; the n × dim vectors (f32); layer 0 as n
    /// degrees then the neighbour ids (u32); each upper layer as its member count, the members,
    /// their degrees and their neighbour ids (u32). The same graph gives the same bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.bytes() + 64);
        b.extend_from_slice(GRAPH_MAGIC);
        for x in [GRAPH_VERSION, self.dim as u32, self.n as u32, self.entry, self.upper.len() as u32] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        self.vectors.iter().for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
        let u32s = |b: &mut Vec<u8>, v: &mut dyn Iterator<Item = u32>| v.for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
        u32s(&mut b, &mut self.offsets.windows(2).map(|w| (w[1] - w[0]) as u32));
        u32s(&mut b, &mut self.neighbours.iter().copied());
        for u in &self.upper {
            b.extend_from_slice(&(u.members.len() as u32).to_le_bytes());
            u32s(&mut b, &mut u.members.iter().copied());
            u32s(&mut b, &mut u.offsets.windows(2).map(|w| (w[1] - w[0]) as u32));
            u32s(&mut b, &mut u.neighbours.iter().copied());
        }
        b
    }

    /// An upper bound on the file size of a graph of `n` points of `dim` dimensions built with M
    /// `m` (at most M neighbours per point and upper layer, 2M on layer 0).
    pub(crate) fn max_file_bytes(n: usize, dim: usize, m: usize) -> u64 {
        let m = m as u64;
        let per_point = dim as u64 * 4 + 4 + 2 * m * 4 + MAX_UPPER_LAYERS as u64 * (8 + m * 4);
        (n as u64).saturating_mul(per_point).saturating_add(28 + MAX_UPPER_LAYERS as u64 * 4)
    }

    /// Reads [`Graph::encode`]'s format; every count is checked against the bytes left before
    /// anything is allocated, every id against `n`. A one-line reason when the bytes are not a
    /// graph of `n` points of `dim` dimensions.
    pub(crate) fn decode(bytes: &[u8], n: usize, dim: usize) -> Result<Graph, String> {
        let mut r = Reader { b: bytes, pos: 0 };
        if r.take(8)? != GRAPH_MAGIC {
            return Err("not a choreo graph file (bad magic)".into());
        }
        let version = r.u32()?;
        if version != GRAPH_VERSION {
            return Err(format!("graph format version {version}, this choreo reads {GRAPH_VERSION}"));
        }
        let (d, count, entry, layers) = (r.u32()? as usize, r.u32()? as usize, r.u32()?, r.u32()? as usize);
        if d != dim || count != n {
            return Err(format!("{count} points of {d} dimensions, the manifest says {n} of {dim}"));
        }
        if n == 0 || entry as usize >= n || layers > MAX_UPPER_LAYERS {
            return Err(format!("entry point {entry} of {n} points, {layers} upper layers (at most {MAX_UPPER_LAYERS})"));
        }
        let nd = n.checked_mul(dim).ok_or("too many points")?;
        let vectors: Vec<f32> = r.take(nd.checked_mul(4).ok_or("too many points")?)?.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let (offsets, neighbours) = r.csr(n, n)?;
        let mut upper = Vec::with_capacity(layers);
        for l in 1..=layers {
            let m = r.u32()? as usize;
            if m > n {
                return Err(format!("layer {l} has {m} members, the graph {n} points"));
            }
            let members = r.u32s(m)?;
            if members.windows(2).any(|w| w[0] >= w[1]) || members.last().is_some_and(|&x| x as usize >= n) {
                return Err(format!("layer {l}: members not sorted or out of range"));
            }
            let (offsets, neighbours) = r.csr(m, n)?;
            upper.push(Upper { members, offsets, neighbours });
        }
        if r.pos != bytes.len() {
            return Err(format!("{} trailing bytes after the graph", bytes.len() - r.pos));
        }
        Ok(Graph { dim, n, vectors, offsets, neighbours, upper, entry })
    }

    pub(crate) fn len(&self) -> usize {
        self.n
    }

    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// Bytes held by the flat arrays.
    pub(crate) fn bytes(&self) -> usize {
        let u: usize = self.upper.iter().map(|u| u.members.len() * 4 + u.offsets.len() * 8 + u.neighbours.len() * 4).sum();
        self.vectors.len() * 4 + self.offsets.len() * 8 + self.neighbours.len() * 4 + u
    }

    #[inline]
    fn row(&self, id: u32) -> &[f32] {
        let i = id as usize * self.dim;
        &self.vectors[i..i + self.dim]
    }

    #[inline]
    fn layer0(&self, id: u32) -> &[u32] {
        &self.neighbours[self.offsets[id as usize]..self.offsets[id as usize + 1]]
    }

    fn upper_neighbours(&self, layer: usize, id: u32) -> &[u32] {
        let u = &self.upper[layer - 1];
        match u.members.binary_search(&id) {
            Ok(i) => &u.neighbours[u.offsets[i]..u.offsets[i + 1]],
            Err(_) => &[],
        }
    }

    /// k nearest (point number, squared distance), nearest first (ties: lower number first).
    /// Empty for k = 0, an empty graph or a query of another dimension.
    pub(crate) fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<(u32, f32)> {
        let k = k.min(self.n);
        if k == 0 || query.len() != self.dim {
            return Vec::new();
        }
        let ef = ef.max(k);
        // Greedy descent: on each upper layer, move while some neighbour is closer.
        let mut cur = self.entry;
        let mut cur_key = key(l2sq(query, self.row(cur)), cur);
        for layer in (1..=self.upper.len()).rev() {
            loop {
                let before = cur_key;
                for &nb in self.upper_neighbours(layer, cur) {
                    let kk = key(l2sq(query, self.row(nb)), nb);
                    if kk < cur_key {
                        cur_key = kk;
                    }
                }
                if cur_key == before {
                    break;
                }
                cur = unkey(cur_key).0;
            }
        }
        // Beam search on layer 0.
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            if s.stamp.len() < self.n {
                s.stamp.resize(self.n, 0);
            }
            s.generation = s.generation.wrapping_add(1);
            if s.generation == 0 {
                s.stamp.iter_mut().for_each(|x| *x = 0);
                s.generation = 1;
            }
            let g = s.generation;
            s.candidates.clear();
            s.results.clear();
            s.stamp[cur as usize] = g;
            s.candidates.push(Reverse(cur_key));
            s.results.push(cur_key);
            while let Some(Reverse(c)) = s.candidates.pop() {
                if s.results.len() >= ef && c > *s.results.peek().unwrap_or(&u64::MAX) {
                    break;
                }
                s.fresh.clear();
                for &nb in self.layer0(unkey(c).0) {
                    let st = &mut s.stamp[nb as usize];
                    if *st != g {
                        *st = g;
                        s.fresh.push(nb);
                        prefetch(self.row(nb));
                    }
                }
                for &nb in &s.fresh {
                    let kk = key(l2sq(query, self.row(nb)), nb);
                    if s.results.len() < ef || kk < *s.results.peek().unwrap_or(&u64::MAX) {
                        s.candidates.push(Reverse(kk));
                        s.results.push(kk);
                        if s.results.len() > ef {
                            s.results.pop();
                        }
                    }
                }
            }
            let mut out: Vec<u64> = s.results.drain().collect();
            out.sort_unstable();
            out.into_iter().take(k).map(unkey).collect()
        })
    }

    /// The brute-force reference: every row scanned in order, the k best kept in a bounded heap.
    pub(crate) fn exact(&self, query: &[f32], k: usize) -> Vec<(u32, f32)> {
        let k = k.min(self.n);
        if k == 0 || query.len() != self.dim {
            return Vec::new();
        }
        let mut heap: BinaryHeap<u64> = BinaryHeap::with_capacity(k + 1);
        let mut worst = f32::INFINITY;
        for (i, row) in self.vectors.chunks_exact(self.dim).enumerate() {
            let d = l2sq(query, row);
            if heap.len() < k {
                heap.push(key(d, i as u32));
                if heap.len() == k {
                    worst = unkey(*heap.peek().unwrap_or(&u64::MAX)).1;
                }
            } else if d <= worst {
                let kk = key(d, i as u32);
                if kk < *heap.peek().unwrap_or(&0) {
                    heap.pop();
                    heap.push(kk);
                    worst = unkey(*heap.peek().unwrap_or(&u64::MAX)).1;
                }
            }
        }
        let mut out = heap.into_vec();
        out.sort_unstable();
        out.into_iter().map(unkey).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn points(n: usize, d: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| (0..d).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect()
    }

    fn hnsw(pts: &[Vec<f32>]) -> Hnsw<'static, f32, DistL2> {
        let h = Hnsw::<f32, DistL2>::new(16, pts.len(), super::super::manifest::LAYERS, 100, DistL2 {});
        for (i, p) in pts.iter().enumerate() {
            h.insert_slice((p, i));
        }
        h
    }

    #[test]
    fn recall_against_exact_and_deterministic() {
        let pts = points(4000, 16, 1);
        let g = Graph::from_hnsw(&hnsw(&pts), pts.len()).unwrap();
        // 200 queries × 2 searches: the one-byte stamps wrap around on the way.
        let queries = points(200, 16, 2);
        let (mut found, mut total) = (0, 0);
        for q in &queries {
            let e = g.exact(q, 10);
            let a = g.search(q, 10, 64);
            assert_eq!(a.len(), 10);
            assert!(a.windows(2).all(|w| (w[0].1, w[0].0) <= (w[1].1, w[1].0)), "not sorted");
            assert_eq!(a, g.search(q, 10, 64), "not deterministic");
            total += e.len();
            found += e.iter().filter(|h| a.iter().any(|x| x.0 == h.0)).count();
        }
        let recall = found as f64 / total as f64;
        assert!(recall >= 0.99, "recall@10 {recall}");
        // The exact search agrees with a sort of all distances.
        let q = &queries[0];
        let mut all: Vec<(u32, f32)> = pts.iter().enumerate().map(|(i, p)| (i as u32, l2sq(q, p))).collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        assert_eq!(g.exact(q, 10), all[..10].to_vec());
    }

    #[test]
    fn file_roundtrip_gives_the_same_searches_and_damage_is_refused() {
        let pts = points(1500, 16, 4);
        let g = Graph::from_hnsw(&hnsw(&pts), pts.len()).unwrap();
        let bytes = g.encode();
        assert_eq!(bytes, g.encode());
        let back = Graph::decode(&bytes, pts.len(), 16).unwrap();
        for q in &points(100, 16, 5) {
            assert_eq!(back.search(q, 10, 64), g.search(q, 10, 64));
            assert_eq!(back.exact(q, 10), g.exact(q, 10));
        }
        assert_eq!(back.encode(), bytes);
        // Wrong counts, every truncation length class, a trailing byte, ids out of range.
        assert!(Graph::decode(&bytes, 1499, 16).unwrap_err().contains("1500 points"));
        assert!(Graph::decode(&bytes, 1500, 8).is_err());
        for cut in [0, 7, 12, 27, 28, 100, bytes.len() / 2, bytes.len() - 1] {
            assert!(Graph::decode(&bytes[..cut], 1500, 16).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Graph::decode(&longer, 1500, 16).unwrap_err().contains("trailing"));
        let mut huge = bytes.clone();
        let l0 = 28 + 1500 * 16 * 4;
        huge[l0..l0 + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Graph::decode(&huge, 1500, 16).unwrap_err().contains("truncated"));
        let mut far = bytes.clone();
        let first_id = l0 + 1500 * 4;
        far[first_id..first_id + 4].copy_from_slice(&1500u32.to_le_bytes());
        assert!(Graph::decode(&far, 1500, 16).unwrap_err().contains("out of range"));
    }

    #[test]
    fn bad_queries_and_small_graphs() {
        let pts = points(5, 16, 3);
        let g = Graph::from_hnsw(&hnsw(&pts), 5).unwrap();
        assert!(g.search(&[0.0; 3], 10, 64).is_empty());
        assert!(g.exact(&[0.0; 3], 10).is_empty());
        assert!(g.search(&pts[0], 0, 64).is_empty());
        assert_eq!(g.search(&pts[2], 10, 1).len(), 5);
        assert_eq!(g.search(&pts[2], 1, 1)[0], (2, 0.0));
        let nan = [f32::NAN; 16];
        assert_eq!(g.search(&nan, 3, 8).len(), 3);
        assert!(Graph::from_hnsw(&hnsw(&pts), 6).is_err());
        let empty = hnsw(&[]);
        assert!(Graph::from_hnsw(&empty, 0).unwrap().search(&[0.0; 16], 3, 8).is_empty());
    }
}
