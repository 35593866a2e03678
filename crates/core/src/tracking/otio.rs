//! OpenTimelineIO timelines (`.otio` JSON) read into the same events a CMX 3600 EDL gives, so the
//! conform planner takes either, and written from a sequence's cut.

use serde_json::{Map, Value, json};
use thiserror::Error;

use super::edl::{
    Edl, EdlEvent, EdlWarning, IgnoredLine, LOCATOR_COLOURS, Locator, Speed, TrackKind, Transition,
};
use super::export::MAX_REEL_CHARS;
use super::export::{Export, ExportError, MAX_SPEED};
use super::timecode::{MAX_NOMINAL, Rate, Timecode};

/// The most items (tracks, clips, gaps, transitions, nested compositions) one document may
/// hold; a feature film's cut has a few thousand.
pub const MAX_ITEMS: usize = 100_000;

/// Ten days. No timecode runs longer (it wraps at 24 hours), so a longer time is a broken value;
/// the bound also keeps every frame count far from overflowing.
const MAX_SECONDS: f64 = 864_000.0;

/// What errors name when the fault is the document as a whole.
const DOCUMENT: &str = "document";

/// Why a timeline could not be read, naming the JSON path of the offending value
/// (`tracks[0].children[12].source_range.duration`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: {message}")]
pub struct OtioError {
    pub path: String,
    pub message: String,
}

impl OtioError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        let path = path.into();
        OtioError {
            path: if path.is_empty() {
                DOCUMENT.to_string()
            } else {
                path
            },
            message: message.into(),
        }
    }

    /// A stable, machine-readable code for API errors.
    pub const fn code(&self) -> &'static str {
        "tracking.bad_otio"
    }
}

/// Reads an OpenTimelineIO timeline into events, one per enabled clip of each enabled video
/// track, V1's first. `rate` is the sequence rate every time is counted at; OTIO does not say
/// whether timecode drops frames, so the caller does with `drop_frame` (honoured at 29.97 and
/// 59.94 only).
///
/// Record times start at the timeline's `global_start_time`. Gaps advance record time and make
/// no event, as do nested stacks (listed in `ignored_lines`). A transition moves the cut to its
/// start, as a CMX 3600 dissolve is written: the outgoing clip ends and the incoming one begins
/// where the transition begins, and the incoming event carries the transition. The reel is
/// `metadata.cmx_3600.reel` (where OpenTimelineIO's EDL reader keeps it), else the media
/// reference's name, else its file name without extension, else `AX`; black generators are `BL`.
/// Speed effects (`LinearTimeWarp`, `FreezeFrame`) become the event's speed, and the source range
/// covers the source frames played: record frames × |speed|, one frame for a freeze.
///
/// A clip's markers are its event's locators: their time is in the clip's own time, as OTIO
/// places a marker on the item that holds it, so a marker at the clip's `source_range` start is
/// on the event's first record frame. OpenTimelineIO's own CMX 3600 reader instead leaves a
/// `LOC`'s record timecode unchanged as the marker's time (its issues #169 and #345), and marks
/// each such marker with `metadata.cmx_3600`: a marker so marked is read as a record frame. A
/// marker outside its event's record is skipped with a warning (`locator_outside_event`, its JSON
/// path as the text); one of a colour not in `edl::LOCATOR_COLOURS` is kept without a colour and
/// warned of (`locator_colour_unknown`). Its text is its `name`, else its `comment`.
///
/// For events read here, `line` is the clip's 1-based position among its track's children and
/// `track_field` names the track (`V`, `V2`, …), so a person can find it in an editing system.
pub fn read(text: &str, rate: Rate, drop_frame: bool) -> Result<Edl, OtioError> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| OtioError::new(DOCUMENT, format!("is not JSON: {e}")))?;
    let root = object(&doc, "")?;
    expect(root, "", "Timeline", 1..=1)?;
    let mut reader = Reader {
        rate,
        drop_frame: drop_frame && rate.supports_drop_frame(),
        items: 0,
        edl: Edl {
            title: string(root, "", "name")?
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            events: Vec::new(),
            ignored_lines: Vec::new(),
            warnings: Vec::new(),
        },
    };
    let start = match get(root, "global_start_time") {
        Some(v) => {
            let start = reader.frames(time(v, "global_start_time")?);
            if start < 0 {
                return Err(OtioError::new(
                    "global_start_time",
                    "is before 00:00:00:00, where no timecode exists",
                ));
            }
            start
        }
        None => 0,
    };
    let stack = object(required(root, "", "tracks")?, "tracks")?;
    expect(stack, "tracks", "Stack", 1..=1)?;
    let mut video = 0u32;
    for (i, track) in array(stack, "tracks", "children")?.iter().enumerate() {
        let path = format!("tracks[{i}]");
        reader.count(&path)?;
        let track = object(track, &path)?;
        expect(track, &path, "Track", 1..=1)?;
        let kind = string(track, &path, "kind")?;
        if kind != Some("Video") {
            // Audio tracks hold no shots; nor does a track kind this reader does not know.
            continue;
        }
        video += 1;
        if enabled(track, &path)? {
            reader.video_track(track, &path, video, start)?;
        } else {
            reader.edl.ignored_lines.push(IgnoredLine {
                line: i + 1,
                text: format!("{path}: video track {video} is disabled, so shows no shots"),
            });
        }
    }
    Ok(reader.edl)
}

/// Writes a cut as an OpenTimelineIO timeline: one video track of clips, with gaps where the
/// record times jump, starting at the first shot's record in (`global_start_time`). Each clip
/// keeps its reel in `metadata.cmx_3600.reel`, as OpenTimelineIO's EDL adapter does, and the
/// shot's name in `metadata.mstation.shot`; a shot whose source runs at another speed than its
/// record gets a `LinearTimeWarp`. A shot's locators are `Marker.2`s on its clip, named with
/// their text, of no duration, in the clip's own time (its source in, plus the locator's frames
/// into the shot), with their colour (`""` for none). Rates are written as OTIO writes them, a float of the exact
/// ratio (23.976023976023978 for 24000/1001), which `read` takes back frame for frame.
pub fn write(export: &Export) -> Result<String, ExportError> {
    export.validate()?;
    let fps = f64::from(export.rate.num()) / f64::from(export.rate.den());
    let time = |frames: i64| {
        json!({
            "OTIO_SCHEMA": "RationalTime.1",
            "rate": fps,
            "value": frames as f64,
        })
    };
    let range = |start: i64, duration: i64| {
        json!({
            "OTIO_SCHEMA": "TimeRange.1",
            "start_time": time(start),
            "duration": time(duration),
        })
    };
    let start = export.shots.first().map_or(0, |s| s.record_in);
    let mut children = Vec::new();
    let mut position = start;
    for shot in &export.shots {
        if shot.record_in > position {
            children.push(json!({
                "OTIO_SCHEMA": "Gap.1",
                "name": "",
                "metadata": {},
                "source_range": range(0, shot.record_in - position),
                "effects": [],
                "markers": [],
                "enabled": true,
            }));
        }
        let (record, source) = (
            shot.record_out - shot.record_in,
            shot.source_out - shot.source_in,
        );
        let effects = if record == source {
            json!([])
        } else {
            json!([{
                "OTIO_SCHEMA": "LinearTimeWarp.1",
                "name": "",
                "metadata": {},
                "effect_name": "LinearTimeWarp",
                "time_scalar": source as f64 / record as f64,
            }])
        };
        let markers: Vec<Value> = shot
            .locators
            .iter()
            .map(|l| {
                json!({
                    "OTIO_SCHEMA": "Marker.2",
                    "name": l.text,
                    "metadata": {},
                    "color": l.colour.as_deref().unwrap_or(""),
                    "marked_range": range(shot.source_in + (l.frame - shot.record_in), 0),
                    "comment": "",
                })
            })
            .collect();
        children.push(json!({
            "OTIO_SCHEMA": "Clip.2",
            "name": shot.clip_name.as_deref().map_or("", str::trim),
            "metadata": {
                "cmx_3600": {"reel": shot.reel},
                "mstation": {"shot": shot.name.trim()},
            },
            "source_range": range(shot.source_in, record),
            "effects": effects,
            "markers": markers,
            "enabled": true,
            "media_references": {
                "DEFAULT_MEDIA": {
                    "OTIO_SCHEMA": "MissingReference.1",
                    "name": shot.reel,
                    "metadata": {},
                    "available_range": null,
                    "available_image_bounds": null,
                },
            },
            "active_media_reference_key": "DEFAULT_MEDIA",
        }));
        position = shot.record_out;
    }
    let composition = |schema: &str, name: &str, kind: Option<&str>, children: Vec<Value>| {
        let mut item = json!({
            "OTIO_SCHEMA": schema,
            "name": name,
            "metadata": {},
            "source_range": null,
            "effects": [],
            "markers": [],
            "enabled": true,
            "children": children,
        });
        if let (Some(kind), Some(map)) = (kind, item.as_object_mut()) {
            map.insert("kind".into(), kind.into());
        }
        item
    };
    let track = composition("Track.1", "V1", Some("Video"), children);
    let doc = json!({
        "OTIO_SCHEMA": "Timeline.1",
        "name": export.title.trim(),
        "metadata": {},
        "global_start_time": time(start),
        "tracks": composition("Stack.1", "tracks", None, vec![track]),
    });
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| ExportError::new(DOCUMENT, e.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// `key` under `path`, the document itself being the empty path.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, OtioError> {
    v.as_object()
        .ok_or_else(|| OtioError::new(path, format!("must be an object, not {}", kind_of(v))))
}

/// A key's value; `None` when absent or null, which OTIO writes for "not set".
fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn required<'a>(
    obj: &'a Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'a Value, OtioError> {
    get(obj, key).ok_or_else(|| OtioError::new(join(path, key), "is missing"))
}

fn string<'a>(
    obj: &'a Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<Option<&'a str>, OtioError> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(OtioError::new(
            join(path, key),
            format!("must be a string, not {}", kind_of(v)),
        )),
    }
}

fn number(obj: &Map<String, Value>, path: &str, key: &str) -> Result<f64, OtioError> {
    let v = required(obj, path, key)?;
    // serde_json holds only finite numbers, so no NaN or infinity gets past this.
    v.as_f64().ok_or_else(|| {
        OtioError::new(
            join(path, key),
            format!("must be a number, not {}", kind_of(v)),
        )
    })
}

/// A list that may be absent (an item without effects often has no `effects` key at all).
fn array<'a>(obj: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a [Value], OtioError> {
    match get(obj, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(v) => Err(OtioError::new(
            join(path, key),
            format!("must be a list, not {}", kind_of(v)),
        )),
    }
}

fn enabled(obj: &Map<String, Value>, path: &str) -> Result<bool, OtioError> {
    match get(obj, "enabled") {
        None => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(OtioError::new(
            join(path, "enabled"),
            format!("must be true or false, not {}", kind_of(v)),
        )),
    }
}

/// The schema name and version of an OTIO object: `Clip.2` is `("Clip", 2)`.
fn schema<'a>(obj: &'a Map<String, Value>, path: &str) -> Result<(&'a str, u32), OtioError> {
    let at = join(path, "OTIO_SCHEMA");
    let name = string(obj, path, "OTIO_SCHEMA")?
        .ok_or_else(|| OtioError::new(&at, "is missing: every OTIO object names its schema"))?;
    name.rsplit_once('.')
        .and_then(|(n, v)| Some((n, v.parse().ok()?)))
        .ok_or_else(|| OtioError::new(at, format!("{name:?} is not a schema such as \"Clip.2\"")))
}

fn expect(
    obj: &Map<String, Value>,
    path: &str,
    name: &str,
    versions: std::ops::RangeInclusive<u32>,
) -> Result<(), OtioError> {
    let (found, version) = schema(obj, path)?;
    let at = join(path, "OTIO_SCHEMA");
    if found != name {
        return Err(OtioError::new(
            at,
            format!("is {found}.{version}, but a {name} belongs here"),
        ));
    }
    if !versions.contains(&version) {
        return Err(OtioError::new(
            at,
            format!(
                "{found}.{version} is a version this reader does not know; it reads {name}.{} to {name}.{}",
                versions.start(),
                versions.end()
            ),
        ));
    }
    Ok(())
}

/// A `RationalTime`: a count of frames at a rate, both as OTIO stores them.
#[derive(Debug, Clone, Copy)]
struct Time {
    value: f64,
    rate: f64,
}

fn time(v: &Value, path: &str) -> Result<Time, OtioError> {
    let obj = object(v, path)?;
    expect(obj, path, "RationalTime", 1..=1)?;
    let rate = number(obj, path, "rate")?;
    let value = number(obj, path, "value")?;
    if rate <= 0.0 {
        return Err(OtioError::new(
            join(path, "rate"),
            format!("is {rate}, but a rate must be above 0"),
        ));
    }
    if rate > f64::from(MAX_NOMINAL) + 1.0 {
        return Err(OtioError::new(
            join(path, "rate"),
            format!("is {rate} frames per second, faster than any timecode counts"),
        ));
    }
    if (value / rate).abs() > MAX_SECONDS {
        return Err(OtioError::new(
            join(path, "value"),
            format!("is {value} frames at {rate} fps: more than ten days"),
        ));
    }
    Ok(Time { value, rate })
}

/// The name of a file in a URL or path, without its extension: `file:///m/A001C003.MOV` gives
/// `A001C003`.
fn file_stem(url: &str) -> Option<&str> {
    let name = url.rsplit(['/', '\\']).next()?;
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    (!stem.is_empty()).then_some(stem)
}

/// What a clip's media reference says.
struct Media {
    name: Option<String>,
    url: Option<String>,
    available: Option<(i64, i64)>,
    black: bool,
}

/// A clip as read, before transitions move its ends.
struct Clip {
    name: Option<String>,
    reel: String,
    source_file: Option<String>,
    source_in: i64,
    duration: i64,
    /// Source frames per record frame from the first speed effect: 0 for a freeze, below 0 for
    /// reverse. `None` without one.
    speed: Option<f64>,
    enabled: bool,
    markers: Vec<Mark>,
}

/// A marker on a clip, as written.
struct Mark {
    /// Its start, in the clip's own time, or a record frame when `from_edl`.
    at: i64,
    /// Made by OpenTimelineIO's CMX 3600 reader, which keeps a LOC's record timecode as `at`.
    from_edl: bool,
    /// In capitals; empty when it has none.
    colour: String,
    text: String,
    path: String,
}

impl Clip {
    /// The source frames `record` frames of this clip play: a freeze shows one.
    fn source_frames(&self, record: i64) -> i64 {
        match self.speed {
            Some(0.0) => i64::from(record > 0),
            _ => self.source_shift(record),
        }
    }

    /// How far the source moves over `record` frames of this clip: not at all in a freeze.
    fn source_shift(&self, record: i64) -> i64 {
        match self.speed {
            None => record,
            // Bounded: |s| ≤ MAX_SPEED and record is at most a few days of frames.
            Some(s) => (record as f64 * s.abs()).round() as i64,
        }
    }
}

enum Item {
    Clip(Clip),
    Gap(i64),
    Transition {
        in_offset: i64,
        out_offset: i64,
        wipe: bool,
    },
    /// A stack or track inside a track: kept as time, not read into events.
    Nested {
        schema: String,
        duration: i64,
    },
}

impl Item {
    fn duration(&self) -> i64 {
        match self {
            Item::Clip(c) => c.duration,
            Item::Gap(d) => *d,
            Item::Transition { .. } => 0,
            Item::Nested { duration, .. } => *duration,
        }
    }
}

/// A clip's event before it becomes an `EdlEvent`, in track frames.
struct Draft<'a> {
    clip: &'a Clip,
    /// Where the clip's first frame is, before a transition moves its cut.
    placed: i64,
    start: i64,
    end: i64,
    source_in: i64,
    transition: Transition,
    from_name: Option<String>,
    line: usize,
}

struct Reader {
    rate: Rate,
    drop_frame: bool,
    items: usize,
    edl: Edl,
}

impl Reader {
    /// A time in frames at the sequence rate. A time counted at a rate with the same whole
    /// frames per second (24 and 23.976, 30 and 29.97) is taken frame for frame, because both
    /// label frames with the same timecodes and tools write one for the other; any other rate is
    /// converted by time, to the nearest frame.
    fn frames(&self, t: Time) -> i64 {
        let fps = f64::from(self.rate.num()) / f64::from(self.rate.den());
        let same_labels =
            t.rate.round() == f64::from(self.rate.nominal()) && (t.rate - fps).abs() < fps * 0.002;
        let frames = if same_labels {
            t.value
        } else {
            t.value * fps / t.rate
        };
        // Bounded by MAX_SECONDS at most 1000 fps, so the cast cannot saturate.
        frames.round() as i64
    }

    /// A `TimeRange` as (start, duration) in frames.
    fn range(&self, v: &Value, path: &str) -> Result<(i64, i64), OtioError> {
        let obj = object(v, path)?;
        expect(obj, path, "TimeRange", 1..=1)?;
        let start = time(
            required(obj, path, "start_time")?,
            &join(path, "start_time"),
        )?;
        let at = join(path, "duration");
        let duration = time(required(obj, path, "duration")?, &at)?;
        if duration.value < 0.0 {
            return Err(OtioError::new(
                at,
                format!(
                    "is {} frames, but a duration cannot be negative",
                    duration.value
                ),
            ));
        }
        Ok((self.frames(start), self.frames(duration)))
    }

    fn count(&mut self, path: &str) -> Result<(), OtioError> {
        self.items += 1;
        if self.items > MAX_ITEMS {
            return Err(OtioError::new(
                path,
                format!("is past the {MAX_ITEMS}th item: too many for a cut"),
            ));
        }
        Ok(())
    }

    fn item(&mut self, obj: &Map<String, Value>, path: &str) -> Result<Item, OtioError> {
        self.count(path)?;
        let (name, version) = schema(obj, path)?;
        match name {
            "Clip" => {
                expect(obj, path, "Clip", 1..=2)?;
                Ok(Item::Clip(self.clip(obj, path, version)?))
            }
            "Gap" => {
                expect(obj, path, "Gap", 1..=1)?;
                let at = join(path, "source_range");
                let (_, duration) = self.range(required(obj, path, "source_range")?, &at)?;
                Ok(Item::Gap(duration))
            }
            "Transition" => {
                expect(obj, path, "Transition", 1..=1)?;
                let offset = |key: &str| -> Result<i64, OtioError> {
                    let at = join(path, key);
                    let t = time(required(obj, path, key)?, &at)?;
                    if t.value < 0.0 {
                        return Err(OtioError::new(at, "cannot be negative"));
                    }
                    Ok(self.frames(t))
                };
                let in_offset = offset("in_offset")?;
                let out_offset = offset("out_offset")?;
                let kind = string(obj, path, "transition_type")?.unwrap_or_default();
                Ok(Item::Transition {
                    in_offset,
                    out_offset,
                    wipe: kind.to_ascii_lowercase().contains("wipe"),
                })
            }
            "Stack" | "Track" => {
                expect(obj, path, name, 1..=1)?;
                let duration = match get(obj, "source_range") {
                    Some(v) => self.range(v, &join(path, "source_range"))?.1,
                    None => {
                        let mut total = 0i64;
                        for (i, child) in array(obj, path, "children")?.iter().enumerate() {
                            let at = format!("{path}.children[{i}]");
                            let d = self.item(object(child, &at)?, &at)?.duration();
                            total = if name == "Stack" {
                                total.max(d)
                            } else {
                                total + d
                            };
                        }
                        total
                    }
                };
                Ok(Item::Nested {
                    schema: format!("{name}.{version}"),
                    duration,
                })
            }
            _ => Err(OtioError::new(
                join(path, "OTIO_SCHEMA"),
                format!("{name}.{version} is not a clip, gap, transition or nested stack"),
            )),
        }
    }

    fn media(&self, v: &Value, path: &str) -> Result<Media, OtioError> {
        let obj = object(v, path)?;
        let (kind, _) = schema(obj, path)?;
        let text = |key: &str| -> Result<Option<String>, OtioError> {
            Ok(string(obj, path, key)?
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string))
        };
        let available = match get(obj, "available_range") {
            Some(r) => Some(self.range(r, &join(path, "available_range"))?),
            None => None,
        };
        Ok(Media {
            name: text("name")?,
            url: text("target_url")?,
            available,
            black: kind == "GeneratorReference"
                && text("generator_kind")?.is_some_and(|k| k.eq_ignore_ascii_case("black")),
        })
    }

    fn clip(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        version: u32,
    ) -> Result<Clip, OtioError> {
        let name = string(obj, path, "name")?
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let (media, media_path) = if version == 1 {
            (get(obj, "media_reference"), join(path, "media_reference"))
        } else {
            let key = string(obj, path, "active_media_reference_key")?.unwrap_or("DEFAULT_MEDIA");
            let at = join(path, "media_references");
            let media = match get(obj, "media_references") {
                Some(refs) => get(object(refs, &at)?, key),
                None => None,
            };
            (media, join(&at, key))
        };
        let media = match media {
            Some(v) => Some(self.media(v, &media_path)?),
            None => None,
        };
        let (range, range_path) = match get(obj, "source_range") {
            Some(v) => (
                self.range(v, &join(path, "source_range"))?,
                join(path, "source_range"),
            ),
            None => match media.as_ref().and_then(|m| m.available) {
                Some(range) => (range, join(&media_path, "available_range")),
                None => {
                    return Err(OtioError::new(
                        join(path, "source_range"),
                        "is missing, and there is no media available_range to use instead",
                    ));
                }
            },
        };
        let (source_in, duration) = range;
        if source_in < 0 {
            return Err(OtioError::new(
                join(&range_path, "start_time"),
                "is before 00:00:00:00, where no source timecode exists",
            ));
        }

        let mut reel_path = join(path, "metadata.cmx_3600.reel");
        let mut reel = match get(obj, "metadata") {
            Some(m) => {
                let at = join(path, "metadata");
                match get(object(m, &at)?, "cmx_3600") {
                    Some(c) => {
                        let at = join(&at, "cmx_3600");
                        string(object(c, &at)?, &at, "reel")?.map(str::to_string)
                    }
                    None => None,
                }
            }
            None => None,
        };
        if reel.as_deref().is_none_or(|r| r.trim().is_empty()) {
            reel_path = join(&media_path, "name");
            reel = media.as_ref().and_then(|m| {
                if m.black {
                    Some("BL".to_string())
                } else {
                    m.name
                        .clone()
                        .or_else(|| m.url.as_deref().and_then(file_stem).map(str::to_string))
                }
            });
        }
        // As an EDL reader sees it: words separated by single spaces.
        let reel = reel
            .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "AX".to_string());
        if reel.chars().count() > MAX_REEL_CHARS {
            return Err(OtioError::new(
                reel_path,
                format!("is longer than {MAX_REEL_CHARS} characters, too long for a reel name"),
            ));
        }

        let mut speed = None;
        for (i, effect) in array(obj, path, "effects")?.iter().enumerate() {
            let at = format!("{path}.effects[{i}]");
            let effect = object(effect, &at)?;
            let this = match schema(effect, &at)?.0 {
                "LinearTimeWarp" => {
                    let s = number(effect, &at, "time_scalar")?;
                    if s.abs() > MAX_SPEED as f64 {
                        return Err(OtioError::new(
                            join(&at, "time_scalar"),
                            format!("is {s}, faster than {MAX_SPEED} times"),
                        ));
                    }
                    Some(s)
                }
                "FreezeFrame" => Some(0.0),
                _ => None,
            };
            // The first time effect decides, as in OpenTimelineIO's own EDL writer.
            speed = speed.or(this);
        }

        let mut markers = Vec::new();
        for (i, marker) in array(obj, path, "markers")?.iter().enumerate() {
            let at = format!("{path}.markers[{i}]");
            let marker = object(marker, &at)?;
            expect(marker, &at, "Marker", 1..=2)?;
            let range = required(marker, &at, "marked_range")?;
            let (start, _) = self.range(range, &join(&at, "marked_range"))?;
            let text = |key: &str| -> Result<String, OtioError> {
                Ok(string(marker, &at, key)?
                    .unwrap_or_default()
                    .trim()
                    .to_string())
            };
            let name = text("name")?;
            let from_edl = match get(marker, "metadata") {
                Some(m) => get(object(m, &join(&at, "metadata"))?, "cmx_3600").is_some(),
                None => false,
            };
            markers.push(Mark {
                at: start,
                from_edl,
                colour: text("color")?.to_ascii_uppercase(),
                text: if name.is_empty() {
                    text("comment")?
                } else {
                    name
                },
                path: at,
            });
        }

        Ok(Clip {
            name,
            reel,
            source_file: media.as_ref().and_then(|m| m.url.clone()),
            source_in,
            duration,
            speed,
            enabled: enabled(obj, path)?,
            markers,
        })
    }

    /// The locators of `draft`'s clip on its event's record `record_in..record_out`, track
    /// frames `base` after the timeline's frames; the rest skipped with a warning.
    fn locators(&mut self, draft: &Draft, base: i64, record: (i64, i64)) -> Vec<Locator> {
        let clip = draft.clip;
        let mut out = Vec::new();
        for mark in &clip.markers {
            let frame = if mark.from_edl {
                mark.at
            } else {
                base + draft.placed + (mark.at - clip.source_in)
            };
            let mut warn = |code, message: String| {
                self.edl.warnings.push(EdlWarning {
                    line: draft.line,
                    code,
                    message,
                    text: mark.path.clone(),
                });
            };
            if !(record.0..record.1).contains(&frame) {
                warn(
                    "locator_outside_event",
                    format!(
                        "marker at frame {} is outside its clip's record, frames {} to {}",
                        mark.at, record.0, record.1
                    ),
                );
                self.edl.ignored_lines.push(IgnoredLine {
                    line: draft.line,
                    text: format!("{}: outside its clip", mark.path),
                });
                continue;
            }
            let known = LOCATOR_COLOURS.contains(&mark.colour.as_str());
            if !known && !mark.colour.is_empty() {
                warn(
                    "locator_colour_unknown",
                    format!(
                        "marker colour {:?} is not one of {}; the locator has no colour",
                        mark.colour,
                        LOCATOR_COLOURS.join(", ")
                    ),
                );
            }
            out.push(Locator {
                timecode: Timecode::from_frames(frame, self.rate, self.drop_frame),
                frames: frame,
                colour: known.then(|| mark.colour.clone()),
                text: mark.text.clone(),
                line: draft.line,
            });
        }
        out
    }

    fn video_track(
        &mut self,
        track: &Map<String, Value>,
        path: &str,
        number: u32,
        start: i64,
    ) -> Result<(), OtioError> {
        // A track's source_range start says which of its frames the timeline starts at (OTIO's
        // EDL reader writes minus the first record in there). Its duration is not applied: that
        // reader writes the content's length, not the length from the shifted start.
        let first = match get(track, "source_range") {
            Some(v) => self.range(v, &join(path, "source_range"))?.0,
            None => 0,
        };
        let mut items = Vec::new();
        for (i, child) in array(track, path, "children")?.iter().enumerate() {
            let at = format!("{path}.children[{i}]");
            let item = self.item(object(child, &at)?, &at)?;
            items.push((at, item));
        }

        let mut drafts: Vec<Option<Draft>> = Vec::with_capacity(items.len());
        let mut position = 0i64;
        for (i, (_, item)) in items.iter().enumerate() {
            let end = position + item.duration();
            drafts.push(match item {
                Item::Clip(clip) if clip.enabled => Some(Draft {
                    clip,
                    placed: position,
                    start: position,
                    end,
                    source_in: clip.source_in,
                    transition: Transition::Cut,
                    from_name: None,
                    line: i + 1,
                }),
                _ => None,
            });
            if let Item::Nested { schema, duration } = item {
                self.edl.ignored_lines.push(IgnoredLine {
                    line: i + 1,
                    text: format!(
                        "{}: a nested {schema} is kept as {duration} frames of record time; its clips are not read",
                        items[i].0
                    ),
                });
            }
            position = end;
        }

        for (k, (at, item)) in items.iter().enumerate() {
            let &Item::Transition {
                in_offset,
                out_offset,
                wipe,
            } = item
            else {
                continue;
            };
            let neighbour = |index: Option<usize>| match index.and_then(|j| items.get(j)) {
                Some((_, Item::Transition { .. })) => Err(OtioError::new(
                    at,
                    "is next to another transition; a transition sits between two items",
                )),
                Some((_, other)) => Ok(Some(other.duration())),
                None => Ok(None),
            };
            let before = neighbour(k.checked_sub(1))?;
            let after = neighbour(Some(k + 1))?;
            if in_offset > before.unwrap_or(0) {
                return Err(OtioError::new(
                    join(at, "in_offset"),
                    format!(
                        "is {in_offset} frames, longer than the {} frames of the item before the transition",
                        before.unwrap_or(0)
                    ),
                ));
            }
            if out_offset > after.unwrap_or(0) {
                return Err(OtioError::new(
                    join(at, "out_offset"),
                    format!(
                        "is {out_offset} frames, longer than the {} frames of the item after the transition",
                        after.unwrap_or(0)
                    ),
                ));
            }
            let frames = u32::try_from(in_offset + out_offset)
                .map_err(|_| OtioError::new(at, "is too long"))?;
            let from_name = match k.checked_sub(1).and_then(|j| drafts.get_mut(j)) {
                Some(Some(outgoing)) => {
                    outgoing.end -= in_offset;
                    outgoing.clip.name.clone()
                }
                _ => None,
            };
            if let Some(Some(incoming)) = drafts.get_mut(k + 1) {
                incoming.start -= in_offset;
                incoming.source_in -= incoming.clip.source_shift(in_offset);
                if incoming.source_in < 0 {
                    return Err(OtioError::new(
                        join(at, "in_offset"),
                        "reaches before source frame 0 of the incoming clip",
                    ));
                }
                incoming.transition = if wipe {
                    Transition::Wipe { code: 1, frames }
                } else {
                    Transition::Dissolve { frames }
                };
                incoming.from_name = from_name;
            }
        }

        let base = start - first;
        let track_field = if number == 1 {
            "V".to_string()
        } else {
            format!("V{number}")
        };
        for draft in drafts.into_iter().flatten() {
            let mut record_in = base + draft.start;
            let record_out = base + draft.end;
            let mut source_in = draft.source_in;
            if record_in < start {
                // Before the track's first shown frame: trimmed away by its source_range.
                if record_out <= start {
                    self.edl.ignored_lines.push(IgnoredLine {
                        line: draft.line,
                        text: format!(
                            "{path}.children[{}]: ends before the track's source_range starts",
                            draft.line - 1
                        ),
                    });
                    continue;
                }
                source_in += draft.clip.source_shift(start - record_in);
                record_in = start;
            }
            let source_out = source_in + draft.clip.source_frames(record_out - record_in);
            let mut event = self.event(
                &draft,
                &track_field,
                record_in,
                record_out,
                source_in,
                source_out,
            );
            event.locators = self.locators(&draft, base, (record_in, record_out));
            self.edl.events.push(event);
        }
        Ok(())
    }

    fn event(
        &self,
        draft: &Draft,
        track_field: &str,
        record_in: i64,
        record_out: i64,
        source_in: i64,
        source_out: i64,
    ) -> EdlEvent {
        let tc = |frames| Timecode::from_frames(frames, self.rate, self.drop_frame);
        let clip = draft.clip;
        let (clip_name, to_clip_name) = match draft.transition {
            Transition::Cut => (clip.name.clone(), None),
            _ => (draft.from_name.clone(), clip.name.clone()),
        };
        let speed = clip.speed.map(|s| {
            let fps = f64::from(self.rate.num()) / f64::from(self.rate.den());
            // Bounded by MAX_SPEED × 1000 fps × 10.
            let fps_tenths = (s * fps * 10.0).round() as i32;
            let sign = if fps_tenths < 0 { "-" } else { "" };
            let tenths = fps_tenths.unsigned_abs();
            Speed {
                fps_tenths,
                raw: format!("{sign}{:03}.{}", tenths / 10, tenths % 10),
                source: tc(source_in),
                source_frames: source_in,
            }
        });
        EdlEvent {
            number: u32::try_from(self.edl.events.len() + 1).unwrap_or(u32::MAX),
            reel: clip.reel.clone(),
            track: TrackKind::Video,
            track_field: track_field.to_string(),
            transition: draft.transition,
            source_in: tc(source_in),
            source_out: tc(source_out),
            record_in: tc(record_in),
            record_out: tc(record_out),
            source_in_frames: source_in,
            source_out_frames: source_out,
            record_in_frames: record_in,
            record_out_frames: record_out,
            drop_frame: self.drop_frame,
            clip_name,
            to_clip_name,
            source_file: clip.source_file.clone(),
            locators: Vec::new(),
            speed,
            comments: Vec::new(),
            line: draft.line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::conform::{self, ConformOptions};
    use crate::tracking::edl::{self, gaps};
    use crate::tracking::export::{ExportLocator, ExportShot};
    use proptest::prelude::*;

    /// A 23.976 cut as OpenTimelineIO writes it: a clip, a gap, a clip, a six-and-six-frame
    /// dissolve into a clip at double speed, and an audio track.
    const LOCK: &str = include_str!("fixtures/lock_v3.otio");

    fn lock() -> Value {
        serde_json::from_str(LOCK).unwrap()
    }

    fn read_value(doc: &Value) -> Result<Edl, OtioError> {
        read(&doc.to_string(), Rate::FPS_23_976, false)
    }

    fn frames(e: &EdlEvent) -> [i64; 4] {
        [
            e.record_in_frames,
            e.record_out_frames,
            e.source_in_frames,
            e.source_out_frames,
        ]
    }

    #[test]
    fn reads_a_timeline() {
        let edl = read(LOCK, Rate::FPS_23_976, false).unwrap();
        assert_eq!(edl.title.as_deref(), Some("REEL 2 LOCK v3"));
        assert!(edl.ignored_lines.is_empty());
        assert_eq!(edl.events.len(), 3, "the audio clip makes no event");
        let hour = 86_400;

        let e = &edl.events[0];
        assert_eq!(e.number, 1);
        assert_eq!((e.track, e.track_field.as_str()), (TrackKind::Video, "V"));
        assert_eq!(e.reel, "A001C003");
        assert_eq!(e.clip_name.as_deref(), Some("A001C003_220101.MOV"));
        assert_eq!(
            e.source_file.as_deref(),
            Some("file:///media/A001C003_220101.MOV")
        );
        assert_eq!(frames(e), [hour, hour + 48, 10 * hour, 10 * hour + 48]);
        assert_eq!(e.record_in.to_string(), "01:00:00:00");
        assert_eq!(e.source_in.to_string(), "10:00:00:00");
        assert_eq!(e.transition, Transition::Cut);
        assert_eq!(e.line, 1);

        // After a 12-frame gap; the dissolve's six frames before the cut are taken off its end.
        let e = &edl.events[1];
        assert_eq!(e.reel, "B002C001", "from the media reference's name");
        assert_eq!(e.source_file, None);
        assert_eq!(frames(e), [hour + 60, hour + 90, 11 * hour, 11 * hour + 30]);
        assert_eq!(e.line, 3);

        // The incoming clip owns the dissolve from its start, at twice the speed.
        let e = &edl.events[2];
        assert_eq!(e.transition, Transition::Dissolve { frames: 12 });
        assert_eq!(e.clip_name.as_deref(), Some("B002C001"));
        assert_eq!(e.source_clip_name(), Some("C003C002"));
        assert_eq!(
            frames(e),
            [hour + 90, hour + 120, 12 * hour - 12, 12 * hour + 48]
        );
        let speed = e.speed.as_ref().unwrap();
        assert_eq!((speed.fps_tenths, speed.raw.as_str()), (480, "048.0"));
        assert_eq!(speed.source_frames, 12 * hour - 12);
        assert_eq!(e.line, 5);

        assert_eq!(gaps(&edl), [(hour + 48, hour + 60)]);
        let plan = conform::plan(
            &[],
            &edl,
            &ConformOptions {
                sequence_name: "SQ020".into(),
                start_frame: 1001,
                head_handles: 8,
                tail_handles: 8,
            },
        );
        let names: Vec<&str> = plan.new.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["SQ020_0010", "SQ020_0020", "SQ020_0030"]);
        assert_eq!(plan.new[2].clip_name.as_deref(), Some("C003C002"));
    }

    #[test]
    fn the_same_timeline_at_another_rate_is_converted_by_time() {
        // 23.976 and 24 label the same frames, so counts carry over; at 25 fps they are timed.
        let at_24 = read(LOCK, Rate::FPS_24, false).unwrap();
        assert_eq!(at_24.events[0].record_in.to_string(), "01:00:00:00");
        let at_25 = read(LOCK, Rate::FPS_25, false).unwrap();
        assert_eq!(at_25.events[0].record_in_frames, 90_090);
        let df = read(LOCK, Rate::FPS_29_97, true).unwrap();
        assert!(df.events[0].drop_frame && df.events[0].record_in.drop_frame);
    }

    #[test]
    fn reels_clip_names_and_effects() {
        let mut doc = lock();
        let clips = &mut doc["tracks"]["children"][0]["children"];
        clips[0]["metadata"] = json!({});
        clips[2]["media_references"]["DEFAULT_MEDIA"] = json!({
            "OTIO_SCHEMA": "GeneratorReference.1", "generator_kind": "black", "name": "Black"
        });
        clips[4]["effects"] = json!([{"OTIO_SCHEMA": "FreezeFrame.1", "time_scalar": 0.0}]);
        clips[4]["enabled"] = json!(false);
        let edl = read_value(&doc).unwrap();
        assert_eq!(edl.events[0].reel, "A001C003_220101", "the file name");
        assert_eq!(edl.events[1].reel, "BL");
        assert!(edl.events[1].is_black());
        assert_eq!(edl.events.len(), 2, "a disabled clip shows nothing");

        let clips = &mut doc["tracks"]["children"][0]["children"];
        clips[4]["enabled"] = json!(true);
        clips[0]["media_references"]["DEFAULT_MEDIA"]["target_url"] = json!(null);
        let edl = read_value(&doc).unwrap();
        assert_eq!(edl.events[0].reel, "AX", "nothing names the source");
        let freeze = &edl.events[2];
        assert_eq!(freeze.speed.as_ref().unwrap().fps_tenths, 0);
        assert_eq!(
            freeze.source_out_frames - freeze.source_in_frames,
            1,
            "a freeze shows one source frame"
        );
        assert_eq!(
            freeze.source_in_frames,
            12 * 86_400,
            "and a dissolve into it does not move that frame"
        );
    }

    #[test]
    fn a_track_source_range_shifts_and_trims_record_time() {
        let mut doc = lock();
        doc["global_start_time"] = json!(null);
        // How OpenTimelineIO's EDL reader records a first record in of 00:00:10:00.
        doc["tracks"]["children"][0]["source_range"] = json!({
            "OTIO_SCHEMA": "TimeRange.1",
            "start_time": {"OTIO_SCHEMA": "RationalTime.1", "rate": 24, "value": -240},
            "duration": {"OTIO_SCHEMA": "RationalTime.1", "rate": 24, "value": 120},
        });
        let edl = read_value(&doc).unwrap();
        assert_eq!(edl.events[0].record_in_frames, 240);
        assert_eq!(edl.events.len(), 3, "the range's duration is not applied");
        // A positive start trims the head of the track.
        doc["tracks"]["children"][0]["source_range"]["start_time"]["value"] = json!(70);
        let edl = read_value(&doc).unwrap();
        assert_eq!(edl.events.len(), 2);
        assert_eq!(edl.ignored_lines.len(), 1);
        assert_eq!(frames(&edl.events[0]), [0, 20, 950_410, 950_430]);
    }

    #[test]
    fn errors_name_the_json_path() {
        let set = |pointer: &str, value: Value| {
            let mut doc = lock();
            *doc.pointer_mut(pointer).unwrap() = value;
            read_value(&doc).unwrap_err()
        };
        let clip = "/tracks/children/0/children";
        let cases = [
            (
                set(&format!("{clip}/4/source_range/duration/value"), json!(-1)),
                "tracks[0].children[4].source_range.duration",
                "negative",
            ),
            (
                set(&format!("{clip}/2/source_range/start_time/rate"), json!(0)),
                "tracks[0].children[2].source_range.start_time.rate",
                "above 0",
            ),
            (
                set(
                    &format!("{clip}/0/source_range/start_time/value"),
                    json!(1e300),
                ),
                "tracks[0].children[0].source_range.start_time.value",
                "ten days",
            ),
            (
                set(
                    &format!("{clip}/0/source_range/start_time/value"),
                    json!("10"),
                ),
                "tracks[0].children[0].source_range.start_time.value",
                "must be a number, not a string",
            ),
            (
                set(&format!("{clip}/1/OTIO_SCHEMA"), json!("Marker.2")),
                "tracks[0].children[1].OTIO_SCHEMA",
                "not a clip",
            ),
            (
                set(&format!("{clip}/3/in_offset/value"), json!(37)),
                "tracks[0].children[3].in_offset",
                "longer than the 36 frames",
            ),
            (
                set(&format!("{clip}/4/effects/0/time_scalar"), json!(1e6)),
                "tracks[0].children[4].effects[0].time_scalar",
                "faster",
            ),
            (
                set(
                    &format!("{clip}/0/metadata/cmx_3600/reel"),
                    json!("R".repeat(65)),
                ),
                "tracks[0].children[0].metadata.cmx_3600.reel",
                "longer than 64",
            ),
            (
                set(
                    &format!("{clip}/0/source_range/start_time/value"),
                    json!(-1),
                ),
                "tracks[0].children[0].source_range.start_time",
                "before 00:00:00:00",
            ),
            (
                set("/tracks/children/0/children", json!({})),
                "tracks[0].children",
                "must be a list",
            ),
            (
                set("/tracks/OTIO_SCHEMA", json!("Track.1")),
                "tracks.OTIO_SCHEMA",
                "a Stack belongs here",
            ),
            (
                set("/OTIO_SCHEMA", json!("Timeline.9")),
                "OTIO_SCHEMA",
                "version",
            ),
            (set("/tracks", json!(null)), "tracks", "missing"),
        ];
        for (err, path, says) in cases {
            assert_eq!(err.path, path, "{err}");
            assert!(err.message.contains(says), "{err}");
            assert_eq!(err.code(), "tracking.bad_otio");
        }
        let err = read("{\"OTIO_SCHEMA\": ", Rate::FPS_24, false).unwrap_err();
        assert_eq!(err.path, "document");
        assert!(
            err.to_string().starts_with("document: is not JSON"),
            "{err}"
        );
        assert_eq!(
            read("[]", Rate::FPS_24, false).unwrap_err().path,
            "document"
        );
    }

    #[test]
    fn too_many_items_is_an_error() {
        let gap = json!({"OTIO_SCHEMA": "Gap.1", "source_range": {
            "OTIO_SCHEMA": "TimeRange.1",
            "start_time": {"OTIO_SCHEMA": "RationalTime.1", "rate": 24, "value": 0},
            "duration": {"OTIO_SCHEMA": "RationalTime.1", "rate": 24, "value": 1},
        }});
        let mut doc = lock();
        doc["tracks"]["children"][0]["children"] = Value::Array(vec![gap; MAX_ITEMS]);
        let err = read_value(&doc).unwrap_err();
        assert!(err.message.contains("too many"), "{err}");
    }

    #[test]
    fn writes_a_timeline() {
        let export = Export {
            title: "REEL 2 LOCK v4".into(),
            rate: Rate::FPS_23_976,
            drop_frame: false,
            shots: vec![
                ExportShot {
                    name: "SQ020_0010".into(),
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
                },
                ExportShot {
                    name: "SQ020_0020".into(),
                    clip_name: None,
                    reel: "B002C001".into(),
                    record_in: 86_460,
                    record_out: 86_490,
                    source_in: 950_400,
                    source_out: 950_460,
                    locators: vec![ExportLocator {
                        frame: 86_489,
                        colour: None,
                        text: "last frame".into(),
                    }],
                },
            ],
        };
        let text = write(&export).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["global_start_time"]["rate"], json!(24_000.0 / 1001.0));
        assert_eq!(
            doc["global_start_time"]["rate"].to_string(),
            "23.976023976023978"
        );
        let items = doc["tracks"]["children"][0]["children"].as_array().unwrap();
        let schemas: Vec<&str> = items
            .iter()
            .map(|i| i["OTIO_SCHEMA"].as_str().unwrap())
            .collect();
        assert_eq!(schemas, ["Clip.2", "Gap.1", "Clip.2"]);
        assert_eq!(items[0]["metadata"]["cmx_3600"]["reel"], "A001C003");
        assert_eq!(items[0]["metadata"]["mstation"]["shot"], "SQ020_0010");
        assert_eq!(items[2]["effects"][0]["time_scalar"], json!(2.0));
        // A marker is in its clip's own time: the source in, and 12 frames into the shot.
        let marker = &items[0]["markers"][0];
        assert_eq!(marker["OTIO_SCHEMA"], "Marker.2");
        assert_eq!(marker["name"], "fix the sky");
        assert_eq!(marker["color"], "RED");
        assert_eq!(
            marker["marked_range"]["start_time"]["value"],
            json!(864_012.0)
        );
        assert_eq!(marker["marked_range"]["duration"]["value"], json!(0.0));
        assert_eq!(items[2]["markers"][0]["color"], "");
        let edl = read(&text, Rate::FPS_23_976, false).unwrap();
        assert_eq!(frames(&edl.events[1]), [86_460, 86_490, 950_400, 950_460]);
        assert_eq!(edl.events[1].clip_name, None);
        let marks: Vec<(i64, Option<&str>, &str)> = edl
            .events
            .iter()
            .flat_map(|e| &e.locators)
            .map(|l| (l.frames, l.colour.as_deref(), l.text.as_str()))
            .collect();
        assert_eq!(
            marks,
            [
                (86_412, Some("RED"), "fix the sky"),
                (86_489, None, "last frame")
            ]
        );
        assert!(edl.warnings.is_empty(), "{:?}", edl.warnings);
    }

    /// Markers as OpenTimelineIO's CMX 3600 reader leaves them (a LOC's record timecode as the
    /// marker's time, `metadata.cmx_3600` on the marker) are read as record frames, even one
    /// whose time is also within the clip's own; a marker outside its clip's record is skipped
    /// with a warning, one of an unknown colour kept without one.
    #[test]
    fn markers_as_other_tools_write_them() {
        let rate = Rate::FPS_24;
        let export = Export {
            title: "MARKERS".into(),
            rate,
            drop_frame: false,
            shots: vec![ExportShot {
                name: "SQ010_0010".into(),
                clip_name: None,
                reel: "A001C003".into(),
                record_in: 86_400,
                record_out: 86_448,
                source_in: 864_000,
                source_out: 864_048,
                locators: Vec::new(),
            }],
        };
        let mut doc: Value = serde_json::from_str(&write(&export).unwrap()).unwrap();
        let marker = |at: f64, colour: &str, name: &str, metadata: Value| {
            json!({
                "OTIO_SCHEMA": "Marker.2",
                "name": name,
                "metadata": metadata,
                "color": colour,
                "marked_range": {
                    "OTIO_SCHEMA": "TimeRange.1",
                    "start_time": {"OTIO_SCHEMA": "RationalTime.1", "rate": 24.0, "value": at},
                    "duration": {"OTIO_SCHEMA": "RationalTime.1", "rate": 1.0, "value": 0.0},
                },
            })
        };
        let from_edl = json!({"cmx_3600": {"color": "PINK"}});
        doc["tracks"]["children"][0]["children"][0]["markers"] = json!([
            marker(86_410.0, "PINK", "ANIM FIX NEEDED", from_edl),
            marker(864_020.0, "TEAL", "in the clip's own time", json!({})),
            marker(10.0, "RED", "nowhere near", json!({})),
        ]);
        let edl = read_value(&doc).unwrap();
        let marks: Vec<(i64, Option<&str>, &str)> = edl.events[0]
            .locators
            .iter()
            .map(|l| (l.frames, l.colour.as_deref(), l.text.as_str()))
            .collect();
        assert_eq!(
            marks,
            [
                (86_410, Some("PINK"), "ANIM FIX NEEDED"),
                (86_420, None, "in the clip's own time")
            ]
        );
        let warnings: Vec<(&str, &str)> = edl
            .warnings
            .iter()
            .map(|w| (w.code, w.text.as_str()))
            .collect();
        assert_eq!(
            warnings,
            [
                ("locator_colour_unknown", "tracks[0].children[0].markers[1]"),
                ("locator_outside_event", "tracks[0].children[0].markers[2]")
            ]
        );
        assert_eq!(edl.ignored_lines.len(), 1);
    }

    proptest! {
        #[test]
        fn written_timelines_read_back(export in crate::tracking::export::tests::exports()) {
            // Named as the conform below names new shots, so that the EDL's name locators are
            // names there, as they are when a sequence's export conforms back.
            let mut export = export;
            let mut number = 0;
            for s in &mut export.shots {
                // Black filler makes no shot, so takes no number.
                if !["BL", "BLK", "BLACK"].iter().any(|b| s.reel.eq_ignore_ascii_case(b)) {
                    number += 10;
                    s.name = format!("SQ010_{number:04}");
                }
            }
            let text = write(&export).unwrap();
            let edl = read(&text, export.rate, export.drop_frame).unwrap();
            prop_assert_eq!(&edl.title, &Some(export.title.clone()).filter(|t| !t.is_empty()));
            prop_assert_eq!(edl.events.len(), export.shots.len());
            prop_assert!(edl.warnings.is_empty());
            for (e, s) in edl.events.iter().zip(&export.shots) {
                prop_assert_eq!(&e.reel, &s.reel);
                prop_assert_eq!(&e.clip_name, &s.clip_name);
                prop_assert_eq!(e.drop_frame, export.drop_frame);
                prop_assert_eq!(frames(e), [s.record_in, s.record_out, s.source_in, s.source_out]);
                let marks: Vec<ExportLocator> = e
                    .locators
                    .iter()
                    .map(|l| ExportLocator {
                        frame: l.frames,
                        colour: l.colour.clone(),
                        text: l.text.clone(),
                    })
                    .collect();
                prop_assert_eq!(&marks, &s.locators);
            }
            // The same cut through both formats gives the same events.
            let through_edl = edl::parse(&edl::write(&export).unwrap(), export.rate).unwrap();
            let key = |e: &EdlEvent| (frames(e), e.reel.clone());
            let both: Vec<([i64; 4], String)> = through_edl.events.iter().map(key).collect();
            let ours: Vec<([i64; 4], String)> = edl.events.iter().map(key).collect();
            prop_assert_eq!(both, ours);
            // And so the same shots, but for where each event was found in its file.
            let opts = ConformOptions {
                sequence_name: "SQ010".into(),
                start_frame: 1001,
                head_handles: 8,
                tail_handles: 8,
            };
            let shots = |edl: &Edl| {
                let mut plan = conform::plan(&[], edl, &opts);
                plan.new.iter_mut().for_each(|s| s.line = 0);
                plan.skipped.iter_mut().for_each(|s| s.line = 0);
                // An EDL warns of a locator without a colour; OTIO says it has none.
                plan.warnings.clear();
                plan
            };
            prop_assert_eq!(shots(&through_edl), shots(&edl));
        }

        #[test]
        fn read_never_panics(s in any::<String>()) {
            let _ = read(&s, Rate::FPS_24, false);
        }

        #[test]
        fn read_never_panics_on_mutated_timelines(
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), prop::sample::select(vec![
                    json!(null), json!(-1), json!(0), json!(0.5), json!(-0.0), json!(1e308),
                    json!(86_400_000), json!(i64::MIN), json!(u64::MAX), json!("Clip.2"),
                    json!("Transition.1"), json!("Gap.1"), json!("Stack.1"), json!("Video"),
                    json!(""), json!([]), json!({}), json!(true), json!([{}]),
                ])),
                1..6,
            ),
            rate in prop::sample::select(Rate::COMMON.to_vec()),
        ) {
            let mut doc = lock();
            for (index, value) in edits {
                let mut pointers = Vec::new();
                pointers_of(&doc, String::new(), &mut pointers);
                let pointer = &pointers[index.index(pointers.len())];
                if let Some(slot) = doc.pointer_mut(pointer) {
                    *slot = value;
                }
            }
            let _ = read(&doc.to_string(), rate, true);
        }

        #[test]
        fn read_never_panics_on_text_edits(
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), prop::sample::select(
                    vec!['0', '9', '-', '.', 'e', '"', ',', '{', '}', '[', ']', ' ', 'n', '1']
                )),
                1..10,
            ),
        ) {
            let mut bytes: Vec<char> = LOCK.chars().collect();
            for (index, c) in edits {
                let i = index.index(bytes.len());
                bytes[i] = c;
            }
            let text: String = bytes.into_iter().collect();
            let _ = read(&text, Rate::FPS_23_976, false);
        }
    }

    /// Every JSON pointer in `v`, the root included.
    fn pointers_of(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    pointers_of(
                        child,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    pointers_of(child, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
}
