//! The pose file, used everywhere (inputs, outputs, tests):
//! `{"fps": 24.0, "skeleton": "coco18", "width": 512, "height": 512, "frames": [[[x,y,c] × 18] × T],
//!   "beats": [s, ...]?, "provenance": [{"dance": .., "frame": ..} × T]?,
//!   "joints3d": {"skeleton": "humanoid18", "units": "cm", "up": "y", "frames": [[[x,y,z] × 18] × T]}?}`
//!   (the 3-D track, see [`super::skeleton3d`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::skeleton3d::{Frame3, NUM_JOINTS3, SKELETON3D_NAME};
use super::{Frame, PoseError, Provenance, Sequence, NUM_JOINTS};

pub const SKELETON_NAME: &str = "coco18";

/// Frame rates a pose file (or a folder of frames) may declare: 1 to 1000 fps. Beyond them the
/// motion filters' windows (a fixed number of seconds, in frames) are empty or enormous.
pub const FPS_MIN: f64 = 1.0;
pub const FPS_MAX: f64 = 1000.0;
/// Largest width or height of the image a pose file's pixels refer to.
pub const MAX_SIDE: u32 = 65_536;
/// Largest magnitude of a coordinate, in pixels (far outside any image; keeps squared distances finite).
pub const MAX_COORD: f32 = 1.0e7;
/// Largest magnitude of a 3-D coordinate, in cm (1 km: far beyond any dance floor).
pub const MAX_CM: f32 = 1.0e5;

/// Checks a frame rate read from `path` (or given for it): finite and in [`FPS_MIN`]..=[`FPS_MAX`].
pub fn check_fps(path: &Path, fps: f64) -> Result<f64, PoseError> {
    if fps.is_finite() && (FPS_MIN..=FPS_MAX).contains(&fps) {
        Ok(fps)
    } else {
        Err(PoseError::parse(path, format!("frame rate must be {FPS_MIN}..={FPS_MAX} fps, found {}", short_num(fps))))
    }
}

/// A number as a person reads it: plain when moderate, else in exponent form (`1e308`, not 309 digits).
pub fn short_num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-3..1e6).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

#[derive(Serialize, Deserialize)]
struct PoseFile {
    fps: f64,
    skeleton: String,
    width: u32,
    height: u32,
    frames: Vec<Vec<[Option<f32>; 3]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    beats: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provenance: Option<Vec<Provenance>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    joints3d: Option<Joints3dBlock>,
}

#[derive(Serialize, Deserialize)]
struct Joints3dBlock {
    skeleton: String,
    units: String,
    up: String,
    frames: Vec<Vec<[Option<f32>; 3]>>,
}

/// Validates the 3-D block: skeleton, units, axis, one frame of 18 finite, bounded joints per 2-D frame.
fn joints3d_from(path: &Path, b: &Joints3dBlock, n: usize) -> Result<Vec<Frame3>, PoseError> {
    if b.skeleton != SKELETON3D_NAME || b.units != "cm" || b.up != "y" {
        return Err(PoseError::Shape {
            path: path.into(),
            expected: format!("joints3d with skeleton \"{SKELETON3D_NAME}\", units \"cm\", up \"y\""),
            found: format!("{:?}, {:?}, {:?}", b.skeleton, b.units, b.up),
        });
    }
    if b.frames.len() != n {
        return Err(PoseError::Shape { path: path.into(), expected: format!("{n} joints3d frames (one per frame)"), found: b.frames.len().to_string() });
    }
    let mut out = Vec::with_capacity(n);
    for (t, f) in b.frames.iter().enumerate() {
        if f.len() != NUM_JOINTS3 {
            return Err(PoseError::Shape { path: path.into(), expected: format!("{NUM_JOINTS3} joints per joints3d frame"), found: format!("{} at frame {t}", f.len()) });
        }
        let mut fr: Frame3 = [[0.0; 3]; NUM_JOINTS3];
        for (j, v) in f.iter().enumerate() {
            for k in 0..3 {
                match v[k] {
                    Some(x) if x.is_finite() && x.abs() <= MAX_CM => fr[j][k] = x,
                    Some(x) if x.is_finite() => {
                        return Err(PoseError::parse(path, format!("joints3d value {x} at frame {t}, joint {j} is out of range (|v| ≤ {MAX_CM} cm)")))
                    }
                    _ => return Err(PoseError::NonFinite { path: path.into(), frame: t, joint: j }),
                }
            }
        }
        out.push(fr);
    }
    Ok(out)
}

/// Reads and validates a pose file.
pub fn read(path: &Path) -> Result<Sequence, PoseError> {
    let bytes = std::fs::read(path).map_err(|e| PoseError::io(path, e))?;
    if bytes.is_empty() {
        return Err(PoseError::parse(path, "file is empty"));
    }
    from_slice(&bytes, path)
}

/// Parses pose-file JSON; `path` is only used in errors.
pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Sequence, PoseError> {
    let pf: PoseFile =
        serde_json::from_slice(bytes).map_err(|e| PoseError::parse(path, format!("not a choreo pose file: {e}")))?;
    if pf.skeleton != SKELETON_NAME {
        return Err(PoseError::Shape { path: path.into(), expected: "skeleton \"coco18\"".into(), found: format!("{:?}", pf.skeleton) });
    }
    check_fps(path, pf.fps)?;
    if pf.width == 0 || pf.height == 0 || pf.width > MAX_SIDE || pf.height > MAX_SIDE {
        return Err(PoseError::parse(path, format!("width and height must be 1..={MAX_SIDE}, found {}x{}", pf.width, pf.height)));
    }
    if pf.frames.is_empty() {
        return Err(PoseError::Empty { path: path.into() });
    }
    let mut frames = Vec::with_capacity(pf.frames.len());
    for (t, f) in pf.frames.iter().enumerate() {
        if f.len() != NUM_JOINTS {
            return Err(PoseError::Shape {
                path: path.into(),
                expected: format!("{NUM_JOINTS} joints per frame"),
                found: format!("{} at frame {t}", f.len()),
            });
        }
        let mut fr: Frame = [[0.0; 3]; NUM_JOINTS];
        for (j, v) in f.iter().enumerate() {
            for k in 0..3 {
                // JSON has no NaN: writers emit null for it.
                match v[k] {
                    Some(x) if x.is_finite() && x.abs() <= MAX_COORD => fr[j][k] = x,
                    Some(x) if x.is_finite() => {
                        return Err(PoseError::parse(path, format!("value {x} at frame {t}, joint {j} is out of range (|v| ≤ {MAX_COORD})")))
                    }
                    _ => return Err(PoseError::NonFinite { path: path.into(), frame: t, joint: j }),
                }
            }
        }
        frames.push(fr);
    }
    if let Some(p) = &pf.provenance {
        if p.len() != frames.len() {
            return Err(PoseError::Shape {
                path: path.into(),
                expected: format!("{} provenance entries (one per frame)", frames.len()),
                found: p.len().to_string(),
            });
        }
    }
    if let Some(b) = &pf.beats {
        if b.iter().any(|x| !x.is_finite()) {
            return Err(PoseError::parse(path, "beats must be finite seconds"));
        }
    }
    let joints3d = pf.joints3d.as_ref().map(|b| joints3d_from(path, b, frames.len())).transpose()?;
    Ok(Sequence { fps: pf.fps, width: pf.width, height: pf.height, frames, beats: pf.beats, provenance: pf.provenance, joints3d })
}

/// Rounds coordinates to the pose file's precision (0.001 px or cm, as [`to_json`] writes them), so a
/// sequence processed in memory and the same sequence read back from its pose file are the same
/// input (`choreo dance` = `choreo dance --no-align` + `choreo align`).
pub fn quantize(seq: &mut Sequence) {
    for f in seq.frames.iter_mut() {
        for j in f.iter_mut() {
            for c in j.iter_mut() {
                *c = (*c * 1000.0).round() / 1000.0;
            }
        }
    }
    for f in seq.joints3d.iter_mut().flatten() {
        for j in f.iter_mut() {
            for c in j.iter_mut() {
                *c = (*c * 1000.0).round() / 1000.0;
            }
        }
    }
}

/// Serialises a sequence as pose-file JSON (coordinates rounded to 0.001 px).
pub fn to_json(seq: &Sequence) -> String {
    let round = |v: f32| -> Option<f32> { Some((v * 1000.0).round() / 1000.0) };
    let pf = PoseFile {
        fps: seq.fps,
        skeleton: SKELETON_NAME.into(),
        width: seq.width,
        height: seq.height,
        frames: seq.frames.iter().map(|f| f.iter().map(|j| [round(j[0]), round(j[1]), round(j[2])]).collect()).collect(),
        beats: seq.beats.clone(),
        provenance: seq.provenance.clone(),
        joints3d: seq.joints3d.as_ref().map(|j3| Joints3dBlock {
            skeleton: SKELETON3D_NAME.into(),
            units: "cm".into(),
            up: "y".into(),
            frames: j3.iter().map(|f| f.iter().map(|j| [round(j[0]), round(j[1]), round(j[2])]).collect()).collect(),
        }),
    };
    // Serialising plain numbers and strings cannot fail.
    serde_json::to_string(&pf).unwrap_or_default()
}

/// Writes a pose file atomically.
pub fn write(seq: &Sequence, path: &Path) -> Result<(), PoseError> {
    Ok(crate::io::write_atomic(path, to_json(seq).as_bytes())?)
}

/// Writes `seq` where `out` says: a folder (a path ending in `/`, or an existing folder) of
/// OpenPose per-frame JSON in `layout`, a .bvh file (the 3-D track; `source` is the input it was
/// made from, named in the file), or else a choreo pose file.
pub fn write_any(seq: &Sequence, out: &Path, layout: super::openpose::OpenPoseLayout, source: &Path) -> Result<(), PoseError> {
    if out.to_string_lossy().ends_with('/') || out.is_dir() {
        let stem = out.file_name().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "choreo".into());
        super::openpose::write_dir(seq, out, &stem, layout)
    } else if out.extension().is_some_and(|x| x.eq_ignore_ascii_case("bvh")) {
        super::bvh::write_sequence(seq, source, out)
    } else {
        write(seq, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq() -> Sequence {
        let mut f: Frame = [[0.0; 3]; NUM_JOINTS];
        for (j, v) in f.iter_mut().enumerate() {
            *v = [j as f32 * 10.5, 100.25 + j as f32, 1.0];
        }
        let mut s = Sequence::new(24.0, 512, 512, vec![f; 3]);
        s.beats = Some(vec![0.5, 1.0]);
        s.provenance = Some((0..3).map(|i| Provenance { dance: "DANCE_W_1".into(), frame: i }).collect());
        s
    }

    #[test]
    fn roundtrip() {
        let s = seq();
        let back = from_slice(to_json(&s).as_bytes(), Path::new("x.json")).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn joints3d_roundtrip_and_bad_blocks() {
        let mut s = seq();
        s.joints3d = Some((0..3).map(|t| std::array::from_fn(|j| [j as f32 * 1.5, 90.25 - t as f32, -3.0])).collect());
        let text = to_json(&s);
        assert!(text.contains("\"joints3d\":{\"skeleton\":\"humanoid18\",\"units\":\"cm\",\"up\":\"y\""), "{text}");
        assert_eq!(from_slice(text.as_bytes(), Path::new("x.json")).unwrap(), s);
        let p = Path::new("bad.json");
        assert!(text.contains("[0.0,90.25,-3.0]"));
        for (bad, want) in [
            (text.replacen("[0.0,90.25,-3.0]", "[0.0,null,-3.0]", 1), "non-finite"),
            (text.replacen("[0.0,90.25,-3.0]", "[0.0,1e9,-3.0]", 1), "out of range"),
            (text.replace("\"units\":\"cm\"", "\"units\":\"m\""), "units"),
            (text.replacen("[0.0,90.25,-3.0],", "", 1), "18 joints per joints3d frame"),
        ] {
            let e = from_slice(bad.as_bytes(), p).unwrap_err().to_string();
            assert!(e.starts_with("bad.json") && e.contains(want), "{want}: {e}");
        }
        let mut short = s.clone();
        short.joints3d.as_mut().unwrap().pop();
        let e = from_slice(to_json(&short).as_bytes(), p).unwrap_err().to_string();
        assert!(e.contains("3 joints3d frames"), "{e}");
    }

    #[test]
    fn rejects_nan_wrong_joint_count_and_skeleton() {
        let p = Path::new("bad.json");
        let good = to_json(&seq());
        assert!(good.contains("[0.0,100.25,1.0]"), "{good}");
        let nan = good.replacen("[0.0,100.25,1.0]", "[0.0,100.25,null]", 1);
        let e = from_slice(nan.as_bytes(), p).unwrap_err().to_string();
        assert!(e.contains("non-finite") && e.contains("frame 0, joint 0"), "{e}");
        let short = r#"{"fps":24,"skeleton":"coco18","width":512,"height":512,"frames":[[[1,2,1]]]}"#;
        let e = from_slice(short.as_bytes(), p).unwrap_err().to_string();
        assert!(e.contains("bad.json") && e.contains("18 joints"), "{e}");
        let body25 = to_json(&seq()).replace("coco18", "body25");
        assert!(from_slice(body25.as_bytes(), p).unwrap_err().to_string().contains("coco18"));
    }

    #[test]
    fn rejects_frame_rates_sizes_and_coordinates_out_of_range() {
        let p = Path::new("bad.json");
        let good = to_json(&seq());
        assert!(good.contains("\"fps\":24.0"), "{good}");
        for fps in ["1e308", "1e39", "1e6", "1000.5", "0", "-24", "0.5"] {
            let text = good.replacen("\"fps\":24.0", &format!("\"fps\":{fps}"), 1);
            let e = from_slice(text.as_bytes(), p).unwrap_err().to_string();
            assert!(e.starts_with("bad.json: frame rate must be 1..=1000 fps"), "{fps}: {e}");
        }
        for fps in ["1", "1000", "30"] {
            let text = good.replacen("\"fps\":24.0", &format!("\"fps\":{fps}"), 1);
            assert!(from_slice(text.as_bytes(), p).is_ok(), "{fps}");
        }
        let wide = good.replacen("\"width\":512", "\"width\":4000000000", 1);
        assert!(from_slice(wide.as_bytes(), p).unwrap_err().to_string().contains("width and height"));
        let far = good.replacen("[0.0,100.25,1.0]", "[1e30,100.25,1.0]", 1);
        let e = from_slice(far.as_bytes(), p).unwrap_err().to_string();
        assert!(e.contains("bad.json") && e.contains("frame 0, joint 0") && e.contains("out of range"), "{e}");
    }
}
