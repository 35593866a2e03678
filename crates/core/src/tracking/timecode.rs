//! SMPTE timecode: frame rates as exact rationals, `HH:MM:SS:FF` parsing and printing, and the
//! drop-frame arithmetic that maps a timecode to a frame count and back.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use thiserror::Error;

use crate::validate;

/// The highest frame count per second we accept. Timecode frames are printed with at most three
/// digits, and no camera or deck we know of runs faster.
pub const MAX_NOMINAL: u32 = 999;

/// The whole rates that have an NTSC variant slowed by 1000/1001 (23.976, 29.97, 47.952, 59.94,
/// …); `25000/1001` is no rate any equipment runs at, so it is more likely a typing mistake.
const NTSC_NOMINALS: [u32; 7] = [24, 30, 48, 60, 96, 120, 240];

/// What is wrong with a frame rate or a timecode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimecodeError {
    #[error(
        "{0:?} is not a frame rate: use a whole number such as 24 or 25, an NTSC rate such as 23.976, 29.97 or 59.94, or a ratio such as 24000/1001"
    )]
    BadRate(String),
    #[error("{0:?} is not a timecode: expected HH:MM:SS:FF, or HH:MM:SS;FF for drop-frame")]
    BadShape(String),
    #[error("{field} is {value}, but must be below {limit}")]
    OutOfRange {
        field: &'static str,
        value: u32,
        limit: u32,
    },
    #[error("drop-frame timecode does not exist at {rate} fps, only at 29.97 and 59.94")]
    DropFrameAtRate { rate: Rate },
    #[error(
        "{timecode} does not exist: drop-frame timecode skips frames 00 to {last:02} at the start of every minute except each tenth"
    )]
    DroppedFrame { timecode: Timecode, last: u32 },
}

impl TimecodeError {
    /// A stable, machine-readable code for API errors.
    pub const fn code(&self) -> &'static str {
        match self {
            TimecodeError::BadRate(_) => "tracking.bad_frame_rate",
            TimecodeError::BadShape(_) => "tracking.bad_timecode",
            TimecodeError::OutOfRange { .. } => "tracking.timecode_out_of_range",
            TimecodeError::DropFrameAtRate { .. } => "tracking.drop_frame_rate",
            TimecodeError::DroppedFrame { .. } => "tracking.dropped_frame",
        }
    }
}

/// A frame rate as an exact ratio of frames to seconds.
///
/// Only the rates timecode can count are representable: whole numbers (24, 25, 30, …) and their
/// NTSC variants slowed by 1000/1001 (23.976, 29.97, 59.94, …). Keeping that invariant in the
/// type is what makes `nominal()` exact and the frame arithmetic total, so the fields are private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Rate {
    num: u32,
    den: u32,
}

impl Rate {
    pub const FPS_23_976: Rate = Rate {
        num: 24_000,
        den: 1001,
    };
    pub const FPS_24: Rate = Rate { num: 24, den: 1 };
    pub const FPS_25: Rate = Rate { num: 25, den: 1 };
    pub const FPS_29_97: Rate = Rate {
        num: 30_000,
        den: 1001,
    };
    pub const FPS_30: Rate = Rate { num: 30, den: 1 };
    pub const FPS_50: Rate = Rate { num: 50, den: 1 };
    pub const FPS_59_94: Rate = Rate {
        num: 60_000,
        den: 1001,
    };
    pub const FPS_60: Rate = Rate { num: 60, den: 1 };

    /// The rates productions deliver at, slowest first.
    pub const COMMON: [Rate; 8] = [
        Rate::FPS_23_976,
        Rate::FPS_24,
        Rate::FPS_25,
        Rate::FPS_29_97,
        Rate::FPS_30,
        Rate::FPS_50,
        Rate::FPS_59_94,
        Rate::FPS_60,
    ];

    /// A rate from a ratio in any terms: `48/2` is 24 fps, `48000/2002` is 23.976.
    pub fn new(num: u32, den: u32) -> Result<Rate, TimecodeError> {
        let bad = || TimecodeError::BadRate(format!("{num}/{den}"));
        if num == 0 || den == 0 {
            return Err(bad());
        }
        let (n, d) = (u64::from(num), u64::from(den));
        let rate = if n.is_multiple_of(d) {
            let nominal = u32::try_from(n / d).map_err(|_| bad())?;
            Rate {
                num: nominal,
                den: 1,
            }
        } else if (n * 1001).is_multiple_of(d * 1000) {
            let nominal = u32::try_from(n * 1001 / (d * 1000)).map_err(|_| bad())?;
            if !NTSC_NOMINALS.contains(&nominal) {
                return Err(bad());
            }
            Rate {
                num: nominal * 1000,
                den: 1001,
            }
        } else {
            return Err(bad());
        };
        if rate.nominal() > MAX_NOMINAL {
            return Err(bad());
        }
        Ok(rate)
    }

    /// Reads `24`, `25.00`, `23.976`, `23.98`, `29.97`, `59.94`, `24000/1001` or `30/1`, with an
    /// optional `fps` suffix. A decimal with a fraction is accepted only as an NTSC rate, written
    /// rounded or truncated to two or more places, because that is how every tool prints them.
    pub fn parse(text: &str) -> Result<Rate, TimecodeError> {
        let bad = || TimecodeError::BadRate(validate::excerpt(text));
        let t = text.trim();
        let t = match t.len().checked_sub(3).and_then(|i| t.get(i..)) {
            Some(suffix) if suffix.eq_ignore_ascii_case("fps") => {
                t.get(..t.len() - 3).unwrap_or_default().trim_end()
            }
            _ => t,
        };
        if let Some((n, d)) = t.split_once('/') {
            let n = parse_digits(n.trim()).ok_or_else(bad)?;
            let d = parse_digits(d.trim()).ok_or_else(bad)?;
            return Rate::new(n, d).map_err(|_| bad());
        }
        let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
        let whole = parse_digits(whole).ok_or_else(bad)?;
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if fraction.bytes().all(|b| b == b'0') {
            return Rate::new(whole, 1).map_err(|_| bad());
        }
        let places = u32::try_from(fraction.len()).map_err(|_| bad())?;
        if !(2..=6).contains(&places) {
            return Err(bad());
        }
        let nominal = whole.checked_add(1).ok_or_else(bad)?;
        let written = u128::from(whole) * 10u128.pow(places)
            + parse_digits(fraction).map(u128::from).ok_or_else(bad)?;
        // The exact value is nominal × 1000/1001; scale it to the written number of places.
        let scaled = u128::from(nominal) * 1000 * 10u128.pow(places);
        let truncated = scaled / 1001;
        let rounded = (2 * scaled + 1001) / 2002;
        if written != truncated && written != rounded {
            return Err(bad());
        }
        let num = nominal.checked_mul(1000).ok_or_else(bad)?;
        Rate::new(num, 1001).map_err(|_| bad())
    }

    pub const fn num(self) -> u32 {
        self.num
    }

    pub const fn den(self) -> u32 {
        self.den
    }

    /// The whole frames counted per timecode second: 24 for 23.976, 30 for 29.97, 60 for 59.94.
    pub const fn nominal(self) -> u32 {
        if self.den == 1 {
            self.num
        } else {
            self.num / 1000
        }
    }

    /// Drop-frame timecode exists only for 29.97 and 59.94.
    pub const fn supports_drop_frame(self) -> bool {
        self.den == 1001 && (self.num == 30_000 || self.num == 60_000)
    }

    /// Frame numbers skipped at the start of each minute not divisible by ten (2 at 29.97, 4 at
    /// 59.94), which keeps drop-frame timecode within 0.1 s of the wall clock over a day.
    const fn dropped_per_minute(self) -> u32 {
        if self.supports_drop_frame() {
            self.nominal() / 15
        } else {
            0
        }
    }

    /// How long `frames` frames last, in seconds.
    pub fn seconds(self, frames: i64) -> f64 {
        frames as f64 * f64::from(self.den) / f64::from(self.num)
    }

    /// The frames in one 24-hour timecode day; timecode wraps to 00:00:00:00 after it.
    pub fn frames_per_day(self, drop_frame: bool) -> i64 {
        let nominal = i64::from(self.nominal());
        let mut n = 24 * 3600 * nominal;
        if drop_frame {
            n -= i64::from(self.dropped_per_minute()) * 24 * 54;
        }
        n
    }
}

impl fmt::Display for Rate {
    /// Whole rates as `25`, NTSC rates to three places less trailing zeros (`23.976`, `29.97`),
    /// but never fewer than two, because `parse` reads one place as ambiguous.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            return write!(f, "{}", self.num);
        }
        let thousandths =
            (u64::from(self.num) * 1000 * 2 + u64::from(self.den)) / (2 * u64::from(self.den));
        let whole = thousandths / 1000;
        let mut fraction = format!("{:03}", thousandths % 1000);
        while fraction.len() > 2 && fraction.ends_with('0') {
            fraction.pop();
        }
        write!(f, "{whole}.{fraction}")
    }
}

impl FromStr for Rate {
    type Err = TimecodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rate::parse(s)
    }
}

/// Digits only (no sign, no spaces), at most nine so the value always fits.
fn parse_digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A SMPTE timecode: a label on a frame, counted on a 24-hour clock.
///
/// The fields are public for building and matching; `validate`, `to_frames` and `parse` are
/// where the ranges are enforced, because whether a frame exists depends on the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timecode {
    pub hours: u8,
    pub minutes: u8,
    pub seconds: u8,
    pub frames: u16,
    pub drop_frame: bool,
}

impl Timecode {
    /// Reads `HH:MM:SS:FF` (non-drop) or a drop-frame form: `HH:MM:SS;FF`, `HH:MM:SS.FF` or
    /// `HH;MM;SS;FF`. Frames may have three digits for rates above 99 fps. No surrounding
    /// whitespace is allowed; the caller decides what a field is.
    pub fn parse(text: &str, rate: Rate) -> Result<Timecode, TimecodeError> {
        let tc = Timecode::parse_shape(text)?;
        tc.validate(rate)?;
        Ok(tc)
    }

    /// The shape and the rate-independent ranges (hours, minutes, seconds).
    fn parse_shape(text: &str) -> Result<Timecode, TimecodeError> {
        let bad = || TimecodeError::BadShape(validate::excerpt(text));
        let b = text.as_bytes();
        if !(b.len() == 11 || b.len() == 12) {
            return Err(bad());
        }
        let digits_at = |range: std::ops::Range<usize>| -> Option<u32> {
            let s = text.get(range)?;
            if s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse().ok()
            } else {
                None
            }
        };
        let hours = digits_at(0..2).ok_or_else(bad)?;
        let minutes = digits_at(3..5).ok_or_else(bad)?;
        let seconds = digits_at(6..8).ok_or_else(bad)?;
        let frames = digits_at(9..b.len()).ok_or_else(bad)?;
        let drop_frame = match (b[2], b[5], b[8]) {
            (b':', b':', b':') => false,
            (b':', b':', b';' | b'.') | (b';', b';', b';') => true,
            _ => return Err(bad()),
        };
        check("hours", hours, 24)?;
        check("minutes", minutes, 60)?;
        check("seconds", seconds, 60)?;
        Ok(Timecode {
            hours: hours as u8,
            minutes: minutes as u8,
            seconds: seconds as u8,
            frames: frames as u16,
            drop_frame,
        })
    }

    /// Checks that this timecode names a frame that exists at `rate`.
    pub fn validate(&self, rate: Rate) -> Result<(), TimecodeError> {
        check("hours", u32::from(self.hours), 24)?;
        check("minutes", u32::from(self.minutes), 60)?;
        check("seconds", u32::from(self.seconds), 60)?;
        check("frames", u32::from(self.frames), rate.nominal())?;
        if self.drop_frame {
            if !rate.supports_drop_frame() {
                return Err(TimecodeError::DropFrameAtRate { rate });
            }
            let dropped = rate.dropped_per_minute();
            if self.seconds == 0
                && !self.minutes.is_multiple_of(10)
                && u32::from(self.frames) < dropped
            {
                return Err(TimecodeError::DroppedFrame {
                    timecode: *self,
                    last: dropped - 1,
                });
            }
        }
        Ok(())
    }

    /// The number of frames since 00:00:00:00.
    pub fn to_frames(&self, rate: Rate) -> Result<i64, TimecodeError> {
        self.validate(rate)?;
        let nominal = i64::from(rate.nominal());
        let minutes = i64::from(self.hours) * 60 + i64::from(self.minutes);
        let mut n = (minutes * 60 + i64::from(self.seconds)) * nominal + i64::from(self.frames);
        if self.drop_frame {
            n -= i64::from(rate.dropped_per_minute()) * (minutes - minutes / 10);
        }
        Ok(n)
    }

    /// The timecode of frame `frames`, on the 24-hour clock: counts past a day (or below zero)
    /// wrap around as a deck's would. `drop_frame` is honoured only where the rate has drop-frame
    /// timecode; elsewhere the result is non-drop, which the returned `drop_frame` field shows.
    pub fn from_frames(frames: i64, rate: Rate, drop_frame: bool) -> Timecode {
        let drop_frame = drop_frame && rate.supports_drop_frame();
        let mut n = frames.rem_euclid(rate.frames_per_day(drop_frame));
        if drop_frame {
            // Turn the frame count back into the label count by re-inserting the skipped labels:
            // 9 skips per full ten-minute block, plus one per started minute after the first.
            let drop = i64::from(rate.dropped_per_minute());
            let nominal = i64::from(rate.nominal());
            let per_ten_minutes = nominal * 600 - 9 * drop;
            let per_minute = nominal * 60 - drop;
            let blocks = n / per_ten_minutes;
            let rest = n % per_ten_minutes;
            n += 9 * drop * blocks;
            if rest > drop {
                n += drop * ((rest - drop) / per_minute);
            }
        }
        let nominal = i64::from(rate.nominal());
        let frames = n % nominal;
        let total_seconds = n / nominal;
        // The casts cannot truncate: n is below one day of labels.
        Timecode {
            hours: (total_seconds / 3600) as u8,
            minutes: (total_seconds / 60 % 60) as u8,
            seconds: (total_seconds % 60) as u8,
            frames: frames as u16,
            drop_frame,
        }
    }
}

fn check(field: &'static str, value: u32, limit: u32) -> Result<(), TimecodeError> {
    if value < limit {
        Ok(())
    } else {
        Err(TimecodeError::OutOfRange {
            field,
            value,
            limit,
        })
    }
}

impl fmt::Display for Timecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.drop_frame { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

/// Serialised as its canonical text, which carries the drop-frame flag in the separator.
impl Serialize for Timecode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tc(text: &str, rate: Rate) -> Timecode {
        Timecode::parse(text, rate).unwrap()
    }

    #[test]
    fn rate_parse_and_nominal() {
        assert_eq!(Rate::parse("23.976").unwrap(), Rate::FPS_23_976);
        assert_eq!(Rate::parse("23.98").unwrap(), Rate::FPS_23_976);
        assert_eq!(Rate::parse("23.97").unwrap(), Rate::FPS_23_976);
        assert_eq!(Rate::parse("24").unwrap(), Rate::FPS_24);
        assert_eq!(Rate::parse("25.00").unwrap(), Rate::FPS_25);
        assert_eq!(Rate::parse("29.97").unwrap(), Rate::FPS_29_97);
        assert_eq!(Rate::parse(" 59.94 fps").unwrap(), Rate::FPS_59_94);
        assert_eq!(Rate::parse("24000/1001").unwrap(), Rate::FPS_23_976);
        assert_eq!(Rate::parse("60000/1001").unwrap(), Rate::FPS_59_94);
        assert_eq!(Rate::parse("48/2").unwrap(), Rate::FPS_24);
        assert_eq!(Rate::parse("48000/2002").unwrap(), Rate::FPS_23_976);
        assert_eq!(
            Rate::parse("119.88").unwrap(),
            Rate::new(120_000, 1001).unwrap()
        );
        assert_eq!(Rate::parse("47.952").unwrap().nominal(), 48);
        assert_eq!(Rate::FPS_23_976.nominal(), 24);
        assert_eq!(Rate::FPS_29_97.nominal(), 30);
        assert_eq!(Rate::FPS_59_94.nominal(), 60);
        assert_eq!(Rate::FPS_50.nominal(), 50);
        for bad in [
            "",
            "0",
            "-24",
            "12.5",
            "29.9",
            "29.96",
            "24/0",
            "0/1",
            "25000/1001",
            "1000",
            "24.0.0",
            "x",
            "fps",
            "4294967295/1",
            "99999999999",
        ] {
            assert!(
                matches!(Rate::parse(bad), Err(TimecodeError::BadRate(_))),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn only_ntsc_30_and_60_drop_frames() {
        let drop: Vec<Rate> = Rate::COMMON
            .into_iter()
            .filter(|r| r.supports_drop_frame())
            .collect();
        assert_eq!(drop, vec![Rate::FPS_29_97, Rate::FPS_59_94]);
    }

    #[test]
    fn rate_display() {
        let shown: Vec<String> = Rate::COMMON.iter().map(Rate::to_string).collect();
        assert_eq!(
            shown,
            ["23.976", "24", "25", "29.97", "30", "50", "59.94", "60"]
        );
    }

    #[test]
    fn known_drop_frame_values() {
        let r = Rate::FPS_29_97;
        assert_eq!(tc("00:01:00;02", r).to_frames(r).unwrap(), 1800);
        assert_eq!(tc("00:00:59;29", r).to_frames(r).unwrap(), 1799);
        assert_eq!(tc("00:10:00;00", r).to_frames(r).unwrap(), 17_982);
        assert_eq!(tc("01:00:00;00", r).to_frames(r).unwrap(), 107_892);
        assert_eq!(
            Timecode::from_frames(1800, r, true).to_string(),
            "00:01:00;02"
        );
        assert_eq!(
            Timecode::from_frames(17_982, r, true).to_string(),
            "00:10:00;00"
        );
        assert_eq!(
            Timecode::from_frames(107_892, r, true).to_string(),
            "01:00:00;00"
        );
        let r = Rate::FPS_59_94;
        assert_eq!(tc("00:01:00;04", r).to_frames(r).unwrap(), 3600);
        assert_eq!(tc("00:10:00;00", r).to_frames(r).unwrap(), 35_964);
        assert_eq!(tc("01:00:00;00", r).to_frames(r).unwrap(), 215_784);
        assert_eq!(Rate::FPS_29_97.frames_per_day(true), 2_589_408);
    }

    #[test]
    fn non_drop_values() {
        let r = Rate::FPS_24;
        assert_eq!(tc("01:00:00:00", r).to_frames(r).unwrap(), 86_400);
        assert_eq!(tc("00:00:01:23", r).to_frames(r).unwrap(), 47);
        let r = Rate::FPS_23_976;
        assert_eq!(tc("01:00:00:00", r).to_frames(r).unwrap(), 86_400);
        let r = Rate::FPS_29_97;
        assert_eq!(tc("01:00:00:00", r).to_frames(r).unwrap(), 108_000);
    }

    #[test]
    fn drop_frame_spellings() {
        let r = Rate::FPS_29_97;
        let want = tc("01:02:03;04", r);
        assert!(want.drop_frame);
        assert_eq!(tc("01:02:03.04", r), want);
        assert_eq!(tc("01;02;03;04", r), want);
        assert_eq!(want.to_string(), "01:02:03;04");
        assert!(!tc("01:02:03:04", r).drop_frame);
    }

    #[test]
    fn rejects_bad_shapes_and_ranges() {
        let r = Rate::FPS_25;
        for bad in [
            "",
            "1:00:00:00",
            "01:00:00",
            "01:00:00:00:00",
            "01-00-00-00",
            "01;00:00:00",
            "01:00;00;00",
            "0a:00:00:00",
            "+1:00:00:00",
            " 01:00:00:00",
            "01:00:00:0000",
            "01:00:00:é",
            "０1:00:00:00",
        ] {
            assert!(
                matches!(Timecode::parse(bad, r), Err(TimecodeError::BadShape(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            Timecode::parse("24:00:00:00", r),
            Err(TimecodeError::OutOfRange {
                field: "hours",
                value: 24,
                limit: 24
            })
        );
        assert!(matches!(
            Timecode::parse("00:60:00:00", r),
            Err(TimecodeError::OutOfRange {
                field: "minutes",
                ..
            })
        ));
        assert!(matches!(
            Timecode::parse("00:00:60:00", r),
            Err(TimecodeError::OutOfRange {
                field: "seconds",
                ..
            })
        ));
        assert!(matches!(
            Timecode::parse("00:00:00:25", r),
            Err(TimecodeError::OutOfRange {
                field: "frames",
                value: 25,
                limit: 25
            })
        ));
        assert!(Timecode::parse("00:00:00:24", r).is_ok());
        assert!(Timecode::parse("00:00:00:100", Rate::new(120, 1).unwrap()).is_ok());
    }

    #[test]
    fn rejects_drop_frame_where_it_does_not_exist() {
        assert_eq!(
            Timecode::parse("01:00:00;00", Rate::FPS_25),
            Err(TimecodeError::DropFrameAtRate { rate: Rate::FPS_25 })
        );
        assert!(Timecode::parse("01:00:00;00", Rate::FPS_23_976).is_err());
        let r = Rate::FPS_29_97;
        for gone in ["00:01:00;00", "00:01:00;01", "01:59:00;01"] {
            let err = Timecode::parse(gone, r).unwrap_err();
            assert_eq!(err.code(), "tracking.dropped_frame", "{gone}");
        }
        assert_eq!(
            Timecode::parse("00:01:00;00", r).unwrap_err().to_string(),
            "00:01:00;00 does not exist: drop-frame timecode skips frames 00 to 01 at the start of every minute except each tenth"
        );
        for kept in [
            "00:00:00;00",
            "00:10:00;00",
            "00:10:00;01",
            "00:01:00;02",
            "00:01:01;00",
        ] {
            assert!(Timecode::parse(kept, r).is_ok(), "{kept}");
        }
        let r = Rate::FPS_59_94;
        assert!(Timecode::parse("00:01:00;03", r).is_err());
        assert!(Timecode::parse("00:01:00;04", r).is_ok());
        // The same labels are ordinary frames in non-drop counting.
        assert!(Timecode::parse("00:01:00:00", r).is_ok());
    }

    #[test]
    fn from_frames_wraps_the_day() {
        let r = Rate::FPS_25;
        assert_eq!(
            Timecode::from_frames(-1, r, false).to_string(),
            "23:59:59:24"
        );
        assert_eq!(
            Timecode::from_frames(r.frames_per_day(false), r, false).to_string(),
            "00:00:00:00"
        );
        assert_eq!(
            Timecode::from_frames(i64::MIN, Rate::FPS_29_97, true).validate(Rate::FPS_29_97),
            Ok(())
        );
        // A drop-frame request at a rate without it falls back to non-drop, visibly.
        assert!(!Timecode::from_frames(0, r, true).drop_frame);
    }

    #[test]
    fn drop_frame_walks_every_label_in_order() {
        // Exhaustive over a whole day: each frame's label is the next existing label after the
        // previous frame's, so no label is skipped twice or reused.
        for rate in [Rate::FPS_29_97, Rate::FPS_59_94] {
            let mut prev = Timecode::from_frames(0, rate, true);
            for n in 1..rate.frames_per_day(true) {
                let cur = Timecode::from_frames(n, rate, true);
                let key = |t: Timecode| (t.hours, t.minutes, t.seconds, t.frames);
                assert!(key(cur) > key(prev), "{prev} then {cur}");
                assert_eq!(cur.validate(rate), Ok(()));
                if cur.frames != 0 && !(cur.seconds == 0 && prev.seconds == 59) {
                    assert_eq!(u32::from(cur.frames), u32::from(prev.frames) + 1);
                }
                prev = cur;
            }
            assert_eq!(prev.to_string(), format!("23:59:59;{}", rate.nominal() - 1));
        }
    }

    #[test]
    fn timecode_serialises_as_text() {
        let t = tc("01:00:00;00", Rate::FPS_29_97);
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"01:00:00;00\"");
        assert_eq!(
            serde_json::to_string(&Rate::FPS_29_97).unwrap(),
            r#"{"num":30000,"den":1001}"#
        );
    }

    fn rate_and_mode() -> impl Strategy<Value = (Rate, bool)> {
        (prop::sample::select(Rate::COMMON.to_vec()), any::<bool>())
            .prop_map(|(r, df)| (r, df && r.supports_drop_frame()))
    }

    proptest! {
        #[test]
        fn frames_round_trip((rate, df) in rate_and_mode(), seed in any::<u64>()) {
            let n = (seed % rate.frames_per_day(df) as u64) as i64;
            let t = Timecode::from_frames(n, rate, df);
            prop_assert_eq!(t.drop_frame, df);
            prop_assert_eq!(t.to_frames(rate), Ok(n));
            let reparsed = Timecode::parse(&t.to_string(), rate).unwrap();
            prop_assert_eq!(reparsed, t);
        }

        #[test]
        fn timecodes_round_trip(
            (rate, df) in rate_and_mode(),
            h in 0u8..24, m in 0u8..60, s in 0u8..60, f in 0u16..60,
        ) {
            let t = Timecode { hours: h, minutes: m, seconds: s, frames: f, drop_frame: df };
            match t.to_frames(rate) {
                Ok(n) => prop_assert_eq!(Timecode::from_frames(n, rate, df), t),
                Err(_) => {
                    let exists_ndf = u32::from(f) < rate.nominal();
                    let skipped =
                        df && s == 0 && !m.is_multiple_of(10) && u32::from(f) < rate.nominal() / 15;
                    prop_assert!(!exists_ndf || skipped);
                }
            }
        }

        #[test]
        fn parse_never_panics(
            s in any::<String>(),
            r in prop::sample::select(Rate::COMMON.to_vec()),
        ) {
            let _ = Timecode::parse(&s, r);
            let _ = Rate::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_near_misses(
            s in "[0-9:;.]{8,14}",
            r in prop::sample::select(Rate::COMMON.to_vec()),
        ) {
            if let Ok(t) = Timecode::parse(&s, r) {
                prop_assert!(t.to_frames(r).is_ok());
            }
        }

        #[test]
        fn rate_display_round_trips(
            n in 1u32..=MAX_NOMINAL,
            ntsc in prop::option::of(prop::sample::select(NTSC_NOMINALS.to_vec())),
        ) {
            let (rate, n) = match ntsc {
                Some(n) => (Rate::new(n * 1000, 1001).unwrap(), n),
                None => (Rate::new(n, 1).unwrap(), n),
            };
            prop_assert_eq!(Rate::parse(&rate.to_string()), Ok(rate));
            prop_assert_eq!(rate.nominal(), n);
        }
    }
}
