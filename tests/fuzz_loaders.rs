//! Seeded mutation fuzzing of the loaders, in process (issue 12): a few thousand mutants of a valid
//! pose file, a valid WAV and a valid encoders.json + safetensors pair go through the library
//! loaders (and, when a mutant is accepted, the first stages that use what was loaded: resampling,
//! cleaning and the motion filters for poses, MFCC for audio, one embedding for encoders). Each must
//! give Ok or Err: never a panic (caught with `catch_unwind`) and never a huge allocation (a
//! global allocator refuses and records any single request over [`CAP`]).
//!
//! Deterministic: a fixed-seed xorshift chooses the mutations; a failing mutant is saved under
//! `target/tmp/fuzz_loaders/` and named in the failure. `FUZZ_SCALE=10` runs ten times as many.

#[allow(dead_code)]
#[path = "integration/util.rs"]
mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use choreo::pose::{format, Frame, Sequence, NUM_JOINTS};

/// Largest single allocation a loader may ask for on these small inputs (a few hundred KB each).
const CAP: usize = 1 << 30;

/// The largest request refused since the last reset (0 = none).
static REFUSED: AtomicUsize = AtomicUsize::new(0);

struct CappedAlloc;

// SAFETY: forwards to the system allocator; a request over CAP is refused (null), which Rust turns
// into an allocation-failure abort — recorded first so that the cause is printed.
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            REFUSED.fetch_max(layout.size(), Ordering::SeqCst);
            let msg = b"fuzz_loaders: allocation over the cap refused (a loader sized something from a crafted field)\n";
            // SAFETY: plain write(2) of a static buffer to stderr; no allocation.
            unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            REFUSED.fetch_max(layout.size(), Ordering::SeqCst);
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > CAP {
            REFUSED.fetch_max(new_size, Ordering::SeqCst);
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn scale() -> usize {
    std::env::var("FUZZ_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
}

/// Values that break code sizing things from a field: huge, tiny, zero, negative, not numbers.
const JSON_VALUES: &[&str] = &[
    "1e308", "-1e308", "1e39", "1e6", "1e-9", "0", "-0", "-1", "0.5", "1", "2", "24", "1000", "1000.5", "4294967295", "4294967296",
    "18446744073709551615", "18446744073709551616", "1e300", "-1e300", "99999999999", "null", "[]", "{}", "\"x\"", "true", "NaN",
    "Infinity", "[1e308,1e308,1e308]",
];

/// Spans of number tokens in JSON text.
fn number_spans(text: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        let starts = c == b'-' || c.is_ascii_digit();
        let after_word = i > 0 && (text[i - 1].is_ascii_alphanumeric() || text[i - 1] == b'_');
        if starts && !after_word {
            let s = i;
            i += 1;
            while i < text.len() && (text[i].is_ascii_digit() || matches!(text[i], b'.' | b'e' | b'E' | b'+' | b'-')) {
                i += 1;
            }
            spans.push((s, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// One mutant of `base`: structure-aware for JSON (a number replaced by a hostile value), plus
/// byte flips, insertions, deletions, duplications, truncations and little-endian field overwrites
/// at `hot` offsets (binary headers).
fn mutate(rng: &mut Rng, base: &[u8], numbers: &[(usize, usize)], hot: &[usize]) -> Vec<u8> {
    let mut v = base.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        match rng.below(8) {
            0 | 1 if !numbers.is_empty() => {
                // Replace a number (only on the untouched base: spans refer to it).
                // Half the time one of the first numbers: the header fields (fps, sizes) come first.
                let k = if rng.below(2) == 0 { rng.below(numbers.len().min(6)) } else { rng.below(numbers.len()) };
                let (s, e) = numbers[k];
                if e <= v.len() && v.len() == base.len() {
                    let val = JSON_VALUES[rng.below(JSON_VALUES.len())];
                    v.splice(s..e, val.bytes());
                } else {
                    let i = rng.below(v.len());
                    v[i] ^= 1 << rng.below(8);
                }
            }
            2 | 3 if !hot.is_empty() => {
                // Overwrite a 1/2/4/8-byte little-endian field at a header offset.
                let at = hot[rng.below(hot.len())];
                let width = [1usize, 2, 4, 8][rng.below(4)];
                let val: u64 = match rng.below(6) {
                    0 => 0,
                    1 => u64::MAX,
                    2 => 0x8000_1F40,
                    3 => 1 << rng.below(64),
                    4 => rng.next(),
                    _ => 1,
                };
                for k in 0..width {
                    if at + k < v.len() {
                        v[at + k] = (val >> (8 * k)) as u8;
                    }
                }
            }
            4 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            5 if !v.is_empty() => {
                let n = rng.below(v.len());
                v.truncate(n);
            }
            6 if v.len() > 2 => {
                let s = rng.below(v.len());
                let e = (s + 1 + rng.below(64)).min(v.len());
                if rng.below(2) == 0 {
                    v.drain(s..e);
                } else {
                    let piece: Vec<u8> = v[s..e].to_vec();
                    v.splice(s..s, piece);
                }
            }
            _ => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
        }
    }
    v
}

/// Runs `f` on every mutant; collects panics and over-cap allocation requests.
/// `numbers`: spans of JSON numbers in `base` to replace; `hot`: offsets of binary header fields.
fn campaign(name: &str, seed: u64, count: usize, base: &[u8], numbers: &[(usize, usize)], hot: &[usize], mut f: impl FnMut(&[u8]) -> Result<(), String>) {
    let mut rng = Rng(seed);
    let (mut ok, mut err) = (0usize, 0usize);
    let mut failures: Vec<String> = Vec::new();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz_loaders");
    let t0 = Instant::now();
    // Keep the panic messages of the mutants out of the log: they are reported below.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for i in 0..count {
        let m = mutate(&mut rng, base, numbers, hot);
        REFUSED.store(0, Ordering::SeqCst);
        let res = catch_unwind(AssertUnwindSafe(|| f(&m)));
        let refused = REFUSED.swap(0, Ordering::SeqCst);
        let problem = match res {
            Err(p) => Some(format!("panic: {}", p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default())),
            Ok(_) if refused > 0 => Some(format!("asked for {refused} bytes at once")),
            Ok(Ok(())) => {
                ok += 1;
                None
            }
            Ok(Err(_)) => {
                err += 1;
                None
            }
        };
        if let Some(p) = problem {
            let _ = std::fs::create_dir_all(&out_dir);
            let path = out_dir.join(format!("{name}_{i}.bin"));
            let _ = std::fs::write(&path, &m);
            failures.push(format!("mutant {i} ({}): {p}", path.display()));
        }
    }
    std::panic::set_hook(hook);
    eprintln!("{name}: {count} mutants, {ok} accepted, {err} refused, {} failures, {:.1} s", failures.len(), t0.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{name}: {} of {count} mutants panicked or over-allocated:\n{}", failures.len(), failures.join("\n"));
    // The campaign must exercise both paths, or it tests nothing.
    assert!(err > count / 10, "{name}: only {err} of {count} mutants refused");
}

fn dancer(n: usize) -> Sequence {
    let frames: Vec<Frame> = (0..n)
        .map(|t| {
            let mut f: Frame = [[0.0; 3]; NUM_JOINTS];
            for (j, v) in f.iter_mut().enumerate() {
                let ph = (t as f32 * 0.3 + j as f32).sin();
                *v = [200.0 + 10.0 * j as f32 + 20.0 * ph, 100.0 + 18.0 * j as f32, 0.9];
            }
            f
        })
        .collect();
    let mut s = Sequence::new(24.0, 512, 512, frames);
    s.beats = Some(vec![0.5, 1.0, 1.5]);
    s
}

#[test]
fn pose_file_mutants_load_or_fail_cleanly() {
    let base = format::to_json(&dancer(48)).into_bytes();
    let p = Path::new("mutant.json");
    let clean = choreo::pose::clean::CleanConfig::default();
    campaign("pose", 0x9E37_79B9_7F4A_7C15, 3000 * scale(), &base, &number_spans(&base), &[], |m| {
        let seq = format::from_slice(m, p).map_err(|e| e.to_string())?;
        // What every command does next with a pose file: resample, clean, rescale.
        let r = choreo::pose::normalize::resample(&seq, 24.0);
        let c = choreo::pose::clean::clean(&r, &clean);
        let _ = choreo::pose::normalize::body_height(&c.seq);
        let _ = format::to_json(&r);
        // The motion filters size their windows from the file's own frame rate.
        let _ = choreo::pose::motion::stops(&seq.frames, seq.fps);
        let _ = choreo::eval::evaluate(&seq, &[0.5, 1.0, 1.5], 0.0, 20.0);
        Ok(())
    });
}

/// Half a second of a 440 Hz tone at `rate`, as wav bytes.
fn wav_bytes(rate: u32, secs: f64) -> Vec<u8> {
    util::wav_bytes(rate, secs, |t| (t * 440.0 * std::f64::consts::TAU).sin() * 12000.0 / 32767.0)
}

#[test]
fn wav_mutants_decode_or_fail_cleanly() {
    let base = wav_bytes(16000, 0.5);
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("mutant.wav");
    // Header fields: RIFF size, fmt size, format, channels, rate, byte rate, block align, bits, data size.
    let hot = [4, 16, 20, 22, 24, 28, 32, 34, 40];
    let cfg = choreo::audio::MfccConfig::default();
    campaign("wav", 0xD1B5_4A32_D192_ED03, 2000 * scale(), &base, &[], &hot, |m| {
        std::fs::write(&path, m).map_err(|e| e.to_string())?;
        let audio = choreo::audio::decode(&path).map_err(|e| e.to_string())?;
        let mf = choreo::audio::mfcc(&audio, &cfg);
        if mf.data.iter().any(|v| !v.is_finite()) {
            return Err("non-finite MFCC".into());
        }
        Ok(())
    });
}

#[test]
fn encoder_mutants_load_or_fail_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let weights = std::fs::read(root.join("encoders.safetensors")).unwrap();
    let mut card: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("encoders.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("encoders.safetensors");
    let side = dir.path().join("encoders.json");
    let dev = candle_core::Device::Cpu;
    let check = |w: &Path| -> Result<(), String> {
        let (enc, _) = choreo::model::load(w, &dev).map_err(|e| e.to_string())?;
        // An accepted model must also run: one window of silence through the audio encoder.
        let n = enc.cfg.frames * enc.cfg.mfcc_dim;
        enc.embed_audio(&vec![0.0; n], 1).map_err(|e| e.to_string())?;
        Ok(())
    };
    // The card: every number of it (the weights hash still matches).
    std::fs::write(&w, &weights).unwrap();
    let text = serde_json::to_vec_pretty(&card).unwrap();
    campaign("encoders.json", 0x94D0_49BB_1331_11EB, 600 * scale(), &text, &number_spans(&text), &[], |m| {
        std::fs::write(&side, m).map_err(|e| e.to_string())?;
        check(&w)
    });
    // The weights, against a card without a hash (as older cards are): the safetensors header
    // (its length, then JSON with dtypes, shapes and offsets) and the data.
    card["weights_sha256"] = serde_json::json!("");
    std::fs::write(&side, serde_json::to_vec(&card).unwrap()).unwrap();
    let header_len = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let hot: Vec<usize> = (0..8).chain((8..8 + header_len).step_by(97)).collect();
    let header_numbers = number_spans(&weights[..8 + header_len]);
    assert!(header_numbers.len() > 20, "the safetensors header lists shapes and offsets");
    campaign("encoders.safetensors", 0xBF58_476D_1CE4_E5B9, 400 * scale(), &weights, &header_numbers, &hot, |m| {
        std::fs::write(&w, m).map_err(|e| e.to_string())?;
        check(&w)
    });
}

#[test]
fn bvh_mutants_load_or_fail_cleanly() {
    use choreo::pose::bvh;
    use choreo::pose::skeleton3d::{Frame3, NUM_JOINTS3, PARENT3};
    // A figure waving its limbs, written by choreo; mutants go through the reader, the mapping onto
    // humanoid18, the projection and the writer.
    let dance: Vec<Frame3> = (0..48)
        .map(|t| {
            let mut f: Frame3 = [[0.0; 3]; NUM_JOINTS3];
            for j in 0..NUM_JOINTS3 {
                let base = PARENT3[j].map_or([0.0, 95.0, 0.0], |p| f[p]);
                let ph = (t as f32 * 0.2 + j as f32).sin();
                f[j] = [base[0] + 8.0 * ph, base[1] + if j >= 10 { -20.0 } else { 15.0 }, base[2] + 5.0 * (j as f32 + ph).cos()];
            }
            f
        })
        .collect();
    let base = bvh::to_bvh_string(&dance, 30.0).into_bytes();
    let p = Path::new("mutant.bvh");
    campaign("bvh", 0x2545_F491_4F6C_DD1D, 2000 * scale(), &base, &number_spans(&base), &[], |m| {
        let text = std::str::from_utf8(m).map_err(|e| e.to_string())?;
        let b = bvh::parse(text, p).map_err(|e| e.to_string())?;
        let j3 = bvh::to_humanoid18(&b, p).map_err(|e| e.to_string())?;
        let _ = choreo::pose::skeleton3d::project_coco18(&j3, 512, 1.75);
        let _ = bvh::to_bvh_string(&j3, b.fps());
        Ok(())
    });
}
