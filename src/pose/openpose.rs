//! OpenPose per-frame JSON folders (`*_keypoints.json`, `people[].pose_keypoints_2d`), BODY_25 or
//! COCO-18, read into and written from [`Sequence`]. Files are taken in name order, one frame each;
//! with several people in a frame the one with the largest total confidence is kept; a frame with
//! nobody is all-missing (confidence 0) and left to the cleaner.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Frame, PoseError, Sequence, NUM_JOINTS};

/// BODY_25 index of each COCO-18 joint (BODY_25 adds MidHip at 8 and six foot points).
pub const BODY25_TO_COCO18: [usize; NUM_JOINTS] = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum OpenPoseLayout {
    Coco18,
    Body25,
}

#[derive(Deserialize)]
struct OpFrame {
    #[serde(default)]
    people: Vec<OpPerson>,
}

#[derive(Deserialize)]
struct OpPerson {
    #[serde(default)]
    pose_keypoints_2d: Vec<Option<f32>>,
}

#[derive(Serialize)]
struct OpFrameOut {
    version: f32,
    people: Vec<OpPersonOut>,
}

#[derive(Serialize)]
struct OpPersonOut {
    person_id: Vec<i32>,
    pose_keypoints_2d: Vec<f32>,
}

/// The keypoint files of an OpenPose output folder, in name order.
pub fn list_frames(dir: &Path) -> Result<Vec<PathBuf>, PoseError> {
    let rd = std::fs::read_dir(dir).map_err(|e| PoseError::io(dir, e))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Parses one OpenPose frame file into a COCO-18 frame.
pub fn read_frame(path: &Path) -> Result<Frame, PoseError> {
    let bytes = std::fs::read(path).map_err(|e| PoseError::io(path, e))?;
    let f: OpFrame = serde_json::from_slice(&bytes).map_err(|e| PoseError::parse(path, format!("not an OpenPose keypoints file: {e}")))?;
    let mut best: Option<(f32, Frame)> = None;
    for p in &f.people {
        let k = &p.pose_keypoints_2d;
        let layout = match k.len() {
            75 => OpenPoseLayout::Body25,
            54 => OpenPoseLayout::Coco18,
            0 => continue,
            n => {
                return Err(PoseError::Shape {
                    path: path.into(),
                    expected: "75 (BODY_25) or 54 (COCO-18) values in pose_keypoints_2d".into(),
                    found: n.to_string(),
                })
            }
        };
        let mut fr: Frame = [[0.0; 3]; NUM_JOINTS];
        for j in 0..NUM_JOINTS {
            let src = match layout {
                OpenPoseLayout::Body25 => BODY25_TO_COCO18[j],
                OpenPoseLayout::Coco18 => j,
            };
            for c in 0..3 {
                let v = k[src * 3 + c].filter(|v| v.is_finite()).ok_or(PoseError::NonFinite { path: path.into(), frame: 0, joint: j })?;
                if v.abs() > super::format::MAX_COORD {
                    return Err(PoseError::parse(path, format!("value {v} at joint {j} is out of range (|v| ≤ {})", super::format::MAX_COORD)));
                }
                fr[j][c] = v;
            }
            // OpenPose marks an undetected joint by (0, 0, 0).
            if fr[j][2] <= 0.0 {
                fr[j] = [0.0, 0.0, 0.0];
            }
        }
        let score: f32 = fr.iter().map(|j| j[2]).sum();
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, fr));
        }
    }
    Ok(best.map(|(_, f)| f).unwrap_or([[0.0; 3]; NUM_JOINTS]))
}

/// The image size of an OpenPose input, `WIDTHxHEIGHT` (e.g. `1920x1080`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

impl std::str::FromStr for ImageSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected WIDTHxHEIGHT in pixels (e.g. 1920x1080), got '{s}'");
        let (w, h) = s.split_once('x').ok_or_else(bad)?;
        let (width, height) = (w.trim().parse::<u32>().map_err(|_| bad())?, h.trim().parse::<u32>().map_err(|_| bad())?);
        if width == 0 || height == 0 {
            return Err(bad());
        }
        Ok(ImageSize { width, height })
    }
}

/// [`read_dir`], letterboxed onto the [`super::CANVAS`] and resampled to the working `fps`.
pub fn load_dir(dir: &Path, source_fps: f64, size: Option<(u32, u32)>, fps: f64) -> Result<Sequence, PoseError> {
    let raw = read_dir(dir, source_fps, size)?;
    Ok(super::normalize::resample(&super::normalize::fit_canvas(&raw, super::CANVAS), fps))
}

/// Reads a folder of OpenPose frames shot at `fps` on an image of `width × height` pixels.
/// Without a size, the smallest size holding every detected point is used. `fps` must be in
/// [`super::format::FPS_MIN`]..=[`super::format::FPS_MAX`], the size 1..=[`super::format::MAX_SIDE`].
pub fn read_dir(dir: &Path, fps: f64, size: Option<(u32, u32)>) -> Result<Sequence, PoseError> {
    super::format::check_fps(dir, fps)?;
    if let Some((w, h)) = size {
        let max = super::format::MAX_SIDE;
        if w == 0 || h == 0 || w > max || h > max {
            return Err(PoseError::parse(dir, format!("image size must be 1..={max} pixels a side, found {w}x{h}")));
        }
    }
    let files = list_frames(dir)?;
    if files.is_empty() {
        return Err(PoseError::parse(dir, "no OpenPose *_keypoints.json files in this folder"));
    }
    let frames = files.iter().map(|p| read_frame(p)).collect::<Result<Vec<_>, _>>()?;
    let (w, h) = size.unwrap_or_else(|| {
        let mut w: f32 = 1.0;
        let mut h: f32 = 1.0;
        for f in &frames {
            for j in f.iter().filter(|j| j[2] > 0.0) {
                w = w.max(j[0]);
                h = h.max(j[1]);
            }
        }
        // Points are at most MAX_COORD (1e7) px out: the size fits a u32.
        (w.ceil() as u32 + 1, h.ceil() as u32 + 1)
    });
    Ok(Sequence::new(fps, w, h, frames))
}

/// Writes one OpenPose file per frame, `{stem}_{t:012}_keypoints.json`, in the given layout.
/// BODY_25's mid-hip is the hips' midpoint; its foot points are written as missing.
pub fn write_dir(seq: &Sequence, dir: &Path, stem: &str, layout: OpenPoseLayout) -> Result<(), PoseError> {
    std::fs::create_dir_all(dir).map_err(|e| PoseError::io(dir, e))?;
    for (t, f) in seq.frames.iter().enumerate() {
        let mut k = Vec::new();
        match layout {
            OpenPoseLayout::Coco18 => {
                for j in f {
                    k.extend_from_slice(j);
                }
            }
            OpenPoseLayout::Body25 => {
                let mut b = [[0.0f32; 3]; 25];
                for (c, &src) in BODY25_TO_COCO18.iter().enumerate() {
                    b[src] = f[c];
                }
                if f[8][2] > 0.0 && f[11][2] > 0.0 {
                    b[8] = [(f[8][0] + f[11][0]) / 2.0, (f[8][1] + f[11][1]) / 2.0, f[8][2].min(f[11][2])];
                }
                for j in b {
                    k.extend_from_slice(&j);
                }
            }
        }
        let out = OpFrameOut { version: 1.3, people: vec![OpPersonOut { person_id: vec![-1], pose_keypoints_2d: k }] };
        let path = dir.join(format!("{stem}_{t:012}_keypoints.json"));
        let text = serde_json::to_string(&out).unwrap_or_default();
        crate::io::write_atomic(&path, text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq() -> Sequence {
        let frames: Vec<Frame> = (0..3)
            .map(|t| {
                let mut f = [[0.0; 3]; NUM_JOINTS];
                for (j, v) in f.iter_mut().enumerate() {
                    *v = [10.0 * j as f32 + t as f32, 5.0 * j as f32 + 1.0, 0.9];
                }
                f[15] = [0.0, 0.0, 0.0];
                f
            })
            .collect();
        Sequence::new(30.0, 640, 480, frames)
    }

    #[test]
    fn roundtrip_both_layouts() {
        for layout in [OpenPoseLayout::Coco18, OpenPoseLayout::Body25] {
            let dir = tempfile::tempdir().unwrap();
            let s = seq();
            write_dir(&s, dir.path(), "clip", layout).unwrap();
            let back = read_dir(dir.path(), 30.0, Some((640, 480))).unwrap();
            assert_eq!(back.frames, s.frames, "{layout:?}");
        }
    }

    #[test]
    fn picks_most_confident_person_and_rejects_bad_length() {
        let dir = tempfile::tempdir().unwrap();
        let weak: Vec<f32> = (0..75).map(|i| if i % 3 == 2 { 0.1 } else { 1.0 }).collect();
        let strong: Vec<f32> = (0..75).map(|i| if i % 3 == 2 { 0.9 } else { 2.0 }).collect();
        let text = serde_json::json!({"people": [{"pose_keypoints_2d": weak}, {"pose_keypoints_2d": strong}]});
        let p = dir.path().join("a_000000000000_keypoints.json");
        std::fs::write(&p, text.to_string()).unwrap();
        assert_eq!(read_frame(&p).unwrap()[0], [2.0, 2.0, 0.9]);
        std::fs::write(&p, r#"{"people":[{"pose_keypoints_2d":[1,2,3]}]}"#).unwrap();
        let e = read_frame(&p).unwrap_err().to_string();
        assert!(e.contains("a_000000000000_keypoints.json") && e.contains("BODY_25"), "{e}");
        // Crafted values and frame rates are refused with the file or folder named.
        let far: Vec<f32> = (0..54).map(|i| if i == 3 { 1e30 } else { 1.0 }).collect();
        std::fs::write(&p, serde_json::json!({"people": [{"pose_keypoints_2d": far}]}).to_string()).unwrap();
        let e = read_frame(&p).unwrap_err().to_string();
        assert!(e.contains("a_000000000000_keypoints.json") && e.contains("out of range"), "{e}");
        std::fs::write(&p, text.to_string()).unwrap();
        for fps in [1e-9, 0.0, -30.0, f64::NAN, 1e6] {
            let e = read_dir(dir.path(), fps, None).unwrap_err().to_string();
            assert!(e.starts_with(&dir.path().display().to_string()) && e.contains("frame rate must be 1..=1000"), "{fps}: {e}");
        }
        assert!(read_dir(dir.path(), 30.0, Some((0, 480))).unwrap_err().to_string().contains("image size"));
        assert_eq!(read_dir(dir.path(), 30.0, None).unwrap().len(), 1);
    }
}
