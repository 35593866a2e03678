//! The one frame model: which production frame each frame of a version's file shows. A shot's
//! frames are numbered as the production numbers them (its cut in, such as 1001, to its cut out,
//! both included); the player, a note and a drawing name a frame by that number.

/// What a shot says of its frames: its cut in, its head handles, and where its source starts
/// (frames of source timecode at the project's rate), when the cut gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShotFrames {
    pub cut_in: i64,
    pub cut_out: i64,
    pub head_handles: i64,
    pub tail_handles: i64,
    pub source_in: Option<i64>,
}

/// The production frame a version's file starts at.
///
/// - A file whose start timecode falls within the shot's source, handles included (a render
///   that kept the plate's timecode), starts where that timecode is in the shot: a render of
///   frames 1005 to 1060 shows 1005 first.
/// - Any other file of a shot (no timecode, or one of its own such as 00:00:00:00) is taken to
///   start at the first frame of the shot's head handles, as a render of the shot does.
/// - A file of anything else (an asset's turntable) starts at `start` (the project's first
///   frame, 1001 unless it says otherwise).
pub fn first_frame(shot: Option<ShotFrames>, file_tc: Option<i64>, start: i64) -> i64 {
    let Some(s) = shot else {
        return start;
    };
    let from_handles = s.cut_in - s.head_handles;
    match (file_tc, s.source_in) {
        (Some(tc), Some(source_in)) => {
            let at = s.cut_in + (tc - source_in);
            if (from_handles..=s.cut_out + s.tail_handles).contains(&at) {
                at
            } else {
                from_handles
            }
        }
        _ => from_handles,
    }
}

/// The production frame of the file's frame `index` (from 0), and back.
pub fn frame_of(first: i64, index: i64) -> i64 {
    first + index
}

pub fn index_of(first: i64, frame: i64) -> i64 {
    frame - first
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SHOT: ShotFrames = ShotFrames {
        cut_in: 1001,
        cut_out: 1100,
        head_handles: 8,
        tail_handles: 8,
        source_in: Some(86_400 * 24),
    };

    #[test]
    fn a_render_with_the_plates_timecode_starts_where_that_timecode_is() {
        assert_eq!(first_frame(Some(SHOT), Some(86_400 * 24 + 4), 1001), 1005);
        assert_eq!(first_frame(Some(SHOT), Some(86_400 * 24 - 8), 1001), 993);
    }

    #[test]
    fn a_render_without_the_plates_timecode_starts_at_the_head_handles() {
        assert_eq!(first_frame(Some(SHOT), None, 1001), 993);
        assert_eq!(first_frame(Some(SHOT), Some(0), 1001), 993);
        let no_source = ShotFrames {
            source_in: None,
            ..SHOT
        };
        assert_eq!(first_frame(Some(no_source), Some(86_400 * 24), 1001), 993);
    }

    #[test]
    fn anything_else_starts_at_the_projects_first_frame() {
        assert_eq!(first_frame(None, Some(12), 1001), 1001);
    }

    proptest! {
        #[test]
        fn frames_and_indices_go_both_ways(first in -100_000i64..100_000, index in 0i64..1_000_000) {
            prop_assert_eq!(index_of(first, frame_of(first, index)), index);
        }

        #[test]
        fn a_file_on_the_shot_starts_inside_its_handles(tc in 0i64..10_000_000, source in 0i64..10_000_000) {
            let shot = ShotFrames { source_in: Some(source), ..SHOT };
            let first = first_frame(Some(shot), Some(tc), 1001);
            prop_assert!((993..=1108).contains(&first));
        }
    }
}
