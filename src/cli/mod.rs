//! Flags → library config structs → calls. No clap types leave this module.

mod corpus;
mod dance;
mod eval;
mod index;
mod media;
mod model;
mod video;
mod view;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "choreo", version, about = "Turns a song into a dance: learns music–movement pairs from a dance corpus, retrieves and stitches pose fragments, aligns them to the beat.")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Print the beat times of a song, one per line (seconds), or JSON with --json.
    #[command(after_help = "Example:\n  choreo beats song.mp3 --json\n  choreo beats song.ogg --method aubio:specflux")]
    Beats(media::BeatsArgs),
    /// Write the MFCC features of a song (one 13-d row per video frame) as a T×13 float32 .npy.
    #[command(after_help = "Example:\n  choreo mfcc song.mp3 --fps 24 --out song.npy")]
    Mfcc(media::MfccArgs),
    /// Inspect a dance corpus.
    #[command(subcommand)]
    Corpus(corpus::CorpusCommand),
    /// Convert poses to a choreo pose file (or an OpenPose folder, or BVH): from a video, OpenPose JSON, a Tang2018 dance or BVH.
    #[command(after_help = "Example:\n  choreo poses --video dance.mp4 --out dance.json\n  choreo poses --video dance.mp4 --model lightning --device cpu --out dance.json\n  choreo poses --tang2018 ../shared/data/tang2018/DANCE_W_1 --out w1.json\n  choreo poses --openpose-dir clip/keypoints --source-fps 30 --out clip.json\n  choreo poses --poses w1.json --out w1_openpose/ --layout body25\n  choreo poses --bvh mocap.bvh --out mocap.json\n  choreo poses --poses dance.json --out dance.bvh   # needs the pose file's joints3d")]
    Poses(media::PosesArgs),
    /// Draw one frame of a pose file as an OpenPose-style limb map (PNG), or every frame into a .npy.
    #[command(after_help = "Example:\n  choreo draw --poses w1.json --frame 0 --out w1_0.png\n  choreo draw --poses w1.json --all --size 256 --out w1_maps.npy")]
    Draw(choreo::render::DrawConfig),
    /// Render a pose file as an mp4 (OpenPose-style limb map, or the target person through a learned ONNX generator; H.264) with the song (AAC), as long as the poses.
    #[command(after_help = "Example:\n  choreo render --poses dance.json --song song.mp3 --out dance.mp4\n  choreo render --poses dance.json --song song.ogg --start 12.5 --size 720 --out dance.mp4\n  choreo render --poses dance.json --song song.mp3 --out dance.mp4 --renderer onnx --generator models/anna.onnx --face models/anna_face.onnx --device auto --batch 8")]
    Render(video::RenderArgs),
    /// Write a dance and its song as one self-contained web page: a lit 3-D figure on a floor (three.js), orbit camera, play/pause, time slider, a tick on each beat.
    #[command(after_help = "Example:\n  choreo dance --song song.mp3 --out dance.json\n  choreo view dance.json --song song.mp3 --out dance.html   # open dance.html in a browser\n  choreo view dance.json --song song.mp3 --beats song.beats --out dance.html\n\nA dance with a 3-D track (joints3d) shows the 3-D figure; a 2-D one stands in a vertical plane.\nOpen dance.html#t=12.5 to start paused at 12.5 s. three.js comes from vendor/three (tools/setup.sh).")]
    View(choreo::render::ViewConfig),
    /// Train the audio and pose encoders (DanceIt's matching network) on a corpus.
    #[command(after_help = "Example:\n  choreo train --corpus ../shared/data/tang2018 --out models/encoders.safetensors --epochs 40 --seed 0 --report train.json")]
    Train(model::TrainArgs),
    /// Embed a song's clips or a pose file's fragments with the trained encoders (N×16 .npy).
    #[command(after_help = "Example:\n  choreo embed --model models/encoders.safetensors --audio song.mp3 --out song_emb.npy\n  choreo embed --poses dance.json --out dance_emb.npy")]
    Embed(model::EmbedArgs),
    /// Score dances with the published metrics: Bailando's kinematic beats and Beat Align Score, Lee et al.'s beat coverage and hit rate, FID_k/FID_g/Div_k/Div_g (--against); seams.
    #[command(after_help = "Example:\n  choreo eval --poses dance.json --song song.mp3 --beats song.beats   # against your own (true) beats\n  choreo eval --poses dance.json --song song.mp3 --against ../shared/data/tang2018\n  choreo eval --corpus ../shared/data/tang2018   # every real dance against its own song, and the real-vs-real FID floor")]
    Eval(eval::EvalArgs),
    /// Choreograph a song: retrieve fragments from an index, choose a sequence, stitch, smooth the seams and put motion on the beats.
    #[command(after_help = "Example:\n  choreo dance --song song.ogg --out dance.json\n  choreo dance --song song.ogg --out dance.mp4 --seed 7\n  choreo dance --song song.ogg --beats song.beats --out dance.json   # your own beat times\n  choreo dance --song song.ogg --select nearest --no-align --out raw.json   # DanceIt's greedy choice, unaligned\n  choreo dance --song song.ogg --segment beats --beat-event peak --wc 12 --out dance.json")]
    Dance(dance::DanceArgs),
    /// Re-run only the alignment (spatial TSD, temporal beats) on a stitched dance.
    #[command(after_help = "Example:\n  choreo dance --song song.ogg --no-align --out raw.json\n  choreo align --poses raw.json --song song.ogg --wa 8 --wb 24 --wc beat --out aligned.json\n  choreo align --poses raw.json --song song.ogg --beats song.beats --out aligned.json")]
    Align(dance::AlignArgs),
    /// Try a grid of alignment windows on one song and print the figures, best first.
    #[command(after_help = "Example:\n  choreo tune --song song.ogg --wa 4,8,16 --wb 16,24,48 --wc beat,12 --plot tune.svg\n  choreo tune --song song.ogg --beat-event stop,peak --spatial tsd,linear --json\n  choreo tune --song song.ogg --off-beat-stops smooth,keep --pulse 0,0.3,0.6\n  choreo tune --song song.ogg --beats song.beats --wa 4,8")]
    Tune(dance::TuneArgs),
    /// Build, inspect, merge and search fragment indexes.
    #[command(subcommand)]
    Index(index::IndexCommand),
    /// Check that ffmpeg and ONNX Runtime are found (what tools/setup.sh installs).
    #[command(after_help = "Example:\n  choreo doctor")]
    Doctor,
}

pub fn run() -> anyhow::Result<ExitCode> {
    let args = match Args::try_parse() {
        Ok(a) => a,
        // --help and --version print as clap has them.
        Err(e) if !e.use_stderr() => e.exit(),
        // A usage error is one line like any other failure: its first line, without clap's
        // "error: " prefix and usage block.
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
            anyhow::bail!("{first} (see --help)");
        }
    };
    match args.command {
        Command::Beats(a) => media::beats(a),
        Command::Mfcc(a) => media::mfcc(a),
        Command::Corpus(c) => corpus::run(c),
        Command::Poses(a) => media::poses(a),
        Command::Draw(a) => media::draw(a),
        Command::Render(a) => video::render(a),
        Command::View(a) => view::run(a),
        Command::Doctor => doctor(),
        Command::Index(c) => index::run(c),
        Command::Eval(a) => eval::run(a),
        Command::Train(a) => model::train(a),
        Command::Embed(a) => model::embed(a),
        Command::Dance(a) => dance::dance(a),
        Command::Align(a) => dance::align_cmd(a),
        Command::Tune(a) => dance::tune(a),
    }
}

/// A library setting error in the CLI's words: the setting's flag first.
pub fn flag_error(e: choreo::units::SettingError) -> anyhow::Error {
    let flag = match e.name {
        "max_nb_connection" => "m",
        name => name,
    };
    anyhow::anyhow!("--{} {}", flag.replace('_', "-"), e.reason)
}

/// Validates a working frame rate flag.
pub fn check_fps(fps: f64) -> anyhow::Result<f64> {
    choreo::units::check_fps("fps", fps).map_err(flag_error)
}

/// The library's warnings, one line each.
pub fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("choreo: warning: {w}");
    }
}

/// JSON as the commands print it (through `serde_json::Value`: keys sorted).
pub fn json(v: &impl serde::Serialize, pretty: bool) -> anyhow::Result<String> {
    let v = serde_json::to_value(v)?;
    Ok(if pretty { serde_json::to_string_pretty(&v)? } else { serde_json::to_string(&v)? })
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})");
    pb.set_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    pb.set_message(what.to_string());
    pb
}

/// A corpus folder, or else the dance folders or videos of `list`, with a progress bar; the
/// dances that failed are warned about and counted.
pub fn load_corpus(root: Option<&std::path::Path>, list: &[std::path::PathBuf], cfg: &choreo::corpus::CorpusConfig) -> anyhow::Result<(choreo::corpus::Corpus, usize)> {
    let pb = bar(root.map(choreo::corpus::scan).transpose()?.map_or(list.len(), |(_, dirs)| dirs.len()) as u64, "loading dances");
    let loaded = match root {
        Some(root) => choreo::corpus::load_with_progress(root, cfg, &|| pb.inc(1)),
        None => choreo::corpus::load_list(list, cfg, &|| pb.inc(1)),
    };
    pb.finish_and_clear();
    let (c, failed) = loaded?;
    warn(&failed.iter().map(|e| format!("skipped: {e}")).collect::<Vec<_>>());
    Ok((c, failed.len()))
}

fn doctor() -> anyhow::Result<ExitCode> {
    let (text, ok) = choreo::pipeline::doctor();
    println!("{text}");
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
