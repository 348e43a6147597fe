//! OpenPose-style limb map: each COCO-18 limb a translucent capsule in OpenPose's colour for it,
//! each joint a filled disc, on black. Sizes follow OpenPose's demo (stick width 4, joint radius
//! 4 at 512 px) and scale with the canvas.

use crate::pose::skeleton::LIMBS;
use crate::pose::{Frame, NUM_JOINTS};

/// OpenPose's demo colours, one per joint and (in the same order) per limb.
pub const COLORS: [[u8; 3]; NUM_JOINTS] = [
    [255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
    [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
    [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85],
];

/// An RGB8 image, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

/// The limb map of every frame of `seq` on a black `size`² canvas, one after another (T × size ×
/// size × 3 RGB bytes: the pose maps the learned renderer is trained on).
pub fn draw_all(seq: &crate::pose::Sequence, size: u32) -> Vec<u8> {
    let mut c = Canvas::black(size, size);
    let mut out = Vec::with_capacity(seq.len() * c.rgb.len());
    for f in &seq.frames {
        c.rgb.fill(0);
        draw_frame(f, seq.width, seq.height, &mut c);
        out.extend_from_slice(&c.rgb);
    }
    out
}

impl Canvas {
    pub fn black(width: u32, height: u32) -> Self {
        Canvas { width, height, rgb: vec![0; (width * height * 3) as usize] }
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 3) as usize;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Blends `color` with weight `alpha` into every pixel within `r` of the segment a–b.
    fn capsule(&mut self, a: [f32; 2], b: [f32; 2], r: f32, color: [u8; 3], alpha: f32) {
        let (x0, x1) = ((a[0].min(b[0]) - r).floor().max(0.0) as i64, (a[0].max(b[0]) + r).ceil() as i64);
        let (y0, y1) = ((a[1].min(b[1]) - r).floor().max(0.0) as i64, (a[1].max(b[1]) + r).ceil() as i64);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let l2 = dx * dx + dy * dy;
        for y in y0..=y1.min(self.height as i64 - 1) {
            for x in x0..=x1.min(self.width as i64 - 1) {
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                let t = if l2 > 0.0 { (((px - a[0]) * dx + (py - a[1]) * dy) / l2).clamp(0.0, 1.0) } else { 0.0 };
                let (qx, qy) = (a[0] + t * dx - px, a[1] + t * dy - py);
                if qx * qx + qy * qy <= r * r {
                    let i = ((y as u32 * self.width + x as u32) * 3) as usize;
                    for c in 0..3 {
                        let v = self.rgb[i + c] as f32 * (1.0 - alpha) + color[c] as f32 * alpha;
                        self.rgb[i + c] = v.round() as u8;
                    }
                }
            }
        }
    }
}

/// Draws one frame, whose coordinates are in a `src_w × src_h` space, scaled onto the canvas.
pub fn draw_frame(frame: &Frame, src_w: u32, src_h: u32, canvas: &mut Canvas) {
    let sx = canvas.width as f32 / src_w.max(1) as f32;
    let sy = canvas.height as f32 / src_h.max(1) as f32;
    let unit = canvas.width.min(canvas.height) as f32 / 512.0;
    let p = |j: usize| [frame[j][0] * sx, frame[j][1] * sy];
    for (li, &(a, b)) in LIMBS.iter().enumerate() {
        if frame[a][2] > 0.0 && frame[b][2] > 0.0 {
            canvas.capsule(p(a), p(b), 4.0 * unit, COLORS[li], 0.6);
        }
    }
    for j in 0..NUM_JOINTS {
        if frame[j][2] > 0.0 {
            canvas.capsule(p(j), p(j), 4.0 * unit, COLORS[j], 1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_limbs_in_openpose_colours_and_skips_missing() {
        let mut f: Frame = [[0.0; 3]; NUM_JOINTS];
        f[1] = [100.0, 100.0, 1.0]; // neck
        f[2] = [60.0, 100.0, 1.0]; // right shoulder
        f[5] = [140.0, 100.0, 0.0]; // left shoulder missing
        let mut c = Canvas::black(512, 512);
        draw_frame(&f, 512, 512, &mut c);
        // Middle of the neck–right-shoulder limb: limb 0's colour at 0.6 over black.
        assert_eq!(c.pixel(80, 100), [153, 0, 0]);
        // Joint disc of the neck in joint 1's colour.
        assert_eq!(c.pixel(100, 100), COLORS[1]);
        // The missing shoulder draws nothing.
        assert_eq!(c.pixel(130, 100), [0, 0, 0]);
    }
}

/// What `draw_file` draws; with the `cli` feature, also `choreo draw`'s flags (the doc comments
/// are their help).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct DrawConfig {
    /// A choreo pose file.
    #[cfg_attr(feature = "cli", arg(long))]
    pub poses: std::path::PathBuf,
    /// Frame index.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0))]
    pub frame: usize,
    /// Every frame, into one T×S×S×3 uint8 .npy (the pose maps the learned renderer is trained on).
    #[cfg_attr(feature = "cli", arg(long, conflicts_with = "frame"))]
    pub all: bool,
    /// Output PNG (.npy with --all).
    #[cfg_attr(feature = "cli", arg(long))]
    pub out: std::path::PathBuf,
    /// Width and height of the picture in pixels.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 512))]
    pub size: u32,
}

impl DrawConfig {
    /// Checks the size (a .npy of every frame holds at most 4096², one picture 8192²); the error
    /// names the setting.
    pub fn validate(&self) -> Result<(), crate::units::SettingError> {
        let max = if self.all { 4096 } else { 8192 };
        if self.size == 0 || self.size > max {
            return Err(crate::units::SettingError::new("size", format!("must be in 1..={max}")));
        }
        Ok(())
    }
}

/// Draws one frame of a pose file as a PNG limb map, or with `all` every frame into one
/// T×S×S×3 uint8 .npy (written atomically).
pub fn draw_file(cfg: &DrawConfig) -> Result<(), super::RenderError> {
    let seq = crate::pose::format::read(&cfg.poses).map_err(super::RenderError::Pose)?;
    if cfg.all {
        let s = cfg.size as usize;
        return Ok(crate::io::write_atomic(&cfg.out, &crate::io::npy_u8(&draw_all(&seq, cfg.size), &[seq.len(), s, s, 3]))?);
    }
    let Some(frame) = seq.frames.get(cfg.frame) else {
        let reason = format!("frame {} out of range (the file has {} frames)", cfg.frame, seq.len());
        return Err(super::RenderError::Invalid { path: cfg.poses.clone(), reason });
    };
    let mut c = Canvas::black(cfg.size, cfg.size);
    draw_frame(frame, seq.width, seq.height, &mut c);
    Ok(crate::io::write_png_rgb(&cfg.out, c.width, c.height, &c.rgb)?)
}
