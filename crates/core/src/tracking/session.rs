//! Review sessions: a playlist played together. One presenter drives the playhead (which item of
//! the playlist, which production frame, playing or paused and at what speed, the loop, and what
//! they are drawing on a paused frame); everyone else in the session follows it.
//!
//! The playhead is a whole state, not a stream of commands: whoever joins late or reloads is sent
//! the state as it stands and is where the presenter is at once. While playing, `frame` is the
//! frame shown at the moment the state was set (`moved_at` in the store); a follower counts on
//! from there at `rate`.
//!
//! The session's log keeps what happened in words a report can use: who joined and left, each
//! item played, each play, pause, seek, change of speed or loop, and each drawing shown
//! (`moves` tells which a new state is).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::drawing::{self, Shape};

/// The speeds a session plays at; negative plays backward.
pub const RATES: [f64; 10] = [-4.0, -2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 2.0, 4.0];

/// How far a frame number may be from zero (a production's frames are counted in the millions
/// at most; this keeps arithmetic on them far from overflow).
pub const MAX_FRAME: i64 = 1_000_000_000;

/// Where a session is: the presenter's playhead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Playhead {
    /// The playlist's item shown, from 0.
    pub item: i64,
    /// The production frame shown (while playing: shown when the state was set).
    pub frame: i64,
    #[serde(default)]
    pub playing: bool,
    /// Playback speed, one of 0.25, 0.5, 1, 2, 4 (negative: backward).
    #[serde(default = "one")]
    pub rate: f64,
    /// The loop's first and last production frames, both played.
    #[serde(default)]
    pub loop_frames: Option<[i64; 2]>,
    /// What the presenter has drawn on `frame` while paused, not yet kept as a note.
    #[serde(default)]
    pub drawing: Option<Vec<Shape>>,
}

fn one() -> f64 {
    1.0
}

impl Default for Playhead {
    /// The first frame of the first item, paused: where a session starts (a follower takes the
    /// first frame of the item's file for frame 0 of nothing).
    fn default() -> Self {
        Playhead {
            item: 0,
            frame: 0,
            playing: false,
            rate: 1.0,
            loop_frames: None,
            drawing: None,
        }
    }
}

/// Every kind of line a session's log holds (each has its words in the catalogs,
/// `session-kind-…`): the session's own, the moves (`Move::as_str`) and the notes written in it.
pub const LOG_KINDS: [&str; 13] = [
    "started",
    "joined",
    "left",
    "presenter",
    "ended",
    "item",
    "play",
    "pause",
    "seek",
    "speed",
    "loop",
    "drawing",
    "note",
];

/// Every reason a playhead is refused for (each has its words in the catalogs, `reason-…`),
/// besides the drawing's own (`drawing::REASONS`).
pub const REASONS: [&str; 4] = [
    "session_no_such_item",
    "session_frame_out_of_range",
    "session_not_a_speed",
    "session_bad_loop",
];

/// Why a playhead was refused: the field (`drawing[2]` for a shape) and a stable reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct PlayheadError {
    pub field: String,
    pub reason: &'static str,
}

fn refused(field: &str, reason: &'static str) -> PlayheadError {
    PlayheadError {
        field: field.to_string(),
        reason,
    }
}

/// A playhead checked against a playlist of `items` versions and made canonical: an empty
/// drawing is none, a drawing only while paused, its shapes checked by `drawing::check`.
pub fn check(mut p: Playhead, items: i64) -> Result<Playhead, PlayheadError> {
    if !(0..items).contains(&p.item) {
        return Err(refused("item", "session_no_such_item"));
    }
    if p.frame.abs() > MAX_FRAME {
        return Err(refused("frame", "session_frame_out_of_range"));
    }
    if !RATES.contains(&p.rate) {
        return Err(refused("rate", "session_not_a_speed"));
    }
    if let Some([a, b]) = p.loop_frames
        && (a > b || a.abs() > MAX_FRAME || b.abs() > MAX_FRAME)
    {
        return Err(refused("loop_frames", "session_bad_loop"));
    }
    p.drawing = match p.drawing.take().filter(|d| !d.is_empty()) {
        None => None,
        // A drawing is on a frame held still; playing on leaves it behind.
        Some(_) if p.playing => None,
        Some(shapes) => Some(
            drawing::check(shapes)
                .map_err(|e| refused(&format!("drawing[{}]", e.index), e.reason))?,
        ),
    };
    Ok(p)
}

/// What a new playhead is, as the session's log tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    /// Another item of the playlist.
    Item,
    Play,
    Pause,
    /// Another frame, playing or not.
    Seek,
    Speed,
    Loop,
    /// A drawing shown, changed or wiped.
    Drawing,
}

impl Move {
    pub const fn as_str(self) -> &'static str {
        match self {
            Move::Item => "item",
            Move::Play => "play",
            Move::Pause => "pause",
            Move::Seek => "seek",
            Move::Speed => "speed",
            Move::Loop => "loop",
            Move::Drawing => "drawing",
        }
    }
}

/// What changed from `before` to `after`, in the order the log tells it. A pause names the
/// frame it stopped on, so it is no seek; nor is the frame a play started from; nor is where
/// a new item starts.
pub fn moves(before: &Playhead, after: &Playhead) -> Vec<Move> {
    let mut out = Vec::new();
    if before.item != after.item {
        out.push(Move::Item);
    } else if before.playing == after.playing && before.frame != after.frame {
        out.push(Move::Seek);
    }
    if before.playing != after.playing {
        out.push(if after.playing {
            Move::Play
        } else {
            Move::Pause
        });
    } else if before.item != after.item && after.playing {
        out.push(Move::Play);
    }
    if before.rate != after.rate {
        out.push(Move::Speed);
    }
    if before.loop_frames != after.loop_frames {
        out.push(Move::Loop);
    }
    if before.drawing != after.drawing {
        out.push(Move::Drawing);
    }
    out
}

/// One line of a session's log as its CSV export says it: named and timed for people.
#[derive(Debug, Clone, Default)]
pub struct LogLine {
    /// When, as RFC 3339 in UTC.
    pub at: String,
    pub who: String,
    pub what: String,
    /// The playlist's item, from 1, and the version ("SQ010_0010 · Comp v003").
    pub item: Option<i64>,
    pub version: String,
    pub frame: Option<i64>,
    pub frame_out: Option<i64>,
    pub detail: String,
}

/// A session's log as CSV (RFC 4180), one line per event, frames as the production numbers
/// them (a note on a range: its first and last frames, both included).
pub fn log_csv(lines: &[LogLine]) -> String {
    use super::export::csv_field as field;
    let mut out = String::from("at,who,what,item,version,frame,frame_out,detail\r\n");
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    for l in lines {
        let row = [
            field(&l.at),
            field(&l.who),
            field(&l.what),
            num(l.item),
            field(&l.version),
            num(l.frame),
            num(l.frame_out),
            field(&l.detail),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(frame: i64) -> Playhead {
        Playhead {
            frame,
            ..Playhead::default()
        }
    }

    fn pen() -> Vec<Shape> {
        vec![Shape::Pen {
            color: "#FF0000".into(),
            width: 0.01,
            points: vec![[0.1, 0.1], [0.2, 0.2]],
        }]
    }

    #[test]
    fn a_playhead_is_checked_against_its_playlist() {
        assert!(check(at(1001), 3).is_ok());
        let item = |item| Playhead { item, ..at(1001) };
        assert_eq!(
            check(item(3), 3).unwrap_err().reason,
            "session_no_such_item"
        );
        assert_eq!(check(item(-1), 3).unwrap_err().field, "item");
        assert_eq!(
            check(at(MAX_FRAME + 1), 3).unwrap_err().reason,
            "session_frame_out_of_range"
        );
        let rate = |rate| Playhead { rate, ..at(1) };
        assert!(check(rate(-0.25), 1).is_ok());
        assert_eq!(check(rate(3.0), 1).unwrap_err().field, "rate");
        assert_eq!(
            check(rate(0.0), 1).unwrap_err().reason,
            "session_not_a_speed"
        );
        let looped = |l| Playhead {
            loop_frames: Some(l),
            ..at(1)
        };
        assert!(check(looped([1001, 1001]), 1).is_ok());
        assert_eq!(
            check(looped([1010, 1001]), 1).unwrap_err().reason,
            "session_bad_loop"
        );
    }

    #[test]
    fn a_drawing_is_checked_and_held_only_on_a_still_frame() {
        let drawn = Playhead {
            drawing: Some(pen()),
            ..at(1001)
        };
        // Made canonical as a note's drawing is.
        let kept = check(drawn.clone(), 1).unwrap();
        assert!(
            matches!(&kept.drawing.unwrap()[0], Shape::Pen { color, .. } if color == "#ff0000")
        );
        let playing = Playhead {
            playing: true,
            ..drawn.clone()
        };
        assert_eq!(check(playing, 1).unwrap().drawing, None);
        let empty = Playhead {
            drawing: Some(vec![]),
            ..at(1001)
        };
        assert_eq!(check(empty, 1).unwrap().drawing, None);
        let off = Playhead {
            drawing: Some(vec![Shape::Arrow {
                color: "#ffffff".into(),
                width: 0.01,
                from: [0.5, 0.5],
                to: [1.5, 0.5],
            }]),
            ..at(1001)
        };
        let e = check(off, 1).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.reason),
            ("drawing[0]", "drawing_off_picture")
        );
    }

    #[test]
    fn the_log_is_csv_a_spreadsheet_reads_safely() {
        let lines = [
            LogLine {
                at: "2026-12-06T10:00:00.000Z".into(),
                who: "Huang Jun".into(),
                what: "note".into(),
                item: Some(2),
                version: "SQ010_0010 · Comp v003".into(),
                frame: Some(1001),
                frame_out: Some(1010),
                detail: "=too \"warm\", see sky".into(),
            },
            LogLine {
                what: "pause".into(),
                frame: Some(1040),
                ..LogLine::default()
            },
        ];
        assert_eq!(
            log_csv(&lines),
            "at,who,what,item,version,frame,frame_out,detail\r\n\
             2026-12-06T10:00:00.000Z,Huang Jun,note,2,SQ010_0010 · Comp v003,1001,1010,\"'=too \"\"warm\"\", see sky\"\r\n\
             ,,pause,,,1040,,\r\n"
        );
    }

    #[test]
    fn moves_tell_what_a_new_playhead_is() {
        let still = at(1001);
        assert_eq!(moves(&still, &still), vec![]);
        assert_eq!(moves(&still, &at(1010)), vec![Move::Seek]);
        let playing = Playhead {
            playing: true,
            ..at(1001)
        };
        assert_eq!(moves(&still, &playing), vec![Move::Play]);
        // Paused where playing had got to: a pause, not a seek.
        assert_eq!(moves(&playing, &at(1040)), vec![Move::Pause]);
        // Another frame while playing on is a seek.
        let on = Playhead {
            frame: 1020,
            ..playing.clone()
        };
        assert_eq!(moves(&playing, &on), vec![Move::Seek]);
        let next = Playhead {
            item: 1,
            ..playing.clone()
        };
        assert_eq!(moves(&playing, &next), vec![Move::Item, Move::Play]);
        assert_eq!(
            moves(&still, &Playhead { item: 1, ..at(1) }),
            vec![Move::Item]
        );
        let faster = Playhead {
            rate: 2.0,
            loop_frames: Some([1001, 1010]),
            drawing: Some(pen()),
            ..still.clone()
        };
        assert_eq!(
            moves(&still, &faster),
            vec![Move::Speed, Move::Loop, Move::Drawing]
        );
    }
}
