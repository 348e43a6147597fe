//! Weights on disk: `encoders.safetensors` (tensor names mirror the module tree) beside a JSON
//! sidecar `encoders.json` (the [`ModelCard`]: architecture, dims, fps, fragment length, skeleton,
//! seed, corpus fingerprint, split, figures). Both are written atomically; loading checks the
//! architecture and every tensor's shape and names the file on any mismatch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::encoders::{architecture_name, EncoderConfig, Encoders};
use super::eval::Figures;
use super::ModelError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub architecture: String,
    pub config: EncoderConfig,
    pub fps: f64,
    pub fragment_secs: f64,
    pub skeleton: String,
    pub seed: u64,
    pub corpus_fingerprint: String,
    pub train_dances: Vec<String>,
    pub test_dances: Vec<String>,
    /// Training dances held out to choose the epoch (not trained on); empty without validation.
    #[serde(default)]
    pub val_dances: Vec<String>,
    pub epochs: usize,
    /// The epoch whose weights were kept (the best on the validation dances, else the last).
    #[serde(default)]
    pub kept_epoch: usize,
    #[serde(default)]
    pub val_figures: Option<Figures>,
    pub train_seconds: f64,
    pub train_figures: Figures,
    pub test_figures: Figures,
    /// Short hash of the weights file: the index records it to refuse another encoder's queries.
    #[serde(default)]
    pub weights_sha256: String,
}

/// The sidecar path of a weights file: same stem, `.json`.
pub fn sidecar(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Serialises tensors to safetensors bytes.
pub fn to_bytes(tensors: &HashMap<String, Tensor>) -> Result<Vec<u8>, ModelError> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let views: Vec<(&str, &Tensor)> = names.iter().map(|n| (n.as_str(), &tensors[*n])).collect();
    safetensors::serialize(views, None).map_err(|e| ModelError::Invalid(format!("serialising weights: {e}")))
}

pub use crate::io::sha256_hex;

/// Writes weights and sidecar atomically (weights first; the card records their hash).
pub fn save(weights: &Path, tensors: &HashMap<String, Tensor>, card: &ModelCard) -> Result<(), ModelError> {
    let bytes = to_bytes(tensors)?;
    let mut card = card.clone();
    card.weights_sha256 = sha256_hex(&bytes);
    let json = serde_json::to_string_pretty(&card).map_err(|e| ModelError::Invalid(e.to_string()))?;
    let io = |e: crate::io::IoError| ModelError::Invalid(e.to_string());
    crate::io::write_atomic(weights, &bytes).map_err(io)?;
    crate::io::write_atomic(&sidecar(weights), json.as_bytes()).map_err(io)?;
    Ok(())
}

/// Limits on what a card may declare (anything outside is a crafted or corrupt file): frame rate
/// as a pose file's (1..=1000 fps), fragments of at most 60 s and 4096 frames, and layer sizes
/// far above what is trained here (hidden 100, channels 64) but small enough to allocate.
pub const MAX_FRAGMENT_SECS: f64 = 60.0;
pub const MAX_FRAMES: usize = 4096;
pub const MAX_WIDTH: usize = 4096;
pub const MAX_GCN_BLOCKS: usize = 16;
pub const MAX_TEMPORAL_KERNEL: usize = 63;

/// Checks a card's numbers before anything is sized from them; `side` is named in the error.
pub fn check_card(side: &Path, card: &ModelCard) -> Result<(), ModelError> {
    let bad = |reason: String| Err(ModelError::BadWeights { path: side.into(), reason });
    let c = &card.config;
    if !(card.fps.is_finite() && (crate::pose::format::FPS_MIN..=crate::pose::format::FPS_MAX).contains(&card.fps)) {
        return bad(format!("fps {} is out of range ({}..={})", crate::pose::format::short_num(card.fps), crate::pose::format::FPS_MIN, crate::pose::format::FPS_MAX));
    }
    if !(card.fragment_secs.is_finite() && card.fragment_secs > 0.0 && card.fragment_secs <= MAX_FRAGMENT_SECS) {
        return bad(format!("fragment_secs {} is out of range (0..={MAX_FRAGMENT_SECS} s)", card.fragment_secs));
    }
    // As training sets it: the fragment length in frames, at least 2.
    if c.frames > MAX_FRAMES || c.frames != ((card.fps * card.fragment_secs).round() as usize).max(2) {
        return bad(format!(
            "config.frames {} does not match fps {} × fragment_secs {} (1..={MAX_FRAMES} frames)",
            c.frames, card.fps, card.fragment_secs
        ));
    }
    if c.joints != crate::pose::NUM_JOINTS {
        return bad(format!("config.joints {} (the COCO-18 skeleton has {})", c.joints, crate::pose::NUM_JOINTS));
    }
    let widths = [("mfcc_dim", c.mfcc_dim), ("lstm_hidden", c.lstm_hidden), ("embed_dim", c.embed_dim), ("joint_embed", c.joint_embed)];
    for (name, v) in widths.into_iter().chain(c.gcn_channels.iter().map(|&v| ("gcn_channels", v))) {
        if v == 0 || v > MAX_WIDTH {
            return bad(format!("config.{name} {v} is out of range (1..={MAX_WIDTH})"));
        }
    }
    if c.gcn_channels.is_empty() || c.gcn_channels.len() > MAX_GCN_BLOCKS {
        return bad(format!("config.gcn_channels has {} blocks (1..={MAX_GCN_BLOCKS})", c.gcn_channels.len()));
    }
    if c.temporal_kernel % 2 == 0 || c.temporal_kernel > MAX_TEMPORAL_KERNEL {
        return bad(format!("config.temporal_kernel {} must be odd and at most {MAX_TEMPORAL_KERNEL}", c.temporal_kernel));
    }
    if c.time_segments == 0 || c.time_segments > c.frames {
        return bad(format!("config.time_segments {} is out of range (1..={})", c.time_segments, c.frames));
    }
    if !(c.dropout.is_finite() && (0.0..1.0).contains(&c.dropout)) {
        return bad(format!("config.dropout {} is out of range [0, 1)", c.dropout));
    }
    Ok(())
}

/// Number of f32 parameters the encoders of `cfg` have (every tensor [`expected_shapes`] lists),
/// computed without building them; `None` on overflow.
pub fn param_count(cfg: &EncoderConfig) -> Option<usize> {
    let m = |a: usize, b: usize| a.checked_mul(b);
    let (h, e) = (cfg.lstm_hidden, cfg.embed_dim);
    let input = if cfg.mfcc_deltas { m(2, cfg.mfcc_dim)? } else { cfg.mfcc_dim };
    // Per LSTM direction: weight_ih (4h × in), weight_hh (4h × h), two biases (4h).
    let lstm = m(m(4, h)?, input.checked_add(h)?.checked_add(2)?)?;
    let segs = cfg.time_segments.max(1);
    let audio_fc = m(m(m(2, h)?, segs)?.checked_add(1)?, e)?;
    let audio = m(2, lstm)?.checked_add(audio_fc)?.checked_add(m(2, cfg.mfcc_dim)?)?;
    let v = cfg.joints;
    let mut pose = m(m(v, 3)?, 2)?.checked_add(m(m(v, 4)?, cfg.joint_embed)?)?;
    let mut c_in = cfg.joint_embed;
    for &c in &cfg.gcn_channels {
        // tconv (k × c_in × c) + bias, gconv (c × c) + bias, a residual (c_in × c) + bias when widths differ.
        let mut block = m(m(cfg.temporal_kernel, c_in)?, c)?.checked_add(m(c, c.checked_add(2)?)?)?;
        if c_in != c {
            block = block.checked_add(m(c_in.checked_add(1)?, c)?)?;
        }
        pose = pose.checked_add(block)?;
        c_in = c;
    }
    let last = cfg.gcn_channels.last().copied().unwrap_or(3);
    pose = pose.checked_add(m(m(last, segs)?.checked_add(1)?, e)?)?;
    audio.checked_add(pose)
}

/// Loads and checks encoders from `weights` and its sidecar.
pub fn load(weights: &Path, device: &Device) -> Result<(Encoders, ModelCard), ModelError> {
    let bad = |path: &Path, reason: String| ModelError::BadWeights { path: path.into(), reason };
    let side = sidecar(weights);
    let text = std::fs::read(&side).map_err(|e| ModelError::Io { path: side.clone(), source: e })?;
    let card: ModelCard = serde_json::from_slice(&text).map_err(|e| bad(&side, format!("not a choreo encoder card: {e}")))?;
    check_card(&side, &card)?;
    let expected = architecture_name(&card.config);
    if card.architecture != expected {
        return Err(bad(&side, format!("architecture {:?}, this choreo expects {expected:?} for its config; retrain with `choreo train`", card.architecture)));
    }
    let bytes = std::fs::read(weights).map_err(|e| ModelError::Io { path: weights.into(), source: e })?;
    if !card.weights_sha256.is_empty() && sha256_hex(&bytes) != card.weights_sha256 {
        return Err(bad(weights, format!("contents do not match the hash in {} (file changed or truncated)", side.display())));
    }
    // The config must not ask for more parameters than the file holds (f32 each), checked before
    // the expected shapes are built (that allocates them).
    param_count(&card.config).filter(|&n| n <= bytes.len() / 4).ok_or_else(|| {
        bad(&side, format!("config asks for more parameters than {} holds ({} bytes)", weights.display(), bytes.len()))
    })?;
    let tensors = candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| bad(weights, format!("not a safetensors file: {e}")))?;
    let expected = expected_shapes(&card.config)?;
    for (name, shape) in &expected {
        match tensors.get(name) {
            None => return Err(bad(weights, format!("missing tensor {name} (expected shape {shape:?}); weights and code disagree, retrain"))),
            Some(t) if t.dims() != shape.as_slice() => {
                return Err(bad(weights, format!("tensor {name}: expected shape {shape:?}, found {:?}", t.dims())))
            }
            _ => {}
        }
    }
    if let Some(extra) = tensors.keys().find(|k| !expected.contains_key(*k)) {
        return Err(bad(weights, format!("unexpected tensor {extra}: weights and code disagree, retrain")));
    }
    let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
    let enc = Encoders::new(&card.config, vb).map_err(|e| bad(weights, e.to_string()))?;
    Ok((enc, card))
}

/// Names and shapes of every tensor the code builds for `cfg`.
pub fn expected_shapes(cfg: &EncoderConfig) -> Result<HashMap<String, Vec<usize>>, ModelError> {
    let varmap = candle_nn::VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    Encoders::new(cfg, vb)?;
    let data = varmap.data().lock().map_err(|_| ModelError::Invalid("poisoned lock".into()))?;
    Ok(data.iter().map(|(k, v)| (k.clone(), v.dims().to_vec())).collect())
}

impl ModelCard {
    /// A fragment length asked for (`fragment_secs`) against the one the encoders at `path` were
    /// trained on: they only embed fragments of that length.
    pub fn check_fragment_secs(&self, secs: f64, path: &Path) -> Result<(), crate::units::SettingError> {
        if (secs - self.fragment_secs).abs() > 1e-9 {
            let reason = format!("{secs}: the encoder {} was trained on {} s fragments; train one for {secs} s first", path.display(), self.fragment_secs);
            return Err(crate::units::SettingError::new("fragment_secs", reason));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> ModelCard {
        let text = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/encoders.json")).unwrap();
        serde_json::from_slice(&text).unwrap()
    }

    #[test]
    fn param_count_matches_the_built_tensors() {
        let v2 = card().config;
        let v1 = EncoderConfig::default();
        let mut odd = v1.clone();
        odd.gcn_channels = vec![16, 8];
        odd.temporal_kernel = 3;
        odd.frames = 48;
        for cfg in [v1, v2, odd] {
            let built: usize = expected_shapes(&cfg).unwrap().values().map(|s| s.iter().product::<usize>()).sum();
            assert_eq!(param_count(&cfg), Some(built), "{cfg:?}");
        }
    }

    #[test]
    fn cards_with_numbers_out_of_range_are_refused() {
        let side = Path::new("enc.json");
        assert!(check_card(side, &card()).is_ok());
        type Edit = fn(&mut ModelCard);
        let edits: [(&str, Edit); 11] = [
            ("fps", |c| c.fps = 1e308),
            ("fps", |c| c.fps = 1e-9),
            ("fps", |c| c.fps = 0.0),
            ("fps", |c| c.fps = f64::NAN),
            ("fragment_secs", |c| c.fragment_secs = -1.0),
            ("config.frames", |c| c.config.frames = 1_000_000),
            ("config.lstm_hidden", |c| c.config.lstm_hidden = 1 << 40),
            ("config.gcn_channels", |c| c.config.gcn_channels = vec![]),
            ("config.temporal_kernel", |c| c.config.temporal_kernel = 4),
            ("config.time_segments", |c| c.config.time_segments = 0),
            ("config.joints", |c| c.config.joints = 25),
        ];
        for (what, edit) in edits {
            let mut c = card();
            edit(&mut c);
            let e = check_card(side, &c).unwrap_err().to_string();
            assert!(e.starts_with("enc.json: ") && e.contains(what), "{what}: {e}");
        }
        let mut huge = card().config;
        huge.lstm_hidden = usize::MAX / 2;
        assert_eq!(param_count(&huge), None);
    }
}
