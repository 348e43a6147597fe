//! BVH out and in: forward kinematics of a written file against the 3-D joints of real Tang2018
//! dances, the BVH corpus format, bad files.

use std::path::Path;

use choreo::corpus::{self, CorpusConfig, CorpusFormat};
use choreo::pose::bvh;
use choreo::pose::skeleton3d::{Frame3, NUM_JOINTS3, PARENT3};
use choreo::pose::tang2018;

use super::util::*;

/// A Tang2018 dance's world joints as humanoid18 (25 fps), with the loader's side decision:
/// hips, knees, ankles, toes, shoulders, elbows, wrists of each side; `Hips` and `Neck` the hip and
/// shoulder midpoints, `Spine` halfway between them, `Head` the ears' midpoint.
pub fn tang_humanoid(dir: &Path) -> Vec<Frame3> {
    let (joints, centers) = tang2018::read_skeletons(&dir.join("skeletons.json")).unwrap();
    let (_, meta) = tang2018::load_dance(dir, 25.0).unwrap();
    let (a, b) = ([3usize, 4, 5, 7, 8, 9, 10], [12usize, 13, 14, 16, 17, 18, 19]);
    let (r, l) = if meta.right_is_b { (b, a) } else { (a, b) };
    let mid = |p: [f64; 3], q: [f64; 3]| [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0, (p[2] + q[2]) / 2.0];
    joints
        .iter()
        .zip(&centers)
        .map(|(s, c)| {
            let w = |j: usize| [s[j][0] + c[0], s[j][1] + c[1], s[j][2] + c[2]];
            let hips = mid(w(l[3]), w(r[3]));
            let neck = mid(w(l[0]), w(r[0]));
            let f: [[f64; 3]; NUM_JOINTS3] = [
                hips,
                mid(hips, neck),
                neck,
                mid(w(0), w(1)),
                w(l[0]),
                w(l[1]),
                w(l[2]),
                w(r[0]),
                w(r[1]),
                w(r[2]),
                w(l[3]),
                w(l[4]),
                w(l[5]),
                w(l[6]),
                w(r[3]),
                w(r[4]),
                w(r[5]),
                w(r[6]),
            ];
            f.map(|v| v.map(|x| x as f32))
        })
        .collect()
}

fn errors(a: &[Frame3], b: &[Frame3]) -> (f64, f64) {
    let (mut sum, mut max, mut n) = (0.0f64, 0.0f64, 0usize);
    for (fa, fb) in a.iter().zip(b) {
        for j in 0..NUM_JOINTS3 {
            let d = (0..3).map(|k| (fa[j][k] as f64 - fb[j][k] as f64).powi(2)).sum::<f64>().sqrt();
            sum += d;
            max = max.max(d);
            n += 1;
        }
    }
    (sum / n as f64, max)
}

/// Mean |bone length − its median| over bones and frames: how far the dance is from any
/// fixed-offset skeleton.
fn bone_length_spread(j3: &[Frame3]) -> f64 {
    let mut total = 0.0;
    let mut n = 0;
    for (j, p) in PARENT3.iter().enumerate() {
        let Some(p) = *p else { continue };
        let mut l: Vec<f64> = j3.iter().map(|f| (0..3).map(|k| (f[j][k] as f64 - f[p][k] as f64).powi(2)).sum::<f64>().sqrt()).collect();
        let mut s = l.clone();
        s.sort_by(|a, b| a.total_cmp(b));
        let med = s[s.len() / 2];
        total += l.iter_mut().map(|x| (*x - med).abs()).sum::<f64>();
        n += l.len();
    }
    total / n as f64
}

#[test]
fn written_bvh_follows_a_whole_tang2018_dance() {
    let Some(dir) = tang("DANCE_R_4") else { return };
    let j3 = tang_humanoid(&dir);
    assert!(j3.len() > 2500, "a whole dance: {}", j3.len());
    let out = tempfile::tempdir().unwrap();
    let p = out.path().join("r4.bvh");
    bvh::write(&p, &j3, 25.0).unwrap();
    let (back, fps) = bvh::read_humanoid18(&p).unwrap();
    assert_eq!((back.len(), fps.round()), (j3.len(), 25.0));
    let (mean, max) = errors(&j3, &back);
    let spread = bone_length_spread(&j3);
    println!("DANCE_R_4 ({} frames): FK error mean {mean:.2} cm, max {max:.2} cm; bone-length spread {spread:.2} cm", j3.len());
    // Fixed offsets cannot follow this mocap's stretching bones: the error is about the bones'
    // own length spread, not more (a solver error would add to it).
    assert!(mean <= 1.6 * spread, "mean {mean} vs spread {spread}");
    // The same dance made rigid (its FK) is reproduced exactly: write → read → write → read.
    let p2 = out.path().join("r4b.bvh");
    bvh::write(&p2, &back, 25.0).unwrap();
    let (again, _) = bvh::read_humanoid18(&p2).unwrap();
    let (mean2, max2) = errors(&back, &again);
    println!("rigid (FK of the first file) re-written: mean {mean2:.4} cm, max {max2:.4} cm");
    assert!(mean2 <= 1.0 && max2 <= 3.0, "{mean2} {max2}");
    // `rigid` is that first FK, with constant bone lengths.
    let r = bvh::rigid(&j3).unwrap();
    assert_eq!(r, back);
    assert!(bone_length_spread(&r) < 0.01, "{}", bone_length_spread(&r));
}

#[test]
fn bvh_corpus_loads_with_its_3d_track_and_audio_offset() {
    let Some(dir) = tang("DANCE_C_8") else { return };
    let root = tempfile::tempdir().unwrap();
    let j3 = tang_humanoid(&dir);
    bvh::write(&root.path().join("C8.bvh"), &j3, 25.0).unwrap();
    std::os::unix::fs::symlink(dir.join("audio.mp3"), root.path().join("C8.mp3")).unwrap();
    let offset = tang2018::read_config(&dir).unwrap();
    std::fs::write(root.path().join("C8.json"), format!("{{\"start_seconds\": {offset}, \"genre\": \"cha-cha\"}}")).unwrap();
    let (c, failed) = corpus::load(root.path(), &CorpusConfig::default()).unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(c.format, CorpusFormat::Bvh);
    let d = &c.dances[0];
    assert_eq!((d.name.as_str(), d.genre.as_ref().map(|g| g.as_str()).unwrap_or("none"), d.audio_offset), ("C8", "cha-cha", offset));
    assert_eq!(d.audio, root.path().join("C8.mp3"));
    // Same length and 2-D figure as the Tang2018 loader's (24 fps): body joints within a few pixels
    // once the body centres (Tang's `center` vs the hips) are lined up.
    let (tang_seq, _) = tang2018::load_dance(&dir, 24.0).unwrap();
    assert_eq!(d.poses.len(), tang_seq.len());
    let j = d.poses.joints3d.as_ref().expect("a BVH dance keeps its 3-D joints");
    assert_eq!(j.len(), d.poses.len());
    let mut devs = Vec::new();
    for (a, b) in d.poses.frames.iter().zip(&tang_seq.frames) {
        let body = 1..14;
        let n = body.len() as f32;
        let ca = body.clone().fold([0.0, 0.0], |s, k| [s[0] + a[k][0] / n, s[1] + a[k][1] / n]);
        let cb = body.clone().fold([0.0, 0.0], |s, k| [s[0] + b[k][0] / n, s[1] + b[k][1] / n]);
        for k in body {
            devs.push(((a[k][0] - ca[0]) - (b[k][0] - cb[0])).hypot((a[k][1] - ca[1]) - (b[k][1] - cb[1])));
        }
    }
    devs.sort_by(|a, b| a.total_cmp(b));
    let (med, p95) = (devs[devs.len() / 2], devs[devs.len() * 95 / 100]);
    println!("BVH corpus vs Tang2018 projection: median {med:.2} px, 95th percentile {p95:.2} px");
    assert!(med < 6.0 && p95 < 15.0, "{med} {p95}");
}

#[test]
fn bvh_corpus_errors_name_the_file() {
    let root = tempfile::tempdir().unwrap();
    let dance: Vec<Frame3> = vec![[[0.0, 100.0, 0.0]; NUM_JOINTS3]; 3];
    let good = root.path().join("a.bvh");
    bvh::write(&good, &dance, 30.0).unwrap();
    // No audio beside it.
    let e = corpus::load(root.path(), &CorpusConfig::default()).unwrap_err().to_string();
    assert!(e.contains("a.bvh") && e.contains("no audio file a."), "{e}");
    // A broken file among good ones is reported and skipped.
    write_wav(&root.path().join("a.wav"), 16000, 1.0, |t| (t * 440.0).sin() * 0.3);
    std::fs::write(root.path().join("b.bvh"), "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n").unwrap();
    write_wav(&root.path().join("b.wav"), 16000, 1.0, |t| (t * 440.0).sin() * 0.3);
    let (c, failed) = corpus::load(root.path(), &CorpusConfig::default()).unwrap();
    assert_eq!(c.dances.len(), 1);
    assert_eq!(failed.len(), 1);
    let e = failed[0].to_string();
    assert!(e.contains("b.bvh: line") && e.contains("hierarchy ends inside Hips"), "{e}");
}

#[test]
fn poses_converts_bvh_both_ways_and_refuses_a_2d_dance() {
    let d = tempfile::tempdir().unwrap();
    let dance: Vec<Frame3> = (0..30)
        .map(|t| {
            let mut f: Frame3 = [[0.0; 3]; NUM_JOINTS3];
            for j in 0..NUM_JOINTS3 {
                let base = PARENT3[j].map_or([t as f32, 95.0, 0.0], |p| f[p]);
                f[j] = [base[0] + (j as f32 - 9.0), base[1] + if j >= 10 { -20.0 } else { 15.0 }, base[2] + (t as f32 * 0.1 + j as f32).sin()];
            }
            f
        })
        .collect();
    bvh::write(&d.path().join("a.bvh"), &dance, 30.0).unwrap();
    let o = choreo(d.path(), &["poses", "--bvh", "a.bvh", "--fps", "30", "--out", "a.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let seq = choreo::pose::format::read(&d.path().join("a.json")).unwrap();
    assert_eq!((seq.len(), seq.joints3d.as_ref().map(|j| j.len())), (30, Some(30)));
    let o = choreo(d.path(), &["poses", "--poses", "a.json", "--fps", "30", "--out", "b.bvh"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (back, fps) = bvh::read_humanoid18(&d.path().join("b.bvh")).unwrap();
    assert_eq!((back.len(), fps.round()), (30, 30.0));
    // A 2-D-only pose file cannot become BVH; a broken BVH names its line.
    let mut flat = seq.clone();
    flat.joints3d = None;
    choreo::pose::format::write(&flat, &d.path().join("flat.json")).unwrap();
    let o = choreo(d.path(), &["poses", "--poses", "flat.json", "--out", "c.bvh"]);
    assert_one_line_error(&o, "flat.json: this dance has no 3-D track");
    assert!(!d.path().join("c.bvh").exists());
    std::fs::write(d.path().join("bad.bvh"), "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n}\nMOTION\nFrames: 1\nFrame Time: 0.04\n0 nan 0\n").unwrap();
    let o = choreo(d.path(), &["poses", "--bvh", "bad.bvh", "--out", "bad.json"]);
    assert_one_line_error(&o, "bad.bvh: line 10: non-finite channel value");
}

// ---- a generated dance: its BVH against its pose file, with an FK written here ----

/// One joint of a BVH hierarchy as this test reads it.
struct FkJoint {
    name: Option<String>,
    parent: Option<usize>,
    offset: [f64; 3],
    channels: Vec<String>,
}

/// Forward kinematics of BVH text, written from the format's definition and independently of
/// choreo's reader: rotation channels multiplied in the order listed (`Zrotation Xrotation
/// Yrotation` is `Rz·Rx·Ry`, degrees), position channels replacing the offset on their axis.
/// Returns the world position per frame of every named joint (End Sites left out).
fn bvh_fk(text: &str) -> Vec<std::collections::HashMap<String, [f64; 3]>> {
    let toks: Vec<&str> = text.split_whitespace().collect();
    let (mut i, mut joints, mut stack) = (1usize, Vec::<FkJoint>::new(), Vec::<usize>::new());
    while toks[i] != "MOTION" {
        match toks[i] {
            "ROOT" | "JOINT" | "End" => {
                let name = (toks[i] != "End").then(|| toks[i + 1].to_string());
                joints.push(FkJoint { name, parent: stack.last().copied(), offset: [0.0; 3], channels: Vec::new() });
                stack.push(joints.len() - 1);
                i += 3;
            }
            "OFFSET" => {
                let k = *stack.last().unwrap();
                joints[k].offset = std::array::from_fn(|a| toks[i + 1 + a].parse().unwrap());
                i += 4;
            }
            "CHANNELS" => {
                let n: usize = toks[i + 1].parse().unwrap();
                let k = *stack.last().unwrap();
                joints[k].channels = toks[i + 2..i + 2 + n].iter().map(|s| s.to_string()).collect();
                i += 2 + n;
            }
            "}" => {
                stack.pop();
                i += 1;
            }
            other => panic!("unexpected {other:?} in the hierarchy"),
        }
    }
    let frames: usize = toks[i + 2].parse().unwrap();
    let mut vals = toks[i + 6..].iter().map(|v| v.parse::<f64>().unwrap());
    let rot = |axis: u8, deg: f64| -> [[f64; 3]; 3] {
        let (s, c) = deg.to_radians().sin_cos();
        match axis {
            b'X' => [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]],
            b'Y' => [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]],
            _ => [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]],
        }
    };
    let mm = |a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]| -> [[f64; 3]; 3] { std::array::from_fn(|r| std::array::from_fn(|c| (0..3).map(|k| a[r][k] * b[k][c]).sum())) };
    let mut out = Vec::with_capacity(frames);
    for _ in 0..frames {
        let (mut pos, mut rots) = (vec![[0.0f64; 3]; joints.len()], vec![[[0.0f64; 3]; 3]; joints.len()]);
        let mut named = std::collections::HashMap::new();
        for (k, j) in joints.iter().enumerate() {
            let (mut off, mut r) = (j.offset, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
            for ch in &j.channels {
                let v = vals.next().expect("a value per channel");
                let axis = ch.as_bytes()[0];
                if ch.ends_with("position") {
                    off[(axis - b'X') as usize] = v;
                } else {
                    r = mm(&r, &rot(axis, v));
                }
            }
            (pos[k], rots[k]) = match j.parent {
                None => (off, r),
                Some(p) => (std::array::from_fn(|a| pos[p][a] + (0..3).map(|b| rots[p][a][b] * off[b]).sum::<f64>()), mm(&rots[p], &r)),
            };
            if let Some(n) = &j.name {
                named.insert(n.clone(), pos[k]);
            }
        }
        out.push(named);
    }
    assert!(vals.next().is_none(), "more values than frames × channels");
    out
}

/// `choreo dance` on a whole Tang2018 song from index/default, written as a pose file and as BVH
/// (same seed): forward kinematics of the BVH (this test's own) reproduces the pose file's
/// `joints3d` within mean 1 cm, max 3 cm (issue 14), and the 3-D track has rigid bones.
#[test]
fn generated_dance_bvh_reproduces_its_3d_joints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(ix) = require(root.join("index/default"), "the default index: run tools/setup.sh") else { return };
    let Some(song) = tang("DANCE_C_2").map(|d| d.join("audio.mp3")) else { return };
    let model = root.join("models/encoders.safetensors");
    let dir = tempfile::tempdir().unwrap();
    for out in ["d.json", "d.bvh"] {
        let o = choreo(dir.path(), &["dance", "--song", song.to_str().unwrap(), "--index", ix.to_str().unwrap(), "--model", model.to_str().unwrap(), "--seed", "3", "--out", out]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("d.json")).unwrap()).unwrap();
    let want: Vec<Frame3> = serde_json::from_value(json["joints3d"]["frames"].clone()).unwrap();
    let got = bvh_fk(&std::fs::read_to_string(dir.path().join("d.bvh")).unwrap());
    assert_eq!(got.len(), want.len(), "one BVH frame per pose frame");
    assert!(want.len() > 5000, "a whole song: {} frames", want.len());
    let names = choreo::pose::skeleton3d::JOINT3_NAMES;
    let (mut sum, mut max, mut n) = (0.0f64, (0.0f64, 0usize, ""), 0usize);
    for (t, (g, w)) in got.iter().zip(&want).enumerate() {
        for (j, name) in names.iter().enumerate() {
            let p = g.get(*name).unwrap_or_else(|| panic!("{name} in the BVH"));
            let d = (0..3).map(|k| (p[k] - w[j][k] as f64).powi(2)).sum::<f64>().sqrt();
            sum += d;
            n += 1;
            if d > max.0 {
                max = (d, t, name);
            }
        }
    }
    let mean = sum / n as f64;
    println!("DANCE_C_2 song, seed 3, {} frames: BVH FK vs joints3d mean {mean:.4} cm, max {:.4} cm (frame {}, {})", want.len(), max.0, max.1, max.2);
    assert!(mean <= 1.0 && max.0 <= 3.0, "mean {mean} cm, max {:?}", max);
    // What makes it possible: the written 3-D track's bones keep their lengths.
    let spread = bone_length_spread(&want);
    println!("bone-length spread of the written 3-D track: {spread:.4} cm");
    assert!(spread < 0.01, "{spread}");
}
