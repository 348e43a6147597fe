//! Parity of the published dance metrics with a Python transcription of the authors' code
//! (Bailando's `calc_db`, `BA`, kinetic / geometric features, `quantized_metrics`; Lee et al.'s
//! tallies), on small synthetic 2-D dances. Fixture: tests/fixtures/metrics/published.json, made by
//! tools/metrics/published_fixture.py (numpy + scipy). Tolerances: kinematic beats, tallies exactly, the
//! geometric fractions (counts over ~240 frames) to 1e-12; velocities and kinetic features 1e-9 relative
//! (f64 both sides, only summation order differs); BAS 1e-12; FID 1e-6 relative (scipy's sqrtm is
//! a Schur method, ours Jacobi eigenvalues); diversity 1e-12 relative.

use std::path::Path;

use choreo::eval::{features, fid, published};
use choreo::pose::{Frame, NUM_JOINTS};
use serde_json::Value;

fn fixture() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics/published.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn frames(v: &Value) -> Vec<Frame> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut o = [[0.0f32; 3]; NUM_JOINTS];
            for (j, p) in f.as_array().unwrap().iter().enumerate() {
                let p = f64s(p);
                o[j] = [p[0] as f32, p[1] as f32, p[2] as f32];
            }
            o
        })
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

#[test]
fn beats_match_bailando_and_lee() {
    let fx = fixture();
    assert!((fx["hit_tolerance_secs"].as_f64().unwrap() - published::HIT_TOLERANCE_SECS).abs() < 1e-15);
    let dances = fx["dances"].as_array().unwrap();
    assert_eq!(dances.len(), 3);
    for (i, d) in dances.iter().enumerate() {
        let fps = d["fps"].as_f64().unwrap();
        let fr = frames(&d["frames"]);
        let v = published::kinetic_velocity(&fr);
        let want = f64s(&d["velocity"]);
        assert_eq!(v.len(), want.len());
        for (a, b) in v.iter().zip(&want) {
            assert!(close(*a, *b, 1e-9), "dance {i}: velocity {a} vs {b}");
        }
        let kb = published::kinematic_beats(&fr, fps);
        let want: Vec<usize> = d["kinematic_beats"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        assert_eq!(kb, want, "dance {i}");
        assert!(!kb.is_empty());
        let bf = published::beat_figures(&fr, fps, &f64s(&d["music_beats"]));
        let t = &d["tally"];
        let tally = published::BeatTally {
            music: t["music"].as_u64().unwrap() as usize,
            kinematic: t["kinematic"].as_u64().unwrap() as usize,
            aligned: t["aligned"].as_u64().unwrap() as usize,
        };
        assert_eq!(bf.tally, tally, "dance {i}");
        let bas = d["beat_align_score"].as_f64().unwrap();
        assert!((bf.beat_align_score - bas).abs() < 1e-12, "dance {i}: BAS {} vs {bas}", bf.beat_align_score);
    }
}

#[test]
fn features_match_the_transcribed_aist_and_bailando_code() {
    let fx = fixture();
    let mut checked = 0;
    for (i, d) in fx["dances"].as_array().unwrap().iter().enumerate() {
        if d.get("kinetic").is_none() {
            continue;
        }
        let fps = d["fps"].as_f64().unwrap();
        let h = d["height"].as_f64().unwrap();
        let fr = frames(&d["frames"]);
        let k = features::kinetic(&fr, fps, h);
        let want = f64s(&d["kinetic"]);
        assert_eq!(k.len(), want.len());
        for (j, (a, b)) in k.iter().zip(&want).enumerate() {
            assert!(close(*a, *b, 1e-9), "dance {i} kinetic {j}: {a} vs {b}");
        }
        let g = features::geometric(&fr, fps, h);
        let want = f64s(&d["geometric"]);
        assert_eq!(g.len(), want.len());
        for (j, (a, b)) in g.iter().zip(&want).enumerate() {
            // Fractions of ~240 frames: one frame off is 4e-3; 1e-12 only absorbs numpy's mean.
            assert!((a - b).abs() < 1e-12, "dance {i} geometric {j}: {a} vs {b}");
        }
        assert!(g.iter().any(|x| *x > 0.0) && g.iter().any(|x| *x == 0.0));
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn fid_and_diversity_match_quantized_metrics() {
    let fx = fixture();
    let f = &fx["fid"];
    let rows = |v: &Value| -> Vec<Vec<f64>> { v.as_array().unwrap().iter().map(f64s).collect() };
    let (fid_v, div_g, div_r) = fid::fid_and_diversity(&rows(&f["gen"]), &rows(&f["real"]));
    let want = f["fid"].as_f64().unwrap();
    assert!(close(fid_v, want, 1e-6), "FID {fid_v} vs {want}");
    assert!(close(div_g, f["div_gen"].as_f64().unwrap(), 1e-12));
    assert!(close(div_r, f["div_real"].as_f64().unwrap(), 1e-12));
}
