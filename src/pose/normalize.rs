//! Resampling to the working frame rate and DanceIt's scale normalisation (nose-to-feet height).

use super::{Frame, Sequence, NUM_JOINTS};

/// Linearly interpolates `seq` to `fps`. Frame k of the output shows time k / fps. A joint's
/// confidence is interpolated too, but a joint missing (confidence 0) at either end stays missing.
pub fn resample(seq: &Sequence, fps: f64) -> Sequence {
    if seq.frames.is_empty() || (seq.fps - fps).abs() < 1e-9 {
        let mut s = seq.clone();
        s.fps = fps;
        return s;
    }
    let n_in = seq.frames.len();
    let dur = (n_in - 1) as f64 / seq.fps;
    let n_out = (dur * fps + 1e-9).floor() as usize + 1;
    let frames = (0..n_out)
        .map(|k| {
            let pos = k as f64 / fps * seq.fps;
            let i = (pos.floor() as usize).min(n_in - 1);
            let j = (i + 1).min(n_in - 1);
            let w = (pos - i as f64) as f32;
            lerp_frame(&seq.frames[i], &seq.frames[j], w)
        })
        .collect();
    let provenance = seq.provenance.as_ref().map(|p| {
        (0..n_out).map(|k| p[((k as f64 / fps * seq.fps).round() as usize).min(n_in - 1)].clone()).collect()
    });
    let joints3d = seq.joints3d.as_ref().filter(|j| j.len() == n_in).map(|j3| {
        (0..n_out)
            .map(|k| {
                let pos = k as f64 / fps * seq.fps;
                let i = (pos.floor() as usize).min(n_in - 1);
                let (a, b, w) = (&j3[i], &j3[(i + 1).min(n_in - 1)], (pos - i as f64) as f32);
                std::array::from_fn(|q| std::array::from_fn(|c| a[q][c] + (b[q][c] - a[q][c]) * w))
            })
            .collect()
    });
    Sequence { fps, width: seq.width, height: seq.height, frames, beats: seq.beats.clone(), provenance, joints3d }
}

/// Joint-wise linear interpolation between two frames (weight `w` on `b`).
pub fn lerp_frame(a: &Frame, b: &Frame, w: f32) -> Frame {
    let mut o = [[0.0; 3]; NUM_JOINTS];
    for j in 0..NUM_JOINTS {
        if a[j][2] <= 0.0 || b[j][2] <= 0.0 {
            o[j] = if w < 0.5 { a[j] } else { b[j] };
            if a[j][2] <= 0.0 || b[j][2] <= 0.0 {
                o[j][2] = 0.0;
            }
            continue;
        }
        for k in 0..3 {
            o[j][k] = a[j][k] + (b[j][k] - a[j][k]) * w;
        }
    }
    o
}

/// Nose-to-feet height of one frame in pixels (DanceIt's scale): from the nose (or, when the face
/// is hidden, the ears' or neck's height raised by the typical neck-to-nose gap) down to the lower
/// ankle. None when the ankles are missing.
pub fn frame_height(f: &Frame) -> Option<f32> {
    let vis = |j: usize| f[j][2] > 0.0;
    let feet = match (vis(10), vis(13)) {
        (true, true) => f[10][1].max(f[13][1]),
        (true, false) => f[10][1],
        (false, true) => f[13][1],
        _ => return None,
    };
    let top = if vis(0) {
        f[0][1]
    } else if vis(16) || vis(17) {
        let ears: Vec<f32> = [16, 17].iter().filter(|&&j| vis(j)).map(|&j| f[j][1]).collect();
        ears.iter().sum::<f32>() / ears.len() as f32
    } else if vis(1) {
        // Neck to nose is ~ 0.13 of nose-to-feet on an upright body (measured on Tang2018).
        let h = feet - f[1][1];
        f[1][1] - 0.15 * h
    } else {
        return None;
    };
    let h = feet - top;
    (h > 1.0).then_some(h)
}

/// Median nose-to-feet height over the sequence.
pub fn body_height(seq: &Sequence) -> Option<f32> {
    let mut hs: Vec<f32> = seq.frames.iter().filter_map(frame_height).collect();
    if hs.is_empty() {
        return None;
    }
    hs.sort_by(|a, b| a.total_cmp(b));
    Some(hs[hs.len() / 2])
}

/// Rescales the sequence about the canvas centre so its median nose-to-feet height is `target`
/// pixels. Returns the factor applied (1 when the height is unknown).
pub fn normalize_scale(seq: &mut Sequence, target: f32) -> f32 {
    let Some(h) = body_height(seq) else { return 1.0 };
    let s = target / h;
    let (cx, cy) = (seq.width as f32 / 2.0, seq.height as f32 / 2.0);
    for f in seq.frames.iter_mut() {
        for j in f.iter_mut() {
            j[0] = cx + (j[0] - cx) * s;
            j[1] = cy + (j[1] - cy) * s;
        }
    }
    s
}

/// Letterboxes a sequence shot on any image size onto a square `size × size` canvas (aspect kept,
/// centred), the form every stage after loading expects.
pub fn fit_canvas(seq: &Sequence, size: u32) -> Sequence {
    let (w, h) = (seq.width.max(1) as f32, seq.height.max(1) as f32);
    let s = size as f32 / w.max(h);
    let (ox, oy) = ((size as f32 - w * s) / 2.0, (size as f32 - h * s) / 2.0);
    let frames = seq
        .frames
        .iter()
        .map(|f| {
            let mut o = *f;
            for j in o.iter_mut().filter(|j| j[2] > 0.0) {
                j[0] = ox + j[0] * s;
                j[1] = oy + j[1] * s;
            }
            o
        })
        .collect();
    Sequence { fps: seq.fps, width: size, height: size, frames, beats: seq.beats.clone(), provenance: seq.provenance.clone(), joints3d: seq.joints3d.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_at(x: f32) -> Frame {
        let mut f = [[0.0; 3]; NUM_JOINTS];
        for (j, v) in f.iter_mut().enumerate() {
            *v = [x + j as f32, 10.0 * j as f32, 1.0];
        }
        f
    }

    #[test]
    fn resample_25_to_24_interpolates() {
        let frames: Vec<Frame> = (0..26).map(|i| frame_at(i as f32)).collect();
        let s = resample(&Sequence::new(25.0, 512, 512, frames), 24.0);
        assert_eq!(s.len(), 25); // 1 s of motion: frames 0..=24
        // Output frame 12 is at t = 0.5 s = source frame 12.5.
        assert!((s.frames[12][0][0] - 12.5).abs() < 1e-4);
        assert!((s.frames[24][3][0] - 28.0).abs() < 1e-4);
    }

    #[test]
    fn missing_joint_stays_missing() {
        let a = frame_at(0.0);
        let mut b = frame_at(1.0);
        b[4][2] = 0.0;
        let m = lerp_frame(&a, &b, 0.5);
        assert_eq!(m[4][2], 0.0);
        assert!(m[3][2] > 0.0);
    }

    #[test]
    fn scale_normalisation_hits_target() {
        let mut f = [[256.0, 0.0, 1.0]; NUM_JOINTS];
        f[0][1] = 100.0; // nose
        f[10][1] = 400.0;
        f[13][1] = 390.0;
        let mut s = Sequence::new(24.0, 512, 512, vec![f; 4]);
        assert_eq!(body_height(&s), Some(300.0));
        normalize_scale(&mut s, 150.0);
        assert!((body_height(&s).unwrap() - 150.0).abs() < 1e-3);
    }
}
