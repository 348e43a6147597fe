//! MoveNet SinglePose through ONNX Runtime: an RGB frame in, 17 COCO keypoints out, mapped to
//! choreo's COCO-18 [`Frame`] in the frame's pixel coordinates.
//!
//! The models (`models/movenet_{thunder,lightning}.onnx`, see ../shared/README.md) take an int32
//! NHWC RGB square `[1, S, S, 3]` (S = 256 thunder, 192 lightning) and return `[1, 1, 17, 3]` rows of
//! (y, x, score) in 0–1 of that square. The square is cut from the frame by [`Tracker`]: the whole
//! frame letterboxed when nobody was seen in the previous frame, else a square around the previous
//! frame's body (the crop rule of Google's MoveNet tutorial, `determine_crop_region`), which keeps a
//! small or off-centre dancer large in the model's input.

use std::path::{Path, PathBuf};
use ort::session::Session;
use ort::value::TensorRef;

use super::{Frame, PoseError, NUM_JOINTS};
use crate::runtime::{self, Device};

/// The two MoveNet SinglePose variants shipped in `models/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// 256² input, more accurate (the default).
    Thunder,
    /// 192² input, about 5× faster.
    Lightning,
}

impl Variant {
    pub fn file_name(self) -> &'static str {
        match self {
            Variant::Thunder => "movenet_thunder.onnx",
            Variant::Lightning => "movenet_lightning.onnx",
        }
    }
}

/// Which pose model: one of the two shipped ones, or an ONNX file of the same contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelChoice {
    Shipped(Variant),
    File(PathBuf),
}

impl std::str::FromStr for ModelChoice {
    type Err = std::convert::Infallible;
    /// `thunder`, `lightning`, or a path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "thunder" => ModelChoice::Shipped(Variant::Thunder),
            "lightning" => ModelChoice::Shipped(Variant::Lightning),
            p => ModelChoice::File(p.into()),
        })
    }
}

impl ModelChoice {
    /// The model file.
    pub fn path(&self) -> PathBuf {
        match self {
            ModelChoice::Shipped(v) => default_model(*v),
            ModelChoice::File(p) => p.clone(),
        }
    }
}

/// Where a shipped MoveNet model is, as [`crate::runtime::shipped_model`].
pub fn default_model(variant: Variant) -> PathBuf {
    runtime::shipped_model(variant.file_name())
}

#[derive(Debug, Clone, PartialEq)]
pub struct MoveNetConfig {
    /// The ONNX model file.
    pub model: PathBuf,
    pub device: Device,
    /// Keypoints scoring below this get confidence 0 (missing). Measured on the first 30 s of
    /// vtest.avi (pedestrians, tests/video.rs): frames with both wrists and ankles 247/300 at
    /// 0.15, 241 at 0.2, 151 at 0.25, 132 at 0.3, 92 at 0.35, with no anatomically implausible
    /// frame among them until 0.35; 0.2 is also the MoveNet tutorial's keypoint threshold.
    pub min_score: f32,
    /// A frame shows a person when at least this many of the 17 keypoints pass `min_score`;
    /// otherwise every joint of the frame is missing.
    pub min_keypoints: usize,
    /// ONNX Runtime intra-op threads; 0 = all cores but one (left for ffmpeg's decoding), at
    /// least one. On 2 cores shared with other work, 1 thread ran thunder at 20 frames/s, 2 at 18
    /// and ONNX Runtime's own default (spinning threads) at 8–13.
    pub threads: usize,
}

impl Default for MoveNetConfig {
    fn default() -> Self {
        MoveNetConfig { model: default_model(Variant::Thunder), device: Device::Auto, min_score: 0.2, min_keypoints: 6, threads: 0 }
    }
}

/// A loaded MoveNet model.
pub struct MoveNet {
    session: Session,
    input: String,
    output: String,
    size: u32,
    model: PathBuf,
    execution: String,
}

impl std::fmt::Debug for MoveNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MoveNet").field("model", &self.model).field("size", &self.size).field("execution", &self.execution).finish()
    }
}

impl MoveNet {
    /// Loads the model on the configured device.
    pub fn load(cfg: &MoveNetConfig) -> Result<Self, PoseError> {
        let path = cfg.model.as_path();
        if !path.is_file() {
            return Err(PoseError::Model { path: path.into(), reason: "file not found (the MoveNet models are in models/)".into() });
        }
        let env = runtime::environment()?;
        let model_err = |reason: String| PoseError::Model { path: path.into(), reason };
        let (session, execution) = match cfg.device {
            Device::Cpu => (runtime::cpu_session(env, path, cfg.threads).map_err(model_err)?, "CPU".to_string()),
            Device::Auto | Device::Cuda => match runtime::cuda_session(env, path) {
                Ok(s) => (s, "CUDA".to_string()),
                Err(why) => (runtime::cpu_session(env, path, cfg.threads).map_err(model_err)?, format!("CPU ({why})")),
            },
        };
        let input = session.inputs().first().ok_or_else(|| model_err("no input".into()))?;
        let shape: Vec<i64> = input.dtype().tensor_shape().map(|s| s.iter().copied().collect()).unwrap_or_default();
        let size = match shape.as_slice() {
            [_, h, w, 3] if h == w && *h > 0 => *h as u32,
            _ => return Err(PoseError::Shape { path: path.into(), expected: "input [1, S, S, 3]".into(), found: format!("{shape:?}") }),
        };
        let input = input.name().to_string();
        let output = session.outputs().first().ok_or_else(|| model_err("no output".into()))?.name().to_string();
        Ok(MoveNet { session, input, output, size, model: path.into(), execution })
    }

    /// Side of the model's square input in pixels.
    pub fn input_size(&self) -> u32 {
        self.size
    }

    pub fn model(&self) -> &Path {
        &self.model
    }

    /// What runs the model, e.g. `CPU`, `CUDA`, or `CPU (this build has no cuda feature)`.
    pub fn execution(&self) -> &str {
        &self.execution
    }

    /// Runs the model on the square `crop` of an RGB8 `width × height` frame. Returns the 17 COCO
    /// keypoints as (x, y, score) in frame pixels.
    pub fn infer(&mut self, rgb: &[u8], width: u32, height: u32, crop: Square) -> Result<[[f32; 3]; 17], PoseError> {
        if rgb.len() != (width as usize) * (height as usize) * 3 {
            return Err(PoseError::Shape {
                path: self.model.clone(),
                expected: format!("{width}×{height} RGB frame ({} bytes)", width as usize * height as usize * 3),
                found: format!("{} bytes", rgb.len()),
            });
        }
        let s = self.size as usize;
        let pixels = crop_resize(rgb, width as usize, height as usize, crop, s);
        let err = |e: ort::Error| PoseError::Model { path: self.model.clone(), reason: e.to_string() };
        let tensor = TensorRef::from_array_view(([1usize, s, s, 3], pixels.as_slice())).map_err(err)?;
        let outputs = self.session.run(ort::inputs![self.input.as_str() => tensor]).map_err(|e| PoseError::Model { path: self.model.clone(), reason: e.to_string() })?;
        let (shape, data) = outputs[self.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(|e| PoseError::Model { path: self.model.clone(), reason: e.to_string() })?;
        if data.len() != 17 * 3 {
            return Err(PoseError::Shape { path: self.model.clone(), expected: "output [1, 1, 17, 3]".into(), found: format!("{shape:?}") });
        }
        let mut kp = [[0.0f32; 3]; 17];
        for (k, out) in kp.iter_mut().enumerate() {
            let (y, x, score) = (data[k * 3], data[k * 3 + 1], data[k * 3 + 2]);
            *out = [crop.x0 + x * crop.side, crop.y0 + y * crop.side, if score.is_finite() { score } else { 0.0 }];
        }
        Ok(kp)
    }
}

/// A square region of a frame in pixels; it may reach past the frame's edges (filled with black).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Square {
    pub x0: f32,
    pub y0: f32,
    pub side: f32,
}

impl Square {
    /// True when `other` is close to this square: centres within 10 % of the side, sides within
    /// 15 % of each other.
    pub fn holds(&self, other: &Square) -> bool {
        let (cx, cy) = (self.x0 + self.side / 2.0, self.y0 + self.side / 2.0);
        let (ox, oy) = (other.x0 + other.side / 2.0, other.y0 + other.side / 2.0);
        (cx - ox).abs() <= 0.1 * self.side && (cy - oy).abs() <= 0.1 * self.side && (other.side / self.side - 1.0).abs() <= 0.15
    }

    /// The whole frame, letterboxed (centred) into a square.
    pub fn letterbox(width: u32, height: u32) -> Self {
        let side = width.max(height) as f32;
        Square { x0: (width as f32 - side) / 2.0, y0: (height as f32 - side) / 2.0, side }
    }
}

/// Per output pixel along one axis, the source pixels and weights: an area average when shrinking
/// (no aliasing on big downscales), bilinear when enlarging. Taps outside the frame are dropped,
/// which reads as black padding.
fn axis_taps(origin: f32, scale: f32, out_len: usize, src_len: usize) -> Vec<Vec<(usize, f32)>> {
    (0..out_len)
        .map(|i| {
            let mut taps = Vec::new();
            if scale > 1.0 {
                let (a, b) = (origin + i as f32 * scale, origin + (i + 1) as f32 * scale);
                let (p0, p1) = (a.floor().max(0.0) as usize, (b.ceil().max(0.0) as usize).min(src_len));
                for p in p0..p1 {
                    let overlap = (b.min(p as f32 + 1.0) - a.max(p as f32)).max(0.0);
                    if overlap > 0.0 {
                        taps.push((p, overlap / scale));
                    }
                }
            } else {
                let c = origin + (i as f32 + 0.5) * scale - 0.5;
                let f = c.floor();
                let w = c - f;
                for (p, wt) in [(f as i64, 1.0 - w), (f as i64 + 1, w)] {
                    if p >= 0 && (p as usize) < src_len && wt > 0.0 {
                        taps.push((p as usize, wt));
                    }
                }
            }
            taps
        })
        .collect()
}

/// Cuts `crop` out of an RGB8 frame and resizes it to `s × s`, as int32 NHWC (0–255).
pub fn crop_resize(rgb: &[u8], width: usize, height: usize, crop: Square, s: usize) -> Vec<i32> {
    let scale = crop.side / s as f32;
    let xt = axis_taps(crop.x0, scale, s, width);
    let yt = axis_taps(crop.y0, scale, s, height);
    let Some(ymin) = yt.iter().flatten().map(|t| t.0).min() else { return vec![0; s * s * 3] };
    let ymax = yt.iter().flatten().map(|t| t.0).max().unwrap_or(ymin);
    // Horizontal pass over the rows the vertical pass reads.
    let mut tmp = vec![0f32; (ymax - ymin + 1) * s * 3];
    for y in ymin..=ymax {
        let row = &rgb[y * width * 3..(y + 1) * width * 3];
        let out = &mut tmp[(y - ymin) * s * 3..(y - ymin + 1) * s * 3];
        for (ox, taps) in xt.iter().enumerate() {
            let mut acc = [0f32; 3];
            for &(p, w) in taps {
                acc[0] += row[p * 3] as f32 * w;
                acc[1] += row[p * 3 + 1] as f32 * w;
                acc[2] += row[p * 3 + 2] as f32 * w;
            }
            out[ox * 3..ox * 3 + 3].copy_from_slice(&acc);
        }
    }
    let mut out = vec![0i32; s * s * 3];
    for (oy, taps) in yt.iter().enumerate() {
        let dst = &mut out[oy * s * 3..(oy + 1) * s * 3];
        let mut acc = vec![0f32; s * 3];
        for &(p, w) in taps {
            let src = &tmp[(p - ymin) * s * 3..(p - ymin + 1) * s * 3];
            for (a, v) in acc.iter_mut().zip(src) {
                *a += v * w;
            }
        }
        for (d, a) in dst.iter_mut().zip(&acc) {
            *d = a.round().clamp(0.0, 255.0) as i32;
        }
    }
    out
}

/// COCO-17 index of each COCO-18 joint (the neck, 1, has none: it is the shoulders' midpoint).
pub const COCO18_FROM_COCO17: [Option<usize>; NUM_JOINTS] =
    [Some(0), None, Some(6), Some(8), Some(10), Some(5), Some(7), Some(9), Some(12), Some(14), Some(16), Some(11), Some(13), Some(15), Some(2), Some(1), Some(4), Some(3)];

/// Maps COCO-17 keypoints (x, y, score) to a COCO-18 frame: keypoints below `min_score` become
/// missing (confidence 0); the neck is the shoulders' midpoint with the lower of their scores.
pub fn to_coco18(kp: &[[f32; 3]; 17], min_score: f32) -> Frame {
    let mut f: Frame = [[0.0; 3]; NUM_JOINTS];
    for (j, src) in COCO18_FROM_COCO17.iter().enumerate() {
        if let Some(k) = *src {
            if kp[k][2] >= min_score {
                f[j] = kp[k];
            }
        }
    }
    let (l, r) = (kp[5], kp[6]);
    if l[2] >= min_score && r[2] >= min_score {
        f[1] = [(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0, l[2].min(r[2])];
    }
    f
}

/// MoveNet tutorial's crop rule: a square centred on the hips, big enough for the torso (×1.9)
/// and the whole body (×1.2) of this frame; None (use the whole frame) when the torso is not
/// seen or the square would be larger than the frame.
pub fn crop_around(kp: &[[f32; 3]; 17], min_score: f32, width: u32, height: u32) -> Option<Square> {
    let vis = |k: usize| kp[k][2] >= min_score;
    if !((vis(11) || vis(12)) && (vis(5) || vis(6))) {
        return None;
    }
    let hips: Vec<usize> = [11, 12].into_iter().filter(|&k| vis(k)).collect();
    let cx = hips.iter().map(|&k| kp[k][0]).sum::<f32>() / hips.len() as f32;
    let cy = hips.iter().map(|&k| kp[k][1]).sum::<f32>() / hips.len() as f32;
    let range = |ks: &mut dyn Iterator<Item = usize>| {
        ks.filter(|&k| vis(k)).fold(0.0f32, |m, k| m.max((kp[k][0] - cx).abs()).max((kp[k][1] - cy).abs()))
    };
    let torso = range(&mut [5usize, 6, 11, 12].into_iter());
    let body = range(&mut (0..17));
    let (w, h) = (width as f32, height as f32);
    let half = (torso * 1.9).max(body * 1.2).min(cx.max(w - cx).max(cy).max(h - cy));
    if half * 2.0 >= w.max(h) || half < 8.0 {
        return None;
    }
    Some(Square { x0: cx - half, y0: cy - half, side: half * 2.0 })
}

/// Runs MoveNet frame after frame, cropping around the previous frame's body.
#[derive(Debug)]
pub struct Tracker {
    net: MoveNet,
    min_score: f32,
    min_keypoints: usize,
    prev: Option<Square>,
}

impl Tracker {
    pub fn new(net: MoveNet, cfg: &MoveNetConfig) -> Self {
        Tracker { net, min_score: cfg.min_score, min_keypoints: cfg.min_keypoints.max(1), prev: None }
    }

    pub fn net(&self) -> &MoveNet {
        &self.net
    }

    /// Forgets the previous body box (next frame is searched whole).
    pub fn reset(&mut self) {
        self.prev = None;
    }

    fn found(&self, kp: &[[f32; 3]; 17]) -> bool {
        kp.iter().filter(|k| k[2] >= self.min_score).count() >= self.min_keypoints
    }

    /// The COCO-18 pose in one RGB8 frame (frame pixels), all joints missing when nobody is seen.
    pub fn detect(&mut self, rgb: &[u8], width: u32, height: u32) -> Result<Frame, PoseError> {
        let whole = Square::letterbox(width, height);
        let mut kp = self.net.infer(rgb, width, height, self.prev.unwrap_or(whole))?;
        if self.prev.is_some() && !self.found(&kp) {
            // Lost the person inside the crop: look at the whole frame again.
            kp = self.net.infer(rgb, width, height, whole)?;
        }
        if !self.found(&kp) {
            self.prev = None;
            return Ok([[0.0; 3]; NUM_JOINTS]);
        }
        let next = crop_around(&kp, self.min_score, width, height);
        // Keep the previous crop while the body stays well inside it: re-cropping on every
        // frame feeds the model's own noise back into its input and makes a still pose shimmer.
        self.prev = match (self.prev, next) {
            (Some(p), Some(n)) if p.holds(&n) => Some(p),
            _ => next,
        };
        Ok(to_coco18(&kp, self.min_score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coco17_to_coco18_with_neck() {
        let mut kp = [[0.0f32; 3]; 17];
        for (k, v) in kp.iter_mut().enumerate() {
            *v = [k as f32 * 10.0, k as f32, 0.9];
        }
        kp[6][2] = 0.5; // right shoulder less sure
        kp[16][2] = 0.1; // right ankle below threshold
        let f = to_coco18(&kp, 0.2);
        assert_eq!(f[2], kp[6]); // r_shoulder
        assert_eq!(f[5], kp[5]); // l_shoulder
        assert_eq!(f[15], kp[1]); // l_eye
        assert_eq!(f[17], kp[3]); // l_ear
        assert_eq!(f[1], [55.0, 5.5, 0.5]); // neck: midpoint, min score
        assert_eq!(f[10][2], 0.0); // r_ankle missing
        kp[5][2] = 0.0;
        assert_eq!(to_coco18(&kp, 0.2)[1][2], 0.0, "no neck without both shoulders");
    }

    /// Reference twin: bilinear sampling of one pixel, written the obvious way.
    fn sample_naive(rgb: &[u8], w: usize, h: usize, x: f32, y: f32, c: usize) -> f32 {
        let px = |xi: i64, yi: i64| {
            if xi < 0 || yi < 0 || xi >= w as i64 || yi >= h as i64 {
                0.0
            } else {
                rgb[(yi as usize * w + xi as usize) * 3 + c] as f32
            }
        };
        let (fx, fy) = (x.floor(), y.floor());
        let (wx, wy) = (x - fx, y - fy);
        let (xi, yi) = (fx as i64, fy as i64);
        px(xi, yi) * (1.0 - wx) * (1.0 - wy) + px(xi + 1, yi) * wx * (1.0 - wy) + px(xi, yi + 1) * (1.0 - wx) * wy + px(xi + 1, yi + 1) * wx * wy
    }

    #[test]
    fn crop_resize_matches_naive_bilinear_when_enlarging_and_pads_black() {
        let (w, h) = (13usize, 7usize);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 37) % 251) as u8).collect();
        let crop = Square { x0: -2.0, y0: 1.5, side: 9.0 };
        let s = 16;
        let out = crop_resize(&rgb, w, h, crop, s);
        let scale = crop.side / s as f32;
        for oy in 0..s {
            for ox in 0..s {
                for c in 0..3 {
                    let x = crop.x0 + (ox as f32 + 0.5) * scale - 0.5;
                    let y = crop.y0 + (oy as f32 + 0.5) * scale - 0.5;
                    let want = sample_naive(&rgb, w, h, x, y, c);
                    let got = out[(oy * s + ox) * 3 + c] as f32;
                    assert!((got - want).abs() <= 1.0, "({ox},{oy},{c}): {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn crop_resize_area_average_when_shrinking() {
        // 4×4 checkerboard of 0/255 shrunk to 1×1 is mid-grey; a letterboxed 8×4 frame keeps
        // black bands above and below.
        let rgb: Vec<u8> = (0..16).flat_map(|i| if (i % 4 + i / 4) % 2 == 0 { [255u8; 3] } else { [0u8; 3] }).collect();
        assert_eq!(crop_resize(&rgb, 4, 4, Square { x0: 0.0, y0: 0.0, side: 4.0 }, 1), vec![128, 128, 128]);
        let white = vec![255u8; 8 * 4 * 3];
        let out = crop_resize(&white, 8, 4, Square::letterbox(8, 4), 4);
        let row = |r: usize| out[r * 12..r * 12 + 12].to_vec();
        assert_eq!(row(0), vec![0; 12]);
        assert_eq!(row(1), vec![255; 12]);
        assert_eq!(row(2), vec![255; 12]);
        assert_eq!(row(3), vec![0; 12]);
    }

    /// Asking for CUDA never fails for want of it: without the `cuda` feature, a GPU or a CUDA
    /// build of ONNX Runtime, the model runs on CPU and says why.
    #[test]
    fn cuda_request_runs_somewhere_and_says_where() {
        if crate::runtime::onnxruntime_library().is_none() {
            eprintln!("skipping: ONNX Runtime not found (run tools/setup.sh)");
            return;
        }
        let cfg = MoveNetConfig { device: Device::Cuda, ..MoveNetConfig::default() };
        let mut net = MoveNet::load(&cfg).unwrap();
        eprintln!("--device cuda ran on: {}", net.execution());
        assert!(net.execution() == "CUDA" || net.execution().starts_with("CPU ("), "{}", net.execution());
        assert_eq!(net.input_size(), 256);
        let kp = net.infer(&vec![0u8; 64 * 48 * 3], 64, 48, Square::letterbox(64, 48)).unwrap();
        assert!(kp.iter().all(|k| k.iter().all(|v| v.is_finite())));
    }

    #[test]
    fn crop_follows_the_hips_and_gives_up_without_torso() {
        let mut kp = [[0.0f32; 3]; 17];
        kp[5] = [90.0, 100.0, 0.9];
        kp[6] = [110.0, 100.0, 0.9];
        kp[11] = [95.0, 150.0, 0.9];
        kp[12] = [105.0, 150.0, 0.9];
        kp[15] = [95.0, 200.0, 0.9];
        let c = crop_around(&kp, 0.2, 1000, 800).expect("a crop");
        assert!((c.x0 + c.side / 2.0 - 100.0).abs() < 1e-3 && (c.y0 + c.side / 2.0 - 150.0).abs() < 1e-3);
        assert!((c.side - 2.0 * 95.0).abs() < 1e-3, "torso 50 × 1.9 = 95 beats body 50 × 1.2: {c:?}");
        kp[11][2] = 0.0;
        kp[12][2] = 0.0;
        assert_eq!(crop_around(&kp, 0.2, 1000, 800), None);
    }
}
