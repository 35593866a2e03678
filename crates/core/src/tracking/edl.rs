//! CMX 3600 edit decision lists read into a neutral structure: events with their timecodes,
//! transitions, clip names, locators, speed changes and audio channels, and the lines skipped on
//! the way. Mapping events to shots happens elsewhere.

use serde::Serialize;
use thiserror::Error;

use super::export::{Export, ExportError, MAX_REEL_CHARS};
use super::timecode::{Rate, Timecode, TimecodeError};

/// The colours a locator may have, as EDLs spell them: Avid's eight, then the pink (which Avid
/// exports write too), orange and purple of OpenTimelineIO's marker colours. Read in any case,
/// kept in capitals. Any other word after a locator's timecode is its text.
pub const LOCATOR_COLOURS: [&str; 11] = [
    "RED", "GREEN", "BLUE", "CYAN", "MAGENTA", "YELLOW", "BLACK", "WHITE", "PINK", "ORANGE",
    "PURPLE",
];

/// Why an EDL could not be read, naming the 1-based line so an editor can find it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct EdlError {
    pub line: usize,
    pub message: String,
}

impl EdlError {
    fn new(line: usize, message: impl Into<String>) -> Self {
        EdlError {
            line,
            message: message.into(),
        }
    }

    /// A stable, machine-readable code for API errors.
    pub const fn code(&self) -> &'static str {
        "tracking.bad_edl"
    }
}

/// A parsed edit decision list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edl {
    pub title: Option<String>,
    pub events: Vec<EdlEvent>,
    /// Lines that were not understood and were skipped (vendor headers, `>>> SOURCE` tables,
    /// comments before the first event, speed lines for an unknown reel), so an import can show
    /// what it did not use instead of dropping it silently.
    pub ignored_lines: Vec<IgnoredLine>,
    /// Malformed lines of events without picture and locators outside their event, skipped so
    /// the cut can still be conformed (they are in `ignored_lines` too), and locators without a
    /// colour this reader knows (kept, without a colour); each with its reason.
    pub warnings: Vec<EdlWarning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredLine {
    pub line: usize,
    pub text: String,
}

/// A line read with a warning instead of refusing the file: an event line that was malformed
/// but shows no picture (audio only, black, or a track we do not know), so the cut can still be
/// conformed; a locator outside its event's record, which no shot could hold (both skipped);
/// a locator whose first word is no colour this reader knows (kept, without a colour).
/// Every `EdlWarning::code` (each has its words in the catalogs).
pub const WARNING_CODES: [&str; 5] = [
    "record_out_before_in",
    "source_out_before_in",
    "bad_timecode",
    "locator_outside_event",
    "locator_colour_unknown",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EdlWarning {
    /// The 1-based line; in an OpenTimelineIO timeline, the clip's place in its track.
    pub line: usize,
    /// Stable, for machines: `record_out_before_in`, `source_out_before_in`, `bad_timecode`,
    /// `locator_outside_event` or `locator_colour_unknown`.
    pub code: &'static str,
    /// What is wrong; for an event line, worded as the error it would be on a picture event.
    pub message: String,
    /// The line as written (in a timeline, the JSON path of the marker).
    pub text: String,
}

/// One edit: a source range laid onto a record range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdlEvent {
    /// The event number as written; not unique (audio splits and keys repeat it).
    pub number: u32,
    pub reel: String,
    pub track: TrackKind,
    /// The track field as written (`V`, `A2`, `AA/V`, …), which says which audio channels.
    pub track_field: String,
    pub transition: Transition,
    pub source_in: Timecode,
    pub source_out: Timecode,
    pub record_in: Timecode,
    pub record_out: Timecode,
    pub source_in_frames: i64,
    pub source_out_frames: i64,
    pub record_in_frames: i64,
    pub record_out_frames: i64,
    /// Whether the record timecodes count drop-frame (from `FCM:` or a `;` in the timecode).
    pub drop_frame: bool,
    /// `* FROM CLIP NAME:`: the clip of a cut, or the outgoing clip of a dissolve or wipe. Avid's
    /// freeze-frame mark (` FF`) is taken off and kept as the event's `speed`.
    pub clip_name: Option<String>,
    /// The incoming clip of a dissolve or wipe, which is this event's source: `* TO CLIP NAME:`,
    /// or without that line the `* FROM CLIP NAME:` after the incoming event line.
    pub to_clip_name: Option<String>,
    /// `* SOURCE FILE:` or `* FROM FILE:` as written: a bare name or a path to the source media.
    pub source_file: Option<String>,
    /// `* LOC:` markers within the event's record, in the order written.
    pub locators: Vec<Locator>,
    /// From an `M2` line, or a freeze from a clip name's ` FF` mark.
    pub speed: Option<Speed>,
    /// Every other `*` comment, without the star (`COMMENT: …`, `ASC_SOP …`, …), and the
    /// `AUD 3 4` lines naming audio channels the track field has no room for, as written.
    pub comments: Vec<String>,
    /// The line of the event (for a dissolve or wipe, of its incoming clip).
    pub line: usize,
}

impl EdlEvent {
    /// The name of the clip this event's source range comes from; without a clip name line, the
    /// file name of its source file. Never the outgoing clip of a dissolve or wipe.
    pub fn source_clip_name(&self) -> Option<&str> {
        let named = match self.transition {
            Transition::Dissolve { .. } | Transition::Wipe { .. } => &self.to_clip_name,
            _ => &self.clip_name,
        };
        named
            .as_deref()
            .or_else(|| self.source_file.as_deref().and_then(file_name))
    }

    /// Black filler: the `BL` reel (some tools spell it `BLK` or `BLACK`).
    pub fn is_black(&self) -> bool {
        is_black_reel(&self.reel)
    }

    /// The audio channels this event carries, in order: from its track field (`A` and `B` are
    /// channel 1, `A2` channel 2, `AA` both) and from `AUD` lines, which CMX 3600 adds because the
    /// field has no room for channels 3 and 4. The two halves of a dissolve or wipe share a track,
    /// so their `AUD` lines are read together.
    pub fn audio_channels(&self) -> Vec<u8> {
        let mut channels = Vec::new();
        for part in self.track_field.split('/') {
            let part = part.to_ascii_uppercase();
            match part.as_str() {
                "A" | "B" => channels.push(1),
                "AA" => channels.extend([1, 2]),
                _ => channels.extend(part.strip_prefix('A').and_then(channel)),
            }
        }
        for comment in &self.comments {
            channels.extend(aud_channels(comment).unwrap_or_default());
        }
        channels.sort_unstable();
        channels.dedup();
        channels
    }

    pub fn record_frames(&self) -> i64 {
        self.record_out_frames - self.record_in_frames
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    /// Any track field naming video; `B` ("both") counts, since CMX uses it for video with audio.
    Video,
    /// Only audio channels: `A`, `A2`, `AA`, `A1/A2`, …
    AudioOnly,
    /// A track field we do not recognise, kept rather than rejected.
    Other,
}

impl TrackKind {
    fn classify(field: &str) -> TrackKind {
        let parts: Vec<String> = field.split('/').map(str::to_ascii_uppercase).collect();
        let numbered = |p: &str, letter: char| {
            p.strip_prefix(letter)
                .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
        };
        if parts.iter().any(|p| p == "B" || numbered(p, 'V')) {
            TrackKind::Video
        } else if parts.iter().all(|p| p == "AA" || numbered(p, 'A')) {
            TrackKind::AudioOnly
        } else {
            TrackKind::Other
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transition {
    Cut,
    Dissolve { frames: u32 },
    Wipe { code: u16, frames: u32 },
    Key { key: KeyKind, frames: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// `K`: the key (foreground) layer.
    Foreground,
    /// `KB`: the background the key sits on.
    Background,
    /// `KO`: the key fading out.
    Out,
}

/// A marker from `* LOC: 01:00:05:12 RED  text` (Avid may write the hour with one digit). Its
/// timecode is on the record side, as Avid writes it: a frame of the cut, not of the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Locator {
    pub timecode: Timecode,
    /// The absolute record frame (as the event's `record_in_frames`), on the timecode day of its
    /// event's record, so a marker after midnight counts on. Within the event's record.
    pub frames: i64,
    /// One of `LOCATOR_COLOURS`; `None` when the line names none this reader knows, whose
    /// first word then stays in `text`.
    pub colour: Option<String>,
    pub text: String,
    /// The line it was written on (in a timeline, its clip's place in its track).
    pub line: usize,
}

/// A speed change from an `M2` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Speed {
    /// Frames per second in tenths (`+047.9` is 479, `-024.0` is -240, `000.0` a freeze); finer
    /// digits are rounded half away from zero, and `raw` keeps them.
    pub fps_tenths: i32,
    /// The `M2` field as written; for a freeze read from a clip name's ` FF`, `000.0`.
    pub raw: String,
    /// The source timecode where the speed change enters the clip.
    pub source: Timecode,
    /// On the timecode day of its event's source in.
    pub source_frames: i64,
}

impl Speed {
    pub fn is_reverse(&self) -> bool {
        self.fps_tenths < 0
    }

    pub fn is_freeze(&self) -> bool {
        self.fps_tenths == 0
    }
}

/// The record ranges not covered by any video event, as `(start, end)` frame pairs, end
/// exclusive, between the first video event and the last. Overlapping events count once.
pub fn gaps(edl: &Edl) -> Vec<(i64, i64)> {
    let mut ranges: Vec<(i64, i64)> = edl
        .events
        .iter()
        .filter(|e| e.track == TrackKind::Video)
        .map(|e| (e.record_in_frames, e.record_out_frames))
        .collect();
    ranges.sort_unstable();
    let mut out = Vec::new();
    let mut covered_to: Option<i64> = None;
    for (start, end) in ranges {
        if let Some(to) = covered_to
            && start > to
        {
            out.push((to, start));
        }
        covered_to = Some(covered_to.map_or(end, |to| to.max(end)));
    }
    out
}

/// Reads a CMX 3600 EDL. `rate` is the sequence rate; every timecode in the file is counted at
/// it. Each malformed line it skipped has a warning in `warnings` (and is in `ignored_lines`).
///
/// Errors: a malformed event line of a picture event, a malformed `M2` line, a timecode that does
/// not exist at `rate`, an out point before its in point, an unreadable `FCM:` line or one asking
/// for drop-frame at a rate without it, and a `LOC:` with a bad timecode. Skipped with a warning
/// (and listed in `ignored_lines`): an event line with a bad timecode or an out before its in when
/// the event shows no picture (audio only, black, an unknown track), with the lines after it; a
/// `LOC:` outside its event's record. Kept with a warning: a `LOC:` whose first word after the
/// timecode is no colour of `LOCATOR_COLOURS` (all its words are then its text).
/// Tolerated: blank lines, unknown header and vendor lines (listed in `ignored_lines`), unknown
/// `*` comments (kept raw on their event).
///
/// An out point written before its in point is the next day's when that makes the range shorter
/// than half a day: a source or record running past midnight. After such a record the events
/// count on from midnight, each on the timecode day nearest the record before it.
pub fn parse(text: &str, rate: Rate) -> Result<Edl, EdlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        rate,
        drop_frame: false,
        edl: Edl {
            title: None,
            events: Vec::new(),
            ignored_lines: Vec::new(),
            warnings: Vec::new(),
        },
        warnings: Vec::new(),
        block: Block::default(),
        last_record_out: None,
    };
    let lines: Vec<&str> = lines(text).collect();
    for (index, raw) in lines.iter().enumerate() {
        parser.line(index + 1, raw.trim())?;
    }
    parser.end_block();
    parser.skip_stray_locators(&lines);
    parser.edl.warnings = parser.warnings;
    Ok(parser.edl)
}

/// Lines ended by `\n`, `\r\n` or, in files from classic Mac OS tools, a lone `\r`.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let separator = if text.contains('\n') { '\n' } else { '\r' };
    text.split(separator)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// `s` without `prefix`, compared case-insensitively; `None` if it does not start with it.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// The first whitespace-separated word and the rest with its inner spacing kept.
fn first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_black_reel(reel: &str) -> bool {
    ["BL", "BLK", "BLACK"]
        .iter()
        .any(|b| reel.eq_ignore_ascii_case(b))
}

/// An audio channel number: digits, from 1.
fn channel(s: &str) -> Option<u8> {
    if !is_digits(s) {
        return None;
    }
    s.parse().ok().filter(|&c| c > 0)
}

/// The channels of an `AUD 3 4` line (`AUD 3`, `AUD   4`, …), or `None` if it is not one.
fn aud_channels(text: &str) -> Option<Vec<u8>> {
    let mut words = text.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("AUD") {
        return None;
    }
    let channels: Vec<u8> = words.map(channel).collect::<Option<_>>()?;
    (!channels.is_empty()).then_some(channels)
}

/// The last part of a path, whether written with `/` or `\`, with its extension.
fn file_name(path: &str) -> Option<&str> {
    let name = path.rsplit(['/', '\\']).next()?.trim();
    (!name.is_empty()).then_some(name)
}

/// Where Avid's freeze-frame mark starts in a clip name ending with one (`A001C003 FF`).
fn freeze_mark(name: &str) -> Option<usize> {
    let bare = name.strip_suffix("FF")?.trim_end();
    (!bare.is_empty() && bare.len() < name.len() - 2).then_some(bare.len())
}

/// Avid writes a one-digit hour in locators (`1:00:05:12`); timecodes elsewhere have two.
fn pad_hour(tc: &str) -> std::borrow::Cow<'_, str> {
    let b = tc.as_bytes();
    if matches!(b.len(), 10 | 11) && b[0].is_ascii_digit() && matches!(b[1], b':' | b';') {
        format!("0{tc}").into()
    } else {
        tc.into()
    }
}

/// How many timecode days to add to `frames` to land nearest `reference`, never before day 0.
fn days_toward(frames: i64, reference: i64, day: i64) -> i64 {
    (reference - frames + day / 2).div_euclid(day).max(0)
}

/// An out point's frames, `days` after its timecode's own day like its in point; an out before
/// its in is the next day's if the range is then shorter than half a day, else `None`.
fn out_point(in_frames: i64, out: Timecode, out_frames: i64, days: i64, rate: Rate) -> Option<i64> {
    let day = rate.frames_per_day(out.drop_frame);
    let same_day = out_frames + days * day;
    if same_day >= in_frames {
        return Some(same_day);
    }
    let next_day = same_day + day;
    (next_day - in_frames <= day / 2).then_some(next_day)
}

struct Parser {
    rate: Rate,
    /// The mode set by the last `FCM:` line; it applies to the events after it.
    drop_frame: bool,
    edl: Edl,
    warnings: Vec<EdlWarning>,
    /// What the lines after the latest event line said that is settled at the next one.
    block: Block,
    /// Where the record of the latest event ended, with any days past midnight.
    last_record_out: Option<i64>,
}

/// The lines between one event line and the next.
#[derive(Default)]
struct Block {
    /// Its event line was skipped: the lines after it describe no event that was kept.
    skipped: bool,
    /// A dissolve's or wipe's first `FROM CLIP NAME` after its incoming line. It names the
    /// incoming clip unless a `TO CLIP NAME` does, which is only known when the block ends.
    from: Option<NameLine>,
    /// The comment that gave the event its `source_file`, to keep as written should the event
    /// turn out to be the outgoing line of a dissolve, whose file is not the incoming clip's.
    file_comment: Option<String>,
}

struct NameLine {
    name: String,
    /// The comment as written, without the star.
    comment: String,
}

/// Why an event line was not read. A picture event refuses the file; an event that shows no
/// picture is skipped with `skip` as its warning's code, when the line was read far enough to
/// know what it shows.
struct Rejected {
    error: EdlError,
    skip: Option<&'static str>,
}

impl From<EdlError> for Rejected {
    fn from(error: EdlError) -> Self {
        Rejected { error, skip: None }
    }
}

impl Parser {
    fn line(&mut self, line: usize, text: &str) -> Result<(), EdlError> {
        if text.is_empty() {
            return Ok(());
        }
        if let Some(body) = text.strip_prefix('*') {
            return self.comment(line, text, body.trim());
        }
        if let Some(rest) = strip_prefix_ci(text, "TITLE:") {
            if self.edl.title.is_none() {
                let title = rest.trim();
                if !title.is_empty() {
                    self.edl.title = Some(title.to_string());
                }
                return Ok(());
            }
            self.ignore(line, text);
            return Ok(());
        }
        if let Some(rest) = strip_prefix_ci(text, "FCM:") {
            return self.fcm(line, rest);
        }
        let (first, _) = first_word(text);
        if first.eq_ignore_ascii_case("M2") {
            return self.speed(line, text);
        }
        if is_digits(first) {
            let ended = self.end_block();
            match self.event(line, text) {
                Ok(event) => self.push_event(event, ended),
                Err(Rejected {
                    error,
                    skip: Some(code),
                }) => {
                    self.warnings.push(EdlWarning {
                        line,
                        code,
                        message: error.message,
                        text: text.to_string(),
                    });
                    self.ignore(line, text);
                    self.block.skipped = true;
                }
                Err(Rejected { error, skip: None }) => return Err(error),
            }
            return Ok(());
        }
        if first.eq_ignore_ascii_case("AUD") {
            self.audio(line, text);
            return Ok(());
        }
        self.ignore(line, text);
        Ok(())
    }

    fn ignore(&mut self, line: usize, text: &str) {
        self.edl.ignored_lines.push(IgnoredLine {
            line,
            text: text.to_string(),
        });
    }

    fn fcm(&mut self, line: usize, rest: &str) -> Result<(), EdlError> {
        let letters: String = rest
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        self.drop_frame = match letters.as_str() {
            "DROPFRAME" => true,
            "NONDROPFRAME" => false,
            _ => {
                return Err(EdlError::new(
                    line,
                    format!(
                        "FCM must be DROP FRAME or NON-DROP FRAME, not {:?}",
                        rest.trim()
                    ),
                ));
            }
        };
        if self.drop_frame && !self.rate.supports_drop_frame() {
            return Err(EdlError::new(
                line,
                format!(
                    "FCM: DROP FRAME, but the sequence rate {} fps has no drop-frame timecode; check the frame rate chosen for this import",
                    self.rate
                ),
            ));
        }
        Ok(())
    }

    /// A timecode field: drop-frame if the `FCM:` in force says so or the field is written with
    /// `;`.
    fn timecode(&self, line: usize, what: &str, text: &str) -> Result<(Timecode, i64), EdlError> {
        let describe = |e: TimecodeError| {
            let message = match &e {
                TimecodeError::BadShape(_) => format!("{what}: {e}"),
                _ => format!("{what} {text}: {e}"),
            };
            EdlError::new(line, message)
        };
        let mut tc = Timecode::parse(text, self.rate).map_err(describe)?;
        if self.drop_frame {
            tc.drop_frame = true;
        }
        let frames = tc.to_frames(self.rate).map_err(describe)?;
        Ok((tc, frames))
    }

    fn event(&self, line: usize, text: &str) -> Result<EdlEvent, Rejected> {
        let err = |message: String| EdlError::new(line, message);
        let tokens: Vec<&str> = text.split_whitespace().collect();
        if tokens.len() < 8 {
            return Err(err(format!(
                "an event line needs an event number, reel, track, transition and four timecodes, but this one has {} fields",
                tokens.len()
            ))
            .into());
        }
        let number: u32 = tokens[0]
            .parse()
            .map_err(|_| err(format!("event number {} is too large", tokens[0])))?;
        let (middle, times) = tokens[1..].split_at(tokens.len() - 5);

        // Read the middle from the right: the reel is what is left, so a reel name with spaces
        // (which some tools write) still parses.
        let mut end = middle.len();
        let mut duration = None;
        if end >= 4 && is_digits(middle[end - 1]) {
            let d = middle[end - 1];
            duration = Some(
                d.parse::<u32>()
                    .map_err(|_| err(format!("transition duration {d} is too large")))?,
            );
            end -= 1;
        }
        let transition_text = if end >= 4
            && middle[end - 2].eq_ignore_ascii_case("K")
            && (middle[end - 1].eq_ignore_ascii_case("B")
                || middle[end - 1].eq_ignore_ascii_case("O"))
        {
            end -= 2;
            format!("K{}", middle[end + 1])
        } else {
            end -= 1;
            middle[end].to_string()
        };
        let transition = transition(&transition_text, duration).map_err(err)?;
        if end < 2 {
            return Err(err(
                "an event line needs a reel and a track before the transition".to_string(),
            )
            .into());
        }
        let track_field = middle[end - 1].to_string();
        let reel = middle[..end - 1].join(" ");
        if reel.chars().count() > MAX_REEL_CHARS {
            return Err(err(format!(
                "reel name is longer than {MAX_REEL_CHARS} characters; is this an event line?"
            ))
            .into());
        }

        let track = TrackKind::classify(&track_field);

        // From here the line is an event line whose track is known, so a flaw in an event that
        // shows no picture costs that event rather than the whole cut.
        let shows_picture = track == TrackKind::Video && !is_black_reel(&reel);
        let reject = |code: &'static str, error: EdlError| Rejected {
            error,
            skip: (!shows_picture).then_some(code),
        };
        let timecode = |what: &str, text: &str| {
            self.timecode(line, what, text)
                .map_err(|e| reject("bad_timecode", e))
        };
        let (source_in, source_in_frames) = timecode("source in", times[0])?;
        let (source_out, source_out_frames) = timecode("source out", times[1])?;
        let (record_in, record_in_frames) = timecode("record in", times[2])?;
        let (record_out, record_out_frames) = timecode("record out", times[3])?;
        let source_out_frames = out_point(
            source_in_frames,
            source_out,
            source_out_frames,
            0,
            self.rate,
        )
        .ok_or_else(|| {
            reject(
                "source_out_before_in",
                err(format!(
                    "source out {source_out} is before source in {source_in}"
                )),
            )
        })?;
        let record_days = self.last_record_out.map_or(0, |last| {
            days_toward(
                record_in_frames,
                last,
                self.rate.frames_per_day(record_in.drop_frame),
            )
        });
        let record_in_frames =
            record_in_frames + record_days * self.rate.frames_per_day(record_in.drop_frame);
        let record_out_frames = out_point(
            record_in_frames,
            record_out,
            record_out_frames,
            record_days,
            self.rate,
        )
        .ok_or_else(|| {
            reject(
                "record_out_before_in",
                err(format!(
                    "record out {record_out} is before record in {record_in}"
                )),
            )
        })?;
        Ok(EdlEvent {
            number,
            reel,
            track,
            track_field,
            transition,
            source_in,
            source_out,
            record_in,
            record_out,
            source_in_frames,
            source_out_frames,
            record_in_frames,
            record_out_frames,
            drop_frame: record_in.drop_frame,
            clip_name: None,
            to_clip_name: None,
            source_file: None,
            locators: Vec::new(),
            speed: None,
            comments: Vec::new(),
            line,
        })
    }

    /// A dissolve or wipe is written as the outgoing clip (a cut line) followed by the incoming
    /// clip with the same event number; fold the pair into one event sourced from the incoming
    /// clip, keeping anything already attached to the outgoing line. `ended` is the block of the
    /// line before, which is the outgoing one when they pair.
    fn push_event(&mut self, mut event: EdlEvent, ended: Block) {
        let is_pair = matches!(
            event.transition,
            Transition::Dissolve { .. } | Transition::Wipe { .. }
        ) && !ended.skipped
            && self.edl.events.last().is_some_and(|prev| {
                prev.number == event.number
                    && prev.transition == Transition::Cut
                    && prev.track == event.track
            });
        if is_pair && let Some(outgoing) = self.edl.events.pop() {
            event.clip_name = outgoing.clip_name;
            event.to_clip_name = outgoing.to_clip_name;
            event.locators = outgoing.locators;
            event.comments = outgoing.comments;
            // The outgoing line's file is the outgoing clip's; as this event's `source_file` it
            // would name the wrong clip, so it stays only as the comment it was.
            event.comments.extend(ended.file_comment);
        }
        self.last_record_out = Some(event.record_out_frames);
        self.edl.events.push(event);
    }

    /// Settles the names of the latest event once no more of its lines can follow, and hands
    /// back its block.
    fn end_block(&mut self) -> Block {
        let mut block = std::mem::take(&mut self.block);
        if !block.skipped
            && let Some(event) = self.edl.events.last_mut()
        {
            settle_names(event, block.from.take());
        }
        block
    }

    fn comment(&mut self, line: usize, text: &str, body: &str) -> Result<(), EdlError> {
        if self.block.skipped {
            self.ignore(line, text);
            return Ok(());
        }
        let locator = match strip_prefix_ci(body, "LOC:") {
            Some(rest) => Some(self.locator(line, rest)?),
            None => None,
        };
        let Some(event) = self.edl.events.last_mut() else {
            self.ignore(line, text);
            return Ok(());
        };
        if let Some(mut locator) = locator {
            let day = self.rate.frames_per_day(locator.timecode.drop_frame);
            locator.frames += days_toward(locator.frames, event.record_in_frames, day) * day;
            if locator.colour.is_none() && !locator.text.is_empty() {
                let (word, _) = first_word(&locator.text);
                self.warnings.push(EdlWarning {
                    line,
                    code: "locator_colour_unknown",
                    message: format!(
                        "locator colour {word:?} is not one of {}; the locator has no colour and the word stays in its text",
                        LOCATOR_COLOURS.join(", ")
                    ),
                    text: text.to_string(),
                });
            }
            event.locators.push(locator);
            return Ok(());
        }
        let dissolve = matches!(
            event.transition,
            Transition::Dissolve { .. } | Transition::Wipe { .. }
        );
        let value = |prefix: &str| {
            strip_prefix_ci(body, prefix)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        // A repeated name is unusual; the first is kept and a repeat stays a raw comment.
        if let Some(name) = value("FROM CLIP NAME:") {
            if dissolve && self.block.from.is_none() {
                self.block.from = Some(NameLine {
                    name: name.to_string(),
                    comment: body.to_string(),
                });
                return Ok(());
            }
            if !dissolve && event.clip_name.is_none() {
                event.clip_name = Some(name.to_string());
                return Ok(());
            }
        } else if let Some(name) = value("TO CLIP NAME:") {
            if event.to_clip_name.is_none() {
                event.to_clip_name = Some(name.to_string());
                return Ok(());
            }
        } else if let Some(file) = value("SOURCE FILE:").or_else(|| value("FROM FILE:"))
            && event.source_file.is_none()
        {
            event.source_file = Some(file.to_string());
            self.block.file_comment = Some(body.to_string());
            return Ok(());
        }
        event.comments.push(body.to_string());
        Ok(())
    }

    /// `AUD 3 4` after an event names the audio channels beyond the track field's reach.
    fn audio(&mut self, line: usize, text: &str) {
        let event = self.edl.events.last_mut().filter(|_| !self.block.skipped);
        match (event, aud_channels(text)) {
            (Some(event), Some(_)) => {
                // `NONE` in the track field with channels after it is audio on those alone.
                if event.track_field.eq_ignore_ascii_case("NONE") {
                    event.track = TrackKind::AudioOnly;
                }
                event.comments.push(text.to_string());
            }
            _ => self.ignore(line, text),
        }
    }

    fn locator(&self, line: usize, rest: &str) -> Result<Locator, EdlError> {
        let (tc_text, rest) = first_word(rest);
        let (timecode, frames) = self.timecode(line, "locator", &pad_hour(tc_text))?;
        let (word, after) = first_word(rest);
        let (colour, text) = if LOCATOR_COLOURS.iter().any(|c| word.eq_ignore_ascii_case(c)) {
            (Some(word.to_ascii_uppercase()), after)
        } else {
            (None, rest)
        };
        Ok(Locator {
            timecode,
            frames,
            colour,
            text: text.trim_end().to_string(),
            line,
        })
    }

    /// Takes off each event the locators outside its record, which no shot of it could hold,
    /// and lists their lines as skipped with a warning. Done once every event is whole: a
    /// dissolve's locators may be written under its outgoing line, whose record is empty.
    fn skip_stray_locators(&mut self, lines: &[&str]) {
        let edl = &mut self.edl;
        for event in &mut edl.events {
            let record = event.record_in_frames..event.record_out_frames;
            let (kept, stray): (Vec<Locator>, Vec<Locator>) = std::mem::take(&mut event.locators)
                .into_iter()
                .partition(|l| record.contains(&l.frames));
            event.locators = kept;
            for l in stray {
                let text = lines.get(l.line - 1).map_or("", |t| t.trim()).to_string();
                edl.ignored_lines.push(IgnoredLine {
                    line: l.line,
                    text: text.clone(),
                });
                self.warnings.push(EdlWarning {
                    line: l.line,
                    code: "locator_outside_event",
                    message: format!(
                        "locator {} is outside the record {} to {} of its event (line {})",
                        l.timecode, event.record_in, event.record_out, event.line
                    ),
                    text,
                });
            }
        }
        edl.ignored_lines.sort_by_key(|l| l.line);
        self.warnings.sort_by_key(|w| w.line);
    }

    /// `M2   REEL   +047.9   01:00:10:00` attaches to the latest event of that reel.
    fn speed(&mut self, line: usize, text: &str) -> Result<(), EdlError> {
        let tokens: Vec<&str> = text.split_whitespace().collect();
        if tokens.len() < 4 {
            return Err(EdlError::new(
                line,
                "a speed line needs M2, a reel, a speed in frames per second and a source timecode",
            ));
        }
        let raw = tokens[tokens.len() - 2];
        let fps_tenths = tenths(raw).ok_or_else(|| {
            EdlError::new(
                line,
                format!("speed {raw} is not a number of frames per second"),
            )
        })?;
        let (source, source_frames) =
            self.timecode(line, "speed source", tokens[tokens.len() - 1])?;
        let reel = tokens[1..tokens.len() - 2].join(" ");
        let target = self
            .edl
            .events
            .iter_mut()
            .rev()
            .find(|e| e.reel == reel)
            .filter(|e| e.speed.is_none() && !self.block.skipped);
        match target {
            Some(event) => {
                let day = self.rate.frames_per_day(source.drop_frame);
                event.speed = Some(Speed {
                    fps_tenths,
                    raw: raw.to_string(),
                    source,
                    source_frames: source_frames
                        + days_toward(source_frames, event.source_in_frames, day) * day,
                });
            }
            None => self.ignore(line, text),
        }
        Ok(())
    }
}

/// What an event's name lines say together, once no more can follow: which clip a dissolve's
/// `FROM CLIP NAME` after its incoming line names, and whether its source clip is a freeze.
fn settle_names(event: &mut EdlEvent, from: Option<NameLine>) {
    let dissolve = matches!(
        event.transition,
        Transition::Dissolve { .. } | Transition::Wipe { .. }
    );
    if let Some(from) = from {
        // With a TO line, the FROM names the outgoing clip, as Avid writes a dissolve; without
        // one, it is the incoming clip's own name.
        if event.to_clip_name.is_none() {
            event.to_clip_name = Some(from.name);
        } else if event.clip_name.is_none() {
            // The outgoing clip's freeze, if marked, is its own event's: only its name is kept.
            let mut name = from.name;
            if let Some(at) = freeze_mark(&name) {
                name.truncate(at);
            }
            event.clip_name = Some(name);
        } else {
            event.comments.push(from.comment);
        }
    }
    let playing = event.speed.as_ref().is_some_and(|s| !s.is_freeze());
    let source = if dissolve {
        &mut event.to_clip_name
    } else {
        &mut event.clip_name
    };
    // Avid marks only freezes with ` FF`: on a clip an `M2` line says is playing, it is part of
    // the name (and `write` relies on that to keep such a name).
    if !playing
        && let Some(name) = source
        && let Some(at) = freeze_mark(name)
    {
        name.truncate(at);
        if event.speed.is_none() {
            event.speed = Some(Speed {
                fps_tenths: 0,
                raw: "000.0".to_string(),
                source: event.source_in,
                source_frames: event.source_in_frames,
            });
        }
    }
}

/// Writes a cut as a CMX 3600 EDL that `parse` reads back to the same events: one `V` cut per
/// shot with its clip name as `* FROM CLIP NAME:` and its shot name as a white locator at its
/// record in, then its own locators as `* LOC: <record timecode> <COLOUR> <text>`, and an `M2`
/// speed line where the source runs at another speed than the record. A clip name ending in
/// ` FF` gets its `M2` line even at normal speed: Avid marks freeze frames so, and a reader
/// would otherwise take the shot for one. A locator without a colour is written without one;
/// should its text start with a colour's name, it reads back with that colour (CMX 3600 has no
/// way to say otherwise).
///
/// Reels are written whole, padded to the customary eight columns: a longer reel pushes the rest
/// of the line right (as Premiere writes it), which `parse` and OpenTimelineIO both read.
pub fn write(export: &Export) -> Result<String, ExportError> {
    use std::fmt::Write as _;

    export.validate()?;
    let (rate, drop_frame) = (export.rate, export.drop_frame);
    let tc = |frames: i64| Timecode::from_frames(frames, rate, drop_frame);
    let mut out = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(out, "TITLE: {}", export.title.trim());
    let _ = writeln!(
        out,
        "FCM: {}",
        if drop_frame {
            "DROP FRAME"
        } else {
            "NON-DROP FRAME"
        }
    );
    for (i, shot) in export.shots.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n{:03}  {:<8} V     C        {} {} {} {}",
            i + 1,
            shot.reel,
            tc(shot.source_in),
            tc(shot.source_out),
            tc(shot.record_in),
            tc(shot.record_out)
        );
        let (record, source) = (
            shot.record_out - shot.record_in,
            shot.source_out - shot.source_in,
        );
        let clip = shot
            .clip_name
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if record != source || clip.is_some_and(|c| freeze_mark(c).is_some()) {
            let _ = writeln!(
                out,
                "M2   {:<8}       {}                {}",
                shot.reel,
                speed_field(source, record, rate),
                tc(shot.source_in)
            );
        }
        if let Some(clip) = clip {
            let _ = writeln!(out, "* FROM CLIP NAME: {clip}");
        }
        let name = shot.name.trim();
        if !name.is_empty() {
            let _ = writeln!(out, "* LOC: {} WHITE   {name}", tc(shot.record_in));
        }
        for l in &shot.locators {
            let colour = l.colour.as_deref().map(|c| format!("{c:<7} "));
            let line = format!(
                "* LOC: {} {}{}",
                tc(l.frame),
                colour.unwrap_or_default(),
                l.text.trim()
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    Ok(out)
}

/// The `M2` speed in frames per second, to a tenth, as Avid writes it: `047.9`, `000.0`.
fn speed_field(source: i64, record: i64, rate: Rate) -> String {
    // Tenths of frames per second: source/record × num/den × 10, rounded half up.
    let num = i128::from(source) * i128::from(rate.num()) * 20
        + i128::from(record) * i128::from(rate.den());
    let tenths = num / (i128::from(record) * i128::from(rate.den()) * 2);
    format!("{:03}.{}", tenths / 10, tenths % 10)
}

fn transition(text: &str, duration: Option<u32>) -> Result<Transition, String> {
    let upper = text.to_ascii_uppercase();
    let needs_duration = |what: &str| {
        duration.ok_or_else(|| format!("a {what} needs its duration in frames after {text}"))
    };
    Ok(match upper.as_str() {
        "C" => Transition::Cut,
        "D" => Transition::Dissolve {
            frames: needs_duration("dissolve")?,
        },
        "K" => Transition::Key {
            key: KeyKind::Foreground,
            frames: duration.unwrap_or(0),
        },
        "KB" => Transition::Key {
            key: KeyKind::Background,
            frames: duration.unwrap_or(0),
        },
        "KO" => Transition::Key {
            key: KeyKind::Out,
            frames: duration.unwrap_or(0),
        },
        _ => match upper.strip_prefix('W') {
            Some(code) if is_digits(code) && code.len() <= 4 => Transition::Wipe {
                code: code
                    .parse()
                    .map_err(|_| format!("wipe code {code} is too large"))?,
                frames: needs_duration("wipe")?,
            },
            _ => {
                return Err(format!(
                    "transition {text:?} is not C, D, Wnnn, K, KB or KO"
                ));
            }
        },
    })
}

/// `+047.9` → 479; at most six whole digits so the result always fits.
fn tenths(raw: &str) -> Option<i32> {
    let (negative, unsigned) = match raw.as_bytes().first()? {
        b'-' => (true, raw.get(1..)?),
        b'+' => (false, raw.get(1..)?),
        _ => (false, raw),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if !is_digits(whole) || whole.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digit = |i: usize| {
        fraction
            .as_bytes()
            .get(i)
            .map_or(0, |b| i32::from(b - b'0'))
    };
    let mut value = whole.parse::<i32>().ok()? * 10 + digit(0);
    if digit(1) >= 5 {
        value += 1;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::export::{ExportLocator, ExportShot};
    use proptest::prelude::*;

    const AVID: &str = "\u{feff}TITLE: REEL 3 LOCK v12\r
FCM: DROP FRAME\r
\r
001  BL       V     C        00:00:00:00 00:00:00:00 01:00:00:00 01:00:00:00\r
001  A003C012 V     D    024 14:22:10:05 14:22:13:05 01:00:00:00 01:00:03:00\r
* FROM CLIP NAME:  BLACK\r
* TO CLIP NAME:  A003C012_230514_R1ZK.MOV\r
* SOURCE FILE: A003C012_230514_R1ZK\r
002  A004C001 V     C        15:01:00:10 15:01:02:10 01:00:03:00 01:00:05:00\r
* FROM CLIP NAME:  A004C001_230514_R1ZK.MOV\r
* LOC: 01:00:04:00 RED      VFX_030_010 sky replacement\r
* COMMENT: check flicker  \r
M2   A004C001       047.9                15:01:00:10\r
003  A004C001 AA    C        15:01:00:10 15:01:02:10 01:00:03:00 01:00:05:00\r
004  BL       V     C        00:00:00:00 00:00:01:00 01:00:05:00 01:00:06:00\r
FCM: NON-DROP FRAME\r
005  B001C007 V     W001 015 09:59:59:00 10:00:02:00 01:00:06:00 01:00:09:00\r
006  B001C007 V     C        10:00:05:00 10:00:06:00 01:00:10:00 01:00:11:00\r
M2   B001C007       -029.9               10:00:06:00\r
* ASC_SOP (1.0 1.0 1.0)(0.0 0.0 0.0)(1.0 1.0 1.0)\r
";

    fn rec_frames(e: &EdlEvent) -> (i64, i64) {
        (e.record_in_frames, e.record_out_frames)
    }

    #[test]
    fn avid_edl() {
        let rate = Rate::FPS_29_97;
        let edl = parse(AVID, rate).unwrap();
        assert_eq!(edl.title.as_deref(), Some("REEL 3 LOCK v12"));
        assert!(edl.ignored_lines.is_empty(), "{:?}", edl.ignored_lines);
        let numbers: Vec<u32> = edl.events.iter().map(|e| e.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);

        // The dissolve from black: one event, sourced from the incoming clip.
        let e = &edl.events[0];
        assert_eq!(e.reel, "A003C012");
        assert_eq!(e.transition, Transition::Dissolve { frames: 24 });
        assert_eq!(e.line, 5);
        assert!(e.drop_frame && e.source_in.drop_frame);
        assert_eq!(e.record_in.to_string(), "01:00:00;00");
        assert_eq!(rec_frames(e), (107_892, 107_892 + 90));
        assert_eq!(e.clip_name.as_deref(), Some("BLACK"));
        assert_eq!(e.source_clip_name(), Some("A003C012_230514_R1ZK.MOV"));
        assert_eq!(e.source_file.as_deref(), Some("A003C012_230514_R1ZK"));

        let e = &edl.events[1];
        assert_eq!(e.source_clip_name(), Some("A004C001_230514_R1ZK.MOV"));
        assert_eq!(e.track, TrackKind::Video);
        assert_eq!(e.locators.len(), 1);
        let loc = &e.locators[0];
        assert_eq!(loc.timecode.to_string(), "01:00:04;00");
        assert_eq!(loc.frames, 107_892 + 120);
        assert_eq!(loc.colour.as_deref(), Some("RED"));
        assert_eq!(loc.text, "VFX_030_010 sky replacement");
        assert_eq!(e.comments, ["COMMENT: check flicker"]);
        let speed = e.speed.as_ref().unwrap();
        assert_eq!(speed.fps_tenths, 479);
        assert_eq!(speed.raw, "047.9");
        assert_eq!(speed.source.to_string(), "15:01:00;10");
        assert!(!speed.is_reverse());
        // The audio event of the same reel comes after the speed line, so it has no speed.
        let audio = &edl.events[2];
        assert_eq!(audio.track, TrackKind::AudioOnly);
        assert_eq!(audio.track_field, "AA");
        assert!(audio.speed.is_none());

        let black = &edl.events[3];
        assert!(black.is_black());
        assert_eq!(black.track, TrackKind::Video);

        // After FCM: NON-DROP FRAME the same digits count differently.
        let wipe = &edl.events[4];
        assert!(!wipe.drop_frame);
        assert_eq!(
            wipe.transition,
            Transition::Wipe {
                code: 1,
                frames: 15
            }
        );
        assert_eq!(wipe.record_in_frames, 108_000 + 180);
        let reverse = &edl.events[5];
        assert!(reverse.speed.as_ref().unwrap().is_reverse());
        assert_eq!(reverse.speed.as_ref().unwrap().fps_tenths, -299);
        assert_eq!(reverse.comments.len(), 1);
        assert!(reverse.comments[0].starts_with("ASC_SOP"));

        // Frame counts are per counting mode: 01:00:06;00 (drop-frame, event 4's end) is frame
        // 108 072 and 01:00:06:00 (non-drop, event 5's start) is frame 108 180, so a mid-file
        // FCM change shows up as a gap between them.
        assert_eq!(
            gaps(&edl),
            [
                (107_892 + 180, 108_000 + 180),
                (108_000 + 270, 108_000 + 300)
            ]
        );
    }

    #[test]
    fn avid_edl_serialises() {
        let edl = parse(AVID, Rate::FPS_29_97).unwrap();
        let json = serde_json::to_value(&edl).unwrap();
        assert_eq!(json["events"][0]["transition"]["kind"], "dissolve");
        assert_eq!(json["events"][0]["transition"]["frames"], 24);
        assert_eq!(json["events"][0]["record_in"], "01:00:00;00");
        assert_eq!(json["events"][2]["track"], "audio_only");
    }

    #[test]
    fn premiere_edl_with_long_reels() {
        let text = "TITLE: Sequence 01
FCM: NON-DROP FRAME

000001  Interview_Cam_A_Take_03_Final_v2 V     C        00:00:10:00 00:00:15:12 00:00:00:00 00:00:05:12  
* FROM CLIP NAME: Interview_Cam_A_Take_03_Final_v2.mov
000002  AX       V     C        00:00:00:00 00:00:02:00 00:00:05:12 00:00:07:12
* FROM CLIP NAME: Title Card.psd
000003  AX       A     C        00:00:00:00 00:00:07:12 00:00:00:00 00:00:07:12
000004  AX       A2    C        00:00:00:00 00:00:07:12 00:00:00:00 00:00:07:12
000005  Drone Shot 7 V     C        00:01:00:00 00:01:01:00 00:00:08:00 00:00:09:00
";
        let edl = parse(text, Rate::FPS_23_976).unwrap();
        assert_eq!(edl.events.len(), 5);
        assert_eq!(edl.events[0].reel, "Interview_Cam_A_Take_03_Final_v2");
        assert_eq!(rec_frames(&edl.events[0]), (0, 5 * 24 + 12));
        assert_eq!(edl.events[1].clip_name.as_deref(), Some("Title Card.psd"));
        assert_eq!(edl.events[2].track, TrackKind::AudioOnly);
        assert_eq!(edl.events[3].track, TrackKind::AudioOnly);
        assert_eq!(edl.events[4].reel, "Drone Shot 7");
        assert_eq!(gaps(&edl), [(7 * 24 + 12, 8 * 24)]);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        let rate = Rate::FPS_25;
        let head = "TITLE: T\nFCM: NON-DROP FRAME\n001  AX V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n";
        let cases = [
            (
                "002  AX V C 00:00:00:00 00:00:01:00 01:00:01:00",
                4,
                "four timecodes",
            ),
            (
                "002  AX V X 00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00",
                4,
                "transition \"X\"",
            ),
            (
                "002  AX V D 00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00",
                4,
                "dissolve needs its duration",
            ),
            (
                "002  AX V C 00:00:00:00 00:00:01:00 01:00:05:00 01:00:04:00",
                4,
                "record out 01:00:04:00 is before record in 01:00:05:00",
            ),
            (
                "002  AX V C 00:00:02:00 00:00:01:00 01:00:01:00 01:00:02:00",
                4,
                "source out 00:00:01:00 is before source in 00:00:02:00",
            ),
            (
                "002  AX V C 00:00:00:25 00:00:01:00 01:00:01:00 01:00:02:00",
                4,
                "source in 00:00:00:25: frames is 25",
            ),
            (
                "002  AX V C 00:00:00:00 00:00:01:00 01:00:01;00 01:00:02:00",
                4,
                "drop-frame",
            ),
            (
                "002  AX V C 0:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00",
                4,
                "source in: \"0:00:00:00\" is not a timecode",
            ),
            (
                "99999999999 AX V C 00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00",
                4,
                "too large",
            ),
            ("FCM: DROP FRAME", 4, "has no drop-frame"),
            ("FCM: SOMETIMES", 4, "FCM must be"),
            ("M2 AX 025.0", 4, "speed line needs"),
            ("M2 AX fast 00:00:00:00", 4, "speed fast"),
            ("* LOC: 1:00 RED x", 4, "locator"),
        ];
        for (line, at, says) in cases {
            let err = parse(&format!("{head}{line}\n"), rate).unwrap_err();
            assert_eq!(err.line, at, "{line}");
            assert!(err.to_string().starts_with(&format!("line {at}: ")));
            assert!(err.message.contains(says), "{line}: {}", err.message);
            assert_eq!(err.code(), "tracking.bad_edl");
        }
    }

    #[test]
    fn exact_record_error_message() {
        let text = "001  AX V C 00:00:00:00 00:00:01:00 01:00:05:00 01:00:04:00";
        assert_eq!(
            parse(text, Rate::FPS_25).unwrap_err().to_string(),
            "line 1: record out 01:00:04:00 is before record in 01:00:05:00"
        );
    }

    #[test]
    fn drop_frame_labels_that_do_not_exist_are_errors() {
        let text = "FCM: DROP FRAME\n001  AX V C 00:01:00:00 00:01:01:00 01:00:00:00 01:00:01:00\n";
        let err = parse(text, Rate::FPS_29_97).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("does not exist"), "{}", err.message);
        // Non-drop counting has that frame.
        assert!(parse(&text.replace("FCM: DROP", "FCM: NON-DROP"), Rate::FPS_29_97).is_ok());
    }

    #[test]
    fn tolerated_lines() {
        let text = "* header comment before any event
TITLE: First
TITLE: Second
>>> SOURCE A001 A001C001 A001C001.MOV
SPLIT:   AUDIO DELAY=  00:00:00:12
001  A001 V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
M2   NOPE 050.0 00:00:00:00
AUD  3    4
001  A001 A3/A4 C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
002  A001 NONE C 00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00
003  A001 V K B 00:00:00:00 00:00:01:00 01:00:02:00 01:00:03:00
003  A002 V K 010 00:00:00:00 00:00:01:00 01:00:02:00 01:00:03:00
003  A002 V KO 00:00:00:00 00:00:01:00 01:00:02:00 01:00:03:00
";
        let edl = parse(text, Rate::FPS_24).unwrap();
        assert_eq!(edl.title.as_deref(), Some("First"));
        let ignored: Vec<usize> = edl.ignored_lines.iter().map(|l| l.line).collect();
        assert_eq!(ignored, [1, 3, 4, 5, 7]);
        assert_eq!(edl.events.len(), 6);
        // The AUD line belongs to the event before it, whatever came between.
        assert_eq!(edl.events[0].audio_channels(), [3, 4]);
        assert_eq!(edl.events[1].track, TrackKind::AudioOnly);
        assert_eq!(edl.events[2].track, TrackKind::Other);
        assert_eq!(
            edl.events[3].transition,
            Transition::Key {
                key: KeyKind::Background,
                frames: 0
            }
        );
        assert_eq!(
            edl.events[4].transition,
            Transition::Key {
                key: KeyKind::Foreground,
                frames: 10
            }
        );
        assert_eq!(
            edl.events[5].transition,
            Transition::Key {
                key: KeyKind::Out,
                frames: 0
            }
        );
        assert_eq!(gaps(&edl), [(24 * 3600 + 24, 24 * 3600 + 48)]);
    }

    #[test]
    fn line_endings_and_empty_input() {
        let lf = "TITLE: x\n001 AX V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n";
        let cr = lf.replace('\n', "\r");
        let crlf = lf.replace('\n', "\r\n");
        let a = parse(lf, Rate::FPS_25).unwrap();
        assert_eq!(parse(&cr, Rate::FPS_25).unwrap(), a);
        assert_eq!(parse(&crlf, Rate::FPS_25).unwrap(), a);
        assert_eq!(a.events[0].line, 2);
        let empty = parse("", Rate::FPS_25).unwrap();
        assert!(empty.title.is_none() && empty.events.is_empty());
        assert!(parse("\u{feff}", Rate::FPS_25).unwrap().events.is_empty());
    }

    #[test]
    fn dissolve_needs_a_matching_cut_to_fold() {
        // Different numbers: both lines stay events.
        let text = "001 AX V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
002 BX V D 030 00:00:00:00 00:00:02:00 01:00:01:00 01:00:03:00
";
        let edl = parse(text, Rate::FPS_25).unwrap();
        assert_eq!(edl.events.len(), 2);
        assert_eq!(
            edl.events[1].transition,
            Transition::Dissolve { frames: 30 }
        );
    }

    #[test]
    fn source_range_across_midnight() {
        let rate = Rate::FPS_25;
        let day = rate.frames_per_day(false);
        let text = "001  A001 V C 23:59:59:00 00:00:01:00 01:00:00:00 01:00:02:00\n";
        let e = &parse(text, rate).unwrap().events[0];
        assert_eq!(
            (e.source_in_frames, e.source_out_frames),
            (day - 25, day + 25)
        );
        assert_eq!(e.source_out.to_string(), "00:00:01:00");

        // A drop-frame day is 2 592 frames shorter; the M2 line counts on the same day.
        let rate = Rate::FPS_29_97;
        let day = rate.frames_per_day(true);
        let text = "FCM: DROP FRAME
001  A001 V C 23:59:59;00 00:00:01;00 01:00:00;00 01:00:02;00
M2   A001 015.0 00:00:00;00
";
        let e = &parse(text, rate).unwrap().events[0];
        assert_eq!(
            (e.source_in_frames, e.source_out_frames),
            (day - 30, day + 30)
        );
        assert_eq!(e.speed.as_ref().unwrap().source_frames, day);

        // Half a day is the most a range may run past midnight; beyond it the out is an error.
        let at = |source_in: &str| {
            parse(
                &format!("001  A001 V C {source_in} 00:00:00:00 01:00:00:00 01:00:02:00"),
                Rate::FPS_25,
            )
        };
        assert_eq!(
            at("12:00:00:00").unwrap().events[0].source_out_frames,
            2_160_000
        );
        assert_eq!(
            at("11:59:59:24").unwrap_err().message,
            "source out 00:00:00:00 is before source in 11:59:59:24"
        );
    }

    #[test]
    fn record_across_midnight_counts_on() {
        let rate = Rate::FPS_25;
        let day = rate.frames_per_day(false);
        let text = "FCM: NON-DROP FRAME
001  A001 V C 10:00:00:00 10:00:20:00 23:59:50:00 00:00:10:00
* LOC: 23:59:55:00 RED before midnight
* LOC: 00:00:05:00 BLUE after midnight
002  A002 V C 10:00:00:00 10:00:10:00 00:00:10:00 00:00:20:00
* LOC: 0:00:15:00 GREEN next day too
003  A001 AA C 10:00:00:00 10:00:30:00 23:59:50:00 00:00:20:00
";
        let edl = parse(text, rate).unwrap();
        let records: Vec<(i64, i64)> = edl.events.iter().map(rec_frames).collect();
        // The audio starts again at the sequence start, before midnight, as Premiere lists it.
        assert_eq!(
            records,
            [
                (day - 250, day + 250),
                (day + 250, day + 500),
                (day - 250, day + 500)
            ]
        );
        assert!(gaps(&edl).is_empty());
        let locators: Vec<(i64, Option<&str>, &str)> = edl
            .events
            .iter()
            .flat_map(|e| &e.locators)
            .map(|l| (l.frames, l.colour.as_deref(), l.text.as_str()))
            .collect();
        assert_eq!(
            locators,
            [
                (day - 125, Some("RED"), "before midnight"),
                (day + 125, Some("BLUE"), "after midnight"),
                (day + 375, Some("GREEN"), "next day too"),
            ]
        );
    }

    #[test]
    fn a_dissolve_never_takes_the_outgoing_clip_name() {
        let text = "001  A001 V C 01:00:00:00 01:00:02:00 01:00:00:00 01:00:02:00
* FROM CLIP NAME: A001C001.MOV
002  A001 V C 01:00:02:00 01:00:02:00 01:00:02:00 01:00:02:00
* FROM CLIP NAME: A001C001.MOV
* SOURCE FILE: /Volumes/RAID/A001C001.MOV
* LOC: 01:00:02:00 CYAN from the outgoing line
002  B001 V D 012 02:00:00:00 02:00:02:00 01:00:02:00 01:00:04:00
* FROM CLIP NAME: B001C004.MOV
* LOC: 01:00:03:00 GREEN after the dissolve
003  A001 V C 01:00:04:00 01:00:04:00 01:00:04:00 01:00:04:00
003  C001 V W001 010 03:00:00:00 03:00:01:00 01:00:04:00 01:00:05:00
* SOURCE FILE: D:\\MEDIA\\C001C002.MXF
004  D001 V C 04:00:00:00 04:00:01:00 01:00:05:00 01:00:06:00
* FROM CLIP NAME: D001.MOV
004  E001 V D 010 05:00:00:00 05:00:01:00 01:00:06:00 01:00:07:00
";
        let edl = parse(text, Rate::FPS_25).unwrap();
        assert!(edl.ignored_lines.is_empty(), "{:?}", edl.ignored_lines);
        let numbers: Vec<u32> = edl.events.iter().map(|e| e.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4]);

        // The FROM line after the incoming line names the incoming clip: there is no TO line.
        let e = &edl.events[1];
        assert_eq!(e.transition, Transition::Dissolve { frames: 12 });
        assert_eq!(e.clip_name.as_deref(), Some("A001C001.MOV"));
        assert_eq!(e.source_clip_name(), Some("B001C004.MOV"));
        // The outgoing line's file is not the incoming clip's; it stays as its comment.
        assert_eq!(e.source_file, None);
        assert_eq!(e.comments, ["SOURCE FILE: /Volumes/RAID/A001C001.MOV"]);
        let locators: Vec<(i64, Option<&str>, &str)> = e
            .locators
            .iter()
            .map(|l| (l.frames, l.colour.as_deref(), l.text.as_str()))
            .collect();
        assert_eq!(
            locators,
            [
                (90_050, Some("CYAN"), "from the outgoing line"),
                (90_075, Some("GREEN"), "after the dissolve"),
            ]
        );

        // A wipe whose incoming clip has only a file is named by the file.
        assert_eq!(edl.events[2].source_clip_name(), Some("C001C002.MXF"));
        assert_eq!(edl.events[2].clip_name, None);

        // Nothing names the incoming clip: no name, rather than the outgoing one's.
        let e = &edl.events[3];
        assert_eq!(e.clip_name.as_deref(), Some("D001.MOV"));
        assert_eq!(e.source_clip_name(), None);
    }

    #[test]
    fn locator_with_a_one_digit_hour() {
        let text = "001  A001 V C 10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00
* LOC: 1:00:01:12 RED   VFX_010 paint out
";
        let edl = parse(text, Rate::FPS_24).unwrap();
        let loc = &edl.events[0].locators[0];
        assert_eq!(loc.timecode.to_string(), "01:00:01:12");
        assert_eq!(loc.frames, 24 * 3601 + 12);
        assert_eq!(loc.colour.as_deref(), Some("RED"));
        assert_eq!(loc.text, "VFX_010 paint out");
        // Only a whole timecode short of its leading zero is padded.
        let err = parse(&text.replace("1:00:01:12", "1:00:01"), Rate::FPS_24).unwrap_err();
        assert!(err.message.contains("\"1:00:01\""), "{}", err.message);
    }

    /// Locators as Avid writes them (with or without a space after the star, the colour padded
    /// to its column or not, a one-digit hour), in any case, with the inner spacing of their text
    /// kept; a word that is no colour stays in the text, with a warning.
    #[test]
    fn avid_locators() {
        let text = "TITLE: LOCATORS
FCM: NON-DROP FRAME
001  A001C003 V     C        10:00:00:00 10:00:10:00 01:00:00:00 01:00:10:00
* FROM CLIP NAME: A001C003.MOV
* LOC: 01:00:05:12 RED     fix the sky
*LOC: 1:00:05:12 YELLOW note
* LOC: 01:00:06:00 magenta
* LOC: 01:00:07:00 PINK     ANIM FIX NEEDED
* LOC: 01:00:08:00 TEAL    check  the grade
* LOC: 01:00:09:23
";
        let edl = parse(text, Rate::FPS_24).unwrap();
        assert!(edl.ignored_lines.is_empty(), "{:?}", edl.ignored_lines);
        let e = &edl.events[0];
        assert_eq!(e.clip_name.as_deref(), Some("A001C003.MOV"));
        let seen: Vec<(i64, Option<&str>, &str, usize)> = e
            .locators
            .iter()
            .map(|l| {
                (
                    l.frames - e.record_in_frames,
                    l.colour.as_deref(),
                    l.text.as_str(),
                    l.line,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (5 * 24 + 12, Some("RED"), "fix the sky", 5),
                (5 * 24 + 12, Some("YELLOW"), "note", 6),
                (6 * 24, Some("MAGENTA"), "", 7),
                (7 * 24, Some("PINK"), "ANIM FIX NEEDED", 8),
                (8 * 24, None, "TEAL    check  the grade", 9),
                (9 * 24 + 23, None, "", 10),
            ]
        );
        assert_eq!(
            e.locators[0].frames,
            24 * 3605 + 12,
            "an absolute record frame"
        );
        assert_eq!(e.locators[1].timecode.to_string(), "01:00:05:12");
        let warnings: Vec<(usize, &str)> = edl.warnings.iter().map(|w| (w.line, w.code)).collect();
        assert_eq!(warnings, [(9, "locator_colour_unknown")]);
        assert!(
            edl.warnings[0].message.contains("\"TEAL\""),
            "{:?}",
            edl.warnings
        );
        assert_eq!(
            edl.warnings[0].text,
            "* LOC: 01:00:08:00 TEAL    check  the grade"
        );
    }

    /// A locator outside its event's record is no shot's: skipped with a warning, not refused.
    /// A dissolve's locators written under its outgoing line count against the whole dissolve.
    #[test]
    fn a_locator_outside_its_event_is_skipped_with_a_warning() {
        let text = "001  A001 V C 10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00
* LOC: 01:00:02:00 RED   at the out point, the next event's first frame
* LOC: 01:00:01:23 GREEN the last frame
002  A001 V C 01:00:02:00 01:00:02:00 01:00:02:00 01:00:02:00
* LOC: 01:00:03:00 BLUE  under the outgoing line
002  B001 V D 012 02:00:00:00 02:00:02:00 01:00:02:00 01:00:04:00
* LOC: 00:59:59:00 CYAN  before it
";
        let edl = parse(text, Rate::FPS_24).unwrap();
        let kept: Vec<Vec<&str>> = edl
            .events
            .iter()
            .map(|e| e.locators.iter().map(|l| l.text.as_str()).collect())
            .collect();
        assert_eq!(
            kept,
            [vec!["the last frame"], vec!["under the outgoing line"]]
        );
        let skipped: Vec<(usize, &str)> = edl.warnings.iter().map(|w| (w.line, w.code)).collect();
        assert_eq!(
            skipped,
            [(2, "locator_outside_event"), (7, "locator_outside_event")]
        );
        assert!(
            edl.warnings[0]
                .message
                .contains("01:00:00:00 to 01:00:02:00"),
            "{}",
            edl.warnings[0].message
        );
        let ignored: Vec<usize> = edl.ignored_lines.iter().map(|l| l.line).collect();
        assert_eq!(ignored, [2, 7]);
        assert!(
            edl.ignored_lines[1]
                .text
                .starts_with("* LOC: 00:59:59:00 CYAN")
        );
    }

    #[test]
    fn malformed_lines_without_picture_are_skipped_with_a_warning() {
        let text = "TITLE: T
001  A001 V C 10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00
* FROM CLIP NAME: A001.MOV
* LOC: 01:00:01:00 CYAN kept on its event
002  A001 AA C 10:00:00:00 10:00:02:00 01:00:05:00 01:00:04:00
* FROM CLIP NAME: not 001's
AUD 3 4
M2   A001 050.0 10:00:00:00
003  BL V C 00:00:00:00 00:00:00:25 01:00:02:00 01:00:03:00
004  A002 NONE C 00:00:02:00 00:00:01:00 01:00:03:00 01:00:04:00
005  A003 V C 10:00:00:00 10:00:01:00 01:00:03:00 01:00:04:00
";
        let parsed = parse(text, Rate::FPS_25).unwrap();
        let warnings: Vec<(usize, &str)> =
            parsed.warnings.iter().map(|w| (w.line, w.code)).collect();
        assert_eq!(
            warnings,
            [
                (5, "record_out_before_in"),
                (9, "bad_timecode"),
                (10, "source_out_before_in")
            ]
        );
        let w = &parsed.warnings[0];
        assert_eq!(
            w.message,
            "record out 01:00:04:00 is before record in 01:00:05:00"
        );
        assert_eq!(
            w.text,
            "002  A001 AA C 10:00:00:00 10:00:02:00 01:00:05:00 01:00:04:00"
        );
        let json = serde_json::to_value(&parsed).unwrap();
        assert_eq!(json["warnings"][1]["code"], "bad_timecode");
        assert_eq!(json["warnings"][1]["line"], 9);

        let edl = &parsed;
        let numbers: Vec<u32> = edl.events.iter().map(|e| e.number).collect();
        assert_eq!(numbers, [1, 5]);
        // The skipped event's own lines do not land on the event before it.
        let first = &edl.events[0];
        assert_eq!(first.clip_name.as_deref(), Some("A001.MOV"));
        assert!(first.comments.is_empty() && first.speed.is_none());
        assert_eq!(first.locators.len(), 1);
        assert_eq!(
            (first.locators[0].frames, first.locators[0].text.as_str()),
            (90_025, "kept on its event")
        );
        let ignored: Vec<usize> = edl.ignored_lines.iter().map(|l| l.line).collect();
        assert_eq!(ignored, [5, 6, 7, 8, 9, 10]);
        assert_eq!(&parse(text, Rate::FPS_25).unwrap(), edl);

        // The same flaws in a picture event refuse the file, naming the line.
        for (from, to, line) in [("AA", "V", 5), ("BL ", "B001 ", 9), ("NONE", "V", 10)] {
            let err = parse(&text.replacen(from, to, 1), Rate::FPS_25).unwrap_err();
            assert_eq!(err.line, line, "{from}");
        }
    }

    #[test]
    fn clip_name_from_the_source_file() {
        let text = "001  A001 V C 10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00
* FROM FILE: /Volumes/RAID/DAY01/A001C003_220101.mov
002  A002 V C 10:00:00:00 10:00:01:00 01:00:01:00 01:00:02:00
* SOURCE FILE: C:\\Media\\A002C001.MXF
003  A003 V C 10:00:00:00 10:00:01:00 01:00:02:00 01:00:03:00
* SOURCE FILE: A003C001_230514
* FROM CLIP NAME: A003C001.MOV
";
        let edl = parse(text, Rate::FPS_25).unwrap();
        let names: Vec<Option<&str>> = edl.events.iter().map(EdlEvent::source_clip_name).collect();
        assert_eq!(
            names,
            [
                Some("A001C003_220101.mov"),
                Some("A002C001.MXF"),
                Some("A003C001.MOV")
            ]
        );
        assert_eq!(
            edl.events[0].source_file.as_deref(),
            Some("/Volumes/RAID/DAY01/A001C003_220101.mov")
        );
        assert_eq!(edl.events[0].clip_name, None);
        assert!(edl.events.iter().all(|e| e.comments.is_empty()));
    }

    #[test]
    fn freeze_frame_mark_on_a_clip_name() {
        let text = "001  A001C003 V C 10:00:00:00 10:00:00:01 01:00:00:00 01:00:02:00
* FROM CLIP NAME: A001C003 FF
* LOC: 01:00:01:00 YELLOW hold
002  A001C004 V C 10:00:00:00 10:00:02:00 01:00:02:00 01:00:04:00
M2   A001C004       000.0                10:00:00:00
* FROM CLIP NAME:  A001C004  FF
003  B001 V C 01:00:00:00 01:00:02:00 01:00:04:00 01:00:06:00
M2   B001       050.0                01:00:00:00
* FROM CLIP NAME: TAKE FF
004  B001 V C 01:00:02:00 01:00:02:00 01:00:06:00 01:00:06:00
004  C001 V D 012 02:00:00:00 02:00:02:00 01:00:06:00 01:00:08:00
* FROM CLIP NAME: B001 FF
* TO CLIP NAME: C001C001 FF
005  D001 V C 03:00:00:00 03:00:02:00 01:00:08:00 01:00:10:00
* FROM CLIP NAME: STUFF
";
        let edl = parse(text, Rate::FPS_25).unwrap();
        assert!(edl.ignored_lines.is_empty(), "{:?}", edl.ignored_lines);
        let e = &edl.events[0];
        assert_eq!(e.clip_name.as_deref(), Some("A001C003"));
        let freeze = e.speed.as_ref().unwrap();
        assert!(freeze.is_freeze());
        assert_eq!(
            (freeze.raw.as_str(), freeze.source_frames),
            ("000.0", 900_000)
        );
        assert_eq!(e.locators[0].text, "hold");

        // The M2 line says the same; it is kept as written.
        let e = &edl.events[1];
        assert_eq!(e.clip_name.as_deref(), Some("A001C004"));
        assert!(e.speed.as_ref().unwrap().is_freeze());

        // A clip the M2 line says is playing is not frozen: FF is part of its name.
        let e = &edl.events[2];
        assert_eq!(e.clip_name.as_deref(), Some("TAKE FF"));
        assert_eq!(e.speed.as_ref().unwrap().fps_tenths, 500);

        // In a dissolve, the incoming clip's mark freezes the event; the outgoing one's does not.
        let e = &edl.events[3];
        assert_eq!(e.clip_name.as_deref(), Some("B001"));
        assert_eq!(e.source_clip_name(), Some("C001C001"));
        assert!(e.speed.as_ref().unwrap().is_freeze());

        let e = &edl.events[4];
        assert_eq!(e.clip_name.as_deref(), Some("STUFF"));
        assert!(e.speed.is_none());
    }

    #[test]
    fn a_clip_named_with_ff_is_written_so_it_reads_back() {
        let export = Export {
            title: "T".into(),
            rate: Rate::FPS_24,
            drop_frame: false,
            shots: vec![ExportShot {
                clip_name: Some("TAKE FF".into()),
                ..export_shot("A001", (86_400, 86_448), (0, 48))
            }],
        };
        let text = write(&export).unwrap();
        assert!(text.contains("M2   A001           024.0"), "{text}");
        let e = &parse(&text, Rate::FPS_24).unwrap().events[0];
        assert_eq!(e.clip_name.as_deref(), Some("TAKE FF"));
        assert!(!e.speed.as_ref().unwrap().is_freeze());
    }

    #[test]
    fn aud_lines_name_audio_channels() {
        let text = "AUD 3
001  AX AA C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
AUD  3    4
* LOC: 01:00:00:12 MAGENTA after the AUD line
002  AX A C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
aud 3
003  AX NONE C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
AUD   4
004  AX AA/V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
AUD 5x
005  AX B C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
006  AX V C 00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
";
        let edl = parse(text, Rate::FPS_25).unwrap();
        let channels: Vec<Vec<u8>> = edl.events.iter().map(EdlEvent::audio_channels).collect();
        assert_eq!(
            channels,
            [
                vec![1, 2, 3, 4],
                vec![1, 3],
                vec![4],
                vec![1, 2],
                vec![1],
                vec![]
            ]
        );
        // Channels on a NONE track make it audio.
        assert_eq!(edl.events[2].track, TrackKind::AudioOnly);
        assert_eq!(edl.events[0].comments, ["AUD  3    4"]);
        let loc = &edl.events[0].locators[0];
        assert_eq!(
            (loc.frames, loc.colour.as_deref(), loc.text.as_str()),
            (90_012, Some("MAGENTA"), "after the AUD line")
        );
        // Before any event, or not naming channels: not used.
        let ignored: Vec<usize> = edl.ignored_lines.iter().map(|l| l.line).collect();
        assert_eq!(ignored, [1, 10]);
    }

    #[test]
    fn speed_tenths() {
        assert_eq!(tenths("+047.9"), Some(479));
        assert_eq!(tenths("-024.0"), Some(-240));
        assert_eq!(tenths("000.0"), Some(0));
        assert_eq!(tenths("12"), Some(120));
        assert_eq!(tenths("23.976"), Some(240));
        assert_eq!(tenths("-23.95"), Some(-240));
        for bad in ["", "+", "-", ".5", "1.x", "1234567.0", "1e3", "--1"] {
            assert_eq!(tenths(bad), None, "{bad:?}");
        }
    }

    /// A generated cut: reel, source in, length, and the gap before it (all in frames).
    type Cut = (String, i64, i64, i64);

    fn cut_events() -> impl Strategy<Value = (Rate, bool, Vec<Cut>)> {
        let rate = prop::sample::select(Rate::COMMON.to_vec());
        (rate, any::<bool>()).prop_flat_map(|(rate, df)| {
            let df = df && rate.supports_drop_frame();
            let day = rate.frames_per_day(df);
            let event = (
                "[A-Z][A-Z0-9_]{0,31}",
                0..day - 1000,
                1i64..500,
                prop_oneof![Just(0i64), 1i64..100],
            );
            (Just(rate), Just(df), prop::collection::vec(event, 0..40))
        })
    }

    proptest! {
        #[test]
        fn generated_cuts_parse_back(
            (rate, df, cuts) in cut_events(),
            semicolons in any::<bool>(),
        ) {
            let mut text = String::from("TITLE: generated\n");
            text.push_str(if df { "FCM: DROP FRAME\n" } else { "FCM: NON-DROP FRAME\n" });
            let tc = |n: i64| {
                let s = Timecode::from_frames(n, rate, df).to_string();
                // Avid writes drop-frame with colons and relies on the FCM line.
                if semicolons { s } else { s.replace(';', ":") }
            };
            let mut record = rate.frames_per_day(df) / 24;
            let mut expected = Vec::new();
            let mut expected_gaps = Vec::new();
            for (i, (reel, src, len, gap)) in cuts.iter().enumerate() {
                if *gap > 0 && i > 0 {
                    expected_gaps.push((record, record + gap));
                }
                if i > 0 {
                    record += gap;
                }
                text.push_str(&format!(
                    "{:03}  {reel:<8} V     C        {} {} {} {}\n",
                    i + 1, tc(*src), tc(src + len), tc(record), tc(record + len)
                ));
                expected.push((reel.clone(), *src, src + len, record, record + len));
                record += len;
            }
            let edl = parse(&text, rate).unwrap();
            prop_assert_eq!(edl.events.len(), cuts.len());
            for (e, (reel, si, so, ri, ro)) in edl.events.iter().zip(&expected) {
                prop_assert_eq!(e.track, TrackKind::Video);
                prop_assert_eq!(&e.reel, reel);
                prop_assert_eq!(e.transition, Transition::Cut);
                prop_assert_eq!(e.drop_frame, df);
                prop_assert_eq!(
                    (
                        e.source_in_frames,
                        e.source_out_frames,
                        e.record_in_frames,
                        e.record_out_frames,
                    ),
                    (*si, *so, *ri, *ro)
                );
            }
            prop_assert_eq!(gaps(&edl), expected_gaps);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = parse(&s, Rate::FPS_29_97);
        }

        #[test]
        fn parse_never_panics_on_edl_like_text(
            lines in prop::collection::vec("[0-9A-Z*:;.+ \\-/]{0,80}", 0..20)
        ) {
            let _ = parse(&lines.join("\n"), Rate::FPS_24);
        }

        #[test]
        fn parse_never_panics_on_truncation(cut in 0usize..AVID.len()) {
            let mut at = cut;
            while !AVID.is_char_boundary(at) {
                at -= 1;
            }
            let _ = parse(&AVID[..at], Rate::FPS_29_97);
        }

        #[test]
        fn parse_never_panics_on_mutation(
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), prop::sample::select(
                    vec![
                        '0', '9', ':', ';', '.', ' ', '\n', '\r', '*', '-', '+', 'D', 'W', 'K', 'M',
                        'é', '\u{feff}', '漢',
                    ]
                )),
                1..10,
            ),
            rate in prop::sample::select(Rate::COMMON.to_vec()),
        ) {
            let mut chars: Vec<char> = AVID.chars().collect();
            for (index, c) in edits {
                let i = index.index(chars.len());
                chars[i] = c;
            }
            let text: String = chars.into_iter().collect();
            let _ = parse(&text, rate);
        }
    }

    fn export_shot(reel: &str, record: (i64, i64), source: (i64, i64)) -> ExportShot {
        ExportShot {
            name: format!("SQ010_{:04}", record.0 % 10_000),
            clip_name: Some(format!("{reel}_230514.MOV")),
            reel: reel.to_string(),
            record_in: record.0,
            record_out: record.1,
            source_in: source.0,
            source_out: source.1,
            locators: Vec::new(),
        }
    }

    #[test]
    fn writes_a_cut() {
        let tc = |t: &str| {
            Timecode::parse(t, Rate::FPS_29_97)
                .and_then(|t| t.to_frames(Rate::FPS_29_97))
                .unwrap()
        };
        let mut export = Export {
            title: "REEL 1 v3".into(),
            rate: Rate::FPS_29_97,
            drop_frame: true,
            shots: vec![
                export_shot(
                    "A003C012",
                    (107_892, 107_982),
                    (tc("14:22:08;08"), tc("14:22:11;08")),
                ),
                export_shot("Interview Cam A 03", (108_012, 108_042), (0, 60)),
            ],
        };
        export.shots[0].locators = vec![
            ExportLocator {
                frame: 107_892 + 45,
                colour: Some("YELLOW".into()),
                text: "fix the sky".into(),
            },
            ExportLocator {
                frame: 107_892 + 89,
                colour: None,
                text: "last frame".into(),
            },
        ];
        let text = write(&export).unwrap();
        assert_eq!(
            text,
            "TITLE: REEL 1 v3
FCM: DROP FRAME

001  A003C012 V     C        14:22:08;08 14:22:11;08 01:00:00;00 01:00:03;00
* FROM CLIP NAME: A003C012_230514.MOV
* LOC: 01:00:00;00 WHITE   SQ010_7892
* LOC: 01:00:01;15 YELLOW  fix the sky
* LOC: 01:00:02;29 last frame

002  Interview Cam A 03 V     C        00:00:00;00 00:00:02;00 01:00:04;00 01:00:05;00
M2   Interview Cam A 03       059.9                00:00:00;00
* FROM CLIP NAME: Interview Cam A 03_230514.MOV
* LOC: 01:00:04;00 WHITE   SQ010_8012
"
        );
        let edl = parse(&text, Rate::FPS_29_97).unwrap();
        assert!(edl.ignored_lines.is_empty(), "{:?}", edl.ignored_lines);
        assert_eq!(edl.events[1].reel, "Interview Cam A 03");
        assert_eq!(edl.events[1].speed.as_ref().unwrap().fps_tenths, 599);
        assert_eq!(edl.events[1].locators[0].text, "SQ010_8012");
        let marks: Vec<(i64, Option<&str>, &str)> = edl.events[0].locators[1..]
            .iter()
            .map(|l| (l.frames, l.colour.as_deref(), l.text.as_str()))
            .collect();
        assert_eq!(
            marks,
            [
                (107_892 + 45, Some("YELLOW"), "fix the sky"),
                (107_892 + 89, None, "last frame")
            ]
        );
        assert_eq!(speed_field(1, 1, Rate::FPS_24), "024.0");
        assert_eq!(speed_field(1, 24, Rate::FPS_24), "001.0");
        assert_eq!(speed_field(1000, 1, Rate::new(999, 1).unwrap()), "999000.0");
        let mut bad = export.clone();
        bad.shots[1].record_in = 107_900;
        assert_eq!(write(&bad).unwrap_err().field, "shots[1].record_in");
    }

    /// The cut an EDL describes, as an export, so what was read can be written again.
    fn as_export(edl: &Edl, rate: Rate, drop_frame: bool) -> Export {
        Export {
            title: edl.title.clone().unwrap_or_default(),
            rate,
            drop_frame,
            shots: edl
                .events
                .iter()
                .map(|e| {
                    // The writer's first locator, white at the record in, is the shot's name.
                    let named = e.locators.first().filter(|l| {
                        l.colour.as_deref() == Some("WHITE") && l.frames == e.record_in_frames
                    });
                    ExportShot {
                        name: named.map(|l| l.text.clone()).unwrap_or_default(),
                        clip_name: e.clip_name.clone(),
                        reel: e.reel.clone(),
                        record_in: e.record_in_frames,
                        record_out: e.record_out_frames,
                        source_in: e.source_in_frames,
                        source_out: e.source_out_frames,
                        locators: e.locators[usize::from(named.is_some())..]
                            .iter()
                            .map(|l| ExportLocator {
                                frame: l.frames,
                                colour: l.colour.clone(),
                                text: l.text.clone(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    proptest! {
        #[test]
        fn written_cuts_read_back(export in crate::tracking::export::tests::exports()) {
            let text = write(&export).unwrap();
            let edl = parse(&text, export.rate).unwrap();
            prop_assert!(edl.ignored_lines.is_empty());
            prop_assert_eq!(edl.events.len(), export.shots.len());
            for (e, s) in edl.events.iter().zip(&export.shots) {
                prop_assert_eq!(e.track, TrackKind::Video);
                prop_assert_eq!(e.transition, Transition::Cut);
                prop_assert_eq!(e.drop_frame, export.drop_frame);
                prop_assert_eq!(&e.reel, &s.reel);
                prop_assert_eq!(&e.clip_name, &s.clip_name);
                prop_assert_eq!(
                    (
                        e.record_in_frames,
                        e.record_out_frames,
                        e.source_in_frames,
                        e.source_out_frames,
                    ),
                    (s.record_in, s.record_out, s.source_in, s.source_out)
                );
                let retimed = s.source_out - s.source_in != s.record_out - s.record_in;
                let marked = s.clip_name.as_deref().is_some_and(|c| freeze_mark(c).is_some());
                prop_assert_eq!(e.speed.is_some(), retimed || marked);
            }
            let again = as_export(&edl, export.rate, export.drop_frame);
            prop_assert_eq!(&again, &export);
            prop_assert_eq!(write(&again).unwrap(), text);
        }
    }
}
