//! Cut detection: where the shots of an edit or a reference movie change, found in its frames
//! (small pictures ffmpeg decodes): hard cuts, fades through black and dissolves, without taking
//! a camera flash or fast camera motion for a cut. Pure: frames in, transitions out.
//!
//! A transition is named by the first frame of the incoming shot, counted from the file's first
//! frame (0): for a hard cut the first frame of the new picture; for a fade the middle of the
//! black frames between the two shots; for a dissolve the first frame where the incoming
//! picture weighs at least half.

use serde::{Deserialize, Serialize};

use crate::tracking::export::{Export, ExportError, ExportShot};
use crate::tracking::timecode::{Rate, Timecode};

/// The size of the pictures looked at: enough to tell shots apart, small enough to compare
/// thousands a second. Whatever the file's aspect, its picture is scaled to this.
pub const WIDTH: usize = 64;
pub const HEIGHT: usize = 36;
/// Bytes of one frame as ffmpeg sends it (`rgb24`).
pub const FRAME_BYTES: usize = WIDTH * HEIGHT * 3;

const PIXELS: usize = WIDTH * HEIGHT;
const BINS: usize = 16;

/// What kind of change a transition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Cut,
    /// Through black: the black frames (and the darkening and lightening around them) are
    /// `frames` long.
    Fade,
    /// One picture blending into the next over `frames` frames.
    Dissolve,
}

/// A change of shot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transition {
    /// The first frame of the incoming shot, from 0.
    pub frame: i64,
    pub kind: Kind,
    /// How many frames the change takes (1 for a cut).
    pub frames: i64,
    /// How sure: the measure that found it, from 0 (barely) up.
    pub strength: f32,
}

/// What was found in a movie: its frames, its rate and timecode, its changes in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cutting {
    pub frames: i64,
    /// The frame rate as a rational, e.g. `[24000, 1001]`.
    pub fps: [i64; 2],
    /// The timecode of its first frame, when it has one, as written (`01:00:00:00`).
    pub start_timecode: Option<String>,
    pub transitions: Vec<Transition>,
}

impl Cutting {
    /// The movie as a cut to write as an EDL or an OTIO timeline: a shot from each change to
    /// the next, on its own timecode (from 0 without one), the reel its name's letters, digits
    /// and underscores (`AX` when none are left), `title` its title. `None` when timecode does
    /// not know its rate.
    pub fn as_cut(&self, title: &str, clip_name: &str) -> Option<Result<Export, ExportError>> {
        let rate = Rate::new(
            u32::try_from(self.fps[0]).ok()?,
            u32::try_from(self.fps[1]).ok()?,
        )
        .ok()?;
        let tc = self
            .start_timecode
            .as_deref()
            .and_then(|t| Timecode::parse(t, rate).ok());
        let start = tc.and_then(|t| t.to_frames(rate).ok()).unwrap_or(0);
        let reel: String = title
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .take(32)
            .collect();
        let reel = if reel.trim_matches('_').is_empty() {
            "AX".to_string()
        } else {
            reel
        };
        let mut bounds: Vec<i64> = vec![0];
        bounds.extend(
            self.transitions
                .iter()
                .map(|c| c.frame)
                .filter(|&c| c > 0 && c < self.frames),
        );
        bounds.push(self.frames);
        bounds.dedup();
        let shots = bounds
            .windows(2)
            .enumerate()
            .map(|(i, w)| ExportShot {
                name: format!("CUT_{:04}", (i + 1) * 10),
                clip_name: Some(clip_name.to_string()),
                reel: reel.clone(),
                record_in: start + w[0],
                record_out: start + w[1],
                source_in: start + w[0],
                source_out: start + w[1],
                locators: Vec::new(),
            })
            .collect();
        let export = Export {
            title: title.to_string(),
            rate,
            drop_frame: tc.is_some_and(|t| t.drop_frame),
            shots,
        };
        Some(export.validate().map(|()| export))
    }
}

/// What is kept of a frame: its luma, small, and a colour histogram.
#[derive(Clone)]
struct Look {
    luma: Box<[u8; PIXELS]>,
    hist: [f32; BINS * 3],
    mean: f32,
    spread: f32,
}

impl Look {
    fn of(rgb: &[u8]) -> Look {
        let mut luma = Box::new([0u8; PIXELS]);
        let mut hist = [0f32; BINS * 3];
        let mut sum = 0u64;
        for (i, px) in rgb.chunks_exact(3).take(PIXELS).enumerate() {
            let (r, g, b) = (px[0] as u32, px[1] as u32, px[2] as u32);
            let y = ((77 * r + 150 * g + 29 * b) >> 8) as u8;
            luma[i] = y;
            sum += y as u64;
            for (c, v) in [r, g, b].into_iter().enumerate() {
                soft(&mut hist[c * BINS..(c + 1) * BINS], v);
            }
        }
        let n = PIXELS as f32;
        for h in &mut hist {
            *h /= n;
        }
        let mean = sum as f32 / n;
        let spread = (luma.iter().map(|&y| (y as f32 - mean).powi(2)).sum::<f32>() / n).sqrt();
        Look {
            luma,
            hist,
            mean: mean / 255.0,
            spread: spread / 255.0,
        }
    }

    /// Dark and flat: near black.
    fn dim(&self) -> bool {
        self.mean < 0.06 && self.spread < 0.04
    }
}

/// Counts a value (0 to 255) into the two bins whose middles it lies between, in proportion, so
/// a colour that shifts a little shifts the histogram a little (flat graphics have few colours,
/// and a hard bin edge would make their slightest change look like a cut).
fn soft(bins: &mut [f32], v: u32) {
    let at = (v as f32 + 0.5) * BINS as f32 / 256.0 - 0.5;
    let lo = at.floor();
    let w = at - lo;
    let lo = lo as isize;
    let last = BINS as isize - 1;
    bins[lo.clamp(0, last) as usize] += 1.0 - w;
    bins[(lo + 1).clamp(0, last) as usize] += w;
}

/// How different two frames' pictures are, pixel by pixel (0 to 1).
fn pixels(a: &Look, b: &Look) -> f32 {
    let sum: u32 = a
        .luma
        .iter()
        .zip(b.luma.iter())
        .map(|(&x, &y)| x.abs_diff(y) as u32)
        .sum();
    sum as f32 / (PIXELS as f32 * 255.0)
}

/// How different two frames' colours are, whatever moves (0 to 1).
fn colours(a: &Look, b: &Look) -> f32 {
    a.hist
        .iter()
        .zip(&b.hist)
        .map(|(x, y)| (x - y).abs())
        .sum::<f32>()
        / 6.0
}

fn distance(a: &Look, b: &Look) -> f32 {
    0.5 * (pixels(a, b) + colours(a, b))
}

/// How far frame `m` is from the even blend of `a` and `b`, pixel by pixel (0 to 1).
fn off_blend(a: &Look, m: &Look, b: &Look) -> f32 {
    let sum: u32 = a
        .luma
        .iter()
        .zip(m.luma.iter())
        .zip(b.luma.iter())
        .map(|((&x, &y), &z)| (2 * y as i32 - x as i32 - z as i32).unsigned_abs())
        .sum();
    sum as f32 / (PIXELS as f32 * 255.0 * 2.0)
}

/// The detector's settings; the defaults are what the benchmark measures.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The least difference between two frames that can be a cut.
    pub cut: f32,
    /// How many times the neighbouring frames' differences a cut's must be (motion is a steady
    /// difference, a cut a lone one).
    pub ratio: f32,
    /// The fewest frames a shot has: changes closer than this to the one before are one change.
    pub min_shot: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cut: 0.1,
            ratio: 3.0,
            min_shot: 6,
        }
    }
}

/// The frames a dissolve is looked for over: a frame halfway between two others this far away.
const SPAN: usize = 3;
/// The frames after a sudden change within which a flash gives the picture back.
const FLASH: usize = 4;

/// Finds the transitions of a clip, fed its frames in order (each `FRAME_BYTES` of `rgb24`,
/// `WIDTH` by `HEIGHT`). It holds at most `CHUNK` frames' small pictures (about 10 MB), so a
/// feature film is read in parts.
pub struct Detector {
    settings: Settings,
    looks: Vec<Look>,
    /// The frame number of `looks[0]`.
    base: i64,
    /// Transitions before this frame are found for good.
    settled: i64,
    found: Vec<Transition>,
}

/// Frames held at most; each part starts `OVERLAP` frames before the last one ended, and what
/// is found in the last half of that is left to the next part, which sees around it.
pub const CHUNK: usize = 4096;
const OVERLAP: usize = 192;
/// The most frames a picture takes to go dark before black, as far as parts are concerned.
const RAMP: usize = 48;

impl Detector {
    pub fn new(settings: Settings) -> Detector {
        Detector {
            settings,
            looks: Vec::with_capacity(CHUNK),
            base: 0,
            settled: 0,
            found: Vec::new(),
        }
    }

    /// Takes the next frame.
    pub fn push(&mut self, rgb: &[u8]) {
        self.looks.push(Look::of(rgb));
        if self.looks.len() == CHUNK {
            // A part ending in the dark may end inside a fade, whose other side is in the next
            // part: what this part finds stops before the picture starts darkening, and the
            // next part starts well before it (unless the whole part is dark).
            let mut until = CHUNK - OVERLAP / 2;
            let mut keep_from = CHUNK - OVERLAP;
            let dark_from = self
                .looks
                .iter()
                .rposition(|l| !l.dim())
                .map_or(0, |i| i + 1);
            let darkening = dark_from.saturating_sub(RAMP);
            if dark_from < CHUNK && darkening > OVERLAP {
                until = until.min(darkening);
                keep_from = keep_from.min(darkening - OVERLAP / 2);
            }
            let until = self.base + until as i64;
            for mut t in detect(&self.looks, self.settings) {
                t.frame += self.base;
                if t.frame >= self.settled && t.frame < until {
                    self.found.push(t);
                }
            }
            self.settled = until;
            self.looks.drain(..keep_from);
            self.base += keep_from as i64;
        }
    }

    /// The frames taken so far.
    pub fn frames(&self) -> i64 {
        self.base + self.looks.len() as i64
    }

    /// Every transition, in order.
    pub fn finish(mut self) -> Vec<Transition> {
        for mut t in detect(&self.looks, self.settings) {
            t.frame += self.base;
            if t.frame >= self.settled {
                self.found.push(t);
            }
        }
        self.found
    }
}

/// The transitions among `looks` (frame numbers from 0 there).
fn detect(looks: &[Look], s: Settings) -> Vec<Transition> {
    let n = looks.len();
    if n < 2 {
        return Vec::new();
    }
    let mut out: Vec<Transition> = Vec::new();
    // Frames taken by a fade (from where the picture starts going dark to where it is back),
    // where nothing else is looked for.
    let mut taken = vec![false; n];

    // Fades: dips to black between pictures. A dip is a run of dark, flat frames; its black
    // is the darkest of them (within a hair of the darkest), where one shot ends and the next
    // begins.
    let mut i = 0;
    while i < n {
        if !looks[i].dim() {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && looks[i].dim() {
            i += 1;
        }
        let end = i; // exclusive
        if start == 0 || end == n {
            continue;
        }
        let darkest = looks[start..end]
            .iter()
            .map(|l| l.mean)
            .fold(f32::MAX, f32::min);
        if darkest > 0.02 {
            continue;
        }
        let core: Vec<usize> = (start..end)
            .filter(|&j| looks[j].mean <= darkest + 0.002)
            .collect();
        let (first, last) = (core[0], core[core.len() - 1]);
        // Out to where the picture stops getting darker on either side.
        let mut from = start;
        while from > 0 && looks[from - 1].mean > looks[from].mean + 0.002 {
            from -= 1;
        }
        let mut to = end;
        while to < n && looks[to].mean > looks[to - 1].mean + 0.002 {
            to += 1;
        }
        for t in &mut taken[from.saturating_sub(1)..(to + 1).min(n)] {
            *t = true;
        }
        let len = last - first + 1;
        out.push(Transition {
            frame: (first + len.div_ceil(2)) as i64,
            kind: Kind::Fade,
            frames: (to - from) as i64,
            strength: 1.0,
        });
    }

    // Differences between neighbours.
    let d: Vec<f32> = (0..n)
        .map(|i| {
            if i == 0 {
                0.0
            } else {
                distance(&looks[i - 1], &looks[i])
            }
        })
        .collect();

    // Hard cuts: a lone large difference, not a flash.
    for i in 1..n {
        if taken[i] || d[i] < s.cut {
            continue;
        }
        let around: Vec<f32> = (i.saturating_sub(2)..(i + 3).min(n))
            .filter(|&j| j != i && j > 0)
            .map(|j| d[j])
            .collect();
        let mean = around.iter().sum::<f32>() / around.len().max(1) as f32;
        if d[i] < s.ratio * mean {
            continue;
        }
        // A flash: within a few frames, the picture is the one before it again (seen from its
        // first frame or from the one after it).
        let before = i.saturating_sub(FLASH + 1)..i;
        let after = i..(i + FLASH + 1).min(n);
        let flash = before.clone().any(|b| {
            after
                .clone()
                .any(|a| (a - b) > 1 && distance(&looks[b], &looks[a]) < 0.4 * d[i])
        });
        if flash {
            continue;
        }
        out.push(Transition {
            frame: i as i64,
            kind: Kind::Cut,
            frames: 1,
            strength: d[i] / mean.max(1e-3),
        });
    }

    // Dissolves: frames each halfway between their neighbours `SPAN` away, while those two
    // differ.
    let blend = |i: usize| -> bool {
        if i < SPAN || i + SPAN >= n || taken[i - SPAN] || taken[i + SPAN] {
            return false;
        }
        let (a, m, b) = (&looks[i - SPAN], &looks[i], &looks[i + SPAN]);
        let gap = pixels(a, b);
        gap >= 0.04 && off_blend(a, m, b) <= 0.25 * gap
    };
    let mut i = SPAN;
    while i < n {
        if !blend(i) {
            i += 1;
            continue;
        }
        let a = i;
        while i < n && blend(i) {
            i += 1;
        }
        let b = i - 1;
        // A blend of a few frames at least, not a moment of motion; changing faster than the
        // pictures on either side of it (smooth motion blends evenly too, but all along).
        let mean = |r: std::ops::Range<usize>| {
            let r = r.start.max(1)..r.end.min(n);
            let len = r.len().max(1) as f32;
            r.map(|j| d[j]).sum::<f32>() / len
        };
        let inside = mean(a + 1 - SPAN..b + SPAN + 1);
        let outside =
            mean(a.saturating_sub(SPAN + 8)..a + 1 - SPAN).max(mean(b + SPAN + 1..b + SPAN + 9));
        if b - a + 1 >= 3 && inside >= 2.5 * outside {
            // The frames that change from the one before more than the pictures on either side
            // do: from the first with anything of the incoming picture to the first that is all
            // of it. A dissolve's weights run evenly from the frame before the first (none of
            // the incoming picture) to the last (all of it): half is reached halfway along.
            let busy = (inside + outside) / 2.0;
            let mut first = a;
            while first > a.saturating_sub(SPAN + 2).max(1) && d[first - 1] >= busy {
                first -= 1;
            }
            let mut last = b;
            while last + 1 < n && last < b + SPAN + 2 && d[last + 1] >= busy {
                last += 1;
            }
            let frames = last - first + 1;
            let half = first - 1 + frames.div_ceil(2);
            out.push(Transition {
                frame: half as i64,
                kind: Kind::Dissolve,
                frames: frames as i64,
                strength: (b - a + 1) as f32,
            });
        }
    }

    // A cut found inside a dissolve is part of it.
    let spans: Vec<(i64, i64)> = out
        .iter()
        .filter(|t| t.kind == Kind::Dissolve)
        .map(|t| (t.frame - t.frames / 2 - 1, t.frame + t.frames / 2 + 1))
        .collect();
    out.retain(|t| {
        t.kind != Kind::Cut || !spans.iter().any(|&(a, b)| t.frame >= a && t.frame <= b)
    });
    out.sort_by_key(|t| t.frame);
    // Changes too close together are one: the surer kind wins (a fade, then a dissolve).
    let mut kept: Vec<Transition> = Vec::with_capacity(out.len());
    for t in out {
        match kept.last_mut() {
            Some(l) if t.frame - l.frame < s.min_shot => {
                let rank = |k: Kind| match k {
                    Kind::Fade => 2,
                    Kind::Dissolve => 1,
                    Kind::Cut => 0,
                };
                if rank(t.kind) > rank(l.kind) {
                    *l = t;
                }
            }
            _ => kept.push(t),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture of `WIDTH` by `HEIGHT`: `kind` picks its pattern, `t` moves it.
    fn picture(kind: u32, t: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAME_BYTES);
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let (r, g, b) = match kind {
                    // Stripes sliding to the right over a warm ground, a pixel every third frame.
                    0 => {
                        let on = ((x + t / 3) / 6).is_multiple_of(2);
                        (if on { 230 } else { 160 }, 120, (y * 3) as u32 as usize)
                    }
                    // A cool gradient with a square drifting down.
                    1 => {
                        let top = (t / 2) % 24;
                        let sq = (20..32).contains(&x) && (top..top + 10).contains(&y);
                        (30, (x * 3) % 256, if sq { 250 } else { 140 })
                    }
                    // Checks, panned fast: eight pixels a frame.
                    _ => {
                        let on = (((x + 8 * t) / 5) + (y / 5)).is_multiple_of(2);
                        (if on { 200 } else { 40 }, if on { 180 } else { 60 }, 90)
                    }
                };
                out.extend([r as u8, g as u8, b as u8]);
            }
        }
        out
    }

    fn mix(a: &[u8], b: &[u8], w: f32) -> Vec<u8> {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| (x as f32 * (1.0 - w) + y as f32 * w).round() as u8)
            .collect()
    }

    fn found(frames: &[Vec<u8>]) -> Vec<(i64, Kind)> {
        let mut d = Detector::new(Settings::default());
        for f in frames {
            d.push(f);
        }
        assert_eq!(d.frames(), frames.len() as i64);
        d.finish().into_iter().map(|t| (t.frame, t.kind)).collect()
    }

    #[test]
    fn a_hard_cut_is_the_first_frame_of_the_new_picture() {
        let frames: Vec<Vec<u8>> = (0..60)
            .map(|t| picture(if t < 23 { 0 } else { 1 }, t))
            .collect();
        assert_eq!(found(&frames), [(23, Kind::Cut)]);
    }

    #[test]
    fn a_flash_or_a_fast_pan_is_no_cut() {
        let frames: Vec<Vec<u8>> = (0..60)
            .map(|t| {
                let p = picture(0, t);
                // Two frames of a camera flash.
                if t == 20 || t == 21 {
                    p.iter().map(|&v| v.saturating_add(150)).collect()
                } else {
                    p
                }
            })
            .collect();
        assert_eq!(found(&frames), []);
        let pan: Vec<Vec<u8>> = (0..60).map(|t| picture(2, t)).collect();
        assert_eq!(found(&pan), []);
    }

    #[test]
    fn a_dissolve_changes_where_the_new_picture_weighs_half() {
        // Over 12 frames from frame 30 (all of the old picture) to 42 (all of the new one).
        for n in [8usize, 12, 13, 24] {
            let frames: Vec<Vec<u8>> = (0..90)
                .map(|t| match t {
                    _ if t <= 30 => picture(0, t),
                    _ if t >= 30 + n => picture(1, t),
                    _ => mix(&picture(0, t), &picture(1, t), (t - 30) as f32 / n as f32),
                })
                .collect();
            let got = found(&frames);
            assert_eq!(
                got,
                [(30 + n.div_ceil(2) as i64, Kind::Dissolve)],
                "{n} frames: {got:?}"
            );
        }
    }

    #[test]
    fn a_fade_through_black_changes_after_the_black() {
        let black = vec![0u8; FRAME_BYTES];
        let frames: Vec<Vec<u8>> = (0..80)
            .map(|t| match t {
                // The old picture darkens to black at frame 39.
                _ if t < 32 => picture(0, t),
                _ if t < 40 => mix(&picture(0, t), &black, (t - 31) as f32 / 8.0),
                // The new one comes up from frame 40.
                _ if t < 48 => mix(&black, &picture(1, t), (t - 39) as f32 / 8.0),
                _ => picture(1, t),
            })
            .collect();
        assert_eq!(found(&frames), [(40, Kind::Fade)]);
    }

    #[test]
    fn a_long_black_where_parts_meet_is_one_fade() {
        // Fades through long blacks lying across where the first part ends: one going dark
        // before its findings stop, one dark over all the frames the parts share.
        let edge = CHUNK as i64;
        let black = vec![0u8; FRAME_BYTES];
        for (from, to) in [(edge - 98, edge + 104), (edge - 200, edge + 100)] {
            let mut d = Detector::new(Settings::default());
            for t in 0..(CHUNK + 600) as i64 {
                let f = match t {
                    _ if t < from - 8 => picture(0, t as usize),
                    _ if t < from => {
                        mix(&picture(0, t as usize), &black, (t - from + 9) as f32 / 9.0)
                    }
                    _ if t < to => black.clone(),
                    _ if t < to + 8 => {
                        mix(&black, &picture(1, t as usize), (t - to + 1) as f32 / 9.0)
                    }
                    _ => picture(1, t as usize),
                };
                d.push(&f);
            }
            let got: Vec<(i64, Kind)> = d.finish().iter().map(|t| (t.frame, t.kind)).collect();
            assert_eq!(
                got,
                [(from + (to - from + 1) / 2, Kind::Fade)],
                "black {from}..{to}"
            );
        }
    }

    #[test]
    fn a_long_clip_read_in_parts_finds_each_cut_once() {
        // Cuts around where one part's findings end and the next part's begin.
        let edge = (CHUNK - OVERLAP / 2) as i64;
        for near in [-1, 0, 1] {
            let cuts = [
                100,
                edge - 41,
                edge + near,
                edge + 31,
                2 * (CHUNK - OVERLAP) as i64 + 7,
            ];
            let mut d = Detector::new(Settings::default());
            let mut kind = 0;
            for t in 0..(2 * CHUNK + 200) as i64 {
                if cuts.contains(&t) {
                    kind = 1 - kind;
                }
                d.push(&picture(kind, t as usize));
            }
            assert_eq!(d.frames(), (2 * CHUNK + 200) as i64);
            let got: Vec<i64> = d.finish().iter().map(|t| t.frame).collect();
            assert_eq!(got, cuts, "a cut {near} frames from the edge");
        }
    }
}
