//! Training (DanceIt Eq. 10): squared distance for matching (audio, pose) pairs, and for
//! non-matching pairs a squared hinge `max(0, ε − d)²` that pushes the distance past the margin ε.
//! Negatives: the same dance's poses delayed by 2–4 s against the audio (DanceIt Fig. 7) and every
//! other fragment of the batch. AdamW, lr 1e-3, dropout 0.1 (DanceIt's settings).
//!
//! Determinism: candle's CPU RNG cannot be seeded, so weights are initialised and dropout masks
//! drawn from our own ChaCha8 generator seeded by `--seed`; same seed and corpus → same weights.

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::{self, DanceArrays};
use super::encoders::{architecture_name, AudioEncoder, EncoderConfig, Encoders, PoseEncoder};
use super::eval::{self, Figures};
use super::store::ModelCard;
use super::{CandleCtx, ModelError};
use crate::corpus::{Corpus, Genre};

/// The training settings; with the `cli` feature, also `choreo train`'s flags (the doc comments
/// are their help).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct TrainConfig {
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().epochs))]
    pub epochs: usize,
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().batch))]
    pub batch: usize,
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().lr))]
    pub lr: f64,
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().seed))]
    pub seed: u64,
    /// ε of DanceIt Eq. 10: non-matching pairs are pushed past this distance.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().margin))]
    pub margin: f32,
    // Delay of the same-dance negatives, seconds (low, high).
    #[cfg_attr(feature = "cli", arg(skip = TrainConfig::default().delay_secs))]
    pub delay_secs: (f64, f64),
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().fragment_secs))]
    pub fragment_secs: f64,
    /// Evaluate on the test dances every N epochs.
    // (and at the end)
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().eval_every))]
    pub eval_every: usize,
    #[cfg_attr(feature = "cli", command(flatten))]
    pub encoder: EncoderConfig,
    /// Rows per single-dance group in a batch (even, dividing --batch); 0 mixes all dances.
    // 0 = batches mix every dance (DanceIt). Small groups make most in-batch negatives other
    // moments of the same dance.
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().group))]
    pub group: usize,
    /// Weight of same-dance in-batch negatives relative to other dances' ones.
    // (Eq. 10's hinge term)
    #[serde(default = "one")]
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().same_dance_weight))]
    pub same_dance_weight: f32,
    /// Same-dance windows closer than this many frames are not negatives of each other.
    // (they overlap)
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().min_negative_gap))]
    pub min_negative_gap: usize,
    /// Cosine-decay the learning rate to lr × this over the epochs (1 = constant).
    #[serde(default = "one_f64")]
    #[cfg_attr(feature = "cli", arg(long, default_value_t = TrainConfig::default().lr_floor))]
    pub lr_floor: f64,
    /// Hold out the last training dance of each genre with ≥ 4 of them and keep the epoch with
    /// the best mean rank of the true pose on them.
    // ([`data::validation_split`])
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long))]
    pub validate: bool,
    /// Augment: mirror each training pair's poses left↔right with probability ½.
    // (the music fits either)
    #[serde(default)]
    #[cfg_attr(feature = "cli", arg(long))]
    pub mirror: bool,
}

fn one() -> f32 {
    1.0
}

fn one_f64() -> f64 {
    1.0
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 40,
            batch: 64,
            lr: 1e-3,
            seed: 0,
            margin: 2.0,
            delay_secs: (2.0, 4.0),
            fragment_secs: 1.0,
            eval_every: 5,
            encoder: EncoderConfig::default(),
            group: 0,
            same_dance_weight: 1.0,
            min_negative_gap: 0,
            lr_floor: 1.0,
            validate: false,
            mirror: false,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    pub epoch: usize,
    pub loss: f32,
    pub seconds: f64,
    pub test: Option<Figures>,
    /// Figures on the validation dances (when training validates).
    #[serde(default)]
    pub val: Option<Figures>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// Retrieval figures of a random ranking (Recall@1, Recall@10, genre P@10).
    pub random_recall_at_1: f32,
    pub random_recall_at_10: f32,
    pub random_genre_precision_at_10: f32,
    /// Every figure of the same encoders before training (seeded initial weights).
    pub untrained: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub card: ModelCard,
    pub epochs: Vec<EpochFigures>,
    pub baselines: Baselines,
}

/// PyTorch-style uniform(-1/√fan_in, 1/√fan_in) for every weight, from our seeded generator,
/// in sorted-name order so the draw does not depend on hash-map order.
fn init_weights(varmap: &VarMap, rng: &mut ChaCha8Rng) -> Result<(), ModelError> {
    let data = varmap.data().lock().map_err(|_| ModelError::Invalid("poisoned lock".into()))?;
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let vals: Vec<f32> = if name.ends_with("_mean") || dims.len() == 1 || name.ends_with("joint_embed.bias") {
            // Buffers of means, and every bias, start at 0.
            vec![0.0; n]
        } else if name.ends_with("_std") {
            vec![1.0; n]
        } else {
            let fan_in = if name.contains("lstm") {
                // PyTorch's LSTM: 1/√hidden for all its weights; hidden = rows / 4.
                (dims[0] / 4).max(1)
            } else if name.contains("joint_embed") {
                dims[1]
            } else if name.contains("blocks.") {
                // ST-GCN weights are stored ([k,] inputs, outputs) for matmul.
                dims[..dims.len() - 1].iter().product::<usize>()
            } else {
                // candle's Linear: (outputs, inputs).
                dims[1..].iter().product::<usize>()
            };
            let b = 1.0 / (fan_in as f32).sqrt();
            (0..n).map(|_| rng.gen_range(-b..b)).collect()
        };
        var.set(&Tensor::from_vec(vals, dims, var.device()).ctx("init")?).ctx("init")?;
    }
    Ok(())
}

fn set_mfcc_norm(varmap: &VarMap, dances: &[DanceArrays], train: &[usize], dim: usize) -> Result<(), ModelError> {
    let (mut sum, mut sq, mut n) = (vec![0.0f64; dim], vec![0.0f64; dim], 0usize);
    for &d in train {
        for row in dances[d].mfcc.chunks_exact(dim) {
            for k in 0..dim {
                sum[k] += row[k] as f64;
                sq[k] += (row[k] as f64).powi(2);
            }
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
    let std: Vec<f32> = sq.iter().zip(&sum).map(|(q, s)| ((q / n - (s / n).powi(2)).max(1e-8).sqrt()) as f32).collect();
    let data = varmap.data().lock().map_err(|_| ModelError::Invalid("poisoned lock".into()))?;
    for (name, vals) in [("audio.mfcc_mean", mean), ("audio.mfcc_std", std)] {
        let v = data.get(name).ok_or_else(|| ModelError::Invalid(format!("no variable {name}")))?;
        v.set(&Tensor::from_vec(vals, dim, &Device::Cpu).ctx("mfcc norm")?).ctx("mfcc norm")?;
    }
    Ok(())
}

/// Per (joint, channel) mean and std of the pose windows the encoder sees (ST-GCN's data_bn),
/// over every 10th window of `frames` frames of the training dances.
fn set_pose_norm(varmap: &VarMap, dances: &[DanceArrays], train: &[usize], v: usize, frames: usize) -> Result<(), ModelError> {
    let (mut sum, mut sq, mut n) = (vec![0.0f64; v * 3], vec![0.0f64; v * 3], vec![0usize; v * 3]);
    for &d in train {
        let a = &dances[d];
        for &s in a.starts.iter().step_by(10) {
            let len = frames.min(a.frames() - s);
            let w = data::pose_window(&a.poses[s..s + len]);
            for c in 0..3 {
                for t in 0..len {
                    for j in 0..v {
                        let x = w[c * len * v + t * v + j] as f64;
                        sum[j * 3 + c] += x;
                        sq[j * 3 + c] += x * x;
                        n[j * 3 + c] += 1;
                    }
                }
            }
        }
    }
    let mean: Vec<f32> = (0..v * 3).map(|k| (sum[k] / n[k].max(1) as f64) as f32).collect();
    let std: Vec<f32> = (0..v * 3)
        .map(|k| {
            let m = sum[k] / n[k].max(1) as f64;
            ((sq[k] / n[k].max(1) as f64 - m * m).max(1e-6).sqrt()) as f32
        })
        .collect();
    let data = varmap.data().lock().map_err(|_| ModelError::Invalid("poisoned lock".into()))?;
    for (name, vals) in [("pose.pose_mean", mean), ("pose.pose_std", std)] {
        let var = data.get(name).ok_or_else(|| ModelError::Invalid(format!("no variable {name}")))?;
        var.set(&Tensor::from_vec(vals, (v, 3), &Device::Cpu).ctx("pose norm")?).ctx("pose norm")?;
    }
    Ok(())
}

fn dropout_mask(rng: &mut ChaCha8Rng, b: usize, c: usize, p: f32) -> Result<Tensor, ModelError> {
    let keep = 1.0 - p;
    let vals: Vec<f32> = (0..b * c).map(|_| if rng.gen::<f32>() < keep { 1.0 / keep } else { 0.0 }).collect();
    Tensor::from_vec(vals, (b, c), &Device::Cpu).ctx("dropout")
}

/// Weights of the in-batch negatives (B × B): 0 on the diagonal and for same-dance windows closer
/// than `min_gap` frames, `same` for other windows of the same dance, 1 across dances.
fn negative_weights(samples: &[data::Sample], same: f32, min_gap: usize) -> Result<Tensor, ModelError> {
    let b = samples.len();
    let mut w = vec![0.0f32; b * b];
    for (i, x) in samples.iter().enumerate() {
        for (j, y) in samples.iter().enumerate() {
            w[i * b + j] = if i == j {
                0.0
            } else if x.dance != y.dance {
                1.0
            } else if x.start.abs_diff(y.start) < min_gap {
                0.0
            } else {
                same
            };
        }
    }
    Tensor::from_vec(w, (b, b), &Device::Cpu).ctx("batch")
}

/// Builds the batch tensors: MFCC (B,T,13), poses (B,3,T,V), the partner index of each row and
/// whether that partner is a true delayed window of the same dance.
/// `mirror`: when given, each pair's poses are mirrored left↔right (joints swapped, x negated)
/// with probability ½, drawn from the generator.
fn batch_tensors(dances: &[DanceArrays], samples: &[data::Sample], cfg: &EncoderConfig, mut mirror: Option<&mut ChaCha8Rng>) -> Result<(Tensor, Tensor, Tensor, Tensor), ModelError> {
    let (t, f, v) = (cfg.frames, cfg.mfcc_dim, cfg.joints);
    let b = samples.len();
    let mut flip = false;
    let mut mf = Vec::with_capacity(b * t * f);
    let mut po = Vec::with_capacity(b * 3 * t * v);
    let mut partner = Vec::with_capacity(b);
    let mut has = Vec::with_capacity(b);
    for (i, s) in samples.iter().enumerate() {
        let d = &dances[s.dance];
        mf.extend_from_slice(&d.mfcc[s.start * f..(s.start + t) * f]);
        if i % 2 == 0 {
            flip = mirror.as_deref_mut().is_some_and(|r| r.gen_bool(0.5));
        }
        let w = data::pose_window(&d.poses[s.start..s.start + t]);
        po.extend(if flip { data::mirror_window(&w, t) } else { w });
        // Pairs sit at (2k, 2k+1); a lone last row (odd batch) has no partner.
        let p = if i % 2 == 0 { i + 1 } else { i - 1 };
        let ok = p < b && s.delayed.is_some();
        partner.push(if p < b { p as u32 } else { i as u32 });
        has.push(if ok { 1.0f32 } else { 0.0 });
    }
    let dev = Device::Cpu;
    Ok((
        Tensor::from_vec(mf, (b, t, f), &dev).ctx("batch")?,
        Tensor::from_vec(po, (b, 3, t, v), &dev).ctx("batch")?,
        Tensor::from_vec(partner, b, &dev).ctx("batch")?,
        Tensor::from_vec(has, b, &dev).ctx("batch")?,
    ))
}

/// Eq. 10 over a batch; `neg_w` weighs the in-batch negatives (see [`negative_weights`]).
fn loss(a: &Tensor, p: &Tensor, pd: &Tensor, has_delayed: &Tensor, neg_w: &Tensor, margin: f32) -> candle_core::Result<Tensor> {
    let pos = (a - p)?.sqr()?.sum(1)?.mean_all()?;
    let hinge = |d2: &Tensor| -> candle_core::Result<Tensor> {
        let d = (d2.relu()? + 1e-6)?.sqrt()?;
        (d.neg()? + margin as f64)?.relu()?.sqr()
    };
    let dd2 = (a - pd)?.sqr()?.sum(1)?;
    let n_del = has_delayed.sum_all()?.to_scalar::<f32>()?.max(1.0);
    let delayed = (hinge(&dd2)? * has_delayed)?.sum_all()?.affine(1.0 / n_del as f64, 0.0)?;
    // All pairs: |a|² + |p|² − 2 a·p, off the diagonal.
    let a2 = a.sqr()?.sum_keepdim(1)?;
    let p2 = p.sqr()?.sum_keepdim(1)?.t()?;
    let d2 = (a2.broadcast_add(&p2)? - (a.matmul(&p.t()?)? * 2.0)?)?;
    let wsum = neg_w.sum_all()?.to_scalar::<f32>()?.max(1e-6);
    let others = (hinge(&d2)? * neg_w)?.sum_all()?.affine(1.0 / wsum as f64, 0.0)?;
    (pos + delayed)? + others
}

/// Embeds fixed fragments and scores them.
pub fn evaluate(enc: &Encoders, dances: &[DanceArrays], frags: &[(usize, usize)], delay: (usize, usize), seed: u64) -> Result<Figures, ModelError> {
    let cfg = &enc.cfg;
    let (t, f) = (cfg.frames, cfg.mfcc_dim);
    let mut mf = Vec::with_capacity(frags.len() * t * f);
    let mut po = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut delayed_idx = Vec::new();
    let mut dl = Vec::new();
    for &(d, s) in frags {
        let a = &dances[d];
        mf.extend_from_slice(&a.mfcc[s * f..(s + t) * f]);
        po.extend(data::pose_window(&a.poses[s..s + t]));
        match data::delayed_start(a, s, delay, &mut rng) {
            Some(x) => {
                delayed_idx.push(Some(dl.len() / (3 * t * cfg.joints)));
                dl.extend(data::pose_window(&a.poses[x..x + t]));
            }
            None => delayed_idx.push(None),
        }
    }
    let n = frags.len();
    let ae = enc.embed_audio(&mf, n)?;
    let pe = enc.embed_poses(&po, n)?;
    let nd = dl.len() / (3 * t * cfg.joints);
    let de = enc.embed_poses(&dl, nd)?;
    let e = cfg.embed_dim;
    let delayed: Vec<Option<Vec<f32>>> = delayed_idx.iter().map(|o| o.map(|k| de[k * e..(k + 1) * e].to_vec())).collect();
    let genre: Vec<Option<Genre>> = frags.iter().map(|&(d, _)| dances[d].genre.clone()).collect();
    Ok(eval::figures(&ae, &pe, &delayed, &genre, e, seed))
}

/// A copy of every variable (for keeping the best epoch).
fn snapshot(varmap: &VarMap) -> Result<HashMap<String, Tensor>, ModelError> {
    let data = varmap.data().lock().map_err(|_| ModelError::Invalid("poisoned lock".into()))?;
    data.iter().map(|(k, v)| Ok((k.clone(), v.as_tensor().copy().ctx("snapshot")?))).collect()
}

fn restore(varmap: &VarMap, w: &HashMap<String, Tensor>) -> Result<(), ModelError> {
    let data = varmap.data().lock().map_err(|_| ModelError::Invalid("poisoned lock".into()))?;
    for (k, v) in data.iter() {
        let t = w.get(k).ok_or_else(|| ModelError::Invalid(format!("snapshot lacks {k}")))?;
        v.set(t).ctx("restore")?;
    }
    Ok(())
}

/// A fingerprint of a corpus's poses and music offsets (sha256, hex).
pub fn corpus_fingerprint(corpus: &Corpus) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for d in &corpus.dances {
        h.update(d.name.as_bytes());
        h.update(d.audio_offset.to_le_bytes());
        h.update(corpus.fps.to_le_bytes());
        for f in &d.poses.frames {
            for j in f {
                for v in j {
                    h.update(v.to_le_bytes());
                }
            }
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl TrainConfig {
    /// The settings' own checks; the message starts with the setting's name.
    pub fn validate(&self) -> Result<(), ModelError> {
        check(self)
    }
}

fn check(cfg: &TrainConfig) -> Result<(), ModelError> {
    if cfg.epochs == 0 {
        return Err(ModelError::Invalid("epochs must be at least 1".into()));
    }
    if !(cfg.lr.is_finite() && cfg.lr > 0.0) {
        return Err(ModelError::Invalid(format!("lr must be positive, got {}", cfg.lr)));
    }
    if cfg.encoder.time_segments == 0 {
        return Err(ModelError::Invalid("time_segments must be at least 1".into()));
    }
    if !(cfg.fragment_secs.is_finite() && cfg.fragment_secs > 0.0) {
        return Err(ModelError::Invalid(format!("fragment_secs must be positive, got {}", cfg.fragment_secs)));
    }
    if cfg.batch < 4 {
        return Err(ModelError::Invalid(format!("batch must be at least 4, got {}", cfg.batch)));
    }
    if cfg.group > 0 && (cfg.group % 2 != 0 || cfg.batch % cfg.group != 0) {
        return Err(ModelError::Invalid(format!("group must be even and divide the batch {}, got {}", cfg.batch, cfg.group)));
    }
    Ok(())
}

/// One epoch's optimiser steps over `samples` in batches: (summed loss, batches run). A batch of
/// fewer than 4 samples is skipped; a non-finite loss stops training.
#[allow(clippy::too_many_arguments)]
fn run_epoch(
    enc: &Encoders,
    opt: &mut AdamW,
    dances: &[DanceArrays],
    samples: &[data::Sample],
    batch: usize,
    ecfg: &EncoderConfig,
    cfg: &TrainConfig,
    rng: &mut ChaCha8Rng,
    epoch: usize,
) -> Result<(f64, usize), ModelError> {
    let pooled = PoseEncoder::pooled_dim(ecfg);
        let (mut loss_sum, mut batches) = (0.0f64, 0usize);
    for chunk in samples.chunks(batch) {
        if chunk.len() < 4 {
            continue;
        }
        let (mf, po, partner, has) = batch_tensors(dances, chunk, ecfg, cfg.mirror.then_some(rng))?;
        let neg_w = negative_weights(chunk, cfg.same_dance_weight, cfg.min_negative_gap)?;
        let b = chunk.len();
        let ma = dropout_mask(rng, b, AudioEncoder::pooled_dim(ecfg), ecfg.dropout)?;
        let mp = dropout_mask(rng, b, pooled, ecfg.dropout)?;
        let a = enc.audio.forward(&mf, Some(&ma)).ctx("audio forward")?;
        let p = enc.pose.forward(&po, Some(&mp)).ctx("pose forward")?;
        let pdl = p.index_select(&partner, 0).ctx("partners")?;
        let l = loss(&a, &p, &pdl, &has, &neg_w, cfg.margin).ctx("loss")?;
        let lv = l.to_scalar::<f32>().ctx("loss")?;
        if !lv.is_finite() {
            return Err(ModelError::Diverged(format!("loss is {lv} at epoch {epoch}, batch {}; no weights were written", batches + 1)));
        }
        opt.backward_step(&l).ctx("backward")?;
        loss_sum += lv as f64;
        batches += 1;
    }
    Ok((loss_sum, batches))
}

/// Seeds the weights, sets the normalisation buffers from the training dances, and returns the
/// trainable parameters in name order (the `_mean`/`_std` buffers are not parameters).
fn init_params(varmap: &VarMap, rng: &mut ChaCha8Rng, dances: &[DanceArrays], train_ids: &[usize], ecfg: &EncoderConfig, len: usize) -> Result<Vec<Var>, ModelError> {
    init_weights(varmap, rng)?;
    set_mfcc_norm(varmap, dances, train_ids, ecfg.mfcc_dim)?;
    set_pose_norm(varmap, dances, train_ids, ecfg.joints, len)?;
    let data = varmap.data().lock().map_err(|_| ModelError::Invalid("poisoned lock".into()))?;
    let mut named: Vec<(&String, &Var)> = data.iter().filter(|(k, _)| !k.ends_with("_mean") && !k.ends_with("_std")).collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    Ok(named.into_iter().map(|(_, v)| v.clone()).collect())
}

/// The learning rate of `epoch` (1-based) under cosine decay to `lr_floor`·lr; None when the
/// rate stays constant.
fn cosine_lr(cfg: &TrainConfig, epoch: usize) -> Option<f64> {
    (cfg.lr_floor < 1.0 && cfg.epochs > 1).then(|| {
        let x = (epoch - 1) as f64 / (cfg.epochs - 1) as f64;
        cfg.lr * (cfg.lr_floor + (1.0 - cfg.lr_floor) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos()))
    })
}

/// The dances of each split and their evaluation fragments.
struct Splits {
    train_ids: Vec<usize>,
    test_ids: Vec<usize>,
    val_ids: Vec<usize>,
    train_frags: Vec<(usize, usize)>,
    test_frags: Vec<(usize, usize)>,
    val_frags: Vec<(usize, usize)>,
}

/// Splits the corpus (test dances per genre, then validation ones when `cfg.validate`); a corpus
/// without one training batch or 10 test fragments is too small.
fn splits(corpus: &Corpus, cfg: &TrainConfig, dances: &[DanceArrays], len: usize, batch: usize) -> Result<Splits, ModelError> {
    let names: Vec<(String, Option<Genre>)> = corpus.dances.iter().map(|d| (d.name.clone(), d.genre.clone())).collect();
    let (train_ids, test_ids) = data::split(&names)?;
    let (train_ids, val_ids) = if cfg.validate { data::validation_split(&names, &train_ids) } else { (train_ids, Vec::new()) };
    let test_frags = data::eval_fragments(dances, &test_ids, len);
    let train_frags = data::eval_fragments(dances, &train_ids, len);
    let val_frags = data::eval_fragments(dances, &val_ids, len);
    let n_train_windows: usize = train_ids.iter().map(|&d| dances[d].starts.len() / len).sum();
    if n_train_windows < batch || test_frags.len() < 10 {
        return Err(ModelError::CorpusTooSmall(format!(
            "{n_train_windows} training fragments and {} test fragments (need at least one batch of {} and 10 for testing)",
            test_frags.len(),
            batch
        )));
    }
    Ok(Splits { train_ids, test_ids, val_ids, train_frags, test_frags, val_frags })
}

/// Trains the encoders on `corpus`. `on_epoch` sees each epoch's figures (for a progress bar).
/// Returns the weights (by name), and the report whose card goes beside them.
pub fn train(corpus: &Corpus, cfg: &TrainConfig, on_epoch: &mut dyn FnMut(&EpochFigures)) -> Result<(HashMap<String, Tensor>, TrainReport), ModelError> {
    let t0 = Instant::now();
    let len = ((cfg.fragment_secs * corpus.fps).round() as usize).max(2);
    let mut ecfg = cfg.encoder.clone();
    ecfg.frames = len;
    check(cfg)?;
    // Batches hold whole pairs (see `data::epoch_samples`).
    let batch = cfg.batch + cfg.batch % 2;
    let dances = data::prepare(corpus, len)?;
    let delay = ((cfg.delay_secs.0 * corpus.fps).round() as usize, (cfg.delay_secs.1 * corpus.fps).round() as usize);
    let Splits { train_ids, test_ids, val_ids, train_frags, test_frags, val_frags } = splits(corpus, cfg, &dances, len, batch)?;
    let varmap = VarMap::new();
    let enc = Encoders::new(&ecfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let params = init_params(&varmap, &mut rng, &dances, &train_ids, &ecfg, len)?;
    let untrained = evaluate(&enc, &dances, &test_frags, delay, cfg.seed)?;
    let genres: Vec<Option<Genre>> = test_frags.iter().map(|&(d, _)| dances[d].genre.clone()).collect();
    let (rr1, rr10, rg10) = eval::random_ranking(&genres, cfg.seed);
    let mut opt = AdamW::new(params, ParamsAdamW { lr: cfg.lr, weight_decay: 1e-4, ..ParamsAdamW::default() }).ctx("optimizer")?;
    // The epoch kept when validating: (its validation figures, epoch, weights).
    let mut best: Option<(Figures, usize, HashMap<String, Tensor>)> = None;

    let mut epochs = Vec::new();
    for epoch in 1..=cfg.epochs {
        let te = Instant::now();
        if let Some(lr) = cosine_lr(cfg, epoch) {
            opt.set_learning_rate(lr);
        }
        let samples = if cfg.group > 0 {
            data::epoch_samples_grouped(&dances, &train_ids, len, delay, cfg.group, &mut rng)
        } else {
            data::epoch_samples(&dances, &train_ids, len, delay, &mut rng)
        };
        let (loss_sum, batches) = run_epoch(&enc, &mut opt, &dances, &samples, batch, &ecfg, cfg, &mut rng, epoch)?;
        let test = if epoch % cfg.eval_every.max(1) == 0 || epoch == cfg.epochs { Some(evaluate(&enc, &dances, &test_frags, delay, cfg.seed)?) } else { None };
        let val = if val_frags.len() >= 10 { Some(evaluate(&enc, &dances, &val_frags, delay, cfg.seed)?) } else { None };
        if let Some(v) = &val {
            if best.as_ref().is_none_or(|b| v.mean_rank < b.0.mean_rank) {
                best = Some((v.clone(), epoch, snapshot(&varmap)?));
            }
        }
        let ef = EpochFigures { epoch, loss: (loss_sum / batches.max(1) as f64) as f32, seconds: te.elapsed().as_secs_f64(), test, val };
        on_epoch(&ef);
        epochs.push(ef);
    }
    let mut kept_epoch = cfg.epochs;
    let mut val_figures = None;
    if let Some((v, e, w)) = best {
        restore(&varmap, &w)?;
        kept_epoch = e;
        val_figures = Some(v);
    }
    let test_figures = evaluate(&enc, &dances, &test_frags, delay, cfg.seed)?;
    let train_figures = evaluate(&enc, &dances, &train_frags, delay, cfg.seed)?;
    let splits = [&train_ids, &test_ids, &val_ids].map(|ids| ids.iter().map(|&i| dances[i].name.clone()).collect::<Vec<_>>());
    let [train_dances, test_dances, val_dances] = splits;
    let card = ModelCard {
        architecture: architecture_name(&ecfg).into(),
        config: ecfg,
        fps: corpus.fps,
        fragment_secs: cfg.fragment_secs,
        skeleton: crate::pose::format::SKELETON_NAME.into(),
        seed: cfg.seed,
        corpus_fingerprint: corpus_fingerprint(corpus),
        train_dances,
        test_dances,
        val_dances,
        epochs: cfg.epochs,
        kept_epoch,
        val_figures,
        train_seconds: t0.elapsed().as_secs_f64(),
        train_figures,
        test_figures,
        weights_sha256: String::new(),
    };
    let tensors = snapshot(&varmap)?;
    let baselines = Baselines { random_recall_at_1: rr1, random_recall_at_10: rr10, random_genre_precision_at_10: rg10, untrained };
    Ok((tensors, TrainReport { card, epochs, baselines }))
}
