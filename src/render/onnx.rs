//! Learned renderer (DanceIt's imagination module): ONNX models run by ONNX Runtime turn the
//! skeleton renderer's pose maps into pictures of the target person.
//!
//! The contract, checked when a model is loaded (a model outside it is refused with a message that
//! states it, [`CONTRACT`] and [`FACE_CONTRACT`]):
//! - generator: input float32 `[N,3,H,W]`, the pose map exactly as [`super::draw_frame`] rasters it
//!   (RGB, `v / 127.5 - 1`, so in [-1, 1]) → output float32 `[N,3,H,W]` RGB in [-1, 1]. H = W; fixed
//!   in the model (the pose map is drawn at that size and ffmpeg scales the video to `--size`) or
//!   dynamic (run at `--size`). N fixed or dynamic (frames are batched either way).
//! - face model (optional): input float32 `[N,6,h,w]`, the generated frame's crop (3 channels) and the
//!   pose map's crop (3), both in [-1, 1], a square of side h = w centred on the nose → output
//!   `[N,3,h,w]`, a residual added to the generated crop, weighted by a mask that is 1 inside and
//!   falls linearly to 0 over the outer fifth of the crop ([`face_mask`]). The side is the model's
//!   (fixed) h, or when dynamic [`face_side`]: DanceIt's 50 px at 512², scaled with the frame.
//!   Frames whose nose is missing keep the generator's face.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ort::session::Session;
use ort::value::{TensorElementType, TensorRef};

use super::{Canvas, RenderError};
use crate::runtime::{self, Device};
use crate::pose::Frame;

/// What a generator must look like.
pub const CONTRACT: &str =
    "input float32 [N,3,H,W] (pose map, RGB in [-1,1]) -> output float32 [N,3,H,W] (RGB in [-1,1]), H = W";
/// What a face model must look like.
pub const FACE_CONTRACT: &str =
    "input float32 [N,6,h,w] (generated crop RGB + pose-map crop RGB, in [-1,1]) -> output float32 [N,3,h,w] (residual), h = w";

/// Frames per ONNX Runtime call when `batch` is 0.
pub const DEFAULT_BATCH: usize = 4;

/// The learned renderer's settings; with the `cli` feature, also `choreo render`'s generator
/// flags (the doc comments are their help; the CLI's `--generator` is optional, so it sets
/// `generator` itself).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct GeneratorConfig {
    #[cfg_attr(feature = "cli", arg(skip))]
    pub generator: PathBuf,
    /// With --renderer onnx: the face residual model (NAME_face.onnx from train.py --face).
    #[cfg_attr(feature = "cli", arg(long))]
    pub face: Option<PathBuf>,
    /// Where the generator runs (--renderer onnx).
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Device::Auto))]
    pub device: Device,
    /// With --device cuda: fail instead of falling back to CPU when CUDA cannot be used.
    #[cfg_attr(feature = "cli", arg(long))]
    pub strict: bool,
    /// Frames per generator call (0 = 4; a model with a fixed batch size runs at that).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0))]
    pub batch: usize,
    /// CPU threads for the generator (0 = all cores but one); fixed threads give identical frames.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0))]
    pub threads: usize,
}

/// The largest [`GeneratorConfig::batch`].
pub const MAX_BATCH: usize = 256;

impl GeneratorConfig {
    pub fn new(generator: impl Into<PathBuf>) -> Self {
        GeneratorConfig { generator: generator.into(), face: None, device: Device::Auto, strict: false, batch: 0, threads: 0 }
    }

    /// Checks every setting; the error names the setting.
    pub fn validate(&self) -> Result<(), crate::units::SettingError> {
        if self.batch > MAX_BATCH {
            return Err(crate::units::SettingError::new("batch", format!("must be in 0..={MAX_BATCH} (0 = {DEFAULT_BATCH}), got {}", self.batch)));
        }
        if self.strict && self.device != Device::Cuda {
            return Err(crate::units::SettingError::new("strict", "goes with the cuda device"));
        }
        Ok(())
    }
}

/// One loaded model and what its signature allows.
struct Net {
    session: Session,
    path: PathBuf,
    input: String,
    output: String,
    /// Batch size fixed by the model, if any.
    batch: Option<usize>,
    /// Side fixed by the model, if any.
    side: Option<u32>,
}

/// A dimension: fixed (> 0) or dynamic.
fn dim(d: i64) -> Option<usize> {
    (d > 0).then_some(d as usize)
}

fn show(ty: Option<TensorElementType>, shape: &[i64]) -> String {
    let t = match ty {
        Some(TensorElementType::Float32) => "float32".to_string(),
        Some(t) => format!("{t:?}").to_lowercase(),
        None => "non-tensor".to_string(),
    };
    let dims: Vec<String> = shape.iter().map(|&d| if d > 0 { d.to_string() } else { "?".into() }).collect();
    format!("{t} [{}]", dims.join(","))
}

/// Checks a session's signature against `[N,cin,S,S] -> [N,3,S,S]`; the reason names what was found.
fn inspect(session: Session, path: &Path, cin: i64, contract: &str, what: &str) -> Result<Net, RenderError> {
    let sig = |o: &ort::value::Outlet| {
        let shape: Vec<i64> = o.dtype().tensor_shape().map(|s| s.iter().copied().collect()).unwrap_or_default();
        (o.name().to_string(), o.dtype().tensor_type(), shape)
    };
    let ins: Vec<_> = session.inputs().iter().map(sig).collect();
    let outs: Vec<_> = session.outputs().iter().map(sig).collect();
    let found = format!(
        "{} input(s) {} -> output(s) {}",
        ins.len(),
        ins.iter().map(|(n, t, s)| format!("{n} {}", show(*t, s))).collect::<Vec<_>>().join(", "),
        outs.iter().map(|(n, t, s)| format!("{n} {}", show(*t, s))).collect::<Vec<_>>().join(", ")
    );
    let refuse = || RenderError::Invalid { path: path.into(), reason: format!("not a choreo {what}: expected {contract}; found {found}") };
    let ([(iname, ity, ishape)], Some((oname, oty, oshape))) = (ins.as_slice(), outs.first()) else { return Err(refuse()) };
    let f32 = Some(TensorElementType::Float32);
    if *ity != f32 || *oty != f32 || ishape.len() != 4 || oshape.len() != 4 || ishape[1] != cin || !(oshape[1] == 3 || oshape[1] <= 0) {
        return Err(refuse());
    }
    let (h, w) = (dim(ishape[2]), dim(ishape[3]));
    let side = match (h, w) {
        (Some(h), Some(w)) if h == w && h >= 8 => Some(h as u32),
        (None, None) => None,
        _ => return Err(refuse()),
    };
    // A fixed output size must be the input's.
    for (o, i) in [(oshape[2], ishape[2]), (oshape[3], ishape[3])] {
        if o > 0 && i > 0 && o != i {
            return Err(refuse());
        }
    }
    Ok(Net { session, path: path.into(), input: iname.clone(), output: oname.clone(), batch: dim(ishape[0]), side })
}

impl Net {
    /// Runs `n` items of `c × s × s` through the model, `per` at a time (padded to a fixed batch).
    /// Returns `n × 3 × s × s`.
    fn run(&mut self, data: &[f32], n: usize, c: usize, s: usize, per: usize, spent: &mut Duration) -> Result<Vec<f32>, RenderError> {
        let per = self.batch.unwrap_or(per).max(1);
        let (isz, osz) = (c * s * s, 3 * s * s);
        let mut out = Vec::with_capacity(n * osz);
        let mut buf = Vec::new();
        let fail = |path: &Path, reason: String| RenderError::Invalid { path: path.into(), reason };
        for start in (0..n).step_by(per) {
            let k = per.min(n - start);
            let m = self.batch.unwrap_or(k);
            buf.clear();
            buf.extend_from_slice(&data[start * isz..(start + k) * isz]);
            buf.resize(m * isz, -1.0);
            let t0 = Instant::now();
            let tensor = TensorRef::from_array_view(([m, c, s, s], buf.as_slice())).map_err(|e| fail(&self.path, e.to_string()))?;
            let outputs =
                self.session.run(ort::inputs![self.input.as_str() => tensor]).map_err(|e| fail(&self.path, format!("inference failed: {e}")))?;
            let (shape, y) = outputs[self.output.as_str()].try_extract_tensor::<f32>().map_err(|e| fail(&self.path, e.to_string()))?;
            let got: Vec<i64> = shape.iter().copied().collect();
            if got != [m as i64, 3, s as i64, s as i64] {
                return Err(fail(&self.path, format!("output shape {got:?} for input [{m},{c},{s},{s}]; the contract is output [N,3,H,W] = input's N, H, W")));
            }
            out.extend_from_slice(&y[..k * osz]);
            *spent += t0.elapsed();
        }
        Ok(out)
    }
}

/// Side of the face crop for a `g × g` frame when the face model does not fix it: DanceIt's 50 px
/// at 512², scaled (at least 8).
pub fn face_side(g: u32) -> u32 {
    ((50.0 * g as f64 / 512.0).round() as u32).max(8)
}

/// Blend weight of the face residual at offset `i` of a crop of side `f`: 1 inside, linear to 0
/// over the outer fifth. The 2-D mask is the product of the row and column weights.
pub fn face_mask(i: usize, f: usize) -> f32 {
    let ramp = (f as f32 / 5.0).max(1.0);
    let edge = i.min(f - 1 - i) as f32 + 0.5;
    (edge / ramp).min(1.0)
}

/// Top-left corner of the face crop of side `f` around the nose of `frame` (coordinates in a
/// `src_w × src_h` space) on a `g × g` frame, kept inside the frame; None when the nose is missing.
pub fn face_origin(frame: &Frame, src_w: u32, src_h: u32, g: u32, f: u32) -> Option<(u32, u32)> {
    let nose = frame[0];
    if !(nose[2] > 0.0) || f > g {
        return None;
    }
    let (nx, ny) = (nose[0] * g as f32 / src_w.max(1) as f32, nose[1] * g as f32 / src_h.max(1) as f32);
    let at = |c: f32| ((c - f as f32 / 2.0).round().max(0.0) as u32).min(g - f);
    Some((at(nx), at(ny)))
}

/// Loaded generator (and face model), ready to turn pose maps into frames.
pub struct Generator {
    gen: Net,
    face: Option<Net>,
    batch: usize,
    execution: String,
    warning: Option<String>,
    spent: Duration,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator").field("model", &self.gen.path).field("side", &self.gen.side).field("execution", &self.execution).finish()
    }
}

fn open(env: &'static ort::environment::Environment, path: &Path, cuda: bool, threads: usize) -> Result<Session, String> {
    if cuda {
        runtime::cuda_session(env, path)
    } else {
        runtime::cpu_session(env, path, threads)
    }
}

fn exists(path: &Path) -> Result<(), RenderError> {
    if path.is_dir() {
        return Err(RenderError::Invalid { path: path.into(), reason: "is a directory, not an ONNX model".into() });
    }
    if !path.is_file() {
        return Err(RenderError::Invalid { path: path.into(), reason: "model file not found".into() });
    }
    Ok(())
}

impl Generator {
    /// Loads and checks the models. With `Device::Cuda` and no usable CUDA, falls back to CPU
    /// ([`Self::warning`] says why) unless `strict`.
    pub fn load(cfg: &GeneratorConfig) -> Result<Self, RenderError> {
        exists(&cfg.generator)?;
        if let Some(f) = &cfg.face {
            exists(f)?;
        }
        let env = runtime::environment()?;
        let path = cfg.generator.as_path();
        let bad_model = |p: &Path, e: String| RenderError::Invalid { path: p.into(), reason: format!("not a loadable ONNX model ({e})") };
        let (session, cuda, execution, warning) = match cfg.device {
            Device::Cpu => (open(env, path, false, cfg.threads).map_err(|e| bad_model(path, e))?, false, "CPU".to_string(), None),
            Device::Auto | Device::Cuda => match open(env, path, true, 0) {
                Ok(s) => (s, true, "CUDA".to_string(), None),
                Err(why) => {
                    if cfg.device == Device::Cuda && cfg.strict {
                        return Err(RenderError::Invalid { path: path.into(), reason: format!("--device cuda --strict: CUDA cannot be used ({why})") });
                    }
                    let s = open(env, path, false, cfg.threads).map_err(|e| bad_model(path, e))?;
                    let warning = (cfg.device == Device::Cuda).then(|| format!("CUDA cannot be used ({why}); running on CPU"));
                    (s, false, format!("CPU ({why})"), warning)
                }
            },
        };
        let gen = inspect(session, path, 3, CONTRACT, "generator")?;
        let face = match &cfg.face {
            None => None,
            Some(fp) => {
                let s = open(env, fp, cuda, cfg.threads).map_err(|e| bad_model(fp, e))?;
                Some(inspect(s, fp, 6, FACE_CONTRACT, "face model")?)
            }
        };
        let batch = if cfg.batch == 0 { DEFAULT_BATCH } else { cfg.batch };
        Ok(Generator { gen, face, batch, execution, warning, spent: Duration::ZERO })
    }

    /// Side of the frames the generator makes for a video of side `video_size`: the model's fixed
    /// side, or `video_size` for a model with dynamic H, W.
    /// One line: the generator, its side (and the face model's crop) for a `video_size` video,
    /// where it runs and its batch.
    pub fn describe(&self, video_size: u32) -> String {
        let side = self.resolution(video_size);
        let face = match (self.face_model(), self.face_crop(side)) {
            (Some(f), Some(c)) => format!(", face {} ({c}² crop)", f.display()),
            _ => String::new(),
        };
        format!("generator {} ({side}²{face}) on {}, batch {}", self.gen.path.display(), self.execution(), self.batch())
    }

    pub fn resolution(&self, video_size: u32) -> u32 {
        self.gen.side.unwrap_or(video_size)
    }

    /// Side of the face crop on a `g × g` frame (None without a face model).
    pub fn face_crop(&self, g: u32) -> Option<u32> {
        self.face.as_ref().map(|f| f.side.unwrap_or_else(|| face_side(g)))
    }

    /// Frames per model call.
    pub fn batch(&self) -> usize {
        self.gen.batch.unwrap_or(self.batch)
    }

    /// What ran the models: `CPU`, `CUDA`, or `CPU (why not CUDA)`.
    pub fn execution(&self) -> &str {
        &self.execution
    }

    /// Set when CUDA was asked for explicitly and CPU runs instead.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    pub fn model(&self) -> &Path {
        &self.gen.path
    }

    pub fn face_model(&self) -> Option<&Path> {
        self.face.as_ref().map(|f| f.path.as_path())
    }

    /// Time spent inside the models so far.
    pub fn model_time(&self) -> Duration {
        self.spent
    }

    /// Turns pose maps (all `g × g`, drawn from `frames`, whose coordinates are in a
    /// `src_w × src_h` space) into RGB8 frames of the same size.
    pub fn paint(&mut self, maps: &[Canvas], frames: &[&Frame], src_w: u32, src_h: u32) -> Result<Vec<Canvas>, RenderError> {
        let n = maps.len();
        let Some(first) = maps.first() else { return Ok(Vec::new()) };
        let g = first.width;
        let gs = g as usize;
        let plane = gs * gs;
        if maps.iter().any(|m| m.width != g || m.height != g) || frames.len() != n {
            return Err(RenderError::Invalid { path: self.gen.path.clone(), reason: "pose maps of different sizes in one batch".into() });
        }
        let mut x = vec![0f32; n * 3 * plane];
        for (i, m) in maps.iter().enumerate() {
            to_planes(&m.rgb, &mut x[i * 3 * plane..(i + 1) * 3 * plane]);
        }
        let mut y = self.gen.run(&x, n, 3, gs, self.batch, &mut self.spent)?;
        if let Some(face) = self.face.as_mut() {
            let f = face.side.unwrap_or_else(|| face_side(g));
            let fs = f as usize;
            let crops: Vec<(usize, u32, u32)> =
                (0..n).filter_map(|i| face_origin(frames[i], src_w, src_h, g, f).map(|(x0, y0)| (i, x0, y0))).collect();
            if !crops.is_empty() {
                let fp = fs * fs;
                let mut fin = vec![0f32; crops.len() * 6 * fp];
                for (k, &(i, x0, y0)) in crops.iter().enumerate() {
                    let dst = &mut fin[k * 6 * fp..(k + 1) * 6 * fp];
                    for c in 0..3 {
                        for r in 0..fs {
                            let src = i * 3 * plane + c * plane + (y0 as usize + r) * gs + x0 as usize;
                            dst[c * fp + r * fs..c * fp + (r + 1) * fs].copy_from_slice(&y[src..src + fs]);
                            let src = (y0 as usize + r) * gs + x0 as usize;
                            for q in 0..fs {
                                dst[(3 + c) * fp + r * fs + q] = maps[i].rgb[(src + q) * 3 + c] as f32 / 127.5 - 1.0;
                            }
                        }
                    }
                }
                let res = face.run(&fin, crops.len(), 6, fs, self.batch, &mut self.spent)?;
                for (k, &(i, x0, y0)) in crops.iter().enumerate() {
                    for c in 0..3 {
                        for r in 0..fs {
                            let wr = face_mask(r, fs);
                            for q in 0..fs {
                                let at = i * 3 * plane + c * plane + (y0 as usize + r) * gs + x0 as usize + q;
                                y[at] += wr * face_mask(q, fs) * res[k * 3 * fp + c * fp + r * fs + q];
                            }
                        }
                    }
                }
            }
        }
        Ok((0..n)
            .map(|i| {
                let mut c = Canvas::black(g, g);
                from_planes(&y[i * 3 * plane..(i + 1) * 3 * plane], &mut c.rgb);
                c
            })
            .collect())
    }
}

/// RGB8 interleaved → three planes in [-1, 1].
pub fn to_planes(rgb: &[u8], out: &mut [f32]) {
    let plane = rgb.len() / 3;
    for (p, px) in rgb.chunks_exact(3).enumerate() {
        for c in 0..3 {
            out[c * plane + p] = px[c] as f32 / 127.5 - 1.0;
        }
    }
}

/// Three planes in [-1, 1] → RGB8 interleaved (clamped; NaN reads as black).
pub fn from_planes(planes: &[f32], rgb: &mut [u8]) {
    let plane = rgb.len() / 3;
    for (p, px) in rgb.chunks_exact_mut(3).enumerate() {
        for c in 0..3 {
            let v = (planes[c * plane + p] + 1.0) * 127.5;
            px[c] = if v.is_nan() { 0 } else { v.round().clamp(0.0, 255.0) as u8 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_round_trip_and_clamp() {
        let rgb: Vec<u8> = (0..=255u8).flat_map(|v| [v, 255 - v, v / 2]).collect();
        let mut p = vec![0f32; rgb.len()];
        to_planes(&rgb, &mut p);
        assert!(p.iter().all(|v| (-1.0..=1.0).contains(v)));
        assert_eq!(p[0], -1.0);
        assert_eq!(p[255], 1.0);
        let mut back = vec![0u8; rgb.len()];
        from_planes(&p, &mut back);
        assert_eq!(back, rgb);
        let mut one = [0u8; 3];
        from_planes(&[3.0, -7.0, f32::NAN], &mut one);
        assert_eq!(one, [255, 0, 0]);
    }

    #[test]
    fn face_crop_follows_the_nose_and_stays_inside() {
        assert_eq!(face_side(512), 50);
        assert_eq!(face_side(256), 25);
        let mut f: Frame = [[0.0; 3]; crate::pose::NUM_JOINTS];
        assert_eq!(face_origin(&f, 512, 512, 256, 25), None, "missing nose");
        f[0] = [200.0, 100.0, 1.0];
        // 512-space nose (200, 100) is (100, 50) on 256²: crop 25 from (88, 38).
        assert_eq!(face_origin(&f, 512, 512, 256, 25), Some((88, 38)));
        f[0] = [2.0, 510.0, 1.0];
        assert_eq!(face_origin(&f, 512, 512, 256, 25), Some((0, 231)));
        // Mask: 1 in the middle, small at the edges, symmetric.
        assert_eq!(face_mask(25, 50), 1.0);
        assert!(face_mask(0, 50) < 0.1 && face_mask(49, 50) == face_mask(0, 50));
    }
}
