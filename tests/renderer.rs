//! The learned renderer (issue 7): `choreo render --renderer onnx` with the tiny ONNX generator and
//! face model committed in tests/fixtures/renderer/ (made by tools/renderer/make_fixtures.py, no
//! PyTorch needed), the model contract checked at load time, and bad input. ffmpeg and ONNX
//! Runtime are required (as for tests/video.rs).

#[allow(dead_code)]
#[path = "integration/util.rs"]
mod util;
#[allow(dead_code)]
#[path = "common/media.rs"]
mod media;

use std::path::{Path, PathBuf};
use std::process::Command;

use choreo::runtime::Device;
use choreo::pose::{Frame, Sequence};
use choreo::render::onnx::{face_origin, face_side, CONTRACT, FACE_CONTRACT};
use choreo::render::{draw_frame, Canvas, Generator, GeneratorConfig};
use media::*;
use util::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/renderer").join(name)
}

/// A dancing figure on the 512 canvas with a face (nose, eyes, ears), arms swinging.
fn dance(frames: usize, fps: f64) -> Sequence {
    let fr = (0..frames)
        .map(|t| {
            let s = t as f32 / fps as f32;
            let sw = (s * std::f32::consts::TAU).sin();
            let cx = 256.0 + 40.0 * (s * 2.0).sin();
            let mut f: Frame = [[0.0; 3]; 18];
            let pts: [[f32; 2]; 18] = [
                [cx, 105.0], [cx, 150.0], [cx - 45.0, 154.0], [cx - 80.0, 200.0 - 40.0 * sw], [cx - 100.0, 250.0 - 90.0 * sw],
                [cx + 45.0, 154.0], [cx + 80.0, 200.0 + 40.0 * sw], [cx + 100.0, 250.0 + 90.0 * sw], [cx - 28.0, 290.0],
                [cx - 32.0, 380.0], [cx - 34.0, 470.0], [cx + 28.0, 290.0], [cx + 32.0, 380.0], [cx + 34.0, 470.0],
                [cx - 9.0, 97.0], [cx + 9.0, 97.0], [cx - 20.0, 101.0], [cx + 20.0, 101.0],
            ];
            for (j, p) in pts.iter().enumerate() {
                f[j] = [p[0], p[1], 1.0];
            }
            f
        })
        .collect();
    Sequence::new(fps, 512, 512, fr)
}

/// Decoded RGB frames of an mp4 at its own size.
fn decode(mp4: &Path, size: u32) -> Vec<Vec<u8>> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i", mp4.to_str().unwrap(), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(o.status.success());
    o.stdout.chunks((size * size * 3) as usize).map(<[u8]>::to_vec).collect()
}

#[test]
fn onnx_renderer_renders_two_seconds_with_audio_on_cpu() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    tone(&p.join("song.ogg"), 5.0);
    choreo::pose::format::write(&dance(48, 24.0), &p.join("dance.json")).unwrap();
    let (g, f) = (fixture("tiny_generator.onnx"), fixture("tiny_face.onnx"));
    let (g, f) = (g.to_str().unwrap(), f.to_str().unwrap());
    let base = ["render", "--poses", "dance.json", "--song", "song.ogg", "--size", "256", "--renderer", "onnx", "--generator", g];
    let o = choreo(p, &[&base[..], &["--face", f, "--device", "cpu", "--batch", "3", "--threads", "1", "--out", "a.mp4"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("tiny_generator.onnx (256², face") && e.contains("on CPU, batch 3"), "one line says what ran: {e}");
    assert!(e.contains("ms/frame"), "{e}");
    let mp4 = p.join("a.mp4");
    assert_eq!(streams(&mp4), ["aac,audio", "h264,video"]);
    let v = ffprobe(&["-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames,width,height", "-of", "default=nw=1", mp4.to_str().unwrap()]);
    assert!(v.contains("width=256") && v.contains("height=256") && v.contains("nb_read_frames=48"), "{v}");
    let dur: f64 = ffprobe(&["-show_entries", "format=duration", "-of", "csv=p=0", mp4.to_str().unwrap()]).trim().parse().unwrap();
    assert!((dur - 2.0).abs() <= 1.0 / 24.0, "2 s: {dur}");
    // Not the skeleton: the generator paints the black background.
    let skel = choreo(p, &["render", "--poses", "dance.json", "--song", "song.ogg", "--size", "256", "--out", "s.mp4"]);
    assert!(skel.status.success(), "{}", stderr(&skel));
    let (a, s) = (decode(&mp4, 256), decode(&p.join("s.mp4"), 256));
    assert_eq!(a.len(), 48);
    let differ = a[0].iter().zip(&s[0]).filter(|(x, y)| x.abs_diff(**y) > 16).count();
    assert!(differ > a[0].len() / 4, "generator output looks like the pose map ({differ} bytes differ)");
    // Same inputs, same threads: the same mp4, byte for byte.
    let o = choreo(p, &[&base[..], &["--face", f, "--device", "cpu", "--batch", "3", "--threads", "1", "--out", "b.mp4"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(p.join("a.mp4")).unwrap() == std::fs::read(p.join("b.mp4")).unwrap(), "deterministic output");
    // A model with a fixed side of its own (128) is scaled to --size by ffmpeg; --device auto runs
    // on CPU here.
    let fixed = fixture("tiny_generator_128.onnx");
    let o = choreo(p, &["render", "--poses", "dance.json", "--song", "song.ogg", "--size", "320", "--renderer", "onnx", "--generator", fixed.to_str().unwrap(), "--out", "c.mp4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(128²) on CPU"), "{}", stderr(&o));
    assert!(ffprobe(&["-show_entries", "stream=width", "-of", "csv=p=0", p.join("c.mp4").to_str().unwrap()]).contains("320"));
}

#[test]
fn onnx_renderer_refuses_a_model_of_the_wrong_shape() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    tone(&p.join("song.ogg"), 2.0);
    choreo::pose::format::write(&dance(24, 24.0), &p.join("dance.json")).unwrap();
    let wrong = fixture("wrong_input.onnx");
    let o = choreo(p, &["render", "--poses", "dance.json", "--song", "song.ogg", "--out", "x.mp4", "--renderer", "onnx", "--generator", wrong.to_str().unwrap()]);
    assert_one_line_error(&o, "wrong_input.onnx");
    let e = stderr(&o);
    assert!(e.contains(CONTRACT), "states the contract: {e}");
    assert!(e.contains("[1,4,64,64]"), "states what it found: {e}");
    // The generator given as the face model: 3 input channels where 6 are expected.
    let g = fixture("tiny_generator.onnx");
    let o = choreo(p, &["render", "--poses", "dance.json", "--song", "song.ogg", "--out", "x.mp4", "--renderer", "onnx", "--generator", g.to_str().unwrap(), "--face", g.to_str().unwrap()]);
    assert_one_line_error(&o, "tiny_generator.onnx");
    assert!(stderr(&o).contains(FACE_CONTRACT), "{}", stderr(&o));
    no_leftovers(p);
}

#[test]
fn onnx_renderer_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    tone(&p.join("song.ogg"), 2.0);
    choreo::pose::format::write(&dance(24, 24.0), &p.join("dance.json")).unwrap();
    let g = fixture("tiny_generator.onnx");
    let g = g.to_str().unwrap();
    let run = |extra: &[&str]| choreo(p, &[&["render", "--poses", "dance.json", "--song", "song.ogg", "--out", "x.mp4", "--size", "64"][..], extra].concat());
    // Missing model file; not an ONNX file; a folder.
    let o = run(&["--renderer", "onnx", "--generator", "models/missing.onnx"]);
    assert_one_line_error(&o, "models/missing.onnx");
    assert!(stderr(&o).contains("not found"), "{}", stderr(&o));
    assert_one_line_error(&run(&["--renderer", "onnx", "--generator", "song.ogg"]), "song.ogg");
    assert_one_line_error(&run(&["--renderer", "onnx", "--generator", "."]), "directory");
    assert_one_line_error(&run(&["--renderer", "onnx", "--generator", g, "--face", "nope_face.onnx"]), "nope_face.onnx");
    // Flags that do not go together.
    assert_one_line_error(&run(&["--renderer", "onnx"]), "--generator");
    assert_one_line_error(&run(&["--generator", g]), "--renderer onnx");
    assert_one_line_error(&run(&["--renderer", "onnx", "--generator", g, "--strict"]), "--strict goes with the cuda device");
    assert_one_line_error(&run(&["--renderer", "onnx", "--generator", g, "--batch", "100000"]), "--batch");
    // ONNX Runtime missing.
    let o = Command::new(env!("CARGO_BIN_EXE_choreo"))
        .args(["render", "--poses", "dance.json", "--song", "song.ogg", "--out", "x.mp4", "--renderer", "onnx", "--generator", g])
        .current_dir(p)
        .env("CHOREO_ORT_LIB", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert_one_line_error(&o, "tools/setup.sh");
    // A bad song after the model loaded: still one error line, nothing left behind.
    let o = choreo(p, &["render", "--poses", "dance.json", "--song", "nope.ogg", "--out", "x.mp4", "--renderer", "onnx", "--generator", g]);
    assert_one_line_error(&o, "nope.ogg");
    no_leftovers(p);
    // --device cuda where CUDA cannot be used (no GPU, or a build without the `cuda` feature):
    // CPU with a warning; with --strict, an error.
    let cuda_works = cfg!(feature = "cuda") && Path::new("/dev/nvidia0").exists();
    if !cuda_works {
        let o = run(&["--renderer", "onnx", "--generator", g, "--device", "cuda"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("choreo: warning: --device cuda") && e.contains("running on CPU") && e.contains(" on CPU ("), "{e}");
        std::fs::remove_file(p.join("x.mp4")).unwrap();
        let o = run(&["--renderer", "onnx", "--generator", g, "--device", "cuda", "--strict"]);
        assert_one_line_error(&o, "--device cuda --strict");
        no_leftovers(p);
    }
}

#[test]
fn face_residual_changes_only_the_crop_around_the_nose() {
    let seq = dance(6, 24.0);
    let g = 256u32;
    let maps: Vec<Canvas> = seq
        .frames
        .iter()
        .map(|f| {
            let mut c = Canvas::black(g, g);
            draw_frame(f, 512, 512, &mut c);
            c
        })
        .collect();
    let mut frames: Vec<&Frame> = seq.frames.iter().collect();
    let mut nose_missing = seq.frames[2];
    nose_missing[0][2] = 0.0;
    frames[2] = &nose_missing;
    let cfg = |face: bool| GeneratorConfig {
        face: face.then(|| fixture("tiny_face.onnx")),
        device: Device::Cpu,
        batch: 4,
        threads: 1,
        ..GeneratorConfig::new(fixture("tiny_generator.onnx"))
    };
    let mut plain = Generator::load(&cfg(false)).unwrap();
    let mut with_face = Generator::load(&cfg(true)).unwrap();
    assert_eq!((plain.resolution(g), plain.batch(), plain.execution()), (256, 4, "CPU"));
    let a = plain.paint(&maps, &frames, 512, 512).unwrap();
    let b = with_face.paint(&maps, &frames, 512, 512).unwrap();
    // Deterministic, and independent of how frames are batched.
    assert_eq!(a, plain.paint(&maps, &frames, 512, 512).unwrap());
    let one_by_one: Vec<Canvas> = (0..maps.len()).flat_map(|i| plain.paint(&maps[i..i + 1], &frames[i..i + 1], 512, 512).unwrap()).collect();
    assert_eq!(a, one_by_one, "batching does not change the pictures");
    let f = face_side(g);
    assert_eq!(with_face.face_crop(g), Some(f));
    for (t, (pa, pb)) in a.iter().zip(&b).enumerate() {
        let crop = face_origin(frames[t], 512, 512, g, f);
        let mut changed = 0;
        for y in 0..g {
            for x in 0..g {
                if pa.pixel(x, y) != pb.pixel(x, y) {
                    changed += 1;
                    let (x0, y0) = crop.expect("no change without a nose");
                    assert!((x0..x0 + f).contains(&x) && (y0..y0 + f).contains(&y), "frame {t}: ({x},{y}) outside the face crop");
                }
            }
        }
        if crop.is_some() {
            assert!(changed > (f * f / 4) as usize, "frame {t}: the residual changes the face ({changed} pixels)");
        } else {
            assert_eq!(changed, 0);
        }
    }
}

#[test]
fn render_help_shows_the_learned_renderer() {
    let d = tempfile::tempdir().unwrap();
    let o = choreo(d.path(), &["render", "--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Example:") && out.contains("--renderer onnx --generator"), "{out}");
    for flag in ["--face", "--device", "--batch", "--strict"] {
        assert!(out.contains(flag), "{flag}: {out}");
    }
}

#[test]
fn draw_all_writes_the_training_pose_maps() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let seq = dance(3, 24.0);
    choreo::pose::format::write(&seq, &p.join("dance.json")).unwrap();
    let o = choreo(p, &["draw", "--poses", "dance.json", "--all", "--size", "64", "--out", "maps.npy"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(p.join("maps.npy")).unwrap();
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = String::from_utf8_lossy(&bytes[10..10 + hlen]);
    assert!(header.contains("'|u1'") && header.contains("(3, 64, 64, 3)"), "{header}");
    assert_eq!((10 + hlen) % 64, 0);
    let body = &bytes[10 + hlen..];
    assert_eq!(body.len(), 3 * 64 * 64 * 3);
    let mut c = Canvas::black(64, 64);
    draw_frame(&seq.frames[1], 512, 512, &mut c);
    assert_eq!(&body[64 * 64 * 3..2 * 64 * 64 * 3], c.rgb.as_slice(), "byte-for-byte the renderer's raster");
}
