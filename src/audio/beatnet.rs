//! BeatNet's beat/downbeat network (Heydari, Cwitkowitz, Duan, "BeatNet: CRNN and particle
//! filtering for online joint beat downbeat and meter tracking", ISMIR 2021), run by ONNX
//! Runtime from `models/beatnet.onnx`: the PyPI wheel `BeatNet==1.1.3`'s `model_1_weights.pt`
//! (trained without GTZAN), CC-BY-4.0, converted by `tools/beats/export_beatnet.py`.
//!
//! Input `feats` `[1, T, 272]` ([`super::logspec::features`]); output `act` `[1, T, 3]`: per
//! frame (50/s) the softmax over beat, downbeat and no beat. The network is causal (a
//! convolution across frequency, then a 2-layer LSTM from a zero state), so it has no look-ahead.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::TensorRef;

use super::logspec::DIM;
use super::AudioError;

/// What a user is told to do about a missing or broken model file.
pub const SETUP_HINT: &str =
    "the model ships in the repository's models/ folder (restore it with git, or rebuild it with tools/beats/export_beatnet.py); ONNX Runtime comes from tools/setup.sh";

/// Where the model is looked for: `models/beatnet.onnx`, as [`crate::runtime::shipped_model`].
pub fn default_model() -> PathBuf {
    crate::runtime::shipped_model("beatnet.onnx")
}

/// A loaded BeatNet network.
pub struct BeatNet {
    session: Session,
    model: PathBuf,
}

impl std::fmt::Debug for BeatNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeatNet").field("model", &self.model).finish()
    }
}

fn model_err(path: &Path, reason: impl std::fmt::Display) -> AudioError {
    AudioError::Model { path: path.to_path_buf(), reason: format!("{reason}; {SETUP_HINT}") }
}

impl BeatNet {
    /// Loads the network from `path` and checks its input and output shapes.
    pub fn load(path: &Path) -> Result<Self, AudioError> {
        if !path.is_file() {
            return Err(model_err(path, "file not found"));
        }
        let env = crate::runtime::environment().map_err(|e| model_err(path, format!("ONNX Runtime: {e}")))?;
        // One thread: the network is small and sequential (the LSTM), and one thread keeps the
        // numbers the same from run to run.
        let session = crate::runtime::cpu_session(env, path, 1).map_err(|e| model_err(path, format!("not a usable ONNX model ({e})")))?;
        let shape_of = |dt: &ort::value::ValueType| -> Vec<i64> { dt.tensor_shape().map(|s| s.iter().copied().collect()).unwrap_or_default() };
        let ins: Vec<Vec<i64>> = session.inputs().iter().map(|i| shape_of(i.dtype())).collect();
        let outs: Vec<Vec<i64>> = session.outputs().iter().map(|o| shape_of(o.dtype())).collect();
        let ok_in = matches!(ins.as_slice(), [s] if s.len() == 3 && s[2] == DIM as i64);
        let ok_out = matches!(outs.as_slice(), [s] if s.len() == 3 && s[2] == 3);
        if !ok_in || !ok_out {
            return Err(model_err(
                path,
                format!("wrong shape: expected one input [1, T, {DIM}] and one output [1, T, 3], found inputs {ins:?} and outputs {outs:?}"),
            ));
        }
        Ok(BeatNet { session, model: path.to_path_buf() })
    }

    /// The health check of `choreo doctor`: loads the model at `path`, checks its shapes and runs
    /// it on a few frames. `Ok`: one line describing it; `Err`: one line naming the file, what is
    /// wrong and how to restore it.
    pub fn check(path: &Path) -> Result<String, String> {
        let fail = |e: AudioError| match e {
            AudioError::Model { path, reason } => format!("{}: {reason}", path.display()),
            other => other.to_string(),
        };
        let mut net = BeatNet::load(path).map_err(fail)?;
        const FRAMES: usize = 8;
        let rows = net.activations(&[0f32; FRAMES * DIM], FRAMES).map_err(fail)?;
        if rows.len() != FRAMES || rows.iter().any(|r| !r.iter().all(|v| v.is_finite()) || (r.iter().sum::<f32>() - 1.0).abs() > 1e-3) {
            return Err(format!("{}: the network's output is not a probability per frame; {SETUP_HINT}", path.display()));
        }
        Ok(format!("{} (input [1, T, {DIM}], output [1, T, 3]: beat, downbeat, no beat)", path.display()))
    }

    pub fn model(&self) -> &Path {
        &self.model
    }

    /// Runs the network on `frames` feature rows (`feats.len() == frames · 272`); returns the
    /// `[frames × 3]` softmax rows (beat, downbeat, no beat).
    pub fn activations(&mut self, feats: &[f32], frames: usize) -> Result<Vec<[f32; 3]>, AudioError> {
        if frames == 0 {
            return Ok(Vec::new());
        }
        assert_eq!(feats.len(), frames * DIM, "feature rows");
        let path = self.model.clone();
        let tensor = TensorRef::from_array_view(([1usize, frames, DIM], feats)).map_err(|e| model_err(&path, e))?;
        let outputs = self.session.run(ort::inputs![tensor]).map_err(|e| model_err(&path, e))?;
        let (shape, data) = outputs[0].try_extract_tensor::<f32>().map_err(|e| model_err(&path, e))?;
        if data.len() != frames * 3 {
            return Err(model_err(&path, format!("wrong shape: output {shape:?} for {frames} frames, expected [1, {frames}, 3]")));
        }
        Ok(data.chunks_exact(3).map(|r| [r[0], r[1], r[2]]).collect())
    }
}
