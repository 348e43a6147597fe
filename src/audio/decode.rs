//! Decoding: wav, mp3, ogg/vorbis and flac with symphonia; anything else (opus, m4a, the audio
//! track of a video) through the ffmpeg CLI, read back as raw f32 over a pipe.

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{Audio, AudioError};

/// Extensions symphonia handles here; everything else goes to ffmpeg.
const SYMPHONIA_EXTS: &[&str] = &["wav", "wave", "mp3", "ogg", "oga", "flac"];

/// Sample rates a song may have: 4 kHz to 384 kHz. A header outside them is crafted or corrupt
/// (MFCC windows are a fixed fraction of a second: a rate of 4 GHz would ask for gigabytes).
pub const SAMPLE_RATE_MIN: u32 = 4_000;
pub const SAMPLE_RATE_MAX: u32 = 384_000;
/// Most channels a song may have (7.1 is 8; 64 leaves room for ambisonics).
pub const MAX_CHANNELS: usize = 64;

fn check_rate(path: &Path, rate: u32) -> Result<u32, AudioError> {
    if (SAMPLE_RATE_MIN..=SAMPLE_RATE_MAX).contains(&rate) {
        Ok(rate)
    } else {
        Err(AudioError::Format {
            path: path.into(),
            reason: format!("sample rate {rate} Hz is out of range ({SAMPLE_RATE_MIN}..={SAMPLE_RATE_MAX} Hz)"),
        })
    }
}

/// Decodes `path` to mono f32 at its native sample rate.
pub fn decode(path: &Path) -> Result<Audio, AudioError> {
    let meta = std::fs::metadata(path).map_err(|e| AudioError::Open { path: path.into(), source: e })?;
    if meta.is_dir() {
        return Err(AudioError::Format { path: path.into(), reason: "is a directory".into() });
    }
    if meta.len() == 0 {
        return Err(AudioError::Empty { path: path.into() });
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let audio = if SYMPHONIA_EXTS.contains(&ext.as_str()) {
        decode_symphonia(path, &ext)?
    } else {
        decode_ffmpeg(path)?
    };
    if audio.samples.is_empty() {
        return Err(AudioError::NoSamples { path: path.into() });
    }
    if audio.samples.iter().any(|s| !s.is_finite()) {
        return Err(AudioError::Corrupt { path: path.into(), reason: "non-finite samples".into() });
    }
    Ok(audio)
}

/// Appends the mean of the channel `planes` (their first `n` samples) to `mono`.
fn mix_down(planes: &[Vec<f32>], n: usize, mono: &mut Vec<f32>) {
    let ch = planes.len().max(1);
    mono.reserve(n);
    for i in 0..n {
        let s: f32 = planes.iter().map(|p| p.get(i).copied().unwrap_or(0.0)).sum();
        mono.push(s / ch as f32);
    }
}

/// What the decoding loop saw: packets decoded and failed, the length the container declares, and
/// why the stream ended early, if it did.
struct Tally {
    decoded: usize,
    bad: usize,
    declared_frames: Option<u64>,
    cut_short: Option<String>,
}

/// Refuses a stream that decoded nothing, has no rate, is shorter than its header says, or lost
/// more than 1 packet in 20.
fn check_complete(path: &Path, mono: &[f32], rate: u32, t: Tally) -> Result<(), AudioError> {
    let corrupt = |reason: String| Err(AudioError::Corrupt { path: path.into(), reason });
    if t.decoded == 0 {
        return corrupt(format!("none of {} packets decoded", t.bad));
    }
    if rate == 0 {
        return Err(AudioError::Format { path: path.into(), reason: "unknown sample rate".into() });
    }
    let mut cut_short = t.cut_short;
    // The container says how long the stream is (wav data chunk, mp3 Xing/LAME header, flac
    // STREAMINFO): decoding much less than that means the file was truncated.
    if let Some(n) = t.declared_frames.filter(|&n| n > 0) {
        if (mono.len() as f64) < 0.98 * n as f64 - rate as f64 * 0.1 {
            cut_short = Some(format!("decoded {:.1} s of the {:.1} s the header declares", mono.len() as f64 / rate as f64, n as f64 / rate as f64));
        }
    }
    if let Some(reason) = cut_short {
        return corrupt(format!("truncated: {reason}"));
    }
    if t.bad > 0 && t.bad * 20 > t.decoded {
        return corrupt(format!("{} of {} packets failed to decode", t.bad, t.bad + t.decoded));
    }
    Ok(())
}

fn decode_symphonia(path: &Path, ext: &str) -> Result<Audio, AudioError> {
    let file = File::open(path).map_err(|e| AudioError::Open { path: path.into(), source: e })?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(ext);
    let fmt_err = |reason: String| AudioError::Format { path: path.into(), reason };
    let mut format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| fmt_err(e.to_string()))?;
    let track = format.default_track(TrackType::Audio).ok_or_else(|| fmt_err("no audio track".into()))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| fmt_err("no audio codec parameters".into()))?
        .clone();
    let track_id = track.id;
    let declared_frames = track.num_frames;
    // Refuse crafted headers before the decoder sizes its buffers from them.
    let rate = check_rate(path, params.sample_rate.ok_or_else(|| fmt_err("unknown sample rate".into()))?)?;
    if let Some(ch) = params.channels.as_ref().map(|c| c.count()) {
        if ch == 0 || ch > MAX_CHANNELS {
            return Err(fmt_err(format!("{ch} channels (1..={MAX_CHANNELS} expected)")));
        }
    }
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| fmt_err(format!("unsupported codec: {e}")))?;

    let mut mono: Vec<f32> = Vec::new();
    let mut rate = rate;
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut decoded_packets = 0usize;
    let mut bad_packets = 0usize;
    let mut cut_short: Option<String> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A clean end of stream is Ok(None); an unexpected EOF mid-packet means the file was cut.
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                cut_short = Some("file ends in the middle of a packet".into());
                break;
            }
            Err(SymError::ResetRequired) => break,
            Err(e) => {
                if decoded_packets == 0 {
                    return Err(AudioError::Corrupt { path: path.into(), reason: e.to_string() });
                }
                break;
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                decoded_packets += 1;
                rate = check_rate(path, buf.spec().rate())?;
                buf.copy_to_vecs_planar::<f32>(&mut planes);
                mix_down(&planes, buf.frames(), &mut mono);
            }
            Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                bad_packets += 1;
            }
            Err(e) => return Err(AudioError::Corrupt { path: path.into(), reason: e.to_string() }),
        }
    }
    check_complete(path, &mono, rate, Tally { decoded: decoded_packets, bad: bad_packets, declared_frames, cut_short })?;
    Ok(Audio { samples: mono, sample_rate: rate, path: path.into() })
}

/// Runs ffmpeg on `path` with `pre` before `-i path` and `post` after it.
fn run_ffmpeg(path: &Path, pre: &[&str], post: &[&str]) -> Result<std::process::Output, AudioError> {
    crate::runtime::ffmpeg()
        .args(pre)
        .arg("-i")
        .arg(path)
        .args(post)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AudioError::FfmpegMissing { path: path.into() },
            _ => AudioError::Open { path: path.into(), source: e },
        })
}

fn decode_ffmpeg(path: &Path) -> Result<Audio, AudioError> {
    // No ffprobe needed: ffmpeg reports the native rate on stderr, and decodes without resampling.
    let rate = probe_rate_ffmpeg(path)?;
    let out = run_ffmpeg(path, &["-v", "error", "-nostdin"], &["-vn", "-ac", "1", "-f", "f32le", "-acodec", "pcm_f32le", "-"])?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        let line = msg.lines().last().unwrap_or("ffmpeg failed").trim().to_string();
        return Err(AudioError::Format { path: path.into(), reason: line });
    }
    let samples = out.stdout.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok(Audio { samples, sample_rate: rate, path: path.into() })
}

fn probe_rate_ffmpeg(path: &Path) -> Result<u32, AudioError> {
    let out = run_ffmpeg(path, &["-hide_banner", "-nostdin"], &[])?;
    let text = String::from_utf8_lossy(&out.stderr);
    for line in text.lines().filter(|l| l.contains("Audio:")) {
        for part in line.split(',') {
            if let Some(hz) = part.trim().strip_suffix(" Hz") {
                if let Ok(r) = hz.trim().parse::<u32>() {
                    return check_rate(path, r);
                }
            }
        }
    }
    let reason = if text.contains("Invalid data") { "invalid data" } else { "no audio stream" };
    Err(AudioError::Format { path: path.into(), reason: reason.into() })
}
