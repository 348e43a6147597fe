use choreo::corpus::{self, CorpusConfig, CorpusFormat};
use choreo::pose::normalize::frame_height;
use choreo::pose::openpose::{self, OpenPoseLayout};
use choreo::pose::skeleton::Joint;
use choreo::pose::{format, tang2018, Frame};
use choreo::render::{draw_frame, Canvas};

use super::util::*;

fn y(f: &Frame, j: Joint) -> f32 {
    f[j as usize][1]
}

/// A standing frame seen from the front: among frames with the face visible and within 3 % of
/// the largest nose-to-feet height, the one with the widest shoulders.
fn standing_frame(frames: &[Frame]) -> usize {
    let h = |t: usize| frame_height(&frames[t]).unwrap_or(0.0);
    let facing: Vec<usize> = (0..frames.len()).filter(|&t| frames[t][0][2] > 0.0).collect();
    let tallest = facing.iter().map(|&t| h(t)).fold(0.0f32, f32::max);
    let width = |t: usize| (frames[t][2][0] - frames[t][5][0]).abs();
    facing.into_iter().filter(|&t| h(t) >= 0.97 * tallest).max_by(|&a, &b| width(a).total_cmp(&width(b))).expect("a frame with the face visible")
}

#[test]
fn tang2018_frame_is_an_upright_figure_and_is_drawn() {
    let Some(dir) = tang("DANCE_C_2") else { return };
    let (seq, meta) = tang2018::load_dance(&dir, 24.0).unwrap();
    assert_eq!((seq.width, seq.height, seq.fps), (512, 512, 24.0));
    assert!((meta.audio_offset - 0.0).abs() < 1e-9 || meta.audio_offset > 0.0);
    let t = standing_frame(&seq.frames);
    let f = &seq.frames[t];
    let hips = (y(f, Joint::RHip) + y(f, Joint::LHip)) / 2.0;
    let knees = (y(f, Joint::RKnee) + y(f, Joint::LKnee)) / 2.0;
    let ankles = (y(f, Joint::RAnkle) + y(f, Joint::LAnkle)) / 2.0;
    println!("frame {t}: nose {} neck {} hips {hips} knees {knees} ankles {ankles}", y(f, Joint::Nose), y(f, Joint::Neck));
    // y grows downwards: head above neck above hips above knees above ankles.
    assert!(y(f, Joint::Nose) < y(f, Joint::Neck));
    assert!(y(f, Joint::Neck) < hips && hips < knees && knees < ankles);
    // A grown-up's proportions: nose-to-feet 130..175 cm at 1.75 px/cm, all on the canvas.
    let h = frame_height(f).unwrap();
    assert!((230.0..310.0).contains(&h), "height {h}px");
    assert!(f.iter().all(|j| (0.0..512.0).contains(&j[0]) && (0.0..512.0).contains(&j[1])));
    // Every frame of the dance keeps that order for neck, hips and ankles.
    let upright = seq.frames.iter().filter(|f| y(f, Joint::Neck) < y(f, Joint::RHip) && y(f, Joint::RHip) < y(f, Joint::RAnkle)).count();
    assert!(upright as f64 > 0.99 * seq.len() as f64);

    // Drawing: a PNG for a person to look at, and pixels where the limbs are.
    let mut c = Canvas::black(512, 512);
    draw_frame(f, 512, 512, &mut c);
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tang2018_C_2_standing.png");
    choreo::io::write_png_rgb(&out, 512, 512, &c.rgb).unwrap();
    println!("drawing: {}", out.display());
    let neck = f[1];
    assert_ne!(c.pixel(neck[0] as u32, neck[1] as u32), [0, 0, 0]);
    let lit = c.rgb.chunks(3).filter(|p| p != &[0, 0, 0]).count();
    assert!(lit > 2000 && lit < 60_000, "{lit} lit pixels");
}

#[test]
fn anatomical_sides_agree_with_the_facing_direction() {
    let Some(root) = shared("data/tang2018") else { return };
    let (c, failed) = corpus::load(&root, &CorpusConfig::default()).unwrap();
    assert!(failed.is_empty());
    let mut worst: f64 = 1.0;
    for d in &c.dances {
        let (joints, centers) = tang2018::read_skeletons(&d.dir.join("skeletons.json")).unwrap();
        let (frames, meta) = tang2018::project(&joints, &centers);
        assert!(meta.right_is_b, "{}: side decision flipped", d.name);
        worst = worst.min(meta.side_agreement);
        // Facing the camera (face visible), the right shoulder appears on the image's left.
        let facing: Vec<&Frame> = frames.iter().filter(|f| f[0][2] > 0.0).collect();
        let mirrored = facing.iter().filter(|f| f[2][0] < f[5][0]).count();
        assert!(mirrored as f64 > 0.8 * facing.len() as f64, "{}: {mirrored}/{}", d.name, facing.len());
    }
    println!("lowest per-frame side agreement over 43 dances: {worst:.2}");
    assert!(worst > 0.75);
}

#[test]
fn nan_in_skeletons_is_an_error_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let dance = d.path().join("DANCE_W_1");
    std::fs::create_dir(&dance).unwrap();
    std::fs::write(dance.join("config.json"), r#"{"start_position": 0, "end_position": 2}"#).unwrap();
    let joint = "[1.0, 2.0, 3.0]";
    let frame = format!("[{}]", vec![joint; 23].join(","));
    let bad = format!(r#"{{"length": 2, "center": [[0,90,0],[0,90,0]], "skeletons": [{frame}, {}]}}"#, frame.replacen("1.0", "NaN", 1));
    std::fs::write(dance.join("skeletons.json"), bad).unwrap();
    let e = tang2018::load_dance(&dance, 24.0).unwrap_err().to_string();
    assert!(e.contains("skeletons.json") && e.contains("NaN"), "{e}");
    // null (what a JSON writer makes of NaN) is caught too, with the frame named.
    let nul = format!(r#"{{"length": 2, "center": [[0,90,0],[0,90,0]], "skeletons": [{frame}, {}]}}"#, frame.replacen("1.0", "null", 1));
    std::fs::write(dance.join("skeletons.json"), nul).unwrap();
    let e = tang2018::load_dance(&dance, 24.0).unwrap_err().to_string();
    assert!(e.contains("skeletons.json") && e.contains("frame 1"), "{e}");
}

#[test]
fn openpose_corpus_loads_like_the_source() {
    let Some(src) = tang("DANCE_R_3") else { return };
    let (seq, _) = tang2018::load_dance(&src, 30.0).unwrap();
    let mut seq30 = seq.clone();
    seq30.frames.truncate(90); // 3 s at 30 fps
    let root = tempfile::tempdir().unwrap();
    let dance = root.path().join("clip1");
    openpose::write_dir(&seq30, &dance.join("keypoints"), "clip1", OpenPoseLayout::Body25).unwrap();
    std::fs::write(dance.join("config.json"), r#"{"fps": 30, "width": 512, "height": 512, "genre": "rumba"}"#).unwrap();
    write_wav(&dance.join("audio.wav"), 16000, 3.0, |t| (t * 440.0 * std::f64::consts::TAU).sin() * 0.3);
    let (c, failed) = corpus::load(root.path(), &CorpusConfig::default()).unwrap();
    assert!(failed.is_empty());
    assert_eq!(c.format, CorpusFormat::OpenPose);
    let d = &c.dances[0];
    assert_eq!(d.genre.as_ref().map(|g| g.as_str()), Some("rumba"));
    assert_eq!(d.poses.len(), 72, "3 s resampled from 30 to 24 fps (frames 0..=71)");
    // Frame 24 at 24 fps is 1 s = source frame 30.
    for j in 0..18 {
        if seq30.frames[30][j][2] > 0.0 {
            assert!((d.poses.frames[24][j][0] - seq30.frames[30][j][0]).abs() < 0.01);
        }
    }
    // And the pose file round-trips it.
    let p = root.path().join("d.json");
    format::write(&d.poses, &p).unwrap();
    let back = format::read(&p).unwrap();
    assert_eq!(back.len(), d.poses.len());
    assert!((back.frames[10][1][0] - d.poses.frames[10][1][0]).abs() < 1e-3);
}
