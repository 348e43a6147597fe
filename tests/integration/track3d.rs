//! The 3-D track (issue 14): Tang2018's humanoid18 mapping, the index carrying it, and the dance's
//! 3-D track following the 2-D edits (same 2-D bytes with or without it, feet on the floor and
//! heading continuous at seams, the canvas projection).

use std::path::{Path, PathBuf};

use choreo::choreograph::stitch::lowest_foot;
use choreo::index::Index;
use choreo::pose::motion::seam_flags;
use choreo::pose::skeleton3d::{heading, project_coco18, Frame3, Joint3, NUM_JOINTS3, PARENT3};
use choreo::pose::{format, tang2018, Sequence};

use super::util::*;

const DANCES: [&str; 4] = ["DANCE_W_1", "DANCE_C_2", "DANCE_R_3", "DANCE_T_5"];

fn dist(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

fn bone_lengths(track: &[Frame3]) -> Vec<Vec<f32>> {
    (1..NUM_JOINTS3).map(|j| track.iter().map(|f| dist(f[j], f[PARENT3[j].unwrap()])).collect()).collect()
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The mapping is anatomical: each humanoid18 bone's median length lies in the human range for
/// that bone, and keeps its length over the dance as far as the markers allow (measured: median
/// absolute deviation 1–10 % of the median, 95th percentile 3–32 %; the shoulder and upper-arm
/// markers move most), and the
/// knees bend forward (the mapping's handedness and sides): the knee lies in front of the
/// hip–ankle line, front being `up × (right − left)`, in most bent-knee frames.
#[test]
fn tang2018_humanoid_bones_are_rigid_and_knees_bend_forward() {
    for name in DANCES {
        let Some(dir) = tang(name) else { return };
        let (seq, _) = tang2018::load_dance(&dir, 24.0).unwrap();
        let track = seq.joints3d.as_ref().expect("Tang2018 keeps depth");
        assert_eq!(track.len(), seq.frames.len());
        // Loaded as a corpus dance (cleaned), the track stays one frame per frame.
        let d = choreo::corpus::load_dance(&dir, choreo::corpus::CorpusFormat::Tang2018, &Default::default()).unwrap();
        assert_eq!(d.poses.joints3d.as_ref().map(|j| j.len()), Some(d.poses.frames.len()));
        assert_eq!(d.poses.joints3d.as_ref(), Some(track));
        for (j, lens) in bone_lengths(track).into_iter().enumerate() {
            let m = median(lens.clone());
            let dev: Vec<f32> = lens.iter().map(|l| (l - m).abs() / m).collect();
            let (mad, p95) = (median(dev.clone()), {
                let mut d = dev.clone();
                d.sort_by(|a, b| a.total_cmp(b));
                d[d.len() * 95 / 100]
            });
            println!("{name} {}: {m:.1} cm, MAD {:.1} %, p95 {:.1} %", choreo::pose::skeleton3d::JOINT3_NAMES[j + 1], 100.0 * mad, 100.0 * p95);
            // Human ranges (cm) of the bone ending at joint j + 1.
            let (lo, hi) = [(15.0, 35.0), (15.0, 35.0), (8.0, 30.0), (10.0, 25.0), (22.0, 40.0), (18.0, 32.0)]
                .into_iter()
                .chain([(10.0, 25.0), (22.0, 40.0), (18.0, 32.0)])
                .chain([(7.0, 16.0), (35.0, 60.0), (28.0, 50.0), (10.0, 25.0)].repeat(2))
                .nth(j)
                .unwrap();
            assert!(m > lo && m < hi && mad < 0.12 && p95 < 0.35, "{name} bone {}: median {m}, MAD {mad}, p95 {p95}", j + 1);
        }
        let (mut fwd, mut bent) = (0usize, 0usize);
        for f in track {
            let Some(face) = choreo::pose::skeleton3d::facing(f) else { continue };
            for (h, k, a) in [(Joint3::LeftUpLeg, Joint3::LeftLeg, Joint3::LeftFoot), (Joint3::RightUpLeg, Joint3::RightLeg, Joint3::RightFoot)] {
                let (h, k, a) = (f[h as usize], f[k as usize], f[a as usize]);
                let ax = [a[0] - h[0], a[1] - h[1], a[2] - h[2]];
                let v = [k[0] - h[0], k[1] - h[1], k[2] - h[2]];
                let t = (v[0] * ax[0] + v[1] * ax[1] + v[2] * ax[2]) / (ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2]);
                let off = [v[0] - t * ax[0], v[2] - t * ax[2]];
                if (off[0] * off[0] + off[1] * off[1]).sqrt() > 3.0 {
                    bent += 1;
                    fwd += (off[0] * face[0] + off[1] * face[1] > 0.0) as usize;
                }
            }
        }
        let share = fwd as f64 / bent.max(1) as f64;
        println!("{name}: knees bend forward in {:.0} % of {bent} bent-knee leg frames", 100.0 * share);
        assert!(bent > 100 && share > 0.6, "{name}: {share}");
    }
}

/// The humanoid seen by the loader's camera ([`project_coco18`], Tang's 1.75 px/cm) is the 2-D
/// figure the loader draws: body joints relative to the neck agree within a few pixels (the
/// wrists excepted: the 3-D track takes the real wrist joint, the 2-D one the mid-forearm one).
#[test]
fn projected_humanoid_is_the_loaders_2d_figure() {
    for name in DANCES {
        let Some(dir) = tang(name) else { return };
        let (seq, _) = tang2018::load_dance(&dir, 24.0).unwrap();
        let proj = project_coco18(seq.joints3d.as_ref().unwrap(), 512, tang2018::PX_PER_CM as f32);
        let body = [2usize, 3, 5, 6, 8, 9, 10, 11, 12, 13];
        let mut errs = Vec::new();
        for (a, b) in seq.frames.iter().zip(&proj) {
            for &j in &body {
                let da = [a[j][0] - a[1][0], a[j][1] - a[1][1]];
                let db = [b[j][0] - b[1][0], b[j][1] - b[1][1]];
                errs.push(((da[0] - db[0]).powi(2) + (da[1] - db[1]).powi(2)).sqrt());
            }
        }
        let med = median(errs.clone());
        let mean = errs.iter().sum::<f32>() / errs.len() as f32;
        println!("{name}: projected 3-D vs 2-D body joints (neck-relative): median {med:.2} px, mean {mean:.2} px");
        assert!(med < 3.0 && mean < 6.0, "{name}: median {med}, mean {mean}");
    }
}

/// Fragment records of the default index (built from Tang2018) carry the 3-D track.
#[test]
fn default_index_records_carry_the_3d_track() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("index/default");
    if require(dir.join("manifest.json"), "build it with tools/setup.sh").is_none() {
        return;
    }
    let ix = Index::open(&dir).unwrap();
    assert_eq!(ix.manifest.format_version, 3);
    assert!(ix.fragments.iter().all(|r| r.joints3d.as_ref().is_some_and(|j| j.len() == r.poses.len())));
    let bytes: u64 = std::fs::read_dir(ix.manifest.generation_dir(&dir)).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    println!("default index: {} fragments, {:.1} MB on disk", ix.len(), bytes as f64 / 1e6);
}

fn setup() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ix = require(root.join("index/default"), "the default index: run tools/setup.sh")?;
    let m = require(root.join("models/encoders.safetensors"), "the shipped encoder")?;
    let song = shared("data/beats/ballroom_waltz_Media-105901.wav")?;
    Some((ix, m, song))
}

fn without_3d(seq: &Sequence) -> Sequence {
    Sequence { joints3d: None, ..seq.clone() }
}

/// Wrapped difference of two headings, radians.
fn turn(a: f32, b: f32) -> f32 {
    let d = b - a;
    (d - std::f32::consts::TAU * ((d + std::f32::consts::PI) / std::f32::consts::TAU).floor()).abs()
}

/// The same dance from the index with and without the 3-D track: byte-identical 2-D (frames,
/// provenance, the pose file minus the `joints3d` block), before and after alignment; and at every
/// seam of the 3-D track, no vertical jump (lowest foot moves ≤ 2 cm) and no heading flip (≤ 10°
/// turn), within what frames inside fragments do.
#[test]
fn three_d_track_follows_the_2d_edits_and_changes_nothing_in_2d() {
    let Some((ixdir, model, song)) = setup() else { return };
    let ix = Index::open(&ixdir).unwrap();
    let (enc, card) = choreo::model::load(&model, &candle_core::Device::Cpu).unwrap();
    let song = choreo::audio::decode(&song).unwrap();
    let cfg = choreo::pipeline::DanceConfig::default();
    let with = choreo::pipeline::choreograph(&ix, &enc, &card, &song, &cfg).unwrap();
    let mut flat = Index::open(&ixdir).unwrap();
    flat.fragments.iter_mut().for_each(|r| r.joints3d = None);
    let without = choreo::pipeline::choreograph(&flat, &enc, &card, &song, &cfg).unwrap();
    for (a, b) in [(&with.raw, &without.raw), (&with.dance, &without.dance)] {
        let j3 = a.joints3d.as_ref().expect("a dance from a 3-D index has a 3-D track");
        assert_eq!(j3.len(), a.frames.len());
        assert!(b.joints3d.is_none());
        assert_eq!(format::to_json(&without_3d(a)), format::to_json(b));
        assert!(format::to_json(a).contains("\"joints3d\":{\"skeleton\":\"humanoid18\""));
    }
    // Feet and heading at the seams of the stitched 3-D track, before and after alignment.
    for (what, seq) in [("stitched", &with.raw), ("aligned", &with.dance)] {
        let j3 = seq.joints3d.as_ref().unwrap();
        let seams = seam_flags(seq);
        let (mut foot_in, mut turn_in, mut foot_seam, mut turn_seam) = (Vec::new(), Vec::new(), 0.0f32, 0.0f32);
        for t in 1..j3.len() {
            let df = (lowest_foot(&j3[t]) - lowest_foot(&j3[t - 1])).abs();
            let dh = match (heading(&j3[t - 1]), heading(&j3[t])) {
                (Some(a), Some(b)) => turn(a, b),
                _ => 0.0,
            };
            if seams[t] {
                foot_seam = foot_seam.max(df);
                turn_seam = turn_seam.max(dh);
            } else {
                foot_in.push(df);
                turn_in.push(dh);
            }
        }
        let n_seams = seams.iter().filter(|&&s| s).count();
        let p99 = |mut v: Vec<f32>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() * 99 / 100]
        };
        let (fi, ti) = (p99(foot_in), p99(turn_in));
        println!(
            "{what}: {n_seams} seams; largest lowest-foot step at a seam {foot_seam:.2} cm (p99 inside fragments {fi:.2}), largest heading turn at a seam {:.1}° (p99 inside {:.1}°)",
            turn_seam.to_degrees(),
            ti.to_degrees()
        );
        assert!(n_seams > 5);
        assert!(foot_seam <= 2.0_f32.max(fi), "{what}: foot step {foot_seam} cm at a seam");
        assert!(turn_seam.to_degrees() <= 10.0_f32.max(ti.to_degrees()), "{what}: heading turn {}° at a seam", turn_seam.to_degrees());
        // Feet on the floor throughout: the lowest foot stays near height 0.
        let low: Vec<f32> = j3.iter().map(lowest_foot).collect();
        assert!(low.iter().all(|&y| y > -5.0 && y < 30.0), "{what}: lowest foot from {:?} to {:?}", low.iter().cloned().reduce(f32::min), low.iter().cloned().reduce(f32::max));
    }
}

/// `choreo align` on a dance file with and without its `joints3d` block: the same 2-D bytes, and
/// the 3-D track comes out aligned (one frame per frame).
#[test]
fn align_carries_the_3d_track_and_keeps_2d_bytes() {
    let Some((ixdir, model, song)) = setup() else { return };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let (ixs, ms, ss) = (ixdir.to_str().unwrap(), model.to_str().unwrap(), song.to_str().unwrap());
    let o = choreo(d, &["dance", "--song", ss, "--index", ixs, "--model", ms, "--no-align", "--out", "raw.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let raw = format::read(&d.join("raw.json")).unwrap();
    assert!(raw.joints3d.is_some());
    format::write(&without_3d(&raw), &d.join("raw2d.json")).unwrap();
    for (i, o) in [("raw.json", "a.json"), ("raw2d.json", "b.json")] {
        let r = choreo(d, &["align", "--poses", i, "--song", ss, "--out", o]);
        assert!(r.status.success(), "{}", stderr(&r));
    }
    let (a, b) = (format::read(&d.join("a.json")).unwrap(), format::read(&d.join("b.json")).unwrap());
    assert_eq!(a.joints3d.as_ref().map(|j| j.len()), Some(a.frames.len()));
    assert_eq!(format::to_json(&without_3d(&a)), format::to_json(&b));
    assert_ne!(a.joints3d, raw.joints3d, "the 3-D track was aligned too");
}
