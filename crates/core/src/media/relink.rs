//! Relinking a cut to camera files, camera-to-cloud style: a shot's source (the reel and source
//! timecode its EDL event names) is found in the camera file whose reel and timecode cover it,
//! so its proxy plays from the shot's first frame without anyone picking the file by hand.

use crate::tracking::timecode::{Rate, Timecode};

/// A reel name as EDLs and cameras write it, for comparing: trimmed, upper case.
fn norm(reel: &str) -> String {
    reel.trim().to_uppercase()
}

/// Whether a shot's reel names the camera file with reel `file_reel` (from its metadata) or
/// named `file_name`. A CMX 3600 EDL keeps 8 characters of a reel, so a reel of exactly 8 also
/// names a longer camera reel it begins (`A001C003` for `A001C003_220415_R1XZ`). A file's name
/// stands for its reel without its extension.
pub fn reel_matches(shot_reel: &str, file_reel: Option<&str>, file_name: &str) -> bool {
    let shot = norm(shot_reel);
    if shot.is_empty() {
        return false;
    }
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    [file_reel.unwrap_or(""), stem].iter().any(|candidate| {
        let c = norm(candidate);
        !c.is_empty() && (c == shot || (shot.chars().count() == 8 && c.starts_with(&shot)))
    })
}

/// The camera a reel names: its one or two leading letters before the roll number (`A001C003`
/// is camera `A`, `BB012` camera `BB`), upper case; none for a reel that does not start so.
pub fn camera_of(reel: &str) -> Option<String> {
    let reel = reel.trim();
    let letters: String = reel
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let rest = &reel[letters.len()..];
    (!letters.is_empty() && letters.len() <= 2 && rest.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| letters.to_uppercase())
}

/// Where the shot's source (`source_in` to `source_out`, frames of source timecode at `rate`,
/// end excluded, as the EDL gives them) starts in a camera file starting at timecode `start`
/// and `frames` long: its offset in frames from the file's first frame, when the file holds all
/// of it.
pub fn offset_in_file(
    source_in: i64,
    source_out: i64,
    start: &str,
    frames: i64,
    rate: Rate,
) -> Option<i64> {
    let first = Timecode::parse(start, rate).ok()?.to_frames(rate).ok()?;
    let end = first + frames;
    (source_in >= first && source_out <= end && source_in < source_out).then_some(source_in - first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reels_match_by_name_metadata_or_an_edls_eight_characters() {
        assert!(reel_matches("A001C003", Some("A001C003"), "clip.mov"));
        assert!(reel_matches("a001c003 ", None, "A001C003.MOV"));
        assert!(reel_matches(
            "A001C003",
            Some("A001C003_220415_R1XZ"),
            "x.mov"
        ));
        assert!(
            !reel_matches("A001C00", Some("A001C003_220415_R1XZ"), "x.mov"),
            "only a cut-off 8-character reel is a prefix"
        );
        assert!(!reel_matches("A001C004", Some("A001C003"), "A001C003.mov"));
        assert!(!reel_matches("", Some(""), ".mov"));
    }

    #[test]
    fn a_reel_names_its_camera_by_its_leading_letters() {
        assert_eq!(camera_of("A001C003").as_deref(), Some("A"));
        assert_eq!(camera_of("b002_r1xz").as_deref(), Some("B"));
        assert_eq!(camera_of("BB012").as_deref(), Some("BB"));
        assert_eq!(
            camera_of("DAY1"),
            None,
            "letters that are a word, not a camera"
        );
        assert_eq!(camera_of("001"), None);
        assert_eq!(camera_of(""), None);
    }

    #[test]
    fn a_shot_is_found_in_the_file_whose_timecode_covers_it() {
        let r = Rate::FPS_24;
        // The file: 01:00:00:00 for 10 s (240 frames); the shot: 01:00:02:00 to 01:00:03:00.
        let start = 24 * 3600;
        assert_eq!(
            offset_in_file(start + 48, start + 72, "01:00:00:00", 240, r),
            Some(48)
        );
        // Its last frame is the file's last.
        assert_eq!(
            offset_in_file(start + 216, start + 240, "01:00:00:00", 240, r),
            Some(216)
        );
        // Running past the file's end, or starting before it: not this file.
        assert_eq!(
            offset_in_file(start + 230, start + 250, "01:00:00:00", 240, r),
            None
        );
        assert_eq!(
            offset_in_file(start - 1, start + 10, "01:00:00:00", 240, r),
            None
        );
        assert_eq!(
            offset_in_file(start, start + 10, "not a timecode", 240, r),
            None
        );
    }

    #[test]
    fn drop_frame_timecode_is_counted_as_drop_frame() {
        let r = Rate::parse("29.97").unwrap();
        let start = Timecode::parse("00:01:00;02", r)
            .unwrap()
            .to_frames(r)
            .unwrap();
        assert_eq!(
            offset_in_file(start + 30, start + 60, "00:01:00;02", 300, r),
            Some(30)
        );
    }
}
