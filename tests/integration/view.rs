//! `view`: a dance and its song as one HTML page, opened in headless Chromium. Two screenshots
//! at two moments (`page.html#t=SECONDS` opens the page paused there) must show the figure in the
//! middle of the frame and differ there. Needs chromium (Debian package) and vendor/three (both
//! from tools/setup.sh); under CI a missing one fails. The screenshots are kept in
//! target/view-test/ to look at.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use choreo::pose::skeleton3d::{Frame3, JOINT3_NAMES};
use choreo::pose::{format, Frame, Sequence};

use super::util::*;

const W: u32 = 800;
const H: u32 = 600;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn vendor_three() -> Option<PathBuf> {
    require(Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor/three/VERSION"), "three.js: run tools/setup.sh")
}

fn chromium() -> Option<PathBuf> {
    require_program("chromium", "Debian package chromium: run tools/setup.sh")
}

fn shots_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/view-test");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A 10-s synthetic dance: the humanoid18 figure walks a circle, turns, raises its arms and bobs;
/// the 2-D frames are its front view. Beats every 0.5 s.
fn synthetic_dance(with_3d: bool) -> Sequence {
    let fps = 24.0;
    let rest: [[f32; 3]; 18] = [
        [0.0, 95.0, 0.0], [0.0, 125.0, 0.0], [0.0, 150.0, 0.0], [0.0, 166.0, 2.0],
        [18.0, 147.0, 0.0], [22.0, 119.0, 0.0], [25.0, 94.0, 2.0],
        [-18.0, 147.0, 0.0], [-22.0, 119.0, 0.0], [-25.0, 94.0, 2.0],
        [10.0, 93.0, 0.0], [11.0, 50.0, 2.0], [12.0, 8.0, 0.0], [12.0, 2.0, 14.0],
        [-10.0, 93.0, 0.0], [-11.0, 50.0, 2.0], [-12.0, 8.0, 0.0], [-12.0, 2.0, 14.0],
    ];
    let mut j3: Vec<Frame3> = Vec::new();
    let mut j2: Vec<Frame> = Vec::new();
    for t in 0..240 {
        let sec = t as f32 / fps as f32;
        let lift = 100f32.to_radians() * (0.5 - 0.5 * (std::f32::consts::TAU * sec / 2.0).cos());
        let mut p = rest;
        // Arms swing up about the shoulders in the frontal plane (left fully, right half).
        for (sh, chain, a) in [(4usize, [5usize, 6], lift), (7, [8, 9], -0.5 * lift)] {
            for j in chain {
                let (x, y) = (rest[j][0] - rest[sh][0], rest[j][1] - rest[sh][1]);
                p[j][0] = rest[sh][0] + x * a.cos() - y * a.sin();
                p[j][1] = rest[sh][1] + x * a.sin() + y * a.cos();
            }
        }
        let heading = 0.6 * sec;
        let (rx, rz) = (80.0 * (0.5 * sec).sin(), 80.0 * (1.0 - (0.5 * sec).cos()));
        let bob = 4.0 * (std::f32::consts::TAU * sec).sin();
        let f: Frame3 = std::array::from_fn(|j| {
            let [x, y, z] = p[j];
            [x * heading.cos() + z * heading.sin() + rx, y + bob, -x * heading.sin() + z * heading.cos() + rz]
        });
        let px = |q: [f32; 3]| [256.0 + 1.75 * (q[0] - rx), 440.0 - 1.75 * q[1], 1.0];
        // COCO-18 from the 3-D joints: face joints at the head.
        let map = [3, 2, 7, 8, 9, 4, 5, 6, 14, 15, 16, 10, 11, 12, 3, 3, 3, 3];
        j2.push(std::array::from_fn(|k| px(f[map[k]])));
        j3.push(f);
    }
    let mut seq = Sequence::new(fps, 512, 512, j2);
    seq.beats = Some((0..20).map(|k| k as f64 * 0.5).collect());
    if with_3d {
        seq.joints3d = Some(j3);
    }
    seq
}

/// Runs headless Chromium on `page` at time `t` and returns the screenshot (RGB, W×H). Killed
/// after 120 s (a hung browser fails the test instead of hanging it).
fn screenshot(chromium: &Path, page: &Path, t: f64, png: &Path) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}#t={t}", page.canonicalize().unwrap().display());
    let _ = std::fs::remove_file(png);
    let mut child = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--hide-scrollbars"])
        .args(["--mute-audio", "--no-first-run", "--disable-extensions", "--virtual-time-budget=10000"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={W},{H}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let file = std::fs::File::open(png).unwrap_or_else(|e| panic!("{}: no screenshot ({e})", png.display()));
    let mut dec = png::Decoder::new(file);
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (W, H), "screenshot size");
    let ch = info.color_type.samples();
    buf[..info.buffer_size()].chunks(ch).flat_map(|p| [p[0], p[1], p[2]]).collect()
}

/// The middle of the frame: the central half in x, from 15 % to 85 % in y (above the controls).
fn middle(x: u32, y: u32) -> bool {
    x >= W / 4 && x < 3 * W / 4 && y >= H * 15 / 100 && y < H * 85 / 100
}

/// What a pixel shows: 1 a left (blue, #3d8bfd) bone, 2 a right (orange, #f2803a) bone, 0
/// anything else. Background, floor and grid are grey and the beat ring yellow (red and green
/// close), so none of them counts.
fn bone_class(p: &[u8]) -> u8 {
    let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
    if b > r + 80 && b > g + 40 {
        1
    } else if r > g + 60 && r > b + 90 {
        2
    } else {
        0
    }
}

/// Pixels of left and right bones in the middle of the frame.
fn figure_pixels(rgb: &[u8]) -> (usize, usize) {
    let (mut blue, mut orange) = (0, 0);
    for y in 0..H {
        for x in (0..W).filter(|&x| middle(x, y)) {
            match bone_class(&rgb[3 * (y * W + x) as usize..]) {
                1 => blue += 1,
                2 => orange += 1,
                _ => {}
            }
        }
    }
    (blue, orange)
}

/// Pixels in the middle of the frame where the bones differ (a bone in one picture and not the
/// other, or the other side's): the figure moved, not just the floor under a moving camera.
fn changed_pixels(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    for y in 0..H {
        for x in (0..W).filter(|&x| middle(x, y)) {
            let i = 3 * (y * W + x) as usize;
            if bone_class(&a[i..]) != bone_class(&b[i..]) {
                n += 1;
            }
        }
    }
    n
}

/// Two screenshots of `page` at `t1` and `t2`: both show the figure, and it moved.
fn check_two_moments(chromium: &Path, page: &Path, name: &str, t1: f64, t2: f64) {
    let dir = shots_dir();
    let (p1, p2) = (dir.join(format!("{name}_t{t1}.png")), dir.join(format!("{name}_t{t2}.png")));
    let a = screenshot(chromium, page, t1, &p1);
    let b = screenshot(chromium, page, t2, &p2);
    let (fa, fb, d) = (figure_pixels(&a), figure_pixels(&b), changed_pixels(&a, &b));
    eprintln!("{name}: figure pixels (blue, orange) {fa:?} at {t1} s ({}), {fb:?} at {t2} s ({}); {d} bone pixels changed", p1.display(), p2.display());
    // The figure is about 300 px tall: each side's bones cover a thousand pixels or more.
    for (t, (blue, orange)) in [(t1, fa), (t2, fb)] {
        assert!(blue > 400 && orange > 400, "{name}: no figure in the middle of the frame at {t} s ({blue} blue, {orange} orange pixels); see {}", dir.display());
    }
    assert!(d > 800, "{name}: the figure did not move between the two moments ({d} bone pixels changed); see {}", dir.display());
}

/// `choreo dance` on DANCE_C_2's song from the default index, written to `name` in a temporary
/// folder: (folder, song, dance, chromium); None (a loud skip, a failure under CI) when an input
/// is missing.
fn generated_dance(name: &str) -> Option<(tempfile::TempDir, PathBuf, PathBuf, PathBuf)> {
    let song = tang("DANCE_C_2").map(|d| d.join("audio.mp3"))?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ix = require(root.join("index/default"), "the default index: run tools/setup.sh")?;
    let model = root.join("models/encoders.safetensors");
    let (Some(chromium), Some(_)) = (chromium(), vendor_three()) else { return None };
    let dir = tempfile::tempdir().unwrap();
    let dance = dir.path().join(name);
    let o = choreo(dir.path(), &["dance", "--song", s(&song), "--index", s(&ix), "--model", s(&model), "--out", s(&dance)]);
    assert!(o.status.success(), "{}", stderr(&o));
    Some((dir, song, dance, chromium))
}

#[test]
fn view_real_dance_in_chromium() {
    let Some((dir, song, dance, chromium)) = generated_dance("d.json") else { return };
    let page = dir.path().join("d.html");
    let o = choreo(dir.path(), &["view", s(&dance), "--song", s(&song), "--out", s(&page)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let seq = format::read(&dance).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    // The mp3 is embedded as it is (131 kbit/s), in one page that fetches nothing.
    assert!(stderr(&o).contains("song 3.8 MB (as is)"), "{}", stderr(&o));
    assert!(!html.contains("src=\"http") && !html.contains("\"https://"), "nothing may be fetched");
    let two_d = seq.joints3d.is_none();
    assert_eq!(html.contains("stands in a vertical plane"), two_d, "the page says when the figure is 2-D");
    check_two_moments(&chromium, &page, if two_d { "real_2d" } else { "real_3d" }, 1.5, 5.0);
}

#[test]
fn view_3d_dance_in_chromium() {
    let (Some(chromium), Some(_)) = (chromium(), vendor_three()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let dance = dir.path().join("d3.json");
    format::write(&synthetic_dance(true), &dance).unwrap();
    let song = dir.path().join("song.wav");
    write_wav(&song, 22050, 10.0, |t| 0.3 * (std::f64::consts::TAU * 440.0 * t).sin());
    let page = dir.path().join("d3.html");
    let o = choreo(dir.path(), &["view", s(&dance), "--song", s(&song), "--out", s(&page)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("3-D figure (18 joints), 20 beats"), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("vertical plane"));
    for name in JOINT3_NAMES {
        assert!(html.contains(&format!("\"{name}\"")), "{name} in the page");
    }
    check_two_moments(&chromium, &page, "synthetic_3d", 1.0, 6.0);
    // The time in the URL fixes the picture: the same moment again gives the same bones.
    let again = screenshot(&chromium, &page, 1.0, &shots_dir().join("synthetic_3d_t1_again.png"));
    let first = screenshot(&chromium, &page, 1.0, &shots_dir().join("synthetic_3d_t1.png"));
    assert_eq!(changed_pixels(&first, &again), 0, "two loads at 1.0 s differ");
}

/// A generated dance written as BVH (`choreo dance --out d.bvh`) and viewed from the BVH: the
/// page shows the 3-D figure (the BVH's forward kinematics on humanoid18) and it moves.
#[test]
fn view_bvh_dance_in_chromium() {
    let Some((dir, song, dance, chromium)) = generated_dance("d.bvh") else { return };
    assert!(std::fs::read_to_string(&dance).unwrap().starts_with("HIERARCHY\nROOT Hips"));
    let page = dir.path().join("d.html");
    let o = choreo(dir.path(), &["view", s(&dance), "--song", s(&song), "--out", s(&page)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("3-D figure (18 joints)"), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("vertical plane"), "a BVH is shown in 3-D");
    assert!(!html.contains("src=\"http") && !html.contains("\"https://"), "nothing may be fetched");
    check_two_moments(&chromium, &page, "bvh_3d", 1.5, 5.0);
}

#[test]
fn view_page_is_deterministic_and_takes_given_beats() {
    let Some(_) = vendor_three() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dance = dir.path().join("d2.json");
    format::write(&synthetic_dance(false), &dance).unwrap();
    let song = dir.path().join("song.wav");
    write_wav(&song, 22050, 10.0, |t| 0.3 * (std::f64::consts::TAU * 330.0 * t).sin());
    let beats = dir.path().join("song.beats");
    std::fs::write(&beats, "0.25\n1.25\n2.25\n").unwrap();
    let (a, b) = (dir.path().join("a.html"), dir.path().join("b.html"));
    for out in [&a, &b] {
        let o = choreo(dir.path(), &["view", s(&dance), "--song", s(&song), "--beats", s(&beats), "--out", s(out)]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("2-D figure (18 joints), 3 beats, song 0.2 MB (transcoded to mp3)"), "{}", stderr(&o));
    }
    let (ha, hb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(ha == hb, "same inputs, different pages");
    let html = String::from_utf8(ha).unwrap();
    assert!(html.contains("\"beats\":[0.25,1.25,2.25]"));
    assert!(html.contains("stands in a vertical plane"));
    // --start shifts the beats (song times) to dance times.
    let o = choreo(dir.path(), &["view", s(&dance), "--song", s(&song), "--beats", s(&beats), "--start", "0.25", "--out", s(&a)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&a).unwrap();
    assert!(html.contains("\"beats\":[0.0,1.0,2.0]") && html.contains("\"song_start\":0.25"));
}

#[test]
fn view_bad_input_is_one_line_naming_the_file() {
    let Some(_) = vendor_three() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dance = d.join("d.json");
    format::write(&synthetic_dance(true), &dance).unwrap();
    let song = d.join("song.wav");
    write_wav(&song, 22050, 10.0, |t| 0.3 * (std::f64::consts::TAU * 440.0 * t).sin());
    std::fs::write(d.join("garbled.json"), b"{\"fps\": 24, \"frames\": [[[1, 2").unwrap();
    std::fs::write(d.join("empty.json"), b"").unwrap();
    let wav = std::fs::read(&song).unwrap();
    std::fs::write(d.join("truncated.wav"), &wav[..2000]).unwrap();
    std::fs::write(d.join("noise.mp3"), b"this is not an mp3 file at all, just text").unwrap();
    std::fs::write(d.join("a_file"), b"x").unwrap();
    std::fs::create_dir(d.join("adir")).unwrap();
    std::fs::write(d.join("bad.beats"), b"0.5\nbeat\n").unwrap();
    let mut nan = format::to_json(&synthetic_dance(true));
    nan = nan.replacen("[0.0,95.0,0.0]", "[0.0,null,0.0]", 1);
    std::fs::write(d.join("nan.json"), nan).unwrap();
    let page = d.join("p.html");
    std::fs::write(&page, b"previous page").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["view", "missing.json", "--song", "song.wav", "--out", "p.html"], "missing.json"),
        (&["view", "garbled.json", "--song", "song.wav", "--out", "p.html"], "garbled.json"),
        (&["view", "empty.json", "--song", "song.wav", "--out", "p.html"], "empty.json"),
        (&["view", "nan.json", "--song", "song.wav", "--out", "p.html"], "nan.json"),
        (&["view", "d.json", "--song", "missing.wav", "--out", "p.html"], "missing.wav"),
        (&["view", "d.json", "--song", "truncated.wav", "--out", "p.html"], "truncated.wav"),
        (&["view", "d.json", "--song", "noise.mp3", "--out", "p.html"], "noise.mp3"),
        (&["view", "d.json", "--song", "song.wav", "--beats", "bad.beats", "--out", "p.html"], "bad.beats"),
        (&["view", "d.json", "--song", "song.wav", "--out", "a_file/p.html"], "a_file"),
        (&["view", "d.json", "--song", "song.wav", "--out", "/dev/full"], "/dev/full"),
        (&["view", "d.json", "--song", "song.wav", "--out", "adir"], "adir"),
        (&["view", "d.json", "--song", "song.wav", "--start=-1", "--out", "p.html"], "p.html"),
        (&["view", "d.bvh", "--song", "song.wav", "--out", "p.html"], "d.bvh"),
    ];
    for (args, name) in cases {
        let o = choreo(d, args);
        assert_one_line_error(&o, name);
    }
    // Every failure left the previous page as it was, and no temp file.
    assert_eq!(std::fs::read(&page).unwrap(), b"previous page");
    let temps: Vec<_> = std::fs::read_dir(d).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()).filter(|n| n.ends_with(".tmp")).collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn figure_detector_counts_bones_only() {
    // Background, floor, grid, a lit and a dim beat ring, the white joints: nothing.
    let mut img: Vec<u8> = Vec::new();
    let greys = [[29u8, 34, 41], [58, 64, 72], [107, 116, 128], [235, 195, 64], [70, 70, 66], [244, 241, 234]];
    for k in 0..(W * H) as usize {
        img.extend_from_slice(&greys[k % greys.len()]);
    }
    assert_eq!(figure_pixels(&img), (0, 0));
    // Lit and shaded bone colours count.
    let bones = [[61u8, 139, 253], [30, 70, 160], [242, 128, 58], [150, 75, 30]];
    for (k, px) in img.chunks_mut(3).enumerate() {
        px.copy_from_slice(&bones[k % bones.len()]);
    }
    let (b, o) = figure_pixels(&img);
    assert!(b > 10_000 && o > 10_000, "{b} {o}");
}
