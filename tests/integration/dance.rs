//! `dance`, `align`, `tune` end to end on a song outside the corpus, with the repo's default index
//! (built by tools/setup.sh) and the shipped encoder; bad input.

use std::path::{Path, PathBuf};

use choreo::pose::format;

use super::util::*;

/// The default index and shipped encoder, or None (skip) when setup has not built the index.
fn setup() -> Option<(PathBuf, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (ix, m) = (root.join("index/default"), root.join("models/encoders.safetensors"));
    let ix = require(ix, "the default index: run tools/setup.sh")?;
    let m = require(m, "the shipped encoder")?;
    Some((ix, m))
}

fn song() -> Option<PathBuf> {
    shared("data/beats/gtzan_country.00000.wav")
}

fn run_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let o = choreo(dir, args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn dance_has_no_visible_seams_and_follows_the_beat() {
    let (Some((ix, m)), Some(song)) = (setup(), song()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let base = ["dance", "--song", s(&song), "--index", s(&ix), "--model", s(&m), "--json"];
    let out = dir.path().join("d.json");
    let v = run_json(dir.path(), &[&base[..], &["--out", s(&out)]].concat());
    let seq = format::read(&out).unwrap();
    let secs = choreo::audio::decode(&song).unwrap().duration_secs();
    assert_eq!(seq.len(), (secs * 24.0).floor() as usize, "covers the whole song");
    assert!(seq.beats.as_ref().is_some_and(|b| b.len() > 40));
    assert_eq!(seq.provenance.as_ref().map(|p| p.len()), Some(seq.len()));
    assert!(seq.frames.iter().flatten().filter(|j| j[2] > 0.0).all(|j| (0.0..=512.0).contains(&j[0]) && (0.0..=512.0).contains(&j[1])), "dancer stays on the canvas");
    let mt = &v["metrics"];
    assert_eq!(mt["visible_seams"], 0, "{v}");
    assert!(mt["seams"].as_u64().unwrap() > 0);
    // The unaligned, greedy baseline on the same song: seams show and the beat is not followed.
    let raw = dir.path().join("raw.json");
    let b = run_json(dir.path(), &[&base[..], &["--select", "nearest", "--no-align", "--out", s(&raw)]].concat());
    let bm = &b["metrics"];
    assert!(bm["visible_seams"].as_u64().unwrap() > 5, "{b}");
    assert!(mt["beat_align_score"].as_f64().unwrap() > bm["beat_align_score"].as_f64().unwrap() + 0.05, "aligned {mt} vs raw {bm}");
    assert!(mt["hit_rate"].as_f64().unwrap() > bm["hit_rate"].as_f64().unwrap() + 0.1, "aligned {mt} vs raw {bm}");
    // Real dances score 0.163 against their own songs (README); the default must not fall below.
    assert!(mt["beat_align_score"].as_f64().unwrap() >= 0.163, "{mt}");
    // Keeping the fragments' off-beat stops leaves more kinematic beats that miss every beat.
    let kept = dir.path().join("kept.json");
    let k = run_json(dir.path(), &[&base[..], &["--off-beat-stops", "keep", "--out", s(&kept)]].concat());
    let misses = |m: &serde_json::Value| m["kinematic_beats"].as_f64().unwrap() * (1.0 - m["hit_rate"].as_f64().unwrap());
    assert!(misses(mt) < misses(&k["metrics"]), "smooth {mt} vs keep {}", k["metrics"]);
    assert!(mt["hit_rate"].as_f64().unwrap() > k["metrics"]["hit_rate"].as_f64().unwrap(), "smooth {mt} vs keep {}", k["metrics"]);
}

#[test]
fn same_seed_same_bytes_and_another_seed_another_dance_by_default() {
    let (Some((ix, m)), Some(song)) = (setup(), song()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let go = |name: &str, extra: &[&str]| {
        let p = dir.path().join(name);
        let o = choreo(dir.path(), &[&["dance", "--song", s(&song), "--index", s(&ix), "--model", s(&m), "--out", s(&p)][..], extra].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(p).unwrap()
    };
    // No --temperature: the default one makes --seed count.
    let (a, b, c) = (go("a.json", &["--seed", "1"]), go("b.json", &["--seed", "1"]), go("c.json", &["--seed", "2"]));
    assert!(a == b, "same seed, same bytes");
    assert!(a != c, "another seed, another dance");
    // A larger temperature too.
    assert!(go("d.json", &["--temperature", "0.3", "--seed", "1"]) != go("e.json", &["--temperature", "0.3", "--seed", "2"]));
    // --temperature 0 is the single best dance; a --seed with it would do nothing, so it is refused.
    assert_eq!(go("f.json", &["--temperature", "0"]), go("g.json", &["--temperature", "0"]));
    let o = choreo(dir.path(), &["dance", "--song", s(&song), "--index", s(&ix), "--model", s(&m), "--temperature", "0", "--seed", "2", "--out", "h.json"]);
    assert_one_line_error(&o, "--seed");
    assert!(!dir.path().join("h.json").exists());
}

#[test]
fn align_reruns_only_the_alignment() {
    let (Some((ix, m)), Some(song)) = (setup(), song()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let common = ["--song", s(&song), "--index", s(&ix), "--model", s(&m)];
    let (raw, full, re) = (dir.path().join("raw.json"), dir.path().join("full.json"), dir.path().join("re.json"));
    for (extra, out) in [(&["--no-align"][..], &raw), (&[][..], &full)] {
        let o = choreo(dir.path(), &[&["dance"][..], &common[..], extra, &["--out", s(out)]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = choreo(dir.path(), &["align", "--poses", s(&raw), "--song", s(&song), "--out", s(&re)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The pose file keeps 3 decimals, so the re-run sees rounded input: equal up to that.
    let (a, b) = (format::read(&full).unwrap(), format::read(&re).unwrap());
    assert_eq!(a.provenance, b.provenance, "dance = dance --no-align + align");
    let worst = a.frames.iter().flatten().zip(b.frames.iter().flatten()).map(|(p, q)| (p[0] - q[0]).abs().max((p[1] - q[1]).abs())).fold(0.0f32, f32::max);
    assert!(worst < 0.05, "largest difference {worst} px");
    // Other windows give another dance.
    let o = choreo(dir.path(), &["align", "--poses", s(&raw), "--song", s(&song), "--wa", "16", "--wb", "48", "--wc", "6", "--out", s(&re)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&full).unwrap() != std::fs::read(&re).unwrap(), "other windows, same dance");
}

#[test]
fn tune_prints_the_grid_best_first_and_plots() {
    let (Some((ix, m)), Some(song)) = (setup(), song()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("tune.svg");
    let v = run_json(
        dir.path(),
        &["tune", "--song", s(&song), "--index", s(&ix), "--model", s(&m), "--wa", "4,8", "--wb", "16,24", "--wc", "beat,12", "--beat-event", "stop,peak", "--json", "--plot", s(&svg)],
    );
    let rows = v["settings"].as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let key = |r: &serde_json::Value| (r["metrics"]["visible_seams"].as_u64().unwrap(), -r["metrics"]["beat_align_score"].as_f64().unwrap());
    for w in rows.windows(2) {
        let (a, b) = (key(&w[0]), key(&w[1]));
        assert!(a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1 + 1e-12), "best first: {a:?} then {b:?}");
    }
    assert!(v["unaligned"]["beat_align_score"].is_number());
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.starts_with("<svg") && plot.matches("<polyline").count() == 3, "three panels");
    // Off-beat handling and pulse are grid axes too; keep has no pulse, so 3 + 1 rows.
    let v = run_json(dir.path(), &["tune", "--song", s(&song), "--index", s(&ix), "--model", s(&m), "--wa", "8", "--wb", "24", "--off-beat-stops", "smooth,keep", "--pulse", "0,0.3,0.6", "--json"]);
    let rows = v["settings"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows.iter().filter(|r| r["off_beat_stops"] == "keep").count(), 1);
    let o = choreo(dir.path(), &["tune", "--song", s(&song), "--index", s(&ix), "--model", s(&m), "--pulse", "0.3,-1"]);
    assert_one_line_error(&o, "--pulse");
}

#[test]
fn dance_bad_input() {
    let Some((ix, m)) = setup() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.json");
    let run = |song: &Path, extra: &[&str]| choreo(dir.path(), &[&["dance", "--song", s(song), "--index", s(&ix), "--model", s(&m), "--out", s(&out)][..], extra].concat());
    // Shorter than one fragment.
    let short = dir.path().join("short.wav");
    write_wav(&short, 22050, 0.5, |t| (t * 880.0 * std::f64::consts::TAU).sin() * 0.5);
    let o = run(&short, &[]);
    assert_one_line_error(&o, "short.wav");
    assert!(stderr(&o).contains("shorter than one fragment"));
    // Silence: a dance, not aligned in time, and a warning.
    let silent = dir.path().join("silent.wav");
    write_wav(&silent, 22050, 4.0, |_| 0.0);
    let o = run(&silent, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning") && stderr(&o).contains("no beats"), "{}", stderr(&o));
    assert_eq!(format::read(&out).unwrap().len(), 96);
    // Missing index: names the path and the build command.
    let o = choreo(dir.path(), &["dance", "--song", s(&silent), "--index", "nowhere/idx", "--model", s(&m), "--out", s(&out)]);
    assert_one_line_error(&o, "nowhere/idx");
    assert!(stderr(&o).contains("choreo index build"));
    // Contradictory windows name the flag.
    let o = run(&silent, &["--wa", "32", "--wb", "24"]);
    assert_one_line_error(&o, "--wa 32");
    let o = run(&silent, &["--wc", "1"]);
    assert_one_line_error(&o, "--wc");
    let o = run(&silent, &["--wc", "often"]);
    assert_one_line_error(&o, "--wc");
    // A missing song names it.
    let o = run(&dir.path().join("nope.ogg"), &[]);
    assert_one_line_error(&o, "nope.ogg");
    // align on a pose file with NaN.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"fps\": 24, \"width\": 512, \"height\": 512, \"frames\": [[[NaN, 1, 1]]]}").unwrap();
    let o = choreo(dir.path(), &["align", "--poses", s(&bad), "--song", s(&silent), "--out", s(&out)]);
    assert_one_line_error(&o, "bad.json");
}

#[test]
fn user_beats_replace_the_tracker_and_bad_beat_files_are_refused() {
    let (Some((ix, m)), Some(song)) = (setup(), song()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // The tracker's own beats, written as `choreo beats --json` prints them, give the same dance.
    let o = choreo(p, &["beats", s(&song), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(p.join("song.json"), &o.stdout).unwrap();
    let base = ["dance", "--song", s(&song), "--index", s(&ix), "--model", s(&m)];
    let run = |extra: &[&str]| choreo(p, &[&base[..], extra].concat());
    assert!(run(&["--out", "a.json"]).status.success());
    assert!(run(&["--beats", "song.json", "--out", "b.json"]).status.success());
    assert_eq!(std::fs::read(p.join("a.json")).unwrap(), std::fs::read(p.join("b.json")).unwrap());
    // Other beats (a plain list, 100 BPM) give another dance whose beats are those.
    let grid: String = (0..45).map(|k| format!("{:.3}\n", 0.5 + 0.6 * k as f64)).collect();
    std::fs::write(p.join("grid.txt"), grid).unwrap();
    assert!(run(&["--beats", "grid.txt", "--out", "c.json"]).status.success());
    let c: serde_json::Value = serde_json::from_slice(&std::fs::read(p.join("c.json")).unwrap()).unwrap();
    assert_eq!(c["beats"].as_array().unwrap().len(), 45);
    assert!((c["beats"][1].as_f64().unwrap() - 1.1).abs() < 1e-9);
    // Bad beat files: one line naming the file, no output; for dance and for align.
    assert!(run(&["--no-align", "--out", "raw.json"]).status.success());
    for (name, text) in [("unsorted.txt", "1.0\n0.5\n"), ("negative.txt", "-0.5\n1.0\n"), ("nan.txt", "0.5\nnan\n"), ("empty.txt", ""), ("late.txt", "0.5\n999\n")] {
        std::fs::write(p.join(name), text).unwrap();
        let o = run(&["--beats", name, "--out", "bad.json"]);
        assert_one_line_error(&o, name);
        assert!(!p.join("bad.json").exists(), "{name}");
        let o = choreo(p, &["align", "--poses", "raw.json", "--song", s(&song), "--beats", name, "--out", "bad.json"]);
        assert_one_line_error(&o, name);
        let o = choreo(p, &["eval", "--poses", "c.json", "--song", s(&song), "--beats", name]);
        assert_one_line_error(&o, name);
    }
    // eval scores against the given beats: the dance aligned to the grid hits it better than
    // the unaligned dance does.
    let hit = |poses: &str| {
        let o = choreo(p, &["eval", "--poses", poses, "--song", s(&song), "--beats", "grid.txt"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        let line = out.lines().find(|l| l.starts_with(poses)).unwrap_or_else(|| panic!("no row for {poses}: {out}")).to_string();
        line.split_whitespace().nth(6).unwrap().parse::<f64>().unwrap_or_else(|_| panic!("{line}"))
    };
    assert!(hit("c.json") > hit("raw.json"), "aligned {} vs raw {}", hit("c.json"), hit("raw.json"));
}
