//! MFCC parity with python_speech_features (what DanceIt used), on real clips from
//! ../shared/data/beats. Fixtures: tests/fixtures/mfcc/*.npy, made by tools/mfcc_fixture.py.
//! Tolerance (from the issue): max |ours − ref| / max(1, |ref|) ≤ 1e-3, element-wise. The
//! remaining difference is f32 storage of the reference and f64-vs-numpy summation order.

use std::path::{Path, PathBuf};

use choreo::audio::{decode, mfcc, MfccConfig};
use choreo::io::read_npy_f32;

const TOL: f64 = 1e-3;

#[path = "common/inputs.rs"]
mod inputs;

fn shared() -> Option<PathBuf> {
    inputs::shared("data/beats")
}

#[test]
fn mfcc_matches_python_speech_features() {
    let Some(dir) = shared() else { return };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mfcc");
    let mut checked = 0;
    for stem in ["ballroom_waltz_Media-105901", "gtzan_country.00000", "madmom_sample"] {
        let audio = decode(&dir.join(format!("{stem}.wav"))).unwrap();
        let (reference, rows, cols) = read_npy_f32(&fixtures.join(format!("{stem}.fps24.npy"))).unwrap();
        let ours = mfcc(&audio, &MfccConfig::default());
        assert_eq!(cols, 13);
        assert_eq!(ours.frames(), rows, "{stem}: frame count");
        let mut worst: f64 = 0.0;
        for (a, b) in ours.data.iter().zip(&reference) {
            let d = (*a as f64 - *b as f64).abs() / (*b as f64).abs().max(1.0);
            worst = worst.max(d);
        }
        println!("{stem}: {rows} x {cols}, max relative error {worst:.2e}");
        assert!(worst <= TOL, "{stem}: max relative error {worst} > {TOL}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}
