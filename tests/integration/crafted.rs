//! Crafted and corrupt inputs, special and missing outputs, killed renders (issue 12): each case
//! through the release binary, which must answer with one line naming the right file and exit 1
//! (never a panic, an allocation abort or a hang), and write nothing it was not asked to.
//! Everything here is made on the spot: no ../shared needed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use choreo::pose::openpose::{self, OpenPoseLayout};
use choreo::pose::{format, Frame, Sequence, NUM_JOINTS};

use super::util::*;

/// A standing figure waving its arms and bending its knees at 2 Hz, `secs` long at 24 fps.
fn dancer(secs: f64) -> Sequence {
    let n = (secs * 24.0) as usize;
    let frames: Vec<Frame> = (0..n)
        .map(|t| {
            let ph = (t as f32 / 24.0 * 2.0 * std::f32::consts::TAU).sin();
            let mut f: Frame = [[0.0, 0.0, 1.0]; NUM_JOINTS];
            let pts: [(f32, f32); NUM_JOINTS] = [
                (256.0, 120.0),             // nose
                (256.0, 160.0),             // neck
                (226.0, 160.0),             // r shoulder
                (206.0, 200.0 - 30.0 * ph), // r elbow
                (196.0, 240.0 - 60.0 * ph), // r wrist
                (286.0, 160.0),
                (306.0, 200.0 + 30.0 * ph),
                (316.0, 240.0 + 60.0 * ph),
                (236.0, 270.0 + 5.0 * ph), // r hip
                (236.0, 340.0 + 5.0 * ph),
                (236.0, 410.0),
                (276.0, 270.0 + 5.0 * ph),
                (276.0, 340.0 + 5.0 * ph),
                (276.0, 410.0),
                (250.0, 112.0),
                (262.0, 112.0),
                (244.0, 116.0),
                (268.0, 116.0),
            ];
            for (j, p) in pts.iter().enumerate() {
                f[j] = [p.0, p.1, 1.0];
            }
            f
        })
        .collect();
    Sequence::new(24.0, 512, 512, frames)
}

/// A song with a click every half second.
fn song(path: &Path, secs: f64) {
    write_wav(path, 22050, secs, |t| {
        let ph = t % 0.5;
        if ph < 0.03 { (1.0 - ph / 0.03) * (t * 2.0 * std::f64::consts::PI * 880.0).sin() } else { 0.01 * (t * 440.0).sin() }
    });
}

fn pose_file_with(dir: &Path, name: &str, fps: &str) -> PathBuf {
    let text = format::to_json(&dancer(4.0));
    assert!(text.starts_with("{\"fps\":24.0,"), "{}", &text[..40]);
    let p = dir.join(name);
    std::fs::write(&p, text.replacen("\"fps\":24.0", &format!("\"fps\":{fps}"), 1)).unwrap();
    p
}

/// Runs the binary with a time limit (a hang fails the test instead of blocking the suite).
fn choreo_within(dir: &Path, args: &[&str], limit: Duration) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_choreo"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("choreo {args:?} still running after {limit:?} (hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn pose_files_with_frame_rates_out_of_range_are_refused_before_anything_is_written() {
    let d = tempfile::tempdir().unwrap();
    song(&d.path().join("s.wav"), 5.0);
    let ok = pose_file_with(d.path(), "ok.json", "24.0");
    let o = choreo(d.path(), &["align", "--poses", ok.to_str().unwrap(), "--song", "s.wav", "--out", "a_ok.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for fps in ["1e308", "1e39", "1e6", "1000.5", "0", "-24", "0.25", "NaN"] {
        let name = format!("fps_{fps}.json");
        pose_file_with(d.path(), &name, fps);
        let out = format!("a_{fps}.json");
        let o = choreo_within(d.path(), &["align", "--poses", &name, "--song", "s.wav", "--out", &out], Duration::from_secs(30));
        assert_one_line_error(&o, &name);
        if fps != "NaN" {
            assert!(stderr(&o).contains("frame rate must be 1..=1000 fps"), "{fps}: {}", stderr(&o));
        }
        assert!(!d.path().join(&out).exists(), "align wrote {out} before failing");
        let o = choreo_within(d.path(), &["eval", "--poses", &name, "--song", "s.wav"], Duration::from_secs(30));
        assert_one_line_error(&o, &name);
    }
}

/// The shipped weights beside a card edited by `edit`, in `dir/m/`.
fn edited_model(dir: &Path, tag: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let m = dir.join(format!("m_{tag}"));
    std::fs::create_dir_all(&m).unwrap();
    std::fs::copy(root.join("encoders.safetensors"), m.join("encoders.safetensors")).unwrap();
    let mut card: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("encoders.json")).unwrap()).unwrap();
    edit(&mut card);
    std::fs::write(m.join("encoders.json"), serde_json::to_string(&card).unwrap()).unwrap();
    m.join("encoders.safetensors")
}

#[test]
fn encoder_cards_with_crafted_sizes_are_refused_without_allocating() {
    let d = tempfile::tempdir().unwrap();
    song(&d.path().join("s.wav"), 3.0);
    let good = edited_model(d.path(), "good", |_| {});
    let o = choreo(d.path(), &["embed", "--model", good.to_str().unwrap(), "--audio", "s.wav", "--out", "e.npy"]);
    assert!(o.status.success(), "{}", stderr(&o));
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 8] = [
        ("fps_1e308", |c| c["fps"] = serde_json::json!(1e308)),
        ("fps_tiny", |c| c["fps"] = serde_json::json!(1e-9)),
        ("fps_0", |c| c["fps"] = serde_json::json!(0.0)),
        ("frames_1e6", |c| c["config"]["frames"] = serde_json::json!(1_000_000)),
        ("hidden_huge", |c| c["config"]["lstm_hidden"] = serde_json::json!(1u64 << 40)),
        ("channels_huge", |c| c["config"]["gcn_channels"] = serde_json::json!([32, 4096, 4096])),
        ("segments_huge", |c| c["config"]["time_segments"] = serde_json::json!(1u64 << 50)),
        ("kernel_even", |c| c["config"]["temporal_kernel"] = serde_json::json!(4)),
    ];
    for (tag, edit) in cases {
        let m = edited_model(d.path(), tag, edit);
        let out = format!("e_{tag}.npy");
        let o = choreo_within(d.path(), &["embed", "--model", m.to_str().unwrap(), "--audio", "s.wav", "--out", &out], Duration::from_secs(30));
        assert_one_line_error(&o, &format!("m_{tag}/encoders.json"));
        assert!(!d.path().join(&out).exists());
    }
}

/// A 16-bit PCM wav whose header says what the arguments say, with `frames` frames of data.
fn crafted_wav(path: &Path, rate: u32, channels: u16, frames: usize, data_len: Option<u32>) {
    let data = vec![0u8; frames * 2 * channels as usize];
    let mut b = Vec::new();
    let riff = 36 + data_len.unwrap_or(data.len() as u32) as u64;
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(riff.min(u32::MAX as u64) as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.wrapping_mul(2 * channels as u32).to_le_bytes());
    b.extend_from_slice(&(2 * channels).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.unwrap_or(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    std::fs::write(path, b).unwrap();
}

#[test]
fn wav_headers_with_crafted_rates_channels_and_sizes_are_refused_by_every_command() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("p.json"), format::to_json(&dancer(2.0))).unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoders.safetensors");
    let cases: [(&str, u32, u16, usize, Option<u32>); 7] = [
        ("rate_ffffffff.wav", 0xFFFF_FFFF, 1, 16000, None),
        ("rate_80001f40.wav", 0x8000_1F40, 1, 16000, None),
        ("rate_0.wav", 0, 1, 16000, None),
        ("rate_1.wav", 1, 1, 16000, None),
        ("channels_0.wav", 16000, 0, 16000, None),
        ("channels_4000.wav", 16000, 4000, 8, None),
        ("data_past_end.wav", 16000, 1, 16000, Some(0x7FFF_0000)),
    ];
    for (name, rate, ch, frames, data_len) in cases {
        crafted_wav(&dir.join(name), rate, ch, frames, data_len);
        let limit = Duration::from_secs(30);
        for args in [
            vec!["mfcc", name, "--out", "m.npy"],
            vec!["beats", name],
            vec!["embed", "--model", model.to_str().unwrap(), "--audio", name, "--out", "e.npy"],
            vec!["render", "--poses", "p.json", "--song", name, "--out", "r.mp4"],
        ] {
            let o = choreo_within(dir, &args, limit);
            assert_one_line_error(&o, name);
            assert!(!stderr(&o).contains("r.mp4"), "the song is at fault, not the video: {}", stderr(&o));
        }
        for out in ["m.npy", "e.npy", "r.mp4"] {
            assert!(!dir.join(out).exists(), "{name}: {out} written");
        }
    }
}

#[test]
fn render_refuses_the_songs_the_decoder_refuses() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("p.json"), format::to_json(&dancer(2.0))).unwrap();
    song(&dir.join("full.wav"), 3.0);
    let bytes = std::fs::read(dir.join("full.wav")).unwrap();
    std::fs::write(dir.join("truncated.wav"), &bytes[..bytes.len() / 3]).unwrap();
    crafted_wav(&dir.join("no_samples.wav"), 22050, 1, 0, None);
    std::fs::write(dir.join("unknown.wav"), b"this is not a sound file at all, just text").unwrap();
    std::fs::write(dir.join("unknown.xyz"), b"this is not a sound file at all, just text").unwrap();
    for name in ["truncated.wav", "no_samples.wav", "unknown.wav", "unknown.xyz"] {
        let o = choreo(dir, &["render", "--poses", "p.json", "--song", name, "--out", "r.mp4"]);
        assert_one_line_error(&o, name);
        assert!(!stderr(&o).contains("encoding failed"), "{}", stderr(&o));
        assert!(!dir.join("r.mp4").exists());
        // The same song is refused the same way by the decoder's other users.
        let m = choreo(dir, &["mfcc", name, "--out", "m.npy"]);
        assert_one_line_error(&m, name);
    }
}

#[test]
fn openpose_source_fps_out_of_range_names_the_option_and_folder() {
    let d = tempfile::tempdir().unwrap();
    let kp = d.path().join("clip");
    openpose::write_dir(&dancer(1.0), &kp, "clip", OpenPoseLayout::Body25).unwrap();
    for fps in ["1e-9", "0", "-30", "1e6"] {
        let flag = format!("--source-fps={fps}");
        let o = choreo_within(d.path(), &["poses", "--openpose-dir", "clip", &flag, "--out", "o.json"], Duration::from_secs(30));
        assert_one_line_error(&o, "clip");
        let e = stderr(&o);
        assert!(e.contains("--source-fps") && !e.contains("--fps"), "{e}");
        assert!(!d.path().join("o.json").exists());
    }
    let o = choreo(d.path(), &["poses", "--openpose-dir", "clip", "--source-fps", "30", "--out", "o.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A Tang2018 dance folder of `n` frames whose coordinates are made by `coord(t, j, k)`.
fn tang_dance(dir: &Path, n: usize, coord: impl Fn(usize, usize, usize) -> String) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), r#"{"start_position": 0, "end_position": 100}"#).unwrap();
    let skel: Vec<String> = (0..n)
        .map(|t| format!("[{}]", (0..23).map(|j| format!("[{},{},{}]", coord(t, j, 0), coord(t, j, 1), coord(t, j, 2))).collect::<Vec<_>>().join(",")))
        .collect();
    let center: Vec<String> = (0..n).map(|_| "[0,90,0]".to_string()).collect();
    std::fs::write(dir.join("skeletons.json"), format!("{{\"length\":{n},\"center\":[{}],\"skeletons\":[{}]}}", center.join(","), skel.join(","))).unwrap();
}

#[test]
fn tang2018_coordinates_out_of_range_are_refused_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    let plain = |t: usize, j: usize, k: usize| format!("{}", (j as f64 * 7.0 + k as f64 * 3.0 + t as f64 * 0.1) % 50.0 - 25.0);
    tang_dance(&d.path().join("ok"), 30, plain);
    let o = choreo(d.path(), &["poses", "--tang2018", "ok", "--out", "ok.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (tag, bad) in [("huge", "1e300"), ("large", "-2e5"), ("nan", "NaN"), ("inf", "Infinity")] {
        tang_dance(&d.path().join(tag), 30, |t, j, k| if (t, j, k) == (7, 5, 1) { bad.to_string() } else { plain(t, j, k) });
        let out = format!("{tag}.json");
        let o = choreo(d.path(), &["poses", "--tang2018", tag, "--out", &out]);
        assert_one_line_error(&o, &format!("{tag}/skeletons.json"));
        assert!(!d.path().join(&out).exists(), "{tag}: wrote {out}");
    }
}

#[test]
fn outputs_go_only_to_regular_files_and_missing_folders_are_created() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    song(&dir.join("s.wav"), 2.0);
    std::fs::write(dir.join("p.json"), format::to_json(&dancer(1.0))).unwrap();
    std::fs::create_dir(dir.join("folder")).unwrap();
    for out in ["/dev/full", "/dev/null", "folder"] {
        for args in [
            vec!["mfcc", "s.wav", "--out", out],
            vec!["draw", "--poses", "p.json", "--frame", "0", "--out", out],
            vec!["align", "--poses", "p.json", "--song", "s.wav", "--out", out],
            vec!["render", "--poses", "p.json", "--song", "s.wav", "--out", out],
        ] {
            let o = choreo(dir, &args);
            assert_one_line_error(&o, out);
        }
    }
    assert!(std::fs::read_dir(dir.join("folder")).unwrap().next().is_none(), "nothing written into the folder");
    // One rule for every command: missing parent folders of an output are created.
    for (args, made) in [
        (vec!["mfcc", "s.wav", "--out", "new1/a/m.npy"], "new1/a/m.npy"),
        (vec!["draw", "--poses", "p.json", "--frame", "0", "--out", "new2/d.png"], "new2/d.png"),
        (vec!["poses", "--poses", "p.json", "--out", "new3/b/p.json"], "new3/b/p.json"),
        (vec!["align", "--poses", "p.json", "--song", "s.wav", "--out", "new4/a.json"], "new4/a.json"),
        (vec!["render", "--poses", "p.json", "--song", "s.wav", "--out", "new5/r.mp4"], "new5/r.mp4"),
    ] {
        let o = choreo(dir, &args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(std::fs::metadata(dir.join(made)).unwrap().len() > 0, "{made}");
    }
}

/// Children of `pid` (all its threads).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
        }
    }
    out
}

/// True while `pid` runs (a zombie waiting for its reaper does not run).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

#[test]
fn a_killed_render_takes_its_ffmpeg_along_and_its_temp_file_is_cleaned_next_time() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    song(&dir.join("s.wav"), 3.0);
    // Long enough that the render is still running when it is killed (several thousand frames).
    std::fs::write(dir.join("long.json"), format::to_json(&dancer(600.0))).unwrap();
    std::fs::write(dir.join("short.json"), format::to_json(&dancer(1.0))).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_choreo"))
        .args(["render", "--poses", "long.json", "--song", "s.wav", "--out", "x.mp4"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let tmp = dir.join(format!(".x.mp4.{}.tmp", child.id()));
    let t0 = Instant::now();
    let ffmpeg = loop {
        let kids = children(child.id());
        if tmp.exists() && !kids.is_empty() {
            break kids;
        }
        assert!(child.try_wait().unwrap().is_none(), "render ended before it could be killed");
        assert!(t0.elapsed() < Duration::from_secs(60), "no ffmpeg child appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let t1 = Instant::now();
    while ffmpeg.iter().any(|&p| running(p)) {
        assert!(t1.elapsed() < Duration::from_secs(10), "ffmpeg {ffmpeg:?} still running after its parent was killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(tmp.exists(), "a killed render leaves its temp file: {}", tmp.display());
    assert!(!dir.join("x.mp4").exists());
    // A user file that only looks like a temp file, and the next render into the same output.
    std::fs::write(dir.join(".x.mp4.keep.tmp"), b"mine").unwrap();
    let o = choreo(dir, &["render", "--poses", "short.json", "--song", "s.wav", "--out", "x.mp4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!tmp.exists(), "the dead render's temp file is removed");
    assert!(dir.join(".x.mp4.keep.tmp").exists());
    assert!(dir.join("x.mp4").exists());
}

/// A tiny OpenPose corpus: `good` dances that load, one whose config is crafted.
fn openpose_corpus(root: &Path, good: usize) {
    for i in 0..good {
        let dd = root.join(format!("dance{i}"));
        openpose::write_dir(&dancer(4.0), &dd.join("keypoints"), "k", OpenPoseLayout::Coco18).unwrap();
        song(&dd.join("audio.wav"), 4.5);
        std::fs::write(dd.join("config.json"), r#"{"fps": 24, "width": 512, "height": 512, "genre": "test"}"#).unwrap();
    }
    let bad = root.join("crafted");
    openpose::write_dir(&dancer(1.0), &bad.join("keypoints"), "k", OpenPoseLayout::Coco18).unwrap();
    song(&bad.join("audio.wav"), 1.5);
    std::fs::write(bad.join("config.json"), r#"{"fps": 1e-9}"#).unwrap();
}

#[test]
fn skipped_dances_are_warnings_and_the_failure_is_one_line() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("corpus");
    openpose_corpus(&root, 1);
    let o = choreo(d.path(), &["corpus", "stats", "--corpus", "corpus"]);
    let e = stderr(&o);
    assert!(e.lines().any(|l| l.starts_with("choreo: warning: skipped: ") && l.contains("crafted")), "{e}");
    assert!(!e.lines().any(|l| l.starts_with("choreo: skipped")), "{e}");
    assert_one_line_error(&o, "1 of 2 dances could not be loaded");
    assert!(String::from_utf8_lossy(&o.stdout).contains("dances"), "the figures of the dances that loaded still print");
    // train: a corpus too small prints its error and nothing else (no progress lines first).
    let o = choreo(d.path(), &["train", "--corpus", "corpus", "--out", "m/enc.safetensors", "--epochs", "1"]);
    assert_one_line_error(&o, "");
    let e = stderr(&o);
    let other: Vec<&str> = e.lines().filter(|l| !l.starts_with("choreo: ")).collect();
    assert!(other.is_empty(), "lines besides warnings and the error: {e}");
    assert!(!d.path().join("m/enc.safetensors").exists());
}
