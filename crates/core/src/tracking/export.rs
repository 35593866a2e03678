//! What a sequence exports: its shots as cuts on one video track, counted in frames at one rate.
//! The EDL and OTIO writers take this and check it here once, so both refuse the same input.

use thiserror::Error;

use super::edl::LOCATOR_COLOURS;
use super::timecode::Rate;

/// Longer than any reel name an editing system writes (Avid, Premiere and Resolve stay within 32
/// characters); a longer "reel" in an EDL line means the line is not an event line at all.
/// The readers and writers of both formats hold to it.
pub const MAX_REEL_CHARS: usize = 64;

/// The most source frames a shot may play per record frame. Beyond it the CMX speed field
/// (`M2`, six whole digits of frames per second) cannot say the speed.
pub const MAX_SPEED: i64 = 1000;

/// One shot of an exported cut. Frames are counted at the export's rate; outs are exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportShot {
    /// The shot's name (`SQ010_0040`), written as a locator in an EDL and as metadata in OTIO.
    pub name: String,
    pub clip_name: Option<String>,
    pub reel: String,
    pub record_in: i64,
    pub record_out: i64,
    pub source_in: i64,
    pub source_out: i64,
    /// The shot's locators, in order: `* LOC:` lines in an EDL, markers on its clip in OTIO.
    pub locators: Vec<ExportLocator>,
}

/// A locator of an exported shot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLocator {
    /// A record frame of its shot: from `record_in` up to, not including, `record_out`.
    pub frame: i64,
    /// One of `edl::LOCATOR_COLOURS`, or none.
    pub colour: Option<String>,
    pub text: String,
}

/// A sequence's cut, ready to be written as an EDL or an OTIO timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub title: String,
    pub rate: Rate,
    /// Whether timecodes count drop-frame; only at 29.97 and 59.94.
    pub drop_frame: bool,
    /// In record order, none overlapping the one before.
    pub shots: Vec<ExportShot>,
}

/// Why a cut cannot be exported, naming the field (`shots[3].reel`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct ExportError {
    pub field: String,
    pub message: String,
}

impl ExportError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ExportError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A stable, machine-readable code for API errors.
    pub const fn code(&self) -> &'static str {
        "tracking.bad_export"
    }
}

/// A text that goes on one line of an EDL: no line breaks or other control characters.
fn one_line(field: &str, text: &str) -> Result<(), ExportError> {
    if text.chars().any(char::is_control) {
        return Err(ExportError::new(
            field,
            "must not contain line breaks or other control characters",
        ));
    }
    Ok(())
}

impl Export {
    /// Checks what both formats need, so that what is written reads back as the same cut.
    ///
    /// Names, clip names and the title are written without surrounding spaces, as every EDL
    /// reader trims them; reels must already be in that form, since they are matched exactly.
    pub fn validate(&self) -> Result<(), ExportError> {
        one_line("title", &self.title)?;
        if self.drop_frame && !self.rate.supports_drop_frame() {
            return Err(ExportError::new(
                "drop_frame",
                format!(
                    "{} fps has no drop-frame timecode, only 29.97 and 59.94",
                    self.rate
                ),
            ));
        }
        let day = self.rate.frames_per_day(self.drop_frame);
        let mut previous_out: Option<i64> = None;
        for (i, shot) in self.shots.iter().enumerate() {
            let at = |name: &str| format!("shots[{i}].{name}");
            one_line(&at("name"), &shot.name)?;
            if let Some(clip) = &shot.clip_name {
                one_line(&at("clip_name"), clip)?;
            }
            one_line(&at("reel"), &shot.reel)?;
            let words: Vec<&str> = shot.reel.split_whitespace().collect();
            if words.is_empty() {
                return Err(ExportError::new(at("reel"), "must not be empty"));
            }
            if words.join(" ") != shot.reel {
                return Err(ExportError::new(
                    at("reel"),
                    "must not start or end with spaces or have two spaces in a row: an EDL cannot keep them",
                ));
            }
            if shot.reel.chars().count() > MAX_REEL_CHARS {
                return Err(ExportError::new(
                    at("reel"),
                    format!("is longer than {MAX_REEL_CHARS} characters"),
                ));
            }
            // A cut may run past midnight: an in point on the first day or the next (the reader
            // counts on from midnight), an out at most half a day after its in, as the reader
            // takes it back.
            for (name, value) in [("record_in", shot.record_in), ("source_in", shot.source_in)] {
                if !(0..2 * day).contains(&value) {
                    return Err(ExportError::new(
                        at(name),
                        format!(
                            "is frame {value}, outside two 24-hour timecode days (0 to {})",
                            2 * day
                        ),
                    ));
                }
            }
            for (name, value, start) in [
                ("record_out", shot.record_out, shot.record_in),
                ("source_out", shot.source_out, shot.source_in),
            ] {
                if value > start + day / 2 {
                    return Err(ExportError::new(
                        at(name),
                        format!(
                            "is frame {value}, more than half a day after its in point {start}"
                        ),
                    ));
                }
            }
            if shot.record_out <= shot.record_in {
                return Err(ExportError::new(
                    at("record_out"),
                    "must be after record_in: a shot lasts at least one frame",
                ));
            }
            if shot.source_out <= shot.source_in {
                return Err(ExportError::new(
                    at("source_out"),
                    "must be after source_in: a shot shows at least one frame",
                ));
            }
            let (record, source) = (
                shot.record_out - shot.record_in,
                shot.source_out - shot.source_in,
            );
            if source > record * MAX_SPEED {
                return Err(ExportError::new(
                    at("source_out"),
                    format!(
                        "plays {source} source frames in {record}: faster than {MAX_SPEED} times"
                    ),
                ));
            }
            for (j, l) in shot.locators.iter().enumerate() {
                let at = |name: &str| format!("shots[{i}].locators[{j}].{name}");
                if !(shot.record_in..shot.record_out).contains(&l.frame) {
                    return Err(ExportError::new(
                        at("frame"),
                        format!(
                            "is frame {}, outside its shot's record {} to {}",
                            l.frame, shot.record_in, shot.record_out
                        ),
                    ));
                }
                if let Some(colour) = &l.colour
                    && !LOCATOR_COLOURS.contains(&colour.as_str())
                {
                    return Err(ExportError::new(
                        at("colour"),
                        format!("must be one of {}", LOCATOR_COLOURS.join(", ")),
                    ));
                }
                one_line(&at("text"), &l.text)?;
            }
            if let Some(out) = previous_out
                && shot.record_in < out
            {
                return Err(ExportError::new(
                    at("record_in"),
                    format!(
                        "is frame {}, before the previous shot ends at frame {out}: shots must be in record order without overlaps",
                        shot.record_in
                    ),
                ));
            }
            previous_out = Some(shot.record_out);
        }
        Ok(())
    }
}

/// A shot as a sequence holds it, to lay on the exported cut: its frames (cut in to cut out,
/// both included) and what the last conformed edit gave it (record and source ranges, outs
/// exclusive), when one did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutShot {
    pub name: String,
    pub clip_name: Option<String>,
    pub reel: Option<String>,
    pub cut_in: i64,
    pub cut_out: i64,
    pub record_in: Option<i64>,
    pub record_out: Option<i64>,
    pub source_in: Option<i64>,
    pub source_out: Option<i64>,
    /// Its locators: (a frame of the shot, colour, text).
    pub locators: Vec<(i64, Option<String>, String)>,
}

/// The shots of a sequence in cut order, laid on the record as an export writes them: each where
/// its edit put it, or, for a shot made by hand (which has no place yet), after the one before;
/// its source from the edit, or its own frames; a locator on frame `f` of a shot at as many
/// frames into its record. The record is as long as the shot (`cut_out - cut_in + 1`) unless the
/// edit said otherwise (a speed change).
pub fn lay(shots: impl IntoIterator<Item = CutShot>) -> Vec<ExportShot> {
    let mut at = 0;
    shots
        .into_iter()
        .map(|s| {
            let len = (s.cut_out - s.cut_in + 1).max(1);
            let record_in = s.record_in.unwrap_or(at).max(at);
            let record_out = record_in + s.record_out.zip(s.record_in).map_or(len, |(o, i)| o - i);
            at = record_out;
            let source_in = s.source_in.unwrap_or(s.cut_in);
            let locators = s
                .locators
                .into_iter()
                .map(|(frame, colour, text)| ExportLocator {
                    frame: record_in + (frame - s.cut_in),
                    colour,
                    text,
                })
                .collect();
            ExportShot {
                name: s.name,
                clip_name: s.clip_name,
                reel: s.reel.unwrap_or_else(|| "AX".into()),
                record_in,
                record_out,
                source_in,
                source_out: s.source_out.unwrap_or(source_in + len),
                locators,
            }
        })
        .collect()
}

/// A shot as its shot list says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShotRow {
    pub name: String,
    pub cut_order: i64,
    /// Its first and last frames, both included.
    pub cut_in: i64,
    pub cut_out: i64,
    pub head_handles: i64,
    pub tail_handles: i64,
    pub reel: Option<String>,
    pub clip_name: Option<String>,
    pub source_in_tc: Option<String>,
    pub source_out_tc: Option<String>,
    pub description: String,
}

/// One CSV field: quoted when it holds a comma, a quote or a line break; a text a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@`) is quoted with a leading `'`.
pub fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula || s.contains([',', '"', '\n', '\r']) {
        format!(
            "\"{}{}\"",
            if formula { "'" } else { "" },
            s.replace('"', "\"\"")
        )
    } else {
        s.to_string()
    }
}

/// The shot list as CSV (RFC 4180), for a bid or a spreadsheet: frames counted as everywhere,
/// in and out included (`frames` = `cut_out` − `cut_in` + 1). A text a spreadsheet would take for
/// a formula (starting with `=`, `+`, `-` or `@`) is written as text.
pub fn shot_list_csv(shots: &[ShotRow]) -> String {
    let field = csv_field;
    let mut out = String::from(
        "shot,cut_order,cut_in,cut_out,frames,head_handles,tail_handles,reel,clip_name,source_in,source_out,description\r\n",
    );
    for s in shots {
        let row = [
            field(&s.name),
            s.cut_order.to_string(),
            s.cut_in.to_string(),
            s.cut_out.to_string(),
            (s.cut_out - s.cut_in + 1).to_string(),
            s.head_handles.to_string(),
            s.tail_handles.to_string(),
            field(s.reel.as_deref().unwrap_or("")),
            field(s.clip_name.as_deref().unwrap_or("")),
            field(s.source_in_tc.as_deref().unwrap_or("")),
            field(s.source_out_tc.as_deref().unwrap_or("")),
            field(&s.description),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A generated cut: rate, drop-frame, and shots laid end to end with gaps between some.
    pub(crate) fn exports() -> impl Strategy<Value = Export> {
        let rate = prop::sample::select(Rate::COMMON.to_vec());
        (rate, any::<bool>(), "[A-Za-z0-9 _.]{0,20}")
            .prop_flat_map(|(rate, df, title)| {
                let df = df && rate.supports_drop_frame();
                let day = rate.frames_per_day(df);
                let shot = (
                    "[A-Z][A-Z0-9_]{0,11}( [A-Z0-9.]{1,4}){0,2}",
                    prop::option::of("[A-Za-z0-9_.()]([A-Za-z0-9_. ()]{0,30}[A-Za-z0-9_.()])?"),
                    "([A-Z0-9_]{1,12})?",
                    prop_oneof![3 => Just(0i64), 1 => 1i64..200],
                    1i64..500,
                    0..day - 2000,
                    prop_oneof![4 => Just(None), 1 => (1i64..=MAX_SPEED).prop_map(Some)],
                    prop::collection::vec(locator(), 0..3),
                );
                (
                    Just(rate),
                    Just(df),
                    Just(title.trim().to_string()),
                    prop::collection::vec(shot, 0..30),
                )
            })
            .prop_map(|(rate, drop_frame, title, shots)| {
                let mut record = rate.frames_per_day(drop_frame) / 24;
                let shots = shots
                    .into_iter()
                    .map(
                        |(reel, clip_name, name, gap, len, source_in, source_len, locators)| {
                            record += gap;
                            let shot = ExportShot {
                                name,
                                clip_name,
                                reel,
                                record_in: record,
                                record_out: record + len,
                                source_in,
                                source_out: source_in + source_len.unwrap_or(len),
                                locators: locators
                                    .into_iter()
                                    .map(|(at, colour, text)| ExportLocator {
                                        frame: record + at % len,
                                        colour,
                                        text,
                                    })
                                    // White at the first frame is where the EDL writes the name.
                                    .filter(|l| {
                                        !(l.frame == record && l.colour.as_deref() == Some("WHITE"))
                                    })
                                    .collect(),
                            };
                            record += len;
                            shot
                        },
                    )
                    .collect();
                Export {
                    title,
                    rate,
                    drop_frame,
                    shots,
                }
            })
    }

    /// A generated locator: frames into its shot (taken modulo its length), colour and text.
    /// Its text is trimmed, as readers trim it, and without a colour starts with no colour's
    /// name.
    fn locator() -> impl Strategy<Value = (i64, Option<String>, String)> {
        let colour = prop::option::of(prop::sample::select(LOCATOR_COLOURS.to_vec()));
        (
            0i64..500,
            colour,
            "([A-Za-z0-9_.]([A-Za-z0-9_. ]{0,20}[A-Za-z0-9_.])?)?",
        )
            .prop_filter(
                "a colourless text that starts with a colour",
                |(_, c, t)| {
                    let first = t.split(' ').next().unwrap_or_default();
                    c.is_some()
                        || !LOCATOR_COLOURS
                            .iter()
                            .any(|k| k.eq_ignore_ascii_case(first))
                },
            )
            .prop_map(|(at, c, t)| (at, c.map(str::to_string), t))
    }

    fn shot() -> ExportShot {
        ExportShot {
            name: "SQ010_0010".into(),
            clip_name: Some("A001C003_220101.MOV".into()),
            reel: "A001C003".into(),
            record_in: 86_400,
            record_out: 86_448,
            source_in: 864_000,
            source_out: 864_048,
            locators: vec![ExportLocator {
                frame: 86_412,
                colour: Some("RED".into()),
                text: "fix the sky".into(),
            }],
        }
    }

    fn field_of(e: &Export) -> String {
        e.validate().unwrap_err().field
    }

    #[test]
    fn validation_names_the_field() {
        let good = Export {
            title: "REEL 1".into(),
            rate: Rate::FPS_24,
            drop_frame: false,
            shots: vec![shot(), shot()],
        };
        let mut e = good.clone();
        e.shots[1].record_in += 48;
        e.shots[1].record_out += 48;
        e.shots[1].locators[0].frame += 48;
        assert_eq!(e.validate(), Ok(()));
        assert_eq!(field_of(&good), "shots[1].record_in");
        type Break = fn(&mut Export);
        let cases: [(Break, &str); 12] = [
            (|e| e.title = "a\nb".into(), "title"),
            (|e| e.drop_frame = true, "drop_frame"),
            (|e| e.shots[0].reel = " A".into(), "shots[0].reel"),
            (|e| e.shots[0].reel = String::new(), "shots[0].reel"),
            (|e| e.shots[0].reel = "R".repeat(65), "shots[0].reel"),
            (
                |e| e.shots[0].clip_name = Some("x\ry".into()),
                "shots[0].clip_name",
            ),
            (|e| e.shots[0].record_out = 86_400, "shots[0].record_out"),
            (|e| e.shots[0].source_in = -1, "shots[0].source_in"),
            (
                |e| e.shots[0].source_out = 864_000 + 48_001,
                "shots[0].source_out",
            ),
            (
                |e| e.shots[0].locators[0].frame = 86_448,
                "shots[0].locators[0].frame",
            ),
            (
                |e| e.shots[0].locators[0].colour = Some("TEAL".into()),
                "shots[0].locators[0].colour",
            ),
            (
                |e| e.shots[0].locators[0].text = "two\nlines".into(),
                "shots[0].locators[0].text",
            ),
        ];
        for (break_it, field) in cases {
            let mut e = good.clone();
            e.shots.truncate(1);
            break_it(&mut e);
            assert_eq!(field_of(&e), field);
            assert_eq!(e.validate().unwrap_err().code(), "tracking.bad_export");
        }
    }

    /// A cut conformed from an edit running past midnight is written back, and reads the same.
    #[test]
    fn a_cut_across_midnight_is_written_and_reads_back() {
        let day = Rate::FPS_24.frames_per_day(false);
        let mut s = shot();
        (s.record_in, s.record_out) = (day - 24, day + 24);
        (s.source_in, s.source_out) = (day - 12, day + 36);
        // A locator after midnight, half a second into the next day.
        s.locators[0].frame = day + 12;
        let e = Export {
            title: "REEL 1".into(),
            rate: Rate::FPS_24,
            drop_frame: false,
            shots: vec![s],
        };
        assert_eq!(e.validate(), Ok(()));
        let back =
            crate::tracking::edl::parse(&crate::tracking::edl::write(&e).unwrap(), e.rate).unwrap();
        let ev = back
            .events
            .iter()
            .find(|ev| ev.track == crate::tracking::edl::TrackKind::Video)
            .unwrap();
        assert_eq!(
            (
                ev.record_out_frames - ev.record_in_frames,
                ev.source_out_frames - ev.source_in_frames
            ),
            (48, 48)
        );
        let marks: Vec<(i64, &str)> = ev
            .locators
            .iter()
            .map(|l| (l.frames, l.text.as_str()))
            .collect();
        assert_eq!(marks, [(day - 24, "SQ010_0010"), (day + 12, "fix the sky")]);
        let mut far = e.clone();
        far.shots[0].record_out = far.shots[0].record_in + day;
        assert_eq!(field_of(&far), "shots[0].record_out");
    }
}
