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
//!
//! **3-D track.** When every fragment used has one, the same fragments, stretched the same way
//! and scaled by the same factor, are joined in 3-D too ([`stitch3d`]): a continuation keeps its
//! predecessor's placement; any other fragment is rotated about the vertical so its heading at
//! the seam is the previous frame's, moved so its root lands where the previous root was heading
//! (horizontally), and set on the floor: scaled about, and lifted so that, its lowest foot over the
//! fragment is at height 0; at the seam it is first lifted further so its lowest foot is where the
//! previous frame's was, a correction that fades out linearly over the fragment (so there is no
//! vertical jump and the feet return to the floor). There is no canvas camera in 3-D: the root
//! path is the dance's.

use crate::pose::motion::{gaussian, sample, sample3};
use crate::index::{FragmentId, FragmentRecord};
use crate::pose::skeleton3d::{heading, rotate_y, Frame3, Joint3};
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

/// Source times of a fragment of `n` frames stretched to `len` (as [`stretched`]).
fn stretch_times(n: usize, len: usize) -> Vec<f64> {
    (0..len).map(|i| (i as f64 * n as f64 / len as f64).min((n - 1) as f64)).collect()
}

/// Where a fragment's 3-D frames go: scale about `pivot` (the first root over the fragment's
/// floor), turn by `angle` about the vertical, then move `pivot` to `at`.
#[derive(Debug, Clone, Copy)]
struct Place3 {
    pivot: [f32; 3],
    scale: f32,
    angle: f32,
    at: [f32; 3],
}

impl Place3 {
    fn apply(&self, f: &Frame3) -> Frame3 {
        std::array::from_fn(|j| {
            let p = f[j];
            let s = [(p[0] - self.pivot[0]) * self.scale, (p[1] - self.pivot[1]) * self.scale, (p[2] - self.pivot[2]) * self.scale];
            let r = rotate_y(s, [0.0; 3], self.angle);
            [self.at[0] + r[0], self.at[1] + r[1], self.at[2] + r[2]]
        })
    }
}

/// Height of the lowest foot joint (ankles and toes) of a frame.
pub fn lowest_foot(f: &Frame3) -> f32 {
    [Joint3::LeftFoot, Joint3::LeftToeBase, Joint3::RightFoot, Joint3::RightToeBase].iter().map(|&j| f[j as usize][1]).fold(f32::INFINITY, f32::min)
}

fn wrap_angle(a: f32) -> f32 {
    let tau = std::f32::consts::TAU;
    a - tau * ((a + std::f32::consts::PI) / tau).floor()
}

/// The 3-D track of [`stitch`]'s dance: the same fragments, stretching, scale and tail, placed as
/// the module doc says. None when a fragment used has no 3-D track.
pub fn stitch3d(segments: &[Segment], choices: &[FragmentId], total: usize, inp: &StitchInput) -> Option<Vec<Frame3>> {
    let target = target_height(choices, inp);
    let tracks: Vec<&[Frame3]> = choices.iter().map(|f| inp.records[f.0 as usize].joints3d.as_deref()).collect::<Option<_>>()?;
    let mut out: Vec<Frame3> = Vec::with_capacity(total);
    let mut prev: Option<(FragmentId, Place3)> = None;
    for ((seg, &fid), track) in segments.iter().zip(choices).zip(tracks) {
        let rec = &inp.records[fid.0 as usize];
        if track.is_empty() {
            return None;
        }
        let poses: Vec<Frame3> = stretch_times(track.len(), seg.len).iter().map(|&s| sample3(track, s)).collect();
        let scale = target / inp.source_heights[rec.source as usize];
        let first = poses[0];
        let floor = poses.iter().map(lowest_foot).fold(f32::INFINITY, f32::min);
        let hips = first[Joint3::Hips as usize];
        let pivot = [hips[0], floor, hips[2]];
        let place = match prev {
            Some((p, pl)) if inp.records[p.0 as usize].next == Some(fid) => Place3 { scale, ..pl },
            Some(_) => {
                let n = out.len();
                let last = out[n - 1];
                let before = if n >= 2 { out[n - 2] } else { last };
                let (r1, r0) = (last[Joint3::Hips as usize], before[Joint3::Hips as usize]);
                let angle = match (heading(&last), heading(&first)) {
                    (Some(h1), Some(h0)) => wrap_angle(h1 - h0),
                    _ => 0.0,
                };
                // The new root, turned about the pivot, lands where the previous root was heading.
                Place3 { pivot, scale, angle, at: [2.0 * r1[0] - r0[0], 0.0, 2.0 * r1[2] - r0[2]] }
            }
            None => Place3 { pivot, scale, angle: 0.0, at: [0.0, 0.0, 0.0] },
        };
        // At a seam, the lowest foot starts where the previous frame's was; the correction fades.
        let lift = match (prev, out.last()) {
            (Some((p, _)), Some(last)) if inp.records[p.0 as usize].next != Some(fid) => lowest_foot(last) - lowest_foot(&place.apply(&first)),
            _ => 0.0,
        };
        let n = poses.len();
        out.extend(poses.iter().enumerate().map(|(k, f)| {
            let mut g = place.apply(f);
            let w = if n > 1 { 1.0 - k as f32 / (n - 1) as f32 } else { 0.0 };
            g.iter_mut().for_each(|p| p[1] += lift * w);
            g
        }));
        prev = Some((fid, place));
    }
    if let Some((last, pl)) = prev {
        let cont = inp.records[last.0 as usize].next.and_then(|n| inp.records[n.0 as usize].joints3d.as_deref());
        let mut k = 0usize;
        while out.len() < total {
            match cont {
                Some(c) if k < c.len() => out.push(pl.apply(&c[k])),
                _ => out.push(*out.last()?),
            }
            k += 1;
        }
    }
    Some(out)
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
    seq.joints3d = stitch3d(segments, choices, total, inp).filter(|j| j.len() == seq.frames.len());
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
            joints3d: None,
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

    /// A standing body at `(x, z)` facing `heading` radians (0: +z), feet at height `floor`.
    fn body3(x: f32, z: f32, heading: f32, floor: f32) -> Frame3 {
        let mut f = [[0.0f32; 3]; 18];
        let put = |side: f32, up: f32| rotate_y([x + side, floor + up, z], [x, 0.0, z], heading);
        f[Joint3::Hips as usize] = put(0.0, 95.0);
        f[Joint3::Spine as usize] = put(0.0, 120.0);
        f[Joint3::Neck as usize] = put(0.0, 145.0);
        f[Joint3::Head as usize] = put(0.0, 165.0);
        // Facing +z, the right side is -x.
        for (s, arm, fore, hand, up, leg, foot, toe) in [
            (-1.0, Joint3::RightArm, Joint3::RightForeArm, Joint3::RightHand, Joint3::RightUpLeg, Joint3::RightLeg, Joint3::RightFoot, Joint3::RightToeBase),
            (1.0, Joint3::LeftArm, Joint3::LeftForeArm, Joint3::LeftHand, Joint3::LeftUpLeg, Joint3::LeftLeg, Joint3::LeftFoot, Joint3::LeftToeBase),
        ] {
            f[arm as usize] = put(15.0 * s, 145.0);
            f[fore as usize] = put(18.0 * s, 115.0);
            f[hand as usize] = put(18.0 * s, 90.0);
            f[up as usize] = put(10.0 * s, 95.0);
            f[leg as usize] = put(10.0 * s, 50.0);
            f[foot as usize] = put(10.0 * s, 8.0);
            f[toe as usize] = put(10.0 * s, 0.0);
        }
        f
    }

    #[test]
    fn stitch3d_turns_fragments_to_the_heading_keeps_feet_down_and_carries_the_root() {
        // A walks +z facing +z on the floor; B (another dance) faces +x, walks +x, its floor 20 cm up.
        let mut a = record(0, 0, 100.0, 2.0, None);
        a.joints3d = Some((0..24).map(|t| body3(0.0, 3.0 * t as f32, 0.0, 0.0)).collect());
        let mut b = record(1, 0, 400.0, 2.0, None);
        b.joints3d = Some((0..24).map(|t| body3(500.0 + 3.0 * t as f32, -40.0, std::f32::consts::FRAC_PI_2, 20.0)).collect());
        let recs = vec![a, b];
        let names = vec!["A".to_string(), "B".to_string()];
        let heights = vec![300.0, 300.0];
        let inp = StitchInput { records: &recs, source_names: &names, source_heights: &heights, fps: 24.0, canvas: 512 };
        let segs: Vec<Segment> = (0..2).map(|k| Segment { start: 24 * k, len: 24 }).collect();
        let s = stitch(&segs, &[FragmentId(0), FragmentId(1)], 48, &inp);
        let j3 = s.joints3d.expect("every fragment has a 3-D track");
        assert_eq!(j3.len(), 48);
        for t in 1..48 {
            let (h0, h1) = (heading(&j3[t - 1]).unwrap(), heading(&j3[t]).unwrap());
            assert!(wrap_angle(h1 - h0).abs() < 1e-3, "heading kept at {t}: {h0} → {h1}");
            assert!(lowest_foot(&j3[t]).abs() < 1e-3, "feet on the floor at {t}");
            let (r0, r1) = (j3[t - 1][0], j3[t][0]);
            let step = ((r1[0] - r0[0]).powi(2) + (r1[2] - r0[2]).powi(2)).sqrt();
            assert!((step - 3.0).abs() < 1e-3, "root walks on at 3 cm/frame at {t}: {step}");
            assert!((r1[2] - r0[2] - 3.0).abs() < 1e-3, "B, turned to face +z, walks +z at {t}");
        }
        // Without a 3-D track on one fragment, none.
        let mut recs2 = recs.clone();
        recs2[1].joints3d = None;
        let inp2 = StitchInput { records: &recs2, ..inp };
        assert!(stitch(&segs, &[FragmentId(0), FragmentId(1)], 48, &inp2).joints3d.is_none());
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
