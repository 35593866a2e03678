//! Editorial tracking: the pure rules behind shots and cuts, starting with SMPTE timecode, CMX
//! 3600 edit decision lists and OpenTimelineIO timelines, the checks of custom field values and
//! the @mentions of notes.
//! Nothing here reads files; callers hand in text.

pub mod conform;
pub mod drawing;
pub mod edl;
pub mod export;
pub mod fields;
pub mod frames;
pub mod mentions;
pub mod otio;
pub mod review;
pub mod session;
pub mod timecode;
