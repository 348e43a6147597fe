//! `choreo tune --plot FILE.svg`: the music's onset envelope and beats above the dance's motion
//! speed and kinematic beats, before and after alignment, on one time axis. Plain SVG, no
//! dependencies.

use std::fmt::Write;

use crate::pose::{motion, Sequence};

/// One panel's curve and its event marks (seconds).
pub struct Track<'a> {
    pub title: &'a str,
    pub values: &'a [f32],
    /// Values per second.
    pub rate: f64,
    pub marks: &'a [f64],
    pub colour: &'a str,
}

/// Smoothed mean joint speed of a dance (the curve kinematic beats are read from) and its
/// kinematic beats in seconds.
pub fn motion(seq: &Sequence) -> (Vec<f32>, Vec<f64>) {
    let v = motion::gaussian(&motion::speed(&seq.frames), motion::SPEED_SMOOTH_SECS * seq.fps);
    let k = motion::stops(&seq.frames, seq.fps).into_iter().map(|t| t as f64 / seq.fps).collect();
    (v, k)
}

/// An SVG with one panel per track, sharing the time axis `0..secs`; the music beats `beats` are
/// drawn as faint vertical lines through every panel.
pub fn svg(title: &str, secs: f64, beats: &[f64], tracks: &[Track]) -> String {
    let (w, ph, left, top) = (1200.0f64, 140.0f64, 60.0f64, 40.0f64);
    let h = top + ph * tracks.len() as f64 + 40.0;
    let pw = w - left - 20.0;
    let x = |t: f64| left + pw * (t / secs.max(1e-9)).clamp(0.0, 1.0);
    let mut s = String::new();
    let _ = writeln!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/><text x="{left}" y="22" font-size="15">{}</text>"#, escape(title));
    for (i, tr) in tracks.iter().enumerate() {
        let y0 = top + ph * i as f64;
        let (py0, py1) = (y0 + 18.0, y0 + ph - 10.0);
        let _ = writeln!(s, r##"<rect x="{left}" y="{py0}" width="{pw}" height="{}" fill="none" stroke="#bbb"/>"##, py1 - py0);
        let _ = writeln!(s, r#"<text x="{left}" y="{}">{}</text>"#, y0 + 13.0, escape(tr.title));
        for b in beats {
            let _ = writeln!(s, r##"<line x1="{0:.1}" x2="{0:.1}" y1="{py0}" y2="{py1}" stroke="#e33" stroke-opacity="0.35"/>"##, x(*b));
        }
        let max = tr.values.iter().cloned().fold(0.0f32, f32::max).max(1e-9) as f64;
        let pts: Vec<String> = tr
            .values
            .iter()
            .enumerate()
            .map(|(k, v)| format!("{:.1},{:.1}", x(k as f64 / tr.rate), py1 - (py1 - py0) * (*v as f64 / max)))
            .collect();
        let _ = writeln!(s, r#"<polyline fill="none" stroke="{}" stroke-width="1" points="{}"/>"#, tr.colour, pts.join(" "));
        for m in tr.marks {
            let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"/>"#, x(*m), py1 - 3.0, tr.colour);
        }
    }
    let yb = top + ph * tracks.len() as f64 + 15.0;
    let step = if secs > 120.0 { 30.0 } else if secs > 30.0 { 10.0 } else { 2.0 };
    let mut t = 0.0;
    while t <= secs + 1e-9 {
        let _ = writeln!(s, r#"<text x="{:.1}" y="{yb}" text-anchor="middle">{t:.0}s</text>"#, x(t));
        t += step;
    }
    let _ = writeln!(s, r##"<text x="{left}" y="{}" fill="#e33">red lines: music beats; dots: onsets / kinematic beats (speed minima)</text>"##, yb + 18.0);
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_track_and_beat() {
        let v = [0.0f32, 1.0, 0.5, 2.0];
        let tracks = [
            Track { title: "a<b", values: &v, rate: 2.0, marks: &[0.5], colour: "blue" },
            Track { title: "c", values: &v, rate: 2.0, marks: &[], colour: "green" },
        ];
        let s = svg("t", 2.0, &[1.0, 1.5], &tracks);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 2);
        assert_eq!(s.matches("<line ").count(), 4, "each beat in each panel");
        assert_eq!(s.matches("<circle").count(), 1);
        assert!(s.contains("a&lt;b"));
    }
}
