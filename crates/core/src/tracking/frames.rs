//! The one frame model of the review player: which production frame each frame of a version's
//! file shows. A shot's frames are numbered as the production numbers them (its cut in, such as
//! 1009, to its cut out, both included), and the player names each frame by that number.

/// What a shot says of its frames: its cut in and out, its handles, and where its source starts
/// (frames of source timecode at the project's rate), when the cut gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShotFrames {
    pub cut_in: i64,
    pub cut_out: i64,
    pub head_handles: i64,
    pub tail_handles: i64,
    pub source_in: Option<i64>,
}

/// The production frame a version's file of `count` frames starts at.
///
/// - A file whose timecode (`file_tc`, at the project's rate) places any of its frames within the
///   shot, handles included, starts where that timecode is: a render of the plate's frames with
///   its timecode kept, however long its own handles (a render beginning 16 frames before a shot
///   with 8-frame handles starts at cut in − 16).
/// - Any other file of a shot (no timecode, or one of its own such as 00:00:00:00) is taken to
///   start at the first frame of the shot's head handles, as a render of the shot does.
/// - A file of anything else (an asset's turntable) starts at `start`, the project's first frame.
pub fn first_frame(shot: Option<ShotFrames>, file_tc: Option<i64>, count: i64, start: i64) -> i64 {
    let Some(s) = shot else {
        return start;
    };
    let from_handles = s.cut_in - s.head_handles;
    match (file_tc, s.source_in) {
        (Some(tc), Some(source_in)) => {
            let at = s.cut_in + (tc - source_in);
            let end = at + count.max(1) - 1;
            if at <= s.cut_out + s.tail_handles && end >= from_handles {
                at
            } else {
                from_handles
            }
        }
        _ => from_handles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SHOT: ShotFrames = ShotFrames {
        cut_in: 1009,
        cut_out: 1108,
        head_handles: 8,
        tail_handles: 8,
        source_in: Some(86_400 * 24),
    };

    #[test]
    fn a_render_with_the_plates_timecode_starts_where_that_timecode_is() {
        assert_eq!(
            first_frame(Some(SHOT), Some(86_400 * 24 + 4), 50, 1001),
            1013
        );
        assert_eq!(
            first_frame(Some(SHOT), Some(86_400 * 24 - 8), 116, 1001),
            1001
        );
        // Longer handles than the shot's: still where its timecode is.
        assert_eq!(
            first_frame(Some(SHOT), Some(86_400 * 24 - 16), 132, 1001),
            993
        );
    }

    #[test]
    fn a_render_without_the_plates_timecode_starts_at_the_head_handles() {
        assert_eq!(first_frame(Some(SHOT), None, 116, 1001), 1001);
        assert_eq!(first_frame(Some(SHOT), Some(0), 116, 1001), 1001);
        let no_source = ShotFrames {
            source_in: None,
            ..SHOT
        };
        assert_eq!(
            first_frame(Some(no_source), Some(86_400 * 24), 116, 1001),
            1001
        );
    }

    #[test]
    fn anything_else_starts_at_the_projects_first_frame() {
        assert_eq!(first_frame(None, Some(12), 10, 101), 101);
    }

    proptest! {
        #[test]
        fn a_file_on_the_shot_shows_some_of_it(tc in 0i64..10_000_000, source in 0i64..10_000_000, count in 1i64..5_000) {
            let shot = ShotFrames { source_in: Some(source), ..SHOT };
            let first = first_frame(Some(shot), Some(tc), count, 1001);
            let last = first + count - 1;
            // Its frames meet the shot's, handles included: never a file placed off the shot.
            prop_assert!(first <= 1116 && last >= 1001);
        }
    }
}
