//! The fragment store: every fragment's poses (canvas pixels, as in the corpus), where it came
//! from, which fragment continues it, and both its embeddings. bincode 2 (serde) after a small
//! header: magic `CHOREOFS`, the format version (u32 LE) and the body length (u64 LE), so a
//! truncated file is recognised before decoding.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{FragmentId, IndexError};
use crate::pose::skeleton3d::Frame3;
use crate::pose::Frame;

const MAGIC: &[u8; 8] = b"CHOREOFS";
/// The store's own format version (unchanged by the index layout's version 2; 2 with the index's
/// version 3: records carry the optional 3-D track).
pub const STORE_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FragmentRecord {
    /// Index into the manifest's `sources`.
    pub source: u32,
    /// First frame in the source dance (at the index's fps).
    pub start: u32,
    pub poses: Vec<Frame>,
    /// The 3-D track of the same frames (humanoid18, world cm, y up), when the source has depth.
    /// Stored in millimetres relative to the first frame's `Hips` on the floor plane (see
    /// [`packed3`]), so it round-trips to 0.5 mm.
    #[serde(with = "packed3")]
    pub joints3d: Option<Vec<Frame3>>,
    /// The fragment that continues this one in the same dance, if any.
    pub next: Option<FragmentId>,
    pub pose_embedding: Vec<f32>,
    pub audio_embedding: Vec<f32>,
}

/// The 3-D track on disk: an origin (the first frame's `Hips` x and z, y 0; f32 cm) and every
/// coordinate minus the origin in whole millimetres as i16 little-endian bytes (±32.7 m around
/// it; a fragment spanning more cannot be stored). Half the bytes of f32 (the track would
/// otherwise double the store).
pub mod packed3 {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::pose::skeleton3d::{Frame3, NUM_JOINTS3};

    const PER_FRAME: usize = NUM_JOINTS3 * 3 * 2;

    #[derive(Serialize, Deserialize)]
    struct Packed {
        origin: [f32; 3],
        mm: Vec<u8>,
    }

    pub fn serialize<S: Serializer>(v: &Option<Vec<Frame3>>, s: S) -> Result<S::Ok, S::Error> {
        let p = match v {
            None => None,
            Some(frames) => {
                let h = frames.first().map(|f| f[0]).unwrap_or([0.0; 3]);
                let origin = [h[0], 0.0, h[2]];
                let mut mm = Vec::with_capacity(frames.len() * PER_FRAME);
                for f in frames {
                    for j in f {
                        for c in 0..3 {
                            let q = ((j[c] - origin[c]) * 10.0).round();
                            if !(q.is_finite() && q.abs() <= i16::MAX as f32) {
                                return Err(serde::ser::Error::custom(format!("3-D coordinate {} cm is more than 32 m from the fragment's origin", j[c])));
                            }
                            mm.extend_from_slice(&(q as i16).to_le_bytes());
                        }
                    }
                }
                Some(Packed { origin, mm })
            }
        };
        p.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Frame3>>, D::Error> {
        let Some(p) = Option::<Packed>::deserialize(d)? else { return Ok(None) };
        if p.mm.len() % PER_FRAME != 0 || !p.origin.iter().all(|x| x.is_finite()) {
            return Err(serde::de::Error::custom(format!("3-D track of {} bytes (not whole frames) or a non-finite origin", p.mm.len())));
        }
        let q = |k: usize| i16::from_le_bytes([p.mm[2 * k], p.mm[2 * k + 1]]) as f32 / 10.0;
        Ok(Some(
            (0..p.mm.len() / PER_FRAME)
                .map(|t| std::array::from_fn(|j| std::array::from_fn(|c| p.origin[c] + q((t * NUM_JOINTS3 + j) * 3 + c))))
                .collect(),
        ))
    }
}

pub fn encode(records: &[FragmentRecord]) -> Result<Vec<u8>, IndexError> {
    let body = bincode::serde::encode_to_vec(records, bincode::config::standard()).map_err(|e| IndexError::Invalid(format!("encoding the fragment store: {e}")))?;
    let mut out = Vec::with_capacity(body.len() + 20);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&STORE_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

pub fn decode(bytes: &[u8], path: &Path) -> Result<Vec<FragmentRecord>, IndexError> {
    let corrupt = |reason: String| IndexError::Corrupt { path: path.into(), reason };
    if bytes.len() < 20 || &bytes[..8] != MAGIC {
        return Err(corrupt("not a choreo fragment store (bad header)".into()));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != STORE_VERSION {
        return Err(IndexError::Version { path: path.into(), found: version, expected: STORE_VERSION });
    }
    let mut len8 = [0u8; 8];
    len8.copy_from_slice(&bytes[12..20]);
    let len = u64::from_le_bytes(len8) as usize;
    if bytes.len() - 20 != len {
        return Err(corrupt(format!("truncated: {} of {} bytes", bytes.len() - 20, len)));
    }
    let (records, used): (Vec<FragmentRecord>, usize) =
        bincode::serde::decode_from_slice(&bytes[20..], bincode::config::standard()).map_err(|e| corrupt(format!("cannot decode: {e}")))?;
    if used != len {
        return Err(corrupt("trailing bytes after the records".into()));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_truncation() {
        let r = FragmentRecord {
            source: 1,
            start: 24,
            poses: vec![[[1.0, 2.0, 1.0]; 18]; 3],
            joints3d: Some(vec![[[-1.5, 90.0, 3.25]; 18]; 3]),
            next: Some(FragmentId(5)),
            pose_embedding: vec![0.5; 16],
            audio_embedding: vec![-0.5; 16],
        };
        let bytes = encode(&[r.clone(), r.clone()]).unwrap();
        let p = Path::new("fragments.bin");
        assert_eq!(decode(&bytes, p).unwrap(), vec![r.clone(), r.clone()]);
        // The 3-D track round-trips to the millimetre, and one that spans more than 32 m is refused.
        let mut w = r.clone();
        w.joints3d = Some((0..3).map(|t| std::array::from_fn(|j| [1234.567 + t as f32 * 3.21, 95.04 + j as f32, -777.7])).collect());
        let back = decode(&encode(std::slice::from_ref(&w)).unwrap(), p).unwrap();
        for (a, b) in back[0].joints3d.as_ref().unwrap().iter().flatten().zip(w.joints3d.as_ref().unwrap().iter().flatten()) {
            assert!((0..3).all(|c| (a[c] - b[c]).abs() <= 0.051), "{a:?} vs {b:?}");
        }
        w.joints3d.as_mut().unwrap()[2][5][0] = 1234.567 + 3300.0;
        assert!(encode(&[w]).unwrap_err().to_string().contains("32 m"));
        let e = decode(&bytes[..bytes.len() - 7], p).unwrap_err().to_string();
        assert!(e.contains("fragments.bin") && e.contains("truncated") && e.contains("choreo index build"), "{e}");
    }
}
