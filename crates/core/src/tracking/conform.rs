//! Conforming a sequence to a cut: which shots an EDL adds, changes and removes. Pure, so the
//! dry-run diff a coordinator reviews is exactly what the import then writes.

use serde::Serialize;
use uuid::Uuid;

use super::edl::{Edl, EdlEvent, EdlWarning, TrackKind};

/// What the store knows of a shot already in the sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExistingShot {
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub cut_order: i64,
    pub cut_in: i64,
    pub cut_out: i64,
    pub head_handles: i64,
    pub tail_handles: i64,
    pub record_in: Option<i64>,
    pub record_out: Option<i64>,
    pub source_in: Option<i64>,
    pub source_out: Option<i64>,
    pub reel: Option<String>,
    pub clip_name: Option<String>,
    pub locators: Vec<ShotLocator>,
}

/// A locator (an editor's marker) on a shot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ShotLocator {
    /// A frame of the shot, from its `cut_in` to its `cut_out`, both included.
    pub frame: i64,
    /// `RED`, `GREEN`, `BLUE`, `CYAN`, `MAGENTA`, `YELLOW`, `BLACK`, `WHITE`, `PINK`, `ORANGE`
    /// or `PURPLE`; null when the edit named none of them.
    #[serde(rename = "color")]
    pub colour: Option<String>,
    pub text: String,
}

/// A shot as the new cut has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlannedShot {
    pub name: String,
    pub cut_order: i64,
    pub cut_in: i64,
    pub cut_out: i64,
    pub head_handles: i64,
    pub tail_handles: i64,
    pub record_in: i64,
    pub record_out: i64,
    pub source_in: i64,
    pub source_out: i64,
    pub source_in_tc: String,
    pub source_out_tc: String,
    pub reel: String,
    pub clip_name: Option<String>,
    /// The event's locators on the shot's frames, by frame.
    pub locators: Vec<ShotLocator>,
    /// The EDL line of the event, to point a person at it.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChangedShot {
    pub id: Uuid,
    pub before: ExistingShot,
    pub after: PlannedShot,
    /// Which fields differ, e.g. `["cut_out", "record_in"]`.
    pub fields: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub line: usize,
    /// `audio_only`, `black`, `not_video` or `empty`.
    pub reason: &'static str,
}

/// The diff between a sequence and a cut.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Conform {
    pub new: Vec<PlannedShot>,
    pub changed: Vec<ChangedShot>,
    pub unchanged: Vec<Uuid>,
    /// Shots no longer in the cut: they are marked omitted, never deleted.
    pub removed: Vec<ExistingShot>,
    pub skipped: Vec<Skipped>,
    /// Malformed lines of events without picture that the reader skipped, with their reason.
    pub warnings: Vec<EdlWarning>,
}

/// How shots are numbered and framed.
#[derive(Debug, Clone)]
pub struct ConformOptions {
    pub sequence_name: String,
    /// The first frame of a shot's handles (1001 by convention).
    pub start_frame: i64,
    pub head_handles: i64,
    pub tail_handles: i64,
}

pub const OMITTED: &str = "omitted";

fn overlap(a: (i64, i64), b: (i64, i64)) -> i64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0)
}

/// Matches each video event of `edl` to the shot that shows the same source: same reel, and the
/// largest overlap of source range (a matching clip name breaks ties). An event without a match
/// is a new shot, numbered after the highest number in use; a shot without an event is removed.
pub fn plan(existing: &[ExistingShot], edl: &Edl, opts: &ConformOptions) -> Conform {
    let mut out = Conform {
        warnings: edl.warnings.clone(),
        ..Conform::default()
    };
    let mut taken = vec![false; existing.len()];
    let mut next_number = existing
        .iter()
        .filter_map(|s| shot_number(&s.name, &opts.sequence_name))
        .max()
        .unwrap_or(0);
    let mut order = 0i64;
    for e in &edl.events {
        let reason = match e.track {
            TrackKind::AudioOnly => Some("audio_only"),
            TrackKind::Other => Some("not_video"),
            TrackKind::Video if e.is_black() => Some("black"),
            TrackKind::Video if e.record_frames() <= 0 => Some("empty"),
            TrackKind::Video => None,
        };
        if let Some(reason) = reason {
            out.skipped.push(Skipped {
                line: e.line,
                reason,
            });
            continue;
        }
        order += 1;
        let clip = e.source_clip_name().map(str::to_string);
        let src = (e.source_in_frames, e.source_out_frames);
        let best = existing
            .iter()
            .enumerate()
            .filter(|(i, s)| !taken[*i] && s.reel.as_deref() == Some(e.reel.as_str()))
            .filter_map(|(i, s)| {
                let o = overlap(src, (s.source_in?, s.source_out?));
                (o > 0).then_some((i, o, s.clip_name == clip))
            })
            .max_by_key(|(i, o, same_clip)| (*same_clip, *o, std::cmp::Reverse(*i)));
        let duration = e.record_out_frames - e.record_in_frames;
        let cut_in = opts.start_frame + opts.head_handles;
        let mut planned = PlannedShot {
            name: String::new(),
            cut_order: order,
            cut_in,
            cut_out: cut_in + duration - 1,
            head_handles: opts.head_handles,
            tail_handles: opts.tail_handles,
            record_in: e.record_in_frames,
            record_out: e.record_out_frames,
            source_in: e.source_in_frames,
            source_out: e.source_out_frames,
            source_in_tc: e.source_in.to_string(),
            source_out_tc: e.source_out.to_string(),
            reel: e.reel.clone(),
            clip_name: clip,
            locators: Vec::new(),
            line: e.line,
        };
        match best {
            Some((i, _, _)) => {
                taken[i] = true;
                let s = &existing[i];
                planned.name = s.name.clone();
                // A matched shot keeps its own handles: someone may have set them by hand.
                planned.head_handles = s.head_handles;
                planned.tail_handles = s.tail_handles;
                planned.cut_in = s.cut_in;
                planned.cut_out = s.cut_in + duration - 1;
                planned.locators = shot_locators(e, &planned.name, planned.cut_in);
                let fields = differences(s, &planned);
                if fields.is_empty() {
                    out.unchanged.push(s.id);
                } else {
                    out.changed.push(ChangedShot {
                        id: s.id,
                        before: s.clone(),
                        after: planned,
                        fields,
                    });
                }
            }
            None => {
                next_number += 10;
                planned.name = format!("{}_{:04}", opts.sequence_name, next_number);
                planned.locators = shot_locators(e, &planned.name, planned.cut_in);
                out.new.push(planned);
            }
        }
    }
    for (i, s) in existing.iter().enumerate() {
        if !taken[i] && s.status != OMITTED {
            out.removed.push(s.clone());
        }
    }
    out
}

/// Every name `ChangedShot::fields` may hold (each has its words in the catalogs).
pub const CHANGE_FIELDS: [&str; 7] = [
    "cut_order",
    "cut_out",
    "record",
    "source",
    "clip_name",
    "status",
    "locators",
];

/// The locators of event `e` as frames of its shot `name`, whose first frame is `cut_in`; by
/// frame, those on one frame as written. The white locator the EDL writer puts on a shot's
/// first frame, with the shot's name as its text, is that name and no locator: it is left out,
/// so an exported cut conforms back unchanged.
fn shot_locators(e: &EdlEvent, name: &str, cut_in: i64) -> Vec<ShotLocator> {
    let mut out: Vec<ShotLocator> = e
        .locators
        .iter()
        .filter(|l| {
            !(l.frames == e.record_in_frames
                && l.colour.as_deref() == Some("WHITE")
                && l.text == name)
        })
        .map(|l| ShotLocator {
            frame: cut_in + (l.frames - e.record_in_frames),
            colour: l.colour.clone(),
            text: l.text.clone(),
        })
        .collect();
    out.sort_by_key(|l| l.frame);
    out
}

fn differences(s: &ExistingShot, p: &PlannedShot) -> Vec<&'static str> {
    let mut f = Vec::new();
    if s.cut_order != p.cut_order {
        f.push("cut_order");
    }
    if s.cut_out != p.cut_out {
        f.push("cut_out");
    }
    if s.record_in != Some(p.record_in) || s.record_out != Some(p.record_out) {
        f.push("record");
    }
    if s.source_in != Some(p.source_in) || s.source_out != Some(p.source_out) {
        f.push("source");
    }
    if s.clip_name != p.clip_name {
        f.push("clip_name");
    }
    if s.status == OMITTED {
        f.push("status");
    }
    if s.locators != p.locators {
        f.push("locators");
    }
    debug_assert!(f.iter().all(|x| CHANGE_FIELDS.contains(x)));
    f
}

/// The number in a shot name made by this module (`SQ010_0040` → 40).
fn shot_number(name: &str, sequence: &str) -> Option<i64> {
    name.strip_prefix(sequence)?.strip_prefix('_')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::edl::parse;
    use crate::tracking::timecode::Rate;

    const CUT_1: &str = "TITLE: REEL 1 v1
FCM: NON-DROP FRAME

001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00
* FROM CLIP NAME: A001C003_220101.MOV
002  A001C007 V     C        11:00:05:00 11:00:06:12 01:00:02:00 01:00:03:12
* FROM CLIP NAME: A001C007_220101.MOV
003  AX       AA    C        00:00:00:00 00:00:01:00 01:00:02:00 01:00:03:00
004  BL       V     C        00:00:00:00 00:00:00:12 01:00:03:12 01:00:04:00
005  B002C001 V     C        12:00:00:00 12:00:01:00 01:00:04:00 01:00:05:00
";

    fn opts() -> ConformOptions {
        ConformOptions {
            sequence_name: "SQ010".into(),
            start_frame: 1001,
            head_handles: 8,
            tail_handles: 8,
        }
    }

    fn as_existing(c: &Conform) -> Vec<ExistingShot> {
        c.new
            .iter()
            .map(|p| ExistingShot {
                id: Uuid::from_u128(p.cut_order as u128),
                name: p.name.clone(),
                status: "active".into(),
                cut_order: p.cut_order,
                cut_in: p.cut_in,
                cut_out: p.cut_out,
                head_handles: p.head_handles,
                tail_handles: p.tail_handles,
                record_in: Some(p.record_in),
                record_out: Some(p.record_out),
                source_in: Some(p.source_in),
                source_out: Some(p.source_out),
                reel: Some(p.reel.clone()),
                clip_name: p.clip_name.clone(),
                locators: p.locators.clone(),
            })
            .collect()
    }

    #[test]
    fn first_import_makes_one_shot_per_video_event() {
        let edl = parse(CUT_1, Rate::FPS_24).unwrap();
        let c = plan(&[], &edl, &opts());
        let names: Vec<&str> = c.new.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["SQ010_0010", "SQ010_0020", "SQ010_0030"]);
        assert_eq!(c.new[0].cut_in, 1009);
        assert_eq!(c.new[0].cut_out, 1009 + 48 - 1);
        assert_eq!(c.new[1].cut_out - c.new[1].cut_in + 1, 36);
        assert_eq!(c.new[0].clip_name.as_deref(), Some("A001C003_220101.MOV"));
        assert_eq!(c.new[0].source_in_tc, "10:00:00:00");
        let reasons: Vec<&str> = c.skipped.iter().map(|s| s.reason).collect();
        assert_eq!(reasons, ["audio_only", "black"]);
    }

    #[test]
    fn reimporting_the_same_cut_changes_nothing() {
        let edl = parse(CUT_1, Rate::FPS_24).unwrap();
        let first = plan(&[], &edl, &opts());
        let again = plan(&as_existing(&first), &edl, &opts());
        assert!(again.new.is_empty() && again.changed.is_empty() && again.removed.is_empty());
        assert_eq!(again.unchanged.len(), 3);
    }

    #[test]
    fn a_recut_updates_matches_adds_and_removes_without_duplicates() {
        let first = plan(&[], &parse(CUT_1, Rate::FPS_24).unwrap(), &opts());
        // Shot 2 is trimmed by 12 frames and moves first; shot 1 is dropped; a new clip arrives.
        let cut_2 = "TITLE: REEL 1 v2
001  A001C007 V     C        11:00:05:00 11:00:06:00 01:00:00:00 01:00:01:00
* FROM CLIP NAME: A001C007_220101.MOV
002  B002C001 V     C        12:00:00:00 12:00:01:00 01:00:01:00 01:00:02:00
003  C003C002 V     C        13:00:00:00 13:00:02:00 01:00:02:00 01:00:04:00
";
        let c = plan(
            &as_existing(&first),
            &parse(cut_2, Rate::FPS_24).unwrap(),
            &opts(),
        );
        assert_eq!(c.changed.len(), 2);
        assert_eq!(c.changed[0].after.name, "SQ010_0020");
        assert!(c.changed[0].fields.contains(&"cut_out"));
        assert_eq!(
            c.changed[0].after.cut_out - c.changed[0].after.cut_in + 1,
            24
        );
        assert_eq!(c.changed[1].after.name, "SQ010_0030");
        assert_eq!(c.new.len(), 1);
        assert_eq!(
            c.new[0].name, "SQ010_0040",
            "new shots never reuse a number"
        );
        assert_eq!(c.removed.len(), 1);
        assert_eq!(c.removed[0].name, "SQ010_0010");
    }

    /// Locators land on their shot's frames (record frame 01:00:02:12 is the 13th frame of a
    /// shot cut in at 1009), by frame; a shot's name as the EDL writer marks it is no locator;
    /// a recut that moves, adds or drops a locator changes its shot, and only that.
    #[test]
    fn locators_follow_their_shot() {
        let cut = "TITLE: LOCS
001  A001C003 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00
* LOC: 01:00:00:00 WHITE   SQ010_0010
* LOC: 01:00:01:00 GREEN   second
* LOC: 01:00:00:12 RED     first
002  A001C007 V     C        11:00:05:00 11:00:06:12 01:00:02:00 01:00:03:12
* LOC: 01:00:02:12 YELLOW  fix the sky
* LOC: 01:00:02:00 WHITE   not this shot's name
";
        let loc = |frame, colour: &str, text: &str| ShotLocator {
            frame,
            colour: Some(colour.into()),
            text: text.into(),
        };
        let first = plan(&[], &parse(cut, Rate::FPS_24).unwrap(), &opts());
        assert_eq!(
            first.new[0].locators,
            [
                loc(1009 + 12, "RED", "first"),
                loc(1009 + 24, "GREEN", "second")
            ]
        );
        assert_eq!(
            first.new[1].locators,
            [
                loc(1009, "WHITE", "not this shot's name"),
                loc(1009 + 12, "YELLOW", "fix the sky")
            ]
        );
        let again = plan(
            &as_existing(&first),
            &parse(cut, Rate::FPS_24).unwrap(),
            &opts(),
        );
        assert_eq!(again.unchanged.len(), 2, "{again:?}");

        let recut = cut.replace("* LOC: 01:00:02:12 YELLOW  fix the sky\n", "");
        let c = plan(
            &as_existing(&first),
            &parse(&recut, Rate::FPS_24).unwrap(),
            &opts(),
        );
        assert_eq!(c.unchanged.len(), 1);
        assert_eq!(c.changed.len(), 1);
        assert_eq!(c.changed[0].fields, ["locators"]);
        assert_eq!(c.changed[0].after.locators.len(), 1);
    }
}
