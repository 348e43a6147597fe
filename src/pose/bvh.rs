//! BVH motion files (Biovision hierarchy): reader with forward kinematics, mapping of any humanoid
//! BVH skeleton onto [`humanoid18`](super::skeleton3d), and a writer that solves joint rotations
//! from 3-D joint positions.
//!
//! ## Reading
//! `HIERARCHY` (one `ROOT`, `JOINT`s, `End Site`s, `OFFSET`, `CHANNELS` with position and rotation
//! channels in any order) then `MOTION`, `Frames:`, `Frame Time:` and one line of channel values
//! per frame. A joint's rotation is the product of its rotation channels in the order listed
//! (intrinsic: `Zrotation Xrotation Yrotation` is `Rz·Rx·Ry`, degrees). Position channels give the
//! joint's translation from its parent, replacing its `OFFSET` on that axis (the root's offset is
//! 0 in practically every file; Blender reads them the same way). Every error is one line naming
//! the file and the line: a broken hierarchy, no `MOTION`, zero frames, a frame line with the wrong
//! number of values, NaN or infinite values, a frame count larger than the lines that follow
//! (checked before anything is allocated).
//!
//! ## Mapping onto humanoid18 ([`to_humanoid18`])
//! Joint names are compared after dropping a namespace prefix (`mixamorig:Hips` → `Hips`),
//! case and the separators `_ . - space`. Sides are `Left…`/`Right…`, `…Left`/`…Right`, `L…`/`R…`
//! (`LHand`, `lfoot`), `…_L`/`….R`. Accepted names per humanoid18 joint (side prefix left out):
//! - `Hips`: `Hips`, `Hip`, `Pelvis`, `Root`; else the BVH root.
//! - `Spine` (the chest): of the joints on the hierarchy path from `Hips` to `Neck`, the one whose
//!   rest position is nearest the middle of the two (Mixamo `Spine1`, CMU `Spine`); when there is
//!   none, the midpoint of `Hips` and `Neck`.
//! - `Neck`: `Neck`, `Neck1`, `neck_01` (the first, nearest the root, when there are several); else the
//!   midpoint of the shoulders. `Head`: `Head`.
//! - `…Arm` (shoulder joint): `Arm`, `UpperArm`, `UpArm`, `Humerus`. Not `…Shoulder`, which is the
//!   clavicle in Mixamo, CMU and Unity rigs.
//! - `…ForeArm` (elbow): `ForeArm`, `LowerArm`, `LowArm`, `Radius`, `Elbow`.
//! - `…Hand` (wrist): `Hand`, `Wrist`.
//! - `…UpLeg` (hip joint): `UpLeg`, `UpperLeg`, `Thigh`, `Femur`, `Hip` (`LHipJoint`, CMU's pelvis
//!   bone, is not a hip joint).
//! - `…Leg` (knee): `Leg`, `LowerLeg`, `LowLeg`, `Shin`, `Tibia`, `Calf`, `Knee`.
//! - `…Foot` (ankle): `Foot`, `Ankle`. `…ToeBase`: `ToeBase`, `Toe`, `Toes`, `Ball`; else the
//!   foot's `End Site`.
//! When several joints match, the one nearest the root (first in the file) is taken. Joints that
//! match nothing (fingers, clavicles, extra spine joints) are ignored; a humanoid18 joint that
//! nothing matches is an error naming it and the accepted names.
//!
//! **Units** are guessed from the rest skeleton's height `H` (bone lengths from `Hips` up to `Head`
//! plus from `Hips` down to a foot; about 155 cm for an adult): `H` < 3 → metres, 30 ≤ `H` < 90 →
//! inches, 90 ≤ `H` < 300 → centimetres; anything else is scaled to `H` = 155 cm. **Up** is y, as
//! BVH prescribes, unless the rest skeleton's `Hips` → `Head` direction is mostly +z, in which case
//! the file is z-up and is turned to y-up (`(x, y, z)` → `(x, z, −y)`).
//!
//! ## Writing ([`write`], [`to_bvh_string`])
//! One hierarchy (21 joints; rest pose a T-pose facing +z, y up, left = +x, centimetres):
//! ```text
//! Hips ─ LowerBack ─ Spine ─ Neck ┬ Head ─ End Site
//!   │                             ├ LeftShoulder ─ LeftArm ─ LeftForeArm ─ LeftHand ─ End Site
//!   │                             └ RightShoulder ─ RightArm ─ RightForeArm ─ RightHand ─ End Site
//!   ├ LeftUpLeg ─ LeftLeg ─ LeftFoot ─ LeftToeBase ─ End Site
//!   └ RightUpLeg ─ RightLeg ─ RightFoot ─ RightToeBase ─ End Site
//! ```
//! The 18 humanoid18 joints keep their names and positions. `LowerBack` (CMU's name) sits on
//! `Hips` and `LeftShoulder`/`RightShoulder` (the clavicles, Mixamo's and Unity's name) on `Neck`,
//! with zero offsets: they let the pelvis, the spine, the head and each clavicle turn
//! independently, as they do in the data (one rotation at `Hips` cannot point both the hip line
//! and the spine, whose angle varies by ±5°, nor one at `Neck` both the shoulders and the head,
//! ±10°). Bone offsets are the median bone lengths over the dance along the rest direction: spine,
//! neck and head up, arms out sideways, legs down, feet forward; End Sites 10 cm above the head,
//! 8 cm beyond the wrists, 5 cm in front of the toes.
//!
//! Channels: the root `Xposition Yposition Zposition Zrotation Xrotation Yrotation`, every other
//! joint `Zrotation Xrotation Yrotation` (local rotation `Rz·Rx·Ry`, degrees). Root translation is
//! the `Hips` position. Rotations are solved joint by joint from the root, each from the position
//! forward kinematics has reached so far towards its child's target position (so a bone-length
//! difference does not carry down the chain), plus a twist reference:
//! - `Hips`: the hip line exactly, twisted so that the spine leans its way.
//! - `LowerBack`: the spine, twisted with the hip line; `Spine` (chest) and `Neck`: towards the
//!   neck and the head, twisted with the shoulder line.
//! - `…UpLeg` (thigh): towards the knee, twisted so that the foot (heel → toe) and the knee's bend
//!   point forward; `…Arm`: towards the elbow, twisted so that the forearm's bend is forward.
//! - `…Shoulder`, `…ForeArm`, `…Leg`, `…Foot`: the smallest rotation from the parent's frame
//!   (elbow and knee become hinges); `Head`, `…Hand`, `…ToeBase`: the parent's orientation.
//! Each twist reference is blended with a little (0.3) of the twist the joint had on the previous
//! frame, so that a reference that fades (a straight limb) or turns away from the parent's frame
//! (a foot or an elbow bend pointing backwards) keeps the twist continuous instead of flipping it
//! (when it vanishes altogether, the parent's frame is taken). Euler
//! angles are unwrapped over time (each frame takes, of the two equivalent `ZXY` triples and their
//! 360° turns, the one nearest the previous frame), so nothing flips between frames.
//!
//! Forward kinematics of the written file reproduces the joints up to the variation of the
//! dance's own bone lengths (fixed offsets cannot follow a bone that stretches); see the README
//! for the measured error.

use std::path::Path;

use super::skeleton3d::{Frame3, NUM_JOINTS3};
use super::{PoseError, Sequence};

/// Largest BVH file read, bytes.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Largest number of joints (End Sites included) in a hierarchy.
pub const MAX_JOINTS: usize = 1024;
/// Largest magnitude of an OFFSET or channel value.
pub const MAX_VALUE: f64 = 1.0e7;

type V3 = [f64; 3];
type M3 = [[f64; 3]; 3];

/// One BVH channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Xposition,
    Yposition,
    Zposition,
    Xrotation,
    Yrotation,
    Zrotation,
}

impl Channel {
    fn parse(s: &str) -> Option<Channel> {
        Some(match s.to_ascii_lowercase().as_str() {
            "xposition" => Channel::Xposition,
            "yposition" => Channel::Yposition,
            "zposition" => Channel::Zposition,
            "xrotation" => Channel::Xrotation,
            "yrotation" => Channel::Yrotation,
            "zrotation" => Channel::Zrotation,
            _ => return None,
        })
    }
}

/// A joint or End Site of a BVH hierarchy. Parents come before their children.
#[derive(Debug, Clone, PartialEq)]
pub struct BvhJoint {
    /// Joint name; End Sites are named `<parent> End Site`.
    pub name: String,
    pub parent: Option<usize>,
    pub offset: V3,
    pub channels: Vec<Channel>,
    /// Index of its first channel in a frame's values.
    pub first_channel: usize,
    pub end_site: bool,
    /// Line of the file where it is declared (1-based).
    pub line: usize,
}

/// A parsed BVH file.
#[derive(Debug, Clone, PartialEq)]
pub struct Bvh {
    pub joints: Vec<BvhJoint>,
    pub frame_time: f64,
    /// Channel values per frame.
    pub num_channels: usize,
    pub frames: usize,
    /// `frames × num_channels` values, frame-major.
    pub motion: Vec<f64>,
    /// Line of `HIERARCHY` (errors about the skeleton as a whole name it).
    pub hierarchy_line: usize,
}

fn err(path: &Path, line: usize, msg: impl std::fmt::Display) -> PoseError {
    PoseError::parse(path, format!("line {line}: {msg}"))
}

/// Reads and parses a BVH file.
pub fn read(path: &Path) -> Result<Bvh, PoseError> {
    let meta = std::fs::metadata(path).map_err(|e| PoseError::io(path, e))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(PoseError::parse(path, format!("BVH file of {} bytes is larger than {MAX_FILE_BYTES} bytes", meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| PoseError::io(path, e))?;
    if bytes.is_empty() {
        return Err(PoseError::parse(path, "file is empty"));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| PoseError::parse(path, format!("not a text BVH file (invalid UTF-8 at byte {})", e.valid_up_to())))?;
    parse(text, path)
}

fn parse_num(path: &Path, line: usize, tok: Option<&str>, what: &str) -> Result<f64, PoseError> {
    let tok = tok.ok_or_else(|| err(path, line, format!("expected {what}, found end of file")))?;
    let v: f64 = tok.parse().map_err(|_| err(path, line, format!("expected {what}, found {tok:?}")))?;
    if !v.is_finite() {
        return Err(err(path, line, format!("non-finite {what} (NaN or infinity)")));
    }
    if v.abs() > MAX_VALUE {
        return Err(err(path, line, format!("{what} {v} is out of range (|v| ≤ {MAX_VALUE})")));
    }
    Ok(v)
}

/// Parses BVH text; `path` is only used in errors.
pub fn parse(text: &str, path: &Path) -> Result<Bvh, PoseError> {
    let (toks, motion_line) = hierarchy_tokens(text, path)?;
    let last_line = text.lines().count().max(1);
    let (hline, joints, num_channels) = parse_hierarchy(&toks, motion_line, last_line, path)?;
    let Some(mline) = motion_line else {
        return Err(err(path, last_line, "no MOTION section"));
    };
    // The lines after MOTION: "Frames: N", "Frame Time: t", then the frame lines.
    let mut lines = text.lines().enumerate().skip(mline).map(|(i, l)| (i + 1, l));
    let header = parse_motion_header(&mut lines, path, mline)?;
    let motion = parse_frames(lines, path, &header, num_channels, text.len())?;
    Ok(Bvh { joints, frame_time: header.frame_time, num_channels, frames: header.frames, motion, hierarchy_line: hline })
}

/// Hierarchy tokens with their line numbers, up to MOTION, and the line of MOTION.
fn hierarchy_tokens<'a>(text: &'a str, path: &Path) -> Result<(Vec<(usize, &'a str)>, Option<usize>), PoseError> {
    let mut toks: Vec<(usize, &str)> = Vec::new();
    for (ln, l) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        for t in l.split_whitespace() {
            if t == "MOTION" {
                // The rest of this line (rare) is ignored: Frames: comes on the next lines.
                return Ok((toks, Some(ln)));
            }
            toks.push((ln, t));
            if toks.len() > MAX_JOINTS * 16 {
                return Err(err(path, ln, format!("hierarchy too large (more than {MAX_JOINTS} joints)")));
            }
        }
    }
    Ok((toks, None))
}

/// Parses the hierarchy tokens: returns the line of `HIERARCHY`, the joints and the number of
/// channels per frame.
fn parse_hierarchy(toks: &[(usize, &str)], motion_line: Option<usize>, last_line: usize, path: &Path) -> Result<(usize, Vec<BvhJoint>, usize), PoseError> {
    let mut it = toks.iter().copied();
    let (hline, first) = it.next().ok_or_else(|| err(path, 1, "not a BVH file: expected HIERARCHY"))?;
    if first != "HIERARCHY" {
        return Err(err(path, hline, format!("not a BVH file: expected HIERARCHY, found {first:?}")));
    }
    let mut p = HierarchyParser { path, toks: it, joints: Vec::new(), stack: Vec::new(), num_channels: 0 };
    let mut done = false;
    while let Some((ln, t)) = p.toks.next() {
        if done {
            return Err(err(path, ln, format!("unexpected {t:?} after the hierarchy (one ROOT per file; MOTION expected)")));
        }
        match t {
            "ROOT" | "JOINT" | "End" => p.joint(ln, t)?,
            "OFFSET" => p.offset(ln)?,
            "CHANNELS" => p.channels(ln)?,
            "}" => done = p.close(ln)?,
            other => return Err(err(path, ln, format!("unexpected {other:?} in the hierarchy"))),
        }
    }
    p.finish(hline, motion_line.unwrap_or(last_line))?;
    Ok((hline, p.joints, p.num_channels))
}

/// State of the hierarchy parser: one method per keyword.
struct HierarchyParser<'a> {
    path: &'a Path,
    toks: std::iter::Copied<std::slice::Iter<'a, (usize, &'a str)>>,
    joints: Vec<BvhJoint>,
    /// Open joints: (joint, OFFSET seen).
    stack: Vec<(usize, bool)>,
    num_channels: usize,
}

impl HierarchyParser<'_> {
    fn err(&self, line: usize, msg: impl std::fmt::Display) -> PoseError {
        err(self.path, line, msg)
    }

    /// The name after `ROOT`/`JOINT`, or `<parent> End Site` after `End`; and whether it is an End Site.
    fn joint_name(&mut self, ln: usize, t: &str) -> Result<(String, bool), PoseError> {
        if t == "End" {
            match self.toks.next() {
                Some((_, "Site")) => {}
                other => return Err(self.err(other.map_or(ln, |o| o.0), "expected \"End Site\"")),
            }
            let p = self.stack.last().ok_or_else(|| self.err(ln, "End Site outside a joint"))?.0;
            return Ok((format!("{} End Site", self.joints[p].name), true));
        }
        let (nl, name) = self.toks.next().ok_or_else(|| self.err(ln, format!("{t} without a name")))?;
        if name == "{" || name == "}" {
            return Err(self.err(nl, format!("{t} without a name")));
        }
        Ok((name.to_string(), false))
    }

    /// `ROOT name {`, `JOINT name {` or `End Site {` (keyword `t` on line `ln`).
    fn joint(&mut self, ln: usize, t: &str) -> Result<(), PoseError> {
        let (name, end_site) = self.joint_name(ln, t)?;
        if t == "ROOT" && (!self.stack.is_empty() || !self.joints.is_empty()) {
            return Err(self.err(ln, "ROOT inside the hierarchy (one ROOT per file)"));
        }
        if t != "ROOT" && self.stack.is_empty() {
            return Err(self.err(ln, format!("{t} outside ROOT")));
        }
        if let Some(&(p, _)) = self.stack.last() {
            if self.joints[p].end_site {
                return Err(self.err(ln, "an End Site has no children"));
            }
        }
        match self.toks.next() {
            Some((_, "{")) => {}
            other => return Err(self.err(other.map_or(ln, |o| o.0), format!("expected '{{' after {t} {name}"))),
        }
        if self.joints.len() >= MAX_JOINTS {
            return Err(self.err(ln, format!("more than {MAX_JOINTS} joints")));
        }
        let parent = self.stack.last().map(|s| s.0);
        self.joints.push(BvhJoint { name, parent, offset: [0.0; 3], channels: Vec::new(), first_channel: self.num_channels, end_site, line: ln });
        self.stack.push((self.joints.len() - 1, false));
        Ok(())
    }

    /// `OFFSET x y z`.
    fn offset(&mut self, ln: usize) -> Result<(), PoseError> {
        let path = self.path;
        let top = self.stack.last_mut().ok_or_else(|| err(path, ln, "OFFSET outside a joint"))?;
        if top.1 {
            return Err(err(path, ln, "second OFFSET in one joint"));
        }
        top.1 = true;
        let j = top.0;
        for k in 0..3 {
            let (l, tok) = self.toks.next().map_or((ln, None), |(l, t)| (l, Some(t)));
            self.joints[j].offset[k] = parse_num(path, l, tok, "an OFFSET value")?;
        }
        Ok(())
    }

    /// `CHANNELS n name…`.
    fn channels(&mut self, ln: usize) -> Result<(), PoseError> {
        let &(j, _) = self.stack.last().ok_or_else(|| self.err(ln, "CHANNELS outside a joint"))?;
        if self.joints[j].end_site {
            return Err(self.err(ln, "an End Site has no CHANNELS"));
        }
        if !self.joints[j].channels.is_empty() {
            return Err(self.err(ln, "second CHANNELS in one joint"));
        }
        let (nl, ntok) = self.toks.next().ok_or_else(|| self.err(ln, "CHANNELS without a count"))?;
        let n: usize = ntok.parse().ok().filter(|n| *n <= 6).ok_or_else(|| self.err(nl, format!("CHANNELS count must be 0..=6, found {ntok:?}")))?;
        for _ in 0..n {
            let (cl, c) = self.toks.next().ok_or_else(|| self.err(ln, "CHANNELS list cut short"))?;
            let ch = Channel::parse(c).ok_or_else(|| self.err(cl, format!("unknown channel {c:?} (Xposition … Zrotation; {n} listed)")))?;
            if self.joints[j].channels.contains(&ch) {
                return Err(self.err(cl, format!("channel {c} listed twice")));
            }
            self.joints[j].channels.push(ch);
        }
        self.joints[j].first_channel = self.num_channels;
        self.num_channels += n;
        Ok(())
    }

    /// `}`: closes a joint; true when it closes the root (the hierarchy is done).
    fn close(&mut self, ln: usize) -> Result<bool, PoseError> {
        let (j, seen) = self.stack.pop().ok_or_else(|| self.err(ln, "unmatched '}'"))?;
        if !seen {
            return Err(self.err(ln, format!("{} has no OFFSET", self.joints[j].name)));
        }
        Ok(self.stack.is_empty())
    }

    /// Checks at the end of the hierarchy (`end_line`: the line of MOTION, else the last line).
    fn finish(&self, hline: usize, end_line: usize) -> Result<(), PoseError> {
        if let Some(&(j, _)) = self.stack.last() {
            return Err(self.err(end_line, format!("hierarchy ends inside {} (missing '}}')", self.joints[j].name)));
        }
        if self.joints.is_empty() {
            return Err(self.err(hline, "HIERARCHY without a ROOT"));
        }
        if self.num_channels == 0 {
            return Err(self.err(self.joints[0].line, "the hierarchy has no CHANNELS"));
        }
        Ok(())
    }
}

/// The MOTION header.
struct MotionHeader {
    frames: usize,
    frame_time: f64,
    /// Line of `Frames:`.
    frames_line: usize,
}

/// The next header token, which must be `want`; returns its line. `at`: the line named when
/// there is none.
fn expect_token(path: &Path, tok: Option<(usize, &str)>, want: &str, at: usize) -> Result<usize, PoseError> {
    match tok {
        Some((l, t)) if t == want => Ok(l),
        Some((l, t)) => Err(err(path, l, format!("expected {want:?}, found {t:?}"))),
        None => Err(err(path, at, format!("MOTION without {want:?}"))),
    }
}

/// Parses `Frames: N` and `Frame Time: t` from the lines after MOTION (`mline`), leaving `lines`
/// at the first frame line.
fn parse_motion_header<'a>(lines: &mut impl Iterator<Item = (usize, &'a str)>, path: &Path, mline: usize) -> Result<MotionHeader, PoseError> {
    let mut header: Vec<(usize, &str)> = Vec::new();
    let mut header_done = false;
    for (ln, l) in lines.by_ref() {
        header.extend(l.split_whitespace().map(|t| (ln, t)));
        if l.trim_start().starts_with("Frame Time") {
            header_done = true;
            break;
        }
        if header.len() > 8 {
            break;
        }
    }
    let mut h = header.iter().copied();
    let fl = expect_token(path, h.next(), "Frames:", mline)?;
    let (nl, ntok) = h.next().ok_or_else(|| err(path, fl, "Frames: without a count"))?;
    let frames: usize = ntok.parse().map_err(|_| err(path, nl, format!("Frames: must be a whole number, found {ntok:?}")))?;
    let tl = expect_token(path, h.next(), "Frame", fl)?;
    expect_token(path, h.next(), "Time:", tl)?;
    let (ftl, fttok) = h.next().map_or((tl, None), |(l, t)| (l, Some(t)));
    let frame_time = parse_num(path, ftl, fttok, "a Frame Time")?;
    let fps = if frame_time > 0.0 { 1.0 / frame_time } else { f64::INFINITY };
    if !(super::format::FPS_MIN..=super::format::FPS_MAX).contains(&fps) {
        return Err(err(path, ftl, format!("Frame Time {frame_time} s is not a frame rate of 1..=1000 fps")));
    }
    if frames == 0 {
        return Err(err(path, fl, "zero frames (Frames: 0)"));
    }
    if !header_done {
        return Err(err(path, tl, "MOTION without \"Frame Time:\""));
    }
    Ok(MotionHeader { frames, frame_time, frames_line: fl })
}

/// Parses the frame lines (blank lines skipped) into `frames × num_channels` values, after
/// checking that the file holds that many (before allocating; `text_len`: the file's length).
fn parse_frames<'a>(lines: impl Iterator<Item = (usize, &'a str)> + Clone, path: &Path, header: &MotionHeader, num_channels: usize, text_len: usize) -> Result<Vec<f64>, PoseError> {
    let (frames, fl) = (header.frames, header.frames_line);
    // Size check before allocating: one line per frame must follow.
    let remaining = lines.clone().filter(|(_, l)| !l.trim().is_empty()).count();
    if frames > remaining {
        return Err(err(path, fl, format!("Frames: {frames}, but only {remaining} frame lines follow (file cut short?)")));
    }
    let total = frames.checked_mul(num_channels).filter(|n| *n <= text_len).ok_or_else(|| err(path, fl, format!("Frames: {frames} × {num_channels} channels is larger than the file")))?;
    let mut motion = Vec::with_capacity(total);
    let mut t = 0usize;
    for (ln, l) in lines {
        if l.trim().is_empty() {
            continue;
        }
        if t == frames {
            return Err(err(path, ln, format!("more frame lines than Frames: {frames}")));
        }
        parse_frame_line(path, ln, l, t, num_channels, &mut motion)?;
        t += 1;
    }
    debug_assert_eq!(t, frames);
    Ok(motion)
}

/// Appends the `num_channels` values of frame `t` (line `ln`, text `l`) to `motion`.
fn parse_frame_line(path: &Path, ln: usize, l: &str, t: usize, num_channels: usize, motion: &mut Vec<f64>) -> Result<(), PoseError> {
    let before = motion.len();
    for tok in l.split_whitespace() {
        if motion.len() - before == num_channels {
            return Err(err(path, ln, format!("expected {num_channels} channel values, found more")));
        }
        let v: f64 = tok.parse().map_err(|_| err(path, ln, format!("expected a number, found {tok:?}")))?;
        if !v.is_finite() {
            return Err(err(path, ln, format!("non-finite channel value (NaN or infinity) in frame {t}")));
        }
        if v.abs() > MAX_VALUE {
            return Err(err(path, ln, format!("channel value {v} in frame {t} is out of range (|v| ≤ {MAX_VALUE})")));
        }
        motion.push(v);
    }
    if motion.len() - before != num_channels {
        return Err(err(path, ln, format!("expected {num_channels} channel values, found {}", motion.len() - before)));
    }
    Ok(())
}

// ---- small 3-D algebra ----

fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: V3, b: V3) -> V3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}
fn unit(a: V3) -> Option<V3> {
    let n = norm(a);
    (n > 1e-9).then(|| scale(a, 1.0 / n))
}
fn unit_or_zero(a: V3) -> V3 {
    unit(a).unwrap_or([0.0; 3])
}
/// Component of `a` perpendicular to the unit vector `d`.
fn perp(a: V3, d: V3) -> V3 {
    sub(a, scale(d, dot(a, d)))
}
const IDENTITY: M3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
fn mul(a: &M3, b: &M3) -> M3 {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}
fn apply(m: &M3, v: V3) -> V3 {
    std::array::from_fn(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}
fn transpose(m: &M3) -> M3 {
    std::array::from_fn(|i| std::array::from_fn(|j| m[j][i]))
}
/// Rotation about axis `k` (0 x, 1 y, 2 z) by `deg` degrees.
fn axis_rot(k: usize, deg: f64) -> M3 {
    let (s, c) = deg.to_radians().sin_cos();
    match k {
        0 => [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]],
        1 => [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]],
        _ => [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]],
    }
}
/// Rotation taking the unit vector `u` to the unit vector `v` by the smallest angle; `fallback`
/// (perpendicular to `u`) is the axis when they are opposite.
fn shortest_arc(u: V3, v: V3, fallback: V3) -> M3 {
    let c = dot(u, v).clamp(-1.0, 1.0);
    let axis = cross(u, v);
    let s = norm(axis);
    let (k, angle) = if s < 1e-12 {
        if c > 0.0 {
            return IDENTITY;
        }
        (unit(fallback).unwrap_or([0.0, 1.0, 0.0]), std::f64::consts::PI)
    } else {
        (scale(axis, 1.0 / s), s.atan2(c))
    };
    // Rodrigues.
    let (sn, cs) = angle.sin_cos();
    let kx: M3 = [[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]];
    let kk = mul(&kx, &kx);
    std::array::from_fn(|i| std::array::from_fn(|j| IDENTITY[i][j] + sn * kx[i][j] + (1.0 - cs) * kk[i][j]))
}

impl Bvh {
    /// Frame rate: `1 / Frame Time`, snapped to the nearest 0.001 fps when within a millionth of it
    /// (`Frame Time: 0.03333333` is 30 fps, so that resampling to 30 fps keeps every frame).
    pub fn fps(&self) -> f64 {
        let fps = 1.0 / self.frame_time;
        let r = (fps * 1000.0).round() / 1000.0;
        if (fps - r).abs() <= 1e-6 * fps {
            r
        } else {
            fps
        }
    }

    fn local(&self, j: usize, values: Option<&[f64]>) -> (V3, M3) {
        let jt = &self.joints[j];
        let mut t = jt.offset;
        let mut r = IDENTITY;
        if let Some(v) = values {
            for (k, ch) in jt.channels.iter().enumerate() {
                let x = v[jt.first_channel + k];
                match ch {
                    Channel::Xposition => t[0] = x,
                    Channel::Yposition => t[1] = x,
                    Channel::Zposition => t[2] = x,
                    Channel::Xrotation => r = mul(&r, &axis_rot(0, x)),
                    Channel::Yrotation => r = mul(&r, &axis_rot(1, x)),
                    Channel::Zrotation => r = mul(&r, &axis_rot(2, x)),
                }
            }
        }
        (t, r)
    }

    fn fk(&self, values: Option<&[f64]>) -> Vec<V3> {
        let mut pos = vec![[0.0; 3]; self.joints.len()];
        let mut rot = vec![IDENTITY; self.joints.len()];
        for j in 0..self.joints.len() {
            let (t, r) = self.local(j, values);
            match self.joints[j].parent {
                None => {
                    pos[j] = t;
                    rot[j] = r;
                }
                Some(p) => {
                    pos[j] = add(pos[p], apply(&rot[p], t));
                    rot[j] = mul(&rot[p], &r);
                }
            }
        }
        pos
    }

    /// World positions of every joint and End Site at frame `t` (forward kinematics), file units.
    pub fn positions(&self, t: usize) -> Vec<V3> {
        self.fk(Some(&self.motion[t * self.num_channels..(t + 1) * self.num_channels]))
    }

    /// World positions in the rest pose (offsets only, root at its offset).
    pub fn rest_positions(&self) -> Vec<V3> {
        self.fk(None)
    }
}

// ---- mapping onto humanoid18 ----

/// Name without namespace, case or separators.
fn normalize_name(name: &str) -> String {
    let base = name.rsplit(':').next().unwrap_or(name);
    base.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// Side (`Some('l' | 'r')`) and the rest of a normalised name, from the raw name's forms.
fn side_and_part(raw: &str) -> (Option<char>, String) {
    let base = raw.rsplit(':').next().unwrap_or(raw);
    let n = normalize_name(base);
    for (w, s) in [("left", 'l'), ("right", 'r')] {
        if let Some(rest) = n.strip_prefix(w) {
            return (Some(s), rest.to_string());
        }
        if let Some(rest) = n.strip_suffix(w) {
            return (Some(s), rest.to_string());
        }
    }
    let lower = base.to_ascii_lowercase();
    for (s, c) in [("l", 'l'), ("r", 'r')] {
        for sep in ['_', '.', '-', ' '] {
            if lower.starts_with(&format!("{s}{sep}")) || lower.ends_with(&format!("{sep}{s}")) {
                let rest = if lower.starts_with(&format!("{s}{sep}")) { &n[1..] } else { &n[..n.len() - 1] };
                return (Some(c), rest.to_string());
            }
        }
    }
    // `LHand`, `lfoot`: a single l/r before a known limb part.
    if n.len() > 1 && (n.starts_with('l') || n.starts_with('r')) && limb_part(&n[1..]).is_some() {
        return (Some(n.as_bytes()[0] as char), n[1..].to_string());
    }
    (None, n)
}

/// Which limb joint (0 Arm, 1 ForeArm, 2 Hand, 3 UpLeg, 4 Leg, 5 Foot, 6 ToeBase) a side-less
/// name part is.
fn limb_part(p: &str) -> Option<usize> {
    const PARTS: [&[&str]; 7] = [
        &["arm", "upperarm", "uparm", "humerus"],
        &["forearm", "lowerarm", "lowarm", "radius", "elbow"],
        &["hand", "wrist"],
        &["upleg", "upperleg", "thigh", "femur", "hip"],
        &["leg", "lowerleg", "lowleg", "shin", "tibia", "calf", "knee"],
        &["foot", "ankle"],
        &["toebase", "toe", "toes", "ball"],
    ];
    PARTS.iter().position(|names| names.contains(&p))
}

/// humanoid18 index of a limb part on a side.
fn limb_joint(side: char, part: usize) -> usize {
    use super::skeleton3d::Joint3 as J;
    let l = [J::LeftArm, J::LeftForeArm, J::LeftHand, J::LeftUpLeg, J::LeftLeg, J::LeftFoot, J::LeftToeBase];
    let r = [J::RightArm, J::RightForeArm, J::RightHand, J::RightUpLeg, J::RightLeg, J::RightFoot, J::RightToeBase];
    (if side == 'l' { l[part] } else { r[part] }) as usize
}

/// Where each humanoid18 joint comes from in a BVH skeleton.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Src {
    Joint(usize),
    Mid(usize, usize),
}

fn accepted_names(j: usize) -> &'static str {
    match j {
        0 => "Hips, Hip, Pelvis, Root",
        1 => "a joint between Hips and Neck",
        2 => "Neck, or both shoulders",
        3 => "Head",
        4 | 7 => "[Left|Right]Arm, UpperArm, UpArm, Humerus",
        5 | 8 => "[Left|Right]ForeArm, LowerArm, LowArm, Radius, Elbow",
        6 | 9 => "[Left|Right]Hand, Wrist",
        10 | 14 => "[Left|Right]UpLeg, UpperLeg, Thigh, Femur, Hip",
        11 | 15 => "[Left|Right]Leg, LowerLeg, LowLeg, Shin, Tibia, Calf, Knee",
        12 | 16 => "[Left|Right]Foot, Ankle",
        _ => "[Left|Right]ToeBase, Toe, Toes, Ball, or the foot's End Site",
    }
}

/// The BVH joint each humanoid18 joint is named as (the first in the file when several match);
/// `Hips` defaults to the root, a toe to its foot's End Site.
fn find_named_joints(bvh: &Bvh) -> [Option<usize>; NUM_JOINTS3] {
    use super::skeleton3d::Joint3 as J;
    let mut found: [Option<usize>; NUM_JOINTS3] = [None; NUM_JOINTS3];
    for (i, jt) in bvh.joints.iter().enumerate() {
        if jt.end_site {
            continue;
        }
        let (side, part) = side_and_part(&jt.name);
        let target = match (side, part.as_str()) {
            (None, "hips" | "hip" | "pelvis" | "root") => Some(J::Hips as usize),
            (None, p) if p.strip_prefix("neck").is_some_and(|d| d.chars().all(|c| c.is_ascii_digit())) => Some(J::Neck as usize),
            (None, "head") => Some(J::Head as usize),
            (Some(s), p) => limb_part(p).map(|k| limb_joint(s, k)),
            _ => None,
        };
        if let Some(t) = target {
            if found[t].is_none() {
                found[t] = Some(i);
            }
        }
    }
    if found[J::Hips as usize].is_none() {
        found[J::Hips as usize] = Some(0);
    }
    // Toes: the foot's End Site when there is no toe joint.
    for (foot, toe) in [(J::LeftFoot as usize, J::LeftToeBase as usize), (J::RightFoot as usize, J::RightToeBase as usize)] {
        if let (None, Some(f)) = (found[toe], found[foot]) {
            found[toe] = bvh.joints.iter().position(|j| j.parent == Some(f) && j.end_site);
        }
    }
    found
}

/// The chest: the joint on the path Hips → Neck nearest the middle of the two, at rest, that is
/// not already mapped; none when the path has no such joint.
fn chest_joint(bvh: &Bvh, found: &[Option<usize>; NUM_JOINTS3], hips: usize, neck: Src) -> Option<usize> {
    let rest = bvh.rest_positions();
    let at = |s: Src| match s {
        Src::Joint(i) => rest[i],
        Src::Mid(a, b) => scale(add(rest[a], rest[b]), 0.5),
    };
    let middle = scale(add(rest[hips], at(neck)), 0.5);
    let start = match neck {
        Src::Joint(n) => Some(n),
        // Without a neck joint: the path from a shoulder's ancestors.
        Src::Mid(a, _) => Some(a),
    };
    let mut best: Option<(f64, usize)> = None;
    let mut cur = start.and_then(|s| bvh.joints[s].parent);
    while let Some(c) = cur {
        if c == hips {
            break;
        }
        if found.contains(&Some(c)) {
            cur = bvh.joints[c].parent;
            continue;
        }
        let d = norm(sub(rest[c], middle));
        if best.is_none_or(|(bd, _)| d <= bd) {
            best = Some((d, c));
        }
        cur = bvh.joints[c].parent;
    }
    best.map(|(_, c)| c)
}

fn missing_joint(path: &Path, line: usize, j: usize) -> PoseError {
    err(path, line, format!("no joint of this skeleton maps to humanoid18 {} (accepted names: {})", super::skeleton3d::JOINT3_NAMES[j], accepted_names(j)))
}

fn map_skeleton(bvh: &Bvh, path: &Path) -> Result<[Src; NUM_JOINTS3], PoseError> {
    use super::skeleton3d::Joint3 as J;
    let found = find_named_joints(bvh);
    let line = bvh.hierarchy_line;
    let mut src = [Src::Joint(0); NUM_JOINTS3];
    for j in 0..NUM_JOINTS3 {
        if j == J::Spine as usize || j == J::Neck as usize {
            continue;
        }
        src[j] = Src::Joint(found[j].ok_or_else(|| missing_joint(path, line, j))?);
    }
    let hips = found[J::Hips as usize].unwrap_or(0);
    let neck = match found[J::Neck as usize] {
        Some(n) => Src::Joint(n),
        None => Src::Mid(found[J::LeftArm as usize].unwrap_or(0), found[J::RightArm as usize].unwrap_or(0)),
    };
    src[J::Neck as usize] = neck;
    src[J::Spine as usize] = match chest_joint(bvh, &found, hips, neck) {
        Some(c) => Src::Joint(c),
        None => match neck {
            Src::Joint(n) => Src::Mid(hips, n),
            Src::Mid(..) => Src::Joint(hips),
        },
    };
    if let (Src::Mid(..), None) = (src[J::Spine as usize], found[J::Neck as usize]) {
        return Err(missing_joint(path, line, J::Neck as usize));
    }
    Ok(src)
}

/// Scale to centimetres and y-up turn of a skeleton (see the module doc).
fn units_and_up(bvh: &Bvh, src: &[Src; NUM_JOINTS3]) -> (f64, bool) {
    use super::skeleton3d::Joint3 as J;
    let rest = bvh.rest_positions();
    let chain = |from: usize, mut to: usize| -> f64 {
        let mut len = 0.0;
        while to != from {
            match bvh.joints[to].parent {
                Some(p) => {
                    len += norm(sub(rest[to], rest[p]));
                    to = p;
                }
                None => break,
            }
        }
        len
    };
    let j = |k: J| match src[k as usize] {
        Src::Joint(i) => i,
        Src::Mid(a, _) => a,
    };
    let hips = j(J::Hips);
    let h = chain(hips, j(J::Head)) + chain(hips, j(J::LeftFoot));
    let s = if h < 3.0 && h > 0.0 {
        100.0
    } else if (30.0..90.0).contains(&h) {
        2.54
    } else if (90.0..300.0).contains(&h) {
        1.0
    } else if h > 0.0 {
        155.0 / h
    } else {
        1.0
    };
    let up = sub(rest[j(J::Head)], rest[hips]);
    let z_up = up[2] > up[1].abs() && up[2] > up[0].abs();
    (s, z_up)
}

/// Maps a BVH's motion onto humanoid18 frames (cm, y up). Errors name the file and the line.
pub fn to_humanoid18(bvh: &Bvh, path: &Path) -> Result<Vec<Frame3>, PoseError> {
    let src = map_skeleton(bvh, path)?;
    let (s, z_up) = units_and_up(bvh, &src);
    let mut out = Vec::with_capacity(bvh.frames);
    for t in 0..bvh.frames {
        let p = bvh.positions(t);
        let mut f: Frame3 = [[0.0; 3]; NUM_JOINTS3];
        for (j, sj) in src.iter().enumerate() {
            let v = match *sj {
                Src::Joint(i) => p[i],
                Src::Mid(a, b) => scale(add(p[a], p[b]), 0.5),
            };
            let v = if z_up { [v[0], v[2], -v[1]] } else { v };
            for k in 0..3 {
                let x = v[k] * s;
                if !x.is_finite() || x.abs() > super::format::MAX_CM as f64 {
                    return Err(PoseError::parse(path, format!("frame {t}: joint {} at {x} cm is out of range (|v| ≤ {} cm)", super::skeleton3d::JOINT3_NAMES[j], super::format::MAX_CM)));
                }
                f[j][k] = x as f32;
            }
        }
        out.push(f);
    }
    Ok(out)
}

/// Reads a BVH file as humanoid18 frames and its frame rate.
pub fn read_humanoid18(path: &Path) -> Result<(Vec<Frame3>, f64), PoseError> {
    let bvh = read(path)?;
    let frames = to_humanoid18(&bvh, path)?;
    Ok((frames, bvh.fps()))
}

/// Reads a BVH file as a pose sequence at its own frame rate: the 3-D track and its COCO-18
/// projection on the 512 canvas ([`super::skeleton3d::project_coco18`]).
pub fn load_sequence(path: &Path) -> Result<Sequence, PoseError> {
    let (j3, fps) = read_humanoid18(path)?;
    let frames = super::skeleton3d::project_coco18(&j3, super::CANVAS, super::tang2018::PX_PER_CM as f32);
    let mut seq = Sequence::new(fps, super::CANVAS, super::CANVAS, frames);
    seq.joints3d = Some(j3);
    Ok(seq)
}

// ---- writing ----

/// The written hierarchy: name, parent, humanoid18 joint (None: a zero-offset helper joint), rest
/// direction of the bone from the parent.
struct Node {
    name: &'static str,
    parent: Option<usize>,
    joint: Option<usize>,
    dir: V3,
}

const NODES: [Node; 21] = {
    const fn n(name: &'static str, parent: Option<usize>, joint: Option<usize>, dir: V3) -> Node {
        Node { name, parent, joint, dir }
    }
    const UP: V3 = [0.0, 1.0, 0.0];
    const DOWN: V3 = [0.0, -1.0, 0.0];
    const LEFT: V3 = [1.0, 0.0, 0.0];
    const RIGHT: V3 = [-1.0, 0.0, 0.0];
    const FWD: V3 = [0.0, 0.0, 1.0];
    [
        n("Hips", None, Some(0), UP),
        n("LowerBack", Some(0), None, UP),
        n("Spine", Some(1), Some(1), UP),
        n("Neck", Some(2), Some(2), UP),
        n("Head", Some(3), Some(3), UP),
        n("LeftShoulder", Some(3), None, LEFT),
        n("LeftArm", Some(5), Some(4), LEFT),
        n("LeftForeArm", Some(6), Some(5), LEFT),
        n("LeftHand", Some(7), Some(6), LEFT),
        n("RightShoulder", Some(3), None, RIGHT),
        n("RightArm", Some(9), Some(7), RIGHT),
        n("RightForeArm", Some(10), Some(8), RIGHT),
        n("RightHand", Some(11), Some(9), RIGHT),
        n("LeftUpLeg", Some(0), Some(10), LEFT),
        n("LeftLeg", Some(13), Some(11), DOWN),
        n("LeftFoot", Some(14), Some(12), DOWN),
        n("LeftToeBase", Some(15), Some(13), FWD),
        n("RightUpLeg", Some(0), Some(14), RIGHT),
        n("RightLeg", Some(17), Some(15), DOWN),
        n("RightFoot", Some(18), Some(16), DOWN),
        n("RightToeBase", Some(19), Some(17), FWD),
    ]
};

/// End Sites: (node, offset).
const END_SITES: [(usize, V3); 5] =
    [(4, [0.0, 10.0, 0.0]), (8, [8.0, 0.0, 0.0]), (12, [-8.0, 0.0, 0.0]), (16, [0.0, 0.0, 5.0]), (20, [0.0, 0.0, 5.0])];

/// How a node's orientation is solved.
enum Solve {
    /// Primary axis towards the child target, twisted by a reference direction (its rest axis).
    Twist(V3),
    /// Smallest rotation from the parent's frame.
    Swing,
    /// The parent's orientation (a leaf).
    Leaf,
}

/// Median bone length of each humanoid18 joint to its parent (0 for the root).
fn median_lengths(joints: &[Frame3]) -> [f64; NUM_JOINTS3] {
    let mut out = [0.0; NUM_JOINTS3];
    for (j, p) in super::skeleton3d::PARENT3.iter().enumerate() {
        let Some(p) = *p else { continue };
        let mut l: Vec<f64> = joints
            .iter()
            .map(|f| norm(sub(f[j].map(f64::from), f[p].map(f64::from))))
            .collect();
        l.sort_by(|a, b| a.total_cmp(b));
        let n = l.len();
        out[j] = if n == 0 { 0.0 } else if n % 2 == 1 { l[n / 2] } else { 0.5 * (l[n / 2 - 1] + l[n / 2]) };
    }
    out
}

/// Rotation matrix `Rz(z)·Rx(x)·Ry(y)` → (z, x, y) radians, the two equivalent solutions.
fn euler_zxy(m: &M3) -> [V3; 2] {
    let x = m[2][1].clamp(-1.0, 1.0).asin();
    let (y, z) = if x.cos() > 1e-9 {
        ((-m[2][0]).atan2(m[2][2]), (-m[0][1]).atan2(m[1][1]))
    } else {
        // Gimbal lock: only z ± y is defined; put it all in z.
        (0.0, m[1][0].atan2(m[0][0]))
    };
    let pi = std::f64::consts::PI;
    [[z, x, y], [z + pi, pi - x, y + pi]]
}

/// The equivalent of `a` (each angle ± 2πk) nearest `prev`.
fn unwrap_near(a: V3, prev: V3) -> V3 {
    let tau = std::f64::consts::TAU;
    std::array::from_fn(|k| a[k] - tau * ((a[k] - prev[k]) / tau).round())
}

/// Numbers as written: fixed decimals, no negative zero.
fn num(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// The BVH text of a humanoid18 dance (`joints` non-empty, finite) at `fps`.
pub fn to_bvh_string(joints: &[Frame3], fps: f64) -> String {
    let lengths = median_lengths(joints);
    let offsets: Vec<V3> = NODES
        .iter()
        .map(|n| match n.joint {
            Some(j) if n.parent.is_some() => scale(n.dir, lengths[j]),
            _ => [0.0; 3],
        })
        .collect();
    let mut s = hierarchy_text(&offsets);
    s.push_str(&format!("MOTION\nFrames: {}\nFrame Time: {}\n", joints.len(), num(1.0 / fps, 8)));
    let solve: Vec<Solve> = NODES.iter().enumerate().map(|(i, n)| solve_kind(i, n.name)).collect();
    let mut prev_e: Vec<V3> = vec![[0.0; 3]; NODES.len()];
    let mut prev_g: Option<Vec<M3>> = None;
    for (t, f) in joints.iter().enumerate() {
        let (p, g) = solve_frame(f, &offsets, &solve, prev_g.as_deref());
        let mut line = String::new();
        for i in 0..NODES.len() {
            let local = match NODES[i].parent {
                None => g[i],
                Some(q) => mul(&transpose(&g[q]), &g[i]),
            };
            let [a, b] = euler_zxy(&local);
            let e = if t == 0 {
                unwrap_near(a, [0.0; 3])
            } else {
                let (a, b) = (unwrap_near(a, prev_e[i]), unwrap_near(b, prev_e[i]));
                let d2 = |v: V3| (0..3).map(|k| (v[k] - prev_e[i][k]).powi(2)).sum::<f64>();
                if d2(b) < d2(a) { b } else { a }
            };
            prev_e[i] = e;
            if NODES[i].parent.is_none() {
                line.push_str(&format!("{} {} {} ", num(p[i][0], 4), num(p[i][1], 4), num(p[i][2], 4)));
            }
            line.push_str(&format!("{} {} {}", num(e[0].to_degrees(), 5), num(e[1].to_degrees(), 5), num(e[2].to_degrees(), 5)));
            line.push(if i + 1 == NODES.len() { '\n' } else { ' ' });
        }
        s.push_str(&line);
        prev_g = Some(g);
    }
    s
}

/// Children of node `i` in [`NODES`].
fn node_children(i: usize) -> impl Iterator<Item = usize> {
    NODES.iter().enumerate().filter(move |(_, n)| n.parent == Some(i)).map(|(k, _)| k)
}

/// The `HIERARCHY` section with the given offsets per node.
fn hierarchy_text(offsets: &[V3]) -> String {
    fn emit(s: &mut String, i: usize, depth: usize, offsets: &[V3]) {
        let ind = "  ".repeat(depth);
        let n = &NODES[i];
        let o = offsets[i];
        if n.parent.is_none() {
            s.push_str(&format!("ROOT {}\n{ind}{{\n", n.name));
            s.push_str(&format!("{ind}  OFFSET {} {} {}\n", num(o[0], 4), num(o[1], 4), num(o[2], 4)));
            s.push_str(&format!("{ind}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"));
        } else {
            s.push_str(&format!("{ind}JOINT {}\n{ind}{{\n", n.name));
            s.push_str(&format!("{ind}  OFFSET {} {} {}\n", num(o[0], 4), num(o[1], 4), num(o[2], 4)));
            s.push_str(&format!("{ind}  CHANNELS 3 Zrotation Xrotation Yrotation\n"));
        }
        for k in node_children(i) {
            emit(s, k, depth + 1, offsets);
        }
        if let Some((_, e)) = END_SITES.iter().find(|(node, _)| *node == i) {
            s.push_str(&format!("{ind}  End Site\n{ind}  {{\n{ind}    OFFSET {} {} {}\n{ind}  }}\n", num(e[0], 4), num(e[1], 4), num(e[2], 4)));
        }
        s.push_str(&format!("{ind}}}\n"));
    }
    let mut s = String::from("HIERARCHY\n");
    emit(&mut s, 0, 0, offsets);
    s
}

/// How node `i` (named `name`) is solved: twisted by its rest axis `b` (see the module doc).
fn solve_kind(i: usize, name: &str) -> Solve {
    match name {
        "Hips" => Solve::Twist([0.0, 1.0, 0.0]),
        "LowerBack" | "Spine" | "Neck" => Solve::Twist([1.0, 0.0, 0.0]),
        "LeftArm" | "RightArm" | "LeftUpLeg" | "RightUpLeg" => Solve::Twist([0.0, 0.0, 1.0]),
        _ if node_children(i).next().is_none() => Solve::Leaf,
        _ => Solve::Swing,
    }
}

/// The twist reference of a twisted node (see the module doc), before it is made perpendicular
/// to the bone.
fn twist_reference(name: &str, f: &Frame3) -> V3 {
    use super::skeleton3d::Joint3 as J;
    let tg = |j: J| f[j as usize].map(f64::from);
    let dir = |a: J, b: J| unit_or_zero(sub(tg(a), tg(b)));
    match name {
        "Hips" => dir(J::Spine, J::Hips),
        "LowerBack" => dir(J::LeftUpLeg, J::RightUpLeg),
        "Spine" | "Neck" => dir(J::LeftArm, J::RightArm),
        "LeftArm" => dir(J::LeftHand, J::LeftForeArm),
        "RightArm" => dir(J::RightHand, J::RightForeArm),
        "LeftUpLeg" => add(dir(J::LeftToeBase, J::LeftFoot), dir(J::LeftLeg, J::LeftFoot)),
        _ => add(dir(J::RightToeBase, J::RightFoot), dir(J::RightLeg, J::RightFoot)),
    }
}

/// World orientation and position of every node on one frame `f`. `prev`: the previous frame's
/// world orientations, whose twist a weak reference keeps (None on the first frame: the
/// parent's).
fn solve_frame(f: &Frame3, offsets: &[V3], solve: &[Solve], prev: Option<&[M3]>) -> (Vec<V3>, Vec<M3>) {
    use super::skeleton3d::Joint3 as J;
    let (x, y): (V3, V3) = ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]);
    let mut g = vec![IDENTITY; NODES.len()];
    let mut p = vec![[0.0; 3]; NODES.len()];
    for i in 0..NODES.len() {
        let n = &NODES[i];
        let parent_g = match (n.parent, prev) {
            (Some(q), _) => g[q],
            (None, Some(pv)) => pv[0],
            (None, None) => IDENTITY,
        };
        p[i] = match n.parent {
            None => f[0].map(f64::from),
            Some(q) => add(p[q], apply(&g[q], offsets[i])),
        };
        // The target this node points at (its first child's joint, or through a helper).
        let (axis, target) = match (i, node_children(i).next()) {
            (0, _) => (x, sub(f[J::LeftUpLeg as usize].map(f64::from), f[J::RightUpLeg as usize].map(f64::from))),
            (_, Some(c)) => {
                let cj = NODES[c].joint.or_else(|| node_children(c).next().and_then(|cc| NODES[cc].joint)).unwrap_or(0);
                (NODES[c].dir, sub(f[cj].map(f64::from), p[i]))
            }
            (_, None) => (y, [0.0; 3]),
        };
        g[i] = match &solve[i] {
            Solve::Leaf => parent_g,
            s => {
                let d = unit(target).unwrap_or_else(|| apply(&parent_g, axis));
                let sw = mul(&shortest_arc(apply(&parent_g, axis), d, apply(&parent_g, if axis == y { x } else { y })), &parent_g);
                match s {
                    // The reference, plus a little of the twist this node had on the previous
                    // frame (the parent's on the first): a reference that fades (a straight
                    // limb) or turns away from the parent's frame does not flip the twist.
                    Solve::Twist(b) => {
                        let keep = prev.map_or(sw, |pv| pv[i]);
                        let r = add(perp(twist_reference(n.name, f), d), scale(perp(apply(&keep, *b), d), 0.3));
                        unit(r).map_or(sw, |r| frame_from(axis, *b, d, r))
                    }
                    _ => sw,
                }
            }
        };
    }
    (p, g)
}

/// The rotation taking the rest axes `a` (primary) and `b` (twist) to `d` and `r`.
fn frame_from(a: V3, b: V3, d: V3, r: V3) -> M3 {
    // M = [d r d×r] · [a b a×b]ᵀ
    let (c_rest, c_now) = (cross(a, b), cross(d, r));
    let world: M3 = std::array::from_fn(|i| [d[i], r[i], c_now[i]]);
    let rest: M3 = std::array::from_fn(|i| [a[i], b[i], c_rest[i]]);
    mul(&world, &transpose(&rest))
}

/// The dance as the written BVH plays it: forward kinematics of [`to_bvh_string`], i.e. the joints
/// on a skeleton with fixed bone lengths (the dance's medians). A 3-D track made rigid this way is
/// reproduced exactly by its BVH (FK error ~0.001 cm), where raw mocap, whose bones stretch, is
/// not. `joints` finite, as for [`write`].
pub fn rigid(joints: &[Frame3]) -> Result<Vec<Frame3>, PoseError> {
    if joints.is_empty() {
        return Ok(Vec::new());
    }
    let p = Path::new("<rigid skeleton>");
    to_humanoid18(&parse(&to_bvh_string(joints, 25.0), p)?, p)
}

/// Writes a humanoid18 dance as BVH (atomically). Errors name `path`.
pub fn write(path: &Path, joints: &[Frame3], fps: f64) -> Result<(), PoseError> {
    if joints.is_empty() {
        return Err(PoseError::Empty { path: path.into() });
    }
    super::format::check_fps(path, fps)?;
    if let Some((t, j)) = joints.iter().enumerate().find_map(|(t, f)| f.iter().position(|v| v.iter().any(|x| !x.is_finite())).map(|j| (t, j))) {
        return Err(PoseError::NonFinite { path: path.into(), frame: t, joint: j });
    }
    Ok(crate::io::write_atomic(path, to_bvh_string(joints, fps).as_bytes())?)
}

/// Writes a pose sequence's 3-D track as BVH at the sequence's frame rate. A sequence without one
/// is an error naming `source` (the pose file or index the dance came from).
pub fn write_sequence(seq: &Sequence, source: &Path, path: &Path) -> Result<(), PoseError> {
    match &seq.joints3d {
        Some(j) if !j.is_empty() => write(path, j, seq.fps),
        _ => Err(PoseError::parse(source, "this dance has no 3-D track (built from a 2-D-only index); BVH needs 3-D joints")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pose::skeleton3d::{Joint3 as J, JOINT3_NAMES, PARENT3};

    const SMALL: &str = "HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation
  JOINT Chest
  {
    OFFSET 0 10 0
    CHANNELS 3 Xrotation Zrotation Yrotation
    End Site
    {
      OFFSET 0 5 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
1 2 3 0 0 0 0 0 0
1 2 3 90 0 0 0 0 90
";

    #[test]
    fn parses_and_runs_forward_kinematics() {
        let b = parse(SMALL, Path::new("s.bvh")).unwrap();
        assert_eq!((b.frames, b.num_channels, b.joints.len()), (2, 9, 3));
        assert!((b.fps() - 25.0).abs() < 1e-9);
        assert_eq!(b.joints[1].channels, [Channel::Xrotation, Channel::Zrotation, Channel::Yrotation]);
        let p0 = b.positions(0);
        assert_eq!(p0[2], [1.0, 17.0, 3.0]);
        // Frame 1: root turned 90° about y (no effect on an upward bone); the chest turned 90°
        // about its z (Xrot 0, Zrot 0, Yrot 90: about y → still up).
        let p1 = b.positions(1);
        assert!(p1[2].iter().zip([1.0, 17.0, 3.0]).all(|(a, b)| (a - b).abs() < 1e-9), "{p1:?}");
        // Zrotation 90 on the chest tips its End Site to −x.
        let tipped = SMALL.replace("1 2 3 90 0 0 0 0 90", "1 2 3 0 0 0 0 90 0");
        let p = parse(&tipped, Path::new("s.bvh")).unwrap().positions(1);
        assert!((p[2][0] - -4.0).abs() < 1e-9 && (p[2][1] - 12.0).abs() < 1e-9, "{p:?}");
        // Rotation order matters: X 90 then Z 90 (as listed) on the chest.
        let xz = SMALL.replace("1 2 3 90 0 0 0 0 90", "0 0 0 0 0 0 90 90 0");
        let p = parse(&xz, Path::new("s.bvh")).unwrap().positions(1);
        // Rx(90)·Rz(90)·(0,5,0) = Rx(90)·(−5,0,0) = (−5,0,0).
        assert!((p[2][0] + 5.0).abs() < 1e-9 && (p[2][1] - 10.0).abs() < 1e-9 && p[2][2].abs() < 1e-9, "{p:?}");
    }

    fn err_of(text: &str) -> String {
        parse(text, Path::new("bad.bvh")).unwrap_err().to_string()
    }

    #[test]
    fn bad_files_get_one_line_errors_naming_file_and_line() {
        let cases: Vec<(String, &str)> = vec![
            (SMALL.replacen("  }\n}\nMOTION", "  }\nMOTION", 1), "line 15: hierarchy ends inside Hips"),
            (SMALL.replace("    OFFSET 0 10 0\n", ""), "has no OFFSET"),
            (SMALL.replace("JOINT Chest", "JOINT"), "line 7: JOINT without a name"),
            (SMALL.replace("Zrotation\n  JOINT", "Wrotation\n  JOINT"), "line 5: unknown channel \"Wrotation\""),
            (SMALL.split("MOTION").next().unwrap().to_string(), "no MOTION section"),
            (SMALL.replace("Frames: 2", "Frames: 0"), "line 17: zero frames"),
            (SMALL.replace("1 2 3 0 0 0 0 0 0", "1 2 3 0 nan 0 0 0 0"), "line 19: non-finite channel value"),
            (SMALL.replace("1 2 3 0 0 0 0 0 0", "1 2 3 0 0 0 0 0"), "line 19: expected 9 channel values, found 8"),
            (SMALL.replace("1 2 3 0 0 0 0 0 0", "1 2 3 0 0 0 0 0 0 7"), "line 19: expected 9 channel values, found more"),
            (SMALL.replace("Frames: 2", "Frames: 999999999999"), "line 17: Frames: 999999999999, but only 2 frame lines follow"),
            (SMALL.replace("Frames: 2", "Frames: 1"), "line 20: more frame lines than Frames: 1"),
            (SMALL.replace("Frame Time: 0.04", "Frame Time: 0"), "line 18: Frame Time 0 s"),
            (SMALL.replace("OFFSET 0 10 0", "OFFSET 0 NaN 0"), "line 8: non-finite an OFFSET value"),
            (SMALL.replace("HIERARCHY", "HIERARCHI"), "line 1: not a BVH file"),
            (String::new(), "line 1: not a BVH file"),
            (SMALL.replace("}\nMOTION", "}\n}\nMOTION"), "line 16: unexpected \"}\" after the hierarchy"),
        ];
        let mut wrong = Vec::new();
        for (text, want) in cases {
            let e = err_of(&text);
            if !(e.starts_with("bad.bvh: line ") && e.contains(want) && !e.contains('\n')) {
                wrong.push(format!("want {want:?}, got {e}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn unknown_joint_names_are_named_with_what_is_accepted() {
        let b = parse(SMALL, Path::new("s.bvh")).unwrap();
        let e = to_humanoid18(&b, Path::new("s.bvh")).unwrap_err().to_string();
        assert!(e.starts_with("s.bvh: line 1: no joint of this skeleton maps to humanoid18 Head (accepted names: Head)"), "{e}");
    }

    /// A minimal humanoid BVH (one frame, rest pose) with the given names for the 18 joints, in
    /// `unit`s per cm.
    fn humanoid_text(names: &[&str; NUM_JOINTS3], unit: f64, z_up: bool) -> String {
        let rest: Frame3 = crate::pose::skeleton3d::tests::standing([0.0, 0.0]);
        let mut s = String::from("HIERARCHY\n");
        fn emit(s: &mut String, j: usize, names: &[&str; NUM_JOINTS3], rest: &Frame3, unit: f64, z_up: bool) {
            let o: [f64; 3] = match PARENT3[j] {
                None => [0.0; 3],
                Some(p) => std::array::from_fn(|k| (rest[j][k] - rest[p][k]) as f64 * unit),
            };
            let o = if z_up { [o[0], -o[2], o[1]] } else { o };
            s.push_str(&format!("{} {}\n{{\nOFFSET {} {} {}\n", if j == 0 { "ROOT" } else { "JOINT" }, names[j], o[0], o[1], o[2]));
            s.push_str(if j == 0 { "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n" } else { "CHANNELS 3 Zrotation Xrotation Yrotation\n" });
            let kids: Vec<usize> = (0..NUM_JOINTS3).filter(|c| PARENT3[*c] == Some(j)).collect();
            for c in &kids {
                emit(s, *c, names, rest, unit, z_up);
            }
            if kids.is_empty() {
                s.push_str("End Site\n{\nOFFSET 0 1 0\n}\n");
            }
            s.push_str("}\n");
        }
        emit(&mut s, 0, names, &rest, unit, z_up);
        let h = rest[0].map(|v| v as f64 * unit);
        let h = if z_up { [h[0], -h[2], h[1]] } else { h };
        let zeros = vec!["0"; 3 * NUM_JOINTS3].join(" ");
        s.push_str(&format!("MOTION\nFrames: 1\nFrame Time: 0.0333333\n{} {} {} {zeros}\n", h[0], h[1], h[2]));
        s
    }

    #[test]
    fn maps_naming_variants_units_and_z_up() {
        let rest = crate::pose::skeleton3d::tests::standing([0.0, 0.0]);
        let mixamo: [&str; NUM_JOINTS3] = std::array::from_fn(|j| JOINT3_NAMES[j]).map(|n| Box::leak(format!("mixamorig:{n}").into_boxed_str()) as &str);
        let other: [&str; NUM_JOINTS3] = [
            "pelvis", "spine_02", "neck_01", "head", "upperarm_l", "lowerarm_l", "hand_l", "upperarm_r", "lowerarm_r", "hand_r", "thigh_l", "calf_l",
            "foot_l", "ball_l", "thigh_r", "calf_r", "foot_r", "ball_r",
        ];
        let short: [&str; NUM_JOINTS3] = [
            "Hip", "Chest", "Neck", "Head", "LShoulderJoint_x", "LElbow", "LWrist", "RUpperArm", "RElbow", "RWrist", "LHip", "LKnee", "LAnkle", "LToe",
            "RThigh", "RKnee", "RAnkle", "RToe",
        ];
        for (names, unit, z_up, ok) in [(&mixamo, 1.0, false, true), (&other, 0.01, true, true), (&other, 1.0 / 2.54, false, true), (&short, 1.0, false, false)] {
            let text = humanoid_text(names, unit, z_up);
            let b = parse(&text, Path::new("h.bvh")).unwrap();
            let r = to_humanoid18(&b, Path::new("h.bvh"));
            if !ok {
                let e = r.unwrap_err().to_string();
                assert!(e.contains("humanoid18 LeftArm") && e.contains("UpperArm"), "{e}");
                continue;
            }
            let f = r.unwrap();
            assert!((b.fps() - 30.0).abs() < 1e-3);
            for j in 0..NUM_JOINTS3 {
                for k in 0..3 {
                    assert!((f[0][j][k] - rest[j][k]).abs() < 1e-3, "{:?} {}: {:?} vs {:?}", names[j], JOINT3_NAMES[j], f[0][j], rest[j]);
                }
            }
        }
    }

    // ---- a rigid synthetic dancer, generated independently of the writer ----

    fn rx(d: f64) -> M3 {
        axis_rot(0, d)
    }
    fn ry(d: f64) -> M3 {
        axis_rot(1, d)
    }
    fn rz(d: f64) -> M3 {
        axis_rot(2, d)
    }
    fn chain(ms: &[M3]) -> M3 {
        ms.iter().fold(IDENTITY, |a, m| mul(&a, m))
    }

    /// Frame of a dancer with constant bone lengths at time `s` seconds: turning on the spot
    /// (several full turns a minute), walking a loop, bending, nodding, swinging arms and legs,
    /// elbows and knees straight at times.
    pub(crate) fn rigid_dancer(s: f64) -> Frame3 {
        let sn = |f: f64, ph: f64| (f * s + ph).sin();
        let root = [100.0 * sn(0.1, 0.0), 95.0 + 5.0 * sn(2.0, 0.3), 80.0 * (0.13 * s).cos()];
        let pelvis = chain(&[ry(46.0 * s + 30.0 * sn(0.3, 1.0)), rx(10.0 * sn(1.3, 0.0)), rz(8.0 * sn(0.9, 0.5))]);
        let torso = chain(&[pelvis, rx(5.0 + 15.0 * sn(0.7, 0.2)), rz(10.0 * sn(1.1, 0.0)), ry(20.0 * sn(0.5, 0.4))]);
        let shoulders = mul(&torso, &rz(8.0 * sn(1.7, 0.0)));
        let head = chain(&[torso, rx(25.0 * sn(0.9, 0.1)), rz(15.0 * sn(1.4, 0.0))]);
        let at = |o: V3, m: &M3, v: V3| add(o, apply(m, v));
        let mut f = [[0.0f64; 3]; NUM_JOINTS3];
        f[J::Hips as usize] = root;
        f[J::LeftUpLeg as usize] = at(root, &pelvis, [10.0, 0.0, 0.0]);
        f[J::RightUpLeg as usize] = at(root, &pelvis, [-10.0, 0.0, 0.0]);
        f[J::Neck as usize] = at(root, &torso, [0.0, 45.0, 0.0]);
        f[J::Spine as usize] = at(root, &torso, [0.0, 22.5, 0.0]);
        let neck = f[J::Neck as usize];
        f[J::Head as usize] = at(neck, &head, [0.0, 19.0, 0.0]);
        for (side, arm, fore, hand, ph) in [(1.0, J::LeftArm, J::LeftForeArm, J::LeftHand, 0.0), (-1.0, J::RightArm, J::RightForeArm, J::RightHand, 0.7)] {
            let sh = at(neck, &shoulders, [16.0 * side, 0.0, 0.0]);
            let ua = chain(&[shoulders, rz(side * (-60.0 + 50.0 * sn(1.2, ph))), ry(side * 40.0 * sn(0.8, ph))]);
            let elbow = at(sh, &ua, [30.0 * side, 0.0, 0.0]);
            let fa = mul(&ua, &ry(-side * (60.0 + 58.0 * sn(1.5, ph))));
            f[arm as usize] = sh;
            f[fore as usize] = elbow;
            f[hand as usize] = at(elbow, &fa, [25.0 * side, 0.0, 0.0]);
        }
        for (upleg, leg, foot, toe, ph) in [(J::LeftUpLeg, J::LeftLeg, J::LeftFoot, J::LeftToeBase, 0.0), (J::RightUpLeg, J::RightLeg, J::RightFoot, J::RightToeBase, 3.0)] {
            let th = chain(&[pelvis, rx(-25.0 * sn(1.0, ph)), rz(10.0 * sn(0.6, ph)), ry(15.0 * sn(0.4, ph))]);
            let knee = at(f[upleg as usize], &th, [0.0, -45.0, 0.0]);
            let shin = mul(&th, &rx(35.0 + 35.0 * sn(1.3, ph)));
            let ankle = at(knee, &shin, [0.0, -40.0, 0.0]);
            let ft = mul(&shin, &rx(-10.0 * sn(2.0, ph)));
            f[leg as usize] = knee;
            f[foot as usize] = ankle;
            f[toe as usize] = at(ankle, &ft, [0.0, -6.0, 14.0]);
        }
        f.map(|v| v.map(|x| x as f32))
    }

    /// Mean and max distance (cm) between two humanoid18 tracks.
    pub(crate) fn track_error(a: &[Frame3], b: &[Frame3]) -> (f64, f64) {
        assert_eq!(a.len(), b.len());
        let (mut sum, mut max, mut n) = (0.0, 0.0f64, 0usize);
        for (fa, fb) in a.iter().zip(b) {
            for j in 0..NUM_JOINTS3 {
                let d = norm(sub(fa[j].map(f64::from), fb[j].map(f64::from)));
                sum += d;
                max = max.max(d);
                n += 1;
            }
        }
        (sum / n as f64, max)
    }

    #[test]
    fn written_bvh_reproduces_a_rigid_dance_without_flips() {
        // Four minutes at 25 fps.
        let fps = 25.0;
        let dance: Vec<Frame3> = (0..6000).map(|t| rigid_dancer(t as f64 / fps)).collect();
        let text = to_bvh_string(&dance, fps);
        let b = parse(&text, Path::new("w.bvh")).unwrap();
        assert_eq!(b.frames, 6000);
        assert!((b.fps() - fps).abs() < 1e-6);
        let names: Vec<&str> = b.joints.iter().filter(|j| !j.end_site).map(|j| j.name.as_str()).collect();
        for n in JOINT3_NAMES {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
        let back = to_humanoid18(&b, Path::new("w.bvh")).unwrap();
        let (mean, max) = track_error(&dance, &back);
        println!("rigid dancer: FK error mean {mean:.4} cm, max {max:.4} cm");
        assert!(mean <= 0.01 && max <= 0.05, "mean {mean} max {max}");
        // Offsets are the bone lengths (thigh 45, shin 40).
        let leg = b.joints.iter().find(|j| j.name == "LeftLeg").unwrap();
        assert!((leg.offset[1] + 45.0).abs() < 1e-3, "{:?}", leg.offset);
        // No flips: every rotation channel moves less than 15° between frames.
        let mut worst = 0.0f64;
        for t in 1..b.frames {
            for c in 3..b.num_channels {
                let d = (b.motion[t * b.num_channels + c] - b.motion[(t - 1) * b.num_channels + c]).abs();
                worst = worst.max(d);
            }
        }
        println!("largest channel step between frames: {worst:.2}°");
        assert!(worst < 15.0, "{worst}");
        // Deterministic.
        assert_eq!(to_bvh_string(&dance, fps), text);
        assert_eq!(rigid(&dance).unwrap(), back);
    }

    #[test]
    fn write_is_atomic_and_refuses_bad_input() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("d.bvh");
        let dance: Vec<Frame3> = (0..10).map(|t| rigid_dancer(t as f64 / 30.0)).collect();
        write(&p, &dance, 30.0).unwrap();
        let (back, fps) = read_humanoid18(&p).unwrap();
        assert_eq!((back.len(), fps), (10, 30.0));
        assert!(write(&p, &[], 30.0).unwrap_err().to_string().contains("no frames"));
        let mut nan = dance.clone();
        nan[3][5][1] = f32::NAN;
        let e = write(&p, &nan, 30.0).unwrap_err().to_string();
        assert!(e.contains("d.bvh") && e.contains("frame 3, joint 5"), "{e}");
        let seq = Sequence::new(30.0, 512, 512, vec![[[0.0; 3]; crate::pose::NUM_JOINTS]; 2]);
        let e = write_sequence(&seq, Path::new("dance.json"), &p).unwrap_err().to_string();
        assert_eq!(e, "dance.json: this dance has no 3-D track (built from a 2-D-only index); BVH needs 3-D joints");
    }
}
