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

/// Loads and checks encoders from `weights` and its sidecar.
pub fn load(weights: &Path, device: &Device) -> Result<(Encoders, ModelCard), ModelError> {
    let bad = |path: &Path, reason: String| ModelError::BadWeights { path: path.into(), reason };
    let side = sidecar(weights);
    let text = std::fs::read(&side).map_err(|e| ModelError::Io { path: side.clone(), source: e })?;
    let card: ModelCard = serde_json::from_slice(&text).map_err(|e| bad(&side, format!("not a choreo encoder card: {e}")))?;
    let expected = architecture_name(&card.config);
    if card.architecture != expected {
        return Err(bad(&side, format!("architecture {:?}, this choreo expects {expected:?} for its config; retrain with `choreo train`", card.architecture)));
    }
    let bytes = std::fs::read(weights).map_err(|e| ModelError::Io { path: weights.into(), source: e })?;
    if !card.weights_sha256.is_empty() && sha256_hex(&bytes) != card.weights_sha256 {
        return Err(bad(weights, format!("contents do not match the hash in {} (file changed or truncated)", side.display())));
    }
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
