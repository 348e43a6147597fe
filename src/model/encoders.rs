//! The two encoders of DanceIt §III-B, in candle.
//!
//! **Audio** (Eq. 4–6): MFCC of a fragment (T × 13, standardised per coefficient with the training
//! set's mean and std) → bidirectional LSTM (hidden 100; candle's LSTM is one-directional, so a
//! second LSTM reads the time-reversed input and its outputs are flipped back) → mean over time of
//! [h→, h←] → dropout 0.1 → fully connected → 16-d.
//!
//! **Pose** (Eq. 7–9): T frames × 18 joints × (x, y, c), positions relative to the fragment's mean
//! hip centre and divided by the dance's nose-to-feet height → ST-GCN blocks, each a temporal
//! convolution (k × 1, zero padding in time only) then a graph convolution with
//! Λ^-1/2 (A + I) Λ^-1/2 of the COCO-18 adjacency and a 1 × 1 channel mix, ReLU and a residual;
//! time is halved between blocks (ST-GCN's stride 2, as pair averaging) → mean over time and
//! joints → dropout → fully connected → 16-d.
//!
//! Weight names mirror the module tree (`audio.lstm_fwd.weight_ih_l0`, `pose.blocks.0.tconv.weight`,
//! …) and follow PyTorch's LSTM naming.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::{CandleCtx, ModelError};
use crate::pose::skeleton::LIMBS;
use crate::pose::NUM_JOINTS;

/// Architecture name written in the sidecar for DanceIt's encoders (mean over time, MFCC only);
/// a file with another name is refused.
pub const ARCHITECTURE: &str = "danceit-bilstm-stgcn-v1";
/// The name when the encoders pool over time segments or read MFCC deltas (our deviation from
/// DanceIt, see README "Matching network"); a choreo that knows only v1 refuses such a file.
pub const ARCHITECTURE_V2: &str = "danceit-bilstm-stgcn-v2-segments-deltas";

/// The architecture name a config is written and checked under.
pub fn architecture_name(cfg: &EncoderConfig) -> &'static str {
    if cfg.time_segments <= 1 && !cfg.mfcc_deltas {
        ARCHITECTURE
    } else {
        ARCHITECTURE_V2
    }
}

/// The encoders' architecture; with the `cli` feature, `choreo train` sets the last two by flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct EncoderConfig {
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().mfcc_dim))]
    pub mfcc_dim: usize,
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().lstm_hidden))]
    pub lstm_hidden: usize,
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().dropout))]
    pub dropout: f32,
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().embed_dim))]
    pub embed_dim: usize,
    // Channels of each ST-GCN block.
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().gcn_channels))]
    pub gcn_channels: Vec<usize>,
    // Temporal kernel length of the ST-GCN blocks (odd).
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().temporal_kernel))]
    pub temporal_kernel: usize,
    // Width of the per-joint input embedding in front of the ST-GCN blocks.
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().joint_embed))]
    pub joint_embed: usize,
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().joints))]
    pub joints: usize,
    // Frames per fragment (fps × fragment seconds).
    #[cfg_attr(feature = "cli", arg(skip = EncoderConfig::default().frames))]
    pub frames: usize,
    /// Pool each encoder's output over time in this many segments (1 = DanceIt's mean).
    // Their means are concatenated, so the embedding keeps *where* in the window things happen.
    #[serde(default = "one")]
    #[cfg_attr(feature = "cli", arg(long, default_value_t = EncoderConfig::default().time_segments))]
    pub time_segments: usize,
    /// Feed the audio encoder MFCC deltas beside the MFCC.
    // [MFCC, ΔMFCC]: first differences inside the window, computed by the encoder from the same
    // 13-d rows, so onsets are explicit; DanceIt feeds MFCC alone.
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long))]
    pub mfcc_deltas: bool,
}

fn one() -> usize {
    1
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            mfcc_dim: 13,
            lstm_hidden: 100,
            dropout: 0.1,
            embed_dim: 16,
            gcn_channels: vec![32, 64, 64],
            temporal_kernel: 5,
            joint_embed: 16,
            joints: NUM_JOINTS,
            frames: 24,
            time_segments: 1,
            mfcc_deltas: false,
        }
    }
}

/// Dropout masks come from the caller (seeded), because candle's CPU RNG cannot be seeded.
pub type Mask<'a> = Option<&'a Tensor>;

/// One LSTM direction with PyTorch's weight layout; the input projection of all time steps is
/// one matmul.
#[derive(Debug, Clone)]
struct Lstm {
    w_ih: Tensor,
    w_hh: Tensor,
    // Kept apart and summed in `forward`: a sum taken once at construction is a copy that
    // training never updates (the stored biases then differ from the ones the model ran with).
    b_ih: Tensor,
    b_hh: Tensor,
    hidden: usize,
}

impl Lstm {
    fn new(input: usize, hidden: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let init = candle_nn::Init::Const(0.0);
        let w_ih = vb.get_with_hints((4 * hidden, input), "weight_ih_l0", init)?;
        let w_hh = vb.get_with_hints((4 * hidden, hidden), "weight_hh_l0", init)?;
        let b_ih = vb.get_with_hints(4 * hidden, "bias_ih_l0", init)?;
        let b_hh = vb.get_with_hints(4 * hidden, "bias_hh_l0", init)?;
        Ok(Lstm { w_ih, w_hh, b_ih, b_hh, hidden })
    }

    /// x: (B, T, F) → hidden states (B, T, H).
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t, f) = x.dims3()?;
        let h4 = 4 * self.hidden;
        let bias = (&self.b_ih + &self.b_hh)?;
        let xin = x.reshape((b * t, f))?.matmul(&self.w_ih.t()?)?.broadcast_add(&bias)?.reshape((b, t, h4))?;
        let w_hh_t = self.w_hh.t()?.contiguous()?;
        let mut h = Tensor::zeros((b, self.hidden), x.dtype(), x.device())?;
        let mut c = h.clone();
        let mut outs = Vec::with_capacity(t);
        for i in 0..t {
            let gates = (xin.narrow(1, i, 1)?.squeeze(1)? + h.matmul(&w_hh_t)?)?;
            let ig = candle_nn::ops::sigmoid(&gates.narrow(1, 0, self.hidden)?)?;
            let fg = candle_nn::ops::sigmoid(&gates.narrow(1, self.hidden, self.hidden)?)?;
            let gg = gates.narrow(1, 2 * self.hidden, self.hidden)?.tanh()?;
            let og = candle_nn::ops::sigmoid(&gates.narrow(1, 3 * self.hidden, self.hidden)?)?;
            c = ((fg * &c)? + (ig * gg)?)?;
            h = (og * c.tanh()?)?;
            outs.push(h.clone());
        }
        Tensor::stack(&outs, 1)
    }
}

/// Means of `segments` consecutive spans of the time axis `dim` (span k: ⌊kT/S⌋..⌊(k+1)T/S⌋),
/// concatenated along the last axis. `segments` ≤ 1 is the plain mean.
fn segment_pool(x: &Tensor, dim: usize, segments: usize) -> candle_core::Result<Tensor> {
    let t = x.dim(dim)?;
    let s = segments.clamp(1, t.max(1));
    if s == 1 {
        return x.mean(dim);
    }
    let parts: Vec<Tensor> = (0..s)
        .map(|k| {
            let (lo, hi) = (k * t / s, (k + 1) * t / s);
            x.narrow(dim, lo, hi - lo)?.mean(dim)
        })
        .collect::<candle_core::Result<_>>()?;
    let last = parts[0].rank() - 1;
    Tensor::cat(&parts, last)
}

/// Reverses the time axis (dim 1) of (B, T, F).
fn flip_time(x: &Tensor) -> candle_core::Result<Tensor> {
    let t = x.dim(1)?;
    let idx: Vec<u32> = (0..t as u32).rev().collect();
    let idx = Tensor::new(idx.as_slice(), x.device())?;
    x.contiguous()?.index_select(&idx, 1)
}

#[derive(Debug, Clone)]
pub struct AudioEncoder {
    fwd: Lstm,
    bwd: Lstm,
    fc: Linear,
    /// Per-coefficient standardisation (from the training set), not trained.
    mean: Tensor,
    std: Tensor,
    segments: usize,
    deltas: bool,
}

impl AudioEncoder {
    pub fn new(cfg: &EncoderConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let input = if cfg.mfcc_deltas { 2 * cfg.mfcc_dim } else { cfg.mfcc_dim };
        let fwd = Lstm::new(input, cfg.lstm_hidden, vb.pp("lstm_fwd"))?;
        let bwd = Lstm::new(input, cfg.lstm_hidden, vb.pp("lstm_bwd"))?;
        let fc = candle_nn::linear(Self::pooled_dim(cfg), cfg.embed_dim, vb.pp("fc"))?;
        let mean = vb.get_with_hints(cfg.mfcc_dim, "mfcc_mean", candle_nn::Init::Const(0.0))?;
        let std = vb.get_with_hints(cfg.mfcc_dim, "mfcc_std", candle_nn::Init::Const(1.0))?;
        Ok(AudioEncoder { fwd, bwd, fc, mean, std, segments: cfg.time_segments, deltas: cfg.mfcc_deltas })
    }

    /// Width of the pooled LSTM output the dropout mask covers.
    pub fn pooled_dim(cfg: &EncoderConfig) -> usize {
        2 * cfg.lstm_hidden * cfg.time_segments.max(1)
    }

    /// mfcc: (B, T, 13) raw MFCC → (B, embed).
    pub fn forward(&self, mfcc: &Tensor, mask: Mask) -> candle_core::Result<Tensor> {
        let x = mfcc.broadcast_sub(&self.mean.detach())?.broadcast_div(&self.std.detach())?;
        let x = if self.deltas {
            // Δ of the standardised rows, 0 at the first frame.
            let t = x.dim(1)?;
            let d = (x.narrow(1, 1, t - 1)? - x.narrow(1, 0, t - 1)?)?.pad_with_zeros(1, 1, 0)?;
            Tensor::cat(&[&x, &d], 2)?
        } else {
            x
        };
        let hf = self.fwd.forward(&x)?;
        let hb = flip_time(&self.bwd.forward(&flip_time(&x)?)?)?;
        let h = segment_pool(&Tensor::cat(&[hf, hb], 2)?, 1, self.segments)?;
        let h = match mask {
            Some(m) => (h * m)?,
            None => h,
        };
        self.fc.forward(&h)
    }
}

/// Λ^-1/2 (A + I) Λ^-1/2 for the COCO-18 limbs.
pub fn normalized_adjacency(joints: usize) -> Vec<f32> {
    let mut a = vec![0.0f32; joints * joints];
    for j in 0..joints {
        a[j * joints + j] = 1.0;
    }
    for &(p, q) in LIMBS.iter() {
        if p < joints && q < joints {
            a[p * joints + q] = 1.0;
            a[q * joints + p] = 1.0;
        }
    }
    let deg: Vec<f32> = (0..joints).map(|i| a[i * joints..(i + 1) * joints].iter().sum()).collect();
    for i in 0..joints {
        for j in 0..joints {
            a[i * joints + j] /= (deg[i] * deg[j]).sqrt();
        }
    }
    a
}

/// One ST-GCN block in a time-first, channels-last layout: x is (T, B, V, C), contiguous.
/// Convolutions are matmuls over the channel axis (candle's CPU conv2d and strided copies are slow
/// for these shapes): the (k × 1) temporal convolution is Σᵢ shiftᵢ(x) Wᵢ over the k time shifts of
/// the zero-padded input, each shift a contiguous slice along T; the graph convolution multiplies
/// by Â over joints (batched over T·B), then a 1 × 1 channel mix.
#[derive(Debug, Clone)]
struct StgcnBlock {
    tconv_w: Tensor,
    tconv_b: Tensor,
    gconv_w: Tensor,
    gconv_b: Tensor,
    residual: Option<(Tensor, Tensor)>,
    k: usize,
}

impl StgcnBlock {
    fn new(c_in: usize, c_out: usize, k: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let init = candle_nn::Init::Const(0.0);
        let tconv_w = vb.get_with_hints((k, c_in, c_out), "tconv.weight", init)?;
        let tconv_b = vb.get_with_hints(c_out, "tconv.bias", init)?;
        let gconv_w = vb.get_with_hints((c_out, c_out), "gconv.weight", init)?;
        let gconv_b = vb.get_with_hints(c_out, "gconv.bias", init)?;
        let residual = if c_in != c_out {
            Some((vb.get_with_hints((c_in, c_out), "residual.weight", init)?, vb.get_with_hints(c_out, "residual.bias", init)?))
        } else {
            None
        };
        Ok(StgcnBlock { tconv_w, tconv_b, gconv_w, gconv_b, residual, k })
    }

    /// x (T, B, V, C_in) contiguous → x W + b over the channel axis.
    fn channel_mix(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> candle_core::Result<Tensor> {
        let (t, bs, v, c) = x.dims4()?;
        let y = x.reshape((t * bs * v, c))?.matmul(w)?;
        let y = match b {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        y.reshape((t, bs, v, w.dim(1)?))
    }

    /// x: (T, B, V, C) → (T, B, V, C').
    fn forward(&self, x: &Tensor, adj: &Tensor) -> candle_core::Result<Tensor> {
        let (t, bs, v, _) = x.dims4()?;
        // Temporal convolution (Eq. 7), "same" padding in time only.
        let pad = self.k / 2;
        let xp = x.pad_with_zeros(0, pad, self.k - 1 - pad)?;
        let mut g = Self::channel_mix(&xp.narrow(0, 0, t)?, &self.tconv_w.get(0)?, Some(&self.tconv_b))?;
        for i in 1..self.k {
            g = (g + Self::channel_mix(&xp.narrow(0, i, t)?, &self.tconv_w.get(i)?, None)?)?;
        }
        let g = g.relu()?;
        // Graph convolution (Eq. 8): Â over joints, then a 1×1 channel mix.
        let c = g.dim(3)?;
        let g = adj.broadcast_left(t * bs)?.matmul(&g.reshape((t * bs, v, c))?)?.reshape((t, bs, v, c))?;
        let g = Self::channel_mix(&g, &self.gconv_w, Some(&self.gconv_b))?;
        let res = match &self.residual {
            Some((w, b)) => Self::channel_mix(x, w, Some(b))?,
            None => x.clone(),
        };
        (g + res)?.relu()
    }
}

#[derive(Debug, Clone)]
pub struct PoseEncoder {
    /// ST-GCN's data_bn, as fixed training-set statistics per (joint, channel).
    mean: Tensor,
    std: Tensor,
    /// Per-joint linear map of (x, y, c) to `joint_embed` channels: the GCN blocks share their
    /// weights over joints, and their output is averaged over joints, so without this first,
    /// joint-specific layer the encoder barely tells poses apart.
    embed_w: Tensor,
    embed_b: Tensor,
    blocks: Vec<StgcnBlock>,
    fc: Linear,
    adj: Tensor,
    segments: usize,
}

impl PoseEncoder {
    pub fn new(cfg: &EncoderConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let v = cfg.joints;
        let mean = vb.get_with_hints((v, 3), "pose_mean", candle_nn::Init::Const(0.0))?;
        let std = vb.get_with_hints((v, 3), "pose_std", candle_nn::Init::Const(1.0))?;
        let embed_w = vb.get_with_hints((v, 3, cfg.joint_embed), "joint_embed.weight", candle_nn::Init::Const(0.0))?;
        let embed_b = vb.get_with_hints((v, cfg.joint_embed), "joint_embed.bias", candle_nn::Init::Const(0.0))?;
        let mut blocks = Vec::new();
        let mut c_in = cfg.joint_embed;
        for (i, &c) in cfg.gcn_channels.iter().enumerate() {
            blocks.push(StgcnBlock::new(c_in, c, cfg.temporal_kernel, vb.pp(format!("blocks.{i}")))?);
            c_in = c;
        }
        let fc = candle_nn::linear(Self::pooled_dim(cfg), cfg.embed_dim, vb.pp("fc"))?;
        let adj = Tensor::from_vec(normalized_adjacency(cfg.joints), (cfg.joints, cfg.joints), vb.device())?;
        Ok(PoseEncoder { mean, std, embed_w, embed_b, blocks, fc, adj, segments: cfg.time_segments })
    }

    /// poses: (B, 3, T, V) normalised (channel-major, as `data::pose_window` lays them out) → (B, embed).
    pub fn forward(&self, poses: &Tensor, mask: Mask) -> candle_core::Result<Tensor> {
        let (bs, _, t, v) = poses.dims4()?;
        // (B, 3, T, V) → (V, T·B, 3), standardised per joint and channel.
        let x = poses.permute((3, 2, 0, 1))?.contiguous()?;
        let x = x.broadcast_sub(&self.mean.detach().unsqueeze(1)?.unsqueeze(1)?)?.broadcast_div(&self.std.detach().unsqueeze(1)?.unsqueeze(1)?)?;
        let x = x.reshape((v, t * bs, 3))?;
        // Per-joint embedding, batched over joints → (T, B, V, C0).
        let x = x.matmul(&self.embed_w)?.broadcast_add(&self.embed_b.unsqueeze(1)?)?.relu()?;
        let c0 = x.dim(2)?;
        let mut x = x.reshape((v, t, bs, c0))?.permute((1, 2, 0, 3))?.contiguous()?;
        let n = self.blocks.len();
        for (i, b) in self.blocks.iter().enumerate() {
            x = b.forward(&x, &self.adj)?;
            // ST-GCN's temporal stride 2 between blocks, as average pooling over time pairs.
            let t = x.dim(0)?;
            if i + 1 < n && t >= 4 {
                let (_, bs, v, c) = x.dims4()?;
                x = x.narrow(0, 0, 2 * (t / 2))?.reshape((t / 2, 2, bs, v, c))?.mean(1)?;
            }
        }
        // (T', B, V, C) → mean over joints → (B, T', C) → segments over time → (B, S·C).
        let h = if self.segments <= 1 { x.mean(0)?.mean(1)? } else { segment_pool(&x.mean(2)?.transpose(0, 1)?.contiguous()?, 1, self.segments)? };
        let h = match mask {
            Some(m) => (h * m)?,
            None => h,
        };
        self.fc.forward(&h)
    }

    /// Frames left after the blocks' temporal halvings.
    pub fn output_frames(cfg: &EncoderConfig) -> usize {
        let mut t = cfg.frames;
        for _ in 1..cfg.gcn_channels.len() {
            if t >= 4 {
                t /= 2;
            }
        }
        t
    }

    pub fn pooled_dim(cfg: &EncoderConfig) -> usize {
        cfg.gcn_channels.last().copied().unwrap_or(3) * cfg.time_segments.max(1)
    }
}

/// Both encoders.
#[derive(Debug, Clone)]
pub struct Encoders {
    pub cfg: EncoderConfig,
    pub audio: AudioEncoder,
    pub pose: PoseEncoder,
    pub device: Device,
}

impl Encoders {
    pub fn new(cfg: &EncoderConfig, vb: VarBuilder) -> Result<Self, ModelError> {
        let device = vb.device().clone();
        let pose_t = PoseEncoder::output_frames(cfg);
        if cfg.time_segments == 0 || cfg.time_segments > pose_t {
            return Err(ModelError::Invalid(format!(
                "time_segments {} must be between 1 and {pose_t} (the pose encoder's output frames for {} input frames)",
                cfg.time_segments, cfg.frames
            )));
        }
        Ok(Encoders {
            cfg: cfg.clone(),
            audio: AudioEncoder::new(cfg, vb.pp("audio")).ctx("building the audio encoder")?,
            pose: PoseEncoder::new(cfg, vb.pp("pose")).ctx("building the pose encoder")?,
            device,
        })
    }

    /// Embeds MFCC windows: `n × frames × 13` floats → `n × embed` floats (eval mode, batched).
    pub fn embed_audio(&self, mfcc: &[f32], n: usize) -> Result<Vec<f32>, ModelError> {
        self.embed_audio_with(mfcc, n, false)
    }

    /// Embeds normalised pose windows: `n × 3 × frames × joints` floats → `n × embed`.
    pub fn embed_poses(&self, poses: &[f32], n: usize) -> Result<Vec<f32>, ModelError> {
        self.embed_poses_with(poses, n, false)
    }

    /// [`Self::embed_audio`] with every batch padded to full size: each row's bits then do not
    /// depend on how many rows are embedded with it (the CPU matrix products take other paths
    /// for other batch sizes, a last-bit difference), so a corpus embedded in parts (shards)
    /// gives the same embeddings as embedded whole.
    pub fn embed_audio_fixed(&self, mfcc: &[f32], n: usize) -> Result<Vec<f32>, ModelError> {
        self.embed_audio_with(mfcc, n, true)
    }

    /// [`Self::embed_poses`] with full-size batches (see [`Self::embed_audio_fixed`]).
    pub fn embed_poses_fixed(&self, poses: &[f32], n: usize) -> Result<Vec<f32>, ModelError> {
        self.embed_poses_with(poses, n, true)
    }

    fn embed_audio_with(&self, mfcc: &[f32], n: usize, pad: bool) -> Result<Vec<f32>, ModelError> {
        let (t, f) = (self.cfg.frames, self.cfg.mfcc_dim);
        self.embed_batched(mfcc, n, t * f, pad, |x, rows| {
            let x = Tensor::from_slice(x, (rows, t, f), &self.device)?;
            self.audio.forward(&x, None)
        })
    }

    fn embed_poses_with(&self, poses: &[f32], n: usize, pad: bool) -> Result<Vec<f32>, ModelError> {
        let (t, v) = (self.cfg.frames, self.cfg.joints);
        self.embed_batched(poses, n, 3 * t * v, pad, |x, rows| {
            let x = Tensor::from_slice(x, (rows, 3, t, v), &self.device)?;
            self.pose.forward(&x, None)
        })
    }

    /// Runs `forward` over `n` rows of `row` floats, [`EMBED_BATCH`] rows at a time; with `pad`
    /// a short last batch is filled up with zero rows (their outputs dropped).
    fn embed_batched(&self, data: &[f32], n: usize, row: usize, pad: bool, forward: impl Fn(&[f32], usize) -> candle_core::Result<Tensor>) -> Result<Vec<f32>, ModelError> {
        let e = self.cfg.embed_dim;
        let mut out = Vec::with_capacity(n * e);
        let mut lo = 0;
        while lo < n {
            let hi = (lo + EMBED_BATCH).min(n);
            let rows = &data[lo * row..hi * row];
            let y = if pad && hi - lo < EMBED_BATCH {
                let mut full = rows.to_vec();
                full.resize(EMBED_BATCH * row, 0.0);
                forward(&full, EMBED_BATCH)
            } else {
                forward(rows, hi - lo)
            };
            let y = y.ctx("embedding")?.to_dtype(DType::F32).ctx("embedding")?.flatten_all().ctx("embedding")?.to_vec1::<f32>().ctx("embedding")?;
            out.extend_from_slice(&y[..(hi - lo) * e]);
            lo = hi;
        }
        Ok(out)
    }
}

/// Rows per batch when embedding.
pub const EMBED_BATCH: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacency_is_symmetric_and_normalised() {
        let a = normalized_adjacency(18);
        for i in 0..18 {
            for j in 0..18 {
                assert!((a[i * 18 + j] - a[j * 18 + i]).abs() < 1e-7);
            }
        }
        // Neck (joint 1) has 5 neighbours + itself: self weight 1/6.
        assert!((a[18 + 1] - 1.0 / 6.0).abs() < 1e-6);
    }

    #[test]
    fn lstm_matches_a_hand_step_and_flip_reverses() {
        let dev = Device::Cpu;
        let varmap = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let _ = Lstm::new(2, 3, vb).unwrap(); // creates the variables
        for v in varmap.all_vars() {
            let n = v.elem_count();
            let vals: Vec<f32> = (0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.05).collect();
            v.set(&Tensor::from_vec(vals, v.shape(), &dev).unwrap()).unwrap();
        }
        let l = Lstm::new(2, 3, VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
        let x = Tensor::new(&[[[0.5f32, -1.0], [0.25, 0.75]]], &dev).unwrap();
        let out = l.forward(&x).unwrap().to_vec3::<f32>().unwrap();
        // Reference: the same step written with plain floats (PyTorch's gate order i, f, g, o).
        let get = |name: &str| varmap.data().lock().unwrap()[name].as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (wi, wh, bi, bh) = (get("weight_ih_l0"), get("weight_hh_l0"), get("bias_ih_l0"), get("bias_hh_l0"));
        let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
        let (mut h, mut c) = ([0.0f32; 3], [0.0f32; 3]);
        for (t, xt) in [[0.5f32, -1.0], [0.25, 0.75]].iter().enumerate() {
            let mut g = [0.0f32; 12];
            for r in 0..12 {
                g[r] = bi[r] + bh[r] + wi[r * 2] * xt[0] + wi[r * 2 + 1] * xt[1] + (0..3).map(|k| wh[r * 3 + k] * h[k]).sum::<f32>();
            }
            for k in 0..3 {
                c[k] = sig(g[3 + k]) * c[k] + sig(g[k]) * g[6 + k].tanh();
                h[k] = sig(g[9 + k]) * c[k].tanh();
                assert!((out[0][t][k] - h[k]).abs() < 1e-5);
            }
        }
        let f = flip_time(&x).unwrap().to_vec3::<f32>().unwrap();
        assert_eq!(f[0][0], vec![0.25, 0.75]);
    }

    #[test]
    fn encoders_give_embed_dim_rows() {
        let dev = Device::Cpu;
        let varmap = candle_nn::VarMap::new();
        let cfg = EncoderConfig { frames: 8, gcn_channels: vec![8, 8], ..EncoderConfig::default() };
        let e = Encoders::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
        let a = e.embed_audio(&vec![0.1; 3 * 8 * 13], 3).unwrap();
        let p = e.embed_poses(&vec![0.1; 2 * 3 * 8 * 18], 2).unwrap();
        assert_eq!((a.len(), p.len()), (3 * 16, 2 * 16));
    }

    #[test]
    fn fixed_batches_embed_a_row_the_same_whatever_rows_come_with_it() {
        let dev = Device::Cpu;
        let (e, _) = crate::model::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoders.safetensors"), &dev).unwrap();
        let cfg = e.cfg.clone();
        let n = EMBED_BATCH + 20;
        let (t, f, v) = (cfg.frames, cfg.mfcc_dim, cfg.joints);
        let mf: Vec<f32> = (0..n * t * f).map(|i| (i * 37 % 101) as f32 / 50.0 - 1.0).collect();
        let po: Vec<f32> = (0..n * 3 * t * v).map(|i| (i * 53 % 97) as f32 / 48.0 - 1.0).collect();
        let whole = (e.embed_audio_fixed(&mf, n).unwrap(), e.embed_poses_fixed(&po, n).unwrap());
        assert_eq!((whole.0.len(), whole.1.len()), (n * 16, n * 16));
        // As shards: the first k rows, then the rest; every bit the same. (Unpadded, with these
        // trained weights, all three splits differed in the last bits when this was written.)
        for k in [1, 11, EMBED_BATCH + 3] {
            let mut a = e.embed_audio_fixed(&mf[..k * t * f], k).unwrap();
            a.extend(e.embed_audio_fixed(&mf[k * t * f..], n - k).unwrap());
            let mut p = e.embed_poses_fixed(&po[..k * 3 * t * v], k).unwrap();
            p.extend(e.embed_poses_fixed(&po[k * 3 * t * v..], n - k).unwrap());
            assert!(a == whole.0 && p == whole.1, "split at {k}");
        }
    }

    #[test]
    fn segment_pool_keeps_where_in_time() {
        let dev = Device::Cpu;
        // (B=1, T=6, C=1): a bump early vs late gives the same mean but different segments.
        let early = Tensor::new(&[[[1f32], [1.], [0.], [0.], [0.], [0.]]], &dev).unwrap();
        let late = Tensor::new(&[[[0f32], [0.], [0.], [0.], [1.], [1.]]], &dev).unwrap();
        let m = |x: &Tensor, s| segment_pool(x, 1, s).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(m(&early, 1), m(&late, 1));
        assert_eq!(m(&early, 3), vec![1.0, 0.0, 0.0]);
        assert_eq!(m(&late, 3), vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn segments_and_deltas_change_the_shapes() {
        let dev = Device::Cpu;
        let varmap = candle_nn::VarMap::new();
        let cfg = EncoderConfig { frames: 8, gcn_channels: vec![8, 8], time_segments: 2, mfcc_deltas: true, ..EncoderConfig::default() };
        let e = Encoders::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
        let shape = |n: &str| varmap.data().lock().unwrap()[n].dims().to_vec();
        assert_eq!(shape("audio.lstm_fwd.weight_ih_l0"), vec![400, 26]);
        assert_eq!(shape("audio.fc.weight"), vec![16, 400]);
        assert_eq!(shape("pose.fc.weight"), vec![16, 16]);
        let a = e.embed_audio(&(0..3 * 8 * 13).map(|i| (i % 7) as f32).collect::<Vec<_>>(), 3).unwrap();
        let p = e.embed_poses(&vec![0.1; 2 * 3 * 8 * 18], 2).unwrap();
        assert_eq!((a.len(), p.len()), (3 * 16, 2 * 16));
        assert!(a.iter().chain(&p).all(|v| v.is_finite()));
    }
}
