//! Stitching: the chosen fragments, one per segment, become one pose sequence.
//!
//! - **Scale**: every fragment is scaled to the dance's body scale — DanceIt's nose-to-feet ratio:
//!   the target height over the fragment's source dance's median nose-to-feet height.
//! - **Root**: a fragment that continues its predecessor in the same source dance keeps the
//!   predecessor's placement (the motion goes on untouched); any other fragment is moved so its
//!   first root (hip midpoint) lands where the previous root was heading (last position plus last
//!   velocity).
//! - **Canvas**: a slow camera (the root path smoothed over [`CAMERA_SECS`]) keeps the dancer near
//!   the middle of the canvas, so travelling and drift over minutes do not carry them off; any
//!   frame still reaching past the canvas edge is shifted back smoothly.
//! - Beat segments longer or shorter than the fragment are time-stretched (Catmull–Rom).
//! - **Tail**: frames after the last whole segment (fixed segmentation) continue the last
//!   fragment's source dance when it goes on, else hold the last pose.
//!
//! Every output frame records its provenance (source dance, source frame).

use crate::pose::motion::{gaussian, sample};
use crate::index::{FragmentId, FragmentRecord};
use crate::pose::{Frame, Provenance, Sequence};

use super::retrieve::Segment;
use super::select::root;

/// σ of the camera's smoothing of the root path, seconds.
pub const CAMERA_SECS: f64 = 2.0;
/// Margin kept free at the canvas edges, fraction of the canvas.
pub const MARGIN: f32 = 0.02;

pub struct StitchInput<'a> {
    pub records: &'a [FragmentRecord],
    pub source_names: &'a [String],
    pub source_heights: &'a [f32],
    pub fps: f64,
    pub canvas: u32,
}

#[derive(Debug, Clone, Copy)]
struct Placement {
    /// Scale about `origin`, then translate to `at`.
    origin: [f32; 2],
    scale: f32,
    at: [f32; 2],
}

impl Placement {
    fn apply(&self, f: &Frame) -> Frame {
        let mut o = *f;
        for j in o.iter_mut() {
            j[0] = self.at[0] + (j[0] - self.origin[0]) * self.scale;
            j[1] = self.at[1] + (j[1] - self.origin[1]) * self.scale;
        }
        o
    }
}

/// The target body height: the median over segments of the chosen fragments' source heights.
pub fn target_height(choices: &[FragmentId], inp: &StitchInput) -> f32 {
    let mut hs: Vec<f32> = choices.iter().map(|f| inp.source_heights[inp.records[f.0 as usize].source as usize]).collect();
    if hs.is_empty() {
        return 300.0;
    }
    hs.sort_by(|a, b| a.total_cmp(b));
    hs[hs.len() / 2]
}

/// Fragment frames stretched to `len` frames: output frame i reads source time i·n/len.
fn stretched(poses: &[Frame], len: usize) -> (Vec<Frame>, Vec<usize>) {
    let n = poses.len();
    if len == n {
        return (poses.to_vec(), (0..n).collect());
    }
    let times: Vec<f64> = (0..len).map(|i| (i as f64 * n as f64 / len as f64).min((n - 1) as f64)).collect();
    (times.iter().map(|&s| sample(poses, s)).collect(), times.iter().map(|s| s.round() as usize).collect())
}

/// Stitches `choices` (one per segment) into a sequence covering `total` frames.
pub fn stitch(segments: &[Segment], choices: &[FragmentId], total: usize, inp: &StitchInput) -> Sequence {
    let target = target_height(choices, inp);
    let mut frames: Vec<Frame> = Vec::with_capacity(total);
    let mut prov: Vec<Provenance> = Vec::with_capacity(total);
    let mut prev: Option<(FragmentId, Placement)> = None;
    let centre = inp.canvas as f32 / 2.0;
    for (seg, &fid) in segments.iter().zip(choices) {
        let rec = &inp.records[fid.0 as usize];
        let (poses, src_frames) = stretched(&rec.poses, seg.len);
        let scale = target / inp.source_heights[rec.source as usize];
        let first_root = root(&poses[0]).unwrap_or([centre, centre]);
        let place = match prev {
            Some((p, pl)) if inp.records[p.0 as usize].next == Some(fid) => Placement { scale, ..pl },
            Some(_) => {
                // Where the previous root was heading.
                let n = frames.len();
                let r1 = root(&frames[n - 1]).unwrap_or([centre, centre]);
                let r0 = if n >= 2 { root(&frames[n - 2]).unwrap_or(r1) } else { r1 };
                Placement { origin: first_root, scale, at: [2.0 * r1[0] - r0[0], 2.0 * r1[1] - r0[1]] }
            }
            None => Placement { origin: first_root, scale, at: [centre, centre + (first_root[1] - centre) * scale] },
        };
        let name = &inp.source_names[rec.source as usize];
        for (f, sf) in poses.iter().zip(src_frames) {
            frames.push(place.apply(f));
            prov.push(Provenance { dance: name.clone(), frame: rec.start as usize + sf });
        }
        prev = Some((fid, place));
    }
    // Tail: continue the last fragment's dance, or hold.
    if let Some((last, pl)) = prev {
        let rec = &inp.records[last.0 as usize];
        let cont = rec.next.map(|n| &inp.records[n.0 as usize]);
        let mut k = 0usize;
        while frames.len() < total {
            match cont {
                Some(c) if k < c.poses.len() => {
                    frames.push(pl.apply(&c.poses[k]));
                    prov.push(Provenance { dance: inp.source_names[c.source as usize].clone(), frame: c.start as usize + k });
                }
                _ => {
                    frames.push(*frames.last().unwrap());
                    prov.push(prov.last().unwrap().clone());
                }
            }
            k += 1;
        }
    }
    keep_on_canvas(&mut frames, inp.fps, inp.canvas);
    let mut seq = Sequence::new(inp.fps, inp.canvas, inp.canvas, frames);
    seq.provenance = Some(prov);
    seq
}

/// The slow camera, then a smooth push back inside the canvas.
pub fn keep_on_canvas(frames: &mut [Frame], fps: f64, canvas: u32) {
    if frames.is_empty() {
        return;
    }
    let size = canvas as f32;
    let centre = size / 2.0;
    let roots: Vec<[f32; 2]> = {
        let mut last = [centre, centre];
        frames
            .iter()
            .map(|f| {
                last = root(f).unwrap_or(last);
                last
            })
            .collect()
    };
    let sigma = CAMERA_SECS * fps;
    let rx = gaussian(&roots.iter().map(|r| r[0]).collect::<Vec<_>>(), sigma);
    let ry = gaussian(&roots.iter().map(|r| r[1]).collect::<Vec<_>>(), sigma);
    // Vertically the camera keeps the first frame's height on the canvas.
    let y_home = roots[0][1];
    let shift = |frames: &mut [Frame], dx: &[f32], dy: &[f32]| {
        for (t, f) in frames.iter_mut().enumerate() {
            for j in f.iter_mut() {
                j[0] += dx[t];
                j[1] += dy[t];
            }
        }
    };
    let dx: Vec<f32> = rx.iter().map(|x| centre - x).collect();
    let dy: Vec<f32> = ry.iter().map(|y| y_home - y).collect();
    shift(frames, &dx, &dy);
    // Push back what still pokes out: the needed shift, widened and smoothed over ±0.25 s.
    let lo = MARGIN * size;
    let hi = size - lo;
    for _ in 0..3 {
        let need: Vec<[f32; 2]> = frames
            .iter()
            .map(|f| {
                let vis = f.iter().filter(|j| j[2] > 0.0);
                let (mut x0, mut x1, mut y0, mut y1) = (f32::INFINITY, f32::NEG_INFINITY, f32::INFINITY, f32::NEG_INFINITY);
                for j in vis {
                    x0 = x0.min(j[0]);
                    x1 = x1.max(j[0]);
                    y0 = y0.min(j[1]);
                    y1 = y1.max(j[1]);
                }
                let axis = |a0: f32, a1: f32| if !a0.is_finite() { 0.0 } else if a1 - a0 > hi - lo { (lo + hi) / 2.0 - (a0 + a1) / 2.0 } else if a0 < lo { lo - a0 } else if a1 > hi { hi - a1 } else { 0.0 };
                [axis(x0, x1), axis(y0, y1)]
            })
            .collect();
        if need.iter().all(|n| n[0] == 0.0 && n[1] == 0.0) {
            break;
        }
        let r = (0.25 * fps).ceil() as usize;
        let widen = |c: usize| -> Vec<f32> {
            (0..need.len())
                .map(|t| {
                    let w = &need[t.saturating_sub(r)..(t + r + 1).min(need.len())];
                    w.iter().map(|n| n[c]).fold(0.0f32, |a, b| if b.abs() > a.abs() { b } else { a })
                })
                .collect()
        };
        let (wx, wy) = (gaussian(&widen(0), r as f64 / 2.0), gaussian(&widen(1), r as f64 / 2.0));
        shift(frames, &wx, &wy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::NUM_JOINTS;

    fn body(x: f32, y: f32) -> Frame {
        let mut f = [[0.0f32; 3]; NUM_JOINTS];
        for (j, p) in f.iter_mut().enumerate() {
            *p = [x + (j % 3) as f32 * 10.0, y - 100.0 + j as f32 * 12.0, 1.0];
        }
        f[0] = [x, y - 150.0, 1.0]; // nose
        f[10] = [x - 10.0, y + 150.0, 1.0]; // ankles
        f[13] = [x + 10.0, y + 150.0, 1.0];
        f[8] = [x - 15.0, y, 1.0]; // hips
        f[11] = [x + 15.0, y, 1.0];
        f
    }

    fn record(source: u32, start: u32, x0: f32, vx: f32, next: Option<u32>) -> FragmentRecord {
        FragmentRecord {
            source,
            start,
            poses: (0..24).map(|t| body(x0 + vx * t as f32, 256.0)).collect(),
            next: next.map(FragmentId),
            pose_embedding: vec![],
            audio_embedding: vec![],
        }
    }

    #[test]
    fn roots_are_carried_across_seams_and_continuations_kept() {
        // Fragment 0 walks right 2 px/frame from x=100; fragment 1 continues it; fragment 2 is
        // another dance far away at x=400.
        let recs = vec![record(0, 0, 100.0, 2.0, Some(1)), record(0, 24, 148.0, 2.0, None), record(1, 0, 400.0, 2.0, None)];
        let names = vec!["A".to_string(), "B".to_string()];
        let heights = vec![300.0, 300.0];
        let inp = StitchInput { records: &recs, source_names: &names, source_heights: &heights, fps: 24.0, canvas: 512 };
        let segs: Vec<Segment> = (0..3).map(|k| Segment { start: 24 * k, len: 24 }).collect();
        let ids = [FragmentId(0), FragmentId(1), FragmentId(2)];
        let s = stitch(&segs, &ids, 80, &inp);
        assert_eq!(s.len(), 80);
        let p = s.provenance.as_ref().unwrap();
        assert_eq!(p[30], Provenance { dance: "A".into(), frame: 30 });
        assert_eq!(p[50].dance, "B");
        // No frame-to-frame root jump anywhere, although fragment 2 sits 200 px away in its source.
        for t in 1..s.len() {
            let (a, b) = (root(&s.frames[t - 1]).unwrap(), root(&s.frames[t]).unwrap());
            assert!((a[0] - b[0]).abs() < 4.0 && (a[1] - b[1]).abs() < 4.0, "frame {t}: {a:?} → {b:?}");
        }
        // Everyone stays on the canvas.
        assert!(s.frames.iter().flatten().all(|j| j[0] >= 0.0 && j[0] <= 512.0 && j[1] >= 0.0 && j[1] <= 512.0));
    }

    #[test]
    fn scale_follows_the_source_heights_and_stretching_keeps_provenance() {
        let recs = vec![record(0, 0, 256.0, 0.0, None), record(1, 48, 256.0, 0.0, None)];
        let names = vec!["A".to_string(), "B".to_string()];
        // Source B's dancer is drawn twice as tall as A's: the stitched B is scaled by 1/2 → 2.
        let heights = vec![300.0, 150.0];
        let inp = StitchInput { records: &recs, source_names: &names, source_heights: &heights, fps: 24.0, canvas: 512 };
        let segs = vec![Segment { start: 0, len: 24 }, Segment { start: 24, len: 36 }];
        let s = stitch(&segs, &[FragmentId(0), FragmentId(1)], 60, &inp);
        let h = |f: &Frame| f[10][1] - f[0][1];
        // Target = median of (300, 150) = the upper one, 300: A keeps its size, B doubles.
        assert!((h(&s.frames[5]) - 300.0).abs() < 1.0);
        assert!((h(&s.frames[40]) - 600.0).abs() < 1.0, "{}", h(&s.frames[40]));
        let p = s.provenance.unwrap();
        assert_eq!(p[24], Provenance { dance: "B".into(), frame: 48 });
        assert!(p[59].frame <= 48 + 23);
    }
}
